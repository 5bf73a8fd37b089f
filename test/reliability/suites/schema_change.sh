# Hostile schemas: an audited table's columns added, dropped, retyped
# and renamed by another session while a long-lived writer session, whose
# cached trigger state must follow, keeps writing. After every write the writer
# checks its audit row: new_data = to_jsonb of the row, old_data = the row
# before, changed_fields exact (columns in order, the ignored one left out),
# record_id the uuid id or NULL once id is no longer a uuid. Row mode (notes,
# ignore=hits), statement mode (tags) and the extension's own posts.
source "$REL/lib.sh"
db=$(db_name schema_change)
trap 'drop_db $db' EXIT
fresh_db "$db" || { fail schema_change.setup "cannot create $db"; exit 0; }
export PGDATABASE=$db
U=00000000-0000-0000-0000-0000000000c1
q >/dev/null <<SQL
INSERT INTO users (id, email, name, password_hash) VALUES ('$U', 'c1@example.com', 'Cee', 'h');
INSERT INTO posts (id, user_id, title, content, status) VALUES ('00000000-0000-0000-0000-00000000c0a1', '$U', 'p', 'c', 'published');
CREATE TABLE notes (id uuid PRIMARY KEY, user_id uuid, body text, hits int DEFAULT 0, counter int DEFAULT 0);
INSERT INTO notes VALUES ('00000000-0000-0000-0000-00000000c0b1', '$U', 'b', 0, 0);
CREATE TABLE tags (id uuid PRIMARY KEY, tag text, counter int DEFAULT 0);
INSERT INTO tags VALUES ('00000000-0000-0000-0000-00000000c0c1', 't', 0);
SELECT enable_audit('notes', '{ignore=hits}');
SELECT enable_audit('tags', '{mode=statement}');
-- verdict(table, id): does the newest audit row of that row match the row now
-- and the row before it?
CREATE FUNCTION verdict(t regclass, k text) RETURNS text LANGUAGE plpgsql AS \$\$
DECLARE
  a audit_logs; cur jsonb; prev jsonb; want text[]; id_is_uuid boolean; ignored text[];
BEGIN
  EXECUTE format('SELECT to_jsonb(x) FROM %s x WHERE x.id::text = \$1', t) INTO cur USING k;
  SELECT * INTO a FROM audit_logs WHERE table_name = (SELECT relname FROM pg_class WHERE oid = t)
     AND (new_data->>'id') = k ORDER BY id DESC LIMIT 1;
  SELECT l.new_data INTO prev FROM audit_logs l WHERE l.table_name = a.table_name AND (l.new_data->>'id') = k
     AND l.id < a.id ORDER BY l.id DESC LIMIT 1;
  SELECT atttypid = 'uuid'::regtype INTO id_is_uuid FROM pg_attribute WHERE attrelid = t AND attname = 'id';
  ignored := CASE WHEN t = 'notes'::regclass THEN '{hits}'::text[] ELSE '{}' END;
  SELECT coalesce(array_agg(attname::text ORDER BY attnum), '{}') INTO want FROM pg_attribute
   WHERE attrelid = t AND attnum > 0 AND NOT attisdropped AND NOT attname = ANY (ignored)
     AND (a.old_data -> attname::text) IS DISTINCT FROM (a.new_data -> attname::text);
  RETURN concat_ws(',',
    CASE WHEN a.new_data IS DISTINCT FROM cur THEN 'new_data' END,
    -- old_data against the previous audit row, on the columns both know (a DDL
    -- in between adds, drops or renames columns of the old row too).
    CASE WHEN prev IS NOT NULL AND (SELECT coalesce(jsonb_object_agg(e.key, e.value), '{}') FROM jsonb_each(a.old_data) e WHERE prev ? e.key)
              IS DISTINCT FROM (SELECT coalesce(jsonb_object_agg(e.key, e.value), '{}') FROM jsonb_each(prev) e WHERE a.old_data ? e.key)
         THEN 'old_data' END,
    CASE WHEN a.changed_fields IS DISTINCT FROM want THEN 'changed_fields ' || a.changed_fields::text || ' want ' || want::text END,
    CASE WHEN a.record_id IS DISTINCT FROM CASE WHEN id_is_uuid THEN k::uuid END THEN 'record_id' END);
END \$\$;
SQL
[[ $? -eq 0 ]] || { fail schema_change.setup "setup failed"; exit 0; }

steps=12
# The writer: one session, a write and its verdict every 0.3 s. Each write and
# its verdict are one transaction, so that a DDL cannot land between them (the
# row would then differ from its audit row only because the table changed).
{
  for i in $(seq 1 $steps); do
    echo "BEGIN;"
    echo "UPDATE notes SET counter = counter + 1, hits = hits + 1;"
    echo "SELECT 'notes $i: ' || verdict('notes', '00000000-0000-0000-0000-00000000c0b1');"
    echo "COMMIT;"
    echo "BEGIN;"
    echo "UPDATE tags SET counter = counter + 1;"
    echo "SELECT 'tags $i: ' || verdict('tags', '00000000-0000-0000-0000-00000000c0c1');"
    echo "COMMIT;"
    echo "BEGIN;"
    echo "UPDATE posts SET content = content || '+';"
    echo "SELECT 'posts $i: ' || verdict('posts', '00000000-0000-0000-0000-00000000c0a1');"
    echo "COMMIT;"
    echo "SELECT pg_sleep(0.3);"
  done
} >"$WORK/writer.sql"
# The other session: one DDL between every two writes.
ddl=(
  "ALTER TABLE notes ADD COLUMN extra int DEFAULT 5"
  "ALTER TABLE tags ADD COLUMN extra jsonb DEFAULT '{\"a\": 1}'"
  "ALTER TABLE posts ADD COLUMN extra text DEFAULT 'x'"
  "ALTER TABLE notes ALTER COLUMN body TYPE varchar(500)"
  "ALTER TABLE notes DROP COLUMN extra"
  "ALTER TABLE notes RENAME COLUMN body TO body_text"
  "ALTER TABLE tags DROP COLUMN extra"
  "ALTER TABLE notes ALTER COLUMN id TYPE text"
  "ALTER TABLE notes ADD COLUMN extra numeric DEFAULT 1.5"
  "ALTER TABLE posts DROP COLUMN extra"
  "ALTER TABLE notes ALTER COLUMN id TYPE uuid USING id::uuid"
)
{
  echo "SELECT pg_sleep(0.15);"
  for d in "${ddl[@]}"; do echo "$d;"; echo "SELECT pg_sleep(0.3);"; done
} >"$WORK/ddl.sql"
psql -X -qAt -v ON_ERROR_STOP=0 -f "$WORK/writer.sql" >"$WORK/writer.out" 2>"$WORK/writer.err" &
wpid=$!
psql -X -qAt -v ON_ERROR_STOP=1 -f "$WORK/ddl.sql" >/dev/null 2>"$WORK/ddl.err"
ddl_rc=$?
wait $wpid
writer_rc=$?
check_eq schema_change.ddl_applied 0 "$ddl_rc" "$(head -2 "$WORK/ddl.err")"
# Whatever the writer's psql said on stderr is a failure: server errors
# ("ERROR:") and its own ("psql: error: connection ... failed") alike, and a
# writer that never connected leaves no verdict at all.
check_eq schema_change.writer_never_fails "0 " "$writer_rc $(grep -m3 . "$WORK/writer.err" | tr '\n' ' ')" "writer exit status and stderr:"
verdicts=$(grep -c -E '^(notes|tags|posts) [0-9]+: ' "$WORK/writer.out")
check_eq schema_change.every_write_checked $((3 * steps)) "$verdicts" "audit verdicts the writer returned:"
bad=$(grep -v -e ': $' -e '^$' "$WORK/writer.out" | head -5 | tr '\n' ';')
check_eq schema_change.audit_rows_follow_every_ddl "" "$bad" "writes whose audit row was wrong:"
figure "$(grep -c ': $' "$WORK/writer.out") writes checked across ${#ddl[@]} DDL statements"

# The ignored column renamed away: the option names a column that no longer
# exists, a clear 42703 naming it; renamed back, auditing resumes.
q -c "ALTER TABLE notes RENAME COLUMN hits TO views" >/dev/null
expect_state schema_change.ignored_column_renamed_away "$db" 42703 "UPDATE notes SET counter = counter + 1"
check_eq schema_change.ignored_column_back "" "$(q -c "ALTER TABLE notes RENAME COLUMN views TO hits" \
  -c "UPDATE notes SET counter = counter + 1, hits = hits + 1" \
  -c "SELECT verdict('notes', '00000000-0000-0000-0000-00000000c0b1')" 2>&1 | tail -1)" "verdict after renaming back:"

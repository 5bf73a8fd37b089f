# Bad input everywhere: every function and trigger given NULLs,
# negatives, huge values, wrong types, malformed cursors and options, tables
# without the expected columns, triggers attached with the wrong timing, level
# or event. Each must raise the contract's SQLSTATE (alternatives are written
# A/B where the contract leaves the choice open), the backend must survive, and
# nothing may be half written: every statement here fails, so the rows of every
# table, audit_logs included, are the same afterwards.
source "$REL/lib.sh"
db=$(db_name bad_input)
trap 'drop_db $db' EXIT
fresh_db "$db" || { fail bad_input.setup "cannot create $db"; exit 0; }
export PGDATABASE=$db
U=00000000-0000-0000-0000-0000000000b1
U2=00000000-0000-0000-0000-0000000000b2
UDEL=00000000-0000-0000-0000-0000000000b3
P=00000000-0000-0000-0000-00000000b0a1
PDRAFT=00000000-0000-0000-0000-00000000b0a2
q >/dev/null <<SQL
INSERT INTO users (id, email, name, password_hash) VALUES
  ('$U', 'b1@example.com', 'Bee one', 'h'), ('$U2', 'b2@example.com', 'Bee two', 'h'),
  ('$UDEL', 'b3@example.com', 'Bee gone', 'h');
UPDATE users SET deleted_at = now() WHERE id = '$UDEL';
INSERT INTO posts (id, user_id, title, content, status, view_count) VALUES
  ('$P', '$U', 'Published', 'c', 'published', 2147483000), ('$PDRAFT', '$U', 'Draft', 'c', 'draft', 0);
INSERT INTO posts (user_id, title, content, status) SELECT '$U', 'more ' || i, 'c', 'published' FROM generate_series(1, 5) i;

-- Scratch tables, each with one misused trigger; rows exist for the UPDATE cases.
CREATE SCHEMA bad;
CREATE FUNCTION bad.make(name text) RETURNS void LANGUAGE plpgsql AS \$\$
BEGIN
  EXECUTE format('CREATE TABLE bad.%I (id uuid DEFAULT gen_random_uuid(), body text, status text,
                  published_at timestamp, updated_at timestamp)', name);
  EXECUTE format('INSERT INTO bad.%I (body) VALUES (''row'')', name);
END \$\$;
SELECT bad.make(n) FROM unnest(ARRAY['audit_before', 'audit_stmt', 'audit_truncate', 'audit_noeq',
  'audit_unknown', 'audit_repeat', 'audit_missing', 'audit_recid', 'audit_huge', 'upd_after',
  'upd_stmt', 'upd_insert', 'upd_arg_missing', 'upd_two_args', 'pub_after', 'pub_stmt',
  'pub_wrongtype', 'upd_wrongtype']) n;
ALTER TABLE bad.pub_wrongtype ALTER published_at TYPE text;
ALTER TABLE bad.upd_wrongtype ALTER updated_at TYPE text;
CREATE TABLE bad.upd_missing (id uuid, body text);     INSERT INTO bad.upd_missing VALUES (NULL, 'row');
CREATE TABLE bad.pub_missing (id uuid, body text);     INSERT INTO bad.pub_missing VALUES (NULL, 'row');
CREATE TRIGGER t BEFORE INSERT ON bad.audit_before FOR EACH ROW EXECUTE FUNCTION audit_trigger_function();
CREATE TRIGGER t AFTER INSERT ON bad.audit_stmt FOR EACH STATEMENT EXECUTE FUNCTION audit_trigger_function();
CREATE TRIGGER t AFTER TRUNCATE ON bad.audit_truncate FOR EACH STATEMENT EXECUTE FUNCTION audit_trigger_function();
CREATE TRIGGER t AFTER INSERT ON bad.audit_noeq FOR EACH ROW EXECUTE FUNCTION audit_trigger_function('ignore');
CREATE TRIGGER t AFTER INSERT ON bad.audit_unknown FOR EACH ROW EXECUTE FUNCTION audit_trigger_function('colour=red');
CREATE TRIGGER t AFTER INSERT ON bad.audit_repeat FOR EACH ROW EXECUTE FUNCTION audit_trigger_function('ignore=body', 'ignore=body');
CREATE TRIGGER t AFTER INSERT ON bad.audit_missing FOR EACH ROW EXECUTE FUNCTION audit_trigger_function('ignore=nope');
CREATE TRIGGER t AFTER INSERT ON bad.audit_recid FOR EACH ROW EXECUTE FUNCTION audit_trigger_function('record_id=body');
DO \$\$ BEGIN EXECUTE format('CREATE TRIGGER t AFTER INSERT ON bad.audit_huge FOR EACH ROW EXECUTE FUNCTION audit_trigger_function(%L)', 'ignore=' || repeat('x,', 50000) || '"'); END \$\$;
CREATE TRIGGER t AFTER UPDATE ON bad.upd_after FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();
CREATE TRIGGER t BEFORE UPDATE ON bad.upd_stmt FOR EACH STATEMENT EXECUTE FUNCTION update_updated_at_column();
CREATE TRIGGER t BEFORE INSERT ON bad.upd_insert FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();
CREATE TRIGGER t BEFORE UPDATE ON bad.upd_missing FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();
CREATE TRIGGER t BEFORE UPDATE ON bad.upd_wrongtype FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();
CREATE TRIGGER t BEFORE UPDATE ON bad.upd_arg_missing FOR EACH ROW EXECUTE FUNCTION update_updated_at_column('nope');
CREATE TRIGGER t BEFORE UPDATE ON bad.upd_two_args FOR EACH ROW EXECUTE FUNCTION update_updated_at_column('updated_at', 'updated_at');
CREATE TRIGGER t AFTER INSERT ON bad.pub_after FOR EACH ROW EXECUTE FUNCTION set_published_at();
CREATE TRIGGER t BEFORE INSERT ON bad.pub_stmt FOR EACH STATEMENT EXECUTE FUNCTION set_published_at();
CREATE TRIGGER t BEFORE INSERT ON bad.pub_missing FOR EACH ROW EXECUTE FUNCTION set_published_at();
CREATE TRIGGER t BEFORE INSERT ON bad.pub_wrongtype FOR EACH ROW EXECUTE FUNCTION set_published_at();
CREATE VIEW bad.a_view AS SELECT * FROM posts;
SQL
[[ $? -eq 0 ]] || { fail bad_input.setup "scratch tables"; exit 0; }

# Everything the failing statements could touch.
state() {
  fingerprint "$db"
  q -c "SELECT string_agg(c.relname || '=' || (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM bad.%I', c.relname), false, true, '')))[1]::text, ',' ORDER BY c.relname)
        FROM pg_class c WHERE c.relnamespace = 'bad'::regnamespace AND c.relkind = 'r'"
  q -c "SELECT count(*) FROM pg_trigger WHERE tgname LIKE '%audit_trigger'"
}
before=$(state)
crashed=0
# bad NAME EXPECTED SQL: EXPECTED is a SQLSTATE or alternatives A/B.
bad() {
  local name=$1 want=$2 sql=$3 got code
  got=$(error_of "$db" "$sql" 2>&1)
  code=${got%%:*}
  # No SQLSTATE and a failed psql: the backend died (or psql could not connect).
  if [[ $got == "psql exit "* ]] || grep -qiE 'server closed the connection|terminated abnormally|connection to server was lost' <<<"$got"; then
    crashed=$((crashed + 1)); fail "bad_input.$name" "BACKEND CRASH: $got"; return
  fi
  if [[ "/$want/" == */"$code"/* ]]; then pass "bad_input.$name"
  else fail "bad_input.$name" "expected $want, got '${got:0:200}' for: ${sql:0:120}"; fi
}

# get_user_posts
bad get_user_posts.null_user 22004 "SELECT * FROM get_user_posts(NULL)"
bad get_user_posts.negative_limit 22023 "SELECT * FROM get_user_posts('$U', 'published', -1)"
bad get_user_posts.min_int_limit 22023 "SELECT * FROM get_user_posts('$U', NULL, -2147483648)"
bad get_user_posts.negative_offset 22023 "SELECT * FROM get_user_posts('$U', 'published', 10, -1)"
bad get_user_posts.not_a_uuid 22P02 "SELECT * FROM get_user_posts('not-a-uuid')"
bad get_user_posts.wrong_type 42883 "SELECT * FROM get_user_posts(42)"
bad get_user_posts.limit_overflow 22003/42883 "SELECT * FROM get_user_posts('$U', NULL, 2147483648::int)"
# get_user_posts_keyset and its cursor
cursor=$(q -c "SELECT next_cursor FROM get_user_posts_keyset('$U', 'published', 2) LIMIT 1")
[[ ${#cursor} -gt 10 ]] && pass bad_input.keyset.issues_a_cursor || fail bad_input.keyset.issues_a_cursor "got '$cursor'"
flipped=$(python3 -c "import sys; c=sys.argv[1]; i=len(c)//2; print(c[:i] + ('A' if c[i] != 'A' else 'B') + c[i+1:])" "$cursor")
bad keyset.null_user 22004 "SELECT * FROM get_user_posts_keyset(NULL)"
bad keyset.negative_limit 22023 "SELECT * FROM get_user_posts_keyset('$U', NULL, -1)"
bad keyset.empty_cursor 22023 "SELECT * FROM get_user_posts_keyset('$U', 'published', 2, '')"
bad keyset.garbage_cursor 22023 "SELECT * FROM get_user_posts_keyset('$U', 'published', 2, 'not a cursor')"
bad keyset.huge_cursor 22023 "SELECT * FROM get_user_posts_keyset('$U', 'published', 2, repeat('A', 1000000))"
bad keyset.non_ascii_cursor 22023 "SELECT * FROM get_user_posts_keyset('$U', 'published', 2, repeat('é', 67))"
bad keyset.truncated_cursor 22023 "SELECT * FROM get_user_posts_keyset('$U', 'published', 2, left('$cursor', -1))"
bad keyset.padded_cursor 22023 "SELECT * FROM get_user_posts_keyset('$U', 'published', 2, '$cursor' || '=')"
bad keyset.altered_cursor 22023 "SELECT * FROM get_user_posts_keyset('$U', 'published', 2, '$flipped')"
bad keyset.cursor_of_another_user 22023 "SELECT * FROM get_user_posts_keyset('$U2', 'published', 2, '$cursor')"
bad keyset.cursor_of_another_status 22023 "SELECT * FROM get_user_posts_keyset('$U', NULL, 2, '$cursor')"
# increment_post_views (the post sits just below the int limit)
bad increment_post_views.null_post 22004 "SELECT increment_post_views(NULL)"
bad increment_post_views.null_increment 22004/22023 "SELECT increment_post_views('$P', NULL)"
bad increment_post_views.zero 22023 "SELECT increment_post_views('$P', 0)"
bad increment_post_views.negative 22023 "SELECT increment_post_views('$P', -5)"
bad increment_post_views.min_int 22023 "SELECT increment_post_views('$P', -2147483648)"
bad increment_post_views.overflow 22003 "SELECT increment_post_views('$P', 2147483647)"
bad increment_post_views.missing_post P0002 "SELECT increment_post_views(gen_random_uuid())"
bad increment_post_views.draft_post P0002 "SELECT increment_post_views('$PDRAFT')"
bad increment_post_views.not_a_uuid 22P02 "SELECT increment_post_views('1234')"
# soft_delete_user
bad soft_delete_user.null_user 22004/P0002 "SELECT soft_delete_user(NULL)"
bad soft_delete_user.missing_user P0002 "SELECT soft_delete_user(gen_random_uuid())"
bad soft_delete_user.already_deleted P0002 "SELECT soft_delete_user('$UDEL', '$U')"
bad soft_delete_user.wrong_type 42883 "SELECT soft_delete_user(1, 2)"
# get_popular_posts
bad get_popular_posts.null_days 22004 "SELECT * FROM get_popular_posts(NULL)"
bad get_popular_posts.negative_days 22023 "SELECT * FROM get_popular_posts(-1)"
bad get_popular_posts.negative_limit 22023 "SELECT * FROM get_popular_posts(7, -1)"
bad get_popular_posts.min_int 22023 "SELECT * FROM get_popular_posts(-2147483648, -2147483648)"
# enable_audit / disable_audit
bad enable_audit.null_table 22004 "SELECT enable_audit(NULL)"
bad enable_audit.null_options 22004 "SELECT enable_audit('bad.upd_missing', NULL)"
bad enable_audit.null_option 22004 "SELECT enable_audit('bad.upd_missing', '{NULL}')"
bad enable_audit.no_equals 22023 "SELECT enable_audit('bad.upd_missing', '{ignore}')"
bad enable_audit.unknown_key 22023 "SELECT enable_audit('bad.upd_missing', '{colour=red}')"
bad enable_audit.repeated_key 22023 "SELECT enable_audit('bad.upd_missing', '{ignore=body,ignore=body}')"
bad enable_audit.empty_ignore 22023 "SELECT enable_audit('bad.upd_missing', '{ignore=}')"
bad enable_audit.missing_column 42703 "SELECT enable_audit('bad.upd_missing', '{ignore=nope}')"
bad enable_audit.record_id_not_uuid 42804 "SELECT enable_audit('bad.upd_missing', '{record_id=body}')"
bad enable_audit.huge_option 22023/42703 "SELECT enable_audit('bad.upd_missing', ARRAY['ignore=' || repeat('x', 100000)])"
bad enable_audit.no_such_table 42P01 "SELECT enable_audit('bad.nothing_here')"
bad enable_audit.a_view 42809 "SELECT enable_audit('bad.a_view')"
bad enable_audit.system_catalog 42501 "SELECT enable_audit('pg_catalog.pg_class')"
bad disable_audit.null_table 22004 "SELECT disable_audit(NULL)"
# Triggers attached the wrong way: 39P01 at the first firing.
bad trigger.audit_before_row 39P01 "INSERT INTO bad.audit_before (body) VALUES ('x')"
bad trigger.audit_statement_without_transition_tables 39P01 "INSERT INTO bad.audit_stmt (body) VALUES ('x')"
bad trigger.audit_on_truncate 39P01 "TRUNCATE bad.audit_truncate"
bad trigger.updated_at_after 39P01 "UPDATE bad.upd_after SET body = 'x'"
bad trigger.updated_at_statement 39P01 "UPDATE bad.upd_stmt SET body = 'x'"
bad trigger.updated_at_on_insert 39P01 "INSERT INTO bad.upd_insert (body) VALUES ('x')"
bad trigger.published_at_after 39P01 "INSERT INTO bad.pub_after (body) VALUES ('x')"
bad trigger.published_at_statement 39P01 "INSERT INTO bad.pub_stmt (body) VALUES ('x')"
bad trigger.called_directly 39P01/0A000 "SELECT update_updated_at_column()"
# Options and columns: 22023 / 42703 / 42804 at the first firing.
bad trigger.audit_option_without_equals 22023 "INSERT INTO bad.audit_noeq (body) VALUES ('x')"
bad trigger.audit_unknown_option 22023 "INSERT INTO bad.audit_unknown (body) VALUES ('x')"
bad trigger.audit_repeated_option 22023 "INSERT INTO bad.audit_repeat (body) VALUES ('x')"
bad trigger.audit_huge_option 22023 "INSERT INTO bad.audit_huge (body) VALUES ('x')"
bad trigger.audit_ignores_missing_column 42703 "INSERT INTO bad.audit_missing (body) VALUES ('x')"
bad trigger.audit_record_id_not_uuid 42804 "INSERT INTO bad.audit_recid (body) VALUES ('x')"
bad trigger.updated_at_missing_column 42703 "UPDATE bad.upd_missing SET body = 'x'"
bad trigger.updated_at_wrong_type 42804 "UPDATE bad.upd_wrongtype SET body = 'x'"
bad trigger.updated_at_argument_missing 42703 "UPDATE bad.upd_arg_missing SET body = 'x'"
bad trigger.updated_at_two_arguments 22023 "UPDATE bad.upd_two_args SET body = 'x'"
bad trigger.published_at_missing_column 42703 "INSERT INTO bad.pub_missing (body) VALUES ('x')"
bad trigger.published_at_wrong_type 42804 "INSERT INTO bad.pub_wrongtype (status, published_at) VALUES ('published', 'x')"
# Settings the audit trigger reads.
bad settings.actor_id_not_a_uuid 22P02 "SET chronicle.actor_id = 'bob'; INSERT INTO posts (user_id, title, content) VALUES ('$U', 'actor', 'x')"
bad settings.actor_id_huge 22P02 "SELECT set_config('chronicle.actor_id', repeat('f', 100000), false); UPDATE posts SET title = 'x' WHERE id = '$P'"
bad settings.client_ip_bogus 22P02 "SET chronicle.client_ip = '999.1.1.1'; DELETE FROM posts WHERE id = '$PDRAFT'"
# Posts constraints still hold through the triggers.
bad posts.unknown_status 23514 "INSERT INTO posts (user_id, title, content, status) VALUES ('$U', 't', 'c', 'nonsense')"
bad posts.unknown_user 23503 "INSERT INTO posts (user_id, title, content) VALUES (gen_random_uuid(), 't', 'c')"
bad posts.negative_views 23514 "UPDATE posts SET view_count = -1 WHERE id = '$P'"

after=$(state)
check_eq bad_input.nothing_half_written "$before" "$after" "tables before/after the failing statements:"
check_eq bad_input.no_backend_crash 0 "$crashed" "crashed statements:"
check_eq bad_input.server_alive "1" "$(q -c "SELECT 1")"

# Extremes that are valid: they must work (and be audited as they are).
out=$(q -c "SELECT FROM set_config('chronicle.user_agent', repeat('u', 300000), false)" \
        -c "UPDATE posts SET title = 'long agent' WHERE id = '$P'" \
        -c "SELECT length(user_agent) FROM audit_logs WHERE record_id = '$P' ORDER BY id DESC LIMIT 1" 2>&1)
check_eq bad_input.valid.huge_user_agent_audited 300000 "$out"
check_eq bad_input.valid.huge_limit_and_offset 7 "$(q -c "SELECT count(*) FROM get_user_posts('$U', NULL, 2147483647, 0)")"
check_eq bad_input.valid.offset_past_the_end 0 "$(q -c "SELECT count(*) FROM get_user_posts('$U', NULL, 10, 2147483647)")"
check_eq bad_input.valid.huge_status_matches_nothing 0 "$(q -c "SELECT count(*) FROM get_user_posts('$U', repeat('x', 100000))")"
check_eq bad_input.valid.limit_zero 0 "$(q -c "SELECT count(*) FROM get_user_posts('$U', NULL, 0)")"
out=$(q -c "CREATE TABLE bad.no_id (body text, user_id text)" -c "SELECT enable_audit('bad.no_id')" \
        -c "INSERT INTO bad.no_id VALUES ('x', 'not a uuid')" \
        -c "SELECT count(*) FILTER (WHERE record_id IS NULL AND user_id IS NULL) FROM audit_logs WHERE table_name = 'no_id'" 2>&1)
check_eq bad_input.valid.table_without_id_or_uuid_user_id "1" "$(tail -1 <<<"$out")"

# pg_dump / pg_restore round trip (doc/sql-reference.md, "Backup and restore"): plain and custom
# format, into a fresh database and into a fresh cluster, restored with
# session_replication_role = replica. Every row of users, posts and audit_logs is
# kept, the audit sequence continues after the last value it handed out, and the
# triggers are active after the restore.
source "$REL/lib.sh"
trap 'stop_clusters; drop_db $src; drop_db $dst_plain; drop_db $dst_custom' EXIT

src=$(db_name dump_src)
dst_plain=$(db_name dump_plain)
dst_custom=$(db_name dump_custom)
fresh_db "$src" || { fail dump_restore.setup "cannot create $src"; exit 0; }
seed "$src" >/dev/null || { fail dump_restore.setup "seed failed"; exit 0; }
# Hand out sequence values that no row keeps (rolled back), so that "continues"
# means after the sequence's position, not merely after max(id).
q -d "$src" -c "BEGIN; INSERT INTO audit_logs (table_name, operation) SELECT 'gap', 'INSERT' FROM generate_series(1, 7); ROLLBACK;" >/dev/null
expected=$(fingerprint "$src")
seq_last=$(q -d "$src" -c "SELECT last_value FROM audit_logs_id_seq")
figure "source: $(echo "$expected" | awk -F'|' '{printf "%s %s rows; ", $1, $2}')audit sequence at $seq_last"

pg_dump -d "$src" -Fp -f "$WORK/dump.sql" || fail dump_restore.pg_dump_plain "pg_dump failed"
pg_dump -d "$src" -Fc -f "$WORK/dump.custom" || fail dump_restore.pg_dump_custom "pg_dump failed"

# after_restore NAME DB [cluster-dir]: rows, sequence and triggers of a restored
# database. Runs in the current PGHOST/PGPORT environment.
after_restore() {
  local name=$1 db=$2
  check_eq "$name.rows_kept" "$expected" "$(fingerprint "$db")" "fingerprint"
  check_post_counts "$name.post_counts_consistent" "$db"
  local enabled
  enabled=$(q -d "$db" -c "SELECT string_agg(tgname || '=' || tgenabled::text, ',' ORDER BY tgname) FROM pg_trigger
                            WHERE tgrelid IN ('users'::regclass, 'posts'::regclass) AND NOT tgisinternal")
  if [[ "$enabled" == *=O* && "$enabled" != *=D* && "$enabled" != *=R* && "$enabled" != *=A* ]]; then
    pass "$name.triggers_enabled"
  else fail "$name.triggers_enabled" "$enabled"; fi
  # A new change after the restore is stamped by the timestamp triggers and, with
  # the audit trigger, audited with an id after the source's sequence position.
  local out
  out=$(q -d "$db" <<SQL 2>&1
SELECT u.id AS uid FROM users u WHERE deleted_at IS NULL ORDER BY email LIMIT 1 \gset
INSERT INTO posts (user_id, title, content, status) VALUES (:'uid', 'after restore', 'x', 'published');
UPDATE users SET name = 'Renamed after restore', updated_at = '2000-01-01' WHERE id = :'uid';
SELECT (SELECT published_at IS NOT NULL FROM posts WHERE title = 'after restore')
    || ',' || (SELECT updated_at > '2000-01-01' FROM users WHERE id = :'uid');
SQL
)
  check_eq "$name.timestamp_triggers_fire" "true,true" "$out" "published_at set, updated_at moved"
  out=$(q -d "$db" -c "SELECT count(*) || ',' || bool_and(id > $seq_last) FROM audit_logs
                        WHERE table_name = 'posts' AND new_data->>'title' = 'after restore'")
  check_eq "$name.audit_trigger_fires" "1,true" "$out" "one audit row with id > $seq_last"
}

# 1. Plain format into a fresh database of the same cluster.
q -d postgres -c "CREATE DATABASE $dst_plain" >/dev/null
if PGOPTIONS='-c session_replication_role=replica' psql -X -q -v ON_ERROR_STOP=1 -d "$dst_plain" \
     -f "$WORK/dump.sql" >"$WORK/plain.log" 2>&1; then
  pass dump_restore.plain_restores_cleanly
  after_restore dump_restore.plain "$dst_plain"
else
  fail dump_restore.plain_restores_cleanly "$(tail -3 "$WORK/plain.log" | tr '\n' ' ')"
fi

# 2. Custom format into a fresh database of the same cluster.
q -d postgres -c "CREATE DATABASE $dst_custom" >/dev/null
if PGOPTIONS='-c session_replication_role=replica' pg_restore --exit-on-error -d "$dst_custom" \
     "$WORK/dump.custom" >"$WORK/custom.log" 2>&1; then
  pass dump_restore.custom_restores_cleanly
  pg_dump -d "$dst_custom" -Fp -f "$WORK/dump2.sql"   # before any new change
  after_restore dump_restore.custom "$dst_custom"
else
  fail dump_restore.custom_restores_cleanly "$(tail -3 "$WORK/custom.log" | tr '\n' ' ')"
fi

# 3. Both formats into a fresh cluster (no roles, no settings of the source).
cl=$(new_cluster) || { fail dump_restore.fresh_cluster "cannot start a cluster"; exit 0; }
(
  source "$cl/env"
  q -d postgres -c "CREATE DATABASE from_custom" -c "CREATE DATABASE from_plain" >/dev/null
  if PGOPTIONS='-c session_replication_role=replica' pg_restore --exit-on-error -d from_custom \
       "$WORK/dump.custom" >"$WORK/cl_custom.log" 2>&1; then
    pass dump_restore.fresh_cluster_custom_restores_cleanly
    after_restore dump_restore.fresh_cluster_custom from_custom
  else
    fail dump_restore.fresh_cluster_custom_restores_cleanly "$(tail -3 "$WORK/cl_custom.log" | tr '\n' ' ')"
  fi
  if PGOPTIONS='-c session_replication_role=replica' psql -X -q -v ON_ERROR_STOP=1 -d from_plain \
       -f "$WORK/dump.sql" >"$WORK/cl_plain.log" 2>&1; then
    pass dump_restore.fresh_cluster_plain_restores_cleanly
    after_restore dump_restore.fresh_cluster_plain from_plain
  else
    fail dump_restore.fresh_cluster_plain_restores_cleanly "$(tail -3 "$WORK/cl_plain.log" | tr '\n' ' ')"
  fi
)

# 4. A dump of the restored database equals the original dump: nothing drifts on
# a second round (comments, grants, config-dump registrations).
# (\restrict keys are random per dump.) The rows of each COPY block are compared
# as a set: a dump lists them in physical order, and a restore packs pages anew
# (the audit writer stores row images compressed, a COPY into the restored table
# stores them as given), so a row may land on another page; its content may not
# change.
strip() {
  grep -Ev '^(-- Dumped|\\(un)?restrict )' "$1" |
    awk '/^COPY .* FROM stdin;$/ { print; fflush(); copy = 1; next }
         copy && $0 == "\\." { close("sort"); print; copy = 0; next }
         copy { print | "sort"; next }
         { print }'
}
if diff <(strip "$WORK/dump.sql") <(strip "$WORK/dump2.sql") >"$WORK/dump.diff"; then
  pass dump_restore.second_dump_identical
else
  fail dump_restore.second_dump_identical "$(head -5 "$WORK/dump.diff" | tr '\n' ' ')"
fi

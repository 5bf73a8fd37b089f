# Replication, on loopback:
# - a streaming hot standby made with pg_basebackup -R: every audit row reaches it,
#   the read functions work there and the write functions fail with 25006;
# - a logical-replication subscriber (another cluster) subscribed to a
#   publication of audit_logs gets every row exactly once;
# - the log partitioned on the primary (1.3): the standby replays it, the
#   subscriber keeps receiving every row as one table audit_logs.
source "$REL/lib.sh"
trap 'stop_standby; stop_clusters' EXIT
standby=""
stop_standby() {
  [[ -n "$standby" && -f "$standby/data/postmaster.pid" ]] &&
    as_server_user "$PGBIN_DIR/pg_ctl" -D "$standby/data" -m immediate -w stop >/dev/null 2>&1
  [[ -n "$standby" ]] && rm -rf "$standby"
}

primary=$(new_cluster) || { fail replication.setup "cannot start the primary"; exit 0; }
ppsql() { on "$primary" q -d app "$@"; }
on "$primary" q -d postgres -c "CREATE DATABASE app" >/dev/null
ppsql -c "CREATE EXTENSION chronicle" >/dev/null
(source "$primary/env"; seed app) >/dev/null || { fail replication.setup "seed failed"; exit 0; }

# writes N: a burst of audited changes on the primary (posts: insert, update, delete).
writes() {
  ppsql >/dev/null <<SQL
INSERT INTO posts (user_id, title, content, status)
SELECT (SELECT id FROM users WHERE deleted_at IS NULL ORDER BY email LIMIT 1), 'repl ' || i, 'c', 'published'
FROM generate_series(1, $1) i;
UPDATE posts SET content = content || '+' WHERE title LIKE 'repl %' AND random() < 0.5;
DELETE FROM posts WHERE title LIKE 'repl %' AND random() < 0.2;
INSERT INTO audit_logs (table_name, operation, record_id) SELECT 'manual', 'INSERT', gen_random_uuid() FROM generate_series(1, 3);
SQL
}

# ---------------------------------------------------------------------------
# Streaming hot standby.
# ---------------------------------------------------------------------------
standby=$(mktemp -d "${TMPDIR:-/tmp}/chronicle-standby-XXXXXX")
[[ $(id -u) -eq 0 ]] && chown postgres: "$standby"
pport=$(port_of "$primary")
if ! as_server_user "$PGBIN_DIR/pg_basebackup" -h 127.0.0.1 -p "$pport" -U postgres -D "$standby/data" -R -X stream \
      -c fast >"$standby/basebackup.log" 2>&1; then
  fail replication.standby.basebackup "$(tail -3 "$standby/basebackup.log" | tr '\n' ' ')"; exit 0
fi
pass replication.standby.basebackup
# The copy carries the primary's socket directory: give the standby its own.
echo "unix_socket_directories = '$standby'" >>"$standby/data/postgresql.conf"
sport=$((pport + 1))
while (exec 3<>"/dev/tcp/127.0.0.1/$sport") 2>/dev/null; do sport=$((sport + 1)); done
if ! as_server_user "$PGBIN_DIR/pg_ctl" -D "$standby/data" -l "$standby/server.log" -o "-p $sport" -w -t 60 start >/dev/null; then
  fail replication.standby.starts "$(tail -3 "$standby/server.log" | tr '\n' ' ')"; exit 0
fi
spsql() { PGHOST=$standby PGPORT=$sport PGUSER=postgres q -d app "$@"; }
check_eq replication.standby.is_hot_standby "t" "$(spsql -c "SELECT pg_is_in_recovery()")"

writes 200
# Wait until the standby has replayed everything the primary wrote.
wait_replay() {
  local lsn tries=0
  lsn=$(ppsql -c "SELECT pg_current_wal_lsn()")
  while [[ $(spsql -c "SELECT pg_last_wal_replay_lsn() >= '$lsn'::pg_lsn") != t ]]; do
    tries=$((tries + 1)); [[ $tries -gt 300 ]] && return 1; sleep 0.2
  done
}
if wait_replay; then pass replication.standby.catches_up; else fail replication.standby.catches_up "no replay within 60 s"; fi
expected=$(on "$primary" bash -c "source '$REL/lib.sh'; fingerprint app")
standby_fp=$(PGHOST=$standby PGPORT=$sport bash -c "source '$REL/lib.sh'; fingerprint app")
check_eq replication.standby.every_row_reaches_standby "$expected" "$standby_fp" "users/posts/audit_logs fingerprint"
figure "standby: $(echo "$standby_fp" | awk -F'|' '{printf "%s %s rows; ", $1, $2}')"

# Read functions: same answers on both sides.
uid=$(ppsql -c "SELECT user_id FROM posts WHERE status = 'published' GROUP BY user_id ORDER BY count(*) DESC, user_id LIMIT 1")
reads=("SELECT * FROM get_user_posts('$uid', NULL, 50, 0)" "SELECT * FROM get_user_posts('$uid')"
       "SELECT * FROM get_popular_posts(30, 20)" "SELECT * FROM get_user_posts_keyset('$uid', NULL, 5)"
       "SELECT * FROM pending_migration_steps()")
for r in "${reads[@]}"; do
  fn=$(sed 's/.*FROM \([a-z_]*\)(.*/\1/' <<<"$r")
  [[ " ${seen_fns:-} " == *" $fn "* ]] && fn="${fn}_with_defaults"
  seen_fns="${seen_fns:-} $fn"
  a=$(ppsql -c "$r" 2>&1); b=$(spsql -c "$r" 2>&1)
  if [[ "$a" == "$b" && -n "$b" && "$b" != *ERROR* ]]; then pass "replication.standby.read_function.$fn"
  else fail "replication.standby.read_function.$fn" "primary '${a:0:80}' standby '${b:0:120}'"; fi
done
# A cursor issued by the primary pages on the standby (same secret, same page).
cur=$(ppsql -c "SELECT next_cursor FROM get_user_posts_keyset('$uid', NULL, 2) LIMIT 1")
a=$(ppsql -c "SELECT * FROM get_user_posts_keyset('$uid', NULL, 2, '$cur')" 2>&1)
b=$(spsql -c "SELECT * FROM get_user_posts_keyset('$uid', NULL, 2, '$cur')" 2>&1)
if [[ -n "$cur" && "$a" == "$b" && -n "$b" && "$b" != *ERROR* ]]; then pass replication.standby.primary_cursor_pages_on_standby
else fail replication.standby.primary_cursor_pages_on_standby "primary '${a:0:80}' standby '${b:0:120}'"; fi
# Write functions fail with 25006 and say why.
pid=$(ppsql -c "SELECT id FROM posts WHERE status = 'published' ORDER BY id LIMIT 1")
standby_write() {  # NAME SQL
  local got
  got=$(PGHOST=$standby PGPORT=$sport PGUSER=postgres error_of app "$2")
  if [[ "$got" == 25006:*read-only* ]]; then pass "replication.standby.write_fails.$1"
  else fail "replication.standby.write_fails.$1" "expected 25006 (read-only transaction), got '$got'"; fi
}
standby_write plain_update "UPDATE posts SET title = 'x' WHERE id = '$pid'"
standby_write increment_post_views "SELECT increment_post_views('$pid', 1)"
standby_write soft_delete_user "SELECT soft_delete_user('$uid')"
standby_write enable_audit "SELECT enable_audit('users'::regclass)"
standby_write disable_audit "SELECT disable_audit('posts'::regclass)"
check_eq replication.standby.nothing_written_on_standby "$standby_fp" \
  "$(PGHOST=$standby PGPORT=$sport bash -c "source '$REL/lib.sh'; fingerprint app")" "fingerprint after the attempts"
# The standby keeps following: the partitioned log below is replayed there too.

# ---------------------------------------------------------------------------
# Logical replication of audit_logs to an archive cluster.
# ---------------------------------------------------------------------------
archive=$(new_cluster) || { fail replication.logical.setup "cannot start the archive cluster"; exit 0; }
apsql() { on "$archive" q -d archive "$@"; }
on "$archive" q -d postgres -c "CREATE DATABASE archive" >/dev/null
# The archive is a plain table without chronicle and without a key, so that a
# row delivered twice would show.
apsql >/dev/null <<'SQL'
CREATE TABLE public.audit_logs (
  id bigint NOT NULL, table_name varchar(50) NOT NULL, operation varchar(10) NOT NULL,
  record_id uuid, user_id uuid, old_data jsonb, new_data jsonb, changed_fields text[],
  ip_address inet, user_agent text, created_at timestamp NOT NULL);
SQL
# From 1.3 audit_logs also has transaction_id.
if [[ $(ppsql -c "SELECT count(*) FROM pg_attribute WHERE attrelid = 'audit_logs'::regclass AND attname = 'transaction_id'") == 1 ]]; then
  apsql -c "ALTER TABLE public.audit_logs ADD COLUMN transaction_id xid8" >/dev/null
fi
ppsql -c "CREATE PUBLICATION audit_archive FOR TABLE audit_logs" >/dev/null
# Changes before, during and after the initial copy.
writes 100
apsql -c "CREATE SUBSCRIPTION audit_archive CONNECTION 'host=127.0.0.1 port=$pport dbname=app user=postgres' PUBLICATION audit_archive" >/dev/null 2>"$WORK/sub.err" ||
  { fail replication.logical.subscribe "$(cat "$WORK/sub.err")"; exit 0; }
for i in 1 2 3 4 5; do writes 50; done
rows_expected=$(ppsql -c "SELECT count(*) FROM audit_logs")
tries=0
while [[ $(apsql -c "SELECT count(*) FROM audit_logs") -lt $rows_expected ]] ||
      [[ $(apsql -c "SELECT count(*) FROM pg_subscription_rel WHERE srsubstate <> 'r'") != 0 ]]; do
  tries=$((tries + 1)); [[ $tries -gt 300 ]] && break; sleep 0.2
done
sleep 1  # anything delivered twice would arrive now
a=$(ppsql -c "SELECT count(*) || '|' || md5(string_agg(t::text, ',' ORDER BY id)) FROM audit_logs t")
b=$(apsql -c "SELECT count(*) || '|' || md5(string_agg(t::text, ',' ORDER BY id)) FROM audit_logs t")
check_eq replication.logical.every_row_exactly_once "$a" "$b" "rows|md5 of the publisher"
check_eq replication.logical.no_duplicates "0" "$(apsql -c "SELECT count(*) - count(DISTINCT id) FROM audit_logs")"
figure "logical: $rows_expected audit rows published, $(apsql -c "SELECT count(*) FROM audit_logs") received"

# ---------------------------------------------------------------------------
# The same log partitioned on the primary (1.3, partition_audit_log) while both
# replicas follow: the standby replays it, the subscriber keeps receiving one
# table audit_logs (the publication publishes it through its root).
# ---------------------------------------------------------------------------
writes 50
if ppsql -c "SELECT partition_audit_log()" >/dev/null 2>"$WORK/partition.err"; then pass replication.partitioned.partition
else fail replication.partitioned.partition "$(head -3 "$WORK/partition.err")"; fi
check_eq replication.partitioned.publication_via_root "true|true" \
  "$(ppsql -c "SELECT p.pubviaroot::text || '|' || EXISTS (SELECT FROM pg_publication_tables t WHERE t.pubname = p.pubname AND t.tablename = 'audit_logs')::text
                FROM pg_publication p WHERE pubname = 'audit_archive'")"
for i in 1 2 3; do writes 50; done
ppsql -c "SELECT setval('audit_logs_id_seq', (SELECT substring(pg_get_expr(relpartbound, oid), 'FROM \(''(\d+)''\)')::bigint
                                                FROM pg_class WHERE relname = 'audit_logs_p000003'))" >/dev/null
writes 50
rows_expected=$(ppsql -c "SELECT count(*) FROM audit_logs")
tries=0
while [[ $(apsql -c "SELECT count(*) FROM audit_logs") -lt $rows_expected ]]; do
  tries=$((tries + 1)); [[ $tries -gt 300 ]] && break; sleep 0.2
done
sleep 1
a=$(ppsql -c "SELECT count(*) || '|' || md5(string_agg(t::text, ',' ORDER BY id)) FROM audit_logs t")
b=$(apsql -c "SELECT count(*) || '|' || md5(string_agg(t::text, ',' ORDER BY id)) FROM audit_logs t")
check_eq replication.partitioned.subscriber_every_row_exactly_once "$a" "$b" "rows|md5 of the publisher"
figure "partitioned: $rows_expected audit rows in $(ppsql -c "SELECT count(DISTINCT tableoid) FROM audit_logs") partitions, $(apsql -c "SELECT count(*) FROM audit_logs") received as one table"
if wait_replay; then
  check_eq replication.partitioned.standby_replays "p|$(ppsql -c "SELECT count(*) || '|' || sum(hashtext(t::text)) FROM audit_logs t")" \
    "$(spsql -c "SELECT relkind::text FROM pg_class WHERE oid = 'audit_logs'::regclass")|$(spsql -c "SELECT count(*) || '|' || sum(hashtext(t::text)) FROM audit_logs t")"
else fail replication.partitioned.standby_replays "no replay within 60 s"; fi
apsql -c "DROP SUBSCRIPTION audit_archive" >/dev/null 2>&1

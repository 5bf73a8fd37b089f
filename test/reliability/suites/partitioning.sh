# A partitioned audit log (1.3) under the conditions that break systems:
#  - SIGKILL of the whole server in the middle of partition_audit_log, and of
#    maintain_audit_log, under pgbench write load: after recovery no audit row
#    is lost or doubled (every committed row of the audited table has exactly
#    one audit row, and no audit row lacks its row), audit_logs is as it was
#    before the call (all or nothing), and calling again completes the work;
#  - pg_dump --load-via-partition-root and restore: every row and the
#    sequence's position, and the log partitions again;
#  - index_report() on a partitioned log.
# Each call is held in its middle by a transaction that keeps a lock the call
# waits for (within a long lock_timeout), and the server is killed then.
source "$REL/lib.sh"
trap '[[ -n $bench_pid ]] && kill $bench_pid 2>/dev/null; [[ -n $call_pid ]] && kill $call_pid 2>/dev/null;
      [[ -n $holder_pid ]] && kill $holder_pid 2>/dev/null; stop_clusters' EXIT
bench_pid=""; server_pid=""; call_pid=""; holder_pid=""

cl=$(new_cluster) || { fail partitioning.setup "cannot start a cluster"; exit 0; }
source "$cl/env"
# The postmaster runs as a child of this shell (see crash.sh: a SIGKILLed
# postmaster must be reaped).
as_server_user "$PGBIN_DIR/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null ||
  { fail partitioning.setup "cannot stop the cluster to run its postmaster in the foreground"; exit 0; }
start_server() {
  as_server_user "$PGBIN_DIR/postgres" -D "$PGDATA" -p "$PGPORT" >>"$cl/server.log" 2>&1 &
  server_pid=$!
}
wait_ready() {
  local i
  for i in $(seq 1 300); do pg_isready -q -d postgres && return 0; sleep 0.2; done
  return 1
}
pm_pid() { head -1 "$PGDATA/postmaster.pid" 2>/dev/null; }
start_server
export PGDATABASE=app
wait_ready || { fail partitioning.setup "server does not start"; exit 0; }
q -d postgres -c "CREATE DATABASE app" >/dev/null
q <<'SQL' >/dev/null
CREATE EXTENSION chronicle;
CREATE TABLE items (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), phase text NOT NULL, n int);
SELECT enable_audit('items');
INSERT INTO items (phase, n) SELECT 'history', g FROM generate_series(1, 20000) g;
SQL
mkdir -p "$WORK/partitioning"
cat >"$WORK/partitioning/write.sql" <<'SQL'
\set n random(1, 1000000)
INSERT INTO items (phase, n) VALUES ('load', :n);
SQL

# Every committed item of the phases asked has exactly one INSERT audit row,
# and no INSERT audit row of items lacks its item:
# "items audit_rows missing doubled orphans".
ledger() {
  q -c "WITH i AS (SELECT id FROM items WHERE phase = ANY (string_to_array('$1', ','))),
             a AS (SELECT record_id FROM audit_logs WHERE table_name = 'items' AND operation = 'INSERT')
        SELECT (SELECT count(*) FROM i) || ' ' ||
               (SELECT count(*) FROM a WHERE a.record_id IN (SELECT id FROM i)) || ' ' ||
               (SELECT count(*) FROM i WHERE NOT EXISTS (SELECT FROM a WHERE a.record_id = i.id)) || ' ' ||
               (SELECT count(*) FROM (SELECT record_id FROM a GROUP BY record_id HAVING count(*) > 1) d) || ' ' ||
               (SELECT count(*) FROM a WHERE NOT EXISTS (SELECT FROM items x WHERE x.id = a.record_id))"
}
ledger_ok() {  # name phases
  local out items audit missing doubled orphans
  out=$(ledger "$2")
  read -r items audit missing doubled orphans <<<"$out"
  if [[ -n $items && $items == "$audit" && $missing == 0 && $doubled == 0 && $orphans == 0 && $items -gt 0 ]]; then
    pass "$1"; figure "$1: $items items, $audit audit rows, none missing, doubled or orphaned"
  else fail "$1" "items, audit rows, missing, doubled, orphans: $out"; fi
}
start_load() {
  pgbench -n -c 4 -j 2 -T 5 -f "$WORK/partitioning/write.sql" app >"$WORK/partitioning/pgbench.$1" 2>&1 &
  bench_pid=$!
}
# A transaction that holds ROW EXCLUSIVE on audit_logs (it wrote an audit row)
# and stays open: what the call waits for.
start_holder() {
  q -c "BEGIN" -c "INSERT INTO items (phase, n) VALUES ('holder', 0)" -c "SELECT pg_sleep(30)" -c "COMMIT" \
    >/dev/null 2>&1 &
  holder_pid=$!
}
kill_server() {
  local pm
  pm=$(pm_pid)
  kill -KILL "$pm"; pkill -KILL -P "$pm"
  wait "$server_pid" 2>/dev/null
  wait "$bench_pid" "$call_pid" "$holder_pid" 2>/dev/null
  bench_pid=""; call_pid=""; holder_pid=""
  start_server
  wait_ready
}
waiting_call() {  # the call's backend is waiting for a lock, or for lockers to end
  local i
  for i in $(seq 1 100); do
    [[ $(q -c "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT % FROM %$1%' AND wait_event_type = 'Lock'") -gt 0 ]] &&
      return 0
    sleep 0.1
  done
  return 1
}

# ---------------------------------------------------------------------------
# A lock it never gets: 55P03 within the session's lock_timeout, nothing changed
# ---------------------------------------------------------------------------
start_load give_up
sleep 1
start_holder
sleep 0.5
t0=$(date +%s%3N)
out=$(PGOPTIONS="-c lock_timeout=1s" psql -X -qAt -v VERBOSITY=verbose -c "SELECT partition_audit_log()" 2>&1)
t1=$(date +%s%3N)
# End the holder (its transaction rolls back, with its row).
q -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(30)'" >/dev/null
wait "$holder_pid" 2>/dev/null; holder_pid=""
wait "$bench_pid"; bench_pid=""
if [[ $out == *55P03* && $(( t1 - t0 )) -lt 2500 && $(q -c "SELECT relkind::text FROM pg_class WHERE oid = 'audit_logs'::regclass") == r ]]; then
  pass partitioning.lock_never_granted_55P03
else fail partitioning.lock_never_granted_55P03 "after $(( t1 - t0 )) ms: $out"; fi
figure "partition_audit_log gave up after $(( t1 - t0 )) ms: $(echo "$out" | head -1)"
check_eq partitioning.lock_never_granted_writers_ok 0 "$(grep -c 'ERROR' "$WORK/partitioning/pgbench.give_up")" "writer errors"

# ---------------------------------------------------------------------------
# SIGKILL in the middle of partition_audit_log
# ---------------------------------------------------------------------------
start_load partition
sleep 1
start_holder
sleep 0.5
PGOPTIONS="-c lock_timeout=20s" q -c "SELECT * FROM partition_audit_log()" >/dev/null 2>&1 &
call_pid=$!
if waiting_call partition_audit_log; then pass partitioning.partition_call_waits_under_load
else fail partitioning.partition_call_waits_under_load "partition_audit_log never waited for its lock"; fi
sleep 0.5
kill_server && pass partitioning.partition_crash_restarts || fail partitioning.partition_crash_restarts "server not back"
check_eq partitioning.partition_crash_all_or_nothing "r|0" \
  "$(q -c "SELECT (SELECT relkind::text FROM pg_class WHERE oid = 'audit_logs'::regclass) || '|' ||
                  (SELECT count(*) FROM pg_class WHERE relname ~ '^audit_logs_(p[0-9]+|partitioned)$')")" \
  "audit_logs a plain table, no partition or staging table left"
ledger_ok partitioning.partition_crash_no_row_lost_or_doubled history,load,holder
start_load partition_again
sleep 1
if q -c "SELECT partition_audit_log()" >/dev/null 2>"$WORK/partitioning/again.err"; then
  pass partitioning.partition_again_completes
else fail partitioning.partition_again_completes "$(head -3 "$WORK/partitioning/again.err")"; fi
sleep 1
wait "$bench_pid"; bench_pid=""
check_eq partitioning.partition_again_writers_ok 0 "$(grep -c 'ERROR' "$WORK/partitioning/pgbench.partition_again")" \
  "writer errors"
check_eq partitioning.partitioned_after_crash "p|4" \
  "$(q -c "SELECT (SELECT relkind::text FROM pg_class WHERE oid = 'audit_logs'::regclass) || '|' ||
                  (SELECT count(*) FROM pg_inherits WHERE inhparent = 'audit_logs'::regclass)")"
ledger_ok partitioning.partitioned_no_row_lost_or_doubled history,load,holder

# ---------------------------------------------------------------------------
# SIGKILL in the middle of maintain_audit_log (retention waits for the
# transactions that hold audit_logs)
# ---------------------------------------------------------------------------
# The first partition (history and the first load) is all old and its range is
# passed: retention may drop it once no transaction can still write into it.
q -c "UPDATE audit_logs SET created_at = created_at - interval '2 days' WHERE tableoid = 'audit_logs_p000001'::regclass" \
  -c "SELECT setval('audit_logs_id_seq', (SELECT substring(pg_get_expr(relpartbound, oid), 'FROM \(''(\d+)''\)')::bigint
                                            FROM pg_class WHERE relname = 'audit_logs_p000003'))" \
  -c "SELECT set_audit_retention('1 day')" >/dev/null
before_p1=$(q -c "SELECT count(*) FROM audit_logs_p000001")
# Their items leave the ledger (not audited: triggers off for this update).
q -c "SET session_replication_role = replica" \
  -c "UPDATE items SET phase = 'gone' WHERE id IN (SELECT record_id FROM audit_logs_p000001)" >/dev/null
start_load maintain
sleep 1
start_holder
sleep 0.5
PGOPTIONS="-c lock_timeout=20s" q -c "SELECT * FROM maintain_audit_log()" >/dev/null 2>&1 &
call_pid=$!
if waiting_call maintain_audit_log; then pass partitioning.maintain_call_waits_under_load
else fail partitioning.maintain_call_waits_under_load "maintain_audit_log never waited"; fi
sleep 0.5
kill_server && pass partitioning.maintain_crash_restarts || fail partitioning.maintain_crash_restarts "server not back"
check_eq partitioning.maintain_crash_all_or_nothing "$before_p1|4" \
  "$(q -c "SELECT (SELECT count(*) FROM audit_logs_p000001) || '|' || (SELECT count(*) FROM pg_inherits WHERE inhparent = 'audit_logs'::regclass)")" \
  "the first partition's rows and the partitions as before the call"
ledger_ok partitioning.maintain_crash_no_row_lost_or_doubled load,holder
start_load maintain_again
sleep 1
out=$(q -c "SELECT string_agg(action || ' ' || coalesce(partition_name, ''), ', ' ORDER BY action, partition_name) FROM maintain_audit_log()" 2>&1)
sleep 1
wait "$bench_pid"; bench_pid=""
if [[ $out == *"dropped audit_logs_p000001"* && $out == *created* ]]; then pass partitioning.maintain_again_completes
else fail partitioning.maintain_again_completes "$out"; fi
figure "maintain_audit_log after the crash: $out"
check_eq partitioning.maintain_again_writers_ok 0 "$(grep -c 'ERROR' "$WORK/partitioning/pgbench.maintain_again")" \
  "writer errors"
ledger_ok partitioning.maintained_no_row_lost_or_doubled load,holder

# ---------------------------------------------------------------------------
# Beside itself: a second maintain_audit_log while one is at work does nothing
# and waits for nothing.
# ---------------------------------------------------------------------------
q -c "BEGIN" -c "SELECT count(*) FROM maintain_audit_log()" -c "SELECT pg_sleep(3)" -c "COMMIT" >/dev/null 2>&1 &
first_pid=$!
sleep 1
t0=$(date +%s%3N)
out=$(q -c "SELECT count(*) FROM maintain_audit_log()" 2>&1)
t1=$(date +%s%3N)
wait "$first_pid"
if [[ $out == 0 && $(( t1 - t0 )) -lt 1000 ]]; then pass partitioning.maintain_beside_itself
else fail partitioning.maintain_beside_itself "second call: '$out' after $(( t1 - t0 )) ms"; fi

# ---------------------------------------------------------------------------
# index_report() on the partitioned log
# ---------------------------------------------------------------------------
out=$(q -c "SELECT count(*) FILTER (WHERE finding = 'invalid') || '|' || count(*) FROM index_report()" 2>&1)
if [[ $out =~ ^0\|[0-9]+$ ]]; then pass partitioning.index_report; else fail partitioning.index_report "$out"; fi

# ---------------------------------------------------------------------------
# pg_dump --load-via-partition-root, restore, partition again
# ---------------------------------------------------------------------------
fingerprint_log() { q -d "$1" -c "SELECT count(*) || '|' || coalesce(sum(hashtext(id || table_name || operation || coalesce(new_data::text, '') || created_at)), 0) FROM audit_logs"; }
expected=$(fingerprint_log app)
seq_last=$(q -c "SELECT last_value FROM audit_logs_id_seq")
if pg_dump --load-via-partition-root -Fc -d app -f "$WORK/partitioning/app.dump"; then pass partitioning.pg_dump
else fail partitioning.pg_dump "pg_dump failed"; fi
q -d postgres -c "CREATE DATABASE restored" >/dev/null
PGOPTIONS='-c session_replication_role=replica' pg_restore -d restored "$WORK/partitioning/app.dump" \
  2>"$WORK/partitioning/restore.err"
check_eq partitioning.restore_without_errors "" "$(head -3 "$WORK/partitioning/restore.err")" "pg_restore's errors"
check_eq partitioning.restore_rows_kept "$expected" "$(fingerprint_log restored)" "audit_logs fingerprint"
check_eq partitioning.restore_sequence "$seq_last" "$(q -d restored -c "SELECT last_value FROM audit_logs_id_seq")"
if q -d restored -c "SELECT partition_audit_log()" >/dev/null 2>"$WORK/partitioning/restored.err" &&
   [[ $(q -d restored -c "SELECT relkind FROM pg_class WHERE oid = 'audit_logs'::regclass") == p ]]; then
  pass partitioning.restored_partitions_again
else fail partitioning.restored_partitions_again "$(head -3 "$WORK/partitioning/restored.err")"; fi
check_eq partitioning.restored_rows_after_partitioning "$expected" "$(fingerprint_log restored)" "audit_logs fingerprint"

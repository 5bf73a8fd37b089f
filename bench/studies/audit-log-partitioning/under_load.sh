#!/usr/bin/env bash
# partition_audit_log and maintain_audit_log on a 1,000,000-row audit_logs under
# pgbench write load (4 writers of audited single-row INSERTs), side by side in
# one run on one throwaway cluster:
#   1. db "partition": 1,000,000 audit rows; the load starts; partition_audit_log().
#   2. db "maintain": 1,000,000 audit rows of two months ago, partitioned before
#      the load (the history is one partition of exactly those rows), the
#      sequence moved past the next partition; the load starts;
#      set_audit_retention('30 days') and maintain_audit_log(), which makes the
#      partitions ahead and drops the 1,000,000-row partition.
#   3. tps of the same load on db "plain" (1,000,000 rows, not partitioned) and
#      on db "maintain" (partitioned), alternated.
# For each operation: its time, the writers' errors, the worst writer latency
# while it ran and over the whole load, and the relfilenode of the old rows.
#
#   bench/studies/audit-log-partitioning/under_load.sh [rows=1000000] [load_s=20]
# Needs scripts/cluster and a chronicle build installed (make install).
set -euo pipefail
cd "$(dirname "$0")/../../.."
rows=${1:-1000000}
load_s=${2:-20}
dir=$(mktemp -d /tmp/partition-load-XXXXXX)
scripts/cluster start "$dir" -c max_wal_size=4GB -c checkpoint_timeout=30min >/dev/null
source "$dir/env"
trap 'scripts/cluster stop "$dir" >/dev/null 2>&1' EXIT
sql() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }
val() { psql -X -qAt -v ON_ERROR_STOP=1 "$@"; }

setup() {  # db days_ago
  sql -d postgres -c "CREATE DATABASE $1"
  sql -d "$1" <<SQL
CREATE EXTENSION chronicle;
CREATE TABLE items (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), n int, body text);
SELECT enable_audit('items');
INSERT INTO audit_logs (table_name, operation, record_id, new_data, changed_fields, created_at)
SELECT 'items', 'INSERT', gen_random_uuid(), jsonb_build_object('n', g, 'body', 'history'), '{}',
       LOCALTIMESTAMP - interval '$2 days' - ($rows - g) * interval '1 second'
  FROM generate_series(1, $rows) g;
VACUUM ANALYZE audit_logs;
SQL
}
cat >"$dir/write.sql" <<'SQL'
\set n random(1, 1000000)
INSERT INTO items (n, body) VALUES (:n, 'written under load');
SQL

# run_load DB NAME: pgbench in the background, per-transaction log in $dir/log-NAME.*
run_load() {
  pgbench -n -c 4 -j 2 -T "$load_s" -l --log-prefix="$dir/log-$2" -f "$dir/write.sql" "$1" >"$dir/$2.out" 2>&1 &
  load_pid=$!
}
# op DB SQL: runs SQL, prints "<ms> <start us> <end us>"
op() {
  local t0 t1
  t0=$(date +%s%6N)
  PGOPTIONS="-c client_min_messages=debug1" val -d "$1" -c "$2" >"$dir/op.out" 2>"$dir/op.err"
  t1=$(date +%s%6N)
  echo "$(( (t1 - t0) / 1000 )) $t0 $t1"
}
# latencies NAME FROM_US TO_US: for the load's transactions that overlapped
# [FROM, TO] (the operation) and for the others: how many, the worst latency,
# the 99th percentile, and how many took more than 100 ms. On a shared machine
# the others show what the machine itself does to a writer.
latencies() {
  cat "$dir/log-$1".* | awk -v a="$2" -v b="$3" '
    { end = $5 * 1000000 + $6; start = end - $3; print ((start <= b && end >= a) ? "during" : "outside"), $3 }' \
    >"$dir/lat-$1"
  local k n
  for k in during outside; do
    awk -v k="$k" '$1 == k { print $2 }' "$dir/lat-$1" | sort -n >"$dir/lat-$1-$k"
    n=$(wc -l <"$dir/lat-$1-$k")
    [[ $n -gt 0 ]] || continue
    printf '%s the operation: %d transactions, worst %.1f ms, p99 %.1f ms, %d over 100 ms; ' "$k" "$n" \
      "$(tail -1 "$dir/lat-$1-$k" | awk '{ print $1 / 1000 }')" \
      "$(sed -n "$(( (n * 99 + 99) / 100 ))p" "$dir/lat-$1-$k" | awk '{ print $1 / 1000 }')" \
      "$(awk '$1 > 100000' "$dir/lat-$1-$k" | wc -l)"
  done
}
errors() { grep -c -E "ERROR|aborted" "$dir/$1.out" || true; }

echo "== setup: $rows audit rows in each database"
setup partition 1
setup maintain 60
setup plain 1

echo "== partition_audit_log under load (4 writers, $load_s s)"
node=$(val -d partition -c "SELECT relfilenode FROM pg_class WHERE oid = 'audit_logs'::regclass")
run_load partition partition
sleep 5
read -r ms t0 t1 < <(op partition "SELECT partition_audit_log()")
wait "$load_pid"
after=$(val -d partition -c "SELECT relfilenode FROM pg_class WHERE relname = 'audit_logs_p000001'")
echo "  partition_audit_log: $ms ms; writer errors: $(errors partition); $(sed -n 's/.*DEBUG:  //p' "$dir/op.err" | grep 'held ACCESS')"
echo "  writers: $(latencies partition "$t0" "$t1")"
echo "  old rows' relfilenode: before $node, after $after ($([[ $node == "$after" ]] && echo unchanged || echo CHANGED));" \
     "$(grep -E '^number of transactions actually processed' "$dir/partition.out")"
val -d partition -c "SELECT relname || ' ' || pg_get_expr(relpartbound, oid) FROM pg_class
                     WHERE oid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = 'audit_logs'::regclass) ORDER BY 1" |
  sed 's/^/    /'

echo "== maintain_audit_log under load: partitions ahead, and a $rows-row partition dropped"
sql -d maintain -c "SELECT partition_audit_log()"
sql -d maintain -c "SELECT setval('audit_logs_id_seq', (SELECT substring(pg_get_expr(relpartbound, oid), 'FROM \(''(\d+)''\)')::bigint
                                                       FROM pg_class WHERE relname = 'audit_logs_p000003'))" >/dev/null
old_rows=$(val -d maintain -c "SELECT count(*) FROM audit_logs_p000001")
sql -d maintain -c "SELECT set_audit_retention('30 days')"
run_load maintain maintain
sleep 5
read -r ms t0 t1 < <(op maintain "SELECT string_agg(action || ' ' || coalesce(partition_name, ''), ', ') FROM maintain_audit_log()")
did=$(cat "$dir/op.out")
wait "$load_pid"
echo "  maintain_audit_log: $ms ms ($did; audit_logs_p000001 held $old_rows rows); writer errors: $(errors maintain); $(sed -n 's/.*DEBUG:  //p' "$dir/op.err" | grep 'held ACCESS')"
echo "  writers: $(latencies maintain "$t0" "$t1")"
echo "  $(grep -E '^number of transactions actually processed' "$dir/maintain.out")"

echo "== tps of the same load, unpartitioned (plain) and partitioned (maintain), alternated, 3 rounds of 10 s"
for round in 1 2 3; do
  for db in plain maintain; do
    pgbench -n -c 4 -j 2 -T 10 -f "$dir/write.sql" "$db" >"$dir/tps.$db.$round" 2>&1
    printf '  round %s %-9s %s\n' "$round" "$db" "$(grep -E '^tps' "$dir/tps.$db.$round" | head -1)"
  done
done

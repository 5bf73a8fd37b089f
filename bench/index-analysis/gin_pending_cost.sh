#!/usr/bin/env bash
# The changed_fields GIN of 1.2 with fastupdate off (each entry goes into its
# posting tree at once) against its 64 kB pending list (entries merged in
# batches), on single-row audited writes of posts, in one throwaway cluster:
#   - instructions per transaction: one single-user backend per variant under
#     callgrind, N INSERTs then N UPDATEs, each statement its own transaction
#     (counted inside PortalRun and the commit);
#   - pgbench (synchronous_commit off, alternating variants): tps, backend CPU
#     per transaction (the pgbench connection's server process, from the
#     postmaster's children's times in /proc: far steadier here than tps), WAL
#     per transaction with the pending list flushed at the end of the run (so
#     its deferred work is charged), and the worst single write.
#
#   bench/index-analysis/gin_pending_cost.sh [posts=100000] [n=1000] [secs=20] [rounds=2]
set -euo pipefail
cd "$(dirname "$0")/../.."
posts=${1:-100000}; n=${2:-1000}; secs=${3:-20}; rounds=${4:-2}
dir=$(mktemp -d /tmp/gin-pending-XXXXXX)
scripts/cluster start "$dir" -c "shared_buffers = 256MB" -c "fsync = on" -c "synchronous_commit = off" \
  -c "autovacuum = off" -c "max_wal_size = 4GB" -c "checkpoint_timeout = 30min" >/dev/null
trap 'scripts/cluster stop "$dir"' EXIT
source "$dir/env"
export PATH=$PGBIN:$PATH PGOPTIONS="-c client_min_messages=warning"
as_server() { if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }
writer=00000000-0000-4000-8000-00000000b001

psql -Xq -c "CREATE DATABASE g_pending"
psql -Xq -v ON_ERROR_STOP=1 -d g_pending -c "CREATE EXTENSION chronicle"
psql -Xq -v ON_ERROR_STOP=1 -d g_pending -v users=100 -v posts="$posts" -v heavy_posts=$((posts / 5)) \
  -f bench/load_posts.sql >/dev/null
psql -Xq -v ON_ERROR_STOP=1 -d g_pending -v tsrows=1000 -f bench/sql/setup_common.sql >/dev/null
psql -XAt -d g_pending -c "SELECT ddl FROM pending_migration_steps()" | while read -r ddl; do
  psql -Xq -v ON_ERROR_STOP=1 -d g_pending -c "$ddl"; done
# A history: one audited edit of every post, so the GIN's posting trees are not small.
psql -Xq -v ON_ERROR_STOP=1 -d g_pending -c "UPDATE posts SET title = left(title, 190) || ' (edited)'" \
  -c "SELECT gin_clean_pending_list('idx_audit_changed_fields')" -c "VACUUM ANALYZE" >/dev/null
psql -Xq -c "CREATE DATABASE g_off TEMPLATE g_pending"
psql -Xq -d g_off -c "ALTER INDEX idx_audit_changed_fields SET (fastupdate = off)"

statements() {  # INSERTs then UPDATEs, each followed by a blank line: its own transaction under -j
  for i in $(seq 1 "$n"); do
    echo "INSERT INTO posts (user_id, title, content, status) VALUES ('$writer', 'Benchmark post', repeat('Lorem ipsum dolor sit amet. ', 12), '$([[ $((i % 2)) == 1 ]] && echo published || echo draft)');"
    echo
  done
  for i in $(seq 1 "$n"); do
    echo "UPDATE posts SET title = 'Edited $i', status = '$([[ $((i % 2)) == 1 ]] && echo published || echo archived)' WHERE id = (SELECT id FROM bench_keys WHERE n = $(( (i * 7919) % 10000 + 1 )));"
    echo
  done
}
as_server "$PGBIN/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null
chmod 777 "$dir"
statements >"$dir/s.sql"
declare -A ir
for db in g_off g_pending; do
  as_server valgrind --tool=callgrind --callgrind-out-file="$dir/cg.$db" --collect-atstart=no \
    --toggle-collect=PortalRun --toggle-collect=CommitTransactionCommand \
    "$PGBIN/postgres" --single -j -D "$PGDATA" -c synchronous_commit=off "$db" <"$dir/s.sql" >/dev/null 2>"$dir/log.$db"
  ir[$db]=$(sed -n 's/^summary: //p; s/^totals: //p' "$dir/cg.$db" | head -1)
done
as_server "$PGBIN/pg_ctl" -D "$PGDATA" -l "$dir/server.log" -o "-p $PGPORT" -w start >/dev/null
echo "instructions per single-row transaction (mean of $n INSERTs and $n UPDATEs):"
echo "  fastupdate off: $(( ir[g_off] / (2 * n) ))  pending list 64 kB: $(( ir[g_pending] / (2 * n) ))"

flush="SELECT gin_clean_pending_list('idx_audit_changed_fields')"
postmaster=$(head -1 "$PGDATA/postmaster.pid")
children_cpu() { awk '{print $16 + $17}' "/proc/$postmaster/stat"; }   # clock ticks of exited children
echo "pgbench, posts_update_triggered.sql, ${secs} s a run:"
for r in $(seq 1 "$rounds"); do
  for db in g_off g_pending; do
    psql -XAtq -d "$db" -c "$flush" -c "CHECKPOINT" >/dev/null
    start=$(psql -XAt -d "$db" -c "SELECT pg_current_wal_insert_lsn()")
    rm -rf "$dir/log"; mkdir "$dir/log"
    cpu0=$(children_cpu)
    out=$(cd "$dir/log" && pgbench -n -M prepared -l -T "$secs" -D writer=$writer -D hot=10000 \
      -f "$OLDPWD/bench/pgbench/posts_update_triggered.sql" "$db")
    # The backend's times reach the postmaster once it has exited and been reaped.
    while [[ $(psql -XAt -d postgres -c "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pgbench'") != 0 ]]; do
      sleep 0.1; done
    sleep 0.5
    cpu=$(( ($(children_cpu) - cpu0) * 1000000 / $(getconf CLK_TCK) ))
    psql -XAtq -d "$db" -c "$flush" >/dev/null
    wal=$(psql -XAt -d "$db" -c "SELECT pg_current_wal_insert_lsn() - '$start'")
    tx=$(awk '/actually processed/ {print $NF}' <<<"$out")
    tps=$(awk '/^tps/ {printf "%.0f", $3}' <<<"$out")
    worst=$(cat "$dir"/log/pgbench_log.* | awk '$3 > m {m = $3} END {printf "%.1f", m / 1000}')
    echo "  round $r $db: $tps tps, backend CPU $(( cpu / tx )) us/tx, $(( ${wal%.*} / tx )) WAL B/tx, worst write $worst ms"
  done
done

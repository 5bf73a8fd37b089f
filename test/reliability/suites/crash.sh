# Crash consistency. A pgbench write load on posts (inserts,
# updates, deletes, view increments) is cut by SIGKILL at a random point, in
# rotating ways: the postmaster and every server process at once (a power cut
# without losing the OS cache), one backend (the postmaster's crash restart), and
# everything while a checkpoint runs. After the restart:
# - client ledger: pgbench's per-transaction log holds every transaction the
#   server acknowledged; each acknowledged view increment has its ledger row
#   (written in the same transaction), at most one in-doubt commit per client;
# - the view counter of every post equals the sum of its committed increments;
# - audit replay: for every post, its audit rows form one unbroken chain (INSERT
#   first, each row's old_data equal to the previous new_data, nothing after a
#   DELETE) whose last new_data is exactly to_jsonb of the row in posts (or a
#   DELETE for a row that is gone), and every post has its chain. A committed
#   change without its audit row, or an audit row of a change that rolled back,
#   breaks the chain or the final state. Every acknowledged insert is audited,
#   and changes rolled back on purpose leave no audit row;
# - post_counts (the posts work's counter table) equals a count of posts.
source "$REL/lib.sh"
trap '[[ -n $bench_pid ]] && kill $bench_pid 2>/dev/null; stop_clusters' EXIT
bench_pid=""; server_pid=""
runs=${CRASH_RUNS:-3}; clients=6; max_load=4
[[ $FULL == 1 ]] && { runs=${CRASH_RUNS:-12}; clients=12; max_load=10; }

cl=$(new_cluster) || { fail crash.setup "cannot start a cluster"; exit 0; }
source "$cl/env"
# The postmaster runs as a child of this shell rather than daemonized by pg_ctl:
# a SIGKILLed postmaster must be reaped, and PID 1 of a container may never reap
# it (its zombie's PID would keep postmaster.pid "in use").
as_server_user "$PGBIN_DIR/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null ||
  { fail crash.setup "cannot stop the cluster to run its postmaster in the foreground"; exit 0; }
start_server() {
  as_server_user "$PGBIN_DIR/postgres" -D "$PGDATA" -p "$PGPORT" >>"$cl/server.log" 2>&1 &
  server_pid=$!
}
start_server
export PGDATABASE=app
wait_ready() {
  local i
  for i in $(seq 1 300); do pg_isready -q -d postgres && return 0; sleep 0.2; done
  return 1
}
wait_ready || { fail crash.setup "server does not start"; exit 0; }
q -d postgres -c "CREATE DATABASE app" >/dev/null
q <<'SQL' >/dev/null
CREATE EXTENSION chronicle;
INSERT INTO users (email, name, password_hash)
SELECT 'crash' || i || '@example.com', 'Crash ' || i, 'h' FROM generate_series(0, 19) i;
INSERT INTO posts (user_id, title, content, status)
SELECT (SELECT id FROM users ORDER BY email LIMIT 1), 'counter-' || i, 'c', 'published' FROM generate_series(1, 10) i;
-- The increments each committed transaction made, written in that transaction.
CREATE TABLE public.view_ledger (client int NOT NULL, post_no int NOT NULL, inc int NOT NULL);
SQL

mkdir -p "$WORK/crash"
cat >"$WORK/crash/insert.sql" <<'SQL'
\set k random(1, 1500)
\set u random(0, 19)
\set s random(0, 2)
INSERT INTO posts (user_id, title, content, status)
SELECT id, 'churn-' || :k, 'content ' || :k, (ARRAY['draft', 'published', 'archived'])[1 + :s]
FROM users WHERE email = 'crash' || :u || '@example.com';
SQL
cat >"$WORK/crash/update.sql" <<'SQL'
\set k random(1, 1500)
\set s random(0, 2)
UPDATE posts SET content = content || '.', status = (ARRAY['draft', 'published', 'archived'])[1 + :s]
WHERE lower(title) = 'churn-' || :k;
SQL
cat >"$WORK/crash/delete.sql" <<'SQL'
\set k random(1, 1500)
DELETE FROM posts WHERE lower(title) = 'churn-' || :k;
SQL
cat >"$WORK/crash/increment.sql" <<'SQL'
\set c random(1, 10)
\set n random(1, 3)
BEGIN;
SELECT increment_post_views(id, :n) FROM posts WHERE lower(title) = 'counter-' || :c;
INSERT INTO view_ledger VALUES (:client_id, :c, :n);
COMMIT;
SQL
# Changes that never commit: an insert and an update rolled back.
cat >"$WORK/crash/rollback.sql" <<'SQL'
\set k random(1, 1500)
BEGIN;
INSERT INTO posts (user_id, title, content, status)
SELECT id, 'rolled-back-' || :k, 'never', 'published' FROM users WHERE email = 'crash0@example.com';
UPDATE posts SET content = 'never' WHERE lower(title) = 'churn-' || :k;
ROLLBACK;
SQL
# Script numbers in pgbench's log follow the order of -f.
scripts=(-f "$WORK/crash/insert.sql@3" -f "$WORK/crash/update.sql@3" -f "$WORK/crash/delete.sql@1"
         -f "$WORK/crash/increment.sql@3" -f "$WORK/crash/rollback.sql@1")

pm_pid() { head -1 "$PGDATA/postmaster.pid" 2>/dev/null; }
kill_modes=("postmaster and every server process" "one backend (crash restart)" "everything during a checkpoint")
total_acked=0; total_acked_inserts=0; total_audit_rows=0; total_mismatch=0; total_ledger_bad=0
for run in $(seq 1 "$runs"); do
  mode=$(( (run - 1) % 3 ))
  dir="$WORK/crash/run$run"; mkdir -p "$dir"
  # -T bounds the load if the kill never came; the kill comes after 1..max_load s.
  pgbench -n -c "$clients" -j 2 -T 60 --max-tries=20 -l --log-prefix="$dir/log" "${scripts[@]}" app \
    >"$dir/pgbench.out" 2>&1 &
  bench_pid=$!
  sleep "$(( 1 + RANDOM % max_load )).$(( RANDOM % 10 ))"
  pm=$(pm_pid)
  case $mode in
    0) kill -KILL "$pm"; pkill -KILL -P "$pm" ;;
    1) victim=$(q -d postgres -c "SELECT pid FROM pg_stat_activity WHERE datname = 'app' AND backend_type = 'client backend' ORDER BY random() LIMIT 1")
       [[ -n "$victim" ]] && kill -KILL "$victim" ;;
    2) (q -d postgres -c CHECKPOINT >/dev/null 2>&1 &); sleep 0.05; kill -KILL "$pm"; pkill -KILL -P "$pm" ;;
  esac
  wait "$bench_pid" 2>/dev/null
  bench_pid=""
  if [[ $mode != 1 ]]; then
    wait "$server_pid" 2>/dev/null   # reap it
    start_server
  fi
  if ! wait_ready; then fail "crash.run$run.restarts" "server not back after '${kill_modes[$mode]}'"; continue; fi
  pass "crash.run$run.restarts"
  # The client ledger: transactions pgbench saw acknowledged, per client and script.
  cat "$dir"/log* 2>/dev/null | awk '$3 ~ /^[0-9]+$/ { print $1, $4 }' >"$dir/acked"
  acked=$(awk '$2 != 4' "$dir/acked" | wc -l)   # script 4 rolls back
  acked_inserts=$(awk '$2 == 0' "$dir/acked" | wc -l)
  # A load that never ran (pgbench could not connect, every transaction failed)
  # would pass every check below: the load must have had each of its write
  # scripts acknowledged before the kill.
  load=$(awk '{ n[$2]++ } END { printf "%d %d %d %d", n[0], n[1], n[2], n[3] }' "$dir/acked")
  if [[ $load =~ ^[1-9][0-9]*\ [1-9][0-9]*\ [1-9][0-9]*\ [1-9][0-9]*$ ]]; then pass "crash.run$run.load_acknowledged"
  else fail "crash.run$run.load_acknowledged" "acknowledged inserts/updates/deletes/increments: $load; pgbench: $(grep -m2 -iE 'error|fatal' "$dir/pgbench.out" | tr '\n' ' ')"; fi
  total_acked=$((total_acked + acked)); total_acked_inserts=$((total_acked_inserts + acked_inserts))
  awk '$2 == 3 { n[$1]++ } END { for (c in n) print c, n[c] }' "$dir/acked" | sort -n >"$dir/acked_increments"
  q -c "COPY (SELECT client, count(*) FROM view_ledger GROUP BY client ORDER BY client) TO STDOUT" >"$dir/ledger_now"
  # Per client: acknowledged increments (all runs so far) <= ledger rows <= that + one per run.
  cat "$WORK"/crash/run*/acked_increments | awk '{ n[$1] += $2 } END { for (c in n) print c, n[c] }' | sort -n >"$dir/acked_all"
  bad=$(join -a1 -a2 -e 0 -o 0,1.2,2.2 "$dir/acked_all" <(tr '\t' ' ' <"$dir/ledger_now") |
        awk -v runs="$run" '$3 < $2 || $3 > $2 + runs { print "client " $1 ": acked " $2 ", ledger " $3 }')
  if [[ -z "$bad" ]]; then pass "crash.run$run.acknowledged_increments_committed"
  else fail "crash.run$run.acknowledged_increments_committed" "$bad"; total_ledger_bad=$((total_ledger_bad + 1)); fi
  counters=$(q -c "SELECT count(*) FROM posts p WHERE p.title LIKE 'counter-%' AND p.view_count <>
                     (SELECT coalesce(sum(inc), 0) FROM view_ledger l WHERE 'counter-' || l.post_no = p.title)")
  check_eq "crash.run$run.view_counts_equal_committed_increments" 0 "$counters" "posts whose view_count differs from the ledger:"
  read -r rows chain final < <(audit_replay)
  total_audit_rows=$rows
  total_mismatch=$((chain + final))   # the state after the last run covers every run
  check_eq "crash.run$run.audit_replay_matches_posts" "0 0" "$chain $final" "records with a broken chain / a final state differing from posts:"
  check_eq "crash.run$run.no_audit_row_for_rolled_back_changes" "0 0" \
    "$(q -c "SELECT (SELECT count(*) FROM audit_logs WHERE new_data->>'title' LIKE 'rolled-back-%' OR new_data->>'content' = 'never') || ' ' || (SELECT count(*) FROM posts WHERE content = 'never')")" \
    "audit rows / posts of rolled-back changes:"
  audited_inserts=$(q -c "SELECT count(*) FROM audit_logs WHERE table_name = 'posts' AND operation = 'INSERT' AND new_data->>'title' LIKE 'churn-%'")
  if [[ $audited_inserts -ge $total_acked_inserts && $audited_inserts -le $((total_acked_inserts + clients * run)) ]]; then
    pass "crash.run$run.acknowledged_inserts_audited"
  else fail "crash.run$run.acknowledged_inserts_audited" "$total_acked_inserts acknowledged, $audited_inserts audited"; fi
  check_post_counts "crash.run$run.post_counts_exact" app
  figure "run $run (kill: ${kill_modes[$mode]}): $acked transactions acknowledged"
done
figure "crash: $runs runs, $total_acked transactions committed and acknowledged ($(q -c "SELECT count(*) FROM view_ledger") increments in the ledger), $total_audit_rows audit rows checked, $total_mismatch audit mismatches, $total_ledger_bad ledger mismatches"
check_eq crash.no_backend_left_inconsistent 0 "$(grep -c 'PANIC\|could not\s.*invalid' "$cl/server.log" || true)" "PANICs in the server log:"

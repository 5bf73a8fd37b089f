#!/usr/bin/env bash
# What a single-row writer pays for another transaction's bulk change of
# post_counts. One user has N draft posts; one session runs
#   UPDATE posts SET status = 'published' WHERE user_id = <user>   (N rows)
# which folds the first row of each (user_id, status) pair and leaves a delta
# row for every other one. Meanwhile and afterwards, one pgbench client keeps
# inserting single published posts for the same user (each insert folds the
# pair (user, published): it takes the pair's lock and the deltas other
# transactions left). Reports the writer's latency, median and max, in three
# windows: before the bulk UPDATE, while it runs, and the first 10 seconds
# after it committed. A throwaway cluster (scripts/cluster); the installed
# chronicle.so is measured (make install first).
#
#   bench/fold_latency.sh [rows=100000]
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-100000}
dir=$(mktemp -d /tmp/fold-latency-XXXXXX)
scripts/cluster start "$dir" >/dev/null
trap 'scripts/cluster stop "$dir"' EXIT
# shellcheck disable=SC1091
source "$dir/env"
export PGOPTIONS="-c client_min_messages=warning"
sql() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }
user=00000000-0000-4000-8000-0000000000f1

sql -c "CREATE EXTENSION chronicle" >/dev/null
sql >/dev/null <<SQL
INSERT INTO users (id, email, name, password_hash) VALUES ('$user', 'bulk@example.com', 'Bulk', 'x');
INSERT INTO posts (user_id, title, content, status)
SELECT '$user', 'post ' || i, 'body', 'draft' FROM generate_series(1, $rows) AS i;
VACUUM ANALYZE;
SQL
cat >"$dir/writer.sql" <<SQL
INSERT INTO posts (user_id, title, content, status) VALUES ('$user', 'single', 'c', 'published');
SQL

now() { date +%s.%N; }
bulk_started=0 bulk_ended=0
duration_before=5 duration_after=10
# With job control on, the background pgbench does not ignore SIGINT, which
# makes it stop and write out its log.
set -m
(cd "$dir" && exec pgbench -n -c 1 -T 100000 -l --log-prefix=writer -f writer.sql >"$dir/pgbench.out" 2>&1) &
writer=$!
set +m
sleep "$duration_before"
bulk_started=$(now)
sql -c "UPDATE posts SET status = 'published' WHERE user_id = '$user' AND status = 'draft'"
bulk_ended=$(now)
sleep "$duration_after"
kill -INT "$writer" 2>/dev/null || true
wait "$writer" 2>/dev/null || true

# The deltas still waiting (readers add them up) and the counts: still exact.
read -r left exact < <(psql -X -qAt -F ' ' -c "SELECT (SELECT count(*) FROM post_count_deltas),
    (SELECT post_count FROM post_counts WHERE user_id = '$user' AND status = 'published')
      = (SELECT count(*) FROM posts WHERE user_id = '$user' AND status = 'published')")

# pgbench -l lines: client transaction latency_us script epoch_s epoch_us (in order).
cat "$dir"/writer.* | awk -v s="$bulk_started" -v e="$bulk_ended" -v after="$duration_after" '
  { t = $5 + $6 / 1e6; w = (t < s) ? "before" : (t <= e) ? "during" : (t <= e + after) ? "after" : "";
    if (w != "") print w, $3 / 1000.0 }' >"$dir/latencies"
for w in before during after; do
  awk -v w="$w" '$1 == w { print $2 }' "$dir/latencies" | sort -g |
    awk -v w="$w" '{ v[NR] = $1 } END {
      if (NR == 0) { printf "%-7s no transactions\n", w; exit }
      p = int(NR * 0.99); if (p < 1) p = 1
      printf "%-7s %6d single-row writes  median %7.3f ms  p99 %8.3f ms  max %9.3f ms\n", w, NR,
             v[int((NR + 1) / 2)], v[p], v[NR] }'
done
awk '$1 == "after" { print "first write after the bulk UPDATE committed: " $2 " ms"; exit }' "$dir/latencies"
awk -v r="$rows" -v s="$bulk_started" -v e="$bulk_ended" -v l="$left" -v x="$exact" 'BEGIN {
  printf "bulk UPDATE of %d rows: %.1f s; deltas left after the run: %s; counts exact: %s\n", r, e - s, l, x }'

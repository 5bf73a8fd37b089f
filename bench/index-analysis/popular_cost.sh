#!/usr/bin/env bash
# What 1.2's HOT views cost get_popular_posts: 1.1 reads the date range
# index-only (idx_posts_published_popular holds view_count); 1.2 reads it from
# idx_posts_published_at and fetches view_count from the table.
# Against the cluster of the environment (source DIR/env); makes and drops its
# own two databases.  ./popular_cost.sh [rounds=3] [seconds=5]
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-3}; secs=${2:-5}
trap 'psql -Xq -d postgres -c "DROP DATABASE IF EXISTS popular_11" -c "DROP DATABASE IF EXISTS popular_12"' EXIT
for v in 11 12; do
  db=popular_$v
  psql -Xq -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
  psql -Xq -d $db -c "CREATE EXTENSION chronicle VERSION '${v:0:1}.${v:1:1}'"
  psql -Xq -d $db -v users=2000 -v posts=100000 -v heavy_posts=20000 -f bench/load_posts.sql >/dev/null
  psql -XAt -d $db -c "SELECT ddl FROM pending_migration_steps()" | while read -r ddl; do psql -Xq -d $db -c "$ddl"; done
  psql -Xq -d $db -c "VACUUM ANALYZE"
done
script=$(mktemp)
for d in 7 30; do
  echo "SELECT * FROM get_popular_posts($d, 10);" > "$script"
  echo "days=$d: $(psql -XAt -d popular_12 -c "SELECT count(*) FROM posts WHERE status = 'published'
          AND published_at >= CURRENT_TIMESTAMP - make_interval(days => $d)") posts in range"
  for r in $(seq "$rounds"); do
    for v in 11 12; do
      echo "  round $r, 1.${v:1:1}: $(pgbench -n -f "$script" -T "$secs" popular_$v 2>/dev/null | awk '/^tps/ {print $3}') calls/s"
    done
  done
done
rm -f "$script"

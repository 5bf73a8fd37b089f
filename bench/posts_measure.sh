#!/usr/bin/env bash
# Measures the posts API on the data set of bench/load_posts.sql (run it first,
# defaults: 1,000,000 posts, user 00000000-0000-4000-8000-000000000001 with
# 200,000 of them): execution time (median of EXPLAIN ANALYZE runs) and buffers
# of each function and of the reference's PL/pgSQL get_user_posts; then each
# function against the best hand-written prepared query for the same result,
# side by side with pgbench; then increment_post_views against a plain UPDATE.
#
#   bench/posts_measure.sh [SECONDS per pgbench run, default 10] [RUNS, default 20]
#
# Against the database in the environment (PGHOST, PGPORT, PGDATABASE), as a
# superuser (the hand-written total_count reads post_counts directly).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
runs=${2:-20}
heavy=00000000-0000-4000-8000-000000000001
work=$(mktemp -d /tmp/posts-measure-XXXXXX)
trap 'rm -rf "$work"' EXIT
schema=$(psql -qXAt -c "SELECT quote_ident(n.nspname) FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'chronicle'")
export PGOPTIONS="-c search_path=$schema -c max_parallel_workers_per_gather=0"
# The reference's PL/pgSQL get_user_posts from bench/reference/functions.sql (its one copy, the
# baseline bench/run measures too), created as reference.get_user_posts reading chronicle's posts.
reference_fn=$(sed -n '/^CREATE FUNCTION public\.get_user_posts(/,/^\$\$ LANGUAGE plpgsql STABLE;$/p' \
                 bench/reference/functions.sql |
               sed 's/^CREATE FUNCTION public\.get_user_posts(/CREATE FUNCTION reference.get_user_posts(/;
                    s/FROM public\.posts p$/FROM '"$schema"'.posts p/')
if ! grep -q "FROM $schema.posts p\$" <<<"$reference_fn"; then
  echo "posts_measure.sh: get_user_posts not found in bench/reference/functions.sql" >&2; exit 1
fi
psql -qX -v ON_ERROR_STOP=1 -c "SET client_min_messages = warning" -c "CREATE SCHEMA IF NOT EXISTS reference" \
  -c "DROP FUNCTION IF EXISTS reference.get_user_posts(uuid, varchar, int, int)" -c "$reference_fn" >/dev/null

# The cursor of page 10,000 (10 rows a page): the next_cursor after 99,990 rows.
cursor=$(psql -qXAt -c "SELECT next_cursor FROM get_user_posts_keyset('$heavy', 'published', 99990) LIMIT 1")
echo "== execution time (median of $runs EXPLAIN ANALYZE runs unless noted) and buffers, user with 200,000 posts"
psql -qX -v ON_ERROR_STOP=1 -v cursor="$cursor" -v runs="$runs" <<SQL
CREATE FUNCTION pg_temp.measure(sql text, runs int, OUT median_ms numeric, OUT min_ms numeric, OUT buffers bigint)
LANGUAGE plpgsql AS \$\$
DECLARE
    plan jsonb;
    times numeric[] := '{}';
BEGIN
    EXECUTE sql;  -- warm: plans prepared, pages cached
    FOR i IN 1..runs LOOP
        EXECUTE 'EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ' || sql INTO plan;
        times := times || (plan -> 0 ->> 'Execution Time')::numeric;
        buffers := (plan -> 0 -> 'Plan' ->> 'Shared Hit Blocks')::bigint + (plan -> 0 -> 'Plan' ->> 'Shared Read Blocks')::bigint;
    END LOOP;
    SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY t)::numeric(10, 3), min(t)::numeric(10, 3) INTO median_ms, min_ms
      FROM unnest(times) t;
END
\$\$;
SELECT what, runs, m.median_ms, m.min_ms, m.buffers
  FROM (VALUES
    ('get_user_posts_keyset page 1', \$q\$SELECT * FROM get_user_posts_keyset('$heavy')\$q\$, :runs),
    ('get_user_posts_keyset page 10,000', format(\$q\$SELECT * FROM get_user_posts_keyset('$heavy', 'published', 10, %L)\$q\$, :'cursor'), :runs),
    ('get_user_posts offset 0', \$q\$SELECT * FROM get_user_posts('$heavy')\$q\$, :runs),
    ('get_user_posts offset 100,000', \$q\$SELECT * FROM get_user_posts('$heavy', 'published', 10, 100000)\$q\$, :runs),
    ('get_user_posts NULL status offset 0', \$q\$SELECT * FROM get_user_posts('$heavy', NULL)\$q\$, :runs),
    ('get_popular_posts()', \$q\$SELECT * FROM get_popular_posts()\$q\$, :runs),
    ('reference get_user_posts offset 0', \$q\$SELECT * FROM reference.get_user_posts('$heavy')\$q\$, 5),
    ('reference get_user_posts offset 100,000', \$q\$SELECT * FROM reference.get_user_posts('$heavy', 'published', 10, 100000)\$q\$, 5)
  ) AS c(what, sql, runs), LATERAL pg_temp.measure(c.sql, c.runs) m;
SELECT (SELECT min(total_count) FROM get_user_posts('$heavy')) AS total_count,
       (SELECT count(*) FROM posts WHERE user_id = '$heavy' AND status = 'published') AS counted;
SQL

# --- pgbench, side by side ---------------------------------------------------
bench() {  # label, clients, script text
  local label=$1 clients=$2
  printf '%s\n' "$3" >"$work/script.sql"
  local tps
  tps=$(pgbench -n -M prepared -c "$clients" -j "$clients" -T "$seconds" -D heavy="$heavy" -D cursor="$cursor" \
        -f "$work/script.sql" 2>&1 | awk -F'= ' '/^tps/ {print $2}' | cut -d' ' -f1)
  if [[ -z $tps ]]; then printf '  %-58s pgbench failed\n' "$label"; return; fi
  printf '  %-58s %10.1f tps\n' "$label" "$tps"
}
cols="p.id, p.title, p.content, p.status, p.published_at, p.view_count"
order="ORDER BY p.published_at DESC NULLS LAST, p.created_at DESC, p.id DESC"
echo "== pgbench -M prepared, 1 client, ${seconds} s each (native function, then the best hand-written query)"
bench "get_user_posts offset 0" 1 "SELECT * FROM get_user_posts(:heavy);"
bench "  hand-written: index page + post_counts lookup" 1 \
  "SELECT $cols, (SELECT c.post_count FROM post_counts c WHERE c.user_id = :heavy AND c.status = 'published') FROM posts p WHERE p.user_id = :heavy AND p.status = 'published' $order LIMIT 10;"
bench "get_user_posts offset 100,000" 1 "SELECT * FROM get_user_posts(:heavy, 'published', 10, 100000);"
# The best single statement: the boundary key from an index-only walk, then a
# LATERAL page whose row comparison becomes an index condition (a plain join
# leaves it a join filter, and a plain OFFSET gets a bitmap scan and a sort of
# all 160,000 rows).
bench "  hand-written: index-only boundary + LATERAL page + post_counts" 1 \
  "SELECT p.id, p.title, p.content, p.status, p.published_at, p.view_count, (SELECT c.post_count FROM post_counts c WHERE c.user_id = :heavy AND c.status = 'published') FROM (SELECT b.published_at, b.created_at, b.id FROM posts b WHERE b.user_id = :heavy AND b.status = 'published' ORDER BY b.published_at DESC NULLS LAST, b.created_at DESC, b.id DESC OFFSET 100000 LIMIT 1) k CROSS JOIN LATERAL (SELECT * FROM posts p WHERE p.user_id = :heavy AND p.status = 'published' AND (p.published_at, p.created_at, p.id) <= (k.published_at, k.created_at, k.id) $order LIMIT 10) p;"
bench "  hand-written: plain OFFSET + post_counts" 1 \
  "SELECT $cols, (SELECT c.post_count FROM post_counts c WHERE c.user_id = :heavy AND c.status = 'published') FROM posts p WHERE p.user_id = :heavy AND p.status = 'published' $order LIMIT 10 OFFSET 100000;"
bench "get_user_posts_keyset page 10,000" 1 "SELECT * FROM get_user_posts_keyset(:heavy, 'published', 10, :cursor);"
IFS='|' read -r pa ca id <<<"$(psql -qXAt -F'|' -c "SELECT quote_literal(p.published_at), quote_literal(p.created_at), p.id FROM posts p WHERE p.id = (SELECT g.id FROM get_user_posts('$heavy', 'published', 1, 99990) g)")"
bench "  hand-written: keyset page of 11 rows (no cursor signing)" 1 \
  "SELECT $cols, p.created_at FROM posts p WHERE p.user_id = :heavy AND p.status = 'published' AND (p.published_at, p.created_at, p.id) <= ($pa::timestamp, $ca::timestamp, '$id'::uuid) $order LIMIT 11;"
bench "get_popular_posts()" 1 "SELECT * FROM get_popular_posts();"
bench "  hand-written: the same query" 1 \
  "SELECT p.id, p.title, p.view_count, u.name, p.published_at FROM posts p JOIN users u ON u.id = p.user_id WHERE p.status = 'published' AND p.published_at >= CURRENT_TIMESTAMP - interval '7 days' AND u.deleted_at IS NULL ORDER BY p.view_count DESC, p.id DESC LIMIT 10;"

echo "== increment_post_views vs a plain UPDATE, 2 clients x ${seconds} s on one post"
post=$(psql -qXAt -c "SELECT id FROM posts WHERE user_id = '$heavy' AND status = 'published' LIMIT 1")
for kind in function update; do
  if [[ $kind == function ]]; then sql="SELECT increment_post_views('$post');"
  else sql="UPDATE posts SET view_count = view_count + 1 WHERE id = '$post' AND status = 'published' RETURNING view_count;"; fi
  printf '%s\n' "$sql" >"$work/inc.sql"
  before=$(psql -qXAt -c "SELECT view_count FROM posts WHERE id = '$post'")
  out=$(pgbench -n -M prepared -c 2 -j 2 -T "$seconds" -f "$work/inc.sql" 2>&1)
  after=$(psql -qXAt -c "SELECT view_count FROM posts WHERE id = '$post'")
  done_tx=$(awk -F': ' '/actually processed/ {print $2}' <<<"$out" | cut -d/ -f1)
  tps=$(awk -F'= ' '/^tps/ {print $2}' <<<"$out" | cut -d' ' -f1)
  printf '  %-10s %10.1f tps, %s committed, view_count +%s (%s)\n' "$kind" "$tps" "$done_tx" "$((after - before))" \
    "$([[ $((after - before)) -eq $done_tx ]] && echo exact || echo LOST)"
done

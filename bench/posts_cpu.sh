#!/usr/bin/env bash
# Backend CPU time per call (utime + stime of the server process, from /proc),
# native function vs the best hand-written query, each PREPAREd and EXECUTEd N
# times in one session. CPU time is far less disturbed by other load on a shared
# machine than wall-clock tps (it still feels cache effects). Needs the server on
# this machine and /proc access to its processes (root or the server's user).
#
#   bench/posts_cpu.sh [N, default 5000]     (database: the one in the environment,
#                                            loaded by bench/load_posts.sql)
set -euo pipefail
n=${1:-5000}
heavy=00000000-0000-4000-8000-000000000001
work=$(mktemp -d /tmp/posts-cpu-XXXXXX)
trap 'rm -rf "$work"' EXIT
schema=$(psql -qXAt -c "SELECT quote_ident(n.nspname) FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'chronicle'")
export PGOPTIONS="-c search_path=$schema -c max_parallel_workers_per_gather=0"
cursor=$(psql -qXAt -c "SELECT next_cursor FROM get_user_posts_keyset('$heavy', 'published', 99990) LIMIT 1")
IFS='|' read -r pa ca id <<<"$(psql -qXAt -F'|' -c "SELECT quote_literal(p.published_at), quote_literal(p.created_at), p.id FROM posts p WHERE p.id = (SELECT g.id FROM get_user_posts('$heavy', 'published', 1, 99990) g)")"
cols="p.id, p.title, p.content, p.status, p.published_at, p.view_count"
order="ORDER BY p.published_at DESC NULLS LAST, p.created_at DESC, p.id DESC"
count="(SELECT c.post_count FROM post_counts c WHERE c.user_id = \$1 AND c.status = 'published')"

# cpu_us LABEL TIMES PREPARE-TEXT: microseconds of backend CPU per EXECUTE.
cpu_us() {
  local label=$1 times=$2 prepare=$3
  { echo "PREPARE q(uuid, text) AS $prepare;"
    echo "EXECUTE q('$heavy', '$cursor');"   # warm: plan, caches
    echo "SELECT pg_backend_pid() AS pid \\gset"
    echo "\\setenv BACKEND_PID :pid"
    echo "\\! cat /proc/\$BACKEND_PID/stat > $work/before"
    for _ in $(seq 1 "$times"); do echo "EXECUTE q('$heavy', '$cursor');"; done
    echo "\\! cat /proc/\$BACKEND_PID/stat > $work/after"
  } >"$work/script.sql"
  psql -qX -v ON_ERROR_STOP=1 -o /dev/null -f "$work/script.sql"
  local b a
  b=$(awk '{print $14 + $15}' "$work/before"); a=$(awk '{print $14 + $15}' "$work/after")
  printf '  %-62s %8.1f us/call\n' "$label" "$(echo "($a - $b) * 1000000 / $(getconf CLK_TCK) / $times" | bc -l)"
}

echo "== backend CPU per call, $n calls each (user with 200,000 posts)"
cpu_us "get_user_posts offset 0" "$n" "SELECT * FROM get_user_posts(\$1)"
cpu_us "  hand-written: index page + post_counts" "$n" \
  "SELECT $cols, $count FROM posts p WHERE p.user_id = \$1 AND p.status = 'published' $order LIMIT 10"
cpu_us "get_user_posts_keyset page 10,000" "$n" "SELECT * FROM get_user_posts_keyset(\$1, 'published', 10, \$2)"
cpu_us "  hand-written: keyset page of 11 rows (no cursor signing)" "$n" \
  "SELECT $cols, p.created_at FROM posts p WHERE p.user_id = \$1 AND p.status = 'published' AND (p.published_at, p.created_at, p.id) <= ($pa::timestamp, $ca::timestamp, '$id'::uuid) $order LIMIT 11"
cpu_us "get_user_posts offset 100,000" 50 "SELECT * FROM get_user_posts(\$1, 'published', 10, 100000)"
cpu_us "  hand-written: index-only boundary + LATERAL page + post_counts" 50 \
  "SELECT p.id, p.title, p.content, p.status, p.published_at, p.view_count, $count FROM (SELECT b.published_at, b.created_at, b.id FROM posts b WHERE b.user_id = \$1 AND b.status = 'published' ORDER BY b.published_at DESC NULLS LAST, b.created_at DESC, b.id DESC OFFSET 100000 LIMIT 1) k CROSS JOIN LATERAL (SELECT * FROM posts p WHERE p.user_id = \$1 AND p.status = 'published' AND (p.published_at, p.created_at, p.id) <= (k.published_at, k.created_at, k.id) $order LIMIT 10) p"
cpu_us "get_popular_posts()" 200 "SELECT * FROM get_popular_posts()"
cpu_us "  hand-written: the same query" 200 \
  "SELECT p.id, p.title, p.view_count, u.name, p.published_at FROM posts p JOIN users u ON u.id = p.user_id WHERE p.status = 'published' AND p.published_at >= CURRENT_TIMESTAMP - interval '7 days' AND u.deleted_at IS NULL ORDER BY p.view_count DESC, p.id DESC LIMIT 10"

#!/usr/bin/env bash
# Concurrency proofs for the posts API, with pgbench:
#  1. increment_post_views: CLIENTS clients on ONE post for SECONDS seconds; the
#     final view_count must equal the start plus the transactions pgbench saw
#     commit, with no failed transaction (no deadlock, no lost update).
#  2. post_counts (get_user_posts' total_count): CLIENTS clients insert, delete,
#     change the status of and move posts between 4 users at random (single
#     statements and multi-statement transactions touching several users in
#     either order) for SECONDS seconds, with no deadlock; then post_counts must equal a real
#     count(*) per (user_id, status), and total_count must equal it too.
#
#   bench/posts_concurrency.sh [CLIENTS] [SECONDS]      (default 4 clients, 10 s)
#
# Runs against the database in the environment (PGHOST/PGPORT/PGDATABASE), in
# which chronicle is installed; it creates and then removes its own users.
set -euo pipefail
clients=${1:-4}
seconds=${2:-10}
work=$(mktemp -d /tmp/posts-concurrency-XXXXXX)
trap 'rm -rf "$work"; psql -qX -c "DELETE FROM users WHERE email LIKE '"'"'conc-posts-%'"'"'" >/dev/null 2>&1 || true' EXIT
schema=$(psql -qXAt -c "SELECT quote_ident(n.nspname) FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'chronicle'")
[[ -n $schema ]] || { echo "chronicle is not installed in this database" >&2; exit 2; }
export PGOPTIONS="-c search_path=$schema"
failures=0

psql -qX -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
DELETE FROM users WHERE email LIKE 'conc-posts-%';
INSERT INTO users (id, email, name, password_hash)
SELECT ('c0000000-0000-4000-8000-' || lpad(to_hex(i), 12, '0'))::uuid, 'conc-posts-' || i || '@example.com', 'Conc ' || i, 'x'
  FROM generate_series(1, 4) AS i;
INSERT INTO posts (id, user_id, title, content, status)
VALUES ('c1000000-0000-4000-8000-000000000001', 'c0000000-0000-4000-8000-000000000001', 'hot', 'c', 'published');
INSERT INTO posts (user_id, title, content, status)
SELECT ('c0000000-0000-4000-8000-' || lpad(to_hex(1 + i % 4), 12, '0'))::uuid, 'seed ' || i, 'c',
       (ARRAY['draft', 'published', 'archived'])[1 + i % 3]
  FROM generate_series(1, 200) AS i;
SQL

# pgbench prints "number of failed transactions" only when some can be retried;
# a client that hits any error stops and pgbench exits non-zero.
run_pgbench() {  # name, pgbench arguments...
  local name=$1; shift
  if ! pgbench -n -c "$clients" -j "$clients" -T "$seconds" "$@" >"$work/$name.out" 2>"$work/$name.err"; then
    echo "FAIL: $name: pgbench reported errors:"; grep -m5 -i "error\|abort" "$work/$name.err" || true
    failures=$((failures + 1))
  fi
  grep -E "^number of transactions actually processed" "$work/$name.out" | awk -F': ' '{print $2}' | cut -d/ -f1
}

# --- 1. one hot counter -------------------------------------------------------
echo "SELECT increment_post_views('c1000000-0000-4000-8000-000000000001');" >"$work/increment.sql"
before=$(psql -qXAt -c "SELECT view_count FROM posts WHERE id = 'c1000000-0000-4000-8000-000000000001'")
committed=$(run_pgbench increment -f "$work/increment.sql")
after=$(psql -qXAt -c "SELECT view_count FROM posts WHERE id = 'c1000000-0000-4000-8000-000000000001'")
deadlocks=$(grep -ci deadlock "$work/increment.err" || true)
echo "increment_post_views, $clients clients x ${seconds}s on one post: $committed committed calls, view_count $before -> $after, $deadlocks deadlock(s)"
if [[ $((after - before)) -ne $committed ]]; then echo "FAIL: view_count grew by $((after - before)), not $committed"; failures=$((failures + 1)); fi

# --- 2. post_counts under mixed writers ----------------------------------------
cat >"$work/insert.sql" <<'SQL'
\set u random(1, 4)
\set s random(1, 3)
INSERT INTO posts (user_id, title, content, status)
VALUES (('c0000000-0000-4000-8000-00000000000' || :u)::uuid, 'w', 'c', (ARRAY['draft', 'published', 'archived'])[:s]);
SQL
cat >"$work/delete.sql" <<'SQL'
\set u random(1, 4)
DELETE FROM posts WHERE id = (SELECT id FROM posts WHERE user_id = ('c0000000-0000-4000-8000-00000000000' || :u)::uuid
                                AND title <> 'hot' ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED);
SQL
cat >"$work/status.sql" <<'SQL'
\set u random(1, 4)
\set s random(1, 3)
UPDATE posts SET status = (ARRAY['draft', 'published', 'archived'])[:s]
 WHERE id = (SELECT id FROM posts WHERE user_id = ('c0000000-0000-4000-8000-00000000000' || :u)::uuid
               AND title <> 'hot' ORDER BY random() LIMIT 1 FOR UPDATE SKIP LOCKED);
SQL
cat >"$work/move.sql" <<'SQL'
\set u random(1, 4)
\set v random(1, 4)
UPDATE posts SET user_id = ('c0000000-0000-4000-8000-00000000000' || :v)::uuid
 WHERE id = (SELECT id FROM posts WHERE user_id = ('c0000000-0000-4000-8000-00000000000' || :u)::uuid
               AND title <> 'hot' ORDER BY random() LIMIT 1 FOR UPDATE SKIP LOCKED);
SQL
# Several users in one transaction, plus a multi-row statement over every user.
cat >"$work/batch.sql" <<'SQL'
BEGIN;
INSERT INTO posts (user_id, title, content, status)
VALUES ('c0000000-0000-4000-8000-000000000001', 'b', 'c', 'published');
INSERT INTO posts (user_id, title, content, status)
VALUES ('c0000000-0000-4000-8000-000000000003', 'b', 'c', 'draft');
INSERT INTO posts (user_id, title, content, status)
SELECT ('c0000000-0000-4000-8000-00000000000' || (1 + i % 4))::uuid, 'm', 'c', 'archived' FROM generate_series(1, 8) i;
COMMIT;
SQL
# And the opposite order: counting must not make these two deadlock.
cat >"$work/batch_reversed.sql" <<'SQL'
BEGIN;
INSERT INTO posts (user_id, title, content, status)
VALUES ('c0000000-0000-4000-8000-000000000003', 'r', 'c', 'draft');
\sleep 1 ms
INSERT INTO posts (user_id, title, content, status)
VALUES ('c0000000-0000-4000-8000-000000000001', 'r', 'c', 'published');
COMMIT;
SQL
mixed=$(run_pgbench mixed -f "$work/insert.sql@4" -f "$work/delete.sql@3" -f "$work/status.sql@3" \
        -f "$work/move.sql@2" -f "$work/batch.sql@1" -f "$work/batch_reversed.sql@1")
deadlocks=$(grep -ci deadlock "$work/mixed.err" || true)
read -r exact total_ok rows <<<"$(psql -qXAt -F' ' <<'SQL'
SELECT NOT EXISTS (
         (SELECT user_id, status::text, post_count FROM post_counts WHERE user_id::text LIKE 'c0000000-%'
          EXCEPT SELECT user_id, status::text, count(*) FROM posts WHERE user_id::text LIKE 'c0000000-%' GROUP BY 1, 2)
         UNION ALL
         (SELECT user_id, status::text, count(*) FROM posts WHERE user_id::text LIKE 'c0000000-%' GROUP BY 1, 2
          EXCEPT SELECT user_id, status::text, post_count FROM post_counts WHERE user_id::text LIKE 'c0000000-%')),
       bool_and(coalesce((SELECT min(g.total_count) FROM get_user_posts(u.id, s, 1) g), 0)
                = (SELECT count(*) FROM posts p WHERE p.user_id = u.id AND (s IS NULL OR p.status = s))),
       (SELECT count(*) FROM posts WHERE user_id::text LIKE 'c0000000-%')
  FROM users u, unnest(ARRAY[NULL, 'draft', 'published', 'archived']::varchar[]) AS s
 WHERE u.email LIKE 'conc-posts-%';
SQL
)"
echo "post_counts, $clients clients x ${seconds}s of mixed writes: $mixed committed transactions, $rows posts at the end, $deadlocks deadlock(s), counts exact: $exact, total_count exact: $total_ok"
[[ $exact == t && $total_ok == t ]] || { echo "FAIL: post_counts or total_count differs from count(*)"; failures=$((failures + 1)); }

[[ $failures -eq 0 ]] && echo "posts concurrency: passed" || { echo "posts concurrency: $failures failure(s)"; exit 1; }

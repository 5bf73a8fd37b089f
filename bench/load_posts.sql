-- bench/load_posts.sql: a realistic posts data set for plans and benchmarks.
--
--   psql -X -v ON_ERROR_STOP=1 [-v users=1000] [-v posts=1000000] [-v heavy_posts=200000] \
--        [-v edited=0] -f bench/load_posts.sql
--
-- In a database where chronicle is installed (any schema), as a superuser.
-- EMPTIES users, posts (and audit_logs), then loads:
--   * :users users; user 1 has the fixed id 00000000-0000-4000-8000-000000000001
--     (user i: 00000000-0000-4000-8000-<i in 12 hex digits>) and holds
--     :heavy_posts posts; the other posts are spread evenly over users 2..:users;
--   * statuses ~80% published, 10% draft, 10% archived; published_at spread over
--     the last two years (drafts and archived posts have none); created_at
--     before published_at; view_count 0..9999; ~250 characters of content;
--   * with -v edited=N (default 0): about N posts, every (posts / N)-th, were
--     edited once after they were written: their updated_at is later than
--     created_at (a published one's is its published_at, when it was published;
--     any other's 1-60 minutes after created_at). bench/run writes the audit
--     history of exactly these posts (bench/harness/history.py); every other
--     post has updated_at = created_at.
-- Triggers are off while loading (session_replication_role = replica: no audit
-- rows, no per-row work); post_counts is then recounted with
-- refresh_post_counts(), and VACUUM ANALYZE leaves statistics and a visibility
-- map as a live system would have them. Deterministic apart from the post ids.
\set QUIET on
\if :{?users}
\else
\set users 1000
\endif
\if :{?posts}
\else
\set posts 1000000
\endif
\if :{?heavy_posts}
\else
\set heavy_posts 200000
\endif
\if :{?edited}
\else
\set edited 0
\endif
SELECT CASE WHEN :edited > 0 THEN GREATEST(1, :posts / :edited) ELSE 0 END AS edit_every \gset
SELECT n.nspname AS chronicle_schema FROM pg_catalog.pg_extension e
  JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'chronicle' \gset
SELECT pg_catalog.format('%I', :'chronicle_schema') AS s \gset

BEGIN;
SET LOCAL session_replication_role = replica;
SELECT pg_catalog.setseed(0.42) AS seeded \gset
TRUNCATE :s.posts, :s.users, :s.audit_logs;

INSERT INTO :s.users (id, email, name, password_hash, email_verified, created_at, updated_at)
SELECT ('00000000-0000-4000-8000-' || pg_catalog.lpad(pg_catalog.to_hex(i), 12, '0'))::uuid,
       'user' || i || '@example.com', 'User ' || i, 'x', i % 3 <> 0,
       TIMESTAMP '2024-01-01' + i * INTERVAL '1 minute', TIMESTAMP '2024-01-01' + i * INTERVAL '1 minute'
  FROM pg_catalog.generate_series(1, :users) AS i;

INSERT INTO :s.posts (user_id, title, content, status, published_at, view_count, created_at, updated_at)
SELECT ('00000000-0000-4000-8000-' || pg_catalog.lpad(pg_catalog.to_hex(g.owner), 12, '0'))::uuid,
       'Post ' || g.i,
       pg_catalog.rpad('Post body ' || g.i || '. ', 250, 'lorem ipsum dolor sit amet '),
       g.status,
       CASE WHEN g.status = 'published' THEN g.created_at + INTERVAL '2 hours' END,
       (pg_catalog.random() * 9999)::int,
       g.created_at,
       CASE WHEN :edit_every = 0 OR g.i % GREATEST(:edit_every, 1) <> 0 THEN g.created_at
            WHEN g.status = 'published' THEN g.created_at + INTERVAL '2 hours'
            ELSE g.created_at + (1 + g.i % 60) * INTERVAL '1 minute' END
  FROM (SELECT i,
               CASE WHEN i <= :heavy_posts THEN 1 ELSE 2 + i % (:users - 1) END AS owner,
               CASE WHEN i % 10 < 8 THEN 'published' WHEN i % 10 = 8 THEN 'draft' ELSE 'archived' END AS status,
               pg_catalog.date_trunc('second', LOCALTIMESTAMP - INTERVAL '2 hours'
                   - pg_catalog.random() * INTERVAL '730 days') AS created_at
          FROM pg_catalog.generate_series(1, :posts) AS i) AS g;

SELECT :s.refresh_post_counts() AS recounted \gset
COMMIT;

VACUUM ANALYZE :s.users;
VACUUM ANALYZE :s.posts;
VACUUM ANALYZE :s.post_count_totals, :s.post_count_deltas;
\set QUIET off
SELECT pg_catalog.count(*) AS posts,
       pg_catalog.count(*) FILTER (WHERE status = 'published') AS published,
       pg_catalog.count(*) FILTER (WHERE user_id = '00000000-0000-4000-8000-000000000001') AS heavy_user_posts
  FROM :s.posts;

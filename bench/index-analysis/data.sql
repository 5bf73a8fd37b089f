-- A realistic audit_logs workload, generated in one statement per table
-- rather than through triggers (index maintenance costs the same whoever
-- writes the row). Shape: 2,000 users, 20,000 posts, then :rows audit rows
-- mostly posts UPDATEs (view counts, edits, publishes), some INSERTs and
-- DELETEs and some rows of a second audited table, created_at increasing
-- (append-only), user_id the post's author.
\set ON_ERROR_STOP on
SET synchronous_commit = off;
DROP TABLE IF EXISTS al_src, src_users, src_posts;
SELECT setseed(0.42) \gset
CREATE TABLE src_users AS
SELECT gen_random_uuid() AS id, 'user' || g || '@example.com' AS email, 'User ' || g AS name
  FROM generate_series(1, 2000) g;
CREATE TABLE src_posts AS
SELECT gen_random_uuid() AS id,
       (SELECT id FROM src_users OFFSET (g % 2000) LIMIT 1) AS user_id,
       'Post number ' || g AS title,
       repeat(md5(g::text) || ' ', 5 + g % 20) AS content,
       (ARRAY['draft','published','archived'])[1 + (g % 7 > 1)::int + (g % 7 = 6)::int] AS status,
       g
  FROM generate_series(1, 20000) g;
CREATE INDEX ON src_posts (g);
-- one audit row per i
CREATE TABLE al_src AS
WITH r AS (
  SELECT i, p.*, u.name AS uname, u.email,
         CASE WHEN i <= 20000 THEN 'INSERT'
              WHEN i % 97 = 0 THEN 'DELETE'
              ELSE 'UPDATE' END AS op,
         CASE WHEN i % 10 = 3 THEN 'users' ELSE 'posts' END AS tbl,
         i % 5 AS kind,
         timestamp '2026-01-01' + i * interval '2 seconds' AS ts
    FROM generate_series(1, :rows) i
    JOIN src_posts p ON p.g = 1 + ((i::bigint * 7919) % 20000)
    JOIN src_users u ON u.id = p.user_id
), doc AS (
  SELECT r.*,
    CASE WHEN tbl = 'posts' THEN jsonb_build_object(
        'id', id, 'user_id', user_id, 'title', title, 'content', content, 'status', status,
        'published_at', CASE WHEN status = 'published' THEN ts - interval '3 days' END,
        'view_count', i % 1000, 'created_at', ts - interval '10 days', 'updated_at', ts - interval '1 hour')
    ELSE jsonb_build_object(
        'id', user_id, 'email', email, 'name', uname, 'password_hash', md5(email),
        'email_verified', i % 3 = 0, 'created_at', ts - interval '100 days', 'updated_at', ts - interval '1 hour',
        'deleted_at', NULL, 'created_by', NULL, 'updated_by', NULL) END AS before
  FROM r)
SELECT i AS id, tbl::varchar(50) AS table_name, op::varchar(10) AS operation,
       CASE WHEN tbl = 'posts' THEN id ELSE user_id END AS record_id,
       user_id,
       CASE WHEN op = 'INSERT' THEN NULL ELSE before END AS old_data,
       CASE WHEN op = 'DELETE' THEN NULL
            WHEN op = 'INSERT' THEN before
            WHEN tbl = 'users' THEN before || jsonb_build_object('email_verified', true, 'updated_at', ts)
            WHEN kind IN (0,1,2) THEN before || jsonb_build_object('view_count', i % 1000 + 1, 'updated_at', ts)
            WHEN kind = 3 THEN before || jsonb_build_object('title', title || ' (edited)', 'updated_at', ts)
            ELSE before || jsonb_build_object('status', 'archived', 'published_at', NULL, 'updated_at', ts) END AS new_data,
       CASE WHEN op <> 'UPDATE' THEN '{}'::text[]
            WHEN tbl = 'users' THEN '{email_verified,updated_at}'
            WHEN kind IN (0,1,2) THEN '{view_count,updated_at}'
            WHEN kind = 3 THEN '{title,updated_at}'
            ELSE '{status,published_at,updated_at}' END::text[] AS changed_fields,
       ('10.0.' || (i % 200) || '.' || (i % 250))::inet AS ip_address,
       'Mozilla/5.0 (X11; Linux x86_64) bench/' || (i % 50) AS user_agent,
       ts AS created_at
  FROM doc ORDER BY i;
ANALYZE al_src;
SELECT count(*) AS audit_rows, pg_size_pretty(pg_total_relation_size('al_src')) AS size FROM al_src;

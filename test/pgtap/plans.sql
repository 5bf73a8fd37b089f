-- Query plans on a realistic data set (2,000 users, 20,000 posts, 60,000
-- audit rows): every audit-log query pattern of 1.2, the reference's query
-- patterns and the queries the native functions run use their intended index
-- and read no big table by a Seq Scan. A change that loses an index fails here.
-- The audit patterns are those of MIGRATIONS.md ("Queries on audit_logs");
-- the functions' queries are copied from src/posts/queries.cpp (keep in step).
CREATE EXTENSION IF NOT EXISTS pgtap;
BEGIN;
SELECT plan(37);
\ir include/plans.sql

CREATE SCHEMA app;
CREATE EXTENSION chronicle SCHEMA app;
SET LOCAL search_path = app, public;

-- ---------------------------------------------------------------------------
-- Data: append-only audit rows (2 s apart, ending an hour ago), posts of
-- every status published over the last 60 days, 1% of users deleted, 1%
-- unverified.
-- ---------------------------------------------------------------------------
SELECT setseed(0.5);
INSERT INTO users (id, email, name, password_hash, email_verified, deleted_at)
SELECT md5('u' || g)::uuid, 'user' || g || '@example.com', 'User ' || g, 'h', g % 100 <> 7,
       CASE WHEN g % 100 = 3 THEN LOCALTIMESTAMP END
  FROM generate_series(1, 2000) g;
ALTER TABLE posts DISABLE TRIGGER posts_audit_trigger;
INSERT INTO posts (id, user_id, title, content, status, published_at, view_count, created_at)
SELECT md5('p' || g)::uuid, md5('u' || (1 + g % 2000))::uuid, 'Post ' || g, repeat('text ', 20),
       s.status, CASE WHEN s.status = 'published' THEN LOCALTIMESTAMP - (g % 60) * interval '1 day' END,
       (g * 7919) % 5000, LOCALTIMESTAMP - (g % 90) * interval '1 day'
  FROM generate_series(1, 20000) g,
       LATERAL (SELECT CASE WHEN g % 10 < 7 THEN 'published' WHEN g % 10 < 9 THEN 'draft' ELSE 'archived' END AS status) s;
ALTER TABLE posts ENABLE TRIGGER posts_audit_trigger;
INSERT INTO audit_logs (table_name, operation, record_id, user_id, old_data, new_data, changed_fields, created_at)
SELECT CASE WHEN i % 10 = 0 THEN 'users' ELSE 'posts' END,
       o.op,
       md5('p' || (1 + (i * 7919) % 20000))::uuid,
       md5('u' || (1 + i % 2000))::uuid,
       CASE WHEN o.op <> 'INSERT' THEN jsonb_build_object('title', 'Post ' || i, 'status', 'published') END,
       CASE WHEN o.op <> 'DELETE' THEN jsonb_build_object('title', 'Post ' || i || ' (edited)',
                                                         'status', CASE WHEN i % 20 = 4 THEN 'archived' ELSE 'published' END) END,
       CASE WHEN o.op <> 'UPDATE' THEN '{}'
            WHEN i % 20 = 4 THEN '{status,published_at,updated_at}'
            WHEN i % 20 = 9 THEN '{content,updated_at}'
            ELSE '{title,updated_at}' END::text[],
       LOCALTIMESTAMP - interval '1 hour' - (60000 - i) * interval '2 seconds'
  FROM generate_series(1, 60000) i,
       LATERAL (SELECT CASE WHEN i % 10 = 1 THEN 'INSERT' WHEN i % 97 = 0 THEN 'DELETE' ELSE 'UPDATE' END AS op) o;
ANALYZE users, posts, audit_logs, post_counts;

-- The helper sees what it is asked about.
SELECT ok(EXISTS (SELECT FROM pg_temp.plan_nodes($$SELECT * FROM posts WHERE content = 'x'$$)
                   WHERE node_type = 'Seq Scan' AND relation = 'posts'),
          'plan_nodes shows a Seq Scan where there is no index');
SELECT ok(EXISTS (SELECT FROM pg_temp.plan_nodes($$SELECT * FROM posts WHERE id = md5('p1')::uuid$$)
                   WHERE index_name = 'posts_pkey'),
          'plan_nodes shows the index an Index Scan reads');

-- ---------------------------------------------------------------------------
-- audit_logs
-- ---------------------------------------------------------------------------
SELECT pg_temp.uses_index($$SELECT id, operation, changed_fields FROM audit_logs
    WHERE record_id = md5('p42')::uuid ORDER BY id DESC LIMIT 50$$,
    'idx_audit_record_id', 'every change to record X, newest first');
SELECT pg_temp.no_seq_scan($$SELECT id, operation, changed_fields FROM audit_logs
    WHERE record_id = md5('p42')::uuid ORDER BY id DESC LIMIT 50$$,
    'audit_logs', 'every change to record X, newest first');
SELECT pg_temp.uses_index($$SELECT id, table_name, operation FROM audit_logs
    WHERE user_id = md5('u42')::uuid AND created_at >= LOCALTIMESTAMP - interval '2 days'
      AND created_at < LOCALTIMESTAMP - interval '1 day' ORDER BY created_at DESC$$,
    'idx_audit_user_id', 'changes by user U in a time range');
SELECT pg_temp.no_seq_scan($$SELECT id, table_name, operation FROM audit_logs
    WHERE user_id = md5('u42')::uuid AND created_at >= LOCALTIMESTAMP - interval '2 days'
      AND created_at < LOCALTIMESTAMP - interval '1 day' ORDER BY created_at DESC$$,
    'audit_logs', 'changes by user U in a time range');
SELECT pg_temp.uses_index($$SELECT id, record_id FROM audit_logs WHERE table_name = 'posts' AND operation = 'DELETE'$$,
    'idx_audit_table_operation', 'changes to table T of operation O');
SELECT pg_temp.no_seq_scan($$SELECT id, record_id FROM audit_logs WHERE table_name = 'posts' AND operation = 'DELETE'$$,
    'audit_logs', 'changes to table T of operation O');
SELECT pg_temp.uses_index($$SELECT id, record_id FROM audit_logs WHERE changed_fields @> '{content}'$$,
    'idx_audit_changed_fields', 'changes where field F changed');
SELECT pg_temp.no_seq_scan($$SELECT id, record_id FROM audit_logs WHERE changed_fields @> '{content}'$$,
    'audit_logs', 'changes where field F changed');
SELECT pg_temp.uses_index($$SELECT id, record_id FROM audit_logs
    WHERE changed_fields @> '{status}' AND new_data @> '{"status": "archived"}'$$,
    'idx_audit_changed_fields', 'changes that set field F to v');
SELECT pg_temp.no_seq_scan($$SELECT id, record_id FROM audit_logs
    WHERE changed_fields @> '{status}' AND new_data @> '{"status": "archived"}'$$,
    'audit_logs', 'changes that set field F to v');
SELECT pg_temp.uses_index($$SELECT id, table_name, operation FROM audit_logs
    WHERE created_at >= LOCALTIMESTAMP - interval '3 hours' AND created_at < LOCALTIMESTAMP - interval '2 hours'$$,
    'idx_audit_created_at_brin', 'changes in a time window');
SELECT pg_temp.no_seq_scan($$SELECT id, table_name, operation FROM audit_logs
    WHERE created_at >= LOCALTIMESTAMP - interval '3 hours' AND created_at < LOCALTIMESTAMP - interval '2 hours'$$,
    'audit_logs', 'changes in a time window');
SELECT pg_temp.uses_index($$SELECT id, table_name, operation FROM audit_logs ORDER BY id DESC LIMIT 50$$,
    'audit_logs_pkey', 'recent changes, newest first');
SELECT pg_temp.uses_index($$SELECT id, operation FROM audit_logs WHERE changed_fields @> '{title}' ORDER BY id DESC LIMIT 50$$,
    'audit_logs_pkey', 'latest changes of a common field, newest first');

-- ---------------------------------------------------------------------------
-- The reference's query patterns (reference.md: Index Strategy, Query
-- Optimization, Example 3)
-- ---------------------------------------------------------------------------
SELECT pg_temp.uses_index($$SELECT * FROM posts WHERE user_id = md5('u42')::uuid AND status = 'published'
    ORDER BY created_at DESC LIMIT 10$$,
    ARRAY['idx_posts_user_status_date', 'idx_posts_user_status_order', 'idx_posts_covering_list', 'idx_posts_user_status_covering'],
    'a user''s published posts, newest first (Example 3)');
SELECT pg_temp.no_seq_scan($$SELECT p.*, u.name AS author_name FROM posts p JOIN users u ON p.user_id = u.id
    WHERE p.user_id = md5('u42')::uuid AND p.status = 'published' ORDER BY p.created_at DESC LIMIT 10$$,
    'posts', 'published posts with author info (Example 3)');
SELECT pg_temp.no_seq_scan($$SELECT p.*, u.name AS author_name FROM posts p JOIN users u ON p.user_id = u.id
    WHERE p.user_id = md5('u42')::uuid AND p.status = 'published' ORDER BY p.created_at DESC LIMIT 10$$,
    'users', 'published posts with author info (Example 3)');
SELECT pg_temp.uses_index($$SELECT id FROM users WHERE email = 'user42@example.com' AND deleted_at IS NULL$$,
    ARRAY['idx_users_email_unique', 'idx_users_email'], 'an active user by email (login)');
SELECT pg_temp.uses_index($$SELECT id FROM users WHERE email = 'user42@example.com'$$,
    'idx_users_email', 'any user by email, deleted ones too');
SELECT pg_temp.uses_index($$SELECT id FROM users WHERE deleted_at IS NOT NULL$$,
    'idx_users_deleted_at', 'soft-deleted users');
SELECT pg_temp.uses_index($$SELECT id FROM users WHERE email_verified = false$$,
    'idx_users_email_verified', 'unverified users');
SELECT pg_temp.uses_index($$SELECT id FROM users ORDER BY created_at DESC LIMIT 20$$,
    'idx_users_created_at', 'newest users');
SELECT pg_temp.uses_index($$SELECT id FROM posts WHERE lower(title) = 'post 42'$$,
    'idx_posts_title_lower', 'case-insensitive title search');
SELECT pg_temp.uses_index($$SELECT id, published_at FROM posts WHERE status = 'published'
    ORDER BY published_at DESC LIMIT 10$$,
    'idx_posts_status_published', 'latest published posts');
SELECT pg_temp.no_seq_scan($$DELETE FROM posts WHERE user_id = md5('u42')::uuid$$,
    'posts', 'a user''s posts (the foreign key''s ON DELETE CASCADE) without idx_posts_user_id');

-- ---------------------------------------------------------------------------
-- The queries the native functions run (src/posts/queries.cpp), as saved
-- plans run them: generic plans
-- ---------------------------------------------------------------------------
SET LOCAL plan_cache_mode = force_generic_plan;
PREPARE increment(uuid, int) AS
    UPDATE app.posts SET view_count = view_count + $2 WHERE id = $1 AND status = 'published' RETURNING view_count;
SELECT pg_temp.uses_index($$EXECUTE increment(md5('p1')::uuid, 1)$$, 'posts_pkey', 'increment_post_views');
PREPARE soft_delete(uuid, uuid) AS
    UPDATE app.users SET deleted_at = CURRENT_TIMESTAMP, updated_by = $2 WHERE id = $1 AND deleted_at IS NULL;
SELECT pg_temp.uses_index($$EXECUTE soft_delete(md5('u1')::uuid, NULL)$$, 'users_pkey', 'soft_delete_user');
PREPARE count_status(uuid, varchar) AS
    SELECT c.post_count FROM app.post_counts c WHERE c.user_id = $1 AND c.status = $2;
SELECT pg_temp.uses_index($$EXECUTE count_status(md5('u1')::uuid, 'published')$$, 'post_counts_pkey',
    'get_user_posts: total_count of one status');
PREPARE count_all(uuid) AS
    SELECT sum(c.post_count)::int8 FROM app.post_counts c WHERE c.user_id = $1;
SELECT pg_temp.uses_index($$EXECUTE count_all(md5('u1')::uuid)$$, 'post_counts_pkey',
    'get_user_posts: total_count of every status');
PREPARE boundary_status(uuid, varchar, int) AS
    SELECT p.published_at, p.created_at, p.id FROM app.posts p WHERE p.user_id = $1 AND p.status = $2
     ORDER BY p.published_at DESC NULLS LAST, p.created_at DESC, p.id DESC OFFSET $3 LIMIT 1;
SELECT pg_temp.uses_index($$EXECUTE boundary_status(md5('u1')::uuid, 'published', 5)$$, 'idx_posts_user_status_order',
    'get_user_posts: the page boundary of one status');
PREPARE boundary_all(uuid, int) AS
    SELECT p.published_at, p.created_at, p.id FROM app.posts p WHERE p.user_id = $1
     ORDER BY p.published_at DESC NULLS LAST, p.created_at DESC, p.id DESC OFFSET $2 LIMIT 1;
SELECT pg_temp.uses_index($$EXECUTE boundary_all(md5('u1')::uuid, 5)$$, 'idx_posts_user_order',
    'get_user_posts: the page boundary of every status');
PREPARE page_status(uuid, varchar, int, timestamp, timestamp, uuid, bool, timestamp, uuid) AS
    (SELECT p.id, p.title, p.content, p.status, p.published_at, p.view_count, p.created_at FROM app.posts p
      WHERE p.user_id = $1 AND p.status = $2 AND NOT $7
        AND ROW(p.published_at, p.created_at, p.id) <= ROW($4, $5, $6)
      ORDER BY p.published_at DESC NULLS LAST, p.created_at DESC, p.id DESC LIMIT $3)
    UNION ALL
    (SELECT p.id, p.title, p.content, p.status, p.published_at, p.view_count, p.created_at FROM app.posts p
      WHERE p.user_id = $1 AND p.status = $2 AND p.published_at IS NULL
        AND ROW(p.created_at, p.id) <= ROW($8, $9)
      ORDER BY p.published_at DESC NULLS LAST, p.created_at DESC, p.id DESC LIMIT $3)
    LIMIT $3;
SELECT pg_temp.uses_index($$EXECUTE page_status(md5('u1')::uuid, 'published', 10, LOCALTIMESTAMP, LOCALTIMESTAMP,
    md5('p1')::uuid, false, LOCALTIMESTAMP, md5('p1')::uuid)$$, 'idx_posts_user_status_order', 'get_user_posts: a page of one status');
SELECT pg_temp.no_seq_scan($$EXECUTE page_status(md5('u1')::uuid, 'published', 10, LOCALTIMESTAMP, LOCALTIMESTAMP,
    md5('p1')::uuid, false, LOCALTIMESTAMP, md5('p1')::uuid)$$, 'posts', 'get_user_posts: a page of one status');
PREPARE popular(int, int) AS
    SELECT p.id, p.title, p.view_count, u.name, p.published_at FROM app.posts p JOIN app.users u ON u.id = p.user_id
     WHERE p.status = 'published' AND p.published_at >= (CURRENT_TIMESTAMP - make_interval(days => $1))
       AND u.deleted_at IS NULL ORDER BY p.view_count DESC, p.id DESC LIMIT $2;
SELECT pg_temp.uses_index($$EXECUTE popular(7, 10)$$, 'idx_posts_status_published', 'get_popular_posts');
SELECT pg_temp.no_seq_scan($$EXECUTE popular(7, 10)$$, 'posts', 'get_popular_posts');

SELECT * FROM finish();
ROLLBACK;

-- Query plans on a realistic data set (2,000 users, 20,000 posts, 60,000
-- audit rows): every audit-log query pattern of 1.2 and the reference's query
-- patterns use their intended index and read no big table by a Seq Scan. A
-- change that loses an index fails here. The audit patterns are those of
-- MIGRATIONS.md ("Queries on audit_logs"); the queries of the native posts
-- functions are asserted by posts_plans.sql on the library's own query texts.
-- The helpers (include/plans.sql) serve any plan test.
CREATE EXTENSION IF NOT EXISTS pgtap;
BEGIN;
SELECT plan(27);
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
-- The reference schema's query patterns (its Index Strategy, Query
-- Optimization, Example 3)
-- ---------------------------------------------------------------------------
SELECT pg_temp.uses_index($$SELECT * FROM posts WHERE user_id = md5('u42')::uuid AND status = 'published'
    ORDER BY created_at DESC LIMIT 10$$,
    ARRAY['idx_posts_user_status_date', 'idx_posts_user_status_order'],
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
    'idx_posts_published_at', 'latest published posts');
SELECT pg_temp.no_seq_scan($$DELETE FROM posts WHERE user_id = md5('u42')::uuid$$,
    'posts', 'a user''s posts (the foreign key''s ON DELETE CASCADE) without idx_posts_user_id');

SELECT * FROM finish();
ROLLBACK;

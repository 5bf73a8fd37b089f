-- Version 1.2: the audit_logs index design, view counts that are not edits,
-- index_report(), and the 1.1 <-> 1.2 steps on a table too big to index
-- inside ALTER EXTENSION. (test/upgrade proves the catalogs; test/pgtap/plans.sql
-- the query plans.)
-- pg_regress feeds the file on stdin, so the path is relative to the working directory.
\i sql/include/catch_error.sql
\pset null '(null)'
CREATE EXTENSION chronicle;

-- ---------------------------------------------------------------------------
-- A fresh 1.2: the indexes are in place at once (small tables: the step built
-- and dropped them itself), so nothing is pending of 1.2's own work.
-- ---------------------------------------------------------------------------
SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
 WHERE i.indrelid = 'audit_logs'::regclass ORDER BY 1;
SELECT count(*) AS user_id_indexes_of_posts FROM pg_index i
 WHERE i.indrelid = 'posts'::regclass AND pg_get_indexdef(i.indexrelid) LIKE '%(user_id)';
SELECT name FROM pending_migration_steps() WHERE name LIKE '%audit%';
-- No index of posts holds view_count, and its pages keep room for new row
-- versions: a view can be a HOT update (no index touched).
SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
 WHERE i.indrelid = 'posts'::regclass ORDER BY 1;
SELECT reloptions FROM pg_class WHERE oid = 'posts'::regclass;
-- post_count_totals' pages are pruned by the next fold of a row on them (the
-- fold reads its row through the versions the last folds left).
SELECT reloptions FROM pg_class WHERE oid = 'post_count_totals'::regclass;

-- ---------------------------------------------------------------------------
-- A view is not an edit: increment_post_views (or an UPDATE that changes
-- view_count alone) keeps updated_at; the count is exact. An UPDATE that changes
-- any other column's value is an edit, as before (sql/views_not_edits.sql has
-- the rule's every case).
-- ---------------------------------------------------------------------------
INSERT INTO users (id, email, name, password_hash)
VALUES ('00000000-0000-4000-8000-000000000001', 'ada@example.com', 'Ada', 'h');
INSERT INTO posts (id, user_id, title, content, status, updated_at)
VALUES ('10000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000001',
        'Hello', 'text', 'published', '2020-01-01');
BEGIN;
SELECT increment_post_views('10000000-0000-4000-8000-000000000001') AS first,
       increment_post_views('10000000-0000-4000-8000-000000000001', 5) AS second;
SELECT pg_stat_get_xact_tuples_updated('posts'::regclass) AS updates,
       pg_stat_get_xact_tuples_hot_updated('posts'::regclass) AS hot_updates;
COMMIT;
UPDATE posts SET view_count = view_count + 10 WHERE id = '10000000-0000-4000-8000-000000000001';
SELECT view_count, updated_at = '2020-01-01' AS updated_at_kept FROM posts;
UPDATE posts SET view_count = view_count + 1, title = 'Hello again' WHERE id = '10000000-0000-4000-8000-000000000001';
SELECT view_count, updated_at > '2020-01-01' AS updated_at_moved FROM posts;
-- Audit rows: the INSERT and the edit, not the three view updates; the edit's
-- row has both changes.
SELECT operation, changed_fields, new_data->>'view_count' AS views FROM audit_logs ORDER BY id;
-- An UPDATE that changes updated_at alone, and a no-op UPDATE, are edits.
UPDATE posts SET updated_at = '2020-01-01';
UPDATE posts SET status = status;
SELECT updated_at > '2020-01-01' AS updated_at_moved FROM posts;
SELECT count(*) AS audit_rows_of_the_two_updates FROM audit_logs
 WHERE operation = 'UPDATE' AND changed_fields <@ '{updated_at}';
DELETE FROM posts;
SELECT operation FROM audit_logs ORDER BY id DESC LIMIT 1;
DELETE FROM users;
DELETE FROM audit_logs;

-- ---------------------------------------------------------------------------
-- "Changes where field F changed" through idx_audit_changed_fields: the GIN
-- keeps new entries in a pending list of at most 64 kB (about 8 pages) and
-- merges them into its tree when a write fills it. Reads see both.
-- ---------------------------------------------------------------------------
INSERT INTO users (id, email, name, password_hash)
VALUES ('00000000-0000-4000-8000-000000000001', 'ada@example.com', 'Ada', 'h');
INSERT INTO posts (user_id, title, content)
SELECT '00000000-0000-4000-8000-000000000001', 'Post ' || g, 'text' FROM generate_series(1, 2000) g;
SELECT gin_clean_pending_list('idx_audit_changed_fields') > 0 AS inserts_were_pending;
-- Ten edits: their entries wait in the list, and the index finds them there.
UPDATE posts SET title = title || ' (edited)' WHERE title LIKE 'Post 1_';
SET enable_seqscan = off;
SELECT count(*) AS title_changes_by_index FROM audit_logs WHERE changed_fields @> '{title}';
RESET enable_seqscan;
SELECT gin_clean_pending_list('idx_audit_changed_fields') > 0 AS edits_were_pending;
SET enable_seqscan = off;
SELECT count(*) AS title_changes_by_index FROM audit_logs WHERE changed_fields @> '{title}';
RESET enable_seqscan;
-- 2,000 UPDATEs of two fields each fill the list several times over; each time
-- the write that filled it merged it, so what is left fits in the limit.
UPDATE posts SET title = title || '!';
SET enable_seqscan = off;
SELECT count(*) AS title_changes_by_index FROM audit_logs WHERE changed_fields @> '{title}';
RESET enable_seqscan;
SELECT count(*) AS title_changes_by_scan FROM audit_logs WHERE changed_fields @> '{title}';
SELECT gin_clean_pending_list('idx_audit_changed_fields') BETWEEN 1 AND 8 AS pending_pages_within_limit;
DELETE FROM posts;
DELETE FROM users;
DELETE FROM audit_logs;

-- ---------------------------------------------------------------------------
-- index_report(): findings for the extension's tables or the whole database
-- ---------------------------------------------------------------------------
SELECT code, message, hint FROM pg_temp.catch_error($$SELECT * FROM index_report('schema')$$);
SELECT code, message FROM pg_temp.catch_error($$SELECT * FROM index_report(NULL)$$);
-- 1.2 itself leaves no redundant, invalid or bloated index behind.
SELECT count(*) AS findings FROM index_report() WHERE finding <> 'unused';
-- A constraint's index is never "unused"; a fresh install's others are.
SELECT count(*) AS constraint_indexes_reported FROM index_report()
 WHERE index_name IN ('users_pkey', 'posts_pkey', 'audit_logs_pkey', 'post_counts_pkey', 'migration_steps_pkey');
-- A prefix of another index is redundant; a failed concurrent build is invalid.
CREATE INDEX posts_by_user ON posts (user_id);
CREATE INDEX posts_by_user_2 ON posts (user_id);
INSERT INTO users (email, name, password_hash) VALUES ('x@example.com', 'Xavier', 'h');
CREATE UNIQUE INDEX CONCURRENTLY users_name_unique ON users ((1 / (length(name) - 6)));
SELECT finding, table_name, index_name, detail FROM index_report()
 WHERE finding IN ('redundant', 'invalid') ORDER BY 1, 3;
DROP INDEX posts_by_user, posts_by_user_2, users_name_unique;
DELETE FROM users;
-- The whole database: tables outside the extension too; the extension scope
-- sees only the extension's tables, whatever schema they share.
CREATE TABLE public.scanned (a int);
INSERT INTO public.scanned SELECT generate_series(1, 5000);
SELECT count(*) FROM public.scanned;
SELECT pg_stat_force_next_flush();
SELECT finding, schema_name, table_name, detail FROM index_report('database') WHERE table_name = 'scanned';
SELECT count(*) AS extension_scope_sees_it FROM index_report() WHERE table_name = 'scanned';
DROP TABLE public.scanned;
-- unused until scanned; bloat once most entries are gone (estimated from pg_stats)
CREATE TABLE public.churn (a int);
INSERT INTO public.churn SELECT generate_series(1, 100000);
CREATE INDEX churn_a ON public.churn (a);
DELETE FROM public.churn WHERE a % 10 <> 0;
VACUUM ANALYZE public.churn;
SELECT finding, index_name FROM index_report('database') WHERE table_name = 'churn' AND index_name IS NOT NULL ORDER BY 1;
SELECT count(*) FROM public.churn WHERE a = 10;
SELECT pg_stat_force_next_flush();
SELECT finding, index_name FROM index_report('database') WHERE table_name = 'churn' AND index_name IS NOT NULL ORDER BY 1;
REINDEX INDEX public.churn_a;
SELECT finding, index_name FROM index_report('database') WHERE table_name = 'churn' AND index_name IS NOT NULL ORDER BY 1;
DROP TABLE public.churn;
-- search_path-safe: resolved from pg_catalog whatever the caller's path
SET search_path = pg_temp;
SELECT count(*) > 0 AS works FROM public.index_report();
RESET search_path;

DROP EXTENSION chronicle;

-- ---------------------------------------------------------------------------
-- 1.1 -> 1.2 on a big audit_logs and a big posts: the index work is left to
-- pending_migration_steps(), new indexes first, then the drops
-- ---------------------------------------------------------------------------
CREATE EXTENSION chronicle VERSION '1.1';
SELECT ddl FROM pending_migration_steps() \gexec
INSERT INTO audit_logs (table_name, operation, record_id, new_data, changed_fields)
SELECT 'posts', 'UPDATE', gen_random_uuid(), jsonb_build_object('n', g), '{title}'
  FROM generate_series(1, 10001) g;
INSERT INTO users (id, email, name, password_hash)
VALUES ('00000000-0000-4000-8000-000000000002', 'grace@example.com', 'Grace', 'h');
ALTER TABLE posts DISABLE TRIGGER posts_audit_trigger;
INSERT INTO posts (user_id, title, content, status)
SELECT '00000000-0000-4000-8000-000000000002', 'Post ' || g, 'text', CASE WHEN g % 2 = 0 THEN 'published' ELSE 'draft' END
  FROM generate_series(1, 10001) g;
ALTER TABLE posts ENABLE TRIGGER posts_audit_trigger;
BEGIN;
ALTER EXTENSION chronicle UPDATE TO '1.2';
SHOW lock_timeout;
COMMIT;
SELECT * FROM pending_migration_steps();
SELECT ddl FROM pending_migration_steps() \gexec
SELECT count(*) AS still_pending FROM pending_migration_steps();
SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
 WHERE i.indrelid IN ('audit_logs'::regclass, 'posts'::regclass) AND i.indisvalid ORDER BY 1;

-- ---------------------------------------------------------------------------
-- 1.2 -> 1.1: the indexes 1.1 has are not built inside the step on a big
-- table; it refuses, changes nothing, and names the statements to run first
-- ---------------------------------------------------------------------------
SELECT * FROM pg_temp.catch_error($$ALTER EXTENSION chronicle UPDATE TO '1.1'$$);
SELECT extversion FROM pg_extension WHERE extname = 'chronicle';
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_audit_created_at ON public.audit_logs USING btree (created_at DESC);
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_audit_old_data_gin ON public.audit_logs USING gin (old_data);
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_audit_new_data_gin ON public.audit_logs USING gin (new_data);
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_posts_user_id ON public.posts USING btree (user_id);
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_posts_status_published ON public.posts USING btree (status, published_at DESC) WHERE status::text OPERATOR(pg_catalog.=) 'published'::text;
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_posts_covering_list ON public.posts USING btree (user_id, status) INCLUDE (title, published_at, view_count) WHERE status::text OPERATOR(pg_catalog.=) 'published'::text;
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_posts_published_popular ON public.posts USING btree (published_at DESC) INCLUDE (view_count, id, user_id, title) WHERE status::text OPERATOR(pg_catalog.=) 'published'::text;
ALTER EXTENSION chronicle UPDATE TO '1.1';
SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
 WHERE i.indrelid IN ('audit_logs'::regclass, 'posts'::regclass) AND i.indisvalid ORDER BY 1;
SELECT count(*) AS steps_of_1_2 FROM migration_steps WHERE version = '1.2';
-- 1.2 dropped 1.1's covering index (it held view_count); back on 1.1, its step
-- is pending again.
SELECT name FROM pending_migration_steps();
SELECT c.relname, c.reloptions FROM pg_class c
 WHERE c.oid IN ('posts'::regclass, 'post_count_totals'::regclass) ORDER BY 1;
SELECT to_regprocedure('index_report(text)') IS NULL AS index_report_gone;
DROP EXTENSION chronicle;

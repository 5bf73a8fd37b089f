-- post_counts: the per-(user_id, status) counts behind get_user_posts'
-- total_count stay equal to the real counts through every kind of write, and
-- application roles can neither read nor forge them.
CREATE EXTENSION chronicle;
\i sql/include/catch_error.sql

-- The counts equal a real count of posts, row for row.
CREATE FUNCTION pg_temp.counts_exact() RETURNS boolean LANGUAGE sql AS $$
    SELECT NOT EXISTS (
        (SELECT user_id, status::text, post_count FROM post_counts
         EXCEPT SELECT user_id, status::text, count(*) FROM posts GROUP BY 1, 2)
        UNION ALL
        (SELECT user_id, status::text, count(*) FROM posts GROUP BY 1, 2
         EXCEPT SELECT user_id, status::text, post_count FROM post_counts))
$$;

INSERT INTO users (id, email, name, password_hash)
SELECT ('00000000-0000-4000-8000-' || lpad(to_hex(i), 12, '0'))::uuid, 'u' || i || '@example.com', 'user ' || i, 'x'
  FROM generate_series(1, 5) AS i;

-- Multi-row INSERT ... SELECT over several users and statuses.
INSERT INTO posts (user_id, title, content, status)
SELECT ('00000000-0000-4000-8000-' || lpad(to_hex(1 + i % 3), 12, '0'))::uuid, 't' || i, 'c',
       (ARRAY['draft', 'published', 'archived'])[1 + i % 3]
  FROM generate_series(1, 100) AS i;
SELECT pg_temp.counts_exact() AS after_insert_select, (SELECT sum(post_count) FROM post_counts) AS counted;
-- Single-row inserts, one of them rolled back.
INSERT INTO posts (user_id, title, content, status) VALUES ('00000000-0000-4000-8000-000000000004', 'x', 'c', 'published');
BEGIN;
INSERT INTO posts (user_id, title, content, status) VALUES ('00000000-0000-4000-8000-000000000004', 'y', 'c', 'published');
ROLLBACK;
SELECT pg_temp.counts_exact() AS after_single_inserts,
       (SELECT post_count FROM post_counts WHERE user_id = '00000000-0000-4000-8000-000000000004') AS user_4;
-- COPY.
COPY posts (user_id, title, content, status) FROM stdin;
00000000-0000-4000-8000-000000000005	c1	c	draft
00000000-0000-4000-8000-000000000005	c2	c	published
00000000-0000-4000-8000-000000000005	c3	c	published
\.
SELECT pg_temp.counts_exact() AS after_copy;
-- UPDATE of status (into and out of published), of user_id, of both, of
-- neither (view_count), and an UPDATE that sets the same status.
UPDATE posts SET status = 'published' WHERE title IN ('t1', 't2', 't3');
UPDATE posts SET status = 'archived' WHERE title IN ('t4', 't5');
UPDATE posts SET user_id = '00000000-0000-4000-8000-000000000004' WHERE title IN ('t6', 't7');
UPDATE posts SET user_id = '00000000-0000-4000-8000-000000000005', status = 'draft' WHERE title = 't8';
UPDATE posts SET view_count = view_count + 1;
UPDATE posts SET status = status WHERE title = 't9';
SELECT pg_temp.counts_exact() AS after_updates;
-- ON UPDATE CASCADE from users.id moves the counts to the new id.
UPDATE users SET id = '00000000-0000-4000-8000-0000000000ff' WHERE id = '00000000-0000-4000-8000-000000000004';
SELECT pg_temp.counts_exact() AS after_user_id_cascade,
       (SELECT count(*) FROM post_counts WHERE user_id = '00000000-0000-4000-8000-000000000004') AS old_id_rows;
-- DELETE, and ON DELETE CASCADE from users: no zero rows are left behind.
DELETE FROM posts WHERE title IN ('t10', 't11', 't12');
DELETE FROM users WHERE id = '00000000-0000-4000-8000-000000000005';
SELECT pg_temp.counts_exact() AS after_deletes,
       (SELECT count(*) FROM post_counts WHERE user_id = '00000000-0000-4000-8000-000000000005') AS deleted_user_rows,
       (SELECT count(*) FROM post_counts WHERE post_count = 0) AS zero_rows;
-- A savepoint rolled back undoes its counts with its rows.
BEGIN;
SAVEPOINT s;
DELETE FROM posts WHERE user_id = '00000000-0000-4000-8000-000000000001';
ROLLBACK TO SAVEPOINT s;
INSERT INTO posts (user_id, title, content) VALUES ('00000000-0000-4000-8000-000000000001', 'sp', 'c');
COMMIT;
SELECT pg_temp.counts_exact() AS after_savepoint;
-- TRUNCATE of posts, and of users with CASCADE.
BEGIN;
TRUNCATE posts;
SELECT pg_temp.counts_exact() AS after_truncate, (SELECT count(*) FROM post_counts) AS rows;
ROLLBACK;
SELECT pg_temp.counts_exact() AS after_truncate_rollback, (SELECT count(*) > 0 FROM post_counts) AS rows;
BEGIN;
TRUNCATE users CASCADE;
SELECT pg_temp.counts_exact() AS after_truncate_cascade, (SELECT count(*) FROM post_counts) AS rows;
ROLLBACK;

-- A load with triggers disabled (as a restore runs) leaves the counts behind;
-- refresh_post_counts() recounts them.
SET session_replication_role = replica;
INSERT INTO posts (user_id, title, content) VALUES ('00000000-0000-4000-8000-000000000001', 'bulk', 'c');
RESET session_replication_role;
SELECT pg_temp.counts_exact() AS before_refresh;
SELECT refresh_post_counts();
SELECT pg_temp.counts_exact() AS after_refresh;

-- Writers under READ COMMITTED fold their deltas into the totals as they go:
-- with no concurrent writer, nothing is left unfolded.
SELECT count(*) AS unfolded_deltas FROM post_count_deltas;
-- Under REPEATABLE READ a writer only appends its delta (a fold could fail on
-- rows changed since its snapshot); the counts are exact all the same, and the
-- next READ COMMITTED writer of the pair folds it.
BEGIN ISOLATION LEVEL REPEATABLE READ;
INSERT INTO posts (user_id, title, content, status) VALUES ('00000000-0000-4000-8000-000000000001', 'rr', 'c', 'draft');
UPDATE posts SET status = 'archived' WHERE title = 't16';
COMMIT;
SELECT pg_temp.counts_exact() AS after_repeatable_read, count(*) > 0 AS deltas_waiting FROM post_count_deltas;
INSERT INTO posts (user_id, title, content, status) VALUES ('00000000-0000-4000-8000-000000000001', 'rc', 'c', 'draft');
UPDATE posts SET status = 'published' WHERE title = 'rc';
UPDATE posts SET status = 'archived' WHERE title = 'rc';
SELECT pg_temp.counts_exact() AS after_fold,
       (SELECT count(*) FROM post_count_deltas WHERE user_id = '00000000-0000-4000-8000-000000000001') AS user_1_deltas_left;

-- An UPDATE that names user_id or status but leaves both as they were writes no
-- count (1.2's trigger has no WHEN clause: its function skips such rows), and
-- in a statement that also moves other posts, only those are counted.
CREATE TEMP TABLE totals_before AS SELECT ctid AS at, * FROM post_count_totals;
CREATE TEMP TABLE deltas_before AS SELECT ctid AS at, * FROM post_count_deltas;
UPDATE posts SET status = status, user_id = user_id, title = title || '.' WHERE title IN ('t20', 't21', 't22');
SELECT NOT EXISTS (SELECT ctid AS at, * FROM post_count_totals EXCEPT SELECT * FROM totals_before) AS totals_untouched,
       NOT EXISTS (SELECT ctid AS at, * FROM post_count_deltas EXCEPT SELECT * FROM deltas_before) AS no_delta_added;
UPDATE posts SET status = CASE title WHEN 't24' THEN 'published' WHEN 't25' THEN 'archived' ELSE status END
 WHERE title IN ('t23', 't24', 't25', 't26');
SELECT pg_temp.counts_exact() AS after_mixed_update;

-- post_counts' tables are dumped with the data they count.
SELECT c.relname, e.extconfig IS NOT NULL AS dumped
  FROM pg_extension e, pg_class c WHERE e.extname = 'chronicle' AND c.oid = ANY (e.extconfig)
   AND c.relname LIKE 'post_count%' ORDER BY 1;

-- An application role with USAGE and DML on users and posts only: its writes
-- keep the counts exact and get_user_posts works for it, but it can neither
-- read nor write post_counts, nor attach the counting functions elsewhere, nor
-- recount.
CREATE ROLE chronicle_posts_app;
GRANT USAGE ON SCHEMA public TO chronicle_posts_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON users, posts TO chronicle_posts_app;
GRANT CREATE ON SCHEMA public TO chronicle_posts_app;
SET ROLE chronicle_posts_app;
INSERT INTO posts (user_id, title, content, status) VALUES ('00000000-0000-4000-8000-000000000002', 'app', 'c', 'published');
UPDATE posts SET status = 'archived' WHERE title = 't13';
DELETE FROM posts WHERE title = 't14';
SELECT count(*) > 0 AS rows, bool_and(total_count = (SELECT count(*) FROM posts WHERE user_id = '00000000-0000-4000-8000-000000000002' AND status = 'published')) AS exact
  FROM get_user_posts('00000000-0000-4000-8000-000000000002');
SELECT increment_post_views(id) FROM posts WHERE title = 'app';
SELECT code, message FROM pg_temp.catch_error($$SELECT * FROM post_counts$$);
SELECT code, message FROM pg_temp.catch_error($$SELECT * FROM post_count_totals$$);
SELECT code, message FROM pg_temp.catch_error($$SELECT * FROM post_count_deltas$$);
SELECT code, message FROM pg_temp.catch_error($$UPDATE post_count_totals SET post_count = 0$$);
SELECT code, message FROM pg_temp.catch_error($$INSERT INTO post_count_deltas VALUES ('00000000-0000-4000-8000-000000000002', 'published', 99)$$);
SELECT code, message FROM pg_temp.catch_error($$DELETE FROM post_count_deltas$$);
SELECT code, message FROM pg_temp.catch_error($$TRUNCATE post_count_totals$$);
SELECT code, message FROM pg_temp.catch_error($$SELECT refresh_post_counts()$$);
CREATE TABLE forged (user_id uuid, status varchar);
SELECT code, message FROM pg_temp.catch_error($$CREATE TRIGGER forge AFTER INSERT ON forged REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION post_counts_after_insert()$$);
DROP TABLE forged;
RESET ROLE;
SELECT pg_temp.counts_exact() AS after_app_writes;
-- Even the owner cannot point the counting functions at another table.
CREATE TABLE forged (user_id uuid, status varchar);
CREATE TRIGGER forge AFTER INSERT ON forged REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION post_counts_after_insert();
SELECT code, message FROM pg_temp.catch_error($$INSERT INTO forged VALUES ('00000000-0000-4000-8000-000000000002', 'published')$$);
DROP TABLE forged;

-- A total whose page is full is updated into another page (not HOT): its new
-- primary-key entry is inserted too, and the counts stay exact. (1.2 fills the
-- table's pages to a quarter; packed, as a 1.1 database's are, a page is full.)
ALTER TABLE post_count_totals SET (fillfactor = 100);
INSERT INTO users (id, email, name, password_hash)
SELECT ('00000000-0000-4000-9000-' || lpad(to_hex(i), 12, '0'))::uuid, 'full' || i || '@example.com', 'Full', 'x'
  FROM generate_series(1, 400) i;
INSERT INTO posts (user_id, title, content, status)
SELECT ('00000000-0000-4000-9000-' || lpad(to_hex(i), 12, '0'))::uuid, 'full ' || i || '/' || j, 'c', 'draft'
  FROM generate_series(1, 400) i, generate_series(1, 2) j;
VACUUM FULL post_count_totals;
SELECT p.title AS full_page_post
  FROM post_count_totals t JOIN posts p ON p.user_id = t.user_id AND p.status = t.status
 WHERE (t.ctid::text::point)[0] = 1 AND t.post_count = 2 ORDER BY p.title LIMIT 1 \gset
SELECT (SELECT count(*) FROM post_count_totals WHERE (ctid::text::point)[0] = 1) > 100 AS page_is_full;
UPDATE posts SET status = 'published' WHERE title = :'full_page_post';
SELECT (t.ctid::text::point)[0] <> 1 AS total_moved_page
  FROM post_count_totals t JOIN posts p ON p.user_id = t.user_id
 WHERE p.title = :'full_page_post' AND t.status = 'draft';
SELECT pg_temp.counts_exact() AS after_full_pages;

-- A bulk change of one user's posts folds the first row of each pair and
-- leaves a delta for every other row. A single-row writer of the pair then
-- folds at most 128 of them (not all: it did nothing to earn that wait), the
-- writers after it the rest, and the counts are exact all along.
INSERT INTO users (id, email, name, password_hash)
VALUES ('00000000-0000-4000-a000-000000000001', 'bulk@example.com', 'Bulk', 'x');
INSERT INTO posts (user_id, title, content, status)
SELECT '00000000-0000-4000-a000-000000000001', 'bulk ' || i, 'c', 'draft' FROM generate_series(1, 300) i;
UPDATE posts SET status = 'archived' WHERE user_id = '00000000-0000-4000-a000-000000000001';
CREATE FUNCTION pg_temp.bulk_deltas() RETURNS TABLE (status varchar, deltas bigint, exact boolean) LANGUAGE sql AS $$
    SELECT s, (SELECT count(*) FROM post_count_deltas d
                WHERE d.user_id = '00000000-0000-4000-a000-000000000001' AND d.status = s),
           pg_temp.counts_exact()
      FROM unnest(ARRAY['archived', 'draft']::varchar[]) AS s
$$;
SELECT * FROM pg_temp.bulk_deltas();
INSERT INTO posts (user_id, title, content, status) VALUES ('00000000-0000-4000-a000-000000000001', 'one', 'c', 'archived');
SELECT * FROM pg_temp.bulk_deltas();
INSERT INTO posts (user_id, title, content, status) VALUES ('00000000-0000-4000-a000-000000000001', 'two', 'c', 'archived');
INSERT INTO posts (user_id, title, content, status) VALUES ('00000000-0000-4000-a000-000000000001', 'three', 'c', 'archived');
SELECT * FROM pg_temp.bulk_deltas();
SELECT status, post_count FROM post_counts WHERE user_id = '00000000-0000-4000-a000-000000000001' ORDER BY status;

-- The fold reads and writes the counting tables' columns natively: a column a
-- DBA gave another type (it takes dropping the view post_counts first) is
-- refused with 42804 naming it, not misread; once the type is back, folds work
-- again (the check is made per relation version). Each write below folds
-- another pair: a pair is folded once per transaction.
BEGIN;
INSERT INTO users (id, email, name, password_hash)
VALUES ('00000000-0000-4000-a000-000000000002', 'typed@example.com', 'Typed', 'x');
ALTER EXTENSION chronicle DROP VIEW post_counts;
DROP VIEW post_counts;
ALTER TABLE post_count_totals ALTER COLUMN post_count TYPE numeric;
SELECT code, message, detail, hint, table_name, column_name FROM pg_temp.catch_error($$
    INSERT INTO posts (user_id, title, content, status)
    VALUES ('00000000-0000-4000-a000-000000000001', 'typed', 'c', 'published')$$);
ALTER TABLE post_count_totals ALTER COLUMN post_count TYPE bigint;
ALTER TABLE post_count_deltas ALTER COLUMN delta TYPE integer;
SELECT code, message, table_name, column_name FROM pg_temp.catch_error($$
    INSERT INTO posts (user_id, title, content, status)
    VALUES ('00000000-0000-4000-a000-000000000001', 'typed', 'c', 'draft')$$);
ALTER TABLE post_count_deltas ALTER COLUMN delta TYPE bigint;
ALTER TABLE post_count_totals ALTER COLUMN user_id TYPE text;
SELECT code, message, table_name, column_name FROM pg_temp.catch_error($$
    INSERT INTO posts (user_id, title, content, status)
    VALUES ('00000000-0000-4000-a000-000000000002', 'typed', 'c', 'draft')$$);
ALTER TABLE post_count_totals ALTER COLUMN user_id TYPE uuid USING user_id::uuid;
INSERT INTO posts (user_id, title, content, status)
VALUES ('00000000-0000-4000-a000-000000000002', 'typed', 'c', 'published');
SELECT status, post_count FROM post_count_totals WHERE user_id = '00000000-0000-4000-a000-000000000002';
ROLLBACK;
SELECT pg_temp.counts_exact() AS after_type_checks;

REVOKE ALL ON users, posts FROM chronicle_posts_app;
REVOKE ALL ON SCHEMA public FROM chronicle_posts_app;
DROP ROLE chronicle_posts_app;
DROP EXTENSION chronicle CASCADE;

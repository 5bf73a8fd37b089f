-- The native posts API (get_user_posts, soft_delete_user, increment_post_views,
-- get_popular_posts): results against the equivalent plain SQL, every error
-- path with SQLSTATE and message, volatility and security.
CREATE EXTENSION chronicle;
\i sql/include/catch_error.sql
\pset null '(null)'

-- Two authors, one deleted later; posts with ties on published_at and on
-- created_at (so that id decides), drafts and archived posts without a
-- published_at, published posts with one.
INSERT INTO users (id, email, name, password_hash) VALUES
    ('00000000-0000-4000-8000-000000000001', 'alice@example.com', 'Alice', 'x'),
    ('00000000-0000-4000-8000-000000000002', 'bob@example.com', 'Bob', 'x'),
    ('00000000-0000-4000-8000-000000000003', 'carol@example.com', 'Carol', 'x');
INSERT INTO posts (id, user_id, title, content, status, published_at, created_at, view_count)
SELECT ('10000000-0000-4000-8000-' || lpad(to_hex(i), 12, '0'))::uuid,
       '00000000-0000-4000-8000-000000000001', 'post ' || i, 'body ' || i,
       (ARRAY['published', 'draft', 'archived', 'published'])[1 + i % 4],
       CASE WHEN i % 4 IN (0, 3) THEN TIMESTAMP '2026-01-01' + (i / 3) * INTERVAL '1 hour' END,
       TIMESTAMP '2025-12-01' + (i / 2) * INTERVAL '1 minute',
       i * 7 % 50
  FROM generate_series(1, 40) AS i;
INSERT INTO posts (id, user_id, title, content, status, published_at, view_count)
VALUES ('20000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000002', 'bob recent', 'b', 'published',
        LOCALTIMESTAMP - INTERVAL '1 day', 1000),
       ('20000000-0000-4000-8000-000000000002', '00000000-0000-4000-8000-000000000002', 'bob old', 'b', 'published',
        LOCALTIMESTAMP - INTERVAL '30 days', 5000),
       ('20000000-0000-4000-8000-000000000003', '00000000-0000-4000-8000-000000000003', 'carol recent', 'c', 'published',
        LOCALTIMESTAMP - INTERVAL '2 days', 1000),
       ('20000000-0000-4000-8000-000000000004', '00000000-0000-4000-8000-000000000003', 'carol draft', 'c', 'draft',
        NULL, 9000);

-- get_user_posts equals the plain query (order published_at DESC NULLS LAST,
-- created_at DESC, id DESC; total_count = every matching row) for every status,
-- limit and offset, including NULL limit (all) and NULL offset (none).
CREATE FUNCTION pg_temp.expected_posts(u uuid, s varchar, l int, o int)
RETURNS TABLE (id uuid, title varchar, content text, status varchar, published_at timestamp, view_count int,
               total_count bigint)
LANGUAGE sql AS $$
    SELECT p.id, p.title, p.content, p.status, p.published_at, p.view_count,
           (SELECT count(*) FROM posts q WHERE q.user_id = u AND (s IS NULL OR q.status = s))
      FROM posts p WHERE p.user_id = u AND (s IS NULL OR p.status = s)
     ORDER BY p.published_at DESC NULLS LAST, p.created_at DESC, p.id DESC
     LIMIT l OFFSET o
$$;
SELECT count(*) AS cases,
       count(*) FILTER (WHERE same) AS same_rows_in_same_order
  FROM (SELECT u, s, l, o,
               (SELECT array_agg(g ORDER BY n) FROM get_user_posts(u, s, l, o) WITH ORDINALITY AS g(id, title, content, status, published_at, view_count, total_count, n))
               IS NOT DISTINCT FROM
               (SELECT array_agg(e ORDER BY n) FROM pg_temp.expected_posts(u, s, l, o) WITH ORDINALITY AS e(id, title, content, status, published_at, view_count, total_count, n))
               AS same
          FROM unnest(ARRAY['00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000002',
                            '00000000-0000-4000-8000-000000000009']::uuid[]) AS u,
               unnest(ARRAY[NULL, 'published', 'draft', 'archived', 'nope']::varchar[]) AS s,
               unnest(ARRAY[0, 1, 3, 7, 10, 40, 100, NULL]) AS l,
               unnest(ARRAY[0, 1, 2, 9, 10, 19, 20, 21, 39, 40, 41, 1000, NULL]) AS o) AS cases;
-- The defaults: published posts, 10 per page, from the start.
SELECT title, status, published_at, total_count FROM get_user_posts('00000000-0000-4000-8000-000000000001');
-- Every status: published posts first (newest first), then the rest by created_at DESC, id DESC.
SELECT title, status, published_at, total_count
  FROM get_user_posts('00000000-0000-4000-8000-000000000001', NULL, 6, 17);
-- Named arguments.
SELECT count(*) FROM get_user_posts(p_user_id => '00000000-0000-4000-8000-000000000001', p_offset => 5, p_status => 'draft');

-- Errors: NULL user 22004, negative limit / offset 22023.
SELECT code, message FROM pg_temp.catch_error($$SELECT * FROM get_user_posts(NULL)$$);
SELECT code, message FROM pg_temp.catch_error($$SELECT * FROM get_user_posts('00000000-0000-4000-8000-000000000001', 'published', -1)$$);
SELECT code, message FROM pg_temp.catch_error($$SELECT * FROM get_user_posts('00000000-0000-4000-8000-000000000001', 'published', 10, -1)$$);
SELECT code, message FROM pg_temp.catch_error($$SELECT * FROM get_user_posts('00000000-0000-4000-8000-000000000001', NULL, -2147483648, 0)$$);

-- increment_post_views: returns the new count and stores it.
SELECT increment_post_views('10000000-0000-4000-8000-000000000004') AS after_one,
       increment_post_views('10000000-0000-4000-8000-000000000004', 10) AS after_ten;
SELECT view_count FROM posts WHERE id = '10000000-0000-4000-8000-000000000004';
-- A draft, an archived post, a missing post: P0002 with the reference's message.
SELECT code, message FROM pg_temp.catch_error($$SELECT increment_post_views('10000000-0000-4000-8000-000000000001')$$);
SELECT code, message FROM pg_temp.catch_error($$SELECT increment_post_views('10000000-0000-4000-8000-000000000002')$$);
SELECT code, message FROM pg_temp.catch_error($$SELECT increment_post_views('99999999-0000-4000-8000-000000000001')$$);
-- p_increment < 1: 22023; NULL arguments: 22004; an overflow keeps 22003.
SELECT code, message FROM pg_temp.catch_error($$SELECT increment_post_views('10000000-0000-4000-8000-000000000004', 0)$$);
SELECT code, message FROM pg_temp.catch_error($$SELECT increment_post_views('10000000-0000-4000-8000-000000000004', -5)$$);
SELECT code, message FROM pg_temp.catch_error($$SELECT increment_post_views(NULL)$$);
SELECT code, message FROM pg_temp.catch_error($$SELECT increment_post_views('10000000-0000-4000-8000-000000000004', NULL)$$);
SELECT code, message FROM pg_temp.catch_error($$SELECT increment_post_views('10000000-0000-4000-8000-000000000004', 2147483647)$$);
SELECT view_count FROM posts WHERE id = '10000000-0000-4000-8000-000000000004';
-- Up to 1.1 the UPDATE is an UPDATE like any other: updated_at moves. From 1.2
-- a view is not an edit: updated_at stays (sql/optimize.sql tests the rest).
CREATE TEMP TABLE before_increment AS SELECT updated_at FROM posts WHERE id = '10000000-0000-4000-8000-000000000004';
BEGIN;
SELECT increment_post_views('10000000-0000-4000-8000-000000000004') AS in_transaction;
SELECT (p.updated_at > b.updated_at) = (e.extversion IN ('1.0', '1.1')) AS updated_at_moved_before_1_2_only
  FROM posts p, before_increment b, pg_extension e
 WHERE p.id = '10000000-0000-4000-8000-000000000004' AND e.extname = 'chronicle';
ROLLBACK;

-- get_popular_posts: published posts of active users in the last p_days days,
-- by view_count DESC, id DESC (bob recent and carol recent tie on 1000).
SELECT title, view_count, author_name, published_at > LOCALTIMESTAMP - INTERVAL '7 days' AS recent
  FROM get_popular_posts();
SELECT title, view_count, author_name FROM get_popular_posts(60, 2);
SELECT count(*) AS all_recent FROM get_popular_posts(60, NULL);
SELECT count(*) AS none FROM get_popular_posts(60, 0);
SELECT code, message FROM pg_temp.catch_error($$SELECT * FROM get_popular_posts(-1)$$);
SELECT code, message FROM pg_temp.catch_error($$SELECT * FROM get_popular_posts(7, -1)$$);
SELECT code, message FROM pg_temp.catch_error($$SELECT * FROM get_popular_posts(NULL)$$);
-- p_days reaching back past the oldest timestamp (the reference raises 22008
-- there): every published post of an active user, down to the oldest
-- timestamps, and still no draft.
BEGIN;
INSERT INTO posts (user_id, title, content, status, published_at) VALUES
    ('00000000-0000-4000-8000-000000000001', 'ancient', 'a', 'published', '4713-01-01 BC'),
    ('00000000-0000-4000-8000-000000000001', 'oldest', 'a', 'published', '4713-11-25 00:00:00 BC'),
    ('00000000-0000-4000-8000-000000000001', 'ancient draft', 'a', 'draft', NULL),
    ('00000000-0000-4000-8000-000000000001', 'just now', 'a', 'published', NULL);
SELECT d AS p_days, count(*) AS posts,
       count(*) = (SELECT count(*) FROM posts p JOIN users u ON u.id = p.user_id
                    WHERE p.status = 'published' AND u.deleted_at IS NULL) AS every_published_post,
       bool_or(g.title = 'ancient') AS ancient, bool_or(g.title = 'oldest') AS oldest,
       bool_or(g.title = 'ancient draft') AS draft
  FROM unnest(ARRAY[2147483647, 100000000, 3000000]) AS d, get_popular_posts(d, NULL) AS g
 GROUP BY d ORDER BY d;
-- Just inside the range the date arithmetic still decides: 2,000,000 days
-- (about 5,476 years) reach back before 3000 BC, not to 4713 BC.
SELECT bool_or(title = 'ancient') AS ancient, count(*) > 20 AS the_rest
  FROM get_popular_posts(2000000, NULL);
-- p_days = 0: published at this very moment, nothing older (the posts above
-- were published with this transaction's CURRENT_TIMESTAMP).
SELECT title FROM get_popular_posts(0, NULL);
ROLLBACK;
SELECT code, message FROM pg_temp.catch_error($$SELECT * FROM get_popular_posts(-2147483648)$$);

-- soft_delete_user: sets deleted_at and updated_by once; the deleted user's
-- posts leave get_popular_posts.
SELECT soft_delete_user('00000000-0000-4000-8000-000000000002', '00000000-0000-4000-8000-000000000001');
SELECT name, deleted_at IS NOT NULL AS deleted, updated_by FROM users ORDER BY name;
SELECT title, author_name FROM get_popular_posts(60);
SELECT code, message FROM pg_temp.catch_error($$SELECT soft_delete_user('00000000-0000-4000-8000-000000000002')$$);
SELECT code, message FROM pg_temp.catch_error($$SELECT soft_delete_user('00000000-0000-4000-8000-000000000099')$$);
SELECT code, message FROM pg_temp.catch_error($$SELECT soft_delete_user(NULL)$$);
SELECT soft_delete_user('00000000-0000-4000-8000-000000000003');
SELECT name, deleted_at IS NOT NULL AS deleted, updated_by FROM users WHERE name = 'Carol';

-- Volatility, strictness and search_path independence of the declarations.
SELECT proname, provolatile, proisstrict, prosecdef, prolang = (SELECT oid FROM pg_language WHERE lanname = 'c') AS native
  FROM pg_proc WHERE pronamespace = 'public'::regnamespace
   AND proname IN ('get_user_posts', 'soft_delete_user', 'increment_post_views', 'get_popular_posts')
 ORDER BY proname;

-- A caller whose search_path holds look-alike tables and operators still
-- reads the extension's tables.
CREATE SCHEMA decoy;
CREATE TABLE decoy.posts (LIKE posts);
CREATE TABLE decoy.post_counts (LIKE post_counts);
CREATE FUNCTION decoy.uuid_eq_decoy(uuid, uuid) RETURNS boolean LANGUAGE sql AS 'SELECT true';
CREATE OPERATOR decoy.= (LEFTARG = uuid, RIGHTARG = uuid, FUNCTION = decoy.uuid_eq_decoy);
SET search_path = decoy, public;
SELECT count(*), min(total_count) FROM public.get_user_posts('00000000-0000-4000-8000-000000000001', 'draft', 100);
RESET search_path;
DROP SCHEMA decoy CASCADE;

DROP EXTENSION chronicle CASCADE;

-- get_user_posts_keyset (1.1): walking next_cursor from the first page to the
-- last returns exactly get_user_posts' order; cursors are opaque, signed for one
-- user and status, and every defect is 22023.
CREATE EXTENSION chronicle;
\i sql/include/catch_error.sql
\pset null '(null)'

INSERT INTO users (id, email, name, password_hash) VALUES
    ('00000000-0000-4000-8000-000000000001', 'alice@example.com', 'Alice', 'x'),
    ('00000000-0000-4000-8000-000000000002', 'bob@example.com', 'Bob', 'x');
-- Ties on published_at and created_at, and NULL published_at (drafts, archived).
INSERT INTO posts (id, user_id, title, content, status, published_at, created_at)
SELECT ('10000000-0000-4000-8000-' || lpad(to_hex(i), 12, '0'))::uuid,
       '00000000-0000-4000-8000-000000000001', 'post ' || i, 'body ' || i,
       (ARRAY['published', 'draft', 'archived', 'published'])[1 + i % 4],
       CASE WHEN i % 4 IN (0, 3) THEN TIMESTAMP '2026-01-01' + (i / 3) * INTERVAL '1 hour' END,
       TIMESTAMP '2025-12-01' + (i / 2) * INTERVAL '1 minute'
  FROM generate_series(1, 41) AS i;
INSERT INTO posts (user_id, title, content, status, published_at)
VALUES ('00000000-0000-4000-8000-000000000002', 'bob 1', 'b', 'published', TIMESTAMP '2026-02-01');

-- Walks every page; returns the ids in page order, the page count, whether
-- every row of a page carried the same next_cursor and whether only the last
-- page had none.
CREATE FUNCTION pg_temp.walk(u uuid, s varchar, l int,
                             OUT ids uuid[], OUT pages int, OUT consistent boolean)
LANGUAGE plpgsql AS $$
DECLARE
    cur text := NULL;
    page record;
BEGIN
    ids := '{}'; pages := 0; consistent := true;
    LOOP
        SELECT array_agg(k.id ORDER BY n) AS page_ids, count(DISTINCT k.next_cursor) AS cursors,
               bool_and(k.next_cursor IS NULL) AS last, min(k.next_cursor) AS next
          INTO page FROM get_user_posts_keyset(u, s, l, cur) WITH ORDINALITY AS k(id, title, content, status, published_at, view_count, next_cursor, n);
        EXIT WHEN page.page_ids IS NULL;
        pages := pages + 1;
        ids := ids || page.page_ids;
        consistent := consistent AND page.cursors <= 1 AND (page.last OR cardinality(page.page_ids) = l);
        EXIT WHEN page.last;
        cur := page.next;
        IF pages > 100 THEN RAISE EXCEPTION 'runaway walk'; END IF;
    END LOOP;
END
$$;
SELECT s AS status, l AS page_size, w.pages, w.consistent,
       w.ids = (SELECT coalesce(array_agg(g.id), '{}') FROM get_user_posts('00000000-0000-4000-8000-000000000001', s, NULL) AS g)
           AS same_order_as_get_user_posts,
       cardinality(w.ids) AS rows
  FROM unnest(ARRAY['published', NULL, 'draft', 'archived', 'nope']::varchar[]) AS s,
       unnest(ARRAY[1, 3, 10, 11, 100]) AS l,
       LATERAL pg_temp.walk('00000000-0000-4000-8000-000000000001', s, l) AS w
 ORDER BY s NULLS FIRST, l;

-- The defaults: published posts, 10 per page; the last page has no cursor.
SELECT count(*) AS rows, count(DISTINCT next_cursor) AS cursors, length(min(next_cursor)) AS cursor_length
  FROM get_user_posts_keyset('00000000-0000-4000-8000-000000000001');
SELECT count(*) AS rows, bool_and(next_cursor IS NULL) AS last_page
  FROM get_user_posts_keyset('00000000-0000-4000-8000-000000000002');
-- NULL p_limit: every row, no cursor; 0: no row (the cursor is still checked).
SELECT count(*) AS rows, bool_and(next_cursor IS NULL) AS no_cursor
  FROM get_user_posts_keyset('00000000-0000-4000-8000-000000000001', NULL, NULL);
SELECT count(*) AS rows FROM get_user_posts_keyset('00000000-0000-4000-8000-000000000001', 'published', 0);

-- A cursor stays good when the row it points at goes away: the page starts at
-- the next row.
SELECT next_cursor AS c FROM get_user_posts_keyset('00000000-0000-4000-8000-000000000001', 'published', 4) LIMIT 1 \gset
SELECT array_agg(id) AS second_page FROM get_user_posts_keyset('00000000-0000-4000-8000-000000000001', 'published', 4, :'c') \gset
BEGIN;
DELETE FROM posts WHERE id = (:'second_page'::uuid[])[1];
SELECT array_agg(id) = (:'second_page'::uuid[])[2:4] || (SELECT array_agg(g.id) FROM get_user_posts('00000000-0000-4000-8000-000000000001', 'published', 1, 7) g)
       AS starts_at_the_next_row
  FROM get_user_posts_keyset('00000000-0000-4000-8000-000000000001', 'published', 4, :'c');
ROLLBACK;

-- Errors: NULL user 22004, negative limit 22023.
SELECT code, message FROM pg_temp.catch_error($$SELECT * FROM get_user_posts_keyset(NULL)$$);
SELECT code, message FROM pg_temp.catch_error($$SELECT * FROM get_user_posts_keyset('00000000-0000-4000-8000-000000000001', 'published', -1)$$);
-- Malformed, altered, forged and replayed cursors: 22023, whatever the limit.
CREATE TEMP TABLE bad_cursors (what text, cursor text, status varchar, user_id uuid);
INSERT INTO bad_cursors VALUES
    ('garbage', 'garbage', 'published', '00000000-0000-4000-8000-000000000001'),
    ('empty', '', 'published', '00000000-0000-4000-8000-000000000001'),
    ('truncated', left(:'c', -1), 'published', '00000000-0000-4000-8000-000000000001'),
    ('extended', :'c' || 'A', 'published', '00000000-0000-4000-8000-000000000001'),
    ('first character changed', translate(left(:'c', 1), 'AQ', 'QA') || substr(:'c', 2), 'published', '00000000-0000-4000-8000-000000000001'),
    ('middle character changed', left(:'c', 30) || CASE substr(:'c', 31, 1) WHEN 'A' THEN 'B' ELSE 'A' END || substr(:'c', 32), 'published', '00000000-0000-4000-8000-000000000001'),
    ('last character changed', left(:'c', -1) || CASE right(:'c', 1) WHEN 'A' THEN 'Q' ELSE 'A' END, 'published', '00000000-0000-4000-8000-000000000001'),
    ('standard base64 alphabet', left(:'c', 20) || '+' || substr(:'c', 22), 'published', '00000000-0000-4000-8000-000000000001'),
    ('all zeros', repeat('A', 67), 'published', '00000000-0000-4000-8000-000000000001'),
    ('another user', :'c', 'published', '00000000-0000-4000-8000-000000000002'),
    ('another status', :'c', 'draft', '00000000-0000-4000-8000-000000000001'),
    ('every status', :'c', NULL, '00000000-0000-4000-8000-000000000001');
SELECT b.what, e.code, e.message, e.detail IS NOT NULL AS has_detail
  FROM bad_cursors b, LATERAL pg_temp.catch_error(pg_catalog.format(
      'SELECT * FROM get_user_posts_keyset(%L, %L, 4, %L)', b.user_id, b.status, b.cursor)) e
 WHERE b.cursor IS DISTINCT FROM :'c' OR b.status IS DISTINCT FROM 'published'
    OR b.user_id <> '00000000-0000-4000-8000-000000000001'
 ORDER BY b.what;
SELECT code, message FROM pg_temp.catch_error($$SELECT * FROM get_user_posts_keyset('00000000-0000-4000-8000-000000000001', 'published', 0, 'garbage')$$);
-- A cursor is bound to the database's secret: a rotation refuses old cursors
-- from the next transaction on, also in a session that has used the old secret
-- (this one: it has just checked :'c'). Within the rotating transaction the
-- secret read at its start still holds. (test/reliability/suites/
-- cursor_rotation.sh rotates from another session.)
BEGIN;
SELECT count(*) AS rows FROM get_user_posts_keyset('00000000-0000-4000-8000-000000000001', 'published', 4, :'c');
UPDATE cursor_secret SET secret = decode(repeat('ab', 32), 'hex');
SELECT count(*) AS same_transaction FROM get_user_posts_keyset('00000000-0000-4000-8000-000000000001', 'published', 4, :'c');
COMMIT;
SELECT code, message FROM pg_temp.catch_error(format($$SELECT * FROM get_user_posts_keyset('00000000-0000-4000-8000-000000000001', 'published', 4, %L)$$, :'c'));
-- A cursor made now is signed with the new secret and follows on.
SELECT next_cursor AS c2 FROM get_user_posts_keyset('00000000-0000-4000-8000-000000000001', 'published', 4) LIMIT 1 \gset
SELECT count(*) AS rows FROM get_user_posts_keyset('00000000-0000-4000-8000-000000000001', 'published', 4, :'c2');
\c
\i sql/include/catch_error.sql
SELECT count(*) AS new_session_rows FROM get_user_posts_keyset('00000000-0000-4000-8000-000000000001', 'published', 4, :'c2');
SELECT code, message FROM pg_temp.catch_error(format($$SELECT * FROM get_user_posts_keyset('00000000-0000-4000-8000-000000000001', 'published', 4, %L)$$, :'c'));

-- An application role with USAGE and SELECT on the tables pages through posts,
-- but cannot read (or change) the secret that signs the cursors.
CREATE ROLE chronicle_keyset_app;
GRANT USAGE ON SCHEMA public TO chronicle_keyset_app;
GRANT SELECT ON users, posts TO chronicle_keyset_app;
SET ROLE chronicle_keyset_app;
SELECT count(*) AS rows FROM get_user_posts_keyset('00000000-0000-4000-8000-000000000001', 'published', 4,
    (SELECT next_cursor FROM get_user_posts_keyset('00000000-0000-4000-8000-000000000001', 'published', 4) LIMIT 1));
SELECT code, message FROM pg_temp.catch_error($$SELECT * FROM cursor_secret$$);
SELECT code, message FROM pg_temp.catch_error($$UPDATE cursor_secret SET secret = secret$$);
RESET ROLE;
-- Without SELECT on posts, the function reads nothing.
REVOKE SELECT ON posts FROM chronicle_keyset_app;
SET ROLE chronicle_keyset_app;
SELECT code, message FROM pg_temp.catch_error($$SELECT * FROM get_user_posts_keyset('00000000-0000-4000-8000-000000000001')$$);
SELECT code, message FROM pg_temp.catch_error($$SELECT * FROM get_user_posts('00000000-0000-4000-8000-000000000001')$$);
RESET ROLE;
REVOKE ALL ON users FROM chronicle_keyset_app;
REVOKE ALL ON SCHEMA public FROM chronicle_keyset_app;
DROP ROLE chronicle_keyset_app;

SELECT proname, provolatile, proisstrict, prosecdef FROM pg_proc
 WHERE proname = 'get_user_posts_keyset' AND pronamespace = 'public'::regnamespace;

DROP EXTENSION chronicle CASCADE;

-- Every query the posts API runs uses an index on a realistic table: 100,000
-- posts over 2,000 users (one with 20,000), loaded by bench/load_posts.sql and
-- VACUUM ANALYZEd. Each query text is the library's own (src/posts/queries.cpp,
-- read through chronicle_posts_query_text of the test-only module
-- test/boundary), is PREPAREd with the parameter types the
-- library uses and EXPLAINed (FORMAT JSON) both as the generic plan a backend
-- settles on and as a custom plan for the 20,000-post user. A change that loses
-- an index, or a query the planner can no longer serve from one, fails here.
--
-- It needs VACUUM (outside a transaction), so it runs in a database of its own,
-- dropped at the end.
\set QUIET on
SELECT pg_catalog.current_database() AS tap_database \gset
DROP DATABASE IF EXISTS chronicle_posts_plans;
CREATE DATABASE chronicle_posts_plans;
\c chronicle_posts_plans
SET client_min_messages = warning;
CREATE EXTENSION pgtap;
CREATE EXTENSION chronicle;
\set users 2000
\set posts 100000
\set heavy_posts 20000
\o /dev/null
\ir ../../bench/load_posts.sql
\o
\set QUIET on
-- SPI plans are never parallel; neither are these.
SET max_parallel_workers_per_gather = 0;

CREATE FUNCTION pg_temp.query_text(name text, schema text) RETURNS text
    LANGUAGE C STRICT AS '$libdir/chronicle_boundary_test', 'chronicle_posts_query_text';

-- PREPAREs a query of the library under its own name.
CREATE FUNCTION pg_temp.prepare(name text, types text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('PREPARE %I(%s) AS %s', name, types, pg_temp.query_text(name, 'public'));
END
$$;
-- The plan nodes of EXPLAIN (FORMAT JSON) EXECUTE <call>, under plan_cache_mode `mode`.
CREATE FUNCTION pg_temp.nodes(mode text, call text)
RETURNS TABLE (node text, relation text, index_name text) LANGUAGE plpgsql AS $$
DECLARE
    plan jsonb;
BEGIN
    PERFORM set_config('plan_cache_mode', mode, true);
    EXECUTE 'EXPLAIN (FORMAT JSON) EXECUTE ' || call INTO plan;
    RETURN QUERY SELECT n ->> 'Node Type', n ->> 'Relation Name', n ->> 'Index Name'
                   FROM jsonb_path_query(plan, 'strict $.**') AS n
                  WHERE jsonb_typeof(n) = 'object' AND n ? 'Node Type';
END
$$;
-- ok when no node reads posts sequentially and every scan of posts uses `index`.
CREATE FUNCTION pg_temp.uses_index(mode text, call text, index text, description text)
RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
    seq boolean;
    scans text[];
BEGIN
    SELECT bool_or(node = 'Seq Scan' AND relation = 'posts'),
           array_agg(DISTINCT coalesce(index_name, node)) FILTER (WHERE relation = 'posts' AND node LIKE '%Scan')
      INTO seq, scans FROM pg_temp.nodes(mode, call);
    RETURN NEXT ok(NOT coalesce(seq, false) AND scans = ARRAY[index],
                   description || ' (' || mode || ': ' || coalesce(array_to_string(scans, ', '), 'no scan') || ')');
END
$$;

SELECT plan(25);

SELECT pg_temp.prepare('page_by_status', 'uuid, varchar, int8, timestamp, timestamp, uuid, bool, timestamp, uuid');
SELECT pg_temp.prepare('page_all', 'uuid, varchar, int8, timestamp, timestamp, uuid, bool, timestamp, uuid');
SELECT pg_temp.prepare('boundary_by_status', 'uuid, varchar, int8');
SELECT pg_temp.prepare('boundary_all', 'uuid, varchar, int8');
SELECT pg_temp.prepare('count_by_status', 'uuid, varchar');
SELECT pg_temp.prepare('count_all', 'uuid');
SELECT pg_temp.prepare('soft_delete', 'uuid, uuid');
SELECT pg_temp.prepare('increment', 'uuid, int4');
SELECT pg_temp.prepare('popular', 'int4, int8');

\set heavy '''00000000-0000-4000-8000-000000000001'''
\set light '''00000000-0000-4000-8000-000000000002'''
\set first_page '''infinity'', ''infinity'', ''ffffffff-ffff-ffff-ffff-ffffffffffff'', false, ''infinity'', ''ffffffff-ffff-ffff-ffff-ffffffffffff'''
\set deep_page '''2025-06-01'', ''2025-06-01'', ''80000000-0000-4000-8000-000000000000'', false, ''infinity'', ''ffffffff-ffff-ffff-ffff-ffffffffffff'''
\set null_part '''infinity'', ''infinity'', ''ffffffff-ffff-ffff-ffff-ffffffffffff'', true, ''2025-06-01'', ''80000000-0000-4000-8000-000000000000'''

-- get_user_posts / get_user_posts_keyset pages: straight off the index in the API's order.
SELECT pg_temp.uses_index(m, format('page_by_status(%s, ''published'', 11, %s)', :'heavy', p),
                          'idx_posts_user_status_order', 'a page of one status, ' || what)
  FROM unnest(ARRAY['force_generic_plan', 'force_custom_plan']) AS m,
       (VALUES (:'first_page', 'first page'), (:'deep_page', 'deep page')) AS pages(p, what);
SELECT pg_temp.uses_index(m, format('page_by_status(%s, ''draft'', 11, %s)', :'heavy', :'null_part'),
                          'idx_posts_user_status_order', 'a page of drafts (NULL published_at)')
  FROM unnest(ARRAY['force_generic_plan', 'force_custom_plan']) AS m;
SELECT pg_temp.uses_index(m, format('page_all(%s, NULL, 11, %s)', :'heavy', p),
                          'idx_posts_user_order', 'a page of every status, ' || what)
  FROM unnest(ARRAY['force_generic_plan', 'force_custom_plan']) AS m,
       (VALUES (:'first_page', 'first page'), (:'null_part', 'in the NULL part')) AS pages(p, what);
-- get_user_posts at an offset: the skipped entries are walked in the index only.
SELECT ok(EXISTS (SELECT FROM pg_temp.nodes(m, format('boundary_by_status(%s, ''published'', 10000)', :'heavy'))
                   WHERE node = 'Index Only Scan' AND index_name = 'idx_posts_user_status_order')
          AND NOT EXISTS (SELECT FROM pg_temp.nodes(m, format('boundary_by_status(%s, ''published'', 10000)', :'heavy'))
                           WHERE relation = 'posts' AND node <> 'Index Only Scan'),
          'a deep offset of one status is an index-only walk (' || m || ')')
  FROM unnest(ARRAY['force_generic_plan', 'force_custom_plan']) AS m;
SELECT ok(EXISTS (SELECT FROM pg_temp.nodes(m, format('boundary_all(%s, NULL, 10000)', :'heavy'))
                   WHERE node = 'Index Only Scan' AND index_name = 'idx_posts_user_order')
          AND NOT EXISTS (SELECT FROM pg_temp.nodes(m, format('boundary_all(%s, NULL, 10000)', :'heavy'))
                           WHERE relation = 'posts' AND node <> 'Index Only Scan'),
          'a deep offset of every status is an index-only walk (' || m || ')')
  FROM unnest(ARRAY['force_generic_plan', 'force_custom_plan']) AS m;
-- total_count: the pair's total by primary key, its unfolded deltas by index.
-- Deltas are folded as writers go, so the table is usually (nearly) empty and a
-- scan of it costs nothing; give it a backlog (pairs of +1/-1 that change no
-- count) as heavy concurrent writing would, so that its index must be used.
INSERT INTO post_count_deltas (user_id, status, delta)
SELECT ('00000000-0000-4000-8000-' || lpad(to_hex(2 + i % 1999), 12, '0'))::uuid, 'published', d
  FROM generate_series(1, 20000) AS i, (VALUES (1), (-1)) AS v(d);
ANALYZE post_count_deltas;
SELECT ok((SELECT bool_or(index_name = 'post_count_totals_pkey') AND bool_or(index_name = 'post_count_deltas_key')
                  AND NOT bool_or(node = 'Seq Scan')
             FROM pg_temp.nodes('force_generic_plan', c)), 'total_count reads post_counts'' tables by key: ' || c)
  FROM unnest(ARRAY[format('count_by_status(%s, ''published'')', :'heavy'), format('count_all(%s)', :'heavy')]) AS c;
-- increment_post_views and soft_delete_user: one row by primary key.
SELECT pg_temp.uses_index(m, 'increment(''80000000-0000-4000-8000-000000000000'', 1)', 'posts_pkey',
                          'increment_post_views finds its post by primary key')
  FROM unnest(ARRAY['force_generic_plan', 'force_custom_plan']) AS m;
SELECT ok((SELECT bool_or(index_name = 'users_pkey') AND NOT bool_or(node = 'Seq Scan')
             FROM pg_temp.nodes(m, format('soft_delete(%s, NULL)', :'light'))),
          'soft_delete_user finds its user by primary key (' || m || ')')
  FROM unnest(ARRAY['force_generic_plan', 'force_custom_plan']) AS m;
-- get_popular_posts: the date range of published posts from the partial index
-- on published_at; the rows themselves (view_count) from the table: no index
-- holds view_count, so that a view is a HOT update (1.2). Planned per call,
-- as the number of days decides whether the index is worth it: a week of
-- this data is 1% of the posts.
SELECT ok((SELECT bool_or(index_name = 'idx_posts_published_at')
                  AND NOT bool_or(node = 'Seq Scan' AND relation = 'posts')
             FROM pg_temp.nodes('force_custom_plan', format('popular(%s, 10)', d))),
          format('get_popular_posts(%s) reads the date range from idx_posts_published_at', d))
  FROM unnest(ARRAY[7, 30]) AS d;
SELECT is((SELECT count(*) FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
            WHERE i.indrelid = 'posts'::regclass AND a.attname = 'view_count'), 0::bigint,
          'no index of posts holds view_count, so increment_post_views can update in place (HOT)');

-- The functions themselves return what the plans promise on this data.
SELECT is((SELECT count(*) FROM get_user_posts(:heavy, 'published', 10, 15000)), 10::bigint,
          'get_user_posts reads a page 15,000 rows deep');
SELECT is((SELECT min(total_count) FROM get_user_posts(:heavy)),
          (SELECT count(*) FROM posts WHERE user_id = :heavy AND status = 'published'),
          'total_count is exact for the 20,000-post user');

SELECT * FROM finish();
\c :tap_database
DROP DATABASE chronicle_posts_plans;

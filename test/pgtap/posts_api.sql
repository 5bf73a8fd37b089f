-- The posts API's declarations, object by object: signatures with defaults,
-- result columns, language, volatility, SECURITY, comments, privileges, the
-- post_counts triggers and pg_dump registration. Installed in a schema of its
-- own to show that everything goes through @extschema@.
CREATE EXTENSION IF NOT EXISTS pgtap;
BEGIN;
SELECT plan(38);

CREATE SCHEMA api;
CREATE EXTENSION chronicle SCHEMA api;

-- Signatures and results (doc/sql-reference.md).
SELECT is(pg_get_function_arguments('api.get_user_posts(uuid, varchar, int, int)'::regprocedure),
          'p_user_id uuid, p_status character varying DEFAULT ''published''::character varying, p_limit integer DEFAULT 10, p_offset integer DEFAULT 0',
          'get_user_posts arguments and defaults');
SELECT is(pg_get_function_result('api.get_user_posts(uuid, varchar, int, int)'::regprocedure),
          'TABLE(id uuid, title character varying, content text, status character varying, published_at timestamp without time zone, view_count integer, total_count bigint)',
          'get_user_posts result columns');
SELECT is(pg_get_function_arguments('api.soft_delete_user(uuid, uuid)'::regprocedure),
          'p_user_id uuid, p_deleted_by uuid DEFAULT NULL::uuid', 'soft_delete_user arguments and defaults');
SELECT is(pg_get_function_result('api.soft_delete_user(uuid, uuid)'::regprocedure), 'void', 'soft_delete_user returns void');
SELECT is(pg_get_function_arguments('api.increment_post_views(uuid, int)'::regprocedure),
          'p_post_id uuid, p_increment integer DEFAULT 1', 'increment_post_views arguments and defaults');
SELECT is(pg_get_function_result('api.increment_post_views(uuid, int)'::regprocedure), 'integer',
          'increment_post_views returns integer');
SELECT is(pg_get_function_arguments('api.get_popular_posts(int, int)'::regprocedure),
          'p_days integer DEFAULT 7, p_limit integer DEFAULT 10', 'get_popular_posts arguments and defaults');
SELECT is(pg_get_function_result('api.get_popular_posts(int, int)'::regprocedure),
          'TABLE(id uuid, title character varying, view_count integer, author_name character varying, published_at timestamp without time zone)',
          'get_popular_posts result columns');
SELECT is(pg_get_function_arguments('api.get_user_posts_keyset(uuid, varchar, int, text)'::regprocedure),
          'p_user_id uuid, p_status character varying DEFAULT ''published''::character varying, p_limit integer DEFAULT 10, p_cursor text DEFAULT NULL::text',
          'get_user_posts_keyset arguments and defaults');
SELECT is(pg_get_function_result('api.get_user_posts_keyset(uuid, varchar, int, text)'::regprocedure),
          'TABLE(id uuid, title character varying, content text, status character varying, published_at timestamp without time zone, view_count integer, next_cursor text)',
          'get_user_posts_keyset result columns');

-- Native, invoker's rights, readers STABLE and writers VOLATILE, not STRICT
-- (NULL arguments get their own errors).
SELECT function_lang_is('api', f, 'c', f || ' is native')
  FROM unnest(ARRAY['get_user_posts', 'soft_delete_user', 'increment_post_views', 'get_popular_posts',
                    'get_user_posts_keyset']) AS f;
SELECT results_eq(
    $$SELECT proname::text COLLATE "default", provolatile::text, proisstrict, prosecdef FROM pg_proc
       WHERE pronamespace = 'api'::regnamespace
         AND proname IN ('get_user_posts', 'soft_delete_user', 'increment_post_views', 'get_popular_posts', 'get_user_posts_keyset')
       ORDER BY 1$$,
    $$VALUES ('get_popular_posts', 's', false, false), ('get_user_posts', 's', false, false),
             ('get_user_posts_keyset', 's', false, false), ('increment_post_views', 'v', false, false),
             ('soft_delete_user', 'v', false, false)$$,
    'volatility, strictness and security of the API');
SELECT is(obj_description(p, 'pg_proc'), c, 'comment on ' || p::text)
  FROM (VALUES ('api.get_user_posts(uuid, varchar, int, int)'::regprocedure, 'Get user posts with pagination and optional status filter'),
               ('api.soft_delete_user(uuid, uuid)', 'Soft delete user (set deleted_at timestamp)'),
               ('api.increment_post_views(uuid, int)', 'Atomically increment post view count'),
               ('api.get_popular_posts(int, int)', 'Get most viewed posts in last N days')) AS t(p, c);

-- The counting machinery writes as the owner and is closed to everyone else:
-- the native triggers switch to the tables' owner for their writes only; the
-- PL/pgSQL ones are SECURITY DEFINER with a safe search_path.
SELECT results_eq(
    $$SELECT proname::text COLLATE "default", prosecdef, array_to_string(proconfig, ',') COLLATE "default" FROM pg_proc
       WHERE pronamespace = 'api'::regnamespace AND (proname LIKE 'post_counts_%' OR proname = 'refresh_post_counts')
       ORDER BY 1$$,
    $$VALUES ('post_counts_after_delete', false, NULL),
             ('post_counts_after_insert', false, NULL),
             ('post_counts_after_truncate', true, 'search_path=pg_catalog, pg_temp'),
             ('post_counts_after_update', false, NULL),
             ('refresh_post_counts', true, 'search_path=pg_catalog, pg_temp')$$,
    'how each post_counts function gets the owner''s rights');
SELECT is((SELECT count(*)::int FROM pg_proc p WHERE pronamespace = 'api'::regnamespace
             AND (proname LIKE 'post_counts_%' OR proname = 'refresh_post_counts')
             AND has_function_privilege('public', p.oid, 'EXECUTE')), 0,
          'PUBLIC cannot execute (or attach) the post_counts functions');
SELECT is((SELECT count(*)::int FROM pg_proc p WHERE pronamespace = 'api'::regnamespace
             AND proname IN ('get_user_posts', 'soft_delete_user', 'increment_post_views', 'get_popular_posts', 'get_user_posts_keyset')
             AND has_function_privilege('public', p.oid, 'EXECUTE')), 5,
          'PUBLIC can execute the API (table privileges decide what it reads and writes)');
SELECT table_privs_are('api', t, 'public', ARRAY[]::text[], 'PUBLIC has no privilege on ' || t)
  FROM unnest(ARRAY['post_counts', 'post_count_totals', 'post_count_deltas', 'cursor_secret']) AS t;

-- 1.2: a view is not an edit. posts_updated_at_trigger fires on every UPDATE
-- (no UPDATE OF list, no WHEN) and leaves updated_at alone when view_count is
-- the only column whose value changed (its option after the column argument).
SELECT is((SELECT pg_get_triggerdef(oid) FROM pg_trigger
            WHERE tgrelid = 'api.posts'::regclass AND tgname = 'posts_updated_at_trigger'),
          'CREATE TRIGGER posts_updated_at_trigger BEFORE UPDATE ON api.posts FOR EACH ROW EXECUTE FUNCTION api.update_updated_at_column(''updated_at'', ''not_an_edit=view_count'')',
          'posts_updated_at_trigger: its 1.2 definition, the column and the option not_an_edit=view_count');
SELECT is((SELECT ARRAY[tgattr::text, (tgqual IS NULL)::text, tgnargs::text] FROM pg_trigger
            WHERE tgrelid = 'api.posts'::regclass AND tgname = 'posts_updated_at_trigger'),
          ARRAY['', 'true', '2'], 'posts_updated_at_trigger: no column list, no WHEN clause, two arguments');

-- post_counts: its triggers on posts, and pg_dump registration.
SELECT set_eq(
    $$SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgrelid = 'api.posts'::regclass AND tgname LIKE 'posts_count_%'$$,
    $$VALUES
      ('CREATE TRIGGER posts_count_insert AFTER INSERT ON api.posts REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION api.post_counts_after_insert()'),
      ('CREATE TRIGGER posts_count_delete AFTER DELETE ON api.posts REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION api.post_counts_after_delete()'),
      ('CREATE TRIGGER posts_count_update AFTER UPDATE OF user_id, status ON api.posts FOR EACH ROW EXECUTE FUNCTION api.post_counts_after_update()'),
      ('CREATE TRIGGER posts_count_truncate AFTER TRUNCATE ON api.posts FOR EACH STATEMENT EXECUTE FUNCTION api.post_counts_after_truncate()')$$,
    'posts has the four post_counts triggers');
SELECT is((SELECT tgenabled::text FROM pg_trigger WHERE tgrelid = 'api.posts'::regclass AND tgname = 'posts_count_insert'), 'O',
          'the post_counts triggers do not fire while a restore runs as replica');
SELECT set_has(
    $$SELECT cfg::regclass::text, cond FROM pg_extension e, unnest(e.extconfig, e.extcondition) AS c(cfg, cond)
       WHERE e.extname = 'chronicle'$$,
    $$VALUES ('api.post_count_totals', ''), ('api.post_count_deltas', ''), ('api.cursor_secret', 'WHERE false')$$,
    'post_counts'' tables are dumped with posts; the cursor secret is registered but never dumped');
SELECT is((SELECT octet_length(secret) FROM api.cursor_secret), 48, 'the cursor secret has 48 random bytes');

-- The indexes the API reads, with their definitions.
SELECT set_has(
    $$SELECT pg_get_indexdef(indexrelid) FROM pg_index
       WHERE indrelid IN ('api.posts'::regclass, 'api.post_count_totals'::regclass, 'api.post_count_deltas'::regclass)$$,
    $$VALUES
      ('CREATE INDEX idx_posts_user_status_order ON api.posts USING btree (user_id, status, published_at DESC NULLS LAST, created_at DESC, id DESC)'),
      ('CREATE INDEX idx_posts_user_order ON api.posts USING btree (user_id, published_at DESC NULLS LAST, created_at DESC, id DESC)'),
      ('CREATE INDEX idx_posts_published_at ON api.posts USING btree (published_at DESC) WHERE ((status)::text = ''published''::text)'),
      ('CREATE UNIQUE INDEX post_count_totals_pkey ON api.post_count_totals USING btree (user_id, status)'),
      ('CREATE INDEX post_count_deltas_key ON api.post_count_deltas USING btree (user_id, status)')$$,
    'the posts API''s indexes');

-- Calling through the schema works whatever the search_path.
SET LOCAL search_path = public;  -- pgTAP lives there; chronicle (schema api) does not
INSERT INTO api.users (id, email, name, password_hash) VALUES ('00000000-0000-4000-8000-000000000001', 'a@example.com', 'Al', 'x');
INSERT INTO api.posts (user_id, title, content, status) VALUES ('00000000-0000-4000-8000-000000000001', 't', 'c', 'published');
SELECT is((SELECT total_count FROM api.get_user_posts('00000000-0000-4000-8000-000000000001')), 1::bigint,
          'get_user_posts works with the extension schema off the search_path');
SELECT is((SELECT count(*) FROM api.get_user_posts_keyset('00000000-0000-4000-8000-000000000001')), 1::bigint,
          'get_user_posts_keyset works with the extension schema off the search_path');
SELECT lives_ok($$SELECT api.soft_delete_user('00000000-0000-4000-8000-000000000001')$$,
                'soft_delete_user works with the extension schema off the search_path');
SELECT throws_ok($$SELECT api.increment_post_views('00000000-0000-4000-8000-000000000009')$$, 'P0002',
                 'Post 00000000-0000-4000-8000-000000000009 not found or not published',
                 'increment_post_views raises P0002 with the reference''s message');

SELECT * FROM finish();
ROLLBACK;

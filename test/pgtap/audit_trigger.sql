-- The native audit trigger through pgTAP, with the extension in a schema of its
-- own that is not on the search_path: audit_logs is found in the extension's
-- schema (a planted public.audit_logs stays empty), rows equal to_jsonb, options,
-- settings, row and statement modes, enable_audit / disable_audit, errors with
-- their SQLSTATEs, and the privileges of an application role.
CREATE EXTENSION IF NOT EXISTS pgtap;
BEGIN;
SELECT plan(43);

CREATE SCHEMA app;
CREATE EXTENSION chronicle SCHEMA app;
CREATE TABLE public.audit_logs (LIKE app.audit_logs);   -- planted: must stay empty
SET search_path = public, pg_catalog;

-- The function and the trigger -----------------------------------------------
SELECT has_function('app', 'audit_trigger_function', ARRAY[]::text[], 'audit_trigger_function() exists');
SELECT function_lang_is('app', 'audit_trigger_function', ARRAY[]::text[], 'c', 'it is native (LANGUAGE C)');
SELECT function_returns('app', 'audit_trigger_function', ARRAY[]::text[], 'trigger', 'it returns trigger');
SELECT is(has_function_privilege('public', 'app.audit_trigger_function()', 'EXECUTE'), false,
          'PUBLIC may not attach it to tables (it writes audit_logs with the extension''s rights)');
SELECT trigger_is('app', 'posts', 'posts_audit_trigger', 'app', 'audit_trigger_function',
                  'posts_audit_trigger runs it');
SELECT is((SELECT tgtype::int FROM pg_trigger WHERE tgname = 'posts_audit_trigger'), 29,
          'posts_audit_trigger: AFTER INSERT OR UPDATE OR DELETE FOR EACH ROW');
-- 1.2: every UPDATE fires it (no UPDATE OF list, no WHEN), and its option
-- not_an_edit=view_count decides by the values that a view writes no row.
SELECT is((SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgname = 'posts_audit_trigger'),
          'CREATE TRIGGER posts_audit_trigger AFTER INSERT OR DELETE OR UPDATE ON app.posts FOR EACH ROW EXECUTE FUNCTION app.audit_trigger_function(''not_an_edit=view_count'')',
          'posts_audit_trigger: its 1.2 definition, the option not_an_edit=view_count');
SELECT is((SELECT ARRAY[tgattr::text, (tgqual IS NULL)::text, tgnargs::text, tgenabled::text] FROM pg_trigger
            WHERE tgname = 'posts_audit_trigger'),
          ARRAY['', 'true', '1', 'O'],
          'posts_audit_trigger: no column list, no WHEN clause, one argument, enabled as origin');
SELECT is(obj_description('app.audit_trigger_function()'::regprocedure, 'pg_proc'),
          'Log all data changes to audit_logs table', 'it has the reference''s comment');

-- Row mode on posts ----------------------------------------------------------
INSERT INTO app.users (id, email, name, password_hash)
VALUES ('00000000-0000-0000-0000-0000000000a1', 'ann@example.com', 'Ann', 'h');
CREATE TEMP TABLE expected_rows (n serial, op text, old_row jsonb, new_row jsonb);
INSERT INTO app.posts (id, user_id, title, content)
VALUES ('00000000-0000-0000-0000-0000000000b1', '00000000-0000-0000-0000-0000000000a1', 'Hello', 'World');
INSERT INTO expected_rows (op, new_row) SELECT 'INSERT', to_jsonb(p) FROM app.posts p;
INSERT INTO expected_rows (op, old_row) SELECT 'UPDATE', to_jsonb(p) FROM app.posts p;
UPDATE app.posts SET status = 'published', title = 'Hello!';
UPDATE expected_rows SET new_row = (SELECT to_jsonb(p) FROM app.posts p) WHERE op = 'UPDATE';
INSERT INTO expected_rows (op, old_row) SELECT 'DELETE', to_jsonb(p) FROM app.posts p;
DELETE FROM app.posts;

SELECT results_eq(
    $$SELECT operation::text, old_data, new_data FROM app.audit_logs ORDER BY id$$,
    $$SELECT op, old_row, new_row FROM expected_rows ORDER BY n$$,
    'one audit row per change, old_data/new_data equal to to_jsonb(OLD/NEW)');
SELECT results_eq(
    $$SELECT changed_fields FROM app.audit_logs ORDER BY id$$,
    $$VALUES ('{}'::text[]), ('{title,status,published_at}'), ('{}')$$,
    'changed_fields: every changed column in column order (updated_at keeps the transaction''s time), {} for INSERT and DELETE');
SELECT is((SELECT count(DISTINCT record_id)::int FROM app.audit_logs WHERE record_id = '00000000-0000-0000-0000-0000000000b1'),
          1, 'record_id is the post''s id');
SELECT is((SELECT bool_and(user_id = '00000000-0000-0000-0000-0000000000a1') FROM app.audit_logs), true,
          'user_id falls back to the post''s user_id');
SELECT is((SELECT table_name::text FROM app.audit_logs LIMIT 1), 'posts', 'table_name is the table''s name');
SELECT is((SELECT count(*)::int FROM public.audit_logs), 0, 'the planted public.audit_logs is untouched');

-- Settings -------------------------------------------------------------------
SET LOCAL chronicle.actor_id = '00000000-0000-0000-0000-0000000000ff';
SET LOCAL chronicle.client_ip = '198.51.100.4';
SET LOCAL chronicle.user_agent = 'pgtap';
INSERT INTO app.posts (id, user_id, title, content)
VALUES ('00000000-0000-0000-0000-0000000000b2', '00000000-0000-0000-0000-0000000000a1', 'Two', 'x');
SELECT results_eq(
    $$SELECT user_id, ip_address, user_agent FROM app.audit_logs ORDER BY id DESC LIMIT 1$$,
    $$VALUES ('00000000-0000-0000-0000-0000000000ff'::uuid, '198.51.100.4'::inet, 'pgtap'::text)$$,
    'chronicle.actor_id, client_ip and user_agent are recorded');
SET LOCAL chronicle.actor_id = 'nobody';
SELECT throws_ok($$UPDATE app.posts SET title = 'x'$$, '22P02', 'invalid input syntax for type uuid: "nobody"',
                 'an actor_id that is not a uuid fails the statement');
RESET chronicle.actor_id;
RESET chronicle.client_ip;
RESET chronicle.user_agent;
SELECT is((SELECT title::text FROM app.posts), 'Two', 'and leaves the row unchanged');

-- Options and errors on a table of our own -----------------------------------
CREATE TABLE public.gadgets (id int PRIMARY KEY, ref uuid, owner_id uuid, name text, clicks int DEFAULT 0);
CREATE TRIGGER gadgets_audit AFTER INSERT OR UPDATE OR DELETE ON public.gadgets FOR EACH ROW
    EXECUTE FUNCTION app.audit_trigger_function('record_id=ref', 'ignore=clicks');
INSERT INTO public.gadgets VALUES (1, '00000000-0000-0000-0000-0000000000c1', NULL, 'g');
UPDATE public.gadgets SET clicks = clicks + 1;
UPDATE public.gadgets SET clicks = clicks + 1, name = 'h';
SELECT results_eq(
    $$SELECT record_id, changed_fields FROM app.audit_logs WHERE table_name = 'gadgets' ORDER BY id$$,
    $$VALUES ('00000000-0000-0000-0000-0000000000c1'::uuid, '{}'::text[]),
             ('00000000-0000-0000-0000-0000000000c1', '{}'),
             ('00000000-0000-0000-0000-0000000000c1', '{name}')$$,
    'record_id= and ignore= are applied');

SELECT throws_ok($$SELECT app.audit_trigger_function()$$, '39P01', NULL,
                 'called directly: 39P01');
DROP TRIGGER gadgets_audit ON public.gadgets;
CREATE TRIGGER gadgets_audit BEFORE UPDATE ON public.gadgets FOR EACH ROW EXECUTE FUNCTION app.audit_trigger_function();
SELECT throws_ok($$UPDATE public.gadgets SET name = 'z'$$, '39P01', NULL, 'fired BEFORE: 39P01');
DROP TRIGGER gadgets_audit ON public.gadgets;
CREATE TRIGGER gadgets_audit AFTER UPDATE ON public.gadgets FOR EACH STATEMENT EXECUTE FUNCTION app.audit_trigger_function();
SELECT throws_ok($$UPDATE public.gadgets SET name = 'z'$$, '39P01', NULL,
                 'FOR EACH STATEMENT without transition tables: 39P01');
DROP TRIGGER gadgets_audit ON public.gadgets;
CREATE TRIGGER gadgets_audit AFTER UPDATE ON public.gadgets FOR EACH ROW EXECUTE FUNCTION app.audit_trigger_function('speed=fast');
SELECT throws_ok($$UPDATE public.gadgets SET name = 'z'$$, '22023',
                 'invalid option for trigger "gadgets_audit" on table "public.gadgets": unknown key "speed"',
                 'an unknown option: 22023 naming the trigger');
DROP TRIGGER gadgets_audit ON public.gadgets;
CREATE TRIGGER gadgets_audit AFTER UPDATE ON public.gadgets FOR EACH ROW EXECUTE FUNCTION app.audit_trigger_function('ignore=nothing');
SELECT throws_ok($$UPDATE public.gadgets SET name = 'z'$$, '42703', 'column "nothing" of relation "gadgets" does not exist',
                 'ignore= of a missing column: 42703');
DROP TRIGGER gadgets_audit ON public.gadgets;
CREATE TRIGGER gadgets_audit AFTER UPDATE ON public.gadgets FOR EACH ROW EXECUTE FUNCTION app.audit_trigger_function('record_id=name');
SELECT throws_ok($$UPDATE public.gadgets SET name = 'z'$$, '42804', 'column "name" of relation "gadgets" is of type text, not uuid',
                 'record_id= of a column that is not a uuid: 42804');
DROP TRIGGER gadgets_audit ON public.gadgets;
SELECT is((SELECT name FROM public.gadgets), 'h', 'no failed statement changed the row');

-- Statement mode equals row mode ------------------------------------------------
CREATE TABLE public.twin_row (id int PRIMARY KEY, v numeric, tags text[], doc jsonb);
CREATE TABLE public.twin_stmt (LIKE public.twin_row INCLUDING ALL);
SELECT lives_ok($$SELECT app.enable_audit('public.twin_row')$$, 'enable_audit in row mode');
SELECT lives_ok($$SELECT app.enable_audit('public.twin_stmt', '{mode=statement}')$$, 'enable_audit in statement mode');
SELECT is((SELECT count(*)::int FROM pg_trigger WHERE tgrelid = 'public.twin_stmt'::regclass
           AND tgfoid = 'app.audit_trigger_function()'::regprocedure AND (tgtype & 1) = 0), 3,
          'enable_audit mode=statement puts three statement triggers');
INSERT INTO public.twin_row SELECT g, g / 7.0, ARRAY[g::text, NULL], jsonb_build_object('g', g) FROM generate_series(1, 700) g;
INSERT INTO public.twin_stmt SELECT g, g / 7.0, ARRAY[g::text, NULL], jsonb_build_object('g', g) FROM generate_series(1, 700) g;
UPDATE public.twin_row SET v = v * 2 WHERE id % 3 = 0;
UPDATE public.twin_stmt SET v = v * 2 WHERE id % 3 = 0;
DELETE FROM public.twin_row WHERE id > 600;
DELETE FROM public.twin_stmt WHERE id > 600;
SELECT results_eq(
    $$SELECT operation::text, record_id, old_data, new_data, changed_fields FROM app.audit_logs WHERE table_name = 'twin_row' ORDER BY id$$,
    $$SELECT operation::text, record_id, old_data, new_data, changed_fields FROM app.audit_logs WHERE table_name = 'twin_stmt' ORDER BY id$$,
    'statement mode writes the same audit rows as row mode, in the same order');
SELECT is((SELECT count(*)::int FROM app.audit_logs WHERE table_name = 'twin_stmt'), 700 + 233 + 100,
          'one audit row per changed row');
SELECT throws_ok($$SELECT app.enable_audit('public.twin_row', '{mode=statement, ignore=nope}')$$, '42703', NULL,
                 'enable_audit checks the options at once');
SELECT lives_ok($$SELECT app.enable_audit('public.twin_row'); SELECT app.disable_audit('public.twin_stmt');
                  SELECT app.disable_audit('public.twin_stmt')$$, 'enable_audit again, disable_audit twice');
SELECT is((SELECT count(*)::int FROM pg_trigger WHERE tgrelid IN ('public.twin_row'::regclass, 'public.twin_stmt'::regclass)
           AND tgfoid = 'app.audit_trigger_function()'::regprocedure), 1,
          'enable_audit and disable_audit are idempotent');

-- Privileges -------------------------------------------------------------------
CREATE ROLE tap_audit_app;
GRANT USAGE ON SCHEMA app TO tap_audit_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON app.users, app.posts TO tap_audit_app;
SET ROLE tap_audit_app;
SELECT lives_ok($$INSERT INTO app.posts (id, user_id, title, content)
                  VALUES ('00000000-0000-0000-0000-0000000000b3', '00000000-0000-0000-0000-0000000000a1', 'Three', 'y');
                  UPDATE app.posts SET content = 'z' WHERE id = '00000000-0000-0000-0000-0000000000b3';
                  DELETE FROM app.posts WHERE id = '00000000-0000-0000-0000-0000000000b3'$$,
                'an application role writes posts');
SELECT throws_ok($$INSERT INTO app.audit_logs (table_name, operation) VALUES ('posts', 'INSERT')$$, '42501', NULL,
                 'it cannot insert audit rows');
SELECT throws_ok($$UPDATE app.audit_logs SET user_agent = 'x'$$, '42501', NULL, 'nor update them');
SELECT throws_ok($$DELETE FROM app.audit_logs$$, '42501', NULL, 'nor delete them');
SELECT throws_ok($$TRUNCATE app.audit_logs$$, '42501', NULL, 'nor truncate the log');
SELECT throws_ok($$SELECT nextval('app.audit_logs_id_seq')$$, '42501', NULL, 'nor advance its sequence');
SELECT throws_ok($$CREATE TEMP TABLE posts (id uuid); CREATE TRIGGER f AFTER INSERT ON pg_temp.posts FOR EACH ROW
                   EXECUTE FUNCTION app.audit_trigger_function()$$, '42501', NULL,
                 'nor attach the audit trigger to a table of its own');
SELECT throws_ok($$SELECT app.enable_audit('app.users')$$, '42501', NULL, 'nor call enable_audit');
RESET ROLE;
SELECT results_eq(
    $$SELECT operation::text FROM app.audit_logs WHERE record_id = '00000000-0000-0000-0000-0000000000b3' ORDER BY id$$,
    $$VALUES ('INSERT'), ('UPDATE'), ('DELETE')$$,
    'its changes are audited all the same');

SELECT * FROM finish();
ROLLBACK;

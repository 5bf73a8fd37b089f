/* chronicle 1.0 -> 1.1: users.phone (the reference's zero-downtime example 2),
 * keyset pagination, enable_audit / disable_audit. Reverse: chronicle--1.1--1.0.sql.
 * Rules (MIGRATIONS.md): no table rewrite, no long lock, a lock_timeout. */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION chronicle UPDATE TO '1.1'" to load this file. \quit

-- Fail fast instead of queueing every writer behind a long transaction: the
-- ALTER TABLE below needs an ACCESS EXCLUSIVE lock on users, and while it waits
-- for it every other lock request on users waits behind it. A lock_timeout the
-- session chose is kept. The setting lasts until the end of the transaction.
SELECT pg_catalog.set_config('lock_timeout', '2s', true)
 WHERE pg_catalog.current_setting('lock_timeout') OPERATOR(pg_catalog.=) '0';

-- ---------------------------------------------------------------------------
-- Deferred work: the registry of steps that must run outside ALTER EXTENSION
-- (CREATE INDEX CONCURRENTLY cannot run in a transaction; VALIDATE CONSTRAINT
-- scans the table). Each version step registers its rows; its reverse deletes
-- them. pending_migration_steps() derives from the catalog which of them are
-- still to do, so a step that is done (index valid, constraint validated) is
-- no longer listed, whoever did it.
-- ---------------------------------------------------------------------------
CREATE TABLE @extschema@.migration_steps (
    position integer PRIMARY KEY,   -- run in ascending order
    version text NOT NULL,          -- the version whose step registered it
    kind text NOT NULL,
    table_name name NOT NULL,       -- a table of the extension's schema
    object_name name NOT NULL,      -- the index or constraint
    index_definition text,          -- create_index: what follows "ON schema.table"
    CONSTRAINT migration_steps_kind CHECK (
        kind OPERATOR(pg_catalog.=) ANY (ARRAY['create_index', 'validate_constraint', 'drop_index']::text[])),
    CONSTRAINT migration_steps_definition CHECK (
        (kind OPERATOR(pg_catalog.=) 'create_index'::text) OPERATOR(pg_catalog.=) (index_definition IS NOT NULL)),
    CONSTRAINT migration_steps_object UNIQUE (kind, table_name, object_name)
);

COMMENT ON TABLE @extschema@.migration_steps IS
    'Steps each version registered to run outside ALTER EXTENSION; pending_migration_steps() lists those not done yet';

-- 1.1's deferred steps, in the order to run them: the index on phone, the
-- covering index of the reference (example 3), then the validation.
INSERT INTO @extschema@.migration_steps
    (position, version, kind, table_name, object_name, index_definition)
VALUES
    (110, '1.1', 'create_index', 'users', 'idx_users_phone', 'USING btree (phone)'),
    (120, '1.1', 'create_index', 'posts', 'idx_posts_user_status_covering',
     'USING btree (user_id, status) INCLUDE (title, content, created_at, published_at, view_count)'),
    (130, '1.1', 'validate_constraint', 'users', 'check_phone_format', NULL);

-- The statements still to run, in order. Names are resolved at call time from
-- the extension's schema and quoted, so the DDL acts on the extension's tables
-- whatever the caller's search_path. A failed CREATE INDEX CONCURRENTLY leaves
-- an invalid index behind: it is dropped first, then built again.
CREATE FUNCTION @extschema@.pending_migration_steps()
RETURNS TABLE (name text, ddl text)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH ext AS (
        SELECT n.oid AS nsp, n.nspname AS schema
          FROM pg_catalog.pg_extension e
          JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
         WHERE e.extname = 'chronicle'
    ), state AS (
        SELECT s.position, s.kind, s.table_name, s.object_name, s.index_definition, ext.schema,
               i.indisvalid,      -- NULL: no such index on that table
               c.convalidated     -- NULL: no such constraint on that table
          FROM @extschema@.migration_steps s
         CROSS JOIN ext
          LEFT JOIN pg_catalog.pg_class t
                 ON t.relnamespace = ext.nsp AND t.relname = s.table_name AND t.relkind = 'r'
          LEFT JOIN pg_catalog.pg_class ic
                 ON ic.relnamespace = ext.nsp AND ic.relname = s.object_name AND ic.relkind = 'i'
          LEFT JOIN pg_catalog.pg_index i ON i.indexrelid = ic.oid AND i.indrelid = t.oid
          LEFT JOIN pg_catalog.pg_constraint c ON c.conrelid = t.oid AND c.conname = s.object_name
    )
    SELECT step.name, step.ddl
      FROM state st
     CROSS JOIN LATERAL (VALUES
        (1, st.kind = 'create_index' AND st.indisvalid IS FALSE,
         'drop invalid index ' || st.object_name,
         pg_catalog.format('DROP INDEX CONCURRENTLY IF EXISTS %I.%I', st.schema, st.object_name)),
        (2, st.kind = 'create_index' AND st.indisvalid IS NOT TRUE,
         'create index ' || st.object_name,
         pg_catalog.format('CREATE INDEX CONCURRENTLY IF NOT EXISTS %I ON %I.%I %s',
                           st.object_name, st.schema, st.table_name, st.index_definition)),
        (3, st.kind = 'validate_constraint' AND st.convalidated IS FALSE,
         'validate constraint ' || st.table_name || '.' || st.object_name,
         pg_catalog.format('ALTER TABLE %I.%I VALIDATE CONSTRAINT %I', st.schema, st.table_name, st.object_name)),
        (4, st.kind = 'drop_index' AND st.indisvalid IS NOT NULL,
         'drop index ' || st.object_name,
         pg_catalog.format('DROP INDEX CONCURRENTLY IF EXISTS %I.%I', st.schema, st.object_name))
     ) AS step(sub, pending, name, ddl)
     WHERE step.pending
     ORDER BY st.position, step.sub
$$;

COMMENT ON FUNCTION @extschema@.pending_migration_steps() IS
    'Statements to run outside ALTER EXTENSION, in order: SELECT ddl FROM pending_migration_steps() \gexec';

-- ---- audit: enable_audit / disable_audit ----
-- enable_audit(table, options) puts the native audit trigger on any table:
--   mode=row (default): AFTER INSERT OR UPDATE OR DELETE FOR EACH ROW, named
--     <table>_audit_trigger (posts' own trigger of 1.0 is exactly that);
--   mode=statement: three AFTER ... FOR EACH STATEMENT triggers with transition
--     tables (PostgreSQL allows them for one event each), <table>_audit_insert,
--     _update, _delete: the same audit rows, written in batches; the table needs a
--     primary key.
-- Every other option (ignore=, record_id=) goes to the trigger, checked now with
-- the trigger's own errors. Idempotent: when the table's audit triggers already
-- are what is asked for, nothing changes; otherwise they are replaced.
-- disable_audit(table) drops every trigger on the table that runs
-- audit_trigger_function(). Both run with the caller's rights: the caller needs
-- to own the table (CREATE/DROP TRIGGER) and EXECUTE on audit_trigger_function,
-- which only the extension's owner has unless granted (see 1.0).
CREATE FUNCTION @extschema@.audit_check_options(p_table regclass, p_trigger name, p_options text[])
RETURNS void
LANGUAGE C
AS 'MODULE_PATHNAME', 'chronicle_audit_check_options';

COMMENT ON FUNCTION @extschema@.audit_check_options(regclass, name, text[]) IS
    'Checks audit_trigger_function options for a table as its first firing would (used by enable_audit)';

CREATE FUNCTION @extschema@.enable_audit(p_table regclass, p_options text[] DEFAULT '{}')
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_function oid := '@extschema@.audit_trigger_function()'::pg_catalog.regprocedure;
    v_function_name text;
    v_relname text;
    v_mode text;
    v_args text[] := '{}';
    v_option text;
    v_literals text;
    v_wanted text[];
    v_existing text[];
    v_trigger record;
BEGIN
    IF p_table IS NULL OR p_options IS NULL THEN
        RAISE EXCEPTION 'enable_audit() does not accept NULL arguments' USING ERRCODE = '22004';
    END IF;
    FOREACH v_option IN ARRAY p_options LOOP
        IF v_option IS NULL THEN
            RAISE EXCEPTION 'enable_audit(): an option is NULL' USING ERRCODE = '22004';
        END IF;
        IF pg_catalog.strpos(v_option, '=') OPERATOR(pg_catalog.>) 0
           AND pg_catalog.btrim(pg_catalog.split_part(v_option, '=', 1)) OPERATOR(pg_catalog.=) 'mode' THEN
            IF v_mode IS NOT NULL THEN
                RAISE EXCEPTION 'invalid option for enable_audit(%): key "mode" is given more than once', p_table
                    USING ERRCODE = '22023';
            END IF;
            v_mode := pg_catalog.btrim(pg_catalog.substr(v_option, pg_catalog.strpos(v_option, '=') OPERATOR(pg_catalog.+) 1));
            IF v_mode OPERATOR(pg_catalog.<>) ALL (ARRAY['row', 'statement']) THEN
                RAISE EXCEPTION 'invalid option for enable_audit(%): mode must be row or statement, not "%"', p_table, v_mode
                    USING ERRCODE = '22023';
            END IF;
        ELSE
            v_args := v_args OPERATOR(pg_catalog.||) v_option;
        END IF;
    END LOOP;
    v_mode := COALESCE(v_mode, 'row');

    SELECT c.relname INTO v_relname FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) p_table;
    SELECT pg_catalog.format('%I.%I', n.nspname, p.proname) INTO v_function_name
      FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) p.pronamespace
     WHERE p.oid OPERATOR(pg_catalog.=) v_function;

    -- The triggers wanted, as "name|tgtype|args|old table|new table". Names are
    -- <table>_audit_<suffix>, the table name shortened to fit in 63 bytes.
    SELECT pg_catalog.array_agg(w.name OPERATOR(pg_catalog.||) '|' OPERATOR(pg_catalog.||) w.spec ORDER BY w.name)
      INTO v_wanted
      FROM (SELECT (SELECT pg_catalog.left(v_relname, k) OPERATOR(pg_catalog.||) t.suffix
                      FROM pg_catalog.generate_series(pg_catalog.length(v_relname), 0, -1) AS k
                     WHERE pg_catalog.octet_length(pg_catalog.left(v_relname, k) OPERATOR(pg_catalog.||) t.suffix)
                           OPERATOR(pg_catalog.<=) 63
                     LIMIT 1) AS name,
                   t.spec
              FROM (VALUES ('row', '_audit_trigger', '29||'),
                           ('statement', '_audit_insert', '4||new_rows'),
                           ('statement', '_audit_update', '16|old_rows|new_rows'),
                           ('statement', '_audit_delete', '8|old_rows|')) AS t(mode, suffix, spec)
             WHERE t.mode OPERATOR(pg_catalog.=) v_mode) AS w;

    IF v_mode OPERATOR(pg_catalog.=) 'statement' AND NOT EXISTS (
        SELECT FROM pg_catalog.pg_index i WHERE i.indrelid OPERATOR(pg_catalog.=) p_table AND i.indisprimary) THEN
        RAISE EXCEPTION 'statement-level audit of table % needs a primary key', p_table
            USING ERRCODE = '55000',
                  DETAIL = 'Statement mode audits an UPDATE per statement, pairing each row''s old and new image; that needs rows identified by a primary key.',
                  HINT = 'Add a primary key, or use mode=row.';
    END IF;
    FOR v_trigger IN SELECT pg_catalog.split_part(w, '|', 1) AS name FROM pg_catalog.unnest(v_wanted) AS w LOOP
        PERFORM @extschema@.audit_check_options(p_table, v_trigger.name::name, v_args);
    END LOOP;

    -- The audit triggers the table has, in the same form (args compared as the
    -- bytes pg_trigger stores: each argument followed by a zero byte).
    SELECT pg_catalog.array_agg(t.tgname::text OPERATOR(pg_catalog.||) '|' OPERATOR(pg_catalog.||) t.tgtype::text
                                OPERATOR(pg_catalog.||) '|' OPERATOR(pg_catalog.||) COALESCE(t.tgoldtable::text, '')
                                OPERATOR(pg_catalog.||) '|' OPERATOR(pg_catalog.||) COALESCE(t.tgnewtable::text, '')
                                ORDER BY t.tgname)
      INTO v_existing
      FROM pg_catalog.pg_trigger t
     WHERE t.tgrelid OPERATOR(pg_catalog.=) p_table AND t.tgfoid OPERATOR(pg_catalog.=) v_function
       AND t.tgenabled OPERATOR(pg_catalog.=) 'O'
       AND t.tgqual IS NULL                                  -- no WHEN condition
       AND t.tgattr::text OPERATOR(pg_catalog.=) ''                    -- no UPDATE OF list
       AND t.tgargs OPERATOR(pg_catalog.=) COALESCE(
           (SELECT pg_catalog.string_agg(pg_catalog.convert_to(a, pg_catalog.getdatabaseencoding())
                                         OPERATOR(pg_catalog.||) '\x00'::bytea, ''::bytea ORDER BY o)
              FROM pg_catalog.unnest(v_args) WITH ORDINALITY AS x(a, o)), ''::bytea);
    IF v_existing IS NOT DISTINCT FROM v_wanted AND (
        SELECT pg_catalog.count(*) FROM pg_catalog.pg_trigger t
         WHERE t.tgrelid OPERATOR(pg_catalog.=) p_table AND t.tgfoid OPERATOR(pg_catalog.=) v_function)
       OPERATOR(pg_catalog.=) pg_catalog.cardinality(v_wanted) THEN
        RETURN;  -- already audited exactly so
    END IF;

    PERFORM @extschema@.disable_audit(p_table);
    SELECT COALESCE(pg_catalog.string_agg(pg_catalog.quote_literal(a), ', ' ORDER BY o), '') INTO v_literals
      FROM pg_catalog.unnest(v_args) WITH ORDINALITY AS x(a, o);
    FOR v_trigger IN
        SELECT pg_catalog.split_part(w, '|', 1) AS name, pg_catalog.split_part(w, '|', 2)::int AS tgtype
          FROM pg_catalog.unnest(v_wanted) AS w LOOP
        EXECUTE pg_catalog.format('CREATE TRIGGER %I AFTER %s ON %s %s EXECUTE FUNCTION %s(%s)',
            v_trigger.name,
            CASE v_trigger.tgtype WHEN 29 THEN 'INSERT OR UPDATE OR DELETE' WHEN 4 THEN 'INSERT'
                                  WHEN 16 THEN 'UPDATE' ELSE 'DELETE' END,
            p_table,
            CASE v_trigger.tgtype WHEN 29 THEN 'FOR EACH ROW'
                                  WHEN 4 THEN 'REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT'
                                  WHEN 16 THEN 'REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT'
                                  ELSE 'REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT' END,
            v_function_name, v_literals);
    END LOOP;
END
$$;

COMMENT ON FUNCTION @extschema@.enable_audit(regclass, text[]) IS
    'Audit a table with audit_trigger_function (options: mode=row|statement, ignore=, record_id=); idempotent';

CREATE FUNCTION @extschema@.disable_audit(p_table regclass)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_trigger name;
BEGIN
    IF p_table IS NULL THEN
        RAISE EXCEPTION 'disable_audit() does not accept NULL arguments' USING ERRCODE = '22004';
    END IF;
    FOR v_trigger IN
        SELECT t.tgname FROM pg_catalog.pg_trigger t
         WHERE t.tgrelid OPERATOR(pg_catalog.=) p_table
           AND t.tgfoid OPERATOR(pg_catalog.=) '@extschema@.audit_trigger_function()'::pg_catalog.regprocedure
         ORDER BY t.tgname LOOP
        EXECUTE pg_catalog.format('DROP TRIGGER %I ON %s', v_trigger, p_table);
    END LOOP;
END
$$;

COMMENT ON FUNCTION @extschema@.disable_audit(regclass) IS
    'Remove every audit_trigger_function trigger from a table; idempotent';

-- DBA tools: granted to whoever may audit their own tables, with EXECUTE on
-- audit_trigger_function.
REVOKE ALL ON FUNCTION @extschema@.audit_check_options(regclass, name, text[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.enable_audit(regclass, text[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.disable_audit(regclass) FROM PUBLIC;

-- ---- posts: get_user_posts_keyset ----

-- The secret that signs keyset cursors (HMAC-SHA-256), one per database, made
-- from pg_strong_random (three v4 uuids: 366 random bits). Only its owner can
-- read it; get_user_posts_keyset reads it as that owner. Registered with
-- pg_extension_config_dump like every table, but with a filter that keeps its
-- row out of dumps: the key never travels in a backup, a restored database gets
-- a new one from CREATE EXTENSION, and cursors issued before the restore are
-- refused (22023) instead of trusted. To rotate it, UPDATE the row (sessions
-- that already read it keep the old one until they reconnect).
CREATE TABLE @extschema@.cursor_secret (
    singleton BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (singleton),
    secret BYTEA NOT NULL CHECK (pg_catalog.octet_length(secret) OPERATOR(pg_catalog.>=) 32)
);
COMMENT ON TABLE @extschema@.cursor_secret IS 'Key that signs get_user_posts_keyset cursors (owner only)';
REVOKE ALL ON TABLE @extschema@.cursor_secret FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('@extschema@.cursor_secret', 'WHERE false');
INSERT INTO @extschema@.cursor_secret (secret)
SELECT pg_catalog.decode(pg_catalog.replace(
           pg_catalog.gen_random_uuid()::text OPERATOR(pg_catalog.||) pg_catalog.gen_random_uuid()::text
           OPERATOR(pg_catalog.||) pg_catalog.gen_random_uuid()::text, '-', ''), 'hex');

CREATE FUNCTION @extschema@.get_user_posts_keyset(
    p_user_id UUID,
    p_status VARCHAR DEFAULT 'published',
    p_limit INT DEFAULT 10,
    p_cursor TEXT DEFAULT NULL
)
RETURNS TABLE (
    id UUID,
    title VARCHAR,
    content TEXT,
    status VARCHAR,
    published_at TIMESTAMP,
    view_count INTEGER,
    next_cursor TEXT
)
LANGUAGE C STABLE CALLED ON NULL INPUT
ROWS 10
AS 'MODULE_PATHNAME', 'chronicle_get_user_posts_keyset';

COMMENT ON FUNCTION @extschema@.get_user_posts_keyset(UUID, VARCHAR, INT, TEXT) IS
    'Get user posts a page at a time: pass each page''s next_cursor to get the next (cost independent of depth)';

-- ---------------------------------------------------------------------------
-- users.phone: a nullable column without default (a catalog-only change, no
-- rewrite) and its CHECK added NOT VALID (no scan under the ACCESS EXCLUSIVE
-- lock). Validation runs outside the step: see pending_migration_steps().
-- Last in the step on purpose: a lock is held until the transaction ends, so
-- the ACCESS EXCLUSIVE lock on users, which every writer of users waits for,
-- is taken when nothing but the commit is left to do. Keep it last.
-- ---------------------------------------------------------------------------
ALTER TABLE @extschema@.users
    ADD COLUMN phone VARCHAR(20) NULL,
    ADD CONSTRAINT check_phone_format CHECK (
        phone IS NULL OR phone::text OPERATOR(pg_catalog.~) '^\+?[0-9]{10,15}$'::text
    ) NOT VALID;

COMMENT ON COLUMN @extschema@.users.phone IS 'Phone number: optional leading +, then 10 to 15 digits';

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
-- users.phone: a nullable column without default (a catalog-only change, no
-- rewrite) and its CHECK added NOT VALID (no scan under the ACCESS EXCLUSIVE
-- lock). Validation runs outside the step: see pending_migration_steps().
-- ---------------------------------------------------------------------------
ALTER TABLE @extschema@.users
    ADD COLUMN phone VARCHAR(20) NULL,
    ADD CONSTRAINT check_phone_format CHECK (
        phone IS NULL OR phone::text OPERATOR(pg_catalog.~) '^\+?[0-9]{10,15}$'::text
    ) NOT VALID;

COMMENT ON COLUMN @extschema@.users.phone IS 'Phone number: optional leading +, then 10 to 15 digits';

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

-- ---- posts: get_user_posts_keyset ----

/* chronicle 1.3 -> 1.2: the exact reverse of chronicle--1.2--1.3.sql. The
 * result must be catalog-identical to a fresh 1.2 (test/upgrade proves it). */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION chronicle UPDATE TO '1.2'" to load this file. \quit

-- Fail fast rather than queue writers behind a long transaction (see 1.0--1.1).
SELECT pg_catalog.set_config('lock_timeout', '2s', true)
 WHERE pg_catalog.current_setting('lock_timeout') OPERATOR(pg_catalog.=) '0';

-- ---------------------------------------------------------------------------
-- 1.2 knows audit_logs as a plain table: a partitioned one must be put back
-- first (MIGRATIONS.md, 1.3, "Going back below 1.3"). Checked before anything.
-- ---------------------------------------------------------------------------
DO $partitioned$
BEGIN
    IF EXISTS (SELECT FROM pg_catalog.pg_class c
                WHERE c.oid OPERATOR(pg_catalog.=) pg_catalog.to_regclass('@extschema@.audit_logs')
                  AND c.relkind OPERATOR(pg_catalog.=) 'p') THEN
        RAISE EXCEPTION 'cannot downgrade chronicle below 1.3 while audit_logs is partitioned'
            USING ERRCODE = '55000',
                  DETAIL = 'Versions before 1.3 know audit_logs as a plain table only.',
                  HINT = 'Run SELECT unpartition_audit_log(); (it copies every row into a plain audit_logs, under a lock that stops writers), then the downgrade again.';
    END IF;
END
$partitioned$;

-- ---------------------------------------------------------------------------
-- The data-loss guard (MIGRATIONS.md): audit_logs.transaction_id holds the
-- transaction of every row written since 1.3. The newest rows are the ones
-- that have it, so the first look reads the primary key backwards; when no
-- row has one (nothing audited since the upgrade) it reads the whole log. It
-- runs before any lock; the second look, under the ACCESS EXCLUSIVE lock the
-- DROP COLUMN takes anyway, catches a row written in between.
-- ---------------------------------------------------------------------------
DO $guard$
DECLARE
    setting text := pg_catalog.lower(pg_catalog.btrim(
        COALESCE(pg_catalog.current_setting('chronicle.allow_data_loss', true), '')));
    has_ids boolean;
    extschema name := (SELECT n.nspname FROM pg_catalog.pg_extension e
                         JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) e.extnamespace
                        WHERE e.extname OPERATOR(pg_catalog.=) 'chronicle');
BEGIN
    IF setting OPERATOR(pg_catalog.=) ANY (ARRAY['on', 't', 'tr', 'tru', 'true', 'y', 'ye', 'yes', '1']) THEN
        RETURN;
    END IF;
    IF NOT setting OPERATOR(pg_catalog.=) ANY (ARRAY['', 'of', 'off', 'f', 'fa', 'fal', 'fals', 'false', 'n', 'no', '0']) THEN
        RAISE EXCEPTION 'invalid value for parameter "chronicle.allow_data_loss": "%"',
            pg_catalog.current_setting('chronicle.allow_data_loss', true)
            USING ERRCODE = '22023', HINT = 'Use on or off.';
    END IF;
    has_ids := EXISTS (SELECT FROM (SELECT l.id FROM @extschema@.audit_logs l
                                     WHERE l.transaction_id IS NOT NULL ORDER BY l.id DESC LIMIT 1) t);
    IF NOT has_ids THEN
        LOCK TABLE @extschema@.audit_logs IN ACCESS EXCLUSIVE MODE;
        has_ids := EXISTS (SELECT FROM @extschema@.audit_logs l WHERE l.transaction_id IS NOT NULL);
    END IF;
    IF has_ids THEN
        RAISE EXCEPTION 'downgrading chronicle to 1.2 would drop column audit_logs.transaction_id and its data'
            USING ERRCODE = '55000',
                  DETAIL = 'Version 1.2 has no column audit_logs.transaction_id; the downgrade drops it with the transaction of every audit row written since 1.3.',
                  HINT = 'Save the transaction ids first, or SET chronicle.allow_data_loss = on to drop them.',
                  SCHEMA = extschema, TABLE = 'audit_logs', COLUMN = 'transaction_id';
    END IF;
END
$guard$;

-- ---------------------------------------------------------------------------
-- Partitioning and retention
-- ---------------------------------------------------------------------------
-- pending_migration_steps() as 1.1 made it (plain tables and indexes only).
CREATE OR REPLACE FUNCTION @extschema@.pending_migration_steps()
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

DROP FUNCTION @extschema@.unpartition_audit_log();
DROP FUNCTION @extschema@.set_audit_retention(interval, name);
DROP FUNCTION @extschema@.maintain_audit_log();
DROP FUNCTION @extschema@.partition_audit_log(interval);
-- Disowned first: that also removes its pg_extension_config_dump entry, which
-- a plain DROP TABLE would leave behind.
ALTER EXTENSION chronicle DROP TABLE @extschema@.audit_log_settings;
DROP TABLE @extschema@.audit_log_settings;

-- ---------------------------------------------------------------------------
-- audit_logs.transaction_id (no rewrite: the column is only marked dropped)
-- ---------------------------------------------------------------------------
ALTER TABLE @extschema@.audit_logs DROP COLUMN transaction_id;

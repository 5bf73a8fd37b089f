/* chronicle 1.2 -> 1.3: transactions in the audit log; a partitioned audit log
 * with retention. Reverse: chronicle--1.3--1.2.sql.
 * Rules (MIGRATIONS.md): no table rewrite, no long lock, a lock_timeout. */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION chronicle UPDATE TO '1.3'" to load this file. \quit

-- Fail fast rather than queue writers behind a long transaction (see 1.0--1.1).
SELECT pg_catalog.set_config('lock_timeout', '2s', true)
 WHERE pg_catalog.current_setting('lock_timeout') OPERATOR(pg_catalog.=) '0';

-- ---------------------------------------------------------------------------
-- audit_logs.transaction_id: the writing transaction's pg_current_xact_id().
-- Added without a default (a catalog change: rows already there read NULL),
-- then given its default, which applies to rows inserted from then on only:
-- neither statement rewrites the table. The audit writer sets the column
-- itself on its fast path; its general path evaluates the default, as an
-- INSERT would.
-- A transaction's rows share created_at (its start), so they are found
-- without scanning the log through the BRIN on created_at plus a filter:
--   WHERE created_at = <its created_at> AND transaction_id = <its id>
-- ---------------------------------------------------------------------------
ALTER TABLE @extschema@.audit_logs ADD COLUMN transaction_id pg_catalog.xid8;
ALTER TABLE @extschema@.audit_logs ALTER COLUMN transaction_id SET DEFAULT pg_catalog.pg_current_xact_id();
COMMENT ON COLUMN @extschema@.audit_logs.transaction_id IS
    'pg_current_xact_id() of the writing transaction (NULL on rows written before 1.3)';

-- ---------------------------------------------------------------------------
-- A partitioned audit log and its retention (README.md, "Partitioning and
-- retention"; MIGRATIONS.md, 1.3). audit_logs stays a plain table until the DBA
-- calls partition_audit_log(); this table remembers what it and
-- set_audit_retention() chose, for maintain_audit_log() (cron). One row at most.
-- ---------------------------------------------------------------------------
CREATE TABLE @extschema@.audit_log_settings (
    singleton boolean PRIMARY KEY DEFAULT true CONSTRAINT audit_log_settings_one_row CHECK (singleton),
    partition_interval interval NOT NULL,
    partition_size bigint NOT NULL CONSTRAINT audit_log_settings_size_check CHECK (partition_size > 0),
    partitions_made integer NOT NULL,
    keep interval,
    archive_schema name
);
COMMENT ON TABLE @extschema@.audit_log_settings IS
    'How audit_logs is partitioned (partition_audit_log) and how long its partitions are kept (set_audit_retention)';
REVOKE ALL ON TABLE @extschema@.audit_log_settings FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('@extschema@.audit_log_settings', '');

CREATE FUNCTION @extschema@.partition_audit_log(p_interval interval DEFAULT '1 month')
RETURNS void
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'chronicle_partition_audit_log';
COMMENT ON FUNCTION @extschema@.partition_audit_log(interval) IS
    'Turn audit_logs into a table partitioned by ranges of id, sized to p_interval of writes, while writers keep writing; nothing when already partitioned';

CREATE FUNCTION @extschema@.maintain_audit_log()
RETURNS TABLE (action text, partition_name text)
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'chronicle_maintain_audit_log';
COMMENT ON FUNCTION @extschema@.maintain_audit_log() IS
    'Make audit_logs partitions ahead of the writers and apply the retention; one row per action (for cron)';

CREATE FUNCTION @extschema@.set_audit_retention(p_keep interval, p_archive_schema name DEFAULT NULL)
RETURNS void
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'chronicle_set_audit_retention';
COMMENT ON FUNCTION @extschema@.set_audit_retention(interval, name) IS
    'From now on maintain_audit_log drops (or moves to p_archive_schema) each partition whose every row is older than p_keep; NULL: keep everything';

CREATE FUNCTION @extschema@.unpartition_audit_log()
RETURNS void
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'chronicle_unpartition_audit_log';
COMMENT ON FUNCTION @extschema@.unpartition_audit_log() IS
    'Put a plain audit_logs back in place of the partitioned one (copies every row; writers wait); before a downgrade below 1.3';

-- pending_migration_steps() sees the indexes of a partitioned audit_logs (the
-- parent's partitioned indexes, relkind 'I'): once partition_audit_log has run,
-- 1.2's indexes are built and nothing is listed for them.
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
                 ON t.relnamespace = ext.nsp AND t.relname = s.table_name AND t.relkind IN ('r', 'p')
          LEFT JOIN pg_catalog.pg_class ic
                 ON ic.relnamespace = ext.nsp AND ic.relname = s.object_name AND ic.relkind IN ('i', 'I')
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

-- They change audit_logs itself: its owner's (and superusers') business.
REVOKE ALL ON FUNCTION @extschema@.partition_audit_log(interval) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.maintain_audit_log() FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.set_audit_retention(interval, name) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.unpartition_audit_log() FROM PUBLIC;

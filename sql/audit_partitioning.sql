-- partition_audit_log, maintain_audit_log, set_audit_retention (1.3): the
-- rows already there become the first partition without a rewrite or a scan,
-- the parent keeps the columns, primary key, indexes, grants, comment and
-- sequence, the writer routes every row to its partition, partitions are made
-- ahead and retention drops or archives only partitions whose every row is old.
CREATE EXTENSION chronicle;
\i sql/include/catch_error.sql
CREATE ROLE chronicle_part_app;
GRANT USAGE ON SCHEMA public TO chronicle_part_app;
GRANT SELECT ON audit_logs TO chronicle_part_app;
CREATE TABLE notes (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), body text);
CREATE TABLE notes_stmt (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), body text);
GRANT SELECT, INSERT, UPDATE, DELETE ON notes, notes_stmt TO chronicle_part_app;
SELECT enable_audit('notes');
SELECT enable_audit('notes_stmt', '{mode=statement}');
INSERT INTO notes (body) SELECT 'n' || g FROM generate_series(1, 500) g;
INSERT INTO notes_stmt (body) SELECT 's' || g FROM generate_series(1, 500) g;
ALTER TABLE audit_logs ADD COLUMN tenant text DEFAULT 'main';   -- a column the DBA added

-- Retention needs a partitioned log (55000, with a HINT); bad arguments.
SELECT * FROM pg_temp.catch_error($$SELECT set_audit_retention('1 day')$$);
SELECT code, message FROM pg_temp.catch_error($$SELECT partition_audit_log(NULL)$$);
SELECT code, message FROM pg_temp.catch_error($$SELECT partition_audit_log('-1 day')$$);
SELECT * FROM maintain_audit_log();   -- nothing to do on a plain table

CREATE TEMP TABLE before AS
SELECT c.relname, c.relfilenode FROM pg_class c
 WHERE c.oid = 'audit_logs'::regclass
    OR c.oid IN (SELECT indexrelid FROM pg_index WHERE indrelid = 'audit_logs'::regclass);

-- The partition constraint is proven from the primary key: the old table is
-- not scanned (no row of it read by a sequential scan in the transaction).
BEGIN;
SELECT partition_audit_log('1 month');
SELECT pg_stat_get_xact_tuples_returned('audit_logs_p000001'::regclass) AS rows_read_by_sequential_scans;
COMMIT;

-- The rows stayed where they were: same files for the table and its indexes.
SELECT b.relname AS was, c.relname AS now, c.relfilenode = b.relfilenode AS same_file
  FROM before b JOIN pg_class c ON c.relfilenode = b.relfilenode OR c.relname = b.relname
 WHERE c.relkind IN ('r', 'i') ORDER BY 1;
SELECT relname, relkind, pg_get_expr(relpartbound, oid) AS bound FROM pg_class
 WHERE relname = 'audit_logs' OR oid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = 'audit_logs'::regclass)
 ORDER BY relname;
SELECT count(*) AS rows, count(*) FILTER (WHERE tableoid = 'audit_logs_p000001'::regclass) AS in_the_first
  FROM audit_logs;

-- The parent: the same columns (the DBA's too), primary key on id, an index
-- for every query MIGRATIONS.md lists (each partition's attached to it), the
-- sequence owned by its id, the comment and the grants.
SELECT attname, format_type(atttypid, atttypmod), attnotnull, pg_get_expr(d.adbin, d.adrelid) AS default
  FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
 WHERE a.attrelid = 'audit_logs'::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum;
SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'audit_logs'::regclass ORDER BY 1;
SELECT indexrelid::regclass AS index, indisvalid, pg_get_indexdef(indexrelid) FROM pg_index
 WHERE indrelid = 'audit_logs'::regclass ORDER BY 1;
SELECT i.inhparent::regclass AS parent_index, count(*) AS partitions_attached
  FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid AND c.relkind = 'i'
 GROUP BY 1 ORDER BY 1;
SELECT pg_get_serial_sequence('audit_logs', 'id');
SELECT obj_description('audit_logs'::regclass, 'pg_class');
SELECT grantee, privilege_type FROM information_schema.role_table_grants
 WHERE table_name = 'audit_logs' AND grantee <> current_user ORDER BY 1, 2;
-- The extension's tables: the parent and every partition, config-dumped.
SELECT c.relname, c.oid = ANY (e.extconfig) AS config_dumped
  FROM pg_depend d JOIN pg_class c ON c.oid = d.objid, pg_extension e
 WHERE d.refobjid = e.oid AND e.extname = 'chronicle' AND d.deptype = 'e' AND c.relname LIKE 'audit_log%'
 ORDER BY 1;
SELECT * FROM audit_log_settings;

-- pending_migration_steps() sees the parent's indexes: nothing is left to do on audit_logs.
SELECT name FROM pending_migration_steps() WHERE ddl ~ 'audit_logs';

-- Does nothing when already partitioned.
SELECT partition_audit_log('1 day');
SELECT count(*) AS partitions FROM pg_inherits WHERE inhparent = 'audit_logs'::regclass;

-- The writer routes each row, row and statement mode, the application role's
-- too; that role still cannot write the log or a partition.
SET ROLE chronicle_part_app;
INSERT INTO notes (body) VALUES ('low');
INSERT INTO notes_stmt (body) VALUES ('low');
SELECT * FROM pg_temp.catch_error($$INSERT INTO audit_logs (table_name, operation) VALUES ('x', 'INSERT')$$);
SELECT code FROM pg_temp.catch_error($$INSERT INTO audit_logs_p000002 (table_name, operation) VALUES ('x', 'INSERT')$$);
RESET ROLE;
SELECT setval('audit_logs_id_seq', (SELECT pg_catalog.substring(pg_get_expr(relpartbound, oid), 'FROM \(''(\d+)''\)')::bigint
                                      FROM pg_class WHERE relname = 'audit_logs_p000003'));
SET ROLE chronicle_part_app;
UPDATE notes SET body = 'high' WHERE body = 'low';
UPDATE notes_stmt SET body = 'high' WHERE body = 'low';
RESET ROLE;
SELECT tableoid::regclass AS partition, table_name, operation, new_data->>'body' AS body, tenant,
       transaction_id IS NOT NULL AS has_transaction
  FROM audit_logs WHERE id > 1000 ORDER BY id;

-- Plans: a range of ids reads one partition; newest first reads the primary
-- keys backwards; every query MIGRATIONS.md lists is served by its index.
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT * FROM audit_logs WHERE id BETWEEN 10 AND 20;
EXPLAIN (COSTS OFF) SELECT * FROM audit_logs ORDER BY id DESC LIMIT 10;
EXPLAIN (COSTS OFF) SELECT * FROM audit_logs WHERE record_id = '00000000-0000-4000-8000-000000000001';
EXPLAIN (COSTS OFF) SELECT * FROM audit_logs WHERE table_name = 'notes' AND operation = 'DELETE';
EXPLAIN (COSTS OFF) SELECT * FROM audit_logs WHERE changed_fields @> '{body}';
EXPLAIN (COSTS OFF) SELECT * FROM audit_logs WHERE created_at >= '2026-01-01' AND created_at < '2026-01-02';
RESET enable_seqscan;

-- maintain_audit_log keeps kPartitionsAhead partitions beyond the one being
-- written: moving the sequence into the last one makes three more.
SELECT setval('audit_logs_id_seq', (SELECT pg_catalog.substring(pg_get_expr(relpartbound, oid), 'FROM \(''(\d+)''\)')::bigint
                                      FROM pg_class WHERE relname = 'audit_logs_p000004'));
SELECT * FROM maintain_audit_log();
SELECT * FROM maintain_audit_log();   -- nothing left to do
SELECT relname, pg_get_expr(relpartbound, oid) AS bound FROM pg_class
 WHERE oid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = 'audit_logs'::regclass) ORDER BY relname;
INSERT INTO notes (body) VALUES ('in p4');
SELECT tableoid::regclass FROM audit_logs ORDER BY id DESC LIMIT 1;

-- Retention: only partitions whose every row is older than p_keep, and whose
-- range the sequence has passed; the newest rows stay.
SELECT code, message FROM pg_temp.catch_error($$SELECT set_audit_retention('0 days')$$);
SELECT code, message FROM pg_temp.catch_error($$SELECT set_audit_retention('1 day', 'public')$$);
SELECT code, message FROM pg_temp.catch_error($$SELECT set_audit_retention('1 day', 'no_such_schema')$$);
SELECT set_audit_retention('1 day');
SELECT * FROM maintain_audit_log();   -- every partition holds a row of today, or is still open
UPDATE audit_logs SET created_at = created_at - interval '2 days' WHERE id < 1000;
SELECT * FROM maintain_audit_log();   -- the first partition still holds rows of today
UPDATE audit_logs SET created_at = created_at - interval '2 days' WHERE tableoid = 'audit_logs_p000001'::regclass;
SELECT * FROM maintain_audit_log();   -- now it goes, and the empty one after it; p000003 holds today's rows
SELECT count(*) AS rows_left, min(id) > 1000000 AS only_newer FROM audit_logs;
CREATE SCHEMA audit_archive;
SELECT set_audit_retention('1 day', 'audit_archive');
UPDATE audit_logs SET created_at = created_at - interval '2 days' WHERE tableoid = 'audit_logs_p000003'::regclass;
SELECT * FROM maintain_audit_log();   -- p000003 is old, and moved; p000004 is being written
SELECT count(*) AS archived_rows FROM audit_archive.audit_logs_p000003;
SELECT relname FROM pg_class WHERE oid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = 'audit_logs'::regclass)
 ORDER BY 1;
SELECT set_audit_retention(NULL);
SELECT keep, archive_schema FROM audit_log_settings;

-- No downgrade below 1.3 while audit_logs is partitioned (55000, and how to go back).
SELECT * FROM pg_temp.catch_error($$ALTER EXTENSION chronicle UPDATE TO '1.2'$$);
-- unpartition_audit_log puts a plain audit_logs back, every row with it.
SELECT count(*) AS rows_before FROM audit_logs \gset
SELECT unpartition_audit_log();
SELECT relkind, (SELECT count(*) FROM audit_logs) = :rows_before AS every_row,
       pg_get_serial_sequence('audit_logs', 'id') AS sequence FROM pg_class WHERE oid = 'audit_logs'::regclass;
SELECT indexrelid::regclass AS index FROM pg_index WHERE indrelid = 'audit_logs'::regclass ORDER BY 1;
SELECT unpartition_audit_log();   -- nothing to do
INSERT INTO notes (body) VALUES ('plain again');
SELECT new_data->>'body' AS body FROM audit_logs ORDER BY id DESC LIMIT 1;
SET chronicle.allow_data_loss = on;
ALTER EXTENSION chronicle UPDATE TO '1.2';
RESET chronicle.allow_data_loss;
SELECT extversion FROM pg_extension WHERE extname = 'chronicle';

DROP EXTENSION chronicle CASCADE;
SELECT count(*) AS left_behind FROM pg_class WHERE relname LIKE 'audit_log%' AND relnamespace = 'public'::regnamespace;
SELECT count(*) AS archived_rows_kept FROM audit_archive.audit_logs_p000003;
DROP TABLE notes, notes_stmt, before, audit_archive.audit_logs_p000003;
DROP SCHEMA audit_archive;
REVOKE USAGE ON SCHEMA public FROM chronicle_part_app;
DROP ROLE chronicle_part_app;

-- partition_audit_log (1.3) when it cannot have what it needs: a primary key
-- that is not the bigint column id alone, an id that takes its values from no
-- sequence (55000 each), another unique constraint (0A000), a partition's name
-- taken (42P07), and a lock another session holds past the caller's
-- lock_timeout (55P03). Each refusal changes nothing; the call then succeeds,
-- and a publication of audit_logs then publishes it through its root.
CREATE EXTENSION chronicle;
CREATE EXTENSION dblink;
\i sql/include/catch_error.sql
INSERT INTO users (id, email, name, password_hash)
VALUES ('00000000-0000-4000-8000-0000000000a1', 'ann@example.com', 'ann', 'x');
INSERT INTO posts (id, user_id, title, content, status)
VALUES ('00000000-0000-4000-8000-0000000000b1', '00000000-0000-4000-8000-0000000000a1', 'First', 'x', 'draft');

-- A primary key on (id, created_at).
BEGIN;
ALTER TABLE audit_logs DROP CONSTRAINT audit_logs_pkey;
ALTER TABLE audit_logs ADD PRIMARY KEY (id, created_at);
SELECT code, message, hint FROM pg_temp.catch_error('SELECT partition_audit_log()');
ROLLBACK;

-- id with no sequence behind it.
BEGIN;
ALTER TABLE audit_logs ALTER COLUMN id DROP DEFAULT;
ALTER SEQUENCE audit_logs_id_seq OWNED BY NONE;
SELECT code, message, hint FROM pg_temp.catch_error('SELECT partition_audit_log()');
ROLLBACK;

-- A unique constraint other than the primary key (a partitioned table's must
-- include id), and a table already holding a partition's name.
BEGIN;
ALTER TABLE audit_logs ADD CONSTRAINT audit_logs_record_once UNIQUE (record_id, operation);
SELECT code, message, hint FROM pg_temp.catch_error('SELECT partition_audit_log()');
ROLLBACK;
BEGIN;
CREATE TABLE audit_logs_p000002 (id bigint);
SELECT code, message, hint FROM pg_temp.catch_error('SELECT partition_audit_log()');
ROLLBACK;

-- Another session writes audit_logs in a transaction that stays open: the call
-- tries for its lock in short attempts, gives up when lock_timeout is spent,
-- and leaves audit_logs as it was.
SELECT dblink_connect('writer', pg_catalog.format('dbname=%s port=%s host=%s', current_database(),
       current_setting('port'), split_part(current_setting('unix_socket_directories'), ',', 1)));
SELECT dblink_exec('writer', 'BEGIN');
SELECT dblink_exec('writer', 'UPDATE posts SET title = ''Second''');
SET lock_timeout = '300ms';
SELECT code, message, regexp_replace(detail, '[0-9]+ attempts', 'N attempts') AS detail, hint
  FROM pg_temp.catch_error('SELECT partition_audit_log()');
SELECT relkind, (SELECT count(*) FROM pg_class WHERE relname ~ '^audit_logs_p[0-9]+$') AS partitions
  FROM pg_class WHERE oid = 'audit_logs'::regclass;
SELECT dblink_exec('writer', 'COMMIT');
SELECT dblink_disconnect('writer');
SET client_min_messages = error;   -- no wal_level warning where the server is not logical
CREATE PUBLICATION audit_archive FOR TABLE audit_logs;
RESET client_min_messages;
SELECT partition_audit_log();
SELECT relkind FROM pg_class WHERE oid = 'audit_logs'::regclass;
-- A subscriber keeps receiving one table audit_logs.
SELECT pubviaroot, (SELECT array_agg(tablename) FROM pg_publication_tables WHERE pubname = 'audit_archive') AS tables
  FROM pg_publication WHERE pubname = 'audit_archive';
DROP PUBLICATION audit_archive;
SELECT count(*) AS audit_rows, count(*) FILTER (WHERE operation = 'UPDATE') AS updates FROM audit_logs;
RESET lock_timeout;

DROP EXTENSION chronicle CASCADE;
DROP EXTENSION dblink;
SELECT count(*) AS left_behind FROM pg_class WHERE relname LIKE 'audit_log%' AND relnamespace = 'public'::regnamespace;

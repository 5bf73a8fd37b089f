-- audit_logs.transaction_id (1.3): every audit row carries its writing
-- transaction's pg_current_xact_id(), in row and statement mode, on the
-- writer's fast path and on its general path, also from a subtransaction; an
-- INSERT by hand gets it from the column's default.
CREATE EXTENSION chronicle;
\i sql/include/catch_error.sql

SELECT attname, format_type(atttypid, atttypmod), pg_get_expr(d.adbin, d.adrelid) AS default,
       col_description(a.attrelid, a.attnum)
  FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
 WHERE a.attrelid = 'audit_logs'::regclass AND a.attname = 'transaction_id';

CREATE TABLE notes_row (id uuid PRIMARY KEY, body text);
CREATE TABLE notes_stmt (id uuid PRIMARY KEY, body text);
SELECT enable_audit('notes_row');
SELECT enable_audit('notes_stmt', '{mode=statement}');

CREATE TEMP TABLE xacts (label text, xid xid8);

-- The fast path (audit_logs as installed): two statements, a savepoint and
-- both modes in one transaction share its id.
BEGIN;
INSERT INTO xacts VALUES ('fast', pg_current_xact_id());
INSERT INTO notes_row VALUES ('00000000-0000-4000-8000-000000000001', 'a');
INSERT INTO notes_stmt SELECT ('00000000-0000-4000-8000-00000000001' || g)::uuid, 'b' FROM generate_series(0, 2) g;
SAVEPOINT s;
UPDATE notes_row SET body = 'c';
DELETE FROM notes_stmt WHERE body = 'b';
RELEASE s;
INSERT INTO audit_logs (table_name, operation) VALUES ('by hand', 'INSERT');
COMMIT;
-- Another transaction: another id.
BEGIN;
INSERT INTO xacts VALUES ('fast, next', pg_current_xact_id());
UPDATE notes_row SET body = 'd';
COMMIT;

-- The general path: a column the DBA added takes the writer off its fast path.
ALTER TABLE audit_logs ADD COLUMN note text;
ALTER TABLE audit_logs ALTER COLUMN note SET DEFAULT 'general';
BEGIN;
INSERT INTO xacts VALUES ('general', pg_current_xact_id());
UPDATE notes_row SET body = 'e';
SAVEPOINT s;
UPDATE notes_stmt SET body = 'f';
INSERT INTO notes_stmt VALUES ('00000000-0000-4000-8000-000000000020', 'g');
COMMIT;

SELECT x.label, l.table_name, l.operation, l.note,
       l.transaction_id = x.xid AS same_transaction, l.transaction_id IS NOT NULL AS has_id
  FROM audit_logs l LEFT JOIN xacts x ON x.xid = l.transaction_id
 ORDER BY l.id;
-- Every row of a transaction shares its created_at.
SELECT count(DISTINCT created_at) AS created_at_values, count(DISTINCT transaction_id) AS transactions,
       count(*) AS rows FROM audit_logs;
ALTER TABLE audit_logs DROP COLUMN note;

-- Finding a transaction's rows reads the BRIN on created_at, not the whole log
-- (planner settings make this small table look like a big one).
SET enable_seqscan = off;
EXPLAIN (COSTS OFF)
SELECT id, table_name, operation FROM audit_logs
 WHERE created_at = '2026-12-03 12:00' AND transaction_id = '1234';
RESET enable_seqscan;
SELECT l.table_name, l.operation FROM audit_logs l, xacts x
 WHERE x.label = 'fast, next' AND l.created_at = (SELECT created_at FROM audit_logs WHERE transaction_id = x.xid LIMIT 1)
   AND l.transaction_id = x.xid ORDER BY l.id;

-- Rows written before 1.3 keep NULL (an upgraded database).
DROP EXTENSION chronicle CASCADE;
DROP TABLE notes_row, notes_stmt, xacts;
CREATE EXTENSION chronicle VERSION '1.2';
CREATE TABLE notes (id uuid PRIMARY KEY, body text);
SELECT enable_audit('notes');
INSERT INTO notes VALUES ('00000000-0000-4000-8000-000000000001', 'old');
ALTER EXTENSION chronicle UPDATE TO '1.3';
INSERT INTO notes VALUES ('00000000-0000-4000-8000-000000000002', 'new');
SELECT operation, new_data->>'body' AS body, transaction_id IS NOT NULL AS has_id FROM audit_logs ORDER BY id;

-- Down to 1.2: the column holds data, so the guard refuses (55000) ...
SELECT * FROM pg_temp.catch_error($$ALTER EXTENSION chronicle UPDATE TO '1.2'$$);
-- ... unless the session allows the loss.
SET chronicle.allow_data_loss = on;
ALTER EXTENSION chronicle UPDATE TO '1.2';
RESET chronicle.allow_data_loss;
SELECT count(*) FROM pg_attribute WHERE attrelid = 'audit_logs'::regclass AND attname = 'transaction_id';
-- Back on 1.2 the writer takes its fast path again, as before.
INSERT INTO notes VALUES ('00000000-0000-4000-8000-000000000003', 'after');
SELECT operation, new_data->>'body' AS body FROM audit_logs ORDER BY id;
DROP EXTENSION chronicle CASCADE;
DROP TABLE notes;

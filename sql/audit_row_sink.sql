-- Row mode keeps one audit sink per session (src/audit/sink.cpp): what it
-- builds from audit_logs (executor state, index infos, the GIN's state) serves
-- row after row, across statements and transactions. So every change to
-- audit_logs between two rows (an index, a column, a constraint, TRUNCATE) must
-- reach the next row, and a row that fails must leave the next one whole.
-- amcheck's heapallindexed check proves every audit row is in every btree.
CREATE EXTENSION chronicle;
CREATE EXTENSION amcheck;
\i sql/include/catch_error.sql
\pset null '(null)'

CREATE TABLE sink_rows (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), label text);
SELECT enable_audit('sink_rows');
-- Checks every btree of audit_logs (they differ between versions); true, or
-- amcheck's XX002 naming a heap row missing from an index.
CREATE FUNCTION pg_temp.audit_btrees_hold_every_row() RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    index regclass;
BEGIN
    FOR index IN SELECT i.indexrelid::regclass FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
                  WHERE i.indrelid = 'audit_logs'::regclass AND c.relam = (SELECT oid FROM pg_am WHERE amname = 'btree')
    LOOP
        PERFORM bt_index_check(index, true);
    END LOOP;
    RETURN true;
END
$$;

INSERT INTO sink_rows (label) VALUES ('before');

-- An index built between two rows of one transaction gets the second row too;
-- one dropped between two rows is not written to.
BEGIN;
INSERT INTO sink_rows (label) VALUES ('first in transaction');
CREATE INDEX audit_by_label ON audit_logs ((new_data ->> 'label'));
INSERT INTO sink_rows (label) VALUES ('after create index');
COMMIT;
INSERT INTO sink_rows (label) VALUES ('next transaction');
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SELECT new_data ->> 'label' AS label FROM audit_logs WHERE new_data ->> 'label' > 'a' ORDER BY 1;
RESET enable_seqscan;
RESET enable_bitmapscan;
SELECT pg_temp.audit_btrees_hold_every_row() AS every_row_in_every_btree;
BEGIN;
DROP INDEX audit_by_label;
INSERT INTO sink_rows (label) VALUES ('after drop index');
COMMIT;

-- A column added between two rows: the next row leaves it NULL, as it leaves
-- every column it does not know. One of its own columns dropped: the next row
-- fails (42703) rather than write to where the column was.
BEGIN;
INSERT INTO sink_rows (label) VALUES ('before add column');
ALTER TABLE audit_logs ADD COLUMN reviewed_by text;
INSERT INTO sink_rows (label) VALUES ('after add column');
SELECT new_data ->> 'label' AS label, reviewed_by FROM audit_logs ORDER BY id DESC LIMIT 2;
ALTER TABLE audit_logs DROP COLUMN user_agent;
SELECT code, message, detail FROM pg_temp.catch_error($$INSERT INTO sink_rows (label) VALUES ('after drop column')$$);
ROLLBACK;

-- A row that a CHECK constraint of audit_logs refuses: 23514, and neither the
-- row nor its audit row stays; the rows before and after it in the same
-- transaction are written whole.
ALTER TABLE audit_logs ADD CONSTRAINT no_refused_rows CHECK (new_data ->> 'label' IS DISTINCT FROM 'refused');
BEGIN;
INSERT INTO sink_rows (label) VALUES ('before refused');
SELECT code, message FROM pg_temp.catch_error($$INSERT INTO sink_rows (label) VALUES ('refused')$$);
INSERT INTO sink_rows (label) VALUES ('after refused');
COMMIT;
SELECT code, message FROM pg_temp.catch_error($$INSERT INTO sink_rows (label) VALUES ('refused')$$);
INSERT INTO sink_rows (label) VALUES ('after refused, next transaction');
SELECT (SELECT count(*) FROM sink_rows WHERE label = 'refused') AS refused_rows,
       (SELECT count(*) FROM audit_logs WHERE new_data ->> 'label' = 'refused') AS refused_audit_rows;
ALTER TABLE audit_logs DROP CONSTRAINT no_refused_rows;

-- TRUNCATE of audit_logs after an audited row of the same transaction: the
-- sink holds audit_logs open only while it writes a row.
BEGIN;
INSERT INTO sink_rows (label) VALUES ('truncated');
TRUNCATE audit_logs;
INSERT INTO sink_rows (label) VALUES ('after truncate');
COMMIT;
SELECT new_data ->> 'label' AS label FROM audit_logs ORDER BY id;

-- An audited write made while the kept sink writes a row (here from a CHECK
-- constraint's function, as an index expression's could) gets a sink of its own.
CREATE TABLE sink_side (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), note text);
SELECT enable_audit('sink_side');
CREATE FUNCTION pg_temp.note_nested(p_table varchar, p_label text) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    IF p_table = 'sink_rows' AND p_label = 'nested' THEN
        INSERT INTO sink_side (note) VALUES ('written inside the audit row of "nested"');
    END IF;
    RETURN true;
END
$$;
ALTER TABLE audit_logs ADD CONSTRAINT note_nested CHECK (pg_temp.note_nested(table_name, new_data ->> 'label'));
INSERT INTO sink_rows (label) VALUES ('nested');
INSERT INTO sink_rows (label) VALUES ('after nested');
ALTER TABLE audit_logs DROP CONSTRAINT note_nested;
SELECT table_name, coalesce(new_data ->> 'label', new_data ->> 'note') AS label FROM audit_logs ORDER BY id;

-- Every audit row written above is in every btree of audit_logs, and an index
-- scan (1.2's GIN on changed_fields) finds what a sequential scan finds.
UPDATE sink_rows SET label = label || ' (edited)';
SELECT pg_temp.audit_btrees_hold_every_row() AS every_row_in_every_btree;
SET enable_seqscan = off;
SELECT count(*) AS label_changes_by_index FROM audit_logs WHERE changed_fields @> '{label}';
RESET enable_seqscan;
SET enable_indexscan = off;
SET enable_bitmapscan = off;
SELECT count(*) AS label_changes_by_scan FROM audit_logs WHERE changed_fields @> '{label}';
RESET enable_indexscan;
RESET enable_bitmapscan;

DROP TABLE sink_rows, sink_side;
DROP EXTENSION chronicle;
DROP EXTENSION amcheck;

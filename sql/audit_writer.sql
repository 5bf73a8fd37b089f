-- The audit writer stores what an INSERT into audit_logs by the extension's owner
-- would store, whatever the DBA has made of audit_logs (README.md, "The audit
-- log": what the audit writer guarantees). A differential oracle: for each
-- change to audit_logs, made in a session that has already written audit rows
-- (the writer's caches are warm),
-- the same values go in three ways and must give the same outcome:
--   row        an audited INSERT, row mode (enable_audit's default)
--   statement  an audited INSERT, mode=statement
--   INSERT     INSERT INTO audit_logs (<the 9 columns the writer supplies>) VALUES (...)
-- The outcome is the stored row (minus id, created_at and any column named in
-- `masked`, shown as set / null), or the SQLSTATE and message of the error.
-- Every attempt is rolled back, so that the three write the same values.
CREATE EXTENSION chronicle;
\i sql/include/catch_error.sql
SET chronicle.client_ip = '203.0.113.9';
SET chronicle.user_agent = 'writer-test/1.0';

CREATE TABLE notes_row (id uuid PRIMARY KEY, user_id uuid, body text);
CREATE TABLE notes_stmt (id uuid PRIMARY KEY, user_id uuid, body text);
SELECT enable_audit('notes_row');
SELECT enable_audit('notes_stmt', '{mode=statement}');

-- Warm caches: both tables write audit rows before any change.
INSERT INTO notes_row VALUES ('00000000-0000-4000-8000-000000000001', NULL, 'warm');
INSERT INTO notes_stmt VALUES ('00000000-0000-4000-8000-000000000002', NULL, 'warm');
SELECT table_name, operation, record_id, ip_address, user_agent FROM audit_logs ORDER BY id;

CREATE FUNCTION pg_temp.attempt(sql text, masked text[]) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    stored text;
    code text;
    message text;
    k text;
    r jsonb;
    -- 1.3's transaction id column, shown only when it is not this transaction's id
    -- (spelled so, this file also runs at 1.0-1.2: test/upgrade/run).
    xact_column CONSTANT text := 'transaction' || '_id';
BEGIN
    BEGIN
        EXECUTE sql;
        SELECT string_agg(x::text, ' | ') INTO stored FROM (
            SELECT CASE WHEN to_jsonb(a) -> xact_column = to_jsonb(pg_current_xact_id()::text)
                        THEN to_jsonb(a) - xact_column ELSE to_jsonb(a) END - 'id' - 'created_at' AS x
            FROM audit_logs a WHERE (to_jsonb(a) ->> 'record_id') = '00000000-0000-4000-8000-0000000000a1') s;
        RAISE EXCEPTION USING ERRCODE = 'XX999', MESSAGE = coalesce(stored, 'no audit row');
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS code = RETURNED_SQLSTATE, message = MESSAGE_TEXT;
        IF code <> 'XX999' THEN
            RETURN 'error ' || code || ': ' || message;
        END IF;
        IF message = 'no audit row' THEN RETURN message; END IF;
        r := message::jsonb;
        FOREACH k IN ARRAY masked LOOP
            r := jsonb_set(r, ARRAY[k], to_jsonb(CASE WHEN r -> k = 'null'::jsonb THEN 'null' ELSE 'set' END));
        END LOOP;
        RETURN 'stored ' || r::text;
    END;
END
$$;

-- The ways, for a row (id a1, user_id `who`, body 'x').
CREATE FUNCTION pg_temp.compare(who uuid DEFAULT NULL, masked text[] DEFAULT '{}')
RETURNS TABLE (way text, same_as_insert boolean, by_trigger text, by_insert text) LANGUAGE plpgsql AS $$
DECLARE
    values_sql text := format('(%L::uuid, %L::uuid, %L::text)', '00000000-0000-4000-8000-0000000000a1', who, 'x');
    row_values text;
BEGIN
    row_values := format(
        $f$%%L::text, 'INSERT'::text, '00000000-0000-4000-8000-0000000000a1'::uuid, %L::uuid, NULL::jsonb,
           (SELECT to_jsonb(n) FROM (VALUES %s) n(id, user_id, body)), '{}'::text[],
           '203.0.113.9'::inet, 'writer-test/1.0'::text$f$, who, values_sql);
    by_insert := pg_temp.attempt(format('INSERT INTO audit_logs (table_name, operation, record_id, user_id, old_data,
        new_data, changed_fields, ip_address, user_agent) VALUES (' || row_values || ')', 'notes_row'), masked);
    way := 'row';
    by_trigger := pg_temp.attempt(format('INSERT INTO notes_row VALUES %s', values_sql), masked);
    same_as_insert := by_trigger = by_insert;
    IF same_as_insert THEN by_insert := '(same)'; END IF;
    RETURN NEXT;
    way := 'statement';
    by_insert := pg_temp.attempt(format('INSERT INTO audit_logs (table_name, operation, record_id, user_id, old_data,
        new_data, changed_fields, ip_address, user_agent) VALUES (' || row_values || ')', 'notes_stmt'), masked);
    by_trigger := pg_temp.attempt(format('INSERT INTO notes_stmt VALUES %s', values_sql), masked);
    same_as_insert := by_trigger = by_insert;
    IF same_as_insert THEN by_insert := '(same)'; END IF;
    RETURN NEXT;
END
$$;

-- The installed shape (the fast path).
SELECT * FROM pg_temp.compare();

-- An added column with a default, and one NOT NULL with a default.
BEGIN;
ALTER TABLE audit_logs ADD COLUMN note text DEFAULT 'by default';
ALTER TABLE audit_logs ADD COLUMN tenant text NOT NULL DEFAULT 'main';
SELECT * FROM pg_temp.compare();
ROLLBACK;

-- The same, committed before the write (another transaction's change).
ALTER TABLE audit_logs ADD COLUMN tenant text NOT NULL DEFAULT 'main';
SELECT * FROM pg_temp.compare();
ALTER TABLE audit_logs DROP COLUMN tenant;
SELECT * FROM pg_temp.compare();

-- A generated stored column.
BEGIN;
ALTER TABLE audit_logs ADD COLUMN summary text GENERATED ALWAYS AS (table_name || ':' || operation) STORED;
SELECT * FROM pg_temp.compare();
ROLLBACK;

-- An identity column (its value differs between attempts: shown as set).
BEGIN;
ALTER TABLE audit_logs ADD COLUMN serial_no bigint GENERATED ALWAYS AS IDENTITY;
SELECT * FROM pg_temp.compare(masked => '{serial_no}');
ROLLBACK;

-- A domain with a CHECK on user_agent: satisfied, then violated.
CREATE DOMAIN short_agent AS text CHECK (length(VALUE) < 40);
BEGIN;
ALTER TABLE audit_logs ALTER COLUMN user_agent TYPE short_agent;
SELECT * FROM pg_temp.compare();
ALTER DOMAIN short_agent ADD CONSTRAINT no_slash CHECK (VALUE NOT LIKE '%/%') NOT VALID;
SELECT * FROM pg_temp.compare();
ROLLBACK;
DROP DOMAIN short_agent;

-- record_id altered to text: the uuid's text.
BEGIN;
ALTER TABLE audit_logs ALTER COLUMN record_id TYPE text;
SELECT * FROM pg_temp.compare();
ROLLBACK;

-- Other type changes: json images, changed_fields as text, created_at as
-- timestamptz, operation as text, id as numeric (the GIN indexes go first).
BEGIN;
DO $$
DECLARE i regclass;
BEGIN
    FOR i IN SELECT indexrelid::regclass FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid
             JOIN pg_am a ON a.oid = c.relam WHERE x.indrelid = 'audit_logs'::regclass AND a.amname = 'gin' LOOP
        EXECUTE format('DROP INDEX %s', i);
    END LOOP;
END
$$;
ALTER TABLE audit_logs ALTER COLUMN new_data TYPE json, ALTER COLUMN changed_fields TYPE text,
    ALTER COLUMN created_at TYPE timestamptz, ALTER COLUMN operation TYPE text, ALTER COLUMN id TYPE numeric;
SELECT * FROM pg_temp.compare();
ROLLBACK;

-- user_agent altered to varchar(5): 22001, as an INSERT.
BEGIN;
ALTER TABLE audit_logs ALTER COLUMN user_agent TYPE varchar(5) USING left(user_agent, 5);
SELECT * FROM pg_temp.compare();
ROLLBACK;

-- A type with no assignment coercion from the value's: 42804 naming the column.
BEGIN;
ALTER TABLE audit_logs ALTER COLUMN ip_address TYPE integer USING NULL;
SELECT * FROM pg_temp.compare();
ROLLBACK;

-- A CHECK constraint NOT VALID holds for new rows: 23514.
BEGIN;
ALTER TABLE audit_logs ADD CONSTRAINT no_notes CHECK (table_name NOT LIKE 'notes%') NOT VALID;
SELECT * FROM pg_temp.compare();
ROLLBACK;

-- A foreign key on user_id: violated (23503), then satisfied.
BEGIN;
ALTER TABLE audit_logs ADD CONSTRAINT audit_logs_user_fk FOREIGN KEY (user_id) REFERENCES users (id);
SELECT * FROM pg_temp.compare('00000000-0000-4000-8000-0000000000b1');
INSERT INTO users (id, email, name, password_hash)
VALUES ('00000000-0000-4000-8000-0000000000b1', 'fk@example.com', 'FK', 'h');
SELECT * FROM pg_temp.compare('00000000-0000-4000-8000-0000000000b1');
ROLLBACK;

-- A deferrable foreign key: violated, it fails at COMMIT (23503), the audited
-- change with it, as the INSERT does.
ALTER TABLE audit_logs ADD CONSTRAINT audit_logs_user_fk FOREIGN KEY (user_id) REFERENCES users (id)
    DEFERRABLE INITIALLY DEFERRED;
BEGIN;
INSERT INTO notes_row VALUES ('00000000-0000-4000-8000-0000000000a2', '00000000-0000-4000-8000-0000000000b2', 'x');
SELECT count(*) AS pending_audit_rows FROM audit_logs WHERE record_id = '00000000-0000-4000-8000-0000000000a2';
COMMIT;
BEGIN;
INSERT INTO audit_logs (table_name, operation, user_id) VALUES ('notes_row', 'INSERT', '00000000-0000-4000-8000-0000000000b2');
COMMIT;
SELECT count(*) AS kept_rows FROM notes_row WHERE id = '00000000-0000-4000-8000-0000000000a2';
ALTER TABLE audit_logs DROP CONSTRAINT audit_logs_user_fk;

-- A deferrable unique constraint, INITIALLY DEFERRED: the duplicate fails at COMMIT (23505).
ALTER TABLE audit_logs ADD CONSTRAINT audit_logs_unique_record UNIQUE (record_id) DEFERRABLE INITIALLY DEFERRED;
BEGIN;
INSERT INTO notes_row VALUES ('00000000-0000-4000-8000-0000000000a3', NULL, 'x');
UPDATE notes_row SET body = 'y' WHERE id = '00000000-0000-4000-8000-0000000000a3';
SELECT count(*) AS pending_audit_rows FROM audit_logs WHERE record_id = '00000000-0000-4000-8000-0000000000a3';
COMMIT;
BEGIN;
INSERT INTO audit_logs (table_name, operation, record_id) VALUES ('notes_row', 'INSERT', '00000000-0000-4000-8000-0000000000a3');
INSERT INTO audit_logs (table_name, operation, record_id) VALUES ('notes_row', 'UPDATE', '00000000-0000-4000-8000-0000000000a3');
COMMIT;
BEGIN;
INSERT INTO notes_stmt VALUES ('00000000-0000-4000-8000-0000000000a3', NULL, 'x');
UPDATE notes_stmt SET body = 'y' WHERE id = '00000000-0000-4000-8000-0000000000a3';
COMMIT;
SELECT (SELECT count(*) FROM notes_row WHERE id = '00000000-0000-4000-8000-0000000000a3') AS kept_rows,
       (SELECT count(*) FROM notes_stmt WHERE id = '00000000-0000-4000-8000-0000000000a3') AS kept_stmt_rows,
       (SELECT count(*) FROM audit_logs WHERE record_id = '00000000-0000-4000-8000-0000000000a3') AS audit_rows;
-- Not violated: both rows stored.
SELECT * FROM pg_temp.compare();
ALTER TABLE audit_logs DROP CONSTRAINT audit_logs_unique_record;

-- An exclusion constraint: a second row for the same record conflicts (23P01).
BEGIN;
ALTER TABLE audit_logs ADD CONSTRAINT one_per_record EXCLUDE USING btree (record_id WITH =);
INSERT INTO audit_logs (table_name, operation, record_id) VALUES ('earlier', 'INSERT', '00000000-0000-4000-8000-0000000000a1');
SELECT * FROM pg_temp.compare();
ROLLBACK;

-- The one intended difference: triggers created on audit_logs are not applied
-- (README), here a BEFORE trigger that refuses every row, on both paths. (The
-- internal triggers of foreign keys and deferrable constraints are, above.)
CREATE FUNCTION pg_temp.refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'refused by a user trigger'; END $$;
BEGIN;
CREATE TRIGGER refuse BEFORE INSERT ON audit_logs FOR EACH ROW EXECUTE FUNCTION pg_temp.refuse();
SELECT way, same_as_insert, left(by_trigger, 30) AS by_trigger, by_insert FROM pg_temp.compare();
ALTER TABLE audit_logs ADD COLUMN tenant text NOT NULL DEFAULT 'main';
SELECT way, same_as_insert, left(by_trigger, 30) AS by_trigger, by_insert FROM pg_temp.compare();
ROLLBACK;

-- A dropped column, and a column reordered by a drop and a re-add.
BEGIN;
ALTER TABLE audit_logs ADD COLUMN scratch int DEFAULT 7;
ALTER TABLE audit_logs DROP COLUMN scratch;
ALTER TABLE audit_logs DROP COLUMN ip_address;
ALTER TABLE audit_logs ADD COLUMN ip_address inet;
SELECT * FROM pg_temp.compare();
ROLLBACK;

-- A renamed column: the writer cannot find user_agent (42703), as an INSERT naming it.
BEGIN;
ALTER TABLE audit_logs RENAME COLUMN user_agent TO agent;
SELECT * FROM pg_temp.compare();
ROLLBACK;

-- A failed audited write leaves neither its change nor an audit row.
BEGIN;
ALTER TABLE audit_logs ALTER COLUMN user_agent TYPE varchar(5) USING left(user_agent, 5);
SAVEPOINT s;
SELECT code, message FROM pg_temp.catch_error($$INSERT INTO notes_row VALUES ('00000000-0000-4000-8000-0000000000a4', NULL, 'x')$$);
SELECT code, message FROM pg_temp.catch_error($$UPDATE notes_stmt SET body = 'changed'$$);
SELECT (SELECT count(*) FROM notes_row WHERE id = '00000000-0000-4000-8000-0000000000a4') AS new_rows,
       (SELECT count(*) FROM notes_stmt WHERE body = 'changed') AS changed_rows,
       (SELECT count(*) FROM audit_logs WHERE record_id = '00000000-0000-4000-8000-0000000000a4'
            OR operation = 'UPDATE') AS audit_rows;
ROLLBACK;

-- Rotation: rename audit_logs and create a new one; rows go to the new one at once.
ALTER TABLE audit_logs RENAME TO audit_logs_2025;
CREATE TABLE audit_logs (LIKE audit_logs_2025 INCLUDING ALL);
INSERT INTO notes_row VALUES ('00000000-0000-4000-8000-0000000000a5', NULL, 'x');
INSERT INTO notes_stmt VALUES ('00000000-0000-4000-8000-0000000000a5', NULL, 'x');
SELECT (SELECT count(*) FROM audit_logs) AS new_log_rows,
       (SELECT count(*) FROM audit_logs_2025 WHERE record_id = '00000000-0000-4000-8000-0000000000a5') AS old_log_rows;
SELECT * FROM pg_temp.compare();
-- The new table's id default is nextval() of the old one's sequence (LIKE copies
-- the default): the general path.
DROP TABLE audit_logs;
-- No table named audit_logs: 42P01.
SELECT code, message FROM pg_temp.catch_error($$INSERT INTO notes_row VALUES ('00000000-0000-4000-8000-0000000000a6', NULL, 'x')$$);
ALTER TABLE audit_logs_2025 RENAME TO audit_logs;
SELECT * FROM pg_temp.compare();

-- A partitioned audit_logs: each row in its partition; none for it: 23514.
ALTER TABLE audit_logs RENAME TO audit_logs_plain;
CREATE TABLE audit_logs (LIKE audit_logs_plain INCLUDING DEFAULTS INCLUDING CONSTRAINTS)
    PARTITION BY LIST (table_name);
CREATE TABLE audit_logs_stmt PARTITION OF audit_logs FOR VALUES IN ('notes_stmt');
SELECT * FROM pg_temp.compare();
-- A partition with its columns in another order (tuple conversion).
CREATE TABLE audit_logs_row (LIKE audit_logs_plain INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
ALTER TABLE audit_logs_row DROP COLUMN user_agent;
ALTER TABLE audit_logs_row ADD COLUMN user_agent text;
ALTER TABLE audit_logs ATTACH PARTITION audit_logs_row FOR VALUES IN ('notes_row');
SELECT * FROM pg_temp.compare();
INSERT INTO notes_row VALUES ('00000000-0000-4000-8000-0000000000a7', NULL, 'x');
SELECT tableoid::regclass, table_name, record_id, user_agent FROM audit_logs ORDER BY id;
-- A foreign key on the partitioned table (its partitions' internal triggers check it).
BEGIN;
ALTER TABLE audit_logs ADD CONSTRAINT audit_logs_user_fk FOREIGN KEY (user_id) REFERENCES users (id);
SELECT * FROM pg_temp.compare('00000000-0000-4000-8000-0000000000b1');
INSERT INTO users (id, email, name, password_hash)
VALUES ('00000000-0000-4000-8000-0000000000b1', 'fk@example.com', 'FK', 'h');
SELECT * FROM pg_temp.compare('00000000-0000-4000-8000-0000000000b1');
ROLLBACK;
DROP TABLE audit_logs;
ALTER TABLE audit_logs_plain RENAME TO audit_logs;

-- Partitioned by ranges of id, as 1.3 partitions it: the fast path
-- routes each row to its partition (one with its columns in other positions
-- too); none for it: 23514.
SELECT last_value AS id_before FROM audit_logs_id_seq \gset
ALTER TABLE audit_logs RENAME TO audit_logs_plain;
CREATE TABLE audit_logs (LIKE audit_logs_plain INCLUDING DEFAULTS INCLUDING CONSTRAINTS) PARTITION BY RANGE (id);
ALTER SEQUENCE audit_logs_id_seq OWNED BY audit_logs.id;
CREATE TABLE audit_logs_low PARTITION OF audit_logs FOR VALUES FROM (MINVALUE) TO (1000000);
CREATE TABLE audit_logs_high (LIKE audit_logs_plain INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
ALTER TABLE audit_logs_high DROP COLUMN user_agent;
ALTER TABLE audit_logs_high ADD COLUMN user_agent text;
ALTER TABLE audit_logs ATTACH PARTITION audit_logs_high FOR VALUES FROM (1000000) TO (2000000);
SELECT * FROM pg_temp.compare();
SELECT setval('audit_logs_id_seq', 1000000);
SELECT * FROM pg_temp.compare();
INSERT INTO notes_row VALUES ('00000000-0000-4000-8000-0000000000a8', NULL, 'x');
INSERT INTO notes_stmt VALUES ('00000000-0000-4000-8000-0000000000a8', NULL, 'x');
SELECT tableoid::regclass, table_name, record_id, user_agent FROM audit_logs ORDER BY id;
SELECT setval('audit_logs_id_seq', 2000000);
SELECT * FROM pg_temp.compare();
SELECT setval('audit_logs_id_seq', :id_before) > 0 AS restored;
ALTER SEQUENCE audit_logs_id_seq OWNED BY audit_logs_plain.id;
DROP TABLE audit_logs;
ALTER TABLE audit_logs_plain RENAME TO audit_logs;

-- enable_audit refuses a table whose name does not fit audit_logs.table_name.
CREATE TABLE a_table_with_a_name_of_sixty_characters_aaaaaaaaaaaaaaaaaaaa (id uuid PRIMARY KEY);
SELECT length('a_table_with_a_name_of_sixty_characters_aaaaaaaaaaaaaaaaaaaa');
SELECT code, message, detail FROM pg_temp.catch_error($$SELECT enable_audit('a_table_with_a_name_of_sixty_characters_aaaaaaaaaaaaaaaaaaaa')$$);
SELECT code, message FROM pg_temp.catch_error($$INSERT INTO audit_logs (table_name, operation)
    VALUES ('a_table_with_a_name_of_sixty_characters_aaaaaaaaaaaaaaaaaaaa', 'INSERT')$$);
-- It fits once the column is wider.
BEGIN;
ALTER TABLE audit_logs ALTER COLUMN table_name TYPE varchar(63);
SELECT enable_audit('a_table_with_a_name_of_sixty_characters_aaaaaaaaaaaaaaaaaaaa');
ROLLBACK;

-- The installed shape again: back on the fast path, same as an INSERT.
SELECT * FROM pg_temp.compare();

-- An application role without any privilege on audit_logs or its sequence: its
-- audited writes are evaluated as the extension's owner (defaults call nextval()).
CREATE ROLE regress_writer_app;
GRANT USAGE ON SCHEMA public TO regress_writer_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON notes_row, notes_stmt TO regress_writer_app;
CREATE FUNCTION pg_temp.app_write(label text) RETURNS TABLE (way text, outcome text) LANGUAGE plpgsql AS $$
DECLARE
    target text;
BEGIN
    FOR way, target IN VALUES ('row', 'notes_row'), ('statement', 'notes_stmt') LOOP
        SET LOCAL ROLE regress_writer_app;
        BEGIN
            EXECUTE format('INSERT INTO %I VALUES ($1, $2, $3)', target)
                USING '00000000-0000-4000-8000-0000000000c1'::uuid, '00000000-0000-4000-8000-0000000000b1'::uuid, label;
            outcome := 'ok';
        EXCEPTION WHEN OTHERS THEN
            outcome := 'error ' || SQLSTATE || ': ' || SQLERRM;
        END;
        RESET ROLE;
        RETURN NEXT;
    END LOOP;
END
$$;
BEGIN;
ALTER TABLE audit_logs ADD COLUMN tenant text NOT NULL DEFAULT 'main';
ALTER TABLE audit_logs ADD COLUMN serial_no bigint GENERATED ALWAYS AS IDENTITY;
ALTER TABLE audit_logs ADD COLUMN seq_no bigint DEFAULT nextval('audit_logs_id_seq');
ALTER TABLE audit_logs ADD CONSTRAINT audit_logs_user_fk FOREIGN KEY (user_id) REFERENCES users (id);
SELECT * FROM pg_temp.app_write('fk violated');
INSERT INTO users (id, email, name, password_hash)
VALUES ('00000000-0000-4000-8000-0000000000b1', 'fk@example.com', 'FK', 'h');
SELECT * FROM pg_temp.app_write('fk satisfied');
SELECT table_name, record_id, user_id, tenant, serial_no IS NOT NULL AS has_serial, seq_no > id AS seq_after_id
FROM audit_logs WHERE record_id = '00000000-0000-4000-8000-0000000000c1' ORDER BY id;
ROLLBACK;
-- The role still cannot write audit_logs itself.
SET ROLE regress_writer_app;
SELECT code, message FROM pg_temp.catch_error($$INSERT INTO audit_logs (table_name, operation) VALUES ('x', 'INSERT')$$);
RESET ROLE;

DROP TABLE notes_row, notes_stmt, a_table_with_a_name_of_sixty_characters_aaaaaaaaaaaaaaaaaaaa;
DROP EXTENSION chronicle CASCADE;
DROP OWNED BY regress_writer_app;
DROP ROLE regress_writer_app;

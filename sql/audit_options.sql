-- audit_trigger_function(): options, settings and every error path, with
-- SQLSTATE and message.
CREATE EXTENSION chronicle;
\i sql/include/catch_error.sql
\pset null '(null)'

CREATE TABLE audit_opt (
    id uuid PRIMARY KEY,
    user_id uuid,
    owner_id uuid,
    label text,
    "Mixed Case" int,
    hits int DEFAULT 0,
    touched timestamp
);
CREATE TRIGGER audit_opt_audit AFTER INSERT OR UPDATE OR DELETE ON audit_opt
    FOR EACH ROW EXECUTE FUNCTION audit_trigger_function('ignore=hits, touched', 'record_id=owner_id');

-- record_id= names the record column; ignore= leaves columns out of changed_fields.
INSERT INTO audit_opt VALUES ('11111111-1111-1111-1111-111111111111', '22222222-2222-2222-2222-222222222222',
                              '33333333-3333-3333-3333-333333333333', 'a', 1);
UPDATE audit_opt SET hits = hits + 1, touched = '2024-01-01';
UPDATE audit_opt SET hits = hits + 1, label = 'b', "Mixed Case" = 2;
SELECT operation, record_id, user_id, changed_fields FROM audit_logs ORDER BY id;
TRUNCATE audit_logs;

-- Settings: chronicle.actor_id overrides the row's user_id; client_ip and
-- user_agent are recorded; unset, they fall back to the row / inet_client_addr()
-- (NULL over a Unix socket) / NULL.
BEGIN;
SET LOCAL chronicle.actor_id = '44444444-4444-4444-4444-444444444444';
SET LOCAL chronicle.client_ip = '203.0.113.7';
SET LOCAL chronicle.user_agent = 'tests/1.0';
UPDATE audit_opt SET label = 'c';
SET LOCAL chronicle.actor_id = '{55555555-5555-5555-5555-555555555555}';
SET LOCAL chronicle.client_ip = '2001:db8::1/64';
UPDATE audit_opt SET label = 'd';
COMMIT;
SET chronicle.actor_id = '';
UPDATE audit_opt SET label = 'e';
-- The fallback address depends on the connection (a socket has none, TCP has
-- 127.0.0.1), so the last row's shows as client_addr_fallback only.
SELECT user_id, nullif(ip_address, inet_client_addr()) AS ip_address, user_agent, changed_fields,
       ip_address IS NOT DISTINCT FROM inet_client_addr() AS client_addr_fallback
FROM audit_logs ORDER BY id;
TRUNCATE audit_logs;

-- A table with no uuid id and no uuid user_id: both NULL.
CREATE TABLE audit_plain (id int PRIMARY KEY, user_id text);
CREATE TRIGGER audit_plain_audit AFTER INSERT ON audit_plain
    FOR EACH ROW EXECUTE FUNCTION audit_trigger_function();
INSERT INTO audit_plain VALUES (1, 'not a uuid column');
SELECT table_name, record_id, user_id, new_data FROM audit_logs;
TRUNCATE audit_logs;

-- Errors. A bad chronicle.actor_id: 22P02, and neither the change nor an audit row.
SET chronicle.actor_id = 'bob';
SELECT * FROM pg_temp.catch_error($$UPDATE audit_opt SET label = 'x'$$);
RESET chronicle.actor_id;
SET chronicle.client_ip = 'localhost';
SELECT * FROM pg_temp.catch_error($$UPDATE audit_opt SET label = 'x'$$);
RESET chronicle.client_ip;
SELECT label, (SELECT count(*) FROM audit_logs) AS audit_rows FROM audit_opt;

-- Bad options: 22023 naming the trigger, at the first firing.
CREATE TABLE audit_bad (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), note text, n int);
CREATE TRIGGER t1 AFTER INSERT ON audit_bad FOR EACH ROW EXECUTE FUNCTION audit_trigger_function('colour=red');
SELECT * FROM pg_temp.catch_error($$INSERT INTO audit_bad (note) VALUES ('x')$$);
DROP TRIGGER t1 ON audit_bad;
CREATE TRIGGER t1 AFTER INSERT ON audit_bad FOR EACH ROW EXECUTE FUNCTION audit_trigger_function('ignore');
SELECT * FROM pg_temp.catch_error($$INSERT INTO audit_bad (note) VALUES ('x')$$);
DROP TRIGGER t1 ON audit_bad;
CREATE TRIGGER t1 AFTER INSERT ON audit_bad FOR EACH ROW EXECUTE FUNCTION audit_trigger_function('ignore=note', 'ignore=n');
SELECT * FROM pg_temp.catch_error($$INSERT INTO audit_bad (note) VALUES ('x')$$);
DROP TRIGGER t1 ON audit_bad;
CREATE TRIGGER t1 AFTER INSERT ON audit_bad FOR EACH ROW EXECUTE FUNCTION audit_trigger_function('ignore=');
SELECT * FROM pg_temp.catch_error($$INSERT INTO audit_bad (note) VALUES ('x')$$);
DROP TRIGGER t1 ON audit_bad;
CREATE TRIGGER t1 AFTER INSERT ON audit_bad FOR EACH ROW EXECUTE FUNCTION audit_trigger_function('record_id=id,note');
SELECT * FROM pg_temp.catch_error($$INSERT INTO audit_bad (note) VALUES ('x')$$);
DROP TRIGGER t1 ON audit_bad;
-- Columns that do not exist: 42703; a record_id that is not a uuid: 42804.
CREATE TRIGGER t1 AFTER INSERT ON audit_bad FOR EACH ROW EXECUTE FUNCTION audit_trigger_function('ignore=note,nope');
SELECT * FROM pg_temp.catch_error($$INSERT INTO audit_bad (note) VALUES ('x')$$);
DROP TRIGGER t1 ON audit_bad;
CREATE TRIGGER t1 AFTER INSERT ON audit_bad FOR EACH ROW EXECUTE FUNCTION audit_trigger_function('record_id=nope');
SELECT * FROM pg_temp.catch_error($$INSERT INTO audit_bad (note) VALUES ('x')$$);
DROP TRIGGER t1 ON audit_bad;
CREATE TRIGGER t1 AFTER INSERT ON audit_bad FOR EACH ROW EXECUTE FUNCTION audit_trigger_function('record_id=note');
SELECT * FROM pg_temp.catch_error($$INSERT INTO audit_bad (note) VALUES ('x')$$);
DROP TRIGGER t1 ON audit_bad;

-- Misuse: 39P01, called directly or fired the wrong way.
SELECT * FROM pg_temp.catch_error($$SELECT audit_trigger_function()$$);
CREATE TRIGGER t1 BEFORE INSERT ON audit_bad FOR EACH ROW EXECUTE FUNCTION audit_trigger_function();
SELECT * FROM pg_temp.catch_error($$INSERT INTO audit_bad (note) VALUES ('x')$$);
DROP TRIGGER t1 ON audit_bad;
CREATE TRIGGER t1 AFTER INSERT ON audit_bad FOR EACH STATEMENT EXECUTE FUNCTION audit_trigger_function();
SELECT * FROM pg_temp.catch_error($$INSERT INTO audit_bad (note) VALUES ('x')$$);
DROP TRIGGER t1 ON audit_bad;
CREATE TRIGGER t1 AFTER UPDATE ON audit_bad REFERENCING NEW TABLE AS n
    FOR EACH STATEMENT EXECUTE FUNCTION audit_trigger_function();
SELECT * FROM pg_temp.catch_error($$UPDATE audit_bad SET note = 'y'$$);
DROP TRIGGER t1 ON audit_bad;
CREATE TRIGGER t1 AFTER TRUNCATE ON audit_bad FOR EACH STATEMENT EXECUTE FUNCTION audit_trigger_function();
SELECT * FROM pg_temp.catch_error($$TRUNCATE audit_bad$$);
DROP TRIGGER t1 ON audit_bad;
CREATE VIEW audit_bad_view AS SELECT * FROM audit_bad;
CREATE TRIGGER t1 INSTEAD OF INSERT ON audit_bad_view FOR EACH ROW EXECUTE FUNCTION audit_trigger_function();
SELECT * FROM pg_temp.catch_error($$INSERT INTO audit_bad_view (note) VALUES ('x')$$);
DROP VIEW audit_bad_view;
SELECT count(*) AS rows_after_errors FROM audit_bad;

-- A table name longer than audit_logs.table_name's varchar(50): 22001, as an INSERT would.
CREATE TABLE audit_a_table_whose_name_is_longer_than_fifty_characters (id int);
CREATE TRIGGER t1 AFTER INSERT ON audit_a_table_whose_name_is_longer_than_fifty_characters
    FOR EACH ROW EXECUTE FUNCTION audit_trigger_function();
SELECT * FROM pg_temp.catch_error($$INSERT INTO audit_a_table_whose_name_is_longer_than_fifty_characters VALUES (1)$$);
SELECT count(*) AS long_name_rows FROM audit_a_table_whose_name_is_longer_than_fifty_characters;

-- A CHECK constraint on audit_logs is enforced (23514) and fails the change.
CREATE TRIGGER a_audit AFTER INSERT ON audit_bad FOR EACH ROW EXECUTE FUNCTION audit_trigger_function();
ALTER TABLE audit_logs ADD CONSTRAINT audit_no_forbidden_agent CHECK (user_agent IS DISTINCT FROM 'forbidden');
SET chronicle.user_agent = 'forbidden';
SELECT code, message, table_name FROM pg_temp.catch_error($$INSERT INTO audit_bad (note) VALUES ('x')$$);
RESET chronicle.user_agent;
ALTER TABLE audit_logs DROP CONSTRAINT audit_no_forbidden_agent;
SELECT (SELECT count(*) FROM audit_bad) AS rows, (SELECT count(*) FROM audit_logs) AS audit_rows;

-- A statement that fails after the audit trigger ran leaves no audit row.
CREATE FUNCTION audit_fail_on_boom() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.note = 'boom' THEN RAISE EXCEPTION 'boom'; END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER z_fail AFTER INSERT ON audit_bad FOR EACH ROW EXECUTE FUNCTION audit_fail_on_boom();
SELECT code, message FROM pg_temp.catch_error($$INSERT INTO audit_bad (note) VALUES ('fine'), ('boom')$$);
SELECT (SELECT count(*) FROM audit_bad) AS rows, (SELECT count(*) FROM audit_logs) AS audit_rows;
INSERT INTO audit_bad (note) VALUES ('fine'), ('also fine');
SELECT (SELECT count(*) FROM audit_bad) AS rows, (SELECT count(*) FROM audit_logs) AS audit_rows;

DROP TABLE audit_opt, audit_plain, audit_bad, audit_a_table_whose_name_is_longer_than_fifty_characters;
DROP FUNCTION audit_fail_on_boom();
DROP EXTENSION chronicle CASCADE;

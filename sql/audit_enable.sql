-- enable_audit / disable_audit (1.1): put the native audit trigger on any table,
-- idempotently, in row or statement mode, with the trigger's options checked at once.
CREATE EXTENSION chronicle;
\i sql/include/catch_error.sql

CREATE SCHEMA audit_en;
CREATE TABLE audit_en.notes (id uuid PRIMARY KEY, user_id uuid, body text, hits int DEFAULT 0);
CREATE TABLE audit_en."Odd Name" (k int, v text);
CREATE TABLE audit_en.a_table_name_that_is_exactly_sixty_three_bytes_long_abcdefghijk (id int PRIMARY KEY);

CREATE FUNCTION audit_en.triggers(regclass) RETURNS TABLE (tgname name, tgtype int2, args text, old_table name, new_table name)
LANGUAGE sql AS $$
    SELECT t.tgname, t.tgtype, encode(t.tgargs, 'escape'), t.tgoldtable, t.tgnewtable
    FROM pg_trigger t WHERE t.tgrelid = $1 AND t.tgfoid = 'audit_trigger_function()'::regprocedure ORDER BY 1
$$;

-- Row mode by default, options passed on.
SELECT enable_audit('audit_en.notes', '{ignore=hits}');
SELECT * FROM audit_en.triggers('audit_en.notes');
-- The same call again changes nothing (the trigger is not even recreated).
CREATE TEMP TABLE before_oids AS SELECT oid FROM pg_trigger WHERE tgrelid = 'audit_en.notes'::regclass;
SELECT enable_audit('audit_en.notes', '{ignore=hits}');
SELECT (SELECT array_agg(oid) FROM pg_trigger WHERE tgrelid = 'audit_en.notes'::regclass)
       = (SELECT array_agg(oid) FROM before_oids) AS same_trigger;
INSERT INTO audit_en.notes VALUES ('11111111-1111-1111-1111-111111111111', '22222222-2222-2222-2222-222222222222', 'a');
UPDATE audit_en.notes SET hits = hits + 1, body = 'b';

-- Statement mode: three triggers with transition tables, replacing the row trigger.
SELECT enable_audit('audit_en.notes', '{mode=statement, ignore=hits}');
SELECT * FROM audit_en.triggers('audit_en.notes');
UPDATE audit_en.notes SET hits = hits + 1, body = 'c';
DELETE FROM audit_en.notes;
SELECT table_name, operation, record_id, user_id, changed_fields FROM audit_logs ORDER BY id;

-- Back to row mode without options.
SELECT enable_audit('audit_en.notes');
SELECT * FROM audit_en.triggers('audit_en.notes');

-- Names that need quoting, and names that must be shortened to fit 63 bytes.
SELECT enable_audit('audit_en."Odd Name"');
INSERT INTO audit_en."Odd Name" VALUES (1, 'x');
SELECT table_name, new_data FROM audit_logs WHERE table_name = 'Odd Name';
-- (A name longer than audit_logs.table_name's varchar(50) is refused: 22001.)
SELECT code, message FROM pg_temp.catch_error($$SELECT enable_audit('audit_en.a_table_name_that_is_exactly_sixty_three_bytes_long_abcdefghijk')$$);
BEGIN;
ALTER TABLE audit_logs ALTER COLUMN table_name TYPE varchar(63);
SELECT enable_audit('audit_en.a_table_name_that_is_exactly_sixty_three_bytes_long_abcdefghijk', '{mode=statement}');
SELECT tgname, octet_length(tgname) FROM audit_en.triggers('audit_en.a_table_name_that_is_exactly_sixty_three_bytes_long_abcdefghijk');
ROLLBACK;

-- An audit trigger that differs from what is asked, here by an UPDATE OF list,
-- is replaced.
SELECT disable_audit('audit_en.notes');
CREATE TRIGGER notes_audit_trigger AFTER INSERT OR UPDATE OF body OR DELETE ON audit_en.notes
    FOR EACH ROW EXECUTE FUNCTION audit_trigger_function();
SELECT enable_audit('audit_en.notes');
SELECT tgname, tgattr::text AS update_of FROM pg_trigger
WHERE tgrelid = 'audit_en.notes'::regclass AND tgfoid = 'audit_trigger_function()'::regprocedure;

-- Errors, at once rather than at the first write: 22023, 42703, 42804, 55000, 22004.
SELECT * FROM pg_temp.catch_error($$SELECT enable_audit('audit_en.notes', '{colour=red}')$$);
SELECT * FROM pg_temp.catch_error($$SELECT enable_audit('audit_en.notes', '{ignore=nope}')$$);
SELECT * FROM pg_temp.catch_error($$SELECT enable_audit('audit_en.notes', '{record_id=body}')$$);
SELECT * FROM pg_temp.catch_error($$SELECT enable_audit('audit_en.notes', '{mode=fast}')$$);
SELECT * FROM pg_temp.catch_error($$SELECT enable_audit('audit_en.notes', '{mode=row,mode=statement}')$$);
SELECT * FROM pg_temp.catch_error($$SELECT enable_audit('audit_en."Odd Name"', '{mode=statement}')$$);
SELECT * FROM pg_temp.catch_error($$SELECT enable_audit(NULL)$$);
SELECT * FROM pg_temp.catch_error($$SELECT enable_audit('audit_en.notes', NULL)$$);
SELECT * FROM pg_temp.catch_error($$SELECT enable_audit('audit_en.notes', '{NULL}')$$);
SELECT * FROM pg_temp.catch_error($$SELECT disable_audit(NULL)$$);
-- A failed call leaves the triggers as they were.
SELECT * FROM audit_en.triggers('audit_en.notes');

-- disable_audit removes every audit trigger; again is a no-op.
SELECT disable_audit('audit_en.notes');
SELECT disable_audit('audit_en.notes');
SELECT count(*) AS audit_triggers_left FROM audit_en.triggers('audit_en.notes');

DROP SCHEMA audit_en CASCADE;
DROP EXTENSION chronicle CASCADE;

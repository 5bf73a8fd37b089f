-- Privileges (doc/sql-reference.md): an application role with only USAGE on the schema and
-- SELECT/INSERT/UPDATE/DELETE on users and posts writes them and gets its audit
-- rows, but cannot write audit_logs, its sequence, or attach the audit trigger
-- to a table of its own to forge audit rows.
CREATE EXTENSION chronicle;
\i sql/include/catch_error.sql

CREATE ROLE regress_audit_app;
GRANT USAGE ON SCHEMA public TO regress_audit_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON users, posts TO regress_audit_app;

SET ROLE regress_audit_app;
INSERT INTO users (id, email, name, password_hash)
VALUES ('00000000-0000-0000-0000-0000000000c1', 'carol@example.com', 'Carol', 'h');
INSERT INTO posts (id, user_id, title, content, status)
VALUES ('00000000-0000-0000-0000-0000000000c2', '00000000-0000-0000-0000-0000000000c1', 'Mine', 'x', 'published');
SET chronicle.actor_id = '00000000-0000-0000-0000-0000000000c1';
UPDATE posts SET title = 'Mine, edited';
DELETE FROM posts;
RESET chronicle.actor_id;

-- Its audit rows are there, although it may not even read them.
SELECT code, message FROM pg_temp.catch_error($$SELECT count(*) FROM audit_logs$$);
RESET ROLE;
SELECT operation, record_id, user_id, changed_fields FROM audit_logs ORDER BY id;

-- It cannot insert, update, delete or truncate audit rows, nor use the sequence.
SET ROLE regress_audit_app;
SELECT code, message FROM pg_temp.catch_error($$INSERT INTO audit_logs (table_name, operation) VALUES ('posts', 'INSERT')$$);
SELECT code, message FROM pg_temp.catch_error($$UPDATE audit_logs SET user_agent = 'forged'$$);
SELECT code, message FROM pg_temp.catch_error($$DELETE FROM audit_logs$$);
SELECT code, message FROM pg_temp.catch_error($$TRUNCATE audit_logs$$);
SELECT code, message FROM pg_temp.catch_error($$SELECT nextval('audit_logs_id_seq')$$);
-- Nor attach the trigger to a table it owns (a temporary "posts" would forge rows).
CREATE TEMP TABLE posts (id uuid, user_id uuid);
SELECT code, message FROM pg_temp.catch_error($$CREATE TRIGGER forge AFTER INSERT ON pg_temp.posts
    FOR EACH ROW EXECUTE FUNCTION public.audit_trigger_function()$$);
SELECT code, message FROM pg_temp.catch_error($$SELECT audit_trigger_function()$$);
DROP TABLE pg_temp.posts;
RESET ROLE;
SELECT count(*) AS audit_rows_unchanged FROM audit_logs;

-- A role granted EXECUTE may audit its own tables; the rows are written for it
-- although it still has no right on audit_logs.
GRANT EXECUTE ON FUNCTION audit_trigger_function() TO regress_audit_app;
SET ROLE regress_audit_app;
CREATE TEMP TABLE own_notes (id uuid PRIMARY KEY, body text);
CREATE TRIGGER own_audit AFTER INSERT ON own_notes FOR EACH ROW EXECUTE FUNCTION public.audit_trigger_function();
INSERT INTO own_notes VALUES ('00000000-0000-0000-0000-0000000000d1', 'x');
DROP TABLE own_notes;
RESET ROLE;
SELECT table_name, operation, record_id FROM audit_logs WHERE table_name = 'own_notes';

REVOKE ALL ON FUNCTION audit_trigger_function() FROM regress_audit_app;
DROP EXTENSION chronicle CASCADE;
DROP OWNED BY regress_audit_app;
DROP ROLE regress_audit_app;

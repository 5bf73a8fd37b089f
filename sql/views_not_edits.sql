-- Version 1.2: a view is not an edit, decided by the values. An UPDATE of posts
-- in which view_count is the only column whose value changes keeps updated_at
-- and writes no audit row, whoever runs it and whatever its SET list names;
-- every other UPDATE is an edit (a no-op UPDATE and an UPDATE of a column added
-- later included). The rule is the triggers' option not_an_edit=, which any
-- table can use, in row and statement mode.
-- (test/upgrade/run: not at older versions with the newest library)
-- chronicle >= 1.2
\i sql/include/catch_error.sql
\pset null '(null)'
CREATE EXTENSION chronicle;

-- The triggers fire on every UPDATE (no UPDATE OF list) and carry the option.
SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger
 WHERE tgrelid = 'posts'::regclass AND tgname IN ('posts_updated_at_trigger', 'posts_audit_trigger')
 ORDER BY tgname;

INSERT INTO users (id, email, name, password_hash)
VALUES ('00000000-0000-4000-8000-000000000001', 'ada@example.com', 'Ada', 'h');
INSERT INTO posts (id, user_id, title, content, status, updated_at)
VALUES ('10000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000001',
        'Hello', 'text', 'published', '2020-01-01');
TRUNCATE audit_logs;
CREATE VIEW post_state AS
SELECT view_count, updated_at = '2020-01-01' AS updated_at_kept,
       (SELECT count(*) FROM audit_logs) AS audit_rows
  FROM posts WHERE id = '10000000-0000-4000-8000-000000000001';

-- A view: increment_post_views, and a plain UPDATE of view_count alone.
SELECT increment_post_views('10000000-0000-4000-8000-000000000001') AS views;
UPDATE posts SET view_count = view_count + 1 WHERE id = '10000000-0000-4000-8000-000000000001';
SELECT * FROM post_state;
-- The SET list does not decide: an ORM's UPDATE naming every column, with only
-- view_count changed, is a view too; so is one run by an application role.
UPDATE posts SET id = id, user_id = user_id, title = title, content = content, status = status,
                 published_at = published_at, view_count = view_count + 1, created_at = created_at,
                 updated_at = updated_at
 WHERE id = '10000000-0000-4000-8000-000000000001';
CREATE ROLE regress_views_app;
GRANT SELECT, UPDATE ON posts TO regress_views_app;
SET ROLE regress_views_app;
UPDATE posts SET view_count = view_count + 1, title = 'Hello' WHERE id = '10000000-0000-4000-8000-000000000001';
RESET ROLE;
SELECT * FROM post_state;

-- view_count and another column changed: an edit (updated_at moves, audited,
-- both changes in changed_fields).
UPDATE posts SET view_count = view_count + 1, title = 'Hello again'
 WHERE id = '10000000-0000-4000-8000-000000000001';
SELECT view_count, updated_at > '2020-01-01' AS updated_at_moved FROM posts;
SELECT operation, changed_fields, new_data->>'view_count' AS views FROM audit_logs ORDER BY id;
UPDATE posts SET updated_at = '2020-01-01';   -- an edit too: updated_at changes, and moves again
SELECT updated_at > '2020-01-01' AS updated_at_moved, (SELECT count(*) FROM audit_logs) AS audit_rows FROM posts;
TRUNCATE audit_logs;

-- A no-op UPDATE is an edit: audited, and updated_at moves (changed_fields has
-- it). In the transaction of an edit, updated_at already holds the
-- transaction's time: the no-op then changes nothing at all, changed_fields {}.
SET session_replication_role = replica;   -- no trigger: updated_at back to 2020
UPDATE posts SET updated_at = '2020-01-01';
RESET session_replication_role;
TRUNCATE audit_logs;
UPDATE posts SET title = title;
UPDATE posts SET view_count = view_count;   -- view_count set to itself: no value changes
SELECT updated_at > '2020-01-01' AS updated_at_moved FROM posts;
BEGIN;
UPDATE posts SET content = 'edited';
UPDATE posts SET status = status, view_count = view_count;
COMMIT;
SELECT operation, changed_fields FROM audit_logs ORDER BY id;
TRUNCATE audit_logs;

-- A column added after installing is not in the option's list: changing it is
-- an edit. The triggers see the new column at their next firing.
SET session_replication_role = replica;   -- no trigger: updated_at back to 2020
UPDATE posts SET updated_at = '2020-01-01';
RESET session_replication_role;
TRUNCATE audit_logs;
ALTER TABLE posts ADD COLUMN tags text;
UPDATE posts SET tags = 'x';
SELECT updated_at > '2020-01-01' AS updated_at_moved FROM posts;
SELECT operation, changed_fields, new_data->>'tags' AS tags FROM audit_logs ORDER BY id;
SET session_replication_role = replica;   -- no trigger: updated_at back to 2020
UPDATE posts SET updated_at = '2020-01-01';
RESET session_replication_role;
TRUNCATE audit_logs;
SELECT increment_post_views('10000000-0000-4000-8000-000000000001') AS views;
SELECT * FROM post_state;
ALTER TABLE posts DROP COLUMN tags;
SELECT increment_post_views('10000000-0000-4000-8000-000000000001') AS views;
SELECT * FROM post_state;
DROP VIEW post_state;
DELETE FROM posts;
DELETE FROM users;
TRUNCATE audit_logs;

-- ---------------------------------------------------------------------------
-- The option on another table: several columns, statement mode, a BEFORE
-- updated_at trigger with the option after its column. "Changed" is IS
-- DISTINCT FROM with the type's =: 1.50 -> 1.5 (numeric) is no change.
-- ---------------------------------------------------------------------------
CREATE TABLE counters (
    id int PRIMARY KEY,
    label text,
    hits int NOT NULL DEFAULT 0,
    last_hit timestamptz,
    amount numeric,
    doubled int GENERATED ALWAYS AS (hits * 2) STORED,
    modified timestamptz NOT NULL DEFAULT '2000-01-01'
);
CREATE TRIGGER counters_modified BEFORE UPDATE ON counters
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column('modified', 'not_an_edit=hits, last_hit');
SELECT enable_audit('counters', ARRAY['mode=statement', 'not_an_edit=hits, last_hit']);
SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger WHERE tgrelid = 'counters'::regclass ORDER BY tgname;
-- Idempotent with the option.
SELECT enable_audit('counters', ARRAY['mode=statement', 'not_an_edit=hits, last_hit']);
SELECT count(*) AS audit_triggers FROM pg_trigger WHERE tgrelid = 'counters'::regclass AND tgname LIKE 'counters_audit_%';
INSERT INTO counters (id, label, amount) VALUES (1, 'a', 1.50), (2, 'b', 2), (3, 'c', 3);
TRUNCATE audit_logs;
-- One statement: rows 1 and 2 only counted (row 1's amount rewritten equal, the
-- generated column follows hits), row 3 also relabelled: one audit row, row 3's.
UPDATE counters SET hits = hits + 1, last_hit = '2024-01-01',
                    amount = CASE id WHEN 1 THEN 1.5 ELSE amount END,
                    label = CASE id WHEN 3 THEN 'c!' ELSE label END;
SELECT id, hits, doubled, amount, modified = '2000-01-01' AS modified_kept FROM counters ORDER BY id;
SELECT operation, changed_fields, old_data->>'id' AS id FROM audit_logs ORDER BY id;
TRUNCATE audit_logs;
-- A no-op and a NULL -> value change of a column outside the list: edits.
UPDATE counters SET hits = hits WHERE id = 1;
UPDATE counters SET hits = hits + 1, amount = NULL WHERE id = 2;
SELECT id, modified = '2000-01-01' AS modified_kept FROM counters ORDER BY id;
SELECT operation, changed_fields, old_data->>'id' AS id FROM audit_logs ORDER BY id;
TRUNCATE audit_logs;
-- Row mode honours it alike.
SELECT enable_audit('counters', ARRAY['not_an_edit=hits,last_hit']);
UPDATE counters SET hits = hits + 1, last_hit = now();
UPDATE counters SET hits = hits + 1, label = 'a!' WHERE id = 1;
SELECT operation, changed_fields, old_data->>'id' AS id FROM audit_logs ORDER BY id;
TRUNCATE audit_logs;

-- ---------------------------------------------------------------------------
-- Errors, at the first firing (or from enable_audit before it changes
-- anything): an unknown key or a malformed list 22023, a missing column 42703.
-- ---------------------------------------------------------------------------
SELECT * FROM pg_temp.catch_error($$SELECT enable_audit('counters', ARRAY['not_an_edits=hits'])$$);
SELECT * FROM pg_temp.catch_error($$SELECT enable_audit('counters', ARRAY['not_an_edit=hits,nope'])$$);
SELECT * FROM pg_temp.catch_error($$SELECT enable_audit('counters', ARRAY['not_an_edit='])$$);
SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger WHERE tgrelid = 'counters'::regclass ORDER BY tgname;
SELECT disable_audit('counters');
CREATE TRIGGER bad_audit AFTER UPDATE ON counters
    FOR EACH ROW EXECUTE FUNCTION audit_trigger_function('not_an_edit=nope');
SELECT * FROM pg_temp.catch_error($$UPDATE counters SET hits = 0$$);
DROP TRIGGER bad_audit ON counters;
DROP TRIGGER counters_modified ON counters;
CREATE TRIGGER bad_modified BEFORE UPDATE ON counters
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column('modified', 'not_an_edit=nope');
SELECT * FROM pg_temp.catch_error($$UPDATE counters SET hits = 0$$);
DROP TRIGGER bad_modified ON counters;
CREATE TRIGGER bad_modified BEFORE UPDATE ON counters
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column('modified', 'views=hits');
SELECT * FROM pg_temp.catch_error($$UPDATE counters SET hits = 0$$);
DROP TRIGGER bad_modified ON counters;
CREATE TRIGGER bad_modified BEFORE UPDATE ON counters
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column('modified', 'not_an_edit=hits', 'not_an_edit=label');
SELECT * FROM pg_temp.catch_error($$UPDATE counters SET hits = 0$$);
DROP TRIGGER bad_modified ON counters;
-- The option follows the column: alone, it is taken for a column name.
CREATE TRIGGER bad_modified BEFORE UPDATE ON counters
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column('not_an_edit=hits');
SELECT * FROM pg_temp.catch_error($$UPDATE counters SET hits = 0$$);
DROP TRIGGER bad_modified ON counters;
SELECT count(*) AS audit_rows FROM audit_logs;
DROP TABLE counters;
REVOKE ALL ON posts FROM regress_views_app;
DROP ROLE regress_views_app;

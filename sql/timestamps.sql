-- The native timestamp triggers: update_updated_at_column() and set_published_at().
\i sql/include/catch_error.sql
\pset null '(null)'
CREATE EXTENSION chronicle;

-- ---------------------------------------------------------------------------
-- updated_at on the extension's own tables
-- ---------------------------------------------------------------------------
INSERT INTO users (id, email, name, password_hash, created_at, updated_at)
VALUES ('00000000-0000-0000-0000-000000000001', 'ada@example.com', 'Ada', 'h',
        '2020-01-01', '2020-01-01');
-- An INSERT is not touched: the trigger is BEFORE UPDATE only.
SELECT updated_at FROM users;
BEGIN;
UPDATE users SET name = 'Ada L.';
-- CURRENT_TIMESTAMP is the transaction's start time, in the session's time zone.
SELECT updated_at = CURRENT_TIMESTAMP::timestamp AS stamped_now, created_at AS created_kept FROM users;
COMMIT;
-- A value the statement sets itself is overwritten, as in the reference.
UPDATE users SET updated_at = '1999-01-01';
SELECT updated_at > '2020-01-01' AS overwritten FROM users;
-- A timestamp column follows the session time zone, like the reference's assignment.
BEGIN;
SET LOCAL TIME ZONE 'Pacific/Auckland';
UPDATE users SET name = 'Ada K.';
SELECT updated_at = (CURRENT_TIMESTAMP AT TIME ZONE 'Pacific/Auckland') AS local_time FROM users;
ROLLBACK;

-- ---------------------------------------------------------------------------
-- set_published_at on posts
-- ---------------------------------------------------------------------------
BEGIN;
INSERT INTO posts (id, user_id, title, content, status) VALUES
  ('00000000-0000-0000-0000-0000000000a1', '00000000-0000-0000-0000-000000000001', 'draft', 'c', 'draft'),
  ('00000000-0000-0000-0000-0000000000a2', '00000000-0000-0000-0000-000000000001', 'pub', 'c', 'published');
-- INSERT as published without a timestamp: stamped now. A draft stays NULL.
SELECT title, published_at = CURRENT_TIMESTAMP::timestamp AS stamped, published_at IS NULL AS is_null
FROM posts ORDER BY title;
COMMIT;
-- An import: INSERT as published with its own timestamp keeps it.
INSERT INTO posts (id, user_id, title, content, status, published_at)
VALUES ('00000000-0000-0000-0000-0000000000a3', '00000000-0000-0000-0000-000000000001', 'imported', 'c',
        'published', '2001-02-03 04:05:06');
SELECT published_at FROM posts WHERE title = 'imported';
-- draft -> published stamps the time, even over a value the UPDATE supplies.
BEGIN;
UPDATE posts SET status = 'published', published_at = '1990-01-01' WHERE title = 'draft';
SELECT published_at = CURRENT_TIMESTAMP::timestamp AS stamped FROM posts WHERE title = 'draft';
COMMIT;
-- published -> published keeps the existing time (here the import's).
UPDATE posts SET content = 'edited' WHERE title = 'imported';
SELECT published_at FROM posts WHERE title = 'imported';
-- published -> archived clears it.
UPDATE posts SET status = 'archived' WHERE title = 'imported';
SELECT status, published_at FROM posts WHERE title = 'imported';
-- archived -> draft: not published before or after, nothing changes.
UPDATE posts SET status = 'draft', published_at = '2002-01-01' WHERE title = 'imported';
SELECT status, published_at FROM posts WHERE title = 'imported';
-- updated_at moved on every UPDATE of posts.
SELECT count(*) FILTER (WHERE updated_at > created_at OR updated_at = CURRENT_TIMESTAMP::timestamp) AS moved,
       count(*) AS total
FROM posts WHERE title IN ('draft', 'imported');
-- The reference's CHECK still guards a published post without a time.
SELECT code, message FROM pg_temp.catch_error($$UPDATE posts SET published_at = NULL WHERE title = 'pub'$$);

-- ---------------------------------------------------------------------------
-- Arguments: other column names, other types
-- ---------------------------------------------------------------------------
CREATE TYPE article_state AS ENUM ('draft', 'live', 'gone');
CREATE TABLE articles (
    id int PRIMARY KEY,
    state article_state NOT NULL,
    went_live timestamptz,
    modified timestamptz NOT NULL DEFAULT '2000-01-01'
);
CREATE TRIGGER articles_modified BEFORE UPDATE ON articles
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column('modified');
CREATE TRIGGER articles_live BEFORE INSERT OR UPDATE ON articles
    FOR EACH ROW EXECUTE FUNCTION set_published_at('state', 'live', 'went_live');
BEGIN;
INSERT INTO articles (id, state) VALUES (1, 'draft'), (2, 'live');
SELECT id, went_live = CURRENT_TIMESTAMP AS live_now, went_live IS NULL AS not_live FROM articles ORDER BY id;
UPDATE articles SET state = 'live' WHERE id = 1;
UPDATE articles SET state = 'gone' WHERE id = 2;
SELECT id, state, went_live = CURRENT_TIMESTAMP AS live_now, went_live IS NULL AS not_live,
       modified = CURRENT_TIMESTAMP AS modified_now
FROM articles ORDER BY id;
COMMIT;
-- The status comparison uses the column's collation and type, like `status = 'published'`.
CREATE TABLE notes (id int, kind text COLLATE "C", at timestamp, updated_at timestamp);
CREATE TRIGGER notes_published BEFORE INSERT OR UPDATE ON notes
    FOR EACH ROW EXECUTE FUNCTION set_published_at('kind', 'Published', 'at');
INSERT INTO notes VALUES (1, 'published', NULL), (2, 'Published', NULL), (3, NULL, NULL);
SELECT id, at IS NOT NULL AS stamped FROM notes ORDER BY id;
-- A NULL status is neither published nor another status: the time is kept.
UPDATE notes SET kind = NULL WHERE id = 2;
SELECT id, at IS NOT NULL AS stamped FROM notes WHERE id = 2;

-- ---------------------------------------------------------------------------
-- Misuse: SQLSTATE 39P01, 42703, 42804, 22023
-- ---------------------------------------------------------------------------
\x on
-- Not called by the trigger manager (a C function bound to the same symbol).
CREATE FUNCTION not_a_trigger() RETURNS void LANGUAGE C
    AS '$libdir/chronicle', 'chronicle_update_updated_at_column';
SELECT * FROM pg_temp.catch_error('SELECT not_a_trigger()');
DROP FUNCTION not_a_trigger();
-- Wrong timing, level or event.
CREATE TABLE misuse (id int, updated_at timestamp, status text, published_at timestamp);
INSERT INTO misuse VALUES (1, NULL, 'draft', NULL);
CREATE TRIGGER after_update AFTER UPDATE ON misuse
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();
SELECT * FROM pg_temp.catch_error('UPDATE misuse SET id = 2');
DROP TRIGGER after_update ON misuse;
CREATE TRIGGER per_statement BEFORE UPDATE ON misuse
    FOR EACH STATEMENT EXECUTE FUNCTION update_updated_at_column();
SELECT code, message, detail FROM pg_temp.catch_error('UPDATE misuse SET id = 2');
DROP TRIGGER per_statement ON misuse;
CREATE TRIGGER on_insert BEFORE INSERT ON misuse
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();
SELECT code, message, detail FROM pg_temp.catch_error('INSERT INTO misuse VALUES (3)');
DROP TRIGGER on_insert ON misuse;
CREATE TRIGGER on_delete BEFORE DELETE ON misuse
    FOR EACH ROW EXECUTE FUNCTION set_published_at();
SELECT code, message, detail FROM pg_temp.catch_error('DELETE FROM misuse');
DROP TRIGGER on_delete ON misuse;
CREATE TRIGGER on_truncate BEFORE TRUNCATE ON misuse
    FOR EACH STATEMENT EXECUTE FUNCTION set_published_at();
SELECT code, message, detail FROM pg_temp.catch_error('TRUNCATE misuse');
DROP TRIGGER on_truncate ON misuse;
-- A column that does not exist: 42703 naming table, column and trigger.
CREATE TRIGGER missing_column BEFORE UPDATE ON misuse
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column('modified_at');
SELECT * FROM pg_temp.catch_error('UPDATE misuse SET id = 2');
DROP TRIGGER missing_column ON misuse;
-- A column of the wrong type: 42804.
CREATE TRIGGER wrong_type BEFORE UPDATE ON misuse
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column('status');
SELECT * FROM pg_temp.catch_error('UPDATE misuse SET id = 2');
DROP TRIGGER wrong_type ON misuse;
CREATE TRIGGER wrong_stamp BEFORE INSERT ON misuse
    FOR EACH ROW EXECUTE FUNCTION set_published_at('status', 'published', 'id');
SELECT code, message FROM pg_temp.catch_error('INSERT INTO misuse VALUES (4)');
DROP TRIGGER wrong_stamp ON misuse;
CREATE TRIGGER missing_status BEFORE INSERT ON misuse
    FOR EACH ROW EXECUTE FUNCTION set_published_at('state');
SELECT code, message, column_name FROM pg_temp.catch_error('INSERT INTO misuse VALUES (4)');
DROP TRIGGER missing_status ON misuse;
-- A status type without equality cannot say what "published" is.
CREATE TABLE shapes (at timestamp, status point);
CREATE TRIGGER no_equality BEFORE INSERT ON shapes
    FOR EACH ROW EXECUTE FUNCTION set_published_at('status', '(1,1)', 'at');
SELECT code, message FROM pg_temp.catch_error('INSERT INTO shapes VALUES (NULL, ''(0,0)'')');
DROP TABLE shapes;
-- A published value the status type cannot hold fails with the type's own error.
CREATE TRIGGER bad_label BEFORE INSERT ON articles
    FOR EACH ROW EXECUTE FUNCTION set_published_at('state', 'published', 'went_live');
SELECT code, message FROM pg_temp.catch_error($$INSERT INTO articles (id, state) VALUES (9, 'draft')$$);
DROP TRIGGER bad_label ON articles;
-- update_updated_at_column's arguments after the column are options (key=value,
-- sql/views_not_edits.sql); anything else is 22023, as too many arguments are.
CREATE TRIGGER too_many BEFORE UPDATE ON misuse
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column('updated_at', 'extra');
SELECT code, message, hint FROM pg_temp.catch_error('UPDATE misuse SET id = 2');
DROP TRIGGER too_many ON misuse;
CREATE TRIGGER too_many BEFORE INSERT ON misuse
    FOR EACH ROW EXECUTE FUNCTION set_published_at('status', 'published', 'published_at', 'extra');
SELECT code, message FROM pg_temp.catch_error('INSERT INTO misuse VALUES (5)');
DROP TRIGGER too_many ON misuse;
-- Nothing was written by the failed statements.
SELECT id, updated_at FROM misuse;
\x off

-- ---------------------------------------------------------------------------
-- The per-trigger cache follows the table's changes
-- ---------------------------------------------------------------------------
CREATE TABLE evolving (id int, note text, modified timestamp);
CREATE TRIGGER evolving_modified BEFORE UPDATE ON evolving
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column('modified');
INSERT INTO evolving VALUES (1, 'a', NULL);
UPDATE evolving SET note = 'b';
SELECT modified IS NOT NULL AS stamped FROM evolving;
-- Renamed away: the cached attribute number must not be used.
ALTER TABLE evolving RENAME COLUMN modified TO changed;
SELECT code, message FROM pg_temp.catch_error($$UPDATE evolving SET note = 'c'$$);
-- Dropped and added again: a new attribute number, found anew.
ALTER TABLE evolving DROP COLUMN changed;
ALTER TABLE evolving ADD COLUMN modified timestamptz;
BEGIN;
UPDATE evolving SET note = 'd';
SELECT note, modified = CURRENT_TIMESTAMP AS stamped FROM evolving;
COMMIT;
-- A column that precedes it dropped: attribute numbers stay, the value lands right.
ALTER TABLE evolving DROP COLUMN note;
BEGIN;
UPDATE evolving SET modified = NULL;
SELECT id, modified = CURRENT_TIMESTAMP AS stamped FROM evolving;
COMMIT;
-- Type changed to one the trigger refuses.
ALTER TABLE evolving ALTER COLUMN modified TYPE text;
SELECT code, message FROM pg_temp.catch_error('UPDATE evolving SET id = 2');
-- And back to a timestamp: works again.
ALTER TABLE evolving ALTER COLUMN modified TYPE timestamp USING NULL;
BEGIN;
UPDATE evolving SET id = 3;
SELECT id, modified = CURRENT_TIMESTAMP::timestamp AS stamped FROM evolving;
COMMIT;

DROP TABLE evolving, misuse, notes, articles;
DROP TYPE article_state;
DROP EXTENSION chronicle CASCADE;

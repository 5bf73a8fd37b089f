-- The 1.0 <-> 1.1 steps: users.phone, pending_migration_steps(), the lock_timeout
-- every step sets, and the data-loss guard of the way down. (test/upgrade
-- proves the catalogs; this file proves the behaviour.)
-- pg_regress feeds the file on stdin, so the path is relative to the working directory.
\i sql/include/catch_error.sql
\pset null '(null)'
CREATE EXTENSION chronicle VERSION '1.0';
INSERT INTO users (id, email, name, password_hash)
VALUES ('00000000-0000-0000-0000-000000000001', 'ada@example.com', 'Ada', 'h');

-- ---------------------------------------------------------------------------
-- lock_timeout: the step sets one for its transaction, unless the session did
-- ---------------------------------------------------------------------------
BEGIN;
ALTER EXTENSION chronicle UPDATE TO '1.1';
SHOW lock_timeout;
ROLLBACK;
BEGIN;
SET LOCAL lock_timeout = '700ms';
ALTER EXTENSION chronicle UPDATE TO '1.1';
SHOW lock_timeout;
ROLLBACK;
SHOW lock_timeout;

-- ---------------------------------------------------------------------------
-- 1.0 -> 1.1: phone, its CHECK not validated yet but enforced on new rows
-- ---------------------------------------------------------------------------
ALTER EXTENSION chronicle UPDATE TO '1.1';
SELECT format_type(atttypid, atttypmod) AS phone_type, attnotnull, atthasdef
  FROM pg_attribute WHERE attrelid = 'users'::regclass AND attname = 'phone';
SELECT convalidated FROM pg_constraint WHERE conrelid = 'users'::regclass AND conname = 'check_phone_format';
SELECT code, message, table_name FROM pg_temp.catch_error($$UPDATE users SET phone = '12-34' WHERE name = 'Ada'$$);
UPDATE users SET phone = '+4915112345678' WHERE name = 'Ada';

-- ---------------------------------------------------------------------------
-- pending_migration_steps(): in order, schema-qualified whatever the caller's
-- search_path, gone once done
-- ---------------------------------------------------------------------------
SET search_path = pg_temp;
SELECT * FROM public.pending_migration_steps();
SELECT ddl FROM public.pending_migration_steps() WHERE name = 'create index idx_users_phone' \gexec
SELECT name FROM public.pending_migration_steps();
RESET search_path;

-- A build that failed leaves an invalid index: it is dropped, then built again.
DROP INDEX idx_users_phone;
INSERT INTO users (email, name, password_hash, phone) VALUES ('bob@example.com', 'Bob', 'h', '123456789012');
CREATE INDEX CONCURRENTLY idx_users_phone ON users ((1 / (length(phone) - 12)));
SELECT indisvalid FROM pg_index WHERE indexrelid = 'idx_users_phone'::regclass;
SELECT * FROM pending_migration_steps();
SELECT ddl FROM pending_migration_steps() \gexec
SELECT count(*) AS still_pending FROM pending_migration_steps();
SELECT pg_get_indexdef(indexrelid), indisvalid FROM pg_index
 WHERE indexrelid IN ('idx_users_phone'::regclass, 'idx_posts_user_status_covering'::regclass) ORDER BY 1;
SELECT convalidated FROM pg_constraint WHERE conrelid = 'users'::regclass AND conname = 'check_phone_format';

-- ---------------------------------------------------------------------------
-- 1.1 -> 1.0: the data-loss guard
-- ---------------------------------------------------------------------------
-- Two users have a phone: the downgrade refuses, says what would be lost, and
-- changes nothing.
SELECT * FROM pg_temp.catch_error($$ALTER EXTENSION chronicle UPDATE TO '1.0'$$);
SET chronicle.allow_data_loss = off;
SELECT * FROM pg_temp.catch_error($$ALTER EXTENSION chronicle UPDATE TO '1.0'$$);
SELECT extversion FROM pg_extension WHERE extname = 'chronicle';
SELECT count(phone) AS phones FROM users;
RESET chronicle.allow_data_loss;

-- In a session that has not loaded the library the setting is a placeholder
-- that may hold any string: it is read as PostgreSQL reads a boolean.
\c
\i sql/include/catch_error.sql
SET chronicle.allow_data_loss = 'maybe';
SELECT * FROM pg_temp.catch_error($$ALTER EXTENSION chronicle UPDATE TO '1.0'$$);
SET chronicle.allow_data_loss = 'of';
SELECT code, message FROM pg_temp.catch_error($$ALTER EXTENSION chronicle UPDATE TO '1.0'$$);
BEGIN;
SET LOCAL chronicle.allow_data_loss = ' Yes ';
ALTER EXTENSION chronicle UPDATE TO '1.0';
SELECT extversion FROM pg_extension WHERE extname = 'chronicle';
ROLLBACK;
\c

-- Without phone numbers the downgrade needs no permission. It drops what 1.1
-- added, including the indexes pending_migration_steps() built.
UPDATE users SET phone = NULL;
ALTER EXTENSION chronicle UPDATE TO '1.0';
SELECT extversion FROM pg_extension WHERE extname = 'chronicle';
SELECT count(*) AS phone_columns FROM pg_attribute
 WHERE attrelid = 'users'::regclass AND attname = 'phone' AND NOT attisdropped;
SELECT to_regclass('idx_users_phone') AS phone_index, to_regclass('idx_posts_user_status_covering') AS covering,
       to_regclass('migration_steps') AS registry, to_regprocedure('pending_migration_steps()') AS pending;
SELECT count(*) AS users_kept FROM users;

-- With permission, a downgrade drops the phone numbers.
ALTER EXTENSION chronicle UPDATE TO '1.1';
UPDATE users SET phone = '+4915112345678' WHERE name = 'Ada';
SET chronicle.allow_data_loss = on;
ALTER EXTENSION chronicle UPDATE TO '1.0';
RESET chronicle.allow_data_loss;
SELECT extversion FROM pg_extension WHERE extname = 'chronicle';
SELECT name FROM users ORDER BY name;

DROP EXTENSION chronicle CASCADE;

/* chronicle 1.0 -> 1.1: users.phone (the reference's zero-downtime example 2),
 * keyset pagination, enable_audit / disable_audit. Reverse: chronicle--1.1--1.0.sql.
 * Rules (MIGRATIONS.md): no table rewrite, no long lock, a lock_timeout. */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION chronicle UPDATE TO '1.1'" to load this file. \quit

-- Fail fast instead of queueing every writer behind a long transaction: the
-- ALTER TABLE below needs an ACCESS EXCLUSIVE lock on users, and while it waits
-- for it every other lock request on users waits behind it. A lock_timeout the
-- session chose is kept. The setting lasts until the end of the transaction.
SELECT pg_catalog.set_config('lock_timeout', '2s', true)
 WHERE pg_catalog.current_setting('lock_timeout') OPERATOR(pg_catalog.=) '0';

-- ---------------------------------------------------------------------------
-- users.phone: a nullable column without default (a catalog-only change, no
-- rewrite) and its CHECK added NOT VALID (no scan under the ACCESS EXCLUSIVE
-- lock). Validation runs outside the step: see pending_migration_steps().
-- ---------------------------------------------------------------------------
ALTER TABLE @extschema@.users
    ADD COLUMN phone VARCHAR(20) NULL,
    ADD CONSTRAINT check_phone_format CHECK (
        phone IS NULL OR phone::text OPERATOR(pg_catalog.~) '^\+?[0-9]{10,15}$'::text
    ) NOT VALID;

COMMENT ON COLUMN @extschema@.users.phone IS 'Phone number: optional leading +, then 10 to 15 digits';

-- ---- audit: enable_audit / disable_audit ----

-- ---- posts: get_user_posts_keyset ----

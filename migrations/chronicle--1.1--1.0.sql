/* chronicle 1.1 -> 1.0: the exact reverse of chronicle--1.0--1.1.sql. The result
 * must be catalog-identical to a fresh 1.0 (test/upgrade proves it). */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION chronicle UPDATE TO '1.0'" to load this file. \quit

-- Fail fast rather than queue writers behind a long transaction (see 1.0--1.1).
SELECT pg_catalog.set_config('lock_timeout', '2s', true)
 WHERE pg_catalog.current_setting('lock_timeout') OPERATOR(pg_catalog.=) '0';

-- ---- posts: get_user_posts_keyset ----

-- ---- audit: enable_audit / disable_audit ----

-- ---------------------------------------------------------------------------
-- users.phone
-- ---------------------------------------------------------------------------
ALTER TABLE @extschema@.users
    DROP CONSTRAINT check_phone_format,
    DROP COLUMN phone;

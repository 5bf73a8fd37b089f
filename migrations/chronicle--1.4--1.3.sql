/* chronicle 1.4 -> 1.3: the exact reverse of chronicle--1.3--1.4.sql. The
 * result must be catalog-identical to a fresh 1.3 (test/upgrade proves it). */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION chronicle UPDATE TO '1.3'" to load this file. \quit

-- Fail fast rather than queue writers behind a long transaction (see 1.0--1.1).
SELECT pg_catalog.set_config('lock_timeout', '2s', true)
 WHERE pg_catalog.current_setting('lock_timeout') OPERATOR(pg_catalog.=) '0';

-- ---------------------------------------------------------------------------
-- Time travel, undone (first: the reverse order of the up script).
-- ---------------------------------------------------------------------------

-- (time travel: to be written)

-- ---------------------------------------------------------------------------
-- Sealing, undone.
-- ---------------------------------------------------------------------------

-- (sealing: to be written)

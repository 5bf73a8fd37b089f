/* chronicle 1.3 -> 1.4: a sealed audit log (tamper evidence) and time travel
 * from the audit log. Reverse: chronicle--1.4--1.3.sql.
 * Rules (MIGRATIONS.md): no table rewrite, no long lock, a lock_timeout. */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION chronicle UPDATE TO '1.4'" to load this file. \quit

-- Fail fast rather than queue writers behind a long transaction (see 1.0--1.1).
SELECT pg_catalog.set_config('lock_timeout', '2s', true)
 WHERE pg_catalog.current_setting('lock_timeout') OPERATOR(pg_catalog.=) '0';

-- ---------------------------------------------------------------------------
-- Sealing: seal_audit_log(), verify_audit_log(text), audit_log_digest().
-- ---------------------------------------------------------------------------

-- (sealing: to be written)

-- ---------------------------------------------------------------------------
-- Time travel: audit_row_as_of(), restore_audit_row(),
-- revert_audit_transaction().
-- ---------------------------------------------------------------------------

-- (time travel: to be written)

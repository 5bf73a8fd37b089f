/* chronicle 1.2 -> 1.3: transactions in the audit log; a partitioned audit log
 * with retention. Reverse: chronicle--1.3--1.2.sql.
 * Rules (MIGRATIONS.md): no table rewrite, no long lock, a lock_timeout. */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION chronicle UPDATE TO '1.3'" to load this file. \quit

-- Fail fast rather than queue writers behind a long transaction (see 1.0--1.1).
SELECT pg_catalog.set_config('lock_timeout', '2s', true)
 WHERE pg_catalog.current_setting('lock_timeout') OPERATOR(pg_catalog.=) '0';

-- ---------------------------------------------------------------------------
-- audit_logs.transaction_id: the writing transaction's pg_current_xact_id().
-- Added without a default (a catalog change: rows already there read NULL),
-- then given its default, which applies to rows inserted from then on only:
-- neither statement rewrites the table. The audit writer sets the column
-- itself on its fast path; its general path evaluates the default, as an
-- INSERT would.
-- A transaction's rows share created_at (its start), so they are found
-- without scanning the log through the BRIN on created_at plus a filter:
--   WHERE created_at = <its created_at> AND transaction_id = <its id>
-- ---------------------------------------------------------------------------
ALTER TABLE @extschema@.audit_logs ADD COLUMN transaction_id pg_catalog.xid8;
ALTER TABLE @extschema@.audit_logs ALTER COLUMN transaction_id SET DEFAULT pg_catalog.pg_current_xact_id();
COMMENT ON COLUMN @extschema@.audit_logs.transaction_id IS
    'pg_current_xact_id() of the writing transaction (NULL on rows written before 1.3)';


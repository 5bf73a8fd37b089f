/* chronicle 1.1 -> 1.0: the exact reverse of chronicle--1.0--1.1.sql. The result
 * must be catalog-identical to a fresh 1.0 (test/upgrade proves it). */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION chronicle UPDATE TO '1.0'" to load this file. \quit

-- Fail fast rather than queue writers behind a long transaction (see 1.0--1.1).
SELECT pg_catalog.set_config('lock_timeout', '2s', true)
 WHERE pg_catalog.current_setting('lock_timeout') OPERATOR(pg_catalog.=) '0';

-- ---- posts: get_user_posts_keyset ----

-- The cursor secret is a key, not data: dropping it loses nothing a user stored.
DROP FUNCTION @extschema@.get_user_posts_keyset(UUID, VARCHAR, INT, TEXT);
-- Disowned first: that also removes its pg_extension_config_dump entry, which
-- a plain DROP TABLE would leave behind.
ALTER EXTENSION chronicle DROP TABLE @extschema@.cursor_secret;
DROP TABLE @extschema@.cursor_secret;

-- ---- audit: enable_audit / disable_audit ----
-- The triggers they put on tables stay: they run audit_trigger_function, which 1.0 has.
DROP FUNCTION @extschema@.enable_audit(regclass, text[]);
DROP FUNCTION @extschema@.disable_audit(regclass);
DROP FUNCTION @extschema@.audit_check_options(regclass, name, text[]);

-- ---------------------------------------------------------------------------
-- Deferred work: the indexes that pending_migration_steps() built (fresh 1.0
-- has neither), then the registry itself (1.0 has none).
-- ---------------------------------------------------------------------------
DROP FUNCTION @extschema@.pending_migration_steps();
DROP TABLE @extschema@.migration_steps;

-- ---------------------------------------------------------------------------
-- The data-loss guard: 1.0 has no users.phone, so the downgrade would drop
-- the phone numbers stored there. Refuse (55000) unless the session allows it.
-- It comes after every statement that locks no table writers use, and before
-- the ones that do (its locked look needs idx_users_phone, dropped below):
-- locks are held until the transaction ends, so the ACCESS EXCLUSIVE locks on
-- users and posts are taken when only a few catalog changes are left.
-- The library may not be loaded in this session, in which case
-- chronicle.allow_data_loss is a placeholder holding any string: it is parsed
-- here the way PostgreSQL parses a boolean, and anything else is an error.
-- The first look runs before any lock is taken, so writers never wait for
-- it; the second, under the ACCESS EXCLUSIVE lock that the DROP COLUMN needs
-- anyway, catches a phone written in between (through idx_users_phone when it
-- has been built, else by a scan of users that writers wait for). The count
-- for the message is taken only when the step refuses.
-- ---------------------------------------------------------------------------
DO $guard$
DECLARE
    setting text := pg_catalog.lower(pg_catalog.btrim(
        COALESCE(pg_catalog.current_setting('chronicle.allow_data_loss', true), '')));
    has_phones boolean;
    phones bigint;
    seqscan text;
    extschema name := (SELECT n.nspname FROM pg_catalog.pg_extension e
                         JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) e.extnamespace
                        WHERE e.extname OPERATOR(pg_catalog.=) 'chronicle');
BEGIN
    IF setting OPERATOR(pg_catalog.=) ANY (ARRAY['on', 't', 'tr', 'tru', 'true', 'y', 'ye', 'yes', '1']) THEN
        RETURN;
    END IF;
    IF NOT setting OPERATOR(pg_catalog.=) ANY (ARRAY['', 'of', 'off', 'f', 'fa', 'fal', 'fals', 'false', 'n', 'no', '0']) THEN
        RAISE EXCEPTION 'invalid value for parameter "chronicle.allow_data_loss": "%"',
            pg_catalog.current_setting('chronicle.allow_data_loss', true)
            USING ERRCODE = '22023', HINT = 'Use on or off.';
    END IF;

    -- With a valid idx_users_phone each look is an index probe: make sure the
    -- planner takes it even before users.phone has statistics.
    seqscan := pg_catalog.current_setting('enable_seqscan');
    IF EXISTS (SELECT FROM pg_catalog.pg_index i
                WHERE i.indexrelid OPERATOR(pg_catalog.=) pg_catalog.to_regclass('@extschema@.idx_users_phone')
                  AND i.indisvalid) THEN
        PERFORM pg_catalog.set_config('enable_seqscan', 'off', true);
    END IF;
    has_phones := EXISTS (SELECT FROM @extschema@.users WHERE phone IS NOT NULL);
    IF NOT has_phones THEN
        LOCK TABLE @extschema@.users IN ACCESS EXCLUSIVE MODE;
        has_phones := EXISTS (SELECT FROM @extschema@.users WHERE phone IS NOT NULL);
    END IF;
    PERFORM pg_catalog.set_config('enable_seqscan', seqscan, true);

    IF has_phones THEN
        SELECT pg_catalog.count(*) INTO phones FROM @extschema@.users WHERE phone IS NOT NULL;
        RAISE EXCEPTION 'downgrading chronicle to 1.0 would drop column users.phone and its data (users with a phone: %)', phones
            USING ERRCODE = '55000',
                  DETAIL = 'Version 1.0 has no column users.phone; the downgrade drops it with its data.',
                  HINT = 'Save the phone numbers first, or SET chronicle.allow_data_loss = on to drop them.',
                  SCHEMA = extschema, TABLE = 'users', COLUMN = 'phone';
    END IF;
END
$guard$;

DROP INDEX IF EXISTS @extschema@.idx_posts_user_status_covering;
DROP INDEX IF EXISTS @extschema@.idx_users_phone;

-- ---------------------------------------------------------------------------
-- users.phone (no rewrite: the column is only marked dropped)
-- ---------------------------------------------------------------------------
ALTER TABLE @extschema@.users
    DROP CONSTRAINT check_phone_format,
    DROP COLUMN phone;

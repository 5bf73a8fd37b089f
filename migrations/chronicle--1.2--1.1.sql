/* chronicle 1.2 -> 1.1: the exact reverse of chronicle--1.1--1.2.sql. The
 * result must be catalog-identical to a fresh 1.1 (test/upgrade proves it). */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION chronicle UPDATE TO '1.1'" to load this file. \quit

-- Fail fast rather than queue writers behind a long transaction (see 1.0--1.1).
SELECT pg_catalog.set_config('lock_timeout', '2s', true)
 WHERE pg_catalog.current_setting('lock_timeout') OPERATOR(pg_catalog.=) '0';

-- ---------------------------------------------------------------------------
-- The indexes 1.1 has and 1.2 dropped. Nothing is lost by the downgrade (they
-- hold no data), but building them on a big table would hold writers for
-- minutes: on a table of at most 10,000 rows the step builds them itself; on
-- a bigger one it refuses (55000), before changing anything, and names the
-- statements to run first (CONCURRENTLY, outside any transaction). Run them,
-- then the downgrade again.
-- ---------------------------------------------------------------------------
-- Locks in the order writers take them (posts, then audit_logs): see 1.1--1.2.
LOCK TABLE @extschema@.posts IN SHARE ROW EXCLUSIVE MODE;

DO $restore$
DECLARE
    wanted CONSTANT text[][] := ARRAY[
        ['audit_logs', 'idx_audit_created_at', 'USING btree (created_at DESC)'],
        ['audit_logs', 'idx_audit_old_data_gin', 'USING gin (old_data)'],
        ['audit_logs', 'idx_audit_new_data_gin', 'USING gin (new_data)'],
        ['posts', 'idx_posts_user_id', 'USING btree (user_id)'],
        ['posts', 'idx_posts_status_published',
         'USING btree (status, published_at DESC) WHERE status::text OPERATOR(pg_catalog.=) ''published''::text'],
        ['posts', 'idx_posts_covering_list',
         'USING btree (user_id, status) INCLUDE (title, published_at, view_count) WHERE status::text OPERATOR(pg_catalog.=) ''published''::text'],
        ['posts', 'idx_posts_published_popular',
         'USING btree (published_at DESC) INCLUDE (view_count, id, user_id, title) WHERE status::text OPERATOR(pg_catalog.=) ''published''::text']];
    extschema name := (SELECT n.nspname FROM pg_catalog.pg_extension e
                         JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) e.extnamespace
                        WHERE e.extname OPERATOR(pg_catalog.=) 'chronicle');
    todo text := '';
    small boolean;
    valid boolean;
BEGIN
    FOR i IN 1 .. pg_catalog.array_length(wanted, 1) LOOP
        SELECT x.indisvalid INTO valid
          FROM pg_catalog.pg_index x
         WHERE x.indexrelid OPERATOR(pg_catalog.=) pg_catalog.to_regclass(
                   pg_catalog.format('%I.%I', extschema, wanted[i][2]));
        CONTINUE WHEN valid;
        -- Counted first without a lock (a big table is never locked here), then
        -- under SHARE for a small one (see 1.1--1.2).
        EXECUTE pg_catalog.format(
            'SELECT pg_catalog.count(*) OPERATOR(pg_catalog.<=) 10000 FROM (SELECT FROM %I.%I LIMIT 10001) t',
            extschema, wanted[i][1]) INTO small;
        IF small THEN
            EXECUTE pg_catalog.format('LOCK TABLE %I.%I IN SHARE MODE', extschema, wanted[i][1]);
            EXECUTE pg_catalog.format(
                'SELECT pg_catalog.count(*) OPERATOR(pg_catalog.<=) 10000 FROM (SELECT FROM %I.%I LIMIT 10001) t',
                extschema, wanted[i][1]) INTO small;
        END IF;
        IF small THEN
            IF valid IS NOT NULL THEN   -- an invalid leftover of a failed build
                EXECUTE pg_catalog.format('DROP INDEX %I.%I', extschema, wanted[i][2]);
            END IF;
            EXECUTE pg_catalog.format('CREATE INDEX %I ON %I.%I %s', wanted[i][2], extschema, wanted[i][1], wanted[i][3]);
        ELSE
            IF valid IS NOT NULL THEN
                todo := todo OPERATOR(pg_catalog.||) pg_catalog.format(E'DROP INDEX CONCURRENTLY IF EXISTS %I.%I;\n',
                                                                     extschema, wanted[i][2]);
            END IF;
            todo := todo OPERATOR(pg_catalog.||) pg_catalog.format(E'CREATE INDEX CONCURRENTLY IF NOT EXISTS %I ON %I.%I %s;\n',
                                                                 wanted[i][2], extschema, wanted[i][1], wanted[i][3]);
        END IF;
    END LOOP;
    IF todo OPERATOR(pg_catalog.<>) '' THEN
        RAISE EXCEPTION 'downgrading chronicle to 1.1 needs indexes of 1.1 that are not built yet'
            USING ERRCODE = '55000',
                  DETAIL = 'Building them inside ALTER EXTENSION would block writes to big tables until they are built.',
                  HINT = 'Run these statements (outside a transaction block), then the downgrade again:'
                         OPERATOR(pg_catalog.||) E'\n' OPERATOR(pg_catalog.||) pg_catalog.rtrim(todo, E'\n');
    END IF;
END
$restore$;

-- ---------------------------------------------------------------------------
-- index_report()
-- ---------------------------------------------------------------------------
DROP FUNCTION @extschema@.index_report(text);

-- ---------------------------------------------------------------------------
-- posts_audit_trigger and posts_updated_at_trigger as in 1.1 (no option: every
-- UPDATE is audited and moves updated_at), and enable_audit's comment of 1.1
-- ---------------------------------------------------------------------------
ALTER TABLE @extschema@.posts RESET (fillfactor);
ALTER TABLE @extschema@.post_count_totals RESET (fillfactor);

DROP TRIGGER posts_audit_trigger ON @extschema@.posts;
CREATE TRIGGER posts_audit_trigger
    AFTER INSERT OR UPDATE OR DELETE ON @extschema@.posts
    FOR EACH ROW
    EXECUTE FUNCTION @extschema@.audit_trigger_function();

DROP TRIGGER posts_updated_at_trigger ON @extschema@.posts;
CREATE TRIGGER posts_updated_at_trigger
    BEFORE UPDATE ON @extschema@.posts
    FOR EACH ROW
    EXECUTE FUNCTION @extschema@.update_updated_at_column();

COMMENT ON FUNCTION @extschema@.enable_audit(regclass, text[]) IS
    'Audit a table with audit_trigger_function (options: mode=row|statement, ignore=, record_id=); idempotent';

-- posts_count_update with 1.1's WHEN clause.
DROP TRIGGER posts_count_update ON @extschema@.posts;
CREATE TRIGGER posts_count_update
    AFTER UPDATE OF user_id, status ON @extschema@.posts
    FOR EACH ROW
    WHEN (OLD.user_id IS DISTINCT FROM NEW.user_id OR OLD.status::text IS DISTINCT FROM NEW.status::text)
    EXECUTE FUNCTION @extschema@.post_counts_after_update();

-- ---------------------------------------------------------------------------
-- 1.2's indexes (built by the step or by pending_migration_steps(), or a
-- leftover of a failed build) and its registry rows
-- ---------------------------------------------------------------------------
DROP INDEX IF EXISTS @extschema@.idx_posts_published_at;
DROP INDEX IF EXISTS @extschema@.idx_audit_created_at_brin;
DROP INDEX IF EXISTS @extschema@.idx_audit_changed_fields;
DELETE FROM @extschema@.migration_steps WHERE version OPERATOR(pg_catalog.=) '1.2';

-- 1.1's step for the reference's covering index, withdrawn by 1.1--1.2: the
-- index is 1.1's again (pending_migration_steps() builds it if it is gone).
INSERT INTO @extschema@.migration_steps
    (position, version, kind, table_name, object_name, index_definition)
VALUES
    (120, '1.1', 'create_index', 'posts', 'idx_posts_user_status_covering',
     'USING btree (user_id, status) INCLUDE (title, content, created_at, published_at, view_count)');

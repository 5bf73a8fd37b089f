/* chronicle 1.1 -> 1.2: an audit log that costs a fraction to write, view
 * counts that are not edits, and index_report(). Reverse: chronicle--1.2--1.1.sql.
 * Rules (MIGRATIONS.md): no table rewrite, no long lock, a lock_timeout.
 * Measurements behind every choice: bench/index-analysis/README.md. */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION chronicle UPDATE TO '1.2'" to load this file. \quit

-- Fail fast rather than queue writers behind a long transaction (see 1.0--1.1).
SELECT pg_catalog.set_config('lock_timeout', '2s', true)
 WHERE pg_catalog.current_setting('lock_timeout') OPERATOR(pg_catalog.=) '0';

-- ---------------------------------------------------------------------------
-- audit_logs indexes. The two whole-document GINs (jsonb_ops on old_data and
-- new_data) were most of the write cost of an audited row (each ~2 KB of WAL
-- and ~240 bytes of index per row, and their pending lists stall the write that
-- flushes them); the queries they were for ("changes where field F changed",
-- "... set F to v") are served by a small GIN on changed_fields. Its pending
-- list is kept to 64 kB, the least PostgreSQL allows: a write appends its
-- entries there, and the write that fills the list merges a few hundred rows'
-- entries into the tree at once, a few milliseconds (the reference's 4 MB
-- lists of whole documents stalled a write for hundreds). Merged in batches,
-- an entry costs a fraction of inserting it alone into its posting tree, where
-- every UPDATE's "updated_at" and every INSERT's empty array land. The
-- btree on created_at becomes a BRIN (the table is append-only, so created_at
-- follows the physical order): time ranges stay indexed for a few pages of
-- index, and "newest first" is the primary key read backwards (id is the order
-- rows were written). idx_posts_user_id is a prefix of idx_posts_user_status_date
-- (and of the posts API's indexes), which serve every query it served, the
-- foreign key's ON DELETE CASCADE included.
--
-- posts indexes that hold view_count. An UPDATE of an indexed column is never
-- a HOT update (INCLUDE columns count), so while view_count is in an index,
-- every view inserts a new entry into every index of posts. Three indexes hold
-- it; what they served stays served:
--   idx_posts_user_status_covering (1.1, the reference's covering index, a
--     second copy of every post's content): its keys lead idx_posts_user_status_date,
--     which also gives Example 3's order (created_at DESC) that it cannot;
--   idx_posts_covering_list (published posts' titles by user): its keys lead
--     idx_posts_user_status_date and idx_posts_user_status_order;
--   idx_posts_published_popular (get_popular_posts' date range): replaced by
--     idx_posts_published_at, the same range without the INCLUDEs. It also
--     replaces idx_posts_status_published, whose leading column is constant
--     under its predicate: PostgreSQL drops the implied status condition, so
--     a date range read the whole index.
-- What is lost: those reads fetch their rows from the table instead of the
-- index alone. Measured in bench/index-analysis/README.md.
-- The 1.1 step that builds idx_posts_user_status_covering is withdrawn (else
-- pending_migration_steps() would build it and then drop it); the reverse
-- puts it back.
--
-- The new indexes are built first and the old ones dropped after, so every
-- query stays served at every moment. On a big table both run outside the step
-- (CONCURRENTLY, through pending_migration_steps()); on a table of at most
-- 10,000 rows (a fresh install, a test database) the step does them itself,
-- which takes milliseconds under the lock.
-- ---------------------------------------------------------------------------
-- Locks in the order writers take them: an audited write locks posts, then
-- audit_logs (its audit row). The step takes posts first (SHARE ROW EXCLUSIVE:
-- what its CREATE TRIGGER takes anyway), so it never holds audit_logs while
-- waiting for posts, which would deadlock with such a writer.
-- Run in one transaction after 1.0 -> 1.1 (an update from 1.0), the step
-- already holds users, which a writer of posts needs next (its foreign key):
-- a deadlock that PostgreSQL would resolve after deadlock_timeout by
-- cancelling one of the two, maybe the writer. So the wait for posts gives
-- up (55P03) after half of deadlock_timeout, or the session's lock_timeout if
-- shorter: the upgrade fails and is retried; no writer is cancelled.
DO $lock_posts$
DECLARE
    saved text := pg_catalog.current_setting('lock_timeout');
    wait_ms bigint := (SELECT LEAST(
                            COALESCE(NULLIF(l.setting::bigint, 0), 2000), d.setting::bigint / 2)
                         FROM pg_catalog.pg_settings l, pg_catalog.pg_settings d
                        WHERE l.name OPERATOR(pg_catalog.=) 'lock_timeout'
                          AND d.name OPERATOR(pg_catalog.=) 'deadlock_timeout');
BEGIN
    PERFORM pg_catalog.set_config('lock_timeout', wait_ms::text, true);
    LOCK TABLE @extschema@.posts IN SHARE ROW EXCLUSIVE MODE;
    PERFORM pg_catalog.set_config('lock_timeout', saved, true);
END
$lock_posts$;

INSERT INTO @extschema@.migration_steps
    (position, version, kind, table_name, object_name, index_definition)
VALUES
    (210, '1.2', 'create_index', 'audit_logs', 'idx_audit_changed_fields',
     'USING gin (changed_fields) WITH (fastupdate = on, gin_pending_list_limit = 64)'),
    (220, '1.2', 'create_index', 'audit_logs', 'idx_audit_created_at_brin',
     'USING brin (created_at) WITH (pages_per_range = 32)'),
    (225, '1.2', 'create_index', 'posts', 'idx_posts_published_at',
     'USING btree (published_at DESC) WHERE status::text OPERATOR(pg_catalog.=) ''published''::text'),
    (230, '1.2', 'drop_index', 'audit_logs', 'idx_audit_old_data_gin', NULL),
    (240, '1.2', 'drop_index', 'audit_logs', 'idx_audit_new_data_gin', NULL),
    (250, '1.2', 'drop_index', 'audit_logs', 'idx_audit_created_at', NULL),
    (260, '1.2', 'drop_index', 'posts', 'idx_posts_user_id', NULL),
    (270, '1.2', 'drop_index', 'posts', 'idx_posts_user_status_covering', NULL),
    (280, '1.2', 'drop_index', 'posts', 'idx_posts_covering_list', NULL),
    (290, '1.2', 'drop_index', 'posts', 'idx_posts_published_popular', NULL),
    (300, '1.2', 'drop_index', 'posts', 'idx_posts_status_published', NULL);

DELETE FROM @extschema@.migration_steps
 WHERE version OPERATOR(pg_catalog.=) '1.1'
   AND kind OPERATOR(pg_catalog.=) 'create_index'
   AND object_name OPERATOR(pg_catalog.=) 'idx_posts_user_status_covering';

DO $small_tables$
DECLARE
    step record;
    small boolean;
BEGIN
    FOR step IN
        SELECT s.kind, s.table_name, s.object_name, s.index_definition
          FROM @extschema@.migration_steps s
         WHERE s.version OPERATOR(pg_catalog.=) '1.2'
         ORDER BY s.position
    LOOP
        -- A first count without a lock: a big table is never locked here. Then,
        -- for a small one, under SHARE (what CREATE INDEX takes anyway), so no
        -- row arrives between the count and the work.
        EXECUTE pg_catalog.format(
            'SELECT pg_catalog.count(*) OPERATOR(pg_catalog.<=) 10000 FROM (SELECT FROM @extschema@.%I LIMIT 10001) t',
            step.table_name) INTO small;
        CONTINUE WHEN NOT small;
        EXECUTE pg_catalog.format('LOCK TABLE @extschema@.%I IN SHARE MODE', step.table_name);
        EXECUTE pg_catalog.format(
            'SELECT pg_catalog.count(*) OPERATOR(pg_catalog.<=) 10000 FROM (SELECT FROM @extschema@.%I LIMIT 10001) t',
            step.table_name) INTO small;
        CONTINUE WHEN NOT small;
        IF step.kind OPERATOR(pg_catalog.=) 'create_index' THEN
            EXECUTE pg_catalog.format('CREATE INDEX IF NOT EXISTS %I ON @extschema@.%I %s',
                                      step.object_name, step.table_name, step.index_definition);
        ELSE
            EXECUTE pg_catalog.format('DROP INDEX IF EXISTS @extschema@.%I', step.object_name);
        END IF;
    END LOOP;
END
$small_tables$;

-- ---------------------------------------------------------------------------
-- A view is not an edit. In 1.1 every increment_post_views call moved
-- updated_at and wrote a full audit row (two copies of the post). In 1.2 an
-- UPDATE of a post in which view_count is the only column whose value changes
-- keeps updated_at and writes no audit row, whoever runs it and whatever its
-- SET list names; every other UPDATE is an edit, a no-op UPDATE and an UPDATE
-- of a column added to posts later included. The values decide, not the SET
-- list, so the triggers fire on every UPDATE (no UPDATE OF list: an ORM that
-- names every column in its SET list would turn a view into an edit, and a
-- column added later would be missing from the list) and each decides in C++
-- with the option not_an_edit=view_count: a row whose changed columns are all
-- listed, at least one, is left alone. "Changed" is IS DISTINCT FROM, as for
-- changed_fields; identical images are compared first, so a view costs each
-- trigger one pass over the row's columns (MIGRATIONS.md has the cost). The
-- count itself stays exact: it is the row's own column, changed in place by
-- the UPDATE. INSERT and DELETE are audited as before.
-- ---------------------------------------------------------------------------
-- A HOT update also needs room on the row's own page. Pages filled to 90%
-- keep that room for the views of the posts they hold; a catalog change that
-- applies to pages written from now on (no rewrite; the lock it needs does not
-- block reads or writes).
ALTER TABLE @extschema@.posts SET (fillfactor = 90);

-- post_count_totals: a few rows, each updated (HOT) by every write of its
-- user's posts in a status. Each update leaves a row version behind on the
-- page, and a fold reads its row through them until a read prunes the page;
-- PostgreSQL prunes once the page's free space falls below its fillfactor's
-- reserve, and a prune reads every row of the page. Pages filled to a quarter
-- are pruned at once by the next fold, and hold a quarter as many rows to
-- read (callgrind, single-row UPDATE that moves a post between statuses: about
-- 20,000 instructions fewer, of some 755,000). The space: up to 800 bytes per
-- user with posts, instead of 200. As for posts, only pages written from now
-- on: VACUUM FULL post_count_totals (a short exclusive lock on a small table)
-- applies it to the rows already there.
ALTER TABLE @extschema@.post_count_totals SET (fillfactor = 25);

-- updated_at: the column first (1.0's argument), then the option.
DROP TRIGGER posts_updated_at_trigger ON @extschema@.posts;
CREATE TRIGGER posts_updated_at_trigger
    BEFORE UPDATE ON @extschema@.posts
    FOR EACH ROW
    EXECUTE FUNCTION @extschema@.update_updated_at_column('updated_at', 'not_an_edit=view_count');

DROP TRIGGER posts_audit_trigger ON @extschema@.posts;
CREATE TRIGGER posts_audit_trigger
    AFTER INSERT OR UPDATE OR DELETE ON @extschema@.posts
    FOR EACH ROW
    EXECUTE FUNCTION @extschema@.audit_trigger_function('not_an_edit=view_count');

COMMENT ON FUNCTION @extschema@.enable_audit(regclass, text[]) IS
    'Audit a table with audit_trigger_function (options: mode=row|statement, ignore=, record_id=, not_an_edit=); idempotent';

-- post_counts' UPDATE trigger without its WHEN clause. PostgreSQL parses and
-- compiles a trigger's WHEN clause again in every statement that may fire it:
-- 34,000 instructions of a single-row UPDATE that sets status, some 6% of it.
-- post_counts_after_update() itself skips a row whose user_id and status did
-- not change. The trade: an UPDATE that sets user_id or status to the value
-- they had now fires the trigger for each such row, about 5,100 instructions
-- (under 2% of such a row's cost): less in all than the WHEN clause up to 6
-- rows, more for a bulk statement (MIGRATIONS.md).
DROP TRIGGER posts_count_update ON @extschema@.posts;
CREATE TRIGGER posts_count_update
    AFTER UPDATE OF user_id, status ON @extschema@.posts
    FOR EACH ROW
    EXECUTE FUNCTION @extschema@.post_counts_after_update();

-- ---------------------------------------------------------------------------
-- index_report(): the reference's "Index Analysis" queries made an API
-- ---------------------------------------------------------------------------
CREATE FUNCTION @extschema@.index_report(p_scope text DEFAULT 'extension')
RETURNS TABLE (
    finding text,        -- unused | redundant | invalid | seq_scans | bloat
    schema_name name,
    table_name name,
    index_name name,     -- NULL for a table finding (seq_scans)
    bytes bigint,        -- the index's size (the table's for seq_scans; the excess for bloat)
    detail text
)
LANGUAGE plpgsql STABLE
-- pg_catalog first and pg_temp last: no object of the caller's can capture a
-- name or an operator below, so they are written plainly.
SET search_path = pg_catalog, pg_temp
AS $report$
DECLARE
    ext_oid oid := (SELECT e.oid FROM pg_catalog.pg_extension e
                     WHERE e.extname = 'chronicle');
BEGIN
    IF p_scope IS NULL OR NOT p_scope = ANY (ARRAY['extension', 'database']) THEN
        RAISE EXCEPTION 'index_report: invalid scope %', COALESCE(pg_catalog.quote_literal(p_scope), 'NULL')
            USING ERRCODE = '22023',
                  HINT = 'Use ''extension'' (chronicle''s own tables) or ''database'' (every table of this database).';
    END IF;

    RETURN QUERY
    WITH tbl AS (    -- the tables in scope: the extension's own, or every user table
        SELECT c.oid, n.nspname, c.relname, c.reltuples
          FROM pg_catalog.pg_class c
          JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relkind = ANY (ARRAY['r', 'm', 'p']::"char"[])
           AND CASE WHEN p_scope = 'extension'
                    THEN EXISTS (SELECT FROM pg_catalog.pg_depend d
                                  WHERE d.classid = 'pg_catalog.pg_class'::regclass
                                    AND d.objid = c.oid
                                    AND d.refclassid = 'pg_catalog.pg_extension'::regclass
                                    AND d.refobjid = ext_oid
                                    AND d.deptype = 'e')
                    ELSE n.nspname <> ALL (ARRAY['pg_catalog', 'information_schema']::name[])
                         AND n.nspname::text NOT LIKE 'pg\_toast%'
                         AND n.nspname::text NOT LIKE 'pg\_temp\_%' END
    ), idx AS (
        SELECT t.oid AS tbl_oid, t.nspname, t.relname, ic.relname AS idxname, i.*, ic.reltuples AS idx_tuples,
               ic.relpages AS idx_pages, am.amname,
               pg_catalog.pg_relation_size(i.indexrelid) AS size,
               (i.indkey::int2[])[0:i.indnkeyatts - 1] AS keycols,
               i.indkey::int2[] AS allcols,
               pg_catalog.pg_get_expr(i.indexprs, i.indrelid) AS exprs,
               pg_catalog.pg_get_expr(i.indpred, i.indrelid) AS pred,
               EXISTS (SELECT FROM pg_catalog.pg_constraint k
                        WHERE k.conindid = i.indexrelid
                          AND k.contype = ANY (ARRAY['p', 'u', 'x']::"char"[])) AS enforces
          FROM tbl t
          JOIN pg_catalog.pg_index i ON i.indrelid = t.oid
          JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
          JOIN pg_catalog.pg_am am ON am.oid = ic.relam
    )
    -- invalid: a failed CREATE INDEX CONCURRENTLY; maintained by writes, used by no query
    SELECT 'invalid'::text, x.nspname, x.relname, x.idxname, x.size,
           'invalid index (a failed or unfinished CREATE INDEX CONCURRENTLY): writes maintain it, no query uses it; drop it and build it again'::text
      FROM idx x WHERE NOT x.indisvalid
    UNION ALL
    -- unused: no scan since the statistics were reset; an index that enforces
    -- a constraint (primary key, unique, exclusion) is needed whether scanned or not
    SELECT 'unused', x.nspname, x.relname, x.idxname, x.size,
           pg_catalog.format('no index scan since statistics were reset (%s); every write to the table maintains it',
                             COALESCE((SELECT d.stats_reset::text FROM pg_catalog.pg_stat_database d
                                        WHERE d.datname = pg_catalog.current_database()), 'never'))
      FROM idx x
      JOIN pg_catalog.pg_stat_all_indexes s ON s.indexrelid = x.indexrelid
     WHERE x.indisvalid AND NOT x.indisunique AND NOT x.enforces AND s.idx_scan = 0
    UNION ALL
    -- redundant: another valid index of the same kind on the same table starts
    -- with the same key columns (same operator classes, collations and order),
    -- has the same expressions and predicate, and holds every column this one
    -- holds; a unique or constraint index is never redundant. Of two identical
    -- indexes, the one whose name sorts last is reported.
    SELECT 'redundant', a.nspname, a.relname, a.idxname, a.size,
           pg_catalog.format('its key columns lead %s, which serves every query it serves', b.idxname)
      FROM idx a
      JOIN LATERAL (
          SELECT b.idxname FROM idx b
           WHERE b.indrelid = a.indrelid
             AND b.indexrelid <> a.indexrelid
             AND b.indisvalid AND b.amname = a.amname
             AND a.amname = 'btree'
             AND pg_catalog.array_length(b.keycols, 1) >= pg_catalog.array_length(a.keycols, 1)
             AND b.keycols[1:pg_catalog.array_length(a.keycols, 1)] = a.keycols
             AND (b.indclass::oid[])[0:a.indnkeyatts - 1] = (a.indclass::oid[])[0:a.indnkeyatts - 1]
             AND (b.indcollation::oid[])[0:a.indnkeyatts - 1] = (a.indcollation::oid[])[0:a.indnkeyatts - 1]
             AND (b.indoption::int2[])[0:a.indnkeyatts - 1] = (a.indoption::int2[])[0:a.indnkeyatts - 1]
             AND b.exprs IS NOT DISTINCT FROM a.exprs
             AND b.pred IS NOT DISTINCT FROM a.pred
             AND b.allcols @> a.allcols
             AND NOT (pg_catalog.array_length(b.keycols, 1) = pg_catalog.array_length(a.keycols, 1)
                      AND b.allcols = a.allcols
                      AND b.idxname > a.idxname)
           ORDER BY pg_catalog.array_length(b.keycols, 1), b.idxname
           LIMIT 1) b ON true
     WHERE a.indisvalid AND NOT a.indisunique AND NOT a.enforces
    UNION ALL
    -- seq_scans: tables read mostly by sequential scans of many rows
    SELECT 'seq_scans', t.nspname, t.relname, NULL::name, pg_catalog.pg_table_size(t.oid),
           pg_catalog.format('%s sequential scans read %s rows (%s a scan on average); %s index scans',
                             s.seq_scan, s.seq_tup_read, s.seq_tup_read / NULLIF(s.seq_scan, 0),
                             COALESCE(s.idx_scan, 0))
      FROM tbl t
      JOIN pg_catalog.pg_stat_all_tables s ON s.relid = t.oid
     WHERE s.seq_scan > COALESCE(s.idx_scan, 0)
       AND s.seq_tup_read >= 1000 * s.seq_scan
    UNION ALL
    -- bloat: a btree more than twice the size its live entries need (an
    -- estimate from pg_stats: per entry an 8-byte tuple header, the average
    -- widths of its columns, a 4-byte line pointer; pages 90% full). Only
    -- indexes of at least 1 MB, on analyzed tables; deduplication makes real
    -- indexes smaller than the estimate, so the estimate errs on the low side.
    SELECT 'bloat', e.nspname, e.relname, e.idxname, e.size - e.expected,
           pg_catalog.format('%s, about %s more than its %s entries need: REINDEX CONCURRENTLY gives the space back',
                             pg_catalog.pg_size_pretty(e.size), pg_catalog.pg_size_pretty(e.size - e.expected),
                             e.idx_tuples::bigint)
      FROM (
          SELECT x.*,
                 ((pg_catalog.ceil(x.idx_tuples * (12 + w.width)
                     / (0.9 * (pg_catalog.current_setting('block_size')::int - 40)))
                   + 1) * pg_catalog.current_setting('block_size')::int)::bigint AS expected
            FROM idx x
            CROSS JOIN LATERAL (
                SELECT 8 * pg_catalog.ceil(SUM(st.avg_width) / 8.0) AS width,
                       pg_catalog.count(st.avg_width) AS known
                  FROM pg_catalog.unnest(x.allcols) AS k(attnum)
                  JOIN pg_catalog.pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum
                  LEFT JOIN pg_catalog.pg_stats st ON st.schemaname = x.nspname
                        AND st.tablename = x.relname AND st.attname = a.attname
            ) w
           WHERE x.amname = 'btree' AND x.indisvalid AND x.exprs IS NULL
             AND w.known = pg_catalog.array_length(x.allcols, 1)
             AND x.idx_tuples > 0
      ) e
     WHERE e.size >= 1048576
       AND e.size > 2 * e.expected
    ORDER BY 1, 2, 3, 4;
END
$report$;

COMMENT ON FUNCTION @extschema@.index_report(text) IS
    'Index findings (unused, redundant, invalid, seq_scans, bloat) for the extension''s tables or the whole database';

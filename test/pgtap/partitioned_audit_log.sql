-- A partitioned audit log (1.3, partition_audit_log): the table keeps its
-- shape, the writer routes rows, and every audit-log query pattern of
-- MIGRATIONS.md is still served by its index in every partition (no Seq Scan
-- of any partition), while a range of ids reads only the partitions it
-- covers. 60,000 rows of history become the first partition; two later
-- partitions get 5,000 rows each through the writer.
CREATE EXTENSION IF NOT EXISTS pgtap;
BEGIN;
SELECT plan(31);
\ir include/plans.sql

CREATE SCHEMA app;
CREATE EXTENSION chronicle SCHEMA app;
SET LOCAL search_path = app, public;

-- Every partition of audit_logs of 100 pages or more that the query reads is
-- read through its index attached to parent_index, never by a Seq Scan (the
-- planner rightly reads a partition of a few pages whole).
CREATE FUNCTION pg_temp.uses_partition_index(query text, parent_index text, description text)
RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    big_read text[];
    served text[];
    seq text[];
BEGIN
    SELECT coalesce(array_agg(DISTINCT n.relation), '{}') INTO big_read
      FROM pg_temp.plan_nodes(query) n JOIN pg_class c ON c.relname = n.relation AND c.relnamespace = 'app'::regnamespace
     WHERE n.relation LIKE 'audit_logs_p%' AND c.relpages >= 100;
    SELECT coalesce(array_agg(DISTINCT n.relation), '{}') INTO seq
      FROM pg_temp.plan_nodes(query) n JOIN pg_class c ON c.relname = n.relation AND c.relnamespace = 'app'::regnamespace
     WHERE n.node_type = 'Seq Scan' AND n.relation LIKE 'audit_logs_p%' AND c.relpages >= 100;
    SELECT coalesce(array_agg(DISTINCT x.indrelid::regclass::text), '{}') INTO served
      FROM pg_temp.plan_nodes(query) n
      JOIN pg_class ic ON ic.relname = n.index_name AND ic.relnamespace = 'app'::regnamespace
      JOIN pg_index x ON x.indexrelid = ic.oid
      JOIN pg_inherits i ON i.inhrelid = ic.oid AND i.inhparent = to_regclass('app.' || quote_ident(parent_index));
    IF cardinality(big_read) > 0 AND big_read <@ served AND cardinality(seq) = 0 THEN
        RETURN ok(true, description || ': ' || array_to_string(big_read, ', ') || ' through ' || parent_index);
    END IF;
    RETURN ok(false, description || ': every big partition through ' || parent_index) || E'\n'
        || diag('plan:' || E'\n' || pg_temp.plan_text(query));
END
$$;

-- The partitions a query reads.
CREATE FUNCTION pg_temp.partitions_read(query text)
RETURNS text[]
LANGUAGE sql AS $$
    SELECT coalesce(array_agg(DISTINCT n.relation ORDER BY n.relation), '{}')
      FROM pg_temp.plan_nodes(query) n WHERE n.relation LIKE 'audit_logs_p%'
$$;

-- History: 60,000 audit rows, 2 s apart, ending an hour ago.
INSERT INTO audit_logs (table_name, operation, record_id, user_id, old_data, new_data, changed_fields, created_at)
SELECT CASE WHEN i % 10 = 0 THEN 'users' ELSE 'posts' END, o.op,
       md5('p' || (1 + (i * 7919) % 20000))::uuid, md5('u' || (1 + i % 2000))::uuid,
       CASE WHEN o.op <> 'INSERT' THEN jsonb_build_object('title', 'Post ' || i, 'status', 'published') END,
       CASE WHEN o.op <> 'DELETE' THEN jsonb_build_object('title', 'Post ' || i || ' (edited)',
                                                         'status', CASE WHEN i % 20 = 4 THEN 'archived' ELSE 'published' END) END,
       CASE WHEN o.op <> 'UPDATE' THEN '{}' WHEN i % 20 = 4 THEN '{status,published_at,updated_at}'
            WHEN i % 20 = 9 THEN '{content,updated_at}' ELSE '{title,updated_at}' END::text[],
       LOCALTIMESTAMP - interval '1 hour' - (60000 - i) * interval '2 seconds'
  FROM generate_series(1, 60000) i,
       LATERAL (SELECT CASE WHEN i % 10 = 1 THEN 'INSERT' WHEN i % 97 = 0 THEN 'DELETE' ELSE 'UPDATE' END AS op) o;

SELECT relfilenode AS history_file FROM pg_class WHERE oid = 'app.audit_logs'::regclass \gset
SELECT lives_ok($$SELECT app.partition_audit_log('1 day')$$, 'partition_audit_log on 60,000 rows');
SELECT is_partitioned('app', 'audit_logs', 'audit_logs is partitioned');
SELECT is((SELECT relfilenode FROM pg_class WHERE oid = 'app.audit_logs_p000001'::regclass), :history_file::oid,
          'the history is the first partition, same file');
SELECT col_is_pk('app', 'audit_logs', 'id', 'the primary key is still id');
SELECT is(pg_get_serial_sequence('app.audit_logs', 'id'), 'app.audit_logs_id_seq', 'id''s sequence is owned by the parent');
SELECT indexes_are('app', 'audit_logs', ARRAY['audit_logs_pkey', 'idx_audit_changed_fields', 'idx_audit_created_at_brin',
                   'idx_audit_record_id', 'idx_audit_table_operation', 'idx_audit_user_id'],
                   'the parent has the indexes of 1.2');
SELECT is((SELECT count(*)::int FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid
            WHERE x.indrelid = 'app.audit_logs'::regclass AND NOT x.indisvalid), 0, 'every index of the parent is valid');
SELECT table_privs_are('app', 'audit_logs', 'public', '{}', 'PUBLIC has no privilege on audit_logs');
SELECT lives_ok($$SELECT app.partition_audit_log()$$, 'a second call does nothing');
SELECT is((SELECT count(*)::int FROM pg_inherits WHERE inhparent = 'app.audit_logs'::regclass), 4,
          'the first partition and three ahead');

-- Rows through the writer into the second and third partitions.
CREATE TABLE app.things (id uuid PRIMARY KEY, user_id uuid, body text);
SELECT app.enable_audit('app.things');
SELECT setval('app.audit_logs_id_seq',
              (SELECT substring(pg_get_expr(relpartbound, oid), 'FROM \(''(\d+)''\)')::bigint
                 FROM pg_class WHERE oid = 'app.audit_logs_p000002'::regclass));
INSERT INTO app.things SELECT md5('t' || g)::uuid, md5('u' || (g % 2000))::uuid, 'x' FROM generate_series(1, 5000) g;
SELECT setval('app.audit_logs_id_seq',
              (SELECT substring(pg_get_expr(relpartbound, oid), 'FROM \(''(\d+)''\)')::bigint
                 FROM pg_class WHERE oid = 'app.audit_logs_p000003'::regclass));
UPDATE app.things SET body = 'y';
SELECT results_eq($$SELECT tableoid::regclass::text, count(*)::int FROM app.audit_logs GROUP BY 1 ORDER BY 1$$,
                  $$VALUES ('audit_logs_p000001', 60000), ('audit_logs_p000002', 5000), ('audit_logs_p000003', 5000)$$,
                  'the writer put each row in its partition');
ANALYZE app.audit_logs;

-- ---------------------------------------------------------------------------
-- MIGRATIONS.md's audit-log queries, served in every partition
-- ---------------------------------------------------------------------------
SELECT pg_temp.uses_partition_index($$SELECT id, operation FROM audit_logs WHERE record_id = md5('p42')::uuid$$,
    'idx_audit_record_id', 'every change to record X');
SELECT pg_temp.no_seq_scan($$SELECT id, operation FROM audit_logs WHERE record_id = md5('p42')::uuid$$,
    'audit_logs_p000001', 'every change to record X');
SELECT pg_temp.uses_partition_index($$SELECT id FROM audit_logs WHERE user_id = md5('u42')::uuid$$,
    'idx_audit_user_id', 'changes by user U');
SELECT pg_temp.no_seq_scan($$SELECT id FROM audit_logs WHERE user_id = md5('u42')::uuid$$,
    'audit_logs_p000001', 'changes by user U');
SELECT pg_temp.uses_partition_index($$SELECT id FROM audit_logs WHERE table_name = 'posts' AND operation = 'DELETE'$$,
    'idx_audit_table_operation', 'changes to table T of operation O');
SELECT pg_temp.no_seq_scan($$SELECT id FROM audit_logs WHERE table_name = 'posts' AND operation = 'DELETE'$$,
    'audit_logs_p000001', 'changes to table T of operation O');
SELECT pg_temp.uses_partition_index($$SELECT id FROM audit_logs WHERE changed_fields @> '{content}'$$,
    'idx_audit_changed_fields', 'changes where field F changed');
SELECT pg_temp.no_seq_scan($$SELECT id FROM audit_logs WHERE changed_fields @> '{content}'$$,
    'audit_logs_p000001', 'changes where field F changed');
SELECT pg_temp.uses_partition_index($$SELECT id FROM audit_logs
    WHERE changed_fields @> '{status}' AND new_data @> '{"status": "archived"}'$$,
    'idx_audit_changed_fields', 'changes that set field F to v');
SELECT pg_temp.uses_partition_index($$SELECT id FROM audit_logs
    WHERE created_at >= LOCALTIMESTAMP - interval '3 hours' AND created_at < LOCALTIMESTAMP - interval '2 hours'$$,
    'idx_audit_created_at_brin', 'changes in a time window');
SELECT pg_temp.no_seq_scan($$SELECT id FROM audit_logs
    WHERE created_at >= LOCALTIMESTAMP - interval '3 hours' AND created_at < LOCALTIMESTAMP - interval '2 hours'$$,
    'audit_logs_p000001', 'changes in a time window');
SELECT pg_temp.uses_partition_index($$SELECT id, operation FROM audit_logs ORDER BY id DESC LIMIT 50$$,
    'audit_logs_pkey', 'recent changes, newest first');
SELECT pg_temp.uses_partition_index($$SELECT id FROM audit_logs
    WHERE created_at = LOCALTIMESTAMP - interval '2 hours' AND transaction_id = '1234'$$,
    'idx_audit_created_at_brin', 'a transaction''s rows, from its created_at');

-- ---------------------------------------------------------------------------
-- Pruning: a range of ids reads the partitions it covers, no other
-- ---------------------------------------------------------------------------
SELECT is(pg_temp.partitions_read($$SELECT * FROM audit_logs WHERE id BETWEEN 100 AND 200$$),
          ARRAY['audit_logs_p000001'], 'ids of the history: the first partition only');
SELECT is(pg_temp.partitions_read(format('SELECT * FROM audit_logs WHERE id >= %s',
              (SELECT substring(pg_get_expr(relpartbound, oid), 'FROM \(''(\d+)''\)')
                 FROM pg_class WHERE oid = 'app.audit_logs_p000003'::regclass))),
          ARRAY['audit_logs_p000003', 'audit_logs_p000004'], 'the newest ids: the partitions from there on');
PREPARE by_id(bigint) AS SELECT * FROM audit_logs WHERE id = $1;
SET LOCAL plan_cache_mode = force_generic_plan;
SELECT ok(pg_temp.plan_text('EXECUTE by_id(150)') ~ 'Subplans Removed: 3',
          'a generic plan prunes at run time (one of four partitions)');
RESET plan_cache_mode;

-- ---------------------------------------------------------------------------
-- Membership and the downgrade
-- ---------------------------------------------------------------------------
SELECT is((SELECT count(*)::int FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'chronicle'
            WHERE d.deptype = 'e' AND d.classid = 'pg_class'::regclass
              AND d.objid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = 'app.audit_logs'::regclass)), 4,
          'every partition is the extension''s table');
SELECT ok((SELECT 'app.audit_logs'::regclass::oid = ANY (extconfig) FROM pg_extension WHERE extname = 'chronicle'),
          'the parent is config-dumped');
SELECT throws_ok($$ALTER EXTENSION chronicle UPDATE TO '1.2'$$, '55000',
                 'cannot downgrade chronicle below 1.3 while audit_logs is partitioned',
                 'no downgrade below 1.3 while partitioned');
SELECT throws_ok($$SELECT app.set_audit_retention('-1 day')$$, '22023', 'p_keep must be positive',
                 'a negative retention is refused');

SELECT * FROM finish();
ROLLBACK;

-- Statement mode: audit_trigger_function() fired AFTER ... FOR EACH STATEMENT
-- with transition tables writes exactly the audit rows row mode writes, in the
-- same order. One table is audited both ways at once: for every statement, the
-- row-level firings write their rows first, then the statement-level firing
-- writes its own; the two halves are compared row by row, column by column.
CREATE EXTENSION chronicle;
\i sql/include/catch_error.sql
SET chronicle.user_agent = 'statement-test';

CREATE TYPE audit_st_kind AS ENUM ('a', 'b');
CREATE TABLE audit_st (
    id uuid PRIMARY KEY,
    user_id uuid,
    n integer,
    amount numeric,
    ratio double precision,
    label text,
    tags text[],
    doc jsonb,
    raw json,
    kind audit_st_kind,
    at timestamptz,
    pt point,
    body text,
    skipped int
);
ALTER TABLE audit_st DROP COLUMN skipped;
ALTER TABLE audit_st ALTER COLUMN body SET STORAGE EXTERNAL;

CREATE TRIGGER audit_row AFTER INSERT OR UPDATE OR DELETE ON audit_st
    FOR EACH ROW EXECUTE FUNCTION audit_trigger_function('ignore=ratio');
CREATE TRIGGER audit_ins AFTER INSERT ON audit_st REFERENCING NEW TABLE AS n
    FOR EACH STATEMENT EXECUTE FUNCTION audit_trigger_function('ignore=ratio');
CREATE TRIGGER audit_upd AFTER UPDATE ON audit_st REFERENCING OLD TABLE AS o NEW TABLE AS n
    FOR EACH STATEMENT EXECUTE FUNCTION audit_trigger_function('ignore=ratio');
CREATE TRIGGER audit_del AFTER DELETE ON audit_st REFERENCING OLD TABLE AS o
    FOR EACH STATEMENT EXECUTE FUNCTION audit_trigger_function('ignore=ratio');

-- Runs a statement and records the range of audit ids it produced.
CREATE TABLE audit_st_runs (run serial, first_id bigint, last_id bigint);
CREATE FUNCTION audit_run(statement text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    before bigint := (SELECT coalesce(max(id), 0) FROM audit_logs);
BEGIN
    EXECUTE statement;
    INSERT INTO audit_st_runs (first_id, last_id) SELECT before, coalesce(max(id), before) FROM audit_logs;
END $$;

-- More rows than one write batch (500), with TOASTed bodies, and a work_mem small
-- enough that the transition tables spill to disk.
SET work_mem = '64kB';
SELECT audit_run($$INSERT INTO audit_st SELECT md5('row' || g)::uuid, md5('user' || (g % 7))::uuid, g, g / 3.0,
    g * 0.5, 'label ' || g, ARRAY['t' || g, NULL], jsonb_build_object('g', g, 'even', g % 2 = 0),
    ('{"g": ' || g || '}')::json, CASE WHEN g % 2 = 0 THEN 'a' ELSE 'b' END::audit_st_kind,
    '2024-01-01 00:00:00+00'::timestamptz + g * interval '1 minute', point(g, -g),
    CASE WHEN g % 100 = 0 THEN repeat(md5(g::text), 300) END
    FROM generate_series(1, 1200) g$$);
RESET work_mem;
SELECT audit_run($$UPDATE audit_st SET n = n + 1, ratio = ratio * 2 WHERE n % 3 = 0$$);
SELECT audit_run($$UPDATE audit_st SET label = label WHERE n < 10$$);
SELECT audit_run($$UPDATE audit_st SET ratio = -ratio WHERE n < 10$$);
SELECT audit_run($$UPDATE audit_st SET raw = '{"g":  1}', pt = point(0, 0), body = body || '!' WHERE n % 100 = 0$$);
-- An UPDATE of the primary key itself.
SELECT audit_run($$UPDATE audit_st SET id = md5(id::text)::uuid WHERE n BETWEEN 20 AND 25$$);
SELECT audit_run($$UPDATE audit_st SET n = n WHERE false$$);
SELECT audit_run($$DELETE FROM audit_st WHERE n % 2 = 0$$);
SELECT audit_run($$INSERT INTO audit_st (id) VALUES ('00000000-0000-0000-0000-000000000001')$$);
SET chronicle.actor_id = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11';
SELECT audit_run($$DELETE FROM audit_st WHERE true$$);
RESET chronicle.actor_id;

-- Per statement: as many statement-mode rows as row-mode rows, and each equal to
-- its row-mode twin in every column but the id.
WITH x AS (
    SELECT r.run, a.*, row_number() OVER (PARTITION BY r.run ORDER BY a.id) AS k,
           count(*) OVER (PARTITION BY r.run) AS c
    FROM audit_st_runs r JOIN audit_logs a ON a.id > r.first_id AND a.id <= r.last_id)
SELECT count(*) AS pairs,
       bool_and(r.c % 2 = 0) AS even_halves,
       count(*) FILTER (WHERE (r.operation, r.record_id, r.user_id, r.old_data, r.new_data, r.changed_fields,
                               r.ip_address, r.user_agent, r.created_at, r.table_name)
                              IS NOT DISTINCT FROM
                              (s.operation, s.record_id, s.user_id, s.old_data, s.new_data, s.changed_fields,
                               s.ip_address, s.user_agent, s.created_at, s.table_name)) AS identical
FROM x r JOIN x s ON s.run = r.run AND s.k = r.k + r.c / 2
WHERE r.k <= r.c / 2;

-- What was recorded, by operation and changed columns.
SELECT operation, changed_fields, count(*) FROM audit_logs WHERE table_name = 'audit_st'
GROUP BY 1, 2 ORDER BY 1, 2;
SELECT count(*) FILTER (WHERE user_id = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11') AS actor_rows,
       count(*) FILTER (WHERE length(coalesce(new_data, old_data) ->> 'body') > 9000) AS toasted_bodies
FROM audit_logs WHERE table_name = 'audit_st';

-- A statement-level UPDATE on a table without a primary key is refused: 55000.
CREATE TABLE audit_st_nokey (n int);
CREATE TRIGGER audit_upd AFTER UPDATE ON audit_st_nokey REFERENCING OLD TABLE AS o NEW TABLE AS n
    FOR EACH STATEMENT EXECUTE FUNCTION audit_trigger_function();
CREATE TRIGGER audit_ins AFTER INSERT ON audit_st_nokey REFERENCING NEW TABLE AS n
    FOR EACH STATEMENT EXECUTE FUNCTION audit_trigger_function();
INSERT INTO audit_st_nokey VALUES (1), (2);
SELECT * FROM pg_temp.catch_error($$UPDATE audit_st_nokey SET n = n + 1$$);
SELECT array_agg(n ORDER BY n) AS unchanged FROM audit_st_nokey;

-- A statement that fails after the statement trigger wrote its rows leaves none.
CREATE FUNCTION audit_st_fail() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'late failure'; END $$;
CREATE TRIGGER zz_fail AFTER INSERT ON audit_st FOR EACH STATEMENT EXECUTE FUNCTION audit_st_fail();
SELECT count(*) AS audit_rows_before FROM audit_logs;
SELECT code, message FROM pg_temp.catch_error($$INSERT INTO audit_st (id) SELECT gen_random_uuid() FROM generate_series(1, 10)$$);
SELECT count(*) AS audit_rows_after FROM audit_logs;

DROP TABLE audit_st, audit_st_runs, audit_st_nokey;
DROP FUNCTION audit_run(text), audit_st_fail();
DROP TYPE audit_st_kind;
DROP EXTENSION chronicle CASCADE;

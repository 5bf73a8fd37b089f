-- Statement mode: audit_trigger_function() fired AFTER ... FOR EACH STATEMENT
-- with transition tables writes exactly the audit rows row mode writes, in the
-- same order. Two identical tables get the same statements, one audited per
-- row, the other per statement; their audit rows are compared column by column.
CREATE EXTENSION chronicle;
\i sql/include/catch_error.sql
SET chronicle.user_agent = 'statement-test';

CREATE TYPE audit_st_kind AS ENUM ('a', 'b');
CREATE TABLE audit_st_row (
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
ALTER TABLE audit_st_row DROP COLUMN skipped;
ALTER TABLE audit_st_row ALTER COLUMN body SET STORAGE EXTERNAL;
CREATE TABLE audit_st_stmt (LIKE audit_st_row INCLUDING ALL);
ALTER TABLE audit_st_stmt ALTER COLUMN body SET STORAGE EXTERNAL;

CREATE TRIGGER audit_row AFTER INSERT OR UPDATE OR DELETE ON audit_st_row
    FOR EACH ROW EXECUTE FUNCTION audit_trigger_function('ignore=ratio');
CREATE TRIGGER audit_ins AFTER INSERT ON audit_st_stmt REFERENCING NEW TABLE AS n
    FOR EACH STATEMENT EXECUTE FUNCTION audit_trigger_function('ignore=ratio');
CREATE TRIGGER audit_upd AFTER UPDATE ON audit_st_stmt REFERENCING OLD TABLE AS o NEW TABLE AS n
    FOR EACH STATEMENT EXECUTE FUNCTION audit_trigger_function('ignore=ratio');
CREATE TRIGGER audit_del AFTER DELETE ON audit_st_stmt REFERENCING OLD TABLE AS o
    FOR EACH STATEMENT EXECUTE FUNCTION audit_trigger_function('ignore=ratio');

-- Runs one statement on both tables (the table name is the placeholder T), in
-- one transaction so that created_at is the same too.
CREATE FUNCTION audit_both(statement text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE replace(statement, ' T ', ' audit_st_row ');
    EXECUTE replace(statement, ' T ', ' audit_st_stmt ');
END $$;

-- More rows than one write batch (500), with TOASTed bodies, and a work_mem small
-- enough that the transition tables spill to disk.
SET work_mem = '64kB';
SELECT audit_both($$INSERT INTO T SELECT md5('row' || g)::uuid, md5('user' || (g % 7))::uuid, g, g / 3.0,
    g * 0.5, 'label ' || g, ARRAY['t' || g, NULL], jsonb_build_object('g', g, 'even', g % 2 = 0),
    ('{"g": ' || g || '}')::json, CASE WHEN g % 2 = 0 THEN 'a' ELSE 'b' END::audit_st_kind,
    '2024-01-01 00:00:00+00'::timestamptz + g * interval '1 minute', point(g, -g),
    CASE WHEN g % 100 = 0 THEN repeat(md5(g::text), 300) END
    FROM generate_series(1, 1200) g$$);
RESET work_mem;
SELECT audit_both($$UPDATE T SET n = n + 1, ratio = ratio * 2 WHERE n % 3 = 0$$);
SELECT audit_both($$UPDATE T SET label = label WHERE n < 10$$);
SELECT audit_both($$UPDATE T SET ratio = -ratio WHERE n < 10$$);
SELECT audit_both($$UPDATE T SET raw = '{"g":  1}', pt = point(0, 0), body = body || '!' WHERE n % 100 = 0$$);
-- An UPDATE of the primary key itself.
SELECT audit_both($$UPDATE T SET id = md5(id::text)::uuid WHERE n BETWEEN 20 AND 25$$);
SELECT audit_both($$UPDATE T SET n = n WHERE false$$);
SELECT audit_both($$DELETE FROM T WHERE n % 2 = 0$$);
SELECT audit_both($$INSERT INTO T (id) VALUES ('00000000-0000-0000-0000-000000000001')$$);
SET chronicle.actor_id = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11';
SELECT audit_both($$DELETE FROM T WHERE true$$);
RESET chronicle.actor_id;

WITH r AS (SELECT row_number() OVER (ORDER BY id) AS n, * FROM audit_logs WHERE table_name = 'audit_st_row'),
     s AS (SELECT row_number() OVER (ORDER BY id) AS n, * FROM audit_logs WHERE table_name = 'audit_st_stmt')
SELECT count(*) AS pairs,
       (SELECT count(*) FROM r) AS row_mode_rows,
       (SELECT count(*) FROM s) AS statement_mode_rows,
       count(*) FILTER (WHERE (r.operation, r.record_id, r.user_id, r.old_data, r.new_data, r.changed_fields,
                               r.ip_address, r.user_agent, r.created_at)
                              IS NOT DISTINCT FROM
                              (s.operation, s.record_id, s.user_id, s.old_data, s.new_data, s.changed_fields,
                               s.ip_address, s.user_agent, s.created_at)) AS identical
FROM r FULL JOIN s USING (n);

-- What was recorded, by operation and changed columns.
SELECT operation, changed_fields, count(*) FROM audit_logs WHERE table_name = 'audit_st_stmt'
GROUP BY 1, 2 ORDER BY 1, 2;
SELECT count(*) FILTER (WHERE user_id = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11') AS actor_rows,
       count(*) FILTER (WHERE length(coalesce(new_data, old_data) ->> 'body') > 9000) AS toasted_bodies
FROM audit_logs WHERE table_name = 'audit_st_stmt';

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
CREATE TRIGGER zz_fail AFTER INSERT ON audit_st_stmt FOR EACH STATEMENT EXECUTE FUNCTION audit_st_fail();
SELECT count(*) AS audit_rows_before FROM audit_logs;
SELECT code, message FROM pg_temp.catch_error($$INSERT INTO audit_st_stmt (id) SELECT gen_random_uuid() FROM generate_series(1, 10)$$);
SELECT count(*) AS audit_rows_after FROM audit_logs;

DROP TABLE audit_st_row, audit_st_stmt, audit_st_nokey;
DROP FUNCTION audit_both(text), audit_st_fail();
DROP TYPE audit_st_kind;
DROP EXTENSION chronicle CASCADE;

-- audit_trigger_function(): old_data / new_data equal to_jsonb(OLD) / to_jsonb(NEW)
-- for every kind of column type, and changed_fields equals what IS DISTINCT FROM
-- says, column by column. A PL/pgSQL trigger fired just before the native one
-- records the expected values with PostgreSQL's own to_jsonb.
CREATE EXTENSION chronicle;
SET extra_float_digits = 1;
SET timezone = 'Europe/Paris';

CREATE TYPE audit_mood AS ENUM ('sad', 'ok', 'happy');
CREATE TYPE audit_pair AS (label text, score numeric, tags int[], mood audit_mood);
CREATE DOMAIN audit_posint AS int CHECK (VALUE > 0);
CREATE DOMAIN audit_code AS varchar(8);
CREATE DOMAIN audit_doc AS jsonb;

CREATE TABLE audit_types (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id uuid,
    i2 smallint, i4 integer, i8 bigint,
    num numeric, num_special numeric(20,3), f4 real, f8 double precision,
    flag boolean,
    txt text, vc varchar(10), ch char(5), nm name,
    raw bytea,
    d date, ts timestamp, tstz timestamptz, tm time, tmtz timetz, span interval,
    js json, jsb jsonb,
    grid integer[][], words text[], dates date[],
    pair audit_pair, pairs audit_pair[],
    pos audit_posint, code audit_code, doc audit_doc,
    mood audit_mood, moods audit_mood[],
    r int4range, tsr tsrange, mr int4multirange, nr numrange,
    doc_vector tsvector, q tsquery,
    cash money,
    pt point, bx box, poly polygon, circ circle, ln line, seg lseg, pth path,
    addr inet, net cidr, mac macaddr,
    bits bit(4), vbits varbit,
    doc_xml xml,
    lsn pg_lsn,
    to_drop text,
    big text,
    doubled integer GENERATED ALWAYS AS (i4 * 2) STORED
);
ALTER TABLE audit_types DROP COLUMN to_drop;
-- Store big out of line without compression, so it really is TOASTed.
ALTER TABLE audit_types ALTER COLUMN big SET STORAGE EXTERNAL;

CREATE TABLE audit_expected (seq bigserial, op text, old_row jsonb, new_row jsonb, changed text[]);

-- The expected audit row, from to_jsonb and IS DISTINCT FROM (for a type with
-- no = operator, such as json or point, the text forms are compared).
CREATE FUNCTION audit_expect() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    col record;
    distinct_ boolean;
    changed text[] := '{}';
BEGIN
    IF TG_OP = 'UPDATE' THEN
        FOR col IN SELECT attname FROM pg_attribute
                   WHERE attrelid = TG_RELID AND attnum > 0 AND NOT attisdropped ORDER BY attnum LOOP
            BEGIN
                EXECUTE format('SELECT ($1).%1$I IS DISTINCT FROM ($2).%1$I', col.attname)
                    INTO distinct_ USING OLD, NEW;
            EXCEPTION WHEN undefined_function THEN
                EXECUTE format('SELECT ($1).%1$I::text IS DISTINCT FROM ($2).%1$I::text', col.attname)
                    INTO distinct_ USING OLD, NEW;
            END;
            IF distinct_ THEN changed := changed || col.attname::text; END IF;
        END LOOP;
    END IF;
    INSERT INTO audit_expected (op, old_row, new_row, changed)
    VALUES (TG_OP,
            CASE WHEN TG_OP <> 'INSERT' THEN to_jsonb(OLD) END,
            CASE WHEN TG_OP <> 'DELETE' THEN to_jsonb(NEW) END,
            changed);
    RETURN NULL;
END
$$;

CREATE TRIGGER a_expect AFTER INSERT OR UPDATE OR DELETE ON audit_types
    FOR EACH ROW EXECUTE FUNCTION audit_expect();
CREATE TRIGGER b_audit AFTER INSERT OR UPDATE OR DELETE ON audit_types
    FOR EACH ROW EXECUTE FUNCTION audit_trigger_function();

-- Every column set, with the awkward values of each type.
INSERT INTO audit_types (id, user_id, i2, i4, i8, num, num_special, f4, f8, flag, txt, vc, ch, nm, raw,
    d, ts, tstz, tm, tmtz, span, js, jsb, grid, words, dates, pair, pairs, pos, code, doc, mood, moods,
    r, tsr, mr, nr, doc_vector, q, cash, pt, bx, poly, circ, ln, seg, pth, addr, net, mac, bits, vbits,
    doc_xml, lsn, big)
VALUES ('d0eebc99-9c0b-4ef8-bb6d-6bb9bd380a14', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', -32768, 1073741822, -9223372036854775808,
    'NaN', 123456789.125, 'Infinity', '-Infinity', true,
    E'tab\there "quoted" \\ back \u00e9\U0001F600 \n', 'short', 'ab', 'a name',
    '\x00ff10', 'infinity', '2024-02-29 23:59:59.999999', '2024-06-30 12:00:00+02', '24:00:00',
    '13:30:00-05', '1 year 2 mons -3 days 04:05:06.7',
    '{"b": 1,  "a": [1, 2.50, null], "a": "dup"}', '{"z": {"y": [true, false, 1e3]}, "n": null}',
    '{{1,NULL,3},{4,5,NULL}}', '{"with space","with \"quote\"",NULL,""}', '{2024-01-01,-infinity}',
    ROW('pair', 1.50, '{1,NULL}', 'ok'), ARRAY[ROW('x', 'NaN', NULL, 'sad')::audit_pair, NULL],
    7, 'CODE', '"just a string"', 'happy', '{sad,NULL,happy}',
    '[1,10)', '[2024-01-01,2024-02-01)', '{[1,3),[5,7)}', '(,1.5]',
    'a fat cat sat on a mat', 'fat & (rat | cat)', '1234.56',
    '(1.5,-2)', '((0,0),(1,1))', '((0,0),(1,0),(1,1))', '<(0,0),2>', '{1,-1,0}', '[(0,0),(1,1)]',
    '[(0,0),(1,1),(2,0)]', '192.168.0.1/24', '10.0.0.0/8', '08:00:2b:01:02:03', B'1010', B'101',
    '<a b="c">text</a>', '16/B374D848',
    (SELECT string_agg(md5(g::text), '') FROM generate_series(1, 400) g));

-- Numbers as to_jsonb prints them, negative zero and NaN included.
INSERT INTO audit_types (id, num, num_special, f4, f8, i4, jsb, js)
VALUES ('e1eebc99-9c0b-4ef8-bb6d-6bb9bd380a01', 'Infinity', -0.0001, '-0', 'NaN', 0, 'null', '[]'),
       ('e2eebc99-9c0b-4ef8-bb6d-6bb9bd380a02', '-Infinity', 1e-3, 1.1, 0.1, -1, '3.14', '"s"'),
       ('e3eebc99-9c0b-4ef8-bb6d-6bb9bd380a03', 12345678901234567890.123456789, 0, 'NaN', 1e300, 42, '[]', 'null'),
       ('e4eebc99-9c0b-4ef8-bb6d-6bb9bd380a04', -0.000001, 10, 3.4e38, 2.2250738585072014e-308, 7, '{}', '{}');

-- Every column NULL but the key.
INSERT INTO audit_types (id) VALUES ('b0eebc99-9c0b-4ef8-bb6d-6bb9bd380a12');

-- Updates: some columns, none, values equal under = but not byte-equal, a
-- TOASTed column kept while another changes, then the TOASTed one itself.
UPDATE audit_types SET i4 = i4 + 1, txt = 'changed', flag = NOT flag, grid = '{{1,NULL,3},{4,5,6}}',
    js = '{"b": 1, "a": [1, 2.50, null], "a": "dup"}' WHERE big IS NOT NULL;
UPDATE audit_types SET i4 = i4 WHERE big IS NOT NULL;
UPDATE audit_types SET num_special = 123456789.1250, span = '1 year 2 mons -3 days 04:05:06.7',
    pt = '(1.5,-2)', doc = '"just a string"', jsb = '{"n": null, "z": {"y": [true, false, 1000]}}'
    WHERE big IS NOT NULL;
UPDATE audit_types SET big = big || 'tail' WHERE big IS NOT NULL;
UPDATE audit_types SET user_id = 'c0eebc99-9c0b-4ef8-bb6d-6bb9bd380a13', mood = 'ok', pos = 1
    WHERE id = 'b0eebc99-9c0b-4ef8-bb6d-6bb9bd380a12';
UPDATE audit_types SET f8 = 'NaN', num = 'NaN' WHERE f8 = 'NaN';
-- A different float output setting changes to_jsonb's numbers: it must change ours too.
SET extra_float_digits = -3;
UPDATE audit_types SET f4 = f4 * 3, f8 = f8 / 3 WHERE id = 'e2eebc99-9c0b-4ef8-bb6d-6bb9bd380a02';
SET extra_float_digits = 1;
-- Output settings that to_jsonb follows (through the types' output functions).
SET bytea_output = 'escape';
SET intervalstyle = 'iso_8601';
SET datestyle = 'SQL, DMY';
SET timezone = 'America/St_Johns';
UPDATE audit_types SET raw = raw || '\x01'::bytea, span = span * 2, tstz = tstz + interval '1 hour',
    dates = dates || '2020-02-29'::date, pair.score = 2.5 WHERE raw IS NOT NULL;
RESET bytea_output;
RESET intervalstyle;
RESET datestyle;
SET timezone = 'Europe/Paris';
DELETE FROM audit_types;

-- Every audit row matches its expected row, in the same order.
WITH a AS (SELECT row_number() OVER (ORDER BY id) AS n, * FROM audit_logs WHERE table_name = 'audit_types'),
     e AS (SELECT row_number() OVER (ORDER BY seq) AS n, * FROM audit_expected)
SELECT count(*) AS audit_rows,
       count(*) = (SELECT count(*) FROM e) AS one_per_change,
       bool_and(a.operation = e.op) AS operations,
       bool_and(a.old_data IS NOT DISTINCT FROM e.old_row) AS old_data_equal,
       bool_and(a.new_data IS NOT DISTINCT FROM e.new_row) AS new_data_equal,
       bool_and(a.old_data::text IS NOT DISTINCT FROM e.old_row::text) AS old_data_same_text,
       bool_and(a.new_data::text IS NOT DISTINCT FROM e.new_row::text) AS new_data_same_text,
       bool_and(a.changed_fields = e.changed) AS changed_fields_equal
FROM a JOIN e USING (n);

-- Where they differ, if anywhere: the keys that differ (expected: no row).
WITH a AS (SELECT row_number() OVER (ORDER BY id) AS n, * FROM audit_logs WHERE table_name = 'audit_types'),
     e AS (SELECT row_number() OVER (ORDER BY seq) AS n, * FROM audit_expected)
SELECT a.n, a.operation, k.key, a.new_data -> k.key AS ours, e.new_row -> k.key AS to_jsonb
FROM a JOIN e USING (n), jsonb_object_keys(coalesce(e.new_row, e.old_row)) AS k(key)
WHERE (a.new_data -> k.key)::text IS DISTINCT FROM (e.new_row -> k.key)::text
   OR (a.old_data -> k.key)::text IS DISTINCT FROM (e.old_row -> k.key)::text
UNION ALL
SELECT a.n, a.operation, 'changed_fields', to_jsonb(a.changed_fields), to_jsonb(e.changed)
FROM a JOIN e USING (n) WHERE a.changed_fields IS DISTINCT FROM e.changed;

-- What the updates recorded as changed, and the ids they name.
SELECT operation, changed_fields, record_id, user_id
FROM audit_logs WHERE table_name = 'audit_types' AND operation = 'UPDATE' ORDER BY id;

-- The TOASTed value is in the audit rows whole.
SELECT operation, length(new_data ->> 'big') AS new_big, length(old_data ->> 'big') AS old_big
FROM audit_logs WHERE table_name = 'audit_types' AND coalesce(new_data, old_data) ->> 'big' IS NOT NULL ORDER BY id;

-- The dropped column is not there, the generated one is.
SELECT bool_and(NOT (coalesce(new_data, old_data) ? 'to_drop')) AS no_dropped_column,
       bool_and(coalesce(new_data, old_data) ? 'doubled') AS generated_column
FROM audit_logs WHERE table_name = 'audit_types';

DROP TABLE audit_types, audit_expected;
DROP FUNCTION audit_expect();
DROP DOMAIN audit_posint, audit_code, audit_doc;
DROP TYPE audit_pair, audit_mood;
DROP EXTENSION chronicle CASCADE;

-- Re-entry: user code that runs inside an audit firing (here a CHECK
-- constraint on audit_logs, evaluated when the firing writes its batch) changes
-- the audited table (GRANT: a relcache invalidation), sets chronicle.actor_id
-- and writes audited rows to the same table. Each nested firing rebuilds the
-- trigger's cache entry and parses a new actor while the outer firing, which
-- has 600 rows to write in batches of 500, still holds the entry it was given
-- and the actor it read. The outer firing's rows must come out as if nothing
-- had happened in between; before the fix the outer firing read the freed
-- cache entry and the freed actor (scripts/valgrind-regress audit_reentry
-- shows it as invalid reads under valgrind; without it, the outer rows got
-- the nested actor, and their images came from recycled memory).
CREATE EXTENSION chronicle;
SET chronicle.actor_id = 'aaaaaaaa-0000-4000-8000-000000000001';
SET chronicle.user_agent = 'outer agent';

-- Enough columns that the cached trigger entry spans more than one block.
CREATE TABLE audit_re (
    id serial PRIMARY KEY,
    n integer NOT NULL,
    label text,
    amount numeric,
    ratio double precision,
    tags text[],
    doc jsonb,
    at timestamptz,
    flag boolean,
    note varchar(40),
    code char(3),
    big bigint
);
CREATE TRIGGER audit_re_rows AFTER INSERT ON audit_re REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION audit_trigger_function();

-- Called by the CHECK for every audit row; acts once, for the outer
-- statement's first row (n = 1).
CREATE FUNCTION audit_reenter(t text, image jsonb) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    IF t = 'audit_re' AND (image->>'n')::int = 1 THEN
        GRANT SELECT ON audit_re TO PUBLIC;
        PERFORM set_config('chronicle.actor_id', 'bbbbbbbb-0000-4000-8000-000000000002', true);
        PERFORM set_config('chronicle.user_agent', 'nested agent 1', true);
        INSERT INTO audit_re (n, label) VALUES (-1, 'nested 1');
        REVOKE SELECT ON audit_re FROM PUBLIC;
        PERFORM set_config('chronicle.actor_id', 'cccccccc-0000-4000-8000-000000000003', true);
        PERFORM set_config('chronicle.user_agent', 'nested agent 2', true);
        INSERT INTO audit_re (n, label) VALUES (-2, 'nested 2');
    END IF;
    RETURN true;
END
$$;
ALTER TABLE audit_logs ADD CONSTRAINT audit_logs_reenter CHECK (audit_reenter(table_name, new_data));

INSERT INTO audit_re (n, label, amount, ratio, tags, doc, at, flag, note, code, big)
SELECT i, 'row ' || i, i * 1.5, i / 7.0, ARRAY['t' || i], jsonb_build_object('i', i),
       TIMESTAMPTZ '2026-01-01 00:00:00+00' + i * INTERVAL '1 minute', i % 2 = 0, 'note ' || i, 'c' || i % 10, i * 1000
  FROM generate_series(1, 600) AS i;

-- Every row has its audit row; the nested ones carry the nested actor and
-- agent, the outer ones the outer actor and agent, and every image is the row.
SELECT r.n > 0 AS outer_row, l.user_id, l.user_agent, count(*) AS audit_rows,
       bool_and(l.new_data = to_jsonb(r)) AS images_exact, bool_and(l.operation = 'INSERT') AS inserts
  FROM audit_logs l JOIN audit_re r ON l.new_data->>'id' = r.id::text
 WHERE l.table_name = 'audit_re'
 GROUP BY 1, 2, 3 ORDER BY 1, 2, 3;
SELECT count(*) AS rows, (SELECT count(*) FROM audit_logs WHERE table_name = 'audit_re') AS audit_rows FROM audit_re;
-- The settings the nested code set were transaction-local.
SELECT current_setting('chronicle.actor_id') AS actor, current_setting('chronicle.user_agent') AS agent;

-- The same twice in one transaction, each nested firing after the first
-- rebuilding an entry the previous rebuild made (the entries replaced are
-- freed at the end of the transaction, not before). The second statement's
-- actor is the one the first statement's nested code set for the transaction.
BEGIN;
INSERT INTO audit_re (n, label) SELECT i, 'first ' || i FROM generate_series(1, 600) AS i;
INSERT INTO audit_re (n, label) SELECT i, 'second ' || i FROM generate_series(1, 600) AS i;
COMMIT;
SELECT split_part(r.label, ' ', 1) AS statement, l.user_id, count(*) AS audit_rows,
       bool_and(l.new_data = to_jsonb(r)) AS images_exact
  FROM audit_logs l JOIN audit_re r ON l.new_data->>'id' = r.id::text
 WHERE l.table_name = 'audit_re' AND r.id > 602
 GROUP BY 1, 2 ORDER BY 1, 2;

ALTER TABLE audit_logs DROP CONSTRAINT audit_logs_reenter;
DROP TABLE audit_re;
DROP FUNCTION audit_reenter(text, jsonb);
DROP EXTENSION chronicle;

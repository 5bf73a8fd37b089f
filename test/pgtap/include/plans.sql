-- Plan assertions for pgTAP: a query uses a named index, and reads a table
-- through no Seq Scan, as EXPLAIN (FORMAT JSON) shows. On failure the plan is
-- printed as a diagnostic. Include with `\ir include/plans.sql` after
-- `SELECT plan(n)`; the functions live in pg_temp and vanish with the session.
--
--   SELECT pg_temp.uses_index($$SELECT ...$$, 'idx_name', 'what the query is');
--   SELECT pg_temp.no_seq_scan($$SELECT ...$$, 'table_name', 'what the query is');
--
-- A query with parameters ($1...) is asserted through a prepared statement:
-- pass `PREPARE q(uuid) AS ...` to pg_temp.prepare() first and `EXECUTE q(...)` as
-- the query; plan_cache_mode = force_generic_plan shows the plan that a saved
-- plan (SPI, after its first executions) would use.

-- Every plan node of the query, with the relation and index it reads.
CREATE FUNCTION pg_temp.plan_nodes(query text)
RETURNS TABLE (node_type text, relation text, index_name text)
LANGUAGE plpgsql AS $$
DECLARE
    plan jsonb;
BEGIN
    EXECUTE 'EXPLAIN (FORMAT JSON, COSTS OFF) ' || query INTO plan;
    RETURN QUERY
    SELECT n->>'Node Type', n->>'Relation Name', n->>'Index Name'
      FROM jsonb_path_query(plan, 'strict $.**') AS n
     WHERE jsonb_typeof(n) = 'object' AND n ? 'Node Type';
END
$$;

-- The plan in text form, for diagnostics.
CREATE FUNCTION pg_temp.plan_text(query text)
RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    line text;
    result text := '';
BEGIN
    FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || query LOOP
        result := result || line || E'\n';
    END LOOP;
    RETURN result;
END
$$;

CREATE FUNCTION pg_temp.uses_index(query text, index_name text, description text)
RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    found boolean := EXISTS (SELECT FROM pg_temp.plan_nodes(query) n WHERE n.index_name = uses_index.index_name);
BEGIN
    IF found THEN
        RETURN ok(true, description || ': uses ' || index_name);
    END IF;
    RETURN ok(false, description || ': uses ' || index_name) || E'\n'
        || diag('plan:' || E'\n' || pg_temp.plan_text(query));
END
$$;

CREATE FUNCTION pg_temp.no_seq_scan(query text, table_name text, description text)
RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    scanned boolean := EXISTS (SELECT FROM pg_temp.plan_nodes(query) n
                                WHERE n.node_type = 'Seq Scan' AND n.relation = no_seq_scan.table_name);
BEGIN
    IF NOT scanned THEN
        RETURN ok(true, description || ': no Seq Scan on ' || table_name);
    END IF;
    RETURN ok(false, description || ': no Seq Scan on ' || table_name) || E'\n'
        || diag('plan:' || E'\n' || pg_temp.plan_text(query));
END
$$;

-- The same, for a query that any of several equivalent indexes serves (the
-- planner picks among them by statistics): one of them must be used.
CREATE FUNCTION pg_temp.uses_index(query text, index_names text[], description text)
RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    found boolean := EXISTS (SELECT FROM pg_temp.plan_nodes(query) n WHERE n.index_name = ANY (index_names));
    what text := description || ': uses one of ' || array_to_string(index_names, ', ');
BEGIN
    IF found THEN
        RETURN ok(true, what);
    END IF;
    RETURN ok(false, what) || E'\n' || diag('plan:' || E'\n' || pg_temp.plan_text(query));
END
$$;

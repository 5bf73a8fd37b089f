-- A catalog snapshot of the extension chronicle: one line per fact about every
-- object the extension owns and its parts, and one per object in its schema
-- that it does not own, sorted, with OIDs replaced by names.
-- Two databases whose snapshots are equal hold the same extension. Each line
-- starts with the object it is about, so a unified diff of two snapshots reads
-- as a list of differing objects.
--
--   psql -XAtq -f test/upgrade/snapshot.sql DB > DB.snapshot
--
-- Columns are numbered by their position among the live columns: a column that
-- a downgrade dropped leaves a hidden attnum gap, which no client can see.
\set ON_ERROR_STOP on
SET search_path = pg_catalog;  -- every name prints schema-qualified

-- Rows of member tables that pg_dump does not save (not config-dumped): they
-- are part of the extension's definition, as its scripts insert them.
CREATE FUNCTION pg_temp.definition_rows(rel regclass) RETURNS SETOF text
LANGUAGE plpgsql AS $$
BEGIN
    RETURN QUERY EXECUTE format('SELECT to_jsonb(t)::text FROM %s t', rel);
END
$$;

WITH ext AS (
    SELECT e.oid, e.extnamespace, e.extrelocatable, e.extversion, e.extconfig, e.extcondition
      FROM pg_extension e WHERE e.extname = 'chronicle'
), member AS (
    SELECT d.classid, d.objid, pg_describe_object(d.classid, d.objid, 0) AS what
      FROM pg_depend d JOIN ext ON d.refobjid = ext.oid
     WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
), rel AS (
    SELECT c.*, m.what FROM pg_class c JOIN member m ON m.classid = 'pg_class'::regclass AND m.objid = c.oid
), fn AS (
    SELECT p.*, m.what FROM pg_proc p JOIN member m ON m.classid = 'pg_proc'::regclass AND m.objid = p.oid
), typ AS (
    SELECT t.*, m.what FROM pg_type t JOIN member m ON m.classid = 'pg_type'::regclass AND m.objid = t.oid
), orphan AS (
    -- Objects in the extension's schema that are not its members: a step that
    -- creates an object and does not make it a member (or detaches one) leaves
    -- it behind, invisible to every line above and kept by DROP EXTENSION.
    -- Indexes of member tables, the row types of relations and array types are
    -- parts of other objects, not objects of their own.
    SELECT pg_describe_object(o.classid, o.objid, 0) AS what
      FROM (SELECT 'pg_class'::regclass AS classid, c.oid AS objid FROM pg_class c, ext
             WHERE c.relnamespace = ext.extnamespace
               AND NOT (c.relkind IN ('i', 'I') AND EXISTS (
                        SELECT FROM pg_index i JOIN member m ON m.classid = 'pg_class'::regclass AND m.objid = i.indrelid
                         WHERE i.indexrelid = c.oid))
            UNION ALL
            SELECT 'pg_proc'::regclass, p.oid FROM pg_proc p, ext WHERE p.pronamespace = ext.extnamespace
            UNION ALL
            SELECT 'pg_type'::regclass, t.oid FROM pg_type t, ext
             WHERE t.typnamespace = ext.extnamespace AND t.typrelid = 0
               AND NOT EXISTS (SELECT FROM pg_type e WHERE e.typarray = t.oid)
            UNION ALL
            SELECT 'pg_operator'::regclass, o.oid FROM pg_operator o, ext WHERE o.oprnamespace = ext.extnamespace
            UNION ALL
            SELECT 'pg_opfamily'::regclass, f.oid FROM pg_opfamily f, ext WHERE f.opfnamespace = ext.extnamespace
            UNION ALL
            SELECT 'pg_opclass'::regclass, c.oid FROM pg_opclass c, ext WHERE c.opcnamespace = ext.extnamespace
            UNION ALL
            SELECT 'pg_collation'::regclass, c.oid FROM pg_collation c, ext WHERE c.collnamespace = ext.extnamespace
            UNION ALL
            SELECT 'pg_conversion'::regclass, c.oid FROM pg_conversion c, ext WHERE c.connamespace = ext.extnamespace
            UNION ALL
            SELECT 'pg_statistic_ext'::regclass, s.oid FROM pg_statistic_ext s, ext WHERE s.stxnamespace = ext.extnamespace
            UNION ALL
            SELECT 'pg_ts_config'::regclass, c.oid FROM pg_ts_config c, ext WHERE c.cfgnamespace = ext.extnamespace
            UNION ALL
            SELECT 'pg_ts_dict'::regclass, d.oid FROM pg_ts_dict d, ext WHERE d.dictnamespace = ext.extnamespace) o
     WHERE NOT EXISTS (SELECT FROM member m WHERE m.classid = o.classid AND m.objid = o.objid)
), line(text) AS (
    SELECT format('extension chronicle: version %s, schema %s, relocatable %s',
                  extversion, extnamespace::regnamespace, extrelocatable)
      FROM ext
    UNION ALL
    SELECT format('%s: member', what) FROM member
    UNION ALL
    SELECT format('%s: in the extension''s schema, not a member', what) FROM orphan
    -- relations
    UNION ALL
    SELECT format('%s: kind %s, persistence %s, owner %s, options %s, row security %s/%s, replica identity %s, acl %s, comment %L',
                  what, relkind, relpersistence, pg_get_userbyid(relowner), reloptions,
                  relrowsecurity, relforcerowsecurity, relreplident, relacl, obj_description(oid, 'pg_class'))
      FROM rel
    UNION ALL
    SELECT format('%s: column %s %I %s%s%s%s%s%s, acl %s, options %s, comment %L',
                  r.what, row_number() OVER (PARTITION BY r.oid ORDER BY a.attnum), a.attname,
                  format_type(a.atttypid, a.atttypmod),
                  CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END,
                  CASE WHEN a.attgenerated = 's' THEN ' GENERATED ALWAYS AS ' || pg_get_expr(ad.adbin, ad.adrelid) || ' STORED'
                       WHEN ad.adbin IS NOT NULL THEN ' DEFAULT ' || pg_get_expr(ad.adbin, ad.adrelid) ELSE '' END,
                  CASE a.attidentity WHEN 'a' THEN ' GENERATED ALWAYS AS IDENTITY'
                                     WHEN 'd' THEN ' GENERATED BY DEFAULT AS IDENTITY' ELSE '' END,
                  CASE WHEN a.attcollation <> t.typcollation THEN ' COLLATE ' || a.attcollation::regcollation ELSE '' END,
                  CASE WHEN a.attstorage <> t.typstorage THEN ' STORAGE ' || a.attstorage::text ELSE '' END,
                  a.attacl,
                  -- This server build records the WAL position at which a column was
                  -- made as attoptions pg_attver=<lsn>: history, not definition.
                  (SELECT array_agg(o ORDER BY o) FROM unnest(a.attoptions) o WHERE o NOT LIKE 'pg\_attver=%'),
                  col_description(r.oid, a.attnum))
      FROM rel r
      JOIN pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped
      JOIN pg_type t ON t.oid = a.atttypid
      LEFT JOIN pg_attrdef ad ON ad.adrelid = r.oid AND ad.adnum = a.attnum
    UNION ALL
    SELECT format('%s: constraint %I: %s%s, comment %L',
                  r.what, c.conname, pg_get_constraintdef(c.oid),
                  CASE WHEN c.convalidated THEN '' ELSE ' (NOT VALIDATED)' END,
                  obj_description(c.oid, 'pg_constraint'))
      FROM rel r JOIN pg_constraint c ON c.conrelid = r.oid
    UNION ALL
    SELECT format('%s: index %I: %s%s%s%s%s, options %s, comment %L',
                  r.what, ic.relname, pg_get_indexdef(i.indexrelid),
                  CASE WHEN i.indisvalid THEN '' ELSE ' (INVALID)' END,
                  CASE WHEN i.indisready THEN '' ELSE ' (NOT READY)' END,
                  CASE WHEN i.indisclustered THEN ' (CLUSTERED)' ELSE '' END,
                  CASE WHEN i.indisreplident THEN ' (REPLICA IDENTITY)' ELSE '' END,
                  ic.reloptions, obj_description(i.indexrelid, 'pg_class'))
      FROM rel r JOIN pg_index i ON i.indrelid = r.oid JOIN pg_class ic ON ic.oid = i.indexrelid
    UNION ALL
    -- Internal triggers belong to foreign keys (their names hold OIDs); the
    -- constraint line above covers them.
    SELECT format('%s: trigger %I: %s, enabled %s, comment %L',
                  r.what, tg.tgname, pg_get_triggerdef(tg.oid), tg.tgenabled, obj_description(tg.oid, 'pg_trigger'))
      FROM rel r JOIN pg_trigger tg ON tg.tgrelid = r.oid AND NOT tg.tgisinternal
    UNION ALL
    SELECT format('%s: policy %I: %s %s to %s using %s with check %s',
                  r.what, p.polname, CASE WHEN p.polpermissive THEN 'permissive' ELSE 'restrictive' END, p.polcmd,
                  (SELECT string_agg(CASE WHEN x = 0 THEN 'public' ELSE pg_get_userbyid(x)::text END, ',' ORDER BY 1)
                     FROM unnest(p.polroles) x),
                  pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid))
      FROM rel r JOIN pg_policy p ON p.polrelid = r.oid
    UNION ALL
    SELECT format('%s: rule %I: %s', r.what, rw.rulename, pg_get_ruledef(rw.oid))
      FROM rel r JOIN pg_rewrite rw ON rw.ev_class = r.oid
    UNION ALL
    SELECT format('%s: statistics %I: %s', r.what, s.stxname, pg_get_statisticsobjdef(s.oid))
      FROM rel r JOIN pg_statistic_ext s ON s.stxrelid = r.oid
    UNION ALL
    SELECT format('%s: sequence %s start %s increment %s min %s max %s cache %s cycle %s',
                  r.what, format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement, s.seqmin, s.seqmax,
                  s.seqcache, s.seqcycle)
      FROM rel r JOIN pg_sequence s ON s.seqrelid = r.oid
    UNION ALL
    -- OWNED BY (serial columns) and other automatic dependencies between relations
    SELECT format('%s: depends (%s) on %s', r.what, d.deptype, pg_describe_object(d.refclassid, d.refobjid, d.refobjsubid))
      FROM rel r JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = r.oid
     WHERE d.deptype IN ('a', 'i') AND d.refclassid = 'pg_class'::regclass
    -- functions: the whole definition (signature, language, body or C symbol,
    -- volatility, strictness, security, parallel safety, cost, SET), line by line
    UNION ALL
    SELECT format('%s: definition %s: %s', f.what, to_char(n, 'FM000'), l)
      FROM fn f, unnest(string_to_array(
                 CASE WHEN f.prokind = 'a' THEN 'aggregate' ELSE pg_get_functiondef(f.oid) END, E'\n'))
                 WITH ORDINALITY AS def(l, n)
    UNION ALL
    SELECT format('%s: owner %s, acl %s, comment %L',
                  what, pg_get_userbyid(proowner), proacl, obj_description(oid, 'pg_proc'))
      FROM fn
    -- types the extension created on their own (not the row types of tables)
    UNION ALL
    SELECT format('%s: type %s, owner %s, acl %s, base %s, not null %s, default %s, labels %s, comment %L',
                  t.what, t.typtype, pg_get_userbyid(t.typowner), t.typacl,
                  CASE WHEN t.typbasetype <> 0 THEN format_type(t.typbasetype, t.typtypmod) END,
                  t.typnotnull, t.typdefault,
                  (SELECT string_agg(quote_literal(e.enumlabel), ',' ORDER BY e.enumsortorder)
                     FROM pg_enum e WHERE e.enumtypid = t.oid),
                  obj_description(t.oid, 'pg_type'))
      FROM typ t
    UNION ALL
    SELECT format('%s: constraint %I: %s%s', t.what, c.conname, pg_get_constraintdef(c.oid),
                  CASE WHEN c.convalidated THEN '' ELSE ' (NOT VALIDATED)' END)
      FROM typ t JOIN pg_constraint c ON c.contypid = t.oid
    -- privileges recorded as the extension's initial ones (pg_dump relies on them)
    UNION ALL
    SELECT format('%s: initial privileges%s %s',
                  m.what, CASE WHEN ip.objsubid <> 0 THEN ' of column ' || quote_ident(a.attname) ELSE '' END,
                  ip.initprivs)
      FROM member m
      JOIN pg_init_privs ip ON ip.classoid = m.classid AND ip.objoid = m.objid
      LEFT JOIN pg_attribute a ON m.classid = 'pg_class'::regclass AND a.attrelid = m.objid AND a.attnum = ip.objsubid
    -- pg_extension_config_dump entries
    UNION ALL
    SELECT format('extension chronicle: config dump %s where %L', cfg::regclass, cond)
      FROM ext, unnest(ext.extconfig, ext.extcondition) AS c(cfg, cond)
    UNION ALL
    SELECT format('%s: row %s', r.what, row_text)
      FROM rel r, ext, pg_temp.definition_rows(r.oid) AS row_text
     WHERE r.relkind = 'r' AND NOT r.oid = ANY (COALESCE(ext.extconfig, '{}'))
)
SELECT text FROM line ORDER BY text COLLATE "C";

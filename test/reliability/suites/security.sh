# Security (doc/sql-reference.md, "The extension", "Privileges"):
# - hostile search_path: objects planted in public that would capture an
#   unqualified name are never called by CREATE EXTENSION, ALTER EXTENSION
#   UPDATE, pending_migration_steps' DDL, the triggers and the functions;
# - SECURITY DEFINER functions are pinned to search_path = pg_catalog, pg_temp;
# - a real non-superuser application role writes users and posts, is audited,
#   and cannot write, truncate or bypass the audit log; PUBLIC grants minimal.
source "$REL/lib.sh"
db=$(db_name security)
role=rel_app_$$
trap 'stop_clusters; drop_db $db; q -d postgres -c "DROP ROLE IF EXISTS $role" >/dev/null 2>&1' EXIT

q -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null
# ---------------------------------------------------------------------------
# The traps. Every planted function records its call in public.trap_calls and
# then answers correctly (so a captured call does not fail the statement and
# hide itself). Planted before the extension exists.
# ---------------------------------------------------------------------------
q -d "$db" >/dev/null <<'SQL'
CREATE TABLE public.trap_calls (name text, query text);
GRANT INSERT ON public.trap_calls TO PUBLIC;
CREATE FUNCTION public.trap(n text) RETURNS void LANGUAGE sql
  AS $$ INSERT INTO public.trap_calls VALUES (n, pg_catalog.current_query()) $$;
-- Functions: more exact argument types than pg_catalog's (captures whatever the
-- path order), or the same signature (captures when public comes first).
CREATE FUNCTION public.length(varchar) RETURNS int LANGUAGE plpgsql
  AS $$ BEGIN PERFORM public.trap('length(varchar)'); RETURN pg_catalog.length($1::text); END $$;
CREATE FUNCTION public.lower(varchar) RETURNS text LANGUAGE plpgsql
  AS $$ BEGIN PERFORM public.trap('lower(varchar)'); RETURN pg_catalog.lower($1::text); END $$;
CREATE FUNCTION public.upper(varchar) RETURNS text LANGUAGE plpgsql
  AS $$ BEGIN PERFORM public.trap('upper(varchar)'); RETURN pg_catalog.upper($1::text); END $$;
CREATE FUNCTION public.gen_random_uuid() RETURNS uuid LANGUAGE plpgsql
  AS $$ BEGIN PERFORM public.trap('gen_random_uuid()'); RETURN pg_catalog.gen_random_uuid(); END $$;
CREATE FUNCTION public.now() RETURNS timestamptz LANGUAGE plpgsql
  AS $$ BEGIN PERFORM public.trap('now()'); RETURN pg_catalog.now(); END $$;
CREATE FUNCTION public.to_jsonb(anyelement) RETURNS jsonb LANGUAGE plpgsql
  AS $$ BEGIN PERFORM public.trap('to_jsonb'); RETURN pg_catalog.to_jsonb($1); END $$;
CREATE FUNCTION public.row_to_json(record) RETURNS json LANGUAGE plpgsql
  AS $$ BEGIN PERFORM public.trap('row_to_json'); RETURN pg_catalog.row_to_json($1); END $$;
CREATE FUNCTION public.current_setting(text) RETURNS text LANGUAGE plpgsql
  AS $$ BEGIN PERFORM public.trap('current_setting(text)'); RETURN pg_catalog.current_setting($1); END $$;
CREATE FUNCTION public.current_setting(text, boolean) RETURNS text LANGUAGE plpgsql
  AS $$ BEGIN PERFORM public.trap('current_setting(text,bool)'); RETURN pg_catalog.current_setting($1, $2); END $$;
CREATE FUNCTION public.inet_client_addr() RETURNS inet LANGUAGE plpgsql
  AS $$ BEGIN PERFORM public.trap('inet_client_addr()'); RETURN pg_catalog.inet_client_addr(); END $$;
CREATE FUNCTION public.nextval(regclass) RETURNS bigint LANGUAGE plpgsql
  AS $$ BEGIN PERFORM public.trap('nextval'); RETURN pg_catalog.nextval($1); END $$;
CREATE FUNCTION public.array_append(anyarray, anyelement) RETURNS anyarray LANGUAGE plpgsql
  AS $$ BEGIN PERFORM public.trap('array_append'); RETURN pg_catalog.array_append($1, $2); END $$;
CREATE FUNCTION public.count(anyelement) RETURNS bigint LANGUAGE plpgsql
  AS $$ BEGIN PERFORM public.trap('count(anyelement)'); RETURN 0; END $$;
CREATE FUNCTION public.coalesce(anyelement, anyelement) RETURNS anyelement LANGUAGE plpgsql
  AS $$ BEGIN PERFORM public.trap('coalesce'); RETURN $1; END $$;

-- Operators on the types chronicle compares, each recording its call.
DO $do$
DECLARE
  spec text[];
  ops text[][] := ARRAY[
    ['=', 'varchar', 'varchar', 'texteq'], ['=', 'text', 'text', 'texteq'],
    ['<>', 'varchar', 'text', 'textne'], ['<>', 'varchar', 'varchar', 'textne'],
    ['=', 'varchar', 'text', 'texteq'], ['=', 'uuid', 'uuid', 'uuid_eq'],
    ['<', 'uuid', 'uuid', 'uuid_lt'], ['>', 'uuid', 'uuid', 'uuid_gt'],
    ['~*', 'varchar', 'text', 'texticregexeq'], ['>=', 'integer', 'integer', 'int4ge'],
    ['<', 'integer', 'integer', 'int4lt'], ['>', 'integer', 'integer', 'int4gt'],
    ['+', 'integer', 'integer', 'int4pl'],
    ['>=', 'timestamp', 'timestamp', 'timestamp_ge'], ['<', 'timestamp', 'timestamp', 'timestamp_lt'],
    ['>', 'timestamp', 'timestamp', 'timestamp_gt'], ['=', 'timestamp', 'timestamp', 'timestamp_eq'],
    ['>=', 'timestamp', 'timestamptz', 'timestamp_ge_timestamptz'],
    ['-', 'timestamptz', 'interval', 'timestamptz_mi_interval'],
    ['-', 'timestamp', 'interval', 'timestamp_mi_interval'],
    ['=', 'jsonb', 'jsonb', 'jsonb_eq'], ['||', 'text', 'text', 'textcat'],
    ['->>', 'jsonb', 'text', 'jsonb_object_field_text'], ['=', 'name', 'name', 'nameeq'],
    ['=', 'regclass', 'regclass', 'oideq'], ['=', 'oid', 'oid', 'oideq']];
  rettype text;
BEGIN
  FOREACH spec SLICE 1 IN ARRAY ops LOOP
    SELECT pg_catalog.format_type(p.prorettype, NULL) INTO rettype
      FROM pg_catalog.pg_proc p WHERE p.oid = ('pg_catalog.' || spec[4])::regproc;
    EXECUTE pg_catalog.format(
      'CREATE FUNCTION public.trap_op_%s(%s, %s) RETURNS %s LANGUAGE plpgsql AS '
      '$f$ BEGIN PERFORM public.trap(%L); RETURN pg_catalog.%s($1, $2); END $f$',
      md5(spec[1] || spec[2] || spec[3]), spec[2], spec[3], rettype,
      'operator ' || spec[1] || '(' || spec[2] || ',' || spec[3] || ')', spec[4]);
    EXECUTE pg_catalog.format('CREATE OPERATOR public.%s (LEFTARG = %s, RIGHTARG = %s, FUNCTION = public.trap_op_%s)',
      spec[1], spec[2], spec[3], md5(spec[1] || spec[2] || spec[3]));
  END LOOP;
END
$do$;
-- Tables with the extension's names, where an unqualified name would land.
CREATE TABLE public.users (LIKE pg_catalog.pg_class);
CREATE TABLE public.posts (LIKE pg_catalog.pg_class);
CREATE TABLE public.audit_logs (id bigserial, table_name varchar, operation varchar, record_id uuid,
  user_id uuid, old_data jsonb, new_data jsonb, changed_fields text[], ip_address inet,
  user_agent text, created_at timestamp);
CREATE SCHEMA app;
CREATE SCHEMA mine;
CREATE TABLE mine.notes (id uuid PRIMARY KEY, user_id uuid, body text);
SQL
trapped() { q -d "$db" -c "SELECT coalesce(string_agg(DISTINCT name || ' in: ' || left(query, 60), '; '), '') FROM public.trap_calls"; }
# hq: a session with the hostile path: public first, app not on the path at all.
# (Only statements under test run in it; the suite's own queries would call the
# traps themselves.)
hq() { PGOPTIONS='-c search_path=public,pg_catalog' q "$@"; }

# --- install (and update through every shipped step) under the hostile path ---
versions=$(q -d "$db" -c "SELECT string_agg(version, ' ' ORDER BY version) FROM pg_available_extension_versions WHERE name = 'chronicle'")
oldest=${versions%% *}
if out=$(hq -d "$db" -c "CREATE EXTENSION chronicle SCHEMA app VERSION '$oldest'" 2>&1); then
  pass security.search_path.create_extension_succeeds
else fail security.search_path.create_extension_succeeds "$out"; fi
check_eq security.search_path.create_extension_calls_no_planted_object "" "$(trapped)" "planted objects called"
# Several versions are shipped: every update and downgrade step runs here.
check_eq security.search_path.several_versions_shipped "yes" "$([[ "$versions" == *" "* ]] && echo yes || echo "no: $versions")"
q -d "$db" -c "TRUNCATE public.trap_calls" >/dev/null
if out=$(hq -d "$db" -c "ALTER EXTENSION chronicle UPDATE" 2>&1); then
  pass security.search_path.alter_extension_update_succeeds
else fail security.search_path.alter_extension_update_succeeds "$out"; fi
check_eq security.search_path.alter_extension_update_calls_no_planted_object "" "$(trapped)" "planted objects called"
# Down to the oldest version and up again, still under the hostile path.
q -d "$db" -c "TRUNCATE public.trap_calls" >/dev/null
if out=$(hq -d "$db" -c "SET chronicle.allow_data_loss = on" -c "ALTER EXTENSION chronicle UPDATE TO '$oldest'" \
           -c "ALTER EXTENSION chronicle UPDATE" 2>&1); then
  pass security.search_path.downgrade_and_upgrade_succeed
else fail security.search_path.downgrade_and_upgrade_succeed "$out"; fi
check_eq security.search_path.downgrade_and_upgrade_call_no_planted_object "" "$(trapped)" "planted objects called"
q -d "$db" -c "TRUNCATE public.trap_calls" >/dev/null
# As a DBA runs it: SELECT ddl FROM pending_migration_steps() \gexec
if out=$(echo 'SELECT ddl FROM app.pending_migration_steps() \gexec' | hq -d "$db" 2>&1); then
  pass security.search_path.pending_migration_steps_run
else fail security.search_path.pending_migration_steps_run "$out"; fi
check_eq security.search_path.pending_migration_steps_acts_on_extension_tables "0" \
  "$(q -d "$db" -c "SELECT count(*) FROM pg_catalog.pg_index WHERE indrelid IN ('public.users'::regclass, 'public.posts'::regclass)")" \
  "indexes built on the planted tables"
check_eq security.search_path.pending_migration_steps_call_no_planted_object "" "$(trapped)" "planted objects called"

# --- the triggers and the functions, under the hostile path ---
q -d "$db" -c "TRUNCATE public.trap_calls" >/dev/null
errors=()
run() { local o; o=$(hq -d "$db" "$@" 2>&1) || errors+=("$o"); }
# Our own statements qualify every operator, so that any trap call comes from chronicle.
run <<'SQL'
SET chronicle.actor_id = '00000000-0000-0000-0000-00000000000a';
SET chronicle.client_ip = '192.0.2.1';
SET chronicle.user_agent = 'hostile-test';
INSERT INTO app.users (id, email, name, password_hash) VALUES
  ('00000000-0000-0000-0000-000000000001', 'a@example.com', 'Alice', 'h'),
  ('00000000-0000-0000-0000-000000000002', 'b@example.com', 'Bob', 'h');
INSERT INTO app.posts (id, user_id, title, content, status) VALUES
  ('00000000-0000-0000-0000-0000000000a1', '00000000-0000-0000-0000-000000000001', 'One', 'x', 'published'),
  ('00000000-0000-0000-0000-0000000000a2', '00000000-0000-0000-0000-000000000001', 'Two', 'y', 'draft'),
  ('00000000-0000-0000-0000-0000000000a3', '00000000-0000-0000-0000-000000000002', 'Three', 'z', 'draft');
UPDATE app.posts SET status = 'published' WHERE id OPERATOR(pg_catalog.=) '00000000-0000-0000-0000-0000000000a2'::uuid;
UPDATE app.posts SET title = 'Two!' WHERE id OPERATOR(pg_catalog.=) '00000000-0000-0000-0000-0000000000a2'::uuid;
UPDATE app.posts SET status = 'archived' WHERE id OPERATOR(pg_catalog.=) '00000000-0000-0000-0000-0000000000a2'::uuid;
UPDATE app.users SET name = 'Alicia' WHERE id OPERATOR(pg_catalog.=) '00000000-0000-0000-0000-000000000001'::uuid;
DELETE FROM app.posts WHERE id OPERATOR(pg_catalog.=) '00000000-0000-0000-0000-0000000000a3'::uuid;
SQL
u1="'00000000-0000-0000-0000-000000000001'::uuid"
run -c "SELECT * FROM app.get_user_posts($u1)" -c "SELECT * FROM app.get_user_posts($u1, NULL, 5, 1)"
run -c "SELECT app.increment_post_views('00000000-0000-0000-0000-0000000000a1'::uuid, 3)"
run -c "SELECT * FROM app.get_popular_posts(7, 10)"
run <<<"SELECT next_cursor FROM app.get_user_posts_keyset($u1, NULL, 1) LIMIT 1 \\gset
SELECT * FROM app.get_user_posts_keyset($u1, NULL, 1, :'next_cursor');"
run -c "SELECT app.enable_audit('mine.notes'::regclass, '{ignore=body}')" \
    -c "INSERT INTO mine.notes VALUES ('00000000-0000-0000-0000-0000000000f1', $u1, 'n')" \
    -c "UPDATE mine.notes SET body = 'm'" -c "DELETE FROM mine.notes" \
    -c "SELECT app.disable_audit('mine.notes'::regclass)"
run -c "SELECT app.soft_delete_user('00000000-0000-0000-0000-000000000002'::uuid, $u1)"
exercised=(triggers get_user_posts increment_post_views get_popular_posts get_user_posts_keyset enable_audit disable_audit soft_delete_user)
figure "exercised under the hostile search_path: ${exercised[*]}"
if [[ ${#errors[@]} -eq 0 ]]; then pass security.search_path.writes_and_functions_succeed
else fail security.search_path.writes_and_functions_succeed "${errors[*]}"; fi
check_eq security.search_path.triggers_and_functions_call_no_planted_object "" "$(trapped)" "planted objects called"
check_eq security.search_path.planted_tables_untouched "0,0,0" \
  "$(q -d "$db" -c "SELECT (SELECT count(*) FROM public.users) || ',' || (SELECT count(*) FROM public.posts) || ',' || (SELECT count(*) FROM public.audit_logs)")"
check_eq security.search_path.audit_rows_in_extension_schema "7" \
  "$(q -d "$db" -c "SELECT count(*) FROM app.audit_logs WHERE table_name OPERATOR(pg_catalog.=) 'posts'::varchar AND user_agent OPERATOR(pg_catalog.=) 'hostile-test'::text AND operation::text OPERATOR(pg_catalog.<>) 'x'::text AND record_id::text OPERATOR(pg_catalog.~~) '00000000-0000-0000-0000-0000000000a%'")" \
  "audit rows of the 3 inserts, 3 updates and 1 delete:"
# The traps work: the same unqualified calls from a client are captured. (Without
# this, a broken trap would make every check above pass.)
hq -d "$db" -c "TRUNCATE public.trap_calls" -c "SELECT length('x'::varchar), lower('X'::varchar), gen_random_uuid()" \
  -c "SELECT 'a'::varchar = 'a'::varchar" >/dev/null
check_eq security.search_path.traps_are_armed "=(varchar,varchar), gen_random_uuid(), length(varchar), lower(varchar)" \
  "$(q -d "$db" -c "SELECT string_agg(DISTINCT replace(name, 'operator ', ''), ', ' ORDER BY replace(name, 'operator ', '')) FROM public.trap_calls")"

# ---------------------------------------------------------------------------
# SECURITY DEFINER functions are pinned.
# ---------------------------------------------------------------------------
members="SELECT p.oid FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'chronicle'
         JOIN pg_proc p ON p.oid = d.objid AND d.classid = 'pg_proc'::regclass WHERE d.deptype = 'e'"
figure "functions: $(q -d "$db" -c "SELECT count(*) || ' (' || count(*) FILTER (WHERE prosecdef) || ' SECURITY DEFINER)' FROM pg_proc WHERE oid IN ($members)")"
check_eq security.security_definer_pinned "" "$(q -d "$db" -c "
  SELECT coalesce(string_agg(oid::regprocedure::text || ' ' || coalesce(array_to_string(proconfig, ';'), 'no SET'), ', '), '')
  FROM pg_proc WHERE oid IN ($members) AND prosecdef
    AND NOT coalesce('search_path=pg_catalog, pg_temp' = ANY (proconfig), false)")" "unpinned"
# Functions written in SQL or PL/pgSQL resolve names at run time; each must pin its
# search_path (a C function names its objects itself).
check_eq security.interpreted_functions_pinned "" "$(q -d "$db" -c "
  SELECT coalesce(string_agg(p.oid::regprocedure::text, ', '), '')
  FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
  WHERE p.oid IN ($members) AND l.lanname IN ('sql', 'plpgsql')
    AND NOT coalesce(EXISTS (SELECT FROM unnest(p.proconfig) c WHERE c LIKE 'search\_path=%'), false)")" "unpinned"

# ---------------------------------------------------------------------------
# PUBLIC grants minimal.
# ---------------------------------------------------------------------------
check_eq security.public_has_no_write_on_tables_or_sequences "" "$(q -d "$db" -c "
  SELECT coalesce(string_agg(c.oid::regclass::text || ':' || a.privilege_type, ', '), '')
  FROM pg_class c, aclexplode(c.relacl) a
  WHERE c.relnamespace = 'app'::regnamespace AND a.grantee = 0
    AND a.privilege_type IN ('INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'USAGE', 'REFERENCES', 'TRIGGER')")" "PUBLIC privileges"
figure "SECURITY DEFINER functions PUBLIC may execute: $(q -d "$db" -c "SELECT coalesce(string_agg(p.oid::regprocedure::text, ', '), 'none') FROM pg_proc p WHERE p.oid IN ($members) AND p.prosecdef AND (p.proacl IS NULL OR EXISTS (SELECT FROM aclexplode(p.proacl) a WHERE a.grantee = 0))")"

# ---------------------------------------------------------------------------
# A real application role: USAGE on the schema, DML on users and posts.
# ---------------------------------------------------------------------------
q -d "$db" >/dev/null <<SQL
SET client_min_messages = warning;
DROP SCHEMA public CASCADE;          -- no traps for the role's session
CREATE SCHEMA public;
CREATE ROLE $role LOGIN;
GRANT USAGE ON SCHEMA app TO $role;
GRANT SELECT, INSERT, UPDATE, DELETE ON app.users, app.posts TO $role;
SQL
as_app=(-U "$role")
before=$(q -d "$db" -c "SELECT count(*) FROM app.audit_logs")
out=$(q -d "$db" "${as_app[@]}" 2>&1 <<'SQL'
SET search_path = app;
INSERT INTO users (id, email, name, password_hash) VALUES ('00000000-0000-0000-0000-0000000000c1', 'c@example.com', 'Carol', 'h');
INSERT INTO posts (id, user_id, title, content, status) VALUES ('00000000-0000-0000-0000-0000000000c2', '00000000-0000-0000-0000-0000000000c1', 'Mine', 'x', 'published');
UPDATE posts SET title = 'Mine, edited' WHERE id = '00000000-0000-0000-0000-0000000000c2';
DELETE FROM posts WHERE id = '00000000-0000-0000-0000-0000000000c2';
UPDATE users SET name = 'Caroline' WHERE id = '00000000-0000-0000-0000-0000000000c1';
SQL
) && pass security.app_role.writes_users_and_posts || fail security.app_role.writes_users_and_posts "$out"
check_eq security.app_role.changes_are_audited "INSERT,UPDATE,DELETE" "$(q -d "$db" -c "
  SELECT string_agg(operation, ',' ORDER BY id) FROM app.audit_logs
  WHERE id > $before AND record_id = '00000000-0000-0000-0000-0000000000c2'")"
log_before=$(q -d "$db" -c "SELECT count(*) || ',' || md5(string_agg(t::text, '|' ORDER BY id)) FROM app.audit_logs t")
expect_state security.app_role.cannot_insert_audit_logs "$db" 42501 \
  "INSERT INTO app.audit_logs (table_name, operation) VALUES ('posts', 'INSERT')" "${as_app[@]}"
expect_state security.app_role.cannot_update_audit_logs "$db" 42501 "UPDATE app.audit_logs SET user_agent = 'forged'" "${as_app[@]}"
expect_state security.app_role.cannot_delete_audit_logs "$db" 42501 "DELETE FROM app.audit_logs" "${as_app[@]}"
expect_state security.app_role.cannot_truncate_audit_logs "$db" 42501 "TRUNCATE app.audit_logs" "${as_app[@]}"
expect_state security.app_role.cannot_advance_audit_sequence "$db" 42501 "SELECT nextval('app.audit_logs_id_seq')" "${as_app[@]}"
expect_state security.app_role.cannot_set_audit_sequence "$db" 42501 "SELECT setval('app.audit_logs_id_seq', 1)" "${as_app[@]}"
expect_state security.app_role.cannot_disable_triggers "$db" 42501 "ALTER TABLE app.posts DISABLE TRIGGER ALL" "${as_app[@]}"
expect_state security.app_role.cannot_skip_triggers_as_replica "$db" 42501 "SET session_replication_role = replica" "${as_app[@]}"
# disable_audit on a table the role does not own would turn auditing off.
expect_state security.app_role.cannot_disable_audit "$db" 42501 "SELECT app.disable_audit('app.posts'::regclass)" "${as_app[@]}"
expect_state security.app_role.cannot_enable_audit_on_others_tables "$db" 42501 "SELECT app.enable_audit('app.users'::regclass)" "${as_app[@]}"
# Refused either way: no EXECUTE (42501) or not called as a trigger (39P01).
got=$(error_of "$db" "SELECT app.audit_trigger_function()" "${as_app[@]}")
if [[ $got == 42501:* || $got == 39P01:* ]]; then pass security.app_role.cannot_call_trigger_directly
else fail security.app_role.cannot_call_trigger_directly "got '$got'"; fi
check_eq security.app_role.audit_log_unchanged_by_attempts "$log_before" \
  "$(q -d "$db" -c "SELECT count(*) || ',' || md5(string_agg(t::text, '|' ORDER BY id)) FROM app.audit_logs t")"
q -d "$db" -c "REVOKE ALL ON app.users, app.posts FROM $role" -c "REVOKE ALL ON SCHEMA app FROM $role" >/dev/null

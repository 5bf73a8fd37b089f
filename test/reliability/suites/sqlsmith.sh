# sqlsmith: random queries, random function arguments and
# random DML against a database with chronicle installed and audited tables, in
# a cluster of its own, bounded by --max-queries. Two runs: as an application
# role (USAGE + DML, the realistic caller) and as a superuser limited to
# non-catalog relations (every chronicle function reachable). Passes with zero
# backend crashes (the server log's "terminated by signal" / "exited with exit
# code"), sqlsmith never losing its connection, and the invariants intact after
# the random writes: post_counts exact, the audit replay unbroken.
source "$REL/lib.sh"
trap 'stop_clusters' EXIT
command -v sqlsmith >/dev/null || { fail sqlsmith.installed "sqlsmith not found (scripts/install-deps installs it)"; exit 0; }
queries=${SQLSMITH_QUERIES:-1000}
[[ $FULL == 1 ]] && queries=${SQLSMITH_QUERIES:-20000}
seed=${SQLSMITH_SEED:-$RANDOM}

cl=$(new_cluster -c track_functions=all) || { fail sqlsmith.setup "cannot start a cluster"; exit 0; }
source "$cl/env"
export PGDATABASE=smith
q -d postgres -c "CREATE DATABASE smith" >/dev/null
q -c "CREATE EXTENSION chronicle" >/dev/null
seed smith >/dev/null
role=smith_app
q >/dev/null <<SQL
CREATE TABLE public.notes (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), user_id uuid, body text, hits int DEFAULT 0);
CREATE TABLE public.tags (id bigserial PRIMARY KEY, note_id uuid, tag text);
INSERT INTO notes (user_id, body) SELECT id, 'note of ' || name FROM users;
INSERT INTO tags (note_id, tag) SELECT id, 'tag' FROM notes;
CREATE ROLE $role LOGIN;
GRANT USAGE ON SCHEMA public TO $role;
GRANT SELECT, INSERT, UPDATE, DELETE ON users, posts, notes, tags TO $role;
GRANT USAGE ON SEQUENCE tags_id_seq TO $role;
GRANT SELECT ON audit_logs TO $role;
SQL
out=$(q -c "SELECT enable_audit('notes', '{ignore=hits}')" -c "SELECT enable_audit('tags', '{mode=statement}')" 2>&1 >/dev/null)
check_eq sqlsmith.audit_enabled_on_random_targets "" "$out" "enable_audit on notes (row) and tags (statement):"
figure "audited tables: posts, notes (row), tags (statement); seed $seed; $queries queries per run"

port=$(port_of "$cl")
fn_calls() {
  q -c "SELECT f.funcname, f.calls FROM pg_stat_user_functions f
        JOIN pg_depend d ON d.objid = f.funcid AND d.classid = 'pg_proc'::regclass AND d.deptype = 'e'
        JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'chronicle' ORDER BY 1" | tr '|' ' '
}
sleep 1; fn_calls >"$WORK/calls.before"
smith() {  # NAME USER EXTRA-ARGS...
  local name=$1 user=$2; shift 2
  local t0=$SECONDS
  timeout 600 sqlsmith --target="host=$cl port=$port dbname=smith user=$user options='-c statement_timeout=2000'" \
    --max-queries="$queries" --seed="$seed" --verbose "$@" >"$WORK/$name.out" 2>&1
  local rc=$?
  local n errors
  n=$(grep -o 'queries: [0-9]*' "$WORK/$name.out" | tail -1 | grep -o '[0-9]*')
  echo "${n:-0}" >>"$WORK/smith.queries"
  errors=$(grep -o '^[e.]*$' "$WORK/$name.out" | tr -d '\n.' | wc -c)
  figure "$name: ${n:-?} queries ($errors failed with an SQL error, as random SQL does), exit $rc, $((SECONDS - t0)) s"
  if [[ $rc -eq 0 ]]; then pass "sqlsmith.$name.completes"
  else fail "sqlsmith.$name.completes" "exit $rc: $(grep -iE 'connection|terminat|fatal' "$WORK/$name.out" | head -3 | tr '\n' ' ')"; fi
  # A run that connects and stops early (or never starts) also "completes":
  # the run must have sent every query it was asked for.
  check_eq "sqlsmith.$name.ran_every_query" "$queries" "${n:-0}" "queries sqlsmith reports having sent:"
}
smith as_application_role "$role"
smith as_superuser postgres --exclude-catalog

figure "sqlsmith total: $(awk '{ s += $1 } END { print s }' "$WORK/smith.queries") queries"
# Which of chronicle's functions the random queries reached (statistics flush
# when a session ends; sqlsmith's sessions have ended).
sleep 1; fn_calls >"$WORK/calls.after"
figure "chronicle functions the random queries called: $(join -a2 -e 0 -o 0,1.2,2.2 "$WORK/calls.before" "$WORK/calls.after" |
  awk '$3 > $2 { printf "%s%s %d", sep, $1, $3 - $2; sep = ", " } END { if (!sep) print "none" }')"

# sqlsmith rarely calls set-returning functions with sensible arguments: every
# chronicle function is also called here with arguments drawn from pools of
# NULLs, extremes, random and existing values. Allowed outcomes: success or one
# of the contract's errors.
python3 - "$queries" >"$WORK/calls.sql" <<'PY'
import random, sys
random.seed(7)
n = int(sys.argv[1])
uuids = ["NULL", "gen_random_uuid()", "(SELECT id FROM users ORDER BY random() LIMIT 1)",
         "(SELECT user_id FROM posts ORDER BY random() LIMIT 1)", "(SELECT id FROM posts ORDER BY random() LIMIT 1)",
         "'00000000-0000-0000-0000-000000000000'", "'ffffffff-ffff-ffff-ffff-ffffffffffff'"]
ints = ["NULL", "0", "1", "-1", "7", "10", "100", "2147483647", "-2147483648", "(random() * 50)::int"]
texts = ["NULL", "'published'", "'draft'", "'archived'", "''", "repeat('x', 10000)", "'Published'", "'%'", "'it''s'"]
cursors = ["NULL", "''", "'x'", "repeat('A', 67)", "(SELECT next_cursor FROM get_user_posts_keyset((SELECT user_id FROM posts LIMIT 1), NULL, 1) LIMIT 1)",
           "left((SELECT next_cursor FROM get_user_posts_keyset((SELECT user_id FROM posts LIMIT 1), NULL, 1) LIMIT 1), 66) || 'B'"]
calls = [
  lambda: f"SELECT count(*) FROM get_user_posts({random.choice(uuids)}, {random.choice(texts)}, {random.choice(ints)}, {random.choice(ints)});",
  lambda: f"SELECT count(*) FROM get_user_posts_keyset({random.choice(uuids)}, {random.choice(texts)}, {random.choice(ints)}, {random.choice(cursors)});",
  lambda: f"SELECT count(*) FROM get_popular_posts({random.choice(ints)}, {random.choice(ints)});",
  lambda: f"SELECT increment_post_views({random.choice(uuids)}, {random.choice(ints)});",
  lambda: f"SELECT soft_delete_user({random.choice(uuids)}, {random.choice(uuids)});",
]
for _ in range(n):
    print(random.choice(calls)())
PY
psql -X -qAt -v VERBOSITY=verbose -v ON_ERROR_STOP=0 -f "$WORK/calls.sql" >/dev/null 2>"$WORK/calls.err"
psql_rc=$?
codes=$(sed -n 's/^.*ERROR:  \([0-9A-Z]\{5\}\):.*/\1/p' "$WORK/calls.err" | sort | uniq -c | awk '{ printf "%s %s, ", $2, $1 }')
figure "random calls: $queries, errors by SQLSTATE: ${codes:-none}"
unexpected=$(sed -n 's/^.*ERROR:  \([0-9A-Z]\{5\}\):.*/\1/p' "$WORK/calls.err" | grep -v -E '^(22004|22023|22P02|P0002|22003|22008)$' | sort -u | tr '\n' ' ')
check_eq sqlsmith.random_function_calls_only_contract_errors "" "$unexpected" "unexpected SQLSTATEs:"
check_eq sqlsmith.random_function_calls_session_survives 0 "$psql_rc" "psql exit status:"
crashes=$(server_crashes "$cl/server.log")
check_eq sqlsmith.no_backend_crash 0 "$crashes" "crashes in the server log:"
[[ $crashes != 0 ]] && grep -E -B2 'terminated by signal|exited with exit code|PANIC' "$cl/server.log" | head -20 | sed 's/^/     | /'
check_post_counts sqlsmith.post_counts_exact_after_random_dml smith
read -r rows chain final < <(audit_replay)
check_eq sqlsmith.audit_replay_after_random_dml "0 0" "$chain $final" "broken chains / final states:"
figure "audit rows after the runs: $rows (posts)"

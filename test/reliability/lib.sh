# Shared helpers for the reliability suites (sourced, never run).
#
# Protocol: a suite prints one line per named test, "PASS name" or "FAIL name: why",
# plus indented figure lines. There is no SKIP: a feature the suite needs and
# does not find is a FAIL. test/reliability/run counts those lines against
# expected_counts; a suite never decides the exit code.
#
# Environment from run: ROOT (the checkout), REL (this directory), WORK (a scratch
# directory removed by run), FULL (1 for --full), PGHOST/PGPORT/PGUSER of a running
# cluster that has chronicle's files installed.

pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: ${2:-failed}"; }
figure() { echo "     $*"; }

# check NAME EXPECTED ACTUAL [what]: PASS when equal, else FAIL showing both.
check_eq() {
  if [[ "$2" == "$3" ]]; then pass "$1"; else fail "$1" "${4:-expected} '$2', got '$3'"; fi
}

# psql, quiet, unaligned, stop at the first error.
q() { psql -X -qAt -v ON_ERROR_STOP=1 "$@"; }

# The server runs as postgres when we are root (scripts/cluster does the same).
as_server_user() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# PostgreSQL's server programs (pg_ctl, postgres, pg_basebackup) are never on
# Debian's PATH: always call them through this directory.
PGBIN_DIR=$("${PG_CONFIG:-pg_config}" --bindir 2>/dev/null)
[[ -x "$PGBIN_DIR/pg_ctl" ]] || PGBIN_DIR=/usr/lib/postgresql/15/bin

# new_cluster [settings...]: starts a throwaway cluster, prints its directory.
# Every cluster started here is stopped by stop_clusters (run from the suite's trap).
new_cluster() {
  local dir
  dir=$(mktemp -d "${TMPDIR:-/tmp}/chronicle-rel-XXXXXX")
  echo "$dir" >>"$WORK/clusters"
  "$ROOT/scripts/cluster" start "$dir" "$@" >/dev/null || return 1
  echo "$dir"
}
stop_clusters() {
  [[ -f "$WORK/clusters" ]] || return 0
  local dir
  while read -r dir; do "$ROOT/scripts/cluster" stop "$dir" >/dev/null 2>&1; done <"$WORK/clusters"
  : >"$WORK/clusters"
}
port_of() { sed -n "s/^export PGPORT='\(.*\)'/\1/p" "$1/env"; }

# on DIR cmd...: runs cmd against the cluster in DIR.
on() {
  local dir=$1; shift
  PGHOST=$dir PGPORT=$(port_of "$dir") PGUSER=postgres "$@"
}

# A database name unique to this run.
db_name() { echo "rel_$1_$$"; }

# fresh_db NAME [schema]: drops and creates NAME, installs chronicle in schema
# (default: public).
fresh_db() {
  local db=$1 schema=${2:-public}
  q -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null || return 1
  if [[ "$schema" == public ]]; then q -d "$db" -c "CREATE EXTENSION chronicle" >/dev/null
  else q -d "$db" -c "CREATE SCHEMA $schema" -c "CREATE EXTENSION chronicle SCHEMA $schema" >/dev/null; fi
}
drop_db() { q -d postgres -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" >/dev/null 2>&1; }

# seed DB [schema] [users] [posts]: users and posts with awkward text (quotes,
# backslashes, newlines, non-ASCII), every status, then updates and deletes so
# that audit_logs holds every operation. Also
# a few audit rows written by hand.
seed() {
  local db=$1 s=${2:-public} nu=${3:-20} np=${4:-200}
  q -d "$db" <<SQL
INSERT INTO $s.users (email, name, password_hash, email_verified)
SELECT 'user' || i || '@example.com', 'User ' || i || E' \u00e9\u00df "q" \\\\ ''x''', 'hash' || i, i % 2 = 0
FROM generate_series(1, $nu) AS i;
INSERT INTO $s.posts (user_id, title, content, status)
SELECT (SELECT id FROM $s.users ORDER BY email OFFSET (i % $nu) LIMIT 1),
       'Post ' || i, E'line one\nline "two" \\\\ \u2603 ' || repeat('x', i % 50),
       (ARRAY['draft', 'published', 'archived'])[1 + i % 3]
FROM generate_series(1, $np) AS i;
UPDATE $s.posts SET title = title || ' (edited)' WHERE title LIKE 'Post 1%';
UPDATE $s.posts SET status = 'published' WHERE status = 'draft' AND title LIKE 'Post 2%';
DELETE FROM $s.posts WHERE title LIKE 'Post 3%';
UPDATE $s.users SET deleted_at = CURRENT_TIMESTAMP WHERE email LIKE 'user1%';
INSERT INTO $s.audit_logs (table_name, operation, record_id, user_id, old_data, new_data,
                           changed_fields, ip_address, user_agent)
SELECT 'manual', 'UPDATE', gen_random_uuid(), NULL, jsonb_build_object('n', i, 's', E'a\\\\b'),
       jsonb_build_object('n', i + 1, 'u', E'\u00e9'), ARRAY['n'], '10.0.0.1', 'agent ' || i
FROM generate_series(1, 5) AS i;
SQL
}

# fingerprint DB [schema]: one line per table (and post_counts): name, row
# count, md5 of all rows.
fingerprint() {
  local db=$1 s=${2:-public}
  q -d "$db" -c "
    SELECT 'users', count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t.id), '')) FROM $s.users t
    UNION ALL SELECT 'posts', count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t.id), '')) FROM $s.posts t
    UNION ALL SELECT 'audit_logs', count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t.id), '')) FROM $s.audit_logs t
    UNION ALL SELECT 'post_counts', count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t.user_id, t.status), '')) FROM $s.post_counts t"
}

# server_crashes LOGFILE: number of backend crashes the server logged.
server_crashes() {
  grep -Ec 'terminated by signal|was terminated by|server process .* exited with exit code [^01]|PANIC' "$1" || true
}

# psql_error DB SQL [psql options...]: runs SQL; prints "ok" when psql exits 0,
# "SQLSTATE: message" of the error it raised, or, when psql failed without an
# ERROR (a backend that crashed or was killed prints none, only "server closed
# the connection unexpectedly"), "psql exit N: its first lines".
psql_error() {
  local db=$1 sql=$2; shift 2
  local out rc
  out=$(psql -X -qAt -v VERBOSITY=verbose -v ON_ERROR_STOP=1 -d "$db" "$@" -c "$sql" 2>&1 >/dev/null)
  rc=$?
  if [[ $rc -eq 0 ]]; then echo ok; return; fi
  if [[ $rc -ne 2 ]] && grep -q '^ERROR:  [0-9A-Z]\{5\}: ' <<<"$out"; then
    sed -n 's/^ERROR:  \([0-9A-Z]\{5\}\): \(.*\)/\1: \2/p' <<<"$out" | head -1
  else
    echo "psql exit $rc: $(head -3 <<<"$out" | tr '\n' ' ')"
  fi
}
# sqlstate_of DB SQL [psql options...]: the SQLSTATE the statement raised, "ok",
# or psql_error's "psql exit N: ..." when it failed without one.
sqlstate_of() {
  local got
  got=$(psql_error "$@")
  if [[ $got =~ ^[0-9A-Z]{5}: ]]; then echo "${got%%:*}"; else echo "$got"; fi
}
# error_of DB SQL [psql options...]: "SQLSTATE: message" of the error, "ok", or
# "psql exit N: ..." (see psql_error).
error_of() { psql_error "$@"; }
# expect_state NAME DB SQLSTATE SQL [psql options...]
expect_state() {
  local name=$1 db=$2 want=$3 sql=$4; shift 4
  local got
  got=$(error_of "$db" "$sql" "$@")
  if [[ "$got" == "$want"* ]]; then pass "$name"; else fail "$name" "expected $want, got '$got' for: $sql"; fi
}

# post_counts_drift DB [schema]: (user_id, status) groups where post_counts (a
# view over post_count_totals and post_count_deltas) differs from a count of posts.
post_counts_drift() {
  local s=${2:-public}
  q -d "$1" -c "SELECT count(*) FROM (SELECT user_id, status, count(*) AS n FROM $s.posts GROUP BY 1, 2) p
                FULL JOIN $s.post_counts c USING (user_id, status)
                WHERE p.n IS DISTINCT FROM c.post_count AND NOT (p.n IS NULL AND c.post_count = 0)" 2>&1
}
# check_post_counts NAME DB [schema]: PASS when post_counts is exact.
check_post_counts() {
  check_eq "$1" 0 "$(post_counts_drift "$2" "${3:-public}")" "(user_id, status) groups whose post_counts differs from posts:"
}

# The audit replay (see suites/crash.sh): prints "rows broken_chains bad_final"
# for table posts of the current database. When posts_audit_trigger skips an
# UPDATE that changes only the columns of its option not_an_edit= (1.2:
# view_count), those columns are left out of the comparison: a change of them
# alone is not audited. (encode(tgargs, 'escape') ends each argument in \000.)
audit_replay() {
  q -F ' ' "$@" <<'SQL'
WITH unaudited AS (
  SELECT coalesce(array_agg(btrim(c)), '{}') AS cols
  FROM pg_trigger t,
       unnest(string_to_array(encode(t.tgargs, 'escape'), '\000')) AS arg,
       unnest(string_to_array(substring(arg FROM '^\s*not_an_edit\s*=(.*)$'), ',')) AS c
  WHERE t.tgname = 'posts_audit_trigger' AND t.tgrelid = 'posts'::regclass),
stripped AS (
  SELECT l.id, l.record_id, l.operation, l.old_data - u.cols AS old_data, l.new_data - u.cols AS new_data
  FROM audit_logs l, unaudited u WHERE l.table_name = 'posts'),
a AS (
  SELECT id, record_id, operation, old_data, new_data,
         lag(new_data) OVER w AS prev_new, lag(operation) OVER w AS prev_op, row_number() OVER w AS n
  FROM stripped
  WINDOW w AS (PARTITION BY record_id ORDER BY id)),
bad_chain AS (
  SELECT DISTINCT record_id FROM a
  WHERE (n = 1 AND (operation <> 'INSERT' OR old_data IS NOT NULL OR new_data IS NULL))
     OR (n > 1 AND (operation = 'INSERT' OR prev_op = 'DELETE' OR old_data IS DISTINCT FROM prev_new))),
last AS (SELECT DISTINCT ON (record_id) record_id, operation, new_data FROM a ORDER BY record_id, id DESC),
bad_final AS (
  SELECT coalesce(l.record_id, p.id) FROM last l FULL JOIN posts p ON p.id = l.record_id
  WHERE l.record_id IS NULL
     OR (l.operation = 'DELETE' AND p.id IS NOT NULL)
     OR (l.operation <> 'DELETE' AND (p.id IS NULL OR to_jsonb(p) - (SELECT cols FROM unaudited) <> l.new_data)))
SELECT (SELECT count(*) FROM a), (SELECT count(*) FROM bad_chain), (SELECT count(*) FROM bad_final);
SQL
}

#!/usr/bin/env bash
# The pgbench view of the audit trigger's cost: one client, synchronous_commit off,
# single-row UPDATEs and INSERTs of posts, per variant (none / reference PL/pgSQL /
# chronicle row mode / chronicle statement mode), interleaved, median TPS of reps.
#
#   bench/audit_pgbench.sh [seconds=15] [reps=3] [posts=20000]
#
# Needs a running cluster (PGHOST/PGPORT/PGUSER, a superuser) with chronicle
# installed; creates and drops the database chronicle_audit_pgbench. The variants
# are set up as in bench/audit_cost.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-15}
reps=${2:-3}
posts=${3:-20000}
db=chronicle_audit_pgbench
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning -c synchronous_commit=off"
psql=(psql -X -q -v ON_ERROR_STOP=1 -d "$db")
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
trap 'psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db"' EXIT
work=$(mktemp -d /tmp/audit-pgbench-XXXXXX)

"${psql[@]}" <<SQL
-- 1.1: the 1.0 audit_logs indexes (both GINs); 1.2 drops them on a small table.
CREATE EXTENSION chronicle VERSION '1.1';
$(cat bench/reference/audit_function.sql)
INSERT INTO users (email, name, password_hash)
SELECT 'user' || g || '@example.com', 'User ' || g, repeat('h', 60) FROM generate_series(1, 100) g;
INSERT INTO posts (user_id, title, content, status)
SELECT u.ids[1 + g % 100], 'Post ' || g, repeat('lorem ipsum dolor sit amet ', 9) || g, 'published'
FROM generate_series(1, $posts) g, (SELECT array_agg(id ORDER BY email) AS ids FROM users) u;
CREATE TABLE bench_ids AS SELECT row_number() OVER (ORDER BY id) AS n, id FROM posts;
CREATE UNIQUE INDEX ON bench_ids (n);
VACUUM ANALYZE;
SQL
cat >"$work/update.sql" <<SQL
\\set n random(1, $posts)
UPDATE posts SET title = 'Post edited ' || :n, content = content WHERE id = (SELECT id FROM bench_ids WHERE n = :n);
SQL
cat >"$work/insert.sql" <<'SQL'
INSERT INTO posts (user_id, title, content) SELECT user_id, 'New post', 'Some content of a new post' FROM posts LIMIT 1;
SQL

set_variant() {
  "${psql[@]}" -c "SELECT disable_audit('posts')" -c "DROP TRIGGER IF EXISTS posts_audit_trigger ON posts" >/dev/null
  case $1 in
    reference) "${psql[@]}" -c "CREATE TRIGGER posts_audit_trigger AFTER INSERT OR UPDATE OR DELETE ON posts FOR EACH ROW EXECUTE FUNCTION reference_audit_trigger_function()" ;;
    row) "${psql[@]}" -c "SELECT enable_audit('posts')" >/dev/null ;;
    statement) "${psql[@]}" -c "SELECT enable_audit('posts', '{mode=statement}')" >/dev/null ;;
  esac
  "${psql[@]}" -c "CHECKPOINT"
}
tps() { pgbench -n -c 1 -T "$seconds" -f "$work/$2.sql" "$db" 2>/dev/null | sed -n 's/^tps = \([0-9.]*\).*/\1/p'; }

variants=(none reference row statement)
declare -A samples
for ((r = 1; r <= reps; r++)); do
  for v in "${variants[@]}"; do
    set_variant "$v"
    u=$(tps "$v" update); i=$(tps "$v" insert)
    samples[$v,update]+="$u "; samples[$v,insert]+="$i "
    echo "rep $r $v: update $u tps, insert $i tps" >&2
  done
done
median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
echo "pgbench, 1 client, synchronous_commit off, ${seconds}s x $reps (median tps; us/tx above none)"
printf '%-10s %12s %12s %14s %14s\n' variant update_tps insert_tps update_us_tx insert_us_tx
declare -A med
for v in "${variants[@]}"; do for op in update insert; do med[$v,$op]=$(echo "${samples[$v,$op]}" | median); done; done
for v in "${variants[@]}"; do
  printf '%-10s %12.0f %12.0f %14.1f %14.1f\n' "$v" "${med[$v,update]}" "${med[$v,insert]}" \
    "$(echo "1000000 / ${med[$v,update]} - 1000000 / ${med[none,update]}" | bc -l)" \
    "$(echo "1000000 / ${med[$v,insert]} - 1000000 / ${med[none,insert]}" | bc -l)"
done
rm -rf "$work"

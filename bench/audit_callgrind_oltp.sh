#!/usr/bin/env bash
# The OLTP view in instructions (what pgbench shows, without the noise of a shared
# machine): N single-row UPDATEs then N single-row INSERTs of posts, each its own
# transaction, in one single-user backend per variant under callgrind (counting
# inside PortalRun). Variants as in bench/audit_cost.sh; chronicle 1.1 (both GINs).
#
#   bench/audit_callgrind_oltp.sh [n=300]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-300}
dir=$(mktemp -d /tmp/audit-cg1-XXXXXX)
scripts/cluster start "$dir" >/dev/null
source "$dir/env"
export PGOPTIONS="-c client_min_messages=warning"
as_server() { if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }
declare -A ir
for v in none reference row statement; do
  psql -X -q -d postgres -c "CREATE DATABASE s_$v"
  psql -X -q -v ON_ERROR_STOP=1 -d "s_$v" >/dev/null <<SQL
CREATE EXTENSION chronicle VERSION '1.1';
$(cat bench/reference/audit_function.sql)
INSERT INTO users (email, name, password_hash) SELECT 'user' || g || '@example.com', 'User ' || g, 'h' FROM generate_series(1, 10) g;
INSERT INTO posts (user_id, title, content, status) SELECT (SELECT id FROM users LIMIT 1), 'Post ' || g, repeat('lorem ipsum ', 20), 'published' FROM generate_series(1, 1000) g;
CREATE TABLE ids AS SELECT row_number() OVER (ORDER BY id) AS n, id FROM posts;
CREATE UNIQUE INDEX ON ids (n);
DROP TRIGGER posts_audit_trigger ON posts;
$(case $v in reference) echo "CREATE TRIGGER posts_audit_trigger AFTER INSERT OR UPDATE OR DELETE ON posts FOR EACH ROW EXECUTE FUNCTION reference_audit_trigger_function();";; row) echo "SELECT enable_audit('posts');";; statement) echo "SELECT enable_audit('posts', '{mode=statement}');";; esac)
VACUUM ANALYZE;
SQL
done
as_server "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
chmod 777 "$dir"
for v in none reference row statement; do
  { for i in $(seq 1 $n); do echo "UPDATE posts SET title = 'edited $i' WHERE id = (SELECT id FROM ids WHERE n = $((i % 1000 + 1)));"; done
    for i in $(seq 1 $n); do echo "INSERT INTO posts (user_id, title, content) SELECT user_id, 'new $i', 'content' FROM posts LIMIT 1;"; done; } |
    sed 's/$/\n/' > "$dir/s.sql"   # under -j a blank line ends a command: each statement its own transaction
  as_server valgrind --tool=callgrind --callgrind-out-file="$dir/cg.$v" --collect-atstart=no --toggle-collect=PortalRun \
    "$PGBIN/postgres" --single -j -D "$dir/data" "s_$v" < "$dir/s.sql" >/dev/null 2>"$dir/log.$v"
  ir[$v]=$(sed -n 's/^summary: //p; s/^totals: //p' "$dir/cg.$v" | head -1)
  echo "$v: ${ir[$v]} Ir for $n updates and $n inserts" >&2
done
echo "instructions per statement above none: reference $(( (ir[reference] - ir[none]) / (2 * n) )), row $(( (ir[row] - ir[none]) / (2 * n) )), statement $(( (ir[statement] - ir[none]) / (2 * n) )); callgrind files in $dir"

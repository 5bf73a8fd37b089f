#!/usr/bin/env bash
# Exact per-row cost of the audit triggers, in instructions (callgrind), immune to
# the noise of a shared machine; plus the profile of where a bulk UPDATE's audit
# cost goes. Variants as in bench/audit_cost.sh: none (the floor: the other posts
# triggers, no audit trigger), reference (the V004 PL/pgSQL function), row and
# statement (chronicle's native trigger in its two modes).
#
#   bench/audit_callgrind.sh [rows=20000] [gin=with|without|both] [outdir]
#
# Needs valgrind and the PostgreSQL binaries chronicle is installed in (PG_CONFIG /
# PATH, e.g. through scripts/pg-sandbox). Starts a throwaway cluster, loads one
# database per variant, stops it, then runs each measured statement in a
# single-user backend under callgrind, counting only inside PortalRun (the
# statement's execution with all its triggers; not parsing, planning or commit). Prints instructions per row above
# the floor; keeps the callgrind files in outdir for callgrind_annotate.
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-20000}
gins=${2:-both}
[[ $gins == both ]] && gins="with without"
out=${3:-$(mktemp -d /tmp/audit-callgrind-XXXXXX)}
mkdir -p "$out"
dir=$(mktemp -d /tmp/audit-cg-cluster-XXXXXX)
scripts/cluster start "$dir" >/dev/null
# shellcheck disable=SC1091
source "$dir/env"
stopped=false
cleanup() { $stopped && rm -rf "$dir" || scripts/cluster stop "$dir"; }
trap cleanup EXIT
export PGOPTIONS="-c client_min_messages=warning"
as_server() { if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }

variants=(none reference row statement)
for gin in $gins; do
  for v in "${variants[@]}"; do
    db=cg_${gin}_$v
    psql -X -q -d postgres -c "CREATE DATABASE $db"
    psql -X -q -v ON_ERROR_STOP=1 -d "$db" >/dev/null <<SQL
-- 1.1: the 1.0 audit_logs indexes (both GINs); 1.2 drops them on a small table.
CREATE EXTENSION chronicle VERSION '1.1';
$(cat bench/reference/audit_function.sql)
INSERT INTO users (email, name, password_hash)
SELECT 'user' || g || '@example.com', 'User ' || g, repeat('h', 60) FROM generate_series(1, 100) g;
DROP TRIGGER posts_audit_trigger ON posts;
$( [[ $gin == without ]] && echo "DROP INDEX idx_audit_old_data_gin, idx_audit_new_data_gin;" )
$(case $v in
  reference) echo "CREATE TRIGGER posts_audit_trigger AFTER INSERT OR UPDATE OR DELETE ON posts FOR EACH ROW EXECUTE FUNCTION reference_audit_trigger_function();" ;;
  row) echo "SELECT enable_audit('posts');" ;;
  statement) echo "SELECT enable_audit('posts', '{mode=statement}');" ;;
esac)
SQL
  done
done
as_server "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
stopped=true

insert_sql="INSERT INTO posts (user_id, title, content, status) SELECT u.ids[1 + g % 100], 'Post ' || g, repeat('lorem ipsum dolor sit amet ', 9) || g, CASE WHEN g % 5 = 0 THEN 'draft' ELSE 'published' END FROM generate_series(1, $rows) g, (SELECT array_agg(id ORDER BY email) AS ids FROM users) u;"
update_sql="UPDATE posts SET view_count = view_count + 1, title = title || '!';"
measure() {  # db step sql
  local file="$out/callgrind.$1.$2"
  echo "$3" | as_server valgrind --tool=callgrind --callgrind-out-file="$file" --collect-atstart=no \
    --toggle-collect=PortalRun "$PGBIN/postgres" --single -j -D "$dir/data" "$1" >/dev/null 2>"$file.log"
  as_server true
  sed -n 's/^summary: //p; s/^totals: //p' "$file" | head -1
}
chmod 777 "$out"
declare -A ir
for gin in $gins; do
  for v in "${variants[@]}"; do
    db=cg_${gin}_$v
    ir[$gin,$v,insert]=$(measure "$db" insert "$insert_sql")
    as_server "$PGBIN/postgres" --single -j -D "$dir/data" "$db" <<<"VACUUM ANALYZE posts;" >/dev/null 2>&1
    ir[$gin,$v,update]=$(measure "$db" update "$update_sql")
    echo "gin=$gin $v: insert ${ir[$gin,$v,insert]} Ir, update ${ir[$gin,$v,update]} Ir" >&2
  done
done

echo "rows=$rows; instructions per row above the floor (variant - none) / rows; callgrind files in $out"
printf '%-8s %-10s %16s %16s %10s %10s\n' gin variant insert_Ir/row update_Ir/row vs_ref_ins vs_ref_upd
for gin in $gins; do
  for v in "${variants[@]}"; do
    ins=$(( (ir[$gin,$v,insert] - ir[$gin,none,insert]) / rows ))
    upd=$(( (ir[$gin,$v,update] - ir[$gin,none,update]) / rows ))
    rins=$(( ir[$gin,reference,insert] - ir[$gin,none,insert] ))
    rupd=$(( ir[$gin,reference,update] - ir[$gin,none,update] ))
    printf '%-8s %-10s %16d %16d %10.2f %10.2f\n' "$gin" "$v" "$ins" "$upd" \
      "$(echo "($ins * $rows) / $rins" | bc -l)" "$(echo "($upd * $rows) / $rupd" | bc -l)"
  done
done

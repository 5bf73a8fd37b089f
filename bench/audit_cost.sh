#!/usr/bin/env bash
# Per-row cost of the audit trigger above the no-trigger floor: chronicle's
# native trigger (row mode and statement mode) against the reference's PL/pgSQL
# audit_trigger_function (V004), measured side by side in one run.
#
#   bench/audit_cost.sh [rows=20000] [reps=5] [gin=with|without]
#
# Needs a running cluster (PGHOST/PGPORT/PGUSER, a superuser) where chronicle is
# installed. Creates and drops the database chronicle_audit_cost. Each repetition
# runs, for every variant in turn (interleaved, so noise spreads evenly):
#   INSERT INTO posts SELECT ... (rows posts) and UPDATE posts SET view_count ...
#   (every row), timed by EXPLAIN ANALYZE's Execution Time (AFTER triggers included),
# on empty posts/audit_logs. Prints the median time per statement and the cost per
# row above the floor (variant "none": the other posts triggers, no audit trigger).
set -euo pipefail
rows=${1:-20000}
reps=${2:-5}
gin=${3:-with}
db=chronicle_audit_cost
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"
psql=(psql -X -q -v ON_ERROR_STOP=1 -d "$db")

psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
trap 'psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db"' EXIT

"${psql[@]}" <<'SQL'
-- 1.1: the 1.0 audit_logs indexes (both GINs); 1.2 drops them on a small table.
CREATE EXTENSION chronicle VERSION '1.1';
INSERT INTO users (email, name, password_hash)
SELECT 'user' || g || '@example.com', 'User ' || g, repeat('h', 60) FROM generate_series(1, 100) g;
DROP TRIGGER posts_audit_trigger ON posts;
SQL
"${psql[@]}" -f "$(dirname "$0")/reference/audit_function.sql"
if [[ $gin == without ]]; then
  "${psql[@]}" -c "DROP INDEX idx_audit_old_data_gin, idx_audit_new_data_gin"
fi

set_variant() {
  "${psql[@]}" <<SQL
DROP TRIGGER IF EXISTS posts_audit_trigger ON posts;
DROP TRIGGER IF EXISTS posts_audit_insert ON posts;
DROP TRIGGER IF EXISTS posts_audit_update ON posts;
DROP TRIGGER IF EXISTS posts_audit_delete ON posts;
$(case $1 in
  reference) echo "CREATE TRIGGER posts_audit_trigger AFTER INSERT OR UPDATE OR DELETE ON posts FOR EACH ROW EXECUTE FUNCTION reference_audit_trigger_function();" ;;
  row) echo "CREATE TRIGGER posts_audit_trigger AFTER INSERT OR UPDATE OR DELETE ON posts FOR EACH ROW EXECUTE FUNCTION audit_trigger_function();" ;;
  statement) cat <<'T'
CREATE TRIGGER posts_audit_insert AFTER INSERT ON posts REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION audit_trigger_function();
CREATE TRIGGER posts_audit_update AFTER UPDATE ON posts REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION audit_trigger_function();
CREATE TRIGGER posts_audit_delete AFTER DELETE ON posts REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION audit_trigger_function();
T
  ;;
esac)
TRUNCATE posts, audit_logs, post_count_totals, post_count_deltas;
CHECKPOINT;
SQL
}

execution_ms() {
  "${psql[@]}" -At -c "EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) $1" |
    sed -n 's/.*"Execution Time": \([0-9.]*\).*/\1/p'
}

variants=(none reference row statement)
declare -A samples
for ((r = 1; r <= reps; r++)); do
  for v in "${variants[@]}"; do
    set_variant "$v"
    ins=$(execution_ms "INSERT INTO posts (user_id, title, content, status)
      SELECT u.ids[1 + g % 100], 'Post ' || g, repeat('lorem ipsum dolor sit amet ', 9) || g,
             CASE WHEN g % 5 = 0 THEN 'draft' ELSE 'published' END
      FROM generate_series(1, $rows) g, (SELECT array_agg(id ORDER BY email) AS ids FROM users) u")
    "${psql[@]}" -c "VACUUM ANALYZE posts"
    upd=$(execution_ms "UPDATE posts SET view_count = view_count + 1, title = title || '!'")
    audit=$("${psql[@]}" -At -c "SELECT count(*) FROM audit_logs")
    samples[$v,insert]+="$ins "
    samples[$v,update]+="$upd "
    echo "rep $r $v: insert ${ins} ms, update ${upd} ms, audit rows ${audit}" >&2
  done
done

median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
echo "rows=$rows reps=$reps gin=$gin (medians; us/row = (variant - none) / rows)"
printf '%-10s %12s %12s %14s %14s\n' variant insert_ms update_ms insert_us_row update_us_row
declare -A med
for v in "${variants[@]}"; do
  for op in insert update; do med[$v,$op]=$(echo "${samples[$v,$op]}" | median); done
done
for v in "${variants[@]}"; do
  printf '%-10s %12.1f %12.1f %14.2f %14.2f\n' "$v" "${med[$v,insert]}" "${med[$v,update]}" \
    "$(echo "(${med[$v,insert]} - ${med[none,insert]}) * 1000 / $rows" | bc -l)" \
    "$(echo "(${med[$v,update]} - ${med[none,update]}) * 1000 / $rows" | bc -l)"
done
for v in row statement; do
  printf 'ratio %s/reference: insert %.2f, update %.2f\n' "$v" \
    "$(echo "(${med[$v,insert]} - ${med[none,insert]}) / (${med[reference,insert]} - ${med[none,insert]})" | bc -l)" \
    "$(echo "(${med[$v,update]} - ${med[none,update]}) / (${med[reference,update]} - ${med[none,update]})" | bc -l)"
done

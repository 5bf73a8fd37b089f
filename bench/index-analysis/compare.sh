#!/usr/bin/env bash
# Side by side, in one database and one run: the cost of an audited write to
# posts with the reference's design (its PL/pgSQL triggers and the 1.0/1.1
# audit_logs indexes) and with chronicle 1.2 (native triggers, 1.2 indexes),
# above the no-trigger floor (same tables, no audit/updated_at/published_at
# trigger). Variants are switched by DDL between measurements.
#
#   bench/index-analysis/compare.sh [seconds=15] [bulk_rows=20000] [latency_seconds=60]
#
# Needs a running cluster (PGHOST/PGPORT/PGUSER, superuser) with chronicle
# installed. Creates and drops the database chronicle_compare. Prints:
#   1. pgbench, 1 client, synchronous_commit off: tps of one-row INSERT and
#      UPDATE (title) of posts, WAL bytes per transaction, cost above the floor;
#   2. bulk: INSERT ... SELECT bulk_rows posts, then UPDATE of all of them,
#      time per row above the floor; audit_logs index and table bytes per
#      audited row after each;
#   3. worst latency of an audited write over a latency_seconds pgbench run
#      (insert + update mixed), reference and 1.2 (and the floor: the machine's own);
#   4. increment_post_views, pgbench 2 clients on one post: 1.1 semantics
#      (every view an audited edit) vs 1.2.
set -euo pipefail
if [[ -n ${COMPARE_SETUP_ONLY:-} ]]; then secs=0; bulk=0; lat_secs=0; else secs=${1:-15}; bulk=${2:-20000}; lat_secs=${3:-60}; fi
db=chronicle_compare
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning -c synchronous_commit=off"
psql=(psql -X -q -v ON_ERROR_STOP=1 -d "$db")
work=$(mktemp -d /tmp/chronicle-compare-XXXXXX)
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
trap 'psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db"; rm -rf "$work"' EXIT

"${psql[@]}" <<'SQL'
CREATE EXTENSION chronicle;
-- The reference's V004 functions, verbatim but for their names.
CREATE FUNCTION ref_update_updated_at_column() RETURNS TRIGGER AS $$
BEGIN
    NEW.updated_at = CURRENT_TIMESTAMP;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE FUNCTION ref_set_published_at() RETURNS TRIGGER AS $$
BEGIN
    IF NEW.status = 'published' AND (OLD.status IS NULL OR OLD.status != 'published') THEN
        NEW.published_at = CURRENT_TIMESTAMP;
    END IF;
    IF NEW.status != 'published' AND OLD.status = 'published' THEN
        NEW.published_at = NULL;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
INSERT INTO users (email, name, password_hash)
SELECT 'user' || g || '@example.com', 'User ' || g, repeat('h', 60) FROM generate_series(1, 100) g;
CREATE TABLE bench_users AS SELECT row_number() OVER (ORDER BY email) AS n, id FROM users;
SQL
"${psql[@]}" -f "$(dirname "$0")/../reference/audit_function.sql"

# The 1.2 triggers as the step defines them, and the reference's.
cols="id, user_id, title, content, status, published_at, created_at, updated_at"
triggers_off="DROP TRIGGER IF EXISTS posts_audit_trigger ON posts; DROP TRIGGER IF EXISTS posts_updated_at_trigger ON posts;
DROP TRIGGER IF EXISTS posts_set_published_at ON posts;"
set_variant() {
  local sql="$triggers_off"
  case $1 in
    floor) ;;
    reference) sql+="
CREATE TRIGGER posts_updated_at_trigger BEFORE UPDATE ON posts FOR EACH ROW EXECUTE FUNCTION ref_update_updated_at_column();
CREATE TRIGGER posts_set_published_at BEFORE INSERT OR UPDATE ON posts FOR EACH ROW EXECUTE FUNCTION ref_set_published_at();
CREATE TRIGGER posts_audit_trigger AFTER INSERT OR UPDATE OR DELETE ON posts FOR EACH ROW EXECUTE FUNCTION reference_audit_trigger_function();" ;;
    1.2) sql+="
CREATE TRIGGER posts_updated_at_trigger BEFORE UPDATE OF $cols ON posts FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();
CREATE TRIGGER posts_set_published_at BEFORE INSERT OR UPDATE ON posts FOR EACH ROW EXECUTE FUNCTION set_published_at();
CREATE TRIGGER posts_audit_trigger AFTER INSERT OR DELETE OR UPDATE OF $cols ON posts FOR EACH ROW EXECUTE FUNCTION audit_trigger_function();" ;;
    1.1) sql+="
CREATE TRIGGER posts_updated_at_trigger BEFORE UPDATE ON posts FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();
CREATE TRIGGER posts_set_published_at BEFORE INSERT OR UPDATE ON posts FOR EACH ROW EXECUTE FUNCTION set_published_at();
CREATE TRIGGER posts_audit_trigger AFTER INSERT OR UPDATE OR DELETE ON posts FOR EACH ROW EXECUTE FUNCTION audit_trigger_function();" ;;
  esac
  # indexes: the reference's (1.0/1.1) for reference and 1.1, 1.2's otherwise
  local idx="DROP INDEX IF EXISTS idx_audit_changed_fields, idx_audit_created_at_brin, idx_audit_created_at,
    idx_audit_old_data_gin, idx_audit_new_data_gin, idx_posts_user_id;"
  case $1 in
    reference | 1.1) idx+="
CREATE INDEX idx_audit_created_at ON audit_logs(created_at DESC);
CREATE INDEX idx_audit_old_data_gin ON audit_logs USING GIN (old_data);
CREATE INDEX idx_audit_new_data_gin ON audit_logs USING GIN (new_data);
CREATE INDEX idx_posts_user_id ON posts(user_id);" ;;
    *) idx+="
CREATE INDEX idx_audit_changed_fields ON audit_logs USING gin (changed_fields) WITH (fastupdate = on, gin_pending_list_limit = 64);
CREATE INDEX idx_audit_created_at_brin ON audit_logs USING brin (created_at) WITH (pages_per_range = 32);" ;;
  esac
  "${psql[@]}" -c "TRUNCATE posts, audit_logs, post_count_totals, post_count_deltas" -c "$sql $idx" -c "CHECKPOINT"
}
seed_posts() {  # seed_posts N: N posts, triggers off (no audit rows)
  "${psql[@]}" -c "SET session_replication_role = replica" -c "INSERT INTO posts (id, user_id, title, content, status, published_at)
    SELECT md5('p' || g)::uuid, (SELECT id FROM bench_users WHERE n = 1 + g % 100), 'Post ' || g,
           repeat('lorem ipsum dolor sit amet ', 9) || g, 'published', LOCALTIMESTAMP
      FROM generate_series(1, $1) g" -c "SET session_replication_role = origin" -c "SELECT refresh_post_counts()" -c "VACUUM ANALYZE posts, audit_logs" >/dev/null
}
cat >"$work/insert.sql" <<'EOF2'
\set u random(1, 100)
INSERT INTO posts (user_id, title, content, status, published_at) SELECT id, 'A new post', repeat('lorem ipsum dolor sit amet ', 9), 'published', LOCALTIMESTAMP FROM bench_users WHERE n = :u;
EOF2
cat >"$work/update.sql" <<'EOF2'
\set p random(1, 10000)
UPDATE posts SET title = 'Edited ' || :p WHERE id = md5('p' || :p)::uuid;
EOF2
cat >"$work/views.sql" <<'EOF2'
SELECT increment_post_views(md5('p1')::uuid);
EOF2
lsn() { "${psql[@]}" -At -c "SELECT pg_current_wal_insert_lsn()"; }
walsince() { "${psql[@]}" -At -c "SELECT pg_current_wal_insert_lsn() - '$1'::pg_lsn"; }
bench() {  # bench SCRIPT CLIENTS SECONDS [extra pgbench args]: prints "tps xacts wal_bytes"
  local script=$1 clients=$2 s=$3; shift 3
  local l0; l0=$(lsn)
  local out; out=$(pgbench -n -M prepared -c "$clients" -j "$clients" -T "$s" -f "$script" "$@" "$db" 2>&1)
  local tps xacts; tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' <<<"$out"); xacts=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' <<<"$out")
  echo "$tps $xacts $(walsince "$l0")"
}

# COMPARE_SETUP_ONLY=1: setup and helpers only, for cpu_cost.sh, which sources this file. Run
# directly that way, it only checks that the setup works (the EXIT trap drops the database).
if [[ -n ${COMPARE_SETUP_ONLY:-} ]]; then
  if [[ ${BASH_SOURCE[0]} != "$0" ]]; then return 0; fi
  echo "compare.sh: setup done (COMPARE_SETUP_ONLY), nothing measured"
  exit 0
fi

echo "== 1. pgbench, 1 client, ${secs} s each (synchronous_commit off)"
declare -A tps wal
for v in floor reference 1.2; do
  set_variant "$v"; seed_posts 10000
  read -r t x w < <(bench "$work/insert.sql" 1 "$secs"); tps[$v,insert]=$t; wal[$v,insert]=$((w / x))
  read -r t x w < <(bench "$work/update.sql" 1 "$secs"); tps[$v,update]=$t; wal[$v,update]=$((w / x))
done
printf '%-10s %10s %10s %12s %12s %14s %14s\n' variant ins_tps upd_tps ins_wal/tx upd_wal/tx ins_us_above upd_us_above
for v in floor reference 1.2; do
  printf '%-10s %10.0f %10.0f %12s %12s %14.1f %14.1f\n' "$v" "${tps[$v,insert]}" "${tps[$v,update]}" "${wal[$v,insert]}" "${wal[$v,update]}" \
    "$(echo "1000000 / ${tps[$v,insert]} - 1000000 / ${tps[floor,insert]}" | bc -l)" \
    "$(echo "1000000 / ${tps[$v,update]} - 1000000 / ${tps[floor,update]}" | bc -l)"
done
for op in insert update; do
  echo "1.2 cost above floor / reference's ($op): $(echo "(1/${tps[1.2,$op]} - 1/${tps[floor,$op]}) / (1/${tps[reference,$op]} - 1/${tps[floor,$op]})" | bc -l | cut -c1-5);" \
       "1.2 throughput / floor: $(echo "${tps[1.2,$op]} / ${tps[floor,$op]}" | bc -l | cut -c1-5)"
done

echo "== 2. bulk, $bulk rows (EXPLAIN ANALYZE execution time; audit_logs sizes after each statement)"
execution_ms() { "${psql[@]}" -At -c "EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) $1" | sed -n 's/.*"Execution Time": \([0-9.]*\).*/\1/p'; }
sizes() { "${psql[@]}" -At -F ' ' -c "SELECT pg_indexes_size('audit_logs'), pg_table_size('audit_logs'), count(*) FROM audit_logs"; }
declare -A ms ib tb
for v in floor reference 1.2; do
  set_variant "$v"
  l0=$(lsn)
  ms[$v,insert]=$(execution_ms "INSERT INTO posts (user_id, title, content, status, published_at)
      SELECT b.id, 'Post ' || g, repeat('lorem ipsum dolor sit amet ', 9) || g, 'published', LOCALTIMESTAMP
      FROM generate_series(1, $bulk) g JOIN bench_users b ON b.n = 1 + g % 100")
  wal[$v,bulkins]=$(walsince "$l0")
  read -r ib[$v,insert] tb[$v,insert] _ < <(sizes)
  "${psql[@]}" -c "VACUUM ANALYZE posts"
  l0=$(lsn)
  ms[$v,update]=$(execution_ms "UPDATE posts SET title = title || '!'")
  wal[$v,bulkupd]=$(walsince "$l0")
  read -r ib[$v,update] tb[$v,update] _ < <(sizes)
done
printf '%-10s %12s %12s %12s %12s %14s %14s %14s %14s\n' variant ins_us_row upd_us_row ins_above upd_above idx_B/ins_row idx_B/upd_row tbl_B/ins_row wal_B/upd_row
for v in floor reference 1.2; do
  printf '%-10s %12.1f %12.1f %12.1f %12.1f %14d %14d %14d %14d\n' "$v" \
    "$(echo "${ms[$v,insert]} * 1000 / $bulk" | bc -l)" "$(echo "${ms[$v,update]} * 1000 / $bulk" | bc -l)" \
    "$(echo "(${ms[$v,insert]} - ${ms[floor,insert]}) * 1000 / $bulk" | bc -l)" \
    "$(echo "(${ms[$v,update]} - ${ms[floor,update]}) * 1000 / $bulk" | bc -l)" \
    $((ib[$v,insert] / bulk)) $(((ib[$v,update] - ib[$v,insert]) / bulk)) $((tb[$v,insert] / bulk)) $((wal[$v,bulkupd] / bulk))
done
for op in insert update; do
  echo "1.2 bulk cost above floor / reference's ($op): $(echo "(${ms[1.2,$op]} - ${ms[floor,$op]}) / (${ms[reference,$op]} - ${ms[floor,$op]})" | bc -l | cut -c1-5)"
done

echo "== 3. worst audited write latency, ${lat_secs} s pgbench (1 client: insert + update mixed)"
for v in floor reference 1.2; do  # the floor shows what the machine itself adds
  set_variant "$v"; seed_posts 10000
  rm -f "$work"/pgbench_log.*
  (cd "$work" && pgbench -n -M prepared -c 1 -T "$lat_secs" -l -f "$work/insert.sql@1" -f "$work/update.sql@1" "$db" >/dev/null 2>&1)
  awk '{ l = $3 / 1000; n++; s += l; if (l > m) m = l; if (l > 10) over10++ } END { printf "%-10s transactions %d, mean %.3f ms, worst %.1f ms, over 10 ms: %d\n", v, n, s / n, m, over10 }' v="$v" "$work"/pgbench_log.*
done

echo "== 4. increment_post_views, 2 clients, one post, ${secs} s"
for v in 1.1 1.2; do
  set_variant "$v"; seed_posts 10000
  read -r t x w < <(bench "$work/views.sql" 2 "$secs")
  tps[$v,views]=$t
  echo "$v: tps $t, WAL bytes per call $((w / x)), audit rows $("${psql[@]}" -At -c "SELECT count(*) FROM audit_logs")"
done
echo "1.2 / 1.1 increment_post_views throughput: $(echo "${tps[1.2,views]} / ${tps[1.1,views]}" | bc -l | cut -c1-5)"

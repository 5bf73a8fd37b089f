#!/usr/bin/env bash
# increment_post_views throughput (pgbench, 2 clients, one post), reference
# schema with its PL/pgSQL triggers, under variants of triggers and indexes.
# Usage: views.sh SECONDS   (cluster env sourced; uses database "views")
set -euo pipefail
secs=${1:-10}; ref=${REF:-/work/wt-bench/bench/reference}
run() {
  local name=$1 sql=$2
  psql -qX -d postgres -c "DROP DATABASE IF EXISTS views" -c "CREATE DATABASE views" >/dev/null
  psql -qX -v ON_ERROR_STOP=1 -d views -f "$ref/schema.sql" -f "$ref/triggers.sql" -f "$ref/functions.sql" >/dev/null
  psql -qX -v ON_ERROR_STOP=1 -d views >/dev/null <<SQL
CREATE INDEX idx_posts_user_status_covering ON posts(user_id, status) INCLUDE (title, content, created_at, published_at, view_count);
INSERT INTO users (email, name, password_hash) SELECT 'u'||g||'@example.com', 'user '||g, 'x' FROM generate_series(1,200) g;
INSERT INTO posts (user_id, title, content, status) SELECT (SELECT id FROM users ORDER BY email LIMIT 1 OFFSET g % 200), 'title '||g, repeat('body ', 100), 'published' FROM generate_series(1,2000) g;
$sql
VACUUM ANALYZE;
SQL
  local pid; pid=$(psql -qXAt -d views -c "SELECT id FROM posts ORDER BY id LIMIT 1")
  echo "SELECT increment_post_views('$pid');" > /tmp/views-$$.sql
  local tps; tps=$(PGOPTIONS='-c synchronous_commit=off' pgbench -n -M prepared -c 2 -j 2 -T "$secs" -f /tmp/views-$$.sql views 2>&1 | sed -n 's/^tps = \([0-9.]*\).*/\1/p')
  local audit; audit=$(psql -qXAt -d views -c "SELECT count(*) FROM audit_logs WHERE operation = 'UPDATE'")
  local hot; hot=$(psql -qXAt -d views -c "SELECT n_tup_hot_upd || '/' || n_tup_upd FROM pg_stat_user_tables WHERE relname = 'posts'")
  printf '%-58s tps %8.0f  audit rows %7s  hot/upd %s\n' "$name" "$tps" "$audit" "$hot"
  rm -f /tmp/views-$$.sql
}
cols="user_id, title, content, status, published_at, created_at, updated_at, id"
run "1.0 reference (all triggers)" ""
run "no triggers (floor)" "DROP TRIGGER posts_audit_trigger ON posts; DROP TRIGGER posts_updated_at_trigger ON posts; DROP TRIGGER posts_set_published_at ON posts;"
lists="DROP TRIGGER posts_audit_trigger ON posts; DROP TRIGGER posts_updated_at_trigger ON posts; DROP TRIGGER posts_set_published_at ON posts;
CREATE TRIGGER posts_updated_at_trigger BEFORE UPDATE OF $cols ON posts FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();
CREATE TRIGGER posts_set_published_at BEFORE INSERT OR UPDATE OF $cols ON posts FOR EACH ROW EXECUTE FUNCTION set_published_at();
CREATE TRIGGER posts_audit_trigger AFTER INSERT OR DELETE OR UPDATE OF $cols ON posts FOR EACH ROW EXECUTE FUNCTION audit_trigger_function();"
run "triggers UPDATE OF <all but view_count>" "$lists"
run "  + view_count in no index (HOT)" "$lists DROP INDEX idx_posts_covering_list; DROP INDEX idx_posts_user_status_covering;"
run "no triggers + view_count in no index (HOT floor)" "DROP TRIGGER posts_audit_trigger ON posts; DROP TRIGGER posts_updated_at_trigger ON posts; DROP TRIGGER posts_set_published_at ON posts; DROP INDEX idx_posts_covering_list; DROP INDEX idx_posts_user_status_covering;"

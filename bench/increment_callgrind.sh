#!/usr/bin/env bash
# Instructions of one increment_post_views call, counted by callgrind (repeatable,
# where pgbench on a shared 2-core machine is not), in two databases with the same
# posts: chronicle 1.0 (a view is audited and moves updated_at) and the newest
# version (a view is not an edit: the updated_at and audit triggers fire, compare
# the row's old and new values and leave it alone). Each database runs n calls on
# one published post, each its own transaction, in a single-user backend under
# callgrind, counting inside PortalRun and the commit. The audit trigger's own
# share (chronicle_audit_trigger_function, inclusive) is printed beside the total.
#
#   bench/increment_callgrind.sh [n=1000] [posts=20000]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000}
posts=${2:-20000}
dir=$(mktemp -d /tmp/increment-cg-XXXXXX)
scripts/cluster start "$dir" >/dev/null
source "$dir/env"
stopped=false
trap '$stopped || scripts/cluster stop "$dir"' EXIT
export PGOPTIONS="-c client_min_messages=warning"
as_server() { if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }
sql() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }

sql -d postgres -c "CREATE DATABASE chronicle10" -c "CREATE DATABASE chronicle"
sql -d chronicle10 -c "CREATE EXTENSION chronicle VERSION '1.0'"
sql -d chronicle -c "CREATE EXTENSION chronicle"
sql -d chronicle -v users=200 -v posts="$posts" -v heavy_posts=$((posts / 10)) -f bench/load_posts.sql >/dev/null
sql -d chronicle10 -c "SET session_replication_role = replica" \
    -c "TRUNCATE posts, users CASCADE"
for t in "users:id, email, name, password_hash, email_verified, created_at, updated_at, deleted_at, created_by, updated_by" \
         "posts:id, user_id, title, content, status, published_at, view_count, created_at, updated_at"; do
  psql -X -q -d chronicle -c "COPY ${t%%:*} (${t#*:}) TO STDOUT (FORMAT binary)" |
    sql -d chronicle10 -c "SET session_replication_role = replica" -c "COPY ${t%%:*} (${t#*:}) FROM STDIN (FORMAT binary)"
done
post=$(psql -X -At -d chronicle -c "SELECT id FROM posts WHERE status = 'published' ORDER BY id LIMIT 1")
for db in chronicle10 chronicle; do
  sql -d "$db" -c "VACUUM ANALYZE"
  sql -d "$db" -c "SELECT increment_post_views('$post')" >/dev/null   # warm: first firing builds caches
done
as_server "$PGBIN/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null
stopped=true
chmod 777 "$dir"

for i in $(seq 1 "$n"); do echo "SELECT increment_post_views('$post');"; echo; done > "$dir/calls.sql"
declare -A ir
for db in chronicle10 chronicle; do
  out="$dir/cg.$db"
  as_server valgrind --tool=callgrind --callgrind-out-file="$out" --collect-atstart=no \
    --toggle-collect=PortalRun --toggle-collect=CommitTransactionCommand \
    "$PGBIN/postgres" --single -j -D "$PGDATA" -c synchronous_commit=off "$db" \
    < "$dir/calls.sql" >/dev/null 2>"$dir/log.$db"
  ir[$db]=$(( $(sed -n 's/^summary: //p; s/^totals: //p' "$out" | head -1) / n ))
  (cd / && callgrind_annotate --inclusive=yes --auto=no --threshold=100 "$out" 2>/dev/null) > "$dir/annotate.$db"
  audit=$(awk -v n="$n" 'index($0, ":chronicle_audit_trigger_function [") { gsub(",", "", $1); s += $1 }
                         END { printf "%d", s / n }' "$dir/annotate.$db")
  updated_at=$(awk -v n="$n" 'index($0, ":chronicle_update_updated_at_column [") { gsub(",", "", $1); s += $1 }
                              END { printf "%d", s / n }' "$dir/annotate.$db")
  echo "$db: ${ir[$db]} instructions per increment_post_views call" \
       "(audit trigger $audit, updated_at trigger $updated_at)"
done
echo "newest / 1.0: $(awk -v a="${ir[chronicle]}" -v b="${ir[chronicle10]}" 'BEGIN { printf "%.2f", a / b }')"
echo "callgrind files in $dir (the cluster is stopped; scripts/cluster stop $dir deletes it)"

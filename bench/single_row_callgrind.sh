#!/usr/bin/env bash
# Where a single-row write's instructions go, counted by callgrind (repeatable, where
# pgbench on a shared 2-core machine moves 15-40% between rounds). Two statements of the
# pgbench cases, each its own transaction: an INSERT of a post, and an UPDATE that edits
# a post's title and moves it between statuses. Three databases with the same posts:
#   floor      the reference schema, no trigger: the statement writes what the triggers would
#   reference  the reference schema and its PL/pgSQL triggers (bench/reference/)
#   chronicle  the newest version, installed as a DBA would
# Both audited databases first get one audited edit of every post, so that audit_logs and
# its indexes are not empty. Each database then runs the statements in one single-user
# backend under callgrind, counting inside PortalRun and the commit.
#
# For chronicle it splits the instructions above the floor by the functions they ran in:
#   audit row storage  heap and index inserts of audit_logs (writer.cpp's flush_sink):
#                      what any trigger writing the contract's audit row into the indexes
#                      of the named queries pays, however it builds the row;
#   rest of the audit trigger  building the images, changed_fields, the row's values;
#   post_counts        the triggers that keep get_user_posts' total_count exact;
#   other              the timestamp triggers, the trigger queue, and the posts indexes,
#                      which chronicle has fewer of than the reference schema (so it can be
#                      below zero).
#
#   bench/single_row_callgrind.sh [n=1000] [posts=20000]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000}
posts=${2:-20000}
dir=$(mktemp -d /tmp/single-row-cg-XXXXXX)
scripts/cluster start "$dir" >/dev/null
source "$dir/env"
# On failure the cluster is stopped and removed; on success its stopped data and
# the callgrind files stay for callgrind_annotate.
stopped=false
trap '$stopped || scripts/cluster stop "$dir"' EXIT
export PGOPTIONS="-c client_min_messages=warning"
as_server() { if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }
sql() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }
writer=00000000-0000-4000-8000-000000000002   # a user of bench/load_posts.sql

sql -d postgres -c "CREATE DATABASE chronicle" -c "CREATE DATABASE floor" -c "CREATE DATABASE reference"
sql -d chronicle -c "CREATE EXTENSION chronicle"
sql -d chronicle -v users=200 -v posts="$posts" -v heavy_posts=$((posts / 10)) -f bench/load_posts.sql >/dev/null
for db in floor reference; do
  sql -d "$db" -f bench/reference/schema.sql >/dev/null
  for t in "users:id, email, name, password_hash, email_verified, created_at, updated_at, deleted_at, created_by, updated_by" \
           "posts:id, user_id, title, content, status, published_at, view_count, created_at, updated_at"; do
    psql -X -q -d chronicle -c "COPY ${t%%:*} (${t#*:}) TO STDOUT (FORMAT binary)" |
      sql -d "$db" -c "COPY ${t%%:*} (${t#*:}) FROM STDIN (FORMAT binary)"
  done
done
sql -d reference -f bench/reference/triggers.sql >/dev/null
for db in floor reference chronicle; do
  sql -d "$db" -c "CREATE TABLE keys AS SELECT row_number() OVER (ORDER BY id) AS n, id FROM posts" \
               -c "CREATE UNIQUE INDEX ON keys (n)"
  [[ $db == floor ]] || sql -d "$db" -c "UPDATE posts SET title = title || ' (edited)'"
  sql -d "$db" -c "VACUUM ANALYZE"
done
as_server "$PGBIN/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null
stopped=true
chmod 777 "$dir"

# The statements. The floor's write what the triggers would: published_at on a change
# into or out of 'published', updated_at on every UPDATE.
statements() {  # kind db
  local i k status
  for i in $(seq 1 "$n"); do
    if [[ $1 == insert ]]; then
      status=$([[ $((i % 2)) == 1 ]] && echo published || echo draft)
      if [[ $2 == floor ]]; then
        echo "INSERT INTO posts (user_id, title, content, status, published_at) VALUES ('$writer', 'Benchmark post', repeat('Lorem ipsum dolor sit amet. ', 12), '$status', CASE WHEN '$status' = 'published' THEN CURRENT_TIMESTAMP END);"
      else
        echo "INSERT INTO posts (user_id, title, content, status) VALUES ('$writer', 'Benchmark post', repeat('Lorem ipsum dolor sit amet. ', 12), '$status');"
      fi
    else
      k=$(( (i * 7919) % posts + 1 ))   # a different post each time, the same in every database
      if [[ $2 == floor ]]; then
        echo "UPDATE posts SET title = 'Edited $i', status = CASE WHEN status = 'published' THEN 'archived' ELSE 'published' END, published_at = CASE WHEN status = 'published' THEN NULL ELSE CURRENT_TIMESTAMP END, updated_at = CURRENT_TIMESTAMP WHERE id = (SELECT id FROM keys WHERE n = $k);"
      else
        echo "UPDATE posts SET title = 'Edited $i', status = CASE WHEN status = 'published' THEN 'archived' ELSE 'published' END WHERE id = (SELECT id FROM keys WHERE n = $k);"
      fi
    fi
  done | sed 's/$/\n/'   # under -j a blank line ends a command: each statement its own transaction
}

# Inclusive instructions of the functions whose name contains $2, per statement, from a
# callgrind_annotate listing. Annotate from /: where it finds the sources (the repository
# root), callgrind_annotate lists a function twice.
inclusive() {  # listing name-fragment
  awk -v f="$2" -v n="$n" 'index($0, f) { gsub(",", "", $1); s += $1 } END { printf "%d", s / n }' "$1"
}

declare -A ir
for kind in insert update; do
  for db in floor reference chronicle; do
    statements "$kind" "$db" > "$dir/$kind.$db.sql"
    out="$dir/cg.$kind.$db"
    as_server valgrind --tool=callgrind --callgrind-out-file="$out" --collect-atstart=no \
      --toggle-collect=PortalRun --toggle-collect=CommitTransactionCommand \
      "$PGBIN/postgres" --single -j -D "$PGDATA" -c synchronous_commit=off "$db" \
      < "$dir/$kind.$db.sql" >/dev/null 2>"$dir/log.$kind.$db"
    ir[$kind.$db]=$(( $(sed -n 's/^summary: //p; s/^totals: //p' "$out" | head -1) / n ))
  done
  listing="$dir/annotate.$kind.chronicle"
  (cd / && callgrind_annotate --inclusive=yes --auto=no "$dir/cg.$kind.chronicle" 2>/dev/null) > "$listing"
  above_ref=$(( ir[$kind.reference] - ir[$kind.floor] ))
  above=$(( ir[$kind.chronicle] - ir[$kind.floor] ))
  audit=$(inclusive "$listing" ':chronicle_audit_trigger_function [')
  storage=$(inclusive "$listing" 'chronicle::audit::flush_sink(')
  counts=$(inclusive "$listing" ':chronicle_post_counts_after_')
  echo "$kind, instructions per statement: floor ${ir[$kind.floor]}, reference ${ir[$kind.reference]}, chronicle ${ir[$kind.chronicle]}"
  echo "  above the floor: reference $above_ref, chronicle $above" \
       "($(awk -v a="$above" -v b="$above_ref" 'BEGIN { printf "%.2f", a / b }') of the reference's; a third is $((above_ref / 3)))"
  echo "  chronicle's: audit row storage $storage, rest of the audit trigger $((audit - storage))," \
       "post_counts $counts, other $((above - audit - counts)) (timestamp triggers, trigger queue, posts indexes:" \
       "fewer than the reference schema's)"
done
echo "callgrind files in $dir (the cluster is stopped; scripts/cluster stop $dir deletes it)"

#!/usr/bin/env bash
# Audited single-row INSERT and UPDATE of posts, partitioned audit_logs against
# unpartitioned: instructions per statement, counted by callgrind (repeatable
# where pgbench on a shared 2-core machine moves 15-40% between rounds). Two
# databases with the same posts and the same audit history; in one,
# partition_audit_log() has run. Each runs the same statements in one
# single-user backend under callgrind, counting inside PortalRun and the commit.
#
#   bench/studies/audit-log-partitioning/writer_callgrind.sh [n=1000] [posts=20000]
# Needs scripts/cluster and a chronicle build installed (make install).
set -euo pipefail
cd "$(dirname "$0")/../../.."
n=${1:-1000}
posts=${2:-20000}
dir=$(mktemp -d /tmp/partition-cg-XXXXXX)
scripts/cluster start "$dir" >/dev/null
source "$dir/env"
stopped=false
trap '$stopped || scripts/cluster stop "$dir" >/dev/null' EXIT
export PGOPTIONS="-c client_min_messages=warning"
as_server() { if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }
sql() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }
writer=00000000-0000-4000-8000-000000000002   # user 2 of the 200 below

for db in plain partitioned; do
  sql -d postgres -c "CREATE DATABASE $db"
  sql -d "$db" -c "CREATE EXTENSION chronicle"
  # 200 users and their posts, written through the triggers: audit_logs gets
  # the posts' history (one INSERT row each, then one UPDATE row each).
  sql -d "$db" <<SQL
INSERT INTO users (id, email, name, password_hash)
SELECT ('00000000-0000-4000-8000-' || lpad(to_hex(g), 12, '0'))::uuid, 'user' || g || '@example.com', 'User ' || g, 'h'
  FROM generate_series(1, 200) g;
INSERT INTO posts (user_id, title, content, status)
SELECT ('00000000-0000-4000-8000-' || lpad(to_hex(1 + g % 200), 12, '0'))::uuid, 'Post ' || g,
       repeat('Lorem ipsum dolor sit amet. ', 9), CASE WHEN g % 10 < 8 THEN 'published' ELSE 'draft' END
  FROM generate_series(1, $posts) g;
SQL
  sql -d "$db" -c "CREATE TABLE keys AS SELECT row_number() OVER (ORDER BY id) AS n, id FROM posts" \
               -c "CREATE UNIQUE INDEX ON keys (n)" -c "UPDATE posts SET title = title || ' (edited)'"
done
sql -d partitioned -c "SELECT partition_audit_log()"
for db in plain partitioned; do sql -d "$db" -c "VACUUM ANALYZE"; done
as_server "$PGBIN/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null
stopped=true
chmod 777 "$dir"

statements() {  # kind
  local i k status
  for i in $(seq 1 "$n"); do
    if [[ $1 == insert ]]; then
      status=$([[ $((i % 2)) == 1 ]] && echo published || echo draft)
      echo "INSERT INTO posts (user_id, title, content, status) VALUES ('$writer', 'Benchmark post', repeat('Lorem ipsum dolor sit amet. ', 12), '$status');"
    else
      k=$(( (i * 7919) % posts + 1 ))
      echo "UPDATE posts SET title = 'Edited $i', status = CASE WHEN status = 'published' THEN 'archived' ELSE 'published' END WHERE id = (SELECT id FROM keys WHERE n = $k);"
    fi
  done | sed 's/$/\n/'   # under -j a blank line ends a command: each statement its own transaction
}

declare -A ir
for kind in insert update; do
  statements "$kind" > "$dir/$kind.sql"
  for db in plain partitioned; do
    out="$dir/cg.$kind.$db"
    as_server valgrind --tool=callgrind --callgrind-out-file="$out" --collect-atstart=no \
      --toggle-collect=PortalRun --toggle-collect=CommitTransactionCommand \
      "$PGBIN/postgres" --single -j -D "$PGDATA" -c synchronous_commit=off "$db" \
      < "$dir/$kind.sql" >/dev/null 2>"$dir/log.$kind.$db"
    ir[$kind.$db]=$(( $(sed -n 's/^summary: //p; s/^totals: //p' "$out" | head -1) / n ))
  done
  echo "$kind, instructions per statement: unpartitioned ${ir[$kind.plain]}, partitioned ${ir[$kind.partitioned]}" \
       "($(awk -v a="${ir[$kind.partitioned]}" -v b="${ir[$kind.plain]}" 'BEGIN { printf "%+.1f%%", (a / b - 1) * 100 }'))"
done
echo "callgrind files in $dir (the cluster is stopped; scripts/cluster stop $dir deletes it)"

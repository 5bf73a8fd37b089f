#!/usr/bin/env bash
# Server CPU time per audited write, read from /proc/<backend>/stat: steadier
# than wall-clock throughput on a shared machine (other processes' load does
# not count against it). One backend runs N single-row transactions of each
# kind (a procedure: statement, COMMIT, repeat) under each variant of
# compare.sh: floor (no posts triggers), reference (PL/pgSQL triggers, 1.0/1.1
# audit indexes), 1.1 (native triggers, 1.0/1.1 indexes, every UPDATE audited),
# 1.2 (native, 1.2 triggers and indexes). synchronous_commit off.
#
#   bench/index-analysis/cpu_cost.sh [N=3000] [reps=3]
#
# Needs a cluster on this machine (PGHOST/PGPORT/PGUSER, superuser) with chronicle
# installed; uses compare.sh's setup (database chronicle_compare, dropped at exit).
set -euo pipefail
n=${1:-3000}; reps=${2:-3}
here=$(cd "$(dirname "$0")" && pwd)
COMPARE_SETUP_ONLY=1 source "$here/compare.sh"

"${psql[@]}" <<'SQL'
CREATE PROCEDURE run_inserts(n int) LANGUAGE plpgsql AS $$
BEGIN
    FOR i IN 1 .. n LOOP
        INSERT INTO posts (user_id, title, content, status, published_at)
        SELECT id, 'A new post', repeat('lorem ipsum dolor sit amet ', 9), 'published', LOCALTIMESTAMP
          FROM bench_users WHERE bench_users.n = 1 + i % 100;
        COMMIT;
    END LOOP;
END $$;
CREATE PROCEDURE run_updates(n int) LANGUAGE plpgsql AS $$
BEGIN
    FOR i IN 1 .. n LOOP
        UPDATE posts SET title = 'Edited ' || i WHERE id = md5('p' || (1 + (i * 7919) % 10000))::uuid;
        COMMIT;
    END LOOP;
END $$;
CREATE PROCEDURE run_views(n int) LANGUAGE plpgsql AS $$
BEGIN
    FOR i IN 1 .. n LOOP
        PERFORM increment_post_views(md5('p1')::uuid);
        COMMIT;
    END LOOP;
END $$;
SQL

hz=$(getconf CLK_TCK)
cpu_us() {  # cpu_us PROCEDURE: CPU microseconds per call of one transaction, in a fresh backend
  local proc=$1
  "${psql[@]}" -At <<SQL | tail -1
SELECT pg_backend_pid() AS pid \gset
CALL $proc(200);   -- warm: caches, plans
\\set t0 \`awk '{print \$14 + \$15}' /proc/:pid/stat\`
CALL $proc($n);
\\set t1 \`awk '{print \$14 + \$15}' /proc/:pid/stat\`
SELECT round((:t1 - :t0) * 1000000.0 / $hz / $n, 1);
SQL
}
declare -A samples
for ((r = 1; r <= reps; r++)); do
  for v in floor reference 1.1 1.2; do
    set_variant "$v"; seed_posts 10000
    for op in inserts updates views; do
      samples[$v,$op]+="$(cpu_us run_$op) "
    done
  done
done
median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
echo "server CPU us per single-row transaction (median of $reps x $n)"
printf '%-10s %10s %10s %10s\n' variant insert update view
declare -A med
for v in floor reference 1.1 1.2; do
  for op in inserts updates views; do med[$v,$op]=$(echo "${samples[$v,$op]}" | median); done
  printf '%-10s %10s %10s %10s\n' "$v" "${med[$v,inserts]}" "${med[$v,updates]}" "${med[$v,views]}"
done
for op in inserts updates; do
  echo "$op: 1.2 cost above floor / reference's: $(echo "(${med[1.2,$op]} - ${med[floor,$op]}) / (${med[reference,$op]} - ${med[floor,$op]})" | bc -l | cut -c1-5)"
done
echo "increment_post_views: 1.1 / 1.2 CPU per call (the throughput ratio on one core): $(echo "${med[1.1,views]} / ${med[1.2,views]}" | bc -l | cut -c1-5)"

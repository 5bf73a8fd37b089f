"""The latency meter's fold case: what a single-row writer pays for another transaction's
bulk change of post_counts.

One user has N draft posts. One pgbench client keeps inserting single published posts
for that user (each INSERT folds the pair (user, published): it takes the pair's lock and
the deltas other transactions left) while, after a quiet window, one session runs
    UPDATE posts SET status = 'published' WHERE user_id = <user> AND status = 'draft'
(N rows: it folds the first row of each (user_id, status) pair and leaves a delta row for
every other one). The writer's latencies are reported in three windows: before the bulk
UPDATE (from the writer's first commit), while it runs, and after it committed (at least
after_s seconds, and at least one write); and the first write after the commit, the
one that folds the deltas the UPDATE left. Checked: post_counts equals a real count.
"""
import glob
import os
import signal
import subprocess
import time

from .stats import latency_summary

USER = "00000000-0000-4000-8000-0000000000f1"
DB = "bench_fold"


def run(cluster, logdir, rows, before_s, after_s, log):
    """Returns (a JSON-ready dict, errors)."""
    cl = cluster
    cl.psql("postgres", f"CREATE DATABASE {DB}")
    cl.psql(DB, "CREATE EXTENSION chronicle", options="-c client_min_messages=warning")
    cl.psql(DB, f"""INSERT INTO users (id, email, name, password_hash) VALUES ('{USER}', 'bulk@example.com', 'Bulk', 'x');
INSERT INTO posts (user_id, title, content, status)
SELECT '{USER}', 'post ' || i, 'body', 'draft' FROM generate_series(1, {rows}) AS i;""", timeout=3600)
    cl.psql(DB, "VACUUM ANALYZE", timeout=3600)
    os.makedirs(logdir, exist_ok=True)
    script = os.path.join(logdir, "fold_writer.sql")
    with open(script, "w") as f:
        f.write(f"INSERT INTO posts (user_id, title, content, status) VALUES ('{USER}', 'single', 'c', 'published');\n")
    prefix = os.path.join(logdir, "fold")
    for old in glob.glob(prefix + ".*"):
        os.remove(old)
    writer = subprocess.Popen([cl.bin("pgbench"), "-n", "-c", "1", "-T", "100000", "-l", "--log-prefix", prefix,
                               "-f", script, DB], env=cl.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)
    singles = f"SELECT count(*) FROM posts WHERE user_id = '{USER}' AND title = 'single'"

    def wait_for_writes(more_than):
        # the windows start when the writer is writing (connecting can take a while on a busy machine)
        deadline = time.time() + 60
        while int(cl.value(DB, singles)) <= more_than and time.time() < deadline:
            time.sleep(0.05)
    try:
        wait_for_writes(0)
        time.sleep(before_s)
        bulk_started = time.time()
        cl.psql(DB, f"UPDATE posts SET status = 'published' WHERE user_id = '{USER}' AND status = 'draft'",
                timeout=3600)
        bulk_ended = time.time()
        written = int(cl.value(DB, singles))
        time.sleep(after_s)
        wait_for_writes(written)
        after_end = time.time()
    finally:
        writer.send_signal(signal.SIGINT)    # pgbench stops and writes out its log
        try:
            writer.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            writer.kill()
            writer.communicate()
    windows = {"before": [], "during": [], "after": []}
    first_after = None
    for path in glob.glob(prefix + ".*"):
        with open(path) as f:
            for line in f:
                parts = line.split()
                if len(parts) < 6:
                    continue
                end = int(parts[4]) + int(parts[5]) / 1e6
                latency = int(parts[2])
                if end < bulk_started:
                    windows["before"].append(latency)
                elif end <= bulk_ended:
                    windows["during"].append(latency)
                elif end <= after_end:
                    windows["after"].append(latency)
                    if first_after is None or end < first_after[0]:
                        first_after = (end, latency)
        os.remove(path)
    left, exact = cl.rows(DB, f"""SELECT (SELECT count(*) FROM post_count_deltas),
        (SELECT post_count FROM post_counts WHERE user_id = '{USER}' AND status = 'published')
          = (SELECT count(*) FROM posts WHERE user_id = '{USER}' AND status = 'published')""")[0]
    errors = []
    if exact != "t":
        errors.append("fold: post_counts differs from a real count after the run")
    if not windows["before"] or not windows["after"]:
        errors.append("fold: the writer wrote nothing before or after the bulk UPDATE")
    result = {"key": "fold", "title": "a single-row writer during another transaction's bulk status change",
              "rows": rows, "bulk_seconds": bulk_ended - bulk_started, "deltas_left": int(left),
              "counts_exact": exact == "t", "before_s": before_s, "after_s": after_end - bulk_ended,
              "first_after_ms": first_after[1] / 1000.0 if first_after else None,
              "windows": {w: dict(latency_summary(v), transactions=len(v)) for w, v in windows.items()}}
    log(f"  fold: bulk UPDATE of {rows:,} rows {result['bulk_seconds']:.1f} s; first write after it "
        f"{result['first_after_ms'] or 0:.1f} ms; max before/during/after " + " / ".join(
            f"{result['windows'][w]['max'] or 0:.1f}" for w in windows) + " ms")
    cl.psql("postgres", f"DROP DATABASE {DB}")
    return result, errors

"""The instructions meter: instructions per statement or per row, counted by callgrind.

Instruction counts repeat from run to run (within a few percent: random uuids, GIN
pending-list flushes), where pgbench's throughput on a shared machine moves by 15-40%
between rounds; they measure CPU work only (no I/O wait, no lock wait).

Its own throwaway cluster (scripts/cluster), with small databases loaded while it runs;
then the cluster is stopped and each variant's statements run in a single-user backend
(postgres --single, from pg_config's bindir) under valgrind --tool=callgrind, counting
only inside the functions named by the case's `collect` (PortalRun: the statement with
every trigger it fires; CommitTransactionCommand: the commit, which runs deferred work).

Cases are data (INSTRUCTION_CASES): a group of databases, the statements each variant
runs, how many times, and which functions' inclusive counts split chronicle's figure
(callgrind_annotate --inclusive=yes, summed over the functions whose name contains the
fragment).
"""
import os
import re
import subprocess
import time
from dataclasses import dataclass

from .databases import POST_COLUMNS, USER_COLUMNS

WRITER = "00000000-0000-4000-8000-000000000002"   # a user of bench/load_posts.sql
CONTENT = "repeat('Lorem ipsum dolor sit amet. ', 12)"

# Split of chronicle's instructions, by function-name fragment (inclusive counts).
AUDIT_TRIGGER = ("audit trigger", ":chronicle_audit_trigger_function ")
AUDIT_STORAGE = ("of which the audit row's heap and index inserts", "chronicle::audit::flush_sink(")
POST_COUNTS = ("post_counts triggers", ":chronicle_post_counts_after_")
UPDATED_AT = ("updated_at trigger", ":chronicle_update_updated_at_column ")


@dataclass
class InstructionCase:
    key: str
    title: str
    group: str                  # the databases it runs in (GROUPS)
    unit: str                   # "statement" (n statements, each its own transaction) or "row" (one statement of n rows)
    statements: dict            # variant label -> function(i, n) returning the SQL of the i-th statement (1-based)
    variants: tuple
    collect: tuple = ("PortalRun", "CommitTransactionCommand")
    before: str = ""            # SQL run in the variant's database first, not counted
    breakdown: tuple = ()       # (name, fragment) pairs, reported for the chronicle variants
    floor: str = "floor"
    baseline: str = "reference"
    note: str = ""


def _insert(floor):
    def sql(i, n):
        status = "published" if i % 2 else "draft"
        if floor:
            return (f"INSERT INTO posts (user_id, title, content, status, published_at) VALUES ('{WRITER}', "
                    f"'Benchmark post', {CONTENT}, '{status}', "
                    f"{'CURRENT_TIMESTAMP' if status == 'published' else 'NULL'});")
        return (f"INSERT INTO posts (user_id, title, content, status) VALUES ('{WRITER}', 'Benchmark post', "
                f"{CONTENT}, '{status}');")
    return sql


def _update(floor):
    # A different post each time (the same ones in every database), edited and moved between statuses.
    # The floor writes what the triggers would: published_at on a change of status, updated_at.
    def sql(i, n):
        extra = (", published_at = CASE WHEN status = 'published' THEN NULL ELSE CURRENT_TIMESTAMP END, "
                 "updated_at = CURRENT_TIMESTAMP") if floor else ""
        return (f"UPDATE posts SET title = 'Edited {i}', status = CASE WHEN status = 'published' THEN 'archived' "
                f"ELSE 'published' END{extra} WHERE id = (SELECT id FROM bench_keys WHERE n = {(i * 7919) % 1000 + 1});")
    return sql


def _increment(i, n):
    return "SELECT increment_post_views((SELECT id FROM bench_view_post));"


def _bulk_insert(i, n):
    return (f"INSERT INTO posts (user_id, title, content, status) SELECT u.ids[1 + g % 100], 'Post ' || g, "
            f"repeat('lorem ipsum dolor sit amet ', 9) || g, CASE WHEN g % 5 = 0 THEN 'draft' ELSE 'published' END "
            f"FROM generate_series(1, {n}) g, (SELECT array_agg(id ORDER BY email) AS ids FROM users) u;")


def _bulk_update(i, n):
    return "UPDATE posts SET view_count = view_count + 1, title = title || '!';"


SINGLE = ("floor", "reference", "chronicle")
AUDIT_ALONE = ("floor", "reference", "chronicle", "chronicle stmt")


def _cases():
    cases = [
        InstructionCase("single_insert", "single-row INSERT of a post (the pgbench case's statement)", "posts", "statement",
                        {"floor": _insert(True), "reference": _insert(False), "chronicle": _insert(False)}, SINGLE,
                        breakdown=(AUDIT_TRIGGER, AUDIT_STORAGE, POST_COUNTS),
                        note="each statement its own transaction."),
        InstructionCase("single_update", "single-row UPDATE of a post's title and status", "posts", "statement",
                        {"floor": _update(True), "reference": _update(False), "chronicle": _update(False)}, SINGLE,
                        breakdown=(AUDIT_TRIGGER, AUDIT_STORAGE, POST_COUNTS),
                        note="a different post each time, moved between published and archived."),
        InstructionCase("increment", "one increment_post_views call", "increment", "statement",
                        {"chronicle 1.0": _increment, "chronicle": _increment}, ("chronicle 1.0", "chronicle"),
                        before="SELECT increment_post_views((SELECT id FROM bench_view_post))",
                        breakdown=(AUDIT_TRIGGER, UPDATED_AT), floor=None, baseline="chronicle 1.0",
                        note="chronicle 1.0 audits a view and moves updated_at; the newest version's triggers "
                             "fire and find that a view is not an edit."),
    ]
    for gin in ("gin", "nogin"):
        suffix = "" if gin == "gin" else ", audit_logs without its two whole-document GINs"
        for op, fn in (("insert", _bulk_insert), ("update", _bulk_update)):
            cases.append(InstructionCase(
                f"audit_{op}{'' if gin == 'gin' else '_nogin'}",
                f"the audit trigger alone, per row of a bulk {op.upper()}{suffix}", f"audit_{gin}", "row",
                {v: fn for v in AUDIT_ALONE}, AUDIT_ALONE, collect=("PortalRun",),
                before="VACUUM ANALYZE posts" if op == "update" else "",
                breakdown=(AUDIT_TRIGGER, AUDIT_STORAGE) if gin == "gin" else (),
                note="chronicle 1.1's schema in every database (the 1.0 audit_logs indexes), its other posts "
                     "triggers kept; floor: no audit trigger; reference: the reference's PL/pgSQL audit function "
                     "(bench/reference/audit_function.sql)."))
    return cases


INSTRUCTION_CASES = _cases()


@dataclass
class Sizes:
    posts: int          # posts of the single-row and increment databases
    statements: int     # statements per single-row case
    rows: int           # rows of each bulk statement


def _sql(cluster, db, sql, **kw):
    return cluster.psql(db, sql, options="-c client_min_messages=warning", **kw)


def _copy(cluster, src, dst):
    for table, cols in (("users", USER_COLUMNS), ("posts", POST_COLUMNS)):
        out = subprocess.Popen([cluster.bin("psql"), "-X", "-q", "-d", src, "-c",
                                f"COPY {table} ({cols}) TO STDOUT (FORMAT binary)"], stdout=subprocess.PIPE,
                               env=cluster.env)
        env = dict(cluster.env, PGOPTIONS="-c session_replication_role=replica")
        p = subprocess.run([cluster.bin("psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", dst, "-c",
                            f"COPY {table} ({cols}) FROM STDIN (FORMAT binary)"], stdin=out.stdout, env=env,
                           capture_output=True, text=True, timeout=1800)
        out.stdout.close()
        if out.wait(timeout=60) != 0 or p.returncode != 0:
            raise RuntimeError(f"copying {table} from {src} to {dst} failed: {p.stderr.strip()}")


KEYS = "CREATE TABLE bench_keys AS SELECT row_number() OVER (ORDER BY id) AS n, id FROM posts; " \
       "CREATE UNIQUE INDEX ON bench_keys (n);"


def _setup(cluster, bench_dir, groups, sizes, log):
    """Creates the databases of the groups used: {(group, variant): database}."""
    dbs = {}
    if {"posts", "increment"} & groups:
        p = sizes.posts
        _sql(cluster, "postgres", "CREATE DATABASE cg_seed")
        _sql(cluster, "cg_seed", "CREATE EXTENSION chronicle")
        _sql(cluster, "cg_seed", None, file=os.path.join(bench_dir, "load_posts.sql"),
             variables={"users": 200, "posts": p, "heavy_posts": p // 10}, timeout=1800)
    if "posts" in groups:
        ref = os.path.join(bench_dir, "reference")
        for name in ("floor", "reference"):
            db = f"cg_posts_{name}"
            _sql(cluster, "postgres", f"CREATE DATABASE {db}")
            _sql(cluster, db, None, file=os.path.join(ref, "schema.sql"))
            _copy(cluster, "cg_seed", db)
        _sql(cluster, "cg_posts_reference", None, file=os.path.join(ref, "triggers.sql"))
        _sql(cluster, "postgres", "CREATE DATABASE cg_posts_chronicle TEMPLATE cg_seed")
        for name in ("floor", "reference", "chronicle"):
            db = f"cg_posts_{name}"
            # The audited databases start with one audited edit of every post: audit_logs and its
            # indexes are not empty.
            _sql(cluster, db, KEYS + ("" if name == "floor" else "UPDATE posts SET title = title || ' (edited)';")
                 + "VACUUM ANALYZE;", timeout=1800)
            dbs[("posts", name)] = db
    if "increment" in groups:
        _sql(cluster, "postgres", "CREATE DATABASE cg_inc_chronicle TEMPLATE cg_seed; CREATE DATABASE cg_inc_chronicle10")
        _sql(cluster, "cg_inc_chronicle10", "CREATE EXTENSION chronicle VERSION '1.0'")
        _copy(cluster, "cg_seed", "cg_inc_chronicle10")
        for name, db in (("chronicle 1.0", "cg_inc_chronicle10"), ("chronicle", "cg_inc_chronicle")):
            _sql(cluster, db, "CREATE TABLE bench_view_post AS SELECT id FROM posts WHERE status = 'published' "
                              "ORDER BY id LIMIT 1; VACUUM ANALYZE;", timeout=1800)
            dbs[("increment", name)] = db
    with open(os.path.join(bench_dir, "reference", "audit_function.sql")) as f:
        audit_function = f.read()
    for gin in ("gin", "nogin"):
        if f"audit_{gin}" not in groups:
            continue
        for v in AUDIT_ALONE:
            db = f"cg_audit_{gin}_{v.replace(' ', '_')}"
            trigger = {
                "reference": "CREATE TRIGGER posts_audit_trigger AFTER INSERT OR UPDATE OR DELETE ON posts "
                             "FOR EACH ROW EXECUTE FUNCTION reference_audit_trigger_function();",
                "chronicle": "SELECT enable_audit('posts');",
                "chronicle stmt": "SELECT enable_audit('posts', '{mode=statement}');",
            }.get(v, "")
            _sql(cluster, "postgres", f"CREATE DATABASE {db}")
            _sql(cluster, db, f"""CREATE EXTENSION chronicle VERSION '1.1';
{audit_function}
INSERT INTO users (email, name, password_hash)
SELECT 'user' || g || '@example.com', 'User ' || g, repeat('h', 60) FROM generate_series(1, 100) g;
DROP TRIGGER posts_audit_trigger ON posts;
{"DROP INDEX idx_audit_old_data_gin, idx_audit_new_data_gin;" if gin == "nogin" else ""}
{trigger}""")
            dbs[(f"audit_{gin}", v)] = db
    if {"posts", "increment"} & groups:
        _sql(cluster, "postgres", "DROP DATABASE cg_seed")
    return dbs


def _as_server(cmd):
    return (["runuser", "-u", "postgres", "--"] + cmd) if os.geteuid() == 0 else cmd


def _callgrind(cluster, db, sql_file, out, collect):
    """Runs sql_file in a single-user backend of db under callgrind; returns the instructions counted."""
    cmd = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", "--collect-atstart=no"]
    cmd += [f"--toggle-collect={fn}" for fn in collect]
    cmd += [cluster.bin("postgres"), "--single", "-j", "-D", cluster.env["PGDATA"],
            "-c", "synchronous_commit=off", "-c", "client_min_messages=warning", db]
    with open(sql_file) as stdin, open(out + ".log", "w") as log:
        p = subprocess.run(_as_server(cmd), stdin=stdin, stdout=subprocess.DEVNULL, stderr=log, timeout=3600)
    with open(out + ".log") as f:
        text = f.read()
    if p.returncode != 0 or re.search(r"^(ERROR|FATAL|PANIC):", text, re.M):
        raise RuntimeError(f"callgrind run in {db} failed:\n{text[-2000:]}")
    with open(out) as f:
        m = re.search(r"^(?:summary|totals): (\d+)", f.read(), re.M)
    if not m:
        raise RuntimeError(f"no instruction total in {out}")
    return int(m.group(1))


def _inclusive(out, fragments):
    """{name: inclusive instructions} summed over the functions whose line contains the fragment."""
    p = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--auto=no", "--threshold=100", out],
                       capture_output=True, text=True, cwd="/", timeout=600)
    per_function = {}
    for line in p.stdout.splitlines():
        m = re.match(r"\s*([\d,]+)\s+(?:\(\s*[\d.]+%\)\s+)?(\S.*)$", line)
        if m:
            per_function[m.group(2)] = max(per_function.get(m.group(2), 0), int(m.group(1).replace(",", "")))
    return {name: sum(v for fn, v in per_function.items() if frag in fn) for name, frag in fragments}


COUNTS_SQL = ("SELECT count(*) AS posts FROM posts;\n\nSELECT count(*) AS audit_rows FROM audit_logs;\n\n"
              "SELECT coalesce(sum(view_count), 0) AS views FROM posts;\n")


def _single(cluster, db, sql, outdir, tag):
    """Runs SQL in a single-user backend of db (not counted); returns the integer columns printed."""
    path = os.path.join(outdir, tag + ".sql")
    with open(path, "w") as f:
        f.write(sql)
    with open(path) as stdin:
        p = subprocess.run(_as_server([cluster.bin("postgres"), "--single", "-j", "-D", cluster.env["PGDATA"],
                                       "-c", "client_min_messages=warning", db]),
                           stdin=stdin, capture_output=True, text=True, timeout=1800)
    if p.returncode != 0 or re.search(r"^(ERROR|FATAL|PANIC):", p.stderr, re.M):
        raise RuntimeError(f"single-user session in {db} failed:\n{p.stderr[-2000:]}")
    return {k: int(v) for k, v in re.findall(r'(\w+) = "(\d+)"', p.stdout)}


def _expected(case, variant, n, before):
    """(posts added, audit rows added, views added) that the case's statements must leave."""
    audited = variant not in ("floor", "chronicle") if case.key == "increment" else variant != "floor"
    if case.key == "increment":
        return 0, n if audited else 0, n
    if case.key.startswith("audit_update"):
        return 0, before["posts"] if audited else 0, before["posts"]
    if case.key.startswith("audit_insert") or case.key == "single_insert":
        return n, n if audited else 0, 0
    return 0, n if audited else 0, 0


def run(cluster, bench_dir, workdir, sizes, wanted, log):
    """Runs the instruction cases chosen by wanted (all when None); returns
    (results as JSON-ready dicts, errors). Stops the cluster (single-user backends need it down)."""
    def chosen(key):   # a prefix, or an exact key when it ends with $
        return not wanted or any(key == w[:-1] if w.endswith("$") else key.startswith(w) for w in wanted)
    cases = [c for c in INSTRUCTION_CASES if chosen(c.key)]
    if not cases:
        return [], []
    t0 = time.time()
    dbs = _setup(cluster, bench_dir, {c.group for c in cases}, sizes, log)
    log(f"instructions: databases loaded ({time.time() - t0:.0f} s)")
    subprocess.run(_as_server([cluster.bin("pg_ctl"), "-D", cluster.env["PGDATA"], "-m", "fast", "-w", "stop"]),
                   check=True, stdout=subprocess.DEVNULL, timeout=120)
    outdir = os.path.join(workdir, "callgrind")
    os.makedirs(outdir, exist_ok=True)
    os.chmod(outdir, 0o777)
    results, errors = [], []
    for c in cases:
        n = sizes.statements if c.unit == "statement" else sizes.rows
        res = {"key": c.key, "title": c.title, "unit": c.unit, "n": n, "collect": list(c.collect), "note": c.note,
               "floor": c.floor, "baseline": c.baseline, "variants": []}
        started = time.time()
        for v in c.variants:
            db = dbs[(c.group, v)]
            tag = f"{c.key}.{v.replace(' ', '_')}"
            try:
                before = _single(cluster, db, (c.before + ";\n\n" if c.before else "") + COUNTS_SQL, outdir,
                                 tag + ".before")
                sql = os.path.join(outdir, tag + ".sql")
                with open(sql, "w") as f:
                    # Under -j a blank line ends a command: each statement is its own transaction.
                    for i in range(1, (n if c.unit == "statement" else 1) + 1):
                        f.write(c.statements[v](i, n) + "\n\n")
                out = os.path.join(outdir, "cg." + tag)
                total = _callgrind(cluster, db, sql, out, c.collect)
                after = _single(cluster, db, COUNTS_SQL, outdir, tag + ".after")
                got = (after["posts"] - before["posts"], after["audit_rows"] - before["audit_rows"],
                       after["views"] - before["views"])
                want = _expected(c, v, n, before)
                if got != want:
                    raise RuntimeError(f"posts, audit rows, views added: {got}, expected {want}")
                entry = {"variant": v, "database": db, "instructions": total, "per_unit": total / n}
                if c.breakdown and v.startswith("chronicle"):
                    entry["breakdown"] = {k: x / n for k, x in _inclusive(out, c.breakdown).items()}
                res["variants"].append(entry)
                log(f"  {c.key}: {v:<15} {total / n:14,.0f} instructions per {c.unit}")
            except (RuntimeError, subprocess.SubprocessError, KeyError) as e:
                errors.append(f"instructions {c.key} {v}: {e}")
                log(f"  CHECK FAILED: instructions {c.key} {v}: {e}")
        res["seconds"] = time.time() - started
        results.append(res)
    return results, errors

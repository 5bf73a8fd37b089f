"""The variant databases: one cluster, one database per variant, the same data in each.

  bench_floor        reference schema, no trigger
  bench_limit        reference schema, no trigger (the client writes the audit rows itself)
  bench_reference    reference schema + the reference's PL/pgSQL triggers and functions
  bench_moddatetime  reference schema + contrib moddatetime on the updated_at-only table
  bench_chronicle    CREATE EXTENSION chronicle (newest version), row-mode audit
  bench_chronicle_stmt  the same, audit in statement mode (when the extension offers it)

The data is loaded once into a seed database per schema kind and cloned (CREATE DATABASE
... TEMPLATE, STRATEGY FILE_COPY), so that the reference-schema variants hold
byte-identical tables.
"""
import os
import subprocess
import time
from dataclasses import dataclass, field

from . import history
from .indexes import without_indexes

WRITER = "00000000-0000-4000-8000-00000000b001"
BULK = "00000000-0000-4000-8000-00000000b002"


@dataclass
class Facts:
    """What the pgbench scripts of a database need to know about its data."""
    posts: int = 0
    hot: int = 0            # posts 1..hot of bench_keys are the UPDATE targets
    top: int = 0            # DELETEs take bench_keys rows top, top-1, ...
    delete_floor: int = 0   # ... and must never reach this one (the view-count post)
    big_user: str = ""
    big_user_published: int = 0
    view_post: str = ""
    tsrows: int = 0


@dataclass
class Setup:
    chronicle_version: str = ""
    chronicle_features: dict = field(default_factory=dict)   # name -> None or why not
    facts: dict = field(default_factory=dict)                 # db -> Facts
    loader: str = ""
    notes: list = field(default_factory=list)
    view_counts_audited: dict = field(default_factory=dict)   # db -> does increment_post_views write audit rows
    history_rows: int = 0       # audit rows every database's audit_logs starts with (history.py)
    history_seconds: float = 0.0


def _history(s, cluster, db, changed_fields, log):
    """Writes the audit history into db (a seed database: its clones inherit it); every database
    must get the same number of rows."""
    t = time.time()
    n = history.seed(cluster, db, changed_fields)
    s.history_seconds += time.time() - t
    log(f"setup: {db}: {n:,} audit rows of history ({time.time() - t:.1f} s)")
    if s.history_rows and n != s.history_rows:
        raise RuntimeError(f"{db} got {n} audit rows of history, another database {s.history_rows}")
    s.history_rows = n


def _newest_version(cluster):
    versions = [r[0] for r in cluster.rows(
        "postgres", "SELECT version FROM pg_available_extension_versions WHERE name = 'chronicle'")]
    if not versions:
        raise RuntimeError("the chronicle extension is not installed (make install)")

    def key(v):
        return [int(x) if x.isdigit() else x for x in v.replace("-", ".").split(".")]
    return max(versions, key=key)


def _exists(cluster, db, regprocedure):
    return cluster.value(db, f"SELECT to_regprocedure('{regprocedure}') IS NOT NULL") == "t"


def _clone(cluster, template, name):
    cluster.psql("postgres", f"CREATE DATABASE {name} TEMPLATE {template} STRATEGY FILE_COPY")


USER_COLUMNS = ("id, email, name, password_hash, email_verified, created_at, updated_at, deleted_at, "
                "created_by, updated_by")
POST_COLUMNS = "id, user_id, title, content, status, published_at, view_count, created_at, updated_at"


def _copy_data(cluster, src, dst):
    """Copies users and posts from src to dst (binary COPY, triggers off: session_replication_role),
    in src's physical order, so that every database has the same heap layout.
    The posts indexes that back no constraint are dropped first and built again afterwards,
    with the same names and definitions: one sorted build each instead of a million inserts."""
    def copy():
        for table, cols in (("users", USER_COLUMNS), ("posts", POST_COLUMNS)):
            out = subprocess.Popen([cluster.bin("psql"), "-X", "-q", "-d", src, "-c",
                                    f"COPY {table} ({cols}) TO STDOUT (FORMAT binary)"],
                                   stdout=subprocess.PIPE, env=cluster.env)
            env = dict(cluster.env, PGOPTIONS="-c session_replication_role=replica")
            p = subprocess.run([cluster.bin("psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", dst, "-c",
                                f"COPY {table} ({cols}) FROM STDIN (FORMAT binary)"],
                               stdin=out.stdout, env=env, capture_output=True, text=True, timeout=3600)
            out.stdout.close()
            if out.wait(timeout=60) != 0 or p.returncode != 0:
                raise RuntimeError(f"copying {table} from {src} to {dst} failed: {p.stderr.strip()}")
    without_indexes(cluster, dst, "posts", copy)


def _common(cluster, db, bench_dir, sizes):
    cluster.psql(db, file=os.path.join(bench_dir, "sql/setup_common.sql"),
                 variables={"tsrows": sizes["tsrows"]}, timeout=1800)
    cluster.psql(db, "VACUUM (ANALYZE)", timeout=1800)


def _facts(cluster, db, sizes):
    f = Facts()
    f.posts = int(cluster.value(db, "SELECT count(*) FROM bench_keys"))
    f.hot = min(sizes["hot"], f.posts // 10)
    f.top = f.posts
    f.tsrows = sizes["tsrows"]
    row = cluster.rows(db, """
        SELECT user_id, count(*) FILTER (WHERE status = 'published')
        FROM posts GROUP BY user_id ORDER BY count(*) DESC, user_id LIMIT 1""")[0]
    f.big_user, f.big_user_published = row[0], int(row[1])
    row = cluster.rows(db, f"""
        SELECT k.n, k.id FROM bench_keys k JOIN posts p ON p.id = k.id
        WHERE k.n > {f.hot} AND p.status = 'published' ORDER BY k.n LIMIT 1""")[0]
    f.delete_floor, f.view_post = int(row[0]), row[1]
    return f


def _chronicle_db(cluster, db, version):
    cluster.psql("postgres", f"CREATE DATABASE {db}")
    cluster.psql(db, f"CREATE EXTENSION chronicle VERSION '{version}'")
    if _exists(cluster, db, "pending_migration_steps()"):
        for (ddl,) in cluster.rows(db, "SELECT ddl FROM pending_migration_steps()"):
            cluster.psql(db, ddl)


def _audit_trigger(cluster, db):
    return cluster.value(db, """
        SELECT tgname FROM pg_trigger WHERE tgrelid = 'public.posts'::regclass AND NOT tgisinternal
        AND tgfoid = to_regprocedure('public.audit_trigger_function()')""")


def _audits_view_counts(cluster, db):
    """Does an UPDATE of view_count alone write an audit row? (1.2: no, it is not an edit: the
    audit trigger's option not_an_edit= lists view_count.) encode(tgargs, 'escape') shows each
    argument followed by \\000."""
    return cluster.value(db, r"""
        SELECT encode(t.tgargs, 'escape') !~ '(^|\\000)\s*not_an_edit\s*=([^\\]*,)?\s*view_count\s*(,|\\000)'
        FROM pg_trigger t WHERE t.tgrelid = 'public.posts'::regclass AND NOT t.tgisinternal
        AND t.tgfoid = to_regprocedure('public.audit_trigger_function()')""") == "t"


def build(cluster, bench_dir, sizes, log):
    """Creates every variant database; returns a Setup."""
    s = Setup()
    ref = os.path.join(bench_dir, "reference")
    # Loading needs no durability: fsync is off until the data is in place, then back on
    # (a reload suffices), and everything written so far is flushed before any measurement.
    cluster.psql("postgres", "ALTER SYSTEM SET fsync = off; SELECT pg_reload_conf()")

    # The data: bench/load_posts.sql into the newest chronicle, then the same rows (same
    # ids) copied into every other database.
    s.chronicle_version = _newest_version(cluster)
    log(f"setup: loading {sizes['posts']:,} posts (bench/load_posts.sql) into chronicle {s.chronicle_version}")
    _chronicle_db(cluster, "bench_chronicle_seed", s.chronicle_version)
    cluster.psql("bench_chronicle_seed", file=os.path.join(bench_dir, "load_posts.sql"),
                 variables={"users": sizes["users"], "posts": sizes["posts"], "heavy_posts": sizes["big"],
                            "edited": sizes["history"]},
                 timeout=3600)
    # load_posts.sql fills posts with its indexes in place (one insert per row and index);
    # the other databases get sorted index builds (_copy_data). Rebuild these too, so that
    # every variant starts with compact indexes.
    cluster.psql("bench_chronicle_seed", "SET maintenance_work_mem = '256MB'; REINDEX TABLE posts; "
                                         "REINDEX TABLE users; VACUUM ANALYZE posts, users", timeout=3600)
    s.loader = "bench/load_posts.sql"

    log("setup: the reference-schema databases")
    cluster.psql("postgres", "CREATE DATABASE bench_seed")
    cluster.psql("bench_seed", file=os.path.join(ref, "schema.sql"))
    _copy_data(cluster, "bench_chronicle_seed", "bench_seed")
    _common(cluster, "bench_seed", bench_dir, sizes)
    _history(s, cluster, "bench_seed", history.REFERENCE_CHANGED_FIELDS, log)
    for name in ("floor", "limit", "reference", "moddatetime"):
        _clone(cluster, "bench_seed", f"bench_{name}")
    cluster.psql("postgres", "DROP DATABASE bench_seed")
    cluster.psql("bench_reference", file=os.path.join(ref, "triggers.sql"))
    cluster.psql("bench_reference", file=os.path.join(ref, "functions.sql"))
    cluster.psql("bench_reference", """
        CREATE TRIGGER ts_items_updated_at BEFORE UPDATE ON ts_items
        FOR EACH ROW EXECUTE FUNCTION public.update_updated_at_column()""")
    cluster.psql("bench_moddatetime", """
        CREATE EXTENSION moddatetime;
        CREATE TRIGGER ts_items_updated_at BEFORE UPDATE ON ts_items
        FOR EACH ROW EXECUTE FUNCTION moddatetime(updated_at)""")

    log("setup: the chronicle databases")
    ts_trigger = """CREATE TRIGGER ts_items_updated_at BEFORE UPDATE ON ts_items
        FOR EACH ROW EXECUTE FUNCTION public.update_updated_at_column()"""
    chronicle_dbs = ["bench_chronicle", "bench_chronicle_stmt"]
    if s.chronicle_version != "1.0":
        # chronicle 1.0 too: the 1.0 schema (the reference's audit indexes) with the native triggers.
        _chronicle_db(cluster, "bench_chronicle10", "1.0")
        _copy_data(cluster, "bench_chronicle_seed", "bench_chronicle10")
        if _exists(cluster, "bench_chronicle10", "refresh_post_counts()"):
            cluster.psql("bench_chronicle10", "SELECT refresh_post_counts()")
        _common(cluster, "bench_chronicle10", bench_dir, sizes)
        _history(s, cluster, "bench_chronicle10", None, log)
        cluster.psql("bench_chronicle10", ts_trigger)
        chronicle_dbs.append("bench_chronicle10")
    _common(cluster, "bench_chronicle_seed", bench_dir, sizes)
    _history(s, cluster, "bench_chronicle_seed", None, log)
    cluster.psql("bench_chronicle_seed", ts_trigger)
    for name in ("chronicle", "chronicle_stmt"):
        _clone(cluster, "bench_chronicle_seed", f"bench_{name}")
    cluster.psql("postgres", "DROP DATABASE bench_chronicle_seed")

    # What this build of the extension offers (the rest is reported as not built yet).
    feats = s.chronicle_features
    audit_trigger = _audit_trigger(cluster, "bench_chronicle")
    feats["audit"] = None if audit_trigger else "n/a (not built yet)"
    if "bench_chronicle10" in chronicle_dbs:
        feats["audit_1.0"] = None if _audit_trigger(cluster, "bench_chronicle10") else "n/a (not built yet)"
    else:
        feats["audit_1.0"] = "n/a (1.0 is the newest version)"
    for fn, sig in (("get_user_posts", "get_user_posts(uuid,varchar,int,int)"),
                    ("get_user_posts_keyset", "get_user_posts_keyset(uuid,varchar,int,text)"),
                    ("increment_post_views", "increment_post_views(uuid,int)")):
        feats[fn] = None if _exists(cluster, "bench_chronicle", sig) else "n/a (not built yet)"
    feats["increment_post_views_1.0"] = None if "bench_chronicle10" in chronicle_dbs and _exists(
        cluster, "bench_chronicle10", "increment_post_views(uuid,int)") else "n/a (not built yet)"
    feats["statement_mode"] = _statement_mode(cluster, "bench_chronicle_stmt", audit_trigger, bench_dir)
    s.view_counts_audited = {db: bool(_audit_trigger(cluster, db)) and _audits_view_counts(cluster, db)
                             for db in chronicle_dbs}
    s.view_counts_audited.update({"bench_reference": True, "bench_limit": True, "bench_floor": False})

    f = _facts(cluster, "bench_floor", sizes)
    for db in ("bench_floor", "bench_limit", "bench_reference", "bench_moddatetime"):
        s.facts[db] = f
    for db in chronicle_dbs:
        s.facts[db] = _facts(cluster, db, sizes)
    cluster.psql("postgres", "ALTER SYSTEM RESET fsync; SELECT pg_reload_conf()")
    time.sleep(0.5)
    if cluster.value("postgres", "SHOW fsync") != "on":
        raise RuntimeError("fsync did not come back on after loading")
    cluster.psql("postgres", "CHECKPOINT", timeout=1800)
    os.sync()
    return s


def _statement_mode(cluster, db, audit_trigger, bench_dir):
    """Switches db's posts audit to statement mode with bench/sql/chronicle_statement_mode.sql."""
    if not audit_trigger:
        return "n/a (not built yet)"
    path = os.path.join(bench_dir, "sql/chronicle_statement_mode.sql")
    if not os.path.exists(path):
        return "n/a (not built yet)"
    try:
        cluster.psql(db, file=path)
    except RuntimeError as e:
        return "n/a (not built yet: " + str(e).splitlines()[-1][:120] + ")"
    return None

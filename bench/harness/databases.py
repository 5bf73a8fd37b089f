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
import time
from dataclasses import dataclass, field

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


def _load(cluster, db, bench_dir, sizes, log):
    """Loads users and posts with bench/load_posts.sql when it exists, else the small loader."""
    loader = os.path.join(bench_dir, "load_posts.sql")
    if os.path.exists(loader) and sizes.get("use_big_loader", True):
        cluster.psql(db, file=loader, variables={k: v for k, v in sizes.items() if k != "use_big_loader"},
                     timeout=3600)
        return "bench/load_posts.sql"
    cluster.psql(db, file=os.path.join(bench_dir, "sql/load_small.sql"),
                 variables={"users": sizes["users"], "posts": sizes["posts"], "big": sizes["big"]})
    return "bench/sql/load_small.sql"


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


def build(cluster, bench_dir, sizes, log):
    """Creates every variant database; returns a Setup."""
    s = Setup()
    ref = os.path.join(bench_dir, "reference")
    # Loading needs no durability: fsync is off until the data is in place, then back on
    # (a reload suffices), and everything written so far is flushed before any measurement.
    cluster.psql("postgres", "ALTER SYSTEM SET fsync = off; SELECT pg_reload_conf()")

    # Reference-schema seed, cloned into floor, limit, reference, moddatetime.
    log("setup: loading the reference-schema seed")
    cluster.psql("postgres", "CREATE DATABASE bench_seed")
    cluster.psql("bench_seed", file=os.path.join(ref, "schema.sql"))
    s.loader = _load(cluster, "bench_seed", bench_dir, sizes, log)
    _common(cluster, "bench_seed", bench_dir, sizes)
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

    # chronicle: the extension makes its own tables; load with its audit trigger off
    # (the seed rows are not changes to audit), every other trigger on.
    log("setup: loading the chronicle seed")
    s.chronicle_version = _newest_version(cluster)
    cluster.psql("postgres", "CREATE DATABASE bench_chronicle_seed")
    cluster.psql("bench_chronicle_seed", f"CREATE EXTENSION chronicle VERSION '{s.chronicle_version}'")
    if _exists(cluster, "bench_chronicle_seed", "pending_migration_steps()"):
        for (ddl,) in cluster.rows("bench_chronicle_seed", "SELECT ddl FROM pending_migration_steps()"):
            cluster.psql("bench_chronicle_seed", ddl)
    audit_trigger = cluster.value("bench_chronicle_seed", """
        SELECT tgname FROM pg_trigger WHERE tgrelid = 'public.posts'::regclass
        AND tgfoid = to_regprocedure('public.audit_trigger_function()')""")
    if audit_trigger:
        cluster.psql("bench_chronicle_seed", f"ALTER TABLE posts DISABLE TRIGGER {audit_trigger}")
    _load(cluster, "bench_chronicle_seed", bench_dir, sizes, log)
    if audit_trigger:
        cluster.psql("bench_chronicle_seed", f"ALTER TABLE posts ENABLE TRIGGER {audit_trigger}")
    _common(cluster, "bench_chronicle_seed", bench_dir, sizes)
    cluster.psql("bench_chronicle_seed", """
        CREATE TRIGGER ts_items_updated_at BEFORE UPDATE ON ts_items
        FOR EACH ROW EXECUTE FUNCTION public.update_updated_at_column()""")
    for name in ("chronicle", "chronicle_stmt"):
        _clone(cluster, "bench_chronicle_seed", f"bench_{name}")
    cluster.psql("postgres", "DROP DATABASE bench_chronicle_seed")

    # What this build of the extension offers (the rest is reported as not built yet).
    feats = s.chronicle_features
    feats["audit"] = None if audit_trigger else "n/a (not built yet)"
    for fn, sig in (("get_user_posts", "get_user_posts(uuid,varchar,int,int)"),
                    ("get_user_posts_keyset", "get_user_posts_keyset(uuid,varchar,int,text)"),
                    ("increment_post_views", "increment_post_views(uuid,int)")):
        feats[fn] = None if _exists(cluster, "bench_chronicle", sig) else "n/a (not built yet)"
    feats["statement_mode"] = _statement_mode(cluster, "bench_chronicle_stmt", audit_trigger, bench_dir)

    for db in ("bench_floor", "bench_limit", "bench_reference", "bench_moddatetime"):
        s.facts[db] = None
    f = _facts(cluster, "bench_floor", sizes)
    for db in ("bench_floor", "bench_limit", "bench_reference", "bench_moddatetime"):
        s.facts[db] = f
    f = _facts(cluster, "bench_chronicle", sizes)
    for db in ("bench_chronicle", "bench_chronicle_stmt"):
        s.facts[db] = f
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

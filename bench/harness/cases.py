"""The pgbench cases: which variants run which script, and the loop that runs them.

Within a case, for each synchronous_commit setting, every variant gets a short
unmeasured warm-up, then the measured rounds run the variants in turn, A B C ... A B C
..., so that drift (caches, WAL, the other helpers' load) hits each variant alike and
each round yields pair-by-pair ratios.
"""
import os
import time
from dataclasses import dataclass, field

from . import checks, pgbench
from .cluster import CheckFailed
from .databases import WRITER


@dataclass
class Variant:
    label: str
    db: str
    script: str
    audited: bool = False
    maintains_ts: bool = False
    unavailable: str = None
    defines: dict = field(default_factory=dict)


@dataclass
class Case:
    key: str
    title: str
    kind: str                   # insert | update | delete | ts | increment | read
    variants: list
    clients: int = 1
    syncs: tuple = ("on", "off")
    comparisons: list = field(default_factory=list)   # (a, b): throughput a / b
    overhead: list = field(default_factory=list)      # (a, b): (cost a - floor) / (cost b - floor)
    note: str = ""
    rounds: int = None          # measured rounds (default: the mode's)
    duration: int = None        # seconds per measured run (default: the mode's; full mode only)


def _v(label, db, script, **kw):
    return Variant(label, "bench_" + db, script, **kw)


def build_cases(setup, depths):
    """Every case, with variants marked unavailable where the extension lacks the function."""
    feats = setup.chronicle_features
    audit_na = feats.get("audit")
    stmt_na = feats.get("statement_mode")
    cases = []

    def posts_variants(floor_script, limit_script, triggered_script, with_10=True):
        v = [_v("floor", "floor", floor_script),
             _v("limit", "limit", limit_script, audited=True),
             _v("reference", "reference", triggered_script, audited=True)]
        if with_10:
            v.append(_v("chronicle 1.0", "chronicle10", triggered_script, audited=True,
                        unavailable=feats.get("audit_1.0")))
        return v + [_v("chronicle", "chronicle", triggered_script, audited=True, unavailable=audit_na),
                    _v("chronicle stmt", "chronicle_stmt", triggered_script, audited=True, unavailable=stmt_na)]

    write_cmp = [("chronicle", "reference"), ("chronicle 1.0", "reference"), ("chronicle stmt", "reference"),
                 ("chronicle", "floor"), ("reference", "floor"), ("limit", "floor"), ("chronicle", "limit")]
    write_overhead = [("chronicle", "reference"), ("chronicle 1.0", "reference"), ("chronicle stmt", "reference"),
                      ("limit", "reference")]
    cases.append(Case("posts_insert", "posts: single-row INSERT", "insert",
                      posts_variants("posts_insert_floor.sql", "posts_insert_limit.sql",
                                     "posts_insert_triggered.sql"),
                      comparisons=write_cmp, overhead=write_overhead))
    cases.append(Case("posts_update", "posts: single-row UPDATE of title and status", "update",
                      posts_variants("posts_update_floor.sql", "posts_update_limit.sql",
                                     "posts_update_triggered.sql"),
                      comparisons=write_cmp, overhead=write_overhead))
    cases.append(Case("posts_delete", "posts: single-row DELETE", "delete",
                      posts_variants("posts_delete_plain.sql", "posts_delete_limit.sql",
                                     "posts_delete_plain.sql", with_10=False),
                      comparisons=write_cmp, overhead=write_overhead))
    # Worst-case latency (the latency meter): one long run per variant of audited single-row UPDATEs, where the
    # reference's GIN pending-list flushes stall the write that triggers them.
    cases.append(Case("posts_latency", "posts: worst single-row UPDATE latency over one long run", "update",
                      [_v("floor", "floor", "posts_update_floor.sql"),
                       _v("reference", "reference", "posts_update_triggered.sql", audited=True),
                       _v("chronicle", "chronicle", "posts_update_triggered.sql", audited=True,
                          unavailable=audit_na)],
                      syncs=("off",), rounds=1,
                      comparisons=[("chronicle", "reference"), ("chronicle", "floor"), ("reference", "floor")],
                      note="one long run per variant (the latency meter), synchronous_commit off; read the max "
                           "and p99 columns."))
    cases.append(Case("ts_update", "UPDATE of a table whose only trigger maintains updated_at", "ts",
                      [_v("floor", "floor", "ts_update_plain.sql"),
                       _v("reference", "reference", "ts_update_plain.sql", maintains_ts=True),
                       _v("moddatetime", "moddatetime", "ts_update_plain.sql", maintains_ts=True),
                       _v("chronicle", "chronicle", "ts_update_plain.sql", maintains_ts=True)],
                      comparisons=[("chronicle", "reference"), ("chronicle", "moddatetime"),
                                   ("chronicle", "floor"), ("reference", "floor"), ("moddatetime", "floor")],
                      overhead=[("chronicle", "reference"), ("moddatetime", "reference")],
                      note="floor: no trigger, updated_at not maintained."))
    incr_na = feats.get("increment_post_views")
    incr10_na = feats.get("increment_post_views_1.0")
    audited = setup.view_counts_audited
    for clients in (1, 2):
        cases.append(Case(f"increment_{clients}", f"increment_post_views on one post, {clients} client"
                          + ("s" if clients > 1 else ""), "increment",
                          [_v("plain UPDATE", "floor", "increment_plain.sql"),
                           _v("reference", "reference", "increment_function.sql", audited=True),
                           _v("chronicle 1.0", "chronicle10", "increment_function.sql",
                              audited=audited.get("bench_chronicle10", True), unavailable=incr10_na),
                           _v("chronicle", "chronicle", "increment_function.sql",
                              audited=audited.get("bench_chronicle", True), unavailable=incr_na)],
                          clients=clients,
                          comparisons=[("chronicle", "reference"), ("chronicle", "chronicle 1.0"),
                                       ("chronicle", "plain UPDATE"), ("chronicle 1.0", "plain UPDATE"),
                                       ("reference", "plain UPDATE")],
                          note="plain UPDATE: `UPDATE posts SET view_count = view_count + 1` from the client "
                               "in the no-trigger database. " + (
                                   "chronicle (newest version): a view is not an edit, no audit row and "
                                   "updated_at unchanged (checked); chronicle 1.0: audited like any UPDATE."
                                   if not audited.get("bench_chronicle", True) else "")))
    gup_na = feats.get("get_user_posts")
    key_na = feats.get("get_user_posts_keyset")
    for depth in depths:
        cases.append(Case(f"read_{depth}", f"get_user_posts at offset {depth:,} (page of 10)", "read",
                          [_v("reference", "reference", "read_offset.sql", defines={"off": depth}),
                           _v("chronicle", "chronicle", "read_offset.sql", defines={"off": depth},
                              unavailable=gup_na),
                           _v("chronicle keyset", "chronicle",
                              "read_keyset_first.sql" if depth == 0 else "read_keyset.sql",
                              defines={"depth": depth}, unavailable=key_na)],
                          syncs=("off",),
                          comparisons=[("chronicle", "reference"), ("chronicle keyset", "reference"),
                                       ("chronicle keyset", "chronicle")],
                          note="reads write no WAL, so synchronous_commit does not apply; "
                               "keyset: the page that starts at the same depth, through its cursor."))
    return cases


@dataclass
class CaseResult:
    case: Case
    runs: dict = field(default_factory=dict)        # (sync, label) -> [RunResult per round]
    errors: list = field(default_factory=list)      # strings
    failed_variants: set = field(default_factory=set)
    audit_bytes: dict = field(default_factory=dict)  # label -> (table B/row, index B/row, rows)
    seconds: float = 0.0


def _audit_sizes(cluster, db, since):
    """(table bytes, index bytes, audit rows with id > since): the rows by the primary key's range."""
    row = cluster.rows(db, "SELECT pg_table_size('audit_logs'), pg_indexes_size('audit_logs'), "
                           f"(SELECT count(*) FROM audit_logs WHERE id > {since})")[0]
    return tuple(int(x) for x in row)


def _defines(variant, facts, cursors):
    d = {"writer": WRITER, "hot": facts.hot, "top": facts.top, "tsrows": facts.tsrows,
         "pid": facts.view_post, "uid": facts.big_user}
    d.update(variant.defines)
    if "depth" in d:
        depth = d.pop("depth")
        if depth:
            d["cursor"] = cursors[(variant.db, depth)]
    return d


def run_case(ctx, case):
    """Runs one case; returns a CaseResult (errors recorded, not raised)."""
    cl = ctx.cluster
    res = CaseResult(case)
    started = time.time()
    variants = [v for v in case.variants if not v.unavailable]
    dbs = sorted({v.db for v in variants})
    # The same starting point for every variant: the audit log with its history and whatever
    # the cases before wrote (never emptied: see history.py), vacuumed tables (which also
    # flushes GIN pending lists), and a checkpoint so that no checkpoint falls inside the
    # measured runs. The checks read only the audit rows written since the case's start.
    for db in dbs:
        cl.psql(db, "VACUUM (ANALYZE) posts, ts_items, audit_logs", timeout=1800)
    cl.psql("postgres", "CHECKPOINT", timeout=1800)
    start = {db: checks.case_start(cl, db) for db in dbs}
    start_sizes = {v.label: _audit_sizes(cl, v.db, start[v.db]["audit_max"]) for v in variants if v.audited}
    scripts = os.path.join(ctx.bench_dir, "pgbench")
    transactions = {v.label: 0 for v in variants}   # of every run, warm-ups included: one audit row each

    def one(v, sync, tag, **how):
        facts = ctx.setup.facts[v.db]
        # A GIN index with fastupdate defers its work to a pending list that some later
        # write (or VACUUM) flushes. Each run starts with empty lists and ends by flushing
        # what it queued, so that the deferred work's WAL is charged to the run that caused it.
        flush_pending = case.kind != "read"
        if flush_pending:
            checks.flush_gin_pending_lists(cl, v.db)
        before = checks.snapshot(cl, v.db, facts)
        r = pgbench.run(cl, v.db, os.path.join(scripts, v.script), ctx.logdir, tag, sync,
                        clients=case.clients, defines=_defines(v, facts, ctx.cursors), **how)
        if flush_pending:
            checks.flush_gin_pending_lists(cl, v.db)
        after = checks.after_snapshot(cl, v.db, facts, case.kind, before, r.transactions)
        r.wal_bytes = after["lsn"] - before["lsn"]
        r.wal_fpi_bytes = pgbench.fpi_bytes(cl, before["lsn_text"], after["lsn_text"])
        checks.after_run(v, case.kind, before, after, r)
        transactions[v.label] += r.transactions
        return r

    for pass_no, sync in enumerate(ctx.syncs_for(case)):
        for v in variants:
            # One warm-up per variant, before the first pass (the second starts warm).
            if v.label in res.failed_variants or not ctx.warmup_for(case) or pass_no:
                continue
            try:
                one(v, sync, "warmup", **ctx.warmup_for(case))
            except (CheckFailed, RuntimeError) as e:
                res.failed_variants.add(v.label)
                res.errors.append(f"{v.label} (warm-up, synchronous_commit={sync}): {e}")
        for rnd in range(case.rounds or ctx.rounds):
            for v in variants:
                if v.label in res.failed_variants:
                    continue
                try:
                    r = one(v, sync, "run", **ctx.measure_for(case))
                    res.runs.setdefault((sync, v.label), []).append(r)
                    ctx.log(f"  {case.key} sync={sync} round {rnd + 1}: {v.label:<15} "
                            f"{r.tps:10.1f} tps  {r.transactions:7d} tx  {r.wal_per_tx or 0:8.0f} WAL B/tx")
                except (CheckFailed, RuntimeError) as e:
                    res.failed_variants.add(v.label)
                    res.errors.append(f"{v.label} (round {rnd + 1}, synchronous_commit={sync}): {e}")
    for v in variants:
        if v.label in res.failed_variants:
            continue
        try:
            checks.case_end(cl, v, case.kind, start[v.db], transactions[v.label])
        except (CheckFailed, RuntimeError) as e:
            res.failed_variants.add(v.label)
            res.errors.append(f"{v.label} (audit rows at the end of the case): {e}")
        if v.audited:
            t1, i1, n1 = _audit_sizes(cl, v.db, start[v.db]["audit_max"])
            t0, i0, n0 = start_sizes[v.label]
            if n1 > n0:
                res.audit_bytes[v.label] = ((t1 - t0) / (n1 - n0), (i1 - i0) / (n1 - n0), n1 - n0)
    res.seconds = time.time() - started
    return res

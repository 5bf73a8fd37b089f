"""Correctness checks: every run must have done exactly the work it claims.

After each pgbench run: the table's row counters moved by exactly one row per
transaction (so no statement silently matched nothing), and an audited variant
wrote exactly one audit row per changed row. At the end of a case: every audit row
the case wrote is exact (old_data/new_data equal to_jsonb of the row versions,
consecutive audit rows of a record chain, changed_fields as the variant defines
them). The audit log is never emptied (it starts with a history, history.py): every
check reads the rows with an id above the case's or run's starting max(id), a range
of the primary key.
"""
import time

from .cluster import CheckFailed
from .databases import WRITER
from .history import REFERENCE_CHANGED_FIELDS


def _snapshot_sql(facts):
    view = f"(SELECT view_count || '/' || updated_at FROM posts WHERE id = '{facts.view_post}')" \
        if facts.view_post else "NULL"
    return f"""SELECT 'snap', s.n_tup_ins, s.n_tup_upd, s.n_tup_del,
               (SELECT n_tup_upd FROM pg_stat_user_tables WHERE relid = 'public.ts_items'::regclass),
               (SELECT coalesce(max(id), 0) FROM audit_logs), {view}, now()
        FROM pg_stat_user_tables s WHERE s.relid = 'public.posts'::regclass;"""


def _parse_snapshot(row):
    return {"ins": int(row[1]), "upd": int(row[2]), "del": int(row[3]), "ts_upd": int(row[4]),
            "audit_max": int(row[5]), "views": int(row[6].split("/")[0]) if row[6] else None,
            "view_updated_at": row[6].split("/", 1)[1] if row[6] else None, "now": row[7]}


def _rows_by_tag(cluster, db, sql):
    out = {}
    for row in cluster.rows(db, sql):
        out.setdefault(row[0], row)
    return out


LSN_SQL = "SELECT 'lsn', pg_current_wal_insert_lsn(), pg_current_wal_insert_lsn() - '0/0'::pg_lsn;"


FLUSH_GIN_SQL = """SELECT count(gin_clean_pending_list(i.indexrelid)) FROM pg_index i
    JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam
    WHERE a.amname = 'gin' AND c.relnamespace = 'public'::regnamespace"""


def flush_gin_pending_lists(cluster, db):
    """Moves every GIN pending list of db's tables into its index (a no-op without fastupdate)."""
    cluster.psql(db, FLUSH_GIN_SQL)


def snapshot(cluster, db, facts):
    """Counters, audit position and WAL position before a run (one psql call)."""
    rows = _rows_by_tag(cluster, db, LSN_SQL + _snapshot_sql(facts))
    snap = _parse_snapshot(rows["snap"])
    snap["lsn_text"], snap["lsn"] = rows["lsn"][1], int(float(rows["lsn"][2]))
    return snap


def after_snapshot(cluster, db, facts, kind, before, tx):
    """The same after a run: the WAL position first, then a synchronous commit (so that
    pg_waldump finds every record on disk), counters, and the audit rows written since."""
    ops = {"insert": "INSERT", "update": "UPDATE", "delete": "DELETE", "increment": "UPDATE"}
    extra = f"""SELECT 'audit', count(*) FILTER (WHERE table_name = 'posts' AND operation = '{ops.get(kind, "")}'),
               count(*) FROM audit_logs WHERE id > {before['audit_max']};
        SELECT 'ts', count(*) FROM ts_items WHERE updated_at >= '{before['now']}';"""
    key = COUNTER.get(kind)
    rows = _rows_by_tag(cluster, db, LSN_SQL + "SELECT 'flush', pg_current_xact_id();" + _snapshot_sql(facts) + extra)
    snap = _parse_snapshot(rows["snap"])
    deadline = time.time() + 15
    # Backends flush their statistics when they exit, just after pgbench does: poll.
    while key and snap[key] < before[key] + tx and time.time() < deadline:
        time.sleep(0.05)
        snap = _parse_snapshot(_rows_by_tag(cluster, db, _snapshot_sql(facts))["snap"])
    snap["lsn_text"], snap["lsn"] = rows["lsn"][1], int(float(rows["lsn"][2]))
    snap["audit_op"], snap["audit_all"] = int(rows["audit"][1]), int(rows["audit"][2])
    snap["ts_moved"] = int(rows["ts"][1])
    return snap


COUNTER = {"insert": "ins", "update": "upd", "delete": "del", "increment": "upd", "ts": "ts_upd"}
AUDIT_OP = {"insert": "INSERT", "update": "UPDATE", "delete": "DELETE", "increment": "UPDATE"}


def after_run(variant, kind, before, after, result):
    """Raises CheckFailed unless the run did exactly one change per transaction."""
    tx = result.transactions
    if result.failed:
        raise CheckFailed(f"{result.failed} failed transactions")
    if tx <= 0:
        raise CheckFailed("no transaction completed")
    if kind == "read":
        return
    key = COUNTER[kind]
    if after[key] - before[key] != tx:
        raise CheckFailed(f"{after[key] - before[key]} rows changed by {tx} transactions ({key})")
    if variant.audited:
        if after["audit_op"] != tx or after["audit_all"] != tx:
            raise CheckFailed(f"{after['audit_op']} {AUDIT_OP[kind]} audit rows ({after['audit_all']} in all) "
                              f"for {tx} changed rows")
    elif kind != "ts" and after["audit_all"]:
        raise CheckFailed(f"{after['audit_all']} audit rows written by an unaudited variant")
    if kind == "increment":
        if after["views"] - before["views"] != tx:
            raise CheckFailed(f"view_count moved by {after['views'] - before['views']} for {tx} committed calls")
        # An audited view is an edit (1.0: updated_at moves); an unaudited one is not.
        moved = after["view_updated_at"] != before["view_updated_at"]
        if moved != variant.audited:
            raise CheckFailed(f"updated_at {'moved' if moved else 'did not move'} on a view count "
                              f"({'audited' if variant.audited else 'unaudited'} variant)")
    if kind == "ts":
        moved = after["ts_moved"]
        if variant.maintains_ts and not 0 < moved <= tx:
            raise CheckFailed(f"updated_at moved on {moved} rows for {tx} updates")
        if not variant.maintains_ts and moved:
            raise CheckFailed(f"updated_at moved on {moved} rows without a trigger")


def _changed_fields_rule(variant):
    # The reference's function compares three columns only; chronicle (and the limit
    # variant, which writes chronicle's rows) every column, in column order.
    if variant.label == "reference":
        return "AND att.attname IN (" + ", ".join(f"'{c}'" for c in REFERENCE_CHANGED_FIELDS) + ")"
    return ""


def _previous_image(since):
    """The new_data of audit row l's record before the case (from the history or an earlier case), or
    NULL: what l's old_data must be when it is the record's first audit row of the case. Valid because
    no case changes a post without an audit row, except view counts in 1.2 (of a post no case deletes
    or edits)."""
    return f"""(SELECT b.new_data FROM audit_logs b WHERE b.record_id = l.record_id AND b.id <= {since}
                ORDER BY b.id DESC LIMIT 1)"""


def case_start(cluster, db):
    """Where the case starts: the audit log's max(id) (the checks read the rows above it)
    and how many posts the single-row INSERT writer holds."""
    row = cluster.rows(db, f"""SELECT (SELECT coalesce(max(id), 0) FROM audit_logs),
                                      (SELECT count(*) FROM posts WHERE user_id = '{WRITER}')""")[0]
    return {"audit_max": int(row[0]), "writer_posts": int(row[1])}


def case_end(cluster, variant, kind, start, transactions):
    """Exactness of every audit row the case wrote: those with id > start["audit_max"], one
    per transaction of the case's runs (warm-ups included)."""
    db = variant.db
    if not variant.audited:
        return
    since = start["audit_max"]
    # The bench runs without autovacuum: without fresh statistics of what the case wrote the
    # planner may nest loops over tens of thousands of rows (minutes).
    cluster.psql(db, "ANALYZE posts; ANALYZE audit_logs;")
    row = cluster.rows(db, f"""SELECT count(*), count(*) FILTER (WHERE table_name = 'posts' AND operation = '{AUDIT_OP[kind]}')
                               FROM audit_logs WHERE id > {since}""")[0]
    if int(row[0]) != transactions or int(row[1]) != transactions:
        raise CheckFailed(f"{row[0]} audit rows ({row[1]} {AUDIT_OP[kind]} of posts) for the case's "
                          f"{transactions} transactions")
    if kind == "insert":
        # A bijection between the posts the writer gained and the INSERT audit rows since
        # the start: as many of each, every audit row the exact image of a distinct new post.
        row = cluster.rows(db, f"""
            WITH a AS (SELECT * FROM audit_logs WHERE id > {since} AND operation = 'INSERT')
            SELECT (SELECT count(*) FROM posts WHERE user_id = '{WRITER}') - {start['writer_posts']},
                   (SELECT count(*) FROM a), (SELECT count(DISTINCT record_id) FROM a),
                   (SELECT count(*) FROM a WHERE NOT EXISTS (
                        SELECT 1 FROM posts p WHERE p.id = a.record_id AND p.user_id = '{WRITER}'
                        AND a.table_name = 'posts' AND a.old_data IS NULL AND a.new_data = to_jsonb(p)
                        AND a.user_id = p.user_id AND a.changed_fields = '{{}}'))""")[0]
        new_posts, audits, distinct, inexact = map(int, row)
        if new_posts != audits or distinct != audits or inexact:
            raise CheckFailed(f"{new_posts} posts inserted, {audits} INSERT audit rows ({distinct} records), "
                              f"{inexact} of them not the exact image of a new post")
    elif kind in ("update", "increment"):
        row = cluster.rows(db, f"""
            WITH a AS (
                SELECT id, record_id, old_data, new_data, changed_fields,
                       coalesce(lag(new_data) OVER (PARTITION BY record_id ORDER BY id), {_previous_image(since)}) AS prev
                FROM audit_logs l WHERE id > {since} AND table_name = 'posts' AND operation = 'UPDATE')
            SELECT count(*) FILTER (WHERE prev IS NOT NULL AND old_data <> prev),
                   count(*) FILTER (WHERE changed_fields IS DISTINCT FROM ARRAY(
                       SELECT att.attname::text FROM pg_attribute att
                       WHERE att.attrelid = 'public.posts'::regclass AND att.attnum > 0
                         AND NOT att.attisdropped {_changed_fields_rule(variant)}
                         AND (a.old_data -> att.attname::text) IS DISTINCT FROM (a.new_data -> att.attname::text)
                       ORDER BY att.attnum)),
                   count(*) FILTER (WHERE old_data ->> 'id' <> record_id::text OR new_data ->> 'id' <> record_id::text),
                   (SELECT count(*) FROM (SELECT DISTINCT ON (record_id) record_id, new_data FROM a
                                          ORDER BY record_id, id DESC) l
                    JOIN posts p ON p.id = l.record_id WHERE l.new_data <> to_jsonb(p))
            FROM a""")[0]
        names = ["audit rows whose old_data is not the previous new_data",
                 "audit rows with wrong changed_fields", "audit rows of another record",
                 "records whose last audit row is not the current row"]
        problems = [f"{n} {what}" for n, what in zip(map(int, row), names) if n]
        if problems:
            raise CheckFailed("; ".join(problems))
    elif kind == "delete":
        bad = cluster.value(db, f"""
            SELECT count(*) FROM audit_logs l WHERE l.id > {since} AND l.operation = 'DELETE'
              AND (l.table_name <> 'posts' OR l.new_data IS NOT NULL OR l.old_data ->> 'id' IS DISTINCT FROM l.record_id::text
                   OR l.changed_fields <> '{{}}' OR EXISTS (SELECT 1 FROM posts p WHERE p.id = l.record_id)
                   OR l.old_data IS DISTINCT FROM coalesce({_previous_image(since)}, l.old_data))""")
        if int(bad):
            raise CheckFailed(f"{bad} inexact DELETE audit rows")

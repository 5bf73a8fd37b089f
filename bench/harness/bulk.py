"""Bulk statements: the per-row cost of a trigger, measured the precise way.

Each round and variant runs, in one session, INSERT ... SELECT of N posts, an UPDATE
of those N rows (title and status) and a DELETE of them, each timed by psql and
followed (untimed) by a check that the statement changed exactly N rows and, where
audited, wrote exactly N exact audit rows. The cost per row above the no-trigger
floor, (t_variant - t_floor) / N, is the trigger's cost per row.
"""
import re
import time
from dataclasses import dataclass, field

from .cluster import CheckFailed
from .databases import BULK

CONTENT = "repeat('Bulk content of a post. ', 12)"

FLOOR = {
    "insert": f"""INSERT INTO posts (user_id, title, content, status, published_at)
SELECT '{BULK}', 'Bulk ' || g, {CONTENT}, CASE WHEN g % 2 = 0 THEN 'published' ELSE 'draft' END,
       CASE WHEN g % 2 = 0 THEN CURRENT_TIMESTAMP END
FROM generate_series(1, :rows) g;""",
    # published -> archived clears published_at, draft -> published sets it (as the triggers do).
    "update": f"""UPDATE posts SET title = title || ' (edited)',
    status = CASE WHEN status = 'published' THEN 'archived' ELSE 'published' END,
    published_at = CASE WHEN status = 'published' THEN NULL ELSE CURRENT_TIMESTAMP END,
    updated_at = CURRENT_TIMESTAMP
WHERE user_id = '{BULK}';""",
    "delete": f"DELETE FROM posts WHERE user_id = '{BULK}';",
}

TRIGGERED = {
    "insert": f"""INSERT INTO posts (user_id, title, content, status)
SELECT '{BULK}', 'Bulk ' || g, {CONTENT}, CASE WHEN g % 2 = 0 THEN 'published' ELSE 'draft' END
FROM generate_series(1, :rows) g;""",
    "update": f"""UPDATE posts SET title = title || ' (edited)',
    status = CASE WHEN status = 'published' THEN 'archived' ELSE 'published' END
WHERE user_id = '{BULK}';""",
    "delete": FLOOR["delete"],
}

AUDIT_COLUMNS = "table_name, operation, record_id, user_id, old_data, new_data, changed_fields, ip_address"
CHANGED = ", ".join(f"CASE WHEN b.{c} IS DISTINCT FROM p.{c} THEN '{c}' END" for c in (
    "id", "user_id", "title", "content", "status", "published_at", "view_count", "created_at", "updated_at"))

LIMIT = {
    "insert": f"""WITH ins AS (
{FLOOR['insert'].rstrip(';')}
RETURNING *)
INSERT INTO audit_logs ({AUDIT_COLUMNS})
SELECT 'posts', 'INSERT', id, user_id, NULL, to_jsonb(ins), '{{}}', inet_client_addr() FROM ins;""",
    # The old rows come from a self-join in FROM (PostgreSQL 15 has no RETURNING OLD);
    # exact because no other session writes the bulk user's rows.
    "update": f"""WITH changed AS (
    UPDATE posts p SET title = p.title || ' (edited)',
        status = CASE WHEN p.status = 'published' THEN 'archived' ELSE 'published' END,
        published_at = CASE WHEN p.status = 'published' THEN NULL ELSE CURRENT_TIMESTAMP END,
        updated_at = CURRENT_TIMESTAMP
    FROM posts b WHERE b.user_id = '{BULK}' AND p.id = b.id
    RETURNING p.id, p.user_id, to_jsonb(b) AS old_data, to_jsonb(p) AS new_data,
              array_remove(ARRAY[{CHANGED}], NULL) AS changed_fields)
INSERT INTO audit_logs ({AUDIT_COLUMNS})
SELECT 'posts', 'UPDATE', id, user_id, old_data, new_data, changed_fields, inet_client_addr() FROM changed;""",
    "delete": f"""WITH del AS (DELETE FROM posts WHERE user_id = '{BULK}' RETURNING *)
INSERT INTO audit_logs ({AUDIT_COLUMNS})
SELECT 'posts', 'DELETE', id, user_id, to_jsonb(del), NULL, '{{}}', inet_client_addr() FROM del;""",
}

# Untimed checks after each statement: rows of the bulk user, and the audit rows
# that must exactly mirror them (each audit row's old_data is the previous one's new_data).
CHECK = {
    "insert": f"""SELECT 'check', (SELECT count(*) FROM posts WHERE user_id = '{BULK}'),
    (SELECT count(*) FROM audit_logs WHERE operation = 'INSERT'),
    (SELECT count(*) FROM posts p JOIN audit_logs a ON a.record_id = p.id AND a.operation = 'INSERT'
     WHERE p.user_id = '{BULK}' AND a.new_data = to_jsonb(p) AND a.old_data IS NULL);""",
    "update": f"""SELECT 'check', (SELECT count(*) FROM posts WHERE user_id = '{BULK}' AND title LIKE '%(edited)'),
    (SELECT count(*) FROM audit_logs WHERE operation = 'UPDATE'),
    (SELECT count(*) FROM posts p JOIN audit_logs u ON u.record_id = p.id AND u.operation = 'UPDATE'
     JOIN audit_logs i ON i.record_id = p.id AND i.operation = 'INSERT'
     WHERE p.user_id = '{BULK}' AND u.new_data = to_jsonb(p) AND u.old_data = i.new_data);""",
    "delete": f"""SELECT 'check', (SELECT count(*) FROM posts WHERE user_id = '{BULK}') + :rows,
    (SELECT count(*) FROM audit_logs WHERE operation = 'DELETE'),
    (SELECT count(*) FROM audit_logs d JOIN audit_logs u ON u.record_id = d.record_id AND u.operation = 'UPDATE'
     WHERE d.operation = 'DELETE' AND d.old_data = u.new_data AND d.new_data IS NULL);""",
}

OPS = ("insert", "update", "delete")


@dataclass
class BulkResult:
    rows: int
    variants: list
    times: dict = field(default_factory=dict)     # (label, op) -> [ms per round]
    wal: dict = field(default_factory=dict)       # (label, op) -> [bytes per round]
    sizes: dict = field(default_factory=dict)     # (label, op) -> audit log (table, index) bytes after op
    errors: list = field(default_factory=list)
    failed_variants: set = field(default_factory=set)
    unavailable: dict = field(default_factory=dict)
    seconds: float = 0.0


def _script(statements, audited, rows):
    parts = ["\\set ON_ERROR_STOP 1", f"\\set rows {rows}"]
    for op in OPS:
        parts += [f"\\echo @@ {op}",
                  "SELECT 'lsn', pg_current_wal_insert_lsn() - '0/0'::pg_lsn;",
                  "\\timing on", statements[op], "\\timing off",
                  "SELECT 'lsn', pg_current_wal_insert_lsn() - '0/0'::pg_lsn;",
                  CHECK[op],
                  "SELECT 'size', pg_table_size('audit_logs'), pg_indexes_size('audit_logs');"]
    return "\n".join(parts) + "\n"


def _parse(out):
    """-> {op: {'ms': float, 'tag': int, 'wal': int, 'check': (a, b, c), 'size': (t, i)}}"""
    res, op, lsn = {}, None, []
    for line in out.splitlines():
        if line.startswith("@@ "):
            op = line[3:].strip()
            res[op] = {}
            lsn = []
            continue
        m = re.match(r"Time: ([\d.]+) ms", line)
        if m:
            res[op]["ms"] = float(m.group(1))
            continue
        m = re.match(r"(INSERT 0|UPDATE|DELETE) (\d+)$", line)
        if m:
            res[op]["tag"] = int(m.group(2))
            continue
        f = line.split("\t")
        if f[0] == "lsn":
            lsn.append(int(float(f[1])))
            if len(lsn) == 2:
                res[op]["wal"] = lsn[1] - lsn[0]
        elif f[0] == "check":
            res[op]["check"] = tuple(int(x) for x in f[1:])
        elif f[0] == "size":
            res[op]["size"] = tuple(int(x) for x in f[1:])
    return res


def run_bulk(ctx, rows):
    cl = ctx.cluster
    feats = ctx.setup.chronicle_features
    variants = [("floor", "bench_floor", FLOOR, False, None),
                ("limit", "bench_limit", LIMIT, True, None),
                ("reference", "bench_reference", TRIGGERED, True, None),
                ("chronicle 1.0", "bench_chronicle10", TRIGGERED, True, feats.get("audit_1.0")),
                ("chronicle", "bench_chronicle", TRIGGERED, True, feats.get("audit")),
                ("chronicle stmt", "bench_chronicle_stmt", TRIGGERED, True, feats.get("statement_mode"))]
    res = BulkResult(rows=rows, variants=[v[0] for v in variants])
    started = time.time()
    for label, _, _, _, na in variants:
        if na:
            res.unavailable[label] = na
    live = [v for v in variants if not v[4]]
    for _, db, _, _, _ in live:
        cl.psql(db, "TRUNCATE audit_logs; VACUUM (ANALYZE) posts", timeout=1800)
    cl.psql("postgres", "CHECKPOINT", timeout=1800)
    # One unmeasured round first (caches, trigger and plan caches), then the measured ones.
    for rnd in range(ctx.bulk_rounds + 1):
        for label, db, statements, audited, _ in live:
            if label in res.failed_variants:
                continue
            try:
                cl.psql(db, "TRUNCATE audit_logs")
                out = cl.psql(db, _script(statements, audited, rows), quiet=False,
                              options="-c synchronous_commit=off", timeout=3600)
                parsed = _parse(out)
                for op in OPS:
                    p = parsed.get(op, {})
                    if p.get("tag") != rows:
                        raise CheckFailed(f"{op} changed {p.get('tag')} rows, expected {rows}")
                    posts_rows, audit_rows, exact = p["check"]
                    if posts_rows != rows:
                        raise CheckFailed(f"{op}: {posts_rows} rows of the bulk user, expected {rows}")
                    want = rows if audited else 0
                    if audit_rows != want or exact != want:
                        raise CheckFailed(f"{op}: {audit_rows} audit rows, {exact} exact, expected {want}")
                    if rnd > 0:
                        res.times.setdefault((label, op), []).append(p["ms"])
                        res.wal.setdefault((label, op), []).append(p["wal"])
                        if audited:
                            res.sizes[(label, op)] = p["size"]
                if rnd > 0:
                    ctx.log(f"  bulk round {rnd}: {label:<15} " + "  ".join(
                        f"{op} {parsed[op]['ms']:9.1f} ms" for op in OPS))
            except (CheckFailed, RuntimeError) as e:
                res.failed_variants.add(label)
                res.errors.append(f"{label} (bulk round {rnd}): {e}")
    res.seconds = time.time() - started
    return res

"""Bulk statements: the per-row cost of triggers, measured the precise way.

Per-row case (BulkResult "rows"): each round and variant runs, in one session, INSERT ...
SELECT of N posts for one user, an UPDATE of their titles, an UPDATE of their titles and
statuses (status moves a post between post_counts rows in chronicle, so it is timed
separately, with a statement_timeout), and a DELETE of them. Each statement is timed by
psql and followed, untimed, by a check that it changed exactly N rows and, where
audited, wrote N exact audit rows (new_data = the row now, old_data = the record's
previous audit row). (t_variant - t_floor) / N is the triggers' cost per row; the
"audit off" variants (the same database, its audit trigger disabled) isolate the audit
trigger: t_variant - t_audit_off. audit_logs is never emptied (it starts with the
history of history.py): a check reads the audit rows above the statement's starting
max(id) (:mark), and a record's previous audit row wherever it is (the history holds
one for some of the existing posts); the audit log's growth is measured per statement.

Large UPDATE (update_large): an UPDATE of the titles of N existing posts (N posts of the
heaviest user, in physical order, listed in bench_large), once per round and variant.
"""
import re
import time
from dataclasses import dataclass, field

from .cluster import CheckFailed
from .databases import BULK

CONTENT = "repeat('Bulk content of a post. ', 12)"
AUDIT_COLUMNS = "table_name, operation, record_id, user_id, old_data, new_data, changed_fields, ip_address"
COLUMNS = ("id", "user_id", "title", "content", "status", "published_at", "view_count", "created_at", "updated_at")
CHANGED = ", ".join(f"CASE WHEN b.{c} IS DISTINCT FROM p.{c} THEN '{c}' END" for c in COLUMNS)
MINE = f"user_id = '{BULK}'"
SAMPLE = "id IN (SELECT l.id FROM bench_large l ORDER BY l.id LIMIT :rows)"


def _limit_update(set_clause, where):
    # The old rows come from a self-join in FROM (PostgreSQL 15 has no RETURNING OLD);
    # exact because no other session writes these rows.
    return f"""WITH changed AS (
    UPDATE posts p SET {set_clause}
    FROM posts b WHERE b.{where} AND p.id = b.id
    RETURNING p.id, p.user_id, to_jsonb(b) AS old_data, to_jsonb(p) AS new_data,
              array_remove(ARRAY[{CHANGED}], NULL) AS changed_fields)
INSERT INTO audit_logs ({AUDIT_COLUMNS})
SELECT 'posts', 'UPDATE', id, user_id, old_data, new_data, changed_fields, inet_client_addr() FROM changed;"""


TITLE = "title = p.title || ' (edited)'"
# published -> archived clears published_at, draft -> published sets it (as the triggers do).
STATUS = ("title = p.title || '!', status = CASE WHEN p.status = 'published' THEN 'archived' ELSE 'published' END")
STATUS_TS = "published_at = CASE WHEN p.status = 'published' THEN NULL ELSE CURRENT_TIMESTAMP END"
NOW = "updated_at = CURRENT_TIMESTAMP"
LARGE = "title = 'Bulk edit ' || :round"

FLOOR = {
    "insert": f"""INSERT INTO posts (user_id, title, content, status, published_at)
SELECT '{BULK}', 'Bulk ' || g, {CONTENT}, CASE WHEN g % 2 = 0 THEN 'published' ELSE 'draft' END,
       CASE WHEN g % 2 = 0 THEN CURRENT_TIMESTAMP END
FROM generate_series(1, :rows) g;""",
    "update": f"UPDATE posts p SET {TITLE}, {NOW} WHERE p.{MINE};",
    "update_status": f"UPDATE posts p SET {STATUS}, {STATUS_TS}, {NOW} WHERE p.{MINE};",
    "delete": f"DELETE FROM posts WHERE {MINE};",
    "update_large": f"UPDATE posts p SET {LARGE}, {NOW} WHERE p.{SAMPLE};",
}
TRIGGERED = {
    "insert": f"""INSERT INTO posts (user_id, title, content, status)
SELECT '{BULK}', 'Bulk ' || g, {CONTENT}, CASE WHEN g % 2 = 0 THEN 'published' ELSE 'draft' END
FROM generate_series(1, :rows) g;""",
    "update": f"UPDATE posts p SET {TITLE} WHERE p.{MINE};",
    "update_status": f"UPDATE posts p SET {STATUS} WHERE p.{MINE};",
    "delete": FLOOR["delete"],
    "update_large": f"UPDATE posts p SET {LARGE} WHERE p.{SAMPLE};",
}
LIMIT = {
    "insert": f"""WITH ins AS (
{FLOOR['insert'].rstrip(';')}
RETURNING *)
INSERT INTO audit_logs ({AUDIT_COLUMNS})
SELECT 'posts', 'INSERT', id, user_id, NULL, to_jsonb(ins), '{{}}', inet_client_addr() FROM ins;""",
    "update": _limit_update(f"{TITLE}, {NOW}", MINE),
    "update_status": _limit_update(f"{STATUS}, {STATUS_TS}, {NOW}", MINE),
    "delete": f"""WITH del AS (DELETE FROM posts WHERE {MINE} RETURNING *)
INSERT INTO audit_logs ({AUDIT_COLUMNS})
SELECT 'posts', 'DELETE', id, user_id, to_jsonb(del), NULL, '{{}}', inet_client_addr() FROM del;""",
    "update_large": _limit_update(f"{LARGE}, {NOW}", SAMPLE),
}


def _check(op):
    """(rows of the subject, audit rows since :mark, exact audit rows since :mark).
    A record's previous audit row may be in the history (history.py) or an earlier round."""
    subject = SAMPLE if op == "update_large" else MINE
    if op == "delete":
        rows = f"(SELECT count(*) FROM posts WHERE {MINE}) + :rows"
        exact = """(SELECT count(*) FROM audit_logs a WHERE a.id > :mark AND a.operation = 'DELETE'
                     AND a.table_name = 'posts' AND a.new_data IS NULL AND a.old_data = (SELECT b.new_data
                         FROM audit_logs b WHERE b.record_id = a.record_id AND b.id < a.id ORDER BY b.id DESC LIMIT 1))"""
    else:
        rows = f"(SELECT count(*) FROM posts WHERE {subject})"
        previous = "a.old_data IS NULL" if op == "insert" else """(a.old_data = (SELECT b.new_data
                         FROM audit_logs b WHERE b.record_id = a.record_id AND b.id < a.id ORDER BY b.id DESC LIMIT 1)
                         OR (a.old_data ->> 'id' = a.record_id::text AND NOT EXISTS (SELECT 1 FROM audit_logs b
                             WHERE b.record_id = a.record_id AND b.id < a.id)))"""
        exact = f"""(SELECT count(*) FROM audit_logs a JOIN posts p ON p.id = a.record_id
                     WHERE a.id > :mark AND a.table_name = 'posts' AND a.operation = '{'INSERT' if op == 'insert' else 'UPDATE'}'
                     AND a.new_data = to_jsonb(p) AND {previous})"""
    return f"SELECT 'check', {rows}, (SELECT count(*) FROM audit_logs WHERE id > :mark), {exact};"


@dataclass
class Variant:
    label: str
    db: str
    statements: dict
    audited: bool
    unavailable: str = None
    audit_off: bool = False     # run with the database's audit trigger disabled


@dataclass
class BulkResult:
    rows: int
    ops: tuple
    rounds: int
    title: str
    variants: list
    times: dict = field(default_factory=dict)     # (label, op) -> [ms per round]
    wal: dict = field(default_factory=dict)       # (label, op) -> [bytes per round]
    sizes: dict = field(default_factory=dict)     # (label, op) -> audit log (table, index) growth by op, bytes
    timed_out: dict = field(default_factory=dict)  # (label, op) -> seconds of the timeout
    errors: list = field(default_factory=list)
    failed_variants: set = field(default_factory=set)
    unavailable: dict = field(default_factory=dict)
    seconds: float = 0.0


def _script(v, ops, rows, rnd, timeout_s, skip):
    parts = ["\\set ON_ERROR_STOP 1", f"\\set rows {rows}", f"\\set round {rnd}"]
    if v.audit_off:
        parts.append("ALTER TABLE posts DISABLE TRIGGER posts_audit_trigger;")
    for op in ops:
        if op in skip:
            continue
        guarded = op == "update_status"
        parts += [f"\\echo @@ {op}", "SELECT coalesce(max(id), 0) AS mark FROM audit_logs \\gset",
                  "SELECT 'size0', pg_table_size('audit_logs'), pg_indexes_size('audit_logs');",
                  "SELECT 'lsn', pg_current_wal_insert_lsn() - '0/0'::pg_lsn;"]
        if guarded:
            parts += [f"SET statement_timeout = '{timeout_s}s';", "\\set ON_ERROR_STOP 0"]
        parts += ["\\timing on", v.statements[op], "\\timing off"]
        if guarded:
            parts += ["\\echo @@error :LAST_ERROR_SQLSTATE", "\\set ON_ERROR_STOP 1", "RESET statement_timeout;"]
        parts += ["SELECT 'lsn', pg_current_wal_insert_lsn() - '0/0'::pg_lsn;", _check(op),
                  "SELECT 'size', pg_table_size('audit_logs'), pg_indexes_size('audit_logs');"]
    if v.audit_off:
        parts.append("ALTER TABLE posts ENABLE TRIGGER posts_audit_trigger;")
    return "\n".join(parts) + "\n"


def _parse(out):
    """-> {op: {'ms', 'tag', 'wal', 'check': (rows, audit, exact), 'size0'/'size': (t, i) before/after,
    'error'}}"""
    res, op, lsn = {}, None, []
    for line in out.splitlines():
        if line.startswith("@@error "):
            res[op]["error"] = line.split()[1]
            continue
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
        elif f[0] in ("size0", "size"):
            res[op][f[0]] = tuple(int(x) for x in f[1:])
    return res


def _variants(feats, with_audit_off, labels=None):
    v = [Variant("floor", "bench_floor", FLOOR, False),
         Variant("limit", "bench_limit", LIMIT, True),
         Variant("reference", "bench_reference", TRIGGERED, True),
         Variant("chronicle 1.0", "bench_chronicle10", TRIGGERED, True, feats.get("audit_1.0")),
         Variant("chronicle", "bench_chronicle", TRIGGERED, True, feats.get("audit")),
         Variant("chronicle stmt", "bench_chronicle_stmt", TRIGGERED, True, feats.get("statement_mode"))]
    if with_audit_off:
        v += [Variant("reference, audit off", "bench_reference", TRIGGERED, False, None, True),
              Variant("chronicle 1.0, audit off", "bench_chronicle10", TRIGGERED, False, feats.get("audit_1.0"), True),
              Variant("chronicle, audit off", "bench_chronicle", TRIGGERED, False, feats.get("audit"), True)]
    if labels:
        v = [x for x in v if x.label in labels]
    return v


def run_bulk(ctx, title, rows, rounds, ops, timeout_s, with_audit_off=True, warmup_rows=None, labels=None,
             prepare=None):
    """Runs the bulk statements ops for every variant, rounds times (after one warm-up round).
    prepare: SQL run once in every database of the case first (e.g. dropping indexes)."""
    cl = ctx.cluster
    variants = _variants(ctx.setup.chronicle_features, with_audit_off, labels)
    res = BulkResult(rows=rows, ops=tuple(ops), rounds=rounds, title=title, variants=[v.label for v in variants])
    started = time.time()
    for v in variants:
        if v.unavailable:
            res.unavailable[v.label] = v.unavailable
    live = [v for v in variants if not v.unavailable]
    for db in sorted({v.db for v in live}):
        if prepare:
            cl.psql(db, prepare)
        cl.psql(db, "VACUUM (ANALYZE) posts, audit_logs", timeout=1800)
        if "update_large" in ops:
            heavy = ctx.setup.facts[db].big_user
            cl.psql(db, f"""DROP TABLE IF EXISTS bench_large;
                CREATE TABLE bench_large AS SELECT id FROM posts WHERE user_id = '{heavy}' ORDER BY ctid LIMIT {rows};
                ALTER TABLE bench_large ADD PRIMARY KEY (id); ANALYZE bench_large""")
    cl.psql("postgres", "CHECKPOINT", timeout=1800)
    for rnd in range(rounds + 1):
        n = rows if rnd else (warmup_rows or rows)
        for v in live:
            if v.label in res.failed_variants:
                continue
            v_ops = [op for op in ops if not (v.audit_off and op == "update_status")]
            skip = {op for (label, op) in res.timed_out if label == v.label}
            try:
                try:
                    out = cl.psql(v.db, _script(v, v_ops, n, rnd, timeout_s, skip), quiet=False,
                                  options="-c synchronous_commit=off", timeout=3600)
                finally:
                    if v.audit_off:
                        cl.psql(v.db, "ALTER TABLE posts ENABLE TRIGGER posts_audit_trigger")
                parsed = _parse(out)
                for op in v_ops:
                    if op in skip:
                        continue
                    p = parsed.get(op, {})
                    if p.get("error") == "57014":      # statement_timeout: a finding, not a failure
                        res.timed_out[(v.label, op)] = timeout_s
                        ctx.log(f"  bulk round {rnd}: {v.label}: {op} exceeded {timeout_s} s")
                        continue
                    if p.get("error") not in (None, "00000"):
                        raise CheckFailed(f"{op} failed with SQLSTATE {p['error']}")
                    if p.get("tag") != n:
                        raise CheckFailed(f"{op} changed {p.get('tag')} rows, expected {n}")
                    subject_rows, audit_rows, exact = p["check"]
                    if subject_rows != n:
                        raise CheckFailed(f"{op}: {subject_rows} rows of the subject, expected {n}")
                    want = n if v.audited else 0
                    if audit_rows != want or exact != want:
                        raise CheckFailed(f"{op}: {audit_rows} audit rows, {exact} exact, expected {want}")
                    if rnd > 0:
                        res.times.setdefault((v.label, op), []).append(p["ms"])
                        res.wal.setdefault((v.label, op), []).append(p["wal"])
                        if v.audited:
                            res.sizes[(v.label, op)] = (p["size"][0] - p["size0"][0], p["size"][1] - p["size0"][1])
                if rnd > 0:
                    ctx.log(f"  bulk round {rnd}: {v.label:<24} " + "  ".join(
                        f"{op} {parsed[op]['ms']:8.1f} ms" for op in v_ops if "ms" in parsed.get(op, {})))
            except (CheckFailed, RuntimeError) as e:
                res.failed_variants.add(v.label)
                res.errors.append(f"{v.label} (bulk {'/'.join(ops)}, round {rnd}): {e}")
    res.seconds = time.time() - started
    return res

#!/usr/bin/env bash
# Where the audit trigger's time goes, from a callgrind file of a statement run
# under bench/audit_callgrind.sh (e.g. callgrind.cg_with_row.update): the share of
# JSONB building, change detection, the audit-row insert (heap + WAL, constraints,
# id), index maintenance of audit_logs, and the writer's setup, in instructions.
#
#   bench/audit_profile.sh CALLGRIND_FILE [rows]
set -euo pipefail
file=${1:?usage: bench/audit_profile.sh CALLGRIND_FILE [rows]}
rows=${2:-}
callgrind_annotate --threshold=100 --inclusive=yes --tree=caller "$file" 2>/dev/null | python3 -c '
import re, sys
rows = int(sys.argv[1]) if sys.argv[1] else None
blocks, cur = [], []
for line in sys.stdin:
    if not line.strip():
        if cur: blocks.append(cur); cur = []
        continue
    cur.append(line.rstrip("\n"))
if cur: blocks.append(cur)
num = lambda s: int(s.replace(",", ""))
inclusive, by_caller = {}, {}
for b in blocks:
    callers = []
    for line in b:
        m = re.match(r"\s*([0-9,]+) \([ 0-9.]+%\)  ([<*])\s+(.*?)(?: \(\d[\d,]*x\))?(?: \[.*\])?$", line)
        if not m: continue
        cost, kind, name = num(m.group(1)), m.group(2), m.group(3)
        name = re.sub(r"^[^:]*:", "", name, count=1)
        if kind == "<": callers.append((name, cost))
        else:
            inclusive[name] = max(inclusive.get(name, 0), cost)
            for c, v in callers: by_caller[(name, c)] = by_caller.get((name, c), 0) + v
            callers = []
def inc(prefix):
    return sum(v for k, v in inclusive.items() if k.startswith(prefix))
def called(fn, caller):
    return sum(v for (f, c), v in by_caller.items() if f == fn and c.startswith(caller))
total = inc("chronicle_audit_trigger_function_body")
parts = [
    ("JSONB building (row_to_jsonb)", inc("chronicle::audit::row_to_jsonb")),
    ("change detection (changed_fields)", inc("chronicle::audit::changed_fields")),
    # table_tuple_insert reaches heapam_tuple_insert, a static function: count heap_insert, which
    # only the audit writer calls in an UPDATE run (the audited table is updated, not inserted).
    ("audit heap insert + WAL", called("heap_multi_insert", "chronicle::audit::flush_sink") + inc("heap_insert")),
    ("CHECK/NOT NULL constraints", called("ExecConstraints", "chronicle::audit::flush_sink")),
    ("audit id (nextval)", called("nextval_internal", "chronicle::audit::add_audit_row")),
    ("index maintenance of audit_logs", called("ExecInsertIndexTuples", "chronicle::audit::flush_sink")),
    ("  of which GIN (old_data, new_data)", called("gininsert", "index_insert")),
    ("writer setup/teardown (open/close)", inc("chronicle::audit::open_sink") + inc("chronicle::audit::close_sink")),
]
print(f"audit trigger total: {total:,} Ir" + (f" ({total // rows:,} Ir/row)" if rows else ""))
counted = 0
for name, v in parts:
    if not name.startswith("  "): counted += v
    print(f"  {name:40s} {v:>16,} Ir {100.0 * v / total:6.1f}%" + (f" {v // rows:>10,} Ir/row" if rows else ""))
other = "other (context, cache, slots, arrays)"
print(f"  {other:40s} {total - counted:>16,} Ir {100.0 * (total - counted) / total:6.1f}%" + (f" {(total - counted) // rows:>10,} Ir/row" if rows else ""))
' "$rows"

"""A run's results as JSON: bench/results/<run>.json (git-ignored), one file per run.

The file holds what the report needs and nothing the report recomputes from raw data it
does not keep: per round, each pgbench run's throughput, WAL and latency percentiles; per
case and variant, the latency percentiles pooled over its rounds' transactions.
"""
import json
import os

from .stats import latency_summary

FORMAT = 1


def _run(r, rnd):
    d = {"round": rnd, "tps": r.tps, "transactions": r.transactions, "failed": r.failed, "seconds": r.seconds,
         "wal_bytes": r.wal_bytes, "wal_fpi_bytes": r.wal_fpi_bytes, "worst_at_s": r.worst_at_s,
         "worst_tx_no": r.worst_tx_no}
    d.update({f"{k}_ms": v for k, v in latency_summary(r.latencies_us).items()})
    return d


def case_json(cr, syncs):
    c = cr.case
    runs = []
    for (sync, label), rs in sorted(cr.runs.items()):
        pooled = latency_summary([x for r in rs for x in r.latencies_us])
        runs.append({"sync": sync, "variant": label, "rounds": [_run(r, i + 1) for i, r in enumerate(rs)],
                     "pooled": {f"{k}_ms": v for k, v in pooled.items()},
                     "transactions": sum(r.transactions for r in rs)})
    return {"key": c.key, "title": c.title, "kind": c.kind, "clients": c.clients, "note": c.note,
            "syncs": list(syncs),
            "variants": [{"label": v.label, "database": v.db, "script": v.script, "audited": v.audited,
                          "unavailable": v.unavailable} for v in c.variants],
            "comparisons": [list(p) for p in c.comparisons], "overhead": [list(p) for p in c.overhead],
            "runs": runs,
            "audit_bytes": [{"variant": label, "table_per_row": t, "index_per_row": i, "rows": n}
                            for label, (t, i, n) in cr.audit_bytes.items()],
            "failed_variants": sorted(cr.failed_variants), "errors": cr.errors, "seconds": cr.seconds}


def bulk_json(key, b):
    def pairs(d, name):
        return [{"variant": label, "op": op, name: v} for (label, op), v in sorted(d.items())]
    return {"key": key, "title": b.title, "rows": b.rows, "ops": list(b.ops), "rounds": b.rounds,
            "variants": b.variants, "unavailable": b.unavailable,
            "ms": pairs(b.times, "ms"), "wal_bytes": pairs(b.wal, "wal_bytes"),
            "audit_growth": [{"variant": label, "op": op, "table_bytes": t, "index_bytes": i}
                             for (label, op), (t, i) in sorted(b.sizes.items())],
            "timed_out": [{"variant": label, "op": op, "seconds": s} for (label, op), s in sorted(b.timed_out.items())],
            "failed_variants": sorted(b.failed_variants), "errors": b.errors, "seconds": b.seconds}


def results_dir(bench_dir):
    return os.path.join(bench_dir, "results")


def path_of(bench_dir, name):
    if name.endswith(".json") or os.sep in name:
        return name
    return os.path.join(results_dir(bench_dir), name + ".json")


def save(bench_dir, run):
    os.makedirs(results_dir(bench_dir), exist_ok=True)
    path = path_of(bench_dir, run["name"])
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(run, f, indent=1)
        f.write("\n")
    os.replace(tmp, path)
    return path


def load(bench_dir, name):
    path = path_of(bench_dir, name)
    with open(path) as f:
        run = json.load(f)
    if run.get("format") != FORMAT:
        raise SystemExit(f"{path}: format {run.get('format')}, this harness reads format {FORMAT}")
    return run


def names(bench_dir):
    d = results_dir(bench_dir)
    if not os.path.isdir(d):
        return []
    return sorted(f[:-5] for f in os.listdir(d) if f.endswith(".json"))

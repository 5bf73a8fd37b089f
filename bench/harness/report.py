"""RESULTS.md and the chart, from the case results."""
import os
import subprocess

from .stats import latency_summary, median

FLOOR_LABELS = ("floor", "plain UPDATE")


def fmt(v, digits=0, unit=""):
    if v is None:
        return "–"
    if digits == 0:
        return f"{v:,.0f}{unit}"
    return f"{v:,.{digits}f}{unit}"


def ratio_fmt(v):
    return "–" if v is None else f"{v:.2f}x"


def summary(runs):
    lat = latency_summary([x for r in runs for x in r.latencies_us])
    return {"tps": median([r.tps for r in runs]), "wal": median([r.wal_per_tx for r in runs]),
            "fpi": median([r.fpi_per_tx for r in runs]), "rec": median([r.wal_records_per_tx for r in runs]), "tx": sum(r.transactions for r in runs), **lat}


def pair_ratio(cr, sync, a, b):
    """Median over rounds of tps(a) / tps(b), each round's variants run back to back."""
    ra, rb = cr.runs.get((sync, a)), cr.runs.get((sync, b))
    if not ra or not rb:
        return None
    return median([x.tps / y.tps for x, y in zip(ra, rb) if y.tps])


def floor_label(case):
    for v in case.variants:
        if v.label in FLOOR_LABELS:
            return v.label
    return None


def overhead_ratio(cr, sync, a, b):
    """Median over rounds of (cost a - cost floor) / (cost b - cost floor), cost = 1/tps."""
    f = floor_label(cr.case)
    ra, rb, rf = cr.runs.get((sync, a)), cr.runs.get((sync, b)), cr.runs.get((sync, f))
    if not ra or not rb or not rf:
        return None
    vals = []
    for x, y, z in zip(ra, rb, rf):
        db = 1 / y.tps - 1 / z.tps
        if db > 0:
            vals.append((1 / x.tps - 1 / z.tps) / db)
    return median(vals)


def bulk_ms(bulk, label, op):
    return median(bulk.times.get((label, op), []))


def bulk_diff_per_row(bulk, label, base, op):
    """Median over rounds of (t_label - t_base) / rows, in microseconds per row."""
    a, f = bulk.times.get((label, op)), bulk.times.get((base, op))
    if not a or not f:
        return None
    return median([(x - y) * 1000.0 / bulk.rows for x, y in zip(a, f)])


def bulk_overhead_ratio(bulk, a, b, op, base_a="floor", base_b="floor"):
    """Median over rounds of (t_a - t_base_a) / (t_b - t_base_b)."""
    ta, tb = bulk.times.get((a, op)), bulk.times.get((b, op))
    fa, fb = bulk.times.get((base_a, op)), bulk.times.get((base_b, op))
    if not ta or not tb or not fa or not fb:
        return None
    return median([(x - z) / (y - w) for x, y, z, w in zip(ta, tb, fa, fb) if y - w > 0])


def audit_off_twin(bulk, label):
    twin = f"{label}, audit off"
    return twin if twin in bulk.variants and twin not in bulk.unavailable else None


def bulk_audit_bytes(bulk, label, op):
    """Audit log (table, index) bytes per row written by op (its growth in the last round)."""
    grown = bulk.sizes.get((label, op))
    if not grown:
        return None
    return (grown[0] / bulk.rows, grown[1] / bulk.rows)


CHART_COLUMNS = ["floor", "limit", "reference", "moddatetime", "chronicle 1.0", "chronicle", "chronicle stmt"]
READ_COLUMNS = ["reference", "chronicle", "chronicle keyset"]
COLORS = {"floor": "#9e9e9e", "limit": "#64b5f6", "reference": "#e65100", "moddatetime": "#8e24aa",
          "chronicle": "#2e7d32", "chronicle 1.0": "#c0ca33", "chronicle stmt": "#81c784", "chronicle keyset": "#00897b"}


def _write_chart(path, case_results, bulks, scratch):
    """A 2x2 PNG: relative write throughput (sync off / on), read calls/s, bulk cost per row."""
    files = {}
    for sync in ("off", "on"):
        lines = []
        for cr in case_results:
            if cr.case.kind == "read":
                continue
            f = floor_label(cr.case)
            base = summary(cr.runs[(sync, f)])["tps"] if (sync, f) in cr.runs else None
            vals = []
            for col in CHART_COLUMNS:
                label = f if col == "floor" else col
                runs = cr.runs.get((sync, label))
                vals.append(f"{summary(runs)['tps'] / base:.4f}" if runs and base else "-")
            name = cr.case.key.replace("_", " ")
            lines.append(f'"{name}" ' + " ".join(vals))
        files[sync] = os.path.join(scratch, f"writes_{sync}.dat")
        with open(files[sync], "w") as fh:
            fh.write("\n".join(lines) + "\n")
    lines = []
    for cr in case_results:
        if cr.case.kind != "read":
            continue
        vals = []
        for col in READ_COLUMNS:
            runs = cr.runs.get(("off", col))
            vals.append(f"{summary(runs)['tps']:.4f}" if runs else "-")
        lines.append(f'"offset {cr.case.key[5:]}" ' + " ".join(vals))
    files["reads"] = os.path.join(scratch, "reads.dat")
    with open(files["reads"], "w") as fh:
        fh.write("\n".join(lines or ['"none" - - -']) + "\n")
    bulk_cols = ["limit", "reference", "chronicle 1.0", "chronicle", "chronicle stmt"]
    lines = []
    for bulk in bulks[:2]:
        for op in bulk.ops:
            vals = []
            for col in bulk_cols:
                v = bulk_diff_per_row(bulk, col, "floor", op)
                vals.append(f"{v:.3f}" if v is not None else "-")
            lines.append(f'"{op.replace("_", " ")}" ' + " ".join(vals))
    files["bulk"] = os.path.join(scratch, "bulk.dat")
    with open(files["bulk"], "w") as fh:
        fh.write("\n".join(lines) + "\n")

    def plot_cols(datafile, cols, first=2):
        with open(datafile) as fh:
            n = sum(1 for line in fh if line.strip())
        parts = []
        for i, c in enumerate(cols):
            src = f"'{datafile}'" if i == 0 else "''"
            xt = ":xtic(1)" if i == 0 else ""
            parts.append(f"{src} using {first + i}{xt} title '{c}' lc rgb '{COLORS[c]}'")
        return f"set xrange [-0.6:{n - 0.4}]\nplot " + ", ".join(parts)

    def has_data(datafile):
        with open(datafile) as fh:
            # Each line is '"name with spaces" v1 v2 ...': look at the values only.
            return any(x != "-" for line in fh if '" ' in line for x in line.split('" ', 1)[1].split())

    panels = []
    for sync in ("off", "on"):
        if has_data(files[sync]):
            panels.append(f"""set title 'Writes, synchronous\\_commit = {sync}: throughput relative to no trigger (= 1)'
set ylabel 'throughput / floor'
unset logscale y
set yrange [0:*]
{plot_cols(files[sync], CHART_COLUMNS)}""")
    if has_data(files["reads"]):
        panels.append(f"""set title 'get\\_user\\_posts: calls per second (log scale; higher is better)'
set ylabel 'calls/s'
set logscale y
set yrange [*:*]
{plot_cols(files['reads'], READ_COLUMNS)}""")
    if has_data(files["bulk"]):
        panels.append(f"""set title 'Bulk statements: trigger cost per row above no trigger (lower is better)'
set ylabel 'microseconds per row'
unset logscale y
set yrange [0:*]
{plot_cols(files['bulk'], bulk_cols)}""")
    if not panels:
        return False
    gp = f"""
set terminal pngcairo size 1600,{550 * ((len(panels) + 1) // 2)} font 'DejaVu Sans,11'
set output '{path}'
set datafile missing '-'
set style data histogram
set style histogram clustered gap 1
set style fill solid 0.9 border rgb '#333333'
set boxwidth 0.9
set grid ytics lc rgb '#dddddd'
set key outside bottom center horizontal font ',10'
set xtics font ',10' nomirror
set multiplot layout {(len(panels) + 1) // 2},2 title 'chronicle vs the PL/pgSQL reference (bench/run)' font ',15'
""" + "\n".join(panels) + "\nunset multiplot\n"
    gpfile = os.path.join(scratch, "chart.gp")
    with open(gpfile, "w") as fh:
        fh.write(gp)
    p = subprocess.run(["gnuplot", gpfile], capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        raise RuntimeError(f"gnuplot failed: {p.stderr.strip()[-1000:]}")
    return True


def write(out_dir, ctx, case_results, bulks, env_info, chart=True):
    os.makedirs(out_dir, exist_ok=True)
    md = []
    w = md.append
    w("# chronicle benchmarks")
    w("")
    w(f"Generated by `{env_info['command']}` on {env_info['date']} ({env_info['mode']} mode, "
      f"{env_info['minutes']:.1f} minutes). Commit `{env_info['commit']}`, chronicle {ctx.setup.chronicle_version}. "
      "Do not edit: rerun the command.")
    w("")
    if env_info.get("preliminary"):
        w(f"> {env_info['preliminary']}")
        w("")
    w("Variants, each in its own database on one cluster, with the same data:")
    w("- **floor**: the reference schema, no trigger; the client writes the row as the triggers would leave it.")
    w("- **limit**: no trigger; the client writes the row *and its exact audit row* in one statement: the "
      "least work any audit design can do.")
    w("- **reference**: the reference's PL/pgSQL triggers and functions (V004, V005; `bench/reference/`).")
    w("- **chronicle**: the extension (row-mode audit trigger); **chronicle stmt**: its statement-level "
      "audit mode; **moddatetime**: contrib's trigger (updated_at case only).")
    w("")
    failures = [("setup", e) for e in env_info.get("errors", [])] + [(cr.case.key, e) for cr in case_results for e in cr.errors] + \
               [("bulk", e) for bulk in bulks for e in bulk.errors]
    if failures:
        w("## FAILED CHECKS")
        w("")
        for k, e in failures:
            w(f"- `{k}`: {e}")
        w("")
    w("## Headline: chronicle against the reference")
    w("")
    w("Throughput ratio chronicle / reference (median of per-round ratios), and the cost above the no-trigger "
      "floor as a fraction of the reference's (per transaction; 0.33 means a third of the reference's added "
      "cost).")
    w("")
    w("| case | sync on: tps ratio | sync off: tps ratio | sync on: cost above floor | sync off: cost above floor |")
    w("|---|---|---|---|---|")
    latency_cases = [cr for cr in case_results if cr.case.key == "posts_latency"]
    for cr in case_results:
        if cr in latency_cases:
            continue
        labels = {v.label for v in cr.case.variants if not v.unavailable}
        for a in ("chronicle 1.0", "chronicle", "chronicle stmt", "chronicle keyset"):
            if a not in labels:
                continue
            cells = []
            for sync in ("on", "off"):
                cells.append(ratio_fmt(pair_ratio(cr, sync, a, "reference")) if sync in ctx.syncs_for(cr.case) else "–")
            for sync in ("on", "off"):
                o = overhead_ratio(cr, sync, a, "reference") if (a, "reference") in cr.case.overhead else None
                cells.append(ratio_fmt(o).replace("x", "") if o is not None else "–")
            w(f"| {cr.case.title} ({a}) | " + " | ".join(cells) + " |")
    for cr in latency_cases:
        worst = []
        for label in ("floor", "reference", "chronicle"):
            runs = cr.runs.get(("off", label))
            if runs:
                s_ = summary(runs)
                slowest = max(runs, key=lambda r: max(r.latencies_us, default=0))
                where = ""
                if slowest.worst_at_s is not None:
                    where = (", the connection's first transaction" if slowest.worst_tx_no == 1
                             else f", {slowest.worst_at_s:.1f} s into the run")
                worst.append(f"{label} {fmt(s_['max'], 1)} ms (p99 {fmt(s_['p99'], 2)} ms, "
                             f"{s_['tx']:,} transactions{where})")
        if worst:
            w("")
            w(f"Worst single-row UPDATE latency over one run of {cr.runs[('off', 'floor')][0].seconds:.1f} s per variant "
              "(synchronous_commit off): " + "; ".join(worst) + ".")
    for bulk in bulks:
        w("")
        w(f"Bulk statements ({bulk.title}), {bulk.rows:,} rows each: cost per row above the floor as a fraction of "
          "the reference's; "
          "\"audit trigger alone\": (with it - without it) / the reference's.")
        w("")
        w("| variant | " + " | ".join(o.replace("_", " ") for o in bulk.ops) + " |")
        w("|---|" + "---|" * len(bulk.ops))
        for a in ("chronicle 1.0", "chronicle", "chronicle stmt"):
            if a in bulk.unavailable or a not in bulk.variants:
                continue
            cells = []
            for op in bulk.ops:
                r = bulk_overhead_ratio(bulk, a, "reference", op)
                cells.append("> timeout" if (a, op) in bulk.timed_out else ("–" if r is None else f"{r:.2f}"))
            w(f"| {a} | " + " | ".join(cells) + " |")
            twin, ref_twin = audit_off_twin(bulk, a), audit_off_twin(bulk, "reference")
            if twin and ref_twin:
                cells = []
                for op in bulk.ops:
                    r = bulk_overhead_ratio(bulk, a, "reference", op, twin, ref_twin)
                    cells.append("–" if r is None else f"{r:.2f}")
                w(f"| {a}: audit trigger alone | " + " | ".join(cells) + " |")
    na = sorted({(v.label, v.unavailable) for cr in case_results for v in cr.case.variants if v.unavailable})
    if na:
        w("")
        w("Not measured: " + "; ".join(f"{label}: {why}" for label, why in na) + ".")
    w("")
    chart_path = os.path.join(out_dir, "results.png")
    if chart and _write_chart(chart_path, case_results, bulks, ctx.workdir):
        w("![throughput per variant per case](results.png)")
        w("")
    w("## Cases")
    w("")
    w(f"Each variant: {ctx.rounds} measured round{'s' if ctx.rounds > 1 else ''} of {ctx.measure_text} "
      "(pgbench -n -M prepared, per-transaction latency log)" + (", after one unmeasured warm-up run per variant (before the first synchronous_commit pass)" if case_results and ctx.warmup_for(case_results[0].case) else "") + ". tps: median of the rounds; latency "
      "percentiles pooled over all rounds' transactions; WAL: bytes of WAL inserted per transaction "
      "(pg_current_wal_insert_lsn difference / transactions, median of the rounds), of which full-page images "
      "(pg_waldump --stats; they depend on how many pages a run touches first after the case's checkpoint), "
      "and without them: what the statements themselves log. Each write run starts with empty GIN pending "
      "lists and ends by flushing the entries it queued (gin_clean_pending_list), so the WAL of the work a "
      "fastupdate GIN defers is charged to the run that caused it.")
    for cr in case_results:
        c = cr.case
        w("")
        w(f"### {c.title}")
        w("")
        if c.note:
            w(c.note)
            w("")
        w(f"`{c.key}`, {c.clients} client{'s' if c.clients > 1 else ''}, {cr.seconds:.0f} s. Scripts: " +
          ", ".join(sorted({f'`bench/pgbench/{v.script}`' for v in c.variants})) + ".")
        w("")
        w("| variant | sync | tps | p50 ms | p95 ms | p99 ms | max ms | WAL B/tx | of which FPI | WAL B/tx without FPI "
          "| transactions |")
        w("|---|---|---|---|---|---|---|---|---|---|---|")
        for sync in ctx.syncs_for(c):
            for v in c.variants:
                if v.unavailable:
                    w(f"| {v.label} | {sync} | {v.unavailable} | | | | | | | | |")
                    continue
                runs = cr.runs.get((sync, v.label))
                if not runs:
                    w(f"| {v.label} | {sync} | FAILED | | | | | | | | |")
                    continue
                s = summary(runs)
                w(f"| {v.label} | {sync} | {fmt(s['tps'], 1)} | {fmt(s['p50'], 3)} | {fmt(s['p95'], 3)} | "
                  f"{fmt(s['p99'], 3)} | {fmt(s['max'], 1)} | {fmt(s['wal'])} | {fmt(s['fpi'])} | {fmt(s['rec'])} | {s['tx']:,} |")
        ratios = []
        for a, b in c.comparisons:
            for sync in ctx.syncs_for(c):
                r = pair_ratio(cr, sync, a, b)
                if r is not None:
                    ratios.append(f"{a} / {b} (sync {sync}): {r:.2f}x")
        for a, b in c.overhead:
            for sync in ctx.syncs_for(c):
                r = overhead_ratio(cr, sync, a, b)
                if r is not None:
                    ratios.append(f"cost above floor, {a} / {b} (sync {sync}): {r:.2f}")
        if ratios:
            w("")
            w("Ratios (median of per-round ratios): " + "; ".join(ratios) + ".")
        if cr.audit_bytes:
            w("")
            w("Audit log growth per audited change: " + "; ".join(
                f"{label}: {t:,.0f} B table + {i:,.0f} B indexes ({n:,} rows)"
                for label, (t, i, n) in cr.audit_bytes.items()) + ".")
    for bulk in bulks:
        _bulk_section(w, ctx, bulk)
    w("")
    w("## Settings")
    w("")
    w("The cluster is started by `scripts/cluster` for this run only, with these settings appended to its "
      "postgresql.conf (synchronous_commit is set per run through PGOPTIONS):")
    w("")
    w("| setting | value |")
    w("|---|---|")
    for name, value in env_info["settings"]:
        w(f"| {name} | {value} |")
    w("")
    w("Data: " + env_info["data"])
    w("")
    w("## Machine")
    w("")
    for k, v in env_info["machine"]:
        w(f"- {k}: {v}")
    w("")
    with open(os.path.join(out_dir, "RESULTS.md"), "w") as fh:
        fh.write("\n".join(md))


BULK_TEXT = {
    "insert": "INSERT ... SELECT of N posts for one user",
    "update": "UPDATE of their titles",
    "update_status": "UPDATE of their titles and statuses (published <-> archived/draft)",
    "delete": "DELETE of them",
    "update_large": "UPDATE of the titles of N existing posts (posts of the heaviest user, in physical order)",
}


def _bulk_section(w, ctx, bulk):
    w("")
    w(f"### Bulk statements, {bulk.title}: {', '.join(o.replace('_', ' ') for o in bulk.ops)}, "
      f"{bulk.rows:,} rows per statement")
    w("")
    w("; ".join(BULK_TEXT[o] for o in bulk.ops) + f". N = {bulk.rows:,}. One psql session per variant and round, "
      "synchronous_commit = off (one commit per statement: the setting changes nothing measurable here), "
      f"audit_logs never emptied (it starts with the history, see Settings); {bulk.rounds} measured round{'s' if bulk.rounds > 1 else ''} "
      f"after one unmeasured round, {bulk.seconds:.0f} s in all. Each statement is checked: exactly N rows, and "
      "where audited N exact audit rows. \"audit off\": the same database with its audit trigger disabled, so "
      "that *with - without* is the audit trigger's own cost.")
    w("")
    w("| variant | statement | ms (median) | us/row | us/row above floor | above floor / reference's "
      "| audit trigger us/row | audit trigger / reference's | WAL B/row | audit table B/row | audit index B/row |")
    w("|---|---|---|---|---|---|---|---|---|---|---|")
    for label in bulk.variants:
        if label in bulk.unavailable:
            w(f"| {label} | all | {bulk.unavailable[label]} | | | | | | | | |")
            continue
        for op in bulk.ops:
            if (label, op) in bulk.timed_out:
                w(f"| {label} | {op} | > {bulk.timed_out[(label, op)] * 1000:,} (statement_timeout) | | | | | | | | |")
                continue
            ms = bulk_ms(bulk, label, op)
            if ms is None:
                if label.endswith("audit off") and op == "update_status":
                    continue
                w(f"| {label} | {op} | {'FAILED' if label in bulk.failed_variants else '–'} | | | | | | | | |")
                continue
            above = bulk_diff_per_row(bulk, label, "floor", op) if label != "floor" else None
            orat = bulk_overhead_ratio(bulk, label, "reference", op) \
                if label not in ("floor", "reference") and not label.endswith("audit off") else None
            twin, ref_twin = audit_off_twin(bulk, label), audit_off_twin(bulk, "reference")
            own = bulk_diff_per_row(bulk, label, twin, op) if twin else None
            own_ratio = bulk_overhead_ratio(bulk, label, "reference", op, twin, ref_twin) \
                if twin and ref_twin and label != "reference" else None
            wal = median(bulk.wal.get((label, op), []))
            ab = bulk_audit_bytes(bulk, label, op)
            w(f"| {label} | {op} | {fmt(ms, 1)} | {fmt(ms * 1000 / bulk.rows, 2)} | {fmt(above, 2)} | "
              f"{'–' if orat is None else f'{orat:.2f}'} | {fmt(own, 2)} | "
              f"{'–' if own_ratio is None else f'{own_ratio:.2f}'} | {fmt(wal / bulk.rows if wal else None)} | "
              f"{fmt(ab[0] if ab else None)} | {fmt(ab[1] if ab else None)} |")

"""Small statistics over the runs of a case."""
import statistics


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def percentile(sorted_values, q):
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return None
    k = max(0, min(len(sorted_values) - 1, int(round(q / 100.0 * len(sorted_values) + 0.5)) - 1))
    return sorted_values[k]


def latency_summary(latencies_us):
    """p50/p95/p99/max in milliseconds of pooled per-transaction latencies."""
    s = sorted(latencies_us)
    if not s:
        return {"p50": None, "p95": None, "p99": None, "max": None}
    return {"p50": percentile(s, 50) / 1000.0, "p95": percentile(s, 95) / 1000.0,
            "p99": percentile(s, 99) / 1000.0, "max": s[-1] / 1000.0}

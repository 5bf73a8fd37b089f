"""One pgbench run: throughput, per-transaction latencies and WAL written."""
import glob
import os
import re
import subprocess
from dataclasses import dataclass, field


@dataclass
class RunResult:
    tps: float
    transactions: int
    failed: int
    seconds: float
    latencies_us: list = field(default_factory=list)
    # The slowest transaction: when it ended, in seconds after the first one ended, and its
    # number on its connection (pgbench counts from 1: the first also warms the caches).
    worst_at_s: float = None
    worst_tx_no: int = None
    wal_bytes: int = 0
    wal_fpi_bytes: int = None   # from pg_waldump --stats; None when it could not be read

    @property
    def wal_records_per_tx(self):
        """WAL bytes per transaction without the full-page images (what the statements themselves log)."""
        if self.wal_fpi_bytes is None or not self.transactions:
            return None
        return (self.wal_bytes - self.wal_fpi_bytes) / self.transactions

    @property
    def wal_per_tx(self):
        return self.wal_bytes / self.transactions if self.transactions else None

    @property
    def fpi_per_tx(self):
        """Bytes of full-page images per transaction."""
        if self.wal_fpi_bytes is None or not self.transactions:
            return None
        return self.wal_fpi_bytes / self.transactions


def fpi_bytes(cluster, start, end):
    """Bytes of full-page images between two LSNs (pg_waldump --stats), or None.
    The WAL up to end must be flushed (checks.after_snapshot commits synchronously first)."""
    if start == end:
        return 0
    try:
        p = subprocess.run([cluster.bin("pg_waldump"), "--stats", "-p", os.path.join(cluster.env["PGDATA"], "pg_wal"),
                            "-s", start, "-e", end], capture_output=True, text=True, timeout=120)
        m = re.search(r"^Total\s+\d+\s+\d+ \[[\d.]+%\]\s+(\d+)", p.stdout, re.M)
        return int(m.group(1)) if m else None
    except subprocess.SubprocessError:
        return None


def run(cluster, db, script, logdir, tag, sync, clients=1, duration=None, transactions=None,
        defines=None, protocol="prepared"):
    """Runs pgbench -n with one script; returns a RunResult (raises on failure). The caller
    fills in the WAL figures (it reads the WAL position with its own checks)."""
    os.makedirs(logdir, exist_ok=True)
    prefix = os.path.join(logdir, tag)
    for old in glob.glob(prefix + ".*"):
        os.remove(old)
    cmd = [cluster.bin("pgbench"), "-n", "-M", protocol, "-c", str(clients), "-j", str(clients),
           "-f", script, "-l", "--log-prefix", prefix]
    if duration is not None:
        cmd += ["-T", str(duration)]
        timeout = duration + 120
    else:
        cmd += ["-t", str(transactions)]
        timeout = 600
    for k, v in (defines or {}).items():
        cmd += ["-D", f"{k}={v}"]
    cmd.append(db)
    env = dict(cluster.env)
    env["PGOPTIONS"] = f"-c synchronous_commit={sync}"
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    if p.returncode != 0:
        raise RuntimeError(f"pgbench failed ({os.path.basename(script)} in {db}):\n"
                           f"{p.stderr.strip()[-2000:]}\n{p.stdout.strip()[-1000:]}")
    out = p.stdout

    def grab(pattern, cast, default=None):
        m = re.search(pattern, out, re.M)
        if m:
            return cast(m.group(1))
        if default is not None:
            return default
        raise RuntimeError(f"pgbench output without {pattern!r}:\n{out}")

    tx = grab(r"number of transactions actually processed: (\d+)", int)
    failed = grab(r"number of failed transactions: (\d+)", int, 0)
    tps = grab(r"^tps = ([\d.]+) \(without initial connection time\)", float)
    # Log lines: client_id transaction_no time_us script_no time_epoch time_us_part
    latencies = []
    first_end, worst = None, None   # worst: (latency, end time, transaction number)
    for path in glob.glob(prefix + ".*"):
        with open(path) as f:
            for line in f:
                parts = line.split()
                if len(parts) < 3:
                    continue
                latency = int(parts[2])
                latencies.append(latency)
                if len(parts) >= 6:
                    end = int(parts[4]) + int(parts[5]) / 1e6
                    first_end = end if first_end is None else min(first_end, end)
                    if worst is None or latency > worst[0]:
                        worst = (latency, end, int(parts[1]))
        os.remove(path)
    result = RunResult(tps=tps, transactions=tx, failed=failed, seconds=tx / tps if tps else 0.0,
                       latencies_us=latencies)
    if worst is not None and first_end is not None:
        result.worst_at_s, result.worst_tx_no = worst[1] - first_end, worst[2]
    return result

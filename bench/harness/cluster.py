"""A throwaway cluster (scripts/cluster) and the psql calls the harness makes."""
import os
import re
import subprocess


class CheckFailed(Exception):
    """A correctness check failed: the run's figures cannot be trusted."""


class Cluster:
    def __init__(self, root, directory, settings):
        self.root = root
        self.dir = directory
        self.settings = settings  # list of (name, value), appended to postgresql.conf
        self.env = None

    def start(self):
        cmd = [os.path.join(self.root, "scripts/cluster"), "start", self.dir]
        for name, value in self.settings:
            cmd += ["-c", f"{name} = {value}"]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, timeout=180)
        self.env = dict(os.environ)
        with open(os.path.join(self.dir, "env")) as f:
            for line in f:
                m = re.match(r"export (\w+)=(?:'(.*)'|(\S*))$", line.strip())
                if m:
                    self.env[m.group(1)] = m.group(2) if m.group(2) is not None else m.group(3)
        self.env.pop("PGOPTIONS", None)
        self.bindir = self.env["PGBIN"]

    def stop(self):
        subprocess.run([os.path.join(self.root, "scripts/cluster"), "stop", self.dir],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)

    def bin(self, name):
        return os.path.join(self.bindir, name)

    def psql(self, db, sql=None, file=None, variables=None, timeout=900, options=None, quiet=True):
        """Runs SQL (or a file) in db and returns stdout; raises on any error."""
        cmd = [self.bin("psql"), "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-F", "\t", "-d", db]
        if quiet:
            cmd.append("-q")
        for k, v in (variables or {}).items():
            cmd += ["-v", f"{k}={v}"]
        if file:
            cmd += ["-f", file]
        env = dict(self.env)
        if options:
            env["PGOPTIONS"] = options
        p = subprocess.run(cmd, input=sql if sql is not None else None, env=env,
                           capture_output=True, text=True, timeout=timeout)
        if p.returncode != 0:
            where = file or (sql or "").strip().splitlines()[0][:100]
            raise RuntimeError(f"psql failed in {db} ({where}):\n{p.stderr.strip()}")
        return p.stdout

    def rows(self, db, sql, **kw):
        out = self.psql(db, sql, **kw)
        return [line.split("\t") for line in out.splitlines() if line != ""]

    def value(self, db, sql, **kw):
        rows = self.rows(db, sql, **kw)
        return rows[0][0] if rows else None

    def try_psql(self, db, sql):
        """Runs SQL; returns None on success or the error text (for optional features)."""
        try:
            self.psql(db, sql)
            return None
        except RuntimeError as e:
            return str(e).splitlines()[-1]

"""What every benchmark of bench/ uses: the sizes, the run's state (`Harness`: the build, a temp
directory, the figures and ratios measured so far), running the programs measured, the corpus of
pages and the service's config.

Imported first by every module of bench/: it puts tests/integration on sys.path, so that they
import the peers the integration tests use (`from support import ...`).
"""
import datetime as dt
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.dont_write_bytecode = True  # nothing written into the source tree
os.environ["PYTHONDONTWRITEBYTECODE"] = "1"
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
from support import ce_pages  # noqa: E402
from support.procs import Processes  # noqa: E402

import py_mapping  # noqa: E402

START = dt.date(2024, 1, 1)  # first billing day of every generated period


# --- sizes -------------------------------------------------------------------------------------

FULL = {
    "services": 300, "accounts": 10, "page_size": 5000,
    "e2e_days": 30, "scale_days": [34, 334], "catchup_days": 90,
    "codec_days": 30,
    "delivery_events": 200_000, "python_sender_events": 20_000, "structured_events": 50_000,
    "sweep_events": 50_000, "sweep_connections": [1, 2, 4, 8], "sweep_batches": [1, 10, 100, 500],
    "wrk_seconds": 3, "sweep_wrk_seconds": 2,
}
SMOKE = {
    "services": 20, "accounts": 3, "page_size": 25,
    "e2e_days": 2, "scale_days": [3, 6], "catchup_days": 4,
    "codec_days": 2,
    "delivery_events": 2000, "python_sender_events": 300, "structured_events": 500,
    "sweep_events": 500, "sweep_connections": [1, 4], "sweep_batches": [1, 100],
    "wrk_seconds": 1, "sweep_wrk_seconds": 1,
}


# --- running what is measured ------------------------------------------------------------------

def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def json_lines(cmd, **kwargs):
    r = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed ({r.returncode}): {r.stderr[-2000:]}")
    return [json.loads(line) for line in r.stdout.splitlines() if line.startswith("{")]


def cpu_seconds(time_v_output):
    """User + system CPU seconds from /usr/bin/time -v's report."""
    total = 0.0
    for label in ("User time (seconds)", "System time (seconds)"):
        m = re.search(re.escape(label) + r": ([\d.]+)", time_v_output)
        total += float(m.group(1)) if m else 0.0
    return total


def timed(cmd, env=None, cwd=None):
    """Runs cmd under /usr/bin/time -v: (seconds by our clock, peak RSS in KiB, completed).
    Without /usr/bin/time, the peak RSS comes from the same place, the child's rusage (and
    `completed.cpu_seconds` from it, as cpu_seconds() reads it from /usr/bin/time's report)."""
    if not os.path.exists("/usr/bin/time"):
        with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
            started = time.perf_counter()
            proc = subprocess.Popen(cmd, stdout=out, stderr=err, text=True, env=env, cwd=cwd)
            _, status, usage = os.wait4(proc.pid, 0)
            seconds = time.perf_counter() - started
            proc.returncode = os.waitstatus_to_exitcode(status)
            out.seek(0)
            err.seek(0)
            r = subprocess.CompletedProcess(cmd, proc.returncode, out.read(), err.read())
            r.cpu_seconds = usage.ru_utime + usage.ru_stime
        if r.returncode != 0:
            raise RuntimeError(f"{' '.join(map(str, cmd))} failed ({r.returncode}): {r.stderr[-3000:]}")
        return seconds, usage.ru_maxrss, r
    started = time.perf_counter()
    r = subprocess.run(["/usr/bin/time", "-v", *cmd], capture_output=True, text=True, env=env,
                       cwd=cwd)
    seconds = time.perf_counter() - started
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", r.stderr)
    if r.returncode != 0 or not m:
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed ({r.returncode}): {r.stderr[-3000:]}")
    r.cpu_seconds = cpu_seconds(r.stderr)
    return seconds, int(m.group(1)), r


# --- figures -----------------------------------------------------------------------------------

class Figure:
    """One measured figure: the values of every run."""

    def __init__(self, bench, name, unit, values, note=""):
        self.bench, self.name, self.unit, self.values, self.note = bench, name, unit, list(values), note

    @property
    def median(self):
        return statistics.median(self.values)

    def row(self):
        return {"benchmark": self.bench, "figure": self.name, "unit": self.unit,
                "median": fmt(self.median), "min": fmt(min(self.values)),
                "max": fmt(max(self.values)), "runs": len(self.values), "note": self.note}


class Ratio:
    def __init__(self, bench, name, value, op, target, note=""):
        self.bench, self.name, self.value, self.op, self.target, self.note = bench, name, value, op, target, note

    @property
    def met(self):
        return self.value >= self.target if self.op == ">=" else self.value <= self.target

    def row(self):
        return {"benchmark": self.bench, "ratio": self.name, "value": fmt(self.value),
                "target": f"{self.op} {fmt(self.target)}", "met": "yes" if self.met else "no",
                "note": self.note}


def fmt(x):
    if isinstance(x, int):
        return str(x)
    if x == 0:
        return "0"
    if abs(x) >= 100:
        return f"{x:.0f}"
    if abs(x) >= 1:
        return f"{x:.3g}" if abs(x) < 10 else f"{x:.1f}"
    return f"{x:.3g}"


# --- the run -----------------------------------------------------------------------------------

class Harness:
    """One run of the benchmarks: its arguments and sizes, the build measured, a temp directory,
    the peers' processes, and every figure, ratio and sweep point measured so far."""

    def __init__(self, args):
        self.args = args
        self.size = SMOKE if args.smoke else FULL
        self.runs = args.runs
        self.bin = os.path.abspath(args.build_dir)
        self.binary = os.path.join(self.bin, "source-aws-billing")
        self.tmp = tempfile.mkdtemp(prefix="sab-bench-")
        if os.geteuid() == 0:
            os.chmod(self.tmp, 0o755)  # nginx runs as nobody from a prefix inside
        self.procs = Processes()  # the peers, all stopped at the end (bench/peers.py)
        self.figures = []
        self.ratios = []
        self.sweep = []  # (kind, x, series, median, min, max)
        self.extra = {}

    def fig(self, *a, **kw):
        f = Figure(*a, **kw)
        self.figures.append(f)
        log(f"{f.bench}: {f.name} = {fmt(f.median)} {f.unit} (min {fmt(min(f.values))}, max {fmt(max(f.values))})")
        return f

    def ratio(self, *a, **kw):
        r = Ratio(*a, **kw)
        self.ratios.append(r)
        log(f"{r.bench}: {r.name} = {fmt(r.value)} (target {r.op} {fmt(r.target)}: {'met' if r.met else 'MISSED'})")
        return r

    def corpus(self, days):
        """The pages of `days` days from START (support/ce_pages.py, one page per line), written
        once per run by a child process (the harness stays small)."""
        path = os.path.join(self.tmp, f"pages-{days}.jsonl")
        if not os.path.exists(path):
            subprocess.run([sys.executable, ce_pages.__file__, "--services",
                            str(self.size["services"]), "--accounts", str(self.size["accounts"]),
                            "--start", START.isoformat(), "--days", str(days), "--page-size",
                            str(self.size["page_size"]), "--out", path], check=True,
                           stdout=subprocess.DEVNULL)
        return path

    def sample_event(self, corpus):
        with open(corpus, "rb") as f:
            page = json.loads(f.readline())
        period = page["ResultsByTime"][0]
        event = py_mapping.make_event(period, period["Groups"][0], page["GroupDefinitions"],
                                      py_mapping.now_rfc3339())
        return py_mapping.binary(event)

    def service_config(self, name, target, endpoint, mode, extra="", listen="127.0.0.1:0"):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(f"""target: {target}
endpoint: {endpoint}
secret: {{access_key_id: AKIABENCHMARK000001, secret_access_key: bench-secret}}
group_by: [{{type: DIMENSION, key: SERVICE}}, {{type: DIMENSION, key: LINKED_ACCOUNT}}]
listen: {listen}
delivery: {{mode: {mode}, batch_size: 100, concurrency: 4}}
log: {{level: info, format: json}}
{extra}""")
        return path

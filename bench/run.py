#!/usr/bin/env python3
"""Runs every benchmark of bench/ (issue 7) and writes the results.

    bench/run.sh [--smoke] [--out DIR] [--build-dir DIR] [--runs N]

Each figure is the median of --runs runs (>= 5) with min and max, compared in the same run with a
ceiling (what the hardware and the peer allow) and a baseline (Python, what a user would write);
the ratios are what counts, absolute numbers on a shared 2-core machine are noise.

Writes <results>/*.csv, <docs>/benchmarks.md and <docs>/benchmarks.png: by default
bench/results/ and docs/ of the repository; with --out DIR, DIR/results/ and DIR/.
--smoke runs every benchmark at a size of seconds (CI keeps them working; never a timing check).
"""
import argparse
import contextlib
import csv
import datetime as dt
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.dont_write_bytecode = True  # nothing written into the source tree
os.environ["PYTHONDONTWRITEBYTECODE"] = "1"
sys.path.insert(0, HERE)
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


# --- helpers -----------------------------------------------------------------------------------

def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, proc=None, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before listening on {port}")
        with contextlib.suppress(OSError):
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        time.sleep(0.02)
    raise RuntimeError(f"nothing listens on {port} after {timeout}s")


def stop(proc):
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


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


def rss_kib(pid, field="VmRSS"):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} for {pid}")


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


# --- peers -------------------------------------------------------------------------------------

class Nginx:
    """Debian's nginx from a temp prefix on a free port, in the foreground, unprivileged (as
    nobody when we are root), answering 202 to every POST (bench/nginx.conf)."""

    def __init__(self, tmp):
        self.prefix = os.path.join(tmp, "nginx")
        os.makedirs(self.prefix)
        self.port = free_port()
        with open(os.path.join(HERE, "nginx.conf")) as f:
            conf = f.read().replace("@PREFIX@", self.prefix).replace("@PORT@", str(self.port))
        with open(os.path.join(self.prefix, "nginx.conf"), "w") as f:
            f.write(conf)
        cmd = [shutil.which("nginx") or "/usr/sbin/nginx", "-p", self.prefix, "-c",
               os.path.join(self.prefix, "nginx.conf"), "-e", "stderr"]
        if os.geteuid() == 0:
            for d in (tmp, self.prefix):
                os.chmod(d, 0o755)
            os.chown(self.prefix, 65534, 65534)
            cmd = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *cmd]
        self.proc = subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        wait_for_port(self.port, self.proc)
        self.url = f"http://127.0.0.1:{self.port}/"


class CeFake:
    """bench/ce_fast.py with the given periods rendered in memory before it listens."""

    def __init__(self, size, days_list):
        cmd = [sys.executable, os.path.join(HERE, "ce_fast.py"), "--services", str(size["services"]),
               "--accounts", str(size["accounts"]), "--start", START.isoformat(),
               "--days", ",".join(map(str, days_list)), "--page-size", str(size["page_size"])]
        self.proc = subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("ce_fast.py did not start: " + self.proc.stderr.read()[-2000:])
        self.info = json.loads(line)
        self.port = self.info["port"]
        self.url = f"http://127.0.0.1:{self.port}"

    def stats(self):
        with urllib.request.urlopen(self.url + "/stats", timeout=10) as r:
            return json.loads(r.read())


def wrk_rate(url, connections, seconds, body, headers, tmp):
    script = os.path.join(tmp, "post.lua")
    with open(script, "w") as f:
        f.write('wrk.method = "POST"\n')
        f.write("wrk.body = %s\n" % lua_string(body))
        for k, v in headers.items():
            f.write("wrk.headers[%s] = %s\n" % (lua_string(k), lua_string(v)))
    r = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "-s", script, url],
                       capture_output=True, text=True, timeout=seconds + 30)
    m = re.search(r"Requests/sec:\s+([\d.]+)", r.stdout)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", r.stdout)
    if r.returncode != 0 or not m or errors:
        raise RuntimeError("wrk failed: " + r.stdout + r.stderr)
    return float(m.group(1))


def lua_string(s):
    if isinstance(s, bytes):
        s = s.decode()
    return '"' + "".join(c if c.isalnum() or c in " .,:;/-_{}[]()@+=*&^%$#!?<>|~'" else "\\%d" % ord(c)
                         for c in s) + '"'


# --- the benchmarks ----------------------------------------------------------------------------

class Bench:
    def __init__(self, args):
        self.args = args
        self.size = SMOKE if args.smoke else FULL
        self.runs = args.runs
        self.bin = os.path.abspath(args.build_dir)
        self.binary = os.path.join(self.bin, "source-aws-billing")
        self.tmp = tempfile.mkdtemp(prefix="sab-bench-")
        if os.geteuid() == 0:
            os.chmod(self.tmp, 0o755)  # nginx runs as nobody from a prefix inside
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
        path = os.path.join(self.tmp, f"pages-{days}.jsonl")
        if not os.path.exists(path):
            subprocess.run([sys.executable, os.path.join(HERE, "pages.py"), "--services",
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

    # 1 -------------------------------------------------------------------------------------------
    def codec(self):
        corpus = self.corpus(self.size["codec_days"])
        b = os.path.join(self.bin, "bench", "bench_codec")
        ours = json_lines([b, "--corpus", corpus, "--mode", "ours", "--runs", str(self.runs)])
        ceiling = json_lines([b, "--corpus", corpus, "--mode", "ceiling", "--runs", str(self.runs)])
        stages = json_lines([b, "--corpus", corpus, "--mode", "stages", "--runs", str(self.runs)])
        base = json_lines([sys.executable, os.path.join(HERE, "py_codec.py"), "--corpus", corpus,
                           "--runs", str(self.runs)])
        mb = ours[0]["bytes"] / 1e6
        groups = ours[0]["events"]
        self.extra["codec"] = {"mb": mb, "groups": groups, "pages": sum(1 for _ in open(corpus))}
        n = "1 codec"
        f_ours = self.fig(n, "ours: parse + map + encode", "MB/s", [mb / r["seconds"] for r in ours])
        self.fig(n, "ours: events", "events/s", [r["events"] / r["seconds"] for r in ours])
        f_ceil = self.fig(n, "ceiling: simdjson On-Demand walk", "MB/s",
                          [mb / r["seconds"] for r in ceiling])
        f_base = self.fig(n, "baseline: Python json.loads + map + json.dumps", "MB/s",
                          [mb / r["seconds"] for r in base])
        for stage in ("parse", "map", "encode"):
            self.fig(n, f"ours, stage alone: {stage}", "MB/s",
                     [mb / r[f"{stage}_seconds"] for r in stages],
                     note="share of the three stages: %.0f%%" % (100 * statistics.median(
                         [r[f"{stage}_seconds"] / r["seconds"] for r in stages])))
        self.ratio(n, "ours / ceiling (MB/s)", f_ours.median / f_ceil.median, ">=", 0.5)
        self.ratio(n, "ours / baseline (MB/s)", f_ours.median / f_base.median, ">=", 30)

    # 2 -------------------------------------------------------------------------------------------
    def deliver_runs(self, nginx, corpus, mode, events, connections=4, batch=100):
        b = os.path.join(self.bin, "bench", "bench_delivery")
        rows = json_lines([b, "--target", nginx.url, "--corpus", corpus, "--events", str(events),
                           "--mode", mode, "--concurrency", str(connections), "--batch-size",
                           str(batch), "--runs", str(self.runs), "--state-dir",
                           os.path.join(self.tmp, "dead-letters")])
        return [r["events"] / r["seconds"] for r in rows]

    def delivery(self):
        s = self.size
        corpus = self.corpus(self.size["codec_days"])
        headers, body = self.sample_event(corpus)
        n = "2 delivery"
        with self.nginx() as nginx:
            wrk = [wrk_rate(nginx.url, 4, s["wrk_seconds"], body, headers, self.tmp)
                   for _ in range(self.runs)]
            f_wrk = self.fig(n, "ceiling: wrk, 4 connections, event-sized POST", "requests/s", wrk,
                             note=f"{len(body)}-byte body, {len(headers)} headers like binary mode")
            f_bin = self.fig(n, f"ours: binary mode, 4 connections, {s['delivery_events']} events",
                             "events/s", self.deliver_runs(nginx, corpus, "binary", s["delivery_events"]))
            f_batch = self.fig(n, f"ours: batch mode (100 per request), 4 connections, {s['delivery_events']} events",
                               "events/s", self.deliver_runs(nginx, corpus, "batch", s["delivery_events"]))
            self.fig(n, f"ours: structured mode, 4 connections, {s['structured_events']} events",
                     "events/s", self.deliver_runs(nginx, corpus, "structured", s["structured_events"]))
            rows = json_lines([sys.executable, os.path.join(HERE, "py_sender.py"), "--corpus", corpus,
                               "--target", nginx.url, "--events", str(s["python_sender_events"]),
                               "--connections", "4", "--runs", str(self.runs)])
            f_py = self.fig(n, f"baseline: Python http.client keep-alive, 4 threads, {s['python_sender_events']} events",
                            "events/s", [r["events"] / r["seconds"] for r in rows])
            self.ratio(n, "ours binary / wrk (requests/s)", f_bin.median / f_wrk.median, ">=", 0.7)
            self.ratio(n, "ours batch / ours binary (events/s)", f_batch.median / f_bin.median, ">=", 10)
            self.ratio(n, "ours binary / Python sender (events/s)", f_bin.median / f_py.median, ">=", 1,
                       note="no target in the issue; shown for scale")

            # The plot: events/s against connections (binary) and against batch size (4 conns).
            for c in s["sweep_connections"]:
                v = self.deliver_runs(nginx, corpus, "binary", s["sweep_events"], connections=c)
                self.sweep.append(("connections", c, "ours binary", statistics.median(v), min(v), max(v)))
                w = [wrk_rate(nginx.url, c, s["sweep_wrk_seconds"], body, headers, self.tmp)
                     for _ in range(self.runs)]
                self.sweep.append(("connections", c, "wrk (ceiling)", statistics.median(w), min(w), max(w)))
                log(f"sweep: {c} connections: ours {fmt(statistics.median(v))}/s, wrk {fmt(statistics.median(w))}/s")
            for bsz in s["sweep_batches"]:
                v = self.deliver_runs(nginx, corpus, "batch", s["sweep_events"], batch=bsz)
                self.sweep.append(("batch", bsz, "ours batch, 4 connections", statistics.median(v), min(v), max(v)))
                log(f"sweep: batch {bsz}: ours {fmt(statistics.median(v))} events/s")
            self.extra["wrk_rate"] = f_wrk.median

    @contextlib.contextmanager
    def nginx(self):
        n = Nginx(tempfile.mkdtemp(dir=self.tmp))
        try:
            yield n
        finally:
            stop(n.proc)

    # 3 -------------------------------------------------------------------------------------------
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

    def run_ours(self, fake, nginx, mode, days, journal=True, done=None):
        """One --once run; (seconds, peak RSS KiB, CE requests). `journal=False` sets SAB_JOURNAL=off
        (the journal's baseline); `done` (a dict) receives the run's `done` log line."""
        cfg = self.service_config(f"e2e-{mode}.yml", nginx.url, fake.url, mode)
        state = tempfile.mkdtemp(dir=self.tmp)
        with open(cfg, "a") as f:
            f.write(f"state_dir: {state}\n")
        last = START + dt.timedelta(days=days - 1)
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k != "SAB_JOURNAL"}
        env["SAB_FAKE_NOW"] = f"{(last + dt.timedelta(days=2)).isoformat()}T03:00:00Z"
        if not journal:
            env["SAB_JOURNAL"] = "off"
        before = fake.stats()["requests"]
        seconds, rss, r = timed([self.binary, "--config", cfg, "--once", "--from", START.isoformat(),
                                 "--to", last.isoformat()], env=env)
        delivered = None
        for line in r.stderr.splitlines():
            with contextlib.suppress(ValueError):
                rec = json.loads(line)
                if rec.get("msg") == "done":
                    delivered = rec.get("delivered")
                    if done is not None:
                        done.update(rec, cpu_seconds=r.cpu_seconds)
        expected = days * self.size["services"] * self.size["accounts"]
        if delivered is None or int(delivered) != expected:
            raise RuntimeError(f"ours delivered {delivered} of {expected} events")
        shutil.rmtree(state, ignore_errors=True)
        return seconds, rss, fake.stats()["requests"] - before

    def run_reference(self, fake, nginx, days):
        end = START + dt.timedelta(days=days)
        seconds, rss, r = timed([sys.executable, os.path.join(HERE, "py_reference.py"), "--endpoint",
                                 fake.url, "--target", nginx.url, "--start", START.isoformat(),
                                 "--end", end.isoformat()])
        out = json.loads(r.stdout.strip().splitlines()[-1])
        expected = days * self.size["services"] * self.size["accounts"]
        if out["events"] != expected:
            raise RuntimeError(f"reference delivered {out['events']} of {expected} events")
        return seconds, rss

    def end_to_end(self):
        s = self.size
        days = s["e2e_days"]
        groups = days * s["services"] * s["accounts"]
        n = "3 end to end"
        log("starting the Cost Explorer fake (rendering every period's pages in memory)")
        fake = CeFake(s, [days, *s["scale_days"], s["catchup_days"]])
        self.fake = fake
        try:
            with self.nginx() as nginx:
                bin_runs = [self.run_ours(fake, nginx, "binary", days) for _ in range(self.runs)]
                batch_runs = [self.run_ours(fake, nginx, "batch", days) for _ in range(self.runs)]
                ref_runs = [self.run_reference(fake, nginx, days) for _ in range(self.runs)]
                label = f"{days}-day catch-up, {s['services']} services x {s['accounts']} accounts = {groups} groups"
                self.extra["e2e_label"] = label
                self.extra["e2e_pages"] = bin_runs[0][2]
                f_bin = self.fig(n, "ours: binary mode, time", "s", [r[0] for r in bin_runs], note=label)
                f_bin_rate = self.fig(n, "ours: binary mode", "events/s", [groups / r[0] for r in bin_runs])
                f_batch = self.fig(n, "ours: batch mode (100 per request), time", "s", [r[0] for r in batch_runs])
                self.fig(n, "ours: batch mode", "events/s", [groups / r[0] for r in batch_runs])
                f_ref = self.fig(n, "reference: Python boto3 + http.client, time", "s", [r[0] for r in ref_runs])
                self.fig(n, "ours: binary mode, peak RSS", "MiB", [r[1] / 1024 for r in bin_runs])
                f_rss = self.fig(n, "ours: batch mode, peak RSS", "MiB", [r[1] / 1024 for r in batch_runs])
                f_ref_rss = self.fig(n, "reference: peak RSS", "MiB", [r[1] / 1024 for r in ref_runs])
                wrk = self.extra.get("wrk_rate")
                if wrk:
                    ceiling_s = groups / wrk
                    self.ratio(n, "ours binary / ceiling (events / wrk rate, as a rate)",
                               ceiling_s / f_bin.median, ">=", 0.6,
                               note=f"ceiling {fmt(ceiling_s)} s = {groups} events at wrk's {fmt(wrk)}/s")
                self.ratio(n, "reference time / ours batch time", f_ref.median / f_batch.median, ">=", 20)
                self.ratio(n, "ours peak RSS / reference peak RSS (batch)", f_rss.median / f_ref_rss.median, "<=", 1 / 3)
                self.ratio(n, "ours peak RSS / reference peak RSS (binary)",
                           statistics.median([r[1] for r in bin_runs]) / statistics.median([r[1] for r in ref_runs]),
                           "<=", 1 / 3)
                del f_bin_rate

                # Ours alone at ~100k and ~1M groups: peak RSS must stay flat.
                peaks = {}
                for d in s["scale_days"]:
                    runs = [self.run_ours(fake, nginx, "batch", d) for _ in range(self.runs)]
                    g = d * s["services"] * s["accounts"]
                    self.fig(n, f"ours alone, batch mode, {g} groups: time", "s", [r[0] for r in runs])
                    peaks[g] = self.fig(n, f"ours alone, batch mode, {g} groups: peak RSS", "MiB",
                                        [r[1] / 1024 for r in runs])
                small, big = sorted(peaks)
                self.ratio(n, f"peak RSS growth {small} -> {big} groups",
                           peaks[big].median / peaks[small].median - 1, "<=", 0.2)
        except BaseException:
            stop(fake.proc)
            raise

    # 5 -------------------------------------------------------------------------------------------
    def journal(self):
        """Benchmark 3's run in every delivery mode, with the journal of acknowledgements and
        without it (SAB_JOURNAL=off, the baseline), runs alternating so drift hits both alike."""
        s = self.size
        days = s["e2e_days"]
        groups = days * s["services"] * s["accounts"]
        n = "5 journal"
        # Pairs of runs side by side: on a shared machine the load drifts by more than the
        # journal costs, and a pair sees (nearly) the same load.
        runs = max(self.runs, 9) if not self.args.smoke else self.runs
        fake = CeFake(s, [days])
        try:
            with self.nginx() as nginx:
                for mode in ("binary", "structured", "batch"):
                    on, off, on_done, off_done = [], [], [], []
                    for i in range(runs):
                        on_done.append({})
                        off_done.append({})
                        # Which one goes first alternates too.
                        for journal in ((False, True) if i % 2 == 0 else (True, False)):
                            (on if journal else off).append(self.run_ours(
                                fake, nginx, mode, days, journal=journal,
                                done=(on_done if journal else off_done)[-1]))
                    label = f"{mode} mode, {groups} events" + (" (100 per request)" if mode == "batch" else "")
                    self.fig(n, f"{label}: with the journal", "events/s", [groups / r[0] for r in on])
                    self.fig(n, f"{label}: without (SAB_JOURNAL=off)", "events/s", [groups / r[0] for r in off])
                    self.fig(n, f"{mode}: journal records appended per second", "records/s",
                             [d.get("journal_records", 0) / r[0] for d, r in zip(on_done, on)],
                             note="one per answer (per day within a batch)")
                    self.fig(n, f"{mode}: journal fsyncs per second", "fsyncs/s",
                             [d.get("journal_fsyncs", 0) / r[0] for d, r in zip(on_done, on)],
                             note="group commit: one fdatasync per 10 ms window at most")
                    pairs = [b[0] / a[0] for a, b in zip(on, off)]  # events/s with / without
                    # /usr/bin/time counts in hundredths: a smoke-sized run may read 0.
                    cpu = [a["cpu_seconds"] / b["cpu_seconds"] for a, b in zip(on_done, off_done)
                           if a["cpu_seconds"] > 0 and b["cpu_seconds"] > 0]
                    self.fig(n, f"{mode}: events/s with the journal / without, per pair of runs", "ratio", pairs)
                    if cpu:
                        self.fig(n, f"{mode}: CPU time (user + system) with the journal / without, per pair",
                                 "ratio", cpu, note="the process's own cost, less exposed to the neighbours' load")
                    self.ratio(n, f"{mode}: events/s with the journal / without (median of {runs} pairs)",
                               statistics.median(pairs), ">=", 0.9)
        finally:
            stop(fake.proc)

    # 4 -------------------------------------------------------------------------------------------
    def start_service(self, cfg, env):
        proc = subprocess.Popen([self.binary, "--config", cfg], env=env, start_new_session=True,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        return proc

    def readyz(self, port):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as r:
                return r.status == 200
        except OSError:
            return False

    def metric(self, port, name):
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
            text = r.read().decode()
        total = 0.0
        for line in text.splitlines():
            if line.startswith(name):
                total += float(line.rsplit(" ", 1)[1])
        return total

    def service_run(self, fake, nginx, checkpoint, now_day, mode="binary", catch_up=7):
        """Starts the service with `checkpoint`, 'now' pinned to now_day 03:00 UTC. Returns
        (seconds to /readyz 200, port, proc)."""
        state = tempfile.mkdtemp(dir=self.tmp)
        with open(os.path.join(state, "state.json"), "w") as f:
            json.dump({"version": 1, "checkpoint": checkpoint.isoformat(), "digests": {}}, f)
        port = free_port()
        cfg = self.service_config("service.yml", nginx.url, fake.url, mode,
                                  f"state_dir: {state}\ncatch_up_days: {catch_up}\n",
                                  listen=f"127.0.0.1:{port}")
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env["SAB_FAKE_NOW"] = f"{now_day.isoformat()}T03:00:00Z"
        started = time.perf_counter()
        proc = self.start_service(cfg, env)
        deadline = time.monotonic() + 30
        while not self.readyz(port):
            if proc.poll() is not None or time.monotonic() > deadline:
                stop(proc)
                raise RuntimeError("service not ready: " + (proc.stderr.read() or "")[-2000:])
            time.sleep(0.002)
        return time.perf_counter() - started, port, proc

    def wait_pull(self, port, proc, timeout=300):
        deadline = time.monotonic() + timeout
        while self.metric(port, 'aws_billing_source_pulls_total{result="success"}') < 1:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the service's pull did not succeed")
            time.sleep(0.05)

    def footprint(self):
        s = self.size
        n = "4 footprint"
        fake = self.fake
        catchup = s["catchup_days"]
        today = START + dt.timedelta(days=catchup)  # yesterday = START + catchup - 1
        yesterday = today - dt.timedelta(days=1)
        try:
            with self.nginx() as nginx:
                ready, idle_fresh, idle_pulled, anon_pulled = [], [], [], []
                for _ in range(self.runs):
                    secs, port, proc = self.service_run(fake, nginx, yesterday, today)
                    ready.append(secs)
                    time.sleep(1.0)
                    idle_fresh.append(rss_kib(proc.pid) / 1024)
                    stop(proc)
                for _ in range(self.runs):
                    # One day missing: the start-up pull delivers yesterday, then the service idles.
                    _, port, proc = self.service_run(fake, nginx, yesterday - dt.timedelta(days=1), today)
                    self.wait_pull(port, proc)
                    time.sleep(1.0)
                    idle_pulled.append(rss_kib(proc.pid) / 1024)
                    anon_pulled.append(rss_kib(proc.pid, "RssAnon") / 1024)
                    stop(proc)
                f_ready = self.fig(n, "ours: start-up to /readyz 200 (no pull due)", "ms", [x * 1000 for x in ready])
                self.fig(n, "ours: idle RSS, no pull yet", "MiB", idle_fresh)
                f_idle = self.fig(n, f"ours: idle RSS after a daily pull ({s['services'] * s['accounts']} groups)",
                                  "MiB", idle_pulled)
                # RSS counts the shared libraries' code pages the pull touched (OpenSSL, Boost,
                # simdjson: shared and clean); the process's own memory is the anonymous part.
                self.fig(n, "ours: of which anonymous (the process's own heap and stacks)", "MiB",
                         anon_pulled, note="the rest is file-backed: shared library code")
                py_idle = []
                for _ in range(self.runs):
                    proc = subprocess.Popen([sys.executable, "-c", PY_IDLE], stdout=subprocess.PIPE, text=True,
                                            start_new_session=True)
                    proc.stdout.readline()
                    time.sleep(1.0)
                    py_idle.append(rss_kib(proc.pid) / 1024)
                    stop(proc)
                self.fig(n, "baseline: idle RSS of Python with a boto3 CE client and http.client", "MiB", py_idle)
                self.ratio(n, "ours idle RSS after a pull (MiB)", f_idle.median, "<=", 10)
                del f_ready

                stripped = os.path.join(self.tmp, "stripped")
                subprocess.run(["strip", "-o", stripped, self.binary], check=True)
                self.fig(n, "ours: stripped binary size", "MiB", [os.path.getsize(stripped) / 2**20],
                         note="dynamically linked (Boost, OpenSSL, simdjson, prometheus-cpp, yaml-cpp shared)")

                # Billed requests of a catch-up of catchup days: the service starts with the checkpoint
                # catchup days behind and catch_up_days = catchup.
                counts, times = [], []
                for _ in range(self.runs):
                    before = fake.stats()["requests"]
                    started = time.perf_counter()
                    _, port, proc = self.service_run(fake, nginx, START - dt.timedelta(days=1), today,
                                                     mode="batch", catch_up=catchup)
                    self.wait_pull(port, proc, timeout=600)
                    times.append(time.perf_counter() - started)
                    counts.append(fake.stats()["requests"] - before)
                    stop(proc)
                groups = catchup * s["services"] * s["accounts"]
                pages = -(-groups // s["page_size"])
                f_req = self.fig(n, f"ours: billed CE requests, {catchup}-day catch-up ({groups} groups)", "requests",
                                 counts, note=f"{pages} pages of {s['page_size']} groups; {catchup} days")
                self.fig(n, f"ours: {catchup}-day catch-up in the service, batch mode, start to pull done", "s", times)
                self.ratio(n, "billed requests / pages", f_req.median / pages, "<=", 1,
                           note=f"one request per day would be {catchup}")
        finally:
            stop(fake.proc)

    # output --------------------------------------------------------------------------------------
    def write(self):
        results = os.path.join(self.args.out, "results") if self.args.out else os.path.join(HERE, "results")
        docs = self.args.out or os.path.join(ROOT, "docs")
        os.makedirs(results, exist_ok=True)
        os.makedirs(docs, exist_ok=True)
        write_csv(os.path.join(results, "figures.csv"), [f.row() for f in self.figures])
        write_csv(os.path.join(results, "ratios.csv"), [r.row() for r in self.ratios])
        write_csv(os.path.join(results, "sweep.csv"),
                  [{"kind": k, "x": x, "series": se, "median": fmt(m), "min": fmt(lo), "max": fmt(hi)}
                   for k, x, se, m, lo, hi in self.sweep])
        png = os.path.join(docs, "benchmarks.png")
        plotted = plot(self.sweep, png, self.tmp)
        machine = machine_description(self)
        with open(os.path.join(docs, "benchmarks.md"), "w") as f:
            f.write(markdown(self, machine, plotted))
        log(f"wrote {results}/*.csv and {docs}/benchmarks.md" + (", benchmarks.png" if plotted else ""))


PY_IDLE = """
import http.client, sys, time, boto3
ce = boto3.client("ce", endpoint_url="http://127.0.0.1:9", region_name="us-east-1",
                  aws_access_key_id="AKIABENCHIDLE0000001", aws_secret_access_key="x")
conn = http.client.HTTPConnection("127.0.0.1", 9)
print("ready", flush=True)
time.sleep(60)
"""


def write_csv(path, rows):
    with open(path, "w", newline="") as f:
        if not rows:
            return
        w = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
        w.writeheader()
        w.writerows(rows)


def plot(sweep, png, tmp):
    gnuplot = shutil.which("gnuplot")
    if not gnuplot or not sweep:
        return False
    files = {}
    for kind, x, series, m, lo, hi in sweep:
        files.setdefault((kind, series), []).append((x, m, lo, hi))
    script = ["set terminal pngcairo size 1200,480 font ',10'", f"set output '{png}'",
              "set multiplot layout 1,2 title 'source-aws-billing delivery to nginx on loopback (median, min-max bars)'",
              "set grid", "set key top left", "set ylabel 'events/s'", "set format y '%.1s%c'"]
    for i, kind in enumerate(["connections", "batch"]):
        plots = []
        for (k, series), points in files.items():
            if k != kind:
                continue
            path = os.path.join(tmp, f"plot-{kind}-{len(plots)}.dat")
            with open(path, "w") as f:
                for p in sorted(points):
                    f.write("%s %s %s %s\n" % p)
            plots.append(f"'{path}' using 1:2:3:4 with yerrorlines lw 2 title '{series}'")
        if kind == "connections":
            script += ["set title 'binary mode: one event per request'", "set xlabel 'connections'",
                       "set logscale x 2", "set xrange [0.8:10]", "set xtics (1,2,4,8)"]
        else:
            script += ["set title 'batch mode, 4 connections'", "set xlabel 'events per request'",
                       "set logscale x 10", "set xrange [0.8:1000]", "set xtics auto"]
        script.append("plot " + ", ".join(plots))
    script.append("unset multiplot")
    path = os.path.join(tmp, "plot.gp")
    with open(path, "w") as f:
        f.write("\n".join(script) + "\n")
    r = subprocess.run([gnuplot, path], capture_output=True, text=True)
    if r.returncode != 0:
        log("gnuplot failed: " + r.stderr)
        return False
    return True


def command_output(cmd):
    with contextlib.suppress(Exception):
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=20)
        return (r.stdout + r.stderr).strip().splitlines()[0]
    return "?"


def machine_description(bench):
    cpu = "?"
    with contextlib.suppress(OSError):
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = "?"
    with contextlib.suppress(OSError):
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 2**20:.0f} GiB"
    debian = "?"
    with contextlib.suppress(OSError):
        debian = open("/etc/debian_version").read().strip()
    build_type = "?"
    with contextlib.suppress(OSError):
        for line in open(os.path.join(bench.bin, "CMakeCache.txt")):
            if line.startswith("CMAKE_BUILD_TYPE:"):
                build_type = line.split("=", 1)[1].strip()
    boto3 = command_output([sys.executable, "-c", "import boto3; print(boto3.__version__)"])
    commit = command_output(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"])
    return [
        ("CPU", f"{cpu}, {os.cpu_count()} cores (shared)"),
        ("memory", mem),
        ("OS", f"Debian {debian}, Linux {platform.release()}"),
        ("build", f"CMake build type {build_type}, {command_output(['g++', '--version'])}"),
        ("peers", f"{command_output(['nginx', '-v'])}; {command_output(['wrk', '-v'])}"),
        ("Python", f"{platform.python_version()}, boto3 {boto3}"),
        ("commit", f"{commit} (repository HEAD when run); binary: "
                   f"{command_output([bench.binary, '--version'])}"),
        ("date", dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")),
        ("size", "smoke (not figures to quote)" if bench.args.smoke else "full"),
        ("runs", f"{bench.runs} per figure (median, min, max)"),
    ]


def markdown(bench, machine, plotted):
    s = bench.size
    out = ["# Benchmarks", "",
           "Written by `bench/run.sh` (issue 7); re-run it to refresh every figure here. Each figure",
           "is compared, in the same run, with a ceiling (what the hardware and the peer allow) and a",
           "baseline (what a user would write instead, in Python). On these shared 2-core machines",
           "absolute numbers are noise: read the ratios.", "",
           "| machine | |", "|---|---|"]
    out += [f"| {k} | {v} |" for k, v in machine]
    # The figures before the optimizations of docs/benchmarks.md "Optimizations", kept for the
    # before/after column (same harness, same machine kind).
    before = {}
    before_path = os.path.join(HERE, "results", "before", "ratios.csv")
    if os.path.exists(before_path):
        with open(before_path, newline="") as f:
            for row in csv.DictReader(f):
                before[(row["benchmark"], row["ratio"])] = row["value"]
    out += ["", "## Ratios against the targets", "",
            "| benchmark | ratio | value | before | target | met | note |",
            "|---|---|---|---|---|---|---|"]
    for r in bench.ratios:
        row = r.row()
        was = before.get((row["benchmark"], row["ratio"]), "")
        out.append(f"| {row['benchmark']} | {row['ratio']} | {row['value']} | {was} | {row['target']} | "
                   f"{'yes' if r.met else '**no**'} | {row['note']} |")
    if before:
        out += ["", "*before*: the same ratio at the first full run, before the optimizations below "
                "(`bench/results/before/`)."]
    sections = {
        "1 codec": ("1. Parse + map + encode",
                    f"Synthetic GetCostAndUsage pages (`bench/pages.py`: {s['services']} services x "
                    f"{s['accounts']} linked accounts x {s['codec_days']} days = "
                    f"{bench.extra.get('codec', {}).get('groups', '?')} groups, "
                    f"{bench.extra.get('codec', {}).get('mb', 0):.1f} MB in "
                    f"{bench.extra.get('codec', {}).get('pages', '?')} pages of {s['page_size']} groups, five cost "
                    "metrics) through `aws::parse_page`, `events::make_events` and "
                    "`events::write_http_request` in structured mode (`bench_codec`). Ceiling: simdjson On-Demand "
                    "walking the same pages and reading every key, amount and unit. Baseline: "
                    "`json.loads` + the same mapping (same ids) + `json.dumps` (`py_codec.py`). MB/s "
                    "of page bytes in."),
        "2 delivery": ("2. Delivery",
                       f"`bench_delivery` hands {s['delivery_events']} events to one "
                       "`Deliverer::deliver()` call (4 keep-alive connections) posting to Debian's "
                       "nginx answering 202 on loopback (`bench/nginx.conf`, one worker). Ceiling: "
                       "wrk posting an event-sized body with the binary-mode headers to the same "
                       "nginx over the same 4 connections. Baseline: `py_sender.py`, 4 threads each "
                       "with a keep-alive http.client connection."),
        "3 end to end": ("3. End to end",
                         f"The service binary (`--once --from --to`) pulling a {bench.extra.get('e2e_label', '')} "
                         f"from `bench/ce_fast.py` (pages pre-rendered in memory, {bench.extra.get('e2e_pages', '?')} "
                         "requests) into nginx; against the Python reference pipeline `py_reference.py` "
                         "(boto3 pages GetCostAndUsage, same mapping, http.client, one POST per event). "
                         "Times by the harness's clock around each process; peak RSS from "
                         "`/usr/bin/time -v`. Ceiling for binary mode: the events at wrk's request "
                         "rate of benchmark 2."),
        "4 footprint": ("4. Footprint",
                        "The service as a daemon: start-up to `/readyz` 200 with an up-to-date "
                        "checkpoint (no pull), VmRSS from `/proc` after 1 s idle (before any pull, and "
                        "after its start-up pull of one day), the stripped binary, and the Cost "
                        "Explorer requests (each billed USD 0.01) of a catch-up, counted by the fake."),
        "5 journal": ("5. Journal of acknowledgements",
                      "Benchmark 3's run (`--once`, the same days and groups into nginx) in each "
                      "delivery mode with the journal of acknowledgements (the default: one copy "
                      "per answer into a mapped file, fdatasync by a commit thread at most every "
                      "10 ms) and without it (`SAB_JOURNAL=off`, for this baseline only), in pairs of "
                      "runs side by side (at least 9 pairs, which one goes first alternating): the "
                      "ratio is the median of the pairs' ratios, since the load of a shared machine "
                      "drifts by more than the journal costs. Records and fsyncs come from the run's "
                      "`done` log line, CPU time from `/usr/bin/time -v`."),
    }
    for key, (title, text) in sections.items():
        figs = [f for f in bench.figures if f.bench == key]
        if not figs:
            continue
        out += ["", f"## {title}", "", text, "",
                "| figure | unit | median | min | max | runs | note |", "|---|---|---|---|---|---|---|"]
        for f in figs:
            r = f.row()
            out.append(f"| {r['figure']} | {r['unit']} | {r['median']} | {r['min']} | {r['max']} | {r['runs']} | {r['note']} |")
        if key == "2 delivery" and bench.sweep:
            out += ["", "Events/s against connections (binary mode) and batch size (batch mode, 4 "
                    "connections):", "", "| sweep | x | series | median | min | max |", "|---|---|---|---|---|---|"]
            for k, x, se, m, lo, hi in bench.sweep:
                out.append(f"| {k} | {x} | {se} | {fmt(m)} | {fmt(lo)} | {fmt(hi)} |")
            if plotted:
                out += ["", "![events/s against connections and batch size](benchmarks.png)"]
    for extra in ("optimizations.md", "profile.md", "image.md"):
        path = os.path.join(HERE, extra)
        if os.path.exists(path):
            out += ["", open(path).read().strip()]
    out += ["", "## Files", "",
            "`bench/results/figures.csv` (every figure), `ratios.csv` (the ratios and targets), "
            "`sweep.csv` (the plot's points).", ""]
    return "\n".join(out)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--smoke", action="store_true", help="seconds-sized runs (CI)")
    p.add_argument("--out", help="write results/ and benchmarks.md/png here instead of the repository")
    p.add_argument("--build-dir", default=os.path.join(ROOT, "build-bench"))
    p.add_argument("--runs", type=int, help="runs per figure (default 5; 3 with --smoke)")
    p.add_argument("--only", help="comma-separated subset: codec,delivery,e2e,footprint,journal")
    args = p.parse_args()
    if args.runs is None:
        args.runs = 3 if args.smoke else 5
    if args.runs < 1:
        p.error("--runs must be >= 1")
    bench = Bench(args)
    only = set((args.only or "codec,delivery,e2e,footprint,journal").split(","))
    started = time.monotonic()
    try:
        if "codec" in only:
            bench.codec()
        if "delivery" in only:
            bench.delivery()
        if "e2e" in only or "footprint" in only:
            bench.end_to_end() if "e2e" in only else setattr(
                bench, "fake", CeFake(bench.size, [bench.size["catchup_days"]]))
        if "journal" in only:
            bench.journal()
        if "footprint" in only:
            bench.footprint()
        elif getattr(bench, "fake", None):
            stop(bench.fake.proc)
        bench.write()
    finally:
        shutil.rmtree(bench.tmp, ignore_errors=True)
    log(f"done in {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()

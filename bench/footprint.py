"""Benchmark 4, footprint: the service as a daemon (start-up to /readyz, idle RSS before and after
a pull, against an idle Python process with a boto3 client), the stripped binary, and the billed
Cost Explorer requests of a catch-up, counted by the fake."""
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request

from harness import START
from peers import nginx_sink
from support.procs import free_port, rss_kib, stop

NAME = "4 footprint"

PY_IDLE = """
import http.client, sys, time, boto3
ce = boto3.client("ce", endpoint_url="http://127.0.0.1:9", region_name="us-east-1",
                  aws_access_key_id="AKIABENCHIDLE0000001", aws_secret_access_key="x")
conn = http.client.HTTPConnection("127.0.0.1", 9)
print("ready", flush=True)
time.sleep(60)
"""


def start_service(h, cfg, env):
    return subprocess.Popen([h.binary, "--config", cfg], env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def readyz(port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


def metric(port, name):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
        text = r.read().decode()
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name):
            total += float(line.rsplit(" ", 1)[1])
    return total


def service_run(h, fake, sink, checkpoint, now_day, mode="binary", catch_up=7):
    """Starts the service with `checkpoint`, 'now' pinned to now_day 03:00 UTC. Returns
    (seconds to /readyz 200, port, proc)."""
    state = tempfile.mkdtemp(dir=h.tmp)
    with open(os.path.join(state, "state.json"), "w") as f:
        json.dump({"version": 1, "checkpoint": checkpoint.isoformat(), "digests": {}}, f)
    port = free_port()
    cfg = h.service_config("service.yml", sink.url, fake.url, mode,
                           f"state_dir: {state}\ncatch_up_days: {catch_up}\n",
                           listen=f"127.0.0.1:{port}")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["SAB_FAKE_NOW"] = f"{now_day.isoformat()}T03:00:00Z"
    started = time.perf_counter()
    proc = start_service(h, cfg, env)
    deadline = time.monotonic() + 30
    while not readyz(port):
        if proc.poll() is not None or time.monotonic() > deadline:
            stop(proc)
            raise RuntimeError("service not ready: " + (proc.stderr.read() or "")[-2000:])
        time.sleep(0.002)
    return time.perf_counter() - started, port, proc


def wait_pull(port, proc, timeout=300):
    deadline = time.monotonic() + timeout
    while metric(port, 'aws_billing_source_pulls_total{result="success"}') < 1:
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("the service's pull did not succeed")
        time.sleep(0.05)


def run(h, fake):
    """`fake`: a peers.CeFake with the catchup_days period rendered."""
    s = h.size
    n = NAME
    catchup = s["catchup_days"]
    today = START + dt.timedelta(days=catchup)  # yesterday = START + catchup - 1
    yesterday = today - dt.timedelta(days=1)
    with nginx_sink(h) as sink:
        ready, idle_fresh, idle_pulled, anon_pulled = [], [], [], []
        for _ in range(h.runs):
            secs, port, proc = service_run(h, fake, sink, yesterday, today)
            ready.append(secs)
            time.sleep(1.0)
            idle_fresh.append(rss_kib(proc.pid) / 1024)
            stop(proc)
        for _ in range(h.runs):
            # One day missing: the start-up pull delivers yesterday, then the service idles.
            _, port, proc = service_run(h, fake, sink, yesterday - dt.timedelta(days=1), today)
            wait_pull(port, proc)
            time.sleep(1.0)
            idle_pulled.append(rss_kib(proc.pid) / 1024)
            anon_pulled.append(rss_kib(proc.pid, "RssAnon") / 1024)
            stop(proc)
        h.fig(n, "ours: start-up to /readyz 200 (no pull due)", "ms", [x * 1000 for x in ready])
        h.fig(n, "ours: idle RSS, no pull yet", "MiB", idle_fresh)
        f_idle = h.fig(n, f"ours: idle RSS after a daily pull ({s['services'] * s['accounts']} groups)",
                       "MiB", idle_pulled)
        # RSS counts the shared libraries' code pages the pull touched (OpenSSL, Boost,
        # simdjson: shared and clean); the process's own memory is the anonymous part.
        h.fig(n, "ours: of which anonymous (the process's own heap and stacks)", "MiB",
              anon_pulled, note="the rest is file-backed: shared library code")
        py_idle = []
        for _ in range(h.runs):
            proc = subprocess.Popen([sys.executable, "-c", PY_IDLE], stdout=subprocess.PIPE, text=True,
                                    start_new_session=True)
            proc.stdout.readline()
            time.sleep(1.0)
            py_idle.append(rss_kib(proc.pid) / 1024)
            stop(proc)
        h.fig(n, "baseline: idle RSS of Python with a boto3 CE client and http.client", "MiB", py_idle)
        h.ratio(n, "ours idle RSS after a pull (MiB)", f_idle.median, "<=", 10)

        stripped = os.path.join(h.tmp, "stripped")
        subprocess.run(["strip", "-o", stripped, h.binary], check=True)
        h.fig(n, "ours: stripped binary size", "MiB", [os.path.getsize(stripped) / 2**20],
              note="dynamically linked (Boost, OpenSSL, simdjson, prometheus-cpp, yaml-cpp shared)")

        # Billed requests of a catch-up of catchup days: the service starts with the checkpoint
        # catchup days behind and catch_up_days = catchup.
        counts, times = [], []
        for _ in range(h.runs):
            before = fake.stats()["requests"]
            started = time.perf_counter()
            _, port, proc = service_run(h, fake, sink, START - dt.timedelta(days=1), today,
                                        mode="batch", catch_up=catchup)
            wait_pull(port, proc, timeout=600)
            times.append(time.perf_counter() - started)
            counts.append(fake.stats()["requests"] - before)
            stop(proc)
        groups = catchup * s["services"] * s["accounts"]
        pages = -(-groups // s["page_size"])
        f_req = h.fig(n, f"ours: billed CE requests, {catchup}-day catch-up ({groups} groups)", "requests",
                      counts, note=f"{pages} pages of {s['page_size']} groups; {catchup} days")
        h.fig(n, f"ours: {catchup}-day catch-up in the service, batch mode, start to pull done", "s", times)
        h.ratio(n, "billed requests / pages", f_req.median / pages, "<=", 1,
                note=f"one request per day would be {catchup}")

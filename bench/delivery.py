"""Benchmark 2, delivery: bench_delivery posting to nginx in each mode, against wrk posting an
event-sized request (the ceiling) and py_sender.py (the baseline); then the sweep over connections
and batch sizes that docs/benchmarks.png plots."""
import os
import statistics
import subprocess
import sys

from harness import HERE, fmt, json_lines, log
from peers import nginx_sink
from support import wrk

NAME = "2 delivery"


def wrk_rate(url, connections, seconds, body, headers, tmp):
    script = os.path.join(tmp, "post.lua")
    with open(script, "w") as f:
        f.write('wrk.method = "POST"\n')
        f.write("wrk.body = %s\n" % lua_string(body))
        for k, v in headers.items():
            f.write("wrk.headers[%s] = %s\n" % (lua_string(k), lua_string(v)))
    r = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "-s", script, url],
                       capture_output=True, text=True, timeout=seconds + 30)
    out = wrk.parse(r.stdout)
    if r.returncode != 0 or out["requests_per_second"] is None or out["non_2xx"]:
        raise RuntimeError("wrk failed: " + r.stdout + r.stderr)
    return out["requests_per_second"]


def lua_string(s):
    if isinstance(s, bytes):
        s = s.decode()
    return '"' + "".join(c if c.isalnum() or c in " .,:;/-_{}[]()@+=*&^%$#!?<>|~'" else "\\%d" % ord(c)
                         for c in s) + '"'


def deliver_runs(h, sink, corpus, mode, events, connections=4, batch=100):
    b = os.path.join(h.bin, "bench", "bench_delivery")
    rows = json_lines([b, "--target", sink.url, "--corpus", corpus, "--events", str(events),
                       "--mode", mode, "--concurrency", str(connections), "--batch-size",
                       str(batch), "--runs", str(h.runs), "--state-dir",
                       os.path.join(h.tmp, "dead-letters")])
    return [r["events"] / r["seconds"] for r in rows]


def run(h):
    s = h.size
    corpus = h.corpus(s["codec_days"])
    headers, body = h.sample_event(corpus)
    n = NAME
    with nginx_sink(h) as sink:
        rates = [wrk_rate(sink.url, 4, s["wrk_seconds"], body, headers, h.tmp) for _ in range(h.runs)]
        f_wrk = h.fig(n, "ceiling: wrk, 4 connections, event-sized POST", "requests/s", rates,
                      note=f"{len(body)}-byte body, {len(headers)} headers like binary mode")
        f_bin = h.fig(n, f"ours: binary mode, 4 connections, {s['delivery_events']} events",
                      "events/s", deliver_runs(h, sink, corpus, "binary", s["delivery_events"]))
        f_batch = h.fig(n, f"ours: batch mode (100 per request), 4 connections, {s['delivery_events']} events",
                        "events/s", deliver_runs(h, sink, corpus, "batch", s["delivery_events"]))
        h.fig(n, f"ours: structured mode, 4 connections, {s['structured_events']} events",
              "events/s", deliver_runs(h, sink, corpus, "structured", s["structured_events"]))
        rows = json_lines([sys.executable, os.path.join(HERE, "py_sender.py"), "--corpus", corpus,
                           "--target", sink.url, "--events", str(s["python_sender_events"]),
                           "--connections", "4", "--runs", str(h.runs)])
        f_py = h.fig(n, f"baseline: Python http.client keep-alive, 4 threads, {s['python_sender_events']} events",
                     "events/s", [r["events"] / r["seconds"] for r in rows])
        h.ratio(n, "ours binary / wrk (requests/s)", f_bin.median / f_wrk.median, ">=", 0.7)
        h.ratio(n, "ours batch / ours binary (events/s)", f_batch.median / f_bin.median, ">=", 10)
        h.ratio(n, "ours binary / Python sender (events/s)", f_bin.median / f_py.median, ">=", 1,
                note="no target in the issue; shown for scale")

        # The plot: events/s against connections (binary) and against batch size (4 conns).
        for c in s["sweep_connections"]:
            v = deliver_runs(h, sink, corpus, "binary", s["sweep_events"], connections=c)
            h.sweep.append(("connections", c, "ours binary", statistics.median(v), min(v), max(v)))
            w = [wrk_rate(sink.url, c, s["sweep_wrk_seconds"], body, headers, h.tmp) for _ in range(h.runs)]
            h.sweep.append(("connections", c, "wrk (ceiling)", statistics.median(w), min(w), max(w)))
            log(f"sweep: {c} connections: ours {fmt(statistics.median(v))}/s, wrk {fmt(statistics.median(w))}/s")
        for bsz in s["sweep_batches"]:
            v = deliver_runs(h, sink, corpus, "batch", s["sweep_events"], batch=bsz)
            h.sweep.append(("batch", bsz, "ours batch, 4 connections", statistics.median(v), min(v), max(v)))
            log(f"sweep: batch {bsz}: ours {fmt(statistics.median(v))} events/s")
        h.extra["wrk_rate"] = f_wrk.median

"""Benchmark 3, end to end: the service binary (`--once`) pulling a catch-up from the Cost Explorer
fake into nginx, in binary and batch mode, against the Python reference pipeline py_reference.py;
then ours alone at two larger sizes (peak RSS must stay flat)."""
import contextlib
import datetime as dt
import json
import os
import shutil
import statistics
import sys
import tempfile

from harness import HERE, START, fmt, timed
from peers import nginx_sink

NAME = "3 end to end"


def run_ours(h, fake, sink, mode, days, journal=True, done=None, summary=None):
    """One --once run; (seconds, peak RSS KiB, CE requests). `journal=False` sets SAB_JOURNAL=off
    (the journal's baseline); `summary` True or False sets `events.summary` (None: the default,
    left out); `done` (a dict) receives the run's `done` log line."""
    extra = "" if summary is None else f"events: {{summary: {'true' if summary else 'false'}}}\n"
    cfg = h.service_config(f"e2e-{mode}.yml", sink.url, fake.url, mode, extra)
    state = tempfile.mkdtemp(dir=h.tmp)
    with open(cfg, "a") as f:
        f.write(f"state_dir: {state}\n")
    last = START + dt.timedelta(days=days - 1)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k != "SAB_JOURNAL"}
    env["SAB_FAKE_NOW"] = f"{(last + dt.timedelta(days=2)).isoformat()}T03:00:00Z"
    if not journal:
        env["SAB_JOURNAL"] = "off"
    before = fake.stats()["requests"]
    seconds, rss, r = timed([h.binary, "--config", cfg, "--once", "--from", START.isoformat(),
                             "--to", last.isoformat()], env=env)
    delivered = None
    for line in r.stderr.splitlines():
        with contextlib.suppress(ValueError):
            rec = json.loads(line)
            if rec.get("msg") == "done":
                delivered = rec.get("delivered")
                if done is not None:
                    done.update(rec, cpu_seconds=r.cpu_seconds)
    expected = days * h.size["services"] * h.size["accounts"]
    # With summaries, one more event per day (whether `delivered` counts them or not).
    if delivered is None or int(delivered) not in (expected, expected + days if summary else expected):
        raise RuntimeError(f"ours delivered {delivered} of {expected} events")
    shutil.rmtree(state, ignore_errors=True)
    return seconds, rss, fake.stats()["requests"] - before


def run_reference(h, fake, sink, days):
    end = START + dt.timedelta(days=days)
    seconds, rss, r = timed([sys.executable, os.path.join(HERE, "py_reference.py"), "--endpoint",
                             fake.url, "--target", sink.url, "--start", START.isoformat(),
                             "--end", end.isoformat()])
    out = json.loads(r.stdout.strip().splitlines()[-1])
    expected = days * h.size["services"] * h.size["accounts"]
    if out["events"] != expected:
        raise RuntimeError(f"reference delivered {out['events']} of {expected} events")
    return seconds, rss


def run(h, fake):
    """`fake`: a peers.CeFake with the periods of e2e_days and scale_days rendered."""
    s = h.size
    days = s["e2e_days"]
    groups = days * s["services"] * s["accounts"]
    n = NAME
    with nginx_sink(h) as sink:
        bin_runs = [run_ours(h, fake, sink, "binary", days) for _ in range(h.runs)]
        batch_runs = [run_ours(h, fake, sink, "batch", days) for _ in range(h.runs)]
        ref_runs = [run_reference(h, fake, sink, days) for _ in range(h.runs)]
        label = f"{days}-day catch-up, {s['services']} services x {s['accounts']} accounts = {groups} groups"
        h.extra["e2e_label"] = label
        h.extra["e2e_pages"] = bin_runs[0][2]
        f_bin = h.fig(n, "ours: binary mode, time", "s", [r[0] for r in bin_runs], note=label)
        h.fig(n, "ours: binary mode", "events/s", [groups / r[0] for r in bin_runs])
        f_batch = h.fig(n, "ours: batch mode (100 per request), time", "s", [r[0] for r in batch_runs])
        h.fig(n, "ours: batch mode", "events/s", [groups / r[0] for r in batch_runs])
        f_ref = h.fig(n, "reference: Python boto3 + http.client, time", "s", [r[0] for r in ref_runs])
        h.fig(n, "ours: binary mode, peak RSS", "MiB", [r[1] / 1024 for r in bin_runs])
        f_rss = h.fig(n, "ours: batch mode, peak RSS", "MiB", [r[1] / 1024 for r in batch_runs])
        f_ref_rss = h.fig(n, "reference: peak RSS", "MiB", [r[1] / 1024 for r in ref_runs])
        wrk = h.extra.get("wrk_rate")
        if wrk:
            ceiling_s = groups / wrk
            h.ratio(n, "ours binary / ceiling (events / wrk rate, as a rate)",
                    ceiling_s / f_bin.median, ">=", 0.6,
                    note=f"ceiling {fmt(ceiling_s)} s = {groups} events at wrk's {fmt(wrk)}/s")
        h.ratio(n, "reference time / ours batch time", f_ref.median / f_batch.median, ">=", 20)
        h.ratio(n, "ours peak RSS / reference peak RSS (batch)", f_rss.median / f_ref_rss.median, "<=", 1 / 3)
        h.ratio(n, "ours peak RSS / reference peak RSS (binary)",
                statistics.median([r[1] for r in bin_runs]) / statistics.median([r[1] for r in ref_runs]),
                "<=", 1 / 3)

        # Ours alone at ~100k and ~1M groups: peak RSS must stay flat.
        peaks = {}
        for d in s["scale_days"]:
            runs = [run_ours(h, fake, sink, "batch", d) for _ in range(h.runs)]
            g = d * s["services"] * s["accounts"]
            h.fig(n, f"ours alone, batch mode, {g} groups: time", "s", [r[0] for r in runs])
            peaks[g] = h.fig(n, f"ours alone, batch mode, {g} groups: peak RSS", "MiB",
                             [r[1] / 1024 for r in runs])
        small, big = sorted(peaks)
        h.ratio(n, f"peak RSS growth {small} -> {big} groups",
                peaks[big].median / peaks[small].median - 1, "<=", 0.2)

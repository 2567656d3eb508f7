"""Benchmark 6, summary events (issue 15): benchmark 3's run (`--once` into nginx) in binary and
batch mode with `events.summary: true` (one summary per day, sent once every group event of the
day was acknowledged) and with `false` (the default: the baseline), in pairs of runs side by side,
which one goes first alternating: the load of a shared machine drifts by more than a summary per
day costs, and a pair sees (nearly) the same load. Events/s count the group events only, so the
summaries' own cost shows as fewer events per second."""
import statistics

from end_to_end import run_ours
from peers import nginx_sink

NAME = "6 summary"


def run(h, fake):
    """`fake`: a peers.CeFake with the period of e2e_days rendered."""
    s = h.size
    days = s["e2e_days"]
    groups = days * s["services"] * s["accounts"]
    runs = max(h.runs, 11) if not h.args.smoke else h.runs
    with nginx_sink(h) as sink:
        for mode in ("binary", "batch"):
            on, off, on_done, off_done = [], [], [], []
            for i in range(runs):
                on_done.append({})
                off_done.append({})
                for summary in ((False, True) if i % 2 == 0 else (True, False)):
                    (on if summary else off).append(run_ours(
                        h, fake, sink, mode, days, summary=summary,
                        done=(on_done if summary else off_done)[-1]))
            label = f"{mode} mode, {groups} events" + (" (100 per request)" if mode == "batch" else "")
            h.fig(NAME, f"{label}: with summaries (events.summary: true)", "events/s", [groups / r[0] for r in on],
                  note=f"plus {days} summary events, not counted")
            h.fig(NAME, f"{label}: without (the default)", "events/s", [groups / r[0] for r in off])
            pairs = [b[0] / a[0] for a, b in zip(on, off)]  # events/s with / without
            h.fig(NAME, f"{mode}: events/s with summaries / without, per pair of runs", "ratio", pairs)
            # /usr/bin/time counts in hundredths: a smoke-sized run may read 0.
            cpu = [a["cpu_seconds"] / b["cpu_seconds"] for a, b in zip(on_done, off_done)
                   if a["cpu_seconds"] > 0 and b["cpu_seconds"] > 0]
            if cpu:
                h.fig(NAME, f"{mode}: CPU time (user + system) with summaries / without, per pair", "ratio", cpu)
            h.ratio(NAME, f"{mode}: events/s with summaries / without (median of {runs} pairs)",
                    statistics.median(pairs), ">=", 0.95, note="issue 15: the summary costs nothing measurable")

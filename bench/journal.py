"""Benchmark 5, the journal of acknowledgements: benchmark 3's run (`--once` into nginx) in every
delivery mode with the journal (the default) and without it (SAB_JOURNAL=off, this baseline only),
in pairs of runs side by side: the load of a shared machine drifts by more than the journal costs,
and a pair sees (nearly) the same load."""
import statistics

from end_to_end import run_ours
from peers import nginx_sink

NAME = "5 journal"


def run(h, fake):
    """`fake`: a peers.CeFake with the period of e2e_days rendered."""
    s = h.size
    days = s["e2e_days"]
    groups = days * s["services"] * s["accounts"]
    runs = max(h.runs, 9) if not h.args.smoke else h.runs
    with nginx_sink(h) as sink:
        for mode in ("binary", "structured", "batch"):
            on, off, on_done, off_done = [], [], [], []
            for i in range(runs):
                on_done.append({})
                off_done.append({})
                # Which one goes first alternates too.
                for journal in ((False, True) if i % 2 == 0 else (True, False)):
                    (on if journal else off).append(run_ours(
                        h, fake, sink, mode, days, journal=journal,
                        done=(on_done if journal else off_done)[-1]))
            label = f"{mode} mode, {groups} events" + (" (100 per request)" if mode == "batch" else "")
            h.fig(NAME, f"{label}: with the journal", "events/s", [groups / r[0] for r in on])
            h.fig(NAME, f"{label}: without (SAB_JOURNAL=off)", "events/s", [groups / r[0] for r in off])
            h.fig(NAME, f"{mode}: journal records appended per second", "records/s",
                  [d.get("journal_records", 0) / r[0] for d, r in zip(on_done, on)],
                  note="one per answer (per day within a batch)")
            h.fig(NAME, f"{mode}: journal fsyncs per second", "fsyncs/s",
                  [d.get("journal_fsyncs", 0) / r[0] for d, r in zip(on_done, on)],
                  note="group commit: one fdatasync per 10 ms window at most")
            pairs = [b[0] / a[0] for a, b in zip(on, off)]  # events/s with / without
            # /usr/bin/time counts in hundredths: a smoke-sized run may read 0.
            cpu = [a["cpu_seconds"] / b["cpu_seconds"] for a, b in zip(on_done, off_done)
                   if a["cpu_seconds"] > 0 and b["cpu_seconds"] > 0]
            h.fig(NAME, f"{mode}: events/s with the journal / without, per pair of runs", "ratio", pairs)
            if cpu:
                h.fig(NAME, f"{mode}: CPU time (user + system) with the journal / without, per pair",
                      "ratio", cpu, note="the process's own cost, less exposed to the neighbours' load")
            h.ratio(NAME, f"{mode}: events/s with the journal / without (median of {runs} pairs)",
                    statistics.median(pairs), ">=", 0.9)

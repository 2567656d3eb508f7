#!/usr/bin/env python3
"""Runs every benchmark of bench/ (issue 7) and writes the results.

    bench/run.sh [--smoke] [--out DIR] [--build-dir DIR] [--runs N]

Each figure is the median of --runs runs (>= 5) with min and max, compared in the same run with a
ceiling (what the hardware and the peer allow) and a baseline (Python, what a user would write);
the ratios are what counts, absolute numbers on a shared 2-core machine are noise.

Writes <results>/*.csv, <docs>/benchmarks.md and <docs>/benchmarks.png: by default
bench/results/ and docs/ of the repository; with --out DIR, DIR/results/ and DIR/.
--smoke runs every benchmark at a size of seconds (CI keeps them working; never a timing check).

The modules: harness.py (sizes, the run's state, figures), peers.py (nginx, the Cost Explorer
fake), one per benchmark (codec.py, delivery.py, end_to_end.py, footprint.py, journal.py,
summary.py), report.py (the CSV files, the plot and docs/benchmarks.md).
"""
import argparse
import os
import shutil
import sys
import time

sys.dont_write_bytecode = True  # nothing written into the source tree
import harness  # noqa: E402  (first: tests/integration on sys.path)
import codec  # noqa: E402
import delivery  # noqa: E402
import end_to_end  # noqa: E402
import footprint  # noqa: E402
import journal  # noqa: E402
import peers  # noqa: E402
import report  # noqa: E402
import summary  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--smoke", action="store_true", help="seconds-sized runs (CI)")
    p.add_argument("--out", help="write results/ and benchmarks.md/png here instead of the repository")
    p.add_argument("--build-dir", default=os.path.join(harness.ROOT, "build-bench"))
    p.add_argument("--runs", type=int, help="runs per figure (default 5; 3 with --smoke)")
    p.add_argument("--only", help="comma-separated subset: codec,delivery,e2e,footprint,journal,summary")
    args = p.parse_args()
    if args.runs is None:
        args.runs = 3 if args.smoke else 5
    if args.runs < 1:
        p.error("--runs must be >= 1")
    h = harness.Harness(args)
    only = set((args.only or "codec,delivery,e2e,footprint,journal,summary").split(","))
    started = time.monotonic()
    try:
        if "codec" in only:
            codec.run(h)
        if "delivery" in only:
            delivery.run(h)
        if only & {"e2e", "footprint", "journal", "summary"}:
            s = h.size
            days = [s["catchup_days"]]
            if "e2e" in only:
                days = [s["e2e_days"], *s["scale_days"], *days]
            elif only & {"journal", "summary"}:
                days = [s["e2e_days"], *days]
            harness.log("starting the Cost Explorer fake (rendering every period's pages in memory)")
            with peers.cost_explorer(h, days) as fake:
                if "e2e" in only:
                    end_to_end.run(h, fake)
                if "journal" in only:
                    journal.run(h, fake)
                if "summary" in only:
                    summary.run(h, fake)
                if "footprint" in only:
                    footprint.run(h, fake)
        report.write(h)
    finally:
        h.procs.stop_all()
        shutil.rmtree(h.tmp, ignore_errors=True)
    harness.log(f"done in {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()

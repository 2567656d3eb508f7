#!/usr/bin/env python3
"""Benchmark 1, the baseline: json.loads of each page, the same mapping, json.dumps of each
structured-mode event. Prints one JSON line per run: seconds, input bytes, events."""
import argparse
import json
import os
import sys
import time

sys.dont_write_bytecode = True  # nothing written into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from py_mapping import make_event, now_rfc3339, structured  # noqa: E402


def one_run(pages):
    started = time.perf_counter()
    events = out_bytes = 0
    now = now_rfc3339()
    for raw in pages:
        page = json.loads(raw)
        group_by = page["GroupDefinitions"]
        for period in page["ResultsByTime"]:
            for group in period["Groups"]:
                out_bytes += len(structured(make_event(period, group, group_by, now)))
                events += 1
    return time.perf_counter() - started, events, out_bytes


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--corpus", required=True)
    p.add_argument("--runs", type=int, default=5)
    args = p.parse_args()
    with open(args.corpus, "rb") as f:
        pages = [line.rstrip(b"\n") for line in f if line.strip()]
    size = sum(len(x) for x in pages)
    for i in range(args.runs):
        seconds, events, out_bytes = one_run(pages)
        print(json.dumps({"run": i, "seconds": seconds, "bytes": size, "events": events,
                          "out_bytes": out_bytes}), flush=True)


if __name__ == "__main__":
    main()

"""Benchmark 1, parse + map + encode: bench_codec over the corpus (ours, the simdjson ceiling, each
stage alone) against the Python baseline py_codec.py."""
import os
import statistics
import sys

from harness import HERE, json_lines

NAME = "1 codec"


def run(h):
    corpus = h.corpus(h.size["codec_days"])
    b = os.path.join(h.bin, "bench", "bench_codec")
    ours = json_lines([b, "--corpus", corpus, "--mode", "ours", "--runs", str(h.runs)])
    ceiling = json_lines([b, "--corpus", corpus, "--mode", "ceiling", "--runs", str(h.runs)])
    stages = json_lines([b, "--corpus", corpus, "--mode", "stages", "--runs", str(h.runs)])
    base = json_lines([sys.executable, os.path.join(HERE, "py_codec.py"), "--corpus", corpus,
                       "--runs", str(h.runs)])
    mb = ours[0]["bytes"] / 1e6
    groups = ours[0]["events"]
    h.extra["codec"] = {"mb": mb, "groups": groups, "pages": sum(1 for _ in open(corpus))}
    n = NAME
    f_ours = h.fig(n, "ours: parse + map + encode", "MB/s", [mb / r["seconds"] for r in ours])
    h.fig(n, "ours: events", "events/s", [r["events"] / r["seconds"] for r in ours])
    f_ceil = h.fig(n, "ceiling: simdjson On-Demand walk", "MB/s",
                   [mb / r["seconds"] for r in ceiling])
    f_base = h.fig(n, "baseline: Python json.loads + map + json.dumps", "MB/s",
                   [mb / r["seconds"] for r in base])
    for stage in ("parse", "map", "encode"):
        h.fig(n, f"ours, stage alone: {stage}", "MB/s",
              [mb / r[f"{stage}_seconds"] for r in stages],
              note="share of the three stages: %.0f%%" % (100 * statistics.median(
                  [r[f"{stage}_seconds"] / r["seconds"] for r in stages])))
    h.ratio(n, "ours / ceiling (MB/s)", f_ours.median / f_ceil.median, ">=", 0.5)
    h.ratio(n, "ours / baseline (MB/s)", f_ours.median / f_base.median, ">=", 30)

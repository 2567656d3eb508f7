#!/usr/bin/env python3
"""Profiles our side of benchmarks 1-3 with perf (sampling, self time per symbol) and writes the
top hotspots as text: <out>/profile-{codec,delivery,e2e-binary,e2e-batch}.txt.

    python3 bench/profile.py [--build-dir build-bench] [--out bench/results]

Same sizes as the full benchmark. Profiles the Release build the figures come from: inlined
functions are counted in their callers, so read a symbol as "this function and what it inlines".
"""
import argparse
import datetime as dt
import os
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True  # nothing written into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402  (first: tests/integration on sys.path)
import peers  # noqa: E402


def report(data, path, title):
    by_symbol = subprocess.run(["perf", "report", "-i", data, "--no-children", "--sort", "dso,symbol",
                                "--stdio", "--percent-limit", "0.7"], capture_output=True, text=True)
    by_dso = subprocess.run(["perf", "report", "-i", data, "--no-children", "--sort", "dso", "--stdio"],
                            capture_output=True, text=True)

    def keep(text):
        return "\n".join(line for line in text.splitlines() if line.strip() and not line.startswith("#"))
    with open(path, "w") as f:
        f.write(f"{title}\n\nby shared object:\n{keep(by_dso.stdout)}\n\nby symbol (self time >= 0.7%):\n"
                f"{keep(by_symbol.stdout)}\n")
    print(f"wrote {path}", file=sys.stderr)


def perf(cmd, data, env=None):
    subprocess.run(["perf", "record", "-F", "1999", "-o", data, "--", *cmd], check=True, env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--build-dir", default=os.path.join(harness.ROOT, "build-bench"))
    p.add_argument("--out", default=os.path.join(harness.HERE, "results"))
    args = p.parse_args()
    os.makedirs(args.out, exist_ok=True)
    b = harness.Harness(argparse.Namespace(smoke=False, runs=5, build_dir=args.build_dir, out=None))
    try:
        profile(b, args.out)
    finally:
        b.procs.stop_all()


def profile(b, out):
    s = b.size
    tmp = b.tmp
    corpus = b.corpus(s["codec_days"])
    progs = os.path.join(b.bin, "bench")

    data = os.path.join(tmp, "codec.data")
    perf([os.path.join(progs, "bench_codec"), "--corpus", corpus, "--mode", "ours", "--runs", "10"], data)
    report(data, os.path.join(out, "profile-codec.txt"),
           "bench_codec --mode ours: parse + map + encode of the 30-day corpus, 10 runs")

    with peers.nginx_sink(b) as nginx:
        data = os.path.join(tmp, "delivery.data")
        perf([os.path.join(progs, "bench_delivery"), "--target", nginx.url, "--corpus", corpus,
              "--events", str(s["delivery_events"]), "--mode", "binary", "--runs", "2",
              "--state-dir", os.path.join(tmp, "dl")], data)
        report(data, os.path.join(out, "profile-delivery.txt"),
               "bench_delivery --mode binary, 200000 events, 4 connections to nginx, 2 runs "
               "(includes making the events from the corpus once)")

        with peers.cost_explorer(b, [s["e2e_days"]]) as fake:
            days = s["e2e_days"]
            last = harness.START + dt.timedelta(days=days - 1)
            env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
            env["SAB_FAKE_NOW"] = f"{(last + dt.timedelta(days=2)).isoformat()}T03:00:00Z"
            for mode in ("binary", "batch"):
                cfg = b.service_config(f"profile-{mode}.yml", nginx.url, fake.url, mode,
                                       f"state_dir: {tempfile.mkdtemp(dir=tmp)}\n")
                data = os.path.join(tmp, f"e2e-{mode}.data")
                perf([b.binary, "--config", cfg, "--once", "--from", harness.START.isoformat(), "--to",
                      last.isoformat()], data, env=env)
                report(data, os.path.join(out, f"profile-e2e-{mode}.txt"),
                       f"source-aws-billing --once, {mode} mode, the {days}-day catch-up of benchmark 3")


if __name__ == "__main__":
    main()

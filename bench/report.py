"""The results of a run of the benchmarks: <results>/figures.csv, ratios.csv and sweep.csv,
<docs>/benchmarks.png (gnuplot) and <docs>/benchmarks.md (figures, ratios, the machine, and the
hand-written bench/optimizations.md, profile.md and image.md)."""
import contextlib
import csv
import datetime as dt
import os
import platform
import shutil
import subprocess
import sys

from harness import HERE, ROOT, fmt, log


def write(h):
    """Writes every result of the run `h` (a harness.Harness): into bench/results/ and docs/ of
    the repository, or with --out DIR into DIR/results/ and DIR/."""
    results = os.path.join(h.args.out, "results") if h.args.out else os.path.join(HERE, "results")
    docs = h.args.out or os.path.join(ROOT, "docs")
    os.makedirs(results, exist_ok=True)
    os.makedirs(docs, exist_ok=True)
    write_csv(os.path.join(results, "figures.csv"), [f.row() for f in h.figures])
    write_csv(os.path.join(results, "ratios.csv"), [r.row() for r in h.ratios])
    write_csv(os.path.join(results, "sweep.csv"),
              [{"kind": k, "x": x, "series": se, "median": fmt(m), "min": fmt(lo), "max": fmt(hi)}
               for k, x, se, m, lo, hi in h.sweep])
    png = os.path.join(docs, "benchmarks.png")
    plotted = plot(h.sweep, png, h.tmp)
    machine = machine_description(h)
    with open(os.path.join(docs, "benchmarks.md"), "w") as f:
        f.write(markdown(h, machine, plotted))
    log(f"wrote {results}/*.csv and {docs}/benchmarks.md" + (", benchmarks.png" if plotted else ""))


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


def machine_description(h):
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
        for line in open(os.path.join(h.bin, "CMakeCache.txt")):
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
                   f"{command_output([h.binary, '--version'])}"),
        ("date", dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")),
        ("size", "smoke (not figures to quote)" if h.args.smoke else "full"),
        ("runs", f"{h.runs} per figure (median, min, max)"),
    ]


def markdown(h, machine, plotted):
    s = h.size
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
    for r in h.ratios:
        row = r.row()
        was = before.get((row["benchmark"], row["ratio"]), "")
        out.append(f"| {row['benchmark']} | {row['ratio']} | {row['value']} | {was} | {row['target']} | "
                   f"{'yes' if r.met else '**no**'} | {row['note']} |")
    if before:
        out += ["", "*before*: the same ratio at the first full run, before the optimizations below "
                "(`bench/results/before/`)."]
    sections = {
        "1 codec": ("1. Parse + map + encode",
                    f"Synthetic GetCostAndUsage pages (`tests/integration/support/ce_pages.py`: "
                    f"{s['services']} services x "
                    f"{s['accounts']} linked accounts x {s['codec_days']} days = "
                    f"{h.extra.get('codec', {}).get('groups', '?')} groups, "
                    f"{h.extra.get('codec', {}).get('mb', 0):.1f} MB in "
                    f"{h.extra.get('codec', {}).get('pages', '?')} pages of {s['page_size']} groups, five cost "
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
                         f"The service binary (`--once --from --to`) pulling a {h.extra.get('e2e_label', '')} "
                         "from `tests/integration/support/ce_fake.py --prerendered` (pages pre-rendered in "
                         f"memory, {h.extra.get('e2e_pages', '?')} requests) into nginx; against the Python "
                         "reference pipeline `py_reference.py` "
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
        "6 summary": ("6. Summary events",
                      "Benchmark 3's run (`--once`, the same days and groups into nginx) in binary and "
                      "batch mode with `events.summary: true` (one summary event per day, sent once "
                      "every group event of the day was acknowledged) and with the default `false`, "
                      "in pairs of runs side by side (at least 11 pairs, which one goes first "
                      "alternating): the ratio is the median of the pairs' ratios. Events/s count the "
                      "group events only, so what the summaries cost shows as a lower rate."),
    }
    for key, (title, text) in sections.items():
        figs = [f for f in h.figures if f.bench == key]
        if not figs:
            continue
        out += ["", f"## {title}", "", text, "",
                "| figure | unit | median | min | max | runs | note |", "|---|---|---|---|---|---|---|"]
        for f in figs:
            r = f.row()
            out.append(f"| {r['figure']} | {r['unit']} | {r['median']} | {r['min']} | {r['max']} | {r['runs']} | {r['note']} |")
        if key == "2 delivery" and h.sweep:
            out += ["", "Events/s against connections (binary mode) and batch size (batch mode, 4 "
                    "connections):", "", "| sweep | x | series | median | min | max |", "|---|---|---|---|---|---|"]
            for k, x, se, m, lo, hi in h.sweep:
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

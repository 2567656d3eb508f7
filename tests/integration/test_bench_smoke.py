"""The benchmarks of bench/ at smoke size: `bench/run.sh --smoke` into a temp dir completes and
writes well-formed CSV and Markdown. Benchmarks are not tests: no timing is ever asserted here."""
import csv
import os
import shutil
import subprocess
import tempfile
import unittest

from support.env import BINARY, BINARY_DIR, SOURCE_DIR, main, require


class BenchSmoke(unittest.TestCase):
    def setUp(self):
        require(BINARY and os.path.exists(BINARY), "the built binary (SAB_BINARY)")
        for prog in ("bench_codec", "bench_delivery"):
            require(os.path.exists(os.path.join(BINARY_DIR, "bench", prog)),
                    f"bench/{prog} (configure with -DSAB_BUILD_BENCH=ON)")
        for tool in ("nginx", "wrk", "setpriv"):
            require(shutil.which(tool) or os.path.exists(f"/usr/sbin/{tool}"), tool)
        try:
            import boto3  # noqa: F401
        except ImportError:
            require(False, "python3 boto3")
        self.out = tempfile.mkdtemp(prefix="sab-bench-smoke-")

    def tearDown(self):
        shutil.rmtree(self.out, ignore_errors=True)

    def test_smoke_run_writes_well_formed_results(self):
        docs_md = os.path.join(SOURCE_DIR, "docs", "benchmarks.md")
        before = os.path.getmtime(docs_md) if os.path.exists(docs_md) else None
        r = subprocess.run(["bash", os.path.join(SOURCE_DIR, "bench", "run.sh"), "--smoke", "--no-build",
                            "--out", self.out, "--build-dir", BINARY_DIR],
                           capture_output=True, text=True, timeout=300)
        self.assertEqual(r.returncode, 0, r.stderr[-4000:])

        expected = {
            "figures.csv": ["benchmark", "figure", "unit", "median", "min", "max", "runs", "note"],
            "ratios.csv": ["benchmark", "ratio", "value", "target", "met", "note"],
            "sweep.csv": ["kind", "x", "series", "median", "min", "max"],
        }
        for name, header in expected.items():
            with open(os.path.join(self.out, "results", name), newline="") as f:
                rows = list(csv.reader(f))
            self.assertEqual(rows[0], header, name)
            self.assertGreater(len(rows), 1, f"{name} has no rows")
            for row in rows[1:]:
                self.assertEqual(len(row), len(header), f"{name}: {row}")
                for col in ("median", "min", "max", "value"):
                    if col in header:
                        float(row[header.index(col)])  # a number, whatever its size
        with open(os.path.join(self.out, "results", "figures.csv"), newline="") as f:
            benches = {row["benchmark"] for row in csv.DictReader(f)}
        self.assertEqual(benches, {"1 codec", "2 delivery", "3 end to end", "4 footprint", "5 journal",
                                   "6 summary"})
        with open(os.path.join(self.out, "benchmarks.md")) as f:
            text = f.read()
        for title in ("## Ratios against the targets", "## 1. Parse + map + encode",
                      "## 2. Delivery", "## 3. End to end", "## 4. Footprint",
                      "## 5. Journal of acknowledgements", "## 6. Summary events"):
            self.assertIn(title, text)
        if shutil.which("gnuplot"):
            with open(os.path.join(self.out, "benchmarks.png"), "rb") as f:
                self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")
        # The committed figures are never touched by a smoke run.
        after = os.path.getmtime(docs_md) if os.path.exists(docs_md) else None
        self.assertEqual(before, after)


if __name__ == "__main__":
    main()

"""A 100 MB Cost Explorer response: parsed whole, in a small multiple of its size in memory, and
refused (clearly, without running out of memory) when it exceeds max_response_bytes.

The Cost Explorer client (live doctest driver in tests/aws/live_test.cpp, summary mode: pages
are counted and dropped) fetches from a server in this process; the peak RSS of the driver
process is read from getrusage(RUSAGE_CHILDREN) (this file runs no other child but the one of
ServiceMemory, whose peak is read from wait4 for that process alone).

ServiceMemory runs the service itself (`--once --dry-run`) on six consecutive pages just under
the default max_response_bytes, in the worst shape measured (tiny groups), and checks its peak
RSS against the bound the Helm chart's memory limit is sized by (support/ship.py, MEMORY_*).
"""
import http.server
import json
import os
import resource
import subprocess
import tempfile
import time
import unittest

from support import live, ship
from support.env import BINARY, main, require, sanitized
from support.httpd import Server

TARGET_BYTES = 100 * 1024 * 1024


def big_page():
    head = (b'{"GroupDefinitions":[{"Type":"DIMENSION","Key":"SERVICE"}],"ResultsByTime":'
            b'[{"TimePeriod":{"Start":"2023-01-15","End":"2023-01-16"},"Total":{},"Groups":[')
    tail = b'],"Estimated":true}],"DimensionValueAttributes":[]}'
    parts = []
    size = len(head) + len(tail)
    i = 0
    while size < TARGET_BYTES:
        g = (b'{"Keys":["Service number %d with a reasonably long name"],"Metrics":'
             b'{"UnblendedCost":{"Amount":"%d.0123456789","Unit":"USD"},'
             b'"AmortizedCost":{"Amount":"%d.9876543210","Unit":"USD"}}}' % (i, i, i))
        parts.append(g)
        size += len(g) + 1
        i += 1
    return head + b",".join(parts) + tail, i


class Big(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    body = b""

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(Big.body)))
        self.end_headers()
        try:
            self.wfile.write(Big.body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, *args):
        pass


class LargeResponse(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        live.require_unit_tests()
        Big.body, cls.groups = big_page()
        cls.server = Server(Big)

    @classmethod
    def tearDownClass(cls):
        cls.server.close()

    def fetch(self, extra):
        env = {"SAB_LIVE_CE_ENDPOINT": self.server.url,
               "SAB_LIVE_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
               "SAB_LIVE_SECRET_ACCESS_KEY": "secret", "SAB_LIVE_SUMMARY": "1"}
        env.update(extra)
        return live.run_live("aws live: Cost Explorer fetch", env, timeout=300)

    def test_a_100_mb_page_in_a_small_multiple_of_its_size(self):
        # Above the default max_response_bytes (16MiB): the limit is raised for this page.
        results, out = self.fetch({"SAB_LIVE_MAX_RESPONSE_BYTES": str(128 * 1024 * 1024)})
        summary = results.get("LIVE-SUMMARY")
        self.assertIsNotNone(summary, out[-2000:])
        self.assertEqual(summary["pages"], 1)
        self.assertEqual(summary["groups"], self.groups)
        self.assertEqual(summary["last_amount"], "%d.9876543210" % (self.groups - 1))
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
        print("body %d MB, peak RSS of the client %d MB" % (len(Big.body) >> 20, peak >> 20))
        if sanitized(live.UNIT_TESTS):
            print("memory bound of test_a_100_mb_page_in_a_small_multiple_of_its_size skipped: "
                  "the binary is built with AddressSanitizer")
            return
        # The body, simdjson's buffers and the parsed groups (std::string per key, amount and
        # unit) together: measured about 5x here.
        self.assertLess(peak, 6 * len(Big.body))

    def test_a_response_over_max_response_bytes_is_refused(self):
        results, out = self.fetch({"SAB_LIVE_MAX_RESPONSE_BYTES": str(10 * 1024 * 1024)})
        err = results.get("LIVE-ERROR")
        self.assertIsNotNone(err, out[-2000:])
        self.assertIn("max_response_bytes", err["message"])
        self.assertEqual(results["LIVE-REQUESTS"], 1)


def tiny_group_page(target, next_token=None):
    """A page of about `target` bytes of the smallest realistic groups (one key, one metric)."""
    head = (b'{"GroupDefinitions":[{"Type":"DIMENSION","Key":"SERVICE"}],"ResultsByTime":'
            b'[{"TimePeriod":{"Start":"2023-01-15","End":"2023-01-16"},"Total":{},"Groups":[')
    tail = b'],"Estimated":true}],"DimensionValueAttributes":[]' + (
        b',"NextPageToken":"%s"}' % next_token.encode() if next_token else b"}")
    parts, size, i = [], len(head) + len(tail), 0
    while size < target:
        g = b'{"Keys":["s%d"],"Metrics":{"UnblendedCost":{"Amount":"%d","Unit":"USD"}}}' % (i, i % 10)
        parts.append(g)
        size += len(g) + 1
        i += 1
    return head + b",".join(parts) + tail, i


class Pages(http.server.BaseHTTPRequestHandler):
    """Page 1, then page k for the request whose NextPageToken is "p<k>"."""
    protocol_version = "HTTP/1.1"
    pages = (b"",)

    def do_POST(self):
        request = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}")
        token = request.get("NextPageToken") or "p1"
        body = Pages.pages[int(token[1:]) - 1]
        self.send_response(200)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, *args):
        pass


class ServiceMemory(unittest.TestCase):
    def test_six_maximum_size_pages_stay_under_the_chart_memory_bound(self):
        # Six pages of one day: what one page of the run keeps must not add up over the run.
        require(BINARY and os.path.exists(BINARY), "the built binary (SAB_BINARY)")
        max_bytes = ship.default_max_response_bytes()
        size = max_bytes - 64 * 1024
        count = int(os.environ.get("SAB_TEST_PAGES", "6"))
        pages = []
        for k in range(1, count + 1):
            page, groups = tiny_group_page(size, f"p{k + 1}" if k < count else None)
            pages.append(page)
        self.assertLessEqual(max(len(p) for p in pages), max_bytes)
        Pages.pages = tuple(pages)
        server = Server(Pages)
        try:
            with tempfile.TemporaryDirectory() as tmp:
                config = os.path.join(tmp, "config.yml")
                with open(config, "w", encoding="utf-8") as f:
                    # max_response_bytes is left at its default: the bound is about the default.
                    f.write(f"target: http://127.0.0.1:9\nendpoint: {server.url}\n"
                            f"state_dir: {tmp}/state\nlisten: 127.0.0.1:0\nmetrics: [UnblendedCost]\n")
                env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
                       "AWS_SECRET_ACCESS_KEY": "secret"}
                with open(os.path.join(tmp, "stderr"), "w+b") as err:
                    proc = subprocess.Popen([BINARY, "--config", config, "--once", "--date", "2023-01-15",
                                             "--dry-run"], stdout=subprocess.DEVNULL, stderr=err, env=env)
                    # VmHWM of the process itself: wait4's ru_maxrss also counts this Python process's
                    # memory, which the child had before its exec (the pages served are in it).
                    peak = 0
                    while proc.poll() is None:
                        peak = max(peak, high_water_mark(proc.pid))
                        time.sleep(0.01)
                    err.seek(0)
                    log = err.read().decode(errors="replace")
        finally:
            server.close()
        self.assertEqual(proc.returncode, 0, log[-3000:])
        bound = ship.MEMORY_BASE_BYTES + ship.MEMORY_BYTES_PER_RESPONSE_BYTE * max_bytes
        print("%d pages of %d MB (%d groups each): peak RSS of the service %d MB, bound %d MB"
              % (count, size >> 20, groups, peak >> 20, bound >> 20))
        if sanitized(BINARY):
            print("memory bound of test_six_maximum_size_pages_stay_under_the_chart_memory_bound skipped: "
                  "the binary is built with AddressSanitizer")
            return
        self.assertLess(peak, bound)


def high_water_mark(pid):
    """VmHWM of a running process in bytes (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


if __name__ == "__main__":
    main()

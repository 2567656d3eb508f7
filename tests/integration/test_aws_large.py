"""A 100 MB Cost Explorer response: parsed whole, in a small multiple of its size in memory, and
refused (clearly, without running out of memory) when it exceeds max_response_bytes.

The Cost Explorer client (live doctest driver in tests/aws/live_test.cpp, summary mode: pages
are counted and dropped) fetches from a server in this process; the peak RSS of the driver
process is read from getrusage(RUSAGE_CHILDREN) (this file runs no other child).
"""
import http.server
import os
import resource
import subprocess
import sys
import threading
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import aws_live  # noqa: E402
from common import main  # noqa: E402

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


def sanitized():
    """True when the unit test binary is built with AddressSanitizer (its memory use is not
    representative then)."""
    try:
        out = subprocess.run(["ldd", aws_live.UNIT_TESTS], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return b"libasan" in out


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
        aws_live.require_unit_tests()
        Big.body, cls.groups = big_page()
        cls.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Big)
        cls.thread = threading.Thread(target=cls.server.serve_forever, daemon=True)
        cls.thread.start()

    @classmethod
    def tearDownClass(cls):
        cls.server.shutdown()
        cls.server.server_close()
        cls.thread.join(timeout=10)

    def fetch(self, extra):
        env = {"SAB_LIVE_CE_ENDPOINT": "http://127.0.0.1:%d" % self.server.server_address[1],
               "SAB_LIVE_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
               "SAB_LIVE_SECRET_ACCESS_KEY": "secret", "SAB_LIVE_SUMMARY": "1"}
        env.update(extra)
        return aws_live.run_live("aws live: Cost Explorer fetch", env, timeout=300)

    def test_a_100_mb_page_in_a_small_multiple_of_its_size(self):
        results, out = self.fetch({})
        summary = results.get("LIVE-SUMMARY")
        self.assertIsNotNone(summary, out[-2000:])
        self.assertEqual(summary["pages"], 1)
        self.assertEqual(summary["groups"], self.groups)
        self.assertEqual(summary["last_amount"], "%d.9876543210" % (self.groups - 1))
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
        print("body %d MB, peak RSS of the client %d MB" % (len(Big.body) >> 20, peak >> 20))
        if sanitized():
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


if __name__ == "__main__":
    main()

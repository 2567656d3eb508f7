"""Our SigV4 against botocore's: byte-identical Authorization headers.

1. Live: the Cost Explorer client (the live doctest driver in tests/aws/live_test.cpp) sends
   GetCostAndUsage to a capture server in this process; botocore's SigV4Auth then signs the very
   same request (same body, Host, X-Amz-Date, credentials) and the two Authorization headers must
   be equal byte for byte, with and without a session token.
2. The fixed vectors kept in tests/aws/sigv4_test.cpp are re-derived with botocore here, so the
   fact in the unit test stays botocore's.
"""
import http.server
import os
import unittest

from support import live
from support.env import SOURCE_DIR, main, require_module
from support.httpd import Server

KEY_ID = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


class Capture(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    captured = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        Capture.captured.append((self.path, dict(self.headers.items()), body))
        answer = b'{"ResultsByTime":[],"DimensionValueAttributes":[]}'
        self.send_response(200)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


class BotocoreSigning(unittest.TestCase):
    def setUp(self):
        live.require_unit_tests()
        require_module("botocore")
        Capture.captured = []
        self.server = Server(Capture)
        self.url = self.server.url

    def tearDown(self):
        self.server.close()

    def check_live(self, region, token):
        from support.botocore_sign import botocore_authorization
        env = {"SAB_LIVE_CE_ENDPOINT": self.url, "SAB_LIVE_REGION": region,
               "SAB_LIVE_ACCESS_KEY_ID": KEY_ID, "SAB_LIVE_SECRET_ACCESS_KEY": SECRET}
        if token:
            env["SAB_LIVE_SESSION_TOKEN"] = token
        results, out = live.run_live("aws live: Cost Explorer fetch", env)
        self.assertIn("LIVE-RESULT", results, out)
        self.assertEqual(len(Capture.captured), 1)
        path, headers, body = Capture.captured[0]
        self.assertEqual(path, "/")
        self.assertEqual(headers["X-Amz-Target"], "AWSInsightsIndexService.GetCostAndUsage")
        self.assertEqual(headers["Content-Type"], "application/x-amz-json-1.1")
        self.assertEqual(headers["Host"], "127.0.0.1:%d" % self.server.port)
        if token:
            self.assertEqual(headers["X-Amz-Security-Token"], token)
        expected = botocore_authorization(headers["X-Amz-Date"], self.url + "/", region, body,
                                          token, KEY_ID, SECRET)
        self.assertEqual(headers["Authorization"], expected)

    def test_live_request_matches_botocore(self):
        self.check_live("us-east-1", None)

    def test_live_request_with_session_token_matches_botocore(self):
        self.check_live("cn-northwest-1", "FwoGZXIvYXdzEBYaDH+/token==")

    def test_unit_test_vectors_are_botocore_values(self):
        from support.botocore_sign import botocore_authorization
        with open(os.path.join(SOURCE_DIR, "tests", "aws", "sigv4_test.cpp"), encoding="utf-8") as f:
            source = f.read()
        body = (b'{"TimePeriod":{"Start":"2026-01-14","End":"2026-01-15"},"Granularity":"DAILY",'
                b'"Metrics":["UnblendedCost"],"GroupBy":[{"Type":"DIMENSION","Key":"SERVICE"}]}')
        for host, region, token in (("ce.us-east-1.amazonaws.com", "us-east-1", None),
                                    ("ce.cn-northwest-1.amazonaws.com.cn", "cn-northwest-1",
                                     "TOKEN123")):
            auth = botocore_authorization("20260115T020304Z", host, region, body, token)
            signature = auth.rsplit("Signature=", 1)[1]
            self.assertIn("Signature=" + signature, source, host)


if __name__ == "__main__":
    main()

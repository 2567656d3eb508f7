"""TLS of the Cost Explorer path against real TLS servers, with CAs made here by the openssl CLI.

- `openssl s_server -www` (a peer nobody here wrote) serving a certificate for "localhost" signed
  by a test CA: net::HttpClient (the live doctest driver "aws live: https GET" in
  tests/aws/live_test.cpp) verifies it with the right CA, refuses it with another CA, and refuses
  a certificate for another host name (and for an IP address not in the certificate).
- The Cost Explorer client itself over https (python's ssl module serving a canned answer):
  succeeds with the right CA, fails at once with a TLS error with another.
"""
import http.server
import os
import shutil
import ssl
import subprocess
import tempfile
import unittest

from support import live
from support.env import main, require
from support.httpd import Server
from support.procs import Processes, free_port, wait_for_port
from support.tls import make_ca, make_leaf


class Tls(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        require(shutil.which("openssl"), "the openssl command")
        live.require_unit_tests()
        cls.dir = tempfile.mkdtemp(prefix="sab-tls-")
        make_ca(cls.dir, "ca1")
        make_ca(cls.dir, "ca2")
        make_leaf(cls.dir, "ca1", "localhost", "DNS:localhost")
        make_leaf(cls.dir, "ca1", "other", "DNS:other.example")
        cls.procs = Processes()
        cls.ports = {}
        try:
            for name in ("localhost", "other"):
                port = free_port()
                log = open(os.path.join(cls.dir, name + ".log"), "wb")
                proc = cls.procs.start(
                    ["openssl", "s_server", "-accept", "127.0.0.1:%d" % port, "-cert",
                     os.path.join(cls.dir, name + ".pem"), "-key",
                     os.path.join(cls.dir, name + ".key"), "-www", "-quiet"],
                    stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
                log.close()
                wait_for_port(port, proc=proc)
                cls.ports[name] = port
        except BaseException:
            cls.procs.stop_all()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.procs.stop_all()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def get(self, url, ca):
        results, out = live.run_live("aws live: https GET", {
            "SAB_LIVE_URL": url, "SAB_LIVE_CA_FILE": os.path.join(self.dir, ca + ".pem")})
        return results, out

    def test_right_ca_verifies(self):
        results, out = self.get("https://localhost:%d/" % self.ports["localhost"], "ca1")
        self.assertEqual(results.get("LIVE-HTTP"), {"status": 200}, out)

    def test_other_ca_is_refused(self):
        results, out = self.get("https://localhost:%d/" % self.ports["localhost"], "ca2")
        err = results.get("LIVE-ERROR")
        self.assertIsNotNone(err, out)
        self.assertEqual(err["kind"], "tls")
        self.assertIn("certificate", err["message"])

    def test_wrong_host_name_is_refused(self):
        results, out = self.get("https://localhost:%d/" % self.ports["other"], "ca1")
        err = results.get("LIVE-ERROR")
        self.assertIsNotNone(err, out)
        self.assertEqual(err["kind"], "tls")
        self.assertIn("hostname mismatch", err["message"])

    def test_ip_address_not_in_certificate_is_refused(self):
        results, out = self.get("https://127.0.0.1:%d/" % self.ports["localhost"], "ca1")
        err = results.get("LIVE-ERROR")
        self.assertIsNotNone(err, out)
        self.assertEqual(err["kind"], "tls")


class Answer(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    hosts = []

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        Answer.hosts.append(self.headers.get("Host"))
        body = (b'{"ResultsByTime":[{"TimePeriod":{"Start":"2023-01-15","End":"2023-01-16"},'
                b'"Total":{"UnblendedCost":{"Amount":"3.14","Unit":"USD"}},"Groups":[],'
                b'"Estimated":false}]}')
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class CostExplorerOverTls(unittest.TestCase):
    def setUp(self):
        require(shutil.which("openssl"), "the openssl command")
        live.require_unit_tests()
        self.dir = tempfile.mkdtemp(prefix="sab-tls-")
        make_ca(self.dir, "ca1")
        make_ca(self.dir, "ca2")
        make_leaf(self.dir, "ca1", "localhost", "DNS:localhost")
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(os.path.join(self.dir, "localhost.pem"),
                            os.path.join(self.dir, "localhost.key"))
        Answer.hosts = []
        self.server = Server(Answer, ssl_context=ctx)

    def tearDown(self):
        self.server.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def fetch(self, ca):
        return live.run_live("aws live: Cost Explorer fetch", {
            "SAB_LIVE_CE_ENDPOINT": "https://localhost:%d" % self.server.port,
            "SAB_LIVE_CA_FILE": os.path.join(self.dir, ca + ".pem"),
            "SAB_LIVE_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE", "SAB_LIVE_SECRET_ACCESS_KEY": "s"})

    def test_fetch_over_verified_tls(self):
        results, out = self.fetch("ca1")
        self.assertEqual(results.get("LIVE-RESULT"),
                         {"pages": 1, "rows": [["2023-01-15", "UnblendedCost", "3.14", "USD"]]},
                         out)
        self.assertEqual(Answer.hosts, ["localhost:%d" % self.server.port])

    def test_fetch_refuses_an_untrusted_certificate_at_once(self):
        results, out = self.fetch("ca2")
        err = results.get("LIVE-ERROR")
        self.assertIsNotNone(err, out)
        self.assertEqual(err["kind"], "transport")
        self.assertIn("TLS", err["message"])
        self.assertEqual(results["LIVE-REQUESTS"], 1)  # not retried: trust does not come back
        self.assertEqual(Answer.hosts, [])


if __name__ == "__main__":
    main()

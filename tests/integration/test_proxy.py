"""Outgoing requests through a real HTTP proxy (Debian's tinyproxy), the binary end to end:

- Cost Explorer (moto, SigV4 checked) in absolute form and delivery to an https sink through a
  CONNECT tunnel (the sink's certificate checked through it), with Basic auth from proxy.url;
- HTTPS_PROXY / HTTP_PROXY / NO_PROXY from the environment: the sink NO_PROXY names is reached
  directly, the rest through the proxy; STS (moto) for role_arn goes through it too;
- a wrong password: a clear proxy-authentication error (tinyproxy answers a CONNECT with 401
  rather than 407 then; only the proxy answers a CONNECT), not retried, no password in any output;
- an unreachable proxy: a transport error naming the proxy, retried, then the run fails;
- --check-config shows the proxy in effect with its password masked.
"""
import datetime as dt
import http.server
import os
import ssl
import subprocess
import threading

from support import moto
from support.env import BINARY, main
from support.httpd import Server
from support.service import ServiceTestCase, aws_env, write_config
from support.sink import RecordingSink
from support.tinyproxy import Tinyproxy
from support.tls import make_ca, make_leaf

PASSWORD = "pr0xy-S3cret"
DAY = dt.date(2024, 3, 5)


class TlsSink:
    """An https sink that counts the events it acknowledges."""

    def __init__(self, directory):
        make_ca(directory, "ca")
        make_leaf(directory, "ca", "localhost", "DNS:localhost,IP:127.0.0.1")
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(os.path.join(directory, "localhost.pem"),
                            os.path.join(directory, "localhost.key"))
        self.ca = os.path.join(directory, "ca.pem")
        self.lock = threading.Lock()
        self.count = 0
        sink = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with sink.lock:
                    sink.count += 1
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = Server(Handler, ctx)
        self.url = "https://localhost:%d/" % self.server.port

    def close(self):
        self.server.close()


class Proxy(ServiceTestCase):
    def setUp(self):
        super().setUp()
        self.groups = [moto.group(f"Service {i}", f"{i}.25") for i in range(5)]

    def seed(self, url):
        moto.seed(url, moto.result_pages([(DAY, self.groups)], page_size=100))

    def once(self, config, env, *args):
        r = subprocess.run([BINARY, "--config", config, "--once", "--date", DAY.isoformat(), *args],
                           env=env, capture_output=True, timeout=180)
        return r.returncode, r.stdout.decode(), r.stderr.decode()

    def config(self, target, endpoint, extra=""):
        return write_config(self.tmp, f"""target: {target}
endpoint: {endpoint}
state_dir: {self.tmp}/state
log: {{format: json, level: debug}}
{extra}""")

    def test_cost_explorer_and_an_https_sink_through_the_proxy_with_basic_auth(self):
        proxy = Tinyproxy(self.procs, self.tmp, "alice", PASSWORD)
        url, key_id, secret = moto.start_with_user(self.procs, self.tmp)
        self.seed(url)
        sink = TlsSink(self.tmp)
        self.addCleanup(sink.close)
        cfg = self.config(sink.url, url, f"""delivery: {{ca_file: {sink.ca}}}
proxy: {{url: "{proxy.url_with('alice', PASSWORD)}"}}""")
        code, out, err = self.once(cfg, aws_env(key_id, secret))
        self.assertEqual(code, 0, err)
        self.assertEqual(sink.count, len(self.groups))
        lines = proxy.requests()
        moto_port = url.rsplit(":", 1)[1]
        self.assertIn("CONNECT localhost:%d HTTP/1.1" % sink.server.port, lines)
        self.assertTrue(any(line.startswith("POST http://127.0.0.1:%s/" % moto_port) for line in lines), lines)
        self.assertIn("outgoing requests use a proxy", err)
        for text in (out, err):
            self.assertNotIn(PASSWORD, text)

    def test_environment_proxy_no_proxy_and_sts(self):
        proxy = Tinyproxy(self.procs, self.tmp)
        ce = moto.start(self.procs, self.tmp)
        sts = moto.start(self.procs, self.tmp)
        self.seed(ce)
        sink = RecordingSink()
        self.addCleanup(sink.close)
        # The sink by name (localhost) is bypassed; Cost Explorer and STS by address are proxied.
        target = sink.url.replace("127.0.0.1", "localhost")
        cfg = self.config(target, ce, "role_arn: arn:aws:iam::123456789012:role/payer\n")
        env = aws_env("AKIDEXAMPLE", "secretkey", AWS_ENDPOINT_URL_STS=sts, AWS_REGION="us-east-1",
                      HTTP_PROXY=proxy.url, HTTPS_PROXY=proxy.url, NO_PROXY="localhost")
        code, out, err = self.once(cfg, env)
        self.assertEqual(code, 0, err)
        self.assertEqual(sink.count(), len(self.groups))
        lines = proxy.requests()
        for port in (ce.rsplit(":", 1)[1], sts.rsplit(":", 1)[1]):
            self.assertTrue(any(line.startswith("POST http://127.0.0.1:%s/" % port) for line in lines),
                            (port, lines))
        self.assertFalse(any(":%d" % sink.server.port in line for line in lines), lines)

    def test_a_wrong_password_is_a_clear_proxy_auth_error(self):
        proxy = Tinyproxy(self.procs, self.tmp, "alice", PASSWORD)
        url = moto.start(self.procs, self.tmp)
        self.seed(url)
        sink = TlsSink(self.tmp)
        self.addCleanup(sink.close)
        wrong = "wr0ng-Passw0rd"
        # Cost Explorer by name is not proxied (NO_PROXY); the https sink goes through CONNECT.
        cfg = self.config(sink.url.replace("localhost", "127.0.0.1"), url.replace("127.0.0.1", "localhost"),
                          f"""delivery: {{ca_file: {sink.ca}}}
proxy: {{url: "{proxy.url_with('alice', wrong)}", no_proxy: localhost}}""")
        code, out, err = self.once(cfg, aws_env("AKIDEXAMPLE", "secretkey"))
        self.assertEqual(code, 1, err)
        self.assertIn("proxy authentication required", err)
        self.assertIn("fix proxy.url", err)
        self.assertEqual(sink.count, 0)
        # Not retried: at most one CONNECT per delivery worker (delivery.concurrency, 4) reached it.
        lines = proxy.requests()
        self.assertTrue(1 <= len(lines) <= 4, lines)
        self.assertEqual(set(lines), {"CONNECT 127.0.0.1:%d HTTP/1.1" % sink.server.port})
        for text in (out, err):
            self.assertNotIn(wrong, text)
            self.assertNotIn(PASSWORD, text)

    def test_an_unreachable_proxy_is_a_retried_transport_error(self):
        from support.procs import free_port
        dead = "http://127.0.0.1:%d" % free_port()
        url = moto.start(self.procs, self.tmp)
        sink = RecordingSink()
        self.addCleanup(sink.close)
        cfg = self.config(sink.url, url, f'proxy: {{url: "{dead}"}}\n')
        code, out, err = self.once(cfg, aws_env("AKIDEXAMPLE", "secretkey"))
        self.assertEqual(code, 1, err)
        self.assertIn("cannot connect to proxy 127.0.0.1", err)
        self.assertIn("retry", err.lower())

    def test_check_config_shows_the_proxy_masked(self):
        cfg = self.config("http://127.0.0.1:9/", "http://127.0.0.1:9",
                          'proxy: {url: "http://alice:%s@proxy.corp:3128", no_proxy: [localhost, 10.0.0.0/8]}\n'
                          % PASSWORD)
        r = subprocess.run([BINARY, "--config", cfg, "--check-config"], env=aws_env("a", "b"),
                           capture_output=True, timeout=30)
        out = r.stdout.decode()
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        self.assertIn("# proxy in effect: https via http://alice:***@proxy.corp:3128", out)
        self.assertIn("no_proxy: localhost,10.0.0.0/8", out)
        self.assertNotIn(PASSWORD, out + r.stderr.decode())
        # From the environment, and a bad one is a config error (exit 2) naming the variable.
        r = subprocess.run([BINARY, "--config", self.config("http://127.0.0.1:9/", "http://127.0.0.1:9"),
                            "--check-config"], env=aws_env("a", "b", HTTPS_PROXY="https://u:%s@p:1" % PASSWORD),
                           capture_output=True, timeout=30)
        self.assertEqual(r.returncode, 2)
        self.assertIn("HTTPS_PROXY", r.stderr.decode())
        self.assertNotIn(PASSWORD, r.stdout.decode() + r.stderr.decode())


if __name__ == "__main__":
    main()

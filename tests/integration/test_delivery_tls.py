"""Event delivery over https to Debian's nginx (a TLS peer nobody here wrote), with CAs made here
by the openssl CLI: with the right `delivery.ca_file` every event arrives (every content mode, and
over several kept-alive connections); with another CA nothing is sent, the run fails with the
certificate named in the log and the day stays pending; a certificate for another host name is
refused the same way.
"""
import json
import os
import re
import shutil
import subprocess
import tempfile
import time

from support import ce_fake, nginx, service
from support.env import BINARY, main, require
from support.procs import Processes, free_port
from support.service import ServiceTestCase, write_config
from support.tls import make_ca, make_leaf

SERVICES = 17  # ce_fake's default: one event per service and day
NOW = "2024-03-10T03:00:00Z"
DAY = "2024-03-09"

NGINX_SERVER = """    listen 127.0.0.1:{port} ssl;
    ssl_certificate {cert};
    ssl_certificate_key {key};
    location / {{ return 202; }}"""


class DeliveryOverTls(ServiceTestCase):
    @classmethod
    def setUpClass(cls):
        require(shutil.which("openssl"), "the openssl command")
        require(shutil.which("nginx"), "nginx")
        cls.dir = tempfile.mkdtemp(prefix="sab-dtls-")
        make_ca(cls.dir, "ca1")
        make_ca(cls.dir, "ca2")
        make_leaf(cls.dir, "ca1", "localhost", "DNS:localhost")
        make_leaf(cls.dir, "ca1", "other", "DNS:other.example")
        cls.procs_class = Processes()
        try:
            _, cls.ce_url, _ = ce_fake.start(cls.procs_class)
            cls.nginx = {}
            for name in ("localhost", "other"):
                port = free_port()
                server = NGINX_SERVER.format(port=port, cert=os.path.join(cls.dir, name + ".pem"),
                                             key=os.path.join(cls.dir, name + ".key"))
                access_log = nginx.start_server(cls.procs_class, os.path.join(cls.dir, "nginx-" + name), port,
                                                "$status $http_ce_id $content_type $request_length", server)
                cls.nginx[name] = (port, access_log)
        except BaseException:
            cls.procs_class.stop_all()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.procs_class.stop_all()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def access_lines(self, name):
        path = self.nginx[name][1]
        # nginx writes its access log line after the answer: give the last lines a moment.
        time.sleep(0.2)
        if not os.path.exists(path):
            return []
        with open(path) as f:
            return [line.split() for line in f if line.strip()]

    def run_once(self, name, ca, mode):
        port = self.nginx[name][0]
        state = os.path.join(self.tmp, f"state-{name}-{ca}-{mode}")
        cfg = write_config(self.tmp, f"""target: https://localhost:{port}/events
endpoint: {self.ce_url}
state_dir: {state}
delivery: {{mode: {mode}, batch_size: 5, concurrency: 3, timeout: 5s,
            ca_file: {os.path.join(self.dir, ca + '.pem')}}}
send_event_attempts: 2
log: {{format: json}}
""", name=f"{name}-{ca}-{mode}.yml")
        env = dict(service.aws_env("AKIADELIVERYTLS00001", "delivery-tls-secret"), SAB_FAKE_NOW=NOW)
        r = subprocess.run([BINARY, "--config", cfg, "--once"], env=env, capture_output=True,
                           text=True, timeout=120)
        checkpoint = None
        if os.path.exists(os.path.join(state, "state.json")):
            with open(os.path.join(state, "state.json")) as f:
                checkpoint = json.load(f).get("checkpoint")
        return r, checkpoint

    def test_every_mode_arrives_with_the_right_ca(self):
        require(BINARY and os.path.exists(BINARY), "the built binary (SAB_BINARY)")
        modes = (("binary", SERVICES, "application/json"),
                 ("structured", SERVICES, "application/cloudevents+json;"),
                 ("batch", -(-SERVICES // 5), "application/cloudevents-batch+json"))
        for mode, requests, content_type in modes:
            with self.subTest(mode=mode):
                before = len(self.access_lines("localhost"))
                r, checkpoint = self.run_once("localhost", "ca1", mode)
                self.assertEqual(r.returncode, 0, r.stderr[-3000:])
                self.assertEqual(checkpoint, DAY)
                lines = self.access_lines("localhost")[before:]
                self.assertEqual(len(lines), requests, lines)
                self.assertTrue(all(line[0] == "202" for line in lines), lines)
                self.assertTrue(all(line[2] == content_type for line in lines), lines)
                if mode == "binary":
                    ids = {line[1] for line in lines}
                    self.assertEqual(len(ids), SERVICES, "one ce-id per event")
                    self.assertTrue(all(re.fullmatch(r"[0-9a-f-]{36}", i) for i in ids), ids)

    def test_another_ca_sends_nothing_and_keeps_the_day(self):
        require(BINARY and os.path.exists(BINARY), "the built binary (SAB_BINARY)")
        before = len(self.access_lines("localhost"))
        r, checkpoint = self.run_once("localhost", "ca2", "binary")
        self.assertEqual(r.returncode, 1, r.stderr[-3000:])
        self.assertIsNone(checkpoint, "the day stays pending")
        self.assertIn("TLS certificate of localhost", r.stderr)
        self.assertEqual(len(self.access_lines("localhost")), before, "no request got through")

    def test_a_certificate_for_another_host_is_refused(self):
        require(BINARY and os.path.exists(BINARY), "the built binary (SAB_BINARY)")
        r, checkpoint = self.run_once("other", "ca1", "binary")
        self.assertEqual(r.returncode, 1, r.stderr[-3000:])
        self.assertIsNone(checkpoint)
        self.assertRegex(r.stderr, r"TLS (certificate of localhost[^\"]* rejected|handshake)")
        self.assertEqual(self.access_lines("other"), [])


if __name__ == "__main__":
    main()

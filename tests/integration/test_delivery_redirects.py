"""Delivery through redirects, with Debian's nginx (a peer nobody here wrote) as the target's front
and the Node CloudEvents receiver behind it, moto's Cost Explorer as the source: 307 and 308
(absolute, and a relative 307 hop on the same front first) deliver every event in every content
mode and the day is checkpointed; a 302 delivers nothing, writes no dead letter, exits 1 with its
Location in the log and leaves the day pending; a redirect loop stops after 5 hops.
"""
import datetime as dt
import json
import os
import shutil
import tempfile
import time
import urllib.error
import urllib.request

from support import moto, nginx, service, sink
from support.env import BINARY, main, require
from support.procs import Processes, free_port, wait_for_port
from support.service import ServiceTestCase, write_config

SERVICES = ["Amazon Simple Storage Service", "AWS Lambda", 'Quote "double"', "Café – Zürich",
            "Percent 100% %41", "Amazon DynamoDB", "Amazon Route 53"]

NGINX_SERVER = """    listen 127.0.0.1:{port};
    absolute_redirect off;  # relative Locations stay relative
    location = /r307 {{ return 307 http://127.0.0.1:{receiver}/via307; }}
    location = /r308 {{ return 308 http://127.0.0.1:{receiver}/via308; }}
    location = /relative {{ return 307 /r308; }}
    location = /r302 {{ return 302 http://127.0.0.1:{receiver}/via302; }}
    location = /loop {{ return 307 /loop; }}"""


class DeliveryRedirects(ServiceTestCase):
    @classmethod
    def setUpClass(cls):
        require(BINARY and os.path.exists(BINARY), "the built binary (SAB_BINARY)")
        require(shutil.which("nginx"), "nginx")
        cls.dir = tempfile.mkdtemp(prefix="sab-redirects-")
        cls.procs_class = Processes()
        try:
            cls.moto_url, key_id, secret = moto.start_with_user(cls.procs_class, cls.dir)
            cls.env = service.aws_env(key_id, secret)
            cls.day = service.utc_today() - dt.timedelta(days=1)
            moto.seed(cls.moto_url, moto.result_pages(
                [(cls.day, [moto.group(s, f"{n}.5") for n, s in enumerate(SERVICES)])], page_size=100))
            cls.receiver = sink.Receiver(cls.procs_class).start()
            cls.nginx_port = free_port()
            cls.access_log = nginx.start_server(
                cls.procs_class, os.path.join(cls.dir, "nginx"), cls.nginx_port,
                "$status $request_method $request_uri",
                NGINX_SERVER.format(port=cls.nginx_port, receiver=cls.receiver.port))
        except BaseException:
            cls.procs_class.stop_all()
            shutil.rmtree(cls.dir, ignore_errors=True)
            raise

    @classmethod
    def tearDownClass(cls):
        cls.procs_class.stop_all()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def access_lines(self):
        # nginx writes its access log line after the answer: give the last lines a moment.
        time.sleep(0.2)
        if not os.path.exists(self.access_log):
            return []
        with open(self.access_log) as f:
            return [line.split() for line in f if line.strip()]

    def run_once(self, path, mode="binary", concurrency=2):
        state = os.path.join(self.tmp, f"state-{path}-{mode}")
        cfg = write_config(self.tmp, f"""target: http://127.0.0.1:{self.nginx_port}/{path}
endpoint: {self.moto_url}
state_dir: {state}
delivery: {{mode: {mode}, batch_size: 3, concurrency: {concurrency}, timeout: 5s}}
send_event_attempts: 2
log: {{format: json, level: debug}}
""", name=f"{path}-{mode}.yml")
        self.receiver.control(reset=True)
        before = len(self.access_lines())
        r = service.run_once(["--config", cfg, "--once", "--from", self.day.isoformat(), "--to",
                              self.day.isoformat()], self.env)
        checkpoint = None
        if os.path.exists(os.path.join(state, "state.json")):
            with open(os.path.join(state, "state.json")) as f:
                checkpoint = json.load(f).get("checkpoint")
        return r, checkpoint, self.access_lines()[before:], state

    def test_307_and_308_deliver_every_event_in_every_mode(self):
        expected = {f"{self.day.isoformat()}/{s}" for s in SERVICES}
        for path, hops in (("r307", ["307"]), ("r308", ["308"]), ("relative", ["307", "308"])):
            for mode, requests in (("binary", len(SERVICES)), ("structured", len(SERVICES)),
                                   ("batch", -(-len(SERVICES) // 3))):
                with self.subTest(path=path, mode=mode):
                    r, checkpoint, lines, state = self.run_once(path, mode)
                    self.assertEqual(r.returncode, 0, r.stderr.decode()[-3000:])
                    got = self.receiver.received()
                    self.assertEqual(got["errors"], [])
                    self.assertEqual({e["subject"] for e in got["events"]}, expected)
                    self.assertEqual(len(got["events"]), len(SERVICES))
                    self.assertTrue(all(e["mode"] == mode for e in got["events"]))
                    self.assertEqual(got["requests"], requests)
                    # Every request went through the front's redirects, as POSTs.
                    self.assertEqual(len(lines), requests * len(hops), lines)
                    self.assertEqual(sorted(line[0] for line in lines),
                                     sorted(hops * requests), lines)
                    self.assertTrue(all(line[1] == "POST" for line in lines), lines)
                    self.assertEqual(checkpoint, self.day.isoformat())
                    self.assertFalse(os.path.exists(os.path.join(state, "dead-letter.jsonl")))

    def test_302_delivers_nothing_and_keeps_the_day_pending(self):
        r, checkpoint, lines, state = self.run_once("r302")
        err = r.stderr.decode()
        self.assertEqual(r.returncode, 1, err[-3000:])
        self.assertEqual(self.receiver.received()["requests"], 0)
        self.assertIsNone(checkpoint, "the day stays pending")
        self.assertFalse(os.path.exists(os.path.join(state, "dead-letter.jsonl")))
        self.assertIn(f"http://127.0.0.1:{self.receiver.port}/via302", err)
        self.assertIn("target answered HTTP 302", err)
        # Not retried: one answer per connection, then the call stops sending.
        self.assertTrue(1 <= len(lines) <= 2, lines)
        self.assertTrue(all(line[0] == "302" for line in lines), lines)

    def test_a_redirect_loop_stops_after_5_hops(self):
        r, checkpoint, lines, state = self.run_once("loop", concurrency=1)
        err = r.stderr.decode()
        self.assertEqual(r.returncode, 1, err[-3000:])
        self.assertEqual(self.receiver.received()["requests"], 0)
        self.assertIsNone(checkpoint)
        self.assertFalse(os.path.exists(os.path.join(state, "dead-letter.jsonl")))
        self.assertEqual(lines, [["307", "POST", "/loop"]] * 6)  # the request and 5 redirects
        self.assertIn("not followed after 5 redirects", err)

    def test_a_service_says_on_readyz_that_the_target_needs_fixing(self):
        http_port = free_port()
        cfg = write_config(self.tmp, f"""target: http://127.0.0.1:{self.nginx_port}/r302
endpoint: {self.moto_url}
state_dir: {self.tmp}/state-service
listen: 127.0.0.1:{http_port}
log: {{format: json, level: debug}}
""", name="service.yml")
        svc = self.procs.start([BINARY, "--config", cfg], env=self.env)
        wait_for_port(http_port, proc=svc)
        reason, metrics = "", ""
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and "302" not in reason:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{http_port}/readyz", timeout=2)
            except urllib.error.HTTPError as e:
                reason = e.read().decode()
            time.sleep(0.1)
        self.assertEqual(svc.poll(), None)
        self.assertIn("last pull failed: target answered HTTP 302", reason)
        self.assertIn(f"http://127.0.0.1:{self.receiver.port}/via302", reason)
        with urllib.request.urlopen(f"http://127.0.0.1:{http_port}/metrics", timeout=2) as r:
            metrics = r.read().decode()
        self.assertRegex(metrics, r'delivery_attempts_total\{result="misconfigured"\} [1-9]')
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "state-service", "dead-letter.jsonl")))


if __name__ == "__main__":
    main()

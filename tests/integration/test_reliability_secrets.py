"""Secrets: every path of the binary at log.level debug with known secret values (static key id,
secret key and session token, delivery.headers values, a password in the target URL), and a scan
of stdout, stderr, /metrics, /readyz, the dead-letter file and the state files for them. Also: a
service name holding CR/LF cannot inject a header; a config file with secrets that others can read
gets a warning; state and dead-letter files are 0600 even under umask 000.

The secret values are never printed: a failed check names the secret and the output, not the value.
"""
import datetime as dt
import json
import os
import signal
import stat
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

from support import ce_fake, moto
from support.env import BINARY, main
from support.procs import free_port, wait_for_port
from support.service import ServiceTestCase, write_config
from support.sink import Receiver, RecordingSink

NOW = "2024-03-10T00:00:30Z"
YESTERDAY = "2024-03-09"
KEY_ID = "AKIASABSCANKEY000042"
SECRETS = {
    "secret_access_key": "sab/ScanSecret+Key/7Qk2Vx9Lw4Rt8Yp3Zm6Nb1Hc5",
    "session_token": "IQoJb3JpZ2luX2VjEXAMPLE-sab-scan-session-token-4Kq8Wz2Lr6Tn0Pv",
    "Authorization header": "Bearer sab-scan-bearer-9f4e2c7a1b3d5f8e6a",
    "X-Api-Key header": "sab-scan-api-key-3c6e9b2d8f1a4e7c",
    "target password": "sab-scan-url-password-5e8a2c",
}
EVIL = "Evil\r\nX-Injected: yes\r\n\r\nPOST /smuggled HTTP/1.1\r\nHost: x"
SERVICES = ["Amazon Simple Storage Service", "AWS Lambda", EVIL]


def forms(value):
    """The ways a value could show up: as is, JSON-escaped, percent-encoded, and its middle part."""
    out = {value, json.dumps(value)[1:-1], urllib.parse.quote(value, safe=""), value[6:-6]}
    return {f for f in out if len(f) >= 8}


class FakeCostExplorer:
    """GetCostAndUsage for any period with SERVICES as groups, served by ce_fake's HTTP side."""

    def __init__(self):
        self.lock = threading.Lock()
        self.stats = {"requests": 0, "pages": 0, "bad": 0}
        self.server = ce_fake.serve(self)
        self.url = self.server.url

    def answer(self, body):
        start = dt.date.fromisoformat(body["TimePeriod"]["Start"])
        end = dt.date.fromisoformat(body["TimePeriod"]["End"])
        results = []
        while start < end:
            groups = [{"Keys": [s], "Metrics": {m: {"Amount": f"{n}.5", "Unit": "USD"}
                                                for m in body["Metrics"]}}
                      for n, s in enumerate(SERVICES)]
            results.append({"TimePeriod": {"Start": start.isoformat(),
                                           "End": (start + dt.timedelta(days=1)).isoformat()},
                            "Total": {}, "Groups": groups, "Estimated": False})
            start += dt.timedelta(days=1)
        return {"ResultsByTime": results, "GroupDefinitions": body["GroupBy"]}

    def close(self):
        self.server.close()


class Secrets(ServiceTestCase):
    def setUp(self):
        super().setUp()
        self.fake = FakeCostExplorer()
        self.addCleanup(self.fake.close)
        self.receiver = Receiver(self.procs).start()
        self.outputs = {}  # name -> text, every output scanned at the end of each test
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        self.env["SAB_FAKE_NOW"] = NOW

    def target(self, url=None):
        """The receiver's URL with a password in it (a secret too)."""
        url = url or self.receiver.url
        return url.replace("http://", f"http://billing:{SECRETS['target password']}@", 1)

    def config(self, name="config.yml", target=None, endpoint=None, extra="", key_id=KEY_ID,
               fmt="json", state="state"):
        self.http_port = free_port()
        return write_config(self.tmp, f"""target: {target or self.target()}
endpoint: {endpoint or self.fake.url}
state_dir: {self.tmp}/{state}
listen: 127.0.0.1:{self.http_port}
secret:
  access_key_id: {key_id}
  secret_access_key: "{SECRETS['secret_access_key']}"
  session_token: "{SECRETS['session_token']}"
delivery:
  timeout: 2s
  headers:
    Authorization: "{SECRETS['Authorization header']}"
    X-Api-Key: "{SECRETS['X-Api-Key header']}"
log: {{level: debug, format: {fmt}}}
{extra}""", name)

    def run_binary(self, name, args, expect, umask=None):
        r = subprocess.run([BINARY, *args], env=self.env, capture_output=True, timeout=120, umask=umask
                           if umask is not None else -1)
        self.outputs[f"{name}: stdout"] = r.stdout.decode(errors="replace")
        self.outputs[f"{name}: stderr"] = r.stderr.decode(errors="replace")
        self.assertEqual(r.returncode, expect, f"{name}: exit code; stderr ends:\n"
                         + self.scrubbed(r.stderr.decode(errors="replace")[-2000:]))
        return r

    def scrubbed(self, text):
        for value in SECRETS.values():
            for f in forms(value):
                text = text.replace(f, "<SECRET>")
        return text

    def collect_files(self, label, state="state"):
        state = os.path.join(self.tmp, state)
        if os.path.isdir(state):
            for name in os.listdir(state):
                with open(os.path.join(state, name), encoding="utf-8", errors="replace") as f:
                    self.outputs[f"{label}: state_dir/{name}"] = f.read()

    def get(self, path):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.http_port}{path}", timeout=10) as res:
                return res.status, res.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def service(self, name, cfg, until):
        """Runs the service until a pull with result `until`; keeps its endpoints' answers."""
        svc = self.procs.start([BINARY, "--config", cfg], env=self.env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
        wait_for_port(self.http_port, proc=svc)
        deadline = time.monotonic() + 90
        while f'aws_billing_source_pulls_total{{result="{until}"}} 1' not in self.get("/metrics")[1]:
            self.assertLess(time.monotonic(), deadline, f"{name}: no pull with result {until}")
            self.assertIsNone(svc.poll(), f"{name}: the service exited")
            time.sleep(0.2)
        for path in ("/metrics", "/readyz", "/healthz", "/nope"):
            self.outputs[f"{name}: GET {path}"] = self.get(path)[1]
        svc.send_signal(signal.SIGTERM)
        out, err = svc.communicate(timeout=30)
        self.outputs[f"{name}: stdout"] = out.decode(errors="replace")
        self.outputs[f"{name}: stderr"] = err.decode(errors="replace")
        self.assertEqual(svc.returncode, 0, f"{name}: exit code after SIGTERM")

    def scan(self, key_id=KEY_ID):
        """No secret in any output. The access key id is an identifier the service logs on
        purpose (credential loads, auth errors); everywhere else it must not show."""
        self.assertTrue(self.outputs)
        leaks = []
        for where, text in self.outputs.items():
            for label, value in SECRETS.items():
                if any(f in text for f in forms(value)):
                    leaks.append(f"{label} in {where}")
            text = text.replace(f'"access_key_id":"{key_id}"', "").replace(f"access_key_id={key_id}", "")
            text = text.replace(f"access key id {key_id} (", "")
            if key_id in text:
                leaks.append(f"access key id outside its log fields in {where}")
        self.assertEqual(leaks, [], "secrets found (values not shown)")
        return len(self.outputs)

    def test_every_path_at_debug_shows_no_secret(self):
        cfg = self.config()
        with open(cfg) as f:
            text = f.read()
        # The scan itself finds each value where it is (the config file).
        self.assertEqual([k for k, v in SECRETS.items() if not any(f in text for f in forms(v))], [])
        # --once: a successful pull and delivery (binary mode, headers with secrets).
        self.run_binary("once", ["--config", cfg, "--once"], 0)
        self.assertEqual(len(self.receiver.received()["events"]), len(SERVICES))
        self.collect_files("once")
        # --once --dry-run, and the same with the credentials in the environment instead.
        r = self.run_binary("dry-run", ["--config", cfg, "--once", "--dry-run"], 0)
        self.assertEqual(len(r.stdout.decode().splitlines()), len(SERVICES))
        env_cfg = write_config(self.tmp, f"target: {self.target()}\nendpoint: {self.fake.url}\n"
                                         f"state_dir: {self.tmp}/state\nlog: {{level: debug}}\n", "env.yml")
        self.env.update(AWS_ACCESS_KEY_ID=KEY_ID, AWS_SECRET_ACCESS_KEY=SECRETS["secret_access_key"],
                        AWS_SESSION_TOKEN=SECRETS["session_token"])
        self.run_binary("dry-run, credentials from the environment", ["--config", env_cfg, "--once", "--dry-run"], 0)
        for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
            del self.env[k]
        # Text log format too.
        self.run_binary("once, text logs", ["--config", self.config("text.yml", fmt="text"), "--once",
                                            "--date", "2024-03-08"], 0)
        # The sink refuses every event (400): all go to the dead-letter file.
        self.receiver.control(fail=100, status=400)
        self.run_binary("dead letters", ["--config", cfg, "--once", "--date", "2024-03-07"], 1)
        dead = os.path.join(self.tmp, "state", "dead-letter.jsonl")
        with open(dead) as f:
            self.assertEqual(len(f.read().splitlines()), len(SERVICES))
        self.collect_files("dead letters")
        self.receiver.control(reset=True)
        # Service mode: a pull, /metrics, /readyz, SIGTERM.
        self.service("service", self.config("service.yml", state="state-service"), "success")
        self.collect_files("service", "state-service")
        # --check-config, --help, --version.
        r = self.run_binary("check-config", ["--config", cfg, "--check-config"], 0)
        self.assertIn("access_key_id: AKIA******", r.stdout.decode())
        self.run_binary("help", ["--help"], 0)
        self.run_binary("version", ["--version"], 0)
        self.run_binary("usage error", ["--config", cfg, "--once", "--date", "yesterday"], 2)
        print(f"SECRETS-RESULT outputs_scanned={self.scan()} leaks=0", flush=True)

    def test_config_errors_show_no_secret(self):
        with open(self.config()) as f:
            good = f.read()
        broken = {
            "other keys wrong": good + "pull_hour: 25\nfoo: 1\ndelivery_mode: x\n",
            "secret as a scalar": good.replace("secret:\n", "secret: " + SECRETS["secret_access_key"]
                                               + "\nx_secret:\n"),
            "headers as a scalar": good.replace("  headers:\n", f"  headers: 'Authorization: "
                                                f"{SECRETS['Authorization header']}'\n  x_headers:\n"),
            "header with no blank after the colon": good.replace(
                f'    Authorization: "{SECRETS["Authorization header"]}"\n', "").replace(
                    "  headers:\n", "  headers: {Authorization:" + SECRETS["Authorization header"] + "}\n  x_headers:\n"),
            "header value with a newline": good.replace(
                SECRETS["X-Api-Key header"], SECRETS["X-Api-Key header"] + "\\n" + SECRETS["X-Api-Key header"]),
            "target not a URL": good.replace("target: http://", "target: htp://"),
            "target with a bad port": good.replace("@127.0.0.1:", "@127.0.0.1:9999"),
            "yaml syntax": good + "listen: [\n",
        }
        for name, text in broken.items():
            cfg = write_config(self.tmp, text, "broken.yml")
            for mode, args in (("check", ["--check-config"]), ("once", ["--once"]), ("service", [])):
                r = self.run_binary(f"{name} ({mode})", ["--config", cfg, *args], 2)
                self.assertIn("is invalid", r.stderr.decode(), name)
        print(f"SECRETS-RESULT config_error_outputs_scanned={self.scan()} leaks=0", flush=True)

    def test_aws_rejecting_the_signature_shows_no_secret(self):
        url, key_id, _ = moto.start_with_user(self.procs, self.tmp)
        cfg = self.config("moto.yml", endpoint=url, key_id=key_id)  # the known (wrong) secret key
        r = self.run_binary("signature rejected (once)", ["--config", cfg, "--once"], 1)
        # moto answers InvalidClientTokenId to a session token it did not issue, else
        # SignatureDoesNotMatch: either way Cost Explorer rejected the request.
        self.assertIn("rejected the credentials", r.stderr.decode())
        self.service("signature rejected (service)", cfg, "failure")
        self.assertIn("last pull failed", self.outputs["signature rejected (service): GET /readyz"])
        self.assertIn('aws_billing_source_cost_explorer_requests_total{operation="GetCostAndUsage",'
                      'result="auth_error"} 1',
                      self.outputs["signature rejected (service): GET /metrics"])
        self.collect_files("signature rejected")
        print(f"SECRETS-RESULT auth_error_outputs_scanned={self.scan(key_id)} leaks=0", flush=True)

    def test_a_service_name_with_crlf_cannot_inject_a_header(self):
        # The Node receiver (cloudevents SDK) gets the event whole, the name percent-decoded.
        self.run_binary("crlf", ["--config", self.config(target=self.receiver.url), "--once"], 0)
        got = self.receiver.received()
        self.assertEqual(got["errors"], [])
        evil = [e for e in got["events"] if e["data"]["service"] == EVIL]
        self.assertEqual(len(evil), 1)
        self.assertEqual(evil[0]["subject"], f"{YESTERDAY}/{EVIL}")
        self.assertEqual(got["requests"], len(SERVICES), "no smuggled request")
        # A plain HTTP server sees no injected header and no extra request.
        sink = RecordingSink()
        self.addCleanup(sink.close)
        for mode in ("binary", "structured", "batch"):
            sink.requests.clear()
            with open(self.config(target=sink.url)) as f:
                text = f.read()
            cfg = write_config(self.tmp, text.replace("delivery:\n", f"delivery:\n  mode: {mode}\n"),
                               f"crlf-{mode}.yml")
            self.run_binary(f"crlf {mode}", ["--config", cfg, "--once"], 0)
            with self.subTest(mode=mode):
                self.assertEqual(len(sink.requests), 1 if mode == "batch" else len(SERVICES))
                for method, path, headers in sink.requests:
                    self.assertEqual((method, path), ("POST", "/"))
                    names = [n.lower() for n, _ in headers]
                    self.assertNotIn("x-injected", names)
                    self.assertNotIn("host: x", " ".join(v.lower() for _, v in headers))
                    for n, v in headers:
                        self.assertFalse("\r" in v or "\n" in v, f"raw CR/LF in header {n}")
                    self.assertEqual(names.count("host"), 1)
        self.scan()

    def test_a_config_with_secrets_readable_by_others_gets_a_warning(self):
        cfg = self.config()
        for mode, warned in ((0o600, False), (0o640, True), (0o644, True), (0o400, False)):
            os.chmod(cfg, mode)
            r = self.run_binary(f"mode {mode:o}", ["--config", cfg, "--check-config"], 0)
            err = r.stderr.decode()
            self.assertEqual("readable by group or others" in err, warned, f"mode {mode:o}: {err}")
        # No secrets in it: no warning whatever the mode.
        plain = write_config(self.tmp, f"target: {self.receiver.url}\n", "plain.yml")
        os.chmod(plain, 0o644)
        self.assertNotIn("readable", self.run_binary("plain", ["--config", plain, "--check-config"], 0).stderr.decode())
        self.scan()

    def test_state_and_dead_letter_files_are_0600_under_umask_000(self):
        cfg = self.config()
        self.run_binary("once", ["--config", cfg, "--once"], 0, umask=0)
        self.receiver.control(fail=100, status=400)
        self.run_binary("dead letters", ["--config", cfg, "--once", "--date", "2024-03-07"], 1, umask=0)
        state = os.path.join(self.tmp, "state")
        modes = {name: stat.S_IMODE(os.stat(os.path.join(state, name)).st_mode) for name in os.listdir(state)}
        self.assertEqual(set(modes), {"state.json", "lock", "dead-letter.jsonl"})
        self.assertEqual({n: oct(m) for n, m in modes.items()}, {n: "0o600" for n in modes})
        dir_mode = stat.S_IMODE(os.stat(state).st_mode)
        self.assertEqual(dir_mode & 0o077, 0, f"state_dir created with mode {dir_mode:o} under umask 000")
        self.collect_files("umask")
        self.scan()


if __name__ == "__main__":
    main()

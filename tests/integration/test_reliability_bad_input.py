"""Bad input: every config error class through the binary; Cost Explorer answers that are empty,
too big, not JSON, JSON of the wrong shape, or without amounts; a target that does not resolve;
a full disk under the state file. For each run-time case: the process does not crash, the error is
logged naming the problem, a metric counts it, the day stays pending, and a later good run
delivers it (nothing lost)."""
import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler

from support.env import BINARY, main, require
from support.httpd import Server
from support.procs import free_port, wait_for_port
from support.service import ServiceTestCase, aws_env, write_config
from support.sink import RecordingSink

NOW = "2024-03-10T00:00:30Z"
YESTERDAY = "2024-03-09"
CHECKPOINT = "2024-03-08"
SERVICES = ["Amazon Simple Storage Service", "AWS Lambda", "Amazon CloudFront", "AWS Glue"]
LIMIT = 64 * 1024  # max_response_bytes in these tests


def metric_value(text, name, labels):
    """The sum of the samples of `name` whose label set starts with `labels`."""
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + labels):
            total += float(line.rsplit(" ", 1)[1])
    return total


class BadCostExplorer:
    """Answers GetCostAndUsage with the bad answer of `mode`, or a good page in mode 'good'."""

    def __init__(self, mode):
        self.mode = mode
        self.requests = 0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
                fake.requests += 1
                status, ctype, data = fake.answer(body)
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                try:
                    self.wfile.write(data)
                except OSError:
                    pass  # the client stopped reading a body that is too big

            def log_message(self, *args):
                pass

        self.server = Server(Handler)
        self.url = self.server.url

    def page(self, body, amounts=True):
        start = dt.date.fromisoformat(body["TimePeriod"]["Start"])
        end = dt.date.fromisoformat(body["TimePeriod"]["End"])
        results = []
        day = start
        while day < end:
            groups = []
            for n, service in enumerate(SERVICES):
                value = {"Amount": f"{n}.25", "Unit": "USD"} if amounts else {"Unit": "USD"}
                groups.append({"Keys": [service], "Metrics": {m: dict(value) for m in body["Metrics"]}})
            results.append({"TimePeriod": {"Start": day.isoformat(),
                                           "End": (day + dt.timedelta(days=1)).isoformat()},
                            "Total": {}, "Groups": groups, "Estimated": True})
            day += dt.timedelta(days=1)
        return {"GroupDefinitions": body.get("GroupBy", []), "ResultsByTime": results,
                "DimensionValueAttributes": []}

    def answer(self, body):
        js = "application/x-amz-json-1.1"
        if self.mode == "good":
            return 200, js, json.dumps(self.page(body)).encode()
        if self.mode == "empty":
            return 200, js, b""
        if self.mode == "huge":
            page = self.page(body)
            page["DimensionValueAttributes"] = [{"Value": "x" * 1000, "Attributes": {}}] * (4 * LIMIT // 1000)
            return 200, js, json.dumps(page).encode()
        if self.mode == "not_json":
            return 200, "text/html", b"<html><body><h1>502 Bad Gateway</h1></body></html>\n"
        if self.mode == "wrong_shape":
            return 200, js, json.dumps({"ResultsByTime": {"Start": YESTERDAY, "Groups": []}}).encode()
        if self.mode == "amounts_missing":
            return 200, js, json.dumps(self.page(body, amounts=False)).encode()
        raise AssertionError(self.mode)

    def close(self):
        self.server.close()


class Case:
    """One service run: its own state dir (checkpoint at CHECKPOINT), config, port and log."""

    def __init__(self, test, name, target, endpoint, extra="", state_dir=None):
        self.test = test
        self.name = name
        self.dir = os.path.join(test.tmp, name)
        os.makedirs(self.dir, exist_ok=True)
        self.state_dir = state_dir or os.path.join(self.dir, "state")
        os.makedirs(self.state_dir, exist_ok=True)
        with open(os.path.join(self.state_dir, "state.json"), "w") as f:
            json.dump({"version": 1, "checkpoint": CHECKPOINT, "digests": {}}, f)
        self.port = free_port()
        self.log_path = os.path.join(self.dir, "service.log")
        self.write_config(target, endpoint, extra)
        self.proc = None

    def write_config(self, target, endpoint, extra=""):
        self.config = write_config(self.dir, f"""target: {target}
endpoint: {endpoint}
state_dir: {self.state_dir}
listen: 127.0.0.1:{self.port}
max_response_bytes: {LIMIT}
delivery: {{timeout: 2s, concurrency: 2}}
log: {{format: json, level: debug}}
{extra}""")

    def start(self, env=None):
        log = open(self.log_path, "ab")
        environment = dict(aws_env("AKIABADINPUTTEST0001", "bad-input-secret-0001"), SAB_FAKE_NOW=NOW)
        environment.update(env or {})
        self.proc = self.test.procs.start([BINARY, "--config", self.config], env=environment,
                                          stdout=subprocess.DEVNULL, stderr=log)
        log.close()
        wait_for_port(self.port, proc=self.proc)
        return self

    def get(self, path):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=10) as res:
                return res.status, res.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def metrics(self):
        return self.get("/metrics")[1]

    def pulls(self, result):
        return metric_value(self.metrics(), "aws_billing_source_pulls_total", f'{{result="{result}"}}')

    def wait_for_pull(self, result, timeout=150):
        deadline = time.monotonic() + timeout
        while self.pulls(result) < 1:
            if self.proc.poll() is not None:
                self.test.fail(f"{self.name}: the service exited with {self.proc.returncode}:\n{self.log()[-3000:]}")
            if time.monotonic() > deadline:
                self.test.fail(f"{self.name}: no pull with result {result} in time:\n{self.log()[-3000:]}")
            time.sleep(0.2)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.test.assertEqual(self.proc.wait(timeout=30), 0, f"{self.name}: exit code after SIGTERM")

    def log(self):
        with open(self.log_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def log_records(self):
        out = []
        for line in self.log().splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
        return out

    def checkpoint(self):
        with open(os.path.join(self.state_dir, "state.json")) as f:
            return json.load(f).get("checkpoint")


class BadCostExplorerAnswers(ServiceTestCase):
    # mode -> (cost_explorer_requests_total result, words the logged error must hold, requests of
    # the failed pull: a complete answer that does not parse is retried once, since it would very
    # likely be the same again and each request is billed; a body over the limit is not retried)
    CASES = {
        "empty": ("bad_response", "malformed Cost Explorer response", 2),
        "huge": ("transport_error", "max_response_bytes", 1),
        "not_json": ("bad_response", "malformed Cost Explorer response", 2),
        "wrong_shape": ("bad_response", "ResultsByTime must be an array", 2),
        "amounts_missing": ("bad_response", "Amount", 2),
    }

    def test_bad_answers_and_an_unresolvable_target_keep_the_day_pending(self):
        """All cases run side by side (the unresolvable target is retried with backoff)."""
        cases = {}
        for mode in self.CASES:
            fake = BadCostExplorer(mode)
            sink = RecordingSink()
            self.addCleanup(fake.close)
            self.addCleanup(sink.close)
            cases[mode] = (Case(self, mode, sink.url, fake.url).start(), fake, sink)
        # The target host is under the reserved .invalid TLD: it never resolves.
        fake = BadCostExplorer("good")
        sink = RecordingSink()
        self.addCleanup(fake.close)
        self.addCleanup(sink.close)
        unresolvable = Case(self, "unresolvable", "http://billing-sink.invalid:8080/", fake.url,
                            "send_event_attempts: 2\n").start()
        cases["unresolvable"] = (unresolvable, fake, sink)

        results = {}
        for mode, (case, fake, sink) in cases.items():
            with self.subTest(mode=mode):
                case.wait_for_pull("failure")
                self.assertIsNone(case.proc.poll(), "the process is alive")
                self.assertEqual(case.get("/healthz")[0], 200)
                status, reason = case.get("/readyz")
                self.assertEqual(status, 503, reason)
                self.assertIn("last pull failed", reason)
                self.assertEqual(case.checkpoint(), CHECKPOINT, "the checkpoint did not move")
                self.assertEqual(sink.subjects, [], "nothing was delivered from a bad answer")
                errors = [r for r in case.log_records() if r.get("msg") == "pull failed"]
                self.assertTrue(errors, "the failed pull is logged")
                text = case.metrics()
                if mode == "unresolvable":
                    attempts = [r for r in case.log_records() if r.get("msg") == "delivery attempt failed"]
                    self.assertTrue(attempts, "the failed attempts are logged")
                    self.assertIn("billing-sink.invalid", attempts[0]["error"])
                    self.assertGreaterEqual(metric_value(text, "aws_billing_source_delivery_attempts_total",
                                                         '{result="transport_error"}'), 2 * len(SERVICES))
                    # At least one failed pull of every event (the service retries the pull later).
                    self.assertGreaterEqual(metric_value(text, "aws_billing_source_events_total",
                                                         '{result="failed"}'), len(SERVICES))
                    self.assertEqual(errors[0]["failed"], len(SERVICES))
                    results[mode] = {"log": attempts[0]["error"], "pull_error": errors[0]["error"],
                                     "metric": "delivery_attempts_total{result=\"transport_error\"}, "
                                               "events_total{result=\"failed\"}"}
                else:
                    result, words, requests = self.CASES[mode]
                    self.assertIn(words, errors[-1]["error"])
                    counted = metric_value(text, "aws_billing_source_cost_explorer_requests_total",
                                           f'{{operation="GetCostAndUsage",result="{result}"}}')
                    self.assertEqual(fake.requests, requests, "requests of the failed pull")
                    self.assertEqual(counted, fake.requests, "every request is counted")
                    if requests > 1:
                        self.assertIn(f"after {requests} attempts", errors[-1]["error"])
                    results[mode] = {"log": errors[-1]["error"], "requests": fake.requests,
                                     "metric": f"cost_explorer_requests_total{{result=\"{result}\"}}"}

        # A later good run delivers the pending day: nothing lost.
        for mode, (case, fake, sink) in cases.items():
            with self.subTest(mode=mode, phase="recovery"):
                case.stop()
                fake.mode = "good"
                if mode == "unresolvable":
                    case.write_config(sink.url, fake.url)
                case.start()
                case.wait_for_pull("success", timeout=60)
                self.assertEqual(case.checkpoint(), YESTERDAY)
                self.assertEqual(sorted(sink.subjects), sorted(f"{YESTERDAY}/{s}" for s in SERVICES))
                case.stop()
        print("BAD-INPUT-RESULT " + json.dumps(results), flush=True)


class FullDisk(ServiceTestCase):
    def mount_tmpfs(self, where):
        """A small real filesystem: true ENOSPC. Needs root and a kernel that allows the mount."""
        if os.geteuid() != 0 or not shutil.which("mount"):
            return False
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k,mode=0700", "tmpfs", where],
                           capture_output=True, timeout=30)
        if r.returncode != 0:
            return False
        self.addCleanup(subprocess.run, ["umount", "-l", where], capture_output=True, timeout=30)
        return True

    def build_shim(self, state_dir):
        """Else an LD_PRELOAD shim whose write()/pwrite()/posix_fallocate() fail with ENOSPC under
        state_dir (the journal of acknowledgements reserves its space with posix_fallocate)."""
        cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
        require(cc, "a C compiler (cc) to build the ENOSPC shim")
        source = os.path.join(self.tmp, "enospc.c")
        with open(source, "w") as f:
            f.write(ENOSPC_SHIM)
        lib = os.path.join(self.tmp, "enospc.so")
        r = subprocess.run([cc, "-shared", "-fPIC", "-O2", "-o", lib, source, "-ldl"],
                           capture_output=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        return {"LD_PRELOAD": lib, "SAB_ENOSPC_DIR": os.path.realpath(state_dir)}

    def fill(self, where):
        path = os.path.join(where, "filler")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            while True:
                os.write(fd, b"\0" * 4096)
        except OSError:
            pass
        finally:
            os.close(fd)
        return path

    def full_disk_case(self, name):
        """A case whose state_dir is full (checkpoint and lock file written first): the case, the
        good fake, the sink, the filler file (None with the shim), the env and the method."""
        sink = RecordingSink()
        self.addCleanup(sink.close)
        fake = BadCostExplorer("good")
        self.addCleanup(fake.close)
        state_dir = os.path.join(self.tmp, "disk")
        os.makedirs(state_dir)
        method = os.environ.get("SAB_ENOSPC_METHOD", "")
        mounted = method != "shim" and self.mount_tmpfs(state_dir)
        case = Case(self, name, sink.url, fake.url, state_dir=state_dir)
        open(os.path.join(state_dir, "lock"), "w").close()
        if mounted:
            filler = self.fill(state_dir)
            env = {}
        else:
            filler = None
            env = self.build_shim(state_dir)
        return case, fake, sink, filler, env, "tmpfs" if mounted else "LD_PRELOAD shim"

    def test_full_disk_keeps_the_day_pending_and_logs_the_error(self):
        case, fake, sink, filler, env, method = self.full_disk_case("service")
        state_dir = case.state_dir
        case.start(env)
        case.wait_for_pull("failure", timeout=60)
        self.assertIsNone(case.proc.poll(), "the process is alive")
        self.assertEqual(case.checkpoint(), CHECKPOINT, "the checkpoint did not move")
        failed = [r for r in case.log_records() if r.get("msg") == "pull failed"]
        self.assertTrue(failed, "the failed pull is logged")
        self.assertIn("state not saved", failed[-1]["error"])
        self.assertIn("No space left on device", failed[-1]["error"])
        status, reason = case.get("/readyz")
        self.assertEqual(status, 503)
        self.assertIn("state not saved", reason)
        self.assertEqual(len(sink.subjects), len(SERVICES), "delivered, but the day stays pending")
        self.assertFalse(os.path.exists(os.path.join(state_dir, "state.json.tmp")), "no temp file left")
        self.assert_not_journalled(case)
        case.stop()

        # Space again: the day is pulled and delivered again (same ids) and the checkpoint moves.
        if filler:
            os.unlink(filler)
        case.start()
        case.wait_for_pull("success", timeout=60)
        self.assertEqual(case.checkpoint(), YESTERDAY)
        self.assertEqual(sorted(set(sink.subjects)), sorted(f"{YESTERDAY}/{s}" for s in SERVICES))
        case.stop()
        print("FULL-DISK-RESULT " + json.dumps({
            "method": method,
            "error": failed[-1]["error"].replace(state_dir, "<state_dir>"),
            "readyz": reason.strip().replace(state_dir, "<state_dir>")}),
              flush=True)

    def assert_not_journalled(self, case):
        """The journal of acknowledgements cannot be written either: logged once, the run goes on,
        and the acknowledgements are not journalled (so the next run sends the day again)."""
        errors = [r for r in case.log_records() if r.get("msg", "").startswith("acknowledgements not journalled")]
        self.assertEqual(len(errors), 1, "the journal's failure is logged once")
        self.assertIn("No space left on device", errors[0]["error"])
        self.assertFalse(os.path.exists(os.path.join(case.state_dir, "acks.journal")))

    def run_once(self, case, env):
        environment = dict(aws_env("AKIABADINPUTTEST0001", "bad-input-secret-0001"), SAB_FAKE_NOW=NOW)
        environment.update(env)
        with open(case.log_path, "ab") as log:
            return subprocess.run([BINARY, "--config", case.config, "--once"], env=environment,
                                  stdout=subprocess.DEVNULL, stderr=log, timeout=120).returncode

    def test_once_exits_1_when_the_checkpoint_cannot_be_saved(self):
        """Every event delivered, state.json not written: a cron job must see the failure."""
        case, fake, sink, filler, env, method = self.full_disk_case("once")
        code = self.run_once(case, env)
        self.assertEqual(code, 1, f"--once exit code with a full disk:\n{case.log()[-3000:]}")
        self.assertEqual(sorted(sink.subjects), sorted(f"{YESTERDAY}/{s}" for s in SERVICES),
                         "every event was delivered")
        self.assertEqual(case.checkpoint(), CHECKPOINT, "the checkpoint did not move")
        self.assertFalse(os.path.exists(os.path.join(case.state_dir, "state.json.tmp")), "no temp file left")
        records = case.log_records()
        unsaved = [r for r in records if r.get("msg") == "state not saved"]
        self.assertTrue(unsaved, "the error is logged")
        self.assertIn("No space left on device", unsaved[-1]["error"])
        done = [r for r in records if r.get("msg") == "done"]
        self.assertTrue(done, "the run's summary is logged")
        self.assertEqual(done[-1]["delivered"], len(SERVICES))
        self.assertIs(done[-1]["state_saved"], False)
        self.assertEqual(done[-1]["checkpoint"], CHECKPOINT, "the summary names the checkpoint on disk")
        self.assert_not_journalled(case)

        # Space again: the same day is delivered again, saved, and the exit code is 0.
        if filler:
            os.unlink(filler)
        code = self.run_once(case, {})
        self.assertEqual(code, 0, f"--once exit code with space again:\n{case.log()[-3000:]}")
        self.assertEqual(case.checkpoint(), YESTERDAY)
        self.assertEqual(len(sink.subjects), 2 * len(SERVICES))
        self.assertEqual(sorted(set(sink.subjects)), sorted(f"{YESTERDAY}/{s}" for s in SERVICES))
        print("FULL-DISK-ONCE-RESULT " + json.dumps({
            "method": method, "exit_codes": [1, code],
            "error": unsaved[-1]["error"].replace(case.state_dir, "<state_dir>")}),
              flush=True)


# One config per error class the loader knows (tests/config covers the messages; this covers the
# binary: exit 2 naming the key in every mode, before anything starts). test_service.py already
# runs pull_hour out of range, delivery.mode, an unknown key, a missing target and a missing file.
CONFIG_ERRORS = [
    ("pull_hour: two", "pull_hour"),
    ("catch_up_days: 1000", "catch_up_days"),
    ("restate_days: -1", "restate_days"),
    ("send_event_attempts: -1", "send_event_attempts"),
    ("delivery: {batch_size: 0}", "delivery.batch_size"),
    ("delivery: {concurrency: 0}", "delivery.concurrency"),
    ("delivery: {insecure_skip_verify: maybe}", "delivery.insecure_skip_verify"),
    ("delivery: {timeout: soon}", "delivery.timeout"),
    ("shutdown_timeout: 5 minutes", "shutdown_timeout"),
    ("delivery: [1]", "delivery"),
    ("endpoint: ftp://ce.us-east-1.amazonaws.com", "endpoint"),
    ("endpoint: https://ce.us-east-1.amazonaws.com/path", "endpoint"),
    ("endpoint: 'https://:443'", "endpoint"),
    ("endpoint: https://ce.eu_we0Ast-1.amazonaws.com", "endpoint"),
    ("listen: nowhere", "listen"),
    ("listen: 127.0.0.1:99999", "listen"),
    ("group_by: []", "group_by"),
    ("group_by: [{type: DIMENSION, key: NOPE}]", "group_by[0].key"),
    ("group_by: [{type: LABEL, key: team}]", "group_by[0].type"),
    ("metrics: [Bogus]", "metrics[0]"),
    ("metrics: []", "metrics"),
    ("delivery: {headers: {'Bad Name': x}}", "delivery.headers.Bad..."),
    ('delivery: {headers: {X-Token: "a\\nb"}}', "delivery.headers.X-Token"),
    ("delivery: {headers: {Host: x}}", "delivery.headers.Host"),
    ("delivery: {headers: {X-Empty: }}", "delivery.headers.X-Empty"),
    ("delivery: {ca_file: /nonexistent/ca.pem}", "delivery.ca_file"),
    ("log: {level: loud}", "log.level"),
    ("log: {format: xml}", "log.format"),
    ("secret: {access_key_id: AKIAIOSFODNN7EXAMPLE}", "secret.secret_access_key"),
    ("secret: {secret_access_key: abcdefgh}", "secret.access_key_id"),
    ("secret: {session_token: abcdefgh}", "secret.session_token"),
    ("secret: {other: 1}", "secret.other"),
    ("pull_zone: Mars/Olympus_Mons", "pull_zone"),
    ("role_arn: billing-reader", "role_arn"),
    ("external_id: ext-42", "external_id"),
    ("region: US East", "region"),
    ("granularity: HOURLY", "granularity"),
    ("filter: [1]", "filter"),
    ("state_dir: ''", "state_dir"),
    ("max_response_bytes: lots", "max_response_bytes"),
    ("max_response_bytes: 10", "max_response_bytes"),
    ("'': 1", '""'),
]


class ConfigErrors(ServiceTestCase):
    def run_binary(self, cfg, mode, env=None):
        args = {"check": ["--check-config"], "once": ["--once", "--dry-run"], "service": []}[mode]
        return subprocess.run([BINARY, "--config", cfg, *args], capture_output=True, timeout=30,
                              env=env or aws_env("AKIAIOSFODNN7EXAMPLE", "not-used-here"))

    def check(self, cfg, key, env=None):
        for mode in ("check", "once", "service"):
            r = self.run_binary(cfg, mode, env)
            err = r.stderr.decode()
            self.assertEqual(r.returncode, 2, f"{mode}: {err}")
            self.assertIn(f"\n  {key}: ", err, f"{mode}: the error names the key")
            self.assertNotIn('"msg":"listening"', err, f"{mode}: nothing started")
            self.assertEqual(r.stdout, b"", f"{mode}: nothing on stdout")

    def test_every_error_class_exits_2_naming_the_key_in_every_mode(self):
        for n, (line, key) in enumerate(CONFIG_ERRORS):
            with self.subTest(config=line):
                base = {"target": "http://127.0.0.1:1/", "listen": "127.0.0.1:0",
                        "state_dir": f"{self.tmp}/state"}
                text = "".join(f"{k}: {v}\n" for k, v in base.items() if not line.startswith(k + ":"))
                cfg = write_config(self.tmp, text + line + "\n", f"c{n}.yml")
                self.check(cfg, key)

    def test_file_level_errors(self):
        cases = {
            "yaml syntax": ("target: [unclosed\n", "yaml"),
            "a list at the top": ("- target: http://x/\n", "(top level)"),
            "a scalar at the top": ("just text\n", "(top level)"),
            "empty file": ("", "target"),
        }
        for name, (text, key) in cases.items():
            with self.subTest(name=name):
                self.check(write_config(self.tmp, text, "file.yml"), key)
        with self.subTest(name="CONNECTOR_TARGET not a URL"):
            cfg = write_config(self.tmp, "target: http://127.0.0.1:1/\n", "env.yml")
            env = dict(aws_env("AKIAIOSFODNN7EXAMPLE", "x"), CONNECTOR_TARGET="gopher://x/")
            self.check(cfg, "target", env)
        with self.subTest(name="a directory"):
            r = self.run_binary(self.tmp, "check")
            self.assertEqual(r.returncode, 2)
            self.assertIn("cannot be read", r.stderr.decode())


ENOSPC_SHIM = r"""
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

static int under_dir(int fd) {
  const char* dir = getenv("SAB_ENOSPC_DIR");
  char link[64], path[PATH_MAX];
  if (!dir || !*dir) return 0;
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, path, sizeof path - 1);
  if (n <= 0) return 0;
  path[n] = 0;
  size_t len = strlen(dir);
  return strncmp(path, dir, len) == 0 && path[len] == '/';
}

ssize_t write(int fd, const void* buf, size_t count) {
  static ssize_t (*real)(int, const void*, size_t);
  if (!real) real = (ssize_t(*)(int, const void*, size_t))dlsym(RTLD_NEXT, "write");
  if (count > 0 && under_dir(fd)) {
    errno = ENOSPC;
    return -1;
  }
  return real(fd, buf, count);
}

ssize_t pwrite(int fd, const void* buf, size_t count, off_t offset) {
  static ssize_t (*real)(int, const void*, size_t, off_t);
  if (!real) real = (ssize_t(*)(int, const void*, size_t, off_t))dlsym(RTLD_NEXT, "pwrite");
  if (count > 0 && under_dir(fd)) {
    errno = ENOSPC;
    return -1;
  }
  return real(fd, buf, count, offset);
}

int posix_fallocate(int fd, off_t offset, off_t len) {
  static int (*real)(int, off_t, off_t);
  if (!real) real = (int (*)(int, off_t, off_t))dlsym(RTLD_NEXT, "posix_fallocate");
  if (len > 0 && under_dir(fd)) return ENOSPC;
  return real(fd, offset, len);
}

int posix_fallocate64(int fd, off_t offset, off_t len) {
  return posix_fallocate(fd, offset, len);
}
"""


if __name__ == "__main__":
    main()

"""Modes that must neither lose nor mislabel a day, and a shutdown that stops at once: a dry-run
service next to the real state, MONTHLY with --once, restatement after a long outage, SIGTERM
while Cost Explorer or STS stalls or retries, and a dry run whose stdout is closed."""
import datetime as dt
import json
import os
import signal
import socket
import subprocess
import threading
import time
import urllib.request

from support import ce_fake
from support.env import BINARY, main
from support.procs import free_port, wait_for_port
from support.service import ServiceTestCase, utc_today, write_config
from support.sink import RecordingSink

KEY_ID = "AKIDCORRECTNESS00001"
SECRET = "correctness-secret-key-0000000000000000"


def month_start(day):
    return day.replace(day=1)


def previous_month(first):
    return (first - dt.timedelta(days=1)).replace(day=1)


class FakeCostExplorer:
    """ce_fake in this process: any period, MONTHLY too, with each request's period recorded."""

    def __init__(self, services=3):
        self.server = ce_fake.serve(services=services)
        self.fake = self.server.fake
        self.url = self.server.url

    def periods(self):
        with self.fake.lock:
            return [tuple(p) for p in self.fake.stats.get("periods", [])]

    def requests(self):
        with self.fake.lock:
            return self.fake.stats["requests"]

    def close(self):
        self.server.close()


class Stall:
    """A TCP server that accepts and then answers nothing, or a response head and part of the
    body (`partial`), then nothing more: a Cost Explorer or STS that stalls."""

    def __init__(self, partial=False):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.partial = partial
        self.conns = []
        self.accepted = threading.Event()
        threading.Thread(target=self.serve, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)
            if self.partial:
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.1\r\n"
                             b"Content-Length: 100000\r\n\r\n{\"ResultsByTime\": [")
            self.accepted.set()

    def close(self):
        self.sock.close()
        for c in self.conns:
            c.close()


class Correctness(ServiceTestCase):
    def setUp(self):
        super().setUp()
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith("AWS_") and k != "SAB_FAKE_NOW"}
        self.env.update(AWS_ACCESS_KEY_ID=KEY_ID, AWS_SECRET_ACCESS_KEY=SECRET,
                        AWS_EC2_METADATA_DISABLED="true")
        self.today = utc_today()
        self.yesterday = self.today - dt.timedelta(days=1)
        self.closers = []

    def tearDown(self):
        super().tearDown()
        for c in self.closers:
            c.close()

    def fake(self, services=3):
        f = FakeCostExplorer(services)
        self.closers.append(f)
        return f

    def sink(self):
        s = RecordingSink()
        self.closers.append(s)
        return s

    def config(self, endpoint, target, extra="", http_port=None, name="config.yml"):
        listen = f"127.0.0.1:{http_port}" if http_port else "127.0.0.1:0"
        return write_config(self.tmp, f"""target: {target}
endpoint: {endpoint}
state_dir: {self.tmp}/state
listen: {listen}
log: {{format: json, level: debug}}
{extra}""", name)

    def write_state(self, checkpoint):
        os.makedirs(os.path.join(self.tmp, "state"), mode=0o700, exist_ok=True)
        path = os.path.join(self.tmp, "state", "state.json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump({"version": 1, "checkpoint": checkpoint.isoformat(), "digests": {}}, f)
        return path

    def state_files(self):
        out = {}
        root = os.path.join(self.tmp, "state")
        for name in sorted(os.listdir(root)) if os.path.isdir(root) else []:
            path = os.path.join(root, name)
            st = os.stat(path)
            with open(path, "rb") as f:
                out[name] = (f.read(), st.st_mtime_ns, st.st_mode)
        return out

    def checkpoint(self):
        path = os.path.join(self.tmp, "state", "state.json")
        if not os.path.exists(path):
            return None
        with open(path, encoding="utf-8") as f:
            return json.load(f)["checkpoint"]

    def start(self, args, env=None, **kwargs):
        return self.procs.start([BINARY, *args], env=env or self.env, **kwargs)

    def wait_ready(self, port, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise AssertionError("the service never became ready")

    def stop_within(self, proc, seconds):
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=30)
        took = time.monotonic() - started
        stderr = proc.stderr.read().decode()
        self.assertEqual(code, 0, stderr[-3000:])
        self.assertLess(took, seconds, f"SIGTERM took {took:.2f}s\n{stderr[-3000:]}")
        return took, stderr

    # --- 1. A dry run reads the state but never writes, locks or moves it ----------------------

    def test_a_dry_run_service_prints_the_days_a_real_one_would_send_and_leaves_the_state(self):
        fake = self.fake()
        sink = self.sink()
        checkpoint = self.today - dt.timedelta(days=4)
        self.write_state(checkpoint)
        before = self.state_files()
        port = free_port()
        cfg = self.config(fake.url, sink.url, http_port=port)
        dry = self.start(["--config", cfg, "--dry-run"])
        wait_for_port(port, proc=dry)
        deadline = time.monotonic() + 20
        while fake.requests() == 0 and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1)
        _, _ = self.stop_within(dry, 5)
        lines = dry.stdout.read().decode().splitlines()
        dates = sorted({json.loads(line)["data"]["date"] for line in lines})
        wanted = [(checkpoint + dt.timedelta(days=n)).isoformat() for n in (1, 2, 3)]
        self.assertEqual(dates, wanted)
        self.assertEqual(len(lines), 3 * 3)
        self.assertEqual(self.state_files(), before, "the dry run changed state_dir")
        self.assertEqual(sink.count(), 0)

        # Next to a real service holding the lock: the dry run still runs, and changes nothing.
        real_port = free_port()
        real_cfg = self.config(fake.url, sink.url, http_port=real_port, name="real.yml")
        real = self.start(["--config", real_cfg])
        wait_for_port(real_port, proc=real)
        self.wait_ready(real_port)
        deadline = time.monotonic() + 20
        while self.checkpoint() != self.yesterday.isoformat() and time.monotonic() < deadline:
            time.sleep(0.1)
        self.assertEqual(self.checkpoint(), self.yesterday.isoformat())
        self.assertEqual(sink.count(), 9)
        before = self.state_files()
        dry = self.start(["--config", cfg, "--dry-run"])
        wait_for_port(port, proc=dry)
        self.wait_ready(port)
        self.stop_within(dry, 5)
        self.assertEqual(dry.stdout.read(), b"", "up to date: nothing to print")
        once = subprocess.run([BINARY, "--config", cfg, "--once", "--dry-run", "--date",
                               checkpoint.isoformat()], env=self.env, capture_output=True,
                              timeout=60)
        self.assertEqual(once.returncode, 0, once.stderr.decode())
        self.assertEqual(len(once.stdout.decode().splitlines()), 3)
        self.assertEqual(self.state_files(), before, "a dry run changed the service's state")
        self.stop_within(real, 5)

    # --- 2. MONTHLY with --once ----------------------------------------------------------------

    def test_monthly_once_pulls_whole_months_and_checkpoints_at_month_ends(self):
        fake = self.fake()
        sink = self.sink()
        cfg = self.config(fake.url, sink.url, "granularity: MONTHLY\n")
        last_month = previous_month(month_start(self.today))
        r = subprocess.run([BINARY, "--config", cfg, "--once"], env=self.env,
                           capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        self.assertEqual(fake.periods(), [(last_month.isoformat(),
                                           month_start(self.today).isoformat(), "MONTHLY")])
        self.assertEqual(sink.count(), 3)
        subjects = set(sink.subjects)
        self.assertEqual({s.split("/")[0] for s in subjects}, {last_month.isoformat()})
        self.assertEqual(self.checkpoint(), (month_start(self.today) - dt.timedelta(days=1)).isoformat())

        # A single day or a range inside months: exit 2 naming the months' bounds, nothing pulled.
        day = last_month + dt.timedelta(days=14)
        month_end = month_start(self.today) - dt.timedelta(days=1)
        for args in (["--date", day.isoformat()],
                     ["--from", last_month.isoformat(), "--to", day.isoformat()]):
            r = subprocess.run([BINARY, "--config", cfg, "--once", *args], env=self.env,
                               capture_output=True, timeout=60)
            self.assertEqual(r.returncode, 2, r.stderr.decode())
            self.assertIn(f"{last_month.isoformat()} .. {month_end.isoformat()}", r.stderr.decode())
        self.assertEqual(len(fake.periods()), 1)
        # The month in progress is not complete.
        r = subprocess.run([BINARY, "--config", cfg, "--once", "--from",
                            month_start(self.today).isoformat(), "--to",
                            ((month_start(self.today) + dt.timedelta(days=32)).replace(day=1)
                             - dt.timedelta(days=1)).isoformat()],
                           env=self.env, capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 2, r.stderr.decode())
        self.assertEqual(self.checkpoint(), month_end.isoformat())

    # --- 3. Restatement after a long outage -------------------------------------------------------

    def test_restatement_after_a_long_outage_pulls_no_skipped_day(self):
        fake = self.fake()
        sink = self.sink()
        checkpoint = self.today - dt.timedelta(days=20)
        self.write_state(checkpoint)
        port = free_port()
        cfg = self.config(fake.url, sink.url, "catch_up_days: 3\nrestate_days: 25\n", port)
        svc = self.start(["--config", cfg])
        wait_for_port(port, proc=svc)
        # Ready comes with the credentials, before the pull: wait for the pull's checkpoint.
        deadline = time.monotonic() + 30
        while self.checkpoint() != self.yesterday.isoformat() and time.monotonic() < deadline:
            time.sleep(0.1)
        self.stop_within(svc, 5)
        first = (self.yesterday - dt.timedelta(days=3)).isoformat()
        self.assertEqual(fake.periods(), [(first, self.today.isoformat(), "DAILY")])
        self.assertEqual({s.split("/")[0] for s in sink.subjects},
                         {(self.yesterday - dt.timedelta(days=n)).isoformat() for n in range(4)})
        self.assertEqual(self.checkpoint(), self.yesterday.isoformat())

    # --- 5. SIGTERM cancels a pull in progress at once ----------------------------------------

    def test_sigterm_while_cost_explorer_is_unreachable_and_retried(self):
        port = free_port()
        dead = f"http://127.0.0.1:{free_port()}"  # nothing listens: connect refused, retried
        cfg = self.config(dead, self.sink().url, http_port=port)
        svc = self.start(["--config", cfg])
        wait_for_port(port, proc=svc)
        time.sleep(2)  # the start-up pull is in its retries
        _, stderr = self.stop_within(svc, 1.5)
        self.assertIn("Cost Explorer request failed; retrying", stderr)
        self.assertIn("pull cancelled by shutdown", stderr)
        self.assertIsNone(self.checkpoint())

    def test_sigterm_while_a_page_is_read_slowly(self):
        stall = Stall(partial=True)
        self.closers.append(stall)
        port = free_port()
        cfg = self.config(stall.url, self.sink().url, http_port=port)
        svc = self.start(["--config", cfg])
        wait_for_port(port, proc=svc)
        self.assertTrue(stall.accepted.wait(10))
        time.sleep(0.5)
        _, stderr = self.stop_within(svc, 1.5)
        self.assertIn("pull cancelled by shutdown", stderr)

    def test_sigterm_while_sts_stalls(self):
        stall = Stall()
        self.closers.append(stall)
        port = free_port()
        cfg = self.config(self.fake().url, self.sink().url,
                          "role_arn: arn:aws:iam::123456789012:role/billing\n", port)
        env = dict(self.env, AWS_ENDPOINT_URL_STS=stall.url)
        svc = self.start(["--config", cfg], env=env)
        wait_for_port(port, proc=svc)
        self.assertTrue(stall.accepted.wait(10))
        time.sleep(0.5)
        self.stop_within(svc, 1.5)

    def test_sigterm_with_nothing_to_do_exits_within_a_second(self):
        fake = self.fake()
        self.write_state(self.yesterday)
        port = free_port()
        svc = self.start(["--config", self.config(fake.url, self.sink().url, http_port=port)])
        wait_for_port(port, proc=svc)
        self.wait_ready(port)
        self.stop_within(svc, 1.0)
        self.assertEqual(fake.requests(), 0)

    # --- 6. A closed stdout ends a dry run with exit 1, not a signal --------------------------

    def test_a_dry_run_piped_into_head_ends_with_exit_1_and_a_log_line(self):
        fake = self.fake(services=400)  # several pages, more than a pipe buffer holds
        cfg = self.config(fake.url, self.sink().url)
        first = (self.today - dt.timedelta(days=7)).isoformat()
        proc = subprocess.Popen([BINARY, "--config", cfg, "--once", "--dry-run", "--from", first,
                                 "--to", self.yesterday.isoformat()], env=self.env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        proc.stdout.readline()
        proc.stdout.close()  # what `| head -1` does
        stderr = proc.stderr.read().decode()
        proc.stderr.close()
        code = proc.wait(timeout=60)
        self.assertEqual(code, 1, stderr[-2000:])
        self.assertIn("stdout is closed; the dry run ends", stderr)
        # It stopped pulling: far fewer requests than the 7 days x 400 groups would take.
        self.assertLess(fake.requests(), 28)


if __name__ == "__main__":
    main()

"""The journal of acknowledgements (SPEC §4): a SIGKILL after some acknowledgements, then a
restart, sends only what was not acknowledged, in every delivery mode, as a service and with
--once; a torn or corrupt tail is logged and ignored, never fatal; a dry run never touches it.
Real peers: the Cost Explorer fake and the Node CloudEvents receiver (which holds requests past a
count without answering them: requests in flight at the kill)."""
import datetime as dt
import json
import os
import signal
import stat
import struct
import subprocess
import time
import urllib.request

from support import ce_fake
from support.env import BINARY, main
from support.journal import read_journal
from support.procs import free_port
from support.service import ServiceTestCase, aws_env, read_checkpoint, write_config
from support.sink import Receiver

NOW = "2024-03-02T00:00:30Z"  # the service pulls 2024-03-01
DAY = "2024-03-01"
SERVICES = 40
JOURNAL = "acks.journal"


def journal_ids(path):
    return read_journal(path)[0]


def uuid_hex(event_id):
    return event_id.replace("-", "")


def read_text(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


class Journal(ServiceTestCase):
    def setUp(self):
        super().setUp()
        _, _, info = ce_fake.start(self.procs, "--services", str(SERVICES), "--page-size", "30")
        self.ce_port = info["port"]
        self.receiver = Receiver(self.procs).start()
        self.env = dict(aws_env("AKIAJOURNALTEST00001", "journal-secret-value-0001"), SAB_FAKE_NOW=NOW)
        self.http_port = free_port()
        self.state_dir = os.path.join(self.tmp, "state")
        self.journal = os.path.join(self.state_dir, JOURNAL)
        self.logs = []

    def config(self, mode="binary", batch_size=5, concurrency=4, state_dir=None, name="config.yml"):
        return write_config(self.tmp, f"""target: {self.receiver.url}
endpoint: http://127.0.0.1:{self.ce_port}
state_dir: {state_dir or self.state_dir}
listen: 127.0.0.1:{self.http_port}
delivery: {{mode: {mode}, batch_size: {batch_size}, concurrency: {concurrency}, timeout: 10s}}
log: {{format: json}}
""", name)

    def start(self, cfg, args=()):
        log = os.path.join(self.tmp, f"run-{len(self.logs)}.log")
        self.logs.append(log)
        with open(log, "wb") as f:
            # Under umask 000: the journal is 0600 whatever the umask, like state.json.
            proc = self.procs.start([BINARY, "--config", cfg, *args], env=self.env,
                                    stdout=subprocess.DEVNULL, stderr=f, umask=0)
        return proc

    def records(self, index=-1):
        out = []
        with open(self.logs[index], encoding="utf-8") as f:
            for line in f:
                try:
                    out.append(json.loads(line))
                except ValueError:
                    pass
        return out

    def metric(self, name):
        text = urllib.request.urlopen(f"http://127.0.0.1:{self.http_port}/metrics", timeout=5).read().decode()
        for line in text.splitlines():
            if line.startswith(name + " "):
                return float(line.rsplit(" ", 1)[1])
        self.fail(f"no {name} in /metrics")

    def wait(self, what, check, timeout=60, proc=None):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = check()
            if value:
                return value
            if proc is not None and proc.poll() is not None:
                break
            time.sleep(0.05)
        tail = read_text(self.logs[-1])[-3000:] if self.logs else ""
        self.fail(f"timed out waiting for {what}; the service said:\n{tail}")

    def expected(self):
        """subject -> id of the day, from a dry run (no state, no journal)."""
        cfg = self.config(state_dir=os.path.join(self.tmp, "dry-state"), name="dry.yml")
        r = subprocess.run([BINARY, "--config", cfg, "--once", "--dry-run"], env=self.env,
                           capture_output=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        events = [json.loads(line) for line in r.stdout.decode().splitlines()]
        self.assertEqual(len(events), SERVICES)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "dry-state", JOURNAL)),
                         "a dry run leaves no journal")
        return {e["subject"]: e["id"] for e in events}

    def kill_after_acks(self, cfg, acked_requests, in_flight, args=()):
        """Starts the service (or --once); the receiver acknowledges `acked_requests` requests and
        holds the next ones; once `in_flight` are held, SIGKILL. Returns (acked, held) events."""
        self.receiver.control(reset=True)
        self.receiver.control(holdAfter=acked_requests)
        proc = self.start(cfg, args)
        got = self.wait(f"{in_flight} requests held", lambda: (
            lambda r: r if len(r["held"]) >= in_flight else None)(self.receiver.received()), proc=proc)
        # Nothing more can be acknowledged: every worker waits for an answer that never comes.
        time.sleep(0.3)
        got = self.receiver.received()
        if not args:
            # The acknowledgements were made durable by a group commit (10 ms after the first).
            self.assertGreaterEqual(self.metric("aws_billing_source_journal_fsyncs_total"), 1)
            self.assertGreaterEqual(self.metric("aws_billing_source_journal_fsync_duration_seconds_count"), 1)
            self.assertGreaterEqual(self.metric("aws_billing_source_journal_records_total"), acked_requests)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        self.receiver.control(holdAfter=None)
        self.assertEqual(stat.S_IMODE(os.stat(self.journal).st_mode), 0o600)
        return got["events"], got["held"]

    def check_restart(self, expected, acked, held, cfg, args=(), once=False, dead=()):
        """Restarts; checks that nothing acknowledged (or dead-lettered) came again and that every
        other event did. Returns the process and the events sent after the restart."""
        before = len(self.receiver.received()["events"])
        proc = self.start(cfg, args)
        if once:
            self.assertEqual(proc.wait(timeout=120), 0, read_text(self.logs[-1])[-3000:])
        else:
            self.wait("the checkpoint", lambda: read_checkpoint(self.tmp) == DAY, proc=proc)
            self.wait("the pull's end", lambda: self.metric(
                'aws_billing_source_pulls_total{result="success"}') >= 1, proc=proc)
        events = self.receiver.received()["events"]
        again = events[before:]
        acked_ids = {e["id"] for e in [*acked, *dead]}
        self.assertEqual([e["subject"] for e in again if e["id"] in acked_ids], [],
                         "an acknowledged event was sent again")
        self.assertEqual({e["subject"] for e in [*events, *dead]}, set(expected), "every event arrived")
        for e in events:
            self.assertEqual(e["id"], expected[e["subject"]])
        # Held requests were in flight: they come again (that is the only re-sending allowed).
        self.assertEqual(len(again), len(expected) - len(acked_ids))
        self.assertLessEqual({e["subject"] for e in held}, {e["subject"] for e in again})
        return proc, again

    def run_partial(self, mode, batch_size, concurrency, acked_requests, once=False):
        expected = self.expected()
        cfg = self.config(mode, batch_size, concurrency)
        args = ("--once",) if once else ()
        acked, held = self.kill_after_acks(cfg, acked_requests, concurrency, args)
        per_request = batch_size if mode == "batch" else 1
        self.assertEqual(len(acked), acked_requests * per_request)
        self.assertEqual(len(held), concurrency * per_request)
        # The journal names exactly the acknowledged events (each request's ack was written
        # before its worker sent the next one).
        day = (dt.date.fromisoformat(DAY) - dt.date(1970, 1, 1)).days
        self.assertEqual(journal_ids(self.journal), {(day, uuid_hex(e["id"])) for e in acked})
        proc, again = self.check_restart(expected, acked, held, cfg, args, once)
        records = self.records()
        loaded = [r for r in records if r.get("msg", "").startswith("journal loaded")]
        self.assertTrue(loaded, "the restart says what the journal holds")
        self.assertEqual(loaded[0]["events"], len(acked))
        if once:
            done = [r for r in records if r.get("msg") == "done"][-1]
            self.assertEqual(done["journalled"], len(acked))
            self.assertEqual(done["delivered"], len(again))
        else:
            self.assertEqual(self.metric('aws_billing_source_events_skipped_total{reason="journalled"}'),
                             len(acked))
            self.assertGreaterEqual(self.metric("aws_billing_source_journal_records_total"), 1)
            proc.send_signal(signal.SIGTERM)
            self.assertEqual(proc.wait(timeout=30), 0)
        # The checkpoint moved past the day: the journal is gone.
        self.assertFalse(os.path.exists(self.journal), "the journal is truncated with the checkpoint")
        print("PARTIAL-RESULT " + json.dumps({
            "mode": mode, "once": once, "acknowledged_before_kill": len(acked),
            "in_flight_at_kill": len(held), "sent_after_restart": len(again),
            "acknowledged_sent_again": 0}), flush=True)

    def test_binary_service_sends_only_unacknowledged_events_after_a_kill(self):
        self.run_partial("binary", 1, 4, acked_requests=12)

    def test_structured_service_sends_only_unacknowledged_events_after_a_kill(self):
        self.run_partial("structured", 1, 3, acked_requests=7)

    def test_batch_service_sends_only_unacknowledged_events_after_a_kill(self):
        self.run_partial("batch", 5, 2, acked_requests=3)

    def test_once_sends_only_unacknowledged_events_after_a_kill(self):
        self.run_partial("binary", 1, 4, acked_requests=9, once=True)

    def test_dead_lettered_events_are_not_sent_again(self):
        """A 400 dead-letters events: settled too, journalled, never sent again after a kill."""
        expected = self.expected()
        cfg = self.config("binary", 1, 2)
        self.receiver.control(reset=True)
        self.receiver.control(fail=5, status=400)
        self.receiver.control(holdAfter=3)
        proc = self.start(cfg)
        self.wait("2 requests held", lambda: len(self.receiver.received()["held"]) >= 2, proc=proc)
        time.sleep(0.3)
        got = self.receiver.received()
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        self.receiver.control(holdAfter=None)
        with open(os.path.join(self.state_dir, "dead-letter.jsonl")) as f:
            dead = [json.loads(line) for line in f]
        self.assertEqual(len(dead), 5)
        self.assertEqual(got["failed"], 5)
        requests_before = got["requests"]
        self.check_restart(expected, got["events"], got["held"], cfg, dead=dead)
        # No request carried a dead-lettered event again.
        with open(os.path.join(self.state_dir, "dead-letter.jsonl")) as f:
            self.assertEqual(len(f.readlines()), 5, "nothing dead-lettered twice")
        after = self.receiver.received()
        self.assertEqual(after["requests"] - requests_before, SERVICES - 3 - 5)

    def test_a_corrupt_tail_is_logged_and_ignored(self):
        expected = self.expected()
        cfg = self.config("binary", 1, 4)
        acked, held = self.kill_after_acks(cfg, 10, 4)
        _, size = read_journal(self.journal)
        # A crash in the middle of a write (a power loss: pages reach the disk in any order): a
        # record header promising more bytes than made it, where the next record goes.
        with open(self.journal, "r+b") as f:
            f.seek(size)
            f.write(struct.pack("<II", 20, 0xDEADBEEF) + b"\x01\x02\x03")
        proc, again = self.check_restart(expected, acked, held, cfg)
        warned = [r for r in self.records() if r.get("msg", "").startswith("journal: a torn or corrupt tail")]
        self.assertEqual(len(warned), 1, "the tail is logged")
        self.assertEqual(warned[0]["level"], "warn")
        self.assertEqual(warned[0]["tail"], "torn")
        self.assertEqual(warned[0]["ignored_bytes"], 11)
        self.assertEqual(warned[0]["kept_records"], 10)
        self.assertIn(f"at byte {size}", warned[0]["problem"])
        proc.send_signal(signal.SIGTERM)
        self.assertEqual(proc.wait(timeout=30), 0)

        # Garbage that is not a journal at all: not trusted, logged, the run goes on (every
        # event of the day is sent again: duplicates, never a loss).
        self.receiver.control(reset=True)
        os.unlink(os.path.join(self.state_dir, "state.json"))
        with open(self.journal, "wb") as f:
            f.write(b"not a journal\n" * 10)
        proc = self.start(cfg)
        self.wait("the checkpoint", lambda: read_checkpoint(self.tmp) == DAY, proc=proc)
        self.wait("all events", lambda: len(self.receiver.received()["events"]) >= SERVICES, proc=proc)
        warned = [r for r in self.records() if r.get("msg", "").startswith("journal: a torn or corrupt tail")]
        self.assertEqual([w["tail"] for w in warned], ["bad_header"])
        proc.send_signal(signal.SIGTERM)
        self.assertEqual(proc.wait(timeout=30), 0)

    def test_a_dry_run_never_touches_the_journal(self):
        self.expected()  # a dry run into an empty state_dir: no journal (checked there)
        cfg = self.config("binary", 1, 4)
        acked, _ = self.kill_after_acks(cfg, 6, 4)
        with open(self.journal, "rb") as f:
            before = f.read()
        before_stat = os.stat(self.journal)
        for args in (["--once", "--dry-run"], ["--once", "--dry-run", "--date", DAY]):
            r = subprocess.run([BINARY, "--config", cfg, *args], env=self.env, capture_output=True, timeout=120)
            self.assertEqual(r.returncode, 0, r.stderr.decode())
            # Every event printed: a dry run skips nothing.
            self.assertEqual(len(r.stdout.decode().splitlines()), SERVICES)
        # The service's dry run too.
        log = os.path.join(self.tmp, "dry-service.log")
        with open(log, "wb") as f:
            proc = self.procs.start([BINARY, "--config", cfg, "--dry-run"], env=self.env,
                                    stdout=subprocess.DEVNULL, stderr=f)
        self.wait("the dry run's pull", lambda: os.path.exists(log) and '"pull done"' in read_text(log), proc=proc)
        proc.send_signal(signal.SIGTERM)
        self.assertEqual(proc.wait(timeout=30), 0)
        with open(self.journal, "rb") as f:
            self.assertEqual(f.read(), before, "the journal is unchanged")
        self.assertEqual(os.stat(self.journal).st_mtime_ns, before_stat.st_mtime_ns)
        self.assertEqual(len(journal_ids(self.journal)), len(acked))


if __name__ == "__main__":
    main()

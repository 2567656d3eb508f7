"""End to end: moto (SigV4 verification on, several pages, several days) -> the binary -> the Node
CloudEvents receiver, in each delivery mode; nothing lost when the receiver is down or the
process is killed; restatement; graceful shutdown."""
import datetime as dt
import os
import signal
import time

from support import moto, service, sink
from support.env import BINARY, main
from support.procs import free_port, wait_for_port
from support.service import ServiceTestCase

SPECIAL = ["Amazon Simple Storage Service", 'Quote "double" & \'single\'', "Slash/And\\Backslash",
           "Café – Zürich 東京", "Percent 100% %41", "Space  Tab\tEnd", "AWS Lambda"]


class EndToEnd(ServiceTestCase):
    def setUp(self):
        super().setUp()
        self.url, self.key_id, self.secret = moto.start_with_user(self.procs, self.tmp)
        self.env = service.aws_env(self.key_id, self.secret)
        self.today = service.utc_today()

    def days(self, first_offset, last_offset):
        return [self.today + dt.timedelta(days=o) for o in range(first_offset, last_offset + 1)]

    def seed(self, days_groups, page_size=4, estimated=False):
        moto.seed(self.url, moto.result_pages(days_groups, page_size, estimated))

    def special_days(self, first_offset=-3):
        days = self.days(first_offset, -1)
        return [(d, [moto.group(s, f"{i}.{n:010d}") for n, s in enumerate(SPECIAL)])
                for i, d in enumerate(days)]

    def config(self, target, extra="", http_port=None):
        return service.service_config(self.tmp, target, self.url, http_port, extra)

    def once(self, cfg, first, last, *more):
        return service.run_once(["--config", cfg, "--once", "--from", first.isoformat(), "--to",
                                 last.isoformat(), *more], self.env)

    def expected(self, days_groups):
        return {(f"{d.isoformat()}/{g['Keys'][0]}", g["Metrics"]["UnblendedCost"]["Amount"])
                for d, groups in days_groups for g in groups}

    def test_every_mode_delivers_every_group_of_every_page(self):
        receiver = sink.Receiver(self.procs).start()
        days_groups = self.special_days()
        self.seed(days_groups, page_size=4)  # 21 groups over 6 pages
        ids_by_mode = {}
        for mode in ("binary", "structured", "batch"):
            receiver.control(reset=True)
            cfg = self.config(receiver.url, f"delivery: {{mode: {mode}, batch_size: 5}}\n")
            # moto answers the same request body with the same pages: no re-seeding per mode.
            r = self.once(cfg, days_groups[0][0], days_groups[-1][0])
            self.assertEqual(r.returncode, 0, r.stderr.decode())
            got = receiver.received()
            self.assertEqual(got["errors"], [], mode)
            events = got["events"]
            self.assertEqual(len(events), 21, mode)
            self.assertTrue(all(e["mode"] == mode for e in events))
            seen = {(e["subject"], e["data"]["unblendedCost"]["amount"]) for e in events}
            self.assertEqual(seen, self.expected(days_groups), mode)
            for e in events:
                self.assertEqual(e["specversion"], "1.0")
                self.assertEqual(e["source"], "cloud.aws.billing")
                self.assertEqual(e["type"], "aws.service.daily")
                self.assertEqual(e["datacontenttype"], "application/json")
                self.assertIs(e["estimated"], False)
                self.assertEqual(e["data"]["service"], e["subject"].split("/", 1)[1])
                self.assertEqual(e["data"]["date"], e["subject"].split("/", 1)[0])
                self.assertEqual(set(e["data"]), {"date", "service", "amortizedCost", "blendedCost",
                                                  "netAmortizedCost", "netUnblendedCost",
                                                  "unblendedCost"})
            ids_by_mode[mode] = {e["subject"]: e["id"] for e in events}
            self.assertEqual(len(set(ids_by_mode[mode].values())), 21)
        # The same data gives the same ids, whatever the mode and however often it runs.
        self.assertEqual(ids_by_mode["binary"], ids_by_mode["structured"])
        self.assertEqual(ids_by_mode["binary"], ids_by_mode["batch"])

    def test_the_same_run_twice_gives_the_same_ids(self):
        receiver = sink.Receiver(self.procs).start()
        days_groups = self.special_days(-2)
        self.seed(days_groups)
        cfg = self.config(receiver.url)
        for _ in range(2):
            r = self.once(cfg, days_groups[0][0], days_groups[-1][0])
            self.assertEqual(r.returncode, 0, r.stderr.decode())
        events = receiver.received()["events"]
        self.assertEqual(len(events), 28)
        by_subject = {}
        for e in events:
            by_subject.setdefault(e["subject"], set()).add(e["id"])
        self.assertTrue(all(len(ids) == 1 for ids in by_subject.values()))

    def test_once_moves_the_checkpoint_only_over_the_next_days(self):
        receiver = sink.Receiver(self.procs).start()
        old = self.days(-10, -9)
        self.seed([(d, [moto.group("A", "1")]) for d in old])
        cfg = self.config(receiver.url)
        r = self.once(cfg, old[0], old[-1])
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        self.assertIsNone(service.read_checkpoint(self.tmp))  # a backfill is not the service's next day
        recent = self.days(-2, -1)
        self.seed([(d, [moto.group("A", "1")]) for d in recent])
        r = self.once(cfg, recent[0], recent[-1])
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        self.assertEqual(service.read_checkpoint(self.tmp), recent[-1].isoformat())

    def test_receiver_down_at_pull_time_then_up_loses_nothing(self):
        receiver = sink.Receiver(self.procs)  # not started: connections are refused
        yesterday = self.today - dt.timedelta(days=1)
        days_groups = [(yesterday, [moto.group(s, "2.5") for s in SPECIAL])]
        self.seed(days_groups)
        http_port = free_port()
        cfg = self.config(receiver.url, "delivery: {timeout: 2s}\n", http_port)
        svc = self.procs.start([BINARY, "--config", cfg], env=self.env)
        wait_for_port(http_port, proc=svc)
        time.sleep(2.5)  # the service pulled at start and retries delivery
        self.assertIsNone(service.read_checkpoint(self.tmp))
        receiver.start()
        got = receiver.wait_for(len(SPECIAL), timeout=60)
        self.assertEqual({e["subject"] for e in got["events"]},
                         {s for s, _ in self.expected(days_groups)})
        deadline = time.monotonic() + 10
        while service.read_checkpoint(self.tmp) is None and time.monotonic() < deadline:
            time.sleep(0.1)
        self.assertEqual(service.read_checkpoint(self.tmp), yesterday.isoformat())
        svc.send_signal(signal.SIGTERM)
        self.assertEqual(svc.wait(timeout=10), 0)

    def test_restated_amount_produces_exactly_one_new_event(self):
        receiver = sink.Receiver(self.procs).start()
        yesterday = self.today - dt.timedelta(days=1)
        day1 = [moto.group(s, "1.0000000000") for s in ("A", "B", "C")]
        self.seed([(yesterday, day1)])
        cfg = self.config(receiver.url, "restate_days: 2\n")
        # First start: pulls yesterday (no checkpoint yet) and keeps its digests.
        svc = self.procs.start([BINARY, "--config", cfg], env=self.env)
        receiver.wait_for(3)
        deadline = time.monotonic() + 10
        while service.read_checkpoint(self.tmp) is None and time.monotonic() < deadline:
            time.sleep(0.1)
        svc.send_signal(signal.SIGTERM)
        self.assertEqual(svc.wait(timeout=10), 0)
        first_ids = {e["subject"]: e["id"] for e in receiver.received()["events"]}

        # A day later: yesterday is restated (B changed), today is new; one request for both.
        receiver.control(reset=True)
        restated = [moto.group("A", "1.0000000000"), moto.group("B", "1.2500000000"),
                    moto.group("C", "1.0000000000")]
        self.seed([(yesterday, restated), (self.today, [moto.group("A", "3.0000000000")])])
        tomorrow = self.today + dt.timedelta(days=1)
        env = dict(self.env, SAB_FAKE_NOW=f"{tomorrow.isoformat()}T00:00:30Z")
        svc = self.procs.start([BINARY, "--config", cfg], env=env)
        receiver.wait_for(2)
        time.sleep(1)
        events = receiver.received()["events"]
        svc.send_signal(signal.SIGTERM)
        self.assertEqual(svc.wait(timeout=10), 0)
        subjects = sorted(e["subject"] for e in events)
        self.assertEqual(subjects, [f"{yesterday.isoformat()}/B", f"{self.today.isoformat()}/A"])
        changed = next(e for e in events if e["subject"].endswith("/B"))
        self.assertEqual(changed["data"]["unblendedCost"]["amount"], "1.2500000000")
        self.assertNotEqual(changed["id"], first_ids[f"{yesterday.isoformat()}/B"])
        self.assertEqual(service.read_checkpoint(self.tmp), self.today.isoformat())

    def test_sigkill_mid_delivery_then_restart_loses_nothing(self):
        receiver = sink.Receiver(self.procs).start()
        yesterday = self.today - dt.timedelta(days=1)
        services = [f"Service {n:03d}" for n in range(600)]
        self.seed([(yesterday, [moto.group(s, f"{n}.5") for n, s in enumerate(services)])],
                  page_size=100)
        cfg = self.config(receiver.url, "delivery: {concurrency: 1, timeout: 2s}\n")
        svc = self.procs.start([BINARY, "--config", cfg], env=self.env)
        receiver.wait_for(50, timeout=60)
        # Stall the rest, so the kill surely lands in the middle of the day's delivery.
        receiver.control(fail=1000000, status=503)
        time.sleep(0.3)
        os.kill(svc.pid, signal.SIGKILL)
        svc.wait(timeout=10)
        before = receiver.received()["events"]
        self.assertLess(len(before), len(services))
        self.assertIsNone(service.read_checkpoint(self.tmp))

        receiver.control(fail=0)
        svc = self.procs.start([BINARY, "--config", cfg], env=self.env)
        deadline = time.monotonic() + 60
        while service.read_checkpoint(self.tmp) is None and time.monotonic() < deadline:
            time.sleep(0.1)
        self.assertEqual(service.read_checkpoint(self.tmp), yesterday.isoformat())
        svc.send_signal(signal.SIGTERM)
        self.assertEqual(svc.wait(timeout=10), 0)
        events = receiver.received()["events"]
        ids = {}
        for e in events:
            ids.setdefault(e["subject"], set()).add(e["id"])
        self.assertEqual(set(ids), {f"{yesterday.isoformat()}/{s}" for s in services})
        # Re-delivered events carry the same ids: a sink can drop the duplicates.
        self.assertTrue(all(len(v) == 1 for v in ids.values()))

    def test_sigterm_during_a_stuck_delivery_exits_0_and_keeps_the_day_pending(self):
        receiver = sink.Receiver(self.procs).start()
        receiver.control(fail=100000, status=503)
        yesterday = self.today - dt.timedelta(days=1)
        self.seed([(yesterday, [moto.group("A", "1")])])
        http_port = free_port()
        cfg = self.config(receiver.url, "shutdown_timeout: 1s\ndelivery: {timeout: 1s}\n", http_port)
        svc = self.procs.start([BINARY, "--config", cfg], env=self.env)
        wait_for_port(http_port, proc=svc)
        deadline = time.monotonic() + 20
        while receiver.received()["failed"] < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        started = time.monotonic()
        svc.send_signal(signal.SIGTERM)
        self.assertEqual(svc.wait(timeout=15), 0)
        self.assertLess(time.monotonic() - started, 4.0)
        self.assertIsNone(service.read_checkpoint(self.tmp))
        err = svc.stderr.read().decode()
        self.assertIn("shutdown timeout passed", err)


if __name__ == "__main__":
    main()

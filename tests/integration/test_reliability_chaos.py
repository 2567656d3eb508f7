"""Fault injection: the service across many simulated days behind a chaos proxy on both sides
(Cost Explorer fake and the CloudEvents receiver), then 50+ SIGKILLs at random points, chaos proxy
on. Zero events lost; the checkpoint never ahead of what was acknowledged; duplicates (same ids)
bounded: only what was in flight at a kill (concurrency x events per request) and what the proxy
itself made the service send twice (a request truncated after the receiver acted on it)."""
import datetime as dt
import json
import os
import random
import signal
import subprocess
import time
import urllib.request

from support import ce_fake, chaos_proxy, service, sink
from support.env import BINARY, main
from support.procs import free_port, wait_for_port
from support.journal import read_journal
from support.service import ServiceTestCase

DAY0 = dt.date(2024, 3, 1)
SEED = int(os.environ.get("SAB_CHAOS_SEED", "20240301"))
CONCURRENCY = 4
# Before the journal (docs/reliability.md): 50 kills, 40 services a day, no proxy: 120 duplicates.
DOCUMENTED_BEFORE = {"kills": 50, "services": 40, "duplicates": 120}


def fake_now(day):
    return f"{day.isoformat()}T00:00:30Z"


class Chaos(ServiceTestCase):
    def start_proxy(self, upstream, seed, rate):
        stats = os.path.join(self.tmp, f"proxy-{upstream}.json")
        return chaos_proxy.start(self.procs, upstream, seed, rate, stats), stats

    def setUp(self):
        super().setUp()
        self.ce_port = self.start_ce(40)
        self.receiver = sink.Receiver(self.procs).start()
        self.env = service.aws_env("AKIACHAOSTESTKEY0001", "chaos-secret-value-0001")
        self.state_dir = os.path.join(self.tmp, "state")

    def start_ce(self, services, page_size=30):
        _, _, info = ce_fake.start(self.procs, "--services", str(services), "--page-size", str(page_size))
        return info["port"]

    def config(self, target, endpoint, http_port, name="config.yml", timeout="2s"):
        return service.write_config(self.tmp, f"""target: {target}
endpoint: {endpoint}
state_dir: {self.state_dir}
listen: 127.0.0.1:{http_port}
catch_up_days: 60
delivery: {{timeout: {timeout}, concurrency: {CONCURRENCY}}}
log: {{format: json}}
""", name)

    def checkpoint(self):
        path = os.path.join(self.state_dir, "state.json")
        if not os.path.exists(path):
            return None
        with open(path, encoding="utf-8") as f:
            return json.load(f).get("checkpoint")

    def expected(self, first, last, ce_port=None):
        """subject -> id, from a dry run straight against the fake (no chaos)."""
        cfg = self.config("http://127.0.0.1:1/", f"http://127.0.0.1:{ce_port or self.ce_port}", free_port(),
                          "dry.yml")
        env = dict(self.env, SAB_FAKE_NOW=fake_now(last + dt.timedelta(days=1)))
        r = subprocess.run([BINARY, "--config", cfg, "--once", "--dry-run", "--from",
                            first.isoformat(), "--to", last.isoformat()], env=env,
                           capture_output=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        events = [json.loads(line) for line in r.stdout.decode().splitlines()]
        return {e["subject"]: e["id"] for e in events}

    def pulls(self, http_port):
        text = urllib.request.urlopen(f"http://127.0.0.1:{http_port}/metrics", timeout=5).read().decode()
        total = 0
        for line in text.splitlines():
            if line.startswith("aws_billing_source_pulls_total{"):
                total += float(line.rsplit(" ", 1)[1])
        return total

    def run_day(self, cfg, http_port, day, timeout=180, env=None):
        """Starts the service 'at' day (00:00:30 UTC); it catches up at once; stops it gracefully."""
        log = open(os.path.join(self.tmp, f"service-{day.isoformat()}.log"), "ab")
        svc = self.procs.start([BINARY, "--config", cfg],
                               env=dict(env or self.env, SAB_FAKE_NOW=fake_now(day)),
                               stdout=subprocess.DEVNULL, stderr=log)
        log.close()
        wait_for_port(http_port, proc=svc)
        deadline = time.monotonic() + timeout
        while self.pulls(http_port) < 1:
            if time.monotonic() > deadline:
                with open(os.path.join(self.tmp, f"service-{day.isoformat()}.log")) as f:
                    self.fail("no pull finished in time; the service said:\n" + f.read()[-3000:])
            time.sleep(0.1)
        svc.send_signal(signal.SIGTERM)
        self.assertEqual(svc.wait(timeout=60), 0)

    def check_checkpoint_behind_acks(self, expected):
        cp = self.checkpoint()
        if cp is None:
            return
        got = {e["subject"] for e in self.receiver.received()["events"]}
        missing = [s for s in expected if s.split("/", 1)[0] <= cp and s not in got]
        self.assertEqual(missing, [], f"checkpoint {cp} is ahead of acknowledged events")

    def verify(self, expected, label):
        events = self.receiver.received()["events"]
        self.assertEqual(self.receiver.received()["errors"], [])
        ids = {}
        for e in events:
            ids.setdefault(e["subject"], []).append(e["id"])
        lost = sorted(set(expected) - set(ids))
        self.assertEqual(lost, [], f"{label}: events lost")
        wrong = [s for s, v in ids.items() if s in expected and set(v) != {expected[s]}]
        self.assertEqual(wrong, [], f"{label}: ids differ from the expected ones")
        duplicates = len(events) - len(ids)
        return {"expected": len(expected), "received": len(events), "duplicates": duplicates,
                "lost": len(lost)}

    def test_many_days_behind_a_chaos_proxy_lose_nothing(self):
        days = int(os.environ.get("SAB_CHAOS_DAYS", "10"))
        ce_proxy, ce_stats = self.start_proxy(self.ce_port, SEED, 0.2)
        sink_proxy, sink_stats = self.start_proxy(self.receiver.port, SEED + 1, 0.2)
        http_port = free_port()
        # The timeout stays well above the proxy's longest delay (1.5 s), so a slow answer is
        # never sent twice: the duplicates are the truncated answers' only.
        cfg = self.config(f"http://127.0.0.1:{sink_proxy}/", f"http://127.0.0.1:{ce_proxy}", http_port,
                          timeout="5s")
        expected = self.expected(DAY0 - dt.timedelta(days=1), DAY0 + dt.timedelta(days=days - 1))
        for i in range(days):
            self.run_day(cfg, http_port, DAY0 + dt.timedelta(days=i))
            self.check_checkpoint_behind_acks(expected)
        # One last day without faults delivers whatever the faults held back.
        clean = self.config(self.receiver.url, f"http://127.0.0.1:{self.ce_port}", http_port, "clean.yml")
        self.run_day(clean, http_port, DAY0 + dt.timedelta(days=days))
        self.assertEqual(self.checkpoint(), (DAY0 + dt.timedelta(days=days - 1)).isoformat())
        result = self.verify(expected, "chaos")
        with open(ce_stats) as f:
            result["cost_explorer_faults"] = json.load(f)
        with open(sink_stats) as f:
            result["sink_faults"] = json.load(f)
        # No kill here (every stop is a SIGTERM): the only duplicates are the proxy's own, a
        # request the receiver acted on whose answer was truncated (the service retries it).
        result["duplicate_bound"] = result["sink_faults"]["truncate"]
        print("CHAOS-RESULT " + json.dumps(result), flush=True)
        self.assertLessEqual(result["duplicates"], result["duplicate_bound"],
                             "duplicates beyond the proxy's truncated answers")

    def kill_run(self, label, services, kills, journal=True):
        """`kills` SIGKILLs at random points, chaos proxy on both sides (20% faults), the
        simulated day moving on every third kill, then a clean run. Returns the figures."""
        rng = random.Random(SEED)
        self.state_dir = os.path.join(self.tmp, label)
        ce_port = self.start_ce(services, page_size=100)
        ce_proxy, ce_stats = self.start_proxy(ce_port, SEED + 2, 0.2)
        sink_proxy, sink_stats = self.start_proxy(self.receiver.port, SEED + 3, 0.2)
        self.receiver.control(reset=True)
        env = dict(self.env)
        if not journal:
            env["SAB_JOURNAL"] = "off"  # today's behaviour, for the figure before the journal
        http_port = free_port()
        # A timeout well above the proxy's longest delay (1.5 s): a request is sent twice only
        # because of a kill or a truncated answer, never because the receiver was slow.
        cfg = self.config(f"http://127.0.0.1:{sink_proxy}/", f"http://127.0.0.1:{ce_proxy}", http_port,
                          f"{label}.yml", timeout="10s")
        last_day = DAY0 + dt.timedelta(days=(kills - 1) // 3 + 1)  # a day after the last kill
        expected = self.expected(DAY0 - dt.timedelta(days=1), last_day - dt.timedelta(days=1), ce_port)
        # A checkpoint from the start: a day that no run finishes is caught up later, never
        # skipped (without any checkpoint, a service starts with yesterday only).
        os.makedirs(self.state_dir)
        with open(os.path.join(self.state_dir, "state.json"), "w") as f:
            json.dump({"version": 1, "checkpoint": (DAY0 - dt.timedelta(days=2)).isoformat(), "digests": {}}, f)
        killed_mid_pull = checkpoint_moves = 0
        for k in range(kills):
            day = DAY0 + dt.timedelta(days=k // 3)
            before = self.checkpoint()
            with open(os.path.join(self.state_dir + "-kills.log"), "ab") as log:
                svc = self.procs.start([BINARY, "--config", cfg], env=dict(env, SAB_FAKE_NOW=fake_now(day)),
                                       stdout=subprocess.DEVNULL, stderr=log)
            time.sleep(rng.uniform(0.0, 1.5))
            os.kill(svc.pid, signal.SIGKILL)
            svc.wait(timeout=10)
            cp = self.checkpoint()
            if cp is None or cp < (day - dt.timedelta(days=1)).isoformat():
                killed_mid_pull += 1
            if cp != before:
                checkpoint_moves += 1  # the journal was truncated (or removed) in that run
            self.check_checkpoint_behind_acks(expected)
            journal = os.path.join(self.state_dir, "acks.journal")
            if os.path.exists(journal):
                read_journal(journal)  # whole records only: a kill never tears one
        with open(sink_stats) as f:
            sink_faults = json.load(f)
        clean = self.config(self.receiver.url, f"http://127.0.0.1:{ce_port}", http_port, f"{label}-clean.yml")
        self.run_day(clean, http_port, last_day, env=env)
        self.assertEqual(self.checkpoint(), (last_day - dt.timedelta(days=1)).isoformat())
        result = self.verify(expected, label)
        result.update(kills=kills, services=services, killed_before_the_day_was_done=killed_mid_pull,
                      checkpoint_moves=checkpoint_moves, journal=journal,
                      sink_truncations=sink_faults["truncate"],
                      duplicates_per_kill=round(result["duplicates"] / kills, 2),
                      # At most this many come from the kills (the rest: truncated answers).
                      duplicates_beyond_truncations=max(0, result["duplicates"] - sink_faults["truncate"]))
        with open(ce_stats) as f:
            result["cost_explorer_faults"] = json.load(f)
        result["sink_faults"] = sink_faults
        # In flight at a kill: one request per connection, one event per request (binary mode).
        result["duplicate_bound"] = kills * CONCURRENCY * 1 + sink_faults["truncate"]
        return result

    def test_sigkill_at_random_points_loses_nothing(self):
        kills = int(os.environ.get("SAB_CHAOS_KILLS", "50"))
        services = int(os.environ.get("SAB_KILL_SERVICES", "300"))
        after = self.kill_run("journal", services, kills)
        result = {"after": after, "before_documented": DOCUMENTED_BEFORE}
        if os.environ.get("SAB_KILL_BASELINE") == "1":
            # The same run without the journal (SAB_JOURNAL=off): today's duplicates, measured.
            result["before_measured"] = self.kill_run("baseline", services, kills, journal=False)
        print("KILL-RESULT " + json.dumps(result), flush=True)
        self.assertEqual(after["lost"], 0)
        self.assertLessEqual(after["duplicates"], after["duplicate_bound"],
                             "more duplicates than what was in flight at the kills")


if __name__ == "__main__":
    main()

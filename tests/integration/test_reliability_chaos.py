"""Fault injection: the service across many simulated days behind a chaos proxy on both sides
(Cost Explorer fake and the CloudEvents receiver), then 50+ SIGKILLs at random points. Zero events
lost; duplicates counted (same ids); the checkpoint never ahead of what was acknowledged."""
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
from support.service import ServiceTestCase

DAY0 = dt.date(2024, 3, 1)
SEED = int(os.environ.get("SAB_CHAOS_SEED", "20240301"))


def fake_now(day):
    return f"{day.isoformat()}T00:00:30Z"


class Chaos(ServiceTestCase):
    def start_proxy(self, upstream, seed, rate):
        stats = os.path.join(self.tmp, f"proxy-{upstream}.json")
        return chaos_proxy.start(self.procs, upstream, seed, rate, stats), stats

    def setUp(self):
        super().setUp()
        _, _, info = ce_fake.start(self.procs, "--services", "40", "--page-size", "30")
        self.ce_port = info["port"]
        self.receiver = sink.Receiver(self.procs).start()
        self.env = service.aws_env("AKIACHAOSTESTKEY0001", "chaos-secret-value-0001")

    def config(self, target, endpoint, http_port, name="config.yml"):
        return service.write_config(self.tmp, f"""target: {target}
endpoint: {endpoint}
state_dir: {self.tmp}/state
listen: 127.0.0.1:{http_port}
catch_up_days: 60
delivery: {{timeout: 2s, concurrency: 4}}
log: {{format: json}}
""", name)

    def expected(self, first, last):
        """subject -> id, from a dry run straight against the fake (no chaos)."""
        cfg = self.config("http://127.0.0.1:1/", f"http://127.0.0.1:{self.ce_port}", free_port(),
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

    def run_day(self, cfg, http_port, day, timeout=180):
        """Starts the service 'at' day (00:00:30 UTC); it catches up at once; stops it gracefully."""
        log = open(os.path.join(self.tmp, f"service-{day.isoformat()}.log"), "ab")
        svc = self.procs.start([BINARY, "--config", cfg], env=dict(self.env, SAB_FAKE_NOW=fake_now(day)),
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
        cp = service.read_checkpoint(self.tmp)
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
        cfg = self.config(f"http://127.0.0.1:{sink_proxy}/", f"http://127.0.0.1:{ce_proxy}", http_port)
        expected = self.expected(DAY0 - dt.timedelta(days=1), DAY0 + dt.timedelta(days=days - 1))
        for i in range(days):
            self.run_day(cfg, http_port, DAY0 + dt.timedelta(days=i))
            self.check_checkpoint_behind_acks(expected)
        # One last day without faults delivers whatever the faults held back.
        clean = self.config(self.receiver.url, f"http://127.0.0.1:{self.ce_port}", http_port, "clean.yml")
        self.run_day(clean, http_port, DAY0 + dt.timedelta(days=days))
        self.assertEqual(service.read_checkpoint(self.tmp), (DAY0 + dt.timedelta(days=days - 1)).isoformat())
        result = self.verify(expected, "chaos")
        with open(ce_stats) as f:
            result["cost_explorer_faults"] = json.load(f)
        with open(sink_stats) as f:
            result["sink_faults"] = json.load(f)
        print("CHAOS-RESULT " + json.dumps(result), flush=True)

    def test_sigkill_at_random_points_loses_nothing(self):
        kills = int(os.environ.get("SAB_CHAOS_KILLS", "50"))
        rng = random.Random(SEED)
        http_port = free_port()
        cfg = self.config(self.receiver.url, f"http://127.0.0.1:{self.ce_port}", http_port)
        last_day = DAY0 + dt.timedelta(days=(kills - 1) // 3 + 1)  # a day after the last kill
        expected = self.expected(DAY0 - dt.timedelta(days=1), last_day - dt.timedelta(days=1))
        killed_mid_pull = 0
        for k in range(kills):
            day = DAY0 + dt.timedelta(days=k // 3)
            svc = self.procs.start([BINARY, "--config", cfg],
                                   env=dict(self.env, SAB_FAKE_NOW=fake_now(day)),
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(0.0, 0.4))
            os.kill(svc.pid, signal.SIGKILL)
            svc.wait(timeout=10)
            cp = service.read_checkpoint(self.tmp)
            if cp is None or cp < (day - dt.timedelta(days=1)).isoformat():
                killed_mid_pull += 1
            self.check_checkpoint_behind_acks(expected)
        self.run_day(cfg, http_port, last_day)
        self.assertEqual(service.read_checkpoint(self.tmp), (last_day - dt.timedelta(days=1)).isoformat())
        result = self.verify(expected, "kills")
        result.update(kills=kills, killed_before_the_day_was_done=killed_mid_pull)
        print("KILL-RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()

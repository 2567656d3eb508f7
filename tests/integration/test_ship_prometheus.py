"""A real Prometheus server scrapes the running service; its HTTP API finds the service's series,
including the costs after a pull. Also: promtool on /metrics after the pull, the metric names
against the Prometheus conventions, the README's metrics table, the example Grafana dashboard's
queries and the example alerting rules (evaluated by that Prometheus).

Peers: Debian's prometheus 2.42 and promtool, moto's Cost Explorer seeded with yesterday's sample
costs by tests/demo/seed_moto.py, and the demo's display sink. All on 127.0.0.1, free ports.
"""
import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.parse
import urllib.request

from support import moto, ship
from support.env import BINARY, main, require
from support.procs import free_port, wait_for_port
from support.service import ServiceTestCase, write_config

DEMO = ship.source_path("tests", "demo")


def http_get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as res:
        return res.status, res.read().decode()


class PrometheusScrapesTheService(ServiceTestCase):
    def setUp(self):
        super().setUp()
        self.prometheus = shutil.which("prometheus")
        self.promtool = shutil.which("promtool")
        require(self.prometheus and self.promtool, "prometheus and promtool (Debian package prometheus)")

    def start_peers(self):
        # moto's Cost Explorer, seeded by the demo's script with yesterday's sample costs (one page).
        ce_url = moto.start(self.procs, self.tmp)
        seeded = subprocess.run([sys.executable, os.path.join(DEMO, "seed_moto.py"), "--endpoint", ce_url,
                                 "--first", "-1", "--last", "-1"], capture_output=True, timeout=60)
        self.assertEqual(seeded.returncode, 0, seeded.stderr.decode())
        # The display sink (answers 202 to every CloudEvent).
        sink_port = free_port()
        sink = self.procs.start([sys.executable, os.path.join(DEMO, "display_sink.py"), "--port", str(sink_port)],
                                stderr=subprocess.DEVNULL)
        wait_for_port(sink_port, proc=sink)
        # The service, in service mode with no state: it pulls yesterday at start.
        self.port = free_port()
        cfg = write_config(self.tmp, f"target: http://127.0.0.1:{sink_port}/\n"
                                     f"endpoint: {ce_url}\n"
                                     f"state_dir: {self.tmp}/state\n"
                                     f"listen: 127.0.0.1:{self.port}\n"
                                     "log: {format: text}\n")
        env = dict(os.environ, AWS_ACCESS_KEY_ID="AKIADEMODEMODEMODEMO",
                   AWS_SECRET_ACCESS_KEY="demo-secret-not-a-real-key")
        env.pop("AWS_SESSION_TOKEN", None)
        self.service = self.procs.start([BINARY, "--config", cfg], env=env, stdout=subprocess.DEVNULL,
                                        stderr=open(os.path.join(self.tmp, "service.log"), "wb"))
        wait_for_port(self.port, proc=self.service)
        # Prometheus, scraping the service every second and evaluating the example rules.
        self.prom_port = free_port()
        rules = ship.source_path("docs", "prometheus-rules.yaml")
        prom_cfg = write_config(self.tmp, (
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n"
            f"rule_files:\n  - {json.dumps(rules)}\n"
            "scrape_configs:\n  - job_name: source-aws-billing\n    static_configs:\n"
            f"      - targets: ['127.0.0.1:{self.port}']\n"), name="prometheus.yml")
        prom = self.procs.start([self.prometheus, f"--config.file={prom_cfg}",
                                 f"--storage.tsdb.path={self.tmp}/tsdb",
                                 f"--web.listen-address=127.0.0.1:{self.prom_port}"],
                                stdout=subprocess.DEVNULL,
                                stderr=open(os.path.join(self.tmp, "prometheus.log"), "wb"))
        wait_for_port(self.prom_port, timeout=30, proc=prom)
        self.wait_until(lambda: http_get(self.prom_url("/-/ready"))[0] == 200, "Prometheus ready")

    def prom_url(self, path, **query):
        url = f"http://127.0.0.1:{self.prom_port}{path}"
        return url + ("?" + urllib.parse.urlencode(query) if query else "")

    def query(self, expr):
        status, body = http_get(self.prom_url("/api/v1/query", query=expr))
        answer = json.loads(body)
        self.assertEqual(answer["status"], "success", body)
        return answer["data"]["result"]

    def value(self, expr):
        result = self.query(expr)
        return float(result[0]["value"][1]) if result else None

    def wait_until(self, predicate, what, timeout=45):
        deadline = time.monotonic() + timeout
        last_error = None
        while time.monotonic() < deadline:
            try:
                if predicate():
                    return
            except (OSError, ValueError, KeyError, IndexError) as e:
                last_error = e
            time.sleep(0.2)
        self.fail(f"timed out waiting for {what} (last error: {last_error}); "
                  f"service log: {self.log_tail('service.log')}")

    def log_tail(self, name):
        try:
            with open(os.path.join(self.tmp, name), encoding="utf-8", errors="replace") as f:
                return f.read()[-3000:]
        except OSError:
            return "(none)"

    def test_series_before_and_after_a_pull(self):
        self.start_peers()
        seed = moto.seed_moto
        today = dt.datetime.now(dt.timezone.utc).date()
        _, groups = seed.day_groups(seed.load_sample(), -1)

        # The service's own series arrive through a real scrape.
        self.wait_until(lambda: self.value('up{job="source-aws-billing"}') == 1, "up == 1")
        self.wait_until(lambda: self.value('aws_billing_source_pulls_total{result="success"}') == 1,
                        "one successful pull")
        # A scrape after the pull holds all of its counters.
        self.wait_until(lambda: self.value('aws_billing_source_events_total{result="delivered"}') == len(groups),
                        "every event delivered")
        self.assertEqual(self.value('aws_billing_source_pulls_total{result="failure"}'), 0)
        self.assertGreaterEqual(self.value('aws_billing_source_cost_explorer_requests_total'
                                           '{operation="GetCostAndUsage",result="success"}'), 1)
        # Every operation's label sets exist from the start; the default config sends neither
        # GetCostForecast nor GetAnomalies.
        requests = self.query("aws_billing_source_cost_explorer_requests_total")
        self.assertEqual({s["metric"]["operation"] for s in requests},
                         {"GetCostAndUsage", "GetCostForecast", "GetAnomalies"})
        self.assertEqual(len(requests), 3 * 7, "every operation x result")
        self.assertEqual(self.value('sum(aws_billing_source_cost_explorer_requests_total'
                                    '{operation=~"GetCostForecast|GetAnomalies"})'), 0)
        self.assertEqual(self.value("sum(aws_billing_source_insight_errors_total)"), 0)
        self.assertEqual(self.value('aws_billing_source_events_total{result="dead_lettered"}'), 0)
        self.assertEqual(self.value("aws_billing_source_ready"), 1)
        self.assertGreater(self.value("aws_billing_source_last_successful_pull_timestamp_seconds"), 0)
        yesterday = dt.datetime.combine(today - dt.timedelta(days=1), dt.time(), tzinfo=dt.timezone.utc)
        self.assertEqual(self.value("aws_billing_source_checkpoint_timestamp_seconds"), yesterday.timestamp())
        self.assertEqual(len(self.query("aws_billing_source_build_info")), 1)
        self.assertGreaterEqual(self.value("aws_billing_source_cost_explorer_request_duration_seconds_count"), 1)
        self.assertGreaterEqual(self.value("aws_billing_source_delivery_duration_seconds_count"), len(groups))

        # The cost gauge: one series per service and metric, the amounts of the seed.
        costs = self.query("aws_billing_source_cost")
        self.assertEqual(len(costs), len(groups) * len(seed.METRICS))
        got = {(s["metric"]["service"], s["metric"]["metric"]): float(s["value"][1]) for s in costs}
        for service, amounts in groups:
            for metric in seed.METRICS:
                self.assertAlmostEqual(got[(service, metric)], float(amounts[metric]), places=6)
        self.assertTrue(all(s["metric"]["unit"] == "USD" for s in costs))
        self.assertTrue(all(s["metric"]["job"] == "source-aws-billing" for s in costs))

        _, metrics_text = http_get(f"http://127.0.0.1:{self.port}/metrics")
        families = ship.metric_families(metrics_text)

        with self.subTest("promtool check metrics after a pull: no warnings"):
            check = subprocess.run([self.promtool, "check", "metrics"], input=metrics_text.encode(),
                                   capture_output=True, timeout=30)
            output = (check.stdout + check.stderr).decode()
            self.assertEqual(check.returncode, 0, output)
            self.assertEqual(output.strip(), "", "promtool printed warnings")

        with self.subTest("metric names follow the Prometheus conventions"):
            self.assertEqual(ship.naming_problems(families), [])

        with self.subTest("the README's metrics table lists exactly the service's metrics"):
            readme = ship.read("README.md")
            section = readme.split("## Metrics", 1)[1].split("\n## ", 1)[0] if "## Metrics" in readme else ""
            documented = set(re.findall(r"^\| `(aws_billing_source_[a-z_]+)`", section, re.M))
            # Series only with LINKED_ACCOUNT in group_by (this service groups by SERVICE).
            conditional = {"aws_billing_source_account_info"}
            self.assertEqual(documented - conditional, set(families) - conditional,
                             "README ## Metrics table vs /metrics")
            for name, family in families.items():
                row = re.search(rf"^\| `{name}` \| (\w+) \|", section, re.M)
                self.assertEqual(row and row.group(1), family["type"], f"type of {name} in the README")

        with self.subTest("every query of the Grafana dashboard is valid and names known metrics"):
            dashboard = json.loads(ship.read("docs", "grafana-dashboard.json"))
            exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
            self.assertGreater(len(exprs), 5)
            known = set(families) | {f"{n}_{s}" for n in families for s in ("bucket", "sum", "count")}
            for expr in exprs:
                concrete = expr.replace("$__rate_interval", "1m").replace("$job", "source-aws-billing")
                result = self.query(concrete)  # asserts status success
                for name in set(re.findall(r"\baws_billing_source_[a-z_]+", expr)):
                    self.assertIn(name, known, expr)
                del result

        with self.subTest("the example alerting rules load and evaluate without errors"):
            check = subprocess.run([self.promtool, "check", "rules",
                                    ship.source_path("docs", "prometheus-rules.yaml")],
                                   capture_output=True, timeout=30)
            self.assertEqual(check.returncode, 0, (check.stdout + check.stderr).decode())

            def rules_evaluated():
                _, body = http_get(self.prom_url("/api/v1/rules"))
                groups_ = json.loads(body)["data"]["groups"]
                rules = [r for g in groups_ for r in g["rules"]]
                return rules and all(r.get("health") == "ok" and r.get("lastEvaluation", "").startswith("20")
                                     and not r["lastEvaluation"].startswith("0001") for r in rules)
            self.wait_until(rules_evaluated, "every rule evaluated with health ok")
            # Nothing fires for a healthy service that just pulled.
            _, body = http_get(self.prom_url("/api/v1/alerts"))
            firing = [a["labels"]["alertname"] for a in json.loads(body)["data"]["alerts"]
                      if a["state"] == "firing"]
            self.assertEqual(firing, [])


if __name__ == "__main__":
    main()

"""Forecast and anomaly events (forecast.*, anomalies.*), the binary end to end as a service
against the tests' Cost Explorer fake (support/insights_fake.py: moto serves neither operation).
The fake checks every request's SigV4 signature with botocore, every request against botocore's
input shape and every answer against its output shape; each test ends by asserting it found no
problem. SAB_FAKE_NOW pins the service's clock to the days of each case.

Cases: the default config sends neither request; a forecast on a month's last day (the next
month) and on another day; a new account without data (DataUnavailableException: logged, counted,
a /readyz warning, the cost events still delivered); anomalies over two pages, one growing over
three days (three events) and one that does not (one event), with restarts between the pulls
(nothing repeats); every delivery mode through the cloudevents SDK's receiver."""
import json
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request

from support import insights_fake
from support.env import BINARY, main
from support.insights_fake import InsightsFake, anomaly
from support.procs import free_port, stop, wait_for_port
from support.service import ServiceTestCase, aws_env, write_config
from support.sink import Receiver, RecordingSink

KEY_ID = "AKIDEXAMPLEINSIGHTS"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYINSIGHTS"


def metric_value(text, sample):
    """The value of one exact sample line (name and labels as the service writes them)."""
    for line in text.splitlines():
        if line.startswith(sample + " "):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"no sample {sample}")


class Insights(ServiceTestCase):
    def setUp(self):
        super().setUp()
        self.fake = InsightsFake(KEY_ID, SECRET)
        self.addCleanup(self.fake.close)
        self.runs = 0

    def tearDown(self):
        self.assertEqual(self.fake.problems, [], "the fake found requests or answers botocore refuses")
        super().tearDown()

    # --- the service ------------------------------------------------------------------------

    def start(self, now, target, extra="", state="state"):
        """Starts the service with its clock at `now`; returns (process, port, log path)."""
        self.runs += 1
        port = free_port()
        cfg = write_config(self.tmp, f"""target: {target}
endpoint: {self.fake.url}
state_dir: {self.tmp}/{state}
listen: 127.0.0.1:{port}
log: {{format: json, level: debug}}
{extra}""", name=f"config-{self.runs}.yml")
        log_path = os.path.join(self.tmp, f"service-{self.runs}.log")
        with open(log_path, "wb") as log:
            proc = self.procs.start([BINARY, "--config", cfg], env=aws_env(KEY_ID, SECRET, SAB_FAKE_NOW=now),
                                    stdout=subprocess.DEVNULL, stderr=log)
        wait_for_port(port, proc=proc)
        return proc, port, log_path

    def records(self, log_path):
        out = []
        with open(log_path, encoding="utf-8", errors="replace") as f:
            for line in f:
                try:
                    out.append(json.loads(line))
                except ValueError:
                    pass
        return out

    def wait_for_log(self, log_path, msg, proc, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [r for r in self.records(log_path) if r.get("msg") == msg]
            if found:
                return found
            self.assertIsNone(proc.poll(), f"the service exited; log: {self.tail(log_path)}")
            time.sleep(0.1)
        self.fail(f"no '{msg}' in the log after {timeout}s: {self.tail(log_path)}")

    def tail(self, log_path):
        with open(log_path, encoding="utf-8", errors="replace") as f:
            return f.read()[-4000:]

    def get(self, port, path):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def run_day(self, now, target, extra, state="state"):
        """One start of the service at `now`: until its checks are done, then SIGTERM. Returns the
        log records and the /metrics text."""
        proc, port, log_path = self.start(now, target, extra, state)
        self.wait_for_log(log_path, "forecast and anomaly checks done", proc)
        _, metrics = self.get(port, "/metrics")
        stop(proc)
        self.assertEqual(proc.returncode, 0, self.tail(log_path))
        return self.records(log_path), metrics, port

    def receiver(self):
        receiver = Receiver(self.procs).start()
        self.addCleanup(receiver.stop)
        return receiver

    # --- cases -------------------------------------------------------------------------------

    def test_the_default_config_sends_neither_request(self):
        sink = RecordingSink()
        self.addCleanup(sink.close)
        proc, port, log_path = self.start("2024-03-05T03:00:00Z", sink.url)
        self.wait_for_log(log_path, "pull done", proc)
        time.sleep(1)  # time for a request that should not come
        _, metrics = self.get(port, "/metrics")
        stop(proc)
        self.assertEqual(sink.count(), 1, "yesterday's one cost event")
        self.assertEqual({op for op, _ in self.fake.requests}, {"GetCostAndUsage"})
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "state", "insights.json")))
        self.assertNotIn("forecast and anomaly checks done", [r.get("msg") for r in self.records(log_path)])
        # Every operation's series exist from the start, at zero for the unused ones.
        for op in ("GetCostForecast", "GetAnomalies"):
            for result in ("success", "client_error"):
                self.assertEqual(metric_value(
                    metrics, f'aws_billing_source_cost_explorer_requests_total{{operation="{op}",result="{result}"}}'), 0)
        self.assertEqual(metric_value(
            metrics, 'aws_billing_source_cost_explorer_requests_total{operation="GetCostAndUsage",result="success"}'), 1)
        for kind in ("forecast", "anomalies"):
            self.assertEqual(metric_value(metrics, f'aws_billing_source_insight_errors_total{{kind="{kind}"}}'), 0)

    def test_forecast_on_the_last_day_of_a_month_and_on_another_day(self):
        receiver = self.receiver()
        extra = "forecast: {enabled: true}\n"
        records, metrics, _ = self.run_day("2024-02-29T03:00:00Z", receiver.url, extra)
        forecasts = self.fake.operations("GetCostForecast")
        self.assertEqual(len(forecasts), 1)
        self.assertEqual(forecasts[0], {"TimePeriod": {"Start": "2024-03-01", "End": "2024-04-01"},
                                        "Metric": "UNBLENDED_COST", "Granularity": "MONTHLY",
                                        "PredictionIntervalLevel": 80})
        got = receiver.received()
        self.assertEqual(got["errors"], [])
        events = [e for e in got["events"] if e["type"] == "aws.billing.forecast.monthly"]
        self.assertEqual(len(events), 1)
        event = events[0]
        mean, lower, upper = insights_fake.forecast_amounts("2024-03-01")
        self.assertEqual(event["subject"], "2024-03")
        self.assertEqual(event["source"], "cloud.aws.billing")
        self.assertEqual(event["data"], {
            "month": "2024-03", "start": "2024-03-01", "end": "2024-04-01", "metric": "UNBLENDED_COST",
            "mean": {"amount": mean, "unit": "USD"}, "lower": {"amount": lower, "unit": "USD"},
            "upper": {"amount": upper, "unit": "USD"}, "predictionInterval": 80, "madeOn": "2024-02-29"})
        # Delivered after the day's cost events, never beside them.
        types = [e["type"] for e in got["events"]]
        self.assertEqual(types, ["aws.service.daily", "aws.billing.forecast.monthly"])
        self.assertEqual(metric_value(
            metrics, 'aws_billing_source_cost_explorer_requests_total{operation="GetCostForecast",result="success"}'), 1)
        self.assertEqual(self.fake.operations("GetAnomalies"), [])

        # Another day: from that day to the first of next month, with the configured metric and
        # interval; a new id.
        extra = "forecast: {enabled: true, metric: NET_AMORTIZED_COST, prediction_interval: 95}\n"
        self.run_day("2024-03-05T03:00:00Z", receiver.url, extra)
        forecasts = self.fake.operations("GetCostForecast")
        self.assertEqual(len(forecasts), 2)
        self.assertEqual(forecasts[1]["TimePeriod"], {"Start": "2024-03-05", "End": "2024-04-01"})
        self.assertEqual(forecasts[1]["Metric"], "NET_AMORTIZED_COST")
        self.assertEqual(forecasts[1]["PredictionIntervalLevel"], 95)
        events = [e for e in receiver.received()["events"] if e["type"] == "aws.billing.forecast.monthly"]
        self.assertEqual(len(events), 2)
        self.assertEqual(events[1]["subject"], "2024-03")
        self.assertEqual(events[1]["data"]["madeOn"], "2024-03-05")
        self.assertEqual(events[1]["data"]["predictionInterval"], 95)
        self.assertNotEqual(events[0]["id"], events[1]["id"])

    def test_a_new_account_without_data(self):
        self.fake.forecast_error = ("DataUnavailableException", "Insufficient amount of historical data")
        sink = RecordingSink()
        self.addCleanup(sink.close)
        proc, port, log_path = self.start("2024-03-05T03:00:00Z", sink.url, "forecast: {enabled: true}\n")
        self.wait_for_log(log_path, "forecast and anomaly checks done", proc)
        status, body = self.get(port, "/readyz")
        _, metrics = self.get(port, "/metrics")
        stop(proc)
        self.assertEqual(sink.subjects, ["2024-03-04/" + insights_fake.SERVICE], "the cost event went out")
        self.assertEqual(status, 200, body)
        self.assertTrue(body.startswith("ready\nwarning: forecast: "), body)
        self.assertIn("DataUnavailableException", body)
        failed = [r for r in self.records(log_path) if r.get("msg", "").startswith("forecast failed")]
        self.assertEqual(len(failed), 1)
        self.assertIn("GetCostForecast", failed[0]["error"])
        self.assertIn("Insufficient amount of historical data", failed[0]["error"])
        self.assertEqual(metric_value(metrics, 'aws_billing_source_insight_errors_total{kind="forecast"}'), 1)
        self.assertEqual(metric_value(
            metrics, 'aws_billing_source_cost_explorer_requests_total{operation="GetCostForecast",result="client_error"}'), 1)
        self.assertEqual(metric_value(metrics, "aws_billing_source_ready"), 1)
        self.assertEqual(metric_value(metrics, 'aws_billing_source_pulls_total{result="success"}'), 1)
        self.assertEqual(len(self.fake.operations("GetCostForecast")), 1, "a client error is not retried")

    def test_anomalies_grow_over_three_days_across_restarts(self):
        receiver = self.receiver()
        extra = (f"anomalies: {{enabled: true, monitor_arn: '{insights_fake.MONITOR}', min_impact: 5}}\n"
                 "forecast: {enabled: true}\n")
        self.fake.page_size = 1  # two anomalies: two pages
        steady = anomaly("anomaly-steady", "2024-03-01", "2024-03-03", 7.25)
        hidden = [anomaly("anomaly-other-monitor", "2024-03-01", "2024-03-04", 99.0, insights_fake.OTHER_MONITOR),
                  anomaly("anomaly-small", "2024-03-01", "2024-03-04", 2.5)]
        growing = [anomaly("anomaly-growing", "2024-03-02", end, total)
                   for end, total in (("2024-03-04", 10.0), ("2024-03-05", 25.5), ("2024-03-06", 40.125))]

        self.fake.anomalies = [growing[0], steady] + hidden
        self.run_day("2024-03-05T03:00:00Z", receiver.url, extra)
        requests = self.fake.operations("GetAnomalies")
        self.assertEqual(len(requests), 2, "two pages")
        self.assertEqual(requests[0], {"DateInterval": {"StartDate": "2024-02-27"},
                                       "MonitorArn": insights_fake.MONITOR,
                                       "TotalImpact": {"NumericOperator": "GREATER_THAN_OR_EQUAL", "StartValue": 5}})
        self.assertEqual(requests[1]["NextPageToken"], "1")

        self.fake.anomalies = [growing[1], steady] + hidden
        self.run_day("2024-03-06T03:00:00Z", receiver.url, extra)
        # A restart the same day, after losing state.json (so a pull runs at start): the day's
        # checks are done already and nothing repeats.
        os.remove(os.path.join(self.tmp, "state", "state.json"))
        records, _, _ = self.run_day("2024-03-06T05:00:00Z", receiver.url, extra)
        self.assertEqual(len(self.fake.operations("GetAnomalies")), 4)
        self.assertEqual(len(self.fake.operations("GetCostForecast")), 2)

        self.fake.anomalies = [growing[2], steady] + hidden
        _, metrics, _ = self.run_day("2024-03-07T03:00:00Z", receiver.url, extra)
        self.assertEqual(len(self.fake.operations("GetAnomalies")), 6)
        self.assertEqual(self.fake.operations("GetAnomalies")[4]["DateInterval"], {"StartDate": "2024-02-28"})

        got = receiver.received()
        self.assertEqual(got["errors"], [])
        anomalies = [e for e in got["events"] if e["type"] == "aws.billing.anomaly"]
        by_subject = {}
        for e in anomalies:
            by_subject.setdefault(e["subject"], []).append(e)
        self.assertEqual(sorted(by_subject), ["anomaly-growing", "anomaly-steady"])
        self.assertEqual(len(by_subject["anomaly-steady"]), 1)
        grown = by_subject["anomaly-growing"]
        self.assertEqual([e["data"]["anomalyEndDate"] for e in grown], ["2024-03-04", "2024-03-05", "2024-03-06"])
        self.assertEqual([e["data"]["impact"]["totalImpact"] for e in grown], [10.0, 25.5, 40.125])
        self.assertEqual(len({e["id"] for e in anomalies}), 4)
        self.assertEqual(len([e for e in got["events"] if e["type"] == "aws.billing.forecast.monthly"]), 3)
        # data: camelCase of the API's fields, the anomaly whole.
        expected = growing[2]
        data = grown[-1]["data"]
        self.assertEqual(data["anomalyId"], expected["AnomalyId"])
        self.assertEqual(data["anomalyStartDate"], "2024-03-02")
        self.assertEqual(data["dimensionValue"], expected["DimensionValue"])
        self.assertEqual(data["monitorArn"], insights_fake.MONITOR)
        self.assertEqual(data["anomalyScore"], {"maxScore": 0.91, "currentScore": 0.42})
        impact = expected["Impact"]
        self.assertEqual(data["impact"], {"maxImpact": impact["MaxImpact"], "totalImpact": impact["TotalImpact"],
                                          "totalActualSpend": impact["TotalActualSpend"],
                                          "totalExpectedSpend": impact["TotalExpectedSpend"],
                                          "totalImpactPercentage": impact["TotalImpactPercentage"]})
        self.assertEqual(data["rootCauses"], [{"service": "Amazon Elastic Compute Cloud - Compute",
                                               "region": "us-east-1", "linkedAccount": "123456789012",
                                               "linkedAccountName": "Payer", "usageType": "BoxUsage:m5.2xlarge",
                                               "impact": {"contribution": 40.125}}])
        self.assertEqual(metric_value(
            metrics, 'aws_billing_source_cost_explorer_requests_total{operation="GetAnomalies",result="success"}'), 2)
        with open(os.path.join(self.tmp, "state", "insights.json"), encoding="utf-8") as f:
            saved = json.load(f)
        self.assertEqual(saved["anomalies_checked"], "2024-03-07")
        self.assertEqual(saved["forecast_sent"], "2024-03-07")
        self.assertEqual(sorted(saved["anomalies"]), ["anomaly-growing", "anomaly-steady"])
        self.assertEqual(oct(os.stat(os.path.join(self.tmp, "state", "insights.json")).st_mode & 0o777), "0o600")

    def test_every_delivery_mode(self):
        receiver = self.receiver()
        self.fake.page_size = 10
        self.fake.anomalies = [anomaly("anomaly-1", "2024-03-01", "2024-03-04", 12.5),
                               anomaly("anomaly-2", "2024-03-02", "2024-03-04", 30.0)]
        for mode in ("binary", "structured", "batch"):
            with self.subTest(mode=mode):
                receiver.control(reset=True)
                extra = (f"delivery: {{mode: {mode}}}\n"
                         "forecast: {enabled: true}\nanomalies: {enabled: true}\n")
                self.run_day("2024-03-05T03:00:00Z", receiver.url, extra, state=f"state-{mode}")
                got = receiver.received()
                self.assertEqual(got["errors"], [])
                self.assertEqual({e["mode"] for e in got["events"]}, {mode})
                types = [e["type"] for e in got["events"]]
                self.assertEqual(types, ["aws.service.daily", "aws.billing.forecast.monthly",
                                         "aws.billing.anomaly", "aws.billing.anomaly"])
                forecast = got["events"][1]
                self.assertEqual(forecast["subject"], "2024-03")
                self.assertEqual(forecast["datacontenttype"], "application/json")
                self.assertEqual(forecast["data"]["mean"]["amount"], insights_fake.forecast_amounts("2024-03-05")[0])
                self.assertEqual(sorted(e["subject"] for e in got["events"][2:]), ["anomaly-1", "anomaly-2"])
                for e in got["events"][2:]:
                    self.assertEqual(e["data"]["anomalyId"], e["subject"])
        # The same data on the same day gives the same ids in every mode.
        self.assertEqual(len(self.fake.operations("GetAnomalies")), 3)


if __name__ == "__main__":
    shutil.which("node")  # the receiver says what is missing when it is
    main()

"""The Cost Explorer fake of the forecast and anomaly tests (moto implements neither
GetCostForecast nor GetAnomalies): an HTTP server of this process answering GetCostAndUsage (one
service a day), GetCostForecast and GetAnomalies. Nothing is taken on trust:

- every request is signed: the fake signs the same request again with botocore's SigV4 (the
  credentials it was given) and a different Authorization header is refused (403);
- every request body must fit botocore's input shape of its operation, and every answer the
  output shape (botocore's service model `ce`), so a misspelled field fails the test;
- GetAnomalies applies DateInterval (the anomaly's end date), MonitorArn and TotalImpact as AWS
  documents them, and pages its answer (`page_size`, NextPageToken).

`problems` lists whatever did not fit; a test asserts it stays empty."""
import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler

from . import botocore_shapes
from .botocore_sign import botocore_authorization
from .httpd import Server

PREFIX = "AWSInsightsIndexService."
SERVICE = "Amazon Simple Storage Service"
MONITOR = "arn:aws:ce::123456789012:anomalymonitor/8f6e0c9d-1234-4b5c-9d0e-123456789abc"
OTHER_MONITOR = "arn:aws:ce::123456789012:anomalymonitor/00000000-0000-4000-8000-000000000000"


def anomaly(anomaly_id, start, end, total, monitor=MONITOR):
    """One GetAnomalies entry in the API's words."""
    return {
        "AnomalyId": anomaly_id,
        "AnomalyStartDate": start,
        "AnomalyEndDate": end,
        "DimensionValue": "Amazon Elastic Compute Cloud - Compute",
        "RootCauses": [{"Service": "Amazon Elastic Compute Cloud - Compute", "Region": "us-east-1",
                        "LinkedAccount": "123456789012", "LinkedAccountName": "Payer",
                        "UsageType": "BoxUsage:m5.2xlarge", "Impact": {"Contribution": total}}],
        "AnomalyScore": {"MaxScore": 0.91, "CurrentScore": 0.42},
        "Impact": {"MaxImpact": round(total / 2, 2), "TotalImpact": total,
                   "TotalActualSpend": total + 10.5, "TotalExpectedSpend": 10.5,
                   "TotalImpactPercentage": round(total / 10.5 * 100, 2)},
        "MonitorArn": monitor,
    }


def forecast_amounts(start):
    """Mean, lower and upper bound for a forecast from `start` (strings, as AWS sends them)."""
    base = 1000 + int(start.replace("-", "")) % 97
    return f"{base}.123456789", f"{base - 100}.5", f"{base + 100}.75"


class InsightsFake:
    def __init__(self, key_id, secret, region="us-east-1", page_size=1):
        self.key_id, self.secret, self.region = key_id, secret, region
        self.page_size = page_size
        self.lock = threading.Lock()
        self.requests = []   # (operation, body as a dict)
        self.problems = []   # what did not fit botocore's shapes or signature
        self.anomalies = []  # what GetAnomalies knows now (anomaly() dicts)
        self.forecast_error = None  # (type, message): GetCostForecast answers 400 with it
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                status, answer = fake.handle(self.headers, body)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/x-amz-json-1.1")
                if status != 200:
                    self.send_header("x-amzn-ErrorType", answer["__type"])
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = Server(Handler)
        self.url = self.server.url

    def close(self):
        self.server.close()

    def operations(self, name=None):
        with self.lock:
            return [body for op, body in self.requests if name is None or op == name]

    def problem(self, what):
        with self.lock:
            self.problems.append(what)
        return 400, {"__type": "ValidationException", "message": what}

    def signature_problem(self, headers, body):
        auth = headers.get("Authorization", "")
        try:
            expected = botocore_authorization(headers.get("X-Amz-Date", ""), self.url + "/", self.region,
                                              body, headers.get("X-Amz-Security-Token"), self.key_id,
                                              self.secret, headers.get("X-Amz-Target", ""))
        except ValueError as e:
            return f"unsigned request ({e!r})"
        return None if auth == expected else f"signature differs from botocore's: {auth!r} != {expected!r}"

    def handle(self, headers, raw):
        operation = headers.get("X-Amz-Target", "")[len(PREFIX):]
        if headers.get("Content-Type") != "application/x-amz-json-1.1" or not operation:
            return self.problem(f"not a Cost Explorer request: {dict(headers.items())!r}")
        bad_signature = self.signature_problem(headers, raw)
        if bad_signature:
            with self.lock:
                self.problems.append(bad_signature)
            return 403, {"__type": "InvalidSignatureException", "message": "signature mismatch"}
        try:
            body = json.loads(raw)
        except ValueError:
            return self.problem("request body is not JSON")
        bad_input = botocore_shapes.problems(operation, body, "input")
        with self.lock:
            self.requests.append((operation, body))
        if bad_input:
            return self.problem(f"{operation} request does not fit botocore: {bad_input}")
        answer = getattr(self, "answer_" + operation, None)
        if answer is None:
            return self.problem(f"{operation} is not served by this fake")
        status, out = answer(body)
        if status == 200:
            bad_output = botocore_shapes.problems(operation, out, "output")
            if bad_output:
                return self.problem(f"the fake's {operation} answer does not fit botocore: {bad_output}")
        return status, out

    def answer_GetCostAndUsage(self, body):
        start = dt.date.fromisoformat(body["TimePeriod"]["Start"])
        end = dt.date.fromisoformat(body["TimePeriod"]["End"])
        results = []
        day = start
        while day < end:
            metrics = {m: {"Amount": "1.5", "Unit": "USD"} for m in body["Metrics"]}
            results.append({"TimePeriod": {"Start": day.isoformat(), "End": (day + dt.timedelta(days=1)).isoformat()},
                            "Total": {}, "Groups": [{"Keys": [SERVICE], "Metrics": metrics}],
                            "Estimated": False})
            day += dt.timedelta(days=1)
        return 200, {"GroupDefinitions": body.get("GroupBy", []), "ResultsByTime": results,
                     "DimensionValueAttributes": []}

    def answer_GetCostForecast(self, body):
        if self.forecast_error:
            kind, message = self.forecast_error
            return 400, {"__type": kind, "Message": message}
        period = body["TimePeriod"]
        mean, lower, upper = forecast_amounts(period["Start"])
        entry = {"TimePeriod": period, "MeanValue": mean}
        if "PredictionIntervalLevel" in body:
            entry.update(PredictionIntervalLowerBound=lower, PredictionIntervalUpperBound=upper)
        return 200, {"Total": {"Amount": mean, "Unit": "USD"}, "ForecastResultsByTime": [entry]}

    def matching_anomalies(self, body):
        interval = body["DateInterval"]
        start, end = interval["StartDate"][:10], interval.get("EndDate", "9999-12-31")[:10]
        impact = body.get("TotalImpact")
        out = []
        with self.lock:
            known = list(self.anomalies)
        for a in known:
            if not start <= a["AnomalyEndDate"][:10] <= end:
                continue
            if body.get("MonitorArn") and a["MonitorArn"] != body["MonitorArn"]:
                continue
            if impact:
                if impact["NumericOperator"] != "GREATER_THAN_OR_EQUAL":
                    return None
                if a["Impact"]["TotalImpact"] < impact["StartValue"]:
                    continue
            out.append(a)
        return out

    def answer_GetAnomalies(self, body):
        found = self.matching_anomalies(body)
        if found is None:
            return self.problem("this fake answers TotalImpact GREATER_THAN_OR_EQUAL only")
        first = int(body.get("NextPageToken") or 0)
        page = found[first:first + self.page_size]
        out = {"Anomalies": page}
        if first + self.page_size < len(found):
            out["NextPageToken"] = str(first + self.page_size)
        return 200, out

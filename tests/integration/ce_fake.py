#!/usr/bin/env python3
"""A fast local Cost Explorer fake: answers GetCostAndUsage for ANY period with deterministic
data, paged with NextPageToken. moto serves only results queued in advance, in request order;
the chaos and benchmark runs ask for periods nobody can predict, so they use this instead.

    ce_fake.py --port N [--services 17] [--accounts 0] [--page-size 100]
    GET /stats -> {"requests": n, "pages": n, "bad": n, "periods": [[start, end, granularity]...]}
    (periods: the TimePeriod of each first-page request; MONTHLY gives one period per month)

Amounts depend only on (date, group keys): the same period always gives the same answer.
"""
import argparse
import datetime as dt
import hashlib
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SERVICES = ["Amazon Elastic Compute Cloud - Compute", "EC2 - Other", "Amazon Simple Storage Service",
            "Amazon Relational Database Service", "AWS Lambda", "Amazon CloudFront", "Amazon DynamoDB",
            "Amazon Virtual Private Cloud", "AmazonCloudWatch", "AWS Key Management Service",
            "Amazon Route 53", "AWS Cost Explorer", "CloudWatch Events", "Amazon Simple Queue Service",
            "AWS Secrets Manager", "Amazon Elastic Container Service for Kubernetes", "AWS Glue"]


def service_names(count):
    names = list(SERVICES[:count])
    while len(names) < count:
        names.append(f"Amazon Service {len(names):04d}")
    return names


def amount(day, keys):
    digest = hashlib.sha256((day + "|" + "|".join(keys)).encode()).digest()
    cents = int.from_bytes(digest[:6], "big") % 10_000_000_000_000
    return f"{cents // 10**10}.{cents % 10**10:010d}"


class Fake:
    def __init__(self, services=17, accounts=0, page_size=100):
        self.services = service_names(services)
        self.accounts = [f"{100000000000 + i * 7919:012d}" for i in range(accounts)]
        self.page_size = page_size
        self.lock = threading.Lock()
        self.stats = {"requests": 0, "pages": 0, "bad": 0}

    def groups_of(self, group_by):
        keys = [g.get("Key") for g in group_by]
        if keys == ["SERVICE", "LINKED_ACCOUNT"]:
            return [[s, a] for s in self.services for a in self.accounts or ["123456789012"]]
        if keys == ["LINKED_ACCOUNT", "SERVICE"]:
            return [[a, s] for a in self.accounts or ["123456789012"] for s in self.services]
        return [[s] for s in self.services]

    def answer(self, body):
        start = dt.date.fromisoformat(body["TimePeriod"]["Start"])
        end = dt.date.fromisoformat(body["TimePeriod"]["End"])
        if end <= start:
            raise ValueError("End must be after Start")
        metrics = body.get("Metrics") or ["UnblendedCost"]
        groups = self.groups_of(body.get("GroupBy") or [])
        monthly = body.get("Granularity") == "MONTHLY"
        if not body.get("NextPageToken"):
            with self.lock:
                self.stats.setdefault("periods", []).append(
                    [start.isoformat(), end.isoformat(), body.get("Granularity")])

        def next_period(day):
            if not monthly:
                return day + dt.timedelta(days=1)
            return (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)

        rows = []
        day = start
        while day < end:
            rows.extend((day, g) for g in groups)
            day = next_period(day)
        offset = int((body.get("NextPageToken") or "offset:0").split(":")[1])
        chunk = rows[offset:offset + self.page_size]
        by_day = {}
        for day, keys in chunk:
            entry = by_day.setdefault(day, {
                "TimePeriod": {"Start": day.isoformat(), "End": min(next_period(day), end).isoformat()},
                "Total": {}, "Groups": [], "Estimated": False})
            value = amount(day.isoformat(), keys)
            entry["Groups"].append({"Keys": keys, "Metrics": {
                m: {"Amount": value, "Unit": "USD"} for m in metrics}})
        page = {"GroupDefinitions": body.get("GroupBy", []), "ResultsByTime": list(by_day.values()),
                "DimensionValueAttributes": []}
        if offset + self.page_size < len(rows):
            page["NextPageToken"] = f"offset:{offset + self.page_size}"
        return page


def make_handler(fake):
    """The HTTP side of a Cost Explorer fake: `fake` has `lock`, `stats` (requests, pages, bad)
    and `answer(body)` returning a page as an object or as JSON bytes already rendered (the
    benchmarks' fake); a ValueError, KeyError or TypeError becomes a ValidationException."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self):
            super().setup()
            # Headers and body leave in one write, without Nagle: no delayed-ACK stall per page.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def reply(self, status, obj, headers=()):
            data = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
            head = [f"HTTP/1.1 {status} {self.responses[status][0]}",
                    "Content-Type: application/x-amz-json-1.1", f"Content-Length: {len(data)}",
                    *(f"{k}: {v}" for k, v in headers), "", ""]
            self.wfile.write("\r\n".join(head).encode() + data)

        def do_GET(self):
            with fake.lock:
                self.reply(200, dict(fake.stats))

        def do_POST(self):
            raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with fake.lock:
                fake.stats["requests"] += 1
            ok = (self.headers.get("X-Amz-Target") == "AWSInsightsIndexService.GetCostAndUsage"
                  and self.headers.get("Content-Type", "").startswith("application/x-amz-json-1.1")
                  and self.headers.get("Authorization", "").startswith("AWS4-HMAC-SHA256 Credential="))
            try:
                if not ok:
                    raise ValueError("not a signed GetCostAndUsage request")
                page = fake.answer(json.loads(raw))
            except (ValueError, KeyError, TypeError) as e:
                with fake.lock:
                    fake.stats["bad"] += 1
                self.reply(400, {"__type": "ValidationException", "message": str(e)},
                           [("x-amzn-ErrorType", "ValidationException")])
                return
            with fake.lock:
                fake.stats["pages"] += 1
            self.reply(200, page)

        def log_message(self, *args):
            pass

    return Handler


def serve(port, **kwargs):
    fake = Fake(**kwargs)
    server = ThreadingHTTPServer(("127.0.0.1", port), make_handler(fake))
    server.daemon_threads = True
    return server, fake


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--services", type=int, default=17)
    parser.add_argument("--accounts", type=int, default=0)
    parser.add_argument("--page-size", type=int, default=100)
    args = parser.parse_args()
    server, _ = serve(args.port, services=args.services, accounts=args.accounts, page_size=args.page_size)
    server.serve_forever()


if __name__ == "__main__":
    main()

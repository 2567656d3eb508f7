#!/usr/bin/env python3
"""The Cost Explorer fake of the tests and the benchmarks: answers GetCostAndUsage for ANY period,
paged with NextPageToken, once it has checked that the request is a signed GetCostAndUsage. moto
serves only results queued in advance, in request order; the chaos, load and benchmark runs ask
for periods nobody can predict, so they use this instead. Two kinds of answers:

- computed (the default): `--services` services x `--accounts` linked accounts per day, or per
  month with MONTHLY; amounts depend only on (date, group keys), so the same period always gives
  the same answer; the period of each first-page request is recorded.
- pre-rendered (--prerendered, the benchmarks'): the realistic pages of ce_pages.py, rendered in
  memory once per period (the --days periods from --start before it listens, any other on its
  first request) and then served as they are, so the peer costs next to nothing per request.

    ce_fake.py [--port 0] [--services 17] [--accounts 0] [--page-size 100]
    ce_fake.py --prerendered [--port 0] --services 300 --accounts 10 --page-size 5000
               --start 2024-01-01 --days 30[,90...] [--seed 1]
    prints {"port": n} on stdout once it listens (pre-rendered: with the pages, groups and bytes
    of the periods rendered);
    GET /stats -> {"requests": n, "pages": n, "bad": n, "periods": [[start, end, granularity]...]}
    (periods: computed answers only; MONTHLY gives one period per month)

Scenarios (computed answers only): what AWS would say of some periods, changed between pulls, so a
test can make a period go estimated -> restated -> final, or have no costs at all. Without one (the
default) the answers are exactly what they always were: Estimated false, amounts by (date, keys).

    POST /scenario {"days": {DATE: DAY}, "delay": seconds}   replaces the scenario (400 if invalid)
    GET /scenario  -> the scenario in effect
    GET /requests  -> {"requests": [body, ...]}: the request bodies received (the last 1000)

    DATE is a period's start (YYYY-MM-DD); DAY holds any of:
      "estimated": true                the period's Estimated flag (default false)
      "empty": true                    no costs: "Groups": [] and "Total": {}
      "bump": n | {KEY: n}             generation n > 0 of the amounts (of every group, or of the
                                       groups named): a deterministic change, another n another one
      "amounts": {KEY: AMOUNT | {METRIC: AMOUNT}}   the amount of a group (every metric, or those named)
      "units": {KEY: UNIT}             the unit of a group's metrics (default "USD")
    KEY: a group's keys joined by '/' ("Amazon Simple Storage Service", "AWS Lambda/123456789012").
    "delay": seconds every answer waits before it is sent (a slow Cost Explorer).
"""
import argparse
import collections
import datetime as dt
import hashlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

if __package__:
    from . import ce_pages, httpd
else:  # run as a script: this folder is on sys.path
    import ce_pages
    import httpd

# The first services of the computed answers: the SERVICE values AWS uses most (ce_pages' first).
SERVICES = ce_pages.AWS_SERVICES[:17]


def service_names(count):
    names = list(SERVICES[:count])
    while len(names) < count:
        names.append(f"Amazon Service {len(names):04d}")
    return names


def amount(day, keys):
    digest = hashlib.sha256((day + "|" + "|".join(keys)).encode()).digest()
    cents = int.from_bytes(digest[:6], "big") % 10_000_000_000_000
    return f"{cents // 10**10}.{cents % 10**10:010d}"


class Scenario:
    """A scenario of the computed answers (see the module's docstring), checked when made: a
    misspelled key or a wrong type is a ValueError, never silently ignored."""

    DAY_KEYS = {"estimated": bool, "empty": bool, "bump": (int, dict), "amounts": dict, "units": dict}

    def __init__(self, spec=None):
        spec = dict(spec or {})
        unknown = set(spec) - {"days", "delay"}
        if unknown:
            raise ValueError(f"scenario: unknown keys {sorted(unknown)}")
        self.delay = spec.get("delay", 0)
        if isinstance(self.delay, bool) or not isinstance(self.delay, (int, float)) or self.delay < 0:
            raise ValueError("scenario: delay must be a number of seconds >= 0")
        self.days = {}
        for day, entry in (spec.get("days") or {}).items():
            dt.date.fromisoformat(day)
            if not isinstance(entry, dict):
                raise ValueError(f"scenario: {day} must be an object")
            for key, value in entry.items():
                kind = self.DAY_KEYS.get(key)
                if kind is None:
                    raise ValueError(f"scenario: {day}: unknown key {key}")
                if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
                    raise ValueError(f"scenario: {day}.{key} has the wrong type")
            for name, value in entry.get("amounts", {}).items():
                if not isinstance(value, (str, dict)) or (
                        isinstance(value, dict) and not all(isinstance(v, str) for v in value.values())):
                    raise ValueError(f"scenario: {day}.amounts.{name} must be a string or {{metric: string}}")
            if not all(isinstance(v, str) for v in entry.get("units", {}).values()):
                raise ValueError(f"scenario: {day}.units must be strings")
            bump = entry.get("bump", 0)
            if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0
                       for v in (bump.values() if isinstance(bump, dict) else [bump])):
                raise ValueError(f"scenario: {day}.bump must be an integer >= 0, or {{key: integer}}")
            self.days[day] = dict(entry)
        self.spec = {"days": self.days, "delay": self.delay}

    def day(self, day):
        return self.days.get(day.isoformat() if isinstance(day, dt.date) else day, {})

    def estimated(self, day):
        return self.day(day).get("estimated", False)

    def empty(self, day):
        return self.day(day).get("empty", False)

    def metric(self, day, keys, metric):
        """(amount, unit) of one group's metric on `day` (a date)."""
        entry = self.day(day)
        key = "/".join(keys)
        unit = entry.get("units", {}).get(key, "USD")
        override = entry.get("amounts", {}).get(key)
        if isinstance(override, dict):
            override = override.get(metric)
        if override is not None:
            return override, unit
        bump = entry.get("bump", 0)
        if isinstance(bump, dict):
            bump = bump.get(key, 0)
        return amount(day.isoformat() + (f"#{bump}" if bump else ""), keys), unit


class Fake:
    """Computed answers: each page made for its request."""

    def __init__(self, services=17, accounts=0, page_size=100):
        self.services = service_names(services)
        self.accounts = [f"{100000000000 + i * 7919:012d}" for i in range(accounts)]
        self.page_size = page_size
        self.lock = threading.Lock()
        self.stats = {"requests": 0, "pages": 0, "bad": 0}
        self.scenario = None  # the default answers
        self.bodies = collections.deque(maxlen=1000)  # the request bodies received

    def set_scenario(self, spec):
        """Replaces the scenario (a dict as POST /scenario takes it; None or {}: the default
        answers); a ValueError when it is not a valid one."""
        scenario = Scenario(spec) if spec else None
        with self.lock:
            self.scenario = scenario

    def scenario_spec(self):
        with self.lock:
            return self.scenario.spec if self.scenario else {"days": {}, "delay": 0}

    def groups_of(self, group_by):
        keys = [g.get("Key") for g in group_by]
        if keys == ["SERVICE", "LINKED_ACCOUNT"]:
            return [[s, a] for s in self.services for a in self.accounts or ["123456789012"]]
        if keys == ["LINKED_ACCOUNT", "SERVICE"]:
            return [[a, s] for a in self.accounts or ["123456789012"] for s in self.services]
        return [[s] for s in self.services]

    def account_name(self, account):
        """Every third account has no name (AWS may send none)."""
        index = self.accounts.index(account) if account in self.accounts else 0
        return None if index % 3 == 2 else f"Account {index} \"{account[-4:]}\""

    def account_attributes(self, group_by, chunk):
        """DimensionValueAttributes of the page's LINKED_ACCOUNT values, as AWS sends them: each
        page carries its own."""
        keys = [g.get("Key") for g in group_by]
        if "LINKED_ACCOUNT" not in keys:
            return []
        index = keys.index("LINKED_ACCOUNT")
        seen = []
        for _, group_keys in chunk:
            if group_keys is not None and group_keys[index] not in seen:
                seen.append(group_keys[index])
        out = []
        for account in seen:
            name = self.account_name(account)
            out.append({"Value": account, "Attributes": {"description": name} if name else {}})
        return out

    def answer(self, body):
        start = dt.date.fromisoformat(body["TimePeriod"]["Start"])
        end = dt.date.fromisoformat(body["TimePeriod"]["End"])
        if end <= start:
            raise ValueError("End must be after Start")
        metrics = body.get("Metrics") or ["UnblendedCost"]
        groups = self.groups_of(body.get("GroupBy") or [])
        monthly = body.get("Granularity") == "MONTHLY"
        with self.lock:
            scenario = self.scenario
            self.bodies.append(body)
            if not body.get("NextPageToken"):
                self.stats.setdefault("periods", []).append(
                    [start.isoformat(), end.isoformat(), body.get("Granularity")])
        if scenario and scenario.delay:
            time.sleep(scenario.delay)

        def next_period(day):
            if not monthly:
                return day + dt.timedelta(days=1)
            return (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)

        rows = []
        day = start
        while day < end:
            if scenario and scenario.empty(day):
                rows.append((day, None))  # a period without groups: one row, so it has a page
            else:
                rows.extend((day, g) for g in groups)
            day = next_period(day)
        offset = int((body.get("NextPageToken") or "offset:0").split(":")[1])
        chunk = rows[offset:offset + self.page_size]
        by_day = {}
        for day, keys in chunk:
            entry = by_day.setdefault(day, {
                "TimePeriod": {"Start": day.isoformat(), "End": min(next_period(day), end).isoformat()},
                "Total": {}, "Groups": [], "Estimated": bool(scenario and scenario.estimated(day))})
            if keys is None:
                continue
            if scenario:
                entry["Groups"].append({"Keys": keys, "Metrics": {
                    m: dict(zip(("Amount", "Unit"), scenario.metric(day, keys, m))) for m in metrics}})
                continue
            value = amount(day.isoformat(), keys)
            entry["Groups"].append({"Keys": keys, "Metrics": {
                m: {"Amount": value, "Unit": "USD"} for m in metrics}})
        page = {"GroupDefinitions": body.get("GroupBy", []), "ResultsByTime": list(by_day.values()),
                "DimensionValueAttributes": self.account_attributes(body.get("GroupBy") or [], chunk)}
        if offset + self.page_size < len(rows):
            page["NextPageToken"] = f"offset:{offset + self.page_size}"
        return page


class Prerendered:
    """Pre-rendered answers: ce_pages.Generator's pages (JSON bytes) of each period, rendered on
    its first request (or by render()) and kept."""

    def __init__(self, services=300, accounts=10, page_size=5000, seed=1):
        self.gen = ce_pages.Generator(services, accounts, seed)
        self.page_size = page_size
        self.lock = threading.Lock()
        self.cache = {}
        self.stats = {"requests": 0, "pages": 0, "bad": 0}

    def group_by(self):
        group_by = [{"Type": "DIMENSION", "Key": "SERVICE"}]
        if self.gen.accounts:
            group_by.append({"Type": "DIMENSION", "Key": "LINKED_ACCOUNT"})
        return group_by

    def pages_for(self, start, end, group_by):
        key = (start, end, json.dumps(group_by, sort_keys=True))
        with self.lock:
            if key not in self.cache:
                self.cache[key] = self.gen.pages(start, end, self.page_size, group_by or None)
            return self.cache[key]

    def render(self, start, days):
        """Renders the periods of `days` days each from `start`; returns their pages, groups and
        bytes."""
        rendered = [self.pages_for(start, start + dt.timedelta(days=d), self.group_by()) for d in days]
        return {"pages": sum(len(p) for p in rendered), "groups": sum(days) * self.gen.groups_per_day(),
                "bytes": sum(len(x) for p in rendered for x in p)}

    def answer(self, body):
        start = dt.date.fromisoformat(body["TimePeriod"]["Start"])
        end = dt.date.fromisoformat(body["TimePeriod"]["End"])
        if end <= start:
            raise ValueError("End must be after Start")
        group_by = body.get("GroupBy") or []
        keys = [g.get("Key") for g in group_by]
        if keys not in (["SERVICE"], ["SERVICE", "LINKED_ACCOUNT"]):
            raise ValueError(f"this fake groups by SERVICE[, LINKED_ACCOUNT] only, not {keys}")
        if len(keys) == 1 and self.gen.accounts:
            raise ValueError("this fake was started with --accounts: group by LINKED_ACCOUNT too")
        pages = self.pages_for(start, end, group_by)
        token = body.get("NextPageToken")
        if not token:
            return pages[0]
        offset = ce_pages.token_offset(token)
        index = offset // self.page_size
        if offset % self.page_size or index >= len(pages):
            raise ValueError("invalid NextPageToken")
        return pages[index]


def make_handler(fake):
    """The HTTP side of a Cost Explorer fake: `fake` has `lock`, `stats` (requests, pages, bad)
    and `answer(body)` returning a page as an object or as JSON bytes already rendered; a
    ValueError, KeyError or TypeError becomes a ValidationException."""

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
            if self.path == "/scenario" and hasattr(fake, "scenario_spec"):
                self.reply(200, fake.scenario_spec())
                return
            if self.path == "/requests" and hasattr(fake, "bodies"):
                with fake.lock:
                    self.reply(200, {"requests": list(fake.bodies)})
                return
            with fake.lock:
                self.reply(200, dict(fake.stats))

        def do_POST(self):
            raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if self.path == "/scenario" and hasattr(fake, "set_scenario"):
                try:
                    fake.set_scenario(json.loads(raw or b"{}"))
                except (ValueError, TypeError, AttributeError) as e:
                    self.reply(400, {"error": str(e)})
                    return
                self.reply(200, {"ok": True})
                return
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


def serve(fake=None, **options):
    """`fake` (a Fake made of `options` when None) served by a thread of this process: an
    httpd.Server (url, close()) with the fake as its `fake`."""
    fake = fake or Fake(**options)
    server = httpd.Server(make_handler(fake))
    server.fake = fake
    return server


def start(procs, *options, log=None):
    """This file as a child process of `procs` (a procs.Processes) with the command-line
    `options`; once it listens, returns (proc, url, the JSON line it printed). Its stderr goes to
    the file `log` (None: nowhere)."""
    err = open(log, "ab") if log else subprocess.DEVNULL
    try:
        proc = procs.start([sys.executable, os.path.abspath(__file__), *options], stdout=subprocess.PIPE,
                           stderr=err)
    finally:
        if log:
            err.close()
    line = proc.stdout.readline()
    if not line:
        said = ""
        if log:
            with open(log, errors="replace") as f:
                said = ": " + f.read()[-2000:]
        raise AssertionError(f"ce_fake.py {' '.join(options)} ended before listening{said}")
    info = json.loads(line)
    return proc, f"http://127.0.0.1:{info['port']}", info


def stats(url):
    """GET /stats of a fake at `url`."""
    with urllib.request.urlopen(url + "/stats", timeout=10) as r:
        return json.loads(r.read())


def set_scenario(url, spec):
    """POST /scenario to a fake at `url` (a computed one): replaces its scenario."""
    req = urllib.request.Request(url + "/scenario", data=json.dumps(spec).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def requests_received(url):
    """GET /requests of a fake at `url`: the request bodies it received (the last 1000)."""
    with urllib.request.urlopen(url + "/requests", timeout=10) as r:
        return json.loads(r.read())["requests"]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--services", type=int, default=17)
    parser.add_argument("--accounts", type=int, default=0)
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--prerendered", action="store_true", help="ce_pages.py's pages, rendered once per period")
    parser.add_argument("--start", default="2024-01-01", help="pre-rendered: first day of the --days periods")
    parser.add_argument("--days", default="", help="pre-rendered: lengths of the periods from --start to render "
                        "before listening, e.g. 30,90")
    parser.add_argument("--seed", type=int, default=1, help="pre-rendered: the seed of ce_pages.Generator")
    args = parser.parse_args()
    info = {}
    if args.prerendered:
        fake = Prerendered(args.services, args.accounts, args.page_size, args.seed)
        days = [int(d) for d in args.days.split(",") if d]
        info = fake.render(dt.date.fromisoformat(args.start), days)
    else:
        fake = Fake(services=args.services, accounts=args.accounts, page_size=args.page_size)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(fake))
    server.daemon_threads = True
    print(json.dumps({"port": server.server_address[1], **info}), flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()

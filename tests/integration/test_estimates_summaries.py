"""Issue 15, parts 1 and 2: following estimated days until they are final (`follow_estimates_days`)
and summary events (`events.summary`), the binary end to end against the tests' Cost Explorer fake
(moto cannot make a period's Estimated flag flip between pulls) with scenarios that make a day go
estimated -> restated -> final or have no costs, and the Node CloudEvents receiver (the cloudevents
SDK) as the target. Each simulated day is one run of the service with its clock pinned
(SAB_FAKE_NOW) at 00:30 UTC: its start-up pull brings the new day (and re-pulls the followed ones),
then it is stopped; the next run is the next day, a restart. The fake's scenario answers are
checked against botocore's shapes for GetCostAndUsage, and so is every request the binary sends it.

What a summary must say is checked against what the receiver holds when the summary arrives: the
latest group event of each subject of its date received before it (count, sorted ids' SHA-256,
exact decimal totals per metric and unit, the estimated flag)."""
import datetime as dt
import decimal
import hashlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import time
import unittest
import urllib.error
import urllib.request

from support import botocore_shapes, ce_fake, chaos_proxy
from support.env import BINARY, SOURCE_DIR, main
from support.procs import free_port, wait_for_port
from support.service import ServiceTestCase, aws_env, write_config
from support.sink import Receiver

DAY = "2024-03-05"
SERVICE = [{"Type": "DIMENSION", "Key": "SERVICE"}]
SERVICE_ACCOUNT = SERVICE + [{"Type": "DIMENSION", "Key": "LINKED_ACCOUNT"}]
COST_METRICS = ["AmortizedCost", "BlendedCost", "NetAmortizedCost", "NetUnblendedCost", "UnblendedCost"]
SUMMARY = "aws.billing.summary.daily"
# The state.json the previous version (before follow_estimates_days) wrote: see tests/data/README.md.
STATE_V1 = os.path.join(SOURCE_DIR, "tests", "data", "state-v1-restate.json")
STATE_V1_EVENTS = os.path.join(SOURCE_DIR, "tests", "data", "state-v1-restate-events.json")
PLAIN_DECIMAL = re.compile(r"^-?(0|[1-9][0-9]*)(\.[0-9]*[1-9])?$")


def iso(day):
    return day.isoformat() if isinstance(day, dt.date) else day


def plus(day, days):
    return (dt.date.fromisoformat(iso(day)) + dt.timedelta(days=days)).isoformat()


def camel(metric):
    return metric[0].lower() + metric[1:]


def all_pages(fake, request):
    """Every page of `request` from a ce_fake.Fake, in order."""
    pages, token = [], None
    while True:
        page = fake.answer(dict(request, NextPageToken=token) if token else dict(request))
        pages.append(page)
        token = page.get("NextPageToken")
        if not token:
            return pages


def periods_of(pages):
    """date -> {"estimated": flag, "groups": {key: {metric: (amount, unit)}}} of a pull's pages."""
    out = {}
    for page in pages:
        for period in page["ResultsByTime"]:
            entry = out.setdefault(period["TimePeriod"]["Start"], {"estimated": period["Estimated"], "groups": {}})
            assert entry["estimated"] == period["Estimated"], "one flag per period on every page"
            for g in period["Groups"]:
                entry["groups"]["/".join(g["Keys"])] = {m: (v["Amount"], v["Unit"]) for m, v in g["Metrics"].items()}
    return out


def is_summary(event):
    return event["type"].startswith("aws.billing.summary.")


def date_of(event):
    return event["subject"] if is_summary(event) else event["data"]["date"]


def amounts_of(event):
    """{camelCase metric: (amount, unit)} of a group event's data."""
    return {k: (v["amount"], v["unit"]) for k, v in event["data"].items()
            if isinstance(v, dict) and set(v) == {"amount", "unit"}}


def plain(value):
    """A Decimal in plain notation without trailing fractional zeros ("0" for zero)."""
    if value == 0:
        return "0"
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def expected_totals(groups):
    """{camelCase metric: {unit: exact sum as a plain string}} of group events."""
    totals = {}
    with decimal.localcontext() as ctx:
        ctx.prec = 2000  # exact: Python's default 28 digits would round a 38-digit sum
        ctx.traps[decimal.Inexact] = True
        for event in groups:
            for metric, (amount, unit) in amounts_of(event).items():
                per_unit = totals.setdefault(metric, {})
                per_unit[unit] = per_unit.get(unit, decimal.Decimal(0)) + decimal.Decimal(amount)
    return {m: {u: plain(v) for u, v in per_unit.items()} for m, per_unit in totals.items()}


def sha256_hex(text):
    return hashlib.sha256(text.encode()).hexdigest()


def summary_problems(summary, groups, summary_type=SUMMARY):
    """What is wrong with `summary` given `groups` (subject -> the latest group event of its date
    received before it); empty when it is right."""
    data = summary["data"]
    out = []

    def expect(what, got, want):
        if got != want:
            out.append(f"{what}: got {got!r}, want {want!r}")

    expect("type", summary["type"], summary_type)
    expect("source", summary["source"], "cloud.aws.billing")
    expect("data.date", data.get("date"), summary["subject"])
    expect("data.groupBy", data.get("groupBy"), [{"type": "DIMENSION", "key": "SERVICE"}])
    expect("extension estimated", summary["estimated"], data.get("estimated"))
    expect("groups", data.get("groups"), len(groups))
    ids = sorted(e["id"] for e in groups.values())
    expect("eventIds", data.get("eventIds"), sha256_hex("\n".join(ids)))
    flags = {e["estimated"] for e in groups.values()}
    if flags and flags != {data.get("estimated")}:
        out.append(f"estimated {data.get('estimated')} but its groups say {flags}")
    want = expected_totals(groups.values())
    got = {}
    for metric, entries in (data.get("totals") or {}).items():
        units = [e["unit"] for e in entries]
        if len(units) != len(set(units)):
            out.append(f"totals.{metric}: a unit twice: {units}")
        for e in entries:
            if not PLAIN_DECIMAL.match(e["amount"]):
                out.append(f"totals.{metric}: {e['amount']!r} is not a plain decimal without trailing zeros")
        got[metric] = {e["unit"]: e["amount"] for e in entries}
    for metric in set(got) | set(want):
        g, w = got.get(metric, {}), want.get(metric, {})
        if set(g) != set(w) or any(decimal.Decimal(g[u]) != decimal.Decimal(w[u]) for u in w) or g != w:
            out.append(f"totals.{metric}: got {g}, want {w}")
    return out


def check_stream(test, events, summary_type=SUMMARY):
    """Every summary of `events` (in arrival order) against the group events of its date received
    before it, as a sink that drops duplicates holds them (an id received again changes nothing).
    Returns date -> subject -> latest group event at the end, and date -> the last summary."""
    latest, last_summary, seen = {}, {}, set()
    for n, e in enumerate(events):
        if e["id"] in seen:
            continue
        seen.add(e["id"])
        if is_summary(e):
            groups = latest.get(e["subject"], {})
            test.assertEqual(summary_problems(e, groups, summary_type), [],
                             f"summary #{n} of {e['subject']} (mode {e.get('mode')}) does not match the "
                             f"{len(groups)} group events before it")
            # Sent once they were acknowledged: never in the same request (a batch) as one of them.
            test.assertEqual([s for s, g in groups.items() if e.get("request") is not None
                              and g.get("request") == e["request"]], [],
                             f"summary #{n} of {e['subject']} came in one request with its groups")
            last_summary[e["subject"]] = (n, e)
        else:
            test.assertEqual(e["source"], "cloud.aws.billing")
            latest.setdefault(e["data"]["date"], {})[e["subject"]] = e
    return latest, last_summary


def scenario_view(services, spec, day, end=None, granularity="DAILY"):
    """What the fake with `services` services says of the period starting `day` (ending before
    `end`, default the next day) under the scenario `spec`:
    (estimated, {subject: {camelCase metric: (amount, unit)}})."""
    fake = ce_fake.Fake(services=services)
    fake.set_scenario(spec)
    view = periods_of(all_pages(fake, {"TimePeriod": {"Start": day, "End": end or plus(day, 1)},
                                       "Granularity": granularity, "Metrics": COST_METRICS, "GroupBy": SERVICE}))[day]
    return view["estimated"], {f"{day}/{k}": {camel(m): v for m, v in metrics.items()}
                               for k, metrics in view["groups"].items()}


class EstimatesCase(ServiceTestCase):
    """The service against an in-process Cost Explorer fake with scenarios and the Node receiver."""

    SERVICES = 3

    def setUp(self):
        super().setUp()
        self.server = ce_fake.serve(services=self.SERVICES, page_size=self.page_size())
        self.addCleanup(self.server.close)
        self.fake = self.server.fake
        self.receiver = Receiver(self.procs).start()
        self.env = aws_env("AKIAESTIMATESTEST001", "estimates-secret-value-01")
        self.state_dir = os.path.join(self.tmp, "state")
        self.http_port = free_port()
        self.logs = []

    def page_size(self):
        return 100

    def config(self, follow=None, summary=None, mode="binary", target=None, name="config.yml", extra="", catch_up=30):
        """None leaves a key out (its default)."""
        keys = ""
        if follow is not None:
            keys += f"follow_estimates_days: {follow}\n"
        if summary is not None:
            keys += f"events: {{summary: {'true' if summary else 'false'}}}\n"
        return write_config(self.tmp, f"""target: {target or self.receiver.url}
endpoint: {self.server.url}
state_dir: {self.state_dir}
listen: 127.0.0.1:{self.http_port}
catch_up_days: {catch_up}
delivery: {{mode: {mode}, batch_size: 4, concurrency: 4, timeout: 5s}}
log: {{format: json, level: debug}}
{keys}{extra}""", name)

    def checkpoint(self):
        path = os.path.join(self.state_dir, "state.json")
        if not os.path.exists(path):
            return None
        with open(path, encoding="utf-8") as f:
            return json.load(f).get("checkpoint")

    def write_state(self, checkpoint):
        os.makedirs(self.state_dir, exist_ok=True)
        with open(os.path.join(self.state_dir, "state.json"), "w") as f:
            json.dump({"version": 1, "checkpoint": checkpoint, "digests": {}}, f)

    def start(self, cfg, day, env=None):
        log = os.path.join(self.tmp, f"run-{len(self.logs)}-{day}.log")
        self.logs.append(log)
        with open(log, "wb") as f:
            return self.procs.start([BINARY, "--config", cfg], env=dict(env or self.env, SAB_FAKE_NOW=f"{day}T00:30:00Z"),
                                    stdout=subprocess.DEVNULL, stderr=f)

    def tail(self):
        if not self.logs:
            return ""
        with open(self.logs[-1], errors="replace") as f:
            return f.read()[-4000:]

    def pulls(self):
        text = urllib.request.urlopen(f"http://127.0.0.1:{self.http_port}/metrics", timeout=5).read().decode()
        out = {}
        for line in text.splitlines():
            m = re.match(r'aws_billing_source_pulls_total\{result="(\w+)"\} (\S+)', line)
            if m:
                out[m.group(1)] = float(m.group(2))
        return out

    def received(self):
        """The events the receiver holds, in arrival order, each with the number of the request
        that carried it ("request")."""
        got = self.receiver.received()
        self.assertEqual(got["errors"], [], "the receiver refused events")
        self.assertEqual(len(got["eventRequests"]), len(got["events"]))
        return [dict(e, request=n) for e, n in zip(got["events"], got["eventRequests"])]

    def run_day(self, cfg, day, timeout=60, env=None):
        """One run of the service 'on' `day`: waits for its start-up pull (which must succeed) and
        the checkpoint at the day before, stops it (SIGTERM, exit 0). Returns the events received
        and the request periods (first pages) the fake saw during the run."""
        before_events = len(self.received())
        before_periods = len(self.fake.stats.get("periods", []))
        proc = self.start(cfg, day, env)
        try:
            wait_for_port(self.http_port, proc=proc)
        except AssertionError as e:
            self.fail(f"{e}; the service said:\n{self.tail()}")
        deadline = time.monotonic() + timeout
        while True:
            pulls = self.pulls()
            if pulls.get("failure"):
                self.fail(f"the pull of {day} failed; the service said:\n{self.tail()}")
            if pulls.get("success") and self.checkpoint() == plus(day, -1):
                break
            if time.monotonic() > deadline or proc.poll() is not None:
                self.fail(f"no pull of {day} finished in time; the service said:\n{self.tail()}")
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        self.assertEqual(proc.wait(timeout=30), 0, self.tail())
        self.check_requests()
        return self.received()[before_events:], [tuple(p) for p in self.fake.stats.get("periods", [])[before_periods:]]

    def check_requests(self):
        """Every request the binary sent the fake fits botocore's input shape of GetCostAndUsage."""
        with self.fake.lock:
            bodies = list(self.fake.bodies)
        for body in bodies:
            self.assertEqual(botocore_shapes.problems("GetCostAndUsage", body, "input"), "", body)

    def set_days(self, days, delay=0):
        spec = {"days": days, "delay": delay}
        self.fake.set_scenario(spec)
        return spec

    def assert_groups_as_aws_says(self, events, spec, day, subjects=None, end=None, granularity="DAILY"):
        """The group events of `day` among `events` carry what the fake says under `spec`: the
        estimated flag, every amount and unit. `subjects`: those expected (default: every group)."""
        estimated, view = scenario_view(self.SERVICES, spec, day, end, granularity)
        got = {e["subject"]: e for e in events if not is_summary(e) and e["data"]["date"] == day}
        self.assertEqual(sorted(got), sorted(view if subjects is None else subjects))
        for subject, e in got.items():
            self.assertIs(e["estimated"], estimated, subject)
            self.assertEqual(amounts_of(e), view[subject], subject)
        return got

    def summaries_of(self, events):
        return [e for e in events if is_summary(e)]


class FollowEstimates(EstimatesCase):
    def test_a_day_estimated_then_restated_then_final(self):
        cfg = self.config(follow=3, summary=True)
        names = self.fake.services
        changed = f"{DAY}/{names[1]}"
        everyone = [f"{DAY}/{n}" for n in names]

        # Pull 1 (D+1): the day is new and estimated; every group, then its summary.
        spec = self.set_days({DAY: {"estimated": True}})
        events, periods = self.run_day(cfg, plus(DAY, 1))
        self.assertEqual(periods, [(DAY, plus(DAY, 1), "DAILY")])
        first = self.assert_groups_as_aws_says(events, spec, DAY)
        self.assertEqual([e["subject"] for e in self.summaries_of(events)], [DAY])
        self.assertEqual(len(events), len(names) + 1)
        self.assertTrue(self.summaries_of(events)[0]["estimated"])

        # Pull 2 (D+2, a restart): one group of the day changed, still estimated; a new day.
        # One request period for both: the followed day and the new one.
        spec = self.set_days({DAY: {"estimated": True, "amounts": {names[1]: "12.5"}},
                              plus(DAY, 1): {"estimated": True}})
        events, periods = self.run_day(cfg, plus(DAY, 2))
        self.assertEqual(periods, [(DAY, plus(DAY, 2), "DAILY")])
        second = self.assert_groups_as_aws_says(events, spec, DAY, [changed])
        self.assertNotEqual(second[changed]["id"], first[changed]["id"])
        self.assertEqual(second[changed]["data"]["unblendedCost"]["amount"], "12.5")
        self.assert_groups_as_aws_says(events, spec, plus(DAY, 1))
        self.assertEqual(sorted(e["subject"] for e in self.summaries_of(events)), [DAY, plus(DAY, 1)])
        self.assertEqual(len(events), 1 + len(names) + 2)

        # Pull 3 (D+3): the day turned final (same amounts): every group again, not estimated,
        # with new ids; the day after it is still estimated and unchanged: nothing of it.
        spec = self.set_days({DAY: {"amounts": {names[1]: "12.5"}}, plus(DAY, 1): {"estimated": True},
                              plus(DAY, 2): {"estimated": True}})
        events, periods = self.run_day(cfg, plus(DAY, 3))
        self.assertEqual(periods, [(DAY, plus(DAY, 3), "DAILY")])
        third = self.assert_groups_as_aws_says(events, spec, DAY, everyone)
        for subject, e in third.items():
            self.assertFalse(e["estimated"])
            self.assertNotEqual(e["id"], first[subject]["id"], subject)
            if subject in second:
                self.assertNotEqual(e["id"], second[subject]["id"], "the estimated flag is part of the id")
        self.assertEqual([e for e in events if date_of(e) == plus(DAY, 1)], [])
        self.assert_groups_as_aws_says(events, spec, plus(DAY, 2))
        self.assertEqual(sorted(e["subject"] for e in self.summaries_of(events)), [DAY, plus(DAY, 2)])
        final_summary = next(e for e in self.summaries_of(events) if e["subject"] == DAY)
        self.assertFalse(final_summary["estimated"])
        self.assertEqual(len(events), len(names) + 1 + len(names) + 1)

        # The same data gives the same ids: a dry run of the day now makes the ids just sent.
        r = subprocess.run([BINARY, "--config", cfg, "--once", "--dry-run", "--date", DAY],
                           env=dict(self.env, SAB_FAKE_NOW=f"{plus(DAY, 3)}T00:30:00Z"), capture_output=True,
                           timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr.decode()[-3000:])
        dry = {e["subject"]: e["id"] for e in map(json.loads, r.stdout.decode().splitlines())
               if not is_summary(e) and e["data"]["date"] == DAY}
        self.assertEqual(dry, {s: e["id"] for s, e in third.items()})

        # Pull 4 (D+4): the final day is no longer pulled; the estimated ones are, from D+1 on.
        self.set_days({DAY: {"amounts": {names[1]: "12.5"}, "bump": 7}, plus(DAY, 1): {"estimated": True},
                       plus(DAY, 2): {"estimated": True}, plus(DAY, 3): {"estimated": True}})
        events, periods = self.run_day(cfg, plus(DAY, 4))
        self.assertEqual(periods, [(plus(DAY, 1), plus(DAY, 4), "DAILY")])
        self.assertEqual(sorted({date_of(e) for e in events}), [plus(DAY, 3)])
        self.assertEqual(len(events), len(names) + 1)

        # The whole stream: each summary after its groups, matching them.
        latest, last = check_stream(self, self.received())
        self.assertEqual(sorted(last), [DAY, plus(DAY, 1), plus(DAY, 2), plus(DAY, 3)])
        self.assertEqual(len([e for e in self.received() if is_summary(e) and e["subject"] == DAY]), 3)
        summary_ids = [e["id"] for e in self.received() if is_summary(e)]
        self.assertEqual(len(summary_ids), len(set(summary_ids)), "a summary sent again has a new id")

    def test_a_day_past_the_window_is_no_longer_followed(self):
        cfg = self.config(follow=2, summary=True)
        self.set_days({DAY: {"estimated": True}})
        _, periods = self.run_day(cfg, plus(DAY, 1))
        self.assertEqual(periods, [(DAY, plus(DAY, 1), "DAILY")])
        # A day later it is followed (and changed).
        spec = self.set_days({DAY: {"estimated": True, "bump": 1}, plus(DAY, 1): {"estimated": True}})
        events, periods = self.run_day(cfg, plus(DAY, 2))
        self.assertEqual(periods, [(DAY, plus(DAY, 2), "DAILY")])
        self.assert_groups_as_aws_says(events, spec, DAY)
        # Five days later, still estimated and changed again, but older than 2 days: never pulled.
        days = {plus(DAY, n): {"estimated": True, "bump": 2} for n in range(6)}
        self.set_days(days)
        events, periods = self.run_day(cfg, plus(DAY, 6))
        self.assertEqual(periods, [(plus(DAY, 2), plus(DAY, 6), "DAILY")])
        self.assertEqual(sorted({date_of(e) for e in events}), [plus(DAY, n) for n in range(2, 6)])
        check_stream(self, self.received())

    def test_final_days_between_ride_along_and_an_outage_takes_one_more_period(self):
        cfg = self.config(follow=10, summary=True)
        names = self.fake.services
        # A catch-up of D..D+2: D and D+2 estimated, D+1 final.
        self.write_state(plus(DAY, -1))
        self.set_days({DAY: {"estimated": True}, plus(DAY, 2): {"estimated": True}})
        events, periods = self.run_day(cfg, plus(DAY, 3))
        self.assertEqual(periods, [(DAY, plus(DAY, 3), "DAILY")])
        self.assertEqual(len(events), 3 * (len(names) + 1))
        # D+3 is new: the followed D and D+2 share its request period; D+1 rides along in it and
        # sends nothing (final, not followed), whatever AWS now says of it.
        spec = self.set_days({DAY: {"estimated": True, "bump": 1}, plus(DAY, 1): {"bump": 1},
                              plus(DAY, 2): {"estimated": True}})
        events, periods = self.run_day(cfg, plus(DAY, 4))
        self.assertEqual(periods, [(DAY, plus(DAY, 4), "DAILY")])
        self.assert_groups_as_aws_says(events, spec, DAY)
        self.assert_groups_as_aws_says(events, spec, plus(DAY, 3))
        self.assertEqual(sorted({date_of(e) for e in events}), [DAY, plus(DAY, 3)])
        self.assertEqual(len(events), 2 * (len(names) + 1))
        # D+4 is new: D+2 turned final, D did not change; the final D+1 and D+3 ride along.
        spec = self.set_days({DAY: {"estimated": True, "bump": 1}, plus(DAY, 1): {"bump": 2},
                              plus(DAY, 2): {}, plus(DAY, 3): {"bump": 1}, plus(DAY, 4): {"estimated": True}})
        events, periods = self.run_day(cfg, plus(DAY, 5))
        self.assertEqual(periods, [(DAY, plus(DAY, 5), "DAILY")])
        self.assert_groups_as_aws_says(events, spec, plus(DAY, 2))
        self.assert_groups_as_aws_says(events, spec, plus(DAY, 4))
        self.assertEqual(sorted({date_of(e) for e in events}), [plus(DAY, 2), plus(DAY, 4)])
        self.assertEqual(len(events), 2 * (len(names) + 1))
        # An outage longer than catch_up_days (D+5 and D+6 skipped; yesterday and 2 days before it
        # are pulled): the followed days D..D+4 are
        # apart from the new ones and take one more period (not one per day); D turned final.
        spec = self.set_days({DAY: {"bump": 1}, plus(DAY, 4): {"estimated": True}, plus(DAY, 7): {"estimated": True},
                              plus(DAY, 8): {"estimated": True}, plus(DAY, 9): {"estimated": True}})
        short = self.config(follow=10, summary=True, name="short.yml", catch_up=2)
        events, periods = self.run_day(short, plus(DAY, 10))
        self.assertEqual(sorted(periods), [(DAY, plus(DAY, 5), "DAILY"), (plus(DAY, 7), plus(DAY, 10), "DAILY")])
        self.assert_groups_as_aws_says(events, spec, DAY)
        self.assertEqual(sorted({date_of(e) for e in events}), [DAY, plus(DAY, 7), plus(DAY, 8), plus(DAY, 9)])
        self.assertEqual(len(events), 4 * (len(names) + 1))
        check_stream(self, self.received())

    def test_monthly_periods_are_followed_and_summarized_too(self):
        cfg = self.config(follow=35, summary=True, extra="granularity: MONTHLY\n")
        march, april, may = "2024-03-01", "2024-04-01", "2024-05-01"
        self.set_days({march: {"estimated": True}})
        events, periods = self.run_day(cfg, april)
        self.assertEqual(periods, [(march, april, "MONTHLY")])
        self.assertEqual([(e["type"], e["subject"]) for e in self.summaries_of(events)],
                         [("aws.billing.summary.monthly", march)])
        # A month later: March restated (one group), still estimated, in one request with April.
        names = self.fake.services
        spec = self.set_days({march: {"estimated": True, "bump": {names[0]: 1}}, april: {"estimated": True}})
        events, periods = self.run_day(cfg, may)
        self.assertEqual(periods, [(march, may, "MONTHLY")])
        self.assert_groups_as_aws_says(events, spec, march, [f"{march}/{names[0]}"], april, "MONTHLY")
        self.assert_groups_as_aws_says(events, spec, april, None, may, "MONTHLY")
        self.assertEqual(sorted(e["subject"] for e in self.summaries_of(events)), [march, april])
        self.assertTrue(all(e["type"] == "aws.billing.summary.monthly" for e in self.summaries_of(events)))
        check_stream(self, self.received(), "aws.billing.summary.monthly")

    def test_f_default_config_neither_follows_nor_summarizes(self):
        cfg = self.config()
        self.set_days({DAY: {"estimated": True}})
        events, periods = self.run_day(cfg, plus(DAY, 1))
        self.assertEqual(periods, [(DAY, plus(DAY, 1), "DAILY")])
        self.assertEqual(len(events), self.SERVICES)
        self.assertTrue(all(e["estimated"] and e["type"] == "aws.service.daily" for e in events))
        # The day changed and is still estimated: not pulled again, no summary ever.
        spec = self.set_days({DAY: {"estimated": True, "bump": 1}, plus(DAY, 1): {"estimated": True}})
        events, periods = self.run_day(cfg, plus(DAY, 2))
        self.assertEqual(periods, [(plus(DAY, 1), plus(DAY, 2), "DAILY")])
        self.assert_groups_as_aws_says(events, spec, plus(DAY, 1))
        self.assertEqual(len(events), self.SERVICES)
        self.assertEqual([e for e in self.received() if is_summary(e)], [])
        # The same with the keys written out at their defaults.
        self.set_days({DAY: {"estimated": True, "bump": 2}, plus(DAY, 1): {"estimated": True, "bump": 1},
                       plus(DAY, 2): {}})
        events, periods = self.run_day(self.config(follow=0, summary=False, name="defaults.yml"), plus(DAY, 3))
        self.assertEqual(periods, [(plus(DAY, 2), plus(DAY, 3), "DAILY")])
        self.assertEqual(sorted({date_of(e) for e in events}), [plus(DAY, 2)])
        self.assertEqual([e for e in self.received() if is_summary(e)], [])


class Summaries(EstimatesCase):
    SERVICES = 10

    def test_b_summaries_follow_their_groups_in_every_mode(self):
        names = self.fake.services
        for mode in ("binary", "structured", "batch"):
            with self.subTest(mode=mode):
                self.receiver.control(reset=True)
                self.state_dir = os.path.join(self.tmp, f"state-{mode}")
                cfg = self.config(follow=5, summary=True, mode=mode, name=f"{mode}.yml")
                # A catch-up of two estimated days...
                self.write_state(plus(DAY, -1))
                self.set_days({DAY: {"estimated": True}, plus(DAY, 1): {"estimated": True}})
                events, periods = self.run_day(cfg, plus(DAY, 2))
                self.assertEqual(periods, [(DAY, plus(DAY, 2), "DAILY")])
                self.assertEqual(len(events), 2 * (len(names) + 1))
                # ...then the first restated (two groups), the second final, a new day.
                spec = self.set_days({DAY: {"estimated": True, "bump": {names[0]: 1, names[7]: 1}},
                                      plus(DAY, 1): {}, plus(DAY, 2): {"estimated": True}})
                events, periods = self.run_day(cfg, plus(DAY, 3))
                self.assertEqual(periods, [(DAY, plus(DAY, 3), "DAILY")])
                self.assert_groups_as_aws_says(events, spec, DAY, [f"{DAY}/{names[0]}", f"{DAY}/{names[7]}"])
                self.assert_groups_as_aws_says(events, spec, plus(DAY, 1))
                self.assert_groups_as_aws_says(events, spec, plus(DAY, 2))
                self.assertEqual(sorted(e["subject"] for e in self.summaries_of(events)),
                                 [DAY, plus(DAY, 1), plus(DAY, 2)])
                received = self.received()
                self.assertEqual({e["mode"] for e in received}, {mode})
                _, last = check_stream(self, received)
                self.assertEqual(sorted(last), [DAY, plus(DAY, 1), plus(DAY, 2)])
                self.assertEqual([last[d][1]["data"]["estimated"] for d in sorted(last)], [True, False, True])
                self.assertEqual([last[d][1]["data"]["groups"] for d in sorted(last)], [len(names)] * 3)

    def test_c_a_day_without_costs_gets_a_summary_of_zero_groups(self):
        cfg = self.config(follow=3, summary=True)
        self.write_state(plus(DAY, -1))
        spec = self.set_days({DAY: {"empty": True}, plus(DAY, 1): {"estimated": True}})
        events, _ = self.run_day(cfg, plus(DAY, 2))
        empty = [e for e in events if date_of(e) == DAY]
        self.assertEqual(len(empty), 1, empty)
        summary = empty[0]
        self.assertEqual(summary["type"], SUMMARY)
        self.assertEqual(summary["data"], {"date": DAY, "groupBy": [{"type": "DIMENSION", "key": "SERVICE"}],
                                           "groups": 0, "estimated": False, "totals": {},
                                           "eventIds": hashlib.sha256(b"").hexdigest()})
        self.assertFalse(summary["estimated"])
        self.assert_groups_as_aws_says(events, spec, plus(DAY, 1))
        check_stream(self, self.received())

    def test_e_totals_are_exact_decimal_sums_per_unit(self):
        names = self.fake.services
        big = "12345678901234567890.123456789012345678"  # 38 significant digits
        amounts = {names[0]: "1e-10", names[1]: "-0.0000000001", names[2]: big,
                   names[3]: "99999999999999999999.999999999999999999", names[4]: "0.000000000000000000000000000000000001",
                   names[5]: "1E+3", names[6]: "-0", names[7]: "0.10", names[8]: "2.5E-3", names[9]: "-7"}
        units = {names[2]: "EUR", names[3]: "EUR", names[4]: "EUR", names[8]: "GBP"}
        cfg = self.config(summary=True)
        spec = self.set_days({DAY: {"amounts": amounts, "units": units}})
        events, _ = self.run_day(cfg, plus(DAY, 1))
        self.assert_groups_as_aws_says(events, spec, DAY)
        summaries = self.summaries_of(events)
        self.assertEqual(len(summaries), 1)
        check_stream(self, self.received())
        # By hand: USD 1e-10 - 1e-10 + 1000 - 0 + 0.10 - 7 = 993.1; EUR with a carry; GBP alone.
        totals = summaries[0]["data"]["totals"]
        self.assertEqual(sorted(totals), sorted(camel(m) for m in COST_METRICS))
        for metric, entries in totals.items():
            self.assertEqual({e["unit"]: e["amount"] for e in entries},
                             {"USD": "993.1", "EUR": "112345678901234567890.123456789012345677000000000000000001",
                              "GBP": "0.0025"}, metric)

    def test_a_restated_day_gets_a_new_summary(self):
        names = self.fake.services
        cfg = self.config(summary=True, extra="restate_days: 2\n")
        self.set_days({})
        self.run_day(cfg, plus(DAY, 1))
        spec = self.set_days({DAY: {"amounts": {names[3]: "0.5"}}})
        events, periods = self.run_day(cfg, plus(DAY, 2))
        self.assertEqual(periods, [(DAY, plus(DAY, 2), "DAILY")])
        self.assert_groups_as_aws_says(events, spec, DAY, [f"{DAY}/{names[3]}"])
        self.assertEqual(sorted(e["subject"] for e in self.summaries_of(events)), [DAY, plus(DAY, 1)])
        # Unchanged the day after: no summary again.
        events, _ = self.run_day(cfg, plus(DAY, 3))
        self.assertEqual(sorted({date_of(e) for e in events}), [plus(DAY, 2)])
        _, last = check_stream(self, self.received())
        self.assertEqual(last[DAY][1]["data"]["totals"]["unblendedCost"][0]["unit"], "USD")

    def test_the_checkpoint_waits_for_the_summary(self):
        cfg = self.config(summary=True, extra="shutdown_timeout: 1s\n")
        self.set_days({DAY: {"estimated": True}})
        # Binary mode: one request per group, then the summary's, which the receiver holds.
        self.receiver.control(holdAfter=self.SERVICES)
        proc = self.start(cfg, plus(DAY, 1))
        deadline = time.monotonic() + 30
        while not self.receiver.received()["held"]:
            self.assertLess(time.monotonic(), deadline, self.tail())
            time.sleep(0.05)
        time.sleep(0.5)
        held = self.receiver.received()["held"]
        self.assertEqual([e["type"] for e in held], [SUMMARY])
        self.assertEqual(len(self.received()), self.SERVICES)
        self.assertIsNone(self.checkpoint(), "the checkpoint moved before the summary was acknowledged")
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        self.receiver.control(holdAfter=None)
        # After a restart the summary goes out (its groups were journalled: not again).
        events, _ = self.run_day(cfg, plus(DAY, 1))
        self.assertEqual([e["type"] for e in events], [SUMMARY])
        self.assertEqual(events[0]["id"], held[0]["id"])
        check_stream(self, self.received())

    def test_a_dead_lettered_group_still_counts_in_the_summary(self):
        # The README: the summary then tells the sink exactly what it misses.
        cfg = self.config(summary=True)
        self.set_days({})
        self.receiver.control(fail=1, status=400)
        events, _ = self.run_day(cfg, plus(DAY, 1))
        with open(os.path.join(self.state_dir, "dead-letter.jsonl"), encoding="utf-8") as f:
            dead = [json.loads(line) for line in f]
        self.assertEqual(len(dead), 1)
        summaries = self.summaries_of(events)
        self.assertEqual(len(summaries), 1)
        groups = {e["subject"]: e for e in events if not is_summary(e)}
        self.assertEqual(len(groups), self.SERVICES - 1)
        groups[dead[0]["subject"]] = dead[0]
        self.assertEqual(summary_problems(summaries[0], groups), [])

    def test_once_sends_summaries_too(self):
        cfg = self.config(summary=True)
        self.set_days({DAY: {"estimated": True}, plus(DAY, 1): {"empty": True}})
        r = subprocess.run([BINARY, "--config", cfg, "--once", "--from", DAY, "--to", plus(DAY, 1)],
                           env=dict(self.env, SAB_FAKE_NOW=f"{plus(DAY, 3)}T00:30:00Z"), capture_output=True,
                           timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr.decode()[-3000:])
        self.check_requests()
        _, last = check_stream(self, self.received())
        self.assertEqual(sorted(last), [DAY, plus(DAY, 1)])
        self.assertEqual(len(self.received()), self.SERVICES + 2)


class StateMigration(EstimatesCase):
    """A state.json of the previous version (tests/data/state-v1-restate.md: its checkpoint is
    2024-03-06, its digests those of 2024-03-04..06, made of ids without the estimated flag)."""

    def start_from_v1(self):
        os.makedirs(self.state_dir)
        shutil.copy(STATE_V1, os.path.join(self.state_dir, "state.json"))
        with open(STATE_V1_EVENTS) as f:
            old = json.load(f)
        self.assertEqual(self.checkpoint(), plus(DAY, 1))
        return old

    def test_g_restated_days_of_a_v1_state_resend_only_what_changed(self):
        self.start_from_v1()
        names = self.fake.services
        # 2024-03-08: restates 03-05..06 (one group of 03-06 changed), 03-07 is new.
        spec = self.set_days({plus(DAY, 1): {"bump": {names[2]: 1}}})
        events, periods = self.run_day(self.config(extra="restate_days: 3\n"), plus(DAY, 3))
        self.assertEqual(periods, [(DAY, plus(DAY, 3), "DAILY")])
        self.assertEqual(sorted(e["subject"] for e in events),
                         sorted([f"{plus(DAY, 1)}/{names[2]}"] + [f"{plus(DAY, 2)}/{n}" for n in names]))
        self.assert_groups_as_aws_says(events, spec, plus(DAY, 1), [f"{plus(DAY, 1)}/{names[2]}"])
        self.assertEqual(self.checkpoint(), plus(DAY, 2))
        # The next day: nothing changed, nothing of the restated days goes out again.
        events, periods = self.run_day(self.config(extra="restate_days: 3\n"), plus(DAY, 4))
        self.assertEqual(periods, [(plus(DAY, 1), plus(DAY, 4), "DAILY")])
        self.assertEqual(sorted({date_of(e) for e in events}), [plus(DAY, 3)])

    def test_g_with_summaries_a_restated_v1_day_is_summarized_over_the_ids_the_sink_holds(self):
        old = self.start_from_v1()
        names = self.fake.services
        self.set_days({plus(DAY, 1): {"bump": {names[0]: 1}}})
        cfg = self.config(summary=True, follow=3, extra="restate_days: 3\n")
        events, _ = self.run_day(cfg, plus(DAY, 3))
        self.assertEqual(sorted(e["subject"] for e in events if not is_summary(e)),
                         sorted([f"{plus(DAY, 1)}/{names[0]}"] + [f"{plus(DAY, 2)}/{n}" for n in names]))
        # The changed day's summary covers the group the new version sent and the two the
        # previous version sent (their ids as the sink got them): it can check it holds the day.
        self.assertEqual(sorted(e["subject"] for e in events if is_summary(e)), [plus(DAY, 1), plus(DAY, 2)])
        check_stream(self, old + self.received())


class KillsWithSummaries(EstimatesCase):
    """SIGKILLs at random moments, days moving on, a chaos proxy in front of the receiver (429s
    with Retry-After, 503s, dropped and reset connections, answers truncated after the receiver
    took the request): a summary is never received before a group event it covers, the checkpoint
    never passes a day whose summary was not received, and in the end every day has a summary
    matching what the receiver holds and what AWS finally says. The receiver is a sink that drops
    duplicates (same id). The proxy does not delay requests here: a delayed request of a killed
    process would reach the receiver after the next process's summary, an old event arriving late
    that no sender can prevent."""

    SERVICES = 16

    def page_size(self):
        return 6

    @staticmethod
    def scenario(today, first, empty):
        """Each day is estimated for its first two days, its amounts changing every day until it
        turns final on the third; `empty` has no costs."""
        days, day = {}, first
        while day < today:
            age = (dt.date.fromisoformat(today) - dt.date.fromisoformat(day)).days
            days[day] = {"estimated": age <= 2, **({"empty": True} if day == empty else {"bump": min(age, 3)})}
            day = plus(day, 1)
        return {"days": days, "delay": 0.02}

    def test_d_sigkill_never_lets_a_summary_precede_its_groups(self):
        kills = int(os.environ.get("SAB_SUMMARY_KILLS", "12"))
        seed = int(os.environ.get("SAB_SUMMARY_SEED", "20240315"))
        rng = random.Random(seed)
        proxy = chaos_proxy.start(self.procs, self.receiver.port, seed, 0.25, os.path.join(self.tmp, "proxy.json"),
                                  [f for f in chaos_proxy.FAULTS if f != "delay"])
        modes = ("binary", "structured", "batch")
        cfgs = [self.config(follow=10, summary=True, mode=m, target=f"http://127.0.0.1:{proxy}/", name=f"{m}.yml")
                for m in modes]
        first, empty = plus(DAY, -1), plus(DAY, 1)
        self.write_state(plus(DAY, -2))
        unfinished = 0  # kills before the day's pull was done
        for k in range(kills):
            today = plus(DAY, k // 3)
            self.fake.set_scenario(self.scenario(today, first, empty))
            proc = self.start(cfgs[k % 3], today)
            time.sleep(rng.uniform(0.05, 1.5))
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
            events = self.received()
            check_stream(self, events)
            checkpoint = self.checkpoint()
            unfinished += checkpoint != plus(today, -1)
            if checkpoint and checkpoint >= first:
                summarized = {e["subject"] for e in events if is_summary(e)}
                day, unsummarized = first, []
                while day <= checkpoint:
                    if day not in summarized:
                        unsummarized.append(day)
                    day = plus(day, 1)
                self.assertEqual(unsummarized, [], f"kill {k}: checkpoint {checkpoint} passed days without a summary")
        # A clean run a day after the last kill delivers whatever is left.
        last_day = plus(DAY, (kills - 1) // 3 + 1)
        final = self.scenario(last_day, first, empty)
        self.fake.set_scenario(final)
        self.run_day(self.config(follow=10, summary=True, name="clean.yml"), last_day)
        events = self.received()
        latest, last = check_stream(self, events)
        day = first
        while day < last_day:
            self.assertIn(day, last, f"{day} has no summary")
            n, summary = last[day]
            seen = {e["id"]: i for i, e in enumerate(events[:n + 1])}
            late = [e for e in events[n + 1:] if date_of(e) == day and e["id"] not in seen]
            self.assertEqual([e["subject"] for e in late], [], f"{day}: group events after its last summary #{n} "
                             f"(time {summary['time']}, request {summary['request']}): " + "; ".join(
                                 f"{e['subject']} id {e['id']} time {e['time']} request {e['request']} "
                                 f"first seen at #{seen.get(e['id'])}" for e in late))
            estimated, view = scenario_view(self.SERVICES, final, day)
            self.assertEqual({s: amounts_of(e) for s, e in latest.get(day, {}).items()}, view, day)
            self.assertIs(summary["data"]["estimated"], estimated, day)
            self.assertEqual(summary["data"]["groups"], 0 if day == empty else self.SERVICES, day)
            day = plus(day, 1)
        with open(os.path.join(self.tmp, "proxy.json")) as f:
            print("SUMMARY-KILLS " + json.dumps({"kills": kills, "killed_before_the_day_was_done": unfinished,
                                                 "events": len(events),
                                                 "summaries": sum(map(is_summary, events)), "proxy": json.load(f)}),
                  flush=True)


class FakeScenarios(unittest.TestCase):
    """The fake's scenarios (no binary): what they change, and that the answers still fit
    botocore's output shape of GetCostAndUsage."""

    def request(self, start, end, group_by=SERVICE, metrics=COST_METRICS):
        request = {"TimePeriod": {"Start": start, "End": end}, "Granularity": "DAILY", "Metrics": metrics,
                   "GroupBy": group_by}
        self.assertEqual(botocore_shapes.problems("GetCostAndUsage", request, "input"), "")
        return request

    def fitting_pages(self, fake, request):
        pages = all_pages(fake, request)
        for page in pages:
            self.assertEqual(botocore_shapes.problems("GetCostAndUsage", page), "", page)
        return pages

    def test_scenario_answers_fit_botocores_shapes(self):
        fake = ce_fake.Fake(services=3, accounts=2, page_size=4)
        default = periods_of(self.fitting_pages(fake, self.request(DAY, plus(DAY, 4), SERVICE_ACCOUNT)))
        names = sorted(default[DAY]["groups"])
        first = names[0]
        fake.set_scenario({"days": {
            DAY: {"estimated": True, "amounts": {first: "1e-10"}, "units": {first: "EUR"}},
            plus(DAY, 1): {"empty": True},
            plus(DAY, 2): {"estimated": True, "bump": 1},
            plus(DAY, 3): {"bump": {first: 2}, "amounts": {names[1]: {"UnblendedCost": "-0.0000000001"}}},
        }})
        got = periods_of(self.fitting_pages(fake, self.request(DAY, plus(DAY, 4), SERVICE_ACCOUNT)))
        self.assertEqual(sorted(got), [DAY, plus(DAY, 1), plus(DAY, 2), plus(DAY, 3)])
        # Estimated: the day's flag; an override: every metric, with its unit; the rest unchanged.
        self.assertEqual([got[d]["estimated"] for d in sorted(got)], [True, False, True, False])
        self.assertEqual(set(got[DAY]["groups"][first].values()), {("1e-10", "EUR")})
        for name in names[1:]:
            self.assertEqual(got[DAY]["groups"][name], default[DAY]["groups"][name])
        # Empty: the period is there, without groups.
        self.assertEqual(got[plus(DAY, 1)]["groups"], {})
        # A bump changes every amount of the day, deterministically; a bump of one group that one.
        bumped = got[plus(DAY, 2)]["groups"]
        self.assertEqual(sorted(bumped), names)
        for name in names:
            self.assertNotEqual(bumped[name], default[plus(DAY, 2)]["groups"][name])
        self.assertEqual(periods_of(all_pages(fake, self.request(plus(DAY, 2), plus(DAY, 3), SERVICE_ACCOUNT))),
                         {plus(DAY, 2): got[plus(DAY, 2)]})
        day3 = got[plus(DAY, 3)]["groups"]
        self.assertNotEqual(day3[first], default[plus(DAY, 3)]["groups"][first])
        self.assertEqual(day3[names[1]]["UnblendedCost"], ("-0.0000000001", "USD"))
        self.assertEqual(day3[names[1]]["BlendedCost"], default[plus(DAY, 3)]["groups"][names[1]]["BlendedCost"])
        for name in names[2:]:
            self.assertEqual(day3[name], default[plus(DAY, 3)]["groups"][name])
        # Back to the default: the answers of before, exactly.
        fake.set_scenario(None)
        self.assertEqual(all_pages(fake, self.request(DAY, plus(DAY, 4), SERVICE_ACCOUNT)),
                         all_pages(ce_fake.Fake(services=3, accounts=2, page_size=4),
                                   self.request(DAY, plus(DAY, 4), SERVICE_ACCOUNT)))

    def test_an_empty_day_alone_and_between_pages(self):
        fake = ce_fake.Fake(services=2, page_size=1)
        fake.set_scenario({"days": {DAY: {"empty": True}, plus(DAY, 2): {"empty": True, "estimated": True}}})
        pages = self.fitting_pages(fake, self.request(DAY, plus(DAY, 3)))
        # [empty], [a group], [a group], [empty]: AWS's shape of a period without costs.
        self.assertEqual(len(pages), 4)
        self.assertEqual(pages[0]["ResultsByTime"], [{"TimePeriod": {"Start": DAY, "End": plus(DAY, 1)},
                                                      "Total": {}, "Groups": [], "Estimated": False}])
        self.assertEqual(pages[3]["ResultsByTime"][0]["Groups"], [])
        self.assertTrue(pages[3]["ResultsByTime"][0]["Estimated"])
        self.assertEqual(len(periods_of(pages)[plus(DAY, 1)]["groups"]), 2)

    def test_invalid_scenarios_are_refused(self):
        fake = ce_fake.Fake()
        for bad in ({"dayz": {}}, {"days": {DAY: {"estimate": True}}}, {"days": {DAY: {"estimated": 1}}},
                    {"days": {"2024-02-30": {}}}, {"days": {DAY: {"bump": -1}}}, {"days": {DAY: {"bump": True}}},
                    {"days": {DAY: {"amounts": {"X": 1.5}}}}, {"delay": -1}):
            with self.assertRaises(ValueError, msg=bad):
                fake.set_scenario(bad)

    def test_scenarios_over_http(self):
        server = ce_fake.serve(services=2)
        self.addCleanup(server.close)
        spec = {"days": {DAY: {"estimated": True, "bump": 3}}, "delay": 0.01}
        self.assertEqual(ce_fake.set_scenario(server.url, spec), {"ok": True})
        with urllib.request.urlopen(server.url + "/scenario", timeout=10) as r:
            self.assertEqual(json.loads(r.read()), spec)
        with self.assertRaises(urllib.error.HTTPError) as e:
            ce_fake.set_scenario(server.url, {"days": {DAY: {"nope": 1}}})
        self.assertEqual(e.exception.code, 400)
        request = self.request(DAY, plus(DAY, 1))
        req = urllib.request.Request(server.url + "/", data=json.dumps(request).encode(), method="POST", headers={
            "X-Amz-Target": "AWSInsightsIndexService.GetCostAndUsage", "Content-Type": "application/x-amz-json-1.1",
            "Authorization": "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240305/us-east-1/ce/aws4_request"})
        with urllib.request.urlopen(req, timeout=10) as r:
            page = json.loads(r.read())
        self.assertEqual(botocore_shapes.problems("GetCostAndUsage", page), "")
        self.assertTrue(page["ResultsByTime"][0]["Estimated"])
        self.assertEqual(ce_fake.requests_received(server.url), [request])
        self.assertEqual(ce_fake.stats(server.url)["periods"], [[DAY, plus(DAY, 1), "DAILY"]])


if __name__ == "__main__":
    main()

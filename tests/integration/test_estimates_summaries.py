"""Issue 15, parts 1 and 2: following estimated days until they are final (`follow_estimates_days`)
and summary events (`events.summary`), the binary end to end against the tests' Cost Explorer fake
(moto cannot make a period's Estimated flag flip between pulls) with scenarios that make a day go
estimated -> restated -> final or have no costs, and the Node CloudEvents receiver (the cloudevents
SDK) as the target. The fake's scenario answers are checked against botocore's shapes for
GetCostAndUsage, and so is every request the binary sends it."""
import datetime as dt
import json
import urllib.error
import urllib.request
import unittest

from support import botocore_shapes, ce_fake
from support.env import main

DAY = "2024-03-05"
SERVICE = [{"Type": "DIMENSION", "Key": "SERVICE"}]
SERVICE_ACCOUNT = SERVICE + [{"Type": "DIMENSION", "Key": "LINKED_ACCOUNT"}]
COST_METRICS = ["AmortizedCost", "BlendedCost", "NetAmortizedCost", "NetUnblendedCost", "UnblendedCost"]


def iso(day):
    return day.isoformat() if isinstance(day, dt.date) else day


def plus(day, days):
    return (dt.date.fromisoformat(iso(day)) + dt.timedelta(days=days)).isoformat()


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

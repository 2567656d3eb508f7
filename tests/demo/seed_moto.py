#!/usr/bin/env python3
"""Seeds moto's Cost Explorer with sample billing data, paged as AWS pages.

moto answers each distinct GetCostAndUsage request body with the next queued result, so the pages
are queued in the order the service asks for them: the first page, then the one its NextPageToken
names, and so on.

    seed_moto.py --endpoint http://127.0.0.1:5000 --first -7 --last -1 [--page-size 10]

--first/--last are day offsets from today (UTC; -1 is yesterday), or YYYY-MM-DD dates.
"""
import argparse
import datetime as dt
import decimal
import json
import os
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
METRICS = ["AmortizedCost", "BlendedCost", "NetAmortizedCost", "NetUnblendedCost", "UnblendedCost"]


def load_sample(path=os.path.join(HERE, "sample-billing.json")):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def metric_amounts(unblended):
    """The five cost metrics of one group, as strings with AWS's ten decimals."""
    u = decimal.Decimal(unblended)
    net = (u * decimal.Decimal("0.97")).quantize(decimal.Decimal("0.0000000001"))
    values = {"AmortizedCost": u, "BlendedCost": u, "UnblendedCost": u,
              "NetAmortizedCost": net, "NetUnblendedCost": net}
    return {m: str(values[m]) if values[m] != 0 else "0" for m in METRICS}


def day_groups(sample, offset):
    """(estimated, [(service, {metric: amount})]) for a day offset; the week repeats."""
    days = sample["days"]
    day = days[(offset + len(days) * 1000) % len(days)]
    groups = [(name, metric_amounts(amount)) for name, amount in sorted(day["costs"].items())]
    return day["estimated"], groups


def parse_day(text, today):
    try:
        return today + dt.timedelta(days=int(text))
    except ValueError:
        return dt.date.fromisoformat(text)


def pages(sample, first, last, page_size, today, metrics=METRICS, unit="USD"):
    """GetCostAndUsage answers for [first, last]; groups are split over pages like AWS does."""
    rows = []  # (day, estimated, service, amounts)
    day = first
    while day <= last:
        estimated, groups = day_groups(sample, (day - today).days)
        if not groups:
            rows.append((day, estimated, None, None))
        for service, amounts in groups:
            rows.append((day, estimated, service, amounts))
        day += dt.timedelta(days=1)
    chunks = [rows[i:i + page_size] for i in range(0, len(rows), page_size)] or [[]]
    out = []
    for index, chunk in enumerate(chunks):
        by_day = {}
        for day, estimated, service, amounts in chunk:
            entry = by_day.setdefault(day, {
                "TimePeriod": {"Start": day.isoformat(),
                               "End": (day + dt.timedelta(days=1)).isoformat()},
                "Total": {}, "Groups": [], "Estimated": estimated})
            if service is not None:
                entry["Groups"].append({"Keys": [service], "Metrics": {
                    m: {"Amount": amounts.get(m, "0"), "Unit": unit} for m in metrics}})
        page = {"GroupDefinitions": [{"Type": "DIMENSION", "Key": "SERVICE"}],
                "ResultsByTime": list(by_day.values()), "DimensionValueAttributes": []}
        if index + 1 < len(chunks):
            page["NextPageToken"] = f"page-{index + 2}"
        out.append(page)
    return out


def seed(endpoint, results):
    req = urllib.request.Request(
        endpoint.rstrip("/") + "/moto-api/static/ce/cost-and-usage-results",
        data=json.dumps({"results": results}).encode(),
        headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=10) as res:
        res.read()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--first", default="-7")
    parser.add_argument("--last", default="-1")
    parser.add_argument("--page-size", type=int, default=25)
    parser.add_argument("--today", default=None, help="YYYY-MM-DD instead of today (UTC)")
    args = parser.parse_args()
    today = dt.date.fromisoformat(args.today) if args.today else dt.datetime.now(dt.timezone.utc).date()
    first, last = parse_day(args.first, today), parse_day(args.last, today)
    results = pages(load_sample(), first, last, args.page_size, today)
    seed(args.endpoint, results)
    groups = sum(len(p["ResultsByTime"][i]["Groups"]) for p in results for i in range(len(p["ResultsByTime"])))
    print(f"seeded {groups} groups for {first}..{last} in {len(results)} pages")


if __name__ == "__main__":
    main()

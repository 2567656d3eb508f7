#!/usr/bin/env python3
"""Benchmark 3, the reference pipeline: what a user would write instead of the service. boto3's
Cost Explorer client pages GetCostAndUsage (NextPageToken) for the period, each group becomes a
CloudEvent (py_mapping.py, the same mapping) and is POSTed in binary mode with http.client over
one keep-alive connection, one request per event, page by page.

    py_reference.py --endpoint http://127.0.0.1:P --target http://127.0.0.1:Q/ \
                    --start 2024-01-01 --end 2024-01-31
Prints {"seconds": s, "events": n, "pages": n} (its own clock, from before the client is made).
"""
import argparse
import http.client
import json
import os
import sys
import time
import urllib.parse

started = time.perf_counter()

import boto3  # noqa: E402

sys.dont_write_bytecode = True  # nothing written into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from py_mapping import binary, make_event, now_rfc3339  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--endpoint", required=True)
    p.add_argument("--target", required=True)
    p.add_argument("--start", required=True)
    p.add_argument("--end", required=True, help="exclusive, as the API wants it")
    p.add_argument("--accounts", type=int, default=1, help="0: group by SERVICE only")
    args = p.parse_args()
    ce = boto3.client("ce", endpoint_url=args.endpoint, region_name="us-east-1",
                      aws_access_key_id="AKIABENCHREFERENCE01", aws_secret_access_key="bench-secret")
    group_by = [{"Type": "DIMENSION", "Key": "SERVICE"}]
    if args.accounts:
        group_by.append({"Type": "DIMENSION", "Key": "LINKED_ACCOUNT"})
    target = urllib.parse.urlsplit(args.target)
    conn = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
    metrics = ["AmortizedCost", "BlendedCost", "NetAmortizedCost", "NetUnblendedCost", "UnblendedCost"]
    request = {"TimePeriod": {"Start": args.start, "End": args.end}, "Granularity": "DAILY",
               "Metrics": metrics, "GroupBy": group_by}
    events = pages = 0
    now = now_rfc3339()
    while True:
        page = ce.get_cost_and_usage(**request)
        pages += 1
        for period in page["ResultsByTime"]:
            for group in period["Groups"]:
                headers, body = binary(make_event(period, group, group_by, now))
                conn.request("POST", target.path or "/", body=body, headers=headers)
                resp = conn.getresponse()
                resp.read()
                if resp.status // 100 != 2:
                    sys.exit(f"event not acknowledged: {resp.status}")
                events += 1
        token = page.get("NextPageToken")
        if not token:
            break
        request["NextPageToken"] = token
    conn.close()
    print(json.dumps({"seconds": time.perf_counter() - started, "events": events, "pages": pages}))


if __name__ == "__main__":
    main()

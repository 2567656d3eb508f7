#!/usr/bin/env python3
"""A Cost Explorer fake for the benchmarks: GetCostAndUsage answered from pages rendered in
memory beforehand (bench/pages.py), so the peer costs next to nothing per request.

    ce_fast.py [--port 0] --services 300 --accounts 10 --start 2024-01-01 --days 30[,90...]
               [--page-size 5000] [--seed 1]
    prints {"port": N, "pages": n, "groups": n, "bytes": n} on stdout once it listens.
    GET /stats -> {"requests": n, "pages": n, "bad": n}

The periods given on the command line are rendered at start; any other period asked for is
rendered on its first request and kept. Like tests/integration/ce_fake.py, it checks that the
request is a signed GetCostAndUsage and pages with NextPageToken; unlike it, the groups are
realistic (pages.py) and nothing is computed per request.
"""
import argparse
import datetime as dt
import json
import os
import sys
import threading
from http.server import ThreadingHTTPServer

sys.dont_write_bytecode = True  # nothing written into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "integration"))
import pages as pagegen  # noqa: E402
from ce_fake import make_handler  # noqa: E402  (the same HTTP side as the tests' fake)


class Store:
    def __init__(self, gen, page_size):
        self.gen = gen
        self.page_size = page_size
        self.lock = threading.Lock()
        self.cache = {}
        self.stats = {"requests": 0, "pages": 0, "bad": 0}

    def pages_for(self, start, end, group_by):
        key = (start, end, json.dumps(group_by, sort_keys=True))
        with self.lock:
            if key not in self.cache:
                self.cache[key] = self.gen.pages(start, end, self.page_size, group_by or None)
            return self.cache[key]

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
        offset = pagegen.token_offset(token)
        index = offset // self.page_size
        if offset % self.page_size or index >= len(pages):
            raise ValueError("invalid NextPageToken")
        return pages[index]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--services", type=int, default=300)
    p.add_argument("--accounts", type=int, default=10)
    p.add_argument("--start", default="2024-01-01")
    p.add_argument("--days", default="30", help="lengths of the periods from --start to render, e.g. 30,90")
    p.add_argument("--page-size", type=int, default=5000)
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args()
    store = Store(pagegen.Generator(args.services, args.accounts, args.seed), args.page_size)
    start = dt.date.fromisoformat(args.start)
    group_by = [{"Type": "DIMENSION", "Key": "SERVICE"}]
    if args.accounts:
        group_by.append({"Type": "DIMENSION", "Key": "LINKED_ACCOUNT"})
    days = [int(d) for d in args.days.split(",")]
    rendered = [store.pages_for(start, start + dt.timedelta(days=d), group_by) for d in days]
    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(store))
    server.daemon_threads = True
    print(json.dumps({"port": server.server_address[1], "pages": sum(len(p) for p in rendered),
                      "groups": sum(days) * store.gen.groups_per_day(),
                      "bytes": sum(len(x) for p in rendered for x in p)}), flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()

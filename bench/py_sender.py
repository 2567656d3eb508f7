#!/usr/bin/env python3
"""Benchmark 2, the baseline: a Python sender posting binary-mode CloudEvents, one per request,
over `--connections` keep-alive http.client connections (one thread each). The events are made
from the corpus (untimed). Prints one JSON line per run: seconds, events, requests."""
import argparse
import http.client
import json
import os
import sys
import threading
import time
import urllib.parse

sys.dont_write_bytecode = True  # nothing written into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from py_mapping import binary, make_event, now_rfc3339  # noqa: E402


def load_requests(corpus, count):
    now = now_rfc3339()
    out = []
    with open(corpus, "rb") as f:
        lines = [line for line in f if line.strip()]
    while len(out) < count:
        for raw in lines:
            page = json.loads(raw)
            for period in page["ResultsByTime"]:
                for group in period["Groups"]:
                    out.append(binary(make_event(period, group, page["GroupDefinitions"], now)))
                    if len(out) == count:
                        return out
    return out


def send_all(url, requests, connections):
    target = urllib.parse.urlsplit(url)
    errors = []
    next_index = [0]
    lock = threading.Lock()

    def worker():
        conn = http.client.HTTPConnection(target.hostname, target.port, timeout=10)
        try:
            while True:
                with lock:
                    i = next_index[0]
                    next_index[0] += 1
                if i >= len(requests):
                    return
                headers, body = requests[i]
                conn.request("POST", target.path or "/", body=body, headers=headers)
                resp = conn.getresponse()
                resp.read()
                if resp.status // 100 != 2:
                    errors.append(resp.status)
        finally:
            conn.close()

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - started, errors


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--corpus", required=True)
    p.add_argument("--target", required=True)
    p.add_argument("--events", type=int, default=20000)
    p.add_argument("--connections", type=int, default=4)
    p.add_argument("--runs", type=int, default=5)
    args = p.parse_args()
    requests = load_requests(args.corpus, args.events)
    for i in range(args.runs):
        seconds, errors = send_all(args.target, requests, args.connections)
        if errors:
            sys.exit(f"{len(errors)} requests not acknowledged, e.g. status {errors[0]}")
        print(json.dumps({"run": i, "seconds": seconds, "events": len(requests),
                          "requests": len(requests)}), flush=True)


if __name__ == "__main__":
    main()

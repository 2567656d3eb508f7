#!/usr/bin/env python3
"""A display sink for the demo: prints every CloudEvent it receives, in any HTTP content mode.

    display_sink.py --port 18081 [--json]

Binary mode (ce- headers, percent-decoded), structured mode (application/cloudevents+json) and
batch mode (application/cloudevents-batch+json) are understood; every request is answered 202.
"""
import argparse
import json
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

lock = threading.Lock()
count = 0


def events_of(headers, body):
    ctype = headers.get("Content-Type", "")
    if ctype.startswith("application/cloudevents-batch+json"):
        return json.loads(body)
    if ctype.startswith("application/cloudevents+json"):
        return [json.loads(body)]
    event = {k[3:].lower(): urllib.parse.unquote(v) for k, v in headers.items() if k.lower().startswith("ce-")}
    event["datacontenttype"] = ctype
    event["data"] = json.loads(body) if "json" in ctype else body.decode("utf-8", "replace")
    return [event]


def show(event, as_json):
    if as_json:
        return json.dumps(event, ensure_ascii=False)
    data = event.get("data") or {}
    cost = data.get("unblendedCost") or next((v for v in data.values() if isinstance(v, dict) and "amount" in v), {})
    estimated = str(event.get("estimated")).lower() == "true"
    return (f"{event.get('type')}  {event.get('subject')}  "
            f"{cost.get('amount', '?')} {cost.get('unit', '')}{'  (estimated)' if estimated else ''}  "
            f"id={event.get('id')}")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    as_json = False

    def do_POST(self):
        global count
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        try:
            events = events_of(self.headers, body)
        except ValueError as e:
            self.send_response(400)
            self.send_header("Content-Length", "0")
            self.end_headers()
            print(f"display-sink: bad request: {e}", file=sys.stderr, flush=True)
            return
        with lock:
            for event in events:
                count += 1
                print(f"[{count:4d}] {show(event, self.as_json)}", flush=True)
        self.send_response(202)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=18081)
    parser.add_argument("--json", action="store_true", help="print whole events as JSON")
    args = parser.parse_args()
    Handler.as_json = args.json
    server = ThreadingHTTPServer((args.host, args.port), Handler)
    print(f"display-sink: listening on http://{args.host}:{args.port}/", file=sys.stderr, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()

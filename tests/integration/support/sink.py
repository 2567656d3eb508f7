"""CloudEvents sinks that record what they get: RecordingSink (an HTTP server of this process that
answers 202) and Receiver (the Node receiver of tests/receiver, with the cloudevents SDK)."""
import json
import os
import shutil
import subprocess
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler
from urllib.parse import unquote

from .env import SOURCE_DIR, require
from .httpd import Server
from .procs import free_port, wait_for_port

RECEIVER_DIR = os.path.join(SOURCE_DIR, "tests", "receiver")


class RecordingSink:
    """A local HTTP sink that records every request (method, path, headers as Python's HTTP
    server parsed them) and answers 202, after `delay` seconds (changeable while it runs)."""

    def __init__(self, delay=0.0):
        self.delay = delay
        self.lock = threading.Lock()
        self.requests = []
        sink = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if sink.delay:
                    time.sleep(sink.delay)
                with sink.lock:
                    sink.requests.append((self.command, self.path, list(self.headers.items())))
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = Server(Handler)
        self.url = self.server.url + "/"

    @property
    def subjects(self):
        """The ce-subject of every request (binary mode), percent-decoded."""
        with self.lock:
            return [unquote(dict((k.lower(), v) for k, v in h).get("ce-subject", "")) for _, _, h in self.requests]

    def count(self):
        with self.lock:
            return len(self.requests)

    def close(self):
        self.server.close()


class Receiver:
    """The Node CloudEvents receiver (tests/receiver/server.js) on a fixed or free port."""

    def __init__(self, procs, port=None):
        require(shutil.which("node"), "node")
        require(os.path.isdir(os.path.join(RECEIVER_DIR, "node_modules", "cloudevents")),
                "the cloudevents npm package (npm ci in tests/receiver)")
        self.procs = procs
        self.port = port or free_port()
        self.proc = None

    def start(self):
        self.proc = self.procs.start(["node", os.path.join(RECEIVER_DIR, "server.js"), "--port",
                                      str(self.port)], stdin=subprocess.PIPE)
        wait_for_port(self.port, proc=self.proc)
        return self

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}/"

    def _call(self, method, path, body=None):
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", method=method,
                                     data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as res:
            return json.loads(res.read())

    def received(self):
        return self._call("GET", "/events")

    def control(self, **kwargs):
        return self._call("POST", "/control", kwargs)

    def wait_for(self, count, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.received()
            if len(got["events"]) >= count:
                return got
            time.sleep(0.1)
        raise AssertionError(f"receiver got {len(self.received()['events'])} events, wanted {count}")

"""Shared helpers for the integration tests: the built binary, free ports, child processes.

Every test runs its peers on 127.0.0.1 with free ports and stops them, even on failure.
"""
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

BINARY = os.environ.get("SAB_BINARY", "")
SOURCE_DIR = os.environ.get("SAB_SOURCE_DIR", os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
IN_CI = os.environ.get("CI", "").lower() == "true"


def require(condition, what):
    """A missing peer fails the test in CI and is reported as skipped by name elsewhere."""
    if condition:
        return
    if IN_CI:
        raise AssertionError(f"required for this test but missing: {what}")
    raise unittest.SkipTest(f"skipped: {what} is missing")


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, timeout=15.0, proc=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"process exited with {proc.returncode} before listening on {port}")
        with contextlib.suppress(OSError):
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        time.sleep(0.05)
    raise AssertionError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


def write_config(directory, text, name="config.yml"):
    path = os.path.join(directory, name)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(path, 0o600)
    return path


class Processes:
    """Starts child processes and always stops them."""

    def __init__(self):
        self.procs = []

    def start(self, args, **kwargs):
        kwargs.setdefault("stdout", subprocess.PIPE)
        kwargs.setdefault("stderr", subprocess.PIPE)
        proc = subprocess.Popen(args, start_new_session=True, **kwargs)
        self.procs.append(proc)
        return proc

    def stop_all(self):
        for proc in self.procs:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
            with contextlib.suppress(Exception):
                proc.wait(timeout=5)
            for stream in (proc.stdout, proc.stderr):
                if stream:
                    with contextlib.suppress(Exception):
                        stream.close()


class ServiceTestCase(unittest.TestCase):
    """Base class: a temp directory and process bookkeeping per test."""

    def setUp(self):
        require(BINARY and os.path.exists(BINARY), "the built binary (SAB_BINARY)")
        self.tmp = tempfile.mkdtemp(prefix="sab-test-")
        self.procs = Processes()

    def tearDown(self):
        self.procs.stop_all()
        shutil.rmtree(self.tmp, ignore_errors=True)


def main():
    result = unittest.main(exit=False, verbosity=2).result
    sys.exit(0 if result.wasSuccessful() else 1)


class RecordingSink:
    """A local HTTP sink that records every request (method, path, headers as Python's HTTP
    server parsed them) and answers 202, after `delay` seconds (changeable while it runs)."""

    def __init__(self, delay=0.0):
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

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

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"

    @property
    def subjects(self):
        """The ce-subject of every request (binary mode), percent-decoded."""
        from urllib.parse import unquote

        with self.lock:
            return [unquote(dict((k.lower(), v) for k, v in h).get("ce-subject", "")) for _, _, h in self.requests]

    def count(self):
        with self.lock:
            return len(self.requests)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


NGINX_CONF = """daemon off;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 256; }}
http {{
  log_format lines '{log_format}';
  access_log {prefix}/access.log lines;
  client_body_temp_path {prefix}/body;
  proxy_temp_path {prefix}/proxy;
  fastcgi_temp_path {prefix}/fastcgi;
  uwsgi_temp_path {prefix}/uwsgi;
  scgi_temp_path {prefix}/scgi;
  server {{
{server}
  }}
}}
"""


def start_nginx(procs, prefix, port, log_format, server):
    """Debian's nginx on 127.0.0.1:`port` in a folder of its own (no system files): `server` is
    the body of its one server block (listen line included), `log_format` its access log line.
    Returns the path of the access log."""
    os.makedirs(prefix)
    conf = os.path.join(prefix, "nginx.conf")
    with open(conf, "w") as f:
        f.write(NGINX_CONF.format(prefix=prefix, log_format=log_format, server=server))
    proc = procs.start(["nginx", "-p", prefix, "-c", conf, "-e", os.path.join(prefix, "error.log")],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_port(port, proc=proc)
    return os.path.join(prefix, "access.log")

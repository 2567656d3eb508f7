"""The running service: its HTTP endpoints with a real client, promtool, config errors, SIGTERM."""
import http.client
import os
import shutil
import signal
import socket
import subprocess
import time

from support.env import BINARY, main, require
from support.procs import free_port, wait_for_port
from support.service import ServiceTestCase, write_config


class ServiceTest(ServiceTestCase):
    def start_service(self, extra=""):
        self.port = free_port()
        cfg = write_config(self.tmp, f"target: http://127.0.0.1:1/\nlisten: 127.0.0.1:{self.port}\n"
                                     f"state_dir: {self.tmp}/state\n{extra}")
        self.proc = self.procs.start([BINARY, "--config", cfg])
        wait_for_port(self.port, proc=self.proc)
        return self.proc

    def get(self, path, method="GET"):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        conn.request(method, path)
        res = conn.getresponse()
        body = res.read().decode()
        conn.close()
        return res.status, dict(res.getheaders()), body

    def test_endpoints(self):
        self.start_service()
        status, _, body = self.get("/healthz")
        self.assertEqual((status, body), (200, "ok\n"))
        status, headers, body = self.get("/metrics")
        self.assertEqual(status, 200)
        self.assertIn("text/plain; version=0.0.4", headers["Content-Type"])
        self.assertIn("aws_billing_source_build_info{", body)
        status, _, _ = self.get("/nope")
        self.assertEqual(status, 404)
        status, headers, _ = self.get("/healthz", method="POST")
        self.assertEqual(status, 405)
        self.assertEqual(headers["Allow"], "GET, HEAD")
        status, headers, body = self.get("/healthz", method="HEAD")
        self.assertEqual((status, body), (200, ""))

    def test_keep_alive(self):
        self.start_service()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        for _ in range(3):
            conn.request("GET", "/healthz")
            res = conn.getresponse()
            self.assertEqual(res.status, 200)
            res.read()
        conn.close()

    def test_metrics_pass_promtool(self):
        promtool = shutil.which("promtool")
        require(promtool, "promtool (Debian package prometheus)")
        self.start_service()
        _, _, body = self.get("/metrics")
        check = subprocess.run([promtool, "check", "metrics"], input=body.encode(),
                               capture_output=True, timeout=30)
        output = (check.stdout + check.stderr).decode()
        self.assertEqual(check.returncode, 0, output)
        self.assertEqual(output.strip(), "", "promtool printed warnings")

    def test_oversized_request_is_refused(self):
        self.start_service()
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n")
            answer = s.recv(4096)
        self.assertTrue(answer.startswith(b"HTTP/1.1 413"), answer[:64])

    def test_stalled_half_request_does_not_block_others(self):
        self.start_service()
        stalled = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        stalled.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # no end of headers
        try:
            status, _, _ = self.get("/healthz")
            self.assertEqual(status, 200)
        finally:
            stalled.close()

    def test_stalled_client_is_dropped_after_the_read_deadline(self):
        self.start_service()
        stalled = socket.create_connection(("127.0.0.1", self.port), timeout=20)
        stalled.sendall(b"GET /healthz HTTP/1.1\r\n")
        # The server closes it (read deadline 10s): recv returns b"" instead of timing out.
        self.assertEqual(stalled.recv(1024), b"")
        stalled.close()

    def test_sigterm_exits_zero_quickly(self):
        proc = self.start_service()
        self.assertEqual(self.get("/healthz")[0], 200)
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        self.assertEqual(proc.wait(timeout=5), 0)
        self.assertLess(time.monotonic() - started, 1.0)

    def test_port_zero_is_logged(self):
        cfg = write_config(self.tmp, "target: http://127.0.0.1:1/\nlisten: 127.0.0.1:0\n"
                                     "log: {format: json}\n")
        proc = self.procs.start([BINARY, "--config", cfg])
        line = proc.stderr.readline().decode()
        self.assertIn('"msg":"listening"', line)
        self.assertIn('"port":', line)
        proc.send_signal(signal.SIGTERM)
        self.assertEqual(proc.wait(timeout=5), 0)


class ConfigCliTest(ServiceTestCase):
    def run_binary(self, *args, env=None):
        return subprocess.run([BINARY, *args], capture_output=True, timeout=30, env=env)

    def test_broken_config_exits_2_naming_the_keys(self):
        cfg = write_config(self.tmp, "pull_hour: 25\ndelivery: {mode: carrier-pigeon}\nfoo: 1\n")
        r = self.run_binary("--config", cfg, "--check-config")
        self.assertEqual(r.returncode, 2)
        err = r.stderr.decode()
        for needle in ("pull_hour: must be from 0 to 23, got 25", "delivery.mode:", "foo: unknown key",
                       "target: is required"):
            self.assertIn(needle, err)

    def test_check_config_masks_secrets(self):
        cfg = write_config(self.tmp, "target: http://x/\nsecret: {access_key_id: AKIAIOSFODNN7EXAMPLE,"
                                     " secret_access_key: wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY}\n")
        r = self.run_binary("--config", cfg, "--check-config")
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        out = r.stdout.decode() + r.stderr.decode()
        self.assertNotIn("wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY", out)
        self.assertNotIn("IOSFODNN7EXAMPLE", out)

    def test_connector_config_env_and_missing_file(self):
        cfg = write_config(self.tmp, "target: http://x/\n")
        env = dict(os.environ, CONNECTOR_CONFIG=cfg)
        self.assertEqual(self.run_binary("--check-config", env=env).returncode, 0)
        env = dict(os.environ, CONNECTOR_CONFIG=os.path.join(self.tmp, "missing.yml"))
        r = self.run_binary("--check-config", env=env)
        self.assertEqual(r.returncode, 2)
        self.assertIn("cannot be read", r.stderr.decode())

    def test_usage_errors_exit_2(self):
        self.assertEqual(self.run_binary("--bogus").returncode, 2)
        self.assertEqual(self.run_binary("--once", "--date", "2024-02-30").returncode, 2)
        r = self.run_binary("--version")
        self.assertEqual(r.returncode, 0)
        self.assertTrue(r.stdout.decode().startswith("source-aws-billing "))


if __name__ == "__main__":
    main()

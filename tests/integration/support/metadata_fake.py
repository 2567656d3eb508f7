"""Local stand-ins for the AWS credential endpoints, for the credential-source tests.

- ContainerCredentialsFake: the ECS / EKS Pod Identity container credentials endpoint (GET with the
  Authorization token required, the agents' JSON with Expiration).
- ImdsFake: IMDSv2 as EC2 documents it (PUT /latest/api/token with a TTL header, GETs only with a
  valid, unexpired X-aws-ec2-metadata-token, 401 otherwise: IMDSv1 refused; the role name; its
  credentials JSON).
- SilentServer: accepts TCP connections and never answers (a metadata service that hangs).
- RecordingProxy: a reverse proxy in front of moto that records what moto was asked: the access
  key id and signing region of each SigV4 Authorization, X-Amz-Target, the STS form fields
  (Action, RoleArn, RoleSessionName, ExternalId), the status, and the AccessKeyId STS answered.
  No secret is recorded.

Standard library only. Every
server listens on 127.0.0.1 with a free port and is stopped by close().
"""
import datetime as dt
import http.client
import json
import re
import secrets
import socket
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ISO = "%Y-%m-%dT%H:%M:%SZ"


def iso(when):
    return when.astimezone(dt.timezone.utc).strftime(ISO)


def credentials_json(creds, **extra):
    """The JSON both metadata services answer with: creds is a dict with AccessKeyId,
    SecretAccessKey, SessionToken and Expiration (a datetime), as boto3's STS answer has them."""
    body = {"AccessKeyId": creds["AccessKeyId"], "SecretAccessKey": creds["SecretAccessKey"],
            "Token": creds["SessionToken"], "Expiration": iso(creds["Expiration"])}
    body.update(extra)
    return json.dumps(body).encode()


class _Server:
    """A threaded HTTP server on 127.0.0.1 whose handler calls self.handle(request)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.requests = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _any(self):
                length = int(self.headers.get("Content-Length", "0") or 0)
                body = self.rfile.read(length) if length else b""
                status, headers, answer = owner.handle(self.command, self.path, self.headers, body)
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            do_GET = do_PUT = do_POST = _any

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.server.server_address[1]

    def record(self, entry):
        with self.lock:
            self.requests.append(entry)

    def recorded(self):
        with self.lock:
            return list(self.requests)

    def close(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


class ContainerCredentialsFake(_Server):
    """GET `path` with Authorization equal to `token` (when one is set) answers the credentials
    that `credentials()` returns (a boto3-style STS Credentials dict); a missing or wrong token is
    a 401, another path a 404. `token` may be changed while it runs (a rotated token)."""

    def __init__(self, credentials, path="/v1/credentials", token=None):
        self.credentials = credentials
        self.path = path
        self.token = token
        super().__init__()

    def handle(self, method, path, headers, body):
        auth = headers.get("Authorization")
        self.record({"method": method, "path": path, "authorization": auth})
        if method != "GET" or path != self.path:
            return 404, [], b'{"message":"not found"}'
        if self.token is not None and auth != self.token:
            return 401, [], b'{"message":"unauthorized"}'
        creds = self.credentials()
        return 200, [("Content-Type", "application/json")], credentials_json(
            creds, RoleArn="arn:aws:iam::123456789012:role/billing-reader", AccountId="123456789012")


class ImdsFake(_Server):
    """IMDSv2: tokens from PUT /latest/api/token (TTL header required, 1 to 21600 seconds), then
    GET /latest/meta-data/iam/security-credentials/ (the role) and .../<role> (credentials from
    `credentials()`), each only with a valid token."""

    CREDS = "/latest/meta-data/iam/security-credentials/"

    def __init__(self, credentials, role="billing-reader"):
        self.credentials = credentials
        self.role = role
        self.tokens = {}  # token -> monotonic expiry
        super().__init__()

    def handle(self, method, path, headers, body):
        ttl = headers.get("X-aws-ec2-metadata-token-ttl-seconds")
        token = headers.get("X-aws-ec2-metadata-token")
        self.record({"method": method, "path": path, "ttl": ttl, "has_token": token is not None})
        if path == "/latest/api/token":
            if method != "PUT":
                return 405, [], b""
            if ttl is None or not ttl.isdigit() or not 1 <= int(ttl) <= 21600:
                return 400, [], b""
            new = secrets.token_urlsafe(32)
            with self.lock:
                self.tokens[new] = time.monotonic() + int(ttl)
            return 200, [("X-aws-ec2-metadata-token-ttl-seconds", ttl)], new.encode()
        with self.lock:
            expiry = self.tokens.get(token or "")
        if method != "GET" or expiry is None or expiry < time.monotonic():
            return 401, [], b""
        if path == self.CREDS:
            return 200, [("Content-Type", "text/plain")], self.role.encode()
        if path == self.CREDS + self.role:
            creds = self.credentials()
            return 200, [("Content-Type", "text/plain")], credentials_json(
                creds, Code="Success", Type="AWS-HMAC", LastUpdated=iso(dt.datetime.now(dt.timezone.utc)))
        return 404, [], b""


class SilentServer:
    """Accepts connections on 127.0.0.1 and holds them without answering."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.held = []
        self.running = True
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while self.running:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.sock.getsockname()[1]

    @property
    def accepted(self):
        return len(self.held)

    def close(self):
        self.running = False
        self.sock.close()
        for conn in self.held:
            conn.close()


AUTH = re.compile(r"Credential=([^/,\s]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")


class RecordingProxy(_Server):
    """Forwards every request to `upstream` (moto) unchanged (Host included, so signatures hold)
    and records, per request: key_id, region and service of the SigV4 credential scope, target
    (X-Amz-Target), form (the STS form fields that name a role), status, and answered_key_id
    (the AccessKeyId of an STS answer)."""

    FORM_FIELDS = ("Action", "RoleArn", "RoleSessionName", "ExternalId", "DurationSeconds")

    def __init__(self, upstream):
        self.upstream = urllib.parse.urlsplit(upstream)
        super().__init__()

    def handle(self, method, path, headers, body):
        entry = {"method": method, "path": path, "target": headers.get("X-Amz-Target"),
                 "key_id": None, "region": None, "service": None, "form": {},
                 "has_token": headers.get("X-Amz-Security-Token") is not None}
        m = AUTH.search(headers.get("Authorization", ""))
        if m:
            entry["key_id"], entry["region"], entry["service"] = m.groups()
        if headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
            form = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
            entry["form"] = {k: v[0] for k, v in form.items() if k in self.FORM_FIELDS}
        conn = http.client.HTTPConnection(self.upstream.hostname, self.upstream.port, timeout=60)
        try:
            conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
            for name, value in headers.items():
                if name.lower() not in ("connection", "keep-alive", "proxy-connection"):
                    conn.putheader(name, value)
            conn.endheaders(body)
            resp = conn.getresponse()
            answer = resp.read()
            status = resp.status
            out_headers = [(k, v) for k, v in resp.getheaders()
                           if k.lower() not in ("connection", "content-length", "transfer-encoding",
                                                "keep-alive")]
        finally:
            conn.close()
        entry["status"] = status
        found = re.search(rb"<AccessKeyId>([^<]+)</AccessKeyId>", answer)
        entry["answered_key_id"] = found.group(1).decode() if found else None
        self.record(entry)
        return status, out_headers, answer

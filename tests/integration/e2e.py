"""End-to-end fixtures: moto's Cost Explorer with SigV4 verification on, the Node CloudEvents
receiver (cloudevents SDK), and the service binary between them."""
import datetime as dt
import json
import os
import shutil
import struct
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "demo"))

from common import BINARY, SOURCE_DIR, free_port, require, wait_for_port, write_config  # noqa: E402
import seed_moto  # noqa: E402

RECEIVER_DIR = os.path.join(SOURCE_DIR, "tests", "receiver")
METRICS = seed_moto.METRICS


def utc_today():
    return dt.datetime.now(dt.timezone.utc).date()


def start_moto(procs, tmp):
    """moto with SigV4 verification after the IAM bootstrap; returns (url, key id, secret)."""
    try:
        import boto3
    except ImportError:
        require(False, "python module boto3")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["INITIAL_NO_AUTH_ACTION_COUNT"] = "3"
    log = open(os.path.join(tmp, "moto.log"), "wb")
    proc = procs.start([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                       env=env, stdout=log, stderr=subprocess.STDOUT)
    log.close()
    wait_for_port(port, timeout=60, proc=proc)
    url = f"http://127.0.0.1:{port}"
    iam = boto3.client("iam", endpoint_url=url, region_name="us-east-1",
                       aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap")
    iam.create_user(UserName="billing")
    key = iam.create_access_key(UserName="billing")["AccessKey"]
    iam.put_user_policy(UserName="billing", PolicyName="ce-read", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "ce:GetCostAndUsage", "Resource": "*"}]}))
    return url, key["AccessKeyId"], key["SecretAccessKey"]


def group(service, amount, unit="USD"):
    return {"Keys": [service], "Metrics": {m: {"Amount": amount, "Unit": unit} for m in METRICS}}


def result_pages(days_groups, page_size, estimated=False):
    """[(date, [group...])] -> GetCostAndUsage pages with NextPageToken chaining."""
    rows = [(day, g) for day, groups in days_groups for g in groups]
    chunks = [rows[i:i + page_size] for i in range(0, len(rows), page_size)] or [[]]
    pages = []
    for index, chunk in enumerate(chunks):
        by_day = {}
        for day, g in chunk:
            by_day.setdefault(day, {"TimePeriod": {"Start": day.isoformat(),
                                                   "End": (day + dt.timedelta(days=1)).isoformat()},
                                    "Total": {}, "Groups": [], "Estimated": estimated})["Groups"].append(g)
        page = {"GroupDefinitions": [{"Type": "DIMENSION", "Key": "SERVICE"}],
                "ResultsByTime": list(by_day.values()), "DimensionValueAttributes": []}
        if index + 1 < len(chunks):
            page["NextPageToken"] = f"token-{index + 2}"
        pages.append(page)
    return pages


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


def service_config(tmp, target, endpoint, http_port=None, extra=""):
    listen = f"127.0.0.1:{http_port}" if http_port else "127.0.0.1:0"
    return write_config(tmp, f"""target: {target}
endpoint: {endpoint}
state_dir: {tmp}/state
listen: {listen}
log: {{format: json, level: debug}}
{extra}""")


def aws_env(key_id, secret, **extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k != "SAB_FAKE_NOW"}
    env.update(AWS_ACCESS_KEY_ID=key_id, AWS_SECRET_ACCESS_KEY=secret, **extra)
    return env


def read_checkpoint(tmp):
    path = os.path.join(tmp, "state", "state.json")
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as f:
        return json.load(f).get("checkpoint")


def read_journal(path):
    """Reads the journal of acknowledgements the way its format says (src/state/journal.hpp: a
    header, records of length + CRC32C + payload, then preallocated zeros): ({(period day number,
    id hex)}, the offset where the records end). Fails on anything but a clean file."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:4] == b"SABJ" and struct.unpack("<I", data[4:8])[0] == 1, data[:8]
    out, at = set(), 8
    while at + 4 <= len(data):
        length, crc = struct.unpack("<II", data[at:at + 8])
        if length == 0:
            break
        payload = data[at + 8:at + 8 + length]
        assert len(payload) == length and (length - 4) % 16 == 0, (at, length)
        assert crc == crc32c(data[at:at + 4] + payload), at
        period = struct.unpack("<i", payload[:4])[0]
        for i in range(4, length, 16):
            out.add((period, payload[i:i + 16].hex()))
        at += 8 + length
    assert not data[at:].strip(b"\0"), "only zeros after the records"
    return out, at


def _crc32c_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


CRC32C_TABLE = _crc32c_table()


def crc32c(data):
    """CRC32C (Castagnoli): crc32c(b"123456789") == 0xE3069283."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc = CRC32C_TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def run_once(args, env, timeout=120):
    return subprocess.run([BINARY, *args], env=env, capture_output=True, timeout=timeout)

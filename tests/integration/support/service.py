"""The service under test: a unittest base class with a temp directory and process bookkeeping,
its config file, its environment (credentials, no AWS_* of the caller), its state file, one
`--once` run."""
import datetime as dt
import json
import os
import shutil
import subprocess
import tempfile
import unittest

from .env import BINARY, require
from .procs import Processes


class ServiceTestCase(unittest.TestCase):
    """Base class: a temp directory and process bookkeeping per test."""

    def setUp(self):
        require(BINARY and os.path.exists(BINARY), "the built binary (SAB_BINARY)")
        self.tmp = tempfile.mkdtemp(prefix="sab-test-")
        self.procs = Processes()

    def tearDown(self):
        self.procs.stop_all()
        shutil.rmtree(self.tmp, ignore_errors=True)


def write_config(directory, text, name="config.yml"):
    path = os.path.join(directory, name)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(path, 0o600)
    return path


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


def run_once(args, env, timeout=120):
    return subprocess.run([BINARY, *args], env=env, capture_output=True, timeout=timeout)


def utc_today():
    return dt.datetime.now(dt.timezone.utc).date()

"""Helpers for the AWS integration tests: start moto's server, run the live doctest drivers
(tests/aws/live_test.cpp) of the unit test binary, parse their result lines."""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import free_port, require, wait_for_port  # noqa: E402

BINARY_DIR = os.environ.get("SAB_BINARY_DIR", "")
UNIT_TESTS = os.path.join(BINARY_DIR, "tests", "unit_tests") if BINARY_DIR else ""


def require_unit_tests():
    require(UNIT_TESTS and os.path.exists(UNIT_TESTS), "the unit test binary (SAB_BINARY_DIR)")


def require_module(name):
    try:
        __import__(name)
    except ImportError:
        require(False, "python module " + name)


def start_moto(procs, tmp, no_auth_actions=None):
    """moto's server on a free port; with no_auth_actions, SigV4/IAM checks start after that many
    requests. Its output goes to a file (a pipe nobody reads would block it)."""
    require_module("moto")
    port = free_port()
    env = dict(os.environ)
    for k in list(env):
        if k.startswith("AWS_"):
            del env[k]
    if no_auth_actions is not None:
        env["INITIAL_NO_AUTH_ACTION_COUNT"] = str(no_auth_actions)
    log = open(os.path.join(tmp, "moto-%d.log" % port), "wb")
    proc = procs.start([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                       env=env, stdout=log, stderr=subprocess.STDOUT)
    log.close()
    wait_for_port(port, timeout=60, proc=proc)
    return "http://127.0.0.1:%d" % port


def run_live(case, env_extra, timeout=120):
    """Runs one live doctest case; returns (parsed result lines by tag, full output)."""
    env = dict(os.environ)
    for k in list(env):
        if k.startswith("AWS_") or k.startswith("SAB_LIVE_"):
            del env[k]
    env.update(env_extra)
    proc = subprocess.run([UNIT_TESTS, "--no-skip", "-tc=" + case], env=env, timeout=timeout,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = proc.stdout.decode("utf-8", "replace")
    results = {}
    for line in out.splitlines():
        if line.startswith("LIVE-"):
            tag, _, rest = line.partition(" ")
            results[tag] = json.loads(rest)
    if proc.returncode != 0 or "test cases: 1 | 1 passed" not in out:
        raise AssertionError("live driver '%s' failed:\n%s" % (case, out))
    return results, out

"""The live doctest drivers (tests/aws/live_test.cpp) of the unit test binary: run one case against
a peer the test started, parse its LIVE-* result lines."""
import json
import os
import subprocess

from .env import BINARY_DIR, require

UNIT_TESTS = os.path.join(BINARY_DIR, "tests", "unit_tests") if BINARY_DIR else ""


def require_unit_tests():
    require(UNIT_TESTS and os.path.exists(UNIT_TESTS), "the unit test binary (SAB_BINARY_DIR)")


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

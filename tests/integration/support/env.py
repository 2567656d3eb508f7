"""What a test run is given: the built binary, the source and build trees, whether it runs in CI.
`require` turns a missing peer into a failure (CI) or a named skip (elsewhere); `main` is the entry
point of every test file."""
import os
import subprocess
import sys
import unittest

BINARY = os.environ.get("SAB_BINARY", "")
BINARY_DIR = os.environ.get("SAB_BINARY_DIR", "")
SOURCE_DIR = os.environ.get("SAB_SOURCE_DIR",
                            os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..")))
IN_CI = os.environ.get("CI", "").lower() == "true"


def require(condition, what):
    """A missing peer fails the test in CI and is reported as skipped by name elsewhere."""
    if condition:
        return
    if IN_CI:
        raise AssertionError(f"required for this test but missing: {what}")
    raise unittest.SkipTest(f"skipped: {what} is missing")


def require_module(name):
    try:
        __import__(name)
    except ImportError:
        require(False, "python module " + name)


def sanitized(path):
    """True when the program at `path` is built with AddressSanitizer (its memory use is not
    representative then)."""
    try:
        out = subprocess.run(["ldd", path], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return b"libasan" in out


def main():
    result = unittest.main(exit=False, verbosity=2).result
    sys.exit(0 if result.wasSuccessful() else 1)

"""The layer check itself: the repository passes it, and an upward include fails it by name."""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

from common import SOURCE_DIR, main

CHECK = os.path.join(SOURCE_DIR, "tests", "lint", "check_layers.py")


class Layers(unittest.TestCase):
    def run_check(self, src):
        return subprocess.run([sys.executable, CHECK, src], capture_output=True, text=True, timeout=60)

    def test_the_sources_pass(self):
        r = self.run_check(os.path.join(SOURCE_DIR, "src"))
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_an_upward_include_fails_naming_the_file(self):
        with tempfile.TemporaryDirectory() as tmp:
            src = os.path.join(tmp, "src")
            shutil.copytree(os.path.join(SOURCE_DIR, "src"), src)
            with open(os.path.join(src, "net", "url.cpp"), "a", encoding="utf-8") as f:
                f.write('\n#include "app/runtime.hpp"\n')
            os.makedirs(os.path.join(src, "extras"))
            r = self.run_check(src)
            self.assertEqual(r.returncode, 1)
            self.assertIn("src/net/url.cpp", r.stderr)
            self.assertIn("net/ includes app/", r.stderr)
            self.assertIn("src/extras/", r.stderr)


if __name__ == "__main__":
    main()

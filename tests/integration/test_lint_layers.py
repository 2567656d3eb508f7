"""The lint checks of the source structure: the repository passes the layer check and the header
check, an upward include fails the first by name, a header without its opening comment the second."""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

from support.env import SOURCE_DIR, main

CHECK = os.path.join(SOURCE_DIR, "tests", "lint", "check_layers.py")
HEADERS = os.path.join(SOURCE_DIR, "tests", "lint", "check_headers.py")


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


class HeaderOpenings(unittest.TestCase):
    def run_check(self, top):
        return subprocess.run([sys.executable, HEADERS, top], capture_output=True, text=True, timeout=60)

    def test_the_headers_pass(self):
        r = self.run_check(SOURCE_DIR)
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_a_header_without_its_opening_comment_fails_naming_it(self):
        with tempfile.TemporaryDirectory() as tmp:
            os.makedirs(os.path.join(tmp, "src", "net"))
            cases = {
                "bare.hpp": "#pragma once\n\n#include <string>\n",
                "one_line.hpp": "#pragma once\n\n// Only one line.\n\n#include <string>\n",
                "late.hpp": "#pragma once\n\n#include <string>\n\n// What it is for,\n// after the includes.\n",
                "long.hpp": "#pragma once\n\n" + "// line\n" * 5 + "\n#include <string>\n",
                "good.hpp": "#pragma once\n\n// What it is for,\n// in two lines.\n//\n// Details.\n\n#include <string>\n",
            }
            for name, text in cases.items():
                with open(os.path.join(tmp, "src", "net", name), "w", encoding="utf-8") as f:
                    f.write(text)
            r = self.run_check(tmp)
            self.assertEqual(r.returncode, 1)
            for name in ("bare.hpp", "one_line.hpp", "late.hpp", "long.hpp"):
                self.assertIn(f"src/net/{name}", r.stderr)
            self.assertNotIn("good.hpp", r.stderr)


if __name__ == "__main__":
    main()

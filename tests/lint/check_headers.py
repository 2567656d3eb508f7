#!/usr/bin/env python3
"""Every header says what its module is for before anything else: after `#pragma once`, an
opening comment of two to four lines before the first include (details may follow it after an
empty `//` line). Run by the lint stage over the headers
of src/, tests/ and bench/; prints each header that does not and exits 1 when there is one."""
import os
import sys

ROOTS = ("src", "tests", "bench")
SUFFIXES = (".hpp", ".hpp.in")


def problem(text):
    """What is wrong with the opening of a header's text, or None."""
    lines = text.split("\n")
    if not lines or lines[0].strip() != "#pragma once":
        return "does not start with #pragma once"
    rest = lines[1:]
    while rest and rest[0].strip() == "":
        rest.pop(0)
    opening = []
    while rest and rest[0].startswith("//") and rest[0].strip() != "//":
        opening.append(rest.pop(0))
    if not 2 <= len(opening) <= 4:
        return f"opens with {len(opening)} comment lines after #pragma once (2 to 4 say what it is for)"
    return None


def check(top):
    problems = []
    for root in ROOTS:
        for folder, dirs, files in os.walk(os.path.join(top, root)):
            dirs[:] = sorted(d for d in dirs if d not in ("node_modules", "__pycache__", "data"))
            for name in sorted(files):
                if not name.endswith(SUFFIXES):
                    continue
                path = os.path.join(folder, name)
                with open(path, encoding="utf-8", errors="replace") as f:
                    p = problem(f.read())
                if p:
                    problems.append(f"{os.path.relpath(path, top)}: {p}")
    return problems


def main():
    top = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..")
    problems = check(os.path.abspath(top))
    for p in problems:
        print(p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

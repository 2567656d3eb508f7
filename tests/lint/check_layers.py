#!/usr/bin/env python3
"""Dependencies point down only: each folder of src/ may include its own headers and those of the
folders below it (LAYERS), never a folder above. Run by the build (target check_layers) and by the
lint stage; prints every upward include and exits 1 when there is one."""
import os
import re
import sys

# folder -> the folders it may include (besides itself). app is the top; main.cpp may use all.
LAYERS = {
    "common": set(),
    "config": {"common"},
    "metrics": {"common"},
    "net": {"common"},
    "state": {"common"},
    "events": {"common", "config"},
    "schedule": {"common", "config"},
    "aws": {"common", "config", "metrics", "net"},
    "delivery": {"common", "config", "events", "metrics", "net"},
    "app": {"common", "config", "metrics", "net", "state", "events", "schedule", "aws", "delivery"},
}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([a-z_]+)/')


def check(src):
    problems = []
    folders = sorted(d for d in os.listdir(src) if os.path.isdir(os.path.join(src, d)))
    for folder in folders:
        if folder not in LAYERS:
            problems.append(f"src/{folder}/: a folder with no place in the layers (add it to LAYERS)")
            continue
        allowed = LAYERS[folder] | {folder}
        for root, _, files in os.walk(os.path.join(src, folder)):
            for name in sorted(files):
                path = os.path.join(root, name)
                with open(path, encoding="utf-8", errors="replace") as f:
                    for number, line in enumerate(f, 1):
                        m = INCLUDE.match(line)
                        if m and m.group(1) in LAYERS and m.group(1) not in allowed:
                            rel = os.path.relpath(path, os.path.dirname(src))
                            problems.append(f"{rel}:{number}: {folder}/ includes {m.group(1)}/, "
                                            f"a folder above it")
    return problems


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..", "src")
    problems = check(os.path.abspath(src))
    for p in problems:
        print(p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env bash
# Configures and builds with a CMake preset (CMakePresets.json): `ci` by default (the release
# build of the test command, warnings as errors, in build/), `dev`, `asan` or `fuzz`. Extra
# arguments go to cmake's configure step.
set -euo pipefail
cd "$(dirname "$0")/.."
preset=${1:-ci}
shift || true
cmake --preset "$preset" "$@" >/dev/null
cmake --build --preset "$preset" -j"$(nproc)"

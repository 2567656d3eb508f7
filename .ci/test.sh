#!/usr/bin/env bash
# The whole test suite on a fresh Debian 12 machine: installs what is missing, then
#   1. builds (the ci preset: RelWithDebInfo, warnings as errors) and runs every unit and
#      integration test with ctest;
#   lint: clang-format, the include layers, clang-tidy, flake8 and shellcheck (.ci/lint.sh);
#   2. builds the same suite with ASan + UBSan and runs it again;
#   3. runs each libFuzzer target for a bounded time on its seed corpus;
#   4. package: builds the image with podman and runs it, renders and validates the Helm chart
#      (the tests labelled `package`, run with the release build's binary).
# SAB_TEST_STAGES picks stages for a quicker local run (default "release lint sanitize fuzz package");
# SAB_FUZZ_SECONDS is the time per fuzz target (default 20).
set -euo pipefail
cd "$(dirname "$0")/.."
stages=" ${SAB_TEST_STAGES:-release lint sanitize fuzz package} "
bash .ci/setup.sh

if [[ $stages == *" release "* ]]; then
  echo "== test: release build" >&2
  bash .ci/build.sh ci
  (cd build && ctest --output-on-failure -j2 --timeout 900 -LE package)
fi

if [[ $stages == *" lint "* ]]; then
  echo "== test: lint" >&2
  bash .ci/lint.sh
fi

if [[ $stages == *" sanitize "* ]]; then
  echo "== test: ASan + UBSan build" >&2
  # No suppressions: any leak, overflow or undefined behaviour fails the run.
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  bash .ci/build.sh asan
  (cd build-asan && ctest --output-on-failure -j2 --timeout 900 -LE package)
fi

if [[ $stages == *" fuzz "* ]]; then
  echo "== test: fuzzing" >&2
  bash tests/fuzz/run.sh "${SAB_FUZZ_SECONDS:-20}"
fi

if [[ $stages == *" package "* ]]; then
  echo "== test: package (image and chart)" >&2
  bash .ci/setup-package.sh
  # The image tests compare the image's events with the release binary's: build it if needed.
  [[ $stages == *" release "* ]] || bash .ci/build.sh ci
  (cd build && ctest --output-on-failure --timeout 1500 -L package)
fi

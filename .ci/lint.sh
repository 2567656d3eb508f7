#!/usr/bin/env bash
# The lint stage of the test command: every step runs, and any finding fails the stage.
#   clang-format (the repo's .clang-format) over the C++ sources, tests and benchmarks;
#   the include layers of src/ (tests/lint/check_layers.py) and every header's opening comment
#   (tests/lint/check_headers.py);
#   clang-tidy (.clang-tidy) over src/, with the release build's compile_commands.json;
#   flake8 (.flake8) over the Python files; shellcheck over the shell scripts.
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
step() { echo "== lint: $1" >&2; }

step clang-format
mapfile -t cxx < <(git ls-files '*.cpp' '*.hpp' '*.h')
clang-format --dry-run --Werror "${cxx[@]}" || status=1

step "include layers"
python3 tests/lint/check_layers.py src || status=1

step "header openings"
python3 tests/lint/check_headers.py . || status=1

step clang-tidy
[ -f build/compile_commands.json ] || bash .ci/build.sh ci
mapfile -t sources < <(git ls-files 'src/*.cpp')
printf '%s\n' "${sources[@]}" | xargs -P"$(nproc)" -n1 clang-tidy -p build --quiet 2>/dev/null || status=1

step flake8
mapfile -t py < <(git ls-files '*.py')
flake8 "${py[@]}" || status=1

step shellcheck
mapfile -t sh < <(git ls-files '*.sh' .ci/run)
shellcheck "${sh[@]}" || status=1

if [ "$status" -ne 0 ]; then
  echo "lint: FAILED (see above)" >&2
else
  echo "lint: ok" >&2
fi
exit "$status"

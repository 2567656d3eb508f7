#!/usr/bin/env bash
# Runs every benchmark (bench/run.py): builds the service and the bench programs in Release into
# build-bench/ (up to date each run), then writes bench/results/*.csv, docs/benchmarks.md and
# docs/benchmarks.png (or, with --out DIR, DIR/results/*.csv and DIR/benchmarks.*).
#   bash bench/run.sh            # full sizes, under 10 minutes on 2 cores
#   bash bench/run.sh --smoke    # seconds
#   bash bench/run.sh --build-dir DIR --out DIR --runs N --only codec,delivery,e2e,footprint
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=build-bench
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  if [ "${args[$i]}" = "--build-dir" ] && [ $((i + 1)) -lt ${#args[@]} ]; then
    build_dir=${args[$((i + 1))]}
  fi
done
# Configured (which reads the commit for the version label) and built every time, a no-op when
# nothing changed, so figures never come from stale binaries or carry a stale label.
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSAB_BUILD_BENCH=ON >/dev/null
cmake --build "$build_dir" -j"$(nproc)" --target source-aws-billing bench_codec bench_delivery >&2
export PYTHONDONTWRITEBYTECODE=1
exec python3 bench/run.py --build-dir "$build_dir" "$@"

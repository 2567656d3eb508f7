#!/usr/bin/env bash
# Runs every benchmark (bench/run.py): builds the service and the bench programs in Release into
# build-bench/ (up to date each run), then writes bench/results/*.csv, docs/benchmarks.md and
# docs/benchmarks.png (or, with --out DIR, DIR/results/*.csv and DIR/benchmarks.*).
#   bash bench/run.sh            # full sizes, under 10 minutes on 2 cores
#   bash bench/run.sh --smoke    # seconds
#   bash bench/run.sh --build-dir DIR --out DIR --runs N --only codec,delivery,e2e,footprint,journal,summary
#   bash bench/run.sh --no-build ...   # the binaries of the build dir as they are
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir="build-bench"
build=yes
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --no-build) build=no ;;  # use the binaries as they are (the CI smoke test: its own build)
    --build-dir)
      build_dir=${2:?--build-dir needs a directory}
      args+=("$1" "$2")
      shift
      ;;
    *) args+=("$1") ;;
  esac
  shift
done
if [ "$build" = yes ]; then
  # Configured and built every time (no-ops when nothing changed), so figures never come from
  # stale binaries and the version label names the commit built. A new build dir is Release; an
  # existing one keeps its build type.
  if [ -f "$build_dir/build.ninja" ]; then
    cmake -S . -B "$build_dir" >/dev/null
  else
    cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSAB_BUILD_BENCH=ON >/dev/null
  fi
  cmake --build "$build_dir" -j"$(nproc)" --target source-aws-billing bench_codec bench_delivery >&2
fi
export PYTHONDONTWRITEBYTECODE=1
exec python3 bench/run.py --build-dir "$build_dir" ${args[@]+"${args[@]}"}

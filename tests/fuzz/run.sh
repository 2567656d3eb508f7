#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, build dir build-fuzz) and runs each for a bounded time on a
# copy of its seed corpus (the repo's corpus never grows).
#
#   tests/fuzz/run.sh [seconds per target, default 20] [target ...]
#
# Prints, per target, the executions and the coverage (libFuzzer's "cov:") reached. Exits 1 when
# any target crashed, timed out or ran out of memory; the input is kept and its path printed.
# Env: SAB_FUZZ_BUILD_DIR (default build-fuzz, relative to the repo).
set -euo pipefail
cd "$(dirname "$0")/../.."

seconds=${1:-20}
shift || true
case "$seconds" in '' | *[!0-9]*) echo "usage: $0 [seconds] [target ...]" >&2; exit 2 ;; esac
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(fuzz_ce_page fuzz_ce_error fuzz_config fuzz_event_roundtrip fuzz_sigv4 fuzz_http_server)
fi
build=${SAB_FUZZ_BUILD_DIR:-build-fuzz}

if ! command -v clang++ >/dev/null || ! ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-*.a >/dev/null 2>&1; then
  echo "fuzz: needs clang and libFuzzer (Debian: apt-get install clang libclang-rt-14-dev)" >&2
  exit 2
fi
if [ ! -f "$build/build.ninja" ]; then
  if [ "$build" = build-fuzz ]; then
    cmake --preset fuzz >/dev/null
  else
    CC=clang CXX=clang++ cmake -S . -B "$build" -G Ninja -DSAB_FUZZ=ON -DSAB_BUILD_TESTS=OFF >/dev/null
  fi
fi
cmake --build "$build" -j2 --target fuzz

work=$(mktemp -d "${TMPDIR:-/tmp}/sab-fuzz.XXXXXX")
failed=0
printf '%-22s %12s %8s %8s  %s\n' target executions cov ft result
for t in "${targets[@]}"; do
  bin="$build/tests/fuzz/$t"
  [ -x "$bin" ] || { echo "$t: no such target" >&2; failed=1; continue; }
  mkdir -p "$work/$t/corpus" "$work/$t/artifacts"
  cp tests/fuzz/corpus/"$t"/* "$work/$t/corpus/"
  log="$work/$t/log"
  rc=0
  # The outer timeout is a safety net only; -max_total_time ends the run.
  timeout --kill-after=10 $((seconds + 120)) "$bin" -max_total_time="$seconds" -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$work/$t/artifacts/" \
    "$work/$t/corpus" >"$log" 2>&1 || rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  # The last status line ("#N DONE cov: X ft: Y ..." or the last "#N ... cov:" before a crash).
  status=$(grep -E '^#[0-9]+[[:space:]].*cov: ' "$log" | tail -1 || true)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$status")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$status")
  artifacts=$(ls "$work/$t/artifacts" 2>/dev/null || true)
  if [ "$rc" -eq 0 ] && [ -z "$artifacts" ]; then
    result=ok
  else
    result="FAILED (exit $rc)"
    failed=1
  fi
  printf '%-22s %12s %8s %8s  %s\n' "$t" "${execs:-?}" "${cov:-?}" "${ft:-?}" "$result"
  if [ "$result" != ok ]; then
    grep -E 'ERROR|SUMMARY|^[A-Za-z].*:$' "$log" | head -20 | sed 's/^/    /' >&2 || true
    for a in $artifacts; do echo "    input kept: $work/$t/artifacts/$a" >&2; done
    echo "    log: $log" >&2
  fi
done

if [ "$failed" -eq 0 ]; then
  rm -rf "$work"
  echo "fuzz: all targets ran ${seconds}s without a crash"
else
  echo "fuzz: FAILED; inputs and logs are in $work (reproduce: <build>/tests/fuzz/<target> <input>)" >&2
fi
exit "$failed"

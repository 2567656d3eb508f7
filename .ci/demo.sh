#!/usr/bin/env bash
# The main job end to end on a fresh Debian 12 machine, with no AWS account: moto's Cost Explorer
# emulator seeded with a week of sample billing data, a display sink, and the service.
#
#   bash .ci/demo.sh                 # the demo
#   bash .ci/demo.sh path/config.yml # the real thing: that config, against AWS, once, yesterday
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/setup.sh
# Only the binary the demo runs (the ci preset: warnings are errors, so none reach the screen).
echo "== building source-aws-billing (a few minutes the first time)"
cmake --preset ci >/dev/null
cmake --build --preset ci --target source-aws-billing -j"$(nproc)" >/dev/null
bin=./build/source-aws-billing

if [ $# -ge 1 ]; then
  exec "$bin" --config "$1" --once
fi

work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 100); do (echo >/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.1; done; echo "nothing on port $1" >&2; return 1; }
ce_port=$(port); sink_port=$(port); http_port=$(port)

echo "== starting moto's Cost Explorer emulator on 127.0.0.1:$ce_port"
python3 -m moto.server -H 127.0.0.1 -p "$ce_port" >"$work/moto.log" 2>&1 & pids+=($!)
wait_port "$ce_port"
python3 tests/demo/seed_moto.py --endpoint "http://127.0.0.1:$ce_port" --first -7 --last -1 --page-size 25

echo "== starting the display sink on 127.0.0.1:$sink_port"
python3 tests/demo/display_sink.py --port "$sink_port" & pids+=($!)
wait_port "$sink_port"

cat >"$work/config.yml" <<YAML
target: http://127.0.0.1:$sink_port/
endpoint: http://127.0.0.1:$ce_port
secret:
  access_key_id: AKIADEMODEMODEMODEMO
  secret_access_key: demo-secret-not-a-real-key
state_dir: $work/state
listen: 127.0.0.1:$http_port
log: {format: text}
YAML
chmod 600 "$work/config.yml"

echo "== the service pulls the last 7 complete UTC days once (one request period, paged)"
"$bin" --config "$work/config.yml" --once --from "$(date -u -d '7 days ago' +%F)" --to "$(date -u -d yesterday +%F)"
echo "== exit code $? (0: every event acknowledged); checkpoint: $(cat "$work/state/state.json")"

echo "== the same config in service mode: up to date, so no billed request; endpoints answer"
"$bin" --config "$work/config.yml" & svc=$!; pids+=("$svc")
wait_port "$http_port"
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$http_port/readyz" >/dev/null && break; sleep 0.1; done
echo "--- GET /healthz: $(curl -s "http://127.0.0.1:$http_port/healthz")"
echo "--- GET /readyz:  $(curl -s "http://127.0.0.1:$http_port/readyz")"
echo "--- GET /metrics (selected):"
curl -s "http://127.0.0.1:$http_port/metrics" | grep -E '^aws_billing_source_(build_info|checkpoint|ready)' || true
kill -TERM "$svc"; wait "$svc"
echo "== stopped cleanly"

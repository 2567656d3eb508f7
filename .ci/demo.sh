#!/usr/bin/env bash
# The main job end to end on a fresh Debian 12 machine, with no AWS account.
# Builds the service, starts it with a demo config and shows its endpoints answering.
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/setup.sh
bash .ci/build.sh

work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
cat > "$work/config.yml" <<YAML
target: http://127.0.0.1:18081/
listen: 127.0.0.1:18080
state_dir: $work/state
log: {format: text}
YAML
./build/source-aws-billing --config "$work/config.yml" --check-config
./build/source-aws-billing --config "$work/config.yml" &
for _ in $(seq 50); do curl -fs http://127.0.0.1:18080/healthz >/dev/null && break; sleep 0.1; done
echo "--- GET /healthz";  curl -s http://127.0.0.1:18080/healthz
echo "--- GET /readyz";   curl -s http://127.0.0.1:18080/readyz
echo "--- GET /metrics (first lines)"; curl -s http://127.0.0.1:18080/metrics | head -n 12
kill -TERM %1
wait %1
echo "--- stopped cleanly"

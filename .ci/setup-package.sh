#!/usr/bin/env bash
# Sets up what the `package` test stage needs, idempotently: helm (and the Kubernetes schema
# validator) for the chart, podman with local Debian base images for the image.
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/setup-helm.sh >/dev/null
[ ! -f .ci/setup-podman.sh ] || bash .ci/setup-podman.sh

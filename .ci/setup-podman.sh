#!/usr/bin/env bash
# Sets up podman to build and run docker/Dockerfile without a Docker engine and without a
# registry, idempotently (a second run only checks):
#
# - installs podman, runc, debootstrap (Debian packages) when missing;
# - writes .cache/podman/containers.conf (git-ignored): runc as the OCI runtime (crun refuses
#   hybrid cgroup hierarchies) and ulimits within what root may set without CAP_SYS_RESOURCE;
#   use it with `CONTAINERS_CONF=$PWD/.cache/podman/containers.conf podman ...`;
# - creates the base image docker.io/library/debian:12 (the Dockerfile's build stage) when it is
#   missing: `debootstrap --variant=minbase bookworm` from the Debian mirror this machine's apt
#   sources name, with those apt sources inside (so `apt-get` in RUN steps reaches the same
#   mirror), imported with `podman import`. The runtime stage is `FROM scratch`: no other base.
#
# Images live in podman's default storage (/var/lib/containers/storage): a cache shared between
# runs that stays out of the work tree (a build context walk or a test walking the repository
# never meets a container's root filesystem).
#
# Prints the path of the containers.conf on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."

cache=".cache/podman"
conf="$PWD/$cache/containers.conf"
base="docker.io/library/debian:12"
log() { echo "setup-podman: $*" >&2; }

# ---- packages -----------------------------------------------------------------------------------
missing=()
for tool in podman:podman runc:runc debootstrap:debootstrap script:bsdutils docker-compose:docker-compose; do
  command -v "${tool%%:*}" >/dev/null || missing+=("${tool#*:}")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# ---- containers.conf ----------------------------------------------------------------------------
mkdir -p "$cache"
wanted=$(cat <<'EOF'
# Written by .ci/setup-podman.sh: use with CONTAINERS_CONF=<this file>.
[engine]
# crun refuses the hybrid cgroup hierarchy of these machines; runc runs.
runtime = "runc"

[containers]
# Root lacks CAP_SYS_RESOURCE here: the default ulimits would exceed the hard nofile limit.
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
EOF
)
if [ ! -f "$conf" ] || [ "$(cat "$conf")" != "$wanted" ]; then
  printf '%s\n' "$wanted" >"$conf"
fi
export CONTAINERS_CONF="$conf"

podman info --format '{{.Host.OCIRuntime.Name}}' >/dev/null \
  || { log "podman does not start with $conf"; exit 1; }

# ---- the Debian mirror of this machine's apt sources --------------------------------------------
debian_mirror() {
  # deb822 (*.sources): the URIs of the stanza whose Suites name bookworm itself.
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk 'BEGIN{RS=""; FS="\n"}
         { uri=""; ok=0; deb=0
           for (i=1;i<=NF;i++) {
             if ($i ~ /^Types:/ && $i ~ /[ \t]deb([ \t]|$)/) deb=1
             if ($i ~ /^URIs:/)   { split($i,a,/[ \t]+/); uri=a[2] }
             if ($i ~ /^Suites:/) { n=split($i,s,/[ \t]+/); for (j=2;j<=n;j++) if (s[j]=="bookworm") ok=1 }
           }
           if (deb && ok && uri!="") { print uri; exit } }' "$f"
  done
  # One-line format.
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    awk '$1=="deb" { i=2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
                     if ($(i+1)=="bookworm") { print $i; exit } }' "$f"
  done
}

# ---- base image ---------------------------------------------------------------------------------
if podman image exists "$base"; then
  log "$base exists"
else
  mirror=$(debian_mirror | head -n1)
  [ -n "$mirror" ] || { log "no bookworm mirror in /etc/apt/sources.list{,.d}"; exit 1; }
  log "debootstrap --variant=minbase bookworm from $mirror (about 70 s)"
  rootfs=$(mktemp -d /var/tmp/sab-debian12.XXXXXX)
  trap 'rm -rf "$rootfs"' EXIT
  debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$cache/debootstrap.log" 2>&1 \
    || { tail -n 20 "$cache/debootstrap.log" >&2; exit 1; }
  # The host's apt sources (bookworm, -updates, -security of the same mirror) replace the
  # debootstrap one-liner, so the image's packages match the host's.
  rm -f "$rootfs/etc/apt/sources.list"
  found=0
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    mkdir -p "$rootfs$(dirname "$f")"
    cp "$f" "$rootfs$f"
    found=1
  done
  [ "$found" = 1 ] || echo "deb $mirror bookworm main" >"$rootfs/etc/apt/sources.list"
  # As the official image: no package cache, no lists.
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* "$rootfs"/tmp/*
  tar -C "$rootfs" --numeric-owner -c . \
    | podman import -q --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'CMD ["bash"]' - "$base" >/dev/null
  log "imported $base"
fi

echo "$conf"

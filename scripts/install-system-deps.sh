#!/usr/bin/env bash
# Installs the Debian packages the tests and the local demo need: a real etcd, OCI registry,
# git/ssh servers and skopeo, plus Go for building the control plane from Debian's source package
# and, with Sprig's sources, the commit message template engine (scripts/build-template-wasm.sh);
# and the node the harness runs Pods on: containerd, runc, the CNI plugins, busybox-static for the
# test application image and gcc/libc6-dev for the static pause binary; and chromium (with a font)
# for the web console's tests in a real browser.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
  echo "install-system-deps: needs root (apt-get)" >&2
  exit 1
fi

# deb-src entries mirror the machine's own apt sources so `apt-get source` works; the registry
# host comes from the machine, never from this repository.
src=/etc/apt/sources.list.d/debian.sources
dst=/etc/apt/sources.list.d/tidemark-debian-src.sources
if [ -f "$src" ] && [ ! -f "$dst" ]; then
  sed 's/^Types: deb$/Types: deb-src/' "$src" > "$dst"
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends \
  golang-go golang-github-modern-go-reflect2-dev golang-github-masterminds-sprig-dev etcd-server rsync jq docker-registry apache2-utils openssh-server openssh-client \
  skopeo git gnupg openssl ca-certificates make util-linux \
  containerd runc containernetworking-plugins busybox-static iproute2 gcc libc6-dev \
  chromium fonts-dejavu-core >/dev/null
echo "install-system-deps: ok"

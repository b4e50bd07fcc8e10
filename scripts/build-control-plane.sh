#!/usr/bin/env bash
# Builds Kubernetes binaries from Debian's `kubernetes` source package (upstream v1.20.2 with
# vendor/) and caches them outside the work tree, one directory per set, keyed by version and recipe:
#   control-plane  kube-apiserver, kube-controller-manager
#   node           kubelet, kube-scheduler and the pause binary (build/pause, static C) for the
#                  sandbox image
# Usage: build-control-plane.sh [control-plane|node|all]   (default: all)
# Each set has its own recipe key, so adding a set or changing one never rebuilds the other.
# A lock per set keeps two runs from building at once; the second one waits and reuses the result.
set -euo pipefail

version=1.20.2
# Bump a set's recipe when its build changes, so a stale cached build is never reused; the
# harness (test/harness/control-plane.ts, node.ts) names the same keys.
recipe_control_plane=r1
recipe_node=node-r1
cache="${TIDEMARK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tidemark}"
mkdir -p "$cache"

want="${1:-all}"
case "$want" in
  all) sets="control-plane node" ;;
  control-plane | node) sets="$want" ;;
  *)
    echo "usage: $0 [control-plane|node|all]" >&2
    exit 2
    ;;
esac

out_of() {
  case "$1" in
    control-plane) echo "$cache/kubernetes-v$version-$recipe_control_plane" ;;
    node) echo "$cache/kubernetes-v$version-$recipe_node" ;;
  esac
}
binaries_of() {
  case "$1" in
    control-plane) echo "kube-apiserver kube-controller-manager" ;;
    node) echo "kubelet kube-scheduler pause" ;;
  esac
}
have() {
  local out bin
  out=$(out_of "$1")
  for bin in $(binaries_of "$1"); do [ -x "$out/$bin" ] || return 1; done
}

missing=""
for set in $sets; do
  if have "$set"; then
    echo "$set v$version: cached at $(out_of "$set")"
  else
    missing="$missing $set"
  fi
done
[ -z "$missing" ] && exit 0

# Locks are taken in a fixed order (control-plane before node), so two runs never deadlock.
fd=8
todo=""
for set in $missing; do
  fd=$((fd + 1))
  eval "exec $fd>\"$(out_of "$set").lock\""
  echo "$set v$version: waiting for build lock"
  flock "$fd"
  if have "$set"; then
    echo "$set v$version: cached at $(out_of "$set") (built by another run)"
  else
    todo="$todo $set"
  fi
done
[ -z "$todo" ] && exit 0

work=$(mktemp -d "$cache/build.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"
echo "kubernetes v$version: downloading Debian source package"
apt-get source --download-only kubernetes >/dev/null
tar xzf kubernetes_*.orig.tar.gz
cd "kubernetes-$version"
mkdir -p .go/src/k8s.io && ln -sfn ../../.. .go/src/k8s.io/kubernetes

# Kubernetes 1.20 vendors modern-go/reflect2 v1.0.1, whose map iteration faults under Go >= 1.18
# (kube-apiserver dies with "fatal error: fault" on the first custom resource it encodes).
# Debian's golang-github-modern-go-reflect2-dev is v1.0.2, the upstream fix: vendor it instead.
reflect2=/usr/share/gocode/src/github.com/modern-go/reflect2
if [ ! -f "$reflect2/go_above_118.go" ]; then
  echo "kubernetes: $reflect2 (v1.0.2) is missing; install golang-github-modern-go-reflect2-dev" >&2
  exit 1
fi
rm -rf vendor/github.com/modern-go/reflect2
mkdir -p vendor/github.com/modern-go/reflect2
cp "$reflect2"/*.go "$reflect2"/*.s vendor/github.com/modern-go/reflect2/
rm -f vendor/github.com/modern-go/reflect2/*_test.go

what=""
for set in $todo; do
  for bin in $(binaries_of "$set"); do
    [ "$bin" = pause ] || what="$what cmd/$bin"
  done
done
what="${what# }"

echo "kubernetes v$version: building $what (about 10-15 minutes on 2 cores)"
start=$(date +%s)
log="$work/build.log"
( GOPATH=$PWD/.go CGO_ENABLED=0 GOPROXY=off HOME=$(mktemp -d) \
    make WHAT="$what" >"$log" 2>&1 ) &
pid=$!
while kill -0 "$pid" 2>/dev/null; do
  sleep 30
  echo "kubernetes v$version: still building ($(( $(date +%s) - start ))s) $(tail -n 1 "$log" | cut -c1-100)"
done
if ! wait "$pid"; then
  tail -n 40 "$log" >&2
  echo "kubernetes v$version: build failed" >&2
  exit 1
fi

for set in $todo; do
  out=$(out_of "$set")
  rm -rf "$out.tmp" && mkdir -p "$out.tmp"
  for bin in $(binaries_of "$set"); do
    if [ "$bin" = pause ]; then
      # The same flags as build/pause/Makefile, statically linked so the image needs no libc.
      # REV is `git describe` upstream; a source package has no history.
      tag=$(sed -n 's/^TAG *?\{0,1\}= *//p' build/pause/Makefile)
      gcc -Os -Wall -Werror -static -DVERSION="v${tag}-debian" -o "$out.tmp/pause" build/pause/linux/pause.c
      strip "$out.tmp/pause"
    else
      cp "_output/bin/$bin" "$out.tmp/"
    fi
  done
  rm -rf "$out" && mv "$out.tmp" "$out"
  echo "$set v$version: built in $(( $(date +%s) - start ))s, cached at $out"
done

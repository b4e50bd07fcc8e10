#!/usr/bin/env bash
# Builds kube-apiserver and kube-controller-manager from Debian's `kubernetes` source package
# (upstream v1.20.2 with vendor/) and caches them outside the work tree, keyed by version.
# A lock keeps two runs from building at once; the second one waits and reuses the result.
set -euo pipefail

version=1.20.2
# Bump when the build recipe changes, so a stale cached build is never reused.
recipe=r1
cache="${TIDEMARK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tidemark}"
out="$cache/kubernetes-v$version-$recipe"
mkdir -p "$cache"

have() { [ -x "$out/kube-apiserver" ] && [ -x "$out/kube-controller-manager" ]; }
if have; then
  echo "control plane v$version: cached at $out"
  exit 0
fi

exec 9>"$cache/kubernetes-v$version-$recipe.lock"
echo "control plane v$version: waiting for build lock"
flock 9
if have; then
  echo "control plane v$version: cached at $out (built by another run)"
  exit 0
fi

work=$(mktemp -d "$cache/build.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"
echo "control plane v$version: downloading Debian source package"
apt-get source --download-only kubernetes >/dev/null
tar xzf kubernetes_*.orig.tar.gz
cd "kubernetes-$version"
mkdir -p .go/src/k8s.io && ln -sfn ../../.. .go/src/k8s.io/kubernetes

# Kubernetes 1.20 vendors modern-go/reflect2 v1.0.1, whose map iteration faults under Go >= 1.18
# (kube-apiserver dies with "fatal error: fault" on the first custom resource it encodes).
# Debian's golang-github-modern-go-reflect2-dev is v1.0.2, the upstream fix: vendor it instead.
reflect2=/usr/share/gocode/src/github.com/modern-go/reflect2
if [ ! -f "$reflect2/go_above_118.go" ]; then
  echo "control plane: $reflect2 (v1.0.2) is missing; install golang-github-modern-go-reflect2-dev" >&2
  exit 1
fi
rm -rf vendor/github.com/modern-go/reflect2
mkdir -p vendor/github.com/modern-go/reflect2
cp "$reflect2"/*.go "$reflect2"/*.s vendor/github.com/modern-go/reflect2/
rm -f vendor/github.com/modern-go/reflect2/*_test.go

echo "control plane v$version: building kube-apiserver and kube-controller-manager (about 10-15 minutes on 2 cores)"
start=$(date +%s)
log="$work/build.log"
( GOPATH=$PWD/.go CGO_ENABLED=0 GOPROXY=off HOME=$(mktemp -d) \
    make WHAT="cmd/kube-apiserver cmd/kube-controller-manager" >"$log" 2>&1 ) &
pid=$!
while kill -0 "$pid" 2>/dev/null; do
  sleep 30
  echo "control plane v$version: still building ($(( $(date +%s) - start ))s) $(tail -n 1 "$log" | cut -c1-100)"
done
if ! wait "$pid"; then
  tail -n 40 "$log" >&2
  echo "control plane v$version: build failed" >&2
  exit 1
fi
mkdir -p "$out.tmp"
cp _output/bin/kube-apiserver _output/bin/kube-controller-manager "$out.tmp/"
rm -rf "$out" && mv "$out.tmp" "$out"
echo "control plane v$version: built in $(( $(date +%s) - start ))s, cached at $out"

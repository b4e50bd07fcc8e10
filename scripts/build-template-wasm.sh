#!/usr/bin/env bash
# Builds the template engine of commit messages and alert messages (shared/template/go: Go's own
# text/template + Sprig's hermetic functions) to WebAssembly, with Go's wasm_exec.js beside it,
# plus a native build of the same source that the tests compare the module with. Cached outside
# the work tree in $cache/commit-template-<key>, keyed by the Go sources, Sprig's sources and the
# Go version; $cache/commit-template points at the latest build (the image updater's and the
# notification program's default; the name predates alert messages). Progress goes to stderr;
# the directory is printed on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."

# Bump when the build recipe changes, so a stale cached build is never reused.
recipe=r1
src=shared/template/go
gocode=/usr/share/gocode/src/github.com/Masterminds
cache="${TIDEMARK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tidemark}"
say() { echo "commit template engine: $*" >&2; }

if ! command -v go >/dev/null || [ ! -d "$gocode/sprig" ]; then
  say "needs Go and Sprig's sources; run scripts/install-system-deps.sh (golang-go, golang-github-masterminds-sprig-dev)"
  exit 1
fi
key=$( { echo "$recipe"; go version; find "$src" "$gocode/sprig" "$gocode/semver" -name '*.go' ! -name '*_test.go' -print0 \
  | LC_ALL=C sort -z | xargs -0 sha256sum; } | sha256sum | cut -c1-16)
out="$cache/commit-template-$key"
mkdir -p "$cache"

have() { [ -f "$out/commit-template.wasm" ] && [ -f "$out/wasm_exec.js" ] && [ -x "$out/commit-template" ]; }
point() { ln -sfn "commit-template-$key" "$cache/commit-template.$$" && mv -T "$cache/commit-template.$$" "$cache/commit-template"; }
if have; then
  point
  say "cached at $out"
  echo "$out"
  exit 0
fi

exec 9>"$cache/commit-template.lock"
flock 9
if ! have; then
  start=$(date +%s)
  say "building $key with $(go version | cut -d' ' -f3) (under a minute on 2 cores)"
  work=$(mktemp -d "$cache/commit-template-build.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  # Debian ships Sprig without the /v3 path its import needs: GOPATH mode, with /v3 as symlinks.
  mkdir -p "$work/src/github.com/Masterminds/sprig" "$work/src/github.com/Masterminds/semver" "$work/src/tidemark" "$work/out"
  ln -s "$gocode/sprig" "$work/src/github.com/Masterminds/sprig/v3"
  ln -s "$gocode/semver" "$work/src/github.com/Masterminds/semver/v3"
  cp -r "$src" "$work/src/tidemark/commit-template"
  build() {
    (cd "$work/src/tidemark/commit-template" && GO111MODULE=off GOPATH="$work:/usr/share/gocode" GOFLAGS= CGO_ENABLED=0 \
      go build -trimpath -ldflags="-s -w" "$@" .)
  }
  GOOS=js GOARCH=wasm build -o "$work/out/commit-template.wasm"
  build -o "$work/out/commit-template"
  cp "$(go env GOROOT)/misc/wasm/wasm_exec.js" "$work/out/"
  rm -rf "$out" && mv "$work/out" "$out"
  say "built in $(( $(date +%s) - start ))s: $(du -k "$out/commit-template.wasm" | cut -f1) KiB module"
fi
point
say "cached at $out"
echo "$out"

#!/usr/bin/env bash
# Regenerates image-updater/markers/oracle/cases.json: builds the marker oracle (the Go program in
# image-updater/markers/oracle, go-yaml v3 applying Flux's rule) and runs the generator's cases
# through it. Only needed when the generator or the oracle changes; the tests read the committed
# JSON and need no Go. `scripts/build-marker-fixtures.sh 18` writes the cases of another seed, to try
# the scan on inputs it was not fixed against (commit only the default seed's).
set -euo pipefail
cd "$(dirname "$0")/.."

src=image-updater/markers/oracle
yaml=/usr/share/gocode/src/gopkg.in/yaml.v3
if ! command -v go >/dev/null || [ ! -d "$yaml" ]; then
  echo "marker oracle: needs Go and go-yaml v3's sources (golang-go, golang-gopkg-yaml.v3-dev)" >&2
  exit 1
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/marker-oracle.XXXXXX")
trap 'rm -rf "$work"' EXIT
# GOPATH mode over Debian's sources: builds offline, no module download.
mkdir -p "$work/src/marker-oracle"
cp "$src/main.go" "$work/src/marker-oracle/"
(cd "$work/src/marker-oracle" && GO111MODULE=off GOPATH="$work:/usr/share/gocode" GOFLAGS= CGO_ENABLED=0 go build -o "$work/oracle" .)
echo "marker oracle: built with $(go version | cut -d' ' -f3), go-yaml $(dpkg-query -W -f='${Version}' golang-gopkg-yaml.v3-dev 2>/dev/null || echo '?')" >&2
PATH="$PWD/node_modules/.bin:$PATH" node "$src/fixtures.ts" "$work/oracle" "$@"

#!/usr/bin/env bash
# Regenerates shared/semver/fixtures/masterminds.json by running the oracle against the real
# github.com/Masterminds/semver/v3, in GOPATH mode (no module download).
#
#   shared/semver/oracle/generate.sh [masterminds-source-dir]
#
# The source directory defaults to Debian's golang-github-masterminds-semver-dev. Its source has
# no /v3 import path, so a temporary GOPATH links src/github.com/Masterminds/semver/v3 to it.
#
# Which version: Flux (image-reflector-controller, source-controller) pins v3.4.x, whose rule
# "a pre-release in any comparator of an || group admits pre-releases for the whole group" (#267)
# and whose leading-zero coercion (#266) the fixture must record. Debian bookworm ships 3.2.0,
# which predates both; shared/semver/oracle.test.ts refuses a fixture not made with v3.4. Use a
# v3.4.0 tree, e.g. `git clone --branch v3.4.0 https://github.com/Masterminds/semver`, or the
# module cache's `$(go env GOMODCACHE)/github.com/!masterminds/semver/v3@v3.4.0`.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
src="${1:-/usr/share/gocode/src/github.com/Masterminds/semver}"
out="$here/../fixtures/masterminds.json"

if [ ! -f "$src/constraints.go" ]; then
  echo "no Masterminds/semver source in $src (apt-get install golang-github-masterminds-semver-dev, or pass a checkout)" >&2
  exit 1
fi
command -v go >/dev/null || { echo "go is not installed (apt-get install golang-go)" >&2; exit 1; }

# The version label: the first release heading of the changelog, else Debian's package version.
if [ -f "$src/CHANGELOG.md" ]; then
  label="v$(sed -n 's/^## \([0-9][0-9.]*\).*/\1/p' "$src/CHANGELOG.md" | head -n 1)"
else
  label="v$(dpkg-query -W -f '${Version}' golang-github-masterminds-semver-dev 2>/dev/null | sed 's/-[^-]*$//')"
fi
case "$label" in
  v3.4.*) ;;
  *) echo "warning: Masterminds/semver $label is not the v3.4 line Flux uses; the unit test will refuse this fixture" >&2 ;;
esac

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/gopath/src/github.com/Masterminds/semver" "$work/gopath/src/oracle"
ln -s "$(cd "$src" && pwd)" "$work/gopath/src/github.com/Masterminds/semver/v3"
cp "$here"/*.go "$work/gopath/src/oracle/"
(cd "$work/gopath/src/oracle" && GOPATH="$work/gopath" GO111MODULE=off GOFLAGS= GOCACHE="$work/cache" go build -o "$work/oracle" .)
"$work/oracle" "github.com/Masterminds/semver/v3 $label" >"$out.tmp"
mv "$out.tmp" "$out"
echo "wrote $out ($label)" >&2

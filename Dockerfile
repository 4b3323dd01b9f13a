# syntax=docker/dockerfile:1
# seqrec: one image per app, all from this file. Build from the repository root:
#   docker build --build-arg APP=ingester -t seqrec/ingester:0.1.0 .
#   docker build -t seqrec/embedded:0.1.0 .        # APP=embedded: every service in one process
#   docker run --rm -p 8080:8080 -e DEMO_EVENTS_PER_SEC=200 seqrec/embedded:0.1.0
# APP is a folder of apps/. The layers up to the native builds hold no source file and do not
# depend on APP, so they are built once for all six images, and an edit to the sources rebuilds
# neither TensorFlow's addon nor librdkafka: only `tsc -b` and the assembly below run again.
# Native code, built offline: librdkafka from the sources @confluentinc/kafka-javascript bundles,
# linked against Debian's ssl/sasl/zlib/zstd/lz4 (scripts/kafka-native.sh), and @tensorflow/tfjs-node's
# addon against the tensorflow-cpu wheel from PyPI (scripts/tfjs-native.sh), whose own install
# would download libtensorflow from a host we cannot rely on.
ARG APP=embedded

# --- every workspace's package.json and the lock, and nothing else ---------------------------
# This stage sees the sources, but the layer taken from it below only changes with a manifest.
FROM node:24-bookworm-slim AS manifests
WORKDIR /src
COPY . .
RUN mkdir /manifests \
 && find . -name package.json -not -path '*/node_modules/*' -exec cp --parents {} /manifests/ \; \
 && cp package-lock.json /manifests/

# --- dependencies and native addons: no source file yet -----------------------------------------
FROM node:24-bookworm-slim AS deps
WORKDIR /src
# build tools, and the -dev packages librdkafka links against
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-pip make g++ patch \
      libssl-dev libsasl2-dev zlib1g-dev libzstd-dev liblz4-dev \
 && rm -rf /var/lib/apt/lists/*
COPY --from=manifests /manifests/ ./
COPY scripts/kafka-native.sh scripts/tfjs-native.sh scripts/package-patches.sh scripts/node-headers.sh \
     scripts/
COPY patches/ patches/
RUN npm ci --ignore-scripts --no-audit --no-fund
# The cache mount keeps the tensorflow-cpu wheel (274 MB) and librdkafka's build across builds
# whose lock file changed.
RUN --mount=type=cache,target=/root/.cache/seqrec \
    bash scripts/kafka-native.sh \
 && bash scripts/tfjs-native.sh

# --- the app: sources, compile, production tree --------------------------------------------------
FROM deps AS build
ARG APP
COPY . .
# TensorFlow stays only in the images of the apps that load it (≈300 MB less in the others).
RUN test -f "apps/${APP}/package.json" || { echo "APP=${APP}: no such app in apps/" >&2; exit 1; } \
 && npx tsc -b "apps/${APP}" \
 && npm prune --omit=dev --ignore-scripts --no-audit --no-fund \
 && case "${APP}" in embedded|embedding|trainer|scorer) ;; *) rm -rf node_modules/@tensorflow ;; esac
# Runtime tree: the production node_modules, each workspace's package.json (the @seqrec/* links
# resolve through them), the compiled dist folders this app needs, the Redis Lua scripts and the
# console's static files (libs/serving/scoring/static).
RUN mkdir -p /out \
 && cp -a package.json node_modules /out/ \
 && for manifest in $(find libs -name package.json -not -path '*/node_modules/*') "apps/${APP}/package.json"; do \
      dir="$(dirname "$manifest")" \
      && mkdir -p "/out/$dir" && cp "$manifest" "/out/$dir/" \
      && if [ -d "$dir/dist" ]; then cp -a "$dir/dist" "/out/$dir/"; fi; \
    done \
 && find libs -name '*.lua' -not -path '*/node_modules/*' -exec cp --parents {} /out/ \; \
 && find libs -path '*/static/*' -type f -not -path '*/node_modules/*' -exec cp --parents {} /out/ \; \
 && find /out/libs /out/apps -name '*.spec.js*' -delete

# --- runtime: what every app shares ----------------------------------------------------------------
FROM node:24-bookworm-slim AS runtime
# the shared libraries librdkafka links against (nothing else is installed at run time)
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends libsasl2-2 libssl3 zlib1g libzstd1 liblz4-1 \
 && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production
RUN groupadd --system --gid 10001 seqrec \
 && useradd --system --uid 10001 --gid seqrec --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin seqrec
# /models: the model store mount point of embedding, trainer and scorer, writable by the service
# user (a fresh named volume or emptyDir takes this ownership; Kubernetes PVCs get it through fsGroup)
RUN mkdir /models && chown 10001:10001 /models
WORKDIR /app
COPY --from=build /out/ ./
USER 10001:10001
# Kubernetes uses its own probes on /health/live and /health/ready; this one serves compose.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + process.env.HTTP_PORT + '/health/live').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

# --- one stage per app: its port, its command, what only it needs; `FROM ${APP}` picks one --------
FROM runtime AS ingester
ENV HTTP_PORT=8081
EXPOSE 8081
CMD ["node", "apps/ingester/dist/main.js"]

FROM runtime AS sequence-builder
ENV HTTP_PORT=8082
EXPOSE 8082
CMD ["node", "apps/sequence-builder/dist/main.js"]

# the apps that load TensorFlow and read the model store
FROM runtime AS runtime-tensorflow
ENV TF_CPP_MIN_LOG_LEVEL=2 \
    MODEL_STORE_DIR=/models

# every service in one process (npm start): it trains, encodes and scores too
FROM runtime-tensorflow AS embedded
ENV HTTP_PORT=8080
EXPOSE 8080
CMD ["node", "apps/embedded/dist/main.js"]

FROM runtime-tensorflow AS embedding
ENV HTTP_PORT=8083
EXPOSE 8083
CMD ["node", "apps/embedding/dist/main.js"]

FROM runtime-tensorflow AS trainer
# glibc would mmap and page-fault every >32 MB tensor (the [positions × items] softmax) afresh on
# each training step; these thresholds keep them in the heap (ML-1M SASRec epochs ~10% faster).
ENV MALLOC_MMAP_THRESHOLD_=4294967296 \
    MALLOC_TRIM_THRESHOLD_=4294967296 \
    HTTP_PORT=8084
EXPOSE 8084
CMD ["node", "apps/trainer/dist/main.js"]

FROM runtime-tensorflow AS scorer
ENV HTTP_PORT=8080
EXPOSE 8080
CMD ["node", "apps/scorer/dist/main.js"]

FROM ${APP}

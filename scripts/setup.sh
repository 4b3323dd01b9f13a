#!/usr/bin/env bash
# scripts/setup.sh — install everything seqrec needs to build and run, on a fresh machine.
#
#   1. npm dependencies, exactly as locked (`npm ci`), with install scripts skipped: the only
#      package that needs one is @tensorflow/tfjs-node, whose own script downloads libtensorflow
#      from a host these machines cannot reach;
#   2. the native TensorFlow addon, built by scripts/tfjs-native.sh against the TensorFlow C
#      library of the tensorflow-cpu wheel (cached under $SEQREC_CACHE);
#   3. the native Kafka client (librdkafka in @confluentinc/kafka-javascript), built by
#      scripts/kafka-native.sh from the sources its npm package bundles (cached likewise);
#   4. the TypeScript build of every library and app (tsc -b, incremental).
#
# Idempotent: a second run only re-checks. SEQREC_SKIP_NATIVE_TF=1 skips step 2 (the code then
# falls back to the pure-JS TensorFlow.js backend, loudly).
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[setup %3ss] %s\n' "$SECONDS" "$*"; }

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "npm ci --ignore-scripts"
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
else
  log "node_modules up to date"
fi

log "native Kafka client (librdkafka)"
bash scripts/kafka-native.sh

if [ "${SEQREC_SKIP_NATIVE_TF:-0}" != 1 ]; then
  log "native TensorFlow for @tensorflow/tfjs-node"
  bash scripts/tfjs-native.sh
fi

log "build (tsc -b)"
npx tsc -b tsconfig.json
log "done"

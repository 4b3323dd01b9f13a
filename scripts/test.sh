#!/usr/bin/env bash
# scripts/test.sh — the whole test suite, the way CI runs it (`npm test`):
#   setup (dependencies, native TensorFlow, build) → lint (code, then the commit messages after
#   .commit-lint-base) → import-cycle check → unit tests →
#   start real Kafka, Redis and a 3-master Redis Cluster (scripts/infra.sh) → integration tests →
#   end-to-end tests → fault suite (scripts/faults.sh: its own broker and Redis) → stop the servers
#   this script started.
# The servers' addresses reach the tests through KAFKA_BROKERS, REDIS_URL and REDIS_CLUSTER_NODES.
# Set SEQREC_KEEP_INFRA=1 to leave them running afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
# playwright-core drives Debian's chromium (scripts/browser.sh): never a browser download of its own
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1

log() { printf '\n[test %4ss] %s\n' "$SECONDS" "$*"; }

bash scripts/setup.sh
log "tools of the deploy tests (promtool, hadolint, kubernetes-validate, docker-compose)"
bash scripts/deploy/tools.sh >/dev/null
log "Kafka clients of the codec tests (kcat, Kafka's console producer)"
bash scripts/kafka-clients.sh install
log "headless Chromium of the console test (Debian's chromium)"
bash scripts/browser.sh >/dev/null

log "lint"
npm run --silent lint
log "commit messages after .commit-lint-base"
node scripts/commit-lint.mjs
log "import cycles"
npm run --silent cycles

log "unit tests"
node scripts/run-tests.mjs unit

started_infra=0
started_cluster=0
cleanup() {
  if [ "$started_cluster" = 1 ] && [ "${SEQREC_KEEP_INFRA:-0}" != 1 ]; then
    bash scripts/infra.sh down redis-cluster || true
  fi
  if [ "$started_infra" = 1 ] && [ "${SEQREC_KEEP_INFRA:-0}" != 1 ]; then
    bash scripts/infra.sh down || true
  fi
}
trap cleanup EXIT

if ! bash scripts/infra.sh status >/dev/null 2>&1; then
  log "starting Kafka and Redis"
  bash scripts/infra.sh up
  started_infra=1
fi
if ! bash scripts/infra.sh status redis-cluster >/dev/null 2>&1; then
  log "starting the Redis Cluster (3 masters)"
  bash scripts/infra.sh up redis-cluster
  started_cluster=1
fi
eval "$(bash scripts/infra.sh env)"
eval "$(bash scripts/infra.sh env redis-cluster)"
export KAFKA_BROKERS REDIS_URL REDIS_CLUSTER_NODES

log "integration tests (real Kafka, Redis and Redis Cluster)"
node scripts/run-tests.mjs int
log "end-to-end tests (services as processes, real Kafka and Redis)"
node scripts/run-tests.mjs e2e
# the fault suite brings its own servers: free the cores of the shared ones first
cleanup
started_infra=0
started_cluster=0
log "fault suite (kill -9, broker and Redis restarts, rebalances, fuzzing; on its own Kafka and Redis)"
bash scripts/faults.sh
log "all tests passed"

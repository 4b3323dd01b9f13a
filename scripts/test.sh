#!/usr/bin/env bash
# scripts/test.sh — the whole test suite, the way CI runs it (`npm test`):
#   setup (dependencies, native TensorFlow, build) → lint → import-cycle check → unit tests →
#   start real Kafka and Redis (scripts/infra.sh) → integration tests → end-to-end tests → stop
#   the servers this script started.
# The servers' URLs reach the tests through KAFKA_BROKERS and REDIS_URL. Set SEQREC_KEEP_INFRA=1
# to leave them running afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\n[test %4ss] %s\n' "$SECONDS" "$*"; }

bash scripts/setup.sh
log "tools of the deploy tests (promtool, hadolint, kubernetes-validate, docker-compose)"
bash scripts/deploy/tools.sh >/dev/null

log "lint"
npm run --silent lint
log "import cycles"
npm run --silent cycles

log "unit tests"
node scripts/run-tests.mjs unit

started_infra=0
cleanup() {
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
eval "$(bash scripts/infra.sh env)"
export KAFKA_BROKERS REDIS_URL

log "integration tests (real Kafka and Redis)"
node scripts/run-tests.mjs int
log "end-to-end tests (services as processes, real Kafka and Redis)"
node scripts/run-tests.mjs e2e
log "all tests passed"

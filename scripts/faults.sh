#!/usr/bin/env bash
# scripts/faults.sh — the fault suite (test/src/faults) on its own Kafka broker and Redis.
#
# Usage:
#   bash scripts/faults.sh [filter [node --test flags]]   e.g. `bash scripts/faults.sh fuzz` runs test/dist/faults/fuzz.spec.js only;
#   `bash scripts/faults.sh servers --test-name-pattern="broker paused"` one scenario of it
#
# The suite stops, pauses and restarts its servers, so it never uses the shared ones (KAFKA_BROKERS,
# REDIS_URL): this script starts a broker and a Redis of its own with scripts/infra.sh on other ports
# and in another run folder (empty data), runs the spec files one at a time, and stops them again
# (unless they were already running, or SEQREC_KEEP_INFRA=1). Each scenario prints its time and a
# result line; the results go to SEQREC_FAULTS_RESULTS (default test/logs/faults-results.json) and
# the table to stdout (`npm run faults` records them in bench/results/faults.json and
# bench/RESULTS.md instead).
#
# Environment: SEQREC_FAULTS=full (the heavier variant), SEQREC_FAULT_SEED (replay a run),
# SEQREC_FUZZ_RUNS / SEQREC_FUZZ_HTTP_RUNS (fuzz cases), SEQREC_FAULTS_RUN, SEQREC_FAULTS_KAFKA_PORT
# (29092), SEQREC_FAULTS_KAFKA_CONTROLLER_PORT (29093), SEQREC_FAULTS_REDIS_PORT (26379).
set -euo pipefail
cd "$(dirname "$0")/.."

export SEQREC_FAULTS_RUN="${SEQREC_FAULTS_RUN:-${TMPDIR:-/tmp}/seqrec-faults-run}"
export SEQREC_FAULTS_KAFKA_PORT="${SEQREC_FAULTS_KAFKA_PORT:-29092}"
export SEQREC_FAULTS_KAFKA_CONTROLLER_PORT="${SEQREC_FAULTS_KAFKA_CONTROLLER_PORT:-$((SEQREC_FAULTS_KAFKA_PORT + 1))}"
export SEQREC_FAULTS_REDIS_PORT="${SEQREC_FAULTS_REDIS_PORT:-26379}"
# SEQREC_FAULTS_RECORD=1 (npm run faults, faults:full, fuzz): results into bench/results/faults.json and bench/RESULTS.md
if [ "${SEQREC_FAULTS_RECORD:-0}" = 1 ]; then export SEQREC_FAULTS_RESULTS="$PWD/bench/results/faults.json"; fi
export SEQREC_FAULTS_RESULTS="${SEQREC_FAULTS_RESULTS:-$PWD/test/logs/faults-results.json}"
# a fixed seed for the whole run (each file would draw its own otherwise), printed for replays
export SEQREC_FAULT_SEED="${SEQREC_FAULT_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ' | awk '{print ($1 % 2147483646) + 1}')}"

infra() {
  SEQREC_RUN="$SEQREC_FAULTS_RUN" KAFKA_PORT="$SEQREC_FAULTS_KAFKA_PORT" KAFKA_CONTROLLER_PORT="$SEQREC_FAULTS_KAFKA_CONTROLLER_PORT" \
    REDIS_PORT="$SEQREC_FAULTS_REDIS_PORT" bash scripts/infra.sh "$@"
}

started=0
cleanup() {
  if [ "$started" = 1 ] && [ "${SEQREC_KEEP_INFRA:-0}" != 1 ]; then infra down || true; fi
}
trap cleanup EXIT

if ! infra status >/dev/null 2>&1; then
  echo "[faults] starting the fault suite's own Kafka (127.0.0.1:$SEQREC_FAULTS_KAFKA_PORT) and Redis (127.0.0.1:$SEQREC_FAULTS_REDIS_PORT) in $SEQREC_FAULTS_RUN"
  KAFKA_DATA_RESET=1 REDIS_DATA_RESET=1 infra up
  started=1
fi

echo "[faults] mode ${SEQREC_FAULTS:-ci}, seed $SEQREC_FAULT_SEED (replay: SEQREC_FAULT_SEED=$SEQREC_FAULT_SEED${SEQREC_FAULTS:+ SEQREC_FAULTS=$SEQREC_FAULTS}), results in $SEQREC_FAULTS_RESULTS"
rc=0
# the arguments after the filter go to node --test (e.g. --test-name-pattern="broker paused")
SEQREC_TEST_FILTER="${1:-}" node scripts/run-tests.mjs faults "${@:2}" || rc=$?
node scripts/faults-report.mjs --stdout "$SEQREC_FAULTS_RESULTS" || true
if [ "${SEQREC_FAULTS_RECORD:-0}" = 1 ]; then node scripts/faults-report.mjs "$SEQREC_FAULTS_RESULTS" || true; fi
exit "$rc"

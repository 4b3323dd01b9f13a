#!/usr/bin/env bash
# scripts/start.sh — `npm start`: install and build (scripts/setup.sh), then run every seqrec
# service in one process (embedded mode: in-memory bus and state unless KAFKA_BROKERS / REDIS_URL
# are set) fed by the synthetic clickstream generator, logging what the pipeline does.
# DEMO_EVENTS_PER_SEC (default 200) sets the generated rate; 0 turns the feed off.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export DEMO_EVENTS_PER_SEC="${DEMO_EVENTS_PER_SEC:-200}"
exec node apps/embedded/dist/main.js

#!/usr/bin/env bash
# scripts/bench.sh NAME — run one benchmark (`npm run bench:NAME`): builds, starts real Kafka and
# Redis if they are not running (and stops them afterwards), runs bench/dist/NAME.bench.js, which
# writes bench/results/NAME.json. Run benchmarks on an otherwise idle machine.
set -euo pipefail
cd "$(dirname "$0")/.."
name="${1:?usage: scripts/bench.sh NAME}"
shift
bash scripts/setup.sh >/dev/null
started=0
cleanup() { if [ "$started" = 1 ]; then bash scripts/infra.sh down >/dev/null || true; fi; }
trap cleanup EXIT
if ! bash scripts/infra.sh status >/dev/null 2>&1; then
  bash scripts/infra.sh up
  started=1
fi
eval "$(bash scripts/infra.sh env)"
export KAFKA_BROKERS REDIS_URL
node "bench/dist/${name}.bench.js" "$@"

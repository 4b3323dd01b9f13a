#!/usr/bin/env bash
# scripts/bench.sh NAME — run one benchmark (`npm run bench:NAME`): builds; for the benchmarks that
# use them (score, freshness, ingest), starts real Kafka and Redis if they are not running (and stops
# them afterwards); runs bench/dist/NAME.bench.js, which writes bench/results/NAME.json, then renders
# the results (scripts/bench-report.mjs). The others
# (quality, train, topk) leave the infrastructure alone: a long training run must not own, and at its
# end stop, a broker that other work started using meanwhile. Run benchmarks on an otherwise idle machine.
set -euo pipefail
cd "$(dirname "$0")/.."
name="${1:?usage: scripts/bench.sh NAME}"
shift
bash scripts/setup.sh >/dev/null
started=0
cleanup() { if [ "$started" = 1 ]; then bash scripts/infra.sh down >/dev/null || true; fi; }
trap cleanup EXIT
case "$name" in
  score | freshness | ingest | trending | before-after)
    if ! bash scripts/infra.sh status >/dev/null 2>&1; then
      bash scripts/infra.sh up
      started=1
    fi
    eval "$(bash scripts/infra.sh env)"
    export KAFKA_BROKERS REDIS_URL
    ;;
esac
node "bench/dist/${name}.bench.js" "$@"
# the tables in bench/RESULTS.md and the README's summary (a trial result, BENCH_RESULT_NAME, is not rendered)
node scripts/bench-report.mjs >/dev/null

#!/usr/bin/env bash
# scripts/kafka-perf.sh — run Kafka's own producer benchmark
# (org.apache.kafka.tools.ProducerPerformance, from the jars cached by
# scripts/infra.sh) against the local broker started by `bash scripts/infra.sh up kafka`.
#
# Usage:
#   bash scripts/kafka-perf.sh --topic T --num-records N --record-size BYTES
#        [--throughput RECORDS_PER_SEC]   (default -1 = unthrottled)
#        [--partitions P]                 (partitions if the topic is created; default 6)
#        [--producer-props k=v [k=v ...]] (e.g. acks=all linger.ms=5 compression.type=lz4)
#        [--bootstrap-server HOST:PORT]   (default $KAFKA_BROKERS, else 127.0.0.1:$KAFKA_PORT)
#        [--json]                         (print only one JSON line on stdout)
#        [-- EXTRA ProducerPerformance ARGS...]
#
# The topic is created first (if missing) with P partitions and replication
# factor 1; an existing topic with another partition count is used as is (warning).
# Without --json, ProducerPerformance's output is printed as is. With --json its
# output goes to stderr and stdout gets one line parsed from its final summary:
#   {"recordsPerSec":..., "mbPerSec":..., "avgLatencyMs":..., "maxLatencyMs":...,
#    "p50Ms":..., "p99Ms":..., "p95Ms":..., "p999Ms":..., "records":...}
#
# Environment (all optional): SEQREC_CACHE, KAFKA_VERSION, KAFKA_PORT, KAFKA_BROKERS
# (see scripts/infra.sh); KAFKA_PERF_HEAP_OPTS heap of the benchmark JVM (default -Xmx512m).
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=infra/common.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/infra/common.sh"

usage() {
  sed -n '2,23p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

topic="" num_records="" record_size="" throughput=-1 partitions=6 json=0
bootstrap="${KAFKA_BROKERS:-$INFRA_HOST:$KAFKA_PORT}"
producer_props=()
extra=()

need_arg() { [[ $# -ge 2 && -n "$2" ]] || die "$1 needs a value"; }

while [[ $# -gt 0 ]]; do
  case "$1" in
    --topic) need_arg "$@"; topic="$2"; shift 2 ;;
    --num-records) need_arg "$@"; num_records="$2"; shift 2 ;;
    --record-size) need_arg "$@"; record_size="$2"; shift 2 ;;
    --throughput) need_arg "$@"; throughput="$2"; shift 2 ;;
    --partitions) need_arg "$@"; partitions="$2"; shift 2 ;;
    --bootstrap-server) need_arg "$@"; bootstrap="$2"; shift 2 ;;
    --json) json=1; shift ;;
    --producer-props)
      shift
      while [[ $# -gt 0 && "$1" != --* ]]; do
        [[ "$1" == *=* ]] || die "--producer-props expects key=value, got '$1'"
        producer_props+=("$1")
        shift
      done
      ;;
    --) shift; extra=("$@"); break ;;
    -h | --help) usage ;;
    *) log "unknown argument: $1"; usage ;;
  esac
done

[[ -n "$topic" ]] || die "--topic is required"
[[ "$num_records" =~ ^[1-9][0-9]*$ ]] || die "--num-records must be a positive integer"
[[ "$record_size" =~ ^[1-9][0-9]*$ ]] || die "--record-size must be a positive integer"
[[ "$throughput" =~ ^-?[0-9]+$ ]] || die "--throughput must be an integer (-1 = unthrottled)"
[[ "$partitions" =~ ^[1-9][0-9]*$ ]] || die "--partitions must be a positive integer"

ver="$(kafka_version_ensure)"
libs="$(kafka_libs_dir "$ver")"

# Reachability check only makes sense for the local default broker.
first="${bootstrap%%,*}"
if [[ "$first" == "$INFRA_HOST:"* || "$first" == "localhost:"* ]]; then
  port_open "${first##*:}" || die "no broker on $first; start it with: bash scripts/infra.sh up kafka"
fi

admin_cfg="$(mktemp)"
out="$(mktemp)"
trap 'rm -f "$admin_cfg" "$out"' EXIT
printf 'request.timeout.ms=10000\ndefault.api.timeout.ms=30000\n' >"$admin_cfg"

log "creating topic '$topic' ($partitions partitions) on $bootstrap if missing"
kafka_tool "$libs" org.apache.kafka.tools.TopicCommand --bootstrap-server "$bootstrap" \
  --command-config "$admin_cfg" --create --if-not-exists --topic "$topic" \
  --partitions "$partitions" --replication-factor 1 >/dev/null ||
  die "could not create topic '$topic' on $bootstrap"
actual="$(kafka_tool "$libs" org.apache.kafka.tools.TopicCommand --bootstrap-server "$bootstrap" \
  --command-config "$admin_cfg" --describe --topic "$topic" |
  sed -n 's/.*PartitionCount: *\([0-9][0-9]*\).*/\1/p' | head -n 1)" || true
if [[ -n "$actual" && "$actual" != "$partitions" ]]; then
  log "WARNING: topic '$topic' already exists with $actual partitions (asked for $partitions); using it as is"
fi

: "${KAFKA_PERF_HEAP_OPTS:=-Xmx512m}"
cmd=(java)
read -r -a heap <<<"$KAFKA_PERF_HEAP_OPTS"
cmd+=("${heap[@]}" -XX:+UseG1GC -Djava.awt.headless=true -Duser.language=en -Duser.country=US
  "-Dlog4j.configuration=file:$INFRA_DIR/tools-log4j.properties"
  -cp "$libs/*" org.apache.kafka.tools.ProducerPerformance
  --topic "$topic" --num-records "$num_records" --record-size "$record_size"
  --throughput "$throughput"
  --producer-props "bootstrap.servers=$bootstrap" ${producer_props[@]+"${producer_props[@]}"}
  ${extra[@]+"${extra[@]}"})

log "Kafka $ver ProducerPerformance: $num_records records x $record_size B -> '$topic' (throughput $throughput)"
rc=0
if [[ "$json" == 1 ]]; then
  "${cmd[@]}" 2>&1 | tee "$out" >&2 || rc=$?
else
  "${cmd[@]}" 2>&1 | tee "$out" || rc=$?
fi
[[ "$rc" == 0 ]] || die "ProducerPerformance failed (exit $rc)"

if [[ "$json" == 1 ]]; then
  # Final summary line, e.g.:
  # 200000 records sent, 98765.4 records/sec (18.84 MB/sec), 812.33 ms avg latency, 1337.00 ms max latency,
  #   790 ms 50th, 1200 ms 95th, 1290 ms 99th, 1330 ms 99.9th.
  line="$(grep -E '^[0-9]+ records sent, .* 50th, ' "$out" | tail -n 1)" ||
    die "no final summary line in the ProducerPerformance output"
  num='([0-9]+(\.[0-9]+)?)'
  re="^([0-9]+) records sent, $num records/sec \\($num MB/sec\\), $num ms avg latency, $num ms max latency, ([0-9]+) ms 50th, ([0-9]+) ms 95th, ([0-9]+) ms 99th, ([0-9]+) ms 99\\.9th\\."
  [[ "$line" =~ $re ]] || die "could not parse the summary line: $line"
  m=("${BASH_REMATCH[@]}")
  printf '{"recordsPerSec":%s, "mbPerSec":%s, "avgLatencyMs":%s, "maxLatencyMs":%s, "p50Ms":%s, "p99Ms":%s, "p95Ms":%s, "p999Ms":%s, "records":%s}\n' \
    "${m[2]}" "${m[4]}" "${m[6]}" "${m[8]}" "${m[10]}" "${m[12]}" "${m[11]}" "${m[13]}" "${m[1]}"
fi

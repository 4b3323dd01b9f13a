#!/usr/bin/env bash
# scripts/kafka-clients.sh — Kafka clients this project did not write, for the tests that drive
# seqrec as outside producers do: kcat (librdkafka's command-line client, Debian's package) and
# Kafka's own Java console producer (from the broker jars scripts/infra.sh resolves).
#
# Usage:
#   bash scripts/kafka-clients.sh install           install kcat when missing (apt-get), resolve the jars
#   bash scripts/kafka-clients.sh env               print `export KCAT=... KAFKA_CONSOLE_PRODUCER=...`
#   bash scripts/kafka-clients.sh console-producer ARGS...
#                                                    run kafka.tools.ConsoleProducer with ARGS
#                                                    (e.g. --bootstrap-server H:P --topic T
#                                                     --compression-codec lz4 --property parse.key=true)
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=infra/common.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/infra/common.sh"
SELF="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")"

install_kcat() {
  command -v kcat >/dev/null 2>&1 && return 0
  local sudo=""
  [[ "$(id -u)" == 0 ]] || sudo=sudo
  log "apt-get install kcat"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q kcat >/dev/null 2>&1 \
    || { $sudo apt-get update -qq >/dev/null && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q kcat >/dev/null; } \
    || die "could not install kcat"
}

case "${1:-}" in
  install)
    install_kcat
    kafka_version_ensure >/dev/null
    ;;
  env)
    printf 'export KCAT=%q\n' "$(command -v kcat || true)"
    printf 'export KAFKA_CONSOLE_PRODUCER=%q\n' "bash $SELF console-producer"
    ;;
  console-producer)
    shift
    libs="$(kafka_libs_dir "$(kafka_version_ensure)")"
    # shellcheck disable=SC2086 # heap opts are a space-separated list on purpose
    exec java $KAFKA_TOOLS_HEAP_OPTS "${KAFKA_TOOLS_JVM_OPTS[@]}" -cp "$libs/*" kafka.tools.ConsoleProducer "$@"
    ;;
  *)
    sed -n '2,13p' "$SELF" | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac

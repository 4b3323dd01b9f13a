# shellcheck shell=bash
# Shared helpers for scripts/infra.sh and scripts/kafka-perf.sh.
# Sourced, never executed. Callers must have run `set -euo pipefail`.
#
# Environment (all optional):
#   SEQREC_CACHE            download cache (default: $HOME/.cache/seqrec)
#   SEQREC_RUN              runtime dir: data, logs, pid files (default: $SEQREC_CACHE/run)
#   KAFKA_VERSION           Kafka version to resolve from Maven Central
#                           (default: 3.9.1, falling back to the newest 3.9.x)
#   KAFKA_PORT              broker (PLAINTEXT) port on 127.0.0.1 (default: 19092)
#   KAFKA_CONTROLLER_PORT   KRaft controller port on 127.0.0.1 (default: KAFKA_PORT+1)
#   REDIS_PORT              redis port on 127.0.0.1 (default: 16379)
#   KAFKA_TOOLS_HEAP_OPTS   heap of the short-lived Kafka CLI JVMs (default: -Xmx512m)

SEQREC_CACHE="${SEQREC_CACHE:-$HOME/.cache/seqrec}"
SEQREC_RUN="${SEQREC_RUN:-$SEQREC_CACHE/run}"
KAFKA_PORT="${KAFKA_PORT:-19092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-$((KAFKA_PORT + 1))}"
REDIS_PORT="${REDIS_PORT:-16379}"
INFRA_HOST=127.0.0.1

INFRA_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# Default Kafka version and the Maven range used if it does not resolve.
KAFKA_DEFAULT_VERSION=3.9.1
KAFKA_FALLBACK_RANGE='[3.9.0,3.10)'

KAFKA_TOOLS_HEAP_OPTS="${KAFKA_TOOLS_HEAP_OPTS:--Xmx512m}"
# Short-lived CLI JVMs: fast start-up, C locale number formatting.
KAFKA_TOOLS_JVM_OPTS=(-XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true
  -Duser.language=en -Duser.country=US
  "-Dlog4j.configuration=file:$INFRA_DIR/tools-log4j.properties")

log() { printf '[infra] %s\n' "$*" >&2; }
die() {
  printf '[infra] ERROR: %s\n' "$*" >&2
  exit 1
}

# show_log FILE...: print the last 40 lines of each existing, non-empty file to stderr.
show_log() {
  local f
  for f in "$@"; do
    if [[ -s "$f" ]]; then
      printf '[infra] ----- last 40 lines of %s -----\n' "$f" >&2
      tail -n 40 "$f" >&2
      printf '[infra] ----- end of %s -----\n' "$f" >&2
    fi
  done
}

now_s() { date +%s; }

# port_open PORT: true if something accepts TCP connections on 127.0.0.1:PORT.
port_open() {
  timeout 2 bash -c "exec 3<>/dev/tcp/$INFRA_HOST/$1" 2>/dev/null
}

pid_alive() {
  [[ -n "${1:-}" ]] && kill -0 "$1" 2>/dev/null
}

# pid_cmdline_has PID STRING...: true if PID's command line contains every STRING.
pid_cmdline_has() {
  local pid="$1" cmd s
  shift
  [[ -r "/proc/$pid/cmdline" ]] || return 1
  cmd="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" || return 1
  for s in "$@"; do
    [[ "$cmd" == *"$s"* ]] || return 1
  done
}

# read_pid FILE: print the integer in FILE (empty if missing or garbage).
read_pid() {
  local p=""
  [[ -f "$1" ]] && p="$(head -n 1 "$1" 2>/dev/null | tr -dc '0-9')"
  printf '%s' "$p"
}

# stop_pid NAME PID TIMEOUT_S: SIGTERM, wait up to TIMEOUT_S, then SIGKILL.
stop_pid() {
  local name="$1" pid="$2" timeout="$3" waited=0
  log "stopping $name (pid $pid, SIGTERM)"
  kill -TERM "$pid" 2>/dev/null || true
  while pid_alive "$pid"; do
    if ((waited >= timeout * 5)); then
      log "$name (pid $pid) still alive after ${timeout}s, sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      sleep 0.5
      break
    fi
    sleep 0.2
    waited=$((waited + 1))
  done
  if pid_alive "$pid"; then
    die "$name (pid $pid) did not exit"
  fi
  log "$name stopped"
}

# ----------------------------------------------------------------------------
# Kafka jars (resolved with Maven into $SEQREC_CACHE/kafka-<version>/libs)
# ----------------------------------------------------------------------------

KAFKA_VERSION_FILE="$SEQREC_CACHE/kafka.version"

# kafka_libs_complete VERSION: true if the libs folder for VERSION is complete.
kafka_libs_complete() {
  local libs="$SEQREC_CACHE/kafka-$1/libs"
  [[ -f "$libs/.complete" && -f "$libs/kafka_2.13-$1.jar" && -f "$libs/kafka-tools-$1.jar" ]]
}

# kafka_fetch SPEC: resolve Kafka SPEC (version or Maven range) into the cache.
# Prints the resolved version on stdout.
kafka_fetch() {
  local spec="$1" build="$SEQREC_CACHE/kafka-build" out ver jar dest n
  command -v mvn >/dev/null 2>&1 || die "mvn (Maven) not found; install it (apt-get install -y maven)"
  command -v java >/dev/null 2>&1 || die "java not found; install a JDK 17 (apt-get install -y openjdk-17-jdk-headless)"
  mkdir -p "$build"
  cp "$INFRA_DIR/kafka-pom.xml" "$build/pom.xml"
  out="$build/libs.tmp"
  rm -rf "$out"
  log "resolving Kafka $spec jars with Maven (log: $build/mvn.log)"
  if ! (cd "$build" && mvn -B --no-transfer-progress -f "$build/pom.xml" \
    "-Dkafka.version=$spec" -Dmdep.includeScope=runtime \
    dependency:copy-dependencies "-DoutputDirectory=$out") >"$build/mvn.log" 2>&1; then
    return 1
  fi
  jar="$(find "$out" -maxdepth 1 -name 'kafka_2.13-*.jar' | head -n 1)"
  [[ -n "$jar" ]] || return 1
  ver="$(basename "$jar" .jar)"
  ver="${ver#kafka_2.13-}"
  [[ -f "$out/kafka-tools-$ver.jar" ]] || return 1
  compgen -G "$out/slf4j-reload4j-*.jar" >/dev/null || return 1
  compgen -G "$out/reload4j-*.jar" >/dev/null || return 1
  dest="$SEQREC_CACHE/kafka-$ver/libs"
  rm -rf "$dest"
  mkdir -p "$(dirname "$dest")"
  mv "$out" "$dest"
  n="$(find "$dest" -maxdepth 1 -name '*.jar' | wc -l)"
  {
    echo "version=$ver"
    echo "spec=$spec"
    echo "jars=$n"
    echo "resolved=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  } >"$dest/.complete"
  echo "$ver" >"$KAFKA_VERSION_FILE"
  log "Kafka $ver: $n jars in $dest"
  printf '%s' "$ver"
}

# kafka_version_ensure: make sure the jars are cached; print the version to use.
kafka_version_ensure() {
  local v
  mkdir -p "$SEQREC_CACHE"
  if [[ -n "${KAFKA_VERSION:-}" ]]; then
    if ! kafka_libs_complete "$KAFKA_VERSION"; then
      if ! kafka_fetch "$KAFKA_VERSION" >/dev/null; then
        show_log "$SEQREC_CACHE/kafka-build/mvn.log"
        die "could not resolve Kafka $KAFKA_VERSION from Maven Central"
      fi
    fi
    printf '%s' "$KAFKA_VERSION"
    return 0
  fi
  v="$(head -n 1 "$KAFKA_VERSION_FILE" 2>/dev/null || true)"
  if [[ -n "$v" ]] && kafka_libs_complete "$v"; then
    printf '%s' "$v"
    return 0
  fi
  if kafka_libs_complete "$KAFKA_DEFAULT_VERSION"; then
    printf '%s' "$KAFKA_DEFAULT_VERSION"
    return 0
  fi
  if v="$(kafka_fetch "$KAFKA_DEFAULT_VERSION")"; then
    printf '%s' "$v"
    return 0
  fi
  log "Kafka $KAFKA_DEFAULT_VERSION did not resolve; trying the newest 3.9.x ($KAFKA_FALLBACK_RANGE)"
  if v="$(kafka_fetch "$KAFKA_FALLBACK_RANGE")"; then
    printf '%s' "$v"
    return 0
  fi
  show_log "$SEQREC_CACHE/kafka-build/mvn.log"
  die "could not resolve Kafka $KAFKA_DEFAULT_VERSION nor $KAFKA_FALLBACK_RANGE from Maven Central"
}

kafka_libs_dir() { printf '%s' "$SEQREC_CACHE/kafka-$1/libs"; }

# kafka_tool LIBS CLASS ARGS...: run a Kafka CLI class from the cached jars.
kafka_tool() {
  local libs="$1"
  shift
  # shellcheck disable=SC2086 # heap opts are a space-separated list on purpose
  java $KAFKA_TOOLS_HEAP_OPTS "${KAFKA_TOOLS_JVM_OPTS[@]}" -cp "$libs/*" "$@"
}

#!/usr/bin/env bash
# scripts/infra.sh — provision the real local infrastructure for seqrec:
# a single-node Apache Kafka 3.9 broker (KRaft, broker+controller in one JVM), a Redis server and,
# on demand, a 3-master Redis Cluster, all bound to 127.0.0.1 only, no containers.
#
# Usage:
#   bash scripts/infra.sh up     [kafka|redis|redis-cluster]   start (idempotent; no-op if already running and healthy)
#   bash scripts/infra.sh down   [kafka|redis|redis-cluster]   stop what this script started (SIGTERM, then SIGKILL after a timeout)
#   bash scripts/infra.sh status [kafka|redis|redis-cluster]   show state; exit 0 if all asked are up and healthy, 3 otherwise
#   bash scripts/infra.sh env    [kafka|redis|redis-cluster]   print `export KAFKA_BROKERS=...` / `export REDIS_URL=...` / `export REDIS_CLUSTER_NODES=...`
#   eval "$(bash scripts/infra.sh env)"
# Without the second argument the command applies to kafka and redis; the cluster only when named.
#
# Kafka: the broker jars (kafka_2.13, kafka-tools, slf4j-reload4j, reload4j) are
# resolved from Maven Central with `mvn dependency:copy-dependencies` using
# scripts/infra/kafka-pom.xml into $SEQREC_CACHE/kafka-<version>/libs (once; a
# .complete marker skips it later). The broker runs as
#   java -cp "$LIBS/*" kafka.Kafka $SEQREC_RUN/kafka/server.properties
# with storage formatted once per data dir (kafka.tools.StorageTool format).
# Redis: redis-server is installed with apt-get only when missing (the Debian
# service that the package may start on port 6379 is stopped and disabled);
# our own instance is started with --daemonize yes --appendonly yes --save "".
# Redis Cluster (for the tests of the Cluster client): one redis-server --cluster-enabled yes per
# port of REDIS_CLUSTER_PORTS (masters only, no persistence), joined by `redis-cli --cluster create
# --cluster-replicas 0`; up waits for cluster_state:ok on every node. A healthy cluster is left
# alone; a node that died is restarted and rejoins from its nodes.conf; anything else (a stale
# nodes.conf, a half-made cluster) is reset (FLUSHALL, CLUSTER RESET HARD) and created again. Its
# data does not survive down/up: a start with no node running begins from empty data dirs.
#
# Environment (all optional):
#   SEQREC_CACHE          download cache (default: $HOME/.cache/seqrec)
#   SEQREC_RUN            data, logs and pid files (default: $SEQREC_CACHE/run)
#   KAFKA_VERSION         Kafka version (default: 3.9.1, else newest 3.9.x on Maven Central)
#   KAFKA_PORT            broker port (default: 19092)
#   KAFKA_CONTROLLER_PORT KRaft controller port (default: KAFKA_PORT+1 = 19093)
#   KAFKA_NUM_PARTITIONS  default partitions of auto-created topics (default: 6)
#   KAFKA_RETENTION_HOURS log.retention.hours (default: 24)
#   KAFKA_HEAP_OPTS       broker heap (default: -Xmx1g -Xms1g)
#   KAFKA_JVM_OPTS        other broker JVM flags (default: G1 settings of kafka-run-class.sh)
#   KAFKA_DATA_RESET=1    wipe the Kafka data dir before starting (restarts a running broker)
#   KAFKA_START_TIMEOUT   seconds to wait for the broker to answer metadata requests (default: 90)
#   KAFKA_STOP_TIMEOUT    seconds between SIGTERM and SIGKILL on down (default: 60)
#   REDIS_PORT            redis port (default: 16379)
#   REDIS_DATA_RESET=1    wipe the Redis data dir before starting (restarts a running redis)
#   REDIS_START_TIMEOUT   seconds to wait for PING -> PONG (default: 30)
#   REDIS_STOP_TIMEOUT    seconds between SIGTERM and SIGKILL on down (default: 30)
#   REDIS_CLUSTER_PORTS   ports of the cluster's masters, at least 3 (default: 17000,17001,17002;
#                         each node's cluster bus listens on port+10000)
#   REDIS_CLUSTER_START_TIMEOUT  seconds to wait for cluster_state:ok (default: 30)
#   REDIS_CLUSTER_STOP_TIMEOUT   seconds between SIGTERM and SIGKILL per node on down (default: 30)
#
# Layout under $SEQREC_RUN:
#   kafka/{server.properties,admin.properties,kafka.pid,data/,logs/{server.log,kafka.out,...}}
#   redis/{redis.pid,data/,logs/redis.log}
#   redis-cluster/<port>/{redis.pid,data/nodes.conf,logs/redis.log}, redis-cluster/create.log
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=infra/common.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/infra/common.sh"

KAFKA_NUM_PARTITIONS="${KAFKA_NUM_PARTITIONS:-6}"
KAFKA_RETENTION_HOURS="${KAFKA_RETENTION_HOURS:-24}"
KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xmx1g -Xms1g}"
KAFKA_JVM_OPTS="${KAFKA_JVM_OPTS:--server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent -XX:MaxInlineLevel=15 -Djava.awt.headless=true}"
KAFKA_START_TIMEOUT="${KAFKA_START_TIMEOUT:-90}"
KAFKA_STOP_TIMEOUT="${KAFKA_STOP_TIMEOUT:-60}"
REDIS_START_TIMEOUT="${REDIS_START_TIMEOUT:-30}"
REDIS_STOP_TIMEOUT="${REDIS_STOP_TIMEOUT:-30}"
REDIS_CLUSTER_PORTS="${REDIS_CLUSTER_PORTS:-17000,17001,17002}"
REDIS_CLUSTER_START_TIMEOUT="${REDIS_CLUSTER_START_TIMEOUT:-30}"
REDIS_CLUSTER_STOP_TIMEOUT="${REDIS_CLUSTER_STOP_TIMEOUT:-30}"

KAFKA_DIR="$SEQREC_RUN/kafka"
KAFKA_DATA="$KAFKA_DIR/data"
KAFKA_LOGS="$KAFKA_DIR/logs"
KAFKA_PID_FILE="$KAFKA_DIR/kafka.pid"
KAFKA_PROPS="$KAFKA_DIR/server.properties"
KAFKA_ADMIN_PROPS="$KAFKA_DIR/admin.properties"

REDIS_DIR="$SEQREC_RUN/redis"
REDIS_DATA="$REDIS_DIR/data"
REDIS_LOGS="$REDIS_DIR/logs"
REDIS_PID_FILE="$REDIS_DIR/redis.pid"
REDIS_LOG="$REDIS_LOGS/redis.log"

REDIS_CLUSTER_DIR="$SEQREC_RUN/redis-cluster"

usage() {
  sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

# Serialise up/down of concurrent callers. fd 9 must not leak into the
# daemons (they would hold the lock forever): they are started with 9>&-.
take_lock() {
  mkdir -p "$SEQREC_RUN"
  exec 9>"$SEQREC_RUN/.infra.lock"
  if ! flock -n 9; then
    log "waiting for another infra.sh up/down to finish ($SEQREC_RUN/.infra.lock)"
    flock -w 600 9 || die "another infra.sh up/down still holds $SEQREC_RUN/.infra.lock after 600s"
  fi
}

# ============================================================================
# Kafka
# ============================================================================

# kafka_pid: print the pid of the broker we started (pid file + command line check).
kafka_pid() {
  local pid
  pid="$(read_pid "$KAFKA_PID_FILE")"
  if pid_alive "$pid" && pid_cmdline_has "$pid" kafka.Kafka "$KAFKA_PROPS"; then
    printf '%s' "$pid"
    return 0
  fi
  return 1
}

write_admin_props() {
  mkdir -p "$KAFKA_DIR"
  cat >"$KAFKA_ADMIN_PROPS" <<EOF
request.timeout.ms=5000
default.api.timeout.ms=10000
EOF
}

# kafka_metadata_ok LIBS: a real metadata round trip (list topics).
kafka_metadata_ok() {
  local libs="$1"
  [[ -f "$KAFKA_ADMIN_PROPS" ]] || write_admin_props
  port_open "$KAFKA_PORT" || return 1
  mkdir -p "$KAFKA_LOGS"
  # shellcheck disable=SC2086 # heap opts are a space-separated list on purpose
  timeout 30 java $KAFKA_TOOLS_HEAP_OPTS "${KAFKA_TOOLS_JVM_OPTS[@]}" -cp "$libs/*" \
    org.apache.kafka.tools.TopicCommand --bootstrap-server "$INFRA_HOST:$KAFKA_PORT" \
    --command-config "$KAFKA_ADMIN_PROPS" --list >/dev/null 2>>"$KAFKA_LOGS/healthcheck.log"
}

kafka_fail() {
  show_log "$KAFKA_LOGS/kafka.out" "$KAFKA_LOGS/server.log"
  die "$*"
}

# kafka_wait_healthy LIBS PID
kafka_wait_healthy() {
  local libs="$1" pid="$2" deadline
  deadline=$(($(now_s) + KAFKA_START_TIMEOUT))
  while :; do
    if ! pid_alive "$pid"; then
      rm -f "$KAFKA_PID_FILE"
      kafka_fail "Kafka broker (pid $pid) exited during start-up; logs in $KAFKA_LOGS"
    fi
    if kafka_metadata_ok "$libs"; then
      return 0
    fi
    if (($(now_s) >= deadline)); then
      show_log "$KAFKA_LOGS/healthcheck.log"
      kafka_fail "Kafka broker (pid $pid) did not answer a metadata request on $INFRA_HOST:$KAFKA_PORT within ${KAFKA_START_TIMEOUT}s; it is left running: stop it with 'bash scripts/infra.sh down kafka'"
    fi
    sleep 1
  done
}

render_server_props() {
  local data_esc
  data_esc="$(printf '%s' "$KAFKA_DATA" | sed 's/[\/&|]/\\&/g')"
  sed -e "s|@KAFKA_PORT@|$KAFKA_PORT|g" \
    -e "s|@CONTROLLER_PORT@|$KAFKA_CONTROLLER_PORT|g" \
    -e "s|@DATA_DIR@|$data_esc|g" \
    -e "s|@NUM_PARTITIONS@|$KAFKA_NUM_PARTITIONS|g" \
    -e "s|@RETENTION_HOURS@|$KAFKA_RETENTION_HOURS|g" \
    "$INFRA_DIR/server.properties.tmpl" >"$KAFKA_PROPS.tmp"
  mv "$KAFKA_PROPS.tmp" "$KAFKA_PROPS"
}

kafka_up() {
  local t0 ver libs pid cluster_id
  t0=$(now_s)
  [[ "$KAFKA_NUM_PARTITIONS" =~ ^[1-9][0-9]*$ ]] || die "KAFKA_NUM_PARTITIONS must be a positive integer (got '$KAFKA_NUM_PARTITIONS')"
  ver="$(kafka_version_ensure)"
  libs="$(kafka_libs_dir "$ver")"

  if pid="$(kafka_pid)"; then
    if [[ "${KAFKA_DATA_RESET:-0}" == 1 ]]; then
      log "KAFKA_DATA_RESET=1: restarting the running broker with an empty data dir"
      stop_pid kafka "$pid" "$KAFKA_STOP_TIMEOUT"
      rm -f "$KAFKA_PID_FILE"
    elif kafka_metadata_ok "$libs"; then
      log "kafka already running and healthy (pid $pid, $INFRA_HOST:$KAFKA_PORT, Kafka $ver)"
      return 0
    else
      log "kafka running (pid $pid) but not answering yet; waiting"
      kafka_wait_healthy "$libs" "$pid"
      log "kafka healthy (pid $pid, $INFRA_HOST:$KAFKA_PORT, Kafka $ver)"
      return 0
    fi
  fi
  if [[ -f "$KAFKA_PID_FILE" ]]; then
    log "removing stale pid file $KAFKA_PID_FILE"
    rm -f "$KAFKA_PID_FILE"
  fi
  if port_open "$KAFKA_PORT"; then
    die "port $INFRA_HOST:$KAFKA_PORT is already in use by a process this script did not start; free it or set KAFKA_PORT"
  fi
  if port_open "$KAFKA_CONTROLLER_PORT"; then
    die "controller port $INFRA_HOST:$KAFKA_CONTROLLER_PORT is already in use; free it or set KAFKA_CONTROLLER_PORT"
  fi

  if [[ "${KAFKA_DATA_RESET:-0}" == 1 && -d "$KAFKA_DATA" ]]; then
    log "KAFKA_DATA_RESET=1: wiping $KAFKA_DATA"
    rm -rf "$KAFKA_DATA"
  fi
  mkdir -p "$KAFKA_DATA" "$KAFKA_LOGS"
  render_server_props
  write_admin_props

  if [[ ! -f "$KAFKA_DATA/meta.properties" ]]; then
    cluster_id="$(kafka_tool "$libs" kafka.tools.StorageTool random-uuid 2>>"$KAFKA_LOGS/storage-format.log")" ||
      { show_log "$KAFKA_LOGS/storage-format.log"; die "kafka StorageTool random-uuid failed"; }
    log "formatting KRaft storage in $KAFKA_DATA (cluster id $cluster_id)"
    if ! kafka_tool "$libs" kafka.tools.StorageTool format --ignore-formatted \
      -t "$cluster_id" -c "$KAFKA_PROPS" >>"$KAFKA_LOGS/storage-format.log" 2>&1; then
      show_log "$KAFKA_LOGS/storage-format.log"
      die "kafka StorageTool format failed"
    fi
  fi

  log "starting Kafka $ver broker on $INFRA_HOST:$KAFKA_PORT (controller :$KAFKA_CONTROLLER_PORT, logs $KAFKA_LOGS)"
  rm -f "$KAFKA_PID_FILE" "$KAFKA_LOGS/healthcheck.log"
  printf '\n===== %s start =====\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >>"$KAFKA_LOGS/kafka.out"
  # New session so the broker outlives the caller's process group; the inner
  # shell records its own pid and then execs java, so the pid file is java's.
  # shellcheck disable=SC2016,SC2086 # $$/$1 expand in the inner shell; JVM opts are word lists
  setsid bash -c 'echo $$ >"$1"; shift; exec "$@"' infra-kafka "$KAFKA_PID_FILE" \
    java $KAFKA_HEAP_OPTS $KAFKA_JVM_OPTS \
    "-Dlog4j.configuration=file:$INFRA_DIR/log4j.properties" \
    "-Dkafka.logs.dir=$KAFKA_LOGS" \
    -cp "$libs/*" kafka.Kafka "$KAFKA_PROPS" \
    </dev/null >>"$KAFKA_LOGS/kafka.out" 2>&1 9>&- &
  for _ in $(seq 1 50); do
    pid="$(read_pid "$KAFKA_PID_FILE")"
    [[ -n "$pid" ]] && break
    sleep 0.1
  done
  [[ -n "$pid" ]] || kafka_fail "could not start the Kafka JVM (no pid file after 5s)"
  kafka_wait_healthy "$libs" "$pid"
  log "kafka up (pid $pid, $INFRA_HOST:$KAFKA_PORT, Kafka $ver) in $(($(now_s) - t0))s"
}

kafka_down() {
  local pid stale
  if pid="$(kafka_pid)"; then
    stop_pid kafka "$pid" "$KAFKA_STOP_TIMEOUT"
    rm -f "$KAFKA_PID_FILE"
  else
    stale="$(read_pid "$KAFKA_PID_FILE")"
    if [[ -n "$stale" ]]; then
      log "kafka not running (removing stale pid file, pid $stale is not our broker)"
      rm -f "$KAFKA_PID_FILE"
    else
      log "kafka not running"
    fi
  fi
}

kafka_status() {
  local pid ver libs
  ver="$(head -n 1 "$KAFKA_VERSION_FILE" 2>/dev/null || true)"
  if pid="$(kafka_pid)"; then
    libs="$(kafka_libs_dir "${KAFKA_VERSION:-$ver}")"
    if kafka_metadata_ok "$libs"; then
      echo "kafka: running, healthy (pid $pid, $INFRA_HOST:$KAFKA_PORT, controller :$KAFKA_CONTROLLER_PORT, Kafka ${KAFKA_VERSION:-$ver}, data $KAFKA_DATA, libs $libs)"
      return 0
    fi
    echo "kafka: running but NOT answering metadata requests (pid $pid, $INFRA_HOST:$KAFKA_PORT, logs $KAFKA_LOGS)"
    return 3
  fi
  if port_open "$KAFKA_PORT"; then
    echo "kafka: stopped (but $INFRA_HOST:$KAFKA_PORT is in use by a process this script did not start)"
  else
    echo "kafka: stopped"
  fi
  return 3
}

# ============================================================================
# Redis
# ============================================================================

as_root() {
  if [[ "$(id -u)" -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo -n "$@"
  else
    die "need root (or sudo) to run: $*"
  fi
}

# Stop and disable the Debian package's own redis service (port 6379).
disable_distro_redis() {
  local apt_log="$1"
  log "making sure the Debian redis-server service is stopped and disabled"
  {
    if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null 2>&1; then
      as_root systemctl disable --now redis-server.service || true
    else
      if [[ -x /etc/init.d/redis-server ]]; then
        as_root /etc/init.d/redis-server stop || true
      fi
      if command -v update-rc.d >/dev/null 2>&1; then
        as_root update-rc.d redis-server disable || true
      fi
    fi
  } >>"$apt_log" 2>&1
  local p
  p="$(read_pid /run/redis/redis-server.pid)"
  if pid_alive "$p" && pid_cmdline_has "$p" redis-server; then
    log "the Debian redis-server (pid $p) is still running; stopping it"
    as_root kill -TERM "$p" || true
  fi
}

ensure_redis_installed() {
  local apt_log="$SEQREC_CACHE/apt-redis.log"
  if command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1; then
    return 0
  fi
  mkdir -p "$SEQREC_CACHE"
  log "redis-server not found; installing it with apt-get (log: $apt_log)"
  if ! as_root apt-get update >"$apt_log" 2>&1; then
    show_log "$apt_log"
    die "apt-get update failed"
  fi
  if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q redis-server >>"$apt_log" 2>&1; then
    show_log "$apt_log"
    die "apt-get install redis-server failed"
  fi
  disable_distro_redis "$apt_log"
  command -v redis-server >/dev/null 2>&1 || die "redis-server still not found after apt-get install"
  log "installed $(redis-server --version | head -n 1)"
}

redis_pid() {
  local pid
  pid="$(read_pid "$REDIS_PID_FILE")"
  if pid_alive "$pid" && pid_cmdline_has "$pid" redis-server ":$REDIS_PORT"; then
    printf '%s' "$pid"
    return 0
  fi
  return 1
}

redis_ping() {
  [[ "$(timeout 5 redis-cli -h "$INFRA_HOST" -p "$REDIS_PORT" ping 2>/dev/null)" == PONG ]]
}

redis_wait_healthy() {
  local pid="$1" deadline
  deadline=$(($(now_s) + REDIS_START_TIMEOUT))
  while :; do
    if redis_ping; then
      return 0
    fi
    if [[ -n "$pid" ]] && ! pid_alive "$pid"; then
      show_log "$REDIS_LOG"
      die "redis (pid $pid) exited during start-up; log $REDIS_LOG"
    fi
    if (($(now_s) >= deadline)); then
      show_log "$REDIS_LOG"
      die "redis did not answer PING on $INFRA_HOST:$REDIS_PORT within ${REDIS_START_TIMEOUT}s"
    fi
    sleep 0.2
  done
}

redis_up() {
  local t0 pid
  t0=$(now_s)
  ensure_redis_installed
  if pid="$(redis_pid)"; then
    if [[ "${REDIS_DATA_RESET:-0}" == 1 ]]; then
      log "REDIS_DATA_RESET=1: restarting the running redis with an empty data dir"
      stop_pid redis "$pid" "$REDIS_STOP_TIMEOUT"
      rm -f "$REDIS_PID_FILE"
    elif redis_ping; then
      log "redis already running and healthy (pid $pid, $INFRA_HOST:$REDIS_PORT)"
      return 0
    else
      log "redis running (pid $pid) but not answering yet; waiting"
      redis_wait_healthy "$pid"
      log "redis healthy (pid $pid, $INFRA_HOST:$REDIS_PORT)"
      return 0
    fi
  fi
  if [[ -f "$REDIS_PID_FILE" ]]; then
    log "removing stale pid file $REDIS_PID_FILE"
    rm -f "$REDIS_PID_FILE"
  fi
  if port_open "$REDIS_PORT"; then
    die "port $INFRA_HOST:$REDIS_PORT is already in use by a process this script did not start; free it or set REDIS_PORT"
  fi
  if [[ "${REDIS_DATA_RESET:-0}" == 1 && -d "$REDIS_DATA" ]]; then
    log "REDIS_DATA_RESET=1: wiping $REDIS_DATA"
    rm -rf "$REDIS_DATA"
  fi
  mkdir -p "$REDIS_DATA" "$REDIS_LOGS"
  log "starting $(redis-server --version | awk '{print $1, $2, $3}') on $INFRA_HOST:$REDIS_PORT (log $REDIS_LOG)"
  if ! redis-server --bind "$INFRA_HOST" --port "$REDIS_PORT" --protected-mode yes \
    --daemonize yes --pidfile "$REDIS_PID_FILE" --logfile "$REDIS_LOG" \
    --dir "$REDIS_DATA" --appendonly yes --save "" >>"$REDIS_LOGS/redis-start.out" 2>&1 9>&-; then
    show_log "$REDIS_LOGS/redis-start.out" "$REDIS_LOG"
    die "redis-server failed to start"
  fi
  pid=""
  for _ in $(seq 1 50); do
    pid="$(read_pid "$REDIS_PID_FILE")"
    [[ -n "$pid" ]] && break
    sleep 0.1
  done
  if [[ -z "$pid" ]]; then
    show_log "$REDIS_LOGS/redis-start.out" "$REDIS_LOG"
    die "redis-server wrote no pid file ($REDIS_PID_FILE)"
  fi
  redis_wait_healthy "$pid"
  log "redis up (pid $pid, $INFRA_HOST:$REDIS_PORT) in $(($(now_s) - t0))s"
}

redis_down() {
  local pid stale
  if pid="$(redis_pid)"; then
    stop_pid redis "$pid" "$REDIS_STOP_TIMEOUT"
    rm -f "$REDIS_PID_FILE"
  else
    stale="$(read_pid "$REDIS_PID_FILE")"
    if [[ -n "$stale" ]]; then
      log "redis not running (removing stale pid file, pid $stale is not our redis)"
      rm -f "$REDIS_PID_FILE"
    else
      log "redis not running"
    fi
  fi
}

redis_status() {
  local pid
  if pid="$(redis_pid)"; then
    if command -v redis-cli >/dev/null 2>&1 && redis_ping; then
      echo "redis: running, healthy (pid $pid, $INFRA_HOST:$REDIS_PORT, data $REDIS_DATA)"
      return 0
    fi
    echo "redis: running but NOT answering PING (pid $pid, $INFRA_HOST:$REDIS_PORT, log $REDIS_LOG)"
    return 3
  fi
  if port_open "$REDIS_PORT"; then
    echo "redis: stopped (but $INFRA_HOST:$REDIS_PORT is in use by a process this script did not start)"
  else
    echo "redis: stopped"
  fi
  return 3
}

# ============================================================================
# Redis Cluster (three masters by default, no replicas: the tests of the Cluster client)
# ============================================================================

# redis_cluster_port_list: the ports of REDIS_CLUSTER_PORTS, one per line (validated).
redis_cluster_port_list() {
  local p n=0 seen=" "
  for p in ${REDIS_CLUSTER_PORTS//,/ }; do
    [[ "$p" =~ ^[1-9][0-9]*$ ]] && ((p <= 55535)) ||
      die "REDIS_CLUSTER_PORTS: '$p' is not a port ≤ 55535 (the cluster bus uses port+10000)"
    [[ "$seen" != *" $p "* ]] || die "REDIS_CLUSTER_PORTS: port $p given twice"
    seen+="$p "
    n=$((n + 1))
    echo "$p"
  done
  ((n >= 3)) || die "REDIS_CLUSTER_PORTS needs at least 3 ports (a Redis Cluster needs 3 masters), got '$REDIS_CLUSTER_PORTS'"
}

redis_cluster_nodes() {
  local p out=""
  for p in $(redis_cluster_port_list); do out+="${out:+,}$INFRA_HOST:$p"; done
  printf '%s' "$out"
}

cnode_dir() { printf '%s' "$REDIS_CLUSTER_DIR/$1"; }

# cnode_pid PORT: the pid of the cluster node we started on PORT.
cnode_pid() {
  local pid
  pid="$(read_pid "$(cnode_dir "$1")/redis.pid")"
  if pid_alive "$pid" && pid_cmdline_has "$pid" redis-server ":$1" cluster; then
    printf '%s' "$pid"
    return 0
  fi
  return 1
}

cnode_cli() {
  local port="$1"
  shift
  timeout 5 redis-cli -h "$INFRA_HOST" -p "$port" "$@" 2>/dev/null
}

cnode_ping() { [[ "$(cnode_cli "$1" ping)" == PONG ]]; }

# cnode_cluster_info PORT FIELD: one field of CLUSTER INFO.
cnode_cluster_info() {
  cnode_cli "$1" cluster info | tr -d '\r' | sed -n "s/^$2://p"
}

# redis_cluster_healthy: every node answers, and every node sees one cluster of all of them
# (cluster_state:ok, all 16384 slots assigned, one master per port).
redis_cluster_healthy() {
  local p n
  n="$(redis_cluster_port_list | wc -l)"
  for p in $(redis_cluster_port_list); do
    cnode_ping "$p" || return 1
    [[ "$(cnode_cluster_info "$p" cluster_state)" == ok ]] || return 1
    [[ "$(cnode_cluster_info "$p" cluster_slots_assigned)" == 16384 ]] || return 1
    [[ "$(cnode_cluster_info "$p" cluster_known_nodes)" == "$n" ]] || return 1
    [[ "$(cnode_cluster_info "$p" cluster_size)" == "$n" ]] || return 1
  done
}

# redis_cluster_wait_healthy SECONDS: true once healthy, false after SECONDS.
redis_cluster_wait_healthy() {
  local deadline=$(($(now_s) + $1))
  until redis_cluster_healthy; do
    (($(now_s) < deadline)) || return 1
    sleep 0.5
  done
}

# cnode_start PORT: start one cluster node (its nodes.conf, if any, is kept).
cnode_start() {
  local port="$1" dir pid
  dir="$(cnode_dir "$port")"
  if port_open "$port"; then
    die "port $INFRA_HOST:$port is already in use by a process this script did not start; free it or set REDIS_CLUSTER_PORTS"
  fi
  if port_open $((port + 10000)); then
    die "cluster bus port $INFRA_HOST:$((port + 10000)) (port $port + 10000) is already in use; free it or set REDIS_CLUSTER_PORTS"
  fi
  rm -f "$dir/redis.pid"
  mkdir -p "$dir/data" "$dir/logs"
  if ! redis-server --bind "$INFRA_HOST" --port "$port" --protected-mode yes \
    --cluster-enabled yes --cluster-config-file nodes.conf --cluster-node-timeout 5000 \
    --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/logs/redis.log" \
    --dir "$dir/data" --appendonly no --save "" >>"$dir/logs/redis-start.out" 2>&1 9>&-; then
    show_log "$dir/logs/redis-start.out" "$dir/logs/redis.log"
    die "redis-server (cluster node $port) failed to start"
  fi
  pid=""
  for _ in $(seq 1 50); do
    pid="$(read_pid "$dir/redis.pid")"
    [[ -n "$pid" ]] && break
    sleep 0.1
  done
  [[ -n "$pid" ]] || { show_log "$dir/logs/redis.log"; die "cluster node $port wrote no pid file"; }
  for _ in $(seq 1 $((REDIS_START_TIMEOUT * 5))); do
    cnode_ping "$port" && return 0
    pid_alive "$pid" || break
    sleep 0.2
  done
  show_log "$dir/logs/redis.log"
  die "cluster node $port (pid $pid) did not answer PING; log $dir/logs/redis.log"
}

# redis_cluster_create: empty every node, forget any earlier cluster, create one of all nodes.
redis_cluster_create() {
  local p addrs=() log="$REDIS_CLUSTER_DIR/create.log"
  for p in $(redis_cluster_port_list); do
    cnode_cli "$p" flushall >/dev/null || die "FLUSHALL on cluster node $p failed"
    [[ "$(cnode_cli "$p" cluster reset hard)" == OK ]] || die "CLUSTER RESET HARD on cluster node $p failed"
    addrs+=("$INFRA_HOST:$p")
  done
  log "creating the Redis Cluster of ${addrs[*]} (log $log)"
  if ! timeout 60 redis-cli --cluster create "${addrs[@]}" --cluster-replicas 0 --cluster-yes >"$log" 2>&1; then
    show_log "$log"
    die "redis-cli --cluster create failed"
  fi
}

redis_cluster_up() {
  local t0 p pid running=0 stopped=()
  t0=$(now_s)
  ensure_redis_installed
  [[ "$(redis-cli --version | grep -oE '[0-9]+' | head -n 1)" -ge 5 ]] || die "redis-cli --cluster needs Redis ≥ 5 ($(redis-cli --version))"
  for p in $(redis_cluster_port_list); do
    if cnode_pid "$p" >/dev/null; then running=$((running + 1)); else stopped+=("$p"); fi
  done
  if ((${#stopped[@]} == 0)) && redis_cluster_healthy; then
    log "redis-cluster already running and healthy ($(redis_cluster_nodes))"
    return 0
  fi
  if ((running == 0)); then
    # A fresh start: a nodes.conf left by an earlier cluster would name nodes that are gone.
    for p in "${stopped[@]}"; do rm -rf "$(cnode_dir "$p")/data"; done
  fi
  for p in "${stopped[@]}"; do
    log "starting Redis Cluster node $INFRA_HOST:$p (log $(cnode_dir "$p")/logs/redis.log)"
    cnode_start "$p"
  done
  if ((running > 0)); then
    log "waiting for the running cluster nodes and the restarted ones to agree"
    if redis_cluster_wait_healthy 15; then
      log "redis-cluster healthy ($(redis_cluster_nodes)) in $(($(now_s) - t0))s"
      return 0
    fi
    log "the nodes do not form one healthy cluster: resetting them and creating it again"
  fi
  redis_cluster_create
  if ! redis_cluster_wait_healthy "$REDIS_CLUSTER_START_TIMEOUT"; then
    for p in $(redis_cluster_port_list); do echo "[infra] node $p: $(cnode_cli "$p" cluster info | tr -d '\r' | grep -E 'cluster_(state|slots_assigned|known_nodes|size)' | tr '\n' ' ')" >&2; done
    die "the Redis Cluster did not reach cluster_state:ok within ${REDIS_CLUSTER_START_TIMEOUT}s; stop it with 'bash scripts/infra.sh down redis-cluster'"
  fi
  pid=""
  for p in $(redis_cluster_port_list); do pid+="${pid:+ }$(cnode_pid "$p")"; done
  log "redis-cluster up ($(redis_cluster_nodes), pids $pid) in $(($(now_s) - t0))s"
}

redis_cluster_down() {
  local p pid stale any=0
  for p in $(redis_cluster_port_list); do
    if pid="$(cnode_pid "$p")"; then
      stop_pid "redis-cluster node $p" "$pid" "$REDIS_CLUSTER_STOP_TIMEOUT"
      any=1
    else
      stale="$(read_pid "$(cnode_dir "$p")/redis.pid")"
      [[ -z "$stale" ]] || log "redis-cluster node $p not running (removing stale pid file, pid $stale is not our node)"
    fi
    rm -f "$(cnode_dir "$p")/redis.pid"
  done
  ((any)) || log "redis-cluster not running"
}

redis_cluster_status() {
  local p pid pids="" up=0 n=0 foreign=""
  for p in $(redis_cluster_port_list); do
    n=$((n + 1))
    if pid="$(cnode_pid "$p")"; then
      up=$((up + 1))
      pids+="${pids:+ }$pid"
    elif port_open "$p"; then
      foreign+=" $p"
    fi
  done
  if ((up == n)) && redis_cluster_healthy; then
    echo "redis-cluster: running, healthy ($n masters, cluster_state:ok, 16384 slots; $(redis_cluster_nodes); pids $pids; data $REDIS_CLUSTER_DIR)"
    return 0
  fi
  if ((up > 0)); then
    echo "redis-cluster: $up of $n nodes running (pids $pids) but NOT a healthy cluster ($(redis_cluster_nodes); cluster_state $(cnode_cluster_info "$(redis_cluster_port_list | head -n 1)" cluster_state || true); logs $REDIS_CLUSTER_DIR/<port>/logs)"
  elif [[ -n "$foreign" ]]; then
    echo "redis-cluster: stopped (but port(s)$foreign in use by a process this script did not start)"
  else
    echo "redis-cluster: stopped"
  fi
  return 3
}

# ============================================================================

main() {
  local cmd="${1:-}" what="${2:-all}" rc=0
  [[ $# -le 2 ]] || usage
  case "$what" in
    kafka | redis | all) ;;
    redis-cluster)
      redis_cluster_port_list >/dev/null # validates REDIS_CLUSTER_PORTS (dies here, not in a subshell)
      case "$cmd" in
        up) take_lock && redis_cluster_up ;;
        down) take_lock && redis_cluster_down ;;
        status) redis_cluster_status || rc=$? ;;
        env) echo "export REDIS_CLUSTER_NODES=$(redis_cluster_nodes)" ;;
        *) usage ;;
      esac
      return "$rc"
      ;;
    *) usage ;;
  esac
  case "$cmd" in
    up)
      take_lock
      if [[ "$what" != redis ]]; then kafka_up; fi
      if [[ "$what" != kafka ]]; then redis_up; fi
      ;;
    down)
      take_lock
      # Reverse order of up.
      if [[ "$what" != kafka ]]; then redis_down; fi
      if [[ "$what" != redis ]]; then kafka_down; fi
      ;;
    status)
      if [[ "$what" != redis ]]; then kafka_status || rc=$?; fi
      if [[ "$what" != kafka ]]; then redis_status || rc=$?; fi
      return "$rc"
      ;;
    env)
      if [[ "$what" != redis ]]; then echo "export KAFKA_BROKERS=$INFRA_HOST:$KAFKA_PORT"; fi
      if [[ "$what" != kafka ]]; then echo "export REDIS_URL=redis://$INFRA_HOST:$REDIS_PORT"; fi
      ;;
    -h | --help | help) usage ;;
    *) usage ;;
  esac
}

main "$@"

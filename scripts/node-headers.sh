# scripts/node-headers.sh — sourced by kafka-native.sh and tfjs-native.sh.
#   use_node_headers   exports npm_config_nodedir: the prefix of the Node headers node-gyp builds
#                      an addon against, so that nothing is downloaded
# The headers must be the running node's own major version: the Kafka addon (NAN) binds to its ABI.
# Looked for, first match wins: the running node's prefix (official builds carry include/node, as
# scripts/node-runtime.sh's does), $npm_config_nodedir (under `npm test` npm sets it from its own
# config: the machine's npm says /usr, whose headers belong to the machine's older Node), /usr.
# The caller defines log and die.

use_node_headers() {
  local want prefix cand ver
  want="$(node -p 'process.versions.node')"
  prefix="$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")"
  for cand in "$prefix" "${npm_config_nodedir:-}" /usr; do
    [[ -n "$cand" && -f "$cand/include/node/node.h" && -f "$cand/include/node/common.gypi" ]] || continue
    ver="$(awk '/define NODE_(MAJOR|MINOR|PATCH)_VERSION/ {printf "%s%s", sep, $3; sep="."}' "$cand/include/node/node_version.h")"
    if [[ "${ver%%.*}" == "${want%%.*}" ]]; then
      export npm_config_nodedir="$cand"
      log "Node headers: $cand/include/node ($ver, node is $want)"
      return 0
    fi
    log "skipping the Node $ver headers in $cand/include/node (node is $want)"
  done
  die "no Node ${want%%.*} headers (include/node/node.h and common.gypi) under $prefix, ${npm_config_nodedir:-\$npm_config_nodedir} or /usr: run a Node build that carries them (scripts/node-runtime.sh) or set npm_config_nodedir"
}

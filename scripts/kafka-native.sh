#!/usr/bin/env bash
# scripts/kafka-native.sh — build the native addon of @confluentinc/kafka-javascript (librdkafka)
# offline, on a machine that cannot reach the host its install script downloads prebuilt
# binaries from.
#
# Run from the repo root AFTER `npm ci --ignore-scripts`:
#     bash scripts/kafka-native.sh
#
# What it does:
#   0. Applies the project's patches of the package (patches/kafka-javascript-*.diff, `patch -p1`
#      in the package directory; one already applied is skipped, one that does not apply stops
#      the script). They add what the package lacks: AdminClient.describeConfigs.
#   1. Fast path: if the addon already loads, reports every codec and was built with these
#      patches, exit 0 (≈1 s).
#   2. Install the Debian -dev packages librdkafka links against (libssl-dev libsasl2-dev
#      zlib1g-dev libzstd-dev liblz4-dev) when one is missing (apt-get; root or sudo).
#   3. Restore the build from the cache ($SEQREC_CACHE/kafka-javascript-<version>-node<abi>-
#      <arch>-p<hash of the patches>: a build of other or no patches is never reused),
#      or build it: the librdkafka sources the npm package bundles, configured with
#      CKJS_LINKING=dynamic (links the system's ssl/sasl/zlib/zstd/lz4 instead of downloading
#      them), then the addon with node-gyp against the local Node headers. ~3 min on 2 cores.
#   4. Verify: load the addon, print librdkafka's version and features; fail when a codec
#      (gzip, snappy, lz4, zstd) or the patches' describeConfigs is missing.
#
# Environment:
#   SEQREC_CACHE             cache root (default: $HOME/.cache/seqrec)
#   SEQREC_KAFKA_FORCE=1     rebuild even if the addon loads
#   npm_config_nodedir       Node headers prefix (include/node/node.h); auto-detected, see node-headers.sh
set -euo pipefail

log() { printf '[kafka-native %3ss] %s\n' "$SECONDS" "$*" >&2; }
die() { printf '[kafka-native] ERROR: %s\n' "$*" >&2; exit 1; }

PKG_DIR="$(node -e '
  try { console.log(require("path").dirname(require.resolve("@confluentinc/kafka-javascript/package.json", {paths: [process.cwd()]}))); }
  catch (e) { process.exit(1); }' 2>/dev/null)" \
  || die "@confluentinc/kafka-javascript is not installed under $PWD/node_modules. Run from the repo root after 'npm ci --ignore-scripts'."
PKG_VERSION="$(node -p "require('$PKG_DIR/package.json').version")"
ABI="$(node -p 'process.versions.modules')"
# shellcheck source=scripts/package-patches.sh
source "$(dirname "${BASH_SOURCE[0]}")/package-patches.sh"
# shellcheck source=scripts/node-headers.sh
source "$(dirname "${BASH_SOURCE[0]}")/node-headers.sh"
package_patches kafka-javascript
CACHE_DIR="${SEQREC_CACHE:-$HOME/.cache/seqrec}/kafka-javascript-$PKG_VERSION-node$ABI-$(uname -m)-p$PATCH_HASH"
# Written into the build directory: the patches the addon was built with.
STAMP=".seqrec-patches"

# Installs the Debian packages named that are missing (apt-get; root or sudo).
apt_install() {
  local missing=() p
  for p in "$@"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  done
  ((${#missing[@]} > 0)) || return 0
  command -v apt-get >/dev/null || die "missing ${missing[*]} and no apt-get: install them with your package manager"
  local sudo=""
  [[ "$(id -u)" == 0 ]] || sudo="sudo"
  log "apt-get install ${missing[*]}"
  $sudo apt-get install -y -q "${missing[@]}" >/dev/null 2>&1 \
    || { $sudo apt-get update -q >/dev/null 2>&1 && $sudo apt-get install -y -q "${missing[@]}" >/dev/null; } \
    || die "apt-get could not install ${missing[*]}"
}

# Loads the addon in a child process and checks the codecs; $1 = quiet.
check_addon() {
  node -e '
    const k = require("@confluentinc/kafka-javascript");
    const features = k.features;
    const missing = ["gzip", "snappy", "lz4", "zstd"].filter((c) => !features.includes(c));
    if (missing.length) { console.error("librdkafka lacks " + missing.join(", ")); process.exit(3); }
    const native = require("@confluentinc/kafka-javascript/librdkafka.js");
    if (typeof native.AdminClient.prototype.describeConfigs !== "function") {
      console.error("the addon lacks AdminClient.describeConfigs (built without patches/kafka-javascript-*.diff)"); process.exit(3);
    }
    if (process.argv[1] !== "quiet") console.log("librdkafka " + k.librdkafkaVersion + ": " + features.join(","));
  ' "${1:-}" 2>&1
}

mkdir -p "$CACHE_DIR"
exec 9>"$CACHE_DIR/.lock"
flock 9

# --- 0. the project's patches of the package -----------------------------------------------
if ((${#PATCHES[@]} > 0)); then
  command -v patch >/dev/null || apt_install patch
  apply_patches "$PKG_DIR" "@confluentinc/kafka-javascript $PKG_VERSION"
fi

if [[ "${SEQREC_KAFKA_FORCE:-0}" != 1 && "$(cat "$PKG_DIR/build/$STAMP" 2>/dev/null)" == "$PATCH_HASH" ]] && out="$(check_addon)"; then
  log "kafka-javascript $PKG_VERSION already built: $out"
  exit 0
fi

# --- 2. system libraries -----------------------------------------------------------------
apt_install libssl-dev libsasl2-dev zlib1g-dev libzstd-dev liblz4-dev

# --- 3. build, or restore the cached build ------------------------------------------------
if [[ -f "$CACHE_DIR/.complete" ]]; then
  log "restoring the cached build from $CACHE_DIR"
  rm -rf "$PKG_DIR/build"
  cp -a "$CACHE_DIR/build" "$PKG_DIR/build"
else
  use_node_headers
  NODE_GYP="$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js"
  [[ -f "$NODE_GYP" ]] || die "npm's bundled node-gyp not found at $NODE_GYP"
  log "building librdkafka $(node -p "require('$PKG_DIR/package.json').librdkafka") and the addon (CKJS_LINKING=dynamic, ~3 min)"
  (
    cd "$PKG_DIR"
    rm -rf build
    export CKJS_LINKING=dynamic BUILD_LIBRDKAFKA=1
    node "$NODE_GYP" configure >"$CACHE_DIR/build.log" 2>&1
    # One job at the top: the generated rules that configure and build librdkafka race under -j
    # (seen here: make failed at once with -j 2); librdkafka's own make still runs in parallel.
    node "$NODE_GYP" build -j 1 >>"$CACHE_DIR/build.log" 2>&1
  ) || { tail -40 "$CACHE_DIR/build.log" >&2; die "build failed; log in $CACHE_DIR/build.log"; }
  echo "$PATCH_HASH" >"$PKG_DIR/build/$STAMP"
  rm -rf "$CACHE_DIR/build"
  cp -a "$PKG_DIR/build" "$CACHE_DIR/build"
  # Only what loading needs stays cached: the addon and librdkafka's shared libraries.
  find "$CACHE_DIR/build" -name '*.o' -delete
  touch "$CACHE_DIR/.complete"
fi

# --- 4. verify -------------------------------------------------------------------------------
out="$(check_addon)" || { printf '%s\n' "$out" >&2; rm -f "$CACHE_DIR/.complete"; die "the built addon does not load"; }
log "kafka-javascript $PKG_VERSION: $out"

#!/usr/bin/env bash
# scripts/tfjs-native.sh — make @tensorflow/tfjs-node@4.22.0 work on a machine that
# cannot reach the host its install script downloads libtensorflow 2.9.1 from.
#
# Run from the repo root AFTER `npm ci --ignore-scripts`:
#     bash scripts/tfjs-native.sh
#
# What it does (x86_64 Linux only):
#   0. Applies the project's patches of the package (patches/tfjs-node-*.diff, `patch -p1` in
#      the package directory; one already applied is skipped, one that does not apply stops the
#      script): tfjs-node 4.22.0 calls util.isNullOrUndefined, which Node 23+ no longer has.
#   1. Fast path: if the addon was built by this script for the running Node's ABI
#      (process.versions.modules) and these patches (stamp lib/.seqrec-build), and
#      `require('@tensorflow/tfjs-node')` loads with the 'tensorflow' backend and runs an op,
#      exit 0 (≈1 s). The addon is N-API, so one built for another Node often still loads;
#      after a Node upgrade it is rebuilt all the same, against the headers of the Node in use.
#   2. Fetch the tensorflow-cpu==2.21.0 wheel from PyPI with pip (sha256-pinned) and
#      extract only libtensorflow_cc.so.2, libtensorflow_framework.so.2 and the C-API
#      headers into ${SEQREC_CACHE:-$HOME/.cache/seqrec}/tensorflow-cpu-2.21.0/
#      (the wheel is kept there too; nothing goes into git).
#   3. Fill node_modules/@tensorflow/tfjs-node/deps/{lib,include}: the two libraries
#      (hard-linked from the cache, copied if that fails) plus the names the package
#      expects (libtensorflow.so[.2[.9.1]] -> libtensorflow_cc.so.2,
#      libtensorflow_framework.so[.2.9.1] -> libtensorflow_framework.so.2).
#   4. Build the addon from source with the package's own toolchain
#      (`node-pre-gyp install --build-from-source`, i.e. its "build-addon-from-source"
#      script) with node-gyp pointed at the local Node headers (npm_config_nodedir),
#      so nothing is downloaded. The addon has RUNPATH $ORIGIN/../../deps/lib, so no
#      LD_LIBRARY_PATH is needed at run time.
#   5. Verify: load tfjs-node, print backend / versions, run a tiny op.
#
# Environment:
#   SEQREC_CACHE           cache root (default: $HOME/.cache/seqrec)
#   SEQREC_TF_WHEEL        path to an already-downloaded tensorflow_cpu-2.21.0 wheel (skips pip)
#   SEQREC_TF_FORCE=1      rebuild even if tfjs-node already loads and the stamp matches
#   npm_config_nodedir     Node headers prefix (include/node/node.h); auto-detected, see node-headers.sh
set -euo pipefail

TF_VERSION=2.21.0
TF_WHEEL_NAME="tensorflow_cpu-${TF_VERSION}-cp311-cp311-manylinux_2_27_x86_64.whl"
TF_WHEEL_SHA256=2b847d217b02ee7731ed91431daf3250daa0196c3c94614d23be27232e6e5b6c
TFJS_NODE_VERSION=4.22.0
CACHE_DIR="${SEQREC_CACHE:-$HOME/.cache/seqrec}/tensorflow-cpu-${TF_VERSION}"

log() { printf '[tfjs-native %3ss] %s\n' "$SECONDS" "$*" >&2; }
die() { printf '[tfjs-native] ERROR: %s\n' "$*" >&2; exit 1; }
need() { command -v "$1" >/dev/null 2>&1 || die "'$1' not found on PATH: $2"; }

# --- 0. preconditions --------------------------------------------------------------
[[ "$(uname -s)" == Linux && "$(uname -m)" == x86_64 ]] \
  || die "only x86_64 Linux is supported (got $(uname -s) $(uname -m))"
need node "install Node.js 24 (or put the output of scripts/node-runtime.sh first on PATH)"
need npm "install npm (node-gyp is taken from npm's bundled copy)"

PKG_DIR="$(node -e '
  try { console.log(require("path").dirname(require.resolve("@tensorflow/tfjs-node/package.json", {paths: [process.cwd()]}))); }
  catch (e) { process.exit(1); }' 2>/dev/null)" \
  || die "@tensorflow/tfjs-node is not installed under $PWD/node_modules. Run from the repo root after 'npm ci --ignore-scripts'."
PKG_VERSION="$(node -p "require('$PKG_DIR/package.json').version")"
[[ "$PKG_VERSION" == "$TFJS_NODE_VERSION" ]] \
  || die "expected @tensorflow/tfjs-node@$TFJS_NODE_VERSION, found $PKG_VERSION at $PKG_DIR (this script is written for $TFJS_NODE_VERSION)"

# shellcheck source=scripts/package-patches.sh
source "$(dirname "${BASH_SOURCE[0]}")/package-patches.sh"
# shellcheck source=scripts/node-headers.sh
source "$(dirname "${BASH_SOURCE[0]}")/node-headers.sh"
package_patches tfjs-node
# Written next to the built addon: what it was built for (Node ABI, patches).
BUILD_STAMP="$PKG_DIR/lib/.seqrec-build"
BUILD_ID="node$(node -p 'process.versions.modules')-p$PATCH_HASH"

# Load tfjs-node in a child process, check the backend and run a tiny op.
# $1 = "quiet" to print nothing.
check_tfjs() {
  TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}" node -e '
    const quiet = process.argv[1] === "quiet";
    const t0 = Date.now();
    const tf = require("@tensorflow/tfjs-node");
    if (tf.getBackend() !== "tensorflow") { console.error("backend is " + tf.getBackend()); process.exit(3); }
    const y = tf.matMul(tf.tensor2d([[1, 2], [3, 4]]), tf.tensor2d([[5], [6]])).dataSync();
    if (y[0] !== 17 || y[1] !== 39) { console.error("wrong result " + Array.from(y)); process.exit(4); }
    const top = tf.topk(tf.tensor1d([1, 3, 2]), 2).indices.dataSync();
    if (top[0] !== 1 || top[1] !== 2) { console.error("wrong topk " + Array.from(top)); process.exit(4); }
    if (!quiet) {
      console.log("backend:        " + tf.getBackend());
      console.log("TensorFlow:     " + tf.backend().binding.TF_Version);
      console.log("tfjs-node:      " + tf.version["tfjs-node"] + ", tfjs-core " + tf.version["tfjs-core"]);
      console.log("matMul check:   [[1,2],[3,4]]x[[5],[6]] = [" + Array.from(y) + "]");
      console.log("load+op time:   " + (Date.now() - t0) + " ms, rss " + Math.round(process.memoryUsage().rss / 1048576) + " MB");
    }' "${1:-}" 2>&1
}

apply_patches "$PKG_DIR" "@tensorflow/tfjs-node $PKG_VERSION"

if [[ "${SEQREC_TF_FORCE:-0}" != 1 && "$(cat "$BUILD_STAMP" 2>/dev/null)" == "$BUILD_ID" ]] && out="$(check_tfjs)"; then
  log "tfjs-node already built ($BUILD_ID) and working:"
  printf '%s\n' "$out"
  exit 0
fi

need python3 "node-gyp and the wheel extraction need Python 3"
need make "install build tools (Debian: apt-get install build-essential)"
need g++ "install build tools (Debian: apt-get install build-essential)"

# Serialise concurrent runs that share the cache.
mkdir -p "$CACHE_DIR"
if command -v flock >/dev/null 2>&1; then
  exec 9>"$CACHE_DIR/.lock"
  flock 9
fi

# --- 1. wheel -> cached libs + headers ------------------------------------------------
LIB_CACHE="$CACHE_DIR/lib"
INC_CACHE="$CACHE_DIR/include"
STAMP="$CACHE_DIR/.extracted-$TF_WHEEL_SHA256"

if [[ ! -f "$STAMP" || ! -s "$LIB_CACHE/libtensorflow_cc.so.2" || ! -s "$LIB_CACHE/libtensorflow_framework.so.2" \
      || ! -f "$INC_CACHE/tensorflow/c/c_api.h" ]]; then
  WHEEL="${SEQREC_TF_WHEEL:-$CACHE_DIR/wheel/$TF_WHEEL_NAME}"
  if [[ -f "$WHEEL" ]] && echo "$TF_WHEEL_SHA256  $WHEEL" | sha256sum --check --status; then
    log "using cached wheel $WHEEL"
  else
    [[ -z "${SEQREC_TF_WHEEL:-}" ]] \
      || die "SEQREC_TF_WHEEL=$SEQREC_TF_WHEEL is missing or its sha256 is not $TF_WHEEL_SHA256"
    python3 -m pip --version >/dev/null 2>&1 || die "pip is not available for python3 (needed to fetch the wheel); or set SEQREC_TF_WHEEL"
    avail_kb="$(df -Pk "$CACHE_DIR" | awk 'NR==2 {print $4}')"
    (( avail_kb > 2 * 1024 * 1024 )) || die "need ~2 GB free in $CACHE_DIR (wheel 274 MB + libs 853 MB), have $((avail_kb / 1024)) MB"
    log "downloading tensorflow-cpu==$TF_VERSION wheel (274 MB) with pip into $CACHE_DIR/wheel"
    mkdir -p "$CACHE_DIR/wheel"
    rm -f "$CACHE_DIR/wheel/$TF_WHEEL_NAME"   # a partial/corrupt earlier download
    req="$(mktemp)"
    echo "tensorflow-cpu==$TF_VERSION --hash=sha256:$TF_WHEEL_SHA256" >"$req"
    # Pin the wheel tags so the result does not depend on the local Python version.
    python3 -m pip download --quiet --no-deps --require-hashes --only-binary=:all: \
        --implementation cp --python-version 3.11 --abi cp311 --platform manylinux_2_27_x86_64 \
        -r "$req" -d "$CACHE_DIR/wheel" \
      || { rm -f "$req"; die "pip could not download tensorflow-cpu==$TF_VERSION (is the Python package index reachable?). You can also set SEQREC_TF_WHEEL=/path/to/$TF_WHEEL_NAME"; }
    rm -f "$req"
    WHEEL="$CACHE_DIR/wheel/$TF_WHEEL_NAME"
    [[ -f "$WHEEL" ]] || die "pip finished but $WHEEL is missing"
  fi

  log "extracting libtensorflow + C headers from the wheel into $CACHE_DIR"
  rm -rf "$CACHE_DIR"/.extract.*            # leftovers of an interrupted run
  tmp="$CACHE_DIR/.extract.$$"
  python3 - "$WHEEL" "$tmp" <<'PY'
import os, shutil, sys, zipfile
wheel, out = sys.argv[1], sys.argv[2]
libs = {"tensorflow/libtensorflow_cc.so.2", "tensorflow/libtensorflow_framework.so.2"}
# Headers reached from tensorflow/c/c_api.h and tensorflow/c/eager/c_api.h (checked with g++ -M),
# with their directories taken whole so nothing is missed.
inc_prefixes = ("tensorflow/include/tensorflow/c/",
                "tensorflow/include/tensorflow/core/platform/ctstring",
                "tensorflow/include/tsl/platform/ctstring",
                "tensorflow/include/xla/tsl/c/")
found = set()
with zipfile.ZipFile(wheel) as z:
    for info in z.infolist():
        name = info.filename
        if name.endswith("/"):
            continue
        if name in libs:
            dest = os.path.join(out, "lib", os.path.basename(name)); found.add(name)
        elif name.startswith(inc_prefixes) and name.endswith(".h"):
            dest = os.path.join(out, "include", name[len("tensorflow/include/"):])
        else:
            continue
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        with z.open(info) as src, open(dest, "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
missing = libs - found
if missing:
    sys.exit("wheel lacks " + ", ".join(sorted(missing)))
PY
  [[ -f "$tmp/include/tensorflow/c/eager/c_api.h" ]] || die "wheel lacks tensorflow/c/eager/c_api.h"
  rm -rf "$LIB_CACHE" "$INC_CACHE"
  mv "$tmp/lib" "$LIB_CACHE"
  mv "$tmp/include" "$INC_CACHE"
  rmdir "$tmp"
  rm -f "$CACHE_DIR"/.extracted-*
  touch "$STAMP"
else
  log "using cached libtensorflow in $LIB_CACHE"
fi

# --- 2. node_modules/@tensorflow/tfjs-node/deps ---------------------------------------
DEPS="$PKG_DIR/deps"
log "populating $DEPS"
rm -rf "$DEPS"
mkdir -p "$DEPS/lib" "$DEPS/include"
for so in libtensorflow_cc.so.2 libtensorflow_framework.so.2; do
  # Hard link when the cache is on the same filesystem (no extra 853 MB), else copy.
  ln "$LIB_CACHE/$so" "$DEPS/lib/$so" 2>/dev/null || cp "$LIB_CACHE/$so" "$DEPS/lib/$so"
done
# binding.gyp links -ltensorflow -ltensorflow_framework; scripts/install.js and
# deps-constants.js look for libtensorflow.so.2.9.1. The sonames stay *_cc.so.2 /
# _framework.so.2, which is what the built addon records as NEEDED.
ln -s libtensorflow_cc.so.2        "$DEPS/lib/libtensorflow.so"
ln -s libtensorflow_cc.so.2        "$DEPS/lib/libtensorflow.so.2"
ln -s libtensorflow_cc.so.2        "$DEPS/lib/libtensorflow.so.2.9.1"
ln -s libtensorflow_framework.so.2 "$DEPS/lib/libtensorflow_framework.so"
ln -s libtensorflow_framework.so.2 "$DEPS/lib/libtensorflow_framework.so.2.9.1"
cp -R "$INC_CACHE/." "$DEPS/include/"

# --- 3. node-gyp offline ---------------------------------------------------------------
# node-gyp would download Node headers; point it at the headers of the running node.
NODE_PREFIX="$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")"
use_node_headers

# node-gyp: an explicit npm_config_node_gyp, else npm's bundled copy (node-pre-gyp's own
# lookup only finds it when npm sits next to the node binary).
if [[ -z "${npm_config_node_gyp:-}" || ! -f "${npm_config_node_gyp:-}" ]]; then
  # The last candidate is npm's own directory, for an npm that is not installed beside this
  # node (scripts/node-runtime.sh's Node 24 runs the machine's npm).
  npm_root="$(npm root -g 2>/dev/null || true)"
  for cand in "$npm_root/npm/node_modules/node-gyp/bin/node-gyp.js" \
              "$NODE_PREFIX/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js" \
              "$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js"; do
    if [[ -f "$cand" ]]; then export npm_config_node_gyp="$cand"; break; fi
  done
fi
[[ -n "${npm_config_node_gyp:-}" && -f "$npm_config_node_gyp" ]] \
  || die "node-gyp not found (npm's bundled copy is missing); install it (npm i -g node-gyp) and set npm_config_node_gyp=/path/to/node-gyp.js"
export JOBS="${JOBS:-max}"

# --- 4. build the addon from source -----------------------------------------------------
NODE_PRE_GYP="$(node -e 'console.log(require.resolve("@mapbox/node-pre-gyp/bin/node-pre-gyp", {paths: [process.argv[1]]}))' "$PKG_DIR" 2>/dev/null)" \
  || die "@mapbox/node-pre-gyp (a dependency of tfjs-node) is not installed"
log "building tfjs_binding.node with node-gyp $(node "$npm_config_node_gyp" --version 2>/dev/null | tr -d v) (~15 s)"
build_log="$(mktemp)"
if ! (cd "$PKG_DIR" && node "$NODE_PRE_GYP" install --build-from-source) >"$build_log" 2>&1; then
  tail -n 40 "$build_log" >&2
  rm -f "$build_log"
  die "building the tfjs-node addon failed (log tail above)"
fi
rm -f "$build_log"

# --- 5. verify ---------------------------------------------------------------------------
if ! out="$(check_tfjs)"; then
  printf '%s\n' "$out" >&2
  die "the addon was built but @tensorflow/tfjs-node does not load / run correctly"
fi
echo "$BUILD_ID" >"$BUILD_STAMP"
printf '%s\n' "$out"
log "done: @tensorflow/tfjs-node ($BUILD_ID) uses libtensorflow $TF_VERSION from $LIB_CACHE"

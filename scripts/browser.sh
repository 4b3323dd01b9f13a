#!/usr/bin/env bash
# scripts/browser.sh — the headless browser of the console's end-to-end test
# (test/src/console.spec.ts): Debian's `chromium` package, driven there by playwright-core with
# executablePath /usr/bin/chromium (playwright never downloads a browser of its own). Idempotent:
# nothing happens when /usr/bin/chromium is there. scripts/test.sh runs it before the e2e phase.
# Usage: bash scripts/browser.sh        (prints the browser's path last)
set -euo pipefail

CHROMIUM=/usr/bin/chromium
log() { printf '[browser %3ss] %s\n' "$SECONDS" "$*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null 2>&1; then sudo "$@"; else log "need root for: $*"; return 1; fi; }

if [ ! -x "$CHROMIUM" ]; then
  log "apt-get install chromium"
  as_root apt-get update -qq >/dev/null
  # --no-install-recommends: no desktop integration, fonts come as its dependencies
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium fonts-dejavu-core >/dev/null
fi
"$CHROMIUM" --version >&2
echo "$CHROMIUM"

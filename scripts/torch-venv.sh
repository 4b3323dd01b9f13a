#!/usr/bin/env bash
# scripts/torch-venv.sh — the PyTorch the training benchmark's reference runs on (never CI, never
# the product): a virtualenv with torch (pinned) and numpy from PyPI, cached. Prints the venv's
# python (logs go to stderr):
#     python="$(bash scripts/torch-venv.sh)"
#
# PyPI's Linux torch wheel depends on the CUDA runtime packages (about 3 GB in all, unused on a CPU
# machine, but its import refuses to start without them), so the first run takes a few minutes
# and the disk space; later runs only check the import. The reference itself runs on the CPU.
#
# Environment:
#   SEQREC_CACHE   cache root (default: $HOME/.cache/seqrec)
set -euo pipefail

TORCH_VERSION=2.15.0
CACHE="${SEQREC_CACHE:-$HOME/.cache/seqrec}"
VENV="$CACHE/torch-venv-$TORCH_VERSION"

log() { printf '[torch-venv %3ss] %s\n' "$SECONDS" "$*" >&2; }

check() { "$VENV/bin/python" -c "import torch, numpy; assert torch.__version__.startswith('$TORCH_VERSION'), torch.__version__" 2>/dev/null; }

if [ -x "$VENV/bin/python" ] && check; then
  echo "$VENV/bin/python"
  exit 0
fi
log "creating $VENV (torch $TORCH_VERSION from PyPI, with its CUDA runtime dependencies)"
rm -rf "$VENV"
python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check "torch==$TORCH_VERSION" numpy >&2
check || { log "ERROR: torch does not import in $VENV"; exit 1; }
log "ready"
echo "$VENV/bin/python"

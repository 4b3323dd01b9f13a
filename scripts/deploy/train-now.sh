#!/usr/bin/env bash
# scripts/deploy/train-now.sh — run the trainer now, as a Job made from the CronJob's template
# (same image, configuration, secrets, model store and limits as the nightly run), and follow it.
# Usage: bash scripts/deploy/train-now.sh [namespace]      (default: seqrec)
set -euo pipefail
ns="${1:-seqrec}"
job="seqrec-trainer-manual-$(date -u +%Y%m%d%H%M%S)"
kubectl -n "$ns" create job --from=cronjob/seqrec-trainer "$job"
echo "job/$job created in $ns; following its log (Ctrl-C leaves it running)"
kubectl -n "$ns" wait --for=condition=Ready "pod" -l "job-name=$job" --timeout=300s || true
kubectl -n "$ns" logs -f "job/$job"
kubectl -n "$ns" wait --for=condition=Complete "job/$job" --timeout=14400s

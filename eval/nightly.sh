#!/usr/bin/env bash
# Nightly LongMemEval run: the dev suite, then a comparison with the previous report.
#
#   eval/nightly.sh [PREVIOUS_REPORT_JSON]
#
# Writes eval/out/nightly-<UTC date>/ (override with NIGHTLY_OUT). Exits 1 when a headline
# metric dropped by more than NIGHTLY_TOLERANCE (absolute, default 0.02) against the
# previous report (default: eval/out/nightly-latest/report.json, if any), 2 on usage or
# data errors. On success the new run becomes eval/out/nightly-latest.
set -euo pipefail

cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python}"
STAMP="$(date -u +%Y%m%d)"
OUT="${NIGHTLY_OUT:-eval/out/nightly-${STAMP}}"
PREVIOUS="${1:-eval/out/nightly-latest/report.json}"
TOLERANCE="${NIGHTLY_TOLERANCE:-0.02}"
EXTRA=()
if [[ -n "${NIGHTLY_ARGS:-}" ]]; then
  read -r -a EXTRA <<< "${NIGHTLY_ARGS}"   # e.g. "--device cuda --qa"
fi

"$PYTHON" -m memsvc_eval longmemeval --suite dev --out "$OUT" --no-progress "${EXTRA[@]}"

status=0
"$PYTHON" -m memsvc_eval compare "$OUT/report.json" "$PREVIOUS" --tolerance "$TOLERANCE" \
  || status=$?

if [[ $status -eq 0 ]]; then
  rm -rf eval/out/nightly-latest.tmp
  mkdir -p eval/out/nightly-latest.tmp
  cp "$OUT/report.json" "$OUT/summary.md" eval/out/nightly-latest.tmp/
  rm -rf eval/out/nightly-latest
  mv eval/out/nightly-latest.tmp eval/out/nightly-latest
fi
exit $status

#!/bin/sh
# test_onnx_ops.sh — every per-operator / small-network ONNX case
# (tests/onnx_ops/cases_*.py) through ONNX Runtime (the oracle) and through
# `detectd infer` with 1 and 2 threads; outputs compared by compare.py.
# Prints one line per case and a summary; fails if any case fails.
#   ONNX_OPS_FILTER=substring|regex   run only the matching cases
#   ONNX_OPS_VERBOSE=1                print compare/engine output for failures in full
#   ONNX_OPS_OUT=DIR                  work folder (default $BUILD/opcases)
# Concurrent runs on one work folder are serialized by a lock ($OUT.lock).
set -u
ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
DETECTD=${DETECTD:-$BUILD/detectd}
PY=/usr/bin/python3
OPS="$ROOT/tests/onnx_ops"
OUT=${ONNX_OPS_OUT:-$BUILD/opcases}

[ -x "$DETECTD" ] || { echo "no detectd binary at $DETECTD"; exit 1; }
# Several people run this at once on a shared tree: take the folder's lock
# (a directory holding the owner's pid), waiting for a live owner, breaking a dead one.
LOCK="$OUT.lock"
mkdir -p "$(dirname "$OUT")"
waited=0
until mkdir "$LOCK" 2>/dev/null; do
  owner=$(cat "$LOCK/pid" 2>/dev/null)
  if [ -n "$owner" ] && ! kill -0 "$owner" 2>/dev/null; then rm -rf "$LOCK"; continue; fi
  [ $waited -eq 0 ] && echo "waiting for another run (pid ${owner:-?}) using $OUT"
  waited=$((waited + 1))
  [ $waited -gt 900 ] && { echo "gave up waiting for $LOCK"; exit 1; }
  sleep 1
done
echo $$ > "$LOCK/pid"
trap 'rm -rf "$LOCK"' EXIT
trap 'exit 130' INT TERM
rm -rf "$OUT"
mkdir -p "$OUT"
if ! $PY "$OPS/gen.py" "$OUT" ${ONNX_OPS_FILTER:-} > "$OUT/cases.list" 2> "$OUT/gen.err"; then
  cat "$OUT/gen.err"
  echo "gen.py failed"
  exit 1
fi

# The oracle runs every case in one node process; detectd runs per case (it
# starts in milliseconds); one python process compares everything.
node "$ROOT/tests/oracle/ort_batch.js" "$OUT" "$OUT/cases.list" || { echo "ort_batch failed"; exit 1; }
while IFS= read -r name; do
  d="$OUT/$name"
  [ -f "$d/ort.err" ] && continue
  iargs=""
  while IFS= read -r line; do
    [ -n "$line" ] || continue
    iargs="$iargs --input ${line%%=*}=$d/${line#*=}"
  done < "$d/inputs.txt"
  for t in 1 2; do
    # shellcheck disable=SC2086  # case paths have no spaces
    if ! "$DETECTD" infer --model "$d/model.onnx" $iargs --outdir "$d/actual$t" --threads $t \
         > "$d/infer$t.log" 2>&1; then
      echo "threads $t: infer failed: $(tail -n 1 "$d/infer$t.log")" > "$d/why.txt"
      [ "${ONNX_OPS_VERBOSE:-}" = 1 ] && sed 's/^/    /' "$d/infer$t.log"
      break
    fi
  done
done < "$OUT/cases.list"
$PY "$OPS/compare.py" --batch "$OUT" "$OUT/cases.list" 1 2

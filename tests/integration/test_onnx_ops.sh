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

pass=0; fail=0; failed=""
while IFS= read -r name; do
  d="$OUT/$name"
  # inputs.txt: NAME=FILE.npy relative to the case folder
  set --
  while IFS= read -r line; do
    [ -n "$line" ] || continue
    set -- "$@" "${line%%=*}=$d/${line#*=}"
  done < "$d/inputs.txt"
  tol=$(cat "$d/tol.txt" 2>/dev/null)
  why=""
  if ! node "$ROOT/tests/oracle/ort_run.js" "$d/model.onnx" "$d/expected" "$@" > "$d/ort.log" 2>&1; then
    why="oracle failed: $(tail -n 1 "$d/ort.log")"
  else
    for t in 1 2; do
      iargs=""
      for a in "$@"; do iargs="$iargs --input $a"; done
      # shellcheck disable=SC2086  # case paths have no spaces
      if ! "$DETECTD" infer --model "$d/model.onnx" $iargs --outdir "$d/actual$t" --threads $t \
           > "$d/infer$t.log" 2>&1; then
        why="threads $t: infer failed: $(tail -n 1 "$d/infer$t.log")"
        break
      fi
      # shellcheck disable=SC2086
      if ! $PY "$OPS/compare.py" "$d/expected" "$d/actual$t" $tol > "$d/compare$t.log" 2>&1; then
        why="threads $t: $(grep -v ': ok' "$d/compare$t.log" | head -n 1)"
        break
      fi
    done
  fi
  if [ -z "$why" ]; then
    pass=$((pass + 1)); echo "PASS $name"
  else
    fail=$((fail + 1)); failed="$failed $name"
    echo "FAIL $name ($why)" | cut -c1-400
    if [ "${ONNX_OPS_VERBOSE:-}" = 1 ]; then cat "$d"/infer*.log "$d"/compare*.log 2>/dev/null | sed 's/^/    /'; fi
  fi
done < "$OUT/cases.list"

echo "onnx ops: $pass passed, $fail failed of $((pass + fail)) cases (files in $OUT)"
[ "$fail" -eq 0 ]

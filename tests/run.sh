#!/bin/sh
# run.sh — run every test: C unit tests (build/tests/test_*) and integration
# tests (tests/integration/test_*.sh|js|py).  Exit status 0 = pass, 77 = skip.
# Prints one line per test (plus a passing test's last log line when it
# starts with "summary: ") and a closing "N passed, N failed, N skipped".
# TESTS=pattern limits the run to matching names.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export BUILD DETECTD="$PWD/$BUILD/detectd" ROOT="$PWD"
export SHARED="${SHARED:-$(cd .. && pwd)/shared}"
[ -d "$SHARED" ] || SHARED=""
pass=0; fail=0; skip=0; failed=""
logdir="$BUILD/test-logs"; mkdir -p "$logdir"
run_one() {
  name=$1; shift
  case "$name" in *${TESTS:-}*) ;; *) return ;; esac
  start=$(date +%s)
  "$@" > "$logdir/$name.log" 2>&1
  rc=$?
  secs=$(( $(date +%s) - start ))
  if [ $rc -eq 0 ]; then pass=$((pass+1)); echo "PASS $name (${secs}s)"
    # a test may end its log with one "summary: ..." line worth showing (fuzz, sanitizers, valgrind)
    tail -n 1 "$logdir/$name.log" | grep '^summary: ' | sed 's/^/    /'
  elif [ $rc -eq 77 ]; then skip=$((skip+1)); echo "SKIP $name ($(tail -n 1 "$logdir/$name.log"))"
  else fail=$((fail+1)); failed="$failed $name"; echo "FAIL $name (${secs}s, exit $rc)"; tail -n 30 "$logdir/$name.log" | sed 's/^/    /'
  fi
}
for t in "$BUILD"/tests/test_*; do
  [ -x "$t" ] || continue
  run_one "$(basename "$t")" "$t"
done
for t in tests/integration/test_*; do
  [ -f "$t" ] || continue
  case "$t" in
    *.sh) run_one "$(basename "$t")" sh "$t" ;;
    *.js) run_one "$(basename "$t")" node "$t" ;;
    *.py) run_one "$(basename "$t")" /usr/bin/python3 "$t" ;;
  esac
done
[ -n "$failed" ] && echo "failed:$failed"
echo "$pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]

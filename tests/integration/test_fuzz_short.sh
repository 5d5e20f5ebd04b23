#!/bin/sh
# test_fuzz_short.sh — every libFuzzer harness (tests/fuzz/fuzz_*.c) for a
# short time (FUZZ_SHORT_SECONDS, default 22 s each: about 3.5 minutes for
# the nine), after replaying the kept regression inputs
# (tests/fuzz/crashers/).  Builds build-fuzz/ first (clang, ASan+UBSan+
# libFuzzer; incremental).  `make fuzz` is the long run.
# Skipped without clang, and under make test-san (SANITIZED=1), which runs
# this same suite already sanitized.
set -u
: "${ROOT:=$(cd "$(dirname "$0")/../.." && pwd)}"
cd "$ROOT"
if [ -n "${SANITIZED:-}" ]; then
  echo "the fuzzers already run in make test"
  exit 77
fi
if ! command -v clang >/dev/null 2>&1; then
  echo "clang is not installed (libFuzzer needs it)"
  exit 77
fi
out=$(mktemp)
trap 'rm -f "$out"' EXIT
# One fuzz build and run at a time (two make test runs share build-fuzz/).
mkdir -p build-fuzz
exec 9>build-fuzz/.lock
flock -w 1200 9 || { echo "build-fuzz/ stayed locked for 20 minutes"; exit 1; }
nice -n 10 make -s -j2 fuzz-build >"$out" 2>&1 || {
  tail -n 30 "$out"
  echo "make fuzz-build failed"
  exit 1
}
# A fixed mutation seed (FUZZ_SEED) keeps make test reproducible: the long
# `make fuzz` runs explore with fresh seeds and feed tests/fuzz/crashers/.
FUZZ_SEED=${FUZZ_SEED:-1} sh tests/fuzz/run.sh "${FUZZ_SHORT_SECONDS:-22}" >"$out" 2>&1
rc=$?
cat "$out"
line=$(grep '^fuzz: ' "$out" | tail -n 1)
[ $rc -eq 0 ] || exit 1
echo "summary: $line"

#!/bin/sh
# run.sh SECONDS [TARGET...] — run the libFuzzer harnesses (tests/fuzz/fuzz_*.c).
#
# For every target (default: all of them): replay the regression inputs in
# tests/fuzz/crashers/<target>/ (each must now pass), then fuzz for SECONDS
# from the generated seed corpus (build-fuzz/corpus/<target>, rebuilt when
# the generators change), the committed seeds (tests/fuzz/seeds/<target>)
# and what earlier runs found (build-fuzz/corpus-work/<target>, kept).
# A crash, leak, timeout or out-of-memory leaves its input in
# build-fuzz/artifacts/<target>/: add it to tests/fuzz/crashers/<target>/
# once understood.  FUZZ_SEED=N fixes the mutation seed (make test does).
# Prints one line per target and a closing summary:
#   image      inputs tried    123456, crashes 0, leaks 0  (cov 812, rss 95 MB, corpus 310, regressions 0)
#   fuzz: 9 targets, inputs tried 1234567, crashes 0, leaks 0
# Exit 0 when nothing was found, 1 otherwise, 77 when clang/libFuzzer is
# missing.  Expects `make fuzz-build` to have run (make fuzz does both).
# Environment: FUZZ_RSS_MB (default 2048), FUZZ_NICE (default 10).
set -u
cd "$(dirname "$0")/../.."
ROOT=$PWD
SECS=${1:-30}
[ $# -gt 0 ] && shift
B=build-fuzz
RSS=${FUZZ_RSS_MB:-2048}
NICE=${FUZZ_NICE:-10}

if ! command -v clang >/dev/null 2>&1; then
  echo "clang is not installed (needed for libFuzzer)"
  exit 77
fi
targets="$*"
if [ -z "$targets" ]; then
  for f in tests/fuzz/fuzz_*.c; do
    t=$(basename "$f" .c); targets="$targets ${t#fuzz_}"
  done
fi
for t in $targets; do
  [ -x "$B/fuzz/fuzz_$t" ] || { echo "missing $B/fuzz/fuzz_$t: run make fuzz-build"; exit 1; }
done

# ---- seed corpus (generated, not committed) --------------------------------------
corpus_stale() {
  [ -f "$B/corpus/.stamp" ] || return 0
  for f in tests/fuzz/gen_images.c tests/fuzz/gen_corpus.py tests/integration/hostile_models.py; do
    [ "$f" -nt "$B/corpus/.stamp" ] && return 0
  done
  return 1
}
if corpus_stale; then
  echo "generating the seed corpus in $B/corpus"
  rm -rf "$B/corpus"
  mkdir -p "$B/corpus/image"
  cc -std=c11 -O1 -D_GNU_SOURCE -o "$B/gen_images" tests/fuzz/gen_images.c -ljpeg -lspng -lwebpmux -lwebp ||
    { echo "cannot build gen_images"; exit 1; }
  "$B/gen_images" "$B/corpus/image" || exit 1
  /usr/bin/python3 tests/fuzz/gen_corpus.py "$B/corpus" "$B/corpus/image" || exit 1
  touch "$B/corpus/.stamp"
fi

# What a target reads besides the generated seeds.
extra_seeds() {
  case $1 in
    http) echo "$B/corpus/image" ;; # raw images make fine request bodies too
  esac
}

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=0:detect_stack_use_after_return=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
total_execs=0; total_crashes=0; total_leaks=0; failed=""
mkdir -p "$B/logs"
for t in $targets; do
  bin="$B/fuzz/fuzz_$t"
  log="$B/logs/$t.log"
  art="$B/artifacts/$t"
  work="$B/corpus-work/$t"
  mkdir -p "$art" "$work" "$B/corpus/$t"
  : > "$log"
  crashes=0; leaks=0; replayed=0

  # 1. regressions: every kept crasher must pass now
  if [ -d "tests/fuzz/crashers/$t" ] && [ -n "$(ls "tests/fuzz/crashers/$t" 2>/dev/null)" ]; then
    replayed=$(ls "tests/fuzz/crashers/$t" | wc -l)
    if ! nice -n "$NICE" "$bin" -rss_limit_mb="$RSS" -timeout=20 "tests/fuzz/crashers/$t"/* \
         </dev/null >>"$log" 2>&1; then
      crashes=$((crashes + 1))
      echo "  $t: a regression input in tests/fuzz/crashers/$t fails again (see $log)"
    fi
  fi

  # 2. fuzz
  dict=""
  [ -f "tests/fuzz/dict/$t.dict" ] && dict="-dict=tests/fuzz/dict/$t.dict"
  seeds="$B/corpus/$t"
  [ -d "tests/fuzz/seeds/$t" ] && seeds="$seeds tests/fuzz/seeds/$t"
  seeds="$seeds $(extra_seeds "$t")"
  rcfile="$B/logs/$t.rc"
  # shellcheck disable=SC2086
  { nice -n "$NICE" "$bin" -max_total_time="$SECS" ${FUZZ_SEED:+-seed=$FUZZ_SEED} -rss_limit_mb="$RSS" -timeout=20 -detect_leaks=1 \
      -print_final_stats=1 -artifact_prefix="$art/" $dict "$work" $seeds </dev/null 2>&1; echo $? >"$rcfile"; } |
    grep -v 'level=info msg=request' >>"$log"
  rc=$(cat "$rcfile")
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | tail -n 1)
  cov=$(grep -E '^#[0-9]+' "$log" | tail -n 1 | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
  execs=${execs:-0}
  if [ "$rc" != 0 ]; then
    if grep -q 'ERROR: LeakSanitizer' "$log"; then leaks=$((leaks + 1)); else crashes=$((crashes + 1)); fi
    echo "  $t: exit $rc; input kept in $art/ ($(ls "$art" | head -n 3 | tr '\n' ' '))"
    grep -E 'ERROR: |SUMMARY: |runtime error|fuzz contract broken|==[0-9]+== *(WARNING|ERROR)' "$log" | head -n 5 | sed 's/^/    /'
  fi
  printf '%-10s inputs tried %9s, crashes %d, leaks %d  (cov %s, rss %s MB, corpus %s, regressions %s)\n' \
    "$t" "$execs" "$crashes" "$leaks" "${cov:-?}" "${rss:-?}" "$(ls "$work" | wc -l)" "$replayed"
  total_execs=$((total_execs + execs))
  total_crashes=$((total_crashes + crashes))
  total_leaks=$((total_leaks + leaks))
  [ $((crashes + leaks)) -gt 0 ] && failed="$failed $t"
done
n=$(echo $targets | wc -w)
echo "fuzz: $n targets, inputs tried $total_execs, crashes $total_crashes, leaks $total_leaks"
[ -n "$failed" ] && { echo "failed:$failed (logs in $B/logs/)"; exit 1; }
exit 0

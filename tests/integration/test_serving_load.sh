#!/bin/sh
# The 5 s version of bench/load.sh (which runs 60 s): wrk at concurrency
# 32 POSTs a 640x480 JPEG to /v1/detect; zero errors, zero non-2xx; the
# throughput, p99 and the ratio to the model-only throughput are printed.
set -eu
ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
model=tiny
[ -f "$ROOT/models/nanodet.detectd.json" ] && model=nanodet
MODEL=$model DURATION=5 CONC=32 WORKERS=1 THREADS=1 BENCH_ITERS=5 exec sh "$ROOT/bench/load.sh"

#!/bin/sh
# compare.sh — detectd vs ONNX Runtime (ONNX models) and TF.js wasm (TF.js
# models), model-only latency, batch 1, at 1 and 2 threads.
#
#   sh bench/compare.sh [ROUNDS]      (default 3 rounds; env ITERS, THREADS, MODELS)
#
# Each round runs every engine once per (model, threads), alternating, so a
# busy machine hurts all of them alike; the table shows the median over the
# rounds of each run's median, the ratio detectd / other (< 1 = detectd is
# faster) and detectd's GFLOP/s beside the machine's FP32 peak for the
# threads used (threads x 2 FMA units x 16 lanes x 2 flops x GHz, the clock
# from /proc/cpuinfo; turbo clocks make the real peak higher).
# Needs: build/detectd (make), node + node_modules (tools/install-deps.sh),
# ../shared/models for the ONNX models, models/ for the TF.js ones.
set -eu
cd "$(dirname "$0")/.."
ROUNDS=${1:-3}
ITERS=${ITERS:-30}
THREADS=${THREADS:-"1 2"}
DETECTD=${DETECTD:-build/detectd}
SHARED=${SHARED:-$(cd .. && pwd)/shared}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT INT TERM

[ -x "$DETECTD" ] || { echo "compare.sh: $DETECTD missing (run make)" >&2; exit 1; }

# name|path|kind(onnx|tfjs)|input shape
MODELS=${MODELS:-"yolox_nano|$SHARED/models/yolox_nano.onnx|onnx|1,3,416,416
fastestdet|$SHARED/models/FastestDet.onnx|onnx|1,3,352,352
centernet|models/centernet/centernet.json|tfjs|1,512,512,3
nanodet|models/nanodet/nanodet.json|tfjs|1,3,416,416"}

ghz=$(awk -F: '/^cpu MHz/ { s += $2; n++ } END { if (n) printf "%.3f", s / n / 1000; else print "0" }' /proc/cpuinfo)
cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)

# results: one line per run: model threads engine median_ms [gflops]
RES="$TMP/results"
: > "$RES"

echo "$MODELS" | while IFS='|' read -r name path kind shape; do
  [ -n "$name" ] || continue
  if [ ! -f "$path" ]; then
    echo "compare.sh: skipping $name ($path missing)" >&2
    continue
  fi
  /usr/bin/python3 -c "
import numpy as np
np.random.seed(0)
shape = [int(v) for v in '$shape'.split(',')]
np.save('$TMP/$name.npy', (np.random.rand(*shape) * 255).astype(np.float32))"
done

r=0
while [ "$r" -lt "$ROUNDS" ]; do
  echo "$MODELS" | while IFS='|' read -r name path kind shape; do
    [ -f "$path" ] || continue
    for t in $THREADS; do
      j=$("$DETECTD" bench --model "$path" --threads "$t" --iterations "$ITERS" --warmup 5) || continue
      echo "$j" | /usr/bin/python3 -c "
import json, sys
d = json.load(sys.stdin)
print('$name', $t, 'detectd', d['model_ms']['p50'], d['gflops'], d['macs'])" >> "$RES"
      if [ "$kind" = onnx ]; then
        o=$(node tests/oracle/ort_run.js "$path" "$TMP/out" --threads "$t" --bench "$ITERS" "$TMP/$name.npy" 2>/dev/null) || continue
        echo "$o" | /usr/bin/python3 -c "
import json, sys
print('$name', $t, 'ort', json.load(sys.stdin)['median_ms'])" >> "$RES"
      elif [ "$t" = 1 ]; then
        # TF.js wasm runs single-threaded here; its 2-thread time would need the threaded wasm build
        o=$(node tests/oracle/tfjs_run.js "$path" "$TMP/out" "$TMP/$name.npy" --bench "$ITERS" 2>/dev/null) || continue
        echo "$o" | /usr/bin/python3 -c "
import json, sys
print('$name', $t, 'tfjs', json.load(sys.stdin)['median_ms'])" >> "$RES"
      fi
    done
  done
  r=$((r + 1))
done

/usr/bin/python3 - "$RES" "$ghz" "$cpu" <<'PY'
import statistics, sys
res, ghz, cpu = sys.argv[1], float(sys.argv[2]), sys.argv[3]
runs = {}
gfl = {}
for line in open(res):
    p = line.split()
    key = (p[0], int(p[1]), p[2])
    runs.setdefault(key, []).append(float(p[3]))
    if p[2] == 'detectd':
        gfl.setdefault((p[0], int(p[1])), []).append(float(p[4]))
order = []
for (m, t, e) in runs:
    if (m, t) not in order:
        order.append((m, t))
print(f"CPU: {cpu}, {ghz:.2f} GHz (cpuinfo); medians of per-run medians, batch 1\n")
print("| model | threads | detectd ms | ONNX Runtime ms | detectd/ORT | TF.js wasm ms | TF.js/detectd | detectd GFLOP/s | peak GFLOP/s |")
print("|---|---|---|---|---|---|---|---|---|")
for m, t in order:
    d = runs.get((m, t, 'detectd'))
    o = runs.get((m, t, 'ort'))
    j = runs.get((m, 1, 'tfjs'))
    md = statistics.median(d) if d else None
    mo = statistics.median(o) if o else None
    mj = statistics.median(j) if j else None
    g = statistics.median(gfl[(m, t)]) if (m, t) in gfl else None
    peak = t * 2 * 16 * 2 * ghz
    f = lambda v, fmt='%.2f': (fmt % v) if v is not None else '-'
    print(f"| {m} | {t} | {f(md)} | {f(mo)} | {f(md / mo if md and mo else None, '%.2fx')} | "
          f"{f(mj) + (' (1 thr)' if mj and t != 1 else '')} | {f(mj / md if md and mj else None, '%.1fx')} | "
          f"{f(g, '%.1f')} | {peak:.0f} |")
PY

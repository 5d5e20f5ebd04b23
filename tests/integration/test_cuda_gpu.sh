#!/bin/sh
# test_cuda_gpu.sh — the CUDA backend on a real GPU against the CPU engine:
# every ONNX op case (tests/onnx_ops) and every model (models/*,
# $SHARED/models/*.onnx) at batch 1 and 8 (when the model batches), each
# model run three times (eager, CUDA Graph capture, graph replay).  Floats
# within 1e-3 * (1 + |cpu|), integers exact.  Skips (77) without a GPU
# (`nvidia-smi -L` fails), in a build without CUDA, or when the CUDA runtime
# sees no device.
set -u
ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
DRIVER="$BUILD/tests/test_cuda_host_ops"
OUT="$BUILD/cuda_gpu_opcases"
[ -x "$DRIVER" ] || { echo "no $DRIVER (make tests-bin)"; exit 1; }
cd "$ROOT"
if ! nvidia-smi -L > /dev/null 2>&1; then
  echo "no GPU: nvidia-smi -L failed"
  exit 77
fi
if ! probe=$("$DRIVER" --probe); then
  echo "$probe"
  exit 77
fi
nvidia-smi -L
rm -rf "$OUT"
mkdir -p "$OUT"
/usr/bin/python3 "$ROOT/tests/onnx_ops/gen.py" "$OUT" > "$OUT/cases.list" || { echo "gen.py failed"; exit 1; }
fail=0
"$DRIVER" "$OUT" --gpu || fail=1
for m in models/*/*.json ${SHARED:+$SHARED/models/*.onnx}; do
  [ -f "$m" ] || continue
  for b in 1 8; do
    "$DRIVER" --model "$m" --batch $b --gpu --no-emu || fail=1
  done
done
rm -rf "$OUT"
exit $fail

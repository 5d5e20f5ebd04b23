#!/bin/sh
# test_cuda_emulated.sh — the CUDA backend's plans run in its host emulator
# (the GPU kernels' element functions, cuDNN / cuBLAS as naive loops driven by
# the exact library arguments) and compared with the CPU engine: every ONNX
# op case (tests/onnx_ops) and every model (models/*, $SHARED/models/*.onnx).
# Needs no GPU and no CUDA: it checks the translation and index math that the
# GPU runs.  Cases with an op the backend lacks are listed as DECLINED (those
# sessions run on the CPU), not failed.
#   CUDA_OPS_FILTER=substring   only matching op cases
#   CUDA_EMU_MODELS=0           skip the models (about 30 s of naive convolutions)
set -u
ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
DRIVER="$BUILD/tests/test_cuda_host_ops"
OUT="$BUILD/cuda_opcases"
[ -x "$DRIVER" ] || { echo "no $DRIVER (make tests-bin)"; exit 1; }
cd "$ROOT"
rm -rf "$OUT"
mkdir -p "$OUT"
if ! /usr/bin/python3 "$ROOT/tests/onnx_ops/gen.py" "$OUT" ${CUDA_OPS_FILTER:-} > "$OUT/cases.list" 2> "$OUT/gen.err"; then
  cat "$OUT/gen.err"
  echo "gen.py failed"
  exit 1
fi
fail=0
nice "$DRIVER" "$OUT" || fail=1
if [ "${CUDA_EMU_MODELS:-1}" != 0 ]; then
  for m in models/*/*.json ${SHARED:+$SHARED/models/*.onnx}; do
    [ -f "$m" ] || continue
    nice "$DRIVER" --model "$m" --batch 1 || fail=1
  done
fi
rm -rf "$OUT"
[ $fail -eq 0 ] && echo "emulated CUDA plans match the CPU engine (no GPU was used)"
exit $fail

#!/bin/sh
# test_cuda_ops.sh — every ONNX op case (tests/onnx_ops) through the CUDA
# backend, compared with the CPU engine (floats within 1e-3 * (1 + |cpu|),
# integers exactly).  Always runs the host emulation of the CUDA plans (the
# kernels' element math and the exact cuDNN / cuBLAS arguments, on the CPU);
# with a CUDA build and a GPU (`nvidia-smi -L` works) it also runs every case
# in a real cuda:0 session.  Cases with an op the backend lacks are listed
# as DECLINED (such sessions run on the CPU), not failed.
#   CUDA_OPS_FILTER=substring   run only matching cases
set -u
ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
DRIVER="$BUILD/tests/test_cuda_host_ops"
OUT="$BUILD/cuda_opcases"
[ -x "$DRIVER" ] || { echo "no $DRIVER (make tests-bin)"; exit 1; }
rm -rf "$OUT"
mkdir -p "$OUT"
if ! /usr/bin/python3 "$ROOT/tests/onnx_ops/gen.py" "$OUT" ${CUDA_OPS_FILTER:-} > "$OUT/cases.list" 2> "$OUT/gen.err"; then
  cat "$OUT/gen.err"
  echo "gen.py failed"
  exit 1
fi
gpu=""
if nvidia-smi -L > /dev/null 2>&1 && "$BUILD/detectd" --help > /dev/null 2>&1; then
  gpu="--gpu"
fi
"$DRIVER" "$OUT" $gpu
rc=$?
[ -z "$gpu" ] && echo "note: no GPU here: the CUDA plans ran in the host emulator only"
exit $rc

#!/bin/sh
# gpu_bench.sh — model-only GPU throughput and latency: images/s and p50 /
# p99 per batch at batch 1, 8, 32, 128 (batch sizes a model cannot run are
# reported and skipped), for every model (models/*, ../shared/models/*.onnx),
# with the GPU named, plus the CPU at batch 1 for reference.  "Model-only"
# is dt_session_run: inputs copied to the GPU, the forward pass, outputs back.
#   MODELS="a.onnx b.json"   models to run     BATCHES="1 8"   batch sizes
#   ITERS=200                timed runs each   DEVICE=cuda:0
# End to end (decode + preprocess + inference + decode) needs `detectd bench
# --device` (see src/engine/cuda/README.md); until then this prints model-only.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
DRIVER="$BUILD/tests/test_cuda_host_ops"
cd "$ROOT"
[ -x "$DRIVER" ] || { echo "no $DRIVER: make tests-bin"; exit 1; }
if ! probe=$("$DRIVER" --probe); then
  echo "gpu_bench: $probe"
  exit 77
fi
nvidia-smi -L 2>/dev/null
MODELS=${MODELS:-$(ls models/*/*.json ../shared/models/*.onnx 2>/dev/null)}
for m in $MODELS; do
  "$DRIVER" --bench "$m" --batch 1 --iters "${ITERS:-200}" --device cpu
  for b in ${BATCHES:-1 8 32 128}; do
    "$DRIVER" --bench "$m" --batch "$b" --iters "${ITERS:-200}" --device "${DEVICE:-cuda:0}"
  done
done

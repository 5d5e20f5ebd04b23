#!/bin/sh
# gpu_bench.sh — model-only GPU throughput and latency: images/s and p50 /
# p99 per batch at batch 1, 8, 32, 128 (batch sizes a model cannot run are
# reported and skipped), for every model (models/*, ../shared/models/*.onnx),
# with the GPU named, plus the CPU at batch 1 for reference.  "Model-only"
# is dt_session_run: inputs copied to the GPU, the forward pass, outputs back.
#   MODELS="a.onnx b.json"   models to run     BATCHES="1 8"   batch sizes
#   ITERS=200                timed runs each   DEVICE=cuda:0
# Then end to end (JPEG decode + preprocess on the CPU, inference on the GPU,
# box decoding): `detectd bench --device` on IMAGE (default: the article's
# photo) for every built-in model, batch 1, CPU beside it.
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
IMAGE=${IMAGE:-../shared/data/images/cat_and_dog.jpg}
if [ -f "$IMAGE" ]; then
  for m in models/*/*.json; do
    [ -f "$m" ] || continue
    for dev in cpu "${DEVICE:-cuda:0}"; do
      printf '%s %s e2e: ' "$m" "$dev"
      "$BUILD/detectd" bench --model "$m" --device "$dev" --iterations "${ITERS:-200}" "$IMAGE" |
        /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); print("device", d["device"], "model p50 %.2f ms" % d["model_ms"]["p50"], "e2e p50 %.2f p99 %.2f ms" % (d["e2e_ms"]["p50"], d["e2e_ms"]["p99"]), "stages", d["stages_ms"])'
    done
  done
fi

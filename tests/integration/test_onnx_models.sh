#!/bin/sh
# test_onnx_models.sh — the real detection models (yolox_nano, FastestDet from
# ../shared/models) on real images, ONNX Runtime vs `detectd infer`, every
# output compared with atol 1e-3 (plus compare.py's default rtol 1e-4).
# Input tensors follow ../shared/reference/README.md: yolox_nano = top-left
# letterbox to 416 (bilinear, pad 114), BGR, raw 0..255, NCHW; FastestDet =
# plain resize to 352x352 (area), BGR, /255, NCHW.  Images are decoded with
# PIL (Debian python3-pil) and resized with OpenCV's bilinear/area rules
# re-implemented in numpy (OpenCV itself is not a dependency).
set -u
ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
DETECTD=${DETECTD:-$BUILD/detectd}
SHARED=${SHARED:-}
PY=/usr/bin/python3
OUT="$BUILD/onnx_models"

if [ -z "$SHARED" ] || [ ! -f "$SHARED/models/yolox_nano.onnx" ]; then
  echo "skip: needs ../shared (SHARED is empty or has no models)"
  exit 77
fi
$PY -c "import PIL, numpy" 2>/dev/null || { echo "skip: needs python3-pil and python3-numpy"; exit 77; }
[ -x "$DETECTD" ] || { echo "no detectd binary at $DETECTD"; exit 1; }
# Concurrent runs on a shared tree: serialize on $OUT.lock (holds the owner's pid).
LOCK="$OUT.lock"
mkdir -p "$(dirname "$OUT")"
waited=0
until mkdir "$LOCK" 2>/dev/null; do
  owner=$(cat "$LOCK/pid" 2>/dev/null)
  if [ -n "$owner" ] && ! kill -0 "$owner" 2>/dev/null; then rm -rf "$LOCK"; continue; fi
  waited=$((waited + 1))
  [ $waited -gt 600 ] && { echo "gave up waiting for $LOCK"; exit 1; }
  sleep 1
done
echo $$ > "$LOCK/pid"
trap 'rm -rf "$LOCK"' EXIT
trap 'exit 130' INT TERM
rm -rf "$OUT"; mkdir -p "$OUT"

COCO_IMG=$(ls "$SHARED/data/coco128-dev/images" | sort | head -n 1)
$PY - "$OUT" "$SHARED/data/images/cat_and_dog.jpg" "$SHARED/data/coco128-dev/images/$COCO_IMG" <<'PYEOF' || exit 1
import os, sys
import numpy as np
from PIL import Image

out, paths = sys.argv[1], sys.argv[2:]

def load_bgr(p):
    return np.asarray(Image.open(p).convert("RGB"))[:, :, ::-1].astype(np.float64)

def lin_weights(n_in, n_out):
    # OpenCV INTER_LINEAR: half-pixel centres, clamped at the borders, no antialiasing
    m = np.zeros((n_out, n_in))
    scale = n_in / n_out
    for i in range(n_out):
        f = (i + 0.5) * scale - 0.5
        x0 = int(np.floor(f)); a = f - x0
        if x0 < 0: x0, a = 0, 0.0
        if x0 >= n_in - 1: x0, a = n_in - 1, 0.0
        m[i, x0] += 1 - a
        m[i, min(x0 + 1, n_in - 1)] += a
    return m

def area_weights(n_in, n_out):
    # OpenCV INTER_AREA when shrinking: each output pixel averages the input box it covers
    if n_out >= n_in:
        return lin_weights(n_in, n_out)
    m = np.zeros((n_out, n_in))
    scale = n_in / n_out
    for i in range(n_out):
        lo, hi = i * scale, (i + 1) * scale
        for j in range(int(np.floor(lo)), min(int(np.ceil(hi)), n_in)):
            m[i, j] = max(0.0, min(hi, j + 1) - max(lo, j))
        m[i] /= m[i].sum()
    return m

def resize(img, w, h, weights):
    wy, wx = weights(img.shape[0], h), weights(img.shape[1], w)
    r = np.einsum("yi,ijc,xj->yxc", wy, img, wx, optimize=True)
    return np.clip(np.floor(r + 0.5), 0, 255)   # OpenCV rounds back to uint8

for p in paths:
    img = load_bgr(p)
    h, w = img.shape[:2]
    stem = os.path.splitext(os.path.basename(p))[0]
    # yolox_nano: top-left letterbox, pad 114, raw 0..255
    r = min(416 / w, 416 / h)
    nw, nh = int(w * r), int(h * r)
    canvas = np.full((416, 416, 3), 114.0)
    canvas[:nh, :nw] = resize(img, nw, nh, lin_weights)
    x = canvas.transpose(2, 0, 1)[None].astype(np.float32)
    d = os.path.join(out, "yolox_nano_" + stem); os.makedirs(d, exist_ok=True)
    np.save(os.path.join(d, "input.npy"), np.ascontiguousarray(x))
    # FastestDet: plain area resize to 352, /255
    y = (resize(img, 352, 352, area_weights) / 255.0).transpose(2, 0, 1)[None].astype(np.float32)
    d = os.path.join(out, "FastestDet_" + stem); os.makedirs(d, exist_ok=True)
    np.save(os.path.join(d, "input.npy"), np.ascontiguousarray(y))
PYEOF

pass=0; fail=0
for d in "$OUT"/*/; do
  d=${d%/}; run=$(basename "$d")
  model="$SHARED/models/${run%%_*}.onnx"
  case "$run" in yolox_nano_*) model="$SHARED/models/yolox_nano.onnx" ;; esac
  input=$($PY -c "import onnx,sys; m=onnx.load(sys.argv[1]); i=set(t.name for t in m.graph.initializer); print([v.name for v in m.graph.input if v.name not in i][0])" "$model")
  why=""
  if ! node "$ROOT/tests/oracle/ort_run.js" "$model" "$d/expected" "$input=$d/input.npy" > "$d/ort.log" 2>&1; then
    why="oracle failed: $(tail -n 1 "$d/ort.log")"
  else
    for t in 1 2; do
      if ! "$DETECTD" infer --model "$model" --input "$input=$d/input.npy" --outdir "$d/actual$t" --threads $t \
           > "$d/infer$t.log" 2>&1; then
        why="threads $t: infer failed: $(tail -n 1 "$d/infer$t.log")"; break
      fi
      if ! $PY "$ROOT/tests/onnx_ops/compare.py" "$d/expected" "$d/actual$t" --atol 1e-3 > "$d/compare$t.log" 2>&1; then
        why="threads $t: $(grep -v ': ok' "$d/compare$t.log" | head -n 1)"; break
      fi
    done
  fi
  if [ -z "$why" ]; then
    pass=$((pass + 1)); echo "PASS $run $(cat "$d/compare1.log" | tr '\n' ' ')"
  else
    fail=$((fail + 1)); echo "FAIL $run ($why)" | cut -c1-600
  fi
done
echo "onnx models: $pass passed, $fail failed"
[ "$fail" -eq 0 ]

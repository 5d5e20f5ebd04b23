#!/bin/sh
# test_detect_cat_dog.sh — the article's photo (../shared/data/images/
# cat_and_dog.jpg, a kitten on the left, a puppy on the right): at each
# model's default threshold `detectd detect` must report exactly a cat (left)
# and a dog (right), each box with IoU >= 0.8 against the upstream pipeline's
# box for that class (../shared/reference/dets/<model>.jsonl).
#   nanodet (built-in, threshold 0.5), centernet (built-in, manifest
#   threshold 0.3), and when present yolox_nano (0.5) and FastestDet (0.65)
#   from ../shared/models.
set -u
ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
DETECTD=${DETECTD:-$BUILD/detectd}
SHARED=${SHARED:-}
PY=/usr/bin/python3
OUT="$BUILD/detect_cat_dog"
IMG="$SHARED/data/images/cat_and_dog.jpg"

if [ -z "$SHARED" ] || [ ! -f "$IMG" ]; then
  echo "skip: needs ../shared (data/images/cat_and_dog.jpg)"
  exit 77
fi
[ -x "$DETECTD" ] || { echo "no detectd binary at $DETECTD"; exit 1; }
rm -rf "$OUT"; mkdir -p "$OUT"
REF="$SHARED/reference/dets"

fail=0; ran=0
run() { # name reference-file required-file detect-args...
  name=$1; ref=$2; need=$3; shift 3
  if [ ! -f "$need" ]; then echo "$name: SKIP ($need missing)"; return; fi
  ran=$((ran + 1))
  if ! "$DETECTD" detect --models-dir "$ROOT/models" "$@" "$IMG" > "$OUT/$name.jsonl" 2> "$OUT/$name.err"; then
    echo "$name: FAIL (detectd: $(cat "$OUT/$name.err") $(cat "$OUT/$name.jsonl"))"; fail=1; return
  fi
  $PY - "$name" "$OUT/$name.jsonl" "$REF/$ref" <<'PYEOF' || fail=1
import json, sys
name, got_path, ref_path = sys.argv[1:4]
r = json.loads(open(got_path).readline())
objs = r["objects"]
ref = {}
for line in open(ref_path):
    d = json.loads(line)
    if d["image"] == "cat_and_dog" and d["class"] in (15, 16):
        if d["class"] not in ref or d["score"] > ref[d["class"]]["score"]:
            ref[d["class"]] = d

def iou(a, b):
    iw = min(a[2], b[2]) - max(a[0], b[0]); ih = min(a[3], b[3]) - max(a[1], b[1])
    if iw <= 0 or ih <= 0:
        return 0.0
    i = iw * ih
    return i / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - i)

def box(o):
    b = o["box"]
    return [b["x"], b["y"], b["x"] + b["width"], b["y"] + b["height"]]

desc = ", ".join("%s %.3f [%s]" % (o["label"], o["score"], ", ".join("%.0f" % v for v in box(o))) for o in objs)
by_x = sorted(objs, key=lambda o: box(o)[0] + box(o)[2])
errors = []
if [o["label"] for o in by_x] != ["cat", "dog"]:
    errors.append("expected exactly a cat (left) and a dog (right), got: " + (desc or "nothing"))
else:
    for o in by_x:
        rb = ref[o["class_id"]]["box"]
        v = iou(box(o), rb)
        if v < 0.8:
            errors.append("%s box IoU %.3f with the reference [%s]" % (o["label"], v, ", ".join("%.0f" % x for x in rb)))
print("%s: %s  %s" % (name, "FAIL" if errors else "PASS", desc))
for e in errors:
    print("    " + e)
sys.exit(1 if errors else 0)
PYEOF
}

run nanodet nanodet_tfjs.jsonl "$ROOT/models/nanodet/nanodet.json" --model nanodet
run centernet centernet_tfjs.jsonl "$ROOT/models/centernet/centernet.json" --model centernet
run yolox yolox_nano.jsonl "$SHARED/models/yolox_nano.onnx" --model "$SHARED/models/yolox_nano.onnx" --preset yolox
run fastestdet fastestdet.jsonl "$SHARED/models/FastestDet.onnx" --model "$SHARED/models/FastestDet.onnx" --preset fastestdet
[ $ran -gt 0 ] || { echo "skip: no model available (run make models)"; exit 77; }
exit $fail

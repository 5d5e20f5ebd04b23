#!/bin/sh
# test_accuracy.sh — end-to-end detection accuracy against the reference
# pipelines: `detectd detect --threshold 0.001 --max-detections 100` over
# ../shared/data/coco128-dev, converted to the reference JSONL format and
# scored with ../shared/tools/cocoeval.py (COCO box mAP).  Each model's
# mAP50_95 must be within 0.01 of the upstream pipeline's (reference/README.md):
#   nanodet 0.333, centernet 0.324 (built-in TF.js models),
#   yolox_nano 0.334, FastestDet 0.176 (../shared/models, --preset).
# MODELS="nanodet yolox" limits the run.  Prints the measured figures.
set -u
ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
DETECTD=${DETECTD:-$BUILD/detectd}
SHARED=${SHARED:-}
PY=/usr/bin/python3
OUT="$BUILD/accuracy"
TOL=0.01

if [ -z "$SHARED" ] || [ ! -d "$SHARED/data/coco128-dev/images" ] || [ ! -f "$SHARED/tools/cocoeval.py" ]; then
  echo "skip: needs ../shared (coco128-dev and tools/cocoeval.py)"
  exit 77
fi
$PY -c "import numpy" 2>/dev/null || { echo "skip: needs python3-numpy for cocoeval.py"; exit 77; }
[ -x "$DETECTD" ] || { echo "no detectd binary at $DETECTD"; exit 1; }
rm -rf "$OUT"; mkdir -p "$OUT"
DATA="$SHARED/data/coco128-dev"

# name | detect arguments | reference mAP50_95 | file that must exist
MODELS=${MODELS:-"nanodet centernet yolox fastestdet"}
spec() {
  case $1 in
    nanodet)    echo "--model nanodet|0.333|$ROOT/models/nanodet/nanodet.json" ;;
    centernet)  echo "--model centernet|0.324|$ROOT/models/centernet/centernet.json" ;;
    yolox)      echo "--model $SHARED/models/yolox_nano.onnx --preset yolox|0.334|$SHARED/models/yolox_nano.onnx" ;;
    fastestdet) echo "--model $SHARED/models/FastestDet.onnx --preset fastestdet|0.176|$SHARED/models/FastestDet.onnx" ;;
  esac
}

fail=0; ran=0; summary=""
for m in $MODELS; do
  s=$(spec "$m")
  [ -n "$s" ] || { echo "unknown model $m"; exit 2; }
  args=${s%%|*}; rest=${s#*|}; ref=${rest%%|*}; need=${rest#*|}
  if [ ! -f "$need" ]; then
    echo "$m: SKIP ($need missing; built-in models come from \`make models\`)"
    continue
  fi
  start=$(date +%s)
  # shellcheck disable=SC2086
  "$DETECTD" detect $args --models-dir "$ROOT/models" --threshold 0.001 --max-detections 100 \
      "$DATA"/images/* > "$OUT/$m.detect.jsonl" 2> "$OUT/$m.stderr"
  rc=$?
  secs=$(( $(date +%s) - start ))
  if [ $rc -ne 0 ]; then
    echo "$m: FAIL (detectd exit $rc)"; tail -n 5 "$OUT/$m.stderr"; grep '"error"' "$OUT/$m.detect.jsonl" | head -n 3
    fail=1; continue
  fi
  # detectd's JSON lines -> the reference format, one line per detection.
  $PY - "$OUT/$m.detect.jsonl" "$OUT/$m.dets.jsonl" <<'PYEOF' || { fail=1; continue; }
import json, os, sys
n_img = 0
with open(sys.argv[1]) as f, open(sys.argv[2], "w") as o:
    for line in f:
        r = json.loads(line)
        if "error" in r:
            sys.exit("detect error on %s: %s" % (r["image"], r["error"]))
        n_img += 1
        name = os.path.splitext(os.path.basename(r["image"]))[0]
        for ob in r["objects"]:
            b = ob["box"]
            o.write(json.dumps({"image": name, "class": ob["class_id"], "score": ob["score"],
                                "box": [b["x"], b["y"], b["x"] + b["width"], b["y"] + b["height"]]}) + "\n")
if n_img == 0:
    sys.exit("no images processed")
PYEOF
  line=$($PY "$SHARED/tools/cocoeval.py" --dets "$OUT/$m.dets.jsonl" --data "$DATA" | tail -n 1)
  got=$(echo "$line" | sed -n 's/.*mAP50_95=\([0-9.]*\).*/\1/p')
  if [ -z "$got" ]; then
    echo "$m: FAIL (cocoeval printed: $line)"; fail=1; continue
  fi
  ran=$((ran + 1))
  ok=$($PY -c "print(1 if abs($got - $ref) <= $TOL else 0)")
  verdict=PASS; [ "$ok" = 1 ] || { verdict=FAIL; fail=1; }
  echo "$m: $verdict  $line  (reference mAP50_95=$ref, tolerance $TOL, ${secs}s)"
  summary="$summary $m=$got"
done
echo "measured mAP50_95:$summary"
[ $fail -eq 0 ] || exit 1
[ $ran -gt 0 ] || { echo "skip: no model available"; exit 77; }
exit 0

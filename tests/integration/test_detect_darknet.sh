#!/bin/sh
# test_detect_darknet.sh — `detectd detect` end to end with the default model
# (nanodet, built-in) on the sample photos of Debian's darknet package; no
# ../shared needed.  Checks the JSON shape, what is found and where, and the
# per-image error lines.
#
# What NanoDet-g finds here (its pipeline is checked bit-for-bit against
# OpenCV and TF.js elsewhere; these are its answers, not darknet YOLO's):
#   dog.jpg    dog 0.69, bicycle 0.57 above the default 0.5; car 0.50 and
#              truck 0.29 for the van
#   person.jpg dog 0.58 above 0.5; the horse as cow 0.48, person 0.44
set -u
ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
DETECTD=${DETECTD:-$BUILD/detectd}
PY=/usr/bin/python3
IMG=/usr/share/darknet/data
OUT="$BUILD/detect_darknet"

[ -f "$IMG/dog.jpg" ] && [ -f "$IMG/person.jpg" ] || { echo "skip: needs Debian's darknet package ($IMG)"; exit 77; }
[ -f "$ROOT/models/nanodet/nanodet.json" ] || { echo "skip: default model missing (run make models)"; exit 77; }
[ -x "$DETECTD" ] || { echo "no detectd binary at $DETECTD"; exit 1; }
rm -rf "$OUT"; mkdir -p "$OUT"
cd "$ROOT" || exit 1

fail() { echo "FAIL: $*"; exit 1; }

"$DETECTD" detect --help > "$OUT/help.txt" || fail "--help exit status"
for opt in --model --preset --threshold --max-detections --threads --models-dir; do
  grep -q -- "$opt" "$OUT/help.txt" || fail "--help does not document $opt"
done

"$DETECTD" detect "$IMG/dog.jpg" "$IMG/person.jpg" > "$OUT/default.jsonl" || fail "detect exit status $?"
"$DETECTD" detect --threshold 0.25 "$IMG/dog.jpg" "$IMG/person.jpg" > "$OUT/low.jsonl" || fail "detect --threshold 0.25"
"$DETECTD" detect --threshold 0.25 --max-detections 2 "$IMG/dog.jpg" > "$OUT/max2.jsonl" || fail "--max-detections"
"$DETECTD" detect --classes dog,1 --threshold 0.25 "$IMG/dog.jpg" > "$OUT/classes.jsonl" || fail "--classes"

# Errors: one JSON line per bad image, the good ones still processed, exit 1.
printf 'not an image' > "$OUT/text.jpg"
head -c 3000 "$IMG/dog.jpg" > "$OUT/cut.jpg"
"$DETECTD" detect "$OUT/missing.jpg" "$OUT/text.jpg" "$OUT/cut.jpg" "$IMG/dog.jpg" > "$OUT/errors.jsonl"
rc=$?
[ $rc -eq 1 ] || fail "exit status $rc with bad images, expected 1"
"$DETECTD" detect --threshold 2 "$IMG/dog.jpg" > /dev/null 2>&1
[ $? -eq 2 ] || fail "a bad --threshold should exit 2"
"$DETECTD" detect --model no_such_model "$IMG/dog.jpg" > /dev/null 2> "$OUT/nomodel.txt"
[ $? -eq 1 ] || fail "an unknown model should exit 1"
grep -q no_such_model "$OUT/nomodel.txt" || fail "unknown model message: $(cat "$OUT/nomodel.txt")"

$PY - "$OUT" <<'PYEOF'
import json, sys
out = sys.argv[1]
def lines(name):
    return [json.loads(l) for l in open("%s/%s" % (out, name))]
def labels(r):
    return [o["label"] for o in r["objects"]]
bad = []
def check(cond, msg):
    if not cond:
        bad.append(msg)

dog, person = lines("default.jsonl")
for r, w, h in ((dog, 768, 576), (person, 640, 424)):
    check(r["width"] == w and r["height"] == h, "%s size %sx%s" % (r["image"], r["width"], r["height"]))
    check(r["model"] == "nanodet", "model name %r" % r["model"])
    check(set(r["timing_ms"]) == {"decode", "preprocess", "inference", "postprocess"}, "timing keys")
    scores = [o["score"] for o in r["objects"]]
    check(scores == sorted(scores, reverse=True), "objects not sorted by score")
    for o in r["objects"]:
        b = o["box"]
        check(o["score"] >= 0.5, "score %s under the default threshold" % o["score"])
        check(0 <= b["x"] and 0 <= b["y"] and b["width"] > 0 and b["height"] > 0 and
              b["x"] + b["width"] <= r["width"] + 1e-3 and b["y"] + b["height"] <= r["height"] + 1e-3,
              "box outside the image: %s" % b)
        check(set(o) == {"label", "class_id", "score", "box"}, "object keys %s" % sorted(o))
check({"dog", "bicycle"} <= set(labels(dog)), "dog.jpg at 0.5: %s" % labels(dog))
check("dog" in labels(person), "person.jpg at 0.5: %s" % labels(person))

def find(r, label):
    return [o for o in r["objects"] if o["label"] == label]
def centre(o):
    b = o["box"]
    return b["x"] + b["width"] / 2, b["y"] + b["height"] / 2

# Where things are: the dog sits bottom-left in dog.jpg, the van top-right,
# the bicycle spans the middle; in person.jpg the dog is left, the horse right.
dog_l, person_l = lines("low.jsonl")
check({"dog", "bicycle", "truck"} <= set(labels(dog_l)), "dog.jpg at 0.25: %s" % labels(dog_l))
for o in find(dog_l, "dog")[:1]:
    cx, cy = centre(o)
    check(cx < 384 and cy > 288, "dog.jpg dog centre %s" % ((cx, cy),))
for o in find(dog_l, "truck")[:1] + find(dog_l, "car")[:1]:
    cx, cy = centre(o)
    check(cx > 500 and cy < 200, "dog.jpg %s centre %s" % (o["label"], (cx, cy)))
check({"person", "dog"} <= set(labels(person_l)), "person.jpg at 0.25: %s" % labels(person_l))
big = [o for o in person_l["objects"] if o["label"] in ("horse", "cow", "sheep")]
check(big and centre(big[0])[0] > 400, "person.jpg: no large animal on the right: %s" % labels(person_l))
for o in find(person_l, "dog")[:1]:
    check(centre(o)[0] < 250, "person.jpg dog centre %s" % (centre(o),))
for o in find(person_l, "person")[:1]:
    cx, cy = centre(o)
    check(150 < cx < 300, "person.jpg person centre %s" % ((cx, cy),))

(m2,) = lines("max2.jsonl")
check(len(m2["objects"]) == 2 and labels(m2) == labels(dog_l)[:2], "--max-detections 2: %s" % labels(m2))
(cl,) = lines("classes.jsonl")
check(cl["objects"] and set(labels(cl)) <= {"dog", "bicycle"}, "--classes dog,1: %s" % labels(cl))

errs = lines("errors.jsonl")
check(len(errs) == 4, "%d lines for 4 images" % len(errs))
if len(errs) == 4:
    check(errs[0].get("code") == "not_found", "missing file: %s" % errs[0])
    check(errs[1].get("code") == "unsupported", "text file: %s" % errs[1])
    check(errs[2].get("code") == "corrupt" and "truncated" in errs[2].get("error", ""), "cut JPEG: %s" % errs[2])
    check("objects" in errs[3] and "dog" in labels(errs[3]), "good image after errors: %s" % errs[3])
    for e in errs[:3]:
        check(set(e) == {"image", "error", "code"}, "error keys %s" % sorted(e))

print("dog.jpg:", [(o["label"], o["score"]) for o in dog_l["objects"]][:6])
print("person.jpg:", [(o["label"], o["score"]) for o in person_l["objects"]][:6])
if bad:
    print("\n".join("FAIL: " + b for b in bad))
    sys.exit(1)
PYEOF

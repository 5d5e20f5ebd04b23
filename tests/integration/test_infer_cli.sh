#!/bin/sh
# test_infer_cli.sh — `detectd infer` and `detectd inspect` as a user meets
# them: a good run writes every output, and every bad input (missing file,
# corrupt model, unsupported operator, wrong shape or dtype) is a clear
# message and a non-zero exit, never a crash.
set -u
ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
DETECTD=${DETECTD:-$BUILD/detectd}
PY=/usr/bin/python3
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
fail=0
check() { # name expected-substring command...
  name=$1; want=$2; shift 2
  "$@" > "$W/out" 2>&1
  rc=$?
  if [ $rc -eq 0 ] || [ $rc -ge 128 ] || ! grep -q -- "$want" "$W/out"; then
    echo "FAIL $name (exit $rc): $(head -c 300 "$W/out")"; fail=1
  else
    echo "PASS $name: $(head -c 160 "$W/out" | tr '\n' ' ')"
  fi
}

# A small model made here: Conv -> Relu -> output, fixed shape [1,3,8,8];
# one with an operator the engine does not have; a corrupt file.
$PY - "$W" <<'PYEOF'
import sys, numpy as np, onnx
from onnx import helper, TensorProto as T, numpy_helper
w = sys.argv[1]
rng = np.random.default_rng(0)
W = numpy_helper.from_array(rng.standard_normal((4, 3, 3, 3)).astype(np.float32), "w")
g = helper.make_graph([helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1], name="conv0"),
                       helper.make_node("Relu", ["c"], ["y/out:0"], name="relu0")], "g",
                      [helper.make_tensor_value_info("x", T.FLOAT, [1, 3, 8, 8])],
                      [helper.make_tensor_value_info("y/out:0", T.FLOAT, [1, 4, 8, 8])], [W])
onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), w + "/good.onnx")
g2 = helper.make_graph([helper.make_node("Einsum", ["x", "x"], ["y"], equation="ij,jk->ik", name="the_einsum")],
                       "g2", [helper.make_tensor_value_info("x", T.FLOAT, [2, 2])],
                       [helper.make_tensor_value_info("y", T.FLOAT, [2, 2])])
onnx.save(helper.make_model(g2, opset_imports=[helper.make_opsetid("", 13)]), w + "/einsum.onnx")
np.save(w + "/x.npy", rng.standard_normal((1, 3, 8, 8)).astype(np.float32))
np.save(w + "/x_bad_shape.npy", np.zeros((1, 3, 9, 8), np.float32))
np.save(w + "/x_f64.npy", np.zeros((1, 3, 8, 8), np.float64))
np.save(w + "/x2.npy", np.zeros((2, 2), np.float32))
open(w + "/garbage.onnx", "wb").write(rng.integers(0, 256, 4096, dtype=np.uint8).tobytes())
data = open(w + "/good.onnx", "rb").read()
open(w + "/truncated.onnx", "wb").write(data[: len(data) // 2])
PYEOF

# the good path: output name sanitised, values equal to ONNX Runtime's
if "$DETECTD" infer --model "$W/good.onnx" --input "$W/x.npy" --outdir "$W/out1" > "$W/log" 2>&1 &&
   [ -f "$W/out1/y_out_0.npy" ] &&
   node "$ROOT/tests/oracle/ort_run.js" "$W/good.onnx" "$W/ort" "x=$W/x.npy" > /dev/null 2>&1 &&
   $PY "$ROOT/tests/onnx_ops/compare.py" "$W/ort" "$W/out1" > "$W/cmp" 2>&1; then
  echo "PASS infer_good: $(cat "$W/cmp")"
else
  echo "FAIL infer_good: $(cat "$W/log" "$W/cmp" 2>/dev/null | head -c 300)"; fail=1
fi
if "$DETECTD" inspect --model "$W/good.onnx" > "$W/insp" 2>&1 && grep -q "macs" "$W/insp" && grep -q "arena" "$W/insp"; then
  echo "PASS inspect: $(grep -E 'macs|arena' "$W/insp" | tr '\n' ' ')"
else
  echo "FAIL inspect: $(head -c 300 "$W/insp")"; fail=1
fi

check missing_model "cannot open" "$DETECTD" infer --model "$W/nope.onnx" --input "$W/x.npy" --outdir "$W/o"
check missing_input "cannot open" "$DETECTD" infer --model "$W/good.onnx" --input "$W/nope.npy" --outdir "$W/o"
check garbage_model "corrupt" "$DETECTD" infer --model "$W/garbage.onnx" --input "$W/x.npy" --outdir "$W/o"
check truncated_model "corrupt" "$DETECTD" infer --model "$W/truncated.onnx" --input "$W/x.npy" --outdir "$W/o"
check unsupported_op "Einsum" "$DETECTD" infer --model "$W/einsum.onnx" --input "$W/x2.npy" --outdir "$W/o"
check unsupported_op_node "the_einsum" "$DETECTD" infer --model "$W/einsum.onnx" --input "$W/x2.npy" --outdir "$W/o"
check shape_mismatch "shape" "$DETECTD" infer --model "$W/good.onnx" --input "$W/x_bad_shape.npy" --outdir "$W/o"
check dtype_mismatch "float32" "$DETECTD" infer --model "$W/good.onnx" --input "$W/x_f64.npy" --outdir "$W/o"
check wrong_input_name "no --input given" "$DETECTD" infer --model "$W/good.onnx" --input "zz=$W/x.npy" --outdir "$W/o"
check no_args "usage" "$DETECTD" infer
check inspect_garbage "corrupt" "$DETECTD" inspect --model "$W/garbage.onnx"
exit $fail

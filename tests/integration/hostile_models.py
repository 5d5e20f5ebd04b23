#!/usr/bin/python3
"""hostile_models.py OUTDIR — tiny ONNX files that ask the engine for huge
memory or overflowing shapes (issue 9: "a model file is untrusted input too").

Each model is a few hundred bytes.  Loading one must be quick and end in a
clean DT_ELIMIT error ("over the limit of ... (--max-model-memory)" or "too
large"), never a multi-gigabyte allocation or a crash.  Used by
tests/integration/test_model_bombs.py and, as seeds, by the ONNX fuzzer's
corpus (tests/fuzz/gen_corpus.py).  MODELS maps file name -> (bytes, what the
error message must contain)."""

import os
import sys

import onnx
from onnx import TensorProto as T
from onnx import helper


def _model(nodes, inputs, outputs, inits=(), opset=13):
    g = helper.make_graph(nodes, "bomb", inputs, outputs, list(inits))
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)]).SerializeToString()


def _i64(name, vals):
    return helper.make_tensor(name, T.INT64, [len(vals)], vals)


def _f32(name, vals):
    return helper.make_tensor(name, T.FLOAT, [len(vals)], vals)


def _vi(name, elem, shape):
    return helper.make_tensor_value_info(name, elem, shape)


def models():
    """name -> (model bytes, substring the error must contain)."""
    m = {}
    over = "over the limit"
    # ConstantOfShape of 430M floats (1.7 GB) added to the input: constant
    # folding would materialise it; it must not.
    m["constantofshape_1p7gb.onnx"] = (_model(
        [helper.make_node("ConstantOfShape", ["s"], ["c"], value=helper.make_tensor("v", T.FLOAT, [1], [1.0])),
         helper.make_node("Add", ["x", "c"], ["y"])],
        [_vi("x", T.FLOAT, [1])], [_vi("y", T.FLOAT, None)], [_i64("s", [430000000])]), over)
    # The same bomb as a graph output produced from constants only.
    m["constantofshape_output.onnx"] = (_model(
        [helper.make_node("ConstantOfShape", ["s"], ["y"])],
        [], [_vi("y", T.FLOAT, None)], [_i64("s", [20000, 20000])]), over)
    # Many folds of 8 MiB each: every one under the folding budget, 1.6 GB together.
    nodes, outs = [], []
    for i in range(200):
        nodes.append(helper.make_node("ConstantOfShape", ["s"], ["c%d" % i]))
        outs.append(_vi("c%d" % i, T.FLOAT, None))
    m["constantofshape_many.onnx"] = (_model(nodes, [], outs, [_i64("s", [2 << 20])]), over)
    # Run-time ops with huge constant shapes.
    m["expand_4gb.onnx"] = (_model(
        [helper.make_node("Expand", ["x", "s"], ["y"])],
        [_vi("x", T.FLOAT, [1])], [_vi("y", T.FLOAT, None)], [_i64("s", [1 << 30])]), over)
    m["tile_16gb.onnx"] = (_model(
        [helper.make_node("Tile", ["x", "r"], ["y"])],
        [_vi("x", T.FLOAT, [1, 1])], [_vi("y", T.FLOAT, None)], [_i64("r", [65536, 65536])]), over)
    m["range_4gb.onnx"] = (_model(
        [helper.make_node("Range", ["a", "b", "d"], ["r"]), helper.make_node("Add", ["x", "r"], ["y"])],
        [_vi("x", T.FLOAT, [1])], [_vi("y", T.FLOAT, None)],
        [helper.make_tensor("a", T.FLOAT, [], [0.0]), helper.make_tensor("b", T.FLOAT, [], [1e9]),
         helper.make_tensor("d", T.FLOAT, [], [1.0])]), over)
    m["resize_40gb.onnx"] = (_model(
        [helper.make_node("Resize", ["x", "", "sc"], ["y"], mode="nearest")],
        [_vi("x", T.FLOAT, [1, 1, 2, 2])], [_vi("y", T.FLOAT, None)],
        [_f32("sc", [1.0, 1.0, 50000.0, 50000.0])]), over)
    # A declared input of 120 GB.
    m["input_120gb.onnx"] = (_model(
        [helper.make_node("Relu", ["x"], ["y"])],
        [_vi("x", T.FLOAT, [1, 3, 100000, 100000])], [_vi("y", T.FLOAT, [1, 3, 100000, 100000])]), over)
    # Shapes whose element count (2^80) or byte size (2^62 int64 = 2^65 bytes) overflows.
    m["input_dims_overflow.onnx"] = (_model(
        [helper.make_node("Relu", ["x"], ["y"])],
        [_vi("x", T.FLOAT, [1 << 40, 1 << 40])], [_vi("y", T.FLOAT, None)]), "too large")
    m["constantofshape_bytes_overflow.onnx"] = (_model(
        [helper.make_node("ConstantOfShape", ["s"], ["c"], value=helper.make_tensor("v", T.INT64, [1], [7])),
         helper.make_node("Add", ["x", "c"], ["y"])],
        [_vi("x", T.INT64, [1])], [_vi("y", T.INT64, None)], [_i64("s", [1 << 31, 1 << 31])]), "too large")
    m["constantofshape_numel_overflow.onnx"] = (_model(
        [helper.make_node("ConstantOfShape", ["s"], ["c"]), helper.make_node("Add", ["x", "c"], ["y"])],
        [_vi("x", T.FLOAT, [1])], [_vi("y", T.FLOAT, None)], [_i64("s", [1 << 40, 1 << 40])]), "too large")
    return m


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, (data, _) in models().items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()

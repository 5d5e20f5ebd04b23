"""cases_tensor.py — per-operator cases for the tensor-manipulation op group
(src/engine/ops/tensor.c), checked against ONNX Runtime: Concat, Split, Slice, Reshape,
Transpose, Flatten, Squeeze, Unsqueeze, Gather, GatherElements, Shape, Size, ConstantOfShape,
Expand, Range, Tile, ScatterND, NonZero, DepthToSpace, SpaceToDepth, and the Shape -> Gather ->
Concat -> Reshape chains exporters write.

Every case name starts with "ten_" (ONNX_OPS_FILTER=ten_ runs just these).  Shape-like inputs
(Reshape's shape, Slice's starts, ...) are initializers: detectd needs them constant.  Ops whose
inputs would all be constants get a runtime operand added after them so the case still has an
input.  SparseToDense is a TF extension ONNX Runtime does not know: unit tests only.
"""

import numpy as np

from common import T, case, make_node, make_tensor, rand, randbool, randint

F = np.float32
I32 = np.int32
I64 = np.int64
IMAX = np.iinfo(np.int64).max
IMIN = np.iinfo(np.int64).min


def one(name, op, ins, outs=("y",), inputs=None, inits=None, opset=17, **attrs):
    """A single-node case."""
    case(name, [make_node(op, list(ins), list(outs), **attrs)], inputs=inputs or {}, outputs=list(outs),
         initializers=inits, opset=opset)


def i64(*v):
    return np.array(v, dtype=I64)


def data(shape, dt):
    if dt == F:
        return rand(*shape, lo=-5, hi=5)
    if dt == np.bool_:
        return randbool(*shape)
    if dt == np.uint8:
        return randint(*shape, lo=0, hi=256, dtype=np.uint8)
    return randint(*shape, lo=-1000, hi=1000, dtype=dt)


DTYPES = (F, I64, I32, np.bool_, np.uint8)

# ---- Concat ----------------------------------------------------------------------------------

CONCAT = [
    ("ax1", [(2, 3, 4), (2, 5, 4), (2, 1, 4)], 1),
    ("ax0_four", [(1, 3), (4, 3), (2, 3), (1, 3)], 0),
    ("axneg1", [(3, 2), (3, 5)], -1),
    ("axneg3", [(2, 3, 4), (1, 3, 4)], -3),
    ("zero_size", [(2, 3, 4), (2, 0, 4), (2, 2, 4)], 1),
    ("single", [(3, 4)], 1),
    ("vec", [(5,), (1,), (7,)], 0),
    ("big", [(1, 16, 33, 35), (1, 8, 33, 35)], 1),
]
for tag, shapes, axis in CONCAT:
    for dt in DTYPES:
        if tag == "big" and dt not in (F, np.uint8):
            continue
        names = ["x%d" % i for i in range(len(shapes))]
        ins = {n: data(s, dt) for n, s in zip(names, shapes)}
        for opset in (7, 11, 13):
            if axis < 0 and opset < 11:
                continue
            if opset != 13 and dt != F:
                continue
            one("ten_concat_%s_%s_op%d" % (tag, np.dtype(dt).name, opset), "Concat", names, inputs=ins,
                opset=opset, axis=axis)
# constants mixed with runtime inputs (e.g. anchors, class tokens)
one("ten_concat_const_mix", "Concat", ["x", "c", "z"], inputs={"x": rand(2, 3, 5), "z": rand(2, 1, 5)},
    inits={"c": rand(2, 4, 5)}, opset=13, axis=1)

# Concats the CPU planner writes in place (computed inputs placed inside the output, see
# dt_pass_plan_ex): duplicates, views, nested concats, an input read again after the concat
# or used by two concats, a graph-output input, unaligned offsets, batch 2 (not contiguous).
def concat_net(name, x, body, outputs, inits=None):
    case("ten_concat_inplace_" + name, [make_node(*n[:3], **(n[3] if len(n) > 3 else {})) for n in body],
         inputs={"x": x}, outputs=outputs, initializers=inits, opset=13)


concat_net("basic", rand(1, 16, 8, 8), [("Relu", ["x"], ["a"]), ("Neg", ["x"], ["b"]),
                                        ("Concat", ["a", "b"], ["c"], {"axis": 1}), ("Sigmoid", ["c"], ["y"])], ["y"])
concat_net("dup", rand(1, 16, 8, 8), [("Relu", ["x"], ["a"]), ("Neg", ["x"], ["b"]),
                                      ("Concat", ["a", "b", "a"], ["y"], {"axis": 1})], ["y"])
concat_net("nested_reuse", rand(1, 16, 8, 8),
           [("Relu", ["x"], ["a"]), ("Neg", ["x"], ["b"]), ("Tanh", ["x"], ["e"]),
            ("Concat", ["a", "b"], ["c"], {"axis": 1}), ("Concat", ["e", "c"], ["d"], {"axis": 1}),
            ("Add", ["a", "b"], ["z"]), ("Sigmoid", ["d"], ["y"])], ["y", "z"])
concat_net("two_concats", rand(1, 16, 8, 8),
           [("Relu", ["x"], ["a"]), ("Neg", ["x"], ["b"]), ("Concat", ["a", "b"], ["y1"], {"axis": 1}),
            ("Concat", ["b", "a"], ["y2"], {"axis": 1})], ["y1", "y2"])
concat_net("view", rand(1, 16, 8, 8),
           [("Relu", ["x"], ["a"]), ("Reshape", ["a", "s"], ["r"]), ("Neg", ["x"], ["b"]),
            ("Concat", ["r", "b", "r"], ["c"], {"axis": 1}), ("Reshape", ["c", "s2"], ["y"]),
            ("Add", ["a", "r"], ["z"])], ["y", "z"], inits={"s": i64(1, 16, 8, 8), "s2": i64(1, -1)})
concat_net("output_input", rand(1, 16, 8, 8), [("Relu", ["x"], ["a"]), ("Neg", ["x"], ["b"]),
                                               ("Concat", ["a", "b"], ["y"], {"axis": 1})], ["a", "y"])
concat_net("unaligned", rand(1, 3, 5, 7), [("Relu", ["x"], ["a"]), ("Neg", ["x"], ["b"]),
                                           ("Concat", ["a", "b", "a", "b"], ["c"], {"axis": 1}),
                                           ("Sigmoid", ["c"], ["y"])], ["y"])
concat_net("axis2", rand(1, 1, 4, 16), [("Relu", ["x"], ["a"]), ("Neg", ["x"], ["b"]),
                                        ("Concat", ["a", "b"], ["c"], {"axis": 2}), ("Sigmoid", ["c"], ["y"])],
           ["y"])
concat_net("batch2", rand(2, 16, 4, 4), [("Relu", ["x"], ["a"]), ("Neg", ["x"], ["b"]),
                                         ("Concat", ["a", "b"], ["c"], {"axis": 1}), ("Sigmoid", ["c"], ["y"])],
           ["y"])

# Split / one-index Gather outputs the CPU planner makes views into their input (contiguous
# ranges: dims before the axis all 1), read after the split, fed to Concats, as graph outputs
concat_net("split_views", rand(1, 12, 5, 7),
           [("Relu", ["x"], ["a"]), ("Split", ["a", "sp"], ["s1", "s2"], {"axis": 1}), ("Sigmoid", ["s2"], ["t"]),
            ("Concat", ["t", "s1"], ["c"], {"axis": 1}), ("Add", ["a", "c"], ["y"]), ("Neg", ["s1"], ["z"])],
           ["y", "z"], inits={"sp": i64(4, 8)})
concat_net("split_c2f", rand(1, 16, 8, 8),
           [("Relu", ["x"], ["a"]), ("Split", ["a", "sp"], ["s1", "s2"], {"axis": 1}), ("Tanh", ["s2"], ["t"]),
            ("Add", ["s2", "t"], ["u"]), ("Concat", ["s1", "s2", "u"], ["c"], {"axis": 1}), ("Sigmoid", ["c"], ["y"])],
           ["y"], inits={"sp": i64(8, 8)})
concat_net("split_output", rand(1, 12, 5, 7), [("Relu", ["x"], ["a"]), ("Split", ["a", "sp"], ["y", "s2"], {"axis": 1}),
                                               ("Neg", ["s2"], ["z"])], ["y", "z"], inits={"sp": i64(5, 7)})
concat_net("split_axis2", rand(1, 1, 9, 8), [("Relu", ["x"], ["a"]), ("Split", ["a", "sp"], ["s1", "s2", "s3"], {"axis": 2}),
                                             ("Concat", ["s3", "s1", "s2"], ["y"], {"axis": 2})],
           ["y"], inits={"sp": i64(2, 3, 4)})
concat_net("split_batch2", rand(2, 6, 3, 4), [("Relu", ["x"], ["a"]), ("Split", ["a", "sp"], ["s1", "s2"], {"axis": 1}),
                                              ("Sub", ["s1", "s2"], ["y"])], ["y"], inits={"sp": i64(3, 3)})
concat_net("gather_views", rand(2, 6, 5),
           [("Relu", ["x"], ["a"]), ("Gather", ["a", "i1"], ["g1"], {"axis": 0}),
            ("Gather", ["a", "im1"], ["g2"], {"axis": 0}), ("Gather", ["a", "v1"], ["g3"], {"axis": 0}),
            ("Sub", ["g1", "g2"], ["y"]), ("Neg", ["g3"], ["z"]), ("Add", ["a", "a"], ["w"])],
           ["y", "z", "w"], inits={"i1": np.array(1, dtype=I64), "im1": np.array(-2, dtype=I64), "v1": i64(1)})
concat_net("gather_axis1", rand(1, 6, 5), [("Relu", ["x"], ["a"]), ("Gather", ["a", "i"], ["y"], {"axis": 1})],
           ["y"], inits={"i": np.array(3, dtype=I64)})
concat_net("gather_not_contig", rand(3, 4, 5), [("Relu", ["x"], ["a"]), ("Gather", ["a", "i"], ["g"], {"axis": 1}),
                                                ("Neg", ["g"], ["y"])], ["y"], inits={"i": np.array(2, dtype=I64)})

# ---- Split -----------------------------------------------------------------------------------

xs = rand(2, 9, 4, 5)
for opset in (7, 11):
    one("ten_split_attr_op%d" % opset, "Split", ["x"], outs=("a", "b", "c"), inputs={"x": xs}, opset=opset,
        axis=1, split=[2, 3, 4])
    one("ten_split_equal_op%d" % opset, "Split", ["x"], outs=("a", "b", "c"), inputs={"x": xs}, opset=opset,
        axis=1)
one("ten_split_attr_zero_op11", "Split", ["x"], outs=("a", "b", "c"), inputs={"x": xs}, opset=11, axis=-1,
    split=[2, 0, 3])
for opset in (13, 17):
    one("ten_split_input_op%d" % opset, "Split", ["x", "s"], outs=("a", "b"), inputs={"x": xs},
        inits={"s": i64(1, 3)}, opset=opset, axis=2)
    one("ten_split_equal_op%d" % opset, "Split", ["x"], outs=("a", "b", "c"), inputs={"x": xs}, opset=opset,
        axis=-3)
    one("ten_split_input_neg_op%d" % opset, "Split", ["x", "s"], outs=("a", "b", "c", "d"), inputs={"x": xs},
        inits={"s": i64(1, 1, 2, 1)}, opset=opset, axis=-1)
one("ten_split_i64", "Split", ["x", "s"], outs=("a", "b"), inputs={"x": data((6, 4), I64)},
    inits={"s": i64(4, 2)}, opset=13, axis=0)
one("ten_split_bool", "Split", ["x"], outs=("a", "b"), inputs={"x": randbool(3, 8)}, opset=13, axis=1)
one("ten_split_big", "Split", ["x"], outs=("a", "b"), inputs={"x": rand(1, 32, 33, 35)}, opset=13, axis=1)
# opset 18: num_outputs, the last chunk smaller when uneven
one("ten_split_num_outputs_op18", "Split", ["x"], outs=("a", "b", "c"), inputs={"x": rand(2, 7, 3)}, opset=18,
    axis=1, num_outputs=3)
one("ten_split_num_outputs_even_op18", "Split", ["x"], outs=("a", "b"), inputs={"x": rand(4, 6)}, opset=18,
    axis=-1, num_outputs=2)

# ---- Slice -----------------------------------------------------------------------------------

xsl = rand(5, 7, 6)
for opset in (7, 9):
    one("ten_slice_attr_op%d" % opset, "Slice", ["x"], inputs={"x": xsl}, opset=opset, starts=[1, 2],
        ends=[4, 100], axes=[0, 2])
    one("ten_slice_attr_noaxes_op%d" % opset, "Slice", ["x"], inputs={"x": xsl}, opset=opset,
        starts=[-3, 0], ends=[-1, 5])
    one("ten_slice_attr_clamp_op%d" % opset, "Slice", ["x"], inputs={"x": xsl}, opset=opset,
        starts=[-100, 3], ends=[IMAX, 2], axes=[1, 0])

SLICES = [
    # tag, starts, ends, axes, steps
    ("basic", [1, 2], [4, 6], [0, 1], None),
    ("noaxes", [1], [3], None, None),
    ("neg_idx", [-4, -5], [-1, -1], [0, 2], None),
    ("neg_axes", [2], [6], [-1], None),
    ("step2", [0, 1], [5, 7], [0, 1], [2, 3]),
    ("reverse", [IMAX], [IMIN], [1], [-1]),
    ("reverse_step", [-1, 5], [IMIN, 0], [0, 2], [-2, -2]),
    ("clamp_max", [2], [IMAX], [1], [1]),
    ("clamp_neg", [-100], [100], [2], [1]),
    ("empty", [4], [2], [0], [1]),
    ("empty_rev", [1], [4], [0], [-1]),
    ("huge_step", [0], [IMAX], [1], [IMAX]),
    ("huge_neg_step", [-1], [IMIN], [2], [IMIN]),
    ("all_axes", [0, 1, 2], [5, 6, 5], [0, 1, 2], [1, 2, 2]),
    ("start_past_end", [10], [20], [1], [1]),
]
for tag, st, en, ax, sp in SLICES:
    for opset in (10, 11, 13):
        if opset != 13 and (tag not in ("basic", "step2", "reverse") or (ax and min(ax) < 0)):
            continue
        ins = ["x", "st", "en"]
        inits = {"st": np.array(st, dtype=I64), "en": np.array(en, dtype=I64)}
        if ax is not None or sp is not None:
            ins.append("ax" if ax is not None else "")
            if ax is not None:
                inits["ax"] = np.array(ax, dtype=I64)
        if sp is not None:
            ins.append("sp")
            inits["sp"] = np.array(sp, dtype=I64)
        one("ten_slice_%s_op%d" % (tag, opset), "Slice", ins, inputs={"x": xsl}, inits=inits, opset=opset)
# int32 parameters, other data types, big data
one("ten_slice_i32_params", "Slice", ["x", "st", "en", "ax", "sp"], inputs={"x": xsl},
    inits={"st": np.array([4, 1], dtype=I32), "en": np.array([0, 7], dtype=I32),
           "ax": np.array([0, 1], dtype=I32), "sp": np.array([-1, 2], dtype=I32)}, opset=13)
for dt in (I64, np.bool_, np.uint8):
    one("ten_slice_%s" % np.dtype(dt).name, "Slice", ["x", "st", "en", "ax", "sp"], inputs={"x": data((6, 5, 4), dt)},
        inits={"st": i64(-1, 1), "en": i64(IMIN, 4), "ax": i64(0, 2), "sp": i64(-2, 1)}, opset=13)
one("ten_slice_big", "Slice", ["x", "st", "en", "ax", "sp"], inputs={"x": rand(1, 32, 66, 70)},
    inits={"st": i64(0, 1), "en": i64(IMAX, IMAX), "ax": i64(2, 3), "sp": i64(2, 2)}, opset=13)
one("ten_slice_channels_big", "Slice", ["x", "st", "en", "ax"], inputs={"x": rand(1, 48, 40, 41)},
    inits={"st": i64(16), "en": i64(40), "ax": i64(1)}, opset=13)

# ---- Reshape / Flatten / Squeeze / Unsqueeze ---------------------------------------------------

xr = rand(2, 3, 4, 5)
RESHAPES = [("flat", [-1]), ("two", [6, 20]), ("zero_copy", [0, 0, -1]), ("zero_mid", [2, 0, 2, -1]),
            ("infer_first", [-1, 5]), ("add_ones", [1, 2, 1, 60, 1]), ("same", [2, 3, 4, 5])]
for tag, shp in RESHAPES:
    for opset in (7, 13, 14, 19):
        if opset != 14 and tag not in ("zero_copy", "flat"):
            continue
        one("ten_reshape_%s_op%d" % (tag, opset), "Reshape", ["x", "s"], inputs={"x": xr},
            inits={"s": np.array(shp, dtype=I64)}, opset=opset)
one("ten_reshape_allowzero", "Reshape", ["x", "s"], inputs={"x": rand(0, 3)}, inits={"s": i64(3, 0)},
    opset=14, allowzero=1)
one("ten_reshape_allowzero_plain", "Reshape", ["x", "s"], inputs={"x": xr}, inits={"s": i64(2, 3, 20)},
    opset=14, allowzero=1)
for dt in (I64, np.bool_, np.uint8):
    one("ten_reshape_%s" % np.dtype(dt).name, "Reshape", ["x", "s"], inputs={"x": data((4, 6), dt)},
        inits={"s": i64(3, -1, 2)}, opset=13)

for axis, opsets in ((0, (9, 13)), (1, (9, 13)), (2, (9, 13)), (4, (9, 13)), (-1, (11, 13)), (-4, (11, 13))):
    for opset in opsets:
        one("ten_flatten_ax%s_op%d" % (str(axis).replace("-", "m"), opset), "Flatten", ["x"], inputs={"x": xr},
            opset=opset, axis=axis)
one("ten_flatten_default", "Flatten", ["x"], inputs={"x": data((2, 3, 4), I64)}, opset=13)

xq = rand(1, 3, 1, 5, 1)
one("ten_squeeze_attr_op11", "Squeeze", ["x"], inputs={"x": xq}, opset=11, axes=[0, -1])
one("ten_squeeze_attr_op7", "Squeeze", ["x"], inputs={"x": xq}, opset=7, axes=[2])
one("ten_squeeze_all_op11", "Squeeze", ["x"], inputs={"x": xq}, opset=11)
one("ten_squeeze_input_op13", "Squeeze", ["x", "a"], inputs={"x": xq}, inits={"a": i64(-3, 0)}, opset=13)
one("ten_squeeze_all_op13", "Squeeze", ["x"], inputs={"x": xq}, opset=13)
one("ten_squeeze_bool", "Squeeze", ["x", "a"], inputs={"x": randbool(1, 4, 1)}, inits={"a": i64(0)}, opset=13)

xu = rand(3, 4)
for tag, axes in (("front", [0]), ("back", [-1]), ("mid", [1]), ("multi", [0, 3]), ("multi_neg", [-1, 0, 2])):
    one("ten_unsqueeze_%s_op11" % tag, "Unsqueeze", ["x"], inputs={"x": xu}, opset=11, axes=axes)
    one("ten_unsqueeze_%s_op13" % tag, "Unsqueeze", ["x", "a"], inputs={"x": xu},
        inits={"a": np.array(axes, dtype=I64)}, opset=13)
one("ten_unsqueeze_op7", "Unsqueeze", ["x"], inputs={"x": xu}, opset=7, axes=[1, 2])
one("ten_unsqueeze_scalar", "Unsqueeze", ["x", "a"], inputs={"x": np.array(3, dtype=I64)}, inits={"a": i64(0)},
    opset=13)

# ---- Transpose -------------------------------------------------------------------------------

TRANS = [((3, 5), None), ((2, 3, 4), None), ((2, 3, 4), [1, 0, 2]), ((2, 3, 4, 5), [0, 2, 3, 1]),
         ((2, 3, 4, 5), [0, 3, 1, 2]), ((2, 3, 4, 5), [3, 2, 1, 0]), ((2, 1, 3, 1, 4), [4, 0, 3, 2, 1]),
         ((2, 2, 3, 2, 1, 3), [5, 0, 4, 1, 3, 2]), ((1, 32, 33, 35), [0, 2, 3, 1]), ((7,), None),
         ((2, 0, 3), [2, 1, 0])]
for i, (shape, perm) in enumerate(TRANS):
    for dt in (F, I64, np.uint8):
        if dt != F and len(shape) != 4:
            continue
        kw = {"perm": perm} if perm is not None else {}
        one("ten_transpose_%d_%s" % (i, np.dtype(dt).name), "Transpose", ["x"], inputs={"x": data(shape, dt)},
            opset=13, **kw)
one("ten_transpose_op7", "Transpose", ["x"], inputs={"x": rand(2, 3, 4)}, opset=7, perm=[2, 0, 1])
one("ten_transpose_bool", "Transpose", ["x"], inputs={"x": randbool(3, 4, 2)}, opset=13, perm=[1, 2, 0])

# ---- Gather / GatherElements / ScatterND ---------------------------------------------------------

xg = rand(5, 4, 3)
GATHERS = [("ax0", 0, i64(4, 0, 2, 2)), ("ax1_2d", 1, np.array([[0, 3], [1, 1], [2, 0]], dtype=I64)),
           ("axneg1", -1, i64(2, 0)), ("scalar", 0, np.array(3, dtype=I64)), ("scalar_ax2", 2, np.array(1, dtype=I64)),
           ("neg_idx", 0, i64(-1, -5, 2)), ("empty", 1, np.zeros((0,), dtype=I64))]
for tag, axis, idx in GATHERS:
    for opset in (7, 11, 13):
        if opset == 7 and (axis < 0 or (idx.size and idx.min() < 0)):
            continue
        if opset != 13 and tag not in ("ax0", "ax1_2d"):
            continue
        one("ten_gather_%s_op%d" % (tag, opset), "Gather", ["x", "i"], inputs={"x": xg}, inits={"i": idx},
            opset=opset, axis=axis)
    one("ten_gather_%s_i32" % tag, "Gather", ["x", "i"], inputs={"x": xg}, inits={"i": idx.astype(I32)},
        opset=13, axis=axis)
    one("ten_gather_%s_runtime_idx" % tag, "Gather", ["x", "i"], inputs={"x": xg, "i": idx}, opset=13, axis=axis)
for dt in (I64, I32, np.bool_, np.uint8):
    one("ten_gather_%s" % np.dtype(dt).name, "Gather", ["x", "i"], inputs={"x": data((6, 5), dt)},
        inits={"i": i64(5, -2, 0)}, opset=13, axis=0)
# embedding-style lookup: constant table, runtime ids
one("ten_gather_embedding", "Gather", ["w", "i"], inputs={"i": randint(2, 7, lo=0, hi=50)},
    inits={"w": rand(50, 16)}, opset=13, axis=0)
one("ten_gather_big", "Gather", ["x", "i"], inputs={"x": rand(1, 32, 33, 35)}, inits={"i": i64(31, 0, 7)},
    opset=13, axis=1)

xge = rand(4, 5, 3)
for tag, axis, ishape in (("ax0", 0, (3, 5, 3)), ("ax1", 1, (4, 7, 3)), ("axneg1", -1, (4, 5, 2)),
                          ("small", 1, (2, 2, 2))):
    k = xge.shape[axis]
    idx = randint(*ishape, lo=-k, hi=k)
    for opset in (11, 13):
        one("ten_gatherelements_%s_op%d" % (tag, opset), "GatherElements", ["x", "i"], inputs={"x": xge},
            inits={"i": idx}, opset=opset, axis=axis)
    one("ten_gatherelements_%s_i32_runtime" % tag, "GatherElements", ["x", "i"],
        inputs={"x": xge, "i": idx.astype(I32)}, opset=13, axis=axis)

xsc = rand(4, 3, 2)
SCATTERS = [("rows", np.array([[3], [1]], dtype=I64), (2, 3, 2)),
            ("k2", np.array([[0, 1], [3, 2], [1, 0]], dtype=I64), (3, 2)),
            ("k3_batch", np.array([[[1, 2, 1]], [[0, 0, 0]]], dtype=I64), (2, 1)),
            ("vec", np.array([2, 1], dtype=I64), (2,)),
            ("neg", np.array([[-1, 0], [-4, -3]], dtype=I64), (2, 2))]
for tag, idx, ushape in SCATTERS:
    for opset in (11, 13, 16, 18):
        if opset != 16 and tag not in ("rows", "k2"):
            continue
        kw = {"reduction": "none"} if opset >= 16 else {}
        one("ten_scatternd_%s_op%d" % (tag, opset), "ScatterND", ["x", "i", "u"],
            inputs={"x": xsc, "u": rand(*ushape, lo=10, hi=11)}, inits={"i": idx}, opset=opset, **kw)
one("ten_scatternd_runtime_idx", "ScatterND", ["x", "i", "u"],
    inputs={"x": xsc, "i": np.array([[2, 0]], dtype=I64), "u": rand(1, 2)}, opset=13)
one("ten_scatternd_i64", "ScatterND", ["x", "i", "u"],
    inputs={"x": data((5, 3), I64), "u": data((2, 3), I64)}, inits={"i": np.array([[4], [0]], dtype=I64)}, opset=13)

# ---- Shape / Size / ConstantOfShape / Expand / Range / Tile / NonZero ------------------------------

xsh = rand(2, 3, 5, 7)
one("ten_shape_op13", "Shape", ["x"], inputs={"x": xsh}, opset=13)
one("ten_shape_op7", "Shape", ["x"], inputs={"x": xsh}, opset=7)
for tag, kw in (("start", {"start": 1}), ("end", {"end": -1}), ("both", {"start": -3, "end": 3}),
                ("clamp", {"start": -10, "end": 10}), ("empty", {"start": 3, "end": 1})):
    one("ten_shape_%s_op15" % tag, "Shape", ["x"], inputs={"x": xsh}, opset=15, **kw)
one("ten_shape_i64_input", "Shape", ["x"], inputs={"x": data((4, 1, 6), I64)}, opset=13)
one("ten_size", "Size", ["x"], inputs={"x": xsh}, opset=13)
one("ten_size_op7", "Size", ["x"], inputs={"x": data((3, 0), I64)}, opset=7)
case("ten_shape_used", [make_node("Shape", ["x"], ["s"]), make_node("Cast", ["s"], ["sf"], to=T.FLOAT),
                        make_node("Mul", ["sf", "k"], ["y"])],
     inputs={"x": xsh}, outputs=["y"], initializers={"k": rand(4)}, opset=13)

for tag, value, dt_add, shp in (("default", None, F, (2, 3)), ("f32", make_tensor("value", T.FLOAT, [1], [2.5]), F, (3, 1, 4)),
                                ("i64", make_tensor("value", T.INT64, [1], [7]), I64, (2, 2)),
                                ("i32", make_tensor("value", T.INT32, [1], [-3]), I32, (5,)),
                                ("scalar", make_tensor("value", T.FLOAT, [1], [1.5]), F, ())):
    kw = {"value": value} if value is not None else {}
    for opset in (9, 13):
        case("ten_constantofshape_%s_op%d" % (tag, opset),
             [make_node("ConstantOfShape", ["s"], ["c"], **kw), make_node("Add", ["c", "x"], ["y"])],
             inputs={"x": data(shp, dt_add) if dt_add != F else rand(*shp)}, outputs=["y"],
             initializers={"s": np.array(shp, dtype=I64)}, opset=opset)
case("ten_constantofshape_bool",
     [make_node("ConstantOfShape", ["s"], ["c"], value=make_tensor("value", T.BOOL, [1], [1])),
      make_node("And", ["c", "x"], ["y"])],
     inputs={"x": randbool(3, 4)}, outputs=["y"], initializers={"s": i64(3, 4)}, opset=13)
case("ten_constantofshape_zero_dim",
     [make_node("ConstantOfShape", ["s"], ["c"]), make_node("Concat", ["c", "x"], ["y"], axis=0)],
     inputs={"x": rand(2, 3)}, outputs=["y"], initializers={"s": i64(0, 3)}, opset=13)

EXPANDS = [("col", (3, 1), [3, 4]), ("rank_up", (4,), [2, 3, 4]), ("bidir", (3, 1), [2, 1, 6]),
           ("ones", (2, 1, 4), [1]), ("scalar", (), [2, 3]), ("zero", (1, 5), [0, 5]),
           ("big", (1, 16, 1, 1), [1, 16, 33, 35])]
for tag, xshape, shp in EXPANDS:
    for opset in (8, 13):
        if opset == 8 and tag not in ("col", "bidir"):
            continue
        for dt in (F, I64):
            if dt != F and opset != 13:
                continue
            one("ten_expand_%s_%s_op%d" % (tag, np.dtype(dt).name, opset), "Expand", ["x", "s"],
                inputs={"x": data(xshape, dt)}, inits={"s": np.array(shp, dtype=I64)}, opset=opset)
one("ten_expand_bool", "Expand", ["x", "s"], inputs={"x": randbool(1, 3)}, inits={"s": i64(4, 1, 3)}, opset=13)

RANGES = [("f32", F, 0.0, 5.0, 1.0), ("f32_frac", F, 1.0, 2.0, 0.1), ("f32_neg", F, 10.0, 4.0, -3.0),
          ("f32_empty", F, 5.0, 0.0, 1.0), ("f32_halves", F, -2.5, 2.5, 0.5), ("f32_long", F, 0.3, 100.0, 0.7),
          ("i64", I64, 0, 10, 3), ("i64_neg", I64, 10, -10, -4), ("i64_empty", I64, 3, 3, 1),
          ("i32", I32, -5, 5, 2), ("i32_neg", I32, 7, 0, -7)]
for tag, dt, s, l, d in RANGES:
    n = max(int(np.ceil((dt(l) - dt(s)) / dt(d))), 0)
    add = rand(n) if dt == F else randint(n, lo=-5, hi=5, dtype=dt)
    case("ten_range_%s" % tag, [make_node("Range", ["s", "l", "d"], ["r"]), make_node("Add", ["r", "x"], ["y"])],
         inputs={"x": add}, outputs=["y"],
         initializers={"s": np.array(s, dtype=dt), "l": np.array(l, dtype=dt), "d": np.array(d, dtype=dt)}, opset=11)

TILES = [("vec", (3,), [4]), ("rows", (2, 3), [2, 1]), ("cols", (2, 3), [1, 3]), ("all", (2, 1, 3), [2, 3, 2]),
         ("zero", (2, 3), [0, 2]), ("four", (1, 2, 3, 2), [2, 1, 1, 3]), ("big", (1, 16, 33, 35), [1, 2, 1, 1])]
for tag, xshape, reps in TILES:
    for opset in (7, 13):
        if opset == 7 and tag not in ("rows", "all"):
            continue
        for dt in (F, I64, np.bool_):
            if dt != F and (opset != 13 or tag == "big"):
                continue
            one("ten_tile_%s_%s_op%d" % (tag, np.dtype(dt).name, opset), "Tile", ["x", "r"],
                inputs={"x": data(xshape, dt)}, inits={"r": np.array(reps, dtype=I64)}, opset=opset)

for tag, c in (("f32", np.array([[0, 1.5, 0], [2, 0, -1]], dtype=F)),
               ("i64", np.array([[[0, 3], [0, 0]], [[7, 0], [0, 1]]], dtype=I64)),
               ("bool", np.array([True, False, True, True, False])),
               ("none", np.zeros((2, 3), dtype=F))):
    for opset in (9, 13):
        nnz = int(np.count_nonzero(c))
        case("ten_nonzero_%s_op%d" % (tag, opset), [make_node("NonZero", ["c"], ["nz"]),
                                                    make_node("Add", ["nz", "x"], ["y"])],
             inputs={"x": randint(c.ndim, nnz, lo=0, hi=100)}, outputs=["y"], initializers={"c": c}, opset=opset)

# ---- DepthToSpace / SpaceToDepth -----------------------------------------------------------------

for b, shp in ((2, (2, 8, 3, 5)), (3, (1, 18, 2, 3)), (2, (1, 64, 16, 17))):
    one("ten_depthtospace_b%d_%d_op7" % (b, shp[1]), "DepthToSpace", ["x"], inputs={"x": rand(*shp)}, opset=7,
        blocksize=b)
    for mode in ("DCR", "CRD"):
        for opset in (11, 13):
            one("ten_depthtospace_%s_b%d_%d_op%d" % (mode.lower(), b, shp[1], opset), "DepthToSpace", ["x"],
                inputs={"x": rand(*shp)}, opset=opset, blocksize=b, mode=mode)
for b, shp in ((2, (2, 3, 6, 4)), (3, (1, 2, 9, 6)), (2, (1, 16, 64, 66))):
    for opset in (7, 13):
        one("ten_spacetodepth_b%d_%d_op%d" % (b, shp[1], opset), "SpaceToDepth", ["x"], inputs={"x": rand(*shp)},
            opset=opset, blocksize=b)

# ---- chains exporters write ------------------------------------------------------------------

# x.view(x.size(0), -1) as exported by PyTorch: Shape -> Gather -> Unsqueeze -> Concat -> Reshape
case("ten_chain_flatten_view",
     [make_node("Shape", ["x"], ["s"]), make_node("Gather", ["s", "zero"], ["n"], axis=0),
      make_node("Unsqueeze", ["n", "ax0"], ["n1"]), make_node("Concat", ["n1", "minus1"], ["shp"], axis=0),
      make_node("Reshape", ["x", "shp"], ["y"])],
     inputs={"x": rand(2, 3, 4, 5)}, outputs=["y"],
     initializers={"zero": np.array(0, dtype=I64), "ax0": i64(0), "minus1": i64(-1)}, opset=13)
# channel shuffle (ShuffleNet): Reshape -> Transpose -> Reshape
case("ten_chain_channel_shuffle",
     [make_node("Reshape", ["x", "s1"], ["a"]), make_node("Transpose", ["a"], ["b"], perm=[0, 2, 1, 3, 4]),
      make_node("Reshape", ["b", "s2"], ["y"])],
     inputs={"x": rand(1, 12, 7, 9)}, outputs=["y"],
     initializers={"s1": i64(1, 2, 6, 7, 9), "s2": i64(1, -1, 7, 9)}, opset=13)
# YOLO-style head split: Slice on channels with Shape-derived ends, then Concat back
case("ten_chain_slice_shape",
     [make_node("Shape", ["x"], ["s"]), make_node("Slice", ["s", "one", "two"], ["c"]),
      make_node("Div", ["c", "two"], ["h"]), make_node("Slice", ["x", "zero", "h", "one"], ["a"]),
      make_node("Slice", ["x", "h", "big", "one"], ["b"]), make_node("Sigmoid", ["a"], ["sa"]),
      make_node("Concat", ["b", "sa"], ["y"], axis=1)],
     inputs={"x": rand(2, 6, 5)}, outputs=["y"],
     initializers={"one": i64(1), "two": i64(2), "zero": i64(0), "big": i64(IMAX)}, opset=13)
# mixed integer index math feeding Gather
case("ten_chain_index_math",
     [make_node("Range", ["r0", "rn", "r1"], ["r"]), make_node("Mul", ["r", "two"], ["r2"]),
      make_node("Gather", ["x", "r2"], ["y"], axis=1)],
     inputs={"x": rand(3, 10)}, outputs=["y"],
     initializers={"r0": np.array(0, dtype=I64), "rn": np.array(5, dtype=I64), "r1": np.array(1, dtype=I64),
                   "two": np.array(2, dtype=I64)}, opset=13)

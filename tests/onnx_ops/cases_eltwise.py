"""cases_eltwise.py — per-operator cases for the elementwise op group (src/engine/ops/eltwise.c),
checked against ONNX Runtime: unary maps, Clip, Cast, Dropout, Identity, the broadcasting binary
and variadic ops, comparisons, logic and Where.

Every case name starts with "elt_" (ONNX_OPS_FILTER=elt_ runs just these).  Shapes are odd on
purpose; the big ones (> 16K elements) run the chunked parallel paths under --threads 2.
FloorDiv is a detectd extension ONNX Runtime does not know: it is covered by the unit tests only.
"""

import numpy as np

from common import T, case, make_node, rand, randbool, randint

F = np.float32
I32 = np.int32
I64 = np.int64


def one(name, op, ins, outs=("y",), inputs=None, inits=None, opset=17, atol=None, rtol=None, **attrs):
    """A single-node case."""
    case(name, [make_node(op, list(ins), list(outs), **attrs)], inputs=inputs or {}, outputs=list(outs),
         initializers=inits, opset=opset, atol=atol, rtol=rtol)


SHAPES = {"s": (2, 3, 5, 7), "big": (1, 16, 33, 35), "scalar": (), "vec": (13,)}

# ---- unary float ops -------------------------------------------------------------------------

UNARY = [
    # op, lo, hi, opsets, attrs
    ("Relu", -3, 3, (7, 13, 14), {}),
    ("LeakyRelu", -3, 3, (7, 16), {}),
    ("Sigmoid", -12, 12, (7, 13), {}),
    ("HardSigmoid", -6, 6, (7,), {}),
    ("HardSwish", -7, 7, (14,), {}),
    ("Tanh", -5, 5, (7, 13), {}),
    ("Sqrt", 0, 50, (7, 13), {}),
    ("Exp", -20, 20, (7, 13), {}),
    ("Log", 0.001, 100, (7, 13), {}),
    ("Abs", -5, 5, (7, 13), {}),
    ("Neg", -5, 5, (7, 13), {}),
    ("Reciprocal", 0.1, 9, (7, 13), {}),
    ("Floor", -9, 9, (7, 13), {}),
    ("Ceil", -9, 9, (7, 13), {}),
    ("Round", -9, 9, (11,), {}),
    ("Erf", -3, 3, (9, 13), {}),
    ("Softplus", -20, 20, (7,), {}),
    ("Elu", -5, 5, (7,), {}),
    ("Selu", -5, 5, (7,), {}),
    ("Mish", -10, 10, (18,), {}),
    ("Sign", -3, 3, (9, 13), {}),
]

for op, lo, hi, opsets, attrs in UNARY:
    for opset in opsets:
        for sk in ("s", "big", "scalar"):
            if sk != "s" and opset != opsets[-1]:
                continue
            x = rand(*SHAPES[sk], lo=lo, hi=hi)
            one("elt_%s_op%d_%s" % (op.lower(), opset, sk), op, ["x"], inputs={"x": x}, opset=opset,
                rtol=1e-5, atol=1e-5, **attrs)

# exact halves for Round (half to even) and the integer boundary for Floor / Ceil / Sign
halves = np.array([-3.5, -2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.5, 0.0, -0.0, 2.4999, -2.5001, 1e7 + 0.5],
                  dtype=F)
one("elt_round_halves", "Round", ["x"], inputs={"x": halves}, opset=11)
for op in ("Floor", "Ceil", "Sign", "Abs", "Neg", "Relu"):
    one("elt_%s_edges" % op.lower(), op, ["x"], inputs={"x": halves}, opset=13)

# attribute variants
x = rand(3, 4, 5, lo=-4, hi=4)
one("elt_leakyrelu_alpha", "LeakyRelu", ["x"], inputs={"x": x}, alpha=0.37)
one("elt_leakyrelu_alpha_neg", "LeakyRelu", ["x"], inputs={"x": x}, alpha=-1.5)
one("elt_hardsigmoid_ab", "HardSigmoid", ["x"], inputs={"x": x}, alpha=0.3, beta=0.4)
one("elt_elu_alpha", "Elu", ["x"], inputs={"x": x}, alpha=0.3, rtol=1e-5, atol=1e-5)
one("elt_selu_ag", "Selu", ["x"], inputs={"x": x}, alpha=1.1, gamma=2.2, rtol=1e-5, atol=1e-5)

# integer unary ops
for dt in (I32, I64):
    n = dt.__name__
    xi = randint(4, 7, lo=-50, hi=50, dtype=dt)
    for op, opset in (("Abs", 13), ("Neg", 13), ("Sign", 13), ("Relu", 14)):
        if op == "Relu" and dt == I64:  # ORT has no int64 Relu
            continue
        one("elt_%s_%s" % (op.lower(), n), op, ["x"], inputs={"x": xi}, opset=opset)

# Not, Identity, Dropout
one("elt_not", "Not", ["x"], inputs={"x": randbool(3, 5, 7)}, opset=7)
one("elt_not_big", "Not", ["x"], inputs={"x": randbool(2, 100, 99)}, opset=13)
for dt, arr in ((F, rand(2, 3, 4)), (I64, randint(2, 3, 4, lo=-9, hi=9)), (np.bool_, randbool(5, 3)),
                (np.uint8, randint(7, lo=0, hi=255, dtype=np.uint8))):
    for opset in (13, 16, 19):
        one("elt_identity_%s_op%d" % (np.dtype(dt).name, opset), "Identity", ["x"], inputs={"x": arr},
            opset=opset)
# Identity of a constant feeding an op (the engine folds it)
case("elt_identity_const", [make_node("Identity", ["c"], ["ci"]), make_node("Add", ["x", "ci"], ["y"])],
     inputs={"x": rand(3, 4)}, outputs=["y"], initializers={"c": rand(3, 4)}, opset=13)

xd = rand(2, 3, 5, 4)
one("elt_dropout_op7", "Dropout", ["x"], inputs={"x": xd}, opset=7, ratio=0.3)
one("elt_dropout_op10_mask", "Dropout", ["x"], outs=("y", "mask"), inputs={"x": xd}, opset=10, ratio=0.5)
one("elt_dropout_op12", "Dropout", ["x"], inputs={"x": xd}, opset=12)
one("elt_dropout_op13_ratio", "Dropout", ["x", "r"], outs=("y", "mask"), inputs={"x": xd},
    inits={"r": np.array(0.25, dtype=F)}, opset=13)

# ---- Clip ------------------------------------------------------------------------------------

xc = rand(2, 3, 7, 5, lo=-3, hi=3)
for opset in (7, 10):  # attribute form (Clip-6)
    one("elt_clip_op%d_attrs" % opset, "Clip", ["x"], inputs={"x": xc}, opset=opset, min=-1.0, max=0.5)
    one("elt_clip_op%d_minonly" % opset, "Clip", ["x"], inputs={"x": xc}, opset=opset, min=0.0)
    one("elt_clip_op%d_default" % opset, "Clip", ["x"], inputs={"x": xc}, opset=opset)
for opset in (11, 12, 13):
    lo, hi = np.array(-0.7, dtype=F), np.array(1.2, dtype=F)
    one("elt_clip_op%d_both" % opset, "Clip", ["x", "lo", "hi"], inputs={"x": xc}, inits={"lo": lo, "hi": hi},
        opset=opset)
    one("elt_clip_op%d_min" % opset, "Clip", ["x", "lo"], inputs={"x": xc}, inits={"lo": lo}, opset=opset)
    one("elt_clip_op%d_max" % opset, "Clip", ["x", "", "hi"], inputs={"x": xc}, inits={"hi": hi}, opset=opset)
    one("elt_clip_op%d_none" % opset, "Clip", ["x"], inputs={"x": xc}, opset=opset)
# relu6 as exported by PyTorch; bounds as runtime inputs too
one("elt_clip_relu6_big", "Clip", ["x", "lo", "hi"], inputs={"x": rand(1, 16, 33, 35, lo=-3, hi=9)},
    inits={"lo": np.array(0, dtype=F), "hi": np.array(6, dtype=F)}, opset=13)
one("elt_clip_runtime_bounds", "Clip", ["x", "lo", "hi"],
    inputs={"x": xc, "lo": np.array(-0.2, dtype=F), "hi": np.array(0.9, dtype=F)}, opset=13)
one("elt_clip_min_gt_max", "Clip", ["x", "lo", "hi"], inputs={"x": xc},
    inits={"lo": np.array(1.0, dtype=F), "hi": np.array(-1.0, dtype=F)}, opset=13)
for dt in (I32, I64):
    xi = randint(3, 4, 5, lo=-100, hi=100, dtype=dt)
    one("elt_clip_%s" % dt.__name__, "Clip", ["x", "lo", "hi"], inputs={"x": xi},
        inits={"lo": np.array(-20, dtype=dt), "hi": np.array(35, dtype=dt)}, opset=13)
    one("elt_clip_%s_max" % dt.__name__, "Clip", ["x", "", "hi"], inputs={"x": xi},
        inits={"hi": np.array(7, dtype=dt)}, opset=12)

# ---- Cast ------------------------------------------------------------------------------------

xf = np.concatenate([rand(40, lo=-100, hi=100),
                     np.array([-2.7, -1.5, -0.5, -0.2, 0, 0.2, 0.5, 1.5, 2.7, 126.9, -127.9], dtype=F)])
for to, nm in ((T.INT32, "i32"), (T.INT64, "i64"), (T.INT8, "i8"), (T.BOOL, "bool"), (T.FLOAT, "f32"),
               (T.DOUBLE, "f64")):
    for opset in (7, 13, 19):
        one("elt_cast_f32_%s_op%d" % (nm, opset), "Cast", ["x"], inputs={"x": xf}, opset=opset, to=to)
one("elt_cast_f32_u8", "Cast", ["x"], inputs={"x": rand(5, 7, lo=0, hi=255)}, opset=13, to=T.UINT8)
xi64 = np.array([-(1 << 40), -70000, -129, -128, -1, 0, 1, 127, 128, 255, 256, 70000, 1 << 35], dtype=I64)
for to, nm in ((T.INT32, "i32"), (T.FLOAT, "f32"), (T.BOOL, "bool"), (T.UINT8, "u8"), (T.INT8, "i8"),
               (T.INT64, "i64")):
    one("elt_cast_i64_%s" % nm, "Cast", ["x"], inputs={"x": xi64}, opset=13, to=to)
xi32 = np.array([-70000, -129, -1, 0, 1, 200, 70000], dtype=I32)
for to, nm in ((T.INT64, "i64"), (T.FLOAT, "f32"), (T.BOOL, "bool"), (T.UINT8, "u8")):
    one("elt_cast_i32_%s" % nm, "Cast", ["x"], inputs={"x": xi32}, opset=13, to=to)
xb = randbool(4, 6)
for to, nm in ((T.FLOAT, "f32"), (T.INT64, "i64"), (T.INT32, "i32"), (T.UINT8, "u8"), (T.BOOL, "bool")):
    one("elt_cast_bool_%s" % nm, "Cast", ["x"], inputs={"x": xb}, opset=13, to=to)
xu8 = randint(3, 5, lo=0, hi=256, dtype=np.uint8)
for to, nm in ((T.FLOAT, "f32"), (T.INT64, "i64"), (T.INT32, "i32"), (T.BOOL, "bool"), (T.INT8, "i8")):
    one("elt_cast_u8_%s" % nm, "Cast", ["x"], inputs={"x": xu8}, opset=13, to=to)
xi8 = randint(3, 5, lo=-128, hi=128, dtype=np.int8)
for to, nm in ((T.FLOAT, "f32"), (T.INT64, "i64"), (T.UINT8, "u8")):
    one("elt_cast_i8_%s" % nm, "Cast", ["x"], inputs={"x": xi8}, opset=13, to=to)
# through float16 and back: values rounded to half precision
case("elt_cast_f16_roundtrip", [make_node("Cast", ["x"], ["h"], to=T.FLOAT16),
                                make_node("Cast", ["h"], ["y"], to=T.FLOAT)],
     inputs={"x": rand(6, 7, lo=-70, hi=70)}, outputs=["y"], opset=13, atol=0, rtol=0)
case("elt_cast_big", [make_node("Cast", ["x"], ["i"], to=T.INT64), make_node("Cast", ["i"], ["y"], to=T.FLOAT)],
     inputs={"x": rand(1, 16, 33, 35, lo=-1000, hi=1000)}, outputs=["y", "i"], opset=13)

# ---- binary broadcast ops --------------------------------------------------------------------

BCAST = [
    # tag, shape a, shape b
    ("same", (2, 3, 4, 5), (2, 3, 4, 5)),
    ("scalar_r", (2, 3, 5), ()),
    ("scalar_l", (), (3, 1, 7)),
    ("row", (3, 4, 7), (7,)),
    ("chan", (2, 5, 4, 3), (1, 5, 1, 1)),
    ("chan3", (2, 5, 4, 3), (5, 1, 1)),
    ("outer", (4, 1, 6), (1, 3, 1)),
    ("col", (5, 1), (1, 6)),
    ("lowrank_l", (4, 5), (2, 3, 4, 5)),
    ("mixed", (2, 1, 3, 1), (4, 1, 5)),
    ("one", (1,), (2, 3)),
    ("empty", (2, 0, 3), (3,)),
    ("big_chan", (1, 16, 33, 35), (1, 16, 1, 1)),
    ("big_same", (1, 16, 33, 35), (1, 16, 33, 35)),
    ("big_row", (2, 99, 101), (101,)),
]


def operands(op, dt, sa, sb):
    if dt == F:
        a = rand(*sa, lo=-4, hi=4)
        b = rand(*sb, lo=-4, hi=4)
        if op in ("Div", "Mod"):
            b = np.where(np.abs(b) < 0.1, F(0.5), b).astype(F)
        if op == "Pow":
            a = rand(*sa, lo=0.1, hi=3)
            b = rand(*sb, lo=-2, hi=2)
    else:
        a = randint(*sa, lo=-50, hi=50, dtype=dt)
        b = randint(*sb, lo=-9, hi=10, dtype=dt)
        if op in ("Div", "Mod"):
            b = np.where(b == 0, dt(3), b).astype(dt)
        if op == "Pow":
            a = randint(*sa, lo=-6, hi=7, dtype=dt)
            b = randint(*sb, lo=0, hi=6, dtype=dt)
    return a, b


for op, dts, opsets in (("Add", (F, I32, I64), (7, 13, 14)), ("Sub", (F, I32, I64), (7, 14)),
                        ("Mul", (F, I32, I64), (7, 14)), ("Div", (F, I32, I64), (7, 14)),
                        ("Pow", (F, I32, I64), (7, 13, 15))):
    for dt in dts:
        for tag, sa, sb in BCAST:
            if dt != F and tag.startswith("big") and tag != "big_chan":
                continue
            for opset in opsets:
                if opset != opsets[-1] and tag not in ("same", "chan", "scalar_r"):
                    continue
                if op == "Pow" and dt != F and opset < 12:
                    continue
                a, b = operands(op, dt, sa, sb)
                one("elt_%s_%s_%s_op%d" % (op.lower(), np.dtype(dt).name, tag, opset), op, ["a", "b"],
                    inputs={"a": a, "b": b}, opset=opset, rtol=1e-5, atol=1e-5)

# constant operands (weights / biases baked into the model) on either side
for op in ("Add", "Sub", "Mul", "Div"):
    a, b = operands(op, F, (2, 6, 5, 5), (6, 1, 1))
    one("elt_%s_const_r" % op.lower(), op, ["a", "b"], inputs={"a": a}, inits={"b": b}, opset=13)
    one("elt_%s_const_l" % op.lower(), op, ["b", "a"], inputs={"a": a}, inits={"b": b}, opset=13)

# integer division truncates toward zero
ia = np.array([7, -7, 7, -7, 6, -6, 0, 1, -1, 100, -100], dtype=I64)
ib = np.array([2, 2, -2, -2, 3, 3, 4, -3, 3, 7, 7], dtype=I64)
for dt in (I32, I64):
    one("elt_div_trunc_%s" % np.dtype(dt).name, "Div", ["a", "b"], inputs={"a": ia.astype(dt), "b": ib.astype(dt)},
        opset=14)

# Pow with mixed exponent types, and the x^2 / x^0.5 / x^3 shapes exporters produce
xp = rand(3, 4, 5, lo=-3, hi=3)
for dt in (I32, I64):
    one("elt_pow_f32_exp_%s" % np.dtype(dt).name, "Pow", ["a", "b"],
        inputs={"a": xp, "b": randint(3, 4, 5, lo=-2, hi=4, dtype=dt)}, opset=15, rtol=1e-5, atol=1e-5)
for e in (2.0, 3.0, 0.5, -1.0, 0.0):
    base = np.abs(xp) + F(0.1) if e == 0.5 else xp
    one("elt_pow_const_%s" % str(e).replace(".", "p").replace("-", "m"), "Pow", ["a", "e"],
        inputs={"a": base}, inits={"e": np.array(e, dtype=F)}, opset=13, rtol=1e-5, atol=1e-5)
one("elt_pow_sq_big", "Pow", ["a", "e"], inputs={"a": rand(1, 16, 33, 35, lo=-3, hi=3)},
    inits={"e": np.array([2.0], dtype=F)}, opset=13)
one("elt_pow_i64_f32exp", "Pow", ["a", "b"], inputs={"a": randint(4, 5, lo=1, hi=6, dtype=I64),
                                                      "b": np.full((5,), 2.0, dtype=F)}, opset=15)

# ---- Min / Max / Sum / Mean (variadic) -------------------------------------------------------

VAR_SHAPES = [
    ("one", [(3, 4, 5)]),
    ("two", [(3, 4, 5), (3, 4, 5)]),
    ("three", [(2, 3, 4), (3, 1), (4,)]),
    ("three_small_first", [(4,), (3, 1), (2, 3, 4)]),
    ("four", [(2, 1, 5), (3, 1), (5,), (2, 3, 5)]),
    ("big", [(1, 16, 33, 35), (16, 1, 1)]),
]
for op, dts in (("Max", (F, I32, I64)), ("Min", (F, I32, I64)), ("Sum", (F,)), ("Mean", (F,))):
    for dt in dts:
        for tag, shapes in VAR_SHAPES:
            if dt != F and tag == "big":
                continue
            names = ["x%d" % i for i in range(len(shapes))]
            ins = {}
            for nm, s in zip(names, shapes):
                ins[nm] = rand(*s, lo=-5, hi=5) if dt == F else randint(*s, lo=-99, hi=99, dtype=dt)
            for opset in (8, 13):
                if dt != F and opset < 12:
                    opset = 12
                one("elt_%s_%s_%s_op%d" % (op.lower(), np.dtype(dt).name, tag, opset), op, names, inputs=ins,
                    opset=opset, rtol=1e-5, atol=1e-5)
# opset 7: no broadcasting yet (Max-6 etc.), same shapes only
for op in ("Max", "Min", "Sum", "Mean"):
    one("elt_%s_op7" % op.lower(), op, ["a", "b", "c"],
        inputs={"a": rand(2, 3, 4), "b": rand(2, 3, 4), "c": rand(2, 3, 4)}, opset=7)
# constants mixed with runtime inputs
one("elt_max_const", "Max", ["a", "c"], inputs={"a": rand(2, 5, 3)}, inits={"c": np.array(0.1, dtype=F)},
    opset=13)
one("elt_min_i64_const", "Min", ["a", "c"], inputs={"a": randint(7, lo=-9, hi=9)},
    inits={"c": np.array([3], dtype=I64)}, opset=13)

# ---- Mod -------------------------------------------------------------------------------------

ma = np.array([7, -7, 7, -7, 6, -6, 0, 13, -13, 5, -5, 100], dtype=I64)
mb = np.array([3, 3, -3, -3, 3, -3, 5, 4, 4, -4, -4, 7], dtype=I64)
for dt in (I32, I64):
    for fm in (0, 1):
        for opset in (10, 13):
            one("elt_mod_%s_fmod%d_op%d" % (np.dtype(dt).name, fm, opset), "Mod", ["a", "b"],
                inputs={"a": ma.astype(dt), "b": mb.astype(dt)}, opset=opset, fmod=fm)
    one("elt_mod_%s_bcast" % np.dtype(dt).name, "Mod", ["a", "b"],
        inputs={"a": randint(3, 4, 5, lo=-50, hi=50, dtype=dt), "b": np.array([3, -4, 7, -2, 5], dtype=dt)},
        opset=13)
fa = np.array([5.5, -5.5, 5.5, -5.5, 0.0, 7.25, -1e-3], dtype=F)
fb = np.array([2.0, 2.0, -2.0, -2.0, 3.0, 0.5, 4.0], dtype=F)
one("elt_mod_f32_fmod1", "Mod", ["a", "b"], inputs={"a": fa, "b": fb}, opset=13, fmod=1)
one("elt_mod_f32_fmod1_bcast", "Mod", ["a", "b"], inputs={"a": rand(4, 3, 6, lo=-9, hi=9)},
    inits={"b": np.array([1.5, -2.0, 3.25], dtype=F).reshape(1, 3, 1)}, opset=13, fmod=1, atol=1e-5)

# ---- PRelu -----------------------------------------------------------------------------------

xpr = rand(2, 5, 6, 7, lo=-3, hi=3)
for opset in (7, 9, 16):
    one("elt_prelu_chan_op%d" % opset, "PRelu", ["x", "s"], inputs={"x": xpr},
        inits={"s": rand(5, 1, 1, lo=0, hi=0.5)}, opset=opset)
one("elt_prelu_scalar", "PRelu", ["x", "s"], inputs={"x": xpr}, inits={"s": np.array([0.2], dtype=F)}, opset=16)
one("elt_prelu_full", "PRelu", ["x", "s"], inputs={"x": xpr}, inits={"s": rand(2, 5, 6, 7)}, opset=16)
one("elt_prelu_last", "PRelu", ["x", "s"], inputs={"x": rand(3, 4, 8, lo=-2, hi=2)}, inits={"s": rand(8)},
    opset=16)
one("elt_prelu_runtime_slope", "PRelu", ["x", "s"], inputs={"x": xpr, "s": rand(5, 1, 1)}, opset=16)
one("elt_prelu_big", "PRelu", ["x", "s"], inputs={"x": rand(1, 16, 33, 35, lo=-2, hi=2)},
    inits={"s": rand(16, 1, 1)}, opset=16)

# ---- comparisons, logic, Where ---------------------------------------------------------------

CMP = [("Equal", (F, I32, I64, np.bool_), (7, 11, 13, 19)), ("Greater", (F, I32, I64), (7, 9, 13)),
       ("Less", (F, I32, I64), (7, 9, 13)), ("GreaterOrEqual", (F, I32, I64), (12, 16)),
       ("LessOrEqual", (F, I32, I64), (12, 16))]
for op, dts, opsets in CMP:
    for dt in dts:
        for tag, sa, sb in (("same", (3, 4, 5), (3, 4, 5)), ("row", (3, 4, 5), (5,)),
                            ("scalar", (2, 7), ()), ("outer", (4, 1), (1, 6)), ("big", (1, 16, 33, 35), (35,))):
            if dt != F and tag == "big":
                continue
            for opset in opsets:
                if opset != opsets[-1] and tag != "same":
                    continue
                # Equal-7 takes only ints/bool; Greater-7 / Less-7 only floats
                if opset == 7 and ((op == "Equal") == (dt == F)):
                    continue
                if dt == np.bool_:
                    if opset < 11:
                        continue
                    a, b = randbool(*sa), randbool(*sb)
                else:  # small integers so that equal pairs occur
                    a = randint(*sa, lo=-3, hi=4, dtype=I64).astype(dt)
                    b = randint(*sb, lo=-3, hi=4, dtype=I64).astype(dt)
                    if dt == F:
                        a = (a * F(0.5)).astype(F)
                        b = (b * F(0.5)).astype(F)
                one("elt_%s_%s_%s_op%d" % (op.lower(), np.dtype(dt).name, tag, opset), op, ["a", "b"],
                    inputs={"a": a, "b": b}, opset=opset)

for op in ("And", "Or", "Xor"):
    for tag, sa, sb in (("same", (3, 4, 5), (3, 4, 5)), ("row", (3, 4, 5), (5,)), ("scalar", (2, 7), ()),
                        ("outer", (4, 1, 3), (1, 6, 1)), ("big", (2, 100, 99), (100, 1))):
        for opset in (7, 13):
            if opset == 7 and tag != "same":
                continue
            one("elt_%s_%s_op%d" % (op.lower(), tag, opset), op, ["a", "b"],
                inputs={"a": randbool(*sa), "b": randbool(*sb)}, opset=opset)

WHERE = [("same", (3, 4), (3, 4), (3, 4)), ("cond_row", (4,), (3, 4), (3, 4)), ("scalar_y", (3, 4), (3, 4), ()),
         ("three_way", (2, 1, 4), (3, 1), (1, 4)), ("scalar_cond", (), (2, 3), (2, 3)),
         ("big", (1, 1, 33, 35), (1, 16, 33, 35), (16, 1, 1))]
for tag, sc, sx, sy in WHERE:
    for dt in (F, I64, I32, np.bool_, np.uint8):
        if dt == np.bool_:  # ORT has no bool Where kernel
            continue
        if dt not in (F, I64) and tag in ("big", "scalar_cond"):
            continue
        if dt == np.bool_:
            xw, yw = randbool(*sx), randbool(*sy)
        elif dt == F:
            xw, yw = rand(*sx), rand(*sy, lo=5, hi=6)
        else:
            xw, yw = randint(*sx, lo=0, hi=100, dtype=dt), randint(*sy, lo=100, hi=200, dtype=dt)
        for opset in (9, 16):
            if opset == 9 and (tag != "same" or dt in (np.bool_,)):
                continue
            one("elt_where_%s_%s_op%d" % (np.dtype(dt).name, tag, opset), "Where", ["c", "a", "b"],
                inputs={"c": randbool(*sc), "a": xw, "b": yw}, opset=opset)
# a typical masked fill: Where(x > t, x, 0) with constants
case("elt_where_masked_fill", [make_node("Greater", ["x", "t"], ["m"]), make_node("Where", ["m", "x", "z"], ["y"])],
     inputs={"x": rand(2, 3, 17)}, outputs=["y", "m"],
     initializers={"t": np.array(0.25, dtype=F), "z": np.array(0.0, dtype=F)}, opset=13)

# ---- small chains mixing the ops (activation blocks as exporters write them) -----------------

xs = rand(1, 8, 13, 11, lo=-4, hi=4)
case("elt_chain_silu", [make_node("Sigmoid", ["x"], ["s"]), make_node("Mul", ["x", "s"], ["y"])],
     inputs={"x": xs}, outputs=["y"], opset=13, rtol=1e-5, atol=1e-5)
case("elt_chain_hardswish_manual",
     [make_node("Add", ["x", "three"], ["a"]), make_node("Clip", ["a", "zero", "six"], ["c"]),
      make_node("Mul", ["x", "c"], ["m"]), make_node("Div", ["m", "six"], ["y"])],
     inputs={"x": xs}, outputs=["y"],
     initializers={"three": np.array(3, dtype=F), "zero": np.array(0, dtype=F), "six": np.array(6, dtype=F)},
     opset=13, rtol=1e-5, atol=1e-5)
case("elt_chain_gelu_erf",
     [make_node("Div", ["x", "sqrt2"], ["d"]), make_node("Erf", ["d"], ["e"]), make_node("Add", ["e", "one"], ["p"]),
      make_node("Mul", ["x", "p"], ["m"]), make_node("Mul", ["m", "half"], ["y"])],
     inputs={"x": xs}, outputs=["y"],
     initializers={"sqrt2": np.array(np.sqrt(2), dtype=F), "one": np.array(1, dtype=F),
                   "half": np.array(0.5, dtype=F)}, opset=13, rtol=1e-5, atol=1e-5)
case("elt_chain_int_index_math",
     [make_node("Mul", ["i", "w"], ["a"]), make_node("Add", ["a", "j"], ["b"]),
      make_node("Mod", ["b", "m"], ["c"]), make_node("Cast", ["c"], ["y"], to=T.FLOAT)],
     inputs={"i": randint(5, 1, lo=0, hi=20, dtype=I32), "j": randint(1, 6, lo=-5, hi=5, dtype=I32)},
     outputs=["y", "c"], initializers={"w": np.array(7, dtype=I32), "m": np.array(9, dtype=I32)}, opset=13)

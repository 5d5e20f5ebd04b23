"""Fusion patterns of src/engine/passes/fuse.c, checked against ONNX Runtime:
each graph is one the fuser rewrites (BN, bias and activations folded into
Conv, Pad folded into Conv pads, exported HardSwish/HardSigmoid spellings, also with other
constants (TF.js's fp16-rounded 1/6: the parametric HardSwishK), SiLU, Pad(-inf)
into MaxPool pads), plus near-misses it must leave alone (a second consumer, a
non-zero pad value, a clip bound that is not 0/6, pads as wide as the window)."""
import numpy as np

from common import case, make_node, rand

C = 8


def conv_inits(cin=4, cout=C, k=3):
    return {"w": rand(cout, cin, k, k, lo=-0.5, hi=0.5), "b": rand(cout)}


def scalar(v):
    return np.array(v, dtype=np.float32)


x = rand(1, 4, 11, 9, lo=-3, hi=3)

# Conv -> BatchNormalization -> Relu
inits = conv_inits()
inits.update({"s": rand(C, lo=0.5, hi=1.5), "bb": rand(C), "m": rand(C), "v": rand(C, lo=0.1, hi=1.0)})
case("fuse_conv_bn_relu",
     [make_node("Conv", ["x", "w", "b"], ["c"], pads=[1, 1, 1, 1]),
      make_node("BatchNormalization", ["c", "s", "bb", "m", "v"], ["n"], epsilon=1e-3),
      make_node("Relu", ["n"], ["y"])],
     inputs={"x": x}, outputs=["y"], initializers=inits, opset=13)

# Conv without bias -> Add(per-channel const) -> Add(per-channel const) -> Clip(0, 6)
inits = {"w": rand(C, 4, 3, 3, lo=-0.5, hi=0.5), "a1": rand(1, C, 1, 1), "a2": rand(C, 1, 1),
         "lo": scalar(0), "hi": scalar(6)}
case("fuse_conv_two_bias_adds_clip",
     [make_node("Conv", ["x", "w"], ["c"]),
      make_node("Add", ["c", "a1"], ["d"]),
      make_node("Add", ["a2", "d"], ["e"]),
      make_node("Clip", ["e", "lo", "hi"], ["y"])],
     inputs={"x": x}, outputs=["y"], initializers=inits, opset=13)

# Pad (zeros, spatial only) -> Conv; and a Pad with a non-zero value that must stay
inits = conv_inits()
inits["p"] = np.array([0, 0, 1, 2, 0, 0, 2, 1], dtype=np.int64)
case("fuse_pad_conv",
     [make_node("Pad", ["x", "p"], ["q"], mode="constant"),
      make_node("Conv", ["q", "w", "b"], ["y"], strides=[2, 1])],
     inputs={"x": x}, outputs=["y"], initializers=inits, opset=13)
inits = conv_inits()
inits["p"] = np.array([0, 0, 1, 1, 0, 0, 1, 1], dtype=np.int64)
inits["pv"] = scalar(0.5)
case("fuse_pad_nonzero_kept",
     [make_node("Pad", ["x", "p", "pv"], ["q"], mode="constant"),
      make_node("Conv", ["q", "w", "b"], ["y"])],
     inputs={"x": x}, outputs=["y"], initializers=inits, opset=13)

# SiLU: Conv -> Sigmoid, Mul(c, sigmoid)
case("fuse_conv_silu",
     [make_node("Conv", ["x", "w", "b"], ["c"], pads=[1, 1, 1, 1]),
      make_node("Sigmoid", ["c"], ["s"]),
      make_node("Mul", ["s", "c"], ["y"])],
     inputs={"x": x}, outputs=["y"], initializers=conv_inits(), opset=13)

# HardSwish, TF spelling: Mul(Mul(c, 1/6), Clip(Add(c, 3), 0, 6))
inits = conv_inits()
inits.update({"three": scalar(3), "sixth": scalar(1.0 / 6.0), "lo": scalar(0), "hi": scalar(6)})
case("fuse_hswish_tf",
     [make_node("Conv", ["x", "w", "b"], ["c"], pads=[1, 1, 1, 1]),
      make_node("Mul", ["c", "sixth"], ["m"]),
      make_node("Add", ["c", "three"], ["a"]),
      make_node("Clip", ["a", "lo", "hi"], ["r"]),
      make_node("Mul", ["m", "r"], ["y"])],
     inputs={"x": x}, outputs=["y"], initializers=inits, opset=13)

# HardSwish, torch spelling: Div(Mul(c, Clip(Add(c, 3), 0, 6)), 6)
inits = conv_inits()
inits.update({"three": scalar(3), "six": scalar(6), "lo": scalar(0), "hi": scalar(6)})
case("fuse_hswish_torch",
     [make_node("Conv", ["x", "w", "b"], ["c"], pads=[1, 1, 1, 1]),
      make_node("Add", ["c", "three"], ["a"]),
      make_node("Clip", ["a", "lo", "hi"], ["r"]),
      make_node("Mul", ["c", "r"], ["m"]),
      make_node("Div", ["m", "six"], ["y"])],
     inputs={"x": x}, outputs=["y"], initializers=inits, opset=13)

# HardSigmoid spelled out (SE gate): Conv -> Add(3) -> Clip(0,6) -> Mul(1/6) -> Mul(features)
inits = conv_inits()
inits.update({"three": scalar(3), "sixth": scalar(1.0 / 6.0), "lo": scalar(0), "hi": scalar(6)})
case("fuse_hsigmoid_gate",
     [make_node("Conv", ["x", "w", "b"], ["c"], pads=[1, 1, 1, 1]),
      make_node("Add", ["c", "three"], ["a"]),
      make_node("Clip", ["a", "lo", "hi"], ["r"]),
      make_node("Mul", ["r", "sixth"], ["g"]),
      make_node("Mul", ["g", "c2"], ["y"]),
      make_node("Conv", ["x", "w", "b"], ["c2"], pads=[1, 1, 1, 1])],
     inputs={"x": x}, outputs=["y"], initializers=inits, opset=13)

# Near miss: 1/6 rounded through float16 (as TF.js weights are) is not 1/6:
# the fuser must leave the graph as it is, and the answer stays exact.
inits = conv_inits()
inits.update({"three": scalar(3), "sixth": scalar(np.float16(1.0 / 6.0)), "lo": scalar(0), "hi": scalar(6)})
case("fuse_hswish_fp16_const",
     [make_node("Conv", ["x", "w", "b"], ["c"], pads=[1, 1, 1, 1]),
      make_node("Mul", ["c", "sixth"], ["m"]),
      make_node("Add", ["c", "three"], ["a"]),
      make_node("Clip", ["a", "lo", "hi"], ["r"]),
      make_node("Mul", ["m", "r"], ["y"])],
     inputs={"x": x}, outputs=["y"], initializers=inits, opset=13)

# Near miss: the conv output is also a graph output, so nothing may fuse away.
case("fuse_conv_relu_output_kept",
     [make_node("Conv", ["x", "w", "b"], ["c"]),
      make_node("Relu", ["c"], ["y"])],
     inputs={"x": x}, outputs=["y", "c"], initializers=conv_inits(), opset=13)

# Gemm + LeakyRelu, and Conv + HardSwish/HardSigmoid/LeakyRelu/Tanh nodes
case("fuse_gemm_leaky",
     [make_node("Gemm", ["a", "gw", "gb"], ["g"], transB=1),
      make_node("LeakyRelu", ["g"], ["y"], alpha=0.2)],
     inputs={"a": rand(3, 16)}, outputs=["y"],
     initializers={"gw": rand(5, 16), "gb": rand(5)}, opset=13)
for act, attrs in (("HardSwish", {}), ("HardSigmoid", {"alpha": 0.3, "beta": 0.4}),
                   ("LeakyRelu", {"alpha": 0.1}), ("Tanh", {}), ("Sigmoid", {})):
    case("fuse_conv_%s" % act.lower(),
         [make_node("Conv", ["x", "w", "b"], ["c"], group=1, strides=[2, 2]),
          make_node(act, ["c"], ["y"], **attrs)],
         inputs={"x": x}, outputs=["y"], initializers=conv_inits(), opset=14)

# nanodet's pattern on the Winograd path: Pad (zeros) -> 3x3 stride-1 Conv (20 -> 18
# channels, odd sizes) -> LeakyRelu, all folded into one Winograd conv
xw = rand(1, 20, 17, 15, lo=-3, hi=3)
inits = conv_inits(cin=20, cout=18)
inits["p"] = np.array([0, 0, 1, 1, 0, 0, 1, 1], dtype=np.int64)
case("fuse_pad_conv_leaky_wino",
     [make_node("Pad", ["x", "p"], ["q"], mode="constant"),
      make_node("Conv", ["q", "w", "b"], ["c"]),
      make_node("LeakyRelu", ["c"], ["y"], alpha=0.1)],
     inputs={"x": xw}, outputs=["y"], initializers=inits, opset=13)

# hard_swish with other constants: x * 0.2 * clip(x + 2.5, 0, 6) (HardSwishK, after a
# depthwise conv); a clip to 5 is not a hard_swish and must stay
for nm, hi in (("fuse_hswish_k_dw", 6.0), ("fuse_hswish_k_clip5_kept", 5.0)):
    inits = {"w": rand(6, 1, 3, 3, lo=-0.5, hi=0.5), "b": rand(6), "a": scalar(2.5), "k": scalar(0.2),
             "lo": scalar(0), "hi": scalar(hi)}
    case(nm,
         [make_node("Conv", ["x6", "w", "b"], ["c"], group=6, pads=[1, 1, 1, 1]),
          make_node("Mul", ["k", "c"], ["m"]),
          make_node("Add", ["c", "a"], ["s"]),
          make_node("Clip", ["s", "lo", "hi"], ["r"]),
          make_node("Mul", ["r", "m"], ["y"])],
         inputs={"x6": rand(1, 6, 9, 10, lo=-6, hi=6)}, outputs=["y"], initializers=inits, opset=13)

# Pad(-inf) -> MaxPool: folded into the pool's pads (nanodet's stem); with ceil_mode
# and with a finite pad value it must stay
for nm, pads, val, ceil in (("fuse_pad_maxpool", [0, 0, 1, 1, 0, 0, 1, 0], -np.inf, 0),
                            ("fuse_pad_maxpool_ceil_kept", [0, 0, 1, 1, 0, 0, 1, 1], -np.inf, 1),
                            ("fuse_pad_maxpool_finite_kept", [0, 0, 1, 1, 0, 0, 1, 1], -1.0, 0)):
    case(nm,
         [make_node("Pad", ["x", "p", "pv"], ["q"], mode="constant"),
          make_node("MaxPool", ["q"], ["y"], kernel_shape=[3, 3], strides=[2, 2], ceil_mode=ceil)],
         inputs={"x": x}, outputs=["y"],
         initializers={"p": np.array(pads, dtype=np.int64), "pv": scalar(val)}, opset=13)

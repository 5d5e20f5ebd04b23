"""cases_nn.py — per-operator cases for the neural-network op group (src/engine/ops/nn*.c),
checked against ONNX Runtime: Conv, ConvTranspose, BatchNormalization, InstanceNormalization,
LRN, MaxPool, AveragePool, GlobalAveragePool, GlobalMaxPool, Resize, Upsample, Pad, MatMul, Gemm,
Softmax, LogSoftmax, Reduce*, ArgMax, ArgMin, TopK.

Every case name starts with "nn_" (ONNX_OPS_FILTER=nn_ runs just these).  Shapes are odd on
purpose; attribute variants and the opsets where an op's form changed are covered.
"""

import numpy as np

from common import case, make_node, rand, randint

F = np.float32


def one(name, op, ins, outs=("y",), inputs=None, inits=None, opset=17, atol=None, rtol=None, **attrs):
    """A single-node case."""
    case(name, [make_node(op, list(ins), list(outs), **attrs)], inputs=inputs or {}, outputs=list(outs),
         initializers=inits, opset=opset, atol=atol, rtol=rtol)


# ---- Conv ------------------------------------------------------------------------------------

def conv_case(name, xs, cout, k, group=1, bias=True, w_input=False, opset=17, **attrs):
    cin = xs[1]
    w = rand(cout, cin // group, *k, lo=-0.5, hi=0.5)
    ins = ["x", "w"] + (["b"] if bias else [])
    inputs = {"x": rand(*xs)}
    inits = {}
    if w_input:
        inputs["w"] = w
    else:
        inits["w"] = w
    if bias:
        inits["b"] = rand(cout)
    if group != 1:
        attrs["group"] = group
    one(name, "Conv", ins, inputs=inputs, inits=inits, opset=opset, atol=1e-4, rtol=1e-4,
        kernel_shape=list(k), **attrs)


conv_case("nn_conv_basic", (1, 3, 7, 9), 4, (3, 3))
conv_case("nn_conv_nobias", (2, 3, 7, 9), 5, (3, 3), bias=False)
conv_case("nn_conv_pads", (2, 3, 8, 7), 4, (3, 3), pads=[1, 1, 1, 1])
conv_case("nn_conv_pads_asym", (1, 2, 9, 6), 3, (3, 3), pads=[0, 2, 1, 0])
conv_case("nn_conv_stride2", (1, 3, 9, 11), 4, (3, 3), strides=[2, 2], pads=[1, 1, 1, 1])
conv_case("nn_conv_stride3", (2, 2, 13, 10), 3, (3, 3), strides=[3, 3], pads=[1, 0, 2, 1])
conv_case("nn_conv_stride_mixed", (1, 3, 11, 12), 2, (3, 2), strides=[1, 3])
conv_case("nn_conv_dil2", (1, 3, 11, 9), 4, (3, 3), dilations=[2, 2], pads=[2, 2, 2, 2])
conv_case("nn_conv_dil_stride", (1, 2, 15, 14), 3, (3, 3), dilations=[2, 1], strides=[2, 3], pads=[1, 2, 0, 1])
conv_case("nn_conv_k1", (2, 5, 6, 7), 3, (1, 1))
# 1x1 convs at the plane sizes the fast path splits into column blocks (balanced to the
# vector, output channels split too on small planes): odd planes, M not a multiple of 8,
# K over one 128-deep chunk, groups, batch 2
conv_case("nn_conv_k1_13x13", (1, 64, 13, 13), 40, (1, 1))
conv_case("nn_conv_k1_26x26", (1, 24, 26, 26), 21, (1, 1))
conv_case("nn_conv_k1_45x47", (1, 16, 45, 47), 19, (1, 1))
conv_case("nn_conv_k1_deepk", (1, 200, 9, 11), 33, (1, 1))
conv_case("nn_conv_k1_group2_b2", (2, 12, 17, 19), 18, (1, 1), group=2)
conv_case("nn_conv_k1_tiny", (1, 7, 3, 5), 9, (1, 1))
# stride-1 depthwise read straight from the input plane (masked border blocks, plain inner
# ones): wide odd planes, asymmetric and oversized pads, 5x5, batch 2
conv_case("nn_conv_dw3_wide", (1, 5, 23, 53), 5, (3, 3), group=5, pads=[1, 1, 1, 1])
conv_case("nn_conv_dw3_nopad", (2, 3, 19, 37), 3, (3, 3), group=3)
conv_case("nn_conv_dw3_asym", (1, 4, 17, 40), 4, (3, 3), group=4, pads=[0, 2, 2, 0])
conv_case("nn_conv_dw3_bigpad", (1, 2, 6, 35), 2, (3, 3), group=2, pads=[3, 3, 3, 3])
conv_case("nn_conv_dw5_wide", (1, 6, 21, 50), 6, (5, 5), group=6, pads=[2, 2, 2, 2])
conv_case("nn_conv_dw5_asym", (2, 3, 11, 33), 3, (5, 5), group=3, pads=[1, 4, 3, 0])
conv_case("nn_conv_dw3_narrow", (1, 17, 5, 3), 17, (3, 3), group=17, pads=[1, 1, 1, 1])
conv_case("nn_conv_k5", (1, 2, 11, 13), 2, (5, 5), pads=[2, 2, 2, 2])
conv_case("nn_conv_rect", (1, 3, 9, 8), 4, (1, 3), pads=[0, 1, 0, 1])
conv_case("nn_conv_rect2", (1, 3, 9, 8), 4, (5, 1), pads=[2, 0, 2, 0])
conv_case("nn_conv_group2", (2, 4, 7, 9), 6, (3, 3), group=2, pads=[1, 1, 1, 1])
conv_case("nn_conv_group3_stride", (1, 6, 11, 7), 9, (3, 3), group=3, strides=[2, 2])
conv_case("nn_conv_depthwise", (1, 5, 9, 9), 5, (3, 3), group=5, pads=[1, 1, 1, 1])
conv_case("nn_conv_depthwise_s2", (2, 6, 10, 11), 6, (3, 3), group=6, strides=[2, 2], pads=[1, 1, 1, 1])
conv_case("nn_conv_depthwise_mult", (1, 3, 8, 8), 6, (3, 3), group=3, pads=[1, 1, 1, 1])
conv_case("nn_conv_depthwise_dil", (1, 4, 13, 12), 4, (3, 3), group=4, dilations=[2, 2], pads=[2, 2, 2, 2])
conv_case("nn_conv_same_upper", (1, 3, 9, 10), 4, (3, 3), auto_pad="SAME_UPPER")
conv_case("nn_conv_same_upper_s2", (1, 3, 9, 10), 4, (3, 3), auto_pad="SAME_UPPER", strides=[2, 2])
conv_case("nn_conv_same_lower_s2", (1, 3, 9, 10), 4, (4, 4), auto_pad="SAME_LOWER", strides=[2, 2])
conv_case("nn_conv_same_upper_k4", (1, 2, 8, 7), 3, (4, 2), auto_pad="SAME_UPPER")
conv_case("nn_conv_same_lower_k4", (1, 2, 8, 7), 3, (4, 2), auto_pad="SAME_LOWER")
conv_case("nn_conv_valid", (1, 3, 9, 10), 4, (3, 3), auto_pad="VALID", strides=[2, 2])
conv_case("nn_conv_w_input", (1, 3, 7, 7), 4, (3, 3), w_input=True, pads=[1, 1, 1, 1])
conv_case("nn_conv_1d", (2, 3, 17), 4, (3,), pads=[1, 1])
conv_case("nn_conv_1d_s2_dil", (1, 4, 23), 5, (5,), strides=[2], dilations=[2], pads=[3, 1])
conv_case("nn_conv_1d_group", (1, 4, 15), 4, (3,), group=2, auto_pad="SAME_UPPER")
conv_case("nn_conv_3d", (1, 2, 5, 6, 7), 3, (3, 3, 3), pads=[1, 1, 1, 1, 1, 1])
conv_case("nn_conv_3d_s2", (1, 2, 7, 6, 5), 2, (2, 3, 1), strides=[2, 1, 2], pads=[0, 1, 0, 1, 1, 0])
conv_case("nn_conv_opset7", (1, 3, 7, 9), 4, (3, 3), opset=7, pads=[1, 1, 1, 1])
conv_case("nn_conv_opset11", (1, 3, 7, 9), 4, (3, 3), opset=11, strides=[2, 1])
conv_case("nn_conv_big", (1, 16, 20, 21), 24, (3, 3), pads=[1, 1, 1, 1])
# Winograd F(4x4,3x3) path (stride-1 3x3, group 1, >= 16 channels): partial tiles,
# odd channel counts, tile rows wider than a vector, asymmetric / no / large pads, batch 2
conv_case("nn_conv_wino_15", (1, 19, 15, 15), 21, (3, 3), pads=[1, 1, 1, 1])
conv_case("nn_conv_3x3_13_direct", (1, 19, 13, 13), 21, (3, 3), pads=[1, 1, 1, 1])
conv_case("nn_conv_wino_nopad", (2, 16, 16, 17), 17, (3, 3))
conv_case("nn_conv_wino_asym", (1, 20, 9, 70), 18, (3, 3), pads=[0, 2, 1, 0])
conv_case("nn_conv_wino_pad2", (1, 24, 12, 13), 16, (3, 3), pads=[2, 2, 2, 2])
conv_case("nn_conv_wino_blocks", (1, 32, 30, 37), 40, (3, 3), auto_pad="SAME_UPPER")
# KxK convs on small maps (rows under ~90% of the vector lanes): the implicit GEMM
# over the flattened output plane, tiles spanning rows, stride 2, odd sizes, batch 2
conv_case("nn_conv_flat_s2_20", (1, 40, 20, 20), 36, (3, 3), strides=[2, 2], pads=[1, 1, 1, 1])
conv_case("nn_conv_flat_s1_10", (2, 24, 10, 10), 40, (3, 3), pads=[1, 1, 1, 1])
conv_case("nn_conv_flat_s2_odd", (2, 19, 25, 26), 21, (3, 3), strides=[2, 2], pads=[1, 1, 1, 1])
conv_case("nn_conv_flat_s1_13", (1, 33, 13, 13), 18, (3, 3), pads=[1, 0, 0, 1])
conv_case("nn_conv_flat_s2_5", (1, 17, 9, 9), 12, (3, 3), strides=[2, 2], pads=[1, 1, 1, 1])
conv_case("nn_conv_flat_s1_6", (2, 20, 6, 7), 9, (3, 3), pads=[1, 1, 1, 1], group=1)
conv_case("nn_conv_flat_deepk", (1, 160, 11, 12), 24, (3, 3), strides=[2, 2], pads=[1, 1, 1, 1])
conv_case("nn_conv_kernel_eq_input", (1, 3, 5, 5), 2, (5, 5))
conv_case("nn_conv_one_pixel", (1, 3, 1, 1), 2, (3, 3), pads=[1, 1, 1, 1])
# kernel_shape attribute left out: taken from W
one("nn_conv_no_kernel_shape", "Conv", ["x", "w"], inputs={"x": rand(1, 2, 6, 5)}, inits={"w": rand(3, 2, 2, 3)},
    atol=1e-5)

# ---- ConvTranspose ---------------------------------------------------------------------------

def convt_case(name, xs, cout, k, group=1, bias=True, opset=17, **attrs):
    cin = xs[1]
    inits = {"w": rand(cin, cout // group, *k, lo=-0.5, hi=0.5)}
    ins = ["x", "w"]
    if bias:
        inits["b"] = rand(cout)
        ins.append("b")
    if group != 1:
        attrs["group"] = group
    one(name, "ConvTranspose", ins, inputs={"x": rand(*xs)}, inits=inits, opset=opset, atol=1e-4, rtol=1e-4,
        **attrs)


convt_case("nn_convt_basic", (1, 3, 5, 6), 4, (3, 3))
convt_case("nn_convt_nobias", (2, 2, 4, 5), 3, (3, 3), bias=False)
convt_case("nn_convt_s2", (1, 3, 5, 6), 2, (3, 3), strides=[2, 2])
convt_case("nn_convt_s2_k2", (1, 4, 5, 7), 3, (2, 2), strides=[2, 2])
convt_case("nn_convt_s2_k4_p1", (1, 3, 6, 5), 2, (4, 4), strides=[2, 2], pads=[1, 1, 1, 1])
convt_case("nn_convt_s3_pads", (1, 2, 4, 5), 3, (3, 3), strides=[3, 2], pads=[1, 0, 2, 1])
convt_case("nn_convt_outpad", (1, 2, 5, 4), 3, (3, 3), strides=[2, 2], pads=[1, 1, 1, 1], output_padding=[1, 1])
convt_case("nn_convt_outpad_mixed", (1, 2, 5, 4), 3, (3, 3), strides=[2, 3], output_padding=[1, 2])
convt_case("nn_convt_dil", (1, 2, 5, 6), 3, (3, 3), dilations=[2, 2])
convt_case("nn_convt_dil_s2", (1, 2, 5, 6), 3, (3, 2), dilations=[2, 3], strides=[2, 2], pads=[1, 1, 0, 2])
convt_case("nn_convt_group2", (1, 4, 5, 5), 6, (3, 3), group=2, strides=[2, 2], pads=[1, 1, 1, 1])
convt_case("nn_convt_depthwise", (2, 3, 5, 4), 3, (4, 4), group=3, strides=[2, 2], pads=[1, 1, 1, 1])
convt_case("nn_convt_outshape", (1, 2, 5, 5), 3, (3, 3), strides=[2, 2], output_shape=[10, 10])
convt_case("nn_convt_outshape_odd", (1, 2, 4, 5), 3, (3, 3), strides=[2, 2], output_shape=[8, 9])
convt_case("nn_convt_outshape_same_upper", (1, 2, 4, 5), 3, (3, 3), strides=[2, 2], output_shape=[8, 10],
           auto_pad="SAME_UPPER")
convt_case("nn_convt_same_upper", (1, 2, 4, 5), 3, (3, 3), strides=[2, 2], auto_pad="SAME_UPPER")
convt_case("nn_convt_same_lower", (1, 2, 4, 5), 3, (4, 3), strides=[2, 2], auto_pad="SAME_LOWER")
convt_case("nn_convt_valid", (1, 2, 4, 5), 3, (3, 3), strides=[2, 2], auto_pad="VALID")
convt_case("nn_convt_1d", (2, 3, 7), 2, (3,), strides=[2], pads=[1, 0], output_padding=[1])
convt_case("nn_convt_3d", (1, 2, 3, 4, 3), 2, (2, 3, 2), strides=[2, 1, 2], pads=[0, 1, 0, 0, 1, 1])
convt_case("nn_convt_opset11", (1, 3, 5, 6), 4, (3, 3), opset=11, strides=[2, 2], pads=[1, 1, 1, 1])

# ---- BatchNormalization / InstanceNormalization / LRN ----------------------------------------

def bn_case(name, xs, opset=17, **attrs):
    c = xs[1]
    inits = {"s": rand(c, lo=0.5, hi=1.5), "b": rand(c), "m": rand(c), "v": rand(c, lo=0.1, hi=2.0)}
    one(name, "BatchNormalization", ["x", "s", "b", "m", "v"], inputs={"x": rand(*xs, lo=-2, hi=2)}, inits=inits,
        opset=opset, atol=1e-5, rtol=1e-5, **attrs)


bn_case("nn_bn_4d", (2, 3, 5, 7))
bn_case("nn_bn_eps", (1, 4, 3, 3), epsilon=0.1)
bn_case("nn_bn_2d", (5, 6))
bn_case("nn_bn_3d", (2, 3, 9))
bn_case("nn_bn_5d", (1, 2, 3, 4, 5))
bn_case("nn_bn_opset7", (2, 3, 5, 4), opset=7)
bn_case("nn_bn_opset9", (2, 3, 5, 4), opset=9, momentum=0.8)
bn_case("nn_bn_opset14", (2, 3, 5, 4), opset=14, training_mode=0)
bn_case("nn_bn_opset15", (2, 3, 5, 4), opset=15)

for nm, xs, eps in [("nn_instnorm_4d", (2, 3, 5, 7), 1e-5), ("nn_instnorm_3d", (2, 4, 11), 1e-3),
                    ("nn_instnorm_5d", (1, 2, 3, 4, 5), 1e-5), ("nn_instnorm_1px", (2, 3, 1, 1), 1e-5)]:
    c = xs[1]
    one(nm, "InstanceNormalization", ["x", "s", "b"], inputs={"x": rand(*xs, lo=-3, hi=3)},
        inits={"s": rand(c), "b": rand(c)}, opset=17, atol=1e-4, rtol=1e-4, epsilon=eps)
one("nn_instnorm_opset7", "InstanceNormalization", ["x", "s", "b"], inputs={"x": rand(1, 3, 4, 5)},
    inits={"s": rand(3), "b": rand(3)}, opset=7, atol=1e-4, rtol=1e-4)

one("nn_lrn_basic", "LRN", ["x"], inputs={"x": rand(2, 7, 5, 4)}, size=3, atol=1e-5, rtol=1e-5)
one("nn_lrn_size5", "LRN", ["x"], inputs={"x": rand(1, 9, 3, 5, lo=-3, hi=3)}, size=5, alpha=0.01, beta=0.5, bias=2.0,
    atol=1e-5, rtol=1e-5)
one("nn_lrn_size1", "LRN", ["x"], inputs={"x": rand(1, 6, 4, 3)}, size=1, alpha=0.02, atol=1e-5, rtol=1e-5)
one("nn_lrn_size7", "LRN", ["x"], inputs={"x": rand(2, 5, 3, 2)}, size=7, atol=1e-5, rtol=1e-5)
one("nn_lrn_opset7", "LRN", ["x"], inputs={"x": rand(1, 5, 4, 4)}, size=3, opset=7, atol=1e-5, rtol=1e-5)

# ---- pools -----------------------------------------------------------------------------------

def pool_case(name, op, xs, k, opset=17, indices=False, **attrs):
    outs = ["y", "i"] if indices else ["y"]
    one(name, op, ["x"], outs=outs, inputs={"x": rand(*xs, lo=-2, hi=2)}, opset=opset, kernel_shape=list(k),
        atol=1e-5, rtol=1e-5, **attrs)


for op, p in [("MaxPool", "max"), ("AveragePool", "avg")]:
    pool_case("nn_%s_basic" % p, op, (1, 3, 8, 9), (2, 2), strides=[2, 2])
    pool_case("nn_%s_k3s1" % p, op, (2, 2, 7, 6), (3, 3))
    pool_case("nn_%s_k3s2p1" % p, op, (1, 3, 9, 11), (3, 3), strides=[2, 2], pads=[1, 1, 1, 1])
    pool_case("nn_%s_asym_pads" % p, op, (1, 2, 8, 7), (3, 2), strides=[2, 1], pads=[0, 1, 2, 0])
    pool_case("nn_%s_ceil" % p, op, (1, 2, 8, 9), (3, 3), strides=[2, 2], ceil_mode=1)
    pool_case("nn_%s_ceil_pads" % p, op, (1, 2, 10, 9), (3, 3), strides=[2, 2], pads=[1, 1, 1, 1], ceil_mode=1)
    pool_case("nn_%s_ceil_s3" % p, op, (1, 2, 11, 7), (2, 2), strides=[3, 3], ceil_mode=1)
    pool_case("nn_%s_same_upper" % p, op, (1, 2, 9, 8), (3, 3), strides=[2, 2], auto_pad="SAME_UPPER")
    pool_case("nn_%s_same_lower" % p, op, (1, 2, 9, 8), (3, 3), strides=[2, 2], auto_pad="SAME_LOWER")
    pool_case("nn_%s_same_upper_k2" % p, op, (1, 2, 7, 8), (2, 2), strides=[1, 1], auto_pad="SAME_UPPER")
    pool_case("nn_%s_valid" % p, op, (1, 2, 9, 8), (3, 3), strides=[2, 2], auto_pad="VALID")
    pool_case("nn_%s_1d" % p, op, (2, 3, 13), (3,), strides=[2], pads=[1, 1])
    pool_case("nn_%s_3d" % p, op, (1, 2, 5, 6, 7), (2, 3, 2), strides=[2, 1, 2], pads=[0, 1, 1, 1, 1, 0])
    pool_case("nn_%s_opset7" % p, op, (1, 3, 8, 9), (3, 3), opset=7, strides=[2, 2], pads=[1, 1, 1, 1])
    pool_case("nn_%s_opset11" % p, op, (1, 3, 8, 9), (3, 3), opset=11, strides=[2, 2], ceil_mode=1)
    pool_case("nn_%s_big_k" % p, op, (1, 2, 13, 13), (5, 5), strides=[1, 1], pads=[2, 2, 2, 2])
# wide planes (several 16-lane vectors per row, masked tails, borders on both sides): the
# fused stride-2 row path of the CPU pools
for op, p in [("MaxPool", "max"), ("AveragePool", "avg")]:
    pool_case("nn_%s_wide_k3s2p1" % p, op, (1, 5, 37, 45), (3, 3), strides=[2, 2], pads=[1, 1, 1, 1])
    pool_case("nn_%s_wide_k2s2" % p, op, (2, 3, 40, 70), (2, 2), strides=[2, 2])
    pool_case("nn_%s_wide_k3s2_ceil" % p, op, (1, 4, 33, 50), (3, 3), strides=[2, 2], ceil_mode=1)
    pool_case("nn_%s_wide_k5s2p2" % p, op, (1, 3, 31, 67), (5, 5), strides=[2, 2], pads=[2, 2, 2, 2])
    pool_case("nn_%s_wide_k4s2_asym" % p, op, (1, 2, 30, 35), (4, 4), strides=[3, 2], pads=[0, 3, 1, 0])
    pool_case("nn_%s_wide_k1s2" % p, op, (1, 2, 9, 33), (1, 1), strides=[2, 2])
    pool_case("nn_%s_wide_k3s12" % p, op, (1, 2, 20, 96), (3, 3), strides=[1, 2], pads=[1, 1, 1, 1])
pool_case("nn_avg_wide_count_pad", "AveragePool", (1, 3, 29, 47), (3, 3), strides=[2, 2], pads=[1, 1, 1, 1],
          count_include_pad=1)
pool_case("nn_max_dil", "MaxPool", (1, 2, 11, 10), (3, 3), dilations=[2, 2])
pool_case("nn_max_dil_pads_s2", "MaxPool", (1, 2, 12, 11), (3, 2), dilations=[2, 3], strides=[2, 2], pads=[1, 1, 2, 1])
pool_case("nn_max_dil_ceil", "MaxPool", (1, 2, 12, 11), (2, 2), dilations=[2, 2], strides=[2, 2], ceil_mode=1)
pool_case("nn_max_opset8", "MaxPool", (1, 3, 8, 9), (3, 3), opset=8, strides=[2, 2])
pool_case("nn_max_opset10_ceil", "MaxPool", (1, 3, 8, 9), (3, 3), opset=10, strides=[2, 2], ceil_mode=1)
pool_case("nn_max_indices", "MaxPool", (2, 3, 8, 9), (3, 3), indices=True, strides=[2, 2], pads=[1, 1, 1, 1])
pool_case("nn_max_indices_col", "MaxPool", (2, 3, 8, 9), (2, 3), indices=True, strides=[2, 2], storage_order=1)
pool_case("nn_max_indices_1d", "MaxPool", (2, 3, 11), (3,), indices=True, strides=[2])
pool_case("nn_max_indices_opset8", "MaxPool", (1, 2, 7, 7), (2, 2), opset=8, indices=True, strides=[2, 2])
pool_case("nn_avg_count_pad", "AveragePool", (1, 2, 9, 8), (3, 3), strides=[2, 2], pads=[1, 1, 1, 1],
          count_include_pad=1)
pool_case("nn_avg_count_pad_asym", "AveragePool", (1, 2, 9, 8), (3, 2), strides=[1, 2], pads=[2, 0, 0, 1],
          count_include_pad=1)
pool_case("nn_avg_count_pad_ceil", "AveragePool", (1, 2, 10, 9), (3, 3), strides=[2, 2], pads=[1, 1, 1, 1],
          ceil_mode=1, count_include_pad=1)
pool_case("nn_avg_count_pad_same", "AveragePool", (1, 2, 9, 8), (3, 3), strides=[2, 2], auto_pad="SAME_UPPER",
          count_include_pad=1)
pool_case("nn_avg_dil_opset19", "AveragePool", (1, 2, 11, 10), (3, 3), opset=19, dilations=[2, 2], pads=[1, 1, 1, 1])
pool_case("nn_avg_opset10_ceil", "AveragePool", (1, 3, 8, 9), (3, 3), opset=10, strides=[2, 2], ceil_mode=1)

for op, p in [("GlobalAveragePool", "gap"), ("GlobalMaxPool", "gmp")]:
    for nm, xs in [("4d", (2, 3, 5, 7)), ("3d", (2, 5, 9)), ("5d", (1, 2, 3, 4, 5)), ("1px", (3, 4, 1, 1)),
                   ("big", (1, 16, 13, 11))]:
        one("nn_%s_%s" % (p, nm), op, ["x"], inputs={"x": rand(*xs, lo=-3, hi=3)}, atol=1e-5, rtol=1e-5)
one("nn_gap_opset7", "GlobalAveragePool", ["x"], inputs={"x": rand(1, 3, 4, 5)}, opset=7, atol=1e-5)

# ---- Resize / Upsample -----------------------------------------------------------------------

def resize_case(name, xs, scales=None, sizes=None, roi=None, opset=19, atol=1e-4, **attrs):
    inits = {}
    if opset >= 11:
        ins = ["x", "roi" if roi is not None else "", "scales" if scales is not None else "",
               "sizes" if sizes is not None else ""]
        if opset < 13:  # opset 11-12: roi and scales are required inputs; empty means absent
            ins[1] = "roi"
            ins[2] = "scales"
            inits["roi"] = np.array(roi if roi is not None else [], dtype=F)
            inits["scales"] = np.array(scales if scales is not None else [], dtype=F)
        while ins and ins[-1] == "":
            ins.pop()
        if roi is not None:
            inits["roi"] = np.array(roi, dtype=F)
    else:
        ins = ["x", "scales"]
    if scales is not None:
        inits["scales"] = np.array(scales, dtype=F)
    if sizes is not None:
        inits["sizes"] = np.array(sizes, dtype=np.int64)
    one(name, "Resize", ins, inputs={"x": rand(*xs, lo=-2, hi=2)}, inits=inits, opset=opset, atol=atol,
        rtol=1e-4, **attrs)


CTS = ["half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric"]
NMS = ["round_prefer_floor", "round_prefer_ceil", "floor", "ceil"]
for ct in CTS + ["tf_half_pixel_for_nn"]:
    for nm in NMS:
        resize_case("nn_resize_nearest_%s_%s_up" % (ct, nm), (1, 2, 5, 7), scales=[1, 1, 2, 3],
                    opset=11 if ct == "tf_half_pixel_for_nn" else 19, mode="nearest",
                    coordinate_transformation_mode=ct, nearest_mode=nm)
    resize_case("nn_resize_nearest_%s_down" % ct, (1, 2, 9, 11), sizes=[1, 2, 4, 5],
                opset=11 if ct == "tf_half_pixel_for_nn" else 19, mode="nearest", coordinate_transformation_mode=ct)
    resize_case("nn_resize_nearest_%s_frac" % ct, (1, 2, 6, 7), scales=[1, 1, 1.5, 0.6],
                opset=11 if ct == "tf_half_pixel_for_nn" else 19, mode="nearest", coordinate_transformation_mode=ct,
                nearest_mode="floor")
for ct in CTS + ["half_pixel_symmetric"]:
    resize_case("nn_resize_linear_%s_up" % ct, (1, 3, 5, 6), scales=[1, 1, 2, 2.5], mode="linear",
                coordinate_transformation_mode=ct)
    resize_case("nn_resize_linear_%s_down" % ct, (2, 2, 9, 10), sizes=[2, 2, 4, 3], mode="linear",
                coordinate_transformation_mode=ct)
    resize_case("nn_resize_linear_%s_1px" % ct, (1, 2, 4, 5), sizes=[1, 2, 1, 7], mode="linear",
                coordinate_transformation_mode=ct)
    resize_case("nn_resize_cubic_%s_up" % ct, (1, 2, 5, 6), scales=[1, 1, 2, 1.5], mode="cubic",
                coordinate_transformation_mode=ct)
    resize_case("nn_resize_cubic_%s_down" % ct, (1, 2, 11, 9), sizes=[1, 2, 5, 4], mode="cubic",
                coordinate_transformation_mode=ct)
resize_case("nn_resize_cubic_a05", (1, 2, 5, 6), scales=[1, 1, 2, 2], mode="cubic", cubic_coeff_a=-0.5)
resize_case("nn_resize_cubic_exclude", (1, 2, 5, 6), scales=[1, 1, 2, 1.7], mode="cubic", exclude_outside=1)
resize_case("nn_resize_cubic_exclude_down", (1, 2, 9, 8), sizes=[1, 2, 4, 3], mode="cubic", exclude_outside=1,
            cubic_coeff_a=-0.5)
resize_case("nn_resize_tf_crop_nearest", (1, 2, 8, 9), sizes=[1, 2, 5, 4], roi=[0, 0, 0.2, 0.1, 1, 1, 0.9, 0.7],
            mode="nearest", coordinate_transformation_mode="tf_crop_and_resize")
resize_case("nn_resize_tf_crop_linear_extrap", (1, 2, 6, 7), sizes=[1, 2, 7, 8],
            roi=[0, 0, -0.2, 0.1, 1, 1, 1.1, 1.3], mode="linear", coordinate_transformation_mode="tf_crop_and_resize",
            extrapolation_value=-7.5)
resize_case("nn_resize_tf_crop_cubic", (1, 1, 7, 6), sizes=[1, 1, 4, 5], roi=[0, 0, 0.1, 0.2, 1, 1, 0.8, 0.9],
            mode="cubic", coordinate_transformation_mode="tf_crop_and_resize")
# opset forms
resize_case("nn_resize_op10_nearest", (1, 2, 4, 5), scales=[1, 1, 2, 3], opset=10, mode="nearest")
resize_case("nn_resize_op10_nearest_down", (1, 2, 9, 7), scales=[1, 1, 0.5, 0.6], opset=10, mode="nearest")
resize_case("nn_resize_op10_linear", (1, 2, 4, 5), scales=[1, 1, 2, 1.5], opset=10, mode="linear")
resize_case("nn_resize_op10_linear_down", (1, 2, 9, 8), scales=[1, 1, 0.5, 0.7], opset=10, mode="linear")
resize_case("nn_resize_op11_scales", (1, 3, 5, 4), scales=[1, 1, 2, 2], opset=11, mode="nearest",
            coordinate_transformation_mode="asymmetric", nearest_mode="floor")
resize_case("nn_resize_op11_sizes", (1, 3, 5, 4), sizes=[1, 3, 9, 7], opset=11, mode="linear")
resize_case("nn_resize_op11_cubic", (1, 3, 5, 4), sizes=[1, 3, 9, 7], opset=11, mode="cubic")
resize_case("nn_resize_op13_scales", (2, 3, 5, 4), scales=[1, 1, 2, 2], opset=13, mode="linear",
            coordinate_transformation_mode="align_corners")
resize_case("nn_resize_op13_sizes", (2, 3, 5, 4), sizes=[2, 3, 3, 8], opset=13, mode="nearest")
resize_case("nn_resize_op18_axes_nhwc", (1, 5, 6, 3), scales=[2, 1.5], opset=18, mode="linear", axes=[1, 2])
resize_case("nn_resize_op18_axes_sizes", (1, 5, 6, 3), sizes=[9, 4], opset=18, mode="nearest", axes=[1, 2],
            coordinate_transformation_mode="asymmetric", nearest_mode="floor")
resize_case("nn_resize_op18_axes_neg", (2, 3, 5, 6), sizes=[7, 3], opset=18, mode="linear", axes=[-1, -2])
resize_case("nn_resize_op18_not_larger", (1, 2, 6, 9), sizes=[1, 2, 8, 8], opset=18, mode="nearest",
            keep_aspect_ratio_policy="not_larger")
resize_case("nn_resize_op18_not_smaller_axes", (1, 2, 6, 9), sizes=[8, 8], opset=18, mode="linear",
            keep_aspect_ratio_policy="not_smaller", axes=[2, 3])
resize_case("nn_resize_op18_not_smaller", (1, 2, 6, 9), sizes=[1, 2, 8, 8], opset=18, mode="nearest",
            keep_aspect_ratio_policy="not_smaller")
resize_case("nn_resize_op18_not_larger_axes", (1, 6, 9, 2), sizes=[5, 5], opset=18, mode="linear",
            keep_aspect_ratio_policy="not_larger", axes=[1, 2])
resize_case("nn_resize_trilinear", (1, 2, 3, 4, 5), scales=[1, 1, 2, 1.5, 0.8], opset=19, mode="linear")
resize_case("nn_resize_nearest_5d", (1, 2, 3, 4, 5), scales=[1, 1, 2, 1.5, 0.8], opset=19, mode="nearest")
resize_case("nn_resize_nearest_3d", (2, 3, 7), scales=[1, 1, 2.5], opset=19, mode="nearest")
resize_case("nn_resize_nearest_batch_chan", (2, 3, 4, 4), scales=[2, 1, 1.5, 1.5], opset=19, mode="nearest")
resize_case("nn_resize_linear_2d", (5, 7), sizes=[8, 12], opset=19, mode="linear")
resize_case("nn_resize_nearest_x2_yolo", (1, 8, 10, 10), scales=[1, 1, 2, 2], opset=13, mode="nearest",
            coordinate_transformation_mode="asymmetric", nearest_mode="floor")
resize_case("nn_resize_identity", (1, 2, 5, 6), scales=[1, 1, 1, 1], opset=19, mode="linear")

def upsample_case(name, xs, scales, opset, mode="nearest"):
    if opset >= 9:
        one(name, "Upsample", ["x", "scales"], inputs={"x": rand(*xs)}, inits={"scales": np.array(scales, dtype=F)},
            opset=opset, mode=mode, atol=1e-5, rtol=1e-5)
    else:
        one(name, "Upsample", ["x"], inputs={"x": rand(*xs)}, opset=opset, mode=mode, scales=[float(v) for v in scales],
            atol=1e-5, rtol=1e-5)


upsample_case("nn_upsample7_nearest", (1, 2, 4, 5), [1, 1, 2, 2], 7)
upsample_case("nn_upsample7_nearest_frac", (1, 2, 4, 5), [1, 1, 1.5, 2.5], 7)
upsample_case("nn_upsample7_linear", (1, 2, 4, 5), [1, 1, 2, 3], 7, "linear")
upsample_case("nn_upsample9_nearest", (2, 3, 3, 4), [1, 1, 3, 2], 9)
upsample_case("nn_upsample9_linear", (1, 2, 4, 5), [1, 1, 2, 1.5], 9, "linear")
upsample_case("nn_upsample9_linear_x2", (1, 3, 6, 7), [1, 1, 2, 2], 9, "linear")

# ---- Pad -------------------------------------------------------------------------------------

def pad_case(name, xs, pads, mode="constant", value=None, opset=19, axes=None, dtype=F):
    x = rand(*xs, lo=-5, hi=5).astype(dtype) if dtype == F else randint(*xs, lo=-50, hi=50, dtype=dtype)
    if opset < 11:
        attrs = {"pads": list(pads), "mode": mode}
        if value is not None:
            attrs["value"] = float(value)
        one(name, "Pad", ["x"], inputs={"x": x}, opset=opset, **attrs)
        return
    ins = ["x", "pads"]
    inits = {"pads": np.array(pads, dtype=np.int64)}
    if value is not None:
        ins.append("cv")
        inits["cv"] = np.array(value, dtype=dtype)
    if axes is not None:
        if value is None:
            ins.append("")
        ins.append("axes")
        inits["axes"] = np.array(axes, dtype=np.int64)
    one(name, "Pad", ins, inputs={"x": x}, inits=inits, opset=opset, mode=mode)


for mode in ["constant", "reflect", "edge"]:
    pad_case("nn_pad_%s_4d" % mode, (1, 3, 5, 6), [0, 0, 1, 2, 0, 0, 2, 1], mode)
    pad_case("nn_pad_%s_all_dims" % mode, (2, 3, 4, 5), [1, 0, 2, 1, 0, 1, 1, 3], mode)
    pad_case("nn_pad_%s_1d" % mode, (7,), [3, 2], mode)
    pad_case("nn_pad_%s_3d" % mode, (3, 4, 5), [0, 2, 3, 1, 1, 0], mode)
    pad_case("nn_pad_%s_op7" % mode, (1, 2, 4, 5), [0, 0, 1, 2, 0, 0, 2, 1], mode, opset=7)
    pad_case("nn_pad_%s_op10" % mode, (2, 3, 4), [1, 0, 2, 0, 1, 1], mode, opset=10)
    pad_case("nn_pad_%s_op11" % mode, (1, 2, 4, 5), [0, 0, 1, 2, 0, 0, 2, 1], mode, opset=11)
    pad_case("nn_pad_%s_op13" % mode, (1, 2, 4, 5), [0, 1, 1, 2, 0, 0, 2, 1], mode, opset=13)
    pad_case("nn_pad_%s_axes" % mode, (1, 3, 5, 6), [1, 2, 2, 1], mode, opset=18, axes=[2, 3])
    pad_case("nn_pad_%s_axes_neg" % mode, (2, 3, 5, 6), [2, 1, 0, 2], mode, opset=18, axes=[-1, 1])
pad_case("nn_pad_constant_value", (1, 2, 4, 5), [0, 0, 1, 2, 0, 0, 2, 1], value=1.5)
pad_case("nn_pad_constant_value_op7", (1, 2, 4, 5), [0, 0, 1, 2, 0, 0, 2, 1], value=-2.5, opset=7)
pad_case("nn_pad_constant_value_axes", (1, 2, 4, 5), [1, 2, 2, 1], value=3.0, opset=18, axes=[2, 3])
pad_case("nn_pad_negative", (2, 3, 6, 7), [0, 0, -1, 2, 0, 0, 1, -2])
pad_case("nn_pad_negative_edge", (2, 3, 6, 7), [0, -1, -1, 2, 0, 0, 1, -3], mode="edge")
pad_case("nn_pad_reflect_max", (1, 2, 4, 5), [0, 0, 3, 4, 0, 0, 3, 4], mode="reflect")
pad_case("nn_pad_int64", (2, 3, 4), [1, 0, 2, 0, 1, 1], dtype=np.int64)
pad_case("nn_pad_int64_value", (2, 3, 4), [1, 0, 2, 0, 1, 1], value=7, dtype=np.int64)
pad_case("nn_pad_int32_edge", (2, 3, 4), [1, 0, 2, 0, 1, 1], mode="edge", dtype=np.int32)
pad_case("nn_pad_zero", (2, 3, 4), [0, 0, 0, 0, 0, 0])
for mode in ["constant", "reflect", "edge", "wrap"]:
    pad_case("nn_pad_%s_op19" % mode, (1, 2, 5, 6), [0, 0, 2, 3, 0, 0, 1, 2], mode, opset=19)
pad_case("nn_pad_wrap_3d", (2, 3, 4), [1, 2, 3, 0, 3, 4], mode="wrap", opset=19)

# ---- MatMul / Gemm ---------------------------------------------------------------------------

def mm_case(name, a, b, opset=17, b_const=False):
    inputs = {"a": rand(*a)}
    inits = {}
    if b_const:
        inits["b"] = rand(*b)
    else:
        inputs["b"] = rand(*b)
    one(name, "MatMul", ["a", "b"], inputs=inputs, inits=inits, opset=opset, atol=1e-4, rtol=1e-4)


mm_case("nn_matmul_2d", (3, 5), (5, 7))
mm_case("nn_matmul_2d_const", (13, 17), (17, 9), b_const=True)
mm_case("nn_matmul_1d_1d", (7,), (7,))
mm_case("nn_matmul_1d_2d", (5,), (5, 3))
mm_case("nn_matmul_2d_1d", (4, 5), (5,))
mm_case("nn_matmul_1d_3d", (5,), (2, 5, 3))
mm_case("nn_matmul_3d_1d", (2, 4, 5), (5,))
mm_case("nn_matmul_3d_3d", (2, 3, 5), (2, 5, 4))
mm_case("nn_matmul_bcast_b", (2, 3, 5), (5, 4))
mm_case("nn_matmul_bcast_a", (3, 5), (4, 5, 2))
mm_case("nn_matmul_bcast_4d", (2, 1, 3, 5), (1, 3, 5, 4))
mm_case("nn_matmul_bcast_ranks", (3, 1, 2, 4, 5), (2, 5, 3))
mm_case("nn_matmul_opset9", (2, 3, 5), (2, 5, 4), opset=9)
mm_case("nn_matmul_opset7", (3, 5), (5, 2), opset=7)
mm_case("nn_matmul_k1", (4, 1), (1, 6))
mm_case("nn_matmul_big", (1, 33, 64), (64, 45), b_const=True)


def gemm_case(name, m, k, n, ta=0, tb=0, c_shape=(), alpha=None, beta=None, opset=17, c_input=False):
    a = rand(*((k, m) if ta else (m, k)))
    b = rand(*((n, k) if tb else (k, n)))
    attrs = {}
    if ta:
        attrs["transA"] = 1
    if tb:
        attrs["transB"] = 1
    if alpha is not None:
        attrs["alpha"] = alpha
    if beta is not None:
        attrs["beta"] = beta
    ins = ["a", "b"]
    inits = {"b": b}
    inputs = {"a": a}
    if c_shape is not None:
        ins.append("c")
        c = rand(*c_shape)
        if c_input:
            inputs["c"] = c
        else:
            inits["c"] = c
    one(name, "Gemm", ins, inputs=inputs, inits=inits, opset=opset, atol=1e-4, rtol=1e-4, **attrs)


gemm_case("nn_gemm_basic", 3, 5, 4, c_shape=(3, 4))
gemm_case("nn_gemm_nobias", 3, 5, 4, c_shape=None)
gemm_case("nn_gemm_transB", 2, 7, 5, tb=1, c_shape=(5,))
gemm_case("nn_gemm_transA", 4, 3, 6, ta=1, c_shape=(1, 6))
gemm_case("nn_gemm_transAB", 5, 4, 3, ta=1, tb=1, c_shape=(5, 1))
gemm_case("nn_gemm_alpha_beta", 3, 4, 5, alpha=0.5, beta=2.0, c_shape=(3, 5))
gemm_case("nn_gemm_scalar_c", 3, 4, 5, c_shape=(), beta=-1.0)
gemm_case("nn_gemm_c1", 3, 4, 5, c_shape=(1,))
gemm_case("nn_gemm_c_input", 3, 4, 5, c_shape=(3, 5), c_input=True)
gemm_case("nn_gemm_opset7", 3, 4, 5, tb=1, c_shape=(5,), opset=7)
gemm_case("nn_gemm_opset9", 3, 4, 5, c_shape=(3, 5), opset=9, alpha=1.5)
gemm_case("nn_gemm_opset11_noc", 3, 4, 5, c_shape=None, opset=11)
gemm_case("nn_gemm_fc", 2, 64, 37, tb=1, c_shape=(37,))

# ---- Softmax / LogSoftmax --------------------------------------------------------------------

for op, p in [("Softmax", "softmax"), ("LogSoftmax", "logsoftmax")]:
    for opset in (11, 13):
        one("nn_%s_op%d_default" % (p, opset), op, ["x"], inputs={"x": rand(2, 3, 5, lo=-4, hi=4)}, opset=opset,
            atol=1e-5, rtol=1e-5)
        for ax in (0, 1, 2, -1, -2):
            one("nn_%s_op%d_axis%d" % (p, opset, ax), op, ["x"], inputs={"x": rand(2, 3, 4, 5, lo=-4, hi=4)},
                opset=opset, axis=ax, atol=1e-5, rtol=1e-5)
    one("nn_%s_1d" % p, op, ["x"], inputs={"x": rand(9, lo=-10, hi=10)}, atol=1e-5, rtol=1e-5)
    one("nn_%s_large" % p, op, ["x"], inputs={"x": rand(3, 7, lo=-80, hi=80)}, atol=1e-5, rtol=1e-5)
    one("nn_%s_op7" % p, op, ["x"], inputs={"x": rand(3, 4, 2)}, opset=7, atol=1e-5, rtol=1e-5)
    one("nn_%s_op19" % p, op, ["x"], inputs={"x": rand(3, 4, 2)}, opset=19, axis=1, atol=1e-5, rtol=1e-5)

# ---- Reduce* ---------------------------------------------------------------------------------

REDUCES = ["ReduceMean", "ReduceMax", "ReduceMin", "ReduceSum", "ReduceProd"]


def reduce_case(name, op, xs, axes=None, keepdims=None, opset=17, noop=None, dtype=F):
    if dtype == F:
        x = rand(*xs, lo=0.5, hi=1.5) if op == "ReduceProd" else rand(*xs, lo=-3, hi=3)
    else:
        x = randint(*xs, lo=-3 if op == "ReduceProd" else -50, hi=4 if op == "ReduceProd" else 50, dtype=dtype)
    attrs = {}
    if keepdims is not None:
        attrs["keepdims"] = keepdims
    if noop is not None:
        attrs["noop_with_empty_axes"] = noop
    axes_as_input = opset >= 18 or (op == "ReduceSum" and opset >= 13)
    ins = ["x"]
    inits = {}
    if axes is not None:
        if axes_as_input:
            ins.append("axes")
            inits["axes"] = np.array(axes, dtype=np.int64)
        else:
            attrs["axes"] = list(axes)
    one(name, op, ins, inputs={"x": x}, inits=inits, opset=opset, atol=1e-4, rtol=1e-4, **attrs)


for op in REDUCES:
    p = op[6:].lower()
    for opset in (11, 13, 18):
        reduce_case("nn_reduce%s_op%d_ax1" % (p, opset), op, (2, 3, 4, 5), axes=[1], opset=opset)
        reduce_case("nn_reduce%s_op%d_ax23" % (p, opset), op, (2, 3, 4, 5), axes=[2, 3], opset=opset)
        reduce_case("nn_reduce%s_op%d_all" % (p, opset), op, (2, 3, 5), opset=opset)
        reduce_case("nn_reduce%s_op%d_neg_nokeep" % (p, opset), op, (3, 4, 5), axes=[-1, 0], keepdims=0,
                    opset=opset)
    reduce_case("nn_reduce%s_all_nokeep" % p, op, (3, 4), keepdims=0, opset=13)
    reduce_case("nn_reduce%s_noop" % p, op, (3, 4), opset=18, noop=1)
    reduce_case("nn_reduce%s_empty_axes_op18" % p, op, (3, 4), axes=[], opset=18)
    reduce_case("nn_reduce%s_1d" % p, op, (11,), axes=[0], keepdims=0, opset=13)
    reduce_case("nn_reduce%s_mid" % p, op, (2, 3, 4, 5, 3), axes=[1, 3], opset=13)
    if op != "ReduceMean":
        reduce_case("nn_reduce%s_int64" % p, op, (3, 4, 5), axes=[1], opset=13, dtype=np.int64)
        reduce_case("nn_reduce%s_int32" % p, op, (3, 4, 5), axes=[0, 2], keepdims=0, opset=13, dtype=np.int32)
reduce_case("nn_reducesum_noop_op13", "ReduceSum", (3, 4), opset=13, noop=1)

# ---- ArgMax / ArgMin -------------------------------------------------------------------------

for op in ("ArgMax", "ArgMin"):
    p = op.lower()
    for opset in (11, 13):
        for ax in (0, 1, 2, -1):
            one("nn_%s_op%d_axis%d" % (p, opset, ax), op, ["x"], inputs={"x": rand(3, 4, 5)}, outs=["y"],
                opset=opset, axis=ax)
        one("nn_%s_op%d_nokeep" % (p, opset), op, ["x"], inputs={"x": rand(3, 4, 5)}, opset=opset, axis=1,
            keepdims=0)
    one("nn_%s_default" % p, op, ["x"], inputs={"x": rand(4, 3)})
    ties = randint(4, 9, lo=0, hi=3).astype(F)
    one("nn_%s_ties_first" % p, op, ["x"], inputs={"x": ties}, opset=12, axis=1)
    one("nn_%s_ties_last" % p, op, ["x"], inputs={"x": ties}, opset=12, axis=1, select_last_index=1)
    one("nn_%s_ties_last_ax0" % p, op, ["x"], inputs={"x": ties}, opset=13, axis=0, select_last_index=1,
        keepdims=0)
    one("nn_%s_int64" % p, op, ["x"], inputs={"x": randint(3, 7, lo=-5, hi=5)}, opset=13, axis=1)
    one("nn_%s_int32" % p, op, ["x"], inputs={"x": randint(3, 7, lo=-5, hi=5, dtype=np.int32)}, opset=13, axis=0)

# ---- TopK ------------------------------------------------------------------------------------

def topk_case(name, x, k, opset=11, **attrs):
    if opset < 10:
        one(name, "TopK", ["x"], outs=["v", "i"], inputs={"x": x}, opset=opset, k=k, **attrs)
    else:
        one(name, "TopK", ["x", "k"], outs=["v", "i"], inputs={"x": x}, inits={"k": np.array([k], dtype=np.int64)},
            opset=opset, **attrs)


topk_case("nn_topk_op9", rand(3, 11), 4, opset=9)
topk_case("nn_topk_op9_axis0", rand(7, 5), 3, opset=9, axis=0)
topk_case("nn_topk_op10", rand(3, 11), 5, opset=10)
topk_case("nn_topk_op10_axis1", rand(2, 9, 4), 3, opset=10, axis=1)
topk_case("nn_topk_op11_smallest", rand(3, 11), 4, largest=0)
topk_case("nn_topk_op11_axis0_smallest", rand(6, 5, 2), 6, axis=0, largest=0)
topk_case("nn_topk_op11_kfull", rand(4, 7), 7)
topk_case("nn_topk_op11_k1", rand(4, 7), 1, axis=-1)
topk_case("nn_topk_op11_k0", rand(4, 7), 0)
topk_case("nn_topk_ties", randint(5, 12, lo=0, hi=4).astype(F), 6)
topk_case("nn_topk_ties_smallest", randint(5, 12, lo=0, hi=4).astype(F), 6, largest=0)
topk_case("nn_topk_ties_axis0", randint(10, 3, lo=0, hi=3).astype(F), 4, axis=0)
topk_case("nn_topk_int64", randint(4, 9, lo=-20, hi=20), 3)
topk_case("nn_topk_int64_ties", randint(4, 9, lo=0, hi=3), 5, largest=0)
topk_case("nn_topk_int32", randint(4, 9, lo=-20, hi=20, dtype=np.int32), 3, axis=1)
topk_case("nn_topk_big", rand(2, 1000), 100)
topk_case("nn_topk_op19", rand(3, 11), 4, opset=19)

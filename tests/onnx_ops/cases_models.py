"""cases_models.py — small synthetic detection networks (random weights) that
chain many operators the way real exports do, at several opsets:

  yolov5_*   Conv+SiLU blocks, C3-style Concat, Upsample/Resize, a Detect head
             (Reshape 5-D, Transpose, Sigmoid, grid/anchor math with Mul/Add/Pow);
             the opset-13+ variants build the grid in-graph (Shape, Gather,
             Range, Cast, Unsqueeze, Expand); opset 11 uses Constant nodes and a
             Resize whose sizes come from shape arithmetic.
  yolov8_*   DFL head: Reshape, Transpose, Softmax, 1x1 Conv (or MatMul),
             Split, Slice, Sub/Add/Div, Concat.
  ssd_*      BatchNorm, Relu6 as Clip, depthwise Conv, Softmax, Flatten, Gemm.
  nanodet_*  channel shuffle, Split, LeakyRelu/HardSwish, pools, GFL head.
  *_extdata  the same network saved with external data.
"""

import numpy as np

from onnx import helper

from common import case_model, build_model, make_node, rng, T

IMG = 64


class Net:
    """Accumulates nodes and initializers with unique names for one opset."""

    def __init__(self, opset, const_nodes=False):
        self.opset = opset
        self.const_nodes = const_nodes  # constants as Constant nodes instead of initializers
        self.nodes = []
        self.inits = {}
        self.k = 0
        self.r = rng()

    def name(self, prefix):
        self.k += 1
        return "%s_%d" % (prefix, self.k)

    def const(self, arr, prefix="c", as_node=None):
        arr = np.asarray(arr)
        n = self.name(prefix)
        if self.const_nodes if as_node is None else as_node:
            from onnx import numpy_helper
            self.nodes.append(make_node("Constant", [], [n], name=n + "_node",
                                        value=numpy_helper.from_array(arr, n)))
        else:
            self.inits[n] = arr
        return n

    def i64(self, vals):
        return self.const(np.array(vals, dtype=np.int64), "shape")

    def f32(self, vals):
        return self.const(np.array(vals, dtype=np.float32), "k")

    def op(self, op, inputs, n_out=1, out=None, **attrs):
        outs = out if out is not None else [self.name(op.lower()) for _ in range(n_out)]
        if isinstance(outs, str):
            outs = [outs]
        self.nodes.append(make_node(op, list(inputs), outs, name=self.name("n_" + op), **attrs))
        return outs[0] if len(outs) == 1 else outs

    # ---- layers ----
    def conv(self, x, cin, cout, k=3, s=1, g=1, bias=True, pad=None):
        fan = cin // g * k * k
        w = (self.r.standard_normal((cout, cin // g, k, k)) * np.sqrt(2.0 / fan)).astype(np.float32)
        ins = [x, self.const(w, "w")]
        if bias:
            ins.append(self.const((self.r.standard_normal(cout) * 0.1).astype(np.float32), "b"))
        p = k // 2 if pad is None else pad
        return self.op("Conv", ins, kernel_shape=[k, k], strides=[s, s], pads=[p, p, p, p], group=g,
                       dilations=[1, 1])

    def bn(self, x, c):
        sc = self.const(self.r.uniform(0.5, 1.5, c).astype(np.float32), "bn_s")
        bi = self.const((self.r.standard_normal(c) * 0.1).astype(np.float32), "bn_b")
        mu = self.const((self.r.standard_normal(c) * 0.1).astype(np.float32), "bn_m")
        var = self.const(self.r.uniform(0.5, 2.0, c).astype(np.float32), "bn_v")
        return self.op("BatchNormalization", [x, sc, bi, mu, var], epsilon=1e-3)

    def silu(self, x):
        return self.op("Mul", [x, self.op("Sigmoid", [x])])

    def conv_silu(self, x, cin, cout, k=3, s=1):
        return self.silu(self.conv(x, cin, cout, k, s))

    def clip(self, x, lo, hi):
        if self.opset < 11:
            return self.op("Clip", [x], min=float(lo), max=float(hi))
        return self.op("Clip", [x, self.f32(lo), self.f32(hi)])

    def slice(self, x, starts, ends, axes, steps=None):
        if self.opset < 10:
            assert steps is None
            return self.op("Slice", [x], starts=starts, ends=ends, axes=axes)
        ins = [x, self.i64(starts), self.i64(ends), self.i64(axes)]
        if steps is not None:
            ins.append(self.i64(steps))
        return self.op("Slice", ins)

    def split(self, x, sizes, axis):
        if self.opset < 13:
            return self.op("Split", [x], n_out=len(sizes), axis=axis, split=sizes)
        return self.op("Split", [x, self.i64(sizes)], n_out=len(sizes), axis=axis)

    def unsqueeze(self, x, axes):
        if self.opset < 13:
            return self.op("Unsqueeze", [x], axes=axes)
        return self.op("Unsqueeze", [x, self.i64(axes)])

    def reshape(self, x, shape):
        return self.op("Reshape", [x, self.i64(shape)])

    def transpose(self, x, perm):
        return self.op("Transpose", [x], perm=perm)

    def concat(self, xs, axis):
        return self.op("Concat", xs, axis=axis)

    def up2(self, x):
        """Nearest 2x upsampling in the form each opset's exporters used."""
        sc = [1.0, 1.0, 2.0, 2.0]
        if self.opset < 9:
            return self.op("Upsample", [x], mode="nearest", scales=sc)
        if self.opset < 10:
            return self.op("Upsample", [x, self.f32(sc)], mode="nearest")
        if self.opset < 11:
            return self.op("Resize", [x, self.f32(sc)], mode="nearest")
        roi = self.f32(np.zeros(0, np.float32)) if self.opset < 13 else ""
        return self.op("Resize", [x, roi, self.f32(sc)], mode="nearest",
                       coordinate_transformation_mode="asymmetric", nearest_mode="floor")

    def model(self, inputs, outputs, name):
        return build_model(self.nodes, inputs, outputs, self.inits, self.opset, name=name)


def images(c=3, h=IMG, w=IMG):
    return rng().uniform(0, 1, (1, c, h, w)).astype(np.float32)


# ---- YOLOv5-style ----------------------------------------------------------------

def yolov5(opset, const_nodes=False, dyn_grid=False, dyn_resize=False):
    n = Net(opset, const_nodes)
    x = "images"
    na, nc = 3, 4
    no = 5 + nc
    c1 = n.conv_silu(x, 3, 8, 3, 2)        # 32x32
    c2 = n.conv_silu(c1, 8, 16, 3, 2)      # 16x16
    # C3-ish block: two 1x1 branches, a bottleneck with residual, concat, 1x1
    a = n.conv_silu(c2, 16, 8, 1)
    a = n.op("Add", [a, n.conv_silu(n.conv_silu(a, 8, 8, 1), 8, 8, 3)])
    b = n.conv_silu(c2, 16, 8, 1)
    p3 = n.conv_silu(n.concat([a, b], 1), 16, 16, 1)   # stride 4? no: 16x16 at stride 4
    p3 = n.conv_silu(p3, 16, 16, 3, 2)                 # 8x8, stride 8
    p4 = n.conv_silu(p3, 16, 32, 3, 2)                 # 4x4, stride 16
    # SPPF-like: repeated MaxPool 5x5 s1
    m1 = n.op("MaxPool", [p4], kernel_shape=[5, 5], strides=[1, 1], pads=[2, 2, 2, 2])
    m2 = n.op("MaxPool", [m1], kernel_shape=[5, 5], strides=[1, 1], pads=[2, 2, 2, 2])
    p4 = n.conv_silu(n.concat([p4, m1, m2], 1), 96, 32, 1)
    # top-down: upsample p4 and merge with p3
    t = n.conv_silu(p4, 32, 16, 1)
    if dyn_resize:
        # sizes = Shape(p3)[2:4] glued to Shape(t)[0:2], the classic opset-11 export
        sh_t = n.op("Shape", [t])
        sh_p3 = n.op("Shape", [p3])
        nc_ = n.slice(sh_t, [0], [2], [0])
        hw = n.slice(sh_p3, [2], [4], [0])
        sizes = n.concat([nc_, hw], 0)
        roi = n.f32(np.zeros(0, np.float32)) if opset < 13 else ""
        sc = n.f32(np.zeros(0, np.float32)) if opset < 13 else ""
        u = n.op("Resize", [t, roi, sc, sizes], mode="nearest",
                 coordinate_transformation_mode="asymmetric", nearest_mode="floor")
    else:
        u = n.up2(t)
    f3 = n.conv_silu(n.concat([u, p3], 1), 32, 16, 3)
    f4 = n.conv_silu(n.concat([n.conv_silu(f3, 16, 16, 3, 2), t], 1), 32, 32, 3)
    outs = []
    anchors = np.array([[[10, 13], [16, 30], [33, 23]], [[30, 61], [62, 45], [59, 119]]], np.float32)
    for li, (f, cin, stride, hw) in enumerate([(f3, 16, 8, IMG // 8), (f4, 32, 16, IMG // 16)]):
        y = n.conv(f, cin, na * no, 1)
        y = n.reshape(y, [1, na, no, hw, hw])
        y = n.transpose(y, [0, 1, 3, 4, 2])
        y = n.op("Sigmoid", [y])
        if dyn_grid:
            sh = n.op("Shape", [f])
            H = n.op("Gather", [sh, n.const(np.array(2, np.int64), "idx")], axis=0)
            W = n.op("Gather", [sh, n.const(np.array(3, np.int64), "idx")], axis=0)
            zero = n.const(np.array(0, np.int64), "zero")
            one = n.const(np.array(1, np.int64), "one")
            rw = n.op("Cast", [n.op("Range", [zero, W, one])], to=T.FLOAT)
            rh = n.op("Cast", [n.op("Range", [zero, H, one])], to=T.FLOAT)
            hw_shape = n.concat([n.unsqueeze(H, [0]), n.unsqueeze(W, [0])], 0)
            gx = n.op("Expand", [n.unsqueeze(rw, [0]), hw_shape])
            gy = n.op("Expand", [n.unsqueeze(rh, [1]), hw_shape])
            grid = n.concat([n.unsqueeze(gx, [2]), n.unsqueeze(gy, [2])], 2)
            grid = n.unsqueeze(grid, [0, 1])
        else:
            gy_, gx_ = np.meshgrid(np.arange(hw), np.arange(hw), indexing="ij")
            grid = n.f32(np.stack([gx_, gy_], -1).reshape(1, 1, hw, hw, 2))
        xy = n.slice(y, [0], [2], [4])
        wh = n.slice(y, [2], [4], [4])
        conf = n.slice(y, [4], [no], [4])
        xy = n.op("Mul", [n.op("Add", [n.op("Sub", [n.op("Mul", [xy, n.f32(2.0)]), n.f32(0.5)]), grid]),
                          n.f32(float(stride))])
        ag = n.f32(anchors[li].reshape(1, na, 1, 1, 2))
        wh = n.op("Mul", [n.op("Pow", [n.op("Mul", [wh, n.f32(2.0)]), n.f32(2.0)]), ag])
        y = n.concat([xy, wh, conf], 4)
        outs.append(n.reshape(y, [1, na * hw * hw, no]))
    n.op("Concat", outs, out="output", axis=1)
    return n


# ---- YOLOv8-style (anchor-free, DFL) -------------------------------------------------

def yolov8(opset, matmul_dfl=False, const_of_shape=False):
    n = Net(opset)
    reg, nc = 4, 4
    c1 = n.conv_silu("images", 3, 8, 3, 2)
    c2 = n.conv_silu(c1, 8, 16, 3, 2)
    # C2f-ish: split in halves, bottleneck on one, concat all
    h = n.conv_silu(c2, 16, 16, 1)
    h1, h2 = n.split(h, [8, 8], 1)
    h3 = n.op("Add", [h2, n.conv_silu(n.conv_silu(h2, 8, 8, 3), 8, 8, 3)])
    p3 = n.conv_silu(n.conv_silu(n.concat([h1, h2, h3], 1), 24, 16, 1), 16, 16, 3, 2)  # 8x8
    p4 = n.conv_silu(p3, 16, 32, 3, 2)                                                  # 4x4
    levels = []
    anchors, strides = [], []
    for f, cin, stride in [(p3, 16, 8), (p4, 32, 16)]:
        hw = IMG // stride
        box = n.conv(n.conv_silu(f, cin, 16, 3), 16, 4 * reg, 1)
        cls = n.conv(n.conv_silu(f, cin, 16, 3), 16, nc, 1)
        levels.append(n.reshape(n.concat([box, cls], 1), [1, 4 * reg + nc, hw * hw]))
        ys, xs = np.meshgrid(np.arange(hw) + 0.5, np.arange(hw) + 0.5, indexing="ij")
        anchors.append(np.stack([xs.ravel(), ys.ravel()], 0))
        strides.append(np.full((1, hw * hw), stride))
    A = sum(a.shape[1] for a in anchors)
    cat = n.concat(levels, 2)                              # [1, 20, A]
    box, cls = n.split(cat, [4 * reg, nc], 1)
    if matmul_dfl:
        # Softmax on the last axis, expectation as MatMul (older exports)
        b = n.transpose(n.reshape(box, [1, 4, reg, A]), [0, 1, 3, 2])      # [1,4,A,reg]
        b = n.op("Softmax", [b], axis=3)
        b = n.op("MatMul", [b, n.f32(np.arange(reg, dtype=np.float32).reshape(reg, 1))])  # [1,4,A,1]
        dist = n.reshape(b, [1, 4, A])
    else:
        b = n.transpose(n.reshape(box, [1, 4, reg, A]), [0, 2, 1, 3])      # [1,reg,4,A]
        b = n.op("Softmax", [b], axis=1)
        w = np.arange(reg, dtype=np.float32).reshape(1, reg, 1, 1)
        b = n.op("Conv", [b, n.const(w, "dfl")], kernel_shape=[1, 1])      # [1,1,4,A]
        dist = n.reshape(b, [1, 4, A])
    lt = n.slice(dist, [0], [2], [1])
    rb = n.slice(dist, [2], [4], [1])
    anc = n.f32(np.concatenate(anchors, 1).reshape(1, 2, A))
    x1y1 = n.op("Sub", [anc, lt])
    x2y2 = n.op("Add", [anc, rb])
    cxy = n.op("Div", [n.op("Add", [x1y1, x2y2]), n.f32(2.0)])
    wh = n.op("Sub", [x2y2, x1y1])
    st = n.f32(np.concatenate(strides, 1).reshape(1, 1, A))
    if const_of_shape:
        ones = n.op("ConstantOfShape", [n.op("Shape", [st])],
                    value=helper.make_tensor("v", T.FLOAT, [1], [1.0]))
        st = n.op("Mul", [st, ones])
    dbox = n.op("Mul", [n.concat([cxy, wh], 1), st])
    n.op("Concat", [dbox, n.op("Sigmoid", [cls])], out="output0", axis=1)
    return n


# ---- SSD-like (MobileNet backbone) ------------------------------------------------------

def ssd(opset):
    n = Net(opset)
    nc, na = 5, 3

    def cbr(x, cin, cout, k=3, s=1, g=1):
        return n.clip(n.bn(n.conv(x, cin, cout, k, s, g, bias=False), cout), 0.0, 6.0)

    def dw_sep(x, cin, cout, s):
        return cbr(cbr(x, cin, cin, 3, s, g=cin), cin, cout, 1)

    x = cbr("images", 3, 8, 3, 2)          # 32
    x = dw_sep(x, 8, 16, 2)                # 16
    f1 = dw_sep(x, 16, 24, 2)              # 8
    f2 = dw_sep(f1, 24, 32, 2)             # 4
    locs, confs = [], []
    for f, c in [(f1, 24), (f2, 32)]:
        loc = n.transpose(n.conv(f, c, na * 4, 3), [0, 2, 3, 1])
        locs.append(n.op("Flatten", [loc], axis=1))
        conf = n.transpose(n.conv(f, c, na * nc, 3), [0, 2, 3, 1])
        confs.append(n.reshape(conf, [1, -1, nc]))
    n.op("Concat", locs, out="loc", axis=1)
    n.op("Softmax", [n.concat(confs, 1)], out="conf", axis=2)
    # an image-level classifier branch
    g = n.op("Flatten", [n.op("GlobalAveragePool", [f2])], axis=1)
    wt = (n.r.standard_normal((10, 32)) * 0.2).astype(np.float32)
    n.op("Gemm", [g, n.const(wt, "fc_w"), n.const(np.zeros(10, np.float32) + 0.1, "fc_b")], out="logits",
         transB=1, alpha=1.0, beta=1.0)
    return n


# ---- NanoDet/PicoDet-like ------------------------------------------------------------------

def nanodet(opset):
    n = Net(opset)
    nc, reg = 4, 7

    def act(x):
        if opset >= 14:
            return n.op("HardSwish", [x])
        return n.op("LeakyRelu", [x], alpha=0.1)

    def shuffle_block(x, c, hw):
        a, b = n.split(x, [c // 2, c // 2], 1)
        b = act(n.bn(n.conv(b, c // 2, c // 2, 1, bias=False), c // 2))
        b = n.bn(n.conv(b, c // 2, c // 2, 3, 1, g=c // 2, bias=False), c // 2)
        b = act(n.bn(n.conv(b, c // 2, c // 2, 1, bias=False), c // 2))
        y = n.concat([a, b], 1)
        y = n.reshape(y, [1, 2, c // 2, hw, hw])
        y = n.transpose(y, [0, 2, 1, 3, 4])
        return n.reshape(y, [1, c, hw, hw])

    x = act(n.bn(n.conv("images", 3, 16, 3, 2, bias=False), 16))                 # 32
    x = n.op("MaxPool", [x], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])  # 16
    x = shuffle_block(x, 16, 16)
    f1 = act(n.bn(n.conv(x, 16, 24, 3, 2, bias=False), 24))                      # 8
    f1 = shuffle_block(f1, 24, 8)
    f2 = n.op("AveragePool", [f1], kernel_shape=[2, 2], strides=[2, 2])          # 4
    f2 = act(n.conv(f2, 24, 24, 1))
    # PAN-lite: upsample f2 and add to f1
    f1 = n.op("Add", [f1, n.up2(f2)])
    scores, boxes = [], []
    for f, stride in [(f1, 8), (f2, 16)]:
        hw = IMG // stride
        h = act(n.conv(f, 24, 24, 3, 1, g=24))
        h = n.conv(h, 24, nc + 4 * (reg + 1), 1)
        h = n.transpose(n.reshape(h, [1, nc + 4 * (reg + 1), hw * hw]), [0, 2, 1])   # [1,HW,C]
        cls = n.slice(h, [0], [nc], [2])
        box = n.slice(h, [nc], [nc + 4 * (reg + 1)], [2])
        scores.append(n.op("Sigmoid", [cls]))
        d = n.op("Softmax", [n.reshape(box, [1, hw * hw, 4, reg + 1])], axis=3)
        d = n.op("MatMul", [d, n.f32(np.arange(reg + 1, dtype=np.float32).reshape(reg + 1, 1))])
        d = n.op("Mul", [n.reshape(d, [1, hw * hw, 4]), n.f32(float(stride))])
        boxes.append(d)
    n.op("Concat", scores, out="scores", axis=1)
    b = n.concat(boxes, 1)
    # ltrb distances -> boxes around cell centres, clipped to the image
    cells = []
    for stride in (8, 16):
        hw = IMG // stride
        ys, xs = np.meshgrid((np.arange(hw) + 0.5) * stride, (np.arange(hw) + 0.5) * stride, indexing="ij")
        cells.append(np.stack([xs.ravel(), ys.ravel()], 1))
    ctr = np.concatenate(cells, 0)[None].astype(np.float32)       # [1,A,2]
    ctr4 = n.f32(np.concatenate([ctr, ctr], 2))
    sign = n.f32(np.array([-1, -1, 1, 1], np.float32))
    n.op("Clip", [n.op("Add", [ctr4, n.op("Mul", [b, sign])]), n.f32(0.0), n.f32(float(IMG))], out="boxes")
    return n


def register(name, net, outputs, atol=None, rtol=None, external_data=False):
    imgs = images()
    case_model(name, net.model({"images": imgs}, outputs, name), {"images": imgs}, atol=atol, rtol=rtol,
               external_data=external_data)


for op_ in (7, 9, 13, 17, 19):
    register("model_yolov5_op%d" % op_, yolov5(op_, dyn_grid=op_ >= 13), ["output"])
register("model_yolov5_op11_constnodes", yolov5(11, const_nodes=True, dyn_resize=True), ["output"])
register("model_yolov5_op13_extdata", yolov5(13), ["output"], external_data=True)
for op_ in (11, 13, 17, 19):
    register("model_yolov8_op%d" % op_, yolov8(op_, matmul_dfl=op_ == 11, const_of_shape=op_ >= 17), ["output0"])
for op_ in (7, 9, 11, 13):
    register("model_ssd_op%d" % op_, ssd(op_), ["loc", "conf", "logits"])
for op_ in (11, 13, 17):
    register("model_nanodet_op%d" % op_, nanodet(op_), ["scores", "boxes"])

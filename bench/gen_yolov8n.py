"""gen_yolov8n.py — write a YOLOv8n-shaped ONNX model with random weights, for
benchmarking detectd against ONNX Runtime on a network that is not one of the
project's test models (so speed is not tuned to two files).

    /usr/bin/python3 bench/gen_yolov8n.py OUT.onnx [SIZE] [WIDTH]

SIZE is the square input edge (default 320), WIDTH the channel multiplier of
the stage widths 16, 32, 64, 128, 256 (default 1.0 = YOLOv8n).  The graph is
what an Ultralytics export looks like after BatchNorm folding: Conv (+bias),
SiLU as Sigmoid * Mul, C2f blocks (Split, bottlenecks with residual Add,
Concat), SPPF (three MaxPool 5x5), an FPN/PAN neck (Resize nearest x2,
Concat), decoupled box/class heads and a Concat of all levels to
[1, 4*16 + 80, anchors] with Sigmoid on the classes.  Use it with
bench/compare.sh, e.g.

    MODELS="yolov8n_like|/tmp/y8.onnx|onnx|1,3,320,320" sh bench/compare.sh 3
"""

import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


class Net:
    def __init__(self, seed=0):
        self.nodes, self.inits, self.k = [], [], 0
        self.r = np.random.default_rng(seed)

    def name(self, p):
        self.k += 1
        return "%s_%d" % (p, self.k)

    def const(self, arr, p="c"):
        n = self.name(p)
        self.inits.append(numpy_helper.from_array(np.asarray(arr), n))
        return n

    def op(self, op, ins, n_out=1, **attrs):
        outs = [self.name(op.lower()) for _ in range(n_out)]
        self.nodes.append(helper.make_node(op, ins, outs, name=self.name("n_" + op), **attrs))
        return outs[0] if n_out == 1 else outs

    def conv(self, x, cin, cout, k=1, s=1, act=True):
        fan = cin * k * k
        w = (self.r.standard_normal((cout, cin, k, k)) * np.sqrt(2.0 / fan)).astype(np.float32)
        b = (self.r.standard_normal(cout) * 0.1).astype(np.float32)
        y = self.op("Conv", [x, self.const(w, "w"), self.const(b, "b")], kernel_shape=[k, k], strides=[s, s],
                    pads=[k // 2] * 4)
        return self.op("Mul", [y, self.op("Sigmoid", [y])]) if act else y

    def c2f(self, x, cin, cout, n, shortcut):
        c = cout // 2
        y = self.conv(x, cin, 2 * c, 1)
        parts = list(self.op("Split", [y, self.const(np.array([c, c], np.int64), "split")], n_out=2, axis=1))
        for _ in range(n):
            h = self.conv(self.conv(parts[-1], c, c, 3), c, c, 3)
            parts.append(self.op("Add", [parts[-1], h]) if shortcut else h)
        return self.conv(self.op("Concat", parts, axis=1), (2 + n) * c, cout, 1)

    def sppf(self, x, cin, cout):
        c = cin // 2
        y = self.conv(x, cin, c, 1)
        m = [y]
        for _ in range(3):
            m.append(self.op("MaxPool", [m[-1]], kernel_shape=[5, 5], strides=[1, 1], pads=[2, 2, 2, 2]))
        return self.conv(self.op("Concat", m, axis=1), 4 * c, cout, 1)

    def up2(self, x):
        return self.op("Resize", [x, "", self.const(np.array([1, 1, 2, 2], np.float32), "scales")], mode="nearest")


def build(size=320, width=1.0):
    ch = [max(8, int(round(c * width / 8)) * 8) for c in (16, 32, 64, 128, 256)]
    n = Net()
    x = n.conv("images", 3, ch[0], 3, 2)                      # /2
    x = n.conv(x, ch[0], ch[1], 3, 2)                         # /4
    x = n.c2f(x, ch[1], ch[1], 1, True)
    x = n.conv(x, ch[1], ch[2], 3, 2)                         # /8
    p3 = n.c2f(x, ch[2], ch[2], 2, True)
    x = n.conv(p3, ch[2], ch[3], 3, 2)                        # /16
    p4 = n.c2f(x, ch[3], ch[3], 2, True)
    x = n.conv(p4, ch[3], ch[4], 3, 2)                        # /32
    x = n.c2f(x, ch[4], ch[4], 1, True)
    p5 = n.sppf(x, ch[4], ch[4])
    # neck
    t4 = n.c2f(n.op("Concat", [n.up2(p5), p4], axis=1), ch[4] + ch[3], ch[3], 1, False)
    n3 = n.c2f(n.op("Concat", [n.up2(t4), p3], axis=1), ch[3] + ch[2], ch[2], 1, False)
    n4 = n.c2f(n.op("Concat", [n.conv(n3, ch[2], ch[2], 3, 2), t4], axis=1), ch[2] + ch[3], ch[3], 1, False)
    n5 = n.c2f(n.op("Concat", [n.conv(n4, ch[3], ch[3], 3, 2), p5], axis=1), ch[3] + ch[4], ch[4], 1, False)
    # heads
    reg, nc = 16, 80
    c2, c3 = max(16, ch[2] // 4, 4 * reg), max(ch[2], min(nc, 100))
    levels = []
    for f, cin, stride in [(n3, ch[2], 8), (n4, ch[3], 16), (n5, ch[4], 32)]:
        hw = size // stride
        box = n.conv(n.conv(n.conv(f, cin, c2, 3), c2, c2, 3), c2, 4 * reg, 1, act=False)
        cls = n.conv(n.conv(n.conv(f, cin, c3, 3), c3, c3, 3), c3, nc, 1, act=False)
        cat = n.op("Concat", [box, cls], axis=1)
        levels.append(n.op("Reshape", [cat, n.const(np.array([1, 4 * reg + nc, hw * hw], np.int64), "shape")]))
    allv = n.op("Concat", levels, axis=2)
    box, cls = n.op("Split", [allv, n.const(np.array([4 * reg, nc], np.int64), "split")], n_out=2, axis=1)
    n.nodes.append(helper.make_node("Sigmoid", [cls], ["scores"], name="scores_sig"))
    n.nodes.append(helper.make_node("Concat", [box, "scores"], ["output0"], name="out_cat", axis=1))
    g = helper.make_graph(n.nodes, "yolov8n_like",
                          [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, size, size])],
                          [helper.make_tensor_value_info("output0", TensorProto.FLOAT,
                                                         [1, 4 * reg + nc, sum((size // s) ** 2 for s in (8, 16, 32))])],
                          n.inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)], producer_name="gen_yolov8n")
    m.ir_version = 8
    onnx.checker.check_model(m)
    return m


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    size = int(sys.argv[2]) if len(sys.argv) > 2 else 320
    width = float(sys.argv[3]) if len(sys.argv) > 3 else 1.0
    onnx.save(build(size, width), sys.argv[1])

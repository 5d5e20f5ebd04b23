#!/usr/bin/env python3
"""test_serving_lib.py — helpers shared by the serving tests (test_serving_*,
test_v2_*, test_deepstack_*), and, run as a test, a check that the helper
model is a valid detectd model.

The helper model ("tiny"): a small ONNX graph with a symbolic batch
dimension, so the server's dynamic batching can be exercised without a big
network.  NHWC input [N, 64, 64, 3] (the centernet preset, letterboxed to
64x64) -> per-image channel means -> MatMul -> [N, 4, 6] rows of
x1, y1, x2, y2, score, class: one box per quadrant, nudged by the image's
colours so different photos give different answers.  `slow_convs` adds
3x3 convolutions (64 channels) whose result feeds the scores by a tiny
weight: a model that costs real compute per image.
"""
import base64
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.environ.get("ROOT") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DETECTD = os.environ.get("DETECTD") or os.path.join(ROOT, "build", "detectd")
DOG = "/usr/share/darknet/data/dog.jpg"
LABELS = ["cat", "dog", "person", "car"]


def skip(why):
    print(why)
    sys.exit(77)


def fail(why, log=None):
    print("FAIL: " + why)
    if log and os.path.exists(log):
        print("--- server log (tail) ---")
        with open(log, errors="replace") as f:
            print("".join(f.readlines()[-40:]))
    sys.exit(1)


def require_tools():
    """Skip (77) without the built binary or python3-onnx / python3-pil."""
    if not os.path.exists(DETECTD):
        skip("no %s (build first)" % DETECTD)
    try:
        import onnx  # noqa: F401
        import PIL  # noqa: F401
    except ImportError as e:
        skip("needs python3-onnx and python3-pil: %s" % e)


def oracle_objects(model, image, threshold=0.3):
    """`detectd detect` on one image file, the oracle for server answers:
    sorted (label, score rounded to 3 places)."""
    out = subprocess.run([DETECTD, "detect", "--model", model, "--threshold", str(threshold), image],
                         capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        fail("detectd detect: " + out.stderr)
    d = json.loads(out.stdout.strip().splitlines()[-1])
    return sorted((o["label"], round(o["score"], 3)) for o in d["objects"])


# ---- the helper model ------------------------------------------------------------

def make_tiny_model(dirpath, name="tiny", batchable=True, slow_convs=0, score_shift=0.0):
    """Write DIR/NAME.onnx and DIR/NAME.detectd.json; returns the manifest path."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    batch = "N" if batchable else 1
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, 64, 64, 3])
    y = helper.make_tensor_value_info("dets", TensorProto.FLOAT, [batch, 4, 6])
    nodes, inits = [], []
    nodes.append(helper.make_node("ReduceMean", ["x"], ["m"], axes=[1, 2], keepdims=0))  # [N,3]
    w = np.zeros((3, 24), np.float32)
    b = np.zeros((24,), np.float32)
    quads = [(2, 2), (34, 2), (2, 34), (34, 34)]
    base = [0.8, 0.6, 0.45, 0.35]
    for k, (qx, qy) in enumerate(quads):
        o = k * 6
        b[o + 0], b[o + 1], b[o + 2], b[o + 3] = qx, qy, qx + 28, qy + 28
        w[0, o + 0] = 0.01   # x1 moves with the red mean (0..2.5 px)
        w[1, o + 3] = -0.01  # y2 with the green mean
        b[o + 4] = base[k] - 0.128 * 0.5 + score_shift
        w[2, o + 4] = 0.0005  # score with the blue mean (+-0.064)
        b[o + 5] = k
    inits += [numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")]
    nodes.append(helper.make_node("MatMul", ["m", "w"], ["mw"]))
    nodes.append(helper.make_node("Add", ["mw", "b"], ["r"]))
    last = "r"
    if slow_convs:
        rng = np.random.default_rng(5)
        nodes.append(helper.make_node("Transpose", ["x"], ["xc"], perm=[0, 3, 1, 2]))
        prev, cin = "xc", 3
        for i in range(slow_convs):
            wt = (rng.standard_normal((64, cin, 3, 3)) * (1.0 / (cin * 9)) ** 0.5).astype(np.float32)
            inits.append(numpy_helper.from_array(wt, "cw%d" % i))
            nodes.append(helper.make_node("Conv", [prev, "cw%d" % i], ["c%d" % i], pads=[1, 1, 1, 1]))
            nodes.append(helper.make_node("Relu", ["c%d" % i], ["a%d" % i]))
            prev, cin = "a%d" % i, 64
        nodes.append(helper.make_node("ReduceMean", [prev], ["cm"], axes=[1, 2, 3], keepdims=0))  # [N]
        nodes.append(helper.make_node("Unsqueeze", ["cm"], ["cm2"], axes=[1]))  # [N,1]
        sw = np.zeros((1, 24), np.float32)
        sw[0, 4::6] = 1e-6  # scores move by ~nothing: the conv work is real, its effect negligible
        inits.append(numpy_helper.from_array(sw, "sw"))
        nodes.append(helper.make_node("MatMul", ["cm2", "sw"], ["cs"]))
        nodes.append(helper.make_node("Add", ["r", "cs"], ["r2"]))
        last = "r2"
    # a batch-1 graph hard-codes its batch, as many exports do
    inits.append(numpy_helper.from_array(np.array([-1 if batchable else 1, 4, 6], np.int64), "shape"))
    nodes.append(helper.make_node("Reshape", [last, "shape"], ["dets"]))
    g = helper.make_graph(nodes, name, [x], [y], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 11)])
    m.ir_version = 6
    onnx.checker.check_model(m)
    onnx.save(m, os.path.join(dirpath, name + ".onnx"))
    man = {
        "name": name,
        "graph": name + ".onnx",
        "format": "onnx",
        "preset": "centernet",
        "preprocess": {"width": 64, "height": 64},
        "decoder": {"type": "centernet"},
        "labels": LABELS,
        "threshold": 0.3,
        "nms_iou": 0.5,
        "max_detections": 100,
        "notes": "test model written by tests/integration/test_serving_lib.py",
    }
    path = os.path.join(dirpath, name + ".detectd.json")
    with open(path, "w") as f:
        json.dump(man, f)
    return path


def make_jpeg(path, w=640, h=480, seed=0, quality=90):
    """A photo-like 640x480 JPEG (gradients + blobs), different per seed."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.zeros((h, w, 3), np.float32)
    for c in range(3):
        a, b2, ph = rng.uniform(0.002, 0.02, 3)
        img[..., c] = 127 + 90 * np.sin(xx * a + yy * b2 + ph * 30) + rng.uniform(-60, 60)
    for _ in range(6):
        cx, cy, r = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(20, 120)
        col = rng.uniform(0, 255, 3)
        mask = (xx - cx) ** 2 + (yy - cy) ** 2 < r * r
        img[mask] = col
    img += rng.normal(0, 6, img.shape)
    Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(path, quality=quality)
    return path


# ---- the server ----------------------------------------------------------------

def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Server:
    """detectd serve on a free loopback port; stopped (by PID) on close."""

    def __init__(self, args, tmp, env=None, log_name="server.log"):
        self.port = free_port()
        self.base = "http://127.0.0.1:%d" % self.port
        self.log = os.path.join(tmp, log_name)
        e = dict(os.environ)
        if env:
            e.update(env)
        self.logf = open(self.log, "w")
        self.proc = subprocess.Popen([DETECTD, "serve", "--host", "127.0.0.1", "--port", str(self.port)] + args,
                                     stdout=self.logf, stderr=subprocess.STDOUT, env=e)

    def wait_ready(self, limit=180):
        t0 = time.time()
        while time.time() - t0 < limit:
            if self.proc.poll() is not None:
                fail("server exited (%s) before it was ready" % self.proc.returncode, self.log)
            try:
                st, _, _ = request("GET", self.base + "/v2/health/ready", timeout=5)
                if st == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        fail("server not ready after %ds" % limit, self.log)

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, expect_rc=0, timeout=60):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            fail("server did not stop within %ds of SIGTERM" % timeout, self.log)
        self.logf.close()
        if expect_rc is not None and rc != expect_rc:
            fail("server exited with %s, want %s" % (rc, expect_rc), self.log)
        return rc

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if not self.logf.closed:
            self.logf.close()

    def logtext(self):
        with open(self.log, errors="replace") as f:
            return f.read()


def request(method, url, body=None, headers=None, timeout=60):
    """(status, headers dict lower-cased, body bytes); HTTP errors are answers too."""
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()


def multipart(fields, boundary="----detectdFormBoundary7MA4YWxkTrZu0gW"):
    """fields: [(name, value bytes|str, filename|None, content type|None)] -> (body, content type)."""
    out = b""
    for name, value, filename, ctype in fields:
        if isinstance(value, str):
            value = value.encode()
        disp = 'form-data; name="%s"' % name
        if filename:
            disp += '; filename="%s"' % filename
        out += b"--" + boundary.encode() + b"\r\n" + ("Content-Disposition: %s\r\n" % disp).encode()
        if ctype:
            out += ("Content-Type: %s\r\n" % ctype).encode()
        out += b"\r\n" + value + b"\r\n"
    out += b"--" + boundary.encode() + b"--\r\n"
    return out, "multipart/form-data; boundary=" + boundary


def b64(data):
    return base64.b64encode(data).decode()


def main():
    require_tools()
    with tempfile.TemporaryDirectory() as tmp:
        man = make_tiny_model(tmp, "tiny", batchable=True)
        img = make_jpeg(os.path.join(tmp, "a.jpg"), seed=1)
        out = subprocess.run([DETECTD, "detect", "--model", man, "--threshold", "0", img], capture_output=True,
                             text=True, timeout=60)
        if out.returncode != 0:
            fail("detectd detect on the helper model: %s" % out.stderr)
        d = json.loads(out.stdout.strip().splitlines()[-1])
        labels = sorted(o["label"] for o in d["objects"])
        assert labels == sorted(LABELS), d
        # batch 8 plans exist: detectd bench --batch 8 runs it
        out = subprocess.run([DETECTD, "bench", "--model", man, "--batch", "8", "--iterations", "2", "--warmup", "0"],
                             capture_output=True, text=True, timeout=60)
        if out.returncode != 0:
            fail("the helper model does not batch: %s" % out.stderr)
        print("ok  helper model: 4 boxes, batch 8 runs")
    print("pass")


if __name__ == "__main__":
    main()

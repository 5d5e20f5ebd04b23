#!/usr/bin/python3
"""gen_corpus.py OUTDIR IMAGEDIR — seed corpora for the fuzzers (tests/fuzz/fuzz_*.c).

Writes OUTDIR/<target>/ for npy, onnx, tfjs, multipart, query, manifest and
http.  IMAGEDIR holds the images gen_images wrote (they go inside multipart
bodies and HTTP requests).  Sources: numpy for .npy files, the operator
cases of tests/onnx_ops/gen.py for ONNX models (and their .npy inputs),
sub-graphs cut out of the real TF.js models in models/ (one per op type,
with their real weights) plus synthetic ones, the manifests in models/.
Deterministic: the same tree gives the same corpus."""

import base64
import glob
import hashlib
import io
import json
import os
import random
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.dont_write_bytecode = True

import numpy as np  # noqa: E402


def put(d, name, data):
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# ---- npy ----------------------------------------------------------------------


def npy_bytes(a, version=None, fortran=False):
    b = io.BytesIO()
    if fortran:
        a = np.asfortranarray(a)
    np.lib.format.write_array(b, a, version=version, allow_pickle=False)
    return b.getvalue()


def gen_npy(out):
    d = os.path.join(out, "npy")
    rng = np.random.default_rng(1)
    shapes = [(), (0,), (3,), (2, 3), (1, 3, 4, 4), (1, 1, 1, 1, 1, 1, 1, 2), (2, 0, 3)]
    for dt in ["<f4", "<f8", "<f2", "<i8", "<i4", "|u1", "|i1", "|b1", ">f4", "<u2", "<c8"]:
        for s in shapes[:5]:
            a = (rng.standard_normal(s) * 10).astype(dt)
            put(d, "npy_%s_%s.npy" % (dt.replace("<", "le").replace(">", "be").replace("|", ""),
                                      "x".join(map(str, s)) or "scalar"), npy_bytes(a))
    for s in shapes[5:]:
        put(d, "npy_f4_%s.npy" % "x".join(map(str, s)), npy_bytes(np.zeros(s, "<f4")))
    put(d, "npy_v2.npy", npy_bytes(np.arange(6, dtype="<f4").reshape(2, 3), version=(2, 0)))
    put(d, "npy_v3.npy", npy_bytes(np.arange(6, dtype="<i4"), version=(3, 0)))
    put(d, "npy_fortran.npy", npy_bytes(np.arange(6, dtype="<f4").reshape(2, 3), fortran=True))
    good = npy_bytes(np.arange(24, dtype="<f4").reshape(2, 3, 4))
    put(d, "bad_npy_truncated.npy", good[:-5])
    put(d, "bad_npy_header_cut.npy", good[:40])
    hdr = b"{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296, 4294967296), }"
    put(d, "bad_npy_huge_shape.npy", b"\x93NUMPY\x01\x00" + struct.pack("<H", len(hdr)) + hdr + b"\0" * 16)
    # the operator test inputs: real shapes and dtypes
    return d


# ---- ONNX ---------------------------------------------------------------------


def gen_onnx(out, npy_dir, limit=400):
    d = os.path.join(out, "onnx")
    with tempfile.TemporaryDirectory() as tmp:
        r = subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "tests/onnx_ops/gen.py"), tmp],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if r.returncode != 0:
            sys.stderr.write("gen_corpus: onnx_ops/gen.py failed: %s\n" % r.stderr.decode()[-500:])
            return
        seen = set()
        n = 0
        for case in sorted(os.listdir(tmp)):
            m = os.path.join(tmp, case, "model.onnx")
            if not os.path.isfile(m) or os.path.getsize(m) > 8192:
                continue
            data = open(m, "rb").read()
            h = hashlib.sha1(data).hexdigest()
            if h in seen:
                continue
            seen.add(h)
            if n < limit:
                put(d, case + ".onnx", data)
                n += 1
            for f in sorted(glob.glob(os.path.join(tmp, case, "*.npy")))[:1]:
                if os.path.getsize(f) <= 2048 and len(os.listdir(npy_dir)) < 300:
                    put(npy_dir, "op_" + case + "_" + os.path.basename(f), open(f, "rb").read())
    # a model with external data in the fuzzer's temp directory ("weights.bin")
    # and one whose location escapes it
    try:
        import onnx
        from onnx import TensorProto, helper
        for loc, name in [("weights.bin", "ext_data.onnx"), ("../../etc/passwd", "bad_ext_escape.onnx"),
                          ("/etc/passwd", "bad_ext_absolute.onnx")]:
            t = TensorProto()
            t.name = "w"
            t.data_type = TensorProto.FLOAT
            t.dims.extend([4, 4])
            t.data_location = TensorProto.EXTERNAL
            for k, v in [("location", loc), ("offset", "64"), ("length", "64")]:
                e = t.external_data.add()
                e.key, e.value = k, v
            g = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["y"])], "g",
                                  [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                                  [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])], [t])
            m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
            put(d, name, m.SerializeToString())
        # model bombs: huge constant shapes, declared inputs, overflowing dims
        sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
        import hostile_models
        for name, (data, _) in sorted(hostile_models.models().items()):
            put(d, "bomb_" + name, data)
    except ImportError:
        pass


# ---- TF.js --------------------------------------------------------------------


def tfjs_frame(model_json, weights):
    j = json.dumps(model_json, separators=(",", ":")).encode()
    return struct.pack("<I", len(j)) + j + weights


DT_SIZE = {"float32": 4, "int32": 4, "bool": 1, "string": 1}
Q_SIZE = {"uint8": 1, "uint16": 2, "float16": 2}


def weight_table(mj, bin_bytes):
    """name -> (manifest entry, its bytes)."""
    table = {}
    off = 0
    for group in mj.get("weightsManifest", []):
        for w in group["weights"]:
            n = 1
            for s in w["shape"]:
                n *= s
            q = w.get("quantization")
            size = n * (Q_SIZE[q["dtype"]] if q else DT_SIZE.get(w["dtype"], 4))
            table[w["name"]] = (w, bin_bytes[off:off + size])
            off += size
    return table


def subgraph(nodes_by_name, table, node, max_bytes):
    """The node, its Const inputs with their weights, Placeholders for the rest."""
    nodes, weights, wbytes = [], [], b""
    for inp in node.get("input", []):
        name = inp.lstrip("^").split(":")[0]
        src = nodes_by_name.get(name)
        if src and src["op"] == "Const" and name in table:
            w, b = table[name]
            if len(wbytes) + len(b) > max_bytes:
                return None
            nodes.append(src)
            weights.append(w)
            wbytes += b
        elif not any(n["name"] == name for n in nodes):
            nodes.append({"name": name, "op": "Placeholder",
                          "attr": {"dtype": {"type": "DT_FLOAT"},
                                   "shape": {"shape": {"dim": [{"size": "1"}, {"size": "8"}, {"size": "8"},
                                                               {"size": "4"}]}}}})
    nodes.append(node)
    mj = {"format": "graph-model", "modelTopology": {"node": nodes, "versions": {"producer": 1}},
          "weightsManifest": [{"paths": ["w.bin"], "weights": weights}]}
    return mj, wbytes


def gen_tfjs(out):
    d = os.path.join(out, "tfjs")
    n = 0
    for mj_path in sorted(glob.glob(os.path.join(ROOT, "models", "*", "*.json"))):
        try:
            mj = json.load(open(mj_path))
            paths = mj["weightsManifest"][0]["paths"]
            binb = b"".join(open(os.path.join(os.path.dirname(mj_path), p), "rb").read()
                            for g in mj["weightsManifest"] for p in g["paths"])
        except (OSError, KeyError, ValueError, IndexError):
            continue
        del paths
        table = weight_table(mj, binb)
        nodes = mj["modelTopology"]["node"]
        by_name = {x["name"]: x for x in nodes}
        per_op = {}
        for node in nodes:
            if node["op"] in ("Const", "Placeholder") or per_op.get(node["op"], 0) >= 2:
                continue
            sg = subgraph(by_name, table, node, 4096)
            if not sg:
                continue
            per_op[node["op"]] = per_op.get(node["op"], 0) + 1
            base = os.path.splitext(os.path.basename(mj_path))[0]
            put(d, "%s_%s_%d.tfjs" % (base, node["op"], per_op[node["op"]]), tfjs_frame(*sg))
            n += 1
        # the real model.json head with no weights (refused, but the structure is there)
        put(d, "bad_%s_noweights.tfjs" % os.path.basename(mj_path),
            tfjs_frame({"format": "graph-model", "modelTopology": {"node": nodes[:40]},
                        "weightsManifest": mj["weightsManifest"]}, b""))
    # synthetic: conv + bias + relu, every weight dtype / quantization
    w = np.arange(2 * 2 * 1 * 2, dtype="<f4")

    def ph(name, dims):
        return {"name": name, "op": "Placeholder",
                "attr": {"dtype": {"type": "DT_FLOAT"},
                         "shape": {"shape": {"dim": [{"size": str(x)} for x in dims]}}}}

    nodes = [ph("x", [1, 4, 4, 1]),
             {"name": "k", "op": "Const", "attr": {"dtype": {"type": "DT_FLOAT"}}},
             {"name": "b", "op": "Const", "attr": {"dtype": {"type": "DT_FLOAT"}}},
             {"name": "c", "op": "Conv2D", "input": ["x", "k"],
              "attr": {"strides": {"list": {"i": ["1", "1", "1", "1"]}},
                       "padding": {"s": base64.b64encode(b"SAME").decode()},
                       "data_format": {"s": base64.b64encode(b"NHWC").decode()},
                       "dilations": {"list": {"i": ["1", "1", "1", "1"]}}, "T": {"type": "DT_FLOAT"}}},
             {"name": "ba", "op": "BiasAdd", "input": ["c", "b"], "attr": {"T": {"type": "DT_FLOAT"}}},
             {"name": "r", "op": "Relu", "input": ["ba"]},
             {"name": "out", "op": "Identity", "input": ["r"]}]
    for qname, q, kb in [("f32", None, w.tobytes()),
                         ("f16", {"dtype": "float16"}, w.astype("<f2").tobytes()),
                         ("u8", {"dtype": "uint8", "min": -1.0, "scale": 0.1}, bytes(range(8))),
                         ("u16", {"dtype": "uint16", "min": -1.0, "scale": 0.01},
                          np.arange(8, dtype="<u2").tobytes())]:
        kw = {"name": "k", "shape": [2, 2, 1, 2], "dtype": "float32"}
        if q:
            kw["quantization"] = q
        man = [{"paths": ["w.bin"], "weights": [kw, {"name": "b", "shape": [2], "dtype": "float32"}]}]
        mj = {"format": "graph-model", "modelTopology": {"node": nodes}, "weightsManifest": man,
              "signature": {"inputs": {"x:0": {"name": "x:0"}}, "outputs": {"out:0": {"name": "out:0"}}}}
        put(d, "syn_conv_%s.tfjs" % qname, tfjs_frame(mj, kb + np.array([0.5, -0.5], "<f4").tobytes()))
    put(d, "bad_empty.tfjs", b"")
    put(d, "bad_json_only.tfjs", struct.pack("<I", 2) + b"{}")
    return n


# ---- multipart, query ---------------------------------------------------------


def gen_multipart(out, imgs):
    d = os.path.join(out, "multipart")
    img = open(os.path.join(imgs, "png_gray8.png"), "rb").read() if imgs else b"\x89PNG\r\n\x1a\nxxxx"

    def body(b, parts, close=True, crlf=b"\r\n"):
        s = b""
        for hdrs, data in parts:
            s += b"--" + b + crlf + b"".join(h + crlf for h in hdrs) + crlf + data + crlf
        if close:
            s += b"--" + b + b"--" + crlf
        return s

    cd = b'Content-Disposition: form-data; name="image"; filename="a.png"'
    ct = b"Content-Type: image/png"
    cases = {
        "simple": (b'multipart/form-data; boundary=XyZ', b"XyZ", [([cd, ct], img)]),
        "quoted": (b'multipart/form-data; boundary="a b:c"', b"a b:c", [([cd], img)]),
        "two_parts": (b"multipart/form-data; charset=utf-8; boundary=----WebKitFormBoundary7MA4YWxk",
                      b"----WebKitFormBoundary7MA4YWxk",
                      [([b'Content-Disposition: form-data; name="threshold"'], b"0.3"), ([cd, ct], img)]),
        "no_image_field": (b"multipart/form-data; boundary=q", b"q",
                           [([b'Content-Disposition: form-data; name="file"'], img)]),
        "no_disposition": (b"multipart/form-data; boundary=q", b"q", [([ct], img)]),
        "long_boundary": (b"multipart/form-data; boundary=" + b"x" * 70, b"x" * 70, [([cd], img)]),
        "escaped_name": (b"multipart/form-data; boundary=q", b"q",
                         [([b'Content-Disposition: form-data; name="im\\"age"; filename="x\\\\y"'], img)]),
    }
    for name, (ctv, b, parts) in cases.items():
        put(d, name + ".mp", ctv + b"\n" + body(b, parts))
    put(d, "unterminated.mp", b"multipart/form-data; boundary=XyZ\n" + body(b"XyZ", [([cd], img)], close=False))
    put(d, "lf_only.mp", b"multipart/form-data; boundary=XyZ\n" + body(b"XyZ", [([cd], img)], crlf=b"\n"))
    put(d, "preamble.mp", b"multipart/form-data; boundary=XyZ\npreamble text\r\n" + body(b"XyZ", [([cd], img)]) +
        b"epilogue")
    put(d, "empty.mp", b"multipart/form-data; boundary=XyZ\n")
    put(d, "huge_header.mp", b"multipart/form-data; boundary=XyZ\n--XyZ\r\nX-A: " + b"a" * 9000 + b"\r\n\r\nx")
    return d


def gen_query(out):
    d = os.path.join(out, "query")
    qs = ["threshold=0.5", "threshold=0.25&max_detections=10", "classes=cat,dog&render=jpeg",
          "classes=%20person%20,%2Cdog", "a=1&&b=2&c", "threshold=1e-3", "threshold=nan", "threshold=0x1p-2",
          "max_detections=-1", "max_detections=99999999999999999999", "k%3D=v%26&x+y=z+w", "%zz=1", "a=%0",
          "a=%00", "size=512K&big=2G&h=1MiB&b=true&c=off", "render=", "=x", "&", "x=" + "9" * 300,
          "threshold=.5e0\nimage/JPEG; charset=binary", "\nmultipart/form-data; boundary=abc",
          "\ntext/plain", "\n; q=1", "\nimage/", "\n/png", "\nImage/PNG;q=\"a;b\"", "\napplication/octet-stream "]
    for i, q in enumerate(qs):
        put(d, "q%02d" % i, q)
    return d


# ---- manifest -----------------------------------------------------------------


def gen_manifest(out):
    d = os.path.join(out, "manifest")
    for p in sorted(glob.glob(os.path.join(ROOT, "models", "*.detectd.json"))):
        put(d, os.path.basename(p), open(p, "rb").read())
    base = {"name": "m", "graph": "m.onnx", "format": "onnx"}
    variants = {
        "yolox": dict(base, preset="yolox"),
        "labels_file": dict(base, preset="yolov5", labels="labels.names", threshold=0.3, nms_iou=0.5,
                            max_detections=50),
        "labels_array": dict(base, preset="yolov8", labels=["a", "b", "c"]),
        "labels_empty_file": dict(base, preset="yolov8", labels="empty.names"),
        "labels_missing": dict(base, preset="yolov8", labels="../nope.names"),
        "explicit": dict(base, preprocess={"width": 320, "height": 256, "resize": "letterbox", "interp": "area",
                                           "pad": 114, "channels": "bgr", "layout": "nhwc", "scale": 0.0039,
                                           "mean": [0, 0, 0], "std": [1, 1, 1], "round_size": 32},
                         decoder={"type": "yolov5", "strides": [8, 16, 32],
                                  "anchors": [[10, 13, 16, 30, 33, 23], [30, 61, 62, 45, 59, 119],
                                              [116, 90, 156, 198, 373, 326]], "obj_power": 1, "cls_power": 1,
                                  "num_classes": 80}),
        "ssd_priors": dict(base, preset="ssd", decoder={"type": "ssd", "encoded": True, "box_order": "yxhw",
                                                        "variance": [0.1, 0.2], "background": True,
                                                        "score_activation": "softmax",
                                                        "priors": {"image_size": 300, "feature_maps": [19, 10],
                                                                   "steps": [16, 32], "min_sizes": [60, 105],
                                                                   "max_sizes": [105, 150],
                                                                   "aspect_ratios": [[2], [2, 3]], "clip": True}}),
        "ssd_priors_file": dict(base, preset="ssd", decoder={"type": "ssd", "encoded": True,
                                                             "priors_file": "priors.bin"}),
        "nanodet": dict(base, preset="nanodet", decoder={"type": "nanodet", "reg_max": 7, "strides": [8, 16, 32, 64]}),
        "unknown_key": dict(base, preset="yolox", typo=1),
        "no_preset": dict(base),
        "free_text": dict(base, preset="centernet", notes="x", source="y", license="z", _private=[1, 2]),
    }
    for name, v in variants.items():
        put(d, name + ".detectd.json", json.dumps(v))
    put(d, "dup_keys.detectd.json", '{"graph": "a", "graph": "b", "preset": "yolox"}')
    put(d, "not_object.detectd.json", "[1,2,3]")
    return d


# ---- HTTP -----------------------------------------------------------------------


def gen_http(out, imgs):
    d = os.path.join(out, "http")
    img = open(os.path.join(imgs, "png_gray4.png"), "rb").read() if imgs else b"\x89PNG\r\n\x1a\n"
    jpg = open(os.path.join(imgs, "jpeg_gray.jpg"), "rb").read() if imgs else b"\xff\xd8\xff"

    def req(method, path, headers=(), body=b"", version=b"HTTP/1.1"):
        h = [b"Host: 127.0.0.1"] + list(headers)
        if body and not any(x.lower().startswith(b"content-length") or x.lower().startswith(b"transfer-encoding")
                            for x in h):
            h.append(b"Content-Length: %d" % len(body))
        return method + b" " + path + b" " + version + b"\r\n" + b"".join(x + b"\r\n" for x in h) + b"\r\n" + body

    mp = (b"--XyZ\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a.png\"\r\n"
          b"Content-Type: image/png\r\n\r\n" + img + b"\r\n--XyZ--\r\n")
    chunked = b"%x\r\n" % len(img) + img + b"\r\n0\r\n\r\n"
    cases = {
        "get_health": req(b"GET", b"/health"),
        "get_ready": req(b"GET", b"/v2/health/ready"),
        "get_live_http10": req(b"GET", b"/v2/health/live", version=b"HTTP/1.0"),
        "get_models": req(b"GET", b"/v1/models"),
        "get_index_etag": req(b"GET", b"/", [b'If-None-Match: "abc"']),
        "head_index": req(b"HEAD", b"/index.html"),
        "get_404": req(b"GET", b"/nope/../../etc/passwd"),
        "delete_405": req(b"DELETE", b"/v1/detect"),
        "options": req(b"OPTIONS", b"*"),
        "post_png": req(b"POST", b"/v1/detect", [b"Content-Type: image/png"], img),
        "post_jpeg_predict": req(b"POST", b"/predict", [b"Content-Type: image/jpeg"], jpg),
        "post_query": req(b"POST", b"/v1/detect?threshold=0.1&max_detections=5&classes=cat,dog",
                          [b"Content-Type: image/png"], img),
        "post_render": req(b"POST", b"/v1/detect?render=jpeg", [b"Content-Type: image/jpeg"], jpg),
        "post_multipart": req(b"POST", b"/v1/detect", [b"Content-Type: multipart/form-data; boundary=XyZ"], mp),
        "post_octet": req(b"POST", b"/v1/detect", [b"Content-Type: application/octet-stream"], img),
        "post_no_type": req(b"POST", b"/v1/detect", [], img),
        "post_chunked": req(b"POST", b"/v1/detect", [b"Content-Type: image/png", b"Transfer-Encoding: chunked"],
                            chunked),
        "post_text": req(b"POST", b"/predict", [b"Content-Type: text/plain"], b"hello"),
        "post_huge_cl": req(b"POST", b"/v1/detect", [b"Content-Type: image/png",
                                                     b"Content-Length: 99999999999999"], b"x"),
        "post_bad_cl": req(b"POST", b"/v1/detect", [b"Content-Type: image/png", b"Content-Length: -1"], b"x"),
        "post_empty": req(b"POST", b"/v1/detect", [b"Content-Type: image/png", b"Content-Length: 0"]),
        "post_expect": req(b"POST", b"/v1/detect", [b"Content-Type: image/png", b"Expect: 100-continue"], img),
        "pipelined": req(b"GET", b"/health") + req(b"POST", b"/v1/detect", [b"Content-Type: image/png"], img) +
        req(b"GET", b"/v1/models"),
        "long_header": req(b"GET", b"/health", [b"X-Long: " + b"a" * 3000]),
        "many_headers": req(b"GET", b"/health", [b"X-H%d: v" % i for i in range(100)]),
        "garbage": b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
        "bare_lf": b"GET /health HTTP/1.1\nHost: x\n\n",
    }
    for name, data in cases.items():
        put(d, name + ".http", data)
    return d


# ---- KServe v2 inference requests ---------------------------------------------------


def v2_frame(header, binary=b"", header_len=None):
    """4-byte LE Inference-Header-Content-Length (0xffffffff: absent), then the body."""
    h = json.dumps(header, separators=(",", ":")).encode() if not isinstance(header, bytes) else header
    hl = 0xffffffff if header_len is None and not binary else len(h) if header_len is None else header_len
    return struct.pack("<I", hl) + h + binary


def gen_v2(out, imgs):
    d = os.path.join(out, "v2")
    png = open(os.path.join(imgs, "png_gray1.png"), "rb").read() if imgs else b"\x89PNG\r\n\x1a\n...."
    b64 = base64.b64encode(png).decode()
    inp = {"name": "image", "datatype": "BYTES", "shape": [1], "data": [b64]}
    cases = {
        "bytes_b64": {"inputs": [inp]},
        "bytes_b64_params": {"id": "r1", "inputs": [inp], "parameters": {"threshold": 0.25, "max_detections": 5},
                             "outputs": [{"name": "detections"}, {"name": "labels", "parameters": {"binary_data": True}}]},
        "min_confidence": {"inputs": [inp], "parameters": {"min_confidence": 0.4, "binary_data_output": True}},
        "nested_data": {"inputs": [dict(inp, data=[[b64]])]},
        "uint8_json": {"inputs": [{"name": "image", "datatype": "UINT8", "shape": [len(png)], "data": list(png)}]},
        "fp32_json": {"inputs": [{"name": "x", "datatype": "FP32", "shape": [1, 3, 8, 8],
                                  "data": [float(i % 7) / 7 for i in range(192)]}]},
        "bad_two_inputs": {"inputs": [inp, inp]},
        "bad_output_name": {"inputs": [inp], "outputs": [{"name": "boxes"}]},
        "bad_shape": {"inputs": [dict(inp, shape=[-1])]},
        "bad_b64": {"inputs": [dict(inp, data=["!!!not base64"])]},
        "bad_not_object": [1, 2],
    }
    for name, h in cases.items():
        put(d, name + ".v2", v2_frame(h))
    hdr = {"inputs": [{"name": "image", "datatype": "BYTES", "shape": [1],
                       "parameters": {"binary_data_size": len(png) + 4}}]}
    put(d, "bytes_binary.v2", v2_frame(hdr, struct.pack("<I", len(png)) + png))
    hdr = {"inputs": [{"name": "image", "datatype": "BYTES", "shape": [1], "parameters": {"binary_data_size": len(png)}}]}
    put(d, "bytes_binary_bare.v2", v2_frame(hdr, png))
    hdr = {"inputs": [{"name": "image", "datatype": "UINT8", "shape": [len(png)],
                       "parameters": {"binary_data_size": len(png)}}]}
    put(d, "uint8_binary.v2", v2_frame(hdr, png))
    hdr = {"inputs": [{"name": "x", "datatype": "FP32", "shape": [1, 3, 8, 8], "parameters": {"binary_data_size": 768}}]}
    put(d, "fp32_binary.v2", v2_frame(hdr, np.linspace(0, 1, 192, dtype="<f4").tobytes()))
    put(d, "bad_header_len_past_end.v2", v2_frame({"inputs": [inp]}, b"", header_len=99999))
    put(d, "bad_binary_size_mismatch.v2", v2_frame(dict(hdr, inputs=[dict(hdr["inputs"][0],
                                                                          parameters={"binary_data_size": 5})]), b"abc"))
    return d


def main():
    if len(sys.argv) != 3:
        sys.stderr.write("usage: gen_corpus.py OUTDIR IMAGEDIR\n")
        return 2
    out, imgs = sys.argv[1], sys.argv[2]
    if not os.path.isdir(imgs):
        imgs = None
    random.seed(1)
    npy_dir = gen_npy(out)
    gen_onnx(out, npy_dir)
    gen_tfjs(out)
    gen_multipart(out, imgs)
    gen_query(out)
    gen_manifest(out)
    gen_http(out, imgs)
    gen_v2(out, imgs)
    for t in sorted(os.listdir(out)):
        p = os.path.join(out, t)
        if os.path.isdir(p):
            sys.stderr.write("gen_corpus: %-10s %4d seeds\n" % (t, len(os.listdir(p))))
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""KServe / Triton "v2" HTTP protocol, driven by a client written from the
protocol's public documentation (kserve.github.io "Open Inference Protocol"
and Triton's binary tensor data extension), not from detectd's code:

  health (live/ready), server metadata, model metadata, model ready (also
  /versions/1), infer with JSON tensors (BYTES element = base64 text of the
  image, the KServe convention for images), infer with the binary tensor
  data extension exactly as Triton's Python client sends it (JSON header of
  Inference-Header-Content-Length bytes, then BYTES elements as a 4-byte
  little-endian length + bytes) and binary outputs (binary_data /
  binary_data_output), UINT8 image bytes, the raw FP32 model input, the
  model repository extension (index, load), several models from
  --model-dir, and the error shape {"error": ...} with 400/404/405/501.

Oracles: `detectd detect` (the pipeline without the server) for images,
and numpy evaluating the helper ONNX graph for the raw FP32 input."""
import http.client
import json
import os
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_serving_lib as L  # noqa: E402


class V2Client:
    """A hand-written v2 client (what tritonclient.http does on the wire)."""

    def __init__(self, host, port):
        self.host, self.port = host, port

    def _do(self, method, path, body=None, headers=None):
        c = http.client.HTTPConnection(self.host, self.port, timeout=60)
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        hd = {k.lower(): v for k, v in r.getheaders()}
        c.close()
        return r.status, hd, data

    def get_json(self, path):
        st, hd, data = self._do("GET", path)
        return st, json.loads(data) if data else None

    def infer_json(self, model, request, version=None):
        path = "/v2/models/%s%s/infer" % (model, "/versions/%s" % version if version else "")
        st, hd, data = self._do("POST", path, json.dumps(request).encode(), {"Content-Type": "application/json"})
        return st, hd, data

    def infer_binary(self, model, header, blobs):
        """header: the JSON inference request; blobs: the binary tensors in input order."""
        h = json.dumps(header).encode()
        body = h + b"".join(blobs)
        st, hd, data = self._do("POST", "/v2/models/%s/infer" % model, body,
                                {"Inference-Header-Content-Length": str(len(h)),
                                 "Content-Type": "application/octet-stream"})
        return st, hd, data


def serialize_bytes_tensor(elements):
    """Triton's BYTES binary layout: each element = uint32 LE length + bytes."""
    return b"".join(struct.pack("<I", len(e)) + e for e in elements)


def deserialize_bytes_tensor(buf):
    out, i = [], 0
    while i < len(buf):
        (n,) = struct.unpack_from("<I", buf, i)
        out.append(buf[i + 4:i + 4 + n])
        i += 4 + n
    return out


def parse_response(hd, data):
    """JSON answer, or JSON header + binary outputs (returned as raw bytes per output)."""
    hl = hd.get("inference-header-content-length")
    if hl is None:
        return json.loads(data), {}
    hl = int(hl)
    head = json.loads(data[:hl])
    blobs, off = {}, hl
    for o in head["outputs"]:
        size = (o.get("parameters") or {}).get("binary_data_size")
        if size is not None:
            blobs[o["name"]] = data[off:off + size]
            off += size
    if off != len(data):
        L.fail("binary outputs: %d bytes used of %d" % (off, len(data)))
    return head, blobs


def dets_from(head, blobs):
    """[(label, score, x1, y1, x2, y2, class)] from either JSON or binary outputs."""
    outs = {o["name"]: o for o in head["outputs"]}
    d, lab = outs["detections"], outs["labels"]
    n = d["shape"][0]
    if d["datatype"] != "FP32" or d["shape"] != [n, 6] or lab["datatype"] != "BYTES" or lab["shape"] != [n]:
        L.fail("output shapes: %s %s" % (d, lab))
    if "detections" in blobs:
        vals = list(struct.unpack("<%df" % (n * 6), blobs["detections"]))
    else:
        vals = d["data"]
    labels = [x.decode() for x in deserialize_bytes_tensor(blobs["labels"])] if "labels" in blobs else lab["data"]
    return sorted((labels[i], vals[i * 6 + 4], vals[i * 6], vals[i * 6 + 1], vals[i * 6 + 2], vals[i * 6 + 3],
                   int(vals[i * 6 + 5])) for i in range(n))


def check_against(got, want, what):
    w = sorted((o["label"], o["score"], o["box"]["x"], o["box"]["y"], o["box"]["x"] + o["box"]["width"],
                o["box"]["y"] + o["box"]["height"]) for o in want["objects"])
    if len(got) != len(w):
        L.fail("%s: %d detections, want %d\n%s\n%s" % (what, len(got), len(w), got, w))
    for g, e in zip(got, w):
        if g[0] != e[0] or abs(g[1] - e[1]) > 1e-4 or any(abs(a - b) > 0.01 for a, b in zip(g[2:6], e[2:6])):
            L.fail("%s: %s vs %s" % (what, g, e))


def tiny_forward(onnx_path, x):
    """numpy evaluation of the helper graph on an NHWC input."""
    import numpy as np
    import onnx
    from onnx import numpy_helper

    g = onnx.load(onnx_path).graph
    w = {i.name: numpy_helper.to_array(i) for i in g.initializer}
    m = x.reshape(-1, 64 * 64, 3).mean(axis=1)
    return (m @ w["w"] + w["b"]).reshape(-1, 4, 6)


def main():
    if not os.path.exists(L.DETECTD):
        L.skip("no detectd binary")
    try:
        import numpy as np
        import onnx  # noqa: F401
        import PIL  # noqa: F401
    except ImportError as e:
        L.skip("needs python3-numpy, python3-onnx, python3-pil: %s" % e)
    with tempfile.TemporaryDirectory() as tmp:
        mdir = os.path.join(tmp, "models")
        os.mkdir(mdir)
        L.make_tiny_model(mdir, "tiny")
        L.make_tiny_model(mdir, "tiny2", score_shift=-0.2)
        with open(os.path.join(mdir, "bad name.detectd.json"), "w") as f:
            f.write("{}")  # skipped: not a valid model name
        img_path = L.make_jpeg(os.path.join(tmp, "a.jpg"), seed=3)
        img = open(img_path, "rb").read()
        out = subprocess.run([L.DETECTD, "detect", "--model", os.path.join(mdir, "tiny.detectd.json"), "--threshold",
                              "0", img_path], capture_output=True, text=True, timeout=60)
        want = json.loads(out.stdout.strip().splitlines()[-1])
        out = subprocess.run([L.DETECTD, "detect", "--model", os.path.join(mdir, "tiny2.detectd.json"), "--threshold",
                              "0.3", img_path], capture_output=True, text=True, timeout=60)
        want2 = json.loads(out.stdout.strip().splitlines()[-1])

        srv = L.Server(["--model-dir", mdir, "--model", "tiny", "--max-batch", "4"], tmp)
        try:
            srv.wait_ready()
            cl = V2Client("127.0.0.1", srv.port)
            # health and metadata
            st, _, _ = cl._do("GET", "/v2/health/live")
            assert st == 200, st
            st, _, _ = cl._do("GET", "/v2/health/ready")
            assert st == 200, st
            st, meta = cl.get_json("/v2")
            assert st == 200 and meta["name"] and "version" in meta and "binary_tensor_data" in meta["extensions"], meta
            st, mm = cl.get_json("/v2/models/tiny")
            assert st == 200 and mm["name"] == "tiny" and "1" in mm["versions"], mm
            inp = mm["inputs"][0]
            assert inp["datatype"] == "BYTES" and inp["shape"] == [1], mm
            outs = {o["name"]: o for o in mm["outputs"]}
            assert outs["detections"]["datatype"] == "FP32" and outs["detections"]["shape"][-1] == 6, mm
            assert outs["labels"]["datatype"] == "BYTES", mm
            for p in ("/v2/models/tiny/ready", "/v2/models/tiny/versions/1/ready", "/v2/models/tiny2/ready"):
                st, _, _ = cl._do("GET", p)
                assert st == 200, (p, st)
            print("ok  health, server and model metadata, model ready")

            # JSON tensors: the image as base64 text in a BYTES element
            req = {"id": "req-1", "parameters": {"threshold": 0.0},
                   "inputs": [{"name": inp["name"], "shape": [1], "datatype": "BYTES", "data": [L.b64(img)]}],
                   "outputs": [{"name": "detections"}, {"name": "labels"}]}
            st, hd, data = cl.infer_json("tiny", req)
            if st != 200:
                L.fail("JSON infer: %d %s" % (st, data[:300]), srv.log)
            head, blobs = parse_response(hd, data)
            assert head["model_name"] == "tiny" and head["id"] == "req-1" and head["model_version"] == "1", head
            got = dets_from(head, blobs)
            check_against(got, want, "JSON infer")
            st, hd, data = cl.infer_json("tiny", req, version="1")
            assert st == 200, st
            print("ok  JSON infer: %d detections = detectd detect" % len(got))

            # binary tensor data extension, as Triton's client sends it, binary outputs asked for
            header = {"inputs": [{"name": inp["name"], "shape": [1], "datatype": "BYTES",
                                  "parameters": {"binary_data_size": len(serialize_bytes_tensor([img]))}}],
                      "outputs": [{"name": "detections", "parameters": {"binary_data": True}},
                                  {"name": "labels", "parameters": {"binary_data": True}}],
                      "parameters": {"threshold": 0.0}}
            st, hd, data = cl.infer_binary("tiny", header, [serialize_bytes_tensor([img])])
            if st != 200:
                L.fail("binary infer: %d %s" % (st, data[:300]), srv.log)
            head, blobs = parse_response(hd, data)
            assert set(blobs) == {"detections", "labels"}, head
            assert hd.get("content-type", "").startswith("application/octet-stream"), hd
            check_against(dets_from(head, blobs), want, "binary infer")
            # binary_data_output for everything; JSON outputs mixed
            header["outputs"] = None
            del header["outputs"]
            header["parameters"]["binary_data_output"] = True
            st, hd, data = cl.infer_binary("tiny", header, [serialize_bytes_tensor([img])])
            head, blobs = parse_response(hd, data)
            assert st == 200 and set(blobs) == {"detections", "labels"}, (st, head)
            check_against(dets_from(head, blobs), want, "binary_data_output")
            print("ok  binary tensor data: BYTES in, FP32 + BYTES out, = JSON answer")

            # UINT8 tensor holding the encoded image
            header = {"inputs": [{"name": "image", "shape": [len(img)], "datatype": "UINT8",
                                  "parameters": {"binary_data_size": len(img)}}], "parameters": {"threshold": 0.0}}
            st, hd, data = cl.infer_binary("tiny", header, [img])
            assert st == 200, (st, data[:200])
            check_against(dets_from(*parse_response(hd, data)), want, "UINT8 image")

            # the raw FP32 model input: boxes in model-input pixels; oracle = numpy on the graph
            x = np.full((1, 64, 64, 3), 0.0, np.float32)
            x[0, :, :, 0], x[0, :, :, 1], x[0, :, :, 2] = 200.0, 30.0, 250.0
            ref = tiny_forward(os.path.join(mdir, "tiny.onnx"), x)[0]
            for binary in (False, True):
                if binary:
                    header = {"inputs": [{"name": "x", "shape": [1, 64, 64, 3], "datatype": "FP32",
                                          "parameters": {"binary_data_size": x.nbytes}}],
                              "parameters": {"threshold": 0.0}}
                    st, hd, data = cl.infer_binary("tiny", header, [x.astype("<f4").tobytes()])
                else:
                    req = {"inputs": [{"name": "x", "shape": [1, 64, 64, 3], "datatype": "FP32",
                                       "data": x.flatten().tolist()}], "parameters": {"threshold": 0.0}}
                    st, hd, data = cl.infer_json("tiny", req)
                if st != 200:
                    L.fail("FP32 input: %d %s" % (st, data[:300]), srv.log)
                got = dets_from(*parse_response(hd, data))
                exp = sorted((L.LABELS[int(r[5])], r[4], r[0], r[1], r[2], r[3], int(r[5])) for r in ref)
                assert len(got) == 4, got
                for g, e in zip(got, exp):
                    assert g[0] == e[0] and abs(g[1] - e[1]) < 1e-4, (g, e)
                    assert all(abs(a - min(max(b, 0), 64)) < 1e-3 for a, b in zip(g[2:6], e[2:6])), (g, e)
            print("ok  UINT8 image bytes; FP32 model input (JSON and binary) = numpy on the graph")

            # several models: tiny2 by name, on v2 and on /v1/detect?model=
            req = {"inputs": [{"name": "image", "shape": [1], "datatype": "BYTES", "data": [L.b64(img)]}],
                   "parameters": {"threshold": 0.3}}
            st, hd, data = cl.infer_json("tiny2", req)
            assert st == 200, (st, data)
            check_against(dets_from(*parse_response(hd, data)), want2, "tiny2")
            st, _, data = cl._do("POST", "/v1/detect?model=tiny2&threshold=0.3", img, {"Content-Type": "image/jpeg"})
            assert st == 200 and json.loads(data)["model"] == "tiny2", (st, data)
            st, idx = cl._do("POST", "/v2/repository/index", b"{}")[0:3:2]
            idx = json.loads(idx)
            assert st == 200 and sorted(m["name"] for m in idx) == ["tiny", "tiny2"], idx
            assert all(m["state"] == "READY" for m in idx), idx
            print("ok  --model-dir: tiny and tiny2 by name; repository index")

            # errors: {"error": "..."} with the protocol's statuses
            cases = [
                ("POST", "/v2/models/nope/infer", json.dumps(req).encode(), 404),
                ("GET", "/v2/models/nope", None, 404),
                ("GET", "/v2/models/tiny/versions/7", None, 404),
                ("POST", "/v2/models/tiny/versions/7/infer", json.dumps(req).encode(), 404),
                ("POST", "/v2/models/tiny/infer", b"{not json", 400),
                ("POST", "/v2/models/tiny/infer", json.dumps({"inputs": []}).encode(), 400),
                ("POST", "/v2/models/tiny/infer", json.dumps({"inputs": [{"name": "image", "shape": [1],
                                                                          "datatype": "BYTES",
                                                                          "data": ["bm90IGFuIGltYWdl"]}]}).encode(), 400),
                ("POST", "/v2/models/tiny/infer", json.dumps({"inputs": [{"name": "image", "shape": [1],
                                                                          "datatype": "FP16", "data": [1]}]}).encode(), 400),
                ("GET", "/v2/models/tiny/infer", None, 405),
                ("POST", "/v2/repository/models/tiny/unload", b"{}", 501),
                ("GET", "/v2/models/..%2F..%2Fetc/ready", None, 400),
                ("GET", "/v2/models/../ready", None, 400),
            ]
            for method, path, body, want_st in cases:
                st, hd, data = cl._do(method, path, body)
                try:
                    err = json.loads(data)["error"]
                except Exception:
                    err = None
                if st != want_st or not isinstance(err, str) or not err:
                    L.fail("%s %s: %d %s (want %d with {\"error\"})" % (method, path, st, data[:200], want_st))
            print("ok  errors: 400/404/405/501 with {\"error\": ...}")

            # load = reload from disk, through the repository extension
            st, _, data = cl._do("POST", "/v2/repository/models/tiny2/load", b"{}")
            assert st == 200, (st, data)
            st, _, _ = cl._do("GET", "/v2/models/tiny2/ready")
            assert st == 200
            print("ok  repository load reloads tiny2")
            srv.stop()
        finally:
            srv.kill()
    print("pass")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""The DeepStack / CodeProject.AI object detection API as Home Assistant,
Blue Iris and Frigate call it, from a client written after those projects'
public docs: POST /v1/vision/detection, multipart/form-data with the file
field "image" (plus "min_confidence", DeepStack's "api_key"), encoded the
way python-requests does (`files={"image": data}, data={...}`: form fields
first, the file part named "image" with filename "image" and no
Content-Type).  Answer: {"success": true, "predictions": [{"label",
"confidence", "x_min", "y_min", "x_max", "y_max"}], "count", "inferenceMs",
"processMs", "message", "moduleId", ...}; failures {"success": false,
"error": ...}.  Custom models: POST /v1/vision/custom/{name}.

Oracle: `detectd detect` on the same photo (the pipeline without the
server) with the same threshold; nanodet on darknet's dog.jpg must find
the dog."""
import json
import os
import subprocess
import sys
import tempfile
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_serving_lib as L  # noqa: E402


def requests_style_multipart(data, files):
    """What requests.post(url, data=data, files=files) sends."""
    boundary = uuid.uuid4().hex
    out = b""
    for k, v in data.items():
        out += ("--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n" % (boundary, k)).encode()
        out += str(v).encode() + b"\r\n"
    for k, v in files.items():
        out += ("--%s\r\nContent-Disposition: form-data; name=\"%s\"; filename=\"%s\"\r\n\r\n" % (boundary, k, k)).encode()
        out += v + b"\r\n"
    out += ("--%s--\r\n" % boundary).encode()
    return out, "multipart/form-data; boundary=" + boundary


def detect(base, path, image, **data):
    body, ctype = requests_style_multipart(data, {"image": image})
    st, hd, raw = L.request("POST", base + path, body, {"Content-Type": ctype})
    try:
        return st, json.loads(raw)
    except ValueError:
        L.fail("%s: not JSON: %r" % (path, raw[:200]))


def check_shape(ans, what):
    if ans.get("success") is not True:
        L.fail("%s: %s" % (what, ans))
    for k in ("predictions", "count", "inferenceMs", "processMs", "message", "moduleId"):
        if k not in ans:
            L.fail("%s: no %s in %s" % (what, k, ans))
    if ans["count"] != len(ans["predictions"]):
        L.fail("%s: count %s for %d predictions" % (what, ans["count"], len(ans["predictions"])))
    for p in ans["predictions"]:
        if set(p) != {"label", "confidence", "x_min", "y_min", "x_max", "y_max"}:
            L.fail("%s: prediction keys %s" % (what, sorted(p)))
        if not all(isinstance(p[k], int) for k in ("x_min", "y_min", "x_max", "y_max")):
            L.fail("%s: coordinates must be integers: %s" % (what, p))
        if not (0 <= p["confidence"] <= 1 and p["x_min"] <= p["x_max"] and p["y_min"] <= p["y_max"]):
            L.fail("%s: %s" % (what, p))
    if not isinstance(ans["inferenceMs"], int) or not isinstance(ans["processMs"], int):
        L.fail("%s: inferenceMs/processMs must be integer milliseconds" % what)


def oracle(model, image, thr):
    out = subprocess.run([L.DETECTD, "detect", "--model", model, "--threshold", str(thr), image],
                         capture_output=True, text=True, timeout=120)
    if out.returncode != 0:
        L.fail("detectd detect: " + out.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])


def same(ans, want, thr, what):
    exp = sorted((o["label"], round(o["box"]["x"]), round(o["box"]["y"])) for o in want["objects"] if o["score"] >= thr)
    got = sorted((p["label"], p["x_min"], p["y_min"]) for p in ans["predictions"])
    if len(exp) != len(got) or any(a[0] != b[0] or abs(a[1] - b[1]) > 1 or abs(a[2] - b[2]) > 1
                                   for a, b in zip(got, exp)):
        L.fail("%s:\n got %s\nwant %s" % (what, got, exp))


def main():
    if not os.path.exists(L.DETECTD):
        L.skip("no detectd binary")
    try:
        import onnx  # noqa: F401
        import PIL  # noqa: F401
    except ImportError as e:
        L.skip("needs python3-onnx and python3-pil: %s" % e)
    nanodet = os.path.join(L.ROOT, "models", "nanodet.detectd.json")
    have_real = os.path.exists(nanodet) and os.path.exists(L.DOG)
    with tempfile.TemporaryDirectory() as tmp:
        mdir = os.path.join(tmp, "models")
        os.mkdir(mdir)
        L.make_tiny_model(mdir, "tiny")
        if have_real:
            os.symlink(nanodet, os.path.join(mdir, "nanodet.detectd.json"))
            os.symlink(os.path.join(L.ROOT, "models", "nanodet"), os.path.join(mdir, "nanodet"))
        default = "nanodet" if have_real else "tiny"
        photo = L.make_jpeg(os.path.join(tmp, "p.jpg"), seed=11)
        srv = L.Server(["--model-dir", mdir, "--model", default, "--workers", "1"], tmp)
        try:
            srv.wait_ready(300)
            if have_real:
                dog = open(L.DOG, "rb").read()
                st, ans = detect(srv.base, "/v1/vision/detection", dog)  # default min_confidence
                check_shape(ans, "dog.jpg")
                want = oracle(nanodet, L.DOG, 0.0)
                same(ans, want, 0.4, "dog.jpg, default min_confidence 0.4")
                if "dog" not in [p["label"] for p in ans["predictions"]]:
                    L.fail("no dog in dog.jpg: %s" % ans)
                if not ans["message"].startswith("Found "):
                    L.fail("message: %s" % ans["message"])
                st, ans = detect(srv.base, "/v1/vision/detection", dog, min_confidence="0.6", api_key="ignored")
                check_shape(ans, "dog.jpg 0.6")
                same(ans, want, 0.6, "dog.jpg, min_confidence 0.6")
                # min_confidence 0 crashed DeepStack; here it is the lowest threshold
                st, ans = detect(srv.base, "/v1/vision/detection", dog, min_confidence="0")
                check_shape(ans, "min_confidence 0")
                if ans["count"] < 5:
                    L.fail("min_confidence 0 gave only %d predictions" % ans["count"])
                print("ok  nanodet on dog.jpg: %s; min_confidence 0.4 / 0.6 / 0 = detectd detect"
                      % ", ".join(sorted({p["label"] for p in ans["predictions"] if p["confidence"] >= 0.4})))
            # custom model route, a photo-like JPEG
            img = open(photo, "rb").read()
            st, ans = detect(srv.base, "/v1/vision/custom/tiny", img, min_confidence="0.3")
            check_shape(ans, "custom/tiny")
            same(ans, oracle(os.path.join(mdir, "tiny.detectd.json"), photo, 0.0), 0.3, "custom/tiny")
            print("ok  /v1/vision/custom/tiny: %d predictions" % ans["count"])
            # failures: {"success": false, "error": ...}
            for path, body, what in [
                ("/v1/vision/detection", b"this is not an image", "not an image"),
                ("/v1/vision/custom/nope", open(photo, "rb").read(), "unknown model"),
                ("/v1/vision/custom/..", open(photo, "rb").read(), "bad model name"),
            ]:
                st, ans = detect(srv.base, path, body)
                if ans.get("success") is not False or not isinstance(ans.get("error"), str) or st < 400:
                    L.fail("%s: %d %s" % (what, st, ans))
            st, ans = detect(srv.base, "/v1/vision/detection", img, min_confidence="lots")
            if ans.get("success") is not False or st != 400:
                L.fail("bad min_confidence: %d %s" % (st, ans))
            body, ctype = requests_style_multipart({"min_confidence": "0.5"}, {"photo": img})
            st, _, raw = L.request("POST", srv.base + "/v1/vision/detection", body, {"Content-Type": ctype})
            ans = json.loads(raw)
            if st != 400 or ans.get("success") is not False or "image" not in ans.get("error", ""):
                L.fail("no image field: %d %s" % (st, ans))
            print("ok  failures answer {\"success\": false, \"error\": ...}")
            srv.stop()
        finally:
            srv.kill()
    print("pass")


if __name__ == "__main__":
    main()

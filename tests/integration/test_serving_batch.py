#!/usr/bin/env python3
"""Dynamic batching end to end: 16 different photos sent at once to a server
with --max-batch 8 run in fewer model executions than requests (from
/metrics), and every answer equals what `detectd detect` (batch 1, no
server) says about the same photo.  A model whose graph cannot batch is
served one at a time and the startup log says so."""
import concurrent.futures as cf
import json
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_serving_lib as L  # noqa: E402


def oracle(model, images):
    out = subprocess.run([L.DETECTD, "detect", "--model", model, "--threshold", "0"] + images, capture_output=True,
                         text=True, timeout=120)
    if out.returncode != 0:
        L.fail("detectd detect: " + out.stderr)
    return [json.loads(line) for line in out.stdout.strip().splitlines()]


def same(got, want, what):
    g = sorted((o["label"], round(o["score"], 4), tuple(round(o["box"][k], 2) for k in ("x", "y", "width", "height")))
               for o in got["objects"])
    w = sorted((o["label"], round(o["score"], 4), tuple(round(o["box"][k], 2) for k in ("x", "y", "width", "height")))
               for o in want["objects"])
    if len(g) != len(w):
        L.fail("%s: %d objects, want %d: %s vs %s" % (what, len(g), len(w), g, w))
    for a, b in zip(g, w):
        if a[0] != b[0] or abs(a[1] - b[1]) > 2e-4 or any(abs(x - y) > 0.02 for x, y in zip(a[2], b[2])):
            L.fail("%s: %s vs %s" % (what, a, b))


def metric(text, name):
    m = re.search(r"^%s (\S+)$" % re.escape(name), text, re.M)
    return float(m.group(1)) if m else None


def main():
    if not os.path.exists(L.DETECTD):
        L.skip("no detectd binary")
    try:
        import onnx  # noqa: F401
        import PIL  # noqa: F401
    except ImportError as e:
        L.skip("needs python3-onnx and python3-pil: %s" % e)
    with tempfile.TemporaryDirectory() as tmp:
        model = L.make_tiny_model(tmp, "tiny", batchable=True)
        flat = L.make_tiny_model(tmp, "flat", batchable=False)
        images = [L.make_jpeg(os.path.join(tmp, "p%02d.jpg" % i), seed=i) for i in range(16)]
        want = oracle(model, images)
        bodies = [open(p, "rb").read() for p in images]

        # batch 8, and a 100 ms window for the batch to fill
        srv = L.Server(["--model", model, "--workers", "1", "--threads-per-worker", "1", "--max-batch", "8",
                        "--batch-timeout-us", "100000", "--threshold", "0", "--queue-size", "64"], tmp)
        try:
            srv.wait_ready()
            if "dynamic batching up to 8" not in srv.logtext():
                L.fail("no batching line at startup", srv.log)

            def post(i):
                return L.request("POST", srv.base + "/v1/detect?threshold=0", bodies[i],
                                 {"Content-Type": "image/jpeg", "X-Request-Id": "batch-%d" % i})

            with cf.ThreadPoolExecutor(16) as ex:
                answers = list(ex.map(post, range(16)))
            for i, (st, hd, body) in enumerate(answers):
                if st != 200:
                    L.fail("request %d: %d %s" % (i, st, body[:200]), srv.log)
                if hd.get("x-request-id") != "batch-%d" % i:
                    L.fail("request %d: X-Request-Id %s" % (i, hd.get("x-request-id")))
                same(json.loads(body), want[i], "photo %d" % i)
            st, _, m = L.request("GET", srv.base + "/metrics")
            m = m.decode()
            inf = metric(m, 'detectd_inference_count_total{model="tiny"}')
            exe = metric(m, 'detectd_execution_count_total{model="tiny"}')
            # warm-up runs are not counted; 16 requests, fewer runs
            if inf != 16 or not exe or exe >= inf:
                L.fail("inference_count %s, execution_count %s: no batching" % (inf, exe))
            print("ok  16 photos at once: %d model runs (mean batch %.1f), every answer = detectd detect"
                  % (exe, inf / exe))
            srv.stop()
        finally:
            srv.kill()

        # a graph with a fixed batch of 1: served one at a time, and said so
        srv = L.Server(["--model", flat, "--workers", "1", "--max-batch", "8", "--threshold", "0"], tmp,
                       log_name="flat.log")
        try:
            srv.wait_ready()
            if not re.search(r"graph runs batch 1 only.*--max-batch 8 has no effect", srv.logtext()):
                L.fail("no 'batch 1 only' line at startup", srv.log)
            want_flat = oracle(flat, images[:6])
            with cf.ThreadPoolExecutor(6) as ex:
                answers = list(ex.map(lambda i: L.request("POST", srv.base + "/v1/detect?threshold=0", bodies[i],
                                                          {"Content-Type": "image/jpeg"}), range(6)))
            for i, (st, _, body) in enumerate(answers):
                if st != 200:
                    L.fail("flat %d: %d" % (i, st), srv.log)
                same(json.loads(body), want_flat[i], "flat photo %d" % i)
            _, _, m = L.request("GET", srv.base + "/metrics")
            m = m.decode()
            if metric(m, 'detectd_execution_count_total{model="flat"}') != 6:
                L.fail("a batch-1 graph ran batches:\n" + m)
            print("ok  batch-1 graph: one request per run, startup log says why")
            srv.stop()
        finally:
            srv.kill()
    print("pass")


if __name__ == "__main__":
    main()

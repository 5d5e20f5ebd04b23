#!/usr/bin/python3
"""test_model_bombs.py — a model file is untrusted input too (issue 9).

Tiny hostile ONNX files (tests/integration/hostile_models.py: ConstantOfShape,
Expand, Tile, Range and Resize of huge constant shapes, a 120 GB declared
input, shapes whose element count or byte size overflows) loaded through
`detectd inspect`, `detectd infer` and the server's model (re)load: each
must end quickly in a clean error that says why (the need and the
--max-model-memory limit, or "too large"), a non-zero exit or a 500 from
the reload, and peak RSS within a few MB of a harmless model's — never the
gigabytes the file asks for.  Also: --max-model-memory is honoured (a model
over a lowered limit fails naming it; a batchable model gets a smaller max
batch instead of failing), and the bundled models fit the default limit.
Env: DETECTD, ROOT, SANITIZED.  Exit 0 pass, 1 fail, 77 skip."""

import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True

import test_serving_lib as L  # noqa: E402

SANITIZED = bool(os.environ.get("SANITIZED"))
RSS_SLACK_MB = 1024 if SANITIZED else 64
FAILS = []


def bad(what):
    print("FAIL " + what)
    FAILS.append(what)


def run(args, timeout=60):
    """(exit status, output, 0) of one detectd command."""
    p = subprocess.Popen([L.DETECTD] + args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        out, _ = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        return -1, "timed out after %ds" % timeout, 0
    return p.returncode, out.decode(errors="replace"), 0


def run_rss(args, timeout=60):
    """As run(), with the command's own peak RSS (wait4 on it alone)."""
    p = subprocess.Popen([L.DETECTD] + args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = p.stdout.read()
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    return p.returncode, out.decode(errors="replace"), ru.ru_maxrss / 1024.0


def bomb_image_model(path, name):
    """An image-shaped model (NHWC [1,64,64,3] -> [1,4,6], the tiny model's
    contract) whose Tile makes a 49 GB activation: it passes every check of
    the detector and must be stopped by the session memory limit."""
    import numpy as np
    import onnx
    from onnx import TensorProto as T, helper, numpy_helper
    nodes = [helper.make_node("Tile", ["x", "rep"], ["big"]),
             helper.make_node("ReduceMean", ["big"], ["m"], axes=[1, 2], keepdims=0),
             helper.make_node("MatMul", ["m", "w"], ["r"]),
             helper.make_node("Reshape", ["r", "shape"], ["dets"])]
    inits = [numpy_helper.from_array(np.array([1, 1000, 1000, 1], np.int64), "rep"),
             numpy_helper.from_array(np.zeros((3, 24), np.float32), "w"),
             numpy_helper.from_array(np.array([1, 4, 6], np.int64), "shape")]
    g = helper.make_graph(nodes, name, [helper.make_tensor_value_info("x", T.FLOAT, [1, 64, 64, 3])],
                          [helper.make_tensor_value_info("dets", T.FLOAT, [1, 4, 6])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 11)])
    m.ir_version = 6
    onnx.save(m, path)


def main():
    try:
        import numpy as np
        import onnx  # noqa: F401
        import hostile_models
    except ImportError as e:
        L.skip("needs python3-numpy and python3-onnx: %s" % e)
    if not os.access(L.DETECTD, os.X_OK):
        L.skip("no detectd binary at %s" % L.DETECTD)
    with tempfile.TemporaryDirectory() as tmp:
        # the baseline: a harmless model's peak RSS (the binary, its
        # libraries, a small session)
        good = L.make_tiny_model(tmp, "good", batchable=True, slow_convs=2)
        good_onnx = os.path.join(tmp, "good.onnx")
        rc, out, base_rss = run_rss(["inspect", "--model", good_onnx, "--json"])
        if rc != 0:
            L.fail("inspect of a good model failed: " + out)
        j = json.loads(out)
        need1 = j["arena_bytes"] + j["folded_const_bytes"]
        print("ok   baseline: good model inspect, peak RSS %.0f MB, session memory %d bytes" % (base_rss, need1))

        models = hostile_models.models()
        for name, (data, want) in sorted(models.items()):
            path = os.path.join(tmp, name)
            with open(path, "wb") as f:
                f.write(data)
            rc, out, rss = run_rss(["inspect", "--model", path])
            msg = out.strip().splitlines()[-1] if out.strip() else ""
            ok = (rc == 1 and (want in out or (want == "too large" and "overflow" in out))
                  and rss < base_rss + RSS_SLACK_MB)
            if want != "too large" and "--max-model-memory" not in out:
                ok = False
            (print if ok else bad)("%s inspect %s (%d bytes): exit %d, peak RSS %.0f MB: %s" %
                                   ("ok  " if ok else "", name, len(data), rc, rss, msg[:200]))

        # infer: the same refusal before any input is read into a plan
        x1 = os.path.join(tmp, "x1.npy")
        np.save(x1, np.ones((1,), np.float32))
        for name in ["constantofshape_1p7gb.onnx", "range_4gb.onnx", "expand_4gb.onnx"]:
            rc, out, rss = run_rss(["infer", "--model", os.path.join(tmp, name), "--input", x1,
                                    "--outdir", os.path.join(tmp, "out")])
            ok = rc == 1 and "over the limit" in out and "(over_limit)" in out and rss < base_rss + RSS_SLACK_MB
            (print if ok else bad)("%s infer %s: exit %d, peak RSS %.0f MB: %s" %
                                   ("ok  " if ok else "", name, rc, rss, out.strip()[:200]))

        # past the folding budget but under the memory limit: the constant
        # subgraph (Range of 6M floats, 24 MB; ConstantOfShape 20 MB) is not
        # folded but runs at inference time, with ONNX Runtime's answer
        from onnx import TensorProto as T, helper
        g = helper.make_graph(
            [helper.make_node("Range", ["a", "b", "d"], ["r"]),
             helper.make_node("ConstantOfShape", ["s"], ["c"], value=helper.make_tensor("v", T.FLOAT, [1], [0.25])),
             helper.make_node("Mul", ["x", "r"], ["xr"]), helper.make_node("Add", ["xr", "c"], ["y"])],
            "unfolded", [helper.make_tensor_value_info("x", T.FLOAT, [1])],
            [helper.make_tensor_value_info("y", T.FLOAT, [6000000])],
            [helper.make_tensor("a", T.FLOAT, [], [0.0]), helper.make_tensor("b", T.FLOAT, [], [6e6]),
             helper.make_tensor("d", T.FLOAT, [], [1.0]), helper.make_tensor("s", T.INT64, [1], [6000000])])
        unf = os.path.join(tmp, "unfolded.onnx")
        with open(unf, "wb") as f:
            f.write(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]).SerializeToString())
        xh = os.path.join(tmp, "xhalf.npy")
        np.save(xh, np.array([0.5], np.float32))
        rc, out, _ = run(["infer", "--model", unf, "--input", xh, "--outdir", os.path.join(tmp, "unf_dt")])
        ort = subprocess.run(["node", os.path.join(L.ROOT, "tests/oracle/ort_run.js"), unf,
                              os.path.join(tmp, "unf_ort"), "x=" + xh], capture_output=True)
        if rc != 0:
            bad("unfolded constants: detectd infer failed: " + out[-300:])
        elif ort.returncode != 0:
            print("note: ONNX Runtime unavailable, unfolded constants checked against numpy only")
        got = np.load(os.path.join(tmp, "unf_dt", "y.npy")) if rc == 0 else None
        ref = (np.load(os.path.join(tmp, "unf_ort", "y.npy")) if ort.returncode == 0
               else np.arange(6000000, dtype=np.float32) * np.float32(0.5) + np.float32(0.25))
        ok = got is not None and got.shape == ref.shape and float(np.max(np.abs(got - ref))) == 0.0
        (print if ok else bad)("%s constants past the folding budget run at inference time: %s" %
                               ("ok  " if ok else "", "equal to ONNX Runtime" if ok and ort.returncode == 0
                                else "equal to numpy" if ok else "outputs differ"))

        # --max-model-memory: raising it admits nothing by itself (a bad
        # value is a usage error); lowering it below a good model's need
        # refuses that model, naming the limit
        rc, out, _ = run(["inspect", "--model", good_onnx, "--max-model-memory", "lots"])
        (print if rc == 2 else bad)("%s inspect --max-model-memory lots: exit %d" % ("ok  " if rc == 2 else "", rc))
        lim = max(64 << 10, need1 // 2)
        rc, out, _ = run(["inspect", "--model", good_onnx, "--max-model-memory", str(lim)])
        ok = rc == 1 and "over the limit" in out
        (print if ok else bad)("%s good model under --max-model-memory %d: exit %d: %s" %
                               ("ok  " if ok else "", lim, rc, out.strip().splitlines()[-1][:200]))
        # a batchable model over the limit at batch 8 runs smaller batches
        rc, out, _ = run(["inspect", "--model", good_onnx, "--batch", "8", "--json"])
        j8 = json.loads(out) if rc == 0 else {}
        # halfway between what batch 1 and batch 8 need (both from inspect)
        need8 = j8.get("arena_bytes", 0) + j8.get("folded_const_bytes", 0)
        lim = need1 + max(1, (need8 - need1) // 2)
        rc, out, _ = run(["inspect", "--model", good_onnx, "--batch", "8", "--json", "--max-model-memory", str(lim)])
        jl = json.loads(out) if rc == 0 else {}
        ok = (j8.get("max_batch") == 8 and 1 <= jl.get("max_batch", 0) < 8
              and jl["arena_bytes"] + jl["folded_const_bytes"] <= lim)
        (print if ok else bad)("%s batch 8 at the default limit: max_batch %s; under %d bytes: max_batch %s" %
                               ("ok  " if ok else "", j8.get("max_batch"), lim, jl.get("max_batch")))

        # the bundled models fit the default limit (inspect reports it)
        shared = os.environ.get("SHARED") or os.path.join(L.ROOT, "..", "shared")
        for mp in [os.path.join(L.ROOT, "models/nanodet/nanodet.json"),
                   os.path.join(L.ROOT, "models/centernet/centernet.json"),
                   os.path.join(shared, "models/yolox_nano.onnx"), os.path.join(shared, "models/FastestDet.onnx")]:
            if not os.path.exists(mp):
                continue
            rc, out, _ = run(["inspect", "--model", mp, "--batch", "8"])
            m = re.search(r"memory\s+([\d.]+) MB .*limit ([\d.]+) MB \(--max-model-memory\)", out)
            ok = rc == 0 and m and float(m.group(1)) < float(m.group(2))
            (print if ok else bad)("%s %s at batch 8: %s" % ("ok  " if ok else "", os.path.basename(mp),
                                                             m.group(0) if m else out.strip()[-200:]))

        # the server: a bomb at startup is a failed load (exit 1, the reason
        # logged); a bomb on reload is a 500 naming the limit while the
        # loaded version keeps serving
        bomb_dir = os.path.join(tmp, "srv")
        os.makedirs(bomb_dir)
        man = L.make_tiny_model(bomb_dir, "tiny", batchable=False)
        graph = os.path.join(bomb_dir, "tiny.onnx")
        os.rename(graph, graph + ".good")
        bomb_image_model(graph, "tiny")
        p = subprocess.Popen([L.DETECTD, "serve", "--host", "127.0.0.1", "--port", "0", "--model", man],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        out = p.stdout.read()
        _, status, ru = os.wait4(p.pid, 0)
        rc = os.waitstatus_to_exitcode(status)
        rss = ru.ru_maxrss / 1024.0
        out = out.decode(errors="replace")
        ok = rc == 1 and "failed to load" in out and "over the limit" in out and rss < base_rss + RSS_SLACK_MB
        (print if ok else bad)("%s serve with a bomb model: exit %d, peak RSS %.0f MB: %s" %
                               ("ok  " if ok else "", rc, rss, (re.findall(r'msg="([^"]*failed[^"]*)"', out) or [out])[0][:220]))

        os.rename(graph, graph + ".bomb")
        os.rename(graph + ".good", graph)
        srv = L.Server(["--model", man, "--workers", "1", "--threads-per-worker", "1"], tmp, log_name="srv.log")
        try:
            srv.wait_ready()
            rss0 = rss_mb(srv.proc.pid)
            os.rename(graph + ".bomb", graph)
            st, _, body = L.request("POST", srv.base + "/v1/models/tiny/reload", b"")
            rss1 = rss_mb(srv.proc.pid)
            ok = st == 500 and b"over the limit" in body and rss1 < rss0 + RSS_SLACK_MB
            (print if ok else bad)("%s reload to a bomb: %d, RSS %.0f -> %.0f MB: %s" %
                                   ("ok  " if ok else "", st, rss0, rss1, body[:220].decode(errors="replace")))
            with open(L.DOG, "rb") as f:
                dog = f.read()
            st, _, body = L.request("POST", srv.base + "/v1/detect", dog, {"Content-Type": "image/jpeg"})
            ok = st == 200 and json.loads(body).get("model") == "tiny"
            (print if ok else bad)("%s still serving the loaded version after the failed reload: %d" %
                                   ("ok  " if ok else "", st))
        finally:
            srv.stop()
    if FAILS:
        print("%d failure(s)" % len(FAILS))
        sys.exit(1)
    print("all model bombs refused cleanly")


def rss_mb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""test_security_auth.py — API keys (`detectd serve --api-key-file`,
DETECTD_API_KEY_FILE), on the helper model of test_serving_lib.py:

  * refusing to start (non-zero exit, the file named, no key printed) on a
    missing, unreadable (a directory), empty or comments-only key file and
    on a key with a space;
  * the probes and the page (/health, /v2/health/live, /v2/health/ready, /)
    stay open; every other route, unknown ones included, answers 401 with
    WWW-Authenticate: Bearer and the same body for a missing and a wrong
    key (and a DeepStack client without a key learns nothing: 401, not 404,
    for an unknown model);
  * with a key (Authorization: Bearer, X-API-Key, DeepStack's api_key form
    field) the answers equal `detectd detect`'s (the oracle);
  * 401s are counted in detectd_auth_failures_total and
    detectd_requests_total{code="401"};
  * SIGHUP re-reads the file (a new key works, a removed one is refused;
    an empty file keeps the previous keys);
  * no key, right or wrong, ever appears in the log.

Exit 0 pass, 1 fail, 77 skip."""
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_serving_lib as L  # noqa: E402

KEY1 = "k1-7fQw9Zr2Lm8Xc3Vb"
KEY2 = "k2.Hs6Tn4Pq1Wd0Ye5U~+/="
WRONG = ["k1-7fQw9Zr2Lm8Xc3V", "k1-7fQw9Zr2Lm8Xc3Vbb", "K1-7fQw9Zr2Lm8Xc3Vb", "wrong", "#k3-commented"]
KEY3 = "k3-after-sighup-Rt5Uy7Io9"


def start_fails(args, env, what, must_name):
    port = L.free_port()
    e = dict(os.environ)
    e.update(env)
    p = subprocess.run([L.DETECTD, "serve", "--host", "127.0.0.1", "--port", str(port)] + args,
                       capture_output=True, text=True, timeout=60, env=e)
    if p.returncode == 0:
        L.fail("%s: exit 0, want an error" % what)
    err = p.stdout + p.stderr
    if must_name not in err:
        L.fail("%s: the message does not name %s: %s" % (what, must_name, err))
    for k in (KEY1, KEY2, "secret"):
        if k in err:
            L.fail("%s: a key is in the message: %s" % (what, err))
    line = [ln for ln in err.splitlines() if must_name in ln][0]
    print("ok  refuses to start (exit %d): %s: %s" % (p.returncode, what, line[-110:]))


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o600)


def main():
    L.require_tools()
    with tempfile.TemporaryDirectory() as tmp:
        man = L.make_tiny_model(tmp, "tiny")
        jpg = L.make_jpeg(os.path.join(tmp, "a.jpg"), seed=5)
        img = open(jpg, "rb").read()
        want = L.oracle_objects(man, jpg)
        keys = os.path.join(tmp, "keys")

        # ---- bad key files: refuse to start ----
        start_fails(["--model", man, "--api-key-file", os.path.join(tmp, "nope")], {}, "missing file",
                    os.path.join(tmp, "nope"))
        start_fails(["--model", man, "--api-key-file", tmp], {}, "unreadable (a directory)", tmp)
        write(keys, "")
        start_fails(["--model", man, "--api-key-file", keys], {}, "empty file", keys)
        write(keys, "# only comments\n\n   \n#secret\n")
        start_fails(["--model", man], {"DETECTD_API_KEY_FILE": keys}, "comments only (env)", keys)
        write(keys, "good-key\nsecret with space\n")
        start_fails(["--model", man, "--api-key-file", keys], {}, "a key with a space", "line 2")

        write(keys, "# detectd API keys\n%s\n\n  %s  \r\n#k3-commented\n" % (KEY1, KEY2))
        srv = L.Server(["--model", man, "--threshold", "0.3"], tmp, env={"DETECTD_API_KEY_FILE": keys})
        fails401 = 0
        try:
            srv.wait_ready(60)  # /v2/health/ready needs no key
            base = srv.base

            # ---- open routes ----
            for path in ("/health", "/v2/health/live", "/v2/health/ready", "/", "/index.html"):
                st, _, _ = L.request("GET", base + path)
                if st != 200:
                    L.fail("open route %s: %d without a key" % (path, st))
            print("ok  /, /health, /v2/health/live, /v2/health/ready answer without a key")

            # ---- protected routes: 401, same body for missing and wrong ----
            ds_body, ds_type = L.multipart([("image", img, "image", None)])
            routes = [("GET", "/v1/models", None, {}), ("GET", "/metrics", None, {}), ("GET", "/v2", None, {}),
                      ("GET", "/v2/models/tiny", None, {}), ("GET", "/v2/models/tiny/ready", None, {}),
                      ("POST", "/v1/detect", img, {"Content-Type": "image/jpeg"}),
                      ("POST", "/predict", img, {"Content-Type": "image/jpeg"}),
                      ("POST", "/v2/models/tiny/infer", b"{}", {"Content-Type": "application/json"}),
                      ("POST", "/v1/vision/detection", ds_body, {"Content-Type": ds_type}),
                      ("POST", "/v1/vision/custom/nosuchmodel", ds_body, {"Content-Type": ds_type}),
                      ("POST", "/v1/models/tiny/reload", b"", {}), ("POST", "/v2/repository/index", b"{}", {}),
                      ("POST", "/v2/repository/models/tiny/load", b"{}", {}),
                      ("GET", "/no/such/route", None, {}), ("DELETE", "/v1/detect", None, {})]
            creds = [{}] + [{"Authorization": "Bearer " + w} for w in WRONG] + \
                    [{"X-API-Key": w} for w in WRONG[:2]] + \
                    [{"Authorization": "Basic " + KEY1}, {"Authorization": KEY1}, {"Authorization": "Bearer"}]
            for method, path, body, hdrs in routes:
                bodies = set()
                for c in creds:
                    h = dict(hdrs)
                    h.update(c)
                    st, rh, data = L.request(method, base + path, body, h)
                    fails401 += 1
                    if st != 401:
                        L.fail("%s %s with %s: %d, want 401: %r" % (method, path, c or "no key", st, data[:200]))
                    if not rh.get("www-authenticate", "").startswith("Bearer"):
                        L.fail("%s %s: 401 without WWW-Authenticate: Bearer (%s)" % (method, path, rh))
                    if not isinstance(json.loads(data).get("error"), str):
                        L.fail("%s %s: 401 body %r" % (method, path, data))
                    bodies.add(data)
                if len(bodies) != 1:
                    L.fail("%s %s: the 401 bodies differ between missing and wrong keys: %s" % (method, path, bodies))
            print("ok  %d protected routes x %d missing/wrong keys -> 401 + WWW-Authenticate: Bearer, one body each"
                  % (len(routes), len(creds)))

            # ---- with a key ----
            def objects(data):
                return sorted((o["label"], round(o["score"], 3)) for o in json.loads(data)["objects"])

            for hdr in ({"Authorization": "Bearer " + KEY1}, {"Authorization": "bearer  " + KEY2},
                        {"X-API-Key": KEY2}, {"X-API-Key": KEY1, "Authorization": "Bearer wrong"}):
                h = {"Content-Type": "image/jpeg"}
                h.update(hdr)
                st, _, data = L.request("POST", base + "/v1/detect?threshold=0.3", img, h)
                if st != 200 or objects(data) != want:
                    L.fail("detect with %s: %d %r, want %s" % (list(hdr), st, data[:200], want))
                st, _, data = L.request("GET", base + "/v1/models", None, hdr)
                if st != 200 or json.loads(data)["models"][0]["name"] != "tiny":
                    L.fail("/v1/models with a key: %d %r" % (st, data[:200]))
            print("ok  Bearer / X-API-Key: detections = detectd detect, /v1/models answers")

            # DeepStack: the api_key form field
            ds_want = sorted(l for l, s in want if s >= 0.4)
            body, ctype = L.multipart([("api_key", KEY2, None, None), ("image", img, "image", None)])
            st, _, data = L.request("POST", base + "/v1/vision/detection", body, {"Content-Type": ctype})
            got = sorted(p["label"] for p in json.loads(data).get("predictions", [])) if st == 200 else None
            if st != 200 or got != ds_want:
                L.fail("DeepStack with api_key: %d %r, want %s" % (st, data[:200], ds_want))
            for bad in ("wrong", KEY2 + "x", ""):
                body, ctype = L.multipart([("api_key", bad, None, None), ("image", img, "image", None)])
                st, _, data = L.request("POST", base + "/v1/vision/detection", body, {"Content-Type": ctype})
                fails401 += 1
                d = json.loads(data)
                if st != 401 or d.get("success") is not False:
                    L.fail("DeepStack with api_key %r: %d %r" % (bad, st, data[:200]))
            print("ok  DeepStack api_key form field: right key = detectd detect, wrong/empty -> 401 success:false")

            # ---- metrics ----
            st, _, data = L.request("GET", base + "/metrics", None, {"Authorization": "Bearer " + KEY1})
            text = data.decode()
            m = re.search(r"^detectd_auth_failures_total (\S+)$", text, re.M)
            if st != 200 or not m or int(float(m.group(1))) != fails401:
                L.fail("detectd_auth_failures_total: %s, want %d" % (m and m.group(1), fails401))
            n401 = sum(int(float(v)) for v in re.findall(r'^detectd_requests_total\{[^}]*code="401"\} (\S+)$', text, re.M))
            if n401 != fails401:
                L.fail("detectd_requests_total code 401: %d, want %d" % (n401, fails401))
            print("ok  metrics: detectd_auth_failures_total = requests_total{code=401} = %d" % fails401)

            # ---- SIGHUP re-reads the key file ----
            write(keys, "%s\n" % KEY3)
            srv.signal(signal.SIGHUP)
            t0 = time.time()
            while time.time() - t0 < 20:
                if L.request("GET", base + "/v1/models", None, {"Authorization": "Bearer " + KEY3})[0] == 200:
                    break
                time.sleep(0.1)
            else:
                L.fail("the new key does not work 20 s after SIGHUP", srv.log)
            for k in (KEY1, KEY2):
                if L.request("GET", base + "/v1/models", None, {"Authorization": "Bearer " + k})[0] != 401:
                    L.fail("a removed key still works after SIGHUP")
            write(keys, "# emptied by mistake\n")
            srv.signal(signal.SIGHUP)
            t0 = time.time()
            while "API keys not reloaded" not in srv.logtext() and time.time() - t0 < 20:
                time.sleep(0.1)
            if "API keys not reloaded" not in srv.logtext():
                L.fail("no log line for the refused key file", srv.log)
            if L.request("GET", base + "/v1/models", None, {"Authorization": "Bearer " + KEY3})[0] != 200:
                L.fail("an empty key file on SIGHUP dropped the keys")
            print("ok  SIGHUP: new key works, removed keys refused; an empty file keeps the previous keys")
            srv.stop()
            log = srv.logtext()
            for k in [KEY1, KEY2, KEY3] + WRONG[:3]:
                if k in log:
                    L.fail("a key is in the log: %s" % [ln for ln in log.splitlines() if k in ln][:2])
            if "API keys required: 2 key(s)" not in log:
                L.fail("no startup line saying keys are required", srv.log)
            print("ok  no key (right or wrong) in the log")
        finally:
            srv.kill()
    print("summary: security_auth: %d routes protected, 401s counted (%d), Bearer/X-API-Key/api_key, SIGHUP reload"
          % (len(routes), fails401))


if __name__ == "__main__":
    main()

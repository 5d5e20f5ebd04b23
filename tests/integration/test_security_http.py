#!/usr/bin/env python3
"""test_security_http.py — HTTP-level robustness of `detectd serve`
(issue 9), on the helper model of test_serving_lib.py:

  * RFC 9112 3.2: an HTTP/1.1 request without a Host header, or with two,
    is answered 400 (JSON error); HTTP/1.0 without Host is fine.
  * Keep-alive: one client connection (http.client, reused) carries a
    sequence of GETs and POSTs, errors included, without being reopened;
    the detections on it equal `detectd detect`'s on the same photo.
  * Model names can never escape the model directory: repository
    load/unload, reload, v2 and DeepStack routes and ?model= with "..",
    absolute paths, %2e%2e, %2F, %00 (also after a valid name: no
    truncation to a valid route) are all 400/404, and none of them
    reloads a model (its version stays 1).
  * Nothing a client sends beyond sizes and types reaches the log:
    a marker put in the query string, body (also a DeepStack api_key
    field), Authorization, X-Api-Key, Cookie and User-Agent is absent from
    the server log (paths are logged, query strings never).

Exit 0 pass, 1 fail, 77 skip."""
import http.client
import json
import os
import socket
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_serving_lib as L  # noqa: E402

MARK = "S3cr3tMarkerZq81"


def raw(port, data, timeout=5):
    """Send raw bytes, read until the server closes or goes quiet."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.sendall(data)
    out = b""
    try:
        while True:
            d = s.recv(65536)
            if not d:
                break
            out += d
            if b"\r\n\r\n" in out and b"Connection: close" not in out:
                head, _, body = out.partition(b"\r\n\r\n")
                cl = [ln for ln in head.split(b"\r\n") if ln.lower().startswith(b"content-length:")]
                if cl and len(body) >= int(cl[0].split(b":")[1]):
                    break
    except socket.timeout:
        pass
    s.close()
    return out


def status_of(resp):
    if not resp.startswith(b"HTTP/1."):
        return None
    return int(resp.split(b" ", 2)[1])


def json_error(resp, what):
    body = resp.partition(b"\r\n\r\n")[2]
    try:
        d = json.loads(body)
    except ValueError:
        L.fail("%s: body is not JSON: %r" % (what, body[:200]))
    if not isinstance(d.get("error"), str):
        L.fail("%s: no error message: %r" % (what, d))


def main():
    L.require_tools()
    with tempfile.TemporaryDirectory() as tmp:
        man = L.make_tiny_model(tmp, "tiny")
        jpg = L.make_jpeg(os.path.join(tmp, "a.jpg"), seed=3)
        img = open(jpg, "rb").read()
        want = L.oracle_objects(man, jpg)
        srv = L.Server(["--model", man, "--threshold", "0.3", "--access-log", "true"], tmp)
        try:
            srv.wait_ready(60)
            port = srv.port

            # ---- Host (RFC 9112 3.2) ----
            cases = [
                (b"GET /health HTTP/1.1\r\nConnection: close\r\n\r\n", 400, "HTTP/1.1 without Host"),
                (b"GET /health HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n", 400, "two Host headers"),
                (b"POST /v1/detect HTTP/1.1\r\nContent-Length: 4\r\nConnection: close\r\n\r\nabcd", 400,
                 "POST without Host"),
                (b"GET /health HTTP/1.0\r\n\r\n", 200, "HTTP/1.0 without Host"),
                (b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", 200, "HTTP/1.1 with Host"),
            ]
            for data, code, what in cases:
                resp = raw(port, data)
                if status_of(resp) != code:
                    L.fail("%s: got %r, want %d" % (what, resp[:80], code), srv.log)
                if code >= 400:
                    json_error(resp, what)
            print("ok  Host: missing/duplicate on HTTP/1.1 -> 400 JSON, HTTP/1.0 without Host -> 200")

            # ---- keep-alive over a sequence of GETs and POSTs ----
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            first = None
            seq = [("GET", "/v1/models", None, {}, 200), ("POST", "/v1/detect?threshold=0.3", img,
                                                          {"Content-Type": "image/jpeg"}, 200),
                   ("GET", "/health", None, {}, 200), ("GET", "/metrics", None, {}, 200),
                   ("GET", "/no/such/route", None, {}, 404), ("GET", "/v2/models/tiny", None, {}, 200),
                   ("POST", "/v1/detect?threshold=0.3", img, {"Content-Type": "image/jpeg"}, 200),
                   ("HEAD", "/health", None, {}, 200), ("GET", "/", None, {}, 200),
                   ("POST", "/v2/repository/index", b"{}", {"Content-Type": "application/json"}, 200),
                   ("GET", "/v2/health/ready", None, {}, 200)]
            for method, path, body, hdrs, code in seq:
                c.request(method, path, body=body, headers=hdrs)
                r = c.getresponse()
                data = r.read()
                if r.status != code:
                    L.fail("keep-alive %s %s: %d, want %d: %r" % (method, path, r.status, code, data[:200]), srv.log)
                if (r.getheader("Connection") or "").lower() == "close" or c.sock is None:
                    L.fail("keep-alive: %s %s closed the connection" % (method, path), srv.log)
                name = c.sock.getsockname()
                if first is None:
                    first = name
                elif name != first:
                    L.fail("keep-alive: the connection was reopened before %s %s" % (method, path), srv.log)
                if method == "POST" and path.startswith("/v1/detect"):
                    got = sorted((o["label"], round(o["score"], 3)) for o in json.loads(data)["objects"])
                    if got != want:
                        L.fail("keep-alive detection %s != detectd detect %s" % (got, want))
            c.close()
            print("ok  keep-alive: %d GET/HEAD/POST requests on one connection, detections = detectd detect" % len(seq))

            # ---- model names never escape the model directory ----
            trav = [
                ("POST", "/v2/repository/models/../load"), ("POST", "/v2/repository/models/%2e%2e/load"),
                ("POST", "/v2/repository/models/..%2f..%2fetc%2fpasswd/load"),
                ("POST", "/v2/repository/models/%2Fetc%2Fpasswd/load"),
                ("POST", "/v2/repository/models//etc/passwd/load"),
                ("POST", "/v2/repository/models/tiny%00/load"), ("POST", "/v2/repository/models/tiny/load%00.x"),
                ("POST", "/v2/repository/models/%2e%2e/unload"), ("POST", "/v2/repository/models/tiny%00x/unload"),
                ("POST", "/v1/models/..%2F..%2Ftmp/reload"), ("POST", "/v1/models/tiny/reload%00"),
                ("POST", "/v1/models/.tiny/reload"), ("POST", "/v1/models/%2e%2e%2e/reload"),
                ("POST", "/v2/models/%2e%2e/infer"), ("POST", "/v2/models/..%2ftiny/infer"),
                ("GET", "/v2/models/%2e%2e/ready"), ("GET", "/v2/models/tiny%00/ready"),
                ("POST", "/v1/vision/custom/..%2f..%2fetc"), ("POST", "/v1/vision/custom/%2e%2e"),
                ("POST", "/v1/detect?model=../tiny"), ("POST", "/v1/detect?model=%2Fetc%2Fpasswd"),
                ("POST", "/v1/detect?model=tiny%00x"), ("POST", "/v1/detect?model=%2e%2e"),
                ("GET", "/../../etc/passwd"), ("GET", "/%2e%2e/%2e%2e/etc/passwd"),
            ]
            for method, path in trav:
                body = b"{}" if method == "POST" else b""
                hdr = "Content-Type: application/json\r\nContent-Length: %d\r\n" % len(body) if body else ""
                if "/v1/detect" in path or "/vision/" in path:
                    body = img
                    hdr = "Content-Type: image/jpeg\r\nContent-Length: %d\r\n" % len(body)
                resp = raw(port, ("%s %s HTTP/1.1\r\nHost: x\r\n%sConnection: close\r\n\r\n" % (method, path, hdr)).encode()
                           + body)
                st = status_of(resp)
                if st not in (400, 404):
                    L.fail("%s %s: %r, want 400 or 404" % (method, path, resp[:300]), srv.log)
            st, _, data = L.request("GET", srv.base + "/v1/models")
            models = json.loads(data)["models"]
            if len(models) != 1 or models[0]["version"] != 1:
                L.fail("a traversal attempt reloaded or added a model: %s" % models)
            print("ok  %d traversal paths (.., %%2e%%2e, %%2F, %%00, absolute) -> 400/404; no reload happened" % len(trav))

            # ---- request data stays out of the log ----
            q = "/v1/detect?threshold=0.3&classes=%s" % MARK
            hdrs = {"Content-Type": "image/jpeg", "Authorization": "Bearer " + MARK, "Cookie": "s=" + MARK,
                    "User-Agent": MARK, "X-Api-Key": MARK}
            st, _, _ = L.request("POST", srv.base + q, img, hdrs)
            if st != 400:
                L.fail("unknown class: %d, want 400" % st)
            st, _, _ = L.request("POST", srv.base + "/v1/detect", img + MARK.encode(), hdrs)
            if st != 200:
                L.fail("photo with a trailer: %d" % st)
            body, ctype = L.multipart([("image", img, "a.jpg", "image/jpeg"), ("api_key", MARK, None, None)])
            st, _, _ = L.request("POST", srv.base + "/v1/vision/detection", body, {"Content-Type": ctype})
            if st != 200:
                L.fail("DeepStack request: %d" % st)
            srv.stop()
            log = srv.logtext()
            if MARK in log:
                bad = [ln for ln in log.splitlines() if MARK in ln]
                L.fail("request data in the log: %s" % bad[:3])
            if "msg=request" not in log:
                L.fail("no access log lines: the check above proved nothing")
            print("ok  query strings, bodies, Authorization/X-Api-Key/Cookie/User-Agent stay out of the log")
        finally:
            srv.kill()
    print("summary: security_http: Host, keep-alive (%d requests), %d traversal paths, log hygiene" % (len(seq), len(trav)))


if __name__ == "__main__":
    main()

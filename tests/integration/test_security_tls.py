#!/usr/bin/env python3
"""test_security_tls.py — HTTPS (`detectd serve --tls-cert --tls-key`,
libmicrohttpd's GnuTLS support), on the helper model of
test_serving_lib.py, with a self-signed certificate made here by the
openssl CLI:

  * python's ssl client, verifying the server against that certificate
    (hostname 127.0.0.1 in its subjectAltName), gets /health and a
    detection equal to `detectd detect`'s (the oracle), several requests
    on one kept-alive TLS connection; TLS 1.2 and 1.3 accepted, 1.0 and
    1.1 refused;
  * plain HTTP (and garbage) sent to the TLS port is refused promptly
    (connection closed, never an HTTP answer) and the server keeps serving
    HTTPS; the log says "listening on https://";
  * bad settings exit non-zero naming the file: only one of the two flags,
    a missing, empty or non-PEM certificate, a key file with no key, a key
    that does not match the certificate;
  * SIGTERM -> exit 0.

Exit 0 pass, 1 fail, 77 skip (no openssl CLI, or libmicrohttpd without TLS)."""
import http.client
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_serving_lib as L  # noqa: E402


def make_cert(d, name):
    cert, key = os.path.join(d, name + ".crt"), os.path.join(d, name + ".key")
    p = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                        "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=detectd-test",
                        "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"], capture_output=True, text=True)
    if p.returncode != 0:
        L.fail("openssl req: " + p.stderr)
    os.chmod(key, 0o600)
    return cert, key


def start_fails(args, what, must_name):
    port = L.free_port()
    p = subprocess.run([L.DETECTD, "serve", "--host", "127.0.0.1", "--port", str(port)] + args,
                       capture_output=True, text=True, timeout=60)
    err = p.stdout + p.stderr
    if p.returncode == 0:
        L.fail("%s: exit 0, want an error" % what)
    if must_name not in err:
        L.fail("%s: the message does not name %s: %s" % (what, must_name, err))
    if "PRIVATE KEY" in err and "-----BEGIN" in err and "no -----BEGIN" not in err:
        L.fail("%s: key material in the message: %s" % (what, err))
    line = [ln for ln in err.splitlines() if must_name in ln][0]
    print("ok  refuses to start (exit %d): %s: ...%s" % (p.returncode, what, line[-100:]))
    return err


def main():
    L.require_tools()
    if not shutil.which("openssl"):
        L.skip("needs the openssl CLI (tools/install-deps.sh)")
    with tempfile.TemporaryDirectory() as tmp:
        man = L.make_tiny_model(tmp, "tiny")
        jpg = L.make_jpeg(os.path.join(tmp, "a.jpg"), seed=6)
        img = open(jpg, "rb").read()
        want = L.oracle_objects(man, jpg)
        cert, key = make_cert(tmp, "server")
        cert2, key2 = make_cert(tmp, "other")

        # ---- bad settings ----
        m = ["--model", man]
        start_fails(m + ["--tls-cert", cert], "--tls-cert without --tls-key", "--tls-key")
        start_fails(m + ["--tls-key", key], "--tls-key without --tls-cert", "--tls-cert")
        missing = os.path.join(tmp, "missing.crt")
        start_fails(m + ["--tls-cert", missing, "--tls-key", key], "missing certificate", missing)
        empty = os.path.join(tmp, "empty.pem")
        open(empty, "w").close()
        start_fails(m + ["--tls-cert", empty, "--tls-key", key], "empty certificate", empty)
        junk = os.path.join(tmp, "junk.pem")
        with open(junk, "w") as f:
            f.write("this is not a certificate\n")
        start_fails(m + ["--tls-cert", junk, "--tls-key", key], "non-PEM certificate", junk)
        start_fails(m + ["--tls-cert", cert, "--tls-key", cert], "a certificate as the key", cert)
        start_fails(m + ["--tls-cert", cert, "--tls-key", key2], "a key of another certificate", key2)
        start_fails(m + ["--tls-cert", cert, "--tls-key", tmp], "a directory as the key", tmp)

        # ---- HTTPS ----
        port = L.free_port()
        logp = os.path.join(tmp, "server.log")
        logf = open(logp, "w")
        proc = subprocess.Popen([L.DETECTD, "serve", "--host", "127.0.0.1", "--port", str(port), "--model", man,
                                 "--threshold", "0.3", "--tls-cert", cert, "--tls-key", key, "--timeout-s", "2"],
                                stdout=logf, stderr=subprocess.STDOUT)
        ctx = ssl.create_default_context(cafile=cert)
        try:
            t0 = time.time()
            while True:
                if proc.poll() is not None:
                    L.fail("server exited (%s) before it was ready" % proc.returncode, logp)
                try:
                    c = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=10)
                    c.request("GET", "/v2/health/ready")
                    if c.getresponse().status == 200:
                        c.close()
                        break
                    c.close()
                except (OSError, http.client.HTTPException):
                    pass
                if time.time() - t0 > 60:
                    L.fail("not ready over HTTPS after 60 s", logp)
                time.sleep(0.1)

            c = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=30)
            first = None
            for i in range(4):
                c.request("POST", "/v1/detect?threshold=0.3", body=img, headers={"Content-Type": "image/jpeg"})
                r = c.getresponse()
                data = r.read()
                got = sorted((o["label"], round(o["score"], 3)) for o in json.loads(data)["objects"]) \
                    if r.status == 200 else None
                if got != want:
                    L.fail("HTTPS detection %d: %d %r, want %s" % (i, r.status, data[:200], want), logp)
                c.request("GET", "/health")
                r = c.getresponse()
                r.read()
                if r.status != 200:
                    L.fail("HTTPS /health: %d" % r.status)
                name = c.sock.getsockname()
                first = first or name
                if name != first:
                    L.fail("HTTPS keep-alive: the connection was reopened")
            version = c.sock.version()
            c.close()
            if version not in ("TLSv1.2", "TLSv1.3"):
                L.fail("negotiated %s, want TLS 1.2 or 1.3" % version)
            print("ok  HTTPS (%s, certificate verified): 8 requests on one connection, detections = detectd detect"
                  % version)

            # ---- protocol versions: 1.2 and 1.3 only ----
            import warnings
            warnings.simplefilter("ignore", DeprecationWarning)
            seen = {}
            for v in (ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1, ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
                vc = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
                vc.load_verify_locations(cert)
                vc.set_ciphers("DEFAULT:@SECLEVEL=0")  # let the client offer old versions at all
                vc.minimum_version = vc.maximum_version = v
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
                        with vc.wrap_socket(s, server_hostname="127.0.0.1") as t:
                            seen[v.name] = t.version()
                except ssl.SSLError as e:
                    if "NO_PROTOCOLS_AVAILABLE" in str(e) or "no protocols available" in str(e):
                        seen[v.name] = "client cannot offer it"
                    else:
                        seen[v.name] = None
                except OSError:
                    seen[v.name] = None
            if seen["TLSv1_2"] != "TLSv1.2" or seen["TLSv1_3"] != "TLSv1.3":
                L.fail("TLS 1.2 / 1.3 not both accepted: %s" % seen)
            if seen["TLSv1"] not in (None, "client cannot offer it") or seen["TLSv1_1"] not in (None, "client cannot offer it"):
                L.fail("an old TLS version was accepted: %s" % seen)
            print("ok  TLS versions: %s" % ", ".join("%s=%s" % (k, v or "refused") for k, v in seen.items()))

            # ---- plain HTTP and garbage to the TLS port ----
            def read_all(s, limit):
                s.settimeout(limit)
                got = b""
                try:
                    while True:
                        d = s.recv(4096)
                        if not d:
                            return got, True
                        got += d
                except socket.timeout:
                    return got, False
                except ConnectionResetError:
                    return got, True

            t1 = time.time()
            for i in range(10):
                s = socket.create_connection(("127.0.0.1", port), timeout=10)
                s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
                got, closed = read_all(s, 5)
                s.close()
                if got.startswith(b"HTTP/") or not closed:
                    L.fail("plain HTTP request %d: %s %r" % (i, "closed" if closed else "left open", got[:100]))
            took = time.time() - t1
            # Garbage and a truncated handshake: the server may wait for more
            # bytes, but only until --timeout-s (2 s here) drops them.
            junk = [b"\x00" * 64, b"\x16\x03\x01\x00\x05hello", b"\x16\x03\x01\xff\xff" + b"\x01" * 100,
                    os.urandom(2000), b"\r\n\r\n"]
            socks = []
            for data in junk:
                s = socket.create_connection(("127.0.0.1", port), timeout=10)
                s.sendall(data)
                socks.append(s)
            t2 = time.time()
            for i, s in enumerate(socks):
                got, closed = read_all(s, max(0.1, 12 - (time.time() - t2)))
                s.close()
                if got.startswith(b"HTTP/") or not closed:
                    L.fail("garbage %d: %s %r" % (i, "closed" if closed else "still open after 12 s", got[:100]))
            took_junk = time.time() - t2
            st = None
            c = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=30)
            c.request("POST", "/v1/detect?threshold=0.3", body=img, headers={"Content-Type": "image/jpeg"})
            r = c.getresponse()
            st = r.status
            data = r.read()
            c.close()
            if st != 200 or sorted((o["label"], round(o["score"], 3)) for o in json.loads(data)["objects"]) != want:
                L.fail("HTTPS after the plain requests: %d %r" % (st, data[:200]), logp)
            print("ok  plain HTTP on the TLS port: closed at once, never answered in clear (%.2f s for 10); "
                  "%d garbage/truncated handshakes closed within %.1f s (--timeout-s 2); HTTPS still serves"
                  % (took, len(junk), took_junk))

            proc.send_signal(signal.SIGTERM)
            rc = proc.wait(30)
            if rc != 0:
                L.fail("exit %d after SIGTERM" % rc, logp)
            logf.close()
            log = open(logp, errors="replace").read()
            if "listening on https://127.0.0.1:%d" % port not in log:
                L.fail("the log does not say https", logp)
            if "PRIVATE KEY" in log:
                L.fail("key material in the log", logp)
            print("ok  log: listening on https://127.0.0.1:%d; SIGTERM -> exit 0" % port)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    print("summary: security_tls: HTTPS detections = oracle, plain HTTP refused, 8 bad settings refused")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""test_log_full.py — `detectd serve` keeps serving when its log stream
fails (issue 9): stdout and stderr on /dev/full (every write ENOSPC), on a
pipe whose reader is gone (EPIPE: SIGPIPE must not kill it), and closed
outright (a closed stderr must not hand fd 2 to a client socket, where log
lines would corrupt answers).

In each case, with the access log on (a log line per request): good
requests give the same objects as `detectd detect` (the oracle), bad ones
their exact error status (400, 404, 405, 413), no answer carries a log
line (a closed stdout/stderr is pointed at /dev/null, never reused for a
socket), the idle server uses no CPU (no busy loop on a failing write), and
SIGTERM ends it with exit 0.  Exit 0 pass, 1 fail, 77 skip."""
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_serving_lib as L  # noqa: E402


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_ready(proc, base, limit=60):
    t0 = time.time()
    while time.time() - t0 < limit:
        if proc.poll() is not None:
            L.fail("server exited (%s) before it was ready" % proc.returncode)
        try:
            if L.request("GET", base + "/v2/health/ready", timeout=5)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    L.fail("server not ready after %ds" % limit)


def raw_answer(port, data):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(data)
    out = b""
    while True:
        d = s.recv(65536)
        if not d:
            break
        out += d
    s.close()
    return out


def objects(data):
    return sorted((o["label"], round(o["score"], 3)) for o in json.loads(data)["objects"])


def run_case(name, man, img, want, stdio):
    port = L.free_port()
    base = "http://127.0.0.1:%d" % port
    args = [L.DETECTD, "serve", "--host", "127.0.0.1", "--port", str(port), "--model", man, "--threshold", "0.3",
            "--access-log", "true", "--max-body-bytes", "200000"]
    pipe_r = None
    if stdio == "full":
        full = open("/dev/full", "w")
        proc = subprocess.Popen(args, stdout=full, stderr=full)
        full.close()
    elif stdio == "broken-pipe":
        pipe_r, pipe_w = os.pipe()
        proc = subprocess.Popen(args, stdout=pipe_w, stderr=pipe_w)
        os.close(pipe_w)
        os.close(pipe_r)  # the reader is gone before the server writes a line
    else:  # closed
        proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                preexec_fn=lambda: (os.close(1), os.close(2)))
    try:
        wait_ready(proc, base)
        if stdio == "closed":
            # The closed descriptors must not be reused for a socket (the
            # listener or a client's connection would get the log lines).
            for fd in (1, 2):
                target = os.readlink("/proc/%d/fd/%d" % (proc.pid, fd))
                if target != "/dev/null":
                    L.fail("closed: fd %d of the server is %s, want /dev/null" % (fd, target))
        for i in range(20):
            st, _, data = L.request("POST", base + "/v1/detect?threshold=0.3", img, {"Content-Type": "image/jpeg"})
            if st != 200 or objects(data) != want:
                L.fail("%s: detection %d: %d %r, want %s" % (name, i, st, data[:200], want))
        bad = [("POST", "/v1/detect", b"not an image", {"Content-Type": "image/jpeg"}, 400),
               ("GET", "/no/such/route", None, {}, 404),
               ("DELETE", "/v1/detect", None, {}, 405),
               ("POST", "/v1/detect", b"\xff" * 300000, {"Content-Type": "image/jpeg"}, 413),
               ("POST", "/v2/models/nope/infer", b"{}", {"Content-Type": "application/json"}, 404)]
        for _ in range(5):
            for method, path, body, hdrs, code in bad:
                st, _, data = L.request(method, base + path, body, hdrs)
                if st != code or not isinstance(json.loads(data).get("error"), str):
                    L.fail("%s: %s %s: %d %r, want %d" % (name, method, path, st, data[:200], code))
        # Raw answers: a log line must never end up in a client's stream.
        for _ in range(10):
            ans = raw_answer(port, b"GET /v2/health/ready HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            if b"level=" in ans or not ans.startswith(b"HTTP/1.1 200"):
                L.fail("%s: an answer carries a log line: %r" % (name, ans[:300]))
        c0 = cpu_seconds(proc.pid)
        time.sleep(1.5)
        idle = cpu_seconds(proc.pid) - c0
        if idle > 0.3:
            L.fail("%s: %.2f s of CPU in 1.5 s idle: busy loop on the failing log?" % (name, idle))
        st, _, _ = L.request("GET", base + "/health")
        if st != 200:
            L.fail("%s: /health %d after the requests" % (name, st))
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(30)
        except subprocess.TimeoutExpired:
            L.fail("%s: no exit within 30 s of SIGTERM" % name)
        if rc != 0:
            L.fail("%s: exit %d after SIGTERM, want 0" % (name, rc))
        print("ok  %s: 20 detections = detectd detect, %d error answers exact, no log in answers, "
              "idle CPU %.2f s, SIGTERM -> 0" % (name, 5 * len(bad), idle))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def main():
    L.require_tools()
    if not os.path.exists("/dev/full"):
        L.skip("no /dev/full")
    with tempfile.TemporaryDirectory() as tmp:
        man = L.make_tiny_model(tmp, "tiny")
        jpg = L.make_jpeg(os.path.join(tmp, "a.jpg"), seed=4, w=320, h=240)
        img = open(jpg, "rb").read()
        want = L.oracle_objects(man, jpg)
        if not want:
            L.fail("the oracle found nothing: the comparison would prove nothing")
        for case in ("full", "broken-pipe", "closed"):
            run_case(case, man, img, want, case)
    print("summary: log_full: /dev/full, broken pipe, closed stdio: served, exact answers, exit 0")


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""test_idle_flood.py — thousands of idle connections against `detectd serve`
with its default limits: 3000 clients connect and send nothing (or half a
request line); real clients must still be served, promptly, while they sit
there, the server's RSS must stay bounded, and after they go it serves as
before.  The server runs with a soft RLIMIT_NOFILE of 1024 (a common default)
so that it has to raise the limit itself to honour --max-connections.
Also: a limit below the flood (--max-connections 64) must not crash it or
lose the connections it has (clients over the limit wait or are refused).
Skips (77) without models/nanodet or a test image."""
import http.client
import os
import resource
import socket
import subprocess
import sys
import time

ROOT = os.environ.get("ROOT") or os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DETECTD = os.environ.get("DETECTD") or os.path.join(ROOT, "build", "detectd")
IMG = "/usr/share/darknet/data/dog.jpg"
N_IDLE = 3000
if not os.path.exists(os.path.join(ROOT, "models", "nanodet", "nanodet.json")):
    print("models/nanodet not fetched (make models)")
    sys.exit(77)
if not os.path.exists(IMG):
    print("needs %s (Debian package darknet)" % IMG)
    sys.exit(77)
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
if hard != resource.RLIM_INFINITY and hard < N_IDLE + 200:
    print("RLIMIT_NOFILE hard limit %d is too low for %d connections" % (hard, N_IDLE))
    sys.exit(77)
resource.setrlimit(resource.RLIMIT_NOFILE, (N_IDLE + 200, hard))
body = open(IMG, "rb").read()
fails = []


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def start(extra):
    port = free_port()
    log = open(os.path.join(os.environ.get("TMPDIR", "/tmp"), "idle_flood_%d.log" % port), "w+")

    def child_limits():
        resource.setrlimit(resource.RLIMIT_NOFILE, (1024, hard))

    p = subprocess.Popen([DETECTD, "serve", "--host", "127.0.0.1", "--port", str(port), "--model", "nanodet",
                          "--access-log", "false"] + extra, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                         preexec_fn=child_limits)
    t0 = time.time()
    while time.time() - t0 < 120:
        if p.poll() is not None:
            log.seek(0)
            sys.exit("FAIL: server exited: %s" % log.read()[-2000:])
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", "/v2/health/ready")
            if c.getresponse().status == 200:
                return p, port, log
        except OSError:
            pass
        time.sleep(0.2)
    p.kill()
    sys.exit("FAIL: server not ready")


def detect(port, timeout=10):
    t0 = time.time()
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        c.request("POST", "/v1/detect", body=body, headers={"Content-Type": "image/jpeg"})
        r = c.getresponse()
        r.read()
        c.close()
        return r.status, time.time() - t0
    except OSError as e:
        return repr(e), time.time() - t0


def rss_mb(p):
    for line in open("/proc/%d/status" % p.pid):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    return 0.0


def stop(p, log):
    p.terminate()
    try:
        rc = p.wait(timeout=40)
    except subprocess.TimeoutExpired:
        p.kill()
        rc = "hung"
    if rc != 0:
        log.seek(0)
        fails.append("exit status %s after SIGTERM: %s" % (rc, log.read()[-1500:]))


# 1. the defaults: 3000 idle clients, real clients still served
p, port, log = start([])
st, _ = detect(port)
if st != 200:
    fails.append("before the flood: %s" % st)
rss0 = rss_mb(p)
socks = []
t0 = time.time()
for i in range(N_IDLE):
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
    except OSError as e:
        fails.append("idle connection %d refused: %s" % (i, e))
        break
    if i % 3 == 0:
        s.sendall(b"POST /v1/detect HTTP/1.1\r\nHost: x\r\n")  # headers never finished
    socks.append(s)
print("opened %d idle connections in %.1f s" % (len(socks), time.time() - t0))
time.sleep(1)
worst = 0.0
for k in range(5):
    st, dt = detect(port)
    worst = max(worst, dt)
    if st != 200:
        fails.append("with %d idle connections, request %d: %s" % (len(socks), k, st))
grew = rss_mb(p) - rss0
print("with %d idle connections: 5 detections, slowest %.2f s; RSS +%.1f MB" % (len(socks), worst, grew))
if grew > 96:
    fails.append("RSS grew by %.0f MB with %d idle connections" % (grew, len(socks)))
for s in socks:
    s.close()
time.sleep(1)
st, _ = detect(port)
if st != 200:
    fails.append("after the flood: %s" % st)
stop(p, log)

# 2. a limit below the flood: the extra clients wait or are refused; the
#    server neither crashes nor stops serving once they go
p, port, log = start(["--max-connections", "64"])
socks = []
for i in range(300):
    try:
        socks.append(socket.create_connection(("127.0.0.1", port), timeout=1))
    except OSError:
        break
for s in socks:
    s.close()
time.sleep(1)
st, _ = detect(port, timeout=30)
if st != 200:
    fails.append("--max-connections 64, after 300 connections: %s" % st)
log.seek(0)
print("--max-connections 64: %d connections opened and dropped, then served" % len(socks))
stop(p, log)

for f in fails:
    print("FAIL:", f)
print("summary: idle flood: %d idle connections with the default limits, real requests served (slowest %.2f s), "
      "%d failures" % (N_IDLE, worst, len(fails)))
sys.exit(1 if fails else 0)

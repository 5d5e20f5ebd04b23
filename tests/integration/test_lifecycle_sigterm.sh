#!/bin/sh
# SIGTERM during load loses no accepted request.  Eight clients send
# requests (fresh connections and keep-alive ones, each with its own
# X-Request-Id) to a server whose model takes real time, so requests are
# queued and running when SIGTERM arrives.  Afterwards:
#   - the server exits 0 (within its drain time);
#   - every request the server accepted (it logged it) was answered 200,
#     and the client got that 200: nothing accepted was dropped or 5xx'd;
#   - a request the client could not complete never reached the server
#     (connection refused or closed before the server read it);
#   - requests were in flight at SIGTERM (the test tested something).
set -eu
. "$(dirname "$0")/lib_server.sh"
$PY -c 'import onnx, PIL' 2>/dev/null || { echo "needs python3-onnx and python3-pil"; exit 77; }
$PY - "$TMP" "$ROOT/tests/integration" <<'PY'
import sys
sys.path.insert(0, sys.argv[2])
import test_serving_lib as L
L.make_tiny_model(sys.argv[1], "slow", slow_convs=4)
L.make_jpeg(sys.argv[1] + "/a.jpg", seed=4)
PY

start_server --model "$TMP/slow.detectd.json" --workers 1 --threads-per-worker 1 --queue-size 64 --drain-timeout-s 20
wait_ready 60

$PY - "$PORT" "$SERVER_PID" "$TMP" <<'PY' || die "SIGTERM under load"
import http.client, os, signal, socket, sys, threading, time
port, pid, tmp = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
img = open(tmp + "/a.jpg", "rb").read()
results = {}          # id -> status code or "error:<what>"
lock = threading.Lock()
stop_at = [None]

def one(conn, rid):
    conn.request("POST", "/v1/detect", body=img, headers={"Content-Type": "image/jpeg", "X-Request-Id": rid})
    r = conn.getresponse()
    body = r.read()
    assert len(body) == int(r.getheader("Content-Length")), "truncated answer"
    return r.status, r.getheader("Connection")

def client(k, keepalive):
    n, refused = 0, 0
    conn = None
    while refused < 3 and n < 500:
        rid = "c%d-%d" % (k, n)
        n += 1
        try:
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            st, hdr_conn = one(conn, rid)
            with lock:
                results[rid] = st
            if not keepalive or (hdr_conn or "").lower() == "close":
                conn.close()
                conn = None
        except ConnectionRefusedError:
            with lock:
                results[rid] = "error:refused"
            refused += 1
            conn = None
            time.sleep(0.05)
        except (ConnectionError, http.client.HTTPException, socket.timeout, OSError) as e:
            with lock:
                results[rid] = "error:%s" % type(e).__name__
            if conn:
                conn.close()
            conn = None
            time.sleep(0.05)

threads = [threading.Thread(target=client, args=(k, k % 2 == 1)) for k in range(8)]
for t in threads:
    t.start()
time.sleep(1.5)
os.kill(pid, signal.SIGTERM)
t0 = time.time()
for t in threads:
    t.join(120)
# wait for the server to exit (lib_server's stop_server checks its status)
for _ in range(600):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        break
    if open("/proc/%d/stat" % pid).read().split()[2] == "Z":
        break
    time.sleep(0.05)
took = time.time() - t0
log = open(tmp + "/server.log").read()
logged = {}
for ln in log.splitlines():
    if "msg=request " in ln and " path=/v1/detect " in ln:
        f = dict(p.split("=", 1) for p in ln.split(" ") if "=" in p)
        logged[f["id"]] = int(f["status"])
ok = sum(1 for v in results.values() if v == 200)
errs = {k: v for k, v in results.items() if v != 200}
import re
m = re.search(r"shutting down: (\d+) request\(s\) in flight", log)
assert m, "no shutdown line in the log"
inflight = int(m.group(1))
print("%d requests answered 200, %d not completed by the client (%s); %d in flight at SIGTERM; exit after %.1f s"
      % (ok, len(errs), sorted(set(errs.values())), inflight, took))
assert inflight >= 1, "nothing was in flight at SIGTERM"
for rid, st in logged.items():
    assert st == 200, "accepted request %s answered %s" % (rid, st)
    assert results.get(rid) == 200, "accepted request %s: client got %s" % (rid, results.get(rid))
for rid, v in errs.items():
    assert not isinstance(v, int), "client got HTTP %s for %s" % (v, rid)
    assert rid not in logged, "request %s reached the server but the client got %s" % (rid, v)
assert ok >= 10, ok
print("ok  every accepted request answered 200; the rest were never accepted")
PY
# the server has exited by now: collect its status (must be 0)
rc=0
wait "$SERVER_PID" || rc=$?
SERVER_PID=""
[ $rc -eq 0 ] || die "server exited with $rc after SIGTERM"
grep -q 'msg=stopped' "$SERVER_LOG" || die "no clean stop in the log"
echo "pass"

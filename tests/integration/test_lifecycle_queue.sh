#!/bin/sh
# Backpressure: a full queue answers 503 + Retry-After at once, never a
# timeout; a request still waiting at its deadline answers 504.
#   1. one worker, --queue-size 1, a model that takes real time, 16
#      requests at once: each is answered 200 or 503; every 503 comes fast
#      (well before the requests ahead of it could have run) with
#      Retry-After; nothing times out.
#   2. --request-timeout-ms 60, a longer queue, 16 requests at once: the
#      ones still waiting at 60 ms get 504 (soon after their deadline, not
#      after their turn), the others 200.
set -eu
. "$(dirname "$0")/lib_server.sh"
$PY -c 'import onnx, PIL' 2>/dev/null || { echo "needs python3-onnx and python3-pil"; exit 77; }
$PY - "$TMP" "$ROOT/tests/integration" <<'PY'
import sys
sys.path.insert(0, sys.argv[2])
import test_serving_lib as L
L.make_tiny_model(sys.argv[1], "slow", slow_convs=8)
L.make_jpeg(sys.argv[1] + "/a.jpg", seed=6)
PY

cat > "$TMP/burst.py" <<'PY'
import http.client, sys, threading, time
port, n, img = int(sys.argv[1]), int(sys.argv[2]), open(sys.argv[3], "rb").read()
out = [None] * n
go = threading.Event()
def one(i):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    go.wait()
    t0 = time.time()
    try:
        c.request("POST", "/v1/detect", body=img, headers={"Content-Type": "image/jpeg"})
        r = c.getresponse()
        r.read()
        out[i] = (r.status, time.time() - t0, r.getheader("Retry-After"))
    except Exception as e:
        out[i] = ("error %r" % e, time.time() - t0, None)
ts = [threading.Thread(target=one, args=(i,)) for i in range(n)]
[t.start() for t in ts]
time.sleep(0.2)
go.set()
[t.join() for t in ts]
for st, dt, ra in out:
    print(st, "%.3f" % dt, ra)
PY

# 1. a full queue
start_server --model "$TMP/slow.detectd.json" --workers 1 --threads-per-worker 1 --queue-size 1 --prep-threads 2
wait_ready 60
$PY "$TMP/burst.py" "$PORT" 16 "$TMP/a.jpg" > "$TMP/r1.txt"
$PY - "$TMP/r1.txt" <<'PY' || die "full queue"
import sys
rows = [l.split() for l in open(sys.argv[1])]
ok = [float(r[1]) for r in rows if r[0] == "200"]
busy = [(float(r[1]), r[2]) for r in rows if r[0] == "503"]
other = [r for r in rows if r[0] not in ("200", "503")]
assert not other, "not 200/503: %s" % other
assert busy, "no 503 with one worker and a queue of 1 under 16 requests"
assert all(ra == "1" for _, ra in busy), "503 without Retry-After: 1"
slowest_ok = max(ok)
fastest_503 = max(t for t, _ in busy)
print("%d x 200 (slowest %.0f ms), %d x 503 (slowest %.0f ms)" % (len(ok), slowest_ok * 1e3, len(busy), fastest_503 * 1e3))
# 503s are answered at once: faster than the requests that were served
assert fastest_503 < max(slowest_ok, 0.05) and fastest_503 < 2.0, "503s were not immediate"
print("ok  full queue: fast 503 + Retry-After, the rest 200, no timeouts")
PY
curl -s "$BASE/metrics" | grep -q 'detectd_rejected_requests_total{model="slow"} [1-9]' || die "rejections not counted"
stop_server

# 2. deadlines
start_server --model "$TMP/slow.detectd.json" --workers 1 --threads-per-worker 1 --queue-size 64 --request-timeout-ms 60
wait_ready 60
$PY "$TMP/burst.py" "$PORT" 16 "$TMP/a.jpg" > "$TMP/r2.txt"
$PY - "$TMP/r2.txt" <<'PY' || die "deadlines"
import sys
rows = [l.split() for l in open(sys.argv[1])]
ok = [float(r[1]) for r in rows if r[0] == "200"]
late = [float(r[1]) for r in rows if r[0] == "504"]
other = [r for r in rows if r[0] not in ("200", "504")]
assert not other, "not 200/504: %s" % other
print("%d x 200 (slowest %.0f ms), %d x 504 (after %s ms)" % (len(ok), max(ok) * 1e3, len(late),
      sorted(round(t * 1e3) for t in late)))
assert late, "16 requests on one worker, none waited 60 ms?"
assert ok, "nothing was served"
# answered at the deadline (10 ms timer + scheduling), not when their turn came
assert all(0.05 <= t < 1.0 for t in late), "504s must come soon after the 60 ms deadline: %s" % late
print("ok  deadline: 504 soon after 60 ms for the requests still waiting")
PY
curl -s "$BASE/metrics" | grep -q 'detectd_request_timeouts_total{model="slow"} [1-9]' || die "timeouts not counted"
stop_server
echo "pass"

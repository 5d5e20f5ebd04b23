#!/bin/sh
# tests/soak.sh — memory under sustained traffic (`make soak`): the
# article's service grew with every request until it was killed.  After a
# warm-up, detectd's resident memory must grow less than MAX_GROWTH_PCT
# over REQUESTS requests; the numbers are printed either way.
#
#   make soak                                  20,000 requests, < 2 %, nanodet
#   SOAK_MODEL=tiny sh tests/soak.sh           the fast helper model (same pipeline)
#   SOAK_REQUESTS=1000 SOAK_MAX_GROWTH_PCT=10 sh tests/soak.sh   (make test's short run)
#
# Traffic: wrk at concurrency SOAK_CONC (8) POSTing a 640x480 JPEG to
# /v1/detect, in SOAK_ROUND_S (5) second rounds until the server has answered the requests;
# a few v2 and DeepStack requests and error requests go along each round
# so every path is soaked.  RSS comes from /proc/PID/statm (and /metrics
# agrees).  Exit 0 = pass, 1 = grew too much or a request failed, 77 = a
# tool is missing.
set -eu
cd "$(dirname "$0")/.."
ROOT=$PWD
DETECTD=${DETECTD:-$ROOT/build/detectd}
PY=/usr/bin/python3
REQUESTS=${SOAK_REQUESTS:-20000}
WARMUP=${SOAK_WARMUP:-}
MAX_GROWTH_PCT=${SOAK_MAX_GROWTH_PCT:-2}
MODEL=${SOAK_MODEL:-nanodet}
CONC=${SOAK_CONC:-8}
WORKERS=${SOAK_WORKERS:-2}
ROUND_S=${SOAK_ROUND_S:-5}

command -v wrk >/dev/null 2>&1 || { echo "needs wrk (Debian package wrk; run tools/install-deps.sh)"; exit 77; }
[ -x "$DETECTD" ] || { echo "needs $DETECTD (make)"; exit 77; }
$PY -c 'import PIL' 2>/dev/null || { echo "needs python3-pil"; exit 77; }
TMP=$(mktemp -d)
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill -TERM "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

case "$MODEL" in
  tiny)
    $PY -c 'import onnx' 2>/dev/null || { echo "needs python3-onnx"; exit 77; }
    $PY - "$TMP" "$ROOT/tests/integration" <<'PY'
import sys
sys.path.insert(0, sys.argv[2])
import test_serving_lib as L
L.make_tiny_model(sys.argv[1], "tiny")
PY
    MODEL_ARG=$TMP/tiny.detectd.json ;;
  *) MODEL_ARG=$MODEL ;;
esac
# warm-up: enough for every buffer pool, arena and malloc arena to settle
[ -n "$WARMUP" ] || WARMUP=$((REQUESTS / 10 > 200 ? REQUESTS / 10 : 200))
$PY - "$TMP/soak.jpg" <<'PY'
import os, sys
from PIL import Image
dog = "/usr/share/darknet/data/dog.jpg"
if os.path.exists(dog):
    Image.open(dog).convert("RGB").resize((640, 480), Image.BILINEAR).save(sys.argv[1], quality=90)
else:
    import random
    img = Image.new("RGB", (640, 480))
    img.putdata([(random.randrange(256), (x * 7) % 256, 90) for x in range(640 * 480)])
    img.save(sys.argv[1], quality=90)
PY
PORT=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
BASE=http://127.0.0.1:$PORT
"$DETECTD" serve --host 127.0.0.1 --port "$PORT" --model "$MODEL_ARG" --workers "$WORKERS" --threads-per-worker 1 \
  --queue-size $((CONC * 4)) --access-log false > "$TMP/server.log" 2>&1 &
SERVER_PID=$!
i=0
until [ "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/v2/health/ready")" = 200 ]; do
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$TMP/server.log"; echo "server died"; exit 1; }
  i=$((i + 1)); [ $i -lt 1500 ] || { echo "server not ready"; exit 1; }
  sleep 0.2
done
NAME=$(curl -s "$BASE/v1/models" | $PY -c 'import json,sys; print(json.load(sys.stdin)["models"][0]["name"])')

rss() { $PY -c 'import os,sys; print(int(open("/proc/%s/statm" % sys.argv[1]).read().split()[1]) * os.sysconf("SC_PAGE_SIZE"))' "$SERVER_PID"; }
served() {  # requests answered 200 on /v1/detect so far
  curl -s "$BASE/metrics" | $PY -c 'import re,sys; m=re.search(r"^detectd_requests_total\{route=\"detect\",code=\"200\"\} (\S+)$", sys.stdin.read(), re.M); print(int(float(m.group(1))) if m else 0)'
}
others() {  # the other APIs and error paths, a few each round
  $PY - "$PORT" "$TMP/soak.jpg" "$NAME" <<'PY'
import base64, http.client, json, sys
port, img, name = int(sys.argv[1]), open(sys.argv[2], "rb").read(), sys.argv[3]
def do(method, path, body=None, headers=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    c.request(method, path, body=body, headers=headers or {})
    r = c.getresponse()
    r.read()
    c.close()
    return r.status
v2 = json.dumps({"inputs": [{"name": "image", "shape": [1], "datatype": "BYTES", "data": [base64.b64encode(img).decode()]}]})
b = "soakBoundary"
mp = (b"--" + b.encode() + b'\r\nContent-Disposition: form-data; name="image"; filename="a.jpg"\r\n\r\n' + img +
      b"\r\n--" + b.encode() + b"--\r\n")
want = [("POST", "/v2/models/%s/infer" % name, v2.encode(), {}, 200),
        ("POST", "/v1/vision/detection", mp, {"Content-Type": "multipart/form-data; boundary=" + b}, 200),
        ("POST", "/v1/detect", b"garbage", {"Content-Type": "image/jpeg"}, 400),
        ("POST", "/v1/detect", img[: len(img) // 2], {"Content-Type": "image/jpeg"}, 400),
        ("GET", "/metrics", None, {}, 200)]
for m, p, body, h, st in want:
    got = do(m, p, body, h)
    if got != st:
        print("FAIL: %s %s -> %d, want %d" % (m, p, got, st))
        sys.exit(1)
PY
}
round_() {  # one wrk round of ROUND_S seconds; fails on any error
  LOAD_IMAGE=$TMP/soak.jpg wrk -t2 -c"$CONC" -d"${ROUND_S}s" --timeout 120s -s bench/load.lua "$BASE/v1/detect" > "$TMP/wrk.txt" 2>&1 || true
  $PY - "$TMP/wrk.txt" <<'PY' || exit 1
import json, re, sys
t = open(sys.argv[1]).read()
m = re.search(r"^LOADJSON (.*)$", t, re.M)
if not m:
    print("FAIL: wrk: " + t)
    sys.exit(1)
w = json.loads(m.group(1))
bad = sum(w["errors"].values())
if bad:
    print("FAIL: %d errors in a round: %s" % (bad, w["errors"]))
    sys.exit(1)
PY
  others
}

echo "soak: $MODEL ($NAME), $WORKERS worker(s), concurrency $CONC; warm-up $WARMUP requests, then $REQUESTS"
while [ "$(served)" -lt "$WARMUP" ]; do round_; done
R0=$(rss)
N0=$(served)
echo "after warm-up: $N0 requests served, RSS $R0 bytes"
MAX=$R0
while :; do
  round_
  r=$(rss)
  [ "$r" -gt "$MAX" ] && MAX=$r
  n=$(served)
  [ $((n - N0)) -ge "$REQUESTS" ] && break
done
R1=$(rss)
N1=$(served)
M=$(curl -s "$BASE/metrics" | $PY -c 'import re,sys; print(int(float(re.search(r"^process_resident_memory_bytes (\S+)$", sys.stdin.read(), re.M).group(1))))')
kill -TERM "$SERVER_PID"
rc=0; wait "$SERVER_PID" || rc=$?
SERVER_PID=""
[ $rc = 0 ] || { tail -20 "$TMP/server.log"; echo "FAIL: server exited $rc"; exit 1; }
$PY - "$R0" "$R1" "$MAX" "$N0" "$N1" "$MAX_GROWTH_PCT" "$M" <<'PY'
import sys
r0, r1, mx, n0, n1, limit, m = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6]), int(sys.argv[7])
g = 100.0 * (r1 - r0) / r0
print("RSS after warm-up %.1f MiB; after %d more requests %.1f MiB (peak %.1f MiB, /metrics %.1f MiB): %+.2f%% "
      "(limit %.1f%%), %.1f bytes per request"
      % (r0 / 2**20, n1 - n0, r1 / 2**20, mx / 2**20, m / 2**20, g, limit, (r1 - r0) / max(n1 - n0, 1)))
if g >= limit:
    print("FAIL: resident memory grew %.2f%%" % g)
    sys.exit(1)
print("pass")
PY

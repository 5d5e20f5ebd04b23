#!/bin/sh
# test_valgrind_server.sh — `detectd serve` (1 worker; model: see below) under
# valgrind memcheck, handling a few hundred mixed good and bad requests
# (valid JPEG/PNG/WebP/BMP, garbage, truncated, bombs, wrong content types,
# oversize bodies, broken multipart, bad queries, unknown routes, clients that
# vanish mid-request), then SIGTERM: valgrind must report zero errors and
# zero definite/indirect leaks, and the server must exit 0.
# VALGRIND_REQUESTS (default 600) sets the total; 40 of them reach the
# model (4 with nanodet).  Skips (77) without valgrind or without `detectd serve`.
set -u
: "${ROOT:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${DETECTD:=$ROOT/build/detectd}"
cd "$ROOT"
PY=/usr/bin/python3
command -v valgrind >/dev/null 2>&1 || { echo "valgrind is not installed"; exit 77; }
[ -x "$DETECTD" ] || { echo "no $DETECTD"; exit 77; }
"$DETECTD" serve --help >/dev/null 2>&1 || { echo "this detectd has no serve command yet"; exit 77; }
if [ -n "${SANITIZED:-}" ]; then
  echo "valgrind cannot run an ASan binary (make test-san)"
  exit 77
fi

TMP=$(mktemp -d)
VG_PID=""
cleanup() {
  [ -n "$VG_PID" ] && kill -KILL "$VG_PID" 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
fail() {
  echo "FAIL: $*"
  [ -f "$TMP/vg.log" ] && { echo "--- valgrind / server log (tail) ---"; tail -n 60 "$TMP/vg.log"; }
  exit 1
}

cc -std=c11 -O1 -D_GNU_SOURCE -o "$TMP/gen_images" tests/fuzz/gen_images.c -ljpeg -lspng -lwebpmux -lwebp ||
  fail "cannot build tests/fuzz/gen_images.c"
mkdir -p "$TMP/img"
"$TMP/gen_images" "$TMP/img" 2>/dev/null || fail "gen_images"

# The model: under valgrind one nanodet inference costs ~40 s (and its load
# and warm-up ~60 s), so by default the server runs a tiny YOLOv8-shaped ONNX
# model (tests/onnx_ops, 64x64 input) through the same pipeline: ONNX loader,
# letterbox preprocessing, engine, YOLOv8 decoder, NMS.  VALGRIND_MODEL=nanodet
# runs the real default model instead (about 10 minutes).
MODEL=${VALGRIND_MODEL:-tiny}
N_GOOD=40
if [ "$MODEL" = tiny ]; then
  $PY tests/onnx_ops/gen.py "$TMP/ops" '^model_yolov8_op13$' >/dev/null || fail "tests/onnx_ops/gen.py"
  cp "$TMP/ops/model_yolov8_op13/model.onnx" "$TMP/tiny.onnx"
  cat >"$TMP/tiny.detectd.json" <<'JSON'
{"name": "tiny", "graph": "tiny.onnx", "format": "onnx", "preset": "yolov8",
 "preprocess": {"width": 64, "height": 64}, "decoder": {"type": "yolov8", "strides": [8, 16]},
 "labels": ["a", "b", "c", "d"], "threshold": 0.01}
JSON
  MODEL="$TMP/tiny.detectd.json"
elif [ "$MODEL" = nanodet ]; then
  [ -f models/nanodet/nanodet.json ] || { echo "models/nanodet not fetched (make models)"; exit 77; }
  N_GOOD=4
fi

PORT=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
start=$(date +%s)
# --fair-sched: the HTTP, prep and worker threads all get to run.
nice -n 5 valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite,indirect \
  --errors-for-leak-kinds=definite,indirect --error-exitcode=99 --fair-sched=yes --num-callers=30 \
  --suppressions="$ROOT/tests/integration/test_valgrind_server.supp" \
  "$DETECTD" serve --model "$MODEL" --host 127.0.0.1 --port "$PORT" --workers 1 --threads 1 --prep-threads 1 --http-threads 1 \
  --max-body-bytes 1M --timeout-s 60 --access-log false >"$TMP/vg.log" 2>&1 &
VG_PID=$!

$PY - "$PORT" "$TMP/img" "${VALGRIND_REQUESTS:-600}" "$N_GOOD" <<'PY' || fail "request driver"
import http.client, json, os, random, socket, struct, sys, time, zlib
port, imgdir, total, max_good = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
img = {n: open(os.path.join(imgdir, n), "rb").read() for n in os.listdir(imgdir)}

class Oversize(bytes):
    """A body over --max-body-bytes: only its headers and a first chunk are
    sent, since the server answers 413 from Content-Length and then closes
    (a client still writing the rest could see EPIPE/RST instead of the 413)."""

def req_oversize(path, body, ctype, timeout=600):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n"
                  % (path.encode(), ctype.encode(), len(body)))
        try:
            s.sendall(body[:4096])
        except OSError:
            pass
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        if not data.startswith(b"HTTP/1."):
            sys.exit("oversize body: no HTTP response (%r)" % data[:100])
        return int(data.split(b" ", 2)[1]), data
    finally:
        s.close()

def req(method, path, body=None, ctype=None, timeout=600):
    if isinstance(body, Oversize):
        return req_oversize(path, body, ctype, timeout)
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request(method, path, body=body, headers={"Content-Type": ctype} if ctype else {})
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()

t0 = time.time()
while True:
    try:
        if req("GET", "/v2/health/ready", timeout=5)[0] == 200:
            break
    except OSError:
        pass
    if time.time() - t0 > 600:
        sys.exit("server not ready under valgrind after 600 s")
    time.sleep(1)
print("ready under valgrind after %.0f s" % (time.time() - t0))

def mp(data, boundary=b"XyZ", close=True):
    b = (b"--" + boundary + b"\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a\"\r\n\r\n" + data
         + b"\r\n")
    return b + (b"--" + boundary + b"--\r\n" if close else b"")

import base64
V2 = "/v2/models/%s/infer" % json.loads(req("GET", "/v1/models")[1])["models"][0]["name"]
good = [("image/jpeg", img["jpeg_exif_orient6_ii.jpg"]), ("image/png", img["png_palette8_trns.png"]),
        ("image/webp", img["webp_animated.webp"]), ("image/bmp", img["bmp_24.bmp"]),
        ("image/jpeg", img["jpeg_cmyk_progressive.jpg"]), ("image/png", img["png_rgba16_interlaced.png"]),
        ("image/jpeg", img["jpeg_arithmetic.jpg"]), ("image/webp", img["webp_lossless.webp"])]
png = img["png_rgb8.png"]
bad = [  # (method, path, body, content type, expected statuses)
    ("POST", "/v1/detect", os.urandom(2000), "image/jpeg", {400}),
    ("POST", "/v1/detect", b"\xff\xd8\xff" + os.urandom(2000), "image/jpeg", {400}),
    ("POST", "/v1/detect", img["bad_jpeg_truncated_half.jpg"], "image/jpeg", {400}),
    ("POST", "/v1/detect", img["bad_png_truncated.png"], "image/png", {400}),
    ("POST", "/v1/detect", img["bad_png_no_iend.png"], "image/png", {400}),
    ("POST", "/v1/detect", img["bad_webp_truncated.webp"], "image/webp", {400}),
    ("POST", "/v1/detect", img["bad_bmp_truncated.bmp"], "image/bmp", {400}),
    ("POST", "/v1/detect", img["bad_bmp_8bit.bmp"], "image/bmp", {415}),
    ("POST", "/v1/detect", img["bad_jpeg_757_scans.jpg"], "image/jpeg", {413}),
    ("POST", "/v1/detect", img["bomb_png_60000x60000.png"], "image/png", {413}),
    ("POST", "/v1/detect", img["bomb_jpeg_60000x60000.jpg"], "image/jpeg", {413}),
    ("POST", "/v1/detect", img["bomb_webp_16383x16383.webp"], "image/webp", {413}),
    ("POST", "/v1/detect", img["bomb_bmp_60000x60000.bmp"], "image/bmp", {413}),
    ("POST", "/v1/detect", b"", "image/jpeg", {400}),
    ("POST", "/v1/detect", png, "text/plain", {415}),
    ("POST", "/predict", png, "text/plain", {400}),
    ("POST", "/predict", png, None, {400}),
    ("POST", "/v1/detect", Oversize(b"\xff\xd8\xff" + bytes(1100000)), "image/jpeg", {413}),
    ("POST", "/v1/detect", mp(png), "multipart/form-data", {400}),
    ("POST", "/v1/detect", mp(png, close=False), "multipart/form-data; boundary=XyZ", {400}),
    ("POST", "/v1/detect", mp(png)[:40], "multipart/form-data; boundary=XyZ", {400}),
    ("POST", "/v1/detect", mp(os.urandom(300)), "multipart/form-data; boundary=XyZ", {400}),
    ("POST", "/v1/detect?threshold=2", png, "image/png", {400}),
    ("POST", "/v1/detect?classes=unicorn", png, "image/png", {400}),
    ("POST", "/v1/detect?x=%zz", png, "image/png", {400}),
    ("GET", "/v1/detect", None, None, {405}),
    ("GET", "/nope", None, None, {404}),
    ("GET", "/health", None, None, {200}),
    ("GET", "/v1/models", None, None, {200}),
    ("GET", "/", None, None, {200}),
    ("GET", "/metrics", None, None, {200}),
    ("POST", "/v2/models/nope/infer", b"{}", "application/json", {404}),
    ("POST", V2, b'{"inputs": [', "application/json", {400}),
    ("POST", V2, json.dumps({"inputs": [{"name": "i", "datatype": "BYTES", "shape": [1], "data": ["@@"]}]}).encode(),
     "application/json", {400}),
    ("POST", V2, json.dumps({"inputs": [{"name": "i", "datatype": "UINT8", "shape": [3], "data": [1, 2]}]}).encode(),
     "application/json", {400}),
]
rnd = random.Random(9)
counts = {}
n_good = 0
t_good = 0.0
for i in range(total):
    if i % (total // max_good) == 0 and n_good < max_good:  # inferences are the slow part under valgrind
        ct, body = good[n_good % len(good)]
        path = "/v1/detect?render=jpeg" if n_good == 3 else ("/predict" if n_good % 2 else "/v1/detect")
        if n_good % 8 == 6:  # multipart: /v1/detect only (the article's route takes raw images)
            ct, body = "multipart/form-data; boundary=XyZ", mp(body)
        if n_good % 8 == 7:  # KServe v2, the image in base64
            path, ct = V2, "application/json"
            body = json.dumps({"id": "x", "inputs": [{"name": "image", "datatype": "BYTES", "shape": [1],
                                                     "data": [base64.b64encode(body).decode()]}]}).encode()
        n_good += 1
        tg = time.time()
        st, data = req("POST", path, body, ct)
        t_good += time.time() - tg
        if st != 200:
            sys.exit("valid request %d (%s %s) answered %d %r" % (i, ct, path, st, data[:200]))
        counts[200] = counts.get(200, 0) + 1
        continue
    if i % 25 == 7:  # a client that vanishes mid-body or mid-headers
        s = socket.create_connection(("127.0.0.1", port), timeout=60)
        s.sendall(b"POST /v1/detect HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\nContent-Length: 5000\r\n\r\n"
                  + b"\xff\xd8\xff" + bytes(100) if i % 2 else b"POST /v1/det")
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()
        counts["gone"] = counts.get("gone", 0) + 1
        continue
    m, path, body, ct, want = bad[rnd.randrange(len(bad))]
    st, data = req(m, path, body, ct)
    if st not in want:
        sys.exit("%s %s (%s, %d bytes): status %d, want %s: %r" % (m, path, ct, len(body or b""), st, want, data[:200]))
    counts[st] = counts.get(st, 0) + 1
print("requests by status:", dict(sorted(counts.items(), key=str)),
      "in %.0f s (%.0f s in the %d inferences)" % (time.time() - t0, t_good, n_good))
PY

kill -TERM "$VG_PID"
wait "$VG_PID"
rc=$?
VG_PID=""
grep -q "ERROR SUMMARY: 0 errors" "$TMP/vg.log" || fail "valgrind reported errors"
[ $rc -eq 0 ] || fail "exit status $rc under valgrind (99 = valgrind errors or leaks)"
lost=$(sed -n 's/.*definitely lost: \([0-9,]*\) bytes.*/\1/p' "$TMP/vg.log" | tail -n 1)
ind=$(sed -n 's/.*indirectly lost: \([0-9,]*\) bytes.*/\1/p' "$TMP/vg.log" | tail -n 1)
grep -E "definitely lost|indirectly lost|possibly lost|still reachable|ERROR SUMMARY" "$TMP/vg.log" | sed 's/^==[0-9]*== */  /'
echo "summary: valgrind serve: 0 errors, ${lost:-0} bytes definitely lost, ${ind:-0} indirectly lost ($(( $(date +%s) - start ))s)"

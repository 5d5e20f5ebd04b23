#!/bin/sh
# test_valgrind_server.sh — `detectd serve` (default nanodet, 1 worker) under
# valgrind memcheck, handling a few hundred mixed good and bad requests
# (valid JPEG/PNG/WebP/BMP, garbage, truncated, bombs, wrong content types,
# oversize bodies, broken multipart, bad queries, unknown routes, clients that
# vanish mid-request), then SIGTERM: valgrind must report zero errors and
# zero definite/indirect leaks, and the server must exit 0.
# Valgrind makes inference ~50x slower, so only 12 requests reach the model;
# VALGRIND_REQUESTS (default 300) sets the total.  Skips (77) without
# valgrind, without `detectd serve`, or without models/.
set -u
: "${ROOT:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${DETECTD:=$ROOT/build/detectd}"
cd "$ROOT"
PY=/usr/bin/python3
command -v valgrind >/dev/null 2>&1 || { echo "valgrind is not installed"; exit 77; }
[ -x "$DETECTD" ] || { echo "no $DETECTD"; exit 77; }
"$DETECTD" serve --help >/dev/null 2>&1 || { echo "this detectd has no serve command yet"; exit 77; }
[ -f models/nanodet/nanodet.json ] || { echo "models/nanodet not fetched (make models)"; exit 77; }
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

PORT=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
start=$(date +%s)
# --fair-sched: the HTTP, prep and worker threads all get to run.
nice -n 5 valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite,indirect \
  --errors-for-leak-kinds=definite,indirect --error-exitcode=99 --fair-sched=yes --num-callers=30 \
  --suppressions="$ROOT/tests/integration/test_valgrind_server.supp" \
  "$DETECTD" serve --host 127.0.0.1 --port "$PORT" --workers 1 --threads 1 --prep-threads 1 --http-threads 1 \
  --max-body-bytes 1M --timeout-s 60 --access-log false >"$TMP/vg.log" 2>&1 &
VG_PID=$!

$PY - "$PORT" "$TMP/img" "${VALGRIND_REQUESTS:-300}" <<'PY' || fail "request driver"
import http.client, json, os, random, socket, struct, sys, time, zlib
port, imgdir, total = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
img = {n: open(os.path.join(imgdir, n), "rb").read() for n in os.listdir(imgdir)}

def req(method, path, body=None, ctype=None, timeout=600):
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
    if time.time() - t0 > 420:
        sys.exit("server not ready under valgrind after 420 s")
    time.sleep(1)
print("ready under valgrind after %.0f s" % (time.time() - t0))

def mp(data, boundary=b"XyZ", close=True):
    b = (b"--" + boundary + b"\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a\"\r\n\r\n" + data
         + b"\r\n")
    return b + (b"--" + boundary + b"--\r\n" if close else b"")

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
    ("POST", "/v1/detect", b"\xff\xd8\xff" + bytes(1100000), "image/jpeg", {413}),
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
]
rnd = random.Random(9)
counts = {}
n_good = 0
for i in range(total):
    if i % 25 == 0 and n_good < 12:  # 12 inferences: each is slow under valgrind
        ct, body = good[n_good % len(good)]
        path = "/v1/detect?render=jpeg" if n_good == 3 else ("/predict" if n_good % 2 else "/v1/detect")
        if n_good == 6:  # multipart: /v1/detect only (the article's route takes raw images)
            ct, body = "multipart/form-data; boundary=XyZ", mp(body)
        n_good += 1
        st, data = req("POST", path, body, ct)
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
print("requests by status:", dict(sorted(counts.items(), key=str)), "in %.0f s" % (time.time() - t0))
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

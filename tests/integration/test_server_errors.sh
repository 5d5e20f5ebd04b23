#!/bin/sh
# Hostile and broken requests against the real binary, each with its exact
# status and a JSON {"error":...} body; afterwards the server must still be
# alive and answer a valid image correctly (both routes agreeing).  Uses
# Debian darknet's dog.jpg so it runs without ../shared.
set -eu
DOG=/usr/share/darknet/data/dog.jpg
if [ ! -f "$DOG" ]; then
  echo "needs $DOG (Debian package darknet)"
  exit 77
fi
. "$(dirname "$0")/lib_server.sh"

# Test inputs.
head -c 20000 "$DOG" > "$TMP/truncated.jpg"
$PY - "$TMP" <<'PY'
import random, struct, sys, zlib
tmp = sys.argv[1]
rnd = random.Random(7)
open(tmp + "/garbage.bin", "wb").write(bytes(rnd.getrandbits(8) for _ in range(4096)))
open(tmp + "/big.bin", "wb").write(b"\xff\xd8\xff" + bytes(3 * 1024 * 1024))   # 3 MiB > the 1 MiB limit
def chunk(t, d):
    return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
ihdr = struct.pack(">IIBBBBB", 60000, 60000, 8, 2, 0, 0, 0)                    # 60000x60000 RGB8
png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 1000)) + chunk(b"IEND", b"")
open(tmp + "/huge.png", "wb").write(png)
PY
dog=$(cat "$DOG" | wc -c)

start_server --max-body-bytes 1M
wait_ready 300

# wrong content type: the article's 400 on /predict, 415 on /v1/detect
http POST /predict -H 'Content-Type: text/plain' --data-binary "@$DOG"; expect 400 "text/plain on /predict"
printf '%s' "$BODY" | grep -q 'Invalid content' || die "article error text"
http POST /predict -H 'Content-Type: application/x-www-form-urlencoded' --data-binary "@$DOG"; expect 400 "form-urlencoded on /predict"
http POST /v1/detect -H 'Content-Type: text/plain' --data-binary "@$DOG"; expect 415 "text/plain on /v1/detect"
http POST /v1/detect -H 'Content-Type: image/gif' --data-binary "@$DOG"; expect 415 "image/gif on /v1/detect"

# not an image, a truncated JPEG
http POST /predict -H 'Content-Type: image/jpeg' --data-binary "@$TMP/garbage.bin"; expect 400 "garbage on /predict"
http POST /v1/detect -H 'Content-Type: image/jpeg' --data-binary "@$TMP/garbage.bin"; expect 400 "garbage on /v1/detect"
http POST /v1/detect -H 'Content-Type: image/jpeg' --data-binary ''; expect 400 "empty body"
http POST /predict -H 'Content-Type: image/jpeg' --data-binary "@$TMP/truncated.jpg"; expect 400 "truncated JPEG on /predict"
http POST /v1/detect -H 'Content-Type: image/jpeg' --data-binary "@$TMP/truncated.jpg"; expect 400 "truncated JPEG on /v1/detect"

# limits: body by Content-Length (never read), body streamed chunked, pixels from the header
http POST /v1/detect -H 'Content-Type: image/jpeg' --data-binary "@$TMP/big.bin"; expect 413 "3 MiB body (Content-Length)"
http POST /predict -H 'Content-Type: image/jpeg' --data-binary "@$TMP/big.bin"; expect 413 "3 MiB body on /predict"
http POST /v1/detect -H 'Content-Type: image/jpeg' -H 'Transfer-Encoding: chunked' --data-binary "@$TMP/big.bin"
expect 413 "3 MiB body (chunked)"
http POST /v1/detect -H 'Content-Type: image/png' --data-binary "@$TMP/huge.png"; expect 413 "60000x60000 PNG"
http POST /predict -H 'Content-Type: image/png' --data-binary "@$TMP/huge.png"; expect 413 "60000x60000 PNG on /predict"

# query values
http POST '/v1/detect?threshold=1.5' -H 'Content-Type: image/jpeg' --data-binary "@$DOG"; expect 400 "threshold=1.5"
http POST '/v1/detect?classes=unicorn' -H 'Content-Type: image/jpeg' --data-binary "@$DOG"; expect 400 "classes=unicorn"
http POST '/v1/detect?max_detections=x' -H 'Content-Type: image/jpeg' --data-binary "@$DOG"; expect 400 "max_detections=x"

# methods and paths
http GET /predict; expect 405 "GET /predict"
grep -qi '^Allow: POST' "$TMP/headers" || die "405 without Allow: POST"
http GET /v1/detect; expect 405 "GET /v1/detect"
http POST /v1/models -H 'Content-Type: image/jpeg' --data-binary x; expect 405 "POST /v1/models"
grep -qi '^Allow: GET' "$TMP/headers" || die "405 without Allow: GET"
http GET /nope; expect 404 "GET /nope"
http POST /predict/extra -H 'Content-Type: image/jpeg' --data-binary "@$DOG"; expect 404 "POST /predict/extra"

# multipart: truncated, wrong boundary, no "image" field
$PY - "$DOG" "$TMP" <<'PY'
import sys
img = open(sys.argv[1], "rb").read()
b = b"detectdTestBoundary"
good = (b"--" + b + b"\r\nContent-Disposition: form-data; name=\"image\"; filename=\"dog.jpg\"\r\n"
        b"Content-Type: image/jpeg\r\n\r\n" + img + b"\r\n--" + b + b"--\r\n")
open(sys.argv[2] + "/mp_good", "wb").write(good)
open(sys.argv[2] + "/mp_trunc", "wb").write(good[: len(good) // 2])
open(sys.argv[2] + "/mp_nofield", "wb").write(good.replace(b'name="image"', b'name="photo"'))
PY
MP='Content-Type: multipart/form-data; boundary=detectdTestBoundary'
http POST /v1/detect -H "$MP" --data-binary "@$TMP/mp_trunc"; expect 400 "truncated multipart"
http POST /v1/detect -H "$MP" --data-binary "@$TMP/mp_nofield"; expect 400 "multipart without an image field"
http POST /v1/detect -H 'Content-Type: multipart/form-data; boundary=other' --data-binary "@$TMP/mp_good"
expect 400 "multipart with the wrong boundary"
http POST /v1/detect -H 'Content-Type: multipart/form-data' --data-binary "@$TMP/mp_good"; expect 400 "multipart without boundary"

# clients that disconnect mid-upload (FIN, then RST), and one that sends nothing
$PY - "$PORT" <<'PY'
import socket, struct, sys, time
port = int(sys.argv[1])
head = b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\nContent-Length: 500000\r\n\r\n"
for rst in (False, True):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(head + b"\xff\xd8\xff" + b"\0" * 20000)
    if rst:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
s = socket.create_connection(("127.0.0.1", port))
s.sendall(b"POST /v1/detect HTTP/1.1\r\nHost: x\r\n")
s.close()
time.sleep(0.3)
PY
echo "ok  clients disconnecting mid-upload"

# still alive and correct: a valid image on both routes, raw and multipart, consistent answers
kill -0 "$SERVER_PID" 2>/dev/null || die "server died"
http POST /predict -H 'Content-Type: image/jpeg' --data-binary "@$DOG"; expect 200 "dog.jpg on /predict"
cp "$TMP/body" "$TMP/predict.json"
http POST /v1/detect -H 'Content-Type: image/jpeg' --data-binary "@$DOG"; expect 200 "dog.jpg on /v1/detect"
cp "$TMP/body" "$TMP/detect.json"
http POST /v1/detect -H "$MP" --data-binary "@$TMP/mp_good"; expect 200 "dog.jpg as multipart"
cp "$TMP/body" "$TMP/detect_mp.json"
cat "$TMP/predict.json"; echo
$PY - "$TMP" <<'PY' || die "inconsistent answers"
import json, sys
t = sys.argv[1]
pred = json.load(open(t + "/predict.json"))["prediction"]
det = json.load(open(t + "/detect.json"))
mp = json.load(open(t + "/detect_mp.json"))
assert det["width"] == 768 and det["height"] == 576, det  # dog.jpg is 768x576
assert [o["label"] for o in det["objects"]] == [o["label"] for o in mp["objects"]], (det, mp)
kept = [o for o in det["objects"] if o["score"] > 0.5]
assert len(kept) == len(pred), (kept, pred)
for p, o in zip(pred, kept):
    assert p["objectClass"] == o["label"], (p, o)
    b = o["box"]
    for k in ("x", "y", "width", "height"):
        assert abs(p[k] - b[k]) <= 1.0, (k, p, o)
assert "dog" in [p["objectClass"] for p in pred], "no dog found in dog.jpg: %s" % pred
assert set(det["timing_ms"]) >= {"decode", "inference", "total"}, det
PY
http GET /v1/models; expect 200 "GET /v1/models"
http GET /health; expect 200 "GET /health"

# one logfmt access-log line per request, and no request data beyond size and type
n=$(grep -c 'msg=request ' "$SERVER_LOG" || true)
[ "$n" -ge 30 ] || die "only $n access-log lines"
grep 'msg=request ' "$SERVER_LOG" | grep -v -q 'ts=.* id=.* method=.* path=.* status=[0-9]* bytes=[0-9]* .*ms=' && die "malformed access-log line"
grep -q 'threshold=1.5\|unicorn' "$SERVER_LOG" && die "query data in the log"
stop_server
echo "pass"

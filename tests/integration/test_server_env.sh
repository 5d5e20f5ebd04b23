#!/bin/sh
# The article's environment variables drive `detectd serve` (REST_HOST,
# REST_PORT, REST_ENTRY_POINT, PROBABILITY_MORE, MODEL_EDGE,
# MODEL_CONTEXT_GPU), DETECTD_* wins over them and flags win over both;
# SIGTERM with requests in flight lets them finish and exits 0.
set -eu
DOG=/usr/share/darknet/data/dog.jpg
if [ ! -f "$DOG" ]; then
  echo "needs $DOG (Debian package darknet)"
  exit 77
fi
. "$(dirname "$0")/lib_server.sh"

# bad values are refused up front, naming the variable or flag
out=$(REST_PORT=http "$DETECTD" serve 2>&1) && die "REST_PORT=http accepted"
printf '%s' "$out" | grep -q REST_PORT || die "error does not name REST_PORT: $out"
out=$("$DETECTD" serve --threshold 7 2>&1) && die "--threshold 7 accepted"
printf '%s' "$out" | grep -q -- --threshold || die "error does not name --threshold: $out"
"$DETECTD" serve --help | grep -q DETECTD_MAX_BODY_BYTES || die "--help lacks DETECTD_MAX_BODY_BYTES"

PORT=$(free_port)
BASE="http://127.0.0.1:$PORT"
# REST_PORT and DETECTD_PORT are both wrong on purpose: the flag wins.
REST_HOST=127.0.0.1 REST_PORT=1 DETECTD_PORT=2 REST_ENTRY_POINT=/detect-it PROBABILITY_MORE=0.1 \
  DETECTD_THRESHOLD=0.6 MODEL_EDGE=512 MODEL_CONTEXT_GPU=true MODEL_EPOCH=0 \
  "$DETECTD" serve --port "$PORT" >"$SERVER_LOG" 2>&1 &
SERVER_PID=$!
wait_ready 300
# MODEL_CONTEXT_GPU=true: on a GPU the workers run there, else a warning says why not.
if ! grep -q 'level=warn.*GPU requested.*running on the CPU' "$SERVER_LOG"; then
  http GET /v1/models
  printf '%s' "$BODY" | grep -q '"device":"cuda:' || die "MODEL_CONTEXT_GPU=true: neither a GPU nor a warning"
fi

http POST /detect-it -H 'Content-Type: image/jpeg' --data-binary "@$DOG"; expect 200 "POST /detect-it (REST_ENTRY_POINT)"
printf '%s' "$BODY" | $PY -c '
import json, sys
p = json.load(sys.stdin)["prediction"]
assert all(o["probability"] > 0.6 for o in p), p   # DETECTD_THRESHOLD beat PROBABILITY_MORE
' || die "threshold not applied: $BODY"
http POST /predict -H 'Content-Type: image/jpeg' --data-binary "@$DOG"; expect 404 "the default entry point is gone"
http GET /v1/models; expect 200 "GET /v1/models"
printf '%s' "$BODY" | grep -q '"threshold":0.6' || die "/v1/models threshold: $BODY"

# graceful stop: requests in flight when SIGTERM arrives still get their answer
$PY - "$PORT" "$DOG" "$TMP" <<'PY' &
import socket, sys
port, img, tmp = int(sys.argv[1]), open(sys.argv[2], "rb").read(), sys.argv[3]
head = ("POST /v1/detect HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: image/jpeg\r\n"
        "Content-Length: %d\r\n\r\n" % len(img)).encode()
socks = []
for i in range(16):  # enough work that some is still queued at SIGTERM
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(head + img)
    socks.append(s)
open(tmp + "/sent", "w").close()
codes = []
for s in socks:
    s.settimeout(60)
    data = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        data += b
    codes.append(data.split(b" ", 2)[1].decode() if data.startswith(b"HTTP/1.1 ") else "none")
open(tmp + "/codes", "w").write(" ".join(codes))
PY
client=$!
i=0
while [ ! -f "$TMP/sent" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
sleep 0.05
stop_server
wait $client || true
[ "$(cat "$TMP/codes" 2>/dev/null)" = "$(printf '200 %.0s' $(seq 16) | sed 's/ $//')" ] || die "in-flight requests got: $(cat "$TMP/codes" 2>/dev/null)"
grep -q 'shutting down: [1-9]' "$SERVER_LOG" || die "no request was in flight at SIGTERM"
echo "ok  16 requests in flight at SIGTERM answered 200, exit 0"
echo "pass"

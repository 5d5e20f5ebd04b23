#!/bin/sh
# test_page.sh — the web page end to end: a real `detectd serve` on a free
# loopback port, Debian's headless Chromium driven by playwright-core
# (tests/browser/page_test.js): upload a photo, boxes where the API says,
# the threshold slider, the server's error for a non-image, a phone-sized
# viewport.  Screenshots: $BUILD/screenshots/page-*.png.
set -u
ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
DETECTD=${DETECTD:-$BUILD/detectd}
SHARED=${SHARED:-}
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}

[ -x "$CHROMIUM" ] || { echo "skip: needs Debian's chromium (tools/install-deps.sh)"; exit 77; }
[ -f "$ROOT/node_modules/playwright-core/package.json" ] || { echo "skip: needs npm playwright-core (tools/install-deps.sh)"; exit 77; }
[ -x "$DETECTD" ] || { echo "no detectd binary at $DETECTD"; exit 1; }

if [ -n "$SHARED" ] && [ -f "$SHARED/data/images/cat_and_dog.jpg" ]; then
  IMAGE="$SHARED/data/images/cat_and_dog.jpg"; EXPECT=cat,dog
else
  IMAGE=/usr/share/darknet/data/dog.jpg; EXPECT=dog,bicycle
fi
[ -f "$IMAGE" ] || { echo "skip: no test photo ($IMAGE)"; exit 77; }

PORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
LOG="$BUILD/test-logs/test_page.server.log"
mkdir -p "$BUILD/test-logs" "$BUILD/screenshots"
cd "$ROOT"
"$DETECTD" serve --host 127.0.0.1 --port "$PORT" --workers 1 > "$LOG" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null' EXIT INT TERM

# Wait (bounded) for the model to be loaded.
ready=0
for _ in $(seq 1 240); do
  kill -0 $SERVER 2>/dev/null || break
  if curl -fs "http://127.0.0.1:$PORT/v2/health/ready" >/dev/null 2>&1; then ready=1; break; fi
  if curl -s "http://127.0.0.1:$PORT/health" 2>/dev/null | grep -q '"failed"'; then break; fi
  sleep 0.5
done
if [ $ready -ne 1 ]; then
  cat "$LOG"
  echo "detectd serve did not become ready on port $PORT"
  exit 1
fi

BASE_URL="http://127.0.0.1:$PORT" IMAGE="$IMAGE" EXPECT="$EXPECT" OUT_DIR="$BUILD/screenshots" CHROMIUM="$CHROMIUM" \
  timeout 240 node "$ROOT/tests/browser/page_test.js"
rc=$?
[ $rc -eq 0 ] || tail -n 20 "$LOG"
exit $rc

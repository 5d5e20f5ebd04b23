#!/bin/sh
# test_page_auth.sh — the web page with API keys on (--api-key-file), end to
# end in headless Chromium (tests/browser/page_auth_test.js): the page asks
# for the key, refuses a wrong one, and with the right one shows the labels
# `detectd detect` finds (the oracle) on the helper model of
# test_serving_lib.py.  Screenshots: $BUILD/screenshots/page-auth-*.png.
set -u
ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
DETECTD=${DETECTD:-$BUILD/detectd}
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
PY=/usr/bin/python3

[ -x "$CHROMIUM" ] || { echo "skip: needs Debian's chromium (tools/install-deps.sh)"; exit 77; }
[ -f "$ROOT/node_modules/playwright-core/package.json" ] || { echo "skip: needs npm playwright-core (tools/install-deps.sh)"; exit 77; }
[ -x "$DETECTD" ] || { echo "no detectd binary at $DETECTD"; exit 1; }
$PY -c 'import onnx, PIL' 2>/dev/null || { echo "skip: needs python3-onnx and python3-pil"; exit 77; }

TMP=$(mktemp -d)
SERVER=""
trap '[ -n "$SERVER" ] && kill $SERVER 2>/dev/null; [ -n "$SERVER" ] && wait $SERVER 2>/dev/null; rm -rf "$TMP"' EXIT INT TERM
mkdir -p "$BUILD/screenshots"
$PY - "$TMP" <<'EOF' || exit 1
import os, sys
sys.path.insert(0, os.path.join(os.environ.get("ROOT", "."), "tests", "integration"))
import test_serving_lib as L
L.make_tiny_model(sys.argv[1], "tiny")
L.make_jpeg(os.path.join(sys.argv[1], "a.jpg"), seed=7)
EOF
EXPECT=$("$DETECTD" detect --model "$TMP/tiny.detectd.json" --threshold 0.3 "$TMP/a.jpg" | tail -n 1 |
  $PY -c 'import json,sys; print(",".join(sorted(o["label"] for o in json.load(sys.stdin)["objects"])))')
[ -n "$EXPECT" ] || { echo "FAIL: the oracle found nothing"; exit 1; }
KEY="page-key-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
printf '# test key\n%s\n' "$KEY" > "$TMP/keys"
chmod 600 "$TMP/keys"

PORT=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$DETECTD" serve --host 127.0.0.1 --port "$PORT" --model "$TMP/tiny.detectd.json" --threshold 0.3 \
  --api-key-file "$TMP/keys" > "$TMP/server.log" 2>&1 &
SERVER=$!
ready=0
for _ in $(seq 1 200); do
  kill -0 $SERVER 2>/dev/null || break
  if curl -fs "http://127.0.0.1:$PORT/v2/health/ready" >/dev/null 2>&1; then ready=1; break; fi
  sleep 0.2
done
[ $ready -eq 1 ] || { cat "$TMP/server.log"; echo "FAIL: server not ready"; exit 1; }

BASE_URL="http://127.0.0.1:$PORT" KEY="$KEY" IMAGE="$TMP/a.jpg" EXPECT="$EXPECT" OUT_DIR="$BUILD/screenshots" \
  CHROMIUM="$CHROMIUM" timeout 180 node "$ROOT/tests/browser/page_auth_test.js"
rc=$?
if grep -q "$KEY" "$TMP/server.log"; then echo "FAIL: the key is in the server log"; rc=1; fi
[ $rc -eq 0 ] || tail -n 20 "$TMP/server.log"
exit $rc

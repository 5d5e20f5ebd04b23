# lib_server.sh — sourced by tests/integration/test_server_*.sh: start
# `detectd serve` on a free port, wait for readiness, always stop it on exit.
# Uses $DETECTD, $ROOT (set by tests/run.sh; defaults for manual runs).
: "${ROOT:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${DETECTD:=$ROOT/build/detectd}"
PY=/usr/bin/python3
TMP=$(mktemp -d)
SERVER_PID=""
SERVER_LOG="$TMP/server.log"

cleanup() {
  if [ -n "$SERVER_PID" ]; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

die() {
  echo "FAIL: $*"
  if [ -f "$SERVER_LOG" ]; then echo "--- server log (tail) ---"; tail -n 40 "$SERVER_LOG"; fi
  exit 1
}

# start_server [serve flags...]: starts on 127.0.0.1:$PORT, sets BASE.
start_server() {
  PORT=$(free_port)
  BASE="http://127.0.0.1:$PORT"
  "$DETECTD" serve --host 127.0.0.1 --port "$PORT" "$@" >"$SERVER_LOG" 2>&1 &
  SERVER_PID=$!
}

# wait_ready [seconds]: poll /v2/health/ready until 200 or the server dies.
wait_ready() {
  limit=${1:-180}
  i=0
  while [ $i -lt $((limit * 5)) ]; do
    kill -0 "$SERVER_PID" 2>/dev/null || die "server exited before it was ready"
    code=$(curl -s -o /dev/null -w '%{http_code}' "$BASE/v2/health/ready" || true)
    [ "$code" = 200 ] && return 0
    sleep 0.2
    i=$((i + 1))
  done
  die "not ready after ${limit}s (last status $code)"
}

# stop_server: SIGTERM, expect a clean exit 0.
stop_server() {
  kill -TERM "$SERVER_PID"
  rc=0
  wait "$SERVER_PID" || rc=$?
  SERVER_PID=""
  [ $rc -eq 0 ] || die "server exited with $rc after SIGTERM"
}

# http METHOD PATH [curl args...]: sets CODE, BODY (file $TMP/body), HEADERS ($TMP/headers).
http() {
  method=$1 path=$2
  shift 2
  CODE=$(curl -s -X "$method" -o "$TMP/body" -D "$TMP/headers" -w '%{http_code}' "$@" "$BASE$path") || true
  BODY=$(cat "$TMP/body" 2>/dev/null || true)
}

# expect STATUS WHAT: the last answer has STATUS, a JSON {"error":...} body
# when STATUS >= 400, and the headers every answer must carry.
expect() {
  [ "$CODE" = "$1" ] || die "$2: status $CODE, want $1; body: $BODY"
  grep -qi '^Content-Type: application/json; charset=utf-8' "$TMP/headers" || die "$2: no JSON Content-Type"
  grep -qi '^X-Request-Id: ' "$TMP/headers" || die "$2: no X-Request-Id"
  if [ "$1" -ge 400 ]; then
    printf '%s' "$BODY" | $PY -c 'import json,sys; d=json.load(sys.stdin); assert isinstance(d.get("error"), str) and d["error"], d' \
      || die "$2: body is not {\"error\":\"...\"}: $BODY"
  fi
  echo "ok  $2 -> $CODE"
}

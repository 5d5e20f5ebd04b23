#!/bin/sh
# Reloading from disk never drops a request, and a broken model file never
# replaces a working model.  Two clients send requests all along:
#   1. the model file is corrupted, then SIGHUP: the reload fails (logged),
#      version 1 keeps serving;
#   2. POST /v1/models/tiny/reload with the corrupt file: 500 with
#      {"error": "... still serving version 1 ..."};
#   3. a different valid model is written, POST reload: 200, version 2,
#      and answers now come from the new model (its scores are shifted);
#   4. SIGHUP again: version 3.
# Every client request of the whole run is answered 200; the metrics count
# 2 successful and 2 failed reloads; the old instances are freed.
set -eu
. "$(dirname "$0")/lib_server.sh"
$PY -c 'import onnx, PIL' 2>/dev/null || { echo "needs python3-onnx and python3-pil"; exit 77; }
mkdir "$TMP/models"
$PY - "$TMP" "$ROOT/tests/integration" <<'PY'
import sys
sys.path.insert(0, sys.argv[2])
import test_serving_lib as L
L.make_tiny_model(sys.argv[1] + "/models", "tiny")
L.make_tiny_model(sys.argv[1], "tiny", score_shift=-0.25)   # version 2, kept aside
L.make_jpeg(sys.argv[1] + "/a.jpg", seed=5)
PY
cp "$TMP/models/tiny.onnx" "$TMP/v1.onnx"

start_server --model-dir "$TMP/models" --workers 2 --threads-per-worker 1
wait_ready 60

# background load: two clients until told to stop; any non-200 is recorded
touch "$TMP/go"
$PY - "$PORT" "$TMP" > "$TMP/clients.out" 2>&1 <<'PY' &
import http.client, os, sys, threading, time
port, tmp = int(sys.argv[1]), sys.argv[2]
img = open(tmp + "/a.jpg", "rb").read()
bad, n, lock = [], [0], threading.Lock()
def run():
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    while os.path.exists(tmp + "/go"):
        try:
            c.request("POST", "/v1/detect?threshold=0", body=img, headers={"Content-Type": "image/jpeg"})
            r = c.getresponse()
            body = r.read()
            with lock:
                n[0] += 1
                if r.status != 200:
                    bad.append((r.status, body[:200]))
        except Exception as e:
            with lock:
                bad.append(("error", repr(e)))
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
ts = [threading.Thread(target=run) for _ in range(2)]
[t.start() for t in ts]
[t.join() for t in ts]
print("requests %d bad %d %s" % (n[0], len(bad), bad[:3]))
PY
CLIENTS=$!

score() {  # the top score of the answer for a.jpg
  curl -s -H 'Content-Type: image/jpeg' --data-binary "@$TMP/a.jpg" "$BASE/v1/detect?threshold=0" |
    $PY -c 'import json,sys; print(max(o["score"] for o in json.load(sys.stdin)["objects"]))'
}
version() {
  curl -s "$BASE/v1/models" | $PY -c 'import json,sys; print(json.load(sys.stdin)["models"][0]["version"])'
}
s1=$(score)
sleep 0.5

# 1. corrupt file + SIGHUP: fails, keeps version 1
printf 'this is not an onnx model' > "$TMP/models/tiny.onnx"
kill -HUP "$SERVER_PID"
i=0
until grep -q 'reload of model tiny failed, still serving version 1' "$SERVER_LOG"; do
  i=$((i + 1)); [ $i -lt 300 ] || die "no failed-reload line after SIGHUP"; sleep 0.1
done
[ "$(version)" = 1 ] || die "version changed after a failed reload"
[ "$(score)" = "$s1" ] || die "answers changed after a failed reload"
echo "ok  SIGHUP with a corrupt model file: reload fails, version 1 keeps serving"

# 2. the same through the API: 500 {"error"} naming the kept version
http POST /v1/models/tiny/reload; expect 500 "reload with a corrupt file"
printf '%s' "$BODY" | grep -q 'still serving version 1' || die "reload error does not say what is served: $BODY"

# 3. a new valid model: swapped in, answers change
cp "$TMP/tiny.onnx" "$TMP/models/tiny.onnx"
http POST /v1/models/tiny/reload; expect 200 "reload with a new model"
printf '%s' "$BODY" | grep -q '"version":2' || die "reload answer: $BODY"
[ "$(version)" = 2 ] || die "version is not 2"
s2=$(score)
$PY -c "import sys; a, b = $s1, $s2; sys.exit(0 if abs((a - b) - 0.25) < 1e-3 else 1)" ||
  die "answers after the reload ($s2) are not the new model's (old $s1)"
echo "ok  POST reload: version 2 serves (top score $s1 -> $s2)"

# 4. SIGHUP with a good file: version 3
kill -HUP "$SERVER_PID"
i=0
until [ "$(version)" = 3 ]; do i=$((i + 1)); [ $i -lt 300 ] || die "SIGHUP did not reload"; sleep 0.1; done
sleep 0.5
rm -f "$TMP/go"
wait $CLIENTS || true
cat "$TMP/clients.out"
grep -q 'bad 0 ' "$TMP/clients.out" || die "requests failed during reloads"
curl -s "$BASE/metrics" > "$TMP/m.txt"
grep -q 'detectd_model_reloads_total{model="tiny",result="ok"} 2$' "$TMP/m.txt" || die "reload ok count"
grep -q 'detectd_model_reloads_total{model="tiny",result="failed"} 2$' "$TMP/m.txt" || die "reload failed count"
grep -q 'detectd_model_instances 1$' "$TMP/m.txt" || die "old instances not freed"
n=$(grep -c 'model tiny version [12] freed' "$SERVER_LOG" || true)
[ "$n" = 2 ] || die "$n old versions freed, want 2"
echo "ok  no request failed across 4 reloads; old versions freed"
stop_server
echo "pass"

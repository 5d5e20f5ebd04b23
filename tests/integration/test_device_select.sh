#!/bin/sh
# test_device_select.sh — choosing where inference runs, end to end, on any
# machine: `detect`, `bench` and `serve` take --device cpu|cuda|cuda:N
# (serve also DETECTD_DEVICE / MODEL_CONTEXT_GPU=true).  A malformed device
# is refused up front.  Where no GPU is usable (no CUDA build, no driver,
# no device) each says why once and runs on the CPU, with the CPU's
# answers; where one is (a GPU machine), the server reports "cuda:N" for its
# workers in /v1/models, GPU memory in /metrics, and finds the same objects
# as the CPU (scores within 0.01: the GPU may use other conv algorithms).
set -u
. "$(dirname "$0")/lib_server.sh"
IMG=${SHARED:-$ROOT/../shared}/data/images/cat_and_dog.jpg
[ -f "$IMG" ] || IMG=/usr/share/darknet/data/dog.jpg
[ -f "$IMG" ] || { echo "no test image (../shared or darknet)"; exit 77; }
[ -f "$ROOT/models/nanodet/nanodet.json" ] || { echo "models/nanodet not fetched (make models)"; exit 77; }
cd "$ROOT"

# malformed devices: a clear error naming the value, exit non-zero
for cmd in "detect --model nanodet --device tpu $IMG" "bench --model nanodet --iterations 1 --device cuda:x" \
           "serve --device gpu0"; do
  out=$("$DETECTD" $cmd 2>&1) && die "detectd $cmd: accepted"
  printf '%s' "$out" | grep -q "is not a device" || die "detectd $cmd: unclear error: $out"
  echo "ok  detectd $cmd -> refused"
done

"$DETECTD" detect --model nanodet "$IMG" >"$TMP/cpu.json" 2>"$TMP/cpu.err" || die "detect on the CPU"
"$DETECTD" detect --model nanodet --device cuda "$IMG" >"$TMP/gpu.json" 2>"$TMP/gpu.err" || die "detect --device cuda: $(cat "$TMP/gpu.err")"
"$DETECTD" bench --model nanodet --iterations 2 --warmup 0 --device cuda >"$TMP/bench.json" 2>"$TMP/bench.err" ||
  die "bench --device cuda: $(cat "$TMP/bench.err")"
bench_dev=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["device"])' "$TMP/bench.json") ||
  die "bench JSON has no device: $(cat "$TMP/bench.json")"
GPU=0
case "$bench_dev" in cuda:*) GPU=1 ;; esac
if [ $GPU = 0 ]; then
  grep -q "running on the CPU" "$TMP/gpu.err" || die "detect --device cuda without a GPU: no warning: $(cat "$TMP/gpu.err")"
  grep -q "running on the CPU" "$TMP/bench.err" || die "bench --device cuda without a GPU: no warning"
  echo "ok  no usable GPU here: $(sed -n 's/.*--device cuda: \(.*\): running on the CPU/\1/p' "$TMP/gpu.err" | head -n 1)"
fi
$PY - "$TMP/cpu.json" "$TMP/gpu.json" "$GPU" <<'PY' || die "detections differ between --device cpu and cuda"
import json, sys
a, b, gpu = json.load(open(sys.argv[1]))["objects"], json.load(open(sys.argv[2]))["objects"], sys.argv[3] == "1"
tol = 0.01 if gpu else 0.0
assert [o["label"] for o in a] == [o["label"] for o in b], (a, b)
for x, y in zip(a, b):
    assert abs(x["score"] - y["score"]) <= tol, (x, y)
print("ok  detect --device cuda finds", [o["label"] for o in b], "as on the CPU")
PY

# the server: MODEL_CONTEXT_GPU=true (the article's switch) and 2 workers
MODEL_CONTEXT_GPU=true start_server --model nanodet --workers 2 --threads 1
wait_ready 300
http GET /v1/models; expect 200 "GET /v1/models"
dev=$(printf '%s' "$BODY" | $PY -c 'import json,sys; print(json.load(sys.stdin)["models"][0]["device"])') ||
  die "/v1/models has no device: $BODY"
http GET /metrics
[ "$CODE" = 200 ] || die "/metrics: $CODE"
if [ $GPU = 0 ]; then
  [ "$dev" = cpu ] || die "no GPU, yet /v1/models says device $dev"
  grep -q 'level=warn.*GPU requested.*running on the CPU' "$SERVER_LOG" || die "no warning about the missing GPU"
  printf '%s' "$BODY" | grep -q detectd_gpu_ && die "/metrics has GPU families without a GPU"
else
  case "$dev" in cuda:*) ;; *) die "GPU machine, MODEL_CONTEXT_GPU=true, yet device $dev" ;; esac
  printf '%s' "$BODY" | grep -q '^detectd_gpu_memory_total_bytes{device="cuda:0"' || die "/metrics lacks GPU memory"
fi
echo "ok  serve with MODEL_CONTEXT_GPU=true: workers on $dev"
http POST /v1/detect -H 'Content-Type: image/jpeg' --data-binary "@$IMG"; expect 200 "POST /v1/detect"
$PY - "$TMP/cpu.json" "$GPU" "$BODY" <<'PY' || die "server detections differ from the CPU CLI"
import json, sys
a = json.load(open(sys.argv[1]))["objects"]
b = json.loads(sys.argv[3])["objects"]
tol = 0.01 if sys.argv[2] == "1" else 1e-4
assert sorted(o["label"] for o in a) == sorted(o["label"] for o in b), (a, b)
for x in a:
    y = min((o for o in b if o["label"] == x["label"]), key=lambda o: abs(o["score"] - x["score"]))
    assert abs(x["score"] - y["score"]) <= tol, (x, y)
PY
stop_server
echo "summary: device selection: cpu/cuda/cuda:N on detect, bench, serve; GPU usable here: $([ $GPU = 1 ] && echo yes || echo no)"

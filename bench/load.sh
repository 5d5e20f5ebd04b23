#!/bin/sh
# bench/load.sh — detectd under load over loopback: wrk POSTs a 640x480
# JPEG to /v1/detect at a fixed concurrency for a fixed time, then the
# numbers: throughput, errors (must be 0), latency p50/p90/p99, and the
# throughput as a share of the model-only throughput for the same
# worker/thread settings, measured two ways:
#   bench    WORKERS concurrent `detectd bench --threads THREADS` runs
#            (the model alone, no HTTP, no JPEG decoding), summed;
#   metrics  the server's own /metrics: images per second of model
#            execution time, times the workers (what the workers could do
#            if they never waited);
#   CPU      server CPU time per request vs `detectd bench`'s CPU time per
#            image: what the ratio would be on a machine with nothing else
#            running (the wall-clock ratios move with the machine's load).
# With COMPARE_BATCH=1 it runs twice, --max-batch 1 and --max-batch BATCH,
# and compares.  Not part of `make test` (tests/integration/
# test_serving_load.sh runs a 5 s version).
#
#   sh bench/load.sh                         60 s, concurrency 32, nanodet
#   DURATION=10 CONC=8 MODEL=centernet sh bench/load.sh
#   MODEL=tiny COMPARE_BATCH=1 sh bench/load.sh   the batchable helper model
#
# Settings (environment): MODEL (a built-in name, a manifest, or "tiny" /
# "tiny-slow": the batchable test model of tests/integration/
# test_serving_lib.py), DURATION (s, 60), CONC (32), WORKERS (2), THREADS
# (engine threads per worker, 1), MAX_BATCH (1), BATCH (8, with
# COMPARE_BATCH), BATCH_TIMEOUT_US (2000 when batching), PREP (prep
# threads, 2), WRK_THREADS (2), IMAGE (default: darknet's dog.jpg resized
# to 640x480, else a synthetic photo), BENCH_ITERS (30), MIN_RATIO (fail
# below this HTTP/model-only ratio; default 0 = report only), STRICT_ERRORS
# (1: any error fails, the default).
set -eu
cd "$(dirname "$0")/.."
ROOT=$PWD
DETECTD=${DETECTD:-$ROOT/build/detectd}
PY=/usr/bin/python3
MODEL=${MODEL:-nanodet}
DURATION=${DURATION:-60}
CONC=${CONC:-32}
WORKERS=${WORKERS:-2}
THREADS=${THREADS:-1}
MAX_BATCH=${MAX_BATCH:-1}
BATCH=${BATCH:-8}
COMPARE_BATCH=${COMPARE_BATCH:-0}
PREP=${PREP:-2}
WRK_THREADS=${WRK_THREADS:-2}
BENCH_ITERS=${BENCH_ITERS:-30}
MIN_RATIO=${MIN_RATIO:-0}
STRICT_ERRORS=${STRICT_ERRORS:-1}

command -v wrk >/dev/null 2>&1 || { echo "needs wrk (Debian package wrk; run tools/install-deps.sh)"; exit 77; }
[ -x "$DETECTD" ] || { echo "needs $DETECTD (make)"; exit 77; }
TMP=$(mktemp -d)
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill -TERM "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- the model and the image -----------------------------------------------------
case "$MODEL" in
  tiny|tiny-slow)
    slow=0; [ "$MODEL" = tiny-slow ] && slow=8
    $PY - "$TMP" "$ROOT/tests/integration" "$slow" <<'PY'
import sys
sys.path.insert(0, sys.argv[2])
import test_serving_lib as L
L.make_tiny_model(sys.argv[1], "tiny", slow_convs=int(sys.argv[3]))
PY
    MODEL_ARG="$TMP/tiny.detectd.json" ;;
  *) MODEL_ARG=$MODEL ;;
esac
if [ -z "${IMAGE:-}" ]; then
  IMAGE=$TMP/load.jpg
  $PY - "$IMAGE" "$ROOT/tests/integration" <<'PY'
import os, sys
from PIL import Image
dog = "/usr/share/darknet/data/dog.jpg"
if os.path.exists(dog):
    Image.open(dog).convert("RGB").resize((640, 480), Image.BILINEAR).save(sys.argv[1], quality=90)
else:
    sys.path.insert(0, sys.argv[2])
    import test_serving_lib as L
    L.make_jpeg(sys.argv[1], 640, 480, seed=1)
PY
fi

# user + system CPU seconds of a process so far (/proc/PID/stat fields 14, 15)
cpu_ticks() { $PY -c 'import os,sys; f=open("/proc/%s/stat" % sys.argv[1]).read().rsplit(")",1)[1].split(); print((int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK"))' "$1"; }
free_port() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

# ---- model-only throughput: WORKERS concurrent `detectd bench` ------------------------
model_only() {  # $1 = batch; prints the summed images/s
  b=$1 i=0 pids=""
  while [ $i -lt "$WORKERS" ]; do
    "$DETECTD" bench --model "$MODEL_ARG" --threads "$THREADS" --iterations "$BENCH_ITERS" --warmup 3 --batch "$b" \
      > "$TMP/bench-$b-$i.json" 2> "$TMP/bench-$b-$i.err" &
    pids="$pids $!"
    i=$((i + 1))
  done
  ok=1
  for p in $pids; do wait "$p" || ok=0; done
  if [ $ok = 0 ]; then echo "0 0"; return; fi
  $PY - "$TMP" "$b" <<'PY'
import glob, json, sys
t, cpu = 0.0, []
for f in glob.glob("%s/bench-%s-*.json" % (sys.argv[1], sys.argv[2])):
    d = json.loads(open(f).read().strip().splitlines()[-1])
    t += d["throughput_ips"]  # images per second (batch / mean run time)
    cpu.append(d["cpu_ms"]["mean"] / d["batch"])
# "<images/s> <CPU ms per image>": the CPU figure does not depend on what else runs
print("%.3f %.3f" % (t, sum(cpu) / len(cpu)))
PY
}

# ---- one load run ----------------------------------------------------------------------
run() {  # $1 = max batch, $2 = label
  mb=$1 label=$2
  PORT=$(free_port)
  bt=0; [ "$mb" -gt 1 ] && bt=${BATCH_TIMEOUT_US:-2000}
  "$DETECTD" serve --host 127.0.0.1 --port "$PORT" --model "$MODEL_ARG" --workers "$WORKERS" \
    --threads-per-worker "$THREADS" --max-batch "$mb" --batch-timeout-us "$bt" --prep-threads "$PREP" \
    --queue-size $((CONC * 2)) --request-timeout-ms 120000 --access-log false > "$TMP/server-$label.log" 2>&1 &
  SERVER_PID=$!
  i=0
  until [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/v2/health/ready")" = 200 ]; do
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$TMP/server-$label.log"; echo "server died"; exit 1; }
    i=$((i + 1)); [ $i -lt 1500 ] || { echo "server not ready"; exit 1; }
    sleep 0.2
  done
  i=0
  while [ $i -lt $((WORKERS * 2)) ]; do  # warm-up
    curl -s -o /dev/null -H 'Content-Type: image/jpeg' --data-binary "@$IMAGE" "http://127.0.0.1:$PORT/v1/detect"
    i=$((i + 1))
  done
  curl -s "http://127.0.0.1:$PORT/metrics" > "$TMP/m0-$label.txt"
  cpu_ticks "$SERVER_PID" > "$TMP/cpu0-$label.txt"
  LOAD_IMAGE=$IMAGE wrk -t"$WRK_THREADS" -c"$CONC" -d"${DURATION}s" --timeout 120s -s bench/load.lua \
    "http://127.0.0.1:$PORT/v1/detect" > "$TMP/wrk-$label.txt" 2>&1 || true
  cpu_ticks "$SERVER_PID" > "$TMP/cpu1-$label.txt"
  curl -s "http://127.0.0.1:$PORT/metrics" > "$TMP/m1-$label.txt"
  kill -TERM "$SERVER_PID"
  rc=0; wait "$SERVER_PID" || rc=$?
  SERVER_PID=""
  [ $rc = 0 ] || { tail -20 "$TMP/server-$label.log"; echo "server exited $rc"; exit 1; }
  grep -q '^LOADJSON ' "$TMP/wrk-$label.txt" || { cat "$TMP/wrk-$label.txt"; echo "wrk failed"; exit 1; }
}

summarize() {  # $1 = label, $2 = max batch, $3 = bench "img/s cpu-ms" at batch 1, $4 = at batch $2
  $PY - "$TMP" "$1" "$2" "$3" "$4" "$MODEL" "$WORKERS" "$THREADS" "$CONC" "$DURATION" <<'PY'
import json, re, sys
tmp, label, mb, bench1, benchb, model, workers, threads, conc, dur = sys.argv[1:]
mb, workers = int(mb), int(workers)
bench1, bench_cpu1 = map(float, bench1.split())
benchb, bench_cpub = map(float, benchb.split())
cpu_s = float(open("%s/cpu1-%s.txt" % (tmp, label)).read()) - float(open("%s/cpu0-%s.txt" % (tmp, label)).read())
w = json.loads(re.search(r"^LOADJSON (.*)$", open("%s/wrk-%s.txt" % (tmp, label)).read(), re.M).group(1))
non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", open("%s/wrk-%s.txt" % (tmp, label)).read())
def metrics(path):
    out = {}
    for ln in open(path):
        if ln.startswith("#") or not ln.strip():
            continue
        k, v = ln.rsplit(" ", 1)
        out[k] = float(v)
    return out
m0, m1 = metrics("%s/m0-%s.txt" % (tmp, label)), metrics("%s/m1-%s.txt" % (tmp, label))
def d(k):
    return m1.get(k, 0) - m0.get(k, 0)
name = [k for k in m1 if k.startswith("detectd_inference_count_total{")][0]
lab = name[name.index("{"):]
inf, exe = d("detectd_inference_count_total" + lab), d("detectd_execution_count_total" + lab)
run_s = d("detectd_inference_duration_seconds_sum" + lab)
ok200 = d('detectd_requests_total{route="detect",code="200"}')
errors = sum(w["errors"].values())
rps = w["requests"] / w["duration_s"]
cap_metrics = inf / run_s * workers if run_s > 0 else 0
res = {
    "label": label, "model": model, "workers": workers, "threads_per_worker": int(threads), "max_batch": mb,
    "concurrency": int(conc), "duration_s": w["duration_s"], "requests": w["requests"], "rps": round(rps, 2),
    "errors": errors, "errors_detail": w["errors"], "non_2xx": int(non2xx.group(1)) if non2xx else 0,
    "server_200": int(ok200), "latency_ms": w["latency_ms"],
    "mean_batch": round(inf / exe, 2) if exe else 0, "model_run_ms": round(run_s / exe * 1e3, 1) if exe else 0,
    "model_only_ips_bench": round(bench1 if mb == 1 else max(bench1, benchb), 2),
    "model_only_ips_metrics": round(cap_metrics, 2),
    "server_cpu_ms_per_request": round(cpu_s * 1e3 / max(w["requests"], 1), 2),
    "model_cpu_ms_per_image": round(bench_cpu1 if mb == 1 else min(bench_cpu1, bench_cpub), 2),
}
# CPU per request against the model's own CPU per image: the throughput
# ratio a machine with no other load would show when the run is CPU-bound.
res["cpu_efficiency"] = round(res["model_cpu_ms_per_image"] / res["server_cpu_ms_per_request"], 3) \
    if res["server_cpu_ms_per_request"] else None
res["ratio_vs_bench"] = round(rps / res["model_only_ips_bench"], 3) if res["model_only_ips_bench"] else None
res["ratio_vs_metrics"] = round(rps / cap_metrics, 3) if cap_metrics else None
json.dump(res, open("%s/result-%s.json" % (tmp, label), "w"))
l = w["latency_ms"]
print("load [%s]: %s, %d worker(s) x %s thread(s), max batch %d, concurrency %s, %.0f s, 640x480 JPEG"
      % (label, model, workers, threads, mb, conc, w["duration_s"]))
print("  %d requests, %.2f req/s, errors %d (%s), non-2xx %d; latency p50 %.0f ms, p90 %.0f ms, p99 %.0f ms, max %.0f ms"
      % (w["requests"], rps, errors, ", ".join("%s %d" % kv for kv in w["errors"].items() if kv[1]) or "none",
         res["non_2xx"], l["p50"], l["p90"], l["p99"], l["max"]))
print("  model-only: detectd bench %.2f img/s -> %.0f%%; /metrics %.2f img/s (model run %.1f ms, mean batch %.2f) -> %.0f%%"
      % (res["model_only_ips_bench"], 100 * (res["ratio_vs_bench"] or 0), cap_metrics, res["model_run_ms"],
         res["mean_batch"], 100 * (res["ratio_vs_metrics"] or 0)))
print("  CPU: server %.1f ms per request (decode, preprocess, HTTP, model) vs model alone %.1f ms per image -> %.0f%%"
      % (res["server_cpu_ms_per_request"], res["model_cpu_ms_per_image"], 100 * (res["cpu_efficiency"] or 0)))
print("LOADRESULT " + json.dumps(res))
PY
}

echo "measuring model-only throughput: $WORKERS x detectd bench --threads $THREADS ..."
B1=$(model_only 1)
BB=$B1
if [ "$COMPARE_BATCH" = 1 ] || [ "$MAX_BATCH" -gt 1 ]; then
  b=$MAX_BATCH; [ "$COMPARE_BATCH" = 1 ] && b=$BATCH
  BB=$(model_only "$b")
fi
echo "  batch 1: ${B1% *} img/s (${B1#* } CPU ms per image)"
fail=0
if [ "$COMPARE_BATCH" = 1 ]; then
  run 1 off; summarize off 1 "$B1" "$B1"
  run "$BATCH" on; summarize on "$BATCH" "$B1" "$BB"
  $PY - "$TMP" <<'PY'
import json, sys
off = json.load(open(sys.argv[1] + "/result-off.json"))
on = json.load(open(sys.argv[1] + "/result-on.json"))
print("batching: off %.2f req/s (p99 %.0f ms), on %.2f req/s (p99 %.0f ms, mean batch %.2f): %+.0f%%"
      % (off["rps"], off["latency_ms"]["p99"], on["rps"], on["latency_ms"]["p99"], on["mean_batch"],
         100 * (on["rps"] / off["rps"] - 1)))
PY
  labels="off on"
else
  run "$MAX_BATCH" run; summarize run "$MAX_BATCH" "$B1" "$BB"
  labels="run"
fi
for l in $labels; do
  $PY - "$TMP/result-$l.json" "$STRICT_ERRORS" "$MIN_RATIO" <<'PY' || fail=1
import json, sys
r, strict, min_ratio = json.load(open(sys.argv[1])), sys.argv[2] == "1", float(sys.argv[3])
bad = []
if strict and (r["errors"] or r["non_2xx"]):
    bad.append("%d errors, %d non-2xx" % (r["errors"], r["non_2xx"]))
if r["requests"] == 0:
    bad.append("no request completed")
if min_ratio and (r["ratio_vs_bench"] or 0) < min_ratio:
    bad.append("throughput %.0f%% of model-only, below %.0f%%" % (100 * (r["ratio_vs_bench"] or 0), 100 * min_ratio))
if bad:
    print("FAIL [%s]: %s" % (r["label"], "; ".join(bad)))
    sys.exit(1)
PY
done
exit $fail

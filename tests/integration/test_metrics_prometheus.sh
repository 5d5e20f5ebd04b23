#!/bin/sh
# GET /metrics is valid Prometheus text (parsed by a strict reader written
# from the exposition format spec: HELP/TYPE before samples, one family per
# name, counters end in _total, histograms have cumulative _bucket{le=...}
# ending at le="+Inf" == _count, plus _sum), and its numbers move exactly
# with the traffic sent: requests by route and code, inference count,
# latency histogram counts, process RSS from /proc.  Every request leaves
# one logfmt access-log line carrying its X-Request-Id, echoed back.
set -eu
. "$(dirname "$0")/lib_server.sh"
$PY -c 'import onnx, PIL' 2>/dev/null || { echo "needs python3-onnx and python3-pil"; exit 77; }
$PY - "$TMP" "$ROOT/tests/integration" <<'PY'
import sys
sys.path.insert(0, sys.argv[2])
import test_serving_lib as L
L.make_tiny_model(sys.argv[1], "tiny")
L.make_jpeg(sys.argv[1] + "/a.jpg", seed=2)
PY

start_server --model "$TMP/tiny.detectd.json" --workers 1 --max-batch 4
wait_ready 60

cat > "$TMP/prom.py" <<'PY'
"""A strict reader of the Prometheus text format (0.0.4): returns
{family: (type, [(name, labels dict, value)])} or raises."""
import math, re, sys
LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)')
def parse(text):
    fams, cur, typ = {}, None, None
    assert text.endswith("\n"), "no final newline"
    for ln in text.splitlines():
        if ln.startswith("# HELP "):
            name, help_ = ln[7:].split(" ", 1)
            assert name not in fams, "family %s twice" % name
            assert help_.strip(), "empty HELP for " + name
            cur, typ = name, None
            fams[name] = [None, []]
            continue
        if ln.startswith("# TYPE "):
            name, t = ln[7:].split(" ")
            assert name == cur, "TYPE %s after HELP %s" % (name, cur)
            assert t in ("counter", "gauge", "histogram", "summary", "untyped"), t
            fams[name][0] = typ = t
            continue
        assert not ln.startswith("#") and ln, "stray line %r" % ln
        m = LINE.match(ln)
        assert m, "bad sample line %r" % ln
        name, labels, value = m.group(1), m.group(3) or "", m.group(4)
        lab, pos = {}, 0
        while pos < len(labels):
            lm = LABEL.match(labels, pos)
            assert lm, "bad labels in %r" % ln
            lab[lm.group(1)] = lm.group(2)
            pos = lm.end()
        v = float(value.replace("+Inf", "inf"))
        assert typ, "sample before TYPE: %r" % ln
        base = cur
        if typ == "histogram":
            assert name in (cur + "_bucket", cur + "_sum", cur + "_count"), "%s in histogram %s" % (name, cur)
        else:
            assert name == cur, "%s outside its family %s" % (name, cur)
        if typ == "counter":
            assert cur.endswith("_total"), "counter %s without _total" % cur
            assert v >= 0
        fams[base][1].append((name, lab, v))
    for name, (t, samples) in fams.items():
        if t != "histogram":
            continue
        series = {}
        for n, lab, v in samples:
            key = tuple(sorted((k, x) for k, x in lab.items() if k != "le"))
            series.setdefault(key, {"b": [], "sum": None, "count": None})
            if n.endswith("_bucket"):
                series[key]["b"].append((float(lab["le"].replace("+Inf", "inf")), v))
            elif n.endswith("_sum"):
                series[key]["sum"] = v
            else:
                series[key]["count"] = v
        for key, s in series.items():
            b = s["b"]
            assert b and b[-1][0] == math.inf, "%s%s: no +Inf bucket" % (name, key)
            assert all(b[i][0] < b[i + 1][0] and b[i][1] <= b[i + 1][1] for i in range(len(b) - 1)), \
                "%s%s: buckets not increasing/cumulative" % (name, key)
            assert s["count"] == b[-1][1], "%s%s: _count %s != +Inf %s" % (name, key, s["count"], b[-1][1])
            assert s["sum"] is not None and s["sum"] >= 0
    return fams
def value(fams, fam, name=None, **lab):
    for n, l, v in fams[fam][1]:
        if (name or fam) == n and all(l.get(k) == x for k, x in lab.items()):
            return v
    return None
PY

curl -s "$BASE/metrics" > "$TMP/m0.txt"
# traffic: 5 good, 2 bad images, 1 unknown route, 1 v2 infer, with our ids
i=0
while [ $i -lt 5 ]; do
  http POST /v1/detect -H 'Content-Type: image/jpeg' -H "X-Request-Id: good-$i" --data-binary "@$TMP/a.jpg"
  expect 200 "good $i"
  grep -qi "^X-Request-Id: good-$i" "$TMP/headers" || die "X-Request-Id not echoed"
  i=$((i + 1))
done
http POST /v1/detect -H 'Content-Type: image/jpeg' -H 'X-Request-Id: bad-1' --data-binary 'not an image'; expect 400 "bad 1"
http POST /v1/detect -H 'Content-Type: text/plain' -H 'X-Request-Id: bad-2' --data-binary 'x'; expect 415 "bad 2"
http GET /nope -H 'X-Request-Id: nope-1'; expect 404 "unknown route"
$PY -c 'import base64,json,sys; print(json.dumps({"inputs":[{"name":"image","shape":[1],"datatype":"BYTES","data":[base64.b64encode(open(sys.argv[1],"rb").read()).decode()]}]}))' "$TMP/a.jpg" > "$TMP/v2.json"
http POST /v2/models/tiny/infer -H 'Content-Type: application/json' -H 'X-Request-Id: v2-1' --data-binary "@$TMP/v2.json"
expect 200 "v2 infer"
sleep 0.3
curl -s -D "$TMP/mh" "$BASE/metrics" > "$TMP/m1.txt"
grep -qi '^Content-Type: text/plain; version=0.0.4' "$TMP/mh" || die "metrics Content-Type"

$PY - "$TMP" <<'PY' || die "metrics check"
import sys
sys.path.insert(0, sys.argv[1])
from prom import parse, value
t = sys.argv[1]
m0 = parse(open(t + "/m0.txt").read())
m1 = parse(open(t + "/m1.txt").read())
def d(fam, name=None, **lab):
    a = value(m0, fam, name, **lab) or 0
    b = value(m1, fam, name, **lab)
    assert b is not None, "%s %s missing" % (name or fam, lab)
    return b - a
assert d("detectd_requests_total", route="detect", code="200") == 5
assert d("detectd_requests_total", route="detect", code="400") == 1
assert d("detectd_requests_total", route="detect", code="415") == 1
assert d("detectd_requests_total", route="none", code="404") == 1
assert d("detectd_requests_total", route="v2_infer", code="200") == 1
assert d("detectd_inference_count_total", model="tiny") == 6
assert d("detectd_request_duration_seconds", "detectd_request_duration_seconds_count", route="detect") == 7
assert d("detectd_queue_duration_seconds", "detectd_queue_duration_seconds_count", model="tiny") == 6
assert d("detectd_preprocess_duration_seconds", "detectd_preprocess_duration_seconds_count", model="tiny") == 6
n_exec = d("detectd_execution_count_total", model="tiny")
assert 1 <= n_exec <= 6, n_exec
assert d("detectd_inference_duration_seconds", "detectd_inference_duration_seconds_count", model="tiny") == n_exec
assert d("detectd_batch_size", "detectd_batch_size_sum", model="tiny") == 6
assert value(m1, "detectd_queue_depth", model="tiny") == 0
assert value(m1, "detectd_model_state", model="tiny", state="ready") == 1
assert value(m1, "detectd_model_state", model="tiny", state="failed") == 0
assert value(m1, "detectd_ready") == 1
for fam in ("detectd_inflight_requests", "detectd_model_max_batch", "process_start_time_seconds"):
    assert fam in m1, fam
assert m1["detectd_requests_total"][0] == "counter" and m1["detectd_queue_depth"][0] == "gauge"
assert m1["detectd_batch_size"][0] == "histogram" and m1["detectd_inference_duration_seconds"][0] == "histogram"
rss = value(m1, "process_resident_memory_bytes")
assert rss and rss > 1 << 20, rss
print("ok  metrics: %d families, all valid; counters moved by exactly the traffic; RSS %.1f MiB"
      % (len(m1), rss / 2**20))
PY

# one access-log line per request, with its id, as logfmt
for id in good-0 good-4 bad-1 bad-2 nope-1 v2-1; do
  n=$(grep -c "msg=request id=$id " "$SERVER_LOG" || true)
  [ "$n" = 1 ] || die "$n access-log lines for $id"
done
$PY - "$SERVER_LOG" <<'PY' || die "access log is not logfmt"
import re, sys
pair = re.compile(r'([a-z_]+)=("(?:[^"\\]|\\.)*"|\S+)(?: |$)')
n = 0
for ln in open(sys.argv[1]):
    if "msg=request " not in ln:
        continue
    ln = ln.rstrip("\n")
    pos, kv = 0, {}
    while pos < len(ln):
        m = pair.match(ln, pos)
        assert m, "not logfmt at %d: %s" % (pos, ln)
        kv[m.group(1)] = m.group(2)
        pos = m.end()
    for k in ("ts", "level", "msg", "id", "method", "path", "status", "ms"):
        assert k in kv, (k, ln)
    n += 1
assert n >= 10, n
print("ok  %d access-log lines, each logfmt with id, method, path, status, ms" % n)
PY
stop_server
echo "pass"

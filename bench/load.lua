-- bench/load.lua — wrk script for bench/load.sh: every request POSTs the
-- same image file ($LOAD_IMAGE, read once) with Content-Type $LOAD_CTYPE
-- (default image/jpeg) to the URL's path; at the end one line
-- "LOADJSON {...}" with the counts and latency percentiles in ms.
local f = assert(io.open(os.getenv("LOAD_IMAGE"), "rb"))
local body = f:read("*all")
f:close()
wrk.method = "POST"
wrk.body = body
wrk.headers["Content-Type"] = os.getenv("LOAD_CTYPE") or "image/jpeg"

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'LOADJSON {"requests":%d,"duration_s":%.3f,"bytes":%d,"errors":{"connect":%d,"read":%d,"write":%d,' ..
    '"status":%d,"timeout":%d},"latency_ms":{"mean":%.2f,"p50":%.2f,"p90":%.2f,"p99":%.2f,"max":%.2f}}\n',
    summary.requests, summary.duration / 1e6, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean / 1e3, latency:percentile(50) / 1e3, latency:percentile(90) / 1e3, latency:percentile(99) / 1e3,
    latency.max / 1e3))
end

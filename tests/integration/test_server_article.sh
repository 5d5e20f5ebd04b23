#!/bin/sh
# The article's own test, against the real binary: serve the default model,
# POST the article's photo to /predict, get exactly a cat and a dog, the
# cat left of the dog.  Then SIGTERM must end the server with status 0.
set -eu
if [ -z "${SHARED:-}" ] || [ ! -f "$SHARED/data/images/cat_and_dog.jpg" ]; then
  echo "needs ../shared/data/images/cat_and_dog.jpg"
  exit 77
fi
. "$(dirname "$0")/lib_server.sh"

start_server
wait_ready 300
http POST /predict -H 'Content-Type: image/jpeg' --data-binary "@$SHARED/data/images/cat_and_dog.jpg"
expect 200 "POST /predict cat_and_dog.jpg"
echo "$BODY"
printf '%s' "$BODY" | $PY -c '
import json, sys
d = json.load(sys.stdin)
assert list(d) == ["prediction"], d
p = d["prediction"]
assert len(p) == 2, "want exactly 2 predictions, got %d: %s" % (len(p), p)
for o in p:
    assert set(o) == {"objectClass", "probability", "x", "y", "width", "height"}, o
    for k in ("x", "y", "width", "height"):
        assert isinstance(o[k], int), (k, o)
    assert 0.5 < o["probability"] <= 1, o
    assert o["x"] >= 0 and o["y"] >= 0 and o["width"] > 0 and o["height"] > 0, o
    assert o["x"] + o["width"] <= 1836 and o["y"] + o["height"] <= 1426, o  # clipped to the photo
by = {o["objectClass"]: o for o in p}
assert set(by) == {"cat", "dog"}, "want a cat and a dog, got %s" % sorted(by)
cat, dog = by["cat"], by["dog"]
assert cat["x"] + cat["width"] / 2 < dog["x"] + dog["width"] / 2, "the cat is not left of the dog: %s" % p
print("cat", cat, "dog", dog)
' || die "unexpected /predict answer"
# The README shows this answer as real output: keep it true (tolerantly,
# so that a last-digit change in the engine does not need a README edit).
printf '%s' "$BODY" | $PY -c '
import json, re, sys
readme = open(sys.argv[1]).read()
shown = json.loads(re.search(r"```json\n(.*?)\n```", readme, re.S).group(1))["prediction"]
got = json.load(sys.stdin)["prediction"]
assert [o["objectClass"] for o in shown] == [o["objectClass"] for o in got], (shown, got)
for a, b in zip(shown, got):
    assert abs(a["probability"] - b["probability"]) < 0.02, (a, b)
    for k in ("x", "y", "width", "height"):
        assert abs(a[k] - b[k]) <= 4, (k, a, b)
' "$ROOT/README.md" || die "README.md example output is stale: the server now answers $BODY"
stop_server
grep -q 'msg=request .*path=/predict status=200' "$SERVER_LOG" || die "no access-log line for the request"
echo "pass"

#!/usr/bin/python3
"""test_render.py — annotated JPEGs, from the CLI and from the server.

`detectd detect --render OUT.jpg IMAGE` and `POST /v1/detect?render=jpeg`
on real photos: the output must be a JPEG of the original size whose
pixels along every box the JSON answer reports have the class colour
(the palette is read from src/vision/draw.c), and whose pixels away from
the boxes and labels are the photo's own.  The oracle for where the boxes
are is detectd's own JSON answer for the same image.
"""
import http.client
import io
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time

try:
    from PIL import Image, ImageDraw, ImageOps
except ImportError:
    print("skip: needs python3-pil (tools/install-deps.sh)")
    sys.exit(77)

ROOT = os.environ.get("ROOT") or os.path.abspath(os.path.join(os.path.dirname(__file__), "../.."))
BUILD = os.environ.get("BUILD", "build")
if not os.path.isabs(BUILD):
    BUILD = os.path.join(ROOT, BUILD)
DETECTD = os.environ.get("DETECTD") or os.path.join(BUILD, "detectd")
SHARED = os.environ.get("SHARED", "")

failures = 0


def check(cond, msg):
    global failures
    print(("ok   " if cond else "FAIL ") + msg, flush=True)
    if not cond:
        failures += 1


def palette():
    src = open(os.path.join(ROOT, "src/vision/draw.c")).read()
    table = src[src.index("k_palette[][3] = {"):]
    table = table[:table.index("};")]
    return [tuple(int(v) for v in m) for m in re.findall(r"\{(\d+),\s*(\d+),\s*(\d+)\}", table)]


PALETTE = palette()


def colour(class_id):
    return PALETTE[class_id % len(PALETTE)]


def close(p, c, tol=48):
    return max(abs(p[0] - c[0]), abs(p[1] - c[1]), abs(p[2] - c[2])) <= tol


def check_render(tag, jpeg_bytes, original_path, answer):
    """The annotated JPEG against the JSON answer for the same photo."""
    try:
        out = Image.open(io.BytesIO(jpeg_bytes))
        out.load()
    except Exception as e:  # noqa: BLE001 - any decoder error is a failure
        check(False, f"{tag}: output decodes ({e})")
        return
    orig = ImageOps.exif_transpose(Image.open(original_path)).convert("RGB")
    check(out.format == "JPEG", f"{tag}: output is a JPEG ({out.format})")
    check(out.size == orig.size, f"{tag}: output is the original's size {orig.size} ({out.size})")
    check((answer["width"], answer["height"]) == orig.size, f"{tag}: answer size {answer['width']}x{answer['height']}")
    objs = answer["objects"]
    check(len(objs) > 0, f"{tag}: {len(objs)} objects: " + ", ".join(f"{o['label']} {o['score']:.2f}" for o in objs))
    if out.size != orig.size:
        return
    out = out.convert("RGB")
    W, H = out.size
    px = out.load()
    t = max(2, min(W, H) // 200)
    for o in objs:
        b, c = o["box"], colour(o["class_id"])
        x0, y0 = int(b["x"] + 0.5), int(b["y"] + 0.5)
        x1, y1 = int(b["x"] + b["width"] + 0.5) - 1, int(b["y"] + b["height"] + 0.5) - 1
        x0, y0, x1, y1 = max(0, x0), max(0, y0), min(W - 1, x1), min(H - 1, y1)
        if x1 - x0 < 4 * t or y1 - y0 < 4 * t:
            continue
        hits = total = 0
        # Left and right edges below any label tucked inside the box, and the
        # bottom edge; a stroke is t pixels deep going inward, give or take
        # a pixel of rounding of the answer's coordinates.
        for k in range(12):
            y = y0 + (y1 - y0) * (35 + 5 * k) // 100
            x = x0 + (x1 - x0) * (10 + 7 * k) // 100
            for pts in ([(xx, y) for xx in range(x0 - 1, x0 + t + 1)],
                        [(xx, y) for xx in range(x1 - t, x1 + 2)],
                        [(x, yy) for yy in range(y1 - t, y1 + 2)]):
                total += 1
                hits += any(0 <= a < W and 0 <= b_ < H and close(px[a, b_], c) for a, b_ in pts)
        check(hits >= 0.8 * total, f"{tag}: {o['label']} {o['score']:.2f} box edges in {c} ({hits}/{total})")
    # Away from the boxes (and the label band above each) the photo is intact.
    mask = Image.new("L", out.size, 0)
    d = ImageDraw.Draw(mask)
    lab = max(11, min(120, min(W, H) // 32)) * 2 + 4
    for o in objs:
        b = o["box"]
        d.rectangle([b["x"] - 3, b["y"] - 3, b["x"] + b["width"] + 3, b["y"] + b["height"] + 3], fill=255)
        # the label: above the box, or inside it at the top, moved left near the right border
        d.rectangle([b["x"] - 12 * lab, b["y"] - lab, b["x"] + b["width"] + 12 * lab, b["y"] + lab], fill=255)
    diff = n = 0
    po = orig.load()
    mk = mask.load()
    for y in range(0, H, 3):
        for x in range(0, W, 3):
            if not mk[x, y]:
                a, b_ = px[x, y], po[x, y]
                diff += abs(a[0] - b_[0]) + abs(a[1] - b_[1]) + abs(a[2] - b_[2])
                n += 3
    if n:
        check(diff / n < 4.0, f"{tag}: pixels away from the boxes unchanged (mean |diff| {diff / n:.2f})")


def images():
    out = [("/usr/share/darknet/data/dog.jpg", {"dog", "bicycle"})]
    if SHARED and os.path.isfile(os.path.join(SHARED, "data/images/cat_and_dog.jpg")):
        out.append((os.path.join(SHARED, "data/images/cat_and_dog.jpg"), {"cat", "dog"}))
    return [(p, e) for p, e in out if os.path.isfile(p)]


def test_cli(tmp):
    for path, expect in images():
        name = os.path.basename(path)
        out = os.path.join(tmp, "cli-" + name)
        r = subprocess.run([DETECTD, "detect", "--render", out, path], cwd=ROOT, capture_output=True, text=True,
                           timeout=300)
        check(r.returncode == 0, f"cli {name}: detectd detect --render exits 0 ({r.returncode}) {r.stderr.strip()[-300:]}")
        if r.returncode:
            continue
        answer = json.loads(r.stdout.strip().splitlines()[-1])
        labels = {o["label"] for o in answer["objects"]}
        check(expect <= labels, f"cli {name}: finds {sorted(expect)} ({sorted(labels)})")
        check(os.path.isfile(out), f"cli {name}: wrote {out}")
        if os.path.isfile(out):
            check_render(f"cli {name}", open(out, "rb").read(), path, answer)
            os.makedirs(os.path.join(BUILD, "screenshots"), exist_ok=True)
            Image.open(out).save(os.path.join(BUILD, "screenshots", "render-" + os.path.splitext(name)[0] + ".png"))


def post(port, path, body, ctype="image/jpeg"):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    c.request("POST", path, body=body, headers={"Content-Type": ctype})
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, r.getheader("Content-Type", ""), data


def test_server(tmp):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    log = open(os.path.join(tmp, "server.log"), "w")
    srv = subprocess.Popen([DETECTD, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
                           cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    try:
        ready = False
        for _ in range(240):
            if srv.poll() is not None:
                break
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                c.request("GET", "/v2/health/ready")
                ready = c.getresponse().status == 200
                c.close()
            except OSError:
                pass
            if ready:
                break
            time.sleep(0.5)
        check(ready, f"server ready on port {port}")
        if not ready:
            print(open(os.path.join(tmp, "server.log")).read()[-2000:])
            return
        for path, _ in images():
            name = os.path.basename(path)
            body = open(path, "rb").read()
            st, ct, data = post(port, "/v1/detect", body)
            check(st == 200, f"server {name}: JSON answer ({st})")
            st2, ct2, jpg = post(port, "/v1/detect?render=jpeg", body)
            check(st2 == 200 and ct2 == "image/jpeg", f"server {name}: render=jpeg answers {st2} {ct2}")
            if st == 200 and st2 == 200:
                check_render(f"server {name}", jpg, path, json.loads(data))
        st, ct, data = post(port, "/v1/detect?render=jpeg", b"not an image", "application/octet-stream")
        check(st == 400 and ct.startswith("application/json") and "error" in json.loads(data),
              f"server: render=jpeg of a non-image is a JSON error ({st} {ct})")
        st, ct, data = post(port, "/v1/detect?render=gif", open(images()[0][0], "rb").read())
        check(st == 400 and "render" in json.loads(data).get("error", ""), f"server: render=gif refused ({st})")
    finally:
        srv.terminate()
        try:
            srv.wait(timeout=30)
        except subprocess.TimeoutExpired:
            srv.kill()
        log.close()


def main():
    if not os.access(DETECTD, os.X_OK):
        print(f"no detectd binary at {DETECTD}")
        return 1
    if not images():
        print("skip: no test photo (darknet's dog.jpg)")
        return 77
    with tempfile.TemporaryDirectory() as tmp:
        test_cli(tmp)
        test_server(tmp)
    print(f"{failures} check(s) failed" if failures else "all checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

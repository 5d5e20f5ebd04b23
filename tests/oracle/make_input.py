#!/usr/bin/python3
"""make_input.py IMAGE OUT.npy --size WxH [--layout nhwc|nchw] [--order rgb|bgr]
                 [--mean a,b,c] [--std a,b,c]

Writes a [1,H,W,3] (nhwc) or [1,3,H,W] (nchw) float32 model input: the image
letterboxed into WxH (scaled to fit, bilinear, centred, borders 0 in pixel
space), channels in the given order, then (x - mean) / std per channel
(defaults: 0 and 1, i.e. raw 0..255).  Only needs numpy and PIL (Debian
python3-pil); the exact resampling does not matter to the tests that use it,
which feed the same file to the oracle and to detectd."""
import argparse

import numpy as np
from PIL import Image


def triple(s):
    v = [float(x) for x in s.split(",")]
    if len(v) != 3:
        raise argparse.ArgumentTypeError("need three comma-separated numbers")
    return np.array(v, dtype=np.float64)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("image")
    ap.add_argument("out")
    ap.add_argument("--size", required=True, help="WxH")
    ap.add_argument("--layout", choices=["nhwc", "nchw"], default="nhwc")
    ap.add_argument("--order", choices=["rgb", "bgr"], default="rgb")
    ap.add_argument("--mean", type=triple, default=np.zeros(3))
    ap.add_argument("--std", type=triple, default=np.ones(3))
    a = ap.parse_args()
    w, h = (int(x) for x in a.size.lower().split("x"))
    img = Image.open(a.image).convert("RGB")
    s = min(w / img.width, h / img.height)
    nw, nh = max(1, round(img.width * s)), max(1, round(img.height * s))
    canvas = np.zeros((h, w, 3), dtype=np.float64)
    x0, y0 = (w - nw) // 2, (h - nh) // 2
    canvas[y0:y0 + nh, x0:x0 + nw] = np.asarray(img.resize((nw, nh), Image.BILINEAR), dtype=np.float64)
    if a.order == "bgr":
        canvas = canvas[:, :, ::-1]
    canvas = (canvas - a.mean) / a.std
    t = canvas[None].astype(np.float32)
    if a.layout == "nchw":
        t = t.transpose(0, 3, 1, 2)
    np.save(a.out, np.ascontiguousarray(t))


if __name__ == "__main__":
    main()

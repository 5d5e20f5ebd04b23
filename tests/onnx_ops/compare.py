#!/usr/bin/python3
"""compare.py EXPECTED_DIR ACTUAL_DIR [--atol A] [--rtol R] [--quiet]

Compares every EXPECTED_DIR/*.npy with the file of the same name in
ACTUAL_DIR.  Floats pass when |actual - expected| <= atol + rtol*|expected|
for every element (NaN matches NaN, an infinity matches the same infinity);
integer and bool outputs must be exactly equal.  Prints one line per output
with its max abs diff; exits 1 on a missing file, a shape or dtype mismatch,
or a diff over tolerance; 2 on bad usage."""

import argparse
import glob
import os
import sys

import numpy as np


def compare_arrays(e, a, atol, rtol):
    """(ok, message) for one expected/actual pair."""
    if e.shape != a.shape:
        return False, "shape mismatch: expected %s, got %s" % (list(e.shape), list(a.shape))
    ef, af = np.issubdtype(e.dtype, np.floating), np.issubdtype(a.dtype, np.floating)
    if ef != af or (not ef and e.dtype != a.dtype):
        # int64 vs int32 etc. is a real difference: ONNX fixes output types.
        return False, "dtype mismatch: expected %s, got %s" % (e.dtype, a.dtype)
    if ef and e.dtype != a.dtype and not (e.dtype == np.float64 or a.dtype == np.float64):
        return False, "dtype mismatch: expected %s, got %s" % (e.dtype, a.dtype)
    if e.size == 0:
        return True, "empty"
    if not ef:
        bad = np.count_nonzero(e != a)
        if bad:
            idx = np.argwhere(e != a)[0]
            return False, "%d of %d elements differ (first at %s: expected %s, got %s)" % (
                bad, e.size, list(idx), e[tuple(idx)], a[tuple(idx)])
        return True, "exact"
    e64, a64 = e.astype(np.float64), a.astype(np.float64)
    en, an = np.isnan(e64), np.isnan(a64)
    if np.any(en != an):
        idx = np.argwhere(en != an)[0]
        return False, "NaN mismatch at %s: expected %s, got %s" % (list(idx), e64[tuple(idx)], a64[tuple(idx)])
    ei, ai = np.isinf(e64), np.isinf(a64)
    if np.any((ei | ai) & ~((e64 == a64) | en)):
        idx = np.argwhere((ei | ai) & ~((e64 == a64) | en))[0]
        return False, "inf mismatch at %s: expected %s, got %s" % (list(idx), e64[tuple(idx)], a64[tuple(idx)])
    fin = ~(en | ei)
    diff = np.where(fin, np.abs(e64 - a64), 0.0)
    lim = atol + rtol * np.abs(np.where(fin, e64, 0.0))
    maxd = float(diff.max())
    over = diff > lim
    if np.any(over):
        idx = np.argwhere(over)[0]
        worst = np.unravel_index(np.argmax(diff - lim), diff.shape)
        return False, "max abs diff %.3g over tolerance (atol %g rtol %g) at %d of %d elements; first at %s: " \
            "expected %r got %r; worst at %s: expected %r got %r" % (
                maxd, atol, rtol, int(over.sum()), e.size, list(idx), float(e64[tuple(idx)]),
                float(a64[tuple(idx)]), list(worst), float(e64[worst]), float(a64[worst]))
    return True, "max abs diff %.3g" % maxd


def main():
    ap = argparse.ArgumentParser(description="compare .npy outputs against an oracle")
    ap.add_argument("expected")
    ap.add_argument("actual")
    ap.add_argument("--atol", type=float, default=1e-3)
    ap.add_argument("--rtol", type=float, default=1e-4)
    ap.add_argument("--quiet", action="store_true", help="print failures only")
    args = ap.parse_args()
    files = sorted(glob.glob(os.path.join(args.expected, "*.npy")))
    if not files:
        print("no .npy files in %s" % args.expected)
        return 1
    ok_all = True
    for f in files:
        name = os.path.basename(f)
        af = os.path.join(args.actual, name)
        if not os.path.exists(af):
            print("%s: FAIL missing in %s" % (name, args.actual))
            ok_all = False
            continue
        try:
            e, a = np.load(f), np.load(af)
        except Exception as ex:  # a malformed file from the engine is a failure, not a crash
            print("%s: FAIL cannot read: %s" % (name, ex))
            ok_all = False
            continue
        ok, msg = compare_arrays(e, a, args.atol, args.rtol)
        if not ok or not args.quiet:
            print("%s: %s %s" % (name, "ok" if ok else "FAIL", msg))
        ok_all = ok_all and ok
    return 0 if ok_all else 1


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""compare.py EXPECTED_DIR ACTUAL_DIR [--atol A] [--rtol R] [--quiet]
   compare.py --batch OUTDIR CASES_LIST [RUN...]   (all cases of test_onnx_ops.sh)

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


def compare_dirs(expected, actual, atol, rtol, quiet, out):
    """Compare every expected/*.npy with actual/; returns ok, writes lines to out."""
    files = sorted(glob.glob(os.path.join(expected, "*.npy")))
    if not files:
        out.append("no .npy files in %s" % expected)
        return False
    ok_all = True
    for f in files:
        name = os.path.basename(f)
        af = os.path.join(actual, name)
        if not os.path.exists(af):
            out.append("%s: FAIL missing in %s" % (name, actual))
            ok_all = False
            continue
        try:
            e, a = np.load(f), np.load(af)
        except Exception as ex:  # a malformed file from the engine is a failure, not a crash
            out.append("%s: FAIL cannot read: %s" % (name, ex))
            ok_all = False
            continue
        ok, msg = compare_arrays(e, a, atol, rtol)
        if not ok or not quiet:
            out.append("%s: %s %s" % (name, "ok" if ok else "FAIL", msg))
        ok_all = ok_all and ok
    return ok_all


def batch(outdir, listfile, runs):
    """Every case of a test_onnx_ops.sh run in one process: a case passes when
    the oracle ran and each actual<t> matches expected (tolerances from the
    case's tol.txt).  Prints PASS/FAIL per case and the summary line."""
    names = [n.strip() for n in open(listfile) if n.strip()]
    npass, failed = 0, []
    for name in names:
        d = os.path.join(outdir, name)
        why = None
        if os.path.exists(os.path.join(d, "ort.err")):
            why = "oracle failed: " + open(os.path.join(d, "ort.err")).read().strip().splitlines()[-1]
        elif os.path.exists(os.path.join(d, "why.txt")):
            why = open(os.path.join(d, "why.txt")).read().strip()
        else:
            atol, rtol = 1e-3, 1e-4
            tolf = os.path.join(d, "tol.txt")
            if os.path.exists(tolf):
                t = open(tolf).read().split()
                for i, w in enumerate(t[:-1]):
                    if w == "--atol":
                        atol = float(t[i + 1])
                    elif w == "--rtol":
                        rtol = float(t[i + 1])
            for r in runs:
                lines = []
                if not compare_dirs(os.path.join(d, "expected"), os.path.join(d, "actual%s" % r), atol, rtol,
                                    True, lines):
                    why = "threads %s: %s" % (r, lines[0] if lines else "mismatch")
                    break
        if why is None:
            npass += 1
            print("PASS %s" % name)
        else:
            failed.append(name)
            print(("FAIL %s (%s)" % (name, why))[:400])
    print("onnx ops: %d passed, %d failed of %d cases (files in %s)" % (npass, len(failed), len(names), outdir))
    return 0 if not failed else 1


def main():
    if len(sys.argv) >= 4 and sys.argv[1] == "--batch":
        return batch(sys.argv[2], sys.argv[3], sys.argv[4:] or ["1", "2"])
    ap = argparse.ArgumentParser(description="compare .npy outputs against an oracle")
    ap.add_argument("expected")
    ap.add_argument("actual")
    ap.add_argument("--atol", type=float, default=1e-3)
    ap.add_argument("--rtol", type=float, default=1e-4)
    ap.add_argument("--quiet", action="store_true", help="print failures only")
    args = ap.parse_args()
    lines = []
    ok = compare_dirs(args.expected, args.actual, args.atol, args.rtol, args.quiet, lines)
    for l in lines:
        print(l)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""gen.py OUTDIR [FILTER] — write every operator test case (cases_*.py here)
into OUTDIR/<case>/ (model.onnx, <input>.npy, inputs.txt, tol.txt).
FILTER, when given, keeps the cases whose name contains it (or, if it starts
with '^' or contains regex characters, matches it as a regular expression).
Prints the names of the cases written, one a line."""

import glob
import importlib
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # no __pycache__ in the source tree

import common  # noqa: E402


def main():
    if len(sys.argv) < 2 or sys.argv[1] in ("-h", "--help"):
        sys.stderr.write("usage: gen.py OUTDIR [FILTER]\n")
        return 2
    outdir = sys.argv[1]
    filt = sys.argv[2] if len(sys.argv) > 2 else ""
    for f in sorted(glob.glob(os.path.join(HERE, "cases_*.py"))):
        importlib.import_module(os.path.splitext(os.path.basename(f))[0])
    if re.search(r"[\^$*+?\[\]()|\\]", filt):
        pat = re.compile(filt)
        keep = lambda n: pat.search(n) is not None  # noqa: E731
    else:
        keep = lambda n: filt in n  # noqa: E731
    os.makedirs(outdir, exist_ok=True)
    n = 0
    for c in common.CASES:
        if not keep(c["name"]):
            continue
        common.write_case(c, outdir)
        print(c["name"])
        n += 1
    if n == 0:
        sys.stderr.write("gen.py: no case matches %r\n" % filt)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""common.py — the per-operator test-case framework (ONNX Runtime is the oracle).

A cases_*.py file in this folder declares cases at import time:

    from common import case, make_node, rand, randint, T
    case("relu_basic",
         [make_node("Relu", ["x"], ["y"])],
         inputs={"x": rand(2, 3, 4)},          # runtime inputs: name -> numpy array
         outputs=["y"],
         initializers={"w": rand(3, 3)},        # optional: baked constants
         opset=13, atol=1e-4)                   # optional

Arguments of case():
  name          unique case name ([A-Za-z0-9_.-]+); also the output folder name.
  nodes         list of onnx.helper.make_node(...) nodes (default domain only).
  inputs        dict name -> numpy array; graph inputs, in dict order.
  outputs       list of output names (graph outputs, in order).
  initializers  dict name -> numpy array, or None.
  opset         default-domain opset version (7..19).
  rtol, atol    tolerances for compare.py (None = compare.py defaults;
                integer/bool outputs are always compared exactly).
  input_shapes  optional dict name -> list of dims declared in the model
                (ints, strings for symbolic dims, or None for an unknown dim);
                default: the array's exact shape.  Use to test dynamic dims.
  output_types  optional dict name -> numpy dtype to declare an output's
                element type when shape inference cannot (rarely needed).
  ir_version    optional IR version override.

Output types and shapes are filled by onnx.shape_inference when it can; when
it cannot, the output is declared with no type (ONNX Runtime accepts that).

case_model(name, model, inputs, rtol=None, atol=None, external_data=False)
registers a ready-made ModelProto (for whole-network cases); external_data=True
saves its initializers to a side file "model.onnx.data".

Random data: rand/randn/randint/randbool draw from one numpy Generator seeded
with 0, so every run of gen.py writes the same files (a case's data depends
only on the order of declarations in its file; each cases file gets a fresh
generator keyed by the file name, so files do not perturb each other).

gen.py imports every cases_*.py here and writes, for each case:
  OUTDIR/<case>/model.onnx  (+ model.onnx.data for external data)
  OUTDIR/<case>/<input>.npy for every runtime input
  OUTDIR/<case>/inputs.txt  lines NAME=FILE.npy (FILE relative to the folder)
  OUTDIR/<case>/tol.txt     extra compare.py arguments ("--atol X --rtol Y" or empty)
"""

import os
import re
import sys
import zlib

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper, shape_inference

T = TensorProto
make_node = helper.make_node
make_tensor = helper.make_tensor

# Registry filled by case()/case_model(); gen.py reads it.
CASES = []
_NAMES = set()
_RNGS = {}


def _caller_rng():
    """A generator per calling cases_*.py file, seeded from its name, so that
    adding cases to one file never changes another file's data."""
    f = sys._getframe(1)
    while f is not None and os.path.basename(f.f_code.co_filename) == "common.py":
        f = f.f_back
    key = os.path.basename(f.f_code.co_filename) if f is not None else "?"
    if key not in _RNGS:
        _RNGS[key] = np.random.default_rng(zlib.crc32(key.encode()))
    return _RNGS[key]


def rng():
    """The seeded numpy Generator of the calling cases file."""
    return _caller_rng()


def rand(*shape, lo=-1.0, hi=1.0, dtype=np.float32):
    """Uniform floats in [lo, hi)."""
    return _caller_rng().uniform(lo, hi, size=shape).astype(dtype)


def randn(*shape, scale=1.0, dtype=np.float32):
    """Normal floats with standard deviation `scale`."""
    return (_caller_rng().standard_normal(size=shape) * scale).astype(dtype)


def randint(*shape, lo=0, hi=10, dtype=np.int64):
    """Integers in [lo, hi)."""
    return _caller_rng().integers(lo, hi, size=shape).astype(dtype)


def randbool(*shape):
    return _caller_rng().integers(0, 2, size=shape).astype(np.bool_)


_NP_TO_ONNX = {
    np.dtype(np.float32): TensorProto.FLOAT,
    np.dtype(np.float64): TensorProto.DOUBLE,
    np.dtype(np.float16): TensorProto.FLOAT16,
    np.dtype(np.int64): TensorProto.INT64,
    np.dtype(np.int32): TensorProto.INT32,
    np.dtype(np.int16): TensorProto.INT16,
    np.dtype(np.int8): TensorProto.INT8,
    np.dtype(np.uint8): TensorProto.UINT8,
    np.dtype(np.bool_): TensorProto.BOOL,
}


def onnx_type(dtype):
    """TensorProto element type of a numpy dtype."""
    return _NP_TO_ONNX[np.dtype(dtype)]


def _check_name(name):
    if not re.fullmatch(r"[A-Za-z0-9_.\-]+", name):
        raise ValueError("bad case name %r" % name)
    if name in _NAMES:
        raise ValueError("duplicate case name %r" % name)
    _NAMES.add(name)


def _fill_output_types(model, outputs, output_types):
    """Declare graph outputs with whatever shape inference learns."""
    known = {}
    try:
        inferred = shape_inference.infer_shapes(model)
        for vi in list(inferred.graph.value_info) + list(inferred.graph.output):
            if vi.type.HasField("tensor_type") and vi.type.tensor_type.elem_type:
                known[vi.name] = vi
    except Exception:  # newer opsets than this onnx knows, or a bad-by-design case
        pass
    del model.graph.output[:]
    for o in outputs:
        if output_types and o in output_types:
            model.graph.output.append(helper.make_tensor_value_info(o, onnx_type(output_types[o]), None))
        elif o in known:
            model.graph.output.append(known[o])
        else:
            model.graph.output.append(helper.make_empty_tensor_value_info(o))


def build_model(nodes, inputs, outputs, initializers=None, opset=17, input_shapes=None,
                output_types=None, ir_version=None, name="case"):
    """The ModelProto of a case (exposed for cases that want to tweak it)."""
    ins = []
    for n, a in inputs.items():
        a = np.asarray(a)
        shape = list(a.shape)
        if input_shapes and n in input_shapes:
            shape = input_shapes[n]
        ins.append(helper.make_tensor_value_info(n, onnx_type(a.dtype), shape))
    inits = [numpy_helper.from_array(np.asarray(a), n) for n, a in (initializers or {}).items()]
    graph = helper.make_graph(list(nodes), name, ins, [], initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                              producer_name="detectd-tests")
    # onnx 1.12 knows IR 8 at most; opset 19 models conventionally carry IR 9.
    model.ir_version = ir_version or (9 if opset >= 19 else 8 if opset >= 15 else 7 if opset >= 12 else
                                      6 if opset >= 11 else 5 if opset >= 10 else 4 if opset >= 9 else 3)
    _fill_output_types(model, outputs, output_types)
    return model


def case(name, nodes, inputs, outputs, initializers=None, opset=17, rtol=None, atol=None,
         input_shapes=None, output_types=None, ir_version=None):
    """Register one operator test case (see the module docstring)."""
    _check_name(name)
    inputs = {k: np.asarray(v) for k, v in inputs.items()}
    model = build_model(nodes, inputs, outputs, initializers, opset, input_shapes, output_types,
                        ir_version, name)
    CASES.append(dict(name=name, model=model, inputs=inputs, rtol=rtol, atol=atol,
                      external_data=False))
    return model


def case_model(name, model, inputs, rtol=None, atol=None, external_data=False):
    """Register a ready-made ModelProto with its runtime inputs."""
    _check_name(name)
    CASES.append(dict(name=name, model=model, inputs={k: np.asarray(v) for k, v in inputs.items()},
                      rtol=rtol, atol=atol, external_data=external_data))
    return model


def safe_file_name(name):
    """Tensor name -> file name stem (same rule as ort_run.js: '/' and ':' -> '_')."""
    return name.replace("/", "_").replace(":", "_")


def write_case(c, outdir):
    """Write one registered case into outdir/<name>/."""
    d = os.path.join(outdir, c["name"])
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, "model.onnx")
    for old in ("model.onnx", "model.onnx.data"):
        if os.path.exists(os.path.join(d, old)):
            os.remove(os.path.join(d, old))
    if c["external_data"]:
        m = onnx.ModelProto()
        m.CopyFrom(c["model"])
        onnx.save_model(m, path, save_as_external_data=True, all_tensors_to_one_file=True,
                        location="model.onnx.data", size_threshold=128)
    else:
        onnx.save_model(c["model"], path)
    lines = []
    for n, a in c["inputs"].items():
        fn = safe_file_name(n) + ".npy"
        np.save(os.path.join(d, fn), a)
        lines.append("%s=%s\n" % (n, fn))
    with open(os.path.join(d, "inputs.txt"), "w") as f:
        f.writelines(lines)
    # Extra compare.py arguments ("--atol X --rtol Y"), empty for the defaults.
    args = []
    if c["atol"] is not None:
        args += ["--atol", repr(float(c["atol"]))]
    if c["rtol"] is not None:
        args += ["--rtol", repr(float(c["rtol"]))]
    with open(os.path.join(d, "tol.txt"), "w") as f:
        f.write(" ".join(args) + "\n")

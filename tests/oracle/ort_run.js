'use strict';
// ort_run.js — run an ONNX model with ONNX Runtime (the oracle) on .npy inputs.
//
//   node tests/oracle/ort_run.js MODEL OUTDIR [--threads N] [--bench K] [NAME=FILE.npy | FILE.npy]...
//
// Inputs given as NAME=FILE bind by name; bare FILE arguments bind to the
// model's inputs in order (after the named ones are taken).  Writes
// OUTDIR/<output name with '/' and ':' replaced by '_'>.npy for every model
// output.  --bench K: 5 warm-up runs, then K timed runs; prints
// {"median_ms":..,"min_ms":..,"mean_ms":..,"runs":K} on stdout (outputs are
// still written, from the last run).  Sessions use graphOptimizationLevel
// 'all', intraOpNumThreads N (default 1) and interOpNumThreads 1.
const fs = require('fs');
const path = require('path');
const ort = require(path.join(__dirname, '../../node_modules/onnxruntime-node'));
const npy = require('./npy');

const ORT_TYPE = {
  float32: 'float32', float64: 'float64', int64: 'int64', int32: 'int32', int16: 'int16',
  int8: 'int8', uint8: 'uint8', bool: 'bool', float16: 'float32',
};

function usage(msg) {
  if (msg) process.stderr.write('ort_run: ' + msg + '\n');
  process.stderr.write('usage: node ort_run.js MODEL OUTDIR [--threads N] [--bench K] [NAME=FILE.npy | FILE.npy]...\n');
  process.exit(2);
}

function toTensor(arr) {
  arr = npy.toFloat32(arr);
  let data = arr.data;
  if (arr.dtype === 'bool') data = Uint8Array.from(data, (v) => (v ? 1 : 0));
  return new ort.Tensor(ORT_TYPE[arr.dtype], data, arr.shape);
}

function fromTensor(t) {
  const dims = Array.from(t.dims, Number);
  switch (t.type) {
    case 'float32': case 'float64': case 'int64': case 'int32': case 'int16': case 'int8': case 'uint8':
      return { dtype: t.type, shape: dims, data: t.data };
    case 'bool':
      return { dtype: 'bool', shape: dims, data: Uint8Array.from(t.data, (v) => (v ? 1 : 0)) };
    case 'float16': {
      const d = t.data instanceof Uint16Array ? Float32Array.from(t.data, npy.halfToFloat) : Float32Array.from(t.data);
      return { dtype: 'float32', shape: dims, data: d };
    }
    default:
      throw new Error('ort_run: unsupported output type ' + t.type);
  }
}

async function main() {
  const argv = process.argv.slice(2);
  let threads = 1, bench = 0;
  const pos = [], named = [], bare = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--threads') threads = Number(argv[++i]);
    else if (a === '--bench') bench = Number(argv[++i]);
    else if (a === '-h' || a === '--help') usage();
    else if (pos.length < 2) pos.push(a);
    else if (/^[^=]+=.+/.test(a) && !fs.existsSync(a)) {
      const k = a.indexOf('=');
      named.push([a.slice(0, k), a.slice(k + 1)]);
    } else bare.push(a);
  }
  if (pos.length < 2) usage('MODEL and OUTDIR are required');
  if (!(threads >= 1) || !Number.isInteger(threads)) usage('bad --threads');
  if (!(bench >= 0) || !Number.isInteger(bench)) usage('bad --bench');
  const [model, outdir] = pos;
  const sess = await ort.InferenceSession.create(model, {
    graphOptimizationLevel: 'all', intraOpNumThreads: threads, interOpNumThreads: 1,
    executionMode: 'sequential',
  });
  const feeds = {};
  for (const [name, file] of named) {
    if (!sess.inputNames.includes(name)) throw new Error(`model has no input '${name}' (inputs: ${sess.inputNames.join(', ')})`);
    feeds[name] = toTensor(npy.read(file));
  }
  const free = sess.inputNames.filter((n) => !(n in feeds));
  if (bare.length > free.length) throw new Error(`${bare.length} unnamed inputs but only ${free.length} unbound model inputs`);
  bare.forEach((file, i) => { feeds[free[i]] = toTensor(npy.read(file)); });
  const missing = sess.inputNames.filter((n) => !(n in feeds));
  if (missing.length) throw new Error('no data for input(s): ' + missing.join(', '));

  let out;
  if (bench > 0) {
    for (let i = 0; i < 5; i++) out = await sess.run(feeds);
    const ms = [];
    for (let i = 0; i < bench; i++) {
      const t0 = process.hrtime.bigint();
      out = await sess.run(feeds);
      ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    const s = [...ms].sort((a, b) => a - b);
    const median = s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    const mean = ms.reduce((a, b) => a + b, 0) / ms.length;
    process.stdout.write(JSON.stringify({ median_ms: median, min_ms: s[0], mean_ms: mean, runs: bench, threads }) + '\n');
  } else {
    out = await sess.run(feeds);
  }
  fs.mkdirSync(outdir, { recursive: true });
  for (const name of sess.outputNames) {
    const file = path.join(outdir, name.replace(/[/:]/g, '_') + '.npy');
    npy.write(file, fromTensor(out[name]));
  }
  if (typeof sess.release === 'function') await sess.release();
}

module.exports = { toTensor, fromTensor, ort };

if (require.main === module) {
  main().catch((e) => {
    process.stderr.write('ort_run: ' + (e && e.message ? e.message : e) + '\n');
    process.exit(1);
  });
}

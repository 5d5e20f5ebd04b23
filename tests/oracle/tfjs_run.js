'use strict';
// tfjs_run.js — run a TensorFlow.js graph model with TF.js (the oracle) on .npy inputs.
//
//   node tests/oracle/tfjs_run.js MODEL_JSON OUTDIR [NAME=FILE.npy | FILE.npy]... [--bench K]
//
// The model is read from disk (model.json + its weight shards, no network)
// and run on the wasm backend with one thread.  Inputs given as NAME=FILE
// bind by name (the signature key or the placeholder's node name); bare FILE
// arguments bind to the remaining inputs in order.  Every output is written
// as OUTDIR/<name with '/' and ':' replaced by '_'>.npy, float32/int32/bool
// as TF.js returns them; names are model.outputNodes (the signature keys,
// e.g. "Identity_2:0" or "tower_0/wh"), which is also what detectd's TF.js
// loader calls its outputs.  --bench K: 3 warm-up runs, then K timed runs;
// prints {"median_ms":..,"min_ms":..,"mean_ms":..,"runs":K} on stdout.
const fs = require('fs');
const path = require('path');
const NM = path.join(__dirname, '../../node_modules');
const tf = require(path.join(NM, '@tensorflow/tfjs'));
const wasm = require(path.join(NM, '@tensorflow/tfjs-backend-wasm'));
const npy = require('./npy');

function usage(msg) {
  if (msg) process.stderr.write('tfjs_run: ' + msg + '\n');
  process.stderr.write('usage: node tfjs_run.js MODEL_JSON OUTDIR [NAME=FILE.npy | FILE.npy]... [--bench K]\n');
  process.exit(2);
}

// IOHandler reading model.json and its shards from the local disk.
function fileHandler(modelPath) {
  return {
    load: async () => {
      const mj = JSON.parse(fs.readFileSync(modelPath, 'utf8'));
      const dir = path.dirname(modelPath);
      const specs = [];
      const bufs = [];
      for (const group of mj.weightsManifest || []) {
        for (const p of group.paths) bufs.push(fs.readFileSync(path.join(dir, p)));
        specs.push(...group.weights);
      }
      const all = Buffer.concat(bufs);
      const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength);
      return {
        modelTopology: mj.modelTopology,
        format: mj.format,
        generatedBy: mj.generatedBy,
        convertedBy: mj.convertedBy,
        signature: mj.signature,
        userDefinedMetadata: mj.userDefinedMetadata,
        modelInitializer: mj.modelInitializer,
        weightSpecs: specs,
        weightData,
      };
    },
  };
}

function toTensor(arr) {
  arr = npy.toFloat32(arr);
  let { dtype, data } = arr;
  // TF.js knows float32, int32 and bool only.
  if (dtype === 'float64') { dtype = 'float32'; data = Float32Array.from(data); }
  else if (dtype === 'int64') { dtype = 'int32'; data = Int32Array.from(data, (v) => Number(v)); }
  else if (['int16', 'int8', 'uint8'].includes(dtype)) { dtype = 'int32'; data = Int32Array.from(data); }
  return tf.tensor(data, arr.shape, dtype);
}

function fileName(name) { return name.replace(/[/:]/g, '_') + '.npy'; }

async function main() {
  const args = process.argv.slice(2);
  let bench = 0;
  const pos = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--bench') {
      bench = Number(args[++i]);
      if (!Number.isInteger(bench) || bench < 1) usage('--bench needs a positive integer');
    } else pos.push(args[i]);
  }
  if (pos.length < 2) usage();
  const [modelPath, outDir, ...inArgs] = pos;

  wasm.setWasmPaths(path.join(NM, '@tensorflow/tfjs-backend-wasm/dist') + path.sep);
  wasm.setThreadsCount(1);
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  if (!(await tf.setBackend('wasm'))) throw new Error('cannot initialise the wasm backend');
  await tf.ready();
  if (tf.getBackend() !== 'wasm') throw new Error('backend is ' + tf.getBackend());

  const model = await tf.loadGraphModel(fileHandler(modelPath));
  const inKeys = model.inputNodes;                 // signature keys (or node names)
  const inNames = model.inputs.map((t) => t.name); // placeholder node names
  const feeds = {};
  const bare = [];
  for (const a of inArgs) {
    const eq = a.indexOf('=');
    if (eq > 0 && !fs.existsSync(a)) {
      const name = a.slice(0, eq);
      let k = inKeys.indexOf(name);
      if (k < 0) k = inNames.indexOf(name);
      if (k < 0) k = inNames.indexOf(name.replace(/:0$/, ''));
      if (k < 0) usage(`model has no input '${name}' (inputs: ${inKeys.join(', ')})`);
      feeds[inKeys[k]] = toTensor(npy.read(a.slice(eq + 1)));
    } else bare.push(a);
  }
  for (const key of inKeys) {
    if (feeds[key] || !bare.length) continue;
    feeds[key] = toTensor(npy.read(bare.shift()));
  }
  if (bare.length) usage('more input files than model inputs');
  const missing = inKeys.filter((k) => !feeds[k]);
  if (missing.length) usage('missing inputs: ' + missing.join(', '));

  const outNames = model.outputNodes;
  // execute() when the graph allows it (no control flow / dynamic shapes), else executeAsync().
  let sync = true;
  const run = async () => {
    let r;
    if (sync) {
      try { r = model.execute(feeds, outNames); } catch (e) {
        if (!/executeAsync|dynamic|control flow/i.test(String(e && e.message))) throw e;
        sync = false;
      }
    }
    if (!sync) r = await model.executeAsync(feeds, outNames);
    return Array.isArray(r) ? r : [r];
  };

  let outs = await run();
  if (bench) {
    for (let i = 0; i < 3; i++) { tf.dispose(outs); outs = await run(); }
    const times = [];
    for (let i = 0; i < bench; i++) {
      tf.dispose(outs);
      const t0 = process.hrtime.bigint();
      outs = await run();
      await Promise.all(outs.map((t) => t.data())); // wait for the values, not just the graph
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    times.sort((a, b) => a - b);
    const median = times.length % 2 ? times[(times.length - 1) / 2]
      : (times[times.length / 2 - 1] + times[times.length / 2]) / 2;
    const mean = times.reduce((a, b) => a + b, 0) / times.length;
    process.stdout.write(JSON.stringify({ median_ms: median, min_ms: times[0], mean_ms: mean, runs: bench }) + '\n');
  }

  fs.mkdirSync(outDir, { recursive: true });
  for (let i = 0; i < outs.length; i++) {
    const t = outs[i];
    const data = await t.data();
    const dtype = t.dtype === 'bool' ? 'bool' : t.dtype === 'int32' ? 'int32' : 'float32';
    if (!['float32', 'int32', 'bool'].includes(t.dtype)) throw new Error(`output ${outNames[i]}: dtype ${t.dtype}`);
    npy.write(path.join(outDir, fileName(outNames[i])), { dtype, shape: t.shape, data });
  }
  tf.dispose(outs);
  tf.dispose(Object.values(feeds));
}

main().catch((e) => {
  process.stderr.write('tfjs_run: ' + (e && e.stack ? e.stack : e) + '\n');
  process.exit(1);
});

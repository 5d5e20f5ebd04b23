'use strict';
// ort_batch.js — run many ONNX test cases with ONNX Runtime in ONE process
// (starting node + ORT per case costs more than the cases themselves).
//
//   node tests/oracle/ort_batch.js OUTDIR CASES_LIST
//
// For every case name in CASES_LIST: OUTDIR/<case>/model.onnx is run on the
// inputs listed in OUTDIR/<case>/inputs.txt (NAME=FILE.npy lines) and every
// output is written to OUTDIR/<case>/expected/<output>.npy; a failure is
// written to OUTDIR/<case>/ort.err and the batch goes on.
const fs = require('fs');
const path = require('path');
const { toTensor, fromTensor, ort } = require('./ort_run');
const npy = require('./npy');

async function runCase(dir) {
  const sess = await ort.InferenceSession.create(path.join(dir, 'model.onnx'), {
    graphOptimizationLevel: 'all', intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential',
  });
  const feeds = {};
  for (const line of fs.readFileSync(path.join(dir, 'inputs.txt'), 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const k = line.indexOf('=');
    feeds[line.slice(0, k)] = toTensor(npy.read(path.join(dir, line.slice(k + 1))));
  }
  const out = await sess.run(feeds);
  const outdir = path.join(dir, 'expected');
  fs.mkdirSync(outdir, { recursive: true });
  for (const name of sess.outputNames)
    npy.write(path.join(outdir, name.replace(/[/:]/g, '_') + '.npy'), fromTensor(out[name]));
  if (typeof sess.release === 'function') await sess.release();
}

async function main() {
  const [outdir, list] = process.argv.slice(2);
  if (!outdir || !list) {
    process.stderr.write('usage: node ort_batch.js OUTDIR CASES_LIST\n');
    process.exit(2);
  }
  for (const name of fs.readFileSync(list, 'utf8').split('\n')) {
    if (!name.trim()) continue;
    const dir = path.join(outdir, name);
    try {
      await runCase(dir);
    } catch (e) {
      fs.writeFileSync(path.join(dir, 'ort.err'), String(e && e.message ? e.message : e) + '\n');
    }
  }
}

main().catch((e) => {
  process.stderr.write('ort_batch: ' + (e && e.message ? e.message : e) + '\n');
  process.exit(1);
});

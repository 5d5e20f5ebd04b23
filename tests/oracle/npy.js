'use strict';
// npy.js — read and write NumPy .npy files (format 1.0/2.0/3.0 headers, C order).
// Supported dtypes: float32, float64, float16 (read only), int64, int32, int16,
// int8, uint8, bool.  read() returns {dtype, shape, data} with data a typed array
// (BigInt64Array for int64, Uint8Array for bool); write() takes the same.
const fs = require('fs');

const DESCR = {
  '<f4': 'float32', '<f8': 'float64', '<f2': 'float16', '<i8': 'int64', '<i4': 'int32',
  '<i2': 'int16', '|i1': 'int8', '|u1': 'uint8', '|b1': 'bool',
};
const ARRAY = {
  float32: Float32Array, float64: Float64Array, float16: Uint16Array, int64: BigInt64Array,
  int32: Int32Array, int16: Int16Array, int8: Int8Array, uint8: Uint8Array, bool: Uint8Array,
};
const TO_DESCR = Object.fromEntries(Object.entries(DESCR).map(([k, v]) => [v, k]));

function halfToFloat(h) {
  const s = (h & 0x8000) ? -1 : 1, e = (h >> 10) & 0x1f, m = h & 0x3ff;
  if (e === 0) return s * m * Math.pow(2, -24);
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * Math.pow(2, e - 15);
}

// Parse the Python-dict header: {'descr': '<f4', 'fortran_order': False, 'shape': (1, 3), }
function parseHeader(h) {
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(h);
  const fo = /'fortran_order'\s*:\s*(True|False)/.exec(h);
  const shape = /'shape'\s*:\s*\(([^)]*)\)/.exec(h);
  if (!descr || !fo || !shape) throw new Error('npy: malformed header: ' + h.trim());
  let d = descr[1];
  if (d === '<u1' || d === '>u1') d = '|u1';
  if (d === '<i1' || d === '>i1') d = '|i1';
  if (d === '<b1' || d === '>b1' || d === '|?' || d === '?') d = '|b1';
  const dtype = DESCR[d];
  if (!dtype) throw new Error('npy: unsupported dtype ' + descr[1]);
  if (fo[1] === 'True') throw new Error('npy: Fortran order is not supported');
  const dims = shape[1].split(',').map((s) => s.trim()).filter((s) => s.length).map((s) => {
    const n = Number(s.replace(/L$/, ''));
    if (!Number.isSafeInteger(n) || n < 0) throw new Error('npy: bad dim ' + s);
    return n;
  });
  return { dtype, shape: dims };
}

function parse(buf) {
  if (buf.length < 10 || buf.readUInt32BE(0) !== 0x934e554d || buf[4] !== 0x50 || buf[5] !== 0x59) {
    throw new Error('npy: bad magic');
  }
  const major = buf[6];
  let hlen, off;
  if (major === 1) { hlen = buf.readUInt16LE(8); off = 10; }
  else if (major === 2 || major === 3) {
    if (buf.length < 12) throw new Error('npy: truncated header');
    hlen = buf.readUInt32LE(8); off = 12;
  } else throw new Error('npy: unsupported version ' + major);
  if (off + hlen > buf.length) throw new Error('npy: truncated header');
  const { dtype, shape } = parseHeader(buf.toString(major === 3 ? 'utf8' : 'latin1', off, off + hlen));
  const n = shape.reduce((a, b) => a * b, 1);
  const A = ARRAY[dtype];
  const nbytes = n * A.BYTES_PER_ELEMENT;
  const start = off + hlen;
  if (buf.length - start < nbytes) throw new Error(`npy: data truncated (${buf.length - start} of ${nbytes} bytes)`);
  // Copy into a fresh, aligned ArrayBuffer (the file's data offset need not be aligned).
  const ab = new ArrayBuffer(nbytes);
  new Uint8Array(ab).set(buf.subarray(start, start + nbytes));
  let data = new A(ab);
  return { dtype, shape, data };
}

function read(file) { return parse(fs.readFileSync(file)); }

// float16 data as Float32Array (ONNX Runtime inputs are usually float32).
function toFloat32(arr) {
  if (arr.dtype !== 'float16') return arr;
  return { dtype: 'float32', shape: arr.shape, data: Float32Array.from(arr.data, halfToFloat) };
}

function serialize(dtype, shape, data) {
  const descr = TO_DESCR[dtype];
  if (!descr || dtype === 'float16') throw new Error('npy: cannot write dtype ' + dtype);
  const A = ARRAY[dtype];
  const n = shape.reduce((a, b) => a * b, 1);
  if (data.length !== n) throw new Error(`npy: ${data.length} elements for shape [${shape}]`);
  if (!(data instanceof A)) {
    if (dtype === 'int64') data = BigInt64Array.from(data, (v) => BigInt(v));
    else if (dtype === 'bool') data = Uint8Array.from(data, (v) => (v ? 1 : 0));
    else data = A.from(data);
  }
  const shp = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let h = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shp}, }`;
  // Version 1.0 unless the header needs more than 65535 bytes; pad to 64 bytes with '\n' last.
  let major = 1, pre = 10;
  if (h.length + 1 + pre > 65535) { major = 2; pre = 12; }
  const total = Math.ceil((pre + h.length + 1) / 64) * 64;
  h = h + ' '.repeat(total - pre - h.length - 1) + '\n';
  const head = Buffer.alloc(pre);
  head.writeUInt32BE(0x934e554d, 0); head[4] = 0x50; head[5] = 0x59; head[6] = major; head[7] = 0;
  if (major === 1) head.writeUInt16LE(h.length, 8); else head.writeUInt32LE(h.length, 8);
  const body = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.concat([head, Buffer.from(h, 'latin1'), body]);
}

function write(file, arr) { fs.writeFileSync(file, serialize(arr.dtype, arr.shape, arr.data)); }

module.exports = { read, write, parse, serialize, toFloat32, halfToFloat };

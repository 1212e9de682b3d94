// web/interop/safetensors.js: the PyTorch fixture decodes to the right shapes
// and re-encodes byte for byte; F16, BF16 and F64 convert to the float32 values
// computed by hand below; malformed files are refused with ERR_FORMAT naming
// the tensor. The lstm-wasm model file is tested in format.test.js.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { LstmError } from '../web/errors.js';
import { decodeSafetensors, encodeSafetensors } from '../web/interop/safetensors.js';
import { bits } from './helpers.js';

const FIXTURE = readFileSync(new URL('./fixtures/char_lstm.safetensors', import.meta.url));
const FIXTURE_INFO = JSON.parse(readFileSync(new URL('./fixtures/char_lstm.json', import.meta.url), 'utf8'));
const HIDDEN = 24; // nn.LSTM(V, 24) in tests/fixtures/README.md

const f32 = (...values) => new Float32Array(values);
const ascii = (text) => new TextEncoder().encode(text);

function rejects(fn, code, pattern) {
  assert.throws(fn, (err) => {
    assert.ok(err instanceof LstmError, `expected LstmError, got ${err?.name}: ${err?.message}`);
    assert.equal(err.code, code, err.message);
    if (pattern) assert.match(err.message, pattern);
    return true;
  });
}

// A file as a foreign writer might make it: header text as given (no padding), then `data`.
function makeFile(header, data = new Uint8Array(0)) {
  const json = ascii(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setUint32(0, json.length, true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

function littleEndian(Type, values) {
  const bytes = new Uint8Array(values.length * Type.BYTES_PER_ELEMENT);
  const view = new DataView(bytes.buffer);
  const set = { 2: 'setUint16', 4: 'setFloat32', 8: 'setFloat64' }[Type.BYTES_PER_ELEMENT];
  values.forEach((v, i) => view[set](i * Type.BYTES_PER_ELEMENT, v, true));
  return bytes;
}

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((at, p) => (out.set(p, at), at + p.length), 0);
  return out;
}

const u64 = (n) => littleEndian(Uint16Array, [n & 0xffff, n >>> 16, 0, 0]);
const oneTensor = (info, dataBytes = 8) => makeFile({ w: { dtype: 'F32', shape: [2], data_offsets: [0, 8], ...info } }, new Uint8Array(dataBytes));

test('the PyTorch fixture decodes to the char-LSTM shapes in header order', () => {
  const { tensors, metadata, order } = decodeSafetensors(FIXTURE);
  const V = FIXTURE_INFO.vocab.length;
  assert.equal(V, 21);
  assert.deepEqual(order, ['head.bias', 'head.weight', 'lstm.bias_hh_l0', 'lstm.bias_ih_l0', 'lstm.weight_hh_l0', 'lstm.weight_ih_l0']);
  assert.deepEqual([...order].sort(), [...FIXTURE_INFO.state_dict_names].sort());
  assert.deepEqual(Object.fromEntries(order.map((name) => [name, tensors[name].shape])), {
    'head.bias': [V],
    'head.weight': [V, HIDDEN],
    'lstm.bias_hh_l0': [4 * HIDDEN],
    'lstm.bias_ih_l0': [4 * HIDDEN],
    'lstm.weight_hh_l0': [4 * HIDDEN, HIDDEN],
    'lstm.weight_ih_l0': [4 * HIDDEN, V],
  });
  for (const name of order) {
    assert.equal(tensors[name].dtype, 'F32');
    assert.ok(tensors[name].data instanceof Float32Array);
    assert.equal(tensors[name].data.length, tensors[name].shape.reduce((a, b) => a * b, 1));
  }
  assert.equal(metadata, null);
});

test('the fixture tensor values are the file bytes read as little-endian float32', () => {
  const { tensors } = decodeSafetensors(FIXTURE);
  const view = new DataView(FIXTURE.buffer, FIXTURE.byteOffset, FIXTURE.length);
  const dataStart = 8 + view.getUint32(0, true);
  assert.equal(tensors['head.bias'].data[0], view.getFloat32(dataStart, true));
  assert.equal(tensors['lstm.weight_ih_l0'].data.at(-1), view.getFloat32(FIXTURE.length - 4, true));
});

test('decoding then encoding the fixture reproduces it byte for byte', () => {
  const { tensors } = decodeSafetensors(FIXTURE);
  assert.deepEqual(encodeSafetensors(tensors), new Uint8Array(FIXTURE));
});

test('encodes exactly the bytes of the reference library tests (no padding, space padding, empty, metadata)', () => {
  const floats = littleEndian(Float32Array, [0, 1, 2, 3, 4, 5]);
  const text = '{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}'; // 64 bytes, needs no padding
  assert.deepEqual(encodeSafetensors({ 'attn.0': { shape: [1, 2, 3], data: f32(0, 1, 2, 3, 4, 5) } }),
    concat(u64(64), ascii(text), floats));
  const text7 = '{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}'; // 65 bytes + 7 spaces
  assert.deepEqual(encodeSafetensors({ attn0: { shape: [1, 1, 2, 3], data: f32(0, 1, 2, 3, 4, 5) } }),
    concat(u64(72), ascii(text7 + ' '.repeat(7)), floats));
  assert.deepEqual(encodeSafetensors({}), concat(u64(8), ascii('{}      ')));
  assert.deepEqual(encodeSafetensors({}, { framework: 'pt' }), concat(u64(40), ascii('{"__metadata__":{"framework":"pt"}}     ')));
});

test('tensors are laid out by name in UTF-8 byte order, not UTF-16 order', () => {
  // U+FF61 is EF BD A1 in UTF-8, U+1F600 is F0 9F 98 80; in UTF-16, U+1F600 (D83D ...) sorts first.
  const one = { shape: [1], data: f32(1) };
  const bytes = encodeSafetensors({ '😀': one, b: one, '｡': one, a: one });
  assert.deepEqual(decodeSafetensors(bytes).order, ['a', 'b', '｡', '😀']);
});

test('order keeps the header order even for integer-like names, which JSON.parse would move first', () => {
  const one = { shape: [1], data: f32(1) };
  const { order } = decodeSafetensors(encodeSafetensors({ b: one, 2: one, 10: one }));
  assert.deepEqual(order, ['10', '2', 'b']);
});

test('round-trips empty, scalar and odd-length tensors, unicode names and metadata, bit for bit', () => {
  const nan = new Float32Array(new Uint32Array([0x7fc00123, 0x80000000, 0x00000001]).buffer);
  const tensors = {
    'empty': { shape: [0], data: f32() },
    'empty.3d': { shape: [2, 0, 3], data: f32() },
    'scalar': { shape: [], data: f32(42) },
    'odd': { shape: [1, 7], data: f32(1, 2, 3, 4, 5, 6, 7) },
    'Gewicht/重み/🧠': { shape: [3], data: nan },
    ['__proto__']: { shape: [1], data: f32(-1) }, // computed key: an own property, not the prototype
  };
  const metadata = { format: 'pt', 'Notiz ✓': 'naïve "quoted" \n line' };
  const got = decodeSafetensors(encodeSafetensors(tensors, metadata));
  assert.deepEqual(got.metadata, metadata);
  assert.deepEqual(Object.keys(got.tensors).sort(), Object.keys(tensors).sort());
  for (const [name, t] of Object.entries(tensors)) {
    assert.deepEqual(got.tensors[name].shape, t.shape, name);
    assert.deepEqual(bits(got.tensors[name].data), bits(t.data), name);
  }
});

test('decodes from an ArrayBuffer and a Uint8Array at an offset, returning copies', () => {
  const want = decodeSafetensors(FIXTURE);
  const big = new Uint8Array(FIXTURE.length + 3);
  big.set(FIXTURE, 3);
  const view = big.subarray(3);
  const got = decodeSafetensors(view);
  assert.deepEqual(got, want);
  assert.deepEqual(decodeSafetensors(new Uint8Array(FIXTURE).buffer), want);
  view.fill(0);
  assert.deepEqual(got, want);
});

test('F16 values widen exactly: normals, subnormals, infinities, signed zero, NaN', () => {
  const halves = [0x3c00, 0xc000, 0x7bff, 0x0001, 0x03ff, 0x0400, 0x3555, 0x7c00, 0xfc00, 0x8000, 0x7e00];
  const want = [1, -2, 65504, 5.960464477539063e-8, 6.097555160522461e-5, 0.00006103515625, 0.333251953125, Infinity, -Infinity, -0];
  const file = makeFile({ h: { dtype: 'F16', shape: [halves.length], data_offsets: [0, 2 * halves.length] } }, littleEndian(Uint16Array, halves));
  const { h } = decodeSafetensors(file).tensors;
  assert.equal(h.dtype, 'F16');
  assert.deepEqual(Array.from(h.data.subarray(0, want.length)), want);
  assert.ok(Number.isNaN(h.data[want.length]));
});

test('BF16 values become the float32 with the same top 16 bits', () => {
  const halves = [0x3f80, 0xc049, 0x4049, 0x7f80, 0x0001, 0x8000, 0x7f7f];
  const want = [1, -3.140625, 3.140625, Infinity, 9.183549615799121e-41, -0, 3.3895313892515355e38];
  const file = makeFile({ b: { dtype: 'BF16', shape: [7], data_offsets: [0, 14] } }, littleEndian(Uint16Array, halves));
  assert.deepEqual(Array.from(decodeSafetensors(file).tensors.b.data), want);
});

test('F64 values round to the nearest float32, ties to even, even at unaligned offsets', () => {
  const doubles = [0.1, 1 + 2 ** -24, 1 + 3 * 2 ** -24, 1e300, -1e-50, 2 ** -149, 16777217];
  const want = [0.10000000149011612, 1, 1.0000002384185791, Infinity, -0, 1.401298464324817e-45, 16777216];
  // a 2-byte F16 tensor first pushes the doubles off 8-byte alignment
  const header = { a: { dtype: 'F16', shape: [1], data_offsets: [0, 2] }, d: { dtype: 'F64', shape: [7], data_offsets: [2, 58] } };
  const file = makeFile(header, concat(littleEndian(Uint16Array, [0x3c00]), littleEndian(Float64Array, doubles)));
  assert.notEqual((8 + JSON.stringify(header).length + 2) % 8, 0);
  const { a, d } = decodeSafetensors(file).tensors;
  assert.deepEqual(Array.from(a.data), [1]);
  assert.deepEqual(Array.from(d.data), want);
});

test('rejects headers that are not JSON objects, or not UTF-8', () => {
  rejects(() => decodeSafetensors(makeFile('{"w":')), 'ERR_FORMAT', /header is not valid JSON/);
  rejects(() => decodeSafetensors(makeFile('[]')), 'ERR_FORMAT', /header is an Array, not a JSON object/);
  rejects(() => decodeSafetensors(makeFile('null')), 'ERR_FORMAT', /header is null/);
  const bad = makeFile('{"w\xff":1}');
  bad[11] = 0xff;
  rejects(() => decodeSafetensors(bad), 'ERR_FORMAT', /header is not valid UTF-8/);
});

test('rejects a header length beyond the file or above 100 MB, and files under 8 bytes', () => {
  rejects(() => decodeSafetensors(concat(u64(1000), ascii('{}'))), 'ERR_FORMAT', /header length 1000 runs past the end of the 10-byte file/);
  rejects(() => decodeSafetensors(concat(u64(100_000_001), ascii('{}'))), 'ERR_FORMAT', /header length 100000001 exceeds the 100000000-byte limit/);
  const huge = concat(u64(0), ascii('{}'));
  huge[7] = 0x80;
  rejects(() => decodeSafetensors(huge), 'ERR_FORMAT', /exceeds the 100000000-byte limit/);
  rejects(() => decodeSafetensors(new Uint8Array(5)), 'ERR_FORMAT', /truncated: 5 bytes/);
});

test('rejects data_offsets out of range, overlapping tensors, holes and uncovered bytes, naming the tensor', () => {
  rejects(() => decodeSafetensors(oneTensor({ shape: [4], data_offsets: [0, 16] })), 'ERR_FORMAT', /tensor 'w': data_offsets \[0, 16\] run past the 8-byte data buffer/);
  const two = (a, b, bytes) => makeFile({ a: { dtype: 'F32', shape: [2], data_offsets: a }, b: { dtype: 'F32', shape: [2], data_offsets: b } }, new Uint8Array(bytes));
  rejects(() => decodeSafetensors(two([0, 8], [4, 12], 12)), 'ERR_FORMAT', /tensor 'b' \(bytes 4-12\) overlaps tensor 'a'/);
  rejects(() => decodeSafetensors(two([0, 8], [12, 20], 20)), 'ERR_FORMAT', /4 bytes before tensor 'b' belong to no tensor/);
  rejects(() => decodeSafetensors(oneTensor({}, 12)), 'ERR_FORMAT', /the last 4 bytes of the data buffer belong to no tensor/);
});

test('rejects a byte span that does not match the shape and dtype', () => {
  rejects(() => decodeSafetensors(oneTensor({ shape: [3] })), 'ERR_FORMAT', /tensor 'w': shape \[3\] of F32 needs 12 bytes, data_offsets span 8/);
  rejects(() => decodeSafetensors(oneTensor({ dtype: 'F64' })), 'ERR_FORMAT', /tensor 'w': shape \[2\] of F64 needs 16 bytes/);
});

test('rejects unsupported dtypes, naming the tensor and the dtype', () => {
  rejects(() => decodeSafetensors(oneTensor({ dtype: 'I64', shape: [1] })), 'ERR_FORMAT', /tensor 'w': dtype I64 is not supported/);
  rejects(() => decodeSafetensors(oneTensor({ dtype: 'toString' })), 'ERR_FORMAT', /dtype toString is not supported/);
});

test('rejects entries with missing or mistyped dtype, shape or data_offsets', () => {
  rejects(() => decodeSafetensors(oneTensor({ dtype: undefined })), 'ERR_FORMAT', /tensor 'w': dtype is undefined, not a string/);
  for (const shape of [[-1], [1.5], ['2'], 2, null]) {
    rejects(() => decodeSafetensors(oneTensor({ shape })), 'ERR_FORMAT', /tensor 'w': shape .* is not an array of non-negative integers/);
  }
  for (const data_offsets of [[8, 0], [0], [0, '8'], [0, 8, 8], null]) {
    rejects(() => decodeSafetensors(oneTensor({ data_offsets })), 'ERR_FORMAT', /tensor 'w': data_offsets .* is not \[begin, end\]/);
  }
  rejects(() => decodeSafetensors(makeFile({ w: [1, 2] })), 'ERR_FORMAT', /tensor 'w': entry is an Array/);
});

test('rejects duplicate names and metadata that is not a map of strings', () => {
  const entry = '{"dtype":"F32","shape":[0],"data_offsets":[0,0]}';
  rejects(() => decodeSafetensors(makeFile(`{"w":${entry},"w":${entry}}`)), 'ERR_FORMAT', /header names 'w' twice/);
  rejects(() => decodeSafetensors(makeFile({ __metadata__: { k: 1 } })), 'ERR_FORMAT', /__metadata__\['k'\] is number, not a string/);
  rejects(() => decodeSafetensors(makeFile({ __metadata__: ['x'] })), 'ERR_FORMAT', /__metadata__ is an Array/);
});

test('rejects every truncation of the fixture', () => {
  for (let n = 0; n < FIXTURE.length; n++) {
    assert.throws(() => decodeSafetensors(FIXTURE.subarray(0, n)), (err) => err instanceof LstmError && err.code === 'ERR_FORMAT', `prefix ${n}`);
  }
});

test('a flipped bit anywhere in the fixture header decodes or throws ERR_FORMAT, never anything else', () => {
  const headerEnd = 8 + FIXTURE.readUint32LE(0);
  for (let i = 0; i < headerEnd; i++) {
    for (let bit = 0; bit < 8; bit++) {
      const bad = new Uint8Array(FIXTURE);
      bad[i] ^= 1 << bit;
      try {
        decodeSafetensors(bad);
      } catch (err) {
        assert.ok(err instanceof LstmError && err.code === 'ERR_FORMAT', `byte ${i} bit ${bit}: ${err}`);
      }
    }
  }
});

test('rejects arguments that are not bytes with ERR_TYPE', () => {
  for (const value of [undefined, null, 'safetensors', [0, 0], f32(1), {}]) {
    rejects(() => decodeSafetensors(value), 'ERR_TYPE', /safetensors: expected a Uint8Array or ArrayBuffer/);
  }
});

test('encodeSafetensors rejects shape mismatches, non-float32 data, bad metadata and reserved names', () => {
  rejects(() => encodeSafetensors({ w: { shape: [2, 3], data: f32(1, 2, 3, 4, 5) } }), 'ERR_SHAPE', /tensors\['w'\]: shape \[2,3\] holds 6 values, data has 5/);
  rejects(() => encodeSafetensors({ w: { shape: [2], data: new Float64Array(2) } }), 'ERR_TYPE', /tensors\['w'\]\.data must be a Float32Array, got Float64Array/);
  rejects(() => encodeSafetensors({ w: { shape: [-2], data: f32() } }), 'ERR_TYPE', /shape must be an array of non-negative integers/);
  rejects(() => encodeSafetensors({ w: { shape: [0], data: f32() } }, { step: 3 }), 'ERR_TYPE', /metadata\['step'\] must be a string, got number/);
  rejects(() => encodeSafetensors({ __metadata__: { shape: [0], data: f32() } }), 'ERR_FORMAT', /__metadata__ is reserved/);
  rejects(() => encodeSafetensors([]), 'ERR_TYPE', /tensors must be an object/);
});

// web/format.js: the model file round-trips bit for bit, and every damaged,
// truncated, foreign or oversized input is refused with LstmError ERR_FORMAT
// (ERR_TYPE for a non-bytes argument) and a message naming the problem. The
// safetensors exchange format is tested in safetensors.test.js.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LstmError } from '../web/errors.js';
import { FORMAT_VERSION, MAGIC, crc32, decodeModel, encodeModel } from '../web/format.js';
import { bits } from './helpers.js';

// Header field offsets, as documented in web/format.js.
const AT_VERSION = 8, AT_LENGTH = 12, AT_CONFIG_LEN = 16, AT_COUNT = 20;
const HEADER_BYTES = 36;
// Seeded fuzzing: iterations and the seed, so a failure can be replayed.
const FUZZ_ROUNDS = 3000, FUZZ_SEED = 0x5eed;

const f32 = (...values) => new Float32Array(values);

function smallModel() {
  return {
    config: { cell: 'lstm', hiddenSize: 3 },
    tensors: [{ name: 'w', data: f32(1, -2, 0.5) }, { name: 'b', data: f32() }],
    extra: { vocab: 'ab' },
  };
}

function rejects(fn, code, pattern) {
  assert.throws(fn, (err) => {
    assert.ok(err instanceof LstmError, `expected LstmError, got ${err?.name}: ${err?.message}`);
    assert.equal(err.code, code, err.message);
    if (pattern) assert.match(err.message, pattern);
    return true;
  });
}

// Rewrites the trailing CRC so a deliberately damaged body reaches the parser behind the checksum.
function resign(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  view.setUint32(bytes.length - 4, crc32(bytes.subarray(0, bytes.length - 4)), true);
  return bytes;
}

function setU32(bytes, at, value) {
  new DataView(bytes.buffer, bytes.byteOffset).setUint32(at, value, true);
  return bytes;
}

function mulberry32(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), seed | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

test('crc32 matches the IEEE check value for "123456789"', () => {
  assert.equal(crc32(new TextEncoder().encode('123456789')), 0xcbf43926);
  assert.equal(crc32(new Uint8Array(0)), 0);
});

test('a model round-trips with unicode names and JSON, empty and odd-length tensors', () => {
  const tensors = [
    { name: 'lstm.w_ih', data: f32(0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7) },
    { name: 'empty', data: f32() },
    { name: 'Gewicht-ä/重み/🧠', data: f32(3) },
    { name: '\ufeffstarts with a BOM', data: f32(1, 2, 3, 4, 5) },
    { name: '', data: f32(-1) },
  ];
  const config = { cell: 'lstm', hiddenSize: 24, note: 'naïve ✓ 🧪', nested: { a: [1, null, true] } };
  const extra = { vocab: ['a', 'é', '中', '🙂'], steps: 300 };
  const got = decodeModel(encodeModel({ config, tensors, extra }));
  assert.deepEqual(got, { config, tensors, extra });
});

test('tensor values come back bit for bit, NaN payloads, -0 and subnormals included', () => {
  const data = new Float32Array(new Uint32Array([0x7fc00001, 0xff800000, 0x80000000, 0x00000001, 0x7f7fffff, 0x3eaaaaab]).buffer);
  const { tensors } = decodeModel(encodeModel({ config: {}, tensors: [{ name: 'x', data }] }));
  assert.deepEqual(bits(tensors[0].data), bits(data));
});

test('a model with no tensors and no extra decodes with extra null', () => {
  const got = decodeModel(encodeModel({ config: { a: 1 }, tensors: [] }));
  assert.deepEqual(got, { config: { a: 1 }, tensors: [], extra: null });
});

test('the file starts with the magic, version and length, aligns tensor data to 4 bytes and ends with its CRC-32', () => {
  const bytes = encodeModel({ config: { odd: 'x' }, tensors: [{ name: 'abc', data: f32(1.5, -2.25) }] });
  const view = new DataView(bytes.buffer);
  assert.deepEqual([...bytes.subarray(0, 8)], [...MAGIC]);
  assert.equal(view.getUint32(AT_VERSION, true), FORMAT_VERSION);
  assert.equal(view.getUint32(AT_LENGTH, true), bytes.length);
  assert.equal(view.getUint32(bytes.length - 4, true), crc32(bytes.subarray(0, bytes.length - 4)));
  const dirEnd = HEADER_BYTES + view.getUint32(AT_CONFIG_LEN, true) + 8 + 3;
  const dataStart = Math.ceil(dirEnd / 4) * 4;
  assert.ok(dataStart > dirEnd, 'this case should need padding');
  assert.equal(view.getFloat32(dataStart, true), 1.5);
  assert.equal(view.getFloat32(dataStart + 4, true), -2.25);
});

test('encoding is deterministic', () => {
  assert.deepEqual(encodeModel(smallModel()), encodeModel(smallModel()));
});

test('decodes from an ArrayBuffer, a pooled Node Buffer and a Uint8Array at an offset', () => {
  const bytes = encodeModel(smallModel());
  const want = decodeModel(bytes);
  const pooled = Buffer.from(bytes);
  const big = new Uint8Array(bytes.length + 13);
  big.set(bytes, 5);
  assert.deepEqual(decodeModel(bytes.slice().buffer), want);
  assert.deepEqual(decodeModel(pooled), want);
  assert.deepEqual(decodeModel(big.subarray(5, 5 + bytes.length)), want);
});

test('decoded tensors are fresh copies, not views of the input', () => {
  const bytes = Buffer.from(encodeModel(smallModel()));
  const { tensors } = decodeModel(bytes);
  assert.notEqual(tensors[0].data.buffer, bytes.buffer);
  bytes.fill(0);
  assert.deepEqual(tensors[0].data, f32(1, -2, 0.5));
});

test('rejects every truncation of a small file, naming it truncated', () => {
  const bytes = encodeModel(smallModel());
  for (let n = 0; n < bytes.length; n++) {
    rejects(() => decodeModel(bytes.subarray(0, n)), 'ERR_FORMAT', /truncated/);
  }
  rejects(() => decodeModel(bytes.subarray(0, bytes.length - 10)), 'ERR_FORMAT',
    new RegExp(`truncated: header says ${bytes.length} bytes, got ${bytes.length - 10}`));
});

test('rejects every single flipped bit and every flipped byte with ERR_FORMAT', () => {
  const bytes = encodeModel(smallModel());
  for (let i = 0; i < bytes.length; i++) {
    for (const mask of [1, 2, 4, 8, 16, 32, 64, 128, 0xff]) {
      const bad = bytes.slice();
      bad[i] ^= mask;
      rejects(() => decodeModel(bad), 'ERR_FORMAT', /^model bytes: /);
    }
  }
});

test('a flipped bit in the body is reported as a checksum mismatch with both values', () => {
  const bad = encodeModel(smallModel());
  bad[HEADER_BYTES + 2] ^= 4;
  rejects(() => decodeModel(bad), 'ERR_FORMAT', /checksum mismatch \(stored 0x[0-9a-f]{8}, computed 0x[0-9a-f]{8}\)/);
});

test('rejects a file with the wrong magic, showing the bytes it found', () => {
  const bad = encodeModel(smallModel());
  bad.set(new TextEncoder().encode('PK\x03\x04'), 0);
  rejects(() => decodeModel(bad), 'ERR_FORMAT', /not an lstm-wasm model file: starts with 50 4b 03 04/);
});

test('rejects a newer format version, naming both versions', () => {
  const bad = setU32(encodeModel(smallModel()), AT_VERSION, FORMAT_VERSION + 2);
  rejects(() => decodeModel(bad), 'ERR_FORMAT', new RegExp(`format version ${FORMAT_VERSION + 2} is newer than this library's ${FORMAT_VERSION}`));
  rejects(() => decodeModel(setU32(bad, AT_VERSION, 0)), 'ERR_FORMAT', new RegExp(`format version 0 .*reads version ${FORMAT_VERSION}`));
});

test('rejects a file larger than maxBytes and accepts one exactly at the limit', () => {
  const bytes = encodeModel(smallModel());
  rejects(() => decodeModel(bytes, { maxBytes: bytes.length - 1 }), 'ERR_FORMAT', new RegExp(`oversized: ${bytes.length} bytes exceed maxBytes ${bytes.length - 1}`));
  assert.deepEqual(decodeModel(bytes, { maxBytes: bytes.length }), decodeModel(bytes));
  rejects(() => decodeModel(bytes, { maxBytes: -1 }), 'ERR_OPTION', /maxBytes/);
});

test('rejects trailing garbage after the checksum, counting the extra bytes', () => {
  const bytes = encodeModel(smallModel());
  const longer = new Uint8Array(bytes.length + 3);
  longer.set(bytes);
  rejects(() => decodeModel(longer), 'ERR_FORMAT', new RegExp(`3 trailing bytes: header says ${bytes.length} bytes, got ${bytes.length + 3}`));
});

test('rejects arguments that are not bytes with ERR_TYPE', () => {
  for (const value of [undefined, null, 'LWM', 42, [0x89, 0x4c], f32(1), new DataView(new ArrayBuffer(8)), {}]) {
    rejects(() => decodeModel(value), 'ERR_TYPE', /model bytes: expected a Uint8Array or ArrayBuffer, got /);
  }
});

test('behind a valid checksum, rejects bad config JSON, a config that is not an object, and invalid UTF-8', () => {
  const bytes = encodeModel({ config: { a: 1 }, tensors: [{ name: 'w', data: f32(1) }] });
  const badJson = bytes.slice();
  badJson[HEADER_BYTES + 1] = 0x7b; // {"a":1} -> {{a":1}
  rejects(() => decodeModel(resign(badJson)), 'ERR_FORMAT', /config is not valid JSON/);

  const arr = encodeModel({ config: { a: 1 }, tensors: [] });
  arr.set(new TextEncoder().encode('[1,2,3]'), HEADER_BYTES);
  rejects(() => decodeModel(resign(arr)), 'ERR_FORMAT', /config is an Array, not a JSON object/);

  const badName = bytes.slice();
  badName[HEADER_BYTES + 7 + 8] = 0xff; // the name 'w'
  rejects(() => decodeModel(resign(badName)), 'ERR_FORMAT', /tensor 0 name is not valid UTF-8/);
});

test('behind a valid checksum, rejects duplicate names, impossible counts and section lengths that do not add up', () => {
  const twoNames = () => encodeModel({ config: {}, tensors: [{ name: 'a1', data: f32(1) }, { name: 'a2', data: f32(2) }] });
  const dup = twoNames();
  dup[dup.indexOf(0x32, HEADER_BYTES)] = 0x31; // 'a2' -> 'a1'
  rejects(() => decodeModel(resign(dup)), 'ERR_FORMAT', /tensor name 'a1' appears twice/);

  rejects(() => decodeModel(resign(setU32(twoNames(), AT_COUNT, 0xffffffff))), 'ERR_FORMAT', /tensor count 4294967295 cannot fit/);
  rejects(() => decodeModel(resign(setU32(twoNames(), AT_COUNT, 1))), 'ERR_FORMAT', /directory has 10 bytes after its 1 entries/);
  rejects(() => decodeModel(resign(setU32(twoNames(), AT_CONFIG_LEN, 6))), 'ERR_FORMAT', /section lengths .* do not add up/);
});

test('seeded random damage behind a valid checksum only ever throws ERR_FORMAT', () => {
  const random = mulberry32(FUZZ_SEED);
  const bytes = encodeModel(smallModel());
  for (let round = 0; round < FUZZ_ROUNDS; round++) {
    const bad = bytes.slice();
    for (let k = 1 + Math.floor(random() * 3); k > 0; k--) {
      // aim past the magic and version so the damage reaches the section parser
      const at = AT_LENGTH + 4 + Math.floor(random() * (bad.length - 20));
      bad[at] = random() < 0.5 ? Math.floor(random() * 256) : bad[at] ^ (1 << Math.floor(random() * 8));
    }
    try {
      decodeModel(resign(bad));
    } catch (err) {
      assert.ok(err instanceof LstmError && err.code === 'ERR_FORMAT', `round ${round}: ${err}`);
    }
  }
});

test('encodeModel rejects a non-object config, non-Float32Array data, bad names and unserialisable JSON', () => {
  rejects(() => encodeModel({ config: [1], tensors: [] }), 'ERR_TYPE', /config must be a plain object, got an Array/);
  rejects(() => encodeModel({ config: {}, tensors: {} }), 'ERR_TYPE', /tensors must be an array/);
  rejects(() => encodeModel({ config: {}, tensors: [{ name: 'w', data: [1, 2] }] }), 'ERR_TYPE', /tensors\[0\]\.data \('w'\) must be a Float32Array, got an Array/);
  rejects(() => encodeModel({ config: {}, tensors: [{ name: 7, data: f32() }] }), 'ERR_TYPE', /tensors\[0\]\.name must be a string, got number/);
  rejects(() => encodeModel({ config: {}, tensors: [{ name: '\ud800', data: f32() }] }), 'ERR_TYPE', /lone surrogate/);
  rejects(() => encodeModel({ config: {}, tensors: [{ name: 'w', data: f32() }, { name: 'w', data: f32(1) }] }), 'ERR_FORMAT', /'w' appears twice/);
  const loop = {};
  loop.self = loop;
  rejects(() => encodeModel({ config: loop, tensors: [] }), 'ERR_TYPE', /config is not JSON-serialisable/);
  rejects(() => encodeModel({ config: {}, tensors: [], extra: 1n }), 'ERR_TYPE', /extra is not JSON-serialisable/);
});

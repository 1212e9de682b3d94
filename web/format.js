// The lstm-wasm model file: what save() writes and load() reads (SPEC section 5).
// encodeModel/decodeModel turn { config, tensors, extra } into checked bytes and
// back; they know nothing of what the tensors mean (model.js and
// file-checks.js do). The exchange format safetensors lives in
// interop/safetensors.js and reuses the byte helpers at the bottom of this file.

import { LstmError, affirm } from './errors.js';

/** The version this library writes; it reads only this one. */
export const FORMAT_VERSION = 1;

/**
 * The first 8 bytes of every model file: "\x89LWM\r\n\x1a\n". PNG's scheme:
 * the high byte catches 7-bit transfers, CR LF and LF catch newline
 * conversion, and 0x1a stops `type` on Windows.
 */
export const MAGIC = Object.freeze([0x89, 0x4c, 0x57, 0x4d, 0x0d, 0x0a, 0x1a, 0x0a]);

// Layout, every integer a little-endian u32:
//   0  magic (8 bytes)            20  tensor count N
//   8  format version             24  tensor directory byte length D
//  12  total byte length          28  tensor data byte length F
//  16  config JSON byte length C  32  extra JSON byte length E
//  36  config: UTF-8 JSON object (C bytes)
//      directory: N x { u32 float count, u32 name byte length, UTF-8 name } (D bytes)
//      zero padding to a multiple of 4
//      tensor data: float32 LE, back to back in directory order (F bytes)
//      extra: UTF-8 JSON, "null" when absent (E bytes)
//  end-4  CRC-32 (IEEE) of every byte before it
// Sections follow each other with no gaps, so there is one encoding per model.
const HEADER_BYTES = 36;
const MIN_BYTES = HEADER_BYTES + 4;
const U32_MAX = 0xffffffff;

const utf8Encoder = new TextEncoder();
// fatal: invalid UTF-8 is an error, not U+FFFD; ignoreBOM: a leading U+FEFF stays part of the text
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Encodes a model into the lstm-wasm file format.
 * @param {object} model
 * @param {object} model.config the model configuration, a JSON-serialisable plain object
 * @param {{ name: string, data: Float32Array }[]} model.tensors parameters, optimizer state and so on; names unique
 * @param {*} [model.extra] anything JSON-serialisable (vocabulary, normalisation, step counters)
 * @returns {Uint8Array} the file bytes
 */
export function encodeModel({ config, tensors, extra } = {}) {
  affirm(isPlainObject(config), 'ERR_TYPE',
    () => `encodeModel: config must be a plain object, got ${describe(config)}`);
  affirm(Array.isArray(tensors), 'ERR_TYPE',
    () => `encodeModel: tensors must be an array of { name, data }, got ${describe(tensors)}`);
  const configBytes = jsonBytes(config, 'config');
  const extraBytes = jsonBytes(extra ?? null, 'extra');
  const seen = new Set();
  const nameBytes = tensors.map((t, i) => {
    affirm(typeof t?.name === 'string', 'ERR_TYPE',
      () => `encodeModel: tensors[${i}].name must be a string, got ${describe(t?.name)}`);
    affirm(t.name.isWellFormed(), 'ERR_TYPE',
      `encodeModel: tensors[${i}].name has a lone surrogate, which UTF-8 cannot hold`);
    affirm(!seen.has(t.name), 'ERR_FORMAT', `encodeModel: tensor name '${t.name}' appears twice`);
    affirm(t.data instanceof Float32Array, 'ERR_TYPE',
      () => `encodeModel: tensors[${i}].data ('${t.name}') must be a Float32Array, got ${describe(t.data)}`);
    seen.add(t.name);
    return utf8Encoder.encode(t.name);
  });
  const dirLen = nameBytes.reduce((sum, b) => sum + 8 + b.length, 0);
  const dataLen = tensors.reduce((sum, t) => sum + 4 * t.data.length, 0);
  const dirStart = HEADER_BYTES + configBytes.length;
  const dataStart = align4(dirStart + dirLen);
  const extraStart = dataStart + dataLen;
  const total = extraStart + extraBytes.length + 4;
  affirm(total <= U32_MAX, 'ERR_RANGE',
    `encodeModel: the model needs ${total} bytes; format version ${FORMAT_VERSION} holds at most ${U32_MAX}`);

  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  out.set(MAGIC, 0);
  [FORMAT_VERSION, total, configBytes.length, tensors.length, dirLen, dataLen, extraBytes.length]
    .forEach((value, i) => view.setUint32(8 + 4 * i, value, true));
  out.set(configBytes, HEADER_BYTES);
  let p = dirStart, q = dataStart;
  tensors.forEach((t, i) => {
    view.setUint32(p, t.data.length, true);
    view.setUint32(p + 4, nameBytes[i].length, true);
    out.set(nameBytes[i], p + 8);
    p += 8 + nameBytes[i].length;
    writeFloat32LE(out, q, t.data);
    q += 4 * t.data.length;
  });
  out.set(extraBytes, extraStart);
  view.setUint32(total - 4, crc32(out.subarray(0, total - 4)), true);
  return out;
}

/**
 * Decodes and checks a model file. Magic, version, length, size limit and
 * checksum are checked before any other field is read; every section is then
 * bounds-checked. Throws LstmError 'ERR_FORMAT' naming the problem, or
 * 'ERR_TYPE' when `bytes` is not a Uint8Array or ArrayBuffer.
 * @param {Uint8Array | ArrayBuffer} bytes the file (a Node Buffer is fine)
 * @param {{ maxBytes?: number }} [options] maxBytes: refuse larger files (default 1 GiB)
 * @returns {{ config: object, tensors: { name: string, data: Float32Array }[], extra: * }}
 *   tensors in file order, each data a fresh copy; extra is null when none was saved
 */
export function decodeModel(bytes, { maxBytes = 1 << 30 } = {}) {
  const u8 = asBytes(bytes, 'model bytes');
  affirm(Number.isSafeInteger(maxBytes) && maxBytes >= 0, 'ERR_OPTION',
    () => `maxBytes must be a non-negative integer, got ${describe(maxBytes)}`);
  const n = u8.length;
  check(n >= MIN_BYTES, `truncated: ${n} bytes, shorter than the ${MIN_BYTES} bytes of an empty model file`);
  check(MAGIC.every((b, i) => u8[i] === b), () =>
    `not an lstm-wasm model file: starts with ${hex(u8.subarray(0, 8))}, expected ${hex(MAGIC)}`);
  const view = new DataView(u8.buffer, u8.byteOffset, n);
  const version = view.getUint32(8, true);
  check(version <= FORMAT_VERSION,
    `format version ${version} is newer than this library's ${FORMAT_VERSION}; upgrade lstm-wasm to read it`);
  check(version === FORMAT_VERSION,
    `format version ${version} is not supported; this library reads version ${FORMAT_VERSION}`);
  const declared = view.getUint32(12, true);
  check(declared <= n, `truncated: header says ${declared} bytes, got ${n}`);
  check(declared >= n, `${n - declared} trailing bytes: header says ${declared} bytes, got ${n}`);
  check(n <= maxBytes, `oversized: ${n} bytes exceed maxBytes ${maxBytes}`);
  const stored = view.getUint32(n - 4, true);
  const computed = crc32(u8.subarray(0, n - 4));
  check(stored === computed, () => `checksum mismatch (stored ${hex32(stored)}, computed ${hex32(computed)})`);

  const [configLen, count, dirLen, dataLen, extraLen] = [16, 20, 24, 28, 32].map((at) => view.getUint32(at, true));
  const dirStart = HEADER_BYTES + configLen, dirEnd = dirStart + dirLen;
  const dataStart = align4(dirEnd), extraStart = dataStart + dataLen, extraEnd = extraStart + extraLen;
  check(extraEnd + 4 === n,
    `section lengths (config ${configLen}, directory ${dirLen}, data ${dataLen}, extra ${extraLen}) do not add up to the file's ${n} bytes`);
  check(dataLen % 4 === 0, `tensor data length ${dataLen} is not a multiple of 4`);
  check(count <= dirLen / 8, `tensor count ${count} cannot fit a ${dirLen}-byte directory (8 bytes or more each)`);
  check(u8.subarray(dirEnd, dataStart).every((b) => b === 0), 'padding before the tensor data is not zero');
  const config = parseJson(u8.subarray(HEADER_BYTES, dirStart), 'config');
  check(isPlainObject(config), () => `config is ${describe(config)}, not a JSON object`);

  const tensors = [];
  const names = new Set();
  let p = dirStart, q = dataStart;
  for (let i = 0; i < count; i++) {
    check(dirEnd - p >= 8, `tensor directory entry ${i} runs past the end of the directory`);
    const length = view.getUint32(p, true), nameLen = view.getUint32(p + 4, true);
    p += 8;
    check(nameLen <= dirEnd - p, `tensor ${i}: name of ${nameLen} bytes runs past the end of the directory`);
    const name = utf8(u8.subarray(p, p + nameLen), `model bytes: tensor ${i} name`);
    p += nameLen;
    check(!names.has(name), `tensor name '${name}' appears twice`);
    names.add(name);
    check(length <= (extraStart - q) / 4, `tensor '${name}': ${length} floats run past the end of the tensor data`);
    tensors.push({ name, data: readFloat32LE(u8, q, length) });
    q += 4 * length;
  }
  check(p === dirEnd, `tensor directory has ${dirEnd - p} bytes after its ${count} entries`);
  check(q === extraStart, `tensor data has ${extraStart - q} bytes that no tensor claims`);
  const extra = parseJson(u8.subarray(extraStart, extraEnd), 'extra');
  return { config, tensors, extra };
}

const CRC_TABLE = new Uint32Array(256).map((_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c;
});

/**
 * CRC-32 (IEEE 802.3, reflected polynomial 0xedb88320), as zlib and PNG compute it.
 * @param {Uint8Array} bytes
 * @returns {number} unsigned 32-bit checksum
 */
export function crc32(bytes) {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

// Byte helpers shared with interop/; not part of the package's public API.

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * Returns a plain Uint8Array over `bytes` (an ArrayBuffer, Uint8Array or Node
 * Buffer, any byteOffset) or throws ERR_TYPE naming `what`. The result is never
 * a Buffer, whose slice() shares memory instead of copying.
 * @param {*} bytes
 * @param {string} what how the caller's messages name the argument
 * @returns {Uint8Array}
 */
export function asBytes(bytes, what) {
  if (bytes instanceof ArrayBuffer) return new Uint8Array(bytes);
  affirm(bytes instanceof Uint8Array, 'ERR_TYPE',
    () => `${what}: expected a Uint8Array or ArrayBuffer, got ${describe(bytes)}`);
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Copies `count` little-endian float32 values at `offset` into a fresh
 * Float32Array, bit for bit (NaN payloads included). The caller has checked
 * the range; `offset` need not be aligned.
 * @param {Uint8Array} bytes a plain Uint8Array (see asBytes)
 * @param {number} offset
 * @param {number} count
 * @returns {Float32Array}
 */
export function readFloat32LE(bytes, offset, count) {
  if (LITTLE_ENDIAN_HOST) return new Float32Array(bytes.slice(offset, offset + 4 * count).buffer);
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, 4 * count);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = view.getFloat32(4 * i, true);
  return out;
}

/**
 * Writes `data` as little-endian float32 into `out` at `offset`.
 * @param {Uint8Array} out
 * @param {number} offset
 * @param {Float32Array} data
 */
export function writeFloat32LE(out, offset, data) {
  if (LITTLE_ENDIAN_HOST) return out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), offset);
  const view = new DataView(out.buffer, out.byteOffset + offset, data.byteLength);
  for (let i = 0; i < data.length; i++) view.setFloat32(4 * i, data[i], true);
}

/**
 * Decodes strict UTF-8 (no BOM stripping) or throws ERR_FORMAT naming `what`.
 * @param {Uint8Array} bytes
 * @param {string} what
 * @returns {string}
 */
export function utf8(bytes, what) {
  try {
    return utf8Decoder.decode(bytes);
  } catch {
    throw new LstmError('ERR_FORMAT', `${what} is not valid UTF-8`);
  }
}

/**
 * Names a value's type for error messages: "null", "an Array", "Float32Array", "string".
 * @param {*} value
 * @returns {string}
 */
export function describe(value) {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an Array';
  if (typeof value === 'object') return value.constructor?.name ?? 'an object';
  return typeof value;
}

function check(ok, message) {
  if (!ok) throw new LstmError('ERR_FORMAT', `model bytes: ${typeof message === 'function' ? message() : message}`);
}

function parseJson(bytes, what) {
  const text = utf8(bytes, `model bytes: ${what}`);
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new LstmError('ERR_FORMAT', `model bytes: ${what} is not valid JSON (${err.message})`);
  }
}

function jsonBytes(value, what) {
  let text;
  try {
    text = JSON.stringify(value);
  } catch (err) {
    throw new LstmError('ERR_TYPE', `encodeModel: ${what} is not JSON-serialisable (${err.message})`);
  }
  affirm(text !== undefined, 'ERR_TYPE', () => `encodeModel: ${what} is not JSON-serialisable (${describe(value)})`);
  return utf8Encoder.encode(text);
}

/**
 * Whether a value is a JSON object: not null, not an array.
 * @param {*} value
 * @returns {boolean}
 */
export function isPlainObject(value) {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function align4(n) {
  return n + (-n & 3);
}

function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');
}

function hex32(n) {
  return `0x${n.toString(16).padStart(8, '0')}`;
}

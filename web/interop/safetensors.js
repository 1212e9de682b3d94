// safetensors (https://github.com/huggingface/safetensors), the exchange format
// of PyTorch state dicts: u64 LE header length N, N bytes of JSON header, then
// the tensor bytes. Reads F32, F64, F16 and BF16 into Float32Array; writes F32
// byte for byte as the reference library does. It maps no names: gate order
// is PyTorch's (i, f, g, o) and model.js decides what each tensor is.

import { LstmError, affirm } from '../errors.js';
import { asBytes, describe, isPlainObject as isObject, readFloat32LE, utf8, writeFloat32LE } from '../format.js';

// The reference library's limit (MAX_HEADER_SIZE in safetensors/src/tensor.rs).
const MAX_HEADER_BYTES = 100_000_000;
const DTYPE_BYTES = { F32: 4, F64: 8, F16: 2, BF16: 2 };

/**
 * Decodes a safetensors file. Tensors of dtype F32 are copied exactly; F64 is
 * rounded to the nearest float32 and F16/BF16 widened (both exact). Throws
 * LstmError 'ERR_FORMAT' naming the tensor at fault, or 'ERR_TYPE' when `bytes`
 * is not a Uint8Array or ArrayBuffer.
 * @param {Uint8Array | ArrayBuffer} bytes the file
 * @returns {{ tensors: Object<string, { shape: number[], data: Float32Array, dtype: string }>,
 *   metadata: Object<string, string> | null, order: string[] }} order: names as the header lists them
 */
export function decodeSafetensors(bytes) {
  const u8 = asBytes(bytes, 'safetensors');
  check(u8.length >= 8, `truncated: ${u8.length} bytes, shorter than the 8-byte header length`);
  const view = new DataView(u8.buffer, u8.byteOffset, u8.length);
  const headerLen = view.getUint32(0, true) + 2 ** 32 * view.getUint32(4, true);
  check(headerLen <= MAX_HEADER_BYTES, `header length ${headerLen} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  check(8 + headerLen <= u8.length,
    `truncated: header length ${headerLen} runs past the end of the ${u8.length}-byte file`);
  const text = utf8(u8.subarray(8, 8 + headerLen), 'safetensors: header');
  let header;
  try {
    header = JSON.parse(text);
  } catch (err) {
    throw new LstmError('ERR_FORMAT', `safetensors: header is not valid JSON (${err.message})`);
  }
  check(isObject(header), () => `header is ${describe(header)}, not a JSON object`);
  const keys = topLevelKeys(text);
  const duplicate = keys.find((key, i) => keys.indexOf(key) !== i);
  check(duplicate === undefined, () => `header names '${duplicate}' twice`);

  const metadata = header.__metadata__ ?? null;
  if (metadata !== null) {
    check(isObject(metadata), () => `__metadata__ is ${describe(metadata)}, not an object of strings`);
    for (const [key, value] of Object.entries(metadata)) {
      check(typeof value === 'string', () => `__metadata__['${key}'] is ${describe(value)}, not a string`);
    }
  }

  const dataStart = 8 + headerLen, dataLen = u8.length - dataStart;
  const order = keys.filter((name) => name !== '__metadata__');
  const entries = order.map((name) => {
    const info = header[name];
    const at = `tensor '${name}'`;
    check(isObject(info), () => `${at}: entry is ${describe(info)}, not an object`);
    const { dtype, shape, data_offsets: offsets } = info;
    check(typeof dtype === 'string', () => `${at}: dtype is ${describe(dtype)}, not a string`);
    check(Object.hasOwn(DTYPE_BYTES, dtype),
      () => `${at}: dtype ${dtype} is not supported (F32, F64, F16 and BF16 are)`);
    check(Array.isArray(shape) && shape.every(isCount),
      () => `${at}: shape ${JSON.stringify(shape)} is not an array of non-negative integers`);
    check(Array.isArray(offsets) && offsets.length === 2 && offsets.every(isCount) && offsets[0] <= offsets[1],
      () => `${at}: data_offsets ${JSON.stringify(offsets)} is not [begin, end] with 0 <= begin <= end`);
    const [begin, end] = offsets;
    check(end <= dataLen, `${at}: data_offsets [${begin}, ${end}] run past the ${dataLen}-byte data buffer`);
    const count = shape.reduce((a, b) => a * b, 1);
    check(count * DTYPE_BYTES[dtype] === end - begin,
      `${at}: shape [${shape}] of ${dtype} needs ${count * DTYPE_BYTES[dtype]} bytes, data_offsets span ${end - begin}`);
    return { name, dtype, shape, begin, end, count };
  });

  // The spec forbids holes as well as overlaps (no polyglot files): sorted by
  // offset, each tensor starts where the previous one ends, and the last ends
  // at the end of the file. The reference library rejects the same files.
  const byOffset = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let prev = { name: null, end: 0 };
  for (const t of byOffset) {
    check(t.begin >= prev.end,
      `tensor '${t.name}' (bytes ${t.begin}-${t.end}) overlaps tensor '${prev.name}' (ends at ${prev.end})`);
    check(t.begin === prev.end,
      `${t.begin - prev.end} bytes before tensor '${t.name}' belong to no tensor (safetensors forbids holes)`);
    prev = t;
  }
  check(prev.end === dataLen, `the last ${dataLen - prev.end} bytes of the data buffer belong to no tensor`);

  const tensors = Object.fromEntries(entries.map((t) => [t.name, {
    shape: [...t.shape],
    data: readTensor(u8, view, dataStart + t.begin, t.count, t.dtype),
    dtype: t.dtype,
  }]));
  return { tensors, metadata: metadata && { ...metadata }, order };
}

/**
 * Encodes float32 tensors as a safetensors file, laid out as the reference
 * library (safetensors.torch.save_file) lays it out, so a file it wrote
 * re-encodes byte for byte: tensors sorted by name (as UTF-8 bytes: all are
 * F32, so its dtype-alignment key ties), header keys in that order after
 * "__metadata__", JSON without spaces, padded with spaces to a multiple of 8.
 * Metadata keys keep the caller's order; the reference keeps them in a hash
 * map, so files with two or more keys may list them in another order.
 * @param {Object<string, { shape: number[], data: Float32Array }>} tensors written as F32; other fields are ignored
 * @param {Object<string, string> | null} [metadata] written as "__metadata__" unless null or undefined
 * @returns {Uint8Array}
 */
export function encodeSafetensors(tensors, metadata) {
  affirm(isObject(tensors), 'ERR_TYPE',
    () => `encodeSafetensors: tensors must be an object of { shape, data }, got ${describe(tensors)}`);
  const names = Object.keys(tensors).sort(compareCodePoints);
  const parts = [];
  if (metadata != null) {
    affirm(isObject(metadata), 'ERR_TYPE',
      () => `encodeSafetensors: metadata must be an object of strings, got ${describe(metadata)}`);
    const fields = Object.entries(metadata).map(([key, value]) => {
      affirm(typeof value === 'string', 'ERR_TYPE',
        () => `encodeSafetensors: metadata['${key}'] must be a string, got ${describe(value)}`);
      return `${JSON.stringify(key)}:${JSON.stringify(value)}`;
    });
    parts.push(`"__metadata__":{${fields.join(',')}}`);
  }
  let offset = 0;
  for (const name of names) {
    const { shape, data } = tensors[name] ?? {};
    const at = `encodeSafetensors: tensors['${name}']`;
    affirm(name !== '__metadata__', 'ERR_FORMAT', `${at}: the name __metadata__ is reserved for the metadata`);
    affirm(name.isWellFormed(), 'ERR_TYPE', `${at}: the name has a lone surrogate, which UTF-8 cannot hold`);
    affirm(data instanceof Float32Array, 'ERR_TYPE', () => `${at}.data must be a Float32Array, got ${describe(data)}`);
    affirm(Array.isArray(shape) && shape.every(isCount), 'ERR_TYPE',
      () => `${at}.shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
    const count = shape.reduce((a, b) => a * b, 1);
    affirm(count === data.length, 'ERR_SHAPE',
      `${at}: shape [${shape}] holds ${count} values, data has ${data.length}`);
    parts.push(`${JSON.stringify(name)}:{"dtype":"F32","shape":[${shape}],"data_offsets":[${offset},${offset + data.byteLength}]}`);
    offset += data.byteLength;
  }
  const json = new TextEncoder().encode(`{${parts.join(',')}}`);
  const headerLen = json.length + (-json.length & 7);
  const out = new Uint8Array(8 + headerLen + offset);
  new DataView(out.buffer).setUint32(0, headerLen, true);
  out.fill(0x20, 8, 8 + headerLen).set(json, 8);
  let at = 8 + headerLen;
  for (const name of names) {
    writeFloat32LE(out, at, tensors[name].data);
    at += tensors[name].data.byteLength;
  }
  return out;
}

function readTensor(u8, view, at, count, dtype) {
  if (dtype === 'F32') return readFloat32LE(u8, at, count);
  const out = new Float32Array(count);
  if (dtype === 'F64') {
    // Float32Array stores round to nearest, ties to even (same as Math.fround)
    for (let i = 0; i < count; i++) out[i] = view.getFloat64(at + 8 * i, true);
  } else if (dtype === 'BF16') {
    // bfloat16 is the top half of a float32
    const bits = new Uint32Array(out.buffer);
    for (let i = 0; i < count; i++) bits[i] = view.getUint16(at + 2 * i, true) << 16;
  } else {
    for (let i = 0; i < count; i++) out[i] = halfToFloat(view.getUint16(at + 2 * i, true));
  }
  return out;
}

/** IEEE binary16 bits -> number; every half is exact in float32. */
function halfToFloat(h) {
  const sign = h & 0x8000 ? -1 : 1, exp = (h >> 10) & 0x1f, frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1024 + frac) * 2 ** (exp - 25);
}

/**
 * The top-level keys of a valid JSON object text, in written order. Needed
 * because JSON.parse lists integer-like keys ("0", "12") first and merges
 * duplicates.
 */
function topLevelKeys(text) {
  const keys = [];
  let depth = 0, expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      const start = i;
      for (i++; text[i] !== '"'; i++) if (text[i] === '\\') i++;
      if (depth === 1 && expectKey) keys.push(JSON.parse(text.slice(start, i + 1)));
      expectKey = false;
    } else if (c === '{' || c === '[') {
      depth++;
      expectKey = depth === 1;
    } else if (c === '}' || c === ']') {
      depth--;
    } else if (c === ',') {
      expectKey = depth === 1;
    }
  }
  return keys;
}

/** Rust compares names as UTF-8 bytes, i.e. by code point; JS's < compares UTF-16 units. */
function compareCodePoints(a, b) {
  for (let i = 0; i < a.length && i < b.length; ) {
    const x = a.codePointAt(i), y = b.codePointAt(i);
    if (x !== y) return x - y;
    i += x > 0xffff ? 2 : 1;
  }
  return a.length - b.length;
}

function check(ok, message) {
  if (!ok) throw new LstmError('ERR_FORMAT', `safetensors: ${typeof message === 'function' ? message() : message}`);
}


function isCount(n) {
  return Number.isSafeInteger(n) && n >= 0;
}

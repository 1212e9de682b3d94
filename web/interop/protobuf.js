// A small protobuf reader and writer, driven by schemas written as plain
// objects: only what ONNX's ModelProto and its parts need (varints, int64s,
// fixed32 floats, fixed64 doubles, strings, bytes, nested and repeated
// fields, packed or not). Hand-written so the package keeps no runtime
// dependency; every read is bounds-checked and fails with ERR_FORMAT.
import { LstmError } from '../errors.js';

const MAX_DEPTH = 32;

/**
 * A schema is { fieldNumber: [name, type, repeated?] } where type is one of
 * 'int' (varint, as a signed 64-bit number that must fit a double exactly),
 * 'float' (fixed32), 'double' (fixed64), 'string', 'bytes', or a nested schema.
 */
function fail(what, message) {
  throw new LstmError('ERR_FORMAT', `${what}: ${message}`);
}

class Reader {
  constructor(bytes, what) {
    this.b = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.what = what;
  }

  varint(at, end) {
    let v = 0n, shift = 0n, p = at;
    for (;;) {
      if (p >= end) fail(this.what, `a varint runs past the end of its message (byte ${at})`);
      const byte = this.b[p++];
      v |= BigInt(byte & 0x7f) << shift;
      if (!(byte & 0x80)) break;
      shift += 7n;
      if (shift > 63n) fail(this.what, `a varint longer than 10 bytes (byte ${at})`);
    }
    return [BigInt.asIntN(64, v), p];
  }

  message(schema, start, end, depth, path) {
    if (depth > MAX_DEPTH) fail(this.what, `messages nested deeper than ${MAX_DEPTH} (${path})`);
    const out = {};
    for (const [name, , repeated] of Object.values(schema)) if (repeated) out[name] = [];
    let p = start;
    while (p < end) {
      let key;
      [key, p] = this.varint(p, end);
      const field = Number(key >> 3n), wire = Number(key & 7n);
      if (field < 1) fail(this.what, `field number ${field} in ${path}`);
      const spec = schema[field];
      let value, next;
      if (wire === 0) {
        [value, next] = this.varint(p, end);
      } else if (wire === 1) {
        if (p + 8 > end) fail(this.what, `a 64-bit field runs past the end of ${path}`);
        value = this.view.getFloat64(p, true), next = p + 8;
      } else if (wire === 5) {
        if (p + 4 > end) fail(this.what, `a 32-bit field runs past the end of ${path}`);
        value = this.view.getFloat32(p, true), next = p + 4;
      } else if (wire === 2) {
        let len;
        [len, p] = this.varint(p, end);
        if (len < 0n || len > BigInt(end - p)) fail(this.what, `a field of ${len} bytes in ${path} runs past the end (${end - p} left)`);
        value = [p, p + Number(len)], next = p + Number(len);
      } else {
        fail(this.what, `wire type ${wire} (field ${field} of ${path}) is not one this reader knows`);
      }
      p = next;
      if (!spec) continue; // a field this library does not read
      const [name, type, repeated] = spec;
      const values = this.decode(type, wire, value, depth, `${path}.${name}`);
      if (repeated) out[name].push(...values);
      else out[name] = values[values.length - 1];
    }
    return out;
  }

  decode(type, wire, value, depth, path) {
    const bad = () => fail(this.what, `${path} has wire type ${wire}, not what a ${typeof type === 'string' ? type : 'message'} field uses`);
    if (typeof type === 'object') {
      if (wire !== 2) bad();
      return [this.message(type, value[0], value[1], depth + 1, path)];
    }
    if (type === 'string' || type === 'bytes') {
      if (wire !== 2) bad();
      const raw = this.b.subarray(value[0], value[1]);
      if (type === 'bytes') return [raw];
      try {
        return [new TextDecoder('utf-8', { fatal: true }).decode(raw)];
      } catch {
        return fail(this.what, `${path} is not valid UTF-8`);
      }
    }
    if (type === 'int') {
      const toNumber = (v) => {
        // beyond 2^53 (ONNX's INT64_MAX "to the end" in Slice): clamped, and every size check refuses it
        if (v > BigInt(Number.MAX_SAFE_INTEGER)) return Number.MAX_SAFE_INTEGER;
        if (v < -BigInt(Number.MAX_SAFE_INTEGER)) return -Number.MAX_SAFE_INTEGER;
        return Number(v);
      };
      if (wire === 0) return [toNumber(value)];
      if (wire !== 2) bad();
      const out = [];
      for (let p = value[0]; p < value[1];) {
        let v;
        [v, p] = this.varint(p, value[1]);
        out.push(toNumber(v));
      }
      return out;
    }
    const size = type === 'float' ? 4 : 8, want = type === 'float' ? 5 : 1;
    if (wire === want) return [value];
    if (wire !== 2) bad();
    const n = value[1] - value[0];
    if (n % size) fail(this.what, `${path} holds ${n} bytes, not a whole number of ${type}s`);
    const out = new Array(n / size);
    for (let k = 0; k < out.length; k++) {
      out[k] = size === 4 ? this.view.getFloat32(value[0] + 4 * k, true) : this.view.getFloat64(value[0] + 8 * k, true);
    }
    return out;
  }
}

/** Decodes `bytes` as a message of `schema`; `what` names the file in errors. */
export function decodeMessage(bytes, schema, what, root = 'message') {
  if (bytes instanceof ArrayBuffer) bytes = new Uint8Array(bytes);
  if (!(bytes instanceof Uint8Array)) throw new LstmError('ERR_TYPE', `${what}: expected a Uint8Array or ArrayBuffer`);
  return new Reader(bytes, what).message(schema, 0, bytes.length, 0, root);
}

// ------------------------------------------------------------ writing

class Writer {
  constructor() {
    this.parts = [];
    this.length = 0;
  }

  push(u8) {
    this.parts.push(u8);
    this.length += u8.length;
  }

  varint(v) {
    let x = BigInt.asUintN(64, BigInt(v));
    const out = [];
    do {
      let byte = Number(x & 0x7fn);
      x >>= 7n;
      if (x) byte |= 0x80;
      out.push(byte);
    } while (x);
    this.push(Uint8Array.from(out));
  }

  bytes() {
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const p of this.parts) out.set(p, at), at += p.length;
    return out;
  }
}

/** Encodes `message` (names as in `schema`) as protobuf bytes; repeated numbers are packed. */
export function encodeMessage(message, schema) {
  const w = new Writer();
  for (const [num, [name, type, repeated]] of Object.entries(schema)) {
    const v = message[name];
    if (v === undefined || v === null) continue;
    const values = repeated ? Array.from(v) : [v];
    if (repeated && !values.length) continue;
    const key = (wire) => w.varint((BigInt(num) << 3n) | BigInt(wire));
    if (repeated && (type === 'int' || type === 'float' || type === 'double')) {
      const inner = new Writer();
      if (type === 'int') for (const x of values) inner.varint(x);
      else {
        const size = type === 'float' ? 4 : 8, buf = new Uint8Array(size * values.length), view = new DataView(buf.buffer);
        values.forEach((x, k) => (size === 4 ? view.setFloat32(4 * k, x, true) : view.setFloat64(8 * k, x, true)));
        inner.push(buf);
      }
      key(2), w.varint(inner.length), w.push(inner.bytes());
      continue;
    }
    for (const x of values) {
      if (type === 'int') key(0), w.varint(x);
      else if (type === 'float') { const b = new Uint8Array(4); new DataView(b.buffer).setFloat32(0, x, true); key(5), w.push(b); }
      else if (type === 'double') { const b = new Uint8Array(8); new DataView(b.buffer).setFloat64(0, x, true); key(1), w.push(b); }
      else {
        const b = type === 'string' ? new TextEncoder().encode(x) : type === 'bytes' ? x : encodeMessage(x, type);
        key(2), w.varint(b.length), w.push(b);
      }
    }
  }
  return w.bytes();
}

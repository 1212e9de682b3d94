// For the tests that hand-craft model files: writes the lstm-wasm file layout
// of web/format.js from JSON *texts* (so a file can hold what JSON.stringify
// never writes, such as 1e400 or a duplicated key) with a valid CRC-32.
import { FORMAT_VERSION, MAGIC, crc32, decodeModel } from '../web/format.js';

const utf8 = new TextEncoder();

/**
 * Model file bytes from the configuration's JSON text, the tensors and the extra's JSON text.
 * @param {string} configText
 * @param {{ name: string, data: Float32Array }[]} tensors
 * @param {string} extraText
 * @returns {Uint8Array}
 */
export function encodeRaw(configText, tensors, extraText) {
  const config = utf8.encode(configText), extra = utf8.encode(extraText);
  const names = tensors.map((t) => utf8.encode(t.name));
  const dirLen = names.reduce((n, b) => n + 8 + b.length, 0);
  const dataLen = tensors.reduce((n, t) => n + 4 * t.data.length, 0);
  const dirStart = 36 + config.length, dataStart = (dirStart + dirLen + 3) & ~3;
  const total = dataStart + dataLen + extra.length + 4;
  const out = new Uint8Array(total), view = new DataView(out.buffer);
  out.set(MAGIC, 0);
  [FORMAT_VERSION, total, config.length, tensors.length, dirLen, dataLen, extra.length].forEach((v, i) => view.setUint32(8 + 4 * i, v, true));
  out.set(config, 36);
  let p = dirStart, q = dataStart;
  tensors.forEach((t, i) => {
    view.setUint32(p, t.data.length, true);
    view.setUint32(p + 4, names[i].length, true);
    out.set(names[i], p + 8);
    p += 8 + names[i].length;
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), q);
    q += 4 * t.data.length;
  });
  out.set(extra, dataStart + dataLen);
  view.setUint32(total - 4, crc32(out.subarray(0, total - 4)), true);
  return out;
}

/**
 * The file `bytes` with its extra (and configuration) replaced by what the
 * edit functions return: an object (written with JSON.stringify) or a JSON text.
 * Each edit gets a fresh copy of the decoded value.
 */
export function rewrite(bytes, editExtra = (x) => x, editConfig = (c) => c) {
  const { config, tensors, extra } = decodeModel(bytes);
  const text = (v) => (typeof v === 'string' ? v : JSON.stringify(v));
  return encodeRaw(text(editConfig(structuredClone(config))), tensors, text(editExtra(structuredClone(extra))));
}

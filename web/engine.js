// Loads and instantiates the engine's .wasm (c/, built by build.sh into
// web/wasm/) in browsers, workers and Node alike: picks the SIMD build where
// the runtime validates SIMD128, the scalar build elsewhere or on request.
// Also the small heap helpers every caller needs, and the mapping from the
// engine's status codes (c/lw.h) to LstmError.
import { LstmError } from './errors.js';
import { abi, setAbi } from './abi.js';

/** wasm file per variant; 'test' and 'f64' are for the test suite only. */
const WASM_FILES = { simd: 'lstm-simd.wasm', scalar: 'lstm.wasm', test: 'lstm-test.wasm', f64: 'lstm-f64.wasm' };
// Written out literally so that bundlers (Vite, webpack) find and emit exactly
// these two files; the test builds are reached through locateWasm only.
const DEFAULT_URLS = {
  simd: () => new URL('./wasm/lstm-simd.wasm', import.meta.url),
  scalar: () => new URL('./wasm/lstm.wasm', import.meta.url),
};

// A minimal module whose only function uses a SIMD128 instruction
// (i32.const 0; i8x16.splat): it validates exactly where SIMD128 is supported.
const SIMD_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 8, 1, 6, 0, 65, 0, 253, 15, 11]);

/** True when this runtime supports WebAssembly SIMD128. */
export function simdSupported() {
  try {
    return WebAssembly.validate(SIMD_PROBE);
  } catch {
    return false;
  }
}

// enum lw_status (by name) -> LstmError codes
const STATUS_CODES = { BAD_ARGUMENT: 'ERR_RANGE', NO_MEMORY: 'ERR_NO_MEMORY', NOT_FINITE: 'ERR_NOT_FINITE', BAD_STATE: 'ERR_OPTION' };

const cache = new Map();
// a variable, so bundlers leave this Node-only import alone (Vite's worker build fails on it otherwise)
const NODE_FS = 'node:fs/promises';

/**
 * Instantiates (once per file) and returns the engine.
 * @param {{ simd?: boolean, variant?: 'simd'|'scalar'|'test'|'f64', locateWasm?: (file: string) => string|URL }} [options]
 *   simd: false forces the scalar build; locateWasm maps a .wasm file name to where it is hosted.
 * @returns {Promise<Engine>}
 */
export function loadEngine(options = {}) {
  const variant = options.variant ?? (options.simd !== false && simdSupported() ? 'simd' : 'scalar');
  const file = WASM_FILES[variant];
  if (!file) throw new LstmError('ERR_OPTION', `engine variant '${variant}' is unknown`);
  if (!options.locateWasm && !DEFAULT_URLS[variant]) {
    throw new LstmError('ERR_OPTION', `engine variant '${variant}' is a test build: pass locateWasm to say where ${file} is`);
  }
  const url = options.locateWasm ? options.locateWasm(file) : DEFAULT_URLS[variant]();
  const key = String(url);
  if (!cache.has(key)) {
    const p = instantiate(url, variant).catch((err) => {
      cache.delete(key);
      throw err instanceof LstmError ? err : new LstmError('ERR_ENGINE', `could not load the engine from ${key}: ${err.message}`);
    });
    cache.set(key, p);
  }
  return cache.get(key);
}

async function readBytes(url) {
  const href = String(url);
  if (href.startsWith('file:')) {
    // Node: fetch() cannot read file: URLs, so read the file directly.
    const fs = await import(/* @vite-ignore */ /* webpackIgnore: true */ NODE_FS);
    return fs.readFile(new URL(href));
  }
  const res = await fetch(href);
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

async function instantiate(url, variant) {
  const bytes = await readBytes(url);
  const engine = new Engine(variant);
  const imports = { env: { emscripten_notify_memory_growth: () => engine.refresh() } };
  const { instance } = await WebAssembly.instantiate(bytes, imports);
  engine.attach(instance);
  return engine;
}

/** One instance of the engine, with views on its memory. */
export class Engine {
  constructor(variant) {
    this.variant = variant;
  }

  attach(instance) {
    this.exports = instance.exports;
    this.memory = instance.exports.memory;
    this.realSize = this.exports.lw_real_size();
    /** Float32Array, or Float64Array in the f64 test build */
    this.Real = this.realSize === 8 ? Float64Array : Float32Array;
    this.refresh();
    this.exports._initialize?.();
    this.simd = this.exports.lw_simd() === 1;
    this.version = this.cstring(this.exports.lw_version());
    /** the constants of c/lw.h (abi.js) */
    this.abi = setAbi(this.cstring(this.exports.lw_abi_json()));
  }

  /** Views must be made anew whenever memory grows. */
  refresh() {
    if (!this.memory) return; // growth during instantiation, before attach()
    this.u8 = new Uint8Array(this.memory.buffer);
    this.i32 = new Int32Array(this.memory.buffer);
    this.real = new this.Real(this.memory.buffer);
  }

  #fresh() {
    if (this.u8.buffer !== this.memory.buffer) this.refresh();
  }

  /** The heap as reals, current even after memory growth (hot loops). */
  reals() {
    this.#fresh();
    return this.real;
  }

  cstring(ptr) {
    this.#fresh();
    let end = ptr;
    while (this.u8[end]) end++;
    return new TextDecoder().decode(this.u8.subarray(ptr, end));
  }

  /** Heap bytes in use (tests: leak checks). */
  heapUsed() {
    return this.exports.lw_heap_used();
  }

  alloc(bytes) {
    const ptr = this.exports.lw_alloc(bytes);
    if (!ptr) throw new LstmError('ERR_NO_MEMORY', `out of wasm memory allocating ${bytes} bytes`);
    return ptr;
  }

  free(ptr) {
    if (ptr) this.exports.lw_free(ptr);
  }

  /** Copies reals into the heap at ptr. */
  writeReals(ptr, values) {
    this.#fresh();
    this.real.set(values, ptr / this.realSize);
  }

  /** A copy of n reals at ptr, as this.Real. */
  readReals(ptr, n) {
    this.#fresh();
    return this.real.slice(ptr / this.realSize, ptr / this.realSize + n);
  }

  /** A live view of n reals at ptr; valid until the next call into the engine. */
  viewReals(ptr, n) {
    this.#fresh();
    return this.real.subarray(ptr / this.realSize, ptr / this.realSize + n);
  }

  writeInt32(ptr, values) {
    this.#fresh();
    this.i32.set(values, ptr / 4);
  }

  readInt32(ptr, n) {
    this.#fresh();
    return this.i32.slice(ptr / 4, ptr / 4 + n);
  }

  /** softmax(z / temperature), computed in wasm so it is the same in every runtime. */
  softmax(z, temperature = 1) {
    return this.scoped((s) => {
      const out = s.reals(z.length);
      this.check(this.exports.lw_softmax(s.reals(z), z.length, temperature, out), 'softmax');
      return this.readReals(out, z.length);
    });
  }

  /** Throws the engine's last error as an LstmError unless status is 0. */
  check(status, where) {
    if (status === 0) return;
    const detail = this.cstring(this.exports.lw_last_error());
    const name = Object.keys(abi.status).find((k) => abi.status[k] === status);
    throw new LstmError(STATUS_CODES[name] ?? 'ERR_ENGINE', `${where}: ${detail}`);
  }

  /**
   * A pointer from an export that returns a status and writes the pointer
   * through its last argument (lw_model_create, lw_stream_create): call(out)
   * runs the export; a failure throws as check() does.
   */
  created(call, where) {
    return this.scoped((s) => {
      const out = s.int32(1);
      this.check(call(out), where);
      return this.readInt32(out, 1)[0];
    });
  }

  /**
   * Runs fn(scope) where scope.reals(n | array) and scope.int32(n | array)
   * allocate heap buffers (copying the array in), all freed afterwards.
   */
  scoped(fn) {
    const ptrs = [];
    const scope = {
      reals: (src) => {
        const n = typeof src === 'number' ? src : src.length;
        const ptr = this.alloc(n * this.realSize);
        ptrs.push(ptr);
        if (typeof src !== 'number') this.writeReals(ptr, src);
        return ptr;
      },
      int32: (src) => {
        const n = typeof src === 'number' ? src : src.length;
        const ptr = this.alloc(n * 4);
        ptrs.push(ptr);
        if (typeof src !== 'number') this.writeInt32(ptr, src);
        return ptr;
      },
    };
    try {
      return fn(scope);
    } finally {
      for (const p of ptrs) this.free(p);
    }
  }
}

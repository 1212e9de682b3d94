// Loads and instantiates the engine's .wasm (c/, built by build.sh into
// web/wasm/) in browsers, workers and Node alike: picks the SIMD build where
// the runtime validates SIMD128, the scalar build elsewhere or on request.
// Also the small heap helpers every caller needs, the mapping from the
// engine's status codes (c/lw.h) to LstmError, and the guard every export is
// called through, so that a trap in one model leaves the others working.
import { LstmError } from './errors.js';
import { STATUS, checkAbi } from './engine-abi.js';
import { checkBool, checkFunction, show } from './validate.js';

/** wasm file per variant; 'test' and 'f64' are for the test suite only. */
const WASM_FILES = { simd: 'lstm-simd.wasm', scalar: 'lstm.wasm', test: 'lstm-test.wasm', f64: 'lstm-f64.wasm' };
// Written out literally so that bundlers (Vite, webpack) find and emit exactly
// these two files; the test builds are reached through locateWasm only.
const DEFAULT_URLS = {
  simd: () => prebundledUrl('wasm/lstm-simd.wasm') ?? new URL('./wasm/lstm-simd.wasm', import.meta.url),
  scalar: () => prebundledUrl('wasm/lstm.wasm') ?? new URL('./wasm/lstm.wasm', import.meta.url),
};

// Vite's dev server pre-bundles dependencies into node_modules/.vite/deps/,
// away from the .wasm files and worker-host.js, which it still serves from
// node_modules/lstm-wasm/web/: there, `path` (relative to web/) is reached
// from here. Elsewhere null. A variable base, so bundlers see no new URL to follow.
const HERE = import.meta.url;
const VITE_DEPS = /\/node_modules\/\.vite\/deps(_temp_[\w-]+)?\/[^/]*$/;
const DEPS_TO_WEB = '../../lstm-wasm/web/';
/** @internal */
export function prebundledUrl(path) {
  return typeof HERE === 'string' && VITE_DEPS.test(HERE.split(/[?#]/)[0]) ? new URL(DEPS_TO_WEB + path, HERE) : null;
}

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

// status codes of enum lw_status -> LstmError codes
const STATUS_CODES = { [STATUS.badArgument]: 'ERR_RANGE', [STATUS.noMemory]: 'ERR_NO_MEMORY', [STATUS.notFinite]: 'ERR_NOT_FINITE', [STATUS.badState]: 'ERR_OPTION' };

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
  if (options.simd !== undefined) checkBool(options.simd, 'simd');
  if (options.locateWasm !== undefined) checkFunction(options.locateWasm, 'locateWasm');
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
      if (err instanceof LstmError) throw err;
      // a bundler that copies no assets (esbuild, Rollup) leaves the .wasm files behind: say where to point
      const fix = options.locateWasm ? 'check what locateWasm returns for it' : `copy lstm-wasm's web/wasm/${file} where it is served and pass locateWasm: (file) => url to Model.create (README, "Install and bundlers")`;
      throw new LstmError('ERR_ENGINE', `could not load the engine from ${key}: ${err.message}; ${fix}`);
    });
    cache.set(key, p);
  }
  return cache.get(key);
}

/**
 * The engine a caller passed as `engine`, checked; otherwise the one
 * loadEngine(options) gives.
 * @param {{ engine?: Engine, simd?: boolean, locateWasm?: (file: string) => string|URL }} options
 * @returns {Engine | Promise<Engine>}
 */
export function engineFrom(options) {
  if (options.engine === undefined || options.engine === null) return loadEngine({ simd: options.simd, locateWasm: options.locateWasm });
  if (options.engine instanceof Engine) return options.engine;
  throw new LstmError('ERR_TYPE', `engine must be an engine from loadEngine(), got ${show(options.engine)}; leave it out to load the default one`);
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
  engine.url = String(url); // where a worker's replica (pool.js) loads the same build from
  const imports = { env: { emscripten_notify_memory_growth: () => engine.refresh() } };
  const { instance } = await WebAssembly.instantiate(bytes, imports);
  engine.attach(instance);
  return engine;
}

/**
 * What an export's first argument is: a model or a stream handle. Exports
 * that take one are lw_model_* (but lw_model_create) and lw_stream_*; a fault
 * in one of them marks that handle (see Engine#guard).
 */
function handleKind(name) {
  if (name === 'lw_model_create') return null;
  if (name === 'lw_stream_create' || name.startsWith('lw_model_')) return 'model';
  return name.startsWith('lw_stream_') ? 'stream' : null;
}

/** One instance of the engine, with views on its memory. */
export class Engine {
  #stackTop = 0;
  #faults = new Map(); // model or stream handle -> what its fault was, once a call on it trapped
  #owners = new Map(); // live stream handle -> its model's handle

  constructor(variant) {
    this.variant = variant;
  }

  attach(instance) {
    const raw = instance.exports;
    this.memory = raw.memory;
    this.realSize = raw.lw_real_size();
    /** Float32Array, or Float64Array in the f64 test build */
    this.Real = this.realSize === 8 ? Float64Array : Float32Array;
    this.refresh();
    raw._initialize?.();
    // JS enters the engine only from the outside (its one import, memory
    // growth, calls no export back), so every call starts at the stack's top.
    // Emscripten exports the stack helpers under one of two pairs of names.
    const save = raw.stackSave ?? raw.emscripten_stack_get_current, restore = raw.stackRestore ?? raw._emscripten_stack_restore;
    if (!save || !restore) throw new LstmError('ERR_ENGINE', 'this engine build exports no stack helpers (stackSave, stackRestore); rebuild it with build.sh');
    this.#stackTop = save();
    this.#stackRestore = restore;
    /** The exports, each function through guard(): call the engine only through these. */
    this.exports = Object.fromEntries(Object.entries(raw).map(([name, value]) =>
      [name, typeof value === 'function' && !/^_?(emscripten_)?stack/.test(name) ? this.#guard(name, value) : value]));
    this.simd = this.exports.lw_simd() === 1;
    this.version = this.cstring(this.exports.lw_version());
    /** c/lw.h's constants as this build states them; refused if web/engine-abi.js disagrees */
    this.abi = checkAbi(this.cstring(this.exports.lw_abi_json()));
  }

  #stackRestore;

  /**
   * fn, called so that a trap (RuntimeError: out of bounds, unreachable; or
   * V8 failing inside the call, such as a stack overflow) leaves the engine as
   * it was for everyone else: the C stack pointer, which a trap leaves where
   * the failed frame had moved it (after some 13,000 traps every call would
   * run out of stack), is put back, and the model or stream the call was on
   * is marked, so that each later call on it throws ERR_ENGINE instead of
   * running on state the trap may have left half-written. Freeing a marked
   * handle does nothing: its memory stays allocated rather than go back to
   * the allocator every model shares. The C code never throws, so anything
   * thrown is a fault. What the failed call had allocated on the heap stays
   * allocated (the instance cannot be replaced while other models live in it).
   */
  #guard(name, fn) {
    const kind = handleKind(name), faults = this.#faults;
    const free = name === 'lw_model_free' || name === 'lw_stream_free';
    const guarded = (...args) => {
      if (faults.size && kind && faults.has(args[0])) {
        if (free) return undefined;
        throw new LstmError('ERR_ENGINE', `${name}: this ${kind} hit an engine fault earlier (${faults.get(args[0])}) and can no longer be used; create or load the model again`);
      }
      let result;
      try {
        result = fn(...args);
      } catch (err) {
        throw this.#fault(name, kind ? args[0] : 0, kind, err);
      }
      // lw_stream_create returns a status and writes the stream through its second argument
      if (name === 'lw_stream_create' && result === 0) this.#owners.set(this.readInt32(args[1], 1)[0], args[0]);
      else if (name === 'lw_stream_free') this.#owners.delete(args[0]);
      return result;
    };
    Object.defineProperty(guarded, 'name', { value: name });
    return guarded;
  }

  /** After a trap: the stack pointer back at the top, the handle (a stream's model, a model's streams) marked; the error to throw. */
  #fault(name, handle, kind, err) {
    this.#stackRestore(this.#stackTop);
    const what = `${name}: ${err?.message ?? err}`;
    if (handle) {
      const model = kind === 'stream' ? this.#owners.get(handle) : handle;
      this.#faults.set(handle, what);
      if (model) {
        this.#faults.set(model, what);
        for (const [stream, owner] of this.#owners) if (owner === model) this.#faults.set(stream, what);
      }
    }
    const error = new LstmError('ERR_ENGINE', `${name}: the engine hit a fault (${err?.message ?? err})${handle
      ? `; this ${kind} can no longer be used: create or load the model again (other models are unaffected)` : ''}`);
    error.cause = err;
    return error;
  }

  /** Throws ERR_ENGINE if a call on this model or stream handle trapped; model.js asks before each call. */
  usable(handle) {
    if (!this.#faults.size || !this.#faults.has(handle)) return;
    throw new LstmError('ERR_ENGINE', `this model hit an engine fault (${this.#faults.get(handle)}) and can no longer be used; create or load it again`);
  }

  /** True once a call on this handle trapped. */
  faulted(handle) {
    return this.#faults.has(handle);
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
    throw new LstmError(STATUS_CODES[status] ?? 'ERR_ENGINE', `${where}: ${detail}`);
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

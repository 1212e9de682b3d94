// The worker surface in one place: SURFACE says, for every method of Model,
// TextModel, Seq2Seq and a stream, how each argument travels (copied into fresh
// transferable buffers, nested sequences turned into the fast form, callbacks
// turned into progress messages, an AbortSignal forwarded) and how the result
// comes back; worker.js builds its proxy classes from it and worker-host.js
// serves it. Also Connection (one worker: calls out, answers and progress
// back), which a pool of workers can drive too. Internal to the package.
import { LstmError } from './errors.js';
import { prebundledUrl } from './engine.js';
import { fromOutputs, toSequences, toTargets } from './data.js';
import { DISPOSED } from './core.js'; // the main entry's words (model.js re-exports them)
import { REGRESSION } from './config.js'; // not through model.js: training.js reaches this file (pool.js), and bundlers warn of the cycle

/** Least time between two onBatchEnd messages; the last batch of each epoch is always sent. */
export const BATCH_INTERVAL_MS = 50;
/** How long dispose() waits for the worker to free its model before it ends the worker anyway. */
export const DISPOSE_GRACE_MS = 500;

// variables, so bundlers neither copy the host a second time nor stub Node's module
const HOST = './worker-host.js';
const NODE_THREADS = 'node:worker_threads';
const HERE = import.meta.url;
const WASM_FILES = ['lstm-simd.wasm', 'lstm.wasm'];

const isPlain = (v) => v !== null && typeof v === 'object' && [Object.prototype, null].includes(Object.getPrototypeOf(v));
const isView = (v) => ArrayBuffer.isView(v) && !(v instanceof DataView);

// ------------------------------------------------------------ argument codecs
// Each codec is { send(value, call) -> what travels, receive?(sent, serving) -> what the method gets }.
// `call` (this side): { transfer, config, seq, onProgress, signal }; `serving` (the worker's side):
// { id, post(kind, info), running, done } (worker-host.js).

/** A copy of value whose typed arrays and ArrayBuffers are fresh, their buffers listed in transfer. */
export function copy(value, transfer) {
  if (isView(value)) {
    const fresh = value.slice();
    transfer.push(fresh.buffer);
    return fresh;
  }
  if (value instanceof ArrayBuffer) {
    const fresh = value.slice(0);
    transfer.push(fresh);
    return fresh;
  }
  if (Array.isArray(value)) return value.some((v) => v !== null && typeof v === 'object') ? value.map((v) => copy(v, transfer)) : value;
  if (isPlain(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, copy(v, transfer)]));
  return value;
}

const COPY = { send: (v, call) => copy(v, call.transfer) };
/** Strings and numbers (text, prompt, length): structured clone copies them anyway. */
const AS_IS = { send: (v) => v };

/**
 * Nested sequences become the fast form here, so they cross as one buffer;
 * anything else is copied. Input the main entry would reject is sent as it
 * is, so the worker reports it in the same words and order. call.seq keeps
 * the shape and lengths, for the targets and for predict's nested result.
 */
function sequences(name) {
  return {
    send(inputs, call) {
      call.seq = null;
      if (Array.isArray(inputs)) {
        try {
          const { data, shape, lengths } = toSequences(inputs, { name, inputSize: call.config.inputSize });
          call.transfer.push(data.buffer); // lengths are copied: predict() needs them here afterwards
          call.seq = { shape, lengths };
          return { data, shape, lengths };
        } catch {
          // sent as it is: the worker names the problem
        }
      }
      return copy(inputs, call.transfer);
    },
  };
}
const INPUTS = sequences('inputs');

/** Nested targets for sequences the INPUTS codec turned into the fast form become the fast form too. */
const TARGETS = {
  send(value, call) {
    const { config, seq } = call, O = config.outputSize, perStep = config.returnSequences;
    if (seq && O > 0 && Array.isArray(value)) {
      const [B, T] = seq.shape;
      try {
        const { data } = toTargets(value, { name: 'targets', batch: B, lengths: seq.lengths, steps: T, outputSize: O, perStep,
          classes: !REGRESSION.has(config.loss) });
        call.transfer.push(data.buffer);
        return { data, shape: perStep ? [B, T, O] : [B, O] };
      } catch {
        // sent as it is: the worker names the problem
      }
    }
    return copy(value, call.transfer);
  },
};

/** forward()'s x: time-major input is copied as it is (it is already the fast form), batch-first as INPUTS. */
const FORWARD_X = {
  send: (x, call) => (isPlain(call.args[1]) && call.args[1].timeMajor ? copy(x, call.transfer) : sequences('x').send(x, call)),
};

/**
 * train()'s options: the callbacks and the AbortSignal stay here; `hooks`
 * says which the worker should stand in for. Values the main entry would
 * reject (onEpochEnd: 5) are sent so the worker rejects them.
 */
const TRAIN_OPTIONS = {
  send(options = {}, call) {
    if (!isPlain(options)) return { options: copy(options, call.transfer), hooks: null };
    const { onEpochEnd, onBatchEnd, signal, ...rest } = options;
    const hooks = {
      epoch: typeof onEpochEnd === 'function',
      batch: typeof onBatchEnd === 'function',
      signal: typeof signal?.aborted === 'boolean' && typeof signal.addEventListener === 'function',
    };
    hooks.aborted = hooks.signal && signal.aborted;
    const sent = copy(rest, call.transfer);
    if (!hooks.epoch && onEpochEnd !== undefined) sent.onEpochEnd = onEpochEnd;
    if (!hooks.batch && onBatchEnd !== undefined) sent.onBatchEnd = onBatchEnd;
    if (!hooks.signal && signal !== undefined) sent.signal = signal;
    call.onProgress = (kind, info) => (kind === 'epoch' ? onEpochEnd : onBatchEnd)(info);
    if (hooks.signal) call.signal = signal;
    return { options: sent, hooks };
  },

  /** In the worker: the options with callbacks that post progress and a signal that { abort: id }, dispose() and a throwing callback reach. */
  receive({ options, hooks }, serving) {
    const controller = new AbortController();
    serving.running.set(serving.id, controller);
    let last = -Infinity, held = null;
    const flush = () => {
      if (held) serving.post('batch', held);
      held = null;
    };
    serving.done.push(() => {
      serving.running.delete(serving.id);
      flush();
    });
    if (!hooks) return options; // options the caller could not read: train() reports them
    if (hooks.aborted) controller.abort();
    const local = { ...options };
    // a bad `signal` stays for train() to report
    if (hooks.signal || local.signal === undefined) local.signal = controller.signal;
    if (hooks.batch) {
      local.onBatchEnd = (info) => {
        const now = performance.now();
        if (now - last < BATCH_INTERVAL_MS) return void (held = info);
        last = now, held = null;
        serving.post('batch', info);
      };
    }
    if (hooks.batch || hooks.epoch) {
      local.onEpochEnd = (info) => {
        flush();
        if (hooks.epoch) serving.post('epoch', info);
      };
    }
    return local;
  },
};

/**
 * The options of Model.create and the other constructors: locateWasm is asked
 * here, for both builds, and its URLs sent; in the worker a locateWasm that
 * answers with them stands in.
 */
const OPEN_OPTIONS = {
  send(options) {
    if (typeof options?.locateWasm !== 'function') return { options, wasm: null };
    const { locateWasm, ...rest } = options;
    const base = globalThis.location?.href; // a worker would resolve relative URLs against its own script
    const wasm = Object.fromEntries(WASM_FILES.map((file) => {
      const url = String(locateWasm(file));
      return [file, base ? new URL(url, base).href : url];
    }));
    return { options: rest, wasm };
  },
  receive: ({ options, wasm }) => (wasm ? { ...options, locateWasm: (file) => wasm[file] } : options),
};

/** summary()'s options: `print` stays here and is called with the lines that come back (PRINTED). */
const SUMMARY_OPTIONS = {
  send(options, call) {
    if (!isPlain(options) || typeof options.print !== 'function') return copy(options, call.transfer);
    const { print, ...rest } = options;
    call.print = print;
    return rest;
  },
};

// ------------------------------------------------------------ result codecs
// { serve?(value, serving) -> what travels back, take?(received, call, state) -> what the caller gets }

/** trace() rows (the gates the cell has, c, h), T arrays of H numbers each, packed as one Float64Array per entry (lossless) to travel as a buffer. */
const TRACE = {
  serve: (entries) => entries.map(({ layer, direction, ...rows }) => {
    const keys = Object.keys(rows);
    const T = rows.h.length, H = T ? rows.h[0].length : 0;
    const data = new Float64Array(keys.length * T * H);
    keys.forEach((k, r) => rows[k].forEach((row, t) => data.set(row, (r * T + t) * H)));
    return { layer, direction, keys, T, H, data };
  }),
  take: (packed) => packed.map(({ layer, direction, keys, T, H, data }) => {
    const entry = { layer, direction };
    keys.forEach((k, r) => {
      entry[k] = Array.from({ length: T }, (_, t) => Array.from(data.subarray((r * T + t) * H, (r * T + t + 1) * H)));
    });
    return entry;
  }),
};

/** Nested inputs went over in the fast form: nested outputs come back, as Model#predict gives them. */
const PREDICTION = {
  take(out, call) {
    if (!call.seq) return out;
    const c = call.config, [B, T] = call.seq.shape;
    return fromOutputs(out.data, { batch: B, steps: T, outputSize: c.outputSize, lengths: call.seq.lengths,
      perStep: c.returnSequences, scalar: c.outputSize === 1 });
  },
};

/** summary()'s text, printed here line by line when the caller gave `print`. */
const PRINTED = {
  take(text, call) {
    if (call.print) for (const line of text.split('\n')) call.print(line);
    return text;
  },
};

/** A stream stays in the worker under an id; the caller gets a proxy for it (state.stream). */
const STREAM = {
  serve: (stream, serving) => serving.keep(stream),
  take: (id, call, state) => state.stream(id),
};

/** TextModel#train: the vocabulary it learned comes back with the history. */
const LEARNED = {
  serve: (history, serving) => ({ history, vocabulary: serving.subject.vocabulary }),
  take: ({ history, vocabulary }, call, state) => {
    state.vocabulary = vocabulary;
    return history;
  },
};

/** Seq2Seq#train: the configuration and vocabularies (learnt at a first train) come back with the history. */
const SEQ2SEQ_LEARNED = {
  serve: (history, serving) => ({ history, config: serving.subject.config, vocabularies: serving.subject.vocabularies }),
  take: ({ history, config, vocabularies }, call, state) => {
    state.config = config, state.vocabularies = vocabularies;
    return history;
  },
};

/**
 * Every method the worker entry has, by class: `args` the codecs of its
 * arguments in order, `result` the result's codec, `as` the method it is
 * another name for. dispose() is Connection's (below), not a table entry.
 */
export const SURFACE = {
  Model: {
    train: { args: [INPUTS, TARGETS, TRAIN_OPTIONS] },
    fit: { as: 'train' },
    predict: { args: [INPUTS, COPY], result: PREDICTION },
    evaluate: { args: [INPUTS, TARGETS] },
    gradients: { args: [INPUTS, TARGETS] },
    forward: { args: [FORWARD_X, COPY] },
    backward: { args: [COPY, COPY] },
    parameters: { args: [] },
    parameterShapes: { args: [] },
    countParams: { args: [] },
    summary: { args: [SUMMARY_OPTIONS], result: PRINTED },
    setParameters: { args: [COPY] },
    save: { args: [COPY] },
    toSafetensors: { args: [] },
    toONNX: { args: [] },
    toKeras: { args: [] },
    stream: { args: [COPY], result: STREAM },
    trace: { args: [COPY], result: TRACE },
    forecast: { args: [COPY, COPY] },
  },
  TextModel: {
    train: { args: [AS_IS, TRAIN_OPTIONS], result: LEARNED },
    trace: { args: [AS_IS], result: TRACE },
    generate: { args: [AS_IS, AS_IS, AS_IS] },
    evaluate: { args: [COPY] },
    save: { args: [COPY] },
    toSafetensors: { args: [] },
  },
  Seq2Seq: {
    train: { args: [COPY, COPY, TRAIN_OPTIONS], result: SEQ2SEQ_LEARNED },
    translate: { args: [COPY, COPY] },
    attention: { args: [COPY, COPY] },
    evaluate: { args: [COPY, COPY] },
    gradients: { args: [COPY, COPY] },
    parameters: { args: [] },
    parameterShapes: { args: [] },
    setParameters: { args: [COPY] },
    save: { args: [] },
    toSafetensors: { args: [] },
  },
  Stream: {
    step: { args: [COPY] },
    reset: { args: [] },
  },
};

/** The constructors, each starting a worker: `Model.create` and so on; the last argument holds the engine options. */
export const OPENERS = {
  Model: {
    create: { args: [OPEN_OPTIONS] },
    load: { args: [COPY, OPEN_OPTIONS] },
    fromPyTorch: { args: [COPY, OPEN_OPTIONS] },
    fromONNX: { args: [COPY, OPEN_OPTIONS] },
    fromKeras: { args: [COPY, COPY, OPEN_OPTIONS] },
  },
  TextModel: {
    create: { args: [OPEN_OPTIONS] },
    load: { args: [COPY, OPEN_OPTIONS] },
  },
  Seq2Seq: {
    create: { args: [OPEN_OPTIONS] },
    load: { args: [COPY, OPEN_OPTIONS] },
    fromPyTorch: { args: [COPY, OPEN_OPTIONS] },
  },
};

/**
 * This side of a call: the arguments as they travel, and what
 * Connection#call needs (transfer list, progress handler, signal).
 * @returns {{ args: unknown[], call: object }}
 */
export function encode(spec, args, config) {
  const call = { transfer: [], config, seq: null, onProgress: undefined, signal: undefined, args };
  return { args: spec.args.map((codec, k) => codec.send(args[k], call)), call };
}

/** The result as the caller gets it. */
export function decode(spec, result, call, state) {
  return spec.result?.take ? spec.result.take(result, call, state) : result;
}

/** The worker's side: runs spec on target with the received arguments, and the result as it travels back. */
export async function serve(spec, target, method, args, serving) {
  const local = spec.args.map((codec, k) => (codec.receive ? codec.receive(args[k], serving) : args[k]));
  try {
    const value = await target[method](...local);
    return spec.result?.serve ? spec.result.serve(value, serving) : value;
  } finally {
    for (const done of serving.done) done();
  }
}

/** The buffers of the typed arrays in a result, each sent once; a view on part of a buffer is copied first. */
export function transferable(value, list) {
  if (isView(value)) {
    const whole = value.byteOffset === 0 && value.byteLength === value.buffer.byteLength && value.buffer instanceof ArrayBuffer;
    const own = whole ? value : value.slice();
    if (!list.includes(own.buffer)) list.push(own.buffer);
    return own;
  }
  if (Array.isArray(value)) {
    for (let k = 0; k < value.length; k++) if (value[k] && typeof value[k] === 'object') value[k] = transferable(value[k], list);
  } else if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    for (const key of Object.keys(value)) value[key] = transferable(value[key], list);
  }
  return value;
}

// ------------------------------------------------------------ one worker

/** A dedicated worker running worker-host.js; the Web Worker line is written out in full so Vite and webpack bundle it. */
export async function spawn() {
  try {
    if (typeof Worker === 'function') {
      const prebundled = prebundledUrl('worker-host.js'); // Vite's dev server (engine.js)
      if (prebundled) return new Worker(prebundled, { type: 'module' });
      return new Worker(new URL('./worker-host.js', import.meta.url), { type: 'module' });
    }
    const threads = await import(/* @vite-ignore */ /* webpackIgnore: true */ NODE_THREADS);
    // a thread inherits Node's flags, but --input-type (node --input-type=module -e ...) stops it loading a file;
    // globalThis.process, or Parcel installs a `process` polyfill into the user's project
    const execArgv = globalThis.process.execArgv.filter((arg) => !arg.startsWith('--input-type'));
    // HERE, not import.meta.url: webpack would take new URL(HOST, import.meta.url) for a dependency it cannot resolve
    return new threads.Worker(new URL(HOST, HERE), { execArgv });
  } catch (err) {
    throw new LstmError('ERR_ENGINE', `could not start a worker: ${err.message}`);
  }
}

/** The worker's error as the same class, code and message. */
function revive({ name, code, message }) {
  if (name === 'LstmError') return new LstmError(code, message);
  const Type = [TypeError, RangeError, SyntaxError, ReferenceError].find((T) => T.name === name) ?? Error;
  const err = new Type(message);
  if (code !== undefined) err.code = code;
  return err;
}

/**
 * Requests and answers over one worker: { id, method, args } out, { id,
 * result | error | progress } back. When the worker fails or exits, every
 * pending call and every later one rejects: no promise outlives the worker.
 */
export class Connection {
  #worker;
  #pending = new Map(); // id -> { resolve, reject, onProgress, failure, cleanup }
  #nextId = 1;
  #closed = null; // () => the error calls reject with once the worker is gone or going
  #disposed = null; // promise of dispose()

  constructor(worker) {
    this.#worker = worker;
    if (worker.on) { // Node worker_threads
      worker.on('message', (m) => this.#receive(m));
      worker.on('error', (err) => this.#crash(`it threw ${err?.message ?? err}`));
      worker.on('messageerror', (err) => this.#crash(`a message from it could not be read (${err?.message})`));
      worker.on('exit', (code) => this.#crash(`it exited with code ${code}`));
      worker.unref(); // an idle model does not keep Node running; a pending call does (#ref)
    } else {
      worker.addEventListener('message', (e) => this.#receive(e.data));
      worker.addEventListener('error', (e) => {
        e.preventDefault?.();
        // no message: its script did not load, as when esbuild or Rollup left worker-host.js out
        this.#crash(e.message ? `it threw ${e.message}` : "it failed to load or threw (is worker-host.js next to the bundle? esbuild and Rollup need lstm-wasm/worker-host.js as a second entry point: README, \"Install and bundlers\")");
      });
      worker.addEventListener('messageerror', () => this.#crash('a message from it could not be read'));
    }
  }

  get worker() {
    return this.#worker;
  }

  get disposed() {
    return this.#disposed !== null;
  }

  /** True once the worker is gone or going (disposed or crashed). */
  get closed() {
    return this.#closed !== null;
  }

  /**
   * Calls `method` in the worker. onProgress(kind, info) hears its progress
   * messages; if it throws, the call is aborted and rejects with that error.
   * An AbortSignal's abort is sent on as { abort: id }.
   */
  call(method, args = [], { transfer = [], onProgress, signal } = {}) {
    if (this.#closed) return Promise.reject(this.#closed());
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      try {
        this.#worker.postMessage({ id, method, args }, transfer);
      } catch (err) {
        reject(new LstmError('ERR_TYPE', `${method}: its arguments cannot be sent to a worker (${err.message})`));
        return;
      }
      const call = { resolve, reject, onProgress, failure: null, cleanup: null };
      if (signal) {
        const abort = () => this.#post({ abort: id });
        signal.addEventListener('abort', abort, { once: true });
        call.cleanup = () => signal.removeEventListener('abort', abort);
      }
      this.#pending.set(id, call);
      this.#worker.ref?.();
    });
  }

  /** Calls what `spec` (a SURFACE or OPENERS entry) describes: encoded, sent, and decoded with `state`. */
  async invoke(method, spec, args, config, state) {
    const { args: sent, call } = encode(spec, args, config);
    const result = await this.call(method, sent, call);
    return decode(spec, result, call, state);
  }

  #post(message) {
    try {
      this.#worker.postMessage(message);
    } catch {
      // the worker is gone; #end has rejected or will reject its calls
    }
  }

  #receive({ id, result, error, progress, info }) {
    const call = this.#pending.get(id);
    if (!call) return;
    if (progress) {
      if (call.failure) return;
      const fail = (err) => {
        call.failure = err;
        this.#post({ abort: id });
      };
      try {
        // a callback's false (or a promise of it) stops the worker at its next batch, as an AbortSignal does
        const r = call.onProgress?.(progress, info);
        if (r === false) this.#post({ abort: id });
        else if (r && typeof r.then === 'function') r.then((v) => { if (v === false) this.#post({ abort: id }); }, fail);
      } catch (err) {
        fail(err);
      }
      return;
    }
    this.#settle(id);
    if (call.failure) call.reject(call.failure);
    else if (error) call.reject(revive(error));
    else call.resolve(result);
  }

  #settle(id) {
    this.#pending.get(id)?.cleanup?.();
    this.#pending.delete(id);
    if (!this.#pending.size) this.#worker.unref?.();
  }

  /** Asks the worker to stop every running train() at its next batch (model.stopTraining = true). */
  abortAll() {
    for (const id of this.#pending.keys()) this.#post({ abort: id });
  }

  /** Rejects every pending call with closed() and ends the worker. */
  async #end(closed) {
    this.#closed = closed;
    for (const [id, call] of this.#pending) {
      this.#settle(id);
      call.reject(closed());
    }
    await this.#worker.terminate();
  }

  #crash(reason) {
    if (this.#closed) return;
    this.#end(() => new LstmError('ERR_ENGINE', `the worker running this model stopped: ${reason}; create or load the model again`));
  }

  /**
   * Frees the model in the worker, then ends the worker; later calls reject
   * with ERR_DISPOSED. A worker that does not answer within
   * DISPOSE_GRACE_MS (busy in a long call that never yields, or stuck) is
   * ended all the same, and its pending calls reject with ERR_DISPOSED.
   */
  dispose(message = DISPOSED) {
    if (!this.#disposed) {
      const freed = this.#closed ? Promise.resolve() : this.call('dispose').catch(() => {}); // a crashed worker has nothing to free
      const disposed = () => new LstmError('ERR_DISPOSED', message);
      this.#closed = disposed;
      let timer;
      const grace = new Promise((resolve) => { timer = setTimeout(resolve, DISPOSE_GRACE_MS); });
      this.#disposed = Promise.race([freed, grace]).then(() => {
        clearTimeout(timer);
        return this.#end(disposed);
      }).then(() => undefined);
    }
    return this.#disposed;
  }
}

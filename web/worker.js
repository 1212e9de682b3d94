// lstm-wasm/worker: the main entry's API (index.js) with every method async,
// each model in its own dedicated Web Worker (browsers) or worker thread
// (Node), so a page stays responsive while it trains. worker-host.js is the
// other side. Data and weights cross as fresh transferable buffers (the
// caller's own arrays are never detached) and results come back the same way.
// Left out: the `engine` option, since an engine instance cannot cross threads.
import { LstmError } from './errors.js';
import { fromOutputs, toSequences, toTargets } from './data.js';
import { DISPOSED, REGRESSION, STREAM_DISPOSED } from './model.js'; // the main entry's words and losses

export { LstmError, ERROR_CODES, features, windows } from './index.js';

/** @internal the Worker behind a model (tests end it to play a crash). */
export const WORKER = Symbol('worker');

// variables, so bundlers neither copy the host a second time nor stub Node's module
const HOST = './worker-host.js';
const NODE_THREADS = 'node:worker_threads';
const WASM_FILES = ['lstm-simd.wasm', 'lstm.wasm'];

const isPlain = (v) => v !== null && typeof v === 'object' && [Object.prototype, null].includes(Object.getPrototypeOf(v));
const isView = (v) => ArrayBuffer.isView(v) && !(v instanceof DataView);

/** A dedicated worker running worker-host.js; the Web Worker line is written out in full so Vite and webpack bundle it. */
async function spawn() {
  try {
    if (typeof Worker === 'function') return new Worker(new URL('./worker-host.js', import.meta.url), { type: 'module' });
    const threads = await import(/* @vite-ignore */ /* webpackIgnore: true */ NODE_THREADS);
    // a thread inherits Node's flags, but --input-type (node --input-type=module -e ...) stops it loading a file
    const execArgv = process.execArgv.filter((arg) => !arg.startsWith('--input-type'));
    return new threads.Worker(new URL(HOST, import.meta.url), { execArgv });
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
class Connection {
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
        this.#crash(e.message ? `it threw ${e.message}` : 'it failed to load or threw');
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
      try {
        call.onProgress?.(progress, info);
      } catch (err) {
        call.failure = err;
        this.#post({ abort: id });
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

  /** Frees the model in the worker, then ends the worker; later calls reject with ERR_DISPOSED. */
  dispose() {
    if (!this.#disposed) {
      const freed = this.#closed ? Promise.resolve() : this.call('dispose').catch(() => {}); // a crashed worker has nothing to free
      const disposed = () => new LstmError('ERR_DISPOSED', DISPOSED);
      this.#closed = disposed;
      this.#disposed = freed.then(() => this.#end(disposed)).then(() => undefined);
    }
    return this.#disposed;
  }
}

/** A copy of value whose typed arrays and ArrayBuffers are fresh, their buffers listed in transfer. */
function copy(value, transfer) {
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

/**
 * Nested sequences become the fast form here, so they cross as one buffer;
 * anything else is copied. Input the main entry would reject is sent as it
 * is, so the worker reports it in the same words and order.
 * @returns {{ value: unknown, seq: { shape: number[], lengths: Int32Array } | null }}
 */
function sequences(inputs, name, inputSize, transfer) {
  if (Array.isArray(inputs)) {
    try {
      const { data, shape, lengths } = toSequences(inputs, { name, inputSize });
      transfer.push(data.buffer); // lengths are copied: predict() needs them here afterwards
      return { value: { data, shape, lengths }, seq: { shape, lengths } };
    } catch {
      // sent as it is: the worker names the problem
    }
  }
  return { value: copy(inputs, transfer), seq: null };
}

/** Nested targets for sequences made by sequences() become the fast form too. */
function targets(value, seq, config, transfer) {
  const O = config.outputSize, perStep = config.returnSequences;
  if (seq && O > 0 && Array.isArray(value)) {
    const [B, T] = seq.shape;
    try {
      const { data } = toTargets(value, { name: 'targets', batch: B, lengths: seq.lengths, steps: T, outputSize: O, perStep,
        classes: !REGRESSION.has(config.loss) });
      transfer.push(data.buffer);
      return { data, shape: perStep ? [B, T, O] : [B, O] };
    } catch {
      // sent as it is: the worker names the problem
    }
  }
  return copy(value, transfer);
}

/**
 * train()'s options for the worker: the callbacks and the AbortSignal stay
 * here; `hooks` says which the worker should stand in for. Values the main
 * entry would reject (onEpochEnd: 5) are sent so the worker rejects them.
 */
function trainOptions(options, transfer) {
  if (!isPlain(options)) return { sent: copy(options, transfer), hooks: null, extra: {} };
  const { onEpochEnd, onBatchEnd, signal, ...rest } = options;
  const hooks = {
    epoch: typeof onEpochEnd === 'function',
    batch: typeof onBatchEnd === 'function',
    signal: typeof signal?.aborted === 'boolean' && typeof signal.addEventListener === 'function',
  };
  hooks.aborted = hooks.signal && signal.aborted;
  const sent = copy(rest, transfer);
  if (!hooks.epoch && onEpochEnd !== undefined) sent.onEpochEnd = onEpochEnd;
  if (!hooks.batch && onBatchEnd !== undefined) sent.onBatchEnd = onBatchEnd;
  if (!hooks.signal && signal !== undefined) sent.signal = signal;
  const onProgress = (kind, info) => (kind === 'epoch' ? onEpochEnd : onBatchEnd)(info);
  return { sent, hooks, extra: { onProgress, transfer, signal: hooks.signal ? signal : undefined } };
}

/** Starts a worker and makes the model in it; locateWasm is asked here, for both builds, and its URLs sent. */
async function open(Proxy, method, args) {
  const transfer = [];
  const options = args.at(-1);
  let sent = options, wasm = null;
  if (typeof options?.locateWasm === 'function') {
    const { locateWasm, ...rest } = options;
    const base = globalThis.location?.href; // a worker would resolve relative URLs against its own script
    wasm = Object.fromEntries(WASM_FILES.map((file) => {
      const url = String(locateWasm(file));
      return [file, base ? new URL(url, base).href : url];
    }));
    sent = rest;
  }
  const conn = new Connection(await spawn());
  try {
    const info = await conn.call(method, [...copy(args.slice(0, -1), transfer), copy(sent, transfer), wasm], { transfer });
    return new Proxy(conn, info, CONSTRUCT);
  } catch (err) {
    await conn.dispose();
    throw err;
  }
}

/** Stateful step-by-step inference in the worker: `await s.step(x)`, `await s.reset()`, `await s.dispose()`. */
class Stream {
  #conn;
  #id;
  #alive = true;

  constructor(conn, id) {
    this.#conn = conn;
    this.#id = id;
  }

  #call(method, args = [], transfer = []) {
    if (!this.#alive || this.#conn.disposed) return Promise.reject(new LstmError('ERR_DISPOSED', STREAM_DISPOSED));
    return this.#conn.call(method, [this.#id, ...args], { transfer });
  }

  /** Feeds one step (a number, or inputSize numbers); resolves to the output after it. */
  step(x) {
    const transfer = [];
    return this.#call('stream.step', [copy(x, transfer)], transfer);
  }

  /** Zeroes the state. */
  reset() {
    return this.#call('stream.reset');
  }

  /** Frees the stream; disposing the model frees its streams too. */
  async dispose() {
    if (!this.#alive || this.#conn.closed) return;
    this.#alive = false;
    await this.#conn.call('stream.dispose', [this.#id]);
  }
}

export class Model {
  #conn;
  #config;
  #engine;

  /** Use Model.create, Model.load or Model.fromPyTorch. */
  constructor(conn, info, token) {
    if (token !== CONSTRUCT) throw new LstmError('ERR_TYPE', 'use Model.create(options), not new Model()');
    this.#conn = conn;
    this.#config = info.config;
    this.#engine = info.engine;
  }

  /** A model with freshly initialised weights, in a new worker; options as in the main entry. */
  static create(options) {
    return open(Model, 'Model.create', [options]);
  }

  /** A model from save()'s bytes, in a new worker. */
  static load(bytes, options) {
    return open(Model, 'Model.load', [bytes, options]);
  }

  /** A model from a PyTorch state dict (safetensors bytes or { name: { shape, data } }), in a new worker. */
  static fromPyTorch(stateDict, options) {
    return open(Model, 'Model.fromPyTorch', [stateDict, options]);
  }

  /** The configuration (a copy); throws ERR_DISPOSED once disposed, as in the main entry. */
  get config() {
    if (this.#conn.disposed) throw new LstmError('ERR_DISPOSED', DISPOSED);
    return structuredClone(this.#config);
  }

  /** The engine the worker runs: { simd, version, variant }. */
  get engine() {
    return { ...this.#engine };
  }

  /** @internal */
  get [WORKER]() {
    return this.#conn.worker;
  }

  #call(method, args = [], options = {}) {
    return this.#conn.call(method, args, options);
  }

  /**
   * Trains in the worker; resolves to the history. onEpochEnd and onBatchEnd
   * run here, from the worker's messages; onBatchEnd at most every 50 ms,
   * plus always the last batch of each epoch. An AbortSignal's abort reaches
   * the worker, which stops at the next batch and resolves { stopped: true }.
   */
  train(inputs, targets, options = {}) {
    const transfer = [];
    const x = sequences(inputs, 'inputs', this.#config.inputSize, transfer);
    const y = this.#targets(targets, x.seq, transfer);
    const { sent, hooks, extra } = trainOptions(options, transfer);
    return this.#call('train', [x.value, y, sent, hooks], { ...extra, transfer });
  }

  /** Same as train(), for Keras and TF.js habits. */
  fit(inputs, targets, options) {
    return this.train(inputs, targets, options);
  }

  #targets(value, seq, transfer) {
    return targets(value, seq, this.#config, transfer);
  }

  /** Outputs for a batch, in the inputs' own conventions, as the main entry's predict(). */
  async predict(inputs, options) {
    const transfer = [];
    const x = sequences(inputs, 'inputs', this.#config.inputSize, transfer);
    const out = await this.#call('predict', [x.value, copy(options, transfer)], { transfer });
    if (!x.seq) return out;
    // nested inputs went over in the fast form: give nested outputs back, as Model#predict does
    const c = this.#config, [B, T] = x.seq.shape;
    return fromOutputs(out.data, { batch: B, steps: T, outputSize: c.outputSize, lengths: x.seq.lengths,
      perStep: c.returnSequences, scalar: c.outputSize === 1 && REGRESSION.has(c.loss) });
  }

  /** { loss, accuracy? | mse, mae }. */
  evaluate(inputs, targets) {
    const transfer = [];
    const x = sequences(inputs, 'inputs', this.#config.inputSize, transfer);
    return this.#call('evaluate', [x.value, this.#targets(targets, x.seq, transfer)], { transfer });
  }

  /** { loss, grads } without changing the model. */
  gradients(inputs, targets) {
    const transfer = [];
    const x = sequences(inputs, 'inputs', this.#config.inputSize, transfer);
    return this.#call('gradients', [x.value, this.#targets(targets, x.seq, transfer)], { transfer });
  }

  /** The recurrent stack alone: { output, h, c }. */
  forward(x, options) {
    const transfer = [];
    const timeMajor = isPlain(options) && options.timeMajor;
    const sent = timeMajor ? copy(x, transfer) : sequences(x, 'x', this.#config.inputSize, transfer).value;
    return this.#call('forward', [sent, copy(options, transfer)], { transfer });
  }

  /** BPTT from the last forward(): { dx, dh0, dc0, grads }. */
  backward(dOutput, options) {
    const transfer = [];
    return this.#call('backward', [copy(dOutput, transfer), copy(options, transfer)], { transfer });
  }

  /** The parameters by PyTorch name, as Float32Arrays of their own. */
  parameters() {
    return this.#call('parameters');
  }

  parameterShapes() {
    return this.#call('parameterShapes');
  }

  setParameters(values) {
    const transfer = [];
    return this.#call('setParameters', [copy(values, transfer)], { transfer });
  }

  /** The model file's bytes (format.js). */
  save() {
    return this.#call('save');
  }

  toSafetensors() {
    return this.#call('toSafetensors');
  }

  /** A stream in the worker: `const s = await model.stream(); await s.step(x)`. */
  async stream(options) {
    return new Stream(this.#conn, await this.#call('stream', [options]));
  }

  /** Per layer and direction: the gates the cell has (i, f, g, o / r, z, n), c and h, each T rows of H numbers. */
  async trace(sequence) {
    const transfer = [];
    return unpackTrace(await this.#call('trace', [copy(sequence, transfer)], { transfer }));
  }

  /** The series continued by `steps` values, in its own units. */
  forecast(series, steps) {
    const transfer = [];
    return this.#call('forecast', [copy(series, transfer), steps], { transfer });
  }

  /** Frees the model, then ends its worker; later calls reject with ERR_DISPOSED. */
  dispose() {
    return this.#conn.dispose();
  }
}

export class TextModel {
  #conn;
  #vocabulary;

  /** Use TextModel.create or TextModel.load. */
  constructor(conn, info, token) {
    if (token !== CONSTRUCT) throw new LstmError('ERR_TYPE', 'use TextModel.create(options)');
    this.#conn = conn;
    this.#vocabulary = info.vocabulary;
  }

  /** A character model in a new worker; options as in the main entry. */
  static create(options = {}) {
    return open(TextModel, 'TextModel.create', [options]);
  }

  static load(bytes, options) {
    return open(TextModel, 'TextModel.load', [bytes, options]);
  }

  /** The vocabulary, in index order, as of the last call that set it. */
  get vocabulary() {
    return this.#vocabulary ? this.#vocabulary.slice() : null;
  }

  /** @internal */
  get [WORKER]() {
    return this.#conn.worker;
  }

  /** Learns from a text or a list of strings; progress and abort as in Model#train. */
  async train(data, options = {}) {
    const transfer = [];
    const { sent, hooks, extra } = trainOptions(options, transfer);
    const { history, vocabulary } = await this.#conn.call('TextModel.train', [data, sent, hooks], { ...extra, transfer });
    this.#vocabulary = vocabulary;
    return history;
  }

  /** The gates and states at each character of `text` (see Model#trace). */
  async trace(text) {
    return unpackTrace(await this.#conn.call('trace', [text]));
  }

  /** Continues `prompt` by up to `length` characters, sampled with a seed. */
  generate(prompt, length, options) {
    return this.#conn.call('generate', [prompt, length, options]);
  }

  save() {
    return this.#conn.call('save');
  }

  toSafetensors() {
    return this.#conn.call('toSafetensors');
  }

  dispose() {
    return this.#conn.dispose();
  }
}

/** Inverse of worker-host.js packTrace. */
function unpackTrace(packed) {
  return packed.map(({ layer, direction, keys, T, H, data }) => {
    const entry = { layer, direction };
    keys.forEach((k, r) => {
      entry[k] = Array.from({ length: T }, (_, t) => Array.from(data.subarray((r * T + t) * H, (r * T + t + 1) * H)));
    });
    return entry;
  });
}

const CONSTRUCT = Symbol('construct');

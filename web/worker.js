// lstm-wasm/worker: the main entry's API (index.js) with every method async,
// each model in its own dedicated Web Worker (browsers) or worker thread
// (Node), so a page stays responsive while it trains. The methods are made
// from rpc.js's SURFACE table (how each argument and result travels);
// worker-host.js serves the same table on the other side. Data and weights
// cross as fresh transferable buffers (the caller's own arrays are never
// detached). Left out: the `engine` option (an engine cannot cross threads).
import { LstmError } from './errors.js';
import { DISPOSED, STREAM_DISPOSED } from './model.js'; // the main entry's words
import { Connection, OPENERS, SURFACE, spawn } from './rpc.js';
import { readSource } from './persist.js';

export { LstmError, ERROR_CODES, features, windows } from './index.js';

/** @internal the Worker behind a model (tests end it to play a crash). */
export const WORKER = Symbol('worker');

const CONSTRUCT = Symbol('construct');

/** Starts a worker and makes the model in it with `Model.create` (etc.); the proxy holds the connection. */
async function open(Proxy, kind, name, args) {
  // a URL, Response or Blob is read here (a Response cannot cross; a relative URL is this page's)
  if (name === 'load') args = [await readSource(args[0], `${kind}.load`), ...args.slice(1)];
  const conn = new Connection(await spawn());
  try {
    const info = await conn.invoke(`${kind}.${name}`, OPENERS[kind][name], args, null, null);
    return new Proxy(conn, info, CONSTRUCT);
  } catch (err) {
    await conn.dispose();
    throw err;
  }
}

/**
 * Puts on Class.prototype one async method per entry of `table`, each
 * calling `wire(name)` in the worker through invoke(self, name, spec, args);
 * static methods per OPENERS entry.
 */
function build(Class, kind, table, invoke) {
  for (const [name, entry] of Object.entries(table)) {
    const target = entry.as ?? name, spec = table[target];
    Object.defineProperty(Class.prototype, name, {
      value: { [name](...args) { return invoke(this, target, spec, args); } }[name],
      writable: true, configurable: true,
    });
  }
  for (const name of Object.keys(OPENERS[kind] ?? {})) {
    Object.defineProperty(Class, name, {
      value: { [name](...args) { return open(Class, kind, name, args); } }[name],
      writable: true, configurable: true,
    });
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

  static {
    build(Stream, 'Stream', SURFACE.Stream, (self, name, spec, args) => {
      if (!self.#alive || self.#conn.disposed) return Promise.reject(new LstmError('ERR_DISPOSED', STREAM_DISPOSED));
      return self.#conn.invoke(`stream.${name}`, { ...spec, args: [{ send: () => self.#id }, ...spec.args] }, [null, ...args], null, null);
    });
  }

  /** Frees the stream; disposing the model frees its streams too. */
  async dispose() {
    if (!this.#alive || this.#conn.closed) return;
    this.#alive = false;
    await this.#conn.call('stream.dispose', [this.#id]);
  }
}

/**
 * The main entry's Model, every method async (SURFACE.Model): create, load
 * and fromPyTorch start a worker; train's onEpochEnd and onBatchEnd run here,
 * from the worker's messages (onBatchEnd at most every 50 ms, plus always the
 * last batch of each epoch); an AbortSignal's abort reaches the worker, which
 * stops at the next batch and resolves { stopped: true }.
 */
export class Model {
  #conn;
  #state; // { config, engine, stream(id) }
  #stop = false;

  /** Use Model.create, Model.load or Model.fromPyTorch. */
  constructor(conn, info, token) {
    if (token !== CONSTRUCT) throw new LstmError('ERR_TYPE', 'use Model.create(options), not new Model()');
    this.#conn = conn;
    this.#state = { config: info.config, engine: info.engine, stream: (id) => new Stream(conn, id) };
  }

  static {
    build(Model, 'Model', SURFACE.Model, (self, name, spec, args) => {
      if (name === 'train') self.#stop = false;
      return self.#conn.invoke(name, spec, args, self.#state.config, self.#state);
    });
  }

  /** true stops a running train() at the worker's next batch (as an AbortSignal); each train() starts with it false. */
  get stopTraining() {
    return this.#stop;
  }

  set stopTraining(value) {
    this.#stop = Boolean(value);
    if (this.#stop) this.#conn.abortAll();
  }

  /** The configuration (a copy); throws ERR_DISPOSED once disposed, as in the main entry. */
  get config() {
    if (this.#conn.disposed) throw new LstmError('ERR_DISPOSED', DISPOSED);
    return structuredClone(this.#state.config);
  }

  /** The engine the worker runs: { simd, version, variant }. */
  get engine() {
    return { ...this.#state.engine };
  }

  /** @internal */
  get [WORKER]() {
    return this.#conn.worker;
  }

  /** Frees the model, then ends its worker (within DISPOSE_GRACE_MS if it is busy); later calls reject with ERR_DISPOSED. */
  dispose() {
    return this.#conn.dispose();
  }
}

/** The main entry's TextModel, every method async (SURFACE.TextModel); progress and abort as in Model#train. */
export class TextModel {
  #conn;
  #state; // { vocabulary }

  /** Use TextModel.create or TextModel.load. */
  constructor(conn, info, token) {
    if (token !== CONSTRUCT) throw new LstmError('ERR_TYPE', 'use TextModel.create(options)');
    this.#conn = conn;
    this.#state = { vocabulary: info.vocabulary };
  }

  static {
    build(TextModel, 'TextModel', SURFACE.TextModel, (self, name, spec, args) => self.#conn.invoke(name, spec, args, null, self.#state));
  }

  /** The vocabulary, in index order, as of the last call that set it. */
  get vocabulary() {
    return this.#state.vocabulary ? this.#state.vocabulary.slice() : null;
  }

  /** @internal */
  get [WORKER]() {
    return this.#conn.worker;
  }

  dispose() {
    return this.#conn.dispose();
  }
}

/**
 * The main entry's Seq2Seq, every method async (SURFACE.Seq2Seq): create,
 * load and fromPyTorch start a worker; train's callbacks and AbortSignal as
 * in Model#train.
 */
export class Seq2Seq {
  #conn;
  #state; // { config, vocabularies }

  /** Use Seq2Seq.create, Seq2Seq.load or Seq2Seq.fromPyTorch. */
  constructor(conn, info, token) {
    if (token !== CONSTRUCT) throw new LstmError('ERR_TYPE', 'use Seq2Seq.create(options), not new Seq2Seq()');
    this.#conn = conn;
    this.#state = { config: info.config, vocabularies: info.vocabularies };
  }

  static {
    build(Seq2Seq, 'Seq2Seq', SURFACE.Seq2Seq, (self, name, spec, args) => self.#conn.invoke(name, spec, args, self.#state.config, self.#state));
  }

  /** The configuration (a copy), as of the last create, load or train. */
  get config() {
    if (this.#conn.disposed) throw new LstmError('ERR_DISPOSED', 'this Seq2Seq was disposed; create or load a new one');
    return structuredClone(this.#state.config);
  }

  /** The vocabularies' user tokens { source, target }, as of the last create, load or train. */
  get vocabularies() {
    return structuredClone(this.#state.vocabularies);
  }

  /** @internal */
  get [WORKER]() {
    return this.#conn.worker;
  }

  /** Frees the model, then ends its worker. */
  dispose() {
    return this.#conn.dispose();
  }
}

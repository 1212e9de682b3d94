// The other side of lstm-wasm/worker (worker.js): the message loop inside a
// dedicated Web Worker or Node worker thread. It serves one Model or
// TextModel from index.js and answers { id, method, args } with { id, result }
// or { id, error: { name, code, message } }; a running train() also posts
// { id, progress, info }, and { abort: id } stops it between batches.
import { Model, TextModel } from './index.js';

/** Least time between two onBatchEnd messages; the last batch of each epoch is always sent. */
const BATCH_INTERVAL_MS = 50;

let port = null;
let subject = null; // the Model or TextModel this worker serves
const streams = new Map(); // stream id -> Model#stream() object
const running = new Map(); // call id -> AbortController of a running train()
const answering = new Map(); // call id -> promise of its answer being posted
let nextStream = 1;

/** Model.create and the other constructors' options, with a locateWasm that answers with URLs found by the caller. */
function withWasm(options, wasm) {
  return wasm ? { ...options, locateWasm: (file) => wasm[file] } : options;
}

function describe() {
  if (subject instanceof TextModel) return { vocabulary: subject.vocabulary };
  return { config: subject.config, engine: subject.engine };
}

async function open(made) {
  subject = await made;
  return describe();
}

/** train()'s options with the caller's callbacks and AbortSignal replaced by ones that live here. */
function trainOptions(id, options, hooks) {
  const controller = new AbortController();
  if (!hooks) return { local: options, controller, flush: () => {} }; // options the caller could not read: train() reports them
  if (hooks.aborted) controller.abort();
  let last = -Infinity, held = null;
  const send = (kind, info) => port.postMessage({ id, progress: kind, info });
  const flush = () => {
    if (held) send('batch', held);
    held = null;
  };
  const local = { ...options };
  // our signal serves the caller's, dispose() and a throwing callback; a bad `signal` stays for train() to report
  if (hooks.signal || local.signal === undefined) local.signal = controller.signal;
  if (hooks.batch) {
    local.onBatchEnd = (info) => {
      const now = performance.now();
      if (now - last < BATCH_INTERVAL_MS) return void (held = info);
      last = now, held = null;
      send('batch', info);
    };
  }
  if (hooks.batch || hooks.epoch) {
    local.onEpochEnd = (info) => {
      flush();
      if (hooks.epoch) send('epoch', info);
    };
  }
  return { local, controller, flush };
}

async function train(id, args, hooks, call) {
  const { local, controller, flush } = trainOptions(id, args.at(-1), hooks);
  running.set(id, controller);
  try {
    return await call([...args.slice(0, -1), local]);
  } finally {
    running.delete(id);
    flush();
  }
}

/** trace() rows (the gates the cell has, c, h), T arrays of H numbers each, packed as one Float64Array per entry (lossless) to travel as a buffer. */
function packTrace(entries) {
  return entries.map(({ layer, direction, ...rows }) => {
    const keys = Object.keys(rows);
    const T = rows.h.length, H = T ? rows.h[0].length : 0;
    const data = new Float64Array(keys.length * T * H);
    keys.forEach((k, r) => rows[k].forEach((row, t) => data.set(row, (r * T + t) * H)));
    return { layer, direction, keys, T, H, data };
  });
}

function stream(id) {
  const s = streams.get(id);
  if (!s) throw new Error(`no stream ${id}`); // the caller never sends an unknown id
  return s;
}

/** Methods the caller's proxies call; `this` is { id } of the call. */
const METHODS = {
  'Model.create': (options, wasm) => open(Model.create(withWasm(options, wasm))),
  'Model.load': (bytes, options, wasm) => open(Model.load(bytes, withWasm(options, wasm))),
  'Model.fromPyTorch': (dict, options, wasm) => open(Model.fromPyTorch(dict, withWasm(options, wasm))),
  'TextModel.create': (options, wasm) => open(TextModel.create(withWasm(options, wasm))),
  'TextModel.load': (bytes, options, wasm) => open(TextModel.load(bytes, withWasm(options, wasm))),

  train(inputs, targets, options, hooks) {
    return train(this.id, [inputs, targets, options], hooks, (a) => subject.train(...a));
  },
  async 'TextModel.train'(data, options, hooks) {
    const history = await train(this.id, [data, options], hooks, (a) => subject.train(...a));
    return { history, vocabulary: subject.vocabulary };
  },
  predict: (...args) => subject.predict(...args),
  evaluate: (...args) => subject.evaluate(...args),
  gradients: (...args) => subject.gradients(...args),
  forward: (...args) => subject.forward(...args),
  backward: (...args) => subject.backward(...args),
  parameters: () => subject.parameters(),
  parameterShapes: () => subject.parameterShapes(),
  setParameters: (values) => subject.setParameters(values),
  save: () => subject.save(),
  toSafetensors: () => subject.toSafetensors(),
  trace: (sequence) => packTrace(subject.trace(sequence)),
  forecast: (series, steps) => subject.forecast(series, steps),
  generate: (...args) => subject.generate(...args),

  stream(options) {
    const s = subject.stream(options);
    streams.set(nextStream, s);
    return nextStream++;
  },
  'stream.step': (id, x) => stream(id).step(x),
  'stream.reset': (id) => stream(id).reset(),
  'stream.dispose': (id) => {
    stream(id).dispose();
    streams.delete(id);
  },

  /** Stops every running train() (they resolve with stopped: true), then frees the model. */
  async dispose() {
    for (const controller of running.values()) controller.abort();
    // answer every earlier call first, so none is cut off when the caller ends this worker
    await Promise.all([...answering].filter(([id]) => id !== this.id).map(([, answered]) => answered));
    subject?.dispose();
    streams.clear();
  },
};

/** The buffers of the typed arrays in a result, each sent once; a view on part of a buffer is copied first. */
function transferable(value, list) {
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
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

async function handle(message) {
  if (message.abort !== undefined) return void running.get(message.abort)?.abort();
  const { id, method, args } = message;
  try {
    const fn = Object.hasOwn(METHODS, method) ? METHODS[method] : null;
    if (!fn) throw new Error(`lstm-wasm worker: unknown method '${method}'`);
    const list = [];
    const result = transferable(await fn.apply({ id }, args), list);
    port.postMessage({ id, result }, list);
  } catch (err) {
    const error = { name: err?.name ?? 'Error', code: err?.code, message: err?.message ?? String(err) };
    port.postMessage({ id, error });
  }
}

function receive(message) {
  const answered = handle(message);
  if (message.id === undefined) return;
  answering.set(message.id, answered);
  answered.then(() => answering.delete(message.id));
}

function listen(target) {
  port = target;
  if (port.on) port.on('message', receive);
  else port.addEventListener('message', (event) => receive(event.data));
}

// A Web Worker hears on its global scope; a Node worker thread on parentPort,
// which queues messages until this listener is attached. The module name is a
// variable so bundlers leave the import alone: Vite's default (iife) worker
// build fails on a dynamic import it would split into a chunk.
const NODE_THREADS = 'node:worker_threads';
if (typeof WorkerGlobalScope !== 'undefined') listen(globalThis);
else import(/* @vite-ignore */ /* webpackIgnore: true */ NODE_THREADS).then(({ parentPort }) => listen(parentPort));

// The other side of lstm-wasm/worker (worker.js): the message loop inside a
// dedicated Web Worker or Node worker thread. It serves one Model,
// TextModel or Seq2Seq from index.js through rpc.js's table, answering { id, method,
// args } with { id, result } or { id, error: { name, code, message } }; a
// running train() also posts { id, progress, info }, and { abort: id } stops
// it between batches. A worker of a training pool (pool.js) serves the
// 'replica.*' methods of replica.js instead of a model.
import { Model, TextModel, Seq2Seq } from './index.js';
import { OPENERS, SURFACE, serve, transferable } from './rpc.js';
import { REPLICA_METHODS } from './replica.js';

const CLASSES = { Model, TextModel, Seq2Seq };

let port = null;
let subject = null; // the Model or TextModel this worker serves
const streams = new Map(); // stream id -> Model#stream() object
const running = new Map(); // call id -> AbortController of a running train()
const answering = new Map(); // call id -> promise of its answer being posted
let nextStream = 1;
let extra = {}; // tests only: methods a hook module adds (see the end of this file)

function describe() {
  if (subject instanceof TextModel) return { vocabulary: subject.vocabulary };
  if (subject instanceof Seq2Seq) return { config: subject.config, vocabularies: subject.vocabularies };
  return { config: subject.config, engine: subject.engine };
}

/** What `serve` needs of this side for call `id`. */
function serving(id) {
  return {
    id, running, subject, done: [],
    post: (kind, info) => port.postMessage({ id, progress: kind, info }),
    keep(stream) {
      streams.set(nextStream, stream);
      return nextStream++;
    },
  };
}

function stream(id) {
  const s = streams.get(id);
  if (!s) throw new Error(`no stream ${id}`); // the caller never sends an unknown id
  return s;
}

/** Runs `method` of call `id`: a constructor (Model.create, …), a stream's, dispose, or a method of the subject. */
async function run(id, method, args) {
  const [head, name] = method.includes('.') ? method.split('.') : [null, method];
  if (head && OPENERS[head]?.[name]) {
    subject = await serve(OPENERS[head][name], CLASSES[head], name, args, serving(id));
    return describe();
  }
  if (head === 'stream') {
    const [sid, ...rest] = args;
    if (name === 'dispose') {
      stream(sid).dispose();
      streams.delete(sid);
      return undefined;
    }
    if (Object.hasOwn(SURFACE.Stream, name)) return serve(SURFACE.Stream[name], stream(sid), name, rest, serving(id));
  }
  if (method === 'dispose') return dispose(id);
  if (head === 'replica' && Object.hasOwn(REPLICA_METHODS, name)) return REPLICA_METHODS[name](...args);
  const table = subject instanceof TextModel ? SURFACE.TextModel : subject instanceof Seq2Seq ? SURFACE.Seq2Seq : SURFACE.Model;
  if (subject && Object.hasOwn(table, method) && !table[method].as) return serve(table[method], subject, method, args, serving(id));
  if (Object.hasOwn(extra, method)) return extra[method](...args);
  throw new Error(`lstm-wasm worker: unknown method '${method}'`);
}

/** Stops every running train() (they resolve with stopped: true), then frees the model. */
async function dispose(id) {
  for (const controller of running.values()) controller.abort();
  // answer every earlier call first, so none is cut off when the caller ends this worker
  await Promise.all([...answering].filter(([other]) => other !== id).map(([, answered]) => answered));
  subject?.dispose();
  REPLICA_METHODS.close();
  streams.clear();
}

async function handle(message) {
  if (message.abort !== undefined) return void running.get(message.abort)?.abort();
  const { id, method, args } = message;
  try {
    const list = [];
    const result = transferable(await run(id, method, args), list);
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
// which queues messages until this listener is attached. The module names are
// variables so bundlers leave the imports alone: Vite's default (iife) worker
// build fails on a dynamic import it would split into a chunk. In Node, tests
// may name a module (LSTM_WASM_WORKER_HOOKS, tests/faults.js) whose
// methods({ subject }) adds test-only methods, such as one that makes a trap.
const NODE_THREADS = 'node:worker_threads';
const HOOKS = globalThis.process?.env?.LSTM_WASM_WORKER_HOOKS;
if (typeof WorkerGlobalScope !== 'undefined') {
  listen(globalThis);
} else {
  const hooks = HOOKS ? import(/* @vite-ignore */ /* webpackIgnore: true */ HOOKS) : Promise.resolve(null);
  Promise.all([import(/* @vite-ignore */ /* webpackIgnore: true */ NODE_THREADS), hooks]).then(([{ parentPort }, module]) => {
    if (module) extra = module.methods({ subject: () => subject });
    listen(parentPort);
  });
}

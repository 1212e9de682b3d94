// lstm-wasm/worker in Node worker threads: the same numbers as the main entry
// for the same seed, progress and abort across the thread, the main entry's
// errors, dispose, and no promise left hanging when a worker dies. Browser Web
// Workers are tested in tests/browser/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addingProblem, lcg } from './helpers.js';
import * as main from '../web/index.js';
import * as worker from '../web/worker.js';
import { Connection, OPENERS, SURFACE, spawn } from '../web/rpc.js';

// A test that would hang on a lost promise fails after this long instead.
const TIMEOUT_MS = 60_000;

/** Ragged nested sequences of 2 features; target: a weighted sum of the last step, per sequence or per step. */
function nested(n, seed, { perStep = false, classes = 0 } = {}) {
  const rand = lcg(seed);
  const inputs = Array.from({ length: n }, () => Array.from({ length: 2 + Math.floor(rand() * 6) }, () => [rand(), rand() * 10 - 5]));
  const value = (s) => s[0] * 3 + s[1];
  const target = classes ? (s) => Math.min(classes - 1, Math.floor(((value(s) + 5) / 13) * classes)) : (s) => 100 + 10 * value(s);
  const targets = inputs.map((seq) => (perStep ? seq.map(target) : target(seq.at(-1))));
  return { inputs, targets };
}

/** Adding-problem batches in the fast form: enough batches to train for a while. */
const fast = (n, T, seed) => addingProblem(n, T, lcg(seed));

/** The same model from both entries. */
async function pair(options) {
  return [await main.Model.create(options), await worker.Model.create(options)];
}

function assertSameParameters(got, want) {
  assert.deepEqual(Object.keys(got), Object.keys(want));
  for (const name of Object.keys(want)) {
    assert.ok(got[name] instanceof Float32Array, `${name} is a Float32Array`);
    assert.deepEqual(got[name], want[name], name);
  }
}

/** The error `run` throws or rejects with. */
async function caught(run) {
  try {
    await run();
  } catch (err) {
    return err;
  }
  assert.fail('expected an error');
}

/** The worker rejects with the main entry's class, code and message. */
async function assertSameError(viaWorker, viaMain) {
  const want = await caught(viaMain), got = await caught(viaWorker);
  assert.ok(want instanceof main.LstmError, `main entry threw ${want}`);
  assert.ok(got instanceof worker.LstmError, `worker rejected with ${got}`);
  assert.equal(got.code, want.code);
  assert.equal(got.message, want.message);
  return got;
}

test('gives the main entry\'s numbers for the same seed: regression on ragged nested data', { timeout: TIMEOUT_MS }, async () => {
  const d = nested(60, 1);
  const [m, w] = await pair({ inputSize: 2, hiddenSize: [6, 5], seed: 7 });
  assert.deepEqual(w.config, m.config);
  assertSameParameters(await w.parameters(), m.parameters());
  const train = { epochs: 3, batchSize: 8, learningRate: 0.01, validationSplit: 0.2 };
  assert.deepEqual(await w.train(d.inputs, d.targets, train), await m.train(d.inputs, d.targets, train));
  assertSameParameters(await w.parameters(), m.parameters());
  assert.deepEqual(await w.predict(d.inputs), m.predict(d.inputs));
  assert.deepEqual(await w.evaluate(d.inputs, d.targets), m.evaluate(d.inputs, d.targets));
  const gw = await w.gradients(d.inputs, d.targets), gm = m.gradients(d.inputs, d.targets);
  assert.equal(gw.loss, gm.loss);
  assertSameParameters(gw.grads, gm.grads);
  assert.deepEqual(await w.parameterShapes(), m.parameterShapes());
  m.dispose();
  await w.dispose();
});

test('gives the main entry\'s numbers for the same seed: bidirectional per-step classes, nested and fast form', { timeout: TIMEOUT_MS }, async () => {
  const d = nested(40, 2, { perStep: true, classes: 3 });
  const options = { inputSize: 2, hiddenSize: 5, bidirectional: true, outputSize: 3, returnSequences: true,
    loss: 'softmax-cross-entropy', seed: 9 }; // no dropout: one layer has none (Model.create refuses it)
  const [m, w] = await pair(options);
  const train = { epochs: 2, batchSize: 8, learningRate: 0.01, clipNorm: 1, optimizer: 'adamw' };
  assert.deepEqual(await w.fit(d.inputs, d.targets, train), await m.fit(d.inputs, d.targets, train));
  assertSameParameters(await w.parameters(), m.parameters());
  assert.deepEqual(await w.predict(d.inputs), m.predict(d.inputs));
  assert.deepEqual(await w.predict(d.inputs, { logits: true }), m.predict(d.inputs, { logits: true }));
  const f = fast(12, 5, 3);
  assert.deepEqual(await w.predict(f.inputs), m.predict(f.inputs));
  assert.deepEqual(await w.evaluate(d.inputs, d.targets), m.evaluate(d.inputs, d.targets));
  // forward() and backward() keep their state in the worker between the two calls
  const fw = await w.forward(f.inputs), fm = m.forward(f.inputs);
  assert.deepEqual(fw, fm);
  const dOutput = fm.output.map((v, k) => Math.sin(k) * 0.1);
  const bw = await w.backward(dOutput), bm = m.backward(dOutput);
  assert.deepEqual(bw.dx, bm.dx);
  assertSameParameters(bw.grads, bm.grads);
  m.dispose();
  await w.dispose();
});

test('onEpochEnd hears every epoch and onBatchEnd each epoch\'s last batch, with loss and samples per second', { timeout: TIMEOUT_MS }, async () => {
  const d = fast(64, 6, 4);
  const w = await worker.Model.create({ inputSize: 2, hiddenSize: 8, seed: 1 });
  const events = [];
  const history = await w.train(d.inputs, d.targets, {
    epochs: 3, batchSize: 8,
    onEpochEnd: (info) => events.push({ kind: 'epoch', ...info }),
    onBatchEnd: (info) => events.push({ kind: 'batch', ...info }),
  });
  const epochs = events.filter((e) => e.kind === 'epoch'), batches = events.filter((e) => e.kind === 'batch');
  assert.deepEqual(epochs.map((e) => e.epoch), [0, 1, 2]);
  assert.deepEqual(epochs.map((e) => e.loss), history.loss);
  assert.ok(batches.length >= 3 && batches.length <= 24, `${batches.length} batch messages`);
  for (const e of events) {
    assert.ok(Number.isFinite(e.loss) && e.samplesPerSecond > 0 && Number.isFinite(e.samplesPerSecond), JSON.stringify(e));
  }
  for (let epoch = 0; epoch < 3; epoch++) {
    // throttled, but the epoch's last batch (batch 7) always arrives, just before its epoch
    const at = events.findIndex((e) => e.kind === 'epoch' && e.epoch === epoch);
    assert.deepEqual({ kind: events[at - 1].kind, epoch: events[at - 1].epoch, batch: events[at - 1].batch }, { kind: 'batch', epoch, batch: 7 });
  }
  await w.dispose();
});

test('an AbortSignal stops training in the worker between batches and leaves a usable model', { timeout: TIMEOUT_MS }, async () => {
  const d = fast(2000, 20, 5);
  const w = await worker.Model.create({ inputSize: 2, hiddenSize: 8, seed: 1 });
  const controller = new AbortController();
  const history = await w.train(d.inputs, d.targets, {
    epochs: 50, batchSize: 10, signal: controller.signal, onBatchEnd: () => controller.abort(),
  });
  assert.equal(history.stopped, true);
  assert.ok(history.epochs < 50, `${history.epochs} epochs`);
  const { loss } = await w.evaluate(d.inputs, d.targets);
  assert.ok(Number.isFinite(loss));
  const again = await w.train(d.inputs, d.targets, { epochs: 1 });
  assert.equal(again.stopped, false);
  // already aborted: no batch at all, as in the main entry
  const m = await main.Model.create({ inputSize: 2, hiddenSize: 8, seed: 1 });
  const options = () => ({ epochs: 3, signal: AbortSignal.abort() });
  assert.deepEqual(await w.train(d.inputs, d.targets, options()), await m.train(d.inputs, d.targets, options()));
  m.dispose();
  await w.dispose();
});

test('a progress callback that throws stops training and rejects with its error', { timeout: TIMEOUT_MS }, async () => {
  const d = fast(2000, 20, 6);
  const w = await worker.Model.create({ inputSize: 2, hiddenSize: 8, seed: 1 });
  const err = await caught(() => w.train(d.inputs, d.targets, { epochs: 50, batchSize: 10, onBatchEnd: () => { throw new RangeError('enough'); } }));
  assert.ok(err instanceof RangeError && err.message === 'enough', String(err));
  assert.ok(Number.isFinite((await w.evaluate(d.inputs, d.targets)).loss));
  await w.dispose();
});

test('an error inside the worker rejects with the main entry\'s class, code and message, and the model still works', { timeout: TIMEOUT_MS }, async () => {
  const d = nested(20, 3);
  const options = { inputSize: 2, hiddenSize: 4, seed: 2 };
  const [m, w] = await pair(options);
  await assertSameError(() => worker.Model.create({ ...options, hiddenSzie: 3 }), () => main.Model.create({ ...options, hiddenSzie: 3 }));
  await assertSameError(() => worker.Model.create({ ...options, inputSize: 0 }), () => main.Model.create({ ...options, inputSize: 0 }));
  const nan = structuredClone(d.inputs);
  nan[3][1][1] = NaN;
  await assertSameError(() => w.train(nan, d.targets), () => m.train(nan, d.targets));
  await assertSameError(() => w.predict([[1, 2, 3]]), () => m.predict([[1, 2, 3]]));
  await assertSameError(() => w.predict({ data: new Float32Array(5), shape: [1, 3, 2] }), () => m.predict({ data: new Float32Array(5), shape: [1, 3, 2] }));
  await assertSameError(() => w.train(d.inputs, d.targets, { epohcs: 2 }), () => m.train(d.inputs, d.targets, { epohcs: 2 }));
  await assertSameError(() => w.train(d.inputs, d.targets, { onEpochEnd: 5 }), () => m.train(d.inputs, d.targets, { onEpochEnd: 5 }));
  await assertSameError(() => w.train(d.inputs, d.targets, { signal: 'stop' }), () => m.train(d.inputs, d.targets, { signal: 'stop' }));
  await assertSameError(() => w.evaluate(d.inputs, d.targets.slice(1)), () => m.evaluate(d.inputs, d.targets.slice(1)));
  await assertSameError(() => w.setParameters({ weight_ih_l9: [1] }), () => m.setParameters({ weight_ih_l9: [1] }));
  await assertSameError(() => w.forecast([1, 2, 3], 0), () => m.forecast([1, 2, 3], 0));
  const junk = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
  await assertSameError(() => worker.Model.load(junk), () => main.Model.load(junk));
  // a value that cannot cross to a worker is named
  const err = await caught(() => w.predict(d.inputs, { logits: Symbol('x') }));
  assert.equal(err.code, 'ERR_TYPE');
  assert.match(err.message, /predict: its arguments cannot be sent to a worker/);
  // nothing changed, in either
  await m.train(d.inputs, d.targets, { epochs: 1 });
  await w.train(d.inputs, d.targets, { epochs: 1 });
  assert.deepEqual(await w.predict(d.inputs), m.predict(d.inputs));
  m.dispose();
  await w.dispose();
});

test('dispose() resolves once freed, and every later call rejects with ERR_DISPOSED', { timeout: TIMEOUT_MS }, async () => {
  const d = nested(10, 4);
  const [m, w] = await pair({ inputSize: 2, hiddenSize: 4, seed: 2 });
  const ws = await w.stream(), ms = m.stream();
  m.dispose();
  assert.equal(await w.dispose(), undefined);
  assert.equal(await w.dispose(), undefined, 'a second dispose() resolves too');
  await assertSameError(() => w.predict(d.inputs), () => m.predict(d.inputs));
  await assertSameError(() => w.train(d.inputs, d.targets), () => m.train(d.inputs, d.targets));
  await assertSameError(() => w.save(), () => m.save());
  await assertSameError(() => w.stream(), () => m.stream());
  await assertSameError(() => ws.step([1, 2]), () => ms.step([1, 2]));
  await assertSameError(() => w.config, () => m.config);
  await ws.dispose();
});

test('dispose() during training stops it: train() resolves stopped and nothing hangs', { timeout: TIMEOUT_MS }, async () => {
  const d = fast(2000, 20, 7);
  const w = await worker.Model.create({ inputSize: 2, hiddenSize: 8, seed: 1 });
  let disposed;
  const training = w.train(d.inputs, d.targets, { epochs: 50, batchSize: 10, onBatchEnd: () => { disposed ??= w.dispose(); } });
  const predicting = w.predict(d.inputs); // sent before dispose(): answered before the worker ends
  const history = await training;
  assert.equal(history.stopped, true);
  assert.equal((await predicting).data.length, 2000);
  await disposed;
  assert.equal((await caught(() => w.predict(d.inputs))).code, 'ERR_DISPOSED');
});

test('stream(), trace() and forecast() through the worker give the main entry\'s numbers', { timeout: TIMEOUT_MS }, async () => {
  const series = Array.from({ length: 120 }, (_, t) => 1000 + 50 * Math.sin(t / 4) + 10 * Math.sin(t / 1.3));
  const { inputs, targets } = main.windows(series, { window: 12 });
  assert.deepEqual(worker.windows(series, { window: 12 }), { inputs, targets });
  const [m, w] = await pair({ inputSize: 1, hiddenSize: [8, 6], seed: 5 });
  const train = { epochs: 4, batchSize: 16, learningRate: 0.01 };
  await m.train(inputs, targets, train);
  await w.train(inputs, targets, train);
  assert.deepEqual(await w.forecast(series, 10), m.forecast(series, 10));
  assert.deepEqual(await w.forecast(Float64Array.from(series), 3), m.forecast(Float64Array.from(series), 3));
  assert.deepEqual(await w.trace(inputs[0]), m.trace(inputs[0]));
  const ws = await w.stream(), ms = m.stream();
  for (const x of series.slice(0, 20)) assert.equal(await ws.step(x), ms.step(x));
  await ws.reset();
  ms.reset();
  assert.equal(await ws.step(series[0]), ms.step(series[0]));
  await ws.dispose();
  await assertSameError(() => ws.step(1), () => { ms.dispose(); return ms.step(1); });
  // a stream on a model with several outputs gives Float32Arrays
  const [m3, w3] = await pair({ inputSize: 2, hiddenSize: 4, outputSize: 3, seed: 1 });
  const s3 = await w3.stream(), t3 = m3.stream();
  assert.deepEqual(await s3.step(Float32Array.of(0.5, -1)), t3.step(Float32Array.of(0.5, -1)));
  for (const x of [m, m3]) x.dispose();
  await Promise.all([w.dispose(), w3.dispose()]);
});

test('save(), load(), toSafetensors() and fromPyTorch() round trip through the worker', { timeout: TIMEOUT_MS }, async () => {
  const d = nested(30, 8);
  const [m, w] = await pair({ inputSize: 2, hiddenSize: 6, seed: 4 });
  await m.train(d.inputs, d.targets, { epochs: 2 });
  await w.train(d.inputs, d.targets, { epochs: 2 });
  const bytes = await w.save();
  assert.ok(bytes instanceof Uint8Array);
  assert.deepEqual(bytes, m.save());
  const fromWorker = await main.Model.load(bytes), inWorker = await worker.Model.load(m.save());
  assert.deepEqual(fromWorker.predict(d.inputs), m.predict(d.inputs));
  assert.deepEqual(await inWorker.predict(d.inputs), m.predict(d.inputs));
  // resuming in the worker equals resuming in the main entry
  await inWorker.train(d.inputs, d.targets, { epochs: 1 });
  await fromWorker.train(d.inputs, d.targets, { epochs: 1 });
  assertSameParameters(await inWorker.parameters(), fromWorker.parameters());
  const st = await w.toSafetensors();
  assert.deepEqual(st, m.toSafetensors());
  const imported = await worker.Model.fromPyTorch(st.buffer);
  assertSameParameters(await imported.parameters(), m.parameters());
  await imported.setParameters({ 'head.bias': Float32Array.of(0.25) });
  assert.deepEqual((await imported.parameters())['head.bias'], Float32Array.of(0.25));
  // ONNX: the same bytes either side, and read back in the worker
  const onnx = await w.toONNX();
  assert.deepEqual(onnx, m.toONNX());
  const fromOnnx = await worker.Model.fromONNX(onnx);
  assert.deepEqual(await fromOnnx.predict(d.inputs), (await main.Model.fromONNX(onnx)).predict(d.inputs));
  // Keras: the same model.json and bytes either side, read back in the worker
  const keras = await w.toKeras();
  assert.deepEqual(keras, m.toKeras());
  const fromKeras = await worker.Model.fromKeras(keras.modelJson, keras.weights);
  assert.deepEqual(await fromKeras.predict(d.inputs), (await main.Model.fromKeras(keras.modelJson, keras.weights)).predict(d.inputs));
  for (const x of [m, fromWorker]) x.dispose();
  await Promise.all([w.dispose(), inWorker.dispose(), imported.dispose(), fromOnnx.dispose(), fromKeras.dispose()]);
});

test('TextModel trains, generates, saves and loads through the worker as in the main entry', { timeout: TIMEOUT_MS }, async () => {
  const names = ['anna', 'bella', 'carla', 'dora', 'emma', 'frida', 'greta', 'hanna', 'ida', 'julia', 'karla', 'lena'];
  const options = { hiddenSize: 16, layers: 1, seed: 3 };
  const tm = await main.TextModel.create(options), tw = await worker.TextModel.create(options);
  assert.equal(tw.vocabulary, null);
  await assertSameError(() => tw.generate('a', 5), () => tm.generate('a', 5));
  let epochs = 0;
  const train = { epochs: 5, batchSize: 4 };
  assert.deepEqual(await tw.train(names, { ...train, onEpochEnd: () => epochs++ }), await tm.train(names, train));
  assert.equal(epochs, 5);
  assert.deepEqual(tw.vocabulary, tm.vocabulary);
  const sample = { temperature: 0.8, seed: 11 };
  const text = await tw.generate('', 40, sample);
  assert.equal(text, tm.generate('', 40, sample));
  await assertSameError(() => tw.generate('xyz', 5), () => tm.generate('xyz', 5));
  const bytes = await tw.save();
  const again = await worker.TextModel.load(bytes);
  assert.deepEqual(again.vocabulary, tm.vocabulary);
  assert.equal(await again.generate('', 40, sample), text);
  await assertSameError(() => worker.TextModel.load(tm.model.save().slice(0, 10)), () => main.TextModel.load(tm.model.save().slice(0, 10)));
  tm.dispose();
  await Promise.all([tw.dispose(), again.dispose()]);
  assert.equal((await caught(() => tw.generate('a', 3))).code, 'ERR_DISPOSED');
});

test('the caller\'s own arrays are copied, never detached', { timeout: TIMEOUT_MS }, async () => {
  const d = fast(32, 5, 9);
  const w = await worker.Model.create({ inputSize: 2, hiddenSize: 4, seed: 1 });
  const before = d.inputs.data.slice();
  await w.train(d.inputs, d.targets, { epochs: 1 });
  await w.predict({ data: d.inputs.data.subarray(0, 10), shape: [1, 5, 2] });
  assert.deepEqual(d.inputs.data, before);
  assert.equal(d.targets.data.length, 32);
  const params = await w.parameters();
  await w.setParameters(params);
  assert.ok(params['weight_ih_l0'].length > 0);
  const bytes = await w.save();
  const again = await worker.Model.load(bytes);
  assert.ok(bytes.byteLength > 0);
  await Promise.all([w.dispose(), again.dispose()]);
});

test('simd: false and a locateWasm function work across the thread', { timeout: TIMEOUT_MS }, async () => {
  const asked = [];
  const locateWasm = (file) => {
    asked.push(file);
    return new URL(`../web/wasm/${file}`, import.meta.url);
  };
  const options = { inputSize: 1, hiddenSize: 4, seed: 3, simd: false, locateWasm };
  const w = await worker.Model.create(options), m = await main.Model.create(options);
  assert.deepEqual(asked.sort(), ['lstm-simd.wasm', 'lstm.wasm', 'lstm.wasm']);
  assert.equal(w.engine.variant, 'scalar');
  assert.equal(w.engine.simd, false);
  const d = { inputs: [[1, 2, 3], [2, 3, 4], [5, 4, 3]], targets: [4, 5, 2] };
  await w.train(d.inputs, d.targets, { epochs: 2 });
  await m.train(d.inputs, d.targets, { epochs: 2 });
  assertSameParameters(await w.parameters(), m.parameters());
  const broken = await caught(() => worker.Model.create({ ...options, locateWasm: () => 'file:///nowhere/lstm.wasm' }));
  assert.equal(broken.code, 'ERR_ENGINE');
  assert.match(broken.message, /nowhere/);
  m.dispose();
  await w.dispose();
});

test('a worker that dies rejects every pending and later call with a clear error', { timeout: TIMEOUT_MS }, async () => {
  const d = fast(2000, 20, 10);
  const w = await worker.Model.create({ inputSize: 2, hiddenSize: 8, seed: 1 });
  let batches = 0;
  const training = w.train(d.inputs, d.targets, { epochs: 50, batchSize: 10, onBatchEnd: () => { if (++batches === 1) w[worker.WORKER].terminate(); } });
  const err = await caught(() => training);
  assert.equal(err.code, 'ERR_ENGINE');
  assert.match(err.message, /the worker running this model stopped: it exited with code 1; create or load the model again/);
  assert.equal((await caught(() => w.predict(d.inputs))).code, 'ERR_ENGINE');
  await w.dispose(); // nothing left to free; resolves
  assert.equal((await caught(() => w.predict(d.inputs))).code, 'ERR_DISPOSED');

  // an 'error' event (an uncaught exception in the worker) does the same
  const t = await worker.TextModel.create({ hiddenSize: 4 });
  const pending = t.train('hello world, hello worker', { epochs: 1000 });
  t[worker.WORKER].emit('error', new Error('out of cheese'));
  const err2 = await caught(() => pending);
  assert.equal(err2.code, 'ERR_ENGINE');
  assert.match(err2.message, /stopped: it threw out of cheese/);
  await t.dispose();
});

test('a trap inside the worker rejects with LstmError ERR_ENGINE naming the call; that model is then unusable, others work', { timeout: TIMEOUT_MS }, async () => {
  // tests/faults.js adds test-only methods to workers started from now on in this process
  process.env.LSTM_WASM_WORKER_HOOKS = new URL('./faults.js', import.meta.url).href;
  const d = nested(20, 11);
  const options = { inputSize: 2, hiddenSize: 4, seed: 2 };
  const [m, w] = await pair(options);
  const other = await worker.Model.create(options);
  await m.train(d.inputs, d.targets, { epochs: 1 });
  await w.train(d.inputs, d.targets, { epochs: 1 });
  await other.train(d.inputs, d.targets, { epochs: 1 });
  // corrupt the model in w's worker (a message without an id: nobody waits for its answer)
  w[worker.WORKER].postMessage({ method: 'test.corrupt', args: [] });
  const err = await caught(() => w.predict(d.inputs));
  assert.ok(err instanceof worker.LstmError, `${err?.name}: ${err?.message}`);
  assert.equal(err.code, 'ERR_ENGINE');
  assert.match(err.message, /^lw_model_predict: the engine hit a fault \(memory access out of bounds\); this model can no longer be used/);
  const again = await caught(() => w.train(d.inputs, d.targets, { epochs: 1 }));
  assert.ok(again instanceof worker.LstmError && again.code === 'ERR_ENGINE', String(again));
  assert.match(again.message, /this model hit an engine fault \(lw_model_predict: memory access out of bounds\)/);
  await w.dispose();
  assert.equal((await caught(() => w.predict(d.inputs))).code, 'ERR_DISPOSED');
  // another model, in its own worker, is as the main entry's
  assert.deepEqual(await other.predict(d.inputs), m.predict(d.inputs));

  // Connection (rpc.js) drives a worker on its own too, as a pool would: a trap through it is the same LstmError
  const conn = new Connection(await spawn());
  const { config } = await conn.invoke('Model.create', OPENERS.Model.create, [options]);
  const trap = await caught(() => conn.call('test.trap'));
  assert.ok(trap instanceof worker.LstmError && trap.code === 'ERR_ENGINE', String(trap));
  assert.match(trap.message, /^lw_model_predict: the engine hit a fault/);
  const fresh = await main.Model.create(options);
  assert.deepEqual(await conn.invoke('predict', SURFACE.Model.predict, [d.inputs], config), fresh.predict(d.inputs),
    'the engine in that worker predicts as before the trap');
  fresh.dispose();
  await conn.dispose();
  m.dispose();
  await other.dispose();
  delete process.env.LSTM_WASM_WORKER_HOOKS;
});

test('dispose() ends a worker stuck in a call that never yields within a second; its calls reject with ERR_DISPOSED', { timeout: TIMEOUT_MS }, async () => {
  const d = fast(4000, 40, 12);
  const w = await worker.Model.create({ inputSize: 2, hiddenSize: 32, seed: 1 });
  let busy;
  const started = new Promise((resolve) => { busy = resolve; });
  // yieldEvery: 1e6 ms: the worker hears no message until this train() ends (minutes)
  const training = w.train(d.inputs, d.targets, { epochs: 10_000, batchSize: 8, yieldEvery: 1e6, onBatchEnd: () => busy() });
  const predicting = started.then(() => w.predict(d.inputs)); // queued behind the train, never answered
  const failures = [caught(() => training), caught(() => predicting)]; // handled from the start
  await started;
  const t0 = performance.now();
  await w.dispose();
  const ms = performance.now() - t0;
  assert.ok(ms < 1000, `dispose() took ${ms.toFixed(0)} ms`);
  for (const err of await Promise.all(failures)) {
    assert.ok(err instanceof worker.LstmError && err.code === 'ERR_DISPOSED', String(err));
  }
  assert.equal((await caught(() => w.predict(d.inputs))).code, 'ERR_DISPOSED');
  console.log(`# dispose() of a stuck worker: ${ms.toFixed(0)} ms`);
});

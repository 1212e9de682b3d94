// Issue 11, defects 3, 4 and 8: a train() that fails (or stops) before its
// first update leaves save()'s bytes exactly as they were (optimizer kind,
// moments, step count, dropout generator, forecast window, scalers); training
// that explodes without a NaN stops with ERR_DIVERGED on the last good
// weights; an abort before the first epoch ends reports 0 epochs; a
// time-major forward() checks its shape before it transposes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { Model, LstmError } from '../web/index.js';
import { bits, lcg } from './helpers.js';

/** n ragged sequences of 2 features (lengths 2..maxT) and a target each. */
function dataset(seed, n, maxT) {
  const rand = lcg(seed);
  const inputs = Array.from({ length: n }, () => Array.from({ length: 2 + Math.floor(rand() * (maxT - 1)) }, () => [rand() * 4 - 2, rand()]));
  return { inputs, targets: inputs.map((s) => s.reduce((a, [x, y]) => a + x * y, 0)) };
}

const SHORT = dataset(1, 12, 5); // trains the model first: its window is at most 5
const LONG = dataset(2, 8, 12); // what the failing calls bring: a longer window

/** A model trained with Adam and dropout, so moments, steps, rng and scalers all hold something. */
async function trained(options = {}) {
  const model = await Model.create({ inputSize: 2, hiddenSize: [5, 3], dropout: 0.2, seed: 11, ...options });
  await model.train(SHORT.inputs, SHORT.targets, { epochs: 2, batchSize: 4 });
  return model;
}

async function rejects(run, code, pattern) {
  let err = null;
  try { await run(); } catch (e) { err = e; }
  assert.ok(err instanceof LstmError, `expected an LstmError ${code}, got ${err?.name}: ${err?.message}`);
  assert.equal(err.code, code, err.message);
  if (pattern) assert.match(err.message, pattern);
}

const same = (a, b, label) => assert.ok(a.length === b.length && a.every((v, i) => v === b[i]), `${label}: save() bytes changed`);

test('a train() that diverges on its first batch, with another optimizer, leaves save() bytes as they were', async () => {
  for (const optimizer of ['sgd', 'rmsprop', 'adam']) {
    const model = await trained({ normalize: false });
    const before = model.save();
    // targets near the float32 maximum: the gradient is finite, lr * gradient is not (ERR_DIVERGED on batch 0)
    await rejects(() => model.train(LONG.inputs, LONG.targets.map((_, b) => (b % 2 ? 1e38 : -1e38)),
      { epochs: 2, batchSize: 1, optimizer, learningRate: 1e6, shuffle: false }), 'ERR_DIVERGED', /not finite/);
    same(model.save(), before, optimizer);
    model.dispose();
  }
});

test('a train() whose loss explodes without a NaN stops with ERR_DIVERGED, back on the last good weights', async () => {
  const data = dataset(3, 24, 6);
  const targets = data.targets.map((t) => t * 1000);
  // Adam at 1e6 (issue 11: loss 1e13) explodes at the second update, SGD at 3 after a few (loss about 4e7)
  for (const run of [{ optimizer: 'adam', learningRate: 1e6 }, { optimizer: 'sgd', learningRate: 3 }]) {
    const options = { epochs: 5, batchSize: 4, shuffle: false, ...run };
    const label = `${run.optimizer} at ${run.learningRate}`;
    const model = await Model.create({ inputSize: 2, hiddenSize: 6, seed: 3 });
    const before = model.save();
    let batches = 0;
    await rejects(() => model.train(data.inputs, targets, { ...options, onBatchEnd: () => { batches++; } }),
      'ERR_DIVERGED', /the loss grew to .* over 1000000 times the first batch's .*last ones whose loss was sane/);
    const after = model.parameters();
    for (const [name, p] of Object.entries(after)) assert.ok(p.every(Number.isFinite), `${label}: ${name} is not finite`);
    // The step that saw the huge loss ran on the weights of the update before it:
    // the last good weights are those before that update, after `batches - 1` updates.
    const good = batches - 1;
    const twin = await Model.create({ inputSize: 2, hiddenSize: 6, seed: 3 });
    const controller = new AbortController();
    let seen = 0;
    if (good > 0) {
      await twin.train(data.inputs, targets, { ...options, signal: controller.signal, onBatchEnd: () => { if (++seen === good) controller.abort(); } });
    }
    for (const [name, p] of Object.entries(twin.parameters())) assert.deepEqual(bits(after[name]), bits(p), `${label}: ${name} is not the last good weights`);
    if (good === 0) same(model.save(), before, `${label}: diverged at the second update`);
    model.dispose();
    twin.dispose();
  }
});

test('a train() that fails before its first update on a fresh model fits no scalers and sets no optimizer', async () => {
  const data = dataset(3, 24, 6);
  const model = await Model.create({ inputSize: 2, hiddenSize: 6, seed: 3 });
  const before = model.save();
  // Adam at 1e6 explodes at the second update (loss about 1e12): back to before the first
  await rejects(() => model.train(data.inputs, data.targets.map((t) => t * 1000), { epochs: 3, batchSize: 24, optimizer: 'rmsprop', learningRate: 1e6 }),
    'ERR_DIVERGED');
  same(model.save(), before, 'rmsprop, one batch per epoch');
  model.dispose();
});

test('NaN in validationData, and bad options, leave save() bytes as they were', async () => {
  const model = await trained();
  const before = model.save();
  const badTargets = LONG.targets.map((t, i) => (i === 5 ? NaN : t));
  await rejects(() => model.train(LONG.inputs, LONG.targets, { optimizer: 'sgd', validationData: [LONG.inputs, badTargets] }), 'ERR_NOT_FINITE');
  const badInputs = LONG.inputs.map((s, i) => (i === 7 ? s.map(() => [0, 1e39]) : s));
  await rejects(() => model.train(LONG.inputs, LONG.targets, { optimizer: 'sgd', validationData: [badInputs, LONG.targets] }), 'ERR_RANGE');
  await rejects(() => model.train(LONG.inputs, LONG.targets, { optimizer: 'sgd', learningRate: 1e30 }), 'ERR_RANGE');
  await rejects(() => model.train(LONG.inputs, LONG.targets, { optimizer: 'sgd', truncate: 3 }), 'ERR_OPTION');
  same(model.save(), before, 'after the failed calls');
  model.dispose();
});

test('out of memory while staging the training set leaves save() bytes as they were', async () => {
  const model = await trained();
  const before = model.save();
  const e = (await import('../web/engine.js')).loadEngine;
  const engine = await e();
  const alloc = engine.alloc;
  let calls = 0;
  engine.alloc = function (bytes) {
    if (++calls === 3) throw new LstmError('ERR_NO_MEMORY', `out of wasm memory allocating ${bytes} bytes (injected)`);
    return alloc.call(this, bytes);
  };
  try {
    await rejects(() => model.train(LONG.inputs, LONG.targets, { optimizer: 'sgd', epochs: 1 }), 'ERR_NO_MEMORY');
  } finally {
    delete engine.alloc;
  }
  assert.equal(calls >= 3, true, 'the injected failure never happened');
  same(model.save(), before, 'out of memory');
  model.dispose();
});

test('an abort before the first batch changes nothing; an abort at batch 0 reports 0 epochs', async () => {
  const model = await trained();
  const before = model.save();
  const history = await model.train(LONG.inputs, LONG.targets, { optimizer: 'sgd', epochs: 3, signal: AbortSignal.abort() });
  assert.deepEqual(history, { loss: [], valLoss: [], epochs: 0, stopped: true });
  same(model.save(), before, 'an abort before the first batch');
  const controller = new AbortController();
  const ended = [];
  const cut = await model.train(LONG.inputs, LONG.targets, {
    epochs: 3, batchSize: 2, signal: controller.signal, onBatchEnd: () => controller.abort(), onEpochEnd: (e) => ended.push(e),
  });
  assert.deepEqual({ ...cut, loss: cut.loss.length }, { loss: 0, valLoss: [], epochs: 0, stopped: true });
  assert.equal(ended.length, 0, 'onEpochEnd ran for an epoch cut short');
  model.dispose();
});

// Each bad shape runs in a worker thread: a synchronous endless loop cannot be
// stopped by a test timeout, but a thread can be terminated.
const HANG_MS = 5000;
function forwardInThread(shape, dataLength) {
  const code = `
    import { parentPort, workerData } from 'node:worker_threads';
    const { Model } = await import(workerData.index);
    const model = await Model.create({ inputSize: 1, hiddenSize: 3, seed: 1 });
    try {
      model.forward({ data: new Float32Array(workerData.n), shape: workerData.shape }, { timeMajor: true });
      parentPort.postMessage({ ok: true });
    } catch (err) {
      parentPort.postMessage({ name: err.name, code: err.code, message: err.message });
    }`;
  const worker = new Worker(new URL(`data:text/javascript,${encodeURIComponent(code)}`),
    { workerData: { index: new URL('../web/index.js', import.meta.url).href, shape, n: dataLength } });
  return new Promise((resolve) => {
    const timer = setTimeout(() => { worker.terminate(); resolve({ hung: true }); }, HANG_MS);
    worker.once('message', (m) => { clearTimeout(timer); worker.terminate(); resolve(m); });
    worker.once('error', (err) => { clearTimeout(timer); resolve({ name: err.name, message: err.message }); });
  });
}

test('forward({ timeMajor: true }) checks the shape before it transposes', async () => {
  for (const [shape, n] of [[[Infinity, 0, 1], 0], [[0, Infinity, 1], 0], [[2.5, 1, 1], 3], [[1e9, 1e9, 1], 3],
    [[-1, 2, 1], 3], [[NaN, 1, 1], 3], [[3, 1, 2], 6], [[3, 2, 1], 5]]) {
    const got = await forwardInThread(shape, n);
    assert.deepEqual({ hung: got.hung ?? false, name: got.name, code: got.code }, { hung: false, name: 'LstmError', code: 'ERR_SHAPE' },
      `shape [${shape}] with ${n} values: ${got.message ?? (got.hung ? `no answer within ${HANG_MS} ms` : 'no error')}`);
  }
  // a good one still runs, and equals the batch-first call
  const model = await Model.create({ inputSize: 1, hiddenSize: 3, seed: 1 });
  const x = Float32Array.from([1, 2, 3, 4, 5, 6]); // (T 3, B 2, I 1)
  const tm = model.forward({ data: x, shape: [3, 2, 1] }, { timeMajor: true });
  const bf = model.forward({ data: Float32Array.from([1, 3, 5, 2, 4, 6]), shape: [2, 3, 1] });
  assert.deepEqual(bits(tm.h), bits(bf.h));
  model.dispose();
});

// Learning through the public API: the adding problem (Hochreiter &
// Schmidhuber 1997), regression in raw units, resuming from save() exactly,
// stopping with an AbortSignal, and memory that returns to where it was.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Model } from '../web/index.js';
import { addingProblem, engine, lcg } from './helpers.js';

const ADDING_MSE = 0.01;          // issue 3: test MSE below 0.01 ...
const ADDING_BUDGET = 200_000;    // ... within 200,000 training sequences

test('learns the adding problem (T = 100) to test MSE < 0.01 within 200,000 sequences', async () => {
  const rand = lcg(2024);
  const train = addingProblem(10_000, 100, rand), held = addingProblem(1_000, 100, rand);
  const model = await Model.create({ inputSize: 2, hiddenSize: 32, outputSize: 1, seed: 1 });
  const baseline = model.evaluate(held.inputs, held.targets).mse;
  let seen = 0, mse = Infinity;
  while (seen < ADDING_BUDGET && mse >= ADDING_MSE) {
    await model.train(train.inputs, train.targets, { epochs: 1, batchSize: 32, learningRate: 0.003, clipNorm: 1 });
    seen += 10_000;
    mse = model.evaluate(held.inputs, held.targets).mse;
  }
  assert.ok(mse < ADDING_MSE, `test MSE ${mse} after ${seen} sequences (untrained: ${baseline})`);
  model.dispose();
});

test('a raw series in its own units (around 1000) trains as well as a normalised one', async () => {
  // sum of the last two values of a window: the answer depends on the units only through the scaling
  const rand = lcg(7);
  const n = 512, T = 8;
  const make = (offset, scale) => {
    const x = new Float32Array(n * T), y = new Float32Array(n);
    for (let b = 0; b < n; b++) {
      for (let t = 0; t < T; t++) x[b * T + t] = offset + scale * rand();
      y[b] = x[b * T + T - 1] + x[b * T + T - 2] - offset;
    }
    return { inputs: { data: x, shape: [n, T, 1] }, targets: { data: y, shape: [n, 1] } };
  };
  const raw = make(1000, 100), unit = make(0, 1);
  const results = [];
  for (const d of [raw, unit]) {
    const model = await Model.create({ inputSize: 1, hiddenSize: 16, outputSize: 1, seed: 3 });
    await model.train(d.inputs, d.targets, { epochs: 30, learningRate: 0.01 });
    const { mse } = model.evaluate(d.inputs, d.targets);
    let variance = 0, mean = 0;
    d.targets.data.forEach((v) => { mean += v / n; });
    d.targets.data.forEach((v) => { variance += (v - mean) ** 2 / n; });
    results.push(mse / variance); // error as a share of the targets' variance: unit-free
    const pred = model.predict({ data: d.inputs.data.subarray(0, T), shape: [1, T, 1] }).data[0];
    assert.ok(Math.abs(pred - d.targets.data[0]) < 0.2 * Math.sqrt(variance) * 3, `prediction ${pred} vs ${d.targets.data[0]}`);
    model.dispose();
  }
  assert.ok(results[0] < 0.05, `raw units: MSE is ${results[0]} of the variance`);
  assert.ok(results[1] < 0.05, `normalised: MSE is ${results[1]} of the variance`);
});

test('save() then load() resumes training exactly: 2 + 2 epochs equal 4 epochs bit for bit', async () => {
  const rand = lcg(11);
  const x = Array.from({ length: 40 }, () => Array.from({ length: 1 + Math.floor(rand() * 6) }, () => [rand(), rand()]));
  const y = x.map((seq) => seq.map((s) => Math.floor((s[0] + s[1]) * 1.5)));
  const opts = { inputSize: 2, hiddenSize: [5, 4], bidirectional: true, outputSize: 3, returnSequences: true, loss: 'softmax-cross-entropy', dropout: 0.2, seed: 9 };
  const train = { epochs: 2, batchSize: 8, learningRate: 0.01, clipNorm: 1 };
  const straight = await Model.create(opts);
  await straight.train(x, y, { ...train, epochs: 4 });
  const first = await Model.create(opts);
  await first.train(x, y, train);
  const resumed = await Model.load(first.save());
  await resumed.train(x, y, train);
  const a = straight.parameters(), b = resumed.parameters();
  for (const name of Object.keys(a)) assert.deepEqual(b[name], a[name], name);
  assert.deepEqual(resumed.predict(x), straight.predict(x));
  for (const m of [straight, first, resumed]) m.dispose();
});

test('regression scaling is saved with the model: a loaded model predicts the same', async () => {
  const x = Array.from({ length: 30 }, (_, k) => Array.from({ length: 5 }, (_, t) => 500 + 10 * Math.sin(k + t)));
  const y = x.map((s) => s[4] * 2);
  const model = await Model.create({ inputSize: 1, hiddenSize: 8, seed: 2 });
  await model.train(x, y, { epochs: 3 });
  const again = await Model.load(model.save());
  assert.deepEqual(again.predict(x), model.predict(x));
  assert.ok(Math.abs(model.predict(x)[0] - 1000) < 200, 'predictions are in the targets\' units');
  model.dispose(), again.dispose();
});

test('an AbortSignal stops training between batches and leaves a usable model', async () => {
  const rand = lcg(3);
  const d = addingProblem(2000, 20, rand);
  const model = await Model.create({ inputSize: 2, hiddenSize: 8, seed: 1 });
  const controller = new AbortController();
  let batches = 0;
  const history = await model.train(d.inputs, d.targets, {
    epochs: 50, batchSize: 10, signal: controller.signal,
    onBatchEnd: () => { if (++batches === 30) controller.abort(); },
  });
  assert.equal(history.stopped, true);
  assert.equal(batches, 30);
  assert.ok(Number.isFinite(model.evaluate(d.inputs, d.targets).loss));
  model.dispose();
});

test('validationSplit reports a validation loss each epoch through onEpochEnd', async () => {
  const rand = lcg(4);
  const d = addingProblem(200, 10, rand);
  const model = await Model.create({ inputSize: 2, hiddenSize: 8, seed: 1 });
  const seen = [];
  const history = await model.fit(d.inputs, d.targets, { epochs: 3, validationSplit: 0.25, onEpochEnd: (e) => seen.push(e) });
  assert.equal(seen.length, 3);
  assert.deepEqual(seen.map((e) => e.epoch), [0, 1, 2]);
  assert.ok(seen.every((e) => Number.isFinite(e.loss) && Number.isFinite(e.valLoss)));
  assert.deepEqual(history.valLoss, seen.map((e) => e.valLoss));
  model.dispose();
});

test('every optimizer reduces the loss on a small task', async () => {
  const rand = lcg(8);
  const d = addingProblem(256, 10, rand);
  for (const [optimizer, extra] of [['sgd', { momentum: 0.9, nesterov: true, learningRate: 0.05 }], ['sgd', { learningRate: 0.1 }],
    ['adam', {}], ['adamw', { weightDecay: 0.01 }], ['rmsprop', { learningRate: 0.003 }], ['adam', { clipValue: 0.01, weightDecay: 1e-4 }]]) {
    const model = await Model.create({ inputSize: 2, hiddenSize: 8, seed: 1 });
    const before = model.evaluate(d.inputs, d.targets).loss;
    await model.train(d.inputs, d.targets, { epochs: 15, batchSize: 16, optimizer, learningRate: 0.01, ...extra });
    const after = model.evaluate(d.inputs, d.targets).loss;
    assert.ok(after < 0.7 * before, `${optimizer} ${JSON.stringify(extra)}: loss ${before} -> ${after}`);
    model.dispose();
  }
});

test('fifty create/train/dispose cycles leave the wasm heap where it was', async () => {
  const e = await engine('simd');
  const rand = lcg(5);
  const d = addingProblem(64, 12, rand);
  const cycle = async () => {
    const model = await Model.create({ inputSize: 2, hiddenSize: [8, 6], bidirectional: true, seed: 1, engine: e });
    await model.train(d.inputs, d.targets, { epochs: 1, batchSize: 16 });
    model.predict(d.inputs);
    model.save();
    model.dispose();
  };
  await cycle(); // first use may grow the heap once
  const heap = e.heapUsed(), pages = e.memory.buffer.byteLength;
  for (let k = 0; k < 50; k++) await cycle();
  assert.equal(e.heapUsed(), heap, 'heap bytes in use');
  assert.equal(e.memory.buffer.byteLength, pages, 'wasm memory size');
});

test('truncated BPTT carries the state from chunk to chunk: at learning rate 0 the chunked loss is the whole-sequence loss', async () => {
  const rand = lcg(12);
  const x = Array.from({ length: 6 }, (_, b) => Array.from({ length: 20 + 7 * b }, () => [rand(), rand()]));
  const y = x.map((seq) => seq.map((s) => [s[0] - s[1]]));
  for (const cell of ['lstm', 'gru', 'peephole']) {
    const model = await Model.create({ inputSize: 2, hiddenSize: [5, 4], outputSize: 1, returnSequences: true, cell, normalize: false, seed: 2 });
    const whole = model.evaluate(x, y).loss;
    const chunked = await model.train(x, y, { epochs: 1, batchSize: 4, learningRate: 0, optimizer: 'sgd', truncate: 6, shuffle: false });
    assert.ok(Math.abs(chunked.loss[0] - whole) < 1e-6 * whole, `${cell}: chunked ${chunked.loss[0]} vs whole ${whole}`);
    // without the carried state the chunks would start from zero: a different loss
    const cut = x.flatMap((seq) => Array.from({ length: Math.ceil(seq.length / 6) }, (_, k) => seq.slice(6 * k, 6 * k + 6)));
    const cutY = y.flatMap((seq) => Array.from({ length: Math.ceil(seq.length / 6) }, (_, k) => seq.slice(6 * k, 6 * k + 6)));
    assert.ok(Math.abs(model.evaluate(cut, cutY).loss - whole) > 1e-4 * whole, `${cell}: the test cannot tell carried from reset states`);
    model.dispose();
  }
});

test('truncate longer than every sequence trains exactly as without it', async () => {
  const rand = lcg(13);
  const x = Array.from({ length: 10 }, () => Array.from({ length: 8 }, () => [rand()]));
  const y = x.map((seq) => seq.map((s) => s[0] * 2));
  const a = await Model.create({ inputSize: 1, hiddenSize: 4, returnSequences: true, seed: 5 });
  const b = await Model.create({ inputSize: 1, hiddenSize: 4, returnSequences: true, seed: 5 });
  await a.train(x, y, { epochs: 3, batchSize: 4 });
  await b.train(x, y, { epochs: 3, batchSize: 4, truncate: 8 });
  assert.deepEqual(a.parameters(), b.parameters());
  a.dispose(), b.dispose();
});

test('learning-rate schedules set each epoch\'s rate: step, exponential and cosine', async () => {
  const x = [[[0.1], [0.2]], [[0.3], [0.4]]], y = [1, 2];
  const model = await Model.create({ inputSize: 1, hiddenSize: 3, seed: 1 });
  const rates = async (schedule) => {
    const seen = [];
    await model.train(x, y, { epochs: 5, learningRate: 0.1, schedule, onEpochEnd: (e) => seen.push(e.learningRate) });
    return seen;
  };
  const close = (got, want) => got.forEach((v, k) => assert.ok(Math.abs(v - want[k]) < 1e-12, `${got} vs ${want}`));
  close(await rates({ type: 'step', every: 2, gamma: 0.5 }), [0.1, 0.1, 0.05, 0.05, 0.025]);
  close(await rates({ type: 'exponential', gamma: 0.9 }), [0.1, 0.09, 0.081, 0.0729, 0.06561]);
  close(await rates({ type: 'cosine', minLearningRate: 0.01 }), [0, 1, 2, 3, 4].map((e) => 0.01 + 0.09 * 0.5 * (1 + Math.cos(Math.PI * e / 5))));
  await assert.rejects(model.train(x, y, { schedule: { type: 'cosine', gamma: 0.5 } }), /'gamma' does not apply to a cosine schedule/);
  model.dispose();
});

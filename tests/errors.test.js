// SPEC section 4, "Errors": every bad input throws an LstmError whose `code`
// is stable and whose message names the problem, no call traps the wasm
// instance, and a failed call leaves the model as it was: after each failure
// the same probe predicts the same bits and the parameters are unchanged.
// The file format's own checks are in format.test.js; the data converters'
// messages in data.test.js. This file checks the Model API end to end.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Model, LstmError } from '../web/index.js';
import { crc32, decodeModel, encodeModel } from '../web/format.js';
import { bits, engine, rng } from './helpers.js';

// Seeds for data, models and the byte fuzzing, so a failure can be replayed.
const DATA_SEED = 0xe770, FUZZ_SEED = 0xf1a9;
// Random byte strings fed to Model.load.
const RANDOM_BLOBS = 200;


/** n sequences of 2 features, lengths 3..8, and a numeric target each. */
function dataset(n, next = rng(DATA_SEED)) {
  const inputs = Array.from({ length: n }, () =>
    Array.from({ length: 3 + Math.floor(next() * 6) }, () => [next() * 4 - 2, next() * 10]));
  const targets = inputs.map((s) => 50 + s.reduce((a, [x, y]) => a + x * y, 0));
  return { inputs, targets };
}

const TRAIN_DATA = dataset(12);
const PROBE = dataset(3, rng(DATA_SEED + 1)).inputs;

/** A small trained regression model: its scalers and optimizer state exist, so a failure could disturb them. */
async function trainedModel(options = {}) {
  const model = await Model.create({ inputSize: 2, hiddenSize: 5, seed: 11, ...options });
  await model.train(TRAIN_DATA.inputs, TRAIN_DATA.targets, { epochs: 2, batchSize: 4 });
  return model;
}

/** What must not change across a failed call: predictions of the probe and every parameter, as bits. */
function snapshot(model, probe = PROBE) {
  const params = Object.fromEntries(Object.entries(model.parameters()).map(([k, v]) => [k, bits(v)]));
  return { params, prediction: bits(model.predict(probe).flat(3)), probe };
}

function assertIntact(model, before, label = '') {
  const after = snapshot(model, before.probe);
  assert.deepEqual(after.params, before.params, `${label} the parameters changed`);
  assert.deepEqual(after.prediction, before.prediction, `${label} predict() gives other outputs`);
}

/** Checks an error: LstmError, the code, and every pattern in the message. */
function isLstmError(err, code, patterns) {
  assert.ok(err instanceof LstmError, `expected an LstmError, got ${err?.name}: ${err?.message}`);
  assert.equal(err.name, 'LstmError');
  assert.equal(err.code, code, `code for "${err.message}"`);
  for (const p of [].concat(patterns ?? [])) assert.match(err.message, p);
  return true;
}

/**
 * Asserts fn() fails with code and a message matching patterns: a synchronous
 * call must throw, an async one (returning a promise) must reject.
 */
async function fails(fn, code, patterns) {
  let result;
  try {
    result = fn();
  } catch (err) {
    isLstmError(err, code, patterns);
    return;
  }
  assert.ok(result && typeof result.then === 'function', `expected ${code}, but the call returned ${result}`);
  await assert.rejects(result, (err) => isLstmError(err, code, patterns));
}

/** fails(), and the model predicts and holds the same as before. */
async function failsIntact(model, fn, code, patterns) {
  const before = snapshot(model);
  await fails(fn, code, patterns);
  assertIntact(model, before, `after ${code}:`);
}

// ------------------------------------------------------------ options

test('unknown options to Model.create, train and predict are refused with a "did you mean" suggestion', async () => {
  const model = await trainedModel();
  await fails(() => Model.create({ inputSize: 2, hiddensize: 4 }), 'ERR_OPTION', [/unknown option 'hiddensize'/, /did you mean 'hiddenSize'\?/]);
  await fails(() => Model.create({ inputSize: 2, hiddenSize: 4, bidirectonal: true }), 'ERR_OPTION', /did you mean 'bidirectional'/);
  await fails(() => Model.create({ inputSize: 2, hiddenSize: 4, zzz: 1 }), 'ERR_OPTION', [/unknown option 'zzz'/, /the options are .*hiddenSize/]);
  await failsIntact(model, () => model.train(TRAIN_DATA.inputs, TRAIN_DATA.targets, { learning_rate: 0.1 }), 'ERR_OPTION',
    [/train: unknown option 'learning_rate'/, /did you mean 'learningRate'/]);
  await failsIntact(model, () => model.train(TRAIN_DATA.inputs, TRAIN_DATA.targets, { epoch: 3 }), 'ERR_OPTION', /did you mean 'epochs'/);
  await failsIntact(model, () => model.predict(PROBE, { logit: true }), 'ERR_OPTION', [/predict: unknown option 'logit'/, /did you mean 'logits'/]);
  await failsIntact(model, () => model.forward(PROBE, { h_0: [] }), 'ERR_OPTION', /did you mean 'h0'/);
  await failsIntact(model, () => model.predict(PROBE, 'fast'), 'ERR_TYPE', /options must be a plain object/);
  model.dispose();
});

test('hiddenSize 0, above 65536, fractional or missing is refused and names hiddenSize', async () => {
  const bystander = await trainedModel();
  const before = snapshot(bystander);
  await fails(() => Model.create({ inputSize: 2, hiddenSize: 0 }), 'ERR_RANGE', /hiddenSize must be an integer from 1 to 65536, got 0/);
  await fails(() => Model.create({ inputSize: 2, hiddenSize: 65537 }), 'ERR_RANGE', /hiddenSize .* got 65537/);
  await fails(() => Model.create({ inputSize: 2, hiddenSize: 2.5 }), 'ERR_TYPE', /hiddenSize must be an integer.* got 2\.5/);
  await fails(() => Model.create({ inputSize: 2, hiddenSize: '8' }), 'ERR_TYPE', /hiddenSize .* got '8'/);
  await fails(() => Model.create({ inputSize: 2 }), 'ERR_OPTION', /hiddenSize is required/);
  await fails(() => Model.create({ inputSize: 2, hiddenSize: [4, 0] }), 'ERR_RANGE', /hiddenSize\[1\]/);
  await fails(() => Model.create({ inputSize: 2, hiddenSize: [4, 4], layers: 3 }), 'ERR_SHAPE', /hiddenSize has 2 sizes but layers is 3/);
  await fails(() => Model.create({ inputSize: 0, hiddenSize: 4 }), 'ERR_RANGE', /inputSize/);
  await fails(() => Model.create({ inputSize: 2, hiddenSize: 4, layers: 17 }), 'ERR_RANGE', /layers .* 1 to 16/);
  await fails(() => Model.create({ inputSize: 2, hiddenSize: 4, dropout: 1 }), 'ERR_RANGE', /dropout/);
  await fails(() => Model.create({ inputSize: 2, hiddenSize: 4, seed: -1 }), 'ERR_RANGE', /seed/);
  assertIntact(bystander, before, 'a bystander model:');
  bystander.dispose();
});

test('an unknown loss, cell or optimizer is refused, listing the choices and the nearest one', async () => {
  const model = await trainedModel();
  await fails(() => Model.create({ inputSize: 2, hiddenSize: 4, loss: 'mes' }), 'ERR_OPTION', [/loss must be one of 'mse'/, /got 'mes'/, /did you mean 'mse'/]);
  await fails(() => Model.create({ inputSize: 2, hiddenSize: 4, loss: 'cross-entropy' }), 'ERR_OPTION', /'softmax-cross-entropy'/);
  await fails(() => Model.create({ inputSize: 2, hiddenSize: 4, cell: 'lsmt' }), 'ERR_OPTION', [/cell must be one of/, /did you mean 'lstm'/]);
  // normalize on a classification model scales its inputs now (issue 16; tests/first-hour.test.js); a bad mode is still refused
  await fails(() => Model.create({ inputSize: 2, hiddenSize: 4, normalize: 'zcore', loss: 'softmax-cross-entropy', outputSize: 3 }), 'ERR_OPTION',
    [/normalize must be one of 'zscore', 'minmax'/, /did you mean 'zscore'/]);
  await failsIntact(model, () => model.train(TRAIN_DATA.inputs, TRAIN_DATA.targets, { optimizer: 'adma' }), 'ERR_OPTION',
    [/optimizer must be one of 'sgd', 'adam', 'adamw', 'rmsprop'/, /did you mean 'adam'/]);
  await failsIntact(model, () => model.train(TRAIN_DATA.inputs, TRAIN_DATA.targets, { optimizer: 'sgd', nesterov: true }), 'ERR_OPTION',
    /nesterov: needs a momentum/);
  await failsIntact(model, () => model.train(TRAIN_DATA.inputs, TRAIN_DATA.targets, { learningRate: NaN }), 'ERR_NOT_FINITE', /learningRate is NaN/);
  await failsIntact(model, () => model.train(TRAIN_DATA.inputs, TRAIN_DATA.targets, { learningRate: -1 }), 'ERR_RANGE', /learningRate/);
  await failsIntact(model, () => model.train(TRAIN_DATA.inputs, TRAIN_DATA.targets, { epochs: 1.5 }), 'ERR_TYPE', /epochs must be an integer/);
  await failsIntact(model, () => model.train(TRAIN_DATA.inputs, TRAIN_DATA.targets, { batchSize: 0 }), 'ERR_RANGE', /batchSize/);
  await failsIntact(model, () => model.train(TRAIN_DATA.inputs, TRAIN_DATA.targets, { onEpochEnd: 1 }), 'ERR_TYPE', /onEpochEnd must be a function/);
  await failsIntact(model, () => model.train(TRAIN_DATA.inputs, TRAIN_DATA.targets, { signal: {} }), 'ERR_TYPE', /AbortSignal/);
  model.dispose();
});

test('gate switches that contradict the cell, or that no cell has, are refused with the reason', async () => {
  await fails(() => Model.create({ inputSize: 2, hiddenSize: 4, cell: 'gru', gates: { forget: false } }), 'ERR_OPTION', /apply to the LSTM cells, not 'gru'/);
  await fails(() => Model.create({ inputSize: 2, hiddenSize: 4, cell: 'peephole', gates: { peepholes: false } }), 'ERR_OPTION', /cell 'peephole' is defined by peepholes: true/);
  await fails(() => Model.create({ inputSize: 2, hiddenSize: 4, gates: { fullRecurrence: 'yes' } }), 'ERR_TYPE', /gates\.fullRecurrence/);
  await fails(() => Model.create({ inputSize: 2, hiddenSize: 4, gates: { forgat: false } }), 'ERR_OPTION', /did you mean 'forget'/);
  await fails(() => Model.create({ inputSize: 2, hiddenSize: 4, gates: { coupled: true, input: false } }), 'ERR_OPTION', /coupled needs the input gate/);
  await fails(() => Model.create({ inputSize: 2, hiddenSize: 4, cell: 'lstm2000' }), 'ERR_OPTION', /cell/);
});

// ------------------------------------------------------------ data

test('inputs with the wrong feature count, ragged features or empty are refused with their position', async () => {
  const model = await trainedModel();
  await failsIntact(model, () => model.predict([[[1, 2, 3]]]), 'ERR_SHAPE', /inputs\[0\]\[0\] has 3 features but inputSize is 2/);
  await failsIntact(model, () => model.predict([[1, 2, 3]]), 'ERR_SHAPE', /inputs\[0\]\[0\] is a number \(1 feature\) but inputSize is 2/);
  await failsIntact(model, () => model.predict([[[1, 2], [3, 4]], [[1, 2], [3, 4], [5]]]), 'ERR_SHAPE', /inputs\[1\]\[2\] has 1 feature but inputSize is 2/);
  await failsIntact(model, () => model.predict([[[1, 2]], [3, 4]]), 'ERR_SHAPE', /inputs\[1\]\[0\] is 3 but the steps of inputs\[0\] are arrays/);
  await failsIntact(model, () => model.predict([]), 'ERR_SHAPE', /inputs is empty/);
  await failsIntact(model, () => model.predict([[[1, 2]], []]), 'ERR_SHAPE', /inputs\[1\] is empty/);
  await failsIntact(model, () => model.predict([[[]]]), 'ERR_SHAPE', /inputs\[0\]\[0\] (is an empty array|has 0 features)/);
  await failsIntact(model, () => model.predict(42), 'ERR_TYPE', /inputs must be an array of sequences/);
  await failsIntact(model, () => model.predict({ data: new Float32Array(6), shape: [1, 3, 3] }), 'ERR_SHAPE', /inputs\.shape\[2\] is 3 but inputSize is 2/);
  await failsIntact(model, () => model.predict({ data: new Float32Array(5), shape: [1, 3, 2] }), 'ERR_SHAPE', /inputs\.data has 5 values but shape \[1,3,2\] needs 6/);
  await failsIntact(model, () => model.predict({ data: new Float32Array(6), shape: [1, 3, 2], lengths: [4] }), 'ERR_RANGE', /inputs\.lengths\[0\]/);
  await failsIntact(model, () => model.train([[[1, 2, 3]]], [1]), 'ERR_SHAPE', /inputs\[0\]\[0\] has 3 features/);
  await failsIntact(model, () => model.evaluate([], []), 'ERR_SHAPE', /inputs is empty/);
  model.dispose();
});

test('NaN and Infinity in inputs are refused and the message names their position', async () => {
  const model = await trainedModel();
  const withValue = (v) => [[[1, 2], [3, 4], [5, 6]], [[1, 2], [3, 4], [5, v]]];
  await failsIntact(model, () => model.predict(withValue(NaN)), 'ERR_NOT_FINITE', /inputs\[1\]\[2\]\[1\] is NaN/);
  await failsIntact(model, () => model.predict(withValue(Infinity)), 'ERR_NOT_FINITE', /inputs\[1\]\[2\]\[1\] is Infinity/);
  await failsIntact(model, () => model.predict(withValue(-Infinity)), 'ERR_NOT_FINITE', /inputs\[1\]\[2\]\[1\] is -Infinity/);
  await failsIntact(model, () => model.predict(withValue(1e39)), 'ERR_RANGE', /inputs\[1\]\[2\]\[1\] is 1e\+39, beyond float32 range/);
  await failsIntact(model, () => model.predict(withValue('7')), 'ERR_TYPE', /inputs\[1\]\[2\]\[1\] must be a number, got '7'/);
  await failsIntact(model, () => model.train(withValue(NaN), [1, 2]), 'ERR_NOT_FINITE', /inputs\[1\]\[2\]\[1\] is NaN/);
  await failsIntact(model, () => model.evaluate(withValue(NaN), [1, 2]), 'ERR_NOT_FINITE', /inputs\[1\]\[2\]\[1\] is NaN/);
  await failsIntact(model, () => model.forward(withValue(NaN)), 'ERR_NOT_FINITE', /x\[1\]\[2\]\[1\] is NaN/);
  const data = new Float32Array(12);
  data[9] = NaN; // [1][1][1] of shape [2, 3, 2]
  await failsIntact(model, () => model.predict({ data, shape: [2, 3, 2] }), 'ERR_NOT_FINITE', /inputs\[1\]\[1\]\[1\] \(inputs\.data\[9\]\) is NaN/);

  const scalar = await Model.create({ inputSize: 1, hiddenSize: 3, seed: 2 });
  await fails(() => scalar.predict([[1, 2, 3], [4, 5, NaN]]), 'ERR_NOT_FINITE', /inputs\[1\]\[2\] is NaN/);
  scalar.dispose();
  model.dispose();
});

test('targets of the wrong count, NaN, or with a class out of range are refused and name the target', async () => {
  const model = await trainedModel();
  const { inputs, targets } = TRAIN_DATA;
  await failsIntact(model, () => model.train(inputs, targets.slice(1)), 'ERR_SHAPE', /targets has 11 entries but inputs has 12 sequences/);
  await failsIntact(model, () => model.train(inputs, [...targets, 1]), 'ERR_SHAPE', /targets has 13 entries/);
  await failsIntact(model, () => model.train(inputs, targets.map((t, i) => (i === 4 ? NaN : t))), 'ERR_NOT_FINITE', /targets\[4\] is NaN/);
  await failsIntact(model, () => model.train(inputs, targets.map((t, i) => (i === 7 ? -Infinity : t))), 'ERR_NOT_FINITE', /targets\[7\] is -Infinity/);
  await failsIntact(model, () => model.train(inputs, targets.map((t) => [t, t])), 'ERR_SHAPE', /targets\[0\] has 2 values but outputSize is 1/);
  await failsIntact(model, () => model.evaluate(inputs, targets.map((t, i) => (i === 2 ? NaN : t))), 'ERR_NOT_FINITE', /targets\[2\] is NaN/);
  await failsIntact(model, () => model.train(inputs, targets, { validationData: [PROBE, [1, 2, NaN]] }), 'ERR_NOT_FINITE', /validationData\[1\]\[2\] is NaN/);
  model.dispose();

  const classifier = await Model.create({ inputSize: 2, hiddenSize: 4, outputSize: 3, loss: 'softmax-cross-entropy', seed: 5 });
  const labels = inputs.map((_, i) => i % 3);
  await classifier.train(inputs, labels, { epochs: 1 });
  const before = snapshot(classifier);
  await fails(() => classifier.train(inputs, labels.map((c, i) => (i === 5 ? 3 : c))), 'ERR_RANGE',
    /targets\[5\] is class 3 but outputSize is 3; class indices run from 0 to 2/);
  await fails(() => classifier.train(inputs, labels.map((c, i) => (i === 1 ? -1 : c))), 'ERR_RANGE', /targets\[1\] is class -1/);
  await fails(() => classifier.train(inputs, labels.map((c, i) => (i === 0 ? 1.5 : c))), 'ERR_TYPE', /targets\[0\] is 1\.5; a class index must be an integer/);
  await fails(() => classifier.evaluate(inputs, labels.map((c, i) => (i === 9 ? 7 : c))), 'ERR_RANGE', /targets\[9\] is class 7/);
  await fails(() => classifier.train(inputs, labels.map(() => [0, 2, 0])), 'ERR_RANGE', /targets\[0\]\[1\] is 2; class targets/);
  assertIntact(classifier, before, 'classifier:');
  classifier.dispose();
});

test('a train() refused for bad targets leaves the weights, optimizer state and scalers bit-identical', async () => {
  const { inputs, targets } = TRAIN_DATA;
  for (const trained of [false, true]) {
    const model = trained ? await trainedModel() : await Model.create({ inputSize: 2, hiddenSize: 5, seed: 11 });
    const bytes = model.save();
    const before = bits(Object.values(model.parameters()).flatMap((a) => [...a]));
    await fails(() => model.train(inputs, targets.map((t, i) => (i === 11 ? NaN : t))), 'ERR_NOT_FINITE', /targets\[11\]/);
    assert.deepEqual(bits(Object.values(model.parameters()).flatMap((a) => [...a])), before);
    assert.deepEqual(model.save(), bytes, 'save() differs: optimizer state, step count, scalers or RNG changed');
    model.dispose();
  }
});

// ------------------------------------------------------------ divergence

test('a learning rate so large that training diverges throws ERR_DIVERGED or ends finite, and the model stays usable', async () => {
  for (const optimizer of ['sgd', 'adam', 'rmsprop']) {
    for (const batchSize of [1, 16]) {
      const model = await Model.create({ inputSize: 2, hiddenSize: 6, seed: 3 });
      let history = null;
      try {
        history = await model.train(TRAIN_DATA.inputs, TRAIN_DATA.targets.map((t) => t * 1000), { epochs: 5, batchSize, optimizer, learningRate: 1e6 });
      } catch (err) {
        isLstmError(err, 'ERR_DIVERGED', [/not finite/, /try a lower learningRate or clipNorm/]);
      }
      const label = `${optimizer}, batchSize ${batchSize}`;
      if (history) assert.ok(history.loss.every(Number.isFinite), `${label}: history ${history.loss}`);
      for (const [name, p] of Object.entries(model.parameters())) assert.ok(p.every(Number.isFinite), `${label}: ${name} is not finite`);
      const out = model.predict(PROBE);
      assert.ok(out.every(Number.isFinite), `${label}: predict gives ${out}`);
      model.dispose();
    }
  }
});

test('an update that would overflow float32 is refused with ERR_DIVERGED and leaves the weights finite', async () => {
  // Targets near the float32 maximum (valid inputs) with a large step: the
  // gradient itself is finite, but lr * gradient is not.
  const inputs = TRAIN_DATA.inputs.slice(0, 4);
  for (const optimizer of ['sgd', 'adam']) {
    const model = await Model.create({ inputSize: 2, hiddenSize: 4, seed: 1, normalize: false });
    const before = snapshot(model);
    await fails(() => model.train(inputs, inputs.map((_, b) => (b % 2 ? 1e38 : -1e38)),
      { epochs: 2, batchSize: 1, optimizer, learningRate: 1e6, shuffle: false }), 'ERR_DIVERGED', /not finite/);
    for (const [name, p] of Object.entries(model.parameters())) {
      assert.ok(p.every(Number.isFinite), `${optimizer}: ${name} holds ${p.find((x) => !Number.isFinite(x))} after ERR_DIVERGED`);
    }
    assert.ok(model.predict(before.probe).every(Number.isFinite), `${optimizer}: predict is not finite`);
    model.dispose();
  }
});

// ------------------------------------------------------------ disposal

test('every method of a disposed model throws ERR_DISPOSED, and dispose() twice is fine', async () => {
  const model = await trainedModel();
  model.dispose();
  model.dispose();
  const methods = Object.getOwnPropertyNames(Model.prototype).filter((k) =>
    k !== 'constructor' && k !== 'dispose' && typeof Object.getOwnPropertyDescriptor(Model.prototype, k).value === 'function');
  for (const name of ['train', 'fit', 'predict', 'evaluate', 'parameters', 'setParameters', 'forward', 'backward', 'save', 'toSafetensors']) {
    assert.ok(methods.includes(name), `Model.prototype.${name} is missing`);
  }
  for (const name of methods) {
    await fails(() => model[name](TRAIN_DATA.inputs, TRAIN_DATA.targets), 'ERR_DISPOSED', /this model was disposed; create or load a new one/);
  }
  assert.throws(() => model.config, (err) => isLstmError(err, 'ERR_DISPOSED'));
});

test('disposing a model while it trains stops train() with ERR_DISPOSED', async () => {
  const model = await Model.create({ inputSize: 2, hiddenSize: 5, seed: 4 });
  const before = (await engine('simd')).heapUsed();
  const run = model.train(TRAIN_DATA.inputs, TRAIN_DATA.targets, {
    epochs: 3, batchSize: 2, yieldEvery: 0, onBatchEnd: ({ batch }) => { if (batch === 1) setImmediate(() => model.dispose()); },
  });
  await assert.rejects(run, (err) => isLstmError(err, 'ERR_DISPOSED', /disposed/));
  assert.ok((await engine('simd')).heapUsed() < before, 'the model and the training buffers were not freed');
});

// ------------------------------------------------------------ model bytes

test('Model.load refuses random bytes, every truncation and every flipped byte of save() with ERR_FORMAT', async () => {
  const model = await trainedModel();
  const bytes = model.save();
  const next = rng(FUZZ_SEED);
  const e = await engine('simd');
  const heap = e.heapUsed();
  for (let k = 0; k < RANDOM_BLOBS; k++) {
    const junk = Uint8Array.from({ length: Math.floor(next() * 300) }, () => Math.floor(next() * 256));
    await fails(() => Model.load(junk), 'ERR_FORMAT', /./);
  }
  await fails(() => Model.load(new Uint8Array(0)), 'ERR_FORMAT', /./);
  for (let n = 0; n < bytes.length; n += n < 64 ? 1 : 37) {
    await fails(() => Model.load(bytes.subarray(0, n)), 'ERR_FORMAT', /./);
  }
  for (let i = 0; i < bytes.length; i++) {
    const bad = bytes.slice();
    bad[i] ^= 1 + Math.floor(next() * 255);
    await fails(() => Model.load(bad), 'ERR_FORMAT', /./);
  }
  await fails(() => Model.load('not bytes'), 'ERR_TYPE', /./);
  assert.equal(e.heapUsed(), heap, 'a refused load left memory allocated');
  const again = await Model.load(bytes);
  assert.deepEqual(snapshot(again).prediction, snapshot(model).prediction, 'the intact bytes load and predict the same');
  again.dispose(), model.dispose();
});

test('Model.load refuses well-formed files whose model is impossible, and frees what it allocated', async () => {
  const model = await trainedModel();
  const { config, tensors, extra } = decodeModel(model.save());
  const e = await engine('simd');
  const heap = e.heapUsed();
  const variants = [
    [{ config: { ...config, hiddenSize: [0] }, tensors, extra }, /bad configuration: hiddenSize\[0\]/],
    [{ config: { ...config, loss: 'nope' }, tensors, extra }, /bad configuration: loss/],
    [{ config, tensors: tensors.map((t) => (t.name === 'params' ? { ...t, data: t.data.subarray(1) } : t)), extra }, /'params' should hold \d+ values/],
    [{ config, tensors: tensors.filter((t) => t.name !== 'optimizer'), extra }, /'optimizer' should hold/],
    [{ config, tensors: tensors.map((t) => (t.name === 'params' ? { ...t, data: Float32Array.from(t.data, (v, i) => (i === 3 ? NaN : v)) } : t)), extra },
      /params\[3\] is not finite/],
    [{ config, tensors, extra: { ...extra, optimizer: { kind: 9, steps: 1 } } }, /bad optimizer state/],
    [{ config, tensors, extra: { ...extra, scalers: { input: { mode: 'log', shift: [], scale: [] } } } }, /bad scaler/],
  ];
  for (const [parts, pattern] of variants) await fails(() => Model.load(encodeModel(parts)), 'ERR_FORMAT', pattern);
  assert.equal(e.heapUsed(), heap, 'a refused load left a model allocated');
  // a valid checksum is not enough: the fields behind it are checked one by one
  const bytes = encodeModel({ config: { ...config, hiddenSize: [70000] }, tensors, extra });
  assert.equal(new DataView(bytes.buffer).getUint32(bytes.length - 4, true), crc32(bytes.subarray(0, bytes.length - 4)));
  await fails(() => Model.load(bytes), 'ERR_FORMAT', /hiddenSize/);
  model.dispose();
});

// ------------------------------------------------------------ PyTorch, parameters

function stateDict(H = 3, I = 2, O = 1) {
  const next = rng(DATA_SEED + 2);
  const t = (shape) => ({ shape, data: Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => next() - 0.5) });
  return {
    'lstm.weight_ih_l0': t([4 * H, I]), 'lstm.weight_hh_l0': t([4 * H, H]), 'lstm.bias_ih_l0': t([4 * H]), 'lstm.bias_hh_l0': t([4 * H]),
    'head.weight': t([O, H]), 'head.bias': t([O]),
  };
}

test('fromPyTorch refuses missing, misshaped or non-finite tensors and names them', async () => {
  const e = await engine('simd');
  const heap = e.heapUsed();
  const good = stateDict();
  const model = await Model.fromPyTorch(good);
  model.dispose();
  const without = (name) => Object.fromEntries(Object.entries(good).filter(([k]) => k !== name));
  const replaced = (name, v) => ({ ...good, [name]: v });
  await fails(() => Model.fromPyTorch({}), 'ERR_FORMAT', /no LSTM, GRU or RNN found: expected weight_ih_l0 and weight_hh_l0/);
  await fails(() => Model.fromPyTorch(without('lstm.weight_hh_l0')), 'ERR_FORMAT', /no LSTM, GRU or RNN found/);
  await fails(() => Model.fromPyTorch(replaced('lstm.weight_ih_l1', good['lstm.weight_ih_l0'])), 'ERR_FORMAT', /layer 1 is missing weight_ih or weight_hh/);
  await fails(() => Model.fromPyTorch(replaced('lstm.weight_hh_l0', { shape: [12, 5], data: new Array(60).fill(0) })), 'ERR_FORMAT',
    /weight_hh_l0 has shape \[12,5\]; an LSTM has \[4·H, H\]/);
  // a GRU's recurrent weights beside an LSTM's input weights
  await fails(() => Model.fromPyTorch(replaced('lstm.weight_hh_l0', { shape: [9, 3], data: new Array(27).fill(0) })), 'ERR_SHAPE',
    /weight_ih_l0 has shape \[12,2\], expected \[9, 2\]/);
  await fails(() => Model.fromPyTorch(replaced('lstm.weight_ih_l0', { shape: [11, 2], data: new Array(22).fill(0) })), 'ERR_SHAPE',
    /weight_ih_l0 has shape \[11,2\], expected \[12, 2\]/);
  await fails(() => Model.fromPyTorch(replaced('lstm.bias_ih_l0', { shape: [11], data: new Array(11).fill(0) })), 'ERR_SHAPE', /bias_ih_l0 must have shape \[12\]/);
  await fails(() => Model.fromPyTorch(replaced('lstm.weight_ih_l0', { shape: [12, 2], data: new Array(23).fill(0) })), 'ERR_SHAPE',
    /'lstm\.weight_ih_l0' has shape \[12,2\] \(24 values\) but 23 values/);
  await fails(() => Model.fromPyTorch(replaced('lstm.bias_hh_l0', { shape: [12], data: [...new Array(11).fill(0), NaN] })), 'ERR_NOT_FINITE',
    /lstm\.bias_hh_l0\[11\] is NaN/);
  await fails(() => Model.fromPyTorch(replaced('head.weight', { shape: [1, 4], data: [0, 0, 0, 0] })), 'ERR_SHAPE',
    /head\.weight has shape \[1,4\]; a head after this LSTM needs \[outputSize, 3\]/);
  await fails(() => Model.fromPyTorch(good, { inputSize: 3 }), 'ERR_OPTION', /inputSize 3 disagrees with the weights \(2\)/);
  await fails(() => Model.fromPyTorch(new Uint8Array([1, 2, 3])), 'ERR_FORMAT', /./);
  await fails(() => Model.fromPyTorch(good, { hiddensize: 3 }), 'ERR_OPTION', /did you mean 'hiddenSize'/);
  assert.equal(e.heapUsed(), heap, 'a refused fromPyTorch left a model allocated');
});

test('setParameters refuses unknown names, wrong lengths and NaN, and then changes nothing at all', async () => {
  const model = await trainedModel();
  const p = model.parameters();
  const fresh = (name, f) => Float32Array.from(p[name], f);
  await failsIntact(model, () => model.setParameters({ weight_ih_l9: p.weight_ih_l0 }), 'ERR_OPTION',
    /no parameter 'weight_ih_l9'; this model has weight_ih_l0, weight_hh_l0/);
  await failsIntact(model, () => model.setParameters({ weight_hh_l0: p.weight_hh_l0.subarray(1) }), 'ERR_SHAPE',
    /'weight_hh_l0' needs 100 values \(shape \[20,5\]\), got 99/);
  await failsIntact(model, () => model.setParameters({ bias_ih_l0: new Float32Array(21) }), 'ERR_SHAPE', /'bias_ih_l0' needs 20 values/);
  await failsIntact(model, () => model.setParameters({ 'head.bias': [NaN] }), 'ERR_NOT_FINITE', /head\.bias\[0\] is NaN/);
  // one good tensor first, then a bad one: the good one must not be written either
  await failsIntact(model, () => model.setParameters({ weight_ih_l0: fresh('weight_ih_l0', () => 0.5), weight_hh_l0: fresh('weight_hh_l0', (v, i) => (i === 7 ? Infinity : v)) }),
    'ERR_NOT_FINITE', /weight_hh_l0\[7\] is Infinity/);
  await failsIntact(model, () => model.setParameters(null), 'ERR_TYPE', /expected \{ name: Float32Array \}/);
  model.dispose();
});

// ------------------------------------------------------------ forward, backward

test('forward() refuses an h0 or c0 of the wrong length, naming the expected count', async () => {
  const model = await trainedModel();
  const x = { data: new Float32Array(2 * 3 * 2).fill(0.25), shape: [2, 3, 2] };
  await failsIntact(model, () => model.forward(x, { h0: new Float32Array(9) }), 'ERR_SHAPE', /forward: h0 needs 10 values .* got 9/);
  await failsIntact(model, () => model.forward(x, { c0: new Float32Array(11) }), 'ERR_SHAPE', /forward: c0 needs 10 values .* got 11/);
  await failsIntact(model, () => model.forward(x, { h0: new Float32Array(10).fill(NaN) }), 'ERR_NOT_FINITE', /h0\[0\]/);
  // time-major [T=2, B=3, I=2]: three sequences, so h0 needs 3 x 5
  await failsIntact(model, () => model.forward(x, { timeMajor: true, h0: new Float32Array(10) }), 'ERR_SHAPE', /h0 needs 15 values/);
  model.dispose();
});

test('backward() before any forward(), twice after one, or after the forward was invalidated, is refused', async () => {
  const model = await trainedModel();
  const x = { data: Float32Array.from({ length: 12 }, (_, i) => Math.sin(i)), shape: [2, 3, 2] };
  const dOut = new Float32Array(2 * 3 * 5).fill(0.1);
  await failsIntact(model, () => model.backward(dOut), 'ERR_OPTION', /backward: call forward\(\) first/);
  // no predict() between forward() and backward() below: predict() reuses the workspace
  const before = snapshot(model);
  model.forward(x);
  await fails(() => model.backward(dOut.subarray(1)), 'ERR_SHAPE', /dOutput needs 30 values, got 29/);
  await fails(() => model.backward(Float32Array.from(dOut, (v, i) => (i === 4 ? NaN : v))), 'ERR_NOT_FINITE', /dOutput\[4\] is NaN/);
  await fails(() => model.backward(dOut, { dh: new Float32Array(9) }), 'ERR_SHAPE', /dh needs 10 values, got 9/);
  const first = model.backward(dOut); // the refused calls above did not consume the forward pass
  assert.ok(first.dx.every(Number.isFinite));
  await fails(() => model.backward(dOut), 'ERR_OPTION', /call forward\(\) first/);
  // a predict() in between overwrites the forward pass: backward() must refuse, as before any forward()
  model.forward(x);
  model.predict(PROBE);
  await fails(() => model.backward(dOut), 'ERR_OPTION', /forward\(\) first/);
  assertIntact(model, before);
  model.dispose();
});

test('a forward() refused for a NaN h0 leaves the previous forward() ready for backward()', async () => {
  const model = await trainedModel();
  const x = { data: Float32Array.from({ length: 12 }, (_, i) => Math.cos(i)), shape: [2, 3, 2] };
  const y = { data: Float32Array.from({ length: 30 }, (_, i) => Math.sin(i)), shape: [3, 5, 2], lengths: [5, 2, 4] };
  const dOut = new Float32Array(2 * 3 * 5).fill(0.1);
  model.forward(x);
  const want = model.backward(dOut);
  model.forward(x);
  await fails(() => model.forward(y, { h0: new Float32Array(15).fill(NaN) }), 'ERR_NOT_FINITE', /h0/);
  const got = model.backward(dOut);
  assert.deepEqual(bits(got.dx), bits(want.dx));
  assert.deepEqual(bits(got.grads.weight_hh_l0), bits(want.grads.weight_hh_l0));
  model.dispose();
});

// ------------------------------------------------------------ concurrency

test('train() called while the model is training is refused; the running train() is unaffected', async () => {
  const { inputs, targets } = TRAIN_DATA;
  const options = { epochs: 3, batchSize: 3, yieldEvery: 0 };
  const alone = await Model.create({ inputSize: 2, hiddenSize: 5, seed: 9 });
  const wantHistory = await alone.train(inputs, targets, options);
  const model = await Model.create({ inputSize: 2, hiddenSize: 5, seed: 9 });
  const first = model.train(inputs, targets, options);
  await fails(() => model.train(inputs, targets, options), 'ERR_OPTION', /already training; await the running train\(\) first/);
  await fails(() => model.fit(inputs, targets, options), 'ERR_OPTION', /already training/);
  const history = await first;
  assert.deepEqual(history.loss, wantHistory.loss);
  const a = model.parameters(), b = alone.parameters();
  for (const name of Object.keys(b)) assert.deepEqual(bits(a[name]), bits(b[name]), name);
  await model.train(inputs, targets, { epochs: 1 }); // and it trains again once the first is done
  model.dispose(), alone.dispose();
});

test('no refused call leaks wasm memory', async () => {
  const e = await engine('simd');
  const model = await trainedModel();
  model.predict(PROBE); // workspace at its size
  const heap = e.heapUsed();
  for (let k = 0; k < 20; k++) {
    await fails(() => model.predict([[[1, NaN]]]), 'ERR_NOT_FINITE');
    await fails(() => model.train(TRAIN_DATA.inputs, TRAIN_DATA.targets.slice(1)), 'ERR_SHAPE');
    await fails(() => model.forward(PROBE, { h0: new Float32Array(5 * 3).fill(NaN) }), 'ERR_NOT_FINITE');
    await fails(() => model.setParameters({ 'head.bias': [NaN] }), 'ERR_NOT_FINITE');
  }
  model.predict(PROBE);
  assert.equal(e.heapUsed(), heap);
  model.dispose();
});

test('simd, locateWasm and engine of the wrong type are refused, naming the option, in create, load and fromPyTorch', async () => {
  const model = await trainedModel();
  const before = snapshot(model);
  const base = { inputSize: 2, hiddenSize: 4 };
  // simd: 'no' once loaded the SIMD build without a word
  await fails(() => Model.create({ ...base, simd: 'no' }), 'ERR_TYPE', /simd must be true or false, got 'no'/);
  await fails(() => Model.create({ ...base, simd: 0 }), 'ERR_TYPE', /simd must be true or false, got 0/);
  await fails(() => Model.create({ ...base, locateWasm: 'x' }), 'ERR_TYPE', /locateWasm must be a function, got 'x'/);
  await fails(() => Model.create({ ...base, engine: {} }), 'ERR_TYPE', [/engine must be an engine from loadEngine\(\), got an object/, /leave it out/]);
  await fails(() => Model.create({ ...base, engine: 5 }), 'ERR_TYPE', /engine must be an engine from loadEngine\(\), got 5/);
  const bytes = model.save();
  await fails(() => Model.load(bytes, { simd: 'yes' }), 'ERR_TYPE', /simd must be true or false/);
  await fails(() => Model.load(bytes, { engine: {} }), 'ERR_TYPE', /engine must be an engine/);
  await fails(() => Model.fromPyTorch(model.toSafetensors(), { locateWasm: 42 }), 'ERR_TYPE', /locateWasm must be a function, got 42/);
  assertIntact(model, before);
  // the right types still work: a real engine, simd: false
  const scalar = await Model.create({ ...base, simd: false, seed: 11 });
  assert.equal(scalar.engine.variant, 'scalar');
  const shared = await Model.create({ ...base, engine: await engine('simd') });
  assert.equal(shared.engine.variant, 'simd');
  for (const m of [model, scalar, shared]) m.dispose();
});

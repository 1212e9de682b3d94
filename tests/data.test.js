// Tests for web/data.js and web/validate.js: nested and fast-form conversion
// with ragged lengths, every input error (code and path in the message),
// windows(), scaling, and the seeded shuffle. No wasm is loaded here.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  toSequences, toTargets, fromOutputs, windows, fitScaler, applyScaler, invertScaler,
  shuffledIndices, splitIndices,
} from '../web/data.js';
import { checkOptions, checkInt, checkNumber, checkOneOf, checkBool, checkFunction } from '../web/validate.js';
import { LstmError } from '../web/errors.js';

// apply then invert rounds to float32 twice (about 6e-8 each), amplified by
// |x - shift| / |x|, which stays below 4 for the data used here.
const ROUND_TRIP_REL = 1e-6;
// Statistics are computed in double then rounded to float32 once.
const STATS_REL = 1e-6;

/** Asserts fn throws an LstmError with `code` whose message matches every pattern. */
function throwsLstm(fn, code, ...patterns) {
  assert.throws(fn, (err) => {
    assert.ok(err instanceof LstmError, `expected LstmError, got ${err}`);
    assert.equal(err.code, code, err.message);
    for (const p of patterns) assert.ok(err.message.includes(p), `"${err.message}" should contain "${p}"`);
    return true;
  });
}

const close = (got, want, rel) => Math.abs(got - want) <= rel * Math.max(Math.abs(want), 1e-30);

// ---- toSequences ----

test('nested sequences of vectors become a zero-padded batch-first buffer with lengths', () => {
  const s = toSequences([[[1, 2], [3, 4], [5, 6]], [[7, 8]]]);
  assert.deepEqual(s.shape, [2, 3, 2]);
  assert.deepEqual(Array.from(s.lengths), [3, 1]);
  assert.deepEqual(Array.from(s.data), [1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0]);
  assert.equal(s.scalarSteps, false);
});

test('scalar steps give inputSize 1 and are reported as scalarSteps', () => {
  const s = toSequences([[1, 2], [3, 4, 5]], { inputSize: 1 });
  assert.deepEqual(s.shape, [2, 3, 1]);
  assert.deepEqual(Array.from(s.data), [1, 2, 0, 3, 4, 5]);
  assert.deepEqual(Array.from(s.lengths), [2, 3]);
  assert.equal(s.scalarSteps, true);
});

test('typed arrays are accepted as sequences and as steps', () => {
  const s = toSequences([Float32Array.of(1, 2), Float64Array.of(3)]);
  assert.deepEqual(s.shape, [2, 2, 1]);
  assert.deepEqual(Array.from(s.data), [1, 2, 3, 0]);
  const v = toSequences([[Float32Array.of(1, 2)]]);
  assert.deepEqual(v.shape, [1, 1, 2]);
});

test('the fast form is copied, its padding zeroed, and lengths default to T', () => {
  const data = Float32Array.of(1, 2, 3, 4, 5, 6, 7, 8);
  const s = toSequences({ data, shape: [2, 2, 2], lengths: [2, 1] });
  assert.deepEqual(Array.from(s.data), [1, 2, 3, 4, 5, 6, 0, 0]);
  assert.notEqual(s.data, data);
  assert.equal(data[6], 7, 'the caller’s buffer is untouched');
  const full = toSequences({ data: [1, 2, 3], shape: [3, 1, 1] });
  assert.deepEqual(Array.from(full.lengths), [1, 1, 1]);
  assert.equal(full.scalarSteps, false);
});

test('the fast form ignores NaN in padding but names NaN in valid steps by [b][t][i]', () => {
  const data = Float32Array.of(1, 2, 3, NaN);
  assert.deepEqual(Array.from(toSequences({ data, shape: [2, 2, 1], lengths: [2, 1] }).data), [1, 2, 3, 0]);
  throwsLstm(() => toSequences({ data, shape: [2, 2, 1] }), 'ERR_NOT_FINITE', 'inputs[1][1][0]', 'inputs.data[3]', 'NaN');
});

test('rejects inputs that are not arrays of sequences', () => {
  throwsLstm(() => toSequences('abc'), 'ERR_TYPE', 'inputs must be an array');
  throwsLstm(() => toSequences(5), 'ERR_TYPE', 'got 5');
  throwsLstm(() => toSequences({ data: [1] }), 'ERR_TYPE', 'inputs must be');
  throwsLstm(() => toSequences([]), 'ERR_SHAPE', 'inputs is empty');
  throwsLstm(() => toSequences(['abc']), 'ERR_TYPE', "inputs[0] must be an array of steps, got 'abc'");
  throwsLstm(() => toSequences([1, 2, 3]), 'ERR_TYPE', 'inputs[0]', 'wrap it');
  throwsLstm(() => toSequences([[1], []]), 'ERR_SHAPE', 'inputs[1] is empty');
  throwsLstm(() => toSequences([[[]]]), 'ERR_SHAPE', 'inputs[0][0] is an empty array');
});

test('rejects NaN, Infinity and non-numbers and names their position', () => {
  const bad = [[[0, 0]], [[0, 0]], [[0, 0]], Array.from({ length: 8 }, () => [0, 0])];
  bad[3][7][1] = NaN;
  throwsLstm(() => toSequences(bad), 'ERR_NOT_FINITE', 'inputs[3][7][1] is NaN');
  throwsLstm(() => toSequences([[1, -Infinity]]), 'ERR_NOT_FINITE', 'inputs[0][1] is -Infinity');
  throwsLstm(() => toSequences([[1, '2']]), 'ERR_TYPE', "inputs[0][1] must be a number, got '2'");
  throwsLstm(() => toSequences([[[1, null]]], { name: 'x' }), 'ERR_TYPE', 'x[0][0][1] must be a number, got null');
  throwsLstm(() => toSequences([[1, 1e39]]), 'ERR_RANGE', 'inputs[0][1] is 1e+39, beyond float32 range');
  throwsLstm(() => toSequences({ data: [1, -1e39], shape: [1, 2, 1] }), 'ERR_RANGE', 'inputs[0][1][0] (inputs.data[1]) is -1e+39');
});

test('rejects ragged feature sizes, naming both the step and the reference', () => {
  throwsLstm(() => toSequences([[[1, 2]], [[1, 2]], [[1, 2, 3]]]), 'ERR_SHAPE',
    'inputs[2] has steps of 3 features but inputs[0] has 2');
  throwsLstm(() => toSequences([[[1, 2], [1]]]), 'ERR_SHAPE', 'inputs[0][1] has 1 feature but inputs[0][0] has 2');
  throwsLstm(() => toSequences([[1, 2], [[3]]]), 'ERR_SHAPE', 'inputs[1][0] is an array but the steps of inputs[0] are numbers');
  throwsLstm(() => toSequences([[[1]], [2]]), 'ERR_SHAPE', 'inputs[1][0] is 2 but the steps of inputs[0] are arrays');
});

test('checks every step against inputSize and says expected and got', () => {
  throwsLstm(() => toSequences([[[1, 2]], [[1, 2, 3]]], { inputSize: 2 }), 'ERR_SHAPE',
    'inputs[1][0] has 3 features but inputSize is 2');
  throwsLstm(() => toSequences([[[1, 2, 3]]], { inputSize: 2 }), 'ERR_SHAPE', 'inputs[0][0] has 3 features but inputSize is 2');
  throwsLstm(() => toSequences([[1, 2, 3]], { inputSize: 3 }), 'ERR_SHAPE', 'inputSize is 3', 'wrap it: [inputs]');
  throwsLstm(() => toSequences({ data: new Float32Array(6), shape: [1, 2, 3] }, { inputSize: 2 }), 'ERR_SHAPE',
    'inputs.shape[2] is 3 but inputSize is 2');
});

test('rejects fast forms with bad shapes, sizes or lengths', () => {
  throwsLstm(() => toSequences({ data: new Float32Array(4), shape: [2, 2] }), 'ERR_SHAPE', 'inputs.shape must be [B, T, I], got [2, 2]');
  throwsLstm(() => toSequences({ data: new Float32Array(4), shape: [2, 0, 2] }), 'ERR_SHAPE', 'inputs.shape[1] is 0');
  throwsLstm(() => toSequences({ data: new Float32Array(7), shape: [2, 2, 2] }), 'ERR_SHAPE', 'inputs.data has 7 values', 'needs 8');
  throwsLstm(() => toSequences({ data: 'abcd', shape: [1, 2, 2] }), 'ERR_TYPE', 'inputs.data must be');
  throwsLstm(() => toSequences({ data: new Float32Array(4), shape: [2, 2, 1], lengths: [1] }), 'ERR_SHAPE',
    'inputs.lengths has 1 entry but inputs.shape[0] is 2');
  throwsLstm(() => toSequences({ data: new Float32Array(4), shape: [2, 2, 1], lengths: [1, 3] }), 'ERR_RANGE',
    'inputs.lengths[1]', 'from 1 to 2', 'got 3');
  throwsLstm(() => toSequences({ data: new Float32Array(4), shape: [2, 2, 1], lengths: Int32Array.of(0, 1) }), 'ERR_RANGE',
    'inputs.lengths[0]');
});

// ---- toTargets and fromOutputs ----

const lens = (...l) => Int32Array.from(l);

test('many-to-one number targets give (B, 1) and come back as numbers', () => {
  const t = toTargets([1.5, 2, 3], { batch: 3, lengths: lens(1, 1, 1), steps: 1, outputSize: 1, perStep: false, classes: false });
  assert.deepEqual(Array.from(t.data), [1.5, 2, 3]);
  assert.equal(t.scalar, true);
  assert.deepEqual(fromOutputs(t.data, { batch: 3, steps: 1, outputSize: 1, perStep: false, scalar: t.scalar }), [1.5, 2, 3]);
});

test('class indices are one-hot encoded and vectors are taken as given', () => {
  const opts = { batch: 3, lengths: lens(1, 1, 1), steps: 1, outputSize: 3, perStep: false, classes: true };
  const t = toTargets([2, [0.25, 0.75, 0], 0], opts);
  assert.deepEqual(Array.from(t.data), [0, 0, 1, 0.25, 0.75, 0, 1, 0, 0]);
  assert.equal(t.scalar, false);
  const out = fromOutputs(t.data, { ...opts, scalar: t.scalar });
  assert.deepEqual(out, [[0, 0, 1], [0.25, 0.75, 0], [1, 0, 0]]);
});

test('with one sigmoid output a class target is a probability number', () => {
  const t = toTargets([0, 1], { batch: 2, lengths: lens(1, 1), steps: 1, outputSize: 1, perStep: false, classes: true });
  assert.deepEqual(Array.from(t.data), [0, 1]);
  assert.equal(t.scalar, true);
});

test('per-step targets follow ragged lengths, zero-padded, and come back ragged', () => {
  const opts = { batch: 2, lengths: lens(3, 1), steps: 3, outputSize: 2, perStep: true, classes: false };
  const t = toTargets([[[1, 2], [3, 4], [5, 6]], [[7, 8]]], opts);
  assert.deepEqual(Array.from(t.data), [1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0]);
  assert.deepEqual(fromOutputs(t.data, { ...opts, scalar: t.scalar }), [[[1, 2], [3, 4], [5, 6]], [[7, 8]]]);
  const s = toTargets([[1, 2], [3]], { ...opts, lengths: lens(2, 1), steps: 2, outputSize: 1 });
  assert.deepEqual(Array.from(s.data), [1, 2, 3, 0]);
  assert.deepEqual(fromOutputs(s.data, { batch: 2, steps: 2, outputSize: 1, lengths: lens(2, 1), perStep: true, scalar: s.scalar }),
    [[1, 2], [3]]);
});

test('fast-form targets are checked against batch, steps and outputSize, padding zeroed', () => {
  const opts = { batch: 2, lengths: lens(2, 1), steps: 2, outputSize: 1, perStep: true, classes: false };
  const t = toTargets({ data: Float32Array.of(1, 2, 3, NaN), shape: [2, 2, 1] }, opts);
  assert.deepEqual(Array.from(t.data), [1, 2, 3, 0]);
  assert.equal(t.scalar, false);
  throwsLstm(() => toTargets({ data: new Float32Array(3), shape: [3, 1] }, { ...opts, perStep: false }), 'ERR_SHAPE',
    'targets.shape[0] is 3 but inputs has 2 sequences');
  throwsLstm(() => toTargets({ data: new Float32Array(6), shape: [2, 3, 1] }, opts), 'ERR_SHAPE', 'targets.shape[1] is 3 but inputs has 2 steps');
  throwsLstm(() => toTargets({ data: new Float32Array(4), shape: [2, 2] }, { ...opts, perStep: false }), 'ERR_SHAPE',
    'targets.shape[1] is 2 but outputSize is 1');
  throwsLstm(() => toTargets({ data: Float32Array.of(1, Infinity), shape: [2, 1] }, { ...opts, perStep: false }), 'ERR_NOT_FINITE',
    'targets[1][0]', 'Infinity');
  throwsLstm(() => toTargets({ data: Float32Array.of(0.5, 2), shape: [2, 1] }, { ...opts, perStep: false, classes: true }), 'ERR_RANGE',
    'targets[1][0]', 'from 0 to 1');
});

test('rejects targets with the wrong count, shape, class or value and names the path', () => {
  const one = { batch: 10, lengths: new Int32Array(10).fill(1), steps: 1, outputSize: 5, perStep: false, classes: true };
  throwsLstm(() => toTargets(new Array(9).fill(0), one), 'ERR_SHAPE', 'targets has 9 entries but inputs has 10 sequences');
  throwsLstm(() => toTargets('abc', one), 'ERR_TYPE', 'targets must be an array');
  throwsLstm(() => toTargets([0, 0, 0, 0, 7, 0, 0, 0, 0, 0], one), 'ERR_RANGE', 'targets[4] is class 7 but outputSize is 5');
  throwsLstm(() => toTargets([0, 0, 1.5, 0, 0, 0, 0, 0, 0, 0], one), 'ERR_TYPE', 'targets[2] is 1.5', 'integer from 0 to 4');
  throwsLstm(() => toTargets([0, [1, 0], 0, 0, 0, 0, 0, 0, 0, 0], one), 'ERR_SHAPE', 'targets[1] has 2 values but outputSize is 5');
  throwsLstm(() => toTargets([0, [0, 0, 2, 0, 0], 0, 0, 0, 0, 0, 0, 0, 0], one), 'ERR_RANGE', 'targets[1][2] is 2');
  throwsLstm(() => toTargets([0, 0, 0, NaN, 0, 0, 0, 0, 0, 0], one), 'ERR_NOT_FINITE', 'targets[3] is NaN');
  const reg = { batch: 2, lengths: lens(1, 1), steps: 1, outputSize: 3, perStep: false, classes: false };
  throwsLstm(() => toTargets([[1, 2, 3], 4], reg), 'ERR_SHAPE', 'targets[1] is a number but outputSize is 3', 'array of 3 numbers');
  throwsLstm(() => toTargets([[1, 2, 3], [1, 2, '3']], reg), 'ERR_TYPE', "targets[1][2] must be a number, got '3'");
  const seq = { batch: 2, lengths: lens(3, 2), steps: 3, outputSize: 1, perStep: true, classes: false };
  throwsLstm(() => toTargets([[1, 2, 3], [1, 2, 3]], seq), 'ERR_SHAPE', 'targets[1] has 3 steps but inputs[1] has 2');
  throwsLstm(() => toTargets([[1, 2, 3], 4], seq), 'ERR_TYPE', 'targets[1] must be an array of 2 per-step targets');
  throwsLstm(() => toTargets([[1, 2, 3], [1, -Infinity]], seq), 'ERR_NOT_FINITE', 'targets[1][1] is -Infinity');
});

// ---- windows ----

test('windows cuts a scalar series into inputs and next-value targets', () => {
  const { inputs, targets } = windows([1, 2, 3, 4, 5], { window: 3 });
  assert.deepEqual(inputs, [[1, 2, 3], [2, 3, 4]]);
  assert.deepEqual(targets, [4, 5]);
});

test('windows honours horizon and stride', () => {
  const { inputs, targets } = windows(Float32Array.of(0, 1, 2, 3, 4, 5, 6, 7), { window: 2, horizon: 2, stride: 3 });
  assert.deepEqual(inputs, [[0, 1], [3, 4]]);
  assert.deepEqual(targets, [[2, 3], [5, 6]]);
});

test('windows on a vector series gives vector steps and flattened multi-step targets', () => {
  const series = [[0, 10], [1, 11], [2, 12], [3, 13]];
  const one = windows(series, { window: 2 });
  assert.deepEqual(one.inputs, [[[0, 10], [1, 11]], [[1, 11], [2, 12]]]);
  assert.deepEqual(one.targets, [[2, 12], [3, 13]]);
  const two = windows(series, { window: 2, horizon: 2 });
  assert.deepEqual(two.targets, [[2, 12, 3, 13]]);
  // The pairs feed straight into the converters.
  assert.deepEqual(toSequences(two.inputs).shape, [1, 2, 2]);
});

test('windows says how long the series must be and rejects bad values', () => {
  throwsLstm(() => windows([1, 2, 3], { window: 3 }), 'ERR_SHAPE', 'series has 3 steps', 'at least 4');
  throwsLstm(() => windows([1, 2, 3, 4], { window: 2, horizon: 3 }), 'ERR_SHAPE', 'window 2 + horizon 3 needs at least 5');
  throwsLstm(() => windows([1, 2, 3], {}), 'ERR_TYPE', 'window must be an integer >= 1, got undefined');
  throwsLstm(() => windows([1, 2, 3], { window: 1, stride: 0 }), 'ERR_RANGE', 'stride');
  throwsLstm(() => windows([1, 2, 3], { windw: 1 }), 'ERR_OPTION', "did you mean 'window'");
  throwsLstm(() => windows([1, NaN, 3], { window: 1 }), 'ERR_NOT_FINITE', 'series[1] is NaN');
  throwsLstm(() => windows([[1, 2], [3]], { window: 1 }), 'ERR_SHAPE', 'series[1]');
  throwsLstm(() => windows('12345', { window: 1 }), 'ERR_TYPE', 'series must be an array');
});

// ---- scaling ----

test('zscore scaling round-trips and gives mean 0 and std 1', () => {
  const data = Float32Array.from({ length: 300 }, (_, k) => (k % 3 === 0 ? 1000 + (k % 17) : k % 3 === 1 ? -5 + k * 0.01 : 42));
  const scaler = fitScaler(data, { width: 3 });
  assert.equal(scaler.mode, 'zscore');
  assert.equal(scaler.scale[2], 1, 'a constant feature gets scale 1');
  assert.equal(scaler.shift[2], 42);
  const scaled = applyScaler(data.slice(), scaler);
  for (let j = 0; j < 2; j++) {
    const col = Array.from(scaled).filter((_, k) => k % 3 === j);
    const mean = col.reduce((a, x) => a + x, 0) / col.length;
    const std = Math.sqrt(col.reduce((a, x) => a + (x - mean) ** 2, 0) / col.length);
    assert.ok(Math.abs(mean) < 1e-5, `mean ${mean}`);
    assert.ok(Math.abs(std - 1) < 1e-5, `std ${std}`);
  }
  const back = invertScaler(scaled, scaler);
  data.forEach((x, k) => assert.ok(close(back[k], x, ROUND_TRIP_REL), `${back[k]} vs ${x}`));
});

test('minmax scaling maps each feature onto 0..1 and round-trips', () => {
  const data = Float32Array.of(2, -1, 4, 0, 6, 1);
  const scaler = fitScaler(data, { width: 2, mode: 'minmax' });
  assert.deepEqual(scaler, { mode: 'minmax', shift: [2, -1], scale: [4, 2] });
  assert.deepEqual(Array.from(applyScaler(data, scaler)), [0, 0, 0.5, 0.5, 1, 1]);
  assert.deepEqual(Array.from(invertScaler(data, scaler)), [2, -1, 4, 0, 6, 1]);
});

test('scaler statistics ignore padding past each length, and padding can stay zero', () => {
  // (B=2, T=3, width=1); padding holds junk that must not count.
  const data = Float32Array.of(1, 2, 3, 10, 999, -999);
  const lengths = lens(3, 1);
  const z = fitScaler(data, { width: 1, steps: 3, lengths });
  const mean = 4, std = Math.sqrt((9 + 4 + 1 + 36) / 4);
  assert.ok(close(z.shift[0], mean, STATS_REL) && close(z.scale[0], std, STATS_REL), JSON.stringify(z));
  const m = fitScaler(data, { width: 1, steps: 3, lengths, mode: 'minmax' });
  assert.deepEqual([m.shift[0], m.scale[0]], [1, 9]);
  const padded = toSequences([[1, 2, 3], [10]]);
  applyScaler(padded.data, z, { steps: 3, lengths: padded.lengths });
  assert.deepEqual([padded.data[4], padded.data[5]], [0, 0]);
});

test('fitScaler rejects an unknown mode', () => {
  throwsLstm(() => fitScaler(new Float32Array(2), { width: 1, mode: 'zscor' }), 'ERR_OPTION', "'zscore', 'minmax'", "did you mean 'zscore'");
});

// ---- shuffling and splitting ----

test('shuffledIndices is a permutation fixed by its seed', () => {
  const a = shuffledIndices(1000, 42);
  assert.ok(a instanceof Int32Array);
  assert.deepEqual(Array.from(a).sort((x, y) => x - y), Array.from({ length: 1000 }, (_, k) => k));
  assert.deepEqual(shuffledIndices(1000, 42), a);
  assert.notDeepEqual(shuffledIndices(1000, 43), a);
  assert.notDeepEqual(Array.from(a), Array.from({ length: 1000 }, (_, k) => k));
  assert.deepEqual(Array.from(shuffledIndices(0, 1)), []);
  assert.deepEqual(Array.from(shuffledIndices(1, 1)), [0]);
});

test('shuffledIndices gives the same permutation in every engine', () => {
  // Reference from an independent Python port of mulberry32 + Fisher-Yates
  // (unbounded integers masked to 32 bits), so JS integer semantics are checked.
  assert.deepEqual(Array.from(shuffledIndices(10, 42)), [1, 3, 9, 5, 2, 8, 4, 0, 7, 6]);
});

test('shuffledIndices rejects a bad seed or size', () => {
  throwsLstm(() => shuffledIndices(10, 1.5), 'ERR_TYPE', 'seed');
  throwsLstm(() => shuffledIndices(10, -1), 'ERR_RANGE', 'seed');
  throwsLstm(() => shuffledIndices(-1, 1), 'ERR_RANGE', 'n');
});

test('splitIndices keeps the last fraction for validation and at least one for training', () => {
  assert.deepEqual(splitIndices(10, 0.2), { train: Int32Array.of(0, 1, 2, 3, 4, 5, 6, 7), validation: Int32Array.of(8, 9) });
  assert.deepEqual(splitIndices(5, 0), { train: Int32Array.of(0, 1, 2, 3, 4), validation: new Int32Array(0) });
  assert.deepEqual(splitIndices(2, 0.9), { train: Int32Array.of(0), validation: Int32Array.of(1) });
  assert.equal(splitIndices(3, 0.1).validation.length, 0);
  throwsLstm(() => splitIndices(10, 1), 'ERR_RANGE', 'validationSplit must be below 1');
  throwsLstm(() => splitIndices(10, -0.1), 'ERR_RANGE', 'validationSplit');
});

// ---- validate.js ----

test('checkOptions suggests the nearest option name for a typo', () => {
  const names = ['inputSize', 'hiddenSize', 'layers', 'learningRate', 'batchSize'];
  throwsLstm(() => checkOptions({ hidenSize: 3 }, names, 'Model.create'), 'ERR_OPTION',
    "Model.create: unknown option 'hidenSize' (did you mean 'hiddenSize'?)");
  throwsLstm(() => checkOptions({ learning_rate: 1 }, names, 'train'), 'ERR_OPTION', "did you mean 'learningRate'");
  throwsLstm(() => checkOptions({ lyaers: 1 }, names, 'train'), 'ERR_OPTION', "did you mean 'layers'");
  throwsLstm(() => checkOptions({ foo: 1 }, names, 'train'), 'ERR_OPTION', "unknown option 'foo'; the options are inputSize, hiddenSize");
  throwsLstm(() => checkOptions([1], names, 'train'), 'ERR_TYPE', 'train: options must be a plain object');
  throwsLstm(() => checkOptions(null, names, 'train'), 'ERR_TYPE', 'got null');
  assert.deepEqual(checkOptions(undefined, names, 'train'), {});
  const ok = { layers: 2 };
  assert.equal(checkOptions(ok, names, 'train'), ok);
});

test('value checkers return the value or throw with the allowed range', () => {
  assert.equal(checkInt(3, 'layers', 1, 8), 3);
  assert.equal(checkInt(undefined ?? 1, 'layers', 1), 1);
  throwsLstm(() => checkInt(0, 'layers', 1, 8), 'ERR_RANGE', 'layers must be an integer from 1 to 8, got 0');
  throwsLstm(() => checkInt(2.5, 'layers', 1), 'ERR_TYPE', 'layers must be an integer >= 1, got 2.5');
  throwsLstm(() => checkInt('2', 'layers'), 'ERR_TYPE', "got '2'");
  assert.equal(checkNumber(0.5, 'dropout', 0, 1), 0.5);
  throwsLstm(() => checkNumber(1.5, 'dropout', 0, 1), 'ERR_RANGE', 'dropout must be a number from 0 to 1, got 1.5');
  throwsLstm(() => checkNumber(NaN, 'learningRate', 0), 'ERR_NOT_FINITE', 'learningRate is NaN');
  throwsLstm(() => checkNumber(null, 'learningRate'), 'ERR_TYPE', 'got null');
  assert.equal(checkOneOf('gru', 'cell', ['lstm', 'gru']), 'gru');
  assert.equal(checkOneOf(false, 'normalize', ['zscore', 'minmax', false]), false);
  throwsLstm(() => checkOneOf('lsmt', 'cell', ['lstm', 'gru']), 'ERR_OPTION', "cell must be one of 'lstm', 'gru', got 'lsmt'", "did you mean 'lstm'");
  assert.equal(checkBool(true, 'shuffle'), true);
  throwsLstm(() => checkBool(1, 'shuffle'), 'ERR_TYPE', 'shuffle must be true or false, got 1');
  const f = () => {};
  assert.equal(checkFunction(f, 'onEpochEnd'), f);
  throwsLstm(() => checkFunction('f', 'onEpochEnd'), 'ERR_TYPE', 'onEpochEnd must be a function');
});

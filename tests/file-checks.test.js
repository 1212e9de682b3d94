// web/file-checks.js: behind a valid checksum, every field of a model file is
// checked as Model.create checks the same option (issue 11, defect 6): the
// scalers, optimizer state, generator state, counters, names, annotations and
// TextModel's vocabulary. Each refusal is ERR_FORMAT naming the field, frees
// what the load allocated, and the untouched file still loads.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Model, TextModel } from '../web/index.js';
import { LstmError } from '../web/errors.js';
import { decodeModel, encodeModel } from '../web/format.js';
import { engine } from './helpers.js';
import { rewrite } from './model-bytes.js';

const SEED = 7;

async function refused(promise, pattern) {
  await assert.rejects(promise, (err) => {
    assert.ok(err instanceof LstmError, `expected LstmError, got ${err?.name}: ${err?.message}`);
    assert.equal(err.code, 'ERR_FORMAT', err.message);
    assert.match(err.message, pattern);
    return true;
  });
}

/** A regression model with fitted scalers: 2 inputs around 1000, 1 output. */
async function scaledModel() {
  const m = await Model.create({ inputSize: 2, hiddenSize: 3, seed: SEED });
  const x = Array.from({ length: 6 }, (_, b) => Array.from({ length: 4 }, (_, t) => [1000 + b + t, 50 - t]));
  await m.train(x, x.map((s) => s[3][0] + 1), { epochs: 1 });
  assert.ok(decodeModel(m.save()).extra.scalers.input, 'the model has scalers');
  return m;
}

test('the untouched files load: rewrite() itself changes nothing', async () => {
  const m = await scaledModel();
  const bytes = m.save();
  assert.deepEqual(rewrite(bytes), bytes);
  const back = await Model.load(bytes);
  assert.deepEqual(back.predict([[[1001, 49]]]), m.predict([[[1001, 49]]]));
  m.dispose(), back.dispose();
});

test('scalers with a non-number, beyond float32, zero, negative or of the wrong width are refused', async () => {
  const m = await scaledModel();
  const bytes = m.save();
  const e = await engine('simd');
  const heap = e.heapUsed();
  const withScaler = (side, edit) => rewrite(bytes, (x) => { edit(x.scalers[side]); return x; });
  const cases = [
    [withScaler('input', (s) => { s.shift = ['x', s.shift[1]]; }), /scalers\.input: shift\[0\] is 'x', not a number/],
    // JSON.stringify never writes 1e400; JSON.parse reads it as Infinity
    [rewrite(bytes, (x) => JSON.stringify(x).replace(/"scale":\[[^\]]*\]/, '"scale":[1e400,1]')), /scalers\.input: scale\[0\] is Infinity, not a finite float32/],
    [withScaler('input', (s) => { s.shift[1] = 1e39; }), /shift\[1\] is 1e\+39, not a finite float32/],
    [withScaler('target', (s) => { s.scale[0] = 0; }), /scalers\.target: scale\[0\] is 0; a scale must be above 0/],
    [withScaler('target', (s) => { s.scale[0] = -2; }), /scale\[0\] is -2; a scale must be above 0/],
    [withScaler('target', (s) => { s.scale[0] = 1e-46; }), /scale\[0\] is 1e-46; a scale must be above 0/], // rounds to float32 0
    [withScaler('input', (s) => { s.shift.push(0); s.scale.push(1); }), /scalers\.input: shift has 3 values; the model's inputSize is 2/],
    [withScaler('target', (s) => { s.scale.pop(); }), /scalers\.target: scale has 0 values; the model's outputSize is 1/],
    [withScaler('input', (s) => { s.mode = 'log'; }), /mode 'log' is not one of 'zscore', 'minmax'/],
    [withScaler('input', (s) => { s.mode = 'minmax'; }), /mode 'minmax' disagrees with the configuration's normalize 'zscore'/],
    [withScaler('input', (s) => { s.offset = 1; }), /scalers\.input: unknown field 'offset'/],
    [rewrite(bytes, (x) => ({ ...x, scalers: { input: x.scalers.input, target: null } })), /an input scaler but no target scaler/],
    [rewrite(bytes, (x) => ({ ...x, scalers: [1] })), /bad scaler: scalers: expected \{ input, target \}/],
  ];
  for (const [file, pattern] of cases) await refused(Model.load(file), pattern);
  assert.equal(e.heapUsed(), heap, 'a refused load left a model allocated');
  m.dispose();
});

test('a scaler on a classification model is refused', async () => {
  const m = await Model.create({ inputSize: 2, hiddenSize: 3, outputSize: 3, loss: 'softmax-cross-entropy', seed: SEED });
  const scaler = { mode: 'zscore', shift: [0, 0], scale: [1, 1] };
  const file = rewrite(m.save(), (x) => ({ ...x, scalers: { input: scaler, target: { ...scaler, shift: [0, 0, 0], scale: [1, 1, 1] } } }));
  await refused(Model.load(file), /bad scaler: scalers: a softmax-cross-entropy model takes no scaling/);
  m.dispose();
});

test('optimizer kind and steps, rng, epochsTrained, window, names and annotations are checked one by one', async () => {
  const m = await scaledModel();
  const bytes = m.save();
  const set = (field, value) => rewrite(bytes, (x) => ({ ...x, [field]: value }));
  const cases = [
    [set('optimizer', { kind: 4, steps: 1 }), /bad optimizer state: optimizer\.kind is 4, not an integer from 0 to 3/],
    [set('optimizer', { kind: 1, steps: -1 }), /optimizer\.steps is -1/],
    [set('optimizer', { kind: 1, steps: 1.5 }), /optimizer\.steps is 1\.5/],
    [set('optimizer', { kind: '1', steps: 1 }), /optimizer\.kind is '1'/],
    [set('optimizer', { kind: 1, steps: 2 ** 60 }), /optimizer\.steps is 1152921504606847000/],
    [set('optimizer', { kind: 1, steps: 1, moments: 2 }), /unknown field 'moments' in optimizer/],
    [set('optimizer', 3), /optimizer is 3, not \{ kind, steps \}/],
    [set('rng', [1]), /rng is an array of 1, not \[lo, hi\]/],
    [set('rng', [1, 2 ** 32]), /rng\[1\] is 4294967296, not an integer from 0 to 4294967295/],
    [set('rng', [-1, 0]), /rng\[0\] is -1/],
    [set('rng', 'seed'), /rng is 'seed'/],
    [set('epochsTrained', -3), /epochsTrained is -3/],
    [set('epochsTrained', 0.5), /epochsTrained is 0\.5/],
    [set('window', 2 ** 31), /window is 2147483648, not an integer from 0 to 2147483647/],
    [set('window', '4'), /window is '4'/],
    [set('names', { prefix: 3, head: 'head.' }), /names\.prefix is 3, not a state-dict prefix/],
    [set('names', { prefix: 'lstm.', head: '\ud800' }), /names\.head is .*, not a state-dict prefix/],
    [set('names', { prefix: 'x'.repeat(2000), head: 'head.' }), /names\.prefix is .*not a state-dict prefix/],
    [set('names', { prefix: '', head: 'head.', tail: '' }), /unknown field 'tail' in names/],
    [set('annotations', [1]), /annotations is an array of 1, not an object/],
    [set('annotations', { textModel: 5 }), /textModel: expected \{ vocabulary, mode \}, got 5/],
    [set('annotations', { other: 1 }), /unknown annotation 'other'/],
    [set('schedule', 1), /unknown field 'schedule' in extra/],
    [rewrite(bytes, () => [1, 2]), /extra is an array of 2, not a JSON object/],
    [rewrite(bytes, (x) => x, (c) => ({ ...c, layers: 2 })), /bad configuration: layers is 2 but hiddenSize has 1 sizes/],
    [rewrite(bytes, (x) => x, (c) => ({ ...c, hiddenSize: 3 })), /bad configuration: hiddenSize is 3, not an array of sizes/],
  ];
  for (const [file, pattern] of cases) await refused(Model.load(file), pattern);
  // extra may be null (no field at all): defaults, and the model works
  const bare = await Model.load(rewrite(bytes, () => null));
  assert.equal(bare.predict([[[1, 2]]]).length, 1);
  bare.dispose(), m.dispose();
});

test('TextModel.load checks the vocabulary and that the model is a character model over it', async () => {
  const tm = await TextModel.create({ hiddenSize: 4, layers: 1, vocabulary: 'abc', seed: SEED });
  await tm.train('abcabcab', { epochs: 1, seqLength: 4 });
  const bytes = tm.save();
  const vocab = (v) => rewrite(bytes, (x) => { x.annotations.textModel.vocabulary = v; return x; });
  const cases = [
    [vocab([{}, 'b', 'c']), /vocabulary\[0\] is an object, not a non-empty string/],
    [vocab([1, 'b', 'c']), /vocabulary\[0\] is 1, not a non-empty string/],
    [vocab(['', 'b', 'c']), /vocabulary\[0\] is '', not a non-empty string/],
    [vocab(['a', 'a', 'c']), /vocabulary\[1\] 'a' appears twice/],
    [vocab(['a', '\u0000', 'c']), /vocabulary\[1\] holds '\\u0000', the boundary token/],
    [vocab(['a', 'b']), /2 characters need inputSize and outputSize 3 .* got 4 and 4/],
    [vocab(['a', 'b', 'c', 'd']), /4 characters need inputSize and outputSize 5/],
    [vocab('abc'), /vocabulary is 'abc', not a non-empty array of strings/],
    [vocab([]), /vocabulary is an array of 0/],
    [rewrite(bytes, (x) => { x.annotations.textModel.mode = 'poem'; return x; }), /mode is 'poem', not 'text' or 'strings'/],
    [rewrite(bytes, (x) => x, (c) => ({ ...c, returnSequences: false })), /a character model predicts every step/],
    [rewrite(bytes, (x) => x, (c) => ({ ...c, loss: 'sigmoid-cross-entropy' })), /a character model has loss 'softmax-cross-entropy'/],
  ];
  for (const [file, pattern] of cases) {
    await refused(TextModel.load(file), pattern);
    await refused(Model.load(file), pattern); // the annotation is part of the file Model.load checks
  }
  // a Model that is not a TextModel's
  const plain = await Model.create({ inputSize: 4, outputSize: 4, hiddenSize: 3, loss: 'softmax-cross-entropy', returnSequences: true });
  await refused(TextModel.load(plain.save()), /a Model without a vocabulary; use Model.load/);
  const back = await TextModel.load(bytes);
  assert.equal(back.generate('a', 5, { seed: 1 }), tm.generate('a', 5, { seed: 1 }));
  plain.dispose(), back.dispose(), tm.dispose();
});

test('a model file with a tensor besides params and optimizer is refused, naming it', async () => {
  const m = await Model.create({ inputSize: 2, hiddenSize: 3 });
  const parts = decodeModel(m.save());
  parts.tensors.push({ name: 'extra', data: new Float32Array(2) });
  await refused(Model.load(encodeModel(parts)), /unknown tensor 'extra'/);
  m.dispose();
});

test('a configuration that needs more parameters than the file holds is refused before anything is allocated', async () => {
  const m = await Model.create({ inputSize: 2, hiddenSize: 3 });
  const bytes = m.save();
  const e = await engine('simd');
  const heap = e.heapUsed(), bytesBefore = e.memory.buffer.byteLength;
  // sizes whose products wrap at 32 bits (issue 11): the floor is computed in doubles
  for (const config of [{ inputSize: 1, hiddenSize: [32768] }, { inputSize: 65536, hiddenSize: [65536] }, { hiddenSize: [46341], cell: 'gru', bidirectional: true, gates: null },
    { hiddenSize: [10] }, { outputSize: 100 }]) {
    await refused(Model.load(rewrite(bytes, (x) => x, (c) => ({ ...c, ...config, layers: config.hiddenSize?.length ?? c.layers }))),
      /the configuration needs at least \d+ parameters; the file's 'params' holds 88/);
  }
  assert.equal(e.heapUsed(), heap);
  assert.equal(e.memory.buffer.byteLength, bytesBefore, 'the wasm memory grew');
  m.dispose();
});

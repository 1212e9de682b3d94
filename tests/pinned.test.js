// Pins the exact result of short fixed training runs: a CRC-32 of the
// parameters' float32 bits, of the loss history's float64 bits and of save()'s
// bytes, each computed with the training loop as it was inside Model.train
// (commit 78b5727) before it moved to web/trainer.js. A restructuring of the
// loop, the scaling or the file writer that changes any bit fails here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Model, TextModel } from '../web/index.js';
import { crc32 } from '../web/format.js';
import { engine, lcg } from './helpers.js';

// The SIMD build, named explicitly: the scalar build rounds differently.
const simd = await engine('simd');

const hex = (n) => n.toString(16).padStart(8, '0');
const crcOf = (typed) => hex(crc32(new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength)));
function fingerprint(model, history) {
  const p = model.parameters();
  const names = Object.keys(p).sort();
  const flat = new Float32Array(names.reduce((n, k) => n + p[k].length, 0));
  let at = 0;
  for (const k of names) { flat.set(p[k], at); at += p[k].length; }
  return {
    params: crcOf(flat),
    loss: crcOf(Float64Array.from([...history.loss, ...history.valLoss])),
    epochs: history.epochs,
    // the file ends with the CRC-32 of the bytes before it (a CRC over all of it would be a constant)
    save: (() => { const b = model.save(); return `${b.length}:${crcOf(b.subarray(0, b.length - 4))}`; })(),
  };
}

/** Ragged sequences of 2 features, as nested arrays, and per-row or per-step targets. */
function ragged(seed, n, maxT, perStep) {
  const rand = lcg(seed);
  const x = Array.from({ length: n }, () => Array.from({ length: 1 + Math.floor(rand() * maxT) }, () => [rand(), rand() - 0.5]));
  const y = x.map((s) => (perStep ? s.map((v) => v[0] + 2 * v[1]) : s.reduce((a, v) => a + v[0] * v[1], 0)));
  return { x, y };
}

/** Fixed-length sequences in the fast form. */
function dense(seed, n, T, I) {
  const rand = lcg(seed);
  const data = Float32Array.from({ length: n * T * I }, () => rand() * 10 + 100);
  const y = new Float32Array(n);
  for (let b = 0; b < n; b++) for (let t = 0; t < T; t++) y[b] += data[(b * T + t) * I] * (t % 2 ? 1 : -1);
  return { inputs: { data, shape: [n, T, I] }, targets: { data: y, shape: [n, 1] } };
}

const RUNS = {
  'many-to-one, validationSplit, scaled': {
    create: { inputSize: 3, hiddenSize: 8, seed: 5 },
    data: () => { const d = dense(1, 40, 7, 3); return [d.inputs, d.targets]; },
    train: { epochs: 3, batchSize: 8, validationSplit: 0.25, learningRate: 0.01 },
    want: { params: 'cd808439', loss: '3401def7', epochs: 3, save: '5941:ac0eecf6' },
  },
  'many-to-many, truncate': {
    create: { inputSize: 2, hiddenSize: 6, returnSequences: true, seed: 9 },
    data: () => { const d = ragged(2, 24, 13, true); return [d.x, d.y]; },
    train: { epochs: 2, batchSize: 5, truncate: 4, learningRate: 0.01, clipNorm: 1 },
    want: { params: '73cfc61c', loss: '1ec563ea', epochs: 2, save: '3775:9131bd07' },
  },
  'schedule (cosine) and validationData, sgd with momentum': {
    create: { inputSize: 2, hiddenSize: 5, cell: 'gru', seed: 3 },
    data: () => { const d = ragged(3, 30, 6, false); return [d.x, d.y]; },
    train: (() => { const v = ragged(4, 10, 6, false); return { epochs: 4, batchSize: 7, optimizer: 'sgd', momentum: 0.9,
      learningRate: 0.05, schedule: { type: 'cosine' }, validationData: [v.x, v.y] }; })(),
    want: { params: '2ea5939e', loss: '2167ee32', epochs: 4, save: '2340:a300743e' },
  },
  'ragged lengths, classification, no shuffle': {
    create: { inputSize: 2, hiddenSize: 7, outputSize: 3, loss: 'softmax-cross-entropy', cell: 'peephole', seed: 12 },
    data: () => { const d = ragged(5, 33, 9, false); return [d.x, d.y.map((v) => (v > 0.3 ? 2 : v > 0 ? 1 : 0))]; },
    train: { epochs: 2, batchSize: 6, shuffle: false, optimizer: 'rmsprop', learningRate: 0.01, schedule: { type: 'step', every: 1, gamma: 0.5 } },
    want: { params: 'dc880f6b', loss: '6bfe34df', epochs: 2, save: '4885:c44d6742' },
  },
  'dropout, 2 layers, bidirectional, adamw': {
    create: { inputSize: 2, hiddenSize: [6, 4], dropout: 0.3, bidirectional: true, seed: 21 },
    data: () => { const d = ragged(6, 20, 8, false); return [d.x, d.y]; },
    train: { epochs: 2, batchSize: 4, optimizer: 'adamw', learningRate: 0.01, clipValue: 0.5, schedule: { type: 'exponential', gamma: 0.9 } },
    want: { params: 'f7190fcb', loss: 'f8417f11', epochs: 2, save: '13601:c539233f' },
  },
};

for (const [name, run] of Object.entries(RUNS)) {
  test(`pinned bits after a short training run: ${name}`, async () => {
    const model = await Model.create({ ...run.create, engine: simd });
    const history = await model.train(...run.data(), run.train);
    const got = fingerprint(model, history);
    model.dispose();
    assert.deepEqual(got, run.want);
  });
}

test('pinned bits after a short training run: TextModel on one text', async () => {
  const tm = await TextModel.create({ hiddenSize: 12, layers: 2, seed: 4, engine: simd });
  const history = await tm.train('the quick brown fox jumps over the lazy dog; '.repeat(6), { epochs: 2, seqLength: 16, batchSize: 4 });
  const got = fingerprint(tm.model, history);
  tm.dispose();
  assert.deepEqual(got, { params: '0357f41d', loss: 'bf7b21ca', epochs: 2, save: '45070:3d917fa5' });
});

test('pinned bytes of save(): an untrained model, and one from PyTorch names', async () => {
  const fresh = await Model.create({ inputSize: 2, hiddenSize: [3, 2], outputSize: 2, cell: 'cifg', seed: 8, engine: simd });
  const a = fresh.save();
  fresh.dispose();
  const plain = await Model.create({ inputSize: 3, hiddenSize: 4, outputSize: 1, seed: 8, engine: simd });
  const st = plain.toSafetensors();
  plain.dispose();
  const imported = await Model.fromPyTorch(st, { engine: simd });
  const b = imported.save();
  imported.dispose();
  const pin = (bytes) => `${bytes.length}:${crcOf(bytes.subarray(0, bytes.length - 4))}`;
  assert.deepEqual([pin(a), pin(b)], ['2384:440db5e4', '2419:1c3f7443']);
});

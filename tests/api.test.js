// The API a page needs beyond train/predict: forecast() in a series' own
// units, stream() step by step, trace() against a recomputation from the
// parameters, and TextModel on a list of names.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Model, TextModel, windows } from '../web/index.js';
import { lcg, relErr } from './helpers.js';

const STREAM_TOL = 1e-6; // stream and predict run the same kernels on the same numbers; only the batch order differs

test('forecast() continues a raw series around 1000 with a yearly cycle better than repeating the last value', async () => {
  // 12 steps a year, trend and noise: monthly values around 1000
  const rand = lcg(1);
  const noise = () => (rand() - 0.5) * 20;
  const series = Array.from({ length: 240 }, (_, t) => 1000 + t * 0.5 + 150 * Math.sin((2 * Math.PI * t) / 12) + noise());
  const train = series.slice(0, 216), held = series.slice(216);
  const { inputs, targets } = windows(train, { window: 24 });
  const model = await Model.create({ inputSize: 1, hiddenSize: 24, seed: 1 });
  await model.train(inputs, targets, { epochs: 40, learningRate: 0.01, batchSize: 16 });
  const forecast = model.forecast(train, held.length);
  assert.equal(forecast.length, held.length);
  const mae = (pred) => pred.reduce((a, p, k) => a + Math.abs(p - held[k]), 0) / held.length;
  const naive = mae(held.map(() => train.at(-1)));
  assert.ok(mae(forecast) < 0.5 * naive, `forecast MAE ${mae(forecast).toFixed(1)} vs naive ${naive.toFixed(1)}`);
  model.dispose();
});

for (const [cell, gates] of [['lstm', {}], ['gru', {}], ['rnn', {}], ['peephole', { fullRecurrence: true }], ['lstm1997', { originalSquashing: true }]]) test(`stream() step by step gives the outputs predict() gives on the whole sequence (${cell} ${JSON.stringify(gates)})`, async () => {
  const model = await Model.create({ inputSize: 2, hiddenSize: [6, 5], outputSize: 3, returnSequences: true, loss: 'softmax-cross-entropy', seed: 4, cell, gates });
  const seq = Array.from({ length: 9 }, (_, t) => [Math.sin(t), Math.cos(2 * t)]);
  const whole = model.predict([seq])[0];
  const s = model.stream();
  for (let round = 0; round < 2; round++) {
    seq.forEach((x, t) => assert.ok(relErr(s.step(x), whole[t]) < STREAM_TOL, `step ${t}`));
    s.reset(); // the second round starts from a zero state again
  }
  s.dispose();
  assert.throws(() => s.step(seq[0]), { code: 'ERR_DISPOSED' });
  const bi = await Model.create({ inputSize: 2, hiddenSize: 3, bidirectional: true, seed: 1 });
  assert.throws(() => bi.stream(), /bidirectional/);
  model.dispose(), bi.dispose();
});

test('trace() values match a recomputation of the LSTM equations from the parameters', async () => {
  const model = await Model.create({ inputSize: 2, hiddenSize: [4, 3], bidirectional: true, outputSize: 1, normalize: false, seed: 6 });
  const seq = Array.from({ length: 5 }, (_, t) => [0.3 * t - 0.5, Math.sin(t)]);
  const trace = model.trace(seq);
  const p = model.parameters();
  const sig = (x) => 1 / (1 + Math.exp(-x));
  let input = seq;
  for (let layer = 0; layer < 2; layer++) {
    const H = [4, 3][layer];
    const outs = [];
    for (const [d, sfx] of [[0, ''], [1, '_reverse']]) {
      const W = p[`weight_ih_l${layer}${sfx}`], U = p[`weight_hh_l${layer}${sfx}`], b1 = p[`bias_ih_l${layer}${sfx}`], b2 = p[`bias_hh_l${layer}${sfx}`];
      const In = input[0].length, T = input.length;
      let h = new Array(H).fill(0), c = new Array(H).fill(0);
      const hs = [];
      const tr = trace.find((e) => e.layer === layer && e.direction === (d ? 'reverse' : 'forward'));
      for (let k = 0; k < T; k++) {
        const t = d ? T - 1 - k : k;
        const a = Array.from({ length: 4 * H }, (_, r) => b1[r] + b2[r]
          + input[t].reduce((s, v, i) => s + W[r * In + i] * v, 0) + h.reduce((s, v, j) => s + U[r * H + j] * v, 0));
        const gi = a.slice(0, H).map(sig), gf = a.slice(H, 2 * H).map(sig), gg = a.slice(2 * H, 3 * H).map(Math.tanh), go = a.slice(3 * H).map(sig);
        c = c.map((cv, j) => gf[j] * cv + gi[j] * gg[j]);
        h = c.map((cv, j) => go[j] * Math.tanh(cv));
        for (const [name, want] of [['i', gi], ['f', gf], ['g', gg], ['o', go], ['c', c], ['h', h]]) {
          assert.ok(relErr(tr[name][t], want) < 1e-5, `layer ${layer} ${tr.direction} ${name} at t=${t}`);
        }
        hs[t] = h;
      }
      outs.push(hs);
    }
    input = outs[0].map((hf, t) => [...hf, ...outs[1][t]]);
  }
  model.dispose();
});

const NAMES = readFileSync(new URL('./fixtures/names.txt', import.meta.url), 'utf8').trim().split(/\s+/);

test('a TextModel trained on names generates mostly new, name-like strings, the same for the same seed', async () => {
  const tm = await TextModel.create({ hiddenSize: 64, layers: 1, seed: 1 });
  await tm.train(NAMES, { epochs: 12, batchSize: 32, learningRate: 0.01 });
  const made = Array.from({ length: 40 }, (_, k) => tm.generate('', 16, { temperature: 1, seed: k }));
  const nameLike = made.filter((w) => /^[A-Z][a-z]{2,11}$/.test(w));
  const fresh = nameLike.filter((w) => !NAMES.includes(w));
  assert.ok(nameLike.length >= 30, `name-like: ${nameLike.length}/40: ${made.join(' ')}`);
  assert.ok(fresh.length >= 15, `new: ${fresh.length}/40: ${made.join(' ')}`);
  assert.equal(tm.generate('', 16, { temperature: 1, seed: 3 }), made[3]);
  assert.notEqual(tm.generate('', 16, { seed: 4 }) + tm.generate('', 16, { seed: 5 }), made[0] + made[0]);
  const again = await TextModel.load(tm.save());
  assert.deepEqual(again.vocabulary, tm.vocabulary);
  assert.equal(again.generate('Ma', 16, { seed: 9 }), tm.generate('Ma', 16, { seed: 9 }));
  assert.throws(() => tm.generate('Q!', 5), /not in the vocabulary/);
  tm.dispose(), again.dispose();
});

test('a TextModel learns a paragraph and continues a prompt from it', async () => {
  const text = 'the quick brown fox jumps over the lazy dog. '.repeat(12);
  const tm = await TextModel.create({ hiddenSize: 48, layers: 2, seed: 2 });
  await tm.train(text, { epochs: 40, seqLength: 32, batchSize: 8, learningRate: 0.01 });
  assert.equal(tm.generate('the quick brown ', 8, { temperature: 0.2, seed: 1 }), 'fox jump');
  tm.dispose();
});

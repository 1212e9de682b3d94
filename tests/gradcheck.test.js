// Gradients against central finite differences, in the double-precision
// build of the scalar engine (lstm-f64.wasm): every loss, many-to-one and
// many-to-many, stacked, bidirectional and ragged batches; and the gradients
// of inputs and initial states through forward()/backward().
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Model } from '../web/index.js';
import { engine, relErr, rng } from './helpers.js';

const EPS = 1e-4;          // step for parameters and states: truncation error ~1e-8, roundoff of the loss (~1e-15) / EPS ~1e-11
const EPS_X = 2 ** -12;    // step for inputs: they pass through float32, so steps and values are exact binary fractions
// Measured agreement: 6e-13..3.5e-8 over losses x shapes (median 2e-9), up to
// 2.1e-7 in the cell cases (rnn bias_ih_l1 and bias_hh_l1; median 2e-9), 6e-10
// for the initial states. The medians shrink with EPS, so truncation, not
// roundoff; the margin is for the kinks of mae and huber.
const PARAM_TOL = 1e-6;
const INPUT_TOL = 1e-5;    // second-order error of the larger input step


/** A ragged batch: values on a 2^-12 grid so that ±EPS_X stays exact in float32. */
function batch(rand, B, I, lengths) {
  return lengths.slice(0, B).map((len) => Array.from({ length: len }, () =>
    Array.from({ length: I }, () => Math.round((rand() * 2 - 1) * 4096) / 4096)));
}

function targets(rand, loss, O, inputs, perStep) {
  const one = () => {
    if (loss === 'softmax-cross-entropy') return Math.floor(rand() * O);
    if (loss === 'sigmoid-cross-entropy') return Array.from({ length: O }, () => (rand() < 0.5 ? 0 : 1));
    return Array.from({ length: O }, () => rand() * 4 - 2);
  };
  return inputs.map((seq) => (perStep ? seq.map(one) : one()));
}

/** Central differences of the loss for entries `indices` of parameter `name` (restored after). */
function numericGradient(model, x, y, name, values, indices) {
  return indices.map((k) => {
    const w = values[k];
    values[k] = w + EPS;
    model.setParameters({ [name]: values });
    const up = model.gradients(x, y).loss;
    values[k] = w - EPS;
    model.setParameters({ [name]: values });
    const down = model.gradients(x, y).loss;
    values[k] = w;
    model.setParameters({ [name]: values });
    return (up - down) / (2 * EPS);
  });
}

const LOSSES = ['mse', 'mae', 'huber', 'softmax-cross-entropy', 'sigmoid-cross-entropy'];
const SHAPES = [
  { name: 'one layer, many-to-one', hiddenSize: 4, bidirectional: false, returnSequences: false, lengths: [5, 5, 5] },
  { name: 'stacked and bidirectional, many-to-many, ragged', hiddenSize: [3, 4], bidirectional: true, returnSequences: true, lengths: [5, 2, 1, 4] },
  { name: 'stacked, many-to-one, ragged', hiddenSize: [4, 3], bidirectional: false, returnSequences: false, lengths: [3, 6, 1] },
  { name: 'bidirectional, many-to-one, ragged', hiddenSize: 3, bidirectional: true, returnSequences: false, lengths: [2, 5, 4] },
];

for (const loss of LOSSES) {
  for (const shape of SHAPES) {
    test(`${loss}, ${shape.name}: parameter gradients match central differences`, async () => {
      const rand = rng(LOSSES.indexOf(loss) * 100 + SHAPES.indexOf(shape));
      const I = 2, O = 3;
      const model = await Model.create({
        inputSize: I, outputSize: O, hiddenSize: shape.hiddenSize, bidirectional: shape.bidirectional,
        returnSequences: shape.returnSequences, loss, normalize: false, seed: 7, engine: await engine('f64'),
      });
      const x = batch(rand, shape.lengths.length, I, shape.lengths);
      const y = targets(rand, loss, O, x, shape.returnSequences);
      const { grads } = model.gradients(x, y);
      const params = model.parameters();
      for (const [name, values] of Object.entries(params)) {
        const picks = Array.from({ length: Math.min(12, values.length) }, () => Math.floor(rand() * values.length));
        const numeric = numericGradient(model, x, y, name, values, picks);
        const e = relErr(picks.map((k) => grads[name][k]), numeric);
        assert.ok(e < PARAM_TOL, `${name}: relative error ${e.toExponential(2)}`);
      }
      model.dispose();
    });
  }
}

test('input and initial-state gradients match central differences (bidirectional, ragged, stacked)', async () => {
  const rand = rng(99);
  const I = 3, B = 3, lengths = [4, 1, 3], T = 4;
  const model = await Model.create({ inputSize: I, hiddenSize: [3, 2], bidirectional: true, outputSize: 0, engine: await engine('f64') });
  const x = batch(rand, B, I, lengths);
  const nState = 2 * B * 3 + 2 * B * 2;
  const h0 = Float64Array.from({ length: nState }, () => rand() - 0.5);
  const c0 = Float64Array.from({ length: nState }, () => rand() - 0.5);
  const F = 2 * 2;
  const R = Float64Array.from({ length: B * T * F }, () => rand() - 0.5);
  const Rh = Float64Array.from({ length: nState }, () => rand() - 0.5);
  const Rc = Float64Array.from({ length: nState }, () => rand() - 0.5);
  // L = Σ output·R + Σ h_n·Rh + Σ c_n·Rc, as the PyTorch fixtures define it
  const L = (xs, h, c) => {
    const f = model.forward(xs, { h0: h, c0: c });
    let s = 0;
    f.output.forEach((v, i) => { s += v * R[i]; });
    f.h.forEach((v, i) => { s += v * Rh[i]; });
    f.c.forEach((v, i) => { s += v * Rc[i]; });
    return s;
  };
  model.forward(x, { h0, c0 });
  const g = model.backward(R, { dh: Rh, dc: Rc });
  // past a sequence's end the output is a constant zero: no gradient
  for (let b = 0; b < B; b++) for (let t = lengths[b]; t < T; t++) for (let i = 0; i < I; i++) assert.equal(g.dx[(b * T + t) * I + i], 0);
  const numX = [], anaX = [];
  x.forEach((seq, b) => seq.forEach((step, t) => step.forEach((v, i) => {
    step[i] = v + EPS_X; const up = L(x, h0, c0);
    step[i] = v - EPS_X; const down = L(x, h0, c0);
    step[i] = v;
    numX.push((up - down) / (2 * EPS_X));
    anaX.push(g.dx[(b * T + t) * I + i]);
  })));
  assert.ok(relErr(anaX, numX) < INPUT_TOL, `dx: relative error ${relErr(anaX, numX)}`);
  for (const [name, state, grad] of [['h0', h0, g.dh0], ['c0', c0, g.dc0]]) {
    const num = [];
    for (let k = 0; k < nState; k++) {
      const v = state[k];
      state[k] = v + EPS; const up = L(x, h0, c0);
      state[k] = v - EPS; const down = L(x, h0, c0);
      state[k] = v;
      num.push((up - down) / (2 * EPS));
    }
    assert.ok(relErr(grad, num) < PARAM_TOL, `${name}: relative error ${relErr(grad, num)}`);
  }
  model.dispose();
});

test('a ragged bidirectional batch gives each sequence the outputs it gets alone', async () => {
  const rand = rng(5);
  const model = await Model.create({ inputSize: 2, hiddenSize: [4, 3], bidirectional: true, outputSize: 2, returnSequences: true, normalize: false, engine: await engine('f64') });
  const x = batch(rand, 4, 2, [6, 2, 5, 1]);
  const together = model.predict(x);
  x.forEach((seq, b) => {
    const alone = model.predict([seq])[0];
    assert.ok(relErr(together[b].flat(), alone.flat()) < 1e-14, `sequence ${b}`);
  });
  const f = model.forward(x);
  const alone = model.forward([x[3]]);
  // h_n of the reverse direction is its state after reaching t = 0 from the sequence's own end
  const H = 3, B = 4, off = 2 * B * 4; // layer 1 starts after layer 0's two directions of (B, 4)
  for (const d of [0, 1]) {
    const got = f.h.subarray(off + d * B * H + 3 * H, off + d * B * H + 4 * H);
    const want = alone.h.subarray(2 * 4 + d * H, 2 * 4 + (d + 1) * H);
    assert.ok(relErr(got, want) < 1e-14, `h_n direction ${d}`);
  }
  model.dispose();
});

// Every cell and every switch of Greff et al. 2015, each a real change of the
// computation and so of its gradient: stacked, bidirectional, ragged.
const CELL_CASES = [
  ['gru', {}], ['rnn', {}], ['peephole', {}], ['cifg', {}], ['lstm1997', {}], ['lstm1997', { originalSquashing: true }],
  ['lstm', { input: false }], ['lstm', { forget: false }], ['lstm', { output: false }], ['lstm', { inputActivation: false }],
  ['lstm', { outputActivation: false }], ['peephole', { coupled: true }], ['lstm', { coupled: true }],
  ['peephole', { output: false, outputActivation: false }], ['lstm', { fullRecurrence: true }],
  ['peephole', { fullRecurrence: true, coupled: true }],
];
for (const [cell, gates] of CELL_CASES) {
  test(`${cell} ${JSON.stringify(gates)}: gradients of parameters, inputs and states match central differences`, async () => {
    const rand = rng(CELL_CASES.findIndex((c) => c[0] === cell && c[1] === gates) + 300);
    const model = await Model.create({
      inputSize: 2, outputSize: 2, hiddenSize: [3, 2], bidirectional: true, returnSequences: true, cell, gates,
      loss: 'mse', normalize: false, seed: 11, engine: await engine('f64'),
    });
    const x = batch(rand, 3, 2, [4, 1, 3]);
    const y = targets(rand, 'mse', 2, x, true);
    const { grads } = model.gradients(x, y);
    const params = model.parameters();
    for (const [name, values] of Object.entries(params)) {
      const numeric = numericGradient(model, x, y, name, values, values.map((_, k) => k));
      const analytic = Array.from(grads[name]);
      if (numeric.every((v) => v === 0)) {
        assert.ok(analytic.every((v) => v === 0), `${name}: unused, but its gradient is not zero`);
        continue;
      }
      const e = relErr(analytic, numeric);
      assert.ok(e < PARAM_TOL, `${name}: relative error ${e.toExponential(2)}`);
    }
    model.dispose();
  });
}

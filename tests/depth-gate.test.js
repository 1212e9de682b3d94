// The depth-gated LSTM (gates: { depth: true }, Yao et al. 2015, issue 14):
// its forward against the equations written out here in float64, gradients
// of every parameter and of the initial states against central differences
// (stacked, bidirectional, ragged, with peepholes and the coupled gate),
// stream == predict bit for bit, save/load and safetensors round trips, errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Model } from '../web/index.js';
import { bits, engine, relErr, rng } from './helpers.js';

const EPS = 1e-4;
const PARAM_TOL = 1e-6; // as tests/gradcheck.test.js

const batch = (rand, I, lengths) => lengths.map((len) => Array.from({ length: len }, () =>
  Array.from({ length: I }, () => Math.round((rand() * 2 - 1) * 4096) / 4096)));
const sigmoid = (v) => 1 / (1 + Math.exp(-v));

/** One forward stack of depth-gated LSTM layers over one sequence: the top layer's h (T, H). */
function reference(p, L, x) {
  let input = x, below = null;
  for (let l = 0; l < L; l++) {
    const W = p[`weight_ih_l${l}`], U = p[`weight_hh_l${l}`], bi = p[`bias_ih_l${l}`], bh = p[`bias_hh_l${l}`];
    const H = bi.length / 4, I = input[0].length;
    let h = new Array(H).fill(0), c = new Array(H).fill(0);
    const hs = [], cs = [];
    input.forEach((xt, t) => {
      const a = Array.from({ length: 4 * H }, (_, r) => {
        let v = bi[r] + bh[r];
        for (let k = 0; k < I; k++) v += W[r * I + k] * xt[k];
        for (let k = 0; k < H; k++) v += U[r * H + k] * h[k];
        return v;
      });
      const cn = c.map((cp, j) => {
        const i = sigmoid(a[j]), f = sigmoid(a[H + j]), g = Math.tanh(a[2 * H + j]);
        let v = f * cp + i * g;
        if (l > 0) { // d = σ(W_d x + b_d + w_dc ⊙ c(t-1) + w_dl ⊙ c_below(t)); c += d ⊙ c_below(t)
          let ad = p[`bias_depth_l${l}`][j] + p[`weight_depth_cell_l${l}`][j] * cp + p[`weight_depth_below_l${l}`][j] * below[t][j];
          for (let k = 0; k < I; k++) ad += p[`weight_depth_l${l}`][j * I + k] * xt[k];
          v += sigmoid(ad) * below[t][j];
        }
        return v;
      });
      h = cn.map((cv, j) => sigmoid(a[3 * H + j]) * Math.tanh(cv));
      c = cn;
      hs.push(h), cs.push(c);
    });
    input = hs, below = cs;
  }
  return input;
}

test('depth gate: outputs follow the equations (3 layers, ragged)', async () => {
  const rand = rng(1);
  const model = await Model.create({ inputSize: 2, hiddenSize: 3, layers: 3, gates: { depth: true }, outputSize: 0,
    returnSequences: true, engine: await engine('f64') });
  const p = model.parameters();
  assert.ok(!('weight_depth_l0' in p) && 'weight_depth_below_l2' in p, 'depth tensors in layers 1 and 2 only');
  const x = batch(rand, 2, [6, 2, 4]);
  const f = model.forward(x);
  x.forEach((seq, b) => reference(p, 3, seq).forEach((want, t) => {
    const got = f.output.subarray((b * 6 + t) * 3, (b * 6 + t + 1) * 3);
    assert.ok(relErr(got, want) < 1e-13, `sequence ${b} step ${t}: ${relErr(got, want)}`);
  }));
  model.dispose();
});

const CASES = [
  { name: 'stacked, ragged', hiddenSize: 3, layers: 3, bidirectional: false, gates: { depth: true } },
  { name: 'bidirectional, ragged', hiddenSize: 2, layers: 2, bidirectional: true, gates: { depth: true } },
  { name: 'with peepholes and the coupled gate', hiddenSize: 2, layers: 3, bidirectional: true, gates: { depth: true, peepholes: true, coupled: true } },
];
for (const c of CASES) {
  test(`depth gate, ${c.name}: gradients of parameters and initial states match central differences`, async () => {
    const rand = rng(CASES.indexOf(c) + 20);
    const model = await Model.create({ inputSize: 2, outputSize: 2, hiddenSize: c.hiddenSize, layers: c.layers, bidirectional: c.bidirectional,
      gates: c.gates, returnSequences: true, loss: 'mse', normalize: false, seed: 11, engine: await engine('f64') });
    const x = batch(rand, 2, [5, 1, 3]);
    const y = x.map((s) => s.map(() => [rand() * 2 - 1, rand() * 2 - 1]));
    const { grads } = model.gradients(x, y);
    for (const [name, values] of Object.entries(model.parameters())) {
      const numeric = values.map((w, k) => {
        const at = (v) => { values[k] = v; model.setParameters({ [name]: values }); return model.gradients(x, y).loss; };
        const d = (at(w + EPS) - at(w - EPS)) / (2 * EPS);
        at(w);
        return d;
      });
      const e = relErr(Array.from(grads[name]), numeric);
      assert.ok(e < PARAM_TOL, `${name}: relative error ${e.toExponential(2)}`);
    }
    // initial states through forward/backward: c0 of the lower layers reaches the upper ones through the gate too
    const D = c.bidirectional ? 2 : 1, B = 3, T = 5, H = c.hiddenSize, n = c.layers * D * B * H;
    const h0 = Float64Array.from({ length: n }, () => rand() - 0.5), c0 = Float64Array.from({ length: n }, () => rand() - 0.5);
    const R = Float64Array.from({ length: B * T * D * H }, () => rand() - 0.5), Rc = Float64Array.from({ length: n }, () => rand() - 0.5);
    const L = () => { const f = model.forward(x, { h0, c0 }); return f.output.reduce((s, v, i) => s + v * R[i], 0) + f.c.reduce((s, v, i) => s + v * Rc[i], 0); };
    model.forward(x, { h0, c0 });
    const g = model.backward(R, { dc: Rc });
    for (const [label, state, grad] of [['h0', h0, g.dh0], ['c0', c0, g.dc0]]) {
      const num = Array.from(state, (v, k) => {
        state[k] = v + EPS; const up = L();
        state[k] = v - EPS; const down = L();
        state[k] = v;
        return (up - down) / (2 * EPS);
      });
      assert.ok(relErr(grad, num) < PARAM_TOL, `${label}: ${relErr(grad, num)}`);
    }
    model.dispose();
  });
}

test('depth gate: stream() equals predict() bit for bit; save/load and safetensors keep it', async () => {
  for (const variant of ['simd', 'scalar']) {
    const model = await Model.create({ inputSize: 2, hiddenSize: 5, layers: 3, gates: { depth: true }, outputSize: 2,
      returnSequences: true, seed: 9, normalize: false, engine: await engine(variant) });
    const x = batch(rng(6), 2, [11])[0];
    const want = model.predict([x])[0].flat();
    const s = model.stream();
    assert.deepEqual(bits(x.flatMap((v) => Array.from(s.step(v)))), bits(want), `${variant}: stream`);
    const loaded = await Model.load(model.save(), { engine: await engine(variant) });
    assert.deepEqual(bits(loaded.predict([x])[0].flat()), bits(want), `${variant}: save/load`);
    const back = await Model.fromPyTorch(model.toSafetensors(), { engine: await engine(variant) });
    assert.equal(back.config.gates.depth, true);
    assert.deepEqual(bits(back.predict([x])[0].flat()), bits(want), `${variant}: safetensors`);
    for (const m of [model, loaded, back]) m.dispose();
  }
});

test('depth gate: bad configurations are refused with what to change', async () => {
  const bad = (o, re) => assert.rejects(Model.create({ inputSize: 1, hiddenSize: 4, layers: 2, gates: { depth: true }, ...o }),
    (err) => err.code === 'ERR_OPTION' && re.test(err.message));
  await bad({ layers: 1 }, /needs layers: 2 or more, not 1/);
  await bad({ hiddenSize: [4, 3] }, /same hiddenSize \(layer 0 has 4, layer 1 has 3\)/);
  await bad({ gates: { depth: true, fullRecurrence: true } }, /peepholes and coupled only, not with fullRecurrence: true/);
  await bad({ cell: 'gru' }, /switches apply to the LSTM cells/);
  const m = await Model.create({ inputSize: 1, hiddenSize: 4, layers: 2, gates: { depth: true } });
  assert.throws(() => m.toONNX(), /no depth gate/);
  assert.throws(() => m.toKeras(), /no Keras layer/);
  m.dispose();
  const e = await engine('scalar'), ex = e.exports;
  const create = (ints) => e.scoped((s) => ex.lw_model_create(s.int32(ints), ints.length, 1, 0, s.int32(1)));
  assert.equal(create([1, 1, 1, 0, 0, 0, 0, 1, 512, 4]), 1);
  assert.match(e.cstring(ex.lw_last_error()), /2 layers or more/);
  assert.equal(create([1, 1, 2, 0, 0, 0, 0, 1, 512, 4, 5]), 1);
  assert.match(e.cstring(ex.lw_last_error()), /every layer needs hiddenSize 4/);
});

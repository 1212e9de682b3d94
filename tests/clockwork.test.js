// The Clockwork RNN (cell 'clockwork', issue 14): its forward against the
// equations written out here in float64, gradients against central
// differences (stacked, ragged, initial states, a truncated chunk from t0),
// the structural zeros of W_hh through training and every export, stream ==
// predict bit for bit, the SIMD and scalar builds, and its errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Model } from '../web/index.js';
import { bits, engine, relErr, rng } from './helpers.js';

const EPS = 1e-4;
const PARAM_TOL = 1e-6; // as tests/gradcheck.test.js

const batch = (rand, I, lengths) => lengths.map((len) => Array.from({ length: len }, () =>
  Array.from({ length: I }, () => Math.round((rand() * 2 - 1) * 4096) / 4096)));

/** The Clockwork's equations for one sequence, one layer: h (T, H) from x (T, in), from step t0 and state h0. */
function reference(p, l, periods, x, h0, t0 = 0) {
  const W = p[`weight_ih_l${l}`], U = p[`weight_hh_l${l}`], bi = p[`bias_ih_l${l}`], bh = p[`bias_hh_l${l}`];
  const H = bi.length, m = H / periods.length, I = x[0].length;
  let h = h0 ?? new Array(H).fill(0);
  return x.map((xt, t) => {
    const next = h.slice();
    for (let u = 0; u < H; u++) {
      const i = Math.floor(u / m);
      if ((t0 + t) % periods[i] !== 0) continue; // kept: h_t[i] = h_{t-1}[i]
      let a = bi[u] + bh[u];
      for (let k = 0; k < I; k++) a += W[u * I + k] * xt[k];
      for (let j = i * m; j < H; j++) a += U[u * H + j] * h[j]; // only j >= i: the block upper triangle
      next[u] = Math.tanh(a);
    }
    h = next;
    return h;
  });
}

test('clockwork: outputs follow the equations (stacked, ragged, periods 1 2 3)', async () => {
  const rand = rng(1), periods = [1, 2, 3];
  const model = await Model.create({ cell: 'clockwork', periods, inputSize: 2, hiddenSize: [6, 3], outputSize: 0,
    returnSequences: true, engine: await engine('f64') });
  const p = model.parameters();
  // lower blocks hold zeros, nothing reads them: fill them to prove it
  const x = batch(rand, 2, [7, 3, 5]);
  const f = model.forward(x);
  x.forEach((seq, b) => {
    const h1 = reference(p, 1, periods, reference(p, 0, periods, seq));
    const T = 7;
    seq.forEach((_, t) => {
      const got = f.output.subarray((b * T + t) * 3, (b * T + t + 1) * 3);
      assert.ok(relErr(got, h1[t]) < 1e-13, `sequence ${b} step ${t}: ${relErr(got, h1[t])}`);
    });
  });
  model.dispose();
});

test('clockwork: W_hh below the block diagonal is zero, stays zero, gets no gradient', async () => {
  const model = await Model.create({ cell: 'clockwork', periods: [1, 2, 4, 8], inputSize: 1, hiddenSize: 8, outputSize: 1,
    returnSequences: true, seed: 3 });
  const lower = (w, H = 8, m = 2) => Array.from(w).filter((_, k) => Math.floor(k / H / m) > Math.floor((k % H) / m));
  assert.ok(lower(model.parameters().weight_hh_l0).every((v) => v === 0), 'at initialisation');
  assert.ok(lower(model.parameters().weight_hh_l0.map(() => 0)).length === 24);
  const x = [Array.from({ length: 20 }, (_, t) => [Math.sin(t / 3)])];
  const y = [x[0].slice(1).concat([[0]])];
  assert.ok(lower(model.gradients(x, y).grads.weight_hh_l0).every((v) => v === 0), 'gradient');
  await model.train(x, y, { epochs: 5, learningRate: 0.05, weightDecay: 0.01 });
  const w = model.parameters().weight_hh_l0;
  assert.ok(lower(w).every((v) => v === 0), 'after training');
  assert.ok(w.some((v, k) => v !== 0 && Math.floor(k / 16) <= Math.floor((k % 8) / 2)), 'the upper blocks train');
  // written there, they are zeroed again (never read): every export holds zeros
  model.setParameters({ weight_hh_l0: w.map(() => 0.5) });
  assert.ok(lower(model.parameters().weight_hh_l0).every((v) => v === 0), 'after setParameters');
  const back = await Model.fromPyTorch(model.toSafetensors());
  assert.equal(back.config.cell, 'clockwork');
  assert.deepEqual(back.config.periods, [1, 2, 4, 8]);
  assert.deepEqual(bits(back.predict(x).flat(2)), bits(model.predict(x).flat(2)), 'safetensors round trip');
  const loaded = await Model.load(model.save());
  assert.deepEqual(loaded.config.periods, [1, 2, 4, 8]);
  assert.deepEqual(bits(loaded.predict(x).flat(2)), bits(model.predict(x).flat(2)), 'save/load round trip');
  for (const m of [model, back, loaded]) m.dispose();
});

test('clockwork: gradients of parameters, inputs and initial states match central differences', async () => {
  const rand = rng(2);
  const model = await Model.create({ cell: 'clockwork', periods: [1, 2, 3], inputSize: 2, outputSize: 2, hiddenSize: [6, 3],
    returnSequences: true, loss: 'mse', normalize: false, seed: 11, engine: await engine('f64') });
  const x = batch(rand, 2, [7, 2, 5]);
  const y = x.map((s) => s.map(() => [rand() * 2 - 1, rand() * 2 - 1]));
  const { grads } = model.gradients(x, y);
  const params = model.parameters();
  for (const [name, values] of Object.entries(params)) {
    const numeric = values.map((w, k) => {
      const at = (v) => { values[k] = v; model.setParameters({ [name]: values }); return model.gradients(x, y).loss; };
      const d = (at(w + EPS) - at(w - EPS)) / (2 * EPS);
      at(w);
      return d;
    });
    const e = relErr(Array.from(grads[name]), numeric);
    assert.ok(e < PARAM_TOL, `${name}: relative error ${e.toExponential(2)}`);
    if (name.startsWith('weight_hh')) {
      const H = Math.sqrt(values.length), m = H / 3;
      grads[name].forEach((g, k) => { if (Math.floor(k / H / m) > Math.floor((k % H) / m)) assert.equal(g, 0, `${name}[${k}]`); });
    }
  }
  // inputs and initial states through forward/backward
  const B = 3, T = 7, nState = B * 6 + B * 3;
  const h0 = Float64Array.from({ length: nState }, () => rand() - 0.5);
  const R = Float64Array.from({ length: B * T * 3 }, () => rand() - 0.5);
  const L = (h) => model.forward(x, { h0: h }).output.reduce((s, v, i) => s + v * R[i], 0);
  model.forward(x, { h0 });
  const g = model.backward(R);
  const num = Array.from(h0, (v, k) => {
    h0[k] = v + EPS; const up = L(h0);
    h0[k] = v - EPS; const down = L(h0);
    h0[k] = v;
    return (up - down) / (2 * EPS);
  });
  assert.ok(relErr(g.dh0, num) < PARAM_TOL, `dh0: ${relErr(g.dh0, num)}`);
  model.dispose();
});

/** A raw engine model from config ints, periods after the hidden sizes (c/lw.h enum lw_config_index). */
function rawClockwork(e, H, periods, I = 2, O = 1) {
  const ex = e.exports, ints = [I, O, 1, 0, 3, 1, 0, 5, 0, H, ...periods];
  const ptr = e.scoped((s) => {
    const out = s.int32(1);
    e.check(ex.lw_model_create(s.int32(ints), ints.length, 1, 0, out), 'create');
    return e.readInt32(out, 1)[0];
  });
  return { ex, ptr, P: ex.lw_model_param_count(ptr) };
}

test('clockwork: a truncated chunk keeps counting steps from its t0, forward and backward', async () => {
  const e = await engine('f64'), rand = rng(4);
  const H = 4, periods = [1, 3], B = 2, T = 9, T1 = 4;
  const m = rawClockwork(e, H, periods);
  const x = Float64Array.from({ length: B * T * 2 }, () => rand() * 2 - 1), y = Float64Array.from({ length: B * T }, () => rand());
  const xp = e.alloc(x.length * 8), yp = e.alloc(y.length * 8);
  e.writeReals(xp, x), e.writeReals(yp, y);
  e.check(m.ex.lw_model_set_data(m.ptr, xp, yp, B, T), 'set_data');
  const run = (t0, steps, h0) => e.scoped((s) => {
    const loss = s.reals(2), hn = s.reals(B * H);
    e.check(m.ex.lw_model_grad_rows(m.ptr, s.int32([0, 1]), s.int32([steps, steps]), B, steps, t0, 0, 1,
      h0 ? s.reals(h0) : 0, 0, 0, 0, hn, 0, 0, 0, loss), 'grad_rows');
    return { sum: new Float64Array(e.memory.buffer, loss, 1)[0], hn: e.readReals(hn, B * H),
      grads: e.readReals(m.ex.lw_model_grads(m.ptr), m.P) };
  });
  const whole = run(0, T), first = run(0, T1), second = run(T1, T - T1, first.hn);
  // the chunks together are the whole sequence only if the second counts from step T1 (periods 3: 4 is not 3's multiple)
  assert.ok(Math.abs(first.sum + second.sum - whole.sum) < 1e-12 * whole.sum, `${first.sum} + ${second.sum} vs ${whole.sum}`);
  const wrong = run(0, T - T1, first.hn); // the same chunk as if it started a sequence
  assert.ok(Math.abs(wrong.sum - second.sum) > 1e-6, 'the clock must matter here');
  // the second chunk's gradient against central differences
  const params = m.ex.lw_model_params(m.ptr), P = m.P, base = e.readReals(params, P);
  const numeric = Array.from(base, (w, k) => {
    const at = (v) => { const p = base.slice(); p[k] = v; e.writeReals(params, p); m.ex.lw_model_params_changed(m.ptr); return run(T1, T - T1, first.hn).sum; };
    const d = (at(w + EPS) - at(w - EPS)) / (2 * EPS);
    at(w);
    return d;
  });
  assert.ok(relErr(second.grads, numeric) < PARAM_TOL, `chunk gradient: ${relErr(second.grads, numeric)}`);
  m.ex.lw_model_set_data(m.ptr, 0, 0, 0, 0);
  e.free(xp), e.free(yp), m.ex.lw_model_free(m.ptr);
});

test('clockwork: stream() equals predict() bit for bit, and reset() restarts the clock', async () => {
  for (const variant of ['simd', 'scalar']) {
    const model = await Model.create({ cell: 'clockwork', periods: [1, 2, 5], inputSize: 2, hiddenSize: [6, 9], outputSize: 2,
      returnSequences: true, seed: 9, engine: await engine(variant) });
    const x = batch(rng(6), 2, [13])[0];
    const want = model.predict([x])[0];
    const s = model.stream();
    assert.deepEqual(bits(x.flatMap((v) => Array.from(s.step(v)))), bits(want.flat()), `${variant}: stream`);
    s.reset();
    assert.deepEqual(bits(x.flatMap((v) => Array.from(s.step(v)))), bits(want.flat()), `${variant}: after reset`);
    model.dispose();
  }
});

test('clockwork: SIMD and scalar builds agree to float32 rounding', async () => {
  const out = [];
  for (const variant of ['simd', 'scalar']) {
    const model = await Model.create({ cell: 'clockwork', inputSize: 3, hiddenSize: 32, outputSize: 1, returnSequences: true,
      seed: 2, engine: await engine(variant) });
    const x = batch(rng(8), 3, [40, 17]);
    const y = x.map((s) => s.map((v) => [v[0]]));
    out.push({ pred: model.predict(x).flat(2), grads: Object.values(model.gradients(x, y).grads).flatMap((g) => Array.from(g)) });
    model.dispose();
  }
  assert.ok(relErr(out[0].pred, out[1].pred) < 1e-5, `predict: ${relErr(out[0].pred, out[1].pred)}`);
  assert.ok(relErr(out[0].grads, out[1].grads) < 1e-4, `gradients: ${relErr(out[0].grads, out[1].grads)}`);
});

test('clockwork: bad configurations are refused with what to change', async () => {
  const bad = async (o, code, re) => assert.rejects(Model.create({ cell: 'clockwork', inputSize: 1, hiddenSize: 8, ...o }),
    (err) => err.code === code && re.test(err.message));
  await bad({ hiddenSize: 6 }, 'ERR_OPTION', /6 does not split into 4 Clockwork modules/);
  await bad({ hiddenSize: [8, 9], periods: [1, 2] }, 'ERR_OPTION', /hiddenSize\[1\]: 9 does not split into 2/);
  await bad({ periods: [1, 4, 2, 8] }, 'ERR_OPTION', /periods must ascend: periods\[2\] = 2/);
  await bad({ periods: [0, 1] }, 'ERR_RANGE', /periods\[0\]/);
  await bad({ periods: [] }, 'ERR_TYPE', /periods must be an array/);
  await bad({ bidirectional: true }, 'ERR_OPTION', /runs forward in time only/);
  await assert.rejects(Model.create({ cell: 'rnn', inputSize: 1, hiddenSize: 8, periods: [1, 2] }), /periods: applies to cell 'clockwork' only/);
  const m = await Model.create({ cell: 'clockwork', inputSize: 1, hiddenSize: 8 });
  assert.throws(() => m.toONNX(), /ONNX RNN has no Clockwork modules/);
  assert.throws(() => m.toKeras(), /cell 'clockwork' has no Keras layer/);
  m.dispose();
  // the engine checks the same on its own
  const e = await engine('scalar'), ex = e.exports;
  const create = (ints) => e.scoped((s) => ex.lw_model_create(s.int32(ints), ints.length, 1, 0, s.int32(1)));
  assert.equal(create([1, 1, 1, 0, 3, 0, 0, 1, 0, 6, 1, 2, 4, 8]), 1);
  assert.match(e.cstring(ex.lw_last_error()), /6 does not split into 4/);
  assert.equal(create([1, 1, 1, 0, 3, 0, 0, 1, 0, 8, 1, 1]), 1);
  assert.match(e.cstring(ex.lw_last_error()), /must ascend/);
  assert.equal(create([1, 1, 1, 1, 3, 0, 0, 1, 0, 8, 1, 2]), 1);
  assert.match(e.cstring(ex.lw_last_error()), /forward in time only/);
  assert.equal(create([1, 1, 1, 0, 3, 0, 0, 1, 0, 8]), 1, 'no periods');
  assert.equal(create([1, 1, 1, 0, 2, 0, 0, 1, 0, 8, 1]), 1, 'periods on an RNN');
});

test('clockwork: trace() shows which modules ran, and a module that did not run kept its state', async () => {
  const model = await Model.create({ cell: 'clockwork', periods: [1, 2, 3], inputSize: 1, hiddenSize: 6, seed: 4 });
  const [entry] = model.trace([0.3, -0.2, 0.9, 0.1, -0.7, 0.4, 0.5]);
  entry.ran.forEach((row, t) => {
    assert.deepEqual(row, [1, 1, t % 2 ? 0 : 1, t % 2 ? 0 : 1, t % 3 ? 0 : 1, t % 3 ? 0 : 1], `step ${t}`);
    row.forEach((r, u) => { if (!r) assert.equal(entry.h[t][u], t ? entry.h[t - 1][u] : 0, `step ${t} unit ${u} kept`); });
  });
  model.dispose();
});

test('clockwork: on the paper\'s generation task it beats an RNN of about the same number of weights', async () => {
  const { runSignal } = await import('./tasks/clockwork-signal.js');
  const cw = await runSignal({ cell: 'clockwork', hiddenSize: 32, periods: [1, 2, 4, 8, 16, 32, 64, 128], epochs: 300 });
  const rnn = await runSignal({ cell: 'rnn', hiddenSize: 25, epochs: 300 });
  assert.ok(Math.abs(cw.weights - rnn.weights) < 50, `${cw.weights} and ${rnn.weights} weights`);
  assert.ok(cw.nmse < 0.05, `clockwork NMSE ${cw.nmse}`);
  assert.ok(rnn.nmse > 5 * cw.nmse, `rnn NMSE ${rnn.nmse}, clockwork ${cw.nmse}`);
});

// Gradients apart from updates (c/api.c lw_model_grad_rows, lw_model_grad_sumsq,
// lw_model_update): the one-call training step gives the same weights as
// before the split (SHA-256 of the weights after fixed runs, recorded with the
// code before the split), and the pieces compose into it bit for bit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Model } from '../web/index.js';
import { bits, engine, relErr, rng } from './helpers.js';

const DATA_SEED = 0x6ead;

/** Fixed training runs that reach every path of the fused step: cells, switches, dropout, truncation, clipping, optimizers. */
const RUNS = [
  { name: 'lstm, two layers, dropout, adam, clipNorm', create: { hiddenSize: [6, 5], dropout: 0.3 }, train: { clipNorm: 0.5 } },
  { name: 'gru bidirectional, sgd nesterov, clipValue', create: { cell: 'gru', hiddenSize: 5, bidirectional: true },
    train: { optimizer: 'sgd', momentum: 0.9, nesterov: true, clipValue: 0.05, learningRate: 0.05 } },
  { name: 'peepholes and full recurrence, adamw, many-to-many, truncated', create: { hiddenSize: 4, gates: { peepholes: true, fullRecurrence: true }, returnSequences: true },
    train: { optimizer: 'adamw', truncate: 3 } },
  { name: 'rnn, rmsprop, softmax cross-entropy', create: { cell: 'rnn', hiddenSize: 7, outputSize: 3, loss: 'softmax-cross-entropy' },
    train: { optimizer: 'rmsprop', learningRate: 0.01, clipNorm: 1 } },
];

// SHA-256 of the weights' bytes after each run, recorded at commit 78b5727 (before the split), per build.
const GOLDEN = {
  simd: {
    'lstm, two layers, dropout, adam, clipNorm': '9221e3d6b75213525e4f822e9b86fec30972ca3d4146451b3bc5d14775c5b363',
    'gru bidirectional, sgd nesterov, clipValue': 'dfe0cf71e18bf7ca3f08b5ab8110dbc49085e012223bff1eeb0d901fec3d054e',
    'peepholes and full recurrence, adamw, many-to-many, truncated': '2d6d51811675af4209c24591f4654c3447bb27cbca757a3512f86dac204c0d78',
    'rnn, rmsprop, softmax cross-entropy': '056ee7c01f025ca54f3f8733e68f73582fcff688e40b48ef57d3f857cfe2472f',
  },
  scalar: {
    'lstm, two layers, dropout, adam, clipNorm': 'bb2ecd95389e1cc3487edf69c2ff0444e23914c0c38dfec4662c17886bce41d5',
    'gru bidirectional, sgd nesterov, clipValue': 'dfe0cf71e18bf7ca3f08b5ab8110dbc49085e012223bff1eeb0d901fec3d054e',
    'peepholes and full recurrence, adamw, many-to-many, truncated': '2d6d51811675af4209c24591f4654c3447bb27cbca757a3512f86dac204c0d78',
    'rnn, rmsprop, softmax cross-entropy': '056ee7c01f025ca54f3f8733e68f73582fcff688e40b48ef57d3f857cfe2472f',
  },
};

/** Ragged data for a run: 13 sequences of up to 7 steps. */
function data(run) {
  const rand = rng(DATA_SEED);
  const I = 3, B = 13, T = 7, O = run.create.outputSize ?? 1, perStep = run.create.returnSequences;
  const inputs = [], targets = [];
  for (let b = 0; b < B; b++) {
    const len = 1 + Math.floor(rand() * T);
    inputs.push(Array.from({ length: len }, () => Array.from({ length: I }, () => rand() * 2 - 1)));
    const target = () => (run.create.loss === 'softmax-cross-entropy' ? Math.floor(rand() * O)
      : O === 1 ? rand() : Array.from({ length: O }, () => rand()));
    targets.push(perStep ? Array.from({ length: len }, target) : target());
  }
  return { inputs, targets };
}

async function trained(run, variant) {
  const model = await Model.create({ inputSize: 3, seed: 5, normalize: false, ...run.create, engine: await engine(variant) });
  const { inputs, targets } = data(run);
  await model.train(inputs, targets, { epochs: 3, batchSize: 4, seed: 9, ...run.train });
  return model;
}

function weightsHash(model) {
  const h = createHash('sha256');
  for (const [name, v] of Object.entries(model.parameters())) h.update(name).update(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
  return h.digest('hex');
}

for (const variant of ['simd', 'scalar']) {
  test(`training gives the weights recorded before gradients and updates were split (${variant} build)`, async (t) => {
    for (const run of RUNS) {
      const model = await trained(run, variant);
      const got = weightsHash(model);
      model.dispose();
      t.diagnostic(`${run.name}: ${got}`);
      if (GOLDEN[variant][run.name] === undefined) continue;
      assert.equal(got, GOLDEN[variant][run.name], run.name);
    }
    assert.equal(Object.keys(GOLDEN[variant]).length, RUNS.length, 'every run has a recorded hash');
  });
}

// ---- the exports themselves, called as the JS layer calls them ----

const LSTM = 0, GRU = 1, MSE = 0, SOFTMAX_CE = 3, ADAM = 1, SGD = 0;
const FLAG_TRAINING = 4;
const HYPER = (o = {}) => [o.lr ?? 0.01, o.beta1 ?? 0.9, o.beta2 ?? 0.999, o.eps ?? 1e-8, o.momentum ?? 0, 0, o.weightDecay ?? 0,
  o.clipNorm ?? 0, o.clipValue ?? 0];

/** A raw engine model: { e, ex, ptr, P, free() } from config ints. */
function rawModel(e, { I = 3, O = 2, H = [5], bidirectional = 0, cell = LSTM, returnSequences = 1, loss = MSE, seed = 3, gates = 0, dropout = 0 }) {
  const ex = e.exports, ints = [I, O, H.length, bidirectional, cell, returnSequences, loss, seed, gates, ...H];
  const ptr = e.scoped((s) => {
    const out = s.int32(1);
    e.check(ex.lw_model_create(s.int32(ints), ints.length, 1, dropout, out), 'create');
    return e.readInt32(out, 1)[0];
  });
  const states = H.reduce((n, h) => n + (bidirectional ? 2 : 1) * h, 0); // per batch row
  return { e, ex, ptr, P: ex.lw_model_param_count(ptr), states, I, O, returnSequences, free: () => ex.lw_model_free(ptr) };
}

function setOptimizer(m, kind, hyper) {
  m.e.check(m.e.scoped((s) => m.ex.lw_model_set_optimizer(m.ptr, kind, s.reals(hyper), hyper.length)), 'optimizer');
}

/** Staged data of B rows of T steps (owned by the caller: free with .free()). */
function stage(m, B, T, seed) {
  const { e } = m, rand = rng(seed);
  const x = Float32Array.from({ length: B * T * m.I }, () => rand() * 2 - 1);
  const y = Float32Array.from({ length: B * (m.returnSequences ? T : 1) * m.O }, () => rand());
  const lengths = Int32Array.from({ length: B }, () => 1 + Math.floor(rand() * T));
  const xp = e.alloc(x.length * e.realSize), yp = e.alloc(y.length * e.realSize);
  e.writeReals(xp, x), e.writeReals(yp, y);
  e.check(m.ex.lw_model_set_data(m.ptr, xp, yp, B, T), 'set_data');
  return { lengths, T, free: () => { m.ex.lw_model_set_data(m.ptr, 0, 0, 0, 0); e.free(xp); e.free(yp); } };
}

/** lw_model_grad_rows on rows of the staged data: { status, sum, count, grads, hn, cn, dh0, dc0 }. */
function gradRows(m, rows, lengths, T, { flags = 0, norm = -1, h0, c0, dhn, dcn } = {}) {
  const { e, ex } = m, B = rows.length, n = B * m.states;
  return e.scoped((s) => {
    const loss = e.alloc(16);
    try {
      const opt = (v) => (v ? s.reals(v) : 0);
      const hn = s.reals(n), cn = s.reals(n), dh0 = s.reals(n), dc0 = s.reals(n);
      const status = ex.lw_model_grad_rows(m.ptr, s.int32(rows), s.int32(lengths), B, T, 0, flags, norm,
        opt(h0), opt(c0), opt(dhn), opt(dcn), hn, cn, dh0, dc0, loss);
      const [sum, count] = new Float64Array(e.memory.buffer, loss, 2);
      return { status, sum, count, grads: e.readReals(ex.lw_model_grads(m.ptr), m.P), hn: e.readReals(hn, n), cn: e.readReals(cn, n),
        dh0: e.readReals(dh0, n), dc0: e.readReals(dc0, n) };
    } finally {
      e.free(loss);
    }
  });
}

const params = (m) => m.e.readReals(m.ex.lw_model_params(m.ptr), m.P);
const lengthsOf = (data, rows) => Int32Array.from(rows, (b) => data.lengths[b]);
const maxLen = (l) => Math.max(...l);

for (const variant of ['simd', 'scalar']) {
  test(`grad_rows then update gives the one-call training step's bits, dropout included (${variant})`, async () => {
    const e = await engine(variant);
    for (const cfg of [{ H: [6, 4], dropout: 0.3 }, { cell: GRU, H: [5], bidirectional: 1, returnSequences: 0, O: 1 }]) {
      const a = rawModel(e, cfg), b = rawModel(e, cfg);
      const hyper = HYPER({ lr: 0.02, clipNorm: 0.3, clipValue: 0.2 });
      setOptimizer(a, ADAM, hyper), setOptimizer(b, ADAM, hyper);
      const da = stage(a, 8, 6, 11), db = stage(b, 8, 6, 11);
      for (let step = 0; step < 4; step++) {
        const rows = step % 2 ? [7, 1, 4, 2] : [0, 3, 5, 6, 2];
        const lengths = lengthsOf(da, rows), T = maxLen(lengths);
        const lossA = e.scoped((s) => {
          const loss = s.reals(1);
          e.check(a.ex.lw_model_train_rows(a.ptr, s.int32(rows), s.int32(lengths), rows.length, T, 0, 0.02, loss, 0, 0, 0, 0), 'train_rows');
          return e.readReals(loss, 1)[0];
        });
        const g = gradRows(b, rows, lengths, T, { flags: FLAG_TRAINING });
        assert.equal(g.status, 0);
        // the caller's own norm, as JS computes it for joint clipping, is the same number as the model's own
        const norm = step % 2 ? Math.sqrt(b.ex.lw_model_grad_sumsq(b.ptr)) : -1;
        e.check(b.ex.lw_model_update(b.ptr, 0.02, norm), 'update');
        assert.equal(Math.fround(g.sum / g.count), lossA, `step ${step}: the loss is sum / count`);
        assert.deepEqual(bits(params(b)), bits(params(a)), `step ${step}: weights`);
      }
      da.free(), db.free(), a.free(), b.free();
    }
  });
}

test('two half batches given the whole batch\'s count add up to the whole batch: loss sum, count and gradients', async () => {
  const e = await engine('simd');
  for (const cfg of [{ H: [6, 4], bidirectional: 1 }, { cell: GRU, H: [5], returnSequences: 0, O: 3, loss: SOFTMAX_CE }]) {
    const m = rawModel(e, cfg);
    const data = stage(m, 10, 7, 5);
    const all = [...Array(10).keys()], lo = all.slice(0, 4), hi = all.slice(4);
    const whole = gradRows(m, all, data.lengths, 7);
    const a = gradRows(m, lo, lengthsOf(data, lo), maxLen(lengthsOf(data, lo)), { norm: whole.count });
    const b = gradRows(m, hi, lengthsOf(data, hi), maxLen(lengthsOf(data, hi)), { norm: whole.count });
    assert.equal(a.count + b.count, whole.count);
    assert.ok(Math.abs(a.sum + b.sum - whole.sum) <= 1e-12 * Math.abs(whole.sum), `${a.sum} + ${b.sum} vs ${whole.sum}`);
    const sum = a.grads.map((v, i) => v + b.grads[i]);
    // float32 sums over the rows in another order: a few ulps of the largest terms
    assert.ok(relErr(sum, whole.grads) < 1e-6, `relative error ${relErr(sum, whole.grads)}`);
    data.free(), m.free();
  }
  // two rows, many-to-one: each half is one row, so the head bias (one addition) and the loss sum are order-free and bit-equal
  const m = rawModel(e, { H: [4], returnSequences: 0, O: 2 });
  const data = stage(m, 2, 5, 8);
  const whole = gradRows(m, [0, 1], data.lengths, 5);
  const a = gradRows(m, [0], lengthsOf(data, [0]), data.lengths[0], { norm: whole.count });
  const b = gradRows(m, [1], lengthsOf(data, [1]), data.lengths[1], { norm: whole.count });
  assert.equal(a.sum + b.sum, whole.sum);
  const headB = m.P - 2;
  for (let o = 0; o < 2; o++) assert.equal(Math.fround(a.grads[headB + o] + b.grads[headB + o]), whole.grads[headB + o]);
  data.free(), m.free();
});

test('joint clipping of two models equals clipping their concatenated gradient', async () => {
  const e = await engine('simd');
  const clipNorm = 0.05, clipValue = 0.03, lr = 0.1;
  const enc = rawModel(e, { H: [5], O: 2, seed: 1 }), dec = rawModel(e, { cell: GRU, H: [4], O: 3, seed: 2, returnSequences: 0 });
  const models = [enc, dec];
  const before = [], grads = [];
  for (const m of models) {
    setOptimizer(m, SGD, HYPER({ lr, clipNorm, clipValue }));
    const data = stage(m, 6, 5, 21);
    const all = [...Array(6).keys()];
    assert.equal(gradRows(m, all, data.lengths, 5).status, 0);
    data.free();
    before.push(params(m)), grads.push(e.readReals(m.ex.lw_model_grads(m.ptr), m.P));
  }
  // the reference, in JS double over the concatenation: value clipping, then one global norm
  const clip = (x) => Math.max(-Math.fround(clipValue), Math.min(Math.fround(clipValue), x));
  let sq = 0;
  for (const g of grads) for (const x of g) sq += clip(x) ** 2;
  const sums = models.map((m) => m.ex.lw_model_grad_sumsq(m.ptr));
  assert.ok(Math.abs(sums[0] + sums[1] - sq) <= 1e-12 * sq, `${sums} vs ${sq}`);
  const norm = Math.sqrt(sq);
  assert.ok(norm > clipNorm, 'the test must clip');
  const scale = Math.fround(Math.fround(clipNorm) / (norm + 1e-6));
  models.forEach((m, k) => {
    e.check(m.ex.lw_model_update(m.ptr, lr, norm), 'update');
    // plain SGD in float32: w - lr * (clip(g) * scale)
    const want = before[k].map((w, i) => Math.fround(w - Math.fround(Math.fround(lr) * Math.fround(clip(grads[k][i]) * scale))));
    assert.deepEqual(bits(params(m)), bits(want), `model ${k}`);
  });
  // a non-finite norm refuses and changes nothing
  for (const bad of [NaN, Infinity]) {
    const w = params(enc);
    assert.equal(enc.ex.lw_model_update(enc.ptr, lr, bad), 3);
    assert.deepEqual(bits(params(enc)), bits(w));
  }
  enc.free(), dec.free();
});

test('grad_rows applies dropout only with the training flag', async () => {
  const e = await engine('simd');
  const m = rawModel(e, { H: [6, 6], dropout: 0.5 });
  const data = stage(m, 4, 5, 2), rows = [0, 1, 2, 3];
  const plain1 = gradRows(m, rows, data.lengths, 5), plain2 = gradRows(m, rows, data.lengths, 5);
  assert.deepEqual(bits(plain1.grads), bits(plain2.grads), 'no dropout: the same gradient every time');
  const drop1 = gradRows(m, rows, data.lengths, 5, { flags: FLAG_TRAINING }), drop2 = gradRows(m, rows, data.lengths, 5, { flags: FLAG_TRAINING });
  assert.notDeepEqual(bits(drop1.grads), bits(plain1.grads), 'dropout changes the gradient');
  assert.notDeepEqual(bits(drop1.grads), bits(drop2.grads), 'each call draws new masks');
  assert.equal(gradRows(m, rows, data.lengths, 5, { flags: 8 }).status, 1, 'unknown flags are refused');
  data.free(), m.free();
});

test('grad_rows: gradients of the initial states, with gradients of the final states given, match central differences (f64)', async () => {
  const e = await engine('f64');
  for (const cfg of [{ H: [3, 2], bidirectional: 1, returnSequences: 0, O: 2 }, { cell: GRU, H: [3], returnSequences: 1, O: 1 }]) {
    const m = rawModel(e, { I: 2, ...cfg });
    const B = 3, T = 4, data = stage(m, B, T, 31), rows = [0, 1, 2], n = B * m.states, rand = rng(77);
    const h0 = Float64Array.from({ length: n }, () => rand() - 0.5), c0 = Float64Array.from({ length: n }, () => rand() - 0.5);
    const dhn = Float64Array.from({ length: n }, () => rand() - 0.5), dcn = Float64Array.from({ length: n }, () => rand() - 0.5);
    const dot = (a, b) => a.reduce((s, v, i) => s + v * b[i], 0);
    // J = mean loss + <dhn, hn> + <dcn, cn>; grad_rows' dh0 and dc0 are dJ/dh0 and dJ/dc0
    const J = (h, c) => {
      const g = gradRows(m, rows, data.lengths, T, { h0: h, c0: c });
      return g.sum / g.count + dot(dhn, g.hn) + dot(dcn, g.cn);
    };
    const g = gradRows(m, rows, data.lengths, T, { h0, c0, dhn, dcn });
    assert.equal(g.status, 0);
    const eps = 1e-6;
    for (const [which, v, dv] of [['h0', h0, g.dh0], ['c0', c0, g.dc0]]) {
      for (let k = 0; k < n; k++) {
        const p = v.slice(), q = v.slice();
        p[k] += eps, q[k] -= eps;
        const fd = which === 'h0' ? (J(p, c0) - J(q, c0)) / (2 * eps) : (J(h0, p) - J(h0, q)) / (2 * eps);
        assert.ok(Math.abs(fd - dv[k]) <= 1e-6 * (1 + Math.abs(fd)), `${which}[${k}]: ${dv[k]} vs ${fd}`);
      }
    }
    data.free(), m.free();
  }
});

// What users coming from TF.js, Keras and brain.js reach for first (issue 16),
// each against a reference that can fail: early stopping's restored weights
// against a shorter run's bits, the plateau rule replayed over the history,
// awaited and stopping callbacks, per-epoch metrics against evaluate() and
// the weights' bits unchanged by them, sample and class weights against the
// weighted sum of per-row gradients, and dropout refused where it cannot apply.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Model, TextModel, LstmError, windows } from '../web/index.js';
import { seededUniform } from '../web/data.js';
import { bits } from './helpers.js';
import { coreOf as coreOfModel } from '../web/model.js';

const fails = async (fn, code, pattern) => {
  await assert.rejects(async () => fn(), (err) => err instanceof LstmError && err.code === code && pattern.test(err.message));
};

/** 64 windows of a sine, their next values, and a class (rising or not). */
function sine(n = 64, T = 8) {
  const xs = [], ys = [], cls = [];
  for (let i = 0; i < n; i++) {
    xs.push(Array.from({ length: T }, (_, t) => Math.sin(i * 0.37 + t * 0.5)));
    ys.push(Math.sin(i * 0.37 + T * 0.5));
    cls.push(ys[i] > xs[i][T - 1] ? 1 : 0);
  }
  return { xs, ys, cls };
}
const REG = { inputSize: 1, hiddenSize: 6, seed: 3 };
const CLS = { inputSize: 1, hiddenSize: 6, seed: 3, outputSize: 2, loss: 'softmax-cross-entropy' };
const paramBits = (m) => Object.values(m.parameters()).map((p) => bits(p).join(',')).join(';');

test('earlyStopping stops after patience epochs without improvement, and restoreBest gives the best epoch\'s bits', async () => {
  const { xs, ys } = sine();
  const opts = { epochs: 40, learningRate: 0.08, validationSplit: 0.25, batchSize: 8 };
  const m = await Model.create(REG);
  const h = await m.train(xs, ys, { ...opts, earlyStopping: { patience: 2, restoreBest: true } });
  assert.ok(h.stopped && h.epochs < 40, `stopped early (${h.epochs} epochs)`);
  const best = h.valLoss.indexOf(Math.min(...h.valLoss));
  assert.equal(h.bestEpoch, best);
  assert.equal(h.epochs, best + 3, 'two epochs of patience after the best one');
  const ref = await Model.create(REG);
  await ref.train(xs, ys, { ...opts, epochs: best + 1 });
  assert.equal(paramBits(m), paramBits(ref), 'the weights of the best epoch');
  // minDelta: an improvement smaller than it does not count
  const d = await Model.create(REG);
  const hd = await d.train(xs, ys, { ...opts, earlyStopping: { monitor: 'loss', minDelta: 1e9 } });
  assert.equal(hd.epochs, 2, 'the first epoch improves on nothing; the second, by less than minDelta, stops it');
  await fails(() => m.train(xs, ys, { epochs: 1, earlyStopping: { monitor: 'valLoss' } }), 'ERR_OPTION', /valLoss' needs validation data/);
  await fails(() => m.train(xs, ys, { epochs: 1, earlyStopping: { patience: -1 } }), 'ERR_RANGE', /earlyStopping.patience/);
  // a split too small to leave a validation row: said, not a silent stop on undefined losses
  const before = m.save();
  await fails(() => m.train(xs.slice(0, 3), ys.slice(0, 3), { validationSplit: 0.1, reduceOnPlateau: {} }), 'ERR_OPTION',
    /reduceOnPlateau: monitor 'valLoss', but validationSplit 0.1 of 3 sequences leaves none/);
  assert.deepEqual(m.save(), before, 'the refused train() left the model as it was');
  await fails(() => m.train(xs, ys, { epochs: 1, earlyStopping: { wait: 1 } }), 'ERR_OPTION', /unknown option 'wait'/);
  for (const x of [m, ref, d]) x.dispose();
});

test('reduceOnPlateau follows Keras\'s rule over the monitored loss, and the rates are the ones used', async () => {
  const { xs, ys } = sine();
  const rop = { monitor: 'loss', factor: 0.5, patience: 1, minDelta: 0, minLearningRate: 0.01 };
  const m = await Model.create(REG);
  const seen = [];
  const h = await m.train(xs, ys, { epochs: 25, learningRate: 0.2, batchSize: 16, reduceOnPlateau: rop, onEpochEnd: (e) => seen.push(e.learningRate) });
  // replay: best, wait; a trigger multiplies by factor (floored) and restarts the wait
  let best = Infinity, wait = 0, lr = 0.2;
  const want = [];
  for (const loss of h.loss) {
    want.push(lr);
    if (loss < best) { best = loss; wait = 0; } else if (++wait >= rop.patience) { if (lr > 0.01) lr = Math.max(0.01, lr * 0.5); wait = 0; }
  }
  assert.deepEqual(h.learningRate, want);
  assert.deepEqual(seen, want);
  assert.ok(want.some((r) => r < 0.2), `the rate fell at least once: ${want}`);
  m.dispose();
});

test('async callbacks are awaited; returning false or model.stopTraining stops, at the bits of a shorter run', async () => {
  const { xs, ys } = sine();
  const opts = { epochs: 6, learningRate: 0.05, batchSize: 16 };
  const m = await Model.create(REG);
  const events = [];
  await m.train(xs, ys, {
    ...opts, epochs: 2,
    onBatchEnd: (b) => { events.push(`b${b.epoch}.${b.batch}`); },
    onEpochEnd: async (e) => { await new Promise((r) => setTimeout(r, 20)); events.push(`e${e.epoch} done`); },
  });
  assert.deepEqual(events, ['b0.0', 'b0.1', 'b0.2', 'b0.3', 'e0 done', 'b1.0', 'b1.1', 'b1.2', 'b1.3', 'e1 done']);
  const ref = await Model.create(REG);
  await ref.train(xs, ys, { ...opts, epochs: 2 });
  const a = await Model.create(REG);
  const ha = await a.train(xs, ys, { ...opts, onEpochEnd: async (e) => e.epoch !== 1 });
  assert.deepEqual([ha.epochs, ha.stopped], [2, true]);
  assert.equal(paramBits(a), paramBits(ref));
  const b = await Model.create(REG);
  const hb = await b.train(xs, ys, { ...opts, onBatchEnd: (x) => { if (x.epoch === 1 && x.batch === 3) b.stopTraining = true; } });
  assert.deepEqual([hb.epochs, hb.stopped], [2, true], 'a stop in the last batch of an epoch counts the epoch');
  assert.equal(paramBits(b), paramBits(ref));
  assert.equal(b.stopTraining, true);
  const hb2 = await b.train(xs, ys, { ...opts, epochs: 1 });
  assert.deepEqual([hb2.epochs, hb2.stopped, b.stopTraining], [1, false, false], 'train() clears stopTraining');
  // a stop in the middle of an epoch: the epoch is not counted (as with an AbortSignal)
  const c = await Model.create(REG);
  const hc = await c.train(xs, ys, { ...opts, onBatchEnd: async (x) => !(x.epoch === 1 && x.batch === 1) });
  assert.deepEqual([hc.epochs, hc.stopped, hc.loss.length], [1, true, 1]);
  for (const x of [m, ref, a, b, c]) x.dispose();
});

test('per-epoch metrics are evaluate()\'s after each epoch, and leave the weights\' bits as without them', async () => {
  const { xs, ys, cls } = sine();
  const opts = { epochs: 3, learningRate: 0.05, batchSize: 16, validationSplit: 0.25 };
  const m = await Model.create(CLS);
  const accs = [];
  const h = await m.train(xs, cls, { ...opts, metrics: ['accuracy'], onEpochEnd: (e) => accs.push([e.accuracy, e.valAccuracy]) });
  const ref = await Model.create(CLS);
  const hr = await ref.train(xs, cls, opts);
  assert.equal(paramBits(m), paramBits(ref));
  assert.deepEqual(h.loss, hr.loss);
  assert.deepEqual(h.valLoss, hr.valLoss);
  assert.equal(h.accuracy.length, 3);
  assert.deepEqual(accs, h.accuracy.map((a, k) => [a, h.valAccuracy[k]]));
  // the split keeps the last quarter for validation (no shuffle of the split itself)
  const n = xs.length, nv = n - Math.round(n * 0.75);
  assert.equal(h.valAccuracy[2], m.evaluate(xs.slice(n - nv), cls.slice(n - nv)).accuracy);
  assert.equal(h.accuracy[2], m.evaluate(xs.slice(0, n - nv), cls.slice(0, n - nv)).accuracy);
  const r = await Model.create(REG);
  const hm = await r.train(xs, ys, { epochs: 2, metrics: true, validationData: [xs.slice(0, 16), ys.slice(0, 16)] });
  const ev = r.evaluate(xs, ys), evVal = r.evaluate(xs.slice(0, 16), ys.slice(0, 16));
  assert.ok(Math.abs(hm.mae[1] - ev.mae) < 1e-6 && Math.abs(hm.mse[1] - ev.mse) < 1e-6, `${hm.mae[1]} vs ${ev.mae}`);
  assert.ok(Math.abs(hm.valMae[1] - evVal.mae) < 1e-6);
  const plain = await r.train(xs, ys, { epochs: 1 });
  assert.deepEqual(Object.keys(plain), ['loss', 'valLoss', 'epochs', 'stopped'], 'no new keys unless asked');
  await fails(() => r.train(xs, ys, { metrics: ['accuracy'] }), 'ERR_OPTION', /not a metric of a regression loss; the metrics are mae, mse/);
  for (const x of [m, ref, r]) x.dispose();
});

test('sampleWeight and classWeight weigh each row\'s loss exactly (softmax cross-entropy), and are refused where they cannot', async () => {
  const { xs, ys, cls } = sine(12);
  const w = xs.map((_, i) => (i % 3) + 0.5);
  const lr = 0.1, opts = { epochs: 1, optimizer: 'sgd', learningRate: lr, batchSize: 12, shuffle: false };
  const m = await Model.create(CLS);
  const p0 = m.parameters();
  // reference: p0 - lr · Σ w_i g_i / N, from each row's own gradient
  const sum = {};
  xs.forEach((x, i) => {
    const { grads } = m.gradients([x], [cls[i]]);
    for (const [k, g] of Object.entries(grads)) { sum[k] ??= new Float64Array(g.length); g.forEach((v, j) => { sum[k][j] += w[i] * v; }); }
  });
  const h = await m.train(xs, cls, { ...opts, sampleWeight: w });
  const p1 = m.parameters();
  let worst = 0;
  for (const k of Object.keys(p0)) p0[k].forEach((v, j) => { worst = Math.max(worst, Math.abs(p1[k][j] - (v - lr * sum[k][j] / 12))); });
  assert.ok(worst < 1e-6, `largest difference from the weighted update: ${worst}`);
  // the reported loss is the weighted mean, as Keras reports it
  const m2 = await Model.create(CLS);
  let wl = 0;
  xs.forEach((x, i) => { wl += w[i] * m2.evaluate([x], [cls[i]]).loss; });
  assert.ok(Math.abs(h.loss[0] - wl / 12) < 1e-5, `${h.loss[0]} vs ${wl / 12}`);
  // classWeight is sampleWeight by class; weights of 1 change no bit
  const a = await Model.create(CLS), b = await Model.create(CLS), c = await Model.create(CLS);
  await a.train(xs, cls, { ...opts, classWeight: { 0: 1, 1: 3 } });
  await b.train(xs, cls, { ...opts, sampleWeight: cls.map((k) => (k ? 3 : 1)) });
  await c.train(xs, cls, { ...opts, classWeight: [1, 1] });
  assert.equal(paramBits(a), paramBits(b));
  await m2.train(xs, cls, opts);
  assert.equal(paramBits(c), paramBits(m2));
  const r = await Model.create(REG);
  await fails(() => r.train(xs, ys, { sampleWeight: w }), 'ERR_OPTION', /softmax-cross-entropy' only for now, not 'mse'/);
  await fails(() => a.train(xs, cls, { classWeight: { 2: 1 } }), 'ERR_OPTION', /class '2' is not a class index from 0 to 1/);
  await fails(() => a.train(xs, cls, { sampleWeight: [1] }), 'ERR_SHAPE', /sampleWeight has 1 weights but there are 12/);
  for (const x of [m, m2, a, b, c, r]) x.dispose();
});

test('dropout on a one-layer model is refused at create (it would be ignored), with the fix', async () => {
  await fails(() => Model.create({ ...REG, dropout: 0.2 }), 'ERR_OPTION', /dropout 0.2 applies between stacked layers.*layers: 2 or more/);
  await fails(() => TextModel.create({ layers: 1, dropout: 0.2 }), 'ERR_OPTION', /applies between stacked layers/);
  const ok = await Model.create({ ...REG, hiddenSize: [4, 4], dropout: 0.2 });
  ok.dispose();
});

test('in lstm-wasm/worker: the new train() options cross, and false or stopTraining stops the worker', async () => {
  const W = await import('../web/worker.js');
  const { xs, ys, cls } = sine();
  const m = await W.Model.create(CLS);
  try {
    const h = await m.train(xs, cls, { epochs: 50, batchSize: 4, metrics: true, validationSplit: 0.25,
      earlyStopping: { patience: 100 }, reduceOnPlateau: { patience: 100 }, classWeight: { 1: 2 }, onEpochEnd: (e) => e.epoch < 1 });
    assert.ok(h.stopped && h.epochs >= 2 && h.epochs < 50, `stopped after ${h.epochs}`);
    assert.equal(h.accuracy.length, h.epochs);
    const h2 = await m.train(xs, cls, { epochs: 50, batchSize: 4, onBatchEnd: () => { m.stopTraining = true; } });
    assert.ok(h2.stopped && h2.epochs < 50);
  } finally {
    await m.dispose();
  }
  const r = await W.Model.create(REG);
  await assert.rejects(r.train(xs, ys, { sampleWeight: xs.map(() => 1) }), /softmax-cross-entropy' only/);
  await r.dispose();
});

test('summary() lays out the layers as TF.js prints them, and countParams() counts every parameter', async () => {
  const m = await Model.create({ inputSize: 3, hiddenSize: [10, 8], bidirectional: true, outputSize: 2 });
  const lines = [];
  const text = m.summary({ print: (l) => lines.push(l) });
  // per direction: 4H·I + 4H·H + 2·4H (PyTorch's two biases)
  const l1 = 2 * (40 * 3 + 40 * 10 + 80), l2 = 2 * (32 * 20 + 32 * 8 + 64), head = 16 * 2 + 2;
  assert.equal(m.countParams(), l1 + l2 + head);
  assert.equal(m.countParams(), Object.values(m.parameters()).reduce((n, p) => n + p.length, 0));
  assert.equal(text, [
    '_'.repeat(65),
    'Layer (type)                 Output shape              Param #',
    '='.repeat(65),
    `lstm_1 (Bidirectional(LSTM)) [null,null,20]            ${l1}`,
    '_'.repeat(65),
    `lstm_2 (Bidirectional(LSTM)) [null,16]                 ${l2}`,
    '_'.repeat(65),
    `dense_1 (Dense)              [null,2]                  ${head}`,
    '='.repeat(65),
    `Total params: ${l1 + l2 + head}`, `Trainable params: ${l1 + l2 + head}`, 'Non-trainable params: 0', '_'.repeat(65),
  ].join('\n'));
  assert.deepEqual(lines, text.split('\n'));
  const g = await Model.create({ inputSize: 1, hiddenSize: 4, cell: 'gru', returnSequences: true, outputSize: 0 });
  // 3H·I + 3H·H + 2·3H
  assert.match(g.summary(), /gru_1 \(GRU\) +\[null,null,4\] +84\n=+\nTotal params: 84\n/);
  assert.throws(() => g.summary({ print: 1 }), /print must be a function/);
  const W = await import('../web/worker.js');
  const wm = await W.Model.create({ inputSize: 3, hiddenSize: [10, 8], bidirectional: true, outputSize: 2 });
  const wl = [];
  assert.equal(await wm.summary({ print: (l) => wl.push(l) }), text);
  assert.deepEqual(wl, lines);
  assert.equal(await wm.countParams(), l1 + l2 + head);
  await wm.dispose();
  m.dispose(), g.dispose();
});

test('save({ optimizer: false }) is an inference file: same outputs, no moments, training after it starts afresh', async () => {
  const { xs, ys } = sine();
  const m = await Model.create(REG);
  await m.train(xs, ys, { epochs: 2, batchSize: 16 });
  const full = m.save(), slim = m.save({ optimizer: false });
  const P = m.countParams();
  // the moments (2·P float32) are left out; the directory entry and the JSON differ by a few bytes
  assert.ok(Math.abs(full.length - slim.length - 2 * P * 4) < 64, `${full.length} - ${slim.length} vs ${2 * P * 4}`);
  const a = await Model.load(slim);
  assert.deepEqual(a.predict(xs), m.predict(xs));
  assert.equal(paramBits(a), paramBits(m));
  // training after it: as a model with these weights whose optimizer never ran
  const fresh = await Model.load(full);
  const fc = coreOfModel(fresh);
  fc.engine.exports.lw_model_set_optim_steps(fc.ptr, 0);
  fc.engine.writeReals(fc.engine.exports.lw_model_optim_state(fc.ptr), new Float32Array(2 * P));
  await a.train(xs, ys, { epochs: 1, batchSize: 16 });
  await fresh.train(xs, ys, { epochs: 1, batchSize: 16 });
  assert.equal(paramBits(a), paramBits(fresh));
  // the full file still resumes exactly; a file claiming to be both is refused
  const b = await Model.load(full);
  assert.deepEqual(b.save(), full);
  const t = await TextModel.create({ hiddenSize: 4, layers: 1 });
  await t.train('abcabcabc', { epochs: 1 });
  const tl = await TextModel.load(t.save({ optimizer: false }));
  assert.equal(tl.generate('a', 5, { seed: 1 }), t.generate('a', 5, { seed: 1 }));
  assert.throws(() => m.save({ optimizer: 'no' }), /optimizer must be/);
  for (const x of [m, a, fresh, b, t, tl]) x.dispose();
});

test('Model.load reads a Uint8Array, an ArrayBuffer, a Blob, a Response and a URL (an error status is refused)', async () => {
  const { createServer } = await import('node:http');
  const m = await Model.create(REG);
  const bytes = m.save(), want = m.predict([[1, 2, 3]]);
  const server = createServer((req, res) => {
    if (req.url === '/m.lstm') { res.writeHead(200, { 'content-type': 'application/octet-stream' }); res.end(Buffer.from(bytes)); } else { res.writeHead(404); res.end('no'); }
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${server.address().port}`;
  try {
    const sources = [bytes, bytes.slice().buffer, new Blob([bytes]), new Response(bytes), `${base}/m.lstm`, new URL(`${base}/m.lstm`)];
    for (const s of sources) {
      const x = await Model.load(s);
      assert.deepEqual(x.predict([[1, 2, 3]]), want);
      x.dispose();
    }
    await fails(() => Model.load(`${base}/missing`), 'ERR_FORMAT', /answered 404/);
    await fails(() => Model.load(new Blob([new Uint8Array(3)])), 'ERR_FORMAT', /truncated/);
    await fails(() => Model.load(42), 'ERR_TYPE', /expected a Uint8Array or ArrayBuffer/);
    const W = await import('../web/worker.js');
    const w = await W.Model.load(new Response(bytes));
    assert.deepEqual(await w.predict([[1, 2, 3]]), want);
    assert.equal((await w.save({ optimizer: false })).length, m.save({ optimizer: false }).length);
    await w.dispose();
  } finally {
    server.close();
    m.dispose();
  }
});

test('the README\'s localStorage lines round-trip a model (base64)', async () => {
  const { readFileSync } = await import('node:fs');
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const block = /```js\n(\/\/ localStorage\n[\s\S]*?)\/\/ IndexedDB/.exec(readme)?.[1];
  assert.ok(block, 'the README has the localStorage lines');
  const store = new Map();
  const localStorage = { setItem: (k, v) => store.set(k, String(v)), getItem: (k) => store.get(k) ?? null };
  const model = await Model.create(REG);
  const run = new Function('Model', 'model', 'localStorage', `return (async () => { ${block}; return fromStorage; })();`);
  const loaded = await run(Model, model, localStorage);
  assert.match(store.get('my-model'), /^[A-Za-z0-9+/]+=*$/);
  assert.deepEqual(loaded.predict([[0.5, 1]]), model.predict([[0.5, 1]]));
  model.dispose(), loaded.dispose();
});

test('TextModel: unseeded generate differs per call, topK/topP cut the distribution, stop ends the text', async () => {
  const tm = await TextModel.create({ hiddenSize: 16, layers: 1, seed: 5 });
  const text = 'the cat sat on the mat. the dog sat on the log. '.repeat(6);
  await tm.train(text, { epochs: 3, seqLength: 32 });
  const seen = new Set(Array.from({ length: 6 }, () => tm.generate('the ', 30, { temperature: 2 })));
  assert.ok(seen.size > 1, 'six unseeded calls are not all the same');
  const seeded = tm.generate('the ', 30, { seed: 3 });
  assert.equal(tm.generate('the ', 30, { seed: 3 }), seeded, 'a seed repeats the text');
  // topK: 1 is greedy: any seed, any temperature, the same argmax text
  const greedy = tm.generate('the ', 30, { topK: 1, temperature: 3, seed: 1 });
  assert.equal(tm.generate('the ', 30, { topK: 1, temperature: 3, seed: 99 }), greedy);
  assert.equal(tm.generate('the ', 30, { topP: 1e-6, seed: 7 }), greedy, 'a tiny topP keeps only the likeliest');
  // topK/topP left at their neutral values give the seeded text bit for bit
  assert.equal(tm.generate('the ', 30, { seed: 3, topP: 1 }), seeded);
  assert.equal(tm.generate('the ', 30, { seed: 3, topK: tm.vocabulary.length + 1 }), seeded);
  // topK 2: every character drawn is one of the two likeliest at its step (checked through a stream)
  const drawn = tm.generate('t', 20, { topK: 2, temperature: 5, seed: 4 });
  const m = tm.model, V = tm.vocabulary.length + 1, s = m.stream({ logits: true }), x = new Float32Array(V);
  const feed = (k) => { x.fill(0); x[k] = 1; return s.step(x); };
  feed(0);
  let z = feed(tm.vocabulary.indexOf('t') + 1);
  for (const ch of drawn) {
    const k = tm.vocabulary.indexOf(ch) + 1;
    const rank = Array.from(z).filter((v) => v > z[k]).length;
    assert.ok(rank < 2, `'${ch}' ranked ${rank}`);
    z = feed(k);
  }
  s.dispose();
  // stop: the text ends before the stop string
  const full = tm.generate('the ', 60, { seed: 3 });
  const at = full.indexOf('t', 1);
  if (at > 0) assert.equal(tm.generate('the ', 60, { seed: 3, stop: full.slice(at, at + 2) }), full.slice(0, full.indexOf(full.slice(at, at + 2))));
  assert.equal(tm.generate('the ', 60, { seed: 3, stop: ['\u2603', full.slice(0, 3)] }), '');
  assert.throws(() => tm.generate('', 5, { topP: 0 }), /topP must be above 0/);
  assert.throws(() => tm.generate('', 5, { stop: '' }), /stop must be a non-empty string/);
  // an unknown character in the prompt is an error naming it and where it is
  assert.throws(() => tm.generate('the Z', 5), (err) => err.code === 'ERR_OPTION' && /character "Z" \(at 4\) is not in the vocabulary/.test(err.message));
  tm.dispose();
});

test('TextModel.evaluate gives the mean loss per character and its perplexity; longer vocabulary entries are refused', async () => {
  const tm = await TextModel.create({ hiddenSize: 8, layers: 1, seed: 2 });
  const text = 'abcabcabcabcabcabc';
  const h = await tm.train(text, { epochs: 4, seqLength: 64, shuffle: false });
  // one window holds the whole text: evaluate after training is the loss of one more forward pass on it
  const e = tm.evaluate(text);
  assert.ok(Math.abs(e.perplexity - Math.exp(e.loss)) < 1e-12);
  assert.ok(e.loss < h.loss[0], `${e.loss} below the first epoch's ${h.loss[0]}`);
  // against a hand count from the stream's probabilities: -mean log p(next)
  const V = tm.vocabulary.length + 1, s = tm.model.stream(), x = new Float32Array(V);
  let nll = 0, prev = 0;
  for (const ch of text) {
    x.fill(0); x[prev] = 1;
    const p = s.step(x), k = tm.vocabulary.indexOf(ch) + 1;
    nll -= Math.log(p[k]);
    prev = k;
  }
  s.dispose();
  assert.ok(Math.abs(e.loss - nll / text.length) < 1e-4, `${e.loss} vs ${nll / text.length}`);
  assert.throws(() => tm.evaluate('abd'), /character "d" \(at 2\) is not in the vocabulary/);
  assert.throws(() => tm.evaluate(['ab', 'c']), /learned one text/);
  const names = await TextModel.create({ hiddenSize: 8, layers: 1 });
  await names.train(['ann', 'bob'], { epochs: 1 });
  const two = names.evaluate(['ann', 'bob']), one = names.evaluate('ann');
  assert.ok(Number.isFinite(two.loss) && Number.isFinite(one.loss));
  await fails(() => TextModel.create({ vocabulary: ['a', 'bc'] }), 'ERR_OPTION', /vocabulary entry "bc" is 2 characters/);
  const emoji = await TextModel.create({ vocabulary: ['a', '\u{1F600}'], hiddenSize: 2, layers: 1 });
  assert.deepEqual(emoji.vocabulary, ['a', '\u{1F600}'], 'one character, two UTF-16 units');
  const W = await import('../web/worker.js');
  const tw = await W.TextModel.load(tm.save());
  assert.deepEqual(await tw.evaluate(text), e);
  await tw.dispose();
  for (const x of [tm, names, emoji]) x.dispose();
});

test('classification inputs can be normalised: the input scaler is fitted, used, saved, and targets stay classes', async () => {
  const { xs, cls } = sine();
  const big = xs.map((s) => s.map((v) => 1000 + 50 * v)); // far from zero: what users scaled by hand
  const m = await Model.create({ ...CLS, normalize: 'zscore' });
  await m.train(big, cls, { epochs: 2, batchSize: 16 });
  const s = coreOfModel(m).scaling;
  assert.equal(s.target, null, 'no target scaler: the targets are classes');
  const flat = big.flat(), mean = flat.reduce((a, b) => a + b, 0) / flat.length;
  assert.ok(Math.abs(s.input.shift[0] - mean) < 1e-3, `shift ${s.input.shift[0]} vs the mean ${mean}`);
  // the same weights on inputs scaled by hand give the same probabilities
  const plain = await Model.create(CLS);
  plain.setParameters(m.parameters());
  const byHand = big.map((q) => q.map((v) => (Math.fround(v) - s.input.shift[0]) / s.input.scale[0]));
  const a = m.predict(big), b = plain.predict(byHand);
  let worst = 0;
  a.forEach((row, i) => row.forEach((p, k) => { worst = Math.max(worst, Math.abs(p - b[i][k])); }));
  assert.ok(worst < 1e-5, `largest difference ${worst}`);
  const back = await Model.load(m.save());
  assert.deepEqual(back.predict(big), a);
  assert.deepEqual(back.config.normalize, 'zscore');
  for (const x of [m, plain, back]) x.dispose();
});

/** A monthly CO2-like series (vega-datasets' co2-concentration.csv is a 43 MB package): trend, two harmonics, noise. */
function co2Like(n = 744) {
  const rand = seededUniform(7);
  const gauss = () => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
  return Array.from({ length: n }, (_, t) => 315 + 0.07 * t + 0.00009 * t * t + 3 * Math.sin(2 * Math.PI * t / 12)
    + 0.8 * Math.sin(4 * Math.PI * t / 12 + 1) + 0.3 * gauss());
}

test('difference: the CO2 case, where a model on levels loses to seasonal-naive and one on differences wins', async () => {
  const series = co2Like(), h = 24;
  const train = series.slice(0, -h), test = series.slice(-h);
  const mae = (a) => a.reduce((s, v, i) => s + Math.abs(v - test[i]), 0) / h;
  const naive = mae(test.map((_, k) => train[train.length - 12 + (k % 12)]));
  const { inputs, targets } = windows(train, { window: 36 });
  const score = {};
  for (const difference of [0, 12]) {
    const m = await Model.create({ inputSize: 1, hiddenSize: 16, seed: 1, ...(difference ? { difference } : {}) });
    await m.train(inputs, targets, { epochs: 15, batchSize: 32, learningRate: 0.01 });
    score[difference] = mae(m.forecast(train, h));
    m.dispose();
  }
  // measured: seasonal-naive 3.79, levels 5.33, differences 0.55 ppm
  assert.ok(score[0] > naive, `levels ${score[0]} should lose to seasonal-naive ${naive} (it cannot leave the training range)`);
  assert.ok(score[12] < naive / 2, `differences ${score[12]} should beat seasonal-naive ${naive}`);
});

test('difference: predict is the plain model on hand-made differences plus the value d steps back; forecast and files keep it', async () => {
  const series = co2Like(120);
  const { inputs, targets } = windows(series, { window: 10, horizon: 3 });
  const d = 2, m = await Model.create({ inputSize: 1, hiddenSize: 5, outputSize: 3, seed: 4, difference: d });
  await m.train(inputs, targets, { epochs: 2 });
  assert.equal(m.config.difference, d);
  const plain = await Model.create({ inputSize: 1, hiddenSize: 5, outputSize: 3, seed: 4 });
  plain.setParameters(m.parameters());
  const s = coreOfModel(m).scaling, pc = coreOfModel(plain);
  pc.scaling.input = s.input, pc.scaling.target = s.target;
  const x = inputs.slice(0, 5), got = m.predict(x);
  const diffs = plain.predict(x.map((w) => w.slice(d).map((v, t) => v - w[t])));
  x.forEach((w, b) => {
    const levels = [...w];
    for (let k = 0; k < 3; k++) levels.push(diffs[b][k] + levels[levels.length - d]);
    const want = levels.slice(-3);
    got[b].forEach((v, k) => assert.ok(Math.abs(v - want[k]) < 1e-3, `row ${b} step ${k}: ${v} vs ${want[k]}`));
  });
  // evaluate's mae is in levels: against the targets themselves
  const ev = m.evaluate(x, targets.slice(0, 5));
  const byHand = got.flat().reduce((a, v, i) => a + Math.abs(v - targets.slice(0, 5).flat()[i]), 0) / 15;
  assert.ok(Math.abs(ev.mae - byHand) < 1e-3, `${ev.mae} vs ${byHand}`);
  const back = await Model.load(m.save());
  assert.deepEqual(back.forecast(series, 7), m.forecast(series, 7));
  assert.deepEqual(back.config.difference, d);
  const noDiff = await Model.load(plain.save());
  assert.equal('difference' in noDiff.config, false, 'a model without it has no difference key (files unchanged)');
  assert.throws(() => m.stream(), /difference needs the steps before each one/);
  assert.throws(() => m.predict([[1, 2]]), /each sequence needs more than 2 steps; sequence 0 has 2/);
  await fails(() => Model.create({ ...CLS, difference: 1 }), 'ERR_OPTION', /applies to a regression model/);
  await fails(() => Model.create({ ...REG, returnSequences: true, difference: 1 }), 'ERR_OPTION', /many-to-one/);
  await fails(() => Model.create({ ...REG, inputSize: 2, outputSize: 3, difference: 1 }), 'ERR_OPTION', /whole steps of the series/);
  for (const z of [m, plain, back, noDiff]) z.dispose();
});

test('predict gives the same shape for every loss with the same outputSize: a number per sequence (or step) when it is 1', async () => {
  const { xs, cls } = sine(6);
  for (const returnSequences of [false, true]) {
    const shapes = [];
    for (const loss of ['mse', 'sigmoid-cross-entropy', 'softmax-cross-entropy']) {
      const m = await Model.create({ inputSize: 1, hiddenSize: 3, outputSize: 1, loss, returnSequences });
      const p = m.predict(xs);
      const s = m.stream(), last = xs[0].map((v) => s.step(v)).at(-1);
      s.dispose();
      shapes.push(JSON.stringify(p, (k, v) => (typeof v === 'number' ? 0 : v)));
      assert.equal(typeof (returnSequences ? p[0][0] : p[0]), 'number', `${loss}: a number, as stream().step gives (${typeof last})`);
      assert.equal(typeof last, 'number');
      if (loss === 'sigmoid-cross-entropy') assert.ok(p.flat().every((v) => v > 0 && v < 1), 'probabilities');
      m.dispose();
    }
    assert.equal(new Set(shapes).size, 1, `returnSequences ${returnSequences}: ${shapes}`);
  }
  // two outputs stay vectors for every loss; the worker gives what the main entry gives
  const W = await import('../web/worker.js');
  const opts = { inputSize: 1, hiddenSize: 3, outputSize: 1, loss: 'sigmoid-cross-entropy', seed: 2 };
  const m = await Model.create(opts), w = await W.Model.create(opts);
  assert.deepEqual(await w.predict(xs), m.predict(xs));
  m.dispose();
  await w.dispose();
});

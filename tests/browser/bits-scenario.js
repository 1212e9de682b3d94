// One seeded scenario, run unchanged in Node and in Chromium by
// tests/browser/bits.test.js: train several kinds of model, then read back
// every number that depends on the engine's arithmetic (weights, optimizer
// moments in the saved file, losses, predictions, a stream, generated text)
// as float32 bit patterns. The two runtimes must agree bit for bit.
import { Model, TextModel } from '../../web/index.js';

const bitsOf = (a) => Array.from(new Uint32Array(Float32Array.from(a).buffer));

/** Deterministic data: a linear congruential generator. */
function lcg(seed) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

const CASES = [
  { name: 'lstm stacked bidirectional ragged', create: { inputSize: 3, hiddenSize: [6, 4], bidirectional: true, outputSize: 2 }, ragged: true },
  { name: 'gru per step, classes', create: { inputSize: 4, hiddenSize: 5, cell: 'gru', outputSize: 3, returnSequences: true, loss: 'softmax-cross-entropy' }, classes: 3 },
  { name: 'peephole with full gate recurrence, dropout', create: { inputSize: 2, hiddenSize: [5, 5], cell: 'peephole', gates: { fullRecurrence: true }, dropout: 0.3, outputSize: 1 } },
  { name: 'rnn, sgd with momentum and a schedule', create: { inputSize: 2, hiddenSize: 7, cell: 'rnn', outputSize: 1 }, train: { optimizer: 'sgd', momentum: 0.9, nesterov: true, learningRate: 0.05, schedule: { type: 'cosine' } } },
];

export async function run({ simd }) {
  const out = {};
  out.engine = { simd: (await Model.create({ inputSize: 1, hiddenSize: 1, simd })).engine.simd };
  for (const c of CASES) {
    const rand = lcg(11);
    const I = c.create.inputSize, B = 12, T = 6;
    const xs = Array.from({ length: B }, (_, b) => Array.from({ length: c.ragged ? 2 + (b % (T - 1)) : T },
      () => Array.from({ length: I }, () => rand() * 2 - 1)));
    const perStep = c.create.returnSequences;
    const target = (s) => (c.classes ? s.reduce((a, v) => a + v[0], 0) > 0 ? 1 : 0 : s.reduce((a, v) => a + v[0], 0));
    const ys = xs.map((s) => (perStep ? s.map((v, t) => (c.classes ? (t + (v[0] > 0 ? 1 : 0)) % c.classes : v[0])) : c.create.outputSize === 2 ? [target(s), -target(s)] : target(s)));
    const model = await Model.create({ seed: 5, simd, ...c.create });
    const history = await model.train(xs, ys, { epochs: 3, batchSize: 5, validationSplit: 0.25, clipNorm: 1, ...c.train });
    const params = model.parameters();
    out[c.name] = {
      weights: Object.keys(params).sort().flatMap((k) => bitsOf(params[k])),
      saved: Array.from(model.save()),
      losses: bitsOf([...history.loss, ...history.valLoss]),
      predictions: bitsOf(model.predict({ data: Float32Array.from(xs.flat(2).slice(0, 2 * 3 * I)), shape: [2, 3, I] }).data),
    };
    if (!c.create.bidirectional) {
      const s = model.stream();
      out[c.name].stream = bitsOf(xs[0].flatMap((v) => { const y = s.step(I === 1 ? v[0] : v); return typeof y === 'number' ? [y] : Array.from(y); }));
      s.dispose();
    }
    model.dispose();
  }
  const tm = await TextModel.create({ hiddenSize: 16, layers: 2, seed: 3, simd });
  await tm.train('the quick brown fox jumps over the lazy dog. '.repeat(4), { epochs: 2, seqLength: 16, batchSize: 4 });
  out.text = { generated: tm.generate('the ', 40, { temperature: 0.8, seed: 9 }), saved: Array.from(tm.save()) };
  tm.dispose();
  return out;
}

// One seeded data-parallel run, unchanged in Node and in Chromium
// (tests/browser/parallel.test.js): a model trained with workers: 2 (plain
// Web Workers in the page, worker threads in Node), its weights and losses
// as float32 bit patterns. The two runtimes and two runs must agree bit for bit.
import { Model } from '../../web/index.js';

const bitsOf = (a) => Array.from(new Uint32Array(Float32Array.from(a).buffer));

function lcg(seed) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

export async function run({ workers = 2 } = {}) {
  const rand = lcg(21);
  const xs = Array.from({ length: 24 }, (_, b) => Array.from({ length: 3 + (b % 6) }, () => [rand() * 2 - 1, rand()]));
  const ys = xs.map((s) => s.map((v) => v[0] + v[1]));
  const model = await Model.create({ inputSize: 2, hiddenSize: [8, 6], outputSize: 1, returnSequences: true, seed: 4 });
  const history = await model.train(xs, ys, { epochs: 3, batchSize: 8, truncate: 3, clipNorm: 1, validationSplit: 0.25, workers });
  const params = model.parameters();
  const out = { weights: Object.keys(params).sort().flatMap((k) => bitsOf(params[k])), losses: bitsOf([...history.loss, ...history.valLoss]) };
  model.dispose();
  return out;
}

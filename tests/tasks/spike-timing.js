// Measuring spike delays (after Gers, Schraudolph & Schmidhuber 2002, "MSD"):
// a train of input spikes whose gaps are T or T - 1 steps at random; at each
// spike the network must say whether the gap that just ended was T (output
// above 0.5) or T - 1 (below), and stay below 0.5 at every other step. The
// paper's headline is telling 50 from 49; here T is a parameter (20 by
// default: 50 is out of reach of our budgets for both cells). The sequences
// hold `spikes` gaps; sigmoid cross-entropy at every step. The paper's own
// MSD targets may differ in detail (from memory: uncertain).
import { Model } from '../../web/index.js';
import { between, random, trainUntil } from './common.js';

/**
 * n spike trains in the fast form (B, L, 1) with lengths; targets (B, L, 1):
 * 1 at a spike that ends a gap of T, else 0. The first spike comes at a random
 * step in [0, T), so no gap is known before it.
 */
export function spikeBatch(rand, n, { T = 20, spikes = 8 } = {}) {
  const L = (spikes + 1) * T;
  const data = new Float32Array(n * L), target = new Float32Array(n * L), lengths = new Int32Array(n);
  for (let b = 0; b < n; b++) {
    let t = between(rand, 0, T - 1);
    while (t < L) {
      data[b * L + t] = 1, lengths[b] = t + 1;
      const gap = rand() < 0.5 ? T : T - 1;
      if (t + gap < L) target[b * L + t + gap] = gap === T ? 1 : 0;
      t += gap;
    }
  }
  return { inputs: { data, shape: [n, L, 1], lengths }, targets: { data: target, shape: [n, L, 1] } };
}

/** How many trains have every step on the right side of 0.5. */
export function trainsRight(model, batch) {
  const { data } = model.predict(batch.inputs);
  const [n, L] = batch.inputs.shape, { lengths } = batch.inputs, target = batch.targets.data;
  let right = 0;
  for (let b = 0; b < n; b++) {
    let ok = true;
    for (let t = 0; t < lengths[b] && ok; t++) ok = (data[b * L + t] > 0.5) === (target[b * L + t] > 0.5);
    right += ok;
  }
  return right;
}

export const TIMING_TEST = { trains: 500, right: 495 }; // 99 % of 500 trains of 8 gaps each

export const TIMING_PAPER = 'the peephole LSTM tells gaps of 50 steps from 49 (abstract); the per-cell success rates and training figures are not quoted here: uncertain';

/**
 * Trains one model until TIMING_TEST.right of TIMING_TEST.trains test trains
 * are right, or the budget (in trains) runs out. A peephole model starts from
 * the plain LSTM's weights for the same seed with its peepholes at 0, so the
 * two start from the same function and differ only in what they can learn.
 * @returns {Promise<{ solved: boolean, sequences: number, score: number }>}
 */
export async function runTiming({ cell = 'peephole', seed = 1, T = 20, spikes = 8, hiddenSize = 8, budget = 300_000,
  roundSize = 500, learningRate = 0.01 } = {}) {
  const shape = { T, spikes };
  const rand = random(seed), test = spikeBatch(random(seed + 1_000_003), TIMING_TEST.trains, shape);
  const options = { inputSize: 1, hiddenSize, outputSize: 1, returnSequences: true, loss: 'sigmoid-cross-entropy', seed };
  const model = await Model.create({ ...options, cell });
  if (cell === 'peephole') {
    const twin = await Model.create({ ...options, cell: 'lstm' });
    model.setParameters({ ...twin.parameters(), weight_peephole_l0: new Float32Array(3 * hiddenSize) });
    twin.dispose();
  }
  try {
    return await trainUntil(model, {
      makeRound: (n) => spikeBatch(rand, n, shape),
      score: () => trainsRight(model, test) / TIMING_TEST.trains,
      need: TIMING_TEST.right / TIMING_TEST.trains,
      roundSize, budget, train: { batchSize: 16, learningRate, clipNorm: 1, seed },
    });
  } finally {
    model.dispose();
  }
}

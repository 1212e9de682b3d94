// What every task in tests/tasks/ shares: the seeded generator their data
// comes from (so a task depends on its seed alone, never on Math.random), a
// median, the online training loop, and the gate-bias start of the 1997
// experiments.

/** random(seed): uniform floats in [0, 1) fixed by the seed (the package's mulberry32). */
export { rng as random } from '../helpers.js';

/** An integer in [lo, hi], both ends included. */
export const between = (rand, lo, hi) => lo + Math.floor(rand() * (hi - lo + 1));

/** The median of a list of numbers (NaN when empty). */
export function median(values) {
  if (!values.length) return NaN;
  const s = [...values].sort((a, b) => a - b), m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * Online training as the papers do it: fresh sequences every round, one pass
 * over them, then the test; stops at the first round whose test passes.
 * `makeRound(n)` returns { inputs, targets }; `score()` the fraction of the
 * test right; `decay(score)`, if given, scales the learning rate from the
 * last score (finer steps once most of the test is right).
 * @returns {Promise<{ solved: boolean, sequences: number, score: number }>} sequences: training sequences seen
 */
export async function trainUntil(model, { makeRound, score, need, roundSize, budget, train, decay }) {
  let sequences = 0, last = 0;
  while (sequences < budget) {
    const { inputs, targets } = makeRound(roundSize);
    const learningRate = train.learningRate * (decay ? decay(last) : 1);
    await model.train(inputs, targets, { epochs: 1, ...train, learningRate });
    sequences += roundSize;
    last = score();
    if (last >= need) return { solved: true, sequences, score: last };
  }
  return { solved: false, sequences, score: last };
}

// PyTorch's gate order in bias_ih/bias_hh: i, f, g, o (README "Gate order")
const GATE_ROWS = { input: 0, forget: 1, cell: 2, output: 3 };

/**
 * Starts one gate of every unit of an LSTM-family model at a given bias
 * (bias_ih + bias_hh = value), as Hochreiter & Schmidhuber 1997 start their
 * input gates negative against "internal state drift" (their Section 4).
 */
export function setGateBias(model, gate, value) {
  const p = model.parameters(), H = model.config.hiddenSize[0], k = GATE_ROWS[gate];
  for (let l = 0; l < model.config.layers; l++) {
    const ih = p[`bias_ih_l${l}`], hh = p[`bias_hh_l${l}`];
    ih.fill(value, k * H, (k + 1) * H), hh.fill(0, k * H, (k + 1) * H);
    model.setParameters({ [`bias_ih_l${l}`]: ih, [`bias_hh_l${l}`]: hh });
  }
}

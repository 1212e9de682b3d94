// The adding problem as Hochreiter & Schmidhuber 1997 state it (Experiment 4):
// pairs (value in [-1, 1], marker); two pairs marked 1.0, the first and last
// pair marked -1 otherwise; lengths from T to T + T/10; target at the end
// 0.5 + (X1 + X2) / 4; a sequence is right when the absolute error is below
// 0.04. tests/training.test.js has the easier [0, 1] variant of issue 3.
import { Model } from '../../web/index.js';
import { between, random, setGateBias, trainUntil } from './common.js';

export const ADDING_TOLERANCE = 0.04; // the paper's "processed correctly"

/**
 * n sequences of the 1997 adding problem with minimal length T, in the fast
 * form (B, T + T/10, 2) with lengths. Marker placement, as the paper words
 * it: X1 is one of the first ten pairs; X2 "one of the first T/2 - 1 still
 * unmarked pairs", which we read as one of the first T/2 - 1 pairs other than
 * X1; the first and the final pair carry marker -1 unless marked. "X1 is set
 * to zero in the rare case where the first pair got marked": the paper names
 * only X1, we zero whichever marked value sits at the first pair (X1 or X2),
 * so the target stays the sum of the marked values either way.
 */
export function addingBatch(rand, n, T = 100) {
  const Tmax = T + Math.floor(T / 10);
  const data = new Float32Array(n * Tmax * 2), target = new Float32Array(n), lengths = new Int32Array(n);
  for (let b = 0; b < n; b++) {
    const L = between(rand, T, Tmax), row = b * Tmax * 2;
    lengths[b] = L;
    for (let t = 0; t < L; t++) data[row + 2 * t] = 2 * rand() - 1;
    const first = between(rand, 0, 9);
    // X2: the k-th still unmarked pair among the first T/2 - 1
    let k = between(rand, 0, T / 2 - 3), second = -1;
    for (let t = 0; t < T / 2 - 1; t++) if (t !== first && k-- === 0) { second = t; break; }
    data[row + 1] = -1, data[row + 2 * (L - 1) + 1] = -1;
    for (const t of [first, second]) data[row + 2 * t + 1] = 1;
    if (first === 0 || second === 0) data[row] = 0;
    target[b] = 0.5 + (data[row + 2 * first] + data[row + 2 * second]) / 4;
  }
  return { inputs: { data, shape: [n, Tmax, 2], lengths }, targets: { data: target, shape: [n, 1] } };
}

/** How many sequences of a batch end within ADDING_TOLERANCE of their target. */
export function addingRight(model, batch) {
  const { data } = model.predict(batch.inputs);
  let right = 0;
  for (let b = 0; b < data.length; b++) right += Math.abs(data[b] - batch.targets.data[b]) < ADDING_TOLERANCE;
  return right;
}

// The paper tests on 2,560 sequences and reports 1 wrong at T = 100; we ask 99 %.
export const ADDING_TEST = { sequences: 2560, right: 2535 };

export const ADDING_PAPER = 'T = 100: 1 of 2,560 test sequences wrong, after 74,000 training sequences (Table 7; ≈, from memory)';

/**
 * Trains one model on fresh sequences until ADDING_TEST.right of the 2,560
 * test sequences are right, or the budget runs out. The recipe: the input
 * gates start at bias -3 (the paper's remedy for drift; the value is ours),
 * Adam at 0.003, a third of it from 90 % right and a tenth from 97 %.
 * @returns {Promise<{ solved: boolean, sequences: number, score: number }>}
 */
export async function runAdding({ cell = 'lstm1997', seed = 1, T = 100, hiddenSize = 16, budget = 300_000, roundSize = 2000,
  learningRate = 0.003, inputBias = -3, forgetBias = 1 } = {}) {
  const rand = random(seed), test = addingBatch(random(seed + 1_000_003), ADDING_TEST.sequences, T);
  const model = await Model.create({ inputSize: 2, hiddenSize, outputSize: 1, cell, seed, forgetBias, normalize: false });
  if (inputBias !== null) setGateBias(model, 'input', inputBias);
  try {
    return await trainUntil(model, {
      makeRound: (n) => addingBatch(rand, n, T),
      score: () => addingRight(model, test) / ADDING_TEST.sequences,
      need: ADDING_TEST.right / ADDING_TEST.sequences,
      decay: (score) => (score < 0.9 ? 1 : score < 0.97 ? 1 / 3 : 1 / 10),
      roundSize, budget, train: { batchSize: 32, learningRate, clipNorm: 1, seed },
    });
  } finally {
    model.dispose();
  }
}

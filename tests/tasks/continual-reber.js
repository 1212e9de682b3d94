// Continual embedded Reber grammar (Gers, Schmidhuber & Cummins 2000): one
// endless stream of embedded Reber strings (reber.js), the next string
// starting right after the last one's E, never a reset. Training runs on
// several long streams at once with truncated BPTT (the state carried from
// chunk to chunk); the test feeds one fresh stream through model.stream()
// step by step and counts the symbols predicted right before the first error.
import { Model } from '../../web/index.js';
import { random } from './common.js';
import { N_SYMBOLS, embeddedReber, rightSet, writeSteps } from './reber.js';

/** `steps` symbols of one stream: { symbols, next } with next the legal-successor bitmasks. */
export function reberStream(rand, steps) {
  const symbols = [], next = [];
  let strings = 0;
  while (symbols.length < steps) {
    const s = embeddedReber(rand, { continual: true });
    symbols.push(...s.symbols), next.push(...s.next);
    strings++;
  }
  symbols.length = next.length = steps;
  return { symbols, next, strings };
}

/**
 * `streams` streams of `steps` symbols as one batch (B, steps, 7): each
 * symbol's target is the set of symbols that may follow it. `strings` is the
 * number of embedded Reber strings the batch holds (the last ones cut).
 */
export function streamBatch(rand, streams, steps) {
  const data = new Float32Array(streams * steps * N_SYMBOLS), target = new Float32Array(data.length);
  let strings = 0;
  for (let b = 0; b < streams; b++) {
    const s = reberStream(rand, steps);
    strings += s.strings;
    writeSteps(data, target, b, steps, s.symbols, s.next, steps);
  }
  return { inputs: { data, shape: [streams, steps, N_SYMBOLS] }, targets: { data: target, shape: [streams, steps, N_SYMBOLS] }, strings };
}

/**
 * Feeds a fresh stream of up to `steps` symbols through model.stream() with no
 * reset; returns { symbols }: how many symbols were predicted right before
 * the first error (all of them when there is none).
 */
export function streamRight(model, rand, steps) {
  const s = model.stream();
  const x = new Float32Array(N_SYMBOLS);
  let symbols = 0;
  try {
    for (;;) {
      const { symbols: seq, next } = embeddedReber(rand, { continual: true });
      for (let t = 0; t < seq.length; t++) {
        if (symbols === steps) return { symbols };
        x.fill(0), x[seq[t]] = 1;
        if (!rightSet(s.step(x), 0, next[t])) return { symbols };
        symbols++;
      }
    }
  } finally {
    s.dispose();
  }
}

// The test stream: 100,000 symbols (about 8,500 strings) without an error.
export const CONTINUAL_TEST = { symbols: 100_000 };

export const CONTINUAL_PAPER = 'forget gates: 18 % of runs perfect (62 % with learning-rate decay); LSTM 1997 without resets: 0 % (Table 2; ≈, from memory; its test-stream length uncertain)';

/**
 * The largest |c| of any cell after `steps` symbols of a fresh stream: Gers et
 * al.'s point is that without a forget gate the state grows without bound.
 */
export function cellStateAfter(model, rand, steps) {
  const { symbols } = reberStream(rand, steps);
  const x = symbols.map((k) => Array.from({ length: N_SYMBOLS }, (_, j) => +(j === k)));
  const [trace] = model.trace(x);
  return Math.max(...trace.c[steps - 1].map(Math.abs));
}

/**
 * Trains on `streams` fresh streams of `steps` symbols per round (truncated
 * BPTT, `truncate` steps a chunk, the state carried across chunks) until the
 * test stream, CONTINUAL_TEST.symbols long, is predicted without an error, or
 * the budget (in training strings) runs out. Plain gradient descent with
 * momentum, as the paper trains (it used no momentum, online): with Adam the
 * 1997 cell solves the task too, its cells saturated and the string's first
 * T/P carried by its output gates alone (tests/papers/results.md).
 * @returns {Promise<{ solved: boolean, sequences: number, score: number, symbols: number, cellState: number }>}
 *   symbols: right before the first error; cellState: cellStateAfter() at 10,000 symbols
 */
export async function runContinual({ cell = 'lstm', seed = 1, hiddenSize = 16, budget = 400_000, streams = 16, steps = 1000,
  truncate = 40, optimizer = 'sgd', momentum = 0.9, learningRate = 0.3 } = {}) {
  const rand = random(seed);
  const model = await Model.create({ inputSize: N_SYMBOLS, hiddenSize, outputSize: N_SYMBOLS, returnSequences: true,
    loss: 'sigmoid-cross-entropy', cell, seed });
  const train = { epochs: 1, batchSize: streams, truncate, optimizer, momentum, learningRate, clipNorm: 1, seed };
  try {
    let sequences = 0, symbols = 0;
    while (sequences < budget && symbols < CONTINUAL_TEST.symbols) {
      const batch = streamBatch(rand, streams, steps);
      await model.train(batch.inputs, batch.targets, train);
      sequences += batch.strings;
      symbols = streamRight(model, random(seed + 1_000_003), CONTINUAL_TEST.symbols).symbols; // the same test stream each round
    }
    const solved = symbols === CONTINUAL_TEST.symbols;
    return { solved, sequences, score: symbols / CONTINUAL_TEST.symbols, symbols, cellState: cellStateAfter(model, random(seed + 2_000_003), 10_000) };
  } finally {
    model.dispose();
  }
}

// The Clockwork RNN paper's generation task (Koutník et al. 2014, section 4.1,
// on a signal made here): from no input, produce a 320-step signal, trained
// on that one sequence. Normalised MSE (MSE / the signal's variance) of a
// Clockwork, an RNN and an LSTM of about the same number of weights, and the
// time per epoch. The paper's signal is audio we cannot ship: ours is a sum
// of three sines of periods 10, 45 and 160 steps.
import { Model } from '../../web/index.js';

export const SIGNAL_T = 320;
// The paper's Table 1 compares the three on two audio tracks at about 750 weights each, the CW-RNN best;
// its numbers are not copied here (not checked against the paper in this repository)
export const SIGNAL_PAPER = 'two audio tracks, about 750 weights each: the CW-RNN has the lowest NMSE of the three (Table 1; figures unchecked)';

export function signal(T = SIGNAL_T) {
  return Array.from({ length: T }, (_, t) => 0.5 * Math.sin((2 * Math.PI * t) / 10) + 0.3 * Math.sin((2 * Math.PI * t) / 45 + 1)
    + 0.4 * Math.sin((2 * Math.PI * t) / 160 + 2));
}

/** Trains one model on the signal: { nmse, msPerEpoch, weights }. */
export async function runSignal({ cell, hiddenSize, periods, epochs = 400, seed = 1, learningRate = 0.01 }) {
  const y = signal(), T = y.length;
  const mean = y.reduce((a, b) => a + b, 0) / T, variance = y.reduce((a, b) => a + (b - mean) ** 2, 0) / T;
  const model = await Model.create({ cell, hiddenSize, ...(periods ? { periods } : {}), inputSize: 1, outputSize: 1,
    returnSequences: true, normalize: false, seed });
  // "no input": a constant 1 at the first step (the start signal), zeros after
  const x = [y.map((_, t) => [t === 0 ? 1 : 0])], target = [y.map((v) => [v])];
  const start = performance.now();
  await model.train(x, target, { epochs, batchSize: 1, learningRate, shuffle: false, clipNorm: 1, yieldEvery: 0 });
  const msPerEpoch = (performance.now() - start) / epochs;
  const out = model.predict(x)[0].map((v) => (Array.isArray(v) || ArrayBuffer.isView(v) ? v[0] : v));
  const mse = out.reduce((a, v, t) => a + (v - y[t]) ** 2, 0) / T;
  const weights = Object.entries(model.parameters()).reduce((n, [name, v]) => {
    if (cell !== 'clockwork' || !name.startsWith('weight_hh')) return n + v.length;
    return n + Array.from(v).filter((_, k) => { const H = hiddenSize, m = H / periods.length; return Math.floor(k / H / m) <= Math.floor((k % H) / m); }).length;
  }, 0);
  model.dispose();
  return { nmse: mse / variance, msPerEpoch, weights };
}

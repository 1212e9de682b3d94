// Differencing for trends (Model.create({ difference: d })): the model learns
// x(t) - x(t-d) instead of levels, so a z-scored, tanh-bounded network can
// follow a trend past its training range; outputs are added back onto the
// values d steps before them. Targets continue their inputs (as windows()
// gives them): output step k of a sequence of length L is series step L + k.
import { affirm } from './errors.js';

/** The differenced inputs: each sequence of length L becomes L - d steps of x(t + d) - x(t). */
export function differenceInputs(raw, d) {
  const [B, T, I] = raw.shape, T2 = Math.max(1, T - d);
  const data = new Float32Array(B * T2 * I), lengths = new Int32Array(B);
  for (let b = 0; b < B; b++) {
    const L = raw.lengths[b];
    affirm(L > d, 'ERR_SHAPE', () => `difference ${d}: each sequence needs more than ${d} steps; sequence ${b} has ${L}`);
    lengths[b] = L - d;
    for (let t = 0; t < L - d; t++) {
      for (let i = 0; i < I; i++) data[(b * T2 + t) * I + i] = raw.data[(b * T + t + d) * I + i] - raw.data[(b * T + t) * I + i];
    }
  }
  return { data, shape: [B, T2, I], lengths };
}

/**
 * The value d steps before output step k of sequence b: an input, or an
 * earlier output step (`values`, the targets or the outputs being undone).
 */
function base(raw, values, b, k, d, K, I, i) {
  const [, T] = raw.shape, L = raw.lengths[b], at = L + k - d;
  return at < L ? raw.data[(b * T + at) * I + i] : values[(b * K + (at - L)) * I + i];
}

/** Targets (B, K·I) as changes over d steps, in place of a copy. */
export function differenceTargets(tdata, raw, d, outputSize) {
  const I = raw.shape[2], K = outputSize / I, B = raw.shape[0], out = new Float32Array(tdata.length);
  for (let b = 0; b < B; b++) {
    for (let k = 0; k < K; k++) for (let i = 0; i < I; i++) out[(b * K + k) * I + i] = tdata[(b * K + k) * I + i] - base(raw, tdata, b, k, d, K, I, i);
  }
  return out;
}

/** Outputs (B, K·I) back to levels, in place, step by step (a step past d adds onto an undone output). */
export function undoDifference(out, raw, d, outputSize) {
  const I = raw.shape[2], K = outputSize / I, B = raw.shape[0];
  for (let b = 0; b < B; b++) {
    for (let k = 0; k < K; k++) for (let i = 0; i < I; i++) out[(b * K + k) * I + i] += base(raw, out, b, k, d, K, I, i);
  }
}

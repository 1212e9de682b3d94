// Model#evaluate's metrics from outputs and raw targets: for regression mse
// and mae in the targets' own units, for classification the accuracy (argmax
// for softmax cross-entropy, each output against 0.5 for sigmoid).

/**
 * @param {Float32Array} out outputs in the targets' units (probabilities for classification)
 * @param {Float32Array} raw the targets as given, same layout
 * @param {{ data: any, shape: number[], lengths: Int32Array }} seq the inputs' batch
 * @param {{ loss: string, outputSize: number, returnSequences: boolean }} config
 * @param {boolean} regression
 * @returns {{ mse?: number, mae?: number, accuracy?: number }}
 */
export function metrics(out, raw, seq, config, regression) {
  const c = config, O = c.outputSize, [B, T] = seq.shape;
  const rows = [];
  for (let b = 0; b < B; b++) {
    if (!c.returnSequences) rows.push(b * O);
    else for (let t = 0; t < seq.lengths[b]; t++) rows.push((b * T + t) * O);
  }
  if (regression) {
    let se = 0, ae = 0;
    for (const r of rows) for (let k = 0; k < O; k++) { const d = out[r + k] - raw[r + k]; se += d * d; ae += Math.abs(d); }
    return { mse: se / (rows.length * O), mae: ae / (rows.length * O) };
  }
  let right = 0, total = 0;
  for (const r of rows) {
    if (c.loss === 'softmax-cross-entropy') {
      let pa = 0, ta = 0;
      for (let k = 1; k < O; k++) { if (out[r + k] > out[r + pa]) pa = k; if (raw[r + k] > raw[r + ta]) ta = k; }
      right += pa === ta, total++;
    } else {
      for (let k = 0; k < O; k++) right += (out[r + k] > 0.5) === (raw[r + k] > 0.5), total++;
    }
  }
  return { accuracy: right / total };
}

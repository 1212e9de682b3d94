// Model#forecast: continues a series by feeding a regression model's own
// predictions back, through the public predict() and stream() of the model,
// in the series' own units.
import { affirm } from './errors.js';
import { checkInt } from './validate.js';
import { toSequences } from './data.js';

/**
 * `steps` values after `series`. A many-to-one model sees the last `window`
 * steps (its longest training sequence; the whole series if untrained); a
 * many-to-many model reads the whole series step by step. Each output must be
 * one step of the series (outputSize = inputSize), or several (k·inputSize).
 * @param {import('./model.js').Model} model
 * @returns {(number|number[])[]}
 */
export function forecast(model, series, steps, { config: c, regression, window }) {
  const I = c.inputSize, O = c.outputSize;
  affirm(regression, 'ERR_OPTION', `forecast: needs a regression model, not loss '${c.loss}'`);
  affirm(O > 0 && O % I === 0, 'ERR_OPTION', `forecast: each output must be whole steps of the series: outputSize ${O} is not a multiple of inputSize ${I}`);
  checkInt(steps, 'steps', 1, 1e6);
  const seq = toSequences([series], { name: 'series', inputSize: I }); // checks every value
  const T = seq.shape[1];
  const history = Array.from({ length: T }, (_, t) => Array.from(seq.data.subarray(t * I, t * I + I)));
  const out = [];
  const push = (flat) => {
    for (let k = 0; k < O / I && out.length < steps; k++) {
      const v = Array.from(flat.subarray(k * I, k * I + I));
      history.push(v);
      out.push(I === 1 ? v[0] : v);
    }
  };
  if (c.returnSequences) {
    affirm(!c.bidirectional, 'ERR_OPTION', 'forecast: a bidirectional many-to-many model cannot forecast (it would need the future)');
    const s = model.stream();
    try {
      let y;
      for (const v of history) y = s.step(I === 1 ? v[0] : v);
      while (out.length < steps) {
        const before = out.length;
        push(typeof y === 'number' ? Float32Array.of(y) : y);
        if (out.length < steps) for (const v of history.slice(history.length - (out.length - before))) y = s.step(I === 1 ? v[0] : v);
      }
    } finally {
      s.dispose();
    }
    return out;
  }
  const context = window || T;
  while (out.length < steps) {
    const ctx = history.slice(-context);
    const data = Float32Array.from(ctx.flat());
    push(model.predict({ data, shape: [1, ctx.length, I] }).data);
  }
  return out;
}

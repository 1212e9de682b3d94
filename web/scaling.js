// A regression model's automatic scaling, as one object: the input scaler and
// the target scaler (data.js fits and applies them), fitted once on the first
// training set, applied to inputs and targets, inverted on outputs. The
// per-step (many-to-many) or per-row layout of targets is decided here once.
import { applyScaler, fitScaler, invertScaler } from './data.js';

export class Scaling {
  /**
   * @param {boolean} perStep targets and outputs have one row per step (returnSequences)
   * @param {{ input?: object|null, target?: object|null }} [scalers] as toJSON() gives them
   */
  constructor(perStep, { input = null, target = null } = {}) {
    this.perStep = perStep;
    this.input = input;
    this.target = target;
  }

  /** Whether the scalers have been fitted (or loaded). */
  get fitted() {
    return this.input !== null;
  }

  /** Fits both scalers on the rows `rows` of raw data seq (B, T, I) and targets (the input scaler only with targets: false, for classes). */
  fit(seq, tdata, rows, { outputSize: O, mode, targets = true }) {
    const [, T, I] = seq.shape;
    const pick = (data, width, steps) => {
      const out = new Float32Array(rows.length * steps * width);
      rows.forEach((b, k) => out.set(data.subarray(b * steps * width, (b + 1) * steps * width), k * steps * width));
      return out;
    };
    const lengths = Int32Array.from(rows, (b) => seq.lengths[b]);
    this.input = fitScaler(pick(seq.data, I, T), { width: I, lengths, steps: T, mode });
    this.target = !targets ? null : this.perStep
      ? fitScaler(pick(tdata, O, T), { width: O, lengths, steps: T, mode })
      : fitScaler(pick(tdata, O, 1), { width: O, mode });
  }

  /** Forgets the scalers (a fit that nothing was trained on). */
  clear() {
    this.input = this.target = null;
  }

  /** Scales inputs (B, T, I) in place. */
  scaleInputs(seq) {
    if (this.input) applyScaler(seq.data, this.input, { steps: seq.shape[1], lengths: seq.lengths });
  }

  /** Scales targets in place: per step for many-to-many, else one row per sequence. */
  scaleTargets(tdata, seq) {
    if (!this.target) return;
    if (this.perStep) applyScaler(tdata, this.target, { steps: seq.shape[1], lengths: seq.lengths });
    else applyScaler(tdata, this.target);
  }

  /** Outputs back to the targets' units, in place. */
  invertOutputs(out, seq) {
    if (!this.target) return;
    if (this.perStep) invertScaler(out, this.target, { steps: seq.shape[1], lengths: seq.lengths });
    else invertScaler(out, this.target);
  }

  /** One step's input i, scaled (the stream's hot path). */
  stepInput(x, i) {
    return this.input ? (x - this.input.shift[i]) / this.input.scale[i] : x;
  }

  /** One output k, back in the targets' units (the stream's hot path). */
  stepOutput(y, k) {
    return this.target ? y * this.target.scale[k] + this.target.shift[k] : y;
  }

  /** What save() stores. */
  toJSON() {
    return { input: this.input, target: this.target };
  }
}

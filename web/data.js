// Data for the JS API: nested arrays of sequences <-> flat batch-first buffers
// with lengths, targets and outputs in the same conventions, windows() for
// forecasting, per-feature scaling and seeded shuffling. Nothing here touches
// wasm (engine.js copies these buffers into the heap), and nothing here uses
// Math.exp/log/trig, so every result is bit-identical across JS engines.

import { LstmError, affirm } from './errors.js';
import { checkInt, checkNumber, checkOneOf, checkOptions, plural, show } from './validate.js';

const isList = (v) => Array.isArray(v) || (ArrayBuffer.isView(v) && !(v instanceof DataView));
const isFastForm = (v) => v !== null && typeof v === 'object' && !isList(v) && 'data' in v && 'shape' in v;
const isNumberData = (v) => isList(v) && !(v instanceof BigInt64Array || v instanceof BigUint64Array);

const F32_MAX = 3.4028234663852886e38;
/** A finite number that stays finite once stored in a Float32Array. */
const isF32 = (x) => Number.isFinite(x) && Math.abs(x) <= F32_MAX;

/** The error for a value that failed isF32. */
function badNumber(x, path) {
  if (typeof x !== 'number') return new LstmError('ERR_TYPE', `${path} must be a number, got ${show(x)}`);
  return Number.isFinite(x)
    ? new LstmError('ERR_RANGE', `${path} is ${x}, beyond float32 range (about ±3.4e38)`)
    : new LstmError('ERR_NOT_FINITE', `${path} is ${x}`);
}

/** Checks a fast-form shape: `rank` integers >= 1. */
function checkShape(shape, path, rank, pattern) {
  affirm(isList(shape) && shape.length === rank, 'ERR_SHAPE', () =>
    `${path} must be ${pattern}, got ${isList(shape) ? `[${Array.from(shape).join(', ')}]` : show(shape)}`);
  shape.forEach((n, k) => affirm(Number.isInteger(n) && n >= 1, 'ERR_SHAPE', () =>
    `${path}[${k}] is ${show(n)}; every size must be an integer >= 1`));
  return Array.from(shape);
}

/** Whether every sequence has all T steps. */
function allFull(lengths, T) {
  for (let b = 0; b < lengths.length; b++) if (lengths[b] !== T) return false;
  return true;
}

/**
 * Copies the valid entries of a fast-form (B, T, W) buffer into a fresh
 * zero-padded Float32Array, checking each is finite (and in 0..1 when `unit`).
 * `steps` false means a (B, W) layout with T = 1, for paths [b][k].
 */
function copyValid(src, B, T, W, lengths, name, steps, unit) {
  affirm(isNumberData(src), 'ERR_TYPE', () => `${name}.data must be a Float32Array or an array of numbers, got ${show(src)}`);
  affirm(src.length === B * T * W, 'ERR_SHAPE', () =>
    `${name}.data has ${plural(src.length, 'value')} but shape [${steps ? [B, T, W] : [B, W]}] needs ${B * T * W}`);
  const out = new Float32Array(B * T * W);
  if (src instanceof Float32Array && !unit && allFull(lengths, T)) {
    // the common case in one copy, then a tight finiteness check (x - x is NaN for NaN and ±Infinity)
    out.set(src);
    let ok = true;
    for (let i = 0; i < out.length && ok; i++) ok = out[i] - out[i] === 0;
    if (ok) return out;
  }
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < lengths[b]; t++) {
      for (let k = 0, at = (b * T + t) * W; k < W; k++, at++) {
        const x = src[at];
        if (!isF32(x) || (unit && !(x >= 0 && x <= 1))) {
          const path = `${name}[${b}]${steps ? `[${t}]` : ''}[${k}] (${name}.data[${at}])`;
          throw isF32(x)
            ? new LstmError('ERR_RANGE', `${path} is ${x}; class targets must be from 0 to 1`)
            : badNumber(x, path);
        }
        out[at] = x;
      }
    }
  }
  return out;
}

function fastSequences({ data, shape, lengths }, name, inputSize) {
  const [B, T, I] = checkShape(shape, `${name}.shape`, 3, '[B, T, I]');
  affirm(inputSize === undefined || I === inputSize, 'ERR_SHAPE', () => `${name}.shape[2] is ${I} but inputSize is ${inputSize}`);
  const lens = new Int32Array(B).fill(T);
  if (lengths !== undefined) {
    affirm(isNumberData(lengths), 'ERR_TYPE', () =>
      `${name}.lengths must be an Int32Array or an array of integers, got ${show(lengths)}`);
    affirm(lengths.length === B, 'ERR_SHAPE', () =>
      `${name}.lengths has ${plural(lengths.length, 'entry', 'entries')} but ${name}.shape[0] is ${B}`);
    for (let b = 0; b < B; b++) lens[b] = checkInt(lengths[b], `${name}.lengths[${b}]`, 1, T);
  }
  return { data: copyValid(data, B, T, I, lens, name, true, false), shape: [B, T, I], lengths: lens, scalarSteps: false };
}

/**
 * Converts inputs into a batch-first buffer, zero-padded past each length.
 * `inputs` is an array of sequences (each a non-empty array of steps; a step is
 * a number when I = 1 or an array of I numbers; lengths may differ), or the
 * fast form `{ data, shape: [B, T, I], lengths? }`, which is copied, never kept.
 * @param {unknown} inputs
 * @param {{ name?: string, inputSize?: number }} [options] name used in messages; inputSize every step must match
 * @returns {{ data: Float32Array, shape: number[], lengths: Int32Array, scalarSteps: boolean }}
 *   data (B, T, I); scalarSteps is true when steps were given as plain numbers
 */
export function toSequences(inputs, { name = 'inputs', inputSize } = {}) {
  if (isFastForm(inputs)) return fastSequences(/** @type {any} */ (inputs), name, inputSize);
  affirm(isList(inputs), 'ERR_TYPE', () =>
    `${name} must be an array of sequences or { data, shape, lengths }, got ${show(inputs)}`);
  const B = inputs.length;
  affirm(B > 0, 'ERR_SHAPE', `${name} is empty; give at least one sequence`);
  // Pass 1: structure. The first step fixes the convention (numbers or arrays) and I.
  const scalarSteps = isList(inputs[0]) && inputs[0].length > 0 && !isList(inputs[0][0]);
  const lengths = new Int32Array(B);
  let I = 0, T = 0;
  for (let b = 0; b < B; b++) {
    const seq = inputs[b];
    affirm(isList(seq), 'ERR_TYPE', () => `${name}[${b}] must be an array of steps, got ${show(seq)}` +
      (typeof seq === 'number' ? `; to pass a single sequence, wrap it: [sequence]` : ''));
    affirm(seq.length > 0, 'ERR_SHAPE', () => `${name}[${b}] is empty; every sequence needs at least one step`);
    for (let t = 0; t < seq.length; t++) {
      const step = seq[t];
      affirm(isList(step) !== scalarSteps, 'ERR_SHAPE', () => scalarSteps
        ? `${name}[${b}][${t}] is an array but the steps of ${name}[0] are numbers`
        : `${name}[${b}][${t}] is ${show(step)} but the steps of ${name}[0] are arrays of ${plural(I, 'feature')}`);
      const width = scalarSteps ? 1 : step.length;
      if (b === 0 && t === 0) {
        I = width;
        affirm(I > 0, 'ERR_SHAPE', `${name}[0][0] is an empty array; a step needs at least one feature`);
        affirm(inputSize === undefined || I === inputSize, 'ERR_SHAPE', () => (scalarSteps
          ? `${name}[0][0] is a number (1 feature) but inputSize is ${inputSize}; if ${name} is one sequence, wrap it: [${name}]`
          : `${name}[0][0] has ${plural(I, 'feature')} but inputSize is ${inputSize}`));
      }
      affirm(width === I, 'ERR_SHAPE', () => inputSize !== undefined
        ? `${name}[${b}][${t}] has ${plural(width, 'feature')} but inputSize is ${inputSize}`
        : t === 0
          ? `${name}[${b}] has steps of ${plural(width, 'feature')} but ${name}[0] has ${I}`
          : `${name}[${b}][${t}] has ${plural(width, 'feature')} but ${name}[${b}][0] has ${I}`);
    }
    lengths[b] = seq.length;
    if (seq.length > T) T = seq.length;
  }
  // Pass 2: values.
  const data = new Float32Array(B * T * I); /* (B, T, I), zero past lengths[b] */
  for (let b = 0; b < B; b++) {
    const seq = inputs[b];
    for (let t = 0; t < seq.length; t++) {
      const o = (b * T + t) * I, step = seq[t];
      if (scalarSteps) {
        if (!isF32(step)) throw badNumber(step, `${name}[${b}][${t}]`);
        data[o] = step;
      } else {
        for (let i = 0; i < I; i++) {
          const x = step[i];
          if (!isF32(x)) throw badNumber(x, `${name}[${b}][${t}][${i}]`);
          data[o + i] = x;
        }
      }
    }
  }
  return { data, shape: [B, T, I], lengths, scalarSteps };
}

/**
 * Writes one target at out[o .. o+O): a class index (one-hot), a vector of O
 * numbers, or a number when O is 1. Returns true when it was a plain number.
 */
function putTarget(value, path, out, o, O, classes) {
  if (isList(value)) {
    affirm(value.length === O, 'ERR_SHAPE', () => `${path} has ${plural(value.length, 'value')} but outputSize is ${O}`);
    for (let k = 0; k < O; k++) {
      const x = value[k];
      if (!isF32(x)) throw badNumber(x, `${path}[${k}]`);
      affirm(!classes || (x >= 0 && x <= 1), 'ERR_RANGE', () =>
        `${path}[${k}] is ${x}; class targets are one-hot vectors or probabilities, from 0 to 1`);
      out[o + k] = x;
    }
    return false;
  }
  if (!isF32(value)) throw badNumber(value, path);
  if (classes && O > 1) {
    affirm(Number.isInteger(value), 'ERR_TYPE', () => `${path} is ${value}; a class index must be an integer from 0 to ${O - 1}`);
    affirm(value >= 0 && value < O, 'ERR_RANGE', () =>
      `${path} is class ${value} but outputSize is ${O}; class indices run from 0 to ${O - 1}`);
    out[o + value] = 1;
    return true;
  }
  affirm(O === 1, 'ERR_SHAPE', () => `${path} is a number but outputSize is ${O}; give an array of ${O} numbers`);
  // With one output (sigmoid), a class target is the probability of the class.
  affirm(!classes || (value >= 0 && value <= 1), 'ERR_RANGE', () =>
    `${path} is ${value}; with outputSize 1 a class target is a probability from 0 to 1`);
  out[o] = value;
  return true;
}

/**
 * Converts targets into (B, O) when perStep is false or (B, T, O) zero-padded
 * past each length when perStep is true. A target (per sequence, or per step of
 * each sequence) is: with `classes`, a class index (one-hot encoded) or a vector
 * of O numbers in 0..1 (with O = 1, a number is the probability); otherwise a
 * number (O = 1) or a vector of O numbers. Sequence b needs lengths[b] per-step
 * targets. Also accepts the fast form `{ data, shape: [B, O] or [B, T, O] }`.
 * @param {unknown} targets
 * @param {{ name?: string, batch: number, lengths: Int32Array, steps: number, outputSize: number,
 *   perStep: boolean, classes: boolean }} options
 * @returns {{ data: Float32Array, scalar: boolean }} scalar: O is 1 and every target was a number
 */
export function toTargets(targets, { name = 'targets', batch: B, lengths, steps: T, outputSize: O, perStep, classes }) {
  if (isFastForm(targets)) {
    const { data, shape } = /** @type {any} */ (targets);
    const dims = checkShape(shape, `${name}.shape`, perStep ? 3 : 2, perStep ? '[B, T, O]' : '[B, O]');
    affirm(dims[0] === B, 'ERR_SHAPE', () => `${name}.shape[0] is ${dims[0]} but inputs has ${B} sequences`);
    affirm(!perStep || dims[1] === T, 'ERR_SHAPE', () => `${name}.shape[1] is ${dims[1]} but inputs has ${T} steps`);
    affirm(dims.at(-1) === O, 'ERR_SHAPE', () => `${name}.shape[${dims.length - 1}] is ${dims.at(-1)} but outputSize is ${O}`);
    const lens = perStep ? lengths : new Int32Array(B).fill(1);
    return { data: copyValid(data, B, perStep ? T : 1, O, lens, name, perStep, classes), scalar: false };
  }
  affirm(isList(targets), 'ERR_TYPE', () =>
    `${name} must be an array with one target per sequence or { data, shape }, got ${show(targets)}`);
  affirm(targets.length === B, 'ERR_SHAPE', () =>
    `${name} has ${plural(targets.length, 'entry', 'entries')} but inputs has ${plural(B, 'sequence')}`);
  const data = new Float32Array(perStep ? B * T * O : B * O);
  let scalar = O === 1;
  for (let b = 0; b < B; b++) {
    if (!perStep) {
      scalar = putTarget(targets[b], `${name}[${b}]`, data, b * O, O, classes) && scalar;
      continue;
    }
    const seq = targets[b];
    affirm(isList(seq), 'ERR_TYPE', () =>
      `${name}[${b}] must be an array of ${plural(lengths[b], 'per-step target')}, got ${show(seq)}`);
    affirm(seq.length === lengths[b], 'ERR_SHAPE', () =>
      `${name}[${b}] has ${plural(seq.length, 'step')} but inputs[${b}] has ${lengths[b]}`);
    for (let t = 0; t < seq.length; t++) {
      scalar = putTarget(seq[t], `${name}[${b}][${t}]`, data, (b * T + t) * O, O, classes) && scalar;
    }
  }
  return { data, scalar };
}

/**
 * Turns a flat output buffer back into nested plain arrays: B entries when
 * perStep is false, else B arrays of lengths[b] entries; each entry a number
 * when `scalar`, else an array of O numbers.
 * @param {Float32Array} flat (B, O) or (B, T, O)
 * @param {{ batch: number, steps: number, outputSize: number, lengths?: Int32Array, perStep: boolean, scalar: boolean }} layout
 * @returns {any[]}
 */
export function fromOutputs(flat, { batch: B, steps: T, outputSize: O, lengths, perStep, scalar }) {
  const entry = (o) => (scalar ? flat[o] : Array.from(flat.subarray(o, o + O)));
  const out = new Array(B);
  for (let b = 0; b < B; b++) {
    out[b] = perStep ? Array.from({ length: lengths[b] }, (_, t) => entry((b * T + t) * O)) : entry(b * O);
  }
  return out;
}

/**
 * Cuts a long series into training pairs for forecasting: inputs[k] is
 * series[k*stride .. k*stride+window) and targets[k] the next `horizon` steps.
 * A target is a number when horizon is 1 and the series is scalar, else an
 * array: the horizon values, or for a series of vectors the next horizon
 * vectors flattened step-major (outputSize = horizon * width). Vector steps are
 * shared between overlapping windows, not copied.
 * @param {ArrayLike<number> | ArrayLike<number>[]} series numbers, or equal-length arrays of numbers
 * @param {{ window: number, horizon?: number, stride?: number }} options
 * @returns {{ inputs: any[], targets: any[] }}
 */
export function windows(series, options) {
  const { window, horizon = 1, stride = 1 } = checkOptions(options, ['window', 'horizon', 'stride'], 'windows');
  checkInt(window, 'windows: window', 1);
  checkInt(horizon, 'windows: horizon', 1);
  checkInt(stride, 'windows: stride', 1);
  affirm(isList(series), 'ERR_TYPE', () => `series must be an array of numbers or of equal-length arrays, got ${show(series)}`);
  const N = series.length, need = window + horizon;
  affirm(N >= need, 'ERR_SHAPE', () =>
    `series has ${plural(N, 'step')} but window ${window} + horizon ${horizon} needs at least ${need}; ` +
    'shorten the window or give a longer series');
  const scalar = !isList(series[0]);
  const width = scalar ? 1 : series[0].length;
  affirm(width > 0, 'ERR_SHAPE', 'series[0] is an empty array; a step needs at least one value');
  const steps = new Array(N);
  for (let t = 0; t < N; t++) {
    const step = series[t];
    if (scalar) {
      if (!Number.isFinite(step)) throw badNumber(step, `series[${t}]`);
      steps[t] = step;
      continue;
    }
    affirm(isList(step) && step.length === width, 'ERR_SHAPE', () =>
      `series[${t}] is ${show(step)} but series[0] is an array of ${width}; every step needs ${plural(width, 'value')}`);
    for (let i = 0; i < width; i++) if (!Number.isFinite(step[i])) throw badNumber(step[i], `series[${t}][${i}]`);
    steps[t] = Array.from(step);
  }
  const count = Math.floor((N - need) / stride) + 1;
  const inputs = new Array(count), targets = new Array(count);
  for (let k = 0; k < count; k++) {
    const s = k * stride, next = steps.slice(s + window, s + need);
    inputs[k] = steps.slice(s, s + window);
    targets[k] = scalar ? (horizon === 1 ? next[0] : next) : next.flat();
  }
  return { inputs, targets };
}

/** Calls fn(x, j, k) for every valid element k (feature j) of a (B, steps, width) buffer. */
function forValid(data, width, steps, lengths, fn) {
  const row = steps * width, B = data.length / row;
  affirm(Number.isInteger(B), 'ERR_SHAPE', () => `data has ${data.length} values, not a multiple of steps ${steps} x width ${width}`);
  for (let b = 0; b < B; b++) {
    const end = b * row + (lengths ? lengths[b] : steps) * width;
    for (let k = b * row, j = 0; k < end; k++, j = j + 1 === width ? 0 : j + 1) fn(data[k], j, k);
  }
}

/**
 * Per-feature statistics over the valid entries of (B, steps, width) data
 * (t < lengths[b]; for (B, width) data pass steps 1 and no lengths). zscore:
 * shift = mean, scale = population std; minmax: shift = min, scale = max - min.
 * Computed in double by two passes, then rounded to float32 so a saved model
 * reproduces them exactly; a zero or non-finite scale becomes 1.
 * @param {Float32Array} data
 * @param {{ width: number, lengths?: Int32Array, steps?: number, mode?: 'zscore' | 'minmax' }} layout
 * @returns {{ mode: string, shift: number[], scale: number[] }}
 */
export function fitScaler(data, { width, lengths, steps = 1, mode = 'zscore' }) {
  checkOneOf(mode, 'normalize', ['zscore', 'minmax']);
  const sum = new Float64Array(width);
  const min = new Float64Array(width).fill(Infinity), max = new Float64Array(width).fill(-Infinity);
  let n = 0;
  forValid(data, width, steps, lengths, (x, j) => {
    sum[j] += x;
    if (x < min[j]) min[j] = x;
    if (x > max[j]) max[j] = x;
    if (j === 0) n++;
  });
  const mean = sum.map((s) => s / n);
  // Corrected two-pass variance: sum((x - mean)^2) - (sum(x - mean))^2 / n.
  const dev = new Float64Array(width), dev2 = new Float64Array(width);
  if (mode === 'zscore') {
    forValid(data, width, steps, lengths, (x, j) => {
      const d = x - mean[j];
      dev[j] += d;
      dev2[j] += d * d;
    });
  }
  const shift = [], scale = [];
  for (let j = 0; j < width; j++) {
    const s = Math.fround(mode === 'zscore' ? Math.sqrt(Math.max(0, dev2[j] - (dev[j] * dev[j]) / n) / n) : max[j] - min[j]);
    shift.push(Math.fround(mode === 'zscore' ? mean[j] : min[j]));
    scale.push(s > 0 && Number.isFinite(s) ? s : 1);
  }
  return { mode, shift, scale };
}

function checkScaler(data, { shift, scale }) {
  affirm(shift.length === scale.length && shift.length > 0 && data.length % shift.length === 0, 'ERR_SHAPE', () =>
    `scaler has ${shift.length} shifts and ${scale.length} scales for data of ${data.length} values`);
  return shift.length;
}

/**
 * Scales a (..., width) buffer in place: x = (x - shift) / scale per feature.
 * With `layout` { steps, lengths }, only valid steps change, so padding stays 0.
 * @param {Float32Array} data
 * @param {{ shift: number[], scale: number[] }} scaler
 * @param {{ steps?: number, lengths?: Int32Array }} [layout]
 * @returns {Float32Array} data
 */
export function applyScaler(data, scaler, { steps = 1, lengths } = {}) {
  const { shift, scale } = scaler;
  forValid(data, checkScaler(data, scaler), steps, lengths, (x, j, k) => { data[k] = (x - shift[j]) / scale[j]; });
  return data;
}

/**
 * Undoes applyScaler in place: x = x * scale + shift per feature.
 * @param {Float32Array} data
 * @param {{ shift: number[], scale: number[] }} scaler
 * @param {{ steps?: number, lengths?: Int32Array }} [layout]
 * @returns {Float32Array} data
 */
export function invertScaler(data, scaler, { steps = 1, lengths } = {}) {
  const { shift, scale } = scaler;
  forValid(data, checkScaler(data, scaler), steps, lengths, (x, j, k) => { data[k] = x * scale[j] + shift[j]; });
  return data;
}

/** mulberry32 (Tommy Ettinger): 32-bit state, integer ops only, a uint32 per call. */
function mulberry32(seed) {
  let a = seed | 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** Seeded uniform numbers in [0, 1), the same in every JS engine (integer ops, then one exact division). */
export function seededUniform(seed) {
  const next = mulberry32(seed);
  return () => next() / 4294967296;
}

/**
 * A seeded permutation of 0..n-1 (Fisher-Yates driven by mulberry32), the same
 * in every JS engine.
 * @param {number} n
 * @param {number} seed integer from 0 to 2^32 - 1
 * @returns {Int32Array}
 */
export function shuffledIndices(n, seed) {
  checkInt(n, 'n', 0, 2 ** 31 - 1);
  checkInt(seed, 'seed', 0, 2 ** 32 - 1);
  const next = mulberry32(seed), p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    // Modulo of exact integers: bias below n / 2^32, and no float rounding to reason about.
    const j = next() % (i + 1);
    const tmp = p[i];
    p[i] = p[j];
    p[j] = tmp;
  }
  return p;
}

/**
 * Splits 0..n-1 into training and validation indices; validation is the last
 * round(n * validationSplit) items (as Keras does: before any shuffling), and
 * at least one item is left to train on. Validation may be empty for small n.
 * @param {number} n
 * @param {number} validationSplit from 0 up to (not including) 1
 * @returns {{ train: Int32Array, validation: Int32Array }}
 */
export function splitIndices(n, validationSplit) {
  checkInt(n, 'n', 1, 2 ** 31 - 1);
  checkNumber(validationSplit, 'validationSplit', 0, 1);
  affirm(validationSplit < 1, 'ERR_RANGE', 'validationSplit must be below 1; at least one sequence must be left to train on');
  const nTrain = n - Math.min(Math.round(n * validationSplit), n - 1);
  const range = (from, to) => Int32Array.from({ length: to - from }, (_, k) => from + k);
  return { train: range(0, nTrain), validation: range(nTrain, n) };
}

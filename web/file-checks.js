// What a model file or a safetensors file carries beyond its checksum, checked
// as strictly as Model.create checks the same option: the scalers, the
// optimizer state, the generator state, the counters, the state-dict names,
// the annotations and TextModel's vocabulary. Also the float32 range of values
// bound for the engine, and the finiteness of what the engine gives back.
// format.js checks the bytes; model.js and text-model.js call these.

import { LstmError, affirm } from './errors.js';
import { FLOAT32_MAX, checkFloat32s, float32Error, isFloat32, show } from './validate.js';

export { FLOAT32_MAX, checkFloat32s, isFloat32 };
import { isPlainObject as isObject } from './format.js';

const REGRESSION = ['mse', 'mae', 'huber'];
const SCALER_MODES = ['zscore', 'minmax'];
const EXTRA_FIELDS = ['scalers', 'names', 'optimizer', 'rng', 'epochsTrained', 'window', 'annotations'];
const OPTIMIZER_KINDS = 4; // c/lw.h enum lw_optim: sgd, adam, adamw, rmsprop
const MAX_NAME = 1024; // a state-dict prefix longer than this is not a module path
const BOUNDARY = '\u0000'; // TextModel's start/end token, index 0; never in a vocabulary

const fail = (where, message) => { throw new LstmError('ERR_FORMAT', `${where}: ${message}`); };

/**
 * One input value of stream.step, and the same value after the input scaler:
 * the checks predict() makes (data.js), returning the value to store.
 * @param {*} x as given
 * @param {number} scaled x after the input scaler (x itself without one)
 * @param {string} name 'input' or 'input[i]'
 * @returns {number} scaled
 */
export function checkStepInput(x, scaled, name) {
  if (!isFloat32(x)) throw float32Error(x, `stream.step: ${name}`);
  if (isFloat32(scaled)) return scaled;
  throw new LstmError('ERR_RANGE', `stream.step: ${name} is ${x}, ${scaled} once scaled by the model's input scaler: beyond float32 range`);
}

/**
 * Refuses an output that is not finite. The rule: the engine computes in
 * float32, so finite weights and inputs can still overflow (a weight of 1e38
 * times a few hidden units near 1 is Infinity; Infinity minus Infinity is
 * NaN). No bound on the weights at load time can tell which ones will: a huge
 * weight on an input that is always 0 is harmless, modest ones can overflow
 * through the recurrence with the output activation switched off. So the
 * check is where it is exact: on what predict(), forward() and stream.step()
 * return, one pass over the outputs, cheap beside the forward pass. `explain`
 * runs only on failure and names the likely cause.
 * @param {ArrayLike<number>} out
 * @param {string} where
 * @param {() => string} [explain] e.g. the largest weight, from largestParameter
 * @param {string} [name] how the message names the array
 */
export function checkFiniteOutputs(out, where, explain, name = 'output') {
  for (let k = 0; k < out.length; k++) {
    if (Number.isFinite(out[k])) continue;
    const cause = explain ? explain() : '';
    throw new LstmError('ERR_NOT_FINITE',
      `${where}: ${name}[${k}] is ${out[k]}: the float32 computation overflowed${cause ? ` (${cause})` : ''}; ` +
      'check the weights (parameters()) and the scale of the inputs');
  }
}

/**
 * Names the parameter of largest magnitude, for checkFiniteOutputs' message.
 * @param {Record<string, ArrayLike<number>>} params by name
 * @returns {string}
 */
export function largestParameter(params) {
  let best = null, at = 0, size = -1;
  for (const [name, data] of Object.entries(params)) {
    for (let i = 0; i < data.length; i++) if (Math.abs(data[i]) > size) best = name, at = i, size = Math.abs(data[i]);
  }
  return best === null ? '' : `the largest weight is ${best}[${at}] = ${params[best][at]}`;
}

/**
 * The scalers a file carries, checked against the model's configuration:
 * both or neither (train() fits them together), a known mode equal to the
 * configuration's `normalize`, a regression loss, one finite float32 shift
 * and one positive finite float32 scale per input (inputSize) or output
 * (outputSize) feature.
 * @param {*} s the file's { input, target }, or null/undefined
 * @param {{ inputSize: number, outputSize: number, loss: string, normalize: string|false }} config resolved
 * @param {string} where e.g. 'model bytes'; messages read '<where>: bad scaler: scalers.input...'
 * @returns {{ input: object|null, target: object|null }} fresh copies
 */
export function checkScalers(s, config, where) {
  if (s === null || s === undefined) return { input: null, target: null };
  where = `${where}: bad scaler: scalers`;
  if (!isObject(s)) fail(where, `expected { input, target }, got ${show(s)}`);
  for (const key of Object.keys(s)) if (key !== 'input' && key !== 'target') fail(where, `unknown field '${key}' (expected input and target)`);
  const none = (v) => v === null || v === undefined;
  if (none(s.input) && none(s.target)) return { input: null, target: null };
  // a classification model scales its inputs only: its targets are classes
  if (!REGRESSION.includes(config.loss)) {
    if (!none(s.target)) fail(where, `a ${config.loss} model takes no scaling of its targets (classes; only mse, mae and huber scale targets)`);
    return { input: checkScaler(s.input, config.inputSize, config.normalize, `${where}.input`, 'inputSize'), target: null };
  }
  if (none(s.input) || none(s.target)) fail(where, `has ${none(s.input) ? 'a target scaler but no input' : 'an input scaler but no target'} scaler; train() fits both`);
  return {
    input: checkScaler(s.input, config.inputSize, config.normalize, `${where}.input`, 'inputSize'),
    target: checkScaler(s.target, config.outputSize, config.normalize, `${where}.target`, 'outputSize'),
  };
}

function checkScaler(s, width, normalize, where, widthName) {
  if (!isObject(s)) fail(where, `expected { mode, shift, scale }, got ${show(s)}`);
  for (const key of Object.keys(s)) if (!['mode', 'shift', 'scale'].includes(key)) fail(where, `unknown field '${key}'`);
  if (!SCALER_MODES.includes(s.mode)) fail(where, `mode ${show(s.mode)} is not one of 'zscore', 'minmax'`);
  if (s.mode !== normalize) fail(where, `mode '${s.mode}' disagrees with the configuration's normalize ${show(normalize)}`);
  for (const key of ['shift', 'scale']) {
    const v = s[key];
    if (!Array.isArray(v)) fail(where, `${key} is ${show(v)}, not an array of numbers`);
    if (v.length !== width) fail(where, `${key} has ${v.length} values; the model's ${widthName} is ${width}`);
    v.forEach((x, j) => {
      if (typeof x !== 'number') fail(where, `${key}[${j}] is ${show(x)}, not a number`);
      if (!isFloat32(x)) fail(where, `${key}[${j}] is ${x}, not a finite float32`);
      if (key === 'scale' && !(Math.fround(x) > 0)) fail(where, `scale[${j}] is ${x}; a scale must be above 0 (fitted scales are)`);
    });
  }
  return { mode: s.mode, shift: s.shift.slice(), scale: s.scale.slice() };
}

/**
 * The tensor directory of a model file: exactly 'params' and 'optimizer', each once.
 * @param {{ name: string }[]} tensors
 */
export function checkTensorNames(tensors) {
  const names = tensors.map((t) => t.name);
  const unknown = names.filter((n) => n !== 'params' && n !== 'optimizer');
  if (unknown.length) fail('model bytes', `unknown tensor${unknown.length > 1 ? 's' : ''} ${unknown.map((n) => `'${n}'`).join(', ')} (a model file holds 'params' and 'optimizer')`);
}

/**
 * Refuses, before any memory is allocated, a configuration that needs more
 * parameters than the file's 'params' tensor holds. The bound is a floor
 * computed in doubles (so it cannot wrap at 32 bits as wasm's size_t does):
 * every cell has at least one gate, i.e. weight_ih (H, in), weight_hh (H, H)
 * and two biases (H) per layer and direction, then the head (O, D·H) and (O).
 * The exact count is the engine's; this only stops a small file from asking
 * for gigabytes (or a wrapped count) before the exact check can run.
 * @param {{ inputSize: number, hiddenSize: number[], bidirectional: boolean, outputSize: number }} config resolved
 * @param {{ name: string, data: Float32Array }[]} tensors
 */
export function checkParameterBudget(config, tensors) {
  const D = config.bidirectional ? 2 : 1;
  let floor = 0, fan = config.inputSize;
  for (const H of config.hiddenSize) {
    floor += D * H * (fan + H + 2);
    fan = D * H;
  }
  floor += config.outputSize * (fan + 1);
  const held = tensors.find((t) => t.name === 'params')?.data.length ?? 0;
  if (floor > held) fail('model bytes', `the configuration needs at least ${floor} parameters; the file's 'params' holds ${held}`);
}

/**
 * The configuration fields the resolver cannot see: save() writes hiddenSize
 * as one size per layer and `layers` beside it; the two must agree.
 * @param {object} config the file's configuration
 */
export function checkFileConfig(config) {
  const { hiddenSize: h, layers } = config;
  if (!Array.isArray(h)) fail('model bytes: bad configuration', `hiddenSize is ${show(h)}, not an array of sizes (one per layer)`);
  if (layers !== undefined && layers !== h.length) fail('model bytes: bad configuration', `layers is ${show(layers)} but hiddenSize has ${h.length} sizes`);
}

/**
 * The `extra` section of a model file, every field checked and defaulted
 * when absent: scalers (checkScalers), optimizer { kind 0-3, steps a safe
 * integer >= 0 }, rng [lo, hi] uint32 halves, epochsTrained and window
 * integers >= 0, names { prefix, head } well-formed strings, annotations
 * null or { textModel } (checkTextModel). Unknown fields are refused.
 * @param {*} extra
 * @param {object} config the resolved configuration
 * @returns {{ scalers, names, optimizer: { kind: number, steps: number }, rng: number[]|null,
 *   epochsTrained: number, window: number, annotations: object|null }}
 */
export function checkExtra(extra, config) {
  const where = 'model bytes';
  const x = extra ?? {};
  if (!isObject(x)) fail(where, `extra is ${show(x)}, not a JSON object`);
  for (const key of Object.keys(x)) if (!EXTRA_FIELDS.includes(key)) fail(where, `unknown field '${key}' in extra (a model file has ${EXTRA_FIELDS.join(', ')})`);
  const has = (key) => x[key] !== undefined && x[key] !== null;
  const count = (v, name, max = Number.MAX_SAFE_INTEGER) => {
    if (!Number.isSafeInteger(v) || v < 0 || v > max) fail(where, `${name} is ${show(v)}, not an integer from 0 to ${max}`);
    return v;
  };
  let optimizer = { kind: 1, steps: 0 };
  if (has('optimizer')) {
    const o = x.optimizer;
    if (!isObject(o)) fail(where, `bad optimizer state: optimizer is ${show(o)}, not { kind, steps }`);
    for (const key of Object.keys(o)) if (key !== 'kind' && key !== 'steps' && key !== 'saved') fail(where, `bad optimizer state: unknown field '${key}' in optimizer`);
    optimizer = { kind: count(o.kind ?? 1, 'bad optimizer state: optimizer.kind', OPTIMIZER_KINDS - 1),
      steps: count(o.steps ?? 0, 'bad optimizer state: optimizer.steps') };
    // save({ optimizer: false }): an inference file, without the moments (and so with no steps taken)
    if (o.saved !== undefined) {
      if (o.saved !== false) fail(where, `bad optimizer state: optimizer.saved is ${show(o.saved)}; only false (an inference file) is written`);
      if (optimizer.steps !== 0) fail(where, `bad optimizer state: an inference file (optimizer.saved false) has steps ${optimizer.steps}, not 0`);
      optimizer.saved = false;
    }
  }
  let rng = null;
  if (has('rng')) {
    if (!Array.isArray(x.rng) || x.rng.length !== 2) fail(where, `rng is ${show(x.rng)}, not [lo, hi]`);
    rng = x.rng.map((v, k) => count(v, `rng[${k}]`, 0xffffffff));
  }
  let names = { prefix: '', head: 'head.' };
  if (has('names')) {
    const n = x.names;
    if (!isObject(n)) fail(where, `names is ${show(n)}, not { prefix, head }`);
    for (const key of Object.keys(n)) if (key !== 'prefix' && key !== 'head') fail(where, `unknown field '${key}' in names`);
    for (const key of ['prefix', 'head']) {
      const v = n[key];
      if (typeof v !== 'string' || !v.isWellFormed() || v.length > MAX_NAME || v.includes(BOUNDARY)) {
        fail(where, `names.${key} is ${show(v)}, not a state-dict prefix (a well-formed string of at most ${MAX_NAME} characters)`);
      }
    }
    names = { prefix: n.prefix, head: n.head };
  }
  let annotations = null;
  if (has('annotations')) {
    const a = x.annotations;
    if (!isObject(a)) fail(where, `annotations is ${show(a)}, not an object`);
    for (const key of Object.keys(a)) if (key !== 'textModel') fail(where, `unknown annotation '${key}'`);
    annotations = a.textModel === undefined ? {} : { textModel: checkTextModel(a.textModel, config) };
  }
  return {
    scalers: checkScalers(x.scalers, config, where),
    names,
    optimizer,
    rng,
    epochsTrained: has('epochsTrained') ? count(x.epochsTrained, 'epochsTrained') : 0,
    window: has('window') ? count(x.window, 'window', 0x7fffffff) : 0,
    annotations,
  };
}

/**
 * TextModel's annotation: { vocabulary, mode }, where the vocabulary is an
 * array of distinct non-empty strings without the boundary '\u0000', and the
 * model is a character model over it: softmax-cross-entropy at every step
 * (returnSequences), one direction (generate() streams), and
 * inputSize = outputSize = vocabulary.length + 1 (index 0 is the boundary).
 * @param {*} meta
 * @param {object} config the resolved configuration
 * @returns {{ vocabulary: string[], mode: 'text'|'strings' }}
 */
export function checkTextModel(meta, config) {
  const where = 'model bytes: textModel';
  if (!isObject(meta)) fail(where, `expected { vocabulary, mode }, got ${show(meta)}`);
  for (const key of Object.keys(meta)) if (key !== 'vocabulary' && key !== 'mode') fail(where, `unknown field '${key}'`);
  const { vocabulary: v, mode } = meta;
  if (mode !== 'text' && mode !== 'strings') fail(where, `mode is ${show(mode)}, not 'text' or 'strings'`);
  if (!Array.isArray(v) || !v.length) fail(where, `vocabulary is ${show(v)}, not a non-empty array of strings`);
  const seen = new Set();
  v.forEach((c, k) => {
    if (typeof c !== 'string' || !c.length) fail(where, `vocabulary[${k}] is ${show(c)}, not a non-empty string`);
    if (c.includes(BOUNDARY)) fail(where, `vocabulary[${k}] holds '\\u0000', the boundary token`);
    if (seen.has(c)) fail(where, `vocabulary[${k}] ${show(c)} appears twice`);
    seen.add(c);
  });
  const V = v.length + 1;
  if (config.loss !== 'softmax-cross-entropy') fail(where, `a character model has loss 'softmax-cross-entropy', not '${config.loss}'`);
  if (!config.returnSequences) fail(where, 'a character model predicts every step (returnSequences: true)');
  if (config.bidirectional) fail(where, 'a character model reads one direction (bidirectional: false)');
  if (config.inputSize !== V || config.outputSize !== V) {
    fail(where, `${v.length} characters need inputSize and outputSize ${V} (one more for the boundary), got ${config.inputSize} and ${config.outputSize}`);
  }
  return { vocabulary: v.slice(), mode };
}

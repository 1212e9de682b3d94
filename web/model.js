// class Model: the public API of SPEC section 4 over the engine. Each method
// validates its input completely, then calls the engine (engine.js -> c/api.c)
// with buffers it allocates and frees itself; a failed call changes nothing.
// The pieces live beside it: core.js (the state and shared engine calls),
// training.js over trainer.js, stream.js, forecast.js, metrics.js, persist.js,
// naming.js (PyTorch), config.js and cells.js (options and cells).
import { engineFrom } from './engine.js';
import { LstmError, affirm } from './errors.js';
import { fromOutputs, toSequences } from './data.js';
import { checkBool, checkOptions, checkVector } from './validate.js';
import { decodeModel } from './format.js';
import { CELLS } from './cells.js';
import { REGRESSION, checkDropoutApplies, resolveConfig } from './config.js';
import { DISPOSED, FLAG_RAW, FLAG_TIME_MAJOR, ModelCore, STREAM_DISPOSED } from './core.js';
import { train } from './training.js';
import { Stream } from './stream.js';
import { forecast } from './forecast.js';
import { metrics } from './metrics.js';
import { readSource, restore, save } from './persist.js';
import { readPyTorch, writeSafetensors } from './naming.js';
import { importONNX, writeONNX } from './interop/onnx.js';
import { importKeras, writeKeras } from './interop/keras.js';
import { checkFileConfig, checkFiniteOutputs, checkParameterBudget, largestParameter } from './file-checks.js';

/** @internal shared with worker.js, so the worker entry says and decides the same. */
export { REGRESSION, DISPOSED, STREAM_DISPOSED };

const CONSTRUCT = Symbol('construct');
const CORES = new WeakMap();

/** @internal the ModelCore of a Model, for wrappers in this package (text-model.js, a Seq2Seq to come). */
export function coreOf(model) {
  return CORES.get(model);
}

/** The engine for { simd, locateWasm, engine }, each checked by engine.js (issue 11: simd: 'no' loaded the SIMD build). */
function engineOptions(o = {}) {
  return engineFrom(o); // o.engine (e.g. the f64 test build) or a loaded one
}

/** Checks a time-major { data, shape: [T, B, I] } and gives its batch-first view (for the checks and their messages). */
function batchFirstView(x, inputSize) {
  affirm(x && x.shape && x.data && x.shape.length === 3, 'ERR_TYPE', 'forward: timeMajor input must be { data, shape: [T, B, I], lengths? }');
  const [T, B, I] = x.shape;
  // the shape first: a transpose over [Infinity, 0, 1] would never end
  Array.from(x.shape).forEach((n, k) => affirm(Number.isSafeInteger(n) && n >= 1, 'ERR_SHAPE',
    () => `x.shape[${k}] is ${n}; every size must be an integer >= 1 (timeMajor: [T, B, I])`));
  affirm(I === inputSize, 'ERR_SHAPE', `x.shape[2] is ${I} but inputSize is ${inputSize}`);
  affirm(x.data.length === T * B * I, 'ERR_SHAPE', () => `x.data has ${x.data.length} values but shape [${T}, ${B}, ${I}] needs ${T * B * I}`);
  const bf = new Float32Array(x.data.length);
  for (let t = 0; t < T; t++) for (let b = 0; b < B; b++) for (let i = 0; i < I; i++) bf[(b * T + t) * I + i] = x.data[(t * B + b) * I + i];
  return { data: bf, shape: [B, T, I], lengths: x.lengths };
}

export class Model {
  #core;

  /** Use Model.create, Model.load or Model.fromPyTorch. */
  constructor(engine, config, token) {
    affirm(token === CONSTRUCT, 'ERR_TYPE', 'use Model.create(options), not new Model()');
    this.#core = new ModelCore(engine, config);
    CORES.set(this, this.#core);
  }

  /**
   * Creates a model with freshly initialised weights (seeded).
   * @param {object} options see README "Model.create"
   * @returns {Promise<Model>}
   */
  static async create(options) {
    const config = resolveConfig(options);
    checkDropoutApplies(config, 'Model.create');
    return new Model(await engineOptions(options), config, CONSTRUCT);
  }

  /** The configuration (a copy). */
  get config() {
    this.#core.live();
    return structuredClone(this.#core.config);
  }

  /** The engine this model runs on: { simd, version, variant }. */
  get engine() {
    const e = this.#core.engine;
    return { simd: e.simd, version: e.version, variant: e.variant };
  }

  /**
   * Trains on (inputs, targets); resolves to the history when done or stopped.
   * @returns {Promise<{ loss: number[], valLoss: number[], epochs: number, stopped: boolean }>}
   */
  train(inputs, targets, options = {}) {
    return train(this.#core, { inputs, targets }, options);
  }

  /**
   * Set to true (in a callback, or anywhere while train() runs) to stop
   * training after the running batch, as TF.js's model.stopTraining; each
   * train() starts with it false.
   */
  get stopTraining() {
    return this.#core.stopTraining;
  }

  set stopTraining(value) {
    this.#core.stopTraining = Boolean(value);
  }

  /** Same as train(), for Keras and TF.js habits. */
  fit(inputs, targets, options) {
    return this.train(inputs, targets, options);
  }

  /**
   * Outputs for a batch of sequences, in the inputs' own conventions and, for
   * regression, in the targets' original units. Classification losses give
   * probabilities; `{ logits: true }` gives the raw outputs.
   */
  predict(inputs, options = {}) {
    const core = this.#core, c = core.config;
    core.live();
    const o = checkOptions(options, ['logits'], 'predict');
    const logits = checkBool(o.logits ?? false, 'logits');
    affirm(c.outputSize > 0, 'ERR_OPTION', 'this model has no output layer (outputSize 0); use forward()');
    const seq = core.inputs(inputs);
    const { out } = core.run(seq, null, logits ? FLAG_RAW : 0);
    core.scaling.invertOutputs(out, seq);
    core.undoDifference(out, seq);
    checkFiniteOutputs(out, 'predict', () => largestParameter(this.parameters()));
    const [B, T] = seq.shape;
    const typed = inputs && !Array.isArray(inputs) && 'data' in inputs;
    if (typed) return { data: out, shape: c.returnSequences ? [B, T, c.outputSize] : [B, c.outputSize] };
    return fromOutputs(out, { batch: B, steps: T, outputSize: c.outputSize, lengths: seq.lengths, perStep: c.returnSequences, scalar: c.outputSize === 1 });
  }

  /**
   * Loss (on the training scale) and, for classification, accuracy; for
   * regression also mse and mae in the targets' own units.
   */
  evaluate(inputs, targets) {
    const core = this.#core;
    core.live();
    const seq = core.inputs(inputs);
    const tgt = core.targets(targets, seq);
    const raw = tgt.data.slice();
    const learned = core.learnedTargets(tgt.data, seq); // tgt.data itself unless the model differences
    core.scaling.scaleTargets(learned, seq);
    const { out, loss } = core.run(seq, learned);
    core.scaling.invertOutputs(out, seq);
    core.undoDifference(out, seq);
    checkFiniteOutputs(out, 'evaluate', () => largestParameter(this.parameters()));
    return { loss, ...metrics(out, raw, seq, core.config, core.regression) };
  }

  /**
   * The loss on (inputs, targets) and its gradient for every parameter, by
   * PyTorch name, without changing the model (no dropout): for custom
   * training loops and for checking against other frameworks. Regression
   * data is scaled as in train() once the model has been trained.
   * @returns {{ loss: number, grads: Record<string, Float32Array> }}
   */
  gradients(inputs, targets) {
    const core = this.#core, e = core.engine, ex = core.exports();
    const seq = core.inputs(inputs);
    const learned = core.learnedTargets(core.targets(targets, seq).data, seq);
    core.scaling.scaleTargets(learned, seq);
    const [B, T] = seq.shape;
    const loss = e.scoped((s) => {
      const out = s.reals(1);
      e.check(ex.lw_model_gradients(core.ptr, s.reals(seq.data), s.reals(learned), s.int32(seq.lengths), B, T, out), 'gradients');
      return e.readReals(out, 1)[0];
    });
    return { loss, grads: core.read((x) => x.lw_model_grads(core.ptr)) };
  }

  /**
   * Stateful step-by-step inference: `const s = model.stream(); s.step(x)`
   * feeds one step (a number, or an array of inputSize numbers) and returns
   * the output after it (a number when outputSize is 1, else a
   * Float32Array), in the same units as predict(). `s.reset()` zeroes the
   * state; `s.dispose()` frees it (model.dispose() frees all streams).
   * Not for bidirectional models.
   */
  stream(options = {}) {
    this.#core.live();
    affirm(!this.#core.config.difference, 'ERR_OPTION', 'stream: a model with difference needs the steps before each one; use predict() or forecast()');
    const o = checkOptions(options, ['logits'], 'stream');
    return new Stream(this.#core, checkBool(o.logits ?? false, 'logits'));
  }

  /**
   * What happens inside for one sequence: per layer and direction, the gate
   * activations i, f, g, o, the cell state c and the hidden state h at every
   * step, each as T rows of H numbers.
   * @returns {{ layer: number, direction: 'forward'|'reverse', i: number[][], f: number[][], g: number[][], o: number[][], c: number[][], h: number[][] }[]}
   */
  trace(sequence) {
    const core = this.#core, e = core.engine, ex = core.exports(), c = core.config;
    affirm(Array.isArray(sequence) || (sequence && sequence.data), 'ERR_TYPE', 'trace: expected one sequence (an array of steps)');
    const seq = core.inputs(Array.isArray(sequence) ? [sequence] : sequence, 'sequence');
    affirm(seq.shape[0] === 1, 'ERR_SHAPE', `trace: expected one sequence, got ${seq.shape[0]}`);
    const T = seq.shape[1], D = c.bidirectional ? 2 : 1;
    const names = CELLS[c.cell].trace;
    const rowsPer = names.length; // G/H gate rows, then c and h
    const size = c.hiddenSize.reduce((n, H) => n + D * T * rowsPer * H, 0);
    const flat = e.scoped((s) => {
      const out = s.reals(size);
      e.check(ex.lw_model_trace(core.ptr, s.reals(seq.data), T, out), 'trace');
      return e.readReals(out, size);
    });
    const result = [];
    let at = 0;
    for (let layer = 0; layer < c.layers; layer++) {
      const H = c.hiddenSize[layer];
      for (let d = 0; d < D; d++) {
        const entry = { layer, direction: d ? 'reverse' : 'forward' };
        for (const k of names) if (k) entry[k] = [];
        for (let t = 0; t < T; t++) {
          names.forEach((k, r) => { if (k) entry[k].push(Array.from(flat.subarray(at + r * H, at + (r + 1) * H))); });
          at += rowsPer * H;
        }
        result.push(entry);
      }
    }
    return result;
  }

  /**
   * Continues a series by `steps` values, feeding the model's own
   * predictions back, in the series' own units. A many-to-one model sees the
   * last window as long as its training sequences; a many-to-many model
   * reads the whole series step by step. Each output must be one step of
   * the series (outputSize = inputSize), or several (outputSize = k·inputSize).
   * @returns {(number|number[])[]}
   */
  forecast(series, steps) {
    const core = this.#core;
    core.live();
    return forecast(this, series, steps, { config: core.config, regression: core.regression, window: core.window });
  }

  /**
   * The parameters by PyTorch name (weight_ih_l0, …, head.weight, head.bias),
   * as copies: changing them does not change the model (use setParameters).
   * @returns {Record<string, Float32Array>}
   */
  parameters() {
    return this.#core.read((ex) => ex.lw_model_params(this.#core.ptr));
  }

  /** The number of parameters (every weight and bias; all are trained). */
  countParams() {
    return this.#core.tensors().reduce((n, t) => n + t.shape.reduce((a, b) => a * b, 1), 0);
  }

  /**
   * The layers, their output shapes and parameter counts, laid out as TF.js's
   * model.summary() prints them (null: the batch, and the steps where they
   * vary). Returns the text; `print` (TF.js's printFn) gets it line by line.
   * @param {{ print?: (line: string) => void }} [options]
   * @returns {string}
   */
  summary(options = {}) {
    this.#core.live();
    const o = checkOptions(options, ['print'], 'summary');
    affirm(o.print === undefined || typeof o.print === 'function', 'ERR_TYPE', 'summary: print must be a function, such as console.log');
    const c = this.config, tensors = this.#core.tensors();
    const size = (t) => t.shape.reduce((a, b) => a * b, 1);
    const type = { lstm: 'LSTM', peephole: 'LSTM', cifg: 'LSTM', lstm1997: 'LSTM', gru: 'GRU', rnn: 'SimpleRNN' }[c.cell];
    const D = c.bidirectional ? 2 : 1, rows = [];
    for (let l = 0; l < c.layers; l++) {
      const perStep = l < c.layers - 1 || c.returnSequences;
      const shape = perStep ? `[null,null,${D * c.hiddenSize[l]}]` : `[null,${D * c.hiddenSize[l]}]`;
      const n = tensors.filter((t) => t.layer === l && t.name !== 'head.weight' && t.name !== 'head.bias').reduce((a, t) => a + size(t), 0);
      rows.push([`${type.toLowerCase()}_${l + 1} (${c.bidirectional ? `Bidirectional(${type})` : type})`, shape, n]);
    }
    if (c.outputSize > 0) {
      const n = tensors.filter((t) => t.name === 'head.weight' || t.name === 'head.bias').reduce((a, t) => a + size(t), 0);
      rows.push(['dense_1 (Dense)', c.returnSequences ? `[null,null,${c.outputSize}]` : `[null,${c.outputSize}]`, n]);
    }
    // TF.js's layout: 65 columns, fields at 45% and 85%
    const cols = [29, 55, 65];
    const line = (fields) => fields.map((f, k) => String(f).padEnd(cols[k] - (k ? cols[k - 1] : 0) - 1).slice(0, cols[k] - (k ? cols[k - 1] : 0) - 1) + ' ').join('').trimEnd();
    const total = this.countParams();
    const out = ['_'.repeat(65), line(['Layer (type)', 'Output shape', 'Param #']), '='.repeat(65)];
    rows.forEach((r, k) => out.push(line(r), k === rows.length - 1 ? '='.repeat(65) : '_'.repeat(65)));
    out.push(`Total params: ${total}`, `Trainable params: ${total}`, 'Non-trainable params: 0', '_'.repeat(65));
    if (o.print) for (const l of out) o.print(l);
    return out.join('\n');
  }

  /** Shapes by parameter name. */
  parameterShapes() {
    return Object.fromEntries(this.#core.tensors().map((t) => [t.name, t.shape]));
  }

  /**
   * Replaces some or all parameters, by PyTorch name; checks every name,
   * length and value before changing any.
   */
  setParameters(values) {
    const core = this.#core, e = core.engine, ex = core.exports();
    affirm(values && typeof values === 'object', 'ERR_TYPE', 'setParameters: expected { name: Float32Array }');
    const byName = new Map(core.tensors().map((t) => [t.name, t]));
    const writes = [];
    for (const [name, data] of Object.entries(values)) {
      const t = byName.get(name);
      affirm(t, 'ERR_OPTION', `setParameters: no parameter '${name}'; this model has ${[...byName.keys()].join(', ')}`);
      const n = t.shape.reduce((a, b) => a * b, 1);
      writes.push([t, checkVector(data, n, 'setParameters', name, ` (shape [${t.shape}])`, `'${name}'`)]);
    }
    const ptr = ex.lw_model_params(core.ptr);
    for (const [t, data] of writes) e.writeReals(ptr + t.offset * e.realSize, data);
    ex.lw_model_params_changed(core.ptr);
  }

  /**
   * The recurrent stack alone, as torch.nn.LSTM: x batch-first (B,T,I), or
   * time-major (T,B,I) with { timeMajor: true }; nested arrays or
   * { data, shape, lengths }. No input scaling. Returns flat arrays:
   * output (B,T,D·H) or (T,B,D·H), zero past each length; h, c (L·D,B,H).
   */
  forward(x, options = {}) {
    const core = this.#core, e = core.engine, ex = core.exports(), c = core.config;
    const o = checkOptions(options, ['h0', 'c0', 'timeMajor'], 'forward');
    const timeMajor = checkBool(o.timeMajor ?? false, 'timeMajor');
    let seq;
    if (timeMajor) {
      // check it in the batch-first view, so errors name [b][t][i]; pass it on as it is
      seq = toSequences(batchFirstView(x, c.inputSize), { name: 'x', inputSize: c.inputSize });
      seq.data = Float32Array.from(x.data);
    } else {
      seq = toSequences(x, { name: 'x', inputSize: c.inputSize });
    }
    const [B, T] = seq.shape;
    const D = c.bidirectional ? 2 : 1, F = D * c.hiddenSize[c.layers - 1];
    const nState = c.hiddenSize.reduce((a, h) => a + D * B * h, 0);
    const state = (v, name) => (v === undefined || v === null ? null
      : checkVector(v, nState, 'forward', name, ' (layers·directions, batch, hidden)'));
    const h0 = state(o.h0, 'h0'), c0 = state(o.c0, 'c0');
    return e.scoped((s) => {
      const out = s.reals(B * T * F), hn = s.reals(nState), cn = s.reals(nState);
      const status = ex.lw_model_forward(core.ptr, s.reals(seq.data), s.int32(seq.lengths), B, T,
        timeMajor ? FLAG_TIME_MAJOR : 0, h0 ? s.reals(h0) : 0, c0 ? s.reals(c0) : 0, out, hn, cn);
      e.check(status, 'forward');
      const result = { output: e.readReals(out, B * T * F), h: e.readReals(hn, nState), c: e.readReals(cn, nState) };
      for (const k of ['output', 'h', 'c']) checkFiniteOutputs(result[k], 'forward', () => largestParameter(this.parameters()), k);
      core.lastForward = { B, T, F, nState };
      return result;
    });
  }

  /**
   * Backpropagation through time from gradients of the last forward()'s
   * output (same layout) and final states. Returns { dx, dh0, dc0, grads }
   * with grads by PyTorch name (head gradients are zero).
   */
  backward(dOutput, options = {}) {
    const core = this.#core, e = core.engine, ex = core.exports();
    const o = checkOptions(options, ['dh', 'dc'], 'backward');
    const f = core.lastForward;
    affirm(f, 'ERR_OPTION', 'backward: call forward() first');
    const check = (v, n, name) => (v === undefined || v === null ? null : checkVector(v, n, 'backward', name));
    const dy = check(dOutput, f.B * f.T * f.F, 'dOutput');
    affirm(dy, 'ERR_TYPE', 'backward: dOutput is required');
    const dh = check(o.dh, f.nState, 'dh'), dc = check(o.dc, f.nState, 'dc');
    const nx = f.B * f.T * core.config.inputSize;
    const res = e.scoped((s) => {
      const dx = s.reals(nx), dh0 = s.reals(f.nState), dc0 = s.reals(f.nState);
      e.check(ex.lw_model_backward(core.ptr, s.reals(dy), dh ? s.reals(dh) : 0, dc ? s.reals(dc) : 0, dx, dh0, dc0), 'backward');
      return { dx: e.readReals(dx, nx), dh0: e.readReals(dh0, f.nState), dc0: e.readReals(dc0, f.nState) };
    });
    core.lastForward = null;
    res.grads = core.read((x) => x.lw_model_grads(core.ptr));
    return res;
  }

  /** Frees the model's wasm memory; every later call throws ERR_DISPOSED. */
  dispose() {
    this.#core.free();
  }

  /**
   * Everything needed to resume training exactly, as bytes (format.js);
   * `{ optimizer: false }` leaves out the optimizer's moments: an inference
   * file (a third of the size with Adam) whose training after load starts afresh.
   */
  save(options = {}) {
    this.#core.live();
    const o = checkOptions(options, ['optimizer'], 'save');
    return save(this.#core, { optimizer: checkBool(o.optimizer ?? true, 'optimizer') });
  }

  /**
   * A model from save()'s bytes, checked fully before use: a Uint8Array or
   * ArrayBuffer, a URL to fetch, a Response or a Blob.
   * @param {Uint8Array|ArrayBuffer|string|URL|Response|Blob} source
   * @param {{ simd?: boolean, locateWasm?: Function }} [options]
   */
  static async load(source, options = {}) {
    const o = checkOptions(options, ['simd', 'locateWasm', 'engine'], 'Model.load');
    const { config, tensors, extra } = decodeModel(await readSource(source, 'Model.load'));
    checkFileConfig(config);
    let resolved;
    try {
      const { normalize, hiddenSize, ...rest } = config;
      resolved = resolveConfig({ ...rest, hiddenSize, layers: hiddenSize?.length, normalize });
    } catch (err) {
      throw new LstmError('ERR_FORMAT', `model bytes: bad configuration: ${err.message}`);
    }
    checkParameterBudget(resolved, tensors);
    const model = new Model(await engineOptions(o), resolved, CONSTRUCT);
    try {
      restore(model.#core, tensors, extra);
    } catch (err) {
      model.dispose();
      throw err instanceof LstmError && err.code === 'ERR_FORMAT' ? err : new LstmError('ERR_FORMAT', `model bytes: ${err.message}`);
    }
    return model;
  }

  /**
   * A model from a PyTorch state dict: safetensors bytes, or
   * { name: { shape, data } }. Sizes come from the shapes; options the
   * weights do not determine (loss, returnSequences, normalize, dropout) may
   * be given. A Linear layer after the LSTM becomes the dense head. A file
   * from toSafetensors() may carry what the tensors cannot say (cell variant,
   * switches, loss, scalers: interop/pytorch.js); options must agree with it.
   */
  static async fromPyTorch(stateDict, options = {}) {
    const { config: resolved, engine, params, names, scalers } = readPyTorch(stateDict, options, resolveConfig);
    const model = await Model.#withParameters(resolved, engine, params);
    model.#core.names = names;
    model.#core.scaling.input = scalers.input;
    model.#core.scaling.target = scalers.target;
    return model;
  }

  /** A model of this configuration holding these parameters (disposed again if they do not fit). */
  static async #withParameters(config, engine, params) {
    const model = new Model(await engineOptions(engine), config, CONSTRUCT);
    try {
      model.setParameters(params);
    } catch (err) {
      model.dispose();
      throw err;
    }
    return model;
  }

  /**
   * A model from an ONNX file's bytes: the LSTM, GRU or RNN nodes (one per
   * layer) and a Gemm or MatMul+Add head, as torch.onnx.export writes them
   * (interop/onnx.js). Anything that would compute other numbers is refused
   * by name (ERR_FORMAT). Options: loss (when the graph has no Softmax or
   * Sigmoid to fix it), normalize, dropout, seed and the engine options.
   */
  static async fromONNX(bytes, options = {}) {
    const { config, engine, params, scalers } = importONNX(bytes, options, resolveConfig, checkOptions);
    const model = await Model.#withParameters(config, engine, params);
    model.#core.scaling.input = scalers.input;
    model.#core.scaling.target = scalers.target;
    return model;
  }

  /**
   * The model as ONNX bytes (opset 14) that ONNX Runtime runs with predict()'s
   * outputs: input (batch, steps, inputSize), the scalers, one node per layer,
   * the head and its Softmax/Sigmoid. Cells ONNX cannot express: ERR_FORMAT.
   */
  toONNX() {
    const core = this.#core;
    core.live();
    return writeONNX(core.config, this.parameters(), core.scaling.toJSON());
  }

  /**
   * A model from a TF.js / Keras layers model: model.json (object or text)
   * and its weights (the weight files' bytes concatenated in manifest order,
   * or { path: bytes }). A Sequential of LSTM, GRU (reset_after), SimpleRNN,
   * Bidirectional (concat) layers and a Dense or TimeDistributed(Dense) head
   * (interop/keras.js); anything else is refused by name (ERR_FORMAT).
   */
  static async fromKeras(modelJson, weights, options = {}) {
    const { config, engine, params } = importKeras(modelJson, weights, options, resolveConfig, checkOptions);
    return Model.#withParameters(config, engine, params);
  }

  /**
   * { modelJson, weights }: a TF.js layers model.json (one weight file,
   * 'weights.bin') and its bytes, for tf.loadLayersModel(tf.io.fromMemory(…)).
   * The scalers are folded into the first kernel and the head. Cells Keras
   * has no layer for: ERR_FORMAT.
   */
  toKeras() {
    const core = this.#core;
    core.live();
    return writeKeras(core.config, this.parameters(), core.scaling.toJSON());
  }

  /**
   * The parameters as a safetensors file that PyTorch loads with
   * load_state_dict (names as imported, else "lstm."/"gru."/"rnn." and "head.").
   */
  toSafetensors() {
    return writeSafetensors(this.#core, this.parameters(), this.parameterShapes());
  }
}

// class Model: the public API of SPEC section 4 over the engine. Each method
// validates its input completely, then calls the engine (engine.js -> c/api.c)
// with buffers it allocates and frees itself; a failed call changes nothing.
// Data conversion is in data.js, the file format in format.js, PyTorch
// interop in interop/pytorch.js.
import { engineFrom } from './engine.js';
import { LstmError, affirm } from './errors.js';
import { applyScaler, fitScaler, fromOutputs, invertScaler, shuffledIndices, splitIndices, toSequences, toTargets } from './data.js';
import { checkBool, checkFunction, checkInt, checkNumber, checkOneOf, checkOptions } from './validate.js';
import { decodeModel, encodeModel } from './format.js';
import { encodeSafetensors } from './interop/safetensors.js';
import { importStateDict, stateDictMetadata, toStateDict } from './interop/pytorch.js';
import { checkExtra, checkFileConfig, checkFiniteOutputs, checkFloat32s, checkParameterBudget, checkStepInput, checkTensorNames, largestParameter } from './file-checks.js';

/** Keys of internal methods for wrappers in this package (text-model.js). */
export const ANNOTATIONS = Symbol('annotations');
export const ENGINE = Symbol('engine');
/** @internal shared with worker.js, so the worker entry says and decides the same. */
export const REGRESSION = new Set(['mse', 'mae', 'huber']);
export const DISPOSED = 'this model was disposed; create or load a new one';
export const STREAM_DISPOSED = 'this stream (or its model) was disposed';

const CELLS = ['lstm', 'peephole', 'lstm1997', 'cifg', 'gru', 'rnn'];
// c/lw.h enum lw_cell and enum lw_gate
const CELL_CODES = { lstm: 0, peephole: 0, lstm1997: 0, cifg: 0, gru: 1, rnn: 2 };
const GATE = { noInput: 1, noForget: 2, noOutput: 4, noInputAct: 8, noOutputAct: 16, peepholes: 32, coupled: 64, squash1997: 128, fullRecurrence: 256 };
// the Greff et al. 2015 switches (true = the part is there), and the 1997 squashing
const GATE_SWITCHES = ['input', 'forget', 'output', 'inputActivation', 'outputActivation', 'peepholes', 'coupled',
  'fullRecurrence', 'originalSquashing'];
// what each cell name means on the LSTM cell
const CELL_GATES = { lstm: {}, peephole: { peepholes: true }, cifg: { coupled: true }, lstm1997: { forget: false } };
// gate rows reported by trace(), per cell
const TRACE_ROWS = { lstm: ['i', 'f', 'g', 'o', 'c', 'h'], gru: ['r', 'z', 'n', null, 'h'], rnn: [null, null, 'h'] };
const LOSSES = ['mse', 'mae', 'huber', 'softmax-cross-entropy', 'sigmoid-cross-entropy'];
const OPTIMIZERS = ['sgd', 'adam', 'adamw', 'rmsprop'];
const MAX_SIZE = 65536;
const MAX_LAYERS = 16;

const CREATE_OPTIONS = ['inputSize', 'hiddenSize', 'layers', 'cell', 'gates', 'bidirectional', 'outputSize',
  'returnSequences', 'loss', 'dropout', 'seed', 'forgetBias', 'normalize', 'simd', 'locateWasm', 'engine'];
const TRAIN_OPTIONS = ['epochs', 'batchSize', 'optimizer', 'learningRate', 'momentum', 'nesterov', 'beta1', 'beta2',
  'epsilon', 'rho', 'weightDecay', 'clipNorm', 'clipValue', 'validationSplit', 'validationData', 'shuffle', 'seed',
  'onEpochEnd', 'onBatchEnd', 'signal', 'yieldEvery', 'truncate', 'schedule'];
const SCHEDULES = { step: 1, exponential: 2, cosine: 3 };

// c/lw.h enum lw_config_index, lw_hyper_index, lw_tensor_kind
const HYPER_COUNT = 9;
const FLAG_TIME_MAJOR = 1, FLAG_RAW = 2;
const TENSOR_NAMES = ['weight_ih', 'weight_hh', 'bias_ih', 'bias_hh', null, null, 'weight_peephole', 'weight_gate_recurrence'];

/** The resolved configuration from Model.create options. */
function resolveConfig(options) {
  const o = checkOptions(options, CREATE_OPTIONS, 'Model.create');
  const cell = checkOneOf(o.cell ?? 'lstm', 'cell', CELLS);
  const gates = resolveGates(cell, o.gates);
  const layers = checkInt(o.layers ?? (Array.isArray(o.hiddenSize) ? o.hiddenSize.length : 1), 'layers', 1, MAX_LAYERS);
  affirm(o.hiddenSize !== undefined, 'ERR_OPTION', 'Model.create: hiddenSize is required (for example hiddenSize: 32)');
  let hidden;
  if (Array.isArray(o.hiddenSize)) {
    affirm(o.hiddenSize.length === layers, 'ERR_SHAPE',
      `hiddenSize has ${o.hiddenSize.length} sizes but layers is ${layers}; give one size per layer`);
    hidden = o.hiddenSize.map((h, l) => checkInt(h, `hiddenSize[${l}]`, 1, MAX_SIZE));
  } else {
    hidden = new Array(layers).fill(checkInt(o.hiddenSize, 'hiddenSize', 1, MAX_SIZE));
  }
  affirm(o.inputSize !== undefined, 'ERR_OPTION', 'Model.create: inputSize is required (1 for a plain series)');
  const loss = checkOneOf(o.loss ?? 'mse', 'loss', LOSSES);
  const normalize = o.normalize === undefined ? (REGRESSION.has(loss) ? 'zscore' : false)
    : checkOneOf(o.normalize, 'normalize', ['zscore', 'minmax', false]);
  affirm(!normalize || REGRESSION.has(loss), 'ERR_OPTION',
    `normalize: '${normalize}' applies to regression losses only, not '${loss}'`);
  return {
    inputSize: checkInt(o.inputSize, 'inputSize', 1, MAX_SIZE),
    hiddenSize: hidden,
    layers,
    cell,
    gates,
    bidirectional: checkBool(o.bidirectional ?? false, 'bidirectional'),
    outputSize: checkInt(o.outputSize ?? 1, 'outputSize', 0, MAX_SIZE),
    returnSequences: checkBool(o.returnSequences ?? false, 'returnSequences'),
    loss,
    dropout: checkNumber(o.dropout ?? 0, 'dropout', 0, 0.95),
    seed: checkInt(o.seed ?? 42, 'seed', 0, 0xffffffff),
    forgetBias: checkNumber(o.forgetBias ?? 1, 'forgetBias', -100, 100),
    normalize,
  };
}

/** The LSTM switches as { input, forget, …, originalSquashing }: the cell's own, then the caller's. */
function resolveGates(cell, given) {
  if (given === undefined || given === null) given = {};
  affirm(typeof given === 'object' && !Array.isArray(given), 'ERR_TYPE', 'gates must be an object of switches, e.g. { forget: false }');
  const g = checkOptions(given, GATE_SWITCHES, 'gates');
  affirm(!Object.keys(g).length || CELL_CODES[cell] === 0, 'ERR_OPTION', `gates: the switches apply to the LSTM cells, not '${cell}'`);
  if (CELL_CODES[cell] !== 0) return null;
  const out = { input: true, forget: true, output: true, inputActivation: true, outputActivation: true, peepholes: false,
    coupled: false, fullRecurrence: false, originalSquashing: false, ...CELL_GATES[cell] };
  for (const [k, v] of Object.entries(g)) out[k] = checkBool(v, `gates.${k}`);
  for (const [k, v] of Object.entries(CELL_GATES[cell])) {
    affirm(out[k] === v, 'ERR_OPTION', `gates.${k}: cell '${cell}' is defined by ${k}: ${v}; use cell 'lstm' with gates to change it`);
  }
  affirm(!(out.coupled && !out.forget), 'ERR_OPTION', 'gates: coupled needs the forget gate (f = 1 - i)');
  affirm(!(out.coupled && !out.input), 'ERR_OPTION', 'gates: coupled needs the input gate (f = 1 - i)');
  return out;
}

/**
 * A learning-rate schedule over the epochs of one train() call:
 * { type: 'step', every, gamma } | { type: 'exponential', gamma } | { type: 'cosine', epochs?, minLearningRate? }.
 */
function resolveSchedule(s, epochs) {
  if (s === undefined) return null;
  affirm(s && typeof s === 'object', 'ERR_TYPE', "schedule must be an object such as { type: 'cosine' }");
  const o = checkOptions(s, ['type', 'every', 'gamma', 'epochs', 'minLearningRate'], 'schedule');
  const type = checkOneOf(o.type, 'schedule.type', Object.keys(SCHEDULES));
  const allowed = { step: ['every', 'gamma'], exponential: ['gamma'], cosine: ['epochs', 'minLearningRate'] }[type];
  for (const k of Object.keys(o)) affirm(k === 'type' || allowed.includes(k), 'ERR_OPTION', `schedule: '${k}' does not apply to a ${type} schedule`);
  return {
    kind: SCHEDULES[type],
    gamma: type === 'cosine' ? 1 : checkNumber(o.gamma ?? (type === 'step' ? 0.1 : 0.95), 'schedule.gamma', 0, 1),
    every: type === 'step' ? checkInt(o.every ?? 10, 'schedule.every', 1, 1e7) : type === 'cosine' ? checkInt(o.epochs ?? Math.max(1, epochs), 'schedule.epochs', 1, 1e7) : 0,
    floor: type === 'cosine' ? checkNumber(o.minLearningRate ?? 0, 'schedule.minLearningRate', 0, 1e6) : 0,
  };
}

/** enum lw_gate bitmask of resolved gates. */
function gateFlags(g) {
  if (!g) return 0;
  return (g.input ? 0 : GATE.noInput) | (g.forget ? 0 : GATE.noForget) | (g.output ? 0 : GATE.noOutput)
    | (g.inputActivation ? 0 : GATE.noInputAct) | (g.outputActivation ? 0 : GATE.noOutputAct)
    | (g.peepholes ? GATE.peepholes : 0) | (g.coupled ? GATE.coupled : 0) | (g.originalSquashing ? GATE.squash1997 : 0)
    | (g.fullRecurrence ? GATE.fullRecurrence : 0);
}

/** Checks a flat array of n finite numbers within float32's range; `label` is the name as the length message shows it. */
function checkVector(v, n, where, name, hint = '', label = name) {
  affirm(v && v.length === n, 'ERR_SHAPE', `${where}: ${label} needs ${n} values${hint}, got ${v?.length}`);
  checkFloat32s(v, n, where, name);
  return v;
}

function engineOptions(o = {}) {
  return engineFrom(o); // o.engine (an Engine from loadEngine(), e.g. the f64 test build), checked, or a loaded one
}

// Yields to the event loop so a page stays responsive between batches.
const yieldNow = typeof setImmediate === 'function'
  ? () => new Promise((resolve) => setImmediate(resolve))
  : (() => {
    const channel = typeof MessageChannel === 'function' ? new MessageChannel() : null;
    const queue = [];
    if (channel) channel.port1.onmessage = () => queue.shift()?.();
    return () => new Promise((resolve) => {
      if (!channel) return setTimeout(resolve, 0);
      queue.push(resolve);
      channel.port2.postMessage(0);
    });
  })();
const now = () => (typeof performance !== 'undefined' ? performance.now() : Date.now());

export class Model {
  #engine;
  #ptr = 0;
  #config;
  #scalers = { input: null, target: null };
  #names = { prefix: '', head: 'head.' }; // state-dict prefixes, kept from fromPyTorch
  #training = false;
  #epochsTrained = 0; // shuffles use seed + this, so train(2) then train(2) equals train(4)
  #window = 0; // longest training sequence: the context forecast() gives a many-to-one model
  #streams = new Set();
  #annotations = null; // JSON saved with the model for wrappers such as TextModel

  /** Use Model.create, Model.load or Model.fromPyTorch. */
  constructor(engine, config, token) {
    affirm(token === CONSTRUCT, 'ERR_TYPE', 'use Model.create(options), not new Model()');
    this.#engine = engine;
    this.#config = config;
    const c = config;
    const ints = [c.inputSize, c.outputSize, c.layers, c.bidirectional ? 1 : 0, CELL_CODES[c.cell], c.returnSequences ? 1 : 0,
      LOSSES.indexOf(c.loss), c.seed | 0, gateFlags(c.gates), ...c.hiddenSize];
    this.#ptr = engine.scoped((s) => engine.exports.lw_model_create(s.int32(ints), ints.length, c.forgetBias, c.dropout));
    if (!this.#ptr) engine.check(engine.exports.lw_last_error() && 1, 'Model.create');
  }

  /**
   * Creates a model with freshly initialised weights (seeded).
   * @param {object} options see README "Model.create"
   * @returns {Promise<Model>}
   */
  static async create(options) {
    const config = resolveConfig(options);
    return new Model(await engineOptions(options), config, CONSTRUCT);
  }

  /** The configuration (a copy). */
  get config() {
    this.#live();
    return structuredClone(this.#config);
  }

  /** The engine this model runs on: { simd, version, variant }. */
  get engine() {
    return { simd: this.#engine.simd, version: this.#engine.version, variant: this.#engine.variant };
  }

  #live() {
    affirm(this.#ptr, 'ERR_DISPOSED', DISPOSED);
    this.#engine.usable(this.#ptr); // ERR_ENGINE once a call on this model trapped (engine.js)
  }

  #exports() {
    this.#live();
    return this.#engine.exports;
  }

  get #regression() {
    return REGRESSION.has(this.#config.loss);
  }

  /** Converts inputs to the staged batch-first form, applying the input scaler. */
  #inputs(inputs, name = 'inputs') {
    const seq = toSequences(inputs, { name, inputSize: this.#config.inputSize });
    if (this.#scalers.input) applyScaler(seq.data, this.#scalers.input, { steps: seq.shape[1], lengths: seq.lengths });
    return seq;
  }

  #targets(targets, seq, name = 'targets') {
    const c = this.#config;
    affirm(c.outputSize > 0, 'ERR_OPTION', 'this model has no output layer (outputSize 0); use forward() and backward()');
    const [B, T] = seq.shape;
    return toTargets(targets, {
      name, batch: B, lengths: seq.lengths, steps: T, outputSize: c.outputSize,
      perStep: c.returnSequences, classes: !this.#regression,
    });
  }

  /**
   * Trains on (inputs, targets); resolves to the history when done or stopped.
   * @returns {Promise<{ loss: number[], valLoss: number[], epochs: number, stopped: boolean }>}
   */
  async train(inputs, targets, options = {}) {
    this.#live();
    affirm(!this.#training, 'ERR_OPTION', 'this model is already training; await the running train() first');
    const o = checkOptions(options, TRAIN_OPTIONS, 'train');
    const c = this.#config;
    const epochs = checkInt(o.epochs ?? 10, 'epochs', 0, 1e7);
    const batchSize = checkInt(o.batchSize ?? 32, 'batchSize', 1, 1 << 20);
    const optimizer = checkOneOf(o.optimizer ?? 'adam', 'optimizer', OPTIMIZERS);
    const lr = checkNumber(o.learningRate ?? (optimizer === 'sgd' ? 0.01 : 1e-3), 'learningRate', 0, 1e6);
    const validationSplit = checkNumber(o.validationSplit ?? 0, 'validationSplit', 0, 0.99);
    const shuffle = checkBool(o.shuffle ?? true, 'shuffle');
    const seed = checkInt(o.seed ?? c.seed, 'seed', 0, 0xffffffff);
    const onEpochEnd = o.onEpochEnd === undefined ? null : checkFunction(o.onEpochEnd, 'onEpochEnd');
    const onBatchEnd = o.onBatchEnd === undefined ? null : checkFunction(o.onBatchEnd, 'onBatchEnd');
    const yieldEvery = checkNumber(o.yieldEvery ?? 16, 'yieldEvery', 0, 1e6);
    const truncate = o.truncate === undefined ? 0 : checkInt(o.truncate, 'truncate', 1, 1e7);
    const schedule = resolveSchedule(o.schedule, epochs);
    affirm(!truncate || c.returnSequences, 'ERR_OPTION', 'truncate: truncated BPTT needs a target at every step (returnSequences: true)');
    const signal = o.signal;
    affirm(signal === undefined || (signal && typeof signal.aborted === 'boolean'), 'ERR_TYPE', 'signal must be an AbortSignal');
    const hyper = new Array(HYPER_COUNT).fill(0);
    hyper[0] = lr;
    hyper[1] = checkNumber(o.beta1 ?? o.rho ?? (optimizer === 'rmsprop' ? 0.99 : 0.9), 'beta1', 0, 0.999999);
    hyper[2] = checkNumber(o.beta2 ?? 0.999, 'beta2', 0, 0.999999);
    hyper[3] = checkNumber(o.epsilon ?? 1e-8, 'epsilon', 0, 1);
    hyper[4] = checkNumber(o.momentum ?? 0, 'momentum', 0, 0.999999);
    hyper[5] = checkBool(o.nesterov ?? false, 'nesterov') ? 1 : 0;
    hyper[6] = checkNumber(o.weightDecay ?? (optimizer === 'adamw' ? 0.01 : 0), 'weightDecay', 0, 1e3);
    hyper[7] = checkNumber(o.clipNorm ?? 0, 'clipNorm', 0, 1e9);
    hyper[8] = checkNumber(o.clipValue ?? 0, 'clipValue', 0, 1e9);
    affirm(!(hyper[5] && !hyper[4]), 'ERR_OPTION', 'nesterov: needs a momentum above 0');

    // Convert and check all the data before anything changes.
    const seqRaw = toSequences(inputs, { name: 'inputs', inputSize: c.inputSize });
    const tgt = this.#targets(targets, seqRaw);
    let val = null;
    if (o.validationData !== undefined) {
      affirm(Array.isArray(o.validationData) && o.validationData.length === 2, 'ERR_TYPE', 'validationData must be [inputs, targets]');
      const vs = toSequences(o.validationData[0], { name: 'validationData[0]', inputSize: c.inputSize });
      val = { seq: vs, tgt: this.#targets(o.validationData[1], vs, 'validationData[1]') };
    }
    const [B, T, I] = seqRaw.shape;
    this.#window = Math.max(this.#window, T);
    const split = val ? { train: Int32Array.from({ length: B }, (_, i) => i), validation: new Int32Array(0) } : splitIndices(B, validationSplit);
    const scalerFitted = !this.#scalers.input && this.#config.normalize;
    if (scalerFitted) this.#fitScalers(seqRaw, tgt, split.train);
    const seq = { ...seqRaw, data: seqRaw.data.slice() };
    const tdata = tgt.data.slice();
    this.#scaleData(seq, tdata);
    if (val) this.#scaleData(val.seq, val.tgt.data);
    const O = c.outputSize, tw = c.returnSequences ? T * O : O;
    if (!val && split.validation.length) val = { seq, tgt: { data: tdata }, rows: split.validation };

    const e = this.#engine, ex = e.exports;
    const set = e.scoped((s) => ex.lw_model_set_optimizer(this.#ptr, OPTIMIZERS.indexOf(optimizer), s.reals(hyper), HYPER_COUNT));
    e.check(set, 'train');
    const history = { loss: [], valLoss: [], epochs: 0, stopped: false };
    const nTrain = split.train.length;
    const bmax = Math.min(batchSize, nTrain);
    // The training set is staged into wasm once; each step then names its rows.
    const xPtr = e.alloc(B * T * I * e.realSize), yPtr = e.alloc(B * tw * e.realSize);
    const rowsPtr = e.alloc(bmax * 4), lPtr = e.alloc(bmax * 4), lossPtr = e.alloc(8);
    // truncated BPTT: each row's states between chunks, (L·D, bmax, H_l) blocks for h then c
    const blocks = []; // [H_l] per (layer, direction), in state order
    for (const h of c.hiddenSize) for (let d = 0; d < (c.bidirectional ? 2 : 1); d++) blocks.push(h);
    const stateRow = blocks.reduce((n, H) => n + H, 0);
    const carry = truncate ? { h: new e.Real(bmax * stateRow), c: new e.Real(bmax * stateRow) } : null;
    const [h0Ptr, c0Ptr, hnPtr, cnPtr] = truncate ? [0, 0, 0, 0].map(() => e.alloc(bmax * stateRow * e.realSize)) : [0, 0, 0, 0];
    const gatherStates = (st, active, nb) => {
      const out = new e.Real(active.length * stateRow);
      let src = 0, dst = 0;
      for (const H of blocks) {
        active.forEach((k, a) => out.set(st.subarray(src + k * H, src + (k + 1) * H), dst + a * H));
        src += nb * H, dst += active.length * H;
      }
      return out;
    };
    const scatterStates = (st, active, nb, values) => {
      let dst = 0, src = 0;
      for (const H of blocks) {
        active.forEach((k, a) => st.set(values.subarray(src + a * H, src + (a + 1) * H), dst + k * H));
        dst += nb * H, src += active.length * H;
      }
    };
    const rb = new Int32Array(bmax), lb = new Int32Array(bmax);
    this.#training = true;
    let last = now(), applied = 0;
    try {
      e.writeReals(xPtr, seq.data);
      e.writeReals(yPtr, tdata);
      e.check(ex.lw_model_set_data(this.#ptr, xPtr, yPtr, B, T), 'train');
      for (let epoch = 0; epoch < epochs && !history.stopped; epoch++) {
        const order = shuffle ? shuffledIndices(nTrain, (seed + this.#epochsTrained) >>> 0) : null;
        const lrNow = schedule ? ex.lw_schedule_lr(schedule.kind, lr, epoch, schedule.gamma, schedule.every, schedule.floor) : lr;
        let sum = 0, count = 0, lossRows = 0;
        const t0 = now();
        for (let start = 0; start < nTrain; start += batchSize) {
          if (signal?.aborted) { history.stopped = true; break; }
          const nb = Math.min(batchSize, nTrain - start);
          const rows = Array.from({ length: nb }, (_, k) => split.train[order ? order[start + k] : start + k]);
          let Tb = 1; // the batch's own longest sequence: no work on padding
          for (const b of rows) Tb = Math.max(Tb, seq.lengths[b]);
          const chunk = truncate || Tb;
          if (truncate) { carry.h.fill(0); carry.c.fill(0); }
          // one update per chunk of `chunk` steps; the state runs on from chunk to chunk
          for (let s0 = 0; s0 < Tb; s0 += chunk) {
            if (signal?.aborted) { history.stopped = true; break; }
            this.#live(); // dispose() may have run while train() yielded
            const active = rows.map((b, k) => k).filter((k) => seq.lengths[rows[k]] > s0);
            let Tc = 1;
            active.forEach((k, a) => { rb[a] = rows[k]; lb[a] = Math.min(chunk, seq.lengths[rows[k]] - s0); Tc = Math.max(Tc, lb[a]); });
            const na = active.length;
            e.writeInt32(rowsPtr, rb.subarray(0, na));
            e.writeInt32(lPtr, lb.subarray(0, na));
            const carried = truncate && s0 > 0, more = truncate && s0 + chunk < Tb;
            if (carried) { e.writeReals(h0Ptr, gatherStates(carry.h, active, nb)); e.writeReals(c0Ptr, gatherStates(carry.c, active, nb)); }
            const status = ex.lw_model_train_rows(this.#ptr, rowsPtr, lPtr, na, Tc, s0, lrNow, lossPtr,
              carried ? h0Ptr : 0, carried ? c0Ptr : 0, more ? hnPtr : 0, more ? cnPtr : 0);
            if (status === 3) throw new LstmError('ERR_DIVERGED', `train: epoch ${epoch + 1}: ${e.cstring(ex.lw_last_error())}; try a lower learningRate or clipNorm`);
            e.check(status, 'train');
            applied++;
            if (more) { scatterStates(carry.h, active, nb, e.readReals(hnPtr, na * stateRow)); scatterStates(carry.c, active, nb, e.readReals(cnPtr, na * stateRow)); }
            const loss = e.readReals(lossPtr, 1)[0];
            let weight = 0; // loss rows: steps for many-to-many, sequences otherwise
            for (let a = 0; a < na; a++) weight += c.returnSequences ? lb[a] : 1;
            sum += loss * weight, lossRows += weight;
            if (now() - last >= yieldEvery) { await yieldNow(); last = now(); }
          }
          count += nb;
          onBatchEnd?.({ epoch, batch: start / batchSize, loss: sum / Math.max(1, lossRows), samplesPerSecond: count / Math.max(1e-3, (now() - t0) / 1000) });
        }
        if (!count) break;
        const loss = sum / lossRows;
        const valLoss = val ? this.#lossOn(val.seq, val.tgt.data, val.rows) : undefined;
        history.loss.push(loss);
        if (valLoss !== undefined) history.valLoss.push(valLoss);
        history.epochs = epoch + 1;
        this.#epochsTrained++;
        onEpochEnd?.({ epoch, loss, valLoss, learningRate: lrNow, samplesPerSecond: count / Math.max(1e-3, (now() - t0) / 1000) });
      }
    } catch (err) {
      if (scalerFitted && !applied) this.#scalers = { input: null, target: null }; // nothing trained on them
      throw err;
    } finally {
      this.#training = false;
      if (!e.faulted(this.#ptr)) ex.lw_model_set_data(this.#ptr || 0, 0, 0, 0, 0); // a trap's own error stands
      for (const p of [xPtr, yPtr, rowsPtr, lPtr, lossPtr, h0Ptr, c0Ptr, hnPtr, cnPtr]) e.free(p);
    }
    return history;
  }

  /** Same as train(), for Keras and TF.js habits. */
  fit(inputs, targets, options) {
    return this.train(inputs, targets, options);
  }

  #fitScalers(seq, tgt, rows) {
    const c = this.#config, [, T, I] = seq.shape, O = c.outputSize;
    const pick = (data, width, steps) => {
      const out = new Float32Array(rows.length * steps * width);
      rows.forEach((b, k) => out.set(data.subarray(b * steps * width, (b + 1) * steps * width), k * steps * width));
      return out;
    };
    const lengths = Int32Array.from(rows, (b) => seq.lengths[b]);
    this.#scalers.input = fitScaler(pick(seq.data, I, T), { width: I, lengths, steps: T, mode: c.normalize });
    this.#scalers.target = c.returnSequences
      ? fitScaler(pick(tgt.data, O, T), { width: O, lengths, steps: T, mode: c.normalize })
      : fitScaler(pick(tgt.data, O, 1), { width: O, mode: c.normalize });
  }

  #scaleData(seq, tdata) {
    if (!this.#scalers.input) return;
    applyScaler(seq.data, this.#scalers.input, { steps: seq.shape[1], lengths: seq.lengths });
    this.#scaleTargets(tdata, seq);
  }

  /** Applies the target scaler in place: per step for many-to-many, else one row per sequence. */
  #scaleTargets(tdata, seq) {
    if (this.#config.returnSequences) applyScaler(tdata, this.#scalers.target, { steps: seq.shape[1], lengths: seq.lengths });
    else applyScaler(tdata, this.#scalers.target);
  }

  /** Mean loss over rows (all if rows is undefined) of already-scaled data. */
  #lossOn(seq, tdata, rows) {
    const [B0, T, I] = seq.shape, O = this.#config.outputSize, per = this.#config.returnSequences ? T * O : O;
    const idx = rows ?? Int32Array.from({ length: B0 }, (_, i) => i);
    const x = new Float32Array(idx.length * T * I), y = new Float32Array(idx.length * per), lengths = new Int32Array(idx.length);
    idx.forEach((b, k) => {
      x.set(seq.data.subarray(b * T * I, (b + 1) * T * I), k * T * I);
      y.set(tdata.subarray(b * per, (b + 1) * per), k * per);
      lengths[k] = seq.lengths[b];
    });
    return this.#run({ data: x, shape: [idx.length, T, I], lengths }, y).loss;
  }

  /** Forward pass of the whole model on staged data; { out, loss }. */
  #run(seq, tdata, flags = 0) {
    const e = this.#engine, ex = this.#exports();
    const [B, T] = seq.shape, O = this.#config.outputSize;
    const n = B * (this.#config.returnSequences ? T : 1) * O;
    return e.scoped((s) => {
      const out = s.reals(n), loss = s.reals(1);
      const status = ex.lw_model_predict(this.#ptr, s.reals(seq.data), s.int32(seq.lengths), B, T, flags, out,
        tdata ? s.reals(tdata) : 0, loss);
      e.check(status, 'predict');
      return { out: e.readReals(out, n), loss: tdata ? e.readReals(loss, 1)[0] : undefined };
    });
  }

  /**
   * Outputs for a batch of sequences, in the inputs' own conventions and, for
   * regression, in the targets' original units. Classification losses give
   * probabilities; `{ logits: true }` gives the raw outputs.
   */
  predict(inputs, options = {}) {
    this.#live();
    const o = checkOptions(options, ['logits'], 'predict');
    const logits = checkBool(o.logits ?? false, 'logits');
    affirm(this.#config.outputSize > 0, 'ERR_OPTION', 'this model has no output layer (outputSize 0); use forward()');
    const seq = this.#inputs(inputs);
    const { out } = this.#run(seq, null, logits ? FLAG_RAW : 0);
    const result = this.#outputs(out, seq, inputs);
    checkFiniteOutputs(out, 'predict', () => largestParameter(this.parameters())); // #outputs scales out in place
    return result;
  }

  #outputs(out, seq, inputs) {
    const c = this.#config, [B, T] = seq.shape;
    if (this.#scalers.target) {
      if (c.returnSequences) invertScaler(out, this.#scalers.target, { steps: T, lengths: seq.lengths });
      else invertScaler(out, this.#scalers.target);
    }
    const typed = inputs && !Array.isArray(inputs) && 'data' in inputs;
    if (typed) return { data: out, shape: c.returnSequences ? [B, T, c.outputSize] : [B, c.outputSize] };
    return fromOutputs(out, { batch: B, steps: T, outputSize: c.outputSize, lengths: seq.lengths, perStep: c.returnSequences, scalar: c.outputSize === 1 && this.#regression });
  }

  /**
   * Loss (on the training scale) and, for classification, accuracy; for
   * regression also mse and mae in the targets' own units.
   */
  evaluate(inputs, targets) {
    this.#live();
    const c = this.#config;
    const seq = this.#inputs(inputs);
    const tgt = this.#targets(targets, seq);
    const raw = tgt.data.slice();
    const scaled = tgt.data;
    if (this.#scalers.target) this.#scaleTargets(scaled, seq);
    const { out, loss } = this.#run(seq, scaled);
    if (this.#scalers.target) {
      if (c.returnSequences) invertScaler(out, this.#scalers.target, { steps: seq.shape[1], lengths: seq.lengths });
      else invertScaler(out, this.#scalers.target);
    }
    checkFiniteOutputs(out, 'evaluate', () => largestParameter(this.parameters()));
    const O = c.outputSize, [B, T] = seq.shape;
    const rows = [];
    for (let b = 0; b < B; b++) {
      if (!c.returnSequences) rows.push(b * O);
      else for (let t = 0; t < seq.lengths[b]; t++) rows.push((b * T + t) * O);
    }
    const result = { loss };
    if (this.#regression) {
      let se = 0, ae = 0;
      for (const r of rows) for (let k = 0; k < O; k++) { const d = out[r + k] - raw[r + k]; se += d * d; ae += Math.abs(d); }
      result.mse = se / (rows.length * O);
      result.mae = ae / (rows.length * O);
    } else {
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
      result.accuracy = right / total;
    }
    return result;
  }

  /**
   * The loss on (inputs, targets) and its gradient for every parameter, by
   * PyTorch name, without changing the model (no dropout): for custom
   * training loops and for checking against other frameworks. Regression
   * data is scaled as in train() once the model has been trained.
   * @returns {{ loss: number, grads: Record<string, Float32Array> }}
   */
  gradients(inputs, targets) {
    const e = this.#engine, ex = this.#exports();
    const seq = this.#inputs(inputs);
    const tgt = this.#targets(targets, seq);
    if (this.#scalers.target) this.#scaleTargets(tgt.data, seq);
    const [B, T] = seq.shape;
    const loss = e.scoped((s) => {
      const out = s.reals(1);
      e.check(ex.lw_model_gradients(this.#ptr, s.reals(seq.data), s.reals(tgt.data), s.int32(seq.lengths), B, T, out), 'gradients');
      return e.readReals(out, 1)[0];
    });
    return { loss, grads: this.#read((x) => x.lw_model_grads(this.#ptr)) };
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
    const e = this.#engine, ex = this.#exports(), c = this.#config;
    const o = checkOptions(options, ['logits'], 'stream');
    const raw = checkBool(o.logits ?? false, 'logits') ? 1 : 0;
    const ptr = ex.lw_stream_create(this.#ptr);
    if (!ptr) e.check(1, 'stream');
    const I = c.inputSize, O = c.outputSize || c.hiddenSize[c.layers - 1];
    const inScale = this.#scalers.input, outScale = this.#scalers.target;
    const xAt = ex.lw_stream_input(ptr) / e.realSize, outAt = ex.lw_stream_output(ptr) / e.realSize;
    const streams = this.#streams, model = this, step = ex.lw_stream_step;
    let alive = true;
    const live = () => affirm(alive && this.#ptr, 'ERR_DISPOSED', STREAM_DISPOSED);
    const stream = {
      step(x) {
        if (!alive || !model.#ptr) live();
        const heap = e.reals();
        if (I === 1 && typeof x === 'number') {
          heap[xAt] = checkStepInput(x, inScale ? (x - inScale.shift[0]) / inScale.scale[0] : x, 'input');
        } else {
          affirm(x && x.length === I, 'ERR_SHAPE', () => `stream.step: expected ${I === 1 ? 'a number' : `${I} numbers`}, got ${Array.isArray(x) || ArrayBuffer.isView(x) ? `${x.length} numbers` : typeof x}`);
          for (let i = 0; i < I; i++) {
            heap[xAt + i] = checkStepInput(x[i], inScale ? (x[i] - inScale.shift[i]) / inScale.scale[i] : x[i], `input[${i}]`);
          }
        }
        step(ptr, raw);
        if (O === 1) {
          const y = outScale ? heap[outAt] * outScale.scale[0] + outScale.shift[0] : heap[outAt];
          if (!Number.isFinite(y)) checkFiniteOutputs([y], 'stream.step', () => largestParameter(model.parameters()));
          return y;
        }
        const out = heap.slice(outAt, outAt + O);
        if (outScale) for (let k = 0; k < O; k++) out[k] = out[k] * outScale.scale[k] + outScale.shift[k];
        checkFiniteOutputs(out, 'stream.step', () => largestParameter(model.parameters()));
        return out;
      },
      reset() {
        live();
        ex.lw_stream_reset(ptr);
      },
      dispose() {
        if (!alive) return;
        alive = false;
        streams.delete(stream);
        ex.lw_stream_free(ptr);
      },
    };
    streams.add(stream);
    return stream;
  }

  /**
   * What happens inside for one sequence: per layer and direction, the gate
   * activations i, f, g, o, the cell state c and the hidden state h at every
   * step, each as T rows of H numbers.
   * @returns {{ layer: number, direction: 'forward'|'reverse', i: number[][], f: number[][], g: number[][], o: number[][], c: number[][], h: number[][] }[]}
   */
  trace(sequence) {
    const e = this.#engine, ex = this.#exports(), c = this.#config;
    affirm(Array.isArray(sequence) || (sequence && sequence.data), 'ERR_TYPE', 'trace: expected one sequence (an array of steps)');
    const seq = this.#inputs(Array.isArray(sequence) ? [sequence] : sequence, 'sequence');
    affirm(seq.shape[0] === 1, 'ERR_SHAPE', `trace: expected one sequence, got ${seq.shape[0]}`);
    const T = seq.shape[1], D = c.bidirectional ? 2 : 1;
    const names = TRACE_ROWS[c.cell] ?? TRACE_ROWS.lstm;
    const rowsPer = names.length; // G/H gate rows, then c and h
    const size = c.hiddenSize.reduce((n, H) => n + D * T * rowsPer * H, 0);
    const flat = e.scoped((s) => {
      const out = s.reals(size);
      e.check(ex.lw_model_trace(this.#ptr, s.reals(seq.data), T, out), 'trace');
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
    this.#live();
    const c = this.#config, I = c.inputSize, O = c.outputSize;
    affirm(this.#regression, 'ERR_OPTION', `forecast: needs a regression model, not loss '${c.loss}'`);
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
      const s = this.stream();
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
    const window = this.#window || T;
    while (out.length < steps) {
      const ctx = history.slice(-window);
      const data = Float32Array.from(ctx.flat());
      push(this.predict({ data, shape: [1, ctx.length, I] }).data);
    }
    return out;
  }

  /** @internal JSON that save() stores and load() restores, for wrappers (TextModel). */
  [ANNOTATIONS](value) {
    if (value !== undefined) this.#annotations = value;
    return this.#annotations;
  }

  /** @internal the engine instance */
  [ENGINE]() {
    return this.#engine;
  }

  /** Tensor table from the engine: [{ name, kind, layer, dir, offset, shape }]. */
  #tensors() {
    const e = this.#engine, ex = this.#exports();
    const n = ex.lw_model_tensor_count(this.#ptr);
    return e.scoped((s) => {
      const info = s.int32(6);
      const list = [];
      for (let k = 0; k < n; k++) {
        e.check(ex.lw_model_tensor_info(this.#ptr, k, info), 'parameters');
        const [kind, layer, dir, offset, rows, cols] = e.readInt32(info, 6);
        const name = kind === 4 || kind === 5 ? `head.${kind === 4 ? 'weight' : 'bias'}`
          : `${TENSOR_NAMES[kind]}_l${layer}${dir ? '_reverse' : ''}`;
        list.push({ name, kind, layer, dir, offset, shape: cols === 1 && kind !== 4 ? [rows] : kind === 5 ? [rows] : [rows, cols] });
      }
      return list;
    });
  }

  /**
   * The parameters by PyTorch name (weight_ih_l0, …, head.weight, head.bias),
   * as copies: changing them does not change the model (use setParameters).
   * @returns {Record<string, Float32Array>}
   */
  parameters() {
    return this.#read((ex) => ex.lw_model_params(this.#ptr));
  }

  #read(base) {
    const e = this.#engine, ex = this.#exports();
    const ptr = base(ex), out = {};
    for (const t of this.#tensors()) out[t.name] = e.readReals(ptr + t.offset * e.realSize, t.shape.reduce((a, b) => a * b, 1));
    return out;
  }

  /** Shapes by parameter name. */
  parameterShapes() {
    return Object.fromEntries(this.#tensors().map((t) => [t.name, t.shape]));
  }

  /**
   * Replaces some or all parameters, by PyTorch name; checks every name,
   * length and value before changing any.
   */
  setParameters(values) {
    const e = this.#engine, ex = this.#exports();
    affirm(values && typeof values === 'object', 'ERR_TYPE', 'setParameters: expected { name: Float32Array }');
    const byName = new Map(this.#tensors().map((t) => [t.name, t]));
    const writes = [];
    for (const [name, data] of Object.entries(values)) {
      const t = byName.get(name);
      affirm(t, 'ERR_OPTION', `setParameters: no parameter '${name}'; this model has ${[...byName.keys()].join(', ')}`);
      const n = t.shape.reduce((a, b) => a * b, 1);
      writes.push([t, checkVector(data, n, 'setParameters', name, ` (shape [${t.shape}])`, `'${name}'`)]);
    }
    const ptr = ex.lw_model_params(this.#ptr);
    for (const [t, data] of writes) e.writeReals(ptr + t.offset * e.realSize, data);
    ex.lw_model_params_changed(this.#ptr);
  }

  /**
   * The recurrent stack alone, as torch.nn.LSTM: x batch-first (B,T,I), or
   * time-major (T,B,I) with { timeMajor: true }; nested arrays or
   * { data, shape, lengths }. No input scaling. Returns flat arrays:
   * output (B,T,D·H) or (T,B,D·H), zero past each length; h, c (L·D,B,H).
   */
  forward(x, options = {}) {
    const e = this.#engine, ex = this.#exports(), c = this.#config;
    const o = checkOptions(options, ['h0', 'c0', 'timeMajor'], 'forward');
    const timeMajor = checkBool(o.timeMajor ?? false, 'timeMajor');
    let seq;
    if (timeMajor) {
      affirm(x && x.shape && x.data && x.shape.length === 3, 'ERR_TYPE', 'forward: timeMajor input must be { data, shape: [T, B, I], lengths? }');
      const [T, B, I] = x.shape;
      // check it in the batch-first view, so errors name [b][t][i]; pass it on as it is
      const bf = new Float32Array(x.data.length);
      for (let t = 0; t < T; t++) for (let b = 0; b < B; b++) for (let i = 0; i < I; i++) bf[(b * T + t) * I + i] = x.data[(t * B + b) * I + i];
      seq = toSequences({ data: bf, shape: [B, T, I], lengths: x.lengths }, { name: 'x', inputSize: c.inputSize });
      seq.data = Float32Array.from(x.data);
      seq.shape = [B, T, I];
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
      const status = ex.lw_model_forward(this.#ptr, s.reals(seq.data), s.int32(seq.lengths), B, T,
        timeMajor ? FLAG_TIME_MAJOR : 0, h0 ? s.reals(h0) : 0, c0 ? s.reals(c0) : 0, out, hn, cn);
      e.check(status, 'forward');
      const result = { output: e.readReals(out, B * T * F), h: e.readReals(hn, nState), c: e.readReals(cn, nState) };
      for (const k of ['output', 'h', 'c']) checkFiniteOutputs(result[k], 'forward', () => largestParameter(this.parameters()), k);
      this.#lastForward = { B, T, F, nState };
      return result;
    });
  }

  #lastForward = null;

  /**
   * Backpropagation through time from gradients of the last forward()'s
   * output (same layout) and final states. Returns { dx, dh0, dc0, grads }
   * with grads by PyTorch name (head gradients are zero).
   */
  backward(dOutput, options = {}) {
    const e = this.#engine, ex = this.#exports();
    const o = checkOptions(options, ['dh', 'dc'], 'backward');
    const f = this.#lastForward;
    affirm(f, 'ERR_OPTION', 'backward: call forward() first');
    const check = (v, n, name) => (v === undefined || v === null ? null : checkVector(v, n, 'backward', name));
    const dy = check(dOutput, f.B * f.T * f.F, 'dOutput');
    affirm(dy, 'ERR_TYPE', 'backward: dOutput is required');
    const dh = check(o.dh, f.nState, 'dh'), dc = check(o.dc, f.nState, 'dc');
    const nx = f.B * f.T * this.#config.inputSize;
    const res = e.scoped((s) => {
      const dx = s.reals(nx), dh0 = s.reals(f.nState), dc0 = s.reals(f.nState);
      e.check(ex.lw_model_backward(this.#ptr, s.reals(dy), dh ? s.reals(dh) : 0, dc ? s.reals(dc) : 0, dx, dh0, dc0), 'backward');
      return { dx: e.readReals(dx, nx), dh0: e.readReals(dh0, f.nState), dc0: e.readReals(dc0, f.nState) };
    });
    this.#lastForward = null;
    res.grads = this.#read((x) => x.lw_model_grads(this.#ptr));
    return res;
  }

  /** Frees the model's wasm memory; every later call throws ERR_DISPOSED. */
  dispose() {
    if (!this.#ptr) return;
    for (const s of this.#streams) s.dispose();
    this.#engine.exports.lw_model_free(this.#ptr);
    this.#ptr = 0;
  }

  /** Everything needed to resume training exactly, as bytes (format.js). */
  save() {
    const e = this.#engine, ex = this.#exports();
    const P = ex.lw_model_param_count(this.#ptr);
    const statePtr = ex.lw_model_optim_state(this.#ptr);
    affirm(statePtr, 'ERR_NO_MEMORY', 'save: out of memory');
    const tensors = [
      { name: 'params', data: Float32Array.from(e.viewReals(ex.lw_model_params(this.#ptr), P)) },
      { name: 'optimizer', data: Float32Array.from(e.viewReals(statePtr, 2 * P)) },
    ];
    const extra = {
      scalers: this.#scalers,
      names: this.#names,
      optimizer: { kind: ex.lw_model_optim_kind(this.#ptr), steps: ex.lw_model_optim_steps(this.#ptr) },
      rng: [ex.lw_model_rng_state(this.#ptr, 0) >>> 0, ex.lw_model_rng_state(this.#ptr, 1) >>> 0],
      epochsTrained: this.#epochsTrained,
      window: this.#window,
      annotations: this.#annotations,
    };
    return encodeModel({ config: this.#config, tensors, extra });
  }

  /**
   * A model from save()'s bytes; checks the bytes fully before using them.
   * @param {Uint8Array|ArrayBuffer} bytes
   * @param {{ simd?: boolean, locateWasm?: Function }} [options]
   */
  static async load(bytes, options = {}) {
    const o = checkOptions(options, ['simd', 'locateWasm', 'engine'], 'Model.load');
    const { config, tensors, extra } = decodeModel(bytes);
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
      model.#restore(tensors, extra);
    } catch (err) {
      model.dispose();
      throw err instanceof LstmError && err.code === 'ERR_FORMAT' ? err : new LstmError('ERR_FORMAT', `model bytes: ${err.message}`);
    }
    return model;
  }

  #restore(tensors, extra) {
    const e = this.#engine, ex = this.#exports();
    const P = ex.lw_model_param_count(this.#ptr);
    const get = (name, n) => {
      const t = tensors.find((x) => x.name === name);
      affirm(t && t.data.length === n, 'ERR_FORMAT', `model bytes: '${name}' should hold ${n} values, got ${t?.data.length}`);
      for (let i = 0; i < n; i++) affirm(Number.isFinite(t.data[i]), 'ERR_FORMAT', `model bytes: ${name}[${i}] is not finite`);
      return t.data;
    };
    const params = get('params', P), opt = get('optimizer', 2 * P);
    checkTensorNames(tensors);
    const x = checkExtra(extra, this.#config);
    const { kind, steps } = x.optimizer;
    const statePtr = ex.lw_model_optim_state(this.#ptr);
    affirm(statePtr, 'ERR_NO_MEMORY', 'load: out of memory');
    e.writeReals(ex.lw_model_params(this.#ptr), params);
    e.writeReals(statePtr, opt);
    ex.lw_model_params_changed(this.#ptr);
    // the optimizer kind is restored through set_optimizer with neutral hyper-parameters; train() sets its own
    const hyper = new Array(HYPER_COUNT).fill(0);
    e.check(e.scoped((s) => ex.lw_model_set_optimizer(this.#ptr, kind, s.reals(hyper), HYPER_COUNT)), 'load');
    e.writeReals(statePtr, opt);
    ex.lw_model_set_optim_steps(this.#ptr, steps);
    if (x.rng) ex.lw_model_set_rng_state(this.#ptr, x.rng[0], x.rng[1]);
    this.#scalers = x.scalers;
    this.#epochsTrained = x.epochsTrained;
    this.#window = x.window;
    this.#annotations = x.annotations;
    this.#names = x.names;
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
    const o = checkOptions(options, ['loss', 'returnSequences', 'normalize', 'dropout', 'seed', 'simd', 'locateWasm', 'engine',
      'inputSize', 'hiddenSize', 'layers', 'bidirectional', 'outputSize', 'cell', 'gates'], 'Model.fromPyTorch');
    const { simd, locateWasm, engine, ...rest } = o;
    const { config: resolved, params, names, scalers } = importStateDict(stateDict, rest, resolveConfig);
    const model = new Model(await engineOptions({ simd, locateWasm, engine }), resolved, CONSTRUCT);
    try {
      model.setParameters(params);
    } catch (err) {
      model.dispose();
      throw err;
    }
    model.#names = names;
    model.#scalers = scalers;
    return model;
  }

  /**
   * The parameters as a safetensors file that PyTorch loads with
   * load_state_dict (names as imported, else "lstm."/"gru."/"rnn." and "head.").
   */
  toSafetensors() {
    // a model made here has no prefix of its own: name it as a module with .lstm/.gru/.rnn and .head would
    const own = { gru: 'gru.', rnn: 'rnn.' }[this.#config.cell] ?? 'lstm.';
    const names = this.#names.prefix === '' && this.#names.head === 'head.' ? { prefix: own, head: 'head.' } : this.#names;
    const params = this.parameters();
    if (!this.#config.outputSize) { delete params['head.weight']; delete params['head.bias']; }
    return encodeSafetensors(toStateDict(params, this.parameterShapes(), names), stateDictMetadata(this.#config, this.#scalers));
  }
}

const CONSTRUCT = Symbol('construct');

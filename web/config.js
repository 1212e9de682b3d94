// Options to configurations: Model.create's options (resolveConfig, with the
// cell switches of cells.js), train()'s options (resolveTrainOptions, with the
// learning-rate schedule), each checked completely with messages that name the
// fix. Shared by Model, TextModel, the worker entry and the demo.
import { affirm } from './errors.js';
import { checkBool, checkFunction, checkInt, checkNumber, checkOneOf, checkOptions, show } from './validate.js';
import { CELLS, CELL_NAMES, CLOCKWORK_PERIODS, SWITCH_DEFAULTS, SWITCH_NAMES, hasSwitches } from './cells.js';
import { HYPER, HYPER_COUNT, LIMITS, LOSSES, OPTIMIZERS, SCHEDULE as SCHEDULES } from './engine-abi.js';

export const REGRESSION = new Set(['mse', 'mae', 'huber']);

const MAX_SIZE = LIMITS.maxSize;
const MAX_LAYERS = LIMITS.maxLayers;

export const CREATE_OPTIONS = ['inputSize', 'hiddenSize', 'layers', 'cell', 'gates', 'periods', 'bidirectional', 'outputSize',
  'returnSequences', 'loss', 'dropout', 'seed', 'forgetBias', 'normalize', 'difference', 'simd', 'locateWasm', 'engine'];
export const TRAIN_OPTIONS = ['epochs', 'batchSize', 'optimizer', 'learningRate', 'momentum', 'nesterov', 'beta1', 'beta2',
  'epsilon', 'rho', 'weightDecay', 'clipNorm', 'clipValue', 'validationSplit', 'validationData', 'shuffle', 'seed',
  'onEpochEnd', 'onBatchEnd', 'signal', 'yieldEvery', 'truncate', 'schedule', 'earlyStopping', 'reduceOnPlateau', 'metrics',
  'classWeight', 'sampleWeight', 'workers'];

/** The most workers train() starts (a typo such as 1000 would start a thousand threads). */
export const MAX_WORKERS = 256;
/** The per-epoch metrics train() can add to the history, by kind of loss (each also as val<Name> with validation). */
export const EPOCH_METRICS = { classification: ['accuracy'], regression: ['mae', 'mse'] };

/**
 * Model.create's and TextModel.create's word on `dropout` that cannot apply:
 * it is dropout between stacked layers, and a one-layer model has none
 * (recurrent dropout, on h(t-1), needs the engine). Not in resolveConfig, so
 * files saved with it still load.
 */
export function checkDropoutApplies(c, where) {
  affirm(!(c.dropout > 0 && c.layers < 2), 'ERR_OPTION',
    `${where}: dropout ${c.dropout} applies between stacked layers, and this model has one layer; `
    + 'use layers: 2 or more, or dropout: 0 (recurrent dropout is not available yet)');
}

/** The resolved configuration from Model.create options. */
export function resolveConfig(options) {
  const o = checkOptions(options, CREATE_OPTIONS, 'Model.create');
  const cell = checkOneOf(o.cell ?? 'lstm', 'cell', CELL_NAMES);
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
  const bidirectional = checkBool(o.bidirectional ?? false, 'bidirectional');
  const periods = resolvePeriods(cell, o.periods, hidden, bidirectional);
  if (gates?.depth) checkDepthGate(gates, hidden);
  affirm(o.inputSize !== undefined, 'ERR_OPTION', 'Model.create: inputSize is required (1 for a plain series)');
  const loss = checkOneOf(o.loss ?? 'mse', 'loss', LOSSES);
  // regression scales inputs and targets by default; classification may scale its inputs (its targets are classes)
  const normalize = o.normalize === undefined ? (REGRESSION.has(loss) ? 'zscore' : false)
    : checkOneOf(o.normalize, 'normalize', ['zscore', 'minmax', false]);
  const config = {
    inputSize: checkInt(o.inputSize, 'inputSize', 1, MAX_SIZE),
    hiddenSize: hidden,
    layers,
    cell,
    gates,
    ...(periods ? { periods } : {}),
    bidirectional,
    outputSize: checkInt(o.outputSize ?? 1, 'outputSize', 0, MAX_SIZE),
    returnSequences: checkBool(o.returnSequences ?? false, 'returnSequences'),
    loss,
    dropout: checkNumber(o.dropout ?? 0, 'dropout', 0, 0.95),
    seed: checkInt(o.seed ?? 42, 'seed', 0, 0xffffffff),
    forgetBias: checkNumber(o.forgetBias ?? 1, 'forgetBias', -100, 100),
    normalize,
  };
  // only when given: configurations (and so files) without it stay as they were
  const difference = o.difference === undefined ? 0 : checkInt(o.difference, 'difference', 0, 1e6);
  if (difference) {
    const c = config;
    affirm(REGRESSION.has(c.loss), 'ERR_OPTION', `difference: applies to a regression model (a series), not loss '${c.loss}'`);
    affirm(!c.returnSequences, 'ERR_OPTION', 'difference: applies to many-to-one models (returnSequences: false) for now');
    affirm(c.outputSize > 0 && c.outputSize % c.inputSize === 0, 'ERR_OPTION',
      `difference: each output must be whole steps of the series (outputSize ${c.outputSize} a multiple of inputSize ${c.inputSize}), as forecast() needs`);
    config.difference = difference;
  }
  return config;
}

/** The depth gate (Yao et al. 2015) links each layer to the one below: 2 layers or more, one size, few other switches. */
function checkDepthGate(gates, hidden) {
  affirm(hidden.length >= 2, 'ERR_OPTION', `gates.depth: the depth gate links a layer to the one below it; it needs layers: 2 or more, not ${hidden.length}`);
  hidden.forEach((H, l) => affirm(H === hidden[0], 'ERR_OPTION',
    `gates.depth: the depth gate adds the cell state below into each layer's, so every layer needs the same hiddenSize (layer 0 has ${hidden[0]}, layer ${l} has ${H})`));
  const other = SWITCH_NAMES.filter((k) => k !== 'depth' && k !== 'peepholes' && k !== 'coupled' && gates[k] !== SWITCH_DEFAULTS[k]);
  affirm(!other.length, 'ERR_OPTION', `gates.depth: combines with peepholes and coupled only, not with ${other.map((k) => `${k}: ${gates[k]}`).join(', ')}`);
}

/** A Clockwork RNN's periods (ascending, each hidden size a multiple of their count), or null for the other cells. */
export function resolvePeriods(cell, given, hidden, bidirectional) {
  if (cell !== 'clockwork') {
    affirm(given === undefined, 'ERR_OPTION', `periods: applies to cell 'clockwork' only, not '${cell}'`);
    return null;
  }
  const periods = given ?? CLOCKWORK_PERIODS;
  affirm(Array.isArray(periods) && periods.length >= 1 && periods.length <= LIMITS.maxPeriods, 'ERR_TYPE',
    `periods must be an array of 1 to ${LIMITS.maxPeriods} ascending step counts, e.g. [1, 2, 4, 8]`);
  const out = periods.map((p, i) => checkInt(p, `periods[${i}]`, 1, LIMITS.maxSteps));
  out.forEach((p, i) => affirm(i === 0 || p > out[i - 1], 'ERR_OPTION',
    `periods must ascend: periods[${i}] = ${p} is not above periods[${i - 1}] = ${out[i - 1]}`));
  hidden.forEach((H, l) => affirm(H % out.length === 0, 'ERR_OPTION',
    `hiddenSize${hidden.length > 1 ? `[${l}]` : ''}: ${H} does not split into ${out.length} Clockwork modules (one per period); use a multiple of ${out.length}`));
  affirm(!bidirectional, 'ERR_OPTION', "bidirectional: a Clockwork RNN runs forward in time only (its clock counts from each sequence's start); use cell 'rnn' for a bidirectional layer");
  return out;
}

/** The LSTM switches as { input, forget, …, originalSquashing }: the cell's own, then the caller's. */
export function resolveGates(cell, given) {
  if (given === undefined || given === null) given = {};
  affirm(typeof given === 'object' && !Array.isArray(given), 'ERR_TYPE', 'gates must be an object of switches, e.g. { forget: false }');
  const g = checkOptions(given, SWITCH_NAMES, 'gates');
  affirm(!Object.keys(g).length || hasSwitches(cell), 'ERR_OPTION', `gates: the switches apply to the LSTM cells, not '${cell}'`);
  if (!hasSwitches(cell)) return null;
  const own = CELLS[cell].switches;
  const out = { ...SWITCH_DEFAULTS, ...own };
  for (const [k, v] of Object.entries(g)) out[k] = checkBool(v, `gates.${k}`);
  if (out.depth === false) delete out.depth; // an optional switch is listed only when on (cells.js)
  for (const [k, v] of Object.entries(own)) {
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
export function resolveSchedule(s, epochs) {
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

/** Which quantity a callback watches: 'valLoss' needs validation data. */
function checkMonitor(v, where, hasValidation) {
  const monitor = checkOneOf(v ?? (hasValidation ? 'valLoss' : 'loss'), `${where}.monitor`, ['valLoss', 'loss']);
  affirm(monitor === 'loss' || hasValidation, 'ERR_OPTION',
    `${where}: monitor 'valLoss' needs validation data; give validationSplit or validationData, or monitor: 'loss'`);
  return monitor;
}

/** Keras's EarlyStopping: { monitor, patience, minDelta, restoreBest }, or null. */
export function resolveEarlyStopping(v, hasValidation) {
  if (v === undefined || v === false || v === null) return null;
  if (v === true) v = {};
  affirm(typeof v === 'object' && !Array.isArray(v), 'ERR_TYPE', "earlyStopping must be an object such as { patience: 5, restoreBest: true }");
  const o = checkOptions(v, ['monitor', 'patience', 'minDelta', 'restoreBest'], 'earlyStopping');
  return {
    monitor: checkMonitor(o.monitor, 'earlyStopping', hasValidation),
    patience: checkInt(o.patience ?? 0, 'earlyStopping.patience', 0, 1e7),
    minDelta: checkNumber(o.minDelta ?? 0, 'earlyStopping.minDelta', 0, 1e9),
    restoreBest: checkBool(o.restoreBest ?? false, 'earlyStopping.restoreBest'),
  };
}

/** Keras's ReduceLROnPlateau: { monitor, factor, patience, minDelta, minLearningRate }, or null. */
export function resolveReduceOnPlateau(v, hasValidation) {
  if (v === undefined || v === false || v === null) return null;
  if (v === true) v = {};
  affirm(typeof v === 'object' && !Array.isArray(v), 'ERR_TYPE', 'reduceOnPlateau must be an object such as { factor: 0.5, patience: 3 }');
  const o = checkOptions(v, ['monitor', 'factor', 'patience', 'minDelta', 'minLearningRate'], 'reduceOnPlateau');
  const factor = checkNumber(o.factor ?? 0.1, 'reduceOnPlateau.factor', 0, 1);
  affirm(factor > 0 && factor < 1, 'ERR_RANGE', `reduceOnPlateau.factor must be above 0 and below 1, got ${factor}`);
  return {
    monitor: checkMonitor(o.monitor, 'reduceOnPlateau', hasValidation),
    factor,
    patience: checkInt(o.patience ?? 10, 'reduceOnPlateau.patience', 0, 1e7),
    minDelta: checkNumber(o.minDelta ?? 1e-4, 'reduceOnPlateau.minDelta', 0, 1e9),
    minLearningRate: checkNumber(o.minLearningRate ?? 0, 'reduceOnPlateau.minLearningRate', 0, 1e6),
  };
}

/** train()'s `metrics`: names the loss has (EPOCH_METRICS), true for all of them. */
export function resolveMetrics(v, regression) {
  const own = EPOCH_METRICS[regression ? 'regression' : 'classification'];
  if (v === undefined || v === false) return [];
  if (v === true) return own.slice();
  affirm(Array.isArray(v), 'ERR_TYPE', `metrics must be an array such as ['${own[0]}'], or true`);
  for (const m of v) {
    affirm(own.includes(m), 'ERR_OPTION', `metrics: '${m}' is not a metric of a ${regression ? 'regression' : 'classification'} loss; the metrics are ${own.join(', ')}`);
  }
  return [...new Set(v)];
}

/** workers: an integer in 1..MAX_WORKERS, or 'auto' (handled by the caller). */
function checkWorkers(n) {
  affirm(Number.isInteger(n), 'ERR_TYPE', () => `workers must be an integer from 1 to ${MAX_WORKERS} or 'auto', got ${show(n)}`);
  affirm(n >= 1 && n <= MAX_WORKERS, 'ERR_RANGE', () => `workers must be an integer from 1 to ${MAX_WORKERS} or 'auto', got ${n}`);
  return n;
}

/**
 * train()'s options, checked and with their defaults: everything but the data.
 * `hyper` is the engine's hyper-parameter array (enum lw_hyper_index order);
 * `validationData` stays as given (the caller converts it with its own data path).
 * @param {object} options
 * @param {{ seed: number, perStep: boolean, regression?: boolean }} model the defaults and limits that depend on the model
 */
export function resolveTrainOptions(options, model) {
  const o = checkOptions(options, TRAIN_OPTIONS, 'train');
  const epochs = checkInt(o.epochs ?? 10, 'epochs', 0, 1e7);
  const optimizer = checkOneOf(o.optimizer ?? 'adam', 'optimizer', OPTIMIZERS);
  const learningRate = checkNumber(o.learningRate ?? (optimizer === 'sgd' ? 0.01 : 1e-3), 'learningRate', 0, 1e6);
  const r = {
    epochs,
    batchSize: checkInt(o.batchSize ?? 32, 'batchSize', 1, LIMITS.maxBatch),
    optimizer,
    optimizerKind: OPTIMIZERS.indexOf(optimizer),
    learningRate,
    validationSplit: checkNumber(o.validationSplit ?? 0, 'validationSplit', 0, 0.99),
    validationData: o.validationData,
    shuffle: checkBool(o.shuffle ?? true, 'shuffle'),
    seed: checkInt(o.seed ?? model.seed, 'seed', 0, 0xffffffff),
    onEpochEnd: o.onEpochEnd === undefined ? null : checkFunction(o.onEpochEnd, 'onEpochEnd'),
    onBatchEnd: o.onBatchEnd === undefined ? null : checkFunction(o.onBatchEnd, 'onBatchEnd'),
    yieldEvery: checkNumber(o.yieldEvery ?? 16, 'yieldEvery', 0, 1e6),
    truncate: o.truncate === undefined ? 0 : checkInt(o.truncate, 'truncate', 1, 1e7),
    schedule: resolveSchedule(o.schedule, epochs),
    signal: o.signal,
    metrics: resolveMetrics(o.metrics, model.regression ?? true),
    classWeight: o.classWeight,
    sampleWeight: o.sampleWeight,
    // 'auto' stays as it is: pool.js resolves it from the runtime's cores and the batch
    workers: o.workers === undefined || o.workers === 'auto' ? (o.workers ?? 1) : checkWorkers(o.workers),
  };
  const hasValidation = o.validationData !== undefined || r.validationSplit > 0;
  r.earlyStopping = resolveEarlyStopping(o.earlyStopping, hasValidation);
  r.reduceOnPlateau = resolveReduceOnPlateau(o.reduceOnPlateau, hasValidation);
  affirm(!r.truncate || model.perStep, 'ERR_OPTION', 'truncate: truncated BPTT needs a target at every step (returnSequences: true)');
  affirm(r.signal === undefined || (r.signal && typeof r.signal.aborted === 'boolean'), 'ERR_TYPE', 'signal must be an AbortSignal');
  const hyper = new Array(HYPER_COUNT).fill(0);
  hyper[HYPER.lr] = learningRate;
  hyper[HYPER.beta1] = checkNumber(o.beta1 ?? o.rho ?? (optimizer === 'rmsprop' ? 0.99 : 0.9), 'beta1', 0, 0.999999);
  hyper[HYPER.beta2] = checkNumber(o.beta2 ?? 0.999, 'beta2', 0, 0.999999);
  hyper[HYPER.epsilon] = checkNumber(o.epsilon ?? 1e-8, 'epsilon', 0, 1);
  hyper[HYPER.momentum] = checkNumber(o.momentum ?? 0, 'momentum', 0, 0.999999);
  hyper[HYPER.nesterov] = checkBool(o.nesterov ?? false, 'nesterov') ? 1 : 0;
  hyper[HYPER.weightDecay] = checkNumber(o.weightDecay ?? (optimizer === 'adamw' ? 0.01 : 0), 'weightDecay', 0, 1e3);
  hyper[HYPER.clipNorm] = checkNumber(o.clipNorm ?? 0, 'clipNorm', 0, 1e9);
  hyper[HYPER.clipValue] = checkNumber(o.clipValue ?? 0, 'clipValue', 0, 1e9);
  affirm(!(hyper[HYPER.nesterov] && !hyper[HYPER.momentum]), 'ERR_OPTION', 'nesterov: needs a momentum above 0');
  r.hyper = hyper;
  return r;
}

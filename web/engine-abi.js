// The engine's numbers that JS passes or reads (c/lw.h): enum values, array
// layouts and limits, in this one file; every other module imports them from
// here. They are written out because modules use them when they load, before
// any engine exists; each engine hands over its own through lw_abi_json()
// (c/abi.c) when it is instantiated, and checkAbi() refuses an engine that
// disagrees with a single one of them, so they cannot drift from C.
import { LstmError } from './errors.js';

/** enum lw_cell */
export const CELL = Object.freeze({ lstm: 0, gru: 1, rnn: 2, clockwork: 3 });
/** enum lw_gate: each bit turns a Greff et al. switch away from the plain LSTM */
export const GATE = Object.freeze({ noInput: 1, noForget: 2, noOutput: 4, noInputAct: 8, noOutputAct: 16, peepholes: 32,
  coupled: 64, squash1997: 128, fullRecurrence: 256, depth: 512 });
/** enum lw_loss, in enum order */
export const LOSSES = Object.freeze(['mse', 'mae', 'huber', 'softmax-cross-entropy', 'sigmoid-cross-entropy']);
/** enum lw_optim, in enum order */
export const OPTIMIZERS = Object.freeze(['sgd', 'adam', 'adamw', 'rmsprop']);
/** enum lw_schedule (without its constant schedule, which JS expresses as no schedule) */
export const SCHEDULE = Object.freeze({ step: 1, exponential: 2, cosine: 3 });
/** enum lw_hyper_index, and LW_HYPER_COUNT */
export const HYPER = Object.freeze({ lr: 0, beta1: 1, beta2: 2, epsilon: 3, momentum: 4, nesterov: 5, weightDecay: 6, clipNorm: 7, clipValue: 8 });
export const HYPER_COUNT = 9;
/** flags of lw_model_predict, lw_model_forward and lw_model_grad_rows */
export const FLAG = Object.freeze({ timeMajor: 1, raw: 2, training: 4 });
/** enum lw_tensor_kind: the recurrent tensors' PyTorch stems by kind, and the head's two kinds */
export const TENSOR_STEMS = Object.freeze(['weight_ih', 'weight_hh', 'bias_ih', 'bias_hh', null, null, 'weight_peephole', 'weight_gate_recurrence',
  'weight_depth', 'bias_depth', 'weight_depth_cell', 'weight_depth_below']);
export const TENSOR = Object.freeze({ headWeight: 4, headBias: 5 });
/** enum lw_tensor_info_index: what lw_model_tensor_info writes, and how many */
export const TENSOR_INFO = Object.freeze({ kind: 0, layer: 1, dir: 2, offset: 3, rows: 4, cols: 5, rank: 6, size: 7 });
/** enum lw_status */
export const STATUS = Object.freeze({ ok: 0, badArgument: 1, noMemory: 2, notFinite: 3, badState: 4 });
/** LW_MAX_LAYERS, LW_MAX_SIZE (any one dimension), LW_MAX_BATCH, LW_MAX_STEPS, LW_MEMORY_LIMIT (bytes), LW_MAX_PERIODS */
export const LIMITS = Object.freeze({ maxLayers: 16, maxSize: 65536, maxBatch: 1 << 20, maxSteps: 1 << 20, memory: 2 ** 31,
  maxPeriods: 64 });

/** enum lw_config_index, LW_CONFIG_HIDDEN last: one hidden size per layer from there, then a Clockwork's periods */
const CONFIG = Object.freeze({ inputSize: 0, outputSize: 1, layers: 2, bidirectional: 3, cell: 4, returnSequences: 5, loss: 6,
  seed: 7, gates: 8, hidden: 9 });

/**
 * lw_model_create's configuration ints (enum lw_config_index order): sizes,
 * cell, loss, seed and switches, then one hidden size per layer, then (the
 * Clockwork RNN only) its periods.
 */
export function configInts(c, cell, gateFlags) {
  const k = CONFIG, ints = new Array(k.hidden + c.layers);
  ints[k.inputSize] = c.inputSize, ints[k.outputSize] = c.outputSize, ints[k.layers] = c.layers;
  ints[k.bidirectional] = c.bidirectional ? 1 : 0, ints[k.cell] = cell, ints[k.returnSequences] = c.returnSequences ? 1 : 0;
  ints[k.loss] = LOSSES.indexOf(c.loss), ints[k.seed] = c.seed | 0, ints[k.gates] = gateFlags;
  c.hiddenSize.forEach((h, l) => { ints[k.hidden + l] = h; });
  return c.periods ? ints.concat(c.periods) : ints;
}

/** The JSON of the first engine's lw_abi_json(), parsed (every build has the same; realSize aside). */
export const abi = {};

// C's name (lw_abi_json's groups and members) of every number above
const upper = (name) => name.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase();
const byName = (group, names) => Object.fromEntries(names.map((n) => [n, [group, upper(n)]]));
const C_NAMES = {
  CELL: byName('cell', Object.keys(CELL)),
  GATE: { ...byName('gate', Object.keys(GATE)), squash1997: ['gate', 'SQUASH_1997'] },
  SCHEDULE: byName('schedule', Object.keys(SCHEDULE)),
  HYPER: { ...byName('hyper', Object.keys(HYPER)), lr: ['hyper', 'LR'], beta1: ['hyper', 'BETA1'], beta2: ['hyper', 'BETA2'], epsilon: ['hyper', 'EPS'] },
  FLAG: byName('flag', Object.keys(FLAG)),
  TENSOR: { headWeight: ['tensor', 'HEAD_W'], headBias: ['tensor', 'HEAD_B'] },
  TENSOR_INFO: byName('tensorInfo', Object.keys(TENSOR_INFO)),
  STATUS: byName('status', Object.keys(STATUS)),
  CONFIG: byName('config', Object.keys(CONFIG)),
  LIMITS: { maxLayers: ['limits', 'MAX_LAYERS'], maxSize: ['limits', 'MAX_SIZE'], maxBatch: ['limits', 'MAX_BATCH'],
    maxSteps: ['limits', 'MAX_STEPS'], memory: ['limits', 'MEMORY_LIMIT'], maxPeriods: ['limits', 'MAX_PERIODS'] },
};
const TABLES = { CELL, GATE, SCHEDULE, HYPER, FLAG, TENSOR, TENSOR_INFO, STATUS, CONFIG, LIMITS };

/** Where this file and an engine's lw_abi_json() disagree: a list of "NAME: JS x, C y". */
export function abiMismatches(json) {
  const c = JSON.parse(json), out = [];
  const same = (what, js, cv) => { if (js !== cv) out.push(`${what}: ${JSON.stringify(js)} here, ${JSON.stringify(cv)} in c/lw.h`); };
  for (const [table, names] of Object.entries(C_NAMES)) {
    for (const [key, [group, member]] of Object.entries(names)) same(`${table}.${key}`, TABLES[table][key], c[group]?.[member]);
  }
  same('HYPER_COUNT', HYPER_COUNT, c.hyper?.COUNT);
  same('GATE (all bits)', Object.values(GATE).reduce((a, b) => a | b, 0), c.gate?.ALL);
  LOSSES.forEach((l, i) => same(`LOSSES[${i}] ('${l}')`, i, c.loss?.[{ mse: 'MSE', mae: 'MAE', huber: 'HUBER',
    'softmax-cross-entropy': 'SOFTMAX_CE', 'sigmoid-cross-entropy': 'SIGMOID_CE' }[l]]));
  same('LOSSES (count)', LOSSES.length, Object.keys(c.loss ?? {}).length);
  OPTIMIZERS.forEach((o, i) => same(`OPTIMIZERS[${i}] ('${o}')`, i, c.optim?.[o.toUpperCase()]));
  same('OPTIMIZERS (count)', OPTIMIZERS.length, Object.keys(c.optim ?? {}).length);
  TENSOR_STEMS.forEach((s, i) => { if (s !== null) same(`TENSOR_STEMS[${i}]`, s, c.tensorNames?.[i]); });
  same('TENSOR_STEMS (count)', TENSOR_STEMS.length, c.tensorNames?.length);
  return out;
}

/** Takes in an engine's lw_abi_json(); refuses one that disagrees with this file or with an engine loaded before. */
export function checkAbi(json) {
  const bad = abiMismatches(json);
  if (bad.length) throw new LstmError('ERR_ENGINE', `this engine build disagrees with web/engine-abi.js: ${bad.join('; ')}; rebuild it (build.sh) or update engine-abi.js`);
  const { realSize, ...shared } = JSON.parse(json);
  if (Object.keys(abi).length === 0) Object.assign(abi, shared);
  return abi;
}

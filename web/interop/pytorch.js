// PyTorch state dicts <-> lstm-wasm parameters. Gate order needs no change:
// lstm-wasm keeps PyTorch's (LSTM i, f, g, o; GRU r, z, n) and its names
// (weight_ih_l0, …, weight_hh_l1_reverse; peepholes weight_peephole_l0; full
// gate recurrence weight_gate_recurrence_l0). What this file adds: reading a state dict given as
// safetensors bytes or { name: { shape, data } }, finding the LSTM tensors
// under any prefix ("lstm."), inferring the sizes from their shapes, taking
// the one Linear layer left over as the dense head, and the "lstm-wasm"
// safetensors metadata for what the tensors cannot say (the cell variant, its
// switches, the loss and the scaling).
import { LstmError, affirm } from '../errors.js';
import { checkScalers } from '../file-checks.js';
import { decodeSafetensors } from './safetensors.js';

const LSTM_NAME = /^(.*?)(weight_ih|weight_hh|bias_ih|bias_hh|weight_peephole|weight_gate_recurrence|weight_depth|bias_depth|weight_depth_cell|weight_depth_below)_l(\d+)(_reverse)?$/;
const CELL_BY_GATES = { 4: 'lstm', 3: 'gru', 1: 'rnn' };

/** { name: { shape, data: Float32Array } } from safetensors bytes or a plain object. */
export function readStateDict(stateDict) {
  return readStateDictFile(stateDict).tensors;
}

/** { tensors, metadata }: metadata is the safetensors __metadata__ (strings), or null. */
function readStateDictFile(stateDict) {
  if (stateDict instanceof Uint8Array || stateDict instanceof ArrayBuffer) return decodeSafetensors(stateDict);
  return { tensors: readTensorObject(stateDict), metadata: null };
}

function readTensorObject(stateDict) {
  affirm(stateDict && typeof stateDict === 'object', 'ERR_TYPE',
    'fromPyTorch: expected safetensors bytes or { name: { shape, data } }');
  const out = {};
  for (const [name, t] of Object.entries(stateDict)) {
    affirm(t && Array.isArray(t.shape) && t.shape.every((n) => Number.isInteger(n) && n >= 0), 'ERR_SHAPE',
      `fromPyTorch: '${name}' needs a shape array of sizes`);
    const n = t.shape.reduce((a, b) => a * b, 1);
    affirm(t.data && t.data.length === n, 'ERR_SHAPE',
      `fromPyTorch: '${name}' has shape [${t.shape}] (${n} values) but ${t.data?.length} values`);
    const data = Float32Array.from(t.data);
    for (let i = 0; i < n; i++) affirm(Number.isFinite(data[i]), 'ERR_NOT_FINITE', `fromPyTorch: ${name}[${i}] is ${t.data[i]}`);
    out[name] = { shape: t.shape.slice(), data };
  }
  return out;
}

/**
 * Model.create options, parameters by lstm-wasm name, and the prefixes, from
 * the tensors of a PyTorch model: an nn.LSTM (under any prefix) and at most
 * one nn.Linear after it.
 */
export function fromStateDict(tensors) {
  const lstm = new Map(), rest = [];
  let prefix = null;
  for (const name of Object.keys(tensors)) {
    const m = LSTM_NAME.exec(name);
    if (!m) { rest.push(name); continue; }
    affirm(prefix === null || prefix === m[1], 'ERR_FORMAT', `fromPyTorch: two recurrent modules ('${prefix}' and '${m[1]}'); pass one`);
    prefix = m[1];
    lstm.set(`${m[2]}_l${m[3]}${m[4] ?? ''}`, tensors[name]);
  }
  affirm(lstm.has('weight_ih_l0') && lstm.has('weight_hh_l0'), 'ERR_FORMAT',
    `fromPyTorch: no LSTM, GRU or RNN found: expected weight_ih_l0 and weight_hh_l0 (got ${Object.keys(tensors).join(', ') || 'nothing'})`);
  let layers = 0;
  while (lstm.has(`weight_ih_l${layers}`)) layers++;
  const bidirectional = lstm.has('weight_ih_l0_reverse');
  const D = bidirectional ? 2 : 1;
  const hiddenSize = [];
  const params = {};
  let cell = null;
  const peep = lstm.has('weight_peephole_l0');
  const fullRecurrence = lstm.has('weight_gate_recurrence_l0');
  const depth = lstm.has('weight_depth_l1'); // the depth gate: layers l >= 1 only
  for (let l = 0; l < layers; l++) {
    for (const sfx of bidirectional ? ['', '_reverse'] : ['']) {
      const wih = lstm.get(`weight_ih_l${l}${sfx}`), whh = lstm.get(`weight_hh_l${l}${sfx}`);
      affirm(wih && whh, 'ERR_FORMAT', `fromPyTorch: layer ${l}${sfx} is missing weight_ih or weight_hh`);
      affirm(whh.shape.length === 2, 'ERR_SHAPE', `fromPyTorch: weight_hh_l${l}${sfx} must be 2-D`);
      const [G, H] = whh.shape;
      const kind = CELL_BY_GATES[G / H];
      affirm(kind, 'ERR_FORMAT', `fromPyTorch: weight_hh_l${l}${sfx} has shape [${whh.shape}]; an LSTM has [4·H, H], a GRU [3·H, H], an RNN [H, H] (proj_size is not supported)`);
      affirm(!cell || cell === kind, 'ERR_FORMAT', `fromPyTorch: layer ${l}${sfx} is a ${kind} but layer 0 is a ${cell}`);
      cell = kind;
      if (!sfx) hiddenSize.push(H);
      affirm(H === hiddenSize[l], 'ERR_SHAPE', `fromPyTorch: the two directions of layer ${l} differ in size`);
      const inWant = l === 0 ? wih.shape[1] : D * hiddenSize[l - 1];
      affirm(wih.shape.length === 2 && wih.shape[0] === G && wih.shape[1] === inWant, 'ERR_SHAPE',
        `fromPyTorch: weight_ih_l${l}${sfx} has shape [${wih.shape}], expected [${G}, ${inWant}]`);
      params[`weight_ih_l${l}${sfx}`] = wih.data;
      params[`weight_hh_l${l}${sfx}`] = whh.data;
      for (const b of ['bias_ih', 'bias_hh']) {
        const t = lstm.get(`${b}_l${l}${sfx}`);
        affirm(!t || (t.shape.length === 1 && t.shape[0] === G), 'ERR_SHAPE', `fromPyTorch: ${b}_l${l}${sfx} must have shape [${G}]`);
        params[`${b}_l${l}${sfx}`] = t ? t.data : new Float32Array(G); // bias=False
      }
      if (peep) {
        const p = lstm.get(`weight_peephole_l${l}${sfx}`);
        affirm(kind === 'lstm', 'ERR_FORMAT', `fromPyTorch: weight_peephole_l${l}${sfx} belongs to an LSTM, not a ${kind}`);
        affirm(p && p.shape.length === 1 && p.shape[0] === 3 * H, 'ERR_SHAPE', `fromPyTorch: weight_peephole_l${l}${sfx} must have shape [${3 * H}] (i, f, o)`);
        params[`weight_peephole_l${l}${sfx}`] = p.data;
      }
      if (fullRecurrence) {
        // i, f and o of one step feed i, f and o of the next (Greff et al. 2015's FGR): (3H, 3H)
        const r = lstm.get(`weight_gate_recurrence_l${l}${sfx}`);
        affirm(kind === 'lstm', 'ERR_FORMAT', `fromPyTorch: weight_gate_recurrence_l${l}${sfx} belongs to an LSTM, not a ${kind}`);
        affirm(r && r.shape.length === 2 && r.shape[0] === 3 * H && r.shape[1] === 3 * H, 'ERR_SHAPE',
          `fromPyTorch: weight_gate_recurrence_l${l}${sfx} must have shape [${3 * H}, ${3 * H}] (i, f, o by i, f, o)`);
        params[`weight_gate_recurrence_l${l}${sfx}`] = r.data;
      }
      if (depth && l > 0) {
        // d = sigmoid(W_d x + b_d + w_dc c(t-1) + w_dl c_below): (H, in) and three (H)
        for (const [stem, shape] of [['weight_depth', [H, inWant]], ['bias_depth', [H]], ['weight_depth_cell', [H]], ['weight_depth_below', [H]]]) {
          const t = lstm.get(`${stem}_l${l}${sfx}`);
          affirm(kind === 'lstm', 'ERR_FORMAT', `fromPyTorch: ${stem}_l${l}${sfx} belongs to a depth-gated LSTM, not a ${kind}`);
          affirm(t && same(t.shape, shape), 'ERR_SHAPE', `fromPyTorch: ${stem}_l${l}${sfx} must have shape [${shape}] (the depth gate)`);
          params[`${stem}_l${l}${sfx}`] = t.data;
        }
      }
    }
  }
  const extra = [...lstm.keys()].filter((k) => !(k in params));
  affirm(!extra.length, 'ERR_FORMAT', `fromPyTorch: unexpected LSTM tensors ${extra.join(', ')}`);
  // the head: one Linear layer, "<name>.weight" (O, D·H) and "<name>.bias" (O)
  let head = null, outputSize = 0;
  const weights = rest.filter((n) => n.endsWith('weight'));
  affirm(weights.length <= 1, 'ERR_FORMAT', `fromPyTorch: more than one layer besides the LSTM (${weights.join(', ')}); one Linear head is supported`);
  if (weights.length) {
    const w = tensors[weights[0]], headPrefix = weights[0].slice(0, -'weight'.length);
    const F = D * hiddenSize[layers - 1];
    affirm(w.shape.length === 2 && w.shape[1] === F, 'ERR_SHAPE', `fromPyTorch: ${weights[0]} has shape [${w.shape}]; a head after this LSTM needs [outputSize, ${F}]`);
    outputSize = w.shape[0];
    const b = tensors[`${headPrefix}bias`];
    affirm(!b || (b.shape.length === 1 && b.shape[0] === outputSize), 'ERR_SHAPE', `fromPyTorch: ${headPrefix}bias must have shape [${outputSize}]`);
    params['head.weight'] = w.data;
    params['head.bias'] = b ? b.data : new Float32Array(outputSize);
    head = headPrefix;
  }
  const unknown = rest.filter((n) => head === null || (n !== `${head}weight` && n !== `${head}bias`));
  affirm(!unknown.length, 'ERR_FORMAT', `fromPyTorch: tensors that belong to no LSTM or Linear head: ${unknown.join(', ')}`);
  return {
    config: { inputSize: tensors[`${prefix}weight_ih_l0`].shape[1], hiddenSize, layers, bidirectional, outputSize,
      cell: peep ? 'peephole' : cell,
      ...(fullRecurrence || depth ? { gates: { ...(fullRecurrence ? { fullRecurrence: true } : {}), ...(depth ? { depth: true } : {}) } } : {}) },
    params,
    names: { prefix, head: head ?? 'head.' },
  };
}

/** PyTorch state dict { name: { shape, data } } from parameters by lstm-wasm name. */
export function toStateDict(params, shapes, names) {
  const out = {};
  for (const [name, data] of Object.entries(params)) {
    const full = name.startsWith('head.') ? names.head + name.slice(5) : names.prefix + name;
    out[full] = { shape: shapes[name], data };
  }
  return out;
}

// ------------------------------------------------------------ the "lstm-wasm" metadata

/**
 * The safetensors __metadata__ key lstm-wasm writes, and the version of its
 * JSON value. safetensors metadata values are strings, so the value is a
 * JSON text: { format, cell, gates, periods (the Clockwork's), inputSize, hiddenSize, layers,
 * bidirectional, outputSize, loss, returnSequences, normalize, scalers }.
 */
export const METADATA_KEY = 'lstm-wasm';
export const METADATA_FORMAT = 1;
const METADATA_FIELDS = ['format', 'cell', 'gates', 'periods', 'inputSize', 'hiddenSize', 'layers', 'bidirectional', 'outputSize',
  'loss', 'returnSequences', 'normalize', 'scalers'];
// what the file fixes for the model: the user's options must agree with these
const SIZE_FIELDS = ['inputSize', 'hiddenSize', 'layers', 'bidirectional', 'outputSize'];
const META_ONLY_FIELDS = ['cell', 'gates', 'periods', 'loss', 'returnSequences', 'normalize'];
// The switches of a plain 'lstm' (model.js resolveGates): a model whose other
// switches differ from these computes something the tensor names do not say.
const PLAIN_GATES = { input: true, forget: true, output: true, inputActivation: true, outputActivation: true, coupled: false,
  originalSquashing: false };

// the Clockwork RNN holds nn.RNN's tensors (its W_hh's lower blocks zero): only the metadata tells them apart
const family = (cell) => (cell === 'gru' || cell === 'rnn' ? cell : cell === 'clockwork' ? 'rnn' : 'lstm');
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

/**
 * The safetensors metadata for a model's file, or null when the tensors say
 * everything: a plain lstm, peephole, gru or rnn without scaling writes no
 * metadata, so its file is byte for byte what PyTorch writes. A cifg or
 * lstm1997 model, any other Greff switch, or fitted scalers need it: read
 * back without it, the file would be a plain LSTM computing something else.
 * @param {object} config the model's resolved configuration
 * @param {{ input: object|null, target: object|null }} scalers
 * @returns {Object<string, string> | null}
 */
export function stateDictMetadata(config, scalers) {
  const g = config.gates;
  const inferredCell = family(config.cell) === 'lstm' && g?.peepholes ? 'peephole' : family(config.cell);
  const plain = config.cell === inferredCell && (!g || (Object.entries(PLAIN_GATES).every(([k, v]) => g[k] === v) && !g.depth));
  const scaled = Boolean(scalers?.input || scalers?.target);
  if (plain && !scaled) return null;
  const meta = { format: METADATA_FORMAT };
  for (const k of METADATA_FIELDS.slice(1, -1)) meta[k] = config[k];
  meta.scalers = scaled ? scalers : null;
  return { [METADATA_KEY]: JSON.stringify(meta) };
}

/** The lstm-wasm metadata of a safetensors file, parsed and shape-checked, or null. */
function parseMetadata(metadata) {
  if (!metadata || !Object.hasOwn(metadata, METADATA_KEY)) return null;
  let meta;
  try {
    meta = JSON.parse(metadata[METADATA_KEY]);
  } catch (err) {
    throw new LstmError('ERR_FORMAT', `fromPyTorch: metadata '${METADATA_KEY}' is not valid JSON (${err.message})`);
  }
  const bad = (message) => { throw new LstmError('ERR_FORMAT', `fromPyTorch: metadata '${METADATA_KEY}': ${message}`); };
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) bad('expected a JSON object');
  if (!Number.isInteger(meta.format) || meta.format < 1) bad(`format is ${JSON.stringify(meta.format)}, not a version number`);
  if (meta.format > METADATA_FORMAT) bad(`format ${meta.format} is newer than this library's ${METADATA_FORMAT}; upgrade lstm-wasm to read it`);
  for (const k of Object.keys(meta)) if (!METADATA_FIELDS.includes(k)) bad(`unknown field '${k}'`);
  return meta;
}

/**
 * Everything Model.fromPyTorch needs from a state dict: the resolved
 * configuration, the parameters by lstm-wasm name, the state-dict prefixes
 * and the scalers. Sizes and the cell come from the tensors; the lstm-wasm
 * metadata (when the file has it) adds the cell variant, its switches, the
 * loss, returnSequences and the scaling, and must agree with the tensors
 * (ERR_FORMAT naming the conflict). `options` (Model.fromPyTorch's, without
 * the engine ones) must agree with both (ERR_OPTION).
 * @param {Uint8Array|ArrayBuffer|object} stateDict
 * @param {object} options
 * @param {(options: object) => object} resolve model.js's Model.create option resolver
 * @returns {{ config: object, params: Object<string, Float32Array>, names: { prefix: string, head: string },
 *   scalers: { input: object|null, target: object|null } }}
 */
export function importStateDict(stateDict, options, resolve) {
  const { tensors, metadata } = readStateDictFile(stateDict);
  const { config: inferred, params, names } = fromStateDict(tensors);
  const meta = parseMetadata(metadata);
  const conflict = (message) => { throw new LstmError('ERR_FORMAT', `fromPyTorch: metadata '${METADATA_KEY}' contradicts the tensors: ${message}`); };
  const fixed = { ...inferred };
  if (meta) {
    for (const k of SIZE_FIELDS) {
      if (meta[k] !== undefined && !same(meta[k], inferred[k])) conflict(`${k} ${JSON.stringify(meta[k])} in the metadata, ${JSON.stringify(inferred[k])} in the tensors`);
    }
    for (const k of META_ONLY_FIELDS) if (meta[k] !== undefined) fixed[k] = meta[k];
  }
  for (const k of Object.keys(fixed)) {
    const given = options[k];
    if (given === undefined || k === 'hiddenSize') continue;
    const from = meta && META_ONLY_FIELDS.includes(k) && meta[k] !== undefined ? "the file's metadata" : 'the weights';
    if (k === 'gates') {
      // without metadata the tensors fix only fullRecurrence; the caller's other switches are taken
      for (const [s, v] of Object.entries(given ?? {})) {
        affirm(fixed.gates?.[s] === undefined || fixed.gates[s] === v, 'ERR_OPTION',
          `fromPyTorch: gates.${s} ${v} disagrees with ${from} (${fixed.gates?.[s]})`);
      }
    } else {
      affirm(same(given, fixed[k]), 'ERR_OPTION', `fromPyTorch: ${k} ${JSON.stringify(given)} disagrees with ${from} (${JSON.stringify(fixed[k])})`);
    }
  }
  if (meta?.gates === undefined && fixed.gates && options.gates) fixed.gates = { ...options.gates, ...fixed.gates };
  if (meta) {
    try {
      resolve({ normalize: false, ...fixed });
    } catch (err) {
      throw new LstmError('ERR_FORMAT', `fromPyTorch: metadata '${METADATA_KEY}': ${err.message}`);
    }
  }
  const config = resolve({ normalize: false, ...options, ...fixed });
  // what the metadata says the cell is must be what the tensors hold
  if (family(config.cell) !== family(inferred.cell)) conflict(`cell '${config.cell}' in the metadata, ${family(inferred.cell).toUpperCase()} tensors`);
  const has = { peepholes: inferred.cell === 'peephole', fullRecurrence: Boolean(inferred.gates?.fullRecurrence), depth: Boolean(inferred.gates?.depth) };
  for (const [s, present] of Object.entries(has)) {
    const said = Boolean(config.gates?.[s]);
    affirm(meta || said === present, 'ERR_OPTION', `fromPyTorch: gates.${s} ${said} disagrees with the weights (they ${present ? 'have' : 'lack'} its tensors)`);
    if (said !== present) conflict(`gates.${s} is ${Boolean(config.gates?.[s])} in the metadata but the tensors ${present ? 'have' : 'lack'} its weights`);
  }
  const scalers = checkScalers(meta?.scalers, config, `fromPyTorch: metadata '${METADATA_KEY}'`);
  return { config, params, names, scalers };
}


// PyTorch state dicts <-> lstm-wasm parameters. Gate order needs no change:
// lstm-wasm keeps PyTorch's (LSTM i, f, g, o; GRU r, z, n) and its names
// (weight_ih_l0, …, weight_hh_l1_reverse; peepholes weight_peephole_l0). What this file adds: reading a state dict given as
// safetensors bytes or { name: { shape, data } }, finding the LSTM tensors
// under any prefix ("lstm."), inferring the sizes from their shapes, and
// taking the one Linear layer left over as the dense head.
import { LstmError, affirm } from '../errors.js';
import { decodeSafetensors } from './safetensors.js';

const LSTM_NAME = /^(.*?)(weight_ih|weight_hh|bias_ih|bias_hh|weight_peephole)_l(\d+)(_reverse)?$/;
const CELL_BY_GATES = { 4: 'lstm', 3: 'gru', 1: 'rnn' };

/** { name: { shape, data: Float32Array } } from safetensors bytes or a plain object. */
export function readStateDict(stateDict) {
  if (stateDict instanceof Uint8Array || stateDict instanceof ArrayBuffer) return decodeSafetensors(stateDict).tensors;
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
        affirm(p && p.shape.length === 1 && p.shape[0] === 3 * H, 'ERR_SHAPE', `fromPyTorch: weight_peephole_l${l}${sfx} must have shape [${3 * H}] (i, f, o)`);
        params[`weight_peephole_l${l}${sfx}`] = p.data;
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
      cell: peep ? 'peephole' : cell },
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

export { LstmError };

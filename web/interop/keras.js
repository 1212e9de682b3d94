// Keras / TF.js layers models <-> lstm-wasm. readKeras maps a Sequential
// model.json (TF.js's or Keras 3's layer configs) and its weight bytes onto
// an lstm-wasm model: LSTM, GRU (reset_after only), SimpleRNN, Bidirectional
// (concat), stacked, a Dense or TimeDistributed(Dense) head, Masking. Keras
// keeps one bias and transposed kernels, gate order i,f,c,o (LSTM), z,r,h (GRU).
// writeKeras gives a model.json and weights that tf.loadLayersModel loads.
import { LstmError } from '../errors.js';
import { reorderGates } from './gate-order.js';

const W = 'fromKeras';
const MAX_LAYERS = 64;
const MAX_VALUES = 1 << 26;
function refuse(message) {
  throw new LstmError('ERR_FORMAT', `${W}: ${message}`);
}
const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const RECURRENT = { LSTM: 'lstm', GRU: 'gru', SimpleRNN: 'rnn' };
const GATES = { lstm: 4, gru: 3, rnn: 1 };
const ACTIVATION_LOSS = { linear: null, softmax: 'softmax-cross-entropy', sigmoid: 'sigmoid-cross-entropy' };

/** The model.json as an object: parsed text, or the object itself. */
function parseJson(modelJson) {
  if (typeof modelJson === 'string') {
    try {
      return JSON.parse(modelJson);
    } catch (err) {
      return refuse(`model.json is not valid JSON (${err.message})`);
    }
  }
  if (!isObject(modelJson)) throw new LstmError('ERR_TYPE', `${W}: expected model.json as an object or text`);
  return modelJson;
}

/** The layer list of a Sequential topology (TF.js model.json, tf.io artifacts, or a Keras 3 config). */
function layersOf(json) {
  const topology = json.modelTopology ?? (json.class_name ? json : null);
  if (!isObject(topology)) refuse('no modelTopology (is this a TF.js layers model.json?)');
  const model = topology.model_config ?? topology;
  if (model.class_name !== 'Sequential') refuse(`a ${JSON.stringify(model.class_name)} model; lstm-wasm reads Sequential models (rebuild it with tf.sequential / keras.Sequential)`);
  const layers = model.config?.layers ?? model.config;
  if (!Array.isArray(layers)) refuse('the Sequential model has no layer list');
  if (layers.length > MAX_LAYERS) refuse(`${layers.length} layers; at most ${MAX_LAYERS}`);
  return layers;
}

/** The weight specs in manifest order and the one buffer holding their bytes. */
function weightsOf(json, weights) {
  let specs, groups = null;
  if (Array.isArray(json.weightsManifest)) {
    groups = json.weightsManifest;
    specs = groups.flatMap((g) => (isObject(g) && Array.isArray(g.weights) ? g.weights : refuse('a weightsManifest group without weights')));
  } else if (Array.isArray(json.weightSpecs)) {
    specs = json.weightSpecs;
  } else {
    refuse('no weightsManifest (or weightSpecs)');
  }
  let bytes;
  if (weights instanceof ArrayBuffer) bytes = new Uint8Array(weights);
  else if (weights instanceof Uint8Array) bytes = weights;
  else if (isObject(weights) || weights instanceof Map) {
    if (!groups) refuse('weights by path need a weightsManifest with paths');
    const get = (p) => (weights instanceof Map ? weights.get(p) : Object.hasOwn(weights, p) ? weights[p] : undefined);
    const parts = groups.flatMap((g) => (Array.isArray(g.paths) ? g.paths : refuse('a weightsManifest group without paths'))).map((p) => {
      const b = get(p);
      if (b === undefined) refuse(`weights: no bytes for '${p}' (the manifest lists it)`);
      if (b instanceof ArrayBuffer) return new Uint8Array(b);
      if (b instanceof Uint8Array) return b;
      return refuse(`weights['${p}'] is not a Uint8Array or ArrayBuffer`);
    });
    bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) bytes.set(p, at), at += p.length;
  } else {
    throw new LstmError('ERR_TYPE', `${W}: weights must be the weight files' bytes (concatenated in manifest order) or { path: bytes }`);
  }
  const tensors = [];
  let at = 0;
  for (const s of specs) {
    if (!isObject(s) || typeof s.name !== 'string' || !Array.isArray(s.shape)) refuse('a weight spec without name and shape');
    if (s.quantization) refuse(`weight '${s.name}' is quantized; save it without quantization`);
    if ((s.dtype ?? 'float32') !== 'float32') refuse(`weight '${s.name}' has dtype ${s.dtype}; float32 weights are read`);
    let n = 1;
    for (const d of s.shape) {
      if (!Number.isSafeInteger(d) || d < 0) refuse(`weight '${s.name}' has shape [${s.shape}]`);
      n *= d;
      if (n > MAX_VALUES) refuse(`weight '${s.name}' has more than ${MAX_VALUES} values`);
    }
    if (at + 4 * n > bytes.length) refuse(`the weights end at byte ${bytes.length}; '${s.name}' needs bytes ${at} to ${at + 4 * n}`);
    const view = new DataView(bytes.buffer, bytes.byteOffset + at, 4 * n);
    const data = Float32Array.from({ length: n }, (_, k) => view.getFloat32(4 * k, true));
    for (let k = 0; k < n; k++) if (!Number.isFinite(data[k])) throw new LstmError('ERR_NOT_FINITE', `${W}: ${s.name}[${k}] is ${data[k]}`);
    tensors.push({ name: s.name, shape: s.shape.slice(), data });
    at += 4 * n;
  }
  if (at !== bytes.length) refuse(`the weights have ${bytes.length} bytes; the manifest describes ${at}`);
  return tensors;
}

/** (rows, cols) row-major -> (cols, rows). */
function transpose(data, rows, cols) {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
  return out;
}

/**
 * Maps a Keras/TF.js Sequential model onto lstm-wasm.
 * @returns {{ config: object, loss: string|null, params: Object<string, Float32Array> }}
 */
export function readKeras(modelJson, weights) {
  const json = parseJson(modelJson);
  const layers = layersOf(json);
  const tensors = weightsOf(json, weights);
  let next = 0;
  const take = (layer, stem, shape) => {
    const t = tensors[next];
    if (!t) refuse(`layer '${layer}': the weights end before its ${stem}`);
    const last = t.name.split('/').pop().replace(/:\d+$/, '');
    if (last !== stem) refuse(`layer '${layer}': expected its ${stem} next, the weights have '${t.name}'`);
    if (t.shape.join() !== shape.join()) refuse(`layer '${layer}': ${t.name} has shape [${t.shape}], expected [${shape}]`);
    next++;
    return t;
  };
  let inputSize = null, cell = null, D = null, seqOut = null, head = null;
  const hidden = [], params = {};
  const inputWidth = (cfg) => {
    const shape = cfg.batch_input_shape ?? cfg.batch_shape ?? (cfg.input_shape ? [null, ...cfg.input_shape] : null);
    if (shape) {
      if (!Array.isArray(shape) || shape.length !== 3 || !Number.isInteger(shape[2]) || shape[2] < 1) refuse(`input shape ${JSON.stringify(shape)}; a sequence model takes [batch, steps, features]`);
      if (inputSize !== null && inputSize !== shape[2]) refuse(`input shapes disagree (${inputSize} and ${shape[2]} features)`);
      inputSize = shape[2];
    }
  };
  for (const [k, layer] of layers.entries()) {
    if (!isObject(layer) || typeof layer.class_name !== 'string' || !isObject(layer.config)) refuse(`layer ${k} has no class_name and config`);
    const cls = layer.class_name, cfg = layer.config, name = String(cfg.name ?? `#${k}`);
    if (cls === 'InputLayer') { inputWidth(cfg); continue; }
    if (cls === 'Masking') {
      if (hidden.length) refuse(`Masking layer '${name}' after a recurrent layer`);
      inputWidth(cfg);
      continue; // trailing masked steps are what lstm-wasm's lengths are: pass ragged sequences
    }
    if (cls === 'Dropout') continue; // no effect at inference
    if (head) refuse(`layer '${name}' (${cls}) after the Dense head; one Dense head is read`);
    if (cls in RECURRENT || cls === 'Bidirectional') {
      if (seqOut === false) refuse(`layer '${name}' reads a layer that returns no sequences (return_sequences false)`);
      let inner = layer, bidirectional = false;
      if (cls === 'Bidirectional') {
        if ((cfg.merge_mode ?? 'concat') !== 'concat') refuse(`Bidirectional layer '${name}': merge_mode '${cfg.merge_mode}'; only 'concat' is read`);
        if (cfg.backward_layer) refuse(`Bidirectional layer '${name}' has its own backward_layer`);
        inner = cfg.layer;
        if (!isObject(inner) || !(inner.class_name in RECURRENT) || !isObject(inner.config)) refuse(`Bidirectional layer '${name}' wraps a ${inner?.class_name}`);
        bidirectional = true;
      }
      inputWidth(cfg);
      if (inputSize === null) refuse(`layer '${name}': no input shape before it (give the first layer an input shape)`);
      const ic = inner.config, kind = RECURRENT[inner.class_name], G = GATES[kind], H = ic.units;
      if (!Number.isInteger(H) || H < 1 || H > 65536) refuse(`layer '${name}': units ${JSON.stringify(H)}`);
      const act = ic.activation ?? 'tanh';
      if (act !== 'tanh') refuse(`layer '${name}': activation '${act}'; the engine's ${inner.class_name} uses tanh`);
      if (kind !== 'rnn') {
        const ra = ic.recurrent_activation ?? 'not given';
        if (ra !== 'sigmoid') refuse(`layer '${name}': recurrent_activation '${ra}' (TF.js's default hardSigmoid) is not computed by the engine yet; build the layer with recurrentActivation: 'sigmoid'`);
      }
      for (const [flag, why] of [['go_backwards', 'a reversed-only layer'], ['stateful', 'state kept between batches'], ['return_state', 'states as outputs'], ['time_major', 'time-major input']]) {
        if (ic[flag]) refuse(`layer '${name}': ${flag} true (${why}) has no lstm-wasm form`);
      }
      if (kind === 'gru' && ic.reset_after !== true) {
        refuse(`GRU layer '${name}': reset_after false (the reset gate before the recurrent product, what TF.js writes) is not in the engine yet (planned); Keras's reset_after: true is read`);
      }
      const below = hidden.length ? (D ?? 1) * hidden[hidden.length - 1] : inputSize;
      if (cell && cell !== kind) refuse(`layer '${name}' is a ${inner.class_name} below which is a ${cell}; lstm-wasm's layers share one cell`);
      if (D !== null && D !== (bidirectional ? 2 : 1)) refuse(`layer '${name}': bidirectional and unidirectional layers mixed`);
      cell = kind, D = bidirectional ? 2 : 1;
      const l = hidden.length, useBias = ic.use_bias ?? true;
      for (let d = 0; d < D; d++) {
        const sfx = `_l${l}${d ? '_reverse' : ''}`, who = bidirectional ? `${name} (${d ? 'backward' : 'forward'})` : name;
        const kernel = take(who, 'kernel', [below, G * H]), rec = take(who, 'recurrent_kernel', [H, G * H]);
        if (bidirectional && !new RegExp(d ? 'backward' : 'forward').test(kernel.name)) refuse(`layer '${name}': '${kernel.name}' should be the ${d ? 'backward' : 'forward'} layer's`);
        let bias = null;
        if (useBias) bias = take(who, 'bias', kind === 'gru' ? [2, G * H] : [G * H]).data;
        // Keras LSTM i,f,c,o is PyTorch's i,f,g,o; GRU z,r,h -> r,z,n
        const order = (x, cols) => (kind === 'gru' ? reorderGates(x, H, 'zrn', 'rzn', cols) : x);
        params[`weight_ih${sfx}`] = order(transpose(kernel.data, below, G * H), below);
        params[`weight_hh${sfx}`] = order(transpose(rec.data, H, G * H), H);
        // one bias: all of it in bias_ih (GRU's reset_after bias has both halves)
        params[`bias_ih${sfx}`] = bias ? order(bias.subarray(0, G * H)) : new Float32Array(G * H);
        params[`bias_hh${sfx}`] = bias && kind === 'gru' ? order(bias.subarray(G * H)) : new Float32Array(G * H);
      }
      hidden.push(H);
      seqOut = Boolean(ic.return_sequences);
      continue;
    }
    let dense = layer, perStep = seqOut;
    if (cls === 'TimeDistributed') {
      dense = cfg.layer;
      if (!isObject(dense) || dense.class_name !== 'Dense' || !isObject(dense.config)) refuse(`TimeDistributed layer '${name}' wraps a ${dense?.class_name}; only Dense is read`);
      if (!seqOut) refuse(`TimeDistributed layer '${name}' after a layer that returns no sequences`);
    } else if (cls !== 'Dense') {
      refuse(`layer '${name}' is a ${cls}; lstm-wasm reads LSTM, GRU, SimpleRNN, Bidirectional, Dense, TimeDistributed(Dense), Masking, Dropout and InputLayer`);
    }
    if (!hidden.length) refuse(`Dense layer '${name}' before any recurrent layer`);
    const dc = dense.config, O = dc.units, act = dc.activation ?? 'linear';
    if (!Number.isInteger(O) || O < 1 || O > 65536) refuse(`Dense layer '${name}': units ${JSON.stringify(O)}`);
    if (!(act in ACTIVATION_LOSS)) refuse(`Dense layer '${name}': activation '${act}'; linear, softmax and sigmoid are read (they become the loss)`);
    const F = D * hidden[hidden.length - 1];
    const kernel = take(name, 'kernel', [F, O]);
    const bias = dc.use_bias ?? true ? take(name, 'bias', [O]).data : new Float32Array(O);
    params['head.weight'] = transpose(kernel.data, F, O);
    params['head.bias'] = bias;
    head = { O, perStep, loss: ACTIVATION_LOSS[act] };
  }
  if (!hidden.length) refuse('no LSTM, GRU or SimpleRNN layer');
  if (next !== tensors.length) refuse(`weights left over after the last layer: ${tensors.slice(next).map((t) => t.name).join(', ')}`);
  if (!head && !seqOut) refuse('the last recurrent layer returns no sequences and there is no Dense head: lstm-wasm has no output to give');
  const config = {
    inputSize, hiddenSize: hidden, layers: hidden.length, bidirectional: D === 2, cell,
    outputSize: head ? head.O : 0, returnSequences: head ? head.perStep : true,
  };
  return { config, loss: head?.loss ?? null, params };
}

export const FROM_KERAS_OPTIONS = ['loss', 'normalize', 'dropout', 'seed', 'simd', 'locateWasm', 'engine'];

/** What Model.fromKeras needs: resolved configuration, engine options, parameters (as importONNX). */
export function importKeras(modelJson, weights, options, resolve, checkOptions) {
  const o = checkOptions(options, FROM_KERAS_OPTIONS, 'Model.fromKeras');
  const { simd, locateWasm, engine, ...rest } = o;
  const { config, loss, params } = readKeras(modelJson, weights);
  if (loss && rest.loss !== undefined && rest.loss !== loss) {
    throw new LstmError('ERR_OPTION', `Model.fromKeras: loss '${rest.loss}' disagrees with the Dense head's activation (${loss})`);
  }
  const resolved = resolve({ normalize: false, ...rest, ...config, ...(loss ? { loss } : {}) });
  return { config: resolved, engine: { simd, locateWasm, engine }, params };
}

// ------------------------------------------------------------ writing

const KERAS_CLASS = { lstm: 'LSTM', gru: 'GRU', rnn: 'SimpleRNN' };
const LAYER_PREFIX = { lstm: 'lstm', gru: 'gru', rnn: 'simple_rnn' };

/**
 * { modelJson, weights } for a model: a TF.js layers model.json (weights in
 * one file, 'weights.bin') and its bytes. The scalers are folded into the
 * first layer's kernel and bias and into the head, so predictions match.
 */
export function writeKeras(config, params, scalers) {
  const cell = config.cell;
  const kind = { lstm: 'lstm', gru: 'gru', rnn: 'rnn' }[cell];
  const g = config.gates;
  const plain = !g || Object.entries({ input: true, forget: true, output: true, inputActivation: true, outputActivation: true, peepholes: false, coupled: false, fullRecurrence: false, originalSquashing: false }).every(([k, v]) => g[k] === v);
  if (!kind || !plain) {
    const off = g ? Object.keys(g).filter((k) => g[k] !== ({ peepholes: false, coupled: false, fullRecurrence: false, originalSquashing: false }[k] ?? true)) : [];
    throw new LstmError('ERR_FORMAT', `toKeras: cell '${cell}'${off.length ? ` (${off.join(', ')})` : ''} has no Keras layer; Keras has the plain LSTM, GRU and SimpleRNN`);
  }
  const G = GATES[kind], D = config.bidirectional ? 2 : 1;
  const layers = [], specs = [], chunks = [];
  const weight = (name, shape, data) => { specs.push({ name, shape, dtype: 'float32' }); chunks.push(Float32Array.from(data)); };
  for (let l = 0; l < config.layers; l++) {
    const H = config.hiddenSize[l], I = l === 0 ? config.inputSize : D * config.hiddenSize[l - 1];
    const name = `${LAYER_PREFIX[kind]}_l${l}`;
    const last = l === config.layers - 1;
    const inner = {
      class_name: KERAS_CLASS[kind],
      config: {
        name, trainable: true, units: H, activation: 'tanh', ...(kind === 'rnn' ? {} : { recurrent_activation: 'sigmoid' }), use_bias: true,
        dropout: 0, recurrent_dropout: 0, return_sequences: !last || config.returnSequences || !config.outputSize, return_state: false,
        go_backwards: false, stateful: false, unroll: false, ...(kind === 'gru' ? { reset_after: true } : {}),
        ...(l === 0 && D === 1 ? { batch_input_shape: [null, null, config.inputSize], dtype: 'float32' } : {}),
      },
    };
    const outer = D === 2 ? { class_name: 'Bidirectional', config: { name: `bidirectional_l${l}`, trainable: true, merge_mode: 'concat', layer: inner,
      ...(l === 0 ? { batch_input_shape: [null, null, config.inputSize], dtype: 'float32' } : {}) } } : inner;
    layers.push(outer);
    for (let d = 0; d < D; d++) {
      const sfx = `_l${l}${d ? '_reverse' : ''}`;
      const prefix = D === 2 ? `bidirectional_l${l}/${d ? 'backward' : 'forward'}_${name}` : name;
      const order = (x, cols) => (kind === 'gru' ? reorderGates(x, H, 'rzn', 'zrn', cols) : x);
      let wih = params[`weight_ih${sfx}`], bih = params[`bias_ih${sfx}`];
      const bhh = params[`bias_hh${sfx}`];
      if (l === 0 && scalers?.input) {
        // W (x - shift) / scale = (W / scale) x - W (shift / scale): the input scaling inside the first kernel
        const { shift, scale } = scalers.input;
        const w = new Float32Array(wih.length), b = Float32Array.from(bih);
        for (let r = 0; r < G * H; r++) {
          for (let i = 0; i < I; i++) {
            w[r * I + i] = wih[r * I + i] / scale[i];
            b[r] -= (wih[r * I + i] * shift[i]) / scale[i];
          }
        }
        wih = w, bih = b;
      }
      weight(`${prefix}/kernel`, [I, G * H], transpose(order(wih, I), G * H, I));
      weight(`${prefix}/recurrent_kernel`, [H, G * H], transpose(order(params[`weight_hh${sfx}`], H), G * H, H));
      if (kind === 'gru') {
        weight(`${prefix}/bias`, [2, G * H], [...order(bih), ...order(bhh)]);
      } else {
        const b = Float32Array.from(bih, (v, k) => v + bhh[k]); // one bias
        weight(`${prefix}/bias`, [G * H], b);
      }
    }
  }
  if (config.outputSize) {
    const O = config.outputSize, F = D * config.hiddenSize[config.layers - 1];
    const activation = { 'softmax-cross-entropy': 'softmax', 'sigmoid-cross-entropy': 'sigmoid' }[config.loss] ?? 'linear';
    let w = params['head.weight'], b = params['head.bias'];
    if (scalers?.target) {
      // (W f + b) · scale + shift: the output scaling inside the head
      const { shift, scale } = scalers.target;
      w = Float32Array.from(w, (v, k) => v * scale[Math.floor(k / F)]);
      b = Float32Array.from(b, (v, o) => v * scale[o] + shift[o]);
    }
    const dense = { class_name: 'Dense', config: { name: 'head', trainable: true, units: O, activation, use_bias: true } };
    const wrapped = config.returnSequences ? { class_name: 'TimeDistributed', config: { name: 'time_distributed_head', trainable: true, layer: dense } } : dense;
    layers.push(wrapped);
    const prefix = config.returnSequences ? 'time_distributed_head' : 'head';
    weight(`${prefix}/kernel`, [F, O], transpose(w, O, F));
    weight(`${prefix}/bias`, [O], b);
  }
  const bytes = new Uint8Array(chunks.reduce((n, c) => n + 4 * c.length, 0));
  let at = 0;
  for (const c of chunks) bytes.set(new Uint8Array(c.buffer), at), at += 4 * c.length;
  const modelJson = {
    format: 'layers-model', generatedBy: 'lstm-wasm', convertedBy: null,
    modelTopology: { class_name: 'Sequential', config: { name: 'sequential', layers }, keras_version: 'tfjs-layers 4.22.0', backend: 'tensor_flow.js' },
    weightsManifest: [{ paths: ['weights.bin'], weights: specs }],
  };
  return { modelJson, weights: bytes };
}

// web/interop/keras.js: Model.fromKeras of Sequential models built and saved
// by @tensorflow/tfjs (random weights, recurrentActivation 'sigmoid'), whose
// predictions must equal TF.js's own; toKeras models loaded back into TF.js
// with tf.loadLayersModel, same predictions; round trips for every cell
// Keras has (GRU with reset_after, which TF.js cannot load, round trips
// through fromKeras); refusals by name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { Model } from '../web/index.js';
import { LstmError } from '../web/errors.js';
import { readKeras } from '../web/interop/keras.js';
import { fixture, lcg, relErr } from './helpers.js';

const TOL = 1e-5;
const I = 3, B = 4, T = 6;
const x = (() => {
  const next = lcg(21);
  return { data: Float32Array.from({ length: B * T * I }, () => 2 * next() - 1), shape: [B, T, I] };
})();

/** A tf.Sequential from layer factories, with random weights in [-0.8, 0.8]. */
function build(layers, seed = 4) {
  const m = tf.sequential();
  for (const l of layers) m.add(l);
  const next = lcg(seed);
  m.setWeights(m.getWeights().map((w) => tf.tensor(Float32Array.from({ length: w.size }, () => 1.6 * next() - 0.8), w.shape)));
  return m;
}

async function saved(m) {
  let artifacts;
  await m.save(tf.io.withSaveHandler(async (a) => {
    artifacts = a;
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  // what model.json holds, and the one weights file
  const modelJson = { format: artifacts.format, generatedBy: artifacts.generatedBy, modelTopology: artifacts.modelTopology,
    weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: artifacts.weightSpecs }] };
  return { modelJson, weights: new Uint8Array(artifacts.weightData) };
}

const tfPredict = (m) => m.predict(tf.tensor(x.data, x.shape)).dataSync();
const ours = (model) => (model.config.outputSize ? model.predict(x).data : model.forward(x).output);

const lstm = (o) => tf.layers.lstm({ recurrentActivation: 'sigmoid', ...o });
const CASES = [
  ['LSTM + Dense', () => [lstm({ units: 5, inputShape: [null, I] }), tf.layers.dense({ units: 2 })]],
  ['stacked LSTM + TimeDistributed softmax', () => [lstm({ units: 4, returnSequences: true, inputShape: [null, I] }), lstm({ units: 3, returnSequences: true }),
    tf.layers.timeDistributed({ layer: tf.layers.dense({ units: 3, activation: 'softmax' }) })]],
  ['Bidirectional LSTM + Dense sigmoid', () => [tf.layers.bidirectional({ layer: lstm({ units: 4 }), mergeMode: 'concat', inputShape: [null, I] }),
    tf.layers.dense({ units: 2, activation: 'sigmoid' })]],
  ['Masking + stacked Bidirectional LSTM, per-step Dense', () => [tf.layers.masking({ maskValue: 0, inputShape: [null, I] }),
    tf.layers.bidirectional({ layer: lstm({ units: 3, returnSequences: true }) }), tf.layers.bidirectional({ layer: lstm({ units: 2, returnSequences: true }) }),
    tf.layers.dense({ units: 2 })]],
  ['SimpleRNN stacked, no head', () => [tf.layers.simpleRNN({ units: 4, returnSequences: true, inputShape: [null, I] }), tf.layers.simpleRNN({ units: 3, returnSequences: true })]],
  ['Bidirectional SimpleRNN + Dense softmax', () => [tf.layers.bidirectional({ layer: tf.layers.simpleRNN({ units: 4 }), inputShape: [null, I] }),
    tf.layers.dense({ units: 3, activation: 'softmax' })]],
];

test('fromKeras reads TF.js layers models and predicts what TF.js predicts (<= 1e-5 relative)', async () => {
  for (const [name, layers] of CASES) {
    const m = build(layers());
    const want = tfPredict(m);
    const { modelJson, weights } = await saved(m);
    for (const [form, args] of [['object + bytes', [modelJson, weights]], ['text + paths', [JSON.stringify(modelJson), { 'group1-shard1of1.bin': weights.buffer }]]]) {
      const model = await Model.fromKeras(...args);
      const err = relErr(ours(model), want);
      assert.ok(err <= TOL, `${name} (${form}): relative error ${err}`);
      model.dispose();
    }
    m.dispose();
  }
});

const EXPORTABLE = [
  { cell: 'lstm' },
  { cell: 'lstm', layers: 2, hiddenSize: [4, 3], returnSequences: true, loss: 'softmax-cross-entropy', outputSize: 3 },
  { cell: 'lstm', bidirectional: true, loss: 'sigmoid-cross-entropy' },
  { cell: 'lstm', bidirectional: true, layers: 2, returnSequences: true, outputSize: 0 },
  { cell: 'rnn', layers: 2 },
  { cell: 'rnn', bidirectional: true, returnSequences: true },
];

function randomize(model, seed = 5) {
  const next = lcg(seed);
  const p = model.parameters();
  for (const k of Object.keys(p)) p[k] = p[k].map(() => 1.6 * next() - 0.8);
  model.setParameters(p);
}

test('toKeras loads in TF.js (tf.loadLayersModel) with the same predictions, and reads back', async () => {
  for (const opts of EXPORTABLE) {
    const model = await Model.create({ inputSize: I, hiddenSize: 4, outputSize: 2, normalize: false, seed: 3, ...opts });
    randomize(model);
    const want = ours(model);
    const { modelJson, weights } = model.toKeras();
    const specs = modelJson.weightsManifest.flatMap((g) => g.weights);
    const loaded = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: modelJson.modelTopology, weightSpecs: specs, weightData: weights.slice().buffer }));
    const got = tfPredict(loaded);
    assert.ok(relErr(got, want) <= TOL, `${JSON.stringify(opts)}: TF.js vs predict ${relErr(got, want)}`);
    const back = await Model.fromKeras(modelJson, weights);
    assert.ok(relErr(ours(back), want) <= 1e-6, `${JSON.stringify(opts)}: fromKeras(toKeras) ${relErr(ours(back), want)}`);
    loaded.dispose();
    model.dispose();
    back.dispose();
  }
});

test('GRU round trips as Keras reset_after: true; a trained, scaled model exports to TF.js; an import fine-tunes', async () => {
  const gru = await Model.create({ inputSize: I, hiddenSize: 4, cell: 'gru', bidirectional: true, layers: 2, outputSize: 2, normalize: false });
  randomize(gru);
  const { modelJson, weights } = gru.toKeras();
  assert.equal(modelJson.modelTopology.config.layers[0].config.layer.config.reset_after, true);
  const back = await Model.fromKeras(modelJson, weights);
  assert.ok(relErr(ours(back), ours(gru)) <= 1e-6, 'GRU round trip');
  // the scalers folded into the kernel and the head
  const next = lcg(2);
  const xs = Array.from({ length: 16 }, () => Array.from({ length: T }, () => [next() * 5, next() * 5 - 2, next()]));
  const ys = xs.map((s) => s.reduce((a, [u, v]) => a + u * v, 0) + 30);
  const scaled = await Model.create({ inputSize: I, hiddenSize: 4, seed: 1 });
  await scaled.train(xs, ys, { epochs: 3 });
  const k = scaled.toKeras();
  const loaded = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: k.modelJson.modelTopology, weightSpecs: k.modelJson.weightsManifest[0].weights, weightData: k.weights.slice().buffer }));
  const xt = { data: Float32Array.from(xs.flat(2)), shape: [16, T, I] };
  const want = scaled.predict(xt).data;
  const got = loaded.predict(tf.tensor(xt.data, xt.shape)).dataSync();
  assert.ok(relErr(got, want) <= TOL, `scaled: TF.js vs predict ${relErr(got, want)}`);
  // imported from TF.js, trained here, exported again
  const imported = await Model.fromKeras(k.modelJson, k.weights);
  const h = await imported.train(xs, ys, { epochs: 3, learningRate: 0.01 });
  assert.ok(h.loss.at(-1) < h.loss[0], `loss ${h.loss}`);
  const again = imported.toKeras();
  const reloaded = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: again.modelJson.modelTopology, weightSpecs: again.modelJson.weightsManifest[0].weights, weightData: again.weights.slice().buffer }));
  const got2 = reloaded.predict(tf.tensor(xt.data, xt.shape)).dataSync();
  assert.ok(relErr(got2, imported.predict(xt).data) <= TOL, 'fine-tuned export');
  for (const m of [gru, back, scaled, imported]) m.dispose();
  loaded.dispose();
  reloaded.dispose();
});

const refused = async (fn, pattern) => assert.rejects(fn, (err) => err instanceof LstmError && err.code === 'ERR_FORMAT' && pattern.test(err.message),
  `expected ERR_FORMAT matching ${pattern}`);

test('fromKeras and toKeras refuse by name what they cannot hold', async () => {
  const cases = [
    [() => [tf.layers.lstm({ units: 3, inputShape: [null, I], name: 'enc' })], /layer 'enc'.*hardSigmoid.*recurrentActivation: 'sigmoid'/],
    [() => [tf.layers.gru({ units: 3, inputShape: [null, I], recurrentActivation: 'sigmoid' })], /reset_after false.*planned/],
    [() => [lstm({ units: 3, inputShape: [null, I], activation: 'relu', name: 'r' })], /layer 'r': activation 'relu'/],
    [() => [lstm({ units: 3, inputShape: [null, I], goBackwards: true })], /go_backwards/],
    [() => [tf.layers.bidirectional({ layer: lstm({ units: 3 }), mergeMode: 'sum', inputShape: [null, I] })], /merge_mode 'sum'/],
    [() => [lstm({ units: 3, inputShape: [null, I] }), tf.layers.dense({ units: 2, activation: 'relu', name: 'out' })], /Dense layer 'out': activation 'relu'/],
    [() => [lstm({ units: 3, inputShape: [null, I] }), tf.layers.dense({ units: 2 }), tf.layers.dense({ units: 2 })], /after the Dense head/],
    [() => [lstm({ units: 3, returnSequences: true, inputShape: [null, I] }), tf.layers.layerNormalization()], /LayerNormalization/],
  ];
  for (const [layers, pattern] of cases) {
    const m = build(layers());
    const { modelJson, weights } = await saved(m);
    await refused(() => Model.fromKeras(modelJson, weights), pattern);
    m.dispose();
  }
  // weights that do not fit the manifest
  const m = build(CASES[0][1]());
  const { modelJson, weights } = await saved(m);
  await refused(() => Model.fromKeras(modelJson, weights.subarray(0, weights.length - 4)), /the weights end|bytes/);
  await refused(() => Model.fromKeras(modelJson, new Uint8Array(weights.length + 4)), /the manifest describes/);
  await refused(() => Model.fromKeras(modelJson, { 'other.bin': weights }), /no bytes for 'group1-shard1of1.bin'/);
  await refused(() => Model.fromKeras('{"modelTopology": ', weights), /not valid JSON/);
  assert.throws(() => readKeras({ modelTopology: { class_name: 'Functional', config: {} }, weightsManifest: [] }, new Uint8Array(0)), /Functional.*Sequential/);
  m.dispose();
  for (const [opts, pattern] of [[{ cell: 'peephole' }, /peephole/], [{ cell: 'cifg' }, /coupled/], [{ cell: 'lstm', gates: { forget: false } }, /forget/]]) {
    const model = await Model.create({ inputSize: 2, hiddenSize: 3, ...opts });
    assert.throws(() => model.toKeras(), (err) => err instanceof LstmError && err.code === 'ERR_FORMAT' && pattern.test(err.message) && /toKeras/.test(err.message));
    model.dispose();
  }
});

/** PyTorch (G·H, cols) gate blocks named by `names` -> a Keras kernel (cols, G·H) with blocks in `order`. */
function kerasKernel(w, H, cols, names, order) {
  const out = new Array(cols * names.length * H).fill(0), GH = names.length * H;
  order.forEach((gate, k) => {
    const src = names.indexOf(gate);
    for (let j = 0; j < H; j++) for (let c = 0; c < cols; c++) out[c * GH + k * H + j] = w[(src * H + j) * cols + c];
  });
  return out;
}
function kerasBias(b, H, names, order) {
  return order.flatMap((gate) => b.slice(names.indexOf(gate) * H, (names.indexOf(gate) + 1) * H));
}

test('a Keras 3 GRU (reset_after: true, the TF2 default) made from PyTorch\'s GRU fixtures gives PyTorch\'s outputs', async () => {
  // Keras's GRU: kernel columns [z | r | h], bias (2, 3H) = [input; recurrent]; PyTorch's r, z, n.
  // Written out here by gate name, apart from keras.js's reorderGates, so a wrong order shows.
  const cases = fixture('pytorch_cases.json').cases.filter((c) => c.mode === 'GRU');
  assert.ok(cases.length >= 2);
  for (const c of cases) {
    const H = c.hidden_size, In = c.input_size, D = c.bidirectional ? 2 : 1;
    const specs = [], data = [];
    const dirs = D === 2 ? ['', '_reverse'] : [''];
    dirs.forEach((sfx, d) => {
      const p = (n) => c.params[`${n}_l0${sfx}`].data;
      const prefix = D === 2 ? `bidirectional/${d ? 'backward' : 'forward'}_gru/gru_cell` : 'gru/gru_cell';
      const rzn = ['r', 'z', 'n'], zrh = ['z', 'r', 'n'];
      specs.push({ name: `${prefix}/kernel`, shape: [In, 3 * H], dtype: 'float32' }, { name: `${prefix}/recurrent_kernel`, shape: [H, 3 * H], dtype: 'float32' },
        { name: `${prefix}/bias`, shape: [2, 3 * H], dtype: 'float32' });
      data.push(...kerasKernel(p('weight_ih'), H, In, rzn, zrh), ...kerasKernel(p('weight_hh'), H, H, rzn, zrh),
        ...kerasBias(p('bias_ih'), H, rzn, zrh), ...kerasBias(p('bias_hh'), H, rzn, zrh));
    });
    const gru = { module: 'keras.layers', class_name: 'GRU', config: { name: 'gru', units: H, activation: 'tanh', recurrent_activation: 'sigmoid',
      use_bias: true, reset_after: true, return_sequences: true, go_backwards: false, stateful: false, unroll: false } };
    const layer = D === 2 ? { module: 'keras.layers', class_name: 'Bidirectional', config: { name: 'bidirectional', merge_mode: 'concat', layer: gru } } : gru;
    const modelJson = { modelTopology: { module: 'keras', class_name: 'Sequential', config: { name: 'sequential', layers: [
      { module: 'keras.layers', class_name: 'InputLayer', config: { batch_shape: [null, null, In], dtype: 'float32', name: 'input_layer' } }, layer] } },
    weightsManifest: [{ paths: ['model.weights.bin'], weights: specs }] };
    const model = await Model.fromKeras(modelJson, new Uint8Array(Float32Array.from(data).buffer));
    const out = model.forward({ data: Float32Array.from(c.x), shape: [c.T, c.B, In] }, { timeMajor: true, h0: c.h0 });
    assert.ok(relErr(out.output, c.output) <= TOL, `${c.name}: ${relErr(out.output, c.output)}`);
    assert.ok(relErr(out.h, c.h_n) <= TOL, `${c.name} h_n: ${relErr(out.h, c.h_n)}`);
    model.dispose();
  }
});

test('hostile model.json: every field replaced by a wrong value gives an LstmError, never another error', async () => {
  const m = build([tf.layers.masking({ maskValue: 0, inputShape: [null, I] }), tf.layers.bidirectional({ layer: lstm({ units: 3, returnSequences: true }) }),
    tf.layers.timeDistributed({ layer: tf.layers.dense({ units: 2, activation: 'softmax' }) })]);
  const { modelJson, weights } = await saved(m);
  m.dispose();
  // every path into the JSON
  const paths = [];
  const walk = (v, path) => {
    paths.push(path);
    if (v && typeof v === 'object') for (const k of Object.keys(v)) walk(v[k], [...path, k]);
  };
  walk(modelJson, []);
  const WRONG = [null, -1, 0, 1.5, 1e12, 'x', '', true, {}, [], [null], { class_name: 'LSTM' }];
  let refusedCount = 0;
  for (const path of paths.slice(1)) {
    for (const bad of WRONG) {
      const j = structuredClone(modelJson);
      let at = j;
      for (const k of path.slice(0, -1)) at = at[k];
      at[path.at(-1)] = bad;
      try {
        readKeras(j, weights);
      } catch (err) {
        assert.ok(err instanceof LstmError, `${path.join('.')} = ${JSON.stringify(bad)}: ${err.stack}`);
        refusedCount++;
      }
    }
  }
  assert.ok(refusedCount > 100, `${refusedCount} refusals`);
});

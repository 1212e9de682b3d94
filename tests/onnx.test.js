// web/interop/onnx.js: Model.fromONNX of the files torch.onnx.export writes
// (tests/fixtures/make_onnx.py, random weights, PyTorch's float64 outputs),
// toONNX graphs run in ONNX Runtime (onnxruntime-node) against predict() for
// every cell ONNX can express (peepholes and input_forget included), round
// trips, fine-tuning an imported model, refusals by name, and hostile bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { Model } from '../web/index.js';
import { LstmError } from '../web/errors.js';
import { MODEL, readONNX } from '../web/interop/onnx.js';
import { decodeMessage, encodeMessage } from '../web/interop/protobuf.js';
import { bits, fixture, lcg, relErr } from './helpers.js';

const CASES = fixture('onnx/cases.json').cases;
const TOL = 1e-5;

function inputs(I, B = 3, T = 5, seed = 3) {
  const next = lcg(seed);
  return { data: Float32Array.from({ length: B * T * I }, () => 2 * next() - 1), shape: [B, T, I] };
}

/** Random weights in [-0.8, 0.8] for every parameter (a wrong gate order cannot hide). */
function randomize(model, seed = 5) {
  const next = lcg(seed);
  const p = model.parameters();
  for (const k of Object.keys(p)) p[k] = p[k].map(() => 1.6 * next() - 0.8);
  model.setParameters(p);
}

async function runORT(bytes, x) {
  const session = await ort.InferenceSession.create(bytes);
  const out = await session.run({ input: new ort.Tensor('float32', x.data, x.shape) });
  return out.output.data;
}

const refused = (fn, pattern) => assert.throws(fn, (err) => err instanceof LstmError && err.code === 'ERR_FORMAT' && pattern.test(err.message),
  `expected ERR_FORMAT matching ${pattern}`);

test('fromONNX reads what torch.onnx.export writes and gives PyTorch\'s outputs (<= 1e-5 relative)', async () => {
  for (const c of CASES) {
    const model = await Model.fromONNX(fixture(`onnx/${c.name}.onnx`));
    const cfg = model.config;
    assert.equal(cfg.cell, c.mode.toLowerCase(), c.name);
    assert.equal(cfg.layers, c.num_layers, c.name);
    assert.equal(cfg.bidirectional, c.bidirectional, c.name);
    assert.deepEqual(cfg.hiddenSize, new Array(c.num_layers).fill(c.hidden_size), c.name);
    assert.equal(cfg.outputSize, c.output_size, c.name);
    assert.equal(cfg.loss, { softmax: 'softmax-cross-entropy', sigmoid: 'sigmoid-cross-entropy' }[c.activation] ?? 'mse', c.name);
    const x = { data: Float32Array.from(c.x), shape: [c.B, c.T, c.input_size], ...(c.lengths ? { lengths: c.lengths } : {}) };
    const got = c.output_size ? model.predict(x).data : model.forward(x).output;
    const err = relErr(got, c.y);
    assert.ok(err <= TOL, `${c.name}: relative error ${err}`);
    model.dispose();
  }
});

const EXPORTABLE = [
  { cell: 'lstm' },
  { cell: 'lstm', bidirectional: true, hiddenSize: [4, 3], layers: 2, loss: 'softmax-cross-entropy', outputSize: 3 },
  { cell: 'peephole', returnSequences: true },
  { cell: 'peephole', bidirectional: true, layers: 2, loss: 'sigmoid-cross-entropy' },
  { cell: 'cifg' },
  { cell: 'cifg', bidirectional: true, returnSequences: true, outputSize: 0 },
  { cell: 'cifg', gates: { peepholes: true }, loss: 'softmax-cross-entropy', outputSize: 3 },
  { cell: 'lstm', gates: { coupled: true, peepholes: true }, layers: 2, returnSequences: true },
  { cell: 'gru' },
  { cell: 'gru', bidirectional: true, layers: 2, returnSequences: true, loss: 'sigmoid-cross-entropy' },
  { cell: 'rnn', layers: 2 },
  { cell: 'rnn', bidirectional: true, loss: 'softmax-cross-entropy', outputSize: 4 },
];

test('toONNX runs in ONNX Runtime with predict()\'s outputs, and fromONNX gives the same parameters back', async () => {
  for (const opts of EXPORTABLE) {
    const model = await Model.create({ inputSize: 3, hiddenSize: 4, outputSize: 2, seed: 9, normalize: false, ...opts });
    randomize(model);
    const x = inputs(3);
    const bytes = model.toONNX();
    const want = model.config.outputSize ? model.predict(x).data : model.forward(x).output;
    const ortOut = await runORT(bytes, x);
    assert.ok(relErr(ortOut, want) <= TOL, `${JSON.stringify(opts)}: ORT vs predict ${relErr(ortOut, want)}`);
    // the graphs with P and input_forget, read back: ORT's outputs again
    const back = await Model.fromONNX(bytes);
    const got = back.config.outputSize ? back.predict(x).data : back.forward(x).output;
    assert.ok(relErr(got, ortOut) <= TOL, `${JSON.stringify(opts)}: fromONNX vs ORT ${relErr(got, ortOut)}`);
    // the cell's name may change (lstm with coupled + peepholes comes back as cifg + peepholes): the switches may not
    const { seed, dropout, forgetBias, cell, ...cfg } = model.config;
    const { seed: s2, dropout: d2, forgetBias: f2, cell: cell2, ...cfg2 } = back.config;
    assert.deepEqual(cfg2, cfg, JSON.stringify(opts));
    if (!cfg.gates) assert.equal(cell2, cell);
    const p = model.parameters(), q = back.parameters();
    for (const k of Object.keys(p)) {
      // CIFG: the forget rows are unused on both sides; everything else exactly as written
      assert.deepEqual(bits(q[k]), bits(p[k]), `${JSON.stringify(opts)}: ${k}`);
    }
    model.dispose();
    back.dispose();
  }
});

test('toONNX carries a trained regression model\'s scalers; an imported model fine-tunes and exports again', async () => {
  const model = await Model.fromONNX(fixture('onnx/lstm_stacked.onnx'), { seed: 3 });
  const next = lcg(8);
  const xs = Array.from({ length: 24 }, () => Array.from({ length: 6 }, () => [next() * 4, next() * 4]));
  const ys = xs.map((s) => s.reduce((a, [u, v]) => a + u - v, 0) * 10 + 50);
  const before = model.evaluate(xs, ys).loss;
  const history = await model.train(xs, ys, { epochs: 5, learningRate: 0.01, seed: 1 });
  assert.ok(history.loss.at(-1) < history.loss[0], `loss ${history.loss}`);
  assert.notEqual(model.evaluate(xs, ys).loss, before);
  const x = { data: Float32Array.from(xs.flat(2)), shape: [24, 6, 2] };
  const want = model.predict(x).data;
  const got = await runORT(model.toONNX(), x);
  assert.ok(relErr(got, want) <= TOL, `fine-tuned: ORT vs predict ${relErr(got, want)}`);
  // a model with fitted scalers: the graph scales the input and unscales the output
  const scaled = await Model.create({ inputSize: 2, hiddenSize: 3, normalize: 'zscore', seed: 2 });
  await scaled.train(xs, ys, { epochs: 2 });
  const want2 = scaled.predict(x).data;
  const got2 = await runORT(scaled.toONNX(), x);
  assert.ok(relErr(got2, want2) <= TOL, `scaled: ORT vs predict ${relErr(got2, want2)}`);
  // and read back: the scalers come back too, so predict() is the same in the targets' units
  const back = await Model.fromONNX(scaled.toONNX());
  assert.equal(back.config.normalize, 'zscore');
  assert.ok(relErr(back.predict(x).data, want2) <= 1e-6, 'scaled: fromONNX vs predict');
  back.dispose();
  model.dispose();
  scaled.dispose();
});

test('toONNX refuses by name the cells ONNX cannot express', async () => {
  for (const [opts, pattern] of [
    [{ cell: 'lstm1997' }, /forget gate/],
    [{ cell: 'lstm', gates: { input: false } }, /input gate/],
    [{ cell: 'lstm', gates: { output: false } }, /output gate/],
    [{ cell: 'lstm', gates: { inputActivation: false } }, /candidate/],
    [{ cell: 'lstm', gates: { outputActivation: false } }, /cell output/],
    [{ cell: 'lstm', gates: { fullRecurrence: true } }, /gate-to-gate/],
    [{ cell: 'lstm', gates: { originalSquashing: true } }, /1997 squashing/],
  ]) {
    const model = await Model.create({ inputSize: 2, hiddenSize: 3, ...opts });
    assert.throws(() => model.toONNX(), (err) => err instanceof LstmError && err.code === 'ERR_FORMAT' && pattern.test(err.message) && /toONNX/.test(err.message));
    model.dispose();
  }
});

/** A torch file taken apart, changed by `edit`, put together again. */
function edited(name, edit) {
  const m = decodeMessage(fixture(`onnx/${name}.onnx`), MODEL, 'test');
  edit(m.graph, m);
  return encodeMessage(m, MODEL);
}
const rnnNode = (g) => g.node.find((n) => ['LSTM', 'GRU', 'RNN'].includes(n.opType));
const setAttr = (node, a) => { node.attribute = node.attribute.filter((x) => x.name !== a.name).concat(a); };
const str = (s) => new TextEncoder().encode(s);

test('fromONNX refuses by name what would compute other numbers', () => {
  const cases = [
    ['lstm_bf', (g) => setAttr(rnnNode(g), { name: 'direction', type: 3, s: str('reverse') }), /direction 'reverse'/],
    ['gru_bf', (g) => setAttr(rnnNode(g), { name: 'linear_before_reset', type: 2, i: 0 }), /linear_before_reset 0.*planned/],
    ['lstm_bf', (g) => setAttr(rnnNode(g), { name: 'clip', type: 1, f: 3 }), /clip/],
    ['lstm_bf', (g) => setAttr(rnnNode(g), { name: 'activations', type: 8, strings: ['Sigmoid', 'Relu', 'Tanh'].map(str) }), /activations \[Sigmoid,Relu,Tanh\]/],
    ['lstm_bf', (g) => setAttr(rnnNode(g), { name: 'layout', type: 2, i: 1 }), /layout 1/],
    ['lstm_bf', (g) => setAttr(rnnNode(g), { name: 'frobnicate', type: 2, i: 1 }), /attribute 'frobnicate'/],
    ['lstm_bf', (g) => { g.node.at(-1).opType = 'Mul'; }, /op Mul/],
    ['lstm_tm_last', (g) => { g.node.at(-1).opType = 'LogSoftmax'; }, /LogSoftmax/],
    ['lstm_bf', (g) => { g.node.at(-1).domain = 'com.microsoft'; }, /com\.microsoft/],
    ['lstm_bf', (g) => { rnnNode(g).input[1] = 'nowhere'; }, /'nowhere'/],
    ['lstm_bf', (g) => { g.initializer = []; }, /no earlier node, input or initializer/],
    ['lstm_bf', (g) => { g.initializer.push({ name: 'h0', dims: [1, 1, 5], dataType: 1, floatData: [0, 0, 1, 0, 0] }); rnnNode(g).input[5] = 'h0'; }, /initial_h is not zero/],
    ['lstm_stacked', (g) => { setAttr(rnnNode(g), { name: 'linear_before_reset', type: 2, i: 1 }); rnnNode(g).opType = 'GRU'; }, /GRU layer 0: W has 16 rows, hidden_size 4/],
    ['lstm_bidir_stacked', (g) => { g.node.filter((n) => n.opType === 'Gather').at(-1).opType = 'Identity'; }, /Concat|layer 1 (forward|reverse)|final states/],
  ];
  for (const [name, edit, pattern] of cases) refused(() => readONNX(edited(name, edit)), pattern);
});

test('hostile ONNX bytes: ERR_FORMAT (or ERR_NOT_FINITE for a flipped weight), never another error', () => {
  const file = fixture('onnx/lstm_bidir_stacked.onnx');
  const ok = (fn, what) => {
    try {
      fn();
    } catch (err) {
      assert.ok(err instanceof LstmError && ['ERR_FORMAT', 'ERR_NOT_FINITE'].includes(err.code), `${what}: ${err.stack}`);
      return err.code;
    }
    return null;
  };
  // every truncation
  let refusedCount = 0;
  for (let n = 0; n < file.length; n++) if (ok(() => readONNX(file.subarray(0, n)), `truncated to ${n}`) === 'ERR_FORMAT') refusedCount++;
  assert.ok(refusedCount > file.length * 0.9, `${refusedCount} of ${file.length} truncations refused`);
  // seeded byte changes
  const next = lcg(77);
  for (let k = 0; k < 3000; k++) {
    const b = file.slice();
    for (let j = 0; j < 1 + (k % 3); j++) b[Math.floor(next() * b.length)] = Math.floor(next() * 256);
    ok(() => readONNX(b), `mutation ${k}`);
  }
  // a length that claims 2^62 bytes, a 64-bit field at the end, a group wire type, an endless varint, not bytes
  refused(() => readONNX(Uint8Array.of(0x3a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x3f)), /runs past the end/);
  refused(() => readONNX(Uint8Array.of(0x39, 1, 2)), /64-bit field runs past/);
  refused(() => readONNX(Uint8Array.of(0x3b)), /wire type 3/);
  refused(() => readONNX(new Uint8Array(12).fill(0xff)), /varint/);
  refused(() => readONNX(Uint8Array.of(0x38, 1)), /graph has wire type 0/);
  refused(() => readONNX(new Uint8Array(0)), /no graph/);
  // a weight tensor whose dims do not match its data, or that claims a huge size
  refused(() => readONNX(edited('lstm_bf', (g) => { g.initializer[0].dims = [4096, 4096, 4096]; })), /more than/);
  refused(() => readONNX(edited('lstm_bf', (g) => { g.initializer[0].dims = [g.initializer[0].dims[0] + 1]; })), /bytes of raw data|values/);
  refused(() => readONNX(edited('lstm_bf', (g) => { g.initializer[0].dataType = 10; })), /data type 10/);
  assert.throws(() => readONNX('not bytes'), (err) => err instanceof LstmError && err.code === 'ERR_TYPE');
});

test('fromONNX reads the project\'s older torch export (lstm_bidir.onnx, opset 14) with its y, h_n and c_n', async () => {
  const f = fixture('lstm_bidir.json');
  const model = await Model.fromONNX(fixture('lstm_bidir.onnx'));
  assert.equal(model.config.bidirectional, true);
  const [T, Bn, In] = f.x_shape;
  const out = model.forward({ data: Float32Array.from(f.x), shape: [T, Bn, In] }, { timeMajor: true });
  for (const [got, want, what] of [[out.output, f.y, 'y'], [out.h, f.h_n, 'h_n'], [out.c, f.c_n, 'c_n']]) {
    assert.ok(relErr(got, want) <= TOL, `${what}: ${relErr(got, want)}`);
  }
  model.dispose();
});

test('hostile ONNX fields: each field of a torch file replaced by a wrong value gives an LstmError, never another error', () => {
  const model = decodeMessage(fixture('onnx/gru_bidir_stacked.onnx'), MODEL, 'test');
  const paths = [];
  const walk = (v, path) => {
    paths.push(path);
    if (v && typeof v === 'object' && !(v instanceof Uint8Array)) for (const k of Object.keys(v)) walk(v[k], [...path, k]);
  };
  walk(model, []);
  const WRONG = [-1, 0, 7, 2 ** 40, 'x', ''];
  const next = lcg(5);
  let refusedCount = 0, tried = 0;
  for (const path of paths.slice(1)) {
    if (next() > 0.35) continue; // a third of the ~2000 paths keeps the test quick
    const j = structuredClone(model);
    let at = j;
    for (const k of path.slice(0, -1)) at = at[k];
    const old = at[path.at(-1)];
    // a value of the field's own kind, so the file still encodes
    const bad = typeof old === 'string' ? WRONG[4 + (tried % 2)] : typeof old === 'number' ? WRONG[tried % 4] : null;
    if (bad === null) continue;
    at[path.at(-1)] = bad;
    tried++;
    try {
      readONNX(encodeMessage(j, MODEL));
    } catch (err) {
      assert.ok(err instanceof LstmError, `${path.join('.')} = ${JSON.stringify(bad)}: ${err.stack}`);
      refusedCount++;
    }
  }
  assert.ok(tried > 100 && refusedCount > tried / 3, `${refusedCount} of ${tried} refused`);
});

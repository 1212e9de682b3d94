// web/interop/pytorch.js: toSafetensors() -> fromPyTorch() gives back the same
// model, for every cell and every Greff switch (the "lstm-wasm" metadata carries
// what the tensor names cannot say), with full gate recurrence, and with a
// regression model's scaling; metadata that contradicts the tensors, or options
// that contradict the metadata, are refused. PyTorch's own files (no metadata)
// are covered by pytorch.test.js.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Model } from '../web/index.js';
import { LstmError } from '../web/errors.js';
import { decodeSafetensors, encodeSafetensors } from '../web/interop/safetensors.js';
import { METADATA_KEY } from '../web/interop/pytorch.js';
import { bits, lcg } from './helpers.js';

const SEED = 11;
// sizes above 1: a one-column matrix comes out as a vector (the C tensor table's fix, issue 10)
const SIZES = { inputSize: 3, hiddenSize: [4, 2], outputSize: 2 };
const SWITCHES = [{ input: false }, { forget: false }, { output: false }, { inputActivation: false }, { outputActivation: false },
  { peepholes: true }, { coupled: true }, { fullRecurrence: true }, { originalSquashing: true }];

function inputs(I, B = 3, T = 5, seed = 3) {
  const next = lcg(seed);
  return { data: Float32Array.from({ length: B * T * I }, () => 2 * next() - 1), shape: [B, T, I] };
}

// What a file fixes: seed and dropout are the importer's; normalize too when the file has no metadata.
function semantic({ seed, dropout, normalize, ...rest }, bytes) {
  return decodeSafetensors(bytes).metadata ? { ...rest, normalize } : rest;
}

async function roundTrip(options) {
  const model = await Model.create({ ...SIZES, seed: SEED, ...options });
  const bytes = model.toSafetensors();
  const back = await Model.fromPyTorch(bytes);
  const x = inputs(model.config.inputSize);
  assert.deepEqual(semantic(back.config, bytes), semantic(model.config, bytes), JSON.stringify(options));
  assert.deepEqual(bits(back.predict(x).data), bits(model.predict(x).data), `predictions differ: ${JSON.stringify(options)}`);
  assert.deepEqual(back.toSafetensors(), bytes, `the re-export differs: ${JSON.stringify(options)}`);
  return { model, back, bytes };
}

test('every cell comes back from its own safetensors file as the same cell, with the same predictions', async () => {
  for (const cell of ['lstm', 'peephole', 'lstm1997', 'cifg', 'gru', 'rnn']) {
    for (const bidirectional of [false, true]) {
      const { model, back, bytes } = await roundTrip({ cell, bidirectional });
      const { metadata } = decodeSafetensors(bytes);
      // only what the names cannot say needs metadata: plain cells write PyTorch's bytes
      assert.equal(metadata !== null, cell === 'lstm1997' || cell === 'cifg', `${cell}: metadata ${JSON.stringify(metadata)}`);
      model.dispose(), back.dispose();
    }
  }
});

test('every Greff et al. switch comes back from the safetensors file, with the same predictions', async () => {
  for (const gates of SWITCHES) {
    const { model, back } = await roundTrip({ gates });
    model.dispose(), back.dispose();
  }
  const { model, back } = await roundTrip({ cell: 'cifg', gates: { fullRecurrence: true, peepholes: true, outputActivation: false }, bidirectional: true });
  model.dispose(), back.dispose();
});

test('a fullRecurrence model re-imports its own file, weight_gate_recurrence included', async () => {
  const { model, back, bytes } = await roundTrip({ gates: { fullRecurrence: true } });
  const { tensors, metadata } = decodeSafetensors(bytes);
  assert.deepEqual(tensors['lstm.weight_gate_recurrence_l1'].shape, [6, 6]);
  assert.equal(metadata, null, 'the tensor names say it all');
  assert.deepEqual(back.parameters(), model.parameters());
  model.dispose(), back.dispose();
});

/** A regression model of a series around 1000, trained with automatic scaling (zscore). */
async function seriesModel(normalize) {
  const model = await Model.create({ inputSize: 2, hiddenSize: 4, seed: SEED, ...(normalize ? { normalize } : {}) });
  const next = lcg(5);
  const x = Array.from({ length: 16 }, () => Array.from({ length: 6 }, () => [1000 + 20 * next(), 3 * next()]));
  await model.train(x, x.map((s) => s[5][0] + s[5][1]), { epochs: 2 });
  return { model, x };
}

test("a regression model's scaling survives toSafetensors: the same predictions, around 1000", async () => {
  for (const normalize of [undefined, 'minmax']) {
    const { model, x } = await seriesModel(normalize);
    const bytes = model.toSafetensors();
    const back = await Model.fromPyTorch(bytes);
    const want = model.predict(x), got = back.predict(x);
    assert.ok(want.every((y) => y > 900 && y < 1100), `predictions ${want.slice(0, 3)}`);
    assert.deepEqual(bits(got), bits(want));
    assert.deepEqual(semantic(back.config, bytes), semantic(model.config, bytes));
    assert.equal(back.config.normalize, model.config.normalize);
    assert.deepEqual(back.toSafetensors(), bytes);
    model.dispose(), back.dispose();
  }
});

test('the README recipe: a PyTorch user applies the scalers by hand and gets the same predictions', async () => {
  const { model, x } = await seriesModel();
  const { tensors, metadata } = decodeSafetensors(model.toSafetensors());
  const { scalers } = JSON.parse(metadata[METADATA_KEY]);
  const raw = await Model.fromPyTorch(encodeSafetensors(tensors)); // the bare weights, as load_state_dict sees them
  // inputs (x - shift) / scale, outputs y * scale + shift, in float32 as lstm-wasm stores them
  const scaled = x.map((s) => s.map((v) => v.map((value, i) => Math.fround(Math.fround(value - scalers.input.shift[i]) / scalers.input.scale[i]))));
  const y = raw.predict(scaled).map((v) => Math.fround(Math.fround(v * scalers.target.scale[0]) + scalers.target.shift[0]));
  const want = model.predict(x);
  for (let b = 0; b < want.length; b++) assert.ok(Math.abs(y[b] - want[b]) <= 1e-4 * Math.abs(want[b]), `${b}: ${y[b]} vs ${want[b]}`);
  model.dispose(), raw.dispose();
});

function fails(promise, code, pattern) {
  return assert.rejects(promise, (err) => {
    assert.ok(err instanceof LstmError, `expected LstmError, got ${err?.name}: ${err?.message}`);
    assert.equal(err.code, code, err.message);
    assert.match(err.message, pattern);
    return true;
  });
}

test('metadata that contradicts the tensors is refused, naming the conflict', async () => {
  const model = await Model.create({ ...SIZES, cell: 'cifg', seed: SEED });
  const { tensors, metadata } = decodeSafetensors(model.toSafetensors());
  const meta = JSON.parse(metadata[METADATA_KEY]);
  const withMeta = (edit) => encodeSafetensors(tensors, { [METADATA_KEY]: typeof edit === 'string' ? edit : JSON.stringify(edit({ ...meta })) });
  const cases = [
    [withMeta((m) => ({ ...m, cell: 'gru', gates: null })), /contradicts the tensors: cell 'gru' in the metadata, LSTM tensors/],
    [withMeta((m) => ({ ...m, gates: { ...m.gates, fullRecurrence: true } })), /gates\.fullRecurrence is true in the metadata but the tensors lack its weights/],
    [withMeta((m) => ({ ...m, cell: 'lstm', gates: { ...m.gates, peepholes: true } })), /gates\.peepholes is true in the metadata but the tensors lack/],
    [withMeta((m) => ({ ...m, hiddenSize: [4, 3] })), /hiddenSize \[4,3\] in the metadata, \[4,2\] in the tensors/],
    [withMeta((m) => ({ ...m, bidirectional: true })), /bidirectional true in the metadata, false in the tensors/],
    [withMeta((m) => ({ ...m, outputSize: 1 })), /outputSize 1 in the metadata, 2 in the tensors/],
    [withMeta((m) => ({ ...m, cell: 'cifg', gates: { ...m.gates, forget: false } })), /metadata 'lstm-wasm': .*forget/],
    [withMeta((m) => ({ ...m, cell: 'weird' })), /metadata 'lstm-wasm': cell must be one of/],
    [withMeta((m) => ({ ...m, loss: 'mse', scalers: { input: { mode: 'zscore', shift: [0, 0, 0], scale: [1, 1, 0] }, target: { mode: 'zscore', shift: [0, 0], scale: [1, 1] } } })),
      /bad scaler: scalers\.input: scale\[2\] is 0/],
    [withMeta((m) => ({ ...m, loss: 'softmax-cross-entropy', normalize: false, scalers: { input: { mode: 'zscore', shift: [0, 0, 0], scale: [1, 1, 1] }, target: { mode: 'zscore', shift: [0, 0], scale: [1, 1] } } })),
      /a softmax-cross-entropy model takes no scaling/],
    [withMeta((m) => ({ ...m, format: 2 })), /format 2 is newer than this library's 1; upgrade lstm-wasm/],
    [withMeta((m) => ({ ...m, format: '1' })), /format is "1", not a version number/],
    [withMeta((m) => ({ ...m, colour: 'red' })), /unknown field 'colour'/],
    [withMeta('{"format":1,'), /metadata 'lstm-wasm' is not valid JSON/],
    [withMeta('[1]'), /expected a JSON object/],
  ];
  for (const [bytes, pattern] of cases) await fails(Model.fromPyTorch(bytes), 'ERR_FORMAT', pattern);
  // the caller's options must agree with the metadata as with the weights
  const good = withMeta((m) => m);
  await fails(Model.fromPyTorch(good, { cell: 'lstm' }), 'ERR_OPTION', /cell "lstm" disagrees with the file's metadata \("cifg"\)/);
  await fails(Model.fromPyTorch(good, { loss: 'mae' }), 'ERR_OPTION', /loss "mae" disagrees with the file's metadata \("mse"\)/);
  await fails(Model.fromPyTorch(good, { gates: { coupled: false } }), 'ERR_OPTION', /gates\.coupled false disagrees with the file's metadata \(true\)/);
  const ok = await Model.fromPyTorch(good, { loss: 'mse', dropout: 0.1 });
  assert.equal(ok.config.cell, 'cifg');
  // other keys than lstm-wasm's are someone else's: ignored
  const foreign = await Model.fromPyTorch(encodeSafetensors(tensors, { format: 'pt' }), { gates: { coupled: true } });
  assert.deepEqual(foreign.parameters(), model.parameters());
  ok.dispose(), foreign.dispose(), model.dispose();
});

test('switches the weights cannot have are refused for a file without metadata', async () => {
  const model = await Model.create({ ...SIZES, seed: SEED });
  await fails(Model.fromPyTorch(model.toSafetensors(), { gates: { fullRecurrence: true } }), 'ERR_OPTION',
    /gates\.fullRecurrence true disagrees with the weights \(they lack its tensors\)/);
  const fgr = await Model.create({ ...SIZES, seed: SEED, gates: { fullRecurrence: true } });
  await fails(Model.fromPyTorch(fgr.toSafetensors(), { gates: { fullRecurrence: false } }), 'ERR_OPTION', /gates\.fullRecurrence false disagrees with the weights/);
  // the caller's other switches join the one the tensors fix
  const both = await Model.fromPyTorch(fgr.toSafetensors(), { gates: { coupled: true } });
  assert.equal(both.config.gates.coupled && both.config.gates.fullRecurrence, true);
  model.dispose(), fgr.dispose(), both.dispose();
});

test('inputSize 1 and hiddenSize 1 round-trip through safetensors', async () => {
  const model = await Model.create({ inputSize: 1, hiddenSize: 1, seed: SEED });
  const back = await Model.fromPyTorch(model.toSafetensors());
  assert.deepEqual(back.parameters(), model.parameters());
  model.dispose(), back.dispose();
});

test('hand-written metadata with some fields only: the rest comes from the tensors and the options', async () => {
  const fgr = await Model.create({ ...SIZES, seed: SEED, cell: 'cifg', gates: { fullRecurrence: true } });
  const { tensors } = decodeSafetensors(fgr.toSafetensors());
  const bytes = encodeSafetensors(tensors, { [METADATA_KEY]: '{"format":1,"loss":"mae"}' });
  const back = await Model.fromPyTorch(bytes, { gates: { coupled: true } });
  assert.equal(back.config.loss, 'mae');
  assert.equal(back.config.gates.coupled && back.config.gates.fullRecurrence, true);
  const x = inputs(SIZES.inputSize);
  assert.deepEqual(bits(back.predict(x).data), bits(fgr.predict(x).data));
  const cifg = await Model.fromPyTorch(encodeSafetensors(tensors, { [METADATA_KEY]: '{"format":1,"cell":"cifg"}' }));
  assert.deepEqual(cifg.config.gates, fgr.config.gates);
  fgr.dispose(), back.dispose(), cifg.dispose();
});

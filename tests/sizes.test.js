// Sizes near 2^32 (issue 11, defect 1): wasm's size_t is 32 bits, so the
// engine multiplies sizes in 64 bits and refuses, before allocating, what
// cannot fit in wasm32's 2 GiB. Each case below trapped or wrapped before; now
// each is a quick LstmError ERR_NO_MEMORY that names the sizes, and the
// engine (and any model on it) keeps working.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Model } from '../web/index.js';
import { coreOf } from '../web/model.js';
import { decodeModel, encodeModel } from '../web/format.js';
import { engine } from './helpers.js';

/** Asserts that fn throws ERR_NO_MEMORY (or one of `codes`) with a message matching `what`, within `ms`. */
async function refused(fn, what, ms = 2000, codes = ['ERR_NO_MEMORY']) {
  const t0 = performance.now();
  await assert.rejects(async () => fn(), (err) => {
    assert.equal(err.name, 'LstmError');
    assert.ok(codes.includes(err.code), `${err.code}: ${err.message}`);
    assert.match(err.message, what);
    return true;
  });
  assert.ok(performance.now() - t0 < ms, 'the refusal comes before any allocation');
}

test('models whose parameter count passes 2^32 or 2 GiB are refused by Model.create with ERR_NO_MEMORY', async () => {
  const e = await engine('simd');
  const before = e.heapUsed();
  // 4·32768² + … ≈ 4.3e9 parameters: the count wrapped to a fraction in 32 bits
  await refused(() => Model.create({ inputSize: 1, hiddenSize: 32768, engine: e }), /too large: 4295.* parameters/);
  // GRU, bidirectional, hidden 46341: 2·3·46341² ≈ 1.3e10 parameters trapped inside create
  await refused(() => Model.create({ inputSize: 1, hiddenSize: 46341, cell: 'gru', bidirectional: true, engine: e }), /too large/);
  // large but no wrap: was ERR_RANGE
  await refused(() => Model.create({ inputSize: 4096, hiddenSize: 8192, engine: e }), /too large/);
  assert.equal(e.heapUsed(), before, 'nothing is left allocated');
});

test('a batch whose workspace needs 2^32 reals is refused by the engine\'s predict, by train and by forward; the model keeps working', async () => {
  const e = await engine('simd');
  // inputSize 1, hiddenSize 630: 13·630 + 2 = 8192 reals per sample-step, so 512 × 1024 needs exactly 2^32
  const model = await Model.create({ inputSize: 1, hiddenSize: 630, seed: 1, engine: e });
  const small = [[0.1], [0.2], [0.3]];
  const want = model.predict([small]);
  const B = 512, T = 1024, big = { data: new Float32Array(B * T).fill(0.5), shape: [B, T, 1] };
  model.save(); // allocates the optimizer's moments, which stay with the model
  const before = e.heapUsed();
  // Model.predict runs such a batch in pieces under its workspace cap (web/core.js); the engine's own
  // predict, called whole, must refuse it
  const { ptr } = coreOf(model);
  await refused(() => e.scoped((s) => e.check(e.exports.lw_model_predict(ptr, s.reals(big.data), 0, B, T, 0, s.reals(1), 0, 0), 'predict')),
    /batch of 512 x 1024 steps needs 163\d\d MiB/);
  await refused(() => model.forward(big), /512 x 1024/);
  await refused(() => model.train(big, { data: new Float32Array(B), shape: [B, 1] }, { epochs: 1, batchSize: B }), /512 x 1024/);
  assert.equal(e.heapUsed(), before, 'nothing is left allocated');
  assert.deepEqual(model.predict([small]), want, 'the model predicts as before');
  model.dispose();
});

test('a model file whose configuration needs 2^32 parameters is refused by Model.load, and nothing traps', async () => {
  const e = await engine('simd');
  const small = await Model.create({ inputSize: 1, hiddenSize: 2, seed: 1, engine: e });
  const { config, tensors, extra } = decodeModel(small.save());
  small.dispose();
  const before = e.heapUsed();
  for (const change of [{ hiddenSize: [32768] }, { hiddenSize: [46341], cell: 'gru', gates: null, bidirectional: true }]) {
    // the checksum is right: only the sizes are hostile, and the tensors stay small (the count wrapped before);
    // the file checks may refuse the tensors' sizes first (ERR_FORMAT), else lw_model_create does (ERR_NO_MEMORY)
    const bytes = encodeModel({ config: { ...config, ...change }, tensors, extra });
    await refused(() => Model.load(bytes, { engine: e }), /too large|should hold|param/i, 2000, ['ERR_NO_MEMORY', 'ERR_FORMAT']);
  }
  assert.equal(e.heapUsed(), before, 'nothing is left allocated');
});

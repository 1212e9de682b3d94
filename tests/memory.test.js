// The engine's memory after a large batch (issue 11): wasm memory can grow
// but never shrink, so one 64 x 1024-step predict at hidden 128 (445 MB of
// workspace in one piece) used to keep the instance at 419 MiB for good.
// predict and evaluate now run such a batch in pieces of rows under a cap
// (web/core.js), with the same bits as whole, and dispose() frees it all.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Model } from '../web/index.js';
import { coreOf } from '../web/model.js';
import { bits, lcg } from './helpers.js';

const MiB = 2 ** 20;
const CAP = 128 * MiB; // web/core.js WORKSPACE_CAP

test('a 64 x 1024-step predict at hidden 128 runs in pieces: memory stays near the cap, outputs equal row-by-row predicts', async () => {
  const model = await Model.create({ inputSize: 1, hiddenSize: 128, outputSize: 1, returnSequences: true, seed: 4 });
  const e = coreOf(model).engine;
  const B = 64, T = 1024, rand = lcg(5);
  const data = Float32Array.from({ length: B * T }, () => rand() * 2 - 1);
  const lengths = Int32Array.from({ length: B }, (_, b) => T - b * 7);
  assert.ok(e.exports.lw_model_workspace_bytes(coreOf(model).ptr, B, T) > 3 * CAP, 'the batch is large enough to need pieces');
  const before = e.memory.buffer.byteLength;
  const whole = model.predict({ data, shape: [B, T, 1], lengths }).data;
  const grown = e.memory.buffer.byteLength - before;
  assert.ok(grown < CAP + 64 * MiB, `memory grew by ${(grown / MiB).toFixed(0)} MiB; the cap is ${CAP / MiB} MiB`);
  // the same bits as each row alone (rows never depend on one another)
  for (const b of [0, 17, 40, 63]) {
    const one = model.predict({ data: data.subarray(b * T, (b + 1) * T), shape: [1, T, 1], lengths: lengths.subarray(b, b + 1) }).data;
    assert.deepEqual(bits(whole.subarray(b * T, (b + 1) * T)), bits(one), `row ${b}`);
  }
  // evaluate in pieces: the loss is the mean over every step, as in one piece
  const targets = { data: data.map((v) => v / 2), shape: [B, T, 1], lengths };
  const { loss } = model.evaluate({ data, shape: [B, T, 1], lengths }, [...Array(B)].map((_, b) => Array.from(targets.data.subarray(b * T, b * T + lengths[b]))));
  let se = 0, n = 0;
  for (let b = 0; b < B; b++) for (let t = 0; t < lengths[b]; t++) { const d = whole[b * T + t] - targets.data[b * T + t]; se += d * d; n++; }
  assert.ok(Math.abs(loss - se / n) <= 1e-6 * (se / n), `evaluate's loss ${loss} against ${se / n}`);
  const used = e.heapUsed();
  model.dispose();
  assert.ok(e.heapUsed() < used, 'dispose() frees the model and its workspace');
});

// The training loop alone (web/trainer.js), driven by fake steps without an
// engine, as a sequence-to-sequence model or a pool of workers will drive it:
// the rows each step gets (seeded shuffles, batches, chunks of truncated
// BPTT), the carried states, the loss as sums and counts, and the rollback
// when the loss explodes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Trainer } from '../web/trainer.js';
import { shuffledIndices } from '../web/data.js';
import { LstmError } from '../web/errors.js';

const base = (over) => ({
  rows: Int32Array.from({ length: 10 }, (_, i) => i), lengths: new Int32Array(10).fill(3), epochs: 2, batchSize: 4,
  shuffle: true, seed: 7, epochOffset: 5, learningRate: (epoch) => 0.1 / (epoch + 1), yieldEvery: 1e6, ...over,
});

test('each step gets the rows of a seeded shuffle in batches, and the history adds sums and counts', async () => {
  const calls = [];
  const ended = [];
  const history = await new Trainer(base({
    step: ({ epoch, rows, lr, t0, steps }) => { calls.push({ epoch, rows: Array.from(rows), lr, t0, steps }); return { lossSum: rows.length * 2, count: rows.length }; },
    validate: () => 0.5,
    onEpochEnd: (e) => ended.push(e.epoch),
  })).run();
  const want = [];
  for (let epoch = 0; epoch < 2; epoch++) {
    const order = shuffledIndices(10, 7 + 5 + epoch);
    for (let s = 0; s < 10; s += 4) want.push({ epoch, rows: Array.from(order.subarray(s, s + 4)), lr: 0.1 / (epoch + 1), t0: 0, steps: 3 });
  }
  assert.deepEqual(calls, want);
  assert.deepEqual(history, { loss: [2, 2], valLoss: [0.5, 0.5], epochs: 2, stopped: false });
  assert.deepEqual(ended, [0, 1]);
});

test('truncated BPTT: chunks of each batch, the rows still running, and their states carried from chunk to chunk', async () => {
  const lengths = Int32Array.from([5, 2, 4]);
  const seen = [];
  // one (layer, direction) block of H = 2 and one of H = 1: a row's state is 3 numbers per block set
  await new Trainer(base({
    rows: Int32Array.from([0, 1, 2]), lengths, epochs: 1, batchSize: 3, shuffle: false, truncate: 2,
    states: { blocks: [2, 1], Real: Float64Array },
    step: ({ rows, lengths: lens, t0, steps, h0, c0, wantStates }) => {
      seen.push({ rows: Array.from(rows), lens: Array.from(lens), t0, steps, h0: h0 && Array.from(h0), c0: c0 && Array.from(c0), wantStates });
      const n = rows.length;
      // hn: block 0 (n x 2) then block 1 (n x 1), each row's values = its id * 10 + t0
      const hn = new Float64Array(3 * n), cn = new Float64Array(3 * n);
      rows.forEach((r, a) => { hn[2 * a] = hn[2 * a + 1] = hn[2 * n + a] = r * 10 + t0; cn.set(hn); });
      return { lossSum: n, count: n, hn, cn: hn.map((v) => -v) };
    },
  })).run();
  assert.deepEqual(seen, [
    { rows: [0, 1, 2], lens: [2, 2, 2], t0: 0, steps: 2, h0: null, c0: null, wantStates: true },
    // row 1 has ended: rows 0 and 2 carry the states their first chunk gave back
    { rows: [0, 2], lens: [2, 2], t0: 2, steps: 2, h0: [0, 0, 20, 20, 0, 20], c0: [-0, -0, -20, -20, -0, -20], wantStates: true },
    { rows: [0], lens: [1], t0: 4, steps: 1, h0: [2, 2, 2], c0: [-2, -2, -2], wantStates: false },
  ]);
});

test('a loss that explodes goes back to the checkpoint before the update that caused it', async () => {
  const losses = [1, 0.9, 0.8, 5e6, 7e6]; // the 4th step sees the weights of the 3rd update
  let k = 0, id = 0;
  const restored = [];
  const trainer = new Trainer(base({
    epochs: 1, batchSize: 2, shuffle: false,
    step: () => ({ lossSum: losses[k++], count: 1 }),
    checkpoint: (reuse) => ({ id: id++, reused: reuse?.id ?? null }),
    restore: (token) => restored.push(token.id),
  }));
  await assert.rejects(trainer.run(), (err) => err instanceof LstmError && err.code === 'ERR_DIVERGED' && /grew to 5\.00e\+6/.test(err.message));
  // checkpoints 0..3 were taken before steps 1..4; back to 2, before the 3rd update
  assert.deepEqual(restored, [2]);
  assert.equal(trainer.updates, 2);
});

test('a step that diverges goes back to the checkpoint before it; an abort before any batch runs no step', async () => {
  const restored = [];
  let id = 0;
  const trainer = new Trainer(base({
    step: () => { throw new LstmError('ERR_DIVERGED', 'the loss is not finite'); },
    checkpoint: () => ({ id: id++ }), restore: (t) => restored.push(t.id),
  }));
  await assert.rejects(trainer.run(), { code: 'ERR_DIVERGED' });
  assert.deepEqual(restored, [0]);
  assert.equal(trainer.updates, 0);
  const idle = new Trainer(base({ signal: AbortSignal.abort(), step: () => assert.fail('a step ran') }));
  assert.deepEqual(await idle.run(), { loss: [], valLoss: [], epochs: 0, stopped: true });
});

test('earlyStopping and reduceOnPlateau over fake steps: the epochs run, the rates given, the checkpoint put back', async () => {
  // validation losses: 5, 4, 4.5, 4.2, 4.1, ...: best at epoch 1, patience 3 stops after epoch 4
  const vals = [5, 4, 4.5, 4.2, 4.1, 1, 1];
  let epoch = -1;
  const lrs = [], restored = [];
  const history = await new Trainer(base({
    epochs: 7, shuffle: false,
    step: ({ lr }) => { lrs.push(lr); return { lossSum: 1, count: 1 }; },
    validate: () => vals[++epoch],
    checkpoint: () => `after epoch ${epoch}`,
    restore: (token) => restored.push(token),
    earlyStopping: { monitor: 'valLoss', patience: 3, minDelta: 0, restoreBest: true },
    reduceOnPlateau: { monitor: 'valLoss', factor: 0.5, patience: 2, minDelta: 0, minLearningRate: 0.02 },
  })).run();
  assert.deepEqual([history.epochs, history.stopped, history.bestEpoch], [5, true, 1]);
  assert.ok(restored.includes('after epoch 1'), `restored ${restored}`);
  assert.equal(restored.at(-1), 'after epoch 1');
  // base rate 0.1 / (epoch + 1), halved from epoch 4 on (epochs 2 and 3 did not improve), floored at 0.02
  assert.deepEqual(history.learningRate, [0.1, 0.05, 0.1 / 3, 0.025, Math.max(0.02, 0.02 * 0.5)]);
  assert.equal(lrs.length, 5 * 3);
  await assert.rejects(new Trainer(base({ step: () => ({ lossSum: 1, count: 1 }), earlyStopping: { monitor: 'loss', patience: 0, minDelta: 0, restoreBest: true } })).run(),
    /restoreBest needs a model that can checkpoint/);
});

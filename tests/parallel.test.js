// Data-parallel train() over workers (web/pool.js, web/replica.js): the same
// seed, data and worker count give the same bits run after run; against one
// worker only the order of float additions differs (bounded below, after a
// W2-like run); truncated BPTT, validation, callbacks, abort and schedules as
// with one worker; dropout refused; a worker that dies rejects the call and
// leaves the model as it was before the batch; the worker entry agrees.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { Model, TextModel } from '../web/index.js';
import * as worker from '../web/worker.js';
import { LIVE_POOLS } from '../web/pool.js';
import { addingProblem, bits, lcg, relErr } from './helpers.js';

// Measured after the W2-like run below (one-hot 64, H 128, T 64, B 32, 4 batches of Adam):
// ‖w(2 workers) − w(1)‖/‖w(1)‖ = 4.2e-7 in Node (Adam magnifies the differences of tiny gradient entries);
// the bound leaves 10x room and is far below any real change (1e-3 and up).
const W2_BOUND = 4e-6;
// The adding problem below: 3 epochs of 4 batches, clipped Adam; measured 8.1e-8 (3 workers: 8.4e-8).
const SMALL_BOUND = 1e-6;

const flat = (params) => Float32Array.from(Object.values(params).flatMap((p) => Array.from(p)));
const sameBits = (a, b, what) => assert.deepEqual(bits(flat(a)), bits(flat(b)), what);

const adding = addingProblem(64, 20, lcg(11));
const ADDING = { inputSize: 2, hiddenSize: 16, layers: 2, seed: 3 };
const OPTS = { epochs: 3, batchSize: 16, clipNorm: 1, learningRate: 0.01 };

async function trained(create, inputs, targets, options) {
  const model = await Model.create(create);
  const history = await model.train(inputs, targets, options);
  const params = model.parameters();
  return { model, history, params };
}

/** Ragged per-step sequences (lengths 3..24) for truncated BPTT: late chunks hold fewer rows than workers. */
function ragged(n, seed) {
  const rand = lcg(seed);
  const inputs = Array.from({ length: n }, (_, b) => Array.from({ length: b % 5 === 0 ? 24 : 3 + Math.floor(rand() * 8) }, () => [rand()]));
  const targets = inputs.map((s) => s.map((x, t) => x[0] + (t ? s[t - 1][0] : 0)));
  return { inputs, targets };
}

test('workers: 2 gives the same bits run after run, and differs from 1 worker by addition order only', async () => {
  const one = await trained(ADDING, adding.inputs, adding.targets, OPTS);
  const solo = await trained(ADDING, adding.inputs, adding.targets, { ...OPTS, workers: 1 });
  sameBits(solo.params, one.params, 'workers: 1 is the one-worker path');
  assert.deepEqual(solo.history, one.history);
  const a = await trained(ADDING, adding.inputs, adding.targets, { ...OPTS, workers: 2 });
  const b = await trained(ADDING, adding.inputs, adding.targets, { ...OPTS, workers: 2 });
  sameBits(a.params, b.params, 'two runs with 2 workers');
  assert.deepEqual(a.history, b.history);
  const d = relErr(flat(a.params), flat(one.params));
  assert.ok(d > 0 && d < SMALL_BOUND, `2 workers vs 1: ${d}`); // > 0: the shards really were summed apart
  for (let e = 0; e < 3; e++) assert.ok(Math.abs(a.history.loss[e] - one.history.loss[e]) < 1e-5 * one.history.loss[e]);
  const three = await trained(ADDING, adding.inputs, adding.targets, { ...OPTS, workers: 3 });
  assert.ok(relErr(flat(three.params), flat(one.params)) < SMALL_BOUND, '3 workers (uneven shards)');
  for (const r of [one, solo, a, b, three]) r.model.dispose();
  assert.equal(LIVE_POOLS.size, 0, 'every pool ended');
});

test('a W2-like run (one-hot 64, H 128, T 64, B 32) on 2 workers stays within the bound of 1 worker', async () => {
  const rand = lcg(5), chars = Array.from({ length: 63 }, (_, k) => String.fromCharCode(48 + k));
  const text = Array.from({ length: 32 * 4 * 64 + 1 }, () => chars[Math.floor(rand() * 63)]).join('');
  const run = async (workers) => {
    const tm = await TextModel.create({ hiddenSize: 128, layers: 1, seed: 9, vocabulary: chars });
    const history = await tm.train(text, { epochs: 1, seqLength: 64, batchSize: 32, workers, shuffle: false });
    const params = tm.model.parameters();
    tm.dispose();
    return { history, params };
  };
  const one = await run(1), two = await run(2);
  assert.equal(one.params['weight_ih_l0'].length, 4 * 128 * 64);
  const d = relErr(flat(two.params), flat(one.params));
  assert.ok(d > 0 && d < W2_BOUND, `W2-like, 2 workers vs 1: ${d}`);
  assert.ok(Math.abs(two.history.loss[0] - one.history.loss[0]) < 1e-6 * one.history.loss[0]);
});

test('truncated BPTT carries each shard its own rows\' states; ragged chunks leave a worker without rows', async () => {
  const { inputs, targets } = ragged(20, 4);
  const create = { inputSize: 1, hiddenSize: 12, layers: 2, returnSequences: true, seed: 2, cell: 'lstm' };
  const opts = { epochs: 2, batchSize: 10, truncate: 4, learningRate: 0.01 };
  const one = await trained(create, inputs, targets, opts);
  const a = await trained(create, inputs, targets, { ...opts, workers: 2 });
  const b = await trained(create, inputs, targets, { ...opts, workers: 2 });
  sameBits(a.params, b.params, 'two truncated runs with 2 workers');
  const d = relErr(flat(a.params), flat(one.params));
  assert.ok(d > 0 && d < SMALL_BOUND, `truncated, 2 workers vs 1: ${d}`);
  // a GRU (no cell state) through the same path
  const gru = { ...create, cell: 'gru' };
  const g1 = await trained(gru, inputs, targets, opts), g2 = await trained(gru, inputs, targets, { ...opts, workers: 2 });
  assert.ok(relErr(flat(g2.params), flat(g1.params)) < SMALL_BOUND);
  for (const r of [one, a, b, g1, g2]) r.model.dispose();
});

test('validation, callbacks, a schedule and an AbortSignal behave as with one worker', async () => {
  const opts = { ...OPTS, epochs: 4, validationSplit: 0.25, schedule: { type: 'step', every: 2, gamma: 0.5 } };
  const seen = { 1: [], 2: [] };
  const runs = {};
  for (const workers of [1, 2]) {
    runs[workers] = await trained(ADDING, adding.inputs, adding.targets, {
      ...opts, workers, onEpochEnd: ({ epoch, learningRate, valLoss }) => seen[workers].push([epoch, learningRate, valLoss]),
    });
  }
  assert.equal(runs[2].history.valLoss.length, 4);
  assert.deepEqual(seen[2].map(([e, lr]) => [e, lr]), seen[1].map(([e, lr]) => [e, lr]));
  seen[2].forEach(([, , v], k) => assert.ok(Math.abs(v - seen[1][k][2]) < 1e-5 * seen[1][k][2], `valLoss ${v} vs ${seen[1][k][2]}`));
  // abort after the second batch: the run stops there, as with one worker
  const stop = async (workers) => {
    const controller = new AbortController();
    let batches = 0;
    const r = await trained(ADDING, adding.inputs, adding.targets, {
      ...OPTS, workers, signal: controller.signal, onBatchEnd: () => { if (++batches === 2) controller.abort(); },
    });
    return { ...r, batches };
  };
  const s1 = await stop(1), s2 = await stop(2);
  assert.equal(s2.history.stopped, true);
  assert.equal(s2.batches, s1.batches);
  assert.ok(relErr(flat(s2.params), flat(s1.params)) < SMALL_BOUND);
  for (const r of [runs[1], runs[2], s1, s2]) r.model.dispose();
});

test("'auto' is the cores the runtime reports, capped by the batch; bad counts and dropout are refused", async () => {
  const n = Math.min(availableParallelism(), 16);
  const auto = await trained(ADDING, adding.inputs, adding.targets, { ...OPTS, workers: 'auto' });
  const explicit = await trained(ADDING, adding.inputs, adding.targets, { ...OPTS, workers: n });
  sameBits(auto.params, explicit.params, `'auto' = ${n} workers`);
  // a batch of 1 row: one worker, the one-worker path itself
  const small = { ...OPTS, epochs: 1, batchSize: 1 };
  const capped = await trained(ADDING, adding.inputs, adding.targets, { ...small, workers: 'auto' });
  const plain = await trained(ADDING, adding.inputs, adding.targets, small);
  sameBits(capped.params, plain.params, "'auto' capped by a batch of 1");
  const model = auto.model;
  for (const [workers, code] of [[0, 'ERR_RANGE'], [257, 'ERR_RANGE'], [1.5, 'ERR_TYPE'], ['all', 'ERR_TYPE'], [null, 'ERR_TYPE']]) {
    await assert.rejects(model.train(adding.inputs, adding.targets, { workers }), (err) => err.code === code && /workers/.test(err.message), String(workers));
  }
  const dropped = await Model.create({ ...ADDING, dropout: 0.2 });
  const before = dropped.save();
  await assert.rejects(dropped.train(adding.inputs, adding.targets, { ...OPTS, workers: 2 }),
    (err) => err.code === 'ERR_OPTION' && /dropout/.test(err.message) && /workers: 1/.test(err.message));
  assert.deepEqual(dropped.save(), before, 'a refused train() changes nothing');
  for (const m of [auto.model, explicit.model, capped.model, plain.model, dropped]) m.dispose();
  assert.equal(LIVE_POOLS.size, 0);
});

test('a worker that dies rejects train() with an LstmError and leaves the model as it was before the batch', async () => {
  const model = await Model.create(ADDING);
  let batches = 0, atKill = null;
  const err = await model.train(adding.inputs, adding.targets, {
    ...OPTS, workers: 2, onBatchEnd: () => {
      if (++batches !== 2) return;
      atKill = model.parameters();
      [...LIVE_POOLS][0].worker(0).terminate(); // worker 2 of 2: worker 1 is this thread
    },
  }).then(() => assert.fail('train() resolved'), (e) => e);
  assert.equal(err.name, 'LstmError');
  assert.equal(err.code, 'ERR_ENGINE');
  assert.match(err.message, /training worker 2 of 2 stopped/);
  sameBits(model.parameters(), atKill, 'the weights of the last completed batch');
  assert.equal(LIVE_POOLS.size, 0, 'the other worker was ended too');
  // the model trains on afterwards
  await model.train(adding.inputs, adding.targets, { ...OPTS, epochs: 1, workers: 2 });
  model.dispose();
});

test('a diverging run with workers fails as with one worker, back to sane weights', async () => {
  const opts = { epochs: 2, batchSize: 16, optimizer: 'sgd', learningRate: 1e6 };
  for (const workers of [1, 2]) {
    const model = await Model.create(ADDING);
    await assert.rejects(model.train(adding.inputs, adding.targets, { ...opts, workers }), (e) => e.code === 'ERR_DIVERGED');
    for (const p of Object.values(model.parameters())) assert.ok(p.every(Number.isFinite));
    model.dispose();
  }
});

test('lstm-wasm/worker trains on 2 workers of its own to the main entry\'s bits', async () => {
  const main = await trained(ADDING, adding.inputs, adding.targets, { ...OPTS, workers: 2 });
  const model = await worker.Model.create(ADDING);
  const history = await model.train(adding.inputs, adding.targets, { ...OPTS, workers: 2 });
  sameBits(await model.parameters(), main.params, 'worker entry vs main entry, 2 workers each');
  assert.deepEqual(history, main.history);
  await model.dispose();
  main.model.dispose();
});

test('class weights reach the replicas: 2 workers stay within the bound of 1 worker', async () => {
  const rand = lcg(8);
  const inputs = Array.from({ length: 32 }, () => Array.from({ length: 6 }, () => [rand(), rand()]));
  const targets = inputs.map((s) => (s[5][0] > 0.66 ? 2 : s[5][0] > 0.33 ? 1 : 0));
  const create = { inputSize: 2, hiddenSize: 10, outputSize: 3, loss: 'softmax-cross-entropy', seed: 6 };
  const opts = { epochs: 3, batchSize: 16, learningRate: 0.02, classWeight: { 0: 4, 2: 0.5 } };
  const one = await trained(create, inputs, targets, opts);
  const two = await trained(create, inputs, targets, { ...opts, workers: 2 });
  const plain = await trained(create, inputs, targets, { ...opts, classWeight: undefined, workers: 2 });
  assert.ok(relErr(flat(two.params), flat(one.params)) < SMALL_BOUND);
  assert.ok(relErr(flat(plain.params), flat(one.params)) > 1e-3, 'the weights changed the run');
  for (const r of [one, two, plain]) r.model.dispose();
});

// Abusive calls, as a careless user or an attacker makes them (issue 11):
// every public method of Model, its stream and TextModel, with each argument
// replaced in turn by values of the wrong kind, shape or range. Every call
// must end in a result or an LstmError (never a TypeError, a trap or a
// hang), and a call that fails must leave save()'s bytes as they were.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Model, TextModel, LstmError } from '../web/index.js';

const BAD = [
  undefined, null, NaN, Infinity, -1, 0, 1.5, 2 ** 31, 1e39, -0, '', 'x', true, Symbol('s'), 10n, {}, [], [[]], [[[]]],
  [NaN], [[NaN]], [[1, 2, 3]], [[[1e39]]], new Float32Array(0), new Float64Array([NaN]), new Int8Array(3), new ArrayBuffer(8),
  { data: new Float32Array(2), shape: [1, 2] }, { data: new Float32Array(2), shape: [1, 2, 1], lengths: [5] },
  { data: new Float32Array(2), shape: [Infinity, 0, 1] }, { data: [1, 2], shape: [1, 2, 1], lengths: new Int32Array([0]) },
  { data: new Float32Array(4), shape: [2 ** 20, 2 ** 20, 1] }, { shape: [1, 1, 1] }, { data: null, shape: null },
  Object.create(null), () => 1, new Proxy({}, { get: () => { throw new LstmError('ERR_TYPE', 'proxy'); } }),
  { epochs: -1 }, { epochs: 1, batchSize: 0 }, { learningRate: NaN }, { optimizer: 'adamm' }, { signal: {} },
  { timeMajor: 'yes' }, { h0: [NaN] }, { logits: 1 }, { temperature: 0 }, { seed: -1 }, { onEpochEnd: 5 },
];

const seqs = [[0.1, 0.2, 0.3], [0.3, -0.1, 0.5]];
const GOOD = {
  predict: [seqs], evaluate: [seqs, [0.5, 0.1]], gradients: [seqs, [0.5, 0.1]], train: [seqs, [0.5, 0.1], { epochs: 1 }],
  forward: [seqs], trace: [seqs[0]], forecast: [[0.1, 0.2, 0.3], 2], setParameters: [{}], stream: [{}], fit: [seqs, [0.5, 0.1], { epochs: 1 }],
};

async function attempt(fn) {
  try {
    await fn();
    return 'ok';
  } catch (err) {
    if (!(err instanceof LstmError)) return `not an LstmError: ${err?.name}: ${err?.message}`;
    return 'refused';
  }
}

test('abusive calls on every method give a result or an LstmError, and a refused call changes nothing', { timeout: 300_000 }, async (t) => {
  const model = await Model.create({ inputSize: 1, hiddenSize: 4, outputSize: 1, seed: 1 });
  await model.train(seqs, [0.5, 0.1], { epochs: 2 });
  let calls = 0, refused = 0;
  const problems = [];
  for (const [method, good] of Object.entries(GOOD)) {
    for (let k = 0; k < good.length + 1; k++) {
      for (const bad of BAD) {
        const args = good.slice();
        args[k] = bad;
        const before = model.save();
        const outcome = await attempt(async () => {
          const r = await model[method](...args);
          if (method === 'stream') { r.step(bad); r.dispose(); }
        });
        calls++;
        if (outcome === 'refused') {
          refused++;
          const after = model.save();
          if (Buffer.compare(Buffer.from(before), Buffer.from(after)) !== 0) problems.push(`${method} arg ${k} = ${String(bad?.toString?.() ?? bad)}: refused but changed the model`);
        } else if (outcome !== 'ok') problems.push(`${method} arg ${k}: ${outcome}`);
      }
    }
  }
  // the stream's own methods, and calls after dispose
  const s = model.stream();
  for (const bad of BAD) { calls++; const o = await attempt(() => s.step(bad)); if (o.startsWith('not')) problems.push(`stream.step: ${o}`); else if (o === 'refused') refused++; }
  s.dispose();
  for (const method of [...Object.keys(GOOD), 'save', 'parameters', 'parameterShapes']) {
    const m2 = await Model.create({ inputSize: 1, hiddenSize: 2, seed: 2 });
    m2.dispose();
    calls++;
    const o = await attempt(() => m2[method](...(GOOD[method] ?? [])));
    if (o !== 'refused') problems.push(`${method} after dispose: ${o}`); else refused++;
  }
  // TextModel
  const tm = await TextModel.create({ hiddenSize: 8, layers: 1, seed: 3 });
  await tm.train('abcabcabd', { epochs: 1, seqLength: 4 });
  for (const [method, good] of Object.entries({ generate: ['ab', 5, {}], train: ['abc', { epochs: 1 }] })) {
    for (let k = 0; k < good.length; k++) {
      for (const bad of BAD) {
        const args = good.slice();
        args[k] = bad;
        const before = tm.save();
        const o = await attempt(() => tm[method](...args));
        calls++;
        if (o === 'refused') {
          refused++;
          if (Buffer.compare(Buffer.from(before), Buffer.from(tm.save())) !== 0) problems.push(`TextModel.${method} arg ${k}: refused but changed the model`);
        } else if (o !== 'ok') problems.push(`TextModel.${method} arg ${k}: ${o}`);
      }
    }
  }
  t.diagnostic(`${calls} abusive calls, ${refused} refused with an LstmError, the rest gave results`);
  assert.deepEqual(problems, []);
  assert.ok(calls > 1000 && refused > 1000, `${calls} calls, ${refused} refused`);
  assert.ok(Number.isFinite(model.predict(seqs)[0]), 'the model still predicts');
});

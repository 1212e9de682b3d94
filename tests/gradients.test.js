// Gradients apart from updates (c/api.c lw_model_grad_rows, lw_model_grad_sumsq,
// lw_model_update): the one-call training step gives the same weights as
// before the split (SHA-256 of the weights after fixed runs, recorded with the
// code before the split), and the pieces compose into it bit for bit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Model } from '../web/index.js';
import { engine, rng } from './helpers.js';

const DATA_SEED = 0x6ead;

/** Fixed training runs that reach every path of the fused step: cells, switches, dropout, truncation, clipping, optimizers. */
const RUNS = [
  { name: 'lstm, two layers, dropout, adam, clipNorm', create: { hiddenSize: [6, 5], dropout: 0.3 }, train: { clipNorm: 0.5 } },
  { name: 'gru bidirectional, sgd nesterov, clipValue', create: { cell: 'gru', hiddenSize: 5, bidirectional: true },
    train: { optimizer: 'sgd', momentum: 0.9, nesterov: true, clipValue: 0.05, learningRate: 0.05 } },
  { name: 'peepholes and full recurrence, adamw, many-to-many, truncated', create: { hiddenSize: 4, gates: { peepholes: true, fullRecurrence: true }, returnSequences: true },
    train: { optimizer: 'adamw', truncate: 3 } },
  { name: 'rnn, rmsprop, softmax cross-entropy', create: { cell: 'rnn', hiddenSize: 7, outputSize: 3, loss: 'softmax-cross-entropy' },
    train: { optimizer: 'rmsprop', learningRate: 0.01, clipNorm: 1 } },
];

// SHA-256 of the weights' bytes after each run, recorded at commit 78b5727 (before the split), per build.
const GOLDEN = {
  simd: {
    'lstm, two layers, dropout, adam, clipNorm': '9221e3d6b75213525e4f822e9b86fec30972ca3d4146451b3bc5d14775c5b363',
    'gru bidirectional, sgd nesterov, clipValue': 'dfe0cf71e18bf7ca3f08b5ab8110dbc49085e012223bff1eeb0d901fec3d054e',
    'peepholes and full recurrence, adamw, many-to-many, truncated': '2d6d51811675af4209c24591f4654c3447bb27cbca757a3512f86dac204c0d78',
    'rnn, rmsprop, softmax cross-entropy': '056ee7c01f025ca54f3f8733e68f73582fcff688e40b48ef57d3f857cfe2472f',
  },
  scalar: {
    'lstm, two layers, dropout, adam, clipNorm': 'bb2ecd95389e1cc3487edf69c2ff0444e23914c0c38dfec4662c17886bce41d5',
    'gru bidirectional, sgd nesterov, clipValue': 'dfe0cf71e18bf7ca3f08b5ab8110dbc49085e012223bff1eeb0d901fec3d054e',
    'peepholes and full recurrence, adamw, many-to-many, truncated': '2d6d51811675af4209c24591f4654c3447bb27cbca757a3512f86dac204c0d78',
    'rnn, rmsprop, softmax cross-entropy': '056ee7c01f025ca54f3f8733e68f73582fcff688e40b48ef57d3f857cfe2472f',
  },
};

/** Ragged data for a run: 13 sequences of up to 7 steps. */
function data(run) {
  const rand = rng(DATA_SEED);
  const I = 3, B = 13, T = 7, O = run.create.outputSize ?? 1, perStep = run.create.returnSequences;
  const inputs = [], targets = [];
  for (let b = 0; b < B; b++) {
    const len = 1 + Math.floor(rand() * T);
    inputs.push(Array.from({ length: len }, () => Array.from({ length: I }, () => rand() * 2 - 1)));
    const target = () => (run.create.loss === 'softmax-cross-entropy' ? Math.floor(rand() * O)
      : O === 1 ? rand() : Array.from({ length: O }, () => rand()));
    targets.push(perStep ? Array.from({ length: len }, target) : target());
  }
  return { inputs, targets };
}

async function trained(run, variant) {
  const model = await Model.create({ inputSize: 3, seed: 5, normalize: false, ...run.create, engine: await engine(variant) });
  const { inputs, targets } = data(run);
  await model.train(inputs, targets, { epochs: 3, batchSize: 4, seed: 9, ...run.train });
  return model;
}

function weightsHash(model) {
  const h = createHash('sha256');
  for (const [name, v] of Object.entries(model.parameters())) h.update(name).update(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
  return h.digest('hex');
}

for (const variant of ['simd', 'scalar']) {
  test(`training gives the weights recorded before gradients and updates were split (${variant} build)`, async (t) => {
    for (const run of RUNS) {
      const model = await trained(run, variant);
      const got = weightsHash(model);
      model.dispose();
      t.diagnostic(`${run.name}: ${got}`);
      if (GOLDEN[variant][run.name] === undefined) continue;
      assert.equal(got, GOLDEN[variant][run.name], run.name);
    }
    assert.equal(Object.keys(GOLDEN[variant]).length, RUNS.length, 'every run has a recorded hash');
  });
}

// The tensor table (c/model.c lw_model_plan_tensors): one list that gives
// the parameter count, the layout, the initialisation and what
// lw_model_tensor_info reports, with each tensor's rank, so a one-column
// matrix stays a matrix (issue 10: weight_ih_l0 of inputSize 1 is [4H, 1]).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Model } from '../web/index.js';
import { bits } from './helpers.js';

test('one-column matrices keep both dimensions: inputSize 1, hiddenSize 1, a head of one input', async () => {
  const model = await Model.create({ inputSize: 1, hiddenSize: 1, outputSize: 1 });
  const shapes = model.parameterShapes();
  assert.deepEqual(shapes, {
    weight_ih_l0: [4, 1], weight_hh_l0: [4, 1], bias_ih_l0: [4], bias_hh_l0: [4], 'head.weight': [1, 1], 'head.bias': [1],
  });
  const wide = await Model.create({ inputSize: 1, hiddenSize: 3, cell: 'gru' });
  assert.deepEqual(wide.parameterShapes().weight_ih_l0, [9, 1]);
  model.dispose(), wide.dispose();
});

test('a model with inputSize 1 reads its own toSafetensors() back, bit for bit', async () => {
  for (const options of [{ hiddenSize: 4 }, { hiddenSize: 1, cell: 'rnn' }, { hiddenSize: [1, 2], bidirectional: true }]) {
    const model = await Model.create({ inputSize: 1, seed: 3, ...options });
    const back = await Model.fromPyTorch(model.toSafetensors());
    assert.deepEqual(back.parameterShapes(), model.parameterShapes());
    const a = model.parameters(), b = back.parameters();
    for (const name of Object.keys(a)) assert.deepEqual(bits(b[name]), bits(a[name]), name);
    model.dispose(), back.dispose();
  }
});

test('the tensors tile the parameter buffer in table order, and their sizes add up to the parameter count', async () => {
  const model = await Model.create({ inputSize: 3, hiddenSize: [4, 2], bidirectional: true, gates: { peepholes: true, fullRecurrence: true }, outputSize: 2 });
  const shapes = Object.entries(model.parameterShapes());
  assert.deepEqual(shapes.map(([n]) => n).slice(0, 6),
    ['weight_ih_l0', 'weight_hh_l0', 'bias_ih_l0', 'bias_hh_l0', 'weight_peephole_l0', 'weight_gate_recurrence_l0']);
  assert.deepEqual(model.parameterShapes().weight_gate_recurrence_l1_reverse, [6, 6]);
  const count = shapes.reduce((n, [, s]) => n + s.reduce((a, b) => a * b, 1), 0);
  // two layers x two directions x (4H·in + 4H·H + 8H + 3H + 9H²), then the head
  const want = 2 * (16 * 3 + 16 * 4 + 32 + 12 + 144) + 2 * (8 * 8 + 8 * 2 + 16 + 6 + 36) + 2 * 4 + 2;
  assert.equal(count, want);
  model.dispose();
});

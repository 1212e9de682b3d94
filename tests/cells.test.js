// The cell table (web/cells.js): the engine bits of the Greff switches as
// c/lw.h enum lw_gate defines them, what each cell name fixes, trace rows
// that the gate view knows, and what ONNX can and cannot express.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CELLS, CELL_NAMES, SWITCH_DEFAULTS, TRACE_QUANTITIES, gateFlags, onnxLimits } from '../web/cells.js';
import { Model } from '../web/index.js';

test('gateFlags gives c/lw.h enum lw_gate bits for each switch away from the plain LSTM', () => {
  // LW_GATE_NO_INPUT 1, NO_FORGET 2, NO_OUTPUT 4, NO_INPUT_ACT 8, NO_OUTPUT_ACT 16, PEEPHOLES 32, COUPLED 64, SQUASH_1997 128, FULL_RECURRENCE 256
  const want = { input: 1, forget: 2, output: 4, inputActivation: 8, outputActivation: 16, peepholes: 32, coupled: 64, originalSquashing: 128, fullRecurrence: 256 };
  assert.equal(gateFlags(SWITCH_DEFAULTS), 0);
  assert.equal(gateFlags(null), 0);
  for (const [k, bit] of Object.entries(want)) assert.equal(gateFlags({ ...SWITCH_DEFAULTS, [k]: !SWITCH_DEFAULTS[k] }), bit, k);
  assert.equal(gateFlags({ ...SWITCH_DEFAULTS, forget: false, peepholes: true, fullRecurrence: true }), 2 | 32 | 256);
});

test('each cell name creates the model its row says: switches in config, trace rows in trace()', async () => {
  for (const cell of CELL_NAMES) {
    const model = await Model.create({ inputSize: 1, hiddenSize: 2, cell, seed: 1, ...(cell === 'clockwork' ? { periods: [1, 2] } : {}) });
    const { gates } = model.config;
    if (CELLS[cell].switches === null) assert.equal(gates, null, cell);
    else assert.deepEqual(gates, { ...SWITCH_DEFAULTS, ...CELLS[cell].switches }, cell);
    const [entry] = model.trace([0.5, -0.5]);
    const keys = Object.keys(entry).filter((k) => k !== 'layer' && k !== 'direction');
    assert.deepEqual(keys, [...CELLS[cell].trace.filter(Boolean), ...(CELLS[cell].derived ?? [])], cell);
    for (const k of keys) assert.ok(TRACE_QUANTITIES.some((q) => q.key === k), `${cell}: the gate view does not know '${k}'`);
    model.dispose();
  }
});

test('ONNX expresses peepholes and the coupled gate, and names why it cannot hold the other switches', () => {
  assert.deepEqual(onnxLimits('lstm', SWITCH_DEFAULTS), []);
  assert.deepEqual(onnxLimits('peephole', { ...SWITCH_DEFAULTS, peepholes: true }), []);
  assert.deepEqual(onnxLimits('cifg', { ...SWITCH_DEFAULTS, coupled: true }), []);
  assert.match(onnxLimits('lstm1997', { ...SWITCH_DEFAULTS, forget: false }).join(), /without the forget gate/);
  for (const k of ['input', 'output', 'inputActivation', 'outputActivation', 'fullRecurrence', 'originalSquashing']) {
    assert.equal(onnxLimits('lstm', { ...SWITCH_DEFAULTS, [k]: !SWITCH_DEFAULTS[k] }).length, 1, k);
  }
  assert.deepEqual(onnxLimits('gru', null), []);
});

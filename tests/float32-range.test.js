// Values beyond float32 (issue 11, defect 5): setParameters and stream.step
// refuse what predict refuses (ERR_RANGE naming the value), and an output that
// overflows float32 is refused with ERR_NOT_FINITE naming the largest weight,
// by predict, evaluate, forward and stream.step alike (web/file-checks.js
// says why at the output and not at load time).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Model } from '../web/index.js';
import { LstmError } from '../web/errors.js';
import { bits } from './helpers.js';

const F32_MAX = 3.4028234663852886e38;

function throwsCode(fn, code, pattern) {
  assert.throws(fn, (err) => {
    assert.ok(err instanceof LstmError, `expected LstmError, got ${err?.name}: ${err?.message}`);
    assert.equal(err.code, code, err.message);
    assert.match(err.message, pattern);
    return true;
  });
}

test('setParameters refuses a value beyond float32, naming the parameter and index, and changes nothing', async () => {
  const m = await Model.create({ inputSize: 2, hiddenSize: 3, seed: 1 });
  const before = m.save();
  throwsCode(() => m.setParameters({ 'head.bias': [1e39] }), 'ERR_RANGE', /setParameters: head\.bias\[0\] is 1e\+39, beyond float32 range/);
  throwsCode(() => m.setParameters({ 'head.weight': [0, 0, -3.5e38] }), 'ERR_RANGE', /head\.weight\[2\] is -3\.5e\+38/);
  throwsCode(() => m.setParameters({ 'head.bias': [NaN] }), 'ERR_NOT_FINITE', /head\.bias\[0\] is NaN/);
  assert.deepEqual(m.save(), before);
  m.setParameters({ 'head.bias': [F32_MAX] }); // the largest float32 itself is a value
  assert.equal(m.parameters()['head.bias'][0], F32_MAX);
  throwsCode(() => m.forward([[[0, 0]]], { h0: [0, 0, 1e39] }), 'ERR_RANGE', /forward: h0\[2\] is 1e\+39/);
  m.dispose();
});

test('stream.step refuses 1e39 as predict does, and an input that its scaler takes beyond float32', async () => {
  const m = await Model.create({ inputSize: 1, hiddenSize: 3, seed: 1 });
  throwsCode(() => m.predict([[1e39]]), 'ERR_RANGE', /1e\+39/);
  const s = m.stream();
  throwsCode(() => s.step(1e39), 'ERR_RANGE', /stream\.step: input is 1e\+39, beyond float32 range/);
  throwsCode(() => s.step(Infinity), 'ERR_NOT_FINITE', /stream\.step: input is Infinity/);
  const first = s.step(0.5);
  s.reset();
  assert.equal(s.step(0.5), first, 'the refused steps changed the stream');
  s.dispose();
  const m2 = await Model.create({ inputSize: 2, hiddenSize: 3, seed: 1 });
  throwsCode(() => m2.stream().step([0, -1e39]), 'ERR_RANGE', /stream\.step: input\[1\] is -1e\+39/);
  throwsCode(() => m2.stream().step(['1', 0]), 'ERR_NOT_FINITE', /input\[0\] is 1/);
  // a fitted scale below 1 takes the largest float32 beyond it
  const series = Array.from({ length: 8 }, (_, b) => [b * 0.01, b * 0.02, b * 0.03]);
  await m.train(series, series.map((x) => x[2]), { epochs: 1 });
  throwsCode(() => m.stream().step(F32_MAX), 'ERR_RANGE', /input is 3\.40\d+e\+38, .* once scaled by the model's input scaler: beyond float32/);
  m.dispose(), m2.dispose();
});

test('a loaded model whose finite weights overflow predicts no Infinity: ERR_NOT_FINITE names the weight', async () => {
  const m = await Model.create({ inputSize: 2, hiddenSize: 3, seed: 1, loss: 'mse', normalize: false });
  m.setParameters({ 'head.bias': [3.4e38], 'head.weight': [1e38, 1e38, 1e38] });
  const loaded = await Model.load(m.save()); // the file is valid: every weight is finite
  const x = [[[1, 1], [1, -1]]];
  const h = loaded.forward(x).output;
  assert.ok(h.some((v) => Math.abs(v) > 0.05), 'the hidden state is large enough to overflow the head');
  throwsCode(() => loaded.predict(x), 'ERR_NOT_FINITE', /predict: output\[0\] is -?Infinity: the float32 computation overflowed \(the largest weight is head\.bias\[0\]/);
  throwsCode(() => loaded.evaluate(x, [1]), 'ERR_NOT_FINITE', /evaluate: output\[0\]/);
  throwsCode(() => { const s = loaded.stream(); s.step([1, 1]); s.step([1, -1]); }, 'ERR_NOT_FINITE', /stream\.step: output\[0\]/);
  // the refusals change nothing: the weights fixed, the model works
  loaded.setParameters({ 'head.bias': [0], 'head.weight': [1, 1, 1] });
  assert.ok(Number.isFinite(loaded.predict(x)[0]));
  m.dispose(), loaded.dispose();
});

test('forward() refuses states that overflow, as without the squashing of g and h the cell can', async () => {
  const m = await Model.create({ inputSize: 2, hiddenSize: 2, seed: 1, gates: { inputActivation: false, outputActivation: false } });
  const G = 8;
  m.setParameters({ bias_ih_l0: new Array(G).fill(3e38), bias_hh_l0: new Array(G).fill(3e38) });
  throwsCode(() => m.forward([[[0, 0]]]), 'ERR_NOT_FINITE', /forward: output\[0\] is (-?Infinity|NaN): .*the largest weight is bias_ih_l0\[0\]/);
  const params = m.parameters();
  m.setParameters({ bias_ih_l0: new Array(G).fill(0), bias_hh_l0: new Array(G).fill(0) });
  const { output } = m.forward([[[0, 0]]]);
  assert.ok(output.every(Number.isFinite));
  assert.notDeepEqual(bits(params.bias_ih_l0), bits(m.parameters().bias_ih_l0));
  m.dispose();
});

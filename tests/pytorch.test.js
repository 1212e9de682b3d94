// The engine against PyTorch: tests/fixtures/pytorch_cases.json (nn.LSTM in
// float64: outputs, final states and every gradient) and char_lstm.safetensors
// (a trained character model with its logits), in both builds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Model } from '../web/index.js';
import { decodeSafetensors } from '../web/interop/safetensors.js';
import { engine, fixture, relErr } from './helpers.js';

const REL_TOL = 1e-5; // issue 3: float32 within 1e-5 relative (norm-wise) of PyTorch's float64

const cases = fixture('pytorch_cases.json').cases; // nn.LSTM, nn.GRU and nn.RNN (tanh)

async function runCase(c, variant) {
  const stateDict = Object.fromEntries(Object.entries(c.params).map(([k, v]) => [k, { shape: v.shape, data: v.data }]));
  const model = await Model.fromPyTorch(stateDict, { engine: await engine(variant) });
  const x = { data: Float32Array.from(c.x.data ?? c.x), shape: [c.T, c.B, c.input_size] };
  if (c.lengths) x.lengths = Int32Array.from(c.lengths);
  const arr = (v) => Float32Array.from(v.data ?? v);
  assert.equal(model.config.cell, { LSTM: 'lstm', GRU: 'gru', RNN_TANH: 'rnn' }[c.mode]);
  const fwd = model.forward(x, { timeMajor: true, h0: arr(c.h0), c0: c.c0 && arr(c.c0) });
  const bwd = model.backward(arr(c.loss_R), { dh: arr(c.loss_Rh), dc: c.loss_Rc && arr(c.loss_Rc) });
  model.dispose();
  return { fwd, bwd };
}

for (const variant of ['simd', 'scalar']) {
  for (const c of cases) {
    test(`${c.name} (${variant}): outputs, final states and every gradient match PyTorch`, async () => {
      const { fwd, bwd } = await runCase(c, variant);
      const want = (v) => v.data ?? v;
      const checks = [
        ['output', fwd.output, c.output], ['h_n', fwd.h, c.h_n], ['grad x', bwd.dx, c.grad.x], ['grad h0', bwd.dh0, c.grad.h0],
        ...(c.mode === 'LSTM' ? [['c_n', fwd.c, c.c_n], ['grad c0', bwd.dc0, c.grad.c0]] : []),
        ...Object.keys(c.params).map((k) => [`grad ${k}`, bwd.grads[k], c.grad[k]]),
      ];
      for (const [name, got, w] of checks) {
        const e = relErr(got, want(w));
        assert.ok(e < REL_TOL, `${name}: relative error ${e.toExponential(2)} >= ${REL_TOL}`);
      }
    });
  }
}

test('char_lstm.safetensors: logits match PyTorch and the export round-trips bit for bit', async () => {
  const bytes = fixture('char_lstm.safetensors');
  const meta = fixture('char_lstm.json');
  const model = await Model.fromPyTorch(bytes, { loss: 'softmax-cross-entropy', returnSequences: true });
  const V = meta.vocab.length;
  const x = [[...meta.prompt].map((ch) => { const v = new Array(V).fill(0); v[meta.vocab.indexOf(ch)] = 1; return v; })];
  const logits = model.predict(x, { logits: true })[0];
  const e = relErr(logits.flat(), meta.logits.flat());
  assert.ok(e < REL_TOL, `logits relative error ${e}`);
  const last = logits[logits.length - 1];
  assert.equal(meta.vocab[last.indexOf(Math.max(...last))], meta.argmax_next);
  const out = model.toSafetensors();
  assert.deepEqual(out, bytes, 'export differs from the PyTorch file');
  const back = decodeSafetensors(out).tensors;
  assert.deepEqual(Object.keys(back).sort(), [...meta.state_dict_names].sort());
  model.dispose();
});

test('GRU, RNN and peephole models go out as safetensors and come back with the same parameters', async () => {
  for (const [cell, prefix] of [['gru', 'gru.'], ['rnn', 'rnn.'], ['peephole', 'lstm.']]) {
    const model = await Model.create({ inputSize: 3, hiddenSize: [4, 5], bidirectional: true, outputSize: 2, cell, seed: 3 });
    const bytes = model.toSafetensors();
    const names = Object.keys(decodeSafetensors(bytes).tensors);
    assert.ok(names.includes(`${prefix}weight_hh_l1_reverse`) && names.includes('head.weight'), `${cell}: ${names}`);
    const back = await Model.fromPyTorch(bytes);
    assert.equal(back.config.cell, cell);
    assert.deepEqual(back.parameters(), model.parameters());
    assert.deepEqual(back.toSafetensors(), bytes);
    model.dispose(), back.dispose();
  }
});

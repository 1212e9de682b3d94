// Peephole and coupled-gate LSTMs against tests/fixtures/peephole_cases.json:
// ONNX LSTM semantics (c(t-1) feeds i and f, c(t) feeds o; input_forget=1
// couples f = 1 - i), outputs from ONNX Runtime, gradients from PyTorch.
// ONNX's gate order (i, o, f, c) and P = [Pi, Po, Pf] are converted with
// web/interop/gate-order.js.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Model } from '../web/index.js';
import { GATE_ORDERS, reorderGates } from '../web/interop/gate-order.js';
import { engine, fixture, relErr } from './helpers.js';

const REL_TOL = 1e-5; // issue 6: float32 within 1e-5 relative (norm-wise)
const { onnx, pytorch, onnxPeephole, peephole } = GATE_ORDERS;

for (const variant of ['simd', 'scalar']) {
  for (const c of fixture('peephole_cases.json').cases) {
    test(`${c.name} (${variant}): outputs, states and every gradient match ONNX semantics`, async () => {
      const H = c.hidden_size, I = c.input_size, D = c.bidirectional ? 2 : 1, { T, B } = c;
      const part = (arr, d, n) => Float32Array.from(arr.slice(d * n, (d + 1) * n));
      const dict = {};
      for (let d = 0; d < D; d++) {
        const sfx = d ? '_reverse' : '';
        const bias = part(c.Bias, d, 8 * H);
        dict[`weight_ih_l0${sfx}`] = { shape: [4 * H, I], data: reorderGates(part(c.W, d, 4 * H * I), H, onnx, pytorch, I) };
        dict[`weight_hh_l0${sfx}`] = { shape: [4 * H, H], data: reorderGates(part(c.R, d, 4 * H * H), H, onnx, pytorch, H) };
        dict[`bias_ih_l0${sfx}`] = { shape: [4 * H], data: reorderGates(bias.subarray(0, 4 * H), H, onnx, pytorch) };
        dict[`bias_hh_l0${sfx}`] = { shape: [4 * H], data: reorderGates(bias.subarray(4 * H), H, onnx, pytorch) };
        dict[`weight_peephole_l0${sfx}`] = { shape: [3 * H], data: reorderGates(part(c.P, d, 3 * H), H, onnxPeephole, peephole) };
      }
      const model = await Model.fromPyTorch(dict, { engine: await engine(variant), gates: c.input_forget ? { coupled: true } : undefined });
      assert.equal(model.config.cell, 'peephole');
      assert.equal(model.config.gates.coupled, Boolean(c.input_forget));
      const x = { data: Float32Array.from(c.x), shape: [T, B, I], lengths: Int32Array.from(c.lengths) };
      const fwd = model.forward(x, { timeMajor: true, h0: Float32Array.from(c.h0), c0: Float32Array.from(c.c0) });
      // ONNX Y is (T, D, B, H); ours (T, B, D·H)
      const toOurs = (Y) => { const out = new Float32Array(T * B * D * H); for (let t = 0; t < T; t++) for (let d = 0; d < D; d++) for (let b = 0; b < B; b++) for (let j = 0; j < H; j++) out[((t * B + b) * D + d) * H + j] = Y[((t * D + d) * B + b) * H + j]; return out; };
      const bwd = model.backward(toOurs(c.loss_RY), { dh: Float32Array.from(c.loss_Rh), dc: Float32Array.from(c.loss_Rc) });
      const checks = [['Y', fwd.output, toOurs(c.Y)], ['Y_h', fwd.h, c.Y_h], ['Y_c', fwd.c, c.Y_c],
        ['grad x', bwd.dx, c.grad.x], ['grad h0', bwd.dh0, c.grad.h0], ['grad c0', bwd.dc0, c.grad.c0]];
      for (let d = 0; d < D; d++) {
        const sfx = d ? '_reverse' : '', g = bwd.grads;
        const back = (name, n, cols) => reorderGates(g[name], H, pytorch, onnx, cols);
        checks.push([`grad W${sfx}`, back(`weight_ih_l0${sfx}`, 4 * H, I), part(c.grad.W, d, 4 * H * I)]);
        checks.push([`grad R${sfx}`, back(`weight_hh_l0${sfx}`, 4 * H, H), part(c.grad.R, d, 4 * H * H)]);
        checks.push([`grad Bias${sfx}`, [...back(`bias_ih_l0${sfx}`, 4 * H, 1), ...back(`bias_hh_l0${sfx}`, 4 * H, 1)], part(c.grad.Bias, d, 8 * H)]);
        checks.push([`grad P${sfx}`, reorderGates(g[`weight_peephole_l0${sfx}`], H, peephole, onnxPeephole), part(c.grad.P, d, 3 * H)]);
      }
      for (const [name, got, want] of checks) {
        const e = relErr(got, want);
        assert.ok(e < REL_TOL, `${name}: relative error ${e.toExponential(2)}`);
      }
      model.dispose();
    });
  }
}

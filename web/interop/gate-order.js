// Gate orders of the frameworks lstm-wasm talks to, and the reordering of
// stacked gate blocks between them. lstm-wasm keeps PyTorch's order.
//   PyTorch LSTM  i f g o     ONNX LSTM  i o f c     Keras/TF.js LSTM  i f c o
//   peepholes: lstm-wasm i f o, ONNX P = [Pi, Po, Pf]
//   PyTorch GRU   r z n       ONNX GRU   z r h     Keras/TF.js GRU   z r h
// The cell candidate is 'g' in PyTorch and 'c' in ONNX and Keras: the same gate.

export const GATE_ORDERS = Object.freeze({ pytorch: 'ifgo', onnx: 'iofg', keras: 'ifgo', onnxPeephole: 'iof', peephole: 'ifo',
  pytorchGru: 'rzn', onnxGru: 'zrn', kerasGru: 'zrn' });

/**
 * Reorders a tensor made of gate blocks stacked along its first axis: each
 * block is H rows of `cols` values. `from` and `to` name the gates in order
 * (one letter each, the same letters).
 */
export function reorderGates(data, H, from, to, cols = 1) {
  const out = new Float32Array(data.length);
  const block = H * cols;
  for (let k = 0; k < to.length; k++) {
    const src = from.indexOf(to[k]);
    out.set(data.subarray ? data.subarray(src * block, (src + 1) * block) : data.slice(src * block, (src + 1) * block), k * block);
  }
  return out;
}

// lstm-wasm itself, through the public API only (web/index.js): train() over
// many batches in one call (one epoch, Adam, no shuffling), predict() at batch
// 32 and 1, and stream().step() one JS call per step. For W3 it also reports
// the wasm heap while training beside the minimum training needs.
import { Model, loadEngine } from '../../../web/index.js';

const MAX_BATCHES = 400; // per train() call: enough to fill the training aim at any speed
const STREAM_CHUNK = 4096; // steps per timed call; the driver's await is then negligible

/**
 * Floats training needs at the least (SPEC's shapes, Adam): parameters,
 * gradients, two moments, and per layer the activations BPTT keeps,
 * T·B·(4H gates + 2H states).
 */
export function minimumTrainingFloats(w) {
  let P = 0, acts = 0;
  w.H.forEach((H, l) => {
    const I = l ? w.H[l - 1] : w.I;
    P += 4 * H * (I + H) + 8 * H; // w_ih, w_hh, b_ih, b_hh
    acts += w.T * w.B * 6 * H;
  });
  const Hl = w.H[w.H.length - 1];
  P += Hl * w.O + w.O; // head
  return { parameters: P, gradients: P, optimizer: 2 * P, activations: acts, total: 4 * P + acts };
}

/** @param {{ simd?: boolean }} [options] simd: false measures the scalar build */
export function lstmWasmPeer({ simd = true } = {}) {
  let engine;
  return {
    id: simd ? 'lstm-wasm' : 'lstm-wasm-scalar',
    name: simd ? 'lstm-wasm' : 'lstm-wasm (scalar build)',
    async init() {
      engine = await loadEngine({ simd });
      return { version: engine.version, detail: `${engine.variant} build, SIMD ${engine.simd ? 'on' : 'off'}` };
    },
    async setup(w, data, { aims, make }) {
      const heapBefore = engine.heapUsed();
      const model = await Model.create({ inputSize: w.I, hiddenSize: w.H, layers: w.H.length, outputSize: w.O,
        returnSequences: w.perStep, loss: w.loss, seed: 42, simd });
      const { T, I, B } = w;
      const pack = (d, n) => {
        const x = { data: d.x.subarray(0, n * T * I), shape: [n, T, I] };
        if (w.id === 'W1') return { x, y: { data: d.y.subarray(0, n), shape: [n, 1] } };
        if (w.id === 'W3') return { x, y: { data: d.y.subarray(0, n * T), shape: [n, T, 1] } };
        return { x, y: Array.from({ length: n }, (_, b) => Array.from(d.y.subarray(b * T, (b + 1) * T))) };
      };
      const opts = { epochs: 1, batchSize: B, shuffle: false };
      // One batch, twice (the first fits the scalers and grows the workspace), sizes the training set.
      const one = pack(data, B);
      let heapTraining = 0;
      await model.train(one.x, one.y, { ...opts, onBatchEnd: () => { heapTraining = Math.max(heapTraining, engine.heapUsed()); } });
      const t0 = performance.now();
      await model.train(one.x, one.y, opts);
      const perBatch = (performance.now() - t0) / 1000;
      const batches = Math.min(MAX_BATCHES, Math.max(1, Math.round(aims.train / perBatch)));
      const set = batches === 1 ? one : pack(make(batches * B), batches * B);
      const x32 = pack(data, 32).x, x1 = pack(data, 1).x;
      // stream inputs: the first sequence's steps, over and over
      const steps = Array.from({ length: T }, (_, t) => (I === 1 ? data.x[t] : data.x.slice(t * I, (t + 1) * I)));
      const stream = model.stream();
      let k = 0;
      const info = { batchesPerTrainCall: batches };
      if (w.id === 'W3') {
        const minimum = minimumTrainingFloats(w);
        info.memory = {
          heapModelAndWorkspace: engine.heapUsed() - heapBefore,
          heapWhileTraining: heapTraining - heapBefore,
          wasmMemoryBytes: engine.memory.buffer.byteLength,
          minimumBytes: minimum.total * 4,
          minimumFloats: minimum,
        };
      }
      return {
        notes: 'train() of one epoch over many batches per call (Adam, no shuffling; the batch count is in the JSON); predict() on { data, shape }; stream().step(x), one call per step',
        info,
        train: async () => { await model.train(set.x, set.y, opts); return batches * B * T; },
        infer: (n) => { model.predict(n === 32 ? x32 : x1); return n * T; },
        stream: () => {
          for (let s = 0; s < STREAM_CHUNK; s++) { stream.step(steps[k]); k = k + 1 === T ? 0 : k + 1; }
          return STREAM_CHUNK;
        },
        dispose: () => model.dispose(),
      };
    },
  };
}

export default lstmWasmPeer();

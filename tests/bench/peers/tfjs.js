// TensorFlow.js, shared by the two TF.js peers (tfjs-wasm.js, tfjs-cpu.js): the
// same model as lstm-wasm's, tf.layers.lstm (units H, one layer per entry of H,
// returnSequences as the workload) and a dense head, Adam 1e-3. Training is
// model.trainOnBatch on one staged batch; inference model.predict and
// dataSync(); streaming a stateful copy (batchInputShape [1, 1, I]) with the
// same weights, predict on one step per call. In Node the packages are
// imported; in Chromium page.html loads their UMD bundles (globalThis.tf).

const STREAM_CHUNK = 16; // steps per timed call

let tfPromise = null;

/** The tf namespace with the wasm backend registered: the page's, or imported in Node. */
function loadTf() {
  tfPromise ??= (async () => {
    if (globalThis.tf?.wasm) return globalThis.tf;
    const tf = await import('@tensorflow/tfjs');
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    return { ...tf, wasm };
  })();
  return tfPromise;
}

/** The Keras-style model of workload w; stateful: batch 1, one step per call. */
function buildModel(tf, w, stateful) {
  const model = tf.sequential();
  w.H.forEach((H, l) => {
    const shape = l ? {} : stateful ? { batchInputShape: [1, 1, w.I] } : { inputShape: [w.T, w.I] };
    // glorotUniform rather than Keras' orthogonal: the same speed, and W3's orthogonal init takes seconds in JS
    model.add(tf.layers.lstm({ units: H, returnSequences: l < w.H.length - 1 || w.perStep, stateful,
      recurrentInitializer: 'glorotUniform', ...shape }));
  });
  const classes = w.loss === 'softmax-cross-entropy';
  model.add(tf.layers.dense({ units: w.O, activation: classes ? 'softmax' : 'linear' }));
  model.compile({ optimizer: tf.train.adam(1e-3), loss: classes ? 'categoricalCrossentropy' : 'meanSquaredError' });
  return model;
}

/**
 * @param {{ id: string, name: string, backend: 'wasm'|'cpu' }} o
 */
export function tfjsPeer({ id, name, backend }) {
  let tf;
  const enter = async () => {
    if (tf.getBackend() !== backend) await tf.setBackend(backend);
  };
  return {
    id,
    name,
    async init(ctx) {
      tf = await loadTf();
      tf.enableProdMode(); // skips nothing that costs time; silences the "install tfjs-node" banner
      if (backend === 'wasm') {
        // Both must come before the wasm backend first initialises.
        if (ctx.wasmPaths) tf.wasm.setWasmPaths(ctx.wasmPaths);
        tf.wasm.setThreadsCount(1);
      }
      if (!(await tf.setBackend(backend))) throw new Error(`TF.js backend '${backend}' did not initialise`);
      await tf.ready();
      let detail = `backend ${tf.getBackend()}`;
      if (backend === 'wasm') {
        const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
        detail += `, SIMD ${simd ? 'on' : 'off'}, ${tf.wasm.getThreadsCount()} thread(s)`;
      }
      return { version: tf.version.tfjs, detail };
    },
    async setup(w, data) {
      await enter();
      const { T, I, B, O } = w;
      const model = buildModel(tf, w, false);
      const streamModel = buildModel(tf, w, true);
      streamModel.setWeights(model.getWeights());
      const x = tf.tensor3d(data.x.subarray(0, B * T * I), [B, T, I]);
      let y;
      if (w.id === 'W1') y = tf.tensor2d(data.y.subarray(0, B), [B, 1]);
      else if (w.id === 'W3') y = tf.tensor3d(data.y.subarray(0, B * T), [B, T, 1]);
      else y = tf.tidy(() => tf.oneHot(tf.tensor2d(data.y.subarray(0, B * T), [B, T], 'int32'), O).toFloat());
      const x32 = tf.tensor3d(data.x.subarray(0, 32 * T * I), [32, T, I]);
      const x1 = tf.tensor3d(data.x.subarray(0, T * I), [1, T, I]);
      const steps = Array.from({ length: T }, (_, t) => data.x.slice(t * I, (t + 1) * I));
      let k = 0;
      return {
        notes: 'model.trainOnBatch on one staged batch (Adam); model.predict + dataSync(); streaming: a stateful copy (batchInputShape [1, 1, I]), predict on one step + dataSync() per call',
        enter,
        train: async () => { await model.trainOnBatch(x, y); return B * T; },
        infer: (n) => {
          const out = model.predict(n === 32 ? x32 : x1);
          out.dataSync();
          out.dispose();
          return n * T;
        },
        stream: () => {
          for (let s = 0; s < STREAM_CHUNK; s++) {
            const step = tf.tensor3d(steps[k], [1, 1, I]);
            const out = streamModel.predict(step);
            out.dataSync();
            step.dispose();
            out.dispose();
            k = k + 1 === T ? 0 : k + 1;
          }
          return STREAM_CHUNK;
        },
        dispose: () => {
          for (const t of [x, y, x32, x1]) t.dispose();
          model.dispose();
          streamModel.dispose();
        },
      };
    },
  };
}

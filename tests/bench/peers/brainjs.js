// brain.js (1.6.1, pure JS), where it can express the workload. brain.js has
// no batches: every update is one sequence (its RMSProp step after each), and
// "batch 32" is 32 run() calls. It has no stateful step API either, so there is
// no streaming figure. Per workload:
//   W1  recurrent.LSTMTimeStep(1 -> [32] -> 1) on the T inputs + the target as
//       step T+1: it predicts the next value at every step (W1 scores the last only;
//       the head is 32 -> 1, so the extra loss terms cost next to nothing)
//   W2  recurrent.LSTM, inputRange 65 (64 characters + brain's start/end token),
//       an embedding of width I = 64 (a one-hot input times w_ih is that row),
//       [128], softmax over 65: trainPattern on T-1 characters = T steps;
//       run() with maxPredictionLength 0 = T steps (end token's bias held at -1000
//       so generation cannot stop early)
//   W3  recurrent.LSTMTimeStep(128 -> [256, 256] -> 128): brain's time-step nets
//       predict the next input, so the head is 256 -> 128 rather than 256 -> 1
//       (about 4 % more flops than counted)
// Updates call trainPattern(sequence), the per-sequence step train() runs, on
// data formatted once, so brain's per-call data conversion is not timed.

const END_BIAS = -1000;

async function loadBrain() {
  if (globalThis.brain) return globalThis.brain; // Chromium: page.html loads browser.min.js
  return (await import('brain.js')).default;
}

export default {
  id: 'brainjs',
  name: 'brain.js (one sequence per update)',
  brain: null,
  async init(ctx) {
    this.brain = await loadBrain();
    return { version: ctx.versions?.['brain.js'] ?? 'unknown', detail: 'recurrent.LSTMTimeStep / recurrent.LSTM, CPU (JS)' };
  },
  async setup(w, data) {
    const { recurrent } = this.brain;
    const { T, I, B } = w;
    const seqs = (n) => Array.from({ length: n }, (_, b) => b);
    if (w.id === 'W2') {
      const net = new recurrent.LSTM({ inputSize: I, inputRange: I + 1, hiddenLayers: w.H, outputSize: I + 1 });
      net.initialize();
      const chars = seqs(Math.max(B, 32)).map((b) => Array.from({ length: T }, (_, t) => {
        const row = data.x.subarray((b * T + t) * I, (b * T + t + 1) * I);
        return row.indexOf(1);
      }));
      let k = 0;
      return {
        notes: `recurrent.LSTM: trainPattern(${T - 1} characters) = ${T} steps per update; run() with maxPredictionLength 0 = ${T} steps`,
        train: () => { net.trainPattern(chars[k].slice(0, T - 1), false); k = (k + 1) % B; return T; },
        infer: (n) => {
          net.maxPredictionLength = 0;
          net.model.output.weights[0] = END_BIAS;
          for (let b = 0; b < n; b++) net.run(chars[b]);
          return n * T;
        },
      };
    }
    const net = new recurrent.LSTMTimeStep({ inputSize: I, hiddenLayers: w.H, outputSize: I });
    let train, run;
    if (w.id === 'W1') {
      train = seqs(B).map((b) => [...data.x.subarray(b * T, (b + 1) * T), data.y[b]]);
      run = seqs(32).map((b) => Array.from(data.x.subarray(b * T, (b + 1) * T)));
    } else {
      const step = (b, t) => Array.from(data.x.subarray((b * T + t) * I, (b * T + t + 1) * I));
      train = seqs(B).map((b) => [...Array.from({ length: T }, (_, t) => step(b, t)), new Array(I).fill(0)]);
      run = seqs(32).map((b) => Array.from({ length: T }, (_, t) => step(b, t)));
    }
    net.train([train[0]], { iterations: 1, errorThresh: -1 }); // sizes, initialises and picks the data path
    const formatted = net.formatData(train);
    let k = 0;
    return {
      notes: `recurrent.LSTMTimeStep: trainPattern(${T + 1} steps) = ${T} predicted steps per update; run(${T} steps)`,
      train: () => { net.trainPattern(formatted[k], false); k = (k + 1) % B; return T; },
      infer: (n) => { for (let b = 0; b < n; b++) net.run(run[b]); return n * T; },
    };
  },
};

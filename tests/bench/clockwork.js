// Clockwork RNN step time against an RNN of the same hidden size (issue 14):
// predict() over one batch, SIMD build, best of a few runs. The Clockwork
// computes only its running modules' recurrent rows (c/cells.c); the input
// projection is done for every step at once and is the same for both.
//   node tests/bench/clockwork.js [H] [T] [B]
import { Model } from '../../web/index.js';

const [H = 256, T = 320, B = 16] = process.argv.slice(2).map(Number);
const x = Array.from({ length: B }, (_, b) => Array.from({ length: T }, (_, t) => [Math.sin((t + b) / 7)]));
const time = async (options) => {
  const m = await Model.create({ inputSize: 1, hiddenSize: H, outputSize: 1, returnSequences: true, ...options });
  m.predict(x); // warm up
  let best = Infinity;
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now();
    m.predict(x);
    best = Math.min(best, performance.now() - t0);
  }
  m.dispose();
  return best;
};
const rnn = await time({ cell: 'rnn' });
console.log(`H ${H}, T ${T}, B ${B}: rnn ${(rnn * 1e3 / T).toFixed(1)} us/step`);
for (const periods of [[1, 2, 4, 8], [1, 2, 4, 8, 16, 32, 64, 128]]) {
  const cw = await time({ cell: 'clockwork', periods });
  console.log(`clockwork periods ${periods.join(',')}: ${(cw * 1e3 / T).toFixed(1)} us/step (${(rnn / cw).toFixed(2)}x the rnn's speed)`);
}

// The measuring loop of the benchmark, the same in Node (bench.js) and in
// Chromium (page.js): SPEC section 3's workloads, their seeded data, the wasm
// SIMD128 peak (peak.c), and the rounds that alternate the peers (peers/*.js).
// It only measures; bench.js formats, compares and writes the results.
import { seededUniform } from '../../web/data.js';

/** SPEC section 3. H is per layer; O and loss define the head. */
export const WORKLOADS = [
  { id: 'W1', name: 'time series', I: 1, H: [32], T: 50, B: 32, O: 1, loss: 'mse', perStep: false },
  { id: 'W2', name: 'characters', I: 64, H: [128], T: 64, B: 32, O: 64, loss: 'softmax-cross-entropy', perStep: true },
  { id: 'W3', name: 'larger', I: 128, H: [256, 256], T: 100, B: 16, O: 1, loss: 'mse', perStep: true },
];

/** The figures a peer's runner may provide; each call returns the sample-steps (or steps) it did. */
export const FIGURES = [
  { key: 'train', method: 'train', call: (r) => r.train() },
  { key: 'infer32', method: 'infer', call: (r) => r.infer(32) },
  { key: 'infer1', method: 'infer', call: (r) => r.infer(1) },
  { key: 'stream', method: 'stream', call: (r) => r.stream() },
];

/** peers/ files in the order a round visits them; lstm-wasm first. */
export const PEERS = ['lstm-wasm', 'tfjs-wasm', 'tfjs-cpu', 'brainjs'];

/** lstm-wasm's engine files in web/wasm/ whose instantiation is timed. */
export const LSTM_WASM_FILES = ['lstm-simd.wasm', 'lstm.wasm'];
/** The imports an engine file instantiates with (no memory view to refresh here). */
export const LSTM_WASM_IMPORTS = { env: { emscripten_notify_memory_growth() {} } };

export const DATA_SEED = 1234;
const INFER_BATCH = 32;
const PEAK_ACCUMULATORS = [8, 12, 16, 24, 32]; // the variants in peak.c
const PEAK_CALIBRATE = 1e5; // iterations per untimed call
const PEAK_WARM_UP_MS = 200; // per variant

/** Forward flops per sample-step: 8·H·(I+H) per layer (one direction), I being that layer's input width. */
export function forwardFlops(w) {
  return w.H.reduce((sum, H, l) => sum + 8 * H * ((l ? w.H[l - 1] : w.I) + H), 0);
}

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/**
 * n sequences of workload w, batch-first: x (n, T, I) and the targets
 *   W1  y (n) the value after the last step of a noisy sine
 *   W2  x one-hot characters, y (n, T) class index of the next character (Int32Array)
 *   W3  y (n, T) a running mix of the first two features
 */
export function dataset(w, n) {
  const rand = seededUniform(DATA_SEED), { I, T } = w;
  const x = new Float32Array(n * T * I);
  if (w.id === 'W1') {
    const y = new Float32Array(n);
    for (let b = 0; b < n; b++) {
      const f = 0.05 + 0.3 * rand(), p = 6.283 * rand();
      for (let t = 0; t < T; t++) x[b * T + t] = Math.sin(f * t + p) + 0.1 * (rand() - 0.5);
      y[b] = Math.sin(f * T + p);
    }
    return { n, x, y };
  }
  if (w.id === 'W2') {
    const y = new Int32Array(n * T);
    for (let b = 0; b < n; b++) {
      let c = Math.floor(rand() * I);
      for (let t = 0; t < T; t++) {
        x[(b * T + t) * I + c] = 1;
        c = Math.floor(rand() * I);
        y[b * T + t] = c;
      }
    }
    return { n, x, y };
  }
  const y = new Float32Array(n * T);
  for (let b = 0; b < n; b++) {
    let s = 0;
    for (let t = 0; t < T; t++) {
      for (let i = 0; i < I; i++) x[(b * T + t) * I + i] = 2 * rand() - 1;
      s = 0.9 * s + x[(b * T + t) * I] - 0.5 * x[(b * T + t) * I + 1];
      y[b * T + t] = s;
    }
  }
  return { n, x, y };
}

/**
 * The peers to run, by id (PEERS order); 'lstm-wasm-scalar' adds the scalar build.
 * @param {string[]} ids
 */
export async function loadPeers(ids) {
  const peers = [];
  for (const id of ids) {
    if (id === 'lstm-wasm-scalar') {
      const { lstmWasmPeer } = await import('./peers/lstm-wasm.js');
      peers.push(lstmWasmPeer({ simd: false }));
    } else {
      affirmPeer(id);
      peers.push((await import(`./peers/${id}.js`)).default);
    }
  }
  return peers;
}

function affirmPeer(id) {
  if (!PEERS.includes(id)) throw new Error(`unknown peer '${id}'; peers: ${[...PEERS, 'lstm-wasm-scalar'].join(', ')}`);
}

const now = () => performance.now();

/** Work per second of fn (which returns the work it did), called until `aim` seconds pass; at least once. */
async function timed(fn, aim) {
  let work = 0;
  const t0 = now();
  do work += await fn(); while (now() - t0 < aim * 1000);
  return work / ((now() - t0) / 1000);
}

/**
 * The peak kernel (peak.wasm from peak.c): returns measure(aim) -> best
 * GFLOP/s over its variants, counting mul + add as 2 flops per lane.
 */
export async function peakMeter(bytes) {
  const { instance } = await WebAssembly.instantiate(bytes, {});
  const ex = instance.exports;
  const variants = PEAK_ACCUMULATORS.map((acc) => {
    const name = `peak_f32x4_mul_add_${acc}`, f = ex[name];
    // Repeated calls let the engine tier the function up from its baseline compiler before it is timed.
    const t0 = now();
    while (now() - t0 < PEAK_WARM_UP_MS) f(PEAK_CALIBRATE, 1);
    const t1 = now();
    f(PEAK_CALIBRATE, 1);
    const perIter = Math.max(1e-9, (now() - t1) / 1000 / PEAK_CALIBRATE);
    return { name, acc, f, perIter };
  });
  let seed = 0;
  return (aim) => {
    let best = { gflops: 0, variant: null };
    for (const v of variants) {
      const n = Math.max(1e5, Math.round(aim / v.perIter));
      const t0 = now();
      v.f(n, ++seed % 7);
      const s = (now() - t0) / 1000;
      v.perIter = s / n;
      const gflops = (n * v.acc * 4 * 2) / s / 1e9;
      if (gflops > best.gflops) best = { gflops, variant: v.name };
    }
    return best;
  };
}

let compiles = 0;

/** Median milliseconds of WebAssembly.compile + instantiate, each compile cold. */
export async function instantiateMs(bytes, imports, reps = 5) {
  const times = [];
  for (let r = 0; r < reps; r++) {
    // V8 reuses the code of identical bytes; a distinct empty custom section per compile keeps each one cold.
    const name = new TextEncoder().encode(`bench${++compiles}`);
    const tagged = new Uint8Array(bytes.length + 3 + name.length);
    tagged.set(bytes);
    tagged.set([0, name.length + 1, name.length], bytes.length);
    tagged.set(name, bytes.length + 3);
    const t0 = now();
    await WebAssembly.instantiate(await WebAssembly.compile(tagged), imports);
    times.push(now() - t0);
  }
  return median(times);
}

/**
 * Runs every workload: sets each peer up, warms each figure once, then
 * `rounds` rounds that go through the peers in turn (all figures of one peer,
 * then the next), measuring the peak kernel at the start of each round.
 * Figures are medians over the rounds; the peak is the best round's.
 * @param {{ peers: object[], workloads?: object[], rounds: number, aims: { train: number, infer: number, stream: number, peak: number },
 *   warmUp: boolean, peakBytes: Uint8Array, ctx: object, log: (line: string) => void }} o
 */
export async function runBench(o) {
  const { peers, rounds, aims, log, ctx } = o;
  const workloads = o.workloads ?? WORKLOADS;
  const meter = await peakMeter(o.peakBytes);
  const peak = [];
  const peerInfo = [];
  const live = [];
  for (const p of peers) {
    try {
      const info = await p.init(ctx);
      peerInfo.push({ id: p.id, name: p.name, ...info });
      live.push(p);
    } catch (err) {
      peerInfo.push({ id: p.id, name: p.name, unavailable: `${err.message}`.split('\n')[0] });
      log(`  ${p.id}: unavailable: ${err.message}`);
    }
  }
  const results = [];
  for (const w of workloads) {
    const data = dataset(w, Math.max(w.B, INFER_BATCH));
    const runners = [];
    for (const p of live) {
      try {
        const runner = await p.setup(w, data, { aims, make: (n) => dataset(w, n) });
        runners.push({ peer: p, runner, samples: Object.fromEntries(FIGURES.map((f) => [f.key, []])), errors: {} });
      } catch (err) {
        results.push({ workload: w.id, peer: p.id, error: `setup: ${err.message}` });
        log(`  ${w.id} ${p.id}: setup failed: ${err.message}`);
      }
    }
    const supported = (r, f) => typeof r.runner[f.method] === 'function' && !r.errors[f.key];
    const aimOf = (f) => (f.key === 'train' ? aims.train : f.key === 'stream' ? aims.stream : aims.infer);
    if (o.warmUp) {
      for (const r of runners) {
        await r.runner.enter?.();
        for (const f of FIGURES) {
          if (!supported(r, f)) continue;
          try { await f.call(r.runner); } catch (err) { r.errors[f.key] = err.message; log(`  ${w.id} ${r.peer.id} ${f.key}: ${err.message}`); }
        }
      }
    }
    for (let round = 0; round < rounds; round++) {
      peak.push(meter(aims.peak));
      for (const r of runners) {
        await r.runner.enter?.();
        for (const f of FIGURES) {
          if (!supported(r, f)) continue;
          try { r.samples[f.key].push(await timed(() => f.call(r.runner), aimOf(f))); } catch (err) { r.errors[f.key] = err.message; log(`  ${w.id} ${r.peer.id} ${f.key}: ${err.message}`); }
        }
      }
      log(`  ${w.id} round ${round + 1}/${rounds} done`);
    }
    for (const r of runners) {
      const medians = {};
      for (const f of FIGURES) medians[f.key] = r.samples[f.key].length ? median(r.samples[f.key]) : null;
      results.push({ workload: w.id, peer: r.peer.id, ...medians, samples: r.samples, errors: r.errors,
        notes: r.runner.notes ?? null, info: r.runner.info ?? null });
      await r.runner.dispose?.();
    }
  }
  const gflops = peak.map((p) => p.gflops);
  return {
    // A peak is a ceiling: other load on the machine only ever lowers a sample, so the best one is kept.
    peak: { gflops: Math.max(...gflops), median: median(gflops), samples: gflops, variant: peak[gflops.indexOf(Math.max(...gflops))].variant },
    peers: peerInfo,
    results,
  };
}

// Speed of SPEC section 3's workloads W1-W3 through the public API, for the
// SIMD build and the scalar build: training and inference sample-steps per
// second, achieved GFLOP/s, .wasm size and time to instantiate. Stands apart
// from the tests: seeds its data so before/after runs compare, prints medians,
// asserts nothing. Peers (TF.js, brain.js) belong in tests/bench/peers/.
//   node tests/bench/bench.js [--quick] [--json [out.json]]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { execSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Model } from '../../web/index.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const WASM_DIR = path.join(HERE, '../../web/wasm');
const ARGS = process.argv.slice(2);
const QUICK = ARGS.includes('--quick');
const JSON_AT = ARGS.indexOf('--json');
const JSON_OUT = JSON_AT < 0 ? null
  : ARGS[JSON_AT + 1] && !ARGS[JSON_AT + 1].startsWith('--') ? ARGS[JSON_AT + 1] : path.join(HERE, 'results/latest.json');
const REPS = QUICK ? 2 : 5; // timed repetitions per figure; the median is reported
const TRAIN_SECONDS = QUICK ? 0.15 : 1.0; // aim of one timed training repetition
const INFER_SECONDS = QUICK ? 0.05 : 0.4; // aim of one timed inference repetition
const MAX_BATCHES = 400;
const DATA_SEED = 1234;

// SPEC section 3. H is per layer; O and loss define the head.
const WORKLOADS = [
  { id: 'W1', name: 'time series', I: 1, H: [32], T: 50, B: 32, O: 1, loss: 'mse', perStep: false },
  { id: 'W2', name: 'characters', I: 64, H: [128], T: 64, B: 32, O: 64, loss: 'softmax-cross-entropy', perStep: true },
  { id: 'W3', name: 'larger', I: 128, H: [256, 256], T: 100, B: 16, O: 1, loss: 'mse', perStep: true },
];
const BUILDS = [{ name: 'simd', file: 'lstm-simd.wasm', simd: true }, { name: 'scalar', file: 'lstm.wasm', simd: false }];

/** mulberry32: a small seeded generator, so every run trains on the same numbers. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** n sequences of workload w: inputs { data, shape } and targets in the form its loss takes. */
function dataset(w, n) {
  const rand = rng(DATA_SEED), { I, T, O } = w;
  const x = new Float32Array(n * T * I);
  if (w.id === 'W1') { // noisy sines; target: the value after the last step
    const y = new Float32Array(n);
    for (let b = 0; b < n; b++) {
      const f = 0.05 + 0.3 * rand(), p = 6.283 * rand();
      for (let t = 0; t < T; t++) x[b * T + t] = Math.sin(f * t + p) + 0.1 * (rand() - 0.5);
      y[b] = Math.sin(f * T + p);
    }
    return { x: { data: x, shape: [n, T, I] }, y: { data: y, shape: [n, O] } };
  }
  if (w.id === 'W2') { // one-hot characters; target: the class index of the next one
    const y = [];
    for (let b = 0; b < n; b++) {
      const chars = Array.from({ length: T + 1 }, () => Math.floor(rand() * I));
      for (let t = 0; t < T; t++) x[(b * T + t) * I + chars[t]] = 1;
      y.push(chars.slice(1));
    }
    return { x: { data: x, shape: [n, T, I] }, y };
  }
  const y = new Float32Array(n * T); // W3: uniform inputs; target: a running mix of the first features
  for (let b = 0; b < n; b++) {
    let s = 0;
    for (let t = 0; t < T; t++) {
      for (let i = 0; i < I; i++) x[(b * T + t) * I + i] = 2 * rand() - 1;
      s = 0.9 * s + x[(b * T + t) * I] - 0.5 * x[(b * T + t) * I + 1];
      y[b * T + t] = s;
    }
  }
  return { x: { data: x, shape: [n, T, I] }, y: { data: y, shape: [n, T, O] } };
}

/** The first n sequences of a dataset (targets included). */
function head(d, n) {
  const [, T, I] = d.x.shape;
  const x = { data: d.x.data.subarray(0, n * T * I), shape: [n, T, I] };
  if (Array.isArray(d.y)) return { x, y: d.y.slice(0, n) };
  const per = d.y.data.length / d.x.shape[0];
  return { x, y: { data: d.y.data.subarray(0, n * per), shape: [n, ...d.y.shape.slice(1)] } };
}

/** Forward flops per sample-step: 8·H·(I+H) per layer, I being that layer's input width. */
function forwardFlops(w) {
  return w.H.reduce((sum, H, l) => sum + 8 * H * ((l ? w.H[l - 1] : w.I) + H), 0);
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));

async function seconds(fn) {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
}

/** Median sample-steps per second of fn, which does `work` sample-steps per call; calls repeat to fill `aim` seconds (0: one call). */
async function rate(fn, work, aim) {
  await fn(); // warm-up: wasm tier-up and the JS around it
  const calls = aim ? clamp(Math.ceil(aim / await seconds(fn)), 1, 10000) : 1;
  const rates = [];
  for (let r = 0; r < REPS; r++) {
    const s = await seconds(async () => { for (let k = 0; k < calls; k++) await fn(); });
    rates.push((work * calls) / s);
  }
  return median(rates);
}

async function benchWorkload(w, build) {
  const model = await Model.create({ inputSize: w.I, hiddenSize: w.H, layers: w.H.length, outputSize: w.O,
    returnSequences: w.perStep, loss: w.loss, seed: 42, simd: build.simd });
  const opts = { epochs: 1, batchSize: w.B, shuffle: false };
  // Size the training set from a warmed-up one-batch epoch so one repetition takes about TRAIN_SECONDS.
  const one = head(dataset(w, Math.max(w.B, 32)), w.B);
  await model.train(one.x, one.y, opts);
  const batches = clamp(Math.round(TRAIN_SECONDS / await seconds(() => model.train(one.x, one.y, opts))), 1, MAX_BATCHES);
  const all = dataset(w, Math.max(batches * w.B, 32));
  const train = head(all, batches * w.B);
  const trainRate = await rate(() => model.train(train.x, train.y, opts), batches * w.B * w.T, 0);
  const x32 = head(all, 32).x, x1 = head(all, 1).x;
  const infer32 = await rate(() => model.predict(x32), 32 * w.T, INFER_SECONDS);
  const infer1 = await rate(() => model.predict(x1), w.T, INFER_SECONDS);
  const simd = model.engine.simd;
  model.dispose();
  const f = forwardFlops(w);
  return { workload: w.id, build: build.name, simd, batches, trainSampleSteps: trainRate, trainGflops: (3 * f * trainRate) / 1e9,
    infer32SampleSteps: infer32, infer32Gflops: (f * infer32) / 1e9, infer1SampleSteps: infer1, infer1Gflops: (f * infer1) / 1e9 };
}

/** Size raw and gzip, and median time of WebAssembly.compile + instantiate. */
async function benchWasm(build) {
  const bytes = fs.readFileSync(path.join(WASM_DIR, build.file));
  const imports = { env: { emscripten_notify_memory_growth() {} } };
  const times = [];
  for (let r = 0; r < Math.max(REPS, 5); r++) {
    // V8 reuses the compiled code of identical bytes; a distinct empty custom section per repetition keeps each compile cold.
    const name = Buffer.from(`bench${r}`);
    const tagged = Buffer.concat([bytes, Buffer.from([0, name.length + 1, name.length]), name]);
    const t0 = performance.now();
    await WebAssembly.instantiate(await WebAssembly.compile(tagged), imports);
    times.push(performance.now() - t0);
  }
  return { file: build.file, bytes: bytes.length, gzipBytes: zlib.gzipSync(bytes).length, instantiateMs: median(times) };
}

const fmtRate = (v) => (v >= 1e6 ? `${(v / 1e6).toFixed(2)} M` : v >= 1e3 ? `${(v / 1e3).toFixed(1)} k` : v.toFixed(0));
const fmtGf = (v) => v.toFixed(2);
const row = (cells) => `| ${cells.join(' | ')} |`;

function table(results, wasm) {
  const lines = [
    row(['workload', 'build', 'train steps/s', 'train GFLOP/s', 'infer B=32 steps/s', 'GFLOP/s', 'infer B=1 steps/s', 'GFLOP/s']),
    row(['---', '---', '---:', '---:', '---:', '---:', '---:', '---:']),
  ];
  for (const w of WORKLOADS) {
    const [s, c] = ['simd', 'scalar'].map((b) => results.find((r) => r.workload === w.id && r.build === b));
    for (const r of [s, c]) {
      lines.push(row([`${w.id} ${w.name}`, r.build, fmtRate(r.trainSampleSteps), fmtGf(r.trainGflops), fmtRate(r.infer32SampleSteps),
        fmtGf(r.infer32Gflops), fmtRate(r.infer1SampleSteps), fmtGf(r.infer1Gflops)]));
    }
    const x = (k) => `${(s[k] / c[k]).toFixed(2)}×`;
    lines.push(row([`${w.id} ${w.name}`, 'simd ÷ scalar', x('trainSampleSteps'), '', x('infer32SampleSteps'), '', x('infer1SampleSteps'), '']));
  }
  lines.push('', row(['file', 'raw', 'gzip', 'instantiate']), row(['---', '---:', '---:', '---:']));
  for (const m of wasm) lines.push(row([m.file, `${(m.bytes / 1024).toFixed(1)} KiB`, `${(m.gzipBytes / 1024).toFixed(1)} KiB`, `${m.instantiateMs.toFixed(2)} ms`]));
  return lines.join('\n');
}

function machine() {
  let commit = null;
  try { commit = execSync('git rev-parse --short HEAD', { cwd: HERE, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim(); } catch { /* not a checkout */ }
  return { cpu: os.cpus()[0]?.model, cores: os.cpus().length, os: `${os.platform()} ${os.release()} ${os.arch()}`, node: process.version, commit };
}

async function main() {
  const info = machine();
  console.log(`lstm-wasm bench: ${info.cpu}, node ${info.node}${QUICK ? ' (--quick)' : ''}; steps/s = sample-steps per second, medians of ${REPS}\n`);
  const results = [];
  for (const w of WORKLOADS) {
    for (const b of BUILDS) {
      const r = await benchWorkload(w, b);
      console.error(`  ${w.id} ${b.name}: ${r.batches} batch(es) per timed epoch`);
      results.push(r);
    }
  }
  const wasm = [];
  for (const b of BUILDS) wasm.push(await benchWasm(b));
  console.log(`\n${table(results, wasm)}\n\nGFLOP/s: forward 8·H·(I+H) per sample-step per layer, training 3× forward.`);
  if (JSON_OUT) {
    fs.mkdirSync(path.dirname(path.resolve(JSON_OUT)), { recursive: true });
    const command = `node ${path.relative(process.cwd(), fileURLToPath(import.meta.url))} ${ARGS.join(' ')}`.trim();
    const doc = { date: new Date().toISOString(), command, quick: QUICK, reps: REPS, machine: info,
      workloads: WORKLOADS.map((w) => ({ ...w, forwardFlopsPerSampleStep: forwardFlops(w) })), results, wasm };
    fs.writeFileSync(JSON_OUT, `${JSON.stringify(doc, null, 2)}\n`);
    console.log(`wrote ${JSON_OUT}`);
  }
}

await main();

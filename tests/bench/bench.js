// `npm run bench`: SPEC section 3's workloads W1-W3 for lstm-wasm and its peers
// (peers/: TF.js wasm and cpu, brain.js) in this Node process and then in
// headless Chromium (browser.js), alternating rounds, medians. Prints a Markdown
// table and writes results/latest.{json,md} (results/quick.* with --quick).
// Stands apart from the tests: seeded data, asserts nothing. The loop is in
// core.js; the SIMD128 peak it is measured against is peak.c.
//   node tests/bench/bench.js [--quick] [--node-only | --browser-only] [--rounds N (3)]
//     [--peers lstm-wasm,tfjs-wasm,tfjs-cpu,brainjs] [--workloads W1,W2,W3] [--scalar]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { execFileSync, execSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { LSTM_WASM_FILES, LSTM_WASM_IMPORTS, PEERS, WORKLOADS, forwardFlops, instantiateMs, loadPeers, runBench } from './core.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.join(HERE, '../..');
const RESULTS = path.join(HERE, 'results');
const PEAK_SRC = path.join(HERE, 'peak.c');
const PEAK_WASM = path.join(RESULTS, 'peak.wasm');
const PEAK_FLAGS = ['-O3', '-msimd128', '-sSTANDALONE_WASM', '--no-entry'];
const TFJS_WASM = 'node_modules/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm';
const VERSIONED = ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm', 'brain.js', 'playwright-core'];

// Issue 5's bars: lstm-wasm ÷ TF.js-wasm, and the share of the wasm SIMD128 peak.
const BAR_TRAIN_RATIO = { W1: 5, W2: 10, W3: 10 };
const BAR_PEAK_SHARE = { W2: 0.3, W3: 0.3 };
const BAR_INFER32_RATIO = 5;
const BAR_STREAM_W1 = 1e6;

const ARGS = process.argv.slice(2);
const flag = (name) => ARGS.includes(name);
const option = (name) => { const k = ARGS.indexOf(name); return k < 0 ? undefined : ARGS[k + 1]; };
const QUICK = flag('--quick');
const ROUNDS = Number(option('--rounds') ?? (QUICK ? 1 : 3));
const AIMS = QUICK ? { train: 0.05, infer: 0.05, stream: 0.05, peak: 0.1 } : { train: 1.0, infer: 0.3, stream: 0.3, peak: 0.1 };
const PEER_IDS = [...(option('--peers')?.split(',') ?? PEERS), ...(flag('--scalar') ? ['lstm-wasm-scalar'] : [])];
const WORKLOAD_IDS = option('--workloads')?.split(',') ?? WORKLOADS.map((w) => w.id);
const OUT = path.join(RESULTS, QUICK ? 'quick' : 'latest');

const log = (line) => console.error(line);

function versions() {
  const out = {};
  for (const name of VERSIONED) {
    try { out[name] = JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version; } catch { out[name] = null; }
  }
  return out;
}

/** Builds results/peak.wasm from peak.c when it is missing or older. */
function ensurePeak() {
  if (fs.existsSync(PEAK_WASM) && fs.statSync(PEAK_WASM).mtimeMs >= fs.statSync(PEAK_SRC).mtimeMs) return;
  fs.mkdirSync(RESULTS, { recursive: true });
  log(`bench: ${path.relative(ROOT, PEAK_WASM)} (emcc ${PEAK_FLAGS.join(' ')})`);
  try {
    execFileSync('emcc', [...PEAK_FLAGS, PEAK_SRC, '-o', PEAK_WASM], { stdio: ['ignore', 'ignore', 'inherit'] });
  } catch (err) {
    throw new Error(`could not build the peak kernel with emcc (${err.message}); run 'bash build.sh' first, which installs Emscripten`);
  }
}

function machine() {
  let commit = null;
  try { commit = execSync('git rev-parse --short HEAD', { cwd: HERE, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim(); } catch { /* not a checkout */ }
  return { cpu: os.cpus()[0]?.model, cores: os.cpus().length, os: `${os.platform()} ${os.release()} ${os.arch()}`, node: process.version, commit };
}

function wasmFiles() {
  const files = LSTM_WASM_FILES.map((f) => ({ file: f, at: path.join(ROOT, 'web/wasm', f) }));
  files.push({ file: path.basename(TFJS_WASM), at: path.join(ROOT, TFJS_WASM), peer: true });
  return files.filter((f) => fs.existsSync(f.at)).map((f) => {
    const bytes = fs.readFileSync(f.at);
    return { file: f.file, peer: !!f.peer, bytes: bytes.length, gzipBytes: zlib.gzipSync(bytes, { level: 9 }).length, data: bytes };
  });
}

// ---- formatting -----------------------------------------------------------

const fmtRate = (v) => (v == null ? '–' : v >= 1e6 ? `${(v / 1e6).toFixed(2)} M` : v >= 1e4 ? `${(v / 1e3).toFixed(0)} k` : v >= 1e3 ? `${(v / 1e3).toFixed(1)} k` : v.toFixed(v >= 10 ? 0 : 1));
const fmtGf = (v) => (v == null ? '–' : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const fmtPct = (v) => (v == null ? '–' : `${(100 * v).toFixed(v >= 0.1 ? 0 : 1)} %`);
const fmtX = (v) => (v == null || !Number.isFinite(v) ? '–' : `${v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)}×`);
const fmtBytes = (b) => (b >= 1 << 20 ? `${(b / (1 << 20)).toFixed(1)} MiB` : `${(b / 1024).toFixed(1)} KiB`);
const row = (cells) => `| ${cells.join(' | ')} |`;

function peerName(run, id) {
  return run.peers.find((p) => p.id === id)?.name ?? id;
}

/** Per-figure GFLOP/s and share of peak, and ratios to the peers, added to each result. */
function derive(run) {
  const byKey = (w, p) => run.results.find((r) => r.workload === w && r.peer === p);
  for (const r of run.results) {
    const w = WORKLOADS.find((x) => x.id === r.workload), f = forwardFlops(w);
    r.gflops = {
      train: r.train == null ? null : (3 * f * r.train) / 1e9,
      infer32: r.infer32 == null ? null : (f * r.infer32) / 1e9,
      infer1: r.infer1 == null ? null : (f * r.infer1) / 1e9,
      stream: r.stream == null ? null : (f * r.stream) / 1e9,
    };
    r.peakShare = Object.fromEntries(Object.entries(r.gflops).map(([k, v]) => [k, v == null ? null : v / run.peak.gflops]));
  }
  for (const r of run.results) {
    const ours = byKey(r.workload, 'lstm-wasm');
    if (!ours || r.peer === 'lstm-wasm') continue;
    r.lstmWasmRatio = Object.fromEntries(['train', 'infer32', 'infer1', 'stream'].map((k) => [k, ours[k] != null && r[k] ? ours[k] / r[k] : null]));
  }
  return run;
}

function envTables(run, title) {
  const lines = [`### ${title}`, '',
    `wasm SIMD128 peak (peak.c: independent f32x4 multiply + add chains, ${run.peak.variant}): **${run.peak.gflops.toFixed(1)} GFLOP/s**, ` +
    `the best of ${run.peak.samples.length} samples taken between rounds (median ${run.peak.median.toFixed(1)}).`, '',
    row(['workload', 'peer', 'train steps/s', 'train GFLOP/s', 'of peak', 'infer B=32 steps/s', 'GFLOP/s', 'of peak', 'infer B=1 steps/s', 'stream steps/s']),
    row(['---', '---', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:'])];
  for (const w of WORKLOADS) {
    for (const r of run.results.filter((x) => x.workload === w.id)) {
      if (r.error) { lines.push(row([w.id, peerName(run, r.peer), r.error, '', '', '', '', '', '', ''])); continue; }
      lines.push(row([w.id, peerName(run, r.peer), fmtRate(r.train), fmtGf(r.gflops.train), fmtPct(r.peakShare.train),
        fmtRate(r.infer32), fmtGf(r.gflops.infer32), fmtPct(r.peakShare.infer32), fmtRate(r.infer1), r.stream == null ? 'n/a' : fmtRate(r.stream)]));
    }
  }
  const ratios = run.results.filter((r) => r.lstmWasmRatio);
  if (ratios.length) {
    lines.push('', 'lstm-wasm ÷ peer (same run):', '', row(['workload', 'peer', 'train', 'infer B=32', 'infer B=1', 'stream']), row(['---', '---', '---:', '---:', '---:', '---:']));
    for (const r of ratios) {
      const q = r.lstmWasmRatio;
      lines.push(row([r.workload, peerName(run, r.peer), fmtX(q.train), fmtX(q.infer32), fmtX(q.infer1), r.stream == null ? 'n/a' : fmtX(q.stream)]));
    }
  }
  const off = run.peers.filter((p) => p.unavailable);
  for (const p of off) lines.push('', `${p.name}: **not measured**: ${p.unavailable}`);
  return lines;
}

/** Issue 5's bars against this run: value and whether it meets the bar, per environment. */
function barsTable(runs) {
  const envs = Object.entries(runs);
  const get = (run, w, p) => run.results.find((r) => r.workload === w && r.peer === p && !r.error);
  const bars = [];
  for (const [w, x] of Object.entries(BAR_TRAIN_RATIO)) {
    bars.push([`${w} training ≥ ${x}× TF.js-wasm`, (run) => { const v = get(run, w, 'tfjs-wasm')?.lstmWasmRatio?.train; return v == null ? null : [fmtX(v), v >= x]; }]);
  }
  for (const [w, s] of Object.entries(BAR_PEAK_SHARE)) {
    bars.push([`${w} training ≥ ${100 * s} % of wasm peak`, (run) => { const v = get(run, w, 'lstm-wasm')?.peakShare.train; return v == null ? null : [fmtPct(v), v >= s]; }]);
  }
  for (const w of WORKLOADS) {
    // Where it falls short, what meeting it would take: TF.js's share of the peak, times the bar.
    bars.push([`${w.id} inference B=32 ≥ ${BAR_INFER32_RATIO}× TF.js-wasm`, (run) => {
      const tf = get(run, w.id, 'tfjs-wasm'), v = tf?.lstmWasmRatio?.infer32;
      if (v == null) return null;
      const needs = BAR_INFER32_RATIO * tf.peakShare.infer32;
      return [v >= BAR_INFER32_RATIO ? fmtX(v) : `${fmtX(v)} (${BAR_INFER32_RATIO}× needs ${fmtPct(needs)} of peak)`, v >= BAR_INFER32_RATIO];
    }]);
  }
  bars.push([`W1 streaming ≥ ${fmtRate(BAR_STREAM_W1)} steps/s`, (run) => { const v = get(run, 'W1', 'lstm-wasm')?.stream; return v == null ? null : [fmtRate(v), v >= BAR_STREAM_W1]; }]);
  const lines = [row(['issue 5 bar', ...envs.map(([name]) => name)]), row(['---', ...envs.map(() => '---:')])];
  for (const [label, fn] of bars) {
    lines.push(row([label, ...envs.map(([, run]) => { const v = fn(run); return v == null ? '–' : `${v[0]} ${v[1] ? 'met' : '**short**'}`; })]));
  }
  return lines;
}

function memoryTable(run) {
  const m = run?.results.find((r) => r.workload === 'W3' && r.peer === 'lstm-wasm')?.info?.memory;
  if (!m) return [];
  const f = m.minimumFloats;
  return [row(['W3 training memory (lstm-wasm, Adam)', 'bytes']), row(['---', '---:']),
    row(['wasm heap at its high-water mark while training (model, workspace, one staged batch; lw_heap_used)', fmtBytes(m.heapWhileTraining)]),
    row(['wasm heap held by the model after training (parameters, gradients, Adam state, workspace)', fmtBytes(m.heapModelAndWorkspace)]),
    row(['wasm memory of the engine instance (memory.buffer.byteLength)', fmtBytes(m.wasmMemoryBytes)]),
    row([`minimum: parameters ${f.parameters} + gradients ${f.gradients} + Adam moments ${f.optimizer} + BPTT activations ${f.activations} (T·B·6H per layer) floats`, fmtBytes(m.minimumBytes)]),
    row(['heap while training ÷ minimum', fmtX(m.heapWhileTraining / m.minimumBytes)])];
}

function wasmTable(files, node, chromium) {
  const lines = [row(['.wasm', 'raw', 'gzip -9', 'compile + instantiate, Node', 'Chromium']), row(['---', '---:', '---:', '---:', '---:'])];
  for (const f of files) {
    const ms = (run) => (run?.instantiateMs?.[f.file] == null ? '–' : `${run.instantiateMs[f.file].toFixed(2)} ms`);
    lines.push(row([f.peer ? `${f.file} (TF.js, for scale)` : f.file, fmtBytes(f.bytes), fmtBytes(f.gzipBytes), ms(node), ms(chromium)]));
  }
  return lines;
}

function notes(runs) {
  const seen = new Map();
  for (const run of Object.values(runs)) {
    for (const p of run.peers) if (!seen.has(p.id)) seen.set(p.id, { p, notes: new Map() });
    for (const r of run.results) if (r.notes) seen.get(r.peer)?.notes.set(r.workload, r.notes);
  }
  const lines = [];
  for (const { p, notes: n } of seen.values()) {
    const details = Object.values(runs).map((run) => run.peers.find((q) => q.id === p.id)).filter((q) => q && !q.unavailable);
    const detail = [...new Set(details.map((q) => q.detail))].join(' / ');
    const texts = [...new Set(n.values())];
    const how = texts.length === 1 ? texts[0] : [...n].map(([w, t]) => `${w}: ${t}`).join('; ');
    const off = Object.values(runs).map((run) => run.peers.find((q) => q.id === p.id)?.unavailable).find(Boolean);
    lines.push(`- ${p.name}${details[0] ? ` ${details[0].version}` : ''}${detail ? ` (${detail})` : ''}: ${off ? `not measured: ${off}` : how}`);
  }
  return lines;
}

function markdown(doc) {
  const runs = {};
  if (doc.node) runs[`Node ${doc.machine.node}`] = doc.node;
  if (doc.chromium) runs[`Chromium ${doc.chromium.chromium}`] = doc.chromium;
  const lines = ['## Benchmark', '',
    `\`${doc.command}\` · ${doc.date.slice(0, 10)} · ${doc.machine.cpu}, ${doc.machine.cores} cores · commit ${doc.machine.commit ?? '?'} · ` +
    `medians of ${doc.rounds} alternating round(s)${doc.quick ? ' · **--quick: a smoke run, not a measurement**' : ''}`, '',
    'steps/s are sample-steps per second (B·T per second; streaming: steps per second, one JS call per step, batch 1). ' +
    'GFLOP/s count 8·H·(I+H) per sample-step per layer forward, training 3× that; "of peak" is the share of the wasm SIMD128 peak measured in the same run.', ''];
  for (const [name, run] of Object.entries(runs)) lines.push(...envTables(run, name), '');
  if (doc.chromiumError) lines.push(`### Chromium`, '', `Not measured: ${doc.chromiumError}`, '');
  lines.push(...barsTable(runs), '', ...wasmTable(doc.wasm, doc.node, doc.chromium), '');
  const mem = memoryTable(doc.node ?? doc.chromium);
  if (mem.length) lines.push(...mem, '');
  lines.push('How each peer was measured:', '', ...notes(runs), '');
  return lines.join('\n');
}

// ---- main -----------------------------------------------------------------

async function main() {
  const info = machine();
  const vers = versions();
  const workloads = WORKLOAD_IDS.map((id) => WORKLOADS.find((w) => w.id === id) ?? (() => { throw new Error(`unknown workload '${id}'; workloads: W1, W2, W3`); })());
  if (!(Number.isInteger(ROUNDS) && ROUNDS >= 1)) throw new Error(`--rounds must be a whole number from 1, got '${option('--rounds')}'`);
  ensurePeak();
  const files = wasmFiles();
  const options = { peers: PEER_IDS, workloads, rounds: ROUNDS, aims: AIMS, warmUp: !QUICK, versions: vers };
  log(`bench: ${info.cpu}, ${info.cores} cores, node ${info.node}; ${ROUNDS} round(s) of ${PEER_IDS.join(', ')} on ${WORKLOAD_IDS.join(', ')}${QUICK ? ' (--quick)' : ''}`);
  const doc = { date: new Date().toISOString(), command: '', quick: QUICK, rounds: ROUNDS, aimsSeconds: AIMS, machine: info, versions: vers,
    workloads: WORKLOADS.map((w) => ({ ...w, forwardFlopsPerSampleStep: forwardFlops(w) })), node: null, chromium: null };
  const script = path.relative(process.cwd(), fileURLToPath(import.meta.url));
  doc.command = process.env.npm_lifecycle_event === 'bench' ? `npm run bench${ARGS.length ? ` -- ${ARGS.join(' ')}` : ''}` : `node ${script} ${ARGS.join(' ')}`.trim();

  if (!flag('--browser-only')) {
    log('bench: Node');
    const peers = await loadPeers(PEER_IDS);
    const run = await runBench({ ...options, peers, peakBytes: fs.readFileSync(PEAK_WASM), ctx: { versions: vers }, log });
    run.instantiateMs = {};
    for (const f of files.filter((x) => !x.peer)) run.instantiateMs[f.file] = await instantiateMs(f.data, LSTM_WASM_IMPORTS);
    doc.node = derive(run);
  }
  if (!flag('--node-only')) {
    log('bench: Chromium');
    try {
      const { runInChromium } = await import('./browser.js');
      doc.chromium = derive(await runInChromium({ ...options, workloads }, log));
    } catch (err) {
      doc.chromiumError = err.message.split('\n')[0];
      log(`bench: Chromium: not measured: ${doc.chromiumError}`);
    }
  }
  doc.wasm = files.map(({ data, ...f }) => f);
  const md = markdown(doc);
  console.log(`\n${md}`);
  fs.mkdirSync(RESULTS, { recursive: true });
  fs.writeFileSync(`${OUT}.json`, `${JSON.stringify(doc, null, 2)}\n`);
  fs.writeFileSync(`${OUT}.md`, md);
  log(`bench: wrote ${path.relative(process.cwd(), OUT)}.json and .md`);
}

await main().catch((err) => {
  console.error(`bench: ${err.message}`);
  process.exitCode = 1;
});

// The body of tests/fuzz-files.test.js, run in a worker thread so the test can
// stop a hang: seeded structural mutations of valid model files (configuration
// JSON, tensor directory, scalers, vocabularies, the extra JSON) with the CRC-32
// fixed, and of safetensors files (header shapes, dtypes, offsets, names,
// metadata). Each file goes through Model.load / TextModel.load / fromPyTorch,
// and each survivor is used (predict, stream, one epoch of train, save, export).
// Every outcome must be a result or an LstmError; anything else is a finding.
import { parentPort, workerData } from 'node:worker_threads';
import { Model, TextModel } from '../web/index.js';
import { LstmError } from '../web/errors.js';
import { decodeModel } from '../web/format.js';
import { decodeSafetensors, encodeSafetensors } from '../web/interop/safetensors.js';
import { seededUniform } from '../web/data.js';
import { encodeRaw } from './model-bytes.js';

const CELLS = ['lstm', 'peephole', 'lstm1997', 'cifg', 'gru', 'rnn', 'LSTM', 'x'];
const SWITCHES = ['input', 'forget', 'output', 'inputActivation', 'outputActivation', 'peepholes', 'coupled', 'fullRecurrence', 'originalSquashing'];
const NUMBERS = [0, 1, 2, 3, 4, -1, 1.5, 0.5, 255, 65536, 65537, 2 ** 31, 2 ** 32 + 1, 2 ** 53 + 2, 1e300, -1e300, 1e39, 3.4e38, 1e-320, -0];
const ODD = [null, true, false, '3', '', 'lstm', [], {}, [3], [0], [3, 3], [1, 2, 3], { a: 1 }, 'zscore', 'minmax', '\u0000'];
const NUMBER_TEXT = ['1e400', '-1e400', '1e-400', '-0', '4294967297', '1.0000000000000002', '9007199254740993'];

/** The seed files: models of several kinds, trained a little so they carry scalers and optimizer state. */
async function seedModels() {
  const out = [];
  const add = async (options, train, text = false) => {
    const m = await Model.create({ seed: 5, ...options });
    const c = m.config, B = 4, T = 3;
    const r = seededUniform(9);
    const x = { data: Float32Array.from({ length: B * T * c.inputSize }, () => 1000 * r()), shape: [B, T, c.inputSize] };
    const y = { data: Float32Array.from({ length: B * (c.returnSequences ? T : 1) * c.outputSize }, () => r()), shape: c.returnSequences ? [B, T, c.outputSize] : [B, c.outputSize] };
    if (train && c.outputSize) await m.train(x, y, { epochs: 1, batchSize: 2 });
    out.push({ kind: 'model', name: JSON.stringify(options), bytes: m.save(), safetensors: m.toSafetensors() });
    m.dispose();
    return text;
  };
  await add({ inputSize: 2, hiddenSize: 3 }, true);
  await add({ inputSize: 3, hiddenSize: [3, 2], cell: 'gru', bidirectional: true, outputSize: 2, loss: 'sigmoid-cross-entropy' }, true);
  await add({ inputSize: 2, hiddenSize: 2, cell: 'peephole', returnSequences: true, normalize: 'minmax' }, true);
  await add({ inputSize: 2, hiddenSize: 3, cell: 'cifg', gates: { fullRecurrence: true }, outputSize: 3, loss: 'softmax-cross-entropy' }, true);
  await add({ inputSize: 2, hiddenSize: 2, cell: 'lstm1997', gates: { originalSquashing: true }, outputSize: 2 }, true);
  await add({ inputSize: 2, hiddenSize: 2, cell: 'rnn', outputSize: 0 }, false);
  await add({ inputSize: 3, hiddenSize: 2, gates: { outputActivation: false, peepholes: true }, bidirectional: true, returnSequences: true, loss: 'huber' }, true);
  const tm = await TextModel.create({ hiddenSize: 3, layers: 1, seed: 5 });
  await tm.train('abcab cab', { epochs: 1, seqLength: 4 });
  out.push({ kind: 'text', name: 'TextModel', bytes: tm.save(), safetensors: tm.toSafetensors() });
  tm.dispose();
  return out;
}

class Fuzzer {
  constructor(seed) {
    this.r = seededUniform(seed);
  }
  int(n) { return Math.floor(this.r() * n); }
  pick(a) { return a[this.int(a.length)]; }
  chance(p) { return this.r() < p; }

  value(near) {
    if (typeof near === 'number' && this.chance(0.4)) return this.pick([near + 1, near - 1, near * 2, -near, near + 0.5, near * 1e6]);
    if (typeof near === 'boolean' && this.chance(0.5)) return !near;
    return this.chance(0.6) ? this.pick(NUMBERS) : structuredClone(this.pick(ODD));
  }

  /** Every [parent, key] inside a JSON value, depth first. */
  slots(root) {
    const out = [];
    const walk = (v) => {
      if (v === null || typeof v !== 'object') return;
      for (const k of Object.keys(v)) { out.push([v, k]); walk(v[k]); }
    };
    walk(root);
    return out;
  }

  /** One structural change to a JSON value (in place when possible); returns the new root and what was done. */
  mutateJson(root) {
    const slots = this.slots(root);
    if (!slots.length || this.chance(0.03)) return [this.value(root), 'replaced the whole value'];
    const [parent, key] = this.pick(slots);
    const old = parent[key];
    const op = this.int(6);
    if (op === 0 && !Array.isArray(parent)) { delete parent[key]; return [root, `deleted ${key}`]; }
    if (op === 1 && Array.isArray(old)) {
      if (this.chance(0.5) && old.length) old.splice(this.int(old.length), 1); else old.push(structuredClone(old.length ? this.pick(old) : this.value()));
      return [root, `resized ${key} to ${old.length}`];
    }
    if (op === 2 && !Array.isArray(parent)) { parent[this.pick(['extra', 'layers', 'gates', 'kind', '__proto__x', key + 's'])] = this.value(); return [root, `added a field next to ${key}`]; }
    if (op === 3 && typeof old === 'string') { parent[key] = this.pick([old + old, old.slice(1), '', '\u0000', old.toUpperCase(), '\ud800']); return [root, `changed string ${key}`]; }
    parent[key] = this.value(old);
    return [root, `set ${key} from ${JSON.stringify(old)?.slice(0, 30)} to ${JSON.stringify(parent[key])?.slice(0, 30)}`];
  }

  /** Config-aware changes: sizes, cells, switches. */
  mutateConfig(c) {
    if (c === null || typeof c !== 'object' || Array.isArray(c)) return 'nothing (not an object)';
    const op = this.int(6);
    if (op === 0) { c.cell = this.pick(CELLS); return `cell ${c.cell}`; }
    if (op === 1) {
      c.gates = c.gates && typeof c.gates === 'object' ? c.gates : {};
      const s = this.pick(SWITCHES);
      c.gates[s] = this.chance(0.85) ? !c.gates[s] : this.value();
      return `gates.${s} ${c.gates[s]}`;
    }
    if (op === 2 && Array.isArray(c.hiddenSize)) {
      const l = this.int(c.hiddenSize.length);
      if (this.chance(0.3)) c.hiddenSize[l] = this.value(c.hiddenSize[l]);
      else if (this.chance(0.6)) c.hiddenSize[l] = this.pick([1, 2, 3, 5, 8]);
      else if (this.chance(0.5)) c.hiddenSize.push(this.pick([1, 2, 3]));
      else c.hiddenSize.pop();
      if (this.chance(0.7)) c.layers = c.hiddenSize.length;
      return `hiddenSize ${JSON.stringify(c.hiddenSize)}`;
    }
    const key = this.pick(['inputSize', 'outputSize', 'layers', 'bidirectional', 'returnSequences', 'loss', 'normalize', 'dropout', 'seed', 'forgetBias']);
    if (['inputSize', 'outputSize'].includes(key) && this.chance(0.5)) { c[key] = this.pick([0, 1, 2, 3, 5, 8]); return `${key} ${c[key]}`; }
    c[key] = key === 'loss' ? this.pick(['mse', 'mae', 'huber', 'softmax-cross-entropy', 'sigmoid-cross-entropy', 'ce']) : this.value(c[key]);
    return `${key} ${JSON.stringify(c[key])}`;
  }

  /** Tensor directory changes: counts, names, lengths, values. */
  mutateTensors(tensors) {
    const op = this.int(8);
    const t = tensors.length ? this.pick(tensors) : null;
    if (!t || op === 0) { tensors.push({ name: this.pick(['params', 'optimizer', 'extra', '', 'params ']), data: new Float32Array(this.int(4)) }); return 'added a tensor'; }
    if (op === 1) { tensors.splice(tensors.indexOf(t), 1); return `dropped ${t.name}`; }
    if (op === 2) { t.name = this.pick(['params', 'optimizer', 'Params', 'params\u0000', 'weights']); return `renamed to ${t.name}`; }
    if (op === 3) { const k = 1 + this.int(3); t.data = t.data.subarray(0, Math.max(0, t.data.length - k)); return `${t.name} shortened by ${k}`; }
    if (op === 4) { const d = new Float32Array(t.data.length + 1 + this.int(3)); d.set(t.data); t.data = d; return `${t.name} lengthened`; }
    if (op === 5) { tensors.reverse(); return 'reversed the directory'; }
    if (t.data.length) {
      const i = this.int(t.data.length);
      t.data = t.data.slice();
      t.data[i] = this.pick([NaN, Infinity, -Infinity, 1e38, -3.4e38, 1e-42, 1e30, -1e20, 0]);
      return `${t.name}[${i}] = ${t.data[i]}`;
    }
    return 'nothing';
  }

  /**
   * Resizes 'params' and 'optimizer' to what a mutated configuration needs, so
   * that new sizes, cells and switches reach the engine instead of stopping
   * at the parameter count. Only for small models (every size <= 64).
   */
  async fitTensors(config, tensors) {
    const small = (v) => v === undefined || (Number.isInteger(v) && v >= 0 && v <= 64);
    if (!config || typeof config !== 'object' || !Array.isArray(config.hiddenSize) || !config.hiddenSize.every(small)
      || !small(config.inputSize) || !small(config.outputSize) || !(config.hiddenSize.length <= 4)) return 'tensors: not fitted';
    let need;
    try {
      const { layers, ...options } = config;
      const m = await Model.create({ ...options, gates: options.gates ?? undefined });
      need = decodeModel(m.save()).tensors;
      m.dispose();
    } catch {
      return 'tensors: not fitted (create refuses the configuration)';
    }
    for (const t of tensors) {
      const want = need.find((n) => n.name === t.name);
      if (!want) continue;
      const data = new Float32Array(want.data.length);
      for (let i = 0; i < data.length; i++) data[i] = i < t.data.length ? t.data[i] : (this.r() - 0.5) * (t.name === 'params' ? 1 : 0.01);
      if (t.name === 'optimizer') for (let i = data.length / 2; i < data.length; i++) data[i] = Math.abs(data[i]); // second moments
      t.data = data;
    }
    return 'tensors: fitted to the configuration';
  }

  /** A mutated model file from a seed file, with its CRC-32 fixed. */
  async modelFile(bytes) {
    let { config, tensors, extra } = decodeModel(bytes);
    const done = [];
    const n = 1 + this.int(3);
    let numberText = null;
    for (let k = 0; k < n; k++) {
      const where = this.int(10);
      if (where < 3) done.push(`config: ${this.mutateConfig(config)}`);
      else if (where < 4) { let what; [config, what] = this.mutateJson(config); done.push(`config: ${what}`); }
      else if (where < 6) done.push(`tensors: ${this.mutateTensors(tensors)}`);
      else if (where < 9) { let what; [extra, what] = this.mutateJson(extra ?? {}); done.push(`extra: ${what}`); }
      else numberText = this.pick(NUMBER_TEXT);
    }
    if (this.chance(0.35)) done.push(await this.fitTensors(config, tensors));
    let configText = JSON.stringify(config) ?? 'null', extraText = JSON.stringify(extra) ?? 'null';
    if (numberText) {
      // a number JSON.stringify never writes, in place of one that is there
      const inExtra = this.chance(0.6), text = inExtra ? extraText : configText;
      const numbers = [...text.matchAll(/-?\d+(\.\d+)?(e[+-]?\d+)?/g)];
      if (numbers.length) {
        const m = this.pick(numbers);
        const changed = text.slice(0, m.index) + numberText + text.slice(m.index + m[0].length);
        if (inExtra) extraText = changed; else configText = changed;
        done.push(`${inExtra ? 'extra' : 'config'}: number ${m[0]} -> ${numberText}`);
      }
    }
    return { bytes: encodeRaw(configText, tensors, extraText), what: done.join('; ') };
  }

  /** A mutated safetensors file: a consistent re-encoding with changed tensors or metadata, or a damaged header. */
  safetensorsFile(bytes) {
    const { tensors, metadata } = decodeSafetensors(bytes);
    const names = Object.keys(tensors);
    const done = [];
    const n = 1 + this.int(2);
    let meta = metadata?.['lstm-wasm'] ? JSON.parse(metadata['lstm-wasm']) : null;
    let otherMeta = metadata ? { ...metadata } : null;
    let raw = false;
    for (let k = 0; k < n; k++) {
      const op = this.int(9);
      const name = this.pick(names);
      const t = tensors[name];
      if (!t) continue;
      if (op === 0) { delete tensors[name]; done.push(`dropped ${name}`); }
      else if (op === 1) {
        const to = name.replace(/weight_ih|weight_hh|bias_ih|bias_hh|weight_peephole/, this.pick(['weight_gate_recurrence', 'weight_peephole', 'bias_ih', 'weight_ih']))
          .replace(/_l(\d)/, this.chance(0.3) ? '_l7' : '_l$1').replace(/$/, this.chance(0.2) ? '_reverse' : '');
        tensors[to] = t; if (to !== name) delete tensors[name]; done.push(`renamed ${name} -> ${to}`);
      } else if (op === 2 && t.shape.length) {
        // a new shape with data to match, so the file stays well-formed
        const shape = t.shape.slice(), axis = this.int(shape.length);
        shape[axis] = this.pick([0, 1, shape[axis] + 1, Math.max(0, shape[axis] - 1), shape[axis] * 2, 3 * shape[axis]]);
        tensors[name] = { shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(0.1) };
        done.push(`${name} shape [${shape}]`);
      } else if (op === 3) {
        // the same values under another rank: [.., 1], [1, ..], or flattened
        const shape = this.pick([[...t.shape, 1], [1, ...t.shape], [t.data.length]]);
        tensors[name] = { shape, data: t.data }; done.push(`${name} shape [${shape}]`);
      }
      else if (op === 4 && t.data.length) { const d = t.data.slice(); d[this.int(d.length)] = this.pick([1e38, -3.4e38, 1e-40, 65504]); tensors[name] = { shape: t.shape, data: d }; done.push(`${name} huge value`); }
      else if (op === 5) {
        meta = meta ?? { format: 1 };
        let what; [meta, what] = this.mutateJson(meta); done.push(`metadata: ${what}`);
      } else if (op === 6) {
        meta = meta ?? { format: 1 };
        const c = { ...meta }; done.push(`metadata: ${this.mutateConfig(c)}`); meta = c;
      } else if (op === 7) { otherMeta = { ...(otherMeta ?? {}), [this.pick(['format', 'lstm-wasm', 'x'])]: this.pick(['pt', '{}', '[', '{"format":1,"cell":"cifg"}']) }; done.push('other metadata'); }
      else raw = true;
    }
    const md = { ...(otherMeta ?? {}) };
    if (meta !== null && !(otherMeta && 'lstm-wasm' in otherMeta && done.includes('other metadata'))) md['lstm-wasm'] = JSON.stringify(meta) ?? 'null';
    let out = encodeSafetensors(tensors, Object.keys(md).length ? md : null);
    if (raw) {
      // damage the header JSON itself: a dtype, a shape, an offset
      const len = Number(new DataView(out.buffer).getBigUint64(0, true));
      let header = new TextDecoder().decode(out.subarray(8, 8 + len));
      const change = this.pick([
        [/"F32"/, `"${this.pick(['F16', 'BF16', 'F64', 'I32', 'f32', 'F8_E4M3'])}"`],
        [/"shape":\[(\d+)/, `"shape":[${this.pick(['0', '-1', '1e400', '4294967296', '"3"', '1.5'])}`],
        [/"data_offsets":\[(\d+),(\d+)\]/, this.pick(['"data_offsets":[0,0]', '"data_offsets":[4,2]', '"data_offsets":[0,9007199254740993]', '"data_offsets":[-4,0]'])],
        [/"__metadata__":\{/, '"__metadata__":{"n":1,'],
      ]);
      header = header.replace(change[0], change[1]);
      const body = out.subarray(8 + len), h = new TextEncoder().encode(header);
      out = new Uint8Array(8 + h.length + body.length);
      new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
      out.set(h, 8), out.set(body, 8 + h.length);
      done.push(`header: ${change[1]}`);
    }
    return { bytes: out, what: done.join('; ') };
  }
}

/** Runs fn; returns 'ok', 'refused' (an LstmError) or throws a finding for anything else. */
async function outcome(fn, what) {
  try {
    await fn();
    return 'ok';
  } catch (err) {
    if (err instanceof LstmError && typeof err.code === 'string') return 'refused';
    const finding = new Error(`${what}: ${err?.name}: ${err?.message}`);
    finding.cause = err;
    throw finding;
  }
}

/** Uses a loaded model the ways a user would: every call must give a result or an LstmError. */
async function useModel(model, steps) {
  const c = model.config, B = 2, T = 3, r = seededUniform(3);
  const x = { data: Float32Array.from({ length: B * T * c.inputSize }, () => 4 * r() - 2), shape: [B, T, c.inputSize] };
  const y = { data: Float32Array.from({ length: B * (c.returnSequences ? T : 1) * c.outputSize }, () => r()),
    shape: c.returnSequences ? [B, T, c.outputSize] : [B, c.outputSize] };
  await steps('predict', () => model.predict(x));
  await steps('forward', () => model.forward(x));
  if (!c.bidirectional) {
    await steps('stream', () => { const s = model.stream(); try { for (let t = 0; t < 3; t++) s.step(c.inputSize === 1 ? 0.5 : new Array(c.inputSize).fill(0.5)); } finally { s.dispose(); } });
  }
  await steps('evaluate', () => model.evaluate(x, y));
  await steps('gradients', () => model.gradients(x, y));
  await steps('forward+backward', () => {
    const { output, h } = model.forward(x);
    model.backward(output.map(() => 0.1), { dh: h.map(() => 0.1) });
  });
  await steps('trace', () => model.trace({ data: x.data.subarray(0, T * c.inputSize), shape: [1, T, c.inputSize] }));
  await steps('forecast', () => model.forecast(Array.from({ length: 4 }, (_, t) => (c.inputSize === 1 ? t : new Array(c.inputSize).fill(t))), 2));
  await steps('train', () => model.train(x, y, { epochs: 1, batchSize: 2 }));
  await steps('save+load', async () => (await Model.load(model.save())).dispose());
  await steps('toSafetensors+fromPyTorch', async () => { const back = await Model.fromPyTorch(model.toSafetensors()); try { back.predict(x); } finally { back.dispose(); } });
}

async function useText(tm, steps) {
  const chars = tm.vocabulary.filter((v) => [...v].length === 1).slice(0, 3);
  await steps('generate', () => tm.generate(chars[0] ?? '', 5, { seed: 1 }));
  if (chars.length) await steps('train', () => tm.train(chars.join('').repeat(3), { epochs: 1, seqLength: 3 }));
  await steps('save+load', async () => (await TextModel.load(tm.save())).dispose());
}

/**
 * Runs `count` model files and `count` safetensors files from `seed`.
 * report(message) is called before each case (the watchdog's heartbeat).
 */
export async function fuzzFiles({ seed, count, report = () => {} }) {
  const seeds = await seedModels();
  const f = new Fuzzer(seed);
  const stats = { modelFiles: 0, modelLoaded: 0, safetensorsFiles: 0, safetensorsLoaded: 0, uses: 0, refusedUses: 0, findings: [] };
  const run = async (label, body) => {
    try {
      await body();
    } catch (finding) {
      stats.findings.push(`${label}: ${finding.message}\n    ${String(finding.cause?.stack ?? '').split('\n').slice(1, 4).join('\n    ')}`);
    }
  };
  const steps = async (what, fn) => {
    stats.uses++;
    if ((await outcome(fn, what)) === 'refused') stats.refusedUses++;
  };
  for (let i = 0; i < count; i++) {
    const s = seeds[i % seeds.length];
    const { bytes, what } = await f.modelFile(s.bytes);
    const label = `model file ${i} (${s.name}; ${what})`;
    report(label);
    stats.modelFiles++;
    await run(label, async () => {
      let loaded = null;
      const load = s.kind === 'text' && f.chance(0.7) ? () => TextModel.load(bytes) : () => Model.load(bytes);
      if ((await outcome(async () => { loaded = await load(); }, 'load')) === 'ok') {
        stats.modelLoaded++;
        try {
          await (loaded instanceof TextModel ? useText(loaded, steps) : useModel(loaded, steps));
        } finally {
          loaded.dispose();
        }
      }
    });
  }
  for (let i = 0; i < count; i++) {
    const s = seeds[(i * 7 + 3) % seeds.length];
    const { bytes, what } = f.safetensorsFile(s.safetensors);
    const label = `safetensors file ${i} (${s.name}; ${what})`;
    report(label);
    stats.safetensorsFiles++;
    await run(label, async () => {
      let loaded = null;
      const options = f.chance(0.3) ? { loss: f.pick(['mse', 'softmax-cross-entropy']), returnSequences: f.chance(0.5) } : {};
      if ((await outcome(async () => { loaded = await Model.fromPyTorch(bytes, options); }, 'fromPyTorch')) === 'ok') {
        stats.safetensorsLoaded++;
        try {
          await useModel(loaded, steps);
        } finally {
          loaded.dispose();
        }
      }
    });
  }
  return stats;
}

if (parentPort && workerData?.fuzzFiles) {
  const stats = await fuzzFiles({ ...workerData.fuzzFiles, report: (label) => parentPort.postMessage({ type: 'case', label }) });
  parentPort.postMessage({ type: 'done', stats });
}

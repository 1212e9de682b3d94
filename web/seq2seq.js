// Seq2Seq (issue 12): an encoder-decoder of two Models (outputSize 0) with
// optional embeddings and Luong attention (c/attention.c) and a dense head,
// trained by trainer.js with one step that takes every gradient, clips them by
// one joint norm and updates encoder, decoder and the extra parameters (their
// optimizer step is the engine's, lw_optim_block_step). Strings or token ids.
import { LstmError, affirm } from './errors.js';
import { Model, coreOf } from './model.js';
import { engineFrom } from './engine.js';
import { resolveTrainOptions } from './config.js';
import { Trainer } from './trainer.js';
import { captureState, restoreState, setOptimizer } from './persist.js';
import { encodeModel, decodeModel } from './format.js';
import { encodeSafetensors } from './interop/safetensors.js';
import { readStateDict } from './interop/pytorch.js';
import { START, END, Vocabulary, toIds, checkPairs, vocabulariesFor } from './seq2seq-vocab.js';
import { splitIndices } from './data.js';
import { checkOptions } from './validate.js';
import { HYPER, STATUS } from './engine-abi.js';

const CREATE = ['hiddenSize', 'layers', 'cell', 'embedding', 'attention', 'reverseSource', 'sourceVocabulary',
  'targetVocabulary', 'sourceVocabularySize', 'targetVocabularySize', 'seed', 'dropout', 'engine', 'simd', 'locateWasm'];
const CELLS = ['lstm', 'gru', 'rnn'];
const DISPOSED = 'this Seq2Seq was disposed; create or load a new one';
const CONSTRUCT = Symbol('Seq2Seq');
const KIND = 'seq2seq';

/** A seeded uniform generator in [0, 1) (mulberry32): the extra parameters' initialisation. */
function uniform(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const int = (v, name, lo, hi) => {
  affirm(Number.isInteger(v) && v >= lo && v <= hi, 'ERR_OPTION', `${name} must be an integer in ${lo}..${hi}, got ${String(v)}`);
  return v;
};

/** The resolved configuration; vocabulary sizes may still be unknown (learnt at the first train()). */
function resolve(options) {
  const o = checkOptions(options, CREATE, 'Seq2Seq.create');
  const cell = o.cell ?? 'lstm';
  affirm(CELLS.includes(cell), 'ERR_OPTION', `cell must be one of ${CELLS.join(', ')}, got ${String(cell)}`);
  const attention = o.attention ?? null;
  affirm(attention === null || attention === 'luong', 'ERR_OPTION', `attention must be 'luong' or null, got ${String(attention)}`);
  affirm((o.dropout ?? 0) === 0, 'ERR_OPTION', 'dropout: Seq2Seq does not take dropout yet; leave it out or give 0');
  const sv = o.sourceVocabulary == null ? null : (o.sourceVocabulary instanceof Vocabulary ? o.sourceVocabulary : new Vocabulary(o.sourceVocabulary, 'source'));
  const tv = o.targetVocabulary == null ? null : (o.targetVocabulary instanceof Vocabulary ? o.targetVocabulary : new Vocabulary(o.targetVocabulary, 'target'));
  const config = {
    hiddenSize: int(o.hiddenSize ?? 64, 'hiddenSize', 1, 4096),
    layers: int(o.layers ?? 1, 'layers', 1, 16),
    cell,
    embedding: int(o.embedding ?? 0, 'embedding', 0, 4096),
    attention,
    reverseSource: Boolean(o.reverseSource ?? false),
    seed: int(o.seed ?? 0, 'seed', 0, 0xffffffff),
    sourceVocabularySize: sv ? sv.size : (o.sourceVocabularySize === undefined ? null : int(o.sourceVocabularySize, 'sourceVocabularySize', 1, 1 << 20)),
    targetVocabularySize: tv ? tv.size : (o.targetVocabularySize === undefined ? null : int(o.targetVocabularySize, 'targetVocabularySize', 3, 1 << 20)),
  };
  return { config, vocab: { source: sv, target: tv } };
}

/** The extra parameters' names and shapes, in their block's order. */
function extraShapes(c) {
  const H = c.hiddenSize, E = c.embedding, list = [];
  if (E) list.push(['source_embedding.weight', [c.sourceVocabularySize, E]], ['target_embedding.weight', [c.targetVocabularySize, E]]);
  if (c.attention) list.push(['attention.weight', [H, H]], ['attention_combine.weight', [H, 2 * H]]);
  list.push(['head.weight', [c.targetVocabularySize, H]], ['head.bias', [c.targetVocabularySize]]);
  return list;
}

export class Seq2Seq {
  #engine; #config; #vocab; #enc = null; #dec = null;
  #extra = null; // { names: [[name, shape, offset, n]], w, g, moments, steps, kind }
  #epochsTrained = 0;
  #training = false;
  #disposed = false;

  /** Use Seq2Seq.create, Seq2Seq.load or Seq2Seq.fromPyTorch. */
  constructor(engine, resolved, token) {
    affirm(token === CONSTRUCT, 'ERR_TYPE', 'use Seq2Seq.create(options), not new Seq2Seq()');
    this.#engine = engine;
    this.#config = resolved.config;
    this.#vocab = resolved.vocab;
  }

  /**
   * A new model (seeded). With vocabularies or vocabulary sizes it is built at
   * once; otherwise at the first train(), from the training strings.
   * @returns {Promise<Seq2Seq>}
   */
  static async create(options = {}) {
    const resolved = resolve(options);
    const m = new Seq2Seq(await engineFrom(options), resolved, CONSTRUCT);
    if (m.#config.sourceVocabularySize && m.#config.targetVocabularySize) await m.#build();
    return m;
  }

  /** The configuration (a copy). */
  get config() {
    return structuredClone(this.#config);
  }

  /** The vocabularies' user tokens: { source, target } (null for a side of token ids). */
  get vocabularies() {
    return { source: this.#vocab.source?.tokens ?? null, target: this.#vocab.target?.tokens ?? null };
  }

  #live() {
    affirm(!this.#disposed, 'ERR_DISPOSED', DISPOSED);
  }

  #built(where) {
    this.#live();
    affirm(this.#enc, 'ERR_OPTION', `${where}: the model has no vocabulary yet; train() it on strings first, or give sourceVocabulary/targetVocabulary (or the sizes) to create()`);
  }

  async #build() {
    const c = this.#config, e = this.#engine, E = c.embedding;
    const side = (I, seed) => Model.create({ inputSize: I, hiddenSize: c.hiddenSize, layers: c.layers, cell: c.cell, outputSize: 0, seed, engine: e });
    this.#enc = await side(E || c.sourceVocabularySize, c.seed);
    this.#dec = await side(E || c.targetVocabularySize, (c.seed + 1) >>> 0);
    const names = [];
    let P = 0;
    for (const [name, shape] of extraShapes(c)) {
      const n = shape.reduce((a, b) => a * b, 1);
      names.push([name, shape, P, n]);
      P += n;
    }
    const w = new e.Real(P), rnd = uniform((c.seed + 2) >>> 0);
    for (const [name, shape, off, n] of names) {
      if (name.endsWith('embedding.weight')) {
        // nn.Embedding: N(0, 1)
        for (let i = 0; i < n; i += 2) {
          const r = Math.sqrt(-2 * Math.log(1 - rnd())), t = 2 * Math.PI * rnd();
          w[off + i] = r * Math.cos(t);
          if (i + 1 < n) w[off + i + 1] = r * Math.sin(t);
        }
      } else {
        // nn.Linear: U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = the weight's columns (the bias takes its weight's)
        const k = 1 / Math.sqrt(name === 'head.bias' ? c.hiddenSize : shape[1]);
        for (let i = 0; i < n; i++) w[off + i] = (2 * rnd() - 1) * k;
      }
    }
    this.#extra = { names, P, w, g: new e.Real(P), moments: new e.Real(2 * P), steps: 0, kind: -1 };
  }

  #x(name) {
    const x = this.#extra, r = x.names.find((t) => t[0] === name);
    return r ? x.w.subarray(r[2], r[2] + r[3]) : null;
  }

  #gx(name) {
    const x = this.#extra, r = x.names.find((t) => t[0] === name);
    return x.g.subarray(r[2], r[2] + r[3]);
  }

  #call(name, ...args) {
    const e = this.#engine, st = e.exports[name](...args);
    if (st !== 0) throw new LstmError('ERR_ENGINE', `${name}: ${e.cstring(e.exports.lw_attention_last_error())}`);
  }

  /** Sources as id sequences (Int32Array each), checked. */
  #sources(values, name = 'sources') {
    return toIds(values, { name, side: 'source', vocabulary: this.#vocab.source, size: this.#config.sourceVocabularySize });
  }

  /** One source (a string or an id array), checked; messages name it 'source'. */
  #source(value) {
    try {
      return this.#sources([value], 'source').ids[0];
    } catch (err) {
      if (err instanceof LstmError) throw new LstmError(err.code, err.message.replace(/^source\[0\]/, 'source'));
      throw err;
    }
  }

  #targets(values, name = 'targets') {
    return toIds(values, { name, side: 'target', vocabulary: this.#vocab.target, size: this.#config.targetVocabularySize });
  }

  /** Token rows (B rows of T, -1 padding) as a Model input: one-hot or embedded. */
  #tokens(s, rows, T, V, table) {
    const e = this.#engine, E = this.#config.embedding;
    const B = rows.length, ids = new Int32Array(B * T).fill(-1);
    rows.forEach((r, b) => { for (let t = 0; t < r.length; t++) ids[b * T + t] = r[t]; });
    const lengths = Int32Array.from(rows, (r) => r.length);
    if (!E) {
      const data = new e.Real(B * T * V);
      ids.forEach((id, k) => { if (id >= 0) data[k * V + id] = 1; });
      return { ids, x: { data, shape: [B, T, V], lengths } };
    }
    const out = s.reals(B * T * E);
    this.#call('lw_embedding_forward', B * T, V, E, s.int32(ids), s.reals(table), out);
    return { ids, x: { data: e.readReals(out, B * T * E), shape: [B, T, E], lengths } };
  }

  #srcRow(src) {
    return this.#config.reverseSource ? Int32Array.from(src).reverse() : src;
  }

  #state(r) {
    return { h0: r.h, ...(r.c ? { c0: r.c } : {}) };
  }

  /**
   * Teacher-forced loss of pairs (id sequences) as { lossSum, count, correct,
   * exact }; with grads, the gradients of the mean loss (scale 1/count) land in
   * the encoder's, decoder's and the extra block's gradient buffers.
   */
  #pass(srcs, tgts, grads) {
    const e = this.#engine, c = this.#config, H = c.hiddenSize, E = c.embedding;
    const Vs = c.sourceVocabularySize, Vt = c.targetVocabularySize, attn = c.attention === 'luong';
    const B = srcs.length;
    const S = Math.max(...srcs.map((s) => s.length)), T = 1 + Math.max(...tgts.map((t) => t.length));
    return e.scoped((s) => {
      const src = this.#tokens(s, srcs.map((r) => this.#srcRow(r)), S, Vs, this.#x('source_embedding.weight'));
      const enc = this.#enc.forward(src.x);
      const tgt = this.#tokens(s, tgts.map((t) => [START, ...t]), T, Vt, this.#x('target_embedding.weight'));
      const dec = this.#dec.forward(tgt.x, this.#state(enc));
      const srcLen = Int32Array.from(srcs, (r) => r.length), tgtLen = Int32Array.from(tgts, (t) => t.length + 1);
      const target = new Int32Array(B * T).fill(-1);
      tgts.forEach((y, b) => { y.forEach((id, t) => { target[b * T + t] = id; }); target[b * T + y.length] = END; });
      const count = tgtLen.reduce((x, y) => x + y, 0);
      const hp = s.reals(dec.output), hbp = s.reals(enc.output), sl = s.int32(srcLen), tl = s.int32(tgtLen);
      let feat = hp, wa = 0, wc = 0;
      if (attn) {
        wa = s.reals(this.#x('attention.weight')), wc = s.reals(this.#x('attention_combine.weight'));
        feat = s.reals(B * T * H);
        this.#call('lw_attention_forward', B, T, S, H, hp, hbp, sl, tl, wa, wc, s.reals(B * T * S), feat);
      }
      const logits = s.reals(B * T * Vt);
      const x = this.#extra;
      let dfeat = 0, dw = 0, db = 0;
      if (grads) {
        x.g.fill(0);
        dfeat = s.reals(B * T * H), dw = s.reals(Vt * H), db = s.reals(Vt);
        e.writeReals(dw, new e.Real(Vt * H)), e.writeReals(db, new e.Real(Vt));
      }
      const loss = e.alloc(16); // two doubles, 8-byte aligned
      let sum;
      try {
        this.#call('lw_head_forward_backward', B * T, H, Vt, feat, s.reals(this.#x('head.weight')), s.reals(this.#x('head.bias')),
          s.int32(target), 1 / count, logits, loss, dfeat, dw, db);
        sum = new Float64Array(e.memory.buffer, loss, 1)[0];
      } finally {
        e.free(loss);
      }
      // token accuracy and exact match of the teacher-forced arg-max (over ids >= 1)
      const z = e.readReals(logits, B * T * Vt);
      let correct = 0, exact = 0;
      for (let b = 0; b < B; b++) {
        let all = true;
        for (let t = 0; t < tgtLen[b]; t++) {
          const o = (b * T + t) * Vt;
          let k = 1;
          for (let v = 2; v < Vt; v++) if (z[o + v] > z[o + k]) k = v;
          if (k === target[b * T + t]) correct++; else all = false;
        }
        if (all) exact++;
      }
      if (grads) {
        this.#gx('head.weight').set(e.readReals(dw, Vt * H)), this.#gx('head.bias').set(e.readReals(db, Vt));
        let dh = e.readReals(dfeat, B * T * H), dhbar = new e.Real(B * S * H);
        if (attn) {
          const dhp = s.reals(B * T * H), dhbp = s.reals(B * S * H), dwa = s.reals(new e.Real(H * H)), dwc = s.reals(new e.Real(2 * H * H));
          this.#call('lw_attention_backward', B, T, S, H, hp, hbp, sl, tl, wa, wc, feat, dfeat, dhp, dhbp, dwa, dwc);
          dh = e.readReals(dhp, B * T * H), dhbar = e.readReals(dhbp, B * S * H);
          this.#gx('attention.weight').set(e.readReals(dwa, H * H)), this.#gx('attention_combine.weight').set(e.readReals(dwc, 2 * H * H));
        }
        const gd = this.#dec.backward(dh);
        // the encoder's final-state gradients are the decoder's initial-state ones
        const ge = this.#enc.backward(dhbar, { dh: gd.dh0, ...(gd.dc0 && enc.c ? { dc: gd.dc0 } : {}) });
        if (E) {
          for (const [name, dx, ids, V] of [['source_embedding.weight', ge.dx, src.ids, Vs], ['target_embedding.weight', gd.dx, tgt.ids, Vt]]) {
            const dt = s.reals(new e.Real(V * E));
            this.#call('lw_embedding_backward', ids.length, V, E, s.int32(ids), s.reals(dx), dt);
            this.#gx(name).set(e.readReals(dt, V * E));
          }
        }
        return { lossSum: sum, count, correct, exact, grads: { encoder: ge.grads, decoder: gd.grads } };
      }
      return { lossSum: sum, count, correct, exact };
    });
  }

  /**
   * Loss and every gradient of the mean loss of pairs, without an update.
   * @returns {{ loss: number, grads: Record<string, Float32Array|Float64Array> }}
   */
  gradients(sources, targets) {
    this.#built('gradients');
    checkPairs(sources, targets);
    const srcs = this.#sources(sources).ids, tgts = this.#targets(targets).ids;
    const r = this.#pass(srcs, tgts, true), grads = {};
    for (const [p, g] of [['encoder.', r.grads.encoder], ['decoder.', r.grads.decoder]]) {
      for (const [n, v] of Object.entries(g)) if (!n.startsWith('head.')) grads[p + n] = v;
    }
    for (const [name] of this.#extra.names) grads[name] = this.#gx(name).slice();
    return { loss: r.lossSum / r.count, grads };
  }

  /** Every parameter by its PyTorch name (copies). */
  parameters() {
    this.#built('parameters');
    const out = {};
    for (const [p, m] of [['encoder.', this.#enc], ['decoder.', this.#dec]]) {
      for (const [n, v] of Object.entries(m.parameters())) if (!n.startsWith('head.')) out[p + n] = v;
    }
    for (const [name] of this.#extra.names) out[name] = this.#x(name).slice();
    return out;
  }

  /** Shapes of parameters(), by name. */
  parameterShapes() {
    this.#built('parameterShapes');
    const out = {};
    for (const [p, m] of [['encoder.', this.#enc], ['decoder.', this.#dec]]) {
      for (const [n, v] of Object.entries(m.parameterShapes())) if (!n.startsWith('head.')) out[p + n] = v;
    }
    for (const [name, shape] of this.#extra.names) out[name] = shape.slice();
    return out;
  }

  /** Sets parameters by name (any subset; each of its full size). */
  setParameters(values) {
    this.#built('setParameters');
    affirm(values && typeof values === 'object', 'ERR_TYPE', 'setParameters: give { name: values }');
    const sides = { encoder: {}, decoder: {} };
    for (const [name, v] of Object.entries(values)) {
      const dot = name.indexOf('.'), p = name.slice(0, dot);
      if (p === 'encoder' || p === 'decoder') { sides[p][name.slice(dot + 1)] = v; continue; }
      const r = this.#extra.names.find((t) => t[0] === name);
      affirm(r, 'ERR_OPTION', `setParameters: unknown parameter '${name}' (known: ${Object.keys(this.parameterShapes()).join(', ')})`);
      affirm(v && v.length === r[3], 'ERR_SHAPE', `setParameters: '${name}' needs ${r[3]} values (shape [${r[1]}]), got ${v?.length}`);
      for (let i = 0; i < r[3]; i++) affirm(Number.isFinite(Number(v[i])), 'ERR_NOT_FINITE', `setParameters: ${name}[${i}] is ${v[i]}`);
    }
    if (Object.keys(sides.encoder).length) this.#enc.setParameters(sides.encoder);
    if (Object.keys(sides.decoder).length) this.#dec.setParameters(sides.decoder);
    for (const [name, v] of Object.entries(values)) {
      const r = this.#extra.names.find((t) => t[0] === name);
      if (r) this.#extra.w.set(Array.from(v, Number), r[2]);
    }
  }

  /** Everything a training update changes, as copies. */
  #capture(reuse) {
    const x = this.#extra;
    return {
      enc: captureState(coreOf(this.#enc), reuse?.enc), dec: captureState(coreOf(this.#dec), reuse?.dec),
      w: x.w.slice(), moments: x.moments.slice(), steps: x.steps, kind: x.kind,
    };
  }

  #restore(s) {
    restoreState(coreOf(this.#enc), s.enc), restoreState(coreOf(this.#dec), s.dec);
    const x = this.#extra;
    x.w.set(s.w), x.moments.set(s.moments), x.steps = s.steps, x.kind = s.kind;
  }

  /** One update on pairs: every gradient, one joint norm, every parameter. */
  #update(srcs, tgts, lr, o, epoch) {
    const e = this.#engine, ex = e.exports, x = this.#extra;
    const r = this.#pass(srcs, tgts, true);
    if (!Number.isFinite(r.lossSum)) throw new LstmError('ERR_DIVERGED', `train: epoch ${epoch + 1}: the loss is not finite; try a lower learningRate or clipNorm`);
    const cv = Math.fround(o.hyper[HYPER.clipValue]);
    let sq = ex.lw_model_grad_sumsq(coreOf(this.#enc).ptr) + ex.lw_model_grad_sumsq(coreOf(this.#dec).ptr);
    // the extra block's sum of squares in double, index order, after value clipping (as c/optim.c)
    for (let i = 0; i < x.P; i++) {
      const g = cv > 0 ? Math.min(cv, Math.max(-cv, x.g[i])) : x.g[i];
      sq += g * g;
    }
    const norm = Math.sqrt(sq);
    if (!Number.isFinite(norm)) throw new LstmError('ERR_DIVERGED', `train: epoch ${epoch + 1}: the gradient norm is not finite; try a lower learningRate or clipNorm`);
    const fail = (st, what) => {
      if (st === STATUS.notFinite) throw new LstmError('ERR_DIVERGED', `train: epoch ${epoch + 1}: the ${what} update is not finite; try a lower learningRate or clipNorm`);
      e.check(st, 'train');
    };
    fail(ex.lw_model_update(coreOf(this.#enc).ptr, lr, norm), 'encoder');
    fail(ex.lw_model_update(coreOf(this.#dec).ptr, lr, norm), 'decoder');
    const hyper = o.hyper.slice();
    hyper[HYPER.lr] = lr;
    e.scoped((s) => {
      const w = s.reals(x.w), m = s.reals(x.moments);
      const st = ex.lw_optim_block_step(o.optimizerKind, s.reals(hyper), hyper.length, w, s.reals(x.g), m, x.P, x.steps, norm);
      if (st === STATUS.notFinite) throw new LstmError('ERR_DIVERGED', `train: epoch ${epoch + 1}: the update is not finite; try a lower learningRate or clipNorm`);
      if (st !== 0) throw new LstmError('ERR_ENGINE', `train: ${e.cstring(ex.lw_last_error())}`);
      x.w.set(e.readReals(w, x.P)), x.moments.set(e.readReals(m, 2 * x.P));
    });
    x.steps++;
    return { lossSum: r.lossSum, count: r.count };
  }

  /**
   * Trains on pairs (strings or id arrays), teacher forcing, with trainer.js.
   * @returns {Promise<{ loss: number[], valLoss: number[], epochs: number, stopped: boolean }>}
   */
  async train(sources, targets, options = {}) {
    this.#live();
    affirm(!this.#training, 'ERR_OPTION', 'this Seq2Seq is already training; await the running train() first');
    checkPairs(sources, targets);
    if (!this.#enc) {
      const v = vocabulariesFor(sources, targets);
      affirm(v.source && v.target, 'ERR_OPTION', 'train: with token ids, give sourceVocabularySize and targetVocabularySize to create()');
      this.#vocab = v;
      this.#config.sourceVocabularySize = v.source.size, this.#config.targetVocabularySize = v.target.size;
      await this.#build();
    }
    const srcs = this.#sources(sources).ids, tgts = this.#targets(targets).ids;
    const o = resolveTrainOptions(options, { seed: this.#config.seed, perStep: false });
    affirm(!o.truncate, 'ERR_OPTION', 'truncate: Seq2Seq trains whole sequences');
    affirm(o.validationData === undefined, 'ERR_OPTION', 'validationData: use validationSplit with Seq2Seq');
    affirm(o.workers === 1, 'ERR_OPTION', 'workers: Seq2Seq trains in one thread for now; leave workers out (or run it in lstm-wasm/worker)');
    for (const k of ['classWeight', 'sampleWeight']) affirm(o[k] === undefined, 'ERR_OPTION', `${k}: Seq2Seq does not weigh its tokens; leave it out`);
    affirm(!o.metrics.length, 'ERR_OPTION', 'metrics: Seq2Seq has evaluate() for token accuracy and exact match; leave metrics out');
    const split = splitIndices(srcs.length, o.validationSplit);
    const x = this.#extra;
    const snapshot = this.#capture();
    const before = this.#epochsTrained;
    for (const m of [this.#enc, this.#dec]) setOptimizer(coreOf(m), o.optimizerKind, o.hyper, 'train');
    if (x.kind !== o.optimizerKind) x.moments.fill(0), x.steps = 0, x.kind = o.optimizerKind; // as lw_model_set_optimizer
    const lengths = Int32Array.from(tgts, (t) => t.length + 1);
    const { schedule, learningRate } = o, ex = this.#engine.exports;
    const val = split.validation;
    const trainer = new Trainer({
      rows: split.train, lengths, epochs: o.epochs, batchSize: o.batchSize, shuffle: o.shuffle, seed: o.seed,
      epochOffset: this.#epochsTrained, truncate: 0, states: null,
      learningRate: (epoch) => (schedule ? ex.lw_schedule_lr(schedule.kind, learningRate, epoch, schedule.gamma, schedule.every, schedule.floor) : learningRate),
      step: ({ epoch, rows, lr }) => this.#update(Array.from(rows, (i) => srcs[i]), Array.from(rows, (i) => tgts[i]), lr, o, epoch),
      validate: val.length ? () => {
        const r = this.#pass(Array.from(val, (i) => srcs[i]), Array.from(val, (i) => tgts[i]), false);
        return r.lossSum / r.count;
      } : undefined,
      checkpoint: (reuse) => this.#capture(reuse),
      restore: (s) => this.#restore(s),
      live: () => this.#live(),
      epochDone: () => { this.#epochsTrained++; },
      earlyStopping: o.earlyStopping, reduceOnPlateau: o.reduceOnPlateau,
      onEpochEnd: o.onEpochEnd, onBatchEnd: o.onBatchEnd, signal: o.signal, yieldEvery: o.yieldEvery,
    });
    this.#training = true;
    try {
      return await trainer.run();
    } catch (err) {
      if (trainer.updates === 0 && !this.#disposed) { this.#restore(snapshot); this.#epochsTrained = before; }
      throw err;
    } finally {
      this.#training = false;
    }
  }

  /** { loss, tokenAccuracy, exactMatch } with teacher forcing (exactMatch: every token and the end token right). */
  evaluate(sources, targets) {
    this.#built('evaluate');
    checkPairs(sources, targets);
    const srcs = this.#sources(sources).ids, tgts = this.#targets(targets).ids;
    const r = this.#pass(srcs, tgts, false);
    return { loss: r.lossSum / r.count, tokenAccuracy: r.correct / r.count, exactMatch: r.exact / srcs.length };
  }

  /** The decoder's logits and attention for one step from a state; { z, a, state }. */
  #decodeStep(s, tok, state, enc, S) {
    const e = this.#engine, c = this.#config, H = c.hiddenSize, Vt = c.targetVocabularySize;
    const d = this.#dec.forward(this.#tokens(s, [[tok]], 1, Vt, this.#x('target_embedding.weight')).x, state);
    let feat = s.reals(d.output), a = null;
    if (c.attention) {
      const ap = s.reals(S), out = s.reals(H);
      this.#call('lw_attention_forward', 1, 1, S, H, feat, enc.hbar, enc.sl, s.int32([1]),
        enc.wa, enc.wc, ap, out);
      a = Array.from(e.readReals(ap, S));
      feat = out;
    }
    const zp = s.reals(Vt);
    this.#call('lw_head_forward_backward', 1, H, Vt, feat, enc.hw, enc.hb, 0, 1, zp, 0, 0, 0, 0);
    return { z: e.readReals(zp, Vt), a, state: this.#state(d) };
  }

  /** Decodes one source: { ids, attention }. */
  #decode(src, o, rnd) {
    const e = this.#engine, c = this.#config, Vt = c.targetVocabularySize, S = src.length;
    return e.scoped((s) => {
      const r = this.#enc.forward(this.#tokens(s, [this.#srcRow(src)], S, c.sourceVocabularySize, this.#x('source_embedding.weight')).x);
      const enc = {
        hbar: s.reals(r.output), sl: s.int32([S]), hw: s.reals(this.#x('head.weight')), hb: s.reals(this.#x('head.bias')),
        wa: c.attention ? s.reals(this.#x('attention.weight')) : 0, wc: c.attention ? s.reals(this.#x('attention_combine.weight')) : 0,
      };
      const logp = (z) => {
        let mx = -Infinity;
        for (let v = 1; v < Vt; v++) mx = Math.max(mx, z[v]);
        let sum = 0;
        for (let v = 1; v < Vt; v++) sum += Math.exp(z[v] - mx);
        const l = Math.log(sum) + mx;
        return Array.from(z, (zv, v) => (v === 0 ? -Infinity : zv - l)); // never the start token
      };
      if (o.beam > 1) {
        let beams = [{ ids: [], score: 0, state: this.#state(r), done: false, att: [] }];
        for (let step = 0; step < o.maxLength && beams.some((b) => !b.done); step++) {
          const cand = [];
          for (const b of beams) {
            if (b.done) { cand.push(b); continue; }
            const d = this.#decodeStep(s, b.ids.length ? b.ids[b.ids.length - 1] : START, b.state, enc, S);
            const lp = logp(d.z);
            for (let v = 1; v < Vt; v++) {
              cand.push({ ids: v === END ? b.ids : [...b.ids, v], score: b.score + lp[v], state: d.state, done: v === END, att: [...b.att, d.a] });
            }
          }
          cand.sort((p, q) => q.score - p.score);
          beams = cand.slice(0, o.beam);
        }
        const best = beams[0];
        return { ids: best.ids, attention: best.att };
      }
      let state = this.#state(r), tok = START;
      const ids = [], attention = [];
      for (let step = 0; step < o.maxLength; step++) {
        const d = this.#decodeStep(s, tok, state, enc, S);
        state = d.state;
        if (d.a) attention.push(d.a);
        if (o.temperature > 0 && rnd) {
          const p = e.softmax(Array.from(d.z).slice(1), o.temperature);
          let u = rnd(), k = 0;
          while (k < p.length - 1 && u >= p[k]) u -= p[k++];
          tok = k + 1;
        } else {
          tok = 1;
          for (let k = 2; k < Vt; k++) if (d.z[k] > d.z[tok]) tok = k; // arg-max over ids >= 1
        }
        if (tok === END) break;
        ids.push(tok);
      }
      return { ids, attention };
    });
  }

  #translateOptions(options) {
    const o = checkOptions(options, ['maxLength', 'beam', 'temperature', 'seed'], 'translate');
    const r = {
      maxLength: int(o.maxLength ?? 32, 'maxLength', 1, 1 << 16), beam: int(o.beam ?? 1, 'beam', 1, 256),
      temperature: o.temperature ?? 0, seed: int(o.seed ?? 0, 'seed', 0, 0xffffffff),
    };
    affirm(typeof r.temperature === 'number' && r.temperature >= 0 && Number.isFinite(r.temperature), 'ERR_OPTION', 'temperature must be a finite number >= 0 (0: greedy)');
    affirm(!(r.temperature > 0 && r.beam > 1), 'ERR_OPTION', 'translate: give beam or temperature, not both');
    return r;
  }

  /**
   * Translates a source or an array of sources: greedy by default, beam search
   * with { beam }, sampling with { temperature, seed }. Strings back when the
   * model's target side has a vocabulary, else id arrays.
   */
  translate(source, options = {}) {
    this.#built('translate');
    const o = this.#translateOptions(options);
    const one = typeof source === 'string' || (Array.isArray(source) && (source.length === 0 || typeof source[0] === 'number')) || ArrayBuffer.isView(source);
    const list = one ? [source] : source;
    const srcs = one ? [this.#source(source)] : this.#sources(list).ids;
    const rnd = o.temperature > 0 ? uniform(o.seed) : null;
    const out = srcs.map((q) => {
      const ids = this.#decode(q, o, rnd).ids;
      return this.#vocab.target && typeof list[0] === 'string' ? this.#vocab.target.decode(ids) : ids;
    });
    return one ? out[0] : out;
  }

  /** The attention weights of the greedy translation of one source: target step x source step (original order). */
  attention(source, options = {}) {
    this.#built('attention');
    affirm(this.#config.attention, 'ERR_OPTION', 'attention: this model has no attention (create it with attention: \'luong\')');
    const o = this.#translateOptions({ maxLength: options.maxLength });
    const q = this.#source(source);
    const a = this.#decode(q, o, null).attention;
    // the encoder read a reversed source at position S-1-s: give columns in the source's own order
    return this.#config.reverseSource ? a.map((row) => row.slice().reverse()) : a;
  }

  /** The parameters as a safetensors file (PyTorch names). */
  toSafetensors() {
    const params = this.parameters(), shapes = this.parameterShapes(), t = {};
    for (const [n, v] of Object.entries(params)) t[n] = { shape: shapes[n], data: Float32Array.from(v) };
    const c = this.#config;
    return encodeSafetensors(t, { 'lstm-wasm': JSON.stringify({ kind: KIND, cell: c.cell, attention: c.attention, reverseSource: c.reverseSource }) });
  }

  /**
   * A Seq2Seq from a state dict of this shape (safetensors bytes or { name: { shape, data } });
   * sizes come from the shapes.
   */
  static async fromPyTorch(stateDict, options = {}) {
    const o = checkOptions(options, ['cell', 'attention', 'reverseSource', 'engine', 'simd', 'locateWasm', 'sourceVocabulary', 'targetVocabulary'], 'Seq2Seq.fromPyTorch');
    const t = readStateDict(stateDict);
    const cell = o.cell ?? 'lstm', G = { lstm: 4, gru: 3, rnn: 1 }[cell];
    affirm(G, 'ERR_OPTION', `cell must be one of ${CELLS.join(', ')}`);
    const need = (n) => { affirm(t[n], 'ERR_SHAPE', `fromPyTorch: '${n}' is missing`); return t[n]; };
    const whh = need('encoder.weight_hh_l0'), H = whh.shape[1];
    affirm(whh.shape[0] === G * H, 'ERR_SHAPE', `fromPyTorch: encoder.weight_hh_l0 has shape [${whh.shape}], not [${G * H}, ${H}] for cell '${cell}'`);
    let layers = 0;
    while (t[`encoder.weight_ih_l${layers}`]) layers++;
    const head = need('head.weight'), E = t['source_embedding.weight']?.shape[1] ?? 0;
    const Vs = E ? t['source_embedding.weight'].shape[0] : need('encoder.weight_ih_l0').shape[1];
    const attention = o.attention === undefined ? (t['attention.weight'] ? 'luong' : null) : o.attention;
    const m = await Seq2Seq.create({
      hiddenSize: H, layers, cell, embedding: E, attention, reverseSource: o.reverseSource ?? false,
      sourceVocabularySize: o.sourceVocabulary ? undefined : Vs, targetVocabularySize: o.targetVocabulary ? undefined : head.shape[0],
      sourceVocabulary: o.sourceVocabulary, targetVocabulary: o.targetVocabulary, engine: o.engine, simd: o.simd, locateWasm: o.locateWasm,
    });
    try {
      const shapes = m.parameterShapes(), values = {};
      for (const [n, shape] of Object.entries(shapes)) {
        const v = need(n);
        affirm(v.shape.join() === shape.join(), 'ERR_SHAPE', `fromPyTorch: '${n}' has shape [${v.shape}], expected [${shape}]`);
        values[n] = v.data;
      }
      for (const n of Object.keys(t)) affirm(n in shapes, 'ERR_SHAPE', `fromPyTorch: '${n}' is not a parameter of this Seq2Seq (${Object.keys(shapes).join(', ')})`);
      m.setParameters(values);
    } catch (err) {
      m.dispose();
      throw err;
    }
    return m;
  }

  /** Everything needed to translate and to resume training exactly, as bytes (format.js). */
  save() {
    this.#built('save');
    const shapes = this.parameterShapes(), tensors = [];
    for (const [n, v] of Object.entries(this.parameters())) tensors.push({ name: n, data: Float32Array.from(v) });
    const s = this.#capture();
    tensors.push({ name: 'optimizer.encoder', data: Float32Array.from(s.enc.moments) });
    tensors.push({ name: 'optimizer.decoder', data: Float32Array.from(s.dec.moments) });
    tensors.push({ name: 'optimizer.extra', data: Float32Array.from(s.moments) });
    const opt = (q) => ({ kind: q.kind, steps: q.steps, rng: q.rng });
    return encodeModel({
      config: { kind: KIND, ...this.#config },
      tensors,
      extra: {
        shapes, epochsTrained: this.#epochsTrained,
        vocabularies: { source: this.#vocab.source?.toJSON() ?? null, target: this.#vocab.target?.toJSON() ?? null },
        optimizer: { encoder: opt(s.enc), decoder: opt(s.dec), extra: { kind: s.kind, steps: s.steps } },
      },
    });
  }

  /** A Seq2Seq from save()'s bytes. */
  static async load(bytes, options = {}) {
    const o = checkOptions(options, ['engine', 'simd', 'locateWasm'], 'Seq2Seq.load');
    const { config, tensors, extra } = decodeModel(bytes);
    affirm(config?.kind === KIND, 'ERR_FORMAT', 'Seq2Seq.load: this file holds a Model, not a Seq2Seq; use Model.load');
    const { kind, ...c } = config;
    const v = extra?.vocabularies ?? {};
    const m = await Seq2Seq.create({
      ...c, sourceVocabulary: v.source ?? undefined, targetVocabulary: v.target ?? undefined,
      sourceVocabularySize: v.source ? undefined : c.sourceVocabularySize, targetVocabularySize: v.target ? undefined : c.targetVocabularySize, ...o,
    });
    try {
      const byName = Object.fromEntries(tensors.map((t) => [t.name, t.data]));
      const params = {};
      for (const n of Object.keys(m.parameterShapes())) {
        affirm(byName[n], 'ERR_FORMAT', `Seq2Seq.load: tensor '${n}' is missing`);
        params[n] = byName[n];
      }
      m.setParameters(params);
      const s = m.#capture(), e = m.#engine;
      for (const side of ['encoder', 'decoder']) {
        const q = side === 'encoder' ? s.enc : s.dec, saved = extra.optimizer[side];
        q.moments.set(byName[`optimizer.${side}`]), q.kind = saved.kind, q.steps = saved.steps, q.rng = saved.rng;
      }
      s.moments = e.Real.from(byName['optimizer.extra']), s.kind = extra.optimizer.extra.kind, s.steps = extra.optimizer.extra.steps;
      s.w = m.#extra.w.slice();
      m.#restore(s);
      m.#epochsTrained = extra.epochsTrained;
    } catch (err) {
      m.dispose();
      throw err instanceof LstmError ? err : new LstmError('ERR_FORMAT', `Seq2Seq.load: ${err.message}`);
    }
    return m;
  }

  /** Frees both models; later calls throw ERR_DISPOSED. */
  dispose() {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#enc?.dispose(), this.#dec?.dispose();
    this.#enc = this.#dec = this.#extra = null;
  }
}

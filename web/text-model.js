// TextModel: a character-level LSTM over a Model. It learns its vocabulary
// from the text (or takes one), trains many-to-many on next-character
// prediction with one-hot inputs, and generates with seeded sampling at a
// temperature. Vocabulary and mode are saved inside the Model's file.
import { Model, coreOf } from './model.js';
import { train } from './training.js';
import { LstmError, affirm } from './errors.js';
import { checkInt, checkNumber, checkOptions } from './validate.js';
import { seededUniform } from './data.js';
import { checkTextModel } from './file-checks.js';

// Index 0 marks a boundary: the start of a text, and both ends of each string.
const BOUNDARY = '\u0000';
const CREATE_OPTIONS = ['hiddenSize', 'layers', 'cell', 'gates', 'vocabulary', 'dropout', 'seed', 'simd', 'locateWasm', 'engine'];

export class TextModel {
  #options;
  #model = null;
  #vocab = null; // tokens by index; [0] is BOUNDARY
  #index = null;
  #mode = null; // 'text' (one long text) or 'strings' (a list of separate strings)

  constructor(options, token) {
    affirm(token === CONSTRUCT, 'ERR_TYPE', 'use TextModel.create(options)');
    this.#options = options;
  }

  /**
   * @param {{ hiddenSize?: number|number[], layers?: number, cell?: string, gates?: object, vocabulary?: string|string[], dropout?: number, seed?: number }} [options]
   *   Without `vocabulary`, the characters of the first training text become the vocabulary.
   */
  static async create(options = {}) {
    const o = checkOptions(options, CREATE_OPTIONS, 'TextModel.create');
    const tm = new TextModel({ hiddenSize: 128, layers: 2, seed: 42, ...o }, CONSTRUCT);
    const { layers, hiddenSize, dropout } = tm.#options;
    const L = Array.isArray(hiddenSize) && o.layers === undefined ? hiddenSize.length : layers;
    affirm(!(dropout > 0 && L < 2), 'ERR_OPTION', `TextModel.create: dropout ${dropout} applies between stacked layers, and this model has one layer; `
      + 'use layers: 2 or more, or dropout: 0 (recurrent dropout is not available yet)');
    if (o.vocabulary !== undefined) {
      const chars = typeof o.vocabulary === 'string' ? Array.from(o.vocabulary) : o.vocabulary;
      affirm(Array.isArray(chars) && chars.length && chars.every((c) => typeof c === 'string' && c.length >= 1 && c !== BOUNDARY), 'ERR_TYPE',
        'vocabulary must be a non-empty string or array of non-empty strings');
      // the text is read character by character, so a longer entry could never match (it failed at train before)
      const long = chars.find((c) => Array.from(c).length > 1);
      affirm(long === undefined, 'ERR_OPTION', () => `TextModel.create: vocabulary entry ${JSON.stringify(long)} is ${Array.from(long).length} characters; `
        + 'a TextModel reads single characters, so give one character per entry (a string such as \'abc\' is split for you)');
      await tm.#build([...new Set(chars)]);
    }
    return tm;
  }

  #setVocabulary(tokens) {
    this.#vocab = [BOUNDARY, ...tokens];
    this.#index = new Map(this.#vocab.map((c, i) => [c, i]));
  }

  async #build(tokens) {
    this.#setVocabulary(tokens);
    const { hiddenSize, layers, cell, gates, dropout, seed, simd, locateWasm, engine } = this.#options;
    const V = this.#vocab.length;
    this.#model = await Model.create({ inputSize: V, outputSize: V, hiddenSize, layers, cell, gates, dropout, seed, simd,
      locateWasm, engine, returnSequences: true, loss: 'softmax-cross-entropy' });
  }

  /** The vocabulary, in index order (without the boundary marker). */
  get vocabulary() {
    return this.#vocab ? this.#vocab.slice(1) : null;
  }

  /** The underlying Model (for parameters(), save formats, trace()). */
  get model() {
    return this.#model;
  }

  #tokens(text, where) {
    const out = [];
    let at = 0;
    for (const ch of text) {
      const k = this.#index.get(ch);
      affirm(k !== undefined, 'ERR_OPTION', () => `${where}: character ${JSON.stringify(ch)} (at ${at}) is not in the vocabulary `
        + 'the model learned; leave it out, or give TextModel.create a vocabulary that has it');
      out.push(k);
      at++;
    }
    return out;
  }

  /** Token sequences as one-hot inputs in the fast form { data, shape: [B, T, V], lengths }. */
  #oneHot(seqs, steps = seqs.reduce((n, q) => Math.max(n, q.length), 1)) {
    const V = this.#vocab.length, T = steps;
    const data = new Float32Array(seqs.length * T * V);
    seqs.forEach((q, b) => q.forEach((k, t) => { data[(b * T + t) * V + k] = 1; }));
    return { data, shape: [seqs.length, T, V], lengths: Int32Array.from(seqs, (q) => q.length) };
  }

  /**
   * Learns from one text (cut into windows of `seqLength` characters) or
   * from a list of strings (each its own sequence, with its ends marked).
   * Other options are Model#train's.
   */
  async train(data, options = {}) {
    affirm(options !== null && typeof options === 'object', 'ERR_TYPE', `TextModel.train: options must be an object, got ${options === null ? 'null' : typeof options}`);
    const { seqLength: sl, ...rest } = options;
    const isText = typeof data === 'string';
    affirm(isText || (Array.isArray(data) && data.length && data.every((s) => typeof s === 'string')), 'ERR_TYPE',
      'TextModel.train: expected a string or an array of strings');
    affirm(isText ? data.length >= 2 : data.some((s) => s.length), 'ERR_SHAPE', 'TextModel.train: the text is empty (need at least 2 characters)');
    const seqLength = checkInt(sl ?? 64, 'seqLength', 2, 100000);
    const mode = isText ? 'text' : 'strings';
    affirm(!this.#mode || this.#mode === mode, 'ERR_OPTION', `TextModel.train: this model learned ${this.#mode === 'text' ? 'one text' : 'a list of strings'}; train it on the same kind`);
    if (!this.#model) await this.#build([...new Set(isText ? Array.from(data) : data.flatMap((s) => Array.from(s)))].sort());
    const seqs = [], targets = [];
    if (isText) {
      const tokens = [0, ...this.#tokens(data, 'TextModel.train')];
      for (let at = 0; at + 1 < tokens.length; at += seqLength) {
        const piece = tokens.slice(at, at + seqLength + 1); // 2 tokens at least: the loop leaves 2, and seqLength >= 2
        seqs.push(piece.slice(0, -1));
        targets.push(piece.slice(1));
      }
    } else {
      data.forEach((s, k) => {
        const tokens = this.#tokens(s, `TextModel.train: strings[${k}]`);
        seqs.push([0, ...tokens]);
        targets.push([...tokens, 0]);
      });
    }
    // its own data path: one-hot inputs and targets, staged as they are (nothing to check or scale)
    const seq = this.#oneHot(seqs), tdata = this.#oneHot(targets, seq.shape[1]).data;
    const history = await train(coreOf(this.#model), { seq, tdata }, { learningRate: 0.005, clipNorm: 1, ...rest });
    this.#mode = mode;
    coreOf(this.#model).annotations = { textModel: { vocabulary: this.#vocab.slice(1), mode } };
    return history;
  }

  /**
   * Continues `prompt` by up to `length` characters (a string model stops
   * at the end of a string). Sampling is seeded: the same seed gives the
   * same text; temperature < 1 is more conservative, > 1 more adventurous.
   */
  generate(prompt = '', length = 100, options = {}) {
    affirm(this.#model && this.#mode, 'ERR_OPTION', 'TextModel.generate: train the model first');
    const o = checkOptions(options, ['temperature', 'seed', 'topK', 'topP', 'stop'], 'generate');
    const temperature = checkNumber(o.temperature ?? 1, 'temperature', 1e-3, 100);
    // no seed: a fresh one each call, so calls differ (give a seed to repeat a text)
    const rand = seededUniform(o.seed === undefined ? randomSeed() : checkInt(o.seed, 'seed', 0, 0xffffffff));
    const topK = o.topK === undefined ? 0 : checkInt(o.topK, 'topK', 1, 1e6);
    const topP = o.topP === undefined ? 1 : checkNumber(o.topP, 'topP', 0, 1);
    affirm(o.topP === undefined || topP > 0, 'ERR_RANGE', 'topP must be above 0 (1 keeps every character)');
    const stop = o.stop === undefined ? [] : [o.stop].flat();
    affirm(stop.every((x) => typeof x === 'string' && x.length), 'ERR_TYPE', 'stop must be a non-empty string or an array of them');
    checkInt(length, 'length', 0, 1e6);
    affirm(typeof prompt === 'string', 'ERR_TYPE', 'TextModel.generate: prompt must be a string');
    const { engine } = coreOf(this.#model);
    const stream = this.#model.stream({ logits: true });
    const V = this.#vocab.length, x = new Float32Array(V);
    const feed = (k) => { x.fill(0); x[k] = 1; return stream.step(x); };
    try {
      let logits, p = null;
      for (const k of [0, ...this.#tokens(prompt, 'TextModel.generate: prompt')]) logits = feed(k);
      let text = '';
      for (let n = 0; n < length; n++) {
        if (!p) {
          p = engine.softmax(logits, temperature); // once per feed: a boundary draw in 'text' mode feeds nothing
          if (topK || topP < 1) p = truncated(p, topK, topP);
        }
        let u = rand(), k = 0;
        while (k < V - 1 && (u -= p[k]) >= 0) k++;
        if (k === 0) { if (this.#mode === 'strings') break; continue; }
        text += this.#vocab[k];
        const hit = stop.find((x) => text.endsWith(x));
        if (hit) return text.slice(0, text.length - hit.length); // the stop string ends the text and is not part of it
        logits = feed(k), p = null;
      }
      return text;
    } finally {
      stream.dispose();
    }
  }

  /**
   * The model's loss on held-out text: the mean cross-entropy per character
   * predicted (natural log, as train() reports it) and the perplexity e^loss.
   * A text model reads `text` as one sequence from the start marker; a
   * strings model takes a string or a list of strings, each with its ends
   * marked, as in train(). A character outside the vocabulary is an error naming it.
   * @returns {{ loss: number, perplexity: number }}
   */
  evaluate(data) {
    affirm(this.#model && this.#mode, 'ERR_OPTION', 'TextModel.evaluate: train the model first');
    const list = typeof data === 'string' ? [data] : data;
    affirm(Array.isArray(list) && list.length && list.every((x) => typeof x === 'string'), 'ERR_TYPE',
      'TextModel.evaluate: expected a string or an array of strings');
    affirm(this.#mode === 'strings' || list.length === 1, 'ERR_TYPE', 'TextModel.evaluate: this model learned one text; give a string');
    const seqs = [], targets = [];
    list.forEach((x, k) => {
      const tokens = this.#tokens(x, list.length > 1 ? `TextModel.evaluate: strings[${k}]` : 'TextModel.evaluate');
      if (this.#mode === 'text') {
        affirm(tokens.length >= 1, 'ERR_SHAPE', 'TextModel.evaluate: the text is empty');
        seqs.push([0, ...tokens.slice(0, -1)]), targets.push(tokens);
      } else {
        seqs.push([0, ...tokens]), targets.push([...tokens, 0]);
      }
    });
    const seq = this.#oneHot(seqs), t = this.#oneHot(targets, seq.shape[1]);
    const { loss } = this.#model.evaluate(seq, { data: t.data, shape: t.shape });
    return { loss, perplexity: Math.exp(loss) };
  }

  /** The gates and states at each character of `text` (see Model#trace), after the start marker. */
  trace(text) {
    affirm(this.#model, 'ERR_OPTION', 'TextModel.trace: train the model first');
    affirm(typeof text === 'string' && text.length, 'ERR_TYPE', 'TextModel.trace: expected a non-empty string');
    return this.#model.trace(this.#oneHot([this.#tokens(text, 'TextModel.trace')]));
  }

  /** The weights as safetensors, for PyTorch (the vocabulary is in `vocabulary`). */
  toSafetensors() {
    affirm(this.#model, 'ERR_OPTION', 'TextModel.toSafetensors: train the model first');
    return this.#model.toSafetensors();
  }

  /** Bytes of the Model file, vocabulary included; `{ optimizer: false }` as Model#save. */
  save(options = {}) {
    affirm(this.#model && this.#mode, 'ERR_OPTION', 'TextModel.save: train the model first');
    return this.#model.save(options);
  }

  static async load(bytes, options = {}) {
    const model = await Model.load(bytes, options);
    let meta;
    try {
      // Model.load has checked a textModel annotation if there is one; its absence is checked here
      meta = coreOf(model).annotations?.textModel;
      affirm(meta, 'ERR_FORMAT', 'TextModel.load: these bytes hold a Model without a vocabulary; use Model.load');
      meta = checkTextModel(meta, model.config);
    } catch (err) {
      model.dispose();
      throw err;
    }
    const tm = new TextModel({}, CONSTRUCT);
    tm.#model = model;
    tm.#setVocabulary(meta.vocabulary);
    tm.#mode = meta.mode;
    return tm;
  }

  dispose() {
    this.#model?.dispose();
  }
}

const CONSTRUCT = Symbol('construct');

/** A seed for a generate() call without one. */
function randomSeed() {
  const c = globalThis.crypto;
  return c?.getRandomValues ? c.getRandomValues(new Uint32Array(1))[0] : Math.floor(Math.random() * 2 ** 32) >>> 0;
}

/**
 * Top-k, then top-p (nucleus) truncation of a distribution: the k likeliest
 * entries, then the fewest of those whose probabilities reach p; the rest
 * become 0 and the kept ones are renormalised. Ties keep the lower index.
 */
function truncated(p, topK, topP) {
  const order = Array.from(p, (_, k) => k).sort((a, b) => p[b] - p[a] || a - b);
  let keep = topK ? Math.min(topK, order.length) : order.length;
  if (topP < 1) {
    let mass = 0, n = 0;
    while (n < keep && mass < topP) mass += p[order[n++]];
    keep = Math.max(1, n);
  }
  const out = new Float64Array(p.length);
  let total = 0;
  for (let j = 0; j < keep; j++) total += p[order[j]];
  for (let j = 0; j < keep; j++) out[order[j]] = p[order[j]] / total;
  return out;
}

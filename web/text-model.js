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
    for (const ch of text) {
      const k = this.#index.get(ch);
      affirm(k !== undefined, 'ERR_OPTION', () => `${where}: character ${JSON.stringify(ch)} is not in the vocabulary`);
      out.push(k);
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
    const o = checkOptions(options, ['temperature', 'seed'], 'generate');
    const temperature = checkNumber(o.temperature ?? 1, 'temperature', 1e-3, 100);
    const rand = seededUniform(checkInt(o.seed ?? 0, 'seed', 0, 0xffffffff));
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
        p ??= engine.softmax(logits, temperature); // once per feed: a boundary draw in 'text' mode feeds nothing
        let u = rand(), k = 0;
        while (k < V - 1 && (u -= p[k]) >= 0) k++;
        if (k === 0) { if (this.#mode === 'strings') break; continue; }
        text += this.#vocab[k];
        logits = feed(k), p = null;
      }
      return text;
    } finally {
      stream.dispose();
    }
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

// What a Model is inside, shared by the modules that implement its methods
// (training.js, stream.js, forecast.js, metrics.js, persist.js, naming.js) and
// by wrappers (TextModel): the engine model and its configuration, the scaling,
// the counters save() keeps, and the engine calls those modules share.
import { affirm } from './errors.js';
import { toSequences, toTargets } from './data.js';
import { REGRESSION } from './config.js';
import { FLAG, TENSOR, TENSOR_INFO, TENSOR_STEMS, configInts } from './engine-abi.js';
import { engineCell, gateFlags } from './cells.js';
import { Scaling } from './scaling.js';
import { differenceInputs, differenceTargets, undoDifference } from './difference.js';

export const DISPOSED = 'this model was disposed; create or load a new one';
export const STREAM_DISPOSED = 'this stream (or its model) was disposed';

export const FLAG_TIME_MAJOR = FLAG.timeMajor, FLAG_RAW = FLAG.raw;
const HEAD_WEIGHT = TENSOR.headWeight, HEAD_BIAS = TENSOR.headBias;

/** The engine model for a resolved configuration; throws the engine's error. */
function createEngineModel(engine, c) {
  const ints = configInts(c, engineCell(c.cell), gateFlags(c.gates));
  // a status (ERR_NO_MEMORY for a model too large for wasm32) and the pointer through an out argument
  return engine.scoped((s) => engine.created((out) => engine.exports.lw_model_create(s.int32(ints), ints.length, c.forgetBias, c.dropout, out), 'Model.create'));
}

/** Bytes of workspace one predict may take before its batch is split: W3 (H 256, 2 layers) at B 32 x T 100 needs 51 MiB, under it. */
const WORKSPACE_CAP = 128 * 2 ** 20;

export class ModelCore {
  constructor(engine, config) {
    this.engine = engine;
    this.config = config;
    this.ptr = createEngineModel(engine, config);
    this.scaling = new Scaling(config.returnSequences);
    this.names = { prefix: '', head: 'head.' }; // state-dict prefixes, kept from fromPyTorch
    this.training = false;
    this.stopTraining = false; // model.stopTraining (TF.js): the loop stops at the next batch; train() clears it
    this.epochsTrained = 0; // shuffles use seed + this, so train(2) then train(2) equals train(4)
    this.window = 0; // longest training sequence: the context forecast() gives a many-to-one model
    this.streams = new Set();
    this.annotations = null; // JSON saved with the model for wrappers such as TextModel
    this.lastForward = null; // { B, T, F, nState } of the last forward(), for backward()
  }

  live() {
    affirm(this.ptr, 'ERR_DISPOSED', DISPOSED);
    this.engine.usable(this.ptr); // ERR_ENGINE once a call on this model trapped (engine.js)
  }

  /** The engine's exports, once the model is known to be alive. */
  exports() {
    this.live();
    return this.engine.exports;
  }

  get regression() {
    return REGRESSION.has(this.config.loss);
  }

  /**
   * Converts inputs to the staged batch-first form: differenced when the model
   * differences (seq.raw then keeps the levels, for the targets and outputs),
   * then the input scaler.
   */
  inputs(inputs, name = 'inputs') {
    const raw = toSequences(inputs, { name, inputSize: this.config.inputSize });
    const d = this.config.difference;
    const seq = d ? differenceInputs(raw, d) : raw;
    if (d) seq.raw = raw;
    this.scaling.scaleInputs(seq);
    return seq;
  }

  /** Targets as the model learns them: changes over `difference` steps for a differencing model (a copy), else as they are. */
  learnedTargets(tdata, seq) {
    return this.config.difference ? differenceTargets(tdata, seq.raw, this.config.difference, this.config.outputSize) : tdata;
  }

  /** Outputs (in the targets' units) back to levels for a differencing model, in place. */
  undoDifference(out, seq) {
    if (this.config.difference) undoDifference(out, seq.raw, this.config.difference, this.config.outputSize);
  }

  /** Converts targets for the sequences seq (unscaled). */
  targets(targets, seq, name = 'targets') {
    const c = this.config;
    affirm(c.outputSize > 0, 'ERR_OPTION', 'this model has no output layer (outputSize 0); use forward() and backward()');
    const [B, T] = seq.shape;
    return toTargets(targets, {
      name, batch: B, lengths: seq.lengths, steps: T, outputSize: c.outputSize,
      perStep: c.returnSequences, classes: !this.regression,
    });
  }

  /**
   * Forward pass of the whole model on staged data; { out, loss }. A batch
   * whose workspace would pass WORKSPACE_CAP runs in pieces of rows (each
   * row's outputs do not depend on the others: the same bits), so one large
   * predict does not leave the engine's memory grown for good (issue 11);
   * the loss is then the pieces' losses weighted by their counts.
   */
  run(seq, tdata, flags = 0) {
    const e = this.engine, ex = this.exports();
    const [B, T, I] = seq.shape, O = this.config.outputSize, perStep = this.config.returnSequences;
    const rowOut = (perStep ? T : 1) * O;
    const bytes = ex.lw_model_workspace_bytes(this.ptr, B, T);
    const chunk = bytes > WORKSPACE_CAP ? Math.max(1, Math.floor(B * WORKSPACE_CAP / bytes)) : B;
    const out = new e.Real(B * rowOut);
    let lossSum = 0, weight = 0, loss;
    for (let b0 = 0; b0 < B; b0 += chunk) {
      const nb = Math.min(chunk, B - b0), lengths = seq.lengths.subarray(b0, b0 + nb);
      loss = e.scoped((s) => {
        const o = s.reals(nb * rowOut), l = s.reals(1);
        const status = ex.lw_model_predict(this.ptr, s.reals(seq.data.subarray(b0 * T * I, (b0 + nb) * T * I)), s.int32(lengths), nb, T,
          flags, o, tdata ? s.reals(tdata.subarray(b0 * rowOut, (b0 + nb) * rowOut)) : 0, l);
        e.check(status, 'predict');
        out.set(e.viewReals(o, nb * rowOut), b0 * rowOut);
        return tdata ? e.readReals(l, 1)[0] : undefined;
      });
      if (chunk < B && tdata) { // loss rows: steps for many-to-many, sequences otherwise
        const w = perStep ? lengths.reduce((a, n) => a + n, 0) : nb;
        lossSum += loss * w, weight += w;
      }
    }
    if (chunk < B && tdata) loss = lossSum / weight;
    return { out, loss };
  }

  /** Mean loss over rows (all if rows is undefined) of already-scaled data. */
  lossOn(seq, tdata, rows) {
    const [B0, T, I] = seq.shape, O = this.config.outputSize, per = this.config.returnSequences ? T * O : O;
    const idx = rows ?? Int32Array.from({ length: B0 }, (_, i) => i);
    const x = new Float32Array(idx.length * T * I), y = new Float32Array(idx.length * per), lengths = new Int32Array(idx.length);
    idx.forEach((b, k) => {
      x.set(seq.data.subarray(b * T * I, (b + 1) * T * I), k * T * I);
      y.set(tdata.subarray(b * per, (b + 1) * per), k * per);
      lengths[k] = seq.lengths[b];
    });
    return this.run({ data: x, shape: [idx.length, T, I], lengths }, y).loss;
  }

  /** Tensor table from the engine: [{ name, kind, layer, dir, offset, shape }]. */
  tensors() {
    const e = this.engine, ex = this.exports();
    const n = ex.lw_model_tensor_count(this.ptr);
    return e.scoped((s) => {
      const at = TENSOR_INFO, info = s.int32(at.size);
      const list = [];
      for (let k = 0; k < n; k++) {
        e.check(ex.lw_model_tensor_info(this.ptr, k, info), 'parameters');
        const v = e.readInt32(info, at.size), kind = v[at.kind], layer = v[at.layer], dir = v[at.dir], offset = v[at.offset];
        const name = kind === HEAD_WEIGHT || kind === HEAD_BIAS ? `head.${kind === HEAD_WEIGHT ? 'weight' : 'bias'}`
          : `${TENSOR_STEMS[kind]}_l${layer}${dir ? '_reverse' : ''}`;
        // by rank, so a one-column matrix such as weight_ih_l0 of inputSize 1 stays [4H, 1]
        list.push({ name, kind, layer, dir, offset, shape: v[at.rank] === 1 ? [v[at.rows]] : [v[at.rows], v[at.cols]] });
      }
      return list;
    });
  }

  /** Copies of the tensors at base(exports) (the parameters or the gradients), by name. */
  read(base) {
    const e = this.engine, ex = this.exports();
    const ptr = base(ex), out = {};
    for (const t of this.tensors()) out[t.name] = e.readReals(ptr + t.offset * e.realSize, t.shape.reduce((a, b) => a * b, 1));
    return out;
  }

  /** Frees the engine model and its streams; later calls throw ERR_DISPOSED. */
  free() {
    if (!this.ptr) return;
    for (const s of this.streams) s.dispose();
    this.engine.exports.lw_model_free(this.ptr);
    this.ptr = 0;
  }
}

// Model#train over the shared loop (trainer.js): options, data conversion and
// scaling, staging the training set in wasm once, the engine's training step
// (or, with workers: n, the step over a pool of replicas: pool.js),
// and the promise that a train() failing before its first update leaves the
// model exactly as it was (save()'s bytes unchanged).
import { LstmError, affirm } from './errors.js';
import { splitIndices, toSequences } from './data.js';
import { resolveTrainOptions } from './config.js';
import { Trainer } from './trainer.js';
import { captureState, restoreState, save, setOptimizer } from './persist.js';
import { STATUS } from './engine-abi.js';
import { Pool, resolveWorkers, shard } from './pool.js';
import { metrics as measure } from './metrics.js';
import { differenceInputs, differenceTargets } from './difference.js';
import { checkNumber } from './validate.js';

/**
 * Per-row loss weights as target scaling, where that is exact: softmax
 * cross-entropy's loss is -Σ t_k log p_k and its gradient (p·Σt - t) (c/loss.c),
 * both linear in the target row, so a row scaled by w weighs w times (Keras's
 * reduction: the weighted sum over the batch's rows, divided by their number).
 * The other losses are not linear in the target; weighting them needs the engine.
 * Returns a weighted copy of the training targets, or null when no weights are given.
 */
function weighTargets(core, tdata, seq, rows, { classWeight, sampleWeight }) {
  if (classWeight === undefined && sampleWeight === undefined) return null;
  const c = core.config, O = c.outputSize, [B, T] = seq.shape;
  affirm(c.loss === 'softmax-cross-entropy', 'ERR_OPTION', () => `${classWeight !== undefined ? 'classWeight' : 'sampleWeight'}: `
    + `weights apply to loss 'softmax-cross-entropy' only for now, not '${c.loss}' (its loss is not linear in the target, `
    + 'so the weights need the engine; for two classes use softmax-cross-entropy with outputSize 2)');
  let perClass = null, perRow = null;
  if (classWeight !== undefined) {
    affirm(classWeight && typeof classWeight === 'object', 'ERR_TYPE', 'classWeight must be { [class]: weight } or an array of weights');
    perClass = new Float64Array(O).fill(1);
    for (const [k, w] of Object.entries(classWeight)) {
      const cls = Number(k);
      affirm(Number.isInteger(cls) && cls >= 0 && cls < O, 'ERR_OPTION', `classWeight: class '${k}' is not a class index from 0 to ${O - 1}`);
      perClass[cls] = checkNumber(w, `classWeight[${k}]`, 0, 1e6);
    }
  }
  if (sampleWeight !== undefined) {
    affirm(sampleWeight && typeof sampleWeight.length === 'number', 'ERR_TYPE', 'sampleWeight must be an array with one weight per sequence');
    affirm(sampleWeight.length === B, 'ERR_SHAPE', `sampleWeight has ${sampleWeight.length} weights but there are ${B} sequences`);
    perRow = Float64Array.from(sampleWeight, (w, b) => checkNumber(w, `sampleWeight[${b}]`, 0, 1e6));
  }
  const out = tdata.slice(), steps = c.returnSequences ? T : 1;
  for (const b of rows) {
    for (let t = 0; t < steps; t++) {
      const at = (b * steps + t) * O;
      let w = perRow ? perRow[b] : 1;
      if (perClass) {
        let k = 0;
        for (let j = 1; j < O; j++) if (out[at + j] > out[at + k]) k = j;
        w *= perClass[k];
      }
      if (w !== 1) for (let j = 0; j < O; j++) out[at + j] *= w;
    }
  }
  return out;
}

/**
 * The per-epoch metrics (evaluate()'s, in the targets' units) on the rows of
 * scaled inputs seq, against raw targets; forward passes only, so the
 * weights, the optimizer and the dropout generator are untouched.
 */
function measureRows(core, seq, raw, rows) {
  const c = core.config, [, T, I] = seq.shape, per = c.returnSequences ? T * c.outputSize : c.outputSize;
  const CHUNK = 256, sums = {};
  let n = 0;
  for (let s0 = 0; s0 < rows.length; s0 += CHUNK) {
    const idx = rows.subarray(s0, s0 + CHUNK), k = idx.length;
    const x = new Float32Array(k * T * I), y = new Float32Array(k * per), lengths = new Int32Array(k);
    idx.forEach((b, j) => {
      x.set(seq.data.subarray(b * T * I, (b + 1) * T * I), j * T * I);
      y.set(raw.subarray(b * per, (b + 1) * per), j * per);
      lengths[j] = seq.lengths[b];
    });
    const part = { data: x, shape: [k, T, I], lengths };
    const { out } = core.run(part, null);
    core.scaling.invertOutputs(out, part);
    // weigh each chunk by its loss rows, so the chunks average as one batch would
    let w = 0;
    for (let j = 0; j < k; j++) w += c.returnSequences ? lengths[j] : 1;
    for (const [name, v] of Object.entries(measure(out, y, part, c, core.regression))) sums[name] = (sums[name] ?? 0) + v * w;
    n += w;
  }
  return Object.fromEntries(Object.entries(sums).map(([name, v]) => [name, v / n]));
}

/** The (layer, direction) state blocks [H_l], in the engine's (L·D, B, H_l) order. */
function stateBlocks(c) {
  const blocks = [];
  for (const h of c.hiddenSize) for (let d = 0; d < (c.bidirectional ? 2 : 1); d++) blocks.push(h);
  return blocks;
}

/** Converts and checks all the data (training, validation) before anything changes. */
function convert(core, data, o) {
  const c = core.config, d = c.difference;
  const raw = data.seq ?? toSequences(data.inputs, { name: 'inputs', inputSize: c.inputSize });
  // a differencing model learns changes over d steps (difference.js); the levels' length is forecast()'s window
  const seq = d ? differenceInputs(raw, d) : raw;
  const tdata = data.tdata ?? core.targets(data.targets, seq).data;
  let val = null;
  if (o.validationData !== undefined) {
    affirm(Array.isArray(o.validationData) && o.validationData.length === 2, 'ERR_TYPE', 'validationData must be [inputs, targets]');
    const vraw = toSequences(o.validationData[0], { name: 'validationData[0]', inputSize: c.inputSize });
    const vs = d ? differenceInputs(vraw, d) : vraw;
    const vt = core.targets(o.validationData[1], vs, 'validationData[1]').data;
    val = { seq: vs, tdata: d ? differenceTargets(vt, vraw, d, c.outputSize) : vt };
  }
  const B = seq.shape[0];
  const split = val ? { train: Int32Array.from({ length: B }, (_, i) => i), validation: new Int32Array(0) } : splitIndices(B, o.validationSplit);
  return { seq, tdata: d ? differenceTargets(tdata, raw, d, c.outputSize) : tdata, val, split, steps: raw.shape[1] };
}

/** Fits the scalers on the training rows if the model has none, and scales copies of the data (validation in place). */
function scale(core, { seq: raw, tdata: rawTargets, val, split }) {
  const c = core.config;
  if (!core.scaling.fitted && c.normalize) core.scaling.fit(raw, rawTargets, split.train, { outputSize: c.outputSize, mode: c.normalize, targets: core.regression });
  const seq = { ...raw, data: raw.data.slice() };
  const tdata = rawTargets.slice();
  if (core.scaling.fitted) {
    core.scaling.scaleInputs(seq);
    core.scaling.scaleTargets(tdata, seq);
    if (val) { core.scaling.scaleInputs(val.seq); core.scaling.scaleTargets(val.tdata, val.seq); }
  }
  return { seq, tdata, val: val ?? (split.validation.length ? { seq, tdata, rows: split.validation } : null) };
}

/**
 * Stages the training set in wasm once (each step then names its rows) and
 * gives the engine's training step over it, in trainer.js's contract; free()
 * gives the buffers back.
 */
function stage(core, seq, tdata, { batchSize, truncate }, rowCount) {
  const e = core.engine, ex = e.exports, c = core.config;
  const [B, T, I] = seq.shape, perStep = c.returnSequences, tw = perStep ? T * c.outputSize : c.outputSize;
  const bmax = Math.min(batchSize, rowCount);
  const stateRow = stateBlocks(c).reduce((n, H) => n + H, 0);
  const ptrs = [];
  const alloc = (bytes) => { const p = e.alloc(bytes); ptrs.push(p); return p; };
  const free = () => {
    if (core.ptr && !e.faulted(core.ptr)) ex.lw_model_set_data(core.ptr, 0, 0, 0, 0); // a trap's own error stands
    for (const p of ptrs) e.free(p);
  };
  try {
    const xPtr = alloc(B * T * I * e.realSize), yPtr = alloc(B * tw * e.realSize);
    const rowsPtr = alloc(bmax * 4), lPtr = alloc(bmax * 4), lossPtr = alloc(16); // a real, or grad_rows' two doubles
    const [h0Ptr, c0Ptr, hnPtr, cnPtr] = truncate ? [0, 0, 0, 0].map(() => alloc(bmax * stateRow * e.realSize)) : [0, 0, 0, 0];
    e.writeReals(xPtr, seq.data);
    e.writeReals(yPtr, tdata);
    e.check(ex.lw_model_set_data(core.ptr, xPtr, yPtr, B, T), 'train');
    /** One update on staged rows. */
    const step = ({ epoch, rows, lengths, t0, steps, lr, h0, c0, wantStates }) => {
      const na = rows.length;
      e.writeInt32(rowsPtr, rows);
      e.writeInt32(lPtr, lengths);
      if (h0) { e.writeReals(h0Ptr, h0); e.writeReals(c0Ptr, c0); }
      const status = ex.lw_model_train_rows(core.ptr, rowsPtr, lPtr, na, steps, t0, lr, lossPtr,
        h0 ? h0Ptr : 0, h0 ? c0Ptr : 0, wantStates ? hnPtr : 0, wantStates ? cnPtr : 0);
      if (status === STATUS.notFinite) throw new LstmError('ERR_DIVERGED', `train: epoch ${epoch + 1}: ${e.cstring(ex.lw_last_error())}; try a lower learningRate or clipNorm`);
      e.check(status, 'train');
      const loss = e.readReals(lossPtr, 1)[0];
      let weight = 0; // loss rows: steps for many-to-many, sequences otherwise
      for (let a = 0; a < na; a++) weight += perStep ? lengths[a] : 1;
      return {
        lossSum: loss * weight, count: weight,
        hn: wantStates ? e.readReals(hnPtr, na * stateRow) : null, cn: wantStates ? e.readReals(cnPtr, na * stateRow) : null,
      };
    };
    const buffers = { rowsPtr, lPtr, lossPtr, states: [h0Ptr, c0Ptr, hnPtr, cnPtr], stateRow };
    return { step, free, grad: (args) => gradRows(core, buffers, args) };
  } catch (err) {
    free();
    throw err;
  }
}

/** { accuracy, valAccuracy } or { mae, valMae, mse, valMse }: the names asked for, on training and validation rows. */
function epochMetrics(core, names, train, val) {
  const out = {}, t = measureRows(core, train.seq, train.raw, train.rows);
  const v = val && val.rows.length ? measureRows(core, val.seq, val.raw, val.rows) : null;
  for (const m of names) {
    out[m] = t[m];
    if (v) out[`val${m[0].toUpperCase()}${m.slice(1)}`] = v[m];
  }
  return out;
}

/**
 * lw_model_grad_rows on rows of the staged data, through `buffers` (rowsPtr,
 * lPtr, lossPtr of 16 bytes, states [h0, c0, hn, cn], stateRow): the rows'
 * loss sum and count, and their gradient divided by `norm` left in the
 * model's gradient buffer; no update, no dropout. { notFinite: message } when
 * the loss is not finite. One shard of a data-parallel step (here and in replica.js).
 */
export function gradRows(core, buffers, { rows, lengths, t0, steps, norm, h0, c0, wantStates }) {
  const e = core.engine, ex = e.exports, { rowsPtr, lPtr, lossPtr, stateRow } = buffers;
  const [h0Ptr, c0Ptr, hnPtr, cnPtr] = buffers.states, n = rows.length;
  e.writeInt32(rowsPtr, rows);
  e.writeInt32(lPtr, lengths);
  if (h0) { e.writeReals(h0Ptr, h0); e.writeReals(c0Ptr, c0); }
  const status = ex.lw_model_grad_rows(core.ptr, rowsPtr, lPtr, n, steps, t0, 0, norm, h0 ? h0Ptr : 0, h0 ? c0Ptr : 0,
    0, 0, wantStates ? hnPtr : 0, wantStates ? cnPtr : 0, 0, 0, lossPtr);
  if (status === STATUS.notFinite) return { notFinite: e.cstring(ex.lw_last_error()) };
  e.check(status, 'train');
  const loss = new Float64Array(e.memory.buffer, lossPtr, 2);
  return {
    lossSum: loss[0], count: loss[1],
    hn: wantStates ? e.readReals(hnPtr, n * stateRow) : null, cn: wantStates ? e.readReals(cnPtr, n * stateRow) : null,
  };
}

/** g += src, element by element, rounded to the engine's reals at each add (a loop of its own, so V8 keeps it tight). */
function addInto(g, src) {
  for (let i = 0; i < g.length; i++) g[i] += src[i];
}

/** The (L·D, n, H_l) states of rows a0..a1-1 out of a batch of nb rows. */
function sliceStates(st, blocks, nb, a0, a1, Real) {
  if (!st) return null;
  const row = blocks.reduce((n, H) => n + H, 0), out = new Real((a1 - a0) * row);
  let src = 0, dst = 0;
  for (const H of blocks) {
    out.set(st.subarray(src + a0 * H, src + a1 * H), dst);
    src += nb * H, dst += (a1 - a0) * H;
  }
  return out;
}

/** The reverse of sliceStates: a shard's (L·D, a1-a0, H_l) states into the batch's. */
function placeStates(st, blocks, nb, a0, a1, part) {
  let dst = 0, src = 0;
  for (const H of blocks) {
    st.set(part.subarray(src, src + (a1 - a0) * H), dst + a0 * H);
    dst += nb * H, src += (a1 - a0) * H;
  }
}

/**
 * The step of `n` workers in trainer.js's contract: worker 0 is this thread,
 * on the model itself (`staged`); workers 1..n-1 are started here, each with
 * a replica of the model (its save() bytes, the same engine build) and the
 * scaled training set. Rows are cut into n contiguous shards by worker index;
 * each worker computes its shard's loss sum and gradient divided by the whole
 * batch's loss count (lw_model_grad_rows); the gradients are summed here in
 * worker order into the model's gradient buffer, clipped once by the norm of
 * the sum and applied once (lw_model_update). Each request carries the
 * model's weights, so every replica computes on exactly them (restored ones
 * too, after a diverging step); no optimizer state lives in the workers.
 */
async function openPool(core, n, seq, tdata, bmax, staged) {
  const e = core.engine, ex = e.exports, c = core.config;
  const [B, T] = seq.shape, blocks = stateBlocks(c), stateRow = blocks.reduce((k, H) => k + H, 0);
  affirm(e.url, 'ERR_OPTION', 'workers: this engine was not loaded from a URL, so workers cannot load the same build; use workers: 1');
  const bytes = save(core);
  const pool = await Pool.open(n - 1, () => {
    const data = { x: seq.data.slice(), y: tdata.slice(), B, T };
    return {
      method: 'replica.open',
      args: [{ bytes: bytes.slice(), variant: e.variant, url: e.url, data, batch: Math.ceil(bmax / n), stateRow }],
      transfer: [data.x.buffer, data.y.buffer],
    };
  }, 1);
  const P = ex.lw_model_param_count(core.ptr), perStep = c.returnSequences;
  const perRow = c.loss === 'softmax-cross-entropy' ? 1 : c.outputSize; // what the engine's count multiplies valid rows by
  const step = async ({ epoch, rows, lengths, t0, lr, h0, c0, wantStates }) => {
    const na = rows.length;
    let weight = 0; // loss rows, as the one-worker step counts them
    for (let a = 0; a < na; a++) weight += perStep ? lengths[a] : 1;
    const norm = weight * perRow; // the whole batch's count: the shards' gradients add up to the batch's
    const params = e.readReals(ex.lw_model_params(core.ptr), P);
    const jobs = [];
    for (let k = 1; k < n; k++) {
      const [a0, a1] = shard(k, n, na);
      if (a1 === a0) continue; // a chunk of truncated BPTT with fewer rows left than workers
      const sub = lengths.slice(a0, a1);
      const arg = {
        params: params.slice(), rows: rows.slice(a0, a1), lengths: sub, t0, steps: Math.max(...sub), norm,
        h0: sliceStates(h0, blocks, na, a0, a1, e.Real), c0: sliceStates(c0, blocks, na, a0, a1, e.Real), wantStates,
      };
      const transfer = [arg.params.buffer, arg.rows.buffer, arg.lengths.buffer, ...(arg.h0 ? [arg.h0.buffer, arg.c0.buffer] : [])];
      jobs.push(pool.call(k - 1, 'replica.grad', [arg], transfer).then((r) => ({ ...r, a0, a1 })));
    }
    const others = Promise.all(jobs);
    others.catch(() => {}); // awaited below; a failure of this thread's own shard comes first
    // worker 0's shard, here, while the others compute: its gradient lands in the model's buffer
    const [a0, a1] = shard(0, n, na);
    const own = a1 > a0 ? { ...staged.grad({ rows: rows.subarray(a0, a1), lengths: lengths.subarray(a0, a1), t0,
      steps: Math.max(...lengths.subarray(a0, a1)), norm, h0: sliceStates(h0, blocks, na, a0, a1, e.Real),
      c0: sliceStates(c0, blocks, na, a0, a1, e.Real), wantStates }), a0, a1 } : null;
    if (!own) e.viewReals(ex.lw_model_grads(core.ptr), P).fill(0);
    const parts = [...(own ? [own] : []), ...await others];
    core.live(); // dispose() may have run while the workers computed
    const bad = parts.find((r) => r.notFinite);
    if (bad) throw new LstmError('ERR_DIVERGED', `train: epoch ${epoch + 1}: ${bad.notFinite}; try a lower learningRate or clipNorm`);
    let lossSum = 0, count = 0;
    const g = e.viewReals(ex.lw_model_grads(core.ptr), P);
    for (const r of parts) {
      lossSum += r.lossSum, count += r.count;
      if (r !== own) addInto(g, r.grads); // in worker order
    }
    affirm(count === norm, 'ERR_ENGINE', `train: the workers counted ${count} loss terms, expected ${norm}`);
    const sumsq = ex.lw_model_grad_sumsq(core.ptr);
    const status = ex.lw_model_update(core.ptr, lr, Math.sqrt(sumsq));
    if (status === STATUS.notFinite) throw new LstmError('ERR_DIVERGED', `train: epoch ${epoch + 1}: ${e.cstring(ex.lw_last_error())}; try a lower learningRate or clipNorm`);
    e.check(status, 'train');
    let hn = null, cn = null;
    if (wantStates) {
      hn = new e.Real(na * stateRow), cn = new e.Real(na * stateRow);
      for (const r of parts) { placeStates(hn, blocks, na, r.a0, r.a1, r.hn); placeStates(cn, blocks, na, r.a0, r.a1, r.cn); }
    }
    return { lossSum: (lossSum / count) * weight, count: weight, hn, cn };
  };
  return { step, close: () => pool.close() };
}

/**
 * Trains core's model. `data` is { inputs, targets } in any form the API
 * takes, or { seq, tdata } already converted and checked (a wrapper's own data
 * path: seq as toSequences gives it, tdata as toTargets' data).
 * @returns {Promise<{ loss: number[], valLoss: number[], epochs: number, stopped: boolean }>}
 */
export async function train(core, data, options = {}) {
  core.live();
  affirm(!core.training, 'ERR_OPTION', 'this model is already training; await the running train() first');
  const c = core.config, e = core.engine, ex = e.exports;
  const o = resolveTrainOptions(options, { seed: c.seed, perStep: c.returnSequences, regression: core.regression });
  const converted = convert(core, data, o);
  const { split } = converted;
  // what a train() that makes no update puts back
  const before = { window: core.window, epochsTrained: core.epochsTrained, scaling: core.scaling.toJSON() };
  let trainer = null, snapshot = null, staged = null, pool = null;
  const undo = () => {
    if (snapshot && core.ptr) restoreState(core, snapshot);
    core.window = before.window;
    core.epochsTrained = before.epochsTrained;
    core.scaling.input = before.scaling.input;
    core.scaling.target = before.scaling.target;
  };
  // validation targets as given, for the metrics (scale() scales them in place)
  const rawVal = o.metrics.length && converted.val ? converted.val.tdata.slice() : null;
  core.training = true;
  core.stopTraining = false;
  try {
    core.window = Math.max(core.window, converted.steps);
    const { seq, tdata, val } = scale(core, converted);
    for (const [name, cb] of [['earlyStopping', o.earlyStopping], ['reduceOnPlateau', o.reduceOnPlateau]]) {
      affirm(!(cb?.monitor === 'valLoss' && !val), 'ERR_OPTION', () => `${name}: monitor 'valLoss', but validationSplit ${o.validationSplit} `
        + `of ${split.train.length} sequences leaves none for validation; give more data, a larger validationSplit, or monitor: 'loss'`);
    }
    const weighted = weighTargets(core, tdata, seq, split.train, o);
    staged = stage(core, seq, weighted ?? tdata, o, split.train.length);
    snapshot = captureState(core);
    setOptimizer(core, o.optimizerKind, o.hyper, 'train');
    const bmax = Math.min(o.batchSize, split.train.length);
    const workers = o.epochs ? await resolveWorkers(o.workers, bmax) : 1;
    if (workers > 1) {
      affirm(!(c.dropout > 0), 'ERR_OPTION', `workers: ${o.workers} with dropout ${c.dropout}: the dropout masks come from one generator `
        + 'per model, so they would depend on how a batch is sharded; train with workers: 1, or with a model without dropout');
      pool = await openPool(core, workers, seq, weighted ?? tdata, bmax, staged);
      core.live(); // dispose() may have run while the workers started
    }
    const { schedule, learningRate } = o;
    trainer = new Trainer({
      rows: split.train, lengths: seq.lengths, epochs: o.epochs, batchSize: o.batchSize, shuffle: o.shuffle, seed: o.seed,
      epochOffset: core.epochsTrained, truncate: o.truncate, states: { blocks: stateBlocks(c), Real: e.Real },
      learningRate: (epoch) => (schedule
        ? ex.lw_schedule_lr(schedule.kind, learningRate, epoch, schedule.gamma, schedule.every, schedule.floor) : learningRate),
      step: pool ? pool.step : staged.step,
      validate: val ? () => core.lossOn(val.seq, val.tdata, val.rows) : undefined,
      checkpoint: (reuse) => captureState(core, reuse),
      restore: (s) => restoreState(core, s),
      live: () => core.live(),
      epochDone: () => { core.epochsTrained++; },
      onEpochEnd: o.onEpochEnd, onBatchEnd: o.onBatchEnd, signal: o.signal, yieldEvery: o.yieldEvery,
      stopRequested: () => core.stopTraining,
      earlyStopping: o.earlyStopping, reduceOnPlateau: o.reduceOnPlateau,
      epochMetrics: o.metrics.length ? () => epochMetrics(core, o.metrics, { seq, raw: converted.tdata, rows: split.train },
        val && { seq: val.seq, raw: rawVal ?? converted.tdata, rows: val.rows ?? Int32Array.from({ length: val.seq.shape[0] }, (_, i) => i) }) : undefined,
    });
    const history = await trainer.run();
    if (!trainer.updates) undo(); // stopped before any update (or epochs: 0): nothing was trained
    return history;
  } catch (err) {
    if (!trainer?.updates) undo(); // failed before any update: the model is as it was
    throw err;
  } finally {
    core.training = false;
    staged?.free();
    await pool?.close();
  }
}

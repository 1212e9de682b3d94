// The training loop, once for every model: epochs, seeded shuffling, batches,
// truncated BPTT's carried states, validation, learning-rate schedules,
// callbacks, AbortSignal, yielding to the event loop, divergence and the
// history. It knows rows and lengths, never tensors: the caller's step does the
// work, so Model, TextModel and what comes next drive the same loop.
//
// The contract (new Trainer(plan).run() resolves to the history):
//   step({ epoch, rows, lengths, t0, steps, lr, h0, c0, wantStates }) -> { lossSum, count, hn?, cn? }
//     (or a promise of it: a pool of workers answers asynchronously; a step
//     that returns a plain value is never awaited, so its timing is unchanged)
//     One update on `rows` (Int32Array of row ids into the caller's data, valid
//     until step returns), steps t0 .. t0+steps-1, each row's own length in
//     `lengths` (from t0). h0/c0 are the rows' carried states (null at a
//     sequence's first chunk), wantStates asks for hn/cn back; both in the
//     (L·D, rows, H_l) layout of plan.states. lossSum/count: the loss summed
//     over `count` loss rows (steps for many-to-many, sequences otherwise), so
//     shards add exactly. A step that finds its loss not finite throws ERR_DIVERGED.
//   validate() -> number | undefined: the validation loss at the end of an epoch.
//   checkpoint(reuse?) -> token, restore(token): everything an update changes
//     (weights, optimizer state, dropout generator), so a diverging run goes back
//     to its last good weights; `reuse` is an old token whose storage may be overwritten.
//
// Two users to come, and how they fit:
//   - A sequence-to-sequence model: its step stages source and target rows,
//     runs the encoder, hands the encoder's final states to the decoder (teacher
//     forcing), takes both models' gradients, clips them jointly by one global
//     norm and updates both; checkpoint/restore cover both models. `rows` index
//     source/target pairs; `lengths` are what the loop batches and truncates on
//     (the target lengths); plan.truncate stays 0 and plan.states null.
//   - A data-parallel pool over workers: its step splits `rows` into shards in a
//     fixed order, asks each worker for the gradients and (lossSum, count) of
//     its shard, sums the gradients in that fixed order, applies one update and
//     broadcasts the weights; lossSum/count add exactly over shards. Truncated
//     states are gathered per shard from the h0/c0 given (row order is shard
//     order). learningRate(epoch) is a plain function, so the coordinator needs
//     no engine of its own. (training.js openPool; its step returns a promise.)
import { LstmError } from './errors.js';
import { shuffledIndices } from './data.js';

// A batch whose mean loss exceeds LOSS_GROWTH times (the run's first loss + 1)
// has diverged even without a NaN. Training lowers the loss, and batches differ
// from each other by a few orders of magnitude at most (single heavy-tailed
// rows); a millionfold growth means outputs about a thousand times further from
// the targets than at the start (squared losses) or logits off by about a
// million (cross-entropy). "+ 1" keeps a run that starts near zero loss (a
// resumed, converged model) from mistaking ordinary noise for divergence.
const LOSS_GROWTH = 1e6;

/** Yields to the event loop so a page stays responsive between batches. */
export const yieldNow = typeof setImmediate === 'function'
  ? () => new Promise((resolve) => setImmediate(resolve))
  : (() => {
    const channel = typeof MessageChannel === 'function' ? new MessageChannel() : null;
    const queue = [];
    if (channel) channel.port1.onmessage = () => queue.shift()?.();
    return () => new Promise((resolve) => {
      if (!channel) return setTimeout(resolve, 0);
      queue.push(resolve);
      channel.port2.postMessage(0);
    });
  })();
const now = () => (typeof performance !== 'undefined' ? performance.now() : Date.now());

/** A callback's answer, awaited when it is a promise (as TF.js awaits them); false asks to stop. */
async function answer(r) {
  if (r && typeof r.then === 'function') r = await r;
  return r === false;
}

/**
 * Keras's plateau rule for one monitored quantity (lower is better): an epoch
 * improves when it beats the best by more than minDelta; `patience` epochs in
 * a row without improvement trigger.
 */
class Plateau {
  constructor({ minDelta, patience }) {
    this.best = Infinity;
    this.wait = 0;
    this.minDelta = minDelta;
    this.patience = patience;
  }

  /** Records one epoch's value; { improved, triggered }. */
  see(value) {
    if (value < this.best - this.minDelta) {
      this.best = value;
      this.wait = 0;
      return { improved: true, triggered: false };
    }
    this.wait++;
    return { improved: false, triggered: this.wait >= this.patience };
  }
}

/** Carried states of truncated BPTT: (L·D, B, H_l) blocks, one per (layer, direction). */
class CarriedStates {
  constructor(blocks, Real, batch) {
    this.blocks = blocks;
    this.Real = Real;
    this.row = blocks.reduce((n, H) => n + H, 0);
    this.h = new Real(batch * this.row);
    this.c = new Real(batch * this.row);
  }

  clear() {
    this.h.fill(0);
    this.c.fill(0);
  }

  /** The states of the active rows (positions k in a batch of nb), packed for a batch of active.length. */
  gather(st, active, nb) {
    const out = new this.Real(active.length * this.row);
    let src = 0, dst = 0;
    for (const H of this.blocks) {
      active.forEach((k, a) => out.set(st.subarray(src + k * H, src + (k + 1) * H), dst + a * H));
      src += nb * H, dst += active.length * H;
    }
    return out;
  }

  /** The reverse of gather: values for the active rows back into the batch's states. */
  scatter(st, active, nb, values) {
    let dst = 0, src = 0;
    for (const H of this.blocks) {
      active.forEach((k, a) => st.set(values.subarray(src + a * H, src + (a + 1) * H), dst + k * H));
      dst += nb * H, src += active.length * H;
    }
  }
}

export class Trainer {
  /**
   * @param {object} plan
   * @param {Int32Array} plan.rows the training rows (ids into the caller's data)
   * @param {ArrayLike<number>} plan.lengths each row's length, by row id
   * @param {number} plan.epochs
   * @param {number} plan.batchSize
   * @param {boolean} plan.shuffle epoch e shuffles with seed + epochOffset + e (so train(2) then train(2) equals train(4))
   * @param {number} plan.seed
   * @param {number} [plan.epochOffset] epochs trained before this run
   * @param {(epoch: number) => number} plan.learningRate
   * @param {number} [plan.truncate] steps per update of truncated BPTT (0: whole sequences)
   * @param {{ blocks: number[], Real: Function } | null} [plan.states] the state layout (needed with truncate)
   * @param {Function} plan.step see the header
   * @param {Function} [plan.validate]
   * @param {Function} [plan.checkpoint]
   * @param {Function} [plan.restore]
   * @param {Function} [plan.live] throws when the model went away while the loop yielded
   * @param {Function} [plan.epochDone] called when an epoch completes, before onEpochEnd
   * @param {Function|null} [plan.onEpochEnd]
   * @param {Function|null} [plan.onBatchEnd]
   * @param {AbortSignal} [plan.signal]
   * @param {number} [plan.yieldEvery] milliseconds between yields
   * @param {Function} [plan.stopRequested] true once the caller asked to stop (model.stopTraining)
   * @param {Function} [plan.epochMetrics] () -> { name: value } measured after each epoch, into history[name]
   * @param {{ monitor: string, patience: number, minDelta: number, restoreBest: boolean }|null} [plan.earlyStopping]
   * @param {{ monitor: string, factor: number, patience: number, minDelta: number, minLearningRate: number }|null} [plan.reduceOnPlateau]
   */
  constructor(plan) {
    this.plan = plan;
    /** Updates applied so far: 0 after a failure means the model is as it was. */
    this.updates = 0;
  }

  /** @returns {Promise<{ loss: number[], valLoss: number[], epochs: number, stopped: boolean }>} */
  async run() {
    const p = this.plan;
    const history = { loss: [], valLoss: [], epochs: 0, stopped: false };
    const nTrain = p.rows.length, batchSize = p.batchSize, truncate = p.truncate || 0;
    const bmax = Math.min(batchSize, nTrain);
    const carry = truncate ? new CarriedStates(p.states.blocks, p.states.Real, bmax) : null;
    const rb = new Int32Array(bmax), lb = new Int32Array(bmax);
    const guard = { first: undefined, prev: null, cur: null };
    if (p.earlyStopping?.restoreBest && !(p.checkpoint && p.restore)) {
      throw new LstmError('ERR_OPTION', 'earlyStopping: restoreBest needs a model that can checkpoint and restore its state');
    }
    const early = p.earlyStopping ? { rule: new Plateau(p.earlyStopping), best: null, bestEpoch: -1 } : null;
    const plateau = p.reduceOnPlateau ? new Plateau(p.reduceOnPlateau) : null;
    let lrScale = 1; // reduceOnPlateau's factor so far; 1 leaves the schedule's rate untouched (same bits)
    if (plateau) history.learningRate = [];
    const stopAsked = () => Boolean(p.stopRequested?.());
    let last = now();
    for (let epoch = 0; epoch < p.epochs && !history.stopped; epoch++) {
      const order = p.shuffle ? shuffledIndices(nTrain, (p.seed + (p.epochOffset ?? 0) + epoch) >>> 0) : null;
      const base = p.learningRate(epoch);
      const lr = lrScale === 1 ? base : Math.max(p.reduceOnPlateau.minLearningRate, base * lrScale);
      let sum = 0, count = 0, lossRows = 0, stopNow = false;
      const t0 = now();
      for (let start = 0; start < nTrain; start += batchSize) {
        if (p.signal?.aborted || stopAsked()) { history.stopped = true; break; }
        const nb = Math.min(batchSize, nTrain - start);
        const rows = Array.from({ length: nb }, (_, k) => p.rows[order ? order[start + k] : start + k]);
        let longest = 1; // the batch's own longest sequence: no work on padding
        for (const b of rows) longest = Math.max(longest, p.lengths[b]);
        const chunk = truncate || longest;
        if (carry) carry.clear();
        // one update per chunk of `chunk` steps; the state runs on from chunk to chunk
        for (let s0 = 0; s0 < longest; s0 += chunk) {
          if (p.signal?.aborted) { history.stopped = true; break; }
          p.live?.(); // dispose() may have run while the loop yielded
          const active = rows.map((b, k) => k).filter((k) => p.lengths[rows[k]] > s0);
          let steps = 1;
          active.forEach((k, a) => { rb[a] = rows[k]; lb[a] = Math.min(chunk, p.lengths[rows[k]] - s0); steps = Math.max(steps, lb[a]); });
          const na = active.length;
          const carried = truncate && s0 > 0, more = truncate && s0 + chunk < longest;
          let r = this.#guarded(guard, epoch, () => p.step({
            epoch, rows: rb.subarray(0, na), lengths: lb.subarray(0, na), t0: s0, steps, lr,
            h0: carried ? carry.gather(carry.h, active, nb) : null,
            c0: carried ? carry.gather(carry.c, active, nb) : null,
            wantStates: Boolean(more),
          }));
          if (r instanceof Promise) r = await r;
          if (more) { carry.scatter(carry.h, active, nb, r.hn); carry.scatter(carry.c, active, nb, r.cn); }
          sum += r.lossSum, lossRows += r.count;
          if (now() - last >= p.yieldEvery) { await yieldNow(); last = now(); }
        }
        count += nb;
        if (p.onBatchEnd && await answer(p.onBatchEnd({ epoch, batch: start / batchSize, loss: sum / Math.max(1, lossRows), samplesPerSecond: count / Math.max(1e-3, (now() - t0) / 1000) }))) {
          stopNow = true;
        }
        // a stop asked for in a batch: its update stays, the rest of the epoch is not run
        // (and the epoch not counted, as with the signal) unless that was the epoch's last batch
        if (stopNow || stopAsked()) {
          stopNow = true;
          if (start + batchSize < nTrain) { history.stopped = true; break; }
        }
      }
      // an epoch cut short by the signal is not an epoch: its updates stay, it is not counted
      if (!count || history.stopped) break;
      const loss = sum / lossRows;
      const valLoss = p.validate?.();
      history.loss.push(loss);
      if (valLoss !== undefined) history.valLoss.push(valLoss);
      const measured = p.epochMetrics?.() ?? {};
      for (const [k, v] of Object.entries(measured)) (history[k] ??= []).push(v);
      if (plateau) history.learningRate.push(lr);
      history.epochs = epoch + 1;
      p.epochDone?.();
      const info = { epoch, loss, valLoss, learningRate: lr, samplesPerSecond: count / Math.max(1e-3, (now() - t0) / 1000), ...measured };
      const value = (monitor) => (monitor === 'loss' ? loss : valLoss);
      if (early) {
        const { improved, triggered } = early.rule.see(value(p.earlyStopping.monitor));
        if (improved) {
          early.bestEpoch = epoch;
          if (p.earlyStopping.restoreBest) early.best = p.checkpoint(early.best);
        }
        if (triggered) history.stopped = true;
      }
      if (plateau && plateau.see(value(p.reduceOnPlateau.monitor)).triggered) {
        // Keras: the rate falls by `factor` (not below the floor), and the count starts again
        if (lr > p.reduceOnPlateau.minLearningRate) lrScale *= p.reduceOnPlateau.factor;
        plateau.wait = 0;
      }
      if (p.onEpochEnd && await answer(p.onEpochEnd(info))) history.stopped = true;
      if (stopNow || stopAsked()) history.stopped = true;
    }
    if (early) {
      history.bestEpoch = early.bestEpoch;
      // the weights (and optimizer state) of the best epoch, if a later one is what the model holds
      if (early.best && early.bestEpoch !== history.epochs - 1) p.restore(early.best);
    }
    return history;
  }

  /**
   * Runs one step between checkpoints: a step that fails as diverged goes back to
   * the state before it; a step whose loss grew past the bound goes back to the
   * state before the step before it (the last weights whose loss was seen sane).
   */
  #guarded(guard, epoch, run) {
    const p = this.plan;
    if (p.checkpoint) [guard.prev, guard.cur] = [guard.cur, p.checkpoint(guard.prev)];
    const failed = (err) => {
      if (err instanceof LstmError && err.code === 'ERR_DIVERGED' && guard.cur) p.restore(guard.cur);
      throw err;
    };
    let r;
    try {
      r = run();
    } catch (err) {
      failed(err);
    }
    return r instanceof Promise ? r.then((value) => this.#checked(guard, epoch, value), failed) : this.#checked(guard, epoch, r);
  }

  /** Counts a step that succeeded and checks its loss against the run's first (see #guarded). */
  #checked(guard, epoch, r) {
    const p = this.plan;
    this.updates++;
    const mean = r.lossSum / Math.max(1, r.count);
    guard.first ??= mean;
    if (mean > LOSS_GROWTH * (guard.first + 1)) {
      if (p.restore) p.restore(this.updates > 1 ? guard.prev : guard.cur);
      this.updates = Math.max(0, this.updates - 2);
      throw new LstmError('ERR_DIVERGED', `train: epoch ${epoch + 1}: the loss grew to ${mean.toPrecision(3)}, over ${LOSS_GROWTH} times `
        + `the first batch's ${guard.first.toPrecision(3)} (+ 1): diverging, though not finite yet; the weights are back to `
        + 'the last ones whose loss was sane; '
        + 'try a lower learningRate or clipNorm');
    }
    return r;
  }
}

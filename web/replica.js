// A worker's side of data-parallel training (pool.js is the coordinator's):
// one replica of the model, made from its save() bytes on the very same
// engine build, the training set staged once, and the loss sum and gradients
// of one shard of each batch (lw_model_grad_rows, divided by the whole
// batch's count so the shards' gradients add up). The replica never updates
// itself: each request brings the coordinator's current weights.
import { Model, coreOf } from './model.js';
import { loadEngine } from './engine.js';
import { LstmError } from './errors.js';
import { gradRows } from './training.js';

let replica = null; // { model, core, ptrs, ... } of this worker

function free() {
  if (!replica) return;
  const { model, core, ptrs } = replica;
  replica = null;
  if (core.ptr && !core.engine.faulted(core.ptr)) core.engine.exports.lw_model_set_data(core.ptr, 0, 0, 0, 0);
  for (const p of ptrs) core.engine.free(p);
  model.dispose();
}

/**
 * The host methods (worker-host.js serves them as 'replica.<name>'; rpc.js's
 * REPLICA lists how their arguments travel).
 */
export const REPLICA_METHODS = {
  /**
   * { bytes, variant, url, data: { x, y, B, T }, batch, stateRow } -> P:
   * the replica and its staged data; `batch` the most rows a shard has.
   */
  async open({ bytes, variant, url, data, batch, stateRow }) {
    free();
    const engine = await loadEngine({ variant, locateWasm: () => url });
    const model = await Model.load(bytes, { engine });
    const core = coreOf(model), e = engine, ex = e.exports;
    const ptrs = [];
    replica = { model, core, ptrs };
    const alloc = (bytes) => { const p = e.alloc(bytes); ptrs.push(p); return p; };
    try {
      const xPtr = alloc(data.x.length * e.realSize), yPtr = alloc(data.y.length * e.realSize);
      e.writeReals(xPtr, data.x);
      e.writeReals(yPtr, data.y);
      e.check(ex.lw_model_set_data(core.ptr, xPtr, yPtr, data.B, data.T), 'train');
      replica.P = ex.lw_model_param_count(core.ptr);
      replica.buffers = {
        rowsPtr: alloc(batch * 4), lPtr: alloc(batch * 4), lossPtr: alloc(16), stateRow,
        states: stateRow ? [0, 0, 0, 0].map(() => alloc(batch * stateRow * e.realSize)) : [0, 0, 0, 0],
      };
    } catch (err) {
      free();
      throw err;
    }
    return replica.P;
  },

  /**
   * { params, rows, lengths, t0, steps, norm, h0, c0, wantStates } ->
   * { lossSum, count, grads, hn, cn } or { notFinite: message }: the shard's
   * loss sum and count (lw_model_grad_rows) and its gradient divided by `norm`.
   */
  grad({ params, ...shard }) {
    if (!replica) throw new LstmError('ERR_ENGINE', 'train: this worker holds no replica');
    const { core, P } = replica, e = core.engine, ex = e.exports;
    e.writeReals(ex.lw_model_params(core.ptr), params);
    ex.lw_model_params_changed(core.ptr);
    const r = gradRows(core, replica.buffers, shard);
    if (!r.notFinite) r.grads = e.readReals(ex.lw_model_grads(core.ptr), P);
    return r;
  },

  close() {
    free();
  },
};

// A Model's state in and out: save()'s bytes (format.js) and their restore, and
// the engine state one training update changes (weights, optimizer kind, step
// count and moments, dropout generator), captured and put back so a failed
// train() leaves the model as it was.
import { affirm } from './errors.js';
import { encodeModel } from './format.js';
import { HYPER_COUNT } from './engine-abi.js';
import { checkExtra, checkTensorNames } from './file-checks.js';

/** The optimizer moments: 2·P reals, m then v (c/api.c lw_model_optim_state), allocated if need be. */
function momentsPtr(core, where) {
  const ptr = core.engine.exports.lw_model_optim_state(core.ptr);
  affirm(ptr, 'ERR_NO_MEMORY', `${where}: out of memory`);
  return ptr;
}

/** Sets the optimizer (enum lw_optimizer) and its hyper-parameters; a new kind zeroes the moments and the step count. */
export function setOptimizer(core, kind, hyper, where) {
  const e = core.engine;
  e.check(e.scoped((s) => e.exports.lw_model_set_optimizer(core.ptr, kind, s.reals(hyper), hyper.length)), where);
}

/** Sets the optimizer kind with neutral hyper-parameters (train() sets its own). */
function setOptimizerKind(core, kind, where) {
  setOptimizer(core, kind, new Array(HYPER_COUNT).fill(0), where);
}

/**
 * Everything a training update changes in the engine, as copies; `reuse`, an
 * earlier capture of the same model, lends its arrays.
 */
export function captureState(core, reuse) {
  const e = core.engine, ex = core.exports(), P = ex.lw_model_param_count(core.ptr);
  const moments = momentsPtr(core, 'train');
  const s = reuse ?? { params: new e.Real(P), moments: new e.Real(2 * P) };
  s.params.set(e.viewReals(ex.lw_model_params(core.ptr), P));
  s.moments.set(e.viewReals(moments, 2 * P));
  s.kind = ex.lw_model_optim_kind(core.ptr);
  s.steps = ex.lw_model_optim_steps(core.ptr);
  s.rng = [ex.lw_model_rng_state(core.ptr, 0) >>> 0, ex.lw_model_rng_state(core.ptr, 1) >>> 0];
  return s;
}

/** Puts a capture back. */
export function restoreState(core, s) {
  const e = core.engine, ex = core.exports();
  if (ex.lw_model_optim_kind(core.ptr) !== s.kind) setOptimizerKind(core, s.kind, 'train');
  e.writeReals(ex.lw_model_params(core.ptr), s.params);
  ex.lw_model_params_changed(core.ptr);
  e.writeReals(momentsPtr(core, 'train'), s.moments);
  ex.lw_model_set_optim_steps(core.ptr, s.steps);
  ex.lw_model_set_rng_state(core.ptr, s.rng[0], s.rng[1]);
}

/** Everything needed to resume training exactly, as bytes (format.js). */
export function save(core) {
  const e = core.engine, ex = core.exports();
  const P = ex.lw_model_param_count(core.ptr);
  const statePtr = momentsPtr(core, 'save');
  const tensors = [
    { name: 'params', data: Float32Array.from(e.viewReals(ex.lw_model_params(core.ptr), P)) },
    { name: 'optimizer', data: Float32Array.from(e.viewReals(statePtr, 2 * P)) },
  ];
  const extra = {
    scalers: core.scaling.toJSON(),
    names: core.names,
    optimizer: { kind: ex.lw_model_optim_kind(core.ptr), steps: ex.lw_model_optim_steps(core.ptr) },
    rng: [ex.lw_model_rng_state(core.ptr, 0) >>> 0, ex.lw_model_rng_state(core.ptr, 1) >>> 0],
    epochsTrained: core.epochsTrained,
    window: core.window,
    annotations: core.annotations,
  };
  return encodeModel({ config: core.config, tensors, extra });
}

/** Restores decodeModel()'s tensors and extra into a freshly created core; checks every field first. */
export function restore(core, tensors, extra) {
  const e = core.engine, ex = core.exports();
  const P = ex.lw_model_param_count(core.ptr);
  const get = (name, n) => {
    const t = tensors.find((x) => x.name === name);
    affirm(t && t.data.length === n, 'ERR_FORMAT', `model bytes: '${name}' should hold ${n} values, got ${t?.data.length}`);
    for (let i = 0; i < n; i++) affirm(Number.isFinite(t.data[i]), 'ERR_FORMAT', `model bytes: ${name}[${i}] is not finite`);
    return t.data;
  };
  const params = get('params', P), opt = get('optimizer', 2 * P);
  checkTensorNames(tensors);
  const x = checkExtra(extra, core.config); // every field as strictly as create checks it (file-checks.js)
  const { kind, steps } = x.optimizer;
  const statePtr = momentsPtr(core, 'load');
  e.writeReals(ex.lw_model_params(core.ptr), params);
  ex.lw_model_params_changed(core.ptr);
  // set_optimizer first: a new kind zeroes the moments, which are written after it
  setOptimizerKind(core, kind, 'load');
  e.writeReals(statePtr, opt);
  ex.lw_model_set_optim_steps(core.ptr, steps);
  if (x.rng) ex.lw_model_set_rng_state(core.ptr, x.rng[0], x.rng[1]);
  core.scaling.input = x.scalers.input;
  core.scaling.target = x.scalers.target;
  core.epochsTrained = x.epochsTrained;
  core.window = x.window;
  core.annotations = x.annotations;
  core.names = x.names;
}

// A Model's state in and out: save()'s bytes (format.js) and their restore, and
// the engine state one training update changes (weights, optimizer kind, step
// count and moments, dropout generator), captured and put back so a failed
// train() leaves the model as it was.
import { LstmError, affirm } from './errors.js';
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

/**
 * Everything needed to resume training exactly, as bytes (format.js); with
 * optimizer false, an inference file without the optimizer's moments (a third
 * of the size with Adam): it loads, and training after it starts the moments afresh.
 */
export function save(core, { optimizer: withOptimizer = true } = {}) {
  const e = core.engine, ex = core.exports();
  const P = ex.lw_model_param_count(core.ptr);
  const tensors = [{ name: 'params', data: Float32Array.from(e.viewReals(ex.lw_model_params(core.ptr), P)) }];
  if (withOptimizer) tensors.push({ name: 'optimizer', data: Float32Array.from(e.viewReals(momentsPtr(core, 'save'), 2 * P)) });
  const extra = {
    scalers: core.scaling.toJSON(),
    names: core.names,
    optimizer: withOptimizer ? { kind: ex.lw_model_optim_kind(core.ptr), steps: ex.lw_model_optim_steps(core.ptr) }
      : { kind: ex.lw_model_optim_kind(core.ptr), steps: 0, saved: false },
    rng: [ex.lw_model_rng_state(core.ptr, 0) >>> 0, ex.lw_model_rng_state(core.ptr, 1) >>> 0],
    epochsTrained: core.epochsTrained,
    window: core.window,
    annotations: core.annotations,
  };
  return encodeModel({ config: core.config, tensors, extra });
}

/**
 * The bytes of what Model.load takes: a Uint8Array or ArrayBuffer as they
 * are; a URL (string or URL) fetched; a Response or Blob read. Anything else
 * goes on to decodeModel, which names it.
 * @returns {Promise<Uint8Array|ArrayBuffer|unknown>}
 */
export async function readSource(source, where) {
  if (source instanceof Uint8Array || source instanceof ArrayBuffer) return source;
  let url = source instanceof URL ? source : null;
  if (typeof source === 'string') {
    try {
      url = new URL(source, globalThis.location?.href); // relative to the page; absolute only in Node
    } catch {
      return source; // not a URL: decodeModel says what it is
    }
  }
  if (url) {
    affirm(typeof fetch === 'function', 'ERR_TYPE', `${where}: this runtime has no fetch(); pass the bytes`);
    let response;
    try {
      response = await fetch(url);
    } catch (err) {
      throw new LstmError('ERR_FORMAT', `${where}: could not fetch ${url}: ${err.message}`);
    }
    return readSource(response, where);
  }
  if (source && typeof source.arrayBuffer === 'function') {
    // a Response that is not ok holds an error page, not model bytes
    affirm(source.ok !== false, 'ERR_FORMAT', () => `${where}: ${source.url || 'the response'} answered ${source.status} ${source.statusText}, not model bytes`);
    return new Uint8Array(await source.arrayBuffer());
  }
  return source;
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
  const params = get('params', P);
  checkTensorNames(tensors);
  const x = checkExtra(extra, core.config); // every field as strictly as create checks it (file-checks.js)
  const inference = x.optimizer.saved === false;
  affirm(!inference || !tensors.some((t) => t.name === 'optimizer'), 'ERR_FORMAT',
    "model bytes: an inference file (optimizer.saved false) holds no 'optimizer' tensor, but this one does");
  const opt = inference ? new Float32Array(2 * P) : get('optimizer', 2 * P);
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

// Test-only trap injection (tests/faults.test.js, tests/worker.test.js): real
// wasm traps, made by handing the engine pointers outside its memory. Also
// the worker hook module worker-host.js loads when LSTM_WASM_WORKER_HOOKS
// names this file, so a test can make a model inside a worker trap.
import { coreOf } from '../web/model.js';

/** An address past the end of any wasm memory lstm-wasm grows (2 GiB at most). */
export const WILD = 0x7fffff00;

/** The engine handle of a Model, read by watching the one export that takes it. */
export function handleOf(model) {
  const ex = coreOf(model).engine.exports, real = ex.lw_model_params;
  let handle = 0;
  ex.lw_model_params = (h) => { handle = h; return real(h); };
  try {
    model.parameters();
  } finally {
    ex.lw_model_params = real;
  }
  return handle;
}

/**
 * Makes the model's next predict() or train() trap: the model's pointer to
 * its parameters (found by value, so the C struct's layout does not matter)
 * now points outside memory, and the parameters are marked changed, so the
 * next call repacks them from there.
 */
export function corrupt(model) {
  const e = coreOf(model).engine, h = handleOf(model);
  const params = e.exports.lw_model_params(h);
  const words = new Int32Array(e.memory.buffer, h, 256);
  let n = 0;
  for (let k = 0; k < words.length; k++) if (words[k] === params) { words[k] = WILD; n++; }
  if (!n) throw new Error('corrupt: the model struct holds no pointer to its parameters');
  e.exports.lw_model_params_changed(h);
}

// Exports that move the C stack pointer before they read their handle (each
// leaked 48-112 bytes of the 1 MiB stack per trap before the guard), with
// arguments that pass their NULL checks; the handle comes first.
const TRAPS = [
  ['lw_model_predict', [4, 4, 4, 4, 0, 4, 4, 4]],
  ['lw_model_train_rows', [4, 4, 4, 4, 0, 0.1, 4, 0, 0, 0, 0]],
  ['lw_model_forward', [4, 4, 4, 4, 0, 0, 0, 4, 4, 4]],
  ['lw_model_tensor_info', [0, 4]],
];

/**
 * The k-th trap through the engine's guard: a call on a handle outside
 * memory, another each time (the guard refuses calls on a handle that
 * trapped before). Returns the error it threw.
 */
export function wildTrap(engine, k = 0) {
  const [name, args] = TRAPS[k % TRAPS.length];
  try {
    engine.exports[name](WILD - 16 * k, ...args);
  } catch (err) {
    return err;
  }
  throw new Error(`wildTrap: ${name} did not trap`);
}

/** Methods the worker host adds when LSTM_WASM_WORKER_HOOKS names this file. */
export function methods({ subject }) {
  const model = () => subject().model ?? subject(); // a TextModel's Model, or the Model
  return {
    'test.corrupt': () => corrupt(model()),
    'test.trap': () => { throw wildTrap(coreOf(model()).engine); },
  };
}

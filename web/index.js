// lstm-wasm: LSTM networks trained and run in WebAssembly. The public entry:
// everything a page, worker or Node program imports. See README.md.
import { loadEngine, simdSupported } from './engine.js';
import { LW_VERSION } from './version.js';

export { Model } from './model.js';
export { TextModel } from './text-model.js';
export { Seq2Seq } from './seq2seq.js';
export { LstmError, ERROR_CODES } from './errors.js';
export { windows } from './data.js';
export { reorderGates } from './interop/gate-order.js';
export { loadEngine };

/**
 * What the running engine uses: { simd, version }. `simd` says whether this
 * runtime supports SIMD128 (the package then loads the SIMD build).
 */
export const features = Object.freeze({ simd: simdSupported(), version: LW_VERSION });

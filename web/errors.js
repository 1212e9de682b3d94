// The one error class of lstm-wasm. Every failure the package reports is an
// LstmError with a stable `code`; messages name the bad value and, where there
// is one, the fix. The C engine returns status codes (c/lw.h) that engine.js
// maps onto these codes.

export class LstmError extends Error {
  /**
   * @param {string} code stable code, one of ERROR_CODES
   * @param {string} message what is wrong, naming the value
   */
  constructor(code, message) {
    super(message);
    this.name = 'LstmError';
    this.code = code;
  }
}

/** Stable error codes, for `err.code`. */
export const ERROR_CODES = Object.freeze({
  ERR_OPTION: 'ERR_OPTION',       // unknown option name or bad option value
  ERR_TYPE: 'ERR_TYPE',           // a value of the wrong type
  ERR_RANGE: 'ERR_RANGE',         // a size or number out of its allowed range
  ERR_SHAPE: 'ERR_SHAPE',         // arrays of the wrong shape or length
  ERR_NOT_FINITE: 'ERR_NOT_FINITE', // NaN or Infinity in data
  ERR_DISPOSED: 'ERR_DISPOSED',   // the model was disposed
  ERR_FORMAT: 'ERR_FORMAT',       // malformed model, safetensors or ONNX bytes
  ERR_NO_MEMORY: 'ERR_NO_MEMORY', // the wasm heap could not grow
  ERR_DIVERGED: 'ERR_DIVERGED',   // training produced NaN/Infinity; update refused
  ERR_ABORTED: 'ERR_ABORTED',     // stopped by an AbortSignal
  ERR_ENGINE: 'ERR_ENGINE',       // the engine could not be loaded or failed
});

/** Throws an LstmError(code, message) unless `ok` is truthy. */
export function affirm(ok, code, message) {
  if (!ok) throw new LstmError(code, typeof message === 'function' ? message() : message);
}

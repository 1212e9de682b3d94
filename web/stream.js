// Model#stream: stateful step-by-step inference over the engine's stream (one
// sequence, batch 1), in the same units as predict(): the input scaler on the
// way in, the target scaler on the way out. model.dispose() frees every stream.
import { LstmError, affirm } from './errors.js';
import { STREAM_DISPOSED } from './core.js';
import { checkFiniteOutputs, checkStepInput, largestParameter } from './file-checks.js';

export class Stream {
  #core;
  #ptr;
  #raw;
  #I;
  #O;
  #in;
  #out;
  #xAt;
  #outAt;

  /** Use model.stream(). */
  constructor(core, raw) {
    const e = core.engine, ex = core.exports(), c = core.config;
    const ptr = e.created((out) => ex.lw_stream_create(core.ptr, out), 'stream');
    this.#core = core;
    this.#ptr = ptr;
    this.#raw = raw ? 1 : 0;
    this.#I = c.inputSize;
    this.#O = c.outputSize || c.hiddenSize[c.layers - 1];
    // the scalers as they are now: a later train() does not change a running stream
    this.#in = core.scaling.input;
    this.#out = core.scaling.target;
    this.#xAt = ex.lw_stream_input(ptr) / e.realSize;
    this.#outAt = ex.lw_stream_output(ptr) / e.realSize;
    core.streams.add(this);
  }

  #live() {
    affirm(this.#ptr && this.#core.ptr, 'ERR_DISPOSED', STREAM_DISPOSED);
  }

  /**
   * Feeds one step (a number, or an array of inputSize numbers) and returns the
   * output after it: a number when outputSize is 1, else a Float32Array.
   */
  step(x) {
    if (!this.#ptr || !this.#core.ptr) this.#live();
    const e = this.#core.engine, I = this.#I, O = this.#O, inScale = this.#in, outScale = this.#out;
    const heap = e.reals(), xAt = this.#xAt, outAt = this.#outAt;
    if (I === 1 && typeof x === 'number') {
      heap[xAt] = checkStepInput(x, inScale ? (x - inScale.shift[0]) / inScale.scale[0] : x, 'input');
    } else {
      affirm(x && x.length === I, 'ERR_SHAPE', () => `stream.step: expected ${I === 1 ? 'a number' : `${I} numbers`}, got ${Array.isArray(x) || ArrayBuffer.isView(x) ? `${x.length} numbers` : typeof x}`);
      for (let i = 0; i < I; i++) {
        heap[xAt + i] = checkStepInput(x[i], inScale ? (x[i] - inScale.shift[i]) / inScale.scale[i] : x[i], `input[${i}]`);
      }
    }
    const status = e.exports.lw_stream_step(this.#ptr, this.#raw); // the engine checks the input again
    if (status) e.check(status, 'stream.step');
    const explain = () => largestParameter(this.#core.read((ex) => ex.lw_model_params(this.#core.ptr)));
    if (O === 1) {
      const y = outScale ? heap[outAt] * outScale.scale[0] + outScale.shift[0] : heap[outAt];
      if (!Number.isFinite(y)) checkFiniteOutputs([y], 'stream.step', explain);
      return y;
    }
    const out = heap.slice(outAt, outAt + O);
    if (outScale) for (let k = 0; k < O; k++) out[k] = out[k] * outScale.scale[k] + outScale.shift[k];
    checkFiniteOutputs(out, 'stream.step', explain);
    return out;
  }

  /** Zeroes the state: the next step starts a new sequence. */
  reset() {
    this.#live();
    this.#core.engine.exports.lw_stream_reset(this.#ptr);
  }

  /** Frees the stream; later steps throw ERR_DISPOSED. */
  dispose() {
    if (!this.#ptr) return;
    this.#core.streams.delete(this);
    this.#core.engine.exports.lw_stream_free(this.#ptr);
    this.#ptr = 0;
  }
}

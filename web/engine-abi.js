// The engine's numbers that JS passes or reads (c/lw.h): enum values and
// array layouts, in this one file. They are copies written by hand until the
// engine hands them over itself (an ABI export); every other module imports
// them from here, so that change replaces this file and nothing else.

/** enum lw_cell */
export const CELL = Object.freeze({ lstm: 0, gru: 1, rnn: 2 });
/** enum lw_gate: each bit turns a Greff et al. switch away from the plain LSTM */
export const GATE = Object.freeze({ noInput: 1, noForget: 2, noOutput: 4, noInputAct: 8, noOutputAct: 16, peepholes: 32,
  coupled: 64, squash1997: 128, fullRecurrence: 256 });
/** enum lw_loss, in enum order */
export const LOSSES = Object.freeze(['mse', 'mae', 'huber', 'softmax-cross-entropy', 'sigmoid-cross-entropy']);
/** enum lw_optimizer, in enum order */
export const OPTIMIZERS = Object.freeze(['sgd', 'adam', 'adamw', 'rmsprop']);
/** the schedule kinds lw_schedule_lr takes (its switch in c/api.c; no C enum yet) */
export const SCHEDULE = Object.freeze({ step: 1, exponential: 2, cosine: 3 });
/** enum lw_hyper_index, and LW_HYPER_COUNT */
export const HYPER = Object.freeze({ lr: 0, beta1: 1, beta2: 2, epsilon: 3, momentum: 4, nesterov: 5, weightDecay: 6, clipNorm: 7, clipValue: 8 });
export const HYPER_COUNT = 9;
/** flags of lw_model_predict and lw_model_forward */
export const FLAG = Object.freeze({ timeMajor: 1, raw: 2 });
/** enum lw_tensor_kind: the recurrent tensors' PyTorch stems by kind, and the head's two kinds */
export const TENSOR_STEMS = Object.freeze(['weight_ih', 'weight_hh', 'bias_ih', 'bias_hh', null, null, 'weight_peephole', 'weight_gate_recurrence']);
export const TENSOR = Object.freeze({ headWeight: 4, headBias: 5 });
/** enum lw_status values JS tells apart (engine.js maps the rest to LstmError codes) */
export const STATUS = Object.freeze({ notFinite: 3 });

/**
 * lw_model_create's configuration ints (enum lw_config_index order): sizes,
 * cell, loss, seed and switches, then one hidden size per layer.
 */
export function configInts(c, cell, gateFlags) {
  return [c.inputSize, c.outputSize, c.layers, c.bidirectional ? 1 : 0, cell, c.returnSequences ? 1 : 0,
    LOSSES.indexOf(c.loss), c.seed | 0, gateFlags, ...c.hiddenSize];
}

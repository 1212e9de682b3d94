// The cells lstm-wasm offers, in one table: for each name its engine cell, the
// Greff et al. switches the name implies, the rows trace() reports, the PyTorch
// module prefix and gate order, and what ONNX's LSTM/GRU/RNN operators can
// express. Model, config.js, the demo (app.js, gates.js) read it; keep no copy.

import { CELL as ENGINE_CELLS, GATE as GATE_BITS } from './engine-abi.js';

/**
 * The Greff et al. 2015 switches of the LSTM cell (true = the part is there),
 * plus the 1997 squashing, with the plain LSTM's value of each, and the
 * engine bit that says the switch is away from that value.
 */
export const SWITCHES = Object.freeze({
  input: { plain: true, bit: GATE_BITS.noInput },
  forget: { plain: true, bit: GATE_BITS.noForget },
  output: { plain: true, bit: GATE_BITS.noOutput },
  inputActivation: { plain: true, bit: GATE_BITS.noInputAct },
  outputActivation: { plain: true, bit: GATE_BITS.noOutputAct },
  peepholes: { plain: false, bit: GATE_BITS.peepholes },
  coupled: { plain: false, bit: GATE_BITS.coupled },
  fullRecurrence: { plain: false, bit: GATE_BITS.fullRecurrence },
  originalSquashing: { plain: false, bit: GATE_BITS.squash1997 },
  // Yao et al. 2015: layers l >= 1 gate the cell state below into theirs. Optional: a configuration
  // lists it only when on, so the configurations (and saved files) of every other model stay as they were
  depth: { plain: false, bit: GATE_BITS.depth, optional: true },
});
export const SWITCH_NAMES = Object.freeze(Object.keys(SWITCHES));
/** Every switch at its plain-LSTM value: { input: true, …, originalSquashing: false } (the optional ones absent). */
export const SWITCH_DEFAULTS = Object.freeze(Object.fromEntries(SWITCH_NAMES.filter((k) => !SWITCHES[k].optional).map((k) => [k, SWITCHES[k].plain])));

const LSTM_TRACE = ['i', 'f', 'g', 'o', 'c', 'h'];
/**
 * What each row of a trace is, in the order a view draws them: its key in
 * trace()'s entries, a name, and 'unit' for a gate in [0, 1] or 'signed' for a
 * value that may take either sign (the demo's gate view reads this).
 */
export const TRACE_QUANTITIES = Object.freeze([
  { key: 'i', name: 'input gate', scale: 'unit' },
  { key: 'f', name: 'forget gate', scale: 'unit' },
  { key: 'g', name: 'candidate', scale: 'signed' },
  { key: 'o', name: 'output gate', scale: 'unit' },
  { key: 'r', name: 'reset gate', scale: 'unit' },
  { key: 'z', name: 'update gate', scale: 'unit' },
  { key: 'n', name: 'candidate', scale: 'signed' },
  { key: 'c', name: 'cell state', scale: 'signed' },
  { key: 'h', name: 'hidden state', scale: 'signed' },
  { key: 'ran', name: 'module ran (Clockwork)', scale: 'unit' },
]);
// ONNX's LSTM has peepholes (input P) and input_forget (the coupled gate); it has
// no switch to drop a gate or an activation, no gate-to-gate recurrence, and no
// 1997 squashing, so those models have no ONNX form.
const LSTM_ONNX = {
  input: 'ONNX LSTM has no form without the input gate',
  forget: 'ONNX LSTM has no form without the forget gate',
  output: 'ONNX LSTM has no form without the output gate',
  inputActivation: 'ONNX LSTM always squashes the candidate (activation g)',
  outputActivation: 'ONNX LSTM always squashes the cell output (activation h)',
  fullRecurrence: 'ONNX LSTM has no gate-to-gate recurrence',
  originalSquashing: 'ONNX LSTM has no 1997 squashing (activations are fixed sigmoid/tanh)',
  depth: 'ONNX LSTM has no depth gate between layers',
};

/**
 * name → { engine, switches, trace, pytorch, gateOrder, onnx }:
 *   engine    the engine cell (engine-abi.js CELL key)
 *   switches  the Greff switches this name fixes (null: the cell takes none)
 *   trace     trace()'s rows per step in the engine's order; null rows are not reported
 *   derived   (optional) trace() rows computed in JS: 'ran', 1 for each unit of a Clockwork module that ran
 *   pytorch   the module prefix a model made here gets in its state dict
 *   gateOrder the gate blocks of weight_ih/weight_hh, PyTorch's order
 *   onnx      the ONNX operator, and per switch away from its plain value why
 *             ONNX cannot hold it (a switch missing there is expressible)
 */
export const CELLS = Object.freeze({
  lstm: { engine: 'lstm', switches: {}, trace: LSTM_TRACE, pytorch: 'lstm.', gateOrder: ['i', 'f', 'g', 'o'], onnx: { op: 'LSTM', cannot: LSTM_ONNX } },
  peephole: { engine: 'lstm', switches: { peepholes: true }, trace: LSTM_TRACE, pytorch: 'lstm.', gateOrder: ['i', 'f', 'g', 'o'], onnx: { op: 'LSTM', cannot: LSTM_ONNX } },
  lstm1997: { engine: 'lstm', switches: { forget: false }, trace: LSTM_TRACE, pytorch: 'lstm.', gateOrder: ['i', 'f', 'g', 'o'], onnx: { op: 'LSTM', cannot: LSTM_ONNX } },
  cifg: { engine: 'lstm', switches: { coupled: true }, trace: LSTM_TRACE, pytorch: 'lstm.', gateOrder: ['i', 'f', 'g', 'o'], onnx: { op: 'LSTM', cannot: LSTM_ONNX } },
  gru: { engine: 'gru', switches: null, trace: ['r', 'z', 'n', null, 'h'], pytorch: 'gru.', gateOrder: ['r', 'z', 'n'], onnx: { op: 'GRU', cannot: {} } },
  rnn: { engine: 'rnn', switches: null, trace: [null, null, 'h'], pytorch: 'rnn.', gateOrder: [], onnx: { op: 'RNN', cannot: {} } },
  // Koutník et al. 2014: nn.RNN's tensors with a block upper-triangular W_hh; ONNX's RNN has no clocked modules
  clockwork: { engine: 'clockwork', switches: null, trace: [null, null, 'h'], derived: ['ran'], pytorch: 'rnn.', gateOrder: [],
    onnx: { op: 'RNN', cannot: {}, never: 'ONNX RNN has no Clockwork modules (units that run every p-th step)' } },
});
for (const cell of Object.values(CELLS)) for (const part of [cell, cell.switches, cell.trace, cell.gateOrder, cell.onnx]) Object.freeze(part);
export const CELL_NAMES = Object.freeze(Object.keys(CELLS));

/** The Clockwork RNN's default periods (the paper's 2^(i-1), g = 4 modules). */
export const CLOCKWORK_PERIODS = Object.freeze([1, 2, 4, 8]);

/** Which of a Clockwork's modules run at absolute step t (module i when t mod periods[i] == 0). */
export function clockworkRuns(periods, t) {
  return periods.map((p) => t % p === 0);
}

/** The engine's cell code for a cell name. */
export function engineCell(name) {
  return ENGINE_CELLS[CELLS[name].engine];
}

/** Whether the cell takes the Greff switches (the LSTM family). */
export function hasSwitches(name) {
  return CELLS[name].switches !== null;
}

/** enum lw_gate bitmask of resolved switches (null for cells without them: 0). */
export function gateFlags(gates) {
  if (!gates) return 0;
  let flags = 0;
  for (const k of SWITCH_NAMES) if ((gates[k] ?? SWITCHES[k].plain) !== SWITCHES[k].plain) flags |= SWITCHES[k].bit;
  return flags;
}

/** Why ONNX cannot hold a model of this cell and switches: a list of reasons, empty when it can. */
export function onnxLimits(name, gates) {
  const { cannot, never } = CELLS[name].onnx;
  if (never) return [never];
  return gates ? SWITCH_NAMES.filter((k) => (gates[k] ?? SWITCHES[k].plain) !== SWITCHES[k].plain && cannot[k]).map((k) => cannot[k]) : [];
}

// A Model's PyTorch names: the state-dict prefixes a model keeps from
// fromPyTorch (core.names), and the two conversions over interop/pytorch.js's
// functions (fromStateDict, toStateDict) and interop/safetensors.js.
import { affirm } from './errors.js';
import { checkOptions } from './validate.js';
import { CELLS } from './cells.js';
import { encodeSafetensors } from './interop/safetensors.js';
import { fromStateDict, readStateDict, toStateDict } from './interop/pytorch.js';

export const FROM_PYTORCH_OPTIONS = ['loss', 'returnSequences', 'normalize', 'dropout', 'seed', 'simd', 'locateWasm', 'engine',
  'inputSize', 'hiddenSize', 'layers', 'bidirectional', 'outputSize', 'cell', 'gates'];

/**
 * What fromPyTorch needs to create the model: create options (config
 * options and engine options), the parameters and the names to keep.
 */
export function readPyTorch(stateDict, options) {
  const o = checkOptions(options, FROM_PYTORCH_OPTIONS, 'Model.fromPyTorch');
  const { config, params, names } = fromStateDict(readStateDict(stateDict));
  for (const k of ['inputSize', 'layers', 'bidirectional', 'outputSize', 'cell']) {
    affirm(o[k] === undefined || o[k] === config[k], 'ERR_OPTION', `fromPyTorch: ${k} ${o[k]} disagrees with the weights (${config[k]})`);
  }
  const { simd, locateWasm, engine, ...rest } = o;
  return { options: { normalize: false, ...rest, ...config, hiddenSize: config.hiddenSize }, engine: { simd, locateWasm, engine }, params, names };
}

/** The parameters as safetensors (names as imported, else the cell's module prefix and "head."). */
export function writeSafetensors(core, params, shapes) {
  // a model made here has no prefix of its own: name it as a module with .lstm/.gru/.rnn and .head would
  const own = CELLS[core.config.cell].pytorch;
  const names = core.names.prefix === '' && core.names.head === 'head.' ? { prefix: own, head: 'head.' } : core.names;
  if (!core.config.outputSize) { delete params['head.weight']; delete params['head.bias']; }
  return encodeSafetensors(toStateDict(params, shapes, names));
}

// A Model's PyTorch names: the state-dict prefixes a model keeps from
// fromPyTorch (core.names), and the two conversions over interop/pytorch.js's
// functions (fromStateDict, toStateDict) and interop/safetensors.js.
import { checkOptions } from './validate.js';
import { CELLS } from './cells.js';
import { encodeSafetensors } from './interop/safetensors.js';
import { importStateDict, stateDictMetadata, toStateDict } from './interop/pytorch.js';

export const FROM_PYTORCH_OPTIONS = ['loss', 'returnSequences', 'normalize', 'dropout', 'seed', 'simd', 'locateWasm', 'engine',
  'inputSize', 'hiddenSize', 'layers', 'bidirectional', 'outputSize', 'cell', 'gates'];

/**
 * What fromPyTorch needs to create the model: create options (config
 * options and engine options), the parameters and the names to keep.
 */
export function readPyTorch(stateDict, options, resolveConfig) {
  const o = checkOptions(options, FROM_PYTORCH_OPTIONS, 'Model.fromPyTorch');
  const { simd, locateWasm, engine, ...rest } = o;
  const { config, params, names, scalers } = importStateDict(stateDict, rest, resolveConfig);
  return { config, engine: { simd, locateWasm, engine }, params, names, scalers };
}

/** The parameters as safetensors (names as imported, else the cell's module prefix and "head."). */
export function writeSafetensors(core, params, shapes) {
  // a model made here has no prefix of its own: name it as a module with .lstm/.gru/.rnn and .head would
  const own = CELLS[core.config.cell].pytorch;
  const names = core.names.prefix === '' && core.names.head === 'head.' ? { prefix: own, head: 'head.' } : core.names;
  if (!core.config.outputSize) { delete params['head.weight']; delete params['head.bias']; }
  return encodeSafetensors(toStateDict(params, shapes, names), stateDictMetadata(core.config, core.scaling.toJSON()));
}

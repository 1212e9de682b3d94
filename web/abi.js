// The engine's constants as C states them (c/lw.h: enums, the layouts of the
// arrays the exports take, limits), read from lw_abi_json() when an engine is
// instantiated (engine.js). The only JS file that knows lw.h: everything else
// looks numbers up here by their C name, so JS keeps no copy of them.
import { LstmError } from './errors.js';

/**
 * { status, cell, gate, loss, optim, schedule, config, hyper, tensor,
 *   tensorInfo, flag, limits: { NAME: number }, cells: { NAME: { gates, cellState, switches, trace } },
 *   tensorNames: string[] },
 * filled when the first engine is instantiated (every build has the same ABI).
 */
export const abi = {};

/** Takes in the JSON of an engine's lw_abi_json(); every build must agree with the first. */
export function setAbi(json) {
  const parsed = JSON.parse(json);
  const { realSize, ...shared } = parsed; // the one thing that differs between builds (the f64 test build)
  if (Object.keys(abi).length === 0) Object.assign(abi, shared);
  else if (JSON.stringify(shared) !== JSON.stringify(abi)) {
    throw new LstmError('ERR_ENGINE', 'this engine build disagrees with one loaded before about c/lw.h; rebuild both (build.sh)');
  }
  return abi;
}

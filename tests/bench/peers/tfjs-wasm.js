// TF.js with @tensorflow/tfjs-backend-wasm at one thread (setThreadsCount(1)),
// SIMD on where the runtime has it: the peer issue 5's bars are set against.
// The model and the way each figure is measured are in tfjs.js.
import { tfjsPeer } from './tfjs.js';

export default tfjsPeer({ id: 'tfjs-wasm', name: 'TF.js wasm (SIMD, 1 thread)', backend: 'wasm' });

// TF.js with its plain-JavaScript 'cpu' backend (@tensorflow/tfjs-backend-cpu,
// part of @tensorflow/tfjs). The model and the measurements are in tfjs.js.
import { tfjsPeer } from './tfjs.js';

export default tfjsPeer({ id: 'tfjs-cpu', name: 'TF.js cpu', backend: 'cpu' });

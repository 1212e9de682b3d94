// ONNX models <-> lstm-wasm. readONNX follows the data from the graph's input
// through the LSTM/GRU/RNN nodes (one per layer, as torch.onnx.export writes
// them, with the Transpose/Squeeze/Reshape/Slice/Concat/Gather glue), the
// Gemm or MatMul+Add head and a Softmax/Sigmoid, and refuses by name any op
// or attribute that would make the numbers differ. writeONNX builds the graph
// of a model: one node per layer, layout 0, two-bias B, ONNX's gate orders.
import { LstmError } from '../errors.js';
import { decodeMessage, encodeMessage } from './protobuf.js';
import { reorderGates } from './gate-order.js';
import { onnxLimits } from '../cells.js';
import { checkScalers } from '../file-checks.js';

// ------------------------------------------------------------ the schemas (onnx.proto field numbers)
const DIM = { 1: ['value', 'int'], 2: ['param', 'string'] };
const SHAPE = { 1: ['dim', DIM, true] };
const TENSOR_TYPE = { 1: ['elemType', 'int'], 2: ['shape', SHAPE] };
const TYPE = { 1: ['tensor', TENSOR_TYPE] };
const VALUE_INFO = { 1: ['name', 'string'], 2: ['type', TYPE] };
const TENSOR = { 1: ['dims', 'int', true], 2: ['dataType', 'int'], 4: ['floatData', 'float', true], 5: ['int32Data', 'int', true],
  7: ['int64Data', 'int', true], 8: ['name', 'string'], 9: ['rawData', 'bytes'], 10: ['doubleData', 'double', true],
  13: ['externalData', 'bytes', true], 14: ['dataLocation', 'int'] };
const ATTRIBUTE = { 1: ['name', 'string'], 2: ['f', 'float'], 3: ['i', 'int'], 4: ['s', 'bytes'], 5: ['t', TENSOR],
  6: ['g', 'bytes'], 7: ['floats', 'float', true], 8: ['ints', 'int', true], 9: ['strings', 'bytes', true],
  10: ['tensors', 'bytes', true], 11: ['graphs', 'bytes', true], 20: ['type', 'int'], 21: ['refAttrName', 'string'] };
const NODE = { 1: ['input', 'string', true], 2: ['output', 'string', true], 3: ['name', 'string'], 4: ['opType', 'string'],
  5: ['attribute', ATTRIBUTE, true], 7: ['domain', 'string'] };
const GRAPH = { 1: ['node', NODE, true], 2: ['name', 'string'], 5: ['initializer', TENSOR, true], 11: ['input', VALUE_INFO, true],
  12: ['output', VALUE_INFO, true], 15: ['sparseInitializer', 'bytes', true] };
const OPSET = { 1: ['domain', 'string'], 2: ['version', 'int'] };
/** @internal ModelProto's schema, for tests that take files apart. */
export const MODEL = { 1: ['irVersion', 'int'], 2: ['producerName', 'string'], 3: ['producerVersion', 'string'], 7: ['graph', GRAPH],
  8: ['opsetImport', OPSET, true], 14: ['metadataProps', { 1: ['key', 'string'], 2: ['value', 'string'] }, true] };
// the scalers' mode (how train() fitted them), which the numbers cannot say
const NORMALIZE_KEY = 'lstm-wasm.normalize';

const FLOAT = 1, INT32 = 6, INT64 = 7, DOUBLE = 11;
const MAX_BYTES = 1 << 30;
const MAX_ELEMENTS = 1 << 26;
const MAX_NODES = 100000;
const GATES = { LSTM: 4, GRU: 3, RNN: 1 };
const CELL_OF = { LSTM: 'lstm', GRU: 'gru', RNN: 'rnn' };
const DEFAULT_ACTIVATIONS = { LSTM: ['Sigmoid', 'Tanh', 'Tanh'], GRU: ['Sigmoid', 'Tanh'], RNN: ['Tanh'] };

const W = 'fromONNX';
// ops whose output is all zeros when their data input is
const ZERO_KEEPING = ['Slice', 'Squeeze', 'Unsqueeze', 'Expand', 'Reshape', 'Gather', 'Transpose', 'Identity', 'Cast', 'Concat', 'Tile'];
function refuse(message) {
  throw new LstmError('ERR_FORMAT', `${W}: ${message}`);
}

// ------------------------------------------------------------ tensors

/** { dims, data } of a TensorProto: data a Float64Array (floats) or a number array (ints). */
function tensorValues(t, what) {
  const dims = t.dims;
  let n = 1;
  for (const d of dims) {
    if (!Number.isSafeInteger(d) || d < 0) refuse(`${what} has dimension ${d}`);
    n *= d;
    if (n > MAX_ELEMENTS) refuse(`${what} has more than ${MAX_ELEMENTS} values`);
  }
  if (t.dataLocation === 1 || t.externalData.length) refuse(`${what} keeps its data in an external file; save the model with its weights inside (onnx.save(model, path, save_as_external_data=False))`);
  const type = t.dataType;
  const size = { [FLOAT]: 4, [DOUBLE]: 8, [INT32]: 4, [INT64]: 8 }[type];
  if (!size) refuse(`${what} has data type ${type}; float, double, int32 and int64 tensors are read`);
  let data;
  if (t.rawData !== undefined && t.rawData.length) {
    const raw = t.rawData;
    if (raw.length !== n * size) refuse(`${what} has ${raw.length} bytes of raw data; shape [${dims}] needs ${n * size}`);
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    if (type === FLOAT) data = Float64Array.from({ length: n }, (_, k) => view.getFloat32(4 * k, true));
    else if (type === DOUBLE) data = Float64Array.from({ length: n }, (_, k) => view.getFloat64(8 * k, true));
    else if (type === INT32) data = Array.from({ length: n }, (_, k) => view.getInt32(4 * k, true));
    else {
      data = Array.from({ length: n }, (_, k) => {
        const v = view.getBigInt64(8 * k, true);
        if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER)) return v > 0n ? Number.MAX_SAFE_INTEGER : -Number.MAX_SAFE_INTEGER;
        return Number(v);
      });
    }
  } else {
    const field = { [FLOAT]: 'floatData', [DOUBLE]: 'doubleData', [INT32]: 'int32Data', [INT64]: 'int64Data' }[type];
    const values = t[field];
    if (values.length !== n) refuse(`${what} has ${values.length} values; shape [${dims}] needs ${n}`);
    data = type === FLOAT || type === DOUBLE ? Float64Array.from(values) : values.slice();
  }
  return { dims: dims.slice(), data, int: type === INT32 || type === INT64 };
}

function attributes(node) {
  const out = {};
  for (const a of node.attribute) {
    if (!a.name) refuse(`a ${node.opType} node has an attribute without a name`);
    if (a.refAttrName) refuse(`attribute '${a.name}' of ${node.opType} refers to a function attribute`);
    out[a.name] = a;
  }
  return out;
}
const attrInt = (a, name, dflt) => (a[name] === undefined ? dflt : a[name].i ?? 0);
const attrInts = (a, name) => (a[name] === undefined ? null : a[name].ints);
const attrString = (a, name, dflt) => (a[name] === undefined ? dflt : new TextDecoder().decode(a[name].s ?? new Uint8Array(0)));

// ------------------------------------------------------------ reading

/**
 * Parses ONNX bytes and maps the graph onto an lstm-wasm model.
 * @returns {{ config: object, params: Object<string, Float32Array>, layout: 'batch-first'|'time-major' }}
 */
export function readONNX(bytes) {
  if (bytes instanceof ArrayBuffer) bytes = new Uint8Array(bytes);
  if (!(bytes instanceof Uint8Array)) throw new LstmError('ERR_TYPE', `${W}: expected the .onnx file's bytes (Uint8Array or ArrayBuffer)`);
  if (bytes.length > MAX_BYTES) refuse(`the file is ${bytes.length} bytes; at most ${MAX_BYTES} are read`);
  const model = decodeMessage(bytes, MODEL, W, 'ModelProto');
  if (!model.graph) refuse('no graph (is this an ONNX ModelProto?)');
  const opset = model.opsetImport.find((o) => (o.domain ?? '') === '' || o.domain === 'ai.onnx');
  if (!opset || !Number.isInteger(opset.version)) refuse('no ai.onnx opset in opset_import');
  if (opset.version < 7 || opset.version > 22) refuse(`opset ${opset.version}; opsets 7 to 22 are read`);
  const out = new GraphReader(model.graph, opset.version).read();
  const mode = model.metadataProps.find((p) => p.key === NORMALIZE_KEY)?.value;
  out.normalize = mode === 'minmax' ? 'minmax' : 'zscore';
  return out;
}

class GraphReader {
  constructor(graph, opset) {
    this.g = graph;
    this.opset = opset;
    this.values = new Map();
    this.layers = []; // per layer: { kind, H, D, params, peephole, coupled }
    this.inputName = null;
    this.inputLayout = null;
    this.lengthsName = null;
    this.headParams = null;
  }

  get(name, node) {
    if (!this.values.has(name)) refuse(`${node.opType} node '${node.name ?? ''}' reads '${name}', which no earlier node, input or initializer defines`);
    return this.values.get(name);
  }

  constInts(name, node, what) {
    const v = this.get(name, node);
    if (v.k !== 'const') refuse(`${what} of ${node.opType} must be a constant`);
    return Array.from(v.data, (x) => Number(x));
  }

  read() {
    const g = this.g;
    if (g.sparseInitializer.length) refuse('sparse initializers are not read');
    if (g.node.length > MAX_NODES) refuse(`${g.node.length} nodes; at most ${MAX_NODES}`);
    for (const t of g.initializer) {
      if (!t.name) refuse('an initializer without a name');
      this.values.set(t.name, { k: 'const', ...tensorValues(t, `initializer '${t.name}'`) });
    }
    const inputs = g.input.filter((i) => !this.values.has(i.name));
    for (const i of inputs) {
      const elem = i.type?.tensor?.elemType;
      const rank = i.type?.tensor?.shape?.dim?.length;
      if (elem === FLOAT || elem === DOUBLE) {
        if (this.inputName !== null) refuse(`two float inputs ('${this.inputName}' and '${i.name}'); the model takes one sequence input (initial states as inputs are not read)`);
        if (rank !== undefined && rank !== 3) refuse(`input '${i.name}' has rank ${rank}; a sequence input is 3-D`);
        this.inputName = i.name;
        this.values.set(i.name, { k: 'seq', axes: ['x0', 'x1', 'F'], layer: -1 });
      } else if (elem === INT32 || elem === INT64) {
        if (this.lengthsName !== null) refuse(`two integer inputs ('${this.lengthsName}' and '${i.name}'); only sequence_lens is read`);
        this.lengthsName = i.name;
        this.values.set(i.name, { k: 'lengths' });
      } else {
        refuse(`input '${i.name}' has element type ${elem}`);
      }
    }
    if (this.inputName === null) refuse('no float input');
    for (const node of g.node) this.node(node);
    return this.finish();
  }

  node(node) {
    const op = node.opType;
    if (node.domain && node.domain !== 'ai.onnx') refuse(`op '${node.domain}.${op}' is not a standard ONNX op`);
    const a = attributes(node);
    const ins = node.input.map((n) => (n === '' ? null : this.get(n, node)));
    const set = (k, v) => {
      if (node.output[k] === undefined || node.output[k] === '') return;
      this.values.set(node.output[k], v);
    };
    const data = ins.filter((v) => v && v.k !== 'const' && v.k !== 'shape');
    if (op === 'Constant') {
      const t = a.value?.t;
      if (t) return set(0, { k: 'const', ...tensorValues(t, `Constant '${node.output[0]}'`) });
      if (a.value_float) return set(0, { k: 'const', dims: [], data: Float64Array.of(a.value_float.f ?? 0), int: false });
      if (a.value_int) return set(0, { k: 'const', dims: [], data: [a.value_int.i ?? 0], int: true });
      if (a.value_ints) return set(0, { k: 'const', dims: [a.value_ints.ints.length], data: a.value_ints.ints, int: true });
      return refuse(`Constant '${node.output[0]}' holds no tensor value this reader knows`);
    }
    if (op in GATES) return this.recurrent(node, a, ins, set);
    if (op === 'Shape' || op === 'Size') return set(0, { k: 'shape' });
    // shape arithmetic: values that only feed shapes (their numbers are never needed)
    if (!data.length) {
      if (op === 'ConstantOfShape') {
        const t = a.value?.t;
        const v = t ? tensorValues(t, 'ConstantOfShape value').data : [0];
        return set(0, v.every((x) => Number(x) === 0) ? { k: 'zero' } : { k: 'shape' });
      }
      if (['Identity', 'Cast'].includes(op) && ins[0]?.k === 'const') return set(0, ins[0]);
      // zeros expanded or reshaped to the batch's size (torch's zero initial states)
      if (ZERO_KEEPING.includes(op) && ins[0]?.k === 'const' && !ins[0].int && Array.from(ins[0].data).every((v) => v === 0)) return set(0, { k: 'zero' });
      for (let k = 0; k < node.output.length; k++) set(k, { k: 'shape' });
      return undefined;
    }
    // input 0 is the data (the others shapes and indices); Concat's inputs are all data
    const zeroConst = (v) => v && (v.k === 'zero' || (v.k === 'const' && Array.from(v.data).every((z) => z === 0)));
    if (ins[0]?.k === 'zero' && ZERO_KEEPING.includes(op) && (op !== 'Concat' || ins.every(zeroConst))) return set(0, { k: 'zero' });
    const x = ins[0];
    if (!x || x.k === 'const' || x.k === 'shape' || x.k === 'zero' || x.k === 'lengths') {
      if (op === 'Add' && ins[1] && ins[1].k === 'out') return this.add(node, ins[1], ins[0], set);
      if (op === 'Cast' && x?.k === 'lengths') return set(0, x);
      return refuse(`op ${op} ('${node.name || node.output[0]}') on ${x ? x.k : 'nothing'} is not part of a recurrent model lstm-wasm maps`);
    }
    switch (op) {
      case 'Identity':
        return set(0, x);
      case 'Dropout':
        if (node.output.length > 1 && node.output[1]) refuse(`Dropout's mask output is used; the inference graph has none`);
        if (ins[2] && !(ins[2].k === 'const' && Number(ins[2].data[0]) === 0)) refuse('Dropout in training mode');
        return set(0, x);
      case 'Cast': {
        const to = attrInt(a, 'to', 0);
        if (to !== FLOAT && to !== DOUBLE) refuse(`Cast to type ${to} changes the numbers`);
        return set(0, x);
      }
      case 'Transpose': {
        const perm = attrInts(a, 'perm') ?? x.axes.map((_, k) => x.axes.length - 1 - k);
        if (perm.length !== x.axes.length || [...perm].sort().some((p, k) => p !== k)) refuse(`Transpose perm [${perm}] does not fit a tensor of rank ${x.axes.length}`);
        return set(0, { ...x, axes: perm.map((p) => x.axes[p]) });
      }
      case 'Squeeze': {
        const axes = this.opset >= 13 ? (ins[1] ? this.constInts(node.input[1], node, 'axes') : null) : attrInts(a, 'axes');
        if (!axes) refuse('Squeeze without axes (name the axes to squeeze)');
        return set(0, this.squeeze(x, axes.map((k) => this.axis(k, x.axes.length, op))));
      }
      case 'Unsqueeze': {
        const axes = this.opset >= 13 ? this.constInts(node.input[1], node, 'axes') : attrInts(a, 'axes');
        if (!axes || axes.length !== 1) refuse('Unsqueeze of other than one axis');
        const at = this.axis(axes[0], x.axes.length + 1, op);
        const out = x.axes.slice();
        out.splice(at, 0, 'one');
        return set(0, { ...x, axes: out });
      }
      case 'Reshape':
        return set(0, this.reshape(x, this.constInts(node.input[1], node, 'the shape'), node));
      case 'Gather':
        return set(0, this.gather(x, this.get(node.input[1], node), this.axis(attrInt(a, 'axis', 0), x.axes.length, op)));
      case 'Slice':
        return set(0, this.slice(x, node, a, ins));
      case 'Concat':
        return set(0, this.concat(ins, this.axis(attrInt(a, 'axis', 0), x.axes.length, op)));
      case 'MatMul':
        return set(0, this.matmul(x, ins[1]));
      case 'Gemm':
        return set(0, this.gemm(x, ins, a));
      case 'Add':
        return this.add(node, x, ins[1], set);
      case 'Sub':
      case 'Div':
      case 'Mul':
        return set(0, this.scaler(op, x, ins[1]));
      case 'Softmax':
      case 'Sigmoid': {
        if (x.k !== 'out' || x.stage !== 'bias' || x.activation) refuse(`${op} is read only right after the dense head (it becomes the loss)`);
        if (op === 'Softmax') {
          const axis = this.axis(attrInt(a, 'axis', this.opset >= 13 ? -1 : 1), x.axes.length, op);
          if (axis !== x.axes.length - 1) refuse(`Softmax over axis ${axis}; only the output axis (the last) maps to softmax-cross-entropy`);
        }
        return set(0, { ...x, activation: op === 'Softmax' ? 'softmax-cross-entropy' : 'sigmoid-cross-entropy' });
      }
      default:
        return refuse(`op ${op} ('${node.name || node.output[0]}') changes the numbers in a way lstm-wasm has no form for`);
    }
  }

  axis(k, rank, op) {
    if (!Number.isInteger(k) || k < -rank || k >= rank) refuse(`${op} axis ${k} is out of range for rank ${rank}`);
    return k < 0 ? k + rank : k;
  }

  squeeze(x, axes) {
    const out = [];
    let last = false;
    x.axes.forEach((label, k) => {
      if (!axes.includes(k)) return out.push(label);
      const one = label === 'one' || (label === 'D' && x.D === 1) || (label === 'R' && x.rows?.length === 1) || label === 'Tlast';
      if (!one) refuse(`Squeeze of axis ${k} (${label}), which is not of size 1`);
      if (label === 'Tlast') last = true;
      return undefined;
    });
    if (last) return this.lastStep(x, out);
    // a unidirectional layer's (T, 1, B, H) squeezed: H is all its features
    if (x.k === 'seq' && x.axes.includes('D') && !out.includes('D')) return { ...x, axes: out.map((s) => (s === 'H' ? 'F' : s)) };
    return { ...x, axes: out };
  }

  /** The output at the last step of a unidirectional top layer: with full-length sequences, its final state. */
  lastStep(x, axes) {
    if (x.k !== 'seq' || x.layer < 0) refuse('a last step taken of something other than a recurrent output');
    const L = this.layers[x.layer];
    if (L.D !== 1) refuse("the last step of a bidirectional output (its reverse half has read one step only); lstm-wasm's head reads the final states: export torch.cat([h_n[-2], h_n[-1]], 1)");
    if (axes.length !== 2 || axes[0] !== 'B' || axes[1] !== 'F') refuse(`the last step laid out as [${axes}]`);
    return { k: 'feat', parts: [[x.layer, 0]], axes: ['B', 'F'] };
  }

  reshape(x, shape, node) {
    const ax = x.axes;
    const keep = (s) => s === 0 || s === -1 || s > 0;
    if (x.k === 'seq' && ax.length === 4 && ax[2] === 'D' && ax[3] === 'H' && shape.length === 3) {
      const L = this.layers[x.layer];
      if (keep(shape[0]) && keep(shape[1]) && (shape[2] === -1 || shape[2] === L.D * L.H) && shape.filter((s) => s === -1).length <= 1) {
        return { ...x, axes: [ax[0], ax[1], 'F'] };
      }
    }
    if (x.k === 'state' && ax.length === 3 && ax[0] === 'B' && ax[1] === 'R' && ax[2] === 'H' && shape.length === 2 && keep(shape[0])) {
      const H = this.layers[x.rows[0][0]].H;
      if (shape[1] === -1 || shape[1] === x.rows.length * H) return this.feat(x.rows, x.c);
    }
    if (ax.length === shape.length && shape.every((s, k) => s === 0 || (s === -1 && shape.filter((t) => t === -1).length === 1 && k === shape.length - 1))) return x;
    return refuse(`Reshape '${node.name || node.output[0]}' to [${shape}] of a tensor laid out as [${ax}] is not one lstm-wasm maps`);
  }

  feat(rows, c) {
    if (c) refuse('the head reads the cell state c; lstm-wasm\'s head reads the hidden state');
    return { k: 'feat', parts: rows.slice(), axes: ['B', 'F'] };
  }

  gather(x, index, axis) {
    if (index.k !== 'const' || index.int === false) refuse('Gather with indices that are not integer constants');
    if (index.dims.length > 1 || index.data.length !== 1) refuse('Gather of more than one index');
    const label = x.axes[axis];
    let i = Number(index.data[0]);
    const scalar = index.dims.length === 0;
    if (x.k === 'state' && label === 'R') {
      const n = x.rows.length;
      if (i < -n || i >= n) refuse(`Gather index ${i} outside the ${n} state rows`);
      if (i < 0) i += n;
      const axes = x.axes.slice();
      if (scalar) axes.splice(axis, 1);
      return { ...x, rows: [x.rows[i]], axes };
    }
    if (x.k === 'seq' && label === 'T' && i === -1) {
      const axes = x.axes.slice();
      if (!scalar) { axes[axis] = 'Tlast'; return { ...x, axes }; }
      axes.splice(axis, 1);
      return this.lastStep(x, axes);
    }
    return refuse(`Gather of index ${i} along axis ${axis} (${label})`);
  }

  slice(x, node, a, ins) {
    let starts, ends, axes, steps;
    if (this.opset >= 10) {
      starts = this.constInts(node.input[1], node, 'starts');
      ends = this.constInts(node.input[2], node, 'ends');
      axes = ins[3] ? this.constInts(node.input[3], node, 'axes') : starts.map((_, k) => k);
      steps = ins[4] ? this.constInts(node.input[4], node, 'steps') : starts.map(() => 1);
    } else {
      starts = attrInts(a, 'starts') ?? [], ends = attrInts(a, 'ends') ?? [];
      axes = attrInts(a, 'axes') ?? starts.map((_, k) => k), steps = starts.map(() => 1);
    }
    if (starts.length !== 1 || ends.length !== 1 || axes.length !== 1) refuse('Slice along more than one axis of a recurrent value');
    if (steps[0] !== 1) refuse(`Slice with step ${steps[0]}`);
    const axis = this.axis(axes[0], x.axes.length, 'Slice'), label = x.axes[axis];
    if (x.k === 'state' && label === 'R') {
      const n = x.rows.length, norm = (v) => Math.min(n, Math.max(0, v < 0 ? v + n : v));
      const rows = x.rows.slice(norm(starts[0]), norm(ends[0]));
      if (!rows.length) refuse('Slice of no state rows');
      return { ...x, rows };
    }
    if (x.k === 'seq' && label === 'T' && starts[0] === -1 && ends[0] >= 2 ** 31 - 1) {
      const out = x.axes.slice();
      out[axis] = 'Tlast';
      return { ...x, axes: out };
    }
    return refuse(`Slice [${starts[0]}:${ends[0]}] along axis ${axis} (${label})`);
  }

  concat(ins, axis) {
    if (ins.some((v) => !v || v.k !== ins[0].k)) refuse('Concat of values of different kinds');
    const x = ins[0];
    if (x.k === 'state' && x.axes[axis] === 'R' && ins.every((v) => v.c === x.c && v.axes.join() === x.axes.join())) {
      return { ...x, rows: ins.flatMap((v) => v.rows) };
    }
    const asFeat = (v) => (v.k === 'feat' ? v.parts : v.k === 'state' && v.axes.join() === 'B,H' ? (v.c ? this.feat([], true) : v.rows) : null);
    if (axis === 1 && ins.every((v) => asFeat(v))) return { k: 'feat', parts: ins.flatMap(asFeat), axes: ['B', 'F'] };
    return refuse(`Concat along axis ${axis} (${x.axes[axis]}) of ${x.k} values`);
  }

  features(x, what) {
    if (x.k === 'state' && x.axes.join() === 'B,H') x = this.feat(x.rows, x.c);
    if (x.k === 'seq' && x.layer >= 0 && x.axes[x.axes.length - 1] === 'F' && x.axes.length === 3) return { x, perStep: true, F: this.layers[x.layer].D * this.layers[x.layer].H };
    if (x.k === 'feat') {
      const layer = x.parts[0][0], L = this.layers[layer];
      const want = Array.from({ length: L.D }, (_, d) => `${layer},${d}`).join(' ');
      if (x.parts.map((p) => p.join()).join(' ') !== want) refuse(`${what} reads the final states [${x.parts.map(([l, d]) => `layer ${l} ${d ? 'reverse' : 'forward'}`)}]; lstm-wasm's head reads the top layer's final states, forward then reverse`);
      return { x: { ...x, layer }, perStep: false, F: L.D * L.H };
    }
    return refuse(`${what} of a ${x.k} laid out as [${x.axes}]; the head reads a recurrent output or final states`);
  }

  matmul(x, w) {
    const { x: f, perStep, F } = this.features(x, 'MatMul');
    if (!w || w.k !== 'const' || w.dims.length !== 2 || w.dims[0] !== F) refuse(`MatMul's weight must be a constant [${F}, outputSize]`);
    const O = w.dims[1];
    const weight = new Float32Array(O * F);
    for (let i = 0; i < F; i++) for (let o = 0; o < O; o++) weight[o * F + i] = w.data[i * O + o];
    const axes = f.axes.slice(0, -1).concat('O');
    return { k: 'out', stage: 'matmul', layer: f.layer, perStep, O, weight, bias: new Float32Array(O), axes, activation: null };
  }

  gemm(x, ins, a) {
    const { x: f, perStep, F } = this.features(x, 'Gemm');
    if (perStep) refuse('Gemm of a sequence');
    const alpha = a.alpha ? a.alpha.f : 1, beta = a.beta ? a.beta.f : 1;
    if (alpha !== 1 || beta !== 1) refuse(`Gemm with alpha ${alpha}, beta ${beta}; only 1 and 1 are read`);
    if (attrInt(a, 'transA', 0)) refuse('Gemm with transA');
    const transB = attrInt(a, 'transB', 0), w = ins[1];
    if (!w || w.k !== 'const' || w.dims.length !== 2 || w.dims[transB ? 1 : 0] !== F) refuse(`Gemm's B must be a constant with ${F} ${transB ? 'columns' : 'rows'}`);
    const O = w.dims[transB ? 0 : 1];
    const weight = new Float32Array(O * F);
    for (let o = 0; o < O; o++) for (let i = 0; i < F; i++) weight[o * F + i] = transB ? w.data[o * F + i] : w.data[i * O + o];
    const out = { k: 'out', stage: 'bias', layer: f.layer, perStep: false, O, weight, bias: new Float32Array(O), axes: ['B', 'O'], activation: null };
    if (ins[2]) out.bias = this.biasOf(ins[2], O, 'Gemm');
    return out;
  }

  biasOf(c, O, op) {
    if (c.k !== 'const') refuse(`${op}'s bias must be a constant`);
    const n = c.data.length;
    if (n !== O && n !== 1) refuse(`${op}'s bias has ${n} values; the head has ${O} outputs`);
    if (c.dims.slice(0, -1).some((d) => d !== 1)) refuse(`${op}'s bias of shape [${c.dims}] does not broadcast as a per-output bias`);
    return Float32Array.from({ length: O }, (_, k) => c.data[n === 1 ? 0 : k]);
  }

  /** toONNX's scalers: (x - shift) / scale before the first layer, y · scale + shift after the head. */
  scaler(op, x, c) {
    const input = x.k === 'seq' && x.layer === -1;
    const width = input ? null : x.O;
    const ok = input ? (op === 'Sub' && !x.scale) || (op === 'Div' && x.scale?.scale === null)
      : x.k === 'out' && x.stage === 'bias' && !x.activation && op === 'Mul';
    if (!ok || !c || c.k !== 'const' || c.dims.length !== 1 || (width !== null && c.dims[0] !== width)) {
      refuse(`op ${op} ${input ? 'on the input' : `on ${x.k === 'out' ? 'the head' : `a ${x.k}`}`}; only a per-feature (x − shift) / scale before the first layer and y · scale + shift after the head (what toONNX writes) are read`);
    }
    const v = Float64Array.from(c.data);
    if (op === 'Sub') return { ...x, scale: { shift: v, scale: null } };
    if (op === 'Div') return { ...x, scale: { ...x.scale, scale: v } };
    return { ...x, stage: 'mul', target: { scale: v, shift: null } };
  }

  add(node, x, c, set) {
    if (x.k === 'out' && x.stage === 'mul') {
      if (!c || c.k !== 'const' || c.dims.length !== 1 || c.dims[0] !== x.O) refuse("Add after the head's Mul must be a per-output constant shift");
      return set(0, { ...x, stage: 'scaled', target: { ...x.target, shift: Float64Array.from(c.data) } });
    }
    if (x.k !== 'out' || x.stage !== 'matmul' || x.activation) refuse(`Add ('${node.name || node.output[0]}') other than the head's bias after its MatMul`);
    return set(0, { ...x, stage: 'bias', bias: this.biasOf(c ?? { k: 'none' }, x.O, 'Add') });
  }

  recurrent(node, a, ins, set) {
    const op = node.opType, l = this.layers.length, G = GATES[op];
    const known = ['hidden_size', 'direction', 'activations', 'clip', 'layout', ...(op === 'LSTM' ? ['input_forget'] : []), ...(op === 'GRU' ? ['linear_before_reset'] : []), 'activation_alpha', 'activation_beta'];
    for (const name of Object.keys(a)) if (!known.includes(name)) refuse(`${op} attribute '${name}' is not one lstm-wasm reads`);
    if (a.clip) refuse(`${op} layer ${l}: clip ${a.clip.f} (the engine does not clip the gate inputs); export without clip`);
    if (a.activation_alpha || a.activation_beta) refuse(`${op} layer ${l}: activation_alpha/activation_beta (parameterised activations)`);
    const direction = attrString(a, 'direction', 'forward');
    if (direction === 'reverse') refuse(`${op} layer ${l}: direction 'reverse' (a reverse-only layer); lstm-wasm has forward and bidirectional layers`);
    if (direction !== 'forward' && direction !== 'bidirectional') refuse(`${op} layer ${l}: direction '${direction}'`);
    const D = direction === 'bidirectional' ? 2 : 1;
    if (attrInt(a, 'layout', 0) !== 0) refuse(`${op} layer ${l}: layout ${attrInt(a, 'layout', 0)}; lstm-wasm reads layout 0 (time-major, as torch.onnx.export writes it)`);
    if (a.activations) {
      const got = a.activations.strings.map((s) => new TextDecoder().decode(s));
      const want = Array.from({ length: D }, () => DEFAULT_ACTIVATIONS[op]).flat();
      if (got.join() !== want.join()) refuse(`${op} layer ${l}: activations [${got}]; only the defaults [${want}] are computed`);
    }
    if (op === 'GRU' && attrInt(a, 'linear_before_reset', 0) !== 1) {
      refuse(`GRU layer ${l}: linear_before_reset 0 (the reset gate before the recurrent product) is not in the engine yet (planned); PyTorch's form, linear_before_reset 1, is read`);
    }
    const coupled = op === 'LSTM' && attrInt(a, 'input_forget', 0) !== 0;
    const hs = attrInt(a, 'hidden_size', null);
    const [x, w, r, b, lens, h0, c0, p] = ins;
    if (!w || w.k !== 'const' || w.dims.length !== 3 || w.dims[0] !== D) refuse(`${op} layer ${l}: W must be a constant [${D}, ${G}·H, inputSize]`);
    const GH = w.dims[1], H = GH / G, I = w.dims[2];
    if (!Number.isInteger(H) || H < 1 || (hs !== null && hs !== H)) refuse(`${op} layer ${l}: W has ${GH} rows, hidden_size ${hs}`);
    if (!r || r.k !== 'const' || r.dims.join() !== [D, GH, H].join()) refuse(`${op} layer ${l}: R must be a constant [${D}, ${GH}, ${H}]`);
    if (b && (b.k !== 'const' || b.dims.join() !== [D, 2 * GH].join())) refuse(`${op} layer ${l}: B must be a constant [${D}, ${2 * GH}]`);
    if (p && (op !== 'LSTM' || p.k !== 'const' || p.dims.join() !== [D, 3 * H].join())) refuse(`${op} layer ${l}: P must be a constant [${D}, ${3 * H}]`);
    if (lens && lens.k !== 'lengths') refuse(`${op} layer ${l}: sequence_lens must be the graph's integer input`);
    for (const [v, name] of [[h0, 'initial_h'], [c0, 'initial_c']]) {
      if (v && v.k !== 'zero' && !(v.k === 'const' && Array.from(v.data).every((z) => z === 0))) refuse(`${op} layer ${l}: ${name} is not zero (lstm-wasm's model starts from zero states; pass states to forward() instead)`);
    }
    // the input: the graph's (time-major here) or the layer below's [T, B, D·H]
    if (!x || x.k !== 'seq') refuse(`${op} layer ${l}: its input X is not a sequence`);
    if (l === 0) {
      if (x.scale && (!x.scale.scale || x.scale.shift.length !== w.dims[2])) refuse(`the input's scaling is incomplete or not ${w.dims[2]} wide (Sub then Div)`);
      this.inputScaler = x.scale ?? null;
      if (x.layer !== -1 || x.axes.length !== 3 || x.axes[2] !== 'F') refuse(`${op} layer 0: X laid out as [${x.axes}]`);
      this.inputLayout = x.axes[0] === 'x0' ? 'time-major' : 'batch-first';
      this.rename = x.axes[0] === 'x0' ? { x0: 'T', x1: 'B' } : { x0: 'B', x1: 'T' };
      for (const [name, v] of this.values) if (v.k === 'seq' && v.layer === -1) this.values.set(name, { ...v, axes: v.axes.map((s) => this.rename[s] ?? s) });
    } else if (x.layer !== l - 1 || x.axes.join() !== 'T,B,F') {
      refuse(`${op} layer ${l}: X is not layer ${l - 1}'s output as [T, B, D·H] (got ${x.layer < 0 ? 'the input' : `layer ${x.layer}`} as [${x.axes}])`);
    }
    const below = l === 0 ? null : this.layers[l - 1];
    if (below && (below.op !== op || below.peephole !== Boolean(p) || below.coupled !== coupled || below.D !== D)) {
      refuse(`${op} layer ${l} differs from layer ${l - 1} in op, direction, peepholes or input_forget; lstm-wasm's layers share them`);
    }
    if (below && I !== below.D * below.H) refuse(`${op} layer ${l}: W reads ${I} features; layer ${l - 1} gives ${below.D * below.H}`);
    if (this.lengthsName !== null && !lens) refuse(`${op} layer ${l} ignores sequence_lens; the others use it`);
    // ONNX gate orders to PyTorch's: LSTM i,o,f,c -> i,f,g,o; GRU z,r,h -> r,z,n; P [i,o,f] -> [i,f,o]
    const from = { LSTM: 'iofg', GRU: 'zrn', RNN: 'h' }[op], to = { LSTM: 'ifgo', GRU: 'rzn', RNN: 'h' }[op];
    const params = {};
    for (let d = 0; d < D; d++) {
      const sfx = `_l${l}${d ? '_reverse' : ''}`;
      params[`weight_ih${sfx}`] = reorderGates(w.data.subarray(d * GH * I, (d + 1) * GH * I), H, from, to, I);
      params[`weight_hh${sfx}`] = reorderGates(r.data.subarray(d * GH * H, (d + 1) * GH * H), H, from, to, H);
      params[`bias_ih${sfx}`] = b ? reorderGates(b.data.subarray(d * 2 * GH, d * 2 * GH + GH), H, from, to) : new Float32Array(GH);
      params[`bias_hh${sfx}`] = b ? reorderGates(b.data.subarray(d * 2 * GH + GH, (d + 1) * 2 * GH), H, from, to) : new Float32Array(GH);
      if (p) params[`weight_peephole${sfx}`] = reorderGates(p.data.subarray(d * 3 * H, (d + 1) * 3 * H), H, 'iof', 'ifo');
    }
    for (const [name, v] of Object.entries(params)) {
      for (let k = 0; k < v.length; k++) if (!Number.isFinite(v[k])) throw new LstmError('ERR_NOT_FINITE', `${W}: ${name}[${k}] is ${v[k]}`);
    }
    this.layers.push({ op, D, H, I, params, peephole: Boolean(p), coupled });
    set(0, { k: 'seq', axes: ['T', 'D', 'B', 'H'], layer: l, D });
    set(1, { k: 'state', rows: Array.from({ length: D }, (_, d) => [l, d]), axes: ['R', 'B', 'H'], c: false });
    set(2, { k: 'state', rows: Array.from({ length: D }, (_, d) => [l, d]), axes: ['R', 'B', 'H'], c: true });
  }

  finish() {
    if (!this.layers.length) refuse('no LSTM, GRU or RNN node');
    const L = this.layers.length, top = this.layers[L - 1];
    let main = null;
    for (const o of this.g.output) {
      const v = this.values.get(o.name);
      if (!v) refuse(`output '${o.name}' is not computed by any node`);
      if (v.k === 'state' || v.k === 'zero' || v.k === 'shape' || v.k === 'const') continue; // final states and shapes: forward() gives the states
      if (main) refuse(`two outputs ('${main.name}' and '${o.name}') that are not final states; lstm-wasm's model has one output`);
      main = { name: o.name, v };
    }
    if (!main) refuse('no output besides final states');
    const v = main.v;
    const params = {};
    for (const layer of this.layers) Object.assign(params, layer.params);
    let outputSize = 0, returnSequences = true, loss = null;
    if (v.k === 'out') {
      if (!['bias', 'matmul', 'scaled'].includes(v.stage)) refuse('the head is incomplete (a Mul without its Add)');
      if (Boolean(this.inputScaler) !== Boolean(v.target)) refuse('the graph scales only one of the input and the output; toONNX writes both or neither');
      if (v.layer !== L - 1) refuse(`the head reads layer ${v.layer}, not the top layer ${L - 1}`);
      outputSize = v.O, returnSequences = v.perStep, loss = v.activation;
      params['head.weight'] = v.weight;
      params['head.bias'] = v.bias;
      if (v.perStep && !['B,T,O', 'T,B,O'].includes(v.axes.join())) refuse(`the head's output is laid out as [${v.axes}]`);
    } else if (v.k === 'seq') {
      if (this.inputScaler) refuse('the graph scales its input but has no head to unscale');
      if (v.layer !== L - 1 || !['B,T,F', 'T,B,F'].includes(v.axes.join())) refuse(`output '${main.name}' laid out as [${v.axes}] of ${v.layer < 0 ? 'the input' : `layer ${v.layer}`}; expected the top layer's output as [B, T, D·H] or [T, B, D·H]`);
    } else {
      refuse(`output '${main.name}' is a ${v.k} value, not a recurrent output or a head`);
    }
    const first = this.layers[0];
    const cell = CELL_OF[first.op] === 'lstm' ? (first.coupled ? 'cifg' : first.peephole ? 'peephole' : 'lstm') : CELL_OF[first.op];
    const config = {
      inputSize: first.I, hiddenSize: this.layers.map((x) => x.H), layers: L, bidirectional: top.D === 2, outputSize,
      cell, returnSequences, ...(first.coupled && first.peephole ? { gates: { peepholes: true } } : {}),
    };
    const scalers = this.inputScaler && v.target
      ? { input: { shift: Array.from(this.inputScaler.shift), scale: Array.from(this.inputScaler.scale) },
        target: { shift: Array.from(v.target.shift), scale: Array.from(v.target.scale) } }
      : null;
    return { config, loss, params, scalers, layout: this.inputLayout, lengths: this.lengthsName !== null };
  }
}

// ------------------------------------------------------------ writing

const OPSET_OUT = 14, IR_VERSION = 7;

function floatTensor(name, dims, data) {
  const raw = new Uint8Array(new Float32Array(data).buffer);
  return { name, dims, dataType: FLOAT, rawData: raw };
}
function intTensor(name, values) {
  const buf = new BigInt64Array(values.map((v) => BigInt(v)));
  return { name, dims: [values.length], dataType: INT64, rawData: new Uint8Array(buf.buffer) };
}
const attrI = (name, i) => ({ name, type: 2, i });
const attrS = (name, s) => ({ name, type: 3, s: new TextEncoder().encode(s) });
const attrIs = (name, ints) => ({ name, type: 7, ints });
const valueInfo = (name, dims) => ({ name, type: { tensor: { elemType: FLOAT, shape: { dim: dims.map((d) => (typeof d === 'string' ? { param: d } : { value: d })) } } } });

/**
 * ONNX bytes for a model: config, parameters by lstm-wasm name and the scalers.
 * @param {object} config resolved configuration
 * @param {Object<string, Float32Array>} params
 * @param {{ input: object|null, target: object|null }} scalers
 */
export function writeONNX(config, params, scalers) {
  const why = onnxLimits(config.cell, config.gates);
  if (why.length) throw new LstmError('ERR_FORMAT', `toONNX: cell '${config.cell}' has no ONNX form: ${why.join('; ')}`);
  const op = { gru: 'GRU', rnn: 'RNN' }[config.cell] ?? 'LSTM';
  const G = GATES[op], D = config.bidirectional ? 2 : 1;
  const nodes = [], inits = [];
  let n = 0;
  const node = (opType, input, attribute = [], outputs = 1) => {
    const output = Array.from({ length: outputs }, (_, k) => `${opType.toLowerCase()}_${n}${k ? `_${k}` : ''}`);
    nodes.push({ opType, input, output, name: `${opType}_${n++}`, attribute });
    return outputs === 1 ? output[0] : output;
  };
  const init = (name, dims, data) => (inits.push(floatTensor(name, dims, data)), name);
  const ints = (name, values) => (inits.push(intTensor(name, values)), name);
  let x = 'input';
  if (scalers?.input) {
    x = node('Sub', [x, init('input_shift', [config.inputSize], scalers.input.shift)]);
    x = node('Div', [x, init('input_scale', [config.inputSize], scalers.input.scale)]);
  }
  x = node('Transpose', [x], [attrIs('perm', [1, 0, 2])]); // (B,T,I) -> (T,B,I)
  const from = { LSTM: 'ifgo', GRU: 'rzn', RNN: 'h' }[op], to = { LSTM: 'iofg', GRU: 'zrn', RNN: 'h' }[op];
  const peep = Boolean(config.gates?.peepholes);
  let yh = null;
  for (let l = 0; l < config.layers; l++) {
    const H = config.hiddenSize[l], I = l === 0 ? config.inputSize : D * config.hiddenSize[l - 1], GH = G * H;
    const Wd = new Float32Array(D * GH * I), Rd = new Float32Array(D * GH * H), Bd = new Float32Array(D * 2 * GH), Pd = new Float32Array(D * 3 * H);
    for (let d = 0; d < D; d++) {
      const sfx = `_l${l}${d ? '_reverse' : ''}`;
      Wd.set(reorderGates(params[`weight_ih${sfx}`], H, from, to, I), d * GH * I);
      Rd.set(reorderGates(params[`weight_hh${sfx}`], H, from, to, H), d * GH * H);
      Bd.set(reorderGates(params[`bias_ih${sfx}`], H, from, to), d * 2 * GH);
      Bd.set(reorderGates(params[`bias_hh${sfx}`], H, from, to), d * 2 * GH + GH);
      if (peep) Pd.set(reorderGates(params[`weight_peephole${sfx}`], H, 'ifo', 'iof'), d * 3 * H);
    }
    const inputs = [x, init(`W_l${l}`, [D, GH, I], Wd), init(`R_l${l}`, [D, GH, H], Rd), init(`B_l${l}`, [D, 2 * GH], Bd)];
    if (peep) inputs.push('', '', '', init(`P_l${l}`, [D, 3 * H], Pd));
    const attribute = [attrI('hidden_size', H), attrS('direction', D === 2 ? 'bidirectional' : 'forward')];
    if (op === 'GRU') attribute.push(attrI('linear_before_reset', 1));
    if (config.gates?.coupled) attribute.push(attrI('input_forget', 1));
    const [y, h] = node(op, inputs, attribute, 2);
    yh = h;
    // (T, D, B, H) -> (T, B, D, H) -> (T, B, D·H)
    x = node('Reshape', [node('Transpose', [y], [attrIs('perm', [0, 2, 1, 3])]), ints(`shape_l${l}`, [0, 0, -1])]);
  }
  let out;
  const O = config.outputSize, F = D * config.hiddenSize[config.layers - 1];
  if (config.returnSequences || !O) {
    out = node('Transpose', [x], [attrIs('perm', [1, 0, 2])]); // (B, T, F)
    if (O) {
      const wT = new Float32Array(F * O), w = params['head.weight'];
      for (let o = 0; o < O; o++) for (let i = 0; i < F; i++) wT[i * O + o] = w[o * F + i];
      out = node('Add', [node('MatMul', [out, init('head_weight_t', [F, O], wT)]), init('head_bias', [O], params['head.bias'])]);
    }
  } else {
    // the top layer's final states (D, B, H) -> (B, D·H), forward then reverse
    const feat = node('Reshape', [node('Transpose', [yh], [attrIs('perm', [1, 0, 2])]), ints('shape_final', [0, -1])]);
    out = node('Gemm', [feat, init('head_weight', [O, F], params['head.weight']), init('head_bias', [O], params['head.bias'])], [attrI('transB', 1)]);
  }
  if (O && config.loss === 'softmax-cross-entropy') out = node('Softmax', [out], [attrI('axis', -1)]);
  if (O && config.loss === 'sigmoid-cross-entropy') out = node('Sigmoid', [out]);
  if (O && scalers?.target) {
    out = node('Mul', [out, init('target_scale', [O], scalers.target.scale)]);
    out = node('Add', [out, init('target_shift', [O], scalers.target.shift)]);
  }
  const last = nodes[nodes.length - 1];
  last.output[0] = 'output';
  for (const nd of nodes) nd.input = nd.input.map((s) => (s === out ? 'output' : s));
  const outDims = config.returnSequences || !O ? ['batch', 'steps', O || F] : ['batch', O];
  const graph = {
    node: nodes, name: 'lstm-wasm', initializer: inits,
    input: [valueInfo('input', ['batch', 'steps', config.inputSize])], output: [valueInfo('output', outDims)],
  };
  const metadataProps = scalers?.input ? [{ key: NORMALIZE_KEY, value: config.normalize }] : [];
  return encodeMessage({ irVersion: IR_VERSION, producerName: 'lstm-wasm', graph, opsetImport: [{ domain: '', version: OPSET_OUT }], metadataProps }, MODEL);
}

// ------------------------------------------------------------ Model.fromONNX's options

export const FROM_ONNX_OPTIONS = ['loss', 'normalize', 'dropout', 'seed', 'simd', 'locateWasm', 'engine'];

/**
 * What Model.fromONNX needs: the resolved configuration, the engine options
 * and the parameters. A Softmax or Sigmoid after the head fixes the loss
 * (predict() then gives what the graph gives); without one the loss is the
 * caller's (default 'mse', no scaling).
 */
export function importONNX(bytes, options, resolve, checkOptions) {
  const o = checkOptions(options, FROM_ONNX_OPTIONS, 'Model.fromONNX');
  const { simd, locateWasm, engine, ...rest } = o;
  const { config, loss, params, scalers, normalize } = readONNX(bytes);
  if (loss && rest.loss !== undefined && rest.loss !== loss) {
    throw new LstmError('ERR_OPTION', `Model.fromONNX: loss '${rest.loss}' disagrees with the graph's output activation (${loss})`);
  }
  // a graph without Softmax/Sigmoid given a classification loss outputs logits: predict(x, { logits: true }) gives them
  if (scalers && rest.normalize !== undefined && rest.normalize !== normalize) {
    throw new LstmError('ERR_OPTION', `Model.fromONNX: normalize ${JSON.stringify(rest.normalize)} disagrees with the graph's scaling (${normalize})`);
  }
  const resolved = resolve({ normalize: scalers ? normalize : false, ...rest, ...config, ...(loss ? { loss } : {}) });
  if (scalers && !['mse', 'mae', 'huber'].includes(resolved.loss)) throw new LstmError('ERR_OPTION', `Model.fromONNX: the graph scales its output, which a ${resolved.loss} model does not do; use a regression loss`);
  const scaling = checkScalers(scalers ? { input: { mode: normalize, ...scalers.input }, target: { mode: normalize, ...scalers.target } } : null, resolved, W);
  return { config: resolved, engine: { simd, locateWasm, engine }, params, scalers: scaling };
}

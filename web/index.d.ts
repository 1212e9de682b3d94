// Type declarations for lstm-wasm's main entry (web/index.js). Hand-written;
// worker.d.ts derives the worker entry's from these. tests/types.test.js
// type-checks both with tsc --strict over the README's examples, and checks
// every option list and method name here against what the code accepts.

export type Cell = 'lstm' | 'peephole' | 'lstm1997' | 'cifg' | 'gru' | 'rnn' | 'clockwork';
export type Loss = 'mse' | 'mae' | 'huber' | 'softmax-cross-entropy' | 'sigmoid-cross-entropy';
export type Optimizer = 'sgd' | 'adam' | 'adamw' | 'rmsprop';

/** A batch in the fast form: batch-first (B, T, I) floats, optional per-sequence lengths. */
export interface SequenceBatch {
  data: Float32Array | ArrayLike<number>;
  shape: [number, number, number];
  lengths?: Int32Array | ArrayLike<number>;
}
/** Sequences of steps; a step is a number (inputSize 1) or an array of numbers. */
export type Sequences = ArrayLike<ArrayLike<number | ArrayLike<number>>> | SequenceBatch;
/** One target per sequence (many-to-one) or per step (many-to-many): a number, class index or vector. */
export type Targets = ArrayLike<unknown> | { data: Float32Array | ArrayLike<number>; shape: number[] };

/** Switches on the LSTM cells (Greff et al. 2015): true keeps the part. */
export interface GateSwitches {
  input?: boolean;            // false: NIG, i = 1
  forget?: boolean;           // false: NFG, f = 1
  output?: boolean;           // false: NOG, o = 1
  inputActivation?: boolean;  // false: NIAF, g = its pre-activation
  outputActivation?: boolean; // false: NOAF, h = o·c
  peepholes?: boolean;        // true: c(t-1) feeds i and f, c(t) feeds o
  coupled?: boolean;          // true: CIFG, f = 1 − i
  fullRecurrence?: boolean;   // true: FGR, i, f, o also see i, f, o of the step before
  depth?: boolean;            // true: the depth gate (Yao et al. 2015), layers l >= 1 gate the cell state below into theirs
  /** true: Hochreiter & Schmidhuber 1997's g = 4σ − 2 and h = o·(2σ(c) − 1). */
  originalSquashing?: boolean;
}

export interface CreateOptions {
  inputSize: number;
  /** One size for every layer, or one per layer. */
  hiddenSize: number | number[];
  layers?: number;
  /** 'peephole', 'cifg' and 'lstm1997' are the LSTM with switches set. */
  cell?: Cell;
  gates?: GateSwitches;
  /** cell 'clockwork' only: each module's period, ascending (default [1, 2, 4, 8]); every hidden size a multiple of their count. */
  periods?: number[];
  bidirectional?: boolean;
  /** Size of the dense head; 0 for the recurrent stack alone. Default 1. */
  outputSize?: number;
  /** true: an output at every step (many-to-many); false: one per sequence. */
  returnSequences?: boolean;
  loss?: Loss;
  /** Dropout between stacked layers, at training time. */
  dropout?: number;
  seed?: number;
  /** Initial forget-gate bias (Jozefowicz et al. 2015). Default 1. */
  forgetBias?: number;
  /** Scaling learned from the training data: inputs and targets for regression (default 'zscore'), inputs only for classification (default false). */
  normalize?: 'zscore' | 'minmax' | false;
  /**
   * Learn changes over this many steps (1: month to month, 12: year to year for monthly data) instead of levels,
   * for series with a trend; predict and forecast add them back. Regression, many-to-one, whole-step outputs only.
   */
  difference?: number;
  /** false forces the scalar build. */
  simd?: boolean;
  /** Where the .wasm files are hosted: maps a file name to its URL. */
  locateWasm?: (file: string) => string | URL;
  /** An engine from loadEngine(), used instead of loading one. */
  engine?: Engine;
}

/** An instantiated engine (loadEngine()); several models may share one. */
export interface Engine {
  readonly simd: boolean;
  readonly version: string;
  readonly variant: string;
}

/** save()'s bytes. */
export type ModelBytes = Uint8Array | ArrayBuffer;
/** Where Model.load and TextModel.load read save()'s bytes: the bytes, a URL to fetch, a Response or a Blob. */
export type ModelSource = ModelBytes | string | URL | Response | Blob;
/** save()'s options: optimizer false writes an inference file, without the optimizer's moments. */
export interface SaveOptions { optimizer?: boolean }
/** How Model.load and TextModel.load find the engine. */
export type LoadOptions = Pick<CreateOptions, 'simd' | 'locateWasm' | 'engine'>;
/** A PyTorch state dict: safetensors bytes, or tensors by name. */
export type StateDict = Uint8Array | ArrayBuffer | Record<string, { shape: number[]; data: ArrayLike<number> }>;
/** What the weights do not fix; sizes and cell, if given, must agree with them. */
export type FromPyTorchOptions = Partial<Pick<CreateOptions, 'loss' | 'returnSequences' | 'normalize' | 'dropout' | 'seed'
  | 'simd' | 'locateWasm' | 'engine' | 'inputSize' | 'hiddenSize' | 'layers' | 'bidirectional' | 'outputSize' | 'cell' | 'gates'>>;
/** What an ONNX graph does not fix: the loss only when the graph ends without a Softmax or Sigmoid. */
/** A TF.js layers model.json's content (format, modelTopology, weightsManifest). */
export type KerasModelJson = Record<string, unknown>;
/** What a Keras model does not fix (as for ONNX). */
export type FromKerasOptions = FromONNXOptions;
export type FromONNXOptions = Partial<Pick<CreateOptions, 'loss' | 'normalize' | 'dropout' | 'seed' | 'simd' | 'locateWasm' | 'engine'>>;
/** predict()'s result for inputs S: the fast form { data, shape } for the fast form, else nested arrays. */
export type Prediction<S> = S extends SequenceBatch ? { data: Float32Array; shape: number[] } : any[];
/** One sequence for trace(): its steps, or the fast form with a batch of 1. */
export type Sequence = ArrayLike<number | ArrayLike<number>> | SequenceBatch;

export interface EpochInfo {
  epoch: number; loss: number; valLoss?: number; learningRate: number; samplesPerSecond: number;
  /** With `metrics`: the metrics asked for, and val<Name> with validation data. */
  accuracy?: number; valAccuracy?: number; mae?: number; valMae?: number; mse?: number; valMse?: number;
}
export interface BatchInfo { epoch: number; batch: number; loss: number; samplesPerSecond: number }

export interface TrainOptions {
  epochs?: number;
  batchSize?: number;
  optimizer?: Optimizer;
  learningRate?: number;
  momentum?: number;
  nesterov?: boolean;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  /** RMSProp's smoothing constant (alias of beta1). */
  rho?: number;
  weightDecay?: number;
  clipNorm?: number;
  clipValue?: number;
  validationSplit?: number;
  validationData?: [Sequences, Targets];
  shuffle?: boolean;
  seed?: number;
  /** Awaited when it returns a promise; returning false stops training after this epoch. */
  onEpochEnd?: (info: EpochInfo) => void | boolean | Promise<void | boolean>;
  /** Awaited when it returns a promise; returning false stops training after this batch. */
  onBatchEnd?: (info: BatchInfo) => void | boolean | Promise<void | boolean>;
  signal?: AbortSignal;
  /** Milliseconds of work between yields to the event loop. Default 16. */
  yieldEvery?: number;
  /** Truncated BPTT: one update per chunk of this many steps, the state carried across (many-to-many only). */
  truncate?: number;
  /** Learning rate per epoch of this call; onEpochEnd reports it as learningRate. */
  schedule?: { type: 'step'; every?: number; gamma?: number } | { type: 'exponential'; gamma?: number }
    | { type: 'cosine'; epochs?: number; minLearningRate?: number };
  /** Keras's EarlyStopping. monitor: 'valLoss' by default with validation data, else 'loss'. */
  earlyStopping?: boolean | { monitor?: 'valLoss' | 'loss'; patience?: number; minDelta?: number; restoreBest?: boolean };
  /** Keras's ReduceLROnPlateau (defaults factor 0.1, patience 10, minDelta 1e-4, minLearningRate 0). */
  reduceOnPlateau?: boolean | { monitor?: 'valLoss' | 'loss'; factor?: number; patience?: number; minDelta?: number; minLearningRate?: number };
  /** Per-epoch metrics in the history: 'accuracy' (classification), 'mae', 'mse' (regression); true for all the loss has. */
  metrics?: boolean | ('accuracy' | 'mae' | 'mse')[];
  /** Loss weight per class ({ [class]: weight } or an array), softmax-cross-entropy only. */
  classWeight?: Record<number, number> | ArrayLike<number>;
  /** Loss weight per training sequence, softmax-cross-entropy only. */
  sampleWeight?: ArrayLike<number>;
  /**
   * Data-parallel training: each batch cut into contiguous shards over this many workers (plain
   * workers, no cross-origin isolation), the shards' gradients summed in worker order, clipped once
   * and applied once. 'auto': the cores the runtime reports; never more than a batch has rows.
   * Deterministic for a given count; differs from 1 worker by float addition order only. Not with dropout. Default 1.
   */
  workers?: number | 'auto';
}

/** One layer and direction of trace(): T rows of H numbers for each gate the cell has, and its states. */
export interface TraceEntry {
  layer: number;
  direction: 'forward' | 'reverse';
  /** LSTM cells: i, f, g, o, c, h. GRU: r, z, n, h. RNN: h. Clockwork: h, and ran (1 for the units of each module that ran). */
  [gate: string]: number[][] | number | string;
}

/** Stateful step-by-step inference (batch 1). */
export interface Stream {
  /** Feeds one step (a number, or inputSize numbers); returns the output after it: a number when outputSize is 1. */
  step(x: number | ArrayLike<number>): number | Float32Array;
  /** Zeroes the state (and restarts a Clockwork's step count). */
  reset(): void;
  /** Frees the stream; disposing the model frees its streams too. */
  dispose(): void;
}

export interface History {
  loss: number[]; valLoss: number[]; epochs: number; stopped: boolean;
  /** With earlyStopping: the epoch (from 0) whose monitored value was best. */
  bestEpoch?: number;
  /** With reduceOnPlateau: the rate of each epoch. */
  learningRate?: number[];
  accuracy?: number[]; valAccuracy?: number[]; mae?: number[]; valMae?: number[]; mse?: number[]; valMse?: number[];
}

export interface ForwardResult { output: Float32Array; h: Float32Array; c: Float32Array }
export interface BackwardResult {
  dx: Float32Array;
  dh0: Float32Array;
  dc0: Float32Array;
  grads: Record<string, Float32Array>;
}

export interface ModelConfig {
  inputSize: number; hiddenSize: number[]; layers: number; cell: Cell; gates: Required<GateSwitches> | null; bidirectional: boolean;
  outputSize: number; returnSequences: boolean; loss: Loss; dropout: number; seed: number;
  forgetBias: number; normalize: 'zscore' | 'minmax' | false;
  /** Present only on a model created with it. */
  difference?: number;
}

export class Model {
  private constructor();
  static create(options: CreateOptions): Promise<Model>;
  static load(source: ModelSource, options?: LoadOptions): Promise<Model>;
  static fromPyTorch(stateDict: StateDict, options?: FromPyTorchOptions): Promise<Model>;
  /** An ONNX file's LSTM/GRU/RNN nodes and head (as torch.onnx.export writes them). */
  static fromONNX(bytes: ModelBytes, options?: FromONNXOptions): Promise<Model>;
  /** A TF.js / Keras Sequential model: model.json (object or text) and its weight bytes (concatenated, or by path). */
  static fromKeras(modelJson: KerasModelJson | string, weights: Uint8Array | ArrayBuffer | Record<string, Uint8Array | ArrayBuffer>, options?: FromKerasOptions): Promise<Model>;
  readonly config: ModelConfig;
  readonly engine: { simd: boolean; version: string; variant: string };
  /** true stops a running train() after the current batch (TF.js); each train() starts with it false. */
  stopTraining: boolean;
  train(inputs: Sequences, targets: Targets, options?: TrainOptions): Promise<History>;
  fit(inputs: Sequences, targets: Targets, options?: TrainOptions): Promise<History>;
  /** Nested arrays for nested inputs (a number per sequence or step when outputSize is 1, for every loss), the fast form for the fast form. */
  predict<S extends Sequences>(inputs: S, options?: { logits?: boolean }): Prediction<S>;
  evaluate(inputs: Sequences, targets: Targets): { loss: number; accuracy?: number; mse?: number; mae?: number };
  gradients(inputs: Sequences, targets: Targets): { loss: number; grads: Record<string, Float32Array> };
  forward(x: Sequences | SequenceBatch, options?: { h0?: ArrayLike<number>; c0?: ArrayLike<number>; timeMajor?: boolean }): ForwardResult;
  backward(dOutput: ArrayLike<number>, options?: { dh?: ArrayLike<number>; dc?: ArrayLike<number> }): BackwardResult;
  stream(options?: { logits?: boolean }): Stream;
  trace(sequence: Sequence): TraceEntry[];
  forecast(series: ArrayLike<number> | ArrayLike<ArrayLike<number>>, steps: number): (number | number[])[];
  parameters(): Record<string, Float32Array>;
  parameterShapes(): Record<string, number[]>;
  /** The number of parameters (all trained). */
  countParams(): number;
  /** Layers, output shapes and parameter counts, as TF.js prints them; `print` gets each line. */
  summary(options?: { print?: (line: string) => void }): string;
  setParameters(values: Record<string, ArrayLike<number>>): void;
  save(options?: SaveOptions): Uint8Array;
  toSafetensors(): Uint8Array;
  /** An ONNX file (opset 14) that ONNX Runtime runs with predict()'s outputs. */
  toONNX(): Uint8Array;
  /** A TF.js layers model.json and its one weight file's bytes ('weights.bin'). */
  toKeras(): { modelJson: KerasModelJson; weights: Uint8Array };
  dispose(): void;
}

export interface TextModelOptions {
  hiddenSize?: number | number[];
  layers?: number;
  cell?: Cell;
  gates?: GateSwitches;
  /** Without it, the characters of the first training text become the vocabulary. */
  vocabulary?: string | string[];
  dropout?: number;
  seed?: number;
  simd?: boolean;
  locateWasm?: CreateOptions['locateWasm'];
  engine?: CreateOptions['engine'];
}

export class TextModel {
  private constructor();
  static create(options?: TextModelOptions): Promise<TextModel>;
  static load(source: ModelSource, options?: LoadOptions): Promise<TextModel>;
  /** In index order; null before the first train without a given vocabulary. */
  readonly vocabulary: string[] | null;
  /** The underlying Model. */
  readonly model: Model | null;
  /** One text (cut into seqLength windows, default 64) or a list of strings (each its own sequence). */
  train(data: string | string[], options?: TrainOptions & { seqLength?: number }): Promise<History>;
  /**
   * Unseeded calls differ; a seed repeats a text. topK keeps the k likeliest characters, topP the fewest
   * whose probabilities reach p; the text ends before a `stop` string. A prompt character outside the
   * vocabulary throws ERR_OPTION naming it.
   */
  generate(prompt?: string, length?: number, options?: { temperature?: number; seed?: number; topK?: number; topP?: number; stop?: string | string[] }): string;
  /** Mean cross-entropy per character (natural log) on held-out text, and the perplexity e^loss. */
  evaluate(text: string | string[]): { loss: number; perplexity: number };
  trace(text: string): TraceEntry[];
  toSafetensors(): Uint8Array;
  save(options?: SaveOptions): Uint8Array;
  dispose(): void;
}

/** Seq2Seq.create's options (README "Seq2Seq"). */
export interface Seq2SeqOptions {
  hiddenSize?: number;
  layers?: number;
  cell?: 'lstm' | 'gru' | 'rnn';
  /** 0: one-hot inputs; E: learned embeddings of size E (nn.Embedding). */
  embedding?: number;
  attention?: 'luong' | null;
  /** Reads each source backwards (Sutskever et al. 2014). */
  reverseSource?: boolean;
  /** User tokens, one character each; without them the first train() learns them from its strings. */
  sourceVocabulary?: string | string[];
  targetVocabulary?: string | string[];
  /** For token ids without vocabularies: source ids 0..n-1; target ids 0 start, 1 end, users' from 2. */
  sourceVocabularySize?: number;
  targetVocabularySize?: number;
  seed?: number;
  /** Not supported yet: 0 only. */
  dropout?: number;
  simd?: boolean;
  locateWasm?: CreateOptions['locateWasm'];
  engine?: CreateOptions['engine'];
}

export interface Seq2SeqConfig {
  hiddenSize: number; layers: number; cell: 'lstm' | 'gru' | 'rnn'; embedding: number; attention: 'luong' | null;
  reverseSource: boolean; seed: number; sourceVocabularySize: number | null; targetVocabularySize: number | null;
}

/** Sources or targets: strings (with vocabularies) or token-id arrays. */
export type TokenSequences = string[] | ArrayLike<number>[];
export interface TranslateOptions { maxLength?: number; beam?: number; temperature?: number; seed?: number }

export class Seq2Seq {
  private constructor();
  static create(options?: Seq2SeqOptions): Promise<Seq2Seq>;
  static load(bytes: ModelBytes, options?: LoadOptions): Promise<Seq2Seq>;
  static fromPyTorch(stateDict: StateDict, options?: {
    cell?: 'lstm' | 'gru' | 'rnn'; attention?: 'luong' | null; reverseSource?: boolean;
    sourceVocabulary?: string | string[]; targetVocabulary?: string | string[];
    simd?: boolean; locateWasm?: CreateOptions['locateWasm']; engine?: CreateOptions['engine'];
  }): Promise<Seq2Seq>;
  readonly config: Seq2SeqConfig;
  readonly vocabularies: { source: string[] | null; target: string[] | null };
  train(sources: TokenSequences, targets: TokenSequences, options?: TrainOptions): Promise<History>;
  translate(source: string, options?: TranslateOptions): string;
  translate(source: ArrayLike<number>, options?: TranslateOptions): number[];
  translate(sources: string[], options?: TranslateOptions): string[];
  translate(sources: ArrayLike<number>[], options?: TranslateOptions): number[][];
  /** Attention weights of the greedy translation: target step x source step. */
  attention(source: string | ArrayLike<number>, options?: { maxLength?: number }): number[][];
  evaluate(sources: TokenSequences, targets: TokenSequences): { loss: number; tokenAccuracy: number; exactMatch: number };
  gradients(sources: TokenSequences, targets: TokenSequences): { loss: number; grads: Record<string, Float32Array> };
  parameters(): Record<string, Float32Array>;
  parameterShapes(): Record<string, number[]>;
  setParameters(values: Record<string, ArrayLike<number>>): void;
  save(): Uint8Array;
  toSafetensors(): Uint8Array;
  dispose(): void;
}

export function windows(
  series: ArrayLike<number> | ArrayLike<ArrayLike<number>>,
  options: { window: number; horizon?: number; stride?: number },
): { inputs: any[]; targets: any[] };

/**
 * Reorders a tensor made of gate blocks stacked along its first axis (each
 * block H rows of `cols` values, default 1): `from` and `to` name the gates in
 * order, one letter each, e.g. reorderGates(W, H, 'iofg', 'ifgo', inputSize)
 * for an ONNX LSTM weight into lstm-wasm's (PyTorch's) order.
 */
export function reorderGates(data: Float32Array | Float64Array | readonly number[], H: number, from: string, to: string, cols?: number): Float32Array;

export class LstmError extends Error {
  code: string;
}
export const ERROR_CODES: Readonly<Record<string, string>>;
export const features: Readonly<{ simd: boolean; version: string }>;
export function loadEngine(options?: Pick<CreateOptions, 'simd' | 'locateWasm'>): Promise<Engine>;

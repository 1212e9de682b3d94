// Type declarations for lstm-wasm/worker (web/worker.js): the main entry's
// API (index.d.ts) with every method returning a Promise, each model running
// in its own Web Worker or Node worker thread. Hand-written.
import type {
  BackwardResult, CreateOptions, ForwardResult, History, ModelConfig, SequenceBatch, Sequences, Targets, TrainOptions,
  TraceEntry, TextModelOptions,
} from './index.js';

export { LstmError, ERROR_CODES, features, windows } from './index.js';
export type {
  BackwardResult, BatchInfo, CreateOptions, EpochInfo, ForwardResult, GateSwitches, History, ModelConfig, SequenceBatch,
  Sequences, Targets, TextModelOptions, TraceEntry, TrainOptions,
} from './index.js';

/** Options as in the main entry, less `engine` (an engine instance cannot cross threads). */
export type WorkerCreateOptions = Omit<CreateOptions, 'engine'>;
type EngineOptions = Pick<CreateOptions, 'simd' | 'locateWasm'>;

/**
 * train() options. onEpochEnd and onBatchEnd run in the calling thread, from
 * the worker's messages; onBatchEnd at most every 50 ms, plus always the last
 * batch of each epoch. `signal` stops training at the next batch boundary and
 * train() resolves with { stopped: true }. A callback that throws stops
 * training and train() rejects with its error.
 */
export type WorkerTrainOptions = TrainOptions;

/** Stateful step-by-step inference in the worker. */
export interface Stream {
  /** Feeds one step (a number, or inputSize numbers); the output after it: a number when outputSize is 1. */
  step(x: number | ArrayLike<number>): Promise<number | Float32Array>;
  /** Zeroes the state. */
  reset(): Promise<void>;
  /** Frees the stream; disposing the model frees its streams too. */
  dispose(): Promise<void>;
}

export class Model {
  private constructor();
  static create(options: WorkerCreateOptions): Promise<Model>;
  static load(bytes: Uint8Array | ArrayBuffer, options?: EngineOptions): Promise<Model>;
  static fromPyTorch(
    stateDict: Uint8Array | ArrayBuffer | Record<string, { shape: number[]; data: ArrayLike<number> }>,
    options?: Partial<Pick<CreateOptions, 'loss' | 'returnSequences' | 'normalize' | 'dropout' | 'seed' | 'simd' | 'locateWasm'>>,
  ): Promise<Model>;
  /** A copy, kept in the calling thread; throws ERR_DISPOSED once disposed. */
  readonly config: ModelConfig;
  readonly engine: { simd: boolean; version: string; variant: string };
  train(inputs: Sequences, targets: Targets, options?: WorkerTrainOptions): Promise<History>;
  fit(inputs: Sequences, targets: Targets, options?: WorkerTrainOptions): Promise<History>;
  predict(inputs: Sequences, options?: { logits?: boolean }): Promise<any>;
  evaluate(inputs: Sequences, targets: Targets): Promise<{ loss: number; accuracy?: number; mse?: number; mae?: number }>;
  gradients(inputs: Sequences, targets: Targets): Promise<{ loss: number; grads: Record<string, Float32Array> }>;
  forward(x: Sequences | SequenceBatch, options?: { h0?: ArrayLike<number>; c0?: ArrayLike<number>; timeMajor?: boolean }): Promise<ForwardResult>;
  backward(dOutput: ArrayLike<number>, options?: { dh?: ArrayLike<number>; dc?: ArrayLike<number> }): Promise<BackwardResult>;
  parameters(): Promise<Record<string, Float32Array>>;
  parameterShapes(): Promise<Record<string, number[]>>;
  setParameters(values: Record<string, ArrayLike<number>>): Promise<void>;
  save(): Promise<Uint8Array>;
  toSafetensors(): Promise<Uint8Array>;
  stream(options?: { logits?: boolean }): Promise<Stream>;
  trace(sequence: ArrayLike<number | ArrayLike<number>> | SequenceBatch): Promise<TraceEntry[]>;
  forecast(series: ArrayLike<number> | ArrayLike<ArrayLike<number>>, steps: number): Promise<(number | number[])[]>;
  /** Frees the model, then ends its worker; every later call rejects with ERR_DISPOSED. */
  dispose(): Promise<void>;
}

export class TextModel {
  private constructor();
  static create(options?: Omit<TextModelOptions, 'engine'>): Promise<TextModel>;
  static load(bytes: Uint8Array | ArrayBuffer, options?: EngineOptions): Promise<TextModel>;
  /** In index order, as of the last create, load or train; null before the first train without a given vocabulary. */
  readonly vocabulary: string[] | null;
  train(data: string | string[], options?: WorkerTrainOptions & { seqLength?: number }): Promise<History>;
  generate(prompt?: string, length?: number, options?: { temperature?: number; seed?: number }): Promise<string>;
  trace(text: string): Promise<TraceEntry[]>;
  toSafetensors(): Promise<Uint8Array>;
  save(): Promise<Uint8Array>;
  dispose(): Promise<void>;
}

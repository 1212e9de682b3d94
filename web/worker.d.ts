// Type declarations for lstm-wasm/worker (web/worker.js), derived from the
// main entry's (index.d.ts): each method the same, returning a Promise, so
// the two cannot drift apart. Each model runs in its own Web Worker or Node
// worker thread; `engine` is left out (an engine cannot cross threads).
import type * as Main from './index.js';
import type { CreateOptions, FromKerasOptions, FromONNXOptions, KerasModelJson, FromPyTorchOptions, LoadOptions, ModelBytes, ModelSource, StateDict, TextModelOptions } from './index.js';

export { LstmError, ERROR_CODES, features, windows } from './index.js';
export type {
  BackwardResult, BatchInfo, CreateOptions, EpochInfo, ForwardResult, GateSwitches, History, ModelConfig, ModelSource, Prediction, SaveOptions, Sequence,
  SequenceBatch, Sequences, StateDict, Targets, TextModelOptions, TraceEntry, TrainOptions,
} from './index.js';

/** T with every method returning a Promise of what it returned; properties (config, vocabulary) as they are. */
export type Promisified<T> = {
  [K in keyof T]: T[K] extends (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : T[K];
};

/** Options as in the main entry, less `engine`. */
export type WorkerCreateOptions = Omit<CreateOptions, 'engine'>;

/**
 * train() options, as in the main entry. onEpochEnd and onBatchEnd run in
 * the calling thread, from the worker's messages; onBatchEnd at most every
 * 50 ms, plus always the last batch of each epoch. `signal` stops training at
 * the next batch boundary and train() resolves with { stopped: true }. A
 * callback that throws stops training and train() rejects with its error.
 * The worker does not wait for the callbacks: one that returns false (or a
 * promise of false), or model.stopTraining = true, stops it at its next batch.
 */
export type WorkerTrainOptions = Main.TrainOptions;

/** Stateful step-by-step inference in the worker. */
export interface Stream extends Promisified<Main.Stream> {}

/** Model's methods in the worker: all async; stream() resolves to a Stream in the worker. */
interface ModelMethods extends Promisified<Omit<Main.Model, 'stream' | 'predict'>> {
  stream(...args: Parameters<Main.Model['stream']>): Promise<Stream>;
  /** Generic as in the main entry (Promisified would fix S at its bound). */
  predict<S extends Main.Sequences>(inputs: S, options?: Parameters<Main.Model['predict']>[1]): Promise<Main.Prediction<S>>;
}

export declare class Model {
  private constructor();
  static create(options: WorkerCreateOptions): Promise<Model>;
  static load(source: ModelSource, options?: Omit<LoadOptions, 'engine'>): Promise<Model>;
  static fromPyTorch(stateDict: StateDict, options?: Omit<FromPyTorchOptions, 'engine'>): Promise<Model>;
  static fromONNX(bytes: ModelBytes, options?: Omit<FromONNXOptions, 'engine'>): Promise<Model>;
  static fromKeras(modelJson: KerasModelJson | string, weights: Uint8Array | ArrayBuffer | Record<string, Uint8Array | ArrayBuffer>, options?: Omit<FromKerasOptions, 'engine'>): Promise<Model>;
}
/** The main entry's Model, every method async; config is a copy kept in the calling thread; dispose() also ends the worker. */
export interface Model extends ModelMethods {}

/** TextModel's methods in the worker (its underlying `model` stays in the worker). */
interface TextModelMethods extends Promisified<Omit<Main.TextModel, 'model'>> {}

export declare class TextModel {
  private constructor();
  static create(options?: Omit<TextModelOptions, 'engine'>): Promise<TextModel>;
  static load(source: ModelSource, options?: Omit<LoadOptions, 'engine'>): Promise<TextModel>;
}
/** The main entry's TextModel, every method async; vocabulary as of the last create, load or train. */
export interface TextModel extends TextModelMethods {}

/** Seq2Seq's methods in the worker: all async. */
interface Seq2SeqMethods extends Promisified<Main.Seq2Seq> {}

export declare class Seq2Seq {
  private constructor();
  static create(options?: Omit<Main.Seq2SeqOptions, 'engine'>): Promise<Seq2Seq>;
  static load(bytes: ModelBytes, options?: Omit<LoadOptions, 'engine'>): Promise<Seq2Seq>;
  static fromPyTorch(stateDict: StateDict, options?: Omit<NonNullable<Parameters<typeof Main.Seq2Seq.fromPyTorch>[1]>, 'engine'>): Promise<Seq2Seq>;
}
/** The main entry's Seq2Seq, every method async; config and vocabularies as of the last create, load or train. */
export interface Seq2Seq extends Seq2SeqMethods {}

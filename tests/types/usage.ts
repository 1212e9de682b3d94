// The README's examples, and every method, through both entries, checked by
// tsc --strict in tests/types.test.js: a declaration that drifts from what
// the README shows (or the worker entry from the main one) fails to compile.
// Never run; each @ts-expect-error line must stay an error.
import { Model, TextModel, LstmError, windows, features, loadEngine } from 'lstm-wasm';
import type { Engine, History, Stream, TraceEntry } from 'lstm-wasm';
import * as W from 'lstm-wasm/worker';

// README: the first example
const series = Array.from({ length: 300 }, (_, t) => 20 + 5 * Math.sin(t / 6));
const { inputs, targets } = windows(series, { window: 24 });
const model = await Model.create({ inputSize: 1, hiddenSize: 32, outputSize: 1, seed: 1 });
const history: History = await model.train(inputs, targets, { epochs: 20, learningRate: 0.01 });
const [next] = model.predict([series.slice(-24)]);
console.log(`next value ≈ ${next.toFixed(2)}`, history.loss.at(-1), history.stopped);

// README: Model.create's and train's options
const engine: Engine = await loadEngine({ simd: false });
const big = await Model.create({
  inputSize: 3, hiddenSize: [16, 8], layers: 2, cell: 'lstm', bidirectional: false, outputSize: 2,
  returnSequences: true, loss: 'huber', dropout: 0.1, seed: 7, forgetBias: 1, normalize: 'minmax', simd: true,
  locateWasm: (file) => new URL(`./wasm/${file}`, 'https://example.com/'), engine,
  gates: { input: true, forget: true, output: true, inputActivation: true, outputActivation: true, peepholes: true,
    coupled: false, fullRecurrence: true, originalSquashing: false },
});
const controller = new AbortController();
await big.fit(inputs, targets, {
  epochs: 2, batchSize: 32, optimizer: 'rmsprop', learningRate: 1e-3, momentum: 0.9, nesterov: true, beta1: 0.9,
  beta2: 0.999, epsilon: 1e-8, rho: 0.9, weightDecay: 0, clipNorm: 1, clipValue: 5, validationSplit: 0.1,
  validationData: [inputs, targets], shuffle: true, seed: 3, truncate: 10, yieldEvery: 16, signal: controller.signal,
  schedule: { type: 'cosine', minLearningRate: 1e-5 },
  onEpochEnd: ({ epoch, loss, valLoss, learningRate, samplesPerSecond }) => console.log(epoch, loss, valLoss, learningRate, samplesPerSecond),
  onBatchEnd: ({ batch, loss }) => console.log(batch, loss),
});
// @ts-expect-error a misspelt option
await Model.create({ inputSize: 1, hiddenSzie: 4 });
// @ts-expect-error a cell that does not exist
await Model.create({ inputSize: 1, hiddenSize: 4, cell: 'lstm2' });

// README: the other methods
const batch = { data: new Float32Array(24), shape: [1, 24, 1] as [number, number, number] };
const evaluation: { loss: number; mse?: number } = model.evaluate(inputs, targets);
const { loss, grads } = model.gradients(inputs, targets);
const forecast: (number | number[])[] = model.forecast(series, 5);
const stream: Stream = model.stream({ logits: false });
const y: number | Float32Array = stream.step(0.5);
stream.reset();
stream.dispose();
const traced: TraceEntry[] = model.trace(series.slice(0, 10));
const tracedFast: TraceEntry[] = model.trace(batch);
const fastOut: Float32Array = model.predict(batch, { logits: true }).data;
const { output, h, c } = model.forward(batch, { timeMajor: false, h0: new Float32Array(32), c0: new Float32Array(32) });
const { dx, dh0, dc0 } = model.backward(output, { dh: h, dc: c });
const params: Record<string, Float32Array> = model.parameters();
const shapes: Record<string, number[]> = model.parameterShapes();
const summaryText: string = model.summary({ print: (line: string) => void line });
const paramCount: number = model.countParams();
model.setParameters({ 'head.bias': [0.5] });
const bytes: Uint8Array = model.save();
const loaded: Model = await Model.load(bytes, { simd: false, engine });
const st: Uint8Array = model.toSafetensors();
const imported = await Model.fromPyTorch(st, { loss: 'mse', returnSequences: false, gates: { forget: true }, engine });
const onnx: Uint8Array = model.toONNX();
const fromOnnx: Model = await Model.fromONNX(onnx, { loss: 'mae', normalize: false, engine });
// @ts-expect-error fromONNX takes no sizes: the graph fixes them
await Model.fromONNX(onnx, { hiddenSize: 3 });
const keras: { modelJson: Record<string, unknown>; weights: Uint8Array } = model.toKeras();
const fromKeras: Model = await Model.fromKeras(JSON.stringify(keras.modelJson), { 'weights.bin': keras.weights }, { seed: 2, engine });
console.log(fromOnnx, fromKeras);
console.log(evaluation, fastOut, loss, grads, forecast, y, traced, tracedFast, dx, dh0, dc0, params, shapes, loaded, imported,
  model.config.hiddenSize[0], model.engine.variant, features.simd, features.version);
model.dispose();

// README: TextModel
const names = ['anna', 'bella'];
const tm = await TextModel.create({ hiddenSize: 128, layers: 2 });
await tm.train(names, { epochs: 20, seqLength: 32 });
const generated: string = tm.generate('Ma', 20, { temperature: 0.8, seed: 1 });
const tmTrace: TraceEntry[] = tm.trace('Ma');
const again: TextModel = await TextModel.load(tm.save());
console.log(generated, tmTrace, again.vocabulary, tm.model?.config);

// README: lstm-wasm/worker, and every method there returning a Promise
const wm = await W.Model.create({ inputSize: 1, hiddenSize: 32, simd: false, locateWasm: (file) => file });
const wh: Promise<History> = wm.train(inputs, targets, { epochs: 50, onEpochEnd: ({ loss }) => console.log(loss), signal: controller.signal });
await wh;
const out: unknown[] = await wm.predict(inputs);
const outFast: { data: Float32Array; shape: number[] } = await wm.predict(batch);
const wEval: Promise<{ loss: number }> = wm.evaluate(inputs, targets);
const wGrads: { loss: number; grads: Record<string, Float32Array> } = await wm.gradients(inputs, targets);
const wForecast: (number | number[])[] = await wm.forecast(series, 5);
const ws: W.Stream = await wm.stream();
const wy: number | Float32Array = await ws.step(0.5);
const wReset: Promise<void> = ws.reset();
await ws.dispose();
const wTrace: TraceEntry[] = await wm.trace(batch);
const wForward = await wm.forward(batch);
const wBackward = await wm.backward(wForward.output);
const wParams: Record<string, Float32Array> = await wm.parameters();
const wShapes: Record<string, number[]> = await wm.parameterShapes();
const wSummary: string = await wm.summary({ print: (line: string) => void line });
const wSet: Promise<void> = wm.setParameters({ 'head.bias': [0.5] });
const wBytes: Uint8Array = await wm.save();
const wSt: Uint8Array = await wm.toSafetensors();
const wLoaded: W.Model = await W.Model.load(wBytes, { simd: true });
const wImported: W.Model = await W.Model.fromPyTorch(wSt, { gates: { forget: true }, loss: 'mae' });
const wOnnx: Uint8Array = await wm.toONNX();
const wFromOnnx: W.Model = await W.Model.fromONNX(wOnnx, { seed: 1 });
const wKeras = await wm.toKeras();
const wFromKeras: W.Model = await W.Model.fromKeras(wKeras.modelJson, wKeras.weights);
console.log(wFromOnnx, wFromKeras);
const wConfig: W.ModelConfig = wm.config;
console.log(out, outFast, wEval, wGrads, wForecast, wy, wReset, wTrace, wBackward.dx, wParams, wShapes, wSet, wLoaded, wImported,
  wConfig.layers, wm.engine.simd);
const wDisposed: Promise<void> = wm.dispose();
// @ts-expect-error the worker's predict is async
const wrong: number[] = wm.predict(inputs);
// @ts-expect-error an engine instance cannot cross to a worker
await W.Model.create({ inputSize: 1, hiddenSize: 4, engine });
// @ts-expect-error the main entry's predict is not a Promise
const notAsync: Promise<unknown> = model.predict(inputs);
const wtm = await W.TextModel.create({ hiddenSize: 16 });
const wtmHistory: History = await wtm.train('hello world', { epochs: 1, seqLength: 8 });
const wGenerated: string = await wtm.generate('h', 5, { seed: 1 });
const wtmLoaded: W.TextModel = await W.TextModel.load(await wtm.save());
const wVocabulary: string[] | null = wtm.vocabulary;
console.log(wDisposed, wrong, notAsync, wtmHistory, wGenerated, wtmLoaded, wVocabulary, await wtm.trace('he'), await wtm.toSafetensors());
await wtm.dispose();

try {
  await W.Model.load(new Uint8Array(3));
} catch (err) {
  if (err instanceof W.LstmError) console.log(err.code, W.ERROR_CODES.ERR_FORMAT);
  if (err instanceof LstmError) console.log(err.message);
}

// The demo page's behaviour: reads the form, trains through lstm.js (a Web
// Worker by default), keeps the loss chart and progress live, then shows the
// result (forecast, generated text or a confusion table), the gate heat maps,
// and saves, loads and exports the model. Input rules are in parse.js, the
// examples in presets.js, the charts in charts.js, the heat maps in gates.js.
import { lstm } from './lstm.js';
import { DEFAULT_PRESET, PRESETS, TASK_DEFAULTS } from './presets.js';
import { parseClasses, parseSeries, parseText } from './parse.js';
import { LossChart, SeriesChart } from './charts.js';
import { GateView } from './gates.js';
import { CELLS, SWITCH_DEFAULTS } from '../cells.js';

const BATCH_SIZE = 16; // small batches learn these small data sets in fewer epochs than the default 32
const VALIDATION = 0.1; // the last tenth of the windows (or lines) of each series is validation data
const CLIP_NORM = 1; // gradient clipping by global norm keeps a high learning rate from diverging
const TEXT_SEQ_LENGTH = 32; // a running text is learned in pieces of this many characters
const TEXT_BATCH_SIZE = 4; // a paragraph is only a few pieces: small batches give more updates per epoch
const TEXT_LENGTH = 200; // characters generated from a running text
const LIST_SAMPLES = 12; // strings generated from a list (each with its own seed)
const TRACE_CHARS = 48; // the longest text the gate view traces
// The Greff et al. switches each LSTM-family cell is defined by (null for the GRU and the RNN), from ../cells.js.
const cellSwitches = (cell) => CELLS[cell]?.switches ?? null;
const CELL_NOTES = {
  lstm: 'Gates i, f, o and the candidate g; the cell state c carries the memory.',
  peephole: 'The gates also see the cell state (peepholes), as in Gers et al. 2002 and ONNX.',
  cifg: 'One gate fewer: the forget gate is 1 − i, as in ONNX’s input_forget.',
  lstm1997: 'Hochreiter and Schmidhuber’s LSTM: no forget gate, the cell state only adds up.',
  gru: 'Reset and update gates r, z and a candidate n; no separate cell state.',
  rnn: 'h = tanh(W x + U h): no gates at all; it forgets fast.',
};
const HINTS = {
  forecast: 'One series: numbers separated by commas, spaces or new lines. Several series: one per line. '
    + 'The last tenth is held out to check the forecast.',
  generate: 'A list (names, words: one per line, each short) is learned line by line; anything else as one running text.',
  classify: 'One sequence per line, as “label: numbers”, for example “rise: 0.1 0.4 0.9”. '
    + 'Every 4th example of a label is held out for the confusion table.',
};

const $ = (id) => document.getElementById(id);
const ui = Object.fromEntries([
  'engine', 'preset', 'sequence', 'sequence-error', 'sequence-hint', 'sequence-summary', 'source', 'task', 'cell', 'cell-note', 'switches',
  'hidden-size', 'layers', 'window', 'window-field', 'epochs', 'learning-rate', 'settings-error', 'train', 'stop',
  'progress', 'speed', 'status', 'save', 'load', 'load-file', 'export', 'loss-chart', 'result-empty', 'forecast-view',
  'forecast-chart', 'forecast-score', 'forecast-values', 'generate-view', 'prompt', 'temperature', 'temperature-value',
  'seed', 'generate', 'generated', 'classify-view', 'confusion-about', 'confusion', 'classify-score', 'gate-controls', 'gate-input-field',
  'gate-layer', 'gate-maps', 'gate-tip', 'gate-readout', 'model-panel', 'train-seed', 'batch-size', 'optimizer', 'more',
  'undo', 'undo-text', 'undo-button', 'result-stale', 'result-panel',
].map((id) => [id.replace(/-(\w)/g, (_, c) => c.toUpperCase()), $(id)]));

const lossChart = new LossChart(ui.lossChart);
const seriesChart = new SeriesChart(ui.forecastChart);
const gateView = new GateView(ui.gateMaps, ui.gateTip, ui.gateReadout);

/** The running training: { controller }; null when idle. */
let job = null;
/**
 * The trained or loaded model and what it was used on: { task, model, data,
 * layers, window?, xStart?, scale? }; `scale` is a classifier's input scaling.
 */
let current = null;
let presetText = ''; // the text the chosen example put in the box; edited text drops its x labels
let errorShown = false;

// ---------------------------------------------------------------- messages

/** The status line; `state` (idle, training, done, failed) is also kept in data-state, for tests. */
function setStatus(text, state) {
  ui.status.textContent = text;
  if (state) ui.status.dataset.state = state;
}

/** Shows `message` next to the input box ('' hides it) and marks the box. */
function showInputError(message) {
  errorShown = Boolean(message);
  ui.sequenceError.textContent = message;
  ui.sequenceError.hidden = !message;
  ui.sequence.setAttribute('aria-invalid', String(errorShown));
}

function showSettingsError(message, field) {
  ui.settingsError.textContent = message;
  ui.settingsError.hidden = !message;
  if (field === ui.switches) ui.switches.open = true;
  for (const el of [ui.switches, ui.hiddenSize, ui.layers, ui.window, ui.epochs, ui.learningRate, ui.trainSeed, ui.batchSize]) {
    el.setAttribute('aria-invalid', String(el === field));
  }
  if (field === ui.trainSeed || field === ui.batchSize) ui.more.open = true;
}

/** Once the settings error is showing, keeps it up to date as the settings change. */
function refreshSettingsError() {
  if (ui.settingsError.hidden) return;
  const s = readSettings();
  showSettingsError(s.error ?? '', s.field);
}

// A minus sign, not a hyphen, in exponents: a line never breaks inside '1.6e−3'.
const fmtLoss = (v) => (v === undefined || v === null ? '–' : v >= 0.01 ? v.toFixed(4) : v.toExponential(2).replace('-', '\u2212'));
/** A value as people write it: 2 decimals in the usual range, 3 significant digits beyond it (4.5e+30, 1e-30). */
const fmtValue = (v) => {
  const a = Math.abs(v);
  return a >= 1e6 || (a > 0 && a < 0.01) ? String(Number(v.toPrecision(3))) : String(Math.round(v * 100) / 100);
};
const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;

// ---------------------------------------------------------------- form

const task = () => ui.task.value;

/** The settings form as numbers, or { error, field } for the first bad one. */
function readSettings() {
  const read = (el, name, { integer = true } = {}) => {
    const v = Number(el.value), min = Number(el.min), max = Number(el.max);
    const ok = el.value.trim() !== '' && Number.isFinite(v) && (!integer || Number.isInteger(v)) && v >= min && v <= max;
    if (!ok) throw Object.assign(new Error(`${name} must be ${integer ? 'a whole number' : 'a number'} from ${min} to ${max}.`), { field: el });
    return v;
  };
  try {
    const cell = ui.cell.value, gates = cellGates(cell);
    if (gates?.coupled && !(gates.input && gates.forget)) {
      throw Object.assign(new Error('Coupled gates need both the input and the forget gate (f = 1 − i).'), { field: ui.switches });
    }
    return {
      cell,
      gates,
      hiddenSize: read(ui.hiddenSize, 'Hidden size'),
      layers: read(ui.layers, 'Layers'),
      window: task() === 'forecast' ? read(ui.window, 'Window') : 0,
      epochs: read(ui.epochs, 'Epochs'),
      learningRate: read(ui.learningRate, 'Learning rate', { integer: false }),
      seed: read(ui.trainSeed, 'Training seed'),
      batchSize: ui.batchSize.value.trim() === '' ? undefined : read(ui.batchSize, 'Batch size'),
      optimizer: ui.optimizer.value,
    };
  } catch (err) {
    return { error: err.message, field: err.field };
  }
}

const switchBoxes = () => [...ui.switches.querySelectorAll('input[data-switch]')];

/** The switches for Model.create's `gates`: undefined for the GRU and the RNN, which have none. */
function cellGates(cell) {
  if (!cellSwitches(cell)) return undefined;
  return Object.fromEntries(switchBoxes().map((box) => [box.dataset.switch, box.checked]));
}

/** Sets the switches to a cell's definition (or to `gates`, a loaded model's), fixing the ones the cell is defined by. */
function cellChanged(gates) {
  const cell = ui.cell.value, fixed = cellSwitches(cell);
  const values = gates ?? { ...SWITCH_DEFAULTS, ...fixed };
  for (const box of switchBoxes()) {
    const name = box.dataset.switch;
    box.checked = Boolean(values[name]);
    box.disabled = !fixed || name in fixed;
  }
  ui.cellNote.textContent = CELL_NOTES[cell];
}

function applySettings(s) {
  ui.hiddenSize.value = s.hiddenSize;
  ui.layers.value = s.layers;
  ui.epochs.value = s.epochs;
  ui.learningRate.value = s.learningRate;
  if (s.window) ui.window.value = s.window;
}

/** The box's data for a task: parse.js's result, { error } included. */
function readData(kind, settings) {
  const text = ui.sequence.value;
  if (kind === 'forecast') return parseSeries(text, { window: settings.window || Number(ui.window.value) || 2 });
  if (kind === 'classify') return parseClasses(text);
  return parseText(text);
}

let undo = null; // { text, task }: the person's own data an example replaced
/** Puts example `id` in the box; typed data it replaces can be put back (the Undo bar under the box). */
function choosePreset(id) {
  const p = PRESETS[id];
  const typed = ui.sequence.value;
  if (typed.trim() && typed !== presetText && typed !== p.text) {
    undo = { text: typed, task: task() };
    ui.undoText.textContent = 'The example replaced your data.';
    ui.undo.hidden = false;
  } else if (typed !== undo?.text) {
    undo = null;
    ui.undo.hidden = true;
  }
  ui.preset.value = id;
  ui.sequence.value = p.text;
  presetText = p.text;
  ui.task.value = p.task;
  applySettings(p.settings);
  ui.source.textContent = p.source ?? '';
  ui.source.hidden = !p.source;
  showInputError('');
  showSettingsError('');
  taskChanged();
}

function taskChanged() {
  ui.windowField.hidden = task() !== 'forecast';
  cellChanged();
  ui.sequenceHint.textContent = HINTS[task()];
  summarise();
}

/** The line under the box that says how the data will be read (or what is wrong, once Train was pressed). */
function summarise() {
  const s = readSettings();
  const parsed = readData(task(), s.error ? {} : s);
  if (parsed.error) {
    ui.sequenceSummary.textContent = '';
    if (errorShown) showInputError(parsed.error);
  } else {
    ui.sequenceSummary.textContent = parsed.summary;
    if (errorShown) showInputError('');
  }
}

/**
 * Locks what training would ignore. Train and Stop use aria-disabled, not
 * disabled, so that keyboard focus stays on them when they change (a disabled
 * button drops focus to <body>).
 */
function setBusy(busy) {
  ui.train.setAttribute('aria-disabled', String(busy));
  ui.stop.setAttribute('aria-disabled', String(!busy));
  ui.stop.textContent = 'Stop';
  ui.load.disabled = busy;
  ui.save.disabled = busy || !current;
  ui.export.disabled = busy || !current;
  ui.generate.disabled = busy;
  for (const el of [ui.task, ui.preset, ui.cell, ui.hiddenSize, ui.layers, ui.window, ui.epochs, ui.learningRate,
    ui.trainSeed, ui.batchSize, ui.optimizer, ...switchBoxes()]) {
    if (busy) { el.dataset.wasDisabled = String(el.disabled); el.disabled = true; } else if (el.dataset.wasDisabled) {
      el.disabled = el.dataset.wasDisabled === 'true';
      delete el.dataset.wasDisabled;
    }
  }
  ui.sequence.readOnly = busy;
  ui.modelPanel.classList.toggle('busy', busy);
}

// ---------------------------------------------------------------- training

/** Inputs, targets and validation data for Model#train, from the parsed box. */
function forecastData(data, window) {
  const inputs = [], targets = [], valInputs = [], valTargets = [];
  data.series.forEach((s, k) => {
    const { inputs: x, targets: y } = lstm.windows(s.slice(0, s.length - data.holdout[k]), { window });
    const nVal = Math.round(x.length * VALIDATION);
    inputs.push(...x.slice(0, x.length - nVal)), targets.push(...y.slice(0, y.length - nVal));
    valInputs.push(...x.slice(x.length - nVal)), valTargets.push(...y.slice(y.length - nVal));
  });
  return { inputs, targets, validation: valInputs.length ? [valInputs, valTargets] : undefined };
}

/** z-score over every training value: a classifier's inputs are not scaled by the model itself. */
function classScale(data) {
  const values = data.train.flatMap((k) => data.sequences[k]);
  const mean = values.reduce((a, v) => a + v, 0) / values.length;
  const sd = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / values.length) || 1;
  return (seq) => seq.map((v) => (v - mean) / sd);
}

/** How long Stop waits for the batch in progress before it ends the worker. */
const STOP_GRACE_MS = 600;
/** About how often the result redraws while training (training runs in pieces of this many ms). */
const LIVE_MS = 500;
/** Snapshots for Stop are taken only of models small enough to copy quickly (in parameters). */
const SNAPSHOT_MAX_PARAMS = 4_000_000;

/** Training batches per epoch (the trainer's onBatchEnd counts from 0), for the progress bar. */
function batchesPerEpoch(kind, data, batchSize, nTrain) {
  if (kind === 'generate') {
    const pieces = data.mode === 'text' ? Math.ceil(data.data.length / TEXT_SEQ_LENGTH) : data.data.length;
    return Math.max(1, Math.ceil((pieces - Math.round(pieces * VALIDATION)) / batchSize));
  }
  return Math.max(1, Math.ceil(nTrain / batchSize));
}

/** The parameter count of a network (the LSTM family's four blocks; good enough for the GRU's three). */
function paramCount(network, inputSize) {
  let n = 0, below = inputSize;
  for (const h of network.hiddenSize) { n += 4 * h * (below + h + 2); below = h; }
  return n;
}

async function train() {
  if (job || ui.train.getAttribute('aria-disabled') === 'true') return;
  const settings = readSettings();
  if (settings.error) return showSettingsError(settings.error, settings.field);
  showSettingsError('');
  const kind = task();
  const data = readData(kind, settings);
  if (data.error) {
    showInputError(data.error);
    setStatus('Fix the data to train: see the message under the box.', 'invalid');
    return;
  }
  showInputError('');

  job = { controller: new AbortController(), stopping: false, model: null };
  job.ended = new Promise((resolve) => { job.end = resolve; });
  setStatus('Starting…', 'training');
  setBusy(true);
  await disposeCurrent();
  clearResults();
  madeFrom = snapshotInputs();
  lossChart.reset();
  ui.progress.value = 0;
  ui.speed.textContent = '\u00a0';

  const { epochs } = settings;
  const hiddenSize = new Array(settings.layers).fill(settings.hiddenSize);
  const progress = { done: 0, batch: 0, loss: undefined, valLoss: undefined, speed: 0, batches: 1 };
  let frame = 0;
  const repaint = () => {
    frame = 0;
    lossChart.draw();
    // the status's epoch is the chart's: both come from the same finished epochs
    const finished = lossChart.epochs;
    ui.progress.value = Math.min(1, (finished + Math.min(1, progress.batch / progress.batches)) / epochs);
    if (progress.speed) ui.speed.textContent = `${Math.round(progress.speed).toLocaleString('en')} samples per second`;
    if (job?.stopping) return;
    setStatus(`Epoch ${Math.min(finished + 1, epochs)} of ${epochs} · loss ${fmtLoss(progress.loss)}`
      + (progress.valLoss !== undefined ? ` · validation ${fmtLoss(progress.valLoss)}` : ''));
  };
  const schedule = () => { frame ||= requestAnimationFrame(repaint); };
  let offset = 0; // epochs finished by earlier pieces of the run
  const callbacks = {
    signal: job.controller.signal,
    onBatchEnd: ({ epoch, batch, loss, samplesPerSecond }) => {
      progress.batch = batch + 1;
      progress.batches = Math.max(progress.batches, batch + 1);
      progress.loss = loss; // the epoch's running loss, batch by batch
      progress.speed = samplesPerSecond;
      lossChart.addBatch(offset + epoch + Math.min(1, (batch + 1) / progress.batches), loss);
      schedule();
    },
    onEpochEnd: ({ epoch, loss, valLoss, samplesPerSecond }) => {
      Object.assign(progress, { batch: 0, loss, valLoss, speed: samplesPerSecond });
      lossChart.add(offset + epoch + 1, loss, valLoss);
      schedule();
    },
  };

  const started = performance.now();
  const thisJob = job;
  let model = null, snapshot = null;
  const network = { hiddenSize, layers: settings.layers, cell: settings.cell, gates: settings.gates, seed: settings.seed };
  const common = { learningRate: settings.learningRate, clipNorm: CLIP_NORM, optimizer: settings.optimizer, ...callbacks };
  const history = { loss: [], valLoss: [], epochs: 0, stopped: false, ended: false };
  try {
    let run, extra = {}, nTrain = 0, inputSize = 1;
    if (kind === 'forecast') {
      const { inputs, targets, validation } = forecastData(data, settings.window);
      model = await lstm.Model.create({ ...network, inputSize: 1, outputSize: 1 });
      setStatus(`Training on ${inputs.length} windows of ${settings.window} steps…`);
      nTrain = inputs.length;
      run = (n) => model.train(inputs, targets, { ...common, epochs: n, batchSize: settings.batchSize ?? BATCH_SIZE, validationData: validation });
      extra = { window: settings.window, xStart: xStartFor(data) };
    } else if (kind === 'classify') {
      const scale = classScale(data);
      const pick = (rows) => [rows.map((k) => scale(data.sequences[k])), rows.map((k) => data.labels[k])];
      const [inputs, targets] = pick(data.train);
      model = await lstm.Model.create({ ...network, inputSize: 1, outputSize: data.classes.length, loss: 'softmax-cross-entropy' });
      setStatus(`Training on ${inputs.length} sequences…`);
      nTrain = inputs.length;
      const validationData = data.test.length ? pick(data.test) : undefined;
      run = (n) => model.train(inputs, targets, { ...common, epochs: n, batchSize: settings.batchSize ?? BATCH_SIZE, validationData });
      extra = { scale };
    } else {
      model = await lstm.TextModel.create(network);
      setStatus(data.mode === 'strings' ? `Training on ${data.data.length} lines…` : `Training on ${data.data.length} characters…`);
      inputSize = new Set(data.mode === 'text' ? data.data : data.data.join('')).size + 1;
      run = (n) => model.train(data.data, {
        ...common, epochs: n, batchSize: settings.batchSize ?? (data.mode === 'text' ? TEXT_BATCH_SIZE : BATCH_SIZE), validationSplit: VALIDATION,
        ...(data.mode === 'text' ? { seqLength: TEXT_SEQ_LENGTH } : {}),
      });
    }
    job.model = model;
    const batchSize = settings.batchSize ?? (kind === 'generate' && data.mode === 'text' ? TEXT_BATCH_SIZE : BATCH_SIZE);
    progress.batches = batchesPerEpoch(kind, data, batchSize, nTrain);
    const snapshots = paramCount(network, inputSize) <= SNAPSHOT_MAX_PARAMS;
    const state = { task: kind, model, data, layers: settings.layers, ...extra };
    // Training runs in pieces of about LIVE_MS, the result redrawn after each: train(a) then train(b)
    // gives the same bits as train(a + b). Stop acts inside a piece, at the next batch (or ends the worker).
    let piece = 1;
    while (history.epochs < epochs && !history.stopped && !thisJob.controller.signal.aborted) {
      const n = Math.min(piece, epochs - history.epochs);
      const t0 = performance.now();
      const running = run(n);
      running.catch(() => {}); // once the worker is ended, this piece rejects with ERR_DISPOSED: nobody waits for it
      const h = await Promise.race([running, thisJob.ended]);
      if (h === 'ended') { history.ended = true; history.stopped = true; break; }
      history.loss.push(...h.loss), history.valLoss.push(...h.valLoss);
      history.epochs += h.epochs, offset += h.epochs;
      history.stopped = h.stopped;
      if (history.stopped || history.epochs >= epochs) break;
      const took = performance.now() - t0;
      if (snapshots && took / n > STOP_GRACE_MS) snapshot = await model.save(); // a Stop may have to end the worker
      // a run that ends within a few redraws anyway is finished in one piece, without live redraws
      const left = ((epochs - history.epochs) * took) / n;
      if (left < 3 * LIVE_MS) { piece = epochs - history.epochs; continue; }
      await showLive(state);
      piece = Math.max(1, Math.min(1000, Math.round((n * LIVE_MS) / Math.max(1, took))));
    }
    clearTimeout(thisJob.timer);
    history.stopped ||= thisJob.controller.signal.aborted;
    if (history.ended) {
      // the worker was ended mid-batch: the last finished state is the snapshot, if there is one
      model = null;
      if (snapshot) {
        model = kind === 'generate' ? await lstm.TextModel.load(snapshot) : await lstm.Model.load(snapshot);
        state.model = model;
      }
    }
    const took = performance.now() - started;
    cancelAnimationFrame(frame);
    repaint();
    const kept = !history.ended || model;
    if (kept) current = { ...state, model };
    else clearResults(); // the live result was of a model that is gone
    model = null;
    const done = history.stopped ? `Stopped after ${history.epochs} of ${epochs} epochs` : `Trained ${history.epochs} epoch${history.epochs === 1 ? '' : 's'}`;
    const lost = history.ended
      ? (kept ? ' (the batch in progress was too long to wait for: the model is as it was at the last snapshot)'
        : ' (the batch in progress was too long to wait for, and no epoch had finished: nothing was kept)')
      : '';
    setStatus(`${done} in ${seconds(took)} · loss ${fmtLoss(history.loss.at(-1))}`
      + (history.valLoss.length ? ` · validation ${fmtLoss(history.valLoss.at(-1))}` : '') + lost);
    ui.status.dataset.trainMs = String(Math.round(took));
    ui.progress.value = history.stopped ? ui.progress.value : 1;
    if (current && history.epochs > 0) await showResults();
    ui.status.dataset.state = history.stopped ? 'stopped' : 'done';
  } catch (err) {
    cancelAnimationFrame(frame);
    clearTimeout(thisJob.timer);
    clearResults();
    lossChart.reset();
    ui.speed.textContent = '\u00a0';
    ui.progress.value = 0;
    setStatus(`Training failed: ${err.message}`, 'failed');
    console.warn(err);
    await model?.dispose().catch(() => {});
  } finally {
    job = null;
    setBusy(false);
  }
}

/** Stop: answers at once, stops at the next batch, and ends the worker if that batch takes too long. */
function stop() {
  if (!job || job.stopping) return;
  const j = job;
  j.stopping = true;
  ui.stop.setAttribute('aria-disabled', 'true');
  ui.stop.textContent = 'Stopping…';
  setStatus('Stopping…');
  j.controller.abort();
  j.timer = setTimeout(() => {
    if (job !== j) return;
    j.end('ended');
    j.model?.dispose().catch(() => {}); // ends a busy worker within about half a second
  }, STOP_GRACE_MS);
}

/** x of the first step in the chart: the example's first year, while the box holds the example unchanged. */
function xStartFor(data) {
  return ui.preset.value === 'sunspots' && ui.sequence.value === presetText && data.series.length === 1 ? 1749 : 0;
}

/**
 * A text model's network as a plain Model, for its configuration: TextModel's
 * file is a Model file with the vocabulary beside the weights. Dispose of it
 * after use.
 */
async function networkOf(textModel) {
  return lstm.Model.load(await textModel.save());
}

async function disposeCurrent() {
  if (!current) return;
  const { model } = current;
  current = null;
  await model.dispose().catch(() => {});
}

// ---------------------------------------------------------------- results

function clearResults() {
  ui.resultEmpty.hidden = false;
  ui.resultStale.hidden = true;
  ui.resultPanel.classList.remove('is-stale');
  delete ui.resultPanel.dataset.live;
  delete ui.resultPanel.dataset.liveDraws;
  ui.resultPanel.dataset.stale = 'false';
  madeFrom = null;
  ui.forecastView.hidden = ui.generateView.hidden = ui.classifyView.hidden = true;
  seriesChart.clear();
  ui.gateControls.hidden = true;
  gateView.clear('Train a model to see its gates.');
}

/** The result of `st` (the current model, or the one training): forecast, confusion table or generated text. */
async function showResultView(st) {
  ui.resultEmpty.hidden = true;
  const { task: kind } = st;
  ui.forecastView.hidden = kind !== 'forecast';
  ui.generateView.hidden = kind !== 'generate';
  ui.classifyView.hidden = kind !== 'classify';
  if (kind === 'forecast') await showForecast(st);
  else if (kind === 'classify') await showConfusion(st);
  else await showGenerated(st);
}

async function showResults() {
  await showResultView(current);
  ui.resultPanel.dataset.live = 'final';
  markStale();
  await setupGates();
}

/** Redraws the result from the model being trained, between two pieces of the run. */
async function showLive(st) {
  await showResultView(st);
  ui.resultPanel.dataset.live = String(Number(ui.resultPanel.dataset.liveDraws || 0) + 1);
  ui.resultPanel.dataset.liveDraws = ui.resultPanel.dataset.live;
  ui.resultStale.hidden = false;
  ui.resultStale.textContent = `While training: the model as of epoch ${lossChart.epochs}.`;
}

/** What the trained model was made from, to say when the box or the form no longer match it. */
function snapshotInputs() {
  return JSON.stringify([ui.sequence.value, task(), ui.cell.value, ui.hiddenSize.value, ui.layers.value, ui.window.value,
    switchBoxes().map((b) => b.checked)]);
}
let madeFrom = null;

/** Marks the result and gates stale when the data or the settings changed since the model was trained. */
function markStale() {
  if (job) return;
  if (ui.resultPanel.dataset.live === 'final' && current) {
    if (madeFrom === null) madeFrom = snapshotInputs();
    const stale = madeFrom !== snapshotInputs();
    ui.resultPanel.classList.toggle('is-stale', stale);
    ui.resultStale.hidden = !stale;
    ui.resultStale.textContent = stale ? 'Stale: the data or the settings changed since this model was trained. Train again to update.' : '';
    ui.resultPanel.dataset.stale = String(stale);
  }
}

const mae = (a, b) => a.reduce((s, v, k) => s + Math.abs(v - b[k]), 0) / a.length;

async function showForecast(st = current) {
  const { model, data, xStart } = st;
  const backtest = [], ahead = [];
  for (const [k, s] of data.series.entries()) {
    const h = data.holdout[k];
    backtest.push(await model.forecast(s.slice(0, s.length - h), h));
    ahead.push(await model.forecast(s, h));
  }
  seriesChart.show({ series: data.series, holdout: data.holdout, backtest, ahead, xStart });
  const scores = data.series.map((s, k) => {
    const held = s.slice(s.length - data.holdout[k]);
    return { lstm: mae(backtest[k], held), naive: mae(held.map(() => s[s.length - held.length - 1]), held) };
  });
  const avg = (key) => scores.reduce((a, s) => a + s[key], 0) / scores.length;
  ui.forecastScore.textContent = `On the held-out part, the mean absolute error of the forecast is ${fmtValue(avg('lstm'))}; `
    + `repeating the last value trained on would give ${fmtValue(avg('naive'))}.`;
  ui.forecastValues.textContent = ahead.map((a, k) =>
    `${data.series.length > 1 ? `Series ${k + 1}, next` : 'Next'} ${a.length} steps: ${a.map(fmtValue).join(', ')}`).join('\n');
}

async function showConfusion(st = current) {
  const { model, data, scale } = st;
  const rows = data.test.length ? data.test : data.train;
  const probs = await model.predict(rows.map((k) => scale(data.sequences[k])));
  const K = data.classes.length;
  const table = Array.from({ length: K }, () => new Array(K).fill(0));
  let right = 0;
  probs.forEach((p, n) => {
    const guess = p.indexOf(Math.max(...p)), truth = data.labels[rows[n]];
    table[truth][guess]++;
    right += guess === truth;
  });
  const cells = (row, k) => row.map((n, j) => `<td class="${j === k ? 'hit' : n ? 'miss' : ''}">${n}</td>`).join('');
  const esc = (s) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
  const about = `${data.test.length ? 'Held-out' : 'Training'} examples: rows are the true label, columns the model’s guess.`;
  ui.confusionAbout.textContent = about;
  ui.confusion.innerHTML = `<caption class="visually-hidden">${about}</caption>
    <thead><tr><th scope="col">true \\ guessed</th>${data.classes.map((c) => `<th scope="col">${esc(c)}</th>`).join('')}</tr></thead>
    <tbody>${table.map((row, k) => `<tr><th scope="row">${esc(data.classes[k])}</th>${cells(row, k)}</tr>`).join('')}</tbody>`;
  ui.classifyScore.textContent = `${right} of ${rows.length} right (${Math.round((100 * right) / rows.length)}%).`;
}

async function showGenerated(st = current) {
  const { model, data } = st;
  const temperature = Number(ui.temperature.value);
  const seed = Math.max(0, Math.floor(Number(ui.seed.value) || 0));
  const prompt = ui.prompt.value;
  ui.temperatureValue.textContent = temperature.toFixed(1);
  // a character this model never saw cannot start its text: say which, for this model only
  const vocabulary = new Set(await model.vocabulary);
  const unknown = [...new Set(Array.from(prompt).filter((c) => !vocabulary.has(c)))];
  if (unknown.length) {
    const p = document.createElement('p');
    p.className = 'error';
    p.dataset.testid = 'prompt-error';
    p.textContent = `This model does not know ${unknown.map((c) => `“${c}”`).join(', ')}: the text it learned from has no such character. `
      + 'Change the prompt, or train on text that has it.';
    ui.generated.replaceChildren(p);
    ui.prompt.setAttribute('aria-invalid', 'true');
    return;
  }
  ui.prompt.setAttribute('aria-invalid', 'false');
  try {
    if (data.mode === 'strings') {
      const known = new Set(data.data);
      const made = [];
      for (let k = 0; k < LIST_SAMPLES; k++) made.push(prompt + await model.generate(prompt, 40, { temperature, seed: seed + k }));
      const items = made.map((w) => {
        const li = document.createElement('li');
        li.textContent = w || '(empty)';
        if (known.has(w)) li.className = 'known';
        return li;
      });
      const list = document.createElement('ol');
      list.className = 'samples';
      list.append(...items);
      const fresh = made.filter((w) => !known.has(w)).length;
      const note = document.createElement('p');
      note.className = 'muted small';
      note.textContent = `${fresh} of ${made.length} are not in the data (those that are, are struck through). Temperature ${temperature.toFixed(1)}, seeds ${seed} to ${seed + LIST_SAMPLES - 1}.`;
      ui.generated.replaceChildren(list, note);
    } else {
      const text = await model.generate(prompt, TEXT_LENGTH, { temperature, seed });
      const p = document.createElement('p');
      const b = document.createElement('b');
      b.textContent = prompt;
      p.append(b, text);
      ui.generated.replaceChildren(p);
    }
  } catch (err) {
    const p = document.createElement('p');
    p.className = 'error';
    p.textContent = `Could not generate: ${err.message}`;
    ui.generated.replaceChildren(p);
  }
}

// ---------------------------------------------------------------- gates

/** Fills the gate input picker for the current model's task and draws the first trace. */
async function setupGates() {
  const { task: kind, data, layers } = current;
  ui.gateLayer.replaceChildren(...Array.from({ length: layers }, (_, l) => new Option(`Layer ${l + 1}`, String(l))));
  const field = ui.gateInputField;
  if (kind === 'forecast') {
    const window = current.window || Number(ui.window.value);
    const seriesPick = data.series.length > 1
      ? `<label for="gate-series">Series</label><select id="gate-series">${data.series.map((_, k) => `<option value="${k}">Series ${k + 1}</option>`).join('')}</select>`
      : '';
    field.innerHTML = `${seriesPick}<label for="gate-start">Input: the window starting at ${current.xStart ? 'year' : 'step'} <output id="gate-start-value"></output></label>
      <input id="gate-start" type="range" min="0" step="1" data-testid="gate-input">`;
    const start = $('gate-start'), series = $('gate-series');
    const limits = () => {
      const s = data.series[Number(series?.value ?? 0)];
      start.max = String(Math.max(0, s.length - window));
      return s;
    };
    const s = limits();
    start.value = String(Math.max(0, s.length - data.holdout[0] - window));
    start.addEventListener('input', () => drawGates());
    series?.addEventListener('change', () => { limits(); drawGates(); });
  } else if (kind === 'classify') {
    const rows = data.test.length ? data.test : data.train;
    field.innerHTML = `<label for="gate-example">Input: an example${data.test.length ? ' (held out)' : ''}</label>
      <select id="gate-example" data-testid="gate-input">${rows.map((k) =>
        `<option value="${k}">line ${k + 1}: ${data.classes[data.labels[k]].replace(/[&<>"]/g, '')} (${data.sequences[k].length} steps)</option>`).join('')}</select>`;
    $('gate-example').addEventListener('change', () => drawGates());
  } else {
    field.innerHTML = `<label for="gate-text">Input: text to trace <span class="muted">(up to ${TRACE_CHARS} characters)</span></label>
      <input id="gate-text" type="text" maxlength="${TRACE_CHARS}" autocomplete="off" spellcheck="false" data-testid="gate-input">`;
    const input = $('gate-text');
    input.value = data.mode === 'strings' ? data.data[0] : data.data.slice(0, 24);
    let timer = 0;
    input.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(drawGates, 200); });
  }
  ui.gateControls.hidden = false;
  await drawGates();
}

/** The sequence the gate view traces, and a label per step. */
async function gateInput() {
  const { task: kind, data } = current;
  if (kind === 'forecast') {
    const s = data.series[Number($('gate-series')?.value ?? 0)];
    const start = Number($('gate-start').value), window = current.window || Number(ui.window.value);
    const seq = s.slice(start, start + window);
    const first = String((current.xStart || 0) + start);
    $('gate-start-value').textContent = first;
    return { seq, labels: seq.map((v) => `x = ${fmtValue(v)}`), about: `the window starting at ${current.xStart ? 'year' : 'step'} ${first}` };
  }
  if (kind === 'classify') {
    const k = Number($('gate-example').value);
    return { seq: current.scale(data.sequences[k]), labels: data.sequences[k].map((v) => `x = ${fmtValue(v)}`), about: `the example on line ${k + 1}` };
  }
  // Text: TextModel#trace takes the characters themselves.
  const vocabulary = new Set(await current.model.vocabulary);
  const chars = Array.from($('gate-text').value).slice(0, TRACE_CHARS);
  if (!chars.length) return { error: 'Type some text to trace.' };
  const missing = chars.find((c) => !vocabulary.has(c));
  if (missing !== undefined) return { error: `“${missing}” is not among the characters the model learned.` };
  return { seq: chars.join(''), labels: chars.map((c) => `“${c === ' ' ? '␣' : c}”`), about: `the text “${chars.join('')}”` };
}

let drawing = Promise.resolve();
function drawGates() {
  drawing = drawing.then(async () => {
    if (!current) return;
    try {
      const input = await gateInput();
      if (input.error) return gateView.clear(input.error);
      const trace = await current.model.trace(input.seq);
      const layer = Number(ui.gateLayer.value || 0);
      gateView.show(trace.find((e) => e.layer === layer && e.direction === 'forward') ?? trace[0], input.labels);
      ui.gateMaps.setAttribute('aria-label', `Gates of layer ${layer + 1} over ${input.about}`);
    } catch (err) {
      gateView.clear(`Could not trace: ${err.message}`);
    }
  });
  return drawing;
}

// ---------------------------------------------------------------- model file

function download(bytes, name) {
  const url = URL.createObjectURL(new Blob([bytes], { type: 'application/octet-stream' }));
  const a = Object.assign(document.createElement('a'), { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

async function save() {
  if (!current) return;
  try {
    const bytes = await current.model.save();
    rememberSettings(bytes);
    download(bytes, `lstm-${current.task}.lstm`);
    setStatus(`Saved the model (${bytes.length.toLocaleString('en')} bytes).`);
  } catch (err) {
    setStatus(`Could not save: ${err.message}`);
  }
}

async function exportSafetensors() {
  if (!current) return;
  try {
    const bytes = await current.model.toSafetensors();
    rememberSettings(bytes);
    download(bytes, `lstm-${current.task}.safetensors`);
    setStatus(`Exported the weights as safetensors (${bytes.length.toLocaleString('en')} bytes).`);
  } catch (err) {
    setStatus(`Could not export: ${err.message}`);
  }
}

/** Which task a loaded Model does: a softmax over one output per sequence classifies; regression forecasts. */
function taskOf(config) {
  if (config.loss === 'softmax-cross-entropy' && !config.returnSequences) return 'classify';
  if (['mse', 'mae', 'huber'].includes(config.loss) && config.inputSize === 1 && config.outputSize === 1 && !config.returnSequences) return 'forecast';
  return null;
}

/** FNV-1a over a file's bytes: the key the page keeps a saved model's training settings under. */
function fingerprint(bytes) {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
  return `lstm-demo:${bytes.length}:${(h >>> 0).toString(16)}`;
}

/**
 * The settings a model was trained with that its file does not hold (window,
 * epochs, learning rate, seed, batch size, optimizer), kept in this browser
 * for the files this page saved.
 */
function rememberSettings(bytes) {
  try {
    localStorage.setItem(fingerprint(bytes), JSON.stringify({
      window: ui.window.value, epochs: ui.epochs.value, learningRate: ui.learningRate.value,
      seed: ui.trainSeed.value, batchSize: ui.batchSize.value, optimizer: ui.optimizer.value,
    }));
  } catch { /* storage full or off: a loaded model then takes the task's defaults */ }
}
function recalledSettings(bytes) {
  try {
    return JSON.parse(localStorage.getItem(fingerprint(bytes)) ?? 'null');
  } catch {
    return null;
  }
}

/** A safetensors file: an 8-byte little-endian header length, then JSON. */
const isSafetensors = (bytes) => bytes.length > 9 && bytes[8] === 0x7b && bytes[4] === 0 && bytes[5] === 0 && bytes[6] === 0 && bytes[7] === 0;

/** A sentence for a file that could not be read (the engine's own words go to the console). */
function fileProblem(name, err) {
  console.warn(`lstm-wasm demo: ${name}:`, err);
  if (err.demo) return err.message;
  if (err.code === 'ERR_FORMAT' || err.code === 'ERR_SHAPE' || err.code === 'ERR_TYPE') {
    return `${name} is not a model this page can read: it may be damaged, cut short or another kind of file. `
      + 'Choose a .lstm file made with “Save model”, or a .safetensors file made with “Export safetensors”.';
  }
  return `${name} could not be loaded (${err.message}).`;
}
const demoError = (message) => Object.assign(new Error(message), { demo: true });

async function load(file) {
  if (!file || job) return;
  setBusy(true);
  setStatus(`Loading ${file.name}…`, 'loading');
  try {
    const bytes = new Uint8Array(await file.arrayBuffer());
    let model, kind, config;
    if (isSafetensors(bytes)) {
      model = await lstm.Model.fromPyTorch(bytes);
      config = await model.config;
      kind = taskOf(config);
      if (!kind) {
        await model.dispose();
        throw demoError(`${file.name} holds weights the page cannot use alone${config.returnSequences ? ': a text model’s vocabulary is not in a safetensors file. Load the .lstm file made with “Save model” instead.' : '.'}`);
      }
    } else {
      try {
        model = await lstm.TextModel.load(bytes);
        kind = 'generate';
      } catch (err) {
        if (err.code !== 'ERR_FORMAT' || !/vocabulary/.test(err.message)) throw err;
        model = await lstm.Model.load(bytes);
        config = await model.config;
        kind = taskOf(config);
        if (!kind) {
          await model.dispose();
          throw demoError(`${file.name} is a model the demo does not make: it makes forecasters of one series, classifiers and text models.`);
        }
      }
    }
    await disposeCurrent();
    if (!config) {
      const network = await networkOf(model);
      config = network.config;
      await network.dispose();
    }
    // the whole form from the model: its task and network, then what this page trained it with (or the task's defaults)
    if (ui.task.value !== kind) {
      ui.task.value = kind;
      const fromPreset = Object.entries(PRESETS).find(([, p]) => p.text === ui.sequence.value);
      if (fromPreset && fromPreset[1].task !== kind) choosePreset(Object.keys(PRESETS).find((k) => PRESETS[k].task === kind));
    }
    applySettings(TASK_DEFAULTS[kind]);
    const kept = recalledSettings(bytes);
    if (kept) {
      for (const [el, v] of [[ui.window, kept.window], [ui.epochs, kept.epochs], [ui.learningRate, kept.learningRate],
        [ui.trainSeed, kept.seed], [ui.batchSize, kept.batchSize]]) if (v !== undefined) el.value = v;
      if (kept.optimizer) ui.optimizer.value = kept.optimizer;
    }
    taskChanged();
    ui.cell.value = config.cell;
    cellChanged(config.gates);
    ui.hiddenSize.value = config.hiddenSize[0];
    ui.layers.value = config.layers;
    showSettingsError('');
    // what the last run left: its loss curve, its speed, its progress
    lossChart.reset();
    ui.speed.textContent = '\u00a0';
    ui.progress.value = 0;
    clearResults();
    const settings = readSettings();
    const data = readData(kind, settings.error ? {} : settings);
    current = { task: kind, model, data, layers: config.layers, window: kind === 'forecast' ? Number(ui.window.value) : 0 };
    madeFrom = snapshotInputs();
    if (data.error) {
      showInputError(data.error);
      setStatus(`Loaded ${file.name}. To see its predictions, put data for this task in the box: see the message under it.`, 'loaded');
      return;
    }
    if (kind === 'classify') {
      if (data.classes.length !== config.outputSize) {
        setStatus(`Loaded ${file.name}: it sorts into ${config.outputSize} classes, but the box has ${data.classes.length} labels.`, 'loaded');
        return;
      }
      current.scale = classScale(data);
    }
    if (kind === 'forecast') current.xStart = xStartFor(data);
    setStatus(`Loaded ${file.name}: ${kind === 'generate' ? 'a text model' : kind === 'classify' ? 'a classifier' : 'a forecaster'}, `
      + `${config.layers} layer${config.layers > 1 ? 's' : ''} of ${config.hiddenSize.join(', ')} units`
      + `${kept ? '' : '; window, epochs and learning rate are the task’s defaults (the file does not hold them)'}.`);
    await showResults();
    ui.status.dataset.state = 'loaded';
  } catch (err) {
    setStatus(`Could not load: ${fileProblem(file.name, err)}`, 'failed');
  } finally {
    ui.loadFile.value = '';
    setBusy(false);
  }
}

// ---------------------------------------------------------------- wiring

for (const [id, p] of Object.entries(PRESETS)) ui.preset.append(new Option(p.label, id));
ui.preset.addEventListener('change', () => choosePreset(ui.preset.value));
ui.undoButton.addEventListener('click', () => {
  if (!undo) return;
  const { text, task: was } = undo;
  undo = null;
  ui.undo.hidden = true;
  ui.sequence.value = text;
  presetText = '';
  ui.source.hidden = true;
  if (task() !== was) { ui.task.value = was; taskChanged(); } else summarise();
  ui.sequence.focus();
});
ui.task.addEventListener('change', () => {
  // An example made for another task is swapped for this task's first example; the person's own text stays.
  const fromPreset = Object.entries(PRESETS).find(([, p]) => p.text === ui.sequence.value);
  if (fromPreset && fromPreset[1].task !== task()) {
    const id = Object.keys(PRESETS).find((k) => PRESETS[k].task === task());
    choosePreset(id);
    return;
  }
  applySettings(TASK_DEFAULTS[task()]);
  taskChanged();
});
let typing = 0;
ui.sequence.addEventListener('input', () => {
  clearTimeout(typing);
  typing = setTimeout(summarise, 150);
  if (undo) { undo = null; ui.undo.hidden = true; } // edited on: the replaced data is not coming back
});
for (const el of [ui.window, ui.hiddenSize, ui.layers, ui.epochs, ui.learningRate, ui.trainSeed, ui.batchSize]) {
  el.addEventListener('input', () => {
    refreshSettingsError();
    if (el === ui.window) summarise();
  });
}
ui.train.addEventListener('click', train);
ui.stop.addEventListener('click', stop);
ui.save.addEventListener('click', save);
ui.export.addEventListener('click', exportSafetensors);
ui.load.addEventListener('click', () => ui.loadFile.click());
ui.loadFile.addEventListener('change', () => load(ui.loadFile.files[0]));
ui.generate.addEventListener('click', () => current?.task === 'generate' && showGenerated());
let regenerating = 0;
ui.temperature.addEventListener('input', () => {
  ui.temperatureValue.textContent = Number(ui.temperature.value).toFixed(1);
  clearTimeout(regenerating);
  if (current?.task === 'generate' && !job) regenerating = setTimeout(showGenerated, 250);
});
ui.gateLayer.addEventListener('change', () => drawGates());
ui.cell.addEventListener('change', () => cellChanged());
// results that no longer match the box or the form are marked stale
for (const ev of ['input', 'change']) document.querySelector('.col').addEventListener(ev, () => markStale());
ui.prompt.addEventListener('input', () => ui.prompt.setAttribute('aria-invalid', 'false'));
ui.switches.addEventListener('change', refreshSettingsError);

choosePreset(DEFAULT_PRESET);
clearResults();
ui.engine.textContent = `Engine: WebAssembly ${lstm.features.simd ? 'with SIMD128' : '(scalar build: this browser has no SIMD128)'}, `
  + `version ${lstm.features.version}; training ${lstm.thread === 'worker' ? 'in a Web Worker' : 'on the main thread'}.`;
setStatus('Ready: press Train.', 'idle');

// Offline use: a service worker keeps the page, the scripts and the .wasm (sw.js; network first, so never
// stale). Its scope is the whole site where the host allows it, so that it also serves the Web Worker's script.
// Once registered, the browser itself checks sw.js for updates on each visit.
if ('serviceWorker' in navigator && !navigator.serviceWorker.controller && location.protocol !== 'file:') {
  fetch('sw.js', { method: 'HEAD' })
    .then((res) => navigator.serviceWorker.register('sw.js', res.headers.has('service-worker-allowed') ? { scope: '../' } : {}))
    .catch((err) => console.warn(`lstm-wasm demo: no offline copy: ${err.message}`));
}

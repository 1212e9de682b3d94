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

const SEED = 42;
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
const TEXT_CELL_NOTE = 'Text models use the LSTM cell in this version.';
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
  'gate-layer', 'gate-maps', 'gate-tip', 'gate-readout',
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
  for (const el of [ui.switches, ui.hiddenSize, ui.layers, ui.window, ui.epochs, ui.learningRate]) {
    el.setAttribute('aria-invalid', String(el === field));
  }
}

/** Once the settings error is showing, keeps it up to date as the settings change. */
function refreshSettingsError() {
  if (ui.settingsError.hidden) return;
  const s = readSettings();
  showSettingsError(s.error ?? '', s.field);
}

// A minus sign, not a hyphen, in exponents: a line never breaks inside '1.6e−3'.
const fmtLoss = (v) => (v === undefined || v === null ? '–' : v >= 0.01 ? v.toFixed(4) : v.toExponential(2).replace('-', '\u2212'));
const fmtValue = (v) => String(Math.round(v * 100) / 100);
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
  ui.cellNote.textContent = task() === 'generate' ? TEXT_CELL_NOTE : CELL_NOTES[cell];
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

function choosePreset(id) {
  const p = PRESETS[id];
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

function setBusy(busy) {
  ui.train.disabled = busy;
  ui.stop.disabled = !busy;
  ui.load.disabled = busy;
  ui.save.disabled = busy || !current;
  ui.export.disabled = busy || !current;
  ui.generate.disabled = busy;
  ui.task.disabled = busy;
  ui.preset.disabled = busy;
  ui.cell.disabled = busy;
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

async function train() {
  if (job) return;
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

  job = { controller: new AbortController() };
  setStatus('Starting…', 'training');
  setBusy(true);
  await disposeCurrent();
  clearResults();
  lossChart.reset();
  ui.progress.value = 0;
  ui.speed.textContent = '\u00a0';

  const { epochs } = settings;
  const hiddenSize = new Array(settings.layers).fill(settings.hiddenSize);
  const progress = { epoch: 0, fraction: 0, loss: undefined, valLoss: undefined, speed: 0, batches: 1 };
  let frame = 0;
  const repaint = () => {
    frame = 0;
    lossChart.draw();
    ui.progress.value = Math.min(1, (progress.epoch + progress.fraction) / epochs);
    ui.speed.textContent = `${Math.round(progress.speed).toLocaleString('en')} samples per second`;
    setStatus(`Epoch ${Math.min(progress.epoch + 1, epochs)} of ${epochs} · loss ${fmtLoss(progress.loss)}`
      + (progress.valLoss !== undefined ? ` · validation ${fmtLoss(progress.valLoss)}` : ''));
  };
  const schedule = () => { frame ||= requestAnimationFrame(repaint); };
  const callbacks = {
    signal: job.controller.signal,
    onBatchEnd: ({ epoch, batch, loss, samplesPerSecond }) => {
      progress.batches = Math.max(progress.batches, batch + 1);
      Object.assign(progress, { epoch, fraction: (batch + 1) / progress.batches, speed: samplesPerSecond });
      if (progress.loss === undefined) progress.loss = loss;
      schedule();
    },
    onEpochEnd: ({ epoch, loss, valLoss, samplesPerSecond }) => {
      Object.assign(progress, { epoch: epoch + 1, fraction: 0, loss, valLoss, speed: samplesPerSecond });
      lossChart.add(epoch + 1, loss, valLoss);
      schedule();
    },
  };

  const started = performance.now();
  let model = null;
  const network = { hiddenSize, layers: settings.layers, cell: settings.cell, gates: settings.gates, seed: SEED };
  const training = { epochs, learningRate: settings.learningRate, clipNorm: CLIP_NORM, ...callbacks };
  try {
    let history, extra = {};
    if (kind === 'forecast') {
      const { inputs, targets, validation } = forecastData(data, settings.window);
      model = await lstm.Model.create({ ...network, inputSize: 1, outputSize: 1 });
      setStatus(`Training on ${inputs.length} windows of ${settings.window} steps…`);
      history = await model.train(inputs, targets, { ...training, batchSize: BATCH_SIZE, validationData: validation });
      extra = { window: settings.window, xStart: xStartFor(data) };
    } else if (kind === 'classify') {
      const scale = classScale(data);
      const pick = (rows) => [rows.map((k) => scale(data.sequences[k])), rows.map((k) => data.labels[k])];
      const [inputs, targets] = pick(data.train);
      model = await lstm.Model.create({ ...network, inputSize: 1, outputSize: data.classes.length, loss: 'softmax-cross-entropy' });
      setStatus(`Training on ${inputs.length} sequences…`);
      history = await model.train(inputs, targets, {
        ...training, batchSize: BATCH_SIZE, validationData: data.test.length ? pick(data.test) : undefined,
      });
      extra = { scale };
    } else {
      model = await lstm.TextModel.create(network);
      setStatus(data.mode === 'strings' ? `Training on ${data.data.length} lines…` : `Training on ${data.data.length} characters…`);
      history = await model.train(data.data, {
        ...training, batchSize: data.mode === 'text' ? TEXT_BATCH_SIZE : BATCH_SIZE, validationSplit: VALIDATION,
        ...(data.mode === 'text' ? { seqLength: TEXT_SEQ_LENGTH } : {}),
      });
    }
    const took = performance.now() - started;
    cancelAnimationFrame(frame);
    repaint();
    current = { task: kind, model, data, layers: settings.layers, ...extra };
    model = null;
    const last = history.loss.at(-1);
    const done = history.stopped ? `Stopped after ${history.epochs} of ${epochs} epochs` : `Trained ${history.epochs} epochs`;
    setStatus(`${done} in ${seconds(took)} · loss ${fmtLoss(last)}`
      + (history.valLoss.length ? ` · validation ${fmtLoss(history.valLoss.at(-1))}` : ''));
    ui.status.dataset.trainMs = String(Math.round(took));
    ui.progress.value = history.stopped ? ui.progress.value : 1;
    if (history.epochs > 0) await showResults();
    ui.status.dataset.state = history.stopped ? 'stopped' : 'done';
  } catch (err) {
    cancelAnimationFrame(frame);
    setStatus(`Training failed: ${err.message}`, 'failed');
    console.warn(err);
    await model?.dispose();
  } finally {
    job = null;
    setBusy(false);
  }
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
  ui.forecastView.hidden = ui.generateView.hidden = ui.classifyView.hidden = true;
  seriesChart.clear();
  ui.gateControls.hidden = true;
  gateView.clear('Train a model to see its gates.');
}

async function showResults() {
  ui.resultEmpty.hidden = true;
  const { task: kind } = current;
  ui.forecastView.hidden = kind !== 'forecast';
  ui.generateView.hidden = kind !== 'generate';
  ui.classifyView.hidden = kind !== 'classify';
  if (kind === 'forecast') await showForecast();
  else if (kind === 'classify') await showConfusion();
  else await showGenerated();
  await setupGates();
}

const mae = (a, b) => a.reduce((s, v, k) => s + Math.abs(v - b[k]), 0) / a.length;

async function showForecast() {
  const { model, data, xStart } = current;
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

async function showConfusion() {
  const { model, data, scale } = current;
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

async function showGenerated() {
  const { model, data } = current;
  const temperature = Number(ui.temperature.value);
  const seed = Math.max(0, Math.floor(Number(ui.seed.value) || 0));
  const prompt = ui.prompt.value;
  ui.temperatureValue.textContent = temperature.toFixed(1);
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
    p.textContent = err.message;
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

async function load(file) {
  if (!file || job) return;
  setBusy(true);
  setStatus(`Loading ${file.name}…`, 'loading');
  try {
    const bytes = new Uint8Array(await file.arrayBuffer());
    let model, kind, config;
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
        throw new Error('this model is not one the demo makes (a forecaster of one series, a classifier or a text model)');
      }
    }
    await disposeCurrent();
    if (!config) {
      const network = await networkOf(model);
      config = network.config;
      await network.dispose();
    }
    ui.task.value = kind;
    taskChanged();
    ui.cell.value = config.cell;
    cellChanged(config.gates);
    ui.hiddenSize.value = config.hiddenSize[0];
    ui.layers.value = config.layers;
    const settings = readSettings();
    const data = readData(kind, settings.error ? {} : settings);
    current = { task: kind, model, data, layers: config.layers, window: kind === 'forecast' ? Number(ui.window.value) : 0 };
    if (data.error) {
      clearResults();
      showInputError(data.error);
      setStatus(`Loaded ${file.name}. To see its predictions, put data for this task in the box: see the message under it.`);
      return;
    }
    if (kind === 'classify') {
      if (data.classes.length !== config.outputSize) {
        clearResults();
        setStatus(`Loaded ${file.name}: it sorts into ${config.outputSize} classes, but the box has ${data.classes.length} labels.`);
        return;
      }
      current.scale = classScale(data);
    }
    if (kind === 'forecast') current.xStart = xStartFor(data);
    lossChart.reset();
    setStatus(`Loaded ${file.name}: ${kind === 'generate' ? 'a text model' : kind === 'classify' ? 'a classifier' : 'a forecaster'}, `
      + `${config.layers} layer${config.layers > 1 ? 's' : ''} of ${config.hiddenSize.join(', ')} units.`);
    await showResults();
    ui.status.dataset.state = 'loaded';
  } catch (err) {
    setStatus(`Could not load ${file.name}: ${err.message}`, 'failed');
  } finally {
    ui.loadFile.value = '';
    setBusy(false);
  }
}

// ---------------------------------------------------------------- wiring

for (const [id, p] of Object.entries(PRESETS)) ui.preset.append(new Option(p.label, id));
ui.preset.addEventListener('change', () => choosePreset(ui.preset.value));
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
ui.sequence.addEventListener('input', () => { clearTimeout(typing); typing = setTimeout(summarise, 150); });
for (const el of [ui.window, ui.hiddenSize, ui.layers, ui.epochs, ui.learningRate]) {
  el.addEventListener('input', () => {
    refreshSettingsError();
    if (el === ui.window) summarise();
  });
}
ui.train.addEventListener('click', train);
ui.stop.addEventListener('click', () => job?.controller.abort());
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

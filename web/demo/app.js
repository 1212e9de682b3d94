// The demo page: parse a series, train an LSTM on windows of it on the main
// thread (train() yields between batches), chart the loss and forecast by
// feeding predictions back in. The worker, task choice and gate heat maps of
// SPEC section 6 are still to come; charts are drawn by hand on <canvas>.
import { Model, features, windows } from '../index.js';

const WINDOW = 12; // steps the model sees per prediction
const FORECAST_STEPS = 20;
const MIN_POINTS = 2 * WINDOW; // fewer leaves too few windows to learn from
const MODEL_OPTIONS = { inputSize: 1, hiddenSize: 16, outputSize: 1 };
// Measured on the example series: batch 8 and rate 0.01 bring the loss from
// about 1 to 0.003 in 30 epochs; the defaults (32, 0.001) stop near 0.36.
const TRAIN_OPTIONS = { batchSize: 8, learningRate: 0.01 };

const $ = (id) => document.getElementById(id);
const ui = {
  series: $('series'), error: $('series-error'), epochs: $('epochs'), train: $('train'), stop: $('stop'),
  status: $('status'), lossChart: $('loss-chart'), forecastChart: $('forecast-chart'), values: $('forecast-values'),
};
const engineName = features.simd ? 'SIMD' : 'scalar';
let state = { series: [], losses: [], forecast: [] };
let controller = null;

/** A sum of two sines with a slow drift: easy to see, not trivial to learn. */
function exampleSeries(n = 80) {
  return Array.from({ length: n }, (_, t) =>
    Math.round(100 * (Math.sin((2 * Math.PI * t) / 16) + 0.4 * Math.sin((2 * Math.PI * t) / 7) + t / 80)) / 100);
}

/** { values } or { error } for the text of the series box. */
function parseSeries(text) {
  const items = text.split(/[\s,;]+/).filter(Boolean);
  if (!items.length) return { error: `Enter a series of at least ${MIN_POINTS} numbers.` };
  const values = [];
  for (const [k, item] of items.entries()) {
    const v = Number(item);
    if (!Number.isFinite(v)) return { error: `"${item}" (item ${k + 1}) is not a number.` };
    values.push(v);
  }
  if (values.length < MIN_POINTS) {
    return { error: `Enter at least ${MIN_POINTS} numbers; there are ${values.length}.` };
  }
  return { values };
}

function parseEpochs() {
  const n = Number(ui.epochs.value);
  return Number.isInteger(n) && n >= 1 && n <= 100000 ? n : null;
}

/** Shows message under the series box ('' clears it) and marks the field at fault. */
function showError(message, field = ui.series) {
  ui.error.textContent = message;
  ui.error.hidden = !message;
  for (const el of [ui.series, ui.epochs]) el.setAttribute('aria-invalid', String(Boolean(message) && el === field));
}

const fmt = (v) => (Math.abs(v) >= 1e-3 || v === 0 ? v.toFixed(4) : v.toExponential(2));

function setStatus(text) {
  ui.status.textContent = `${text} · engine: ${engineName}`;
}

async function train() {
  const parsed = parseSeries(ui.series.value);
  const epochs = parseEpochs();
  if (parsed.error) return showError(parsed.error);
  if (!epochs) return showError('Epochs must be a whole number from 1 to 100000.', ui.epochs);
  showError('');
  controller = new AbortController();
  ui.train.disabled = true;
  ui.stop.disabled = false;
  state = { series: parsed.values, losses: [], forecast: [] };
  drawAll();
  let model;
  try {
    const { inputs, targets } = windows(state.series, { window: WINDOW });
    model = await Model.create(MODEL_OPTIONS);
    setStatus(`Training on ${inputs.length} windows…`);
    const history = await model.train(inputs, targets, {
      ...TRAIN_OPTIONS,
      epochs,
      signal: controller.signal,
      onEpochEnd: ({ epoch, loss }) => {
        state.losses.push(loss);
        setStatus(`Epoch ${epoch + 1}/${epochs} · loss ${fmt(loss)}`);
        drawLoss();
      },
    });
    const done = history.stopped ? `Stopped at epoch ${history.epochs}/${epochs}` : `Trained ${history.epochs} epochs`;
    const last = history.loss.at(-1);
    setStatus(last === undefined ? done : `${done} · loss ${fmt(last)}`);
    if (history.epochs) state.forecast = forecast(model, state.series);
  } catch (err) {
    setStatus(`Error: ${err.message}`);
  } finally {
    model?.dispose();
    controller = null;
    ui.train.disabled = false;
    ui.stop.disabled = true;
    drawAll();
  }
}

/** The next FORECAST_STEPS values, each predicted from the last WINDOW ones. */
function forecast(model, series) {
  let window = series.slice(-WINDOW);
  const out = [];
  for (let k = 0; k < FORECAST_STEPS; k++) {
    const [next] = model.predict([window]);
    out.push(next);
    window = [...window.slice(1), next];
  }
  return out;
}

/** A 2d context for a canvas sized to its box at the screen's pixel ratio. */
function context(canvas) {
  const ratio = window.devicePixelRatio || 1;
  const { width, height } = canvas.getBoundingClientRect();
  canvas.width = Math.round(width * ratio);
  canvas.height = Math.round(height * ratio);
  const ctx = canvas.getContext('2d');
  ctx.scale(ratio, ratio);
  const css = getComputedStyle(canvas);
  return { ctx, width, height, ink: css.color, grid: css.getPropertyValue('--grid'), font: `12px ${css.fontFamily}` };
}

const PAD = { left: 52, right: 12, top: 12, bottom: 24 };
const short = (v) => (Math.abs(v) >= 0.01 || v === 0 ? String(Number(v.toPrecision(2))) : v.toExponential(1));

/** Axes labelled at both ends, x from xMin to xMax; returns x(i) and y(v) for the plot area. */
function axes(c, [xMin, xMax], [yMin, yMax], label) {
  const { ctx, width, height } = c;
  const w = width - PAD.left - PAD.right, h = height - PAD.top - PAD.bottom;
  const span = yMax - yMin || 1;
  ctx.strokeStyle = c.grid;
  ctx.lineWidth = 1;
  ctx.strokeRect(PAD.left, PAD.top, w, h);
  ctx.fillStyle = c.ink;
  ctx.font = c.font;
  ctx.textAlign = 'right';
  ctx.textBaseline = 'top';
  ctx.fillText(label(yMax), PAD.left - 6, PAD.top);
  ctx.textBaseline = 'bottom';
  ctx.fillText(label(yMin), PAD.left - 6, PAD.top + h);
  ctx.textAlign = 'center';
  ctx.textBaseline = 'top';
  ctx.fillText(String(xMin), PAD.left, PAD.top + h + 4);
  ctx.fillText(String(xMax), PAD.left + w, PAD.top + h + 4);
  return {
    x: (i) => PAD.left + (w * (i - xMin)) / Math.max(1, xMax - xMin),
    y: (v) => PAD.top + h - (h * (v - yMin)) / span,
  };
}

function line(ctx, points, color, dash = []) {
  ctx.strokeStyle = color;
  ctx.lineWidth = 2;
  ctx.setLineDash(dash);
  ctx.beginPath();
  points.forEach(([x, y], k) => (k ? ctx.lineTo(x, y) : ctx.moveTo(x, y)));
  ctx.stroke();
  ctx.setLineDash([]);
}

function drawLoss() {
  const c = context(ui.lossChart);
  const logs = state.losses.map((l) => Math.log10(Math.max(l, 1e-12)));
  if (!logs.length) return;
  const { x, y } = axes(c, [1, logs.length], [Math.min(...logs), Math.max(...logs)], (v) => short(10 ** v));
  line(c.ctx, logs.map((v, k) => [x(k + 1), y(v)]), getComputedStyle(ui.lossChart).getPropertyValue('--loss'));
}

function drawForecast() {
  const c = context(ui.forecastChart);
  const { series, forecast: ahead } = state;
  const all = series.concat(ahead);
  if (!all.length) return;
  const { x, y } = axes(c, [0, all.length - 1], [Math.min(...all), Math.max(...all)], short);
  const css = getComputedStyle(ui.forecastChart);
  line(c.ctx, series.map((v, k) => [x(k), y(v)]), css.getPropertyValue('--series'));
  if (ahead.length) {
    const from = series.length - 1;
    line(c.ctx, [series[from], ...ahead].map((v, k) => [x(from + k), y(v)]), css.getPropertyValue('--forecast'), [6, 4]);
  }
  ui.values.textContent = ahead.length
    ? `Next ${ahead.length} steps: ${ahead.map((v) => v.toFixed(3)).join(', ')}`
    : 'Train the model to see a forecast of the next steps.';
}

function drawAll() {
  drawLoss();
  drawForecast();
}

ui.series.value = exampleSeries().join(', ');
state.series = exampleSeries();
ui.train.addEventListener('click', train);
ui.stop.addEventListener('click', () => controller?.abort());
ui.series.addEventListener('input', () => {
  if (ui.error.hidden) return; // re-check only once a message is showing
  showError(parseSeries(ui.series.value).error ?? '');
});
window.addEventListener('resize', drawAll);
setStatus('Ready: press Train');
drawAll();

// The demo's two line charts, drawn by uPlot (vendor/, copied from
// node_modules by tests/build-demo.js): the loss per epoch while training
// (training and validation, log scale), and the series with its held-out
// tail and the forecasts. Each chart follows its box's width and the page's
// colours (style.css custom properties). The gate heat maps are in gates.js.
import uPlot from './vendor/uPlot.esm.js';

const css = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();

function axis(label) {
  return {
    label,
    stroke: css('--muted'),
    grid: { stroke: css('--line'), width: 1 },
    ticks: { stroke: css('--line'), width: 1 },
    font: '12px system-ui, sans-serif',
    labelFont: '12px system-ui, sans-serif',
    labelSize: 18,
  };
}

/** A uPlot in `host` that keeps to the host's width until it is destroyed; height in CSS pixels. */
function plot(host, options, data, height) {
  const width = () => Math.max(200, host.clientWidth);
  const chart = new uPlot({ ...options, width: width(), height }, data, host);
  const observer = new ResizeObserver(() => {
    if (Math.abs(chart.width - width()) > 1) chart.setSize({ width: width(), height });
  });
  observer.observe(host);
  const destroy = chart.destroy.bind(chart);
  chart.destroy = () => { observer.disconnect(); destroy(); };
  return chart;
}

const short = (v) => (v === null || v === undefined ? '–' : Math.abs(v) >= 0.01 ? v.toPrecision(3) : v.toExponential(2));
/** Whole epochs between ticks on the x axis. */
const EPOCH_STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000];
/** Axis labels of a log scale: 1, 0.1, 0.01, 1e-3. */
const tick = (v) => (v === null ? '' : v >= 0.01 ? String(Number(v.toPrecision(2))) : v.toExponential(0));

/** Training and validation loss per epoch, on a log scale; add() collects, draw() repaints. */
export class LossChart {
  #chart;
  #data = [[], [], []];
  #dirty = false;
  #host;

  constructor(host) {
    this.#host = host;
    this.#chart = plot(host, {
      scales: { x: { time: false }, y: { distr: 3 } },
      axes: [{ ...axis('epoch'), incrs: EPOCH_STEPS }, { ...axis('loss'), size: 56, values: (u, ticks) => ticks.map(tick) }],
      series: [
        { label: 'epoch' },
        { label: 'training', stroke: css('--accent'), width: 2, value: (u, v) => short(v), points: { show: false } },
        { label: 'validation', stroke: css('--forecast'), width: 2, dash: [6, 4], value: (u, v) => short(v), spanGaps: true, points: { show: false } },
      ],
      legend: { live: false },
      cursor: { drag: { x: false, y: false } },
    }, this.#data, 220);
    this.#describe();
  }

  reset() {
    this.#data = [[], [], []];
    this.#chart.setData(this.#data);
    this.#describe();
  }

  /** One epoch's losses; valLoss may be undefined. Drawn at the next draw(). */
  add(epoch, loss, valLoss) {
    this.#data[0].push(epoch);
    this.#data[1].push(loss);
    this.#data[2].push(valLoss ?? null);
    this.#dirty = true;
  }

  /** Repaints if anything was added since the last call (call it once per animation frame). */
  draw() {
    if (!this.#dirty) return;
    this.#dirty = false;
    this.#chart.setData(this.#data);
    this.#describe();
  }

  // The chart's words for screen readers (and tests): how many epochs, first and last loss.
  #describe() {
    const [epochs, loss, val] = this.#data;
    const n = epochs.length;
    const text = n
      ? `Loss over ${n} epoch${n === 1 ? '' : 's'}: training ${short(loss[0])} to ${short(loss[n - 1])}`
        + (val[n - 1] !== null ? `, validation ${short(val.find((v) => v !== null))} to ${short(val[n - 1])}` : '')
      : 'Loss chart: no training yet';
    this.#host.setAttribute('aria-label', text);
    this.#host.dataset.epochs = String(n);
  }
}

/**
 * Series against their forecasts. For each series k: the part trained on
 * (solid), the held-out tail (dashed, its own colour), the forecast of the
 * held-out tail from the trained part (the check), and the forecast beyond
 * the data. x counts steps from `xStart` (e.g. the first year).
 */
export class SeriesChart {
  #chart = null;
  #host;

  constructor(host) {
    this.#host = host;
  }

  show({ series, holdout, backtest, ahead, xStart = 0 }) {
    const N = Math.max(...series.map((s, k) => s.length + (ahead[k]?.length ?? 0)));
    const x = Array.from({ length: N }, (_, t) => xStart + t);
    const data = [x], lines = [{ label: 'step' }];
    const palette = [css('--series-1'), css('--series-2'), css('--series-3')];
    const many = series.length > 1;
    series.forEach((s, k) => {
      const color = palette[k % palette.length], name = many ? `series ${k + 1}: ` : '';
      const cut = s.length - holdout[k];
      const column = (from, values) => x.map((_, t) => (t >= from && t < from + values.length ? values[t - from] : null));
      data.push(column(0, s.slice(0, cut)));
      lines.push({ label: `${name}trained on`, stroke: color, width: 2 });
      if (backtest[k]) { // drawn before the held-out data, so that the data shows on top
        data.push(column(cut - 1, [s[cut - 1], ...backtest[k]]));
        lines.push({ label: `${name}forecast of the held-out part`, stroke: css('--forecast'), width: 2 });
      }
      data.push(column(cut - 1, s.slice(cut - 1)));
      lines.push({ label: `${name}held out`, stroke: color, width: 2, dash: [3, 3] });
      if (ahead[k]) {
        data.push(column(s.length - 1, [s.at(-1), ...ahead[k]]));
        lines.push({ label: `${name}forecast ahead`, stroke: css('--forecast'), width: 2, dash: [7, 4] });
      }
    });
    for (const line of lines.slice(1)) {
      line.points = { show: false };
      line.value = (u, v) => (v === null ? '–' : String(Math.round(v * 100) / 100));
    }
    this.#chart?.destroy();
    this.#host.replaceChildren();
    this.#chart = plot(this.#host, {
      scales: { x: { time: false } },
      axes: [{ ...axis(xStart ? 'year' : 'step'), values: (u, ticks) => ticks.map(String) }, { ...axis(''), size: 48 }],
      series: lines,
      legend: { show: false }, // index.html has a legend that explains the line styles once
      cursor: { drag: { x: false, y: false } },
    }, data, 240);
  }

  clear() {
    this.#chart?.destroy();
    this.#chart = null;
    this.#host.replaceChildren();
  }
}

// Heat maps of one layer's trace (model.trace(sequence)): one map per
// quantity the cell has (an LSTM's gates i, f, g, o in PyTorch's order, its
// cell state c and hidden state h; a GRU's r, z, n and h; an RNN's h), a row
// per hidden unit, a column per time step. Values show on hover, and with the
// arrow keys once a map has focus. Drawn on <canvas> one pixel per cell and
// scaled up by CSS, so a map of any size stays crisp.
import { TRACE_QUANTITIES } from '../cells.js';

// every quantity a trace can hold, in the order the maps are drawn, from ../cells.js
const QUANTITIES = TRACE_QUANTITIES;

// Colour maps: viridis for gates (0 closed, dark; 1 open, bright), and a
// blue-white-red diverging map for signed values (ColorBrewer RdBu).
const VIRIDIS = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
const RDBU = [[33, 102, 172], [146, 197, 222], [247, 247, 247], [244, 165, 130], [178, 24, 43]];

function colour(stops, u) {
  const x = Math.min(1, Math.max(0, u)) * (stops.length - 1);
  const k = Math.min(stops.length - 2, Math.floor(x)), w = x - k;
  return stops[k].map((a, j) => Math.round(a + (stops[k + 1][j] - a) * w));
}

const ROW_PX = (H) => Math.max(3, Math.min(12, Math.round(160 / H)));
const fmt = (v) => (Math.abs(v) >= 100 ? v.toFixed(1) : v.toFixed(3));

/**
 * The [lo, hi] a quantity's colours span, and its colour map: 0 to 1 for a
 * gate; for a signed value -1 to 1, or wider when its values are (the cell
 * state, and g or h without their tanh under the Greff switches).
 */
function rangeOf(q, rows) {
  if (q.scale === 'unit') return { lo: 0, hi: 1, stops: VIRIDIS };
  let m = 1;
  for (const row of rows) for (const v of row) m = Math.max(m, Math.abs(v));
  return { lo: -m, hi: m, stops: RDBU };
}

export class GateView {
  #host;
  #tip;
  #readout;
  #maps = []; // { q, rows, canvas, cursor, at: [t, unit] }
  #labels = [];

  /**
   * @param {HTMLElement} host where the maps go
   * @param {HTMLElement} tip the tooltip, shared by the maps
   * @param {HTMLElement} readout a live region: what the arrow keys point at, for screen readers
   */
  constructor(host, tip, readout) {
    this.#host = host;
    this.#tip = tip;
    this.#readout = readout;
  }

  /**
   * Draws one trace entry: { i, f, g, o, c, h } or { r, z, n, h } or { h },
   * each T rows of H numbers. `stepLabels[t]` describes step t's input, e.g.
   * 'x = 0.53' or '“a”'.
   */
  show(entry, stepLabels) {
    this.#labels = stepLabels;
    this.#maps = [];
    const T = entry.h.length, H = T ? entry.h[0].length : 0;
    const figures = QUANTITIES.filter((q) => entry[q.key]).map((q) => {
      const rows = entry[q.key];
      const range = rangeOf(q, rows);
      const figure = document.createElement('figure');
      figure.className = 'gate';
      const caption = document.createElement('figcaption');
      caption.innerHTML = `<b>${q.key}</b> ${q.name} <span class="ramp ${range.stops === VIRIDIS ? 'viridis' : 'rdbu'}"
        aria-hidden="true"></span> <span class="range">${fmt(range.lo)} … ${fmt(range.hi)}</span>`;
      const box = document.createElement('div');
      box.className = 'gate-box';
      const canvas = document.createElement('canvas');
      canvas.width = T;
      canvas.height = H;
      canvas.style.height = `${H * ROW_PX(H)}px`;
      canvas.tabIndex = 0;
      canvas.setAttribute('role', 'img');
      canvas.setAttribute('aria-label', `${q.name} (${q.key}): ${H} units by ${T} steps; arrow keys read the values`);
      canvas.dataset.gate = q.key;
      const image = new ImageData(T, H);
      for (let t = 0; t < T; t++) {
        for (let u = 0; u < H; u++) {
          const [r, g, b] = colour(range.stops, (rows[t][u] - range.lo) / (range.hi - range.lo));
          const at = 4 * (u * T + t);
          image.data[at] = r, image.data[at + 1] = g, image.data[at + 2] = b, image.data[at + 3] = 255;
        }
      }
      canvas.getContext('2d').putImageData(image, 0, 0);
      const cursor = document.createElement('div');
      cursor.className = 'gate-cursor';
      cursor.hidden = true;
      box.append(canvas, cursor);
      figure.append(caption, box);
      const map = { q, rows, canvas, cursor, at: [0, 0], T, H };
      this.#maps.push(map);
      this.#listen(map);
      return figure;
    });
    this.#host.replaceChildren(...figures);
    this.#hide();
  }

  clear(message = '') {
    this.#maps = [];
    this.#host.replaceChildren();
    if (message) {
      const p = document.createElement('p');
      p.className = 'muted';
      p.textContent = message;
      this.#host.append(p);
    }
    this.#hide();
  }

  #listen(map) {
    const { canvas } = map;
    const cell = (event) => {
      const r = canvas.getBoundingClientRect(); // the border box: the cells start inside the border
      const t = Math.floor(((event.clientX - r.left - canvas.clientLeft) / canvas.clientWidth) * map.T);
      const u = Math.floor(((event.clientY - r.top - canvas.clientTop) / canvas.clientHeight) * map.H);
      return [Math.min(map.T - 1, Math.max(0, t)), Math.min(map.H - 1, Math.max(0, u))];
    };
    canvas.addEventListener('pointermove', (event) => this.#point(map, cell(event), false));
    canvas.addEventListener('pointerleave', () => this.#hide());
    canvas.addEventListener('focus', () => this.#point(map, map.at, true));
    canvas.addEventListener('blur', () => this.#hide());
    canvas.addEventListener('keydown', (event) => {
      const moves = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1], Home: [-map.T, 0], End: [map.T, 0] };
      if (event.key === 'Escape') return this.#hide();
      const d = moves[event.key];
      if (!d) return;
      event.preventDefault();
      const [t, u] = map.at;
      this.#point(map, [Math.min(map.T - 1, Math.max(0, t + d[0])), Math.min(map.H - 1, Math.max(0, u + d[1]))], true);
    });
  }

  /** Shows the value of cell [t, unit] of a map in the tooltip, next to the cell. */
  #point(map, [t, u], keyboard) {
    map.at = [t, u];
    const { canvas, cursor, q } = map;
    const w = canvas.clientWidth / map.T, h = canvas.clientHeight / map.H;
    for (const m of this.#maps) m.cursor.hidden = m !== map;
    Object.assign(cursor.style, { left: `${canvas.clientLeft + t * w}px`, top: `${canvas.clientTop + u * h}px`, width: `${Math.max(2, w)}px`, height: `${Math.max(2, h)}px` });
    cursor.hidden = false;
    const label = this.#labels[t] ? ` (${this.#labels[t]})` : '';
    this.#tip.textContent = `${q.key} · ${q.name}: ${fmt(map.rows[t][u])} — unit ${u + 1}, step ${t + 1}${label}`;
    this.#tip.hidden = false;
    const box = canvas.getBoundingClientRect();
    const host = this.#tip.offsetParent?.getBoundingClientRect() ?? { left: 0, top: 0 };
    const x = box.left + canvas.clientLeft - host.left + (t + 0.5) * w, y = box.top + canvas.clientTop - host.top + u * h;
    const tipWidth = this.#tip.offsetWidth;
    const maxLeft = (this.#tip.offsetParent?.clientWidth ?? innerWidth) - tipWidth - 4;
    this.#tip.style.left = `${Math.max(4, Math.min(maxLeft, x - tipWidth / 2))}px`;
    this.#tip.style.top = `${y - this.#tip.offsetHeight - 6}px`;
    if (keyboard) this.#readout.textContent = this.#tip.textContent;
  }

  #hide() {
    this.#tip.hidden = true;
    for (const m of this.#maps) m.cursor.hidden = true;
  }
}

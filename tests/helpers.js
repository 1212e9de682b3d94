// Shared by the tests: relative error, bits, fixture and engine loaders, test
// data, and the Chromium that tests/browser/ and the bench drive.
import { readFileSync } from 'node:fs';
import { loadEngine } from '../web/engine.js';
import { seededUniform } from '../web/data.js';

/** Seeded uniform numbers in [0, 1) (mulberry32, as the package shuffles). */
export const rng = seededUniform;

/** ‖got − want‖ / ‖want‖ over whole arrays (norm-wise, as the fixtures README asks). */
export function relErr(got, want) {
  if (got.length !== want.length) throw new Error(`length ${got.length} != ${want.length}`);
  let num = 0, den = 0;
  for (let i = 0; i < want.length; i++) {
    num += (got[i] - want[i]) ** 2;
    den += want[i] ** 2;
  }
  return den === 0 ? Math.sqrt(num) : Math.sqrt(num / den);
}

export function fixture(name) {
  const url = new URL(`./fixtures/${name}`, import.meta.url);
  return name.endsWith('.json') ? JSON.parse(readFileSync(url, 'utf8')) : new Uint8Array(readFileSync(url));
}

/** The engine builds by variant: 'simd', 'scalar', 'test' (both kernel sets), 'f64'. */
export const engine = (variant) => loadEngine({ variant, locateWasm: (file) => new URL(`../web/wasm/${file}`, import.meta.url) });

/**
 * The bit patterns of float32 values, as a plain array of numbers. A
 * Float32Array is viewed in place, so NaN payloads, -0 and subnormals are kept
 * exactly; anything else (a plain array, a Float64Array) is rounded through
 * Float32Array.from first, so it can never become an empty or misaligned view.
 */
export function bits(a) {
  const f = a instanceof Float32Array ? a : Float32Array.from(a);
  return Array.from(new Uint32Array(f.buffer, f.byteOffset, f.length));
}

/** Debian's Chromium (tests/setup.sh installs it), driven through playwright-core, and its flags. */
export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** A linear congruential generator: seeded uniform numbers in [0, 1) for test data. */
export function lcg(seed) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296);
}

/**
 * The adding problem (Hochreiter & Schmidhuber 1997) in the fast form: T steps
 * of (value in [0, 1], marker), one marker in each half; target = the sum of
 * the two marked values. Predicting the mean gives an MSE of about 0.17.
 */
export function addingProblem(n, T, rand) {
  const x = new Float32Array(n * T * 2), y = new Float32Array(n);
  for (let b = 0; b < n; b++) {
    for (let t = 0; t < T; t++) x[(b * T + t) * 2] = rand();
    const a = Math.floor(rand() * (T / 2)), c = Math.floor(T / 2) + Math.floor(rand() * (T / 2));
    x[(b * T + a) * 2 + 1] = 1, x[(b * T + c) * 2 + 1] = 1;
    y[b] = x[(b * T + a) * 2] + x[(b * T + c) * 2];
  }
  return { inputs: { data: x, shape: [n, T, 2] }, targets: { data: y, shape: [n, 1] } };
}

// Every kernel in c/kernels.inc, SIMD version against the reference, both
// taken from one instance of lstm-test.wasm (c/testing.c exports
// lw_test_<name>_ref and lw_test_<name>_simd). The GEMMs must match bit for
// bit; the cells within a measured tolerance. Shapes cover sizes 0..9 and
// 16, 31, 64, 67, because the tails are where SIMD bugs live. Every output
// buffer sits between guard values, and input padding holds NaN, so a write
// outside the output or a read of padding shows. The activation sweep
// measures sigmoid and tanh of both versions against Math in double.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bits, engine, rng } from './helpers.js';

// GEMMs: no tolerance. They keep the reference's summation order (k
// ascending) and SIMD128 has no FMA, so every product and sum rounds the
// same way; both must equal a float32 emulation in JS bit for bit.
// Cells, SIMD vs reference and both vs a double model: error divided by the
// magnitude of the terms behind each output (see fwdModel), so cancellation
// in f*c_prev + i*g cannot inflate it. Measured worst with CELL_SEED, SIMD vs
// reference: 2.6e-7 forward, 2.4e-7 backward; over seeds 1..12 at most
// 2.9e-7. Float32's unit roundoff is 6e-8, so this is about 5 roundings.
const CELL_REL = 4e-7;
// exp4 in c/kernels_simd.c clamps its argument to [-87.3, 88.3], so SIMD
// sigmoid never goes below 1/(1 + e^88.3) = 4.6e-39 where the exact value is
// smaller; absolute differences below this are not resolved.
const TINY = 1e-38;
// Results in float32's denormal range round to a grid of 2^-149: allow eight
// such roundings (half a step each) in the backward cell.
const DENORMAL = 8 * 2 ** -150;
// Activations against Math.exp/Math.tanh in double, over [-90, 90] and the
// extremes. Measured worst relative error: sigmoid 1.71e-7 (reference: musl
// expf, then the division) and 1.46e-7 (SIMD); tanh 1.58e-7 (reference) and
// 1.27e-7 (SIMD). Absolute: 8.9e-8 (sigmoid, both), 7.4e-8 (tanh).
const ACT_REL = 2e-7;
const ACT_ABS = 1e-7;
// Seeds, so a failure can be replayed.
const GEMM_SEED = 0x6e6d, CELL_SEED = 0xce11;

const SIZES = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 16, 31, 64, 67];
const CELL_H = [1, 2, 3, 4, 5, 6, 7, 8, 9, 16, 31, 64, 67];
const CELL_N = [0, 1, 2, 3, 4, 5];
const GUARD = 5; // reals of guard before and after every buffer

const e = await engine('test');
const ex = e.exports;

/** Index of the first element whose bits differ (NaN payloads included), or -1. */
function firstBitDifference(got, want) {
  const g = bits(got), w = bits(want);
  for (let i = 0; i < w.length; i++) if (g[i] !== w[i]) return i;
  return -1;
}

/**
 * A heap buffer of `n` reals between GUARD reals on each side, at an offset of
 * `shift` reals from malloc's alignment (SIMD loads must not assume 16 bytes).
 * `fill` gives the body, `guard` the guard values. Returns { ptr, all, read }.
 */
function buffer(s, n, fill, shift, guard) {
  const all = new Float32Array(shift + GUARD + n + GUARD);
  for (let i = 0; i < all.length; i++) all[i] = guard();
  all.set(fill, shift + GUARD);
  const base = s.reals(all);
  return {
    ptr: base + (shift + GUARD) * 4,
    all,
    read: () => e.readReals(base, all.length),
    body: (arr) => arr.subarray(shift + GUARD, shift + GUARD + n),
  };
}

// ---------------------------------------------------------------- GEMM

/**
 * C += op(A) . B in float32, the reference's loop order, in JS: every float32
 * product and sum is correctly rounded when done in double then rounded once
 * (double carries more than 2·24 + 2 bits), so this is exact emulation.
 */
function gemmEmulate(trans, M, N, K, A, lda, B, ldb, C, ldc) {
  const f = Math.fround;
  for (let m = 0; m < M; m++)
    for (let k = 0; k < K; k++) {
      const a = trans ? A[k * lda + m] : A[m * lda + k];
      if (trans && a === 0) continue; // the reference skips zero rows of A
      for (let n = 0; n < N; n++) C[m * ldc + n] = f(C[m * ldc + n] + f(a * B[k * ldb + n]));
    }
}

/**
 * Runs one GEMM kernel on one shape; A and B rows are padded with NaN, C
 * rows with random values, and C sits between guard values. Returns the
 * failure text or null.
 */
function gemmCase(name, M, N, K, next) {
  const trans = name === 'gemm_tn';
  const pad = 1 + Math.floor(next() * 4); // leading dimensions exceed the row width
  const [ar, ac] = trans ? [K, M] : [M, K];
  const lda = ac + pad, ldb = N + pad, ldc = N + pad;
  const zeroRows = trans && next() < 0.5; // gemm_tn skips zero entries of A: exercise that path
  const A = new Float32Array(ar * lda).fill(NaN);
  for (let r = 0; r < ar; r++)
    for (let c = 0; c < ac; c++) A[r * lda + c] = zeroRows && (r + c) % 3 === 0 ? 0 : next() * 2 - 1;
  const B = new Float32Array(K * ldb).fill(NaN);
  for (let r = 0; r < K; r++) for (let c = 0; c < N; c++) B[r * ldb + c] = next() * 2 - 1;
  const C = Float32Array.from({ length: M * ldc }, () => next() * 8 - 4); // kernels accumulate into C
  const want = C.slice();
  gemmEmulate(trans, M, N, K, A, lda, B, ldb, want, ldc);
  const shift = Math.floor(next() * 4);
  const results = {};
  for (const version of ['ref', 'simd']) {
    results[version] = e.scoped((s) => {
      const guard = () => -1e30 - next();
      const a = buffer(s, A.length, A, shift, guard), b = buffer(s, B.length, B, shift, guard);
      const c = buffer(s, C.length, C, shift, guard);
      ex[`lw_test_${name}_${version}`](M, N, K, a.ptr, lda, b.ptr, ldb, c.ptr, ldc);
      for (const [label, buf] of [['A', a], ['B', b]]) {
        const at = firstBitDifference(buf.read(), buf.all);
        if (at >= 0) return `${version} wrote into its input ${label} at ${at}`;
      }
      const got = c.read(), expected = c.all.slice();
      expected.set(want, shift + GUARD);
      const at = firstBitDifference(got, expected);
      if (at < 0) return null;
      const i = at - shift - GUARD;
      const where = i < 0 || i >= C.length ? `the guard (offset ${i})`
        : i % ldc >= N ? `row padding C[${Math.floor(i / ldc)}][${i % ldc}]` : `C[${Math.floor(i / ldc)}][${i % ldc}]`;
      return `${version}: ${where} is ${got[at]}, expected ${expected[at]}`;
    });
  }
  const fails = Object.values(results).filter(Boolean);
  return fails.length ? `M=${M} N=${N} K=${K} lda=${lda} ldb=${ldb} ldc=${ldc}: ${fails.join('; ')}` : null;
}

for (const name of ['gemm_nn', 'gemm_tn']) {
  test(`${name}: SIMD and reference equal the float32 product bit for bit over ${SIZES.length ** 3} shapes and write only inside C`, () => {
    const next = rng(GEMM_SEED + name.length);
    const failures = [];
    for (const M of SIZES) for (const N of SIZES) for (const K of SIZES) {
      const failure = gemmCase(name, M, N, K, next);
      if (failure) failures.push(failure);
    }
    assert.deepEqual(failures.slice(0, 10), [], `${failures.length} shapes failed`);
  });

  test(`${name}: K longer than one cache slice (256 steps) still gives the float32 product bit for bit`, () => {
    const next = rng(GEMM_SEED + 7);
    const failures = [];
    for (const [M, N, K] of [[5, 9, 257], [4, 16, 512], [9, 13, 700], [1, 17, 300]]) {
      const failure = gemmCase(name, M, N, K, next);
      if (failure) failures.push(failure);
    }
    assert.deepEqual(failures, []);
  });
}

test('gemm_nn: a product with K = 0 or an empty C changes nothing, even with NaN in A and B', () => {
  for (const version of ['ref', 'simd']) {
    for (const [M, N, K] of [[4, 8, 0], [0, 8, 4], [4, 0, 4], [0, 0, 0]]) {
      e.scoped((s) => {
        const nan = () => NaN, g = () => 7;
        const a = buffer(s, 64, new Float32Array(64).fill(NaN), 0, nan);
        const b = buffer(s, 64, new Float32Array(64).fill(NaN), 0, nan);
        const c = buffer(s, 64, new Float32Array(64).fill(3), 0, g);
        ex[`lw_test_gemm_nn_${version}`](M, N, K, a.ptr, 8, b.ptr, 8, c.ptr, 8);
        assert.equal(firstBitDifference(c.read(), c.all), -1, `${version} M=${M} N=${N} K=${K}`);
      });
    }
  }
});

// ---------------------------------------------------------------- cells

const sigmoid = (x) => 1 / (1 + Math.exp(-x));

/** Random cell inputs: pre-activations mostly in ±20, one in ten in ±100; c_prev in ±5; dh, dc in ±3. */
function cellInputs(n, H, next) {
  const u = (a) => (next() * 2 - 1) * a;
  return {
    pre: Float32Array.from({ length: n * 4 * H }, () => (next() < 0.1 ? u(100) : u(20))),
    cPrev: Float32Array.from({ length: n * H }, () => u(5)),
    dh: Float32Array.from({ length: n * H }, () => u(3)),
    dc: Float32Array.from({ length: n * H }, () => u(3)),
  };
}

/**
 * Reads each [label, buffer] of a cell kernel's outputs, asserts that the
 * guards on both sides are unchanged, and returns the bodies by label.
 */
function readOutputs(outputs, shift, context) {
  const out = {};
  for (const [label, buf] of outputs) {
    const all = buf.read();
    for (const side of [all.subarray(0, shift + GUARD), all.subarray(all.length - GUARD)]) {
      assert.ok(side.every((v, i) => v === buf.all[side.byteOffset / 4 + i]),
        `${context}: wrote into the guard around ${label}`);
    }
    out[label] = buf.body(all);
  }
  return out;
}

/** Runs lw_test_lstm_cell_fwd_<version>; checks guards and that c_prev is unchanged. */
function runFwd(version, n, H, pre, cPrev, next) {
  return e.scoped((s) => {
    const guard = () => 12345 + next();
    const shift = Math.floor(next() * 4);
    const g = buffer(s, n * 4 * H, pre, shift, guard), cp = buffer(s, n * H, cPrev, shift, guard);
    const c = buffer(s, n * H, new Float32Array(n * H).fill(NaN), shift, guard);
    const h = buffer(s, n * H, new Float32Array(n * H).fill(NaN), shift, guard);
    ex[`lw_test_lstm_cell_fwd_${version}`](n, H, g.ptr, cp.ptr, c.ptr, h.ptr);
    assert.equal(firstBitDifference(cp.read(), cp.all), -1, `${version} fwd n=${n} H=${H}: c_prev changed`);
    return readOutputs([['gates', g], ['c', c], ['h', h]], shift, `${version} fwd n=${n} H=${H}`);
  });
}

/** Runs lw_test_lstm_cell_bwd_<version>; checks guards and that its inputs are unchanged. */
function runBwd(version, n, H, gates, cPrev, c, dh, dc, next) {
  return e.scoped((s) => {
    const guard = () => -777 - next();
    const shift = Math.floor(next() * 4);
    const ins = [['gates', gates], ['c_prev', cPrev], ['c', c], ['dh', dh]].map(([l, v]) => [l, buffer(s, v.length, v, shift, guard)]);
    const dcb = buffer(s, n * H, dc, shift, guard);
    const dg = buffer(s, n * 4 * H, new Float32Array(n * 4 * H).fill(NaN), shift, guard);
    const [g, cp, cb, dhb] = ins.map(([, b]) => b);
    ex[`lw_test_lstm_cell_bwd_${version}`](n, H, g.ptr, cp.ptr, cb.ptr, dhb.ptr, dcb.ptr, dg.ptr);
    for (const [label, buf] of ins) {
      assert.equal(firstBitDifference(buf.read(), buf.all), -1, `${version} bwd n=${n} H=${H}: input ${label} changed`);
    }
    return readOutputs([['dc', dcb], ['dgates', dg]], shift, `${version} bwd n=${n} H=${H}`);
  });
}

/**
 * The cell forward in double from the pre-activations. Beside each value it
 * gives the magnitude of the terms behind it (a running error bound, Higham,
 * "Accuracy and Stability of Numerical Algorithms", 3.3): an output is good
 * to CELL_REL times that scale, not times its own value, because
 * c = f*c_prev + i*g may cancel and h inherits that through tanh. `abs` is
 * the absolute allowance: a gate may be off by TINY (the SIMD exp clamp),
 * which c_prev and g carry into c and h.
 */
function fwdModel(n, H, pre, cPrev) {
  const size = { gates: n * 4 * H, c: n * H, h: n * H };
  const m = Object.fromEntries(Object.entries(size).map(([k, len]) =>
    [k, { want: new Float64Array(len), scale: new Float64Array(len), abs: new Float64Array(len) }]));
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < H; j++) {
      const o4 = r * 4 * H, k = r * H + j;
      const i = sigmoid(pre[o4 + j]), f = sigmoid(pre[o4 + H + j]), g = Math.tanh(pre[o4 + 2 * H + j]), o = sigmoid(pre[o4 + 3 * H + j]);
      [i, f, g, o].forEach((v, q) => {
        m.gates.want[o4 + q * H + j] = v, m.gates.scale[o4 + q * H + j] = Math.abs(v), m.gates.abs[o4 + q * H + j] = TINY;
      });
      // c = f*c_prev + i*g
      const c = f * cPrev[k] + i * g, cs = Math.abs(f * cPrev[k]) + Math.abs(i * g);
      m.c.want[k] = c, m.c.scale[k] = cs, m.c.abs[k] = TINY * (Math.abs(cPrev[k]) + 1);
      // h = o*tanh(c); tanh' <= 1 carries c's error
      const t = Math.tanh(c);
      m.h.want[k] = o * t, m.h.scale[k] = o * (Math.abs(t) + (1 - t * t) * cs), m.h.abs[k] = TINY * (Math.abs(cPrev[k]) + 2);
    }
  }
  return m;
}

/**
 * The cell backward in double, from the float32 activations and c that the
 * kernels read, with term magnitudes as above. tanh(c) and g*g carry a
 * relative rounding, so 1 - tanh(c)^2 and 1 - g^2 are known to (1 + x^2)
 * times it, not to their own size. Results in the denormal range round to a
 * grid of 2^-149: `abs` allows eight such roundings (DENORMAL).
 */
function bwdModel(n, H, gates, cPrev, c, dh, dcIn) {
  const size = { dgates: n * 4 * H, dc: n * H };
  const m = Object.fromEntries(Object.entries(size).map(([k, len]) =>
    [k, { want: new Float64Array(len), scale: new Float64Array(len), abs: new Float64Array(len).fill(DENORMAL) }]));
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < H; j++) {
      const o4 = r * 4 * H, k = r * H + j;
      const i = gates[o4 + j], f = gates[o4 + H + j], g = gates[o4 + 2 * H + j], o = gates[o4 + 3 * H + j];
      const t = Math.tanh(c[k]);
      // dL/dc(t) = dc + dh*o*(1 - tanh(c)^2)
      const dct = dcIn[k] + dh[k] * o * (1 - t * t);
      const sct = Math.abs(dcIn[k]) + Math.abs(dh[k] * o) * (1 + t * t);
      const d = [dct * g * i * (1 - i), dct * cPrev[k] * f * (1 - f), dct * i * (1 - g * g), dh[k] * t * o * (1 - o)];
      const s = [sct * Math.abs(g * i * (1 - i)), sct * Math.abs(cPrev[k] * f * (1 - f)), sct * Math.abs(i) * (1 + g * g), Math.abs(d[3])];
      for (let q = 0; q < 4; q++) m.dgates.want[o4 + q * H + j] = d[q], m.dgates.scale[o4 + q * H + j] = s[q];
      m.dc.want[k] = dct * f, m.dc.scale[k] = sct * Math.abs(f);
    }
  }
  return m;
}

/** Largest (|got - want| - abs) / scale over an array, and where; NaN counts as Infinity. */
function worstScaled(got, want, { scale, abs }) {
  let worst = 0, at = -1;
  for (let k = 0; k < want.length; k++) {
    const d = Math.abs(got[k] - want[k]) - abs[k];
    if (d <= 0) continue;
    const r = Number.isNaN(d) ? Infinity : d / scale[k];
    if (!(r <= worst)) worst = r, at = k;
  }
  return { worst, at };
}

/** Asserts that lanes j >= H & ~3 (the SIMD kernels' scalar tail) are bit-identical between versions. */
function assertTailsEqual(label, simd, ref, rows, width, H) {
  for (let r = 0; r < rows; r++)
    for (let j = H & ~3; j < H; j++)
      for (let q = 0; q < width / H; q++) {
        const k = r * width + q * H + j;
        assert.ok(Object.is(simd[k], ref[k]), `${label} tail lane [${r}][${q * H + j}]: simd ${simd[k]} != ref ${ref[k]}`);
      }
}

/** Reference and SIMD against the double model, and against each other, within CELL_REL; records the worst of each. */
function compareCell(worst, where, ref, simd, model) {
  for (const [who, got, want] of [['ref', ref, model.want], ['simd', simd, model.want], ['cross', simd, ref]]) {
    const { worst: w, at } = worstScaled(got, want, model);
    worst[who] = Math.max(worst[who], w);
    assert.ok(w <= CELL_REL, `${who} ${where}[${at}]: ${got[at]} vs ${want[at]}, scaled error ${w.toExponential(2)} > ${CELL_REL}`);
  }
}

test('lstm_cell_fwd: SIMD and reference agree with each other and with a double model for n 0..5, H up to 67', (t) => {
  const next = rng(CELL_SEED);
  const worst = { ref: 0, simd: 0, cross: 0 };
  for (let rep = 0; rep < 4; rep++) {
    for (const H of CELL_H) for (const n of CELL_N) {
      const { pre, cPrev } = cellInputs(n, H, next);
      const ref = runFwd('ref', n, H, pre, cPrev, next), simd = runFwd('simd', n, H, pre, cPrev, next);
      const model = fwdModel(n, H, pre, cPrev);
      for (const label of ['gates', 'c', 'h']) {
        compareCell(worst, `fwd n=${n} H=${H} ${label}`, ref[label], simd[label], model[label]);
        assertTailsEqual(`fwd n=${n} H=${H} ${label}`, simd[label], ref[label], n, label === 'gates' ? 4 * H : H, H);
      }
    }
  }
  t.diagnostic(`worst scaled error: reference ${worst.ref.toExponential(2)}, SIMD ${worst.simd.toExponential(2)}, SIMD vs reference ${worst.cross.toExponential(2)}`);
});

test('lstm_cell_bwd: SIMD and reference agree with each other and with a double model for n 0..5, H up to 67', (t) => {
  const next = rng(CELL_SEED + 1);
  const worst = { ref: 0, simd: 0, cross: 0 };
  for (let rep = 0; rep < 4; rep++) {
    for (const H of CELL_H) for (const n of CELL_N) {
      const { pre, cPrev, dh, dc } = cellInputs(n, H, next);
      const { gates, c } = runFwd('ref', n, H, pre, cPrev, next); // activations as the layer stores them
      const ref = runBwd('ref', n, H, gates, cPrev, c, dh, dc, next);
      const simd = runBwd('simd', n, H, gates, cPrev, c, dh, dc, next);
      const model = bwdModel(n, H, gates, cPrev, c, dh, dc);
      for (const label of ['dgates', 'dc']) {
        compareCell(worst, `bwd n=${n} H=${H} ${label}`, ref[label], simd[label], model[label]);
        assertTailsEqual(`bwd n=${n} H=${H} ${label}`, simd[label], ref[label], n, label === 'dgates' ? 4 * H : H, H);
      }
    }
  }
  t.diagnostic(`worst scaled error: reference ${worst.ref.toExponential(2)}, SIMD ${worst.simd.toExponential(2)}, SIMD vs reference ${worst.cross.toExponential(2)}`);
});

test('lstm_cell_fwd and lstm_cell_bwd: n = 0 writes nothing', () => {
  const next = rng(CELL_SEED + 2);
  for (const version of ['ref', 'simd']) {
    for (const H of [1, 4, 67]) {
      const out = runFwd(version, 0, H, new Float32Array(0), new Float32Array(0), next);
      assert.equal(out.h.length, 0);
      runBwd(version, 0, H, new Float32Array(0), new Float32Array(0), new Float32Array(0), new Float32Array(0), new Float32Array(0), next);
    }
  }
});

// ---------------------------------------------------------------- activations

/**
 * sigmoid(x) and tanh(x) of one kernel version for every x, read off
 * lstm_cell_fwd: row 0 has i = x, f = +100 (f = 1 exactly), g = 0 (g = 0
 * exactly), o = +100 (o = 1) and c_prev = x, so c = x and h = tanh(x), and
 * the i gate holds sigmoid(x); row 1 has g = x, so its g gate holds tanh(x)
 * (the gate path, where the sign of zero survives). Lanes come in blocks of
 * a multiple of 4 so every lane takes the SIMD path.
 */
function activations(version, xs) {
  const CHUNK = 1 << 14;
  const sig = new Float32Array(xs.length), tanhH = new Float32Array(xs.length), tanhG = new Float32Array(xs.length);
  const c = new Float32Array(xs.length);
  for (let start = 0; start < xs.length; start += CHUNK) {
    const x = xs.subarray(start, start + CHUNK);
    const H = (x.length + 3) & ~3;
    const pre = new Float32Array(2 * 4 * H), cPrev = new Float32Array(2 * H);
    pre.fill(100, H, 2 * H).fill(0, 2 * H, 3 * H).fill(100, 3 * H, 4 * H);
    pre.fill(100, 4 * H, 6 * H).fill(100, 7 * H, 8 * H);
    pre.set(x, 0), pre.set(x, 6 * H), cPrev.set(x, 0);
    e.scoped((s) => {
      const g = s.reals(pre), cp = s.reals(cPrev), cb = s.reals(2 * H), hb = s.reals(2 * H);
      ex[`lw_test_lstm_cell_fwd_${version}`](2, H, g, cp, cb, hb);
      const gates = e.readReals(g, 8 * H), h = e.readReals(hb, H), cc = e.readReals(cb, H);
      sig.set(gates.subarray(0, x.length), start);
      tanhG.set(gates.subarray(6 * H, 6 * H + x.length), start);
      tanhH.set(h.subarray(0, x.length), start);
      c.set(cc.subarray(0, x.length), start);
    });
  }
  return { sig, tanhH, tanhG, c };
}

/** Worst absolute and relative error of got against fn in double; relative only where |want| >= 1e-37. */
function activationErrors(xs, got, fn) {
  let abs = 0, rel = 0, absAt = 0, relAt = 0, fails = [];
  for (let k = 0; k < xs.length; k++) {
    const want = fn(xs[k]);
    const d = Math.abs(got[k] - want);
    if (!(d <= ACT_REL * Math.abs(want) + TINY) && fails.length < 5) fails.push(`x=${xs[k]}: ${got[k]} vs ${want}`);
    if (d > abs) abs = d, absAt = xs[k];
    if (Math.abs(want) >= 1e-37 && d / Math.abs(want) > rel) rel = d / Math.abs(want), relAt = xs[k];
  }
  return { abs, absAt, rel, relAt, fails };
}

/** Dense grid on [-90, 90], every float32 near 0 by exponent steps, and extremes. */
function sweepPoints() {
  const N = 1 << 21;
  const xs = [];
  for (let k = 0; k < N; k++) xs.push(-90 + (180 * k) / (N - 1));
  for (let e2 = -149; e2 <= 7; e2 += 0.125) xs.push(2 ** e2, -(2 ** e2)); // 1.4e-45 .. 128 by 2^(1/8)
  xs.push(0, -0, 1e-40, -1e-40, 1e-45, -1e-45, 1.17549435e-38, -1.17549435e-38, 87.3, -87.3, 88.3, -88.3, 88.8, -88.8,
    103, -103, 1e10, -1e10, 1e30, -1e30, 3.4028234663852886e38, -3.4028234663852886e38, Infinity, -Infinity);
  return Float32Array.from(xs);
}

test('activations: sigmoid and tanh of both versions are within 2e-7 relative of double over [-90, 90] and the extremes', (t) => {
  const xs = sweepPoints();
  for (const version of ['ref', 'simd']) {
    const a = activations(version, xs);
    const firstBad = xs.findIndex((x, k) => !Object.is(a.c[k], x) && !(x === 0 && a.c[k] === 0));
    assert.equal(firstBad, -1, `the sweep's set-up is broken: c != x at x=${xs[firstBad]}`);
    const s = activationErrors(xs, a.sig, sigmoid);
    const th = activationErrors(xs, a.tanhH, Math.tanh);
    const tg = activationErrors(xs, a.tanhG, Math.tanh);
    t.diagnostic(`${version} sigmoid: max abs ${s.abs.toExponential(2)} (x=${s.absAt}), max rel ${s.rel.toExponential(2)} (x=${s.relAt})`);
    t.diagnostic(`${version} tanh: max abs ${th.abs.toExponential(2)} (x=${th.absAt}), max rel ${th.rel.toExponential(2)} (x=${th.relAt})`);
    assert.deepEqual(s.fails, [], `${version} sigmoid`);
    assert.deepEqual(th.fails, [], `${version} tanh (h path)`);
    assert.deepEqual(tg.fails, [], `${version} tanh (g gate)`);
    assert.ok(Math.max(s.abs, th.abs, tg.abs) <= ACT_ABS, `${version}: absolute error ${Math.max(s.abs, th.abs, tg.abs)} > ${ACT_ABS}`);
    assert.ok(Math.max(s.rel, th.rel, tg.rel) <= ACT_REL, `${version}: relative error above ${ACT_REL}`);
    // exact values where they exist
    const at = (x) => xs.indexOf(Math.fround(x));
    assert.equal(a.sig[at(0)], 0.5, `${version} sigmoid(0)`);
    assert.equal(a.sig[at(Infinity)], 1, `${version} sigmoid(+inf)`);
    assert.ok(a.sig[at(-Infinity)] >= 0 && a.sig[at(-Infinity)] <= TINY, `${version} sigmoid(-inf)`);
    assert.equal(a.tanhG[at(Infinity)], 1, `${version} tanh(+inf)`);
    assert.equal(a.tanhG[at(-Infinity)], -1, `${version} tanh(-inf)`);
    assert.equal(a.tanhG[at(1e30)], 1, `${version} tanh(1e30)`);
    assert.equal(a.tanhG[at(-1e30)], -1, `${version} tanh(-1e30)`);
    assert.equal(a.tanhG[at(1e-40)], Math.fround(1e-40), `${version} tanh(denormal) = denormal`);
    // tanh(-0) is -0 in the reference but +0 in SIMD ((p*z)*x + x with z = +0): equal as numbers, so not asserted
    assert.equal(a.tanhG[xs.indexOf(0)], 0, `${version} tanh(0)`);
  }
});

test('activations: NaN in gives NaN out in both versions', () => {
  for (const version of ['ref', 'simd']) {
    const a = activations(version, Float32Array.of(NaN, 1, NaN, -1));
    assert.ok(Number.isNaN(a.sig[0]) && Number.isNaN(a.tanhH[0]) && Number.isNaN(a.tanhG[2]), version);
    assert.ok(!Number.isNaN(a.sig[1]) && !Number.isNaN(a.tanhG[3]), version);
  }
});

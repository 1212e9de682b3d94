/* kernels_simd.c — wasm SIMD128 versions of the kernels in kernels.inc, with
 * the reference's signatures (kernels_ref.c). Loops run four lanes at a time
 * and end in a scalar tail; nothing reads past the end. No FMA exists in
 * SIMD128, and the GEMMs keep the reference's summation order (k ascending),
 * so they match it bit for bit; the cells differ only through exp/tanh. */
#ifdef LW_SIMD
#include <wasm_simd128.h>
#include "kernels.h"
#include "activation.h"

/* Slices of K of this many steps keep a slice of B in L2 and of A in L1
 * while every row block passes over them; C is reloaded per slice, which
 * keeps the order of the additions, so the results stay bit for bit. */
#define LW_GEMM_KC 256

/* C += A . B with A addressed as A[m*sam + k*sak] and K <= LW_GEMM_KC:
 * gemm_nn and gemm_tn share this body. Blocks of 4 rows x 8 columns keep 8
 * accumulators in registers. */
static inline __attribute__((always_inline)) void gemm_core(int M, int N, int K, const float *A, int sam, int sak, const float *B, int ldb,
                             float *C, int ldc) {
  float panel[4 * LW_GEMM_KC];
  int m = 0;
  for (; m + 4 <= M; m += 4) {
    const float *a0 = A + (size_t)m * sam, *a1 = a0 + sam, *a2 = a1 + sam, *a3 = a2 + sam;
    /* The block's 4 rows of A, k after k, copied into a panel that stays in
     * L1 across all the column blocks and is read through one pointer.
     * Where A^T is read (gemm_tn, rows lda apart) this matters most: with lda
     * a power of two, as 4H often is, every k falls in the same few cache
     * sets and comes from L2 each time (weight gradients ran 2-3x slower). */
    if (sam == 1) /* A^T: the 4 values of each k lie side by side */
      for (int k = 0; k < K; k++) wasm_v128_store(panel + 4 * k, wasm_v128_load(a0 + (size_t)k * sak));
    else
      for (int k = 0; k < K; k++) {
        const size_t ka = (size_t)k * sak;
        panel[4 * k] = a0[ka], panel[4 * k + 1] = a1[ka], panel[4 * k + 2] = a2[ka], panel[4 * k + 3] = a3[ka];
      }
    a0 = panel, a1 = panel + 1, a2 = panel + 2, a3 = panel + 3;
    const size_t sk = 4;
    float *c0 = C + (size_t)m * ldc, *c1 = c0 + ldc, *c2 = c1 + ldc, *c3 = c2 + ldc;
    int n = 0;
    for (; n + 8 <= N; n += 8) {
      v128_t x00 = wasm_v128_load(c0 + n), x01 = wasm_v128_load(c0 + n + 4);
      v128_t x10 = wasm_v128_load(c1 + n), x11 = wasm_v128_load(c1 + n + 4);
      v128_t x20 = wasm_v128_load(c2 + n), x21 = wasm_v128_load(c2 + n + 4);
      v128_t x30 = wasm_v128_load(c3 + n), x31 = wasm_v128_load(c3 + n + 4);
      const float *b = B + n, *a = panel;
      for (int k = 0; k < K; k++, a += 4, b += ldb) {
        v128_t b0 = wasm_v128_load(b), b1 = wasm_v128_load(b + 4);
        v128_t s0 = wasm_v128_load32_splat(a), s1 = wasm_v128_load32_splat(a + 1);
        v128_t s2 = wasm_v128_load32_splat(a + 2), s3 = wasm_v128_load32_splat(a + 3);
        x00 = wasm_f32x4_add(x00, wasm_f32x4_mul(s0, b0)), x01 = wasm_f32x4_add(x01, wasm_f32x4_mul(s0, b1));
        x10 = wasm_f32x4_add(x10, wasm_f32x4_mul(s1, b0)), x11 = wasm_f32x4_add(x11, wasm_f32x4_mul(s1, b1));
        x20 = wasm_f32x4_add(x20, wasm_f32x4_mul(s2, b0)), x21 = wasm_f32x4_add(x21, wasm_f32x4_mul(s2, b1));
        x30 = wasm_f32x4_add(x30, wasm_f32x4_mul(s3, b0)), x31 = wasm_f32x4_add(x31, wasm_f32x4_mul(s3, b1));
      }
      wasm_v128_store(c0 + n, x00), wasm_v128_store(c0 + n + 4, x01);
      wasm_v128_store(c1 + n, x10), wasm_v128_store(c1 + n + 4, x11);
      wasm_v128_store(c2 + n, x20), wasm_v128_store(c2 + n + 4, x21);
      wasm_v128_store(c3 + n, x30), wasm_v128_store(c3 + n + 4, x31);
    }
    for (; n + 4 <= N; n += 4) {
      v128_t x0 = wasm_v128_load(c0 + n), x1 = wasm_v128_load(c1 + n);
      v128_t x2 = wasm_v128_load(c2 + n), x3 = wasm_v128_load(c3 + n);
      const float *b = B + n;
      for (int k = 0; k < K; k++, b += ldb) {
        v128_t b0 = wasm_v128_load(b);
        size_t ka = (size_t)k * sk;
        x0 = wasm_f32x4_add(x0, wasm_f32x4_mul(wasm_f32x4_splat(a0[ka]), b0));
        x1 = wasm_f32x4_add(x1, wasm_f32x4_mul(wasm_f32x4_splat(a1[ka]), b0));
        x2 = wasm_f32x4_add(x2, wasm_f32x4_mul(wasm_f32x4_splat(a2[ka]), b0));
        x3 = wasm_f32x4_add(x3, wasm_f32x4_mul(wasm_f32x4_splat(a3[ka]), b0));
      }
      wasm_v128_store(c0 + n, x0), wasm_v128_store(c1 + n, x1);
      wasm_v128_store(c2 + n, x2), wasm_v128_store(c3 + n, x3);
    }
    for (; n < N; n++) /* column tail */
      for (int k = 0; k < K; k++) {
        const float b = B[(size_t)k * ldb + n];
        size_t ka = (size_t)k * sk;
        c0[n] += a0[ka] * b, c1[n] += a1[ka] * b, c2[n] += a2[ka] * b, c3[n] += a3[ka] * b;
      }
  }
  for (; m < M; m++) { /* row tail, and M = 1 (streaming): 16 columns at a time */
    const float *a = A + (size_t)m * sam;
    float *c = C + (size_t)m * ldc;
    int n = 0;
    for (; n + 16 <= N; n += 16) {
      v128_t x0 = wasm_v128_load(c + n), x1 = wasm_v128_load(c + n + 4);
      v128_t x2 = wasm_v128_load(c + n + 8), x3 = wasm_v128_load(c + n + 12);
      const float *b = B + n;
      for (int k = 0; k < K; k++, b += ldb) {
        v128_t s = wasm_f32x4_splat(a[(size_t)k * sak]);
        x0 = wasm_f32x4_add(x0, wasm_f32x4_mul(s, wasm_v128_load(b)));
        x1 = wasm_f32x4_add(x1, wasm_f32x4_mul(s, wasm_v128_load(b + 4)));
        x2 = wasm_f32x4_add(x2, wasm_f32x4_mul(s, wasm_v128_load(b + 8)));
        x3 = wasm_f32x4_add(x3, wasm_f32x4_mul(s, wasm_v128_load(b + 12)));
      }
      wasm_v128_store(c + n, x0), wasm_v128_store(c + n + 4, x1);
      wasm_v128_store(c + n + 8, x2), wasm_v128_store(c + n + 12, x3);
    }
    for (; n + 4 <= N; n += 4) {
      v128_t x = wasm_v128_load(c + n);
      for (int k = 0; k < K; k++)
        x = wasm_f32x4_add(x, wasm_f32x4_mul(wasm_f32x4_splat(a[(size_t)k * sak]), wasm_v128_load(B + (size_t)k * ldb + n)));
      wasm_v128_store(c + n, x);
    }
    for (; n < N; n++)
      for (int k = 0; k < K; k++) c[n] += a[(size_t)k * sak] * B[(size_t)k * ldb + n];
  }
}

void lw_gemm_nn_simd(int M, int N, int K, const float *A, int lda, const float *B, int ldb, float *C, int ldc) {
  for (int k0 = 0; k0 < K; k0 += LW_GEMM_KC)
    gemm_core(M, N, K - k0 < LW_GEMM_KC ? K - k0 : LW_GEMM_KC, A + k0, lda, 1, B + (size_t)k0 * ldb, ldb, C, ldc);
}

void lw_gemm_tn_simd(int M, int N, int K, const float *A, int lda, const float *B, int ldb, float *C, int ldc) {
  for (int k0 = 0; k0 < K; k0 += LW_GEMM_KC)
    gemm_core(M, N, K - k0 < LW_GEMM_KC ? K - k0 : LW_GEMM_KC, A + (size_t)k0 * lda, 1, lda, B + (size_t)k0 * ldb, ldb, C, ldc);
}

/* The constants of the activations below, four lanes each, read from memory
 * at each use (one load). Written as v128.const, V8 builds each one at every
 * use from an immediate in three instructions; as one float and a
 * load32_splat, in two (the cell ran 15 % slower). Not const, so that the
 * compiler cannot turn them back into v128.const. */
#define LANES4(v) {v, v, v, v}
struct lw_simd_constants {
  float one[4], two[4], neg_zero[4], exp_lo[4], exp_hi[4], log2e[4], magic[4], ln2_hi[4], ln2_lo[4], exp_p[6][4];
  int exp_bias[4];
  float tanh_p[5][4], tanh_small[4], tanh_clamp[4];
} lw_simd_k = {
  .one = LANES4(1.0f), .two = LANES4(2.0f), .neg_zero = LANES4(-0.0f), .exp_lo = LANES4(-87.3f), .exp_hi = LANES4(88.3f),
  .log2e = LANES4(1.44269504088896341f), .magic = LANES4(12582912.0f), /* 1.5 * 2^23, bits 0x4B400000 */
  .ln2_hi = LANES4(0.693359375f), .ln2_lo = LANES4(-2.12194440e-4f),
  .exp_p = {LANES4(1.9875691500e-4f), LANES4(1.3981999507e-3f), LANES4(8.3334519073e-3f), LANES4(4.1665795894e-2f),
            LANES4(1.6666665459e-1f), LANES4(5.0000001201e-1f)},
  .exp_bias = LANES4(127 - 0x4B400000),
  .tanh_p = {LANES4(-5.70498872745e-3f), LANES4(2.06390887954e-2f), LANES4(-5.37397155531e-2f), LANES4(1.33314422036e-1f),
             LANES4(-3.33332819422e-1f)},
  .tanh_small = LANES4(0.625f), .tanh_clamp = LANES4(44.0f),
};
#define K(name) wasm_v128_load(lw_simd_k.name)

/* e^x for four lanes: Cephes expf. n = round(x log2 e), r = x - n ln 2 in two
 * parts, e^r by a degree-5 polynomial, 2^n through the exponent bits. x is
 * clamped to [-87.3, 88.3] so 2^n stays a normal float; pmin/pmax keep a NaN
 * and are one instruction each, where V8 turns f32x4.min/max into seven or
 * eight. n is rounded by adding 1.5 * 2^23, which leaves it in the low
 * mantissa bits (round to nearest even, as f32x4.nearest): cheaper than
 * nearest and trunc_sat, which V8 expands into several instructions each.
 * Measured (tests/kernels.test.js, against Math.exp in double over [-90, 90]):
 * through sigmoid4, at most 1.46e-7 relative and 8.9e-8 absolute error. */
static inline v128_t exp4(v128_t x) {
  x = wasm_f32x4_pmin(wasm_f32x4_pmax(x, K(exp_lo)), K(exp_hi));
  v128_t t = wasm_f32x4_add(wasm_f32x4_mul(x, K(log2e)), K(magic));
  v128_t n = wasm_f32x4_sub(t, K(magic));
  v128_t r = wasm_f32x4_sub(x, wasm_f32x4_mul(n, K(ln2_hi)));
  r = wasm_f32x4_sub(r, wasm_f32x4_mul(n, K(ln2_lo)));
  v128_t p = K(exp_p[0]);
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), K(exp_p[1]));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), K(exp_p[2]));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), K(exp_p[3]));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), K(exp_p[4]));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), K(exp_p[5]));
  p = wasm_f32x4_add(wasm_f32x4_add(wasm_f32x4_mul(wasm_f32x4_mul(p, r), r), r), K(one));
  /* the bits of t are 0x4B400000 + n: 2^n = (n + 127) << 23 */
  v128_t e = wasm_i32x4_shl(wasm_i32x4_add(t, K(exp_bias)), 23);
  return wasm_f32x4_mul(p, e);
}

static inline v128_t sigmoid4(v128_t x) {
  return wasm_f32x4_div(K(one), wasm_f32x4_add(K(one), exp4(wasm_f32x4_neg(x))));
}

/* tanh: Cephes' odd polynomial below |x| = 0.625 (no cancellation near 0),
 * 1 - 2/(e^{2|x|} + 1) with the sign restored above it. Measured
 * (tests/kernels.test.js): at most 1.27e-7 relative, 7.4e-8 absolute error. */
static inline v128_t tanh4(v128_t x) {
  v128_t ax = wasm_f32x4_abs(x), z = wasm_f32x4_mul(x, x);
  v128_t p = K(tanh_p[0]);
  p = wasm_f32x4_add(wasm_f32x4_mul(p, z), K(tanh_p[1]));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, z), K(tanh_p[2]));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, z), K(tanh_p[3]));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, z), K(tanh_p[4]));
  v128_t small = wasm_f32x4_add(wasm_f32x4_mul(wasm_f32x4_mul(p, z), x), x);
  v128_t e = exp4(wasm_f32x4_mul(K(two), wasm_f32x4_pmin(ax, K(tanh_clamp))));
  v128_t big = wasm_f32x4_sub(K(one), wasm_f32x4_div(K(two), wasm_f32x4_add(e, K(one))));
  big = wasm_v128_or(big, wasm_v128_and(x, K(neg_zero))); /* copy the sign of x */
  return wasm_v128_bitselect(small, big, wasm_f32x4_lt(ax, K(tanh_small)));
}

/* Two passes per row: the gates and c, then h = o tanh(c). Each exp is a long
 * chain of dependent operations; in one pass tanh(c) waits for c and the
 * next four units wait behind it, while in a pass of its own every tanh(c)
 * is independent of the others and the processor overlaps them (about 1.4x
 * faster at H = 32, batch 1). The operations are the same, so are the bits. */
void lw_lstm_cell_fwd_simd(int n, int H, float *gates, const float *c_prev, float *c, float *h) {
  const int H4 = H & ~3;
  for (int r = 0; r < n; r++) {
    float *gi = gates + (size_t)r * 4 * H, *gf = gi + H, *gg = gi + 2 * H, *go = gi + 3 * H;
    const float *cp = c_prev + (size_t)r * H;
    float *cr = c + (size_t)r * H, *hr = h + (size_t)r * H;
    for (int j = 0; j < H4; j += 4) {
      v128_t i = sigmoid4(wasm_v128_load(gi + j)), f = sigmoid4(wasm_v128_load(gf + j));
      v128_t g = tanh4(wasm_v128_load(gg + j)), o = sigmoid4(wasm_v128_load(go + j));
      wasm_v128_store(gi + j, i), wasm_v128_store(gf + j, f), wasm_v128_store(gg + j, g), wasm_v128_store(go + j, o);
      wasm_v128_store(cr + j, wasm_f32x4_add(wasm_f32x4_mul(f, wasm_v128_load(cp + j)), wasm_f32x4_mul(i, g)));
    }
    for (int j = 0; j < H4; j += 4)
      wasm_v128_store(hr + j, wasm_f32x4_mul(wasm_v128_load(go + j), tanh4(wasm_v128_load(cr + j))));
    if (H4 < H) /* tail: the reference on the remaining lanes of this row */
      for (int j = H4; j < H; j++) lw_lstm_unit_fwd(gi, gf, gg, go, cp, cr, hr, j);
  }
}

void lw_lstm_cell_bwd_simd(int n, int H, const float *gates, const float *c_prev, const float *c, const float *dh,
                           float *dc, float *dgates) {
  const int H4 = H & ~3;
  const v128_t one = K(one);
  for (int r = 0; r < n; r++) {
    const float *gi = gates + (size_t)r * 4 * H, *gf = gi + H, *gg = gi + 2 * H, *go = gi + 3 * H;
    float *di = dgates + (size_t)r * 4 * H, *df = di + H, *dg = di + 2 * H, *dout = di + 3 * H;
    const float *cp = c_prev + (size_t)r * H, *cr = c + (size_t)r * H, *dhr = dh + (size_t)r * H;
    float *dcr = dc + (size_t)r * H;
    for (int j = 0; j < H4; j += 4) {
      v128_t i = wasm_v128_load(gi + j), f = wasm_v128_load(gf + j), g = wasm_v128_load(gg + j);
      v128_t o = wasm_v128_load(go + j), d = wasm_v128_load(dhr + j);
      v128_t tc = tanh4(wasm_v128_load(cr + j));
      v128_t dct = wasm_f32x4_add(wasm_v128_load(dcr + j),
                                  wasm_f32x4_mul(wasm_f32x4_mul(d, o), wasm_f32x4_sub(one, wasm_f32x4_mul(tc, tc))));
      wasm_v128_store(di + j, wasm_f32x4_mul(wasm_f32x4_mul(wasm_f32x4_mul(dct, g), i), wasm_f32x4_sub(one, i)));
      wasm_v128_store(df + j, wasm_f32x4_mul(wasm_f32x4_mul(wasm_f32x4_mul(dct, wasm_v128_load(cp + j)), f),
                                             wasm_f32x4_sub(one, f)));
      wasm_v128_store(dg + j, wasm_f32x4_mul(wasm_f32x4_mul(dct, i), wasm_f32x4_sub(one, wasm_f32x4_mul(g, g))));
      wasm_v128_store(dout + j, wasm_f32x4_mul(wasm_f32x4_mul(wasm_f32x4_mul(d, tc), o), wasm_f32x4_sub(one, o)));
      wasm_v128_store(dcr + j, wasm_f32x4_mul(dct, f));
    }
    for (int j = H4; j < H; j++) /* tail: the reference on the remaining lanes of this row */
      lw_lstm_unit_bwd(gi, gf, gg, go, cp, cr, dhr, dcr, di, df, dg, dout, j);
  }
}
#endif

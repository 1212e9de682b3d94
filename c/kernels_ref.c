/* kernels_ref.c — the plain C reference of every kernel in kernels.inc: the
 * specification the SIMD versions (kernels_simd.c) are tested against, and
 * the whole engine in the scalar and double builds. Plainest correct loops,
 * fixed summation order. */
#include "kernels.h"
#include "activation.h"

void lw_gemm_nn_ref(int M, int N, int K, const lw_real *A, int lda, const lw_real *B, int ldb,
                    lw_real *C, int ldc) {
  for (int m = 0; m < M; m++)
    for (int k = 0; k < K; k++) {
      lw_real a = A[(size_t)m * lda + k];
      const lw_real *b = B + (size_t)k * ldb;
      lw_real *c = C + (size_t)m * ldc;
      for (int n = 0; n < N; n++) c[n] += a * b[n];
    }
}

void lw_gemm_tn_ref(int M, int N, int K, const lw_real *A, int lda, const lw_real *B, int ldb,
                    lw_real *C, int ldc) {
  for (int k = 0; k < K; k++) {
    const lw_real *b = B + (size_t)k * ldb;
    for (int m = 0; m < M; m++) {
      lw_real a = A[(size_t)k * lda + m];
      if (a == 0) continue; /* rows past a sequence's end are zero */
      lw_real *c = C + (size_t)m * ldc;
      for (int n = 0; n < N; n++) c[n] += a * b[n];
    }
  }
}

void lw_lstm_cell_fwd_ref(int n, int H, lw_real *gates, const lw_real *c_prev, lw_real *c, lw_real *h) {
  for (int r = 0; r < n; r++) {
    lw_real *gi = gates + (size_t)r * 4 * H, *gf = gi + H, *gg = gi + 2 * H, *go = gi + 3 * H;
    const lw_real *cp = c_prev + (size_t)r * H;
    lw_real *cr = c + (size_t)r * H, *hr = h + (size_t)r * H;
    for (int j = 0; j < H; j++) lw_lstm_unit_fwd(gi, gf, gg, go, cp, cr, hr, j);
  }
}

void lw_lstm_cell_bwd_ref(int n, int H, const lw_real *gates, const lw_real *c_prev, const lw_real *c,
                          const lw_real *dh, lw_real *dc, lw_real *dgates) {
  for (int r = 0; r < n; r++) {
    const lw_real *gi = gates + (size_t)r * 4 * H, *gf = gi + H, *gg = gi + 2 * H, *go = gi + 3 * H;
    lw_real *di = dgates + (size_t)r * 4 * H, *df = di + H, *dg = di + 2 * H, *dout = di + 3 * H;
    const lw_real *cp = c_prev + (size_t)r * H, *cr = c + (size_t)r * H, *dhr = dh + (size_t)r * H;
    lw_real *dcr = dc + (size_t)r * H;
    for (int j = 0; j < H; j++) lw_lstm_unit_bwd(gi, gf, gg, go, cp, cr, dhr, dcr, di, df, dg, dout, j);
  }
}

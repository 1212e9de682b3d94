/* driver.c — exercises the engine natively under AddressSanitizer and
 * UndefinedBehaviorSanitizer (tests/native.test.js builds and runs it): the
 * SIMD kernels (through SIMDe) against the reference at awkward sizes, then
 * random models through the exports of c/api.c — ragged, stacked,
 * bidirectional, every loss and optimizer, bad arguments. Any out-of-bounds
 * access or undefined behaviour stops it with a report; exit 0 means clean. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../../c/lw.h"      /* the exports, as JS calls them */
#include "../../c/kernels.h" /* the kernels, to compare SIMD with the reference */

static uint32_t state = 12345;
static uint32_t next(void) { return state = state * 1664525u + 1013904223u; }
static int rnd(int lo, int hi) { return lo + (int)(next() >> 8) % (hi - lo + 1); }
static lw_real unif(void) { return (lw_real)(next() >> 8) / 16777216.0f * 2 - 1; }

/* exact-size heap blocks, so ASan sees any access past the end */
static lw_real *reals(size_t n) {
  lw_real *p = malloc((n ? n : 1) * sizeof *p);
  for (size_t i = 0; i < n; i++) p[i] = unif();
  return p;
}

#ifdef LW_SIMD
static int kernels(void) {
  int bad = 0;
  for (int trial = 0; trial < 300; trial++) {
    int M = rnd(0, 13), N = rnd(0, 21), K = rnd(0, 11), pad = rnd(0, 3);
    int lda = K + pad, ldb = N + pad, ldc = N + pad, ldat = M + pad;
    lw_real *A = reals((size_t)M * lda), *At = reals((size_t)K * ldat), *B = reals((size_t)K * ldb);
    lw_real *C1 = reals((size_t)M * ldc), *C2 = malloc(((size_t)M * ldc + 1) * sizeof(lw_real));
    memcpy(C2, C1, (size_t)M * ldc * sizeof(lw_real));
    lw_gemm_nn_ref(M, N, K, A, lda, B, ldb, C1, ldc);
    lw_gemm_nn_simd(M, N, K, A, lda, B, ldb, C2, ldc);
    bad += memcmp(C1, C2, (size_t)M * ldc * sizeof(lw_real)) != 0;
    lw_gemm_tn_ref(M, N, K, At, ldat, B, ldb, C1, ldc);
    lw_gemm_tn_simd(M, N, K, At, ldat, B, ldb, C2, ldc);
    for (size_t i = 0; i < (size_t)M * ldc; i++) bad += fabsf(C1[i] - C2[i]) > 1e-6f * (1 + fabsf(C1[i]));
    free(A), free(At), free(B), free(C1), free(C2);

    int n = rnd(0, 5), H = rnd(1, 19);
    lw_real *g1 = reals((size_t)n * 4 * H), *g2 = malloc(((size_t)n * 4 * H + 1) * sizeof(lw_real));
    memcpy(g2, g1, (size_t)n * 4 * H * sizeof(lw_real));
    lw_real *cp = reals((size_t)n * H), *c1 = reals((size_t)n * H), *c2 = reals((size_t)n * H);
    lw_real *h1 = reals((size_t)n * H), *h2 = reals((size_t)n * H);
    lw_lstm_cell_fwd_ref(n, H, g1, cp, c1, h1);
    lw_lstm_cell_fwd_simd(n, H, g2, cp, c2, h2);
    for (size_t i = 0; i < (size_t)n * H; i++) bad += fabsf(h1[i] - h2[i]) > 1e-6f;
    lw_real *dh = reals((size_t)n * H), *dc1 = reals((size_t)n * H), *dc2 = malloc(((size_t)n * H + 1) * sizeof(lw_real));
    memcpy(dc2, dc1, (size_t)n * H * sizeof(lw_real));
    lw_real *dg1 = reals((size_t)n * 4 * H), *dg2 = reals((size_t)n * 4 * H);
    lw_lstm_cell_bwd_ref(n, H, g1, cp, c1, dh, dc1, dg1);
    lw_lstm_cell_bwd_simd(n, H, g1, cp, c1, dh, dc2, dg2);
    for (size_t i = 0; i < (size_t)n * 4 * H; i++) bad += fabsf(dg1[i] - dg2[i]) > 1e-5f;
    free(g1), free(g2), free(cp), free(c1), free(c2), free(h1), free(h2), free(dh), free(dc1), free(dc2), free(dg1), free(dg2);
  }
  return bad;
}
#else
static int kernels(void) { return 0; } /* reference build: nothing to compare */
#endif

static int models(void) {
  int failures = 0;
  for (int trial = 0; trial < 60; trial++) {
    int L = rnd(1, 3), D = rnd(0, 1), I = rnd(1, 5), O = rnd(1, 4), rs = rnd(0, 1), loss = rnd(0, 4);
    int cell = rnd(0, 3), gates = cell == LW_CELL_LSTM && trial % 2 ? (int)(next() % (LW_GATE_ALL + 1)) : 0;
    if (gates & LW_GATE_COUPLED) gates &= ~(LW_GATE_NO_INPUT | LW_GATE_NO_FORGET);
    gates &= ~LW_GATE_DEPTH;
    /* every fifth LSTM a depth-gated stack: 2 layers or more of one size, peepholes or the coupled gate at most */
    const int depth = cell == LW_CELL_LSTM && trial % 5 == 0;
    if (depth) gates = LW_GATE_DEPTH | (gates & (LW_GATE_PEEPHOLES | LW_GATE_COUPLED)), L = rnd(2, 3);
    const int g = cell == LW_CELL_CLOCKWORK ? rnd(1, 3) : 0; /* the Clockwork's modules: periods 1, 3, 5 */
    if (g) D = 0;                                            /* forward only */
    int32_t cfg[LW_CONFIG_HIDDEN + 3 + 3] = {I, O, L, D, cell, rs, loss, trial, gates};
    for (int l = 0; l < L; l++) cfg[LW_CONFIG_HIDDEN + l] = g ? g * rnd(1, 3) : depth && l ? cfg[LW_CONFIG_HIDDEN] : rnd(1, 9);
    for (int i = 0; i < g; i++) cfg[LW_CONFIG_HIDDEN + L + i] = 2 * i + 1;
    lw_model *m;
    if (lw_model_create(cfg, LW_CONFIG_HIDDEN + L + g, 1.0f, trial % 3 ? 0.0f : 0.3f, &m)) return fprintf(stderr, "create failed\n"), 1;
    lw_real hyper[LW_HYPER_COUNT] = {0.01f, 0.9f, 0.999f, 1e-8f, 0.5f, (lw_real)(trial & 1), 0.001f, 1.0f, 0.5f};
    lw_model_set_optimizer(m, trial % 4, hyper, LW_HYPER_COUNT);
    for (int step = 0; step < 3; step++) {
      int B = rnd(1, 6), T = rnd(1, 7);
      int32_t *len = malloc(B * sizeof *len);
      for (int b = 0; b < B; b++) len[b] = rnd(1, T);
      lw_real *x = reals((size_t)B * T * I), *y = reals((size_t)B * (rs ? T : 1) * O);
      if (trial % 3 == 1) /* mostly zeros: the sparse input path (layer.c, stream.c) */
        for (size_t i = 0; i < (size_t)B * T * I; i++) x[i] = i % 11 ? 0 : x[i];
      for (size_t i = 0; i < (size_t)B * (rs ? T : 1) * O; i++) y[i] = y[i] > 0; /* valid for every loss */
      lw_real l, *out = reals((size_t)B * T * O);
      size_t ns = 0;
      for (int k = 0; k < L; k++) ns += (size_t)(D + 1) * B * cfg[LW_CONFIG_HIDDEN + k];
      lw_real *h0 = reals(ns), *c0 = reals(ns), *hn = reals(ns), *cn = reals(ns);
      failures += lw_model_train_batch(m, x, y, len, B, T, 0.01, &l, step == 1 ? h0 : NULL, step == 1 ? c0 : NULL, hn, step == 2 ? cn : NULL) != 0;
      failures += lw_model_predict(m, x, len, B, T, step & 1, out, y, &l) != 0;
      int F = (D + 1) * cfg[LW_CONFIG_HIDDEN + L - 1];
      lw_real *y2 = reals((size_t)B * T * F);
      lw_real *dx = reals((size_t)B * T * I), *dh0 = reals(ns), *dc0 = reals(ns);
      failures += lw_model_forward(m, x, len, B, T, step & 1, step ? h0 : NULL, c0, y2, hn, cn) != 0;
      failures += lw_model_backward(m, y2, step ? hn : NULL, cn, dx, dh0, dc0) != 0;
      /* the workspace starts as NaN (LW_POISON): anything read before written would show here */
      for (size_t i = 0; i < (size_t)B * T * F; i++) failures += !isfinite(y2[i]);
      for (size_t i = 0; i < (size_t)B * T * I; i++) failures += !isfinite(dx[i]);
      for (size_t i = 0; i < ns; i++) failures += !isfinite(dh0[i]) + !isfinite(dc0[i]) + !isfinite(hn[i]) + !isfinite(cn[i]);
      for (size_t i = 0; i < (size_t)B * (rs ? T : 1) * O; i++) failures += !isfinite(out[i]);
      /* the first sequence step by step through a stream */
      if (!D) {
        lw_stream *st;
        if (lw_stream_create(m, &st)) return fprintf(stderr, "stream failed\n"), 1;
        for (int t = 0; t < len[0]; t++) {
          memcpy(lw_stream_input(st), x + (size_t)t * I, I * sizeof(lw_real));
          failures += lw_stream_step(st, step & 1) != 0;
          for (int k = 0; k < (O ? O : 1); k++) failures += !isfinite(lw_stream_output(st)[k]);
        }
        lw_real *in = lw_stream_input(st);
        in[0] = NAN; /* refused, and the stream stays usable */
        failures += lw_stream_step(st, 0) != LW_STATUS_NOT_FINITE;
        failures += lw_stream_reset(st) != 0 || lw_stream_step(NULL, 0) == 0 || lw_stream_input(NULL) != NULL;
        lw_stream_free(st);
      }
      /* the same batch staged once and trained on by rows, from step 1 on */
      int32_t *rows = malloc(B * sizeof *rows), *len1 = malloc(B * sizeof *len1);
      int T1 = 0;
      for (int b = 0; b < B; b++) rows[b] = B - 1 - b, len1[b] = len[B - 1 - b] > 1 ? len[B - 1 - b] - 1 : 1;
      for (int b = 0; b < B; b++) T1 = len1[b] > T1 ? len1[b] : T1;
      failures += lw_model_set_data(m, x, y, B, T) != 0;
      if (T > 1) failures += lw_model_train_rows(m, rows, len1, B, T1, 1, 0.01, &l, NULL, NULL, NULL, NULL) != 0;
      failures += lw_model_train_rows(m, rows, len1, B, T1, T, 0.01, &l, NULL, NULL, NULL, NULL) == 0; /* past the end */
      /* gradients apart from the update, with every state in and out */
      double sum_count[2];
      lw_real *dhn = reals(ns), *dcn = reals(ns);
      failures += lw_model_grad_rows(m, rows, len1, B, T1, 0, trial & 1 ? LW_FLAG_TRAINING : 0, step ? 3.0 : -1, h0, c0,
                                     dhn, dcn, hn, cn, dh0, dc0, sum_count) != 0;
      for (size_t i = 0; i < ns; i++) failures += !isfinite(dh0[i]) + !isfinite(dc0[i]) + !isfinite(hn[i]) + !isfinite(cn[i]);
      free(dhn), free(dcn);
      failures += !(sum_count[1] > 0) || !isfinite(sum_count[0]);
      failures += lw_model_update(m, 0.01, step == 2 ? -1 : sqrt(lw_model_grad_sumsq(m))) != 0;
      failures += lw_model_update(m, 0.01, NAN) != LW_STATUS_NOT_FINITE;
      lw_model_set_data(m, NULL, NULL, 0, 0);
      free(rows), free(len1);
      /* bad arguments return a status and touch nothing */
      failures += lw_model_train_batch(m, x, y, len, 0, T, 0.01, &l, NULL, NULL, NULL, NULL) == 0;
      failures += lw_model_backward(m, y2, NULL, NULL, dx, dh0, dc0) == 0; /* no forward any more */
      free(len), free(x), free(y), free(out), free(h0), free(c0), free(hn), free(cn), free(y2), free(dx), free(dh0), free(dc0);
    }
    lw_model_free(m);
  }
  return failures;
}

/* Sizes whose products pass 2^32 (a 32-bit size_t wraps, as in wasm): each
 * must be refused with LW_STATUS_NO_MEMORY before anything is allocated. */
static int sizes(void) {
  int failures = 0;
  lw_model *m;
  int32_t big[LW_CONFIG_HIDDEN + 1] = {1, 1, 1, 0, LW_CELL_LSTM, 0, 0, 1, 0, 32768};
  failures += lw_model_create(big, LW_CONFIG_HIDDEN + 1, 1.0f, 0.0f, &m) != LW_STATUS_NO_MEMORY || m != NULL;
  int32_t gru[LW_CONFIG_HIDDEN + 1] = {1, 1, 1, 1, LW_CELL_GRU, 0, 0, 1, 0, 46341};
  failures += lw_model_create(gru, LW_CONFIG_HIDDEN + 1, 1.0f, 0.0f, &m) != LW_STATUS_NO_MEMORY;
  /* 13 * 630 + 2 = 8192 reals per sample-step: 512 x 1024 steps need 2^32 */
  int32_t cfg[LW_CONFIG_HIDDEN + 1] = {1, 1, 1, 0, LW_CELL_LSTM, 0, 0, 1, 0, 630};
  if (lw_model_create(cfg, LW_CONFIG_HIDDEN + 1, 1.0f, 0.0f, &m)) return 1;
  const int B = 512, T = 1024;
  lw_real *x = calloc((size_t)B * T, sizeof *x), *y = calloc(B, sizeof *y), l;
  failures += lw_model_predict(m, x, NULL, B, T, 0, y, NULL, NULL) != LW_STATUS_NO_MEMORY;
  failures += lw_model_train_batch(m, x, y, NULL, B, T, 0.01, &l, NULL, NULL, NULL, NULL) != LW_STATUS_NO_MEMORY;
  failures += lw_model_predict(m, x, NULL, 1, 4, 0, y, NULL, NULL) != LW_STATUS_OK; /* still usable */
  free(x), free(y);
  lw_model_free(m);
  return failures;
}

int main(void) {
  int k = kernels(), m = models() + sizes();
  printf("kernel mismatches: %d, model call failures: %d\n", k, m);
  return k || m;
}

/* layer.c — one direction of one recurrent layer over all T steps, forward
 * and full backpropagation through time, for every cell (cells.c does the
 * gate maths). Sequences are sorted by length, longest first (model.c), so
 * the rows still running at step t are the prefix [0, bt[t]): PyTorch's
 * packed-sequence semantics with no per-row masks in the kernels.
 *
 * States live in T+1 slots of (B,H). Forward direction: slot 0 holds h0 and
 * step t writes slot t+1. Reverse direction: slot T holds h0 and step t
 * writes slot t. Rows that have ended carry their state unchanged, so the
 * final slot holds each sequence's state at its own last step, and the
 * reverse direction starts at each sequence's own end. */
#include <stddef.h>
#include <string.h>
#include "internal.h"
#include "kernels.h"

/* With full gate recurrence: how many of the block's rows [r, r+rows) have
 * gates at the step before (processing index k-1) to feed back. A reverse
 * direction starts each sequence at its own end, with nothing before. */
static int prev_rows(const lw_batch *b, const lw_dir *d, int reverse, int k, int t, int r, int rows) {
  if (!d->w_gate || k == 0) return 0;
  const int valid = reverse ? b->running[t + 1] : rows + r;
  return valid - r < rows ? valid - r : rows;
}

/* Whether n values are sparse enough; stops counting once they are not. */
int lw_sparse(const real *a, size_t n) {
  size_t nonzeros = 0, limit = n / LW_SPARSE;
  for (size_t q = 0; q < n; q++)
    if (a[q] != 0 && ++nonzeros > limit) return 0;
  return 1;
}

/* C(M,N) += X(M,K) . B(K,N) for a sparse X: each row of C adds the rows of B
 * its nonzeros name. Ascending k, as the GEMMs add, so the same bits (a zero
 * term adds nothing). */
void lw_gemm_sparse_nn(int M, int N, int K, const real *X, const real *B, int ldb, real *C) {
  for (int r = 0; r < M; r++) {
    const real *x = X + (size_t)r * K;
    real *restrict c = C + (size_t)r * N;
    for (int k = 0; k < K; k++) {
      if (x[k] == 0) continue;
      const real v = x[k], *restrict b = B + (size_t)k * ldb;
      for (int j = 0; j < N; j++) c[j] += v * b[j];
    }
  }
}

/* C(M,N) += A(K,M)^T . X(K,N) for a sparse X, in gemm_tn's order (ascending k). */
static void gemm_sparse_tn(int M, int N, int K, const real *A, int lda, const real *X, real *C) {
  for (int k = 0; k < K; k++) {
    const real *x = X + (size_t)k * N, *a = A + (size_t)k * lda;
    for (int n = 0; n < N; n++) {
      if (x[n] == 0) continue;
      const real v = x[n];
      for (int q = 0; q < M; q++) C[(size_t)q * N + n] += a[q] * v;
    }
  }
}

void lw_layer_forward(const lw_batch *b, lw_dir *d, int reverse, const real *x, real *y, int ystride, int yoff,
                      lw_scratch *s) {
  const int B = b->B, T = b->T, H = d->H, G = d->G, in = d->in, split = d->ops->split_recurrent;
  const size_t BH = (size_t)B * H;
  /* Input projection of every step at once: gates = x . W_ih^T + b_ih + b_hh
   * (the GRU keeps b_hh inside its recurrent term, where r multiplies it) */
  for (size_t r = 0; r < (size_t)T * B; r++) {
    real *g = d->gates + r * G;
    for (int j = 0; j < G; j++) g[j] = d->b_ih[j] + (split ? 0 : d->b_hh[j]);
  }
  if (d->sparse_in) lw_gemm_sparse_nn(T * B, G, in, x, d->w_ihT, d->ld_T, d->gates);
  else lw_gemm_nn(T * B, G, in, x, in, d->w_ihT, d->ld_T, d->gates, G);
  if (d->w_depth) { /* the depth gate's input term, every step at once: depth = x . W_d^T + b_d */
    for (size_t r = 0; r < (size_t)T * B; r++) memcpy(d->depth + r * H, d->b_depth, H * sizeof(real));
    if (d->sparse_in) lw_gemm_sparse_nn(T * B, H, in, x, d->w_depthT, d->ld_D, d->depth);
    else lw_gemm_nn(T * B, H, in, x, in, d->w_depthT, d->ld_D, d->depth, H);
  }

  for (int k = 0; k < T; k++) {
    const int t = reverse ? T - 1 - k : k;
    const int prev = reverse ? t + 1 : t, cur = reverse ? t : t + 1;
    const int n = b->running[t];
    real *g = d->gates + (size_t)t * B * G, *aux = split ? d->aux + (size_t)t * BH : NULL;
    real *h_prev = d->hs + prev * BH, *c_prev = d->cs + prev * BH;
    real *h = d->hs + cur * BH, *c = d->cs + cur * BH;
    /* gates += h(t-1) . W_hh^T, then the cell, a block of rows at a time so
     * each block's gates are still in cache for the cell */
    for (int r = 0; r < n; r += LW_ROWS_REC) {
      const int rows = n - r < LW_ROWS_REC ? n - r : LW_ROWS_REC;
      const size_t gr = (size_t)r * G, hr = (size_t)r * H;
      real *rec = g + gr;
      if (split) { /* the recurrent term apart: rec = h(t-1) . W_hh^T + b_hh */
        rec = s->rec;
        for (int q = 0; q < rows; q++) memcpy(rec + (size_t)q * G, d->b_hh, G * sizeof(real));
      }
      if (d->ops->recurrent) d->ops->recurrent(d, b->t0 + t, rows, h_prev + hr, rec);
      else lw_gemm_nn(rows, G, H, h_prev + hr, H, d->w_hhT, d->ld_T, rec, G);
      const int vr = prev_rows(b, d, reverse, k, t, r, rows);
      if (vr > 0) lw_gate_recurrence_forward(d, vr, g + gr - (reverse ? -1 : 1) * (ptrdiff_t)B * G, g + gr);
      /* the depth gate reads the layer below's c at the same step: the same slot of the same direction */
      const lw_depth_io dep = {d->w_depth ? d->depth + (size_t)t * BH + hr : NULL, d->w_depth ? d->below->cs + cur * BH + hr : NULL,
                               NULL, NULL};
      lw_cell_forward(d, b->t0 + t, rows, g + gr, rec, h_prev + hr, c_prev + hr, c + hr, h + hr, aux ? aux + hr : NULL,
                      d->w_depth ? &dep : NULL);
    }
    /* ended rows carry their state */
    memcpy(h + (size_t)n * H, h_prev + (size_t)n * H, (size_t)(B - n) * H * sizeof(real));
    memcpy(c + (size_t)n * H, c_prev + (size_t)n * H, (size_t)(B - n) * H * sizeof(real));
    real *yt = y + (size_t)t * B * ystride + yoff;
    for (int q = 0; q < B; q++) {
      if (q < n) memcpy(yt + (size_t)q * ystride, h + (size_t)q * H, H * sizeof(real));
      else memset(yt + (size_t)q * ystride, 0, H * sizeof(real));
    }
  }
}

/* dy: gradient of this layer's output (T,B,ystride), zero past each length.
 * dh, dc: (B,H) in as the gradients of the final states, out as those of the
 * initial states. dx (T,B,in) is accumulated into (+=). dc_above (T,B,H) or
 * NULL: dL/dc(t) from the depth gate of the layer above, added at each step;
 * dc_below (T,B,H): written with dL/dc of the layer below at each step
 * (zero past each length) when this layer has a depth gate. */
void lw_layer_backward(const lw_batch *b, lw_dir *d, int reverse, const real *x, const real *dy, int dystride, int dyoff,
                       real *dh, real *dc, real *dx, const real *dc_above, real *dc_below, lw_scratch *s) {
  const int B = b->B, T = b->T, H = d->H, G = d->G, in = d->in, split = d->ops->split_recurrent;
  const size_t BH = (size_t)B * H;
  real *dG = s->dgates;                /* (T,B,G) gradients of the input projection */
  real *dGH = split ? s->dgates_h : dG;  /* (T,B,G) and of the recurrent term (the same unless the cell keeps it apart) */
  real *dact = s->dact, *dact_next = s->dact_next; /* FGR: (B,3H) into this step's gates, into the one before */
  if (d->w_gate) memset(dact, 0, (size_t)B * 3 * H * sizeof(real));
  for (int k = T - 1; k >= 0; k--) {
    const int t = reverse ? T - 1 - k : k;
    const int prev = reverse ? t + 1 : t, cur = reverse ? t : t + 1;
    const int n = b->running[t];
    const real *dyt = dy + (size_t)t * B * dystride + dyoff;
    for (int q = 0; q < n; q++)
      for (int j = 0; j < H; j++) dh[(size_t)q * H + j] += dyt[(size_t)q * dystride + j];
    if (dc_above) /* c(t) also fed the depth gate of the layer above */
      for (size_t q = 0; q < (size_t)n * H; q++) dc[q] += dc_above[(size_t)t * BH + q];
    const size_t gt = (size_t)t * B * G;
    const real *aux = split ? d->aux + (size_t)t * BH : NULL;
    const real *hp = d->hs + prev * BH, *cp = d->cs + prev * BH, *ct = d->cs + cur * BH;
    /* the cell's backward, then dh(t-1) += dgates . W_hh, a block of rows at
     * a time; rows that have ended carry dh and dc unchanged */
    if (d->w_gate) memset(dact_next, 0, (size_t)B * 3 * H * sizeof(real)); /* all rows: the step before may run more */
    for (int r = 0; r < n; r += LW_ROWS_REC) {
      const int rows = n - r < LW_ROWS_REC ? n - r : LW_ROWS_REC;
      const size_t gr = gt + (size_t)r * G, hr = (size_t)r * H;
      const size_t dr = (size_t)t * BH + hr;
      const lw_depth_io dep = {d->w_depth ? d->depth + dr : NULL, d->w_depth ? d->below->cs + cur * BH + hr : NULL,
                               d->w_depth ? s->ddepth + dr : NULL, d->w_depth ? dc_below + dr : NULL};
      lw_cell_backward(d, b->t0 + t, rows, d->gates + gr, aux ? aux + hr : NULL, hp + hr, cp + hr, ct + hr,
                       d->w_gate ? dact + 3 * hr : NULL, dh + hr, dc + hr, dG + gr, dGH + gr, d->w_depth ? &dep : NULL);
      if (d->ops->recurrent_back) d->ops->recurrent_back(d, b->t0 + t, rows, dGH + gr, dh + hr);
      else lw_gemm_nn(rows, H, G, dGH + gr, G, d->w_hhP, d->ld_H, dh + hr, H);
      const int vr = prev_rows(b, d, reverse, k, t, r, rows);
      if (vr > 0)
        lw_gate_recurrence_backward(d, vr, dG + gr, d->gates + gr - (reverse ? -1 : 1) * (ptrdiff_t)B * G, dact_next + 3 * hr);
    }
    if (d->w_gate) {
      real *tmp = dact;
      dact = dact_next, dact_next = tmp;
    }
    memset(dG + gt + (size_t)n * G, 0, (size_t)(B - n) * G * sizeof(real));
    if (d->w_depth) { /* ended rows: no depth gate, nothing for the layer below */
      memset(s->ddepth + (size_t)t * BH + (size_t)n * H, 0, (size_t)(B - n) * H * sizeof(real));
      memset(dc_below + (size_t)t * BH + (size_t)n * H, 0, (size_t)(B - n) * H * sizeof(real));
    }
    if (split) memset(dGH + gt + (size_t)n * G, 0, (size_t)(B - n) * G * sizeof(real));
  }
  /* Weight gradients as large products over all T*B rows */
  const real *h_prev = d->hs + (reverse ? BH : 0); /* slots feeding each step, in time order */
  lw_gemm_tn(G, H, T * B, dGH, G, h_prev, H, d->dw_hh, H);
  if (d->ops->structural_zero) d->ops->structural_zero(d, d->dw_hh); /* entries the cell never reads get no gradient */
  if (d->sparse_in) gemm_sparse_tn(G, in, T * B, dG, G, x, d->dw_ih);
  else lw_gemm_tn(G, in, T * B, dG, G, x, in, d->dw_ih, in);
  for (size_t r = 0; r < (size_t)T * B; r++) {
    const real *gx = dG + r * G, *gh = dGH + r * G;
    for (int j = 0; j < G; j++) d->db_ih[j] += gx[j], d->db_hh[j] += gh[j];
  }
  if (dx) lw_gemm_nn(T * B, in, G, dG, G, d->w_ihP, d->ld_in, dx, in);
  if (d->w_depth) { /* the depth gate's input term: dW_d += ddepth^T . x, db_d, dx += ddepth . W_d */
    const real *dD = s->ddepth;
    if (d->sparse_in) gemm_sparse_tn(H, in, T * B, dD, H, x, d->dw_depth);
    else lw_gemm_tn(H, in, T * B, dD, H, x, in, d->dw_depth, in);
    for (size_t r = 0; r < (size_t)T * B; r++)
      for (int j = 0; j < H; j++) d->db_depth[j] += dD[r * H + j];
    if (dx) lw_gemm_nn(T * B, in, H, dD, H, d->w_depthP, d->ld_in, dx, in);
  }
}

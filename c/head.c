/* head.c — the dense head on top of a stack: logits = features . W^T + b,
 * on the final states (many-to-one) or on every step's top-layer output
 * (many-to-many), and its backward pass into the stack. Losses are in loss.c. */
#include <string.h>
#include "internal.h"
#include "kernels.h"

int lw_head_rows(const lw_head *h, const lw_batch *b) { return h->per_step ? b->T * b->B : b->B; }

/* Whether head row `row` is inside its sequence (rows are time-major, sorted). */
int lw_head_row_valid(const lw_head *h, const lw_batch *b, int row) {
  return h->per_step ? row % b->B < b->running[row / b->B] : 1;
}

void lw_head_forward(lw_head *h, const lw_stack *s, const lw_batch *b) {
  const int rows = lw_head_rows(h, b), O = h->O, F = h->in;
  const real *feat = s->y[s->L - 1];
  if (!h->per_step) {
    const int L = s->L, H = s->H[L - 1];
    for (int d = 0; d < s->D; d++) {
      const real *hn = s->hn + lw_state_offset(s, b->B, L - 1, d);
      for (int q = 0; q < b->B; q++) memcpy(h->feat + (size_t)q * F + d * H, hn + (size_t)q * H, H * sizeof(real));
    }
    feat = h->feat;
  }
  for (int r = 0; r < rows; r++) memcpy(h->logits + (size_t)r * O, h->b, O * sizeof(real));
  lw_gemm_nn(rows, O, F, feat, F, h->wT, h->ld, h->logits, O);
}

/* From dlogits (zero on rows past a length): the head's gradients, and the
 * gradient reaching the stack in s->dy_a (many-to-many) or s->dhn
 * (many-to-one), with every other state gradient zero. */
void lw_head_backward(lw_head *h, lw_stack *s, const lw_batch *b) {
  const int rows = lw_head_rows(h, b), O = h->O, F = h->in, L = s->L;
  const real *feat = h->per_step ? s->y[L - 1] : h->feat;
  lw_gemm_tn(O, F, rows, h->dlogits, O, feat, F, h->dw, F);
  for (int r = 0; r < rows; r++)
    for (int o = 0; o < O; o++) h->db[o] += h->dlogits[(size_t)r * O + o];
  const size_t LDBH = lw_state_count(s, b->B);
  memset(s->dhn, 0, LDBH * sizeof(real));
  memset(s->dcn, 0, LDBH * sizeof(real));
  if (h->per_step) {
    memset(s->dy_a, 0, (size_t)rows * F * sizeof(real));
    lw_gemm_nn(rows, F, O, h->dlogits, O, h->w, F, s->dy_a, F);
    return;
  }
  memset(h->dfeat, 0, (size_t)rows * F * sizeof(real));
  lw_gemm_nn(rows, F, O, h->dlogits, O, h->w, F, h->dfeat, F);
  memset(s->dy_a, 0, (size_t)b->T * b->B * F * sizeof(real));
  const int H = s->H[L - 1];
  for (int d = 0; d < s->D; d++) {
    real *dhn = s->dhn + lw_state_offset(s, b->B, L - 1, d);
    for (int q = 0; q < b->B; q++) memcpy(dhn + (size_t)q * H, h->dfeat + (size_t)q * F + d * H, H * sizeof(real));
  }
}

/* stack.c — a stack of L layers x D directions over one batch: the initial
 * states in, inverted dropout between layers, the outputs and final states
 * out, and BPTT back through every layer (layer.c runs one direction of one
 * layer). A model holds one stack; a sequence-to-sequence model, two. */
#include <string.h>
#include "internal.h"

int lw_stack_in(const lw_stack *s, int l) { return l == 0 ? s->I : s->D * s->H[l - 1]; }

/* Runs every layer and direction over batch b (staged in s->x). h0/c0:
 * (L*D, B, H_l) in the caller's batch order, or NULL for zeros. With
 * s->training, dropout masks are drawn from rng. Leaves the final states in
 * hn/cn (sorted order). The packed weights must be current (lw_model_pack). */
void lw_stack_forward(lw_stack *s, const lw_batch *b, lw_rng *rng, const real *h0, const real *c0) {
  const int B = b->B, T = b->T;
  const real *input = s->x;
  for (int l = 0; l < s->L; l++) {
    const int H = s->H[l], in = lw_stack_in(s, l);
    if (l > 0 && s->training && s->dropout > 0) {
      /* inverted dropout between layers, as PyTorch: kept units scaled by 1/(1-p) */
      real keep = 1 - s->dropout, scale = 1 / keep;
      size_t n = (size_t)T * B * in;
      for (size_t i = 0; i < n; i++) {
        real u = lw_rng_uniform(rng, 0, 1);
        s->dmask[l][i] = u < keep ? scale : 0;
        s->drop[l][i] = input[i] * s->dmask[l][i];
      }
      input = s->drop[l];
    }
    const int sparse_in = lw_sparse(input, (size_t)T * B * in);
    for (int d = 0; d < s->D; d++) {
      lw_dir *dir = &s->dirs[l][d];
      dir->sparse_in = sparse_in;
      size_t off = lw_state_offset(s, B, l, d), BH = (size_t)B * H;
      real *h_init = dir->hs + (d ? T * BH : 0), *c_init = dir->cs + (d ? T * BH : 0);
      for (int r = 0; r < B; r++) {
        const size_t src = off + (size_t)b->perm[r] * H;
        for (int j = 0; j < H; j++) {
          h_init[(size_t)r * H + j] = h0 ? h0[src + j] : 0;
          c_init[(size_t)r * H + j] = c0 ? c0[src + j] : 0;
        }
      }
      lw_layer_forward(b, dir, d, input, s->y[l], s->D * H, d * H, &s->scratch);
      memcpy(s->hn + off, dir->hs + (d ? 0 : T * BH), BH * sizeof(real));
      memcpy(s->cn + off, dir->cs + (d ? 0 : T * BH), BH * sizeof(real));
    }
    input = s->y[l];
  }
}

/* BPTT through every layer. In: dy_a holds dL/d(output of the top layer)
 * (zero past each length) and dhn/dcn the gradients of the final states.
 * Out: gradients accumulated into the parameters' gradients, dhn/dcn
 * replaced by the gradients of the initial states, and dx (T,B,I, sorted)
 * if dx != NULL. */
void lw_stack_backward(lw_stack *s, const lw_batch *b, real *dx) {
  const int B = b->B, T = b->T;
  real *dy = s->dy_a, *dnext = s->dy_b;
  for (int l = s->L - 1; l >= 0; l--) {
    const int H = s->H[l], in = lw_stack_in(s, l);
    const real *input = l == 0 ? s->x : (s->drop[l] && s->training ? s->drop[l] : s->y[l - 1]);
    real *dxl = l == 0 ? dx : dnext;
    if (dxl) memset(dxl, 0, (size_t)T * B * in * sizeof(real));
    /* depth gate: layer l+1 left dL/dc(t) of this layer in dcb[l+1 & 1]; this layer's, if it has one, go to dcb[l & 1] */
    for (int d = 0; d < s->D; d++) {
      size_t off = lw_state_offset(s, B, l, d);
      const real *dc_above = l + 1 < s->L && s->dirs[l + 1][d].w_depth ? s->dcb[(l + 1) & 1][d] : NULL;
      lw_layer_backward(b, &s->dirs[l][d], d, input, dy, s->D * H, d * H, s->dhn + off, s->dcn + off, dxl, dc_above,
                        s->dirs[l][d].w_depth ? s->dcb[l & 1][d] : NULL, &s->scratch);
    }
    if (l > 0 && s->drop[l] && s->training) {
      size_t n = (size_t)T * B * in;
      for (size_t i = 0; i < n; i++) dxl[i] *= s->dmask[l][i];
    }
    real *tmp = dy;
    dy = dnext, dnext = tmp;
  }
}

/* batch.c — a batch's length order and the copies between the caller's
 * layout and the engine's: rows sorted by length, longest first, time-major,
 * zero past each length (layer.c relies on it), and the (L*D, B, H_l) state
 * arrays between sorted and caller order. */
#include <string.h>
#include "internal.h"

/* Sorts the batch's B rows by length, longest first (a stable counting sort),
 * and counts the rows still running at each of its T steps. */
void lw_batch_order(lw_batch *b, const int32_t *lengths) {
  const int B = b->B, T = b->T;
  int s = 0;
  for (int len = T; len >= 1; len--)
    for (int q = 0; q < B; q++)
      if ((lengths ? lengths[q] : T) == len) b->perm[s] = q, b->lens[s] = len, s++;
  for (int t = 0; t < T; t++) {
    int n = 0;
    while (n < B && b->lens[n] > t) n++;
    b->running[t] = n;
  }
}

/* Copies a source of (B,W) (per_step 0) or (B,T,W) rows into sorted
 * time-major rows dst, (1,B,W) or (T,B,W), zero past each length. */
void lw_batch_stage(const lw_batch *b, const lw_source *src, real *dst, int W, int per_step) {
  const int B = b->B, T = b->T;
  for (int t = 0; t < (per_step ? T : 1); t++)
    for (int r = 0; r < B; r++) {
      const int q = b->perm[r];
      real *d = dst + ((size_t)t * B + r) * W;
      if (!per_step) memcpy(d, lw_source_at(src, q, 0, W), W * sizeof(real));
      else if (t < b->lens[r]) memcpy(d, lw_source_at(src, q, t, W), W * sizeof(real));
      else memset(d, 0, W * sizeof(real));
    }
}

/* Copies sorted time-major rows src, (1,B,W) or (T,B,W), to the caller's
 * layout dst, batch-first or time-major, zero past each length. */
void lw_batch_unstage(const lw_batch *b, const real *src, real *dst, int W, int per_step, int time_major) {
  const int B = b->B, T = b->T;
  if (!per_step) {
    for (int r = 0; r < B; r++) memcpy(dst + (size_t)b->perm[r] * W, src + (size_t)r * W, W * sizeof(real));
    return;
  }
  for (int t = 0; t < T; t++)
    for (int r = 0; r < B; r++) {
      const int q = b->perm[r];
      real *d = dst + (time_major ? (size_t)t * B + q : (size_t)q * T + t) * W;
      if (t < b->lens[r]) memcpy(d, src + ((size_t)t * B + r) * W, W * sizeof(real));
      else memset(d, 0, W * sizeof(real));
    }
}

/* A whole caller buffer of B rows of T steps, batch-first or time-major. */
lw_source lw_source_whole(const real *p, int B, int T, int time_major) {
  lw_source s = {p, NULL, B, T, 0, time_major};
  return s;
}

/* Offset of the (B,H_l) block of layer l, direction d in (L*D, B, H_l) state arrays. */
size_t lw_state_offset(const lw_stack *s, int B, int l, int d) {
  size_t off = 0;
  for (int k = 0; k < l; k++) off += (size_t)s->D * B * s->H[k];
  return off + (size_t)d * B * s->H[l];
}

/* Reals in an (L*D, B, H_l) state array. */
size_t lw_state_count(const lw_stack *s, int B) {
  return lw_state_offset(s, B, s->L - 1, s->D - 1) + (size_t)B * s->H[s->L - 1];
}

/* (L*D, B, H_l) state arrays between sorted and caller order. */
void lw_states_copy(const lw_stack *s, const lw_batch *b, const real *src, real *dst, int to_caller) {
  for (int l = 0; l < s->L; l++)
    for (int d = 0; d < s->D; d++) {
      const size_t off = lw_state_offset(s, b->B, l, d);
      const int H = s->H[l];
      for (int r = 0; r < b->B; r++) {
        const size_t sorted = off + (size_t)r * H, caller = off + (size_t)b->perm[r] * H;
        memcpy(dst + (to_caller ? caller : sorted), src + (to_caller ? sorted : caller), H * sizeof(real));
      }
    }
}

/* Adds caller-order (L*D, B, H_l) states src into sorted ones dst. */
void lw_states_add(const lw_stack *s, const lw_batch *b, const real *src, real *dst) {
  for (int l = 0; l < s->L; l++)
    for (int d = 0; d < s->D; d++) {
      const size_t off = lw_state_offset(s, b->B, l, d);
      const int H = s->H[l];
      for (int r = 0; r < b->B; r++) {
        real *to = dst + off + (size_t)r * H;
        const real *from = src + off + (size_t)b->perm[r] * H;
        for (int j = 0; j < H; j++) to[j] += from[j];
      }
    }
}

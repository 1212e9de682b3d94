/* model.c — the network around the cells: one parameter buffer with a
 * parallel gradient buffer, the workspace, staging of batches (sorted by
 * length, time-major), the stacked and bidirectional recurrent layers with
 * dropout between them, and the dense head. The recurrence is in layer.c, the cells in cells.c,
 * losses in loss.c, updates in optim.c, argument checks in api.c. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "kernels.h"

static int layer_in(const lw_model *m, int l) { return l == 0 ? m->I : m->D * m->H[l - 1]; }

static int max_hidden(const lw_model *m) {
  int h = 0;
  for (int l = 0; l < m->L; l++) h = m->H[l] > h ? m->H[l] : h;
  return h;
}

static int peepholes(const lw_model *m) { return m->cell == LW_CELL_LSTM && (m->gate_flags & LW_GATE_PEEPHOLES); }
static int full_recurrence(const lw_model *m) { return m->cell == LW_CELL_LSTM && (m->gate_flags & LW_GATE_FULL_RECURRENCE); }

/* Parameter count for a configuration (also used by api.c to bound it), in
 * 64 bits: a wasm size_t wraps for sizes the armour must refuse. */
uint64_t lw_model_param_count_for(const lw_model *m) {
  uint64_t P = 0;
  for (int l = 0; l < m->L; l++) {
    const uint64_t G = (uint64_t)lw_cell_gates(m->cell) * m->H[l], H = m->H[l], in = layer_in(m, l);
    P += m->D * (G * in + G * H + 2 * G + (peepholes(m) ? 3 * H : 0) + (full_recurrence(m) ? 9 * H * H : 0));
  }
  return P + (uint64_t)m->O * m->D * m->H[m->L - 1] + m->O;
}

/* Reals in the packed (transposed, padded) copies of the weights. */
static uint64_t packed_count(const lw_model *m) {
  uint64_t packed = 0;
  for (int l = 0; l < m->L; l++) {
    const uint64_t in = layer_in(m, l), H = m->H[l], G = (uint64_t)lw_cell_gates(m->cell) * H;
    const uint64_t per = (in + H) * lw_padded_ld((int)G) + G * (lw_padded_ld((int)in) + lw_padded_ld((int)H)) +
                         (full_recurrence(m) ? 9 * H * H : 0);
    packed += m->D * per;
  }
  return packed + (uint64_t)m->D * m->H[m->L - 1] * lw_padded_ld(m->O);
}

/* Bytes a model of this configuration holds before any batch: parameters,
 * gradients, packed copies and the optimizer's two moments. */
uint64_t lw_model_bytes_for(const lw_model *m) {
  return (4 * lw_model_param_count_for(m) + packed_count(m)) * sizeof(real);
}

/* Lays out the tensors in the parameter buffer, in the order of
 * lw_model_tensor_info: per layer, per direction w_ih, w_hh, b_ih, b_hh (and
 * w_peep); then the head. Then initialises them as PyTorch does:
 * U(-1/sqrt(H), 1/sqrt(H)) for the cells and U(-1/sqrt(fan_in), ..) for the
 * head, from the seed. */
int lw_model_init(lw_model *m) {
  /* api.c has checked lw_model_bytes_for against LW_MEMORY_LIMIT: these fit a size_t */
  m->P = (size_t)lw_model_param_count_for(m);
  m->head_in = m->D * m->H[m->L - 1];
  const size_t packed = (size_t)packed_count(m);
  for (int l = 0; l < m->L; l++)
    for (int d = 0; d < m->D; d++) {
      lw_dir *dir = &m->dirs[l][d];
      dir->in = layer_in(m, l), dir->H = m->H[l], dir->G = lw_cell_gates(m->cell) * dir->H;
      dir->ld_T = lw_padded_ld(dir->G), dir->ld_in = lw_padded_ld(dir->in), dir->ld_H = lw_padded_ld(dir->H);
    }
  m->ld_O = lw_padded_ld(m->O);
  m->params = calloc(m->P ? m->P : 1, sizeof(real));
  m->grads = calloc(m->P ? m->P : 1, sizeof(real));
  m->packed = calloc(packed, sizeof(real));
  if (!m->params || !m->grads || !m->packed) return LW_STATUS_NO_MEMORY;
  real *p = m->params, *g = m->grads, *k = m->packed;
  for (int l = 0; l < m->L; l++)
    for (int d = 0; d < m->D; d++) {
      lw_dir *dir = &m->dirs[l][d];
      size_t in = dir->in, H = dir->H, G = dir->G;
      dir->cell = m->cell, dir->flags = m->cell == LW_CELL_LSTM ? m->gate_flags : 0;
      dir->w_ih = p, dir->dw_ih = g, p += G * in, g += G * in;
      dir->w_hh = p, dir->dw_hh = g, p += G * H, g += G * H;
      dir->w_ihT = k, k += in * dir->ld_T;
      dir->w_hhT = k, k += H * dir->ld_T;
      dir->w_ihP = k, k += G * dir->ld_in;
      dir->w_hhP = k, k += G * dir->ld_H;
      dir->b_ih = p, dir->db_ih = g, p += G, g += G;
      dir->b_hh = p, dir->db_hh = g, p += G, g += G;
      dir->w_peep = dir->dw_peep = dir->w_gate = dir->dw_gate = dir->w_gateT = NULL;
      if (peepholes(m)) dir->w_peep = p, dir->dw_peep = g, p += 3 * H, g += 3 * H;
      if (full_recurrence(m)) dir->w_gate = p, dir->dw_gate = g, dir->w_gateT = k, p += 9 * H * H, g += 9 * H * H, k += 9 * H * H;
    }
  m->head_w = p, m->dhead_w = g, m->head_wT = k, p += (size_t)m->O * m->head_in, g += (size_t)m->O * m->head_in;
  m->head_b = p, m->dhead_b = g;

  lw_rng rng;
  lw_rng_seed(&rng, m->seed);
  for (int l = 0; l < m->L; l++)
    for (int d = 0; d < m->D; d++) {
      lw_dir *dir = &m->dirs[l][d];
      real bound = (real)(1.0 / sqrt((double)dir->H));
      size_t n = (size_t)dir->G * (dir->in + dir->H + 2) + (dir->w_peep ? 3 * (size_t)dir->H : 0) +
                 (dir->w_gate ? 9 * (size_t)dir->H * dir->H : 0);
      for (size_t i = 0; i < n; i++) dir->w_ih[i] = lw_rng_uniform(&rng, -bound, bound);
      /* forget-gate bias (Gers et al. 2000; 1.0 after Jozefowicz et al. 2015):
       * PyTorch adds b_ih and b_hh, so b_ih carries it and b_hh is zero */
      if (dir->cell == LW_CELL_LSTM)
        for (int j = dir->H; j < 2 * dir->H; j++) dir->b_ih[j] = m->forget_bias, dir->b_hh[j] = 0;
    }
  real bound = (real)(1.0 / sqrt((double)m->head_in));
  for (size_t i = 0; i < (size_t)m->O * (m->head_in + 1); i++) m->head_w[i] = lw_rng_uniform(&rng, -bound, bound);
  lw_rng_seed(&m->rng, m->seed ^ 0xD20D0u);
  m->packed_dirty = 1;
  return LW_STATUS_OK;
}

void lw_model_release(lw_model *m) {
  free(m->params), free(m->grads), free(m->packed), free(m->ws), free(m->ibuf);
  free(m->opt.m);
  free(m);
}

/* A row stride for a matrix of rows of n floats: the least odd multiple of
 * 16 that is >= n. Rows are then 64 bytes apart modulo 4 KiB, so a GEMM going
 * down a column meets every set of a 32 KiB 8-way L1. With power-of-two
 * widths, as 4H often is, every row falls in the same few sets (the
 * recurrent product 8x1024x256 ran at 24 GFLOP/s instead of 34). */
int lw_padded_ld(int n) {
  return 16 * (((n + 15) / 16) | 1);
}

/* dst (cols, rows) rows ld apart = src (rows, cols)^T */
static void transpose(int rows, int cols, const real *src, real *dst, int ld) {
  for (int r = 0; r < rows; r++)
    for (int c = 0; c < cols; c++) dst[(size_t)c * ld + r] = src[(size_t)r * cols + c];
}

/* dst (rows, cols) rows ld apart = src (rows, cols) */
static void copy_rows(int rows, int cols, const real *src, real *dst, int ld) {
  for (int r = 0; r < rows; r++) memcpy(dst + (size_t)r * ld, src + (size_t)r * cols, cols * sizeof(real));
}

/* The forward GEMMs read weights as (in, 4H) so their inner loop runs along
 * the gates, the backward ones as they are; both with padded rows. Refresh
 * these copies whenever the parameters changed. */
void lw_model_pack(lw_model *m) {
  if (!m->packed_dirty) return;
  for (int l = 0; l < m->L; l++)
    for (int d = 0; d < m->D; d++) {
      lw_dir *dir = &m->dirs[l][d];
      transpose(dir->G, dir->in, dir->w_ih, dir->w_ihT, dir->ld_T);
      transpose(dir->G, dir->H, dir->w_hh, dir->w_hhT, dir->ld_T);
      copy_rows(dir->G, dir->in, dir->w_ih, dir->w_ihP, dir->ld_in);
      copy_rows(dir->G, dir->H, dir->w_hh, dir->w_hhP, dir->ld_H);
      if (dir->w_gate) transpose(3 * dir->H, 3 * dir->H, dir->w_gate, dir->w_gateT, 3 * dir->H);
    }
  transpose(m->O, m->head_in, m->head_w, m->head_wT, m->ld_O);
  m->packed_dirty = 0;
}

int lw_model_head_rows(const lw_model *m) { return m->return_sequences ? m->T * m->B : m->B; }

int lw_model_row_valid(const lw_model *m, int row) {
  return m->return_sequences ? row % m->B < m->bt[row / m->B] : 1;
}

/* Workspace size in reals for (B, T), in 64 bits so that it cannot wrap
 * (wasm's size_t is 32 bits); lw_model_reserve refuses what does not fit. */
uint64_t lw_model_workspace_count(const lw_model *m, int B_, int T_, int with_dropout) {
  const uint64_t gates = lw_cell_gates(m->cell), gru = m->cell == LW_CELL_GRU, B = B_, T = T_;
  uint64_t TB = T * B, maxH = max_hidden(m), maxW = m->I, total = 0;
  for (int l = 0; l < m->L; l++) {
    uint64_t H = m->H[l], w = m->D * H;
    if (w > maxW) maxW = w;
    total += TB * w;                                     /* y[l] */
    if (with_dropout && l > 0) total += 2 * TB * layer_in(m, l); /* drop, dmask */
    total += m->D * (TB * gates * H + 2 * (T + 1) * B * H + (gru ? TB * H : 0)); /* gates, hs, cs, aux */
  }
  uint64_t rows = m->return_sequences ? TB : B, maxG = gates * maxH;
  total += 2 * TB * m->I + 2 * TB * maxW + TB * maxG * (gru ? 2 : 1) + (gru ? LW_ROWS_REC * maxG : 0) +
           (full_recurrence(m) ? 6 * B * maxH : 0) +
           2 * B * maxH + 2 * B * m->head_in + 3 * rows * m->O + 4 * (uint64_t)m->L * m->D * B * maxH;
  return total;
}

/* Makes room for a batch of (B, T) and points the views into it. Grows the
 * workspace when needed (never per step); on failure the model stays usable. */
int lw_model_reserve(lw_model *m, int B, int T) {
  int with_dropout = m->dropout > 0;
  const uint64_t need64 = lw_model_workspace_count(m, B, T, with_dropout);
  if (need64 > LW_MEMORY_LIMIT / sizeof(real)) return LW_STATUS_NO_MEMORY;
  const size_t need = (size_t)need64;
  if (need > m->ws_cap) {
    free(m->ws);
    m->ws = NULL, m->ws_cap = 0, m->have_forward = 0;
    if (!(m->ws = malloc(need * sizeof(real)))) return LW_STATUS_NO_MEMORY;
    m->ws_cap = need;
  }
  size_t ineed = 2 * (size_t)B + T;
  if (ineed > m->ibuf_cap) {
    free(m->ibuf);
    m->ibuf = NULL, m->ibuf_cap = 0, m->have_forward = 0;
    if (!(m->ibuf = malloc(ineed * sizeof(int)))) return LW_STATUS_NO_MEMORY;
    m->ibuf_cap = ineed;
  }
  m->B = B, m->T = T;
  m->perm = m->ibuf, m->lens = m->ibuf + B, m->bt = m->ibuf + 2 * B;
  size_t TB = (size_t)T * B, maxH = max_hidden(m), maxW = m->I;
  const int gru = m->cell == LW_CELL_GRU;
  real *p = m->ws;
#define TAKE(ptr, n) ((ptr) = p, p += (n))
  for (int l = 0; l < m->L; l++) {
    size_t H = m->H[l], w = m->D * H;
    if (w > maxW) maxW = w;
    TAKE(m->y[l], TB * w);
    m->drop[l] = m->dmask[l] = NULL;
    if (with_dropout && l > 0) TAKE(m->drop[l], TB * layer_in(m, l)), TAKE(m->dmask[l], TB * layer_in(m, l));
    for (int d = 0; d < m->D; d++) {
      lw_dir *dir = &m->dirs[l][d];
      TAKE(dir->gates, TB * dir->G);
      TAKE(dir->hs, (T + 1) * (size_t)B * H);
      TAKE(dir->cs, (T + 1) * (size_t)B * H);
      dir->aux = NULL;
      if (gru) TAKE(dir->aux, TB * H);
    }
  }
  size_t rows = m->return_sequences ? TB : (size_t)B, LDBH = (size_t)m->L * m->D * B * maxH;
  TAKE(m->x, TB * m->I), TAKE(m->dx, TB * m->I);
  TAKE(m->dy_a, TB * maxW), TAKE(m->dy_b, TB * maxW);
  const size_t maxG = (size_t)lw_cell_gates(m->cell) * maxH;
  TAKE(m->dgates, TB * maxG);
  m->dgates_h = m->rec = NULL;
  if (gru) TAKE(m->dgates_h, TB * maxG), TAKE(m->rec, LW_ROWS_REC * maxG);
  m->dact = m->dact_next = NULL;
  if (full_recurrence(m)) TAKE(m->dact, 3 * B * maxH), TAKE(m->dact_next, 3 * B * maxH);
  TAKE(m->dh, B * maxH), TAKE(m->dc, B * maxH);
  TAKE(m->feat, B * (size_t)m->head_in), TAKE(m->dfeat, B * (size_t)m->head_in);
  TAKE(m->logits, rows * m->O), TAKE(m->dlogits, rows * m->O), TAKE(m->target, rows * m->O);
  TAKE(m->hn, LDBH), TAKE(m->cn, LDBH), TAKE(m->dhn, LDBH), TAKE(m->dcn, LDBH);
#undef TAKE
#ifdef LW_POISON
  /* test builds: NaN everywhere, so a read of anything not written for this batch shows */
  for (size_t i = 0; i < (size_t)(p - m->ws); i++) m->ws[i] = NAN;
#endif
  return LW_STATUS_OK;
}

/* Offset of the (B,H_l) block of layer l, direction d in (L*D, B, H) state arrays. */
size_t lw_model_state_offset(const lw_model *m, int l, int d) {
  size_t off = 0;
  for (int k = 0; k < l; k++) off += (size_t)m->D * m->B * m->H[k];
  return off + (size_t)d * m->B * m->H[l];
}

/* Sorts the batch by length, longest first (stable counting sort), and copies
 * x into the time-major workspace; steps past a length become zeros. */
void lw_model_stage(lw_model *m, const lw_source *x, const int32_t *lengths, int B, int T) {
  int s = 0;
  for (int len = T; len >= 1; len--)
    for (int b = 0; b < B; b++)
      if ((lengths ? lengths[b] : T) == len) m->perm[s] = b, m->lens[s] = len, s++;
  for (int t = 0; t < T; t++) {
    int n = 0;
    while (n < B && m->lens[n] > t) n++;
    m->bt[t] = n;
  }
  const int I = m->I;
  for (int t = 0; t < T; t++)
    for (int r = 0; r < B; r++) {
      real *dst = m->x + ((size_t)t * B + r) * I;
      int b = m->perm[r];
      if (t >= m->lens[r]) { memset(dst, 0, I * sizeof(real)); continue; }
      memcpy(dst, lw_source_at(x, b, t, I), I * sizeof(real));
    }
  m->have_forward = 0;
}

/* Runs every layer and direction. h0/c0: (L*D, B, H_l) in the caller's batch
 * order, or NULL for zeros. Leaves final states in hn/cn (sorted order). */
void lw_model_stack_forward(lw_model *m, const real *h0, const real *c0) {
  const int B = m->B, T = m->T;
  lw_model_pack(m);
  const real *input = m->x;
  for (int l = 0; l < m->L; l++) {
    const int H = m->H[l], in = layer_in(m, l);
    if (l > 0 && m->training && m->dropout > 0) {
      /* inverted dropout between layers, as PyTorch: kept units scaled by 1/(1-p) */
      real keep = 1 - m->dropout, scale = 1 / keep;
      size_t n = (size_t)T * B * in;
      for (size_t i = 0; i < n; i++) {
        real u = lw_rng_uniform(&m->rng, 0, 1);
        m->dmask[l][i] = u < keep ? scale : 0;
        m->drop[l][i] = input[i] * m->dmask[l][i];
      }
      input = m->drop[l];
    }
    const int sparse_in = lw_sparse(input, (size_t)T * B * in);
    for (int d = 0; d < m->D; d++) {
      lw_dir *dir = &m->dirs[l][d];
      dir->sparse_in = sparse_in;
      size_t off = lw_model_state_offset(m, l, d), BH = (size_t)B * H;
      real *h_init = dir->hs + (d ? T * BH : 0), *c_init = dir->cs + (d ? T * BH : 0);
      for (int r = 0; r < B; r++) {
        const size_t src = off + (size_t)m->perm[r] * H;
        for (int j = 0; j < H; j++) {
          h_init[(size_t)r * H + j] = h0 ? h0[src + j] : 0;
          c_init[(size_t)r * H + j] = c0 ? c0[src + j] : 0;
        }
      }
      lw_layer_forward(m, dir, d, input, m->y[l], m->D * H, d * H);
      memcpy(m->hn + off, dir->hs + (d ? 0 : T * BH), BH * sizeof(real));
      memcpy(m->cn + off, dir->cs + (d ? 0 : T * BH), BH * sizeof(real));
    }
    input = m->y[l];
  }
  m->have_forward = 1;
}

/* BPTT through every layer. In: dy_a holds dL/d(output of the top layer)
 * (zero past each length) and dhn/dcn the gradients of the final states.
 * Out: gradients accumulated into m->grads, dhn/dcn replaced by the
 * gradients of the initial states, and dx (T,B,I, sorted) if dx != NULL. */
void lw_model_stack_backward(lw_model *m, real *dx) {
  const int B = m->B, T = m->T;
  real *dy = m->dy_a, *dnext = m->dy_b;
  for (int l = m->L - 1; l >= 0; l--) {
    const int H = m->H[l], in = layer_in(m, l);
    const real *input = l == 0 ? m->x : (m->drop[l] && m->training ? m->drop[l] : m->y[l - 1]);
    real *dxl = l == 0 ? dx : dnext;
    if (dxl) memset(dxl, 0, (size_t)T * B * in * sizeof(real));
    for (int d = 0; d < m->D; d++) {
      size_t off = lw_model_state_offset(m, l, d);
      lw_layer_backward(m, &m->dirs[l][d], d, input, dy, m->D * H, d * H, m->dhn + off, m->dcn + off, dxl);
    }
    if (l > 0 && m->drop[l] && m->training) {
      size_t n = (size_t)T * B * in;
      for (size_t i = 0; i < n; i++) dxl[i] *= m->dmask[l][i];
    }
    real *tmp = dy;
    dy = dnext, dnext = tmp;
  }
}

/* logits = features . W^T + b: the final states (many-to-one) or every step's
 * top-layer output (many-to-many). */
void lw_model_head_forward(lw_model *m) {
  const int rows = lw_model_head_rows(m), O = m->O, F = m->head_in;
  const real *feat = m->y[m->L - 1];
  if (!m->return_sequences) {
    const int L = m->L, H = m->H[L - 1];
    for (int d = 0; d < m->D; d++) {
      const real *hn = m->hn + lw_model_state_offset(m, L - 1, d);
      for (int b = 0; b < m->B; b++) memcpy(m->feat + (size_t)b * F + d * H, hn + (size_t)b * H, H * sizeof(real));
    }
    feat = m->feat;
  }
  for (int r = 0; r < rows; r++) memcpy(m->logits + (size_t)r * O, m->head_b, O * sizeof(real));
  lw_gemm_nn(rows, O, F, feat, F, m->head_wT, m->ld_O, m->logits, O);
}

/* From dlogits (zero on rows past a length): head gradients, and the
 * gradient reaching the stack in dy_a (many-to-many) or dhn (many-to-one). */
void lw_model_head_backward(lw_model *m) {
  const int rows = lw_model_head_rows(m), O = m->O, F = m->head_in, L = m->L;
  const real *feat = m->return_sequences ? m->y[L - 1] : m->feat;
  lw_gemm_tn(O, F, rows, m->dlogits, O, feat, F, m->dhead_w, F);
  for (int r = 0; r < rows; r++)
    for (int o = 0; o < O; o++) m->dhead_b[o] += m->dlogits[(size_t)r * O + o];
  size_t LDBH = lw_model_state_offset(m, L - 1, 0) + (size_t)m->D * m->B * m->H[L - 1];
  memset(m->dhn, 0, LDBH * sizeof(real));
  memset(m->dcn, 0, LDBH * sizeof(real));
  if (m->return_sequences) {
    memset(m->dy_a, 0, (size_t)rows * F * sizeof(real));
    lw_gemm_nn(rows, F, O, m->dlogits, O, m->head_w, F, m->dy_a, F);
    return;
  }
  memset(m->dfeat, 0, (size_t)rows * F * sizeof(real));
  lw_gemm_nn(rows, F, O, m->dlogits, O, m->head_w, F, m->dfeat, F);
  memset(m->dy_a, 0, (size_t)m->T * m->B * F * sizeof(real));
  const int H = m->H[L - 1];
  for (int d = 0; d < m->D; d++) {
    real *dhn = m->dhn + lw_model_state_offset(m, L - 1, d);
    for (int b = 0; b < m->B; b++) memcpy(dhn + (size_t)b * H, m->dfeat + (size_t)b * F + d * H, H * sizeof(real));
  }
}

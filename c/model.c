/* model.c — a model's storage: the tensor table and the parameter buffer it
 * lays out (with its parallel gradient buffer and packed copies), the
 * initialisation, and the workspace plan for a batch. The passes are in
 * stack.c (layers), layer.c (the recurrence), cells.c, head.c and loss.c;
 * updates in optim.c; staging in batch.c; argument checks in api.c. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "kernels.h"

static int layer_in(const lw_model *m, int l) { return lw_stack_in(&m->stack, l); }

static int max_hidden(const lw_model *m) {
  int h = 0;
  for (int l = 0; l < m->stack.L; l++) h = m->stack.H[l] > h ? m->stack.H[l] : h;
  return h;
}

static const lw_cell_ops *cell_of(const lw_model *m) { return lw_cell_kind(m->stack.cell); }
static int peepholes(const lw_model *m) { return cell_of(m)->switches && (m->stack.flags & LW_GATE_PEEPHOLES); }
static int full_recurrence(const lw_model *m) { return cell_of(m)->switches && (m->stack.flags & LW_GATE_FULL_RECURRENCE); }
static int depth_gated(const lw_model *m) { return cell_of(m)->switches && (m->stack.flags & LW_GATE_DEPTH); }

/* ---- The tensor table: one list drives count, layout, init, packing and
 * lw_model_tensor_info (llm.c's fill_in_parameter_sizes) ---- */

static lw_tensor *add_tensor(lw_model *m, int kind, int l, int d, int rows, int cols, int rank, int init, uint64_t *off) {
  lw_tensor *t = &m->tensor[m->n_tensors++];
  t->kind = kind, t->layer = l, t->dir = d, t->rows = rows, t->cols = cols, t->rank = rank, t->init = init;
  t->offset = *off, *off += (uint64_t)rows * cols;
  t->packT = t->packP = LW_NO_PACK, t->ldT = t->ldP = 0;
  return t;
}

/* A transposed copy (cols, rows), rows ld apart, for the forward GEMMs. */
static void pack_transposed(lw_tensor *t, int ld, uint64_t *packed) {
  t->packT = *packed, t->ldT = ld, *packed += (uint64_t)t->cols * ld;
}

/* A copy (rows, cols) with padded rows, for the backward GEMMs. */
static void pack_padded(lw_tensor *t, int ld, uint64_t *packed) {
  t->packP = *packed, t->ldP = ld, *packed += (uint64_t)t->rows * ld;
}

/* Fills m->tensor from the configuration alone (api.c bounds the sizes with
 * it before anything is allocated), in the order of the parameter buffer:
 * per layer, per direction w_ih, w_hh, b_ih, b_hh, then w_peep (peepholes)
 * and w_gate (full gate recurrence); then the head's weight and bias. Counts
 * are 64-bit: a wasm size_t wraps for sizes the armour must refuse. */
void lw_model_plan_tensors(lw_model *m) {
  const int gates = cell_of(m)->gates;
  uint64_t off = 0, packed = 0;
  m->n_tensors = 0;
  for (int l = 0; l < m->stack.L; l++)
    for (int d = 0; d < m->stack.D; d++) {
      const int in = layer_in(m, l), H = m->stack.H[l], G = gates * H;
      lw_tensor *ih = add_tensor(m, LW_TENSOR_W_IH, l, d, G, in, 2, LW_INIT_CELL, &off);
      lw_tensor *hh = add_tensor(m, LW_TENSOR_W_HH, l, d, G, H, 2, LW_INIT_CELL, &off);
      add_tensor(m, LW_TENSOR_B_IH, l, d, G, 1, 1, LW_INIT_CELL, &off);
      add_tensor(m, LW_TENSOR_B_HH, l, d, G, 1, 1, LW_INIT_CELL, &off);
      if (peepholes(m)) add_tensor(m, LW_TENSOR_W_PEEP, l, d, 3 * H, 1, 1, LW_INIT_CELL, &off);
      lw_tensor *gate = full_recurrence(m) ? add_tensor(m, LW_TENSOR_W_GATE, l, d, 3 * H, 3 * H, 2, LW_INIT_CELL, &off) : NULL;
      lw_tensor *depth = NULL; /* the depth gate, in layers l >= 1 */
      if (depth_gated(m) && l > 0) {
        depth = add_tensor(m, LW_TENSOR_W_DEPTH, l, d, H, in, 2, LW_INIT_CELL, &off);
        add_tensor(m, LW_TENSOR_B_DEPTH, l, d, H, 1, 1, LW_INIT_CELL, &off);
        add_tensor(m, LW_TENSOR_W_DEPTH_CELL, l, d, H, 1, 1, LW_INIT_CELL, &off);
        add_tensor(m, LW_TENSOR_W_DEPTH_BELOW, l, d, H, 1, 1, LW_INIT_CELL, &off);
      }
      /* W_ih^T and W_hh^T adjacent: stream.c multiplies [x, h] by both in one product */
      pack_transposed(ih, lw_padded_ld(G), &packed);
      pack_transposed(hh, lw_padded_ld(G), &packed);
      pack_padded(ih, lw_padded_ld(in), &packed);
      pack_padded(hh, lw_padded_ld(H), &packed);
      if (gate) pack_transposed(gate, 3 * H, &packed); /* unpadded: cells.c reads it with ld 3H */
      if (depth) pack_transposed(depth, lw_padded_ld(H), &packed), pack_padded(depth, lw_padded_ld(in), &packed);
    }
  const int head_in = m->stack.D * m->stack.H[m->stack.L - 1];
  if (m->head.O) {
    pack_transposed(add_tensor(m, LW_TENSOR_HEAD_W, 0, 0, m->head.O, head_in, 2, LW_INIT_HEAD, &off), lw_padded_ld(m->head.O), &packed);
    add_tensor(m, LW_TENSOR_HEAD_B, 0, 0, m->head.O, 1, 1, LW_INIT_HEAD, &off);
  }
  m->n_params = off, m->n_packed = packed;
}

/* Bytes a model of this configuration holds before any batch (after
 * lw_model_plan_tensors): parameters, gradients, the optimizer's two moments
 * and the packed copies. */
uint64_t lw_model_bytes_for(const lw_model *m) {
  return (4 * m->n_params + m->n_packed) * sizeof(real);
}

/* Allocates the buffers of the tensor table, points the views into them and
 * initialises the parameters as PyTorch does, from the seed and in table
 * order: U(-1/sqrt(H), 1/sqrt(H)) for the cells and U(-1/sqrt(fan_in), ..)
 * for the head. */
int lw_model_init(lw_model *m) {
  /* api.c has checked lw_model_bytes_for against the memory limit: these fit a size_t */
  m->P = (size_t)m->n_params;
  m->head.in = m->stack.D * m->stack.H[m->stack.L - 1];
  m->params = calloc(m->P ? m->P : 1, sizeof(real));
  m->grads = calloc(m->P ? m->P : 1, sizeof(real));
  m->packed = calloc((size_t)m->n_packed ? (size_t)m->n_packed : 1, sizeof(real));
  if (!m->params || !m->grads || !m->packed) return LW_STATUS_NO_MEMORY;
  m->head.ld = lw_padded_ld(m->head.O);
  m->head.w = m->head.b = m->params + m->P, m->head.dw = m->head.db = m->grads + m->P; /* no head: empty */
  m->head.wT = m->packed + m->n_packed;
  for (int l = 0; l < m->stack.L; l++)
    for (int d = 0; d < m->stack.D; d++) {
      lw_dir *dir = &m->stack.dirs[l][d];
      dir->ops = cell_of(m), dir->in = layer_in(m, l), dir->H = m->stack.H[l], dir->G = dir->ops->gates * dir->H;
      /* layer 0 of a depth-gated stack is a plain LSTM: nothing below it */
      dir->cell = m->stack.cell, dir->flags = dir->ops->switches ? m->stack.flags & ~(l ? 0 : LW_GATE_DEPTH) : 0;
      dir->ld_D = lw_padded_ld(dir->H);
      dir->w_depth = dir->b_depth = dir->w_dc = dir->w_dl = dir->dw_depth = dir->db_depth = dir->dw_dc = dir->dw_dl = NULL;
      dir->w_depthT = dir->w_depthP = NULL;
      dir->ld_T = lw_padded_ld(dir->G), dir->ld_in = lw_padded_ld(dir->in), dir->ld_H = lw_padded_ld(dir->H);
      dir->w_peep = dir->dw_peep = dir->w_gate = dir->dw_gate = dir->w_gateT = NULL;
      dir->below = l ? &m->stack.dirs[l - 1][d] : NULL;
      dir->periods = m->stack.periods, dir->n_periods = m->stack.n_periods;
    }
  for (int k = 0; k < m->n_tensors; k++) {
    const lw_tensor *t = &m->tensor[k];
    lw_dir *dir = &m->stack.dirs[t->layer][t->dir];
    real *p = m->params + t->offset, *g = m->grads + t->offset;
    real *kT = t->packT == LW_NO_PACK ? NULL : m->packed + t->packT, *kP = t->packP == LW_NO_PACK ? NULL : m->packed + t->packP;
    switch (t->kind) {
    case LW_TENSOR_W_IH: dir->w_ih = p, dir->dw_ih = g, dir->w_ihT = kT, dir->w_ihP = kP; break;
    case LW_TENSOR_W_HH: dir->w_hh = p, dir->dw_hh = g, dir->w_hhT = kT, dir->w_hhP = kP; break;
    case LW_TENSOR_B_IH: dir->b_ih = p, dir->db_ih = g; break;
    case LW_TENSOR_B_HH: dir->b_hh = p, dir->db_hh = g; break;
    case LW_TENSOR_W_PEEP: dir->w_peep = p, dir->dw_peep = g; break;
    case LW_TENSOR_W_GATE: dir->w_gate = p, dir->dw_gate = g, dir->w_gateT = kT; break;
    case LW_TENSOR_W_DEPTH: dir->w_depth = p, dir->dw_depth = g, dir->w_depthT = kT, dir->w_depthP = kP; break;
    case LW_TENSOR_B_DEPTH: dir->b_depth = p, dir->db_depth = g; break;
    case LW_TENSOR_W_DEPTH_CELL: dir->w_dc = p, dir->dw_dc = g; break;
    case LW_TENSOR_W_DEPTH_BELOW: dir->w_dl = p, dir->dw_dl = g; break;
    case LW_TENSOR_HEAD_W: m->head.w = p, m->head.dw = g, m->head.wT = kT; break;
    default: m->head.b = p, m->head.db = g;
    }
  }

  lw_rng rng;
  lw_rng_seed(&rng, m->seed);
  for (int k = 0; k < m->n_tensors; k++) {
    const lw_tensor *t = &m->tensor[k];
    const int fan = t->init == LW_INIT_HEAD ? m->head.in : m->stack.H[t->layer];
    const real bound = (real)(1.0 / sqrt((double)fan));
    real *p = m->params + t->offset;
    for (size_t i = 0; i < (size_t)t->rows * t->cols; i++) p[i] = lw_rng_uniform(&rng, -bound, bound);
    /* forget-gate bias (Gers et al. 2000; 1.0 after Jozefowicz et al. 2015):
     * PyTorch adds b_ih and b_hh, so b_ih carries it and b_hh is zero */
    const int H = m->stack.H[t->layer], f = cell_of(m)->forget_block;
    if (f >= 0 && (t->kind == LW_TENSOR_B_IH || t->kind == LW_TENSOR_B_HH))
      for (int j = f * H; j < (f + 1) * H; j++) p[j] = t->kind == LW_TENSOR_B_IH ? m->forget_bias : 0;
  }
  /* after the draws, so the other entries are nn.RNN's of the same seed */
  lw_model_structural_zero(m);
  /* the dropout masks' own stream: the seed salted with an arbitrary constant,
   * so that masks are not the same numbers as the initial weights */
  lw_rng_seed(&m->rng, m->seed ^ 0xD20D0u);
  m->packed_dirty = 1;
  return LW_STATUS_OK;
}

/* Zeroes the entries of every W_hh that its cell never reads (the Clockwork
 * RNN's lower blocks): at initialisation and whenever the caller wrote the
 * parameters, so that every export holds zeros there. */
void lw_model_structural_zero(lw_model *m) {
  for (int l = 0; l < m->stack.L; l++)
    for (int d = 0; d < m->stack.D; d++) {
      lw_dir *dir = &m->stack.dirs[l][d];
      if (dir->ops->structural_zero) dir->ops->structural_zero(dir, dir->w_hh);
    }
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
 * the gates, the backward ones as they are; both with padded rows (the
 * tensor table says which copies each tensor has). Refresh these copies
 * whenever the parameters changed. */
void lw_model_pack(lw_model *m) {
  if (!m->packed_dirty) return;
  for (int k = 0; k < m->n_tensors; k++) {
    const lw_tensor *t = &m->tensor[k];
    const real *p = m->params + t->offset;
    if (t->packT != LW_NO_PACK) transpose(t->rows, t->cols, p, m->packed + t->packT, t->ldT);
    if (t->packP != LW_NO_PACK) copy_rows(t->rows, t->cols, p, m->packed + t->packP, t->ldP);
  }
  m->packed_dirty = 0;
}

/* The workspace plan: one list of buffers (llm.c's fill_in_activation_sizes),
 * run with base NULL to count the reals a batch of (B, T) needs, then with
 * the workspace to point the views into it. Sizes are 64-bit, so a count
 * cannot wrap (wasm's size_t is 32 bits) and lw_model_reserve can refuse it. */
static uint64_t workspace_plan(lw_model *m, uint64_t B, uint64_t T, int with_dropout, real *base) {
  const uint64_t TB = T * B, maxH = max_hidden(m), maxG = (uint64_t)cell_of(m)->gates * maxH;
  const int split = cell_of(m)->split_recurrent;
  uint64_t off = 0, maxW = m->stack.I;
#define TAKE(ptr, n) (base ? (void)((ptr) = base + off) : (void)0, off += (n))
#define NONE(ptr) (base ? (void)((ptr) = NULL) : (void)0)
  for (int l = 0; l < m->stack.L; l++) {
    const uint64_t H = m->stack.H[l], w = m->stack.D * H, in = layer_in(m, l);
    if (w > maxW) maxW = w;
    TAKE(m->stack.y[l], TB * w);
    NONE(m->stack.drop[l]), NONE(m->stack.dmask[l]);
    if (with_dropout && l > 0) TAKE(m->stack.drop[l], TB * in), TAKE(m->stack.dmask[l], TB * in);
    for (int d = 0; d < m->stack.D; d++) {
      lw_dir *dir = &m->stack.dirs[l][d];
      TAKE(dir->gates, TB * dir->G);
      TAKE(dir->hs, (T + 1) * B * H);
      TAKE(dir->cs, (T + 1) * B * H);
      NONE(dir->aux), NONE(dir->depth);
      if (split) TAKE(dir->aux, TB * H);
      if (depth_gated(m) && l > 0) TAKE(dir->depth, TB * H);
    }
  }
  const uint64_t rows = m->head.per_step ? TB : B, LDBH = (uint64_t)m->stack.L * m->stack.D * B * maxH;
  TAKE(m->stack.x, TB * m->stack.I), TAKE(m->stack.dx, TB * m->stack.I);
  TAKE(m->stack.dy_a, TB * maxW), TAKE(m->stack.dy_b, TB * maxW);
  TAKE(m->stack.scratch.dgates, TB * maxG);
  NONE(m->stack.scratch.dgates_h), NONE(m->stack.scratch.rec);
  if (split) TAKE(m->stack.scratch.dgates_h, TB * maxG), TAKE(m->stack.scratch.rec, LW_ROWS_REC * maxG);
  NONE(m->stack.scratch.dact), NONE(m->stack.scratch.dact_next);
  if (full_recurrence(m)) TAKE(m->stack.scratch.dact, 3 * B * maxH), TAKE(m->stack.scratch.dact_next, 3 * B * maxH);
  /* depth gate: its pre-activations' gradients, and dL/dc handed down, per direction, ping-pong between layers */
  NONE(m->stack.scratch.ddepth);
  for (int k = 0; k < 4; k++) NONE(m->stack.dcb[k / 2][k % 2]);
  if (depth_gated(m)) {
    TAKE(m->stack.scratch.ddepth, TB * maxH);
    for (int p = 0; p < 2; p++)
      for (int d = 0; d < m->stack.D; d++) TAKE(m->stack.dcb[p][d], TB * maxH);
  }
  TAKE(m->head.feat, B * m->head.in), TAKE(m->head.dfeat, B * m->head.in);
  TAKE(m->head.logits, rows * m->head.O), TAKE(m->head.dlogits, rows * m->head.O), TAKE(m->head.target, rows * m->head.O);
  TAKE(m->stack.hn, LDBH), TAKE(m->stack.cn, LDBH), TAKE(m->stack.dhn, LDBH), TAKE(m->stack.dcn, LDBH);
#undef TAKE
#undef NONE
  return off;
}

/* Workspace size in reals for (B, T). */
uint64_t lw_model_workspace_count(lw_model *m, int B, int T, int with_dropout) {
  return workspace_plan(m, (uint64_t)B, (uint64_t)T, with_dropout, NULL);
}

/* Makes room for a batch of (B, T) and points the views into it. Grows the
 * workspace when needed (never per step); on failure the model stays usable. */
int lw_model_reserve(lw_model *m, int B, int T) {
  const int with_dropout = m->stack.dropout > 0;
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
  m->batch.B = B, m->batch.T = T;
  m->batch.perm = m->ibuf, m->batch.lens = m->ibuf + B, m->batch.running = m->ibuf + 2 * B;
  workspace_plan(m, (uint64_t)B, (uint64_t)T, with_dropout, m->ws);
#ifdef LW_POISON
  /* test builds: NaN everywhere, so a read of anything not written for this batch shows */
  for (size_t i = 0; i < need; i++) m->ws[i] = NAN;
#endif
  return LW_STATUS_OK;
}

/* Sorts the batch by length (batch.c) and stages x, from step x->t0 of
 * its source, into the stack's time-major input; steps past a length become
 * zeros. The batch must have been reserved (lw_model_reserve). */
void lw_model_stage(lw_model *m, const lw_source *x, const int32_t *lengths) {
  lw_batch_order(&m->batch, lengths);
  m->batch.t0 = x->t0;
  lw_batch_stage(&m->batch, x, m->stack.x, m->stack.I, 1);
  m->have_forward = 0;
}

/* The model's stack over its current batch: packs the weights if they
 * changed, then the forward pass (stack.c), dropout from the model's generator. */
void lw_model_stack_forward(lw_model *m, const real *h0, const real *c0) {
  lw_model_pack(m);
  lw_stack_forward(&m->stack, &m->batch, &m->rng, h0, c0);
}

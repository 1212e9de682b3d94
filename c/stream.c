/* stream.c — stateful step-by-step inference (model.stream() in JS) and the
 * per-step trace of gates and states (model.trace()). A stream keeps the
 * state of every layer between calls and runs one step at batch 1 through
 * the same kernels as the batched forward pass (layer.c); bidirectional
 * models cannot stream, since their reverse direction needs the future. */
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "kernels.h"


struct lw_stream {
  uint32_t magic;  /* LW_STREAM_MAGIC while alive: api.c refuses anything else */
  lw_model *m;
  int steps;       /* steps since the last reset: the absolute step index of the next */
  real *x;     /* (I) the next step's input, written by the caller */
  real *h;     /* (sum of H_l) hidden states, layer after layer, right after x:
                * each layer's input and previous state are then one vector */
  real *c;     /* (sum of H_l) cell states */
  real *out;   /* (O) the head's output, or (H_last) without a head */
  real *gates; /* (maxG) */
  real *rec;   /* GRU: (maxG) the recurrent term */
  real *aux, *c_next;
  real *prev;  /* FGR: (sum of 4 H_l) each layer's gate activations of the step before */
  real *depth; /* depth gate: (max H_l) its input term, then its activation */
};

static size_t state_size(const lw_model *m) {
  size_t n = 0;
  for (int l = 0; l < m->stack.L; l++) n += m->stack.H[l];
  return n;
}

/* NULL when the model is bidirectional or memory runs out (lw_last_error says which). */
lw_stream *lw_stream_init(lw_model *m) {
  int maxH = 0;
  for (int l = 0; l < m->stack.L; l++) maxH = m->stack.H[l] > maxH ? m->stack.H[l] : maxH;
  size_t S = state_size(m), O = m->head.O ? m->head.O : m->stack.H[m->stack.L - 1];
  lw_stream *s = calloc(1, sizeof *s);
  size_t maxG = (size_t)lw_cell_kind(m->stack.cell)->gates * maxH;
  real *buf = calloc(m->stack.I + O + 6 * S + 2 * maxG + 3 * (size_t)maxH, sizeof(real));
  if (!s || !buf) return free(s), free(buf), NULL;
  s->magic = LW_STREAM_MAGIC, s->m = m, s->x = buf, s->h = buf + m->stack.I, s->c = s->h + S, s->out = s->c + S;
  s->gates = s->out + O, s->rec = s->gates + maxG, s->aux = s->rec + maxG, s->c_next = s->aux + maxH;
  s->prev = s->c_next + maxH, s->depth = s->prev + 4 * S;
  return s;
}

void lw_stream_release(lw_stream *s) {
  if (s) s->magic = 0, free(s->x), free(s);
}

int lw_stream_valid(const lw_stream *s) { return s && s->magic == LW_STREAM_MAGIC; }
const lw_model *lw_stream_model(const lw_stream *s) { return s->m; }
real *lw_stream_input_buf(lw_stream *s) { return s->x; }
real *lw_stream_output_buf(lw_stream *s) { return s->out; }
real *lw_stream_state_buf(lw_stream *s, int which) { return which ? s->c : s->h; }

void lw_stream_zero(lw_stream *s) {
  memset(s->h, 0, 2 * state_size(s->m) * sizeof(real)); /* h and c */
  memset(s->prev, 0, 4 * state_size(s->m) * sizeof(real));
  s->steps = 0;
}

/* One step: reads s->x (api.c has checked it), updates every layer's state,
 * writes s->out (probabilities for classification losses unless raw). */
void lw_stream_advance(lw_stream *s, int raw) {
  lw_model *m = s->m;
  const int step = s->steps++;
  lw_model_pack(m);
  const real *in = s->x;
  real *h = s->h, *c = s->c, *prev = s->prev;
  for (int l = 0; l < m->stack.L; l++) {
    lw_dir *d = &m->stack.dirs[l][0];
    const int H = d->H, G = d->G;
    if (d->ops->split_recurrent) { /* input and recurrent terms apart (cells.c) */
      memcpy(s->gates, d->b_ih, G * sizeof(real));
      memcpy(s->rec, d->b_hh, G * sizeof(real));
      lw_gemm_nn(1, G, d->in, in, d->in, d->w_ihT, d->ld_T, s->gates, G);
      lw_gemm_nn(1, G, H, h, H, d->w_hhT, d->ld_T, s->rec, G);
    } else if (d->ops->recurrent) { /* the cell's own recurrent product, after the input's, as layer.c */
      for (int j = 0; j < G; j++) s->gates[j] = d->b_ih[j] + d->b_hh[j];
      if (lw_sparse(in, d->in)) lw_gemm_sparse_nn(1, G, d->in, in, d->w_ihT, d->ld_T, s->gates);
      else lw_gemm_nn(1, G, d->in, in, d->in, d->w_ihT, d->ld_T, s->gates, G);
      d->ops->recurrent(d, step, 1, h, s->gates);
    } else {
      for (int j = 0; j < G; j++) s->gates[j] = d->b_ih[j] + d->b_hh[j];
      if (lw_sparse(in, d->in)) { /* a one-hot input: its rows of W_ih^T, then h, in the same order */
        lw_gemm_sparse_nn(1, G, d->in, in, d->w_ihT, d->ld_T, s->gates);
        lw_gemm_nn(1, G, H, h, H, d->w_hhT, d->ld_T, s->gates, G);
      } else /* [input, h] . [W_ih^T; W_hh^T] in one product: both packed copies
              * are adjacent (model.c), and so are a layer's input and its state */
        lw_gemm_nn(1, G, d->in + H, in, d->in + H, d->w_ihT, d->ld_T, s->gates, G);
    }
    if (d->w_gate) lw_gate_recurrence_forward(d, 1, prev, s->gates); /* prev is zero at the first step */
    /* the depth gate: its input term as layer.c, and the layer below's c, updated just before (c - H) */
    lw_depth_io dep = {s->depth, d->w_depth ? c - H : NULL, NULL, NULL};
    if (d->w_depth) {
      memcpy(s->depth, d->b_depth, H * sizeof(real));
      if (lw_sparse(in, d->in)) lw_gemm_sparse_nn(1, H, d->in, in, d->w_depthT, d->ld_D, s->depth);
      else lw_gemm_nn(1, H, d->in, in, d->in, d->w_depthT, d->ld_D, s->depth, H);
    }
    lw_cell_forward(d, step, 1, s->gates, s->rec, h, c, s->c_next, h, s->aux, d->w_depth ? &dep : NULL);
    memcpy(c, s->c_next, H * sizeof(real));
    if (d->w_gate) memcpy(prev, s->gates, G * sizeof(real));
    prev += G;
    in = h;
    h += H, c += H;
  }
  if (!m->head.O) {
    memcpy(s->out, in, m->stack.H[m->stack.L - 1] * sizeof(real));
    return;
  }
  memcpy(s->out, m->head.b, m->head.O * sizeof(real));
  lw_gemm_nn(1, m->head.O, m->head.in, in, m->head.in, m->head.wT, m->head.ld, s->out, m->head.O);
  if (!raw) lw_loss_activate(m->head.loss, 1, m->head.O, s->out, s->out);
}

/* After a forward pass on one sequence (B = 1): per layer, per direction,
 * per step, the gate activations (i f g o / r z n / h), then c and h, of H
 * values each -> (L, D, T, G/H + 2, H_l). */
void lw_trace_copy(const lw_model *m, real *out) {
  const int T = m->batch.T;
  for (int l = 0; l < m->stack.L; l++)
    for (int d = 0; d < m->stack.D; d++) {
      const lw_dir *dir = &m->stack.dirs[l][d];
      const int H = dir->H, G = dir->G;
      for (int t = 0; t < T; t++) {
        const int slot = d ? t : t + 1;
        memcpy(out, dir->gates + (size_t)t * G, G * sizeof(real));
        memcpy(out + G, dir->cs + (size_t)slot * H, H * sizeof(real));
        memcpy(out + G + H, dir->hs + (size_t)slot * H, H * sizeof(real));
        out += G + 2 * H;
      }
    }
}

/* api.c — the exports the JS package calls: argument armour, status codes and
 * lw_last_error(); no maths. Every check happens here, before any kernel runs,
 * so a bad call returns a status and leaves the model as it was. */
#include <malloc.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"



static char last_error[256];

static int fail(int status, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(last_error, sizeof last_error, fmt, ap);
  va_end(ap);
  return status;
}

LW_EXPORT const char *lw_last_error(void) { return last_error; }
LW_EXPORT const char *lw_version(void) { return LW_VERSION; }
LW_EXPORT int lw_real_size(void) { return (int)sizeof(lw_real); }
LW_EXPORT int lw_simd(void) {
#ifdef LW_SIMD
  return 1;
#else
  return 0;
#endif
}
/* Bytes in use on the heap: lets tests see that nothing leaks. */
LW_EXPORT double lw_heap_used(void) { return (double)mallinfo().uordblks; }
LW_EXPORT void *lw_alloc(size_t bytes) { return malloc(bytes ? bytes : 1); }
LW_EXPORT void lw_free(void *p) { free(p); }

#define LW_STR_(x) #x
#define LW_STR(x) LW_STR_(x)

LW_EXPORT int lw_model_create(const int32_t *cfg, int n, float forget_bias, float dropout, lw_model **out) {
  if (!out) return fail(LW_STATUS_BAD_ARGUMENT, "create: no place for the model pointer");
  *out = NULL;
  if (!cfg || n < LW_CONFIG_HIDDEN + 1) return fail(LW_STATUS_BAD_ARGUMENT, "config: too short");
  const int L = cfg[LW_CONFIG_LAYERS];
  if (L < 1 || L > LW_MAX_LAYERS) return fail(LW_STATUS_BAD_ARGUMENT, "layers: %d is outside 1..%d", L, LW_MAX_LAYERS);
  const int g = n - LW_CONFIG_HIDDEN - L; /* the Clockwork's periods follow the hidden sizes */
  if (cfg[LW_CONFIG_CELL] == LW_CELL_CLOCKWORK ? g < 1 || g > LW_MAX_PERIODS : g != 0)
    return fail(LW_STATUS_BAD_ARGUMENT, "config: expected %d entries%s, got %d", LW_CONFIG_HIDDEN + L,
                cfg[LW_CONFIG_CELL] == LW_CELL_CLOCKWORK ? " and 1.." LW_STR(LW_MAX_PERIODS) " periods" : "", n);
  if (cfg[LW_CONFIG_INPUT_SIZE] < 1 || cfg[LW_CONFIG_INPUT_SIZE] > LW_MAX_SIZE)
    return fail(LW_STATUS_BAD_ARGUMENT, "inputSize: %d is outside 1..%d", cfg[LW_CONFIG_INPUT_SIZE], LW_MAX_SIZE);
  if (cfg[LW_CONFIG_OUTPUT_SIZE] < 0 || cfg[LW_CONFIG_OUTPUT_SIZE] > LW_MAX_SIZE)
    return fail(LW_STATUS_BAD_ARGUMENT, "outputSize: %d is outside 0..%d", cfg[LW_CONFIG_OUTPUT_SIZE], LW_MAX_SIZE);
  if ((unsigned)cfg[LW_CONFIG_BIDIRECTIONAL] > 1) return fail(LW_STATUS_BAD_ARGUMENT, "bidirectional: must be 0 or 1");
  const lw_cell_ops *cell = lw_cell_kind(cfg[LW_CONFIG_CELL]);
  if (!cell) return fail(LW_STATUS_BAD_ARGUMENT, "cell: %d is unknown", cfg[LW_CONFIG_CELL]);
  if (cfg[LW_CONFIG_GATES] & ~LW_GATE_ALL) return fail(LW_STATUS_BAD_ARGUMENT, "gates: unknown switches 0x%x", cfg[LW_CONFIG_GATES]);
  if (cfg[LW_CONFIG_GATES] && !cell->switches) return fail(LW_STATUS_BAD_ARGUMENT, "gates: switches apply to LSTM cells only");
  if ((unsigned)cfg[LW_CONFIG_RETURN_SEQUENCES] > 1) return fail(LW_STATUS_BAD_ARGUMENT, "returnSequences: must be 0 or 1");
  if ((unsigned)cfg[LW_CONFIG_LOSS] > LW_LOSS_SIGMOID_CE) return fail(LW_STATUS_BAD_ARGUMENT, "loss: %d is unknown", cfg[LW_CONFIG_LOSS]);
  for (int l = 0; l < L; l++)
    if (cfg[LW_CONFIG_HIDDEN + l] < 1 || cfg[LW_CONFIG_HIDDEN + l] > LW_MAX_SIZE)
      return fail(LW_STATUS_BAD_ARGUMENT, "hiddenSize[%d]: %d is outside 1..%d", l, cfg[LW_CONFIG_HIDDEN + l], LW_MAX_SIZE);
  for (int i = 0; i < g; i++) {
    const int p = cfg[LW_CONFIG_HIDDEN + L + i];
    if (p < 1 || p > LW_MAX_STEPS || (i && p <= cfg[LW_CONFIG_HIDDEN + L + i - 1]))
      return fail(LW_STATUS_BAD_ARGUMENT, "periods: must ascend from 1 or more (periods[%d] = %d)", i, p);
  }
  for (int l = 0; l < L && g; l++)
    if (cfg[LW_CONFIG_HIDDEN + l] % g)
      return fail(LW_STATUS_BAD_ARGUMENT, "hiddenSize[%d]: %d does not split into %d Clockwork modules; use a multiple of %d",
                  l, cfg[LW_CONFIG_HIDDEN + l], g, g);
  if (cfg[LW_CONFIG_GATES] & LW_GATE_DEPTH) {
    if (L < 2) return fail(LW_STATUS_BAD_ARGUMENT, "gates: the depth gate links layers: it needs 2 layers or more, got %d", L);
    for (int l = 1; l < L; l++)
      if (cfg[LW_CONFIG_HIDDEN + l] != cfg[LW_CONFIG_HIDDEN])
        return fail(LW_STATUS_BAD_ARGUMENT, "gates: the depth gate adds the cell state below: every layer needs hiddenSize %d, layer %d has %d",
                    cfg[LW_CONFIG_HIDDEN], l, cfg[LW_CONFIG_HIDDEN + l]);
    if (cfg[LW_CONFIG_GATES] & ~(LW_GATE_DEPTH | LW_GATE_PEEPHOLES | LW_GATE_COUPLED))
      return fail(LW_STATUS_BAD_ARGUMENT, "gates: the depth gate combines with peepholes and the coupled gate only (switches 0x%x)",
                  cfg[LW_CONFIG_GATES]);
  }
  if (g && cfg[LW_CONFIG_BIDIRECTIONAL])
    return fail(LW_STATUS_BAD_ARGUMENT, "bidirectional: a Clockwork RNN runs forward in time only");
  if (!isfinite(forget_bias)) return fail(LW_STATUS_BAD_ARGUMENT, "forgetBias: must be finite");
  if (!(dropout >= 0 && dropout < 1)) return fail(LW_STATUS_BAD_ARGUMENT, "dropout: must be in [0, 1)");

  lw_model *m = calloc(1, sizeof *m);
  if (!m) return fail(LW_STATUS_NO_MEMORY, "out of memory creating the model");
  m->stack.I = cfg[LW_CONFIG_INPUT_SIZE], m->head.O = cfg[LW_CONFIG_OUTPUT_SIZE], m->stack.L = L;
  m->stack.D = cfg[LW_CONFIG_BIDIRECTIONAL] ? 2 : 1, m->stack.cell = cfg[LW_CONFIG_CELL], m->stack.flags = cfg[LW_CONFIG_GATES];
  m->head.per_step = cfg[LW_CONFIG_RETURN_SEQUENCES], m->head.loss = cfg[LW_CONFIG_LOSS];
  m->seed = (uint32_t)cfg[LW_CONFIG_SEED];
  for (int l = 0; l < L; l++) m->stack.H[l] = cfg[LW_CONFIG_HIDDEN + l];
  m->stack.n_periods = g;
  for (int i = 0; i < g; i++) m->stack.periods[i] = cfg[LW_CONFIG_HIDDEN + L + i];
  m->forget_bias = forget_bias, m->stack.dropout = dropout;
  /* params, grads, two packed copies (padded) and two optimizer moments must
   * fit in wasm32 with room for a batch: 1.5e9 of the 2 GiB (P * 6.5 reals
   * was the estimate before the exact count; both are kept) */
  lw_model_plan_tensors(m);
  const double P = (double)m->n_params, bytes = (double)lw_model_bytes_for(m);
  if (P * 6.5 * sizeof(real) > 1.5e9 || bytes > 1.5e9) {
    free(m);
    return fail(LW_STATUS_NO_MEMORY, "the model is too large: %.0f parameters need %.0f MiB, more than wasm32's 2 GiB allows",
                P, bytes / 1048576);
  }
  if (lw_model_init(m)) {
    lw_model_release(m);
    return fail(LW_STATUS_NO_MEMORY, "out of memory creating the model");
  }
  m->opt.kind = LW_OPTIM_ADAM;
  m->opt.hyper[LW_HYPER_LR] = (real)1e-3, m->opt.hyper[LW_HYPER_BETA1] = (real)0.9;
  m->opt.hyper[LW_HYPER_BETA2] = (real)0.999, m->opt.hyper[LW_HYPER_EPS] = (real)1e-8;
  *out = m;
  return LW_STATUS_OK;
}

LW_EXPORT void lw_model_free(lw_model *m) {
  if (m) lw_model_release(m);
}

LW_EXPORT lw_real *lw_model_params(lw_model *m) { return m ? m->params : NULL; }
LW_EXPORT lw_real *lw_model_grads(lw_model *m) { return m ? m->grads : NULL; }
LW_EXPORT double lw_model_param_count(lw_model *m) { return m ? (double)m->P : 0; }
LW_EXPORT double lw_model_workspace_bytes(lw_model *m, int B, int T) {
  if (!m || B < 1 || T < 1) return 0;
  return (double)lw_model_workspace_count(m, B, T, 0) * sizeof(real);
}

/* Call after writing into lw_model_params(): refreshes the packed copies. */
LW_EXPORT void lw_model_params_changed(lw_model *m) {
  if (!m) return;
  m->packed_dirty = 1, m->have_forward = 0;
  lw_model_structural_zero(m); /* what the caller wrote there is never read: keep it zero */
}

LW_EXPORT int lw_model_tensor_count(lw_model *m) { return m ? m->n_tensors : 0; }

/* out[LW_TENSOR_INFO_SIZE]: see enum lw_tensor_info_index. */
LW_EXPORT int lw_model_tensor_info(lw_model *m, int k, int32_t *out) {
  if (!m || !out || k < 0 || k >= m->n_tensors) return fail(LW_STATUS_BAD_ARGUMENT, "tensor index %d out of range", k);
  const lw_tensor *t = &m->tensor[k];
  out[LW_TENSOR_INFO_KIND] = t->kind, out[LW_TENSOR_INFO_LAYER] = t->layer, out[LW_TENSOR_INFO_DIR] = t->dir;
  out[LW_TENSOR_INFO_OFFSET] = (int32_t)t->offset; /* < 2^31: the model fits in wasm32 (lw_model_create) */
  out[LW_TENSOR_INFO_ROWS] = t->rows, out[LW_TENSOR_INFO_COLS] = t->cols, out[LW_TENSOR_INFO_RANK] = t->rank;
  return LW_STATUS_OK;
}

LW_EXPORT int lw_model_set_optimizer(lw_model *m, int kind, const lw_real *hyper, int n) {
  if (!m) return fail(LW_STATUS_BAD_ARGUMENT, "no model");
  if (kind < LW_OPTIM_SGD || kind > LW_OPTIM_RMSPROP) return fail(LW_STATUS_BAD_ARGUMENT, "optimizer: %d is unknown", kind);
  if (!hyper || n != LW_HYPER_COUNT) return fail(LW_STATUS_BAD_ARGUMENT, "optimizer: expected %d hyper-parameters", LW_HYPER_COUNT);
  for (int i = 0; i < n; i++)
    if (!isfinite(hyper[i]) || hyper[i] < 0) return fail(LW_STATUS_BAD_ARGUMENT, "optimizer: hyper-parameter %d must be finite and >= 0", i);
  if (hyper[LW_HYPER_BETA1] >= 1 || hyper[LW_HYPER_BETA2] >= 1) return fail(LW_STATUS_BAD_ARGUMENT, "optimizer: betas must be below 1");
  if (kind != m->opt.kind && m->opt.m) { /* a new optimizer starts from fresh state */
    memset(m->opt.m, 0, 2 * m->P * sizeof(real));
    m->opt.steps = 0;
  }
  m->opt.kind = kind;
  memcpy(m->opt.hyper, hyper, sizeof m->opt.hyper);
  return LW_STATUS_OK;
}

/* The optimizer moments, 2*P reals (m then v), allocated if needed: for save/load. */
LW_EXPORT lw_real *lw_model_optim_state(lw_model *m) {
  if (!m || lw_optim_reserve(m)) return NULL;
  return m->opt.m;
}
LW_EXPORT double lw_model_optim_steps(lw_model *m) { return m ? m->opt.steps : 0; }
LW_EXPORT int lw_model_optim_kind(lw_model *m) { return m ? m->opt.kind : 0; }
LW_EXPORT void lw_model_set_optim_steps(lw_model *m, double steps) {
  if (m && steps >= 0 && steps < 9007199254740992.0) m->opt.steps = floor(steps);
}
/* Dropout generator state (two 32-bit halves), so a resumed run is exact. */
LW_EXPORT uint32_t lw_model_rng_state(lw_model *m, int half) { return m ? (uint32_t)(m->rng.s >> (half ? 32 : 0)) : 0; }
LW_EXPORT void lw_model_set_rng_state(lw_model *m, uint32_t lo, uint32_t hi) {
  if (m) m->rng.s = (uint64_t)hi << 32 | lo;
}

static int check_finite(const real *p, size_t n, const char *what) {
  for (size_t i = 0; i < n; i++)
    if (!isfinite(p[i])) return fail(LW_STATUS_NOT_FINITE, "%s[%zu] is not finite", what, i);
  return LW_STATUS_OK;
}

/* Whether n values of `what` can be in wasm memory at all: sizes from the
 * caller are multiplied in 64 bits, so a product past 2^32 cannot wrap into
 * a small one. */
static int check_count(uint64_t n, const char *what) {
  if (n > LW_MEMORY_LIMIT / sizeof(real))
    return fail(LW_STATUS_NO_MEMORY, "%s: %.0f values do not fit in wasm32's 2 GiB", what, (double)n);
  return LW_STATUS_OK;
}

/* Checks a batch's sizes and lengths and makes room for it. */
static int check_shape(lw_model *m, const int32_t *lengths, int B, int T) {
  if (!m) return fail(LW_STATUS_BAD_ARGUMENT, "no model");
  if (B < 1 || B > LW_MAX_BATCH) return fail(LW_STATUS_BAD_ARGUMENT, "batch size %d is outside 1..%d", B, LW_MAX_BATCH);
  if (T < 1 || T > LW_MAX_STEPS) return fail(LW_STATUS_BAD_ARGUMENT, "sequence length %d is outside 1..%d", T, LW_MAX_STEPS);
  if (lengths)
    for (int b = 0; b < B; b++)
      if (lengths[b] < 1 || lengths[b] > T) return fail(LW_STATUS_BAD_ARGUMENT, "lengths[%d] = %d is outside 1..%d", b, lengths[b], T);
  const uint64_t need = lw_model_workspace_count(m, B, T, m->stack.dropout > 0);
  if (need > LW_MEMORY_LIMIT / sizeof(real))
    return fail(LW_STATUS_NO_MEMORY, "a batch of %d x %d steps needs %.0f MiB of workspace, more than wasm32's 2 GiB; "
                "use smaller batches or shorter sequences", B, T, (double)need * sizeof(real) / 1048576);
  if (lw_model_reserve(m, B, T)) return fail(LW_STATUS_NO_MEMORY, "out of memory for a batch of %d x %d steps", B, T);
  return LW_STATUS_OK;
}

/* Checks a batch given as one buffer x (B,T,I) and makes room for it. */
static int check_batch(lw_model *m, const real *x, const int32_t *lengths, int B, int T) {
  if (!m) return fail(LW_STATUS_BAD_ARGUMENT, "no model");
  if (!x) return fail(LW_STATUS_BAD_ARGUMENT, "inputs: missing");
  if (B < 1 || T < 1 || B > LW_MAX_BATCH || T > LW_MAX_STEPS) return check_shape(m, lengths, B, T);
  const uint64_t n = (uint64_t)B * T * m->stack.I;
  int status = check_count(n, "inputs");
  if (!status) status = check_finite(x, (size_t)n, "inputs");
  return status ? status : check_shape(m, lengths, B, T);
}

/* h0/c0 (L*D, B, H_l) are finite; checked before any staging, so a refusal changes nothing. */
static int check_states(const lw_model *m, int B, const real *h0, const real *c0) {
  uint64_t ns = 0;
  int status = LW_STATUS_OK;
  if (B < 1 || B > LW_MAX_BATCH || (!h0 && !c0)) return status; /* the batch check names the problem */
  for (int l = 0; l < m->stack.L; l++) ns += (uint64_t)m->stack.D * B * m->stack.H[l];
  if ((status = check_count(ns, "states"))) return status;
  if (h0 && (status = check_finite(h0, (size_t)ns, "h0"))) return status;
  if (c0) status = check_finite(c0, (size_t)ns, "c0");
  return status;
}

/* What one gradient computation takes besides the batch: the states in and
 * out (caller order, (L*D,B,H_l), any may be NULL) and the loss's norm. */
typedef struct grad_io {
  int training;                 /* dropout on */
  double norm;                  /* the gradient is d(loss sum)/d(theta) / norm; <= 0: the batch's own count */
  const real *h0, *c0;          /* initial states (NULL: zeros) */
  const real *dhn, *dcn;        /* gradients of the final states from outside the loss (NULL: zero) */
  real *hn, *cn;                /* final states out */
  real *dh0, *dc0;              /* gradients of the initial states out */
} grad_io;

/* Loss and gradients (into lw_model_grads, overwritten) for the batch the
 * caller checked and reserved (check_shape), from the sources xs and ys;
 * lengths (B) or NULL for all T. loss[0] gets the loss sum, loss[1] its
 * count (what the mean divides by). Changes no parameter. */
static int loss_and_grads(lw_model *m, const lw_source *xs, const lw_source *ys, const int32_t *lengths,
                          const grad_io *io, double loss[2]) {
  lw_model_stage(m, xs, lengths);
  lw_batch_stage(&m->batch, ys, m->head.target, m->head.O, m->head.per_step);
  memset(m->grads, 0, m->P * sizeof(real));
  m->stack.training = io->training;
  lw_model_stack_forward(m, io->h0, io->c0);
  if (io->hn) lw_states_copy(&m->stack, &m->batch, m->stack.hn, io->hn, 1);
  if (io->cn) lw_states_copy(&m->stack, &m->batch, m->stack.cn, io->cn, 1);
  lw_head_forward(&m->head, &m->stack, &m->batch);
  loss[0] = lw_loss_forward_backward(&m->head, &m->batch, 1, io->norm, &loss[1]);
  const double mean = loss[1] > 0 ? loss[0] / loss[1] : 0;
  if (!isfinite(mean) || !isfinite((real)mean)) {
    m->stack.training = 0;
    return fail(LW_STATUS_NOT_FINITE, "the loss is not finite (%g); nothing was changed", mean);
  }
  lw_head_backward(&m->head, &m->stack, &m->batch);
  if (io->dhn) lw_states_add(&m->stack, &m->batch, io->dhn, m->stack.dhn);
  if (io->dcn && lw_cell_kind(m->stack.cell)->cell_state) lw_states_add(&m->stack, &m->batch, io->dcn, m->stack.dcn);
  lw_stack_backward(&m->stack, &m->batch, NULL);
  if (io->dh0) lw_states_copy(&m->stack, &m->batch, m->stack.dhn, io->dh0, 1);
  if (io->dc0) lw_states_copy(&m->stack, &m->batch, m->stack.dcn, io->dc0, 1);
  m->stack.training = 0;
  return LW_STATUS_OK;
}

/* Clipping and the optimizer step on lw_model_grads with learning rate lr
 * (overrides the optimizer's: schedules); norm < 0: the gradient's own. */
static int update(lw_model *m, double lr, double norm) {
  if (!(lr >= 0 && isfinite(lr))) return fail(LW_STATUS_BAD_ARGUMENT, "learningRate: must be finite and >= 0");
  real saved_lr = m->opt.hyper[LW_HYPER_LR];
  m->opt.hyper[LW_HYPER_LR] = (real)lr;
  int status = lw_optim_step(m, norm);
  m->opt.hyper[LW_HYPER_LR] = saved_lr;
  if (status == LW_STATUS_NOT_FINITE) return fail(status, "the update is not finite; it was skipped");
  if (status) return fail(status, "out of memory for the optimizer state");
  return LW_STATUS_OK;
}

/* loss_and_grads with dropout, then update: the one-call training step;
 * *loss gets the batch's mean loss. */
static int train_step(lw_model *m, const lw_source *xs, const lw_source *ys, const int32_t *lengths, double lr,
                      real *loss, const real *h0, const real *c0, real *hn, real *cn) {
  if (!(lr >= 0 && isfinite(lr))) return fail(LW_STATUS_BAD_ARGUMENT, "learningRate: must be finite and >= 0");
  int status = lw_optim_reserve(m);
  if (status) return fail(status, "out of memory for the optimizer state");
  const grad_io io = {1, -1, h0, c0, NULL, NULL, hn, cn, NULL, NULL};
  double l[2];
  if ((status = loss_and_grads(m, xs, ys, lengths, &io, l)) || (status = update(m, lr, -1))) return status;
  if (loss) *loss = (real)(l[1] > 0 ? l[0] / l[1] : 0);
  return LW_STATUS_OK;
}

/* Checks targets for a batch of B rows (T steps each when per step). */
static int check_targets(const lw_model *m, const real *y, int B, int T) {
  if (!m->head.O) return fail(LW_STATUS_BAD_ARGUMENT, "the model has no output layer to train (outputSize 0)");
  if (!y) return fail(LW_STATUS_BAD_ARGUMENT, "targets: missing");
  const uint64_t n = (uint64_t)B * (m->head.per_step ? T : 1) * m->head.O;
  int status = check_count(n, "targets");
  return status ? status : check_finite(y, (size_t)n, "targets");
}

/* One training step on a batch: x (B,T,I) batch-first; y (B,O) or (B,T,O);
 * lengths (B) or NULL for all T. h0/c0/hn/cn as loss_and_grads: truncated
 * BPTT carries the states from chunk to chunk, with no gradient across.
 * A failure changes no parameter. */
LW_EXPORT int lw_model_train_batch(lw_model *m, const lw_real *x, const lw_real *y, const int32_t *lengths, int B,
                                   int T, double lr, lw_real *loss, const lw_real *h0, const lw_real *c0, lw_real *hn,
                                   lw_real *cn) {
  int status;
  if ((status = check_batch(m, x, lengths, B, T)) || (status = check_targets(m, y, B, T)) ||
      (status = check_states(m, B, h0, c0)))
    return status;
  lw_source xs = lw_source_whole(x, B, T, 0), ys = lw_source_whole(y, B, m->head.per_step ? T : 1, 0);
  return train_step(m, &xs, &ys, lengths, lr, loss, h0, c0, hn, cn);
}

/* A training set staged once (B,T,I) and its targets (B,O) or (B,T,O),
 * checked here; lw_model_train_rows then trains on rows of it with no
 * further copy. The buffers stay the caller's and must outlive their use;
 * x = NULL forgets them. */
LW_EXPORT int lw_model_set_data(lw_model *m, const lw_real *x, const lw_real *y, int B, int T) {
  int status;
  if (!m) return fail(LW_STATUS_BAD_ARGUMENT, "no model");
  m->data_x = m->data_y = NULL;
  if (!x) return LW_STATUS_OK; /* forget the staged data */
  /* rows: any count whose buffer fits in memory (check_count); steps as a batch's */
  if (B < 1 || T < 1 || T > LW_MAX_STEPS) return fail(LW_STATUS_BAD_ARGUMENT, "data of %d x %d steps is out of range", B, T);
  const uint64_t n = (uint64_t)B * T * m->stack.I;
  if ((status = check_count(n, "inputs")) || (status = check_finite(x, (size_t)n, "inputs")) ||
      (status = check_targets(m, y, B, T)))
    return status;
  m->data_x = x, m->data_y = y, m->data_B = B, m->data_T = T;
  return LW_STATUS_OK;
}

/* Checks rows (B) of the staged data, steps t0 .. t0+T-1, and makes room. */
static int check_rows(lw_model *m, const int32_t *rows, const int32_t *lengths, int B, int T, int t0) {
  if (!m) return fail(LW_STATUS_BAD_ARGUMENT, "no model");
  if (!m->data_x) return fail(LW_STATUS_BAD_STATE, "no training data staged (lw_model_set_data)");
  if (!rows || !lengths) return fail(LW_STATUS_BAD_ARGUMENT, "rows and lengths are required");
  if (B < 1 || B > LW_MAX_BATCH) return fail(LW_STATUS_BAD_ARGUMENT, "batch size %d is outside 1..%d", B, LW_MAX_BATCH);
  if (t0 < 0 || T > m->data_T - t0)
    return fail(LW_STATUS_BAD_ARGUMENT, "steps %d..%d are outside the data's %d", t0, t0 + T - 1, m->data_T);
  for (int b = 0; b < B; b++)
    if (rows[b] < 0 || rows[b] >= m->data_B)
      return fail(LW_STATUS_BAD_ARGUMENT, "rows[%d] = %d is outside 0..%d", b, rows[b], m->data_B - 1);
  return check_shape(m, lengths, B, T);
}

/* The sources of rows of the staged data from step t0. */
static void staged_sources(const lw_model *m, const int32_t *rows, int t0, lw_source *xs, lw_source *ys) {
  const lw_source x = {m->data_x, rows, m->data_B, m->data_T, t0, 0};
  const lw_source y = {m->data_y, rows, m->data_B, m->head.per_step ? m->data_T : 1, m->head.per_step ? t0 : 0, 0};
  *xs = x, *ys = y;
}

/* One training step on rows (B) of the staged data, steps t0 .. t0+T-1,
 * each row's own length in lengths (B); the rest as lw_model_train_batch. */
LW_EXPORT int lw_model_train_rows(lw_model *m, const int32_t *rows, const int32_t *lengths, int B, int T, int t0,
                                  double lr, lw_real *loss, const lw_real *h0, const lw_real *c0, lw_real *hn,
                                  lw_real *cn) {
  int status;
  if ((status = check_rows(m, rows, lengths, B, T, t0)) || (status = check_states(m, B, h0, c0))) return status;
  lw_source xs, ys;
  staged_sources(m, rows, t0, &xs, &ys);
  return train_step(m, &xs, &ys, lengths, lr, loss, h0, c0, hn, cn);
}

/* Loss and gradients of rows of the staged data without an update (lw.h). */
LW_EXPORT int lw_model_grad_rows(lw_model *m, const int32_t *rows, const int32_t *lengths, int B, int T, int t0,
                                 int flags, double norm, const lw_real *h0, const lw_real *c0, const lw_real *dhn,
                                 const lw_real *dcn, lw_real *hn, lw_real *cn, lw_real *dh0, lw_real *dc0,
                                 double *loss) {
  int status;
  if ((status = check_rows(m, rows, lengths, B, T, t0)) || (status = check_states(m, B, h0, c0)) ||
      (status = check_states(m, B, dhn, dcn)))
    return status;
  if (flags & ~LW_FLAG_TRAINING) return fail(LW_STATUS_BAD_ARGUMENT, "flags: unknown bits 0x%x", flags);
  if (!isfinite(norm)) return fail(LW_STATUS_BAD_ARGUMENT, "norm: must be finite");
  lw_source xs, ys;
  staged_sources(m, rows, t0, &xs, &ys);
  const grad_io io = {flags & LW_FLAG_TRAINING, norm, h0, c0, dhn, dcn, hn, cn, dh0, dc0};
  double l[2];
  if ((status = loss_and_grads(m, &xs, &ys, lengths, &io, l))) return status;
  if (loss) loss[0] = l[0], loss[1] = l[1];
  return LW_STATUS_OK;
}

/* Sum of squares of lw_model_grads after value clipping (lw.h). */
LW_EXPORT double lw_model_grad_sumsq(lw_model *m) { return m ? lw_optim_sumsq(m) : 0; }

/* Clipping by the global norm `norm` (< 0: this gradient's own) and the
 * optimizer step on whatever lw_model_grads holds (lw.h). */
LW_EXPORT int lw_model_update(lw_model *m, double lr, double norm) {
  if (!m) return fail(LW_STATUS_BAD_ARGUMENT, "no model");
  if (!isfinite(norm)) return fail(LW_STATUS_NOT_FINITE, "the gradient norm is not finite; the update was skipped");
  return update(m, lr, norm);
}

/* The optimizer step on a caller's parameter block (lw.h). */
LW_EXPORT int lw_optim_block_step(int kind, const lw_real *hyper, int n, lw_real *w, const lw_real *g,
                                  lw_real *moments, int P, double steps, double norm) {
  if (kind < LW_OPTIM_SGD || kind > LW_OPTIM_RMSPROP) return fail(LW_STATUS_BAD_ARGUMENT, "optimizer: unknown kind %d", kind);
  if (!hyper || n != LW_HYPER_COUNT) return fail(LW_STATUS_BAD_ARGUMENT, "hyper: need %d values", LW_HYPER_COUNT);
  if (P < 0 || (P > 0 && (!w || !g || !moments))) return fail(LW_STATUS_BAD_ARGUMENT, "parameters, gradient or moments: missing");
  if (!(steps >= 0 && steps < 9007199254740992.0)) return fail(LW_STATUS_BAD_ARGUMENT, "steps: must be in 0..2^53");
  if (!(norm >= 0 && isfinite(norm))) return fail(LW_STATUS_NOT_FINITE, "the gradient norm is not finite; the update was skipped");
  lw_optim_state o = {kind, {0}, moments, moments + P, steps};
  for (int i = 0; i < LW_HYPER_COUNT; i++) o.hyper[i] = hyper[i];
  if (!(o.hyper[LW_HYPER_LR] >= 0 && isfinite(o.hyper[LW_HYPER_LR])))
    return fail(LW_STATUS_BAD_ARGUMENT, "learningRate: must be finite and >= 0");
  int status = lw_optim_apply(&o, w, g, (size_t)P, norm);
  if (status == LW_STATUS_NOT_FINITE) return fail(status, "the update is not finite; it was skipped");
  return status;
}

/* Loss and gradients without an update and without dropout (gradient checks,
 * custom training loops): *loss and lw_model_grads(). */
LW_EXPORT int lw_model_gradients(lw_model *m, const lw_real *x, const lw_real *y, const int32_t *lengths, int B, int T,
                                 lw_real *loss) {
  double l[2];
  int status;
  if ((status = check_batch(m, x, lengths, B, T)) || (status = check_targets(m, y, B, T))) return status;
  lw_source xs = lw_source_whole(x, B, T, 0), ys = lw_source_whole(y, B, m->head.per_step ? T : 1, 0);
  const grad_io io = {0, -1, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL};
  status = loss_and_grads(m, &xs, &ys, lengths, &io, l);
  if (!status && loss) *loss = (real)(l[1] > 0 ? l[0] / l[1] : 0);
  return status;
}

/* Outputs of the whole model for a batch: out (B,O) or (B,T,O) in the
 * caller's order, probabilities for classification losses unless
 * LW_FLAG_RAW. If y is given, *loss gets the loss against it. */
LW_EXPORT int lw_model_predict(lw_model *m, const lw_real *x, const int32_t *lengths, int B, int T, int flags,
                               lw_real *out, const lw_real *y, lw_real *loss) {
  int status = check_batch(m, x, lengths, B, T);
  if (status) return status;
  if (!m->head.O) return fail(LW_STATUS_BAD_ARGUMENT, "the model has no output layer (outputSize 0); use forward()");
  if (!out) return fail(LW_STATUS_BAD_ARGUMENT, "outputs: missing");
  if (y && (status = check_finite(y, (size_t)B * (m->head.per_step ? T : 1) * m->head.O, "targets"))) return status;
  lw_source xs = lw_source_whole(x, B, T, 0), ys = lw_source_whole(y, B, m->head.per_step ? T : 1, 0);
  lw_model_stage(m, &xs, lengths);
  m->stack.training = 0;
  lw_model_stack_forward(m, NULL, NULL);
  lw_head_forward(&m->head, &m->stack, &m->batch);
  if (y) {
    lw_batch_stage(&m->batch, &ys, m->head.target, m->head.O, m->head.per_step);
    double count, sum = lw_loss_forward_backward(&m->head, &m->batch, 0, -1, &count);
    if (loss) *loss = (real)(count > 0 ? sum / count : 0);
  }
  const int rows = lw_head_rows(&m->head, &m->batch);
  if (!(flags & LW_FLAG_RAW)) lw_loss_activate(m->head.loss, rows, m->head.O, m->head.logits, m->head.logits);
  lw_batch_unstage(&m->batch, m->head.logits, out, m->head.O, m->head.per_step, flags & LW_FLAG_TIME_MAJOR);
  return LW_STATUS_OK;
}

/* The recurrent stack alone, as torch.nn.LSTM: out (T,B,D*H) or (B,T,D*H)
 * by LW_FLAG_TIME_MAJOR, zero past each length; hn/cn (L*D,B,H). h0/c0 may
 * be NULL (zeros). Keeps what lw_model_backward needs. */
LW_EXPORT int lw_model_forward(lw_model *m, const lw_real *x, const int32_t *lengths, int B, int T, int flags,
                               const lw_real *h0, const lw_real *c0, lw_real *out, lw_real *hn, lw_real *cn) {
  int status;
  if (!m) return fail(LW_STATUS_BAD_ARGUMENT, "no model");
  if ((status = check_states(m, B, h0, c0)) || (status = check_batch(m, x, lengths, B, T))) return status;
  if (!out || !hn || !cn) return fail(LW_STATUS_BAD_ARGUMENT, "outputs: missing");
  lw_source xs = lw_source_whole(x, B, T, flags & LW_FLAG_TIME_MAJOR);
  lw_model_stage(m, &xs, lengths);
  m->stack.training = 0;
  lw_model_stack_forward(m, h0, c0);
  const int F = m->stack.D * m->stack.H[m->stack.L - 1];
  lw_batch_unstage(&m->batch, m->stack.y[m->stack.L - 1], out, F, 1, flags & LW_FLAG_TIME_MAJOR);
  lw_states_copy(&m->stack, &m->batch, m->stack.hn, hn, 1);
  lw_states_copy(&m->stack, &m->batch, m->stack.cn, cn, 1);
  m->have_forward = 1, m->forward_time_major = (flags & LW_FLAG_TIME_MAJOR) != 0;
  return LW_STATUS_OK;
}

/* BPTT from gradients of the last lw_model_forward's outputs: dout in its
 * layout (entries past a length are ignored), dhn/dcn (L*D,B,H) or NULL.
 * Writes dx, dh0, dc0 (any may be NULL) and the parameter gradients into
 * lw_model_grads() (overwritten, not accumulated). */
LW_EXPORT int lw_model_backward(lw_model *m, const lw_real *dout, const lw_real *dhn, const lw_real *dcn,
                                lw_real *dx, lw_real *dh0, lw_real *dc0) {
  if (!m) return fail(LW_STATUS_BAD_ARGUMENT, "no model");
  if (!m->have_forward) return fail(LW_STATUS_BAD_STATE, "backward() needs a forward() first");
  if (!dout) return fail(LW_STATUS_BAD_ARGUMENT, "dOutput: missing");
  const int time_major = m->forward_time_major, F = m->stack.D * m->stack.H[m->stack.L - 1];
  const size_t n = lw_state_count(&m->stack, m->batch.B);
  int status;
  if ((status = check_finite(dout, (size_t)m->batch.B * m->batch.T * F, "dOutput"))) return status;
  if (dhn && (status = check_finite(dhn, n, "dh"))) return status;
  if (dcn && (status = check_finite(dcn, n, "dc"))) return status;
  lw_source dys = lw_source_whole(dout, m->batch.B, m->batch.T, time_major);
  lw_batch_stage(&m->batch, &dys, m->stack.dy_a, F, 1);
  if (dhn) lw_states_copy(&m->stack, &m->batch, dhn, m->stack.dhn, 0);
  else memset(m->stack.dhn, 0, n * sizeof(real));
  if (dcn && lw_cell_kind(m->stack.cell)->cell_state) lw_states_copy(&m->stack, &m->batch, dcn, m->stack.dcn, 0);
  else memset(m->stack.dcn, 0, n * sizeof(real));
  memset(m->grads, 0, m->P * sizeof(real));
  lw_stack_backward(&m->stack, &m->batch, m->stack.dx);
  if (dx) lw_batch_unstage(&m->batch, m->stack.dx, dx, m->stack.I, 1, time_major);
  if (dh0) lw_states_copy(&m->stack, &m->batch, m->stack.dhn, dh0, 1);
  if (dc0) lw_states_copy(&m->stack, &m->batch, m->stack.dcn, dc0, 1);
  m->have_forward = 0;
  return LW_STATUS_OK;
}

/* A stream for step-by-step inference at batch 1 (stream.c) into *out.
 * Free it with lw_stream_free before the model. */
LW_EXPORT int lw_stream_create(lw_model *m, lw_stream **out) {
  if (!out) return fail(LW_STATUS_BAD_ARGUMENT, "stream: no place for the stream pointer");
  *out = NULL;
  if (!m) return fail(LW_STATUS_BAD_ARGUMENT, "no model");
  if (m->stack.D != 1)
    return fail(LW_STATUS_BAD_ARGUMENT, "a bidirectional model cannot stream: its reverse direction needs the whole sequence");
  if (!(*out = lw_stream_init(m))) return fail(LW_STATUS_NO_MEMORY, "out of memory creating a stream");
  return LW_STATUS_OK;
}

LW_EXPORT void lw_stream_free(lw_stream *s) {
  if (lw_stream_valid(s)) lw_stream_release(s);
}

/* The stream's buffers: its next input (I), its output (O, or H_last without
 * a head), its states h or c (which = 1) of every layer, (sum of H_l). NULL
 * for anything that is not a live stream. */
LW_EXPORT lw_real *lw_stream_input(lw_stream *s) { return lw_stream_valid(s) ? lw_stream_input_buf(s) : NULL; }
LW_EXPORT lw_real *lw_stream_output(lw_stream *s) { return lw_stream_valid(s) ? lw_stream_output_buf(s) : NULL; }
LW_EXPORT lw_real *lw_stream_state(lw_stream *s, int which) {
  return lw_stream_valid(s) ? lw_stream_state_buf(s, which != 0) : NULL;
}

/* Zeroes the stream's states and its step count. */
LW_EXPORT int lw_stream_reset(lw_stream *s) {
  if (!lw_stream_valid(s)) return fail(LW_STATUS_BAD_ARGUMENT, "no stream");
  lw_stream_zero(s);
  return LW_STATUS_OK;
}

/* One step from lw_stream_input into lw_stream_output; raw: logits, not
 * probabilities. A non-finite input is refused and changes nothing. */
LW_EXPORT int lw_stream_step(lw_stream *s, int raw) {
  if (!lw_stream_valid(s)) return fail(LW_STATUS_BAD_ARGUMENT, "no stream");
  int status = check_finite(lw_stream_input_buf(s), (size_t)lw_stream_model(s)->stack.I, "stream input");
  if (status) return status;
  lw_stream_advance(s, raw);
  return LW_STATUS_OK;
}

/* Gate activations and states of every layer and step for one sequence x
 * (T, I): out (L, D, T, G/H + 2, H_l), the gate rows of the cell (i f g o,
 * r z n, or h), then c and h (stream.c lw_trace_copy). */
LW_EXPORT int lw_model_trace(lw_model *m, const lw_real *x, int T, lw_real *out) {
  int status = check_batch(m, x, NULL, 1, T);
  if (status) return status;
  if (!out) return fail(LW_STATUS_BAD_ARGUMENT, "outputs: missing");
  lw_source xs = lw_source_whole(x, 1, T, 0);
  lw_model_stage(m, &xs, NULL);
  m->stack.training = 0;
  lw_model_stack_forward(m, NULL, NULL);
  lw_trace_copy(m, out);
  return LW_STATUS_OK;
}

/* softmax(z / temperature) (loss.c), for sampling: the same numbers in
 * every runtime (Math.exp may differ between JS engines). */
LW_EXPORT int lw_softmax(const lw_real *z, int n, double temperature, lw_real *out) {
  if (!z || !out || n < 1) return fail(LW_STATUS_BAD_ARGUMENT, "softmax: empty input");
  if (!(temperature > 0 && isfinite(temperature))) return fail(LW_STATUS_BAD_ARGUMENT, "temperature must be finite and > 0");
  lw_loss_softmax(z, n, temperature, out);
  return LW_STATUS_OK;
}

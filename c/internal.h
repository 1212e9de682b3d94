/* internal.h — the engine's types (a direction, the tensor table, a batch, a
 * stack, a head, the model) and the functions its files share. Not part of
 * the public API (lw.h). */
#ifndef LW_INTERNAL_H
#define LW_INTERNAL_H
#include <stdint.h>
#include "lw.h"

typedef lw_real real;

/* Rows per block of layer.c's fused step (and the GRU's recurrent scratch
 * rows): the GEMM kernels work on 4 rows at once; 8 rows of 4H gates stay in
 * L1 up to H = 128. */
#define LW_ROWS_REC 8

/* Seeded generator (rng.c): one stream, the same in every runtime. */
typedef struct lw_rng { uint64_t s; } lw_rng;
void lw_rng_seed(lw_rng *r, uint64_t seed);
uint32_t lw_rng_u32(lw_rng *r);
real lw_rng_uniform(lw_rng *r, real lo, real hi); /* [lo, hi) */

struct lw_dir;

/* The depth gate's buffers for a step's n rows (NULL without it): act (n,H)
 * in as W_d x + b_d, out as d; c_below (n,H) the layer below's c(t); in the
 * backward, dact (n,H) gets dL/d(pre-activation of d) and dc_below (n,H)
 * gets dL/dc_below (written, not added). */
typedef struct lw_depth_io {
  real *act;
  const real *c_below;
  real *dact, *dc_below;
} lw_depth_io;

/* One kind of cell: everything the rest of the engine asks of it (the table
 * in cells.c, by enum lw_cell). */
typedef struct lw_cell_ops {
  const char *name;      /* as in enum lw_cell */
  int gates;             /* gate rows per hidden unit: G = gates * H, in PyTorch's order */
  int split_recurrent;   /* keeps h W_hh^T + b_hh apart from the input term (the GRU's r multiplies it):
                          * needs scratch rec, the direction's aux and scratch dgates_h */
  int cell_state;        /* carries a cell state c; the others leave c zero and ignore dc */
  int forget_block;      /* the forget gate's block of gate rows, whose b_ih starts at forgetBias; -1: none */
  int switches;          /* takes enum lw_gate switches (peepholes, full recurrence, ...) */
  const char *trace;     /* trace rows: each gate row's name, then c and h ("-": not a quantity of this cell) */
  /* one step for n rows, and its backward (the buffers are lw_cell_forward's and lw_cell_backward's) */
  void (*forward)(const struct lw_dir *d, int step, int n, real *gates, const real *rec, const real *h_prev,
                  const real *c_prev, real *c, real *h, real *aux, const lw_depth_io *dep);
  void (*backward)(const struct lw_dir *d, int step, int n, const real *gates, const real *aux, const real *h_prev,
                   const real *c_prev, const real *c, const real *dact, real *dh, real *dc, real *dgx, real *dgh,
                   const lw_depth_io *dep);
  /* NULL for the full product; else the cell's own, for a W_hh with structural zeros (the Clockwork RNN):
   * rec (n,G) += h_prev (n,H) . W_hh^T at this step, and dh (n,H) += dgh (n,G) . W_hh */
  void (*recurrent)(const struct lw_dir *d, int step, int n, const real *h_prev, real *rec);
  void (*recurrent_back)(const struct lw_dir *d, int step, int n, const real *dgh, real *dh);
  /* NULL, or zeroes the structurally zero entries of a (G,H) matrix laid out as W_hh (the weights at
   * initialisation and after the caller writes them, the gradient after each backward) */
  void (*structural_zero)(const struct lw_dir *d, real *w_hh);
} lw_cell_ops;

/* One direction of one layer: views into the parameter and gradient buffers. */
typedef struct lw_dir {
  int in, H, G;                    /* input width, hidden size, gate rows (4H, 3H or H) */
  int cell, flags;                 /* enum lw_cell, enum lw_gate */
  const lw_cell_ops *ops;          /* the cell's entry in cells.c's table */
  real *w_ih, *w_hh, *b_ih, *b_hh; /* (G,in) (G,H) (G) (G) */
  real *w_peep;                    /* (3H) i, f, o; NULL without peepholes */
  real *w_gate;                    /* (3H,3H) full gate recurrence; NULL without */
  real *w_depth, *b_depth, *w_dc, *w_dl; /* depth gate (layers l >= 1): (H,in) (H) (H) (H); NULL without */
  real *dw_ih, *dw_hh, *db_ih, *db_hh, *dw_peep, *dw_gate, *dw_depth, *db_depth, *dw_dc, *dw_dl;
  real *w_depthT, *w_depthP;       /* (in,H) rows ld_D apart, (H,in) rows ld_in apart */
  int ld_D;
  /* packed copies (model.c), rows ld_* floats apart, padded (lw_padded_ld) */
  real *w_ihT, *w_hhT;             /* (in,G) (H,G) for the forward GEMMs, adjacent, rows ld_T apart */
  real *w_ihP, *w_hhP;             /* (G,in) (G,H) for the backward GEMMs, rows ld_in and ld_H apart */
  real *w_gateT;                   /* (3H,3H), unpadded */
  int ld_T, ld_in, ld_H;
  /* workspace views for the current batch */
  real *gates;                     /* (T,B,G) gate activations (i,f,g,o / r,z,n / h) */
  real *hs, *cs;                   /* (T+1,B,H) states; see layer.c for the slot order */
  real *aux;                       /* GRU: (T,B,H) W_hn h + b_hn of each step */
  real *depth;                     /* depth gate: (T,B,H) its activations d */
  int sparse_in;                   /* the layer's input is sparse (lw_sparse): set once per batch by
                                    * lw_stack_forward, for both directions and the backward */
  const int *periods;              /* Clockwork: (n_periods) ascending; module i is units [i H/g, (i+1) H/g) */
  int n_periods;
  const struct lw_dir *below;      /* the same direction of the layer below (NULL in layer 0): the
                                    * link a depth-gated LSTM reads the cell states below through */
} lw_dir;

/* One parameter tensor (model.c's table, in parameter-buffer order). */
enum lw_init { LW_INIT_CELL = 0, LW_INIT_HEAD = 1 }; /* U(+-1/sqrt(H)) or U(+-1/sqrt(fan_in)) */
#define LW_NO_PACK UINT64_MAX
#define LW_MAX_TENSORS (LW_MAX_LAYERS * 2 * 10 + 2) /* 10 per direction at most, then the head's 2 */
typedef struct lw_tensor {
  int kind;             /* enum lw_tensor_kind */
  int layer, dir;       /* 0, 0 for the head */
  int rows, cols, rank; /* (rows, cols) as PyTorch; rank 1: a vector of rows (cols 1) */
  int init;             /* enum lw_init */
  uint64_t offset;      /* in reals, into params and grads */
  uint64_t packT, packP; /* in reals, into packed: transposed (cols, rows) / padded (rows, cols) copy, or LW_NO_PACK */
  int ldT, ldP;         /* their row strides */
} lw_tensor;

typedef struct lw_optim_state {
  int kind;
  real hyper[LW_HYPER_COUNT];
  real *m, *v;     /* (P) each, one block: moments or momentum; allocated on first use */
  double steps;    /* updates taken (exact in a double up to 2^53) */
} lw_optim_state;

/* A batch: its sizes and its length order. Sequences are sorted by length,
 * longest first, so the rows still running at step t are the prefix
 * [0, running[t]) (layer.c). Seq2seq holds two: the source's and the target's. */
typedef struct lw_batch {
  int B, T;
  int t0;                          /* absolute step of step 0: a truncated-BPTT chunk starts at t0 */
  int *perm;                       /* (B) sorted position -> caller's index */
  int *lens;                       /* (B) lengths in sorted order (descending) */
  int *running;                    /* (T) number of sequences still running at step t */
} lw_batch;

/* Workspace a layer's backward pass uses and leaves nothing in (one per
 * stack, sized for its widest layer). */
typedef struct lw_scratch {
  real *dgates;                    /* (T,B,maxG) */
  real *dgates_h;                  /* GRU: (T,B,maxG) gradients of the recurrent term */
  real *rec;                       /* GRU: (row block, maxG) recurrent term of a step (forward) */
  real *dact, *dact_next;          /* FGR: (B,3*maxH) gradients reaching the gates of the step before */
  real *ddepth;                    /* depth gate: (T,B,maxH) gradients of its pre-activations */
} lw_scratch;

/* A stack of L layers x D directions over one batch, with dropout between
 * layers; its states come in as h0/c0 and go out in hn/cn, (L*D,B,H_l). */
typedef struct lw_stack {
  int I, L, D;                     /* input width, layers, directions */
  int H[LW_MAX_LAYERS];
  int cell, flags;                 /* enum lw_cell, enum lw_gate (LSTM only) */
  int periods[LW_MAX_PERIODS];     /* Clockwork: each module's period, ascending */
  int n_periods;                   /* Clockwork: g modules; 0 for the other cells */
  real dropout;                    /* between layers, in training */
  int training;                    /* this pass draws dropout masks */
  lw_dir dirs[LW_MAX_LAYERS][2];   /* dirs[l][d].below links to dirs[l-1][d] */
  real *x;                         /* (T,B,I) staged input, time-major, sorted */
  real *dx;                        /* (T,B,I) its gradient (low-level backward) */
  real *y[LW_MAX_LAYERS];          /* (T,B,D*H_l) layer outputs, zero past each length */
  real *drop[LW_MAX_LAYERS];       /* (T,B,in_l) dropout-scaled inputs of layer l>0 */
  real *dmask[LW_MAX_LAYERS];      /* (T,B,in_l) dropout masks (0 or 1/(1-p)) */
  real *dy_a, *dy_b;               /* (T,B,max width) ping-pong gradient buffers */
  real *dcb[2][2];                 /* depth gate: [ping-pong][direction] (T,B,H) dL/dc of the layer below at each step */
  real *hn, *cn;                   /* (L*D,B,H_l) final states, sorted order */
  real *dhn, *dcn;                 /* (L*D,B,H_l) their gradients, then those of the initial states */
  lw_scratch scratch;
} lw_stack;

/* The dense head: logits = features . W^T + b, on the final states
 * (many-to-one) or on every step's top-layer output (many-to-many). */
typedef struct lw_head {
  int O, in;                       /* outputs; input width D * H[L-1] */
  int loss;                        /* enum lw_loss */
  int per_step;                    /* returnSequences */
  real *w, *b, *dw, *db;           /* (O,in) (O) and their gradients */
  real *wT;                        /* (in,O) packed, rows ld apart */
  int ld;
  real *feat, *dfeat;              /* (B,in) many-to-one input */
  real *logits, *dlogits, *target; /* (rows,O) */
} lw_head;

struct lw_model {
  uint32_t seed;
  real forget_bias;

  uint64_t n_params, n_packed;     /* reals in params (and grads), in packed: the tensor table's totals */
  int n_tensors;

  /* one parameter buffer and its parallel gradient buffer */
  size_t P;
  real *params, *grads;
  real *packed;                    /* transposed copies, refreshed when dirty */
  int packed_dirty;

  lw_stack stack;
  lw_head head;
  lw_batch batch;                  /* the current batch (staged by lw_model_stage) */

  lw_optim_state opt;
  lw_rng rng;                      /* dropout masks */

  /* workspace, sized for the largest (B, T) seen; grown, never per step */
  real *ws;
  size_t ws_cap;                   /* in reals */
  int *ibuf;                       /* backing store of the batch's perm, lens, running */
  size_t ibuf_cap;
  int have_forward;                /* lw_model_forward's pass is in the workspace, for lw_model_backward */
  int forward_time_major;          /* ... and its caller's layout was time-major */
  const real *data_x, *data_y;     /* lw_model_set_data: a training set staged once */
  int data_B, data_T;

  /* the tensor table (model.c), last: the large arrays after the small fields */
  lw_tensor tensor[LW_MAX_TENSORS];
};

/* Where a batch's rows come from: the caller's buffer of (B_src, T_src, W)
 * values, batch-first or time-major; batch row b is source row rows[b] (or b
 * when rows is NULL), and its step t is source step t0 + t. */
typedef struct lw_source {
  const real *p;
  const int32_t *rows;
  int B_src, T_src, t0, time_major;
} lw_source;

static inline const real *lw_source_at(const lw_source *s, int b, int t, int W) {
  const size_t row = s->rows ? (size_t)s->rows[b] : (size_t)b, step = (size_t)(s->t0 + t);
  return s->p + (s->time_major ? step * s->B_src + row : row * s->T_src + step) * W;
}

/* layer.c: inputs with at most one nonzero in LW_SPARSE entries (one-hot
 * characters, bags of words) skip the input projection's GEMMs (lw_dir.sparse_in).
 * The threshold is a judgement, not a measurement: one-hot text is far below
 * it (one in the vocabulary size), dense series far above; the result is the
 * same bits either way (layer.c), only the speed differs. */
#define LW_SPARSE 8
int lw_sparse(const real *a, size_t n);
void lw_gemm_sparse_nn(int M, int N, int K, const real *X, const real *B, int ldb, real *C);

/* model.c: the tensor table, initialisation, packing, the workspace */
void lw_model_plan_tensors(lw_model *m);
uint64_t lw_model_bytes_for(const lw_model *m);
uint64_t lw_model_workspace_count(lw_model *m, int B, int T, int with_dropout);
int lw_model_init(lw_model *m);
void lw_model_structural_zero(lw_model *m);
void lw_model_release(lw_model *m);
void lw_model_pack(lw_model *m);
int lw_padded_ld(int n);
int lw_model_reserve(lw_model *m, int B, int T);
void lw_model_stage(lw_model *m, const lw_source *x, const int32_t *lengths);
void lw_model_stack_forward(lw_model *m, const real *h0, const real *c0);

/* batch.c: length order, staging in and out, state layouts */
void lw_batch_order(lw_batch *b, const int32_t *lengths);
void lw_batch_stage(const lw_batch *b, const lw_source *src, real *dst, int W, int per_step);
void lw_batch_unstage(const lw_batch *b, const real *src, real *dst, int W, int per_step, int time_major);
lw_source lw_source_whole(const real *p, int B, int T, int time_major);
size_t lw_state_offset(const lw_stack *s, int B, int l, int d);
size_t lw_state_count(const lw_stack *s, int B);
void lw_states_copy(const lw_stack *s, const lw_batch *b, const real *src, real *dst, int to_caller);
void lw_states_add(const lw_stack *s, const lw_batch *b, const real *src, real *dst);

/* stack.c: every layer and direction of a stack */
int lw_stack_in(const lw_stack *s, int l);
void lw_stack_forward(lw_stack *s, const lw_batch *b, lw_rng *rng, const real *h0, const real *c0);
void lw_stack_backward(lw_stack *s, const lw_batch *b, real *dx);

/* head.c: the dense head */
int lw_head_rows(const lw_head *h, const lw_batch *b);
int lw_head_row_valid(const lw_head *h, const lw_batch *b, int row);
void lw_head_forward(lw_head *h, const lw_stack *s, const lw_batch *b);
void lw_head_backward(lw_head *h, lw_stack *s, const lw_batch *b);

/* layer.c: one direction of one layer over the T steps of batch b (see
 * there for the buffers); s is the stack's scratch */
void lw_layer_forward(const lw_batch *b, lw_dir *d, int reverse, const real *x, real *y, int ystride, int yoff,
                      lw_scratch *s);
void lw_layer_backward(const lw_batch *b, lw_dir *d, int reverse, const real *x, const real *dy, int dystride,
                       int dyoff, real *dh, real *dc, real *dx, const real *dc_above, real *dc_below, lw_scratch *s);

/* cells.c: one step of a cell for n rows (see there for the buffers); step
 * is the absolute step index (batch t0 + t; the stream's count), for cells
 * that depend on it (the Clockwork RNN) */
static inline void lw_cell_forward(const lw_dir *d, int step, int n, real *gates, const real *rec, const real *h_prev,
                                   const real *c_prev, real *c, real *h, real *aux, const lw_depth_io *dep) {
  d->ops->forward(d, step, n, gates, rec, h_prev, c_prev, c, h, aux, dep);
}
static inline void lw_cell_backward(const lw_dir *d, int step, int n, const real *gates, const real *aux,
                                    const real *h_prev, const real *c_prev, const real *c, const real *dact, real *dh,
                                    real *dc, real *dgx, real *dgh, const lw_depth_io *dep) {
  d->ops->backward(d, step, n, gates, aux, h_prev, c_prev, c, dact, dh, dc, dgx, dgh, dep);
}
const lw_cell_ops *lw_cell_kind(int cell); /* NULL for an unknown cell */
int lw_cell_count(void);
void lw_gate_recurrence_forward(const lw_dir *d, int n, const real *prev, real *gates);
void lw_gate_recurrence_backward(const lw_dir *d, int n, const real *dgates, const real *prev, real *dact);

/* loss.c */
double lw_loss_forward_backward(lw_head *h, const lw_batch *b, int want_grad, double norm, double *count);
void lw_loss_activate(int loss, int rows, int O, const real *logits, real *out);
void lw_loss_softmax(const real *z, int n, double temperature, real *out);

/* stream.c */
#define LW_STREAM_MAGIC 0x5354524du /* "STRM": marks a live stream */
lw_stream *lw_stream_init(lw_model *m);
void lw_stream_release(lw_stream *s);
int lw_stream_valid(const lw_stream *s);
const lw_model *lw_stream_model(const lw_stream *s);
real *lw_stream_input_buf(lw_stream *s);
real *lw_stream_output_buf(lw_stream *s);
real *lw_stream_state_buf(lw_stream *s, int which);
void lw_stream_zero(lw_stream *s);
void lw_stream_advance(lw_stream *s, int raw);
void lw_trace_copy(const lw_model *m, real *out);

/* optim.c */
int lw_optim_reserve(lw_model *m);
double lw_optim_sumsq(const lw_model *m);
int lw_optim_step(lw_model *m, double norm);
int lw_optim_apply(lw_optim_state *o, real *w, const real *g, size_t P, double norm);

#endif

/* lw.h — the public C API of the lstm-wasm engine: every export, its
 * parameters and what it returns, and the constants they use.
 *
 * Every export returns an enum lw_status (or NULL/0 on failure) and never
 * aborts, prints or traps on its input; lw_last_error() keeps the detail.
 * The JS package (web/engine.js) is the only intended caller: it validates
 * everything first, and this layer (api.c) checks again so that no input can
 * reach a kernel out of contract. Sizes use the SPEC's letters B, T, I, H. */
#ifndef LW_H
#define LW_H

#include <stddef.h>
#include <stdint.h>

#ifdef LW_DOUBLE
typedef double lw_real; /* test build: finite-difference gradient checks */
#else
typedef float lw_real;
#endif

/* Marks a function as exported from the .wasm (and visible natively). */
#define LW_EXPORT __attribute__((used, visibility("default")))

#define LW_VERSION "0.1.0"
#define LW_MAX_LAYERS 16
#define LW_MAX_SIZE 65536 /* any one dimension */
#define LW_MAX_PERIODS 64 /* Clockwork modules (the periods after the hidden sizes in the config) */
#define LW_MAX_BATCH (1 << 20) /* sequences in one batch */
#define LW_MAX_STEPS (1 << 20) /* steps in one sequence */
/* wasm32 memory (build.sh: -sMAXIMUM_MEMORY): every size is checked against
 * it in 64-bit arithmetic before anything is allocated */
#define LW_MEMORY_LIMIT ((uint64_t)1 << 31)

enum lw_status {
  LW_STATUS_OK = 0,
  LW_STATUS_BAD_ARGUMENT = 1, /* a size, pointer or option out of range */
  LW_STATUS_NO_MEMORY = 2,    /* the heap could not grow */
  LW_STATUS_NOT_FINITE = 3,   /* NaN/Inf appeared; nothing was changed */
  LW_STATUS_BAD_STATE = 4,    /* e.g. backward without a forward */
};

enum lw_cell {
  LW_CELL_LSTM = 0, /* with enum lw_gate switches: peephole, cifg, lstm1997, Greff variants */
  LW_CELL_GRU = 1,  /* PyTorch nn.GRU: r, z, n; n = tanh(W_in x + b_in + r*(W_hn h + b_hn)) */
  LW_CELL_RNN = 2,  /* PyTorch nn.RNN with tanh */
  LW_CELL_CLOCKWORK = 3, /* Koutnik et al. 2014: nn.RNN's tensors, H in g modules of period p_i, W_hh block upper triangular */
};

/* Switches on the LSTM cell (a bitmask): the variants of Greff et al. 2015
 * "LSTM: A Search Space Odyssey", the peepholes of Gers et al. 2002 and the
 * squashing of Hochreiter & Schmidhuber 1997. */
enum lw_gate {
  LW_GATE_NO_INPUT = 1,         /* NIG: i = 1 */
  LW_GATE_NO_FORGET = 2,        /* NFG: f = 1 (the 1997 cell's constant error carousel) */
  LW_GATE_NO_OUTPUT = 4,        /* NOG: o = 1 */
  LW_GATE_NO_INPUT_ACT = 8,     /* NIAF: g = its pre-activation */
  LW_GATE_NO_OUTPUT_ACT = 16,   /* NOAF: h = o * c */
  LW_GATE_PEEPHOLES = 32,       /* c(t-1) feeds i and f, c(t) feeds o (ONNX LSTM with P) */
  LW_GATE_COUPLED = 64,         /* CIFG: f = 1 - i (ONNX input_forget = 1) */
  LW_GATE_SQUASH_1997 = 128,    /* g = 4 sigmoid - 2, h = o * (2 sigmoid(c) - 1) */
  LW_GATE_FULL_RECURRENCE = 256, /* FGR: i, f, o also see i, f, o of the step before */
  LW_GATE_DEPTH = 512,          /* depth gate (Yao et al. 2015): layers l >= 1 add d * c of the layer below to c */
  LW_GATE_ALL = 2 * LW_GATE_DEPTH - 1, /* every switch: keep the last bit above */
};

enum lw_loss {
  LW_LOSS_MSE = 0,
  LW_LOSS_MAE = 1,
  LW_LOSS_HUBER = 2,
  LW_LOSS_SOFTMAX_CE = 3,
  LW_LOSS_SIGMOID_CE = 4,
};

enum lw_optim {
  LW_OPTIM_SGD = 0,
  LW_OPTIM_ADAM = 1,
  LW_OPTIM_ADAMW = 2,
  LW_OPTIM_RMSPROP = 3,
};

/* Learning-rate schedules of lw_schedule_lr. */
enum lw_schedule {
  LW_SCHEDULE_CONSTANT = 0,
  LW_SCHEDULE_STEP = 1,        /* x gamma every `every` epochs */
  LW_SCHEDULE_EXPONENTIAL = 2, /* x gamma each epoch */
  LW_SCHEDULE_COSINE = 3,      /* from base to floor over `every` epochs (SGDR without restarts) */
};

/* Layout of the int32 configuration array given to lw_model_create. */
enum lw_config_index {
  LW_CONFIG_INPUT_SIZE = 0,
  LW_CONFIG_OUTPUT_SIZE,      /* 0: no dense head (recurrent stack only) */
  LW_CONFIG_LAYERS,
  LW_CONFIG_BIDIRECTIONAL,
  LW_CONFIG_CELL,
  LW_CONFIG_RETURN_SEQUENCES, /* 1: head at every step; 0: on the final states */
  LW_CONFIG_LOSS,
  LW_CONFIG_SEED,
  LW_CONFIG_GATES,            /* enum lw_gate bitmask (LSTM only) */
  LW_CONFIG_HIDDEN,           /* LW_CONFIG_LAYERS entries follow; then, for LW_CELL_CLOCKWORK only, its
                               * g periods (1..LW_MAX_PERIODS of them, ascending, each >= 1), every layer's
                               * H_l a multiple of g: n = LW_CONFIG_HIDDEN + layers + g */
};

/* Layout of the hyper-parameter array given to lw_model_set_optimizer. */
enum lw_hyper_index {
  LW_HYPER_LR = 0,
  LW_HYPER_BETA1,        /* Adam/AdamW; RMSProp alpha */
  LW_HYPER_BETA2,
  LW_HYPER_EPS,
  LW_HYPER_MOMENTUM,     /* SGD */
  LW_HYPER_NESTEROV,     /* SGD: 0 or 1 */
  LW_HYPER_WEIGHT_DECAY, /* L2 (SGD, Adam, RMSProp) or decoupled (AdamW) */
  LW_HYPER_CLIP_NORM,    /* global-norm clipping; 0 = off */
  LW_HYPER_CLIP_VALUE,   /* element-wise clipping; 0 = off */
  LW_HYPER_COUNT,
};

/* Kinds of parameter tensor, reported by lw_model_tensor_info. */
enum lw_tensor_kind {
  LW_TENSOR_W_IH = 0, /* (G, In): G = 4H (LSTM, i f g o), 3H (GRU, r z n), H (RNN), as PyTorch */
  LW_TENSOR_W_HH = 1, /* (G, H) */
  LW_TENSOR_B_IH = 2, /* (G) */
  LW_TENSOR_B_HH = 3, /* (G) */
  LW_TENSOR_HEAD_W = 4, /* (O, D*H_last) */
  LW_TENSOR_HEAD_B = 5, /* (O) */
  LW_TENSOR_W_PEEP = 6, /* (3H) peephole weights, order i, f, o */
  LW_TENSOR_W_GATE = 7, /* (3H, 3H) FGR weights: rows i, f, o receive columns i, f, o of t-1 */
  LW_TENSOR_W_DEPTH = 8,       /* (H, In) depth gate, layers l >= 1: d = sigmoid(W_d x + b_d + w_dc c(t-1) + w_dl c_below) */
  LW_TENSOR_B_DEPTH = 9,       /* (H) b_d */
  LW_TENSOR_W_DEPTH_CELL = 10, /* (H) w_dc, on this layer's c(t-1) */
  LW_TENSOR_W_DEPTH_BELOW = 11, /* (H) w_dl, on the layer below's c(t) */
};

/* Layout of the int32 array lw_model_tensor_info fills. */
enum lw_tensor_info_index {
  LW_TENSOR_INFO_KIND = 0, /* enum lw_tensor_kind */
  LW_TENSOR_INFO_LAYER,
  LW_TENSOR_INFO_DIR,      /* 0 forward, 1 reverse */
  LW_TENSOR_INFO_OFFSET,   /* in reals, into lw_model_params and lw_model_grads */
  LW_TENSOR_INFO_ROWS,
  LW_TENSOR_INFO_COLS,     /* 1 for vectors */
  LW_TENSOR_INFO_RANK,     /* 1 vector (rows), 2 matrix (rows, cols), even with one column */
  LW_TENSOR_INFO_SIZE,
};

/* Flags for lw_model_forward, lw_model_predict and lw_model_grad_rows. */
#define LW_FLAG_TIME_MAJOR 1 /* x/out are (T, B, .) rather than (B, T, .) */
#define LW_FLAG_RAW 2        /* predict: logits, not probabilities */
#define LW_FLAG_TRAINING 4   /* lw_model_grad_rows: dropout on, as in training */

typedef struct lw_model lw_model;
typedef struct lw_stream lw_stream;

/* Conventions of every export below (kann.h style):
 *  - Sizes: B sequences (batch), T steps, I inputs, H_l hidden units of
 *    layer l, L layers, D directions (2 when bidirectional), O outputs.
 *  - x (B,T,I) is batch-first unless LW_FLAG_TIME_MAJOR says (T,B,I);
 *    lengths (B), each in 1..T, or NULL for all T; steps past a length are
 *    ignored on input and zero on output.
 *  - States h0, c0, hn, cn and their gradients are (L*D, B, H_l): layer by
 *    layer, direction by direction, a (B, H_l) block each, in the caller's
 *    batch order. NULL means zeros on input and "not wanted" on output.
 *  - A status return is enum lw_status; anything but LW_STATUS_OK leaves the
 *    model as it was, and lw_last_error() says what was wrong. */

/* ---- The engine ---- */

/* The JSON of every enum, array layout and limit above (abi.c; web/abi.js). */
const char *lw_abi_json(void);
/* The message of the last failure, for LstmError. */
const char *lw_last_error(void);
const char *lw_version(void);
/* sizeof(lw_real): 4, or 8 in the f64 test build. */
int lw_real_size(void);
/* 1 in the SIMD128 build, 0 in the scalar one. */
int lw_simd(void);
/* Bytes in use on the heap (tests: leak checks). */
double lw_heap_used(void);
/* Heap memory for the caller's buffers (never NULL for 0 bytes); NULL when it cannot grow. */
void *lw_alloc(size_t bytes);
void lw_free(void *p);

/* ---- Models ---- */

/* Creates a model into *out (NULL on failure) from cfg, n int32 entries laid
 * out as enum lw_config_index (n = LW_CONFIG_HIDDEN + layers), the LSTM's
 * forget-gate bias and the dropout between layers, in [0, 1). Weights are
 * initialised from cfg[LW_CONFIG_SEED] as PyTorch does. Returns
 * LW_STATUS_NO_MEMORY when the model would not fit in wasm32 ("too large")
 * or the heap cannot grow, LW_STATUS_BAD_ARGUMENT for a bad configuration. */
int lw_model_create(const int32_t *cfg, int n, float forget_bias, float dropout, lw_model **out);
/* Frees the model (NULL is fine); free its streams first. */
void lw_model_free(lw_model *m);
/* The parameter buffer and its parallel gradient buffer, lw_model_param_count reals each. */
lw_real *lw_model_params(lw_model *m);
lw_real *lw_model_grads(lw_model *m);
double lw_model_param_count(lw_model *m);

/* Bytes of workspace a predict() of B sequences of T steps needs (no
 * dropout), as a double so it cannot wrap; 0 for bad arguments. JS splits a
 * batch whose workspace would pass its cap into pieces of rows (web/core.js). */
double lw_model_workspace_bytes(lw_model *m, int B, int T);
/* Call after writing into lw_model_params(): refreshes the packed copies. */
void lw_model_params_changed(lw_model *m);
/* The tensor table: count, and tensor k's description into out[LW_TENSOR_INFO_SIZE]
 * (enum lw_tensor_info_index). Returns LW_STATUS_BAD_ARGUMENT for k out of range. */
int lw_model_tensor_count(lw_model *m);
int lw_model_tensor_info(lw_model *m, int k, int32_t *out);

/* ---- Optimizer ---- */

/* Sets the optimizer (enum lw_optim) and its LW_HYPER_COUNT hyper-parameters
 * (enum lw_hyper_index, each finite and >= 0, betas below 1). A change of
 * kind starts from zeroed moments and step count. */
int lw_model_set_optimizer(lw_model *m, int kind, const lw_real *hyper, int n);
/* The optimizer's moments, 2P reals (m then v), allocated if needed (NULL:
 * out of memory): for save and load. */
lw_real *lw_model_optim_state(lw_model *m);
double lw_model_optim_steps(lw_model *m);
int lw_model_optim_kind(lw_model *m);
/* Steps taken (exact below 2^53; anything else is ignored). */
void lw_model_set_optim_steps(lw_model *m, double steps);
/* The dropout generator's state, two 32-bit halves (half 0 low, 1 high), so a resumed run is exact. */
uint32_t lw_model_rng_state(lw_model *m, int half);
void lw_model_set_rng_state(lw_model *m, uint32_t lo, uint32_t hi);
/* The learning rate at an epoch under a schedule (enum lw_schedule): base
 * x gamma every `every` epochs (step), x gamma each epoch (exponential), or
 * from base to floor_lr over `every` epochs (cosine). */
double lw_schedule_lr(int kind, double base, int epoch, double gamma, int every, double floor_lr);

/* ---- Training ---- */

/* One training step on a batch (gradient with dropout, clipping, update
 * with learning rate lr): x (B,T,I) batch-first; y (B,O) or (B,T,O) with
 * returnSequences; *loss gets the batch's mean loss. h0/c0 start the
 * states and hn/cn receive the final ones: truncated BPTT carries states
 * from chunk to chunk with no gradient across. Returns LW_STATUS_NOT_FINITE
 * when the loss or the update is not finite (nothing changes). */
int lw_model_train_batch(lw_model *m, const lw_real *x, const lw_real *y, const int32_t *lengths, int B, int T,
                         double lr, lw_real *loss, const lw_real *h0, const lw_real *c0, lw_real *hn, lw_real *cn);
/* Stages a training set once: x (B,T,I), y (B,O) or (B,T,O), checked here
 * and then read in place (the buffers stay the caller's and must outlive
 * their use); x = NULL forgets it. */
int lw_model_set_data(lw_model *m, const lw_real *x, const lw_real *y, int B, int T);
/* lw_model_train_batch on rows (B) of the staged data, steps t0 .. t0+T-1,
 * each row's own length in lengths (B, required). */
int lw_model_train_rows(lw_model *m, const int32_t *rows, const int32_t *lengths, int B, int T, int t0, double lr,
                        lw_real *loss, const lw_real *h0, const lw_real *c0, lw_real *hn, lw_real *cn);

/* ---- Gradients apart from updates (llm.c's backward then update) ---- */

/* Loss and gradients of rows of the data staged by lw_model_set_data,
 * without an update: the piece a sequence-to-sequence model or training over
 * several workers builds on.
 *   rows (B): row indices into the staged data; lengths (B): each row's
 *   length in 1..T; steps t0 .. t0+T-1 of each row are used.
 *   flags: LW_FLAG_TRAINING applies dropout (drawing from the model's
 *   generator, as training does); 0 runs without.
 *   norm: the gradient written is d(loss sum)/d(parameters) / norm; norm <= 0
 *   uses the batch's own count (the gradient of the mean loss, as training).
 *   Shards of a batch given the whole batch's count thus add up to its gradient.
 *   h0, c0 (L*D, B, H_l): initial states, NULL for zeros.
 *   dhn, dcn (L*D, B, H_l): gradients of the final states coming from outside
 *   the loss (a decoder reading this model's final states), NULL for zero;
 *   dcn is ignored for cells without a cell state (GRU, RNN).
 *   hn, cn (L*D, B, H_l): receive the final states (NULL: not wanted).
 *   dh0, dc0 (L*D, B, H_l): receive the gradients of the initial states (NULL: not wanted).
 *   loss (2): loss[0] the loss sum, loss[1] its count (valid rows, times O for
 *   the element-wise losses); NULL: not wanted.
 * The gradients go to lw_model_grads (overwritten). No parameter changes.
 * Returns LW_STATUS_OK, LW_STATUS_NOT_FINITE if the loss is not finite, or
 * the status of a bad argument. */
int lw_model_grad_rows(lw_model *m, const int32_t *rows, const int32_t *lengths, int B, int T, int t0, int flags,
                       double norm, const lw_real *h0, const lw_real *c0, const lw_real *dhn, const lw_real *dcn,
                       lw_real *hn, lw_real *cn, lw_real *dh0, lw_real *dc0, double *loss);

/* Sum of squares (in double, index order) of lw_model_grads after value
 * clipping (the optimizer's clipValue): the square of the global norm the
 * update clips by. Sums over several models add up to their joint norm's
 * square. Returns 0 without a model. */
double lw_model_grad_sumsq(lw_model *m);

/* Clips whatever lw_model_grads holds (JS may have written a sum of several
 * gradients there) by value, then by the global norm `norm` with the
 * model's clipNorm (norm < 0: this gradient's own norm), and takes the
 * optimizer step with learning rate lr (overriding the optimizer's).
 * Returns LW_STATUS_NOT_FINITE and changes nothing when the norm or any new
 * weight or moment is not finite. */
int lw_model_update(lw_model *m, double lr, double norm);

/* The optimizer step of lw_model_update on a caller's block of P parameters
 * w with gradient g (Seq2Seq's attention, head and embeddings, which live
 * outside any model): optimizer `kind` (enum lw_optim) with the n =
 * LW_HYPER_COUNT hyper-parameters `hyper` (its learning rate, clipNorm and
 * clipValue included), moments (2P reals: m then v, zero before the first
 * step), `steps` the steps this block took before, and `norm` the global
 * (joint) gradient norm to clip by (finite, >= 0). Same arithmetic as a
 * model's update. Returns LW_STATUS_NOT_FINITE and changes nothing when a
 * new weight or moment would not be finite; the caller counts the steps. */
int lw_optim_block_step(int kind, const lw_real *hyper, int n, lw_real *w, const lw_real *g, lw_real *moments,
                        int P, double steps, double norm);

/* Loss (*loss, the mean) and gradients (lw_model_grads) of a batch given as
 * buffers, without dropout and without an update (gradient checks). */
int lw_model_gradients(lw_model *m, const lw_real *x, const lw_real *y, const int32_t *lengths, int B, int T,
                       lw_real *loss);

/* ---- Inference ---- */

/* Outputs of the whole model: out (B,O), or (B,T,O) with returnSequences
 * (time-major with LW_FLAG_TIME_MAJOR), probabilities for the classification
 * losses unless LW_FLAG_RAW. If y is given, *loss gets the mean loss on it. */
int lw_model_predict(lw_model *m, const lw_real *x, const int32_t *lengths, int B, int T, int flags, lw_real *out,
                     const lw_real *y, lw_real *loss);
/* The recurrent stack alone, as torch.nn.LSTM: out (B,T,D*H_last) (or
 * time-major), hn/cn (required). Keeps what lw_model_backward needs. */
int lw_model_forward(lw_model *m, const lw_real *x, const int32_t *lengths, int B, int T, int flags, const lw_real *h0,
                     const lw_real *c0, lw_real *out, lw_real *hn, lw_real *cn);
/* BPTT from gradients of the last lw_model_forward's outputs: dout in its
 * layout, dhn/dcn or NULL (dcn is ignored without a cell state). Writes dx,
 * dh0, dc0 (each may be NULL) and the stack's parameter gradients into
 * lw_model_grads (overwritten). LW_STATUS_BAD_STATE without a forward. */
int lw_model_backward(lw_model *m, const lw_real *dout, const lw_real *dhn, const lw_real *dcn, lw_real *dx,
                      lw_real *dh0, lw_real *dc0);
/* Gate activations and states of every layer, direction and step for one
 * sequence x (T,I): out (L, D, T, G/H + 2, H_l), per step the gate rows
 * (i f g o for the LSTM, r z n for the GRU, h for the RNN), then c and h. */
int lw_model_trace(lw_model *m, const lw_real *x, int T, lw_real *out);
/* out (n) = softmax(z / temperature), in double: the same bits in every runtime. */
int lw_softmax(const lw_real *z, int n, double temperature, lw_real *out);

/* ---- Streams: step-by-step inference at batch 1 ---- */

/* A stream of a unidirectional model into *out; free it before the model. */
int lw_stream_create(lw_model *m, lw_stream **out);
void lw_stream_free(lw_stream *s);
/* Its next input (I reals), its output (O, or H_last without a head) and
 * its states (which 0: h, 1: c; sum of H_l, layer after layer); NULL for
 * anything that is not a live stream. */
lw_real *lw_stream_input(lw_stream *s);
lw_real *lw_stream_output(lw_stream *s);
lw_real *lw_stream_state(lw_stream *s, int which);
/* Zeroes the states and the step count. */
int lw_stream_reset(lw_stream *s);
/* One step from the input into the output (raw: logits, not probabilities);
 * a non-finite input is refused with LW_STATUS_NOT_FINITE and changes nothing. */
int lw_stream_step(lw_stream *s, int raw);

#endif

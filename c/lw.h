/* lw.h — the public C API of the lstm-wasm engine.
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
  LW_GATE_ALL = 2 * LW_GATE_FULL_RECURRENCE - 1, /* every switch: keep the last bit above */
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
  LW_CONFIG_HIDDEN,           /* LW_CONFIG_LAYERS entries follow */
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

#endif

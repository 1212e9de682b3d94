/* abi.c — lw_abi_json(): the constants of lw.h (enums, the layouts of the
 * arrays the exports take, limits) as one JSON object, so that JS reads them
 * from the engine (web/abi.js) and keeps no copy. Each name is written here
 * once beside its C constant; tests/abi.test.js checks that every member of
 * lw.h's enums is listed. */
#include <stdarg.h>
#include <stdio.h>
#include "internal.h"

typedef struct { const char *name; long long value; } entry;
#define E(prefix, name) {#name, prefix##name}
#define N(a) (int)(sizeof(a) / sizeof *(a))

static const entry status[] = {E(LW_STATUS_, OK), E(LW_STATUS_, BAD_ARGUMENT), E(LW_STATUS_, NO_MEMORY),
                               E(LW_STATUS_, NOT_FINITE), E(LW_STATUS_, BAD_STATE)};
static const entry cell[] = {E(LW_CELL_, LSTM), E(LW_CELL_, GRU), E(LW_CELL_, RNN), E(LW_CELL_, CLOCKWORK)};
static const entry gate[] = {E(LW_GATE_, NO_INPUT), E(LW_GATE_, NO_FORGET), E(LW_GATE_, NO_OUTPUT),
                             E(LW_GATE_, NO_INPUT_ACT), E(LW_GATE_, NO_OUTPUT_ACT), E(LW_GATE_, PEEPHOLES),
                             E(LW_GATE_, COUPLED), E(LW_GATE_, SQUASH_1997), E(LW_GATE_, FULL_RECURRENCE), E(LW_GATE_, DEPTH), E(LW_GATE_, ALL)};
static const entry loss[] = {E(LW_LOSS_, MSE), E(LW_LOSS_, MAE), E(LW_LOSS_, HUBER), E(LW_LOSS_, SOFTMAX_CE),
                             E(LW_LOSS_, SIGMOID_CE)};
static const entry optim[] = {E(LW_OPTIM_, SGD), E(LW_OPTIM_, ADAM), E(LW_OPTIM_, ADAMW), E(LW_OPTIM_, RMSPROP)};
static const entry schedule[] = {E(LW_SCHEDULE_, CONSTANT), E(LW_SCHEDULE_, STEP), E(LW_SCHEDULE_, EXPONENTIAL),
                                 E(LW_SCHEDULE_, COSINE)};
static const entry config[] = {E(LW_CONFIG_, INPUT_SIZE), E(LW_CONFIG_, OUTPUT_SIZE), E(LW_CONFIG_, LAYERS),
                               E(LW_CONFIG_, BIDIRECTIONAL), E(LW_CONFIG_, CELL), E(LW_CONFIG_, RETURN_SEQUENCES),
                               E(LW_CONFIG_, LOSS), E(LW_CONFIG_, SEED), E(LW_CONFIG_, GATES), E(LW_CONFIG_, HIDDEN)};
static const entry hyper[] = {E(LW_HYPER_, LR), E(LW_HYPER_, BETA1), E(LW_HYPER_, BETA2), E(LW_HYPER_, EPS),
                              E(LW_HYPER_, MOMENTUM), E(LW_HYPER_, NESTEROV), E(LW_HYPER_, WEIGHT_DECAY),
                              E(LW_HYPER_, CLIP_NORM), E(LW_HYPER_, CLIP_VALUE), E(LW_HYPER_, COUNT)};
static const entry tensor[] = {E(LW_TENSOR_, W_IH), E(LW_TENSOR_, W_HH), E(LW_TENSOR_, B_IH), E(LW_TENSOR_, B_HH),
                               E(LW_TENSOR_, HEAD_W), E(LW_TENSOR_, HEAD_B), E(LW_TENSOR_, W_PEEP), E(LW_TENSOR_, W_GATE),
                               E(LW_TENSOR_, W_DEPTH), E(LW_TENSOR_, B_DEPTH), E(LW_TENSOR_, W_DEPTH_CELL),
                               E(LW_TENSOR_, W_DEPTH_BELOW)};
static const entry tensor_info[] = {E(LW_TENSOR_INFO_, KIND), E(LW_TENSOR_INFO_, LAYER), E(LW_TENSOR_INFO_, DIR),
                                    E(LW_TENSOR_INFO_, OFFSET), E(LW_TENSOR_INFO_, ROWS), E(LW_TENSOR_INFO_, COLS),
                                    E(LW_TENSOR_INFO_, RANK), E(LW_TENSOR_INFO_, SIZE)};
static const entry flag[] = {E(LW_FLAG_, TIME_MAJOR), E(LW_FLAG_, RAW), E(LW_FLAG_, TRAINING)};
static const entry limits[] = {E(LW_, MAX_LAYERS), E(LW_, MAX_SIZE), E(LW_, MAX_BATCH), E(LW_, MAX_STEPS),
                               E(LW_, MEMORY_LIMIT), E(LW_, MAX_PERIODS)};

/* PyTorch's base name of each tensor kind, in enum lw_tensor_kind order
 * (weight_ih_l0, ...; the head is a Linear: head.weight, head.bias). */
static const char *const tensor_names[] = {"weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight", "bias",
                                           "weight_peephole", "weight_gate_recurrence", "weight_depth", "bias_depth",
                                           "weight_depth_cell", "weight_depth_below"};

static char json[4096];
static int used;

static void put(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(json + used, sizeof json - used, fmt, ap);
  va_end(ap);
  if (n > 0) used += n < (int)sizeof json - used ? n : (int)sizeof json - used - 1;
}

static void group(const char *name, const entry *e, int n) {
  put("%s\"%s\":{", used > 1 ? "," : "", name);
  for (int i = 0; i < n; i++) put("%s\"%s\":%lld", i ? "," : "", e[i].name, e[i].value);
  put("}");
}

LW_EXPORT const char *lw_abi_json(void) {
  if (used) return json;
  put("{\"version\":\"%s\",\"realSize\":%d", LW_VERSION, (int)sizeof(lw_real));
  group("status", status, N(status));
  group("cell", cell, N(cell));
  group("gate", gate, N(gate));
  group("loss", loss, N(loss));
  group("optim", optim, N(optim));
  group("schedule", schedule, N(schedule));
  group("config", config, N(config));
  group("hyper", hyper, N(hyper));
  group("tensor", tensor, N(tensor));
  group("tensorInfo", tensor_info, N(tensor_info));
  group("flag", flag, N(flag));
  group("limits", limits, N(limits));
  /* per cell (cells.c's table): gate rows per hidden unit, and the rows of a trace */
  put(",\"cells\":{");
  for (int c = 0; c < lw_cell_count(); c++) {
    const lw_cell_ops *k = lw_cell_kind(c);
    put("%s\"%s\":{\"gates\":%d,\"cellState\":%d,\"switches\":%d,\"trace\":\"%s\"}", c ? "," : "", k->name, k->gates,
        k->cell_state, k->switches, k->trace);
  }
  put("}");
  put(",\"tensorNames\":[");
  for (int i = 0; i < N(tensor_names); i++) put("%s\"%s\"", i ? "," : "", tensor_names[i]);
  put("]}");
  return json;
}

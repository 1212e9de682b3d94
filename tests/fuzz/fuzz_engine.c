/* fuzz_engine.c — a libFuzzer harness over the engine's exports, driven the
 * way web/model.js drives them: configuration ints -> create -> parameters ->
 * predict / training step / staged rows / forward+backward / stream. Built
 * 32-bit (-m32) with ASan and UBSan by tests/fuzz.test.js and tests/fuzz/run.sh,
 * because only there is size_t 32 bits wide as in wasm, so size arithmetic
 * that wraps shows up as an out-of-bounds access or as a call that should
 * have been refused. The bytes pick sizes from lists of edge values (powers of
 * two and their neighbours, the sizes whose products reach 2^32) more often
 * than at random. A finding stops with abort() and a message. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../../c/lw.h"
#include "harness.h"

/* The input bytes, read front to back; past the end every read is zero. */
typedef struct reader { const uint8_t *p; size_t n, at; } reader;

static uint32_t u8(reader *r) { return r->at < r->n ? r->p[r->at++] : 0; }
static uint32_t u16(reader *r) { /* little-endian; one read per statement keeps the order defined */
  const uint32_t lo = u8(r);
  return lo | u8(r) << 8;
}
static uint32_t u32(reader *r) {
  const uint32_t lo = u16(r);
  return lo | u16(r) << 16;
}

/* A size: mostly small, often an edge value, sometimes anything. */
static const int32_t EDGES[] = {0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129, 255, 256,
                                512, 630, 1000, 1024, 4096, 32767, 32768, 46340, 46341, 65535, 65536, 65537,
                                1 << 20, (1 << 20) + 1, 1 << 30, INT32_MAX, -1, INT32_MIN};
#define N_EDGES (int)(sizeof EDGES / sizeof EDGES[0])
static int32_t size_of(reader *r, int small) {
  uint32_t k = u8(r);
  if (k < 160) return 1 + (int32_t)(k % (uint32_t)small); /* seeds: k = size - 1 */
  if (k < 248) return EDGES[u8(r) % N_EDGES];            /* seeds: 200, index */
  return (int32_t)u32(r);                                 /* seeds: 255, 4 bytes */
}

/* A value for data: mostly ordinary, sometimes zero, huge, or not finite. */
static float value_of(reader *r) {
  uint32_t k = u8(r);
  if (k < 200) return ((float)u8(r) - 128) / 64;
  if (k < 230) return 0;
  const float odd[] = {NAN, INFINITY, -INFINITY, 1e38f, -1e38f, 3.4e38f, 1e-38f, 1e-45f};
  return odd[u8(r) % 8];
}

/* Exact-size heap blocks, so ASan sees any access past the end. */
static float *reals(reader *r, double n) {
  if (n > (1 << 24)) return NULL; /* the harness's own budget, not the engine's */
  float *p = malloc(((size_t)n ? (size_t)n : 1) * sizeof *p);
  for (size_t i = 0; i < (size_t)n; i++) p[i] = value_of(r);
  return p;
}

static void finding(const char *what, const char *detail) {
  fprintf(stderr, "finding: %s (%s)\n", what, detail);
  abort();
}

/* Work a call would do, in multiply-adds: the harness skips calls that would
 * be accepted but take too long to fuzz. */
static double cost(const int32_t *cfg, double B, double T) {
  const int L = cfg[LW_CONFIG_LAYERS], D = cfg[LW_CONFIG_BIDIRECTIONAL] ? 2 : 1;
  const double G = cfg[LW_CONFIG_CELL] == LW_CELL_GRU ? 3 : cfg[LW_CONFIG_CELL] == LW_CELL_RNN ? 1 : 4;
  double in = cfg[LW_CONFIG_INPUT_SIZE], c = 0;
  for (int l = 0; l < L; l++) {
    const double H = cfg[LW_CONFIG_HIDDEN + l];
    c += D * G * H * (in + H + (cfg[LW_CONFIG_GATES] & LW_GATE_FULL_RECURRENCE ? 9 * H : 0));
    in = D * H;
  }
  return B * T * (c + in * cfg[LW_CONFIG_OUTPUT_SIZE]);
}

/* Reals a (B, T) batch needs at the least, counted in double: the layer
 * outputs, gates and states alone. Above 2^31 bytes no wasm32 engine can
 * hold it, so the call must be refused. */
static double least_reals(const int32_t *cfg, double B, double T) {
  const int L = cfg[LW_CONFIG_LAYERS], D = cfg[LW_CONFIG_BIDIRECTIONAL] ? 2 : 1;
  const double G = cfg[LW_CONFIG_CELL] == LW_CELL_GRU ? 3 : cfg[LW_CONFIG_CELL] == LW_CELL_RNN ? 1 : 4;
  double n = B * T * cfg[LW_CONFIG_INPUT_SIZE];
  for (int l = 0; l < L; l++) n += D * B * T * cfg[LW_CONFIG_HIDDEN + l] * (G + 3);
  return n;
}

static double param_count(const int32_t *cfg) {
  const int L = cfg[LW_CONFIG_LAYERS], D = cfg[LW_CONFIG_BIDIRECTIONAL] ? 2 : 1;
  const double G = cfg[LW_CONFIG_CELL] == LW_CELL_GRU ? 3 : cfg[LW_CONFIG_CELL] == LW_CELL_RNN ? 1 : 4;
  double in = cfg[LW_CONFIG_INPUT_SIZE], p = 0;
  for (int l = 0; l < L; l++) {
    const double H = cfg[LW_CONFIG_HIDDEN + l];
    const int gates = cfg[LW_CONFIG_GATES];
    p += D * (G * H * (in + H + 2) + (gates & LW_GATE_PEEPHOLES ? 3 * H : 0) + (gates & LW_GATE_FULL_RECURRENCE ? 9 * H * H : 0) +
              (gates & LW_GATE_DEPTH && l ? H * (in + 3) : 0));
    in = D * H;
  }
  return p + (in + 1) * cfg[LW_CONFIG_OUTPUT_SIZE];
}

#define BUDGET 1e6       /* multiply-adds per call: keeps an execution near a millisecond */
#define PARAM_BUDGET 2e5 /* parameters of a model the harness initialises */
#define WASM_BYTES 2147483648.0

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n) {
  reader r = {data, n, 0};
  /* byte layout: tests/fuzz/seeds.js writes seeds in it */
  const uint32_t ops = u8(&r); /* two bits per call: predict, train, staged rows, forward+backward */
  const uint32_t layers_byte = u8(&r);
  const int L = layers_byte < 250 ? (int)(layers_byte % 5) : (int)(u8(&r) % 40) - 2; /* 0, 17, -2: refused */
  const int ok_layers = L >= 1 && L <= LW_MAX_LAYERS;
  int32_t cfg[LW_CONFIG_HIDDEN + LW_MAX_LAYERS + 1];
  cfg[LW_CONFIG_INPUT_SIZE] = size_of(&r, 6);
  const int32_t out_size = size_of(&r, 5);
  cfg[LW_CONFIG_OUTPUT_SIZE] = out_size == INT32_MIN ? out_size : out_size - 1; /* 0: no head */
  cfg[LW_CONFIG_LAYERS] = L;
  cfg[LW_CONFIG_BIDIRECTIONAL] = (int32_t)(u8(&r) % 3 == 2);
  const int32_t cells[] = {LW_CELL_LSTM, LW_CELL_GRU, LW_CELL_RNN, LW_CELL_LSTM, LW_CELL_CLOCKWORK, -1}; /* the Clockwork without periods and -1: refused */
  cfg[LW_CONFIG_CELL] = cells[u8(&r) % 6];
  cfg[LW_CONFIG_RETURN_SEQUENCES] = (int32_t)(u8(&r) & 1);
  cfg[LW_CONFIG_LOSS] = (int32_t)(u8(&r) % 6); /* 5: unknown */
  cfg[LW_CONFIG_SEED] = (int32_t)u32(&r);
  const uint32_t gates = u16(&r); /* bit 9: the depth gate; bit 10: an unknown switch; bit 15: switches on a cell without them */
  cfg[LW_CONFIG_GATES] = cfg[LW_CONFIG_CELL] == LW_CELL_LSTM || (gates & 0x8000) ? (int32_t)(gates & 2047) : 0;
  const int nh = ok_layers ? L : 1;
  for (int l = 0; l < nh; l++) cfg[LW_CONFIG_HIDDEN + l] = size_of(&r, 9);
  const uint32_t dropout_byte = u8(&r);
  const float dropout = dropout_byte >= 192 ? (float)(dropout_byte - 192) / 64 : 0;

  /* a model that fits but is large takes long to initialise: skip it, as the
   * calls below skip batches over the budget; models too large to fit at all
   * stay, since the engine must refuse them before allocating */
  const double want = ok_layers ? param_count(cfg) : 0;
  if (ok_layers && want > PARAM_BUDGET && want * sizeof(float) <= WASM_BYTES / 8) return 0;
  lw_model *m = NULL;
  int status = harness_create(cfg, LW_CONFIG_HIDDEN + nh, 1.0f, dropout, &m);
  if (status) {
    if (m) finding("create failed but returned a model", lw_last_error());
    return 0;
  }
  if (!m) finding("create succeeded without a model", "");
  if (param_count(cfg) * sizeof(float) > WASM_BYTES) finding("create accepted a model that cannot fit", "");
  const double P = lw_model_param_count(m);
  if (P != param_count(cfg)) {
    char detail[160];
    snprintf(detail, sizeof detail, "engine %.0f, configuration %.0f; cell %d, gates 0x%x, layers %d", P, param_count(cfg),
             cfg[LW_CONFIG_CELL], cfg[LW_CONFIG_GATES], L);
    finding("the parameter count disagrees with the configuration", detail);
  }

  /* parameters, as setParameters and load write them */
  lw_real *w = lw_model_params(m);
  if (u8(&r) & 1)
    for (size_t i = 0; i < (size_t)P; i++) w[i] = (lw_real)(((int)(i % 17) - 8) / 16.0);
  lw_model_params_changed(m);

  float hyper[LW_HYPER_COUNT] = {0.01f, 0.9f, 0.999f, 1e-8f, 0.5f, 0, 0, 0, 0};
  for (int k = 0; k < LW_HYPER_COUNT; k++)
    if (u8(&r) > 230) hyper[k] = value_of(&r);
  lw_model_set_optimizer(m, (int)(u8(&r) % 5), hyper, LW_HYPER_COUNT);

  const int O = cfg[LW_CONFIG_OUTPUT_SIZE], I = cfg[LW_CONFIG_INPUT_SIZE], rs = cfg[LW_CONFIG_RETURN_SEQUENCES];
  const int D = cfg[LW_CONFIG_BIDIRECTIONAL] ? 2 : 1, Hl = cfg[LW_CONFIG_HIDDEN + L - 1];
  /* the shapes of the four calls come first, the data they read after them */
  struct { int32_t B, T; uint32_t variant; } calls[4];
  for (int call = 0; call < 4; call++)
    calls[call].B = size_of(&r, 5), calls[call].T = size_of(&r, 7), calls[call].variant = u8(&r);
  for (int call = 0; call < 4; call++) {
    const int B = calls[call].B, T = calls[call].T;
    const uint32_t op = (ops >> (2 * call)) & 3, variant = calls[call].variant;
    const double dB = B, dT = T, ok_shape = B >= 1 && T >= 1;
    const int must_refuse = ok_shape && least_reals(cfg, dB, dT) * sizeof(float) > WASM_BYTES;
    if (!ok_shape || (cost(cfg, dB, dT) > BUDGET && !must_refuse)) continue;
    /* a refused shape needs no data: the engine must say no before it reads any */
    /* a refused shape gets its inputs in full but outputs of one value: the
     * engine must say no before it writes any */
    const double nx = dB * dT * I, ny = dB * (rs ? dT : 1) * (O ? O : 1);
    if (nx > (1 << 22) || ny > (1 << 22)) continue;
    float *x = must_refuse ? calloc((size_t)nx + 1, sizeof(float)) : reals(&r, nx);
    float *y = must_refuse ? calloc((size_t)ny + 1, sizeof(float)) : reals(&r, ny);
    int32_t *len = NULL;
    if (variant & 1) {
      len = malloc((size_t)B * sizeof *len);
      for (int b = 0; b < B; b++) len[b] = u8(&r) < 250 ? 1 + (int32_t)(u8(&r) % (uint32_t)T) : (int32_t)u32(&r);
    }
    float loss[2] = {0, 0};
    float *out = must_refuse ? malloc(sizeof(float)) : reals(&r, ny);
    if (!x || !y || !out) { free(x), free(y), free(len), free(out); continue; }
    if (op == 0) {
      status = lw_model_predict(m, x, len, B, T, (int)(variant >> 1) & 3, out, (variant & 8) ? y : NULL, loss);
    } else if (op == 1) {
      status = lw_model_train_batch(m, x, y, len, B, T, 0.01, loss, NULL, NULL, NULL, NULL);
    } else if (op == 2) {
      status = lw_model_set_data(m, x, y, B, T);
      if (!status && !must_refuse) {
        int32_t rows[4], lens[4];
        const int nb = B < 4 ? B : 4;
        for (int b = 0; b < nb; b++) rows[b] = (int32_t)(u8(&r) % (uint32_t)B), lens[b] = 1 + (int32_t)(u8(&r) % (uint32_t)T);
        int Tc = 1;
        for (int b = 0; b < nb; b++) Tc = lens[b] > Tc ? lens[b] : Tc;
        lw_model_train_rows(m, rows, lens, nb, Tc, 0, 0.01, loss, NULL, NULL, NULL, NULL);
      }
      lw_model_set_data(m, NULL, NULL, 0, 0);
    } else {
      const double F = (double)D * Hl;
      double states = 0;
      for (int l = 0; l < L; l++) states += dB * D * cfg[LW_CONFIG_HIDDEN + l];
      float *yo = reals(&r, must_refuse ? 1 : dB * dT * F);
      float *hn = reals(&r, must_refuse ? 1 : states), *cn = reals(&r, must_refuse ? 1 : states);
      if (yo && hn && cn) {
        status = lw_model_forward(m, x, len, B, T, (int)(variant >> 1) & 1, NULL, NULL, yo, hn, cn);
        if (!status) lw_model_backward(m, yo, (variant & 4) ? hn : NULL, NULL, NULL, NULL, NULL);
      }
      free(yo), free(hn), free(cn);
    }
    if (must_refuse && status == LW_STATUS_OK && op != 2) finding("accepted a batch that cannot fit in wasm32", lw_last_error());
    free(x), free(y), free(len), free(out);
  }

  /* a stream, step by step */
  if (D == 1 && (u8(&r) & 1) && cost(cfg, 1, 1) < BUDGET) {
    lw_stream *s = NULL;
    if (!harness_stream_create(m, &s) && s) {
      for (int t = 0; t < 8; t++) {
        lw_real *in = lw_stream_input(s);
        for (int i = 0; i < I; i++) in[i] = value_of(&r);
        harness_stream_step(s, t & 1);
        if (u8(&r) > 240) lw_stream_reset(s);
      }
      lw_stream_free(s);
    }
  }
  lw_model_free(m);
  return 0;
}

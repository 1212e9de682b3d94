/* attention_driver.c — c/attention.c natively under AddressSanitizer and
 * UndefinedBehaviorSanitizer (tests/attention-native.test.js builds and runs
 * it): random ragged attention, embedding and head calls on buffers of their
 * exact sizes (so one element too far is a report), and bad arguments, which
 * must return a status and write nothing. Exit 0 means clean. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../../c/attention.h"

static uint32_t state = 2024;
static uint32_t next(void) { return state = state * 1664525u + 1013904223u; }
static int rnd(int lo, int hi) { return lo + (int)((next() >> 8) % (uint32_t)(hi - lo + 1)); }

static float *vec(size_t n) { /* exact-size heap buffer of values in [-1, 1) */
  float *p = malloc((n ? n : 1) * sizeof(float));
  for (size_t k = 0; k < n; k++) p[k] = (float)(next() >> 8) / 8388608.0f - 1;
  return p;
}

static int failures = 0;
#define EXPECT(cond, ...) do { if (!(cond)) { failures++; printf(__VA_ARGS__); printf("\n"); } } while (0)

int main(void) {
  int calls = 0;
  for (int iter = 0; iter < 300; iter++) {
    const int B = rnd(1, 4), T = rnd(1, 6), S = rnd(1, 7), H = rnd(1, 9);
    int32_t *src = malloc(B * sizeof(int32_t)), *tgt = malloc(B * sizeof(int32_t));
    for (int b = 0; b < B; b++) src[b] = rnd(1, S), tgt[b] = rnd(0, T);
    float *h = vec((size_t)B * T * H), *hbar = vec((size_t)B * S * H), *wa = vec((size_t)H * H), *wc = vec((size_t)2 * H * H);
    float *a = vec((size_t)B * T * S), *ht = vec((size_t)B * T * H), *dht = vec((size_t)B * T * H);
    float *dh = vec((size_t)B * T * H), *dhbar = vec((size_t)B * S * H), *dwa = vec((size_t)H * H), *dwc = vec((size_t)2 * H * H);
    EXPECT(lw_attention_forward(B, T, S, H, h, hbar, src, tgt, wa, wc, a, ht) == 0, "forward: %s", lw_attention_last_error());
    EXPECT(lw_attention_backward(B, T, S, H, h, hbar, src, tgt, wa, wc, ht, dht, dh, dhbar, dwa, dwc) == 0, "backward: %s",
           lw_attention_last_error());
    for (int b = 0; b < B; b++)
      for (int s = src[b]; s < S; s++)
        for (int k = 0; k < H; k++) EXPECT(dhbar[((size_t)b * S + s) * H + k] == 0, "dhbar past the source");
    /* bad lengths: refused, nothing written */
    const int32_t keep = src[0];
    src[0] = S + 1;
    a[0] = 7;
    EXPECT(lw_attention_forward(B, T, S, H, h, hbar, src, tgt, wa, wc, a, ht) == LW_STATUS_BAD_ARGUMENT && a[0] == 7,
           "bad src_len accepted");
    src[0] = keep;
    EXPECT(lw_attention_backward(B, T, S, H, h, hbar, src, tgt, wa, wc, ht, dht, NULL, dhbar, dwa, dwc) ==
           LW_STATUS_BAD_ARGUMENT, "NULL dh accepted");
    /* embedding of N ids (some padding) into E, and the head over the h~ rows */
    const int N = B * T, V = rnd(1, 6), E = rnd(1, 5), O = rnd(1, 7);
    int32_t *ids = malloc(N * sizeof(int32_t)), *target = malloc(N * sizeof(int32_t));
    for (int i = 0; i < N; i++) ids[i] = rnd(-1, V - 1), target[i] = rnd(-1, O - 1);
    float *table = vec((size_t)V * E), *emb = vec((size_t)N * E), *dtable = vec((size_t)V * E);
    EXPECT(lw_embedding_forward(N, V, E, ids, table, emb) == 0, "embedding: %s", lw_attention_last_error());
    EXPECT(lw_embedding_backward(N, V, E, ids, emb, dtable) == 0, "embedding backward: %s", lw_attention_last_error());
    ids[N - 1] = V;
    EXPECT(lw_embedding_backward(N, V, E, ids, emb, dtable) == LW_STATUS_BAD_ARGUMENT, "id V accepted");
    float *w = vec((size_t)O * H), *bias = vec((size_t)O), *logits = vec((size_t)N * O), *dx = vec((size_t)N * H);
    float *dw = vec((size_t)O * H), *db = vec((size_t)O);
    double loss[2];
    EXPECT(lw_head_forward_backward(N, H, O, ht, w, bias, target, 0.5, logits, loss, dx, dw, db) == 0, "head: %s",
           lw_attention_last_error());
    EXPECT(lw_head_forward_backward(N, H, O, ht, w, bias, NULL, 1, logits, NULL, NULL, NULL, NULL) == 0, "head forward");
    target[0] = O;
    EXPECT(lw_head_forward_backward(N, H, O, ht, w, bias, target, 1, logits, loss, dx, dw, db) == LW_STATUS_BAD_ARGUMENT,
           "target O accepted");
    calls += 9;
    free(src), free(tgt), free(h), free(hbar), free(wa), free(wc), free(a), free(ht), free(dht), free(dh), free(dhbar);
    free(dwa), free(dwc), free(ids), free(target), free(table), free(emb), free(dtable), free(w), free(bias);
    free(logits), free(dx), free(dw), free(db);
  }
  /* sizes beyond the limits and products beyond the heap */
  EXPECT(lw_attention_forward(0, 1, 1, 1, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL) == LW_STATUS_BAD_ARGUMENT, "B = 0");
  float one = 0;
  int32_t len = 1;
  EXPECT(lw_attention_forward(65536, 65536, 1, 1, &one, &one, &len, &len, &one, &one, &one, &one) == LW_STATUS_BAD_ARGUMENT,
         "a 2^32-element h accepted");
  printf("attention calls: %d, failures: %d\n", calls, failures);
  return failures != 0;
}

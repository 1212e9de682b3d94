/* harness.h — the harness's one view of the exports (c/lw.h declares them
 * all): creation with a status and an out-pointer, and the stream's step,
 * wrapped here so a change of signature is mended in one place. */
#ifndef LW_FUZZ_HARNESS_H
#define LW_FUZZ_HARNESS_H
#include "../../c/lw.h"

static inline int harness_create(const int32_t *cfg, int n, float forget_bias, float dropout, lw_model **out) {
  *out = NULL;
  return lw_model_create(cfg, n, forget_bias, dropout, out);
}
static inline int harness_stream_create(lw_model *m, lw_stream **out) {
  *out = NULL;
  return lw_stream_create(m, out);
}
static inline int harness_stream_step(lw_stream *s, int raw) { return lw_stream_step(s, raw); }
#endif

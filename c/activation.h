/* activation.h — exact scalar sigmoid and tanh, shared by the reference
 * kernels, the losses and the SIMD kernels' tails. The SIMD versions
 * (kernels_simd.c) must agree with these within the tolerance that
 * tests/kernels.test.js states. */
#ifndef LW_ACTIVATION_H
#define LW_ACTIVATION_H
#include <math.h>
#include "lw.h"

#ifdef LW_DOUBLE
#define LW_EXP exp
#define LW_TANH tanh
#define LW_LOG log
#define LW_SQRT sqrt
#define LW_FABS fabs
#else
#define LW_EXP expf
#define LW_TANH tanhf
#define LW_LOG logf
#define LW_SQRT sqrtf
#define LW_FABS fabsf
#endif

/* sigmoid(x) = 1/(1+e^-x), written so neither branch overflows. */
static inline lw_real lw_sigmoid(lw_real x) {
  if (x >= 0) return 1 / (1 + LW_EXP(-x));
  lw_real e = LW_EXP(x);
  return e / (1 + e);
}

static inline lw_real lw_tanh(lw_real x) { return LW_TANH(x); }

#endif

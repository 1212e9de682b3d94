/* activation.h — exact scalar sigmoid and tanh, and the LSTM cell's unit
 * step, shared by the reference kernels, the losses and the SIMD kernels' tails. The SIMD versions
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

/* Unit j of the plain LSTM cell (gate rows i, f, g, o of one row), forward:
 * the reference kernel, and the SIMD kernel's tail, which is thus the
 * reference by construction. Pre-activations in, activations out. */
static inline void lw_lstm_unit_fwd(lw_real *gi, lw_real *gf, lw_real *gg, lw_real *go, const lw_real *cp, lw_real *cr,
                                    lw_real *hr, int j) {
  lw_real i = lw_sigmoid(gi[j]), f = lw_sigmoid(gf[j]), g = lw_tanh(gg[j]), o = lw_sigmoid(go[j]);
  gi[j] = i, gf[j] = f, gg[j] = g, go[j] = o;
  /* c(t) = f*c(t-1) + i*g;  h(t) = o*tanh(c(t)) */
  cr[j] = f * cp[j] + i * g;
  hr[j] = o * lw_tanh(cr[j]);
}

/* Its backward: dh in; dc in as dL/dc(t), out as dL/dc(t-1); the gates'
 * pre-activation gradients out. */
static inline void lw_lstm_unit_bwd(const lw_real *gi, const lw_real *gf, const lw_real *gg, const lw_real *go,
                                    const lw_real *cp, const lw_real *cr, const lw_real *dhr, lw_real *dcr, lw_real *di,
                                    lw_real *df, lw_real *dg, lw_real *dout, int j) {
  lw_real i = gi[j], f = gf[j], g = gg[j], o = go[j];
  lw_real tc = lw_tanh(cr[j]);
  /* dL/dc(t) gathers the carried gradient and the one through h(t) */
  lw_real dct = dcr[j] + dhr[j] * o * (1 - tc * tc);
  di[j] = dct * g * i * (1 - i);
  df[j] = dct * cp[j] * f * (1 - f);
  dg[j] = dct * i * (1 - g * g);
  dout[j] = dhr[j] * tc * o * (1 - o);
  dcr[j] = dct * f;
}

#endif

/* The wasm SIMD128 peak that bench.js measures the LSTM kernels against:
 * independent multiply-then-add chains over f32x4 (wasm has no FMA), with
 * enough accumulators that the vector ports never wait on a chain's latency.
 * peak_f32x4_mul_add_<ACC>(n, seed) does n iterations of ACC chains, that is
 * n * ACC * 4 lanes * 2 flops (mul + add). Which ACC is fastest depends on the
 * engine's register allocation (Node 20: 12; Chromium 156: 24, measured on an
 * AMD EPYC), so bench.js times them all and keeps the best.
 * Built by bench.js: emcc -O3 -msimd128 -sSTANDALONE_WASM --no-entry. */
#include <wasm_simd128.h>

#define PEAK_EXPORT __attribute__((used, visibility("default")))

/* a = a * m + c converges to c / (1 - m) = 1: it stays finite and normal, so
 * no lane slows down on denormals or infinities. Without -ffast-math clang
 * keeps the mul and the add apart and in this order. */
#define PEAK_DEFINE(ACC)                                                       \
  PEAK_EXPORT float peak_f32x4_mul_add_##ACC(int n, float seed) {              \
    const v128_t m = wasm_f32x4_splat(0.999f), c = wasm_f32x4_splat(0.001f);   \
    v128_t a[ACC];                                                             \
    _Pragma("clang loop unroll(full)")                                         \
    for (int k = 0; k < ACC; k++) a[k] = wasm_f32x4_splat(seed + (float)k);    \
    for (int i = 0; i < n; i++) {                                              \
      _Pragma("clang loop unroll(full)")                                       \
      for (int k = 0; k < ACC; k++) a[k] = wasm_f32x4_add(wasm_f32x4_mul(a[k], m), c); \
    }                                                                          \
    /* the result depends on every chain, so none is dead code */             \
    v128_t s = a[0];                                                           \
    _Pragma("clang loop unroll(full)")                                         \
    for (int k = 1; k < ACC; k++) s = wasm_f32x4_add(s, a[k]);                 \
    return wasm_f32x4_extract_lane(s, 0) + wasm_f32x4_extract_lane(s, 1) +     \
           wasm_f32x4_extract_lane(s, 2) + wasm_f32x4_extract_lane(s, 3);      \
  }

PEAK_DEFINE(8)
PEAK_DEFINE(12)
PEAK_DEFINE(16)
PEAK_DEFINE(24)
PEAK_DEFINE(32)

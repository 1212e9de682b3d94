/* kernels.h — expands kernels.inc into prototypes of the plain C reference
 * (kernels_ref.c) and the wasm SIMD128 version (kernels_simd.c), and routes
 * lw_<name> to the SIMD version in the SIMD build, to the reference otherwise.
 * Both share one signature by construction, so they cannot drift apart. */
#ifndef LW_KERNELS_H
#define LW_KERNELS_H
#include "lw.h"

#define LW_KERNEL(name, params, args) void lw_##name##_ref params;
#include "kernels.inc"
#undef LW_KERNEL

#ifdef LW_SIMD
#define LW_KERNEL(name, params, args) void lw_##name##_simd params;
#include "kernels.inc"
#undef LW_KERNEL
#define LW_KERNEL(name, params, args) static inline void lw_##name params { lw_##name##_simd args; }
#else
#define LW_KERNEL(name, params, args) static inline void lw_##name params { lw_##name##_ref args; }
#endif
#include "kernels.inc"
#undef LW_KERNEL

#endif

/* testing.c — exports for tests only (built with -DLW_TESTING): each kernel's
 * reference and SIMD version under its own name, so tests/kernels.test.js can
 * compare the two in one instance. */
#ifdef LW_TESTING
#include "kernels.h"
#define LW_KERNEL(name, params, args) \
  LW_EXPORT void lw_test_##name##_ref params { lw_##name##_ref args; } \
  LW_EXPORT void lw_test_##name##_simd params { lw_##name##_simd args; }
#include "kernels.inc"
#undef LW_KERNEL
#endif

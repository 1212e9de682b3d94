/* Native stand-in for Emscripten's wasm_simd128.h: SIMDe implements the wasm
 * SIMD128 intrinsics on x86/ARM, so c/kernels_simd.c compiles natively for
 * the sanitizers (tests/native.test.js). */
#define SIMDE_ENABLE_NATIVE_ALIASES
#include <simde/wasm/simd128.h>

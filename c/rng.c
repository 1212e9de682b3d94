/* rng.c — the seeded generator behind initialisation and dropout: splitmix64,
 * integer-only, so the same seed gives the same numbers in every runtime. */
#include "internal.h"

void lw_rng_seed(lw_rng *r, uint64_t seed) { r->s = seed * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull; }

uint32_t lw_rng_u32(lw_rng *r) {
  uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return (uint32_t)((z ^ (z >> 31)) >> 32);
}

real lw_rng_uniform(lw_rng *r, real lo, real hi) {
  /* 24 random bits: exact in float, uniform on [0, 1) */
  real u = (real)(lw_rng_u32(r) >> 8) * (real)(1.0 / 16777216.0);
  return lo + (hi - lo) * u;
}

// Shared by the tests: relative error, fixture and engine loaders.
import { readFileSync } from 'node:fs';
import { loadEngine } from '../web/engine.js';
import { seededUniform } from '../web/data.js';

/** Seeded uniform numbers in [0, 1) (mulberry32, as the package shuffles). */
export const rng = seededUniform;

/** ‖got − want‖ / ‖want‖ over whole arrays (norm-wise, as the fixtures README asks). */
export function relErr(got, want) {
  if (got.length !== want.length) throw new Error(`length ${got.length} != ${want.length}`);
  let num = 0, den = 0;
  for (let i = 0; i < want.length; i++) {
    num += (got[i] - want[i]) ** 2;
    den += want[i] ** 2;
  }
  return den === 0 ? Math.sqrt(num) : Math.sqrt(num / den);
}

export function fixture(name) {
  const url = new URL(`./fixtures/${name}`, import.meta.url);
  return name.endsWith('.json') ? JSON.parse(readFileSync(url, 'utf8')) : new Uint8Array(readFileSync(url));
}

/** The engine builds by variant: 'simd', 'scalar', 'test' (both kernel sets), 'f64'. */
export const engine = (variant) => loadEngine({ variant });

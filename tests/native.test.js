// The engine compiled natively (gcc, SIMDe for the SIMD128 intrinsics) under
// AddressSanitizer and UndefinedBehaviorSanitizer, driven by
// tests/native/driver.c: catches any out-of-bounds access or undefined
// behaviour that wasm's sandbox would hide. tests/setup.sh installs
// libsimde-dev; without gcc or SIMDe the test is skipped and says why.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';

const root = new URL('../', import.meta.url).pathname;
const haveGcc = spawnSync('gcc', ['--version']).status === 0;
const haveSimde = existsSync('/usr/include/simde/wasm/simd128.h');
const skip = !haveGcc ? 'gcc is not installed' : !haveSimde ? 'SIMDe is missing: apt-get install libsimde-dev' : false;

for (const simd of [true, false]) {
  test(`the engine (${simd ? 'SIMD kernels via SIMDe' : 'reference kernels'}) runs clean under ASan and UBSan`, { skip }, () => {
    mkdirSync(`${root}tests/artifacts`, { recursive: true });
    const exe = `${root}tests/artifacts/native-driver-${simd ? 'simd' : 'ref'}`;
    const sources = readdirSync(`${root}c`).filter((f) => f.endsWith('.c') && f !== 'testing.c').map((f) => `${root}c/${f}`);
    execFileSync('gcc', ['-std=c99', '-O1', '-g', '-fsanitize=address,undefined', '-fno-sanitize-recover=all',
      '-Wno-deprecated-declarations', '-DLW_POISON', ...(simd ? ['-DLW_SIMD'] : []), `-I${root}tests/native/include`, ...sources,
      `${root}tests/native/driver.c`, '-lm', '-o', exe], { stdio: 'pipe' });
    const run = spawnSync(exe, { encoding: 'utf8' });
    assert.equal(run.status, 0, `${run.stdout}\n${run.stderr}`);
    assert.match(run.stdout, /kernel mismatches: 0, model call failures: 0/);
  });
}

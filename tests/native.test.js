// The engine compiled natively (gcc and clang, SIMDe for the SIMD128 intrinsics) under
// AddressSanitizer and UndefinedBehaviorSanitizer, driven by
// tests/native/driver.c: catches any out-of-bounds access or undefined
// behaviour that wasm's sandbox would hide. Each is also built 32-bit
// (-m32), where size_t wraps at 2^32 as in wasm. tests/setup.sh installs
// libsimde-dev and the 32-bit libraries; without them a test is skipped and says why.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';

const root = new URL('../', import.meta.url).pathname;
const haveGcc = spawnSync('gcc', ['--version']).status === 0;
// clang's UBSan also flags pointer arithmetic on NULL, which gcc's does not
const haveClang = spawnSync('clang', ['--version']).status === 0;
const haveSimde = existsSync('/usr/include/simde/wasm/simd128.h');
const skip = !haveGcc ? 'gcc is not installed' : !haveSimde ? 'SIMDe is missing: apt-get install libsimde-dev' : false;
// gcc's 32-bit sanitizer runtime and libc (Debian's lib32gcc-12-dev and libc6-dev-i386)
const have32 = existsSync('/usr/lib32/crt1.o') && existsSync('/usr/lib/gcc/x86_64-linux-gnu/12/32/libasan.so');
const skip32 = skip || (!have32 && '32-bit libraries are missing: apt-get install libc6-dev-i386 lib32gcc-12-dev');

const BUILDS = [['gcc', true, 64], ['gcc', false, 64], ['gcc', true, 32], ['gcc', false, 32], ['clang', true, 64], ['clang', false, 64]];
for (const [cc, simd, bits] of BUILDS) {
  const why = cc === 'clang' && !haveClang ? 'clang is not installed' : bits === 32 ? skip32 : skip;
  test(`the engine (${simd ? 'SIMD kernels via SIMDe' : 'reference kernels'}, ${cc}, ${bits}-bit) runs clean under ASan and UBSan`, { skip: why }, () => {
    mkdirSync(`${root}tests/artifacts`, { recursive: true });
    const exe = `${root}tests/artifacts/native-driver-${cc}-${simd ? 'simd' : 'ref'}-${bits}`;
    const sources = readdirSync(`${root}c`).filter((f) => f.endsWith('.c') && f !== 'testing.c').map((f) => `${root}c/${f}`);
    // 32-bit: SSE arithmetic, not x87's extended precision, so SIMDe's lanes round as wasm's do
    const m32 = bits === 32 ? ['-m32', '-msse2', '-mfpmath=sse'] : [];
    execFileSync(cc, [...m32, '-std=c99', '-O1', '-g', '-fsanitize=address,undefined', '-fno-sanitize-recover=all',
      '-Wno-deprecated-declarations', ...(cc === 'gcc' ? ['-Wno-psabi'] : []), '-DLW_POISON', ...(simd ? ['-DLW_SIMD'] : []), `-I${root}tests/native/include`, ...sources,
      `${root}tests/native/driver.c`, '-lm', '-o', exe], { stdio: 'pipe' });
    const run = spawnSync(exe, { encoding: 'utf8' });
    assert.equal(run.status, 0, `${run.stdout}\n${run.stderr}`);
    assert.match(run.stdout, /kernel mismatches: 0, model call failures: 0/);
  });
}

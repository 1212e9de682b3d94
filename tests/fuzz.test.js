// The native fuzzer (tests/fuzz/fuzz_engine.c, run by tests/fuzz/run.sh) for
// a bounded time: the engine's exports driven as web/model.js drives them,
// built 32-bit with ASan and UBSan so that size arithmetic wraps as in wasm.
// Every committed seed runs first (among them the sizes whose products reach
// 2^32), then a minute of mutations. `npm run fuzz` runs it longer. Skipped,
// saying why, where clang's libFuzzer or the i386 libraries are missing
// (tests/setup.sh test installs them).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';

const root = new URL('../', import.meta.url).pathname;
const FUZZ_SECONDS = 60;

function missing() {
  if (spawnSync('clang', ['--version']).status !== 0) return 'clang is not installed';
  if (!existsSync('/usr/include/simde/wasm/simd128.h')) return 'SIMDe is missing: apt-get install libsimde-dev';
  const probe = spawnSync('bash', ['-c', 'echo "int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0; }" | '
    + 'clang -m32 -fsanitize=fuzzer,address,undefined -x c - -o /dev/null'], { encoding: 'utf8' });
  if (probe.status !== 0) return 'clang cannot build a 32-bit libFuzzer binary: apt-get install libclang-rt-14-dev libc6-dev-i386 lib32gcc-12-dev lib32stdc++-12-dev';
  return false;
}

test(`the native fuzzer finds nothing in ${FUZZ_SECONDS} s from the committed seeds (32-bit, ASan, UBSan)`, { skip: missing(), timeout: (FUZZ_SECONDS + 240) * 1000 }, (t) => {
  const seeds = readdirSync(`${root}tests/fuzz/seeds`).length;
  assert.ok(seeds >= 10, `expected the committed seed corpus in tests/fuzz/seeds, found ${seeds} files`);
  const run = spawnSync('bash', [`${root}tests/fuzz/run.sh`, String(FUZZ_SECONDS)], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const out = `${run.stdout}${run.stderr}`;
  const tail = out.split('\n').filter((l) => !/^#\d+\s+(NEW|REDUCE|pulse)/.test(l)).slice(-40).join('\n');
  assert.equal(run.status, 0, `the fuzzer stopped with a finding (reproducer in tests/artifacts/fuzz/):\n${tail}`);
  const done = /#(\d+)\s+DONE\s+cov: (\d+) ft: (\d+) corp: (\d+)\/\S+ .*exec\/s: (\d+)/.exec(out);
  assert.ok(done, `no final statistics from libFuzzer:\n${tail}`);
  t.diagnostic(`${done[1]} executions, ${done[5]} exec/s, coverage ${done[2]} edges, ${done[3]} features, corpus ${done[4]} inputs`);
});

// c/attention.c compiled natively with gcc under AddressSanitizer and
// UndefinedBehaviorSanitizer, driven by tests/native/attention_driver.c
// (exact-size buffers, ragged lengths, bad arguments). Skipped without gcc.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';

const root = new URL('../', import.meta.url).pathname;
const skip = spawnSync('gcc', ['--version']).status === 0 ? false : 'gcc is not installed';

test('attention, embedding and head run clean under ASan and UBSan', { skip }, () => {
  mkdirSync(`${root}tests/artifacts`, { recursive: true });
  const exe = `${root}tests/artifacts/native-attention`;
  execFileSync('gcc', ['-std=c99', '-O1', '-g', '-Wall', '-Wextra', '-Wno-unused-parameter', '-Werror',
    '-fsanitize=address,undefined', '-fno-sanitize-recover=all', `${root}c/attention.c`,
    `${root}tests/native/attention_driver.c`, '-lm', '-o', exe], { stdio: 'pipe' });
  const run = spawnSync(exe, { encoding: 'utf8' });
  assert.equal(run.status, 0, `${run.stdout}\n${run.stderr}`);
  assert.match(run.stdout, /attention calls: 2700, failures: 0/);
});

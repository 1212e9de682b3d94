// Data-parallel training is deterministic across runtimes:
// tests/browser/parallel-scenario.js trains with workers: 2 in this process
// (worker threads) and in Debian's Chromium (Web Workers, no cross-origin
// isolation), twice there; every weight and loss must be bit-identical.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS } from '../helpers.js';
import { serve } from '../serve.js';
import { run } from './parallel-scenario.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCENARIO = '/tests/browser/parallel-scenario.js';
const skip = existsSync(CHROMIUM) ? false : `Chromium is missing at ${CHROMIUM}`;
let browser, server, page;

before(async () => {
  if (skip) return;
  server = await serve({ port: 0, root: ROOT, allow: ['web/', 'tests/browser/'], start: SCENARIO });
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  page = await browser.newPage();
  await page.goto(server.url);
});

after(async () => {
  await browser?.close();
  await server?.close();
});

test('2 workers give the same bits in Node and in Chromium, run after run', { skip, timeout: 120_000 }, async () => {
  const inPage = () => page.evaluate(async (path) => (await import(path)).run({ workers: 2 }), SCENARIO);
  const first = await inPage(), second = await inPage();
  const inNode = await run({ workers: 2 });
  assert.ok(inNode.weights.length > 400);
  assert.deepEqual(second, first, 'two runs in Chromium');
  assert.deepEqual(first.weights, inNode.weights, 'weights: Chromium vs Node');
  assert.deepEqual(first.losses, inNode.losses, 'losses: Chromium vs Node');
  const one = await run({ workers: 1 });
  assert.notDeepEqual(one.weights, inNode.weights, 'the 2-worker run was sharded (its sums differ from 1 worker in the last bits)');
});

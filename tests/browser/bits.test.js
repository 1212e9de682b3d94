// Node and Chromium compute the same bits: tests/browser/bits-scenario.js
// (training of four kinds of model and a TextModel, then weights, saved files,
// losses, predictions, a stream and generated text) runs in this process and
// in Debian's Chromium, for the SIMD and the scalar build, and the results
// must be identical. The README promises determinism across runtimes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS } from '../helpers.js';
import { serve } from '../serve.js';
import { run } from './bits-scenario.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCENARIO = '/tests/browser/bits-scenario.js';
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

for (const simd of [true, false]) {
  test(`the ${simd ? 'SIMD' : 'scalar'} build gives bit-identical weights, files, losses, predictions, streams and text in Node and Chromium`, { skip, timeout: 180_000 }, async () => {
    const inBrowser = await page.evaluate(async ({ path, simd }) => (await import(path)).run({ simd }), { path: SCENARIO, simd });
    const inNode = await run({ simd });
    const cases = Object.keys(inNode);
    assert.deepEqual(Object.keys(inBrowser), cases);
    for (const name of cases) {
      for (const key of Object.keys(inNode[name])) {
        assert.deepEqual(inBrowser[name][key], inNode[name][key], `${name}: ${key} differs between Chromium and Node`);
      }
    }
    assert.equal(inNode.engine.simd, simd, 'the scenario ran on the build it asked for');
    // and the builds really differ in what they run (the comparison above is not of two empty runs)
    assert.ok(inNode.text.generated.length >= 40 && inNode['lstm stacked bidirectional ragged'].weights.length > 100);
  });
}

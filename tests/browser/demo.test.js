// The demo page (web/demo/) in Debian's Chromium, driven by playwright-core,
// at a desktop and a phone viewport: loads cleanly, trains with a falling
// loss, forecasts, stops, and explains bad input. Screenshots go to
// tests/artifacts/ for a person to look at. Chromium comes from tests/setup.sh.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { serve } from '../serve.js';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const VIEWPORTS = [{ width: 1280, height: 800 }, { width: 390, height: 844 }];
const ARTIFACTS = fileURLToPath(new URL('../artifacts/', import.meta.url));
const TEST_TIMEOUT = 60_000;
const STOP_WITHIN_MS = 1000; // Stop must end training within a second
const FORECAST_STEPS = 20; // web/demo/app.js FORECAST_STEPS

let browser, server;

before(async () => {
  assert.ok(existsSync(CHROMIUM),
    `Chromium is missing at ${CHROMIUM}: run 'bash tests/setup.sh test' (as root it installs Debian's chromium package)`);
  mkdirSync(ARTIFACTS, { recursive: true });
  server = await serve({ port: 0 });
  // launch() gives each run a fresh temporary profile (user-data dir).
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
});

after(async () => {
  await browser?.close();
  await server?.close();
});

/** Numbers in a text, in order. */
const numbersIn = (text) => (text.match(/-?\d+(?:\.\d+)?(?:e[-+]?\d+)?/gi) ?? []).map(Number);

for (const viewport of VIEWPORTS) {
  const size = `${viewport.width}x${viewport.height}`;

  describe(`demo page at ${size}`, { timeout: TEST_TIMEOUT }, () => {
    let context, page;
    const problems = []; // console errors and uncaught exceptions

    before(async () => {
      context = await browser.newContext({ viewport });
      page = await context.newPage();
      page.on('console', (msg) => { if (msg.type() === 'error') problems.push(`console: ${msg.text()}`); });
      page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
      await page.goto(server.url);
      await page.getByTestId('status').filter({ hasText: 'Ready' }).waitFor();
    });

    after(async () => {
      await context?.close();
    });

    it('loads with no console errors and reports the engine', async () => {
      const simd = await page.evaluate(async () => (await import('../index.js')).features.simd);
      assert.equal(simd, true, 'Chromium supports SIMD128, so features.simd should be true');
      assert.match(await page.getByTestId('status').textContent(), /engine: SIMD/);
      for (const id of ['sequence-input', 'train', 'stop', 'loss-chart', 'prediction']) {
        assert.ok(await page.getByTestId(id).isVisible(), `${id} is visible`);
      }
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(width <= viewport.width, `no horizontal scrolling: page is ${width}px wide`);
      assert.deepEqual(problems, []);
    });

    it('trains with a falling loss and shows a forecast', async () => {
      // Record every status line: training may finish between two polls.
      await page.evaluate(() => {
        window.statusLog = [];
        const status = document.querySelector('[data-testid=status]');
        new MutationObserver(() => window.statusLog.push(status.textContent))
          .observe(status, { childList: true, characterData: true, subtree: true });
      });
      await page.getByTestId('train').click();
      await page.getByTestId('status').filter({ hasText: /Trained \d+ epochs/ }).waitFor();
      const log = await page.evaluate(() => window.statusLog);
      const losses = log.filter((s) => s.startsWith('Epoch')).map((s) => Number(s.match(/loss (\S+)/)[1]));
      assert.ok(losses.length >= 2, `status showed the loss per epoch: ${JSON.stringify(log)}`);
      assert.ok(losses.at(-1) < losses[0], `loss fell: first ${losses[0]}, last ${losses.at(-1)}`);

      const text = await page.getByTestId('prediction').textContent();
      const values = numbersIn(text.slice(text.indexOf(':') + 1));
      assert.equal(values.length, FORECAST_STEPS, `forecast lists ${FORECAST_STEPS} numbers: ${text}`);
      assert.ok(values.every(Number.isFinite));
      await page.screenshot({ path: `${ARTIFACTS}demo-${size}.png`, fullPage: true });
      assert.deepEqual(problems, []);
    });

    it('stops training within a second of pressing Stop', async () => {
      await page.locator('#epochs').fill('100000');
      await page.getByTestId('train').click();
      await page.getByTestId('status').filter({ hasText: /Epoch [2-9]/ }).waitFor();
      const t0 = Date.now();
      await page.getByTestId('stop').click();
      await page.getByTestId('status').filter({ hasText: /Stopped at epoch \d+\/100000/ }).waitFor({ timeout: STOP_WITHIN_MS });
      assert.ok(Date.now() - t0 < STOP_WITHIN_MS);
      assert.ok(await page.getByTestId('train').isEnabled(), 'Train is enabled again');
      assert.ok(await page.getByTestId('stop').isDisabled(), 'Stop is disabled again');
      await page.locator('#epochs').fill('30');
      assert.deepEqual(problems, []);
    });

    it('explains bad input next to the box and does not train', async () => {
      const input = page.getByTestId('sequence-input');
      const error = page.getByTestId('input-error');
      const status = await page.getByTestId('status').textContent();
      const cases = [
        ['1, 2, x, 4', /"x" \(item 3\) is not a number/],
        ['', /Enter a series of at least 24 numbers/],
        ['1 2 3', /at least 24 numbers; there are 3/],
      ];
      for (const [text, message] of cases) {
        await input.fill(text);
        await page.getByTestId('train').click();
        assert.match(await error.textContent(), message, `for input '${text}'`);
        assert.ok(await error.isVisible());
        assert.equal(await input.getAttribute('aria-invalid'), 'true');
      }
      await page.screenshot({ path: `${ARTIFACTS}demo-${size}-error.png` });
      assert.equal(await page.getByTestId('status').textContent(), status, 'no training started');
      await input.fill(Array.from({ length: 30 }, (_, k) => k % 5).join(' '));
      assert.ok(await error.isHidden(), 'the message goes once the input is fixed');
      assert.deepEqual(problems, []);
    });
  });
}

// The demo page (web/demo/) in Debian's Chromium, driven by playwright-core,
// at a desktop and a phone viewport, used as a person would: train the
// default example and watch the loss fall, stop a long run, read the forecast
// and the gates, save and load the model, and mistype the data. Then, on the
// desktop, the text and classification examples and offline use. Screenshots
// of each state go to tests/artifacts/. Chromium comes from tests/setup.sh.
import { after, before, describe, it, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS } from '../helpers.js';
import { serve } from '../serve.js';

const VIEWPORTS = [{ width: 1280, height: 800 }, { width: 390, height: 844 }];
const ARTIFACTS = fileURLToPath(new URL('../artifacts/', import.meta.url));
const TEST_TIMEOUT = 60_000;
const TRAIN_TIMEOUT = 30_000; // the default example trains in about a second here
const STOP_WITHIN_MS = 1000; // issue 4: Stop ends training within a second
const MAX_FRAME_GAP_MS = 100; // issue 4: the page stays responsive while training
const LONG_RUN_MS = 1500; // how long the Stop test lets training run (and measures frame gaps) first
const FORECAST_STEPS = 16; // the default example (160 steps) holds out its last 16, and forecasts 16 ahead
const GATES = ['i', 'f', 'g', 'o', 'c', 'h'];

const MISSING = existsSync(CHROMIUM) ? '' : `Chromium is missing at ${CHROMIUM}`;

let browser, server;

// Without Chromium this fails (and the page tests are skipped) rather than
// passing quietly: CI installs it through `npm test`'s pretest.
test('Chromium for the browser tests is installed', () => {
  assert.ok(!MISSING, `${MISSING}: run 'bash tests/setup.sh test' (as root it installs Debian's chromium package)`);
});

before(async () => {
  if (MISSING) return;
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

/** A page on the demo that records console errors and uncaught exceptions in `problems`. */
async function openDemo(viewport, problems, query = '') {
  const context = await browser.newContext({ viewport, acceptDownloads: true });
  const page = await context.newPage();
  page.on('console', (msg) => { if (msg.type() === 'error') problems.push(`console: ${msg.text()}`); });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  await page.goto(server.url + query);
  await page.locator('[data-testid=status][data-state=idle]').waitFor();
  return { context, page };
}

/** Waits until the status line reports `state` (done, stopped, loaded, failed...). */
function waitForState(page, state, timeout = TRAIN_TIMEOUT) {
  return page.locator(`[data-testid=status][data-state=${state}]`).waitFor({ timeout });
}

/** Starts recording requestAnimationFrame timestamps in the page; stopFrames() returns the longest gap. */
function startFrames(page) {
  return page.evaluate(() => {
    const f = (window.frameLog = { last: 0, max: 0, count: 0, on: true });
    const tick = (t) => {
      if (f.last) f.max = Math.max(f.max, t - f.last);
      f.last = t, f.count++;
      if (f.on) requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
}
function stopFrames(page) {
  return page.evaluate(() => {
    window.frameLog.on = false;
    return { max: window.frameLog.max, count: window.frameLog.count };
  });
}

/** Clicks Save and returns the downloaded file's path. */
async function saveModel(page) {
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('save').click()]);
  assert.match(download.suggestedFilename(), /\.lstm$/);
  return download.path();
}

/** Chooses the file at `path` under the name `name` in the Load dialog and waits for the model. */
async function loadModel(page, path, name) {
  await page.getByTestId('load-file').setInputFiles({ name, mimeType: 'application/octet-stream', buffer: readFileSync(path) });
  await waitForState(page, 'loaded');
}

for (const viewport of VIEWPORTS) {
  const size = `${viewport.width}x${viewport.height}`;
  const shot = (page, name) => page.screenshot({ path: `${ARTIFACTS}demo-${size}-${name}.png`, fullPage: true });

  describe(`demo page at ${size}`, { timeout: TEST_TIMEOUT, skip: MISSING || false }, () => {
    let context, page;
    const problems = [];

    before(async () => {
      ({ context, page } = await openDemo(viewport, problems));
    });

    after(async () => {
      await context?.close();
    });

    it('loads with a label on every control, no console errors and no sideways scrolling', async () => {
      assert.match(await page.locator('#engine').textContent(), /SIMD128.*in a Web Worker/);
      for (const id of ['sequence-input', 'train', 'stop', 'loss-chart', 'prediction', 'gates', 'status']) {
        assert.ok(await page.getByTestId(id).isVisible(), `${id} is visible`);
      }
      assert.ok((await page.getByTestId('sequence-input').inputValue()).split(',').length > 100, 'the box holds the example');
      const unlabelled = await page.evaluate(() => [...document.querySelectorAll('input, select, textarea, button')]
        .filter((el) => el.type !== 'file' && !(el.labels?.length || el.getAttribute('aria-label') || el.textContent.trim()))
        .map((el) => el.id || el.outerHTML.slice(0, 60)));
      assert.deepEqual(unlabelled, [], 'controls without a label');
      // Tab reaches every control, in reading order
      const reached = [];
      while (!reached.includes('load') && reached.length < 30) {
        await page.keyboard.press('Tab');
        reached.push(await page.evaluate(() => document.activeElement.id));
      }
      const order = ['preset', 'sequence', 'task', 'cell', 'hidden-size', 'layers', 'window', 'epochs', 'learning-rate', 'train', 'load'];
      assert.deepEqual(reached.filter((id) => order.includes(id)), order, `Tab order: ${reached}`);
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(width <= viewport.width, `no horizontal scrolling: the page is ${width}px wide`);
      await shot(page, '1-loaded');
      assert.deepEqual(problems, []);
    });

    it('trains the default example with one click: the loss falls on the chart and the page keeps drawing', async (t) => {
      await startFrames(page);
      await page.getByTestId('train').click();
      await waitForState(page, 'done');
      const frames = await stopFrames(page);
      const trainMs = Number(await page.getByTestId('status').getAttribute('data-train-ms'));
      t.diagnostic(`${size}: the default example trained in ${trainMs} ms; longest frame gap ${frames.max.toFixed(1)} ms over ${frames.count} frames`);
      const chart = page.getByTestId('loss-chart');
      assert.equal(await chart.getAttribute('data-epochs'), '30');
      const [first, last] = numbersIn((await chart.getAttribute('aria-label')).split('training')[1]);
      assert.ok(last < first / 10, `training loss fell tenfold on the chart: ${first} to ${last}`);
      assert.ok(await chart.locator('canvas').count() >= 1, 'uPlot drew the chart');
      assert.equal(await page.getByTestId('progress').evaluate((p) => p.value), 1);
      assert.match(await page.getByTestId('speed').textContent(), /[\d,]+ samples per second/);
      assert.ok(frames.max < MAX_FRAME_GAP_MS, `longest gap between frames ${frames.max.toFixed(1)} ms`);
      await shot(page, '2-trained');
      assert.deepEqual(problems, []);
    });

    it('draws the forecast continuing the series and scores it on the held-out part', async () => {
      const values = numbersIn((await page.getByTestId('forecast-values').textContent()).split(':')[1]);
      assert.equal(values.length, FORECAST_STEPS);
      assert.ok(values.every((v) => v > 20 && v < 80), `forecast within the wave's range: ${values}`);
      const [lstm, naive] = numbersIn(await page.locator('#forecast-score').textContent());
      assert.ok(lstm < naive / 3, `forecast error ${lstm} well below repeating the last value (${naive})`);
      assert.ok(await page.locator('#forecast-chart canvas').count() >= 1);
    });

    it('opens the gate heat maps with a layer choice, and shows values on hover and with the keyboard', async () => {
      const gates = page.getByTestId('gates');
      for (const key of GATES) assert.ok(await gates.locator(`canvas[data-gate=${key}]`).isVisible(), `heat map ${key}`);
      assert.equal(await page.getByTestId('gate-layer').locator('option').count(), 1);
      const tip = page.getByTestId('gate-tooltip');
      const f = gates.locator('canvas[data-gate=f]');
      await f.scrollIntoViewIfNeeded();
      await f.hover({ position: { x: 3, y: 3 } });
      assert.match(await tip.textContent(), /^f · forget gate: 0\.\d{3} — unit 1, step 1 \(x = [\d.]+\)$/);
      assert.ok(await tip.isVisible());
      await shot(page, '3-gates-hover');
      await page.mouse.move(0, 0);
      await gates.locator('canvas[data-gate=c]').focus();
      await page.keyboard.press('ArrowRight');
      await page.keyboard.press('ArrowDown');
      assert.match(await tip.textContent(), /^c · cell state: -?[\d.]+ — unit 2, step 2/);
      // another input window gives other values (5 steps on: the wave's period is 24)
      const before = await tip.textContent();
      await page.getByTestId('gate-input').fill('5');
      await gates.locator('[aria-label="Gates of layer 1 over the window starting at step 5"]').waitFor();
      await gates.locator('canvas[data-gate=c]').focus();
      await page.keyboard.press('ArrowRight');
      await page.keyboard.press('ArrowDown');
      assert.notEqual(await tip.textContent(), before);
      assert.deepEqual(problems, []);
    });

    it('saves the model to a file and loads it back with the same forecast', async () => {
      const forecast = await page.getByTestId('forecast-values').textContent();
      const path = await saveModel(page);
      const [exported] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-safetensors').click()]);
      assert.match(exported.suggestedFilename(), /\.safetensors$/);
      await loadModel(page, path, 'lstm-forecast.lstm');
      assert.match(await page.getByTestId('status').textContent(), /Loaded lstm-forecast\.lstm: a forecaster, 1 layer of 32 units/);
      assert.equal(await page.getByTestId('forecast-values').textContent(), forecast);
      await shot(page, '4-loaded-model');
      assert.deepEqual(problems, []);
    });

    it('stops a long training run within a second of pressing Stop, and keeps the page drawing', async (t) => {
      await page.locator('#epochs').fill('100000');
      await page.getByTestId('train').click();
      await page.getByTestId('status').filter({ hasText: /Epoch \d+ of 100000/ }).waitFor();
      await shot(page, '5-training');
      await startFrames(page); // after the screenshot, which holds up the page's frames while it is taken
      await page.waitForTimeout(LONG_RUN_MS);
      const t0 = Date.now();
      await page.getByTestId('stop').click();
      await page.getByTestId('status').filter({ hasText: /^Stopped after/ }).waitFor({ timeout: STOP_WITHIN_MS });
      const took = Date.now() - t0;
      await waitForState(page, 'stopped'); // and the stopped model's forecast and gates are drawn
      const frames = await stopFrames(page);
      t.diagnostic(`${size}: stopped ${took} ms after Stop; longest frame gap while training ${frames.max.toFixed(1)} ms over ${frames.count} frames`);
      assert.ok(took < STOP_WITHIN_MS, `stopped after ${took} ms`);
      assert.ok(frames.max < MAX_FRAME_GAP_MS, `longest gap between frames ${frames.max.toFixed(1)} ms`);
      assert.match(await page.getByTestId('status').textContent(), /Stopped after \d+ of 100000 epochs/);
      assert.ok(await page.getByTestId('train').isEnabled(), 'Train is enabled again');
      assert.ok(await page.getByTestId('stop').isDisabled(), 'Stop is disabled again');
      assert.equal(numbersIn((await page.getByTestId('forecast-values').textContent()).split(':')[1]).length, FORECAST_STEPS,
        'the stopped model still forecasts');
      await page.locator('#epochs').fill('30');
      assert.deepEqual(problems, []);
    });

    it('explains bad input next to the box, trains nothing, and clears the message once fixed', async () => {
      const input = page.getByTestId('sequence-input');
      const error = page.getByTestId('input-error');
      const cases = [
        ['1, 2, x, 4', /“x” \(line 1, item 3\) is not a number/],
        ['', /The box is empty/],
        ['42', /one number only/],
        ['1 2 3', /There are 3 numbers; a window of 24 needs at least \d+/],
        ['1 2 3\n4 5 6 7 8 9', /Line 1 has 3 numbers/],
      ];
      for (const [text, message] of cases) {
        await input.fill(text);
        await page.getByTestId('train').click();
        assert.match(await error.textContent(), message, `for input '${text}'`);
        assert.ok(await error.isVisible());
        assert.equal(await input.getAttribute('aria-invalid'), 'true');
        assert.equal(await page.getByTestId('status').getAttribute('data-state'), 'invalid', 'no training started');
      }
      await page.locator('#window').fill('0');
      await page.getByTestId('train').click();
      assert.match(await page.locator('#settings-error').textContent(), /Window must be a whole number from 2 to 512/);
      await page.locator('#window').fill('24');
      assert.ok(await page.locator('#settings-error').isHidden());
      await input.fill('1, 2, x, 4');
      await page.getByTestId('train').click();
      await shot(page, '6-bad-input');
      await input.fill(Array.from({ length: 60 }, (_, k) => k % 7).join(' '));
      await error.waitFor({ state: 'hidden' });
      assert.equal(await input.getAttribute('aria-invalid'), 'false');
      assert.deepEqual(problems, []);
    });
  });
}

describe('demo page: the other tasks, and offline', { timeout: TEST_TIMEOUT, skip: MISSING || false }, () => {
  const viewport = VIEWPORTS[0];
  let context, page;
  const problems = [];
  const shot = (name) => page.screenshot({ path: `${ARTIFACTS}demo-${name}.png`, fullPage: true });

  before(async () => {
    ({ context, page } = await openDemo(viewport, problems));
  });

  after(async () => {
    await context?.close();
  });

  it('learns the names example, generates new names, and gives the same names after a save and load', async () => {
    await page.getByTestId('preset').selectOption('names');
    assert.equal(await page.getByTestId('task').inputValue(), 'generate');
    await page.getByTestId('train').click();
    await waitForState(page, 'done');
    const names = () => page.getByTestId('generated').locator('li').allTextContents();
    const made = await names();
    assert.equal(made.length, 12);
    assert.ok(made.filter((w) => /^[A-Z][a-z]{1,14}$/.test(w)).length >= 9, `name-like: ${made}`);
    assert.ok(await page.getByTestId('generated').locator('li:not(.known)').count() >= 6, `mostly new: ${made}`);
    await page.getByTestId('temperature').fill('0.3');
    await page.getByTestId('generated').filter({ hasText: 'Temperature 0.3' }).waitFor();
    assert.notDeepEqual(await names(), made, 'another temperature, other names');
    await page.getByTestId('gate-input').fill('Anna');
    await page.getByTestId('gates').locator('[aria-label="Gates of layer 1 over the text “Anna”"]').waitFor();
    await page.getByTestId('gates').locator('canvas[data-gate=o]').hover({ position: { x: 2, y: 2 } });
    assert.match(await page.getByTestId('gate-tooltip').textContent(), /o · output gate: [\d.]+ — unit 1, step 1 \(“A”\)/);
    await shot('names');
    const at03 = await names();
    await loadModel(page, await saveModel(page), 'names.lstm');
    assert.match(await page.getByTestId('status').textContent(), /a text model/);
    assert.deepEqual(await names(), at03, 'the loaded model generates the same names');
    assert.deepEqual(problems, []);
  });

  it('classifies the shapes example and shows a confusion table of the held-out examples', async () => {
    await page.getByTestId('preset').selectOption('shapes');
    await page.getByTestId('train').click();
    await waitForState(page, 'done');
    const table = page.getByTestId('confusion');
    assert.deepEqual(await table.locator('thead th').allTextContents(), ['true \\ guessed', 'rise', 'fall', 'peak']);
    const counts = numbersIn(await table.locator('tbody').innerText());
    assert.equal(counts.reduce((a, b) => a + b, 0), 15, 'every 4th of 60 examples is held out');
    const [right, total] = numbersIn(await page.locator('#classify-score').textContent());
    assert.ok(right >= 12 && total === 15, `${right} of ${total} right`);
    await shot('shapes');
    assert.deepEqual(problems, []);
  });

  it('trains a GRU and a peephole LSTM on the default example and shows the gates each one has', async () => {
    await page.getByTestId('preset').selectOption('wave');
    for (const [cell, keys] of [['gru', ['r', 'z', 'n', 'h']], ['peephole', GATES]]) {
      await page.getByTestId('cell').selectOption(cell);
      await page.getByTestId('train').click();
      await waitForState(page, 'done');
      const maps = await page.getByTestId('gates').locator('canvas').evaluateAll((list) => list.map((c) => c.dataset.gate));
      assert.deepEqual(maps, keys, `${cell} gates`);
      const [lstm, naive] = numbersIn(await page.locator('#forecast-score').textContent());
      assert.ok(lstm < naive, `${cell}: forecast error ${lstm}, repeating the last value ${naive}`);
    }
    await page.locator('#switches summary').click();
    assert.ok(await page.locator('#sw-peepholes').isDisabled(), 'the peephole cell is defined by its peepholes');
    await shot('gru-peephole');
    await page.getByTestId('cell').selectOption('cifg');
    assert.ok(await page.locator('#sw-coupled').isChecked() && await page.locator('#sw-coupled').isDisabled(), 'CIFG is defined by coupled gates');
    await page.locator('#sw-forget').uncheck();
    await page.getByTestId('train').click();
    assert.match(await page.locator('#settings-error').textContent(), /Coupled gates need both the input and the forget gate/);
    await page.getByTestId('cell').selectOption('lstm');
    assert.deepEqual(problems, []);
  });

  it('works offline once loaded: the page, its scripts, the worker and the .wasm come from the cache', async () => {
    const offline = await browser.newContext({ viewport });
    try {
      const p = await offline.newPage();
      p.on('pageerror', (err) => problems.push(`offline page error: ${err.message}`));
      await p.goto(server.url);
      await p.evaluate(async () => {
        await navigator.serviceWorker.ready;
        if (!navigator.serviceWorker.controller) {
          await new Promise((resolve) => navigator.serviceWorker.addEventListener('controllerchange', resolve, { once: true }));
        }
      });
      await offline.setOffline(true);
      await p.reload();
      await p.locator('[data-testid=status][data-state=idle]').waitFor();
      await p.getByTestId('train').click();
      await waitForState(p, 'done');
      assert.equal(numbersIn((await p.getByTestId('forecast-values').textContent()).split(':')[1]).length, FORECAST_STEPS);
    } finally {
      await offline.close();
    }
    assert.deepEqual(problems, []);
  });
});

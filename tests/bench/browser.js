// Runs core.js in headless Chromium (Debian's /usr/bin/chromium through
// playwright-core, as tests/browser/ does) and returns what page.js measured.
// tests/serve.js on 127.0.0.1 serves the repository's web/ and tests/bench/
// and the peers' bundles and .wasm files from node_modules, nothing else: the
// page downloads nothing from outside.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS } from '../helpers.js';
import { serve } from '../serve.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SERVED = ['web/', 'tests/bench/', 'node_modules/@tensorflow/', 'node_modules/brain.js/'];
const PAGE = '/tests/bench/page.html';

/**
 * Runs the benchmark in Chromium.
 * @param {object} options passed to window.runBench (peers, workloads, rounds, aims, warmUp, versions)
 * @param {(line: string) => void} log
 */
export async function runInChromium(options, log) {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium is missing at ${CHROMIUM}: run 'bash tests/setup.sh test' (as root it installs Debian's chromium package)`);
  const server = await serve({ port: 0, root: ROOT, allow: SERVED, start: PAGE });
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage();
    const problems = [];
    page.on('console', (msg) => {
      if (msg.type() === 'error') problems.push(msg.text());
      log(`  [chromium] ${msg.text()}`);
    });
    page.on('pageerror', (err) => problems.push(err.message));
    page.on('response', (res) => { if (res.status() >= 400) log(`  [chromium] ${res.status()} ${res.url()}`); });
    await page.goto(server.url);
    await page.waitForFunction(() => window.benchReady === true, null, { timeout: 30_000 }).catch(() => {
      throw new Error(`the bench page did not load: ${problems.join('; ') || 'no error reported'}`);
    });
    const result = await page.evaluate((o) => window.runBench(o), options);
    return { ...result, chromium: browser.version(), problems };
  } finally {
    await browser.close();
    await server.close();
  }
}

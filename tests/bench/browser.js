// Runs core.js in headless Chromium (Debian's /usr/bin/chromium through
// playwright-core, as tests/browser/ does) and returns what page.js measured.
// A server of its own on 127.0.0.1 serves the repository's web/ and
// tests/bench/ and the peers' bundles and .wasm files from node_modules,
// nothing else: the page downloads nothing from outside.
import { createServer } from 'node:http';
import { createReadStream, existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { extname, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SERVED = ['web/', 'tests/bench/', 'node_modules/@tensorflow/', 'node_modules/brain.js/'];
const MIME_TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8',
  '.json': 'application/json; charset=utf-8', '.wasm': 'application/wasm', '.map': 'application/json' };

async function handle(req, res) {
  const pathname = decodeURIComponent(new URL(req.url, 'http://localhost').pathname);
  const file = resolve(ROOT, `.${pathname}`);
  const rel = file.slice(ROOT.length).split(sep).join('/');
  const info = file.startsWith(ROOT) && SERVED.some((p) => rel.startsWith(p)) ? await stat(file).catch(() => null) : null;
  if (!info?.isFile()) {
    res.writeHead(404, { 'content-type': 'text/plain' });
    return res.end(`not found: ${pathname}\n`);
  }
  res.writeHead(200, { 'content-type': MIME_TYPES[extname(file)] ?? 'application/octet-stream', 'content-length': info.size });
  createReadStream(file).pipe(res);
}

function serve() {
  const server = createServer((req, res) => handle(req, res).catch(() => res.destroy()));
  return new Promise((ok) => server.listen(0, '127.0.0.1', () => ok({
    url: `http://127.0.0.1:${server.address().port}/`,
    close: () => new Promise((done) => { server.close(() => done()); server.closeAllConnections(); }),
  })));
}

/**
 * Runs the benchmark in Chromium.
 * @param {object} options passed to window.runBench (peers, workloads, rounds, aims, warmUp, versions)
 * @param {(line: string) => void} log
 */
export async function runInChromium(options, log) {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium is missing at ${CHROMIUM}: run 'bash tests/setup.sh test' (as root it installs Debian's chromium package)`);
  const server = await serve();
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
    await page.goto(`${server.url}tests/bench/page.html`);
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

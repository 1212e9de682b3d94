// The package from a bundler: a tiny app that imports 'lstm-wasm' by name is
// built with Vite (as a user's project would install it: node_modules/lstm-wasm
// is a link to this repository, so the package.json exports map decides what
// is reached), then served and run in Debian's Chromium.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { build } from 'vite';
import { CHROMIUM, CHROMIUM_ARGS } from '../helpers.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const APP = fileURLToPath(new URL('../artifacts/vite-app/', import.meta.url));
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm' };

const MAIN = `import { Model } from 'lstm-wasm';
const out = document.getElementById('out');
try {
  const model = await Model.create({ inputSize: 1, hiddenSize: 8, seed: 1 });
  const xs = Array.from({ length: 40 }, (_, k) => [k % 5, (k + 1) % 5, (k + 2) % 5]);
  await model.train(xs, xs.map((s) => (s[2] + 1) % 5), { epochs: 30, learningRate: 0.02 });
  out.textContent = JSON.stringify({ simd: model.engine.simd, next: model.predict([[1, 2, 3]])[0] });
} catch (err) {
  out.textContent = 'error: ' + err.message;
}
`;

test('a Vite build of an app that imports lstm-wasm emits the two engine files and trains in Chromium', { skip: existsSync(CHROMIUM) ? false : `Chromium is missing at ${CHROMIUM}` }, async () => {
  rmSync(APP, { recursive: true, force: true });
  mkdirSync(join(APP, 'src'), { recursive: true });
  mkdirSync(join(APP, 'node_modules'));
  symlinkSync(ROOT, join(APP, 'node_modules', 'lstm-wasm'), 'dir');
  writeFileSync(join(APP, 'index.html'), '<!doctype html><pre id="out">loading</pre><script type="module" src="/src/main.js"></script>');
  writeFileSync(join(APP, 'src', 'main.js'), MAIN);
  await build({ root: APP, configFile: false, logLevel: 'warn', build: { outDir: join(APP, 'dist'), target: 'es2022' } });

  const assets = readdirSync(join(APP, 'dist', 'assets'));
  const wasm = assets.filter((f) => f.endsWith('.wasm')).sort();
  assert.equal(wasm.length, 2, `emitted ${wasm}`);
  assert.match(wasm[0], /^lstm-[\w-]+\.wasm$/);
  assert.match(wasm[1], /^lstm-simd-[\w-]+\.wasm$/);

  const server = createServer((req, res) => {
    const path = join(APP, 'dist', req.url === '/' ? 'index.html' : decodeURIComponent(req.url.split('?')[0]));
    if (!path.startsWith(join(APP, 'dist')) || !existsSync(path)) { res.writeHead(404).end(); return; }
    res.writeHead(200, { 'content-type': TYPES[extname(path)] ?? 'application/octet-stream' }).end(readFileSync(path));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage();
    const errors = [];
    page.on('pageerror', (err) => errors.push(err.message));
    await page.goto(`http://127.0.0.1:${server.address().port}/`);
    await page.waitForFunction(() => document.getElementById('out').textContent !== 'loading', null, { timeout: 30_000 });
    const text = await page.locator('#out').textContent();
    assert.ok(!text.startsWith('error'), text);
    const result = JSON.parse(text);
    assert.equal(result.simd, true);
    assert.ok(Math.abs(result.next - 4) < 0.5, `predicted ${result.next} for the next of 1, 2, 3 (mod 5): 4`);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    server.close();
  }
});

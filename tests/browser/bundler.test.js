// The package from each bundler, as a user's project gets it: the tarball
// `npm pack` makes is unpacked into an app's node_modules/lstm-wasm (a real
// copy, not a link, so bundlers treat it as a dependency: Vite pre-bundles it
// in dev), a tiny app importing 'lstm-wasm' and 'lstm-wasm/worker' is built
// with webpack 5, Vite 7 and 8 (build and dev server), esbuild, Rollup, Parcel, or served as
// is with an import map, and run in Debian's Chromium (one for all). The app
// trains the same seeded model in the page and in a worker: the same bits.
// Each bundler gets exactly the config the README's "Install and bundlers"
// section tells users to write.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS } from '../helpers.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const WORK = fileURLToPath(new URL('../artifacts/bundlers/', import.meta.url));
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm' };
const skip = existsSync(CHROMIUM) ? false : `Chromium is missing at ${CHROMIUM}`;

const MAIN = `import { Model, reorderGates } from 'lstm-wasm';
import { Model as WorkerModel } from 'lstm-wasm/worker';
const out = document.getElementById('out');
try {
  const xs = Array.from({ length: 40 }, (_, k) => [k % 5, (k + 1) % 5, (k + 2) % 5]);
  const ys = xs.map((s) => (s[2] + 1) % 5);
  const model = await Model.create({ inputSize: 1, hiddenSize: 8, seed: 1 });
  await model.train(xs, ys, { epochs: 30, learningRate: 0.02 });
  const remote = await WorkerModel.create({ inputSize: 1, hiddenSize: 8, seed: 1 });
  await remote.train(xs, ys, { epochs: 30, learningRate: 0.02 });
  const worker = (await remote.predict([[1, 2, 3]]))[0];
  await remote.dispose();
  const gates = Array.from(reorderGates(new Float32Array([1, 2, 3, 4]), 1, 'iofg', 'ifgo'));
  out.textContent = JSON.stringify({ simd: model.engine.simd, main: model.predict([[1, 2, 3]])[0], worker, gates });
} catch (err) {
  out.textContent = 'error: ' + err.message;
}
`;
const PAGE = (head, src) => `<!doctype html><meta charset="utf-8">${head}<pre id="out">loading</pre><script type="module" src="${src}"></script>`;

let browser, tarball;
before(async () => {
  if (skip) return;
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(WORK, { recursive: true });
  const out = execFileSync('npm', ['pack', '--json', '--pack-destination', WORK], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  tarball = join(WORK, JSON.parse(out.replace(/^[^[]*/, ''))[0].filename);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
});
after(async () => { await browser?.close(); });

/** A fresh app directory: src/main.js and node_modules/lstm-wasm unpacked from the tarball. */
function makeApp(name) {
  const app = join(WORK, name);
  const pkg = join(app, 'node_modules', 'lstm-wasm');
  mkdirSync(pkg, { recursive: true });
  mkdirSync(join(app, 'src'));
  execFileSync('tar', ['xzf', tarball, '-C', pkg, '--strip-components=1']);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name, private: true, type: 'module' }));
  writeFileSync(join(app, 'src', 'main.js'), MAIN);
  return app;
}

/** Serves `dir` as static files on a free port. */
async function serve(dir) {
  const server = createServer((req, res) => {
    const path = join(dir, req.url === '/' ? 'index.html' : decodeURIComponent(req.url.split('?')[0]));
    if (!path.startsWith(dir) || !existsSync(path) || !extname(path)) { res.writeHead(404).end(); return; }
    res.writeHead(200, { 'content-type': TYPES[extname(path)] ?? 'application/octet-stream' }).end(readFileSync(path));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${server.address().port}/`, close: () => new Promise((resolve) => server.close(resolve)) };
}

/** Opens the app's page and checks what it printed: trained in the page and in a worker, to the same bits. */
async function check(url) {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (err) => errors.push(err.message));
  try {
    await page.goto(url);
    await page.waitForFunction(() => document.getElementById('out').textContent !== 'loading', null, { timeout: 60_000 });
    const text = await page.locator('#out').textContent();
    assert.ok(!text.startsWith('error'), text);
    const result = JSON.parse(text);
    assert.equal(result.simd, true);
    assert.ok(Math.abs(result.main - 4) < 0.5, `predicted ${result.main} for the next of 1, 2, 3 (mod 5): 4`);
    assert.equal(result.worker, result.main, 'lstm-wasm/worker trains to the same bits as the main entry');
    assert.deepEqual(result.gates, [1, 3, 4, 2]);
    assert.deepEqual(errors, []);
  } finally {
    await page.close();
  }
}

/** The .wasm files a build emitted under `dir` (any depth). */
function wasmFiles(dir) {
  return readdirSync(dir, { recursive: true }).filter((f) => String(f).endsWith('.wasm')).map(String).sort();
}

async function checkDist(dist) {
  const server = await serve(dist);
  try {
    await check(server.url);
  } finally {
    await server.close();
  }
}

test('webpack 5: no config, no warning; emits the two engine files and the worker', { skip, timeout: 120_000 }, async () => {
  const { default: webpack } = await import('webpack');
  const app = makeApp('webpack');
  const dist = join(app, 'dist');
  const stats = await new Promise((resolve, reject) => webpack({
    mode: 'production', context: app, entry: './src/main.js', output: { path: dist },
  }, (err, result) => (err ? reject(err) : resolve(result))));
  const info = stats.toJson({ all: false, errors: true, warnings: true });
  assert.deepEqual(info.errors.map((e) => e.message), []);
  assert.deepEqual(info.warnings.map((w) => w.message).filter((m) => !/performance recommendations|asset size limit|entrypoint size limit/.test(m)), []);
  assert.equal(wasmFiles(dist).length, 2, `emitted ${wasmFiles(dist)}`);
  writeFileSync(join(dist, 'index.html'), PAGE('', 'main.js'));
  await checkDist(dist);
});

// Vite 7 (vite) and Vite 8 (vite8, an npm alias): the same two tests each
for (const [pkg, major] of [['vite', 7], ['vite8', 8]]) {
  test(`Vite ${major} build: no config; emits the two engine files, hashed`, { skip, timeout: 120_000 }, async () => {
    const { build } = await import(pkg);
    const app = makeApp(`vite${major}-build`);
    writeFileSync(join(app, 'index.html'), PAGE('', '/src/main.js'));
    await build({ root: app, configFile: false, logLevel: 'warn', build: { outDir: join(app, 'dist'), target: 'es2022' } });
    const wasm = wasmFiles(join(app, 'dist', 'assets'));
    assert.equal(wasm.length, 2, `emitted ${wasm}`);
    assert.match(wasm[0], /^lstm-[\w-]+\.wasm$/);
    assert.match(wasm[1], /^lstm-simd-[\w-]+\.wasm$/);
    await checkDist(join(app, 'dist'));
  });

  test(`Vite ${major} dev server: no config (the package is pre-bundled as a dependency)`, { skip, timeout: 120_000 }, async () => {
    const { createServer: createVite } = await import(pkg);
    const app = makeApp(`vite${major}-dev`);
    writeFileSync(join(app, 'index.html'), PAGE('', '/src/main.js'));
    const server = await createVite({ root: app, configFile: false, logLevel: 'warn', server: { port: 0, host: '127.0.0.1' } });
    await server.listen();
    try {
      await check(server.resolvedUrls.local[0]);
    } finally {
      await server.close();
    }
  });
}

test('esbuild: the worker script as a second entry point, the .wasm files copied', { skip, timeout: 120_000 }, async () => {
  const esbuild = await import('esbuild');
  const app = makeApp('esbuild');
  const dist = join(app, 'dist');
  await esbuild.build({
    absWorkingDir: app, bundle: true, format: 'esm', outdir: dist, logLevel: 'silent',
    entryPoints: ['src/main.js', 'lstm-wasm/worker-host.js'], entryNames: '[name]',
  });
  cpSync(join(app, 'node_modules/lstm-wasm/web/wasm'), join(dist, 'wasm'), { recursive: true });
  writeFileSync(join(dist, 'index.html'), PAGE('', 'main.js'));
  await checkDist(dist);
});

test('esbuild without the copy: the error names the URL it tried and locateWasm', { skip, timeout: 120_000 }, async () => {
  const esbuild = await import('esbuild');
  const app = makeApp('esbuild-bare');
  const dist = join(app, 'dist');
  await esbuild.build({ absWorkingDir: app, bundle: true, format: 'esm', outdir: dist, logLevel: 'silent', entryPoints: { main: 'src/main.js' } });
  writeFileSync(join(dist, 'index.html'), PAGE('', 'main.js'));
  const server = await serve(dist);
  const page = await browser.newPage();
  try {
    await page.goto(server.url);
    await page.waitForFunction(() => document.getElementById('out').textContent !== 'loading', null, { timeout: 60_000 });
    const text = await page.locator('#out').textContent();
    assert.match(text, /^error: could not load the engine from http:\/\/127\.0\.0\.1:\d+\/wasm\/lstm-simd\.wasm: HTTP 404; .*web\/wasm\/lstm-simd\.wasm.*locateWasm/);
  } finally {
    await page.close();
    await server.close();
  }
});

test('Rollup: node-resolve, the worker script as a second input, the .wasm files copied', { skip, timeout: 120_000 }, async () => {
  const { rollup } = await import('rollup');
  const { nodeResolve } = await import('@rollup/plugin-node-resolve');
  const app = makeApp('rollup');
  const dist = join(app, 'dist');
  const bundle = await rollup({
    input: { main: join(app, 'src/main.js'), 'worker-host': 'lstm-wasm/worker-host.js' },
    plugins: [nodeResolve({ rootDir: app })], onwarn: (w) => { throw new Error(`rollup warned: ${w.message}`); },
  });
  await bundle.write({ dir: dist, format: 'es', entryFileNames: '[name].js' });
  await bundle.close();
  cpSync(join(app, 'node_modules/lstm-wasm/web/wasm'), join(dist, 'wasm'), { recursive: true });
  writeFileSync(join(dist, 'index.html'), PAGE('', 'main.js'));
  await checkDist(dist);
});

test('Parcel 2: packageExports on in the app\'s package.json; emits the engine files and the worker', { skip, timeout: 120_000 }, async () => {
  const { Parcel } = await import('@parcel/core');
  const app = makeApp('parcel');
  // the one line: Parcel reads package.json "exports" only when told to
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'parcel', private: true, type: 'module', '@parcel/resolver-default': { packageExports: true } }));
  writeFileSync(join(app, 'package-lock.json'), '{}'); // makes the app Parcel's project root, not this repository
  writeFileSync(join(app, 'index.html'), PAGE('', './src/main.js'));
  const dist = join(app, 'dist');
  const parcel = new Parcel({
    entries: join(app, 'index.html'), defaultConfig: '@parcel/config-default', shouldDisableCache: true, cacheDir: join(app, '.parcel-cache'),
    mode: 'production', logLevel: 'error', shouldAutoInstall: false, defaultTargetOptions: { distDir: dist, engines: { browsers: 'Chrome >= 120' } },
  });
  const { bundleGraph } = await parcel.run();
  const names = bundleGraph.getBundles().map((b) => b.filePath.slice(dist.length + 1));
  assert.equal(names.filter((n) => n.endsWith('.wasm')).length >= 2, true, `bundles ${names}`);
  assert.ok(names.some((n) => n.startsWith('worker-host')), `bundles ${names}`);
  await checkDist(dist);
});

test('no bundler: <script type="module"> with an import map', { skip, timeout: 120_000 }, async () => {
  const app = makeApp('importmap');
  const map = { imports: { 'lstm-wasm': '/node_modules/lstm-wasm/web/index.js', 'lstm-wasm/worker': '/node_modules/lstm-wasm/web/worker.js' } };
  writeFileSync(join(app, 'index.html'), PAGE(`<script type="importmap">${JSON.stringify(map)}</script>`, '/src/main.js'));
  await checkDist(app);
});

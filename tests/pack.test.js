// The package as a new user gets it: `npm pack` (its prepack step builds the
// .wasm files), the tarball installed offline into an empty project, then the
// README's first example run there by name, lstm-wasm/worker trained in a
// worker thread, and every import line the README shows checked against the
// installed package. Also what the tarball holds: the two engine builds (not
// executable), LICENSE, the modules, and nothing from tests/ or c/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const run = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

test('npm pack ships the engine; the tarball installs offline and runs the README example and lstm-wasm/worker', { timeout: 180_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lstm-wasm-pack-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const [packed] = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', dir], ROOT).replace(/^[^[]*/, ''));
  const tarball = join(dir, packed.filename);

  // what the tarball holds, with the modes tar gives them
  const listing = run('tar', ['tvzf', tarball], dir).trim().split('\n').map((line) => {
    const cols = line.trim().split(/\s+/);
    return { mode: cols[0], path: cols[cols.length - 1].replace(/^package\//, '') };
  });
  const paths = listing.map((f) => f.path);
  for (const want of ['LICENSE', 'README.md', 'package.json', 'web/index.js', 'web/index.d.ts', 'web/worker.js', 'web/worker.d.ts',
    'web/worker-host.js', 'web/interop/gate-order.js', 'web/wasm/lstm.wasm', 'web/wasm/lstm-simd.wasm']) {
    assert.ok(paths.includes(want), `the tarball has no ${want}: ${paths.join(', ')}`);
  }
  const stray = paths.filter((p) => /^(tests|c|\.ci|web\/demo)\//.test(p) || /lstm-(test|f64)\.wasm$/.test(p) || p === 'build.sh');
  assert.deepEqual(stray, [], 'only what runs is shipped');
  for (const { mode, path } of listing) assert.doesNotMatch(mode, /x/, `${path} is executable (${mode})`);

  // an empty project installs it offline (the package has no runtime dependencies)
  const app = join(dir, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  run('npm', ['install', tarball, '--offline', '--no-audit', '--no-fund', '--ignore-scripts'], app);
  const installed = JSON.parse(readFileSync(join(app, 'node_modules', 'lstm-wasm', 'package.json'), 'utf8'));
  assert.equal(installed.name, 'lstm-wasm');
  assert.equal(installed.license, 'MIT');

  // the README's first example, as written
  writeFileSync(join(app, 'readme.mjs'), /```js\n([\s\S]*?)```/.exec(README)[1]);
  const out = run(process.execPath, ['readme.mjs'], app);
  const value = Number(/next value ≈ (-?[\d.]+)/.exec(out)?.[1]);
  const want = 20 + 5 * Math.sin(300 / 6);
  assert.ok(Math.abs(value - want) < 0.5, `printed ${out.trim()}, the series continues with ${want.toFixed(2)}`);

  // lstm-wasm/worker from the installed package: the same seed trains to the same bits as the main entry
  writeFileSync(join(app, 'worker.mjs'), `import { Model } from 'lstm-wasm';
import { Model as WorkerModel } from 'lstm-wasm/worker';
const xs = Array.from({ length: 40 }, (_, k) => [k % 5, (k + 1) % 5, (k + 2) % 5]);
const ys = xs.map((s) => (s[2] + 1) % 5);
const local = await Model.create({ inputSize: 1, hiddenSize: 8, seed: 1 });
await local.train(xs, ys, { epochs: 5, learningRate: 0.02 });
const remote = await WorkerModel.create({ inputSize: 1, hiddenSize: 8, seed: 1 });
await remote.train(xs, ys, { epochs: 5, learningRate: 0.02 });
console.log(JSON.stringify({ main: local.predict([[1, 2, 3]])[0], worker: (await remote.predict([[1, 2, 3]]))[0] }));
local.dispose();
await remote.dispose();
`);
  const both = JSON.parse(run(process.execPath, ['worker.mjs'], app));
  assert.ok(Number.isFinite(both.main), `main entry predicted ${both.main}`);
  assert.equal(both.worker, both.main, 'the worker trains to the same bits as the main entry');

  // every import line the README tells users to write resolves in the installed package, each name defined
  const imports = [...README.matchAll(/^import \{([^}]+)\} from '(lstm-wasm[^']*)';/gm)].map((m) => [m[2], m[1].split(',').map((s) => s.trim().split(/\s+as\s+/)[0])]);
  assert.ok(imports.some(([from]) => from === 'lstm-wasm/worker') && imports.some(([, names]) => names.includes('reorderGates')), `README imports: ${JSON.stringify(imports)}`);
  writeFileSync(join(app, 'imports.mjs'), imports.map(([from, names], k) => `import * as m${k} from '${from}';\n` +
    names.map((n) => `if (m${k}[${JSON.stringify(n)}] === undefined) throw new Error(${JSON.stringify(`${from} has no ${n}`)});\n`).join('')).join('') + 'console.log("ok");\n');
  assert.equal(run(process.execPath, ['imports.mjs'], app).trim(), 'ok');
});

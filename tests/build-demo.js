// Makes web/ a static site for the demo page: copies uPlot (a dev dependency)
// from node_modules into web/demo/vendor/ (git-ignored), and lists there, in
// files.json, every file the page needs offline, for web/demo/sw.js. Run by
// `npm run build` and before `npm start` and `npm test`; safe to re-run.
// Any static host can then serve web/: the page is at /demo/.
import { copyFileSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const WEB = fileURLToPath(new URL('../web/', import.meta.url));
const DEMO = `${WEB}demo/`;
const VENDOR = `${DEMO}vendor/`;
const UPLOT = fileURLToPath(new URL('../node_modules/uplot/', import.meta.url));
const UPLOT_FILES = { 'dist/uPlot.esm.js': 'uPlot.esm.js', 'dist/uPlot.min.css': 'uPlot.min.css', LICENSE: 'uPlot.LICENSE' };
const WASM = ['lstm-simd.wasm', 'lstm.wasm']; // the published builds; the test builds stay out

if (!existsSync(UPLOT)) {
  console.error("build-demo: node_modules/uplot is missing: run 'npm install' (or 'bash tests/setup.sh') first");
  process.exit(1);
}
mkdirSync(VENDOR, { recursive: true });
for (const [from, to] of Object.entries(UPLOT_FILES)) copyFileSync(`${UPLOT}${from}`, `${VENDOR}${to}`);

// URLs relative to web/demo/, where sw.js lives.
const list = (dir, prefix, keep) => readdirSync(dir).filter(keep).sort().map((f) => `${prefix}${f}`);
const files = [
  './',
  ...list(DEMO, '', (f) => /\.(html|js|css)$/.test(f) && f !== 'sw.js'),
  ...list(VENDOR, 'vendor/', (f) => /\.(js|css)$/.test(f)),
  ...list(WEB, '../', (f) => f.endsWith('.js')),
  ...list(`${WEB}interop/`, '../interop/', (f) => f.endsWith('.js')),
  ...WASM.filter((f) => existsSync(`${WEB}wasm/${f}`)).map((f) => `../wasm/${f}`),
];
writeFileSync(`${VENDOR}files.json`, `${JSON.stringify(files, null, 1)}\n`);
console.log(`build-demo: uPlot copied into web/demo/vendor/; ${files.length} files listed for offline use`);

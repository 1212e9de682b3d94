// The benchmark inside Chromium (page.html): the same core.js loop and peer
// files as in Node, with the page's UMD bundles for TF.js and brain.js. Exposes
// window.runBench(options) for browser.js; progress goes to console.log.
import { LSTM_WASM_FILES, LSTM_WASM_IMPORTS, instantiateMs, loadPeers, runBench } from './core.js';

async function bytesOf(url) {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

window.runBench = async (o) => {
  const peakBytes = await bytesOf(new URL('./results/peak.wasm', import.meta.url));
  const ctx = { versions: o.versions,
    wasmPaths: new URL('/node_modules/@tensorflow/tfjs-backend-wasm/dist/', location.href).href };
  const out = await runBench({ ...o, peers: await loadPeers(o.peers), peakBytes, ctx, log: (line) => console.log(line) });
  out.instantiateMs = {};
  for (const file of LSTM_WASM_FILES) out.instantiateMs[file] = await instantiateMs(await bytesOf(`/web/wasm/${file}`), LSTM_WASM_IMPORTS);
  out.userAgent = navigator.userAgent;
  return out;
};
window.benchReady = true;

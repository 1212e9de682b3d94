// A tiny static file server for web/ (the demo and the package beside it), with
// no dependencies: `npm start` runs it; tests/browser/ imports serve() and
// starts it on an ephemeral port; tests/bench/browser.js serves the repository
// through it, limited to a few folders. It serves files only: no listings, no
// caching headers (but the header that lets the demo's service worker cover
// the whole site), nothing outside its root (web/ unless told otherwise).
import { createServer } from 'node:http';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { extname, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const WEB = fileURLToPath(new URL('../web/', import.meta.url));
const DEFAULT_PORT = 8080;
const DEMO = '/demo/';
const SERVICE_WORKER = '/demo/sw.js';
const PORT_TRIES = 10; // 8080 busy: try 8081 ... 8089

const MIME_TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.ts': 'text/plain; charset=utf-8',
  '.safetensors': 'application/octet-stream',
  '.onnx': 'application/octet-stream',
  '.map': 'application/json; charset=utf-8',
};

function send(res, status, text, headers = {}) {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers });
  res.end(text);
}

/**
 * Answers one request from `root` (a directory path ending in a separator):
 * only files under one of `allow`'s folders (relative, with '/'; every file
 * when null), '/' redirected to `start`.
 */
async function handle(req, res, { root, allow, start }) {
  if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'method not allowed\n', { allow: 'GET, HEAD' });
  let pathname;
  try {
    pathname = decodeURIComponent(new URL(req.url, 'http://localhost').pathname);
  } catch {
    return send(res, 400, 'bad request\n');
  }
  if (pathname === '/') return send(res, 302, `see ${start}\n`, { location: start });
  if (pathname.includes('\0')) return send(res, 400, 'bad request\n');
  // resolve() folds any '..'; anything that lands outside the root is refused.
  let file = resolve(root, `.${pathname}`);
  if (file !== root.slice(0, -1) && !file.startsWith(root)) return send(res, 403, 'forbidden\n');
  const rel = file.slice(root.length).split(sep).join('/');
  if (allow && !allow.some((folder) => rel.startsWith(folder))) return send(res, 404, `not found: ${pathname}\n`);
  let info = await stat(file).catch(() => null);
  if (info?.isDirectory()) {
    if (!pathname.endsWith('/')) return send(res, 301, `see ${pathname}/\n`, { location: `${pathname}/` });
    file += `${sep}index.html`;
    info = await stat(file).catch(() => null);
  }
  if (!info?.isFile()) return send(res, 404, `not found: ${pathname}\n`);
  res.writeHead(200, {
    'content-type': MIME_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
    'content-length': info.size,
    'cache-control': 'no-cache',
    // The demo's service worker may cover the whole site: the page's Web Worker (/worker-host.js) included.
    ...(pathname === SERVICE_WORKER ? { 'service-worker-allowed': '/' } : {}),
  });
  if (req.method === 'HEAD') return res.end();
  createReadStream(file).on('error', () => res.destroy()).pipe(res);
}

function listen(server, port, host) {
  return new Promise((ok, fail) => {
    const onError = (err) => { server.off('listening', onListening); fail(err); };
    const onListening = () => { server.off('error', onError); ok(); };
    server.once('error', onError).once('listening', onListening).listen(port, host);
  });
}

/**
 * Serves web/ (or `root`) on 127.0.0.1. Port 0 picks a free port; a busy port
 * other than 0 is followed by the next ones.
 * @param {{ port?: number, host?: string, root?: string, allow?: string[] | null, start?: string }} [options]
 *   root: the directory served (default web/); allow: the folders under it that
 *   may be read, relative, ending in '/' (default all); start: the page '/'
 *   redirects to and the url points at (default '/demo/')
 * @returns {Promise<{ url: string, close: () => Promise<void> }>} url ends in `start`
 */
export async function serve({ port = DEFAULT_PORT, host = '127.0.0.1', root = WEB, allow = null, start = DEMO } = {}) {
  const site = { root: resolve(root) + sep, allow, start };
  const server = createServer((req, res) => {
    handle(req, res, site).catch((err) => {
      if (!res.headersSent) send(res, 500, `${err.message}\n`);
      else res.destroy();
    });
  });
  for (let k = 0; ; k++) {
    try {
      await listen(server, port === 0 ? 0 : port + k, host);
      break;
    } catch (err) {
      if (err.code !== 'EADDRINUSE' || port === 0 || k + 1 >= PORT_TRIES) throw err;
    }
  }
  const url = `http://${host}:${server.address().port}${start}`;
  const close = () => new Promise((ok) => {
    server.close(() => ok());
    server.closeAllConnections();
  });
  return { url, close };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const port = process.env.PORT ? Number(process.env.PORT) : DEFAULT_PORT;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`serve: PORT must be a port number, got '${process.env.PORT}'`);
    process.exit(1);
  }
  const { url } = await serve({ port });
  console.log(`serve: lstm-wasm demo at ${url} (Ctrl+C to stop)`);
}

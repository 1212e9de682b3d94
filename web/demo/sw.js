// The demo's service worker, for offline use: it keeps a copy of every file
// the page needs (listed by tests/build-demo.js in vendor/files.json) and of
// everything the page fetches, but always asks the network first, so a
// running server wins and the copy serves only when the network fails.
const CACHE = 'lstm-wasm-demo';

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    const files = await fetch('vendor/files.json', { cache: 'no-store' }).then((r) => r.json()).catch(() => []);
    // One by one: a file missing from a partial build should not stop the others from being kept.
    await Promise.allSettled(files.map((url) => cache.add(new Request(url, { cache: 'no-cache' }))));
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET' || new URL(request.url).origin !== self.location.origin) return;
  event.respondWith((async () => {
    try {
      const response = await fetch(request);
      if (response.ok && response.type === 'basic') {
        const copy = response.clone();
        event.waitUntil(caches.open(CACHE).then((cache) => cache.put(request, copy)));
      }
      return response;
    } catch (err) {
      const kept = await caches.match(request, { ignoreSearch: true });
      if (kept) return kept;
      throw err;
    }
  })());
});

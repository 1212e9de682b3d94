// The lstm-wasm API the page trains with, chosen once at load. By default
// lstm-wasm/worker (../worker.js): every model in its own Web Worker, every
// method async, so the page stays responsive while it trains. With
// ?thread=main in the address, the main-thread API (../index.js) behind the
// same async surface, to compare the two. app.js awaits every call either way.

const MAIN = new URLSearchParams(location.search).get('thread') === 'main';

/** Every method of `target` returning a promise, as lstm-wasm/worker's do; properties pass through. */
function asyncView(target) {
  return new Proxy(target, {
    get(t, key) {
      const value = t[key];
      return typeof value === 'function' ? async (...args) => value.apply(t, args) : value;
    },
  });
}

async function mainThread() {
  const api = await import('../index.js');
  const wrap = (Class) => ({
    create: async (options) => asyncView(await Class.create(options)),
    load: async (bytes, options) => asyncView(await Class.load(bytes, options)),
  });
  return { Model: wrap(api.Model), TextModel: wrap(api.TextModel), windows: api.windows, features: api.features, thread: 'main' };
}

/**
 * Offline, on a host where the service worker could not cover the Web
 * Worker's own script (sw.js needs the header Service-Worker-Allowed: / for
 * that), the worker cannot start: the model is then made on the main thread.
 */
function offlineFallback(api, name) {
  const retry = (method) => async (...args) => {
    try {
      return await api[name][method](...args);
    } catch (err) {
      if (navigator.onLine || err.code !== 'ERR_ENGINE') throw err;
      console.warn(`lstm-wasm demo: offline and the worker could not start (${err.message}); using the main thread`);
      return (await mainThread())[name][method](...args);
    }
  };
  return { create: retry('create'), load: retry('load') };
}

async function worker() {
  const api = await import('../worker.js');
  return {
    Model: offlineFallback(api, 'Model'), TextModel: offlineFallback(api, 'TextModel'), windows: api.windows, features: api.features,
    thread: 'worker',
  };
}

/** { Model, TextModel, windows, features, thread }: Model and TextModel with create() and load(), all methods async. */
export const lstm = MAIN ? await mainThread() : await worker();

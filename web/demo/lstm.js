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
  return { Model: wrap(api.Model), TextModel: wrap(api.TextModel), features: api.features, thread: 'main' };
}

async function worker() {
  const api = await import('../worker.js');
  return { Model: api.Model, TextModel: api.TextModel, features: api.features, thread: 'worker' };
}

/** { Model, TextModel, features, thread }: Model and TextModel with create() and load(), all methods async. */
export const lstm = MAIN ? await mainThread() : await worker();

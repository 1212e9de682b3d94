// The coordinator's side of data-parallel training (replica.js is the
// workers'): how many workers `workers: n | 'auto'` means, starting them (plain
// workers of worker-host.js, no cross-origin isolation: buffers are
// transferred), each batch cut into contiguous shards by worker index, and a
// worker that stops turned into an LstmError. What a model's step does with
// the shards' answers is the caller's (training.js for Model and TextModel;
// a Seq2Seq step would open replicas of its own kind the same way).
import { LstmError } from './errors.js';
import { Connection, spawn } from './rpc.js';

// a variable, so bundlers leave this Node-only import alone
const NODE_OS = 'node:os';

/** @internal the pools training now (tests end one of their workers to play a crash). */
export const LIVE_POOLS = new Set();

/** The cores this runtime reports: navigator.hardwareConcurrency, else Node's os.availableParallelism(). */
async function cores() {
  const n = globalThis.navigator?.hardwareConcurrency;
  if (Number.isInteger(n) && n > 0) return n;
  try {
    const os = await import(/* @vite-ignore */ /* webpackIgnore: true */ NODE_OS);
    return os.availableParallelism?.() ?? os.cpus().length;
  } catch {
    return 1;
  }
}

/** The worker count for `workers` (a number, or 'auto': the cores), never more than a batch has rows. */
export async function resolveWorkers(workers, batchRows) {
  const n = workers === 'auto' ? await cores() : workers;
  return Math.max(1, Math.min(n, batchRows));
}

/** Shard k of n over rows 0..na-1: [a0, a1), contiguous, sizes differing by one at most (maybe empty). */
export function shard(k, n, na) {
  return [Math.floor((k * na) / n), Math.floor(((k + 1) * na) / n)];
}

export class Pool {
  #conns;
  #failure = null;
  #first; // the number of the first worker, as the user counts them (the caller's own thread may be worker 0)

  constructor(conns, first) {
    this.#conns = conns;
    this.#first = first;
  }

  /**
   * Starts n workers and opens a replica in each: `open(k)` gives
   * { method, args, transfer } of worker k's opening call. `first`: the
   * number errors give worker 0 (1 when the calling thread is worker 0).
   */
  static async open(n, open, first = 0) {
    const conns = [];
    const pool = new Pool(conns, first);
    LIVE_POOLS.add(pool);
    try {
      for (let k = 0; k < n; k++) conns.push(new Connection(await spawn()));
      await Promise.all(conns.map((_, k) => {
        const { method, args, transfer } = open(k);
        return pool.call(k, method, args, transfer);
      }));
      return pool;
    } catch (err) {
      await pool.close();
      throw err;
    }
  }

  get size() {
    return this.#conns.length;
  }

  /** @internal the Worker behind worker k (tests). */
  worker(k) {
    return this.#conns[k].worker;
  }

  /** Calls `method` in worker k; a worker that stopped rejects with ERR_ENGINE, naming it. */
  async call(k, method, args, transfer = []) {
    const conn = this.#conns[k];
    try {
      return await conn.call(method, args, { transfer });
    } catch (err) {
      if (!conn.closed) throw err; // the worker's own error (an LstmError as the main entry would throw)
      this.#failure ??= err.message.replace(/^the worker running this model stopped: /, '').replace(/; create or load the model again$/, '');
      throw new LstmError('ERR_ENGINE', `train: training worker ${this.#first + k + 1} of ${this.#first + this.size} stopped (${this.#failure}); `
        + 'the model keeps the weights of the last batch that completed; train again, with fewer workers if memory ran out');
    }
  }

  /** Ends every worker (their replicas are freed first if they still answer). */
  async close() {
    LIVE_POOLS.delete(this);
    await Promise.all(this.#conns.map((c) => c.dispose()));
  }
}

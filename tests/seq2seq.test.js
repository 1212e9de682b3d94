// Seq2Seq through its public API (issue 12): every fixture case's loss and
// gradients against PyTorch float64, the greedy decodings, finite differences
// of the extra parameters in the f64 build, save/load and resumed training,
// fromPyTorch of toSafetensors, bad input, and learning to reverse digits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Seq2Seq, LstmError } from '../web/index.js';
import { engine, fixture, relErr } from './helpers.js';
import { reverseDigits } from './tasks/seq2seq-tasks.js';

const { cases, greedy } = fixture('seq2seq_cases.json');
const flat = (params) => Object.fromEntries(Object.entries(params).map(([n, t]) => [n, t.data]));

async function fromFixture(config, params, eng) {
  const { cell, layers, hiddenSize, embedding, attention, reverseSource, sourceVocabularySize, targetVocabularySize } = config;
  const m = await Seq2Seq.create({ cell, layers, hiddenSize, embedding, attention, reverseSource, sourceVocabularySize, targetVocabularySize, engine: eng });
  m.setParameters(flat(params));
  return m;
}

// Measured (max over cases and gradients, see the report): f64 one-hot ~2e-15,
// f64 embedded ~7e-8 (Model.forward stages inputs through float32), float32 ~6e-7.
const TOL = { f64: { onehot: 1e-12, embedded: 1e-6 }, simd: { onehot: 1e-5, embedded: 1e-5 }, scalar: { onehot: 1e-5, embedded: 1e-5 } };

for (const variant of ['f64', 'simd', 'scalar']) {
  test(`Seq2Seq.gradients matches PyTorch float64 on every fixture case (${variant})`, async () => {
    const eng = await engine(variant);
    let worst = 0;
    for (const c of cases) {
      const tol = TOL[variant][c.config.embedding ? 'embedded' : 'onehot'];
      const m = await fromFixture(c.config, c.params, eng);
      try {
        const { loss, grads } = m.gradients(c.sources, c.targets);
        assert.ok(Math.abs(loss - c.loss) / c.loss < tol, `${c.name}: loss ${loss} vs ${c.loss}`);
        assert.deepEqual(Object.keys(grads).sort(), Object.keys(c.grads).sort(), c.name);
        assert.deepEqual(Object.keys(m.parameters()).sort(), Object.keys(c.params).sort(), c.name);
        for (const [name, want] of Object.entries(c.grads)) {
          const err = relErr(grads[name], want);
          worst = Math.max(worst, err);
          assert.ok(err < tol, `${c.name} ${name}: relative error ${err}`);
        }
      } finally {
        m.dispose();
      }
    }
    console.log(`# ${variant}: worst relative gradient error ${worst.toExponential(2)}`);
  });
}

test('Seq2Seq.translate reproduces PyTorch\'s greedy decodings; attention() its weights', async () => {
  for (const variant of ['f64', 'simd']) {
    const eng = await engine(variant);
    for (const g of greedy) {
      const m = await fromFixture(g.config, g.params, eng);
      try {
        const got = m.translate(g.results.map((r) => r.source), { maxLength: g.maxLength });
        assert.deepEqual(got, g.results.map((r) => r.output), `${variant} ${g.name}`);
        assert.deepEqual(m.translate(g.results[0].source, { maxLength: g.maxLength }), g.results[0].output);
        // beam 1 is greedy; a wider beam finds a sequence at least as likely (checked by its own score below)
        if (g.config.attention) {
          for (const r of g.results) {
            let a = m.attention(r.source, { maxLength: g.maxLength });
            if (g.config.reverseSource) a = a.map((row) => row.slice().reverse()); // the fixture's columns are the encoder's steps
            assert.ok(relErr(a.flat(), r.attention.flat()) < 1e-5, `${variant} ${g.name}: attention`);
          }
        }
      } finally {
        m.dispose();
      }
    }
  }
});

// The f64 build's Model.forward stages its inputs through float32 (exact for
// one-hot inputs): attention, combine and head are checked on a one-hot case
// with a small step, the embeddings (whose rows are rounded to float32 on the
// way in) with a larger step and a tolerance that covers that rounding.
test('finite differences of the extra parameters (f64): embeddings, attention, combine, head', async () => {
  const eng = await engine('f64');
  const check = async (c, names, h, rel) => {
    const m = await fromFixture(c.config, c.params, eng);
    try {
      const { grads } = m.gradients(c.sources, c.targets);
      const p0 = m.parameters();
      for (const name of names) {
        for (const i of [0, 3, p0[name].length - 1]) {
          const at = (d) => {
            const v = p0[name].slice();
            v[i] += d;
            m.setParameters({ [name]: v });
            return m.evaluate(c.sources, c.targets).loss;
          };
          const fd = (at(h) - at(-h)) / (2 * h);
          m.setParameters({ [name]: p0[name] });
          assert.ok(Math.abs(fd - grads[name][i]) < 1e-9 + rel * Math.abs(fd), `${c.name} ${name}[${i}]: ${grads[name][i]} vs finite difference ${fd}`);
        }
      }
    } finally {
      m.dispose();
    }
  };
  const onehot = cases.find((k) => !k.config.embedding && k.config.attention);
  await check(onehot, ['attention.weight', 'attention_combine.weight', 'head.weight', 'head.bias'], 1e-6, 1e-6);
  const embedded = cases.find((k) => k.config.embedding && k.config.attention);
  await check(embedded, ['source_embedding.weight', 'target_embedding.weight'], 1e-3, 1e-3);
});

const small = () => {
  const d = reverseDigits({ seed: 3, train: 400, heldOut: 50, minLength: 3, maxLength: 5 });
  return d;
};

test('save/load round-trips; resumed training is bit-identical to uninterrupted; fromPyTorch(toSafetensors())', async () => {
  const d = small();
  const opts = { hiddenSize: 16, embedding: 8, attention: 'luong', seed: 5 };
  const train = { epochs: 1, batchSize: 32, learningRate: 0.01, clipNorm: 1 };
  const a = await Seq2Seq.create(opts), b = await Seq2Seq.create(opts);
  try {
    await a.train(d.train.sources, d.train.targets, { ...train, epochs: 2 });
    await b.train(d.train.sources, d.train.targets, train);
    const c = await Seq2Seq.load(b.save());
    try {
      assert.deepEqual(c.translate(d.heldOut.sources), b.translate(d.heldOut.sources));
      assert.deepEqual(c.parameters(), b.parameters());
      await c.train(d.train.sources, d.train.targets, train);
      const pa = a.parameters(), pc = c.parameters();
      for (const n of Object.keys(pa)) assert.deepEqual(pc[n], pa[n], `${n} after resuming`);
      const t = await Seq2Seq.fromPyTorch(a.toSafetensors(), { attention: 'luong', sourceVocabulary: a.vocabularies.source, targetVocabulary: a.vocabularies.target });
      try {
        assert.deepEqual(t.translate(d.heldOut.sources), a.translate(d.heldOut.sources));
      } finally {
        t.dispose();
      }
    } finally {
      c.dispose();
    }
  } finally {
    a.dispose(), b.dispose();
  }
});

test('bad input: LstmError naming the problem', async () => {
  const m = await Seq2Seq.create({ hiddenSize: 8, sourceVocabulary: '0123456789', targetVocabulary: '0123456789', seed: 1 });
  try {
    const bad = (fn, code, re) => assert.throws(fn, (e) => e instanceof LstmError && e.code === code && re.test(e.message), String(re));
    bad(() => m.translate('12x4'), 'ERR_OPTION', /source\[2\]: 'x' is not in the source vocabulary/);
    bad(() => m.gradients(['12'], ['1', '2']), 'ERR_SHAPE', /sources has 1 sequences but targets has 2/);
    bad(() => m.gradients([''], ['1']), 'ERR_SHAPE', /sources\[0\] is empty/);
    bad(() => m.translate([[3, 42]]), 'ERR_RANGE', /sources\[0\]\[1\] = 42 is outside the source ids 0\.\.9/);
    bad(() => m.gradients([[1]], [[0]]), 'ERR_RANGE', /targets\[0\]\[0\] = 0 is the start token/);
    bad(() => m.setParameters({ 'head.weight': [1] }), 'ERR_SHAPE', /head\.weight' needs 96 values/);
    await assert.rejects(Seq2Seq.create({ hiddenSize: 8, cell: 'foo' }), (e) => e.code === 'ERR_OPTION' && /cell must be one of/.test(e.message));
    m.dispose();
    bad(() => m.translate('1'), 'ERR_DISPOSED', /disposed/);
  } finally {
    m.dispose();
  }
});

test('learns to reverse digit strings (lengths 3-5) through the string API', async () => {
  const d = reverseDigits({ seed: 7, train: 3000, heldOut: 200, minLength: 3, maxLength: 5 });
  const m = await Seq2Seq.create({ hiddenSize: 48, embedding: 16, attention: 'luong', seed: 2 });
  try {
    const t0 = Date.now();
    await m.train(d.train.sources, d.train.targets, { epochs: 6, batchSize: 32, learningRate: 0.01, clipNorm: 1 });
    const got = m.translate(d.heldOut.sources, { maxLength: 8 });
    const exact = got.filter((s, i) => s === d.heldOut.targets[i]).length / got.length;
    const ev = m.evaluate(d.heldOut.sources, d.heldOut.targets);
    console.log(`# reverse 3-5: exact ${exact} (teacher-forced ${ev.exactMatch}, token ${ev.tokenAccuracy.toFixed(4)}), ${Date.now() - t0} ms`);
    assert.ok(exact >= 0.95, `held-out exact match ${exact}`);
  } finally {
    m.dispose();
  }
});

test('the worker entry trains and translates as the main entry does; progress and abort reach it', { timeout: 120000 }, async () => {
  const worker = await import('../web/worker.js');
  const d = small();
  const opts = { hiddenSize: 12, embedding: 6, attention: 'luong', reverseSource: true, seed: 9 };
  const train = { epochs: 2, batchSize: 40, learningRate: 0.01, clipNorm: 1 };
  const m = await Seq2Seq.create(opts), w = await worker.Seq2Seq.create(opts);
  try {
    const epochs = [];
    const hm = await m.train(d.train.sources, d.train.targets, train);
    const hw = await w.train(d.train.sources, d.train.targets, { ...train, onEpochEnd: (i) => epochs.push(i.epoch) });
    assert.deepEqual(hw.loss, hm.loss);
    assert.deepEqual(epochs, [0, 1]);
    assert.deepEqual(w.vocabularies, m.vocabularies);
    assert.deepEqual(await w.translate(d.heldOut.sources), m.translate(d.heldOut.sources));
    assert.deepEqual(await w.translate(d.heldOut.sources[0], { beam: 3 }), m.translate(d.heldOut.sources[0], { beam: 3 }));
    assert.deepEqual(await w.evaluate(d.heldOut.sources, d.heldOut.targets), m.evaluate(d.heldOut.sources, d.heldOut.targets));
    const ac = new AbortController();
    ac.abort();
    assert.equal((await w.train(d.train.sources, d.train.targets, { ...train, signal: ac.signal })).stopped, true);
    await assert.rejects(w.translate('12a'), (e) => e.code === 'ERR_OPTION' && /source\[2\]: 'a'/.test(e.message));
    const again = await worker.Seq2Seq.load(m.save());
    try {
      assert.deepEqual(await again.translate(d.heldOut.sources), m.translate(d.heldOut.sources));
    } finally {
      await again.dispose();
    }
  } finally {
    m.dispose();
    await w.dispose();
  }
});

test('beam search: beam 1 is greedy; a wider beam scores at least as well; sampling is seeded', async () => {
  const d = small();
  const m = await Seq2Seq.create({ hiddenSize: 12, embedding: 6, attention: 'luong', seed: 4 });
  try {
    await m.train(d.train.sources, d.train.targets, { epochs: 1, batchSize: 40, learningRate: 0.01 });
    const src = d.heldOut.sources.slice(0, 10);
    assert.deepEqual(m.translate(src, { beam: 1 }), m.translate(src));
    // the sequence log-probability through teacher forcing: loss × (tokens + end)
    const score = (s, t) => -m.evaluate([s], [t]).loss * (t.length + 1);
    const greedyOut = m.translate(src, { maxLength: 8 }), beamOut = m.translate(src, { beam: 4, maxLength: 8 });
    src.forEach((s, i) => {
      if (beamOut[i].length && greedyOut[i].length) assert.ok(score(s, beamOut[i]) >= score(s, greedyOut[i]) - 1e-5, `${s}: beam ${beamOut[i]} vs greedy ${greedyOut[i]}`);
    });
    const a = m.translate(src, { temperature: 1, seed: 3 }), b = m.translate(src, { temperature: 1, seed: 3 });
    assert.deepEqual(a, b);
    assert.notDeepEqual(m.translate(src, { temperature: 5, seed: 1 }), m.translate(src, { temperature: 5, seed: 2 }));
  } finally {
    m.dispose();
  }
});

test('the README\'s Seq2Seq example runs and reverses its digits', { timeout: 120000 }, async () => {
  const { readFileSync, mkdirSync, writeFileSync } = await import('node:fs');
  const { execFileSync } = await import('node:child_process');
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const code = /### `Seq2Seq`\n[\s\S]*?```js\n([\s\S]*?)```/.exec(readme)[1];
  const dir = new URL('./artifacts/', import.meta.url);
  mkdirSync(dir, { recursive: true });
  const file = new URL('readme-seq2seq.mjs', dir);
  // seeded data, so the run is reproducible
  writeFileSync(file, code.replace('Math.random()', '((i) => (i = Math.sin(i * 12.9898) * 43758.5453, i - Math.floor(i)))(seedCounter++)')
    .replace("import { Seq2Seq } from 'lstm-wasm';", "import { Seq2Seq } from 'lstm-wasm';\nlet seedCounter = 1;"));
  const out = execFileSync(process.execPath, [file.pathname], { encoding: 'utf8' });
  assert.match(out, /1234 -> 4321/);
});

test('early stopping with restoreBest works through Seq2Seq\'s checkpoints', async () => {
  const d = small();
  const m = await Seq2Seq.create({ hiddenSize: 8, embedding: 4, seed: 2 });
  try {
    const h = await m.train(d.train.sources, d.train.targets, { epochs: 3, batchSize: 50, learningRate: 0.01, validationSplit: 0.2,
      earlyStopping: { patience: 0, restoreBest: true } });
    assert.ok(h.epochs >= 1 && h.valLoss.length === h.epochs);
    await assert.rejects(m.train(d.train.sources, d.train.targets, { metrics: ['accuracy'] }), (e) => e.code === 'ERR_OPTION');
    await assert.rejects(m.train(d.train.sources, d.train.targets, { workers: 2 }), (e) => e.code === 'ERR_OPTION' && /workers: Seq2Seq/.test(e.message));
  } finally {
    m.dispose();
  }
});

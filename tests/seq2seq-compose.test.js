// The whole Seq2Seq of seq2seq_cases.json composed from today's pieces, before
// Seq2Seq itself exists: an encoder Model and a decoder Model (outputSize 0,
// forward()/backward() with initial states and their gradients) around the C
// exports of c/attention.c (embedding, attention, head). Loss and every
// gradient against PyTorch float64, and the greedy decodings; this is also the
// blueprint of the composition Seq2Seq will make.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Model } from '../web/index.js';
import { engine, fixture, relErr } from './helpers.js';

const START = 0, END = 1;
const { cases, greedy } = fixture('seq2seq_cases.json');

/** Calls an export of c/attention.c in a scope, asserting success. */
function call(eng, name, ...args) {
  const st = eng.exports[name](...args);
  assert.equal(st, 0, `${name}: ${eng.cstring(eng.exports.lw_attention_last_error())}`);
}

/** Token ids (B rows of T, -1 = padding) as model input: one-hot, or embedding rows through lw_embedding_forward. */
function tokens(eng, rows, T, V, table, E) {
  const B = rows.length, ids = new Int32Array(B * T).fill(-1);
  rows.forEach((r, b) => r.forEach((id, t) => { ids[b * T + t] = id; }));
  const lengths = Int32Array.from(rows, (r) => r.length);
  if (!E) {
    const data = new Float64Array(B * T * V);
    ids.forEach((id, k) => { if (id >= 0) data[k * V + id] = 1; });
    return { ids, x: { data, shape: [B, T, V], lengths } };
  }
  const data = eng.scoped((s) => {
    const out = s.reals(B * T * E);
    call(eng, 'lw_embedding_forward', B * T, V, E, s.int32(ids), s.reals(table), out);
    return eng.readReals(out, B * T * E);
  });
  return { ids, x: { data, shape: [B, T, E], lengths } };
}

/** The two Models with the fixture's weights, and the rest of the parameters by name. */
async function build(eng, config, params) {
  const { cell, layers, hiddenSize: H, embedding: E, sourceVocabularySize: Vs, targetVocabularySize: Vt } = config;
  const side = async (prefix, I) => {
    const m = await Model.create({ inputSize: I, hiddenSize: H, layers, cell, outputSize: 0, engine: eng });
    m.setParameters(Object.fromEntries(Object.entries(params).filter(([n]) => n.startsWith(prefix))
      .map(([n, t]) => [n.slice(prefix.length), t.data])));
    return m;
  };
  return { encoder: await side('encoder.', E || Vs), decoder: await side('decoder.', E || Vt),
    p: Object.fromEntries(Object.entries(params).map(([n, t]) => [n, t.data])) };
}

const rowsOf = (a, B, T, W) => Array.from({ length: B }, (_, b) => a.slice(b * T * W, (b + 1) * T * W));

/** Teacher-forced loss and every gradient, by the fixture's parameter names. */
function lossAndGradients(eng, net, c) {
  const { config } = c, { encoder, decoder, p } = net;
  const { hiddenSize: H, embedding: E, sourceVocabularySize: Vs, targetVocabularySize: Vt } = config;
  const lstm = config.cell === 'lstm', attn = config.attention === 'luong';
  const B = c.sources.length, S = Math.max(...c.sources.map((s) => s.length)), T = 1 + Math.max(...c.targets.map((t) => t.length));
  const srcRows = c.sources.map((s) => (config.reverseSource ? [...s].reverse() : s));
  const src = tokens(eng, srcRows, S, Vs, p['source_embedding.weight'], E);
  const enc = encoder.forward(src.x);
  const tgt = tokens(eng, c.targets.map((t) => [START, ...t]), T, Vt, p['target_embedding.weight'], E);
  const dec = decoder.forward(tgt.x, { h0: enc.h, ...(lstm ? { c0: enc.c } : {}) });
  const srcLen = Int32Array.from(c.sources, (s) => s.length), tgtLen = Int32Array.from(c.targets, (t) => t.length + 1);
  const target = new Int32Array(B * T).fill(-1);
  c.targets.forEach((y, b) => { [...y, END].forEach((id, t) => { target[b * T + t] = id; }); });
  const count = tgtLen.reduce((x, y) => x + y, 0);
  const grads = {};
  return eng.scoped((s) => {
    const hp = s.reals(dec.output), hbp = s.reals(enc.output), sl = s.int32(srcLen), tl = s.int32(tgtLen);
    let feat = hp, wa = 0, wc = 0;
    if (attn) {
      wa = s.reals(p['attention.weight']), wc = s.reals(p['attention_combine.weight']);
      feat = s.reals(B * T * H);
      call(eng, 'lw_attention_forward', B, T, S, H, hp, hbp, sl, tl, wa, wc, s.reals(B * T * S), feat);
    }
    const loss = eng.alloc(16), dfeat = s.reals(B * T * H), dw = s.reals(new Float64Array(Vt * H)), db = s.reals(new Float64Array(Vt));
    let sum, n;
    try {
      call(eng, 'lw_head_forward_backward', B * T, H, Vt, feat, s.reals(p['head.weight']), s.reals(p['head.bias']),
        s.int32(target), 1 / count, s.reals(B * T * Vt), loss, dfeat, dw, db);
      [sum, n] = new Float64Array(eng.memory.buffer, loss, 2);
    } finally {
      eng.free(loss);
    }
    assert.equal(n, count);
    grads['head.weight'] = eng.readReals(dw, Vt * H), grads['head.bias'] = eng.readReals(db, Vt);
    let dh = eng.readReals(dfeat, B * T * H), dhbar = new Float64Array(B * S * H);
    if (attn) {
      const dhp = s.reals(B * T * H), dhbp = s.reals(B * S * H), dwa = s.reals(new Float64Array(H * H)), dwc = s.reals(new Float64Array(2 * H * H));
      call(eng, 'lw_attention_backward', B, T, S, H, hp, hbp, sl, tl, wa, wc, feat, dfeat, dhp, dhbp, dwa, dwc);
      dh = eng.readReals(dhp, B * T * H), dhbar = eng.readReals(dhbp, B * S * H);
      grads['attention.weight'] = eng.readReals(dwa, H * H), grads['attention_combine.weight'] = eng.readReals(dwc, 2 * H * H);
    }
    const gd = decoder.backward(dh);
    const ge = encoder.backward(dhbar, { dh: gd.dh0, ...(lstm ? { dc: gd.dc0 } : {}) });
    for (const [prefix, g] of [['decoder.', gd], ['encoder.', ge]]) {
      for (const [n, v] of Object.entries(g.grads)) if (!n.startsWith('head.')) grads[prefix + n] = v;
    }
    if (E) {
      for (const [name, dx, ids, V] of [['source_embedding.weight', ge.dx, src.ids, Vs], ['target_embedding.weight', gd.dx, tgt.ids, Vt]]) {
        const dt = s.reals(new Float64Array(V * E));
        call(eng, 'lw_embedding_backward', ids.length, V, E, s.int32(ids), s.reals(dx), dt);
        grads[name] = eng.readReals(dt, V * E);
      }
    }
    return { loss: sum / n, grads };
  });
}

/** Greedy decoding of one source, a decoder step at a time: { output, logits, attention }. */
function decodeGreedy(eng, net, config, source, maxLength) {
  const { encoder, decoder, p } = net, lstm = config.cell === 'lstm', attn = config.attention === 'luong';
  const { hiddenSize: H, embedding: E, sourceVocabularySize: Vs, targetVocabularySize: Vt } = config;
  const S = source.length;
  const enc = encoder.forward(tokens(eng, [config.reverseSource ? [...source].reverse() : source], S, Vs, p['source_embedding.weight'], E).x);
  let state = { h0: enc.h, ...(lstm ? { c0: enc.c } : {}) }, tok = START;
  const output = [], logits = [], attention = [];
  for (let step = 0; step < maxLength; step++) {
    const d = decoder.forward(tokens(eng, [[tok]], 1, Vt, p['target_embedding.weight'], E).x, state);
    state = { h0: d.h, ...(lstm ? { c0: d.c } : {}) };
    const z = eng.scoped((s) => {
      let feat = s.reals(d.output);
      if (attn) {
        const a = s.reals(S), out = s.reals(H);
        call(eng, 'lw_attention_forward', 1, 1, S, H, feat, s.reals(enc.output), s.int32([S]), s.int32([1]),
          s.reals(p['attention.weight']), s.reals(p['attention_combine.weight']), a, out);
        attention.push(Array.from(eng.readReals(a, S)));
        feat = out;
      }
      const zp = s.reals(Vt);
      call(eng, 'lw_head_forward_backward', 1, H, Vt, feat, s.reals(p['head.weight']), s.reals(p['head.bias']), 0, 1, zp, 0, 0, 0, 0);
      return Array.from(eng.readReals(zp, Vt));
    });
    logits.push(z);
    tok = 1;
    for (let k = 2; k < Vt; k++) if (z[k] > z[tok]) tok = k; // arg-max over ids >= 1: never the start token
    if (tok === END) break;
    output.push(tok);
  }
  return { output, logits, attention };
}

// Measured (max over cases and gradients): f64 one-hot 2.1e-15, f64 embedded
// 7.4e-8 (Model.forward stages its inputs through Float32Array: one-hot inputs
// are exact, embedding rows are rounded to float32), simd and scalar 5.6e-7.
const TOL = { f64: { onehot: 1e-12, embedded: 1e-6 }, simd: { onehot: 1e-5, embedded: 1e-5 }, scalar: { onehot: 1e-5, embedded: 1e-5 } };

for (const variant of ['f64', 'simd', 'scalar']) {
  test(`Seq2Seq composed from Models and c/attention.c matches PyTorch float64: loss and every gradient (${variant})`, async () => {
    const eng = await engine(variant);
    assert.equal(cases.length, 10);
    for (const c of cases) {
      const tol = TOL[variant][c.config.embedding ? 'embedded' : 'onehot'];
      const net = await build(eng, c.config, c.params);
      try {
        const { loss, grads } = lossAndGradients(eng, net, c);
        assert.ok(Math.abs(loss - c.loss) / c.loss < tol, `${c.name}: loss ${loss} vs ${c.loss}`);
        assert.deepEqual(Object.keys(grads).sort(), Object.keys(c.grads).sort(), c.name);
        for (const [name, want] of Object.entries(c.grads)) {
          const err = relErr(grads[name], want);
          assert.ok(err < tol, `${c.name} ${name}: relative error ${err}`);
        }
      } finally {
        net.encoder.dispose(), net.decoder.dispose();
      }
    }
  });
}

test('greedy decoding of the composition reproduces PyTorch\'s (f64 and float32)', async () => {
  for (const variant of ['f64', 'simd']) {
    const eng = await engine(variant);
    for (const g of greedy) {
      const net = await build(eng, g.config, g.params);
      try {
        for (const r of g.results) {
          const got = decodeGreedy(eng, net, g.config, r.source, g.maxLength);
          assert.deepEqual(got.output, r.output, `${variant} ${g.name} ${r.source}`);
          assert.ok(relErr(got.logits.flat(), r.logits.flat()) < 1e-5, `${variant} ${g.name}: logits`);
          assert.ok(relErr(got.attention.flat(), r.attention.flat()) < 1e-5, `${variant} ${g.name}: attention`);
        }
      } finally {
        net.encoder.dispose(), net.decoder.dispose();
      }
    }
  }
});

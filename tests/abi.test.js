// The ABI export (c/abi.c lw_abi_json, checked by web/engine-abi.js): it lists
// every member of every enum in c/lw.h under its name, with the number C gives
// it, and an engine whose numbers differ from engine-abi.js's is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { abi, abiMismatches } from '../web/engine-abi.js';
import { Model } from '../web/index.js';
import { engine } from './helpers.js';

const HEADER = readFileSync(new URL('../c/lw.h', import.meta.url), 'utf8');
const GROUPS = { lw_status: 'status', lw_cell: 'cell', lw_gate: 'gate', lw_loss: 'loss', lw_optim: 'optim', lw_schedule: 'schedule',
  lw_config_index: 'config', lw_hyper_index: 'hyper', lw_tensor_kind: 'tensor', lw_tensor_info_index: 'tensorInfo' };

/** enum name -> [{ member, value }] from lw.h, comments removed; value: a literal number, 'implicit' or 'expression'. */
function headerEnums() {
  const text = HEADER.replace(/\/\*[\s\S]*?\*\//g, '');
  const out = {};
  for (const [, name, body] of text.matchAll(/enum (\w+) \{([^}]*)\}/g)) {
    out[name] = body.split(',').map((s) => s.trim()).filter(Boolean).map((m) => {
      const [member, value] = m.split('=').map((s) => s.trim());
      return { member, value: value === undefined ? 'implicit' : /^\d+$/.test(value) ? Number(value) : 'expression' };
    });
  }
  return out;
}

test('lw_abi_json lists every enum member of lw.h, in order, with C\'s numbers', async () => {
  const e = await engine('simd');
  assert.equal(e.abi, abi);
  const enums = headerEnums();
  assert.deepEqual(Object.keys(enums).sort(), Object.keys(GROUPS).sort(), 'every enum of lw.h has an ABI group');
  for (const [name, members] of Object.entries(enums)) {
    const group = abi[GROUPS[name]];
    // the enum's own prefix (LW_TENSOR_INFO_, LW_GATE_, ...) is what all its members share up to an underscore
    let common = members.map((m) => m.member).reduce((p, m) => { while (!m.startsWith(p)) p = p.slice(0, -1); return p; });
    common = common.slice(0, common.lastIndexOf('_') + 1);
    assert.deepEqual(Object.keys(group), members.map((m) => m.member.slice(common.length)), name);
    let next = 0;
    members.forEach(({ member, value }, k) => {
      const got = Object.values(group)[k];
      if (typeof value === 'number') assert.equal(got, value, member);
      if (value === 'implicit') assert.equal(got, next, `${member}: the value after the one before`);
      next = got + 1;
    });
  }
  const flags = [...HEADER.matchAll(/#define LW_FLAG_(\w+) (\d+)/g)].map(([, n, v]) => [n, Number(v)]);
  assert.deepEqual(Object.entries(abi.flag), flags);
  for (const [k, v] of [['MAX_LAYERS', 16], ['MAX_SIZE', 65536], ['MAX_BATCH', 2 ** 20], ['MAX_STEPS', 2 ** 20], ['MEMORY_LIMIT', 2 ** 31], ['MAX_PERIODS', 64]]) {
    assert.equal(abi.limits[k], v, k);
  }
  assert.equal(abi.tensorNames.length, Object.keys(abi.tensor).length);
  assert.deepEqual(Object.keys(abi.cells), Object.keys(abi.cell), 'one entry per cell');
  assert.deepEqual(Object.fromEntries(Object.entries(abi.cells).map(([k, v]) => [k, v.gates])), { LSTM: 4, GRU: 3, RNN: 1, CLOCKWORK: 1 });
  for (const [name, c] of Object.entries(abi.cells)) assert.equal(c.trace.split(' ').length, c.gates + 2, `${name}: gate rows, c, h`);
});

test('engine-abi.js agrees with every build, and an engine that disagrees is named and refused', async () => {
  for (const variant of ['simd', 'scalar', 'f64']) {
    const e = await engine(variant);
    assert.deepEqual(abiMismatches(e.cstring(e.exports.lw_abi_json())), [], variant);
  }
  const e = await engine('simd'), json = JSON.parse(e.cstring(e.exports.lw_abi_json()));
  json.gate.PEEPHOLES = 4096, json.hyper.CLIP_NORM = 1, json.limits.MAX_SIZE = 1024;
  const bad = abiMismatches(JSON.stringify(json));
  for (const name of ['GATE.peepholes', 'HYPER.clipNorm', 'LIMITS.maxSize']) assert.ok(bad.some((m) => m.startsWith(`${name}:`)), name);
});

test('LW_GATE_ALL is every switch bit, so a new switch below it cannot be forgotten', () => {
  const bits = Object.entries(abi.gate).filter(([k]) => k !== 'ALL').map(([, v]) => v);
  assert.equal(bits.reduce((a, b) => a | b, 0), abi.gate.ALL);
  bits.forEach((b) => assert.equal(b & (b - 1), 0, `${b} is one bit`));
});

test('trace() reports the quantities the C cell table names for each cell', async () => {
  for (const [cell, kind] of [['lstm', 'LSTM'], ['gru', 'GRU'], ['rnn', 'RNN']]) {
    const model = await Model.create({ inputSize: 1, hiddenSize: 2, cell, engine: await engine('simd') });
    const [entry] = model.trace([[0.5], [0.1]]);
    const keys = Object.keys(entry).filter((k) => k !== 'layer' && k !== 'direction');
    assert.deepEqual(keys.sort(), abi.cells[kind].trace.split(' ').filter((r) => r !== '-').sort(), cell);
    model.dispose();
  }
});

test('the f64 test build reports the same ABI (apart from its real size)', async () => {
  const f64 = await engine('f64');
  assert.equal(f64.realSize, 8);
  assert.equal(f64.abi, abi);
});

// Issue 11 defect 2: a wasm trap inside one model's call must not poison the
// engine the other models share. Traps are real (tests/faults.js hands the
// engine pointers outside its memory); each must come back as an LstmError
// (ERR_ENGINE) naming the call, mark only the model it hit, and leave the C
// stack pointer where it was, so that 20,000 of them change nothing for the
// models beside: they still train and predict bit for bit as before.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Model, TextModel, LstmError } from '../web/index.js';
import { coreOf } from '../web/model.js';
import { bits, lcg } from './helpers.js';
import { corrupt, wildTrap } from './faults.js';

// More traps than the 1 MiB C stack survived without the guard (about 13,000 at 80 bytes each).
const TRAPS = 20_000;

const rand = lcg(0xfa17);
const DATA = {
  inputs: Array.from({ length: 24 }, () => Array.from({ length: 6 }, () => rand() * 4 - 2)),
  targets: Array.from({ length: 24 }, () => rand() * 10),
};
const OPTIONS = { inputSize: 1, hiddenSize: [6, 5], seed: 3 };
const TRAIN = { epochs: 1, batchSize: 8, learningRate: 0.01 };

/** Bits of a model's parameters and of its predictions on DATA. */
function state(model) {
  return { params: Object.values(model.parameters()).map(bits), out: bits(model.predict(DATA.inputs)) };
}

/** Two epochs from a fresh model, as bits. */
async function freshRun() {
  const m = await Model.create(OPTIONS);
  await m.train(DATA.inputs, DATA.targets, TRAIN);
  await m.train(DATA.inputs, DATA.targets, TRAIN);
  const s = state(m);
  m.dispose();
  return s;
}

function isFault(err, patterns) {
  assert.ok(err instanceof LstmError, `expected an LstmError, got ${err?.name}: ${err?.message}`);
  assert.equal(err.code, 'ERR_ENGINE', err.message);
  for (const p of patterns) assert.match(err.message, p);
}

test('a trap in one model throws ERR_ENGINE naming the call, marks that model unusable, and spares the others', async () => {
  const before = await freshRun();
  const other = await Model.create(OPTIONS);
  await other.train(DATA.inputs, DATA.targets, TRAIN); // one epoch before the faults, one after
  const victim = await Model.create({ ...OPTIONS, seed: 4 });
  await victim.train(DATA.inputs, DATA.targets, TRAIN);
  const stream = victim.stream();
  stream.step(0.5);
  const e = coreOf(victim).engine;
  const top = e.exports.stackSave();

  corrupt(victim);
  isFault(captured(() => victim.predict(DATA.inputs)),
    [/lw_model_predict/, /memory access out of bounds/, /can no longer be used: create or load the model again/]);
  assert.equal(e.exports.stackSave(), top, 'the stack pointer is back at the top');
  // every later call on it says so, whatever it is; its stream too
  for (const call of [() => victim.predict(DATA.inputs), () => victim.parameters(), () => victim.save(), () => victim.config,
    () => victim.stream(), () => victim.forward([[1, 2]])]) {
    isFault(captured(call), [/this model hit an engine fault \(lw_model_predict: memory access out of bounds\)/, /create or load it again/]);
  }
  isFault(await captured(() => victim.train(DATA.inputs, DATA.targets, TRAIN)), [/engine fault/]);
  isFault(captured(() => stream.step(0.5)), [/lw_stream_step: this stream hit an engine fault earlier/]);
  // disposing it works (its memory is left allocated, not handed back), and then it is disposed
  stream.dispose();
  victim.dispose();
  assert.equal(captured(() => victim.predict(DATA.inputs)).code, 'ERR_DISPOSED');

  // the model beside it carries on exactly as a model that never saw a fault
  await other.train(DATA.inputs, DATA.targets, TRAIN);
  assert.deepEqual(state(other), before);
  assert.deepEqual(await freshRun(), before);
  other.dispose();
});

/** The error fn throws (or its promise rejects with). */
function captured(fn) {
  let result;
  try {
    result = fn();
  } catch (err) {
    return err;
  }
  if (result && typeof result.then === 'function') return result.then(() => assert.fail('expected a rejection'), (err) => err);
  return assert.fail('expected an error');
}

test(`${TRAPS} traps leave the stack, the heap and every other model as they were`, async () => {
  const before = await freshRun();
  const other = await Model.create(OPTIONS);
  await other.train(DATA.inputs, DATA.targets, TRAIN);
  const text = await TextModel.create({ hiddenSize: 8, layers: 1, seed: 2 });
  await text.train(['abc', 'abd', 'bcd'], { epochs: 2 });
  const sample = text.generate('a', 10, { seed: 5 });
  const e = coreOf(other).engine;
  const top = e.exports.stackSave(), heap = e.heapUsed();
  const t0 = performance.now();
  for (let k = 0; k < TRAPS; k++) {
    const err = wildTrap(e, k);
    if (!(err instanceof LstmError) || err.code !== 'ERR_ENGINE' || !/^lw_model_\w+: the engine hit a fault/.test(err.message)) {
      assert.fail(`trap ${k}: ${err?.name}: ${err?.message}`);
    }
  }
  const ms = performance.now() - t0;
  assert.equal(e.exports.stackSave(), top, 'the stack pointer is back at the top');
  assert.equal(e.heapUsed(), heap, 'the traps allocated nothing that stayed');
  await other.train(DATA.inputs, DATA.targets, TRAIN);
  assert.deepEqual(state(other), before);
  assert.deepEqual(await freshRun(), before);
  assert.equal(text.generate('a', 10, { seed: 5 }), sample);
  other.dispose();
  text.dispose();
  console.log(`# ${TRAPS} traps in ${ms.toFixed(0)} ms`);
});

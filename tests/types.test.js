// The type declarations against the code: tsc --noEmit --strict over
// web/index.d.ts, web/worker.d.ts (derived from it), tests/types/usage.ts
// (the README's examples and every method through both entries, with
// @ts-expect-error lines that must stay errors), and a file this test writes
// from what the code accepts at run time: each option list (as the "unknown
// option" message lists it) and each class's method names must be exactly
// the declared ones, in both entries.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as main from '../web/index.js';
import * as worker from '../web/worker.js';

const root = new URL('../', import.meta.url);
const TSC = fileURLToPath(new URL('node_modules/typescript/bin/tsc', root));
const FLAGS = ['--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022',
  '--lib', 'es2022,dom', '--types', '', '--pretty', 'false'];

/** The option names where() accepts, from the message that refuses an unknown one. */
async function accepted(where) {
  try {
    await where({ zzzz: 1 });
  } catch (err) {
    const list = / unknown option 'zzzz'; the options are (.*)$/.exec(err.message)?.[1];
    assert.ok(list, `no option list in: ${err.message}`);
    return list.split(', ');
  }
  return assert.fail('an unknown option was accepted');
}

/** Public member names of a class (methods and accessors), or of its statics. */
function members(target) {
  return Object.getOwnPropertyNames(target).filter((k) => !['constructor', 'length', 'name', 'prototype'].includes(k));
}

const union = (names) => names.map((n) => `'${n}'`).join(' | ') || 'never';

/** TypeScript that fails to compile, naming the name, unless `type` has exactly `names` as keys. */
function exactKeys(label, type, names) {
  const id = label.replace(/\W+/g, '_');
  return [
    `// ${label}: declared but not accepted, then accepted but not declared`,
    `type ${id}_extra = Exclude<keyof (${type}), ${union(names)}>;`,
    `export const ${id}_extra: [${id}_extra] extends [never] ? true : ${id}_extra = true;`,
    `type ${id}_missing = Exclude<${union(names)}, keyof (${type})>;`,
    `export const ${id}_missing: [${id}_missing] extends [never] ? true : ${id}_missing = true;`,
  ].join('\n');
}

test('index.d.ts and worker.d.ts type-check with the README\'s examples, and match the code\'s options and methods', { timeout: 120_000 }, async () => {
  const model = await main.Model.create({ inputSize: 1, hiddenSize: 2 });
  const text = await main.TextModel.create({ hiddenSize: 2, layers: 1, vocabulary: 'ab' });
  const seq = await main.Seq2Seq.create({ hiddenSize: 2, sourceVocabulary: 'ab', targetVocabulary: 'ab' });
  const NonNull = (t) => `NonNullable<${t}>`;
  const checks = [
    ['Model.create options', 'Main.CreateOptions', await accepted((o) => main.Model.create(o))],
    ['train options', 'Main.TrainOptions', await accepted((o) => model.train([[1]], [1], o))],
    ['Model.load options', 'Main.LoadOptions', await accepted((o) => main.Model.load(new Uint8Array(0), o))],
    ['Model.fromPyTorch options', 'Main.FromPyTorchOptions', await accepted((o) => main.Model.fromPyTorch({}, o))],
    ['Model.fromONNX options', 'Main.FromONNXOptions', await accepted((o) => main.Model.fromONNX(new Uint8Array(0), o))],
    ['Model.fromKeras options', 'Main.FromKerasOptions', await accepted((o) => main.Model.fromKeras({}, new Uint8Array(0), o))],
    ['TextModel.create options', 'Main.TextModelOptions', await accepted((o) => main.TextModel.create(o))],
    ['TextModel train options', NonNull(`Parameters<Main.TextModel['train']>[1]`),
      [...await accepted((o) => text.train('ab', o)), 'seqLength']],
    ['predict options', NonNull(`Parameters<Main.Model['predict']>[1]`), await accepted((o) => model.predict([[1]], o))],
    ['forward options', NonNull(`Parameters<Main.Model['forward']>[1]`), await accepted((o) => model.forward([[1]], o))],
    ['backward options', NonNull(`Parameters<Main.Model['backward']>[1]`), await accepted((o) => model.backward([1], o))],
    ['stream options', NonNull(`Parameters<Main.Model['stream']>[0]`), await accepted((o) => model.stream(o))],
    ['Seq2Seq.create options', 'Main.Seq2SeqOptions', await accepted((o) => main.Seq2Seq.create(o))],
    ['Seq2Seq train options', NonNull(`Parameters<Main.Seq2Seq['train']>[2]`), await accepted((o) => seq.train(['a'], ['b'], o))],
    ['Seq2Seq translate options', 'Main.TranslateOptions', await accepted((o) => seq.translate('a', o))],
    ['Seq2Seq.fromPyTorch options', NonNull('Parameters<typeof Main.Seq2Seq.fromPyTorch>[1]'), await accepted((o) => main.Seq2Seq.fromPyTorch({}, o))],
  ];
  const stream = model.stream();
  checks.push(
    ['Model methods', 'Main.Model', members(main.Model.prototype)],
    ['Model statics', "Omit<typeof Main.Model, 'prototype'>", members(main.Model)],
    ['TextModel methods', 'Main.TextModel', members(main.TextModel.prototype)],
    ['TextModel statics', "Omit<typeof Main.TextModel, 'prototype'>", members(main.TextModel)],
    ['Stream methods', 'Main.Stream', members(Object.getPrototypeOf(stream))],
    ['worker Model methods', 'W.Model', members(worker.Model.prototype)],
    ['worker Model statics', "Omit<typeof W.Model, 'prototype'>", members(worker.Model)],
    ['worker TextModel methods', 'W.TextModel', members(worker.TextModel.prototype)],
    ['worker TextModel statics', "Omit<typeof W.TextModel, 'prototype'>", members(worker.TextModel)],
    ['Seq2Seq methods', 'Main.Seq2Seq', members(main.Seq2Seq.prototype)],
    ['Seq2Seq statics', "Omit<typeof Main.Seq2Seq, 'prototype'>", members(main.Seq2Seq)],
    ['worker Seq2Seq methods', 'W.Seq2Seq', members(worker.Seq2Seq.prototype)],
    ['worker Seq2Seq statics', "Omit<typeof W.Seq2Seq, 'prototype'>", members(worker.Seq2Seq)],
    ['main exports', 'typeof Main', Object.keys(main)],
    ['worker exports', 'typeof W', Object.keys(worker).filter((k) => k !== 'WORKER' && k !== 'Connection')],
  );
  // the main entry's methods all exist in the worker (with other results: Promises)
  const textMethods = members(main.TextModel.prototype).filter((k) => k !== 'model');
  assert.deepEqual(members(worker.TextModel.prototype).sort(), textMethods.sort());
  assert.deepEqual(members(worker.Model.prototype).sort(), members(main.Model.prototype).sort());
  assert.deepEqual(members(worker.Seq2Seq.prototype).sort(), members(main.Seq2Seq.prototype).sort());
  seq.dispose();
  stream.dispose();
  model.dispose();
  text.dispose();

  const dir = new URL('tests/artifacts/types/', root);
  mkdirSync(dir, { recursive: true });
  const file = new URL('api-names.ts', dir);
  writeFileSync(file, [
    '// Written by tests/types.test.js from what the code accepts at run time.',
    "import type * as Main from '../../../web/index.js';",
    "import type * as W from '../../../web/worker.js';",
    ...checks.map(([label, type, names]) => exactKeys(label, type, names)),
  ].join('\n') + '\n');
  const files = ['web/index.d.ts', 'web/worker.d.ts', 'tests/types/usage.ts', fileURLToPath(file)];
  try {
    execFileSync(process.execPath, [TSC, ...FLAGS, ...files], { cwd: fileURLToPath(root), encoding: 'utf8' });
  } catch (err) {
    assert.fail(`tsc found errors:\n${err.stdout}${err.stderr}`);
  }
});

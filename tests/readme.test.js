// The README's first example runs as written (importing 'lstm-wasm' by name,
// which Node resolves to this package), and every name that web/index.d.ts
// declares exists at run time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as api from '../web/index.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

test('the README example runs and forecasts the next value of its series', () => {
  const code = /```js\n([\s\S]*?)```/.exec(readme)[1];
  const dir = new URL('./artifacts/', import.meta.url);
  mkdirSync(dir, { recursive: true });
  const file = new URL('readme-example.mjs', dir);
  writeFileSync(file, code);
  const out = execFileSync(process.execPath, [file.pathname], { encoding: 'utf8' });
  const value = Number(/next value ≈ (-?[\d.]+)/.exec(out)?.[1]);
  const want = 20 + 5 * Math.sin(300 / 6);
  assert.ok(Math.abs(value - want) < 0.5, `printed ${out.trim()}, the series continues with ${want.toFixed(2)}`);
});

test('every export and class member declared in index.d.ts exists', () => {
  const dts = readFileSync(new URL('../web/index.d.ts', import.meta.url), 'utf8');
  const exported = [...dts.matchAll(/^export (?:class|function|const) (\w+)/gm)].map((m) => m[1]);
  for (const name of exported) assert.ok(name in api, `export ${name}`);
  for (const cls of ['Model', 'TextModel', 'Seq2Seq']) {
    const body = new RegExp(`export class ${cls} \\{([\\s\\S]*?)\\n\\}`).exec(dts)[1];
    for (const [, isStatic, name] of body.matchAll(/^ {2}(static )?(?:readonly )?(\w+)[(:]/gm)) {
      if (name === 'constructor') continue;
      const where = isStatic ? api[cls] : api[cls].prototype;
      assert.ok(name in where, `${cls}${isStatic ? '.' : '#'}${name}`);
    }
  }
});

// The token layer of Seq2Seq (web/seq2seq-vocab.js): vocabularies learnt or
// given, strings <-> ids with the target's start and end ids, and the errors
// for unknown characters, ids out of range, empty sequences and mismatched counts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Vocabulary, toIds, checkPairs, vocabulariesFor, START, END } from '../web/seq2seq-vocab.js';

const fails = (fn, code, pattern) => assert.throws(fn, (e) => e.name === 'LstmError' && e.code === code && pattern.test(e.message));

test('vocabularies: learnt sorted by code point, target ids after start (0) and end (1)', () => {
  const { source, target } = vocabulariesFor(['12+7', '3+45'], ['19', '48']);
  assert.deepEqual(source.tokens, ['+', '1', '2', '3', '4', '5', '7']);
  assert.deepEqual(target.tokens, ['1', '4', '8', '9']);
  assert.equal(source.size, 7);
  assert.equal(target.size, 6);
  assert.equal(START, 0);
  assert.equal(END, 1);
  assert.deepEqual(Array.from(source.encode('3+45')), [3, 0, 4, 5]);
  assert.deepEqual(Array.from(target.encode('948')), [5, 3, 4]);
  assert.equal(target.decode([5, 3, 4]), '948');
  assert.equal(source.decode(source.encode('12+7')), '12+7');
  // the same data in another order learns the same vocabularies
  const again = vocabulariesFor(['3+45', '12+7'], ['48', '19']);
  assert.deepEqual(again.source.toJSON(), source.toJSON());
  assert.deepEqual(JSON.parse(JSON.stringify(target)), target.tokens);
});

test('vocabularies: given as strings or arrays, checked; characters beyond the BMP count as one', () => {
  const v = new Vocabulary('ab😀', 'target');
  assert.equal(v.size, 5);
  assert.deepEqual(Array.from(v.encode('😀a')), [4, 2]);
  const { source, target } = vocabulariesFor(['ab'], ['c'], { sourceVocabulary: 'abz', targetVocabulary: ['c', 'd'] });
  assert.deepEqual(source.tokens, ['a', 'b', 'z']);
  assert.deepEqual(target.tokens, ['c', 'd']);
  fails(() => new Vocabulary(['a', 'bc'], 'source'), 'ERR_OPTION', /sourceVocabulary\[1\] = "bc" is not one character/);
  fails(() => new Vocabulary('aba', 'target'), 'ERR_OPTION', /targetVocabulary\[2\]: 'a' appears twice \(first at 0\)/);
  fails(() => new Vocabulary([], 'source'), 'ERR_TYPE', /non-empty/);
  fails(() => new Vocabulary('a', 'middle'), 'ERR_OPTION', /side must be/);
  fails(() => vocabulariesFor(['', ''], ['a', 'b']), 'ERR_SHAPE', /sources: no characters/);
});

test('toIds: strings through the vocabulary, naming an unknown character and where it is', () => {
  const source = new Vocabulary('0123456789+', 'source');
  const { ids, strings } = toIds(['1+2', '34'], { name: 'sources', side: 'source', vocabulary: source });
  assert.equal(strings, true);
  assert.deepEqual(ids.map((q) => Array.from(q)), [[1, 10, 2], [3, 4]]);
  fails(() => toIds(['1+2', '3', '4', '55x'], { name: 'sources', side: 'source', vocabulary: source }),
    'ERR_OPTION', /^sources\[3\]\[2\]: 'x' is not in the source vocabulary/);
  fails(() => toIds(['1', ''], { name: 'sources', side: 'source', vocabulary: source }), 'ERR_SHAPE', /sources\[1\] is empty/);
  fails(() => toIds(['1', [2]], { name: 'sources', side: 'source', vocabulary: source }), 'ERR_TYPE', /sources\[1\] is not a string/);
  fails(() => toIds(['1'], { name: 'sources', side: 'source', vocabulary: null, size: 5 }), 'ERR_OPTION', /no source vocabulary/);
  fails(() => toIds([], { name: 'sources', side: 'source', vocabulary: source }), 'ERR_SHAPE', /sources is empty/);
  fails(() => toIds('12', { name: 'sources', side: 'source', vocabulary: source }), 'ERR_TYPE', /must be an array/);
});

test('toIds: id arrays checked against the side\'s range; targets may be empty, sources not', () => {
  const src = toIds([[0, 6], Int32Array.of(3)], { name: 'sources', side: 'source', size: 7 });
  assert.equal(src.strings, false);
  assert.deepEqual(src.ids.map((q) => Array.from(q)), [[0, 6], [3]]);
  const tgt = toIds([[2, 5], []], { name: 'targets', side: 'target', size: 6 });
  assert.deepEqual(tgt.ids.map((q) => Array.from(q)), [[2, 5], []]);
  fails(() => toIds([[0, 7]], { name: 'sources', side: 'source', size: 7 }), 'ERR_RANGE', /sources\[0\]\[1\] = 7 is outside the source ids 0\.\.6/);
  fails(() => toIds([[2], [2, 1]], { name: 'targets', side: 'target', size: 6 }), 'ERR_RANGE', /targets\[1\]\[1\] = 1 is the end token; targets hold user tokens 2\.\.5/);
  fails(() => toIds([[0]], { name: 'targets', side: 'target', size: 6 }), 'ERR_RANGE', /is the start token/);
  fails(() => toIds([[2.5]], { name: 'targets', side: 'target', size: 6 }), 'ERR_TYPE', /targets\[0\]\[0\] = 2.5 is not an integer/);
  fails(() => toIds([[1], []], { name: 'sources', side: 'source', size: 7 }), 'ERR_SHAPE', /sources\[1\] is empty: every source needs at least one token/);
  fails(() => toIds([[2], []], { name: 'targets', side: 'target', size: 6, allowEmpty: false }), 'ERR_SHAPE', /targets\[1\] is empty/);
  fails(() => toIds([[1], 5], { name: 'sources', side: 'source', size: 7 }), 'ERR_TYPE', /sources\[1\] must be an array of token ids/);
});

test('decode and checkPairs: out-of-range ids and mismatched counts are refused', () => {
  const target = new Vocabulary('ab', 'target');
  fails(() => target.decode([2, 1]), 'ERR_RANGE', /ids\[1\] = 1 is not a target token id \(2\.\.3\)/);
  fails(() => target.decode([4], 'output'), 'ERR_RANGE', /output\[0\] = 4/);
  fails(() => checkPairs(['a', 'b'], ['c']), 'ERR_SHAPE', /sources has 2 sequences but targets has 1/);
  fails(() => checkPairs('a', ['c']), 'ERR_TYPE', /both be arrays/);
});

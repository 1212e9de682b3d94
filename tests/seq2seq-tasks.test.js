// The Seq2Seq task data (tests/tasks/seq2seq-tasks.js): deterministic for a
// seed, train and held-out splits that share nothing, targets that are right
// (sums, reversals, weekdays against Date), and date strings that each name
// exactly one date across every format.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reverseDigits, addition, dates, DATE_FORMATS, MONTHS, WEEKDAYS, weekday, daysInMonth, iso } from './tasks/seq2seq-tasks.js';

test('seq2seq tasks: the same seed gives the same data, another seed other data', () => {
  for (const make of [reverseDigits, addition, dates]) {
    const a = make({ seed: 3, train: 300, heldOut: 50 }), b = make({ seed: 3, train: 300, heldOut: 50 });
    assert.deepEqual(a, b);
    assert.notDeepEqual(make({ seed: 4, train: 300, heldOut: 50 }).train.sources, a.train.sources);
    assert.equal(a.train.sources.length, 300);
    assert.equal(a.heldOut.targets.length, 50);
  }
});

test('reverseDigits: lengths 5-15, reversed, held out by string', () => {
  const { train, heldOut } = reverseDigits({ seed: 1, train: 4000, heldOut: 400 });
  const seen = new Set(train.sources);
  assert.equal(seen.size, train.sources.length, 'training strings are distinct');
  const lengths = new Set();
  for (const split of [train, heldOut]) split.sources.forEach((s, i) => {
    assert.match(s, /^[0-9]{5,15}$/);
    assert.equal(split.targets[i], [...s].reverse().join(''));
    lengths.add(s.length);
  });
  assert.equal(lengths.size, 11, 'every length 5..15 occurs');
  for (const s of heldOut.sources) assert.ok(!seen.has(s), `${s} is in both splits`);
});

test('addition: Keras-style operands up to 3 digits, right sums, no held-out pair in training either way round', () => {
  const { train, heldOut } = addition({ seed: 1, train: 20000, heldOut: 1000 });
  const pair = (s) => s.split('+').map(Number).sort((x, y) => x - y).join('+');
  const trainPairs = new Set(train.sources.map(pair));
  for (const split of [train, heldOut]) split.sources.forEach((s, i) => {
    assert.match(s, /^(0|[1-9][0-9]{0,2})\+(0|[1-9][0-9]{0,2})$/);
    const [a, b] = s.split('+').map(Number);
    assert.equal(split.targets[i], String(a + b));
  });
  for (const s of heldOut.sources) assert.ok(!trainPairs.has(pair(s)), `${s} (or its mirror) is in training`);
  // every digit count occurs; after removing duplicates (as Keras does) longer operands dominate
  const counts = [0, 0, 0, 0];
  for (const v of train.sources.flatMap((s) => s.split('+'))) counts[v.length]++;
  assert.ok(counts[1] > 0.1 * 2 * train.sources.length && counts[1] < counts[2] && counts[2] < counts[3], String(counts));
});

test('dates: weekdays and month lengths agree with Date over 1950-2049', () => {
  for (let y = 1950; y <= 2049; y++) for (let m = 1; m <= 12; m++) {
    assert.equal(daysInMonth(y, m), new Date(Date.UTC(y, m, 0)).getUTCDate(), `${y}-${m}`);
    for (let d = 1; d <= daysInMonth(y, m); d++) assert.equal(weekday(y, m, d), new Date(Date.UTC(y, m - 1, d)).getUTCDay());
  }
  assert.equal(DATE_FORMATS['dddd, D MMMM YYYY'](2024, 1, 5), 'Friday, 5 January 2024');
  assert.equal(DATE_FORMATS['MMM D, YYYY'](2024, 1, 5), 'Jan 5, 2024');
  assert.equal(DATE_FORMATS['D.M.YY'](2024, 1, 5), '5.1.24');
  assert.equal(DATE_FORMATS['YYYY/MM/DD'](2024, 1, 5), '2024/01/05');
  assert.equal(DATE_FORMATS['ddd MMM DD YYYY'](2000, 2, 29), 'Tue Feb 29 2000');
});

test('dates: every string names one date, whatever its format', () => {
  const owner = new Map();
  for (let y = 1950; y <= 2049; y++) for (let m = 1; m <= 12; m++) for (let d = 1; d <= daysInMonth(y, m); d++) {
    for (const [name, f] of Object.entries(DATE_FORMATS)) {
      const s = f(y, m, d), day = iso(y, m, d), prev = owner.get(s);
      assert.ok(prev === undefined || prev === day, `'${s}' (${name}) is both ${prev} and ${day}`);
      owner.set(s, day);
    }
  }
});

test('dates: ISO targets, every format used, held out by day', () => {
  const { train, heldOut } = dates({ seed: 1, train: 20000, heldOut: 1000 });
  const trainDays = new Set(train.targets), heldDays = new Set(heldOut.targets);
  assert.equal(heldDays.size, 1000, 'held-out dates are distinct days');
  for (const d of heldDays) assert.ok(!trainDays.has(d), `${d} is in both splits`);
  const formatsSeen = new Set();
  for (const split of [train, heldOut]) split.sources.forEach((s, i) => {
    const [y, m, d] = split.targets[i].split('-').map(Number);
    assert.match(split.targets[i], /^(19[5-9][0-9]|20[0-4][0-9])-[01][0-9]-[0-3][0-9]$/);
    const name = Object.keys(DATE_FORMATS).find((n) => DATE_FORMATS[n](y, m, d) === s);
    assert.ok(name, `'${s}' is no format of ${split.targets[i]}`);
    formatsSeen.add(name);
  });
  assert.equal(formatsSeen.size, Object.keys(DATE_FORMATS).length);
  assert.ok(train.sources.some((s) => WEEKDAYS.some((w) => s.startsWith(w)) && MONTHS.some((mo) => s.includes(mo))));
  assert.throws(() => dates({ from: 1900 }), /1950\.\.2049/);
});

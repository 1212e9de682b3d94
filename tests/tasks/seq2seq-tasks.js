// Data for the Seq2Seq learning tests (issue 12), as string pairs: reversing
// digit strings (Sutskever et al.'s reversal trick), addition written as text
// (Keras's addition_rnn example) and dates in many formats to ISO (TF.js's
// date-conversion-attention example). Each generator is seeded and returns
// train and held-out splits that share no item (see `heldOutBy` of each).
import { random, between } from './common.js';

/**
 * Draws distinct items into a held-out set first, then a training set whose
 * items share no `groupOf` key with it (and no `keyOf` key with each other).
 */
function split(rand, draw, { train, heldOut, keyOf, groupOf = keyOf }) {
  const held = [], trainItems = [], heldGroups = new Set(), seen = new Set();
  const limit = 100 * (train + heldOut) + 1000;
  for (let tries = 0; held.length < heldOut || trainItems.length < train; tries++) {
    if (tries > limit) throw new Error(`split: could not draw ${train} + ${heldOut} distinct items (space too small)`);
    const item = draw(rand), key = keyOf(item), group = groupOf(item);
    if (seen.has(key)) continue;
    if (held.length < heldOut) {
      if (heldGroups.has(group)) continue;
      held.push(item), heldGroups.add(group), seen.add(key);
    } else if (!heldGroups.has(group)) {
      trainItems.push(item), seen.add(key);
    }
  }
  const pairs = (items) => ({ sources: items.map((it) => it.source), targets: items.map((it) => it.target) });
  return { train: pairs(trainItems), heldOut: pairs(held) };
}

/**
 * Reverse a string of digits: '12345' -> '54321', lengths minLength..maxLength
 * (uniform). Held out by string.
 */
export function reverseDigits({ seed = 1, train = 5000, heldOut = 500, minLength = 5, maxLength = 15 } = {}) {
  const draw = (rand) => {
    const n = between(rand, minLength, maxLength);
    let s = '';
    for (let i = 0; i < n; i++) s += String(between(rand, 0, 9));
    return { source: s, target: [...s].reverse().join('') };
  };
  return split(random(seed), draw, { train, heldOut, keyOf: (it) => it.source });
}

/**
 * Addition as text, as Keras's addition_rnn example draws it: each number has
 * 1..digits digits (uniform), each digit uniform; '123+45' -> '168'. Held out
 * by the unordered pair, so neither '123+45' nor '45+123' of a held-out sum is
 * in training.
 */
export function addition({ seed = 1, train = 50000, heldOut = 1000, digits = 3 } = {}) {
  const number = (rand) => {
    const n = between(rand, 1, digits);
    let v = 0;
    for (let i = 0; i < n; i++) v = v * 10 + between(rand, 0, 9);
    return v;
  };
  const draw = (rand) => {
    const a = number(rand), b = number(rand);
    return { a, b, source: `${a}+${b}`, target: String(a + b) };
  };
  return split(random(seed), draw, { train, heldOut, keyOf: (it) => it.source,
    groupOf: (it) => `${Math.min(it.a, it.b)}+${Math.max(it.a, it.b)}` });
}

export const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September',
  'October', 'November', 'December'];
export const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/** Day of the week of a Gregorian date, 0 = Sunday (Sakamoto's method). */
export function weekday(y, m, d) {
  const t = [0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4];
  const yy = m < 3 ? y - 1 : y;
  return (yy + Math.floor(yy / 4) - Math.floor(yy / 100) + Math.floor(yy / 400) + t[m - 1] + d) % 7;
}

const isLeap = (y) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
export const daysInMonth = (y, m) => [31, isLeap(y) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1];

const p2 = (v) => String(v).padStart(2, '0');
const yy = (y) => p2(y % 100);
const mon = (m) => MONTHS[m - 1].slice(0, 3);

/**
 * The source formats, each (y, m, d) -> string. Two-digit years stand for
 * 1950-2049 (so the range of `dates` must stay inside it); each format's
 * separators and lengths tell it apart from the others, so every string names
 * one date (tests/seq2seq-tasks.test.js checks that over the whole range).
 */
export const DATE_FORMATS = {
  'MMM D, YYYY': (y, m, d) => `${mon(m)} ${d}, ${y}`,                              // Jan 5, 2024
  'D.M.YY': (y, m, d) => `${d}.${m}.${yy(y)}`,                                    // 5.1.24
  'YYYY/MM/DD': (y, m, d) => `${y}/${p2(m)}/${p2(d)}`,                              // 2024/01/05
  'dddd, D MMMM YYYY': (y, m, d) => `${WEEKDAYS[weekday(y, m, d)]}, ${d} ${MONTHS[m - 1]} ${y}`, // Friday, 5 January 2024
  'DDMMMYYYY': (y, m, d) => `${p2(d)}${mon(m).toUpperCase()}${y}`,                   // 05JAN2024
  'MM/DD/YY': (y, m, d) => `${p2(m)}/${p2(d)}/${yy(y)}`,                            // 01/05/24
  'M/D/YYYY': (y, m, d) => `${m}/${d}/${y}`,                                      // 1/5/2024
  'YYYY.MM.DD': (y, m, d) => `${y}.${p2(m)}.${p2(d)}`,                              // 2024.01.05
  'D MMM YYYY': (y, m, d) => `${d} ${mon(m)} ${y}`,                                 // 5 Jan 2024
  'MMMM D, YYYY': (y, m, d) => `${MONTHS[m - 1]} ${d}, ${y}`,                       // January 5, 2024
  'ddd MMM DD YYYY': (y, m, d) => `${WEEKDAYS[weekday(y, m, d)].slice(0, 3)} ${mon(m)} ${p2(d)} ${y}`, // Fri Jan 05 2024
  'YYYYMMDD': (y, m, d) => `${y}${p2(m)}${p2(d)}`,                                  // 20240105
  'DD-MM-YYYY': (y, m, d) => `${p2(d)}-${p2(m)}-${y}`,                              // 05-01-2024
};

/** ISO 8601: '2024-01-05'. */
export const iso = (y, m, d) => `${y}-${p2(m)}-${p2(d)}`;

/**
 * Dates from..to (whole years, within 1950-2049): year and month uniform, then
 * the day uniform within the month, in a uniform format from `formats` (names of DATE_FORMATS) -> ISO. Held out by
 * day: a held-out date appears in training in no format at all.
 */
export function dates({ seed = 1, train = 20000, heldOut = 1000, from = 1950, to = 2049,
  formats = Object.keys(DATE_FORMATS) } = {}) {
  if (from < 1950 || to > 2049 || from > to) throw new Error('dates: years must lie within 1950..2049 (two-digit years)');
  for (const f of formats) if (!DATE_FORMATS[f]) throw new Error(`dates: unknown format '${f}'`);
  const draw = (rand) => {
    const y = between(rand, from, to), m = between(rand, 1, 12), d = between(rand, 1, daysInMonth(y, m));
    const format = formats[between(rand, 0, formats.length - 1)];
    return { day: iso(y, m, d), format, source: DATE_FORMATS[format](y, m, d), target: iso(y, m, d) };
  };
  return split(random(seed), draw, { train, heldOut, keyOf: (it) => it.source, groupOf: (it) => it.day });
}

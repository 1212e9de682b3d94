// Small checkers shared by the whole JS layer: option names against a
// whitelist (suggesting the nearest valid one), then types and ranges of single
// values. Each returns the value or throws an LstmError naming it. Checks of
// whole data sets (shapes, finiteness, padding) live in data.js.

import { LstmError, affirm } from './errors.js';

/**
 * A short, readable rendering of any value for error messages.
 * @param {unknown} value
 * @returns {string}
 */
export function show(value) {
  if (typeof value === 'string') return value.length > 40 ? `'${value.slice(0, 37)}...'` : `'${value}'`;
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name}`;
  if (value === null || typeof value !== 'object') return String(value);
  const kind = Object.getPrototypeOf(value)?.constructor?.name;
  return !kind || kind === 'Object' ? 'an object' : `a ${kind}`;
}

/**
 * `n` and a noun, plural unless n is 1: plural(3, 'feature') is '3 features'.
 * @param {number} n
 * @param {string} noun
 * @param {string} [nouns] the plural when it is not noun + 's'
 * @returns {string}
 */
export const plural = (n, noun, nouns = `${noun}s`) => `${n} ${n === 1 ? noun : nouns}`;

/** Optimal string alignment distance: insertions, deletions, substitutions, swaps of neighbours. */
function editDistance(a, b) {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/**
 * The choice closest to `name`, ignoring case and underscores ('learning_rate'
 * finds 'learningRate'), or undefined when none is within a third of its length.
 * @param {string} name
 * @param {readonly unknown[]} choices
 * @returns {string | undefined}
 */
export function nearest(name, choices) {
  const key = (s) => s.toLowerCase().replace(/[_-]/g, '');
  let best, bestDistance = Infinity;
  for (const choice of choices) {
    if (typeof choice !== 'string') continue;
    const distance = editDistance(key(name), key(choice));
    if (distance < bestDistance && distance <= Math.max(1, Math.floor(Math.min(name.length, choice.length) / 3))) {
      best = choice;
      bestDistance = distance;
    }
  }
  return best;
}

const isPlainObject = (v) =>
  v !== null && typeof v === 'object' && [Object.prototype, null].includes(Object.getPrototypeOf(v));

/**
 * Checks that `options` is undefined or a plain object whose keys are all in
 * `allowedNames`; an unknown key throws ERR_OPTION with the nearest valid name.
 * @param {unknown} options
 * @param {readonly string[]} allowedNames
 * @param {string} where the calling function, e.g. 'Model.create'
 * @returns {Record<string, any>} options, or {} when undefined
 */
export function checkOptions(options, allowedNames, where) {
  if (options === undefined) return {};
  affirm(isPlainObject(options), 'ERR_TYPE', () => `${where}: options must be a plain object, got ${show(options)}`);
  for (const key of Object.keys(options)) {
    if (allowedNames.includes(key)) continue;
    const guess = nearest(key, allowedNames);
    throw new LstmError('ERR_OPTION', `${where}: unknown option '${key}'` +
      (guess ? ` (did you mean '${guess}'?)` : `; the options are ${allowedNames.join(', ')}`));
  }
  return options;
}

function rangeText(min, max) {
  if (min > -Infinity && max < Infinity) return ` from ${min} to ${max}`;
  if (min > -Infinity) return ` >= ${min}`;
  return max < Infinity ? ` <= ${max}` : '';
}

/**
 * An integer in [min, max]: ERR_TYPE if not an integer, ERR_RANGE if outside.
 * @param {unknown} value
 * @param {string} name
 * @param {number} [min]
 * @param {number} [max]
 * @returns {number}
 */
export function checkInt(value, name, min = -Infinity, max = Infinity) {
  affirm(Number.isInteger(value), 'ERR_TYPE', () => `${name} must be an integer${rangeText(min, max)}, got ${show(value)}`);
  affirm(value >= min && value <= max, 'ERR_RANGE', () => `${name} must be an integer${rangeText(min, max)}, got ${value}`);
  return /** @type {number} */ (value);
}

/**
 * A finite number in [min, max]: ERR_TYPE if not a number, ERR_NOT_FINITE for
 * NaN or Infinity, ERR_RANGE if outside.
 * @param {unknown} value
 * @param {string} name
 * @param {number} [min]
 * @param {number} [max]
 * @returns {number}
 */
export function checkNumber(value, name, min = -Infinity, max = Infinity) {
  affirm(typeof value === 'number', 'ERR_TYPE', () => `${name} must be a number${rangeText(min, max)}, got ${show(value)}`);
  affirm(Number.isFinite(value), 'ERR_NOT_FINITE', () => `${name} is ${value}; it must be a finite number${rangeText(min, max)}`);
  affirm(value >= min && value <= max, 'ERR_RANGE', () => `${name} must be a number${rangeText(min, max)}, got ${value}`);
  return /** @type {number} */ (value);
}

/**
 * One of `choices` (compared with ===); otherwise ERR_OPTION listing them.
 * @template T
 * @param {unknown} value
 * @param {string} name
 * @param {readonly T[]} choices
 * @returns {T}
 */
export function checkOneOf(value, name, choices) {
  if (choices.includes(/** @type {T} */ (value))) return /** @type {T} */ (value);
  const guess = typeof value === 'string' ? nearest(value, choices) : undefined;
  throw new LstmError('ERR_OPTION', `${name} must be one of ${choices.map(show).join(', ')}, got ${show(value)}` +
    (guess ? ` (did you mean '${guess}'?)` : ''));
}

/**
 * true or false; otherwise ERR_TYPE.
 * @param {unknown} value
 * @param {string} name
 * @returns {boolean}
 */
export function checkBool(value, name) {
  affirm(typeof value === 'boolean', 'ERR_TYPE', () => `${name} must be true or false, got ${show(value)}`);
  return /** @type {boolean} */ (value);
}

/**
 * A function; otherwise ERR_TYPE.
 * @param {unknown} value
 * @param {string} name
 * @returns {Function}
 */
export function checkFunction(value, name) {
  affirm(typeof value === 'function', 'ERR_TYPE', () => `${name} must be a function, got ${show(value)}`);
  return /** @type {Function} */ (value);
}

/** The largest finite float32. Larger values are refused, as data.js refuses them in inputs (those within half an ulp above it would round down to it, the rest to Infinity). */
export const FLOAT32_MAX = 3.4028234663852886e38;
/** Whether `x` is a number that stays finite once stored as float32 (data.js's isF32). */
export const isFloat32 = (x) => typeof x === 'number' && Number.isFinite(x) && Math.abs(x) <= FLOAT32_MAX;

/**
 * Checks n values bound for a float32 buffer: ERR_NOT_FINITE for NaN and
 * ±Infinity, ERR_RANGE for a finite number whose float32 rounding is not
 * finite (|x| > FLOAT32_MAX), naming `${name}[i]`.
 * @param {ArrayLike<number>} v
 * @param {number} n
 * @param {string} where the calling method, e.g. 'setParameters'
 * @param {string} name how the message names the array
 */
export function checkFloat32s(v, n, where, name) {
  for (let i = 0; i < n; i++) {
    const x = v[i];
    if (isFloat32(x)) continue;
    throw float32Error(x, `${where}: ${name}[${i}]`);
  }
}

export function float32Error(x, path) {
  if (typeof x !== 'number' || !Number.isFinite(x)) return new LstmError('ERR_NOT_FINITE', `${path} is ${x}`);
  return new LstmError('ERR_RANGE', `${path} is ${x}, beyond float32 range (|x| <= ${FLOAT32_MAX}); it would be stored as Infinity`);
}

/**
 * A flat array of n finite numbers within float32's range; otherwise
 * ERR_SHAPE, ERR_NOT_FINITE or ERR_RANGE (checkFloat32s).
 * `label` is the name as the length message shows it.
 */
export function checkVector(v, n, where, name, hint = '', label = name) {
  affirm(v && v.length === n, 'ERR_SHAPE', `${where}: ${label} needs ${n} values${hint}, got ${v?.length}`);
  checkFloat32s(v, n, where, name);
  return v;
}

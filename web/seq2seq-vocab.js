// The token layer of Seq2Seq (issue 12): a character vocabulary per side,
// learnt from training strings or given, strings <-> token ids, and the checks
// of sources and targets (as strings or id arrays) that name the bad value and
// where it is. Target ids: 0 start, 1 end, user tokens from 2; source ids from 0.
import { LstmError, affirm } from './errors.js';

export const START = 0;
export const END = 1;
/** A character as messages show it: 'x', or JSON escapes for quotes, controls and the like. */
const quote = (ch) => (/^[\x20-\x7e]$/.test(ch) && ch !== "'" && ch !== '\\' ? `'${ch}'` : JSON.stringify(ch));

/** ids reserved before the user tokens, per side */
const RESERVED = { source: 0, target: 2 };

/** A side's vocabulary: user tokens (single characters) after the side's reserved ids. */
export class Vocabulary {
  #tokens;
  #index;

  /**
   * @param {string|string[]} tokens the user tokens in id order (a string: its characters)
   * @param {'source'|'target'} side
   * @param {string} [name] the option the tokens came from, for messages
   */
  constructor(tokens, side, name = `${side}Vocabulary`) {
    affirm(side === 'source' || side === 'target', 'ERR_OPTION', `side must be 'source' or 'target', not ${String(side)}`);
    const list = typeof tokens === 'string' ? Array.from(tokens) : tokens;
    affirm(Array.isArray(list) && list.length > 0, 'ERR_TYPE', `${name} must be a non-empty string or array of characters`);
    const index = new Map();
    list.forEach((t, k) => {
      affirm(typeof t === 'string' && Array.from(t).length === 1, 'ERR_OPTION',
        () => `${name}[${k}] = ${JSON.stringify(t)} is not one character (strings are read a character at a time)`);
      affirm(!index.has(t), 'ERR_OPTION', () => `${name}[${k}]: ${quote(t)} appears twice (first at ${index.get(t)})`);
      index.set(t, k);
    });
    this.side = side;
    this.reserved = RESERVED[side];
    this.#tokens = list.slice();
    this.#index = index;
  }

  /** The characters of the strings, sorted by code point (so independent of the data's order). */
  static learn(strings, side, name = `${side}s`) {
    const chars = new Set();
    for (const s of strings) for (const ch of s) chars.add(ch);
    affirm(chars.size > 0, 'ERR_SHAPE', `${name}: no characters to learn a ${side} vocabulary from`);
    return new Vocabulary([...chars].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)), side);
  }

  /** The user tokens, in id order (reserved ids not included). */
  get tokens() {
    return this.#tokens.slice();
  }

  /** Number of ids: reserved + user tokens (the one-hot width, the head's outputs). */
  get size() {
    return this.reserved + this.#tokens.length;
  }

  /** The ids of a string's characters; `where` names it in messages (e.g. 'sources[3]'). */
  encode(text, where = 'text') {
    const out = new Int32Array(Array.from(text).length);
    let k = 0;
    for (const ch of text) {
      const id = this.#index.get(ch);
      if (id === undefined) {
        throw new LstmError('ERR_OPTION', `${where}[${k}]: ${quote(ch)} is not in the ${this.side} vocabulary`
          + ` (give ${this.side}Vocabulary with it, or train on strings that contain it)`);
      }
      out[k++] = this.reserved + id;
    }
    return out;
  }

  /** The string of user-token ids (a target's reserved ids are not characters). */
  decode(ids, where = 'ids') {
    let s = '';
    for (let k = 0; k < ids.length; k++) {
      const i = ids[k] - this.reserved;
      affirm(Number.isInteger(i) && i >= 0 && i < this.#tokens.length, 'ERR_RANGE',
        () => `${where}[${k}] = ${ids[k]} is not a ${this.side} token id (${this.reserved}..${this.size - 1})`);
      s += this.#tokens[i];
    }
    return s;
  }

  toJSON() {
    return this.#tokens.slice();
  }
}

/**
 * Sources or targets as id sequences (Int32Array each), from strings (through
 * `vocabulary`) or from arrays of integer ids (checked against `size`: a
 * source id in 0..size-1, a target id in 2..size-1, start and end being the
 * model's). All strings or all id arrays, not a mix.
 * @param {unknown} values
 * @param {{ name: string, side: 'source'|'target', vocabulary?: Vocabulary|null, size?: number, allowEmpty?: boolean }} o
 * @returns {{ ids: Int32Array[], strings: boolean }}
 */
export function toIds(values, { name, side, vocabulary = null, size = vocabulary?.size, allowEmpty = side === 'target' }) {
  affirm(Array.isArray(values), 'ERR_TYPE', `${name} must be an array of strings or of token-id arrays`);
  affirm(values.length > 0, 'ERR_SHAPE', `${name} is empty: give at least one sequence`);
  const strings = typeof values[0] === 'string';
  const reserved = RESERVED[side];
  const ids = values.map((v, i) => {
    const where = `${name}[${i}]`;
    if (strings) {
      affirm(typeof v === 'string', 'ERR_TYPE', () => `${where} is not a string (${name}[0] is: do not mix strings and id arrays)`);
      affirm(vocabulary, 'ERR_OPTION', () => `${name} are strings but the model has no ${side} vocabulary (it was made from token ids)`);
    } else {
      affirm(Array.isArray(v) || ArrayBuffer.isView(v), 'ERR_TYPE',
        () => `${where} must be ${i ? 'an array of token ids, as ' + name + '[0] is' : 'a string or an array of token ids'}`);
    }
    const q = strings ? vocabulary.encode(v, where) : Int32Array.from(v, (id, k) => {
      affirm(Number.isInteger(id), 'ERR_TYPE', () => `${where}[${k}] = ${String(id)} is not an integer token id`);
      if (side === 'target' && (id === START || id === END)) {
        throw new LstmError('ERR_RANGE', `${where}[${k}] = ${id} is the ${id === START ? 'start' : 'end'} token;`
          + ` targets hold user tokens ${reserved}..${size - 1} (the model adds start and end itself)`);
      }
      affirm(id >= reserved && id < size, 'ERR_RANGE', () => `${where}[${k}] = ${id} is outside the ${side} ids ${reserved}..${size - 1}`);
      return id;
    });
    affirm(q.length > 0 || allowEmpty, 'ERR_SHAPE', () => `${where} is empty: every ${side} needs at least one token`);
    return q;
  });
  return { ids, strings };
}

/** Throws unless sources and targets pair up one to one. */
export function checkPairs(sources, targets) {
  affirm(Array.isArray(sources) && Array.isArray(targets), 'ERR_TYPE', 'sources and targets must both be arrays');
  affirm(sources.length === targets.length, 'ERR_SHAPE',
    () => `sources has ${sources.length} sequences but targets has ${targets.length}: give one target per source`);
}

/**
 * The vocabularies for training pairs: the given ones (options sourceVocabulary
 * / targetVocabulary), else learnt from the strings; null for a side given as ids.
 */
export function vocabulariesFor(sources, targets, { sourceVocabulary, targetVocabulary } = {}) {
  checkPairs(sources, targets);
  const side = (values, given, s) => {
    if (given !== undefined && given !== null) return given instanceof Vocabulary ? given : new Vocabulary(given, s);
    return values.length && typeof values[0] === 'string' ? Vocabulary.learn(values.filter((v) => typeof v === 'string'), s) : null;
  };
  return { source: side(sources, sourceVocabulary, 'source'), target: side(targets, targetVocabulary, 'target') };
}

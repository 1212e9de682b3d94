// Reads the demo's input box for each task and says plainly what is wrong
// with it: { ...data, summary } when it can be trained on, { error } when not.
// Nothing here trains or draws; app.js shows the error next to the box. The
// same rules are written out for people in index.html's hints.

const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i;
const MAX_NUMBERS = 50_000; // beyond this training in a page takes minutes
const MAX_CHARS = 100_000;
const MIN_WINDOWS = 8; // training windows a forecast needs at the least
const MAX_CLASSES = 20;
const LIST_LINE_CHARS = 40; // a text whose lines are all this short is a list (of names, words...)
const TEST_EVERY = 4; // classify: every 4th example of a class is held out for the confusion table

const quote = (s) => `“${s.length > 20 ? `${s.slice(0, 20)}…` : s}”`;

/** Numbers of one line; { values } or { error } naming the line and position. */
function numbersOf(line, where) {
  const items = line.split(/[\s,;]+/).filter(Boolean);
  const values = [];
  for (const [k, item] of items.entries()) {
    if (!NUMBER.test(item)) {
      return { error: `${quote(item)} (${where}, item ${k + 1}) is not a number. Separate numbers with commas or spaces.` };
    }
    values.push(Number(item));
  }
  return { values };
}

/** Steps held out at the end of a series of n to check the forecast against. */
function holdoutFor(n) {
  return Math.min(30, Math.max(2, Math.round(n / 10)));
}

/** The shortest series that leaves MIN_WINDOWS training windows of `window` steps. */
function shortestFor(window) {
  let n = window + 1;
  while (n - holdoutFor(n) - window < MIN_WINDOWS) n++;
  return n;
}

const lettersHint = (text) =>
  (/[a-z]{3,}/i.test(text) ? ' To learn from text, choose the task “Generate text”.' : '');

/**
 * Forecast: one series (numbers separated by commas, spaces or new lines),
 * or several, one per line (every line holding more than one number).
 * @returns {{ series: number[][], holdout: number[], summary: string } | { error: string }}
 */
export function parseSeries(text, { window }) {
  if (!text.trim()) return { error: 'The box is empty: type or paste a series of numbers, such as 3, 5, 8, 6, 4, … or pick an example.' };
  if (text.length > MAX_CHARS) return { error: `The box holds ${text.length} characters; the demo takes up to ${MAX_CHARS}.` };
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  const parsed = [];
  for (const [k, line] of lines.entries()) {
    const p = numbersOf(line, `line ${k + 1}`);
    if (p.error) return { error: p.error + lettersHint(text) };
    parsed.push(p.values);
  }
  // A column of numbers (one per line) is one series; lines of several numbers are several series.
  const several = lines.length > 1 && parsed.some((v) => v.length > 1);
  const series = several ? parsed : [parsed.flat()];
  const total = series.reduce((n, s) => n + s.length, 0);
  if (total > MAX_NUMBERS) return { error: `The box holds ${total} numbers; the demo takes up to ${MAX_NUMBERS}.` };
  const need = shortestFor(window);
  for (const [k, s] of series.entries()) {
    const count = several ? `Line ${k + 1} has ${s.length} numbers` : `There are ${s.length} numbers`;
    if (s.length === 1) {
      return { error: `${several ? `Line ${k + 1} holds` : 'The box holds'} one number only: a series needs at least ${need} numbers to learn from with a window of ${window}.` };
    }
    if (s.length < need) {
      return { error: `${count}; a window of ${window} needs at least ${need} (${window} to look at, ${MIN_WINDOWS} windows to learn from and ${holdoutFor(need)} held out). Add numbers or lower the window.` };
    }
  }
  const holdout = series.map((s) => holdoutFor(s.length));
  const summary = several
    ? `${series.length} series of ${series.map((s) => s.length).join(', ')} numbers; the last ${holdout.join(', ')} of each are held out.`
    : `One series of ${series[0].length} numbers; the last ${holdout[0]} are held out to check the forecast.`;
  return { series, holdout, summary };
}

/**
 * Classify: one sequence per line as `label: numbers…`; sequences may differ
 * in length. Every TEST_EVERY-th example of a class is held out.
 * @returns {{ sequences: number[][], labels: number[], classes: string[], test: number[], train: number[], summary: string } | { error: string }}
 */
export function parseClasses(text) {
  if (!text.trim()) return { error: 'The box is empty: write one sequence per line as “label: numbers”, such as rise: 1 2 3 4.' };
  if (text.length > MAX_CHARS) return { error: `The box holds ${text.length} characters; the demo takes up to ${MAX_CHARS}.` };
  const sequences = [], labels = [], classes = [];
  const lines = text.split('\n');
  for (const [k, raw] of lines.entries()) {
    const line = raw.trim();
    if (!line) continue;
    const colon = line.indexOf(':');
    if (colon < 0) return { error: `Line ${k + 1} has no label: write it as “label: numbers”, such as rise: 1 2 3 4.` };
    const label = line.slice(0, colon).trim();
    if (!label) return { error: `Line ${k + 1} has an empty label before the colon.` };
    const p = numbersOf(line.slice(colon + 1), `line ${k + 1}`);
    if (p.error) return { error: p.error };
    if (p.values.length < 2) return { error: `Line ${k + 1} holds ${p.values.length ? 'one number only' : 'no numbers'}: a sequence needs at least 2.` };
    if (!classes.includes(label)) classes.push(label);
    sequences.push(p.values);
    labels.push(classes.indexOf(label));
  }
  if (classes.length < 2) return { error: `There is one class only (${quote(classes[0])}): give examples of at least two labels.` };
  if (classes.length > MAX_CLASSES) return { error: `There are ${classes.length} labels; the demo takes up to ${MAX_CLASSES}.` };
  const train = [], test = [], seen = new Array(classes.length).fill(0);
  labels.forEach((c, k) => ((++seen[c] % TEST_EVERY === 0) ? test : train).push(k));
  const summary = `${sequences.length} sequences in ${classes.length} classes (${classes.map((c, k) => `${c}: ${seen[k]}`).join(', ')}); `
    + (test.length ? `${test.length} held out for the confusion table.` : 'too few to hold any out: the table shows the training examples.');
  return { sequences, labels, classes, train, test, summary };
}

/**
 * Generate: a list (at least three lines, each short: names, words) is
 * learned string by string; anything else as one running text.
 * @returns {{ mode: 'strings'|'text', data: string|string[], summary: string } | { error: string }}
 */
export function parseText(text) {
  const clean = text.replace(/\r\n?/g, '\n');
  if (!clean.trim()) return { error: 'The box is empty: type or paste some text, or a list of words one per line.' };
  if (clean.length > MAX_CHARS) return { error: `The box holds ${clean.length} characters; the demo takes up to ${MAX_CHARS}.` };
  const lines = clean.split('\n').map((l) => l.trim()).filter(Boolean);
  if (lines.length >= 3 && lines.every((l) => l.length <= LIST_LINE_CHARS)) {
    const chars = new Set(lines.join(''));
    return { mode: 'strings', data: lines, summary: `A list of ${lines.length} lines (${chars.size} different characters), learned one line at a time.` };
  }
  const body = clean.trim();
  if (body.length < 2) return { error: 'One character is not enough to learn from: enter some text.' };
  return { mode: 'text', data: body, summary: `A text of ${body.length} characters (${new Set(body).size} different), learned as one running text.` };
}

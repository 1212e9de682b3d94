// `node tests/papers/seq2seq.js [--only reverse|addition|dates] [--budget S] [--epochs N] [--train N]`:
// Seq2Seq (issue 12) on the tasks through the public string API:
// digit reversal (lengths 5-15) with and without attention and reverseSource,
// addition of numbers up to three digits, dates to ISO. Prints Markdown rows
// (epochs to the bar, held-out greedy exact match, time); asserts nothing.
import { Seq2Seq } from '../../web/index.js';
import { reverseDigits, addition, dates } from '../tasks/seq2seq-tasks.js';

const args = process.argv.slice(2);
const value = (name) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const ONLY = value('--only');
const BUDGET_S = Number(value('--budget') ?? 3600); // wall-clock limit per run
const EPOCHS = value('--epochs') === undefined ? undefined : Number(value('--epochs')); // epoch limit per run (overrides each task's)

/** Trains epoch by epoch until held-out teacher-forced exact match reaches `bar` or the budget ends; then greedy exact match. */
async function run(name, data, create, train, { bar = 0.99, maxEpochs: taskEpochs = 60, maxLength = 20 } = {}) {
  const maxEpochs = EPOCHS ?? taskEpochs;
  const m = await Seq2Seq.create(create);
  const t0 = Date.now();
  let epochs = 0, tf = 0;
  const curve = [];
  try {
    while (epochs < maxEpochs && (Date.now() - t0) / 1000 < BUDGET_S) {
      await m.train(data.train.sources, data.train.targets, { ...train, epochs: 1 });
      epochs++;
      tf = m.evaluate(data.heldOut.sources, data.heldOut.targets).exactMatch;
      curve.push(tf);
      process.stderr.write(`${name}: epoch ${epochs}: teacher-forced exact ${tf.toFixed(4)}, ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
      if (tf >= bar) break;
    }
    const got = m.translate(data.heldOut.sources, { maxLength });
    const exact = got.filter((s, i) => s === data.heldOut.targets[i]).length / got.length;
    const row = { name, epochs, reached: tf >= bar, exact, curve, seconds: (Date.now() - t0) / 1000 };
    if (create.attention && data.example) row.attention = { source: data.example, output: m.translate(data.example, { maxLength }), weights: m.attention(data.example, { maxLength }) };
    return row;
  } finally {
    m.dispose();
  }
}

const rows = [];
const TRAIN = { batchSize: 32, learningRate: 0.005, clipNorm: 1 };
if (!ONLY || ONLY === 'reverse') {
  const data = reverseDigits({ seed: 1, train: Number(value('--train') ?? 10000), heldOut: 500, minLength: 5, maxLength: 15 });
  for (const attention of ['luong', null]) {
    for (const reverseSource of [false, true]) {
      rows.push(await run(`reverse 5-15, attention ${attention ?? 'none'}, reverseSource ${reverseSource}`, data,
        { hiddenSize: 128, embedding: 16, attention, reverseSource, seed: 1 }, TRAIN, { maxEpochs: 30 }));
    }
  }
}
if (!ONLY || ONLY === 'addition') {
  const data = addition({ seed: 1, train: 20000, heldOut: 1000, digits: 3 });
  rows.push(await run('addition up to 3 digits, attention luong', data, { hiddenSize: 128, embedding: 16, attention: 'luong', seed: 1 }, TRAIN, { maxLength: 6, maxEpochs: 40 }));
}
if (!ONLY || ONLY === 'dates') {
  const data = dates({ seed: 1, train: 10000, heldOut: 500 });
  data.example = data.heldOut.sources[0];
  rows.push(await run('dates to ISO, attention luong', data, { hiddenSize: 64, embedding: 16, attention: 'luong', seed: 1 }, TRAIN, { maxLength: 12, maxEpochs: 30 }));
}

console.log('| run | epochs (stop at 99 % teacher-forced exact) | held-out teacher-forced exact after each epoch | held-out greedy exact match | seconds |');
console.log('|---|---|---|---|---|');
for (const r of rows) {
  console.log(`| ${r.name} | ${r.epochs}${r.reached ? '' : ' (bar not reached)'} | ${r.curve.map((x) => (100 * x).toFixed(1)).join(', ')} % | ${(100 * r.exact).toFixed(1)} % | ${r.seconds.toFixed(0)} |`);
}
for (const r of rows) {
  if (!r.attention) continue;
  console.log(`\nAttention of '${r.attention.source}' -> '${r.attention.output}' (rows: output characters, columns: source characters; the largest weight per row):`);
  const src = [...r.attention.source];
  r.attention.weights.forEach((row, t) => {
    const k = row.indexOf(Math.max(...row));
    console.log(`    ${r.attention.output[t] ?? '<end>'} <- ${src[k]} (position ${k}, weight ${row[k].toFixed(2)})`);
  });
}

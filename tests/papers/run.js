// `npm run papers`: every task of tests/tasks/ over several seeds, each cell
// on its own paper's task, tabulated beside what the paper reports. Writes
// the Markdown table to stdout and to tests/papers/results.md; progress goes
// to stderr. Asserts nothing: tests/papers.test.js holds the pass/fail bars.
//   node tests/papers/run.js [--quick] [--seeds N] [--only <task id>]
// --only reber|adding|order|continual|timing|signal|depth prints those rows; --quick and
// --only write no file, so results.md always holds a full run.
// --quick: 2 seeds, shorter budgets and shorter spike gaps: a few minutes.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadEngine } from '../../web/engine.js';
import { median } from '../tasks/common.js';
import { REBER_PAPER, REBER_TEST, runReber } from '../tasks/reber.js';
import { ADDING_PAPER, ADDING_TEST, runAdding } from '../tasks/adding.js';
import { ORDER_PAPER, ORDER_TEST, runOrder } from '../tasks/temporal-order.js';
import { CONTINUAL_PAPER, CONTINUAL_TEST, runContinual } from '../tasks/continual-reber.js';
import { TIMING_PAPER, TIMING_TEST, runTiming } from '../tasks/spike-timing.js';
import { SIGNAL_PAPER, SIGNAL_T, runSignal } from '../tasks/clockwork-signal.js';
import { DEPTH_PAPER, runDepthText } from '../tasks/depth-text.js';

const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const value = (name) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const QUICK = flag('--quick');
const SEEDS = Number(value('--seeds') ?? (QUICK ? 2 : 5));
const ONLY = value('--only');
const OUT = fileURLToPath(new URL('./results.md', import.meta.url));

// --quick: gaps of 10 or 9 steps instead of 20 or 19 (about a minute instead of five)
const TIMING = QUICK ? { T: 10, budget: 100_000 } : { T: 20 };
const CONTINUAL = QUICK ? { budget: 200_000 } : {};
// the continual task's recipe is gradient descent with momentum, as in the paper; Adam changes the outcome
const ADAM = { optimizer: 'adam', momentum: 0, learningRate: 0.01 };

const pct = (x) => `${(100 * x).toFixed(x === 1 ? 0 : 1)} %`;
const thousands = (n) => Math.round(n).toLocaleString('en-US');
const cellState = (runs) => `max \\|c\\| after 10⁴ symbols: median ${thousands(median(runs.map((r) => r.cellState)))}`;
const unsolved = (runs, row) => {
  const failed = runs.filter((r) => !r.solved);
  if (!failed.length) return '';
  if (row.id === 'continual') return `unsolved runs err after ${failed.map((r) => thousands(r.symbols)).join(', ')} test symbols`;
  return `unsolved runs end at ${failed.map((r) => pct(r.score)).join(', ')} of the test`;
};

// One row per (task, cell): the paper's cell first, then the comparison the paper makes.
const ROWS = [
  { id: 'reber', task: 'Embedded Reber grammar (1997 Exp. 1)', cell: 'lstm1997', run: runReber, paper: REBER_PAPER,
    bar: `${thousands(REBER_TEST.right)} of ${thousands(REBER_TEST.strings)} fresh strings right at every step`, unit: 'strings' },
  { id: 'reber', task: 'Embedded Reber grammar (1997 Exp. 1)', cell: 'lstm', run: runReber, paper: 'not in the paper (forget gate: 2000)',
    bar: 'same', unit: 'strings' },
  { id: 'adding', task: 'Adding problem, T = 100 (1997 Exp. 4)', cell: 'lstm1997', run: runAdding, paper: ADDING_PAPER,
    bar: `${thousands(ADDING_TEST.right)} of ${thousands(ADDING_TEST.sequences)} test sequences within 0.04`, unit: 'sequences' },
  { id: 'order', task: 'Temporal order, length 100–110 (1997 Exp. 6a)', cell: 'lstm1997', run: runOrder, paper: ORDER_PAPER,
    bar: `${thousands(ORDER_TEST.right)} of ${thousands(ORDER_TEST.sequences)} test sequences, every output within 0.3`, unit: 'sequences' },
  { id: 'continual', task: 'Continual embedded Reber (Gers et al. 2000), SGD with momentum', cell: 'lstm', run: runContinual, paper: CONTINUAL_PAPER,
    bar: `a ${thousands(CONTINUAL_TEST.symbols)}-symbol test stream without an error, no reset`, unit: 'strings', notes: cellState,
    opts: CONTINUAL },
  { id: 'continual', task: 'Continual embedded Reber (Gers et al. 2000), SGD with momentum', cell: 'lstm1997', run: runContinual, paper: 'see the row above',
    bar: 'same', unit: 'strings', notes: cellState, opts: CONTINUAL },
  { id: 'continual', task: 'Continual embedded Reber, trained with Adam instead', cell: 'lstm', run: runContinual, paper: '—',
    bar: 'same', unit: 'strings', notes: cellState, opts: { ...CONTINUAL, ...ADAM } },
  { id: 'continual', task: 'Continual embedded Reber, trained with Adam instead', cell: 'lstm1997', run: runContinual, paper: '—',
    bar: 'same', unit: 'strings', notes: cellState, opts: { ...CONTINUAL, ...ADAM },
    remark: 'its cells saturate (\\|c\\| grows about 1 a step), so its output gates alone carry the first T/P' },
  { id: 'timing', task: `Spike delays, gaps of ${TIMING.T} or ${TIMING.T - 1} steps (after Gers et al. 2002)`, cell: 'peephole', run: runTiming,
    paper: TIMING_PAPER, bar: `${TIMING_TEST.right} of ${TIMING_TEST.trains} test trains of 8 gaps right at every step`, unit: 'trains', opts: TIMING },
  { id: 'timing', task: `Spike delays, gaps of ${TIMING.T} or ${TIMING.T - 1} steps (after Gers et al. 2002)`, cell: 'lstm', run: runTiming,
    paper: 'see the row above', bar: 'same', unit: 'trains', opts: TIMING },
];

const engine = await loadEngine();
const started = Date.now();
const lines = [];
for (const row of ROWS.filter((r) => !ONLY || r.id === ONLY)) {
  const runs = [];
  for (let seed = 1; seed <= SEEDS; seed++) {
    const t0 = Date.now();
    const r = await row.run({ cell: row.cell, seed, ...row.opts });
    r.seconds = (Date.now() - t0) / 1000;
    runs.push(r);
    process.stderr.write(`${row.id} ${row.cell} seed ${seed}: ${r.solved ? 'solved' : 'not solved'} after ${thousands(r.sequences)} ${row.unit}, `
      + `test ${pct(r.score)}, ${r.seconds.toFixed(1)} s\n`);
  }
  const solved = runs.filter((r) => r.solved);
  const notes = [row.remark, row.notes?.(runs), unsolved(runs, row), `${median(runs.map((r) => r.seconds)).toFixed(0)} s a run`].filter(Boolean).join('; ');
  lines.push(`| ${row.task} | \`${row.cell}\` | ${row.bar} | ${solved.length}/${runs.length} | `
    + `${solved.length ? `${thousands(median(solved.map((r) => r.sequences)))} ${row.unit}` : '—'} | ${row.paper} | ${notes} |`);
}

// The Clockwork RNN's generation task: about 700 weights each, median over the seeds (not the paper's audio: see the task)
const SIGNAL_ROWS = [
  { cell: 'clockwork', hiddenSize: 32, periods: [1, 2, 4, 8, 16, 32, 64, 128] },
  { cell: 'rnn', hiddenSize: 25 },
  { cell: 'lstm', hiddenSize: 12 },
];
const signalLines = [];
if (!ONLY || ONLY === 'signal') {
  for (const row of SIGNAL_ROWS) {
    const runs = [];
    for (let seed = 1; seed <= SEEDS; seed++) runs.push(await runSignal({ ...row, seed, epochs: QUICK ? 300 : 1000 }));
    process.stderr.write(`signal ${row.cell}: NMSE ${runs.map((r) => r.nmse.toFixed(4)).join(', ')}\n`);
    signalLines.push(`| \`${row.cell}\`${row.periods ? ` (periods ${row.periods.join(', ')})` : ''} | ${runs[0].weights} | `
      + `${median(runs.map((r) => r.nmse)).toFixed(4)} | ${median(runs.map((r) => r.msPerEpoch)).toFixed(2)} |`);
  }
}

// The depth-gated LSTM: a 4-layer character model, with and without the gate, the same everything else
const depthLines = [];
if (!ONLY || ONLY === 'depth') {
  for (const depth of [false, true]) {
    const runs = [];
    for (let seed = 1; seed <= SEEDS; seed++) runs.push(await runDepthText({ depth, seed, epochs: QUICK ? 10 : 25 }));
    process.stderr.write(`depth ${depth}: validation loss ${runs.map((r) => r.valLoss.toFixed(3)).join(', ')}\n`);
    depthLines.push(`| ${depth ? 'depth-gated' : 'plain'} | ${runs.map((r) => r.valLoss.toFixed(3)).join(', ')} | `
      + `${median(runs.map((r) => r.valLoss)).toFixed(3)} | ${median(runs.map((r) => r.seconds)).toFixed(0)} s |`);
  }
}

const minutes = ((Date.now() - started) / 60000).toFixed(1);
const table = [
  `Seeds 1–${SEEDS}${QUICK ? ' (--quick)' : ''}; engine ${engine.variant}; ${minutes} min on this machine.`,
  'Median training sequences counts solved runs only; the recipes (sizes, learning rates, budgets) are in tests/tasks/.',
  '',
  '| Task | Cell | Solved when | Solved | Median training sequences | Paper reports | Notes |',
  '|---|---|---|---|---|---|---|',
  ...lines,
  '',
  ...(signalLines.length ? [
    `Generating a ${SIGNAL_T}-step signal from no input (Koutník et al. 2014, section 4.1; tests/tasks/clockwork-signal.js), ${QUICK ? 300 : 1000} epochs of Adam.`,
    `The paper (unchecked here: its audio is not shipped): ${SIGNAL_PAPER}.`,
    '',
    '| Cell | Weights | Median normalised MSE | ms per epoch |',
    '|---|---|---|---|',
    ...signalLines,
    '',
  ] : []),
  ...(depthLines.length ? [
    `A 4-layer character model of README.md, hidden 32, ${QUICK ? 10 : 25} epochs (tests/tasks/depth-text.js); ${DEPTH_PAPER}.`,
    '',
    '| Stack | Validation loss per seed (nats/char) | Median | Time a run |',
    '|---|---|---|---|',
    ...depthLines,
    '',
  ] : []),
].join('\n');
process.stdout.write(table);
if (!ONLY && !QUICK) { // results.md holds full runs only
  // the Seq2Seq section comes from tests/papers/seq2seq.js (hours of its own): kept as it is
  const kept = existsSync(OUT) ? (/\n## Seq2Seq[\s\S]*$/.exec(readFileSync(OUT, 'utf8'))?.[0] ?? '') : '';
  writeFileSync(OUT, `# Each cell on its own paper's task\n\nWritten by \`npm run papers\` (tests/papers/run.js).\n\n${table}${kept}`);
  process.stderr.write(`written to ${OUT}\n`);
}

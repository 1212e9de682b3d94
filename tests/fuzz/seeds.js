// Writes the seed corpus of the native fuzzer (fuzz_engine.c) into
// tests/fuzz/seeds/: one file per case, in the byte layout the harness reads.
// The seeds put the fuzzer where the size arithmetic breaks from the start
// (hidden 630 at 512 x 1024 steps needs exactly 2^32 reals; hidden 32768 and
// a bidirectional GRU of 46341 overflow the parameter count) and give it one
// small working model of every cell, switch and call to mutate from.
// Run: node tests/fuzz/seeds.js (the output is committed; re-run after a layout change).
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';

const OUT = new URL('./seeds/', import.meta.url);
const CELLS = { lstm: 0, gru: 1, rnn: 2 }; // indexes into the harness's cells[]
const OPS = { predict: 0, train: 1, rows: 2, forward: 3 };
// enum lw_gate bits (c/lw.h)
const GATE = { peepholes: 32, coupled: 64, squash1997: 128, noForget: 2, fullRecurrence: 256, noOutputAct: 16, depth: 512 };

const u32 = (v) => [v & 255, (v >>> 8) & 255, (v >>> 16) & 255, (v >>> 24) & 255];
const size = (v) => [255, ...u32(v)]; // the exact value, whatever the field's small range

/** The bytes of one case: a model, then up to four calls of [op, B, T, variant]. */
function seed({ input = 2, output = 2, hidden = [3], bidirectional = false, cell = 'lstm', perStep = false, loss = 0,
  gates = 0, dropout = 0, optimizer = 1, calls = [] }) {
  const ops = calls.reduce((a, [op], k) => a | (OPS[op] << (2 * k)), 0);
  const bytes = [ops, hidden.length, ...size(input), ...size(output + 1), bidirectional ? 2 : 0, CELLS[cell],
    perStep ? 1 : 0, loss, ...u32(7), gates & 255, gates >> 8, ...hidden.flatMap(size), dropout ? 192 + Math.round(dropout * 64) : 0,
    1, ...new Array(9).fill(0), optimizer];
  for (let k = 0; k < 4; k++) {
    const [, B = 1, T = 1, variant = 0] = calls[k] ?? [];
    bytes.push(...size(B), ...size(T), variant);
  }
  return Uint8Array.from(bytes);
}

const all = ['predict', 'train', 'rows', 'forward'];
const SEEDS = {
  // issue 11: 13*630+2 = 8192 reals per sample-step; 512 x 1024 of them is 2^32
  'wrap-hidden630-predict': seed({ input: 1, output: 1, hidden: [630], calls: [['predict', 512, 1024]] }),
  'wrap-hidden630-train': seed({ input: 1, output: 1, hidden: [630], calls: [['train', 512, 1024]] }),
  'wrap-hidden630-rows': seed({ input: 1, output: 1, hidden: [630], calls: [['rows', 512, 1024]] }),
  'wrap-hidden630-forward': seed({ input: 1, output: 1, hidden: [630], calls: [['forward', 512, 1024]] }),
  'wrap-params-hidden32768': seed({ input: 1, output: 1, hidden: [32768] }),
  'wrap-params-gru-bidirectional-46341': seed({ input: 1, cell: 'gru', bidirectional: true, hidden: [46341] }),
  'wrap-params-fgr-hidden16384': seed({ input: 1, hidden: [16384], gates: GATE.fullRecurrence }),
  'lstm-stacked': seed({ hidden: [5, 3], calls: all.map((op) => [op, 3, 4, 1]) }),
  'lstm-per-step-softmax': seed({ input: 4, output: 4, hidden: [6], perStep: true, loss: 3, calls: all.map((op) => [op, 2, 5, 9]) }),
  'gru-bidirectional': seed({ cell: 'gru', bidirectional: true, hidden: [4, 2], calls: all.map((op) => [op, 3, 3, 1]) }),
  'rnn-mae': seed({ cell: 'rnn', hidden: [7], loss: 1, calls: all.map((op) => [op, 4, 2]) }),
  'peephole-fgr': seed({ hidden: [3, 3], gates: GATE.peepholes | GATE.fullRecurrence, calls: all.map((op) => [op, 2, 6, 1]) }),
  'cifg-dropout': seed({ hidden: [4, 4, 2], gates: GATE.coupled, dropout: 0.25, calls: all.map((op) => [op, 3, 4, 1]) }),
  'lstm1997-sigmoid': seed({ hidden: [5], gates: GATE.noForget | GATE.squash1997, loss: 4, optimizer: 0, calls: all.map((op) => [op, 2, 3]) }),
  'no-head': seed({ output: 0, hidden: [3], calls: [['forward', 2, 3, 5], ['predict', 1, 1]] }),
  'depth-gate-bidirectional-dropout': seed({ hidden: [4, 4, 4], bidirectional: true, gates: GATE.depth | GATE.peepholes, dropout: 0.25,
    calls: all.map((op) => [op, 3, 5, 1]) }),
  'depth-gate-cifg': seed({ hidden: [3, 3], gates: GATE.depth | GATE.coupled, perStep: true, calls: all.map((op) => [op, 2, 4, 1]) }),
  'noaf-huber-bidirectional': seed({ hidden: [3], bidirectional: true, gates: GATE.noOutputAct, loss: 2, calls: all.map((op) => [op, 5, 2, 1]) }),
};

mkdirSync(OUT, { recursive: true });
for (const f of readdirSync(OUT)) rmSync(new URL(f, OUT));
for (const [name, bytes] of Object.entries(SEEDS)) writeFileSync(new URL(`${name}.bin`, OUT), bytes);
console.log(`seeds: wrote ${Object.keys(SEEDS).length} files to tests/fuzz/seeds/`);

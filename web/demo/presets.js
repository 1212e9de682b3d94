// The examples the demo page offers, each with the task and the settings it
// trains well with: a sine-like wave (the default), yearly sunspot numbers,
// several series one per line, shapes to classify, first names and a
// paragraph. Synthetic data is generated from a fixed seed, so every visit
// shows the same numbers. Parsing and checking the text is in parse.js.
import { seededUniform } from '../data.js'; // mulberry32, for the synthetic examples' noise

const round1 = (v) => Math.round(v * 10) / 10;
const round2 = (v) => Math.round(v * 100) / 100;

/** 160 steps of a daily-cycle-like wave: period 24 with a harmonic of period 8. */
function wave() {
  return Array.from({ length: 160 }, (_, t) =>
    round1(50 + 20 * Math.sin((2 * Math.PI * t) / 24) + 6 * Math.sin((2 * Math.PI * t) / 8)));
}

// Yearly mean total sunspot number, 1749 to 2020, version 2.0 of the series
// (WDC-SILSO, Royal Observatory of Belgium, Brussels; SN_y_tot_V2.0). A decade per line.
const SUNSPOTS = `
  134.8 139 79.5 79.7 51.2 20.3 16 17 54 79.3
  90 104.8 143.2 102 75.2 60.7 34.8 19 63 116.3
  176.8 168 136 110.8 58 51 11.7 33 154.2 257.3
  209.8 141.3 113.5 64.2 38 17 40.2 138.2 220 218.2
  196.8 149.8 111 100 78.2 68.3 35.5 26.7 10.7 6.8
  11.3 24.2 56.7 75 71.8 79.2 70.3 46.8 16.8 13.5
  4.2 0 2.3 8.3 20.3 23.2 59 76.3 68.3 52.9
  38.5 24.2 9.2 6.3 2.2 11.4 28.2 59.9 83 108.5
  115.2 117.4 80.8 44.3 13.4 19.5 85.8 192.7 227.3 168.7
  143 105.5 63.3 40.3 18.1 25.1 65.8 102.7 166.3 208.3
  182.5 126.3 122 102.7 74.1 39 12.7 8.2 43.4 104.4
  178.3 182.2 146.6 112.1 83.5 89.2 57.8 30.7 13.9 62.8
  123.6 232 185.3 169.2 110.1 74.5 28.3 18.9 20.7 5.7
  10 53.7 90.5 99 106.1 105.8 86.3 42.4 21.8 11.2
  10.4 11.8 59.5 121.7 142 130 106.6 69.4 43.8 44.4
  20.2 15.7 4.6 8.5 40.8 70.1 105.5 90.1 102.8 80.9
  73.2 30.9 9.5 6 2.4 16.1 79 95 173.6 134.6
  105.7 62.7 43.5 23.7 9.7 27.9 74 106.5 114.7 129.7
  108.2 59.4 35.1 18.6 9.2 14.6 60.2 132.8 190.6 182.6
  148 113 79.2 50.8 27.1 16.1 55.3 154.3 214.7 193
  190.7 118.9 98.3 45 20.1 6.6 54.2 200.7 269.3 261.7
  225.1 159 76.4 53.4 39.9 15 22 66.8 132.9 150
  149.4 148 94.4 97.6 54.1 49.2 22.5 18.4 39.3 131
  220.1 218.9 198.9 162.4 91 60.5 20.6 14.8 33.9 123
  211.1 191.8 203.3 133 76.1 44.9 25.1 11.6 28.9 88.3
  136.3 173.9 170.4 163.6 99.3 65.3 45.8 24.7 12.6 4.2
  4.8 24.9 80.8 84.5 94 113.3 69.8 39.8 21.7 7
  3.6 8.8`.trim().split(/\s+/).map(Number);

/** Three noisy waves of different periods and levels, 72 steps each. */
function severalSeries() {
  const rand = seededUniform(7);
  return [[12, 20, 0], [9, 45, 1.3], [16, 80, 2.1]].map(([period, level, phase]) =>
    Array.from({ length: 72 }, (_, t) =>
      round1(level + 8 * Math.sin((2 * Math.PI * t) / period + phase) + 2 * (rand() - 0.5))));
}

/** 20 noisy sequences each of three shapes (rising, falling, a peak), 8 to 16 steps long. */
function shapes() {
  const rand = seededUniform(11);
  const shape = {
    rise: (x) => x,
    fall: (x) => 1 - x,
    peak: (x) => 1 - Math.abs(2 * x - 1),
  };
  const lines = [];
  for (let k = 0; k < 20; k++) {
    for (const [label, f] of Object.entries(shape)) {
      const T = 8 + Math.floor(rand() * 9);
      const values = Array.from({ length: T }, (_, t) => round2(f(t / (T - 1)) + 0.3 * (rand() - 0.5)));
      lines.push(`${label}: ${values.join(' ')}`);
    }
  }
  return lines.join('\n');
}

/** A seeded Fisher-Yates shuffle, so the validation tail (the last tenth) is a fair sample. */
function shuffled(list, seed) {
  const rand = seededUniform(seed), out = list.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

// 419 common first names (given names are facts: no copyright in a list of them).
const NAMES = `Aaron Abel Abigail Abraham Adam Addison Adeline Adrian Adriana Aiden Ainsley Alaina Alan Alana Alessandra Alex
Alexa Alexander Alexandra Alexis Alice Alina Aliyah Allison Alyssa Amaya Amelia Amir Amy Andrea Andres Andrew
Angel Angela Angelina Anna Annabelle Anthony Antonio Archer Aria Ariana Arianna Arthur Asher Ashley Athena
Aubree Aubrey Audrey August Aurora Austin Autumn Ava Avery Axel Ayla Bailey Barrett Beatrice Beau Bella
Benjamin Bennett Bentley Blake Bradley Brandon Brayden Brianna Brielle Brody Brooklyn Brooks Bryce Caden
Cadence Caleb Calvin Camden Cameron Camila Camille Carlos Caroline Carson Carter Cash Catalina Cecilia Charles
Charlie Chase Chloe Christian Christopher Claire Clara Cole Colton Connor Cooper Corbin Cristian Daisy Damian
Daniel Daniela David Dean Declan Delilah Derek Diana Diego Dominic Dylan Easton Eden Edward Eleanor Elena Eli
Eliana Elias Elijah Elise Eliza Elizabeth Ella Ellie Elliot Eloise Elsie Emery Emilia Emily Emma Emmanuel
Emmett Eric Esther Ethan Eva Evan Evangeline Evelyn Everett Everly Ezekiel Ezra Faith Felix Finn Fiona
Francisco Freya Gabriel Gabriella Gael Gavin Gemma Genesis Genevieve George Georgia Gianna Giselle Grace
Graham Grant Grayson Griffin Hailey Hannah Harlow Harmony Harper Harrison Hayden Hazel Hector Heidi Helen
Henry Holden Hudson Hugo Hunter Ian Iris Isaac Isabel Isabella Isaiah Isla Ivan Ivy Jace Jack Jackson Jacob
Jade Jake James Jameson Jasmine Jason Jasper Javier Jaxon Jayden Jeremiah Jesse Jessica Jocelyn Joel John
Jonah Jonathan Jordan Jose Joseph Josephine Joshua Josiah Josie Jude Julia Julian Juliana Juliette Julius
Justin Kaden Kai Kayden Kaylee Kennedy Kevin Khloe King Kingston Kinsley Knox Kylie Laila Landon Lane Lauren
Layla Leah Leila Leilani Leo Leon Leonardo Levi Liam Lila Liliana Lillian Lily Lincoln Logan Lola London
Londyn Lorenzo Louis Luca Lucas Lucia Lucy Lukas Luke Luna Lydia Lyla Mackenzie Madeline Madelyn Madison
Makayla Malachi Marcus Margaret Maria Mariana Mario Mark Martin Mason Mateo Matthew Maverick Max Maxwell Maya
Melanie Melody Messiah Mia Micah Michael Mila Miles Milo Molly Morgan Nadia Naomi Natalie Nathan Nathaniel
Nevaeh Nicholas Nicole Noah Nolan Nora Norah Nova Olive Oliver Olivia Oscar Owen Paige Paisley Paris Parker
Patrick Paul Penelope Peter Peyton Phoebe Piper Preston Quinn Rachel Rafael Reagan Rebecca Remi Remington
Richard Riley River Robert Roman Ronan Rosalie Rose Rowan Ruby Ruth Ryan Ryder Ryker Sadie Samuel Santiago
Sara Sarah Savannah Sawyer Scarlett Sebastian Selena Serenity Sienna Silas Simon Skylar Sofia Sophia Sophie
Spencer Stella Steven Summer Sydney Teagan Tessa Theo Theodore Thomas Timothy Tobias Tristan Tucker Valentina
Valerie Vanessa Vera Victor Victoria Vincent Violet Vivian Walker Waylon Wesley Weston William Willow Wren
Wyatt Xavier Ximena Zachary Zane Zara Zion Zoe Zoey`
  .split(/\s+/);

// The opening of Lewis Carroll's "Alice's Adventures in Wonderland" (1865), public domain.
const ALICE = 'Alice was beginning to get very tired of sitting by her sister on the bank, and of having '
  + 'nothing to do: once or twice she had peeped into the book her sister was reading, but it had no '
  + 'pictures or conversations in it, "and what is the use of a book," thought Alice "without pictures '
  + 'or conversations?" So she was considering in her own mind (as well as she could, for the hot day '
  + 'made her feel very sleepy and stupid), whether the pleasure of making a daisy-chain would be worth '
  + 'the trouble of getting up and picking the daisies, when suddenly a White Rabbit with pink eyes ran '
  + 'close by her.';

/**
 * The examples by id, in menu order. `text` fills the input box; `task` and
 * `settings` (hiddenSize, layers, epochs, learningRate, window) fill the form.
 * The epochs and rates were tried in Chromium: each trains in seconds and
 * ends with a visibly learned result.
 */
export const PRESETS = {
  wave: {
    label: 'Sine-like wave (160 steps)',
    task: 'forecast',
    text: wave().join(', '),
    settings: { hiddenSize: 32, layers: 1, epochs: 30, learningRate: 0.01, window: 24 },
  },
  sunspots: {
    label: 'Yearly sunspot numbers, 1749–2020 (SILSO)',
    task: 'forecast',
    text: SUNSPOTS.join(', '),
    // Of the settings tried, the steadiest across seeds on the held-out years (error 18 to 32, against 48 for
    // repeating the last value); larger models overfit these 245 windows.
    settings: { hiddenSize: 16, layers: 1, epochs: 80, learningRate: 0.01, window: 24 },
    source: 'Yearly mean total sunspot number, 1749–2020: WDC-SILSO, Royal Observatory of Belgium, Brussels.',
  },
  several: {
    label: 'Three series, one per line',
    task: 'forecast',
    text: severalSeries().map((s) => s.join(', ')).join('\n'),
    settings: { hiddenSize: 32, layers: 1, epochs: 30, learningRate: 0.01, window: 12 },
  },
  shapes: {
    label: 'Shapes to classify: rise, fall, peak',
    task: 'classify',
    text: shapes(),
    settings: { hiddenSize: 16, layers: 1, epochs: 40, learningRate: 0.01 },
  },
  names: {
    label: 'First names, one per line',
    task: 'generate',
    text: shuffled(NAMES, 3).join('\n'),
    // Validation loss bottoms out near epoch 20; past it the model starts to recite the list.
    settings: { hiddenSize: 64, layers: 1, epochs: 20, learningRate: 0.005 },
  },
  alice: {
    label: 'A paragraph (Alice in Wonderland)',
    task: 'generate',
    text: ALICE,
    settings: { hiddenSize: 96, layers: 1, epochs: 60, learningRate: 0.01 },
    source: 'The opening of Lewis Carroll’s Alice’s Adventures in Wonderland (1865), public domain.',
  },
};

export const DEFAULT_PRESET = 'wave';

/** Settings for a task when the person switches task by hand. */
export const TASK_DEFAULTS = {
  forecast: PRESETS.wave.settings,
  classify: PRESETS.shapes.settings,
  generate: PRESETS.names.settings,
};

/**
 * Benchmark of the trained classifier against two baselines: multinomial
 * naive Bayes, and fastText (its WASM build from npm) trained on the same split.
 *
 *   tsx test/bench/classify.ts --train FILE [--test FILE | --dev-every N]
 *       [--text-field text] [--label-field label]
 *       [--set option=value ...]   # training options, e.g. --set C=0.5
 *       [--cv K]                   # K-fold CV on the training part only (for choosing options)
 *       [--nb-alpha A]             # smoothing of the naive Bayes baseline (default 0.1)
 *       [--district FILE]          # also report the model with this district file's phrase rules
 *       [--skip-fasttext]          # leave out the fastText baseline (it trains for minutes on large files)
 *
 * Reads the data at run time only. The last line is machine-readable:
 *   accuracy=0.913 macroF1=0.905 train_s=1.2 per_s=52000 p99_ms=0.05 baseline_macroF1=0.88 fasttext_macroF1=0.90
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  evaluate,
  evaluatePredictions,
  parseExamplesJsonl,
  trainClassifier,
  trainNaiveBayes,
  type EvaluationReport,
  type LabelledExample,
  type TrainOptions,
} from '../../src/classifier/engine/index.js';
import { districtRules, formatReport, measureLatency, parseOptionOverrides } from './lib/classify-report.js';
import { FASTTEXT_OPTIONS, fastTextBaseline } from './lib/fasttext-baseline.js';

const { values } = parseArgs({
  options: {
    train: { type: 'string' },
    test: { type: 'string' },
    'dev-every': { type: 'string' },
    'text-field': { type: 'string', default: 'text' },
    'label-field': { type: 'string', default: 'label' },
    set: { type: 'string', multiple: true, default: [] },
    cv: { type: 'string' },
    'nb-alpha': { type: 'string' },
    district: { type: 'string' },
    'skip-fasttext': { type: 'boolean', default: false },
  },
});

function fail(message: string): never {
  console.error(message);
  process.exit(2);
}

if (!values.train) fail('usage: tsx test/bench/classify.ts --train FILE [--test FILE | --dev-every N]');
const load = (file: string): LabelledExample[] =>
  parseExamplesJsonl(readFileSync(file, 'utf8'), {
    textField: values['text-field'],
    labelField: values['label-field'],
    source: file,
  });

const all = load(values.train);
let train: LabelledExample[];
let test: LabelledExample[];
if (values.test) {
  train = all;
  test = load(values.test);
} else {
  const every = Number(values['dev-every']);
  if (!Number.isInteger(every) || every < 2) fail('give --test FILE or --dev-every N (N >= 2)');
  train = all.filter((_, i) => (i + 1) % every !== 0);
  test = all.filter((_, i) => (i + 1) % every === 0);
}
const options: TrainOptions = parseOptionOverrides(values.set);
const nbAlpha = values['nb-alpha'] === undefined ? undefined : Number(values['nb-alpha']);
const rules = values.district ? districtRules(values.district) : [];

if (values.cv) {
  // Cross-validation on the training part only: this is what options are chosen on.
  const k = Number(values.cv);
  if (!Number.isInteger(k) || k < 2) fail('--cv K needs K >= 2');
  const pairs: Array<{ actual: string; predicted: string | null }> = [];
  const nbPairs: Array<{ actual: string; predicted: string | null }> = [];
  let seconds = 0;
  for (let f = 0; f < k; f++) {
    const fit = train.filter((_, i) => i % k !== f);
    const held = train.filter((_, i) => i % k === f);
    const t0 = process.hrtime.bigint();
    // The calibration folds matter to the argmax only when rules are added to
    // the log-odds or nbSmoothing is 'auto' (they choose it): skip them otherwise.
    const needsFolds = rules.length > 0 || (options.nbSmoothing ?? 'auto') === 'auto';
    const model = trainClassifier(fit, needsFolds ? { ...options, rules } : { ...options, calibrationFolds: 0 });
    seconds += Number(process.hrtime.bigint() - t0) / 1e9;
    const nb = trainNaiveBayes(fit, { alpha: nbAlpha });
    for (const ex of held) {
      pairs.push({ actual: ex.label, predicted: model.classify(ex.text).type });
      nbPairs.push({ actual: ex.label, predicted: nb.classify(ex.text).type });
    }
  }
  const report = evaluatePredictions(pairs);
  const nbReport = evaluatePredictions(nbPairs);
  console.log(`options ${JSON.stringify(options)}`);
  console.log(`cv${k} on ${train.length} training examples: accuracy=${report.accuracy.toFixed(4)} macroF1=${report.macroF1.toFixed(4)} mean_train_s=${(seconds / k).toFixed(2)} baseline_macroF1=${nbReport.macroF1.toFixed(4)}`);
  process.exit(0);
}

console.log(`train: ${train.length} examples, test: ${test.length} examples`);
if (Object.keys(options).length > 0) console.log(`options: ${JSON.stringify(options)}`);

const t0 = process.hrtime.bigint();
const model = trainClassifier(train, options);
const trainSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
const report: EvaluationReport = evaluate(model, test);
const latency = measureLatency(model, test.map((e) => e.text));

const t1 = process.hrtime.bigint();
const baseline = trainNaiveBayes(train, { alpha: nbAlpha });
const baselineSeconds = Number(process.hrtime.bigint() - t1) / 1e9;
const baselineReport = evaluate(baseline, test);

console.log(`\n== linear (${model.engine}), trained in ${trainSeconds.toFixed(2)} s ==`);
if (model.crossValidation) {
  const cv = model.crossValidation;
  console.log(
    `calibration folds (training data only): ${cv.heldOut} held out, accuracy ${cv.accuracy.toFixed(3)}, macro-F1 ${cv.macroF1.toFixed(3)}`,
  );
}
console.log(formatReport(report));
if (rules.length > 0) {
  const withRules = model.withRuntime({ ...options, rules });
  const ruled = evaluate(withRules, test);
  console.log(
    `\nwith the district's ${rules.length} phrase rules (ruleScale ${options.ruleScale ?? 1}): accuracy ${ruled.accuracy.toFixed(3)}  macro-F1 ${ruled.macroF1.toFixed(3)}`,
  );
}
console.log(
  `\nspeed: ${Math.round(latency.perSecond)} classifications/s, p50 ${latency.p50Ms.toFixed(3)} ms, p99 ${latency.p99Ms.toFixed(3)} ms, max ${latency.maxMs.toFixed(3)} ms`,
);
console.log(`\n== baseline: naive Bayes, word 1-2-grams, trained in ${baselineSeconds.toFixed(2)} s ==`);
console.log(`accuracy ${baselineReport.accuracy.toFixed(3)}  macro-F1 ${baselineReport.macroF1.toFixed(3)}`);
const fastText = values['skip-fasttext'] ? null : await fastTextBaseline(train, test);
if (fastText) {
  console.log(`\n== baseline: fastText (WASM), ${JSON.stringify(FASTTEXT_OPTIONS)}, trained in ${fastText.seconds.toFixed(2)} s ==`);
  console.log(`accuracy ${fastText.report.accuracy.toFixed(3)}  macro-F1 ${fastText.report.macroF1.toFixed(3)}`);
}
console.log(
  `accuracy=${report.accuracy.toFixed(3)} macroF1=${report.macroF1.toFixed(3)} train_s=${trainSeconds.toFixed(2)} per_s=${Math.round(latency.perSecond)} p99_ms=${latency.p99Ms.toFixed(3)} baseline_macroF1=${baselineReport.macroF1.toFixed(3)}` +
    (fastText ? ` fasttext_macroF1=${fastText.report.macroF1.toFixed(3)}` : ''),
);

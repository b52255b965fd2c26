/** Helpers of the classifier benchmark: latency measurement, report text, option flags. */
import { readFileSync } from 'node:fs';
import type { Classifier } from '../../../src/pipeline/classifier.js';
import type { EvaluationReport, PhraseRule, TrainOptions } from '../../../src/classifier/engine/index.js';

export interface Latency {
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/**
 * Times every text once with process.hrtime.bigint, after a warm-up pass
 * over (up to) the first 300 texts so the JIT has compiled the hot paths.
 */
export function measureLatency(classifier: Classifier, texts: readonly string[]): Latency {
  for (const t of texts.slice(0, 300)) classifier.classify(t);
  const times = new Float64Array(texts.length);
  let total = 0n;
  texts.forEach((text, i) => {
    const t0 = process.hrtime.bigint();
    classifier.classify(text);
    const dt = process.hrtime.bigint() - t0;
    total += dt;
    times[i] = Number(dt) / 1e6;
  });
  times.sort();
  const at = (q: number): number => times[Math.min(times.length - 1, Math.floor(q * times.length))] ?? 0;
  return {
    perSecond: texts.length / (Number(total) / 1e9),
    p50Ms: at(0.5),
    p99Ms: at(0.99),
    maxMs: times[times.length - 1] ?? 0,
  };
}

export function formatReport(report: EvaluationReport, confusionsShown = 8): string {
  const lines: string[] = [];
  lines.push(
    `accuracy ${report.accuracy.toFixed(3)}  macro-F1 ${report.macroF1.toFixed(3)}  (${report.correct}/${report.total}, ${report.unclassified} without a type)`,
  );
  const width = Math.max(5, ...report.perClass.map((c) => displayWidth(c.label)));
  lines.push(`${pad('class', width)}  precision  recall     F1  support`);
  for (const c of report.perClass) {
    lines.push(
      `${pad(c.label, width)}  ${c.precision.toFixed(3).padStart(9)}  ${c.recall.toFixed(3).padStart(6)}  ${c.f1.toFixed(3).padStart(5)}  ${String(c.support).padStart(7)}`,
    );
  }
  lines.push('costliest confusions (actual → predicted):');
  for (const c of report.confusions.slice(0, confusionsShown)) {
    lines.push(`  ${c.actual} → ${c.predicted ?? '(none)'}: ${c.count}`);
  }
  return lines.join('\n');
}

/** East Asian characters take two columns in a terminal. */
function displayWidth(s: string): number {
  let w = 0;
  for (const ch of s) w += /[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]/u.test(ch) ? 2 : 1;
  return w;
}

function pad(s: string, width: number): string {
  return s + ' '.repeat(Math.max(0, width - displayWidth(s)));
}

const NUMERIC = new Set([
  'charNgramMin',
  'charNgramMax',
  'maxPresegmentedWord',
  'minDf',
  'wordWeight',
  'nbSmoothing',
  'C',
  'tolerance',
  'maxIterations',
  'calibrationFolds',
  'calibrationHeldOut',
  'oodExponent',
  'seed',
  'ruleScale',
  'maxEvidence',
]);
const BOOLEAN = new Set(['words', 'wordBigrams', 'foldDigits', 'charNgramsAcrossSpaces']);
const CHOICES: Record<string, readonly string[]> = {
  loss: ['squared-hinge', 'hinge'],
  classWeight: ['balanced', 'none'],
};

/** `--set C=0.5 --set wordBigrams=false` → training options (validated). */
export function parseOptionOverrides(settings: readonly string[]): TrainOptions {
  const options: Record<string, number | boolean | string> = {};
  for (const setting of settings) {
    const eq = setting.indexOf('=');
    const key = setting.slice(0, eq);
    const value = setting.slice(eq + 1);
    if (eq < 0) throw new Error(`--set ${setting}: expected option=value`);
    if ((key === 'nbSmoothing' || key === 'oodExponent') && value === 'auto') options[key] = value;
    else if (NUMERIC.has(key)) {
      const n = Number(value);
      if (!Number.isFinite(n)) throw new Error(`--set ${setting}: not a number`);
      options[key] = n;
    } else if (BOOLEAN.has(key)) {
      if (value !== 'true' && value !== 'false') throw new Error(`--set ${setting}: expected true or false`);
      options[key] = value === 'true';
    } else if (CHOICES[key]) {
      if (!CHOICES[key].includes(value)) throw new Error(`--set ${setting}: expected one of ${CHOICES[key].join(', ')}`);
      options[key] = value;
    } else throw new Error(`--set ${setting}: unknown option ${key}`);
  }
  return options as TrainOptions;
}

/** Phrase rules of a district file: `types[].phrases[]` of `{ text, weight }`, keyed by `types[].code`. */
export function districtRules(path: string): PhraseRule[] {
  const file = JSON.parse(readFileSync(path, 'utf8')) as {
    types?: Array<{ code: string; phrases?: Array<{ text: string; weight: number }> }>;
  };
  return (file.types ?? []).flatMap((t) => (t.phrases ?? []).map((p) => ({ type: t.code, text: p.text, weight: p.weight })));
}

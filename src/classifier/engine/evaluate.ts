/**
 * Quality figures of any `Classifier` on labelled examples: accuracy,
 * macro-F1, per-class precision/recall/F1, and the confusions that cost most.
 */
import type { Classifier } from '../../pipeline/classifier.js';
import type { LabelledExample } from './examples.js';

export interface ClassMetrics {
  label: string;
  precision: number;
  recall: number;
  f1: number;
  /** Examples that carry this label. */
  support: number;
  /** Examples predicted as this label. */
  predicted: number;
}

export interface Confusion {
  actual: string;
  /** null: the classifier gave no type (the case would go to triage). */
  predicted: string | null;
  count: number;
  /** count × the cost of this mistake (1 each unless a cost function is given). */
  cost: number;
}

export interface EvaluationReport {
  total: number;
  correct: number;
  accuracy: number;
  /** Unweighted mean F1 over the labels that occur as truth or prediction. */
  macroF1: number;
  /** Examples that got no type at all. */
  unclassified: number;
  perClass: ClassMetrics[];
  /** Mistakes grouped by (actual, predicted), most costly first. */
  confusions: Confusion[];
}

export interface EvaluateOptions {
  /**
   * Cost of predicting `predicted` for an example of `actual` (e.g. higher
   * when the two types go to different lead bureaus). Default: 1.
   */
  cost?: (actual: string, predicted: string | null) => number;
}

export function evaluate(
  classifier: Classifier,
  examples: readonly LabelledExample[],
  options: EvaluateOptions = {},
): EvaluationReport {
  return evaluatePredictions(
    examples.map((ex) => ({ actual: ex.label, predicted: classifier.classify(ex.text).type })),
    options,
  );
}

/** The same figures from (actual, predicted) pairs computed elsewhere. */
export function evaluatePredictions(
  pairs: ReadonlyArray<{ actual: string; predicted: string | null }>,
  options: EvaluateOptions = {},
): EvaluationReport {
  const cost = options.cost ?? (() => 1);
  const labels = new Set<string>();
  const support = new Map<string, number>();
  const predictedCount = new Map<string, number>();
  const truePositive = new Map<string, number>();
  const mistakes = new Map<string, Confusion>();
  let correct = 0;
  let unclassified = 0;
  for (const { actual, predicted } of pairs) {
    labels.add(actual);
    support.set(actual, (support.get(actual) ?? 0) + 1);
    if (predicted === null) unclassified++;
    else {
      labels.add(predicted);
      predictedCount.set(predicted, (predictedCount.get(predicted) ?? 0) + 1);
    }
    if (predicted === actual) {
      correct++;
      truePositive.set(actual, (truePositive.get(actual) ?? 0) + 1);
      continue;
    }
    const key = JSON.stringify([actual, predicted]);
    const entry = mistakes.get(key) ?? { actual, predicted, count: 0, cost: 0 };
    entry.count++;
    entry.cost += cost(actual, predicted);
    mistakes.set(key, entry);
  }
  const perClass = [...labels].sort().map((label): ClassMetrics => {
    const tp = truePositive.get(label) ?? 0;
    const sup = support.get(label) ?? 0;
    const pred = predictedCount.get(label) ?? 0;
    const precision = pred > 0 ? tp / pred : 0;
    const recall = sup > 0 ? tp / sup : 0;
    const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
    return { label, precision, recall, f1, support: sup, predicted: pred };
  });
  const total = pairs.length;
  return {
    total,
    correct,
    accuracy: total > 0 ? correct / total : 0,
    macroF1: perClass.length > 0 ? perClass.reduce((s, c) => s + c.f1, 0) / perClass.length : 0,
    unclassified,
    perClass,
    confusions: [...mistakes.values()].sort(
      (a, b) =>
        b.cost - a.cost ||
        b.count - a.count ||
        a.actual.localeCompare(b.actual) ||
        String(a.predicted).localeCompare(String(b.predicted)),
    ),
  };
}

import { describe, expect, it } from 'vitest';
import type { Classifier } from '../../src/pipeline/classifier.js';
import { evaluate, evaluatePredictions } from '../../src/classifier/engine/index.js';

/** A classifier that answers from a fixed table (null = no type). */
function tableClassifier(answers: Record<string, string | null>): Classifier {
  return {
    classify: (text) => ({
      type: answers[text] ?? null,
      confidence: 1,
      runnerUp: null,
      evidence: [],
      engine: 'table@1',
    }),
  };
}

describe('evaluate', () => {
  // Truth: a a a b b c. Predicted: a a b b c (none).
  const examples = [
    { text: '1', label: 'a' },
    { text: '2', label: 'a' },
    { text: '3', label: 'a' },
    { text: '4', label: 'b' },
    { text: '5', label: 'b' },
    { text: '6', label: 'c' },
  ];
  const classifier = tableClassifier({ '1': 'a', '2': 'a', '3': 'b', '4': 'b', '5': 'c', '6': null });

  it('computes accuracy, per-class figures and macro-F1 by hand-checked values', () => {
    const report = evaluate(classifier, examples);
    expect(report.total).toBe(6);
    expect(report.correct).toBe(3);
    expect(report.accuracy).toBeCloseTo(0.5, 10);
    expect(report.unclassified).toBe(1);
    // a: tp 2, predicted 2, support 3 → P 1, R 2/3, F1 0.8
    // b: tp 1, predicted 2, support 2 → P 0.5, R 0.5, F1 0.5
    // c: tp 0, predicted 1, support 1 → P 0, R 0, F1 0
    expect(report.perClass).toEqual([
      { label: 'a', precision: 1, recall: 2 / 3, f1: expect.closeTo(0.8, 10), support: 3, predicted: 2 },
      { label: 'b', precision: 0.5, recall: 0.5, f1: 0.5, support: 2, predicted: 2 },
      { label: 'c', precision: 0, recall: 0, f1: 0, support: 1, predicted: 1 },
    ]);
    expect(report.macroF1).toBeCloseTo((0.8 + 0.5 + 0) / 3, 10);
  });

  it('lists the confusions, most costly first', () => {
    const report = evaluate(classifier, examples, { cost: (actual) => (actual === 'c' ? 5 : 1) });
    expect(report.confusions).toEqual([
      { actual: 'c', predicted: null, count: 1, cost: 5 },
      { actual: 'a', predicted: 'b', count: 1, cost: 1 },
      { actual: 'b', predicted: 'c', count: 1, cost: 1 },
    ]);
  });

  it('counts repeated mistakes together', () => {
    const report = evaluatePredictions([
      { actual: 'x', predicted: 'y' },
      { actual: 'x', predicted: 'y' },
      { actual: 'y', predicted: 'x' },
      { actual: 'y', predicted: 'y' },
    ]);
    expect(report.confusions).toEqual([
      { actual: 'x', predicted: 'y', count: 2, cost: 2 },
      { actual: 'y', predicted: 'x', count: 1, cost: 1 },
    ]);
    expect(report.accuracy).toBe(0.25);
  });
});

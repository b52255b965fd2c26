import { describe, expect, it } from 'vitest';
import { evaluate, trainNaiveBayes } from '../../src/classifier/engine/index.js';
import { NEW_TEXTS, syntheticExamples } from './synthetic-taxonomy.js';

describe('trainNaiveBayes (benchmark baseline)', () => {
  const model = trainNaiveBayes(syntheticExamples());

  it('learns the synthetic taxonomy', () => {
    expect(model.labels).toEqual(['garbage', 'noise', 'sewage', 'smoke']);
    const report = evaluate(model, NEW_TEXTS);
    expect(report.accuracy).toBeGreaterThanOrEqual(0.75);
    expect(model.classify('路边 垃圾 堆 成山 没人 清运').type).toBe('garbage');
  });

  it('returns probabilities and evidence from the input', () => {
    const text = '养猪场的污水排进小河';
    const result = model.classify(text);
    expect(result.type).toBe('sewage');
    expect(result.confidence).toBeGreaterThan(result.runnerUp!.confidence);
    for (const e of result.evidence) expect(text.slice(e.start, e.end)).toBe(e.phrase);
  });

  it('gives no type to text with no known word', () => {
    expect(model.classify('qzxv wprt').type).toBeNull();
  });
});

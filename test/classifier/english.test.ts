import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_EXAMPLES_PATH, examplesPathFor, loadOrTrain } from '../../src/classifier/classifier-store.js';
import { isLatinText } from '../../src/classifier/engine/calibration.js';
import { evaluate, parseExamplesJsonl, trainClassifier } from '../../src/classifier/engine/index.js';
import { loadDistrictFile } from '../../src/district/district-file.js';
import { tempDir } from '../harness.js';

const bundled = parseExamplesJsonl(readFileSync(DEFAULT_EXAMPLES_PATH, 'utf8'));
/** English reports written apart from the examples; training never reads them. */
const HELDOUT_EN_PATH = new URL('../../src/classifier/data/heldout.en.jsonl', import.meta.url);

describe('the bundled examples in English', () => {
  it('cover every type of the taxonomy, among the Chinese ones', () => {
    const english = bundled.filter((e) => isLatinText(e.text));
    const labels = new Set(bundled.map((e) => e.label));
    expect(labels.size).toBe(18);
    for (const label of labels) expect(english.filter((e) => e.label === label).length, label).toBeGreaterThanOrEqual(10);
  });

  it('leave the confidence of Chinese texts as the Chinese examples alone give it (calibrated apart)', () => {
    const chineseOnly = trainClassifier(bundled.filter((e) => !isLatinText(e.text))).toJSON();
    const both = trainClassifier(bundled).toJSON();
    // One temperature for both kinds rose by about half, flattening every Chinese report's confidence.
    expect(both.temperature / chineseOnly.temperature).toBeGreaterThan(0.9);
    expect(both.temperature / chineseOnly.temperature).toBeLessThan(1.1);
    expect(both.latinTemperature).not.toBe(both.temperature);
  }, 60_000);
});

describe('English reports the examples never saw (heldout.en.jsonl)', () => {
  const heldOut = parseExamplesJsonl(readFileSync(HELDOUT_EN_PATH, 'utf8'));

  it('are none of the examples', () => {
    const trained = new Set(bundled.map((e) => e.text.trim().toLowerCase()));
    expect(heldOut.filter((e) => trained.has(e.text.trim().toLowerCase()))).toEqual([]);
    expect(new Set(heldOut.map((e) => e.label)).size).toBe(18);
  });

  it('are mostly read as their type, sure enough to be dispatched, by the classifier the service builds', () => {
    const district = loadDistrictFile();
    const { classifier } = loadOrTrain({ district, examplesPath: examplesPathFor(district, undefined), dir: tempDir() });
    const min = district.file.classifier.minConfidence;
    const report = evaluate(classifier, heldOut);
    const dispatched = heldOut.filter((e) => {
      const c = classifier.classify(e.text);
      return c.type === e.label && c.confidence >= min;
    });
    // 114 reports: 0.97 read right, 0.93 right and at or above minConfidence without English phrase rules; 0.98 and 0.97 with them.
    expect(report.accuracy).toBeGreaterThanOrEqual(0.9);
    expect(dispatched.length / heldOut.length).toBeGreaterThanOrEqual(0.85);
  }, 60_000);
});

describe('isLatinText', () => {
  it.each([
    ['A pig farm in 盐下村 lets manure run into the river', true],
    ['black water', true],
    ['工厂COD超标排放', false],
    ['兴隆办事处那边一个厂子晚上往沟里排黑水', false],
    ['12345', false],
  ])('%s → %s', (text, latin) => {
    expect(isLatinText(text)).toBe(latin);
  });
});

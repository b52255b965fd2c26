import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_EXAMPLES_PATH } from '../../src/classifier/classifier-store.js';
import { isLatinText } from '../../src/classifier/engine/calibration.js';
import { parseExamplesJsonl, trainClassifier } from '../../src/classifier/engine/index.js';

const bundled = parseExamplesJsonl(readFileSync(DEFAULT_EXAMPLES_PATH, 'utf8'));

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

import { describe, expect, it } from 'vitest';
import { FeatureExtractor } from '../../src/classifier/engine/features.js';
import { hashKey } from '../../src/classifier/engine/hashing.js';
import { foldForMatching, TextAnalyzer, type AnalyzedText } from '../../src/classifier/engine/text-analyzer.js';

const OPTIONS = { foldDigits: true, maxPresegmentedWord: 4, charNgramsAcrossSpaces: true };

function words(text: AnalyzedText): string[] {
  const out: string[] = [];
  for (let w = 0; w < text.wordCount; w++) out.push(text.norm.slice(text.words[2 * w], text.words[2 * w + 1]));
  return out;
}

describe('TextAnalyzer', () => {
  const analyzer = new TextAnalyzer(OPTIONS);

  it('normalises full-width letters, case and digits, keeping input offsets', () => {
    const input = 'ＫＴＶ１２点';
    const a = analyzer.analyze(input);
    expect(a.norm).toBe('ktv00点');
    expect([...a.origStart]).toEqual([0, 1, 2, 3, 4, 5]);
    expect([...a.origEnd]).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('maps characters that expand under NFKC back to the one input character', () => {
    const a = analyzer.analyze('面积5㎡');
    expect(a.norm).toBe('面积0m0');
    expect([...a.origStart]).toEqual([0, 1, 2, 3, 3]);
    expect([...a.origEnd]).toEqual([1, 2, 3, 4, 4]);
  });

  it('takes the words of space-segmented text as they are', () => {
    expect(words(analyzer.analyze('市 西湖 建筑 集团 占道 施工 安全隐患'))).toEqual([
      '市',
      '西湖',
      '建筑',
      '集团',
      '占道',
      '施工',
      '安全隐患',
    ]);
  });

  it('splits running Chinese text into words with Intl.Segmenter', () => {
    const ws = words(analyzer.analyze('我要举报兴隆办事处那边一个厂子晚上往沟里排黑水'));
    expect(ws.length).toBeGreaterThan(8);
    expect(ws.join('')).toBe('我要举报兴隆办事处那边一个厂子晚上往沟里排黑水');
  });

  it('breaks character runs at punctuation but, by default, not at spaces', () => {
    const a = analyzer.analyze('排 黑水，臭');
    const runs = new Set(a.charRun);
    expect(a.chars.length).toBe(4);
    expect(runs.size).toBe(2);
  });
});

describe('FeatureExtractor', () => {
  it('hashes features exactly as their key strings', () => {
    const extractor = new FeatureExtractor({ ...OPTIONS, charNgramMin: 1, charNgramMax: 2, words: true, wordBigrams: true });
    const occ = extractor.extract('黑水 排');
    const keys = new Set<string>();
    for (let i = 0; i < occ.count; i++) keys.add(`${occ.hashA[i]},${occ.hashB[i]}`);
    for (const key of ['c黑', 'c黑水', 'c水排', 'w黑水', 'w排', 'b黑水 排']) {
      expect(keys.has(hashKey(key).join(',')), key).toBe(true);
    }
    expect(occ.count).toBe(3 + 2 + 2 + 1);
  });

  it('gives every occurrence its span in the input', () => {
    const extractor = new FeatureExtractor({ ...OPTIONS, charNgramMin: 1, charNgramMax: 3, words: true, wordBigrams: true });
    const input = '　工厂 偷排 废水，发黑';
    const occ = extractor.extract(input);
    const spans = new Set<string>();
    for (let i = 0; i < occ.count; i++) spans.add(input.slice(occ.start[i], occ.end[i]));
    expect(spans).toContain('工厂 偷'); // character trigram across a space
    expect(spans).toContain('工厂 偷排'); // word bigram
    expect(spans).toContain('废水');
    expect(spans).not.toContain('水，发'); // character n-grams stop at punctuation
  });
});

describe('foldForMatching', () => {
  it('drops whitespace and folds case and width, keeping offsets', () => {
    const folded = foldForMatching('Ａ 市　排污');
    expect(folded.text).toBe('a市排污');
    expect([...folded.start]).toEqual([0, 2, 4, 5]);
  });
});

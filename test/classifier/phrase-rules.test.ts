import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_EXAMPLES_PATH, DEFAULT_HELDOUT_PATH, NO_COMPLAINT_PATH } from '../../src/classifier/classifier-store.js';
import { districtRules } from '../../src/classifier/district-rules.js';
import { parseExamplesJsonl, parseTextsJsonl, PhraseRuleSet, type PhraseRule, type RuleMatch } from '../../src/classifier/engine/index.js';
import { createRng } from '../../src/classifier/engine/rng.js';
import { foldForMatching, type FoldedText } from '../../src/classifier/engine/text-analyzer.js';
import { noComplaintOptions } from '../../src/classifier/no-complaint.js';
import { loadDistrictFile } from '../../src/district/district-file.js';

/**
 * PhraseRuleSet finds all its phrases in one pass over a text. What it finds must be what
 * searching for each phrase in turn finds (as it did before): this is that search.
 */
function reference(rules: readonly PhraseRule[], types: readonly string[]) {
  const known = new Set(types);
  const compiled = rules
    .filter((rule) => known.has(rule.type))
    .map((rule) => {
      const folded = foldForMatching(rule.text).text;
      return { rule, folded, wordStart: /^[a-z0-9]/.test(folded) };
    })
    .sort((a, b) => b.folded.length - a.folded.length);
  const startsWord = (folded: FoldedText, at: number): boolean =>
    at === 0 || folded.end[at - 1]! < folded.start[at]! || !/^[a-z0-9]$/.test(folded.text[at - 1]!);
  const find = (text: string, every: boolean): RuleMatch[] => {
    const folded = foldForMatching(text);
    const matches: RuleMatch[] = [];
    const spans = new Map<string, Array<[number, number]>>();
    for (const { rule, folded: phrase, wordStart } of compiled) {
      const typeSpans = spans.get(rule.type) ?? [];
      spans.set(rule.type, typeSpans);
      // Every occurrence of a phrase covers the shorter ones inside it; without `every` a rule is given once, where it
      // first occurs outside them.
      let taken = false;
      for (let at = folded.text.indexOf(phrase); at >= 0; at = folded.text.indexOf(phrase, at + 1)) {
        if (wordStart && !startsWord(folded, at)) continue;
        const to = at + phrase.length;
        if (!typeSpans.some(([s, e]) => at >= s && to <= e)) {
          typeSpans.push([at, to]);
          if (every || !taken) matches.push({ rule, start: folded.start[at]!, end: folded.end[to - 1]! });
          taken = true;
        }
      }
    }
    return matches;
  };
  return {
    match: (text: string) => find(text, false),
    matchEvery: (text: string) => find(text, true).sort((a, b) => a.start - b.start || b.end - a.end),
  };
}

function expectSameAsReference(rules: readonly PhraseRule[], types: readonly string[], texts: readonly string[]): number {
  const set = new PhraseRuleSet(rules, types, 'ignore');
  const naive = reference(rules, types);
  let found = 0;
  for (const text of texts) {
    const expected = naive.match(text);
    // The same rules (the same objects), at the same offsets, in the same order.
    expect(set.match(text), text).toEqual(expected);
    expect(set.match(text).every((m, i) => m.rule === expected[i]!.rule)).toBe(true);
    expect(set.match(foldForMatching(text)), text).toEqual(expected);
    expect(set.matchEvery(text), text).toEqual(naive.matchEvery(text));
    found += expected.length;
  }
  return found;
}

describe('PhraseRuleSet', () => {
  const district = loadDistrictFile();
  const data = (name: string): string => readFileSync(new URL(`../../src/classifier/data/${name}`, import.meta.url), 'utf8');
  const texts = [
    ...parseExamplesJsonl(readFileSync(DEFAULT_EXAMPLES_PATH, 'utf8')).map((e) => e.text),
    ...parseExamplesJsonl(readFileSync(DEFAULT_HELDOUT_PATH, 'utf8')).map((e) => e.text),
    ...parseExamplesJsonl(data('heldout.en.jsonl')).map((e) => e.text),
    ...parseExamplesJsonl(data('complaint-short.heldout.jsonl'), { allowedLabels: [...district.types.keys()] }).map((e) => e.text),
    ...parseTextsJsonl(readFileSync(NO_COMPLAINT_PATH, 'utf8')),
    ...parseTextsJsonl(data('no-complaint.heldout.jsonl')),
  ];

  it('finds what a search phrase by phrase finds, in every example, held-out and no-complaint text', () => {
    expect(texts.length).toBeGreaterThan(2000);
    // The district's phrase rules, the complaint check's place names, the urgency phrases in Latin letters.
    const rules = districtRules(district);
    expect(expectSameAsReference(rules, [...district.types.keys()], texts)).toBeGreaterThan(1000);
    const { places } = noComplaintOptions(readFileSync(NO_COMPLAINT_PATH, 'utf8'), district);
    expect(expectSameAsReference(places.map((text) => ({ type: 'place', text, weight: 1 })), ['place'], texts)).toBeGreaterThan(300);
    const urgent = district.file.urgency.phrases.filter((p) => /^[a-z0-9]/i.test(p)).map((text) => ({ type: 'urgent', text, weight: 1 }));
    expectSameAsReference(urgent, ['urgent'], texts);
  });

  it('finds what a search phrase by phrase finds where phrases overlap, repeat, hold one another or share their text', () => {
    // A small alphabet makes phrases occur often, overlap, repeat and end inside one another.
    const rng = createRng(20261207);
    const pick = (alphabet: readonly string[], length: number): string =>
      Array.from({ length }, () => alphabet[Math.floor(rng() * alphabet.length)]!).join('');
    const alphabet = ['a', 'b', 'A', 'Ａ', '1', '盐', '下', '村', ' ', '，', "'", '’'];
    const types = ['t1', 't2', 't3'];
    for (let round = 0; round < 40; round++) {
      const rules: PhraseRule[] = [];
      const count = 1 + Math.floor(rng() * 12);
      for (let i = 0; i < count; i++) {
        const text = pick(alphabet.filter((c) => c !== ' '), 1 + Math.floor(rng() * 4));
        if (foldForMatching(text).text.length === 0) continue;
        rules.push({ type: types[Math.floor(rng() * types.length)]!, text, weight: 1 });
        // The same phrase for another type, or again for the same.
        if (rng() < 0.2) rules.push({ type: types[Math.floor(rng() * types.length)]!, text, weight: 2 });
      }
      if (rules.length === 0) continue;
      const samples = Array.from({ length: 50 }, () => pick(alphabet, Math.floor(rng() * 30)));
      expectSameAsReference(rules, types, samples);
    }
  });

  it('finds nothing without rules, and in an empty text', () => {
    const none = new PhraseRuleSet([], ['t']);
    expect(none.match('anything')).toEqual([]);
    expect(none.matchEvery('anything')).toEqual([]);
    const some = new PhraseRuleSet([{ type: 't', text: '噪音', weight: 1 }], ['t']);
    expect(some.match('')).toEqual([]);
    expect(some.matchEvery('  ')).toEqual([]);
  });
});

/**
 * What the complaint check reads (see linear.classifier.ts, `noComplaint`):
 * a text without the district's place names and without the words that say a
 * complaint is made, whole and clause by clause.
 */
import type { LabelledExample } from './examples.js';
import { PhraseRuleSet, type PhraseRule } from './phrase-rules.js';
import type { FoldedText } from './text-analyzer.js';

/** The labels of the check's two classes. */
export const COMPLAINT = 'complaint';
export const NO_COMPLAINT = 'no_complaint';

/** A clause: what lies between sentence and clause punctuation, full-width or not, and line breaks. */
const CLAUSE = /[^，,。.！!？?；;：:、（）()\n\r]+/g;
/** Anything that can say what happened: a letter, an ideograph or a digit. */
const WORDS = /[\p{L}\p{N}]/u;

/**
 * The district's place names, matched as phrase rules are (in any case and
 * width, across spaces, Latin names where a word starts). A place says where,
 * not what: the check reads a text without them, so 盐下村 alone is nothing,
 * and 盐下村有人倒废机油 is as much a complaint as 有人倒废机油.
 */
export class PlaceNames {
  private readonly set: PhraseRuleSet;

  constructor(readonly names: readonly string[]) {
    const rules: PhraseRule[] = [...new Set(names)].filter((n) => WORDS.test(n)).map((text) => ({ type: 'place', text, weight: 1 }));
    this.set = new PhraseRuleSet(rules, ['place']);
  }

  /**
   * The text with every place named in it, as often as it is named, replaced by a clause
   * break (`folded`: the text folded for matching, when it is at hand). Of places that
   * overlap, the one that starts first is taken out (the longer one where they start together).
   */
  strip(text: string, folded?: FoldedText): string {
    const spans = this.set.matchEvery(folded ?? text);
    let out = '';
    let at = 0;
    for (const { start, end } of spans) {
      if (start < at) continue;
      out += `${text.slice(at, start)}，`;
      at = end;
    }
    return out + text.slice(at);
  }
}

/**
 * The words that say a complaint is made — 投诉, 举报, 检举, report, complain —
 * say nothing of whether the message holds one: 我要投诉 and 怎么举报 do not,
 * 投诉李四私自焚烧秸秆 does. The messages without a complaint hold many of them
 * (asking how to complain, saying one wants to), the examples few (a report
 * says what happened), so read as features they made the check take a short
 * complaint that opens with one for a question about the service.
 */
const COMPLAINING = /投诉|举报|检举|\b(?:report(?:s|ed|ing)?|complain(?:s|ed|ing|ts?)?)\b/giu;

/**
 * A text as the check reads it: without its places and the words that say a
 * complaint is made, each replaced by a clause break (投诉李四私自焚烧秸秆 reads
 * as ，李四私自焚烧秸秆; 我要投诉隔壁的噪音 as 我要 and 隔壁的噪音).
 */
export function checkedText(text: string, places: PlaceNames, folded?: FoldedText): string {
  return places.strip(text, folded).replace(COMPLAINING, '，');
}

/** The parts the check reads of a text as `checkedText` gives it: the whole and, when there are several, each clause. */
export function checkedParts(stripped: string): string[] {
  if (!WORDS.test(stripped)) return [];
  const clauses = clauseSpans(stripped);
  return clauses.length > 1 ? [stripped, ...clauses.map(([start, end]) => stripped.slice(start, end))] : [stripped];
}

/** Where the clauses that hold words are in a text as `checkedText` gives it: [start, end) pairs, in order. */
export function clauseSpans(stripped: string): Array<[number, number]> {
  const spans: Array<[number, number]> = [];
  for (const m of stripped.matchAll(CLAUSE)) if (WORDS.test(m[0])) spans.push([m.index, m.index + m[0].length]);
  return spans;
}

/** Whether a text as `checkedText` gives it holds anything the check reads. */
export function hasWords(stripped: string): boolean {
  return WORDS.test(stripped);
}

/**
 * The check's examples: every example and every phrase of the rules (what the
 * district's complaints are about, and short: without them, any short text
 * would look like no complaint) as a complaint, the `noComplaint` texts as
 * none; all as the check reads them (`checkedText`).
 */
export function complaintCheckExamples(
  examples: readonly LabelledExample[],
  noComplaint: readonly string[],
  rules: readonly PhraseRule[],
  places: PlaceNames,
): LabelledExample[] {
  const all = [
    ...examples.map((e) => ({ text: e.text, label: COMPLAINT })),
    ...[...new Set(rules.map((r) => r.text))].map((text) => ({ text, label: COMPLAINT })),
    ...noComplaint.map((text) => ({ text, label: NO_COMPLAINT })),
  ];
  return all.map((e) => ({ ...e, text: checkedText(e.text, places) })).filter((e) => WORDS.test(e.text));
}

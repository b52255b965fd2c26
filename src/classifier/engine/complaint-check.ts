/**
 * What the complaint check reads (see linear.classifier.ts, `noComplaint`):
 * a text without the district's place names, whole and clause by clause.
 */
import type { LabelledExample } from './examples.js';
import { PhraseRuleSet, type PhraseRule } from './phrase-rules.js';

/** The labels of the check's two classes. */
export const COMPLAINT = 'complaint';
export const NO_COMPLAINT = 'no_complaint';

/** Where a clause ends: sentence and clause punctuation, full-width or not, and line breaks. */
const CLAUSE_BREAK = /[，,。.！!？?；;：:、（）()\n\r]+/;
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

  /** The text with every place named in it replaced by a clause break. */
  strip(text: string): string {
    const spans = this.set.match(text).sort((a, b) => a.start - b.start);
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

/** The parts the check reads of a text without its places: the whole and, when there are several, each clause. */
export function checkedParts(stripped: string): string[] {
  if (!WORDS.test(stripped)) return [];
  const clauses = stripped.split(CLAUSE_BREAK).filter((c) => WORDS.test(c));
  return clauses.length > 1 ? [stripped, ...clauses] : [stripped];
}

/**
 * The check's examples: every example and every phrase of the rules (what the
 * district's complaints are about, and short: without them, any short text
 * would look like no complaint) as a complaint, the `noComplaint` texts as
 * none; all without their place names, as the check reads them.
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
  return all.map((e) => ({ ...e, text: places.strip(e.text) })).filter((e) => WORDS.test(e.text));
}

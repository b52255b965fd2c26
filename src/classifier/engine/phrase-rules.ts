/**
 * District phrase rules as priors on top of the trained model.
 *
 * A rule `{ type, text, weight }` fires when its phrase occurs in the input
 * (NFKC, case-insensitive, ignoring whitespace so it also matches
 * pre-segmented text). Each firing rule multiplies the odds of its type by
 * exp(weight × ruleScale), i.e. adds weight × ruleScale to that type's
 * log-probability before renormalising — the same arithmetic as a likelihood
 * ratio in Bayes' rule. A rule counts once however often its phrase occurs,
 * and a phrase inside a longer firing phrase of the same type does not count
 * again (as in the rule classifier of the pipeline). A phrase that starts with
 * a Latin letter or digit fires only where a word starts ("dust" not in
 * "industrial", "oil" not in "soil"); it may end inside one ("pesticide" in
 * "pesticides").
 *
 * `match` gives the rules that fire, each once (at its first occurrence not
 * inside a longer firing phrase of its type);
 * `matchEvery` gives every occurrence, for taking the phrases out of a text
 * (the complaint check's places, named twice in 盐下村到盐下村).
 *
 * All phrases are found in one pass over the folded text (an Aho–Corasick
 * automaton over its UTF-16 code units, which finds what `indexOf` would:
 * every occurrence, overlapping ones too), not one search per phrase.
 */
import { AhoCorasick } from '@monyone/aho-corasick/fast';
import { digest } from './hashing.js';
import { foldForMatching, type FoldedText } from './text-analyzer.js';

export interface PhraseRule {
  type: string;
  text: string;
  weight: number;
}

export interface RuleMatch {
  readonly rule: PhraseRule;
  /** Input offsets of the first occurrence. */
  readonly start: number;
  readonly end: number;
}

interface CompiledRule {
  readonly rule: PhraseRule;
  readonly folded: string;
  /** Starts with a Latin letter or digit: fires only at the start of a word. */
  readonly wordStart: boolean;
}

const LATIN_ALNUM = /^[a-z0-9]$/;

/** Whether the folded unit at `at` starts a word: no Latin letter or digit right before it in the input. */
function startsWord(folded: FoldedText, at: number): boolean {
  if (at === 0) return true;
  // Whitespace dropped between the two units: they were separate words.
  if (folded.end[at - 1]! < folded.start[at]!) return true;
  return !LATIN_ALNUM.test(folded.text[at - 1]!);
}

export class PhraseRuleSet {
  private readonly compiled: CompiledRule[];
  /** The distinct folded phrases, all found in one pass over a text (null without rules). */
  private readonly automaton: AhoCorasick | null;
  /** Of each distinct folded phrase, the compiled rules that have it (indices into `compiled`, ascending). */
  private readonly rulesOf = new Map<string, number[]>();
  /** Rules left out because their type is not one of the model's labels. */
  readonly ignored: readonly PhraseRule[];
  /** Stable digest of the rules, part of the engine version string. */
  readonly digest: string;

  /**
   * @param knownTypes the model's labels. A rule for another type can never
   *   win: with `unknownTypes: 'error'` it is an error (a typo in the district
   *   file?), with 'ignore' it is left out and listed in `ignored` (a type the
   *   examples do not cover yet).
   */
  constructor(
    rules: readonly PhraseRule[],
    knownTypes: readonly string[],
    unknownTypes: 'error' | 'ignore' = 'error',
  ) {
    const known = new Set(knownTypes);
    const ignored: PhraseRule[] = [];
    this.compiled = [];
    rules.forEach((rule, i) => {
      const where = `phrase rule #${i + 1} (${JSON.stringify(rule.text)})`;
      if (typeof rule.text !== 'string' || foldForMatching(rule.text).text.length === 0) {
        throw new Error(`${where}: empty phrase`);
      }
      if (typeof rule.weight !== 'number' || !Number.isFinite(rule.weight)) {
        throw new Error(`${where}: weight must be a finite number`);
      }
      if (!known.has(rule.type)) {
        if (unknownTypes === 'ignore') {
          ignored.push(rule);
          return;
        }
        throw new Error(`${where}: type ${JSON.stringify(rule.type)} is not one of the model's labels (${knownTypes.join(', ')})`);
      }
      const phrase = foldForMatching(rule.text).text;
      this.compiled.push({ rule, folded: phrase, wordStart: LATIN_ALNUM.test(phrase[0]!) });
    });
    this.ignored = ignored;
    // Longer phrases first, so containment can be checked against them.
    this.compiled.sort((a, b) => b.folded.length - a.folded.length);
    this.compiled.forEach(({ folded }, i) => {
      const rules = this.rulesOf.get(folded);
      if (rules) rules.push(i);
      else this.rulesOf.set(folded, [i]);
    });
    this.automaton = this.compiled.length > 0 ? new AhoCorasick([...this.rulesOf.keys()]) : null;
    this.digest = digest(this.compiled.map((c) => `${c.rule.type}\u0001${c.folded}\u0001${c.rule.weight}`).sort());
  }

  get size(): number {
    return this.compiled.length;
  }

  /**
   * The rules that fire, longer phrases first (in the order given among phrases
   * as long), each at its first occurrence that does not lie inside an
   * occurrence of a longer firing phrase of its type: a rule found only inside
   * such phrases does not fire, and one found inside one and alone further on
   * fires there. For each rule, the first of its occurrences `matchEvery` gives.
   */
  match(input: string | FoldedText): RuleMatch[] {
    return this.find(input, false);
  }

  /**
   * Every occurrence of every phrase, in the order of the text (at the same
   * start, the longer phrase first), but an occurrence inside a longer one of
   * its type already found; where each phrase occurs once at most, the same
   * occurrences as `match` gives. Occurrences of different phrases may overlap.
   */
  matchEvery(input: string | FoldedText): RuleMatch[] {
    return this.find(input, true).sort((a, b) => a.start - b.start || b.end - a.end);
  }

  /**
   * The rules' occurrences, rule by rule in the order of `compiled` and each
   * rule's in the order of the text: its first one only unless `every`. An
   * occurrence inside a longer one of its type already taken is left out (and
   * every occurrence taken covers, whether it is given or not).
   */
  private find(input: string | FoldedText, every: boolean): RuleMatch[] {
    if (!this.automaton) return [];
    const folded = typeof input === 'string' ? foldForMatching(input) : input;
    // Where each phrase occurs, in the order of the text (the automaton gives
    // occurrences by where they end, so one phrase's by where they start), and
    // only where a word starts for a phrase that must start one.
    // Every occurrence is kept, also for `match`: a rule's first occurrence may lie inside a longer phrase of its type
    // where a later one stands alone, and every occurrence of a longer phrase covers the shorter ones inside it.
    const starts = new Map<string, number[]>();
    for (const { begin, keyword } of this.automaton.matchInText(folded.text)) {
      const found = starts.get(keyword);
      if (this.compiled[this.rulesOf.get(keyword)![0]!]!.wordStart && !startsWord(folded, begin)) continue;
      if (found) found.push(begin);
      else starts.set(keyword, [begin]);
    }
    if (starts.size === 0) return [];
    const firing = [...starts.keys()].flatMap((phrase) => this.rulesOf.get(phrase)!).sort((a, b) => a - b);
    const matches: RuleMatch[] = [];
    const spans = new Map<string, Array<[number, number]>>();
    for (const i of firing) {
      const { rule, folded: phrase } = this.compiled[i]!;
      let typeSpans = spans.get(rule.type);
      if (!typeSpans) spans.set(rule.type, (typeSpans = []));
      let taken = false;
      for (const at of starts.get(phrase)!) {
        const to = at + phrase.length;
        if (typeSpans.some(([s, e]) => at >= s && to <= e)) continue;
        typeSpans.push([at, to]);
        if (every || !taken) matches.push({ rule, start: folded.start[at]!, end: folded.end[to - 1]! });
        taken = true;
      }
    }
    return matches;
  }
}

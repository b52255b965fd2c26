import { PhraseRuleSet } from '../classifier/engine/index.js';
import type { District } from '../district/district.schema.js';
import type { Classification, Classifier, Evidence } from './classifier.js';

/**
 * Keyword/phrase rules from the district file. Each type's score is the sum
 * of the weights of its phrases found in the text (each phrase counted once,
 * and a phrase contained in a longer matched phrase of the same type does not
 * count again; PhraseRuleSet matches them). Confidence grows with the winning
 * score and shrinks with the runner-up's, so a lone weak phrase (weight below
 * ~2) or a tie lands in triage.
 */
export function createRuleClassifier(district: District): Classifier {
  const rules = district.file.types.flatMap((t) =>
    t.phrases.map((p) => ({ type: t.code, text: p.text, weight: p.weight })),
  );
  // Matched as the trained model's rules are: in any case and width, across spaces, and a
  // phrase in Latin letters only where a word starts ("dust" is not in "industrial").
  const ruleSet = new PhraseRuleSet(rules, district.file.types.map((t) => t.code));

  return {
    classify(text: string): Classification {
      const scores = new Map<string, number>();
      const evidence = new Map<string, Evidence[]>();
      for (const { rule, start, end } of ruleSet.match(text)) {
        scores.set(rule.type, (scores.get(rule.type) ?? 0) + rule.weight);
        const list = evidence.get(rule.type) ?? [];
        list.push({ phrase: text.slice(start, end), weight: rule.weight, source: 'rule', start, end });
        evidence.set(rule.type, list);
      }
      const ranked = [...scores.entries()].sort((a, b) => b[1] - a[1]);
      const [best, second] = ranked;
      if (!best) return { type: null, confidence: 0, runnerUp: null, evidence: [], engine: 'rules@1' };
      const s1 = best[1];
      const s2 = second?.[1] ?? 0;
      const confidence = (1 - Math.exp(-s1 / 3)) * (s1 / (s1 + s2));
      const runnerUpConfidence = second ? (1 - Math.exp(-s2 / 3)) * (s2 / (s1 + s2)) : 0;
      return {
        type: best[0],
        confidence: round(confidence),
        runnerUp: second ? { type: second[0], confidence: round(runnerUpConfidence) } : null,
        evidence: (evidence.get(best[0]) ?? []).sort((a, b) => b.weight - a.weight),
        engine: 'rules@1',
      };
    },
  };
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/**
 * Baseline for benchmarks: multinomial naive Bayes over word unigrams and
 * bigrams (the same tokenisation as the linear model), Laplace/Lidstone
 * smoothing. Its posteriors are famously over-confident; it is here to be
 * beaten, not shipped.
 */
import type { Classification, Classifier, Evidence } from '../../pipeline/classifier.js';
import { validateExamples, type LabelledExample } from './examples.js';
import { DistinctFeatures, FeatureExtractor, type FeatureOptions } from './features.js';
import { HashIndex } from './hashing.js';

export interface NaiveBayesOptions {
  /** Additive smoothing (default 0.1, chosen by cross-validation; 1 = Laplace). */
  alpha?: number;
  wordBigrams?: boolean;
}

const NB_FEATURES: FeatureOptions = {
  charNgramMin: 0,
  charNgramMax: 0,
  words: true,
  wordBigrams: true,
  foldDigits: true,
  maxPresegmentedWord: 4,
  charNgramsAcrossSpaces: true,
};

export class NaiveBayesClassifier implements Classifier {
  readonly engine = 'naive-bayes@1';
  private readonly distinct = new DistinctFeatures();

  constructor(
    readonly labels: readonly string[],
    private readonly extractor: FeatureExtractor,
    private readonly index: HashIndex,
    /** log P(feature | class), feature-major. */
    private readonly logLikelihood: Float64Array,
    private readonly logPrior: Float64Array,
  ) {}

  classify(text: string): Classification {
    const k = this.labels.length;
    const occ = this.extractor.extract(text);
    const n = this.distinct.count(occ);
    const { hashA, hashB, tf, first } = this.distinct;
    const joint = Float64Array.from(this.logPrior);
    const seen: Array<{ f: number; j: number }> = [];
    for (let j = 0; j < n; j++) {
      const f = this.index.get(hashA[j]!, hashB[j]!);
      if (f < 0) continue; // unseen in training: same factor for every class
      seen.push({ f, j });
      for (let c = 0; c < k; c++) joint[c]! += tf[j]! * this.logLikelihood[f * k + c]!;
    }
    if (seen.length === 0) return { type: null, confidence: 0, runnerUp: null, evidence: [], engine: this.engine };
    let max = -Infinity;
    for (let c = 0; c < k; c++) max = Math.max(max, joint[c]!);
    let sum = 0;
    for (let c = 0; c < k; c++) sum += joint[c] = Math.exp(joint[c]! - max);
    const order = [...joint.keys()].sort((a, b) => joint[b]! - joint[a]!);
    const best = order[0]!;
    const second = order[1]!;
    // Evidence: features most in favour of the winner over the average class.
    const evidence: Evidence[] = seen
      .map(({ f, j }) => {
        let mean = 0;
        for (let c = 0; c < k; c++) mean += this.logLikelihood[f * k + c]! / k;
        const o = first[j]!;
        return {
          phrase: text.slice(occ.start[o]!, occ.end[o]!),
          weight: Math.round(tf[j]! * (this.logLikelihood[f * k + best]! - mean) * 1000) / 1000,
          source: 'model' as const,
          start: occ.start[o]!,
          end: occ.end[o]!,
        };
      })
      .filter((e) => e.weight > 0)
      .sort((a, b) => b.weight - a.weight)
      .slice(0, 8);
    return {
      type: this.labels[best]!,
      confidence: joint[best]! / sum,
      runnerUp: { type: this.labels[second]!, confidence: joint[second]! / sum },
      evidence,
      engine: this.engine,
    };
  }
}

export function trainNaiveBayes(
  examples: readonly LabelledExample[],
  options: NaiveBayesOptions = {},
): NaiveBayesClassifier {
  validateExamples(examples);
  const alpha = options.alpha ?? 0.1;
  const labels = [...new Set(examples.map((e) => e.label))].sort();
  if (labels.length < 2) throw new Error(`need examples of at least two labels, got ${labels.length}`);
  const k = labels.length;
  const labelOf = new Map(labels.map((l, i) => [l, i]));
  const extractor = new FeatureExtractor({ ...NB_FEATURES, wordBigrams: options.wordBigrams ?? true });
  const distinct = new DistinctFeatures();
  const index = new HashIndex(1 << 16);
  let counts = new Float64Array(1 << 16);
  let size = 0;
  const classTotal = new Float64Array(k);
  const classDocs = new Float64Array(k);
  for (const ex of examples) {
    const c = labelOf.get(ex.label)!;
    classDocs[c]!++;
    const n = distinct.count(extractor.extract(ex.text));
    for (let j = 0; j < n; j++) {
      const f = index.getOrInsert(distinct.hashA[j]!, distinct.hashB[j]!, size);
      if (f === size) {
        size++;
        if (size * k > counts.length) {
          const next = new Float64Array(counts.length * 2);
          next.set(counts);
          counts = next;
        }
      }
      counts[f * k + c]! += distinct.tf[j]!;
      classTotal[c]! += distinct.tf[j]!;
    }
  }
  const logLikelihood = new Float64Array(size * k);
  for (let c = 0; c < k; c++) {
    const denominator = Math.log(classTotal[c]! + alpha * size);
    for (let f = 0; f < size; f++) logLikelihood[f * k + c] = Math.log(counts[f * k + c]! + alpha) - denominator;
  }
  const logPrior = Float64Array.from(classDocs, (d) => Math.log(d / examples.length));
  return new NaiveBayesClassifier(labels, extractor, index, logLikelihood, logPrior);
}

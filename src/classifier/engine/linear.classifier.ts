/**
 * The trained text classifier: TF-IDF over character n-grams, words and word
 * bigrams → one-vs-rest linear SVM → temperature-calibrated probabilities,
 * pulled towards uniform for unfamiliar text, with district phrase rules as
 * priors. Pure: no I/O; the caller reads examples and caches the artifact.
 *
 *   const model = trainClassifier(examples, { rules });
 *   const json = model.toJSON();            // cache it
 *   const again = loadModel(json, rules);   // at start-up
 *   again.classify('……厂子晚上往沟里排黑水');
 *
 * Given texts that hold no complaint (`noComplaint`: greetings, thanks,
 * questions about the service, a place's name alone), it also learns to
 * tell a complaint from such a message, and a type's confidence is the
 * probability that the text is a complaint times that of the type among
 * complaints (see `complaintProbability`).
 */
import type { Classification, Classifier, Evidence, TypeScore } from '../../pipeline/classifier.js';
import { decodeFloat32, decodeInt32, encodeBase64 } from './base64.js';
import { calibratedProbabilities, familiarity, fitCalibration, isLatinText, type CalibrationSample } from './calibration.js';
import { checkedText, clauseSpans, COMPLAINT, complaintCheckExamples, hasWords, NO_COMPLAINT, PlaceNames } from './complaint-check.js';
import { blockScales, buildCorpus, buildSpace, sublinearTf, vectorize, type BlockScales, type SparseRows } from './corpus.js';
import { evaluatePredictions } from './evaluate.js';
import { hashExamples, validateExamples, type LabelledExample } from './examples.js';
import { blockOf, DistinctFeatures, FeatureExtractor, FeatureKind, type FeatureOptions, type Occurrences } from './features.js';
import { digest, HashIndex } from './hashing.js';
import { PhraseRuleSet, type PhraseRule, type RuleMatch } from './phrase-rules.js';
import { createRng } from './rng.js';
import { trainOneVsRest, type SvmOptions } from './svm-solver.js';
import { blankLinks, foldForMatching, type FoldedText } from './text-analyzer.js';

/** Everything that shapes the trained weights (stored in the artifact and its fingerprint). */
export interface LinearModelOptions extends FeatureOptions, Omit<SvmOptions, 'seed' | 'nbSmoothing'> {
  /**
   * Naive-Bayes feature scaling of the SVM (see svm-solver.ts): its smoothing,
   * 0 for none, or 'auto' to let the calibration folds choose between
   * 0 and 1 by held-out macro-F1.
   */
  nbSmoothing: number | 'auto';
  /** Features seen in fewer training texts are dropped. */
  minDf: number;
  /** Weight of the word block relative to the character block. */
  wordWeight: number;
  /** Stratified folds for calibration. */
  calibrationFolds: number;
  /** Folds are run until this many held-out texts were scored (at most all folds). */
  calibrationHeldOut: number;
  /**
   * γ in the familiarity factor (1 − u)^γ applied to the scores (see
   * calibration.ts), or 'auto': fitted with the temperature from 1, 1.5, 2, 3.
   */
  oodExponent: number | 'auto';
  seed: number;
}

/** How classification output is shaped; not part of the trained artifact. */
export interface RuntimeOptions {
  /** District phrase rules, added as priors (see phrase-rules.ts). */
  rules?: readonly PhraseRule[];
  /** Log-odds added per unit of rule weight (default 1). */
  ruleScale?: number;
  /** Longest evidence list (default 8). */
  maxEvidence?: number;
  /**
   * A rule whose type is not among the model's labels: 'error' (default) or
   * 'ignore' (left out, listed in `ignoredRules`, e.g. a new type that has
   * phrases in the district file but no examples yet).
   */
  unknownRuleTypes?: 'error' | 'ignore';
}

export interface TrainOptions extends Partial<Omit<LinearModelOptions, 'minDf'>>, RuntimeOptions {
  /** Default: 2 (a phrase must occur in two texts to count), 1 below 500 examples. */
  minDf?: number;
  /** Labels an example may carry; others are an error. */
  allowedLabels?: readonly string[];
  /**
   * Messages that hold no complaint of any type (greetings, thanks, questions
   * about the service, a place's name or a phone number alone). Given, the
   * model also learns to tell the examples — every one a complaint — from
   * them, and scales its confidences by how sure it is that a text is one.
   */
  noComplaint?: readonly string[];
  /**
   * The district's place names (in any language): the complaint check reads
   * a text without them, and a text that names nothing else holds no complaint.
   */
  places?: readonly string[];
}

/** A complaint check this sure of a text is not asked about its clauses (see `complaintProbability`). */
const SURE_COMPLAINT = 0.999;

/** log(x / (1 − x)), x kept below 1. */
function logOdds(x: number): number {
  return Math.log(x) - Math.log1p(-Math.min(x, 1 - 1e-12));
}

export const DEFAULT_OPTIONS: Readonly<Omit<LinearModelOptions, 'minDf'>> = {
  charNgramMin: 1,
  charNgramMax: 3,
  words: true,
  wordBigrams: true,
  foldDigits: true,
  maxPresegmentedWord: 4,
  charNgramsAcrossSpaces: false,
  wordWeight: 1,
  C: 2,
  loss: 'squared-hinge',
  classWeight: 'balanced',
  tolerance: 0.1,
  maxIterations: 200,
  calibrationFolds: 4,
  calibrationHeldOut: 1500,
  oodExponent: 'auto',
  seed: 1,
  nbSmoothing: 'auto',
};

/** What nbSmoothing 'auto' chooses from (plain SVM first: it wins ties). */
const AUTO_NB_SMOOTHING: readonly number[] = [0, 1];
/** What oodExponent 'auto' chooses from. */
const AUTO_OOD_EXPONENTS: readonly number[] = [1, 1.5, 2, 3];

export const MODEL_FORMAT = 'complaint-classifier/linear';
/**
 * Bumped whenever an artifact would mean something else to this code: its
 * layout, but also tokenisation, feature hashing or scoring. It is part of
 * every fingerprint, so a cache keyed on the fingerprint goes stale with it.
 */
export const MODEL_VERSION = 8;

export interface CrossValidation {
  /** Held-out texts scored by fold models. */
  heldOut: number;
  accuracy: number;
  macroF1: number;
}

/** The serialised model (JSON-safe; typed arrays as little-endian base64). */
export interface LinearModelJson {
  format: typeof MODEL_FORMAT;
  version: typeof MODEL_VERSION;
  /** digest(dataHash, optionsHash, version): equal fingerprints, equal models. */
  fingerprint: string;
  dataHash: string;
  optionsHash: string;
  options: LinearModelOptions;
  labels: string[];
  exampleCount: number;
  crossValidation: CrossValidation | null;
  /** The naive-Bayes smoothing the weights were trained with (0 = none). */
  nbSmoothingUsed: number;
  temperature: number;
  /** Temperature of texts written mostly in Latin letters (see calibration.ts). */
  latinTemperature: number;
  /** γ of the familiarity factor in use. */
  oodExponent: number;
  idfUnknown: number;
  featureCount: number;
  /** Two int32 hashes per feature (see features.ts). */
  featureHashes: string;
  idf: string;
  /** float32, feature-major: weights[f * labels.length + k]. */
  weights: string;
  bias: number[];
  /**
   * The complaint check (complaint vs no complaint, same format), trained
   * when `noComplaint` texts were given; null otherwise.
   */
  complaintModel: LinearModelJson | null;
  /** The place names the check reads texts without. */
  complaintPlaces: string[];
  /** The share of complaints among the check's training texts (0 without a check). */
  complaintShare: number;
}

export function resolveOptions(exampleCount: number, options: TrainOptions = {}): LinearModelOptions {
  const pick = <K extends keyof typeof DEFAULT_OPTIONS>(key: K): (typeof DEFAULT_OPTIONS)[K] =>
    (options[key] ?? DEFAULT_OPTIONS[key]) as (typeof DEFAULT_OPTIONS)[K];
  const resolved: LinearModelOptions = {
    charNgramMin: pick('charNgramMin'),
    charNgramMax: pick('charNgramMax'),
    words: pick('words'),
    wordBigrams: pick('wordBigrams'),
    foldDigits: pick('foldDigits'),
    maxPresegmentedWord: pick('maxPresegmentedWord'),
    charNgramsAcrossSpaces: pick('charNgramsAcrossSpaces'),
    minDf: options.minDf ?? (exampleCount >= 500 ? 2 : 1),
    wordWeight: pick('wordWeight'),
    C: pick('C'),
    loss: pick('loss'),
    classWeight: pick('classWeight'),
    tolerance: pick('tolerance'),
    maxIterations: pick('maxIterations'),
    calibrationFolds: pick('calibrationFolds'),
    calibrationHeldOut: pick('calibrationHeldOut'),
    oodExponent: pick('oodExponent'),
    seed: pick('seed'),
    nbSmoothing: pick('nbSmoothing'),
  };
  if (resolved.charNgramMax > 0 && (resolved.charNgramMin < 1 || resolved.charNgramMin > resolved.charNgramMax)) {
    throw new Error(`charNgramMin must be between 1 and charNgramMax (${resolved.charNgramMax})`);
  }
  if (resolved.charNgramMax <= 0 && !resolved.words && !resolved.wordBigrams) {
    throw new Error('no features enabled: set charNgramMax > 0, words or wordBigrams');
  }
  if (!(resolved.C > 0)) throw new Error('C must be positive');
  if (!(resolved.minDf >= 1)) throw new Error('minDf must be at least 1');
  if (!(resolved.wordWeight > 0)) throw new Error('wordWeight must be positive');
  return resolved;
}

/** Fingerprint of a training run, to tell whether a cached artifact is stale. */
export function trainingFingerprint(
  examples: readonly LabelledExample[],
  options: TrainOptions = {},
): { fingerprint: string; dataHash: string; optionsHash: string } {
  const resolved = resolveOptions(examples.length, options);
  const noComplaint = options.noComplaint ?? [];
  // The complaint check also learns from the rules' phrases and reads texts without the places.
  const dataHash =
    noComplaint.length > 0
      ? digest([
          hashExamples(examples),
          hashExamples(complaintCheckExamples([], noComplaint, options.rules ?? [], new PlaceNames([]))),
          ...[...new Set(options.places ?? [])].sort(),
        ])
      : hashExamples(examples);
  const optionsHash = digest([canonicalJson(resolved)]);
  return { fingerprint: digest([MODEL_FORMAT, String(MODEL_VERSION), dataHash, optionsHash]), dataHash, optionsHash };
}

function canonicalJson(value: object): string {
  return JSON.stringify(value, Object.keys(value).sort());
}

interface ModelState {
  readonly options: LinearModelOptions;
  readonly labels: readonly string[];
  readonly fingerprint: string;
  readonly dataHash: string;
  readonly optionsHash: string;
  readonly exampleCount: number;
  readonly crossValidation: CrossValidation | null;
  readonly nbSmoothingUsed: number;
  readonly temperature: number;
  readonly latinTemperature: number;
  /** γ in use (the option, or what 'auto' chose). */
  readonly oodExponent: number;
  readonly idfUnknown: number;
  readonly featureHashes: Int32Array;
  readonly idf: Float32Array;
  readonly weights: Float32Array;
  readonly bias: Float64Array;
  /** Complaint vs no complaint (labels COMPLAINT, NO_COMPLAINT) and the places it reads texts without, or null. */
  readonly complaint: { readonly check: LinearClassifier; readonly places: PlaceNames; readonly share: number } | null;
}

/**
 * A trained model. Implements the pipeline's `Classifier`. Not safe to share
 * between threads (it keeps scratch buffers), which JavaScript never does.
 * Made by `trainClassifier` or `loadModel`, not constructed directly.
 */
export class LinearClassifier implements Classifier {
  readonly labels: readonly string[];
  readonly fingerprint: string;
  readonly crossValidation: CrossValidation | null;
  /** "linear@<hash>", the hash covering the model and its rules. */
  readonly engine: string;
  /** Rules left out by `unknownRuleTypes: 'ignore'`. */
  readonly ignoredRules: readonly PhraseRule[];

  private readonly state: ModelState;
  private readonly compiled: CompiledModel;
  private readonly extractor: FeatureExtractor;
  private readonly distinct = new DistinctFeatures();
  private readonly rules: PhraseRuleSet;
  private readonly ruleScale: number;
  private readonly maxEvidence: number;
  /** The complaint check extracts features as this model does (so it can read a text's features from `classify`). */
  private readonly checkSharesFeatures: boolean;
  private readonly k: number;
  private readonly scores: Float64Array;
  private readonly probs: Float64Array;
  /** Per-block partial scores: [char k..., word k...]. */
  private readonly partial: Float64Array;
  private knownFeature = new Int32Array(1024);
  private knownValue = new Float64Array(1024);
  private knownOcc = new Int32Array(1024);
  private knownBlock = new Uint8Array(1024);

  /** @internal */
  constructor(state: ModelState, runtime: RuntimeOptions = {}, compiled?: CompiledModel) {
    this.state = state;
    this.labels = state.labels;
    this.fingerprint = state.fingerprint;
    this.crossValidation = state.crossValidation;
    this.k = state.labels.length;
    this.scores = new Float64Array(this.k);
    this.probs = new Float64Array(this.k);
    this.partial = new Float64Array(2 * this.k);
    this.extractor = new FeatureExtractor(state.options);
    this.rules = new PhraseRuleSet(runtime.rules ?? [], state.labels, runtime.unknownRuleTypes);
    this.ignoredRules = this.rules.ignored;
    this.ruleScale = runtime.ruleScale ?? 1;
    this.maxEvidence = runtime.maxEvidence ?? 8;
    this.compiled = compiled ?? compile(state);
    this.checkSharesFeatures = state.complaint !== null && sameFeatures(state.options, state.complaint.check.state.options);
    this.engine = `linear@${digest([state.fingerprint, this.rules.size > 0 ? this.rules.digest : '', String(this.ruleScale)]).slice(0, 8)}`;
  }

  /** The same weights with other rules or output options (cheap: shares the lookup tables). */
  withRuntime(runtime: RuntimeOptions): LinearClassifier {
    return new LinearClassifier(this.state, runtime, this.compiled);
  }

  /**
   * The calibrated distribution of a text's features (`occ`, extracted from
   * `text`), left in `probs`, with the known features' values, blocks and
   * first occurrences in the scratch arrays (for the evidence): before the
   * phrase rules and the complaint check.
   */
  private score(text: string, occ: Occurrences): { known: number; scale: BlockScales; temperature: number } {
    const { k, state, scores, probs, partial } = this;
    const { index, filter, filterMask, rows } = this.compiled;
    const stride = k + 1;
    const n = this.distinct.count(occ);
    const { hashA, hashB, tf, first } = this.distinct;
    if (n > this.knownFeature.length) {
      this.knownFeature = new Int32Array(n);
      this.knownValue = new Float64Array(n);
      this.knownOcc = new Int32Array(n);
      this.knownBlock = new Uint8Array(n);
    }
    const { knownFeature, knownValue, knownOcc, knownBlock } = this;

    // 1. Which features the model knows. Kept to lookups alone so the CPU
    //    can overlap the cache misses; a bit filter answers most unknowns.
    let known = 0;
    let charSq = 0;
    let wordSq = 0;
    let charUnknownSq = 0;
    let wordUnknownSq = 0;
    for (let j = 0; j < n; j++) {
      const b = hashB[j]!;
      const bit = b & filterMask;
      const f = (filter[bit >>> 5]! & (1 << (bit & 31))) === 0 ? -1 : index.get(hashA[j]!, b);
      if (f >= 0) {
        knownFeature[known] = f;
        knownOcc[known++] = j;
        continue;
      }
      // Unknown: counts towards the norm with the idf of a never-seen feature.
      const v = sublinearTf(tf[j]!) * state.idfUnknown;
      if (blockOf(occ.kind[first[j]!]! as FeatureKind) === 0) {
        charSq += v * v;
        charUnknownSq += v * v;
      } else {
        wordSq += v * v;
        wordUnknownSq += v * v;
      }
    }

    // 2. TF-IDF weights and per-block partial scores in one pass over the
    //    model rows ([idf, w_1..w_K] per feature: one cache line or two).
    partial.fill(0);
    for (let q = 0; q < known; q++) {
      const j = knownOcc[q]!;
      const row = knownFeature[q]! * stride;
      const v = sublinearTf(tf[j]!) * rows[row]!;
      const block = blockOf(occ.kind[first[j]!]! as FeatureKind);
      knownValue[q] = v;
      knownBlock[q] = block;
      knownOcc[q] = first[j]!;
      const base = block * k;
      if (block === 0) charSq += v * v;
      else wordSq += v * v;
      for (let i = 0; i < k; i++) partial[base + i]! += v * rows[row + 1 + i]!;
    }
    const scale = blockScales(charSq, wordSq, charUnknownSq, wordUnknownSq, state.options.wordWeight);
    for (let i = 0; i < k; i++) scores[i] = state.bias[i]! + partial[i]! * scale.char + partial[k + i]! * scale.word;
    const temperature = isLatinText(text) ? state.latinTemperature : state.temperature;
    calibratedProbabilities(scores, temperature, scale.unknown, state.oodExponent, probs);
    return { known, scale, temperature };
  }

  classify(input: string): Classification {
    // A web address in the report is read as spaces: by the model, by the phrase rules, and in telling English from Chinese.
    const text = blankLinks(input);
    const { k, state, probs } = this;
    const occ = this.extractor.extract(text);
    const { known, scale, temperature } = this.score(text, occ);
    const logitScale = familiarity(scale.unknown, state.oodExponent) / temperature;

    // Phrase rules: each firing rule adds weight × scale to its type's log-odds. The text
    // is folded for them once, and the complaint check finds the places in it so too.
    const folded = this.rules.size > 0 || state.complaint ? foldForMatching(text) : null;
    const matches = folded ? this.rules.match(folded) : [];
    if (matches.length > 0) {
      const logp = new Float64Array(k);
      for (let i = 0; i < k; i++) logp[i] = Math.log(probs[i]!);
      for (const m of matches) {
        const i = this.labels.indexOf(m.rule.type);
        logp[i]! += m.rule.weight * this.ruleScale;
      }
      let max = -Infinity;
      for (let i = 0; i < k; i++) if (logp[i]! > max) max = logp[i]!;
      let sum = 0;
      for (let i = 0; i < k; i++) sum += probs[i] = Math.exp(logp[i]! - max);
      for (let i = 0; i < k; i++) probs[i]! /= sum;
    }

    if (known === 0 && matches.length === 0) {
      // Nothing in the text points anywhere: let a person decide.
      return { type: null, confidence: 0, runnerUp: null, evidence: [], engine: this.engine };
    }

    // A type is right only if the text is a complaint at all: a greeting or a
    // place's name alone leans towards some type as much as any short text
    // does, and the softmax above cannot say "none of them".
    if (state.complaint) {
      const complaint = this.complaintOf(text, matches, folded ?? undefined, occ);
      for (let i = 0; i < k; i++) probs[i]! *= complaint;
    }

    let best = 0;
    for (let i = 1; i < k; i++) if (probs[i]! > probs[best]!) best = i;
    let second = best === 0 ? 1 : 0;
    for (let i = 0; i < k; i++) if (i !== best && probs[i]! > probs[second]!) second = i;

    const evidence: Evidence[] = [];
    const taken: Array<[number, number]> = [];
    for (const m of matches) {
      if (m.rule.type !== this.labels[best]) continue;
      evidence.push({
        phrase: text.slice(m.start, m.end),
        weight: round(m.rule.weight * this.ruleScale, 3),
        source: 'rule',
        start: m.start,
        end: m.end,
      });
      taken.push([m.start, m.end]);
    }
    this.addModelEvidence(text, occ, known, best, scale, logitScale, evidence, taken);

    return {
      type: this.labels[best]!,
      confidence: probs[best]!,
      runnerUp: { type: this.labels[second]!, confidence: probs[second]! },
      evidence,
      engine: this.engine,
    };
  }

  /**
   * Of the complaint check: the probability that the text is a complaint of
   * some type rather than a message without one (a greeting, thanks, a
   * question about the service, a place's name alone); 1 for a model trained
   * without `noComplaint` texts, 0 for a text that names nothing but places
   * and the words that say a complaint is made (盐下村, 我要投诉 read as 我要).
   * The check's calibrated probability without the prior of its training
   * texts' proportions, with the rules found in the text added to its odds.
   */
  complaintProbability(text: string, found: readonly RuleMatch[] = this.rules.match(text)): number {
    return this.complaintOf(text, found, undefined, null);
  }

  /**
   * `complaintProbability`, given what `classify` has at hand: the text folded
   * for matching, and its features, which the check reads as they are when it
   * reads the text whole (nothing stripped from it) with the same feature options.
   */
  private complaintOf(text: string, found: readonly RuleMatch[], folded: FoldedText | undefined, occ: Occurrences | null): number {
    if (!this.state.complaint) return 1;
    const { check, places, share } = this.state.complaint;
    // A complaint stays one whatever is said around it (你好，…，谢谢; …, call me on 139…):
    // the text is one if it is, or if one of its clauses is. Places alone are none, and
    // so is 我要投诉: the words that say a complaint is made are not read (see checkedText).
    const stripped = checkedText(text, places, folded);
    const read = occ && stripped === text && this.checkSharesFeatures ? occ : null;
    const p = check.highestOfParts(stripped, check.labels.indexOf(COMPLAINT), read);
    if (p === 0) return 0;
    // Without the share of complaints among the check's training texts (how many
    // of each kind were written is no measure of how often each comes in), and
    // with the district's phrases found in the text as evidence for a complaint,
    // as they are for their types.
    let logit = logOdds(p) - logOdds(share);
    for (const m of found) logit += m.rule.weight * this.ruleScale;
    return 1 / (1 + Math.exp(-logit));
  }

  /**
   * Of a complaint check: the highest probability of `label` among the parts of
   * a text as `checkedText` gives it — the whole, then each clause when there are
   * several —, 0 when it holds nothing to read. The text is analysed once: a
   * clause's features are the whole's that lie inside it, as they would be read
   * from the clause alone (no character n-gram runs across a clause break, nor a
   * word); a clause read otherwise — a word of the whole reaching across its
   * breaks (3.5), spaces in it (words may then be read as pre-segmented), or a
   * text long enough to be segmented in pieces — is analysed on its own.
   */
  private highestOfParts(stripped: string, label: number, read: Occurrences | null): number {
    if (!hasWords(stripped)) return 0;
    // Each part read as `classify` reads a text: its web addresses blanked.
    const occ = read ?? this.extractor.extract(stripped);
    this.score(blankLinks(stripped), occ);
    let p = this.probs[label]!;
    // The whole text comes first: read as sure a complaint as this, its clauses
    // could move the answer by less than half a percent, and reading them
    // would cost several classifications more.
    if (p >= SURE_COMPLAINT) return p;
    const clauses = clauseSpans(stripped);
    if (clauses.length < 2) return p;
    const whole = occ.text;
    const derivable = !whole.presegmented && !whole.piecewise && !/https?:|www\./i.test(stripped);
    // The whole's occurrences, copied: reading a clause alone reuses the extractor's arrays.
    const count = occ.count;
    const kind = occ.kind.slice(0, count);
    const hashA = occ.hashA.slice(0, count);
    const hashB = occ.hashB.slice(0, count);
    const start = occ.start.slice(0, count);
    const end = occ.end.slice(0, count);
    for (const [from, to] of clauses) {
      const clause = stripped.slice(from, to);
      let part: Occurrences | null = null;
      // A clause of two characters or fewer is a word without the segmenter when read alone.
      if (derivable && to - from > 2 && !/\s/.test(clause)) {
        let n = 0;
        let crossing = false;
        for (let i = 0; i < count; i++) {
          const s = start[i]!;
          const e = end[i]!;
          if (s >= from && e <= to) n++;
          else if (kind[i] === FeatureKind.Word && s < to && e > from) crossing = true;
        }
        if (!crossing) part = this.clauseOccurrences(kind, hashA, hashB, start, end, count, from, to, n, occ.text);
      }
      this.score(blankLinks(clause), part ?? this.extractor.extract(clause));
      p = Math.max(p, this.probs[label]!);
      if (p >= SURE_COMPLAINT) break;
    }
    return p;
  }

  /** The occurrences that lie inside [from, to), in their order (so the sums run in the same order as read alone). */
  private clauseOccurrences(
    kind: Uint8Array,
    hashA: Int32Array,
    hashB: Int32Array,
    start: Int32Array,
    end: Int32Array,
    count: number,
    from: number,
    to: number,
    n: number,
    text: Occurrences['text'],
  ): Occurrences {
    const part = { count: n, kind: new Uint8Array(n), hashA: new Int32Array(n), hashB: new Int32Array(n), start: new Int32Array(n), end: new Int32Array(n), text };
    let q = 0;
    for (let i = 0; i < count; i++) {
      if (start[i]! < from || end[i]! > to) continue;
      part.kind[q] = kind[i]!;
      part.hashA[q] = hashA[i]!;
      part.hashB[q] = hashB[i]!;
      part.start[q] = start[i]!;
      part.end[q++] = end[i]!;
    }
    return part;
  }

  /** Confidence of every label for the text, highest first. */
  distribution(text: string): TypeScore[] {
    this.classify(text); // leaves the distribution in this.probs
    return this.labels
      .map((type, i) => ({ type, confidence: this.probs[i]! }))
      .sort((a, b) => b.confidence - a.confidence);
  }

  /**
   * Evidence: the input's features that added most to the chosen type's
   * score (x_f · w_f,type, scaled like the scores to log-odds units), at their first occurrence,
   * skipping any that overlaps a phrase already listed.
   */
  private addModelEvidence(
    text: string,
    occ: { start: Int32Array; end: Int32Array },
    known: number,
    type: number,
    scale: BlockScales,
    logitScale: number,
    evidence: Evidence[],
    taken: Array<[number, number]>,
  ): void {
    const room = this.maxEvidence - evidence.length;
    if (room <= 0) return;
    const { k, knownFeature, knownValue, knownBlock, knownOcc } = this;
    const rows = this.compiled.rows;
    const factor = [scale.char * logitScale, scale.word * logitScale];
    // Keep the best few candidates by insertion (no full sort: texts can
    // have thousands of features and this runs on every classification).
    const cap = room * 4;
    const candQ: number[] = [];
    const candC: number[] = [];
    for (let q = 0; q < known; q++) {
      const c = knownValue[q]! * rows[knownFeature[q]! * (k + 1) + 1 + type]! * factor[knownBlock[q]!]!;
      if (c < EVIDENCE_MIN_WEIGHT) continue;
      if (candC.length === cap && c <= candC[cap - 1]!) continue;
      let pos = candC.length < cap ? candC.length : cap - 1;
      if (candC.length < cap) {
        candC.push(c);
        candQ.push(q);
      }
      while (pos > 0 && candC[pos - 1]! < c) {
        candC[pos] = candC[pos - 1]!;
        candQ[pos] = candQ[pos - 1]!;
        pos--;
      }
      candC[pos] = c;
      candQ[pos] = q;
    }
    let added = 0;
    for (let i = 0; i < candQ.length && added < room; i++) {
      const o = knownOcc[candQ[i]!]!;
      const start = occ.start[o]!;
      const end = occ.end[o]!;
      if (taken.some(([s, e]) => start < e && s < end)) continue;
      taken.push([start, end]);
      evidence.push({ phrase: text.slice(start, end), weight: round(candC[i]!, 3), source: 'model', start, end });
      added++;
    }
  }

  toJSON(): LinearModelJson {
    const s = this.state;
    return {
      format: MODEL_FORMAT,
      version: MODEL_VERSION,
      fingerprint: s.fingerprint,
      dataHash: s.dataHash,
      optionsHash: s.optionsHash,
      options: s.options,
      labels: [...s.labels],
      exampleCount: s.exampleCount,
      crossValidation: s.crossValidation,
      nbSmoothingUsed: s.nbSmoothingUsed,
      temperature: s.temperature,
      latinTemperature: s.latinTemperature,
      oodExponent: s.oodExponent,
      idfUnknown: s.idfUnknown,
      featureCount: s.idf.length,
      featureHashes: encodeBase64(s.featureHashes),
      idf: encodeBase64(s.idf),
      weights: encodeBase64(s.weights),
      bias: [...s.bias],
      complaintModel: s.complaint ? s.complaint.check.toJSON() : null,
      complaintPlaces: s.complaint ? [...s.complaint.places.names] : [],
      complaintShare: s.complaint ? s.complaint.share : 0,
    };
  }
}

/** Whether two models extract the same features from a text. */
function sameFeatures(a: FeatureOptions, b: FeatureOptions): boolean {
  return (
    a.charNgramMin === b.charNgramMin &&
    a.charNgramMax === b.charNgramMax &&
    a.words === b.words &&
    a.wordBigrams === b.wordBigrams &&
    a.foldDigits === b.foldDigits &&
    a.maxPresegmentedWord === b.maxPresegmentedWord &&
    a.charNgramsAcrossSpaces === b.charNgramsAcrossSpaces
  );
}

/** Contributions below this (log-odds) are noise, not evidence; they would print as 0. */
const EVIDENCE_MIN_WEIGHT = 0.001;

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Lookup tables built from a model's arrays, shared by its runtime variants. */
interface CompiledModel {
  readonly index: HashIndex;
  /** One bit per hash-B value (masked): 0 means "certainly not a model feature". */
  readonly filter: Uint32Array;
  readonly filterMask: number;
  /** Feature-major rows [idf, w_1..w_K]. */
  readonly rows: Float32Array;
}

function compile(state: ModelState): CompiledModel {
  const count = state.idf.length;
  const k = state.labels.length;
  const index = new HashIndex(count);
  // ~16 bits per feature: about 6 % of unknown features get past the filter.
  let bits = 1 << 10;
  while (bits < count * 16) bits *= 2;
  const filter = new Uint32Array(bits / 32);
  const filterMask = bits - 1;
  const rows = new Float32Array(count * (k + 1));
  for (let f = 0; f < count; f++) {
    const a = state.featureHashes[2 * f]!;
    const b = state.featureHashes[2 * f + 1]!;
    index.getOrInsert(a, b, f);
    const bit = b & filterMask;
    filter[bit >>> 5]! |= 1 << (bit & 31);
    rows[f * (k + 1)] = state.idf[f]!;
    for (let i = 0; i < k; i++) rows[f * (k + 1) + 1 + i] = state.weights[f * k + i]!;
  }
  return { index, filter, filterMask, rows };
}

/** Stratified fold of each example, seeded. */
function assignFolds(labels: Int32Array, classCount: number, folds: number, seed: number): Int32Array {
  const rng = createRng(seed ^ 0x5eed);
  const fold = new Int32Array(labels.length);
  // Each class's examples in seeded random order, dealt round-robin; the
  // starting fold rotates per class so small classes don't all start at 0.
  let offset = 0;
  for (let c = 0; c < classCount; c++) {
    const members: number[] = [];
    for (let i = 0; i < labels.length; i++) if (labels[i] === c) members.push(i);
    for (let i = members.length - 1; i > 0; i--) {
      const j = Math.floor(rng() * (i + 1));
      [members[i], members[j]] = [members[j]!, members[i]!];
    }
    members.forEach((m, r) => (fold[m] = (r + offset) % folds));
    offset += members.length;
  }
  return fold;
}

function scoreRows(rows: SparseRows, weights: Float32Array, bias: Float64Array): Float64Array[] {
  const k = bias.length;
  const out: Float64Array[] = [];
  for (let r = 0; r < rows.rows; r++) {
    const s = Float64Array.from(bias);
    for (let p = rows.rowPtr[r]!; p < rows.rowPtr[r + 1]!; p++) {
      const base = rows.col[p]! * k;
      const v = rows.val[p]!;
      for (let c = 0; c < k; c++) s[c]! += v * weights[base + c]!;
    }
    out.push(s);
  }
  return out;
}

/** Trains a model on labelled examples. Deterministic for a given seed. */
export function trainClassifier(examples: readonly LabelledExample[], options: TrainOptions = {}): LinearClassifier {
  validateExamples(examples, options.allowedLabels);
  const resolved = resolveOptions(examples.length, options);
  const labels = [...new Set(examples.map((e) => e.label))].sort();
  if (labels.length < 2) throw new Error(`need examples of at least two labels, got ${labels.length}`);
  const k = labels.length;
  const labelOf = new Map(labels.map((l, i) => [l, i]));
  const y = Int32Array.from(examples.map((e) => labelOf.get(e.label)!));
  const svm: Omit<SvmOptions, 'nbSmoothing'> = resolved;

  const latin = examples.map((e) => isLatinText(e.text));
  const extractor = new FeatureExtractor(resolved);
  const corpus = buildCorpus(
    examples.map((e) => e.text),
    extractor,
  );

  // 1. Calibration folds: fold models score their held-out texts. With
  //    nbSmoothing 'auto' they are trained with and without the naive-Bayes
  //    feature scaling, and the better held-out macro-F1 decides.
  const candidates = resolved.nbSmoothing === 'auto' ? AUTO_NB_SMOOTHING : [resolved.nbSmoothing];
  const heldOut = candidates.map(() => ({ samples: [] as CalibrationSample[], pairs: [] as Array<{ actual: string; predicted: string }> }));
  const folds = resolved.calibrationFolds;
  if (folds >= 2 && examples.length >= 2 * folds) {
    const fold = assignFolds(y, k, folds, resolved.seed);
    const foldSize = examples.length / folds;
    const runs = Math.min(folds, Math.max(1, Math.ceil(resolved.calibrationHeldOut / foldSize)));
    for (let f = 0; f < runs; f++) {
      const trainIdx: number[] = [];
      const heldIdx: number[] = [];
      fold.forEach((v, i) => (v === f ? heldIdx : trainIdx).push(i));
      const trainDocs = Int32Array.from(trainIdx);
      const heldDocs = Int32Array.from(heldIdx);
      const space = buildSpace(corpus, trainDocs, resolved.minDf);
      const rows = vectorize(corpus, space, trainDocs, resolved.wordWeight);
      const held = vectorize(corpus, space, heldDocs, resolved.wordWeight);
      const trainLabels = Int32Array.from(trainIdx.map((i) => y[i]!));
      candidates.forEach((nbSmoothing, c) => {
        const model = trainOneVsRest(rows, trainLabels, k, space.size, {
          ...svm,
          nbSmoothing,
          seed: svm.seed + 1000 * (f + 1),
        });
        const scores = scoreRows(held, model.weights, model.bias);
        heldIdx.forEach((doc, r) => {
          const s = scores[r]!;
          heldOut[c]!.samples.push({ scores: s, label: y[doc]!, unknown: held.unknown[r]!, latin: latin[doc]! });
          let best = 0;
          for (let i = 1; i < k; i++) if (s[i]! > s[best]!) best = i;
          heldOut[c]!.pairs.push({ actual: labels[y[doc]!]!, predicted: labels[best]! });
        });
      });
    }
  }
  const reports = heldOut.map((h) => (h.pairs.length > 0 ? evaluatePredictions(h.pairs) : null));
  let chosen = candidates.length - 1; // without folds to judge by: the last candidate
  if (reports[0]) {
    chosen = 0;
    reports.forEach((r, c) => {
      if (r && r.macroF1 > reports[chosen]!.macroF1) chosen = c;
    });
  }
  const nbSmoothing = candidates[chosen]!;
  const samples = heldOut[chosen]!.samples;
  const exponents = resolved.oodExponent === 'auto' ? AUTO_OOD_EXPONENTS : [resolved.oodExponent];
  // Without held-out scores: a temperature typical of these SVM scores.
  const { temperature, latinTemperature, oodExponent } =
    samples.length > 0
      ? fitCalibration(samples, k, exponents)
      : { temperature: 0.1, latinTemperature: 0.1, oodExponent: exponents[exponents.length - 1]! };
  const cv = reports[chosen] ?? null;

  // 2. The model itself, on everything.
  const all = new Int32Array(examples.length);
  for (let i = 0; i < all.length; i++) all[i] = i;
  const space = buildSpace(corpus, all, resolved.minDf);
  const model = trainOneVsRest(vectorize(corpus, space, all, resolved.wordWeight), y, k, space.size, { ...svm, nbSmoothing });
  const featureHashes = new Int32Array(space.size * 2);
  for (let f = 0; f < space.size; f++) {
    const r = space.featureRaw[f]!;
    featureHashes[2 * f] = corpus.rawHashA[r]!;
    featureHashes[2 * f + 1] = corpus.rawHashB[r]!;
  }
  const print = trainingFingerprint(examples, options);
  const complaint = trainComplaintCheck(examples, options);
  return new LinearClassifier(
    {
      options: resolved,
      labels,
      ...print,
      exampleCount: examples.length,
      crossValidation: cv ? { heldOut: cv.total, accuracy: cv.accuracy, macroF1: cv.macroF1 } : null,
      nbSmoothingUsed: nbSmoothing,
      temperature,
      latinTemperature,
      oodExponent,
      idfUnknown: space.idfUnknown,
      featureHashes,
      idf: space.idf,
      weights: model.weights,
      bias: model.bias,
      complaint,
    },
    options,
  );
}

/**
 * The complaint check: the same model, trained on the examples and the
 * rules' phrases as complaints against the texts that hold none (see
 * complaint-check.ts), with the same training options; its own calibration
 * folds fit its temperature.
 */
function trainComplaintCheck(examples: readonly LabelledExample[], options: TrainOptions): ModelState['complaint'] {
  const noComplaint = options.noComplaint ?? [];
  if (noComplaint.length === 0) return null;
  const { rules, ruleScale: _scale, maxEvidence: _evidence, unknownRuleTypes: _unknown, allowedLabels: _labels, noComplaint: _none, places: names, ...training } = options;
  const places = new PlaceNames(names ?? []);
  const checked = complaintCheckExamples(examples, noComplaint, rules ?? [], places);
  const share = checked.filter((e) => e.label === COMPLAINT).length / checked.length;
  return { check: trainClassifier(checked, training), places, share };
}

/**
 * Loads a model saved with `toJSON()` (the object or its JSON text). Phrase
 * rules and output options are given here, not stored in the artifact.
 */
export function loadModel(
  json: LinearModelJson | string,
  rules?: readonly PhraseRule[],
  runtime: Omit<RuntimeOptions, 'rules'> = {},
): LinearClassifier {
  const data: unknown = typeof json === 'string' ? JSON.parse(json) : json;
  if (typeof data !== 'object' || data === null) throw new Error('model: expected an object');
  const m = data as Partial<LinearModelJson>;
  if (m.format !== MODEL_FORMAT) throw new Error(`model: format is ${JSON.stringify(m.format)}, expected ${MODEL_FORMAT}`);
  if (m.version !== MODEL_VERSION) {
    throw new Error(`model: version ${String(m.version)} is not supported (this engine reads ${MODEL_VERSION}); retrain`);
  }
  const labels = m.labels;
  const n = m.featureCount;
  if (!Array.isArray(labels) || labels.length < 2) throw new Error('model: labels missing');
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) throw new Error('model: featureCount missing');
  if (!Array.isArray(m.bias) || m.bias.length !== labels.length) throw new Error('model: bias does not match labels');
  if (
    typeof m.temperature !== 'number' ||
    typeof m.latinTemperature !== 'number' ||
    typeof m.idfUnknown !== 'number' ||
    typeof m.oodExponent !== 'number'
  ) {
    throw new Error('model: temperature, latinTemperature, oodExponent or idfUnknown missing');
  }
  const options = m.options as unknown as Partial<Record<string, unknown>> | undefined;
  const expected: Record<string, unknown> = { ...DEFAULT_OPTIONS, minDf: 1 };
  for (const key of Object.keys(expected)) {
    const ok =
      key === 'nbSmoothing' || key === 'oodExponent'
        ? typeof options?.[key] === 'number' || options?.[key] === 'auto'
        : typeof options?.[key] === typeof expected[key];
    if (!ok) throw new Error(`model: option ${key} missing or malformed`);
  }
  if (typeof m.featureHashes !== 'string' || typeof m.idf !== 'string' || typeof m.weights !== 'string') {
    throw new Error('model: featureHashes, idf or weights missing');
  }
  if (m.complaintModel === undefined || !Array.isArray(m.complaintPlaces) || typeof m.complaintShare !== 'number') {
    throw new Error('model: complaintModel, complaintPlaces or complaintShare missing');
  }
  const check = m.complaintModel === null ? null : loadModel(m.complaintModel);
  if (check && [...check.labels].sort().join() !== [COMPLAINT, NO_COMPLAINT].sort().join()) {
    throw new Error(`model: complaintModel labels must be ${COMPLAINT} and ${NO_COMPLAINT}`);
  }
  const complaint = check ? { check, places: new PlaceNames(m.complaintPlaces), share: m.complaintShare } : null;
  return new LinearClassifier(
    {
      options: options as unknown as LinearModelOptions,
      labels,
      fingerprint: String(m.fingerprint),
      dataHash: String(m.dataHash),
      optionsHash: String(m.optionsHash),
      exampleCount: Number(m.exampleCount),
      crossValidation: m.crossValidation ?? null,
      nbSmoothingUsed: Number(m.nbSmoothingUsed ?? 0),
      temperature: m.temperature,
      latinTemperature: m.latinTemperature,
      oodExponent: m.oodExponent,
      idfUnknown: m.idfUnknown,
      featureHashes: decodeInt32(m.featureHashes, n * 2, 'featureHashes'),
      idf: decodeFloat32(m.idf, n, 'idf'),
      weights: decodeFloat32(m.weights, n * labels.length, 'weights'),
      bias: Float64Array.from(m.bias),
      complaint,
    },
    { ...runtime, rules: rules ?? [] },
  );
}

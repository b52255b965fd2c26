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
 */
import type { Classification, Classifier, Evidence, TypeScore } from '../../pipeline/classifier.js';
import { decodeFloat32, decodeInt32, encodeBase64 } from './base64.js';
import { calibratedProbabilities, familiarity, fitTemperature, type CalibrationSample } from './calibration.js';
import { buildCorpus, buildSpace, RowWeighter, vectorize, type SparseRows } from './corpus.js';
import { evaluatePredictions } from './evaluate.js';
import { hashExamples, validateExamples, type LabelledExample } from './examples.js';
import { blockOf, DistinctFeatures, FeatureExtractor, type FeatureKind, type FeatureOptions } from './features.js';
import { digest, HashIndex } from './hashing.js';
import { PhraseRuleSet, type PhraseRule } from './phrase-rules.js';
import { createRng } from './rng.js';
import { trainOneVsRest, type SvmOptions } from './svm-solver.js';

/** Everything that shapes the trained weights (stored in the artifact and its fingerprint). */
export interface LinearModelOptions extends FeatureOptions, Omit<SvmOptions, 'seed'> {
  /** Features seen in fewer training texts are dropped. */
  minDf: number;
  /** Stratified folds for calibration. */
  calibrationFolds: number;
  /** Folds are run until this many held-out texts were scored (at most all folds). */
  calibrationHeldOut: number;
  /** γ in the familiarity factor (1 − u)^γ applied to the scores (see calibration.ts). */
  oodExponent: number;
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
}

export interface TrainOptions extends Partial<Omit<LinearModelOptions, 'minDf'>>, RuntimeOptions {
  /** Default: 1 below 5,000 examples (every phrase counts), else 2. */
  minDf?: number;
  /** Labels an example may carry; others are an error. */
  allowedLabels?: readonly string[];
}

export const DEFAULT_OPTIONS: Readonly<Omit<LinearModelOptions, 'minDf'>> = {
  charNgramMin: 1,
  charNgramMax: 3,
  words: true,
  wordBigrams: true,
  foldDigits: true,
  maxPresegmentedWord: 4,
  charNgramsAcrossSpaces: true,
  C: 1,
  loss: 'squared-hinge',
  classWeight: 'none',
  tolerance: 0.1,
  maxIterations: 200,
  calibrationFolds: 4,
  calibrationHeldOut: 1500,
  oodExponent: 2,
  seed: 1,
};

export const MODEL_FORMAT = 'complaint-classifier/linear';
export const MODEL_VERSION = 1;

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
  temperature: number;
  idfUnknown: number;
  featureCount: number;
  /** Two int32 hashes per feature (see features.ts). */
  featureHashes: string;
  idf: string;
  /** float32, feature-major: weights[f * labels.length + k]. */
  weights: string;
  bias: number[];
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
    minDf: options.minDf ?? (exampleCount >= 5000 ? 2 : 1),
    C: pick('C'),
    loss: pick('loss'),
    classWeight: pick('classWeight'),
    tolerance: pick('tolerance'),
    maxIterations: pick('maxIterations'),
    calibrationFolds: pick('calibrationFolds'),
    calibrationHeldOut: pick('calibrationHeldOut'),
    oodExponent: pick('oodExponent'),
    seed: pick('seed'),
  };
  if (resolved.charNgramMax > 0 && (resolved.charNgramMin < 1 || resolved.charNgramMin > resolved.charNgramMax)) {
    throw new Error(`charNgramMin must be between 1 and charNgramMax (${resolved.charNgramMax})`);
  }
  if (resolved.charNgramMax <= 0 && !resolved.words && !resolved.wordBigrams) {
    throw new Error('no features enabled: set charNgramMax > 0, words or wordBigrams');
  }
  if (!(resolved.C > 0)) throw new Error('C must be positive');
  if (!(resolved.minDf >= 1)) throw new Error('minDf must be at least 1');
  return resolved;
}

/** Fingerprint of a training run, to tell whether a cached artifact is stale. */
export function trainingFingerprint(
  examples: readonly LabelledExample[],
  options: TrainOptions = {},
): { fingerprint: string; dataHash: string; optionsHash: string } {
  const resolved = resolveOptions(examples.length, options);
  const dataHash = hashExamples(examples);
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
  readonly temperature: number;
  readonly idfUnknown: number;
  readonly featureHashes: Int32Array;
  readonly idf: Float32Array;
  readonly weights: Float32Array;
  readonly bias: Float64Array;
}

/**
 * A trained model. Implements the pipeline's `Classifier`. Not safe to share
 * between threads (it keeps scratch buffers), which JavaScript never does.
 */
export class LinearClassifier implements Classifier {
  readonly labels: readonly string[];
  readonly fingerprint: string;
  readonly crossValidation: CrossValidation | null;
  /** "linear@<hash>", the hash covering the model and its rules. */
  readonly engine: string;

  private readonly state: ModelState;
  private readonly index: HashIndex;
  private readonly extractor: FeatureExtractor;
  private readonly distinct = new DistinctFeatures();
  private readonly weighter = new RowWeighter();
  private readonly rules: PhraseRuleSet;
  private readonly ruleScale: number;
  private readonly maxEvidence: number;
  private readonly k: number;
  private readonly scores: Float64Array;
  private readonly probs: Float64Array;
  private knownFeature = new Int32Array(1024);
  private knownValue = new Float64Array(1024);
  private knownOcc = new Int32Array(1024);
  private knownBlock = new Uint8Array(1024);

  constructor(state: ModelState, runtime: RuntimeOptions = {}, index?: HashIndex) {
    this.state = state;
    this.labels = state.labels;
    this.fingerprint = state.fingerprint;
    this.crossValidation = state.crossValidation;
    this.k = state.labels.length;
    this.scores = new Float64Array(this.k);
    this.probs = new Float64Array(this.k);
    this.extractor = new FeatureExtractor(state.options);
    this.rules = new PhraseRuleSet(runtime.rules ?? [], state.labels);
    this.ruleScale = runtime.ruleScale ?? 1;
    this.maxEvidence = runtime.maxEvidence ?? 8;
    this.index = index ?? buildIndex(state.featureHashes);
    this.engine = `linear@${digest([state.fingerprint, this.rules.size > 0 ? this.rules.digest : '', String(this.ruleScale)]).slice(0, 8)}`;
  }

  /** The same weights with other rules or output options (cheap: shares the index). */
  withRuntime(runtime: RuntimeOptions): LinearClassifier {
    return new LinearClassifier(this.state, runtime, this.index);
  }

  classify(text: string): Classification {
    const { k, state, scores, probs } = this;
    const occ = this.extractor.extract(text);
    const n = this.distinct.count(occ);
    const { hashA, hashB, tf, first } = this.distinct;
    if (n > this.knownFeature.length) {
      this.knownFeature = new Int32Array(n);
      this.knownValue = new Float64Array(n);
      this.knownOcc = new Int32Array(n);
      this.knownBlock = new Uint8Array(n);
    }
    const { knownFeature, knownValue, knownOcc, knownBlock, weighter } = this;

    // TF-IDF of the input; features the model never saw only add to the norm.
    weighter.reset();
    let known = 0;
    for (let j = 0; j < n; j++) {
      const f = this.index.get(hashA[j]!, hashB[j]!);
      const block = blockOf(occ.kind[first[j]!]! as FeatureKind);
      const v = weighter.add(block, tf[j]!, f >= 0 ? state.idf[f]! : state.idfUnknown, f >= 0);
      if (f < 0) continue;
      knownFeature[known] = f;
      knownValue[known] = v;
      knownBlock[known] = block;
      knownOcc[known] = first[j]!;
      known++;
    }
    const scale = weighter.scales();
    for (let i = 0; i < k; i++) scores[i] = state.bias[i]!;
    const w = state.weights;
    for (let q = 0; q < known; q++) {
      const x = knownValue[q]! * (knownBlock[q] === 0 ? scale.char : scale.word);
      knownValue[q] = x;
      const base = knownFeature[q]! * k;
      for (let i = 0; i < k; i++) scores[i]! += x * w[base + i]!;
    }
    calibratedProbabilities(scores, state.temperature, scale.unknown, state.options.oodExponent, probs);
    const logitScale = familiarity(scale.unknown, state.options.oodExponent) / state.temperature;

    // Phrase rules: each firing rule adds weight × scale to its type's log-odds.
    const matches = this.rules.match(text);
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
    this.addModelEvidence(text, occ, known, best, logitScale, evidence, taken);

    return {
      type: this.labels[best]!,
      confidence: probs[best]!,
      runnerUp: { type: this.labels[second]!, confidence: probs[second]! },
      evidence,
      engine: this.engine,
    };
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
    logitScale: number,
    evidence: Evidence[],
    taken: Array<[number, number]>,
  ): void {
    const room = this.maxEvidence - evidence.length;
    if (room <= 0) return;
    const { k, state, knownFeature, knownValue, knownOcc } = this;
    // Keep the best few candidates by insertion (no full sort: texts can
    // have thousands of features and this runs on every classification).
    const cap = room * 4;
    const candQ: number[] = [];
    const candC: number[] = [];
    for (let q = 0; q < known; q++) {
      const c = knownValue[q]! * state.weights[knownFeature[q]! * k + type]! * logitScale;
      if (c <= 0) continue;
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
      temperature: s.temperature,
      idfUnknown: s.idfUnknown,
      featureCount: s.idf.length,
      featureHashes: encodeBase64(s.featureHashes),
      idf: encodeBase64(s.idf),
      weights: encodeBase64(s.weights),
      bias: [...s.bias],
    };
  }
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

function buildIndex(featureHashes: Int32Array): HashIndex {
  const count = featureHashes.length / 2;
  const index = new HashIndex(count);
  for (let f = 0; f < count; f++) index.getOrInsert(featureHashes[2 * f]!, featureHashes[2 * f + 1]!, f);
  return index;
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
  const svm: SvmOptions = { ...resolved, seed: resolved.seed };

  const extractor = new FeatureExtractor(resolved);
  const corpus = buildCorpus(
    examples.map((e) => e.text),
    extractor,
  );

  // 1. Calibration: fold models score their held-out texts.
  const samples: CalibrationSample[] = [];
  const pairs: Array<{ actual: string; predicted: string }> = [];
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
      const model = trainOneVsRest(
        vectorize(corpus, space, trainDocs),
        Int32Array.from(trainIdx.map((i) => y[i]!)),
        k,
        space.size,
        { ...svm, seed: svm.seed + 1000 * (f + 1) },
      );
      const held = vectorize(corpus, space, heldDocs);
      const scores = scoreRows(held, model.weights, model.bias);
      heldIdx.forEach((doc, r) => {
        const s = scores[r]!;
        samples.push({ scores: s, label: y[doc]!, unknown: held.unknown[r]! });
        let best = 0;
        for (let c = 1; c < k; c++) if (s[c]! > s[best]!) best = c;
        pairs.push({ actual: labels[y[doc]!]!, predicted: labels[best]! });
      });
    }
  }
  const temperature = samples.length > 0 ? fitTemperature(samples, k, resolved.oodExponent) : 0.3;
  const cv = samples.length > 0 ? evaluatePredictions(pairs) : null;

  // 2. The model itself, on everything.
  const all = new Int32Array(examples.length);
  for (let i = 0; i < all.length; i++) all[i] = i;
  const space = buildSpace(corpus, all, resolved.minDf);
  const model = trainOneVsRest(vectorize(corpus, space, all), y, k, space.size, svm);
  const featureHashes = new Int32Array(space.size * 2);
  for (let f = 0; f < space.size; f++) {
    const r = space.featureRaw[f]!;
    featureHashes[2 * f] = corpus.rawHashA[r]!;
    featureHashes[2 * f + 1] = corpus.rawHashB[r]!;
  }
  const print = trainingFingerprint(examples, options);
  return new LinearClassifier(
    {
      options: resolved,
      labels,
      ...print,
      exampleCount: examples.length,
      crossValidation: cv ? { heldOut: cv.total, accuracy: cv.accuracy, macroF1: cv.macroF1 } : null,
      temperature,
      idfUnknown: space.idfUnknown,
      featureHashes,
      idf: space.idf,
      weights: model.weights,
      bias: model.bias,
    },
    options,
  );
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
  if (!m.options || typeof m.temperature !== 'number' || typeof m.idfUnknown !== 'number') {
    throw new Error('model: options, temperature or idfUnknown missing');
  }
  if (typeof m.featureHashes !== 'string' || typeof m.idf !== 'string' || typeof m.weights !== 'string') {
    throw new Error('model: featureHashes, idf or weights missing');
  }
  return new LinearClassifier(
    {
      options: m.options,
      labels,
      fingerprint: String(m.fingerprint),
      dataHash: String(m.dataHash),
      optionsHash: String(m.optionsHash),
      exampleCount: Number(m.exampleCount),
      crossValidation: m.crossValidation ?? null,
      temperature: m.temperature,
      idfUnknown: m.idfUnknown,
      featureHashes: decodeInt32(m.featureHashes, n * 2, 'featureHashes'),
      idf: decodeFloat32(m.idf, n, 'idf'),
      weights: decodeFloat32(m.weights, n * labels.length, 'weights'),
      bias: Float64Array.from(m.bias),
    },
    { ...runtime, rules: rules ?? [] },
  );
}

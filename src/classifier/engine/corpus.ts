/**
 * Training-time feature bookkeeping: every text is tokenised once into a
 * table of "raw" features (all features seen anywhere), then a feature space
 * (vocabulary + idf) can be cut for any subset of the texts — the whole set
 * for the final model, the training part of each fold for calibration — and
 * the texts vectorised in it. A text's features missing from a space count as
 * unknown, exactly as they will for a new text at classification time.
 */
import { HashIndex } from './hashing.js';
import { blockOf, DistinctFeatures, type FeatureExtractor, type FeatureKind } from './features.js';

export interface Corpus {
  readonly docCount: number;
  readonly rawCount: number;
  readonly rawHashA: Int32Array;
  readonly rawHashB: Int32Array;
  readonly rawBlock: Uint8Array;
  readonly rawDf: Int32Array;
  /** Key strings, filled for raw features whose df reached `keyMinDf`. */
  readonly rawKey: ReadonlyArray<string | undefined>;
  /** Per text: its distinct raw features and their counts (CSR). */
  readonly docPtr: Int32Array;
  readonly docFeature: Int32Array;
  readonly docTermCount: Float32Array;
}

function grow<T extends Int32Array | Uint8Array | Float32Array>(a: T, need: number): T {
  if (need <= a.length) return a;
  let c = a.length * 2;
  while (c < need) c *= 2;
  const next = new (a.constructor as new (n: number) => T)(c);
  next.set(a);
  return next;
}

export function buildCorpus(texts: readonly string[], extractor: FeatureExtractor, keyMinDf: number): Corpus {
  const index = new HashIndex(1 << 18);
  let rawHashA = new Int32Array(1 << 16);
  let rawHashB = new Int32Array(1 << 16);
  let rawBlock = new Uint8Array(1 << 16);
  let rawDf = new Int32Array(1 << 16);
  const rawKey: Array<string | undefined> = [];
  let rawCount = 0;

  const docPtr = new Int32Array(texts.length + 1);
  let docFeature = new Int32Array(1 << 16);
  let docTermCount = new Float32Array(1 << 16);
  let nnz = 0;
  const distinct = new DistinctFeatures();

  for (let d = 0; d < texts.length; d++) {
    const occ = extractor.extract(texts[d]!);
    const size = distinct.count(occ);
    docFeature = grow(docFeature, nnz + size);
    docTermCount = grow(docTermCount, nnz + size);
    for (let j = 0; j < size; j++) {
      const a = distinct.hashA[j]!;
      const b = distinct.hashB[j]!;
      const id = index.getOrInsert(a, b, rawCount);
      if (id === rawCount) {
        rawCount++;
        if (rawCount > rawHashA.length) {
          rawHashA = grow(rawHashA, rawCount);
          rawHashB = grow(rawHashB, rawCount);
          rawBlock = grow(rawBlock, rawCount);
          rawDf = grow(rawDf, rawCount);
        }
        rawHashA[id] = a;
        rawHashB[id] = b;
        rawBlock[id] = blockOf(occ.kind[distinct.first[j]!]! as FeatureKind);
      }
      docFeature[nnz] = id;
      docTermCount[nnz] = distinct.tf[j]!;
      nnz++;
      // Key strings only for features that can make it into a vocabulary.
      if (++rawDf[id]! === keyMinDf) rawKey[id] = extractor.keyOf(occ, distinct.first[j]!);
    }
    docPtr[d + 1] = nnz;
  }

  return { docCount: texts.length, rawCount, rawHashA, rawHashB, rawBlock, rawDf, rawKey, docPtr, docFeature, docTermCount };
}

export interface FeatureSpace {
  readonly size: number;
  /** Raw feature id → feature id in this space, or -1. */
  readonly rawToFeature: Int32Array;
  /** Raw id of each feature of this space. */
  readonly featureRaw: Int32Array;
  readonly idf: Float32Array;
  readonly idfUnknown: number;
  /** Number of texts the idf was computed on. */
  readonly docCount: number;
}

/** Smoothed idf, as in most TF-IDF implementations: ln((1+N)/(1+df)) + 1. */
export function idfOf(docCount: number, df: number): number {
  return Math.log((1 + docCount) / (1 + df)) + 1;
}

/** Vocabulary and idf of the texts `docs` (raw features with df >= minDf in them). */
export function buildSpace(corpus: Corpus, docs: Int32Array, minDf: number): FeatureSpace {
  const df = new Int32Array(corpus.rawCount);
  for (const d of docs) {
    for (let p = corpus.docPtr[d]!; p < corpus.docPtr[d + 1]!; p++) df[corpus.docFeature[p]!]!++;
  }
  const rawToFeature = new Int32Array(corpus.rawCount).fill(-1);
  let size = 0;
  for (let r = 0; r < corpus.rawCount; r++) if (df[r]! >= minDf) rawToFeature[r] = size++;
  const featureRaw = new Int32Array(size);
  const idf = new Float32Array(size);
  for (let r = 0; r < corpus.rawCount; r++) {
    const f = rawToFeature[r]!;
    if (f < 0) continue;
    featureRaw[f] = r;
    idf[f] = idfOf(docs.length, df[r]!);
  }
  return { size, rawToFeature, featureRaw, idf, idfUnknown: idfOf(docs.length, 0), docCount: docs.length };
}

/** Rows of unit-length TF-IDF vectors, plus each row's unknown feature mass. */
export interface SparseRows {
  readonly rows: number;
  readonly rowPtr: Int32Array;
  readonly col: Int32Array;
  readonly val: Float32Array;
  /** Share (0..1) of the row's squared TF-IDF mass on features unknown to the space. */
  readonly unknown: Float64Array;
}

/**
 * Weighting shared by training and classification: sublinear tf × idf per
 * feature, each block (characters, words) L2-normalised, and the non-empty
 * blocks scaled so the whole vector has unit length. Unknown features carry
 * the idf of a never-seen feature: they take their share of the norm (so a
 * text the model knows little about gets small scores) and are reported as
 * the unknown mass.
 */
export class RowWeighter {
  /** Running squared norms and unknown squared mass of the two blocks. */
  readonly normSq = new Float64Array(2);
  readonly unknownSq = new Float64Array(2);

  reset(): void {
    this.normSq.fill(0);
    this.unknownSq.fill(0);
  }

  /** Weight of one feature with term count `tf`; accumulates the norms. */
  add(block: number, tf: number, idf: number, known: boolean): number {
    const v = (1 + Math.log(tf)) * idf;
    this.normSq[block]! += v * v;
    if (!known) this.unknownSq[block]! += v * v;
    return v;
  }

  /** Factors turning the block weights into the final unit-length vector. */
  scales(): { char: number; word: number; unknown: number } {
    const [c, w] = this.normSq as unknown as [number, number];
    const blocks = (c > 0 ? 1 : 0) + (w > 0 ? 1 : 0);
    if (blocks === 0) return { char: 0, word: 0, unknown: 1 };
    const k = 1 / Math.sqrt(blocks);
    const unknown =
      ((c > 0 ? this.unknownSq[0]! / c : 0) + (w > 0 ? this.unknownSq[1]! / w : 0)) / blocks;
    return { char: c > 0 ? k / Math.sqrt(c) : 0, word: w > 0 ? k / Math.sqrt(w) : 0, unknown };
  }
}

export function vectorize(corpus: Corpus, space: FeatureSpace, docs: Int32Array): SparseRows {
  let total = 0;
  for (const d of docs) total += corpus.docPtr[d + 1]! - corpus.docPtr[d]!;
  const rowPtr = new Int32Array(docs.length + 1);
  const col = new Int32Array(total);
  const val = new Float32Array(total);
  const unknown = new Float64Array(docs.length);
  const weighter = new RowWeighter();
  let scratch = new Float64Array(4096);
  let nnz = 0;
  for (let r = 0; r < docs.length; r++) {
    const d = docs[r]!;
    const from = corpus.docPtr[d]!;
    const to = corpus.docPtr[d + 1]!;
    if (to - from > scratch.length) scratch = new Float64Array(to - from);
    weighter.reset();
    for (let p = from; p < to; p++) {
      const raw = corpus.docFeature[p]!;
      const f = space.rawToFeature[raw]!;
      scratch[p - from] = weighter.add(
        corpus.rawBlock[raw]!,
        corpus.docTermCount[p]!,
        f >= 0 ? space.idf[f]! : space.idfUnknown,
        f >= 0,
      );
    }
    const s = weighter.scales();
    unknown[r] = s.unknown;
    for (let p = from; p < to; p++) {
      const raw = corpus.docFeature[p]!;
      const f = space.rawToFeature[raw]!;
      if (f < 0) continue;
      col[nnz] = f;
      val[nnz] = scratch[p - from]! * (corpus.rawBlock[raw] === 0 ? s.char : s.word);
      nnz++;
    }
    rowPtr[r + 1] = nnz;
  }
  return { rows: docs.length, rowPtr, col: col.subarray(0, nnz), val: val.subarray(0, nnz), unknown };
}

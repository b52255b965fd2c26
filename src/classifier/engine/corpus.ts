/**
 * Training-time feature bookkeeping: every text is tokenised once, and the
 * features seen anywhere are numbered ("raw" features); then a feature space
 * (vocabulary + idf) can be cut for any subset of the texts — the whole set
 * for the final model, the training part of each fold for calibration — and
 * the texts vectorised in it. A text's features missing from a space count as
 * unknown, exactly as they will for a new text at classification time.
 */
import { blockOf, DistinctFeatures, type FeatureExtractor, type FeatureKind } from './features.js';

export interface Corpus {
  readonly docCount: number;
  readonly rawCount: number;
  readonly rawHashA: Int32Array;
  readonly rawHashB: Int32Array;
  readonly rawBlock: Uint8Array;
  readonly rawDf: Int32Array;
  /** Per text: its distinct raw features and their counts (CSR). */
  readonly docPtr: Int32Array;
  readonly docFeature: Int32Array;
  readonly docTermCount: Float32Array;
}

/**
 * Sorts positions 0..n-1 by their unsigned 32-bit key: LSD radix sort, three
 * passes of 11 bits. Its memory traffic is sequential, where a hash table of
 * millions of features spends most of its time waiting on cache misses.
 */
function sortByKey(keys: Int32Array, n: number): { order: Int32Array; sorted: Uint32Array } {
  let keyIn: Uint32Array = new Uint32Array(keys.buffer, keys.byteOffset, n);
  let keyOut: Uint32Array = new Uint32Array(n);
  let posIn = new Int32Array(n);
  let posOut = new Int32Array(n);
  for (let i = 0; i < n; i++) posIn[i] = i;
  const counts = new Int32Array(2048);
  for (let shift = 0; shift < 32; shift += 11) {
    counts.fill(0);
    for (let i = 0; i < n; i++) counts[(keyIn[i]! >>> shift) & 2047]!++;
    let sum = 0;
    for (let d = 0; d < 2048; d++) {
      const c = counts[d]!;
      counts[d] = sum;
      sum += c;
    }
    for (let i = 0; i < n; i++) {
      const key = keyIn[i]!;
      const at = counts[(key >>> shift) & 2047]!++;
      keyOut[at] = key;
      posOut[at] = posIn[i]!;
    }
    if (shift === 0) keyIn = new Uint32Array(n); // never write into the caller's keys
    [keyIn, keyOut] = [keyOut, keyIn];
    [posIn, posOut] = [posOut, posIn];
  }
  return { order: posIn, sorted: keyIn };
}

export function buildCorpus(texts: readonly string[], extractor: FeatureExtractor): Corpus {
  // 1. Each text's distinct features, appended in text order (about one or
  //    two per character of text: sized up front to avoid regrowing).
  let totalLength = 0;
  for (const t of texts) totalLength += t.length;
  let capacity = Math.max(1 << 12, Math.ceil(totalLength * 1.6));
  let hashA = new Int32Array(capacity);
  let hashB = new Int32Array(capacity);
  let block = new Uint8Array(capacity);
  let tf = new Float32Array(capacity);
  const docPtr = new Int32Array(texts.length + 1);
  const distinct = new DistinctFeatures();
  let nnz = 0;
  for (let d = 0; d < texts.length; d++) {
    const occ = extractor.extract(texts[d]!);
    const size = distinct.count(occ);
    if (nnz + size > capacity) {
      while (nnz + size > capacity) capacity *= 2;
      const grow = <T extends Int32Array | Uint8Array | Float32Array>(a: T, make: (c: number) => T): T => {
        const next = make(capacity);
        next.set(a);
        return next;
      };
      hashA = grow(hashA, (c) => new Int32Array(c));
      hashB = grow(hashB, (c) => new Int32Array(c));
      block = grow(block, (c) => new Uint8Array(c));
      tf = grow(tf, (c) => new Float32Array(c));
    }
    for (let j = 0; j < size; j++) {
      hashA[nnz] = distinct.hashA[j]!;
      hashB[nnz] = distinct.hashB[j]!;
      block[nnz] = blockOf(occ.kind[distinct.first[j]!]! as FeatureKind);
      tf[nnz] = distinct.tf[j]!;
      nnz++;
    }
    docPtr[d + 1] = nnz;
  }

  // 2. Group equal features (sort by hash A; the rare A-collisions are told
  //    apart by hash B) and number them: raw id, df = size of the group.
  const { order, sorted } = sortByKey(hashA, nnz);
  const sortedB = new Int32Array(nnz);
  for (let q = 0; q < nnz; q++) sortedB[q] = hashB[order[q]!]!;
  const docFeature = new Int32Array(nnz);
  const rawHashA = new Int32Array(nnz);
  const rawHashB = new Int32Array(nnz);
  const rawBlock = new Uint8Array(nnz);
  const rawDf = new Int32Array(nnz);
  let rawCount = 0;
  for (let g = 0; g < nnz; ) {
    const a = sorted[g]!;
    let end = g + 1;
    while (end < nnz && sorted[end] === a) end++;
    let uniform = true;
    const b0 = sortedB[g]!;
    for (let q = g + 1; q < end && uniform; q++) uniform = sortedB[q] === b0;
    if (!uniform) {
      // Same hash A, different features: order the group by hash B.
      const part = Array.from(order.subarray(g, end)).sort((x, y) => hashB[x]! - hashB[y]!);
      order.set(part, g);
      for (let q = g; q < end; q++) sortedB[q] = hashB[order[q]!]!;
    }
    for (let q = g; q < end; ) {
      const b = sortedB[q]!;
      const id = rawCount++;
      rawHashA[id] = a | 0;
      rawHashB[id] = b;
      rawBlock[id] = block[order[q]!]!;
      let r = q;
      for (; r < end && sortedB[r] === b; r++) docFeature[order[r]!] = id;
      rawDf[id] = r - q;
      q = r;
    }
    g = end;
  }

  return {
    docCount: texts.length,
    rawCount,
    rawHashA: rawHashA.subarray(0, rawCount),
    rawHashB: rawHashB.subarray(0, rawCount),
    rawBlock: rawBlock.subarray(0, rawCount),
    rawDf: rawDf.subarray(0, rawCount),
    docPtr,
    docFeature,
    docTermCount: tf.subarray(0, nnz),
  };
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

/**
 * Vocabulary and idf of the texts `docs`: raw features with df >= minDf in
 * them, numbered by decreasing df so the weights touched most often sit
 * together in memory (it makes the solver markedly faster).
 */
export function buildSpace(corpus: Corpus, docs: Int32Array, minDf: number): FeatureSpace {
  const df = new Int32Array(corpus.rawCount);
  for (const d of docs) {
    for (let p = corpus.docPtr[d]!; p < corpus.docPtr[d + 1]!; p++) df[corpus.docFeature[p]!]!++;
  }
  let size = 0;
  let maxDf = 0;
  for (let r = 0; r < corpus.rawCount; r++) {
    if (df[r]! >= minDf) {
      size++;
      if (df[r]! > maxDf) maxDf = df[r]!;
    }
  }
  // Counting sort by df (descending), stable in raw id order.
  const bucketStart = new Int32Array(maxDf + 2);
  for (let r = 0; r < corpus.rawCount; r++) if (df[r]! >= minDf) bucketStart[maxDf - df[r]! + 1]!++;
  for (let k = 1; k < bucketStart.length; k++) bucketStart[k]! += bucketStart[k - 1]!;
  const rawToFeature = new Int32Array(corpus.rawCount).fill(-1);
  const featureRaw = new Int32Array(size);
  const idf = new Float32Array(size);
  for (let r = 0; r < corpus.rawCount; r++) {
    if (df[r]! < minDf) continue;
    const f = bucketStart[maxDf - df[r]!]!++;
    rawToFeature[r] = f;
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
/** 1 + ln(tf) for small counts (the common case), shared by training and classification. */
const SUBLINEAR = Float64Array.from({ length: 64 }, (_, tf) => (tf === 0 ? 0 : 1 + Math.log(tf)));

export function sublinearTf(tf: number): number {
  return tf < 64 ? SUBLINEAR[tf]! : 1 + Math.log(tf);
}

export interface BlockScales {
  /** Factor for the character block's weights. */
  char: number;
  /** Factor for the word block's weights. */
  word: number;
  /** Share (0..1) of the squared mass on unknown features, averaged over the non-empty blocks. */
  unknown: number;
}

/**
 * Factors turning tf-idf weights into the final unit-length vector, from the
 * blocks' squared norms (unknown features included) and unknown squared mass.
 * Each block is normalised, then the word block weighs `wordWeight` times the
 * character block (before the whole is scaled back to unit length).
 */
export function blockScales(
  charSq: number,
  wordSq: number,
  charUnknownSq: number,
  wordUnknownSq: number,
  wordWeight: number,
): BlockScales {
  const hasChar = charSq > 0;
  const hasWord = wordSq > 0;
  if (!hasChar && !hasWord) return { char: 0, word: 0, unknown: 1 };
  const blockChar = hasChar ? 1 : 0;
  const blockWord = hasWord ? wordWeight : 0;
  const total = Math.sqrt(blockChar * blockChar + blockWord * blockWord);
  const unknown =
    ((hasChar ? charUnknownSq / charSq : 0) + (hasWord ? wordUnknownSq / wordSq : 0)) /
    ((hasChar ? 1 : 0) + (hasWord ? 1 : 0));
  return {
    char: hasChar ? blockChar / total / Math.sqrt(charSq) : 0,
    word: hasWord ? blockWord / total / Math.sqrt(wordSq) : 0,
    unknown,
  };
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
  private readonly normSq = new Float64Array(2);
  private readonly unknownSq = new Float64Array(2);

  constructor(private readonly wordWeight: number) {}

  reset(): void {
    this.normSq.fill(0);
    this.unknownSq.fill(0);
  }

  /** Weight of one feature with term count `tf`; accumulates the norms. */
  add(block: number, tf: number, idf: number, known: boolean): number {
    const v = sublinearTf(tf) * idf;
    this.normSq[block]! += v * v;
    if (!known) this.unknownSq[block]! += v * v;
    return v;
  }

  scales(): BlockScales {
    return blockScales(this.normSq[0]!, this.normSq[1]!, this.unknownSq[0]!, this.unknownSq[1]!, this.wordWeight);
  }
}

export function vectorize(corpus: Corpus, space: FeatureSpace, docs: Int32Array, wordWeight: number): SparseRows {
  let total = 0;
  for (const d of docs) total += corpus.docPtr[d + 1]! - corpus.docPtr[d]!;
  const rowPtr = new Int32Array(docs.length + 1);
  const col = new Int32Array(total);
  const val = new Float32Array(total);
  const unknown = new Float64Array(docs.length);
  const weighter = new RowWeighter(wordWeight);
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

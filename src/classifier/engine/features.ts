/**
 * Feature extraction: character n-grams, words and word bigrams of an
 * analysed text, each identified by a 64-bit hash of its key string
 * ("c" + n-gram, "w" + word, "b" + word + " " + word; `hashKey` of that
 * string gives the same pair). Models store the hashes, not the strings.
 *
 * Features fall into two blocks — characters and words — that are weighted
 * and L2-normalised separately (then scaled so the whole vector has unit
 * length), so that the many overlapping character n-grams do not drown the
 * words.
 */
import { hashFinish, hashFold, SEED_A, SEED_B } from './hashing.js';
import { blankLinks, TextAnalyzer, type AnalyzedText, type AnalyzerOptions } from './text-analyzer.js';

export interface FeatureOptions extends AnalyzerOptions {
  /** Shortest and longest character n-gram (0 = no character features). */
  charNgramMin: number;
  charNgramMax: number;
  /** Word unigrams. */
  words: boolean;
  /** Pairs of consecutive words. */
  wordBigrams: boolean;
}

export const enum FeatureKind {
  Char = 0,
  Word = 1,
  Bigram = 2,
}

/** Which normalisation block a kind of feature belongs to. */
export function blockOf(kind: FeatureKind): 0 | 1 {
  return kind === FeatureKind.Char ? 0 : 1;
}

const PREFIX_CHAR = 0x63; // 'c'
const PREFIX_WORD = 0x77; // 'w'
const PREFIX_BIGRAM = 0x62; // 'b'

/**
 * The features of one text as parallel arrays, one entry per occurrence. Only
 * valid until the extractor's next call.
 */
export interface Occurrences {
  readonly count: number;
  readonly kind: Uint8Array;
  readonly hashA: Int32Array;
  readonly hashB: Int32Array;
  /** Input offsets of the occurrence (end exclusive). */
  readonly start: Int32Array;
  readonly end: Int32Array;
  readonly text: AnalyzedText;
}

export class FeatureExtractor {
  private readonly analyzer: TextAnalyzer;
  private capacity = 0;
  private kind = new Uint8Array(0);
  private hashA = new Int32Array(0);
  private hashB = new Int32Array(0);
  private start = new Int32Array(0);
  private end = new Int32Array(0);

  constructor(readonly options: FeatureOptions) {
    this.analyzer = new TextAnalyzer(options);
  }

  extract(input: string): Occurrences {
    // A web address counts for nothing, in the examples as in a report (offsets stay those of the input).
    const text = this.analyzer.analyze(blankLinks(input));
    const { norm, origStart, origEnd, chars, charRun, words, wordCount } = text;
    const { charNgramMin, charNgramMax } = this.options;
    const nChars = chars.length;
    const upper =
      (charNgramMax > 0 ? nChars * (charNgramMax - charNgramMin + 1) : 0) +
      (this.options.words ? wordCount : 0) +
      (this.options.wordBigrams ? wordCount : 0);
    this.ensure(upper);
    const { kind, hashA, hashB, start, end } = this;
    let n = 0;

    if (charNgramMax > 0) {
      for (let i = 0; i < nChars; i++) {
        const run = charRun[i]!;
        let a = hashFold(SEED_A, PREFIX_CHAR);
        let b = hashFold(SEED_B, PREFIX_CHAR);
        for (let len = 1; len <= charNgramMax; len++) {
          const j = i + len - 1;
          if (j >= nChars || charRun[j] !== run) break;
          const u = norm.charCodeAt(chars[j]!);
          a = hashFold(a, u);
          b = hashFold(b, u);
          if (len < charNgramMin) continue;
          kind[n] = FeatureKind.Char;
          hashA[n] = hashFinish(a, len + 1);
          hashB[n] = hashFinish(b, len + 1);
          start[n] = origStart[chars[i]!]!;
          end[n] = origEnd[chars[j]!]!;
          n++;
        }
      }
    }

    if (this.options.words || this.options.wordBigrams) {
      for (let w = 0; w < wordCount; w++) {
        const ws = words[2 * w]!;
        const we = words[2 * w + 1]!;
        if (this.options.words) {
          let a = hashFold(SEED_A, PREFIX_WORD);
          let b = hashFold(SEED_B, PREFIX_WORD);
          for (let p = ws; p < we; p++) {
            const u = norm.charCodeAt(p);
            a = hashFold(a, u);
            b = hashFold(b, u);
          }
          kind[n] = FeatureKind.Word;
          hashA[n] = hashFinish(a, we - ws + 1);
          hashB[n] = hashFinish(b, we - ws + 1);
          start[n] = origStart[ws]!;
          end[n] = origEnd[we - 1]!;
          n++;
        }
        if (this.options.wordBigrams && w > 0) {
          // Hash of "b" + previous word + " " + this word, streamed.
          const pws = words[2 * w - 2]!;
          const pwe = words[2 * w - 1]!;
          let a = hashFold(SEED_A, PREFIX_BIGRAM);
          let b = hashFold(SEED_B, PREFIX_BIGRAM);
          for (let p = pws; p < pwe; p++) {
            const u = norm.charCodeAt(p);
            a = hashFold(a, u);
            b = hashFold(b, u);
          }
          a = hashFold(a, 0x20);
          b = hashFold(b, 0x20);
          for (let p = ws; p < we; p++) {
            const u = norm.charCodeAt(p);
            a = hashFold(a, u);
            b = hashFold(b, u);
          }
          const len = pwe - pws + 1 + we - ws + 1;
          kind[n] = FeatureKind.Bigram;
          hashA[n] = hashFinish(a, len);
          hashB[n] = hashFinish(b, len);
          start[n] = origStart[pws]!;
          end[n] = origEnd[we - 1]!;
          n++;
        }
      }
    }

    return { count: n, kind, hashA, hashB, start, end, text };
  }

  private ensure(size: number): void {
    if (size <= this.capacity) return;
    let c = Math.max(1024, this.capacity);
    while (c < size) c *= 2;
    this.capacity = c;
    this.kind = new Uint8Array(c);
    this.hashA = new Int32Array(c);
    this.hashB = new Int32Array(c);
    this.start = new Int32Array(c);
    this.end = new Int32Array(c);
  }
}

/**
 * The distinct features of one text with their counts and first occurrence,
 * found with a small table that stays in cache (stamped per text, never
 * cleared). Reused across texts; valid until the next `count` call.
 */
export class DistinctFeatures {
  size = 0;
  hashA = new Int32Array(0);
  hashB = new Int32Array(0);
  tf = new Float64Array(0);
  /** Occurrence index of the first occurrence. */
  first = new Int32Array(0);
  private slotKeyA = new Int32Array(0);
  private slotKeyB = new Int32Array(0);
  private slotStamp = new Int32Array(0);
  private slotValue = new Int32Array(0);
  private mask = 0;
  private stamp = 0;

  count(occ: Occurrences): number {
    this.ensure(occ.count);
    if (this.stamp >= 0x3fffffff) {
      // Stamps are int32: start over long before they could wrap.
      this.slotStamp.fill(0);
      this.stamp = 0;
    }
    const { slotKeyA, slotKeyB, slotStamp, slotValue, hashA, hashB, tf, first, mask } = this;
    const stamp = ++this.stamp;
    let size = 0;
    for (let i = 0; i < occ.count; i++) {
      const a = occ.hashA[i]!;
      const b = occ.hashB[i]!;
      let slot = (a ^ (b >>> 7)) & mask;
      for (;;) {
        if (slotStamp[slot] !== stamp) {
          slotStamp[slot] = stamp;
          slotKeyA[slot] = a;
          slotKeyB[slot] = b;
          slotValue[slot] = size;
          hashA[size] = a;
          hashB[size] = b;
          tf[size] = 1;
          first[size] = i;
          size++;
          break;
        }
        if (slotKeyA[slot] === a && slotKeyB[slot] === b) {
          tf[slotValue[slot]!]! += 1;
          break;
        }
        slot = (slot + 1) & mask;
      }
    }
    this.size = size;
    return size;
  }

  private ensure(n: number): void {
    if (n <= this.hashA.length) return;
    let c = 1024;
    while (c < n) c *= 2;
    this.hashA = new Int32Array(c);
    this.hashB = new Int32Array(c);
    this.tf = new Float64Array(c);
    this.first = new Int32Array(c);
    this.slotKeyA = new Int32Array(c * 2);
    this.slotKeyB = new Int32Array(c * 2);
    this.slotStamp = new Int32Array(c * 2);
    this.slotValue = new Int32Array(c * 2);
    this.mask = c * 2 - 1;
    this.stamp = 0;
  }
}

/**
 * Normalisation and tokenisation of Chinese complaint text, keeping a map
 * back to the caller's character offsets so evidence can point at the input.
 *
 * - Every character is NFKC-normalised and lower-cased on its own (full-width
 *   ＡＢＣ１２３ becomes abc123), so one input character maps to one or more
 *   normalised units and each unit remembers the input span it came from.
 * - Whitespace separates tokens. A text that is already word-segmented (words
 *   separated by spaces, as jieba output is) keeps its words; longer
 *   whitespace-free chunks, i.e. ordinary running Chinese text, are split into
 *   words by `Intl.Segmenter('zh')`.
 * - Character n-grams run over "content" characters (letters, digits,
 *   ideographs) and stop at punctuation; optionally they also run across
 *   spaces, which rejoins pre-segmented text into something close to the
 *   original wording.
 */

export interface AnalyzerOptions {
  /** Fold every digit to 0 so dates, phone and house numbers share features. */
  foldDigits: boolean;
  /**
   * Text split by whitespace into chunks of at most this many characters on
   * average (and at least 3 chunks) is taken as already word-segmented: its
   * chunks are its words. Other text is split by `Intl.Segmenter`.
   */
  maxPresegmentedWord: number;
  /** Let character n-grams run across whitespace (not across punctuation). */
  charNgramsAcrossSpaces: boolean;
}

export interface AnalyzedText {
  /** The normalised text, one or more units per input character. */
  readonly norm: string;
  /** Input offset where the character behind each normalised unit starts. */
  readonly origStart: Int32Array;
  /** Input offset just past the character behind each normalised unit. */
  readonly origEnd: Int32Array;
  /** Positions (in `norm`) of the content characters, in order. */
  readonly chars: Int32Array;
  /** Run number of each entry of `chars`: n-grams never span two runs. */
  readonly charRun: Int32Array;
  /** Words as [start, end) pairs of positions in `norm`. */
  readonly words: Int32Array;
  readonly wordCount: number;
  /** Its whitespace chunks were taken as words already (see `maxPresegmentedWord`). */
  readonly presegmented: boolean;
  /** A chunk was too long to give `Intl.Segmenter` whole, and went to it in pieces. */
  readonly piecewise: boolean;
}

const enum CharClass {
  Unknown = 0,
  Space = 1,
  Content = 2,
  Boundary = 3,
}

const CONTENT_RE = /^[\p{L}\p{N}\p{M}]$/u;
const SPACE_RE = /^\s$/u;

/** Pure memo tables (the same for every analyzer, filled lazily). */
const classCache = new Uint8Array(65536);
const normCache = new Map<number, string>();

function classOf(unit: number): CharClass {
  const cached = classCache[unit]!;
  if (cached !== CharClass.Unknown) return cached as CharClass;
  let c: CharClass;
  if (unit >= 0xd800 && unit <= 0xdfff) c = CharClass.Content; // astral ideographs etc.
  else {
    const s = String.fromCharCode(unit);
    c = SPACE_RE.test(s) ? CharClass.Space : CONTENT_RE.test(s) ? CharClass.Content : CharClass.Boundary;
  }
  classCache[unit] = c;
  return c;
}

function normalizeUnit(unit: number): string {
  let s = normCache.get(unit);
  if (s === undefined) {
    s = String.fromCharCode(unit).normalize('NFKC').toLowerCase();
    normCache.set(unit, s);
  }
  return s;
}

/**
 * A web address pasted into a report (a video's share link, https://v.douyin.com/iRNBho6u/, or www.…): its letters
 * say nothing about the problem, and to a model they are features no example had, which lowers its confidence in
 * what the words around it say. It runs to the first space, ideograph or full-width character.
 */
const WEB_ADDRESS = /(?:https?:\/\/|www\.)[\x21-\x7e]*/gi;

/** The text with each web address in it blanked out (spaces), its other characters where they were. */
export function blankLinks(text: string): string {
  if (!/https?:|www\./i.test(text)) return text;
  return text.replace(WEB_ADDRESS, (link) => ' '.repeat(link.length));
}

/** Apostrophes other than ' that keyboards and autocorrect type: right single quotation mark, modifier letter apostrophe, prime. */
const TYPED_APOSTROPHES = new Set([0x2019, 0x02bc, 0x2032]);

/**
 * Text folded for phrase matching: NFKC, lower case, typed apostrophes as ', whitespace dropped (so a
 * phrase matches across the spaces of pre-segmented text), with each folded
 * unit's input span.
 */
export interface FoldedText {
  readonly text: string;
  readonly start: Int32Array;
  readonly end: Int32Array;
}

export function foldForMatching(input: string): FoldedText {
  const units: number[] = [];
  const start: number[] = [];
  const end: number[] = [];
  for (let i = 0; i < input.length; i++) {
    const typed = input.charCodeAt(i);
    // An apostrophe as phones and word processors type it (can’t, canʼt) matches a phrase's own (can't).
    const u = TYPED_APOSTROPHES.has(typed) ? 0x27 : typed;
    const s = u < 0x80 || (u >= 0x4e00 && u <= 0x9fff) || (u >= 0xd800 && u <= 0xdfff) ? null : normalizeUnit(u);
    if (s === null) {
      if (classOf(u) === CharClass.Space) continue;
      units.push(u >= 0x41 && u <= 0x5a ? u + 32 : u);
      start.push(i);
      end.push(i + 1);
      continue;
    }
    for (let k = 0; k < s.length; k++) {
      const v = s.charCodeAt(k);
      if (classOf(v) === CharClass.Space) continue;
      units.push(v);
      start.push(i);
      end.push(i + 1);
    }
  }
  let text = '';
  for (let p = 0; p < units.length; p += 8192) text += String.fromCharCode.apply(null, units.slice(p, p + 8192));
  return { text, start: Int32Array.from(start), end: Int32Array.from(end) };
}

const SEGMENT_PIECE = 256;

let segmenter: Intl.Segmenter | undefined;
function getSegmenter(): Intl.Segmenter {
  segmenter ??= new Intl.Segmenter('zh', { granularity: 'word' });
  return segmenter;
}

/**
 * Turns text into normalised units, character runs and words. An analyzer
 * keeps scratch buffers, so the arrays of one result are only valid until the
 * next call (classification is synchronous, which makes this safe).
 */
export class TextAnalyzer {
  private capacity = 0;
  private units = new Uint16Array(0);
  private start = new Int32Array(0);
  private end = new Int32Array(0);
  private chars = new Int32Array(0);
  private runs = new Int32Array(0);
  private words = new Int32Array(0);
  private wordsLength = 0;
  private piecewise = false;
  private readonly chunkStarts: number[] = [];
  private readonly chunkEnds: number[] = [];

  constructor(readonly options: AnalyzerOptions) {}

  analyze(text: string): AnalyzedText {
    const { foldDigits, charNgramsAcrossSpaces } = this.options;
    this.ensure(text.length * 2 + 16);

    // 1. Normalise unit by unit, remembering where each unit came from.
    let n = 0;
    let changed = false;
    for (let i = 0; i < text.length; i++) {
      const u = text.charCodeAt(i);
      if (n + 32 > this.capacity) this.ensure(n + 64);
      const { units, start, end } = this;
      if (u >= 0x4e00 && u <= 0x9fff) {
        // CJK unified ideographs: NFKC and case are identities.
        units[n] = u;
        start[n] = i;
        end[n++] = i + 1;
        continue;
      }
      if (u < 0x80) {
        let v = u >= 0x41 && u <= 0x5a ? u + 32 : u;
        if (foldDigits && v >= 0x31 && v <= 0x39) v = 0x30;
        else if (v === 0x09 || v === 0x0a || v === 0x0d || v === 0x0b || v === 0x0c) v = 0x20;
        if (v !== u) changed = true;
        units[n] = v;
        start[n] = i;
        end[n++] = i + 1;
        continue;
      }
      if (u >= 0xd800 && u <= 0xdbff && i + 1 < text.length) {
        const next = text.charCodeAt(i + 1);
        if (next >= 0xdc00 && next <= 0xdfff) {
          // Astral character: kept as it is.
          units[n] = u;
          units[n + 1] = next;
          start[n] = start[n + 1] = i;
          end[n] = end[n + 1] = i + 2;
          n += 2;
          i++;
          continue;
        }
      }
      const s = normalizeUnit(u);
      if (s.length + n + 32 > this.capacity) this.ensure(n + s.length + 64);
      if (s.length !== 1 || s.charCodeAt(0) !== u) changed = true;
      for (let k = 0; k < s.length; k++) {
        let v = s.charCodeAt(k);
        if (classOf(v) === CharClass.Space) v = 0x20;
        else if (foldDigits && v >= 0x31 && v <= 0x39) v = 0x30;
        if (v !== u) changed = true;
        this.units[n] = v;
        this.start[n] = i;
        this.end[n++] = i + 1;
      }
    }

    const units = this.units;
    let norm: string;
    if (!changed && n === text.length) norm = text;
    else {
      norm = '';
      for (let p = 0; p < n; p += 8192) {
        norm += String.fromCharCode.apply(null, units.subarray(p, Math.min(n, p + 8192)) as unknown as number[]);
      }
    }

    // 2. Character runs: content characters, broken at punctuation (and at
    //    whitespace unless n-grams may run across it). Whitespace chunks.
    const { chars, runs, chunkStarts, chunkEnds } = this;
    chunkStarts.length = chunkEnds.length = 0;
    let nChars = 0;
    let run = 0;
    let lastWasContent = false;
    let chunkStart = -1;
    let contentInChunks = 0;
    for (let p = 0; p <= n; p++) {
      let cls: number;
      if (p === n) cls = CharClass.Space;
      else {
        const u = units[p]!;
        cls = classCache[u]!;
        if (cls === CharClass.Unknown) cls = classOf(u);
      }
      if (cls === CharClass.Content) {
        chars[nChars] = p;
        runs[nChars++] = run;
        lastWasContent = true;
        contentInChunks++;
      } else if (cls === CharClass.Boundary || !charNgramsAcrossSpaces) {
        if (lastWasContent) run++;
        lastWasContent = false;
      }
      if (cls === CharClass.Space) {
        if (chunkStart >= 0) {
          chunkStarts.push(chunkStart);
          chunkEnds.push(p);
          chunkStart = -1;
        }
      } else if (chunkStart < 0) chunkStart = p;
    }

    // 3. Words. Text whose chunks are word-sized was segmented already: its
    //    words are the chunks (split at punctuation). Otherwise each chunk is
    //    running text for Intl.Segmenter.
    this.wordsLength = 0;
    this.piecewise = false;
    const chunks = chunkStarts.length;
    const presegmented = chunks >= 3 && contentInChunks <= chunks * this.options.maxPresegmentedWord;
    for (let c = 0; c < chunks; c++) {
      const from = chunkStarts[c]!;
      const to = chunkEnds[c]!;
      if (presegmented) this.addContentRuns(from, to);
      else this.addSegmentedWords(norm, from, to);
    }

    return {
      norm,
      origStart: this.start.subarray(0, n),
      origEnd: this.end.subarray(0, n),
      chars: chars.subarray(0, nChars),
      charRun: runs.subarray(0, nChars),
      words: this.words.subarray(0, this.wordsLength),
      wordCount: this.wordsLength / 2,
      presegmented,
      piecewise: this.piecewise,
    };
  }

  private addWord(from: number, to: number): void {
    if (this.wordsLength + 2 > this.words.length) {
      const next = new Int32Array(this.words.length * 2 + 64);
      next.set(this.words);
      this.words = next;
    }
    this.words[this.wordsLength++] = from;
    this.words[this.wordsLength++] = to;
  }

  /** Words of a pre-segmented chunk: its runs of content characters. */
  private addContentRuns(from: number, to: number): void {
    let runStart = -1;
    for (let p = from; p <= to; p++) {
      const content = p < to && classOf(this.units[p]!) === CharClass.Content;
      if (content && runStart < 0) runStart = p;
      else if (!content && runStart >= 0) {
        this.addWord(runStart, p);
        runStart = -1;
      }
    }
  }

  private addSegmentedWords(norm: string, from: number, to: number): void {
    // Short all-content chunks are words already; the segmenter costs ~10 µs a call.
    let allContent = to - from <= 2;
    for (let p = from; allContent && p < to; p++) allContent = classOf(this.units[p]!) === CharClass.Content;
    if (allContent) {
      this.addWord(from, to);
      return;
    }
    // ICU's segmenter slows down more than linearly on long strings, and no
    // word spans punctuation: feed it pieces of at most SEGMENT_PIECE units,
    // cut after a punctuation mark where there is one.
    if (to - from > SEGMENT_PIECE) this.piecewise = true;
    for (let start = from; start < to; ) {
      let end = Math.min(to, start + SEGMENT_PIECE);
      if (end < to) {
        for (let p = end - 1; p > start + SEGMENT_PIECE / 2; p--) {
          if (classOf(this.units[p]!) !== CharClass.Content) {
            end = p + 1;
            break;
          }
        }
      }
      for (const seg of getSegmenter().segment(norm.slice(start, end))) {
        if (!seg.isWordLike) continue;
        this.addWord(start + seg.index, start + seg.index + seg.segment.length);
      }
      start = end;
    }
  }

  private ensure(size: number): void {
    if (size <= this.capacity) return;
    let c = Math.max(1024, this.capacity * 2);
    while (c < size) c *= 2;
    const grow = <T extends Int32Array | Uint16Array>(a: T, make: (k: number) => T): T => {
      const next = make(c);
      next.set(a);
      return next;
    };
    this.units = grow(this.units, (k) => new Uint16Array(k));
    this.start = grow(this.start, (k) => new Int32Array(k));
    this.end = grow(this.end, (k) => new Int32Array(k));
    this.chars = new Int32Array(c);
    this.runs = new Int32Array(c);
    this.capacity = c;
  }
}

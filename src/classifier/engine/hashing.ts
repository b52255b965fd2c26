/**
 * Small, dependency-free hashing helpers.
 *
 * Features are identified by a 64-bit key made of two independent 32-bit
 * murmur3-style hashes, so extracting and looking them up never allocates a
 * string (that is what keeps classification of a long text well under a
 * millisecond). The same functions hash a feature's key string when a model is
 * loaded, so a key computed from positions in a text and the stored key string
 * always agree.
 */

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;
/** Seeds of the two independent hash streams. */
export const SEED_A = 0x9747b28c;
export const SEED_B = 0x5bd1e995;

/** Mixes one UTF-16 code unit into a running hash. */
export function hashFold(h: number, unit: number): number {
  let k = Math.imul(unit, C1);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, C2);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/** Final avalanche (murmur3 fmix32), with the number of units folded in. */
export function hashFinish(h: number, length: number): number {
  h ^= length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}

/** Both 32-bit hashes of a whole string, e.g. a stored feature key. */
export function hashKey(key: string): [number, number] {
  let a = SEED_A;
  let b = SEED_B;
  for (let i = 0; i < key.length; i++) {
    const u = key.charCodeAt(i);
    a = hashFold(a, u);
    b = hashFold(b, u);
  }
  return [hashFinish(a, key.length), hashFinish(b, key.length)];
}

/**
 * Short hex digest of some strings (64 bits), for fingerprints of training
 * data, options and models. Not cryptographic: it tells a stale cache from a
 * fresh one, it does not defend against forgery.
 */
export function digest(parts: Iterable<string>): string {
  let a = SEED_A;
  let b = SEED_B;
  let n = 0;
  for (const part of parts) {
    for (let i = 0; i < part.length; i++) {
      const u = part.charCodeAt(i);
      a = hashFold(a, u);
      b = hashFold(b, u);
    }
    // A separator no text contains keeps ["ab","c"] apart from ["a","bc"].
    a = hashFold(a, 0xffff);
    b = hashFold(b, 0xfffe);
    n += part.length + 1;
  }
  return hex32(hashFinish(a, n)) + hex32(hashFinish(b, n));
}

function hex32(x: number): string {
  return (x >>> 0).toString(16).padStart(8, '0');
}

/**
 * Open-addressing map from a 64-bit key (two int32 halves) to a non-negative
 * int. Linear probing over a power-of-two table that grows at 50 % load; key
 * halves and value sit side by side so a probe touches one cache line.
 */
export class HashIndex {
  private table: Int32Array;
  private mask: number;
  private count = 0;

  constructor(expected = 1024) {
    let capacity = 1024;
    while (capacity < expected * 2) capacity *= 2;
    this.table = HashIndex.emptyTable(capacity);
    this.mask = capacity - 1;
  }

  /** Values are stored plus one, so a fresh (zeroed) table is empty. */
  private static emptyTable(capacity: number): Int32Array {
    return new Int32Array(capacity * 3);
  }

  get size(): number {
    return this.count;
  }

  /** The value stored for the key, or -1. */
  get(a: number, b: number): number {
    const { table, mask } = this;
    let slot = (a ^ (b >>> 7)) & mask;
    for (;;) {
      const o = slot * 3;
      const v = table[o + 2]!;
      if (v === 0) return -1;
      if (table[o] === a && table[o + 1] === b) return v - 1;
      slot = (slot + 1) & mask;
    }
  }

  /** Stores `value` unless the key is present; returns the value now stored. */
  getOrInsert(a: number, b: number, value: number): number {
    if ((this.count + 1) * 2 > this.mask + 1) this.grow();
    const { table, mask } = this;
    let slot = (a ^ (b >>> 7)) & mask;
    for (;;) {
      const o = slot * 3;
      const v = table[o + 2]!;
      if (v === 0) {
        table[o] = a;
        table[o + 1] = b;
        table[o + 2] = value + 1;
        this.count++;
        return value;
      }
      if (table[o] === a && table[o + 1] === b) return v - 1;
      slot = (slot + 1) & mask;
    }
  }

  private grow(): void {
    const old = this.table;
    const capacity = (this.mask + 1) * 2;
    this.table = HashIndex.emptyTable(capacity);
    this.mask = capacity - 1;
    this.count = 0;
    for (let o = 0; o < old.length; o += 3) {
      const v = old[o + 2]!;
      if (v !== 0) this.getOrInsert(old[o]!, old[o + 1]!, v - 1);
    }
  }
}

import { randomFillSync } from 'node:crypto';
import { v7 } from 'uuid';

/**
 * Row ids are UUIDv7: unique across processes like any UUID, but ordered by
 * creation time, so new rows land at the end of every index instead of on a
 * random page (which keeps inserts cheap on SQLite and PostgreSQL alike).
 * Random bytes come from a pool refilled 4 KB at a time: asking the OS for
 * 16 bytes per id costs more than the rest of id generation.
 */
const pool = Buffer.alloc(4096);
let offset = pool.length;

/** `n` (at most 4096) cryptographically random bytes from the pool; valid until the next call. */
export function randomFromPool(n: number): Uint8Array {
  if (offset + n > pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const bytes = pool.subarray(offset, offset + n);
  offset += n;
  return bytes;
}

function random16(): Uint8Array {
  return randomFromPool(16);
}

export function newId(): string {
  return v7({ random: random16() });
}

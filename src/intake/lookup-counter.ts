// The memory limiter alone (src/types/rate-limiter-memory.d.ts): the package's entry does not bundle for Workers.
import RateLimiterMemory from 'rate-limiter-flexible/lib/RateLimiterMemory.js';
import type { IntakeLimit } from '../env.js';

/**
 * The lookups of tracking codes no case has, per sender (TRACK_LOOKUP_LIMIT):
 * a sender that tried that many unknown codes in the window is held back
 * from any lookup until the window ends, so codes cannot be tried by the
 * thousand to find a case's timeline and reply (and rate it). A known code
 * costs nothing: a resident looking up their own case is never stopped.
 * Counted in this process's memory (rate-limiter-flexible).
 */
export interface LookupCounter {
  /** Seconds until the sender may look up again, or null when it may now. */
  heldBack(sender: string): Promise<number | null>;
  /** Counts one unknown code the sender tried. */
  missed(sender: string): Promise<void>;
}

export function lookupCounter(limit: IntakeLimit | null): LookupCounter {
  if (!limit) return { heldBack: async () => null, missed: async () => undefined };
  const misses = new RateLimiterMemory({ points: limit.reports, duration: limit.windowS });
  return {
    async heldBack(sender) {
      const tried = await misses.get(sender);
      // A window that ended is over even where its timer never ran to forget it (a Workers isolate between requests).
      if (!tried || tried.msBeforeNext <= 0 || tried.consumedPoints < limit.reports) return null;
      return Math.ceil(tried.msBeforeNext / 1000);
    },
    async missed(sender) {
      await misses.penalty(sender, 1);
    },
  };
}

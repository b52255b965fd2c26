import { RateLimiterMemory, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { IntakeLimit } from '../env.js';
import type { GateAnswer, IntakeGate } from './intake-gate.js';

/**
 * The intake gate counting in this process's memory (rate-limiter-flexible):
 * free, and exact with one API process (the default, `npm start`); with
 * several, each allows the limit unless the load balancer sends an address
 * to one process. Counts are lost when the process stops.
 */
export function createMemoryIntakeGate(limit: IntakeLimit): IntakeGate {
  const counts = new RateLimiterMemory({ points: limit.reports, duration: limit.windowS });
  return {
    limit,
    take: (sender) => consumeOne(counts, sender),
    async giveBack(sender) {
      await counts.reward(sender).catch(() => undefined);
    },
    async close() {},
  };
}

/** One report of the sender counted: allowed, or refused with the seconds until its window ends. */
export function consumeOne(counts: RateLimiterAbstract, key: string): Promise<GateAnswer> {
  return counts.consume(key).then(
    () => ({ ok: true }) as const,
    (res: unknown) =>
      res instanceof RateLimiterRes
        ? { ok: false as const, retryAfterS: Math.max(1, Math.ceil(res.msBeforeNext / 1000)) }
        : // The memory cannot fail to count; were it to, the report is taken, not lost.
          { ok: true as const },
  );
}

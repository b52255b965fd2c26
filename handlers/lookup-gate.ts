import type { MiddlewareHandler } from 'hono';
// The memory limiter alone (src/types/rate-limiter-memory.d.ts): the package's entry does not bundle for Workers.
import RateLimiterMemory from 'rate-limiter-flexible/lib/RateLimiterMemory.js';
import type { IntakeLimit } from '../src/env.js';
import { AppError } from '../src/errors.js';
import { senderOfAddress } from '../src/intake/intake-gate.js';
import { clientAddress } from '../src/web/session.js';
import type { AppEnv } from './app-env.js';

/**
 * The limit of lookups of tracking codes no case has (TRACK_LOOKUP_LIMIT),
 * for the routes that take a code: an address that tried that many unknown
 * codes in the window gets 429 for any lookup until the window ends, so codes
 * cannot be tried by the thousand to find a case's timeline and reply (and rate
 * it). A known code costs nothing: a resident reloading their page is never
 * stopped. Counted in this process's memory (rate-limiter-flexible), by the
 * address as the intake limit counts it (an IPv6 host by its /64).
 */
export function trackLookupGate(limit: IntakeLimit | null): MiddlewareHandler<AppEnv> {
  if (!limit) return (_c, next) => next();
  const misses = new RateLimiterMemory({ points: limit.reports, duration: limit.windowS });
  return async (c, next) => {
    const sender = senderOfAddress(clientAddress(c));
    const tried = await misses.get(sender);
    if (tried && tried.consumedPoints >= limit.reports) {
      const retryAfterS = Math.max(1, Math.ceil(tried.msBeforeNext / 1000));
      c.header('Retry-After', String(retryAfterS));
      throw new AppError('rate_limited', `too many lookups of unknown tracking codes from this address; look up again in ${retryAfterS} s`);
    }
    await next();
    if (c.res.status === 404) await misses.penalty(sender, 1);
  };
}

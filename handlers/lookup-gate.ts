import type { MiddlewareHandler } from 'hono';
import type { IntakeLimit } from '../src/env.js';
import { AppError } from '../src/errors.js';
import { senderOfAddress } from '../src/intake/intake-gate.js';
import { lookupCounter } from '../src/intake/lookup-counter.js';
import { clientAddress } from '../src/web/session.js';
import type { AppEnv } from './app-env.js';

/** The counter for the routes that take a code, by the client's address (an IPv6 host by its /64): a 404 is a miss. */
export function trackLookupGate(limit: IntakeLimit | null): MiddlewareHandler<AppEnv> {
  if (!limit) return (_c, next) => next();
  const counter = lookupCounter(limit);
  return async (c, next) => {
    const sender = senderOfAddress(clientAddress(c));
    const retryAfterS = await counter.heldBack(sender);
    if (retryAfterS !== null) {
      c.header('Retry-After', String(retryAfterS));
      throw new AppError('rate_limited', `too many lookups of unknown tracking codes from this address; look up again in ${retryAfterS} s`);
    }
    await next();
    if (c.res.status === 404) await counter.missed(sender);
  };
}

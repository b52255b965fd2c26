import type { Context, MiddlewareHandler } from 'hono';
import type { IntakeLimit } from '../src/env.js';
import { AppError } from '../src/errors.js';
import { senderOfAddress } from '../src/intake/intake-gate.js';
import { lookupCounter } from '../src/intake/lookup-counter.js';
import { formatTime, resolveLang } from '../src/web/i18n.js';
import { wantsHtml } from '../src/web/render.js';
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
      throw new AppError('rate_limited', wantsHtml(c) ? heldBackWords(c, retryAfterS) : `too many lookups of unknown tracking codes from this address; look up again in ${retryAfterS} s`);
    }
    await next();
    if (c.res.status === 404) await counter.missed(sender);
  };
}

/**
 * What the tracking page says to an address held back, in the page's language: why, and from when it may look up
 * again on the district's clock (a resident who mistyped their code is not left guessing how long to wait).
 */
function heldBackWords(c: Context<AppEnv>, retryAfterS: number): string {
  const { clock, district } = c.get('deps');
  const lang = resolveLang(c);
  const until = formatTime(new Date(clock.now().getTime() + retryAfterS * 1000), lang, district.file.district.timezone);
  return lang === 'zh'
    ? `从您所在网络查询的查询码有太多次对不上任何举报，查询暂停。请核对查询码，于 ${until} 之后再查询。`
    : `Too many tracking codes that match no report were looked up from your network, so looking up is paused. Please check your code and look it up again after ${until}.`;
}

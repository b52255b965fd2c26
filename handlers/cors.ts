import type { MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';
import type { Env } from '../src/env.js';

/**
 * The paths a resident's browser may call from another site's page when `CORS_ORIGINS` allows that site: sending a
 * report, following it, rating the answer. Staff routes take bearer tokens and are never opened to other origins.
 */
export const CROSS_ORIGIN_PATHS = ['/api/v1/reports', '/api/v1/track/*'] as const;

/**
 * CORS for the public API (hono's cors), or null when `CORS_ORIGINS` names no origin. A preflight
 * (`OPTIONS` with `Access-Control-Request-Method`) from an allowed origin is a 204 naming the methods and
 * headers the API takes; any other `OPTIONS` goes on to the routes, which answer it 405 as without CORS.
 */
export function publicApiCors(origins: Env['CORS_ORIGINS']): MiddlewareHandler | null {
  if (origins !== '*' && origins.length === 0) return null;
  const allowed = (origin: string | undefined) => origin !== undefined && (origins === '*' || origins.includes(origin));
  const answer = cors({
    origin: origins === '*' ? '*' : [...origins],
    allowMethods: ['GET', 'HEAD', 'POST'],
    allowHeaders: ['Content-Type', 'Idempotency-Key', 'Accept-Language', 'X-Request-Id'],
    // What a client reads besides the body: the request id to quote, when to send again, a replayed submission.
    exposeHeaders: ['X-Request-Id', 'Retry-After', 'Idempotent-Replayed', 'Location'],
    maxAge: 600,
  });
  return async (c, next) => {
    const preflight = c.req.method === 'OPTIONS' && c.req.header('access-control-request-method') !== undefined;
    if (c.req.method === 'OPTIONS' && !(preflight && allowed(c.req.header('origin')))) return next();
    return answer(c, next);
  };
}

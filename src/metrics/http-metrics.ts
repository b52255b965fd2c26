import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../../handlers/app-env.js';
import type { ServiceMetrics } from './metrics.js';

/** Times every request and counts it by route pattern (`/api/v1/cases/:id`, not the raw path) and status. */
export function httpMetricsMiddleware(metrics: ServiceMetrics): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const started = performance.now();
    try {
      await next();
    } finally {
      // A path no route matched keeps the catch-all's pattern: one series for all of them.
      const pattern = c.req.routePath;
      const route = !pattern || pattern === '/*' || pattern === '*' ? '(unmatched)' : pattern;
      metrics.httpRequest(c.req.method, route, c.res.status, (performance.now() - started) / 1000);
    }
  };
}

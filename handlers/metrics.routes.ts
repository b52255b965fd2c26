import { Hono, type Env as HonoEnv } from 'hono';
import { AppError, errorBody } from '../src/errors.js';

/**
 * GET /metrics: the Prometheus exposition. With a token, only a request
 * carrying `Authorization: Bearer <token>` gets it; without one the route is
 * open, which the runtime allows only on the separate admin port.
 */
export function metricsRoutes<E extends HonoEnv>(opts: {
  token: string | undefined;
  render: () => Promise<{ contentType: string; body: string }>;
}): Hono<E> {
  const app = new Hono<E>();
  app.get('/metrics', async (c) => {
    if (opts.token !== undefined && !bearerMatches(c.req.header('authorization'), opts.token)) {
      c.header('WWW-Authenticate', 'Bearer realm="metrics"');
      const reqId = (c.get('requestId' as never) as string | undefined) ?? '';
      return c.json(errorBody(new AppError('unauthorized', 'a valid metrics token is required'), reqId), 401);
    }
    const { contentType, body } = await opts.render();
    return c.body(body, 200, { 'content-type': contentType, 'cache-control': 'no-store' });
  });
  return app;
}

/** Constant-time comparison, so the token cannot be guessed byte by byte from response times. */
function bearerMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer\s+(.+)$/i.exec(header ?? '');
  const given = m?.[1]?.trim() ?? '';
  let diff = given.length ^ token.length;
  for (let i = 0; i < token.length; i++) diff |= (given.charCodeAt(i) || 0) ^ token.charCodeAt(i);
  return diff === 0;
}

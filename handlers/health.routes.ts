import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import { sql } from 'kysely';
import type { AppEnv } from './app-env.js';
import { errorSchema } from './error-schema.js';
import { validationHook } from './validation.js';

const healthz = createRoute({
  method: 'get',
  path: '/healthz',
  operationId: 'health',
  tags: ['operations'],
  summary: 'The process is up',
  responses: { 200: { description: 'Up', content: { 'application/json': { schema: z.object({ status: z.literal('ok') }) } } } },
});

const readinessSchema = z.object({
  status: z.enum(['ready', 'not_ready']),
  checks: z.object({
    database: z.enum(['ok', 'down']),
    redis: z.enum(['ok', 'down']),
    /** Whether reports are taken: down while the intake writer thread of an API process is being restarted. */
    intake: z.enum(['ok', 'down']),
  }),
});

const readyz = createRoute({
  method: 'get',
  path: '/readyz',
  operationId: 'readiness',
  tags: ['operations'],
  summary: 'The database and Redis are reachable, and reports are taken',
  responses: {
    200: { description: 'Ready', content: { 'application/json': { schema: readinessSchema } } },
    503: {
      description: 'Not ready: a check is down, or the service is stopping (then the error shape, `not_ready`)',
      content: { 'application/json': { schema: z.union([readinessSchema, errorSchema]) } },
    },
  },
});

export function healthRoutes() {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  app.openapi(healthz, (c) => c.json({ status: 'ok' as const }, 200));
  app.openapi(readyz, async (c) => {
    const deps = c.get('deps');
    const [database, redis] = await Promise.all([
      sql`select 1 as ok`.execute(deps.db).then(
        () => 'ok' as const,
        () => 'down' as const,
      ),
      deps.transport.ping().then((up) => (up ? ('ok' as const) : ('down' as const))),
    ]);
    const intake = deps.writer.up?.() === false ? ('down' as const) : ('ok' as const);
    const ready = database === 'ok' && redis === 'ok' && intake === 'ok';
    const body = { status: ready ? ('ready' as const) : ('not_ready' as const), checks: { database, redis, intake } };
    return ready ? c.json(body, 200) : c.json(body, 503);
  });
  return app;
}

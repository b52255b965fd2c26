import { OpenAPIHono, z } from '@hono/zod-openapi';
import { ROLES } from '../src/auth/principal.js';
import { unitView } from '../src/district/district.schema.js';
import type { AppEnv } from './app-env.js';
import { BEARER_SCHEME, authenticate } from './auth.middleware.js';
import { errorResponses } from './error-schema.js';
import { validationHook, apiRoute } from './validation.js';

export const meSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    role: z.enum(ROLES),
    unit: z
      .object({ code: z.string(), name: z.string() })
      .nullable()
      .openapi({ description: 'The bureau or town / sub-district office of a `bureau` account; null for the other roles.' }),
  })
  .openapi('Me');

const getMe = apiRoute({
  method: 'get',
  path: '/api/v1/me',
  operationId: 'getMe',
  tags: ['accounts'],
  summary: 'The account behind the bearer token',
  description: 'Any role. A client checks its token and learns its role and unit here.',
  security: [{ [BEARER_SCHEME]: [] }],
  middleware: [authenticate()] as const,
  responses: {
    200: { description: 'The account', content: { 'application/json': { schema: meSchema } } },
    ...errorResponses(401),
  },
});

export function meRoutes() {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  app.openapi(getMe, (c) => {
    const principal = c.get('principal');
    return c.json(
      {
        id: principal.userId,
        name: principal.name,
        role: principal.role,
        unit: unitView(c.get('deps').district, principal.unitCode),
      },
      200,
    );
  });
  return app;
}

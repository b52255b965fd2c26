import { z } from '@hono/zod-openapi';
import { ERROR_STATUS } from '../src/errors.js';

export const errorSchema = z
  .object({
    error: z.object({
      code: z.enum(Object.keys(ERROR_STATUS) as [keyof typeof ERROR_STATUS, ...Array<keyof typeof ERROR_STATUS>]),
      message: z.string(),
      requestId: z.string(),
      fields: z.record(z.string(), z.string()).optional(),
    }),
  })
  .openapi('Error');

const DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid input; `fields` names each bad field',
  401: 'Missing or invalid credentials (`unauthorized`), or an expired token (`token_expired`)',
  403: 'Not allowed for this role',
  404: 'Not found',
  409: 'Conflicts with the current state',
  412: 'The case is no longer at the version `If-Match` names (`precondition_failed`, `fields["If-Match"]`): nothing was done; read it again for its new `ETag`',
  413: 'Body too large',
  415: 'Unsupported content type',
  429: 'Too many requests (`rate_limited`); send again after `Retry-After` seconds',
};

/** OpenAPI response entries for the error statuses a route can answer with. */
export function errorResponses<S extends number>(...statuses: S[]) {
  return Object.fromEntries(
    statuses.map((s) => [s, { description: DESCRIPTIONS[s] ?? 'Error', content: { 'application/json': { schema: errorSchema } } }]),
  ) as Record<S, { description: string; content: { 'application/json': { schema: typeof errorSchema } } }>;
}

/**
 * The document with the answer any operation may get while the service is
 * stopping or not ready (`503 not_ready`, with `Retry-After`), on every
 * operation that does not describe its own 503: it comes from the server's
 * middleware, before any route, so no route declares it. The refusals every API
 * operation may answer (`withRefusalAnswers`) are added too.
 */
export function withNotReadyAnswers<D extends { paths?: Record<string, unknown> }>(doc: D): D {
  const notReady = {
    description: 'Not ready (`not_ready`): the service is stopping or cannot serve this now; send the request again, after `Retry-After` seconds when given',
    content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
  };
  for (const item of Object.values(doc.paths ?? {})) {
    for (const [method, op] of Object.entries(item as Record<string, { responses?: Record<string, unknown> }>)) {
      if (!HTTP_METHODS.has(method) || !op.responses) continue;
      op.responses['503'] ??= notReady;
    }
  }
  return withRefusalAnswers(doc);
}

/**
 * The document with the refusals every API operation may answer whatever its route declares: a 400 for a query
 * parameter it does not take or a malformed path parameter (`apiRoute`), and for a JSON body a 415 when another
 * content type is sent and a 413 above 1 MB (the app's limit on every API body).
 */
export function withRefusalAnswers<D extends { paths?: Record<string, unknown> }>(doc: D): D {
  const answer = (status: number) => ({ description: DESCRIPTIONS[status] ?? 'Error', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } });
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    if (!path.startsWith('/api/')) continue;
    for (const [method, op] of Object.entries(item as Record<string, { responses?: Record<string, unknown>; requestBody?: { content?: Record<string, unknown> } }>)) {
      if (!HTTP_METHODS.has(method) || !op.responses) continue;
      op.responses['400'] ??= answer(400);
      if (op.requestBody?.content?.['application/json']) {
        op.responses['413'] ??= answer(413);
        op.responses['415'] ??= answer(415);
      }
    }
  }
  return doc;
}

const HTTP_METHODS = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']);

import { createRoute, z, type Hook, type OpenAPIHono } from '@hono/zod-openapi';
import type { RefinementCtx, ZodError } from 'zod';
import { showsNothing, textFault } from '../src/domain/text.js';
import { AppError, fieldsOf } from '../src/errors.js';

export { fieldsOf };

/** What a query parameter an operation does not take is said to be. */
const UNKNOWN_QUERY_PARAMETER = 'unknown query parameter';

/**
 * The one hook every route shares: a validation failure is a 400 naming each
 * field. So is any validated text (body, query or path) the service does not
 * keep (`textFault`: a NUL character, a lone surrogate, bytes that were not
 * UTF-8), so both databases refuse it alike.
 */
export const validationHook: Hook<unknown, any, any, unknown> = (result) => {
  if (!result.success) {
    // A misspelt filter (?stauts=open) is named as what it is: ignored, it would answer with everything.
    let fields = fieldsOf(result.error as ZodError, result.target === 'query' ? UNKNOWN_QUERY_PARAMETER : undefined);
    // Headers arrive lower-cased; name them as they are written (Idempotency-Key), as a 409 about one does.
    if (result.target === 'header') fields = Object.fromEntries(Object.entries(fields).map(([k, v]) => [headerName(k), v]));
    throw new AppError('validation_failed', `invalid ${Object.keys(fields).join(', ')}`, fields);
  }
  const bad = badText(result.data, []);
  if (bad) throw new AppError('validation_failed', `invalid ${bad.path}`, { [bad.path]: bad.reason });
  return undefined;
};

/** idempotency-key → Idempotency-Key. */
function headerName(key: string): string {
  return key.replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase());
}

/** The dotted path of the first string the service does not keep, and why; or null. */
function badText(value: unknown, at: Array<string | number>): { path: string; reason: string } | null {
  if (typeof value === 'string') {
    const reason = textFault(value);
    return reason ? { path: at.join('.') || 'body', reason } : null;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = badText(value[i], [...at, i]);
      if (found) return found;
    }
    return null;
  }
  if (value !== null && typeof value === 'object' && !(value instanceof Blob)) {
    for (const [k, v] of Object.entries(value)) {
      const found = badText(v, [...at, k]);
      if (found) return found;
    }
  }
  return null;
}

/**
 * `textFault` as a zod refinement, for schemas whose page shows the problem
 * next to the field (the resident's report form) rather than leaving it to the hook.
 */
export function keptText(text: string, ctx: RefinementCtx): void {
  const fault = textFault(text);
  if (fault) ctx.addIssue({ code: 'custom', message: fault });
}

/**
 * Free text staff must fill in (a reason, a note, a reply), at most `max` characters. Text of only
 * white space or invisible characters (zero-width spaces, direction marks, Hangul fillers) is as
 * empty as none, as in a report: a return, a supervision or an answer with no word in it is refused.
 */
export function filledText(max: number) {
  return z
    .string({ error: (i) => (i.input === undefined ? 'required' : 'must be a string') })
    .trim()
    .min(1, 'must not be empty')
    .refine((t) => !showsNothing(t), 'must not be empty')
    .max(max, `at most ${max} characters`);
}

/** A whole number from the query string, with its own reason for each way it can be wrong. */
export function queryInt(min: number, max: number) {
  return z
    .string()
    .trim()
    // Decimal digits only: coercion alone reads an empty value as 0 and 0x10 as 16.
    .regex(/^[+-]?\d+(?:\.\d+)?$/, 'must be a number')
    .regex(/^[+-]?\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().min(min, `at least ${min}`).max(max, `at most ${max}`))
    .openapi({ type: 'integer', minimum: min, maximum: max });
}

/** A moment the service recorded, as it answers one: an ISO 8601 UTC date-time (`2026-11-02T02:00:00.000Z`). */
/** An `Idempotency-Key` request header: a retry with the same key is answered as the first request, doing nothing twice. */
export const idempotencyKeyHeader = z
  .string()
  .min(1, 'must not be empty')
  .max(200, 'at most 200 characters')
  .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces');

export const instant = z.string().openapi({ format: 'date-time', example: '2026-11-02T02:00:00.000Z' });

/**
 * For a route whose body comes in several media types (JSON or multipart, JSON or text/plain). It is
 * declared optional so that only the media type sent is validated — zod-openapi validates every
 * declared one when the body is required — and the handler answers a missing body with a 400
 * naming the missing field. Called once the route is registered on `app`, it makes the document
 * say what clients must do: send a body. (The route itself is left as it is: every app built
 * from it must still validate the media types one at a time.)
 */
export function documentBodyRequired(app: OpenAPIHono<any>, route: { method: string; path: string }): void {
  for (const def of app.openAPIRegistry.definitions) {
    if (def.type !== 'route' || def.route.method !== route.method || def.route.path !== route.path || !def.route.request?.body) continue;
    def.route = { ...def.route, request: { ...def.route.request, body: { ...def.route.request.body, required: true } } };
  }
}

/**
 * Documents `application/x-www-form-urlencoded` on a route that declares `multipart/form-data`: Hono's form
 * validator reads both, so the route takes it already (without files). Declared on the route itself, it would
 * get a validator of its own, run on every form of either type. Called once the route is registered on `app`.
 */
export function documentFormUrlencoded(app: OpenAPIHono<any>, route: { method: string; path: string }, schema: z.ZodType): void {
  for (const def of app.openAPIRegistry.definitions) {
    if (def.type !== 'route' || def.route.method !== route.method || def.route.path !== route.path || !def.route.request?.body) continue;
    const body = def.route.request.body;
    def.route = { ...def.route, request: { ...def.route.request, body: { ...body, content: { ...body.content, 'application/x-www-form-urlencoded': { schema } } } } };
  }
}

/**
 * The body of an action that takes none: sent anyway, it may hold nothing (`{}`). A field in it is a 400
 * naming it, as in any body, rather than a request done as if the field were not there (a `since` that
 * would have narrowed what is sent again, say).
 */
export const noBody = {
  required: false,
  content: { 'application/json': { schema: z.strictObject({}).openapi('NoInput') } },
};

/** The query of an operation that takes no query parameters: any one is a 400 naming it. */
const NO_QUERY = z.strictObject({});

/**
 * For a handler that reads the query itself and, in this request, takes none (a JSON hotline call, whose fields
 * come in the body): any parameter is a 400 naming it, as `apiRoute` refuses one, never ignored.
 */
export function refuseQuery(query: Record<string, unknown>): void {
  const result = NO_QUERY.safeParse(query);
  if (result.success) return;
  const fields = fieldsOf(result.error, UNKNOWN_QUERY_PARAMETER);
  throw new AppError('validation_failed', `invalid ${Object.keys(fields).join(', ')}`, fields);
}

/**
 * `createRoute` for the API's operations: one that declares no query takes
 * none, so a parameter sent to it (`POST /api/v1/reports?anonymous=true`,
 * `?stauts=open`) is a 400 naming it as an unknown query parameter, never a
 * request done as if it were not there.
 */
export const apiRoute: typeof createRoute = (config) =>
  createRoute(config.request?.query ? config : { ...config, request: { ...config.request, query: NO_QUERY } }) as never;

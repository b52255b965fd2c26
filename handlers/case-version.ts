import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Trx } from '../db/repositories/db-types.js';
import type { ActionKey, KeptAnswer } from '../src/workflow/bureau.js';
import { languageAccepted } from '../src/web/i18n.js';
import { buildVersionedCaseView } from '../src/workflow/case-view.js';
import { saidAsText } from '../src/workflow/service-words.js';
import { caseETag, type SeenCase } from '../src/workflow/transition.js';
import type { AppEnv } from './app-env.js';
import { idempotencyKeyHeader } from './validation.js';

/**
 * HTTP's optimistic concurrency on a case (RFC 9110 §8.8.3, §13.1.1): `GET /api/v1/cases/{id}` and every staff
 * action answer the case's version as a strong `ETag` (`"v7"`), and an action sent with `If-Match` is done only
 * while the case is still at that version — a retry after a timeout, or a decision on a view someone else changed
 * meanwhile, is a 412 with nothing done. Without the header an action is done as always. The comparison itself is
 * the workflow's (`unchangedSince`), inside the action's transaction with the case row locked.
 */

// A withdrawn unit's view of a merged case adds the id of the case it names (`"v7-<id>"`): the same version of the case.
const TAG = /^(W\/)?"v(\d{1,15})(?:-[0-9A-Za-z-]{1,64})?"$/;
const MALFORMED = 'must be * or entity tags this service gave out ("v7"), separated by commas';

/**
 * The versions an If-Match names: undefined for `*` (any version), else those of its strong tags — a weak one
 * (`W/"v7"`, a proxy's) never matches, as If-Match compares strongly. Null when it is not such a header.
 */
export function parseIfMatch(value: string): number[] | undefined | null {
  const trimmed = value.trim();
  if (trimmed === '*') return undefined;
  const versions: number[] = [];
  for (const part of trimmed.split(',')) {
    const m = TAG.exec(part.trim());
    if (!m) return null;
    if (!m[1]) versions.push(Number(m[2]));
  }
  return versions;
}

const ifMatch = z
  .string()
  .transform((value, ctx) => {
    const versions = parseIfMatch(value);
    if (versions === null) {
      ctx.addIssue({ code: 'custom', message: MALFORMED });
      return z.NEVER;
    }
    return versions;
  })
  .optional()
  .openapi({
    description:
      'Act only if the case is still at this version: the `ETag` of `GET /api/v1/cases/{id}` or of an earlier action\'s answer (`"v7"`; several separated by commas; `*` for any). ' +
      'Otherwise the answer is `412 precondition_failed` naming `If-Match`, and nothing is done: a retry of an action that went through, or one decided on a case changed meanwhile. ' +
      'Without it the action is done on the case as it is.',
    example: '"v7"',
  });

/** The request headers of a staff action on a case. */
export const ifMatchHeaders = z.object({ 'if-match': ifMatch });

/** The request headers of a decision on an extension request: its If-Match names the version of the request's case. */
export const extensionIfMatchHeaders = z.object({
  'if-match': ifMatch.openapi({
    description:
      'Decide only if the case the request is on is still at this version: the `ETag` of `GET /api/v1/cases/{id}` of that case (its `extensionRequests` list the request) or of an earlier action\'s answer on it (`"v7"`; several separated by commas; `*` for any). ' +
      'Otherwise the answer is `412 precondition_failed` naming `If-Match`, and nothing is done: the request stays as it is. ' +
      'Without it the request is decided on the case as it is.',
  }),
});

/** The case as the If-Match of the request says the client saw it; nothing for a request without one, or `*`. */
export function seenBy(headers: { 'if-match'?: number[] | undefined }): SeenCase {
  const versions = headers['if-match'];
  return versions === undefined ? {} : { ifMatch: versions };
}

/** The `ETag` response header of a staff action: the case's version it left. */
export const etagHeader = z.object({
  ETag: z.string().openapi({ description: "The case's version this answer shows (`\"v7\"`), to send as `If-Match` with the next action on it.", example: '"v7"' }),
});

/** The 200 of an operation answering the staff view of a case, with its ETag. */
export function caseAnswerDoc<S extends z.ZodType>(description: string, schema: S) {
  return { description, headers: etagHeader, content: { 'application/json': { schema } } };
}

/** The ETag of the case's version the action left, for an answer that carries no view of the case. */
export { caseETag };

/**
 * The entity tags an If-None-Match names (RFC 9110 §13.1.2), each as its opaque tag (`"v7"`) — a weak one's too,
 * as If-None-Match compares weakly — or `*` for any. Tags this service never gave out are kept: they match nothing.
 * Null when the header is not `*` nor a list of entity tags: the request is then answered as without it, as a
 * recipient may, since a GET done in full is what the client asked for anyway (a malformed If-Match, by contrast,
 * is a 400, as an action done without the check the client meant to ask for cannot be undone).
 */
export function parseIfNoneMatch(value: string): '*' | string[] | null {
  const trimmed = value.trim();
  if (trimmed === '*') return '*';
  const tags: string[] = [];
  let i = 0;
  const skipSpace = () => {
    while (trimmed[i] === ' ' || trimmed[i] === '\t') i++;
  };
  while (i < trimmed.length) {
    skipSpace();
    // A list may hold empty elements (`"v1", , "v2"`): RFC 9110 §5.6.1.
    if (trimmed[i] === ',') {
      i++;
      continue;
    }
    if (i >= trimmed.length) break;
    if (trimmed.startsWith('W/', i)) i += 2;
    if (trimmed[i] !== '"') return null;
    const end = trimmed.indexOf('"', i + 1);
    if (end < 0) return null;
    const opaque = trimmed.slice(i, end + 1);
    // etagc: any visible character but DQUOTE, or obs-text.
    for (let k = 1; k < opaque.length - 1; k++) {
      const code = opaque.charCodeAt(k);
      if (code < 0x21 || code === 0x7f || code > 0xff) return null;
    }
    tags.push(opaque);
    i = end + 1;
    skipSpace();
    if (i < trimmed.length && trimmed[i] !== ',') return null;
  }
  return tags.length > 0 ? tags : null;
}

/** The request headers of `GET /api/v1/cases/{id}`: a malformed If-None-Match is ignored, so any string passes. */
export const ifNoneMatchHeaders = z.object({
  'if-none-match': z
    .string()
    .optional()
    .openapi({
      description:
        'Answer the case only if it changed: the `ETag` of an earlier answer (`"v7"`; several separated by commas; `*` for any). ' +
        'While the case is still at a version named, the answer is `304 Not Modified` with its `ETag` and no body; compared weakly, so `W/"v7"` matches `"v7"`. ' +
        'A case the account may not see is still a 404. A header that is not `*` nor a list of entity tags is ignored (a 200, as without it).',
      example: '"v7"',
    }),
});

/** The 304 of `GET /api/v1/cases/{id}` sent with an If-None-Match naming the case's version. */
export const notModifiedDoc = {
  description: 'The case is still at a version the `If-None-Match` named: no body, the `ETag` of that version.',
  headers: etagHeader,
};

/**
 * The staff view of the case with its ETag, or a 304 with the ETag alone when the If-None-Match names that version.
 * The view is drawn first, so the version compared is the one a 200 would show — never an older one hiding a change
 * — and a case the account may not see is a 404 before anything is compared.
 */
export async function caseAnswerUnlessUnchanged<E extends AppEnv>(c: Context<E>, id: string, ifNoneMatch: string | undefined) {
  const vars = c.var as AppEnv['Variables'];
  const { view, version, shows } = await buildVersionedCaseView(vars.deps, vars.principal!, id);
  const etag = caseETag(version, shows);
  const named = ifNoneMatch === undefined ? null : parseIfNoneMatch(ifNoneMatch);
  if (named === '*' || named?.includes(etag)) return c.body(null, 304, { ETag: etag });
  return c.json(apiCaseView(c, view), 200, { ETag: etag });
}

/**
 * The staff view as the API answers it: the service's words kept on its events (a one-click route's reason, a 督办's
 * note from the overdue list: `{ said: … }`) said as strings, as a person's reason or note is, so `data.reason` and
 * `data.note` stay text for a client — in the language of the two its Accept-Language prefers, Chinese when it names
 * neither, as the view's type and unit names are. The staff pages say them from the codes, in their reader's language.
 */
function apiCaseView<E extends AppEnv, V extends { events: ReadonlyArray<{ data: unknown }> }>(c: Context<E>, view: V): V {
  const lang = languageAccepted(c.req.header('accept-language') ?? '');
  const { district } = (c.var as AppEnv['Variables']).deps;
  return { ...view, events: view.events.map((e) => ({ ...e, data: saidAsText(e.data, lang, district) })) };
}

/** The staff view of the case with the ETag of the version it was drawn from. */
export async function caseAnswer<E extends AppEnv>(c: Context<E>, id: string) {
  const vars = c.var as AppEnv['Variables'];
  const { view, version, shows } = await buildVersionedCaseView(vars.deps, vars.principal!, id);
  return c.json(apiCaseView(c, view), 200, { ETag: caseETag(version, shows) });
}

/** The request headers of a unit's action on a case: If-Match, and an Idempotency-Key that makes a retry a replay. */
export const unitActionHeaders = (what: string) =>
  ifMatchHeaders.extend({
    'idempotency-key': idempotencyKeyHeader.optional().openapi({
      description:
        `Makes a retry of this ${what} a replay whenever it comes, whatever happened to the case since: the same key from the same unit on this case ` +
        'with the same content is answered with the status, `ETag` and body the first answer had, with `Idempotent-Replayed: true`, and nothing is done again; ' +
        'with other content it is a `409 idempotency_key_reused` naming `Idempotency-Key`, nothing done. A key is the unit\'s own (another unit\'s names nothing of it) and the action\'s own. ' +
        'Only an action that was done keeps its key: a retry of one refused is tried again. ' +
        'A replay shows no more than the unit may read now: released from the case since, the unit gets a `404 not_found`, as for the case itself; ' +
        'the answer of its own return, which showed it only its part, is still replayed. ' +
        'A key is kept for 24 hours: a retry after that is taken as the action sent again.',
      example: '7f3e2a90-5c1b-4f7e-9a0d-2b6c8e1f4a37',
    }),
  });

/**
 * With an Idempotency-Key, the key for the workflow and how the answer to keep is drawn from what the action did, in
 * its transaction (`answer`); nothing without one.
 */
export function actionKey<R>(key: string | undefined, answer: (trx: Trx, done: R) => Promise<KeptAnswer>): { key?: ActionKey<R> } {
  return key === undefined ? {} : { key: { key, answer } };
}

/** The staff view of the case as the action's transaction leaves it, with its ETag: the answer an Idempotency-Key keeps. */
export function keptCaseAnswer<E extends AppEnv>(c: Context<E>, id: string) {
  return async (trx: Trx): Promise<KeptAnswer> => {
    const vars = c.var as AppEnv['Variables'];
    const { view, version, shows } = await buildVersionedCaseView({ ...vars.deps, db: trx }, vars.principal!, id);
    return { status: 200, etag: caseETag(version, shows), body: JSON.stringify(apiCaseView(c, view)) };
  };
}

/**
 * The answer kept with an action sent with an Idempotency-Key, sent as it was kept (status, ETag, the JSON byte for
 * byte); a retry's, the first try's, says `Idempotent-Replayed: true`. Typed as nothing of the route's, whose types
 * cannot see into an answer kept as text: it is drawn as the route's other answers are (`keptCaseAnswer` draws the
 * view `caseAnswer` sends), and the retry tests check it against the OpenAPI document.
 */
export function keptAnswer<E extends AppEnv>(c: Context<E>, answer: KeptAnswer, replayed: boolean): never {
  return c.body(answer.body, answer.status as ContentfulStatusCode, {
    'Content-Type': 'application/json',
    ...(answer.etag === null ? {} : { ETag: answer.etag }),
    ...(replayed ? { 'Idempotent-Replayed': 'true' } : {}),
  }) as never;
}

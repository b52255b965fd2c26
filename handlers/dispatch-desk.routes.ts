import { OpenAPIHono, z } from '@hono/zod-openapi';
import { listAssignmentsFor, listTriage } from '../db/repositories/case-queries.repository.js';
import { caseSummary } from '../src/workflow/case-view.js';
import {
  approveExtension,
  mergeCase,
  unmergeCase,
  untransferCase,
  refuseExtension,
  releaseUnit,
  routeCase,
  superviseCase,
  transferCase,
} from '../src/workflow/dispatcher.js';
import { findCase } from '../db/repositories/cases.repository.js';
import { AppError } from '../src/errors.js';
import { staffActor } from '../src/workflow/bureau.js';
import { REDELIVER_SINCE, redeliverFailed } from '../src/workflow/redeliver.js';
import type { AppEnv } from './app-env.js';
import { BEARER_SCHEME, authenticate, requireRoles } from './auth.middleware.js';
import { caseSummarySchema, caseViewSchema } from './cases.routes.js';
import { caseAnswer, caseAnswerDoc, caseETag, etagHeader, extensionIfMatchHeaders, ifMatchHeaders, seenBy } from './case-version.js';
import { errorResponses } from './error-schema.js';
import { filledText, idempotencyKeyHeader, instant, noBody, queryInt, validationHook, apiRoute } from './validation.js';
import { isJsonContentType } from './uploads.js';
import { typeName } from '../src/district/district.schema.js';

/**
 * The dispatcher's desk (dispatcher and admin accounts): the triage queue,
 * re-routing, merging, transfer to 12345, releasing a co-handler, deciding
 * extension requests and supervision (督办).
 */

const security = [{ [BEARER_SCHEME]: [] }];
const idParam = z.object({ id: z.string().min(1).max(64) });
const code = z
  .string({ error: (i) => (i.input === undefined ? 'required' : 'must be a string') })
  .trim()
  .min(1, 'must not be empty')
  .max(60, 'at most 60 characters');
const json = <T extends z.ZodType>(schema: T) => ({ content: { 'application/json': { schema } }, required: true });
const caseResponse = caseAnswerDoc('The case after the action', caseViewSchema);
const deskCommon = {
  method: 'post' as const,
  tags: ['dispatcher desk'],
  security,
  responses: { 200: caseResponse, ...errorResponses(400, 401, 403, 404, 409, 412) },
};
const who = ' Dispatcher and admin accounts.';

const triageItem = caseSummarySchema
  .extend({
    reasons: z.array(z.string()).openapi({ description: 'Why it is here: low_confidence, no_rule_matched, unknown_type, returned, reopened, co_returned, place_unknown.' }),
    suggestions: z
      .array(z.object({ code: z.string(), name: z.string(), confidence: z.number() }))
      .openapi({ description: "The classifier's top choices, best first, to offer first." }),
  })
  .openapi('TriageItem');

const triageRoute = apiRoute({
  method: 'get',
  path: '/api/v1/triage',
  operationId: 'listTriage',
  tags: ['dispatcher desk'],
  summary: 'The triage queue',
  description: `Cases that need a dispatcher: not classified with confidence, returned, reopened, with a returned co-handler, or with no known place. Urgent first, then oldest.${who}`,
  security,
  middleware: [authenticate(), requireRoles('dispatcher', 'admin')] as const,
  request: { query: z.strictObject({ limit: queryInt(1, 200).optional() }) },
  responses: {
    200: { description: 'The queue', content: { 'application/json': { schema: z.object({ items: z.array(triageItem) }).openapi('TriageList') } } },
    ...errorResponses(400, 401, 403),
  },
});

const routeBody = z
  .strictObject({
    type: code.optional(),
    lead: code.optional(),
    co: z.array(code).max(20).optional(),
    jurisdiction: code.nullable().optional(),
    urgent: z
      .boolean({ error: 'must be true or false' })
      .optional()
      .openapi({ description: 'Urgent or not, as the dispatcher decides. Without it the case becomes urgent when its new type or its words make it so, and is never made less urgent.' }),
    reason: filledText(2000),
  })
  .openapi('RouteInput');

const routeRoute = apiRoute({
  ...deskCommon,
  middleware: [authenticate(), requireRoles('dispatcher', 'admin')] as const,
  path: '/api/v1/cases/{id}/route',
  operationId: 'routeCase',
  summary: 'Re-route a case',
  description:
    'Change the type, lead, co-handlers or jurisdiction (defaults from the routing table for the type). Released units stop, new ones get fresh deadlines; ' +
    `a type that differs from the classifier's is kept as a correction for retraining.${who}`,
  request: { params: idParam, headers: ifMatchHeaders, body: json(routeBody) },
});
const mergeRoute = apiRoute({
  ...deskCommon,
  middleware: [authenticate(), requireRoles('dispatcher', 'admin')] as const,
  path: '/api/v1/cases/{id}/merge',
  operationId: 'mergeCase',
  summary: 'Merge a duplicate into an open case',
  description: `The duplicate's reporter follows the case it is merged into on their own tracking page and chat, never told that case's tracking code.${who}`,
  request: { params: idParam, headers: ifMatchHeaders, body: json(z.strictObject({ into: code, reason: filledText(2000) }).openapi('MergeInput')) },
});
const unmergeRoute = apiRoute({
  ...deskCommon,
  middleware: [authenticate(), requireRoles('dispatcher', 'admin')] as const,
  path: '/api/v1/cases/{id}/unmerge',
  operationId: 'unmergeCase',
  summary: 'Undo a merge (撤销并案)',
  description: `A merged case goes back to triage, to be routed on its own; its reporter is told and no longer follows the other case.${who}`,
  request: { params: idParam, headers: ifMatchHeaders, body: json(z.strictObject({ reason: filledText(2000) }).openapi('UnmergeInput')) },
});
const transferRoute = apiRoute({
  ...deskCommon,
  middleware: [authenticate(), requireRoles('dispatcher', 'admin')] as const,
  path: '/api/v1/cases/{id}/transfer',
  operationId: 'transferCase',
  summary: 'Transfer to the general 12345 channel',
  description: `Not environmental: every assignment is released and 12345 takes the lead.${who}`,
  request: { params: idParam, headers: ifMatchHeaders, body: json(z.strictObject({ reason: filledText(2000) }).openapi('TransferInput')) },
});
const untransferRoute = apiRoute({
  ...deskCommon,
  middleware: [authenticate(), requireRoles('dispatcher', 'admin')] as const,
  path: '/api/v1/cases/{id}/untransfer',
  operationId: 'untransferCase',
  summary: 'Undo a transfer to 12345 (撤销转办)',
  description: `An environmental matter after all: the unit given the transfer is released and the case goes back to triage, to be routed; its reporter is told. (12345's own return of the case, \`POST /api/v1/cases/{id}/return\`, does the same.)${who}`,
  request: { params: idParam, headers: ifMatchHeaders, body: json(z.strictObject({ reason: filledText(2000) }).openapi('UntransferInput')) },
});
const releaseRoute = apiRoute({
  ...deskCommon,
  middleware: [authenticate(), requireRoles('dispatcher', 'admin')] as const,
  path: '/api/v1/cases/{id}/release',
  operationId: 'releaseUnit',
  summary: 'Release a co-handler or the jurisdiction',
  description: `When the lead has already replied and everybody else has replied or been released, the case becomes \`replied\`. The case's local office released after it returned the case as outside its area (\`wrong_jurisdiction\`) takes the place along: \`jurisdiction\` becomes null and the case is flagged \`place_unknown\`.${who}`,
  request: { params: idParam, headers: ifMatchHeaders, body: json(z.strictObject({ unit: code, reason: filledText(2000) }).openapi('ReleaseInput')) },
});
const superviseRoute = apiRoute({
  ...deskCommon,
  middleware: [authenticate(), requireRoles('dispatcher', 'admin')] as const,
  path: '/api/v1/cases/{id}/supervise',
  operationId: 'superviseCase',
  summary: 'Supervise (督办)',
  description: `Marks the case and its overdue assignments supervised and notifies the lead unit. The same 督办 sent again within 10 minutes (the same note, to the units it would go to, nobody having acted on the case since: a double click, a request retried after its answer was lost) is answered as the first was, with \`Idempotent-Replayed: true\`, and records and sends nothing a second time; a second 督办 soon after says so in other words.${who}`,
  request: {
    params: idParam,
    headers: ifMatchHeaders.extend({
      'idempotency-key': idempotencyKeyHeader.optional().openapi({
        description: 'Makes a retry of this 督办 a replay whenever it comes within 48 hours (the key is kept that long): the same key with the same note is answered as the first was (`Idempotent-Replayed: true`), with another note a `409 idempotency_key_reused`.',
      }),
    }),
    body: json(z.strictObject({ note: filledText(2000) }).openapi('SuperviseInput')),
  },
});

const redeliverResult = z
  .object({
    cases: z.number().int(),
    deliveries: z.number().int().openapi({ description: 'Webhook deliveries of assignments set pending again.' }),
    posts: z.number().int().openapi({ description: 'Telegram group posts of assignments to be posted again.' }),
    notifications: z.number().int().openapi({ description: 'Notices set pending again; the channels that took them are not sent to twice.' }),
    queued: z.number().int().openapi({ description: 'Jobs queued at once; the others follow from the reconciler when Redis is back.' }),
  })
  .openapi('RedeliverResult');
const redeliverCommon = {
  method: 'post' as const,
  tags: ['dispatcher desk'],
  security,
  responses: {
    200: { description: 'What is sent again', content: { 'application/json': { schema: redeliverResult } } },
    ...errorResponses(400, 401, 403, 404),
  },
};
const redeliverCaseRoute = apiRoute({
  ...redeliverCommon,
  middleware: [authenticate(), requireRoles('dispatcher', 'admin')] as const,
  path: '/api/v1/cases/{id}/redeliver',
  operationId: 'redeliverCase',
  summary: 'Send again what failed for good on a case',
  description: `Assignment deliveries (webhook, Telegram group) and notices that ran out of attempts go out again, with a fresh set of attempts; a \`redelivery\` event names who asked.${who}`,
  request: { params: idParam, body: noBody },
});
const redeliverUnitRoute = apiRoute({
  ...redeliverCommon,
  middleware: [authenticate(), requireRoles('dispatcher', 'admin')] as const,
  path: '/api/v1/units/{code}/redeliver',
  operationId: 'redeliverUnit',
  summary: "Send again what failed for good to one unit",
  description: `After a bureau or town office fixed its server or its Telegram group: every assignment and notice that failed for good to it (since the given time, if any) goes out again.${who}`,
  request: {
    params: z.object({ code }),
    body: {
      required: false,
      content: {
        'application/json': {
          schema: z
            .strictObject({ since: REDELIVER_SINCE.optional() })
            .openapi('RedeliverUnitInput'),
        },
      },
    },
  },
});

const extensionDecided = z
  .object({ id: z.string(), status: z.enum(['approved', 'refused']), replyBy: instant.nullable() })
  .openapi('ExtensionDecision');
const extensionCommon = {
  method: 'post' as const,
  tags: ['dispatcher desk'],
  security,
  responses: {
    200: { description: "Decided; the `ETag` is the version of the request's case the decision left", headers: etagHeader, content: { 'application/json': { schema: extensionDecided } } },
    ...errorResponses(400, 401, 403, 404, 409, 412),
  },
};
const approveRoute = apiRoute({
  ...extensionCommon,
  middleware: [authenticate(), requireRoles('dispatcher', 'admin')] as const,
  path: '/api/v1/extensions/{id}/approve',
  operationId: 'approveExtension',
  summary: 'Approve an extension request',
  description: `The unit's reply deadline moves by the working days asked for, from where it was; the reporter sees the new deadline when it is the lead's.${who}`,
  request: { params: idParam, headers: extensionIfMatchHeaders, body: { content: { 'application/json': { schema: z.strictObject({ note: filledText(2000).optional() }).openapi('ApproveInput') } }, required: false } },
});
const refuseRoute = apiRoute({
  ...extensionCommon,
  middleware: [authenticate(), requireRoles('dispatcher', 'admin')] as const,
  path: '/api/v1/extensions/{id}/refuse',
  operationId: 'refuseExtension',
  summary: 'Refuse an extension request',
  description: `With a note for the unit.${who}`,
  request: { params: idParam, headers: extensionIfMatchHeaders, body: json(z.strictObject({ note: filledText(2000) }).openapi('RefuseInput')) },
});

export function dispatchDeskRoutes() {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

  app.openapi(triageRoute, async (c) => {
    const deps = c.get('deps');
    const { district } = deps;
    const principal = c.get('principal')!;
    const rows = await listTriage(deps.db, c.req.valid('query').limit ?? 100);
    const assignments = await listAssignmentsFor(deps.db, rows.map((r) => r.case.id));
    const items = rows.map((r) => {
      const list = assignments.get(r.case.id) ?? [];
      const reasons: string[] = [];
      if (r.case.status === 'triage' && r.case.triageReason) reasons.push(r.case.triageReason);
      if (r.case.status === 'reopened' || r.case.status === 'returned') reasons.push(r.case.status);
      if (list.some((a) => a.round === r.case.round && a.role !== 'lead' && a.status === 'returned')) reasons.push('co_returned');
      if (r.case.flags.includes('place_unknown')) reasons.push('place_unknown');
      const choices = [
        ...(r.classification?.type ? [{ type: r.classification.type, confidence: r.classification.confidence }] : []),
        ...(r.classification?.runnerUp ? [r.classification.runnerUp] : []),
      ];
      return {
        ...caseSummary(district, principal, r, list, deps.clock.now()),
        reasons,
        suggestions: choices.map((s) => ({ code: s.type, name: typeName(district, s.type), confidence: s.confidence })),
      };
    });
    return c.json({ items }, 200);
  });

  app.openapi(routeRoute, async (c) => {
    const principal = c.get('principal')!;
    const { id } = c.req.valid('param');
    await routeCase(c.get('deps'), principal, id, { ...c.req.valid('json'), ...seenBy(c.req.valid('header')) });
    return caseAnswer(c, id);
  });

  app.openapi(mergeRoute, async (c) => {
    const principal = c.get('principal')!;
    const { id } = c.req.valid('param');
    await mergeCase(c.get('deps'), principal, id, { ...c.req.valid('json'), ...seenBy(c.req.valid('header')) });
    return caseAnswer(c, id);
  });

  app.openapi(unmergeRoute, async (c) => {
    const principal = c.get('principal')!;
    const { id } = c.req.valid('param');
    await unmergeCase(c.get('deps'), principal, id, { ...c.req.valid('json'), ...seenBy(c.req.valid('header')) });
    return caseAnswer(c, id);
  });

  app.openapi(transferRoute, async (c) => {
    const principal = c.get('principal')!;
    const { id } = c.req.valid('param');
    await transferCase(c.get('deps'), principal, id, { ...c.req.valid('json'), ...seenBy(c.req.valid('header')) });
    return caseAnswer(c, id);
  });

  app.openapi(untransferRoute, async (c) => {
    const principal = c.get('principal')!;
    const { id } = c.req.valid('param');
    await untransferCase(c.get('deps'), principal, id, { ...c.req.valid('json'), ...seenBy(c.req.valid('header')) });
    return caseAnswer(c, id);
  });

  app.openapi(releaseRoute, async (c) => {
    const principal = c.get('principal')!;
    const { id } = c.req.valid('param');
    await releaseUnit(c.get('deps'), principal, id, { ...c.req.valid('json'), ...seenBy(c.req.valid('header')) });
    return caseAnswer(c, id);
  });

  app.openapi(superviseRoute, async (c) => {
    const principal = c.get('principal')!;
    const { id } = c.req.valid('param');
    const headers = c.req.valid('header');
    const key = headers['idempotency-key'];
    const { replayed } = await superviseCase(c.get('deps'), principal, id, { ...c.req.valid('json'), ...seenBy(headers), ...(key === undefined ? {} : { idempotencyKey: key }) });
    if (replayed) c.header('Idempotent-Replayed', 'true');
    return caseAnswer(c, id);
  });

  app.openapi(redeliverCaseRoute, async (c) => {
    const deps = c.get('deps');
    const { id } = c.req.valid('param');
    if (!(await findCase(deps.db, id))) throw new AppError('not_found', 'no such case');
    return c.json(await redeliverFailed(deps, staffActor(c.get('principal')!), { caseId: id }), 200);
  });

  app.openapi(redeliverUnitRoute, async (c) => {
    const deps = c.get('deps');
    const { code: unit } = c.req.valid('param');
    if (!deps.district.units.has(unit)) throw new AppError('not_found', 'no such unit', { code: 'not a bureau or office of the district file' });
    const since = isJsonContentType(c.req.header('content-type')) ? c.req.valid('json').since : undefined;
    const result = await redeliverFailed(deps, staffActor(c.get('principal')!), { unit, ...(since ? { since: new Date(since).toISOString() } : {}) });
    return c.json(result, 200);
  });

  app.openapi(approveRoute, async (c) => {
    const { id } = c.req.valid('param');
    // The body is optional: read the note only when JSON was sent.
    const isJson = isJsonContentType(c.req.header('content-type'));
    const note = isJson ? c.req.valid('json').note : undefined;
    const { replyBy, version } = await approveExtension(c.get('deps'), c.get('principal')!, id, { note, ...seenBy(c.req.valid('header')) });
    return c.json({ id, status: 'approved' as const, replyBy }, 200, { ETag: caseETag(version) });
  });

  app.openapi(refuseRoute, async (c) => {
    const { id } = c.req.valid('param');
    const { version } = await refuseExtension(c.get('deps'), c.get('principal')!, id, { ...c.req.valid('json'), ...seenBy(c.req.valid('header')) });
    return c.json({ id, status: 'refused' as const, replyBy: null }, 200, { ETag: caseETag(version) });
  });

  return app;
}

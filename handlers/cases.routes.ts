import { OpenAPIHono, z } from '@hono/zod-openapi';
import { EXTENSION_STATUSES, listAssignmentsFor, listCases, listCasesKept } from '../db/repositories/case-queries.repository.js';
import { DELIVERY_STATUSES } from '../db/repositories/deliveries.repository.js';
import { CASE_STATUSES, WORKING } from '../src/domain/case.js';
import { textFault } from '../src/domain/text.js';
import { refuseUnknownFilterCodes } from '../src/district/gone-codes.js';
import { AppError } from '../src/errors.js';
import {
  acceptAssignment,
  MAX_EXTENSION_DAYS,
  recordProgress,
  replyAssignment,
  requestExtension,
  RETURN_REASONS,
  returnAssignment,
  type ReplyFile,
  unitLate,
} from '../src/workflow/bureau.js';
import { caseSummary, hiddenNamesFor, ownCurrentAssignment, readableFile } from '../src/workflow/case-view.js';
import type { AppEnv } from './app-env.js';
import { BEARER_SCHEME, authenticate, requireRoles } from './auth.middleware.js';
import {
  actionKey,
  caseAnswer,
  caseAnswerDoc,
  caseAnswerUnlessUnchanged,
  caseETag,
  ifNoneMatchHeaders,
  keptAnswer,
  keptCaseAnswer,
  notModifiedDoc,
  seenBy,
  unitActionHeaders,
} from './case-version.js';
import { errorResponses } from './error-schema.js';
import { IMAGE_TYPES, jsonOrUploadsBodyLimit, plainMultipartHeaders, readUploads, uploadsField, isJsonContentType } from './uploads.js';
import { documentBodyRequired, filledText, instant, noBody, queryInt, validationHook, apiRoute } from './validation.js';
import { INSTANT_RULE, instantInServiceYears } from '../src/domain/service-years.js';
import { normalizeDateTime } from '../src/domain/time-zone.js';

/**
 * Cases as staff see them (any staff role reads; a bureau only its own
 * cases), and the bureau's work on its assignment: sign for, return,
 * progress, reply, ask for more time.
 */

const unit = z.object({ code: z.string(), name: z.string() });
const deadlines = z.object({ signBy: instant.nullable(), replyBy: instant.nullable(), rateBy: instant.nullable() });
const assignmentDeadlines = z.object({ signBy: instant.nullable(), replyBy: instant.nullable() });
const role = z.enum(['lead', 'co', 'jurisdiction']);
const assignmentStatus = z.enum(['pending', 'accepted', 'replied', 'returned', 'released']);

/** How staff name a case: the tracking code (not for bureaus) and the reference. */
const caseLinkFields = {
  trackingCode: z.string().nullable().openapi({
    description: "The reporter's tracking code; null for bureau staff, since with it anyone can rate the case (bureaus name a case by its `reference`).",
  }),
  reference: z.string().openapi({ description: 'The case reference (工单号) staff and bureaus use, e.g. `3F9A-1C2B-7E4D`.', example: '3F9A-1C2B-7E4D' }),
};

export const caseSummarySchema = z
  .object({
    id: z.string(),
    ...caseLinkFields,
    status: z.enum(CASE_STATUSES),
    type: unit.nullable(),
    excerpt: z.string().openapi({ description: "The first 80 characters; for bureaus, of the text with phone numbers and the reporter's name masked." }),
    urgent: z.boolean(),
    overdue: z.boolean(),
    supervised: z.boolean().openapi({ description: 'Supervised (督办); for a bureau, its own assignment of the current round, not another unit of the case.' }),
    extended: z.boolean(),
    receivedAt: instant,
    dispatchedAt: instant.nullable(),
    deadlines,
    lead: unit.nullable(),
    jurisdiction: unit.nullable(),
    myAssignment: z
      .object({
        role,
        status: assignmentStatus,
        deadlines: assignmentDeadlines,
        overdue: z.boolean().openapi({
          description:
            'The unit itself is late: it still owes a stage (sign for, reply) whose deadline passed, or that the deadline check marked overdue. ' +
            "Unlike the case's `overdue`, never because another unit (the lead) is late; false while the case is not under handling (in triage, replied, closed).",
        }),
        due: instant.nullable().openapi({
          description: "The unit's next deadline: `signBy` while it has not signed for the case, `replyBy` once it has; null when it owes nothing now.",
        }),
      })
      .nullable()
      .openapi({
        description:
          "A bureau's own assignment on the case: the current round's (a reopened case starts a new round), else the latest the unit was not released from " +
          '(it answered before the case was reopened to the lead alone). null for other roles.',
      }),
  })
  .openapi('CaseSummary');

export const caseViewSchema = z
  .object({
    id: z.string(),
    ...caseLinkFields,
    access: z.enum(['full', 'withdrawn']).openapi({
      description:
        '`withdrawn`: a bureau whose unit no longer holds the case (it returned it, or a dispatcher released it or re-routed the case ' +
        "away from it) reads only its own part — its assignment, deliveries and requests, the events of its own work and the notice " +
        "that ended it: `text`, place, photos, type, deadlines, other units and later history are empty.",
    }),
    channel: z.string(),
    status: z.enum(CASE_STATUSES),
    round: z.number().int(),
    text: z.string().nullable().openapi({ description: "null for a unit the case was withdrawn from (`access: withdrawn`)." }),
    address: z.string().nullable(),
    location: z.object({ lat: z.number(), lng: z.number() }).nullable(),
    occurredAt: z.string().nullable(),
    jurisdiction: unit.nullable(),
    placeSource: z.string().nullable(),
    flags: z.array(z.string()),
    triageReason: z.string().nullable(),
    type: z
      .object({
        code: z.string().nullable(),
        name: z.string().nullable(),
        confidence: z.number().nullable(),
        evidence: z.array(z.object({ phrase: z.string(), weight: z.number(), source: z.enum(['rule', 'model']) })),
        runnerUp: z.object({ type: z.string(), confidence: z.number() }).nullable(),
        classifiedAs: z.string().nullable().openapi({ description: "The machine's type; differs from `code` after a dispatcher's correction." }),
      })
      .nullable(),
    urgent: z.boolean(),
    anonymous: z.boolean(),
    overdue: z.boolean(),
    supervisedAt: instant.nullable().openapi({ description: 'When the case was supervised (督办); for a bureau, when its own assignment of the current round was, null when only another unit was.' }),
    extended: z.boolean(),
    receivedAt: instant,
    dispatchedAt: instant.nullable(),
    repliedAt: instant.nullable(),
    closedAt: instant.nullable(),
    closeReason: z.string().nullable(),
    mergedInto: z
      .object({ id: z.string(), ...caseLinkFields })
      .nullable()
      .openapi({
        description:
          'The case this one was merged into. For a bureau the merge took the case from (`access: withdrawn`), the case it is handled in now, ' +
          'and only when the unit holds that case too (its work goes on there); null otherwise.',
      }),
    deadlines,
    reporter: z
      .object({ name: z.string().nullable(), phone: z.string().nullable() })
      .nullable()
      .openapi({ description: 'Operators, dispatchers and admins; a bureau only when the reporter agreed and is not anonymous.' }),
    photos: z.array(z.object({ id: z.string(), mime: z.string(), size: z.number() })),
    mergedReports: z
      .array(
        z.object({
          id: z.string(),
          ...caseLinkFields,
          channel: z.string(),
          receivedAt: instant,
          text: z.string(),
          address: z.string().nullable(),
          photos: z.array(z.object({ id: z.string(), mime: z.string(), size: z.number() })),
        }),
      )
      .openapi({
        description:
          'The reports a dispatcher merged into the case as duplicates (and those merged into them before), oldest first: their words — for a bureau with phones and reporters\' names masked, as the case\'s own `text` — and their photos, fetched under this case (`GET /api/v1/cases/{id}/photos/{photoId}`). Empty for `access: withdrawn`.',
      }),
    replyAttachments: z
      .array(
        z.object({
          id: z.string(),
          mime: z.string(),
          size: z.number(),
          name: z
            .string()
            .nullable()
            .openapi({ description: "The file's name as the bureau uploaded it (path, control characters removed; at most 120 characters); null when none was kept. Staff views only." }),
        }),
      )
      .openapi({ description: 'Files attached to replies; fetched like photos.' }),
    assignments: z.array(
      z.object({
        bureau: unit,
        role,
        status: assignmentStatus,
        round: z.number().int(),
        deadlines: assignmentDeadlines,
        acceptedAt: instant.nullable(),
        repliedAt: instant.nullable(),
        reply: z.string().nullable(),
        returnedAt: instant.nullable(),
        returnReason: z.string().nullable(),
        releasedAt: instant.nullable(),
        overdue: z.object({ sign: instant.nullable(), reply: instant.nullable() }),
        supervisedAt: instant.nullable(),
      }),
    ),
    deliveries: z.array(
      z.object({
        unit,
        channel: z.string(),
        status: z.enum(DELIVERY_STATUSES),
        attempts: z.number(),
        deliveredAt: instant.nullable(),
        lastError: z.string().nullable().openapi({ description: "The last attempt's error; a bureau reads its own unit's only (null for another unit's)." }),
      }),
    ),
    events: z.array(
      z.object({
        id: z.number(),
        at: instant,
        kind: z.string(),
        actor: z.object({ type: z.string(), id: z.string().nullable(), role: z.string().nullable() }),
        fromStatus: z.string().nullable(),
        toStatus: z.string().nullable(),
        note: z.string().nullable(),
        data: z
          .record(z.string(), z.unknown())
          .nullable()
          .openapi({
            description:
              "The event's facts, by its kind. A `reason` or `note` in them is text: a person's as typed, or the service's own words for an action nobody typed one for (a one-click route, a 督办 from the desk's overdue list), " +
              'in the language of the two (zh, en) the `Accept-Language` prefers, Chinese when it names neither.',
          }),
        public: z.boolean(),
      }),
    ),
    extensionRequests: z.array(
      z.object({ id: z.string(), unit, workingDays: z.number().int(), reason: z.string(), status: z.enum(EXTENSION_STATUSES), requestedAt: instant }),
    ),
    hotline: z
      .object({
        hotline: z.string(),
        callId: z.string(),
        startedAt: instant,
        operator: z.string().nullable(),
        callerNumber: z.string().nullable(),
        transcript: z.string(),
        summary: z.string().nullable(),
        externalRef: z.string().nullable(),
        part: z.number().int(),
        cases: z.array(z.object({ id: z.string(), trackingCode: z.string(), status: z.enum(CASE_STATUSES), part: z.number().int() })),
      })
      .nullable()
      .openapi({ description: 'The hotline call the case came from, with the full transcript: operators, dispatchers and admins only (null for bureaus).' }),
  })
  .openapi('StaffCase');

// Written as the intake's times may be (normalizeDateTime: +0800, a lower-case t or z, a space for the T); and a +
// left unescaped in a query string, which a query string reads as a space (2026-12-01T00:00:00 08:00), is the + it was.
const PLUS_READ_AS_SPACE = /^(\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}:?\d{2})$/;
const isoDateTime = z.preprocess(
  (v) => normalizeDateTime(typeof v === 'string' ? v.replace(PLUS_READ_AS_SPACE, '$1+$2') : v),
  z.iso
    .datetime({ offset: true, error: 'must be an ISO 8601 date-time (in a query string, + is written %2B)' })
    .refine(instantInServiceYears, INSTANT_RULE)
    .transform((v) => new Date(v).toISOString()),
);

const listQuery = z.strictObject({
  status: z.enum(CASE_STATUSES, { error: `use one of ${CASE_STATUSES.join(', ')}` }).optional(),
  type: z
    .string()
    .max(60, 'at most 60 characters')
    .optional()
    .openapi({ description: 'Cases of this type code: one of the district file, or one it dropped that cases still carry; another is a 400 naming `type`.' }),
  overdue: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional()
    .openapi({ description: "The case's overdue mark (any unit late, the lead included). For a bureau's own lateness, `myOverdue`." }),
  myOverdue: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional()
    .openapi({
      description:
        "Bureau accounts only: `true`, the cases the unit itself is late on (`myAssignment.overdue`), as the inbox's 'overdue only'; `false`, the others.",
    }),
  receivedFrom: isoDateTime.optional().openapi({ description: 'Cases received at or after this instant.' }),
  receivedTo: isoDateTime
    .optional()
    .openapi({ description: 'Cases received before this instant (exclusive). A `receivedFrom` after it is a 400 naming `receivedFrom`.' }),
  unit: z
    .string()
    .max(60, 'at most 60 characters')
    .optional()
    .openapi({
      description:
        'Cases assigned to this unit (not for bureau accounts: they see their own): a bureau or office of the district file, or one it dropped that cases still carry; another is a 400 naming `unit`.',
    }),
  limit: queryInt(1, 100).optional(),
  cursor: z.string().max(200).optional(),
  page: queryInt(1, 10_000).optional(),
});

const idParam = z.object({ id: z.string().min(1).max(64) });
const security = [{ [BEARER_SCHEME]: [] }];
const json = <T extends z.ZodType>(schema: T) => ({ content: { 'application/json': { schema } }, required: true });
const caseResponse = caseAnswerDoc('The case after the action', caseViewSchema);

function encodeCursor(receivedAt: string, id: string): string {
  return Buffer.from(JSON.stringify([receivedAt, id]), 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): { receivedAt: string; id: string } {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    // Only what encodeCursor writes: a time and an id, no character a database would refuse.
    if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && typeof v[1] === 'string' && !textFault(v[0]) && !textFault(v[1])) {
      return { receivedAt: v[0], id: v[1] };
    }
  } catch {
    // fall through
  }
  throw new AppError('validation_failed', 'invalid cursor', { cursor: 'not a cursor this service gave out' });
}

const listRoute = apiRoute({
  method: 'get',
  path: '/api/v1/cases',
  operationId: 'listCases',
  tags: ['cases'],
  summary: 'List cases',
  description:
    'A bureau sees the cases its unit holds (not those it returned or was released from); operators, dispatchers and admins see all. Newest first; ' +
    'page with `cursor` (from `nextCursor`) or `page`. A bureau reads on each case what it owes itself (`myAssignment.overdue`, `.due`) ' +
    'and lists the cases it is late on with `myOverdue=true`; `overdue` is the case\'s mark, set when any unit is late.',
  security,
  middleware: [authenticate()] as const,
  request: { query: listQuery },
  responses: {
    200: {
      description: 'One page',
      content: { 'application/json': { schema: z.object({ items: z.array(caseSummarySchema), nextCursor: z.string().nullable() }).openapi('CaseList') } },
    },
    ...errorResponses(400, 401, 403),
  },
});

const getRoute = apiRoute({
  method: 'get',
  path: '/api/v1/cases/{id}',
  operationId: 'getCase',
  tags: ['cases'],
  summary: 'One case as staff see it',
  description:
    'Text, photos, place, type with evidence, assignments, deliveries, every event and the pending extension requests. ' +
    "The `ETag` is the case's version (a unit's withdrawn view of a merged case naming the case it went into adds that case's id: `\"v7-<id>\"`, the same version): sent as `If-Match` with an action on the case, the action is done only while the case is still as shown; " +
    'sent as `If-None-Match` with this request, a case still at that version is a `304 Not Modified` with no body.',
  security,
  middleware: [authenticate()] as const,
  request: { params: idParam, headers: ifNoneMatchHeaders },
  responses: { 200: caseAnswerDoc('The case', caseViewSchema), 304: notModifiedDoc, ...errorResponses(401, 403, 404) },
});

const photoRoute = apiRoute({
  method: 'get',
  path: '/api/v1/cases/{id}/photos/{photoId}',
  operationId: 'getCasePhoto',
  tags: ['cases'],
  summary: "A photo of the case (the reporter's upload)",
  security,
  middleware: [authenticate()] as const,
  request: { params: idParam.extend({ photoId: z.string().min(1).max(64) }) },
  responses: {
    200: { description: 'The image bytes', content: { 'image/*': { schema: z.string().openapi({ format: 'binary' }) } } },
    ...errorResponses(401, 403, 404),
  },
});

/** What every bureau action shares: bearer auth, bureau role, the case id, the staff view back. */
const bureauCommon = {
  method: 'post' as const,
  tags: ['bureau work'],
  security,
  responses: { 200: caseResponse, ...errorResponses(400, 401, 403, 404, 409, 412, 413, 415) },
};
const ownOnly = " Bureau accounts only, on their own assignment; another unit's case is 404.";

// Strict, as the reply: a misnamed field (`publc`, `days`) is a 400 naming it, not an action done without it.
const returnBody = z
  .strictObject({
    reason: z.enum(RETURN_REASONS, { error: `must be one of ${RETURN_REASONS.join(', ')}` }),
    note: filledText(2000),
  })
  .openapi('ReturnInput');
const progressBody = z.strictObject({ note: filledText(5000), public: z.boolean({ error: 'must be true or false' }).optional() }).openapi('ProgressInput');
// Strict, as the report API: a misnamed field (`photos` for `attachments`) is named, never silently dropped.
const replyBody = z
  .strictObject({
    text: filledText(10_000),
    // Files come as multipart; naming the field keeps the JSON and form bodies distinct types.
    attachments: z
      .array(z.string())
      .max(0, 'attach files with multipart/form-data')
      .optional()
      .openapi({ description: 'Always empty in JSON: send files as multipart/form-data.' }),
  })
  .openapi('ReplyInput');
const replyForm = z.strictObject({
  text: filledText(10_000),
  attachments: uploadsField('file'),
});
/** Images as for reports, and PDF (inspection reports, penalty decisions); checked by content. */
const ATTACHMENT_TYPES: ReadonlySet<string> = new Set([...IMAGE_TYPES, 'application/pdf']);

async function readAttachments(files: File[]): Promise<ReplyFile[]> {
  const uploads = await readUploads(files, { field: 'attachments', allowed: ATTACHMENT_TYPES, expected: 'a JPEG, PNG, WebP, GIF, HEIC, AVIF image or a PDF' });
  return uploads.map((u, i) => ({ ...u, name: files[i]!.name }));
}
const extendBody = z
  .strictObject({
    workingDays: z.number({ error: 'must be a number' }).int('must be a whole number').min(1, 'at least 1').max(MAX_EXTENSION_DAYS, `at most ${MAX_EXTENSION_DAYS}`),
    reason: filledText(2000),
  })
  .openapi('ExtensionInput');

const acceptRoute = apiRoute({
  ...bureauCommon,
  middleware: [authenticate(), requireRoles('bureau')] as const,
  path: '/api/v1/cases/{id}/accept',
  operationId: 'acceptAssignment',
  summary: 'Sign for the assignment (签收)',
  description: `The lead signing moves the case to \`accepted\`. The unit a case was transferred to (12345) signs for it to handle it on its own system: the case stays \`transferred\`.${ownOnly}`,
  request: { params: idParam, headers: unitActionHeaders('signature'), body: noBody },
});
const returnRoute = apiRoute({
  ...bureauCommon,
  middleware: [authenticate(), requireRoles('bureau')] as const,
  path: '/api/v1/cases/{id}/return',
  operationId: 'returnAssignment',
  summary: 'Return the assignment (退回)',
  description: `Instead of signing for it, with a reason code and a note. The lead's return sends the case to triage; a co-handler's leaves it where it is. The unit a case was transferred to (12345) returns it when it is an environmental matter after all: it goes to triage and its reporter is told.${ownOnly}`,
  request: { params: idParam, headers: unitActionHeaders('return'), body: json(returnBody) },
});
const progressRoute = apiRoute({
  ...bureauCommon,
  middleware: [authenticate(), requireRoles('bureau')] as const,
  path: '/api/v1/cases/{id}/progress',
  operationId: 'recordProgress',
  summary: 'Record progress',
  description: `A note; shown on the tracking page only with \`public: true\`.${ownOnly}`,
  request: { params: idParam, headers: unitActionHeaders('progress note'), body: json(progressBody) },
});
const replyRoute = apiRoute({
  ...bureauCommon,
  middleware: [authenticate(), requireRoles('bureau')] as const,
  path: '/api/v1/cases/{id}/reply',
  operationId: 'replyToCase',
  summary: 'Reply (答复)',
  description:
    "After signing for it. JSON `{ text }`, or multipart with `text` and up to 5 `attachments` (images or PDF, 10 MB each). " +
    `The case is \`replied\` once the lead and every co-handler still on the case have replied; the lead's text is public.${ownOnly}`,
  request: {
    params: idParam,
    headers: unitActionHeaders('reply (the same text and files, by their content and names)'),
    body: { required: false, content: { 'application/json': { schema: replyBody }, 'multipart/form-data': { schema: replyForm } } },
  },
});
const extendRoute = apiRoute({
  method: 'post',
  path: '/api/v1/cases/{id}/extend',
  operationId: 'requestExtension',
  tags: ['bureau work'],
  summary: 'Ask for more time on the reply deadline',
  description: 'A dispatcher approves or refuses it. One open request per unit.',
  security,
  middleware: [authenticate(), requireRoles('bureau')] as const,
  request: { params: idParam, headers: unitActionHeaders('extension request'), body: json(extendBody) },
  responses: {
    201: {
      description: 'The request, waiting for a dispatcher',
      headers: z.object({ ETag: z.string().openapi({ description: "The case's version the request left (`\"v7\"`), to send as `If-Match` with the next action on it.", example: '"v7"' }) }),
      content: { 'application/json': { schema: z.object({ id: z.string(), status: z.literal('pending') }).openapi('ExtensionRequested') } },
    },
    ...errorResponses(400, 401, 403, 404, 409, 412),
  },
});

export function caseRoutes() {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

  // A reply with attachments may be large; anything else is small JSON. A part written as .NET's HttpClient writes it
  // (bare parameter values, a Chinese file name in filename*) is read, not refused as a malformed form.
  const [replyLimit, replyBesidesFiles] = jsonOrUploadsBodyLimit();
  app.use('/api/v1/cases/:id/reply', replyLimit, plainMultipartHeaders, replyBesidesFiles);

  app.openapi(listRoute, async (c) => {
    const deps = c.get('deps');
    const principal = c.get('principal')!;
    const q = c.req.valid('query');
    if (principal.role === 'bureau' && q.unit !== undefined && q.unit !== principal.unitCode) {
      throw new AppError('forbidden', 'a bureau account lists only its own cases');
    }
    if (principal.role !== 'bureau' && q.myOverdue !== undefined) {
      throw new AppError('validation_failed', 'invalid myOverdue', { myOverdue: "only for bureau accounts (a unit's own lateness)" });
    }
    // As the statistics and exports refuse a `from` after `to`: such a window holds no case, and an empty list would read as none received.
    if (q.receivedFrom !== undefined && q.receivedTo !== undefined && q.receivedFrom > q.receivedTo) {
      throw new AppError('validation_failed', 'receivedFrom is after receivedTo', { receivedFrom: `must not be after receivedTo (${q.receivedTo})` });
    }
    // `type=` lists every type, as it always did; a code no case can carry would list nothing and is refused.
    const type = q.type === '' ? undefined : q.type;
    await refuseUnknownFilterCodes(deps.db, deps.district, { type, unit: principal.role === 'bureau' ? undefined : q.unit });
    const limit = q.limit ?? 20;
    const now = deps.clock.now();
    const filter = {
      // A bureau lists the cases its unit holds; one it returned or was released from is read only by its id.
      ...(principal.role === 'bureau' ? { heldBy: principal.unitCode ?? '\u0000' } : { assignedTo: q.unit }),
      status: q.status,
      // A unit can be late only on a case under handling.
      ...(q.myOverdue === true ? { statuses: WORKING } : {}),
      type,
      overdue: q.overdue,
      receivedFrom: q.receivedFrom,
      receivedTo: q.receivedTo,
      limit,
      after: q.cursor ? decodeCursor(q.cursor) : undefined,
      page: q.page,
    };
    // The unit's own lateness is the inbox's rule over its assignments (`unitLate`), not a column: the pages are made of the cases it keeps.
    const { rows, more } =
      q.myOverdue === undefined
        ? await listCases(deps.db, filter)
        : await listCasesKept(deps.db, filter, async (batch) => {
            const of = await listAssignmentsFor(deps.db, batch.map((r) => r.case.id));
            return batch.filter((r) => unitLate(r.case.status, ownCurrentAssignment(principal, r.case, of.get(r.case.id) ?? []), now.getTime()) === q.myOverdue);
          });
    const [assignments, hidden] = await Promise.all([
      listAssignmentsFor(deps.db, rows.map((r) => r.case.id)),
      hiddenNamesFor(deps.db, principal, rows.map((r) => r.case)),
    ]);
    const items = rows.map((r) => caseSummary(deps.district, principal, r, assignments.get(r.case.id) ?? [], now, hidden.get(r.case.id)));
    const last = rows.at(-1);
    return c.json({ items, nextCursor: more && last ? encodeCursor(last.case.receivedAt, last.case.id) : null }, 200);
  });

  app.openapi(getRoute, (c) => caseAnswerUnlessUnchanged(c, c.req.valid('param').id, c.req.valid('header')['if-none-match']));

  app.openapi(photoRoute, async (c) => {
    const deps = c.get('deps');
    const { id, photoId } = c.req.valid('param');
    const photo = (await readableFile(deps, c.get('principal')!, id, photoId))?.file;
    const bytes = photo ? await deps.photos.get(photo.storageKey) : null;
    if (!photo || !bytes) throw new AppError('not_found', 'no such photo');
    return c.body(new Uint8Array(bytes), 200, {
      'Content-Type': photo.mime,
      'Content-Length': String(bytes.byteLength),
      // Kept in no cache: a reporter's photo stays on a shared office computer after signing out otherwise.
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
    });
  });


  app.openapi(acceptRoute, async (c) => {
    const principal = c.get('principal')!;
    const { id } = c.req.valid('param');
    const headers = c.req.valid('header');
    const acted = await acceptAssignment(c.get('deps'), principal, id, { ...seenBy(headers), ...actionKey(headers['idempotency-key'], keptCaseAnswer(c, id)) });
    return acted.answer ? keptAnswer(c, acted.answer, acted.replayed) : caseAnswer(c, id);
  });

  app.openapi(returnRoute, async (c) => {
    const principal = c.get('principal')!;
    const { id } = c.req.valid('param');
    const headers = c.req.valid('header');
    const acted = await returnAssignment(c.get('deps'), principal, id, {
      ...c.req.valid('json'),
      ...seenBy(headers),
      ...actionKey(headers['idempotency-key'], keptCaseAnswer(c, id)),
    });
    return acted.answer ? keptAnswer(c, acted.answer, acted.replayed) : caseAnswer(c, id);
  });

  app.openapi(progressRoute, async (c) => {
    const principal = c.get('principal')!;
    const { id } = c.req.valid('param');
    const body = c.req.valid('json');
    const headers = c.req.valid('header');
    const acted = await recordProgress(c.get('deps'), principal, id, {
      note: body.note,
      public: body.public ?? false,
      ...seenBy(headers),
      ...actionKey(headers['idempotency-key'], keptCaseAnswer(c, id)),
    });
    return acted.answer ? keptAnswer(c, acted.answer, acted.replayed) : caseAnswer(c, id);
  });

  app.openapi(replyRoute, async (c) => {
    const principal = c.get('principal')!;
    const { id } = c.req.valid('param');
    const contentType = (c.req.header('content-type') ?? '').toLowerCase();
    const isForm = contentType.startsWith('multipart/form-data');
    if (!isForm && !isJsonContentType(contentType)) {
      // Without a body there is nothing to validate: the text is missing. A body of another type is not read.
      if (contentType === '') throw new AppError('validation_failed', 'invalid text', { text: 'required' });
      throw new AppError('unsupported_media_type', 'a reply is JSON, or multipart/form-data with attachments', {
        'content-type': `not accepted: ${contentType.split(';')[0]!.trim()}`,
      });
    }
    const body = isForm ? c.req.valid('form') : c.req.valid('json');
    const files = await readAttachments((body.attachments ?? []).filter((f): f is File => f instanceof File));
    const headers = c.req.valid('header');
    const acted = await replyAssignment(c.get('deps'), principal, id, {
      text: body.text,
      files,
      ...seenBy(headers),
      ...actionKey(headers['idempotency-key'], keptCaseAnswer(c, id)),
    });
    return acted.answer ? keptAnswer(c, acted.answer, acted.replayed) : caseAnswer(c, id);
  });
  documentBodyRequired(app, replyRoute);

  app.openapi(extendRoute, async (c) => {
    const principal = c.get('principal')!;
    const { id } = c.req.valid('param');
    const headers = c.req.valid('header');
    const requested = (created: { id: string }) => ({ id: created.id, status: 'pending' as const });
    const acted = await requestExtension(c.get('deps'), principal, id, {
      ...c.req.valid('json'),
      ...seenBy(headers),
      ...actionKey(headers['idempotency-key'], async (_trx, created: { id: string; version: number }) => ({
        status: 201,
        etag: caseETag(created.version),
        body: JSON.stringify(requested(created)),
      })),
    });
    if (acted.answer) return keptAnswer(c, acted.answer, acted.replayed);
    return c.json(requested(acted.done!), 201, { ETag: caseETag(acted.done!.version) });
  });

  return app;
}

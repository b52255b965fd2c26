import { OpenAPIHono, z } from '@hono/zod-openapi';
import { findHotlineCall, listCallCases } from '../db/repositories/hotline-calls.repository.js';
import { CASE_STATUSES } from '../src/domain/case.js';
import { publicUrl } from '../src/env.js';
import { AppError } from '../src/errors.js';
import { CALL_FIELDS, callSchema, HOTLINES, MAX_PARTS, type CallInput } from '../src/hotline/call-schema.js';
import { acceptCall, reviewCall, type HotlineDeps } from '../src/hotline/hotline-intake.js';
import { declaredCharset, decodeImportBody, formatOf, importCalls, openImport } from '../src/hotline/import-calls.js';
import type { AppEnv } from './app-env.js';
import { BEARER_SCHEME, authenticate, requireRoles } from './auth.middleware.js';
import { errorResponses } from './error-schema.js';
import { clientWentAway, limitBody, isJsonContentType } from './uploads.js';
import { documentBodyRequired, fieldsOf, instant, validationHook, apiRoute, refuseQuery } from './validation.js';

/**
 * Hotline intake (12345 / 12369): an operator submits a call transcript —
 * reviewed first or not — and it becomes a case (or several, split); calls
 * are also imported in bulk. Operators, dispatchers and admins only.
 */

const security = [{ [BEARER_SCHEME]: [] }];
const STAFF = ['operator', 'dispatcher', 'admin'] as const;
/** A call with a 100,000-character transcript is ~300 KB of UTF-8: 1 MB is plenty for one call. */
const MAX_CALL_BYTES = 1024 * 1024;

const unit = z.object({ code: z.string(), name: z.string() });
const typeRef = z.object({ code: z.string(), name: z.string(), confidence: z.number() });

const callBody = callSchema.openapi('HotlineCallInput', {
  description:
    'One call. `transcript` is speaker-labelled lines (坐席/座席/话务员/客服/接线员/工作人员 for the operator, 来电人/市民/居民/群众/客户/举报人/投诉人 for the caller, 问/答 for a call typed up as questions and answers, or in English Operator/Agent and Caller/Citizen/Resident in any case; in brackets or not, numbered or not, ' +
    'with or without [hh:mm:ss] or [start-end] timestamps before or after the label, full-width or ASCII colons, brackets and digits or tabs, or a "label timestamp" line above the words); the caller\'s lines are the complaint. ' +
    '`review: true` answers with the proposal and creates nothing. `type`, `lead`, `jurisdiction`, `placeUnknown` (the proposed place is wrong and none is known), `urgent`, `anonymous` and `text` are the ' +
    `operator's corrections; \`parts\` (2–${MAX_PARTS}) splits the call into one case per part.`,
  example: {
    hotline: '12369',
    callId: 'C20261128-0007',
    startedAt: '2026-11-28T21:30:05+08:00',
    // No one's number: one the hotline system masked, which the API takes as it comes.
    callerNumber: '138****0000',
    operator: '坐席小王',
    transcript:
      '[00:00:02] 坐席：您好，12369环保举报热线，请讲。\n[00:00:05] 来电人：我要举报兴隆办事处那边一个厂子晚上往沟里排黑水，气味很大。\n[00:00:20] 来电人：不要透露我的名字。',
  },
});

const callCase = z.object({
  id: z.string(),
  trackingCode: z.string(),
  status: z.enum(CASE_STATUSES),
  part: z.number().int().openapi({ description: '1, 2, … when the call was split' }),
  trackUrl: z.string(),
});

const callAccepted = z
  .object({
    hotline: z.enum(HOTLINES),
    callId: z.string(),
    result: z.enum(['created', 'duplicate']),
    cases: z.array(callCase),
    ignored: z.array(z.string()).optional().openapi({
      description: 'A duplicate only: the corrections this request carried, not applied because the call and its cases exist already (correct the cases on the desk).',
    }),
  })
  .openapi('HotlineCallAccepted');

const proposal = z.object({
  text: z.string().openapi({ description: 'The complaint the proposal was made for' }),
  type: typeRef.nullable(),
  runnerUp: typeRef.nullable(),
  evidence: z.array(
    z.object({
      phrase: z.string(),
      weight: z.number(),
      source: z.enum(['rule', 'model']),
      start: z.number().int().optional().openapi({ description: 'Where the classifier found the phrase in `text` (UTF-16 offset), when it occurs there literally' }),
      end: z.number().int().optional(),
    }),
  ),
  lead: unit.nullable(),
  coHandlers: z.array(unit),
  transfer: z.boolean(),
  outcome: z.enum(['dispatch', 'transfer', 'triage']),
  triageReason: z.string().nullable(),
  jurisdiction: unit.extend({ matched: z.string() }).nullable(),
  place: z.string().nullable(),
  incidentTime: z.object({ phrase: z.string(), at: instant.nullable(), approximate: z.boolean(), recurring: z.boolean() }).nullable(),
  urgent: z.boolean(),
  urgencyReasons: z.array(z.string()),
  anonymous: z.boolean(),
  anonymityPhrase: z.string().nullable(),
  phonesMentioned: z.array(z.string()).openapi({ description: 'Numbers the caller said, masked' }),
});

const callReview = z
  .object({
    review: z.literal(true),
    hotline: z.enum(HOTLINES),
    callId: z.string(),
    existing: z
      .object({
        sameTranscript: z.boolean(),
        differs: z.array(z.enum(['transcript', 'startedAt', 'callerNumber'])).openapi({
          description: 'How this call differs from the one on record under its callId; submitting it is a 409 unless empty',
        }),
        cases: z.array(callCase.omit({ trackUrl: true })),
      })
      .nullable(),
    transcript: z.object({ lines: z.array(z.object({ speaker: z.enum(['operator', 'caller', 'unknown']), at: z.string().nullable(), text: z.string() })) }),
    callerNumber: z.string().nullable().openapi({ description: 'Masked' }),
    proposal,
    parts: z.array(proposal).nullable(),
  })
  .openapi('HotlineCallReview');

/** Query parameters of a text/plain submission: the call's fields other than the transcript (the body). */
const callQuery = z.strictObject(
  Object.fromEntries(
    CALL_FIELDS.filter((k) => k !== 'transcript').map(
      (k) => [k, z.string().optional()],
    ),
  ),
);

const postCall = apiRoute({
  method: 'post',
  path: '/api/v1/hotline/calls',
  operationId: 'createHotlineCall',
  tags: ['hotline'],
  summary: 'Submit a hotline call (or review it first)',
  description:
    'JSON, or the transcript as `text/plain` with the other fields as query parameters (`parts` as JSON text). ' +
    'A new call answers **201** with its case(s), status `received`: the pipeline classifies and routes them next. ' +
    'The same `callId` (per hotline) with the same transcript, start and caller number answers **200** with the case(s) it already became ' +
    '(with the same transcript, a start in the same minute is the same start: an export a spreadsheet saved without its seconds); ' +
    'a different transcript, `startedAt` or `callerNumber` under a known `callId` is **409** `conflict` naming it. `review: true` answers **200** with the ' +
    "extraction and the classifier's proposal and creates nothing. A corrected `type` that differs from the proposal " +
    'is recorded as labelled data for retraining, and the case is routed with the corrected type.',
  security,
  middleware: [authenticate(), requireRoles(...STAFF)] as const,
  request: {
    query: callQuery,
    body: {
      required: false,
      content: {
        'application/json': { schema: callBody },
        'text/plain': { schema: z.string().openapi({ description: 'The transcript; the other fields in the query' }) },
      },
    },
  },
  responses: {
    201: { description: 'Created: the call and its case(s)', content: { 'application/json': { schema: callAccepted } } },
    200: {
      description: 'The call was already received (same transcript): its case(s); or, with `review: true`, the proposal',
      content: { 'application/json': { schema: z.union([callAccepted, callReview]) } },
    },
    ...errorResponses(400, 401, 403, 409, 413, 415),
  },
});

const getCall = apiRoute({
  method: 'get',
  path: '/api/v1/hotline/calls/{hotline}/{callId}',
  operationId: 'getHotlineCall',
  tags: ['hotline'],
  summary: 'A received call: metadata, full transcript, caller number and its cases',
  security,
  middleware: [authenticate(), requireRoles(...STAFF)] as const,
  request: { params: z.object({ hotline: z.enum(HOTLINES, { error: 'must be 12345 or 12369' }), callId: z.string().min(1).max(100) }) },
  responses: {
    200: {
      description: 'The call',
      content: {
        'application/json': {
          schema: z
            .object({
              hotline: z.enum(HOTLINES),
              callId: z.string(),
              startedAt: instant,
              callerNumber: z.string().nullable(),
              operator: z.string().nullable(),
              transcript: z.string(),
              summary: z.string().nullable(),
              externalRef: z.string().nullable(),
              anonymous: z.boolean(),
              receivedAt: instant,
              cases: z.array(callCase),
            })
            .openapi('HotlineCall'),
        },
      },
    },
    ...errorResponses(400, 401, 403, 404),
  },
});

/** The bulk import: the one route that takes a body in GBK / GB 18030 (see src/app.ts). */
export const HOTLINE_IMPORT_PATH = '/api/v1/hotline/calls:import';

const importRoute = apiRoute({
  method: 'post',
  path: HOTLINE_IMPORT_PATH,
  operationId: 'importHotlineCalls',
  tags: ['hotline'],
  summary: 'Import calls in bulk (NDJSON or CSV), streamed',
  description:
    '`application/x-ndjson`: one call (the JSON of `POST /api/v1/hotline/calls`) a line. `text/csv`: a header row naming the ' +
    'fields (`hotline,callId,startedAt,transcript` required; in any case, width or spacing, `Call_ID`, or by their Chinese names, `来电时间`; ' +
    'two columns naming one field are a 400 naming both; quoted fields may hold commas, quotes and line breaks), then one ' +
    'call a row. The body is read as a stream and the answer streams back as NDJSON, one line per record in file order — ' +
    '`{ line, status: "created"|"duplicate"|"rejected", callId?, caseIds?, reason?, fields?, columns? }` ' +
    '(a rejected CSV record names a field in its `reason` as the file headed its column, `invalid 来电时间 (startedAt)`, and ' +
    '`columns` gives the heading of each of its `fields` headed other than by the field\'s name: `{ "startedAt": "来电时间" }`) — then a last line ' +
    '`{ summary: { records, created, duplicate, rejected, cases } }`. A rejected record never stops the others; calls already ' +
    'on record are `duplicate`, so a re-run creates nothing. `line` is the line the record starts on (the CSV header is line 1). ' +
    'The body is UTF-8, UTF-16 with its byte-order mark, or GBK / GB 18030: declared (`charset=gbk`, `gb2312` or `gb18030`), or ' +
    'undeclared and told from its first 64 KB (not UTF-8, and GB 18030). A body declared GBK whose first 64 KB are not is a 400 ' +
    'naming the line; another charset is a 415. Past them, a record holding bytes that are no character of the body\'s encoding is rejected, ' +
    'its reason naming the fields that hold them as the file headed their columns (`not valid UTF-8 in 摘要 (summary) (…)`); a CSV header holding ' +
    'such bytes is a 400 naming its column.',
  security,
  request: {
    body: {
      required: true,
      content: {
        'application/x-ndjson': { schema: z.string().openapi({ format: 'binary' }) },
        'text/csv': { schema: z.string().openapi({ format: 'binary' }) },
      },
    },
  },
  responses: {
    200: { description: 'Per-record results, then the summary (NDJSON)', content: { 'application/x-ndjson': { schema: z.string() } } },
    ...errorResponses(400, 401, 403, 415),
  },
});

function hotlineDeps(deps: AppEnv['Variables']['deps']): HotlineDeps {
  return { db: deps.db, writer: deps.writer, clock: deps.clock, district: deps.district, classifier: deps.classifier, onCommitted: deps.kickOutbox };
}

/**
 * A start whose offset's + was read as a space: a query string decodes an unencoded + so (curl -X POST
 * '…?startedAt=2026-11-28T21:30:05+08:00' sends 2026-11-28T21:30:05 08:00). A time then a space and an offset
 * says nothing else.
 */
const PLUS_DECODED_AS_SPACE = /^(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?) (\d{2}(?::?\d{2})?)$/;

/**
 * The query's parameters, the first value of each, decoded as UTF-8 with U+FFFD where the bytes escaped are not
 * (URLSearchParams): so a value percent-encoded in GBK (operator=%C0%B4…) is a 400 naming it, as such bytes in the
 * body are, rather than kept as the escapes (c.req.query() leaves what does not decode as it came).
 */
function queryAsText(url: string): Record<string, string> {
  const query: Record<string, string> = {};
  for (const [name, value] of new URL(url).searchParams) if (!Object.hasOwn(query, name)) query[name] = value;
  return query;
}

/** A text/plain submission: the transcript is the body, the rest comes from the query. */
function plainCall(query: Record<string, string>, transcript: string): CallInput {
  const startedAt = query['startedAt']?.trim().replace(PLUS_DECODED_AS_SPACE, '$1+$2');
  const result = callSchema.safeParse({ ...query, ...(startedAt === undefined ? {} : { startedAt }), transcript });
  if (!result.success) {
    const fields = fieldsOf(result.error);
    throw new AppError('validation_failed', `invalid ${Object.keys(fields).join(', ')}`, fields);
  }
  return result.data;
}

export function hotlineRoutes() {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

  const callLimit = limitBody(
    () => MAX_CALL_BYTES,
    (max) => `a call is at most ${max / 1024 / 1024} MB; import large batches with POST /api/v1/hotline/calls:import`,
  );
  app.use('/api/v1/hotline/calls', async (c, next) => (c.req.method === 'POST' ? callLimit(c, next) : next()));

  app.openapi(postCall, async (c) => {
    const deps = c.get('deps');
    const principal = c.get('principal');
    const contentType = (c.req.header('content-type') ?? '').toLowerCase();
    let input: CallInput;
    if (isJsonContentType(contentType)) {
      // The query carries a call's fields only beside a text/plain transcript: with JSON, ?review=true or
      // ?anonymous=true would be dropped, and the call created as if they had not been sent.
      refuseQuery(c.req.queries());
      const body = c.req.valid('json');
      // The text/plain schema only documents the other form; a JSON body was validated as a call.
      if (typeof body === 'string') throw new AppError('validation_failed', 'invalid body', { body: 'must be a JSON object' });
      input = body;
    }
    else if (contentType.startsWith('text/plain')) input = plainCall(queryAsText(c.req.url), await c.req.text());
    else if (contentType === '') throw new AppError('validation_failed', 'invalid transcript', { transcript: 'required' });
    else {
      throw new AppError('unsupported_media_type', 'send the call as application/json, or the transcript as text/plain with the other fields in the query', {
        'content-type': `not accepted: ${contentType.split(';')[0]!.trim()}`,
      });
    }

    const hd = { ...hotlineDeps(deps), requestId: c.get('requestId') };
    if (input.review) return c.json(await reviewCall(hd, input), 200);
    const outcome = await acceptCall(hd, input, { id: principal.userId, role: principal.role });
    const base = publicUrl(deps.env);
    return c.json(
      {
        hotline: input.hotline,
        callId: input.callId,
        result: outcome.status,
        cases: outcome.cases.map((k) => ({ ...k, trackUrl: `${base}/track/${k.trackingCode}` })),
        ...(outcome.ignored ? { ignored: outcome.ignored } : {}),
      },
      outcome.status === 'created' ? 201 : 200,
    );
  });
  documentBodyRequired(app, postCall);

  app.openapi(getCall, async (c) => {
    const deps = c.get('deps');
    const { hotline, callId } = c.req.valid('param');
    const call = await findHotlineCall(deps.db, hotline, callId);
    if (!call) throw new AppError('not_found', 'no such call');
    const base = publicUrl(deps.env);
    const cases = await listCallCases(deps.db, call.id);
    return c.json(
      {
        hotline,
        callId: call.callId,
        startedAt: call.startedAt,
        callerNumber: call.callerNumber,
        operator: call.operator,
        transcript: call.transcript,
        summary: call.summary,
        externalRef: call.externalRef,
        anonymous: call.anonymous,
        receivedAt: call.createdAt,
        cases: cases.map((k) => ({ ...k, trackUrl: `${base}/track/${k.trackingCode}` })),
      },
      200,
    );
  });

  // Documented through the registry; served by a plain handler because the answer is a stream.
  app.openAPIRegistry.registerPath(importRoute);
  app.post(HOTLINE_IMPORT_PATH, authenticate(), requireRoles(...STAFF), async (c) => {
    const deps = c.get('deps');
    const principal = c.get('principal');
    refuseQuery(c.req.queries());
    const format = formatOf(c.req.header('content-type') ?? '');
    if (!format) {
      const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim();
      throw new AppError('unsupported_media_type', 'send application/x-ndjson or text/csv', {
        'content-type': type ? `not accepted: ${type}` : 'required: application/x-ndjson or text/csv',
      });
    }
    const body = c.req.raw.body;
    if (!body) throw new AppError('validation_failed', 'invalid body', { body: 'required: one call a line (NDJSON) or a CSV with a header row' });
    const { text, encoding } = await decodeImportBody(body, declaredCharset(c.req.header('content-type') ?? ''));
    const records = await openImport(text, format, encoding);
    const results = importCalls({ ...hotlineDeps(deps), requestId: c.get('requestId') }, records, { id: principal?.userId ?? null, role: principal?.role ?? null });
    const encoder = new TextEncoder();
    // Pull-driven: the next batch is imported only when the client has read the previous results.
    // The client stopped reading the results: what is still being imported is answered to no one.
    let cancelled = false;
    const stream = new ReadableStream<Uint8Array>({
      async pull(controller) {
        try {
          const lines: string[] = [];
          // Send results a batch at a time rather than one tiny write per line.
          for (let i = 0; i < 200; i++) {
            const next = await results.next();
            if (cancelled) return;
            if (next.done) {
              if (lines.length > 0) controller.enqueue(encoder.encode(lines.join('')));
              controller.close();
              return;
            }
            lines.push(`${JSON.stringify(next.value)}\n`);
            if ('summary' in next.value) break;
          }
          controller.enqueue(encoder.encode(lines.join('')));
        } catch (err) {
          if (cancelled) return;
          if (clientWentAway(c, err)) {
            // The upload stopped midway: the lines read so far are imported, and nobody is left to tell.
            deps.logger.info({ reqId: c.get('requestId'), reason: (err as Error).message }, 'hotline import stopped: the client closed the connection');
            controller.error(err);
            return;
          }
          deps.logger.error({ reqId: c.get('requestId'), err: { type: (err as Error).name, message: (err as Error).message } }, 'hotline import failed');
          controller.enqueue(encoder.encode(`${JSON.stringify({ error: { code: 'internal', message: 'the import stopped on an internal error; re-run it: calls already imported are duplicates' } })}\n`));
          controller.close();
        }
      },
      async cancel() {
        cancelled = true;
        await results.return(undefined);
      },
    });
    return c.body(stream, 200, { 'content-type': 'application/x-ndjson; charset=utf-8', 'cache-control': 'no-store' });
  });

  return app;
}

import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import { currentCoHandlers, currentLead, listAssignments, type Assignment } from '../db/repositories/assignments.repository.js';
import { findCase, findCaseByTrackingCode } from '../db/repositories/cases.repository.js';
import { findContact, reporterNames } from '../db/repositories/contacts.repository.js';
import { listEvents, type CaseEvent } from '../db/repositories/events.repository.js';
import { typeName, unitName } from '../src/district/district.schema.js';
import { CASE_STATUSES, type CaseStatus } from '../src/domain/case.js';
import { normalizeTrackingCode } from '../src/domain/tracking-code.js';
import { AppError } from '../src/errors.js';
import { maskIdentityInText } from '../src/pipeline/extract.js';
import { latestRating, RATINGS } from '../src/workflow/feedback.js';
import type { Deps } from '../src/deps.js';
import type { AppEnv } from './app-env.js';
import { errorResponses } from './error-schema.js';
import { instant, validationHook } from './validation.js';

const unit = z.object({ code: z.string(), name: z.string() });

export const publicCaseSchema = z
  .object({
    trackingCode: z.string(),
    status: z.enum(CASE_STATUSES),
    type: unit.nullable(),
    lead: unit.nullable(),
    coHandlers: z.array(unit),
    jurisdiction: unit.nullable(),
    urgent: z.boolean(),
    anonymous: z.boolean(),
    receivedAt: instant,
    dispatchedAt: instant.nullable(),
    deadlines: z.object({ signBy: instant.nullable(), replyBy: instant.nullable(), rateBy: instant.nullable() }),
    history: z.array(z.object({ status: z.enum(CASE_STATUSES), at: instant, note: z.string().nullable() })),
    reply: z
      .object({ text: z.string(), at: instant })
      .nullable()
      .openapi({ description: "The lead bureau's public reply (phone numbers and the reporter's name masked); null until it replies." }),
    rating: z
      .object({ rating: z.enum(RATINGS), solved: z.boolean(), at: instant })
      .nullable()
      .openapi({ description: "The reporter's latest rating of a reply; null until rated." }),
  })
  .openapi('PublicCase');

export type PublicCase = z.infer<typeof publicCaseSchema>;

const getTrack = createRoute({
  method: 'get',
  path: '/api/v1/track/{trackingCode}',
  operationId: 'trackCase',
  tags: ['intake'],
  summary: 'The public view of a case',
  description: 'Never shows who reported it. Names are in Chinese unless `lang=en`.',
  request: {
    params: z.object({ trackingCode: z.string().min(1).max(40) }),
    query: z.strictObject({ lang: z.enum(['zh', 'en']).optional() }),
  },
  responses: {
    200: { description: 'The case', content: { 'application/json': { schema: publicCaseSchema } } },
    ...errorResponses(400, 404),
  },
});

/** The public view of a case, or null for an unknown code. Never anything about who reported it. */
export async function publicCaseView(deps: Deps, trackingCode: string, lang: 'zh' | 'en'): Promise<PublicCase | null> {
  const { district } = deps;
  const code = normalizeTrackingCode(trackingCode);
  const found = code ? await findCaseByTrackingCode(deps.db, code) : null;
  if (!found) return null;
  const [assignments, events, rating, contact] = await Promise.all([
    listAssignments(deps.db, found.id),
    listEvents(deps.db, found.id, { publicOnly: true }),
    latestRating(deps.db, found.id),
    findContact(deps.db, found.id),
  ]);
  // Bureaus write the notes and the reply (已电话联系举报人…): whoever holds the code reads them with
  // the reporter's name and any phone number masked.
  const names = reporterNames(contact, found);
  const mask = (text: string) => maskIdentityInText(text, names, { officials: true });
  const unitOf = (codeOrNull: string | null | undefined) => (codeOrNull ? { code: codeOrNull, name: unitName(district, codeOrNull, lang) } : null);
  const lead = currentLead(assignments);
  return {
    trackingCode: found.trackingCode,
    status: found.status,
    type: found.typeCode ? { code: found.typeCode, name: typeName(district, found.typeCode, lang) } : null,
    lead: unitOf(lead?.unitCode),
    coHandlers: currentCoHandlers(assignments).map((a) => unitOf(a.unitCode)!),
    jurisdiction: unitOf(found.jurisdictionCode),
    urgent: found.urgent,
    anonymous: found.anonymous,
    receivedAt: found.receivedAt,
    dispatchedAt: found.dispatchedAt,
    deadlines: found.deadlines,
    history: publicTimeline(events, mask),
    reply: publicReply(lead, events, mask),
    rating: rating ? { rating: rating.rating, solved: rating.solved, at: rating.at } : null,
  };
}

/**
 * The tracking code of the case a merged case was merged into, for the
 * tracking page to point to: the public record already names it (the merge
 * note, the reporter's notice, 请以该编号查询进展). Nothing else of that case,
 * which another reporter may have sent.
 */
export async function mergedIntoCode(deps: Deps, trackingCode: string): Promise<string | null> {
  const code = normalizeTrackingCode(trackingCode);
  const found = code ? await findCaseByTrackingCode(deps.db, code) : null;
  if (!found?.mergedInto) return null;
  return (await findCase(deps.db, found.mergedInto))?.trackingCode ?? null;
}

export function trackRoutes() {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  app.openapi(getTrack, async (c) => {
    const view = await publicCaseView(c.get('deps'), c.req.valid('param').trackingCode, c.req.valid('query').lang ?? 'zh');
    if (!view) throw new AppError('not_found', 'no case with this tracking code', { trackingCode: 'no case with this code' });
    // A case changes as it is handled, and only its code's holder should read it: no cache keeps it, shared or not.
    c.header('Cache-Control', 'no-store');
    return c.json(view, 200);
  });
  return app;
}

/**
 * The lead bureau's answer as the public sees it: the current reply on its
 * assignment, or else (after reopening cleared it) the last public reply
 * event of the lead, through `mask` (the reporter's name, phone numbers).
 */
function publicReply(
  lead: Assignment | undefined,
  events: CaseEvent[],
  mask: (text: string) => string,
): { text: string; at: string } | null {
  if (!lead) return null;
  if (lead.replyText && lead.repliedAt) return { text: mask(lead.replyText), at: lead.repliedAt };
  for (let i = events.length - 1; i >= 0; i -= 1) {
    const e = events[i]!;
    if (e.kind !== 'reply') continue;
    const unit = e.data?.unit;
    if (unit !== undefined && unit !== lead.unitCode) continue;
    const text = typeof e.data?.text === 'string' ? e.data.text : e.note;
    if (text) return { text: mask(text), at: e.at };
  }
  return null;
}

/**
 * The public timeline: every status change, and the public notes between them
 * (an extension of the deadline, supervision, a progress note the bureau chose
 * to publish), each with the status the case had then and its note through
 * `mask` (staff write the notes, and may name the reporter).
 */
function publicTimeline(events: ReadonlyArray<{ toStatus: string | null; at: string; note: string | null; kind: string }>, mask: (text: string) => string) {
  const out: Array<{ status: CaseStatus; at: string; note: string | null }> = [];
  let status: CaseStatus = 'received';
  for (const e of events) {
    if (e.toStatus) {
      status = e.toStatus as CaseStatus;
      out.push({ status, at: e.at, note: e.note === null ? null : mask(e.note) });
    } else if (e.note && e.kind !== 'reply') {
      // The reply itself is shown as `reply`; other public notes join the timeline.
      out.push({ status, at: e.at, note: mask(e.note) });
    }
  }
  return out;
}

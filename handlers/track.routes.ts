import { OpenAPIHono, z } from '@hono/zod-openapi';
import { currentCoHandlers, currentLead, listAssignments, type Assignment } from '../db/repositories/assignments.repository.js';
import { caseHandledIn, findCaseByTrackingCode } from '../db/repositories/cases.repository.js';
import { findContact, reporterNames } from '../db/repositories/contacts.repository.js';
import { anonymousReportMergedInto, reporterNamesWithMerged } from '../db/repositories/notifications.repository.js';
import { listEvents, type CaseEvent } from '../db/repositories/events.repository.js';
import { typeName, unitName } from '../src/district/district.schema.js';
import { CASE_STATUSES, MERGED_PUBLIC_NOTE, type Case, type CaseStatus } from '../src/domain/case.js';
import { normalizeTrackingCode } from '../src/domain/tracking-code.js';
import { AppError } from '../src/errors.js';
import { maskIdentityInText } from '../src/pipeline/extract.js';
import { latestRating, RATINGS } from '../src/workflow/feedback.js';
import type { Deps } from '../src/deps.js';
import type { AppEnv } from './app-env.js';
import { errorResponses } from './error-schema.js';
import { instant, validationHook, apiRoute } from './validation.js';
import { maskNamedByRole } from './pages/public-redact.js';
import { timelineNote } from './pages/resident-labels.js';

const unit = z.object({ code: z.string(), name: z.string() });

/** How a case is being handled, as anyone holding its tracking code reads it. */
const handlingFields = {
  status: z.enum(CASE_STATUSES),
  type: unit.nullable().openapi({
    description:
      'The violation type the case is handled as; null until it is known, and while a report no one has routed waits for a dispatcher (`triage`, or `merged` from there): ' +
      "the classifier's guess was too unsure to route on, and a dispatcher decides the type.",
  }),
  lead: unit.nullable(),
  coHandlers: z.array(unit),
  jurisdiction: unit.nullable(),
  urgent: z.boolean(),
  dispatchedAt: instant.nullable(),
  deadlines: z.object({ signBy: instant.nullable(), replyBy: instant.nullable(), rateBy: instant.nullable() }),
  history: z.array(z.object({ status: z.enum(CASE_STATUSES), at: instant, note: z.string().nullable() })),
  reply: z
    .object({ text: z.string(), at: instant })
    .nullable()
    .openapi({
      description: "The lead bureau's public reply (phone numbers, the reporter's name and the names of others it names by who they are masked); null until it replies.",
    }),
};

export const publicCaseSchema = z
  .object({
    trackingCode: z.string(),
    ...handlingFields,
    anonymous: z.boolean(),
    receivedAt: instant,
    rating: z
      .object({ rating: z.enum(RATINGS), solved: z.boolean(), at: instant })
      .nullable()
      .openapi({ description: "The reporter's latest rating of a reply; null until rated." }),
    mergedCase: z
      .object(handlingFields)
      .nullable()
      .openapi({
        description:
          'For a report merged into another case (status `merged`): how that case is being handled, which the report\'s reporter follows here under their own tracking code. ' +
          "Never that case's tracking code (its own reporter's key to its page and to rating its answer), nor anything of who reported it; null for any other case.",
      }),
  })
  .openapi('PublicCase');

export type PublicCase = z.infer<typeof publicCaseSchema>;
type Handling = NonNullable<PublicCase['mergedCase']>;

const getTrack = apiRoute({
  method: 'get',
  path: '/api/v1/track/{trackingCode}',
  operationId: 'trackCase',
  tags: ['intake'],
  summary: 'The public view of a case',
  description:
    'Never shows who reported it. Names, and the notes of the history the service writes (已派发至区环保局办理), are in Chinese unless `lang=en`; ' +
    "a bureau's own words (a published note, the reply) stay as written. " +
    'One network address may look up as many unknown codes as `TRACK_LOOKUP_LIMIT` allows (20 in 10 minutes unless configured); ' +
    'beyond that every lookup from it, of any code, is `429 rate_limited` with `Retry-After` until its window ends.',
  request: {
    params: z.object({ trackingCode: z.string().min(1).max(40, 'at most 40 characters') }),
    query: z.strictObject({ lang: z.enum(['zh', 'en']).optional() }),
  },
  responses: {
    200: { description: 'The case', content: { 'application/json': { schema: publicCaseSchema } } },
    ...errorResponses(400, 404, 429),
  },
});

/** The public view of a case, or null for an unknown code. Never anything about who reported it. */
export async function publicCaseView(deps: Deps, trackingCode: string, lang: 'zh' | 'en'): Promise<PublicCase | null> {
  const code = normalizeTrackingCode(trackingCode);
  const found = code ? await findCaseByTrackingCode(deps.db, code) : null;
  if (!found) return null;
  const [contact, rating, handledIn] = await Promise.all([findContact(deps.db, found.id), latestRating(deps.db, found.id), caseHandledIn(deps.db, found)]);
  // Bureaus write the notes and the reply (已电话联系举报人…): whoever holds the code reads them with
  // the reporter's name and any phone number masked.
  // Its own reporter's names, and those of the reports merged into it: the notes and the reply may name any of them.
  const own = [...reporterNames(contact, found), ...(found.status === 'merged' ? [] : await reporterNamesWithMerged(deps.db, found.id, { own: false }))];
  const { trackingCode: shown, anonymous, receivedAt } = found;
  // The case this report is handled as part of: its notes may name its own reporter or that of any report merged into it.
  const mergedCase = handledIn ? await handlingView(deps, handledIn, lang, await reporterNamesWithMerged(deps.db, handledIn.id)) : null;
  return { trackingCode: shown, ...(await handlingView(deps, found, lang, own)), anonymous, receivedAt, rating: publicRating(rating), mergedCase };
}

function publicRating(rating: Awaited<ReturnType<typeof latestRating>>): PublicCase['rating'] {
  return rating ? { rating: rating.rating, solved: rating.solved, at: rating.at } : null;
}

/** A case's handling as the public reads it, with `names` (reporters') and phone numbers masked in what staff wrote. */
async function handlingView(deps: Deps, c: Case, lang: 'zh' | 'en', names: ReadonlyArray<string>): Promise<Handling> {
  const { district } = deps;
  const [assignments, events, anonymousMerged] = await Promise.all([
    listAssignments(deps.db, c.id),
    listEvents(deps.db, c.id, { publicOnly: true }),
    anonymousReportMergedInto(deps.db, c.id),
  ]);
  // A reporter who asked not to be named, the case's own or one of a report merged into it: their names keep no surname.
  // Anyone else staff name by who they are (网格员张强, 社区书记刘芳, 李伟红老师, 邻居老陈) is published here too, and
  // reads ** as well; officials by surname and title (李科长) stay.
  const mask = (text: string) => maskNamedByRole(maskIdentityInText(text, names, { officials: true, anonymous: c.anonymous || anonymousMerged }));
  const unitOf = (codeOrNull: string | null | undefined) => (codeOrNull ? { code: codeOrNull, name: unitName(district, codeOrNull, lang) } : null);
  const lead = currentLead(assignments);
  return {
    status: c.status,
    type: c.typeCode && !unsureGuess(c) ? { code: c.typeCode, name: typeName(district, c.typeCode, lang) } : null,
    lead: unitOf(lead?.unitCode),
    coHandlers: currentCoHandlers(assignments).map((a) => unitOf(a.unitCode)!),
    jurisdiction: unitOf(c.jurisdictionCode),
    urgent: c.urgent,
    dispatchedAt: c.dispatchedAt,
    deadlines: c.deadlines,
    // The notes the service writes (已派发至区环保局办理) in English for an English reader, as the English tracking page
    // says them; a bureau's own words stay as written.
    history: publicTimeline(events, mask).map((h) => (lang === 'en' && h.note !== null ? { ...h, note: timelineNote('en', h.note, district) } : h)),
    reply: publicReply(lead, events, mask),
  };
}

/**
 * Whether the case's type is only the classifier's guess, too unsure to route on: a report no one has routed, waiting
 * in triage for a dispatcher to decide (or merged from there). Shown as its type, it would tell the resident a manure
 * report is about noise, or that theirs is no environmental problem (非环境类诉求), before anyone decided.
 */
function unsureGuess(c: Case): boolean {
  return c.dispatchedAt === null && (c.status === 'triage' || c.status === 'merged');
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
      // A merge's note names the other case for staff; the public reads that the report goes on under its own code.
      const note = status === 'merged' ? MERGED_PUBLIC_NOTE : e.note;
      out.push({ status, at: e.at, note: note === null ? null : mask(note) });
    } else if (e.note && e.kind !== 'reply') {
      // The reply itself is shown as `reply`; other public notes join the timeline.
      out.push({ status, at: e.at, note: mask(e.note) });
    }
  }
  return out;
}

import type { StatsAssignment, StatsCase } from '../../src/stats/stats.js';
import type { AssignmentRow, CaseRow } from '../schema.js';
import { inChunks, parseJson, type Db } from './db-types.js';
import { currentCoHandlers, currentLead } from './assignments.repository.js';

/**
 * Rows for statistics and exports, read in keyset-paginated batches over
 * (received_at, id), so neither a long period nor a large export holds every
 * case in memory, and a batch costs the same on page 1 and page 1,000.
 * Nothing here reads `case_contacts`: the reporter never enters these rows.
 */

export const BATCH_SIZE = 1000;

export interface CaseWindow {
  /** ISO UTC instant, inclusive. */
  fromInstant: string;
  /** ISO UTC instant, exclusive. */
  toInstant: string;
  status?: string;
  typeCode?: string;
}

interface Cursor {
  receivedAt: string;
  id: string;
}

const CASE_COLUMNS = [
  'id',
  'tracking_code',
  'channel',
  'text',
  'status',
  'type_code',
  'confidence',
  'urgent',
  'anonymous',
  'jurisdiction_code',
  'received_at',
  'sign_deadline_at',
  'reply_deadline_at',
  'replied_at',
  'overdue',
  'closed_at',
  'close_reason',
  'round',
] as const satisfies ReadonlyArray<keyof CaseRow>;

type ExportCaseRowDb = Pick<CaseRow, (typeof CASE_COLUMNS)[number]>;

async function casePage(db: Db, w: CaseWindow, after: Cursor | null, limit: number, withText: boolean) {
  let q = db
    .selectFrom('cases')
    .select(withText ? CASE_COLUMNS : CASE_COLUMNS.filter((c) => c !== 'text'))
    .where('received_at', '>=', w.fromInstant)
    .where('received_at', '<', w.toInstant);
  if (w.status) q = q.where('status', '=', w.status);
  if (w.typeCode) q = q.where('type_code', '=', w.typeCode);
  if (after) {
    const { receivedAt, id } = after;
    q = q.where((eb) => eb.or([eb('received_at', '>', receivedAt), eb.and([eb('received_at', '=', receivedAt), eb('id', '>', id)])]));
  }
  return (await q.orderBy('received_at').orderBy('id').limit(limit).execute()) as Array<ExportCaseRowDb>;
}

async function assignmentsOf(db: Db, caseIds: string[]): Promise<Map<string, AssignmentRow[]>> {
  const out = new Map<string, AssignmentRow[]>();
  if (caseIds.length === 0) return out;
  const rows = await inChunks(caseIds, (ids) => db.selectFrom('assignments').selectAll().where('case_id', 'in', ids).orderBy('case_id').orderBy('unit_code').execute());
  for (const r of rows) {
    const list = out.get(r.case_id) ?? [];
    list.push(r);
    out.set(r.case_id, list);
  }
  return out;
}

interface RatingRow {
  case_id: string;
  round: number;
  rating: string;
  solved: number;
}

async function ratingsOf(db: Db, caseIds: string[]): Promise<Map<string, RatingRow[]>> {
  const out = new Map<string, RatingRow[]>();
  if (caseIds.length === 0) return out;
  const rows = await inChunks(caseIds, (ids) =>
    db.selectFrom('ratings').select(['case_id', 'round', 'rating', 'solved']).where('case_id', 'in', ids).orderBy('case_id').orderBy('round').execute(),
  );
  for (const r of rows) {
    const list = out.get(r.case_id) ?? [];
    list.push({ ...r, round: Number(r.round), solved: Number(r.solved) });
    out.set(r.case_id, list);
  }
  return out;
}

/**
 * The earlier stints of assignment rows that were started afresh (the event
 * log is the record, whatever the row says now): a reopening resets the lead's
 * row for the next round, and a re-route gives a unit that returned or was
 * released the case again in its old row; the work of each earlier stint is
 * read back from the event that recorded it, as an assignment.
 */
async function earlierStintsOf(
  db: Db,
  caseIds: string[],
): Promise<{ stints: Map<string, StatsAssignment[]>; reopened: Set<string>; leadOfRound: Map<string, Map<number, string>> }> {
  const stints = new Map<string, StatsAssignment[]>();
  const reopened = new Set<string>();
  const leadOfRound = new Map<string, Map<number, string>>();
  if (caseIds.length === 0) return { stints, reopened, leadOfRound };
  const rows = await inChunks(caseIds, (ids) =>
    db
      .selectFrom('case_events')
      .select(['case_id', 'kind', 'to_status', 'data'])
      .where('case_id', 'in', ids)
      .where((eb) => eb.or([eb('to_status', '=', 'reopened'), eb('kind', '=', 'assignment_renewed')]))
      .orderBy('id')
      .execute(),
  );
  for (const r of rows) {
    // Only a reopening (重办) makes the case reopened; a unit given the case back does not.
    if (r.to_status === 'reopened') {
      reopened.add(r.case_id);
      const rated = ratedLeadIn(r.data);
      if (rated) leadOfRound.set(r.case_id, (leadOfRound.get(r.case_id) ?? new Map<number, string>()).set(rated.round, rated.unit));
    }
    const p = stintIn(r.data, r.kind === 'assignment_renewed' ? 'earlier' : 'previousRound');
    if (p) stints.set(r.case_id, [...(stints.get(r.case_id) ?? []), p]);
  }
  return { stints, reopened, leadOfRound };
}

/** The round a reopening ended and the lead whose answer in it was rated dissatisfied, as its event recorded them. */
function ratedLeadIn(data: string | null): { round: number; unit: string } | null {
  const d = parseJson<{ round?: unknown; lead?: unknown; previousRound?: { unit?: unknown } } | null>(data, null);
  const unit = typeof d?.lead === 'string' ? d.lead : typeof d?.previousRound?.unit === 'string' ? d.previousRound.unit : null;
  return unit !== null && typeof d?.round === 'number' ? { round: d.round, unit } : null;
}

/**
 * The lead whose answer a rating judges: for a round a reopening ended, the lead its event names; for the case's
 * current round, its lead now (a rated round that was not reopened ended the case, so nobody re-routed it since).
 */
function ratedLead(rating: RatingRow, caseRound: number, leadOfRound: ReadonlyMap<number, string> | undefined, rows: readonly AssignmentRow[]): string | null {
  if (rating.round < caseRound) return leadOfRound?.get(rating.round) ?? null;
  return currentLead(rows)?.unit_code ?? null;
}

/** The stint (`stintOf`) an event recorded under `key`, as the statistics count it. */
function stintIn(data: string | null, key: 'previousRound' | 'earlier'): StatsAssignment | null {
  const p = parseJson<Record<string, Record<string, unknown> | undefined> | null>(data, null)?.[key];
  if (!p || typeof p.unit !== 'string') return null;
  const str = (v: unknown) => (typeof v === 'string' ? v : null);
  return {
    unitCode: p.unit,
    status: str(p.status) ?? 'replied',
    signBy: str(p.signBy),
    replyBy: str(p.replyBy),
    acceptedAt: str(p.acceptedAt),
    repliedAt: str(p.repliedAt),
    returnedAt: str(p.returnedAt),
    releasedAt: str(p.releasedAt),
  };
}

/** The status changes of each case, oldest first: when it entered which status. */
async function statusTimelinesOf(db: Db, caseIds: string[]): Promise<Map<string, Array<{ at: string; to: string }>>> {
  const out = new Map<string, Array<{ at: string; to: string }>>();
  if (caseIds.length === 0) return out;
  const rows = await inChunks(caseIds, (ids) =>
    db
      .selectFrom('case_events')
      .select(['case_id', 'at', 'to_status'])
      .where('case_id', 'in', ids)
      .where('kind', '=', 'status')
      .where('to_status', 'is not', null)
      .orderBy('id')
      .execute(),
  );
  for (const r of rows) out.set(r.case_id, [...(out.get(r.case_id) ?? []), { at: r.at, to: r.to_status! }]);
  return out;
}

/**
 * A unit could not act since the case went to triage: one let go while the case waited there (routed out of it
 * without that unit), or kept on a case that waits there now. That time is its `stoppedAt`: the status the case
 * entered last before the release, or last of all, being triage.
 */
function withTriageStop(a: StatsAssignment, timeline: ReadonlyArray<{ at: string; to: string }>): StatsAssignment {
  const until = a.releasedAt ? Date.parse(a.releasedAt) : Infinity;
  const before = timeline.filter((e) => Date.parse(e.at) < until).at(-1);
  return before?.to === 'triage' ? { ...a, stoppedAt: before.at } : a;
}

function toStatsAssignment(r: AssignmentRow): StatsAssignment {
  return {
    unitCode: r.unit_code,
    status: r.status,
    signBy: r.sign_deadline_at,
    replyBy: r.reply_deadline_at,
    acceptedAt: r.accepted_at,
    repliedAt: r.replied_at,
    returnedAt: r.returned_at,
    releasedAt: r.released_at,
  };
}

/** The cases received in the window, as the statistics see them, `batchSize` at a time. */
export async function* statsCaseBatches(db: Db, w: CaseWindow, batchSize = BATCH_SIZE): AsyncGenerator<StatsCase[]> {
  let after: Cursor | null = null;
  for (;;) {
    const rows = await casePage(db, w, after, batchSize, false);
    if (rows.length === 0) return;
    const ids = rows.map((r) => r.id);
    const [assignments, ratings, earlier, timelines] = await Promise.all([assignmentsOf(db, ids), ratingsOf(db, ids), earlierStintsOf(db, ids), statusTimelinesOf(db, ids)]);
    yield rows.map((r) => ({
      id: r.id,
      receivedAt: r.received_at,
      status: r.status,
      typeCode: r.type_code,
      jurisdictionCode: r.jurisdiction_code,
      reopened: earlier.reopened.has(r.id) || Number(r.round ?? 1) > 1,
      assignments: [...(earlier.stints.get(r.id) ?? []), ...(assignments.get(r.id) ?? []).map(toStatsAssignment)].map((a) => withTriageStop(a, timelines.get(r.id) ?? [])),
      ratings: (ratings.get(r.id) ?? []).map((x) => ({
        rating: x.rating,
        solved: x.solved === 1,
        unitCode: ratedLead(x, Number(r.round ?? 1), earlier.leadOfRound.get(r.id), assignments.get(r.id) ?? []),
      })),
    }));
    if (rows.length < batchSize) return;
    const last = rows[rows.length - 1]!;
    after = { receivedAt: last.received_at, id: last.id };
  }
}

/** One case of the CSV export. No reporter name or phone: they live in case_contacts, which is never read here. */
export interface ExportCase {
  id: string;
  trackingCode: string;
  channel: string;
  /** The reporter's text as stored: mask phones before it leaves the service. */
  text: string;
  status: string;
  typeCode: string | null;
  confidence: number | null;
  urgent: boolean;
  anonymous: boolean;
  jurisdictionCode: string | null;
  receivedAt: string;
  signBy: string | null;
  replyBy: string | null;
  repliedAt: string | null;
  overdue: boolean;
  closedAt: string | null;
  closeReason: string | null;
  lead: { unitCode: string; acceptedAt: string | null } | null;
  coHandlers: string[];
  /** The latest rating (highest round). */
  rating: { rating: string; solved: boolean } | null;
}

function toExportCase(r: ExportCaseRowDb, assignments: AssignmentRow[], ratings: RatingRow[]): ExportCase {
  const lead = currentLead(assignments);
  const latest = ratings[ratings.length - 1];
  return {
    id: r.id,
    trackingCode: r.tracking_code,
    channel: r.channel,
    text: r.text,
    status: r.status,
    typeCode: r.type_code,
    confidence: r.confidence === null ? null : Number(r.confidence),
    urgent: Number(r.urgent) === 1,
    anonymous: Number(r.anonymous) === 1,
    jurisdictionCode: r.jurisdiction_code,
    receivedAt: r.received_at,
    signBy: r.sign_deadline_at,
    replyBy: r.reply_deadline_at,
    repliedAt: r.replied_at,
    overdue: Number(r.overdue ?? 0) === 1,
    closedAt: r.closed_at,
    closeReason: r.close_reason,
    lead: lead ? { unitCode: lead.unit_code, acceptedAt: lead.accepted_at } : null,
    coHandlers: currentCoHandlers(assignments).map((a) => a.unit_code),
    rating: latest ? { rating: latest.rating, solved: latest.solved === 1 } : null,
  };
}

/** The cases of the export, oldest first, `batchSize` at a time. */
export async function* exportCaseBatches(db: Db, w: CaseWindow, batchSize = BATCH_SIZE): AsyncGenerator<ExportCase[]> {
  let after: Cursor | null = null;
  for (;;) {
    const rows = await casePage(db, w, after, batchSize, true);
    if (rows.length === 0) return;
    const ids = rows.map((r) => r.id);
    const [assignments, ratings] = await Promise.all([assignmentsOf(db, ids), ratingsOf(db, ids)]);
    yield rows.map((r) => toExportCase(r, assignments.get(r.id) ?? [], ratings.get(r.id) ?? []));
    if (rows.length < batchSize) return;
    const last = rows[rows.length - 1]!;
    after = { receivedAt: last.received_at, id: last.id };
  }
}

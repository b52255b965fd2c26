import type { ExpressionBuilder } from 'kysely';
import { WORKING } from '../../src/domain/case.js';
import type { Database } from '../schema.js';
import type { Db } from './db-types.js';

/**
 * Reads of the dispatcher desk and its dashboard that no API route needs:
 * extension requests waiting across all cases, overdue open cases, overdue
 * assignments per unit right now, cases per day and the map points.
 */


export interface PendingExtension {
  id: string;
  caseId: string;
  trackingCode: string;
  unitCode: string;
  workingDays: number;
  reason: string;
  createdAt: string;
}

export async function listPendingExtensions(db: Db, limit = 200): Promise<PendingExtension[]> {
  const rows = await db
    .selectFrom('extension_requests')
    .innerJoin('cases', 'cases.id', 'extension_requests.case_id')
    .select([
      'extension_requests.id',
      'extension_requests.case_id',
      'cases.tracking_code',
      'extension_requests.unit_code',
      'extension_requests.working_days',
      'extension_requests.reason',
      'extension_requests.created_at',
    ])
    .where('extension_requests.status', '=', 'pending')
    .orderBy('extension_requests.created_at')
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    id: r.id,
    caseId: r.case_id,
    trackingCode: r.tracking_code,
    unitCode: r.unit_code,
    workingDays: Number(r.working_days),
    reason: r.reason,
    createdAt: r.created_at,
  }));
}

/**
 * The earliest deadline an open assignment of the case has missed by `now`, or null: a sign-for deadline while the
 * assignment waits to be signed for, else its reply deadline.
 */
function earliestMissedDeadline(eb: ExpressionBuilder<Database, 'cases'>, now: string) {
  return eb
    .selectFrom('assignments')
    .whereRef('assignments.case_id', '=', 'cases.id')
    .where('assignments.status', 'in', ['pending', 'accepted'])
    .select((e) =>
      e.fn
        .min(
          e
            .case()
            .when(e.and([e('assignments.status', '=', 'pending'), e('assignments.sign_deadline_at', '<', now)]))
            .then(e.ref('assignments.sign_deadline_at'))
            .when('assignments.reply_deadline_at', '<', now)
            .then(e.ref('assignments.reply_deadline_at'))
            .end(),
        )
        .as('missed'),
    );
}

export interface OverdueCase {
  id: string;
  trackingCode: string;
  status: string;
  typeCode: string | null;
  text: string;
  urgent: boolean;
  supervisedAt: string | null;
  signDeadlineAt: string | null;
  replyDeadlineAt: string | null;
  /** The deadline it is overdue since: the earliest an open assignment has missed (a co-handler's too), else the case's own. */
  overdueSince: string;
  version: number;
  /** The case's latest event as of `version` (desk forms send both: see dispatcher.ts unchangedSince). */
  lastEventId: number;
}

/**
 * Open cases past a deadline (flagged overdue, or an open assignment past its deadline now), the longest overdue
 * first: by the earliest deadline an open assignment has missed — a lead that never signed for the case is overdue
 * since its sign-for deadline, however far its reply deadline lies — else (flagged only) by the case's own deadlines.
 */
export async function listOverdueCases(db: Db, now: string, limit = 200): Promise<OverdueCase[]> {
  const rows = await db
    .selectFrom('cases')
    .select(['id', 'tracking_code', 'status', 'type_code', 'text', 'urgent', 'supervised_at', 'sign_deadline_at', 'reply_deadline_at', 'version'])
    .select((eb) => eb.fn.coalesce(earliestMissedDeadline(eb, now), 'reply_deadline_at', 'sign_deadline_at', 'received_at').as('overdue_since'))
    // Read in the same statement as the version: the latest event the list shows the case with.
    .select((eb) => eb.selectFrom('case_events').whereRef('case_events.case_id', '=', 'cases.id').select((e) => e.fn.max('case_events.id').as('last')).as('last_event_id'))
    .where('status', 'in', WORKING)
    .where((eb) => eb.or([eb('overdue', '=', 1), eb(earliestMissedDeadline(eb, now), 'is not', null)]))
    .orderBy('overdue_since')
    .orderBy('id')
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    id: r.id,
    trackingCode: r.tracking_code,
    status: r.status,
    typeCode: r.type_code,
    text: r.text,
    urgent: Number(r.urgent) === 1,
    supervisedAt: r.supervised_at,
    signDeadlineAt: r.sign_deadline_at,
    replyDeadlineAt: r.reply_deadline_at,
    overdueSince: String(r.overdue_since),
    version: Number(r.version),
    lastEventId: Number(r.last_event_id ?? 0),
  }));
}

/** Open assignments past their sign-for or reply deadline now, counted per unit. */
export async function overdueByUnit(db: Db, now: string): Promise<Array<{ unitCode: string; sign: number; reply: number }>> {
  const rows = await db
    .selectFrom('assignments')
    .innerJoin('cases', 'cases.id', 'assignments.case_id')
    .select(['assignments.unit_code', 'assignments.status', 'assignments.sign_deadline_at', 'assignments.reply_deadline_at'])
    .where('cases.status', 'in', WORKING)
    .where('assignments.status', 'in', ['pending', 'accepted'])
    .where((e) =>
      e.or([
        e.and([e('assignments.status', '=', 'pending'), e('assignments.sign_deadline_at', '<', now)]),
        e('assignments.reply_deadline_at', '<', now),
      ]),
    )
    .execute();
  const byUnit = new Map<string, { unitCode: string; sign: number; reply: number }>();
  for (const r of rows) {
    const entry = byUnit.get(r.unit_code) ?? { unitCode: r.unit_code, sign: 0, reply: 0 };
    if (r.reply_deadline_at !== null && r.reply_deadline_at < now) entry.reply++;
    else entry.sign++;
    byUnit.set(r.unit_code, entry);
  }
  return [...byUnit.values()].sort((a, b) => b.sign + b.reply - (a.sign + a.reply) || a.unitCode.localeCompare(b.unitCode));
}

export interface CasePoint {
  id: string;
  trackingCode: string;
  receivedAt: string;
  typeCode: string | null;
  status: string;
  lat: number | null;
  lng: number | null;
}

/**
 * When each case received in [from, to) came in and its type, oldest first, `batchSize` at a time (keyset over
 * received_at and id): the dashboard counts them per day, all of them however many the period holds.
 */
export async function* receivedTypeBatches(
  db: Db,
  fromInstant: string,
  toInstant: string,
  batchSize = 5000,
): AsyncGenerator<Array<{ receivedAt: string; typeCode: string | null }>> {
  let after: { receivedAt: string; id: string } | null = null;
  for (;;) {
    let q = db.selectFrom('cases').select(['id', 'received_at', 'type_code']).where('received_at', '>=', fromInstant).where('received_at', '<', toInstant);
    if (after) {
      const { receivedAt, id } = after;
      q = q.where((eb) => eb.or([eb('received_at', '>', receivedAt), eb.and([eb('received_at', '=', receivedAt), eb('id', '>', id)])]));
    }
    const rows = await q.orderBy('received_at').orderBy('id').limit(batchSize).execute();
    if (rows.length === 0) return;
    yield rows.map((r) => ({ receivedAt: r.received_at, typeCode: r.type_code }));
    if (rows.length < batchSize) return;
    const last = rows[rows.length - 1]!;
    after = { receivedAt: last.received_at, id: last.id };
  }
}

/** The located cases received in [from, to), at most `limit` of them: when, what type, where (for the map). */
export async function casePoints(db: Db, fromInstant: string, toInstant: string, limit = 20_000): Promise<CasePoint[]> {
  const rows = await db
    .selectFrom('cases')
    .select(['id', 'tracking_code', 'received_at', 'type_code', 'status', 'lat', 'lng'])
    .where('received_at', '>=', fromInstant)
    .where('received_at', '<', toInstant)
    .where('lat', 'is not', null)
    .where('lng', 'is not', null)
    .orderBy('received_at')
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    id: r.id,
    trackingCode: r.tracking_code,
    receivedAt: r.received_at,
    typeCode: r.type_code,
    status: r.status,
    lat: r.lat === null ? null : Number(r.lat),
    lng: r.lng === null ? null : Number(r.lng),
  }));
}

import { PostgresAdapter, sql } from 'kysely';
import type { Case, CaseStatus, Channel } from '../../src/domain/case.js';
import type { CaseRow, CaseUpdate, NewCase } from '../schema.js';
import { insertNow } from '../insert-buffer.js';
import { type Db, parseJson, type Trx } from './db-types.js';

export function toCase(row: CaseRow): Case {
  return {
    id: row.id,
    trackingCode: row.tracking_code,
    channel: row.channel as Channel,
    text: row.text,
    address: row.address,
    location: row.lat !== null && row.lng !== null ? { lat: Number(row.lat), lng: Number(row.lng) } : null,
    occurredAt: row.occurred_at,
    status: row.status as CaseStatus,
    typeCode: row.type_code,
    confidence: row.confidence === null ? null : Number(row.confidence),
    urgent: Number(row.urgent) === 1,
    anonymous: Number(row.anonymous) === 1,
    jurisdictionCode: row.jurisdiction_code,
    placeSource: row.place_source,
    flags: parseJson<string[]>(row.flags, []),
    triageReason: row.triage_reason,
    receivedAt: row.received_at,
    dispatchedAt: row.dispatched_at,
    deadlines: { signBy: row.sign_deadline_at, replyBy: row.reply_deadline_at, rateBy: row.rate_deadline_at },
    updatedAt: row.updated_at,
    version: Number(row.version),
    repliedAt: row.replied_at,
    closedAt: row.closed_at,
    closeReason: row.close_reason,
    mergedInto: row.merged_into,
    round: Number(row.round ?? 1),
    overdue: Number(row.overdue ?? 0) === 1,
    supervisedAt: row.supervised_at,
    extended: Number(row.extended ?? 0) === 1,
  };
}

export async function insertCase(db: Db, row: NewCase): Promise<void> {
  await db.insertInto('cases').values(row).execute();
}

export async function insertCases(db: Db, rows: NewCase[]): Promise<void> {
  await insertNow(db, 'cases', rows);
}

export async function findCase(db: Db, id: string): Promise<Case | null> {
  const row = await db.selectFrom('cases').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? toCase(row) : null;
}

/** How many merges the way from a report to the case it is handled in may take (a merge's target is open, so it is short). */
const MAX_MERGE_HOPS = 16;

/**
 * The case a merged report is handled in: the one it was merged into, or,
 * when that one was merged in turn, the last case of the way. Null for a case
 * that was not merged.
 */
export async function caseHandledIn(db: Db, c: Pick<Case, 'mergedInto'>): Promise<Case | null> {
  return c.mergedInto ? ((await casesHandledIn(db, [c.mergedInto])).get(c.mergedInto) ?? null) : null;
}

/**
 * caseHandledIn for several merged reports at once, by the case each was
 * merged into (`mergedInto`): one query per hop of the longest way, not one
 * per report and hop. An id whose case is gone is left out.
 */
export async function casesHandledIn(db: Db, mergedInto: readonly string[]): Promise<Map<string, Case>> {
  const found = new Map<string, Case>();
  // Where each start has got to: the id still to read, and the last case read on its way.
  let ways = [...new Set(mergedInto)].map((start) => ({ start, next: start as string | null, last: null as Case | null }));
  for (let hops = 0; hops < MAX_MERGE_HOPS && ways.some((w) => w.next); hops += 1) {
    const ids = [...new Set(ways.flatMap((w) => (w.next ? [w.next] : [])))];
    const rows = new Map((await db.selectFrom('cases').selectAll().where('id', 'in', ids).execute()).map((r) => [r.id, toCase(r)] as const));
    ways = ways.map((w) => {
      const into = w.next ? rows.get(w.next) : undefined;
      return into ? { start: w.start, next: into.mergedInto, last: into } : { ...w, next: null };
    });
  }
  for (const w of ways) if (w.last) found.set(w.start, w.last);
  return found;
}

/**
 * Reads the case an action is about to change and locks its row until the
 * transaction ends (FOR UPDATE on PostgreSQL), so a second action on the same
 * case waits and then reads what the first did, as on SQLite, whose
 * transactions begin IMMEDIATE and run one at a time (it has no FOR UPDATE).
 * A transaction that locks several cases locks them in id order.
 */
export async function lockCase(trx: Trx, id: string): Promise<Case | null> {
  let query = trx.selectFrom('cases').selectAll().where('id', '=', id);
  if (trx.getExecutor().adapter instanceof PostgresAdapter) query = query.forUpdate();
  const row = await query.executeTakeFirst();
  return row ? toCase(row) : null;
}

export async function findCaseByTrackingCode(db: Db, trackingCode: string): Promise<Case | null> {
  const row = await db.selectFrom('cases').selectAll().where('tracking_code', '=', trackingCode).executeTakeFirst();
  return row ? toCase(row) : null;
}

/**
 * The cases a typed reference names (`referenceTail`: the last group of the
 * id, from its 25th character), newest first; normally one. The expression is
 * the one the `cases_reference` index is built on, so the lookup uses it.
 */
export async function findCasesByReference(db: Db, tail: string): Promise<Case[]> {
  const rows = await db.selectFrom('cases').selectAll().where(sql<string>`substr(id, 25)`, '=', tail).orderBy('id', 'desc').limit(10).execute();
  return rows.map(toCase);
}

/**
 * Moves a case from one status to another only if nobody else moved it
 * first: the conditional update is the lock. Returns false when the case
 * was not in `from` any more (another worker or person got there first).
 */
export async function transitionCase(
  db: Db,
  id: string,
  from: CaseStatus | readonly CaseStatus[],
  changes: CaseUpdate & { status: CaseStatus; updated_at: string },
): Promise<boolean> {
  const froms = typeof from === 'string' ? [from] : [...from];
  const result = await db
    .updateTable('cases')
    .set((eb) => ({ ...changes, version: eb('version', '+', 1) }))
    .where('id', '=', id)
    .where('status', 'in', froms)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Cases sitting in a status since before `olderThan`, oldest first. */
export async function listStaleCases(
  db: Db,
  status: CaseStatus,
  olderThan: string,
  limit: number,
  afterId?: string,
): Promise<Array<{ id: string; updatedAt: string }>> {
  let q = db
    .selectFrom('cases')
    .select(['id', 'updated_at'])
    .where('status', '=', status)
    .where('updated_at', '<', olderThan);
  if (afterId) q = q.where('id', '>', afterId);
  const rows = await q.orderBy('id').limit(limit).execute();
  return rows.map((r) => ({ id: r.id, updatedAt: r.updated_at }));
}

export async function countCasesByStatus(db: Db): Promise<Record<string, number>> {
  const rows = await db
    .selectFrom('cases')
    .select((eb) => ['status', eb.fn.countAll<number | string>().as('n')])
    .groupBy('status')
    .execute();
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
}

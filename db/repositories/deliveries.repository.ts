import { PostgresAdapter } from 'kysely';
import type { DeliveryRow } from '../schema.js';
import type { Db } from './db-types.js';
import { insertRows } from '../insert-buffer.js';

/** `withdrawn`: not sent, as the unit no longer held the case when its turn came (released, re-routed away, returned). */
export const DELIVERY_STATUSES = ['pending', 'delivered', 'failed', 'withdrawn'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export interface Delivery {
  id: string;
  caseId: string;
  unitCode: string;
  channel: 'webhook';
  status: DeliveryStatus;
  /** Attempts begun: each is counted before its request goes out. */
  attempts: number;
  lastError: string | null;
  lastAttemptAt: string | null;
  /** When the attempt under way began; still set on a later run, that attempt was cut off before its outcome was recorded. */
  attemptStartedAt: string | null;
  deliveredAt: string | null;
  createdAt: string;
}

export function toDelivery(row: DeliveryRow): Delivery {
  return {
    id: row.id,
    caseId: row.case_id,
    unitCode: row.unit_code,
    channel: row.channel as 'webhook',
    status: row.status as DeliveryStatus,
    attempts: Number(row.attempts),
    lastError: row.last_error,
    lastAttemptAt: row.last_attempt_at,
    attemptStartedAt: row.attempt_started_at,
    deliveredAt: row.delivered_at,
    createdAt: row.created_at,
  };
}

export async function insertDeliveries(
  db: Db,
  list: Array<{ id: string; caseId: string; unitCode: string; channel: 'webhook'; at: string }>,
): Promise<void> {
  if (list.length === 0) return;
  await insertRows(
    db,
    'deliveries',
    list.map((d) => ({
      id: d.id,
      case_id: d.caseId,
      unit_code: d.unitCode,
      channel: d.channel,
      status: 'pending',
      attempts: 0,
      created_at: d.at,
    })),
  );
}

export async function findDelivery(db: Db, caseId: string, unitCode: string, channel: string): Promise<Delivery | null> {
  const row = await db
    .selectFrom('deliveries')
    .selectAll()
    .where('case_id', '=', caseId)
    .where('unit_code', '=', unitCode)
    .where('channel', '=', channel)
    .executeTakeFirst();
  return row ? toDelivery(row) : null;
}

/**
 * A delivery's status read with its row locked (PostgreSQL; SQLite transactions run one at a time): a transaction
 * that settles the delivery commits either before this read, which then sees it, or after this transaction, and
 * then sees what it wrote.
 */
export async function lockedDeliveryStatus(trx: Db, id: string): Promise<DeliveryStatus | null> {
  let q = trx.selectFrom('deliveries').select('status').where('id', '=', id);
  if (trx.getExecutor().adapter instanceof PostgresAdapter) q = q.forUpdate();
  const row = await q.executeTakeFirst();
  return row ? (row.status as DeliveryStatus) : null;
}

export async function listDeliveries(db: Db, caseId: string): Promise<Delivery[]> {
  const rows = await db.selectFrom('deliveries').selectAll().where('case_id', '=', caseId).orderBy('unit_code').execute();
  return rows.map(toDelivery);
}

/**
 * Records an attempt that ended before any request went out (the unit has no
 * webhook, no assignment) as one attempt more; a delivered or failed delivery
 * stays that way.
 */
export function recordAttempt(db: Db, id: string, outcome: { status: DeliveryStatus; error: string | null; at: string }): Promise<boolean> {
  return settleAttempt(db, id, outcome, true);
}

/**
 * Counts an attempt before its request goes out, so one cut off by a killed
 * worker still counts (`attemptStartedAt` stays set until `endAttempt`).
 * `note` replaces the last error (an attempt found cut off). False when the
 * delivery moved since `seen` was read: settled, or an attempt begun by
 * another run of its job.
 */
export async function beginAttempt(db: Db, seen: { id: string; attempts: number }, at: string, note: string | null): Promise<boolean> {
  const result = await db
    .updateTable('deliveries')
    .set((eb) => ({
      attempts: eb('attempts', '+', 1),
      last_attempt_at: at,
      attempt_started_at: at,
      ...(note === null ? {} : { last_error: note }),
    }))
    .where('id', '=', seen.id)
    .where('status', '=', 'pending')
    .where('attempts', '=', seen.attempts)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/**
 * Records the outcome of the attempt under way (counted by `beginAttempt`):
 * `delivered`, `failed` for good, or `pending` to be tried again. A delivered
 * or failed delivery stays that way.
 */
export function endAttempt(db: Db, id: string, outcome: { status: 'pending' | 'delivered' | 'failed'; error: string | null; at: string }): Promise<boolean> {
  return settleAttempt(db, id, outcome, false);
}

/** An attempt's outcome on a pending delivery, `count`ing the attempt when `beginAttempt` did not. */
async function settleAttempt(db: Db, id: string, outcome: { status: DeliveryStatus; error: string | null; at: string }, count: boolean): Promise<boolean> {
  const result = await db
    .updateTable('deliveries')
    .set((eb) => ({
      status: outcome.status,
      ...(count ? { attempts: eb('attempts', '+', 1) } : {}),
      last_error: outcome.error,
      last_attempt_at: outcome.at,
      attempt_started_at: null,
      delivered_at: outcome.status === 'delivered' ? outcome.at : null,
    }))
    .where('id', '=', id)
    .where('status', '=', 'pending')
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** A pending delivery that is not to be sent (the unit no longer holds the case); false when it was settled meanwhile. */
export async function withdrawDelivery(db: Db, id: string, at: string): Promise<boolean> {
  const result = await db
    .updateTable('deliveries')
    .set({ status: 'withdrawn', last_error: null, last_attempt_at: at, attempt_started_at: null })
    .where('id', '=', id)
    .where('status', '=', 'pending')
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/**
 * A delivery that never reached the unit — withdrawn before it went out, or failed for good — goes out after all,
 * with a fresh set of attempts: the unit was given the case again.
 */
export async function renewUndelivered(db: Db, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await db
    .updateTable('deliveries')
    .set({ status: 'pending', attempts: 0, last_error: null, attempt_started_at: null })
    .where('id', 'in', [...ids])
    .where('status', 'in', ['withdrawn', 'failed'])
    .execute();
}

export async function listStalePendingDeliveries(
  db: Db,
  olderThan: string,
  limit: number,
  afterId?: string,
): Promise<Delivery[]> {
  let q = db
    .selectFrom('deliveries')
    .selectAll()
    .where('status', '=', 'pending')
    .where((eb) =>
      eb.or([
        eb.and([eb('last_attempt_at', 'is', null), eb('created_at', '<', olderThan)]),
        eb('last_attempt_at', '<', olderThan),
      ]),
    );
  // A page at a time, by id: the caller goes on after the last one it got.
  if (afterId !== undefined) q = q.where('id', '>', afterId);
  const rows = await q.orderBy('id').limit(limit).execute();
  return rows.map(toDelivery);
}

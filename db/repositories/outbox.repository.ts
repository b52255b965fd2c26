import type { JobName, OutboxEntry } from '../../queues/jobs.js';
import { jobIdOf } from '../../queues/jobs.js';
import type { Selectable } from 'kysely';
import type { OutboxTable } from '../schema.js';
import type { Db } from './db-types.js';
import { insertRows } from '../insert-buffer.js';

export interface OutboxRow {
  id: number;
  name: JobName;
  jobId: string;
  payload: unknown;
  runAt: string;
}

/** Written in the same transaction as the change that needs the job. */
export async function addToOutbox(db: Db, entries: OutboxEntry[], now: Date): Promise<void> {
  if (entries.length === 0) return;
  const createdAt = now.toISOString();
  await insertRows(
    db,
    'outbox',
    entries.map((e) => ({
      queue: e.name,
      job_name: e.name,
      job_id: jobIdOf(e),
      payload: JSON.stringify(e.payload),
      available_at: (e.runAt ?? now).toISOString(),
      created_at: createdAt,
    })),
  );
}

/** The oldest entries; delayed ones are included so they can become delayed jobs. */
export async function peekOutbox(db: Db, limit: number): Promise<OutboxRow[]> {
  const rows = await db.selectFrom('outbox').selectAll().orderBy('id').limit(limit).execute();
  return rows.map(toOutboxRow);
}

function toOutboxRow(r: Selectable<OutboxTable>): OutboxRow {
  return {
    id: Number(r.id),
    name: r.job_name as JobName,
    jobId: r.job_id,
    payload: JSON.parse(r.payload) as unknown,
    runAt: r.available_at,
  };
}

/**
 * PostgreSQL: the oldest entries no other relay is moving right now, locked
 * until the caller's transaction ends. Relays in several processes then move
 * disjoint batches instead of all publishing the same rows.
 */
export async function claimOutbox(trx: Db, limit: number): Promise<OutboxRow[]> {
  const rows = await trx.selectFrom('outbox').selectAll().orderBy('id').limit(limit).forUpdate().skipLocked().execute();
  return rows.map(toOutboxRow);
}

export async function deleteFromOutbox(db: Db, ids: number[]): Promise<void> {
  if (ids.length === 0) return;
  await db.deleteFrom('outbox').where('id', 'in', ids).execute();
}

export async function outboxSize(db: Db): Promise<number> {
  const row = await db
    .selectFrom('outbox')
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

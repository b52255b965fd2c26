import type { Kysely } from 'kysely';
import type { Database } from '../schema.js';
import { deleteInBatches, type PruneOptions } from './batched-delete.js';
import type { Db } from './db-types.js';

/** Names one unit's action on a case sent with one Idempotency-Key. */
export interface ActionKeyScope {
  unitCode: string;
  caseId: string;
  action: string;
  key: string;
}

/** The answer an action gave, as it was sent: to answer a retry of it alike. */
export interface KeptAnswer {
  status: number;
  etag: string | null;
  /** The JSON body, as sent. */
  body: string;
}

/**
 * How much of the case a kept answer shows the unit: `full`, or `withdrawn` — only its own part, as drawn for a unit
 * that no longer held the case (after its return). A retry is replayed only to a unit that may read as much now.
 */
export type KeptAccess = 'full' | 'withdrawn';

export async function findActionKey(db: Db, scope: ActionKeyScope): Promise<{ requestHash: string; answer: KeptAnswer; access: KeptAccess } | null> {
  const row = await db
    .selectFrom('unit_action_keys')
    .select(['request_hash', 'answer_status', 'answer_etag', 'answer_body', 'answer_access'])
    .where('unit_code', '=', scope.unitCode)
    .where('case_id', '=', scope.caseId)
    .where('action', '=', scope.action)
    .where('key', '=', scope.key)
    .executeTakeFirst();
  return row
    ? { requestHash: row.request_hash, answer: { status: Number(row.answer_status), etag: row.answer_etag, body: row.answer_body }, access: row.answer_access }
    : null;
}

export async function insertActionKey(db: Db, entry: ActionKeyScope & { requestHash: string; answer: KeptAnswer; access: KeptAccess; at: string }): Promise<void> {
  await db
    .insertInto('unit_action_keys')
    .values({
      unit_code: entry.unitCode,
      case_id: entry.caseId,
      action: entry.action,
      key: entry.key,
      request_hash: entry.requestHash,
      answer_status: entry.answer.status,
      answer_etag: entry.answer.etag,
      answer_body: entry.answer.body,
      answer_access: entry.access,
      created_at: entry.at,
    })
    .execute();
}

/**
 * How long a unit's action key and its answer are kept: a day, longer than any retry of a bureau's system after a
 * lost answer (its retries back off over minutes to hours). The kept answer may hold the reporter's contact, when
 * shared with the bureau, so it is not kept for ever: a retry after that is an action again, refused as a repeat.
 */
export const KEEP_ACTION_KEYS_MS = 24 * 60 * 60_000;

/**
 * Deletes the action keys kept longer than KEEP_ACTION_KEYS_MS, a batch at a time (deleteInBatches) through the index
 * on their age: a backlog larger than a call's batches goes at the next call. How many it deleted.
 */
export async function pruneActionKeys(db: Kysely<Database>, now: Date, opts: PruneOptions = {}): Promise<number> {
  const before = new Date(now.getTime() - KEEP_ACTION_KEYS_MS).toISOString();
  const key = ['unit_code', 'case_id', 'action', 'key'] as const;
  return (await deleteInBatches(db, 'unit_action_keys', { key, age: 'created_at', before }, opts)).deleted;
}

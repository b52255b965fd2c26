import { insertNow } from '../insert-buffer.js';
import type { Db } from './db-types.js';

export async function findIdempotencyKey(
  db: Db,
  key: string,
): Promise<{ requestHash: string; caseId: string } | null> {
  const row = await db.selectFrom('idempotency_keys').select(['request_hash', 'case_id']).where('key', '=', key).executeTakeFirst();
  return row ? { requestHash: row.request_hash, caseId: row.case_id } : null;
}

export async function insertIdempotencyKey(
  db: Db,
  entry: { key: string; requestHash: string; caseId: string; at: string },
): Promise<void> {
  await db
    .insertInto('idempotency_keys')
    .values({ key: entry.key, request_hash: entry.requestHash, case_id: entry.caseId, created_at: entry.at })
    .execute();
}

export async function insertIdempotencyKeys(
  db: Db,
  list: Array<{ key: string; requestHash: string; caseId: string; at: string }>,
): Promise<void> {
  await insertNow(
    db,
    'idempotency_keys',
    list.map((e) => ({ key: e.key, request_hash: e.requestHash, case_id: e.caseId, created_at: e.at })),
  );
}

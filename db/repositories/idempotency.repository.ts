import type { Kysely } from 'kysely';
import { insertNow } from '../insert-buffer.js';
import { deleteInBatches, type PruneOptions } from './batched-delete.js';
import type { Database } from '../schema.js';
import type { Db } from './db-types.js';

/**
 * The submissions kept in idempotency_keys, each under a prefix of its own so that one kind's key never names
 * another's submission (a client's Idempotency-Key `tg-1-2` on the API is not the bot's key of chat 1). The prefixes
 * and separators are those the keys were always stored with: a retry sent across an upgrade finds its key.
 */
const SCOPES = {
  /** `POST /api/v1/reports`: the client's Idempotency-Key. */
  reports: { prefix: 'reports:', separator: ':' },
  /** The web form: the browser (its CSRF token), the district's day and the report's fingerprint. */
  'web-form': { prefix: 'web-form:', separator: ':' },
  /** The Telegram bot: the chat and the confirming update's id. */
  telegram: { prefix: 'tg-', separator: '-' },
  /** A 督办: the case and the client's Idempotency-Key. */
  supervise: { prefix: 'supervise:', separator: ':' },
} as const satisfies Record<string, { prefix: string; separator: string }>;

export type IdempotencyScope = keyof typeof SCOPES;

/** What names one submission within its scope. */
interface ScopeParts {
  reports: [clientKey: string];
  'web-form': [browser: string, day: string, fingerprint: string];
  telegram: [chatId: string, updateId: number];
  supervise: [caseId: string, clientKey: string];
}

declare const scoped: unique symbol;
/** A key as idempotency_keys holds it: made by scopedKey only. */
export type ScopedKey = string & { readonly [scoped]: true };

/** The key under which a submission of `scope` is kept, from what names it there (the client's key, …). */
export function scopedKey<S extends IdempotencyScope>(scope: S, ...parts: ScopeParts[S]): ScopedKey {
  const { prefix, separator } = SCOPES[scope];
  return `${prefix}${parts.join(separator)}` as ScopedKey;
}

export async function findIdempotencyKey(
  db: Db,
  key: ScopedKey,
): Promise<{ requestHash: string; caseId: string } | null> {
  const row = await db.selectFrom('idempotency_keys').select(['request_hash', 'case_id']).where('key', '=', key).executeTakeFirst();
  return row ? { requestHash: row.request_hash, caseId: row.case_id } : null;
}

export async function insertIdempotencyKey(
  db: Db,
  entry: { key: ScopedKey; requestHash: string; caseId: string; at: string },
): Promise<void> {
  await db
    .insertInto('idempotency_keys')
    .values({ key: entry.key, request_hash: entry.requestHash, case_id: entry.caseId, created_at: entry.at })
    .execute();
}

export async function insertIdempotencyKeys(
  db: Db,
  list: Array<{ key: ScopedKey; requestHash: string; caseId: string; at: string }>,
): Promise<void> {
  await insertNow(
    db,
    'idempotency_keys',
    list.map((e) => ({ key: e.key, request_hash: e.requestHash, case_id: e.caseId, created_at: e.at })),
  );
}

/**
 * How long the key of a submission is kept: two days. Longer than a client's retries after a lost answer (minutes to
 * hours), than the district day the web form's key names (25 hours on a day the clocks go back), and than the 24 hours
 * Telegram redelivers an update it got no answer for (the bot remembers handled updates 48 hours too). A retry after
 * that is a new submission: a report makes a new case, a 督办 is sent again. Nothing else reads these rows: the bot's
 * second tap on 确认提交 and the repeat of the last 督办 within 10 minutes are told from the case's own rows.
 */
export const KEEP_IDEMPOTENCY_KEYS_MS = 48 * 60 * 60_000;

/**
 * Deletes the keys kept longer than KEEP_IDEMPOTENCY_KEYS_MS, a batch at a time (deleteInBatches): a backlog larger
 * than a call's batches goes at the next call. How many it deleted.
 */
export async function pruneIdempotencyKeys(db: Kysely<Database>, now: Date, opts: PruneOptions = {}): Promise<number> {
  const before = new Date(now.getTime() - KEEP_IDEMPOTENCY_KEYS_MS).toISOString();
  return (await deleteInBatches(db, 'idempotency_keys', { key: ['key'], age: 'created_at', before }, opts)).deleted;
}

import type { Kysely } from 'kysely';
import { deleteInBatches, type PruneOptions } from '../../db/repositories/batched-delete.js';
import type { Database } from '../../db/schema.js';
import type { Clock } from '../clock.js';
import type { IntakeLimit } from '../env.js';
import type { Logger } from '../logger.js';
import { senderDigest, type IntakeGate } from './intake-gate.js';

/**
 * The intake gate counting in the service's database (`intake_counts`): a
 * fixed window per sender, as the memory and Redis stores count, shared by
 * everything that writes to that database. The Workers build counts here:
 * its isolates share no memory and it has no Redis. Each report is one
 * statement (an upsert that starts a new window once the last one ended,
 * and returns the count), atomic on SQLite, D1 and PostgreSQL alike. A report
 * is never refused because the count could not be kept.
 */
export function createDatabaseIntakeGate(opts: { db: Kysely<Database>; limit: IntakeLimit; clock: Clock; logger: Logger }): IntakeGate {
  const { db, limit, clock, logger } = opts;
  return {
    limit,
    async take(sender) {
      const now = clock.now();
      const at = now.toISOString();
      const endsAt = new Date(now.getTime() + limit.windowS * 1000).toISOString();
      let counted: { reports: number; window_ends_at: string };
      try {
        counted = await db
          .insertInto('intake_counts')
          .values({ sender: senderDigest(sender), reports: 1, window_ends_at: endsAt })
          .onConflict((oc) =>
            oc.column('sender').doUpdateSet((eb) => {
              // Both read the row as it was: a window that ended starts again with this report.
              const ended = eb('intake_counts.window_ends_at', '<=', at);
              return {
                reports: eb.case().when(ended).then(1).else(eb('intake_counts.reports', '+', 1)).end(),
                window_ends_at: eb.case().when(ended).then(endsAt).else(eb.ref('intake_counts.window_ends_at')).end(),
              };
            }),
          )
          .returning(['reports', 'window_ends_at'])
          .executeTakeFirstOrThrow();
      } catch (err) {
        logger.warn({ err: (err as Error).message }, 'intake rate limit: the count could not be kept in the database; the report is taken');
        return { ok: true };
      }
      if (Number(counted.reports) <= limit.reports) return { ok: true };
      return { ok: false, retryAfterS: Math.max(1, Math.ceil((Date.parse(counted.window_ends_at) - now.getTime()) / 1000)) };
    },
    async giveBack(sender) {
      await db
        .updateTable('intake_counts')
        .set((eb) => ({ reports: eb('reports', '-', 1) }))
        .where('sender', '=', senderDigest(sender))
        .where('reports', '>', 0)
        .execute()
        .catch(() => undefined);
    },
    async close() {},
  };
}

/**
 * Deletes the counts whose window has ended (they count for nothing any more), a batch at a time through the index on
 * the window's end (deleteInBatches): a backlog larger than a call's batches goes at the next call. Says how many.
 */
export async function pruneIntakeCounts(db: Kysely<Database>, now: Date, opts: PruneOptions = {}): Promise<number> {
  const ended = { key: ['sender'], age: 'window_ends_at', before: now.toISOString(), op: '<=' } as const;
  return (await deleteInBatches(db, 'intake_counts', ended, opts)).deleted;
}

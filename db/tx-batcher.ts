import { PostgresAdapter, type Kysely, type Transaction } from 'kysely';
import { createGroupCommit } from './group-commit.js';
import { bufferingInserts } from './insert-buffer.js';
import type { Database } from './schema.js';

/**
 * Group commit for small units of work: units that arrive while a
 * transaction is running share the next one, so N concurrent jobs cost one
 * commit instead of N. If the shared transaction fails, every unit of that
 * batch is retried alone in its own transaction, so a failing unit fails
 * alone and the others commit. Units must therefore leave no effect outside
 * the database before their transaction commits, and must not read back the
 * rows they append through `insertRows` (events, assignments, deliveries,
 * notifications, outbox): those are written when the batch's units are done.
 */
export interface TransactionBatcher {
  run<T>(unit: (trx: Transaction<Database>) => Promise<T>): Promise<T>;
}

export function createTransactionBatcher(db: Kysely<Database>, opts: { maxBatch?: number; lanes?: number } = {}): TransactionBatcher {
  type Unit = (trx: Transaction<Database>) => Promise<unknown>;
  // One transaction per batch; the units run one after another inside it,
  // and the rows they append go in together at its end (one insert per table).
  const run = createGroupCommit<Unit, unknown>(
    (units) =>
      db.transaction().execute((trx) =>
        bufferingInserts(trx, async () => {
          const out: unknown[] = [];
          for (const unit of units) out.push(await unit(trx));
          return out;
        }),
      ),
    opts.maxBatch ?? 100,
    // PostgreSQL: a few transactions side by side (SQLite has one writer).
    opts.lanes ?? (db.getExecutor().adapter instanceof PostgresAdapter ? 4 : 1),
  );
  return {
    run: <T>(unit: (trx: Transaction<Database>) => Promise<T>) => run(unit) as Promise<T>,
  };
}

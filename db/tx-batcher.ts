import type { Kysely, Transaction } from 'kysely';
import type { Database } from './schema.js';

/**
 * Group commit for small units of work: units that arrive while a
 * transaction is running share the next one, so N concurrent jobs cost one
 * commit instead of N. If the shared transaction fails, every unit of that
 * batch is retried alone in its own transaction, so a failing unit fails
 * alone and the others commit. Units must therefore leave no effect outside
 * the database before their transaction commits.
 */
export interface TransactionBatcher {
  run<T>(unit: (trx: Transaction<Database>) => Promise<T>): Promise<T>;
}

interface Pending {
  unit: (trx: Transaction<Database>) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

export function createTransactionBatcher(db: Kysely<Database>, opts: { maxBatch?: number } = {}): TransactionBatcher {
  const maxBatch = opts.maxBatch ?? 100;
  let queue: Pending[] = [];
  let flushing = false;

  async function flush(): Promise<void> {
    if (flushing) return;
    flushing = true;
    try {
      while (queue.length > 0) {
        const batch = queue.slice(0, maxBatch);
        queue = queue.slice(batch.length);
        let results: unknown[] | null = null;
        try {
          results = await db.transaction().execute(async (trx) => {
            const out: unknown[] = [];
            for (const p of batch) out.push(await p.unit(trx));
            return out;
          });
        } catch (err) {
          if (batch.length === 1) {
            batch[0]!.reject(err);
            continue;
          }
        }
        if (results) {
          batch.forEach((p, i) => p.resolve(results[i]));
          continue;
        }
        for (const p of batch) {
          try {
            p.resolve(await db.transaction().execute((trx) => p.unit(trx)));
          } catch (err) {
            p.reject(err);
          }
        }
      }
    } finally {
      flushing = false;
    }
  }

  return {
    run<T>(unit: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        queue.push({ unit, resolve: resolve as (v: unknown) => void, reject });
        if (!flushing) setImmediate(() => void flush());
      });
    },
  };
}

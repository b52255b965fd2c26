import { sql, type Kysely } from 'kysely';
import type { Database } from '../schema.js';

/** How much one pruning call may do: what it leaves goes at the next call. */
export interface PruneOptions {
  /** Rows one transaction deletes at most (1,000). */
  batchSize?: number;
  /** Transactions one call runs at most (50). */
  maxBatches?: number;
  /** Asked before each batch: the call ends when it says so (the process stops, a time budget ran out). */
  stopped?: () => boolean;
}

type Column<T extends keyof Database> = keyof Database[T] & string;

/**
 * Deletes the rows of `table` whose `age` column is before `before` (or at it, with `op: '<='`), `batchSize` rows per
 * transaction so that no statement holds the table (or SQLite's one write lock) for long, at most `maxBatches` of
 * them. Each batch names its rows by `key` (the table's primary key, one column or several), found through an index
 * on `age` where the table is large. How many it deleted, and whether it found them all (its last batch came short).
 *
 * `age` may name several columns: a row is then past its time when any of them is (a session expired, or revoked),
 * each column with an index of its own for a batch to find its rows through.
 *
 * The age is tested again on the rows deleted: a row made young again between the two (a chat's lease taken over, a
 * draft written to) is kept, on PostgreSQL as on SQLite.
 */
export async function deleteInBatches<T extends keyof Database & string>(
  db: Kysely<Database>,
  table: T,
  rows: { key: readonly [Column<T>, ...Column<T>[]]; age: Column<T> | readonly [Column<T>, ...Column<T>[]]; before: string; op?: '<' | '<=' },
  opts: PruneOptions = {},
): Promise<{ deleted: number; done: boolean }> {
  const { batchSize = 1000, maxBatches = 50 } = opts;
  const { key, age, before, op = '<' } = rows;
  // The table and columns are checked against Database by the signature; the statement itself is built untyped.
  const untyped = db as unknown as Kysely<Record<string, Record<string, unknown>>>;
  const name: string = table;
  const ageColumns: readonly string[] = typeof age === 'string' ? [age] : age;
  const keyNames: readonly string[] = key;
  const keyColumns = sql.join(key.map((column) => sql.ref(column)));
  const old = sql<boolean>`(${sql.join(ageColumns.map((column) => sql`${sql.ref(column)} ${sql.raw(op)} ${before}`), sql` or `)})`;
  let deleted = 0;
  for (let batch = 0; batch < maxBatches; batch++) {
    if (opts.stopped?.()) return { deleted, done: false };
    // A transaction of its own: on SQLite it waits for its turn at writing instead of blocking in the busy handler.
    const gone = await untyped.transaction().execute((trx) => {
      const some = trx.selectFrom(name).select(keyNames).where(old).limit(batchSize);
      return trx.deleteFrom(name).where(old).where(sql<boolean>`(${keyColumns}) in (${some})`).executeTakeFirst();
    });
    const n = Number(gone.numDeletedRows);
    deleted += n;
    if (n < batchSize) return { deleted, done: true };
  }
  return { deleted, done: false };
}

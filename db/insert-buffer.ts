import type { Insertable } from 'kysely';
import { insertChunksOf, type Db, type Trx } from './repositories/db-types.js';
import type { Database } from './schema.js';

/**
 * Rows that a transaction appends and never reads back before it commits
 * (events, assignments, deliveries, notifications, outbox entries) can wait
 * for the end of the transaction and go in as one multi-row insert per table.
 * A group-committed batch of many small units then costs a few statements
 * instead of several per unit: on PostgreSQL each statement is a round trip,
 * on SQLite each one is built, bound and stepped on its own.
 *
 * Only transactions that asked for it buffer (`bufferingInserts`); anywhere
 * else `insertRows` inserts at once. Code running inside a buffering
 * transaction must not read a buffered table for rows it has just appended.
 */
type TableName = keyof Database & string;
type Buffer = Map<TableName, Array<Insertable<Database[TableName]>>>;

const buffers = new WeakMap<Trx, Buffer>();

export async function insertRows<T extends TableName>(db: Db, table: T, rows: Array<Insertable<Database[T]>>): Promise<void> {
  if (rows.length === 0) return;
  const buffer = buffers.get(db as Trx);
  if (!buffer) return insertNow(db, table, rows);
  let pending = buffer.get(table);
  if (!pending) buffer.set(table, (pending = []));
  for (const row of rows) pending.push(row);
}

/**
 * Runs `work` with the transaction's appended rows held back, then writes
 * them table by table, in the order each table was first written to, still
 * inside the transaction: a failing insert fails the transaction as it would
 * have at once. (The buffered tables refer to cases and users, never to each
 * other, so the order between tables does not matter to foreign keys.)
 */
export async function bufferingInserts<R>(trx: Trx, work: () => Promise<R>): Promise<R> {
  if (buffers.has(trx)) return work();
  const buffer: Buffer = new Map();
  buffers.set(trx, buffer);
  try {
    const result = await work();
    for (const [table, rows] of buffer) await insertNow(trx, table, rows);
    return result;
  } finally {
    buffers.delete(trx);
  }
}

/**
 * Inserts the rows at once, as many to a statement as the database binds the values of (D1: 100 values), never
 * held back by a buffering transaction.
 */
export async function insertNow<T extends TableName>(db: Db, table: T, rows: Array<Insertable<Database[T]>>): Promise<void> {
  for (const chunk of insertChunksOf(db, rows)) {
    // Kysely's insert typing cannot follow a table name chosen at run time.
    await db.insertInto(table).values(chunk as never).execute();
  }
}

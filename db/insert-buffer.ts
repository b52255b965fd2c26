import type { Insertable } from 'kysely';
import type { Db, Trx } from './repositories/db-types.js';
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

/** Bound parameters per statement: well under SQLite's 32,766 and PostgreSQL's 65,535. */
const MAX_PARAMETERS = 30_000;

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

async function insertNow<T extends TableName>(db: Db, table: T, rows: Array<Insertable<Database[T]>>): Promise<void> {
  const perStatement = Math.max(1, Math.floor(MAX_PARAMETERS / Math.max(1, Object.keys(rows[0]!).length)));
  for (let i = 0; i < rows.length; i += perStatement) {
    // Kysely's insert typing cannot follow a table name chosen at run time.
    await db.insertInto(table).values(rows.slice(i, i + perStatement) as never).execute();
  }
}

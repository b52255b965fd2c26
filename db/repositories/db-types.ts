import type { Kysely, Transaction } from 'kysely';
import { chunksOf } from '../../src/chunks.js';
import type { Database } from '../schema.js';

/** Repositories take either the database or an open transaction. */
export type Db = Kysely<Database> | Transaction<Database>;
export type Trx = Transaction<Database>;

/** Unique-constraint violation on SQLite or PostgreSQL. */
export function isUniqueViolation(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false;
  const e = err as { code?: unknown; message?: unknown };
  return (
    e.code === '23505' ||
    e.code === 'SQLITE_CONSTRAINT_UNIQUE' ||
    e.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' ||
    (typeof e.message === 'string' && e.message.includes('UNIQUE constraint failed'))
  );
}

export const bool = (v: boolean): number => (v ? 1 : 0);

export function parseJson<T>(text: string | null, fallback: T): T {
  if (text === null || text === '') return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

/**
 * Parameters one statement binds at most: D1 refuses a statement with more than 100 ('too many SQL variables'), and
 * its adapter says so (`maxParameters`); SQLite and PostgreSQL take 32,766 and 65,535, of which this leaves room.
 */
export function maxParameters(db: Db): number {
  return (db.getExecutor().adapter as { readonly maxParameters?: number }).maxParameters ?? 30_000;
}

/**
 * Values of a list `inChunks` binds to one statement: within what D1 binds, with room for the statement's other
 * parameters. The same on every database, so each runs the same statements.
 */
export const LIST_PER_STATEMENT = 90;

/**
 * Runs `query` for the distinct values of `list` (ids to look up with `in`), a slice of at most
 * LIST_PER_STATEMENT at a time, one after the other, and returns the rows of every slice in the order of the
 * slices. A query that orders its rows orders them within a slice only: group them by the listed value (each
 * value's rows all come from its slice, in the query's order) or sort them again.
 */
export async function inChunks<T, R>(list: readonly T[], query: (chunk: T[]) => Promise<R[]>): Promise<R[]> {
  const rows: R[] = [];
  for (const chunk of chunksOf([...new Set(list)], LIST_PER_STATEMENT)) rows.push(...(await query(chunk)));
  return rows;
}

/** Rows of a multi-row insert into `db`, in slices whose values (a parameter per column of a row) it binds to one statement. */
export function insertChunksOf<R extends object>(db: Db, rows: readonly R[]): Generator<R[]> {
  const columns = Math.max(1, Object.keys(rows[0] ?? {}).length);
  return chunksOf(rows, Math.max(1, Math.floor(maxParameters(db) / columns)));
}

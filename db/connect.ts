import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, type Driver, type SqliteDialectConfig } from 'kysely';
import pg from 'pg';
import { makeDirs } from '../src/storage/make-dirs.js';
import type { Database } from './schema.js';
import { SAFETY_NET_PAGES, startWalCheckpointer, type WalCheckpointer } from './wal-checkpointer.js';
import { takingTurns, type WriteTurn } from './write-turn.js';

import { DatabaseUnavailableError } from './migrate.js';
export { DatabaseUnavailableError, migrateToLatest } from './migrate.js';

export type DbEngine = 'sqlite' | 'postgres';

export interface DatabaseHandle {
  db: Kysely<Database>;
  engine: DbEngine;
  /** A printable location without credentials. */
  where: string;
}

export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url);
}

export function sqlitePath(url: string): string {
  if (url.startsWith('file:')) return url.startsWith('file://') ? fileURLToPath(url) : url.slice('file:'.length);
  return url;
}

/**
 * The SQLite file in WAL mode. A path that is no database (a directory, a
 * file of something else, a place that cannot be written) is a
 * `DatabaseUnavailableError` naming it, said in one line at start.
 */
function openSqlite(path: string): SQLite.Database {
  let sqlite: SQLite.Database | undefined;
  try {
    if (path !== ':memory:') makeDirs(dirname(resolve(path)));
    sqlite = new SQLite(path);
    sqlite.pragma('journal_mode = WAL');
    return sqlite;
  } catch (err) {
    sqlite?.close();
    throw new DatabaseUnavailableError(`cannot use the SQLite database ${path}: ${(err as Error).message}`);
  }
}

/** How long making a PostgreSQL connection (or waiting for a free one of the pool) may take. */
export const PG_CONNECT_TIMEOUT_MS = 10_000;

export interface ConnectOptions {
  /** PostgreSQL pool size. */
  poolSize?: number;
  /** PostgreSQL: PG_CONNECT_TIMEOUT_MS unless given. */
  connectTimeoutMs?: number;
  /**
   * SQLite's write-ahead log checkpoints: `inline` (SQLite's own, inside the
   * commit that grows the log past 1,000 pages), `background` (a thread of
   * this connection's checkpoints them; see wal-checkpointer.ts), or
   * `elsewhere` (another connection of this process has that thread).
   */
  walCheckpoints?: 'inline' | 'background' | 'elsewhere';
  /** Told if the background checkpoint thread fails (checkpoints then fall back to the safety net). */
  onCheckpointError?: (err: Error) => void;
  /** SQLite: turns at writing shared with this process's other connections to the file (write-turn.ts). */
  writeTurn?: WriteTurn;
}

/** Opens the database named by DATABASE_URL on Node (better-sqlite3 or pg). */
export function connectDatabase(url: string, options: ConnectOptions = {}): DatabaseHandle {
  if (isPostgresUrl(url)) {
    // A server that takes the connection and never answers (another service's port) must not hold the
    // start, or a query, for ever: making a connection, or waiting for one of the pool, fails after this.
    const pool = new pg.Pool({ connectionString: url, max: options.poolSize ?? 10, connectionTimeoutMillis: options.connectTimeoutMs ?? PG_CONNECT_TIMEOUT_MS });
    // A client losing its connection must not crash the process: the pool listens to its idle clients
    // only, so one checked out (a transaction between two queries) would emit an unhandled 'error'.
    // Either way the pool drops the broken client; a query on it fails, and the next takes a new one.
    pool.on('error', () => {});
    pool.on('connect', (client) => client.on('error', () => {}));
    const u = new URL(url);
    return {
      db: new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }),
      engine: 'postgres',
      where: `postgres://${u.host}${u.pathname}`,
    };
  }
  const path = sqlitePath(url);
  const sqlite = openSqlite(path);
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('busy_timeout = 5000');
  // 64 MB of page cache: the hot end of every index stays in memory.
  sqlite.pragma('cache_size = -65536');
  const checkpoints = options.walCheckpoints ?? 'inline';
  if (checkpoints !== 'inline') sqlite.pragma(`wal_autocheckpoint = ${SAFETY_NET_PAGES}`);
  const checkpointer =
    checkpoints === 'background' && path !== ':memory:'
      ? startWalCheckpointer(path, {
          onError: (err) => {
            // Without the thread this connection checkpoints as SQLite does by default.
            if (sqlite.open) sqlite.pragma('wal_autocheckpoint = 1000');
            options.onCheckpointError?.(err);
          },
        })
      : null;
  return {
    db: new Kysely<Database>({ dialect: sqliteDialect(withStatementCache(sqlite), () => sqlite.inTransaction, options.writeTurn, checkpointer) }),
    engine: 'sqlite',
    where: resolve(path),
  };
}

/**
 * Kysely's SQLite driver closes the connection without waiting for anything;
 * `destroy()` here also waits until the checkpoint thread has closed its own
 * connection, so that nothing touches the database's files once it resolves
 * (a thread still starting would open, and so create, the file again).
 */
function sqliteDialect(
  database: SqliteDialectConfig['database'],
  inTransaction: () => boolean,
  turn: WriteTurn | undefined,
  checkpointer: WalCheckpointer | null,
): SqliteDialect {
  return new (class extends SqliteDialect {
    override createDriver(): Driver {
      const driver = tolerantRollback(super.createDriver(), inTransaction);
      const taking = turn ? takingTurns(driver, turn) : driver;
      if (!checkpointer) return taking;
      const destroy = taking.destroy.bind(taking);
      taking.destroy = async () => {
        await destroy();
        await checkpointer.stop();
      };
      return taking;
    }
  })({ database });
}

/**
 * After some errors (a full disk, an I/O error) SQLite has rolled the
 * transaction back by itself: Kysely's ROLLBACK then fails with "no
 * transaction is active", and that error would replace the one that says what
 * happened. Nothing is left to roll back then.
 */
function tolerantRollback(driver: Driver, inTransaction: () => boolean): Driver {
  const rollback = driver.rollbackTransaction.bind(driver);
  driver.rollbackTransaction = async (connection) => {
    if (inTransaction()) await rollback(connection);
  };
  return driver;
}

/**
 * Kysely prepares every query it runs; on SQLite preparing costs about as much
 * as running a small insert. Prepared statements are reusable, so keep them
 * by SQL text (bounded: the cache is dropped when it fills).
 *
 * Transactions begin IMMEDIATE: the write lock is taken (waiting up to the
 * busy timeout) before the first read, so a transaction that reads and then
 * writes never fails because another connection — the intake writer thread,
 * another process — committed in between.
 */
function withStatementCache(sqlite: SQLite.Database, max = 1000) {
  const cache = new Map<string, SQLite.Statement>();
  return {
    close: () => sqlite.close(),
    prepare(source: string) {
      const sql = source === 'begin' ? 'begin immediate' : source;
      let stmt = cache.get(sql);
      if (!stmt) {
        if (cache.size >= max) cache.clear();
        stmt = sqlite.prepare(sql);
        cache.set(sql, stmt);
      }
      return stmt;
    },
  };
}

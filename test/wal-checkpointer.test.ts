import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { connectDatabase } from '../db/connect.js';
import { startWalCheckpointer } from '../db/wal-checkpointer.js';
import { tempDir, waitFor } from './harness.js';

/**
 * The service checkpoints SQLite's write-ahead log on a thread of its own:
 * pages committed to the log reach the database file without any commit of
 * the service doing it.
 */
async function writeLog(mode: 'inline' | 'background') {
  const path = join(tempDir('intake-wal-'), 'wal.db');
  const { db } = connectDatabase(path, { walCheckpoints: mode });
  await sql`create table t (id integer primary key, v text not null)`.execute(db);
  // About 400 pages of log: below SQLite's own threshold of 1,000 pages.
  await db.transaction().execute(async (trx) => {
    for (let i = 0; i < 400; i++) await sql`insert into t (v) values (${'x'.repeat(4000)})`.execute(trx);
  });
  return { db, path, fileSize: () => statSync(path).size };
}

describe('WAL checkpoints', () => {
  it('a background thread copies the log into the database file', async () => {
    const { db, path, fileSize } = await writeLog('background');
    expect(fileSize()).toBeLessThan(100_000);
    await waitFor(() => (fileSize() > 1_500_000 ? true : undefined), { timeoutMs: 10_000 });
    // Still a working database, readable by another connection.
    const other = new SQLite(path, { readonly: true });
    expect(other.prepare('select count(*) as n from t').get()).toEqual({ n: 400 });
    other.close();
    await db.destroy();
  });

  it('closing the database ends the thread first: nothing touches the files afterwards', async () => {
    const { db, path, fileSize } = await writeLog('background');
    // The thread has its connection open once it has checkpointed.
    await waitFor(() => (fileSize() > 1_500_000 ? true : undefined), { timeoutMs: 10_000 });
    await db.destroy();
    // The last connection gone, SQLite has folded the log in and removed it: the directory can go.
    expect(readdirSync(join(path, '..'))).toEqual(['wal.db']);
    const other = new SQLite(path, { readonly: true });
    expect(other.prepare('select count(*) as n from t').get()).toEqual({ n: 400 });
    other.close();
  });

  it('tells its owner when the thread fails', async () => {
    const failed = new Promise<Error>((resolve) => startWalCheckpointer(join(tempDir('intake-wal-'), 'missing', 'wal.db'), { onError: resolve }));
    expect((await failed).message).toMatch(/directory does not exist/);
  });

  it('says nothing once stopped, even when the thread then fails (the database closed and its directory removed)', async () => {
    const errors: Error[] = [];
    const checkpointer = startWalCheckpointer(join(tempDir('intake-wal-'), 'missing', 'wal.db'), { onError: (err) => errors.push(err) });
    // Stopped before the thread got to open the file it cannot open.
    await checkpointer.stop();
    expect(errors).toEqual([]);
  });

  it('without it, a log below the threshold stays in the log', async () => {
    const { db, fileSize } = await writeLog('inline');
    await new Promise((r) => setTimeout(r, 1500));
    expect(fileSize()).toBeLessThan(100_000);
    await db.destroy();
  });
});

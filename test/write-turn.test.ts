import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { sql, type Kysely } from 'kysely';
import { describe, expect, it } from 'vitest';
import { connectDatabase } from '../db/connect.js';
import type { Database } from '../db/schema.js';
import { WriteTurn } from '../db/write-turn.js';
import { tempDir } from './harness.js';

/**
 * Connections of one process to one SQLite file take turns at writing
 * (db/write-turn.ts) instead of meeting SQLite's busy handler, which blocks
 * the waiting thread.
 */
type Db = Kysely<Database>;
const counter = (db: Db) => sql<{ n: number }>`select n from counter`.execute(db).then((r) => r.rows[0]!.n);

/** A read-then-write transaction that yields to the event loop in the middle, as real ones do between statements. */
const increment = (db: Db) =>
  db.transaction().execute(async (trx) => {
    const n = await counter(trx as unknown as Db);
    await new Promise((r) => setTimeout(r, 1));
    await sql`update counter set n = ${n + 1}`.execute(trx);
  });

describe('turns at writing SQLite', () => {
  it('two connections on one thread interleave their transactions without losing an update', async () => {
    const path = join(tempDir('intake-turn-'), 'turn.db');
    const turn = new WriteTurn();
    const a = connectDatabase(path, { writeTurn: turn }).db;
    const b = connectDatabase(path, { writeTurn: turn }).db;
    await sql`create table counter (n integer not null)`.execute(a);
    await sql`insert into counter values (0)`.execute(a);
    // Without turns the second connection's BEGIN IMMEDIATE would block this
    // thread in SQLite's busy handler while the first waits for this thread's
    // event loop to finish: "database is locked" after the busy timeout.
    const results = await Promise.allSettled(Array.from({ length: 40 }, (_, i) => increment(i % 2 ? a : b)));
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    expect(await counter(b)).toBe(40);
    // A failing transaction gives its turn back.
    await expect(a.transaction().execute(async (trx) => sql`select * from no_such_table`.execute(trx))).rejects.toThrow(/no such table/);
    await increment(b);
    expect(await counter(a)).toBe(41);
    await a.destroy();
    await b.destroy();
  });

  it('a turn held by a thread that ended is given back', async () => {
    const turn = new WriteTurn();
    // A thread takes the turn the way WriteTurn does (its thread id + 1) and ends without giving it back.
    const thread = new Worker(
      `const { workerData, threadId } = require('node:worker_threads');
       Atomics.compareExchange(new Int32Array(workerData), 0, 0, threadId + 1);`,
      { eval: true, workerData: turn.buffer },
    );
    const id = thread.threadId;
    await new Promise((resolve) => thread.once('exit', resolve));
    let acquired = false;
    const acquiring = turn.acquire().then(() => (acquired = true));
    await new Promise((r) => setTimeout(r, 150));
    expect(acquired).toBe(false);
    turn.freeFrom(id);
    await acquiring;
    expect(acquired).toBe(true);
    turn.release();
  });
});

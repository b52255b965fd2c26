import { PostgresAdapter, type Kysely } from 'kysely';
import { claimOutbox, deleteFromOutbox, peekOutbox } from '../db/repositories/outbox.repository.js';
import type { Database } from '../db/schema.js';
import type { Logger } from '../src/logger.js';
import type { JobTransport } from './transport.js';

/**
 * Moves outbox entries (written in the same transaction as the change that
 * needs them) into the queue, then deletes them. It runs at once when kicked
 * after a commit in this process, and polls for entries written by other
 * processes. If the queue is down, entries stay until it is back; a job id
 * derived from the business key makes a double move harmless. On PostgreSQL
 * each relay claims its batch (`FOR UPDATE SKIP LOCKED`), so relays in
 * several processes do not publish the same entries at the same time.
 */
export interface OutboxRelay {
  kick(): void;
  /** Moves everything currently in the outbox; resolves when done (tests, shutdown). */
  drain(): Promise<void>;
  stop(): Promise<void>;
}

export function createOutboxRelay(opts: {
  db: Kysely<Database>;
  transport: JobTransport;
  logger: Logger;
  batchSize?: number;
  pollMs?: number;
}): OutboxRelay {
  const batchSize = opts.batchSize ?? 500;
  const pollMs = opts.pollMs ?? 1000;
  let running: Promise<void> | null = null;
  let again = false;
  let stopped = false;
  /** What the last pass could not reach, told once until a pass goes through. */
  let failing: 'database' | 'queue' | null = null;
  let timer: NodeJS.Timeout | null = null;
  let kickScheduled = false;

  // PostgreSQL lets relays in several processes claim disjoint batches; on
  // SQLite (one writer, normally one process) the rows are simply read.
  const claims = opts.db.getExecutor().adapter instanceof PostgresAdapter;

  const enqueue = (jobs: Parameters<JobTransport['enqueue']>[0]) =>
    opts.transport.enqueue(jobs).catch((err: unknown) => {
      throw new QueueUnreachable(err);
    });

  async function moveBatch(): Promise<number> {
    if (claims) {
      return opts.db.transaction().execute(async (trx) => {
        const rows = await claimOutbox(trx, batchSize);
        if (rows.length === 0) return 0;
        // A crash after the enqueue and before the commit leaves the rows for
        // the next pass; the job ids make that second enqueue a no-op.
        await enqueue(
          rows.map((r) => ({ name: r.name, jobId: r.jobId, payload: r.payload, runAt: new Date(r.runAt) })),
        );
        await deleteFromOutbox(trx, rows.map((r) => r.id));
        return rows.length;
      });
    }
    const rows = await peekOutbox(opts.db, batchSize);
    if (rows.length === 0) return 0;
    await enqueue(
      rows.map((r) => ({ name: r.name, jobId: r.jobId, payload: r.payload, runAt: new Date(r.runAt) })),
    );
    // A transaction, so it takes its turn at writing with the process's other connections (db/write-turn.ts).
    await opts.db.transaction().execute((trx) => deleteFromOutbox(trx, rows.map((r) => r.id)));
    return rows.length;
  }

  async function loop(): Promise<void> {
    let delay = pollMs;
    try {
      do {
        again = false;
        const moved = await moveBatch();
        if (moved === batchSize) again = true;
      } while (again && !stopped);
      if (failing) opts.logger.info(`outbox relay: ${failing} reachable again, backlog moved`);
      failing = null;
    } catch (err) {
      // Which of the two is down, for whoever runs the service: the entries wait in the database either way.
      const down = err instanceof QueueUnreachable ? 'queue' : 'database';
      if (failing !== down) {
        opts.logger.warn(
          { err: err instanceof Error ? err.message : String(err) },
          down === 'queue' ? 'outbox relay: cannot reach the queue, entries kept in the database' : 'outbox relay: cannot use the database, entries move once it is back',
        );
      }
      failing = down;
      delay = Math.min(pollMs * 2, 5000);
    }
    schedule(delay);
  }

  function run(): Promise<void> {
    // Stopped, nothing more moves: a pass asked for just before the stop (a kick's setImmediate) would
    // otherwise run after the queue connection was closed, and fail or move entries mid-shutdown.
    if (stopped) return Promise.resolve();
    if (running) {
      again = true;
      return running;
    }
    running = loop().finally(() => {
      running = null;
    });
    return running;
  }

  function schedule(ms: number): void {
    if (stopped) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => void run(), ms);
    timer.unref();
  }

  schedule(0);

  return {
    kick() {
      if (stopped || kickScheduled) return;
      kickScheduled = true;
      setImmediate(() => {
        kickScheduled = false;
        void run();
      });
    },
    async drain() {
      while (running) await running;
      await run();
      while (running) await running;
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      while (running) await running;
    },
  };
}

/** The queue refused or could not take a batch (as opposed to the database it is read from). */
class QueueUnreachable extends Error {
  constructor(cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
  }
}

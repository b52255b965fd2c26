import type { Kysely } from 'kysely';
import { deleteFromOutbox, peekOutbox } from '../../db/repositories/outbox.repository.js';
import type { Database } from '../../db/schema.js';
import type { OutboxRelay } from '../../queues/outbox-relay.js';
import type { JobTransport } from '../../queues/transport.js';
import type { Logger } from '../logger.js';

/**
 * The outbox relay on Workers: the same move as on Node (oldest entries →
 * queue → deleted), but no timers: a Worker has no life between events. A
 * kick marks that entries were written; the entry point then moves them
 * after the response (`ctx.waitUntil`), after a queue batch, and on every
 * cron run (entries a failed move left behind). One move at a time per
 * isolate; two isolates moving the same entry send a job twice, which the
 * idempotent processors absorb.
 */
export interface WorkerRelay extends OutboxRelay {
  /** True once after each kick: the entry point should drain now. */
  takeKick(): boolean;
}

export function createWorkerRelay(opts: { db: Kysely<Database>; transport: JobTransport; logger: Logger; batchSize?: number }): WorkerRelay {
  const batchSize = opts.batchSize ?? 100;
  let kicked = false;
  let running: Promise<void> | null = null;

  async function moveAll(): Promise<void> {
    for (;;) {
      const rows = await peekOutbox(opts.db, batchSize);
      if (rows.length === 0) return;
      await opts.transport.enqueue(rows.map((r) => ({ name: r.name, jobId: r.jobId, payload: r.payload, runAt: new Date(r.runAt) })));
      await deleteFromOutbox(opts.db, rows.map((r) => r.id));
      if (rows.length < batchSize) return;
    }
  }

  async function drain(): Promise<void> {
    while (running) await running.catch(() => undefined);
    running = moveAll().finally(() => {
      running = null;
    });
    try {
      await running;
    } catch (err) {
      opts.logger.warn({ err: (err as Error).message }, 'outbox relay: entries kept in the database for the next run');
      throw err;
    }
  }

  return {
    kick() {
      kicked = true;
    },
    takeKick() {
      const was = kicked;
      kicked = false;
      return was;
    },
    drain,
    async stop() {
      if (running) await running.catch(() => undefined);
    },
  };
}

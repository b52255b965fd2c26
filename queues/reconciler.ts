import type { Kysely } from 'kysely';
import { listStaleCases } from '../db/repositories/cases.repository.js';
import { listStalePendingDeliveries } from '../db/repositories/deliveries.repository.js';
import { outboxSize } from '../db/repositories/outbox.repository.js';
import type { Database } from '../db/schema.js';
import type { Clock } from '../src/clock.js';
import type { Logger } from '../src/logger.js';
import { jobId } from './jobs.js';
import type { JobTransport } from './transport.js';

/**
 * The safety net under the outbox: if Redis lost jobs (restarted without
 * persistence, flushed, failed over), the database still says which cases
 * are not where they should be. Every case still `received`, and every
 * delivery still pending, past a grace period gets its job back.
 */
export interface Reconciler {
  runOnce(): Promise<{ intake: number; dispatch: number }>;
  stop(): Promise<void>;
}

export function createReconciler(opts: {
  db: Kysely<Database>;
  transport: JobTransport;
  clock: Clock;
  logger: Logger;
  intervalMs: number;
  graceMs: number;
  batchSize?: number;
}): Reconciler {
  const batchSize = opts.batchSize ?? 1000;
  let running: Promise<{ intake: number; dispatch: number }> | null = null;
  let stopped = false;

  async function reconcile(): Promise<{ intake: number; dispatch: number }> {
    // While the outbox still holds entries the relay has not moved, those
    // cases are not lost; their jobs are about to be created.
    if ((await outboxSize(opts.db)) > batchSize) return { intake: 0, dispatch: 0 };
    const olderThan = new Date(opts.clock.now().getTime() - opts.graceMs).toISOString();
    let intake = 0;
    let afterId: string | undefined;
    for (;;) {
      const stale = await listStaleCases(opts.db, 'received', olderThan, batchSize, afterId);
      for (const c of stale) {
        const outcome = await opts.transport.ensure({ name: 'intake', jobId: jobId.intake({ caseId: c.id }), payload: { caseId: c.id } });
        if (outcome !== 'present') intake += 1;
      }
      if (stale.length < batchSize || stopped) break;
      afterId = stale[stale.length - 1]!.id;
    }
    let dispatch = 0;
    for (const d of await listStalePendingDeliveries(opts.db, olderThan, batchSize)) {
      const payload = { caseId: d.caseId, unit: d.unitCode, channel: d.channel };
      const outcome = await opts.transport.ensure({ name: 'dispatch', jobId: jobId.dispatch(payload), payload });
      if (outcome !== 'present') dispatch += 1;
    }
    if (intake + dispatch > 0) opts.logger.warn({ intake, dispatch }, 'reconciler re-enqueued lost jobs');
    return { intake, dispatch };
  }

  function runOnce(): Promise<{ intake: number; dispatch: number }> {
    if (!running) {
      running = reconcile().finally(() => {
        running = null;
      });
    }
    return running;
  }

  const safeRun = () => {
    if (stopped) return;
    runOnce().catch((err: Error) => opts.logger.debug({ err: err.message }, 'reconciler pass skipped'));
  };
  const timer = setInterval(safeRun, opts.intervalMs);
  timer.unref();
  // A reconnect may follow a Redis restart that lost every job.
  opts.transport.onReady(safeRun);

  return {
    runOnce,
    async stop() {
      stopped = true;
      clearInterval(timer);
      if (running) await running.catch(() => undefined);
    },
  };
}

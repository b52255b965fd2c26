import type { ExecutionContext, MessageBatch, ScheduledController } from '@cloudflare/workers-types/index.js';
import { createProcessors, type Processors } from '../queues/processors/index.js';
import { pruneKeptRows, requeueLostJobs, sweepDeadlines } from '../queues/reconciler.js';
import { createApp } from './app.js';
import { pruneIntakeCounts } from './intake/database-intake-gate.js';
import { processorDeps } from './core-deps.js';
import { telegramGroupUnits } from './telegram/post-queue.js';
import { AppError, errorBody } from './errors.js';
import type { WorkerBindings } from './worker/bindings.js';
import { consumeJobs, lostAfterMs } from './worker/consumer.js';
import { createWorkerDeps, drainAfter, type WorkerDeps } from './worker/deps.js';
import { requestLogScope } from './worker/log-scope.js';

/**
 * Cloudflare Workers entry (wrangler.toml `main`): the same service as the
 * Node processes, on D1, Cloudflare Queues and R2.
 *
 * - `fetch`: the Hono app of src/app.ts (intake, tracking, staff API,
 *   Telegram webhook when a bot token is set).
 * - `queue`: the job processors of queues/processors, fed by the JOBS queue.
 * - `scheduled`: the cron sweep — deadlines due (reminders, overdue marks,
 *   supervision, closing unrated cases), work the queue lost, the outbox,
 *   and the rows kept past their time (the limit's counts, keys, the bot's
 *   state, sign-ins).
 *
 * The parts are built once per isolate, on its first event, and the D1
 * schema is migrated then (the same migrations as SQLite).
 */

interface Runtime {
  deps: WorkerDeps;
  app: ReturnType<typeof createApp>;
  processors: Processors;
}

let runtime: Runtime | null = null;

function runtimeFor(bindings: WorkerBindings): Runtime {
  if (!runtime) {
    const deps = createWorkerDeps(bindings);
    // workerd's fetch must be called unbound (the processors call it as a method of their deps).
    const unboundFetch: typeof fetch = (input, init) => fetch(input, init);
    // Each request runs with a logger naming its request id, for the lines of code not handed one (D1's unit-of-work log).
    const app = createApp(deps, { middleware: [requestLogScope(deps.logScope, deps.logger)] });
    runtime = { deps, app, processors: createProcessors(processorDeps(deps, unboundFetch)) };
  }
  return runtime;
}

export default {
  async fetch(request: Request, bindings: WorkerBindings, ctx: ExecutionContext): Promise<Response> {
    const { deps, app } = runtimeFor(bindings);
    try {
      await deps.ready();
    } catch (err) {
      deps.logger.error({ err: (err as Error).message }, 'D1 schema migration failed');
      return Response.json(errorBody(new AppError('not_ready', 'the database is not ready'), ''), { status: 503 });
    }
    const response = await app.fetch(request, bindings, ctx);
    drainAfter(deps, ctx);
    return response;
  },

  async queue(batch: MessageBatch<unknown>, bindings: WorkerBindings): Promise<void> {
    const { deps, processors } = runtimeFor(bindings);
    await deps.ready();
    await consumeJobs(batch, {
      processors,
      retry: deps.retry,
      transport: deps.transport,
      clock: deps.clock,
      logger: deps.logger,
      scope: deps.logScope,
      deadLetters: bindings.DEAD_JOBS,
    });
    // Follow-up jobs the processors wrote (deliveries, notifications, wake-ups).
    await deps.relay.drain().catch(() => undefined);
  },

  async scheduled(controller: ScheduledController, bindings: WorkerBindings): Promise<void> {
    const { deps } = runtimeFor(bindings);
    // The sweep's lines that are not handed a logger (D1's unit-of-work log) name the cron run.
    await deps.logScope.run(deps.logger.child({ cron: controller.cron }), () => sweep(deps, controller));
  },
};

/** The cron run: outbox, deadlines due, lost jobs (cases, deliveries, notices, group posts), rows past their time. */
async function sweep(deps: WorkerDeps, controller: ScheduledController): Promise<void> {
  try {
    await deps.ready();
    await deps.relay.drain().catch(() => undefined);
    const now = deps.clock.now();
    // Queue delays end at 12 hours: on Workers this sweep is what applies deadlines on time (within one cron period).
    // No transport: wake-up jobs are chained by the deadline processor, not re-created by every run.
    const swept = await sweepDeadlines({ db: deps.db, clock: deps.clock, district: deps.district, calendar: deps.calendar, logger: deps.logger }, now);
    // Within a cron run's CPU time: what is left after 10 s of paging waits for the next run.
    const pagingUntil = Date.now() + 10_000;
    // Lost jobs of every kind the reconciler of the Node service re-creates: cases, deliveries, notices and group posts.
    const requeued = await requeueLostJobs(deps, now, {
      graceMs: lostAfterMs(deps.env.RECONCILE_GRACE_MS, deps.retry),
      stopped: () => Date.now() > pagingUntil,
      notifications: true,
      groupUnits: telegramGroupUnits(deps.env, deps.district),
    });
    await deps.relay.drain();
    // Kept rows past their time go a batch at a time, all of them within 5 s: a backlog goes over several runs.
    const pruningUntil = Date.now() + 5_000;
    const pruning = { stopped: () => Date.now() > pruningUntil };
    // The counts of the limit per sender whose window ended count for nothing: they go.
    const intakeCounts = await pruneIntakeCounts(deps.db, now, pruning);
    // Then what the Node reconciler's pass prunes too: keys, the bot's state, sign-ins.
    const pruned = await pruneKeptRows(deps.db, now, pruning);
    deps.logger.info(
      {
        cron: controller.cron,
        deadlines: swept.checked.length,
        actions: swept.actions.length,
        ...requeued,
        intakeCountsPruned: intakeCounts,
        ...pruned,
      },
      'scheduled sweep',
    );
  } catch (err) {
    deps.logger.error({ cron: controller.cron, err: (err as Error).message, stack: (err as Error).stack }, 'scheduled sweep failed');
    throw err;
  }
}


import { serve, type ServerType } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import { startBullmqWorkers, type BullmqWorkers } from '../queues/bullmq.transport.js';
import { createProcessors } from '../queues/processors/index.js';
import { createReconciler, type Reconciler } from '../queues/reconciler.js';
import { assetRoutes } from '../handlers/assets.routes.js';
import { swaggerUiAssets } from '../handlers/docs-assets.js';
import { createApp } from './app.js';
import { closeDeps, createDeps, processorDeps, type Deps, type DepsOverrides } from './deps.js';
import type { Env } from './env.js';
import { createBot } from './telegram/bot.js';

export type Role = 'api' | 'worker' | 'all';

/**
 * One running service process: the HTTP API, the queue workers and the
 * reconciler, or a subset of them by role. Owns everything it starts and
 * closes it in reverse order.
 */
export interface Service {
  deps: Deps;
  /** The bound HTTP address, when the API runs. */
  url: string | null;
  reconciler: Reconciler | null;
  stop(): Promise<void>;
}

export async function startService(env: Env, role: Role, overrides: DepsOverrides = {}): Promise<Service> {
  const deps = await createDeps(env, overrides);
  let server: ServerType | null = null;
  let url: string | null = null;
  let workers: BullmqWorkers | null = null;
  let reconciler: Reconciler | null = null;
  let polling: ReturnType<typeof createBot> | null = null;
  if (!env.TELEGRAM_BOT_TOKEN) deps.logger.info('telegram bot off: TELEGRAM_BOT_TOKEN is not set');

  if (role === 'worker' || role === 'all') {
    workers = startBullmqWorkers({
      redisUrl: env.REDIS_URL,
      prefix: env.QUEUE_PREFIX,
      logger: deps.logger,
      concurrency: env.WORKER_CONCURRENCY,
      lockMs: env.JOB_LOCK_MS,
      processors: createProcessors(processorDeps(deps, overrides.fetch)),
    });
    reconciler = createReconciler({
      db: deps.db,
      transport: deps.transport,
      clock: deps.clock,
      logger: deps.logger,
      intervalMs: env.RECONCILE_INTERVAL_MS,
      graceMs: env.RECONCILE_GRACE_MS,
      district: deps.district,
      calendar: deps.calendar,
    });
  }

  if (role === 'api' || role === 'all') {
    const app = createApp(deps, { assets: assetRoutes(), docsAssets: swaggerUiAssets() });
    server = await new Promise<ServerType>((resolve) => {
      const s = serve({ fetch: app.fetch, port: env.PORT, hostname: env.HOST }, () => resolve(s));
    });
    const address = server.address() as AddressInfo;
    const host = env.HOST === '0.0.0.0' || env.HOST === '::' ? 'localhost' : env.HOST;
    url = `http://${host}:${address.port}`;
    deps.logger.info({ url, role }, `listening on ${url} (API docs: ${url}/docs)`);
    if (env.TELEGRAM_BOT_TOKEN && env.TELEGRAM_MODE === 'polling') {
      const bot = createBot(deps);
      bot.catch((err) => deps.logger.error({ err: String(err.error), updateId: err.ctx.update.update_id }, 'telegram update failed'));
      polling = bot;
      bot
        .start({ onStart: (me) => deps.logger.info({ bot: me.username }, 'telegram bot polling for updates') })
        .catch((err: unknown) => deps.logger.error({ err: String(err) }, 'telegram polling stopped'));
    }
  } else {
    deps.logger.info({ role }, 'worker running');
  }

  let stopping: Promise<void> | null = null;
  return {
    deps,
    url,
    reconciler,
    stop() {
      stopping ??= (async () => {
        await polling?.stop();
        if (server) {
          const s = server;
          await new Promise<void>((resolve) => {
            const force = setTimeout(() => {
              if ('closeAllConnections' in s) s.closeAllConnections();
            }, 10_000);
            force.unref();
            s.close(() => {
              clearTimeout(force);
              resolve();
            });
            if ('closeIdleConnections' in s) s.closeIdleConnections();
          });
        }
        await reconciler?.stop();
        await workers?.close();
        await closeDeps(deps);
        deps.logger.info('shutdown complete');
      })();
      return stopping;
    },
  };
}


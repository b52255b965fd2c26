import { serve, type ServerType } from '@hono/node-server';
import { rm, writeFile } from 'node:fs/promises';
import { ServerResponse, STATUS_CODES, type OutgoingHttpHeaders } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { Duplex } from 'node:stream';
import net, { type AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { Hono, type MiddlewareHandler } from 'hono';
import { startBullmqWorkers, withTimeout, type BullmqTransport, type BullmqWorkers } from '../queues/bullmq.transport.js';
import { createProcessors } from '../queues/processors/index.js';
import { createReconciler, type Reconciler } from '../queues/reconciler.js';
import { redisTargetFromEnv } from '../queues/redis-connection.js';
import { assetRoutes } from '../handlers/assets.routes.js';
import { swaggerUiAssets } from '../handlers/docs-assets.js';
import { metricsRoutes } from '../handlers/metrics.routes.js';
import { ANSWER_HEADERS, API_CACHE_CONTROL, createApp, isApiPath, isPageType, methodNotAllowed, PAGE_HEADERS } from './app.js';
import type { AppEnv } from '../handlers/app-env.js';
import { AppError, errorBody, type ErrorCode } from './errors.js';
import { closeDeps, createDeps, processorDeps, type Deps, type DepsOverrides } from './deps.js';
import { goneCodes } from './district/gone-codes.js';
import type { Env } from './env.js';
import { loggedWriter } from './intake/logged-writer.js';
import { channelOfSender, observedGate, windowWords } from './intake/intake-gate.js';
import { createMemoryIntakeGate } from './intake/memory-intake-gate.js';
import { createRedisIntakeGate } from './intake/redis-intake-gate.js';
import { httpMetricsMiddleware } from './metrics/http-metrics.js';
import { createServiceMetrics, type QueueCounts, type ServiceMetrics } from './metrics/metrics.js';
import type { Classifier } from './pipeline/classifier.js';
import { createBot } from './telegram/bot.js';
import { startPolling, type Poller } from './telegram/polling.js';
import { telegramGroupUnits } from './telegram/post-queue.js';
import { makeDirs } from './storage/make-dirs.js';

export type Role = 'api' | 'worker' | 'all';

/** A resource the service needs at start cannot be had (a port, a directory): said in one line naming the setting. */
export class StartupError extends Error {
  override name = 'StartupError';
}

/**
 * The photo directory exists (it is created) and takes files, checked once at
 * start: otherwise every report with a photo would fail while /readyz says ready.
 */
async function checkUploadDir(dir: string): Promise<void> {
  const probe = join(resolve(dir), `.write-check-${process.pid}`);
  try {
    makeDirs(dir);
    await writeFile(probe, '');
    await rm(probe, { force: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'EEXIST' || code === 'ENOTDIR'
        ? 'it is not a directory'
        : code === 'EACCES' || code === 'EPERM' || code === 'EROFS'
          ? 'no permission to write there'
          : code === 'ENOENT'
            ? 'no directory can be made there'
            : (code ?? (err as Error).message);
    throw new StartupError(`UPLOAD_DIR: cannot store photos in ${resolve(dir)}: ${why}`);
  }
}

/** How long kept-alive connections idle when the stop begins stay open for a request already on its way (answered 503). */
const IDLE_CONNECTIONS_GRACE_MS = 100;

/**
 * Once the service is stopping, no request is taken on a kept-alive
 * connection (a 503 the client may send again elsewhere) and every answer
 * still being made closes its connection after it, so that the server's close
 * waits for answers, not for idle clients, and never cuts an answer off.
 */
function closeConnectionsWhenStopping(isStopping: () => boolean): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (isStopping()) {
      c.header('Connection', 'close');
      c.header('Retry-After', '5');
      return c.json(errorBody(new AppError('not_ready', 'the service is shutting down: send the request again'), c.get('requestId')), 503);
    }
    await next();
    if (isStopping()) {
      try {
        c.res.headers.set('Connection', 'close');
      } catch {
        // An answer with immutable headers (a passed-through response): its connection closes when the server's close forces it.
      }
    }
  };
}

/**
 * The answer of an HTTP server that adds ANSWER_HEADERS (PAGE_HEADERS too on a page, and the API's Cache-Control) to the headers the app's
 * answer is written with, where the answer has none of that name: a route's own policy wins, as with hono's
 * secureHeaders, without the app touching the answer's Headers (which costs @hono/node-server's fast path) or each
 * answer setting them one by one.
 */
class AnswerHeadersResponse extends ServerResponse {
  override writeHead(statusCode: number, ...rest: unknown[]): this {
    // writeHead(status, headers?) or writeHead(status, statusMessage, headers?); the headers an object (@hono/node-server's) or absent.
    const at = typeof rest[0] === 'string' ? 1 : 0;
    const given = rest[at];
    if (given === undefined || (typeof given === 'object' && given !== null && !Array.isArray(given))) {
      const headers = (given ?? {}) as OutgoingHttpHeaders;
      for (const [name, value] of ANSWER_HEADERS) if (!(name in headers)) headers[name] = value;
      const type = headers['content-type'] ?? headers['Content-Type'];
      if (typeof type === 'string' && isPageType(type)) for (const [name, value] of PAGE_HEADERS) if (!(name in headers)) headers[name] = value;
      if (!('cache-control' in headers) && isApiPath(pathOf(this.req.url ?? '/'))) headers['cache-control'] = API_CACHE_CONTROL;
      rest[at] = headers;
    }
    return (ServerResponse.prototype.writeHead as (code: number, ...args: unknown[]) => this).call(this, statusCode, ...rest);
  }
}

/** The path of a request target: its origin form, or the path of an absolute one (GET http://host/api/…). */
function pathOf(target: string): string {
  return target.startsWith('/') ? target : (/^[a-z][a-z0-9+.-]*:\/\/[^/]*(\/.*)?$/i.exec(target)?.[1] ?? '/');
}

/** What Node's HTTP parser refuses before the app sees a request, as the API's error code and words. */
function unparsableAnswer(code: string | undefined): { status: 400 | 408 | 413 | 431; error: ErrorCode; message: string } {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return { status: 431, error: 'headers_too_large', message: 'the request headers are larger than the server takes: send fewer or shorter headers (cookies)' };
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return { status: 413, error: 'payload_too_large', message: 'the chunk extensions of the request body are larger than the server takes' };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { status: 408, error: 'request_timeout', message: 'the request did not arrive in full in time: send it again' };
    default:
      return { status: 400, error: 'malformed_request', message: 'the request is not valid HTTP/1.1' };
  }
}

/**
 * Answers a request Node's HTTP parser refuses (headers over the limit, a
 * malformed request line or header, a body that does not arrive in time) in
 * the API's error shape with a request id, where Node would answer a bare
 * status line; the connection closes after it, as it must. Nothing of the
 * request is logged: its headers may name anyone.
 */
function answerUnparsable(logger: Deps['logger'] | undefined) {
  return (err: NodeJS.ErrnoException, socket: Duplex): void => {
    const answering = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (err.code === 'ECONNRESET' || !socket.writable || answering?.headersSent) {
      socket.destroy();
      return;
    }
    const { status, error, message } = unparsableAnswer(err.code);
    const requestId = randomUUID();
    logger?.info({ reqId: requestId, status, parserError: err.code ?? 'unknown' }, 'request refused before routing');
    const body = JSON.stringify(errorBody(new AppError(error, message), requestId));
    const head = [
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}`,
      'Content-Type: application/json; charset=UTF-8',
      `Content-Length: ${Buffer.byteLength(body)}`,
      `X-Request-Id: ${requestId}`,
      ...[...ANSWER_HEADERS].map(([name, value]) => `${name}: ${value}`),
      `Cache-Control: ${API_CACHE_CONTROL}`,
      'Connection: close',
    ];
    socket.end(`${head.join('\r\n')}\r\n\r\n${body}`);
  };
}

/** Listens on host:port, or says in one line which setting names a port or host it cannot have. */
function listen(
  app: { fetch: Parameters<typeof serve>[0]['fetch'] },
  port: number,
  hostname: string,
  vars: { port: string; host: string },
  opts: { answerHeaders?: boolean; logger?: Deps['logger'] } = {},
): Promise<ServerType> {
  return new Promise<ServerType>((resolvePromise, reject) => {
    const s = serve(opts.answerHeaders ? { fetch: app.fetch, port, hostname, serverOptions: { ServerResponse: AnswerHeadersResponse as typeof ServerResponse } } : { fetch: app.fetch, port, hostname }, () => {
      s.off('error', failed);
      resolvePromise(s);
    });
    s.on('clientError', answerUnparsable(opts.logger));
    function failed(err: NodeJS.ErrnoException): void {
      const why =
        err.code === 'EADDRINUSE'
          ? `the port is already in use (${vars.port}=${port})`
          : err.code === 'EACCES'
            ? `no permission to use port ${port} (${vars.port}; ports below 1024 need privileges)`
            : err.code === 'ENOTFOUND' || err.code === 'EADDRNOTAVAIL' || err.code === 'EAI_AGAIN'
              ? `${vars.host}=${hostname} is not an address of this machine`
              : (err.code ?? err.message);
      reject(new StartupError(`cannot listen on ${hostname}:${port}: ${why}`));
    }
    s.once('error', failed);
  });
}

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
  /** This process's metrics registry (served on the API port with METRICS_TOKEN, or on METRICS_PORT). */
  metrics: ServiceMetrics;
  /** The admin port's address, when METRICS_PORT is set. */
  metricsUrl: string | null;
  stop(): Promise<void>;
}

export async function startService(env: Env, role: Role, overrides: DepsOverrides = {}): Promise<Service> {
  if (role !== 'worker') await checkUploadDir(env.UPLOAD_DIR);
  const deps = await createDeps(env, overrides, { apiOnly: role === 'api' });
  let server: ServerType | null = null;
  let url: string | null = null;
  let workers: BullmqWorkers | null = null;
  let reconciler: Reconciler | null = null;
  let polling: Poller | null = null;
  let admin: ServerType | null = null;
  let metricsUrl: string | null = null;
  // The public intake's count per sender: this process's own, or one shared through Redis by every API process.
  const intakeGate =
    role === 'worker' || !env.INTAKE_RATE_LIMIT
      ? undefined
      : env.INTAKE_RATE_LIMIT_STORE === 'memory'
        ? createMemoryIntakeGate(env.INTAKE_RATE_LIMIT)
        : createRedisIntakeGate({
            target: redisTargetFromEnv(env),
            prefix: env.QUEUE_PREFIX,
            limit: env.INTAKE_RATE_LIMIT,
            logger: deps.logger,
            answerTimeoutMs: env.REDIS_ANSWER_TIMEOUT_MS,
          });
  /** Closes what has been started, in reverse order; once, however often it is called. */
  let stopping: Promise<void> | null = null;
  const stopStarted = (): Promise<void> => {
    stopping ??= (async () => {
      await polling?.stop();
      if (server) {
        const s = server;
        await new Promise<void>((resolve) => {
          const force = setTimeout(() => {
            deps.logger.warn('connections still open 10 s after the stop began are closed now');
            if ('closeAllConnections' in s) s.closeAllConnections();
          }, 10_000);
          force.unref();
          // Kept-alive connections idle at this instant are let go only after a moment: a client may have sent
          // its next request on one already, unread yet by a busy event loop, and dropping the connection
          // then (as an HTTP server's close() does) cuts that request off instead of answering it 503 with
          // `Connection: close`. Meanwhile every answer closes its connection (closeConnectionsWhenStopping).
          // setImmediate: after the timer, the event loop reads what arrived (however long it was busy) before they go.
          const idle = setTimeout(() => {
            setImmediate(() => {
              if ('closeIdleConnections' in s) s.closeIdleConnections();
            });
          }, IDLE_CONNECTIONS_GRACE_MS);
          idle.unref();
          // Stops listening only: the connections end as said above.
          net.Server.prototype.close.call(s, () => {
            clearTimeout(force);
            clearTimeout(idle);
            resolve();
          });
        });
      }
      await intakeGate?.close();
      await reconciler?.stop();
      await workers?.close();
      if (admin) {
        const a = admin;
        await new Promise<void>((resolve) => {
          a.close(() => resolve());
          if ('closeAllConnections' in a) a.closeAllConnections();
        });
      }
      await closeDeps(deps);
      deps.logger.info('shutdown complete');
    })();
    return stopping;
  };
  if (!env.TELEGRAM_BOT_TOKEN) deps.logger.info('telegram bot off: TELEGRAM_BOT_TOKEN is not set');
  if (role !== 'worker') {
    const limit = env.INTAKE_RATE_LIMIT;
    deps.logger.info(
      limit ? { reports: limit.reports, windowS: limit.windowS, store: env.INTAKE_RATE_LIMIT_STORE } : {},
      limit
        ? `reports per sender (address or chat): at most ${limit.reports} per ${windowWords(limit.windowS, 'en')}, counted ${env.INTAKE_RATE_LIMIT_STORE === 'redis' ? 'in Redis for every API process' : 'by this process'}`
        : 'reports per sender: no limit (INTAKE_RATE_LIMIT=off)',
    );
  }
  const gone = await goneCodes(deps.db, deps.district).catch(() => null);
  if (gone && Object.values(gone).some((codes) => Object.keys(codes).length > 0)) {
    deps.logger.warn(
      gone,
      'open cases carry codes the district file no longer has: they show by the names an earlier file gave them (by their codes where none was kept); re-route them, or release the units, to what the file has now',
    );
  }
  const unknownYears = deps.calendar.yearsWithoutHolidays(deps.clock.now(), 120);
  if (unknownYears.length > 0) {
    deps.logger.warn(
      { years: unknownYears },
      `working-day calendar: the State Council's holiday schedule for ${unknownYears.join(', ')} is not known; until it is listed (calendar.extraDaysOff and extraWorkdays in the district file, or a newer chinese-days), deadlines there count the days off the law fixes, without the schedule's working weekends (调休)`,
    );
  }

  const metrics = createServiceMetrics({
    db: deps.db,
    queueCounts: queueCountsOf(deps.transport),
    units: [...deps.district.units.keys()],
    ...(deps.writer.up ? { intakeUp: deps.writer.up } : {}),
    dbCacheMs: env.METRICS_DB_CACHE_MS,
  });
  // What the channels and jobs use: the same dependencies, with accepted
  // reports and classifications counted and logged with their ids.
  const served: Deps = {
    ...deps,
    writer: loggedWriter(deps.writer, deps.logger, (r) => metrics.reportAccepted(r.caseRow.channel)),
    ...(intakeGate ? { intakeGate: observedGate(intakeGate, (sender) => metrics.reportRefused(channelOfSender(sender))) } : {}),
  };

  if (role === 'worker' || role === 'all') {
    workers = startBullmqWorkers({
      redis: redisTargetFromEnv(env),
      prefix: env.QUEUE_PREFIX,
      logger: deps.logger,
      answerTimeoutMs: env.REDIS_ANSWER_TIMEOUT_MS,
      concurrency: env.WORKER_CONCURRENCY,
      lockMs: env.JOB_LOCK_MS,
      processors: createProcessors(processorDeps({ ...served, classifier: observedClassifier(deps.classifier, metrics) }, overrides.fetch)),
      observer: metrics.jobs,
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
      groupUnits: telegramGroupUnits(env, deps.district),
    });
  }

  if (role === 'api' || role === 'all') {
    const app = createApp(served, {
      assets: assetRoutes(),
      docsAssets: swaggerUiAssets(),
      middleware: [closeConnectionsWhenStopping(() => stopping !== null), httpMetricsMiddleware(metrics)],
      // Without a token the API port serves no metrics (404); METRICS_PORT serves them apart.
      routes: env.METRICS_TOKEN ? [metricsRoutes({ token: env.METRICS_TOKEN, render: () => metrics.render() })] : [],
      serverWritesAnswerHeaders: true,
    });
    server = await listen(app, env.PORT, env.HOST, { port: 'PORT', host: 'HOST' }, { answerHeaders: true, logger: deps.logger }).catch(async (err: unknown) => {
      await stopStarted();
      throw err;
    });
    if ('keepAliveTimeout' in server) {
      // Longer than the idle timeout of clients and load balancers (commonly 60 s), so the
      // server never closes a kept-alive connection just as a client sends on it.
      server.keepAliveTimeout = 65_000;
      server.headersTimeout = 66_000;
    }
    const address = server.address() as AddressInfo;
    const host = env.HOST === '0.0.0.0' || env.HOST === '::' ? 'localhost' : env.HOST;
    url = `http://${host}:${address.port}`;
    deps.logger.info({ url, role }, `listening on ${url} (API docs: ${url}/docs)`);
    if (env.TELEGRAM_BOT_TOKEN && env.TELEGRAM_MODE === 'polling') {
      polling = startPolling(createBot(served), {
        logger: deps.logger,
        onStart: (username) => deps.logger.info({ bot: username }, 'telegram bot polling for updates'),
      });
    }
  } else {
    deps.logger.info({ role }, 'worker running');
  }

  if (env.METRICS_PORT !== undefined) {
    // The admin port: metrics (and liveness) apart from the public API, for API and worker processes alike.
    const adminApp = new Hono();
    adminApp.get('/healthz', (c) => c.json({ status: 'ok' }));
    adminApp.route('/', metricsRoutes({ token: env.METRICS_TOKEN, render: () => metrics.render() }));
    // A method its paths do not take is a 405 naming those they do, as on the API port; an unknown path stays a 404.
    adminApp.notFound((c) => {
      const wrong = methodNotAllowed(adminApp, c.req.method, c.req.path);
      if (!wrong) return c.text('404 Not Found', 404);
      c.header('Allow', wrong.allow);
      return c.json(errorBody(wrong.error, ''), wrong.error.status);
    });
    admin = await listen(adminApp, env.METRICS_PORT, env.METRICS_HOST, { port: 'METRICS_PORT', host: 'METRICS_HOST' }, { logger: deps.logger }).catch(async (err: unknown) => {
      await stopStarted();
      throw err;
    });
    const address = admin.address() as AddressInfo;
    metricsUrl = `http://${env.METRICS_HOST === '0.0.0.0' || env.METRICS_HOST === '::' ? 'localhost' : env.METRICS_HOST}:${address.port}`;
    deps.logger.info({ metricsUrl, role }, `metrics on ${metricsUrl}/metrics`);
  } else if (!env.METRICS_TOKEN) {
    deps.logger.info('metrics off: set METRICS_PORT (admin port) or METRICS_TOKEN (GET /metrics on the API port)');
  } else if (role === 'worker') {
    // METRICS_TOKEN serves /metrics on the API port, and a worker process has none.
    deps.logger.warn({ role }, 'metrics off in this worker process: METRICS_TOKEN serves /metrics on the API port only; set METRICS_PORT to scrape a worker');
  }

  return {
    deps,
    url,
    reconciler,
    metrics,
    metricsUrl,
    stop: stopStarted,
  };
}


/** The longest a scrape waits for Redis to count the queues' jobs; then it says Redis is down (intake_queue_up 0). */
const QUEUE_COUNTS_WAIT_MS = 2000;

function queueCountsOf(transport: Deps['transport']): (() => Promise<QueueCounts>) | undefined {
  const queues = (transport as Partial<BullmqTransport>).queues;
  if (!queues) return undefined;
  return async () => {
    // A queue's commands wait for Redis to come back: while it is away a scrape would never be answered.
    const entries = await withTimeout(
      Promise.all([...queues].map(async ([name, q]) => [name, await q.getJobCounts('waiting', 'active', 'delayed', 'failed')] as const)),
      QUEUE_COUNTS_WAIT_MS,
    );
    if (!entries) throw new Error('Redis did not answer in time');
    return Object.fromEntries(entries);
  };
}

function observedClassifier(classifier: Classifier, metrics: ServiceMetrics): Classifier {
  return {
    classify(text) {
      const result = classifier.classify(text);
      metrics.classified(result.confidence);
      return result;
    },
  };
}

import { Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Env } from '../src/env.js';
import type { Logger } from '../src/logger.js';
import { JOB_NAMES, JOB_RETRY, jobLogFields, PermanentJobError, retryPolicy, type JobContext, type JobName } from './jobs.js';
import type { Processors } from './processors/index.js';
import {
  createRedisConnection,
  describeRedis,
  queuePrefix,
  redisTargetFromEnv,
  type RedisConnection,
  type RedisTarget,
} from './redis-connection.js';
import type { EnsureOutcome, JobToEnqueue, JobTransport } from './transport.js';

export { safeUrl } from './redis-connection.js';

/**
 * BullMQ on Redis (one server, Sentinel or Cluster). Producers fail fast
 * while Redis is away (the outbox keeps the work); workers wait for it to
 * come back (`maxRetriesPerRequest: null`).
 */

export interface BullmqOptions {
  /** A Sentinel or Cluster target, or a redis:// URL for one server. */
  redis: RedisTarget | string;
  prefix: string;
  logger: Logger;
  /** How long a connection may get no answer from Redis before it is closed and made again (`REDIS_ANSWER_TIMEOUT_MS`). */
  answerTimeoutMs?: number;
}

export type RetryPolicy = { [K in JobName]: { attempts: number; backoffMs: number } };

function targetOf(redis: RedisTarget | string): RedisTarget {
  return typeof redis === 'string' ? { kind: 'single', url: redis } : redis;
}

/** How long a connection the server took may stay without Redis's answer before that is said. */
export const NO_ANSWER_MS = 10_000;

/**
 * Logs the first failure and the recovery, not every reconnect attempt. What
 * fails once the transport is closing (`closing()`: a command-line tool done
 * before the connection was made) is no news of Redis. A server that takes
 * the connection and closes it, or never answers — REDIS_URL naming another
 * service, or a Redis still loading its data — makes no error, only
 * connections that never get ready: that is said too.
 */
function watchConnection(redis: RedisConnection, logger: Logger, where: string, onReady: () => void, closing: () => boolean, noAnswerMs: number): void {
  let down = false;
  // Whether the connection of the moment got as far as Redis's answer.
  let answered = false;
  let silence: NodeJS.Timeout | null = null;
  const unreachable = (reason: string) => {
    if (down || closing()) return;
    down = true;
    logger.warn({ redis: where, err: reason }, `redis unreachable at ${where}: reports are still accepted and kept in the database; queue work resumes when it is back`);
  };
  const endSilence = () => {
    if (silence) clearTimeout(silence);
    silence = null;
  };
  redis.on('error', (err: Error) => unreachable(err.message));
  redis.on('connect', () => {
    answered = false;
    endSilence();
    silence = setTimeout(() => unreachable(`connected, but no answer as Redis in ${noAnswerMs / 1000} s (still loading its data, or not Redis)`), noAnswerMs);
    silence.unref();
  });
  redis.on('close', () => {
    endSilence();
    if (!answered) unreachable('the server closed the connection without answering as Redis (is REDIS_URL the address of a Redis server?)');
    answered = false;
  });
  redis.on('ready', () => {
    answered = true;
    endSilence();
    if (down) logger.info({ redis: where }, 'redis connection restored');
    down = false;
    onReady();
  });
}

export interface BullmqTransport extends JobTransport {
  queues: ReadonlyMap<JobName, Queue>;
  connection: RedisConnection;
}

/** The service's producer transport, as the environment configures it (Redis, prefix, delivery retries). */
export function bullmqTransportFromEnv(env: Env, logger: Logger): BullmqTransport {
  return createBullmqTransport({
    redis: redisTargetFromEnv(env),
    prefix: env.QUEUE_PREFIX,
    logger,
    answerTimeoutMs: env.REDIS_ANSWER_TIMEOUT_MS,
    retry: retryPolicy(env),
  });
}

export function createBullmqTransport(opts: BullmqOptions & { retry?: RetryPolicy; noAnswerMs?: number }): BullmqTransport {
  const retry = opts.retry ?? JOB_RETRY;
  const listeners: Array<() => void> = [];
  const target = targetOf(opts.redis);
  const connection = createRedisConnection(target, 'producer', opts.answerTimeoutMs);
  let closing = false;
  watchConnection(connection, opts.logger, describeRedis(target), () => listeners.forEach((l) => l()), () => closing, opts.noAnswerMs ?? NO_ANSWER_MS);
  const prefix = queuePrefix(target, opts.prefix);
  const queues = new Map<JobName, Queue>();
  for (const name of JOB_NAMES) {
    const q = new Queue(name, {
      connection,
      prefix,
      defaultJobOptions: {
        attempts: retry[name].attempts,
        backoff: { type: 'exponential', delay: retry[name].backoffMs },
        // A finished delivery job lets go of its id (\`dispatch-<case>-<unit>-<channel>\`): a delivery withdrawn
        // from a released unit and renewed when the unit is given the case back is queued again under it, and
        // would otherwise be dropped as a duplicate until the reconciler found it owed. A job id reused by a
        // relay's second move finds the delivery no longer pending and does nothing. A notice that waited for its unit's
        // assignment (\`notify-<notification>\`) is queued again under its id when the assignment is settled, likewise.
        removeOnComplete: name === 'dispatch' || name === 'notify' ? true : { age: 24 * 3600, count: 50_000 },
        removeOnFail: { age: 30 * 24 * 3600 },
      },
    });
    q.on('error', () => {
      // Connection errors are logged once by watchConnection.
    });
    queues.set(name, q);
  }
  const queueOf = (name: JobName): Queue => {
    const q = queues.get(name);
    if (!q) throw new Error(`no queue for job ${name}`);
    return q;
  };
  // The first connection is still being made when the service starts: the first work waits a moment for it
  // rather than reporting Redis unreachable — until it is made, its first attempt fails (a refused connection
  // says Redis is down now; waiting longer only holds up a command-line tool) or 3 s pass. Later, a connection
  // that is down fails at once (the work is kept).
  let firstConnection: Promise<void> | null = new Promise<void>((resolve) => {
    const settle = () => {
      clearTimeout(timer);
      connection.off('ready', settle);
      connection.off('error', settle);
      firstConnection = null;
      resolve();
    };
    const timer = setTimeout(settle, 3000);
    timer.unref();
    connection.on('ready', settle);
    connection.on('error', settle);
  });
  const assertConnected = async () => {
    if (connection.status !== 'ready' && firstConnection) await firstConnection;
    if (connection.status !== 'ready') throw new Error(`redis not connected (${connection.status})`);
  };
  const jobOptions = (job: JobToEnqueue) => {
    const delay = job.runAt ? Math.max(0, job.runAt.getTime() - Date.now()) : 0;
    return { jobId: job.jobId, ...(delay > 0 ? { delay } : {}) };
  };

  return {
    queues,
    connection,
    async enqueue(jobs) {
      await assertConnected();
      const byName = new Map<JobName, JobToEnqueue[]>();
      for (const j of jobs) byName.set(j.name, [...(byName.get(j.name) ?? []), j]);
      await Promise.all(
        [...byName].map(([name, list]) =>
          queueOf(name).addBulk(list.map((j) => ({ name, data: j.payload, opts: jobOptions(j) }))),
        ),
      );
    },
    async ensure(job): Promise<EnsureOutcome> {
      await assertConnected();
      const q = queueOf(job.name);
      const existing = await q.getJob(job.jobId);
      if (existing) {
        const state = await existing.getState();
        if (state === 'failed') {
          // The database says the work is still owed: a full set of attempts, as for a new job.
          await existing.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
          return 'retried';
        }
        if (state !== 'completed' && state !== 'unknown') return 'present';
        // Completed but the database says the work is not done: run it again.
        await existing.remove().catch(() => undefined);
      }
      await q.add(job.name, job.payload, jobOptions(job));
      return 'added';
    },
    async ping() {
      if (connection.status !== 'ready') return false;
      try {
        return (await withTimeout(connection.ping(), 500)) === 'PONG';
      } catch {
        return false;
      }
    },
    onReady(listener) {
      listeners.push(listener);
    },
    async close() {
      closing = true;
      await withTimeout(Promise.allSettled([...queues.values()].map((q) => q.close())), 5000);
      if (connection.status === 'ready') await withTimeout(connection.quit(), 1000).catch(() => undefined);
      connection.disconnect();
    },
  };
}

export interface BullmqWorkers {
  close(): Promise<void>;
}

/** How a job run ended, for metrics: `retry` failed and will run again, `failed` will not. */
export type JobOutcome = 'completed' | 'retry' | 'failed';

export interface JobObserver {
  /** `seconds` is null for a job that failed outside its processor (stalled too often). */
  jobEnded(queue: JobName, outcome: JobOutcome, seconds: number | null): void;
}

/** One BullMQ worker per job name, running the transport-agnostic processors. */
export function startBullmqWorkers(
  opts: BullmqOptions & {
    concurrency: number;
    lockMs?: number;
    processors: Processors;
    only?: readonly JobName[];
    observer?: JobObserver;
  },
): BullmqWorkers {
  const target = targetOf(opts.redis);
  const connection = createRedisConnection(target, 'worker', opts.answerTimeoutMs);
  connection.on('error', () => {
    // Logged once by the producer connection's watcher.
  });
  const prefix = queuePrefix(target, opts.prefix);
  const workers: Worker[] = [];
  // Errors the processor wrapper has logged and counted already.
  const thrown = new WeakSet<Error>();
  for (const name of opts.only ?? JOB_NAMES) {
    const processor = opts.processors[name] as (payload: unknown, ctx: JobContext) => Promise<string>;
    const worker = new Worker(
      name,
      async (job: Job) => {
        const ctx: JobContext = {
          jobId: job.id ?? '',
          // A run cut off by a killed worker (the job taken over once its lock expired) counts as an attempt:
          // BullMQ's attemptsMade leaves it out, the runs started include it. A notice to a unit, a group post,
          // gets no more than its attempts however often a worker dies during one.
          attempt: Math.max(job.attemptsMade + 1, job.attemptsStarted),
          maxAttempts: job.opts.attempts ?? 1,
        };
        const log = opts.logger.child(jobLogFields(name, job.id, job.data));
        const started = performance.now();
        const seconds = () => (performance.now() - started) / 1000;
        try {
          const result = await processor(job.data, ctx);
          const s = seconds();
          opts.observer?.jobEnded(name, 'completed', s);
          log.info({ attempt: ctx.attempt, ms: Math.round(s * 10_000) / 10, result }, 'job completed');
          return result;
        } catch (err) {
          const permanent = err instanceof PermanentJobError || err instanceof UnrecoverableError;
          const final = permanent || ctx.attempt >= ctx.maxAttempts;
          const s = seconds();
          opts.observer?.jobEnded(name, final ? 'failed' : 'retry', s);
          // A job that will not run again wants someone's attention (error); a retry may still succeed (warn).
          log[final ? 'error' : 'warn'](
            { attempt: ctx.attempt, maxAttempts: ctx.maxAttempts, final, ms: Math.round(s * 10_000) / 10, err: (err as Error).message },
            final ? 'job failed for good' : 'job failed, will retry',
          );
          // Final by the count above, which BullMQ's may be behind: BullMQ must not run it again either.
          const rethrown = final && !(err instanceof UnrecoverableError) ? new UnrecoverableError((err as Error).message) : err;
          if (rethrown instanceof Error) thrown.add(rethrown);
          throw rethrown;
        }
      },
      {
        connection,
        prefix,
        concurrency: opts.concurrency,
        // A worker killed mid-job loses its lock; another worker takes the job over.
        lockDuration: opts.lockMs ?? 30_000,
        stalledInterval: opts.lockMs ?? 30_000,
        // Taken over once; a job whose worker dies again fails, and the reconciler re-creates it with a fresh set of
        // attempts if the database says the work is owed. Bureau deliveries and notices count their attempts in the
        // database, so a re-created delivery or notice job goes on from the count it had.
        maxStalledCount: 1,
      },
    );
    worker.on('failed', (job, err) => {
      // The processor's own failures were logged above with the job's ids;
      // this catches the others (a job stalled too often, a lost lock).
      if (thrown.has(err)) return;
      opts.observer?.jobEnded(name, 'failed', null);
      opts.logger.warn({ ...(job ? jobLogFields(name, job.id, job.data) : { queue: name }), attempt: job?.attemptsMade, err: err.message }, 'job failed');
    });
    worker.on('error', (err) => {
      opts.logger.debug({ queue: name, err: err.message }, 'worker error');
    });
    workers.push(worker);
  }
  return {
    async close() {
      // Worker.close() waits for running jobs to finish. It never returns
      // while Redis is away, and no job can complete then anyway: give up
      // waiting after a moment in that case.
      const closing = Promise.allSettled(workers.map((w) => w.close()));
      await withTimeout(closing, connection.status === 'ready' ? 30_000 : 1000);
      connection.disconnect();
    },
  };
}

/** The promise's value, or undefined once `ms` have passed without one. */
export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

import { Worker } from 'node:worker_threads';
import { createGroupCommit } from '../../db/group-commit.js';
import type { OutboxRelay } from '../../queues/outbox-relay.js';
import type { WriteTurn } from '../../db/write-turn.js';
import type { Env } from '../env.js';
import type { Logger } from '../logger.js';
import { IntakeWriterDown, type IntakeWriter, type PreparedReport } from './intake-writer.js';
import type { FromThread, ThreadData, ToThread } from './writer-thread.protocol.js';

/**
 * The intake writer and the outbox relay on a thread of their own (Node).
 *
 * The HTTP thread validates a report, prepares its rows and hands them over;
 * the writer thread commits them on its own database connection and relays
 * the new outbox entries to the queue, so the database and Redis work of
 * intake runs on a second core instead of between requests. Reports that
 * arrive while a batch is being committed go together in the next batch
 * (group commit, as the inline writer does), and a caller's promise settles
 * only once its rows are committed: the 202 still means "in the database".
 *
 * A thread that stops on its own (an uncaught fault, out of memory) is
 * started again, after 2 s, then after longer waits while it keeps stopping;
 * until then reports are refused with `IntakeWriterDown` (a 503 asking the
 * client to send again), `/readyz` says so, and nothing accepted is lost: what
 * the thread committed is in the database, and the next thread relays it.
 */
export interface IntakeThread {
  writer: IntakeWriter;
  /** The thread's outbox relay; `stop()` also closes the thread's queue and database connections and ends it. */
  relay: OutboxRelay;
}

/** Waits before each restart of a thread that stopped: longer while it keeps stopping, back to the first once one ran a minute. */
const RESTART_DELAYS_MS = [2_000, 4_000, 8_000, 16_000, 30_000];
const STEADY_MS = 60_000;

// The service runs TypeScript through tsx; a thread loads its entry the same way. Compiled to
// JavaScript (as the test suite runs its child processes), the thread loads the compiled entry.
const compiled = import.meta.url.endsWith('.js');
const entry = new URL(compiled ? './writer-thread.worker.js' : './writer-thread.worker.ts', import.meta.url).href;
const boot = compiled
  ? `import(${JSON.stringify(entry)})`
  : `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then(({ tsImport }) => tsImport(${JSON.stringify(entry)}, ${JSON.stringify(entry)}))`;

/** An error from the thread, with the code callers look at (unique violations). */
class WriterThreadError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
    this.name = 'WriterThreadError';
  }
}

/** One thread, from its start to its end. */
interface Run {
  request(message: ToThread & { id: number }): Promise<void>;
  post(message: ToThread): void;
  /** Settles with the exit code once the thread has ended. */
  ended: Promise<number>;
  /** The fault that ended it, if one did. */
  fault(): Error | null;
  startedAt: number;
}

/** Starts a thread; settles once it is ready, or fails when it ends before. */
async function launch(data: ThreadData, logger: Logger, writeTurn: WriteTurn | undefined): Promise<Run> {
  const worker = new Worker(boot, { eval: true, workerData: data, name: 'intake-writer' });
  const thread = worker.threadId;
  const pending = new Map<number, { resolve: () => void; reject: (err: Error) => void }>();
  let exited = false;
  let fault: Error | null = null;
  // An uncaught fault of the thread comes first as 'error', then the thread ends ('exit').
  worker.on('error', (err) => {
    fault = err;
  });
  const ended = new Promise<number>((resolve) => {
    worker.once('exit', (code) => {
      exited = true;
      // A thread that ended in the middle of a transaction gives its turn back.
      writeTurn?.freeFrom(thread);
      const err = new IntakeWriterDown(`the intake writer thread stopped (exit code ${code})`);
      for (const p of pending.values()) p.reject(err);
      pending.clear();
      resolve(code);
    });
  });
  const ready = new Promise<void>((resolve, reject) => {
    worker.on('message', (m: FromThread) => {
      switch (m.t) {
        case 'ready':
          resolve();
          break;
        case 'done': {
          const p = pending.get(m.id);
          pending.delete(m.id);
          if (!p) break;
          if (m.error) p.reject(new WriterThreadError(m.error.message, m.error.code));
          else p.resolve();
          break;
        }
        case 'log':
          logger[m.level](m.fields, m.message);
          break;
      }
    });
    void ended.then((code) => reject(fault ?? new Error(`the intake writer thread exited (${code}) before it was ready`)));
  });
  await ready;
  return {
    request: (message) =>
      new Promise<void>((resolve, reject) => {
        if (exited) return reject(new IntakeWriterDown('the intake writer thread has stopped'));
        pending.set(message.id, { resolve, reject });
        worker.postMessage(message);
      }),
    post: (message) => {
      if (!exited) worker.postMessage(message);
    },
    ended,
    fault: () => fault,
    startedAt: Date.now(),
  };
}

export async function startIntakeThread(
  env: Env,
  logger: Logger,
  opts: { maxBatch?: number; writeTurn?: WriteTurn } = {},
): Promise<IntakeThread> {
  const data: ThreadData = { env, ...(opts.writeTurn ? { writeTurn: opts.writeTurn.buffer } : {}) };
  // The first start failing fails the service's start.
  let run: Run | null = await launch(data, logger, opts.writeTurn);
  let launching: Promise<Run> | null = null;
  let restartTimer: NodeJS.Timeout | null = null;
  let stopsInARow = 0;
  let nextId = 1;
  let stopping: Promise<void> | null = null;

  const restartLater = (said: string, fields: object) => {
    const delay = RESTART_DELAYS_MS[Math.min(stopsInARow, RESTART_DELAYS_MS.length - 1)]!;
    stopsInARow += 1;
    logger.error(fields, `${said}: reports are refused until it is started again in ${delay / 1000} s`);
    restartTimer = setTimeout(restart, delay);
  };
  const supervise = (r: Run) => {
    void r.ended.then((code) => {
      if (stopping || run !== r) return;
      run = null;
      if (Date.now() - r.startedAt >= STEADY_MS) stopsInARow = 0;
      const fault = r.fault();
      restartLater('intake writer thread stopped', { exitCode: code, ...(fault ? { err: { type: fault.name, message: fault.message, stack: fault.stack } } : {}) });
    });
  };
  const restart = () => {
    restartTimer = null;
    if (stopping) return;
    const starting = launch(data, logger, opts.writeTurn);
    launching = starting;
    starting.then(
      (r) => {
        launching = null;
        // stop() waits for this start and ends the thread itself.
        if (stopping) return;
        run = r;
        supervise(r);
        logger.info('intake writer thread started again: reports are taken again');
        // What the last thread committed but did not relay.
        r.post({ t: 'kick' });
      },
      (err: Error) => {
        launching = null;
        if (!stopping) restartLater('intake writer thread could not be started again', { err: { type: err.name, message: err.message } });
      },
    );
  };
  supervise(run);

  const request = (message: ToThread & { id: number }): Promise<void> =>
    run
      ? run.request(message)
      : Promise.reject(new IntakeWriterDown(stopping ? 'the intake writer thread has stopped with the service' : 'the intake writer thread is down: it is being started again'));

  const commit = createGroupCommit<PreparedReport[], void>(async (entries) => {
    await request({ t: 'write', id: nextId++, reports: entries.flat() });
    return entries.map(() => undefined);
  }, opts.maxBatch ?? 500);

  let kickScheduled = false;
  const relay: OutboxRelay = {
    kick() {
      // Commits through the thread kick its relay there; this is for outbox entries written on this thread.
      if (kickScheduled || !run) return;
      kickScheduled = true;
      setImmediate(() => {
        kickScheduled = false;
        run?.post({ t: 'kick' });
      });
    },
    drain: () => request({ t: 'drain', id: nextId++ }),
    stop() {
      stopping ??= (async () => {
        if (restartTimer) clearTimeout(restartTimer);
        const r = run ?? (await launching?.catch(() => null)) ?? null;
        run = null;
        if (!r) return;
        await r.request({ t: 'stop', id: nextId++ }).catch(() => {});
        await r.ended;
      })();
      return stopping;
    },
  };

  return {
    writer: {
      write: (report) => commit([report]),
      writeAll: (reports) => (reports.length === 0 ? Promise.resolve() : commit(reports)),
      up: () => run !== null && !stopping,
    },
    relay,
  };
}

import { Worker } from 'node:worker_threads';
import { createGroupCommit } from '../../db/group-commit.js';
import type { OutboxRelay } from '../../queues/outbox-relay.js';
import type { WriteTurn } from '../../db/write-turn.js';
import type { Env } from '../env.js';
import type { Logger } from '../logger.js';
import type { IntakeWriter, PreparedReport } from './intake-writer.js';
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
 */
export interface IntakeThread {
  writer: IntakeWriter;
  /** The thread's outbox relay; `stop()` also closes the thread's queue and database connections and ends it. */
  relay: OutboxRelay;
}

const tsxApi = import.meta.resolve('tsx/esm/api');
const entry = new URL('./writer-thread.worker.ts', import.meta.url).href;
// The service runs TypeScript through tsx; a thread loads its entry the same way.
const boot = `import(${JSON.stringify(tsxApi)}).then(({ tsImport }) => tsImport(${JSON.stringify(entry)}, ${JSON.stringify(entry)}))`;

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

export async function startIntakeThread(
  env: Env,
  logger: Logger,
  opts: { maxBatch?: number; writeTurn?: WriteTurn } = {},
): Promise<IntakeThread> {
  const data: ThreadData = { env, ...(opts.writeTurn ? { writeTurn: opts.writeTurn.buffer } : {}) };
  const worker = new Worker(boot, { eval: true, workerData: data });
  const thread = worker.threadId;
  let nextId = 1;
  const pending = new Map<number, { resolve: () => void; reject: (err: Error) => void }>();
  let exited = false;

  const request = (message: ToThread & { id: number }) =>
    new Promise<void>((resolve, reject) => {
      if (exited) return reject(new Error('the intake writer thread has stopped'));
      pending.set(message.id, { resolve, reject });
      worker.postMessage(message);
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
    worker.once('error', (err) => {
      logger.error({ err: err.message }, 'intake writer thread failed');
      reject(err);
    });
    worker.once('exit', (code) => {
      exited = true;
      // A thread that ended in the middle of a transaction gives its turn back.
      opts.writeTurn?.freeFrom(thread);
      const err = new Error(`the intake writer thread exited (${code})`);
      for (const p of pending.values()) p.reject(err);
      pending.clear();
      reject(err);
    });
  });
  await ready;

  const commit = createGroupCommit<PreparedReport[], void>(async (entries) => {
    await request({ t: 'write', id: nextId++, reports: entries.flat() });
    return entries.map(() => undefined);
  }, opts.maxBatch ?? 500);

  let kickScheduled = false;
  let stopping: Promise<void> | null = null;
  const relay: OutboxRelay = {
    kick() {
      // Commits through the thread kick its relay there; this is for outbox entries written on this thread.
      if (kickScheduled || exited) return;
      kickScheduled = true;
      setImmediate(() => {
        kickScheduled = false;
        if (!exited) worker.postMessage({ t: 'kick' } satisfies ToThread);
      });
    },
    drain: () => request({ t: 'drain', id: nextId++ }),
    stop() {
      stopping ??= (async () => {
        if (exited) return;
        const gone = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
        await request({ t: 'stop', id: nextId++ }).catch(() => {});
        await gone;
      })();
      return stopping;
    },
  };

  return {
    writer: {
      write: (report) => commit([report]),
      writeAll: (reports) => (reports.length === 0 ? Promise.resolve() : commit(reports)),
    },
    relay,
  };
}

import { threadId } from 'node:worker_threads';
import type { DatabaseConnection, Driver, TransactionSettings } from 'kysely';

/**
 * Turns at writing one SQLite file, shared by the threads of one process.
 *
 * SQLite has one writer at a time. Two connections that want to write at
 * once (the intake writer thread and the queue workers, say) meet SQLite's
 * busy handler, which blocks the waiting thread in sleeps of 1, 2, 5, 10 …
 * ms: under load that is most of a thread's time. Here a thread takes its
 * turn before `begin` without blocking its event loop (Atomics.waitAsync on
 * shared memory) and is woken the moment the other commits. SQLite's own
 * lock still guards the file: the turn only keeps the threads from
 * colliding, so writes outside transactions and other processes stay
 * correct, merely slower.
 */
export class WriteTurn {
  /** [holder: 0 free, else thread id + 1; number of waiters] */
  private readonly word: Int32Array;

  constructor(readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(8)) {
    this.word = new Int32Array(buffer);
  }

  async acquire(): Promise<void> {
    const me = threadId + 1;
    for (;;) {
      const holder = Atomics.compareExchange(this.word, 0, 0, me);
      if (holder === 0) return;
      Atomics.add(this.word, 1, 1);
      try {
        // Woken by release(); the timeout only guards against a missed wake-up.
        const wait = Atomics.waitAsync(this.word, 0, holder, 100);
        if (wait.async) await wait.value;
      } finally {
        Atomics.sub(this.word, 1, 1);
      }
    }
  }

  release(): void {
    Atomics.store(this.word, 0, 0);
    if (Atomics.load(this.word, 1) > 0) Atomics.notify(this.word, 0, 1);
  }

  /** Frees the turn if a thread that ended (`thread` is its id) held it. */
  freeFrom(thread: number): void {
    if (Atomics.compareExchange(this.word, 0, thread + 1, 0) === thread + 1) Atomics.notify(this.word, 0, 1);
  }
}

/** A Kysely driver whose transactions each take a turn first (one SQLite connection per driver). */
export function takingTurns(inner: Driver, turn: WriteTurn): Driver {
  let held = false;
  const giveBack = () => {
    if (!held) return;
    held = false;
    turn.release();
  };
  return {
    init: () => inner.init(),
    acquireConnection: () => inner.acquireConnection(),
    releaseConnection: (connection) => inner.releaseConnection(connection),
    destroy: () => inner.destroy(),
    async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings) {
      await turn.acquire();
      held = true;
      try {
        await inner.beginTransaction(connection, settings);
      } catch (err) {
        giveBack();
        throw err;
      }
    },
    async commitTransaction(connection) {
      try {
        await inner.commitTransaction(connection);
      } finally {
        giveBack();
      }
    },
    async rollbackTransaction(connection) {
      try {
        await inner.rollbackTransaction(connection);
      } finally {
        giveBack();
      }
    },
    ...(inner.savepoint
      ? {
          savepoint: inner.savepoint.bind(inner),
          rollbackToSavepoint: inner.rollbackToSavepoint?.bind(inner),
          releaseSavepoint: inner.releaseSavepoint?.bind(inner),
        }
      : {}),
  };
}

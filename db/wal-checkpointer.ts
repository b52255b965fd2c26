import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * Checkpoints a SQLite database's write-ahead log on a thread of its own.
 *
 * SQLite normally checkpoints inside the commit that grows the log past 1,000
 * pages: that commit copies the log into the database file and syncs it,
 * about half of all commit time under load, on the thread that serves
 * requests and runs jobs. Here a second connection on its own thread runs a
 * PASSIVE checkpoint (it never blocks readers or writers) every `everyMs`, so
 * that work moves to another core, and a page written many times between two
 * checkpoints is copied once. The committing connections keep SQLite's
 * automatic checkpoint only as a far-off safety net (SAFETY_NET_PAGES).
 */
export interface WalCheckpointer {
  stop(): Promise<void>;
}

/** Pages in the log (4 KB each) past which a commit checkpoints by itself anyway. */
export const SAFETY_NET_PAGES = 20_000;

const THREAD_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path);
db.pragma('busy_timeout = 0');
const checkpoint = () => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch {
    // Another connection is checkpointing, or the database is busy: next time.
  }
};
const timer = setInterval(checkpoint, workerData.everyMs);
parentPort.on('message', () => {
  clearInterval(timer);
  checkpoint();
  db.close();
  parentPort.close();
});
`;

export function startWalCheckpointer(path: string, opts: { everyMs?: number; onError?: (err: Error) => void } = {}): WalCheckpointer {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(THREAD_SOURCE, { eval: true, workerData: { driver, path, everyMs: opts.everyMs ?? 500 } });
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  let stopping = false;
  // The thread is gone (it could not open the database, say): the safety net
  // keeps the log bounded, slower; the owner hears of it — unless the owner
  // stopped it already (its connection may be closed, its file removed).
  worker.on('error', (err) => {
    if (!stopping) opts.onError?.(err);
  });
  worker.unref();
  return {
    async stop() {
      stopping = true;
      // Held by nothing while it runs; waiting for its end must keep the process alive until it comes.
      worker.ref();
      worker.postMessage('stop');
      await exited;
    },
  };
}

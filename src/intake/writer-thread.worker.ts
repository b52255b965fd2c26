import { parentPort, workerData } from 'node:worker_threads';
import { connectDatabase } from '../../db/connect.js';
import { WriteTurn } from '../../db/write-turn.js';
import { bullmqTransportFromEnv } from '../../queues/bullmq.transport.js';
import { createOutboxRelay } from '../../queues/outbox-relay.js';
import { createLogger, type Logger, type LogFn } from '../logger.js';
import { commitReports } from './intake-writer.js';
import type { FromThread, LogLevel, ThreadData, ToThread } from './writer-thread.protocol.js';

/**
 * The intake writer thread: commits the batches of reports the HTTP thread
 * hands over and relays the outbox to the queue. Its log lines go to the
 * HTTP thread's logger.
 */

const port = parentPort!;
const data = workerData as ThreadData;
const { env } = data;
const send = (m: FromThread) => port.postMessage(m);

function threadLogger(bindings: object = {}): Logger {
  const at =
    (level: LogLevel): LogFn =>
    (fieldsOrMessage: object | string, message?: string) => {
      const fields = typeof fieldsOrMessage === 'string' ? {} : fieldsOrMessage;
      const msg = typeof fieldsOrMessage === 'string' ? fieldsOrMessage : message;
      send({ t: 'log', level, fields: { ...bindings, ...fields }, message: msg });
    };
  return {
    fatal: at('fatal'),
    error: at('error'),
    warn: at('warn'),
    info: at('info'),
    debug: at('debug'),
    trace: at('trace'),
    child: (more) => threadLogger({ ...bindings, ...more }),
  };
}

const logger = threadLogger({ thread: 'intake-writer' });

// The service's main connection runs the checkpoints (createDeps).
const handle = connectDatabase(env.DATABASE_URL, {
  walCheckpoints: 'elsewhere',
  ...(data.writeTurn ? { writeTurn: new WriteTurn(data.writeTurn) } : {}),
});
// The HTTP thread's producer connection already reports Redis going away and coming back.
const transport = bullmqTransportFromEnv(env, createLogger('silent'));
const relay = createOutboxRelay({ db: handle.db, transport, logger });

async function answer(id: number, work: () => Promise<void>): Promise<void> {
  try {
    await work();
    send({ t: 'done', id });
  } catch (err) {
    const e = err as { message?: unknown; code?: unknown };
    send({
      t: 'done',
      id,
      error: { message: String(e.message ?? err), code: typeof e.code === 'string' ? e.code : undefined },
    });
  }
}

port.on('message', (m: ToThread) => {
  switch (m.t) {
    case 'write':
      void answer(m.id, async () => {
        await commitReports(handle.db, m.reports);
        relay.kick();
      });
      break;
    case 'kick':
      relay.kick();
      break;
    case 'drain':
      void answer(m.id, () => relay.drain());
      break;
    case 'stop':
      void answer(m.id, async () => {
        await relay.stop();
        await transport.close();
        await handle.db.destroy();
      }).then(() => {
        port.close();
        // Whatever else still holds the event loop, the thread's work is done.
        setImmediate(() => process.exit(0));
      });
      break;
  }
});

send({ t: 'ready' });

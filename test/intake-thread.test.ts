import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { connectDatabase, migrateToLatest } from '../db/connect.js';
import { isUniqueViolation } from '../db/repositories/db-types.js';
import { newId } from '../src/domain/ids.js';
import { newTrackingCode } from '../src/domain/tracking-code.js';
import { prepareReport } from '../src/intake/accept-report.js';
import { addToOutbox, outboxSize } from '../db/repositories/outbox.repository.js';
import { createBullmqTransport } from '../queues/bullmq.transport.js';
import { outboxEntry } from '../queues/jobs.js';
import { createOutboxRelay } from '../queues/outbox-relay.js';
import { startIntakeThread } from '../src/intake/writer-thread.js';
import { createLogger } from '../src/logger.js';
import { captureLogs, createPgDatabase, freePort, onCleanup, postJson, REDIS_URL, removeQueueKeys, startTestService, tempDir, testEnv, uniquePrefix, waitFor } from './harness.js';

/**
 * The intake writer thread (INTAKE_WRITER=thread, the default): reports are
 * committed and relayed on a second thread. Every other test file runs with
 * it too; these tests look at what is particular to it.
 */

function report(text: string, trackingCode = newTrackingCode()) {
  return prepareReport({ channel: 'web', text }, { id: newId(), trackingCode }, new Date());
}


describe.each([
  ['SQLite', async () => ({})],
  ['PostgreSQL', async () => ({ DATABASE_URL: await createPgDatabase('intake_thread') })],
])('the intake writer thread on %s', (_engine, dbEnv) => {
  it('commits a burst of concurrent reports before answering, each once, and relays every one to the queue', async () => {
    const env = testEnv('intake-thread', await dbEnv());
    // An API-only process uses the thread by default; its intake jobs stay in the queue, where they can be counted.
    expect(env.INTAKE_WRITER).toBe('auto');
    const service = await startTestService(env, 'api');
    const N = 300;
    const answers = await Promise.all(
      Array.from({ length: N }, async (_, i) => {
        const res = await postJson(`${service.url}/api/v1/reports`, { text: `李家塘路边有人烧垃圾，烟好大（${i}）` });
        expect(res.status).toBe(202);
        const body = (await res.json()) as { id: string; trackingCode: string };
        // Answered 202 means committed: the HTTP thread's own connection already sees the case.
        const row = await service.deps.db.selectFrom('cases').select(['id', 'text']).where('id', '=', body.id).executeTakeFirst();
        expect(row?.text).toBe(`李家塘路边有人烧垃圾，烟好大（${i}）`);
        return body;
      }),
    );
    expect(new Set(answers.map((a) => a.id)).size).toBe(N);
    expect(new Set(answers.map((a) => a.trackingCode)).size).toBe(N);
    const cases = await service.deps.db.selectFrom('cases').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    expect(Number(cases.n)).toBe(N);
    const events = await service.deps.db.selectFrom('case_events').select((eb) => eb.fn.countAll<number>().as('n')).where('kind', '=', 'received').executeTakeFirstOrThrow();
    expect(Number(events.n)).toBe(N);

    const queue = new Queue('intake', { connection: { url: env.REDIS_URL }, prefix: env.QUEUE_PREFIX });
    onCleanup(() => queue.close());
    await waitFor(async () => (await queue.getJobCountByTypes('waiting', 'prioritized', 'delayed')) === N, { what: `${N} intake jobs` });
    const jobIds = (await queue.getJobs(['waiting', 'prioritized', 'delayed'], 0, N)).map((j) => j.id);
    expect(new Set(jobIds)).toEqual(new Set(answers.map((a) => `intake-${a.id}`)));
    await waitFor(async () => (await service.deps.db.selectFrom('outbox').select('id').execute()).length === 0, { what: 'an empty outbox' });
  });

  it('answers concurrent retries with one Idempotency-Key with one case (the unique violation crosses the thread)', async () => {
    // Queue workers too: the thread because it is asked for.
    const service = await startTestService(testEnv('intake-thread-idem', { INTAKE_WRITER: 'thread', ...(await dbEnv()) }), 'all');
    const results = await Promise.all(
      Array.from({ length: 12 }, () =>
        postJson(`${service.url}/api/v1/reports`, { text: '盐下村河里好多死鱼，河水发黑发臭' }, { 'Idempotency-Key': 'retry-abc-123' }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(Array(12).fill(202));
    const ids = new Set(await Promise.all(results.map(async (r) => ((await r.json()) as { id: string }).id)));
    expect(ids.size).toBe(1);
    const rows = await service.deps.db.selectFrom('cases').select('id').execute();
    expect(rows.map((r) => r.id)).toEqual([...ids]);
  });

  it('fails a report that breaks a constraint alone: the others of its batch commit', async () => {
    const env = testEnv('intake-thread-batch', await dbEnv());
    const handle = connectDatabase(env.DATABASE_URL);
    onCleanup(() => handle.db.destroy());
    await migrateToLatest(handle.db);
    const { writer, relay } = await startIntakeThread(env, createLogger('silent'));
    onCleanup(() => relay.stop());

    const first = report('神仙洞选矿厂的尾矿水流到稻田里');
    await writer.write(first);
    // Written in the same turn, so they share a batch; the second reuses the first report's tracking code.
    const good = report('永济亭农资店在卖百草枯');
    const clash = report('八仙洞山坡上有人偷倒有毒废渣', first.caseRow.tracking_code);
    const [okResult, clashResult] = await Promise.allSettled([writer.write(good), writer.write(clash)]);
    expect(okResult.status).toBe('fulfilled');
    expect(clashResult.status).toBe('rejected');
    expect(isUniqueViolation((clashResult as PromiseRejectedResult).reason)).toBe(true);

    const ids = (await handle.db.selectFrom('cases').select('id').execute()).map((r) => r.id).sort();
    expect(ids).toEqual([first.caseRow.id, good.caseRow.id].sort());
    const outbox = await handle.db.selectFrom('outbox').select('job_id').execute();
    expect(outbox.map((r) => r.job_id).filter((j) => j.includes(clash.caseRow.id))).toEqual([]);
  });
});

/**
 * Makes the thread of this process named `name` fail as a fault in its code
 * would: an error thrown from its event loop, nobody catching it. Sent through
 * the inspector, as a debugger would, so the product needs no hook for it.
 */
async function throwInThread(name: string): Promise<void> {
  const session = new Session();
  session.connect();
  try {
    const threads: Array<{ sessionId: string; workerInfo: { title: string } }> = [];
    session.on('NodeWorker.attachedToWorker', (m) => threads.push(m.params));
    const answered = new Set<number>();
    session.on('NodeWorker.receivedMessageFromWorker', (m) => answered.add((JSON.parse(m.params.message) as { id?: number }).id ?? 0));
    await session.post('NodeWorker.enable', { waitForDebuggerOnStart: false });
    const target = await waitFor(() => threads.find((t) => t.workerInfo.title.endsWith(` ${name}`)), { what: `the ${name} thread` });
    const evaluate = { id: 1, method: 'Runtime.evaluate', params: { expression: "setTimeout(() => { throw new Error('fault in the thread') }); 0" } };
    await session.post('NodeWorker.sendMessageToWorker', { sessionId: target.sessionId, message: JSON.stringify(evaluate) });
    await waitFor(() => answered.has(1), { what: 'the thread to take the fault' });
    await session.post('NodeWorker.disable');
  } finally {
    session.disconnect();
  }
}

describe('the intake writer thread', () => {
  it('is started again after a fault ends it: meanwhile reports get 503 and /readyz says so; nothing answered 202 is lost', async () => {
    const { lines, logger } = captureLogs();
    const env = testEnv('intake-thread-fault', { REDIS_URL, METRICS_TOKEN: 'a-metrics-token-of-the-test' });
    const service = await startTestService(env, 'api', { logger });
    const writerUp = async () => {
      const res = await fetch(`${service.url}/metrics`, { headers: { authorization: 'Bearer a-metrics-token-of-the-test' } });
      return /^intake_writer_up (\d)$/m.exec(await res.text())?.[1];
    };
    expect(await writerUp()).toBe('1');
    const post = (i: number) => postJson(`${service.url}/api/v1/reports`, { text: `冷水铺村口有人焚烧电缆皮，黑烟很大（${i}）` });

    // Reports keep coming while the thread fails: each is answered 202 or 503, never a 500, and never left waiting.
    const answers: Array<{ status: number; id?: string }> = [];
    let sending = true;
    let n = 0;
    const senders = Array.from({ length: 4 }, async () => {
      while (sending) {
        const res = await post(n++);
        const body = (await res.json()) as { id?: string };
        answers.push({ status: res.status, ...(res.status === 202 ? { id: body.id } : {}) });
      }
    });
    // Should the test fail midway: no report sent to the service once it stops.
    onCleanup(async () => {
      sending = false;
      await Promise.allSettled(senders);
    });
    await waitFor(() => answers.length >= 20, { what: 'reports before the fault' });
    await throwInThread('intake-writer');
    const stopped = await waitFor(() => lines.find((l) => l.msg === 'intake writer thread stopped: reports are refused until it is started again in 2 s'), {
      what: 'the thread stopped',
      intervalMs: 10,
    });
    expect(stopped.level).toBe(50);
    expect(stopped.exitCode).toBe(1);
    expect((stopped.err as { message: string }).message).toBe('fault in the thread');

    // Down: a report is refused as the database being down is, to be sent again.
    const refused = await post(-1);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('5');
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('not_ready');
    const notReady = await fetch(`${service.url}/readyz`);
    expect(notReady.status).toBe(503);
    expect(await notReady.json()).toEqual({ status: 'not_ready', checks: { database: 'ok', redis: 'ok', intake: 'down' } });
    expect(await writerUp()).toBe('0');

    await waitFor(() => lines.some((l) => l.msg === 'intake writer thread started again: reports are taken again'), { what: 'the thread started again' });
    const taken = await post(-2);
    expect(taken.status).toBe(202);
    const ready = await fetch(`${service.url}/readyz`);
    expect(await ready.json()).toEqual({ status: 'ready', checks: { database: 'ok', redis: 'ok', intake: 'ok' } });
    expect(await writerUp()).toBe('1');
    const after = answers.length;
    await waitFor(() => answers.slice(after).some((a) => a.status === 202), { what: 'reports taken by the new thread' });
    sending = false;
    await Promise.all(senders);

    expect(new Set(answers.map((a) => a.status))).toEqual(new Set([202, 503]));
    expect(lines.filter((l) => l.msg === 'unhandled error')).toEqual([]);
    // Every report answered 202 is in the database, and relayed to the queue by one thread or the other.
    const accepted = [...answers.filter((a) => a.status === 202).map((a) => a.id!), ((await taken.json()) as { id: string }).id];
    const cases = (await service.deps.db.selectFrom('cases').select('id').execute()).map((r) => r.id);
    expect(cases).toEqual(expect.arrayContaining(accepted));
    await waitFor(async () => (await service.deps.db.selectFrom('outbox').select('id').execute()).length === 0, { what: 'an empty outbox' });
    const queue = new Queue('intake', { connection: { url: env.REDIS_URL }, prefix: env.QUEUE_PREFIX });
    onCleanup(() => queue.close());
    const jobIds = new Set((await queue.getJobs(['waiting', 'prioritized', 'delayed'], 0, -1)).map((j) => j.id));
    expect(jobIds).toEqual(new Set(cases.map((id) => `intake-${id}`)));
  });

  it('reports through the service logger when the queue is unreachable, and keeps the entries', async () => {
    const { lines, logger } = captureLogs();
    const env = testEnv('intake-thread-down', { REDIS_URL: `redis://127.0.0.1:${await freePort()}` });
    const service = await startTestService(env, 'api', { logger });
    const res = await postJson(`${service.url}/api/v1/reports`, { text: '马鹿头工地半夜施工，噪音扰民' });
    expect(res.status).toBe(202);
    const line = await waitFor(() => lines.find((l) => l.msg === 'outbox relay: cannot reach the queue, entries kept in the database'), {
      what: 'the relay warning',
    });
    expect(line.thread).toBe('intake-writer');
    expect(line.service).toBe('intake');
    expect((await service.deps.db.selectFrom('outbox').select('id').execute()).length).toBe(1);
  });

  it('refuses writes once stopped, and its thread ends', async () => {
    const env = testEnv('intake-thread-stop', { REDIS_URL });
    const handle = connectDatabase(env.DATABASE_URL);
    onCleanup(() => handle.db.destroy());
    await migrateToLatest(handle.db);
    const { writer, relay } = await startIntakeThread(env, createLogger('silent'));
    await writer.write(report('回龙村养猪场的粪水直接排到田里'));
    await relay.stop();
    await expect(writer.write(report('有人收购废机油和废电池，没有证'))).rejects.toThrow(/stopped|exited/);
    expect((await handle.db.selectFrom('cases').select('id').execute()).length).toBe(1);
  });
});

describe('the outbox relay', () => {
  it('moves nothing once stopped, not even a pass asked for just before the stop, and says nothing of the closed queue', async () => {
    const { lines, logger } = captureLogs();
    const handle = connectDatabase(join(tempDir(), 'relay.db'));
    onCleanup(() => handle.db.destroy());
    await migrateToLatest(handle.db);
    await addToOutbox(handle.db, [outboxEntry('intake', { caseId: newId() })], new Date());
    const prefix = uniquePrefix('relay-stop');
    onCleanup(() => removeQueueKeys(REDIS_URL, prefix));
    const transport = createBullmqTransport({ redis: REDIS_URL, prefix, logger });
    await waitFor(() => transport.ping(), { what: 'the queue connection' });
    const relay = createOutboxRelay({ db: handle.db, transport, logger, pollMs: 60_000 });
    // New work committed, then the shutdown at once (SIGTERM under load): the queue connection closes right after.
    relay.kick();
    await relay.stop();
    await transport.close();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(lines.filter((l) => String(l.msg).startsWith('outbox relay'))).toEqual([]);
    // Kept for the next start's relay.
    expect(await outboxSize(handle.db)).toBe(1);
  });
});

import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import type { Service } from '../src/runtime.js';
import { bodyOf, onCleanup, postJson, privateRedis, startTestService, testEnv, waitFor } from './harness.js';
import { startTcpProxy } from './tcp-proxy.js';

/**
 * Redis is a transport, not a store: these tests take a private redis-server
 * away, flush it and restart it empty, and every accepted case still ends
 * up dispatched (or in triage) exactly once.
 */

const TEXTS = [
  '兴隆办事处那边一个厂子晚上偷排废水',
  '回龙村养猪场粪水直接排进水沟',
  '李家塘有人烧垃圾，烟好大',
  '马鹿头工地半夜施工噪音扰民',
  '盐下村河里好多死鱼，河水发黑发臭',
];

async function submitMany(service: Service & { url: string }, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const res = await postJson(`${service.url}/api/v1/reports`, { text: `${TEXTS[i % TEXTS.length]}（第${i}条）` });
    expect(res.status, JSON.stringify(await bodyOf(res.clone()))).toBe(202);
    ids.push(((await res.json()) as { id: string }).id);
  }
  return ids;
}

async function settled(service: Service, ids: string[], timeoutMs = 20_000): Promise<void> {
  await waitFor(
    async () => {
      const rows = await service.deps.db.selectFrom('cases').select('status').where('id', 'in', ids).execute();
      return rows.length === ids.length && rows.every((r) => r.status !== 'received');
    },
    { timeoutMs, what: 'every case to leave received' },
  );
}

async function expectRoutedOnce(service: Service, ids: string[]): Promise<void> {
  const rows = await service.deps.db
    .selectFrom('case_events')
    .select(['case_id', 'kind'])
    .where('case_id', 'in', ids)
    .where('kind', 'in', ['classified', 'status'])
    .execute();
  for (const id of ids) {
    const mine = rows.filter((r) => r.case_id === id);
    expect(mine.map((r) => r.kind).sort(), `events of ${id}`).toEqual(['classified', 'status']);
  }
}

describe('when Redis is unreachable', () => {
  it('still accepts reports, reports not ready, and dispatches them once Redis is back', async () => {
    const redis = await privateRedis();
    const env = testEnv('redis-down', { REDIS_URL: redis.url, RECONCILE_INTERVAL_MS: '300', RECONCILE_GRACE_MS: '300' });
    const service = await startTestService(env);

    const ready = await fetch(`${service.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ status: 'not_ready', checks: { database: 'ok', redis: 'down', intake: 'ok' } });

    const ids = await submitMany(service, 12);
    const outbox = await service.deps.db.selectFrom('outbox').select('id').execute();
    expect(outbox).toHaveLength(12);

    await redis.start();
    await settled(service, ids);
    await expectRoutedOnce(service, ids);
    expect((await fetch(`${service.url}/readyz`)).status).toBe(200);
  });
});

describe('when the connections to Redis go silent', () => {
  it('closes a connection that gets no answer, connects again and dispatches what was accepted meanwhile', { timeout: 60_000 }, async () => {
    const redis = await privateRedis();
    await redis.start();
    const proxy = await startTcpProxy(redis.url);
    onCleanup(() => proxy.cut());
    const env = testEnv('redis-silent', { REDIS_URL: proxy.url(redis.url), REDIS_ANSWER_TIMEOUT_MS: '1000', RECONCILE_INTERVAL_MS: '300', RECONCILE_GRACE_MS: '300' });
    const service = await startTestService(env);
    await settled(service, await submitMany(service, 3));

    // Redis's host is powered off, or its address moves to a replica: the connections open now never get an
    // answer again, and nothing closes them; a new connection reaches Redis.
    proxy.blackHole();
    const ids = await submitMany(service, 6);
    // A worker's connection waits up to 10 s on a blocking read before its silence counts.
    await settled(service, ids, 40_000);
    await expectRoutedOnce(service, ids);
    expect((await fetch(`${service.url}/readyz`)).status).toBe(200);
  });
});

describe('when Redis loses its jobs', () => {
  it('re-enqueues cases whose jobs were flushed away', async () => {
    const redis = await privateRedis();
    await redis.start();
    const env = testEnv('redis-flush', { REDIS_URL: redis.url, RECONCILE_INTERVAL_MS: '300', RECONCILE_GRACE_MS: '300' });
    // Only the API runs at first: jobs reach Redis but nobody processes them.
    const api = await startTestService(env, 'api');
    const ids = await submitMany(api, 15);
    await waitFor(async () => (await api.deps.db.selectFrom('outbox').select('id').execute()).length === 0, { what: 'relay' });
    const client = new Redis(redis.url);
    expect(await client.keys(`${env.QUEUE_PREFIX}:intake:*`)).not.toHaveLength(0);
    await client.flushall();
    client.disconnect();

    const worker = await startTestService(env, 'worker');
    await settled(worker, ids);
    await expectRoutedOnce(worker, ids);
  });

  it('recovers after Redis restarts empty while cases wait', async () => {
    const redis = await privateRedis();
    await redis.start();
    const env = testEnv('redis-restart', { REDIS_URL: redis.url, RECONCILE_INTERVAL_MS: '300', RECONCILE_GRACE_MS: '300' });
    const api = await startTestService(env, 'api');
    const ids = await submitMany(api, 10);
    await waitFor(async () => (await api.deps.db.selectFrom('outbox').select('id').execute()).length === 0, { what: 'relay' });
    await redis.stop();
    await redis.start();
    const worker = await startTestService(env, 'worker');
    await settled(worker, ids);
    await expectRoutedOnce(worker, ids);
  });
});

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Cluster, Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { EnvError, parseEnv } from '../src/env.js';
import {
  createRedisConnection,
  queuePrefix,
  redisConnectionOptions,
  redisTargetFromEnv,
  type RedisTarget,
} from '../queues/redis-connection.js';
import { createBullmqTransport } from '../queues/bullmq.transport.js';
import { createLogger } from '../src/logger.js';
import { captureLogs, foreignServer, freePort, onCleanup, postJson, REDIS_URL, redisAnswers, removeQueueKeys, runCli, startTestService, tempDir, testEnv, uniquePrefix, waitFor } from './harness.js';

/** Redis as one server, behind Sentinel, or as a Cluster: the settings and the connections built from them. */

function problems(source: Record<string, string>): string[] {
  try {
    parseEnv(source);
    return [];
  } catch (err) {
    if (!(err instanceof EnvError)) throw err;
    return err.problems.map((p) => `${p.variable}: ${p.message}`);
  }
}

describe('Redis settings', () => {
  it('default to one server at REDIS_URL', () => {
    const target = redisTargetFromEnv(parseEnv({}));
    expect(target).toEqual({ kind: 'single', url: 'redis://127.0.0.1:6379' });
    expect(queuePrefix(target, 'intake')).toBe('intake');
  });

  it('read a Sentinel group from REDIS_SENTINELS and REDIS_SENTINEL_NAME', () => {
    const env = parseEnv({
      REDIS_SENTINELS: 'sentinel-a:26379, sentinel-b:26380,[::1]:26381',
      REDIS_SENTINEL_NAME: 'intake-primary',
      REDIS_PASSWORD: 'data-secret',
      REDIS_SENTINEL_PASSWORD: 'sentinel-secret',
      REDIS_DB: '2',
    });
    expect(redisTargetFromEnv(env)).toEqual({
      kind: 'sentinel',
      sentinels: [
        { host: 'sentinel-a', port: 26379 },
        { host: 'sentinel-b', port: 26380 },
        { host: '::1', port: 26381 },
      ],
      name: 'intake-primary',
      password: 'data-secret',
      sentinelPassword: 'sentinel-secret',
      db: 2,
      tls: false,
    });
  });

  it('read a Cluster from REDIS_CLUSTER_NODES', () => {
    const target = redisTargetFromEnv(parseEnv({ REDIS_CLUSTER_NODES: '10.0.0.1:7000,10.0.0.2:7001', REDIS_TLS: 'true' }));
    expect(target).toEqual({
      kind: 'cluster',
      nodes: [
        { host: '10.0.0.1', port: 7000 },
        { host: '10.0.0.2', port: 7001 },
      ],
      tls: true,
    });
    // BullMQ's keys of one queue must share a hash slot.
    expect(queuePrefix(target, 'intake')).toBe('{intake}');
    expect(queuePrefix(target, '{city}-intake')).toBe('{city}-intake');
  });

  it('name every bad Redis variable', () => {
    expect(problems({ REDIS_SENTINELS: 'sentinel-a' })).toEqual(
      expect.arrayContaining([expect.stringMatching(/^REDIS_SENTINELS: "sentinel-a" is not host:port/)]),
    );
    expect(problems({ REDIS_SENTINELS: 'a:26379' })).toEqual([expect.stringMatching(/^REDIS_SENTINEL_NAME: required with REDIS_SENTINELS/)]);
    expect(problems({ REDIS_SENTINEL_NAME: 'mymaster' })).toEqual([expect.stringMatching(/^REDIS_SENTINELS: required with REDIS_SENTINEL_NAME/)]);
    expect(problems({ REDIS_CLUSTER_NODES: 'a:7000,b:99999' })).toEqual([expect.stringMatching(/^REDIS_CLUSTER_NODES: "b:99999" is not host:port/)]);
    expect(problems({ REDIS_CLUSTER_NODES: 'a:7000', REDIS_SENTINELS: 'b:26379', REDIS_SENTINEL_NAME: 'm' })).toEqual([
      expect.stringMatching(/^REDIS_CLUSTER_NODES: set either REDIS_SENTINELS or REDIS_CLUSTER_NODES/),
    ]);
    expect(problems({ REDIS_CLUSTER_NODES: 'a:7000', REDIS_DB: '3' })).toEqual([expect.stringMatching(/^REDIS_DB: a Redis Cluster has only database 0/)]);
    expect(problems({ REDIS_CLUSTER_NODES: ' , ' })).toEqual([expect.stringMatching(/^REDIS_CLUSTER_NODES: give at least one host:port/)]);
  });

  it('let the first work wait for the connection being made at start, and fail fast once Redis refused it', async () => {
    const prefix = uniquePrefix('first-connection');
    onCleanup(() => removeQueueKeys(REDIS_URL, prefix));
    const up = createBullmqTransport({ redis: { kind: 'single', url: REDIS_URL }, prefix, logger: createLogger('silent') });
    onCleanup(() => up.close());
    // Straight after creation the connection is still being made: the job waits for it instead of failing.
    expect(up.connection.status).not.toBe('ready');
    await up.enqueue([{ name: 'intake', jobId: `intake-${prefix}`, payload: { caseId: prefix } }]);
    expect(await up.queues.get('intake')!.getJob(`intake-${prefix}`)).toBeDefined();

    const deadPort = await freePort();
    const down = createBullmqTransport({ redis: { kind: 'single', url: `redis://127.0.0.1:${deadPort}` }, prefix, logger: createLogger('silent') });
    onCleanup(() => down.close());
    // A refused first attempt ends the wait: the work fails at once instead of after the 3 s allowed for a first connection.
    const asked = Date.now();
    await expect(down.enqueue([{ name: 'intake', jobId: 'x', payload: { caseId: 'x' } }])).rejects.toThrow(/redis not connected/);
    expect(Date.now() - asked).toBeLessThan(2_500);
  });

  it('say in one line that the server at REDIS_URL is no Redis, whether it closes the connection or says nothing', async () => {
    // Another service's port: one that hangs up on what it cannot read, one that waits for more.
    const hangsUp = `redis://127.0.0.1:${await foreignServer((socket) => socket.on('data', () => socket.destroy()))}`;
    const silent = `redis://127.0.0.1:${await foreignServer(() => {})}`;
    for (const [url, said] of [
      [hangsUp, 'the server closed the connection without answering as Redis (is REDIS_URL the address of a Redis server?)'],
      [silent, 'connected, but no answer as Redis in 0.5 s (still loading its data, or not Redis)'],
    ] as const) {
      const { lines, logger } = captureLogs('info');
      const transport = createBullmqTransport({ redis: url, prefix: uniquePrefix('not-redis'), logger, noAnswerMs: 500 });
      onCleanup(() => transport.close());
      await waitFor(() => lines.length > 0, { what: `a log line about ${url}` });
      // Reconnecting meanwhile says nothing more.
      await new Promise((r) => setTimeout(r, 1500));
      expect(lines.map((l) => [l['msg'], l['err']])).toEqual([[expect.stringMatching(new RegExp(`^redis unreachable at ${url}: `)), said]]);
      expect(transport.connection.status).not.toBe('ready');
    }
  });

  it('hold a process no longer once closed while Redis is down', async () => {
    // A process of its own, as a command-line tool is: a connection to a port where nothing listens, closed
    // after its first attempt failed. ioredis arms a timer for the failed socket's close, which never comes
    // again; by default it held the process 2 s after everything was closed (a tool run with Redis down).
    const port = await freePort();
    const script = `
      const { createBullmqTransport } = await import('./queues/bullmq.transport.ts');
      const { createLogger } = await import('./src/logger.ts');
      const producer = createBullmqTransport({ redis: 'redis://127.0.0.1:${port}', prefix: 'closed-while-down', logger: createLogger('silent') });
      await producer.enqueue([{ name: 'intake', jobId: 'x', payload: { caseId: 'x' } }]).catch((err) => console.log(err.message));
      // Closed while ioredis waits to try again, its failed socket closed already.
      await new Promise((r) => producer.connection.once('reconnecting', r));
      await producer.close();
      const closed = Date.now();
      process.on('exit', () => console.log('held ' + (Date.now() - closed) + ' ms'));
    `;
    const run = await runCli([process.execPath, '--import', 'tsx', '--input-type=module', '-e', script], []);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('redis not connected');
    const held = Number(/held (\d+) ms/.exec(run.stdout)?.[1]);
    expect(held).toBeLessThan(1_500);
  });

  it('build worker connections that wait for Redis and producer connections that fail fast, each closed when Redis stops answering, in every topology', () => {
    const targets: RedisTarget[] = [
      { kind: 'single', url: 'redis://127.0.0.1:6379' },
      { kind: 'sentinel', sentinels: [{ host: 's', port: 26379 }], name: 'm', db: 0, tls: false, password: 'p' },
      { kind: 'cluster', nodes: [{ host: 'c', port: 7000 }], tls: false, password: 'p' },
    ];
    for (const target of targets) {
      const worker = redisConnectionOptions(target, 'worker');
      const producer = redisConnectionOptions(target, 'producer');
      if (worker.kind === 'cluster' && producer.kind === 'cluster') {
        // BullMQ requires maxRetriesPerRequest: null on the nodes' connections.
        expect(worker.options.redisOptions?.maxRetriesPerRequest).toBeNull();
        expect(worker.options.redisOptions?.password).toBe('p');
        expect(producer.options.enableOfflineQueue).toBe(false);
        expect(producer.options.redisOptions?.maxRetriesPerRequest).toBe(1);
        expect(worker.nodes).toEqual([{ host: 'c', port: 7000 }]);
      } else if (worker.kind !== 'cluster' && producer.kind !== 'cluster') {
        expect(worker.options.maxRetriesPerRequest).toBeNull();
        expect(producer.options.maxRetriesPerRequest).toBe(1);
        expect(producer.options.enableOfflineQueue).toBe(false);
        if (worker.kind === 'sentinel') {
          expect(worker.options).toMatchObject({ sentinels: [{ host: 's', port: 26379 }], name: 'm', password: 'p' });
        }
      } else {
        throw new Error('worker and producer options disagree on the topology');
      }
      // A connection that hears nothing for the answer timeout is made again; a worker's, past its 10 s blocking reads.
      const nodeOptions = (o: ReturnType<typeof redisConnectionOptions>) => (o.kind === 'cluster' ? o.options.redisOptions : o.options);
      expect(nodeOptions(producer)?.socketTimeout).toBe(15_000);
      expect(nodeOptions(worker)?.socketTimeout).toBe(25_000);
      expect(nodeOptions(redisConnectionOptions(target, 'producer', 2000))?.socketTimeout).toBe(2000);
      expect(nodeOptions(redisConnectionOptions(target, 'worker', 2000))?.socketTimeout).toBe(12_000);
      // The intake's count per sender pipelines concurrent requests' commands, on the cluster itself where there is one.
      const counter = redisConnectionOptions(target, 'counter');
      expect(counter.options.enableAutoPipelining).toBe(true);
      expect(counter.options.enableOfflineQueue).toBe(false);
      if (counter.kind === 'cluster') expect(counter.options.redisOptions).not.toHaveProperty('enableAutoPipelining');
      expect(nodeOptions(counter)?.socketTimeout).toBe(15_000);
    }
  });
});

function startServer(args: string[]): ChildProcess {
  const child = spawn('redis-server', args, { stdio: 'ignore' });
  onCleanup(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  return child;
}

describe('a real Redis Sentinel group', () => {
  it('carries the pipeline: the service finds the primary through the sentinel', async () => {
    const dir = tempDir();
    const primaryPort = await freePort();
    startServer(['--port', String(primaryPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']);
    await waitFor(() => redisAnswers(`redis://127.0.0.1:${primaryPort}`), { what: 'primary' });
    const sentinelPort = await freePort();
    const conf = join(dir, 'sentinel.conf');
    // Sentinel rewrites its own configuration file, so it lives in a writable temporary directory.
    writeFileSync(
      conf,
      [
        `port ${sentinelPort}`,
        'bind 127.0.0.1',
        `dir ${dir}`,
        `sentinel monitor intake-primary 127.0.0.1 ${primaryPort} 1`,
        'sentinel down-after-milliseconds intake-primary 2000',
      ].join('\n') + '\n',
    );
    startServer([conf, '--sentinel']);
    await waitFor(() => redisAnswers(`redis://127.0.0.1:${sentinelPort}`), { what: 'sentinel' });

    const env = testEnv('sentinel', {
      REDIS_URL: 'redis://127.0.0.1:1',
      REDIS_SENTINELS: `127.0.0.1:${sentinelPort}`,
      REDIS_SENTINEL_NAME: 'intake-primary',
    });
    const direct = createRedisConnection(redisTargetFromEnv(env), 'probe');
    onCleanup(() => direct.disconnect());
    await waitFor(() => direct.status === 'ready', { what: 'connection through the sentinel' });
    expect(await direct.info('server')).toContain(`tcp_port:${primaryPort}`);

    const service = await startTestService(env, 'all');
    await waitFor(async () => (await fetch(`${service.url}/readyz`)).status === 200, { what: 'ready behind the sentinel' });
    const res = await postJson(`${service.url}/api/v1/reports`, { text: '兴隆办事处那边一个厂子晚上往沟里排黑水' });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    await waitFor(async () => {
      const row = await service.deps.db.selectFrom('cases').select('status').where('id', '=', id).executeTakeFirst();
      return row?.status === 'dispatched';
    }, { what: 'the case routed through the queue behind the sentinel' });
    // The jobs live on the primary the sentinel named.
    const primary = new Redis(`redis://127.0.0.1:${primaryPort}`);
    onCleanup(() => primary.disconnect());
    expect((await primary.keys(`${env.QUEUE_PREFIX}:intake:*`)).length).toBeGreaterThan(0);
  });
});

describe('a real Redis Cluster', () => {
  it('carries the pipeline with a {hashtag} queue prefix', async () => {
    const dir = tempDir();
    const ports: number[] = [];
    while (ports.length < 3) {
      // Each node's cluster bus listens on its port + 10000: free too, and out of the range outgoing connections use.
      const port = await freePort({ alsoFree: 10_000 });
      if (!ports.includes(port) && !ports.some((p) => Math.abs(p - port) === 10_000)) ports.push(port);
    }
    for (const port of ports) {
      startServer([
        '--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes',
        '--cluster-config-file', join(dir, `nodes-${port}.conf`), '--dir', dir, '--save', '', '--appendonly', 'no',
      ]);
    }
    for (const port of ports) await waitFor(() => redisAnswers(`redis://127.0.0.1:${port}`), { what: `cluster node ${port}` });
    const created = spawnSync(
      'redis-cli',
      ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'],
      { encoding: 'utf8', timeout: 20_000 },
    );
    expect(created.status, created.stdout + created.stderr).toBe(0);
    await waitFor(
      () => {
        const info = spawnSync('redis-cli', ['-p', String(ports[0]), 'cluster', 'info'], { encoding: 'utf8' });
        return info.stdout.includes('cluster_state:ok');
      },
      { what: 'cluster state ok' },
    );

    const env = testEnv('cluster', {
      REDIS_URL: 'redis://127.0.0.1:1',
      REDIS_CLUSTER_NODES: ports.map((p) => `127.0.0.1:${p}`).join(','),
    });
    const service = await startTestService(env, 'all');
    await waitFor(async () => (await fetch(`${service.url}/readyz`)).status === 200, { what: 'ready on the cluster' });
    const res = await postJson(`${service.url}/api/v1/reports`, { text: '回龙村养猪场的粪水直接排到田里' });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    await waitFor(async () => {
      const row = await service.deps.db.selectFrom('cases').select('status').where('id', '=', id).executeTakeFirst();
      return row?.status === 'dispatched';
    }, { what: 'the case routed through the queue on the cluster' });
    const cluster = new Cluster([{ host: '127.0.0.1', port: ports[0]! }]);
    onCleanup(() => cluster.disconnect());
    // The queue's keys carry the hashtag, so they live together in one slot.
    expect(await cluster.exists(`{${env.QUEUE_PREFIX}}:intake:meta`)).toBe(1);
    expect(await cluster.exists(`${env.QUEUE_PREFIX}:intake:meta`)).toBe(0);
  });
});

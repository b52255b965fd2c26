import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { HostPort } from '../src/env.js';

/**
 * Where Redis is and how to reach it: one server (`REDIS_URL`), a Sentinel
 * group that names the current primary (`REDIS_SENTINELS` + `REDIS_SENTINEL_NAME`),
 * or a Redis Cluster (`REDIS_CLUSTER_NODES`). Every Redis user of the service
 * (queue producers, workers, the readiness probe, the metrics collector) gets
 * its connection from `createRedisConnection`, so the three shapes are
 * handled in one place.
 */

export type RedisTarget =
  | { kind: 'single'; url: string }
  | {
      kind: 'sentinel';
      sentinels: HostPort[];
      name: string;
      password?: string;
      sentinelPassword?: string;
      db: number;
      tls: boolean;
    }
  | { kind: 'cluster'; nodes: HostPort[]; password?: string; tls: boolean };

/**
 * What a connection is for:
 * - `producer` fails fast while Redis is away (the outbox keeps the work);
 * - `worker` waits for Redis to come back (BullMQ requires `maxRetriesPerRequest: null`);
 * - `probe` answers a health or metrics check quickly or not at all;
 * - `counter` is asked on many requests at once (the intake's count per
 *   sender): it fails fast like a probe, and the commands of concurrent
 *   requests go to Redis together (auto-pipelining).
 */
export type RedisRole = 'producer' | 'worker' | 'probe' | 'counter';

/** The part of the environment that says where Redis is (see src/env.ts). */
export interface RedisEnv {
  REDIS_URL: string;
  REDIS_SENTINELS?: HostPort[] | undefined;
  REDIS_SENTINEL_NAME?: string | undefined;
  REDIS_SENTINEL_PASSWORD?: string | undefined;
  REDIS_CLUSTER_NODES?: HostPort[] | undefined;
  REDIS_PASSWORD?: string | undefined;
  REDIS_TLS?: boolean | undefined;
  REDIS_DB?: number | undefined;
}

export function redisTargetFromEnv(env: RedisEnv): RedisTarget {
  if (env.REDIS_CLUSTER_NODES && env.REDIS_CLUSTER_NODES.length > 0) {
    return {
      kind: 'cluster',
      nodes: env.REDIS_CLUSTER_NODES,
      tls: env.REDIS_TLS ?? false,
      ...(env.REDIS_PASSWORD ? { password: env.REDIS_PASSWORD } : {}),
    };
  }
  if (env.REDIS_SENTINELS && env.REDIS_SENTINELS.length > 0) {
    return {
      kind: 'sentinel',
      sentinels: env.REDIS_SENTINELS,
      name: env.REDIS_SENTINEL_NAME ?? 'mymaster',
      db: env.REDIS_DB ?? 0,
      tls: env.REDIS_TLS ?? false,
      ...(env.REDIS_PASSWORD ? { password: env.REDIS_PASSWORD } : {}),
      ...(env.REDIS_SENTINEL_PASSWORD ? { sentinelPassword: env.REDIS_SENTINEL_PASSWORD } : {}),
    };
  }
  return { kind: 'single', url: env.REDIS_URL };
}

/**
 * BullMQ keeps each queue's keys together; on a Cluster they must hash to one
 * slot, which a `{hashtag}` prefix guarantees. A prefix that has no braces
 * is wrapped in them there; elsewhere it is used as given.
 */
export function queuePrefix(target: RedisTarget, prefix: string): string {
  if (target.kind !== 'cluster' || /\{[^}]+\}/.test(prefix)) return prefix;
  return `{${prefix}}`;
}

/** A printable description without credentials. */
export function describeRedis(target: RedisTarget): string {
  switch (target.kind) {
    case 'single':
      return safeUrl(target.url);
    case 'sentinel':
      return `sentinel ${target.name}@${target.sentinels.map(hostPort).join(',')}`;
    case 'cluster':
      return `cluster ${target.nodes.map(hostPort).join(',')}`;
  }
}

function hostPort(a: HostPort): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    u.password = '';
    u.username = '';
    return u.toString().replace(/\/$/, '');
  } catch {
    return 'redis';
  }
}

// Reconnect forever, but not faster than every 2 s.
const retryStrategy = (times: number) => Math.min(times * 200, 2000);

// A closed connection's socket is destroyed if it has not closed after this long. ioredis waits 2 s by
// default, also for a socket that had already failed (Redis down), whose close never comes again: a
// command-line tool or a stopping service would sit out those 2 s for nothing.
const DISCONNECT_TIMEOUT_MS = 200;

/** How long a connection may get no answer to a command before it is closed and made again, unless configured. */
export const DEFAULT_ANSWER_TIMEOUT_MS = 15_000;

/** The longest a BullMQ worker's blocking read waits for a job, in which silence is the answer (BZPOPMIN's cap). */
const LONGEST_BLOCKING_READ_MS = 10_000;

/**
 * `answerTimeoutMs`: a connection that sent a command and hears nothing for
 * this long is closed and made again (ioredis `socketTimeout`), its commands
 * failing. A host that vanished without closing it (powered off, its address
 * moved to a replica) is otherwise noticed only by TCP's own timeouts, many
 * minutes on. A worker's connections wait on blocking reads: silence there
 * counts only past the longest such read.
 */
function roleOptions(role: RedisRole, answerTimeoutMs: number): RedisOptions {
  switch (role) {
    case 'producer':
    case 'probe':
      return { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2000, disconnectTimeout: DISCONNECT_TIMEOUT_MS, socketTimeout: answerTimeoutMs };
    case 'counter':
      return { ...roleOptions('probe', answerTimeoutMs), enableAutoPipelining: true };
    case 'worker':
      return { maxRetriesPerRequest: null, disconnectTimeout: DISCONNECT_TIMEOUT_MS, socketTimeout: LONGEST_BLOCKING_READ_MS + answerTimeoutMs };
  }
}

export type RedisConnectionOptions =
  | { kind: 'single'; url: string; options: RedisOptions }
  | { kind: 'sentinel'; options: RedisOptions }
  | { kind: 'cluster'; nodes: HostPort[]; options: ClusterOptions };

/** The ioredis options for a target and role (exported so they can be checked without a server). */
export function redisConnectionOptions(target: RedisTarget, role: RedisRole, answerTimeoutMs = DEFAULT_ANSWER_TIMEOUT_MS): RedisConnectionOptions {
  const perRole = roleOptions(role, answerTimeoutMs);
  switch (target.kind) {
    case 'single':
      return { kind: 'single', url: target.url, options: { lazyConnect: false, retryStrategy, ...perRole } };
    case 'sentinel':
      return {
        kind: 'sentinel',
        options: {
          lazyConnect: false,
          retryStrategy,
          sentinels: target.sentinels,
          name: target.name,
          db: target.db,
          // Sentinels themselves are retried too: a failover must not leave the service without Redis for good.
          sentinelRetryStrategy: retryStrategy,
          ...(target.password ? { password: target.password } : {}),
          ...(target.sentinelPassword ? { sentinelPassword: target.sentinelPassword } : {}),
          ...(target.tls ? { tls: {}, enableTLSForSentinelMode: true } : {}),
          ...perRole,
        },
      };
    case 'cluster': {
      // Queueing while offline and pipelining are the cluster's business; the rest is each node connection's.
      const { enableOfflineQueue, enableAutoPipelining, ...nodeOptions } = perRole;
      return {
        kind: 'cluster',
        nodes: target.nodes,
        options: {
          lazyConnect: false,
          clusterRetryStrategy: retryStrategy,
          ...(enableOfflineQueue === undefined ? {} : { enableOfflineQueue }),
          ...(enableAutoPipelining === undefined ? {} : { enableAutoPipelining }),
          redisOptions: {
            ...nodeOptions,
            ...(target.password ? { password: target.password } : {}),
            ...(target.tls ? { tls: {} } : {}),
          },
        },
      };
    }
  }
}

export type RedisConnection = Redis | Cluster;

export function createRedisConnection(target: RedisTarget, role: RedisRole, answerTimeoutMs = DEFAULT_ANSWER_TIMEOUT_MS): RedisConnection {
  const built = redisConnectionOptions(target, role, answerTimeoutMs);
  switch (built.kind) {
    case 'single':
      return new Redis(built.url, built.options);
    case 'sentinel':
      return new Redis(built.options);
    case 'cluster':
      return new Cluster(built.nodes, built.options);
  }
}

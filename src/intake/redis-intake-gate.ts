import { RateLimiterMemory, RateLimiterRedis, RLWrapperTimeouts } from 'rate-limiter-flexible';
import { createRedisConnection, type RedisTarget } from '../../queues/redis-connection.js';
import type { IntakeLimit } from '../env.js';
import type { Logger } from '../logger.js';
import { senderDigest, type IntakeGate } from './intake-gate.js';
import { consumeOne } from './memory-intake-gate.js';

/** The longest a report waits for Redis to count it; past that the process counts it on its own. */
const COUNT_WAIT_MS = 250;

/**
 * The intake gate on Node: a fixed window per sender counted in Redis
 * (rate-limiter-flexible), so every API process shares one count. Reports
 * are never refused because Redis is away: while it does not answer (down,
 * restarting, silent for COUNT_WAIT_MS) each process counts in its own
 * memory instead, the same limit per process.
 */
export function createRedisIntakeGate(opts: {
  target: RedisTarget;
  prefix: string;
  limit: IntakeLimit;
  logger: Logger;
  answerTimeoutMs?: number;
}): IntakeGate {
  const { limit, logger } = opts;
  const connection = createRedisConnection(opts.target, 'counter', opts.answerTimeoutMs);
  let warned = false;
  connection.on('error', (err: Error) => {
    // Said once per outage: the connection is made again every 2 s and each attempt fails alike.
    if (!warned) logger.warn({ err: err.message }, 'intake rate limit: Redis not reachable; each API process counts reports on its own meanwhile');
    warned = true;
  });
  connection.on('ready', () => {
    warned = false;
  });
  const keyPrefix = `${opts.prefix}:intake-limit`;
  const options = { points: limit.reports, duration: limit.windowS, keyPrefix };
  const own = new RateLimiterMemory(options);
  // The memory takes over in one place only, the wrapper: a command that timed out (counted in memory then)
  // and failed later must not be counted in memory a second time by an insurance of its own.
  const shared = new RateLimiterRedis({ ...options, storeClient: connection, rejectIfRedisNotReady: true });
  const limiter = new RLWrapperTimeouts({ limiter: shared, timeoutMs: COUNT_WAIT_MS, insuranceLimiter: own });

  return {
    limit,
    take: (sender) => consumeOne(limiter, senderDigest(sender)),
    async giveBack(sender) {
      await limiter.reward(senderDigest(sender)).catch(() => undefined);
    },
    async close() {
      connection.disconnect();
    },
  };
}

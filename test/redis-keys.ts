import { Redis } from 'ioredis';

/** Deletes every BullMQ key under a prefix (the test harness's clean-up, and the benchmarks' at the end of a run). */
export async function removeQueueKeys(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1, lazyConnect: true });
  redis.on('error', () => {});
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.unlink(...keys);
    } while (cursor !== '0');
  } catch {
    // A Redis that is gone holds no keys to clean.
  } finally {
    redis.disconnect();
  }
}

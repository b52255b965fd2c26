import { Miniflare } from 'miniflare';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCfQueuesTransport, MAX_BATCH_MESSAGES, type JobMessage } from '../queues/cf-queues.transport.js';
import { ManualClock } from '../src/clock.js';

/**
 * The Cloudflare Queues transport against the queue Miniflare runs in workerd, which holds one send to the
 * platform's limits (at most 100 messages). A consumer keeps what arrives and answers it on fetch.
 */

const CONSUMER = `
const received = [];
export default {
  async queue(batch) { for (const m of batch.messages) { received.push(m.body); m.ack(); } },
  async fetch() { return Response.json(received); },
};`;

let mf: Miniflare;

beforeAll(async () => {
  mf = new Miniflare({
    modules: true,
    script: CONSUMER,
    compatibilityDate: '2026-04-26',
    queueProducers: { JOBS: 'jobs' },
    queueConsumers: { jobs: { maxBatchSize: 100, maxBatchTimeout: 1 } },
  });
  await mf.ready;
}, 60_000);

afterAll(async () => {
  await mf?.dispose();
});

describe('the Cloudflare Queues transport', () => {
  it('sends more jobs at once than one send may carry, each once', async () => {
    const queue = await mf.getQueueProducer<JobMessage>('JOBS');
    const transport = createCfQueuesTransport(queue, new ManualClock());
    const jobs = Array.from({ length: 2 * MAX_BATCH_MESSAGES + 50 }, (_, i) => ({
      name: 'notify' as const,
      jobId: `notify-n${String(i).padStart(3, '0')}`,
      payload: { notificationId: `n${i}` },
    }));
    // One send of them all is refused, as Cloudflare refuses it.
    await expect(queue.sendBatch(jobs.map((body) => ({ body })))).rejects.toThrow('exceeds limit of 100');
    await transport.enqueue(jobs);
    const until = Date.now() + 30_000;
    let received: JobMessage[] = [];
    while (received.length < jobs.length && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 200));
      received = (await (await mf.dispatchFetch('http://localhost/')).json()) as JobMessage[];
    }
    expect(received.sort((a, b) => a.jobId.localeCompare(b.jobId))).toEqual(jobs);
  }, 60_000);
});

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createBullmqTransport, startBullmqWorkers } from '../queues/bullmq.transport.js';
import { JOB_NAMES, JOB_RETRY, type JobContext } from '../queues/jobs.js';
import type { Processors } from '../queues/processors/index.js';
import { createLogger } from '../src/logger.js';
import { onCleanup, REDIS_URL, removeQueueKeys, uniquePrefix, waitFor } from './harness.js';

/**
 * A job's attempts as the processors are told them: a run cut off by a
 * worker killed with SIGKILL counts, so a job that reaches a unit (a notice
 * to its webhook or group) is tried no more often than its retry policy says.
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** A worker process that takes the queue's first job and never finishes it: killed, it leaves the job to stall. */
function stuckWorker(prefix: string): { taken: Promise<void>; kill: () => Promise<void> } {
  // Its stalled-job check keeps the same interval as the service's workers: a longer one would hold theirs off.
  const script = `
    import { Worker } from 'bullmq';
    new Worker('notify', () => { console.log('taken'); return new Promise(() => {}); },
      { connection: { url: ${JSON.stringify(REDIS_URL)}, maxRetriesPerRequest: null }, prefix: ${JSON.stringify(prefix)}, lockDuration: 1000, stalledInterval: 1000 });
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  onCleanup(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return {
    taken: waitFor(() => out.includes('taken'), { what: `the stuck worker to take the job; output:\n${out}` }).then(() => undefined),
    kill: async () => {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

describe('a job whose worker was killed during a run', () => {
  it('counts the run cut off as an attempt, and runs no more often than its attempts allow', async () => {
    const prefix = uniquePrefix('job-attempts');
    onCleanup(() => removeQueueKeys(REDIS_URL, prefix));
    const logger = createLogger('silent');
    const transport = createBullmqTransport({ redis: REDIS_URL, prefix, logger, retry: { ...JOB_RETRY, notify: { attempts: 3, backoffMs: 50 } } });
    onCleanup(() => transport.close());

    const stuck = stuckWorker(prefix);
    await transport.enqueue([{ name: 'notify', payload: { notificationId: 'n-1' }, jobId: 'notify-n-1' }]);
    await stuck.taken;
    await stuck.kill();

    // The unit's server is down: every run fails, and says which attempt it was told it is.
    const told: JobContext[] = [];
    const fail = async (_payload: unknown, ctx: JobContext): Promise<string> => {
      told.push(ctx);
      throw new Error('HTTP 503');
    };
    const processors = Object.fromEntries(JOB_NAMES.map((name) => [name, fail])) as unknown as Processors;
    const workers = startBullmqWorkers({ redis: REDIS_URL, prefix, logger, concurrency: 1, lockMs: 1000, processors, only: ['notify'] });
    onCleanup(() => workers.close());

    const job = transport.queues.get('notify')!;
    await waitFor(async () => (await job.getJobState('notify-n-1')) === 'failed', { timeoutMs: 20_000, what: 'the job to fail for good' });
    // Time enough for a run BullMQ's own count would still allow.
    await new Promise((r) => setTimeout(r, 500));
    expect(told.map((c) => [c.attempt, c.maxAttempts])).toEqual([
      [2, 3],
      [3, 3],
    ]);
  });
});

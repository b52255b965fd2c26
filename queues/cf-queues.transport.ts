import type { Queue } from '@cloudflare/workers-types/index.js';
import { chunksOf } from '../src/chunks.js';
import type { Clock } from '../src/clock.js';
import { JOB_NAMES, type JobName } from './jobs.js';
import type { EnsureOutcome, JobToEnqueue, JobTransport } from './transport.js';

/**
 * Cloudflare Queues. All job names share one queue; a message carries the
 * job's name, id and payload (ids only, as everywhere). Differences from
 * BullMQ that the rest of the service already tolerates:
 *
 * - No de-duplication by job id: a job sent twice runs twice. Every
 *   processor is idempotent (conditional status changes), so the second run
 *   changes nothing.
 * - No lookup of a job by id: `ensure` cannot tell whether a job is queued,
 *   so it sends it again (the reconciler only ensures work the database says
 *   is unfinished and older than its grace period).
 * - A message can be delayed by at most 12 hours. A job due later is sent
 *   with the longest delay and carries its due time; the consumer sends it
 *   on again until it is due (a deadline weeks ahead is a few hops). The
 *   cron sweep applies whatever is due in any case.
 */

/** Cloudflare Queues' limit on `delaySeconds` (12 hours). */
export const MAX_DELAY_S = 12 * 3600;

/** Cloudflare Queues' limit on the messages of one `sendBatch`. */
export const MAX_BATCH_MESSAGES = 100;

/** What goes on the queue. */
export interface JobMessage {
  name: JobName;
  jobId: string;
  payload: unknown;
  /** ISO time the job is due, when it was enqueued with a delay. */
  runAt?: string;
}

export function isJobMessage(body: unknown): body is JobMessage {
  if (!body || typeof body !== 'object') return false;
  const b = body as Record<string, unknown>;
  return typeof b.name === 'string' && (JOB_NAMES as readonly string[]).includes(b.name) && typeof b.jobId === 'string' && 'payload' in b;
}

/** Seconds until `runAt`, capped at the platform's maximum delay. */
export function delaySecondsUntil(runAt: Date | string | undefined, now: Date): number {
  if (runAt === undefined) return 0;
  const ms = new Date(runAt).getTime() - now.getTime();
  return ms <= 0 ? 0 : Math.min(MAX_DELAY_S, Math.ceil(ms / 1000));
}

export function toMessage(job: JobToEnqueue): JobMessage {
  return { name: job.name, jobId: job.jobId, payload: job.payload, ...(job.runAt ? { runAt: job.runAt.toISOString() } : {}) };
}

export interface CfQueuesTransport extends JobTransport {
  /** Sends messages as they are (the consumer's re-sends of jobs not yet due). */
  send(messages: JobMessage[]): Promise<void>;
}

export function createCfQueuesTransport(queue: Queue<JobMessage>, clock: Clock): CfQueuesTransport {
  async function send(messages: JobMessage[]): Promise<void> {
    const now = clock.now();
    for (const chunk of chunksOf(messages, MAX_BATCH_MESSAGES)) {
      await queue.sendBatch(
        chunk.map((body) => {
          const delaySeconds = delaySecondsUntil(body.runAt, now);
          return { body, contentType: 'json' as const, ...(delaySeconds > 0 ? { delaySeconds } : {}) };
        }),
      );
    }
  }
  return {
    send,
    async enqueue(jobs) {
      await send(jobs.map(toMessage));
    },
    async ensure(job): Promise<EnsureOutcome> {
      await send([toMessage(job)]);
      return 'added';
    },
    // A producer binding holds no connection to check; a failed send throws at the call.
    async ping() {
      return true;
    },
    onReady() {
      // No connection to (re)establish.
    },
    async close() {
      // Nothing to close: the binding belongs to the platform.
    },
  };
}

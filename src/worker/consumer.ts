import type { MessageBatch, Queue } from '@cloudflare/workers-types/index.js';
import { delaySecondsUntil, isJobMessage, MAX_DELAY_S, type CfQueuesTransport, type JobMessage } from '../../queues/cf-queues.transport.js';
import { JOB_RETRY, jobLogFields, PermanentJobError, type JobContext } from '../../queues/jobs.js';
import type { Processors } from '../../queues/processors/index.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import type { LogScope } from './log-scope.js';

export type RetryPolicy = typeof JOB_RETRY;

/** A job that will not run again, as it lands on the dead-letter queue. */
export interface DeadJob extends JobMessage {
  error: string;
  attempts: number;
}

/**
 * The queue consumer: the same processors as the BullMQ workers, one
 * message after another. A processor's outcome acks the message; a thrown
 * error retries it with the job's exponential backoff; a permanent failure,
 * or a failure on the job's last attempt, goes to the dead-letter queue at
 * once (Cloudflare moves a message there by itself after the queue's
 * `max_retries`, the backstop). A job not yet due (delays are capped at 12
 * hours) is sent on with the rest of its delay.
 */
export async function consumeJobs(
  batch: MessageBatch<unknown>,
  opts: {
    processors: Processors;
    retry: RetryPolicy;
    transport: CfQueuesTransport;
    clock: Clock;
    logger: Logger;
    /** Each job runs with its logger (queue, jobId, caseId) as the current one. */
    scope: LogScope;
    deadLetters: Queue<DeadJob> | undefined;
  },
): Promise<void> {
  const dead = async (body: JobMessage, attempts: number, error: string): Promise<void> => {
    if (opts.deadLetters) await opts.deadLetters.send({ ...body, error, attempts }, { contentType: 'json' });
  };

  for (const msg of batch.messages) {
    const body = msg.body;
    if (!isJobMessage(body)) {
      opts.logger.error({ queue: batch.queue, messageId: msg.id }, 'not a job message; dropped');
      msg.ack();
      continue;
    }
    if (delaySecondsUntil(body.runAt, opts.clock.now()) > 0) {
      // Delivered at the end of a capped delay: wait out the rest.
      await opts.transport.send([body]);
      msg.ack();
      continue;
    }
    const policy = opts.retry[body.name];
    const ctx: JobContext = { jobId: body.jobId, attempt: msg.attempts, maxAttempts: policy.attempts };
    const log = opts.logger.child(jobLogFields(body.name, body.jobId, body.payload));
    const started = Date.now();
    try {
      const processor = opts.processors[body.name] as (payload: unknown, ctx: JobContext) => Promise<string>;
      const result = await opts.scope.run(log, () => processor(body.payload, ctx));
      log.info({ attempt: ctx.attempt, ms: Date.now() - started, result }, 'job completed');
      msg.ack();
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      const ended = { attempt: ctx.attempt, maxAttempts: ctx.maxAttempts, ms: Date.now() - started, err: message };
      if (err instanceof PermanentJobError || ctx.attempt >= ctx.maxAttempts) {
        log.error({ ...ended, final: true }, 'job failed for good');
        await dead(body, ctx.attempt, message);
        msg.ack();
        continue;
      }
      const delaySeconds = Math.min(MAX_DELAY_S, Math.ceil((policy.backoffMs * 2 ** (ctx.attempt - 1)) / 1000));
      log.warn({ ...ended, final: false, retryInS: delaySeconds }, 'job failed, will retry');
      msg.retry({ delaySeconds });
    }
  }
}

/**
 * How long a case, delivery, notice or owed group post must sit untouched
 * before the cron run takes its job for lost. Cloudflare Queues cannot be
 * asked whether a message is waiting out its retry delay, and sending the job
 * again would start a second chain of attempts. A delivery records each
 * attempt, so the longest delay between two of them will do; a case still
 * `received`, a pending notice (by when it was made) and a group post (by
 * when its assignment changed) record none, so the whole chain of their
 * job's retries. Plus a minute either way.
 */
export function lostAfterMs(graceMs: number, retry: RetryPolicy): number {
  const delay = (p: { backoffMs: number }, attempt: number) => Math.min(MAX_DELAY_S * 1000, p.backoffMs * 2 ** (attempt - 1));
  const wholeChain = (p: { attempts: number; backoffMs: number }) => {
    let total = 0;
    for (let attempt = 1; attempt < p.attempts; attempt++) total += delay(p, attempt);
    return total;
  };
  const longestGap = delay(retry.dispatch, Math.max(1, retry.dispatch.attempts - 1));
  const chains = [retry.intake, retry.notify, retry.telegram_post].map(wholeChain);
  return Math.max(graceMs, longestGap + 60_000, ...chains.map((ms) => ms + 60_000));
}

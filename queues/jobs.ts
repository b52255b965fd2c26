/**
 * The job catalogue: every job name with its payload. Payloads carry ids
 * only — never reporter text, names or phone numbers.
 */

export interface JobPayloads {
  /** Classify, extract and route a received case. */
  intake: { caseId: string };
  /** Deliver one assignment of a case to one bureau's channel. */
  dispatch: { caseId: string; unit: string; channel: 'webhook' };
  /** Send one queued notification (to the reporter's, the dispatchers' or a unit's channels); the case id names it in the logs. */
  notify: { notificationId: string; caseId?: string };
  /** Wake up at a deadline of a case: reminders, overdue marks, supervision, closing unrated cases. */
  deadline: { caseId: string; at: string };
  /**
   * Post one assignment of a case to its bureau's Telegram group (round: the case's handling round);
   * with `settled`, mark the post as signed for or returned when that happened elsewhere (web, API);
   * with `again`, post anew for a unit given the case again within the round (its earlier post was
   * settled). `at` (ms) makes each re-assignment or settling a job of its own.
   */
  telegram_post: { caseId: string; unit: string; round: number; settled?: boolean; again?: boolean; at?: number };
  /** Download the photos of a Telegram report and keep them with the case. */
  telegram_photos: { caseId: string };
}

export type JobName = keyof JobPayloads;

export const JOB_NAMES = ['intake', 'dispatch', 'notify', 'deadline', 'telegram_post', 'telegram_photos'] as const satisfies readonly JobName[];

/** Job ids come from the business key, so a redelivered job is the same job. */
export const jobId = {
  intake: (p: JobPayloads['intake']) => `intake-${p.caseId}`,
  dispatch: (p: JobPayloads['dispatch']) => `dispatch-${p.caseId}-${p.unit}-${p.channel}`,
  notify: (p: JobPayloads['notify']) => `notify-${p.notificationId}`,
  deadline: (p: JobPayloads['deadline']) => `deadline-${p.caseId}-${Date.parse(p.at)}`,
  telegram_post: (p: JobPayloads['telegram_post']) =>
    `tgpost-${p.caseId}-${p.unit}-${p.round}${p.settled ? '-settled' : ''}${p.again ? '-again' : ''}${p.at ? `-${p.at}` : ''}`,
  telegram_photos: (p: JobPayloads['telegram_photos']) => `tgphotos-${p.caseId}`,
} satisfies { [K in JobName]: (p: JobPayloads[K]) => string };

/** Retry policy per job, applied by every transport. */
export const JOB_RETRY: { [K in JobName]: { attempts: number; backoffMs: number } } = {
  intake: { attempts: 10, backoffMs: 1000 },
  dispatch: { attempts: 8, backoffMs: 5000 },
  notify: { attempts: 8, backoffMs: 5000 },
  deadline: { attempts: 10, backoffMs: 2000 },
  telegram_post: { attempts: 10, backoffMs: 1000 },
  telegram_photos: { attempts: 6, backoffMs: 1000 },
};

/**
 * The retry policy as configured: `DISPATCH_ATTEMPTS` and `DISPATCH_BACKOFF_MS`
 * cover everything sent to a bureau's or office's own channel — assignments
 * (`dispatch`) and the notices that follow them (`notify`: 催办, 督办, …).
 */
export function retryPolicy(env: { DISPATCH_ATTEMPTS: number; DISPATCH_BACKOFF_MS: number }): typeof JOB_RETRY {
  const toUnits = { attempts: env.DISPATCH_ATTEMPTS, backoffMs: env.DISPATCH_BACKOFF_MS };
  return { ...JOB_RETRY, dispatch: toUnits, notify: toUnits };
}

export interface JobContext {
  jobId: string;
  /** 1 on the first run. */
  attempt: number;
  maxAttempts: number;
}

/** Thrown by a processor for a failure that no retry can fix. */
export class PermanentJobError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PermanentJobError';
  }
}

export interface OutboxEntry<K extends JobName = JobName> {
  name: K;
  payload: JobPayloads[K];
  /** Run no earlier than this. */
  runAt?: Date;
}

export function outboxEntry<K extends JobName>(name: K, payload: JobPayloads[K], runAt?: Date): OutboxEntry<K> {
  return { name, payload, ...(runAt ? { runAt } : {}) };
}

/** The id of an entry's job, from its business key (`jobId`). */
export function jobIdOf(e: OutboxEntry): string {
  return (jobId[e.name] as (p: unknown) => string)(e.payload);
}

/**
 * The ids a job's log lines carry, so one case can be followed across
 * processes: `queue` (the job's name: one queue per job), `jobId`, and the
 * case, notification and unit the payload names. The BullMQ workers on Node
 * and the Queues consumer on Workers log the same fields, so one log query
 * finds a case's jobs on either platform.
 */
export function jobLogFields(queue: JobName, jobId: string | undefined, payload: unknown): Record<string, unknown> {
  const data = (payload ?? {}) as Record<string, unknown>;
  const fields: Record<string, unknown> = { queue, jobId };
  for (const key of ['caseId', 'notificationId', 'unit'] as const) {
    if (typeof data[key] === 'string') fields[key] = data[key];
  }
  return fields;
}

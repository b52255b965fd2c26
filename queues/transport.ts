import type { JobName } from './jobs.js';

/**
 * What the rest of the service needs from a queue system. BullMQ implements
 * it on Node; another transport (Cloudflare Queues) can implement it too.
 */

export interface JobToEnqueue {
  name: JobName;
  jobId: string;
  payload: unknown;
  /** Delay the job until then. */
  runAt?: Date;
}

export type EnsureOutcome = 'added' | 'retried' | 'present';

export interface JobTransport {
  /** Adds jobs; a job whose id is already queued is left as it is. Fails fast when the broker is down. */
  enqueue(jobs: JobToEnqueue[]): Promise<void>;
  /** Makes sure a job that should exist does: adds it when missing, retries it (with a fresh count of attempts) when it failed for good. */
  ensure(job: JobToEnqueue): Promise<EnsureOutcome>;
  /** True when the broker answers right now. */
  ping(): Promise<boolean>;
  /** Called whenever the connection to the broker is (re)established. */
  onReady(listener: () => void): void;
  close(): Promise<void>;
}

import type { D1Database, Queue, R2Bucket } from '@cloudflare/workers-types/index.js';
import type { JobMessage } from '../../queues/cf-queues.transport.js';
import type { DeadJob } from './consumer.js';

/** What wrangler.toml binds to the Worker, plus its vars and secrets (strings). */
export interface WorkerBindings {
  /** D1: the service's database. */
  DB: D1Database;
  /** Cloudflare Queue carrying every job (producer binding). */
  JOBS: Queue<JobMessage>;
  /** The dead-letter queue, for jobs that failed for good. */
  DEAD_JOBS?: Queue<DeadJob>;
  /** R2 bucket for report photos and reply attachments. */
  PHOTOS: R2Bucket;
  /** The whole district file as JSON text; the bundled default district without it. */
  DISTRICT_JSON?: string;
  /** Vars and secrets read by src/env.ts (PUBLIC_URL, WEBHOOK_SECRET, TELEGRAM_BOT_TOKEN, …). */
  [variable: string]: unknown;
}

/** The string-valued bindings: the Worker's environment variables and secrets. */
export function variablesOf(bindings: WorkerBindings): Record<string, string> {
  return Object.fromEntries(Object.entries(bindings).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { createTransactionBatcher, type TransactionBatcher } from '../db/tx-batcher.js';
import type { OutboxRelay } from '../queues/outbox-relay.js';
import type { ProcessorDeps } from '../queues/processors/processor-deps.js';
import type { JobTransport } from '../queues/transport.js';
import type { Clock } from './clock.js';
import { DistrictConfigError, type District } from './district/district.schema.js';
import { publicUrl, type Env } from './env.js';
import type { IntakeGate } from './intake/intake-gate.js';
import type { IntakeWriter } from './intake/intake-writer.js';
import type { Logger } from './logger.js';
import type { Classifier } from './pipeline/classifier.js';
import type { WorkCalendar } from './pipeline/deadlines.js';
import type { PhotoStore } from './storage/photo-store.js';
import { createTelegramPush } from './telegram/push.js';

/**
 * The platform-neutral part of the composition root: what the app, the
 * processors and the workflow need, as interfaces. The entry files build it
 * with their platform's adapters: `createDeps` (src/deps.ts) on Node with
 * better-sqlite3 or pg and BullMQ, `workerDeps` (src/worker/deps.ts) on
 * Cloudflare Workers with D1, Queues and R2. Nothing here imports an adapter.
 */

export type DbEngine = 'sqlite' | 'postgres' | 'd1';

/** Everything long-lived the service needs, built by the entry file. */
export interface Deps {
  env: Env;
  district: District;
  db: Kysely<Database>;
  dbEngine: DbEngine;
  clock: Clock;
  logger: Logger;
  classifier: Classifier;
  calendar: WorkCalendar;
  photos: PhotoStore;
  transport: JobTransport;
  relay: OutboxRelay;
  kickOutbox: () => void;
  /** Writes accepted reports (group commit on Node, one D1 batch per report on Workers). */
  writer: IntakeWriter;
  /** Runs the processors' units of work; a group-commit batcher over `db` when absent. */
  transactions?: TransactionBatcher;
  /** Counts the reports of the form, the API and the bot per sender (INTAKE_RATE_LIMIT); none: no limit. */
  intakeGate?: IntakeGate;
  /**
   * The request header the platform puts the client's address in, where
   * requests come without a socket of their own (Workers: CF-Connecting-IP,
   * set by Cloudflare's edge). Node reads the socket's address.
   */
  addressHeader?: string;
}

export interface DepsOverrides {
  clock?: Clock;
  logger?: Logger;
  district?: District;
  classifier?: Classifier;
  fetch?: typeof fetch;
}

/** A bureau with a webhook needs a secret to sign it: its own or WEBHOOK_SECRET. */
export function assertWebhookSecrets(env: Env, district: District): void {
  for (const unit of district.units.values()) {
    if (unit.webhook && !unit.webhook.secret && !env.WEBHOOK_SECRET) {
      throw new DistrictConfigError(env.DISTRICT_CONFIG ?? 'default district file', [
        `${unit.code}.webhook: no secret; set WEBHOOK_SECRET or give the bureau its own secret`,
      ]);
    }
  }
}

export function processorDeps(deps: Deps, fetchImpl: typeof fetch = fetch): ProcessorDeps {
  return {
    db: deps.db,
    transactions: deps.transactions ?? createTransactionBatcher(deps.db),
    district: deps.district,
    classifier: deps.classifier,
    calendar: deps.calendar,
    clock: deps.clock,
    logger: deps.logger,
    webhookSecret: deps.env.WEBHOOK_SECRET,
    fetch: fetchImpl,
    kickOutbox: deps.kickOutbox,
    publicUrl: publicUrl(deps.env),
    telegram: createTelegramPush(deps.env),
    photos: deps.photos,
  };
}

import type { Kysely } from 'kysely';
import { connectDatabase, migrateToLatest, type DbEngine } from '../db/connect.js';
import type { Database } from '../db/schema.js';
import { createTransactionBatcher } from '../db/tx-batcher.js';
import { createBullmqTransport } from '../queues/bullmq.transport.js';
import { JOB_RETRY } from '../queues/jobs.js';
import { createOutboxRelay, type OutboxRelay } from '../queues/outbox-relay.js';
import type { ProcessorDeps } from '../queues/processors/processor-deps.js';
import type { JobTransport } from '../queues/transport.js';
import { examplesPathFor, loadOrTrain } from './classifier/classifier-store.js';
import { systemClock, type Clock } from './clock.js';
import { DistrictConfigError, type District } from './district/district.schema.js';
import { loadDistrictFile } from './district/district-file.js';
import { publicUrl, type Env } from './env.js';
import { createIntakeWriter, type IntakeWriter } from './intake/intake-writer.js';
import { createLogger, type Logger } from './logger.js';
import type { Classifier } from './pipeline/classifier.js';
import { calendarFor, type WorkCalendar } from './pipeline/deadlines.js';
import { createRuleClassifier } from './pipeline/rule-classifier.js';
import { createTelegramPush } from './telegram/push.js';
import { createLocalPhotoStore } from './storage/local-photo-store.js';
import type { PhotoStore } from './storage/photo-store.js';

/** Everything long-lived the service needs, built once per process by the entry file. */
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
  /** Group-commits accepted reports. */
  writer: IntakeWriter;
}

export interface DepsOverrides {
  clock?: Clock;
  logger?: Logger;
  district?: District;
  classifier?: Classifier;
  fetch?: typeof fetch;
}

/** Builds the dependencies; the database is migrated before anything uses it. */
export async function createDeps(env: Env, overrides: DepsOverrides = {}): Promise<Deps> {
  const logger = overrides.logger ?? createLogger(env.LOG_LEVEL);
  const district = overrides.district ?? loadDistrictFile(env.DISTRICT_CONFIG);
  for (const unit of district.units.values()) {
    if (unit.webhook && !unit.webhook.secret && !env.WEBHOOK_SECRET) {
      throw new DistrictConfigError(env.DISTRICT_CONFIG ?? 'default district file', [
        `${unit.code}.webhook: no secret; set WEBHOOK_SECRET or give the bureau its own secret`,
      ]);
    }
  }
  const handle = connectDatabase(env.DATABASE_URL);
  try {
    await migrateToLatest(handle.db);
  } catch (err) {
    await handle.db.destroy();
    throw err;
  }
  logger.info({ database: handle.where, engine: handle.engine }, 'database ready');

  const classifier = overrides.classifier ?? buildClassifier(env, district, logger);

  const transport = createBullmqTransport({
    redisUrl: env.REDIS_URL,
    prefix: env.QUEUE_PREFIX,
    logger,
    retry: { ...JOB_RETRY, dispatch: { attempts: env.DISPATCH_ATTEMPTS, backoffMs: env.DISPATCH_BACKOFF_MS } },
  });
  const relay = createOutboxRelay({ db: handle.db, transport, logger });

  return {
    env,
    district,
    db: handle.db,
    dbEngine: handle.engine,
    clock: overrides.clock ?? systemClock,
    logger,
    classifier,
    calendar: calendarFor(district),
    photos: createLocalPhotoStore(env.UPLOAD_DIR),
    transport,
    relay,
    kickOutbox: () => relay.kick(),
    writer: createIntakeWriter(handle.db),
  };
}

export function processorDeps(deps: Deps, fetchImpl: typeof fetch = fetch): ProcessorDeps {
  return {
    db: deps.db,
    transactions: createTransactionBatcher(deps.db),
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
  };
}

/**
 * The district's classifier: the trained model (from the retrained artifact,
 * the cache, or trained now), or the phrase rules alone when the district
 * file asks for them.
 */
function buildClassifier(env: Env, district: District, logger: Logger): Classifier {
  if (district.file.classifier.engine === 'rules') {
    logger.info('classifier: phrase rules of the district file');
    return createRuleClassifier(district);
  }
  const loaded = loadOrTrain({
    district,
    examplesPath: examplesPathFor(district, env.DISTRICT_CONFIG),
    dir: env.CLASSIFIER_DIR,
    logger,
  });
  logger.info(
    { origin: loaded.origin, examples: loaded.examples, corrections: loaded.corrections, engine: loaded.classifier.engine },
    'classifier ready',
  );
  return loaded.classifier;
}

/** Closes what createDeps opened, last-opened first. */
export async function closeDeps(deps: Deps): Promise<void> {
  await deps.relay.stop();
  await deps.transport.close();
  await deps.db.destroy();
}

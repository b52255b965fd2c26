import { connectDatabase, isPostgresUrl, migrateToLatest } from '../db/connect.js';
import { WriteTurn } from '../db/write-turn.js';
import { bullmqTransportFromEnv } from '../queues/bullmq.transport.js';
import { createOutboxRelay, type OutboxRelay } from '../queues/outbox-relay.js';
import { examplesPathFor, ExamplesFileError, loadOrTrain } from './classifier/classifier-store.js';
import { ExampleError } from './classifier/engine/index.js';
import { systemClock } from './clock.js';
import { DistrictConfigError, type District } from './district/district.schema.js';
import { keepNamesOrWarn } from './district/gone-codes.js';
import { DEFAULT_DISTRICT_PATH, loadDistrictFile } from './district/district-file.js';
import type { Env } from './env.js';
import { createIntakeWriter, type IntakeWriter } from './intake/intake-writer.js';
import { startIntakeThread } from './intake/writer-thread.js';
import { createLogger, type Logger } from './logger.js';
import type { Classifier } from './pipeline/classifier.js';
import { calendarFor } from './pipeline/deadlines.js';
import { createRuleClassifier } from './pipeline/rule-classifier.js';
import { createLocalPhotoStore } from './storage/local-photo-store.js';
import { assertWebhookSecrets, type Deps, type DepsOverrides } from './core-deps.js';

/** The Node composition root: better-sqlite3 or pg, BullMQ on Redis, photos on disk, pino. */
export { assertWebhookSecrets, processorDeps, type Deps, type DepsOverrides } from './core-deps.js';

/** Builds the dependencies; the database is migrated before anything uses it. */
export async function createDeps(
  env: Env,
  overrides: DepsOverrides = {},
  /** `apiOnly`: this process serves the API and runs no queue workers (INTAKE_WRITER=auto then uses the writer thread). */
  options: { apiOnly?: boolean } = {},
): Promise<Deps> {
  const logger: Logger = overrides.logger ?? createLogger(env.LOG_LEVEL);
  // Its own former names (filled from this database below), whatever else holds the file.
  const loaded = overrides.district ?? loadDistrictFile(env.DISTRICT_CONFIG);
  const district: District = { ...loaded, former: { types: new Map(), units: new Map() } };
  assertWebhookSecrets(env, district);
  // The service's SQLite log is checkpointed on a thread of its own, off the commits;
  // the writer thread and this one take turns at writing instead of colliding.
  const writeTurn = isPostgresUrl(env.DATABASE_URL) ? undefined : new WriteTurn();
  const handle = connectDatabase(env.DATABASE_URL, {
    walCheckpoints: 'background',
    onCheckpointError: (err) => logger.warn({ err: err.message }, 'sqlite checkpoint thread failed: commits checkpoint the log themselves from now on'),
    ...(writeTurn ? { writeTurn } : {}),
  });
  try {
    await migrateToLatest(handle.db, handle.where);
  } catch (err) {
    await handle.db.destroy();
    throw err;
  }
  logger.info({ database: handle.where, engine: handle.engine }, 'database ready');
  const clock = overrides.clock ?? systemClock;
  await keepNamesOrWarn(handle.db, district, clock.now().toISOString(), logger);

  let classifier: Classifier;
  try {
    classifier = overrides.classifier ?? buildClassifier(env, district, logger);
  } catch (err) {
    await handle.db.destroy();
    throw err;
  }

  const transport = bullmqTransportFromEnv(env, logger);

  let writer: IntakeWriter;
  let relay: OutboxRelay;
  if (env.INTAKE_WRITER === 'thread' || (env.INTAKE_WRITER === 'auto' && options.apiOnly)) {
    try {
      ({ writer, relay } = await startIntakeThread(env, logger, writeTurn ? { writeTurn } : {}));
    } catch (err) {
      await transport.close();
      await handle.db.destroy();
      throw err;
    }
  } else {
    writer = createIntakeWriter(handle.db);
    relay = createOutboxRelay({ db: handle.db, transport, logger });
  }

  return {
    env,
    district,
    db: handle.db,
    dbEngine: handle.engine,
    clock,
    logger,
    classifier,
    calendar: calendarFor(district),
    photos: createLocalPhotoStore(env.UPLOAD_DIR),
    transport,
    relay,
    kickOutbox: () => relay.kick(),
    writer,
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
  let loaded: ReturnType<typeof loadOrTrain>;
  try {
    loaded = loadOrTrain({ district, examplesPath: examplesPathFor(district, env.DISTRICT_CONFIG), dir: env.CLASSIFIER_DIR, logger });
  } catch (err) {
    // The district's own example file: a label it has no type for, a broken line, no such file. Said as the district file's fault.
    if (district.file.classifier.examples && (err instanceof ExampleError || err instanceof ExamplesFileError)) {
      throw new DistrictConfigError(env.DISTRICT_CONFIG ?? DEFAULT_DISTRICT_PATH, [`classifier.examples: ${err.message}`]);
    }
    throw err;
  }
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

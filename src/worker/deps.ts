import type { ExecutionContext } from '@cloudflare/workers-types/index.js';
import { migrateToLatest } from '../../db/migrate.js';
import { createCfQueuesTransport, type CfQueuesTransport } from '../../queues/cf-queues.transport.js';
import { retryPolicy } from '../../queues/jobs.js';
import { systemClock, type Clock } from '../clock.js';
import { assertWebhookSecrets, type Deps } from '../core-deps.js';
import defaultDistrict from '../district/default.district.json' with { type: 'json' };
import { buildDistrict, parseDistrictJson } from '../district/district.schema.js';
import { keepNamesOrWarn } from '../district/gone-codes.js';
import { parseEnv } from '../env.js';
import { createDatabaseIntakeGate } from '../intake/database-intake-gate.js';
import { writeReports, type IntakeWriter } from '../intake/intake-writer.js';
import { loggedWriter } from '../intake/logged-writer.js';
import { calendarFor } from '../pipeline/deadlines.js';
import type { WorkerBindings } from './bindings.js';
import { variablesOf } from './bindings.js';
import { lazyClassifier } from './classifier.js';
import type { RetryPolicy } from './consumer.js';
import { connectD1, createD1UnitRunner, runD1Batch } from './d1.js';
import { createLogScope, type LogScope } from './log-scope.js';
import { createConsoleLogger } from './logger.js';
import { createR2PhotoStore } from './r2-photo-store.js';
import { createWorkerRelay, type WorkerRelay } from './relay.js';

/**
 * The Workers composition root: the same Deps as on Node, built from the
 * Worker's bindings — D1 (kysely-d1), Cloudflare Queues, R2, console logs —
 * once per isolate.
 */
export interface WorkerDeps extends Deps {
  transport: CfQueuesTransport;
  relay: WorkerRelay;
  retry: RetryPolicy;
  /** The logger of the request or job being handled (see log-scope.ts). */
  logScope: LogScope;
  /** Resolves once the D1 schema is up to date (migrated on the first event of an isolate). */
  ready(): Promise<void>;
}

export function createWorkerDeps(bindings: WorkerBindings, clock: Clock = systemClock): WorkerDeps {
  const env = parseEnv(variablesOf(bindings));
  const logger = createConsoleLogger(env.LOG_LEVEL);
  const district = bindings.DISTRICT_JSON
    ? parseDistrictJson(bindings.DISTRICT_JSON, 'DISTRICT_JSON')
    : buildDistrict(defaultDistrict, 'default district file');
  assertWebhookSecrets(env, district);
  const logScope = createLogScope(logger);
  const db = connectD1(bindings.DB, logScope);
  const transport = createCfQueuesTransport(bindings.JOBS, clock);
  const relay = createWorkerRelay({ db, transport, logger });

  // An accepted report is one D1 batch: case, contact, photos, events,
  // outbox entries and idempotency key commit together or not at all; then
  // it is logged as on Node (`report accepted`, with case id and request id).
  const writer: IntakeWriter = loggedWriter(
    {
      async write(report) {
        await runD1Batch(bindings.DB, (trx) => writeReports(trx, [report]));
      },
      async writeAll(reports) {
        if (reports.length > 0) await runD1Batch(bindings.DB, (trx) => writeReports(trx, reports));
      },
    },
    logger,
  );

  let migrated: Promise<void> | null = null;
  return {
    env,
    district,
    db,
    dbEngine: 'd1',
    clock,
    logger,
    classifier: lazyClassifier(district, logger),
    calendar: calendarFor(district),
    photos: createR2PhotoStore(bindings.PHOTOS),
    transport,
    relay,
    kickOutbox: () => relay.kick(),
    writer,
    // The intake processor's unit of work: one guarded D1 batch, no group commit (see d1.ts).
    transactions: createD1UnitRunner(bindings.DB),
    retry: retryPolicy(env),
    // Counted in D1, which every isolate shares (INTAKE_RATE_LIMIT_STORE is for the Node processes).
    ...(env.INTAKE_RATE_LIMIT ? { intakeGate: createDatabaseIntakeGate({ db, limit: env.INTAKE_RATE_LIMIT, clock, logger }) } : {}),
    // Set by Cloudflare's edge on every request; a client cannot send its own.
    addressHeader: 'cf-connecting-ip',
    logScope,
    ready() {
      migrated ??= migrateToLatest(db).then(
        async (applied) => {
          if (applied.length > 0) logger.info({ applied }, 'D1 schema migrated');
          await keepNamesOrWarn(db, district, clock.now().toISOString(), logger);
        },
        (err: unknown) => {
          migrated = null;
          throw err;
        },
      );
      return migrated;
    },
  };
}

/** Moves what the outbox holds after the response has gone out. */
export function drainAfter(deps: WorkerDeps, ctx: ExecutionContext): void {
  if (deps.relay.takeKick()) ctx.waitUntil(deps.relay.drain().catch(() => undefined));
}

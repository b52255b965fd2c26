import type { Kysely } from 'kysely';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Database } from '../../db/schema.js';
import type { JobObserver, JobOutcome } from '../../queues/bullmq.transport.js';
import type { JobName } from '../../queues/jobs.js';
import { CASE_STATUSES, WORKING } from '../domain/case.js';

/**
 * The process's Prometheus metrics (prom-client). One registry per running
 * service, never prom-client's global one, so two services in one process
 * (tests) do not mix their figures.
 *
 * Counters and histograms are this process's own (sum them over instances);
 * the queue and database gauges describe the whole system and are read at
 * scrape time: queue depth from Redis, case figures from the database, the
 * latter cached for `dbCacheMs` so several scrapers cost one query.
 */

export type QueueCounts = Record<string, Partial<Record<'waiting' | 'active' | 'delayed' | 'failed', number>>>;

export interface MetricsSources {
  db: Kysely<Database>;
  /** Job counts per queue (BullMQ: getJobCounts); absent where the process has no queue. */
  queueCounts?: () => Promise<QueueCounts>;
  /** Every bureau and jurisdiction code, so a unit with nothing overdue reports 0 instead of no series. */
  units?: readonly string[];
  /** Whether the intake writer takes reports (false while its thread is being started again); absent where it always does. */
  intakeUp?: () => boolean;
  dbCacheMs?: number;
  now?: () => number;
}

export interface ServiceMetrics {
  registry: Registry;
  /** A finished HTTP request: `route` is the matched route pattern, not the raw path. */
  httpRequest(method: string, route: string, status: number, seconds: number): void;
  reportAccepted(channel: string): void;
  /** A report refused because its sender reached INTAKE_RATE_LIMIT. */
  reportRefused(channel: string): void;
  classified(confidence: number): void;
  jobs: JobObserver;
  /** The exposition text and its content type. */
  render(): Promise<{ contentType: string; body: string }>;
}

const QUEUE_STATES = ['waiting', 'active', 'delayed', 'failed'] as const;

export function createServiceMetrics(sources: MetricsSources): ServiceMetrics {
  const registry = new Registry();
  const registers = [registry];
  collectDefaultMetrics({ register: registry });

  const httpRequests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers,
  });
  const httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request latency by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });
  const reports = new Counter({
    name: 'intake_reports_accepted_total',
    help: 'Reports accepted (committed) by channel',
    labelNames: ['channel'] as const,
    registers,
  });
  const refused = new Counter({
    name: 'intake_reports_refused_total',
    help: 'Reports refused because their sender reached INTAKE_RATE_LIMIT, by channel (a flood shows here)',
    labelNames: ['channel'] as const,
    registers,
  });
  const confidence = new Histogram({
    name: 'intake_classifier_confidence',
    help: "Confidence of the classifier's best type for each case the intake job classified",
    buckets: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1],
    registers,
  });
  const jobDuration = new Histogram({
    name: 'intake_job_duration_seconds',
    help: 'Time a job took in its processor, by queue and outcome (completed, retry, failed)',
    labelNames: ['queue', 'outcome'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers,
  });
  const jobsFailed = new Counter({
    name: 'intake_jobs_failed_total',
    help: 'Jobs that failed for good (no retry left, a permanent error, or stalled too often), by queue',
    labelNames: ['queue'] as const,
    registers,
  });
  const jobRetries = new Counter({
    name: 'intake_job_retries_total',
    help: 'Job runs that failed and will be retried, by queue',
    labelNames: ['queue'] as const,
    registers,
  });

  const queueCounts = sources.queueCounts;
  if (queueCounts) {
    new Gauge({
      name: 'intake_queue_jobs',
      help: 'Jobs per queue and state (waiting, active, delayed, failed), read from Redis at scrape time',
      labelNames: ['queue', 'state'] as const,
      registers,
      async collect() {
        try {
          const counts = await queueCounts();
          this.reset();
          for (const [queue, byState] of Object.entries(counts)) {
            for (const state of QUEUE_STATES) this.set({ queue, state }, byState[state] ?? 0);
          }
        } catch {
          // Redis is away: no queue figures in this scrape (intake_queue_up says so).
          this.reset();
        }
      },
    });
    new Gauge({
      name: 'intake_queue_up',
      help: '1 when the queue figures could be read from Redis at scrape time',
      registers,
      async collect() {
        this.set(await queueCounts().then(() => 1, () => 0));
      },
    });
  }

  const dbFigures = cachedDbFigures(sources);
  new Gauge({
    name: 'intake_cases',
    help: 'Cases by status, read from the database at scrape time',
    labelNames: ['status'] as const,
    registers,
    async collect() {
      const figures = await dbFigures();
      this.reset();
      if (!figures) return;
      for (const status of CASE_STATUSES) this.set({ status }, figures.byStatus.get(status) ?? 0);
      for (const [status, n] of figures.byStatus) if (!(CASE_STATUSES as readonly string[]).includes(status)) this.set({ status }, n);
    },
  });
  new Gauge({
    name: 'intake_overdue_cases',
    help: 'Open cases overdue (signing or reply deadline missed) per responsible bureau or jurisdiction',
    labelNames: ['bureau'] as const,
    registers,
    async collect() {
      const figures = await dbFigures();
      this.reset();
      if (!figures) return;
      for (const unit of sources.units ?? []) this.set({ bureau: unit }, figures.overdueByUnit.get(unit) ?? 0);
      for (const [unit, n] of figures.overdueByUnit) this.set({ bureau: unit }, n);
    },
  });
  new Gauge({
    name: 'intake_database_up',
    help: '1 when the case figures could be read from the database at scrape time',
    registers,
    async collect() {
      this.set((await dbFigures()) ? 1 : 0);
    },
  });

  if (sources.intakeUp) {
    const intakeUp = sources.intakeUp;
    new Gauge({
      name: 'intake_writer_up',
      help: '1 when the intake writer thread takes reports, 0 while it is being started again after a fault',
      registers,
      collect() {
        this.set(intakeUp() ? 1 : 0);
      },
    });
  }

  const jobs: JobObserver = {
    jobEnded(queue: JobName, outcome: JobOutcome, seconds: number | null) {
      if (seconds !== null) jobDuration.observe({ queue, outcome }, seconds);
      if (outcome === 'failed') jobsFailed.inc({ queue });
      if (outcome === 'retry') jobRetries.inc({ queue });
    },
  };

  return {
    registry,
    httpRequest(method, route, status, seconds) {
      const labels = { method, route, status: String(status) };
      httpRequests.inc(labels);
      httpDuration.observe(labels, seconds);
    },
    reportAccepted(channel) {
      reports.inc({ channel });
    },
    reportRefused(channel) {
      refused.inc({ channel });
    },
    classified(value) {
      if (Number.isFinite(value)) confidence.observe(value);
    },
    jobs,
    async render() {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}

interface DbFigures {
  byStatus: Map<string, number>;
  overdueByUnit: Map<string, number>;
}

/** Two grouped queries over indexed columns, shared by the gauges of one scrape and cached briefly. */
function cachedDbFigures(sources: MetricsSources): () => Promise<DbFigures | null> {
  const cacheMs = sources.dbCacheMs ?? 10_000;
  const now = sources.now ?? Date.now;
  let cached: { at: number; value: Promise<DbFigures | null> } | null = null;
  return () => {
    if (cached && now() - cached.at <= cacheMs) return cached.value;
    const value = readDbFigures(sources.db).catch(() => null);
    cached = { at: now(), value };
    // A failed read is not cached: the next scrape tries again.
    void value.then((v) => {
      if (v === null && cached?.value === value) cached = null;
    });
    return value;
  };
}

async function readDbFigures(db: Kysely<Database>): Promise<DbFigures> {
  const [statusRows, overdueRows] = await Promise.all([
    db
      .selectFrom('cases')
      .select(['status', (eb) => eb.fn.countAll<number | string>().as('n')])
      .groupBy('status')
      .execute(),
    db
      .selectFrom('assignments as a')
      .innerJoin('cases as c', 'c.id', 'a.case_id')
      .select(['a.unit_code', (eb) => eb.fn.count<number | string>('a.case_id').distinct().as('n')])
      .where('c.status', 'in', WORKING)
      .where((eb) =>
        eb.or([
          eb.and([eb('a.status', '=', 'pending'), eb('a.sign_overdue_at', 'is not', null)]),
          eb.and([eb('a.status', 'in', ['pending', 'accepted']), eb('a.reply_overdue_at', 'is not', null)]),
        ]),
      )
      .groupBy('a.unit_code')
      .execute(),
  ]);
  return {
    byStatus: new Map(statusRows.map((r) => [r.status, Number(r.n)])),
    overdueByUnit: new Map(overdueRows.map((r) => [r.unit_code, Number(r.n)])),
  };
}

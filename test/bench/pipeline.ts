/**
 * bench:pipeline — submits N reports over HTTP to an API process and measures
 * the time until every case has left `received` (dispatched, transferred or
 * in triage) through the outbox, Redis and the intake workers. In the same
 * run, the throughput of no-op BullMQ jobs on the same Redis is the ceiling.
 *
 *   npm run bench:pipeline -- [--reports 10000] [--workers 1] [--concurrency 32]
 *   DATABASE_URL=postgres://... WORKERS=2 npm run bench:pipeline
 *
 * On PostgreSQL every process is separate: one API process and N worker
 * processes (`--workers N` or WORKERS=N). On SQLite the first worker runs in
 * the API process and N-1 more are separate.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Queue, Worker } from 'bullmq';
import { sql } from 'kysely';
import { connectDatabase } from '../../db/connect.js';
import { removeQueueKeys } from '../redis-keys.js';
import { BEHIND_PROXY, benchDataDir, residentAddress, SAMPLE_REPORTS, spawnService, type SpawnedService } from './lib/spawn-service.js';

const { values } = parseArgs({
  options: {
    reports: { type: 'string', default: '10000' },
    workers: { type: 'string', default: process.env.WORKERS ?? '1' },
    concurrency: { type: 'string', default: '32' },
    port: { type: 'string', default: '3927' },
    // Submit everything first with no worker running, then start the workers and time the routing alone.
    split: { type: 'boolean', default: false },
  },
});
const N = Number(values.reports);
const workerCount = Number(values.workers);
const concurrency = Number(values.concurrency);
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const dir = benchDataDir('pipeline');
const databaseUrl = process.env.DATABASE_URL ?? join(dir.path, 'intake.db');
const prefix = `bench-pipeline-${process.pid}`;

async function ceiling(): Promise<number> {
  const q = new Queue('noop', { connection: { url: redisUrl }, prefix: `${prefix}-noop` });
  const jobs = Array.from({ length: N }, (_, i) => ({ name: 'noop', data: { caseId: String(i) }, opts: { jobId: `noop-${i}`, removeOnComplete: true } }));
  let done = 0;
  const started = performance.now();
  let finish!: () => void;
  const finished = new Promise<void>((r) => (finish = r));
  const w = new Worker('noop', async () => 'ok', { connection: { url: redisUrl, maxRetriesPerRequest: null }, prefix: `${prefix}-noop`, concurrency: 50 });
  w.on('completed', () => {
    if (++done === N) finish();
  });
  for (let i = 0; i < jobs.length; i += 500) await q.addBulk(jobs.slice(i, i + 500));
  await finished;
  const perSecond = N / ((performance.now() - started) / 1000);
  await w.close();
  await q.obliterate({ force: true });
  await q.close();
  return perSecond;
}

/**
 * CPU time (user + system, every thread) a process has used so far, in µs, from
 * /proc/<pid>/stat; undefined where there is no /proc (the figure is then left out).
 */
function processCpuMicros(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15)
    return (ticks * 1e6) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}
/** USER_HZ: 100 on every Linux this runs on. */
const CLOCK_TICKS_PER_SECOND = 100;
/**
 * The CPU time the service processes used since `before` (each process's own figure then; a process
 * started since, as --split's workers are, counts from its start), in µs; undefined if any cannot be read.
 */
function servicesCpuSince(list: SpawnedService[], before: Map<number | undefined, number | undefined>): number | undefined {
  let total = 0;
  for (const p of list) {
    const now = processCpuMicros(p.child.pid);
    if (now === undefined) return undefined;
    total += now - (before.get(p.child.pid) ?? 0);
  }
  return total;
}

// A plain keep-alive HTTP client: lighter than fetch, so the submitting side
// takes less of the two cores away from the service being measured.
const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
function post(url: string, body: string, from: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const headers = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-forwarded-for': from };
    const req = http.request(url, { method: 'POST', agent, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const env = { DATABASE_URL: databaseUrl, UPLOAD_DIR: join(dir.path, 'uploads'), QUEUE_PREFIX: prefix, REDIS_URL: redisUrl, ...BEHIND_PROXY };
const processes: SpawnedService[] = [];
const db = connectDatabase(databaseUrl).db;
try {
  // Cases an earlier run left unrouted (e.g. bench:intake on the same PostgreSQL database) would
  // be picked up by this run's workers too and falsify the figure.
  const leftOver = await sql<{ n: number }>`select count(*) as n from cases where status = 'received'`
    .execute(db)
    .then((r) => Number(r.rows[0]?.n ?? 0), () => 0); // no table yet: a new database
  if (leftOver > 0) {
    throw new Error(`the database holds ${leftOver} cases not yet routed from an earlier run; run against an empty database`);
  }
  const ceilingPerSecond = await ceiling();

  // SQLite is one writer: one process serving the API and running a worker
  // avoids two processes contending for the file lock. Further worker
  // processes (and, on PostgreSQL, all of them) run separately.
  const sqlite = !databaseUrl.startsWith('postgres');
  const split = values.split === true;
  processes.push(await spawnService({ role: sqlite && !split ? 'all' : 'api', port: Number(values.port), env }));
  const startWorkers = async () => {
    for (let i = sqlite && !split ? 1 : 0; i < workerCount; i++) processes.push(await spawnService({ role: 'worker', port: 0, env }));
  };
  if (!split) await startWorkers();
  const api = processes[0]!;

  // This run's cases, for the outcome: received from now on (a PostgreSQL database may hold earlier runs).
  const since = new Date().toISOString();
  const cpuAtStart = new Map(processes.map((p) => [p.child.pid, processCpuMicros(p.child.pid)]));
  const benchCpuAtStart = process.cpuUsage();
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < N) {
        const i = next++;
        const body = JSON.stringify({ text: `${SAMPLE_REPORTS[i % SAMPLE_REPORTS.length]}（${i}）` });
        const res = await post(`${api.url}/api/v1/reports`, body, residentAddress(i));
        if (res.status !== 202) throw new Error(`report ${i}: HTTP ${res.status} ${res.body}`);
      }
    }),
  );
  const submitted = performance.now();
  let routingStarted = started;
  if (split) {
    // The API's relay has moved everything into the queue once the outbox is empty.
    while (Number((await sql<{ n: number }>`select count(*) as n from outbox`.execute(db)).rows[0]?.n ?? 0) > 0) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const starting = startWorkers();
    // Timed from the first case routed, so the workers' start-up is left out.
    const waitingNow = async () =>
      Number((await sql<{ n: number }>`select count(*) as n from cases where status = 'received'`.execute(db)).rows[0]?.n ?? 0);
    const waitingAtStart = await waitingNow();
    while ((await waitingNow()) === waitingAtStart) await new Promise((r) => setTimeout(r, 10));
    routingStarted = performance.now();
    await starting;
  }
  // Every report was committed before its 202, and no earlier case was left in `received` (checked
  // above), so the run is over once no case is. The poll stops at the first waiting case instead
  // of counting them all, so the measuring takes little CPU from the service being measured.
  const anyWaiting = async () => (await sql`select 1 as one from cases where status = 'received' limit 1`.execute(db)).rows.length > 0;
  while (await anyWaiting()) await new Promise((r) => setTimeout(r, 20));
  const routed = performance.now();
  const serviceCpu = servicesCpuSince(processes, cpuAtStart);
  const benchCpu = process.cpuUsage(benchCpuAtStart);
  const elapsed = (routed - started) / 1000;
  const routingSeconds = (routed - routingStarted) / 1000;
  const casesPerSecond = N / elapsed;
  const byStatus = await sql<{ status: string; n: number }>`select status, count(*) as n from cases where received_at >= ${since} group by status order by status`.execute(db);

  console.log(`machine: ${cpus().length} cores, ${cpus()[0]?.model ?? ''}, node ${process.version}`);
  console.log(
    `database: ${sqlite ? 'SQLite' : 'PostgreSQL'}; ${sqlite ? `1 process (API + worker)${workerCount > 1 ? ` + ${workerCount - 1} worker process(es)` : ''}` : `1 API process + ${workerCount} worker process(es)`}; ${N} reports, ${concurrency} concurrent submitters`,
  );
  console.log(`submitted in ${((submitted - started) / 1000).toFixed(2)} s; all routed after ${elapsed.toFixed(2)} s`);
  if (split) console.log(`routing alone (workers started after the submission, ${workerCount} worker process(es)): ${routingSeconds.toFixed(2)} s, routing_per_s=${(N / routingSeconds).toFixed(0)}`);
  console.log(`outcome: ${byStatus.rows.map((r) => `${r.status}=${r.n}`).join(' ')}`);
  // CPU time is what the other processes on a shared machine leave unchanged, where the rate is not.
  console.log(
    `CPU per case: service ${serviceCpu === undefined ? 'n/a (no /proc)' : `${(serviceCpu / N).toFixed(0)} µs`} (API and worker processes, every thread${split ? ', the workers with their start' : ''}); submitter and poll ${((benchCpu.user + benchCpu.system) / N).toFixed(0)} µs`,
  );
  console.log(`no-op BullMQ ceiling: ${ceilingPerSecond.toFixed(0)} jobs/s`);
  console.log(`cases_per_s=${casesPerSecond.toFixed(0)} ceiling_per_s=${ceilingPerSecond.toFixed(0)} ratio=${(casesPerSecond / ceilingPerSecond).toFixed(2)}`);
} finally {
  agent.destroy();
  await Promise.all(processes.map((p) => p.stop()));
  await db.destroy();
  await removeQueueKeys(redisUrl, prefix);
  await removeQueueKeys(redisUrl, `${prefix}-noop`);
  dir.remove();
}

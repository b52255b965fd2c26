import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import http, { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { connectDatabase } from '../db/connect.js';
import { DEFAULT_DISTRICT_PATH } from '../src/district/district-file.js';
import type { DistrictFile } from '../src/district/district.schema.js';
import { compiled, createPgDatabase, freePort, onCleanup, REDIS_URL, removeQueueKeys, tempDir, uniquePrefix, waitFor } from './harness.js';
import { SAMPLE_REPORTS } from './bench/lib/spawn-service.js';

/**
 * Several processes against one PostgreSQL and one Redis: two API processes
 * take 5,000 reports (MULTIPROCESS_REPORTS for another count) between them while two worker processes route them and
 * deliver every assignment to the bureaus' webhooks; one worker is killed
 * with SIGKILL halfway. Every case must be routed exactly once, with no
 * duplicate assignment, event, notification or delivery record.
 *
 * Bureau deliveries are at-least-once by design: a worker killed after the
 * bureau's server answered and before the delivery was recorded cannot know
 * the bureau has it, so the job runs again on the surviving worker. Each
 * delivery carries a stable id (`X-Intake-Delivery`, also `deliveryId` in the
 * body) for the bureau to drop repeats; the receiver here checks exactly-once
 * after de-duplicating by that id, and that repeats are rare.
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const REPORTS = Number(process.env.MULTIPROCESS_REPORTS ?? 5000);
const SUBMITTERS = 32;
const CONCURRENCY = 50;
const SECRET = 'test-webhook-secret-0123456789';


interface Proc {
  name: string;
  child: ChildProcess;
  url: string;
  output: () => string;
  exited: Promise<number | null>;
}

async function startProcess(name: string, role: 'api' | 'worker', env: Record<string, string>): Promise<Proc> {
  const port = role === 'api' ? await freePort() : 0;
  const chunks: string[] = [];
  const [node, main] = compiled('src/main.ts');
  const child = spawn(node, [main, '--role', role], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', PORT: String(port), HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d: Buffer) => chunks.push(d.toString()));
  child.stderr!.on('data', (d: Buffer) => chunks.push(d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  onCleanup(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const proc = { name, child, url: `http://127.0.0.1:${port}`, output: () => chunks.join(''), exited };
  const ready = role === 'api' ? 'listening on' : 'worker running';
  await waitFor(() => proc.output().includes(ready), { timeoutMs: 60_000, what: `${name} to start; output:\n${proc.output()}` });
  return proc;
}

interface Delivery {
  deliveryId: string;
  caseId: string;
  unit: string;
}

/** The bureaus' servers: one receiver that records every delivery it gets and answers 204. */
async function receiver(): Promise<{ url: string; received: Delivery[] }> {
  const received: Delivery[] = [];
  const server = createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (raw += c));
    req.on('end', () => {
      const body = JSON.parse(raw) as { event: string; deliveryId: string; case: { id: string }; assignment: { unit: { code: string } } };
      // Notices to units (催办 and the like) come the same way; this test counts assignments.
      if (body.event !== 'case.assigned') return res.writeHead(204).end();
      expect(req.headers['x-intake-delivery']).toBe(body.deliveryId);
      received.push({ deliveryId: body.deliveryId, caseId: body.case.id, unit: body.assignment.unit.code });
      res.writeHead(204).end();
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  onCleanup(() => new Promise<void>((r) => server.close(() => r())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received };
}

/** The default district with a webhook on every bureau and jurisdiction, as a file for the child processes. */
function districtFile(base: string): string {
  const file = JSON.parse(readFileSync(DEFAULT_DISTRICT_PATH, 'utf8')) as DistrictFile;
  for (const b of file.bureaus) b.webhook = { url: `${base}/${b.code}` };
  for (const j of file.jurisdictions) j.webhook = { url: `${base}/${j.code}` };
  const path = join(tempDir(), 'district.json');
  writeFileSync(path, JSON.stringify(file));
  return path;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: SUBMITTERS });
function post(url: string, body: unknown): Promise<{ status: number; body: string }> {
  const text = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) } },
      (res) => {
        let out = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (out += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: out }));
      },
    );
    req.on('error', reject);
    req.end(text);
  });
}

function logLines(text: string): Array<Record<string, unknown>> {
  return text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('several API and worker processes on one PostgreSQL and one Redis', () => {
  it(`route ${REPORTS} reports exactly once and deliver each assignment once per delivery id, with a worker killed halfway`, async () => {
    const databaseUrl = await createPgDatabase('multiprocess');
    const prefix = uniquePrefix('multiprocess');
    onCleanup(() => removeQueueKeys(REDIS_URL, prefix));
    onCleanup(() => agent.destroy());
    const bureaus = await receiver();
    const dir = tempDir();
    const env = {
      DATABASE_URL: databaseUrl,
      REDIS_URL,
      QUEUE_PREFIX: prefix,
      // Thousands of reports from this one address.
      INTAKE_RATE_LIMIT: 'off',
      UPLOAD_DIR: join(dir, 'uploads'),
      CLASSIFIER_DIR: join(tmpdir(), 'intake-test-classifier'),
      DISTRICT_CONFIG: districtFile(bureaus.url),
      WEBHOOK_SECRET: SECRET,
      PUBLIC_URL: 'http://intake.test',
      LOG_LEVEL: 'info',
      WORKER_CONCURRENCY: String(CONCURRENCY),
      // The killed worker's jobs go back to the queue after 5 s without a lock renewal.
      JOB_LOCK_MS: '5000',
      RECONCILE_INTERVAL_MS: '5000',
      RECONCILE_GRACE_MS: '20000',
      DISPATCH_BACKOFF_MS: '200',
    };

    // The first process migrates the database; the others find it migrated.
    const api1 = await startProcess('api-1', 'api', env);
    const [api2, worker1, worker2] = await Promise.all([
      startProcess('api-2', 'api', env),
      startProcess('worker-1', 'worker', env),
      startProcess('worker-2', 'worker', env),
    ]);
    const apis = [api1, api2];

    const db = connectDatabase(databaseUrl, { poolSize: 2 }).db;
    onCleanup(() => db.destroy());

    const started = Date.now();
    const accepted: string[] = [];
    let next = 0;
    let killed = false;
    await Promise.all(
      Array.from({ length: SUBMITTERS }, async () => {
        while (next < REPORTS) {
          const i = next++;
          const api = apis[i % apis.length]!;
          // Every tenth reporter leaves a name and phone: neither may reach a log line.
          const body = {
            text: `${SAMPLE_REPORTS[i % SAMPLE_REPORTS.length]}（${i}）`,
            ...(i % 10 === 0 ? { name: '周八', phone: '13912340000' } : {}),
          };
          const res = await post(`${api.url}/api/v1/reports`, body);
          expect(res.status, res.body).toBe(202);
          accepted.push((JSON.parse(res.body) as { id: string }).id);
          if (!killed && accepted.length >= REPORTS / 2) {
            killed = true;
            worker1.child.kill('SIGKILL');
          }
        }
      }),
    );
    console.log(`multiprocess: ${REPORTS} reports submitted in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    let lastProgress = 0;
    expect(await worker1.exited).toBeNull();
    expect(worker1.child.signalCode).toBe('SIGKILL');

    await waitFor(
      async () => {
        const row = (
          await sql<{ received: string; pending: string; outbox: string }>`
            select (select count(*) from cases where status = 'received') as received,
                   (select count(*) from deliveries where status = 'pending') as pending,
                   (select count(*) from outbox) as outbox`.execute(db)
        ).rows[0]!;
        if (Date.now() - lastProgress > 10_000) {
          lastProgress = Date.now();
          console.log(`multiprocess: ${((Date.now() - started) / 1000).toFixed(0)} s: ${JSON.stringify(row)}, ${bureaus.received.length} webhooks`);
        }
        return Number(row.received) === 0 && Number(row.pending) === 0 && Number(row.outbox) === 0;
      },
      { timeoutMs: 240_000, intervalMs: 500, what: 'every case routed and every delivery made' },
    );

    // Every accepted report is one case, routed once.
    expect(accepted).toHaveLength(REPORTS);
    expect(new Set(accepted).size).toBe(REPORTS);
    const cases = await db.selectFrom('cases').select(['id', 'status']).execute();
    expect(cases).toHaveLength(REPORTS);
    const stored = new Set(cases.map((c) => c.id));
    expect(accepted.filter((id) => !stored.has(id))).toEqual([]);
    const byStatus = Object.fromEntries(
      (await db.selectFrom('cases').select(['status', (eb) => eb.fn.countAll<string>().as('n')]).groupBy('status').execute()).map((r) => [r.status, Number(r.n)]),
    );
    expect(Object.keys(byStatus).every((s) => ['dispatched', 'triage', 'transferred'].includes(s)), JSON.stringify(byStatus)).toBe(true);
    expect(byStatus.dispatched).toBeGreaterThan(REPORTS / 2);

    // One classification and one routing event per case, never two.
    const events = await sql<{ case_id: string; classified: string; routed: string }>`
      select case_id,
             count(*) filter (where kind = 'classified') as classified,
             count(*) filter (where kind = 'status' and from_status = 'received') as routed
        from case_events group by case_id
      having count(*) filter (where kind = 'classified') <> 1
          or count(*) filter (where kind = 'status' and from_status = 'received') <> 1`.execute(db);
    expect(events.rows).toEqual([]);
    const routedEvents = await sql<{ n: string }>`select count(*) as n from case_events where kind = 'status' and from_status = 'received'`.execute(db);
    expect(Number(routedEvents.rows[0]!.n)).toBe(REPORTS);

    // No unit assigned twice to a case; every routed case (not in triage) has its assignments.
    const doubleAssigned = await sql`select case_id, unit_code from assignments group by case_id, unit_code having count(*) > 1`.execute(db);
    expect(doubleAssigned.rows).toEqual([]);
    const unassigned = await sql`
      select c.id from cases c where c.status in ('dispatched', 'transferred')
         and not exists (select 1 from assignments a where a.case_id = c.id)`.execute(db);
    expect(unassigned.rows).toEqual([]);
    const assignedInTriage = await sql`select a.id from assignments a join cases c on c.id = a.case_id where c.status = 'triage'`.execute(db);
    expect(assignedInTriage.rows).toEqual([]);

    // One reporter notification per routed case.
    const doubleNotified = await sql`
      select case_id, kind from notifications where audience = 'reporter' group by case_id, kind having count(*) > 1`.execute(db);
    expect(doubleNotified.rows).toEqual([]);

    // One delivery record per assignment (every unit has a webhook here), each delivered, with one 'delivered' event.
    const deliveries = await db.selectFrom('deliveries').select(['id', 'case_id', 'unit_code', 'status']).execute();
    const assignmentCount = Number((await sql<{ n: string }>`select count(*) as n from assignments`.execute(db)).rows[0]!.n);
    expect(deliveries).toHaveLength(assignmentCount);
    expect(new Set(deliveries.map((d) => `${d.case_id}/${d.unit_code}`)).size).toBe(deliveries.length);
    expect(deliveries.filter((d) => d.status !== 'delivered')).toEqual([]);
    const deliveredEvents = await sql<{ n: string; distinct_units: string }>`
      select count(*) as n, count(distinct case_id || '/' || (data::json ->> 'unit')) as distinct_units
        from case_events where kind = 'delivered'`.execute(db);
    expect(Number(deliveredEvents.rows[0]!.n)).toBe(deliveries.length);
    expect(Number(deliveredEvents.rows[0]!.distinct_units)).toBe(deliveries.length);

    // The bureaus got every delivery; de-duplicated by delivery id, exactly once each.
    const byId = new Map(deliveries.map((d) => [d.id, d]));
    const seen = new Map<string, number>();
    for (const r of bureaus.received) {
      const d = byId.get(r.deliveryId);
      expect(d, `unknown delivery ${r.deliveryId}`).toBeDefined();
      expect([r.caseId, r.unit]).toEqual([d!.case_id, d!.unit_code]);
      seen.set(r.deliveryId, (seen.get(r.deliveryId) ?? 0) + 1);
    }
    expect(seen.size).toBe(deliveries.length);
    const repeats = bureaus.received.length - seen.size;
    // Repeats come from deliveries in flight on the killed worker (at most its concurrency), and on
    // a starved machine from a job whose lock expired while it ran; they stay a small, bounded number.
    expect(repeats).toBeLessThanOrEqual(2 * CONCURRENCY);
    console.log(
      `multiprocess: ${REPORTS} cases ${JSON.stringify(byStatus)}, ${deliveries.length} deliveries, ` +
        `${bureaus.received.length} webhook requests received (${repeats} repeated a delivery id after the SIGKILL)`,
    );

    // One case can be followed across processes by its id: accepted by an API, routed and delivered by a worker.
    const apiLines = apis.flatMap((p) => logLines(p.output()));
    const workerLines = logLines(worker2.output());
    const routedBySurvivor = workerLines.find((l) => l.msg === 'job completed' && l.queue === 'intake' && String(l.result).startsWith('dispatch'));
    expect(routedBySurvivor, 'a case routed by the surviving worker').toBeDefined();
    const caseId = routedBySurvivor!.caseId as string;
    expect(routedBySurvivor!.jobId).toBe(`intake-${caseId}`);
    const acceptedLine = apiLines.find((l) => l.msg === 'report accepted' && l.caseId === caseId);
    expect(acceptedLine?.reqId, 'the API line carries the request id').toEqual(expect.any(String));
    expect(apiLines.some((l) => l.msg === 'request' && l.reqId === acceptedLine!.reqId && l.path === '/api/v1/reports')).toBe(true);
    const dispatchLines = [...workerLines, ...logLines(worker1.output())].filter(
      (l) => l.queue === 'dispatch' && l.caseId === caseId && l.msg === 'job completed',
    );
    expect(dispatchLines.length).toBeGreaterThanOrEqual(1);
    for (const l of dispatchLines) expect(String(l.jobId)).toMatch(new RegExp(`^dispatch-${caseId}-`));

    const allOutput = [...apis, worker1, worker2].map((p) => p.output()).join('\n');
    expect(allOutput).not.toContain('13912340000');
    expect(allOutput).not.toContain('周八');

    for (const p of [api1, api2, worker2]) p.child.kill('SIGTERM');
    expect(await Promise.all([api1.exited, api2.exited, worker2.exited])).toEqual([0, 0, 0]);
  }, 420_000);
});

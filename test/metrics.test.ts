import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildDistrict, type DistrictFile } from '../src/district/district.schema.js';
import { DEFAULT_DISTRICT_PATH } from '../src/district/district-file.js';
import type { Service } from '../src/runtime.js';
import { bodyOf, captureLogs, onCleanup, postJson, startTestService, testEnv, waitFor } from './harness.js';

const TOKEN = 'metrics-token-0123456789abcdef';
const SECRET = 'test-webhook-secret-0123456789';

/** The value of one series in a Prometheus exposition, or null when it is absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | null {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3]);
  }
  return null;
}

async function scrape(url: string, token: string | null = TOKEN): Promise<string> {
  const res = await fetch(url, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  expect(res.status, JSON.stringify(await bodyOf(res.clone()))).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/plain');
  return res.text();
}

/** A bureau server that refuses everything with 410: each delivery to it fails for good. */
async function refusingBureau(): Promise<string> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(410).end());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  onCleanup(() => new Promise<void>((r) => server.close(() => r())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('GET /metrics on the API port (METRICS_TOKEN)', () => {
  let service: Service & { url: string };

  beforeAll(async () => {
    const file = JSON.parse(readFileSync(DEFAULT_DISTRICT_PATH, 'utf8')) as DistrictFile;
    const refusing = await refusingBureau();
    for (const b of file.bureaus) if (b.code === 'epb') b.webhook = { url: `${refusing}/epb` };
    const env = testEnv('metrics', { METRICS_TOKEN: TOKEN, METRICS_DB_CACHE_MS: '0', WEBHOOK_SECRET: SECRET });
    service = await startTestService(env, 'all', { district: buildDistrict(file) });
  });

  it('answers 401 without the token or with a wrong one', async () => {
    const none = await fetch(`${service.url}/metrics`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toContain('Bearer');
    expect(((await none.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
    const wrong = await fetch(`${service.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}x` } });
    expect(wrong.status).toBe(401);
  });

  it('counts requests by route pattern, reports by channel, jobs, classifications and cases as reports flow', async () => {
    const before = await scrape(`${service.url}/metrics`);
    const accepted0 = sample(before, 'intake_reports_accepted_total', { channel: 'web' }) ?? 0;
    const posted0 = sample(before, 'http_request_duration_seconds_count', { method: 'POST', route: '/api/v1/reports', status: '202' }) ?? 0;

    const texts = ['兴隆办事处那边一个厂子晚上往沟里排黑水', '回龙村养猪场的粪水直接排到田里', '李家塘路边有人烧垃圾，烟好大', '想问一下情况'];
    const codes: string[] = [];
    for (const text of texts) {
      const res = await postJson(`${service.url}/api/v1/reports`, { text });
      expect(res.status, JSON.stringify(await bodyOf(res.clone()))).toBe(202);
      codes.push(((await res.json()) as { trackingCode: string }).trackingCode);
    }
    for (const code of codes) expect((await fetch(`${service.url}/api/v1/track/${code}`)).status).toBe(200);
    expect((await postJson(`${service.url}/api/v1/reports`, { text: '' })).status).toBe(400);

    // The illegal-discharge report is routed to epb, whose server refuses it: one dispatch job fails for good.
    const text = await waitFor(
      async () => {
        const pending = await service.deps.db.selectFrom('deliveries').select('id').where('status', '=', 'pending').execute();
        const t = await scrape(`${service.url}/metrics`);
        // A failed job reaches Redis's failed set a moment after the database says so.
        const settled = (sample(t, 'intake_queue_jobs', { queue: 'dispatch', state: 'active' }) ?? 1) === 0;
        return (sample(t, 'intake_cases', { status: 'received' }) ?? 1) === 0 && pending.length === 0 && settled ? t : null;
      },
      { timeoutMs: 30_000, what: 'every case routed and the refused delivery failed' },
    );

    expect(sample(text, 'intake_reports_accepted_total', { channel: 'web' })).toBe(accepted0 + 4);
    expect(sample(text, 'http_request_duration_seconds_count', { method: 'POST', route: '/api/v1/reports', status: '202' })).toBe(posted0 + 4);
    expect(sample(text, 'http_requests_total', { method: 'POST', route: '/api/v1/reports', status: '400' })).toBe(1);
    // The route pattern, never the tracking code itself.
    expect(sample(text, 'http_requests_total', { method: 'GET', route: '/api/v1/track/:trackingCode', status: '200' })).toBe(4);
    expect(text).not.toContain(codes[0]!);
    expect(sample(text, 'http_request_duration_seconds_bucket', { method: 'POST', route: '/api/v1/reports', status: '202', le: '+Inf' })).toBe(posted0 + 4);

    expect(sample(text, 'intake_job_duration_seconds_count', { queue: 'intake', outcome: 'completed' })).toBe(4);
    expect(sample(text, 'intake_classifier_confidence_count')).toBe(4);
    // Every delivery to epb was refused: as many failed dispatch jobs as deliveries marked failed.
    const failed = await service.deps.db.selectFrom('deliveries').select('id').where('status', '=', 'failed').execute();
    expect(failed.length).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'intake_jobs_failed_total', { queue: 'dispatch' })).toBe(failed.length);
    expect(sample(text, 'intake_queue_jobs', { queue: 'dispatch', state: 'failed' })).toBe(failed.length);
    expect(sample(text, 'intake_queue_jobs', { queue: 'intake', state: 'waiting' })).toBe(0);
    expect(sample(text, 'intake_queue_up')).toBe(1);
    const routed = ['dispatched', 'triage', 'transferred'].reduce((n, status) => n + (sample(text, 'intake_cases', { status }) ?? 0), 0);
    expect(routed).toBe(4);
    expect(sample(text, 'intake_cases', { status: 'closed' })).toBe(0);
    expect(sample(text, 'intake_database_up')).toBe(1);
    // Default process metrics.
    expect(sample(text, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(sample(text, 'nodejs_eventloop_lag_seconds')).not.toBeNull();
  });

  it('reports overdue cases per bureau from the database', async () => {
    const before = await scrape(`${service.url}/metrics`);
    expect(sample(before, 'intake_overdue_cases', { bureau: 'epb' })).toBe(0);
    const { db } = service.deps;
    const lead = await db
      .selectFrom('assignments as a')
      .innerJoin('cases as c', 'c.id', 'a.case_id')
      .select(['a.id', 'a.unit_code'])
      .where('c.status', '=', 'dispatched')
      .where('a.role', '=', 'lead')
      .executeTakeFirstOrThrow();
    await db.updateTable('assignments').set({ sign_overdue_at: new Date().toISOString() }).where('id', '=', lead.id).execute();
    const after = await scrape(`${service.url}/metrics`);
    expect(sample(after, 'intake_overdue_cases', { bureau: lead.unit_code })).toBe(1);
  });
});

describe('metrics configuration', () => {
  it('serves no metrics on the API port without a token', async () => {
    const service = await startTestService(testEnv('metrics-off'), 'api');
    expect(service.metricsUrl).toBeNull();
    expect((await fetch(`${service.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(404);
  });

  it('serves a worker process its metrics on the admin port (METRICS_PORT), apart from the API', async () => {
    const env = testEnv('metrics-admin', { METRICS_PORT: '0' });
    const worker = await startTestService(env, 'worker');
    expect(worker.url).toBeNull();
    expect(worker.metricsUrl).not.toBeNull();
    const text = await scrape(`${worker.metricsUrl}/metrics`, null);
    expect(sample(text, 'intake_queue_jobs', { queue: 'intake', state: 'waiting' })).toBe(0);
    expect(sample(text, 'intake_cases', { status: 'received' })).toBe(0);
    expect(sample(text, 'process_resident_memory_bytes')).toBeGreaterThan(0);
  });

  it('answers a method the admin port does not take on its paths with 405 and Allow; an unknown path stays a 404', async () => {
    const worker = await startTestService(testEnv('metrics-admin-405', { METRICS_PORT: '0' }), 'worker');
    for (const path of ['/metrics', '/healthz']) {
      for (const method of ['POST', 'DELETE']) {
        const res = await fetch(`${worker.metricsUrl}${path}`, { method });
        expect(res.status, `${method} ${path}`).toBe(405);
        expect(res.headers.get('allow')).toBe('GET, HEAD');
        expect(((await res.json()) as { error: { code: string } }).error.code).toBe('method_not_allowed');
      }
    }
    expect((await fetch(`${worker.metricsUrl}/healthz`)).status).toBe(200);
    const unknown = await fetch(`${worker.metricsUrl}/nothing`, { method: 'POST' });
    expect(unknown.status).toBe(404);
    await unknown.body?.cancel();
  });

  it('asks the admin port for the token too when both are set', async () => {
    const env = testEnv('metrics-admin-token', { METRICS_PORT: '0', METRICS_TOKEN: TOKEN });
    const worker = await startTestService(env, 'worker');
    expect((await fetch(`${worker.metricsUrl}/metrics`)).status).toBe(401);
    await scrape(`${worker.metricsUrl}/metrics`);
  });

  it('says in the log that a worker process with METRICS_TOKEN but no METRICS_PORT serves no metrics', async () => {
    const { lines: logged, logger } = captureLogs('info');
    const worker = await startTestService(testEnv('metrics-worker-token', { METRICS_TOKEN: TOKEN }), 'worker', { logger });
    expect(worker.metricsUrl).toBeNull();
    const off = logged.filter((l) => String(l.msg).includes('metrics off'));
    expect(off, JSON.stringify(logged.map((l) => l.msg))).toHaveLength(1);
    expect(off[0]!.msg).toContain('METRICS_PORT');
    expect(off[0]!.level).toBe(40);
  });

  it('answers a scrape while Redis is unreachable, saying so (intake_queue_up 0) with the database figures', async () => {
    const away = await startTestService(testEnv('metrics-away', { METRICS_TOKEN: TOKEN, METRICS_DB_CACHE_MS: '0', REDIS_URL: 'redis://127.0.0.1:1' }), 'api');
    expect((await postJson(`${away.url}/api/v1/reports`, { text: '兴隆办事处工厂晚上排黑水（Redis 不在）' })).status).toBe(202);
    const res = await fetch(`${away.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` }, signal: AbortSignal.timeout(20_000) });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(sample(text, 'intake_queue_up')).toBe(0);
    expect(sample(text, 'intake_queue_jobs', { queue: 'intake', state: 'waiting' })).toBeNull();
    expect(sample(text, 'intake_database_up')).toBe(1);
    expect(sample(text, 'intake_cases', { status: 'received' })).toBe(1);
  });

  it('keeps each service its own registry', async () => {
    const a = await startTestService(testEnv('metrics-a', { METRICS_TOKEN: TOKEN }), 'api');
    const b = await startTestService(testEnv('metrics-b', { METRICS_TOKEN: TOKEN }), 'api');
    expect((await postJson(`${a.url}/api/v1/reports`, { text: '盐下村河里好多死鱼' })).status).toBe(202);
    expect(sample(await scrape(`${a.url}/metrics`), 'intake_reports_accepted_total', { channel: 'web' })).toBe(1);
    expect(sample(await scrape(`${b.url}/metrics`), 'intake_reports_accepted_total', { channel: 'web' })).toBeNull();
  });
});

import { readFileSync } from 'node:fs';
import http from 'node:http';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { issueToken } from '../db/repositories/tokens.repository.js';
import { createUser } from '../db/repositories/users.repository.js';
import { ManualClock } from '../src/clock.js';
import { DEFAULT_DISTRICT_PATH } from '../src/district/district-file.js';
import { buildDistrict, type DistrictFile } from '../src/district/district.schema.js';
import { createLogger } from '../src/logger.js';
import { bureauServer } from './bureau-server.js';
import { bodyOf, jsonLines, postJson, startTestService, testEnv, waitFor } from './harness.js';
import { formClient } from './web-staff-helpers.js';
import { seedCase } from './workflow-helpers.js';


/** Starts a request, sends `body` (with a declared length it never reaches, or chunked), then closes the connection. */
function sendAndHangUp(url: string, headers: Record<string, string | number>, body: string | Buffer, afterMs: number): Promise<void> {
  return new Promise((resolve) => {
    const req = http.request(url, { method: 'POST', headers });
    req.on('error', () => {});
    req.write(body);
    setTimeout(() => {
      req.destroy();
      resolve();
    }, afterMs);
  });
}

/** Reads the first bytes of an answer, then closes the connection. */
function readAndHangUp(url: string, init: { method: string; headers: Record<string, string>; body?: string }): Promise<void> {
  return new Promise((resolve) => {
    const req = http.request(url, { method: init.method, headers: init.headers });
    req.on('error', () => resolve());
    req.on('response', (res) =>
      res.once('data', () => {
        res.destroy();
        resolve();
      }),
    );
    req.end(init.body);
  });
}

describe('logs', () => {
  it('carry request ids and never the reporter’s name, phone or words', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(...chunk.toString().split('\n').filter(Boolean));
        done();
      },
    });
    const service = await startTestService(testEnv('logging'), 'all', { logger: createLogger('debug', sink) });
    const res = await postJson(`${service.url}/api/v1/reports`, {
      text: '盐下村那个厂子偷排废水，我是周八，电话13912340000，别说是我举报的',
      name: '周八',
      phone: '13912340000',
    });
    expect(res.status).toBe(202);
    const { id, trackingCode } = (await res.json()) as { id: string; trackingCode: string };
    await waitFor(async () => {
      const row = await service.deps.db.selectFrom('cases').select('status').where('id', '=', id).executeTakeFirst();
      return row?.status !== 'received';
    });
    await fetch(`${service.url}/api/v1/track/${trackingCode}`);

    const requestLines = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'request');
    expect(requestLines.length).toBeGreaterThanOrEqual(2);
    expect(requestLines.every((l) => typeof l.reqId === 'string' && (l.reqId as string).length > 0)).toBe(true);
    const all = lines.join('\n');
    expect(all).not.toContain('周八');
    expect(all).not.toContain('13912340000');
    expect(all).not.toContain('偷排废水');
  });

  it('let one case be followed by its id: accepted with the request id, then each job with queue and job id', async () => {
    const { lines, sink } = jsonLines();
    const service = await startTestService(testEnv('logging-trace'), 'all', { logger: createLogger('info', sink) });
    const res = await postJson(`${service.url}/api/v1/reports`, { text: '回龙村养猪场的粪水直接排到田里，我电话13912340000', phone: '13912340000' });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    const routed = await waitFor(() => lines.find((l) => l.msg === 'job completed' && l.caseId === id && l.queue === 'intake'), {
      what: 'the intake job line',
    });
    expect(routed.jobId).toBe(`intake-${id}`);
    expect(routed.result).toEqual(expect.stringMatching(/^(dispatch|transfer|triage)/));
    const accepted = lines.find((l) => l.msg === 'report accepted' && l.caseId === id);
    expect(accepted).toMatchObject({ channel: 'web', reqId: expect.any(String) });
    const request = lines.find((l) => l.msg === 'request' && l.reqId === accepted!.reqId);
    expect(request).toMatchObject({ method: 'POST', path: '/api/v1/reports', status: 202 });
    expect(JSON.stringify(lines)).not.toContain('13912340000');
  });

  it('tie a rating to its case: the case id with the request id, as the request line names only the tracking code', async () => {
    const { lines, sink } = jsonLines();
    const service = await startTestService(testEnv('logging-rating'), 'api', { logger: createLogger('info', sink) });
    const { id, trackingCode } = await seedCase(service, new ManualClock(new Date().toISOString()));
    await service.deps.db.updateTable('cases').set({ status: 'replied' }).where('id', '=', id).execute();
    const res = await postJson(`${service.url}/api/v1/track/${trackingCode}/feedback`, { rating: 'dissatisfied', solved: false, comment: '还是有黑水，电话13912340000' });
    expect(res.status, JSON.stringify(await bodyOf(res))).toBe(201);
    const request = await waitFor(() => lines.find((l) => l.msg === 'request' && l.path === `/api/v1/track/${trackingCode}/feedback`), { what: 'the request line' });
    expect(lines.find((l) => l.reqId === request.reqId && l.caseId === id)).toMatchObject({ msg: 'case rated', rating: 'dissatisfied', status: 'reopened', round: 2 });
    // The tracking page's rating form says the same.
    const other = await seedCase(service, new ManualClock(new Date().toISOString()));
    await service.deps.db.updateTable('cases').set({ status: 'replied' }).where('id', '=', other.id).execute();
    const page = formClient(service.url);
    const form = await page.post(`/track/${other.trackingCode}`, { _csrf: await page.token(`/track/${other.trackingCode}`), rating: 'satisfied', solved: 'yes', comment: '电话13912340000' });
    expect(form.status).toBeLessThan(400);
    const pageRequest = await waitFor(() => lines.find((l) => l.msg === 'request' && l.method === 'POST' && l.path === `/track/${other.trackingCode}`), { what: 'the form request line' });
    expect(lines.find((l) => l.reqId === pageRequest.reqId && l.caseId === other.id)).toMatchObject({ msg: 'case rated', channel: 'web', rating: 'satisfied', status: 'closed' });
    // Nor the seeded reporter's name and phone, nor the comment's.
    for (const secret of ['13912340000', '13912345678', '李四']) expect(JSON.stringify(lines)).not.toContain(secret);
  });

  it('warn of a job that will be retried, and log one that failed for good as an error', async () => {
    const { lines, sink } = jsonLines();
    const bureaus = await bureauServer((path) => (path === '/agri' ? 503 : 204));
    try {
      const file = JSON.parse(readFileSync(DEFAULT_DISTRICT_PATH, 'utf8')) as DistrictFile;
      for (const b of file.bureaus) if (b.code === 'agri') b.webhook = { url: `${bureaus.url}/agri` };
      const env = testEnv('logging-failed', { WEBHOOK_SECRET: 'logging-webhook-secret-0123', DISPATCH_ATTEMPTS: '2', DISPATCH_BACKOFF_MS: '20' });
      const service = await startTestService(env, 'all', { logger: createLogger('info', sink), district: buildDistrict(file) });
      // livestock_waste: agri leads.
      const res = await postJson(`${service.url}/api/v1/reports`, { text: '回龙圩镇朱家观村有个养猪场把猪粪直接排到河里，臭得很', anonymous: true });
      expect(res.status).toBe(202);
      const { id } = (await res.json()) as { id: string };
      const failures = await waitFor(() => {
        const found = lines.filter((l) => l.caseId === id && l.unit === 'agri' && String(l.msg).startsWith('job failed'));
        return found.length >= 2 ? found : null;
      }, { what: "agri's two failed attempts" });
      expect(failures.map((l) => [l.msg, l.level])).toEqual([
        ['job failed, will retry', 40],
        ['job failed for good', 50],
      ]);
      expect(failures[1]).toMatchObject({ queue: 'dispatch', attempt: 2, maxAttempts: 2, final: true, err: 'HTTP 503' });
    } finally {
      await new Promise<void>((r) => bureaus.server.close(() => r()));
    }
  });

  it('give each case of a call import the import request’s id, as for a single call', async () => {
    const { lines, sink } = jsonLines();
    const service = await startTestService(testEnv('logging-import'), 'api', { logger: createLogger('info', sink) });
    const user = await createUser(service.deps.db, { name: '坐席小王', role: 'operator', unitCode: null, at: new Date().toISOString() });
    const token = (await issueToken(service.deps.db, { userId: user.id, label: null, at: new Date().toISOString() })).token;
    const calls = ['李家塘路边有人烧垃圾，烟好大。', '盐下村电镀厂晚上偷排废水，沟里全是黑水。']
      .map((words, i) => JSON.stringify({ hotline: '12345', callId: `log-${i}`, startedAt: '2026-11-28T21:30:05+08:00', callerNumber: '13912340000', transcript: `来电人：${words}` }))
      .join('\n');
    const res = await fetch(`${service.url}/api/v1/hotline/calls:import`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-ndjson' },
      body: calls,
    });
    const results = (await res.text()).split('\n').filter(Boolean).map((l) => JSON.parse(l) as { status?: string; caseIds?: string[] });
    const caseIds = results.flatMap((r) => (r.status === 'created' ? (r.caseIds ?? []) : []));
    expect(caseIds, JSON.stringify(results)).toHaveLength(2);
    const request = await waitFor(() => lines.find((l) => l.msg === 'request' && l.path === '/api/v1/hotline/calls:import'), { what: 'the request line' });
    const accepted = lines.filter((l) => l.msg === 'report accepted');
    expect(accepted.map((l) => l.caseId).sort()).toEqual([...caseIds].sort());
    expect(accepted.map((l) => l.reqId)).toEqual([request.reqId, request.reqId]);
    expect(JSON.stringify(lines)).not.toContain('13912340000');
  });

  it('say a client that closed its connection midway went away, never that the service failed', { timeout: 90_000 }, async () => {
    const { lines, sink } = jsonLines();
    const service = await startTestService(testEnv('logging-hangups'), 'all', { logger: createLogger('info', sink) });
    const user = await createUser(service.deps.db, { name: '坐席小王', role: 'admin', unitCode: null, at: new Date().toISOString() });
    const auth = { authorization: `Bearer ${(await issueToken(service.deps.db, { userId: user.id, label: null, at: new Date().toISOString() })).token}` };
    const api = `${service.url}/api/v1`;
    const casesBefore = await service.deps.db.selectFrom('cases').select('id').execute();

    // A photo upload cut off halfway.
    const boundary = 'hangup';
    const head = `--${boundary}\r\nContent-Disposition: form-data; name="text"\r\n\r\n噪音很大\r\n--${boundary}\r\nContent-Disposition: form-data; name="photos"; filename="a.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`;
    await sendAndHangUp(`${api}/reports`, { 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': 500_000 }, Buffer.concat([Buffer.from(head), Buffer.alloc(100_000, 1)]), 300);
    const request = await waitFor(() => lines.find((l) => l.msg === 'request' && l.path === '/api/v1/reports'), { what: 'the request line' });
    expect(request.status).toBe(400);
    expect(lines.find((l) => l.reqId === request.reqId && l.msg !== 'request')).toMatchObject({ level: 30, msg: 'client closed the connection before its request was read' });
    expect(await service.deps.db.selectFrom('cases').select('id').execute()).toHaveLength(casesBefore.length);

    // A call import whose results the client stops reading, and a CSV download closed after its first bytes.
    const calls = Array.from({ length: 600 }, (_, i) =>
      JSON.stringify({ hotline: '12345', callId: `hangup-${i}`, startedAt: '2026-11-28T21:30:05+08:00', transcript: '来电人：李家塘路边有人烧垃圾，烟好大。' }),
    ).join('\n');
    await readAndHangUp(`${api}/hotline/calls:import`, { method: 'POST', headers: { ...auth, 'content-type': 'application/x-ndjson' }, body: calls });
    // A call import whose upload stops midway (the lines read so far are imported).
    await sendAndHangUp(`${api}/hotline/calls:import`, { ...auth, 'content-type': 'application/x-ndjson', 'transfer-encoding': 'chunked' }, calls.replaceAll('hangup-', 'cut-'), 800);
    await readAndHangUp(`${api}/export/cases.csv`, { method: 'GET', headers: auth });
    // Each import goes on with the calls it read (hundreds of them): on a loaded machine the last request lines take a while.
    await waitFor(() => lines.filter((l) => l.msg === 'request').length >= 4, { what: 'the four request lines', timeoutMs: 45_000 }).catch((err: Error) => {
      throw new Error(`${err.message}; seen: ${JSON.stringify(lines.filter((l) => l.msg === 'request').map((l) => [l.method, l.path, l.status]))}`);
    });
    // The import goes on with what it read, and the service stays well.
    await new Promise((r) => setTimeout(r, 1000));
    expect((await fetch(`${service.url}/healthz`)).status).toBe(200);
    expect(lines.filter((l) => (l.level as number) >= 50)).toEqual([]);
  });

  it('mask a phone number or a name typed into a URL in the request line', async () => {
    const { lines, sink } = jsonLines();
    const service = await startTestService(testEnv('logging-paths'), 'all', { logger: createLogger('info', sink) });
    // A resident who types their number where the tracking code goes, in ASCII, spaced or full-width digits.
    for (const path of [
      '/track/13912349902',
      '/api/v1/track/13912349902',
      `/track/${encodeURIComponent('139 1234 9902')}`,
      `/track/${encodeURIComponent('１３９１２３４９９０２')}`,
      `/track/${encodeURIComponent('欧阳小明')}`,
    ]) {
      await (await fetch(`${service.url}${path}`, { headers: { accept: 'text/html' } })).body?.cancel();
    }
    const paths = await waitFor(
      () => {
        const found = lines.filter((l) => l.msg === 'request' && String(l.path).includes('track/')).map((l) => l.path);
        return found.length === 5 ? found : null;
      },
      { what: 'the five request lines' },
    );
    expect(paths).toEqual(['/track/139****9902', '/api/v1/track/139****9902', '/track/139****9902', '/track/139****9902', '/track/…']);
    const all = JSON.stringify(lines);
    for (const secret of ['13912349902', '139 1234 9902', '１３９１２３４９９０２', '12349902', '欧阳', '%E6%AC%A7']) expect(all).not.toContain(secret);
  });

  it('take the client’s X-Request-Id, but not one holding a phone number', async () => {
    const { lines, sink } = jsonLines();
    const service = await startTestService(testEnv('logging-reqid'), 'api', { logger: createLogger('info', sink) });
    const ok = await fetch(`${service.url}/healthz`, { headers: { 'x-request-id': 'lb-7f3a9c' } });
    expect(ok.headers.get('x-request-id')).toBe('lb-7f3a9c');
    const phone = await fetch(`${service.url}/healthz`, { headers: { 'x-request-id': '13912349902' } });
    const given = phone.headers.get('x-request-id');
    expect(given).toBeTruthy();
    expect(given).not.toContain('13912349902');
    await waitFor(() => lines.filter((l) => l.msg === 'request').length >= 2, { what: 'two request lines' });
    expect(lines.filter((l) => l.msg === 'request').map((l) => l.reqId)).toEqual(expect.arrayContaining(['lb-7f3a9c', given]));
    expect(JSON.stringify(lines)).not.toContain('13912349902');
  });

  it('redact identity fields logged by mistake', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    createLogger('info', sink).info({ name: '周八', phone: '13912340000', contact: { phone: '13912340000' } }, 'oops');
    expect(lines.join('')).not.toContain('13912340000');
    expect(lines.join('')).not.toContain('周八');
  });
});

import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../src/logger.js';
import { postJson, startTestService, testEnv, waitFor } from './harness.js';

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
    const lines: Array<Record<string, unknown>> = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
        done();
      },
    });
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

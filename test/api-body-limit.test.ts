import { beforeAll, describe, expect, it } from 'vitest';
import { bodyOf } from './harness.js';
import { DEFAULT_TEXT, seedCase, startWorkflowService, type Staff, type TestService } from './workflow-helpers.js';
import type { ManualClock } from '../src/clock.js';

/**
 * Every API body is held to 1 MB (README: `payload_too_large`, a body over 1 MB), not only the routes that
 * take files: a rating needs no account, and a body of any size would be read into memory before validation.
 */
describe('API bodies over 1 MB', () => {
  let service: TestService;
  let clock: ManualClock;
  let staff: Staff;
  beforeAll(async () => {
    ({ service, clock, staff } = await startWorkflowService('bodylimit', {}));
  });

  const big = (fill: Record<string, unknown>) => JSON.stringify({ ...fill, comment: 'x'.repeat(1024 * 1024 + 10) });

  it('refuses a rating over 1 MB with 413 before reading it', async () => {
    const { trackingCode } = await seedCase(service, clock);
    const res = await fetch(`${service.url}/api/v1/track/${trackingCode}/feedback`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: big({ rating: 'basic', solved: true }),
    });
    const json = (await bodyOf(res)) as { error: { code: string; fields: Record<string, string> } };
    expect(res.status, JSON.stringify(json)).toBe(413);
    expect(json.error.code).toBe('payload_too_large');
    expect(json.error.fields.body).toBe('at most 1 MB');
  });

  it('refuses a chunked rating over 1 MB (no Content-Length) with 413', async () => {
    const { trackingCode } = await seedCase(service, clock);
    const utf8 = new TextEncoder();
    const parts = [utf8.encode('{"rating":"basic","solved":true,"comment":"'), ...Array.from({ length: 17 }, () => utf8.encode('x'.repeat(64 * 1024))), utf8.encode('"}')];
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = parts.shift();
        if (next) controller.enqueue(next);
        else controller.close();
      },
    });
    const res = await fetch(`${service.url}/api/v1/track/${trackingCode}/feedback`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      duplex: 'half',
    } as RequestInit);
    const json = (await bodyOf(res)) as { error: { code: string } };
    expect(res.status, JSON.stringify(json)).toBe(413);
    expect(json.error.code).toBe('payload_too_large');
  });

  it("refuses a bureau's and a dispatcher's action over 1 MB with 413, and changes nothing", async () => {
    const { id } = await seedCase(service, clock);
    const post = (token: string, path: string, body: string) =>
      fetch(`${service.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body });
    const progress = await post(staff.epb, `/api/v1/cases/${id}/progress`, JSON.stringify({ note: 'x'.repeat(1024 * 1024 + 10) }));
    expect(progress.status, JSON.stringify(await bodyOf(progress))).toBe(413);
    const supervise = await post(staff.dispatcher, `/api/v1/cases/${id}/supervise`, JSON.stringify({ note: 'x'.repeat(1024 * 1024 + 10) }));
    expect(supervise.status, JSON.stringify(await bodyOf(supervise))).toBe(413);
    const view = await fetch(`${service.url}/api/v1/cases/${id}`, { headers: { authorization: `Bearer ${staff.dispatcher}` } });
    expect(((await view.json()) as { supervisedAt: string | null }).supervisedAt).toBeNull();
  });

  it('still takes a report with photos over 1 MB in all (the routes with files keep their own limit)', async () => {
    const form = new FormData();
    form.set('text', DEFAULT_TEXT);
    // A PNG's bytes after its end chunk are no part of the image: a photo of 1.5 MB.
    const png = Buffer.from(
      '89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de0000000c49444154789c63f8cfc0000003010100c9fe92ef0000000049454e44ae426082',
      'hex',
    );
    form.append('photos', new File([png, new Uint8Array(1.5 * 1024 * 1024)], 'p.png', { type: 'image/png' }));
    const res = await fetch(`${service.url}/api/v1/reports`, { method: 'POST', body: form });
    expect(res.status, JSON.stringify(await bodyOf(res))).toBe(202);
  });
});

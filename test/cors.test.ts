import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEnv, EnvError } from '../src/env.js';
import { newPage } from './browser.js';
import { onCleanup, runCleanups, startTestService, testEnv } from './harness.js';

/**
 * CORS_ORIGINS: another site's page (a district portal embedding the report form) calls the public API from the
 * browser; Chromium itself enforces what the answers allow. Origins differ here by port on 127.0.0.1.
 */

/** A site of its own origin serving one blank page, as a portal would serve its own form. */
async function site(): Promise<{ origin: string; server: Server }> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><title>portal</title><p>portal</p>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onCleanup(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

interface Outcome {
  ok: boolean;
  status?: number;
  body?: unknown;
  requestId?: string | null;
  replayed?: string | null;
  failure?: string;
}

/** What a page at `origin` gets when it calls `url` with fetch: the answer it may read, or fetch's failure. */
async function callFrom(origin: string, url: string, init: { method?: string; headers?: Record<string, string>; body?: string }): Promise<Outcome> {
  const { page, context } = await newPage();
  try {
    await page.goto(`${origin}/`);
    return await page.evaluate(
      async ({ url, init }) => {
        try {
          const res = await fetch(url, init);
          return {
            ok: true,
            status: res.status,
            body: await res.json(),
            requestId: res.headers.get('x-request-id'),
            replayed: res.headers.get('idempotent-replayed'),
          };
        } catch (err) {
          return { ok: false, failure: String(err) };
        }
      },
      { url, init },
    );
  } finally {
    await context.close();
  }
}

const report = (text: string, key: string) => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', 'idempotency-key': key },
  body: JSON.stringify({ text, anonymous: true }),
});

describe('the public API called from another site (CORS_ORIGINS)', () => {
  let portal: string;
  let stranger: string;
  let api: string;
  let closed: string;

  beforeAll(async () => {
    portal = (await site()).origin;
    stranger = (await site()).origin;
    api = (await startTestService(testEnv('cors', { CORS_ORIGINS: `${portal}/` }))).url;
    closed = (await startTestService(testEnv('cors-none'))).url;
  });
  afterAll(runCleanups);

  it('lets an allowed site send a report, read its tracking code and request id, and follow it', async () => {
    const sent = await callFrom(portal, `${api}/api/v1/reports`, report('村口化工厂晚上往河里排黄水，气味刺鼻', 'cors-1'));
    expect(sent.failure).toBeUndefined();
    expect(sent.status).toBe(202);
    const { trackingCode } = sent.body as { trackingCode: string };
    expect(trackingCode).toMatch(/^[34679ACDEFGHJKMNPQRTUVWXY]{10}$/);
    expect(sent.requestId).toBeTruthy();

    const again = await callFrom(portal, `${api}/api/v1/reports`, report('村口化工厂晚上往河里排黄水，气味刺鼻', 'cors-1'));
    expect(again.status).toBe(202);
    expect((again.body as { trackingCode: string }).trackingCode).toBe(trackingCode);
    expect(again.replayed).toBe('true');

    const tracked = await callFrom(portal, `${api}/api/v1/track/${trackingCode}`, {});
    expect(tracked.status).toBe(200);
    expect((tracked.body as { trackingCode: string }).trackingCode).toBe(trackingCode);
  });

  it("lets an allowed site read a refusal's fields, to show the resident what to mend", async () => {
    const refused = await callFrom(portal, `${api}/api/v1/reports`, report('   ', 'cors-2'));
    expect(refused.failure).toBeUndefined();
    expect(refused.status).toBe(400);
    expect((refused.body as { error: { code: string; fields: Record<string, string> } }).error.fields).toHaveProperty('text');
  });

  it('gives another site nothing to read: not allowed, the staff API, or a service without CORS_ORIGINS', async () => {
    const fromStranger = await callFrom(stranger, `${api}/api/v1/reports`, report('镇上垃圾站一直在烧垃圾，烟很大', 'cors-3'));
    expect(fromStranger.ok).toBe(false);
    const staffApi = await callFrom(portal, `${api}/api/v1/cases`, { headers: { authorization: 'Bearer eci_x' } });
    expect(staffApi.ok).toBe(false);
    const noCors = await callFrom(portal, `${closed}/api/v1/reports`, report('镇上垃圾站一直在烧垃圾，烟很大', 'cors-4'));
    expect(noCors.ok).toBe(false);
  });

  it('answers an allowed preflight 204 with what the API takes, and any other OPTIONS 405 as without CORS', async () => {
    const preflight = await fetch(`${api}/api/v1/reports`, {
      method: 'OPTIONS',
      headers: { origin: portal, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,idempotency-key' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(portal);
    expect(preflight.headers.get('access-control-allow-methods')).toBe('GET,HEAD,POST');
    expect(preflight.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('idempotency-key');

    for (const [url, origin] of [[api, stranger], [closed, portal]] as const) {
      const other = await fetch(`${url}/api/v1/reports`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST' } });
      expect(other.status).toBe(405);
      expect(other.headers.get('allow')).toBe('POST');
      expect(other.headers.get('access-control-allow-origin')).toBeNull();
    }
  });
});

describe('CORS_ORIGINS', () => {
  it('is none by default, takes origins as browsers send them, or * for any', () => {
    expect(parseEnv({}).CORS_ORIGINS).toEqual([]);
    expect(parseEnv({ CORS_ORIGINS: 'https://Portal.example.gov.cn/, http://127.0.0.1:8080' }).CORS_ORIGINS).toEqual([
      'https://portal.example.gov.cn',
      'http://127.0.0.1:8080',
    ]);
    expect(parseEnv({ CORS_ORIGINS: '*' }).CORS_ORIGINS).toBe('*');
  });

  it('refuses what is no origin, naming the entry', () => {
    for (const bad of ['https://portal.example/report', 'portal.example', 'ftp://portal.example', 'https://portal.example?x=1']) {
      let error: unknown;
      try {
        parseEnv({ CORS_ORIGINS: bad });
      } catch (err) {
        error = err;
      }
      expect(error, bad).toBeInstanceOf(EnvError);
      const problem = (error as EnvError).problems.find((p) => p.variable === 'CORS_ORIGINS');
      expect(problem?.message).toContain(`"${bad}" is not an origin`);
    }
  });
});

import { describe, expect, it } from 'vitest';
import { newPage } from './browser.js';
import { startTestService, testEnv } from './harness.js';

describe('page assets', () => {
  it('serves the listed scripts and styles from the service, with validators, and nothing else', async () => {
    const service = await startTestService(testEnv('assets'), 'api');
    const res = await fetch(`${service.url}/assets/echarts.min.js`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/javascript/);
    const etag = res.headers.get('etag');
    expect(etag).toBeTruthy();
    expect((await res.text()).length).toBeGreaterThan(100_000);

    const again = await fetch(`${service.url}/assets/echarts.min.js`, { headers: { 'If-None-Match': etag ?? '' } });
    expect(again.status).toBe(304);

    for (const name of ['app.js', 'app.css', 'leaflet.js', 'leaflet.css', 'images/marker-icon.png']) {
      expect((await fetch(`${service.url}/assets/${name}`)).status, name).toBe(200);
    }
    for (const name of ['../package.json', '%2e%2e/package.json', 'echarts.js', 'nothing.css']) {
      expect((await fetch(`${service.url}/assets/${name}`)).status, name).toBe(404);
    }
  });

  it('shows errors on pages as HTML in the visitor language, and as JSON to API clients', async () => {
    const service = await startTestService(testEnv('assets-errors'), 'api');
    const { page, context } = await newPage();
    const zh = await page.goto(`${service.url}/no-such-page`);
    expect(zh?.status()).toBe(404);
    expect(await page.textContent('h1')).toBe('页面不存在');
    // The stylesheet came from the service and applies: the header has the accent colour.
    expect(await page.evaluate("getComputedStyle(document.querySelector('header.site')).backgroundColor")).toBe('rgb(11, 79, 138)');
    await page.click('text=English');
    expect(await page.textContent('h1')).toBe('Page not found');
    await context.close();

    const api = await fetch(`${service.url}/api/v1/track/NOPE`, { headers: { accept: 'text/html' } });
    expect(api.status).toBe(404);
    expect(api.headers.get('content-type')).toMatch(/json/);
    const plain = await fetch(`${service.url}/no-such-page`);
    expect(((await plain.json()) as { error: { code: string } }).error.code).toBe('not_found');
  });

  it('answers a form post whose body is not a form with 400 on every page, token in the header or not', async () => {
    const service = await startTestService(testEnv('assets-forms'), 'api');
    const first = await fetch(`${service.url}/signin`, { headers: { accept: 'text/html' } });
    const token = /csrf=([^;]+)/.exec(first.headers.get('set-cookie') ?? '')?.[1];
    expect(token).toBeTruthy();
    for (const path of ['/signin', '/console', '/inbox/cases/x/accept', '/desk/cases/x/route', '/']) {
      for (const headers of [{ 'x-csrf-token': token! }, {}] as Array<Record<string, string>>) {
        const res = await fetch(`${service.url}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'multipart/form-data; boundary=zzz', cookie: `csrf=${token}`, ...headers },
          body: 'this is not multipart',
        });
        expect(res.status, `${path} ${JSON.stringify(headers)}`).toBe(400);
        expect(((await res.json()) as { error: { code: string } }).error.code).toBe('malformed_body');
      }
    }
  });
});

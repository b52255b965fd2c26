import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { postSignedWebhook, signWebhook, SIGNATURE_HEADER, TIMESTAMP_HEADER, WebhookError } from '../queues/processors/webhook.js';
import { onCleanup } from './harness.js';

/**
 * A bureau's webhook URL that redirects (http to https, a moved endpoint):
 * the assignment must reach the new address as the same signed POST, or the
 * delivery fail visibly — never turn into a GET without the assignment that
 * a server answering 200 would make look delivered.
 */

interface Seen {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  raw: string;
}

/** A server answering each request with what `answer` gives for its path, recording every request. */
async function server(answer: (path: string) => { status: number; location?: string }, host = '127.0.0.1'): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const s: Server = createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (raw += chunk));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, raw });
      const { status, location } = answer(req.url ?? '');
      res.writeHead(status, location ? { location } : {}).end();
    });
  });
  await new Promise<void>((resolve) => s.listen(0, host, resolve));
  onCleanup(() => new Promise<void>((resolve) => s.close(() => resolve())));
  return { url: `http://${host}:${(s.address() as AddressInfo).port}`, seen };
}

const SECRET = 'bureau-secret-0123456789abcdef';
const BODY = JSON.stringify({ caseId: 'c-1', text: '河里有死鱼' });

describe('a signed webhook POST to a URL that redirects', () => {
  it('follows a 307 or 308 with the same signed POST on the same host', async () => {
    const target = await server(() => ({ status: 200 }));
    for (const status of [307, 308]) {
      const moved = await server((path) => (path === '/old' ? { status, location: '/new' } : path === '/new' ? { status, location: `${target.url}/epb` } : { status: 404 }));
      await postSignedWebhook(fetch, { url: `${moved.url}/old`, secret: SECRET, deliveryId: `d-${status}` }, BODY);
      expect(moved.seen.map((r) => [r.method, r.path])).toEqual([['POST', '/old'], ['POST', '/new']]);
      const arrived = target.seen.at(-1)!;
      expect([arrived.method, arrived.path, arrived.raw]).toEqual(['POST', '/epb', BODY]);
      const timestamp = String(arrived.headers[TIMESTAMP_HEADER.toLowerCase()]);
      expect(arrived.headers[SIGNATURE_HEADER.toLowerCase()]).toBe(signWebhook(SECRET, timestamp, BODY));
    }
  });

  it('fails for good on a 307 or 308 to another host, naming it, and sends nothing there', async () => {
    // Another loopback address: another host as far as the bureau's URL says.
    const elsewhere = await server(() => ({ status: 200 }), '127.0.0.2');
    const moved = await server(() => ({ status: 307, location: `${elsewhere.url}/collect` }));
    const error = await postSignedWebhook(fetch, { url: `${moved.url}/epb`, secret: SECRET, deliveryId: 'd-away' }, BODY).then(
      () => null,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(WebhookError);
    expect((error as WebhookError).retryable).toBe(false);
    expect((error as WebhookError).message).toBe(
      `HTTP 307: the webhook URL redirects to another host or to plain http (${elsewhere.url}/collect), where the assignment is not sent; set that address as the bureau's webhook`,
    );
    expect(elsewhere.seen).toEqual([]);
  });

  it('fails for good on a 301, 302 or 303, naming where it leads, and sends nothing there', async () => {
    const target = await server(() => ({ status: 200 }));
    for (const status of [301, 302, 303]) {
      const moved = await server(() => ({ status, location: `${target.url}/epb` }));
      const error = await postSignedWebhook(fetch, { url: `${moved.url}/epb`, secret: SECRET, deliveryId: `d-${status}` }, BODY).then(
        () => null,
        (err: unknown) => err,
      );
      expect(error).toBeInstanceOf(WebhookError);
      expect((error as WebhookError).retryable).toBe(false);
      expect((error as WebhookError).message).toBe(
        `HTTP ${status}: the webhook URL redirects to ${target.url}/epb, where a POST is not sent again; set that address as the bureau's webhook`,
      );
    }
    expect(target.seen).toEqual([]);
  });

  it('gives up after three redirects', async () => {
    const loop = await server((path) => ({ status: 308, location: path === '/a' ? '/b' : '/a' }));
    await expect(postSignedWebhook(fetch, { url: `${loop.url}/a`, secret: SECRET, deliveryId: 'd-loop' }, BODY)).rejects.toThrow(
      `HTTP 308: more than 3 redirects (last to ${loop.url}/a)`,
    );
    expect(loop.seen).toHaveLength(4);
  });
});

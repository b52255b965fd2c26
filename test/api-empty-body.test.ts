import { connect } from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ManualClock } from '../src/clock.js';
import { bodyOf } from './harness.js';
import { client, json, seedCase, startWorkflowService, type Staff, type TestService } from './workflow-helpers.js';

type ErrorBody = { error: { code: string; fields?: Record<string, string> } };

/**
 * README: signing for, a redelivery and an extension's approval take no body. A client that says its body is JSON
 * and sends none (`curl -X POST -H 'content-type: application/json'`, an HTTP library that always sets the header)
 * sends no body: the action is done as if it had sent `{}`, not refused as a malformed body.
 */
describe('staff actions sent as JSON with an empty body', () => {
  let service: TestService;
  let clock: ManualClock;
  let staff: Staff;
  beforeAll(async () => {
    ({ service, clock, staff } = await startWorkflowService('emptybody', {}));
  });

  /** The ways a client sends nothing while naming JSON: Content-Length 0, an empty chunked body, no body at all. */
  const senders: Array<[string, (token: string, path: string) => Promise<Response>]> = [
    [
      'Content-Length: 0',
      (token, path) => fetch(`${service.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '' }),
    ],
    [
      'an empty chunked body',
      (token, path) =>
        fetch(`${service.url}${path}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json; charset=utf-8' },
          body: new ReadableStream<Uint8Array>({ start: (c) => c.close() }),
          duplex: 'half',
        } as RequestInit),
    ],
    [
      'no body and no Content-Length',
      (token, path) =>
        new Promise<Response>((resolve, reject) => {
          // Neither Content-Length nor Transfer-Encoding: a request without a body, as HTTP/1.1 frames it.
          const { hostname, port } = new URL(service.url);
          const socket = connect(Number(port), hostname, () => {
            socket.end(`POST ${path} HTTP/1.1\r\nHost: ${hostname}\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n`);
          });
          const chunks: Buffer[] = [];
          socket.on('data', (d: Buffer) => chunks.push(d));
          socket.on('error', reject);
          socket.on('close', () => {
            const raw = Buffer.concat(chunks).toString('utf8');
            const [head = '', ...rest] = raw.split('\r\n\r\n');
            const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
            // The answer is sent whole (Content-Length), or chunked: the JSON object is what lies between its braces.
            const text = rest.join('\r\n\r\n');
            resolve(new Response(text.slice(text.indexOf('{'), text.lastIndexOf('}') + 1), { status }));
          });
        }),
    ],
  ];

  it.each(senders)('signs for a case (%s)', async (_how, send) => {
    const { id } = await seedCase(service, clock);
    const res = await json(send(staff.epb, `/api/v1/cases/${id}/accept`));
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.assignments.find((a: { bureau: { code: string } }) => a.bureau.code === 'epb')).toMatchObject({ status: 'accepted' });
  });

  it.each(senders)("approves an extension and asks a case's and a unit's redelivery (%s)", async (_how, send) => {
    const { id } = await seedCase(service, clock);
    expect((await client(service.url, staff.epb).post(`/api/v1/cases/${id}/accept`)).status).toBe(200);
    const asked = await json(client(service.url, staff.epb).post(`/api/v1/cases/${id}/extend`, { workingDays: 3, reason: '需等待检测结果' }));
    expect(asked.status, JSON.stringify(asked.body)).toBe(201);
    const approved = await json(send(staff.dispatcher, `/api/v1/extensions/${asked.body.id}/approve`));
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);
    expect(approved.body.status).toBe('approved');
    const redeliverCase = await json(send(staff.dispatcher, `/api/v1/cases/${id}/redeliver`));
    expect(redeliverCase.status, JSON.stringify(redeliverCase.body)).toBe(200);
    const redeliverUnit = await json(send(staff.dispatcher, '/api/v1/units/epb/redeliver'));
    expect(redeliverUnit.status, JSON.stringify(redeliverUnit.body)).toBe(200);
  });

  it('names the missing fields of an action that needs a body, rather than the body', async () => {
    const { id } = await seedCase(service, clock);
    const [, send] = senders[0]!;
    const res = await send(staff.epb, `/api/v1/cases/${id}/return`);
    const body = (await bodyOf(res)) as ErrorBody;
    expect(res.status, JSON.stringify(body)).toBe(400);
    expect(body.error.code).toBe('validation_failed');
    expect(Object.keys(body.error.fields ?? {})).not.toContain('body');
    expect(Object.keys(body.error.fields ?? {}).length).toBeGreaterThan(0);
  });

  it.each(['{', ' ', 'null', '[]'])('still refuses a body that is not empty but no JSON object (%j) with a 400 naming the body', async (text) => {
    const { id } = await seedCase(service, clock);
    const res = await fetch(`${service.url}/api/v1/cases/${id}/accept`, {
      method: 'POST',
      headers: { authorization: `Bearer ${staff.epb}`, 'content-type': 'application/json' },
      body: text,
    });
    const body = (await bodyOf(res)) as ErrorBody;
    expect(res.status, JSON.stringify(body)).toBe(400);
    expect(body.error.fields).toHaveProperty('body');
    const view = await json(client(service.url, staff.epb).get(`/api/v1/cases/${id}`));
    expect(view.body.assignments.find((a: { bureau: { code: string } }) => a.bureau.code === 'epb')).toMatchObject({ status: 'pending' });
  });
});

import { beforeAll, describe, expect, it } from 'vitest';
import { openApiChecker, type OpenApiChecker } from './openapi-check.js';
import { seedCase, startWorkflowService, type Staff, type TestService } from './workflow-helpers.js';
import type { ManualClock } from '../src/clock.js';

/**
 * The refusals every API operation can answer are in the document: a 400 for a query parameter it does not take
 * (or a malformed path parameter), and, for a JSON body, a 415 for another content type. Generated clients
 * read the document to know which answers to expect.
 */
describe('refusals the OpenAPI document describes', () => {
  let service: TestService;
  let clock: ManualClock;
  let staff: Staff;
  let openapi: OpenApiChecker;
  beforeAll(async () => {
    ({ service, clock, staff } = await startWorkflowService('oarefusals', {}));
    openapi = await openApiChecker(service.url);
  });

  const send = (method: string, path: string, token: string | null, init: RequestInit = {}) =>
    fetch(`${service.url}${path}`, { method, ...init, headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(init.headers as Record<string, string>) } });

  it('documents the 400 of a query parameter or path parameter on operations that declare none', async () => {
    const { id } = await seedCase(service, clock);
    const problems: string[] = [];
    for (const path of ['/api/v1/me?zzz=1', `/api/v1/cases/${id}?zzz=1`, `/api/v1/cases/${'x'.repeat(65)}`, `/api/v1/cases/${id}/photos/${'x'.repeat(65)}`]) {
      const res = await send('GET', path, staff.dispatcher);
      expect(res.status, path).toBe(400);
      problems.push(...(await openapi.check('GET', res.url, res)));
    }
    expect(problems).toEqual([]);
  });

  it('documents the 415 of a JSON operation sent another content type', async () => {
    const { id, trackingCode } = await seedCase(service, clock);
    const text = { headers: { 'content-type': 'text/plain' }, body: 'x' };
    const problems: string[] = [];
    for (const [path, token] of [
      [`/api/v1/track/${trackingCode}/feedback`, null],
      [`/api/v1/cases/${id}/extend`, staff.epb],
      [`/api/v1/cases/${id}/route`, staff.dispatcher],
      [`/api/v1/cases/${id}/supervise`, staff.dispatcher],
      ['/api/v1/units/epb/redeliver', staff.dispatcher],
    ] as const) {
      const res = await send('POST', path, token, text);
      expect(res.status, path).toBe(415);
      problems.push(...(await openapi.check('POST', res.url, res)));
    }
    expect(problems).toEqual([]);
  });
});

import { beforeAll, describe, expect, it } from 'vitest';
import { findCase } from '../db/repositories/cases.repository.js';
import { createProcessors, type Processors } from '../queues/processors/index.js';
import { ManualClock } from '../src/clock.js';
import { processorDeps } from '../src/deps.js';
import { client, json, seedCase, startWorkflowService, type Staff, type TestService } from './workflow-helpers.js';

// Tue 2026-12-01 10:00 Beijing: sign-for by Wed 12-02 10:00.
const START = '2026-12-01T02:00:00.000Z';

describe('releasing the only late unit ends the case being overdue', () => {
  let service: TestService;
  let clock: ManualClock;
  let processors: Processors;
  let tok: Staff;

  beforeAll(async () => {
    ({ service, clock, staff: tok } = await startWorkflowService('release-overdue', {}, { role: 'api' }));
    clock.set(START);
    processors = createProcessors(processorDeps(service.deps));
  });

  it('clears the overdue mark when the dispatcher releases the co-handler that missed its sign-for deadline', async () => {
    const c = await seedCase(service, clock, { assignments: [{ unit: 'epb', role: 'lead' }, { unit: 'econ', role: 'co' }], jurisdiction: null });
    clock.set('2026-12-01T03:00:00.000Z');
    expect((await json(client(service.url, tok.epb).post(`/api/v1/cases/${c.id}/accept`))).status).toBe(200);
    // econ never signs: overdue at Wed 12-02 10:00.
    clock.set('2026-12-02T02:00:00.000Z');
    expect(await processors.deadline({ caseId: c.id, at: clock.now().toISOString() }, { jobId: 't', attempt: 1, maxAttempts: 1 })).toBe('overdue: econ sign');
    expect((await findCase(service.deps.db, c.id))!.overdue).toBe(true);

    clock.set('2026-12-02T03:00:00.000Z');
    const released = await json(client(service.url, tok.dispatcher).post(`/api/v1/cases/${c.id}/release`, { unit: 'econ', reason: '经信委不涉及' }));
    expect(released.status).toBe(200);
    // Nobody owes a missed stage any more: the lead signed in time and its reply is not due until 12-22.
    const after = (await findCase(service.deps.db, c.id))!;
    expect(after.status).toBe('accepted');
    expect(after.overdue).toBe(false);
    const list = await json(client(service.url, tok.dispatcher).get('/api/v1/cases?overdue=true'));
    expect(list.status).toBe(200);
    expect(JSON.stringify(list.body)).not.toContain(c.id);
  });

  it('clears the overdue mark of a late case handed to 12345 or merged into another (its units released)', async () => {
    clock.set('2026-12-07T02:00:00.000Z'); // Mon: sign-for by Tue 12-08 10:00
    const transferred = await seedCase(service, clock);
    const merged = await seedCase(service, clock);
    const target = await seedCase(service, clock);
    clock.set('2026-12-08T02:00:00.000Z');
    for (const id of [transferred.id, merged.id]) {
      expect(await processors.deadline({ caseId: id, at: clock.now().toISOString() }, { jobId: 't', attempt: 1, maxAttempts: 1 })).toContain('overdue: epb sign');
      expect((await findCase(service.deps.db, id))!.overdue).toBe(true);
    }
    clock.set('2026-12-08T03:00:00.000Z');
    const dispatcher = client(service.url, tok.dispatcher);
    expect((await json(dispatcher.post(`/api/v1/cases/${transferred.id}/transfer`, { reason: '非环境类诉求' }))).status).toBe(200);
    expect((await json(dispatcher.post(`/api/v1/cases/${merged.id}/merge`, { into: target.id, reason: '重复举报' }))).status).toBe(200);
    expect((await findCase(service.deps.db, transferred.id))!.overdue).toBe(false);
    expect((await findCase(service.deps.db, merged.id))!.overdue).toBe(false);
    const list = await json(dispatcher.get('/api/v1/cases?overdue=true'));
    expect(JSON.stringify(list.body)).not.toContain(transferred.id);
    expect(JSON.stringify(list.body)).not.toContain(merged.id);
  });
});

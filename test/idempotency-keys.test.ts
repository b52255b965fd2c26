import { beforeAll, describe, expect, it } from 'vitest';
import { listEvents } from '../db/repositories/events.repository.js';
import { findIdempotencyKey, KEEP_IDEMPOTENCY_KEYS_MS, scopedKey } from '../db/repositories/idempotency.repository.js';
import { createReconciler } from '../queues/reconciler.js';
import type { ManualClock } from '../src/clock.js';
import { createLogger } from '../src/logger.js';
import { createPgDatabase, postJson } from './harness.js';
import { seedCase, startWorkflowService, T0, type Staff, type TestService } from './workflow-helpers.js';

const HOUR = 3_600_000;
const REPORT = '兴隆办事处盐下村电镀厂晚上偷排废水，沟里全是黑水';

describe.each([
  ['SQLite', async () => ({})],
  ['PostgreSQL', async () => ({ DATABASE_URL: await createPgDatabase('idemkeys') })],
])('idempotency keys of submissions on %s', (_engine, dbEnv) => {
  let service: TestService;
  let clock: ManualClock;
  let staff: Staff;

  beforeAll(async () => {
    // 'api': no reconciler of the service's own; the test runs its passes at the clock's time.
    ({ service, clock, staff } = await startWorkflowService('idemkeys', await dbEnv(), { role: 'api' }));
  });

  /** One pass of the Node reconciler at the clock's time: the keys it deleted. */
  async function reconcilerPass(): Promise<number> {
    const reconciler = createReconciler({ db: service.deps.db, transport: service.deps.transport, clock, logger: createLogger('silent'), intervalMs: HOUR, graceMs: HOUR });
    try {
      return (await reconciler.runOnce()).idempotencyKeysPruned;
    } finally {
      await reconciler.stop();
    }
  }

  const at = (ms: number) => new Date(Date.parse(T0) + ms).toISOString();

  it("replays a report sent again with its Idempotency-Key for two days; once the reconciler deleted the key, the same key makes a new case", async () => {
    clock.set(T0);
    const send = () => postJson(`${service.url}/api/v1/reports`, { text: REPORT, anonymous: true }, { 'Idempotency-Key': 'phone-app-7f3a' });
    const first = await send();
    expect(first.status, await first.clone().text()).toBe(202);
    const made = (await first.json()) as { id: string };

    // A minute short of two days: the pass keeps the key, and the retry gets the case it made.
    clock.set(at(KEEP_IDEMPOTENCY_KEYS_MS - 60_000));
    expect(await reconcilerPass()).toBe(0);
    const retried = await send();
    expect(retried.status).toBe(202);
    expect(retried.headers.get('idempotent-replayed')).toBe('true');
    expect(((await retried.json()) as { id: string }).id).toBe(made.id);

    // A minute past: the pass deletes it, and the same key with the same report is a new one.
    clock.set(at(KEEP_IDEMPOTENCY_KEYS_MS + 60_000));
    expect(await reconcilerPass()).toBe(1);
    expect(await findIdempotencyKey(service.deps.db, scopedKey('reports', 'phone-app-7f3a'))).toBeNull();
    const late = await send();
    expect(late.status).toBe(202);
    expect(late.headers.get('idempotent-replayed')).toBeNull();
    const again = (await late.json()) as { id: string };
    expect(again.id).not.toBe(made.id);
    // Its own retries replay the new case.
    const retriedAgain = await send();
    expect(retriedAgain.headers.get('idempotent-replayed')).toBe('true');
    expect(((await retriedAgain.json()) as { id: string }).id).toBe(again.id);
  });

  it('replays a 督办 sent again with its Idempotency-Key for two days; once the reconciler deleted the key, the same key is a second 督办', async () => {
    clock.set(at(10 * 24 * HOUR));
    const { id } = await seedCase(service, clock);
    const start = clock.now().getTime();
    const supervise = (note: string) =>
      postJson(`${service.url}/api/v1/cases/${id}/supervise`, { note }, { authorization: `Bearer ${staff.dispatcher}`, 'idempotency-key': 'desk-supervise-1' });
    const supervised = async () => (await listEvents(service.deps.db, id)).filter((e) => e.kind === 'supervised').length;
    const first = await supervise('请立即核查电镀厂排污');
    expect(first.status, await first.clone().text()).toBe(200);
    expect(first.headers.get('idempotent-replayed')).toBeNull();

    clock.set(new Date(start + KEEP_IDEMPOTENCY_KEYS_MS - 60_000).toISOString());
    await reconcilerPass();
    const retried = await supervise('请立即核查电镀厂排污');
    expect(retried.status).toBe(200);
    expect(retried.headers.get('idempotent-replayed')).toBe('true');
    expect((await supervise('另一条督办')).status).toBe(409);
    expect(await supervised()).toBe(1);

    clock.set(new Date(start + KEEP_IDEMPOTENCY_KEYS_MS + 60_000).toISOString());
    expect(await reconcilerPass()).toBeGreaterThanOrEqual(1);
    const late = await supervise('请立即核查电镀厂排污');
    expect(late.status, await late.clone().text()).toBe(200);
    expect(late.headers.get('idempotent-replayed')).toBeNull();
    expect(await supervised()).toBe(2);
  });
});

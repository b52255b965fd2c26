import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { listAssignments } from '../db/repositories/assignments.repository.js';
import { findCase } from '../db/repositories/cases.repository.js';
import { caseReference } from '../src/domain/case.js';
import { listEvents } from '../db/repositories/events.repository.js';
import { issueToken } from '../db/repositories/tokens.repository.js';
import { createUser } from '../db/repositories/users.repository.js';
import { createProcessors, type Processors } from '../queues/processors/index.js';
import { unitChannels } from '../queues/processors/unit-notice.js';
import { ManualClock } from '../src/clock.js';
import { processorDeps } from '../src/deps.js';
import { DEFAULT_DISTRICT_PATH } from '../src/district/district-file.js';
import { buildDistrict, type DistrictFile } from '../src/district/district.schema.js';
import { createRuleClassifier } from '../src/pipeline/rule-classifier.js';
import type { Service } from '../src/runtime.js';
import { wakeUpsFor } from '../src/workflow/deadline-check.js';
import { redeliverFailed } from '../src/workflow/redeliver.js';
import { bureauServer as startBureauServer, type ReceivedPost } from './bureau-server.js';
import { createPgDatabase, postJson, startTestService, waitFor } from './harness.js';
import { startTelegramEmulator, type TelegramEmulator } from './telegram-emulator.js';
import { TOKEN, telegramEnv } from './telegram-helpers.js';

const SECRET = 'unit-notice-webhook-secret-0123';
const AGRI_GROUP = -100_555_001;
// A pig farm in 回龙圩镇, with the reporter's phone in the text: livestock_waste → lead agri, co epb, jurisdiction huilongxu.
const REPORT = '回龙圩镇朱家观村有个养猪场把猪粪直接排到河里，臭得很，我电话13912345678';

type Received = ReceivedPost<{ event: string; notificationId: string; notice: Record<string, unknown>; case: { reference: string; trackingCode?: string }; caseUrl: string; unit: { code: string } }>;

/** The bureaus' own servers: agri takes everything, epb's refuses (400); a server that is down answers 503. */
const bureauServer = () => startBureauServer<Received['body']>((path) => (path === '/reject' ? 400 : path === '/down' ? 503 : 204));

function district(base: string) {
  const file = JSON.parse(readFileSync(DEFAULT_DISTRICT_PATH, 'utf8')) as DistrictFile;
  for (const b of file.bureaus) {
    if (b.code === 'agri') Object.assign(b, { webhook: { url: `${base}/agri` }, telegramChatId: AGRI_GROUP });
    if (b.code === 'epb') b.webhook = { url: `${base}/reject` };
  }
  return buildDistrict(file);
}

/** The chat id of the next test's agri group. */
let nextGroup = AGRI_GROUP - 1;

const signed = (r: Received) =>
  r.headers['x-intake-signature'] === `sha256=${createHmac('sha256', SECRET).update(`${String(r.headers['x-intake-timestamp'])}.${r.raw}`).digest('hex')}`;

let emu: TelegramEmulator;
beforeAll(async () => {
  emu = await startTelegramEmulator(TOKEN);
});

describe('which channels a unit notice takes', () => {
  const d = district('http://127.0.0.1:1');
  const opts = { webhookSecret: SECRET, telegram: true };
  it('is every channel the unit has, except the group for a reopened case (which gets a new post of its round)', () => {
    expect(unitChannels(d.units.get('agri')!, 'reminder', opts)).toEqual(['webhook', 'telegram']);
    expect(unitChannels(d.units.get('agri')!, 'reopened', opts)).toEqual(['webhook']);
    // A released unit's group reads it in the post of the case.
    expect(unitChannels(d.units.get('agri')!, 'released', opts)).toEqual(['webhook']);
    expect(unitChannels(d.units.get('agri')!, 'supervision', { ...opts, telegram: false })).toEqual(['webhook']);
    expect(unitChannels(d.units.get('agri')!, 'supervision', { ...opts, webhookSecret: undefined })).toEqual(['telegram']);
    expect(unitChannels(d.units.get('huilongxu')!, 'supervision', opts)).toEqual([]);
  });
});

describe.each([
  ['SQLite', async () => ({})],
  ['PostgreSQL', async () => ({ DATABASE_URL: await createPgDatabase('unit_notices') })],
])('催办 and 督办 reach the bureaus on %s', (_engine, dbEnv) => {
  let service: Service & { url: string };
  let bureaus: Awaited<ReturnType<typeof bureauServer>>;
  let clock: ManualClock;
  let processors: Processors;
  let d: ReturnType<typeof district>;
  // Each test's agri group is a new one: the service keeps to Telegram's limit of messages to one group (20, then one
  // every 3 s), which the file's tests, all posting to one group, would otherwise wait out one after another.
  let agriGroup = AGRI_GROUP;
  beforeEach(() => {
    agriGroup = nextGroup--;
    d.units.get('agri')!.telegramChatId = agriGroup;
  });

  beforeAll(async () => {
    bureaus = await bureauServer();
    clock = new ManualClock('2026-11-02T02:00:00.000Z');
    d = district(bureaus.url);
    // The API alone: the test runs each job itself, in order.
    service = await startTestService(telegramEnv(emu, 'unit-notices', { WEBHOOK_SECRET: SECRET, ...(await dbEnv()) }), 'api', {
      clock,
      district: d,
      classifier: createRuleClassifier(d),
    });
    processors = createProcessors(processorDeps(service.deps));
  });
  afterAll(() => new Promise<void>((r) => bureaus.server.close(() => r())));

  const ctx = (attempt = 1) => ({ jobId: 'test', attempt, maxAttempts: 8 });

  async function unitNotices(caseId: string, kind: string) {
    const rows = await service.deps.db
      .selectFrom('notifications')
      .select(['id', 'audience', 'status', 'channels'])
      .where('case_id', '=', caseId)
      .where('kind', '=', kind)
      .where('audience', 'like', 'unit:%')
      .execute();
    return Object.fromEntries(rows.map((r) => [r.audience.slice(5), r]));
  }
  const notify = (id: string, attempt = 1) => processors.notify({ notificationId: id }, ctx(attempt));

  /** A new staff account's bearer header. */
  async function account(role: 'bureau' | 'dispatcher', unitCode: string | null, name = `${role}-${unitCode ?? 'desk'}`) {
    const at = clock.now().toISOString();
    const user = await createUser(service.deps.db, { name, role, unitCode, at });
    return { authorization: `Bearer ${(await issueToken(service.deps.db, { userId: user.id, label: null, at })).token}` };
  }

  /** An anonymous report of manure in a river (livestock_waste: agri leads), through its intake job. */
  async function routedReport(): Promise<{ id: string; trackingCode: string }> {
    const res = await postJson(`${service.url}/api/v1/reports`, { text: REPORT, anonymous: true });
    const created = (await res.json()) as { id: string; trackingCode: string };
    await processors.intake({ caseId: created.id }, ctx());
    return created;
  }
  const groupMessages = () => emu.toChat(agriGroup).filter((c) => c.method === 'sendMessage');

  /** agri's group post of the case (its row). */
  const agriPost = (id: string) =>
    service.deps.db.selectFrom('telegram_bureau_posts').selectAll().where('case_id', '=', id).where('unit_code', '=', 'agri').executeTakeFirstOrThrow();

  /** A dispatcher routes the case again, giving agri the case anew: the job of the new post its group is owed. */
  async function reroute(desk: Record<string, string>, id: string, body: Record<string, unknown>) {
    const routed = await postJson(`${service.url}/api/v1/cases/${id}/route`, body, desk);
    expect(routed.status, await routed.clone().text()).toBe(200);
    const { renewed_at: renewedAt } = await agriPost(id);
    expect(renewedAt).not.toBeNull();
    return { caseId: id, unit: 'agri', round: 1, again: true, at: Date.parse(renewedAt!) };
  }

  /**
   * A case epb leads and agri co-handles, agri's post of that in its group: re-routed before agri's group was posted
   * the case as its lead, so the post made is the co-handler's.
   */
  async function coHandledByAgri(desk: Record<string, string>) {
    const created = await routedReport();
    await assignmentTaken(created.id);
    const job = await reroute(desk, created.id, { type: 'illegal_discharge', co: ['agri'], reason: '电镀厂排污，农业委协办' });
    expect(await processors.telegram_post(job, ctx())).toBe('posted to the agri group');
    return created;
  }

  /**
   * The unit's server took the case's assignment, which a notice to its webhook waits for: agri's, and epb's, which
   * refuses what it is sent now, before it began to (its request goes to another path of the bureaus' server).
   */
  async function assignmentTaken(caseId: string, unit: 'agri' | 'epb' = 'agri') {
    const deps = unit === 'agri' ? processorDeps(service.deps) : processorDeps(service.deps, (input, init) => fetch(String(input).replace('/reject', '/epb-earlier'), init));
    expect(await createProcessors(deps).dispatch({ caseId, unit, channel: 'webhook' }, ctx())).toBe(`delivered to ${unit}`);
  }
  /** agri's group got the case's post, which a notice to the group waits for. */
  async function postedToGroup(caseId: string) {
    expect(await processors.telegram_post({ caseId, unit: 'agri', round: 1 }, ctx())).toBe('posted to the agri group');
  }
  /** A routed report whose assignment agri's server took, and its group's post. */
  async function deliveredReport(): Promise<{ id: string; trackingCode: string }> {
    const created = await routedReport();
    await assignmentTaken(created.id);
    await postedToGroup(created.id);
    return created;
  }

  it('sends each notice once through every channel of the unit, records what failed, and skips what is no longer due', async () => {
    const res = await postJson(`${service.url}/api/v1/reports`, { text: REPORT, anonymous: true });
    expect(res.status).toBe(202);
    const { id, trackingCode } = (await res.json()) as { id: string; trackingCode: string };
    const reference = caseReference(id);
    expect(await processors.intake({ caseId: id }, ctx())).toBe('dispatch: livestock_waste');
    await assignmentTaken(id, 'agri');
    await assignmentTaken(id, 'epb');
    expect(await processors.telegram_post({ caseId: id, unit: 'agri', round: 1 }, ctx())).toBe('posted to the agri group');
    const post = groupMessages().at(-1)!;
    const postId = emu.calls.indexOf(post);
    const postMessageId = (await service.deps.db.selectFrom('telegram_bureau_posts').select('message_id').where('case_id', '=', id).executeTakeFirstOrThrow()).message_id;
    const [remind, due, supervise] = wakeUpsFor(service.deps.district, service.deps.calendar, (await listAssignments(service.deps.db, id))[0]!.deadlines);
    expect([remind, due, supervise]).toEqual(['2026-11-02T22:00:00.000Z', '2026-11-03T02:00:00.000Z', '2026-11-05T02:00:00.000Z']);

    // 催办, 4 h before the sign-for deadline.
    clock.set(remind!);
    await processors.deadline({ caseId: id, at: remind! }, ctx());
    const reminders = await unitNotices(id, 'reminder');
    expect(Object.keys(reminders).sort()).toEqual(['agri', 'epb', 'huilongxu']);

    expect(await notify(reminders.agri!.id)).toBe('reminder sent to agri by webhook and telegram');
    // After the assignment (case.assigned), the notice.
    const toAgri = () => bureaus.received.filter((r) => r.path === '/agri' && r.body.case.reference === reference);
    expect(toAgri().map((r) => r.body.event)).toEqual(['case.assigned', 'case.reminder']);
    const hook = toAgri().slice(1);
    expect(signed(hook[0]!)).toBe(true);
    expect(hook[0]!.headers['x-intake-delivery']).toBe(reminders.agri!.id);
    expect(hook[0]!.body).toMatchObject({
      event: 'case.reminder',
      notificationId: reminders.agri!.id,
      notice: { kind: 'reminder', unit: 'agri', stage: 'sign', due: '2026-11-03T02:00:00.000Z', round: 1 },
      case: { id, reference, status: 'dispatched', type: { code: 'livestock_waste' } },
      unit: { code: 'agri' },
      caseUrl: `http://intake.test/inbox/cases/${id}`,
    });
    // A notice carries no word of the report, let alone the reporter's phone; nor the tracking code, with which the unit could rate its own answer.
    expect(hook[0]!.raw).not.toContain(trackingCode);
    expect(hook[0]!.raw).not.toContain('13912345678');
    expect(hook[0]!.raw).not.toContain('养猪场');
    const reminderMessage = groupMessages().at(-1)!;
    expect(emu.calls.indexOf(reminderMessage)).toBeGreaterThan(postId);
    expect(reminderMessage.body.text).toBe(`⏰【催办】${reference}：签收期限 2026-11-03 10:00（北京时间） 即将到期，请尽快签收。`);
    // In reply to the group's post of the case.
    expect(reminderMessage.body.reply_parameters).toMatchObject({ message_id: Number(postMessageId) });
    expect((await unitNotices(id, 'reminder')).agri).toMatchObject({ status: 'sent', channels: JSON.stringify({ webhook: 'delivered', telegram: 'delivered' }) });
    // The same job again sends nothing.
    expect(await notify(reminders.agri!.id)).toBe('skipped: already sent');
    expect(toAgri()).toHaveLength(2);

    // epb's server refuses the notice: no retry helps, the case records it.
    expect(await notify(reminders.epb!.id)).toBe('failed by webhook');
    expect((await unitNotices(id, 'reminder')).epb).toMatchObject({ status: 'failed', channels: JSON.stringify({ webhook: 'failed' }) });
    const failed = (await listEvents(service.deps.db, id)).filter((e) => e.kind === 'notification_failed');
    expect(failed.map((e) => e.data)).toEqual([{ audience: 'unit:epb', channel: 'webhook', notice: 'reminder', attempts: 1, error: 'HTTP 400' }]);
    // Sent again on request: pending once more, and tried through the channel that failed.
    const again = await redeliverFailed(service.deps, { type: 'staff', id: 'u1', role: 'dispatcher' }, { caseId: id });
    expect(again).toEqual({ cases: 1, deliveries: 0, posts: 0, notifications: 1, queued: 1 });
    expect((await unitNotices(id, 'reminder')).epb).toMatchObject({ status: 'pending', channels: null });
    const rejected = bureaus.received.filter((r) => r.path === '/reject').length;
    expect(await notify(reminders.epb!.id)).toBe('failed by webhook');
    expect(bureaus.received.filter((r) => r.path === '/reject')).toHaveLength(rejected + 1);
    expect((await listEvents(service.deps.db, id)).filter((e) => e.kind === 'notification_failed')).toHaveLength(2);
    // The town office has neither channel: its reminder stays in the case's history.
    expect(await notify(reminders.huilongxu!.id)).toBe('skipped: huilongxu has no webhook or Telegram group (the case history shows the reminder)');
    expect((await unitNotices(id, 'reminder')).huilongxu).toMatchObject({ status: 'skipped' });

    // The deadline passes unsigned; 2 working days later, 督办. epb signs for it just before its notice goes out.
    clock.set(due!);
    await processors.deadline({ caseId: id, at: due! }, ctx());
    clock.set(supervise!);
    await processors.deadline({ caseId: id, at: supervise! }, ctx());
    const supervisions = await unitNotices(id, 'supervision');
    expect(Object.keys(supervisions).sort()).toEqual(['agri', 'epb', 'huilongxu']);

    // Telegram says 429 (longer than the client waits): the webhook is delivered, the group is owed.
    emu.rateLimitNext('sendMessage', 1, 60, agriGroup);
    const groupBefore = groupMessages().length;
    await expect(notify(supervisions.agri!.id, 1)).rejects.toThrow();
    expect((await unitNotices(id, 'supervision')).agri).toMatchObject({ status: 'pending', channels: JSON.stringify({ webhook: 'delivered' }) });
    // The retry sends only to the group.
    expect(await notify(supervisions.agri!.id, 2)).toBe('supervision sent to agri by webhook and telegram');
    const supervisionHooks = bureaus.received.filter((r) => r.path === '/agri' && r.body.event === 'case.supervision');
    expect(supervisionHooks).toHaveLength(1);
    expect(supervisionHooks[0]!.body.notice).toMatchObject({ stage: 'sign', due: '2026-11-03T02:00:00.000Z', workingDaysOverdue: 2 });
    const sentToGroup = groupMessages().slice(groupBefore).filter((c) => String(c.body.text).includes('督办'));
    expect(sentToGroup.map((c) => c.body.text)).toEqual([
      `⚠️【督办】${reference}：签收期限 2026-11-03 10:00（北京时间） 已过 2 个工作日仍未签收，已列入督办，请立即办理。`,
    ]);

    const epbStaff = await createUser(service.deps.db, { name: '环保局张三', role: 'bureau', unitCode: 'epb', at: supervise! });
    const { token } = await issueToken(service.deps.db, { userId: epbStaff.id, label: null, at: supervise! });
    const signedFor = await postJson(`${service.url}/api/v1/cases/${id}/accept`, {}, { authorization: `Bearer ${token}` });
    expect(signedFor.status, await signedFor.clone().text()).toBe(200);
    const epbCalls = bureaus.received.filter((r) => r.path === '/reject').length;
    expect(await notify(supervisions.epb!.id)).toBe('skipped: epb no longer owes the sign stage by 2026-11-03T02:00:00.000Z');
    expect(bureaus.received.filter((r) => r.path === '/reject')).toHaveLength(epbCalls);
  });

  it('marks a notice that one channel took and the other refused for good as failed, and sends it again only there', async () => {
    const { id } = await deliveredReport();
    const noticeId = `partial-${id}`;
    await service.deps.db
      .insertInto('notifications')
      .values({ id: noticeId, case_id: id, audience: 'unit:agri', kind: 'supervision', status: 'pending', data: JSON.stringify({ note: '请加快办理' }), created_at: clock.now().toISOString() })
      .execute();
    // The last attempt: the webhook takes it, the group answers 429 once more.
    emu.rateLimitNext('sendMessage', 1, 60, agriGroup);
    expect(await notify(noticeId, 8)).toBe('supervision sent to agri by webhook; failed by telegram');
    const row = async () => service.deps.db.selectFrom('notifications').select(['status', 'channels']).where('id', '=', noticeId).executeTakeFirstOrThrow();
    expect(await row()).toEqual({ status: 'failed', channels: JSON.stringify({ webhook: 'delivered', telegram: 'failed' }) });

    expect(await redeliverFailed(service.deps, { type: 'staff', id: 'u1', role: 'dispatcher' }, { caseId: id })).toMatchObject({ notifications: 1 });
    expect(await row()).toEqual({ status: 'pending', channels: JSON.stringify({ webhook: 'delivered' }) });
    const hooks = bureaus.received.filter((r) => r.body.notificationId === noticeId).length;
    expect(await notify(noticeId)).toBe('supervision sent to agri by webhook and telegram');
    expect(bureaus.received.filter((r) => r.body.notificationId === noticeId)).toHaveLength(hooks);
    expect(groupMessages().at(-1)!.body.text).toContain('请加快办理');
  });

  it("counts a notice's attempts in the database: a job re-created with a fresh set of the queue's attempts goes on from them, and a last attempt cut off fails it unsent", async () => {
    const { id } = await deliveredReport();
    const notice = async (tag: string) => {
      const noticeId = `${tag}-${id}`;
      await service.deps.db
        .insertInto('notifications')
        .values({ id: noticeId, case_id: id, audience: 'unit:agri', kind: 'supervision', status: 'pending', data: JSON.stringify({ note: '请加快办理' }), created_at: clock.now().toISOString() })
        .execute();
      return noticeId;
    };
    const row = (noticeId: string) => service.deps.db.selectFrom('notifications').select(['status', 'channels', 'attempts']).where('id', '=', noticeId).executeTakeFirstOrThrow();
    const failures = async () => (await listEvents(service.deps.db, id)).filter((e) => e.kind === 'notification_failed').map((e) => e.data);
    // agri's server is down: its requests reach a path answered 503.
    const down = createProcessors(processorDeps(service.deps, (input, init) => fetch(String(input).replace('/agri', '/down'), init))).notify;
    // Each run as the queue tells it after the job was re-created (its worker killed twice, or Redis lost it): attempt 1 of 3.
    const fresh = { jobId: 'test', attempt: 1, maxAttempts: 3 };

    const counted = await notice('counted');
    await expect(down({ notificationId: counted }, fresh)).rejects.toThrow('HTTP 503');
    await expect(down({ notificationId: counted }, fresh)).rejects.toThrow('HTTP 503');
    // The third run is the notice's third attempt, its last, whatever the queue's count says.
    expect(await down({ notificationId: counted }, fresh)).toBe('supervision sent to agri by telegram; failed by webhook');
    expect(await row(counted)).toEqual({ status: 'failed', channels: JSON.stringify({ telegram: 'delivered', webhook: 'failed' }), attempts: 3 });
    expect(await failures()).toEqual([{ audience: 'unit:agri', channel: 'webhook', notice: 'supervision', attempts: 3, error: 'HTTP 503' }]);

    // Two attempts failed, and the third was cut off during its request (its worker killed): the next run sends nothing.
    const cut = await notice('cut');
    await expect(down({ notificationId: cut }, fresh)).rejects.toThrow('HTTP 503');
    await expect(down({ notificationId: cut }, fresh)).rejects.toThrow('HTTP 503');
    let requested = false;
    const hung = createProcessors(
      processorDeps(service.deps, () => {
        requested = true;
        return new Promise<Response>(() => undefined);
      }),
    ).notify;
    void hung({ notificationId: cut }, { ...fresh, attempt: 3 });
    await waitFor(() => requested, { what: 'the third attempt under way' });
    const before = bureaus.received.length;
    expect(await processors.notify({ notificationId: cut }, fresh)).toBe('supervision sent to agri by telegram; failed by webhook');
    expect(bureaus.received.length).toBe(before);
    expect(await row(cut)).toMatchObject({ status: 'failed', attempts: 4 });
    expect((await failures()).at(-1)).toEqual({
      audience: 'unit:agri',
      channel: 'webhook',
      notice: 'supervision',
      attempts: 3,
      error: 'attempt 3 got no outcome: its worker stopped during it',
    });

    // Sent again on request: a fresh set of attempts.
    expect(await redeliverFailed(service.deps, { type: 'staff', id: 'u1', role: 'dispatcher' }, { caseId: id })).toMatchObject({ notifications: 2 });
    expect(await row(cut)).toMatchObject({ status: 'pending', attempts: 0 });
    expect(await processors.notify({ notificationId: cut }, fresh)).toBe('supervision sent to agri by webhook and telegram');
  });

  it("tells the lead's group of a 督办 of other units as theirs, not as its own", async () => {
    const { id } = await deliveredReport();
    const reference = caseReference(id);
    const notice = async (tag: string, units: string[]) => {
      const noticeId = `${tag}-${id}`;
      await service.deps.db
        .insertInto('notifications')
        .values({ id: noticeId, case_id: id, audience: 'unit:agri', kind: 'supervision', status: 'pending', data: JSON.stringify({ note: '请协调加快办理', units }), created_at: clock.now().toISOString() })
        .execute();
      expect(await notify(noticeId)).toBe('supervision sent to agri by webhook and telegram');
      expect(bureaus.received.find((r) => r.body.notificationId === noticeId)?.body.notice).toMatchObject({ kind: 'supervision', units });
      return groupMessages().at(-1)!.body.text as string;
    };
    // The co-handler late, the lead told: its group reads whom the dispatcher supervised.
    expect(await notice('others', ['epb', 'huilongxu'])).toBe(`ℹ️【督办知会】${reference}：调度员已对 区环保局、回龙圩镇 督办（本单位未列入督办），请牵头协调推进。督办意见：请协调加快办理`);
    expect(await notice('own', ['agri', 'epb'])).toBe(`⚠️【督办】${reference}：请协调加快办理`);
  });

  it("masks the reporter in a dispatcher's note to a unit as the unit's view of the case does", async () => {
    const noticeFor = async (body: Record<string, unknown>, tag: string) => {
      const res = await postJson(`${service.url}/api/v1/reports`, body);
      const { id } = (await res.json()) as { id: string };
      await processors.intake({ caseId: id }, ctx());
      await assignmentTaken(id);
      await postedToGroup(id);
      const noticeId = `${tag}-${id}`;
      const note = '请尽快联系举报人王五（13812345678）核实。联系人：李科长';
      await service.deps.db
        .insertInto('notifications')
        .values({ id: noticeId, case_id: id, audience: 'unit:agri', kind: 'supervision', status: 'pending', data: JSON.stringify({ note }), created_at: clock.now().toISOString() })
        .execute();
      expect(await notify(noticeId)).toBe('supervision sent to agri by webhook and telegram');
      const hook = bureaus.received.filter((r) => r.body.notificationId === noticeId);
      expect(hook).toHaveLength(1);
      return { webhook: (hook[0]!.body.notice as { note: string }).note, group: groupMessages().at(-1)!.body.text as string };
    };
    const hidden = await noticeFor({ text: REPORT, name: '王五', phone: '13812345678' }, 'hidden');
    for (const text of [hidden.webhook, hidden.group]) {
      expect(text).toContain('138****5678');
      expect(text).not.toContain('王五');
      expect(text).not.toContain('13812345678');
    }
    // Anonymous, the name given only in the text: the note that repeats it alone is masked all the same.
    const anonymous = await noticeFor({ text: `${REPORT}。我叫王五`, anonymous: true }, 'anonymous');
    for (const text of [anonymous.webhook, anonymous.group]) expect(text).not.toContain('王五');
    const shared = await noticeFor({ text: REPORT, name: '王五', phone: '13812345678', shareContact: true }, 'shared');
    // Shared: the unit has the contact in its own fields; the note reads as in its view of the case, where the
    // masking rules still apply to the words (举报人王五 is a reporter naming themself to them).
    // The official the dispatcher names by surname and title stays.
    expect(shared.webhook).toBe('请尽快联系举报人王*（138****5678）核实。联系人：李科长');
    expect(shared.group).toContain('王*（138****5678）');
  });

  it("masks in a dispatcher's note the reporters of the reports merged into the case, as the unit's view of the case does", async () => {
    const target = await deliveredReport();
    const res = await postJson(`${service.url}/api/v1/reports`, { text: `${REPORT}，又看到一次`, name: '钱多多', phone: '13712340000' });
    const duplicate = (await res.json()) as { id: string };
    await processors.intake({ caseId: duplicate.id }, ctx());
    const merged = await postJson(`${service.url}/api/v1/cases/${duplicate.id}/merge`, { into: target.id, reason: '同一养猪场' }, await account('dispatcher', null));
    expect(merged.status).toBe(200);
    const noticeId = `merged-${target.id}`;
    await service.deps.db
      .insertInto('notifications')
      .values({ id: noticeId, case_id: target.id, audience: 'unit:agri', kind: 'supervision', status: 'pending', data: JSON.stringify({ note: '请回访重复举报的钱多多，电话137 1234 0000' }), created_at: clock.now().toISOString() })
      .execute();
    expect(await notify(noticeId)).toBe('supervision sent to agri by webhook and telegram');
    const hook = bureaus.received.find((r) => r.body.notificationId === noticeId)!;
    // The case's own reporter asked not to be named: the names of its reporters show without their surname.
    expect((hook.body.notice as { note: string }).note).toBe('请回访重复举报的**，电话137****0000');
    expect(groupMessages().at(-1)!.body.text as string).toContain('请回访重复举报的**，电话137****0000');
  });

  it("masks in a dispatcher's note a reporter it names as one though no name was kept (an anonymous report merged into the case)", async () => {
    const target = await deliveredReport();
    const res = await postJson(`${service.url}/api/v1/reports`, { text: `${REPORT}，又看到一次`, anonymous: true });
    const duplicate = (await res.json()) as { id: string };
    await processors.intake({ caseId: duplicate.id }, ctx());
    const merged = await postJson(`${service.url}/api/v1/cases/${duplicate.id}/merge`, { into: target.id, reason: '同一养猪场' }, await account('dispatcher', null));
    expect(merged.status).toBe(200);
    const noticeId = `anonymous-merged-${target.id}`;
    const note = '王小明反映的也是这家猪场，请一并回访王小明。联系人：李科长';
    await service.deps.db
      .insertInto('notifications')
      .values({ id: noticeId, case_id: target.id, audience: 'unit:agri', kind: 'supervision', status: 'pending', data: JSON.stringify({ note }), created_at: clock.now().toISOString() })
      .execute();
    expect(await notify(noticeId)).toBe('supervision sent to agri by webhook and telegram');
    const hook = bureaus.received.find((r) => r.body.notificationId === noticeId)!;
    expect((hook.body.notice as { note: string }).note).toBe('**反映的也是这家猪场，请一并回访**。联系人：李科长');
    expect(groupMessages().at(-1)!.body.text as string).toContain('**反映的也是这家猪场，请一并回访**');
  });

  it('tells a unit given back a case it returned: a case.reassigned notice to its webhook, a new post with buttons to its group', async () => {
    const { id, trackingCode } = await deliveredReport();
    const first = await service.deps.db.selectFrom('telegram_bureau_posts').selectAll().where('case_id', '=', id).executeTakeFirstOrThrow();

    const returned = await postJson(`${service.url}/api/v1/cases/${id}/return`, { reason: 'not_our_remit', note: '不归农业委' }, await account('bureau', 'agri'));
    expect(returned.status, await returned.clone().text()).toBe(200);
    // The settling job (queued by the return) marks the post: run it here, as the API-only service has no worker.
    expect(await processors.telegram_post({ caseId: id, unit: 'agri', round: 1, settled: true }, ctx())).toBe('group post marked returned');
    clock.set(new Date(clock.now().getTime() + 3_600_000).toISOString());
    const routed = await postJson(`${service.url}/api/v1/cases/${id}/route`, { type: 'livestock_waste', reason: '养殖污染归农业委牵头' }, await account('dispatcher', null));
    expect(routed.status, await routed.clone().text()).toBe(200);

    const notices = await unitNotices(id, 'reassigned');
    expect(Object.keys(notices)).toEqual(['agri']);
    const hooksBefore = bureaus.received.length;
    expect(await notify(notices.agri!.id)).toBe('reassigned sent to agri by webhook');
    const hook = bureaus.received.slice(hooksBefore).filter((r) => r.path === '/agri');
    expect(hook.map((r) => r.body.event)).toEqual(['case.reassigned']);
    const agri = (await listAssignments(service.deps.db, id)).find((a) => a.unitCode === 'agri')!;
    expect(agri.status).toBe('pending');
    expect(hook[0]!.body.notice).toEqual({ kind: 'reassigned', role: 'lead', round: 1, deadlines: agri.deadlines });
    expect(hook[0]!.body.case.reference).toBe(caseReference(id));
    expect(hook[0]!.raw).not.toContain(trackingCode);

    // The group: the settled post gets a successor with buttons, once.
    const again = { caseId: id, unit: 'agri', round: 1, again: true, at: clock.now().getTime() };
    expect(await processors.telegram_post(again, ctx())).toBe('posted to the agri group');
    const second = await service.deps.db.selectFrom('telegram_bureau_posts').selectAll().where('case_id', '=', id).executeTakeFirstOrThrow();
    expect(second).toMatchObject({ id: first.id, status: 'posted' });
    expect(Number(second.message_id)).not.toBe(Number(first.message_id));
    const message = groupMessages().at(-1)!;
    expect(String(message.body.text)).toContain(caseReference(id));
    expect(String(message.body.text)).not.toContain(trackingCode);
    expect(JSON.stringify(message.body.reply_markup)).toContain(`g:a:${first.id}`);
    expect(await processors.telegram_post(again, ctx())).toBe('skipped: already posted');
  });

  it("posts a 督办 made after a re-route changed the unit's role in reply to the new post, not the one it supersedes", async () => {
    const desk = await account('dispatcher', null, 'dispatcher-superseded');
    const { id } = await coHandledByAgri(desk);
    const first = await agriPost(id);
    expect(first).toMatchObject({ status: 'posted', renewed_at: null });
    clock.set(new Date(clock.now().getTime() + 3_600_000).toISOString());
    // Made the lead: its post, still with its buttons, is to be superseded by a new one.
    const again = await reroute(desk, id, { type: 'livestock_waste', reason: '养殖污染，农业委牵头' });
    clock.set(new Date(clock.now().getTime() + 60_000).toISOString());
    expect((await postJson(`${service.url}/api/v1/cases/${id}/supervise`, { note: '请协助核查' }, desk)).status).toBe(200);
    const notice = (await unitNotices(id, 'supervision')).agri!;
    const before = groupMessages().length;
    expect(await notify(notice.id)).toBe("supervision sent to agri by webhook; waiting: agri's group once the case's post is made");
    expect(groupMessages().length).toBe(before);

    expect(await processors.telegram_post(again, ctx())).toBe('posted to the agri group');
    const second = await agriPost(id);
    expect(second.id).toBe(first.id);
    expect(second).toMatchObject({ status: 'posted', renewed_at: null });
    expect(await notify(notice.id)).toBe('supervision sent to agri by webhook and telegram');
    const line = groupMessages().at(-1)!;
    expect(String(line.body.text)).toContain('请协助核查');
    expect(line.body.reply_parameters).toMatchObject({ message_id: Number(second.message_id) });
    expect(Number(second.message_id)).not.toBe(Number(first.message_id));
  });

  it("makes the post of a second re-route that came while the first one's post was being sent, showing the unit's part as it is then", async () => {
    const desk = await account('dispatcher', null, 'dispatcher-second-route');
    const { id } = await coHandledByAgri(desk);
    // Made the lead: the job of that posts, and Telegram is slow to answer.
    clock.set(new Date(clock.now().getTime() + 3_600_000).toISOString());
    const leadJob = await reroute(desk, id, { type: 'livestock_waste', reason: '养殖污染，农业委牵头' });
    const held = emu.holdNext('sendMessage', agriGroup);
    const leadRun = processors.telegram_post(leadJob, ctx());
    await held.reached;
    // Meanwhile the dispatcher makes agri a co-handler again.
    clock.set(new Date(clock.now().getTime() + 60_000).toISOString());
    const coJob = await reroute(desk, id, { type: 'illegal_discharge', co: ['agri'], reason: '还是电镀厂排污，农业委协办' });
    held.release();
    expect(await leadRun).toBe('posted to the agri group');
    const leadPost = groupMessages().at(-1)!;
    expect(String(leadPost.body.text)).toContain('牵头承办');
    // The post made says lead, which agri no longer is: the co-handler's post is still owed.
    const leadRow = await agriPost(id);
    expect(Date.parse(leadRow.renewed_at!)).toBe(coJob.at);

    expect(await processors.telegram_post(coJob, ctx())).toBe('posted to the agri group');
    const coPost = groupMessages().at(-1)!;
    expect(String(coPost.body.text)).toContain('协办');
    expect(String(coPost.body.text)).not.toContain('牵头承办');
    const coRow = await agriPost(id);
    expect(coRow).toMatchObject({ id: leadRow.id, status: 'posted', renewed_at: null });
    expect(Number(coRow.message_id)).not.toBe(Number(leadRow.message_id));
    // The lead's post says it gave way, without its buttons.
    const edit = emu.toChat(agriGroup).filter((c) => c.method === 'editMessageText' && Number(c.body.message_id) === Number(leadRow.message_id)).at(-1)!;
    expect(String(edit.body.text)).toContain('请以新派单消息为准');
    expect(JSON.stringify(edit.body.reply_markup)).not.toContain('g:a:');
    expect(await processors.telegram_post(coJob, ctx())).toBe('skipped: already posted');
  });

  it('runs the post jobs of two re-routes in quick succession one after the other: one new post, showing the second', async () => {
    const desk = await account('dispatcher', null, 'dispatcher-two-routes');
    const { id } = await coHandledByAgri(desk);
    const before = groupMessages().length;
    // Made the lead, then at once a co-handler again: two jobs, taken by two of the worker's slots at once.
    clock.set(new Date(clock.now().getTime() + 3_600_000).toISOString());
    const first = await reroute(desk, id, { type: 'livestock_waste', reason: '养殖污染，农业委牵头' });
    clock.set(new Date(clock.now().getTime() + 60_000).toISOString());
    const second = await reroute(desk, id, { type: 'illegal_discharge', co: ['agri'], reason: '改回电镀厂排污，农业委协办' });
    const held = emu.holdNext('sendMessage', agriGroup);
    const firstJob = processors.telegram_post(first, ctx());
    await held.reached;
    const secondJob = processors.telegram_post(second, ctx());
    // While the first job waits for Telegram, the second one makes no post of its own.
    const early = await Promise.race([secondJob.then(() => 'done'), new Promise((resolve) => setTimeout(() => resolve('waiting'), 3000))]);
    expect(early).toBe('waiting');
    expect(groupMessages().length).toBe(before);
    held.release();
    expect(await firstJob).toBe('posted to the agri group');
    expect(await secondJob).toBe('skipped: already posted');
    const made = groupMessages().slice(before);
    expect(made).toHaveLength(1);
    expect(String(made[0]!.body.text)).toContain('协办');
    expect(String(made[0]!.body.text)).not.toContain('牵头承办');
    const row = await agriPost(id);
    expect(row).toMatchObject({ status: 'posted', renewed_at: null });
    // The post recorded is the one made.
    expect(row.text).toBe(made[0]!.body.text);
  });

  it("keeps a notice made after a second re-route waiting for that re-route's post when the first one's post fails for good", async () => {
    const desk = await account('dispatcher', null, 'dispatcher-first-post-failed');
    const { id } = await deliveredReport();
    // Made a co-handler, then the lead again, before the first re-route's job made its post.
    clock.set(new Date(clock.now().getTime() + 3_600_000).toISOString());
    const first = await reroute(desk, id, { type: 'illegal_discharge', co: ['agri'], reason: '电镀厂排污，农业委协办' });
    clock.set(new Date(clock.now().getTime() + 60_000).toISOString());
    const second = await reroute(desk, id, { type: 'livestock_waste', reason: '还是养殖污染，农业委牵头' });
    // The first job's last attempt: Telegram refuses its post for longer than the job waits.
    emu.rateLimitNext('sendMessage', 1, 3600, agriGroup);
    await expect(processors.telegram_post(first, ctx(8))).rejects.toThrow();
    const failed = await agriPost(id);
    expect(failed.status).toBe('failed');
    // The second re-route's post is still owed: its instant stays on the row.
    expect(Date.parse(failed.renewed_at!)).toBe(second.at);
    clock.set(new Date(clock.now().getTime() + 60_000).toISOString());
    expect((await postJson(`${service.url}/api/v1/cases/${id}/supervise`, { note: '请尽快核查' }, desk)).status).toBe(200);
    const notice = (await unitNotices(id, 'supervision')).agri!;
    const before = groupMessages().length;
    expect(await notify(notice.id)).toBe("supervision sent to agri by webhook; waiting: agri's group once the case's post is made");
    expect(groupMessages().length).toBe(before);

    expect(await processors.telegram_post(second, ctx())).toBe('posted to the agri group');
    const posted = await agriPost(id);
    expect(posted).toMatchObject({ status: 'posted', renewed_at: null });
    expect(String(groupMessages().at(-1)!.body.text)).toContain('牵头承办');
    expect(await notify(notice.id)).toBe('supervision sent to agri by webhook and telegram');
    const line = groupMessages().at(-1)!;
    expect(String(line.body.text)).toContain('请尽快核查');
    expect(line.body.reply_parameters).toMatchObject({ message_id: Number(posted.message_id) });
  });

  it("tells a co-handler that the lead's return stopped the case: a case.paused notice to its webhook and a line in its group, not once the case was routed again", async () => {
    const desk = await account('dispatcher', null, 'dispatcher-paused');
    const epb = await account('bureau', 'epb', 'epb-paused');
    const { id, trackingCode } = await coHandledByAgri(desk);
    const returned = await postJson(`${service.url}/api/v1/cases/${id}/return`, { reason: 'not_our_remit', note: '应由经信委牵头，联系王五 13912345678' }, epb);
    expect(returned.status, await returned.clone().text()).toBe(200);
    // agri and the local office keep their part: each is told (the office, without a channel, reads the case history).
    const paused = await unitNotices(id, 'paused');
    expect(Object.keys(paused).sort()).toEqual(['agri', 'huilongxu']);
    expect(await notify(paused.huilongxu!.id)).toMatch(/^skipped: huilongxu has no webhook or Telegram group/);
    const hooksBefore = bureaus.received.length;
    expect(await notify(paused.agri!.id)).toBe('paused sent to agri by webhook and telegram');
    expect(await notify(paused.agri!.id)).toBe('skipped: already sent');
    const hooks = bureaus.received.slice(hooksBefore).filter((r) => r.path === '/agri');
    expect(hooks).toHaveLength(1);
    expect(signed(hooks[0]!)).toBe(true);
    expect(hooks[0]!.body.event).toBe('case.paused');
    expect(hooks[0]!.body.notice).toEqual({ kind: 'paused', role: 'co', lead: 'epb', reason: 'not_our_remit', since: clock.now().toISOString() });
    expect(hooks[0]!.body.case).toMatchObject({ reference: caseReference(id), status: 'triage' });
    // Neither the lead's note nor the report's words, nor the tracking code.
    for (const leak of ['王五', '13912345678', '猪粪', trackingCode]) expect(hooks[0]!.raw).not.toContain(leak);
    const line = groupMessages().at(-1)!;
    expect(line.body.text).toBe(
      `⏸【暂停办理】${caseReference(id)}：牵头单位 区环保局 已退回此案件（不属于本单位职责），正等待调度员重新分派；在此之前各单位暂不能办理，期限暂停计算。重新分派后本单位如仍承办，将收到调整后的期限。`,
    );
    expect(line.body.reply_parameters ?? line.body.reply_to_message_id).toBeTruthy();

    // Routed again before the notice went out: it says nothing true any more (the resumed deadlines do).
    const other = await coHandledByAgri(desk);
    expect((await postJson(`${service.url}/api/v1/cases/${other.id}/return`, { reason: 'wrong_jurisdiction', note: '不在本区' }, epb)).status).toBe(200);
    clock.set(new Date(clock.now().getTime() + 3_600_000).toISOString());
    expect((await postJson(`${service.url}/api/v1/cases/${other.id}/route`, { type: 'illegal_discharge', co: ['agri'], reason: '仍由环保局牵头' }, desk)).status).toBe(200);
    const stale = await unitNotices(other.id, 'paused');
    const groupBefore = groupMessages().length;
    expect(await notify(stale.agri!.id)).toMatch(/^skipped: the case no longer waits in triage/);
    expect(groupMessages().length).toBe(groupBefore);
    expect(Object.keys(await unitNotices(other.id, 'deadlines'))).toContain('agri');
  });

  it('tells the units that answered a case that the reporter\'s rating, or the end of the rating period, closed it: case.closed to the webhook, a line in the group', async () => {
    const desk = await account('dispatcher', null, 'dispatcher-closed');
    const agri = await account('bureau', 'agri', 'agri-closed');
    /** A case agri handles alone, answered. */
    const answered = async () => {
      const { id, trackingCode } = await deliveredReport();
      expect((await postJson(`${service.url}/api/v1/cases/${id}/route`, { type: 'livestock_waste', co: [], jurisdiction: null, reason: '农业委单独办理' }, desk)).status).toBe(200);
      expect((await postJson(`${service.url}/api/v1/cases/${id}/accept`, {}, agri)).status).toBe(200);
      const replied = await postJson(`${service.url}/api/v1/cases/${id}/reply`, { text: '已责令养猪场停止排放并清理河道' }, agri);
      expect(replied.status, await replied.clone().text()).toBe(200);
      return { id, trackingCode };
    };
    const rated = await answered();
    const rating = await postJson(`${service.url}/api/v1/track/${rated.trackingCode}/feedback`, { rating: 'basic', solved: true, comment: '我是王五，13912345678，总算处理了' });
    expect(rating.status, await rating.clone().text()).toBe(201);
    const closed = await unitNotices(rated.id, 'closed');
    expect(Object.keys(closed)).toEqual(['agri']);
    const hooksBefore = bureaus.received.length;
    expect(await notify(closed.agri!.id)).toBe('closed sent to agri by webhook and telegram');
    const hooks = bureaus.received.slice(hooksBefore).filter((r) => r.path === '/agri');
    expect(hooks.map((r) => r.body.event)).toEqual(['case.closed']);
    expect(signed(hooks[0]!)).toBe(true);
    expect(hooks[0]!.body.notice).toEqual({ kind: 'closed', reason: 'rated', rating: 'basic', solved: true, round: 1 });
    expect(hooks[0]!.body.case).toMatchObject({ reference: caseReference(rated.id), status: 'closed' });
    // The reporter's comment, and so anything it says of them, stays with the case.
    for (const leak of ['王五', '13912345678', '总算处理了', rated.trackingCode]) expect(hooks[0]!.raw).not.toContain(leak);
    expect(groupMessages().at(-1)!.body.text).toBe(`✅【已办结】${caseReference(rated.id)}：举报人评价「基本满意」（已解决），案件办结。`);

    // Nobody rated in time: closed all the same, and said so.
    const unrated = await answered();
    const rateBy = (await findCase(service.deps.db, unrated.id))!.deadlines.rateBy!;
    clock.set(rateBy);
    expect(await processors.deadline({ caseId: unrated.id, at: rateBy }, ctx())).toContain('closed: not rated');
    const late = await unitNotices(unrated.id, 'closed');
    expect(await notify(late.agri!.id)).toBe('closed sent to agri by webhook and telegram');
    expect(bureaus.received.find((r) => r.body.notificationId === late.agri!.id)!.body.notice).toEqual({ kind: 'closed', reason: 'not_rated', round: 1 });
    expect(groupMessages().at(-1)!.body.text).toBe(`✅【已办结】${caseReference(unrated.id)}：回访期满举报人未评价，案件办结。`);

    // A dissatisfied rating hands the case back (case.reopened to the lead): it is not closed.
    const reopened = await answered();
    expect((await postJson(`${service.url}/api/v1/track/${reopened.trackingCode}/feedback`, { rating: 'dissatisfied', solved: false })).status).toBe(201);
    expect(await unitNotices(reopened.id, 'closed')).toEqual({});
  });

  it('tells the co-handlers that answered a case a dissatisfied rating handed back to its lead alone: case.reopened_to_lead to the webhook, a line in the group', async () => {
    const desk = await account('dispatcher', null, 'dispatcher-redo');
    const epb = await account('bureau', 'epb', 'epb-redo');
    const agri = await account('bureau', 'agri', 'agri-redo');
    const { id, trackingCode } = await deliveredReport();
    // epb leads, agri co-handles: all answer.
    expect((await postJson(`${service.url}/api/v1/cases/${id}/route`, { type: 'livestock_waste', lead: 'epb', co: ['agri'], jurisdiction: null, reason: '环保局牵头' }, desk)).status).toBe(200);
    for (const who of [agri, epb]) {
      expect((await postJson(`${service.url}/api/v1/cases/${id}/accept`, {}, who)).status).toBe(200);
      const replied = await postJson(`${service.url}/api/v1/cases/${id}/reply`, { text: '已到现场核查并责令整改' }, who);
      expect(replied.status, await replied.clone().text()).toBe(200);
    }
    const rated = await postJson(`${service.url}/api/v1/track/${trackingCode}/feedback`, { rating: 'dissatisfied', solved: false, comment: '我是王五，13912345678，根本没处理' });
    expect(rated.status, await rated.clone().text()).toBe(201);
    // The lead is handed the case back; the co-handler that answered is told, the lead not twice.
    expect(Object.keys(await unitNotices(id, 'reopened'))).toEqual(['epb']);
    const told = await unitNotices(id, 'reopened_to_lead');
    expect(Object.keys(told)).toEqual(['agri']);
    expect(await notify(told.agri!.id)).toBe('reopened_to_lead sent to agri by webhook and telegram');
    const hook = bureaus.received.find((r) => r.body.notificationId === told.agri!.id)!;
    expect(hook.body.event).toBe('case.reopened_to_lead');
    expect(signed(hook)).toBe(true);
    expect(hook.body.notice).toEqual({ kind: 'reopened_to_lead', lead: 'epb', round: 2, solved: false });
    expect(hook.body.case).toMatchObject({ reference: caseReference(id), status: 'reopened' });
    for (const leak of ['王五', '13912345678', '根本没处理', trackingCode]) expect(hook.raw).not.toContain(leak);
    expect(groupMessages().at(-1)!.body.text).toBe(`🔁【重办】${caseReference(id)}：举报人对答复不满意（未解决），案件已退回牵头单位 区环保局 重新办理；本单位承办部分已办结，无需重新办理。`);
    // Its part stays answered.
    expect((await listAssignments(service.deps.db, id)).find((a) => a.unitCode === 'agri')!.status).toBe('replied');
  });

  it('tells a unit whose deadlines a case made urgent brought forward: a case.urgent notice to its webhook and a line in its group', async () => {
    const { id, trackingCode } = await deliveredReport();
    const routed = await postJson(`${service.url}/api/v1/cases/${id}/route`, { type: 'livestock_waste', urgent: true, reason: '粪水流进村民吃水的井，请马上处理（联系王五 13912345678）' }, await account('dispatcher', null));
    expect(routed.status, await routed.clone().text()).toBe(200);
    const notices = await unitNotices(id, 'urgent');
    const agri = (await listAssignments(service.deps.db, id)).find((a) => a.unitCode === 'agri')!;
    expect(Object.keys(notices)).toContain('agri');
    const hooksBefore = bureaus.received.length;
    const messagesBefore = groupMessages().length;
    expect(await notify(notices.agri!.id)).toBe('urgent sent to agri by webhook and telegram');
    const hook = bureaus.received.slice(hooksBefore).filter((r) => r.path === '/agri');
    expect(hook.map((r) => r.body.event)).toEqual(['case.urgent']);
    expect(hook[0]!.body.notice).toMatchObject({ kind: 'urgent', role: 'lead', deadlines: agri.deadlines });
    expect((hook[0]!.body.case as { urgent?: boolean }).urgent).toBe(true);
    expect(hook[0]!.raw).not.toContain(trackingCode);
    expect(hook[0]!.raw).not.toContain('13912345678');
    const line = String(groupMessages().slice(messagesBefore).at(-1)!.body.text);
    expect(line).toContain(`【紧急】${caseReference(id)} 已改为紧急件，办理期限提前：签收`);
    expect(line).not.toContain('13912345678');
  });

  it('tells a unit whose extension was approved its new deadline: a case.deadlines notice to its webhook and a line in its group', async () => {
    const { id, trackingCode } = await deliveredReport();
    const agriClerk = await account('bureau', 'agri', 'bureau-agri-extension');
    expect((await postJson(`${service.url}/api/v1/cases/${id}/accept`, {}, agriClerk)).status).toBe(200);
    const asked = await postJson(`${service.url}/api/v1/cases/${id}/extend`, { workingDays: 5, reason: '需要等待水质检测结果' }, agriClerk);
    expect(asked.status, await asked.clone().text()).toBe(201);
    const { id: requestId } = (await asked.json()) as { id: string };
    expect((await postJson(`${service.url}/api/v1/extensions/${requestId}/approve`, {}, await account('dispatcher', null, 'dispatcher-extension'))).status).toBe(200);
    const notices = await unitNotices(id, 'deadlines');
    expect(Object.keys(notices)).toEqual(['agri']);
    const agri = (await listAssignments(service.deps.db, id)).find((a) => a.unitCode === 'agri')!;
    const hooksBefore = bureaus.received.length;
    const messagesBefore = groupMessages().length;
    expect(await notify(notices.agri!.id)).toBe('deadlines sent to agri by webhook and telegram');
    const hook = bureaus.received.slice(hooksBefore).filter((r) => r.path === '/agri');
    expect(hook.map((r) => r.body.event)).toEqual(['case.deadlines']);
    expect(signed(hook[0]!)).toBe(true);
    expect(hook[0]!.body.notice).toEqual({ kind: 'deadlines', role: 'lead', deadlines: { signBy: null, replyBy: agri.deadlines.replyBy }, why: 'extended' });
    expect(hook[0]!.raw).not.toContain(trackingCode);
    const line = String(groupMessages().slice(messagesBefore).at(-1)!.body.text);
    expect(line).toMatch(new RegExp(`^⏱【期限调整】${caseReference(id)} 本单位办理期限调整为：答复 .+（延期申请已批准）。$`));
  });

  it('tells a unit whose extension was refused, with the deadline that stands and the note: a case.extension_refused notice and a line in its group', async () => {
    const { id, trackingCode } = await deliveredReport();
    const agriClerk = await account('bureau', 'agri', 'bureau-agri-refused');
    expect((await postJson(`${service.url}/api/v1/cases/${id}/accept`, {}, agriClerk)).status).toBe(200);
    const asked = await postJson(`${service.url}/api/v1/cases/${id}/extend`, { workingDays: 5, reason: '需要等待水质检测结果' }, agriClerk);
    const { id: requestId } = (await asked.json()) as { id: string };
    const note = '检测可并行进行，请按期答复；如需联系举报人请拨13912345678';
    expect((await postJson(`${service.url}/api/v1/extensions/${requestId}/refuse`, { note }, await account('dispatcher', null, 'dispatcher-refuses'))).status).toBe(200);
    const notices = await unitNotices(id, 'extension_refused');
    expect(Object.keys(notices)).toEqual(['agri']);
    const agri = (await listAssignments(service.deps.db, id)).find((a) => a.unitCode === 'agri')!;
    const hooksBefore = bureaus.received.length;
    const messagesBefore = groupMessages().length;
    expect(await notify(notices.agri!.id)).toBe('extension_refused sent to agri by webhook and telegram');
    const hook = bureaus.received.slice(hooksBefore).filter((r) => r.path === '/agri');
    expect(hook.map((r) => r.body.event)).toEqual(['case.extension_refused']);
    expect(signed(hook[0]!)).toBe(true);
    expect(hook[0]!.body.notice).toEqual({
      kind: 'extension_refused',
      role: 'lead',
      workingDays: 5,
      deadlines: { signBy: null, replyBy: agri.deadlines.replyBy },
      note: '检测可并行进行，请按期答复；如需联系举报人请拨139****5678',
    });
    expect(hook[0]!.raw).not.toContain(trackingCode);
    expect(hook[0]!.raw).not.toContain('13912345678');
    const line = String(groupMessages().slice(messagesBefore).at(-1)!.body.text);
    expect(line).toMatch(new RegExp(`^⏱【延期未批准】${caseReference(id)} 本单位申请延长 5 个工作日未获批准，答复期限仍为 .+。调度员说明：检测可并行进行，请按期答复；如需联系举报人请拨139\\*\\*\\*\\*5678$`));
  });

  it('sends no new deadlines to a unit that replied before the notice went out: it owes no stage they could time', async () => {
    const { id } = await routedReport();
    const agriClerk = await account('bureau', 'agri', 'bureau-agri-late-notice');
    expect((await postJson(`${service.url}/api/v1/cases/${id}/accept`, {}, agriClerk)).status).toBe(200);
    const asked = await postJson(`${service.url}/api/v1/cases/${id}/extend`, { workingDays: 5, reason: '需要等待水质检测结果' }, agriClerk);
    const { id: requestId } = (await asked.json()) as { id: string };
    expect((await postJson(`${service.url}/api/v1/extensions/${requestId}/approve`, {}, await account('dispatcher', null, 'dispatcher-late-notice'))).status).toBe(200);
    const notices = await unitNotices(id, 'deadlines');
    // The unit replies before the notice's job runs.
    expect((await postJson(`${service.url}/api/v1/cases/${id}/reply`, { text: '已查处，责令停产整改' }, agriClerk)).status).toBe(200);
    const hooksBefore = bureaus.received.length;
    const messagesBefore = groupMessages().length;
    expect(await notify(notices.agri!.id)).toBe('skipped: agri owes no stage the new deadlines time');
    expect(bureaus.received.slice(hooksBefore).filter((r) => r.path === '/agri')).toEqual([]);
    expect(groupMessages().length).toBe(messagesBefore);
  });

  it('tells a unit whose webhook had the case that it was taken from it, and why; not where it went, nor once it has the case again', async () => {
    const desk = await account('dispatcher', null, 'dispatcher-released');
    const { id, trackingCode } = await routedReport();
    // agri's server takes the assignment; epb's refuses it, so epb never had the case.
    expect(await processors.dispatch({ caseId: id, unit: 'agri', channel: 'webhook' }, ctx())).toMatch(/^delivered/);
    await processors.dispatch({ caseId: id, unit: 'epb', channel: 'webhook' }, ctx()).catch(() => undefined);
    const route = (type: string, reason: string) => postJson(`${service.url}/api/v1/cases/${id}/route`, { type, reason }, desk);

    expect((await route('illegal_discharge', '经核实为电镀厂排污，请联系举报人13912345678')).status).toBe(200);
    const released = await unitNotices(id, 'released');
    expect(Object.keys(released)).toEqual(['agri']);
    const groupBefore = groupMessages().length;
    const hooksBefore = bureaus.received.length;
    expect(await notify(released.agri!.id)).toBe('released sent to agri by webhook');
    const hook = bureaus.received.slice(hooksBefore).filter((r) => r.path === '/agri');
    expect(hook).toHaveLength(1);
    expect(signed(hook[0]!)).toBe(true);
    expect(hook[0]!.body).toEqual({
      event: 'case.released',
      notificationId: released.agri!.id,
      notice: { kind: 'released', unit: 'agri', round: 1, note: '经核实为电镀厂排污，请联系举报人139****5678' },
      case: { id, reference: caseReference(id) },
      unit: { code: 'agri', name: '区农业委' },
      caseUrl: `http://intake.test/inbox/cases/${id}`,
      sentAt: expect.any(String),
    });
    // Not where the case went, nor the tracking code.
    for (const word of ['illegal_discharge', 'epb', trackingCode]) expect(hook[0]!.raw, word).not.toContain(word);
    // The group reads it in the post of the case (its withdrawn line), not in a message of its own.
    expect(groupMessages().length).toBe(groupBefore);

    // Given back, taken again, and given back before the notice went out: it says nothing any more.
    expect((await route('livestock_waste', '仍归农业委')).status).toBe(200);
    expect((await route('illegal_discharge', '再次改派')).status).toBe(200);
    expect((await route('livestock_waste', '最终归农业委')).status).toBe(200);
    const all = await service.deps.db.selectFrom('notifications').select(['id', 'status']).where('case_id', '=', id).where('kind', '=', 'released').where('audience', '=', 'unit:agri').execute();
    const later = all.filter((n) => n.id !== released.agri!.id);
    expect(later).toHaveLength(1);
    expect(await notify(later[0]!.id)).toBe('skipped: agri holds the case again');
  });

  it('sends a unit given back a case its server never took the assignment itself, with fresh attempts, not a notice about a case it does not know', async () => {
    const desk = await account('dispatcher', null, 'dispatcher-failed-back');
    const { id } = await routedReport();
    const epbDelivery = () =>
      service.deps.db.selectFrom('deliveries').select(['status', 'attempts']).where('case_id', '=', id).where('unit_code', '=', 'epb').executeTakeFirstOrThrow();
    // epb's server refuses the assignment (400): it fails for good at its first attempt.
    await processors.dispatch({ caseId: id, unit: 'epb', channel: 'webhook' }, ctx()).catch(() => undefined);
    expect(await epbDelivery()).toEqual({ status: 'failed', attempts: 1 });
    const route = (co: string[], reason: string) => postJson(`${service.url}/api/v1/cases/${id}/route`, { type: 'livestock_waste', co, reason }, desk);
    expect((await route([], '农业委单独办理')).status).toBe(200);
    expect((await route(['epb'], '仍需环保局协办')).status).toBe(200);
    // Its system never had the case: it gets the assignment, not case.reassigned.
    expect(Object.keys(await unitNotices(id, 'reassigned'))).not.toContain('epb');
    expect(await epbDelivery()).toEqual({ status: 'pending', attempts: 0 });
    const before = bureaus.received.length;
    await processors.dispatch({ caseId: id, unit: 'epb', channel: 'webhook' }, ctx()).catch(() => undefined);
    const hook = bureaus.received.slice(before).filter((r) => r.path === '/reject');
    expect(hook.map((r) => r.body.event)).toEqual(['case.assigned']);
    expect((hook[0]!.body as unknown as { assignment: { role: string } }).assignment.role).toBe('co');
  });

  it("sends no reminder to the webhook of a unit whose server never took the assignment: its system does not know the case", async () => {
    const { id } = await routedReport();
    // epb's server refuses the assignment (400): it fails for good, and epb works on the case in the web inbox.
    await processors.dispatch({ caseId: id, unit: 'epb', channel: 'webhook' }, ctx()).catch(() => undefined);
    expect(await processors.dispatch({ caseId: id, unit: 'agri', channel: 'webhook' }, ctx())).toMatch(/^delivered/);
    await postedToGroup(id);
    const [remind] = wakeUpsFor(service.deps.district, service.deps.calendar, (await listAssignments(service.deps.db, id))[0]!.deadlines);
    clock.set(remind!);
    await processors.deadline({ caseId: id, at: remind! }, ctx());
    const reminders = await unitNotices(id, 'reminder');
    const before = bureaus.received.length;
    expect(await notify(reminders.epb!.id)).toBe(
      "skipped: epb's webhook never took the case (its assignment failed for good) and it has no Telegram group (the case history shows the reminder)",
    );
    // agri's server has the case: it is reminded there and in its group.
    expect(await notify(reminders.agri!.id)).toBe('reminder sent to agri by webhook and telegram');
    expect(bureaus.received.slice(before).map((r) => `${r.path} ${r.body.event}`)).toEqual(['/agri case.reminder']);
    // Not a failure to send again: the assignment is what epb's system lacks.
    expect((await unitNotices(id, 'reminder')).epb!.status).toBe('skipped');
    expect((await listEvents(service.deps.db, id)).filter((e) => e.kind === 'notification_failed')).toEqual([]);
    // The case stays in epb's inbox.
    const epb = await account('bureau', 'epb', 'epb-never-reached');
    const seen = await fetch(`${service.url}/api/v1/cases/${id}`, { headers: epb });
    expect(seen.status).toBe(200);
    expect(((await seen.json()) as { access: string }).access).toBe('full');
  });

  it('sends a lead whose server never took the assignment the reopened case itself, not a notice reopening a case it does not know', async () => {
    const desk = await account('dispatcher', null, 'dispatcher-reopen-failed');
    const { id, trackingCode } = await routedReport();
    // Routed to epb, whose server refuses the assignment: it fails for good, and epb handles the case on the web.
    expect((await postJson(`${service.url}/api/v1/cases/${id}/route`, { type: 'illegal_discharge', co: [], jurisdiction: null, reason: '电镀厂排污' }, desk)).status).toBe(200);
    await processors.dispatch({ caseId: id, unit: 'epb', channel: 'webhook' }, ctx()).catch(() => undefined);
    const epbDelivery = () =>
      service.deps.db.selectFrom('deliveries').select(['status', 'attempts']).where('case_id', '=', id).where('unit_code', '=', 'epb').executeTakeFirstOrThrow();
    expect(await epbDelivery()).toEqual({ status: 'failed', attempts: 1 });
    const epb = await account('bureau', 'epb', 'epb-reopen-failed');
    expect((await postJson(`${service.url}/api/v1/cases/${id}/accept`, {}, epb)).status).toBe(200);
    expect((await postJson(`${service.url}/api/v1/cases/${id}/reply`, { text: '已责令停产整改' }, epb)).status).toBe(200);
    expect((await postJson(`${service.url}/api/v1/track/${trackingCode}/feedback`, { rating: 'dissatisfied', solved: false }, {})).status).toBe(201);
    expect(Object.keys(await unitNotices(id, 'reopened'))).not.toContain('epb');
    expect(await epbDelivery()).toEqual({ status: 'pending', attempts: 0 });
    const before = bureaus.received.length;
    await processors.dispatch({ caseId: id, unit: 'epb', channel: 'webhook' }, ctx()).catch(() => undefined);
    const hook = bureaus.received.slice(before).filter((r) => r.path === '/reject');
    expect(hook.map((r) => r.body.event)).toEqual(['case.assigned']);
    expect((hook[0]!.body as unknown as { case: { status: string } }).case.status).toBe('reopened');
  });

  it('tells a unit whose case was merged into another case it holds where its work goes on, and a unit that does not hold that one nothing of it', async () => {
    const desk = await account('dispatcher', null, 'dispatcher-merges');
    const survivor = await routedReport();
    const duplicate = await routedReport();
    expect(await processors.dispatch({ caseId: duplicate.id, unit: 'agri', channel: 'webhook' }, ctx())).toMatch(/^delivered/);
    // The survivor keeps agri alone: epb and the town office are not on it.
    expect((await postJson(`${service.url}/api/v1/cases/${survivor.id}/route`, { type: 'livestock_waste', co: [], jurisdiction: null, reason: '农业委单独办理' }, desk)).status).toBe(200);
    expect((await postJson(`${service.url}/api/v1/cases/${duplicate.id}/merge`, { into: survivor.id, reason: '同一养猪场' }, desk)).status).toBe(200);
    const released = await unitNotices(duplicate.id, 'released');
    const hooksBefore = bureaus.received.length;
    expect(await notify(released.agri!.id)).toBe('released sent to agri by webhook');
    const hook = bureaus.received.slice(hooksBefore).find((r) => r.path === '/agri')!;
    expect(signed(hook)).toBe(true);
    expect(hook.body.notice).toEqual({ kind: 'released', unit: 'agri', round: 1, note: '同一养猪场', mergedInto: { id: survivor.id, reference: caseReference(survivor.id) } });
    expect(hook.body.case).toEqual({ id: duplicate.id, reference: caseReference(duplicate.id) });
    expect(hook.raw).not.toContain(survivor.trackingCode);

    // Merged into a case agri is not on: the notice names the duplicate only, as for any release.
    const elsewhere = await routedReport();
    const other = await routedReport();
    expect(await processors.dispatch({ caseId: other.id, unit: 'agri', channel: 'webhook' }, ctx())).toMatch(/^delivered/);
    expect((await postJson(`${service.url}/api/v1/cases/${elsewhere.id}/route`, { type: 'illegal_discharge', co: [], reason: '电镀厂排污' }, desk)).status).toBe(200);
    expect((await postJson(`${service.url}/api/v1/cases/${other.id}/merge`, { into: elsewhere.id, reason: '同一处排污' }, desk)).status).toBe(200);
    const before = bureaus.received.length;
    expect(await notify((await unitNotices(other.id, 'released')).agri!.id)).toBe('released sent to agri by webhook');
    const notice = bureaus.received.slice(before).find((r) => r.path === '/agri')!;
    expect(notice.body.notice).toEqual({ kind: 'released', unit: 'agri', round: 1, note: '同一处排污' });
    expect(notice.raw).not.toContain(caseReference(elsewhere.id));
  });

  it('tells a unit it was released when the dispatcher took the case from it while its server was taking the assignment', async () => {
    const desk = await account('dispatcher', null, 'dispatcher-race');
    const { id } = await routedReport();
    // The re-route commits while agri's server is answering the delivery: the dispatcher saw no delivery made yet.
    const racing: typeof fetch = async (input, init) => {
      const routed = await postJson(`${service.url}/api/v1/cases/${id}/route`, { type: 'illegal_discharge', reason: '改由环保局牵头' }, desk);
      expect(routed.status).toBe(200);
      return fetch(input, init);
    };
    const dispatch = createProcessors(processorDeps(service.deps, racing)).dispatch;
    expect(await dispatch({ caseId: id, unit: 'agri', channel: 'webhook' }, ctx())).toMatch(/^delivered/);
    // agri's server has the report: it is told the case was taken from it, with the dispatcher's reason.
    const released = await unitNotices(id, 'released');
    expect(Object.keys(released)).toEqual(['agri']);
    const hooksBefore = bureaus.received.length;
    expect(await notify(released.agri!.id)).toBe('released sent to agri by webhook');
    const hook = bureaus.received.slice(hooksBefore).filter((r) => r.path === '/agri');
    expect(hook.map((r) => [r.body.event, r.body.notice.note])).toEqual([['case.released', '改由环保局牵头']]);
  });

  it('takes a 督办 sent twice (a double click, a retried request) for one: one notice, one entry in the history; other words or a while later are a second', async () => {
    const desk = await account('dispatcher', null, 'dispatcher-twice');
    const { id } = await deliveredReport();
    const supervise = (note: string) => postJson(`${service.url}/api/v1/cases/${id}/supervise`, { note }, desk);
    const first = await supervise('请立即核查猪场排污');
    expect(first.status, await first.clone().text()).toBe(200);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    const firstView = (await first.json()) as { supervisedAt: string };
    expect(firstView.supervisedAt).toBe(clock.now().toISOString());
    const supervised = async () => (await listEvents(service.deps.db, id)).filter((e) => e.kind === 'supervised').map((e) => (e.data as { note: string }).note);
    const notices = async () => (await service.deps.db.selectFrom('notifications').select('id').where('case_id', '=', id).where('kind', '=', 'supervision').execute()).length;

    // The same again, without If-Match, a minute later: answered as the first, nothing recorded or sent twice.
    clock.set(new Date(clock.now().getTime() + 60_000).toISOString());
    const again = await supervise('请立即核查猪场排污');
    expect(again.status, await again.clone().text()).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.headers.get('etag')).toBe(first.headers.get('etag'));
    expect(await again.json()).toMatchObject({ supervisedAt: firstView.supervisedAt });
    expect(await supervised()).toEqual(['请立即核查猪场排污']);
    expect(await notices()).toBe(1);

    // Other words are another 督办; so are the same words once the unit acted, or ten minutes on.
    expect((await supervise('仍未处理，请今天内答复')).headers.get('idempotent-replayed')).toBeNull();
    const agri = await account('bureau', 'agri', 'agri-twice');
    expect((await postJson(`${service.url}/api/v1/cases/${id}/accept`, {}, agri)).status).toBe(200);
    expect((await supervise('仍未处理，请今天内答复')).headers.get('idempotent-replayed')).toBeNull();
    clock.set(new Date(clock.now().getTime() + 10 * 60_000).toISOString());
    expect((await supervise('仍未处理，请今天内答复')).headers.get('idempotent-replayed')).toBeNull();
    expect(await supervised()).toEqual(['请立即核查猪场排污', '仍未处理，请今天内答复', '仍未处理，请今天内答复', '仍未处理，请今天内答复']);
    expect(await notices()).toBe(4);

    // With an Idempotency-Key, its retry is a replay whenever it comes, even after the unit acted; another note under it a 409.
    const keyed = (note: string, key: string) => postJson(`${service.url}/api/v1/cases/${id}/supervise`, { note }, { ...desk, 'idempotency-key': key });
    expect((await keyed('第五次督办', 'desk-retry-1')).headers.get('idempotent-replayed')).toBeNull();
    expect((await postJson(`${service.url}/api/v1/cases/${id}/progress`, { note: '正在核查' }, agri)).status).toBe(200);
    clock.set(new Date(clock.now().getTime() + 60 * 60_000).toISOString());
    const retried = await keyed('第五次督办', 'desk-retry-1');
    expect(retried.status, await retried.clone().text()).toBe(200);
    expect(retried.headers.get('idempotent-replayed')).toBe('true');
    const reused = await keyed('另一条督办', 'desk-retry-1');
    expect(reused.status).toBe(409);
    expect(((await reused.json()) as { error: { code: string; fields: Record<string, string> } }).error).toMatchObject({
      code: 'idempotency_key_reused',
      fields: { 'Idempotency-Key': 'already used for another note' },
    });
    expect((await keyed('第五次督办', ' bad key')).status).toBe(400);
    expect(await supervised()).toHaveLength(5);
    expect(await notices()).toBe(5);
  });

  it('does not send a notice to a unit the case was taken from before the notice went out', async () => {
    const desk = await account('dispatcher', null, 'dispatcher-stale');
    const { id } = await routedReport();
    expect(await processors.dispatch({ caseId: id, unit: 'agri', channel: 'webhook' }, ctx())).toMatch(/^delivered/);
    // 督办 of the lead, then — before its server or group took the notice — the case goes to another lead.
    expect((await postJson(`${service.url}/api/v1/cases/${id}/supervise`, { note: '村民反映猪场仍在排污，请立即核查' }, desk)).status).toBe(200);
    const supervision = await unitNotices(id, 'supervision');
    expect(Object.keys(supervision)).toContain('agri');
    expect((await postJson(`${service.url}/api/v1/cases/${id}/route`, { type: 'illegal_discharge', reason: '改由环保局牵头' }, desk)).status).toBe(200);
    const groupBefore = groupMessages().length;
    const hooksBefore = bureaus.received.length;
    expect(await notify(supervision.agri!.id)).toMatch(/^skipped: agri no longer holds the case/);
    // Neither the case's type and place nor the note reach a unit that no longer holds the case.
    expect(bureaus.received.slice(hooksBefore).filter((r) => r.path === '/agri')).toEqual([]);
    expect(groupMessages().length).toBe(groupBefore);
  });

  it("masks in an assignment's text the names its case page masks, such as the reporter as staff named them", async () => {
    const desk = await account('dispatcher', null, 'dispatcher-names');
    // An anonymous report naming its reporter in a way the rules do not read as the reporter's own name.
    const res = await postJson(`${service.url}/api/v1/reports`, { text: `刘德华说：${REPORT}`, anonymous: true });
    const { id } = (await res.json()) as { id: string };
    await processors.intake({ caseId: id }, ctx());
    // Before agri's server takes the assignment, the dispatcher writes down who called.
    expect((await postJson(`${service.url}/api/v1/cases/${id}/supervise`, { note: '来电人刘德华要求保密，请尽快核查' }, desk)).status).toBe(200);
    const hooksBefore = bureaus.received.length;
    expect(await processors.dispatch({ caseId: id, unit: 'agri', channel: 'webhook' }, ctx())).toMatch(/^delivered/);
    const hook = bureaus.received.slice(hooksBefore).filter((r) => r.path === '/agri');
    expect(hook.map((r) => r.body.event)).toEqual(['case.assigned']);
    const text = (hook[0]!.body as unknown as { case: { text: string } }).case.text;
    expect(text).toContain('**说');
    expect(hook[0]!.raw).not.toContain('刘德');
    // As agri's case page shows it.
    const view = await fetch(`${service.url}/api/v1/cases/${id}`, { headers: await account('bureau', 'agri', 'agri-names') });
    expect(((await view.json()) as { text: string }).text).toBe(text);
  });

  it("counts in an assignment's photos the reporter's photos only, not a file another unit attached to its reply before the unit's server took it", async () => {
    const { id } = await routedReport();
    const epb = await account('bureau', 'epb', 'epb-attaches');
    expect((await fetch(`${service.url}/api/v1/cases/${id}/accept`, { method: 'POST', headers: epb })).status).toBe(200);
    const form = new FormData();
    form.set('text', '环保局已到现场取样，检测报告见附件');
    form.append('attachments', new File([Buffer.from('%PDF-1.4\n%%EOF\n')], '检测报告.pdf', { type: 'application/pdf' }));
    const replied = await fetch(`${service.url}/api/v1/cases/${id}/reply`, { method: 'POST', headers: epb, body: form });
    expect(replied.status, await replied.text()).toBe(200);
    const hooksBefore = bureaus.received.length;
    expect(await processors.dispatch({ caseId: id, unit: 'agri', channel: 'webhook' }, ctx())).toMatch(/^delivered/);
    const hook = bureaus.received.slice(hooksBefore).find((r) => r.path === '/agri')!;
    // The report came without photos: the co-handler's PDF is no photo of it (agri's staff would look for one in vain).
    expect((hook.body as unknown as { case: { photos: number } }).case.photos).toBe(0);
  });

  it("names in an assignment the other units still on the case: not one that returned its part before the unit's server took it", async () => {
    const { id } = await routedReport();
    // The co-handler returns its part while agri's server is still to take the assignment.
    const returned = await postJson(`${service.url}/api/v1/cases/${id}/return`, { reason: 'not_our_remit', note: '养殖污染不属环保局协办' }, await account('bureau', 'epb', 'epb-returns'));
    expect(returned.status).toBe(200);
    const hooksBefore = bureaus.received.length;
    expect(await processors.dispatch({ caseId: id, unit: 'agri', channel: 'webhook' }, ctx())).toMatch(/^delivered/);
    const hook = bureaus.received.slice(hooksBefore).find((r) => r.path === '/agri')!;
    const assignment = (hook.body as unknown as { assignment: { role: string; coHandlers: Array<{ code: string; role: string }> } }).assignment;
    expect(assignment.role).toBe('lead');
    expect(assignment.coHandlers).toEqual([{ code: 'huilongxu', name: '回龙圩镇', role: 'jurisdiction' }]);
  });
});

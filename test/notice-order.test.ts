import { readFileSync } from 'node:fs';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listEvents } from '../db/repositories/events.repository.js';
import { issueToken } from '../db/repositories/tokens.repository.js';
import { createUser } from '../db/repositories/users.repository.js';
import { requeueLostJobs } from '../queues/reconciler.js';
import { DEFAULT_DISTRICT_PATH } from '../src/district/district-file.js';
import { buildDistrict, type DistrictFile } from '../src/district/district.schema.js';
import type { Env } from '../src/env.js';
import type { Service } from '../src/runtime.js';
import { bureauServer as startBureauServer } from './bureau-server.js';
import { caseReference } from '../src/domain/case.js';
import { createPgDatabase, postJson, startTestService, testEnv, waitFor } from './harness.js';
import { residentChat, startTelegramEmulator, type TelegramEmulator } from './telegram-emulator.js';
import { deliver, districtWithGroups, telegramEnv, TOKEN } from './telegram-helpers.js';

/**
 * A unit's system learns of a case from its `case.assigned` delivery: a 督办
 * (or any notice) about the case that reached its webhook first would be about
 * a case it does not know. Notices to a unit wait for its assignment, and
 * fail visibly with it when it fails for good.
 */

const SECRET = 'notice-order-webhook-secret-0123';
// livestock_waste: lead agri (the only unit with a webhook here), co epb, jurisdiction huilongxu.
const REPORT = '回龙圩镇朱家观村有个养猪场把猪粪直接排到河里，臭得很';

interface Posted {
  event: string;
  case: { id: string };
  notice?: { kind: string; note?: string };
}

/** The 督办 notice of a case to agri (the one with `note` in its words, when given): its status and how far each channel got. */
const agriSupervision = (service: Service, caseId: string, note?: string) =>
  service.deps.db
    .selectFrom('notifications')
    .select(['status', 'channels'])
    .where('case_id', '=', caseId)
    .where('audience', '=', 'unit:agri')
    .where('kind', '=', 'supervision')
    .$if(note !== undefined, (q) => q.where('data', 'like', `%${note}%`))
    .executeTakeFirst();

describe.each([
  ['SQLite', async () => ({})],
  ['PostgreSQL', async () => ({ DATABASE_URL: await createPgDatabase('notice_order') })],
])('notices to a unit whose assignment is still on its way, on %s', (_engine, dbEnv) => {
  let service: Service & { url: string };
  // agri's server refuses assignments (503) while `assignmentsDown` is set, and takes every notice.
  const state = { assignmentsDown: true };
  let bureaus: Awaited<ReturnType<typeof startBureauServer<Posted>>>;
  let desk: Record<string, string>;

  beforeAll(async () => {
    bureaus = await startBureauServer<Posted>((_path, body) => (body.event === 'case.assigned' && state.assignmentsDown ? 503 : 204));
    const file = JSON.parse(readFileSync(DEFAULT_DISTRICT_PATH, 'utf8')) as DistrictFile;
    for (const b of file.bureaus) if (b.code === 'agri') b.webhook = { url: `${bureaus.url}/agri` };
    // Attempts at 0, 1, 3 and 7 s: time to supervise the case between them.
    const env = testEnv('notice-order', { WEBHOOK_SECRET: SECRET, DISPATCH_ATTEMPTS: '4', DISPATCH_BACKOFF_MS: '1000', ...(await dbEnv()) });
    service = await startTestService(env, 'all', { district: buildDistrict(file) });
    const at = new Date().toISOString();
    const user = await createUser(service.deps.db, { name: '调度老李', role: 'dispatcher', unitCode: null, at });
    desk = { authorization: `Bearer ${(await issueToken(service.deps.db, { userId: user.id, label: null, at })).token}` };
  });
  afterAll(() => new Promise<void>((r) => bureaus.server.close(() => r())));

  const delivery = (caseId: string) =>
    service.deps.db.selectFrom('deliveries').select(['status', 'attempts']).where('case_id', '=', caseId).where('unit_code', '=', 'agri').executeTakeFirst();
  const supervision = (caseId: string) => agriSupervision(service, caseId);
  const toAgri = (caseId: string) => bureaus.received.filter((r) => r.path === '/agri' && r.body.case.id === caseId);

  /** A case whose assignment agri's server refused once, supervised while that delivery waits for its next attempt. */
  async function supervisedWhileRetrying(note: string): Promise<string> {
    const res = await postJson(`${service.url}/api/v1/reports`, { text: REPORT, anonymous: true });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    await waitFor(async () => (await delivery(id))?.attempts === 1 && (await delivery(id))?.status === 'pending', { what: 'the first refused attempt' });
    const supervised = await postJson(`${service.url}/api/v1/cases/${id}/supervise`, { note }, desk);
    expect(supervised.status, await supervised.clone().text()).toBe(200);
    // The notice waits for the assignment: nothing of it reaches agri's server yet.
    await waitFor(async () => (await supervision(id))?.channels === JSON.stringify({ webhook: 'waiting' }), { what: 'the notice waiting' });
    expect((await supervision(id))?.status).toBe('pending');
    expect(toAgri(id).map((r) => r.body.event)).toEqual(['case.assigned']);
    return id;
  }

  it('sends a 督办 made while the assignment is being retried after the assignment, not before it', async () => {
    state.assignmentsDown = true;
    const id = await supervisedWhileRetrying('请尽快核查');
    // Not a lost job for the reconciler: the assignment's settling sends it.
    const later = new Date(Date.now() + 120_000);
    const deps = { db: service.deps.db, transport: service.deps.transport, logger: service.deps.logger };
    expect(await requeueLostJobs(deps, later, { graceMs: 60_000, notifications: true })).toMatchObject({ notify: 0 });
    state.assignmentsDown = false;
    await waitFor(async () => (await supervision(id))?.status === 'sent', { what: 'the notice sent' });
    // Refused (once, or again when a retry came before the server was fixed on a busy machine), delivered, then the notice.
    const events = toAgri(id).map((r) => r.body.event);
    expect(events.length).toBeGreaterThanOrEqual(3);
    expect(events).toEqual([...events.slice(0, -1).map(() => 'case.assigned'), 'case.supervision']);
    expect(toAgri(id).at(-1)!.body.notice).toMatchObject({ kind: 'supervision', note: '请尽快核查' });
    expect((await delivery(id))?.status).toBe('delivered');
    expect((await listEvents(service.deps.db, id)).filter((e) => e.kind === 'notification_failed')).toEqual([]);
  });

  it('records a notice that waited for an assignment that then failed for good as failed too, and sends it after the assignment when sent again', async () => {
    state.assignmentsDown = true;
    const id = await supervisedWhileRetrying('请立即处理');
    await waitFor(async () => (await delivery(id))?.status === 'failed', { what: 'the assignment failing for good', timeoutMs: 20_000 });
    await waitFor(async () => (await supervision(id))?.status === 'failed', { what: 'the notice failing with it' });
    const failed = (await listEvents(service.deps.db, id)).filter((e) => e.kind === 'notification_failed');
    expect(failed.map((e) => e.data)).toEqual([
      {
        audience: 'unit:agri',
        channel: 'webhook',
        notice: 'supervision',
        // The run that found the assignment on its way, and the one its failure released.
        attempts: 2,
        error: "the assignment never reached agri's webhook (HTTP 503): the notice waited for it and was not sent there",
      },
    ]);
    expect(toAgri(id).map((r) => r.body.event)).toEqual(['case.assigned', 'case.assigned', 'case.assigned', 'case.assigned']);

    // The server is fixed and the dispatcher sends both again: the assignment first, then the notice.
    state.assignmentsDown = false;
    const again = await postJson(`${service.url}/api/v1/cases/${id}/redeliver`, {}, desk);
    expect(again.status, await again.clone().text()).toBe(200);
    await waitFor(async () => (await supervision(id))?.status === 'sent', { what: 'the notice sent again' });
    expect(toAgri(id).map((r) => r.body.event).slice(4)).toEqual(['case.assigned', 'case.supervision']);
  });
});

/**
 * A unit's Telegram group learns of a case from the case's post there: a 督办
 * posted before it would be about a case the group has not seen. Notices to
 * the group wait for the post while Telegram refuses it, and fail visibly
 * with it when it fails for good, as for webhooks.
 */
const AGRI_GROUP = -100_555_077;
// Only the post carries the report's words: Telegram refuses that message alone, not the notices.
const POST_WORDS = '猪粪直接排到河里';

describe.each([
  ['SQLite', async () => ({})],
  ['PostgreSQL', async () => ({ DATABASE_URL: await createPgDatabase('notice_order_group') })],
])("notices to a unit whose case's group post is still on its way, on %s", (_engine, dbEnv) => {
  let service: Service & { url: string };
  let emu: TelegramEmulator;
  let env: Env;
  let desk: Record<string, string>;

  beforeAll(async () => {
    emu = await startTelegramEmulator(TOKEN);
    env = telegramEnv(emu, 'notice-order-group', await dbEnv());
    // Post attempts at 0, 1, 3, 7, 15 s: time to supervise the case between them.
    service = await startTestService(env, 'all', { district: districtWithGroups({ agri: AGRI_GROUP }) });
    const at = new Date().toISOString();
    const user = await createUser(service.deps.db, { name: '调度老王', role: 'dispatcher', unitCode: null, at });
    desk = { authorization: `Bearer ${(await issueToken(service.deps.db, { userId: user.id, label: null, at })).token}` };
  });

  const post = (caseId: string) =>
    service.deps.db.selectFrom('telegram_bureau_posts').select(['status', 'message_id']).where('case_id', '=', caseId).where('unit_code', '=', 'agri').executeTakeFirst();
  const supervision = (caseId: string) => agriSupervision(service, caseId);
  /** What agri's group took about the case, in order: its post (the report's words) and the notices naming its reference. */
  const toGroup = (caseId: string) =>
    emu
      .toChat(AGRI_GROUP)
      .filter((c) => c.method === 'sendMessage' && String(c.body.text).includes(caseReference(caseId)))
      .map((c) => ({ post: String(c.body.text).includes(POST_WORDS), messageId: c.messageId, replyTo: (c.body.reply_parameters as { message_id?: number } | undefined)?.message_id }));
  const refusedPosts = () => emu.toChat(AGRI_GROUP).filter((c) => c.method === 'sendMessage:429').length;

  /** The group took the case's post, then the notice in reply to it, and nothing else of the case; the post's row records it. */
  async function expectPostThenNoticeInReply(caseId: string) {
    const [first, second, ...rest] = toGroup(caseId);
    expect(rest).toEqual([]);
    expect(first).toMatchObject({ post: true });
    expect(second).toMatchObject({ post: false, replyTo: first!.messageId });
    expect(Number((await post(caseId))?.message_id)).toBe(first!.messageId);
  }

  /** A case whose post Telegram refused (429) at least once, supervised while the post waits for its next attempt. */
  async function supervisedWhilePostRetried(note: string): Promise<string> {
    const before = refusedPosts();
    emu.rateLimitNext('sendMessage', 1000, 30, AGRI_GROUP, POST_WORDS);
    const res = await postJson(`${service.url}/api/v1/reports`, { text: REPORT, anonymous: true });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    await waitFor(async () => refusedPosts() > before && (await post(id))?.status === 'posting', { what: 'the first refused post' });
    const supervised = await postJson(`${service.url}/api/v1/cases/${id}/supervise`, { note }, desk);
    expect(supervised.status, await supervised.clone().text()).toBe(200);
    // The notice waits for the post: nothing of it reaches the group yet.
    await waitFor(async () => (await supervision(id))?.channels === JSON.stringify({ telegram: 'waiting' }), { what: 'the notice waiting' });
    expect((await supervision(id))?.status).toBe('pending');
    expect(toGroup(id)).toEqual([]);
    return id;
  }

  it("posts a 督办 made while the case's group post is being retried after the post, in reply to it", { timeout: 60_000 }, async () => {
    const id = await supervisedWhilePostRetried('请尽快核查');
    // Not a lost job for the reconciler: the post's settling sends it.
    const later = new Date(Date.now() + 120_000);
    const deps = { db: service.deps.db, transport: service.deps.transport, logger: service.deps.logger };
    expect(await requeueLostJobs(deps, later, { graceMs: 60_000, notifications: true })).toMatchObject({ notify: 0 });
    // Telegram takes the post again.
    emu.rateLimitNext('sendMessage', 0, 30);
    await waitFor(async () => (await supervision(id))?.status === 'sent', { what: 'the notice sent', timeoutMs: 40_000 });
    await expectPostThenNoticeInReply(id);
    expect((await listEvents(service.deps.db, id)).filter((e) => e.kind === 'notification_failed')).toEqual([]);
  });

  it("posts a 督办 made while the case's group post waits for the Telegram report's photos after the post, in reply to it", { timeout: 60_000 }, async () => {
    // A resident reports through the bot with a photo Telegram's file server keeps failing: the post waits for it
    // (attempts at 0, 1, 3, 7 s) and goes without it at the fifth.
    const chat = residentChat(Math.floor(Math.random() * 1_000_000) + 7_000_000);
    await deliver(emu, service.url, chat.photo(`unfetchable-${chat.chatId}`, REPORT));
    await deliver(emu, service.url, chat.button('c:anonymous'));
    await deliver(emu, service.url, chat.button('c:confirm'));
    const { case_id: id } = await service.deps.db.selectFrom('telegram_reporters').select('case_id').where('chat_id', '=', String(chat.chatId)).executeTakeFirstOrThrow();
    await waitFor(async () => (await service.deps.db.selectFrom('cases').select('status').where('id', '=', id).executeTakeFirst())?.status === 'dispatched', { what: 'the case dispatched' });
    // The post is on its way from the moment agri has the case.
    expect(await post(id)).toEqual({ status: 'posting', message_id: null });
    const supervised = await postJson(`${service.url}/api/v1/cases/${id}/supervise`, { note: '请尽快核查' }, desk);
    expect(supervised.status, await supervised.clone().text()).toBe(200);
    await waitFor(async () => (await supervision(id))?.channels === JSON.stringify({ telegram: 'waiting' }), { what: 'the notice waiting' });
    expect(toGroup(id)).toEqual([]);

    await waitFor(async () => (await supervision(id))?.status === 'sent', { what: 'the notice sent', timeoutMs: 40_000 });
    await expectPostThenNoticeInReply(id);
  });

  it('sends a notice that waited for a post no longer to be made (the unit signed for the case on the web meanwhile) once the post job finds so', { timeout: 60_000 }, async () => {
    const id = await supervisedWhilePostRetried('请核实处理进度');
    const at = new Date().toISOString();
    const clerk = await createUser(service.deps.db, { name: '农业委小李', role: 'bureau', unitCode: 'agri', at });
    const agri = { authorization: `Bearer ${(await issueToken(service.deps.db, { userId: clerk.id, label: null, at })).token}` };
    const accepted = await postJson(`${service.url}/api/v1/cases/${id}/accept`, {}, agri);
    expect(accepted.status, await accepted.clone().text()).toBe(200);
    // The post's next attempt finds the part signed for and makes no post: the notice goes on without it.
    await waitFor(async () => (await supervision(id))?.status === 'sent', { what: 'the notice sent', timeoutMs: 40_000 });
    expect(toGroup(id)).toEqual([{ post: false, messageId: expect.any(Number), replyTo: undefined }]);
    expect((await post(id))?.message_id).toBeNull();
    emu.rateLimitNext('sendMessage', 0, 30);
  });

  it('records a notice that waited for a post that then failed for good as failed in the group too, and posts it after the post when sent again', { timeout: 60_000 }, async () => {
    const id = await supervisedWhilePostRetried('请立即处理');
    // The bot is removed from the group: the post's next attempt fails for good.
    emu.rateLimitNext('sendMessage', 0, 30);
    emu.forbidChat(AGRI_GROUP, 'Forbidden: bot was kicked from the supergroup chat');
    await waitFor(async () => (await post(id))?.status === 'failed', { what: 'the post failing for good', timeoutMs: 40_000 });
    await waitFor(async () => (await supervision(id))?.status === 'failed', { what: 'the notice failing with it' });
    const failed = (await listEvents(service.deps.db, id)).filter((e) => e.kind === 'notification_failed');
    expect(failed.map((e) => e.data)).toEqual([
      {
        audience: 'unit:agri',
        channel: 'telegram',
        notice: 'supervision',
        // The run that found the post on its way, and the one its failure released.
        attempts: 2,
        error: "the case's post never reached agri's group (Call to 'sendMessage' failed! (403: Forbidden: bot was kicked from the supergroup chat)): the notice waited for it and was not sent there",
      },
    ]);
    expect(toGroup(id)).toEqual([]);

    // The bot is back and the dispatcher sends both again: the post first, then the notice, in reply to it.
    emu.allowChat(AGRI_GROUP);
    const again = await postJson(`${service.url}/api/v1/cases/${id}/redeliver`, {}, desk);
    expect(again.status, await again.clone().text()).toBe(200);
    await waitFor(async () => (await supervision(id))?.status === 'sent', { what: 'the notice sent again' });
    const [first, second, ...rest] = toGroup(id);
    expect(rest).toEqual([]);
    expect(first).toMatchObject({ post: true });
    expect(second).toMatchObject({ post: false, replyTo: first!.messageId });
  });

  it('posts a 督办 made after the unit was given the case again within the round in reply to its new post, and one made before in reply to the withdrawn one', { timeout: 60_000 }, async () => {
    const res = await postJson(`${service.url}/api/v1/reports`, { text: REPORT, anonymous: true });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    await waitFor(async () => (await post(id))?.status === 'posted', { what: 'the first post' });
    const firstPost = Number((await post(id))!.message_id);
    /** The 督办 to agri with this note. */
    const supervisionSaying = (note: string) => agriSupervision(service, id, note);
    const route = async (type: string, reason: string) => {
      const routed = await postJson(`${service.url}/api/v1/cases/${id}/route`, { type, reason }, desk);
      expect(routed.status, await routed.clone().text()).toBe(200);
    };
    const supervise = async (note: string) => {
      const supervised = await postJson(`${service.url}/api/v1/cases/${id}/supervise`, { note }, desk);
      expect(supervised.status, await supervised.clone().text()).toBe(200);
    };
    // The queues held, so each notice and post goes out when the test lets it: the windows a busy worker leaves.
    const connection = { connection: { url: env.REDIS_URL }, prefix: env.QUEUE_PREFIX };
    const notices = new Queue('notify', connection);
    const posts = new Queue('telegram_post', connection);
    try {
      await notices.pause();
      // Made while agri holds the case: about the post it has.
      await supervise('请核查第一次督办');
      // Taken from agri (its post says the case was withdrawn), then given back within the round: a new post is queued.
      await route('illegal_discharge', '电镀厂排污，环保局牵头');
      await waitFor(async () => (await post(id))?.status === 'released', { what: 'the post marked withdrawn' });
      await posts.pause();
      await route('livestock_waste', '仍是养殖污染，农业委牵头');
      await supervise('请核查第二次督办');
      await notices.resume();
      // The first goes at once, in reply to the post it was made under; the second waits for the new post.
      await waitFor(async () => (await supervisionSaying('第一次'))?.status === 'sent', { what: 'the first notice sent' });
      await waitFor(async () => (await supervisionSaying('第二次'))?.channels === JSON.stringify({ telegram: 'waiting' }), { what: 'the second notice waiting' });
      expect(toGroup(id)).toEqual([
        { post: true, messageId: firstPost, replyTo: undefined },
        { post: false, messageId: expect.any(Number), replyTo: firstPost },
      ]);
      await posts.resume();
      await waitFor(async () => (await supervisionSaying('第二次'))?.status === 'sent', { what: 'the second notice sent', timeoutMs: 30_000 });
      const [, , again, second, ...rest] = toGroup(id);
      expect(rest).toEqual([]);
      expect(again).toMatchObject({ post: true });
      expect(again!.messageId).not.toBe(firstPost);
      expect(second).toMatchObject({ post: false, replyTo: again!.messageId });
      expect(Number((await post(id))?.message_id)).toBe(again!.messageId);
    } finally {
      await Promise.all([notices.resume(), posts.resume()]);
      await Promise.all([notices.close(), posts.close()]);
    }
  });

  it.each([
    ['its group was taken out of the district file', () => ({ env, district: districtWithGroups({}) })],
    ['the bot is no longer configured', () => ({ env: { ...env, TELEGRAM_BOT_TOKEN: undefined }, district: districtWithGroups({ agri: AGRI_GROUP }) })],
  ])('lets a notice that waited for the post go on without it once the post job finds nothing to post to: %s', { timeout: 60_000 }, async (_why, restarted) => {
    const id = await supervisedWhilePostRetried('请尽快核查');
    // The service restarts so while the post waits for its next attempt, which finds nowhere to post it.
    await service.stop();
    service = await startTestService(restarted().env, 'all', { district: restarted().district });
    try {
      // agri has no other channel: the case's history shows the 督办.
      await waitFor(async () => (await supervision(id))?.status === 'skipped', { what: 'the notice let go', timeoutMs: 30_000 });
      expect(toGroup(id)).toEqual([]);
    } finally {
      await service.stop();
      emu.rateLimitNext('sendMessage', 0, 30);
      service = await startTestService(env, 'all', { district: districtWithGroups({ agri: AGRI_GROUP }) });
    }
  });
});

import { mkdir, writeFile } from 'node:fs/promises';
import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { connectDatabase, migrateToLatest } from '../db/connect.js';
import { ManualClock, systemClock } from '../src/clock.js';
import { createLogger } from '../src/logger.js';
import { CHAT_LOCK, lockChat } from '../src/telegram/chat-lock.js';
import { HttpError } from 'grammy';
import { createProcessors } from '../queues/processors/index.js';
import { createNotifyProcessor } from '../queues/processors/notify.processor.js';
import { createTelegramPhotosProcessor, createTelegramPostProcessor } from '../queues/processors/telegram.processor.js';
import { listEvents } from '../db/repositories/events.repository.js';
import { PermanentJobError } from '../queues/jobs.js';
import { createReconciler } from '../queues/reconciler.js';
import { processorDeps } from '../src/deps.js';
import { queueNotification } from '../src/workflow/notifications.js';
import { releaseUnit } from '../src/workflow/dispatcher.js';
import { issueToken } from '../db/repositories/tokens.repository.js';
import { createTelegramApi } from '../src/telegram/api.js';
import { createBot } from '../src/telegram/bot.js';
import { startPolling } from '../src/telegram/polling.js';
import { createTelegramPush, noticeText } from '../src/telegram/push.js';
import { loadDistrictFile } from '../src/district/district-file.js';
import { createLocalPhotoStore } from '../src/storage/local-photo-store.js';
import { createPgDatabase, freePort, postJson, startTestService, waitFor } from './harness.js';
import { createUser } from '../db/repositories/users.repository.js';
import { issueLinkToken } from '../src/telegram/links.js';
import { groupMember, JPEG_BYTES, residentChat, startTelegramEmulator, type TelegramEmulator } from './telegram-emulator.js';
import { alertOf, deliver, districtWithGroups, newUpdateId, SECRET, sentTexts, telegramEnv, TOKEN } from './telegram-helpers.js';

let emu: TelegramEmulator;
let nextChat = 9100;

beforeAll(async () => {
  emu = await startTelegramEmulator(TOKEN);
});

describe('TELEGRAM_MODE=polling', () => {
  it('takes updates from getUpdates and answers them', async () => {
    const env = telegramEnv(emu, 'tg-polling', { TELEGRAM_MODE: 'polling' });
    const service = await startTestService(env);
    const chat = residentChat(nextChat++);
    emu.queueUpdates({ update_id: newUpdateId(), ...chat.command('/start') });
    await waitFor(() => sentTexts(emu.toChat(chat.chatId)).length > 0, { what: 'the answer to /start' });
    expect(sentTexts(emu.toChat(chat.chatId))[0]).toContain('举报');
    emu.queueUpdates({ update_id: newUpdateId(), ...chat.text('兴隆办事处有人晚上在河边烧垃圾') });
    await waitFor(() => sentTexts(emu.toChat(chat.chatId)).length > 1, { what: 'the next question' });
    expect(sentTexts(emu.toChat(chat.chatId))[1]).toContain('匿名');
    // The session is written once the update is handled, just after the answer went out.
    const session = await waitFor(
      () => service.deps.db.selectFrom('telegram_sessions').select('state').where('chat_id', '=', String(chat.chatId)).executeTakeFirst(),
      { what: 'the session of the chat' },
    );
    expect(JSON.parse(session.state)).toMatchObject({ stage: 'ask_contact' });
    // No webhook route in polling mode.
    const res = await fetch(`${service.url}/telegram/webhook`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(404);
  });
});

describe('TELEGRAM_MODE=polling when handling an update fails', () => {
  it('handles the update again, as Telegram redelivers to a webhook, instead of losing it', async () => {
    const own = await startTelegramEmulator(TOKEN);
    await startTestService(telegramEnv(own, 'tg-polling-retry', { TELEGRAM_MODE: 'polling' }));
    const chat = residentChat(nextChat++);
    // The answer to /start meets a 429 longer than the bot waits: the handling fails once.
    own.rateLimitNext('sendMessage', 1, 60, chat.chatId);
    own.queueUpdates({ update_id: newUpdateId(), ...chat.command('/start') });
    await waitFor(() => sentTexts(own.toChat(chat.chatId)).length > 0, { what: 'the answer to /start, on the second try', timeoutMs: 15_000 });
    expect(own.calls.filter((c) => c.method === 'sendMessage:429' && Number(c.body.chat_id) === chat.chatId)).toHaveLength(1);
    expect(sentTexts(own.toChat(chat.chatId))).toHaveLength(1);
  });

  it('gives an update up after its attempts, and goes on with the next', async () => {
    const own = await startTelegramEmulator(TOKEN);
    const service = await startTestService(telegramEnv(own, 'tg-polling-give-up'), 'api');
    const stuck = residentChat(nextChat++);
    const next = residentChat(nextChat++);
    own.rateLimitNext('sendMessage', 10, 60, stuck.chatId);
    own.queueUpdates({ update_id: newUpdateId(), ...stuck.command('/start') }, { update_id: newUpdateId(), ...next.command('/start') });
    const poller = startPolling(createBot(service.deps), { logger: service.deps.logger, maxAttempts: 3, backoffMs: 10, timeoutS: 1 });
    try {
      await waitFor(() => sentTexts(own.toChat(next.chatId)).length > 0, { what: 'the answer to the next update' });
      expect(own.calls.filter((c) => c.method === 'sendMessage:429' && Number(c.body.chat_id) === stuck.chatId)).toHaveLength(3);
      expect(sentTexts(own.toChat(stuck.chatId))).toEqual([]);
    } finally {
      await poller.stop();
    }
  });
});

describe('Telegram unreachable', () => {
  it('answers a webhook call without the secret with 401 at once, though the bot never reached Telegram', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const service = await startTestService(telegramEnv(emu, 'tg-down-secret', { TELEGRAM_API_ROOT: dead }));
    const res = await postJson(`${service.url}/telegram/webhook`, { update_id: newUpdateId(), ...residentChat(nextChat++).command('/start') });
    const body = (await res.json()) as { error: { code: string } };
    expect(res.status).toBe(401);
    expect(body.error.code).toBe('unauthorized');
  });

  it('answers 503 to an update it cannot handle for want of Telegram, so Telegram delivers it again', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const service = await startTestService(telegramEnv(emu, 'tg-down-update', { TELEGRAM_API_ROOT: dead }));
    const updateId = newUpdateId();
    const res = await postJson(
      `${service.url}/telegram/webhook`,
      { update_id: updateId, ...residentChat(nextChat++).command('/start') },
      { 'X-Telegram-Bot-Api-Secret-Token': SECRET },
    );
    const body = (await res.json()) as { error: { code: string } };
    expect(res.status, JSON.stringify(body)).toBe(503);
    expect(body.error.code).toBe('not_ready');
    // Not marked as handled: the redelivery is processed, not dropped as a duplicate.
    expect(await service.deps.db.selectFrom('telegram_updates').select('update_id').where('update_id', '=', updateId).execute()).toEqual([]);
  });

  it('answers 503 to an update still being handled after 10 s, and a failure after that answer neither stops the process nor loses the update', { timeout: 40_000 }, async () => {
    // TELEGRAM_API_TIMEOUT_S (20 by default) is longer than the webhook may take to answer.
    // An emulator of its own: the stalled call is no other test's.
    const tg = await startTelegramEmulator(TOKEN);
    const service = await startTestService(telegramEnv(tg, 'tg-late-failure', { TELEGRAM_API_TIMEOUT_S: '12' }));
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const chat = residentChat(nextChat++);
      const update = chat.command('/start');
      tg.stallNext('sendMessage', 1);
      const asked = Date.now();
      const first = await deliver(tg, service.url, update);
      expect(first.status).toBe(503);
      expect(Date.now() - asked).toBeLessThan(11_500);
      // The stalled answer fails after 12 s, when the webhook has long answered.
      await waitFor(() => Date.now() - asked > 13_000, { timeoutMs: 15_000, intervalMs: 200 });
      expect(unhandled).toEqual([]);
      // Telegram delivers it again: answered once.
      const again = await deliver(tg, service.url, update, { updateId: first.updateId });
      expect(again.status).toBe(200);
      expect(sentTexts(again.calls, chat.chatId)).toHaveLength(1);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it("gives a job's Bot API call up when Telegram takes it and never answers, after TELEGRAM_API_TIMEOUT_S", async () => {
    const api = createTelegramApi(telegramEnv(emu, 'tg-stalled-job', { TELEGRAM_API_TIMEOUT_S: '1' }));
    emu.stallNext('sendMessage', 1);
    const asked = Date.now();
    await expect(api.sendMessage(1, '测试')).rejects.toBeInstanceOf(HttpError);
    const waited = Date.now() - asked;
    expect(waited).toBeGreaterThanOrEqual(900);
    expect(waited).toBeLessThan(10_000);
    expect(emu.calls.filter((c) => c.method === 'sendMessage:stalled')).toHaveLength(1);
    // Not retried in place (the queue's backoff does that); the next call goes through.
    expect(emu.calls.filter((c) => c.method.startsWith('sendMessage') && c.at >= asked)).toHaveLength(1);
    await expect(api.sendMessage(1, '再试')).resolves.toBeDefined();
  });

  it("fails a job's Bot API call at once, leaving the retries to the queue's backoff", async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const api = createTelegramApi(telegramEnv(emu, 'tg-down-job', { TELEGRAM_API_ROOT: dead }));
    await expect(api.sendMessage(1, '测试')).rejects.toBeInstanceOf(HttpError);
  });
});

/** An anonymous report sent from a new chat, as a resident would: the text, 匿名, 确认提交; with its case. */
/** A resident's report from a chat of its own: anonymous, or with the contact typed in answer (我叫…，电话…). */
async function reportFromNewChat(service: Awaited<ReturnType<typeof startTestService>>, text: string, contact?: string) {
  const chat = residentChat(nextChat++);
  await deliver(emu, service.url, chat.text(text));
  await deliver(emu, service.url, contact ? chat.text(contact) : chat.button('c:anonymous'));
  await deliver(emu, service.url, chat.button('c:confirm'));
  const link = await waitFor(() => service.deps.db.selectFrom('telegram_reporters').select('case_id').where('chat_id', '=', String(chat.chatId)).executeTakeFirst());
  return { chat, caseId: link.case_id };
}

describe('a notice to a Telegram reporter that keeps failing', () => {
  it('stays pending while attempts remain, then is marked failed and recorded on the case', async () => {
    const env = telegramEnv(emu, 'tg-notice-fails');
    const service = await startTestService(env, 'api');
    const { caseId } = await reportFromNewChat(service, '兴隆办事处有人焚烧电线，烟很大');
    const id = 'notice-fails-1';
    await service.deps.db
      .insertInto('notifications')
      .values({ id, case_id: caseId, audience: 'reporter', kind: 'dispatched', status: 'pending', data: null, created_at: new Date().toISOString() })
      .execute();
    // Telegram cannot be reached from the worker's side.
    const push = createTelegramPush({ ...env, TELEGRAM_API_ROOT: `http://127.0.0.1:${await freePort()}` });
    const notify = createNotifyProcessor(processorDeps(service.deps), push);
    const status = async () => (await service.deps.db.selectFrom('notifications').select('status').where('id', '=', id).executeTakeFirstOrThrow()).status;

    await expect(notify({ notificationId: id }, { jobId: 'n1', attempt: 1, maxAttempts: 8 })).rejects.toThrow();
    expect(await status()).toBe('pending');
    await expect(notify({ notificationId: id }, { jobId: 'n1', attempt: 8, maxAttempts: 8 })).rejects.toThrow();
    expect(await status()).toBe('failed');
    const failed = (await listEvents(service.deps.db, caseId)).filter((e) => e.kind === 'notification_failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]!.data).toMatchObject({ audience: 'reporter', channel: 'telegram', notice: 'dispatched', attempts: 8 });
    // A later run of the same job finds it settled and sends nothing.
    expect(await notify({ notificationId: id }, { jobId: 'n1', attempt: 8, maxAttempts: 8 })).toBe('skipped: already failed');
  });
});

describe('a notice to a resident who blocked the bot', () => {
  it('is marked failed at its first attempt and recorded on the case, as no retry can help', async () => {
    const env = telegramEnv(emu, 'tg-notice-blocked');
    const service = await startTestService(env, 'api');
    const { chat, caseId } = await reportFromNewChat(service, '兴隆办事处有人焚烧电线，烟很大');
    const id = 'notice-blocked-1';
    await service.deps.db
      .insertInto('notifications')
      .values({ id, case_id: caseId, audience: 'reporter', kind: 'dispatched', status: 'pending', data: null, created_at: new Date().toISOString() })
      .execute();
    await service.deps.db.updateTable('telegram_reporters').set({ code_sent_at: new Date().toISOString() }).where('case_id', '=', caseId).execute();
    emu.forbidChat(chat.chatId, 'Forbidden: bot was blocked by the user');
    const notify = createNotifyProcessor(processorDeps(service.deps), createTelegramPush(env));
    // The first attempt: a blocked chat takes no retry.
    expect(await notify({ notificationId: id }, { jobId: 'n1', attempt: 1, maxAttempts: 8 })).toMatch(/^failed: telegram chat unreachable/);
    const row = await service.deps.db.selectFrom('notifications').select('status').where('id', '=', id).executeTakeFirstOrThrow();
    expect(row.status).toBe('failed');
    const failed = (await listEvents(service.deps.db, caseId)).filter((e) => e.kind === 'notification_failed');
    expect(failed.map((e) => e.data)).toEqual([expect.objectContaining({ audience: 'reporter', channel: 'telegram', notice: 'dispatched', attempts: 1, error: expect.stringContaining('blocked') })]);
    expect(JSON.stringify(failed[0]!.data)).not.toContain(String(chat.chatId));
  });
});

describe('a Telegram report handed to 12345, and back', () => {
  it('tells the chat of the transfer, of the transfer undone, and of 12345 signing for it', async () => {
    const env = telegramEnv(emu, 'tg-transferred');
    const service = await startTestService(env, 'api');
    const { chat, caseId } = await reportFromNewChat(service, '兴隆办事处有人往河里倒废机油');
    const { tracking_code: code } = await service.deps.db.selectFrom('cases').select('tracking_code').where('id', '=', caseId).executeTakeFirstOrThrow();
    const deps = processorDeps(service.deps);
    await createProcessors(deps).intake({ caseId }, { jobId: 'i', attempt: 1, maxAttempts: 1 });
    const at = new Date().toISOString();
    const bearer = async (role: 'dispatcher' | 'bureau', unitCode: string | null) => {
      const user = await createUser(service.deps.db, { name: role, role, unitCode, at });
      return { authorization: `Bearer ${(await issueToken(service.deps.db, { userId: user.id, label: null, at })).token}` };
    };
    const dispatcher = await bearer('dispatcher', null);
    const hotline = await bearer('bureau', 'hotline12345');
    const notify = createNotifyProcessor(deps, createTelegramPush(env));
    /** Sends the case's newest reporter notice of the kind, and returns what the chat read. */
    const told = async (kind: string) => {
      const n = await service.deps.db.selectFrom('notifications').select('id').where('case_id', '=', caseId).where('kind', '=', kind).orderBy('created_at', 'desc').executeTakeFirstOrThrow();
      const before = emu.calls.length;
      expect(await notify({ notificationId: n.id }, { jobId: n.id, attempt: 1, maxAttempts: 8 })).toBe(`sent to telegram: ${kind}`);
      return sentTexts(emu.calls.slice(before), chat.chatId);
    };

    expect((await postJson(`${service.url}/api/v1/cases/${caseId}/transfer`, { reason: '非环境类诉求' }, dispatcher)).status).toBe(200);
    expect(await told('transferred')).toEqual([`您的举报 ${code} 不属于环境问题，已转 区12345热线 办理。`]);
    expect((await postJson(`${service.url}/api/v1/cases/${caseId}/untransfer`, { reason: '属环境问题' }, dispatcher)).status).toBe(200);
    expect(await told('untransferred')).toEqual([`您的举报 ${code} 经核实属于环境问题，不再转办，将重新派发办理。`]);

    // Handed over again, 12345 signs for it.
    expect((await postJson(`${service.url}/api/v1/cases/${caseId}/transfer`, { reason: '非环境类诉求' }, dispatcher)).status).toBe(200);
    const signed = await postJson(`${service.url}/api/v1/cases/${caseId}/accept`, {}, hotline);
    expect(signed.status, await signed.clone().text()).toBe(200);
    expect((await told('accepted')).join('')).toContain('区12345热线');
  });
});

describe('a Telegram report merged into another case', () => {
  /**
   * Two reports of one factory from two chats, routed; a dispatcher merges the second into the first. Their reporters
   * left contacts, 石磊 and 上官短语 (an anonymous one's words keep no name), unless the second is anonymous.
   */
  async function mergedPair(name: string, survivorText: string, duplicateText: string, duplicateContact: string | null = '我叫上官短语，电话13812340000') {
    const env = telegramEnv(emu, name);
    const service = await startTestService(env, 'api');
    const survivor = await reportFromNewChat(service, survivorText, '我叫石磊，电话13812345678');
    const duplicate = await reportFromNewChat(service, duplicateText, duplicateContact ?? undefined);
    const deps = processorDeps(service.deps);
    for (const c of [survivor, duplicate]) await createProcessors(deps).intake({ caseId: c.caseId }, { jobId: 'i', attempt: 1, maxAttempts: 1 });
    const dispatcher = await createUser(service.deps.db, { name: 'dispatcher', role: 'dispatcher', unitCode: null, at: new Date().toISOString() });
    const { token } = await issueToken(service.deps.db, { userId: dispatcher.id, label: null, at: new Date().toISOString() });
    const merged = await postJson(`${service.url}/api/v1/cases/${duplicate.caseId}/merge`, { into: survivor.caseId, reason: '同一工厂重复举报' }, { authorization: `Bearer ${token}` });
    expect(merged.status, await merged.clone().text()).toBe(200);
    return { env, service, deps, survivor, duplicate };
  }

  it("follows the surviving case: its reporter gets the surviving case's notices, without rating buttons", async () => {
    const { env, service, deps, survivor, duplicate } = await mergedPair('tg-merged', '我叫石磊，兴隆办事处化工厂晚上往沟里排黑水', '兴隆那个化工厂又在往沟里排黑水了');

    // The bureau's reply, queued as the workflow queues it: a notice to the case's reporter and one to the duplicate's chat.
    const reply = { text: '石磊先生您好，已责令停产整改，上官短语反映的也是这家厂。联系人：李科长', lead: 'epb' };
    await service.deps.db.transaction().execute((trx) => queueNotification(trx, { caseId: survivor.caseId, audience: 'reporter', kind: 'replied', data: reply }, new Date()));
    const notices = await service.deps.db.selectFrom('notifications').select(['id', 'audience', 'status']).where('case_id', '=', survivor.caseId).where('kind', '=', 'replied').orderBy('audience').execute();
    expect(notices).toEqual([
      { id: expect.any(String), audience: `chat:${duplicate.chat.chatId}`, status: 'pending' },
      { id: expect.any(String), audience: 'reporter', status: 'pending' },
    ]);
    const notify = createNotifyProcessor(deps, createTelegramPush(env));
    const before = emu.calls.length;
    expect(await notify({ notificationId: notices[1]!.id }, { jobId: 'n1', attempt: 1, maxAttempts: 8 })).toBe('sent to telegram: replied');
    // Telegram refuses the duplicate's chat a while: its own notice is retried, the case's reporter told once.
    emu.rateLimitNext('sendMessage', 1, 3600, duplicate.chat.chatId);
    await expect(notify({ notificationId: notices[0]!.id }, { jobId: 'n2', attempt: 1, maxAttempts: 8 })).rejects.toThrow(/retry after/);
    expect(await notify({ notificationId: notices[0]!.id }, { jobId: 'n2', attempt: 2, maxAttempts: 8 })).toBe('sent to telegram: replied, to the reporter of a merged duplicate');
    const sent = emu.calls.slice(before).filter((c) => c.method === 'sendMessage');
    const codeOf = async (id: string) => (await service.deps.db.selectFrom('cases').select('tracking_code').where('id', '=', id).executeTakeFirstOrThrow()).tracking_code;
    const code = await codeOf(survivor.caseId);
    const ownCode = await codeOf(duplicate.caseId);
    const toSurvivor = sent.filter((c) => Number(c.body.chat_id) === survivor.chat.chatId);
    const toDuplicate = sent.find((c) => Number(c.body.chat_id) === duplicate.chat.chatId)!;
    expect(emu.calls.slice(before).filter((c) => c.method === 'sendMessage:429').map((c) => Number(c.body.chat_id))).toEqual([duplicate.chat.chatId]);
    expect(toSurvivor).toHaveLength(1);
    expect(String(toSurvivor[0]!.body.text)).toContain(code);
    expect(toSurvivor[0]!.body.reply_markup).toBeDefined();
    // The duplicate's chat is told under its own code, with its own page's link: the case's code would open its
    // page to them, and rating its answer there.
    expect(String(toDuplicate.body.text)).toContain(ownCode);
    expect(String(toDuplicate.body.text)).toContain(`/track/${ownCode}`);
    expect(String(toDuplicate.body.text)).not.toContain(code);
    expect(toDuplicate.body.reply_markup).toBeUndefined();
    // The reply names the case's own reporter: they read it as written, the duplicate's reporter does not.
    expect(String(toSurvivor[0]!.body.text)).toContain('石磊先生您好');
    // The reporter of the report merged into it is not the case's reporter's to read.
    expect(String(toSurvivor[0]!.body.text)).toContain('上***反映的也是这家厂');
    expect(String(toSurvivor[0]!.body.text)).not.toContain('上官短语');
    expect(String(toDuplicate.body.text)).toContain('石*先生您好');
    expect(String(toDuplicate.body.text)).not.toContain('石磊');
    // The official who answers is no name of the reporter's.
    expect(String(toDuplicate.body.text)).toContain('联系人：李科长');
    // Notices about the reporter's own report (its photos) are not the duplicate's to hear.
    await service.deps.db.transaction().execute((trx) => queueNotification(trx, { caseId: survivor.caseId, audience: 'reporter', kind: 'photos_not_saved', data: { photos: 1 } }, new Date()));
    expect(await service.deps.db.selectFrom('notifications').select('audience').where('case_id', '=', survivor.caseId).where('kind', '=', 'photos_not_saved').execute()).toEqual([{ audience: 'reporter' }]);
  });

  it("masks in the case's reporter's chat the name staff give the reporter of an anonymous report merged into it, as its tracking page does", async () => {
    const { env, service, deps, survivor } = await mergedPair('tg-merged-anonymous', '我叫石磊，兴隆办事处化工厂晚上往沟里排黑水', '兴隆那个化工厂又在往沟里排黑水了', null);

    const reply = { text: '石磊先生您好，已责令停产整改；与王小明的举报是同一家厂，已一并回访王小明。', lead: 'epb' };
    await service.deps.db.transaction().execute((trx) => queueNotification(trx, { caseId: survivor.caseId, audience: 'reporter', kind: 'replied', data: reply }, new Date()));
    const notice = await service.deps.db.selectFrom('notifications').select('id').where('case_id', '=', survivor.caseId).where('kind', '=', 'replied').where('audience', '=', 'reporter').executeTakeFirstOrThrow();
    const before = emu.calls.length;
    expect(await createNotifyProcessor(deps, createTelegramPush(env))({ notificationId: notice.id }, { jobId: 'n1', attempt: 1, maxAttempts: 8 })).toBe('sent to telegram: replied');
    const sent = emu.calls.slice(before).find((c) => c.method === 'sendMessage' && Number(c.body.chat_id) === survivor.chat.chatId)!;
    // Their own name as written; the other reporter's, whom no contact names, masked.
    expect(String(sent.body.text)).toContain('石磊先生您好');
    expect(String(sent.body.text)).toContain('与王**的举报是同一家厂，已一并回访王**');
    expect(String(sent.body.text)).not.toContain('王小明');
  });

  it("tells the duplicate's chat of the merge and, on /status, how the case goes, all under the duplicate's own code", async () => {
    const { env, service, deps, survivor, duplicate } = await mergedPair('tg-merged-status', '兴隆办事处化工厂晚上往沟里排黑水', '兴隆那个化工厂又在往沟里排黑水了');
    const codeOf = async (id: string) => (await service.deps.db.selectFrom('cases').select('tracking_code').where('id', '=', id).executeTakeFirstOrThrow()).tracking_code;
    const [code, ownCode] = [await codeOf(survivor.caseId), await codeOf(duplicate.caseId)];
    const merged = await service.deps.db.selectFrom('notifications').select('id').where('case_id', '=', duplicate.caseId).where('kind', '=', 'merged').executeTakeFirstOrThrow();
    const before = emu.calls.length;
    expect(await createNotifyProcessor(deps, createTelegramPush(env))({ notificationId: merged.id }, { jobId: 'm', attempt: 1, maxAttempts: 8 })).toBe('sent to telegram: merged');
    const told = sentTexts(emu.calls.slice(before), duplicate.chat.chatId);
    expect(told).toEqual([`您的举报 ${ownCode} 与另一件反映同一问题的举报合并办理，办理进展会继续在这里告诉您，也可以用查询码 ${ownCode} 查询。`]);
    const status = sentTexts((await deliver(emu, service.url, duplicate.chat.command(`/status ${ownCode}`))).calls, duplicate.chat.chatId).join('\n');
    expect(status).toContain(`案件 ${ownCode}\n状态：已并案（合并办理，当前：已派单）\n承办单位：区环保局\n`);
    expect(status).not.toContain(code);
    const list = sentTexts((await deliver(emu, service.url, duplicate.chat.command('/status'))).calls, duplicate.chat.chatId).join('\n');
    expect(list).toContain(`${ownCode} · 已并案（合并办理，当前：已派单） · `);
    expect(list).not.toContain(code);

    // The merge undone: the chat is told, and no longer hears of the other case.
    const at = new Date().toISOString();
    const dispatcher = await createUser(service.deps.db, { name: 'dispatcher 2', role: 'dispatcher', unitCode: null, at });
    const { token } = await issueToken(service.deps.db, { userId: dispatcher.id, label: null, at });
    const undone = await postJson(`${service.url}/api/v1/cases/${duplicate.caseId}/unmerge`, { reason: '不是同一个问题' }, { authorization: `Bearer ${token}` });
    expect(undone.status, await undone.clone().text()).toBe(200);
    const unmerged = await service.deps.db.selectFrom('notifications').select('id').where('case_id', '=', duplicate.caseId).where('kind', '=', 'unmerged').executeTakeFirstOrThrow();
    const later = emu.calls.length;
    expect(await createNotifyProcessor(deps, createTelegramPush(env))({ notificationId: unmerged.id }, { jobId: 'u', attempt: 1, maxAttempts: 8 })).toBe('sent to telegram: unmerged');
    expect(sentTexts(emu.calls.slice(later), duplicate.chat.chatId)).toEqual([`您的举报 ${ownCode} 已撤销合并，将单独派发办理。`]);
    await service.deps.db.transaction().execute((trx) => queueNotification(trx, { caseId: survivor.caseId, audience: 'reporter', kind: 'accepted', data: { unit: 'epb' } }, new Date()));
    expect(await service.deps.db.selectFrom('notifications').select('audience').where('case_id', '=', survivor.caseId).where('kind', '=', 'accepted').execute()).toEqual([{ audience: 'reporter' }]);
  });

  it('follows the case the surviving one was merged into in turn, each chat under its own code, the other reporters masked', async () => {
    const { env, service, deps, survivor, duplicate } = await mergedPair('tg-merged-chain', '我叫石磊，兴隆办事处化工厂晚上往沟里排黑水', '兴隆那个化工厂又在往沟里排黑水了');
    const last = (await (await postJson(`${service.url}/api/v1/reports`, { text: '兴隆办事处化工厂晚上往沟里排黑水，气味很大', anonymous: true })).json()) as { id: string; trackingCode: string };
    await createProcessors(deps).intake({ caseId: last.id }, { jobId: 'i', attempt: 1, maxAttempts: 1 });
    const at = new Date().toISOString();
    const dispatcher = await createUser(service.deps.db, { name: 'dispatcher 2', role: 'dispatcher', unitCode: null, at });
    const { token } = await issueToken(service.deps.db, { userId: dispatcher.id, label: null, at });
    const merged = await postJson(`${service.url}/api/v1/cases/${survivor.caseId}/merge`, { into: last.id, reason: '同一工厂重复举报' }, { authorization: `Bearer ${token}` });
    expect(merged.status, await merged.clone().text()).toBe(200);

    await service.deps.db.transaction().execute((trx) => queueNotification(trx, { caseId: last.id, audience: 'reporter', kind: 'accepted', data: { unit: 'epb' } }, new Date()));
    const notices = await service.deps.db.selectFrom('notifications').select(['id', 'audience']).where('case_id', '=', last.id).where('kind', '=', 'accepted').orderBy('audience').execute();
    const chats = [survivor.chat, duplicate.chat];
    expect(notices.map((n) => n.audience).sort()).toEqual([...chats.map((c) => `chat:${c.chatId}`), 'reporter'].sort());
    const notify = createNotifyProcessor(deps, createTelegramPush(env));
    const before = emu.calls.length;
    for (const n of notices.filter((x) => x.audience !== 'reporter')) {
      expect(await notify({ notificationId: n.id }, { jobId: n.id, attempt: 1, maxAttempts: 8 })).toBe('sent to telegram: accepted, to the reporter of a merged duplicate');
    }
    for (const [chat, caseId] of [
      [survivor.chat, survivor.caseId],
      [duplicate.chat, duplicate.caseId],
    ] as const) {
      const own = (await service.deps.db.selectFrom('cases').select('tracking_code').where('id', '=', caseId).executeTakeFirstOrThrow()).tracking_code;
      const told = sentTexts(emu.calls.slice(before), chat.chatId);
      expect(told).toHaveLength(1);
      expect(told[0]).toContain(own);
      expect(told[0]).not.toContain(last.trackingCode);
    }
    // The answer names the reporter of the report in the middle: the first report's chat reads it masked.
    await service.deps.db.transaction().execute((trx) => queueNotification(trx, { caseId: last.id, audience: 'reporter', kind: 'replied', data: { text: '石磊先生您好，已责令停产整改。', lead: 'epb' } }, new Date()));
    const reply = await service.deps.db.selectFrom('notifications').select('id').where('case_id', '=', last.id).where('kind', '=', 'replied').where('audience', '=', `chat:${duplicate.chat.chatId}`).executeTakeFirstOrThrow();
    const beforeReply = emu.calls.length;
    await notify({ notificationId: reply.id }, { jobId: reply.id, attempt: 1, maxAttempts: 8 });
    const answer = sentTexts(emu.calls.slice(beforeReply), duplicate.chat.chatId).join('\n');
    expect(answer).toContain('石*先生您好');
    expect(answer).not.toContain('石磊');
  });

  it("records a notice the duplicate's chat never took as failed on the case, without the chat", async () => {
    const pair = await mergedPair('tg-merged-failed', '兴隆办事处化工厂晚上往沟里排黑水', '兴隆办事处化工厂晚上往沟里排黑水');
    const { env, service, deps } = pair;
    const survivor = pair.survivor.caseId;
    const chats = [pair.survivor.chat, pair.duplicate.chat];
    await service.deps.db.transaction().execute((trx) => queueNotification(trx, { caseId: survivor, audience: 'reporter', kind: 'extended', data: { replyBy: '2026-12-20T10:00:00.000Z' } }, new Date()));
    const notice = await service.deps.db.selectFrom('notifications').select('id').where('case_id', '=', survivor).where('audience', '=', `chat:${chats[1]!.chatId}`).executeTakeFirstOrThrow();
    emu.rateLimitNext('sendMessage', 1, 3600, chats[1]!.chatId);
    const notify = createNotifyProcessor(deps, createTelegramPush(env));
    await expect(notify({ notificationId: notice.id }, { jobId: 'n', attempt: 8, maxAttempts: 8 })).rejects.toThrow(/retry after/);
    expect(await service.deps.db.selectFrom('notifications').select('status').where('id', '=', notice.id).executeTakeFirstOrThrow()).toEqual({ status: 'failed' });
    const failed = (await listEvents(service.deps.db, survivor)).filter((e) => e.kind === 'notification_failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]!.data).toMatchObject({ audience: 'merged_reporter', channel: 'telegram', notice: 'extended', attempts: 8 });
    expect(JSON.stringify(failed[0]!.data)).not.toContain(String(chats[1]!.chatId));
  });
});

describe('a Telegram report merged into a web report', () => {
  it("tells the Telegram reporter the web case's changes, though the web reporter is not pushed to", async () => {
    const env = telegramEnv(emu, 'tg-merged-into-web');
    const service = await startTestService(env, 'api');
    const deps = processorDeps(service.deps);
    const web = (await (await postJson(`${service.url}/api/v1/reports`, { text: '兴隆办事处化工厂晚上往沟里排黑水', anonymous: true })).json()) as { id: string; trackingCode: string };
    const { chat, caseId } = await reportFromNewChat(service, '兴隆那个化工厂又在往沟里排黑水了');
    for (const id of [web.id, caseId]) await createProcessors(deps).intake({ caseId: id }, { jobId: 'i', attempt: 1, maxAttempts: 1 });
    const at = new Date().toISOString();
    const dispatcher = await createUser(service.deps.db, { name: 'dispatcher', role: 'dispatcher', unitCode: null, at });
    const clerk = await createUser(service.deps.db, { name: '环保局张三', role: 'bureau', unitCode: 'epb', at });
    const bearer = async (userId: string) => ({ authorization: `Bearer ${(await issueToken(service.deps.db, { userId, label: null, at })).token}` });
    const merged = await postJson(`${service.url}/api/v1/cases/${caseId}/merge`, { into: web.id, reason: '同一工厂重复举报' }, await bearer(dispatcher.id));
    expect(merged.status, await merged.clone().text()).toBe(200);
    const accepted = await postJson(`${service.url}/api/v1/cases/${web.id}/accept`, {}, await bearer(clerk.id));
    expect(accepted.status, await accepted.clone().text()).toBe(200);

    const notice = await service.deps.db.selectFrom('notifications').select(['id', 'status']).where('case_id', '=', web.id).where('kind', '=', 'accepted').where('audience', '=', 'reporter').executeTakeFirstOrThrow();
    // The web reporter follows the tracking page; the Telegram reporter of the duplicate is told in the chat.
    expect(notice.status).toBe('skipped');
    const toChat = await service.deps.db.selectFrom('notifications').select(['id', 'status']).where('case_id', '=', web.id).where('kind', '=', 'accepted').where('audience', '=', `chat:${chat.chatId}`).executeTakeFirstOrThrow();
    expect(toChat.status).toBe('pending');
    const before = emu.calls.length;
    const outcome = await createNotifyProcessor(deps, createTelegramPush(env))({ notificationId: toChat.id }, { jobId: 'n', attempt: 1, maxAttempts: 8 });
    expect(outcome).toBe('sent to telegram: accepted, to the reporter of a merged duplicate');
    const own = await service.deps.db.selectFrom('cases').select('tracking_code').where('id', '=', caseId).executeTakeFirstOrThrow();
    const told = sentTexts(emu.calls.slice(before), chat.chatId).join('\n');
    expect(told).toContain(own.tracking_code);
    expect(told).not.toContain(web.trackingCode);
  });
});

describe('photos of a Telegram report that cannot be saved', () => {
  /** A report of two photos sent from a chat, submitted; the photos job and the notices left to the test. */
  async function reportWithPhotos(service: Awaited<ReturnType<typeof startTestService>>, fileIds: string[], language = 'zh-hans') {
    const chat = residentChat(nextChat++, language);
    for (const id of fileIds) await deliver(emu, service.url, chat.photo(id));
    await deliver(emu, service.url, chat.text('兴隆办事处有个化工厂晚上往沟里排黑水，气味很大'));
    await deliver(emu, service.url, chat.button('c:anonymous'));
    await deliver(emu, service.url, chat.button('c:confirm'));
    const link = await waitFor(() => service.deps.db.selectFrom('telegram_reporters').select('case_id').where('chat_id', '=', String(chat.chatId)).executeTakeFirst());
    const c = await service.deps.db.selectFrom('cases').select('tracking_code').where('id', '=', link.case_id).executeTakeFirstOrThrow();
    return { chat, caseId: link.case_id, code: c.tracking_code };
  }
  const photoNotices = (service: Awaited<ReturnType<typeof startTestService>>, caseId: string) =>
    service.deps.db.selectFrom('notifications').select(['id', 'audience', 'status', 'data']).where('case_id', '=', caseId).where('kind', '=', 'photos_not_saved').execute();

  it('tells the chat once, in its language, how many photos were not saved and how to send them again, when the job gives up', async () => {
    const env = telegramEnv(emu, 'tg-photos-lost');
    const service = await startTestService(env, 'api');
    const deps = processorDeps(service.deps);
    const { chat, caseId, code } = await reportWithPhotos(service, ['kept-1', 'unfetchable-1'], 'en');
    const photos = createTelegramPhotosProcessor(deps);
    const notify = createNotifyProcessor(deps, createTelegramPush(env));

    // Attempts remain: the queue retries, the chat hears nothing yet.
    await expect(photos({ caseId }, { jobId: 'p', attempt: 1, maxAttempts: 6 })).rejects.toThrow();
    expect(await photoNotices(service, caseId)).toEqual([]);
    // The last attempt keeps what it could fetch, and queues the notice for the rest.
    expect(await photos({ caseId }, { jobId: 'p', attempt: 6, maxAttempts: 6 })).toBe('attached 1 photo(s), 1 not downloaded');
    // Redelivered, the job finds the photos settled: no second notice.
    expect(await photos({ caseId }, { jobId: 'p', attempt: 6, maxAttempts: 6 })).toBe('skipped: photos already done');
    const notices = await photoNotices(service, caseId);
    expect(notices).toEqual([expect.objectContaining({ audience: 'reporter', status: 'pending', data: JSON.stringify({ photos: 1 }) })]);

    const before = emu.calls.length;
    expect(await notify({ notificationId: notices[0]!.id }, { jobId: 'n', attempt: 1, maxAttempts: 8 })).toBe('sent to telegram: photos_not_saved');
    expect(await notify({ notificationId: notices[0]!.id }, { jobId: 'n', attempt: 1, maxAttempts: 8 })).toBe('skipped: already sent');
    expect(sentTexts(emu.calls.slice(before), chat.chatId)).toEqual([
      `1 photo of your report ${code} could not be saved. To add it, send it again in a new message as a new report and mention the tracking code ${code} in it.`,
    ]);
    expect(await service.deps.db.selectFrom('case_attachments').select('id').where('case_id', '=', caseId).execute()).toHaveLength(1);

    // A report whose photos a retry fetches, after Telegram could not be reached: nothing to tell.
    const retried = await reportWithPhotos(service, ['retry-1', 'retry-2']);
    const down = createTelegramPush({ ...env, TELEGRAM_API_ROOT: `http://127.0.0.1:${await freePort()}` });
    await expect(createTelegramPhotosProcessor({ ...deps, telegram: down })({ caseId: retried.caseId }, { jobId: 'p2', attempt: 1, maxAttempts: 6 })).rejects.toThrow();
    expect(await photos({ caseId: retried.caseId }, { jobId: 'p2', attempt: 2, maxAttempts: 6 })).toBe('attached 2 photo(s)');
    expect(await photoNotices(service, retried.caseId)).toEqual([]);
  });

  it('tells the chat of every photo when the last attempt fails before any is kept, and in Chinese', async () => {
    const env = telegramEnv(emu, 'tg-photos-store-fails');
    const service = await startTestService(env, 'api');
    const { chat, caseId, code } = await reportWithPhotos(service, ['store-fails-1', 'store-fails-2']);
    // The photo store cannot be written to (its directory is a file).
    const blocked = `${service.deps.env.UPLOAD_DIR}/blocked`;
    await mkdir(service.deps.env.UPLOAD_DIR, { recursive: true });
    await writeFile(blocked, '');
    const deps = { ...processorDeps(service.deps), photos: createLocalPhotoStore(blocked) };
    const photos = createTelegramPhotosProcessor(deps);
    await expect(photos({ caseId }, { jobId: 'p', attempt: 6, maxAttempts: 6 })).rejects.toThrow();
    await expect(photos({ caseId }, { jobId: 'p', attempt: 6, maxAttempts: 6 })).resolves.toBe('skipped: photos already failed');
    const notices = await photoNotices(service, caseId);
    expect(notices).toEqual([expect.objectContaining({ audience: 'reporter', data: JSON.stringify({ photos: 2 }) })]);
    const before = emu.calls.length;
    await createNotifyProcessor(deps, createTelegramPush(env))({ notificationId: notices[0]!.id }, { jobId: 'n', attempt: 1, maxAttempts: 8 });
    expect(sentTexts(emu.calls.slice(before), chat.chatId)).toEqual([
      `您的举报 ${code} 有 2 张照片未能保存。需要补充照片，请发送新消息作为新的举报，附上照片并写明查询码 ${code}。`,
    ]);
  });
});

describe('a group post that keeps failing', () => {
  it('is marked failed on the last attempt and recorded on the case as a failed delivery', async () => {
    const group = -100_555;
    const service = await startTestService(telegramEnv(emu, 'tg-post-fails'), 'api', { district: districtWithGroups({ epb: group }) });
    const res = await postJson(`${service.url}/api/v1/reports`, { text: '兴隆办事处有个化工厂晚上往沟里排黑水，气味很大', anonymous: true });
    const { id } = (await res.json()) as { id: string };
    const deps = processorDeps(service.deps);
    expect(await createProcessors(deps).intake({ caseId: id }, { jobId: 'i', attempt: 1, maxAttempts: 1 })).toMatch(/^dispatch/);
    const post = createTelegramPostProcessor({ ...deps, telegram: createTelegramPush({ ...service.deps.env, TELEGRAM_API_ROOT: `http://127.0.0.1:${await freePort()}` }) });
    const payload = { caseId: id, unit: 'epb', round: 1 };

    await expect(post(payload, { jobId: 'p', attempt: 1, maxAttempts: 10 })).rejects.toThrow();
    expect((await listEvents(service.deps.db, id)).filter((e) => e.kind === 'delivery_failed')).toEqual([]);
    await expect(post(payload, { jobId: 'p', attempt: 10, maxAttempts: 10 })).rejects.toThrow();
    const row = await service.deps.db.selectFrom('telegram_bureau_posts').select(['status', 'message_id']).where('case_id', '=', id).where('unit_code', '=', 'epb').executeTakeFirstOrThrow();
    expect(row).toEqual({ status: 'failed', message_id: null });
    const failed = (await listEvents(service.deps.db, id)).filter((e) => e.kind === 'delivery_failed');
    expect(failed.map((e) => e.data)).toEqual([expect.objectContaining({ unit: 'epb', channel: 'telegram', attempts: 10 })]);
  });
});

describe('a group post Telegram took but the database did not record', () => {
  it('is deleted before the job fails, so that the post of its retry is the only one the group keeps', async () => {
    const group = -100_557;
    const service = await startTestService(telegramEnv(emu, 'tg-post-unrecorded'), 'api', { district: districtWithGroups({ epb: group }) });
    const form = new FormData();
    form.set('text', '兴隆办事处有个化工厂晚上往沟里排黑水，气味很大');
    form.set('anonymous', 'true');
    form.append('photos', new Blob([JPEG_BYTES], { type: 'image/jpeg' }), 'a.jpg');
    form.append('photos', new Blob([JPEG_BYTES], { type: 'image/jpeg' }), 'b.jpg');
    const res = await fetch(`${service.url}/api/v1/reports`, { method: 'POST', body: form });
    const { id } = (await res.json()) as { id: string };
    const deps = processorDeps(service.deps);
    expect(await createProcessors(deps).intake({ caseId: id }, { jobId: 'i', attempt: 1, maxAttempts: 1 })).toMatch(/^dispatch/);
    const post = createTelegramPostProcessor({ ...deps, telegram: createTelegramPush(service.deps.env) });
    const payload = { caseId: id, unit: 'epb', round: 1 };
    const toGroup = (method: string) => emu.toChat(group).filter((c) => c.method === method);
    // The database refuses to record what the group was sent (a real refusal, by a trigger), first the photos, then the post.
    const refuse = (column: string) =>
      sql`CREATE TRIGGER refuse_record BEFORE UPDATE OF ${sql.raw(column)} ON telegram_bureau_posts WHEN NEW.${sql.raw(column)} IS NOT NULL BEGIN SELECT RAISE(ABORT, 'database is locked'); END`.execute(service.deps.db);
    const allow = () => sql`DROP TRIGGER refuse_record`.execute(service.deps.db);

    await refuse('photo_message_ids');
    await expect(post(payload, { jobId: 'p', attempt: 1, maxAttempts: 10 })).rejects.toThrow('database is locked');
    expect(toGroup('sendMediaGroup')).toHaveLength(1);
    expect(toGroup('deleteMessages')).toHaveLength(1);
    expect(toGroup('sendMessage')).toEqual([]);
    await allow();

    await refuse('message_id');
    await expect(post(payload, { jobId: 'p', attempt: 2, maxAttempts: 10 })).rejects.toThrow('database is locked');
    await allow();
    expect(await post(payload, { jobId: 'p', attempt: 3, maxAttempts: 10 })).toBe('posted to the epb group');

    // Two albums and two posts went out; the first of each was deleted, and what the row records is what stays.
    expect(toGroup('sendMediaGroup')).toHaveLength(2);
    expect(toGroup('sendMessage')).toHaveLength(2);
    const row = await service.deps.db.selectFrom('telegram_bureau_posts').select(['status', 'message_id', 'photo_message_ids']).where('case_id', '=', id).executeTakeFirstOrThrow();
    expect(row.status).toBe('posted');
    const deleted = toGroup('deleteMessages').map((c) => (c.body.message_ids as number[]).map(Number));
    expect(deleted).toHaveLength(2);
    expect(deleted[0]).toHaveLength(2);
    expect(deleted[1]).toHaveLength(1);
    const kept = [Number(row.message_id), ...(JSON.parse(String(row.photo_message_ids)) as number[])];
    expect(kept).toHaveLength(3);
    for (const gone of deleted.flat()) expect(kept).not.toContain(gone);
  });
});

describe('a group post to a group that removed the bot', () => {
  it('is marked failed at its first attempt and recorded on the case, as no retry can help until the bot is back', async () => {
    const group = -100_556;
    const service = await startTestService(telegramEnv(emu, 'tg-post-kicked'), 'api', { district: districtWithGroups({ epb: group }) });
    const res = await postJson(`${service.url}/api/v1/reports`, { text: '兴隆办事处有个化工厂晚上往沟里排黑水，气味很大', anonymous: true });
    const { id } = (await res.json()) as { id: string };
    const deps = processorDeps(service.deps);
    expect(await createProcessors(deps).intake({ caseId: id }, { jobId: 'i', attempt: 1, maxAttempts: 1 })).toMatch(/^dispatch/);
    emu.forbidChat(group, 'Forbidden: bot was kicked from the supergroup chat');
    const post = createTelegramPostProcessor({ ...deps, telegram: createTelegramPush(service.deps.env) });
    await expect(post({ caseId: id, unit: 'epb', round: 1 }, { jobId: 'p', attempt: 1, maxAttempts: 10 })).rejects.toBeInstanceOf(PermanentJobError);
    const row = await service.deps.db.selectFrom('telegram_bureau_posts').select(['status', 'message_id']).where('case_id', '=', id).where('unit_code', '=', 'epb').executeTakeFirstOrThrow();
    expect(row).toEqual({ status: 'failed', message_id: null });
    const failed = (await listEvents(service.deps.db, id)).filter((e) => e.kind === 'delivery_failed');
    expect(failed.map((e) => e.data)).toEqual([expect.objectContaining({ unit: 'epb', channel: 'telegram', attempts: 1, error: expect.stringContaining('kicked') })]);
  });
});

describe('one chat handled by several processes', () => {
  it('keeps every photo of an album whose updates reach two API processes at once', async () => {
    const env = telegramEnv(emu, 'tg-two-processes');
    const first = await startTestService(env);
    const second = await startTestService(env, 'api');
    const chat = residentChat(nextChat++);
    const photos = Array.from({ length: 5 }, (_, i) => chat.photo(`album-${i}`));
    // As Telegram does: an update answered 503 (the chat stayed busy past the wait, on a loaded machine) comes again, same id.
    const asTelegram = async (url: string, update: Record<string, unknown>) => {
      let r = await deliver(emu, url, update);
      for (let again = 0; r.status === 503 && again < 5; again++) r = await deliver(emu, url, update, { updateId: r.updateId });
      return r;
    };
    const results = await Promise.all(photos.map((p, i) => asTelegram((i % 2 === 0 ? first : second).url, p)));
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    const row = await first.deps.db.selectFrom('telegram_sessions').select('state').where('chat_id', '=', String(chat.chatId)).executeTakeFirstOrThrow();
    const state = JSON.parse(row.state) as { draft: { photos: string[] } };
    expect([...state.draft.photos].sort()).toEqual(['album-0', 'album-1', 'album-2', 'album-3', 'album-4']);
    // Each photo was acknowledged with its own count: the updates saw each other's photos.
    const counts = sentTexts(emu.toChat(chat.chatId)).map((t) => /共 (\d) 张/.exec(t)?.[1]).filter(Boolean).sort();
    expect(counts).toEqual(['1', '2', '3', '4', '5']);
    expect(await first.deps.db.selectFrom('telegram_chat_locks').selectAll().execute()).toEqual([]);
  });

  it('makes a second holder wait for the lease on PostgreSQL, and takes over an expired one', async () => {
    const url = await createPgDatabase('tglock');
    const a = connectDatabase(url, { poolSize: 2 });
    const b = connectDatabase(url, { poolSize: 2 });
    try {
      await migrateToLatest(a.db);
      const releaseA = await lockChat(a.db, systemClock, '42');
      let bHolds = false;
      const bLock = lockChat(b.db, systemClock, '42').then((release) => {
        bHolds = true;
        return release;
      });
      // B polls the lease many times meanwhile, and never gets it while A holds it.
      await new Promise((r) => setTimeout(r, CHAT_LOCK.pollMs * 10));
      expect(bHolds).toBe(false);
      await releaseA();
      const releaseB = await bLock;
      expect(bHolds).toBe(true);
      await releaseB();

      // A holder that died: its lease runs out and the next one takes over.
      await lockChat(a.db, systemClock, '43', { ...CHAT_LOCK, leaseMs: 1 });
      const later = { now: () => new Date(Date.now() + 1000) };
      const taken = await lockChat(b.db, later, '43', { ...CHAT_LOCK, waitMs: 0 });
      const row = await b.db.selectFrom('telegram_chat_locks').selectAll().where('chat_id', '=', '43').executeTakeFirstOrThrow();
      expect(Date.parse(row.expires_at)).toBeGreaterThan(Date.now());
      await taken();
    } finally {
      await a.db.destroy();
      await b.db.destroy();
    }
  });
});

/** One pass of the Node reconciler, as the worker process runs it, at `hoursAhead` hours from now: what it did. */
async function reconcilerPass(service: Awaited<ReturnType<typeof startTestService>>, hoursAhead = 0) {
  const clock = new ManualClock(new Date(Date.now() + hoursAhead * 3600_000));
  const reconciler = createReconciler({ db: service.deps.db, transport: service.deps.transport, clock, logger: createLogger('silent'), intervalMs: 3600_000, graceMs: 3600_000 });
  try {
    return await reconciler.runOnce();
  } finally {
    await reconciler.stop();
  }
}

describe('pruning handled update ids', () => {
  it("handles an update without pruning; the reconciler's pass forgets update ids older than 48 hours and keeps the recent ones for duplicate detection", async () => {
    // 'api': no reconciler of the service's own prunes meanwhile.
    const service = await startTestService(telegramEnv(emu, 'tg-prune'), 'api');
    const hoursAgo = (h: number) => new Date(Date.now() - h * 3600_000).toISOString();
    await service.deps.db
      .insertInto('telegram_updates')
      .values([
        { update_id: 1, received_at: hoursAgo(72) },
        { update_id: 2, received_at: hoursAgo(49) },
        { update_id: 3, received_at: hoursAgo(47) },
      ])
      .execute();
    const updateIds = async () => (await service.deps.db.selectFrom('telegram_updates').select('update_id').orderBy('update_id').execute()).map((x) => Number(x.update_id));
    const chatId = nextChat++;
    const chat = residentChat(chatId);
    const r = await deliver(emu, service.url, chat.command('/help'));
    expect(r.status).toBe(200);
    expect(sentTexts(r.calls, chatId)).toHaveLength(1);
    // The update was handled, and the old ids are all still there: handling an update does not prune.
    expect(await updateIds()).toEqual([1, 2, 3, r.updateId]);

    expect((await reconcilerPass(service)).telegramStatePruned).toBe(2);
    expect(await updateIds()).toEqual([3, r.updateId]);
    // A redelivery of a kept update is still dropped: nothing is said to the chat (another job's calls may come meanwhile).
    const again = await deliver(emu, service.url, chat.command('/help'), { updateId: r.updateId });
    expect(again.calls.filter((c) => Number(c.body.chat_id) === chatId)).toEqual([]);
    await reconcilerPass(service, 49);
    expect(await updateIds()).toEqual([]);
  });

  it("drops at the reconciler's pass a report left unfinished for 7 days, with the contact it holds", async () => {
    const service = await startTestService(telegramEnv(emu, 'tg-prune-drafts'), 'api');
    const chat = residentChat(nextChat++);
    await deliver(emu, service.url, chat.text('兴隆办事处有人焚烧电线'));
    await deliver(emu, service.url, chat.text('张三 13812345678'));
    const sessions = () => service.deps.db.selectFrom('telegram_sessions').select('state').where('chat_id', '=', String(chat.chatId)).execute();
    expect(JSON.stringify(await sessions())).toContain('13812345678');
    await reconcilerPass(service, 6 * 24);
    expect(await sessions()).toHaveLength(1);
    await reconcilerPass(service, 7 * 24 + 1);
    expect(await sessions()).toEqual([]);
  });
});

describe('pruning answered edits', () => {
  it('answers the edit of a message once, and again only after 48 hours, when Telegram no longer lets it be edited', async () => {
    const service = await startTestService(telegramEnv(emu, 'tg-prune-edits'), 'api');
    const chat = residentChat(nextChat++);
    const hello = chat.text('你好');
    await deliver(emu, service.url, hello);
    const edit = () => deliver(emu, service.url, chat.edited(hello, { text: '你好，我要举报' }));
    expect(sentTexts((await edit()).calls, chat.chatId)).toEqual([expect.stringContaining('不会改动')]);
    expect(sentTexts((await edit()).calls, chat.chatId)).toEqual([]);
    const notices = () => service.deps.db.selectFrom('telegram_edit_notices').select('message_id').where('chat_id', '=', String(chat.chatId)).execute();
    await reconcilerPass(service, 47);
    expect((await notices()).map((n) => Number(n.message_id))).toEqual([hello.message.message_id]);
    await reconcilerPass(service, 49);
    expect(await notices()).toEqual([]);
    expect(sentTexts((await edit()).calls, chat.chatId)).toEqual([expect.stringContaining('不会改动')]);
  });
});

describe('Telegram rate limits in jobs', () => {
  it('retries a group post that got a 429 after the retry_after Telegram gave', async () => {
    const group = -100_999;
    const service = await startTestService(telegramEnv(emu, 'tg-429-job'), 'all', { district: districtWithGroups({ epb: group }) });
    emu.rateLimitNext('sendMessage', 1, 1, group);
    const res = await fetch(`${service.url}/api/v1/reports`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: '兴隆办事处有个化工厂晚上往沟里排黑水，气味很大', anonymous: true }),
    });
    const { id } = (await res.json()) as { id: string };
    await waitFor(
      () => service.deps.db.selectFrom('telegram_bureau_posts').select('id').where('case_id', '=', id).where('status', '=', 'posted').executeTakeFirst(),
      { what: 'the group post' },
    );
    const toGroup = emu.calls.filter((c) => Number(c.body.chat_id) === group && c.method.startsWith('sendMessage'));
    expect(toGroup.map((c) => c.method)).toEqual(['sendMessage:429', 'sendMessage']);
    expect(toGroup[1]!.at - toGroup[0]!.at).toBeGreaterThanOrEqual(950);
  });
});

describe('bureau groups on PostgreSQL', () => {
  it('posts, links, signs for once and edits the message', async () => {
    const group = -100_777;
    const env = telegramEnv(emu, 'tg-pg', { DATABASE_URL: await createPgDatabase('tgbureau') });
    const service = await startTestService(env, 'all', { district: districtWithGroups({ epb: group }) });
    const user = await createUser(service.deps.db, { name: '赵六', role: 'bureau', unitCode: 'epb', at: new Date().toISOString() });
    const { token } = await issueLinkToken(service.deps.db, { userId: user.id, now: new Date() });
    const tgUser = nextChat++;
    const linked = await deliver(emu, service.url, residentChat(tgUser).command(`/link ${token}`));
    expect(sentTexts(linked.calls, tgUser)[0]).toContain('绑定成功');
    const res = await fetch(`${service.url}/api/v1/reports`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: '兴隆办事处有个化工厂晚上往沟里排黑水，气味很大', anonymous: true }),
    });
    const { id } = (await res.json()) as { id: string };
    const post = await waitFor(
      () => service.deps.db.selectFrom('telegram_bureau_posts').selectAll().where('case_id', '=', id).where('unit_code', '=', 'epb').where('status', '=', 'posted').executeTakeFirst(),
      { what: 'the group post' },
    );
    const member = groupMember(group, tgUser);
    const press = member.press(`g:a:${post.id}`, Number(post.message_id));
    const r = await deliver(emu, service.url, press);
    expect(String(r.calls.find((c) => c.method === 'editMessageText')?.body.text)).toContain('已签收：赵六');
    const again = await deliver(emu, service.url, press, { updateId: r.updateId });
    // Nothing answers the press or touches its post again (another job's calls may come meanwhile).
    expect(again.calls.filter((c) => c.method === 'answerCallbackQuery' || Number(c.body.message_id) === Number(post.message_id))).toEqual([]);
    const late = await deliver(emu, service.url, member.press(`g:a:${post.id}`, Number(post.message_id)));
    expect(alertOf(late.calls)?.show_alert).toBe(true);
    const a = await service.deps.db.selectFrom('assignments').select(['status', 'accepted_by']).where('case_id', '=', id).where('unit_code', '=', 'epb').executeTakeFirstOrThrow();
    expect(a).toEqual({ status: 'accepted', accepted_by: user.id });
  });
});

describe('the notice of an extended deadline', () => {
  it("says the new day on the district's calendar as the tracking page says dates, in the chat's language", () => {
    const district = loadDistrictFile(undefined);
    const notice = (lang: 'zh' | 'en') =>
      noticeText({
        kind: 'extended',
        // 17:00 UTC on 4 January is already the 5th in the district (UTC+8).
        data: { replyBy: '2027-01-04T17:00:00.000Z' },
        trackingCode: 'K7M3QXT9AD',
        lang,
        district,
        trackUrl: 'https://example.gov.cn/track/K7M3QXT9AD',
        timeZone: 'Asia/Shanghai',
      });
    expect(notice('zh')).toBe('您的举报 K7M3QXT9AD 办理期限已延长至 2027年1月5日。');
    expect(notice('en')).toBe('The deadline of your report K7M3QXT9AD was extended to 5 Jan 2027.');
  });
});

describe('a bureau group upgraded to a supergroup', () => {
  it('posts the assignment and the notices to the supergroup Telegram names when it refuses the old group, from then on straight there', async () => {
    const oldGroup = -4_100_001;
    const newGroup = -1_004_100_001;
    const service = await startTestService(telegramEnv(emu, 'tg-migrated-post'), 'api', { district: districtWithGroups({ epb: oldGroup }) });
    emu.migrateChat(oldGroup, newGroup);
    const deps = processorDeps(service.deps);
    const push = createTelegramPush(service.deps.env)!;
    const post = createTelegramPostProcessor({ ...deps, telegram: push });
    const report = async () => {
      const res = await postJson(`${service.url}/api/v1/reports`, { text: '兴隆办事处有个化工厂晚上往沟里排黑水，气味很大', anonymous: true });
      const { id } = (await res.json()) as { id: string };
      await createProcessors(deps).intake({ caseId: id }, { jobId: `i-${id}`, attempt: 1, maxAttempts: 1 });
      return id;
    };
    const first = await report();
    expect(await post({ caseId: first, unit: 'epb', round: 1 }, { jobId: 'p1', attempt: 1, maxAttempts: 10 })).toBe('posted to the epb group');
    const row = await service.deps.db.selectFrom('telegram_bureau_posts').select(['chat_id', 'status']).where('case_id', '=', first).executeTakeFirstOrThrow();
    expect(row).toEqual({ chat_id: String(newGroup), status: 'posted' });
    expect((await listEvents(service.deps.db, first)).filter((e) => e.kind === 'delivery_failed')).toEqual([]);

    // The next case goes straight to the supergroup.
    const second = await report();
    const before = emu.calls.length;
    await post({ caseId: second, unit: 'epb', round: 1 }, { jobId: 'p2', attempt: 1, maxAttempts: 10 });
    expect(emu.calls.slice(before).map((c) => `${c.method} ${String(c.body.chat_id)}`)).toEqual([`sendMessage ${newGroup}`]);

    // A 督办 to the unit reaches the supergroup too.
    await service.deps.db
      .insertInto('notifications')
      .values({ id: 'migrated-notice-1', case_id: second, audience: 'unit:epb', kind: 'supervision', status: 'pending', data: JSON.stringify({ note: '请尽快处理' }), created_at: new Date().toISOString() })
      .execute();
    const notify = createNotifyProcessor(deps, push);
    const told = emu.calls.length;
    expect(await notify({ notificationId: 'migrated-notice-1' }, { jobId: 'n', attempt: 1, maxAttempts: 8 })).toMatch(/sent to epb by telegram/);
    expect(emu.calls.slice(told).filter((c) => c.method === 'sendMessage').map((c) => Number(c.body.chat_id))).toEqual([newGroup]);
  });

  it('withdraws a post made before the upgrade in the old group, where its message and photos stay, never by its id in the new chat', async () => {
    const oldGroup = -4_100_003;
    const newGroup = -1_004_100_003;
    const service = await startTestService(telegramEnv(emu, 'tg-migrated-withdraw'), 'api', { district: districtWithGroups({ econ: oldGroup }) });
    const deps = processorDeps(service.deps);
    const post = createTelegramPostProcessor({ ...deps, telegram: createTelegramPush(service.deps.env) });
    const res = await postJson(`${service.url}/api/v1/reports`, { text: '兴隆办事处有个化工厂晚上往沟里排黑水，气味很大', anonymous: true });
    const { id } = (await res.json()) as { id: string };
    await createProcessors(deps).intake({ caseId: id }, { jobId: `i-${id}`, attempt: 1, maxAttempts: 1 });
    expect(await post({ caseId: id, unit: 'econ', round: 1 }, { jobId: 'p', attempt: 1, maxAttempts: 10 })).toBe('posted to the econ group');
    const row = await service.deps.db.selectFrom('telegram_bureau_posts').select(['id', 'chat_id', 'message_id']).where('case_id', '=', id).executeTakeFirstOrThrow();
    expect(row.chat_id).toBe(String(oldGroup));
    // The photos posted above it, as a report with photos has them.
    await service.deps.db.updateTable('telegram_bureau_posts').set({ photo_message_ids: JSON.stringify([9_100_001, 9_100_002]) }).where('id', '=', row.id).execute();

    // The group becomes a supergroup, and the service learns it from a new post's refusal.
    emu.migrateChat(oldGroup, newGroup);
    const other = await postJson(`${service.url}/api/v1/reports`, { text: '兴隆办事处另一家化工厂往河里排废水', anonymous: true });
    const { id: second } = (await other.json()) as { id: string };
    await createProcessors(deps).intake({ caseId: second }, { jobId: `i-${second}`, attempt: 1, maxAttempts: 1 });
    expect(await post({ caseId: second, unit: 'econ', round: 1 }, { jobId: 'p2', attempt: 1, maxAttempts: 10 })).toBe('posted to the econ group');

    const dispatcher = { userId: 'desk', name: '调度老李', role: 'dispatcher' as const, unitCode: null, tokenId: 'desk' };
    await releaseUnit(service.deps, dispatcher, id, { unit: 'econ', reason: '不涉及经信委' });
    const before = emu.calls.length;
    expect(await post({ caseId: id, unit: 'econ', round: 1, settled: true }, { jobId: 'p3', attempt: 1, maxAttempts: 10 })).toBe('group post marked released');
    const calls = emu.calls.slice(before);
    expect(calls.map((c) => `${c.method} ${String(c.body.chat_id)}`)).toEqual([`deleteMessages ${oldGroup}`, `editMessageText ${oldGroup}`]);
    expect(calls[0]!.body.message_ids).toEqual([9_100_001, 9_100_002]);
    expect(Number(calls[1]!.body.message_id)).toBe(Number(row.message_id));
    expect(String(calls[1]!.body.text)).toContain('无需再办理');
  });

  it('learns the supergroup from the service message Telegram sends in the old group, and posts straight there', async () => {
    const oldGroup = -4_100_002;
    const newGroup = -1_004_100_002;
    const service = await startTestService(telegramEnv(emu, 'tg-migrated-message'), 'api', { district: districtWithGroups({ epb: oldGroup }) });
    emu.migrateChat(oldGroup, newGroup);
    const migrated = await deliver(emu, service.url, {
      message: {
        message_id: 77,
        date: Math.floor(Date.now() / 1000),
        chat: { id: oldGroup, type: 'group', title: 'Bureau group' },
        from: { id: nextChat++, is_bot: false, first_name: 'Qian' },
        migrate_to_chat_id: newGroup,
      },
    });
    expect(migrated.status).toBe(200);
    const deps = processorDeps(service.deps);
    const res = await postJson(`${service.url}/api/v1/reports`, { text: '兴隆办事处有个化工厂晚上往沟里排黑水，气味很大', anonymous: true });
    const { id } = (await res.json()) as { id: string };
    await createProcessors(deps).intake({ caseId: id }, { jobId: `i-${id}`, attempt: 1, maxAttempts: 1 });
    const before = emu.calls.length;
    const post = createTelegramPostProcessor({ ...deps, telegram: createTelegramPush(service.deps.env) });
    expect(await post({ caseId: id, unit: 'epb', round: 1 }, { jobId: 'p', attempt: 1, maxAttempts: 10 })).toBe('posted to the epb group');
    expect(emu.calls.slice(before).map((c) => `${c.method} ${String(c.body.chat_id)}`)).toEqual([`sendMessage ${newGroup}`]);
  });
});

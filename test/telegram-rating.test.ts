import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Principal } from '../src/auth/principal.js';
import { caseReference } from '../src/domain/case.js';
import { acceptAssignment, replyAssignment } from '../src/workflow/bureau.js';
import { rateCase } from '../src/workflow/feedback.js';
import { sweepDeadlines } from '../queues/reconciler.js';
import { startTestService, waitFor } from './harness.js';
import { residentChat, startTelegramEmulator, type ApiCall, type TelegramEmulator } from './telegram-emulator.js';
import { alertOf, buttonsOf, deliver, districtWithGroups, sentTexts, telegramEnv, TOKEN } from './telegram-helpers.js';

const EPB_GROUP = -100_333;

let emu: TelegramEmulator;
let service: Awaited<ReturnType<typeof startTestService>>;
let nextChat = 8100;
// Each test's epb group is a new one: the service keeps to Telegram's limit of messages to one group (20, then one
// every 3 s), and the posts of earlier tests' cases to one group would hold up a later test's post.
let epbGroup = EPB_GROUP;

beforeAll(async () => {
  emu = await startTelegramEmulator(TOKEN);
  service = await startTestService(telegramEnv(emu, 'tg-rating'), 'all', { district: districtWithGroups({ epb: EPB_GROUP }) });
});
beforeEach(() => {
  epbGroup -= 1;
  service.deps.district.units.get('epb')!.telegramChatId = epbGroup;
});

const bureau = (unit: string): Principal => ({ userId: `staff-${unit}`, name: unit, role: 'bureau', unitCode: unit, tokenId: 'test' });

/** A resident reports through the bot; every unit the case is assigned to signs for it and replies. Returns the reply pushed to the chat. */
async function reportedAndReplied(
  chat: ReturnType<typeof residentChat>,
  replyText = '已到现场核查，责令企业停产整改，电话13812345678',
  opts: { groupPostFirst?: boolean } = {},
): Promise<{ caseId: string; code: string; pushed: ApiCall }> {
  await deliver(emu, service.url, chat.text('兴隆办事处有个化工厂晚上往沟里排黑水，气味很大'));
  await deliver(emu, service.url, chat.button('c:anonymous'));
  await deliver(emu, service.url, chat.button('c:confirm'));
  const link = await service.deps.db.selectFrom('telegram_reporters').select('case_id').where('chat_id', '=', String(chat.chatId)).executeTakeFirstOrThrow();
  const caseId = link.case_id;
  const assignments = await waitFor(async () => {
    const rows = await service.deps.db.selectFrom('assignments').select(['unit_code', 'role']).where('case_id', '=', caseId).execute();
    return rows.length > 0 ? rows : null;
  }, { what: 'the case to be dispatched' });
  const ordered = [...assignments].sort((a, b) => (a.role === 'lead' ? -1 : b.role === 'lead' ? 1 : 0));
  if (opts.groupPostFirst) {
    // The lead's group has its post before anyone signs for the case (a post owed to a case signed for already is not
    // made).
    await waitFor(
      () => service.deps.db.selectFrom('telegram_bureau_posts').select('id').where('case_id', '=', caseId).where('round', '=', 1).where('message_id', 'is not', null).executeTakeFirst(),
      { what: 'the round-1 group post', timeoutMs: 60_000 },
    );
  }
  for (const a of ordered) await acceptAssignment(service.deps, bureau(a.unit_code), caseId);
  for (const a of ordered) await replyAssignment(service.deps, bureau(a.unit_code), caseId, { text: replyText });
  const c = await service.deps.db.selectFrom('cases').select(['status', 'tracking_code']).where('id', '=', caseId).executeTakeFirstOrThrow();
  expect(c.status).toBe('replied');
  const pushed = await waitFor(
    () => emu.toChat(chat.chatId).find((x) => x.method === 'sendMessage' && /答复了您的举报|answered your report/.test(String(x.body.text))),
    { what: 'the reply pushed to the chat' },
  );
  return { caseId, code: c.tracking_code, pushed };
}

/** The reporter's notice of a kind, once the notify job has settled it. */
function settledNotice(caseId: string, kind: string) {
  return waitFor(
    async () => {
      const n = await service.deps.db.selectFrom('notifications').select('status').where('case_id', '=', caseId).where('audience', '=', 'reporter').where('kind', '=', kind).executeTakeFirst();
      return n && n.status !== 'pending' ? n : null;
    },
    { what: `the ${kind} notice to be settled`, timeoutMs: 30_000 },
  );
}

async function caseRow(caseId: string) {
  return service.deps.db.selectFrom('cases').select(['status', 'round']).where('id', '=', caseId).executeTakeFirstOrThrow();
}

describe('rating in the chat', () => {
  it('pushes the reply with rating buttons; satisfied and solved closes the case, once', async () => {
    const chat = residentChat(nextChat++);
    const { caseId, code, pushed } = await reportedAndReplied(chat);
    expect(String(pushed.body.text)).toContain('138****5678');
    expect(buttonsOf(pushed)).toEqual([`r:${code}:1:s`, `r:${code}:1:b`, `r:${code}:1:d`]);

    const first = await deliver(emu, service.url, chat.button(`r:${code}:1:s`, String(pushed.body.text)));
    const ask = first.calls.find((x) => x.method === 'editMessageText' && Number(x.body.chat_id) === chat.chatId);
    expect(String(ask?.body.text)).toContain('问题解决了吗');
    expect(buttonsOf(ask)).toEqual([`r:${code}:1:s:y`, `r:${code}:1:s:n`]);
    expect((await caseRow(caseId)).status).toBe('replied');

    const rated = await deliver(emu, service.url, chat.button(`r:${code}:1:s:y`, String(ask?.body.text)));
    expect(rated.status).toBe(200);
    expect(await caseRow(caseId)).toMatchObject({ status: 'closed' });
    const ratings = await service.deps.db.selectFrom('ratings').selectAll().where('case_id', '=', caseId).execute();
    expect(ratings).toEqual([expect.objectContaining({ rating: 'satisfied', solved: 1, channel: 'telegram', round: 1 })]);
    const thanks = rated.calls.find((x) => x.method === 'editMessageText' && Number(x.body.chat_id) === chat.chatId);
    expect(String(thanks?.body.text)).toContain('感谢评价');
    expect(buttonsOf(thanks)).toEqual([]);
    // The reply stays; the prompt to rate with the buttons goes with them (a short reply needs no link to the whole).
    expect(String(thanks?.body.text)).toContain('责令企业停产整改');
    expect(String(thanks?.body.text)).not.toContain('请用下方按钮评价');
    expect(String(thanks?.body.text)).not.toContain('/track/');

    // Pressing again (an old button) is answered kindly and changes nothing.
    const twice = await deliver(emu, service.url, chat.button(`r:${code}:1:b:n`));
    expect(alertOf(twice.calls)?.text).toContain('已经评价过');
    expect(await service.deps.db.selectFrom('ratings').selectAll().where('case_id', '=', caseId).execute()).toHaveLength(1);
    expect((await caseRow(caseId)).status).toBe('closed');
  });

  it('does not push to the chat that rated the status change its rating made (the reply was edited to say so); a later change is pushed', async () => {
    const chat = residentChat(nextChat++);
    const closed = await reportedAndReplied(chat);
    await deliver(emu, service.url, chat.button(`r:${closed.code}:1:s`));
    const thanked = await deliver(emu, service.url, chat.button(`r:${closed.code}:1:s:y`));
    expect(String(thanked.calls.find((x) => x.method === 'editMessageText' && Number(x.body.chat_id) === chat.chatId)?.body.text)).toContain('感谢评价');
    expect(await caseRow(closed.caseId)).toMatchObject({ status: 'closed' });
    expect(await settledNotice(closed.caseId, 'closed')).toEqual({ status: 'skipped' });
    expect(sentTexts(emu.toChat(chat.chatId)).filter((t) => t.includes('已办结'))).toEqual([]);

    const other = residentChat(nextChat++);
    const reopened = await reportedAndReplied(other);
    await deliver(emu, service.url, other.button(`r:${reopened.code}:1:d`));
    const handedBack = await deliver(emu, service.url, other.button(`r:${reopened.code}:1:d:n`));
    expect(String(handedBack.calls.find((x) => x.method === 'editMessageText' && Number(x.body.chat_id) === other.chatId)?.body.text)).toContain('将退回承办单位重新办理');
    expect(await settledNotice(reopened.caseId, 'reopened')).toEqual({ status: 'skipped' });
    expect(sentTexts(emu.toChat(other.chatId)).filter((t) => t.includes('已重新交办'))).toEqual([]);
    // The lead bureau still hears of it; the change after it (signed for again) reaches the chat.
    const lead = await service.deps.db.selectFrom('assignments').select('unit_code').where('case_id', '=', reopened.caseId).where('role', '=', 'lead').executeTakeFirstOrThrow();
    const toLead = await service.deps.db.selectFrom('notifications').select('kind').where('case_id', '=', reopened.caseId).where('audience', '=', `unit:${lead.unit_code}`).where('kind', '=', 'reopened').execute();
    expect(toLead).toHaveLength(1);
    await acceptAssignment(service.deps, bureau(lead.unit_code), reopened.caseId);
    await waitFor(() => sentTexts(emu.toChat(other.chatId)).find((t) => t.includes(`已签收您的举报 ${reopened.code}`)), { what: 'the signing for the new round told to the chat' });
  });

  it('reopens the case on a dissatisfied rating, as the workflow defines', { timeout: 150_000 }, async () => {
    const chat = residentChat(nextChat++, 'en-US');
    const { caseId, code } = await reportedAndReplied(chat, undefined, { groupPostFirst: true });
    await deliver(emu, service.url, chat.button(`r:${code}:1:d`));
    const rated = await deliver(emu, service.url, chat.button(`r:${code}:1:d:n`));
    expect(await caseRow(caseId)).toMatchObject({ status: 'reopened', round: 2 });
    const lead = await service.deps.db.selectFrom('assignments').select(['status', 'round']).where('case_id', '=', caseId).where('role', '=', 'lead').executeTakeFirstOrThrow();
    expect(lead).toMatchObject({ status: 'pending', round: 2 });
    const rating = await service.deps.db.selectFrom('ratings').selectAll().where('case_id', '=', caseId).executeTakeFirstOrThrow();
    expect(rating).toMatchObject({ rating: 'dissatisfied', solved: 0, channel: 'telegram' });
    expect(String(rated.calls.find((x) => x.method === 'editMessageText' && Number(x.body.chat_id) === chat.chatId)?.body.text)).toContain('handled again');
    // The lead bureau's group sees the case again, for the new round.
    await waitFor(
      () => service.deps.db.selectFrom('telegram_bureau_posts').select('id').where('case_id', '=', caseId).where('round', '=', 2).where('status', '=', 'posted').executeTakeFirst(),
      { what: 'the round-2 group post', timeoutMs: 60_000 },
    );
    // The group names the case by its reference.
    const again = emu.calls.filter((c) => c.method === 'sendMessage' && Number(c.body.chat_id) === epbGroup && String(c.body.text).includes(caseReference(caseId)));
    expect(again.map((c) => String(c.body.text).split('】')[0])).toEqual(['【新派单', '【重办派单']);
  });

  it('pushes a long reply cut to fit a message, whole characters only, and the rating still works on it', async () => {
    const chat = residentChat(nextChat++);
    // 7,500 UTF-16 units, an emoji (two units) in every three: longer than a Telegram message may be.
    const long = 'x😷'.repeat(2500);
    const { caseId, code, pushed } = await reportedAndReplied(chat, long);
    const text = String(pushed.body.text);
    expect(text.length).toBeLessThanOrEqual(4096);
    expect(text.isWellFormed()).toBe(true);
    expect(text).toContain('x😷x😷');
    expect(text).toContain('…');
    expect(text).toContain(`/track/${code}`);
    const ask = (await deliver(emu, service.url, chat.button(`r:${code}:1:d`, text))).calls.find((x) => x.method === 'editMessageText' && Number(x.body.chat_id) === chat.chatId);
    expect(String(ask?.body.text)).toContain('问题解决了吗');
    const rated = await deliver(emu, service.url, chat.button(`r:${code}:1:d:n`, String(ask?.body.text)));
    expect(rated.status).toBe(200);
    expect(rated.calls.map((c) => c.method)).not.toContain('editMessageText:400');
    // Rated, the message no longer asks for the buttons, but still links the whole reply it shows cut.
    const after = String(rated.calls.find((x) => x.method === 'editMessageText' && Number(x.body.chat_id) === chat.chatId)?.body.text);
    expect(after).toContain('重新办理');
    expect(after).not.toContain('请用下方按钮评价');
    expect(after).toContain(`答复全文：http://intake.test/track/${code}`);
    expect(await caseRow(caseId)).toMatchObject({ status: 'reopened', round: 2 });
  });

  it('takes a double tap on a rating button as one press, without failing the update', async () => {
    const chat = residentChat(nextChat++);
    const { caseId, code, pushed } = await reportedAndReplied(chat);
    // Two presses of the same button of the same message, the second before the first's answer arrived.
    const press = chat.button(`r:${code}:1:b`, String(pushed.body.text));
    const first = await deliver(emu, service.url, press);
    expect(first.status).toBe(200);
    const second = await deliver(emu, service.url, { callback_query: { ...press.callback_query, id: `${press.callback_query.id}-again` } });
    expect(second.status).toBe(200);
    expect(second.calls.map((c) => c.method)).toContain('answerCallbackQuery');
    // The question asked at the first press still stands: answering it rates the case.
    const ask = first.calls.find((x) => x.method === 'editMessageText' && Number(x.body.chat_id) === chat.chatId);
    const rated = await deliver(emu, service.url, { callback_query: { ...press.callback_query, id: `${press.callback_query.id}-y`, data: `r:${code}:1:b:y`, message: { ...press.callback_query.message, text: String(ask?.body.text) } } });
    expect(rated.status).toBe(200);
    expect(await caseRow(caseId)).toMatchObject({ status: 'closed' });
  });

  it('points a rating typed instead of pressed (满意，谢谢！) to the buttons, and starts no report with it', async () => {
    const chat = residentChat(nextChat++);
    const { caseId, code, pushed } = await reportedAndReplied(chat);
    for (const typed of ['满意，谢谢！', '不满意']) {
      const answer = await deliver(emu, service.url, chat.text(typed));
      expect(sentTexts(answer.calls, chat.chatId), typed).toEqual([expect.stringContaining('答复消息下方的按钮')]);
    }
    expect(await service.deps.db.selectFrom('telegram_sessions').selectAll().where('chat_id', '=', String(chat.chatId)).execute()).toEqual([]);
    expect(await service.deps.db.selectFrom('telegram_reporters').select('case_id').where('chat_id', '=', String(chat.chatId)).execute()).toEqual([{ case_id: caseId }]);
    // The buttons still rate it.
    await deliver(emu, service.url, chat.button(`r:${code}:1:s`, String(pushed.body.text)));
    await deliver(emu, service.url, chat.button(`r:${code}:1:s:y`));
    expect((await caseRow(caseId)).status).toBe('closed');
  });

  it('lets only the chat that reported the case rate it', async () => {
    const chat = residentChat(nextChat++);
    const { caseId, code } = await reportedAndReplied(chat);
    const other = residentChat(nextChat++);
    const r = await deliver(emu, service.url, other.button(`r:${code}:1:s:y`));
    expect(alertOf(r.calls)).toMatchObject({ show_alert: true, text: expect.stringContaining('举报人本人') });
    expect((await caseRow(caseId)).status).toBe('replied');
    expect(await service.deps.db.selectFrom('ratings').selectAll().where('case_id', '=', caseId).execute()).toEqual([]);
  });

  it('says at the first press that the rating period ended, and when on the district clock, before the case is closed for it', async () => {
    for (const [language, said] of [
      ['zh-hans', (when: string) => `这个答复的评价期限已于 ${when} 截止，无法再评价。`],
      ['en', (when: string) => `The time to rate this answer ended on ${when}.`],
    ] as const) {
      const chat = residentChat(nextChat++, language);
      const { caseId, code, pushed } = await reportedAndReplied(chat);
      // The 7 days ended a minute ago; the deadline job that closes the case has not run yet.
      const rateBy = new Date(Math.floor((Date.now() - 60_000) / 60_000) * 60_000);
      await service.deps.db.updateTable('cases').set({ rate_deadline_at: rateBy.toISOString() }).where('id', '=', caseId).execute();
      const r = await deliver(emu, service.url, chat.button(`r:${code}:1:s`, String(pushed.body.text)));
      const when = new Intl.DateTimeFormat('sv-SE', { timeZone: service.deps.district.file.district.timezone, dateStyle: 'short', timeStyle: 'short' }).format(rateBy);
      expect(alertOf(r.calls)).toMatchObject({ show_alert: true, text: said(when) });
      expect(r.calls.some((x) => x.method === 'editMessageText' && String(x.body.text).includes('问题解决了吗'))).toBe(false);
      // The buttons go, and so do the words asking to press them; the reply stays.
      const cleared = r.calls.find((x) => x.method === 'editMessageText' && Number(x.body.chat_id) === chat.chatId);
      expect(buttonsOf(cleared)).toEqual([]);
      expect(String(cleared?.body.text)).toContain('138****5678');
      expect(String(cleared?.body.text)).not.toMatch(/请用下方按钮评价|Please rate the answer with the buttons/);
      expect((await caseRow(caseId)).status).toBe('replied');
      expect(await service.deps.db.selectFrom('ratings').selectAll().where('case_id', '=', caseId).execute()).toEqual([]);
    }
  });

  it('says the rating period ended, and when, to a press after the case was closed for it', async () => {
    const chat = residentChat(nextChat++);
    const { caseId, code, pushed } = await reportedAndReplied(chat);
    const rateBy = new Date(Math.floor((Date.now() - 60_000) / 60_000) * 60_000);
    await service.deps.db.updateTable('cases').set({ rate_deadline_at: rateBy.toISOString() }).where('id', '=', caseId).execute();
    // The deadline sweep closes it, unrated, before the resident presses.
    expect((await sweepDeadlines(service.deps, new Date())).actions).toContain(`${caseId}: closed: not rated`);
    const r = await deliver(emu, service.url, chat.button(`r:${code}:1:s`, String(pushed.body.text)));
    const when = new Intl.DateTimeFormat('sv-SE', { timeZone: service.deps.district.file.district.timezone, dateStyle: 'short', timeStyle: 'short' }).format(rateBy);
    expect(alertOf(r.calls)).toMatchObject({ show_alert: true, text: `这个答复的评价期限已于 ${when} 截止，无法再评价。` });
    expect(buttonsOf(r.calls.find((x) => x.method === 'editMessageText' && Number(x.body.chat_id) === chat.chatId))).toEqual([]);
    expect(await service.deps.db.selectFrom('ratings').selectAll().where('case_id', '=', caseId).execute()).toEqual([]);
  });

  it('drops the question and the prompt to rate, with the buttons, when the answer was rated on the web meanwhile', async () => {
    const chat = residentChat(nextChat++);
    const { caseId, code, pushed } = await reportedAndReplied(chat);
    const first = await deliver(emu, service.url, chat.button(`r:${code}:1:b`, String(pushed.body.text)));
    const ask = first.calls.find((x) => x.method === 'editMessageText' && Number(x.body.chat_id) === chat.chatId);
    expect(String(ask?.body.text)).toContain('问题解决了吗');
    // Rated on the tracking page before the second press.
    await rateCase(service.deps, { trackingCode: code, rating: 'satisfied', solved: true, channel: 'web' });
    const second = await deliver(emu, service.url, chat.button(`r:${code}:1:b:y`, String(ask?.body.text)));
    expect(alertOf(second.calls)?.text).toContain('已经评价过');
    const cleared = second.calls.find((x) => x.method === 'editMessageText' && Number(x.body.chat_id) === chat.chatId);
    expect(buttonsOf(cleared)).toEqual([]);
    expect(String(cleared?.body.text)).toContain('责令企业停产整改');
    expect(String(cleared?.body.text)).not.toContain('问题解决了吗');
    expect(String(cleared?.body.text)).not.toContain('请用下方按钮评价');
    expect(await service.deps.db.selectFrom('ratings').select('channel').where('case_id', '=', caseId).execute()).toEqual([{ channel: 'web' }]);
  });

  /** The resident rates 满意, 已解决, and Telegram takes neither the edit of the message nor a message instead: the press fails. */
  async function ratedWithoutAnswer(chat: ReturnType<typeof residentChat>) {
    const { caseId, code, pushed } = await reportedAndReplied(chat);
    const first = await deliver(emu, service.url, chat.button(`r:${code}:1:s`, String(pushed.body.text)));
    const ask = first.calls.find((x) => x.method === 'editMessageText' && Number(x.body.chat_id) === chat.chatId);
    // Only what answers the press is refused: a notice of the case pushed late (a slow or retried job) goes through.
    emu.rateLimitNext('editMessageText', 1, 3600, chat.chatId, `感谢评价！案件 ${code}`);
    emu.rateLimitNext('sendMessage', 1, 3600, chat.chatId, `感谢评价！案件 ${code}`);
    const press = chat.button(`r:${code}:1:s:y`, String(ask?.body.text));
    const failed = await deliver(emu, service.url, press);
    expect(failed.status).not.toBe(200);
    expect((await caseRow(caseId)).status).toBe('closed');
    return { caseId, code, press };
  }

  it('tells the chat what its rating did when Telegram took no answer to the press, once the press is delivered again', async () => {
    const chat = residentChat(nextChat++);
    const { caseId, code, press } = await ratedWithoutAnswer(chat);
    const again = await deliver(emu, service.url, press);
    expect(again.status).toBe(200);
    const edited = again.calls.find((x) => x.method === 'editMessageText' && Number(x.body.chat_id) === chat.chatId);
    expect(String(edited?.body.text)).toContain(`感谢评价！案件 ${code}：满意，已解决。`);
    expect(String(edited?.body.text)).toContain('责令企业停产整改');
    expect(String(edited?.body.text)).not.toMatch(/问题解决了吗|请用下方按钮评价/);
    expect(buttonsOf(edited)).toEqual([]);
    expect(await service.deps.db.selectFrom('ratings').select('rating').where('case_id', '=', caseId).execute()).toEqual([{ rating: 'satisfied' }]);
    // Told by the answer, the chat is not pushed the 办结 notice as well.
    expect(await settledNotice(caseId, 'closed')).toEqual({ status: 'skipped' });
    expect(sentTexts(emu.toChat(chat.chatId)).filter((t) => t.includes('已办结'))).toEqual([]);
  });

  it('pushes the 办结 notice to the chat when Telegram took no answer to the press for long, and says nothing twice when the press comes later still', { timeout: 90_000 }, async () => {
    const chat = residentChat(nextChat++);
    const { caseId, code, press } = await ratedWithoutAnswer(chat);
    // The notice waits for an answer to the press through its job's attempts, then tells the chat itself.
    expect(await settledNotice(caseId, 'closed')).toEqual({ status: 'sent' });
    expect(sentTexts(emu.toChat(chat.chatId)).filter((t) => t.includes(code) && t.includes('已办结'))).toHaveLength(1);

    // Delivered after all, later still: the buttons go, and the chat is not thanked a second time.
    const late = await deliver(emu, service.url, press);
    expect(late.status).toBe(200);
    const edited = late.calls.find((x) => x.method === 'editMessageText' && Number(x.body.chat_id) === chat.chatId);
    expect(buttonsOf(edited)).toEqual([]);
    expect(String(edited?.body.text)).toContain('责令企业停产整改');
    expect(String(edited?.body.text)).not.toMatch(/感谢评价|问题解决了吗|请用下方按钮评价/);
    expect(late.calls.filter((x) => x.method === 'sendMessage')).toEqual([]);
  });

  it('takes a button whose round no rating could have (hand-made data) as a stale one', async () => {
    const chat = residentChat(nextChat++);
    const { caseId, code } = await reportedAndReplied(chat);
    const r = await deliver(emu, service.url, chat.button(`r:${code}:99999999999999999999999:s:y`));
    expect(r.status).toBe(200);
    expect(r.calls.find((c) => c.method === 'answerCallbackQuery')).toBeDefined();
    expect((await caseRow(caseId)).status).toBe('replied');
    expect(await service.deps.db.selectFrom('ratings').selectAll().where('case_id', '=', caseId).execute()).toEqual([]);
  });
});

describe('/status in the chat', () => {
  it('names the status as the tracking page does, in the chat language, as the case moves on', async () => {
    for (const language of ['zh-hans', 'en']) {
      const chat = residentChat(nextChat++, language);
      const lang = language === 'en' ? 'en' : 'zh';
      const { caseId, code } = await reportedAndReplied(chat);
      await deliver(emu, service.url, chat.button(`r:${code}:1:d`));
      await deliver(emu, service.url, chat.button(`r:${code}:1:d:n`));
      expect((await caseRow(caseId)).status).toBe('reopened');
      const lead = await service.deps.db.selectFrom('assignments').select('unit_code').where('case_id', '=', caseId).where('round', '=', 2).where('role', '=', 'lead').executeTakeFirstOrThrow();
      // Reopened (重办中), then signed for again (已签收，办理中): words the bot had its own versions of.
      for (const step of ['reopened', 'accepted'] as const) {
        if (step === 'accepted') await acceptAssignment(service.deps, bureau(lead.unit_code), caseId);
        const html = await (await fetch(`${service.url}/track/${code}?lang=${lang}`)).text();
        const onPage = /<strong id="case-status"[^>]*>([^<]+)<\/strong>/.exec(html)?.[1];
        expect(onPage, `${language} ${step}`).toBeTruthy();
        const list = await deliver(emu, service.url, chat.command('/status'));
        // (A notice of the case may reach the chat meanwhile: the answer is the message listing the case.)
        const listed = sentTexts(list.calls, chat.chatId).find((t) => t.includes(`${code} · `));
        expect(listed, `${language} ${step}`).toContain(`${code} · ${onPage} · `);
        const one = await deliver(emu, service.url, chat.command(`/status ${code}`));
        const shown = sentTexts(one.calls, chat.chatId).find((t) => /^(案件|Case) /.test(t));
        expect(shown, `${language} ${step}`).toContain(lang === 'zh' ? `状态：${onPage}\n` : `Status: ${onPage}\n`);
      }
    }
  });
});

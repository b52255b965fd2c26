import { Queue } from 'bullmq';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Env } from '../src/env.js';
import { createUser, type User } from '../db/repositories/users.repository.js';
import { issueToken } from '../db/repositories/tokens.repository.js';
import { issueLinkToken } from '../src/telegram/links.js';
import { caseReference } from '../src/domain/case.js';
import type { Principal } from '../src/auth/principal.js';
import { superviseCase } from '../src/workflow/dispatcher.js';
import { serviceWordsText } from '../src/workflow/service-words.js';
import { runCli, startTestService, waitFor } from './harness.js';
import { groupMember, JPEG_BYTES, residentChat, startTelegramEmulator, type ApiCall, type TelegramEmulator } from './telegram-emulator.js';
import { alertOf, buttonsOf, deliver, districtWithGroups, sentTexts, telegramEnv, TOKEN } from './telegram-helpers.js';

const EPB_GROUP = -100_111;
const ECON_GROUP = -100_222;
const HOTLINE_GROUP = -100_333;
/** The group of 兴隆办事处 (the place of the reports here), which the district file sets to English. */
const XINGLONG_GROUP = -100_444;

let emu: TelegramEmulator;
let service: Awaited<ReturnType<typeof startTestService>>;
let zhang: User;
let li: User;
let zhou: User;
let wang: User;
let nextUser = 5000;

let env: Env;

/**
 * A service on the file's database and queues, with Telegram's limits fresh (the throttler is
 * per service): the groups' 20 messages a minute would otherwise make each test wait out the
 * posts of the tests before it. The service before it stops first, as on a restart.
 */
async function restartService(): Promise<void> {
  await service?.stop();
  service = await startTestService({ ...env }, 'all', { district: districtWithGroups({ epb: EPB_GROUP, econ: ECON_GROUP, hotline12345: HOTLINE_GROUP, xinglong: { chatId: XINGLONG_GROUP, language: 'en' } }) });
}

beforeAll(async () => {
  emu = await startTelegramEmulator(TOKEN);
  env = telegramEnv(emu, 'tg-bureau');
  await restartService();
  const at = new Date().toISOString();
  zhang = await createUser(service.deps.db, { name: '张三', role: 'bureau', unitCode: 'epb', at });
  li = await createUser(service.deps.db, { name: '李四', role: 'bureau', unitCode: 'econ', at });
  zhou = await createUser(service.deps.db, { name: '小周', role: 'bureau', unitCode: 'hotline12345', at });
  wang = await createUser(service.deps.db, { name: '王伟', role: 'bureau', unitCode: 'xinglong', at });
});
beforeEach(restartService);

/** Links a fresh Telegram user to the account through /link, as the staff member would. */
async function linkedTelegramUser(user: User): Promise<number> {
  const tgUser = nextUser++;
  const { token } = await issueLinkToken(service.deps.db, { userId: user.id, now: new Date() });
  const chat = residentChat(tgUser);
  const r = await deliver(emu, service.url, chat.command(`/link ${token}`));
  expect(sentTexts(r.calls, tgUser)[0]).toContain('绑定成功');
  return tgUser;
}

/** Files a report over HTTP (with the reporter's name and phone, and two photos) and waits for its post in the group. */
async function reportAndWaitForPost(group: number, unit: string, text = '兴隆办事处有个化工厂晚上往沟里排黑水，王五家门口气味很大，有事打我电话１３８１２３４５６７８') {
  const form = new FormData();
  form.set('text', text);
  form.set('name', '王五');
  form.set('phone', '13900001111');
  form.set('address', '王五家后门 13700002222');
  form.append('photos', new Blob([JPEG_BYTES], { type: 'image/jpeg' }), 'a.jpg');
  form.append('photos', new Blob([JPEG_BYTES], { type: 'image/jpeg' }), 'b.jpg');
  const res = await fetch(`${service.url}/api/v1/reports`, { method: 'POST', body: form });
  const body = (await res.json()) as { id: string; trackingCode: string };
  expect(res.status, JSON.stringify(body)).toBe(202);
  const post = await waitFor(
    () =>
      service.deps.db
        .selectFrom('telegram_bureau_posts')
        .selectAll()
        .where('case_id', '=', body.id)
        .where('unit_code', '=', unit)
        .where('status', '=', 'posted')
        .executeTakeFirst(),
    { what: `the ${unit} group post` },
  );
  // Groups name the case by its reference, never by the reporter's tracking code.
  const reference = caseReference(body.id);
  const message = emu.calls.find((c) => c.method === 'sendMessage' && Number(c.body.chat_id) === group && String(c.body.text).includes(reference))!;
  return { caseId: body.id, trackingCode: body.trackingCode, reference, post, message };
}

/** The delay the job marking a unit's group post after its signature or return was queued with. */
async function settledPostDelay(caseId: string, unit: string): Promise<number> {
  const queue = new Queue('telegram_post', { connection: { url: env.REDIS_URL }, prefix: env.QUEUE_PREFIX });
  try {
    const job = await waitFor(
      async () => (await queue.getJobs(['completed', 'waiting', 'delayed', 'active', 'failed'], 0, -1)).find((j) => j.id?.startsWith(`tgpost-${caseId}-${unit}-1-settled-`)),
      { what: 'the job marking the group post' },
    );
    return job.opts.delay ?? 0;
  } finally {
    await queue.close();
  }
}

/** The unit returns the case from its group post, and a dispatcher routes it back to the unit with `reason`: its new post. */
async function returnedAndGivenBack(member: ReturnType<typeof groupMember>, caseId: string, post: { id: string; message_id: number | string | null }, reason: string) {
  await deliver(emu, service.url, member.press(`g:r:${post.id}`, Number(post.message_id)));
  await deliver(emu, service.url, member.press(`g:x:${post.id}:0`, Number(post.message_id)));
  expect((await assignmentOf(caseId, 'epb')).status).toBe('returned');
  const at = new Date().toISOString();
  const dispatcher = await createUser(service.deps.db, { name: `调度${post.id.slice(0, 6)}`, role: 'dispatcher', unitCode: null, at });
  const { token } = await issueToken(service.deps.db, { userId: dispatcher.id, label: null, at });
  const routed = await fetch(`${service.url}/api/v1/cases/${caseId}/route`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ type: 'illegal_discharge', lead: 'epb', reason }),
  });
  expect(routed.status, await routed.text()).toBe(200);
  return waitFor(
    () => service.deps.db.selectFrom('telegram_bureau_posts').selectAll().where('id', '=', post.id).where('status', '=', 'posted').where('message_id', '!=', post.message_id).executeTakeFirst(),
    { what: 'the new post of the returned case' },
  );
}

async function assignmentOf(caseId: string, unit: string) {
  return service.deps.db.selectFrom('assignments').selectAll().where('case_id', '=', caseId).where('unit_code', '=', unit).executeTakeFirstOrThrow();
}

describe('bureau group chats: new assignments', () => {
  it('posts the assignment with photos and buttons, without the reporter identity, to the lead and the co-handler groups', async () => {
    const { caseId, trackingCode, reference, post, message } = await reportAndWaitForPost(EPB_GROUP, 'epb');
    const text = String(message.body.text);
    expect(text).toContain(`工单号：${reference}`);
    expect(text).toContain('区环保局');
    expect(text).toContain('牵头承办');
    expect(text).toContain('非法排放有毒有害污染物');
    expect(text).toMatch(/地点：兴隆办事处/);
    expect(text).toMatch(/签收期限：\d{4}-\d{2}-\d{2} \d{2}:\d{2}（北京时间）/);
    expect(text).toContain('138****5678');
    expect(text).not.toContain('13812345678');
    expect(text).toContain('王*家门口');
    // The place the reporter gave is masked like their words.
    expect(text).toContain('地点：兴隆办事处 · 王*家后门 137****2222');
    expect(text).not.toContain('王五');
    expect(text).not.toContain('13900001111');
    expect(text).not.toContain('王五');
    expect(buttonsOf(message)).toEqual([`g:a:${post.id}`, `g:r:${post.id}`]);
    expect(Number(post.message_id)).toBeGreaterThan(0);
    // The two photos went before the message, as one album of uploaded files.
    const album = emu.calls.find((c) => c.method === 'sendMediaGroup' && Number(c.body.chat_id) === EPB_GROUP && JSON.stringify(c.body).includes(reference));
    expect(album?.files).toHaveLength(2);
    // The co-handler's group gets its own post.
    const econ = await waitFor(() =>
      service.deps.db.selectFrom('telegram_bureau_posts').selectAll().where('case_id', '=', caseId).where('unit_code', '=', 'econ').where('status', '=', 'posted').executeTakeFirst(),
    );
    const econMessage = emu.calls.find((c) => c.method === 'sendMessage' && Number(c.body.chat_id) === ECON_GROUP && String(c.body.text).includes(reference));
    expect(String(econMessage?.body.text)).toContain('协办');
    expect(buttonsOf(econMessage)).toEqual([`g:a:${econ.id}`, `g:r:${econ.id}`]);
    // Nothing about the reporter in any group, nor the tracking code (with it a clerk could rate the bureau's own answer).
    for (const call of emu.calls.filter((c) => Number(c.body.chat_id) < 0)) expect(JSON.stringify(call.body)).not.toMatch(/王五|13900001111|13812345678|１３８１２３４５６７８/);
    for (const call of emu.calls.filter((c) => Number(c.body.chat_id) < 0)) expect(JSON.stringify(call.body)).not.toContain(trackingCode);
  });
});

describe('bureau group chats: long reports', () => {
  it('cuts a long text on whole characters: an emoji at the cut is left out, not halved', async () => {
    const start = '兴隆办事处有个化工厂晚上往沟里排黑水';
    // The emoji takes the 2,500th and 2,501st UTF-16 units; a post shows 2,500.
    const text = `${start}${'臭'.repeat(2499 - start.length)}😷${'黑'.repeat(100)}`;
    const { message } = await reportAndWaitForPost(EPB_GROUP, 'epb', text);
    const posted = String(message.body.text);
    expect(posted.isWellFormed()).toBe(true);
    expect(posted).toContain(`${'臭'.repeat(10)}…`);
    expect(posted).not.toContain('黑黑');
  });
});

describe('bureau group chats: photos Telegram cannot show', () => {
  it('posts the JPEG and says a HEIC photo is on the web, instead of failing the post', async () => {
    const heic = Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from('ftypheic', 'latin1'), Buffer.from([0, 0, 0, 0]), Buffer.from('mif1heic', 'latin1'), Buffer.alloc(64)]);
    const form = new FormData();
    form.set('text', '兴隆办事处有个化工厂晚上往沟里排黑水（照片测试）');
    form.set('anonymous', 'true');
    form.append('photos', new Blob([JPEG_BYTES], { type: 'image/jpeg' }), 'a.jpg');
    form.append('photos', new Blob([heic], { type: 'image/heic' }), 'b.heic');
    const res = await fetch(`${service.url}/api/v1/reports`, { method: 'POST', body: form });
    const body = (await res.json()) as { id: string; trackingCode: string };
    expect(res.status, JSON.stringify(body)).toBe(202);
    await waitFor(
      () => service.deps.db.selectFrom('telegram_bureau_posts').select('id').where('case_id', '=', body.id).where('unit_code', '=', 'epb').where('status', '=', 'posted').executeTakeFirst(),
      { what: 'the group post' },
    );
    const photo = emu.calls.find((c) => c.method === 'sendPhoto' && Number(c.body.chat_id) === EPB_GROUP && c.body.caption === caseReference(body.id));
    expect(photo?.files).toHaveLength(1);
    expect(emu.calls.some((c) => c.method === 'sendMediaGroup' && JSON.stringify(c.body).includes(caseReference(body.id)))).toBe(false);
    const message = emu.calls.find((c) => c.method === 'sendMessage' && Number(c.body.chat_id) === EPB_GROUP && String(c.body.text).includes(caseReference(body.id)));
    expect(String(message?.body.text)).toContain('照片：1 张（见上）');
    expect(String(message?.body.text)).toContain('另有 1 张照片无法在群内显示');
  });
});

describe('bureau group chats: a report from the bot', () => {
  it('posts the photo the resident sent once the job fetched it', async () => {
    const chat = residentChat(nextUser++);
    await deliver(emu, service.url, chat.photo('bot-photo-1', '兴隆办事处有个化工厂晚上往沟里排黑水，气味很大'));
    await deliver(emu, service.url, chat.button('c:anonymous'));
    await deliver(emu, service.url, chat.button('c:confirm'));
    const { case_id: caseId } = await service.deps.db.selectFrom('telegram_reporters').select('case_id').where('chat_id', '=', String(chat.chatId)).executeTakeFirstOrThrow();
    const post = await waitFor(
      () => service.deps.db.selectFrom('telegram_bureau_posts').selectAll().where('case_id', '=', caseId).where('unit_code', '=', 'epb').where('status', '=', 'posted').executeTakeFirst(),
      { what: 'the group post' },
    );
    const code = caseReference(caseId);
    // The photo (one uploaded file) went out before the message with the buttons.
    const photoCall = emu.calls.find((c) => c.method === 'sendPhoto' && Number(c.body.chat_id) === EPB_GROUP && c.body.caption === code);
    expect(photoCall?.files).toHaveLength(1);
    expect(JSON.parse(post.photo_message_ids ?? '[]')).toHaveLength(1);
    const message = emu.calls.find((c) => c.method === 'sendMessage' && Number(c.body.chat_id) === EPB_GROUP && String(c.body.text).includes(code));
    expect(String(message?.body.text)).toContain('照片：1 张');
    expect(message!.at).toBeGreaterThanOrEqual(photoCall!.at);
    expect(await service.deps.db.selectFrom('case_attachments').select('id').where('case_id', '=', caseId).execute()).toHaveLength(1);
  });
});

describe('bureau group chats: buttons', () => {
  it('signs for the case when a linked member of the bureau presses 签收, and edits the message to say who and when', async () => {
    const member = groupMember(EPB_GROUP, await linkedTelegramUser(zhang), 'San');
    const { caseId, post, message } = await reportAndWaitForPost(EPB_GROUP, 'epb');
    const press = member.press(`g:a:${post.id}`, Number(post.message_id), String(message.body.text));
    const r = await deliver(emu, service.url, press);
    expect(r.status).toBe(200);
    const assignment = await assignmentOf(caseId, 'epb');
    expect(assignment).toMatchObject({ status: 'accepted', accepted_by: zhang.id });
    const c = await service.deps.db.selectFrom('cases').select('status').where('id', '=', caseId).executeTakeFirstOrThrow();
    expect(c.status).toBe('accepted');
    const edit = r.calls.find((x) => x.method === 'editMessageText' && Number(x.body.message_id) === Number(post.message_id));
    expect(edit?.body).toMatchObject({ chat_id: EPB_GROUP, message_id: Number(post.message_id) });
    expect(String(edit?.body.text)).toMatch(/✅ 已签收：张三，\d{4}-\d{2}-\d{2} \d{2}:\d{2}（北京时间）/);
    expect(String(edit?.body.text)).toContain('非法排放有毒有害污染物');
    expect(buttonsOf(edit)).toEqual([]);
    const row = await service.deps.db.selectFrom('telegram_bureau_posts').selectAll().where('id', '=', post.id).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ status: 'accepted', acted_by: zhang.id });
    // The press marked its post itself: the job after it only waits, as the press's fallback.
    expect(await settledPostDelay(caseId, 'epb')).toBeGreaterThan(0);

    // The same update delivered again acts once; a second press is told it is too late.
    const again = await deliver(emu, service.url, press, { updateId: r.updateId });
    expect(again.status).toBe(200);
    // Nothing answers the press or touches its post again (another job's post to the group may come meanwhile).
    const touching = again.calls.filter((x) => x.method === 'answerCallbackQuery' || Number(x.body.message_id) === Number(post.message_id));
    expect(touching).toEqual([]);
    const second = await deliver(emu, service.url, member.press(`g:a:${post.id}`, Number(post.message_id)));
    expect(alertOf(second.calls)).toMatchObject({ show_alert: true, text: expect.stringContaining('已经签收') });
    const events = await service.deps.db.selectFrom('case_events').select('kind').where('case_id', '=', caseId).where('to_status', '=', 'accepted').execute();
    expect(events).toHaveLength(1);
  });

  it('marks the recorded post too when a second copy of it is pressed (a post Telegram took whose record was lost, posted again)', async () => {
    const member = groupMember(EPB_GROUP, await linkedTelegramUser(zhang), 'San');
    const { caseId, post } = await reportAndWaitForPost(EPB_GROUP, 'epb');
    // The copy nothing recorded: the same post id in its buttons, another message.
    const copy = Number(post.message_id) + 1000;
    const r = await deliver(emu, service.url, member.press(`g:a:${post.id}`, copy));
    expect(r.status).toBe(200);
    expect((await assignmentOf(caseId, 'epb')).status).toBe('accepted');
    const edits = r.calls.filter((x) => x.method === 'editMessageText' && Number(x.body.chat_id) === EPB_GROUP);
    expect(edits.map((x) => Number(x.body.message_id)).sort()).toEqual([Number(post.message_id), copy].sort());
    for (const edit of edits) {
      expect(String(edit.body.text)).toMatch(/✅ 已签收：张三/);
      expect(buttonsOf(edit)).toEqual([]);
    }
  });

  it('signs for and edits the post even when Telegram refuses the answer to the press', async () => {
    const member = groupMember(EPB_GROUP, await linkedTelegramUser(zhang), 'San');
    const { caseId, post } = await reportAndWaitForPost(EPB_GROUP, 'epb');
    emu.rateLimitNext('answerCallbackQuery', 1, 60);
    const r = await deliver(emu, service.url, member.press(`g:a:${post.id}`, Number(post.message_id)));
    expect(r.status).toBe(200);
    expect(r.calls.some((c) => c.method === 'answerCallbackQuery:429')).toBe(true);
    expect((await assignmentOf(caseId, 'epb')).status).toBe('accepted');
    const edit = r.calls.find((x) => x.method === 'editMessageText' && Number(x.body.message_id) === Number(post.message_id));
    expect(String(edit?.body.text)).toMatch(/✅ 已签收：张三/);
  });

  it('returns the case with the reason chosen from the buttons', async () => {
    const member = groupMember(EPB_GROUP, await linkedTelegramUser(zhang), 'San');
    const { caseId, reference, post } = await reportAndWaitForPost(EPB_GROUP, 'epb');
    const ask = await deliver(emu, service.url, member.press(`g:r:${post.id}`, Number(post.message_id)));
    const reasons = ask.calls.find((c) => c.method === 'editMessageReplyMarkup' && Number(c.body.message_id) === Number(post.message_id));
    expect(buttonsOf(reasons)).toEqual([`g:x:${post.id}:0`, `g:x:${post.id}:1`, `g:x:${post.id}:2`, `g:b:${post.id}`]);
    expect((await assignmentOf(caseId, 'epb')).status).toBe('pending');

    const chosen = await deliver(emu, service.url, member.press(`g:x:${post.id}:1`, Number(post.message_id)));
    expect(await assignmentOf(caseId, 'epb')).toMatchObject({ status: 'returned', return_reason: 'wrong_jurisdiction' });
    // The lead's return sends the case to the dispatchers' triage, as over the HTTP API.
    const c = await service.deps.db.selectFrom('cases').select(['status', 'triage_reason']).where('id', '=', caseId).executeTakeFirstOrThrow();
    expect(c).toEqual({ status: 'triage', triage_reason: 'returned' });
    const edit = chosen.calls.find((x) => x.method === 'editMessageText' && Number(x.body.message_id) === Number(post.message_id));
    expect(String(edit?.body.text)).toMatch(/↩️ 已退回（不属于本辖区）：张三/);
    expect(buttonsOf(edit)).toEqual([]);
    // The case's history names who returned it in the group in the service's words, not in the presser's language:
    // each reader reads them in theirs.
    const returnedEvent = await service.deps.db.selectFrom('case_events').select('data').where('case_id', '=', caseId).where('to_status', '=', 'triage').executeTakeFirstOrThrow();
    expect(JSON.parse(returnedEvent.data!)).toMatchObject({ unit: 'epb', reason: 'wrong_jurisdiction', note: { said: 'returned_in_group', by: '张三' } });
    expect(serviceWordsText({ said: 'returned_in_group', by: '张三' }, 'zh', service.deps.district)).toBe('张三 通过 Telegram 工作群退回');
    expect(serviceWordsText({ said: 'returned_in_group', by: '张三' }, 'en', service.deps.district)).toBe('Returned by 张三 in the Telegram group');
    // Returned, the report is no longer the unit's to read: the post keeps the unit and the tracking code, and its photos go.
    expect(String(edit?.body.text)).toContain(`工单号：${reference}`);
    expect(String(edit?.body.text)).not.toMatch(/化工厂|黑水|王五家后门|内容：/);
    const deleted = chosen.calls.find((x) => x.method === 'deleteMessages' && Number(x.body.chat_id) === EPB_GROUP);
    expect(deleted?.body.message_ids).toEqual(JSON.parse(String(post.photo_message_ids)));
  });

  it('lets 12345 return a case transferred to it from its group post: back to triage, and its reporter told', async () => {
    const member = groupMember(HOTLINE_GROUP, await linkedTelegramUser(zhou), 'Zhou');
    const { caseId, reference } = await reportAndWaitForPost(EPB_GROUP, 'epb');
    const at = new Date().toISOString();
    const dispatcher = await createUser(service.deps.db, { name: '调度老吴', role: 'dispatcher', unitCode: null, at });
    const { token } = await issueToken(service.deps.db, { userId: dispatcher.id, label: null, at });
    const moved = await fetch(`${service.url}/api/v1/cases/${caseId}/transfer`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ reason: '非环境类诉求' }),
    });
    expect(moved.status, await moved.text()).toBe(200);
    const post = await waitFor(
      () => service.deps.db.selectFrom('telegram_bureau_posts').selectAll().where('case_id', '=', caseId).where('unit_code', '=', 'hotline12345').where('status', '=', 'posted').executeTakeFirst(),
      { what: 'the 12345 group post' },
    );
    const message = emu.calls.find((c) => c.method === 'sendMessage' && Number(c.body.chat_id) === HOTLINE_GROUP && String(c.body.text).includes(reference))!;
    expect(buttonsOf(message)).toEqual([`g:a:${post.id}`, `g:r:${post.id}`]);

    await deliver(emu, service.url, member.press(`g:r:${post.id}`, Number(post.message_id)));
    const chosen = await deliver(emu, service.url, member.press(`g:x:${post.id}:0`, Number(post.message_id)));
    expect(chosen.status).toBe(200);
    expect(alertOf(chosen.calls)).toEqual({ callback_query_id: expect.any(String), text: '已退回，调度人员会重新分派。' });
    expect(await assignmentOf(caseId, 'hotline12345')).toMatchObject({ status: 'returned', return_reason: 'not_our_remit' });
    const c = await service.deps.db.selectFrom('cases').select(['status', 'triage_reason']).where('id', '=', caseId).executeTakeFirstOrThrow();
    expect(c).toEqual({ status: 'triage', triage_reason: 'transfer_returned' });
    const edit = chosen.calls.find((x) => x.method === 'editMessageText' && Number(x.body.message_id) === Number(post.message_id));
    expect(String(edit?.body.text)).toMatch(/↩️ 已退回（不属于本单位职责）：小周/);
    const told = await service.deps.db.selectFrom('notifications').select(['audience', 'kind']).where('case_id', '=', caseId).where('kind', '=', 'untransferred').execute();
    expect(told).toEqual([{ audience: 'reporter', kind: 'untransferred' }]);
  });

  it('takes a double tap on 退回 or 返回 as one press, without failing the update', async () => {
    const member = groupMember(EPB_GROUP, await linkedTelegramUser(zhang), 'San');
    const { caseId, post } = await reportAndWaitForPost(EPB_GROUP, 'epb');
    for (const data of [`g:r:${post.id}`, `g:b:${post.id}`]) {
      const first = await deliver(emu, service.url, member.press(data, Number(post.message_id)));
      expect(first.status, data).toBe(200);
      const again = await deliver(emu, service.url, member.press(data, Number(post.message_id)));
      expect(again.status, data).toBe(200);
      expect(again.calls.map((c) => c.method), data).toContain('answerCallbackQuery');
    }
    // Back at 签收 / 退回, the buttons work.
    const signed = await deliver(emu, service.url, member.press(`g:a:${post.id}`, Number(post.message_id)));
    expect(signed.status).toBe(200);
    expect((await assignmentOf(caseId, 'epb')).status).toBe('accepted');
  });

  it('posts the case anew, with working buttons, when the dispatcher gives a returned case back to the bureau', async () => {
    const member = groupMember(EPB_GROUP, await linkedTelegramUser(zhang), 'San');
    const { caseId, reference, post } = await reportAndWaitForPost(EPB_GROUP, 'epb');
    const again = await returnedAndGivenBack(member, caseId, post, '排放有毒废水，属环保局职责');
    const messages = emu.calls.filter((c) => c.method === 'sendMessage' && Number(c.body.chat_id) === EPB_GROUP && String(c.body.text).includes(reference));
    expect(messages).toHaveLength(2);
    expect(buttonsOf(messages[1])).toEqual([`g:a:${post.id}`, `g:r:${post.id}`]);
    // The photos deleted when the unit returned the case are posted again above the new post, which says they are there.
    expect(String(messages[1]!.body.text)).toContain('照片：2 张（见上）');
    const albums = emu.calls.filter((c) => c.method === 'sendMediaGroup' && Number(c.body.chat_id) === EPB_GROUP && JSON.stringify(c.body.media).includes(reference));
    expect(albums).toHaveLength(2);
    expect(again.photo_message_ids).not.toBe(post.photo_message_ids);

    const signed = await deliver(emu, service.url, member.press(`g:a:${post.id}`, Number(again.message_id)));
    expect(String(signed.calls.find((c) => c.method === 'editMessageText' && Number(c.body.message_id) === Number(again.message_id))?.body.text)).toMatch(/✅ 已签收：张三/);
    expect((await assignmentOf(caseId, 'epb')).status).toBe('accepted');
  });

  it('masks in a post made anew the reporter as staff named them, as the case page does', async () => {
    const member = groupMember(EPB_GROUP, await linkedTelegramUser(zhang), 'San');
    const { caseId, reference, post } = await reportAndWaitForPost(EPB_GROUP, 'epb', '刘德华说兴隆办事处有个化工厂晚上往沟里排黑水，气味很大');
    // The dispatcher writes down who the caller was: a name the unit must not read, here or in its group.
    await returnedAndGivenBack(member, caseId, post, '经与来电人刘德华核实，仍属环保局职责');
    const messages = emu.calls.filter((c) => c.method === 'sendMessage' && Number(c.body.chat_id) === EPB_GROUP && String(c.body.text).includes(reference));
    expect(messages).toHaveLength(2);
    expect(String(messages[1]!.body.text)).toContain('刘**说兴隆办事处');
    expect(String(messages[1]!.body.text)).not.toContain('刘德华');
  });

  it("takes the buttons from a post whose unit a re-route released, and posts anew for a unit whose role it changed", async () => {
    const { caseId, reference, post: epbPost } = await reportAndWaitForPost(EPB_GROUP, 'epb');
    const econPost = await waitFor(() =>
      service.deps.db.selectFrom('telegram_bureau_posts').selectAll().where('case_id', '=', caseId).where('unit_code', '=', 'econ').where('status', '=', 'posted').executeTakeFirst(),
    );
    const at = new Date().toISOString();
    const dispatcher = await createUser(service.deps.db, { name: '调度老周', role: 'dispatcher', unitCode: null, at });
    const { token } = await issueToken(service.deps.db, { userId: dispatcher.id, label: null, at });
    // The water bureau leads now; the EPB helps; the economic bureau is out.
    const since = emu.calls.length;
    const routed = await fetch(`${service.url}/api/v1/cases/${caseId}/route`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'illegal_discharge', lead: 'water', co: ['epb'], reason: '改由水利局牵头' }),
    });
    expect(routed.status, await routed.text()).toBe(200);
    expect((await assignmentOf(caseId, 'econ')).status).toBe('released');

    const edited = (group: number, messageId: unknown) =>
      emu.calls.filter((c) => c.method === 'editMessageText' && Number(c.body.chat_id) === group && Number(c.body.message_id) === Number(messageId));
    const withdrawn = await waitFor(() => edited(ECON_GROUP, econPost.message_id).find((c) => String(c.body.text).includes('无需再办理')), {
      what: "the economic bureau's post withdrawn",
    });
    expect(buttonsOf(withdrawn)).toEqual([]);
    // Taken from the unit: the report's words, place and photos leave its group too.
    expect(String(withdrawn.body.text)).toContain(reference);
    expect(String(withdrawn.body.text)).not.toMatch(/化工厂|黑水|王五家后门|内容：/);
    const deleted = await waitFor(() => emu.calls.slice(since).find((c) => c.method === 'deleteMessages' && Number(c.body.chat_id) === ECON_GROUP), { what: "the economic bureau's photos deleted" });
    expect(deleted.body.message_ids).toEqual(JSON.parse(String(econPost.photo_message_ids)));
    const superseded = await waitFor(() => edited(EPB_GROUP, epbPost.message_id).find((c) => String(c.body.text).includes('请以新派单消息为准')), {
      what: "the EPB's old post superseded",
    });
    expect(buttonsOf(superseded)).toEqual([]);
    const renewed = await waitFor(
      () =>
        emu.calls.filter((c) => c.method === 'sendMessage' && Number(c.body.chat_id) === EPB_GROUP && String(c.body.text).includes(reference))[1],
      { what: "the EPB's new post" },
    );
    expect(String(renewed.body.text)).toContain('协办');
    expect(buttonsOf(renewed)).toEqual([`g:a:${epbPost.id}`, `g:r:${epbPost.id}`]);
    const rows = async () => service.deps.db.selectFrom('telegram_bureau_posts').select(['unit_code', 'status']).where('case_id', '=', caseId).orderBy('unit_code').execute();
    // Each job writes its post's row just after Telegram took the message: wait until neither is still at it.
    const settled = async () => {
      const r = await rows();
      return r.some((x) => x.unit_code === 'econ' && x.status === 'released') && !r.some((x) => x.status === 'posting') ? true : null;
    };
    await waitFor(settled, { what: 'the posts marked' });
    // The local office keeps its post: the re-route left it its part.
    expect(await rows()).toEqual([
      { unit_code: 'econ', status: 'released' },
      { unit_code: 'epb', status: 'posted' },
      { unit_code: 'xinglong', status: 'posted' },
    ]);
  });

  it('withdraws the post of a unit that signed for the case once a re-route takes the case from it, photos and all', async () => {
    const { caseId, reference } = await reportAndWaitForPost(EPB_GROUP, 'epb');
    const econPost = await waitFor(() =>
      service.deps.db.selectFrom('telegram_bureau_posts').selectAll().where('case_id', '=', caseId).where('unit_code', '=', 'econ').where('status', '=', 'posted').executeTakeFirst(),
    );
    const at = new Date().toISOString();
    const tokenOf = async (name: string, role: 'bureau' | 'dispatcher', unitCode: string | null) =>
      (await issueToken(service.deps.db, { userId: (await createUser(service.deps.db, { name, role, unitCode, at })).id, label: null, at })).token;
    const post = (token: string, path: string, body: unknown) =>
      fetch(`${service.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    // The economic bureau signs for its part on the web; its group post says so.
    expect((await post(await tokenOf('经信委吴十', 'bureau', 'econ'), `/api/v1/cases/${caseId}/accept`, {})).status).toBe(200);
    await waitFor(
      async () => ((await service.deps.db.selectFrom('telegram_bureau_posts').select('status').where('id', '=', econPost.id).executeTakeFirst())?.status === 'accepted' ? true : null),
      { what: "the economic bureau's post marked signed for" },
    );
    const since = emu.calls.length;
    const routed = await post(await tokenOf('调度老郑', 'dispatcher', null), `/api/v1/cases/${caseId}/route`, { type: 'illegal_discharge', lead: 'epb', co: [], reason: '不需要经信委' });
    expect(routed.status, await routed.text()).toBe(200);
    const withdrawn = await waitFor(
      () =>
        emu.calls
          .slice(since)
          .find((c) => c.method === 'editMessageText' && Number(c.body.chat_id) === ECON_GROUP && Number(c.body.message_id) === Number(econPost.message_id) && String(c.body.text).includes('无需再办理')),
      { what: "the signed-for post withdrawn" },
    );
    expect(String(withdrawn.body.text)).toContain(reference);
    expect(String(withdrawn.body.text)).not.toMatch(/化工厂|黑水|王五家后门|内容：/);
    const deleted = await waitFor(() => emu.calls.slice(since).find((c) => c.method === 'deleteMessages' && Number(c.body.chat_id) === ECON_GROUP), { what: 'its photos deleted' });
    expect(deleted.body.message_ids).toEqual(JSON.parse(String(econPost.photo_message_ids)));
    await waitFor(
      async () => ((await service.deps.db.selectFrom('telegram_bureau_posts').select('status').where('id', '=', econPost.id).executeTakeFirst())?.status === 'released' ? true : null),
      { what: 'the post marked released' },
    );
  });

  it('answers a member who is not linked, or linked to another bureau, with an alert and changes nothing', async () => {
    const { caseId, post } = await reportAndWaitForPost(EPB_GROUP, 'epb');
    const stranger = groupMember(EPB_GROUP, nextUser++, 'Wang');
    const r = await deliver(emu, service.url, stranger.press(`g:a:${post.id}`, Number(post.message_id)));
    expect(alertOf(r.calls)).toMatchObject({ show_alert: true, text: expect.stringContaining('/link') });
    expect(r.calls.some((c) => c.method.startsWith('edit') && Number(c.body.message_id) === Number(post.message_id))).toBe(false);

    const otherBureau = groupMember(EPB_GROUP, await linkedTelegramUser(li), 'Si');
    const r2 = await deliver(emu, service.url, otherBureau.press(`g:x:${post.id}:0`, Number(post.message_id)));
    expect(alertOf(r2.calls)).toMatchObject({ show_alert: true, text: expect.stringContaining('不属于这个单位') });

    expect((await assignmentOf(caseId, 'epb')).status).toBe('pending');
    const c = await service.deps.db.selectFrom('cases').select('status').where('id', '=', caseId).executeTakeFirstOrThrow();
    expect(c.status).toBe('dispatched');
  });
});

describe('bureau group chats: a group in English', () => {
  const labelsOf = (call: ApiCall | undefined): string[] =>
    ((call?.body.reply_markup as { inline_keyboard?: Array<Array<{ text: string }>> } | undefined)?.inline_keyboard ?? []).flat().map((b) => b.text);

  it('posts, answers and marks in English in a group the district file sets to English, in Chinese in the others', async () => {
    const lead = groupMember(EPB_GROUP, await linkedTelegramUser(zhang), 'San');
    // A member whose Telegram speaks Chinese: the group's language is the file's, for what only the presser reads too.
    const member = groupMember(XINGLONG_GROUP, await linkedTelegramUser(wang), 'Wei', 'zh-hans');
    const { caseId, reference, post, message } = await reportAndWaitForPost(EPB_GROUP, 'epb');
    expect(String(message.body.text)).toContain(`工单号：${reference}`);
    expect(labelsOf(message)).toEqual(['签收', '退回']);

    const local = await waitFor(
      () => service.deps.db.selectFrom('telegram_bureau_posts').selectAll().where('case_id', '=', caseId).where('unit_code', '=', 'xinglong').where('status', '=', 'posted').executeTakeFirst(),
      { what: 'the xinglong group post' },
    );
    const posted = emu.calls.find((c) => c.method === 'sendMessage' && Number(c.body.chat_id) === XINGLONG_GROUP && String(c.body.text).includes(reference))!;
    const text = String(posted.body.text);
    expect(text).toContain('[New assignment] Xinglong Sub-district Office · jurisdiction');
    expect(text).toContain(`Case ref: ${reference}`);
    expect(text).toContain('Type: Illegal discharge of toxic pollutants');
    expect(text).toContain('Place: Xinglong Sub-district Office · 王*家后门 137****2222');
    expect(text).toMatch(/Sign for by: \d{4}-\d{2}-\d{2} \d{2}:\d{2} \(Beijing time\)/);
    // The report and the address it gave are the reporter's words; every other line is the service's, in English.
    const own = text.split('\n').filter((line) => !/^(?:Place|Report): /.test(line));
    expect(own.filter((line) => /\p{Script=Han}/u.test(line))).toEqual([]);
    expect(text).not.toContain('王五');
    expect(labelsOf(posted)).toEqual(['Sign for', 'Return']);

    const asked = await deliver(emu, service.url, member.press(`g:r:${local.id}`, Number(local.message_id)));
    expect(alertOf(asked.calls)?.text).toBe('Why is it returned?');
    const reasons = asked.calls.find((c) => c.method === 'editMessageReplyMarkup' && Number(c.body.chat_id) === XINGLONG_GROUP);
    expect(labelsOf(reasons)).toEqual(['not within our remit', 'outside our area', 'unclear who is responsible', 'Back']);
    const back = await deliver(emu, service.url, member.press(`g:b:${local.id}`, Number(local.message_id)));
    expect(labelsOf(back.calls.find((c) => c.method === 'editMessageReplyMarkup'))).toEqual(['Sign for', 'Return']);

    const signed = await deliver(emu, service.url, member.press(`g:a:${local.id}`, Number(local.message_id)));
    expect(alertOf(signed.calls)?.text).toContain('Signed for.');
    const edit = signed.calls.find((c) => c.method === 'editMessageText' && Number(c.body.chat_id) === XINGLONG_GROUP);
    expect(String(edit?.body.text)).toMatch(/✅ Signed for by 王伟, \d{4}-\d{2}-\d{2} \d{2}:\d{2} \(Beijing time\)$/);
    expect((await assignmentOf(caseId, 'xinglong')).status).toBe('accepted');

    // A 督办 from the desk's overdue list of the office, late to reply: the office's group reads the service's words of
    // it in English, the lead's (told of it) in Chinese, whatever the dispatcher's page was in.
    await service.deps.db
      .updateTable('assignments')
      .set({ reply_deadline_at: new Date(service.deps.clock.now().getTime() - 3600_000).toISOString() })
      .where('case_id', '=', caseId)
      .where('unit_code', '=', 'xinglong')
      .execute();
    const desk = await createUser(service.deps.db, { name: '调度小刘', role: 'dispatcher', unitCode: null, at: service.deps.clock.now().toISOString() });
    const dispatcher: Principal = { userId: desk.id, name: desk.name, role: 'dispatcher', unitCode: null, tokenId: 'test' };
    expect(await superviseCase(service.deps, dispatcher, caseId, { note: { said: 'overdue_supervision' } })).toMatchObject({ units: ['xinglong'] });
    const english = await waitFor(() => sentTexts(emu.calls, XINGLONG_GROUP).find((t) => t.includes(`[Supervision] ${reference}`)), { what: 'the 督办 in the English group' });
    expect(english).toContain('This case is overdue: handle and reply without delay.');
    const chinese = await waitFor(() => sentTexts(emu.calls, EPB_GROUP).find((t) => t.includes(reference) && t.includes('督办')), { what: 'the 督办 in the Chinese group' });
    expect(chinese).toContain('案件已超期，请尽快办理并答复。');

    // The lead returns the case from its Chinese group: the English group is told, in English, that the case waits.
    await deliver(emu, service.url, lead.press(`g:r:${post.id}`, Number(post.message_id)));
    const returned = await deliver(emu, service.url, lead.press(`g:x:${post.id}:0`, Number(post.message_id)));
    expect(String(returned.calls.find((c) => c.method === 'editMessageText')?.body.text)).toMatch(/↩️ 已退回（不属于本单位职责）：张三/);
    const paused = await waitFor(() => sentTexts(emu.calls, XINGLONG_GROUP).find((t) => t.includes(`[Paused] ${reference}`)), { what: 'the pause notice in the English group' });
    expect(paused).toContain('the lead (District Environmental Protection Bureau) returned the case (not within our remit)');
  });
});

describe('bureau group chats: acting elsewhere', () => {
  it('names the case by its reference, not its tracking code, when it edits a post made by an earlier version', async () => {
    const { caseId, trackingCode, reference, post } = await reportAndWaitForPost(EPB_GROUP, 'epb');
    // As an earlier version posted it: the second line held the tracking code.
    const old = String(post.text).replace(`工单号：${reference}`, `跟踪码：${trackingCode}`);
    expect(old).toContain(trackingCode);
    await service.deps.db.updateTable('telegram_bureau_posts').set({ text: old }).where('id', '=', post.id).execute();
    const { token } = await issueToken(service.deps.db, { userId: zhang.id, label: null, at: new Date().toISOString() });
    const res = await fetch(`${service.url}/api/v1/cases/${caseId}/accept`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    expect(res.status, await res.text()).toBe(200);
    const edit = await waitFor(
      () => emu.calls.find((c) => c.method === 'editMessageText' && Number(c.body.chat_id) === EPB_GROUP && Number(c.body.message_id) === Number(post.message_id)),
      { what: 'the edit of the post' },
    );
    expect(String(edit.body.text)).toContain(`工单号：${reference}`);
    expect(String(edit.body.text)).not.toContain(trackingCode);
  });

  it('marks the group post when the case is signed for through the API, and the buttons then only answer', async () => {
    const { caseId, post } = await reportAndWaitForPost(EPB_GROUP, 'epb');
    const { token } = await issueToken(service.deps.db, { userId: zhang.id, label: null, at: new Date().toISOString() });
    const res = await fetch(`${service.url}/api/v1/cases/${caseId}/accept`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    expect(res.status, await res.text()).toBe(200);
    // Signed for on the web or through the API: the job edits the message at once, then marks the post.
    expect(await settledPostDelay(caseId, 'epb')).toBe(0);
    const row = await waitFor(
      () => service.deps.db.selectFrom('telegram_bureau_posts').select(['status', 'acted_by']).where('id', '=', post.id).where('status', '!=', 'posted').executeTakeFirst(),
      { what: 'the group post to be marked' },
    );
    expect(row).toEqual({ status: 'accepted', acted_by: zhang.id });
    const edit = emu.calls.find((c) => c.method === 'editMessageText' && Number(c.body.chat_id) === EPB_GROUP && Number(c.body.message_id) === Number(post.message_id));
    expect(String(edit?.body.text)).toMatch(/✅ 已签收：张三，\d{4}-\d{2}-\d{2} \d{2}:\d{2}/);
    expect(buttonsOf(edit)).toEqual([]);
    const member = groupMember(EPB_GROUP, await linkedTelegramUser(zhang));
    const late = await deliver(emu, service.url, member.press(`g:r:${post.id}`, Number(post.message_id)));
    expect(alertOf(late.calls)?.show_alert).toBe(true);
    expect((await assignmentOf(caseId, 'epb')).status).toBe('accepted');
  });

  it('says in the post of a case merged into another case of the unit where its work goes on, instead of that the unit is done with it', async () => {
    const survivor = await reportAndWaitForPost(EPB_GROUP, 'epb');
    const duplicate = await reportAndWaitForPost(EPB_GROUP, 'epb', '兴隆办事处那个化工厂今晚又往沟里排黑水了');
    const at = new Date().toISOString();
    const dispatcher = await createUser(service.deps.db, { name: '调度并案', role: 'dispatcher', unitCode: null, at });
    const { token } = await issueToken(service.deps.db, { userId: dispatcher.id, label: null, at });
    const merged = await fetch(`${service.url}/api/v1/cases/${duplicate.caseId}/merge`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ into: survivor.caseId, reason: '同一化工厂' }),
    });
    expect(merged.status, await merged.text()).toBe(200);
    const edit = await waitFor(
      () => emu.calls.find((c) => c.method === 'editMessageText' && Number(c.body.chat_id) === EPB_GROUP && Number(c.body.message_id) === Number(duplicate.post.message_id)),
      { what: 'the edit of the merged case post' },
    );
    const text = String(edit.body.text);
    expect(text).toMatch(new RegExp(`⏹ 调度员已将此件并入本单位承办的 ${survivor.reference} 合并办理，请在该件中继续办理（\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}（北京时间））。`));
    expect(text).not.toContain('无需再办理');
    // Withdrawn as any post the unit lost: no words of the report, no buttons; never the survivor's tracking code.
    expect(text).not.toContain('化工厂');
    expect(text).not.toContain(survivor.trackingCode);
    expect(buttonsOf(edit)).toEqual([]);
  });

  it("tells a co-handler pressing its buttons while the lead's return waits for the dispatcher that the case waits, not that it is too late", async () => {
    const { caseId } = await reportAndWaitForPost(EPB_GROUP, 'epb');
    const post = await waitFor(
      () => service.deps.db.selectFrom('telegram_bureau_posts').selectAll().where('case_id', '=', caseId).where('unit_code', '=', 'econ').where('status', '=', 'posted').executeTakeFirst(),
      { what: 'the econ group post' },
    );
    const { token } = await issueToken(service.deps.db, { userId: zhang.id, label: null, at: new Date().toISOString() });
    const returned = await fetch(`${service.url}/api/v1/cases/${caseId}/return`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ reason: 'not_our_remit', note: '应由经信委牵头' }),
    });
    expect(returned.status, await returned.text()).toBe(200);
    const member = groupMember(ECON_GROUP, await linkedTelegramUser(li), 'Li');
    for (const data of [`g:a:${post.id}`, `g:x:${post.id}:0`]) {
      const press = await deliver(emu, service.url, member.press(data, Number(post.message_id)));
      expect(alertOf(press.calls), data).toMatchObject({ show_alert: true, text: '牵头单位已退回此案件，正等待调度员重新分派；在此之前暂不能签收或退回，期限暂停计算。重新分派后本单位如仍承办，可再操作。' });
    }
    // Its part and its post's buttons stay, for when the dispatcher routes the case again.
    expect((await assignmentOf(caseId, 'econ')).status).toBe('pending');
    expect((await service.deps.db.selectFrom('telegram_bureau_posts').select('status').where('id', '=', post.id).executeTakeFirstOrThrow()).status).toBe('posted');
  });
});

describe('/link and /unlink', () => {
  it('tells a dispatcher who links that the group buttons are for the units', async () => {
    const dispatcher = await createUser(service.deps.db, { name: '调度老王', role: 'dispatcher', unitCode: null, at: new Date().toISOString() });
    const { token } = await issueLinkToken(service.deps.db, { userId: dispatcher.id, now: new Date() });
    const chat = residentChat(nextUser++);
    const r = await deliver(emu, service.url, chat.command(`/link ${token}`));
    const [said] = sentTexts(r.calls, chat.chatId);
    expect(said).toContain('绑定成功：调度老王');
    expect(said).toContain('仅供承办单位账号使用');
    expect(said).not.toContain('现在可以在本单位工作群里签收');
  });

  it('links with a valid code once; a reused, expired or unknown code changes nothing', async () => {
    const { token } = await issueLinkToken(service.deps.db, { userId: li.id, now: new Date() });
    const first = residentChat(nextUser++);
    const ok = await deliver(emu, service.url, first.command(`/link ${token.toLowerCase()}`));
    expect(sentTexts(ok.calls, first.chatId)[0]).toContain('绑定成功：李四');
    const links = async () => service.deps.db.selectFrom('telegram_links').selectAll().orderBy('telegram_user_id').execute();
    expect((await links()).filter((l) => l.user_id === li.id)).toEqual([expect.objectContaining({ telegram_user_id: String(first.chatId) })]);
    const before = await links();
    // Sent again by the one it linked (a second tap), it says they are linked, not that the code is spent.
    const twice = await deliver(emu, service.url, first.command(`/link ${token}`));
    expect(sentTexts(twice.calls, first.chatId)[0]).toContain('绑定成功：李四');
    expect(await links()).toEqual(before);

    const second = residentChat(nextUser++);
    const reused = await deliver(emu, service.url, second.command(`/link ${token}`));
    expect(sentTexts(reused.calls, second.chatId)[0]).toContain('已经用过');

    const expired = await issueLinkToken(service.deps.db, { userId: li.id, now: new Date(Date.now() - 25 * 3600_000) });
    const late = await deliver(emu, service.url, second.command(`/link ${expired.token}`));
    expect(sentTexts(late.calls, second.chatId)[0]).toContain('已过期');

    const unknown = await deliver(emu, service.url, second.command('/link NOTAREALCODE2345'));
    expect(sentTexts(unknown.calls, second.chatId)[0]).toContain('不正确');
    const empty = await deliver(emu, service.url, second.command('/link'));
    expect(sentTexts(empty.calls, second.chatId)[0]).toContain('/link');
    expect(await links()).toEqual(before);
    // Unlinked, the one it linked cannot use it again either.
    await deliver(emu, service.url, first.command('/unlink'));
    const relink = await deliver(emu, service.url, first.command(`/link ${token}`));
    expect(sentTexts(relink.calls, first.chatId)[0]).toContain('已经用过');
    expect((await links()).filter((l) => l.user_id === li.id)).toEqual([]);
  });

  it('unlinks with /unlink, after which the buttons answer with an alert', async () => {
    const tgUser = await linkedTelegramUser(zhang);
    const chat = residentChat(tgUser);
    const r = await deliver(emu, service.url, chat.command('/unlink'));
    expect(sentTexts(r.calls, tgUser)[0]).toContain('已解除绑定');
    expect(await service.deps.db.selectFrom('telegram_links').selectAll().where('telegram_user_id', '=', String(tgUser)).execute()).toEqual([]);
    const { caseId, post } = await reportAndWaitForPost(EPB_GROUP, 'epb');
    const press = await deliver(emu, service.url, groupMember(EPB_GROUP, tgUser).press(`g:a:${post.id}`, Number(post.message_id)));
    expect(alertOf(press.calls)?.show_alert).toBe(true);
    expect((await assignmentOf(caseId, 'epb')).status).toBe('pending');
  });

  it('refuses a code typed in a group and voids it, linking nobody', async () => {
    const { token } = await issueLinkToken(service.deps.db, { userId: zhang.id, now: new Date() });
    const tgUser = nextUser++;
    const r = await deliver(emu, service.url, groupMember(EPB_GROUP, tgUser).command(`/link ${token}`));
    expect(sentTexts(r.calls, EPB_GROUP)[0]).toContain('私聊');
    expect(await service.deps.db.selectFrom('telegram_links').selectAll().where('telegram_user_id', '=', String(tgUser)).execute()).toEqual([]);
    // Everyone in the group saw it: it no longer works in a private chat either.
    const late = await deliver(emu, service.url, residentChat(tgUser).command(`/link ${token}`));
    expect(sentTexts(late.calls, tgUser)[0]).toContain('已经用过');
    expect(await service.deps.db.selectFrom('telegram_links').selectAll().where('telegram_user_id', '=', String(tgUser)).execute()).toEqual([]);
  });

  it('tells a member who sends /link without a code in a group where to send one, without saying a code was voided', async () => {
    const r = await deliver(emu, service.url, groupMember(EPB_GROUP, nextUser++).command('/link'));
    expect(sentTexts(r.calls, EPB_GROUP)).toEqual([expect.stringContaining('私聊机器人发送 /link 绑定码')]);
    expect(sentTexts(r.calls, EPB_GROUP)[0]).not.toMatch(/作废|重新生成/);
  });
});

describe('npm run admin -- telegram-link', { timeout: 60_000 }, () => {
  it('prints a one-time code that links the account', async () => {
    const out = await runCli('admin', ['telegram-link', li.id], { env: { DATABASE_URL: service.deps.env.DATABASE_URL, DISTRICT_CONFIG: '' } });
    expect(out.code, out.stderr).toBe(0);
    const code = out.stdout.trim().split('\n').at(-1)!;
    expect(code).toMatch(/^[2-9A-Z]{16}$/);
    const stored = await service.deps.db.selectFrom('telegram_link_tokens').select('token_hash').execute();
    expect(stored.some((s) => s.token_hash.includes(code))).toBe(false);
    const chat = residentChat(nextUser++);
    const r = await deliver(emu, service.url, chat.command(`/link ${code}`));
    expect(sentTexts(r.calls, chat.chatId)[0]).toContain('绑定成功：李四');
  });
});

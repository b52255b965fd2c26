import { beforeAll, describe, expect, it } from 'vitest';
import { runTelegramCli } from '../src/cli/telegram.js';
import { parseTypedContact } from '../src/telegram/conversation.js';
import { issueLinkToken } from '../src/telegram/links.js';
import { createUser } from '../db/repositories/users.repository.js';
import { lockChat } from '../src/telegram/chat-lock.js';
import type { Env } from '../src/env.js';
import { postJson, startTestService, testEnv, waitFor } from './harness.js';
import { JPEG_BYTES, photoSizes, residentChat, startTelegramEmulator, type ApiCall, type TelegramEmulator } from './telegram-emulator.js';
import { alertOf } from './telegram-helpers.js';

const TOKEN = '123456:TEST-token_x';
const SECRET = 'tg-secret_123';

let emu: TelegramEmulator;
let env: Env;
let service: Awaited<ReturnType<typeof startTestService>>;
let nextUpdateId = 10_000;
let nextChat = 7000;

function telegramEnv(name: string) {
  return testEnv(name, {
    TELEGRAM_BOT_TOKEN: TOKEN,
    TELEGRAM_API_ROOT: emu.url,
    TELEGRAM_WEBHOOK_SECRET: SECRET,
  });
}

beforeAll(async () => {
  emu = await startTelegramEmulator(TOKEN);
  env = telegramEnv('telegram');
  service = await startTestService(env);
});

/** Delivers one update the way Telegram does; returns the response and what the bot sent to the chat meanwhile. */
async function deliver(
  chatId: number,
  update: Record<string, unknown>,
  opts: { url?: string; updateId?: number; secret?: string | null } = {},
): Promise<{ status: number; sent: ApiCall[]; all: ApiCall[]; updateId: number }> {
  const updateId = opts.updateId ?? nextUpdateId++;
  const before = emu.toChat(chatId).length;
  const beforeAll = emu.calls.length;
  const headers: Record<string, string> = {};
  const secret = opts.secret === undefined ? SECRET : opts.secret;
  if (secret !== null) headers['X-Telegram-Bot-Api-Secret-Token'] = secret;
  const res = await postJson(`${opts.url ?? service.url}/telegram/webhook`, { update_id: updateId, ...update }, headers);
  await res.text();
  return { status: res.status, sent: emu.toChat(chatId).slice(before), all: emu.calls.slice(beforeAll), updateId };
}

const texts = (calls: ApiCall[]) => calls.filter((c) => c.method === 'sendMessage').map((c) => String(c.body.text));
const buttonsOf = (call: ApiCall | undefined): string[] => {
  const markup = call?.body.reply_markup as { inline_keyboard?: Array<Array<{ callback_data: string }>> } | undefined;
  return (markup?.inline_keyboard ?? []).flat().map((b) => b.callback_data);
};

/** Waits for the pipeline's notice to the chat that its report `code` was dispatched (a report routed without a dispatcher). */
async function dispatchNoticeIn(chatId: number, code: string): Promise<void> {
  await waitFor(() => texts(emu.toChat(chatId)).find((t) => t.includes(code) && /已派给|has been assigned to/.test(t)), { what: `the dispatched notice of ${code}` });
}

async function casesOfChat(chatId: number) {
  return service.deps.db
    .selectFrom('telegram_reporters as r')
    .innerJoin('cases as c', 'c.id', 'r.case_id')
    .select(['c.id', 'c.tracking_code', 'c.channel', 'c.text', 'c.address', 'c.lat', 'c.anonymous', 'r.language'])
    .where('r.chat_id', '=', String(chatId))
    .execute();
}

async function countCases(): Promise<number> {
  const row = await service.deps.db.selectFrom('cases').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}

describe('Telegram bot: commands', () => {
  it('explains itself on /start and lists the commands on /help, in Chinese by default', async () => {
    const chat = residentChat(nextChat++);
    const start = await deliver(chat.chatId, chat.command('/start'));
    expect(start.status).toBe(200);
    expect(texts(start.sent)).toEqual([expect.stringContaining('举报')]);
    expect(texts(start.sent)[0]!.split('\n').length).toBeLessThanOrEqual(3);
    const help = await deliver(chat.chatId, chat.command('/help'));
    expect(texts(help.sent)[0]).toMatch(/\/status[\s\S]*\/cancel/);
  });

  it('speaks English to a user whose Telegram language is English', async () => {
    const chat = residentChat(nextChat++, 'en-GB');
    const start = await deliver(chat.chatId, chat.command('/start'));
    expect(texts(start.sent)[0]).toContain('environmental problems');
    const help = await deliver(chat.chatId, chat.command('/help'));
    expect(texts(help.sent)[0]).toContain('Commands');
  });
});

describe('Telegram bot: a resident reports', () => {
  it('takes text, then a location, then anonymity, then confirmation, and answers with the tracking code', async () => {
    const chat = residentChat(nextChat++);
    const first = await deliver(chat.chatId, chat.text('有个厂子晚上往沟里排黑水，气味很大'));
    expect(texts(first.sent)).toEqual([expect.stringContaining('哪里')]);

    const where = await deliver(chat.chatId, chat.location(25.16, 111.33));
    const whereTexts = texts(where.sent);
    expect(whereTexts.at(-1)).toContain('匿名');
    expect(buttonsOf(where.sent.at(-1))).toEqual(['c:anonymous', 'c:contact']);

    const anon = await deliver(chat.chatId, chat.button('c:anonymous', '您希望匿名举报…'));
    expect(anon.all.map((c) => c.method)).toContain('answerCallbackQuery');
    const summary = texts(anon.sent).at(-1)!;
    expect(summary).toContain('排黑水');
    expect(summary).toContain('匿名');
    expect(buttonsOf(anon.sent.filter((c) => c.method === 'sendMessage').at(-1))).toEqual(['c:confirm', 'c:cancel']);
    expect(await casesOfChat(chat.chatId)).toHaveLength(0);

    const confirm = await deliver(chat.chatId, chat.button('c:confirm', summary));
    const cases = await casesOfChat(chat.chatId);
    expect(cases).toHaveLength(1);
    const created = cases[0]!;
    expect(created).toMatchObject({ channel: 'telegram', anonymous: 1, lat: 25.16, language: 'zh' });
    expect(texts(confirm.sent).at(-1)).toContain(created.tracking_code);
    expect(texts(confirm.sent).at(-1)).toContain(`http://intake.test/track/${created.tracking_code}`);
    const contact = await service.deps.db.selectFrom('case_contacts').selectAll().where('case_id', '=', created.id).executeTakeFirst();
    expect(contact).toBeUndefined();
    expect(await service.deps.db.selectFrom('telegram_sessions').selectAll().where('chat_id', '=', String(chat.chatId)).execute()).toEqual([]);

    // The pipeline dispatches the case; the notify job tells the chat to whom.
    const pushed = await waitFor(
      () => texts(emu.toChat(chat.chatId)).find((t) => t.includes(created.tracking_code) && t.includes('派给')),
      { what: 'the dispatched notice in the chat' },
    );
    expect(pushed).toMatch(/已派给 区\S+ 办理/);

    const status = await deliver(chat.chatId, chat.command('/status'));
    expect(texts(status.sent)[0]).toContain(created.tracking_code);
    const one = await deliver(chat.chatId, chat.command(`/status ${created.tracking_code.toLowerCase()}`));
    expect(texts(one.sent)[0]).toMatch(new RegExp(`${created.tracking_code}[\\s\\S]*状态`));
    // The tracking link or the 查询码 line of the bot's answer, pasted after /status, finds the case too.
    for (const pasted of [`http://intake.test/track/${created.tracking_code}`, `查询码：${created.tracking_code}`]) {
      const found = await deliver(chat.chatId, chat.command(`/status ${pasted}`));
      expect(texts(found.sent)[0], pasted).toMatch(new RegExp(`${created.tracking_code}[\\s\\S]*状态`));
    }
  });

  it('does not ask for the place when the text names one, and keeps a shared contact', async () => {
    const chat = residentChat(nextChat++);
    const first = await deliver(chat.chatId, chat.text('兴隆办事处朱家观村后山有人倒废机油'));
    expect(texts(first.sent)).toEqual([expect.stringContaining('匿名')]);
    await deliver(chat.chatId, chat.button('c:contact'));
    const shared = await deliver(chat.chatId, chat.contact('+86 138-1234-5678'));
    const summary = texts(shared.sent).at(-1)!;
    expect(summary).toContain('138****5678');
    await deliver(chat.chatId, chat.button('c:confirm', summary));
    const [created] = await casesOfChat(chat.chatId);
    expect(created).toMatchObject({ anonymous: 0, address: null });
    const contact = await service.deps.db.selectFrom('case_contacts').selectAll().where('case_id', '=', created!.id).executeTakeFirstOrThrow();
    expect(contact).toMatchObject({ name: 'Li Ming', phone: '13812345678' });
  });

  it('keeps no location outside the district: it says so, and the question of the place still stands', async () => {
    for (const [lang, said, asked] of [
      ['zh-hans', '不在本区范围内', '哪里'],
      ['en-US', 'outside the district', 'Where is it'],
    ] as const) {
      const chat = residentChat(nextChat++, lang);
      await deliver(chat.chatId, chat.text('有个厂子晚上往沟里排黑水，气味很大'));
      // Where the resident is (a city far away), not where it happens.
      const far = await deliver(chat.chatId, chat.location(28.2, 112.9));
      expect(texts(far.sent), lang).toEqual([expect.stringContaining(said), expect.stringContaining(asked)]);
      const typed = await deliver(chat.chatId, chat.text('盐下村三组后面的水沟'));
      expect(texts(typed.sent).at(-1), lang).toMatch(/匿名|anonymous/i);
      await deliver(chat.chatId, chat.button('c:anonymous'));
      await deliver(chat.chatId, chat.button('c:confirm'));
      const [created] = await casesOfChat(chat.chatId);
      expect(created, lang).toMatchObject({ address: '盐下村三组后面的水沟', lat: null });
    }
  });

  it('shows a location shared after a description that names a place as the place, as the case gets it', async () => {
    const chat = residentChat(nextChat++);
    await deliver(chat.chatId, chat.text('兴隆办事处朱家观村后山有人倒废机油'));
    const named = await deliver(chat.chatId, chat.button('c:anonymous'));
    expect(texts(named.sent).at(-1)).toMatch(/地点：\S*朱家观/);
    // At the summary the resident shares where it is exactly: the case gets that point and no address.
    const shared = await deliver(chat.chatId, chat.location(25.16, 111.33));
    const summary = texts(shared.sent).at(-1)!;
    const place = summary.split('\n').find((line) => line.startsWith('地点：'));
    expect(place).toBe('地点：已分享的位置（25.16000, 111.33000）');
    await deliver(chat.chatId, chat.button('c:confirm', summary));
    const [created] = await casesOfChat(chat.chatId);
    expect(created).toMatchObject({ address: null, lat: 25.16 });
  });

  it('drops NUL characters, lone surrogates and U+FFFD from what the resident types (the service keeps none of them)', async () => {
    const chat = residentChat(nextChat++);
    await deliver(chat.chatId, chat.text('兴隆办事处朱家观村后山\u0000有人倒\ud800废机油\ufffd'));
    await deliver(chat.chatId, chat.button('c:contact'));
    const typed = await deliver(chat.chatId, chat.text('李\u0000明 13812345678'));
    await deliver(chat.chatId, chat.button('c:confirm', texts(typed.sent).at(-1)!));
    const [created] = await casesOfChat(chat.chatId);
    expect(created!.text).toBe('兴隆办事处朱家观村后山有人倒废机油');
    const contact = await service.deps.db.selectFrom('case_contacts').selectAll().where('case_id', '=', created!.id).executeTakeFirstOrThrow();
    expect(contact).toMatchObject({ name: '李明', phone: '13812345678' });
  });

  it('answers a hello with the introduction instead of taking it as the report', async () => {
    const chat = residentChat(nextChat++);
    for (const greeting of ['你好，在吗？', '我想问一下', '咨询一下']) {
      const hello = await deliver(chat.chatId, chat.text(greeting));
      expect(texts(hello.sent), greeting).toEqual([expect.stringContaining('直接发文字描述问题')]);
    }
    const en = residentChat(nextChat++, 'en-US');
    for (const greeting of ['hello, anyone there?', 'Is anyone there?', 'Good morning!', 'are you there']) {
      const hello = await deliver(en.chatId, en.text(greeting));
      expect(texts(hello.sent), greeting).toEqual([expect.stringContaining('Just describe the problem')]);
    }
    // After a photo the bot is waiting for words: a hello gets the question again.
    await deliver(chat.chatId, chat.photo('photo-hello'));
    const again = await deliver(chat.chatId, chat.text('您好'));
    expect(texts(again.sent)).toEqual([expect.stringContaining('描述一下发生了什么')]);
    await deliver(chat.chatId, chat.text('你好，回龙圩镇有个养猪场往河里排粪水'));
    await deliver(chat.chatId, chat.button('c:anonymous'));
    await deliver(chat.chatId, chat.button('c:confirm'));
    const [created] = await casesOfChat(chat.chatId);
    expect(created?.text).toBe('你好，回龙圩镇有个养猪场往河里排粪水');
  });

  it('asks what happened when the first message only says a report is coming, and takes the next one as the description, not the place', async () => {
    for (const [opener, lang] of [
      ['我要举报', 'zh-hans'],
      ['你好，我想反映个问题。', 'zh-hans'],
      ['有个情况要反映一下', 'zh-hans'],
      ['I want to report something', 'en'],
      ["Hello, I'd like to report an environmental problem.", 'en'],
      ['I want to report a pollution issue', 'en'],
    ] as const) {
      const chat = residentChat(nextChat++, lang);
      const intent = await deliver(chat.chatId, chat.text(opener));
      expect(texts(intent.sent), opener).toEqual([lang === 'en' ? expect.stringContaining('describe in words') : expect.stringContaining('描述一下发生了什么')]);
      const described = await deliver(chat.chatId, chat.text('有个厂子晚上往沟里排黑水'));
      expect(texts(described.sent), opener).toEqual([expect.stringContaining(lang === 'en' ? 'Where' : '哪里')]);
      await deliver(chat.chatId, chat.text('盐下村三组后面的水沟'));
      await deliver(chat.chatId, chat.button('c:anonymous'));
      await deliver(chat.chatId, chat.button('c:confirm'));
      const [created] = await casesOfChat(chat.chatId);
      expect(created, opener).toMatchObject({ text: '有个厂子晚上往沟里排黑水', address: '盐下村三组后面的水沟' });
    }
  });

  it('takes a first message naming only a place as the place and asks what happened, so the report is not the place alone', async () => {
    for (const [lang, place, described] of [
      ['zh-hans', '盐下村三组后面的水沟', '有个厂子往里面排黑水'],
      ['zh-hans', '回龙村', '养猪场的粪水直接流进灌溉渠'],
      ['en-US', 'near Huilong village', 'a pig farm lets manure run into the river'],
    ] as const) {
      const chat = residentChat(nextChat++, lang);
      const asked = await deliver(chat.chatId, chat.text(place));
      expect(texts(asked.sent), place).toEqual([lang === 'en-US' ? expect.stringContaining('describe in words') : expect.stringContaining('描述一下发生了什么')]);
      // The place is known: the next question is anonymity, not "where is it?".
      const next = await deliver(chat.chatId, chat.text(described));
      expect(texts(next.sent), place).toEqual([expect.stringMatching(/匿名|anonymous/i)]);
      await deliver(chat.chatId, chat.button('c:anonymous'));
      await deliver(chat.chatId, chat.button('c:confirm'));
      const [created] = await casesOfChat(chat.chatId);
      expect(created, place).toMatchObject({ text: described, address: place });
    }
    // A place with what happens there is a description that names its place, as before.
    const chat = residentChat(nextChat++);
    const told = await deliver(chat.chatId, chat.text('回龙村有人烧垃圾'));
    expect(texts(told.sent)).toEqual([expect.stringMatching(/匿名/)]);
  });

  it('takes the buttons\' answers typed (留下联系方式, 确认, 取消) as the buttons, and thanks or 好的 as no part of a report', async () => {
    const chat = residentChat(nextChat++);
    await deliver(chat.chatId, chat.text('有个厂子晚上往沟里排黑水'));
    // 好的 to "where is it?" is no place: the question stands.
    const ok = await deliver(chat.chatId, chat.text('好的'));
    expect(texts(ok.sent)).toEqual([expect.stringContaining('哪里')]);
    await deliver(chat.chatId, chat.text('盐下村三组后面的水沟'));
    const contact = await deliver(chat.chatId, chat.text('留下联系方式'));
    expect(texts(contact.sent)).toEqual([expect.stringContaining('输入姓名和手机号')]);
    const summary = await deliver(chat.chatId, chat.text('李明 13812345678'));
    expect(texts(summary.sent).at(-1)).toContain('请确认您的举报');
    const confirmed = await deliver(chat.chatId, chat.text('确认'));
    const [created] = await casesOfChat(chat.chatId);
    expect(created).toMatchObject({ text: '有个厂子晚上往沟里排黑水', address: '盐下村三组后面的水沟', anonymous: 0 });
    expect(texts(confirmed.sent)).toEqual([expect.stringContaining(`查询码：${created!.tracking_code}`)]);
    // The pipeline's notice that the case was dispatched comes in its own time: here before the next words, not among their answers.
    await dispatchNoticeIn(chat.chatId, created!.tracking_code);
    // Thanks for the tracking code start no report.
    const thanks = await deliver(chat.chatId, chat.text('好的，谢谢！'));
    expect(texts(thanks.sent)).toEqual([expect.stringContaining('不客气')]);
    expect(await service.deps.db.selectFrom('telegram_sessions').selectAll().where('chat_id', '=', String(chat.chatId)).execute()).toEqual([]);
    // 取消 typed drops a report under way, as /cancel does.
    await deliver(chat.chatId, chat.text('回龙村有人烧垃圾'));
    const cancel = await deliver(chat.chatId, chat.text('取消'));
    expect(texts(cancel.sent)).toEqual([expect.stringContaining('已取消')]);
    expect(await service.deps.db.selectFrom('telegram_sessions').selectAll().where('chat_id', '=', String(chat.chatId)).execute()).toEqual([]);
    expect(await casesOfChat(chat.chatId)).toHaveLength(1);
  });

  it('answers the usual thanks after the tracking code (thank you so much, 非常感谢, 谢谢啦) and starts no report with them', async () => {
    for (const [lang, thanks] of [['en-US', 'Thank you so much!'], ['en-US', 'thanks a lot'], ['zh-hans', '非常感谢！'], ['zh-hans', '谢谢啦'], ['zh-hans', '太感谢了']] as const) {
      const chat = residentChat(nextChat++, lang);
      await deliver(chat.chatId, chat.text('兴隆办事处朱家观村后山有人倒废机油'));
      await deliver(chat.chatId, chat.button('c:anonymous'));
      await deliver(chat.chatId, chat.button('c:confirm'));
      const [created] = await casesOfChat(chat.chatId);
      await dispatchNoticeIn(chat.chatId, created!.tracking_code);
      const answered = await deliver(chat.chatId, chat.text(thanks));
      expect(texts(answered.sent), thanks).toEqual([expect.stringMatching(/不客气|You are welcome/)]);
      expect(await service.deps.db.selectFrom('telegram_sessions').selectAll().where('chat_id', '=', String(chat.chatId)).execute(), thanks).toEqual([]);
    }
  });

  it('takes 不知道 to "where is it?" as a place not known: the report goes on without an address, and staff are left to find it', async () => {
    for (const [lang, answer, said] of [
      ['zh-hans', '不知道具体在哪', '地点：不清楚'],
      ['zh-hans', '我也说不清楚。', '地点：不清楚'],
      ['en-US', "I don't know", 'Where: not known'],
      ['zh-hans', '说不上来', '地点：不清楚'],
      ['en-US', 'not sure where exactly', 'Where: not known'],
      ['en-US', 'Im not sure', 'Where: not known'],
      ['en-US', 'no idea where it is', 'Where: not known'],
      ['en-US', 'I don’t remember the address', 'Where: not known'],
    ] as const) {
      const chat = residentChat(nextChat++, lang);
      await deliver(chat.chatId, chat.text('有个厂子晚上往沟里排黑水'));
      const asked = await deliver(chat.chatId, chat.text(answer));
      // The next question, not "where is it?" again.
      expect(texts(asked.sent), answer).toEqual([expect.stringMatching(/匿名|anonymous/i)]);
      const summary = await deliver(chat.chatId, chat.button('c:anonymous'));
      expect(texts(summary.sent).at(-1), answer).toContain(said);
      await deliver(chat.chatId, chat.button('c:confirm'));
      const [created] = await casesOfChat(chat.chatId);
      expect(created, answer).toMatchObject({ text: '有个厂子晚上往沟里排黑水', address: null, lat: null });
    }
    // A place that only starts like it is still the place: 不知道 is not in 不知道叫什么的小河边 alone.
    const chat = residentChat(nextChat++);
    await deliver(chat.chatId, chat.text('有个厂子晚上往沟里排黑水'));
    await deliver(chat.chatId, chat.text('盐下村不知道叫什么的小河边'));
    await deliver(chat.chatId, chat.button('c:anonymous'));
    await deliver(chat.chatId, chat.button('c:confirm'));
    const [created] = await casesOfChat(chat.chatId);
    expect(created).toMatchObject({ address: '盐下村不知道叫什么的小河边' });
  });

  it('takes an answer to "where is it?" that only says more of what happens (晚上偷排废水) as description, and asks for the place again', async () => {
    for (const [lang, first, more, place, again] of [
      ['zh-hans', '我要举报一个厂', ['晚上偷排废水'], '盐下村三组', '具体地点'],
      ['zh-hans', '有个厂子', ['天天往河里倒垃圾', '气味很臭'], '河边那个养殖场', '具体地点'],
      ['en-US', 'There is a factory', ['dumping waste every night'], 'behind Yanxia village', 'exact place'],
      // When and how long are no place either.
      ['zh-hans', '有个厂子往沟里排黑水', ['已经一个多月了', '每天晚上都这样'], '盐下村三组', '具体地点'],
      ['en-US', 'A factory dumps black water', ['It has been going on for a week', 'every night since last month'], 'near Yanxia village', 'exact place'],
    ] as const) {
      const chat = residentChat(nextChat++, lang);
      const asked = await deliver(chat.chatId, chat.text(first));
      expect(texts(asked.sent), first).toEqual([expect.stringMatching(/哪里|Where/)]);
      for (const m of more) {
        const reply = await deliver(chat.chatId, chat.text(m));
        // The place is asked again, saying so; not the next question.
        expect(texts(reply.sent), m).toEqual([expect.stringContaining(again)]);
        expect(texts(reply.sent)[0], m).not.toMatch(/匿名|anonymous/i);
      }
      const next = await deliver(chat.chatId, chat.text(place));
      expect(texts(next.sent), place).toEqual([expect.stringMatching(/匿名|anonymous/i)]);
      const summary = await deliver(chat.chatId, chat.button('c:anonymous'));
      expect(texts(summary.sent).at(-1), place).toContain(more.at(-1));
      await deliver(chat.chatId, chat.button('c:confirm'));
      const [created] = await casesOfChat(chat.chatId);
      expect(created, first).toMatchObject({ text: [first, ...more].join('\n'), address: place });
    }
    // A place with what happens there is the place, as before: 盐下村三组后面的水沟在冒黑水, 厂门口天天冒黑烟; so is a place named by what
    // is done there (垃圾站, the waste plant).
    for (const answer of ['盐下村三组后面的水沟在冒黑水', '厂门口天天冒黑烟', '垃圾站', 'the waste plant']) {
      const chat = residentChat(nextChat++);
      await deliver(chat.chatId, chat.text('有个厂子'));
      const next = await deliver(chat.chatId, chat.text(answer));
      expect(texts(next.sent), answer).toEqual([expect.stringContaining('匿名')]);
      await deliver(chat.chatId, chat.button('c:anonymous'));
      await deliver(chat.chatId, chat.button('c:confirm'));
      const [created] = await casesOfChat(chat.chatId);
      expect(created, answer).toMatchObject({ text: '有个厂子', address: answer });
    }
  });

  it('accepts a photo first, asks for the description, and keeps the photo with the case', async () => {
    const chat = residentChat(nextChat++);
    const photo = await deliver(chat.chatId, chat.photo('photo-1'));
    expect(texts(photo.sent).join('\n')).toMatch(/照片[\s\S]*描述/);
    const described = await deliver(chat.chatId, chat.text('河边堆了很多生活垃圾在烧'));
    expect(texts(described.sent)).toEqual([expect.stringContaining('哪里')]);
    const typed = await deliver(chat.chatId, chat.text('回龙圩镇大桥下'));
    expect(texts(typed.sent).at(-1)).toContain('匿名');
    const anon = await deliver(chat.chatId, chat.button('c:anonymous'));
    expect(texts(anon.sent).at(-1)).toMatch(/照片：1 张/);
    await deliver(chat.chatId, chat.button('c:confirm'));
    const [created] = await casesOfChat(chat.chatId);
    expect(created).toMatchObject({ address: '回龙圩镇大桥下', text: '河边堆了很多生活垃圾在烧' });
    // The photo is downloaded by the telegram_photos job after the webhook answered.
    const photos = await waitFor(
      async () => {
        const rows = await service.deps.db.selectFrom('case_attachments').selectAll().where('case_id', '=', created!.id).execute();
        return rows.length > 0 ? rows : null;
      },
      { what: 'the photo attached by the job' },
    );
    expect(photos).toHaveLength(1);
    expect(photos[0]).toMatchObject({ mime: 'image/jpeg' });
    expect(emu.calls.some((c) => c.method === 'getFile' && c.body.file_id === 'photo-1')).toBe(true);
  });

  it('takes a photo whose caption says nothing (spaces, a zero-width space) as a photo without description', async () => {
    const chat = residentChat(nextChat++);
    const photo = await deliver(chat.chatId, chat.photo('blank-caption-1', '\u200b \u200b'));
    expect(texts(photo.sent)).toEqual([expect.stringContaining('共 1 张'), expect.stringContaining('描述')]);
    const session = await service.deps.db.selectFrom('telegram_sessions').select('state').where('chat_id', '=', String(chat.chatId)).executeTakeFirstOrThrow();
    expect(JSON.parse(session.state)).toMatchObject({ stage: 'ask_text', draft: { texts: [], photos: ['blank-caption-1'] } });
  });

  it('keeps the caption of a photo over the limit of 5 as description, though not the photo', async () => {
    const chat = residentChat(nextChat++);
    await deliver(chat.chatId, chat.text('兴隆办事处有人往河边倒垃圾'));
    for (let i = 1; i <= 5; i++) await deliver(chat.chatId, chat.photo(`limit-${i}`));
    const sixth = await deliver(chat.chatId, chat.photo('limit-6', '下游的鱼塘也被污染了'));
    expect(texts(sixth.sent)[0]).toMatch(/最多附 5 张照片，这张没有保存；照片附带的文字已加入描述/);
    const plain = await deliver(chat.chatId, chat.photo('limit-7'));
    expect(texts(plain.sent)).toEqual(['最多附 5 张照片，这张没有保存。']);
    await deliver(chat.chatId, chat.button('c:anonymous'));
    await deliver(chat.chatId, chat.button('c:confirm'));
    const [created] = await casesOfChat(chat.chatId);
    expect(created?.text).toBe('兴隆办事处有人往河边倒垃圾\n下游的鱼塘也被污染了');
    const fetch = await service.deps.db.selectFrom('telegram_photo_fetches').select('file_ids').where('case_id', '=', created!.id).executeTakeFirstOrThrow();
    expect(JSON.parse(fetch.file_ids)).toEqual(['limit-1', 'limit-2', 'limit-3', 'limit-4', 'limit-5']);
  });

  it('leaves out a photo larger than 10 MB, whether or not Telegram said its size', async () => {
    const chat = residentChat(nextChat++);
    for (const id of ['photo-small-2', 'oversize-declared-1', 'oversize-hidden-1']) await deliver(chat.chatId, chat.photo(id));
    await deliver(chat.chatId, chat.text('河边堆了很多生活垃圾在烧'));
    await deliver(chat.chatId, chat.text('回龙圩镇大桥下'));
    expect(texts((await deliver(chat.chatId, chat.button('c:anonymous'))).sent).at(-1)).toMatch(/照片：3 张/);
    await deliver(chat.chatId, chat.button('c:confirm'));
    const [created] = await casesOfChat(chat.chatId);
    await waitFor(
      async () => (await service.deps.db.selectFrom('telegram_photo_fetches').select('status').where('case_id', '=', created!.id).executeTakeFirst())?.status === 'done',
      { what: 'the photo job to finish' },
    );
    const photos = await service.deps.db.selectFrom('case_attachments').select(['mime', 'size']).where('case_id', '=', created!.id).execute();
    expect(photos).toEqual([{ mime: 'image/jpeg', size: JPEG_BYTES.length }]);
  });

  it('refuses a photo sent as a file that is larger than a photo may be, and keeps the rest of the report', async () => {
    const chat = residentChat(nextChat++);
    await deliver(chat.chatId, chat.text('河边堆了很多生活垃圾在烧'));
    const sessionBefore = await service.deps.db.selectFrom('telegram_sessions').select('state').where('chat_id', '=', String(chat.chatId)).executeTakeFirstOrThrow();
    const big = await deliver(chat.chatId, {
      message: chat.message({ document: { file_id: 'big-file-1', file_unique_id: 'big-file-1', file_name: 'IMG_0001.JPG', mime_type: 'image/jpeg', file_size: 15 * 1024 * 1024 } }),
    });
    expect(texts(big.sent)).toEqual([expect.stringMatching(/太大[\s\S]*10 MB[\s\S]*没有保存/)]);
    const sessionAfter = await service.deps.db.selectFrom('telegram_sessions').select('state').where('chat_id', '=', String(chat.chatId)).executeTakeFirstOrThrow();
    expect(sessionAfter.state).toBe(sessionBefore.state);
    // One within the limit is taken as a photo.
    const small = await deliver(chat.chatId, {
      message: chat.message({ document: { file_id: 'small-file-1', file_unique_id: 'small-file-1', file_name: 'IMG_0002.JPG', mime_type: 'image/jpeg', file_size: 3 * 1024 * 1024 } }),
    });
    expect(texts(small.sent)).toEqual([expect.stringContaining('共 1 张')]);
  });

  it("keeps a shared venue's name and address as the case's address, with its point", async () => {
    const chat = residentChat(nextChat++);
    await deliver(chat.chatId, chat.text('有个厂子晚上往沟里排黑水，气味很大'));
    const location = { latitude: 25.171, longitude: 111.335 };
    const venue = await deliver(chat.chatId, { message: chat.message({ location, venue: { location, title: '回龙圩镇八字桥', address: '回龙圩镇八字桥社区' } }) });
    expect(texts(venue.sent)).toEqual([expect.stringContaining('已收到位置'), expect.stringContaining('匿名')]);
    const anon = await deliver(chat.chatId, chat.button('c:anonymous'));
    expect(texts(anon.sent).at(-1)).toContain('地点：回龙圩镇八字桥 回龙圩镇八字桥社区');
    await deliver(chat.chatId, chat.button('c:confirm'));
    const [created] = await casesOfChat(chat.chatId);
    expect(created).toMatchObject({ address: '回龙圩镇八字桥 回龙圩镇八字桥社区', lat: 25.171 });
  });

  it('knows the English names of the district\'s places, in the description and as the answer to "where is it?"', async () => {
    const named = residentChat(nextChat++, 'en-US');
    const described = await deliver(named.chatId, named.text('A pig farm near Huilong village lets manure run into the river every night.'));
    expect(texts(described.sent)).toEqual([expect.stringContaining('anonymous')]);
    const summary = await deliver(named.chatId, named.button('c:anonymous'));
    expect(texts(summary.sent).at(-1)).toContain('Huilong village');
    await deliver(named.chatId, named.button('c:confirm'));

    const asked = residentChat(nextChat++, 'en-US');
    expect(texts((await deliver(asked.chatId, asked.text('A factory pours black wastewater into the ditch at night.'))).sent)).toEqual([expect.stringContaining('Where')]);
    await deliver(asked.chatId, asked.text('Xinglong subdistrict'));
    await deliver(asked.chatId, asked.button('c:anonymous'));
    await deliver(asked.chatId, asked.button('c:confirm'));

    for (const [chat, jurisdiction] of [[named, 'huilongxu'], [asked, 'xinglong']] as const) {
      const [created] = await casesOfChat(chat.chatId);
      const routed = await waitFor(async () => {
        const c = await service.deps.db.selectFrom('cases').select(['status', 'jurisdiction_code', 'flags']).where('id', '=', created!.id).executeTakeFirstOrThrow();
        return c.status === 'received' ? null : c;
      }, { what: `the case of ${jurisdiction} routed` });
      expect(routed.jurisdiction_code).toBe(jurisdiction);
      expect(JSON.parse(routed.flags)).not.toContain('place_unknown');
    }
  });

  it('joins several description messages into one case text', async () => {
    const chat = residentChat(nextChat++, 'en-US');
    await deliver(chat.chatId, chat.text('A pig farm lets manure run into the river.'));
    await deliver(chat.chatId, chat.location(25.16, 111.33));
    const more = await deliver(chat.chatId, chat.text('It has been going on for a week.'));
    expect(texts(more.sent).at(-1)).toContain('anonymous');
    const summary = await deliver(chat.chatId, chat.button('c:anonymous'));
    expect(texts(summary.sent).at(-1)).toContain('Please check your report');
    await deliver(chat.chatId, chat.button('c:confirm'));
    const [created] = await casesOfChat(chat.chatId);
    expect(created).toMatchObject({ text: 'A pig farm lets manure run into the river.\nIt has been going on for a week.', language: 'en' });
  });

  it('takes a long message sent when asked for the place as more description, and a short one as the place', async () => {
    const chat = residentChat(nextChat++);
    const first = await deliver(chat.chatId, chat.text('有个厂子晚上往沟里排黑水，气味很大'));
    expect(texts(first.sent).at(-1)).toContain('在哪里');
    const more = '已经持续一个多星期了，每天晚上十点以后开始排，气味非常难闻，晚上根本睡不着觉，希望有关部门尽快来查一查，谢谢你们了，真的很着急，拜托拜托';
    const again = await deliver(chat.chatId, chat.text(more));
    expect(texts(again.sent).at(-1)).toContain('在哪里');
    await deliver(chat.chatId, chat.text('盐下村三组后面的水沟'));
    await deliver(chat.chatId, chat.button('c:anonymous'));
    await deliver(chat.chatId, chat.button('c:confirm'));
    const [created] = await casesOfChat(chat.chatId);
    expect(created).toMatchObject({ text: `有个厂子晚上往沟里排黑水，气味很大\n${more}`, address: '盐下村三组后面的水沟' });
  });

  it('takes a short message written before "where is it?" came as more description, and asks again; the answer after it is the place', async () => {
    const chat = residentChat(nextChat++);
    // Two messages in a row: the second is written before the bot's question arrives.
    const first = chat.text('有个化工厂晚上往沟里排黑水，气味很大');
    const second = chat.text('已经持续一个月了');
    const asked = await deliver(chat.chatId, first);
    expect(texts(asked.sent)).toEqual([expect.stringContaining('哪里')]);
    const more = await deliver(chat.chatId, second);
    expect(texts(more.sent)).toEqual([expect.stringContaining('哪里')]);
    const place = await deliver(chat.chatId, chat.text('盐下村三组后面的水沟'));
    expect(texts(place.sent).at(-1)).toContain('匿名');
    await deliver(chat.chatId, chat.button('c:anonymous'));
    await deliver(chat.chatId, chat.button('c:confirm'));
    const [created] = await casesOfChat(chat.chatId);
    expect(created).toMatchObject({ text: '有个化工厂晚上往沟里排黑水，气味很大\n已经持续一个月了', address: '盐下村三组后面的水沟' });
  });

  it('keeps the joined description within the 5,000 characters of a case', async () => {
    const chat = residentChat(nextChat++);
    const first = `兴隆办事处的化工厂往沟里排黑水。${'臭'.repeat(3000)}`;
    await deliver(chat.chatId, chat.text(first));
    const sessionBefore = await service.deps.db.selectFrom('telegram_sessions').select('state').where('chat_id', '=', String(chat.chatId)).executeTakeFirstOrThrow();
    const tooMuch = await deliver(chat.chatId, chat.text('黑'.repeat(2500)));
    // The report waits for "anonymous or a contact?", not for a confirmation: the question asked stands.
    expect(texts(tooMuch.sent)).toEqual([expect.stringContaining('描述最多 5000 字')]);
    expect(texts(tooMuch.sent)[0]).toContain('请接着回答上面的问题');
    expect(texts(tooMuch.sent)[0]).not.toContain('确认提交');
    const sessionAfter = await service.deps.db.selectFrom('telegram_sessions').select('state').where('chat_id', '=', String(chat.chatId)).executeTakeFirstOrThrow();
    expect(sessionAfter.state).toBe(sessionBefore.state);
    // What still fits is added, and the case takes the joined text.
    await deliver(chat.chatId, chat.text('已经持续一个星期了，晚上最严重'));
    await deliver(chat.chatId, chat.button('c:anonymous'));
    // At the summary, a message that does not fit leaves the report to be confirmed.
    const atSummary = await deliver(chat.chatId, chat.text('黑'.repeat(2500)));
    expect(texts(atSummary.sent)).toEqual([expect.stringContaining('请确认提交')]);
    await deliver(chat.chatId, chat.button('c:confirm'));
    const [created] = await casesOfChat(chat.chatId);
    expect(created?.text).toBe(`${first}\n已经持续一个星期了，晚上最严重`);
  });

  it('shortens a long description in the summary on whole characters: an emoji at the cut is not halved', async () => {
    const chat = residentChat(nextChat++);
    const start = '兴隆办事处朱家观村后山有人倒废机油';
    // The emoji takes the 199th and 200th UTF-16 units, where a summary of 200 is cut.
    const text = `${start}${'臭'.repeat(198 - start.length)}😷很难受，已经好几天了`;
    await deliver(chat.chatId, chat.text(text));
    const anon = await deliver(chat.chatId, chat.button('c:anonymous'));
    expect(anon.status).toBe(200);
    const summary = texts(anon.sent).at(-1)!;
    expect(summary.isWellFormed()).toBe(true);
    expect(summary).toContain(`${'臭'.repeat(5)}…`);
    expect(buttonsOf(anon.sent.filter((c) => c.method === 'sendMessage').at(-1))).toEqual(['c:confirm', 'c:cancel']);
    await deliver(chat.chatId, chat.button('c:confirm', summary));
    const [created] = await casesOfChat(chat.chatId);
    expect(created?.text).toBe(text);
  });

  it("takes a typed 匿名 as the anonymous button, and a number given with someone else's words as description, not the reporter's contact", async () => {
    const chat = residentChat(nextChat++);
    await deliver(chat.chatId, chat.text('兴隆办事处朱家观村后山有人倒废机油'));
    const detail = await deliver(chat.chatId, chat.text('老板姓陈，电话13700001234'));
    // Still asked: anonymous or a contact of their own.
    expect(texts(detail.sent).at(-1)).toContain('匿名');
    const anon = await deliver(chat.chatId, chat.text('匿名'));
    const summary = texts(anon.sent).at(-1)!;
    expect(summary).toContain('匿名');
    // The summary shows the words as the case will keep them.
    expect(summary).toContain('老板姓陈，电话137****1234');
    expect(summary).not.toContain('13700001234');
    await deliver(chat.chatId, chat.button('c:confirm', summary));
    const [created] = await casesOfChat(chat.chatId);
    // Anonymous keeps no number in the words either, whoever's it may be: dispatchers read it as bureaus do.
    expect(created).toMatchObject({ anonymous: 1, text: '兴隆办事处朱家观村后山有人倒废机油\n老板姓陈，电话137****1234' });
    expect(await service.deps.db.selectFrom('case_contacts').selectAll().where('case_id', '=', created!.id).executeTakeFirst()).toBeUndefined();

    // Their own name and number, typed instead of pressing a button, is their contact.
    const own = residentChat(nextChat++);
    await deliver(own.chatId, own.text('兴隆办事处朱家观村后山有人倒废机油'));
    const typed = await deliver(own.chatId, own.text('我叫李明，电话13812345678'));
    expect(texts(typed.sent).at(-1)).toContain('138****5678');
    await deliver(own.chatId, own.button('c:confirm'));
    const [mine] = await casesOfChat(own.chatId);
    expect(mine).toMatchObject({ anonymous: 0 });
    const contact = await service.deps.db.selectFrom('case_contacts').selectAll().where('case_id', '=', mine!.id).executeTakeFirstOrThrow();
    expect(contact).toMatchObject({ name: '李明', phone: '13812345678' });
  });

  it.each(['匿名吧', '好的，匿名', '不用留了', '我不留联系方式', '保密吧', 'stay anonymous'])(
    'takes "%s" typed when asked as the anonymous choice, not as more description',
    async (answer) => {
      const chat = residentChat(nextChat++);
      await deliver(chat.chatId, chat.text('兴隆办事处朱家观村后山有人倒废机油'));
      const anon = await deliver(chat.chatId, chat.text(answer));
      expect(texts(anon.sent)).toEqual([expect.stringMatching(/请确认[\s\S]*身份：匿名/)]);
      await deliver(chat.chatId, chat.button('c:confirm'));
      const [created] = await casesOfChat(chat.chatId);
      expect(created).toMatchObject({ anonymous: 1, text: '兴隆办事处朱家观村后山有人倒废机油' });
    },
  );

  it('takes the usual English answers typed as the buttons — anonymous, a contact, submit — and yes to "where is it?" as no place', async () => {
    for (const [anonymous, confirm] of [
      ['anonymous please', 'submit please'],
      ['I would like to stay anonymous', 'Yes, submit it'],
      ['I’d rather stay anonymous', 'yes please'],
      ["I don't want to leave my name", 'looks good'],
      ['no contact, thanks', 'send it'],
    ]) {
      const chat = residentChat(nextChat++, 'en-US');
      await deliver(chat.chatId, chat.text('Oil dumped in the ditch at Lijiatang'));
      const summary = await deliver(chat.chatId, chat.text(anonymous!));
      expect(texts(summary.sent), anonymous).toEqual([expect.stringMatching(/Please check your report[\s\S]*Identity: anonymous/)]);
      const submitted = await deliver(chat.chatId, chat.text(confirm!));
      const [created] = await casesOfChat(chat.chatId);
      expect(created, confirm).toMatchObject({ anonymous: 1, text: 'Oil dumped in the ditch at Lijiatang' });
      expect(texts(submitted.sent), confirm).toEqual([expect.stringContaining(created!.tracking_code)]);
    }
    const chat = residentChat(nextChat++, 'en-US');
    await deliver(chat.chatId, chat.text('Oil dumped in the ditch'));
    for (const answer of ['yes', 'sure']) expect(texts((await deliver(chat.chatId, chat.text(answer))).sent), answer).toEqual([expect.stringContaining('Where is it?')]);
    await deliver(chat.chatId, chat.text('Lijiatang'));
    const asked = await deliver(chat.chatId, chat.text("I'll leave my number"));
    expect(texts(asked.sent)).toEqual([expect.stringContaining('type your name and mobile number')]);
    await deliver(chat.chatId, chat.text('Li Ming 13812345678'));
    await deliver(chat.chatId, chat.text('ok, confirm'));
    const [created] = await casesOfChat(chat.chatId);
    expect(created).toMatchObject({ anonymous: 0, text: 'Oil dumped in the ditch', address: 'Lijiatang' });
  });

  it.each(['可以留电话', '好的，留个电话吧', '实名吧'])('takes "%s" typed when asked as the choice to leave a contact', async (answer) => {
    const chat = residentChat(nextChat++);
    await deliver(chat.chatId, chat.text('兴隆办事处朱家观村后山有人倒废机油'));
    const asked = await deliver(chat.chatId, chat.text(answer));
    expect(texts(asked.sent)).toEqual([expect.stringContaining('输入姓名和手机号')]);
    const summary = await deliver(chat.chatId, chat.text('李明 13812345678'));
    expect(texts(summary.sent).at(-1)).toMatch(/问题：兴隆办事处朱家观村后山有人倒废机油\n/);
  });

  it('takes 匿名 typed before the question, or at the summary, as the choice, never as the description or the place', async () => {
    const chat = residentChat(nextChat++);
    const first = await deliver(chat.chatId, chat.text('我要匿名举报'));
    expect(texts(first.sent)).toEqual([expect.stringContaining('匿名提交'), expect.stringContaining('描述')]);
    await deliver(chat.chatId, chat.text('有个厂子晚上往沟里排黑水'));
    // Asked for the place, 匿名 again is not one.
    const place = await deliver(chat.chatId, chat.text('匿名'));
    expect(texts(place.sent).at(-1)).toContain('哪里');
    const summary = await deliver(chat.chatId, chat.text('盐下村三组后面的水沟'));
    // Not asked again whether to stay anonymous: straight to the summary.
    expect(texts(summary.sent)).toEqual([expect.stringMatching(/请确认[\s\S]*身份：匿名/)]);
    await deliver(chat.chatId, chat.button('c:confirm'));
    const [created] = await casesOfChat(chat.chatId);
    expect(created).toMatchObject({ anonymous: 1, text: '有个厂子晚上往沟里排黑水', address: '盐下村三组后面的水沟' });

    // A contact left, then 匿名 typed at the summary: the contact is dropped.
    const changed = residentChat(nextChat++);
    await deliver(changed.chatId, changed.text('兴隆办事处朱家观村后山有人倒废机油'));
    await deliver(changed.chatId, changed.text('我叫李明，电话13812345678'));
    const anon = await deliver(changed.chatId, changed.text('匿名'));
    expect(texts(anon.sent).at(-1)).toMatch(/身份：匿名/);
    expect(texts(anon.sent).at(-1)).not.toContain('5678');
    await deliver(changed.chatId, changed.button('c:confirm'));
    const [mine] = await casesOfChat(changed.chatId);
    expect(mine).toMatchObject({ anonymous: 1, text: '兴隆办事处朱家观村后山有人倒废机油' });
    expect(await service.deps.db.selectFrom('case_contacts').selectAll().where('case_id', '=', mine!.id).executeTakeFirst()).toBeUndefined();
  });

  it('lets the resident change their answer at the summary with the earlier buttons, or by typing their name and number', async () => {
    // Anonymous, then at the summary the earlier 留下联系方式 button: asked for the contact, which the report then keeps.
    const chat = residentChat(nextChat++);
    await deliver(chat.chatId, chat.text('兴隆办事处朱家观村后山有人倒废机油'));
    const question = await deliver(chat.chatId, chat.button('c:anonymous', '您希望匿名举报…'));
    expect(texts(question.sent).at(-1)).toMatch(/身份：匿名/);
    const contact = await deliver(chat.chatId, chat.button('c:contact', '您希望匿名举报…'));
    expect(alertOf(contact.all)?.text).toBeUndefined();
    expect(texts(contact.sent).at(-1)).toContain('输入姓名和手机号');
    const shared = await deliver(chat.chatId, chat.contact('+86 138 1234 5678'));
    expect(texts(shared.sent).at(-1)).toMatch(/身份：留下联系方式（Li Ming 138\*\*\*\*5678）/);
    // And back: the earlier 匿名举报 button at the summary drops the contact.
    const anon = await deliver(chat.chatId, chat.button('c:anonymous', '您希望匿名举报…'));
    expect(alertOf(anon.all)?.text).toBeUndefined();
    expect(texts(anon.sent).at(-1)).toMatch(/身份：匿名/);
    // Their name and number typed at the summary is their contact, not more description a bureau would read.
    const typed = await deliver(chat.chatId, chat.text('我叫李明 13812345678'));
    expect(texts(typed.sent).at(-1)).toMatch(/问题：兴隆办事处朱家观村后山有人倒废机油\n地点[\s\S]*身份：留下联系方式（李明 138\*\*\*\*5678）/);
    await deliver(chat.chatId, chat.button('c:confirm'));
    const [created] = await casesOfChat(chat.chatId);
    expect(created).toMatchObject({ anonymous: 0, text: '兴隆办事处朱家观村后山有人倒废机油' });
    const kept = await service.deps.db.selectFrom('case_contacts').selectAll().where('case_id', '=', created!.id).executeTakeFirstOrThrow();
    expect(kept).toMatchObject({ name: '李明', phone: '13812345678' });
  });

  it('shows the summary again with its buttons when a photo is added at it, and submits the photo from the older summary too', async () => {
    const chat = residentChat(nextChat++);
    await deliver(chat.chatId, chat.text('兴隆办事处朱家观村后山有人倒废机油'));
    const first = await deliver(chat.chatId, chat.button('c:anonymous', '您希望匿名举报…'));
    expect(texts(first.sent).at(-1)).toMatch(/照片：0 张/);
    // The summary shown before the photo came; its 确认提交 is pressed only afterwards.
    const olderConfirm = chat.button('c:confirm', texts(first.sent).at(-1)!);
    const photo = await deliver(chat.chatId, chat.photo('at-summary-1'));
    expect(texts(photo.sent)).toEqual(['已收到照片（共 1 张）。', expect.stringMatching(/请确认[\s\S]*照片：1 张/)]);
    expect(buttonsOf(photo.sent.filter((c) => c.method === 'sendMessage').at(-1))).toEqual(['c:confirm', 'c:cancel']);
    // The older summary's button submits the report as it now is, as after a text added at the summary.
    const confirmed = await deliver(chat.chatId, olderConfirm);
    const [created] = await casesOfChat(chat.chatId);
    expect(created).toMatchObject({ text: '兴隆办事处朱家观村后山有人倒废机油', anonymous: 1 });
    expect(texts(confirmed.sent).at(-1)).toContain(created!.tracking_code);
    const fetch = await service.deps.db.selectFrom('telegram_photo_fetches').select('file_ids').where('case_id', '=', created!.id).executeTakeFirstOrThrow();
    expect(JSON.parse(fetch.file_ids)).toEqual(['at-summary-1']);
    // The newer summary's 确认提交, pressed afterwards, names the report made, as a second tap does.
    const newer = photo.sent.filter((c) => c.method === 'sendMessage').at(-1)!;
    const tap = chat.button('c:confirm', String(newer.body.text));
    const again = await deliver(chat.chatId, { callback_query: { ...tap.callback_query, message: { ...tap.callback_query.message, message_id: newer.messageId } } });
    expect(alertOf(again.all)?.text).toContain(created!.tracking_code);
    expect(await casesOfChat(chat.chatId)).toHaveLength(1);

    // In English too.
    const en = residentChat(nextChat++, 'en-US');
    await deliver(en.chatId, en.text('兴隆办事处朱家观村后山有人倒废机油'));
    await deliver(en.chatId, en.button('c:anonymous'));
    const enPhoto = await deliver(en.chatId, en.photo('at-summary-en-1'));
    expect(texts(enPhoto.sent)).toEqual(['Photo received (1 in all).', expect.stringMatching(/check your report[\s\S]*Photos: 1/)]);
  });

  it('shows the summary once for an album sent at it, updating its photo count in place for the later photos', async () => {
    const chat = residentChat(nextChat++);
    await deliver(chat.chatId, chat.text('兴隆办事处朱家观村后山有人倒废机油'));
    await deliver(chat.chatId, chat.button('c:anonymous', '您希望匿名举报…'));
    const first = await deliver(chat.chatId, chat.photo('album-a-1', undefined, 'group-a'));
    expect(texts(first.sent)).toEqual(['已收到照片（共 1 张）。', expect.stringMatching(/请确认[\s\S]*照片：1 张/)]);
    const summary = first.sent.filter((c) => c.method === 'sendMessage').at(-1)!;
    expect(summary.messageId).toEqual(expect.any(Number));
    for (const [i, fileId] of ['album-a-2', 'album-a-3'].entries()) {
      const later = await deliver(chat.chatId, chat.photo(fileId, undefined, 'group-a'));
      // Only the acknowledgement is a new message; the summary above says the new count, with its buttons.
      expect(texts(later.sent)).toEqual([`已收到照片（共 ${i + 2} 张）。`]);
      const edits = later.sent.filter((c) => c.method === 'editMessageText');
      expect(edits).toHaveLength(1);
      expect(String(edits[0]!.body.text)).toMatch(new RegExp(`请确认[\\s\\S]*照片：${i + 2} 张`));
      expect(buttonsOf(edits[0])).toEqual(['c:confirm', 'c:cancel']);
      expect(Number(edits[0]!.body.message_id)).toBe(summary.messageId);
    }
    // Another album at the summary is another addition: the summary comes again, below it.
    const next = await deliver(chat.chatId, chat.photo('album-b-1', undefined, 'group-b'));
    expect(texts(next.sent)).toEqual(['已收到照片（共 4 张）。', expect.stringMatching(/请确认[\s\S]*照片：4 张/)]);
    await deliver(chat.chatId, chat.button('c:confirm', texts(next.sent).at(-1)!));
    const [created] = await casesOfChat(chat.chatId);
    const fetch = await service.deps.db.selectFrom('telegram_photo_fetches').select('file_ids').where('case_id', '=', created!.id).executeTakeFirstOrThrow();
    expect(JSON.parse(fetch.file_ids)).toEqual(['album-a-1', 'album-a-2', 'album-a-3', 'album-b-1']);
  });

  it("says it has the resident's own contact card shared before it is asked for, asks what is pending, and does not ask for a contact again", async () => {
    // At the start: the card is kept, and the bot asks for the description.
    const chat = residentChat(nextChat++);
    const card = await deliver(chat.chatId, chat.contact('+86 138 1234 5678'));
    expect(texts(card.sent)).toEqual([expect.stringContaining('已收到您的联系方式'), expect.stringContaining('描述一下发生了什么')]);
    const described = await deliver(chat.chatId, chat.text('有个厂子晚上往沟里排黑水，气味很大'));
    expect(texts(described.sent)).toEqual([expect.stringContaining('哪里')]);
    // The place given, the summary comes: no question about anonymity or a contact.
    const placed = await deliver(chat.chatId, chat.text('盐下村三组后面的水沟'));
    expect(texts(placed.sent)).toEqual([expect.stringMatching(/请确认[\s\S]*身份：留下联系方式（Li Ming 138\*\*\*\*5678）/)]);
    await deliver(chat.chatId, chat.button('c:confirm'));
    const [created] = await casesOfChat(chat.chatId);
    expect(created).toMatchObject({ anonymous: 0, address: '盐下村三组后面的水沟' });
    const contact = await service.deps.db.selectFrom('case_contacts').selectAll().where('case_id', '=', created!.id).executeTakeFirstOrThrow();
    expect(contact).toMatchObject({ name: 'Li Ming', phone: '13812345678' });

    // Asked for the place: the card is said to be kept, and the place asked again in the same answer.
    const asked = residentChat(nextChat++, 'en-US');
    await deliver(asked.chatId, asked.text('A factory dumps black water into the ditch at night'));
    const shared = await deliver(asked.chatId, asked.contact('+86 138 1234 5678'));
    expect(texts(shared.sent)).toEqual([expect.stringContaining('Got your contact'), expect.stringContaining('Where is it?')]);
    const where = await deliver(asked.chatId, asked.text('Yanxia village, group 3'));
    expect(texts(where.sent)).toEqual([expect.stringMatching(/check your report[\s\S]*contact left \(Li Ming 138\*\*\*\*5678\)/)]);
  });

  it("answers someone else's contact card for the moment: how to report when none is under way, the question pending in a report, the share button only when it is shown", async () => {
    const chat = residentChat(nextChat++);
    const cards = [
      chat.message({ contact: { phone_number: '13800000000', first_name: 'Zhao', user_id: 424242 } }),
      // A card from the phone book: no Telegram user behind it.
      chat.message({ contact: { phone_number: '13900000000', first_name: 'Qian' } }),
    ];
    for (const message of cards) {
      const idle = await deliver(chat.chatId, { message });
      expect(texts(idle.sent)).toEqual([expect.stringContaining('别人的联系方式')]);
      // No button is shown with no report under way: the resident is told how a report goes instead.
      expect(texts(idle.sent)[0]).not.toContain('按钮');
      expect(texts(idle.sent)[0]).toContain('描述问题');
    }
    expect(await service.deps.db.selectFrom('telegram_sessions').selectAll().where('chat_id', '=', String(chat.chatId)).execute()).toEqual([]);
    // In a report, asked for the place: that question stands.
    await deliver(chat.chatId, chat.text('有个厂子晚上往沟里排黑水，气味很大'));
    const midway = await deliver(chat.chatId, { message: chat.message({ contact: { phone_number: '13800000000', first_name: 'Zhao', user_id: 424242 } }) });
    expect(texts(midway.sent)).toEqual(['这是别人的联系方式，没有保存。请接着回答上面的问题。']);
    // Asked for the contact, the share button is below: pressing it is what is said.
    await deliver(chat.chatId, chat.text('盐下村三组后面的水沟'));
    await deliver(chat.chatId, chat.button('c:contact'));
    const asked = await deliver(chat.chatId, { message: chat.message({ contact: { phone_number: '13800000000', first_name: 'Zhao', user_id: 424242 } }) });
    expect(texts(asked.sent)).toEqual([expect.stringContaining('请点按钮分享您本人的')]);

    const en = residentChat(nextChat++, 'en-US');
    const enIdle = await deliver(en.chatId, { message: en.message({ contact: { phone_number: '13800000000', first_name: 'Zhao', user_id: 424242 } }) });
    expect(texts(enIdle.sent)).toEqual([expect.stringContaining("someone else's contact")]);
    expect(texts(enIdle.sent)[0]).not.toContain('button');
    expect(texts(enIdle.sent)[0]).toContain('describe the problem');
  });

  it('makes the case of a confirmation whose update number an earlier report of another chat had', async () => {
    const first = residentChat(nextChat++);
    await deliver(first.chatId, first.text('兴隆办事处有人焚烧电线'));
    await deliver(first.chatId, first.button('c:anonymous'));
    const confirmed = await deliver(first.chatId, first.button('c:confirm'));
    expect(await casesOfChat(first.chatId)).toHaveLength(1);
    // Telegram numbers updates afresh after a quiet week: another chat's confirmation comes with the same number,
    // after the service forgot the handled numbers (it keeps them 48 h).
    const second = residentChat(nextChat++);
    await deliver(second.chatId, second.text('李家塘办事处河边有人倒建筑垃圾'));
    await deliver(second.chatId, second.button('c:anonymous'));
    await service.deps.db.deleteFrom('telegram_updates').execute();
    const reused = await deliver(second.chatId, second.button('c:confirm'), { updateId: confirmed.updateId });
    expect(reused.status).toBe(200);
    const cases = await casesOfChat(second.chatId);
    expect(cases).toHaveLength(1);
    expect(texts(reused.sent).at(-1)).toContain(cases[0]!.tracking_code);
    expect(cases[0]!.text).toBe('李家塘办事处河边有人倒建筑垃圾');
  });

  it('keeps a report in progress on /start and asks its question again, so the next message is not taken for a new report', async () => {
    const chat = residentChat(nextChat++);
    await deliver(chat.chatId, chat.text('有个厂子晚上往沟里排黑水，气味很大'));
    const sessionBefore = await service.deps.db.selectFrom('telegram_sessions').select('state').where('chat_id', '=', String(chat.chatId)).executeTakeFirstOrThrow();
    const start = await deliver(chat.chatId, chat.command('/start'));
    expect(texts(start.sent)).toEqual([expect.stringContaining('还没有提交'), expect.stringContaining('哪里')]);
    expect(texts(start.sent)[0]).toContain('/cancel');
    const sessionAfter = await service.deps.db.selectFrom('telegram_sessions').select('state').where('chat_id', '=', String(chat.chatId)).executeTakeFirstOrThrow();
    // The report is as it was; only the question asked again is remembered (what is sent before it is no answer).
    const withoutQuestion = (state: string) => {
      const session = JSON.parse(state) as { stage: string; draft: { placeAskedId: number } };
      const { placeAskedId, ...draft } = session.draft;
      return { report: { ...session, draft }, placeAskedId };
    };
    const [before, after] = [withoutQuestion(sessionBefore.state), withoutQuestion(sessionAfter.state)];
    expect(after.report).toEqual(before.report);
    expect(after.placeAskedId).toBeGreaterThan(before.placeAskedId);
    // At the contact question, /start asks that again, with its buttons.
    await deliver(chat.chatId, chat.text('盐下村三组后面的水沟'));
    const again = await deliver(chat.chatId, chat.command('/start'));
    expect(texts(again.sent)).toEqual([expect.stringContaining('还没有提交'), expect.stringContaining('匿名')]);
    expect(buttonsOf(again.sent.at(-1))).toEqual(['c:anonymous', 'c:contact']);
    // In English too.
    const en = residentChat(nextChat++, 'en-US');
    await deliver(en.chatId, en.photo('start-midway-1'));
    expect(texts((await deliver(en.chatId, en.command('/start'))).sent)).toEqual([expect.stringContaining('not submitted yet'), expect.stringContaining('describe')]);
  });

  it('abandons the report on /cancel midway', async () => {
    const chat = residentChat(nextChat++);
    await deliver(chat.chatId, chat.text('工地晚上施工噪音很大'));
    const cancel = await deliver(chat.chatId, chat.command('/cancel'));
    expect(texts(cancel.sent)).toEqual([expect.stringContaining('已取消')]);
    expect(await service.deps.db.selectFrom('telegram_sessions').selectAll().where('chat_id', '=', String(chat.chatId)).execute()).toEqual([]);
    const again = await deliver(chat.chatId, chat.command('/cancel'));
    expect(texts(again.sent)).toEqual([expect.stringContaining('没有正在填写')]);
    // A stale confirm button after cancelling creates nothing.
    const stale = await deliver(chat.chatId, chat.button('c:confirm'));
    expect(stale.all.find((c) => c.method === 'answerCallbackQuery')?.body.text).toContain('失效');
    expect(await casesOfChat(chat.chatId)).toHaveLength(0);
  });

  it('creates one case when Telegram delivers the confirming update twice', async () => {
    const chat = residentChat(nextChat++);
    await deliver(chat.chatId, chat.text('兴隆办事处有人焚烧电线'));
    await deliver(chat.chatId, chat.button('c:anonymous'));
    const confirm = chat.button('c:confirm');
    const first = await deliver(chat.chatId, confirm);
    const again = await deliver(chat.chatId, confirm, { updateId: first.updateId });
    expect(again.status).toBe(200);
    expect(again.sent).toEqual([]);
    expect(await casesOfChat(chat.chatId)).toHaveLength(1);
  });

  it('answers a second tap on 确认提交 with the tracking code of the report it made, in the chat language, and makes no second case', async () => {
    for (const [lang, said] of [['zh-hans', '已经提交'], ['en-US', 'already submitted']] as const) {
      const chat = residentChat(nextChat++, lang);
      await deliver(chat.chatId, chat.text('兴隆办事处有人焚烧电线'));
      await deliver(chat.chatId, chat.button('c:anonymous'));
      const confirm = chat.button('c:confirm');
      await deliver(chat.chatId, confirm);
      const [created] = await casesOfChat(chat.chatId);
      // The same button of the same summary, pressed again (a new press, not Telegram's redelivery).
      const again = await deliver(chat.chatId, { callback_query: { ...confirm.callback_query, id: `${confirm.callback_query.id}-again` } });
      expect(again.status).toBe(200);
      const alert = alertOf(again.all);
      expect(alert?.text, lang).toContain(said);
      expect(alert?.text, lang).toContain(created!.tracking_code);
      expect(alert?.text, lang).not.toContain('失效');
      expect(await casesOfChat(chat.chatId)).toHaveLength(1);
    }
  });

  it('submits nothing and drops nothing when a button of a report dropped with /cancel is pressed while the next report waits at its summary', async () => {
    const chat = residentChat(nextChat++);
    await deliver(chat.chatId, chat.text('兴隆办事处有人焚烧电线'));
    await deliver(chat.chatId, chat.button('c:anonymous'));
    const droppedConfirm = chat.button('c:confirm');
    const droppedCancel = chat.button('c:cancel');
    await deliver(chat.chatId, chat.command('/cancel'));
    await deliver(chat.chatId, chat.text('回龙圩镇的河里有死鱼'));
    await deliver(chat.chatId, chat.button('c:anonymous'));
    // The old summary showed another report: its buttons neither submit nor drop this one, which waits for its own.
    for (const button of [droppedConfirm, droppedCancel]) {
      const pressed = await deliver(chat.chatId, button);
      expect(pressed.status).toBe(200);
      expect(alertOf(pressed.all)?.text).toBe('这个按钮已经失效了。');
      expect(pressed.sent.filter((c) => c.method === 'editMessageText' || c.method === 'sendMessage')).toEqual([]);
    }
    expect(await casesOfChat(chat.chatId)).toEqual([]);
    await deliver(chat.chatId, chat.button('c:confirm'));
    expect((await casesOfChat(chat.chatId)).map((c) => c.text)).toEqual(['回龙圩镇的河里有死鱼']);
  });

  it('takes the 确认提交 of a report dropped with /cancel, and an edit of its words, as part of no report, not of the one sent after it', async () => {
    const chat = residentChat(nextChat++);
    const dropped = chat.text('兴隆办事处有人焚烧电线');
    await deliver(chat.chatId, dropped);
    await deliver(chat.chatId, chat.button('c:anonymous'));
    // The summary of the dropped report, its button pressed only later.
    const droppedConfirm = chat.button('c:confirm');
    await deliver(chat.chatId, chat.command('/cancel'));
    await deliver(chat.chatId, chat.text('回龙圩镇的河里有死鱼'));
    await deliver(chat.chatId, chat.button('c:anonymous'));
    await deliver(chat.chatId, chat.button('c:confirm'));
    const [sent] = await casesOfChat(chat.chatId);
    const pressed = await deliver(chat.chatId, droppedConfirm);
    expect(pressed.status).toBe(200);
    expect(alertOf(pressed.all)?.text).toBe('这个按钮已经失效了。');
    const edited = await deliver(chat.chatId, chat.edited(dropped, { text: '兴隆办事处有人在焚烧电线' }));
    expect(texts(edited.sent).filter((t) => t.includes('修改已发送的消息'))).toEqual(['修改已发送的消息不会改动举报。需要补充或更正，请直接发送一条新消息。']);
    // The case's own notices (dispatched to a bureau) may come meanwhile: only the answers to the press and the edit count.
    const answers = [alertOf(pressed.all)?.text ?? '', ...texts(edited.sent).filter((t) => t.includes('修改已发送的消息'))];
    for (const said of answers) expect(said).not.toContain(sent!.tracking_code);
    expect(await casesOfChat(chat.chatId)).toHaveLength(1);
  });

  it('tells a staff member who sends a link code without /link how to send it, instead of starting a report with it', async () => {
    const user = await createUser(service.deps.db, { name: '赵六', role: 'bureau', unitCode: 'epb', at: new Date().toISOString() });
    const { token } = await issueLinkToken(service.deps.db, { userId: user.id, now: new Date() });
    // As issued, and as /link would take it too: lower case, in groups of four.
    for (const typed of [token, token.toLowerCase().replace(/(.{4})(?!$)/g, '$1 ')]) {
      const chat = residentChat(nextChat++);
      const r = await deliver(chat.chatId, chat.text(typed));
      expect(texts(r.sent), typed).toEqual([expect.stringContaining('/link')]);
      expect(texts(r.sent)[0]).toContain('绑定码');
      expect(await service.deps.db.selectFrom('telegram_sessions').selectAll().where('chat_id', '=', String(chat.chatId)).execute()).toEqual([]);
    }
    // It linked nobody and still works with /link.
    expect(await service.deps.db.selectFrom('telegram_links').selectAll().where('user_id', '=', user.id).execute()).toEqual([]);
    const chat = residentChat(nextChat++, 'en-US');
    expect(texts((await deliver(chat.chatId, chat.text(token))).sent)).toEqual([expect.stringContaining('/link CODE')]);
    const linked = await deliver(chat.chatId, chat.command(`/link ${token}`));
    expect(texts(linked.sent)[0]).toContain('Linked: 赵六');
    // In the middle of a report, the same message is the report's (here, the answer to "where is it?").
    const reporting = residentChat(nextChat++);
    await deliver(reporting.chatId, reporting.text('有个厂子晚上往沟里排黑水，气味很大'));
    const answer = await deliver(reporting.chatId, reporting.text(token));
    expect(texts(answer.sent).at(-1)).toContain('匿名');
  });

  it('answers a tracking code sent alone as /status CODE does, instead of starting a report with it', async () => {
    const chat = residentChat(nextChat++);
    await deliver(chat.chatId, chat.text('盐下村三组后面的水沟发黑发臭'));
    await deliver(chat.chatId, chat.button('c:anonymous'));
    await deliver(chat.chatId, chat.button('c:confirm'));
    const [made] = await casesOfChat(chat.chatId);
    const code = made!.tracking_code;
    // The code as typed (lower case, in two groups), the bot's link pasted, its 查询码 line copied, and with only words
    // asking after the report.
    for (const typed of [
      code.toLowerCase(),
      `${code.slice(0, 5)} ${code.slice(5)}`,
      `http://intake.test/track/${code}`,
      `查询码：${code}`,
      `查询 ${code}`,
      `${code} 进度`,
      `我的举报${code}怎么样了`,
      `http://intake.test/track/${code} 怎么样了`,
    ]) {
      const r = await deliver(chat.chatId, chat.text(typed));
      // (The case's dispatched notice may come meanwhile.)
      expect(texts(r.sent), typed).toContainEqual(expect.stringMatching(new RegExp(`^案件 ${code}[\\s\\S]*状态`)));
      expect(texts(r.sent).join('\n'), typed).not.toContain('哪里');
      expect(await service.deps.db.selectFrom('telegram_sessions').selectAll().where('chat_id', '=', String(chat.chatId)).execute()).toEqual([]);
    }
    const en = residentChat(nextChat++, 'en');
    expect(texts((await deliver(en.chatId, en.text(code))).sent)).toEqual([expect.stringContaining(`Status:`)]);
    for (const typed of [`is ${code} done?`, `Has my report ${code} been handled yet?`, `any news on ${code}`]) {
      expect(texts((await deliver(en.chatId, en.text(typed))).sent), typed).toEqual([expect.stringContaining(`Case ${code}\nStatus:`)]);
    }
    // A code no case has is said to be unknown, as /status says it.
    expect(texts((await deliver(en.chatId, en.text('KKKKKKKKKK'))).sent)).toEqual([expect.stringContaining('No case has this tracking code')]);
    // Among other words, it is a report naming the code; and in the middle of a report, part of it
    const naming = await deliver(chat.chatId, chat.text(`${code} 处理了吗？晚上又在排`));
    expect(texts(naming.sent).at(-1)).toContain('哪里');
    // So is its link with words written against it.
    const other = residentChat(nextChat++);
    const linked = await deliver(other.chatId, other.text(`晚上又在排黑水http://intake.test/track/${code}`));
    expect(texts(linked.sent).at(-1)).toContain('哪里');
    // (here, the answer to "where is it?").
    const more = await deliver(chat.chatId, chat.text(code));
    expect(texts(more.sent).at(-1)).toContain('匿名');
    expect(await casesOfChat(chat.chatId)).toHaveLength(1);
  });

  it('answers what it cannot use and changes nothing', async () => {
    const chat = residentChat(nextChat++);
    await deliver(chat.chatId, chat.text('化工厂旁边的水沟发黑发臭'));
    const sessionBefore = await service.deps.db.selectFrom('telegram_sessions').select('state').where('chat_id', '=', String(chat.chatId)).executeTakeFirstOrThrow();
    const casesBefore = await countCases();
    const unusable = [
      chat.message({ sticker: { file_id: 'st', file_unique_id: 'st', type: 'regular', width: 512, height: 512, is_animated: false, is_video: false } }),
      chat.message({ voice: { file_id: 'vo', file_unique_id: 'vo', duration: 3 } }),
      chat.message({ text: '   ' }),
      chat.message({ text: '排'.repeat(5000) }),
      chat.message({ document: { file_id: 'doc', file_unique_id: 'doc', file_name: 'report.pdf', mime_type: 'application/pdf' } }),
      // What no Telegram client sends, but a hand-made update can: no place on Earth, only NULs.
      chat.message({ location: { latitude: 1000, longitude: -1000 } }),
      chat.message({ location: {} }),
      // Someone else's contact card: not the reporter's own details.
      chat.message({ contact: { phone_number: '13800000000', first_name: 'Zhao', user_id: 424242 } }),
      // A card from the phone book (no Telegram user behind it), and one of the resident's own without a number.
      chat.message({ contact: { phone_number: '13900000000', first_name: 'Qian' } }),
      chat.message({ contact: { phone_number: '', first_name: 'Li', user_id: chat.chatId } }),
      // Nothing visible: a zero-width space.
      chat.message({ text: '\u200b\u200b ' }),
      chat.message({ text: '\u0000\u0000' }),
    ];
    for (const message of unusable) {
      const r = await deliver(chat.chatId, { message });
      expect(r.status).toBe(200);
      expect(texts(r.sent)).toHaveLength(1);
      expect(texts(r.sent)[0]!.length).toBeLessThan(80);
    }
    const sessionAfter = await service.deps.db.selectFrom('telegram_sessions').select('state').where('chat_id', '=', String(chat.chatId)).executeTakeFirstOrThrow();
    expect(sessionAfter.state).toBe(sessionBefore.state);
    expect(await countCases()).toBe(casesBefore);
  });

  it('tells a resident in the middle of a report that a sticker or a voice message is not taken and the question stands, not to describe the problem again', async () => {
    const sticker = { sticker: { file_id: 'st', file_unique_id: 'st', type: 'regular', width: 512, height: 512, is_animated: false, is_video: false } };
    const voice = { voice: { file_id: 'vo', file_unique_id: 'vo', duration: 3 } };
    const chat = residentChat(nextChat++);
    // No report under way: a report is what the resident is asked for.
    expect(texts((await deliver(chat.chatId, { message: chat.message(sticker) })).sent)).toEqual([expect.stringContaining('请用文字描述问题')]);
    await deliver(chat.chatId, chat.text('化工厂旁边的水沟发黑发臭'));
    await deliver(chat.chatId, chat.text('盐下村三组后面的水沟'));
    await deliver(chat.chatId, chat.button('c:anonymous'));
    // At the summary (a thumbs-up sticker for "yes"), the report waits for its confirmation.
    for (const message of [sticker, voice, { video_note: { file_id: 'vn', file_unique_id: 'vn', length: 240, duration: 2 } }, { dice: { emoji: '🎲', value: 3 } }]) {
      const r = await deliver(chat.chatId, { message: chat.message(message) });
      expect(texts(r.sent), Object.keys(message)[0]).toEqual([expect.stringContaining('请接着')]);
      expect(texts(r.sent)[0]).not.toContain('描述问题');
    }
    const en = residentChat(nextChat++, 'en');
    await deliver(en.chatId, en.text('A factory dumps black water into the ditch at night'));
    expect(texts((await deliver(en.chatId, { message: en.message(sticker) })).sent)).toEqual([expect.stringContaining('the question above')]);
  });

  it('tells whoever sends its commands in a group to write in a private chat, and shows no case there', async () => {
    const chat = residentChat(nextChat++);
    await deliver(chat.chatId, chat.text('盐下村三组后面的水沟发黑发臭'));
    await deliver(chat.chatId, chat.button('c:anonymous'));
    await deliver(chat.chatId, chat.button('c:confirm'));
    const code = (await casesOfChat(chat.chatId))[0]!.tracking_code;
    // A family group the resident added the bot to.
    const group = { id: -4_000_123, type: 'group', title: '家庭群' };
    const command = (text: string, languageCode = 'zh-hans') => ({
      message: {
        message_id: nextChat++,
        date: Math.floor(Date.now() / 1000),
        chat: group,
        from: { id: chat.chatId, is_bot: false, first_name: 'Li', language_code: languageCode },
        text,
        entities: [{ type: 'bot_command', offset: 0, length: text.split(' ')[0]!.length }],
      },
    });
    for (const text of ['/start', '/start@intake_test_bot', '/help', `/status ${code}`, '/status', '/cancel']) {
      const r = await deliver(group.id, command(text));
      expect(r.status, text).toBe(200);
      expect(texts(r.sent), text).toEqual([expect.stringContaining('私聊')]);
      expect(texts(r.sent)[0]).toContain('https://t.me/intake_test_bot');
      expect(texts(r.sent)[0]).not.toContain(code);
    }
    expect(texts((await deliver(group.id, command('/help', 'en'))).sent)).toEqual([expect.stringContaining('private chat')]);
    // Another bot's command is not this bot's to answer.
    expect((await deliver(group.id, command('/start@other_bot'))).sent).toEqual([]);
    expect(await service.deps.db.selectFrom('telegram_sessions').selectAll().where('chat_id', '=', String(group.id)).execute()).toEqual([]);
  });

  it('lists the latest 20 cases on /status, says how many earlier ones are left out and how to look one up', async () => {
    const chat = residentChat(nextChat++);
    const codes: string[] = [];
    for (let i = 0; i < 22; i++) {
      const res = await postJson(`${service.url}/api/v1/reports`, { text: `兴隆办事处有人往河边倒垃圾（第 ${i + 1} 次）`, anonymous: true });
      const made = (await res.json()) as { id: string; trackingCode: string };
      codes.push(made.trackingCode);
      // As the bot records a report made in the chat, its code already sent.
      const at = new Date().toISOString();
      await service.deps.db
        .insertInto('telegram_reporters')
        .values({ case_id: made.id, chat_id: String(chat.chatId), language: 'zh', created_at: at, last_message_id: null, first_message_id: null, code_sent_at: at })
        .execute();
    }
    const status = await deliver(chat.chatId, chat.command('/status'));
    const list = texts(status.sent).find((t) => t.includes('/status'))!;
    for (const code of codes.slice(2)) expect(list).toContain(code);
    for (const code of codes.slice(0, 2)) expect(list).not.toContain(code);
    expect(list).toContain('另有 2 件较早的举报没有列出');
    expect(list).toContain('/status 查询码');
    expect(list).toContain('http://intake.test/track');
    // In English too.
    const few = residentChat(nextChat++, 'en-US');
    await service.deps.db.updateTable('telegram_reporters').set({ chat_id: String(few.chatId) }).where('chat_id', '=', String(chat.chatId)).execute();
    const enList = texts((await deliver(few.chatId, few.command('/status'))).sent).find((t) => t.includes('/status'))!;
    expect(enList).toContain('2 earlier reports are not listed');
    expect(enList).toContain('http://intake.test/track');
  });

  it('says so when the resident has no cases, and when a code is unknown', async () => {
    const chat = residentChat(nextChat++);
    expect(texts((await deliver(chat.chatId, chat.command('/status'))).sent)[0]).toContain('还没有');
    expect(texts((await deliver(chat.chatId, chat.command('/status NOPE'))).sent)[0]).toContain('没有找到');
  });
});

describe('a contact typed as text', () => {
  it('takes the phone number, in whatever digits, and the rest as the name', () => {
    expect(parseTypedContact('张三 13812345678')).toEqual({ name: '张三', phone: '13812345678' });
    expect(parseTypedContact('张三 １３８１２３４５６７８')).toEqual({ name: '张三', phone: '13812345678' });
    expect(parseTypedContact('+86 138 1234 5678，李四')).toEqual({ name: '李四', phone: '13812345678' });
    expect(parseTypedContact('没有号码')).toBeNull();
    // Zeros alone are no number, as on the report form and a hotline call.
    expect(parseTypedContact('张三 000-0000-0000')).toBeNull();
  });

  it('keeps the name without the words that label it or the number', () => {
    expect(parseTypedContact('我叫王小明，电话13812345678')).toEqual({ name: '王小明', phone: '13812345678' });
    expect(parseTypedContact('姓名：李四 手机：138 1234 5678。')).toEqual({ name: '李四', phone: '13812345678' });
    expect(parseTypedContact('My name is John Smith, phone +86 138 1234 5678')).toEqual({ name: 'John Smith', phone: '13812345678' });
    expect(parseTypedContact('电话13812345678')).toEqual({ name: null, phone: '13812345678' });
    expect(parseTypedContact('call me on 13812345678')).toEqual({ name: null, phone: '13812345678' });
    expect(parseTypedContact('This is Li Ming, mobile number 13812345678')).toEqual({ name: 'Li Ming', phone: '13812345678' });
    expect(parseTypedContact('手机：138-1234-5678，姓张')).toEqual({ name: '张', phone: '13812345678' });
  });

  it('gives the case the name typed when asked for the contact, as the summary shows it', async () => {
    const chat = residentChat(nextChat++);
    await deliver(chat.chatId, chat.text('兴隆办事处朱家观村后山有人倒废机油'));
    await deliver(chat.chatId, chat.button('c:contact'));
    const typed = await deliver(chat.chatId, chat.text('我叫王小明，电话13812345678'));
    const summary = texts(typed.sent).at(-1)!;
    expect(summary).toContain('（王小明 138****5678）');
    await deliver(chat.chatId, chat.button('c:confirm', summary));
    const [created] = await casesOfChat(chat.chatId);
    const contact = await service.deps.db.selectFrom('case_contacts').selectAll().where('case_id', '=', created!.id).executeTakeFirstOrThrow();
    expect(contact).toMatchObject({ name: '王小明', phone: '13812345678' });
  });
});

describe('POST /telegram/webhook', () => {
  it('is 401 and does nothing without the secret token, or with a wrong one', async () => {
    const chat = residentChat(nextChat++);
    const missing = await deliver(chat.chatId, chat.command('/start'), { secret: null });
    expect(missing.status).toBe(401);
    const wrong = await deliver(chat.chatId, chat.command('/start'), { secret: 'nope' });
    expect(wrong.status).toBe(401);
    expect(emu.toChat(chat.chatId)).toEqual([]);
    const seen = await service.deps.db
      .selectFrom('telegram_updates')
      .select('update_id')
      .where('update_id', 'in', [missing.updateId, wrong.updateId])
      .execute();
    expect(seen).toEqual([]);
  });

  it('answers 503 while another update of the chat holds it, and handles the redelivery once it is free', async () => {
    const chat = residentChat(nextChat++);
    const release = await lockChat(service.deps.db, service.deps.clock, String(chat.chatId));
    const update = chat.command('/start');
    const busy = await deliver(chat.chatId, update);
    expect(busy.status).toBe(503);
    expect(busy.sent).toEqual([]);
    await release();
    const again = await deliver(chat.chatId, update, { updateId: busy.updateId });
    expect(again.status).toBe(200);
    expect(texts(again.sent)).toHaveLength(1);
  }, 20_000);

  it("hands an update to the bot through grammY's Hono adapter, whose answer it sends: 200 with an empty text body", async () => {
    const chat = residentChat(nextChat++);
    const res = await postJson(`${service.url}/telegram/webhook`, { update_id: nextUpdateId++, ...chat.command('/start') }, { 'X-Telegram-Bot-Api-Secret-Token': SECRET });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await res.text()).toBe('');
    await waitFor(() => emu.toChat(chat.chatId).length > 0, { what: 'the answer to /start' });
  });

  it('refuses with a 4xx what is not a Telegram update, and touches nothing', async () => {
    const headers = { 'X-Telegram-Bot-Api-Secret-Token': SECRET };
    for (const [body, field] of [
      [[1, 2], 'body'],
      [42, 'body'],
      [{ message: { text: 'x' } }, 'update_id'],
      [{ update_id: 'abc' }, 'update_id'],
      [{ update_id: 1.5 }, 'update_id'],
      [{ update_id: 1e300 }, 'update_id'],
      // What the bot relies on, as the Bot API defines it.
      [{ update_id: 7, message: { message_id: 1, date: 1, chat: { id: 5, type: 'private' }, text: '/link X' } }, 'message.from'],
      [{ update_id: 8, message: { message_id: 1, date: 1, chat: { id: 5, type: 'private' }, from: { id: 5 }, text: 42 } }, 'message.text'],
      [{ update_id: 9, message: { message_id: 1, date: 1, chat: { id: null, type: 'private' }, from: { id: 5 } } }, 'message.chat.id'],
      [{ update_id: 10, message: { message_id: 1, date: 1, chat: { id: 5, type: 'private' }, from: { id: 5 }, contact: { first_name: 'Li' } } }, 'message.contact.phone_number'],
      [{ update_id: 11, callback_query: { id: 'q', data: 'c:confirm' } }, 'callback_query.from'],
      // The language picks the bot's words; an edit's send time is read as a date.
      [{ update_id: 12, message: { message_id: 1, date: 1, chat: { id: 5, type: 'private' }, from: { id: 5, language_code: 7 }, text: 'hi' } }, 'message.from.language_code'],
      [{ update_id: 13, edited_message: { message_id: 1, date: 1e15, chat: { id: 5, type: 'private' }, from: { id: 5 }, text: 'hi' } }, 'edited_message.date'],
      // A photo is fetched later by its file id: one that is no string would make a case whose photo never comes.
      [{ update_id: 14, message: { message_id: 1, date: 1, chat: { id: 5, type: 'private' }, from: { id: 5 }, photo: [{ file_id: 42 }] } }, 'message.photo.0.file_id'],
      [{ update_id: 15, message: { message_id: 1, date: 1, chat: { id: 5, type: 'private' }, from: { id: 5 }, photo: 'x' } }, 'message.photo'],
      [{ update_id: 16, message: { message_id: 1, date: 1, chat: { id: 5, type: 'private' }, from: { id: 5 }, document: { mime_type: 'image/jpeg' } } }, 'message.document.file_id'],
      // Commands are told by their entities; a pressed button's message by its send time.
      [{ update_id: 17, message: { message_id: 1, date: 1, chat: { id: 5, type: 'private' }, from: { id: 5 }, text: '/start', entities: { type: 'bot_command' } } }, 'message.entities'],
      [{ update_id: 18, message: { message_id: 1, date: 1, chat: { id: 5, type: 'private' }, from: { id: 5 }, text: '/start', entities: [null] } }, 'message.entities.0'],
      [{ update_id: 19, message: { message_id: 1, date: 1, chat: { id: 5, type: 'private' }, from: { id: 5 }, caption: 'x', caption_entities: 'x' } }, 'message.caption_entities'],
      [{ update_id: 20, callback_query: { id: 'q', from: { id: 5 }, data: 'c:confirm', message: { message_id: 1, chat: { id: 5, type: 'private' }, text: 's' } } }, 'callback_query.message.date'],
      [{ update_id: 21, callback_query: { id: 'q', from: { id: 5 }, data: 'c:confirm', message: { message_id: 1, date: 1e15, chat: { id: 5, type: 'private' }, text: 's' } } }, 'callback_query.message.date'],
    ] as const) {
      const res = await postJson(`${service.url}/telegram/webhook`, body, headers);
      const answer = (await res.json()) as { error: { fields: Record<string, string> } };
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(Object.keys(answer.error.fields), JSON.stringify(body)).toContain(field);
    }
    const notJson = await fetch(`${service.url}/telegram/webhook`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: '{"update_id":' });
    expect(notJson.status).toBe(400);
    const seen = await service.deps.db.selectFrom('telegram_updates').select('update_id').where('update_id', 'in', [1, 1.5, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21]).execute();
    expect(seen).toEqual([]);
  });

  it('refuses a button press whose message text is not text, and the report in progress goes on as before', async () => {
    const chat = residentChat(nextChat++);
    const asked = await deliver(chat.chatId, chat.text('兴隆办事处朱家观村有个厂子晚上往沟里排黑水，气味很大'));
    expect(buttonsOf(asked.sent.at(-1))).toEqual(['c:anonymous', 'c:contact']);
    // The bot repeats the pressed message's text with the choice marked: a text that is an object is no update of Telegram's.
    const odd = chat.button('c:anonymous');
    (odd.callback_query.message as Record<string, unknown>).text = { text: '…' };
    const refused = await deliver(chat.chatId, odd);
    expect(refused.status).toBe(400);
    expect(refused.sent).toEqual([]);
    const again = await deliver(chat.chatId, chat.button('c:anonymous'));
    expect(again.status).toBe(200);
    expect(buttonsOf(again.sent.at(-1))).toEqual(['c:confirm', 'c:cancel']);
    expect(await casesOfChat(chat.chatId)).toEqual([]);
  });
});

describe('Telegram bot: edited messages', () => {
  const sessionOf = async (chatId: number) => {
    const row = await service.deps.db.selectFrom('telegram_sessions').select('state').where('chat_id', '=', String(chatId)).executeTakeFirst();
    return row ? (JSON.parse(row.state) as { stage: string; draft: { texts: string[]; address: string | null; photos: string[] } }) : null;
  };

  it('takes a corrected description into the report in progress, says so and asks what is still missing', async () => {
    const chat = residentChat(nextChat++);
    const first = chat.text('有个厂子晚上往沟里排黑水，气味很大');
    expect(texts((await deliver(chat.chatId, first)).sent)).toEqual([expect.stringContaining('哪里')]);
    // The correction names the place: the bot no longer needs to ask for it.
    const fixed = await deliver(chat.chatId, chat.edited(first, { text: '兴隆办事处朱家观村有个厂子晚上往沟里排黑水，气味很大' }));
    expect(fixed.status).toBe(200);
    expect(texts(fixed.sent)).toEqual(['已按您修改后的内容更新这份举报。', expect.stringContaining('匿名')]);
    expect(buttonsOf(fixed.sent.at(-1))).toEqual(['c:anonymous', 'c:contact']);
    const summary = texts((await deliver(chat.chatId, chat.button('c:anonymous'))).sent).at(-1)!;
    expect(summary).toContain('朱家观村有个厂子');
    // Corrected again at the summary: the summary comes again, with the new words.
    const again = await deliver(chat.chatId, chat.edited(first, { text: '兴隆办事处朱家观村有个厂子半夜往沟里排黑水' }));
    expect(texts(again.sent)).toEqual(['已按您修改后的内容更新这份举报。', expect.stringContaining('半夜往沟里排黑水')]);
    expect(buttonsOf(again.sent.at(-1))).toEqual(['c:confirm', 'c:cancel']);
    await deliver(chat.chatId, chat.button('c:confirm'));
    const [created] = await casesOfChat(chat.chatId);
    expect(created?.text).toBe('兴隆办事处朱家观村有个厂子半夜往沟里排黑水');
  });

  it('takes a corrected place and a corrected photo caption, and repeats the pending question in English', async () => {
    const chat = residentChat(nextChat++, 'en-US');
    const photo = chat.photo('edit-photo-1', 'black water in the ditch at night');
    await deliver(chat.chatId, photo);
    const place = chat.text('Maludou village gate');
    expect(texts((await deliver(chat.chatId, place)).sent).at(-1)).toContain('anonymous');
    const fixedPlace = await deliver(chat.chatId, chat.edited(place, { text: 'Maludou village, north gate' }));
    expect(texts(fixedPlace.sent)).toEqual(['Got it: the report now reads as you corrected it.', expect.stringContaining('anonymous')]);
    const fixedCaption = await deliver(chat.chatId, chat.edited(photo, { caption: 'black water and foam in the ditch at night' }));
    expect(texts(fixedCaption.sent)[0]).toBe('Got it: the report now reads as you corrected it.');
    await deliver(chat.chatId, chat.button('c:anonymous'));
    await deliver(chat.chatId, chat.button('c:confirm'));
    const [created] = await casesOfChat(chat.chatId);
    expect(created).toMatchObject({ text: 'black water and foam in the ditch at night', address: 'Maludou village, north gate' });
  });

  it('never changes a submitted report from an edit, and says once per edited message how to add to it', async () => {
    const chat = residentChat(nextChat++);
    const first = chat.text('兴隆办事处有工厂夜里冒黑烟');
    await deliver(chat.chatId, first);
    const second = chat.text('烟是从东边那根烟囱冒出来的');
    await deliver(chat.chatId, second);
    await deliver(chat.chatId, chat.button('c:anonymous'));
    await deliver(chat.chatId, chat.button('c:confirm'));
    const [created] = await casesOfChat(chat.chatId);
    const notice = new RegExp(`${created!.tracking_code}.*不会改动[\\s\\S]*新消息[\\s\\S]*/status ${created!.tracking_code}`);
    // The case's own notices (dispatched to a bureau) may come meanwhile: only the answers to edits are counted.
    const editNotices = (calls: ApiCall[]) => texts(calls).filter((t) => t.includes('修改已发送的消息'));
    const edit = await deliver(chat.chatId, chat.edited(first, { text: '兴隆办事处有工厂白天也冒黑烟' }));
    expect(editNotices(edit.sent)).toEqual([expect.stringMatching(notice)]);
    // The same message fixed again: the resident was told already.
    const again = await deliver(chat.chatId, chat.edited(first, { text: '兴隆办事处有工厂白天也在冒黑烟' }));
    expect(again.status).toBe(200);
    expect(editNotices(again.sent)).toEqual([]);
    const [after] = await casesOfChat(chat.chatId);
    expect(after?.text).toBe('兴隆办事处有工厂夜里冒黑烟\n烟是从东边那根烟囱冒出来的');
    expect(await sessionOf(chat.chatId)).toBeNull();
    // Another message of the report gets its own notice.
    const other = await deliver(chat.chatId, chat.edited(second, { text: '烟是从东边那根高烟囱冒出来的' }));
    expect(editNotices(other.sent)).toEqual([expect.stringMatching(notice)]);
    // A new report under way does not take the words of a message of the submitted one either.
    await deliver(chat.chatId, chat.text('回龙圩镇的河里有死鱼'));
    const later = await deliver(chat.chatId, chat.edited(first, { text: '兴隆办事处有工厂一直冒黑烟' }));
    expect(editNotices(later.sent)).toEqual([]);
    expect((await sessionOf(chat.chatId))?.draft.texts).toEqual(['回龙圩镇的河里有死鱼']);
  });

  it('tells the report an edited message belongs to by its message id, not by its send time to the second', async () => {
    const chat = residentChat(nextChat++);
    const editNotices = (calls: ApiCall[]) => texts(calls).filter((t) => t.includes('修改已发送的消息'));
    const report = async (text: string, date?: number) => {
      const sent = { message: chat.message({ text, ...(date === undefined ? {} : { date }) }) };
      await deliver(chat.chatId, sent);
      await deliver(chat.chatId, chat.button('c:anonymous'));
      await deliver(chat.chatId, chat.button('c:confirm'));
      const row = await service.deps.db
        .selectFrom('telegram_reporters as r')
        .innerJoin('cases as c', 'c.id', 'r.case_id')
        .select(['c.tracking_code', 'r.created_at'])
        .where('r.chat_id', '=', String(chat.chatId))
        .orderBy('r.created_at', 'desc')
        .executeTakeFirstOrThrow();
      return { sent, code: row.tracking_code, second: Math.floor(Date.parse(row.created_at) / 1000) };
    };
    const earlier = await report('兴隆办事处有工厂夜里冒黑烟');
    // Sent in the very second the earlier report was submitted, after it: no part of it.
    const hello = { message: chat.message({ text: '你好', date: earlier.second }) };
    await deliver(chat.chatId, hello);
    expect(editNotices((await deliver(chat.chatId, chat.edited(hello, { text: '你好，我还要举报' }))).sent)).toEqual([
      '修改已发送的消息不会改动举报。需要补充或更正，请直接发送一条新消息。',
    ]);
    // The next report's description, sent in that second too, is the next report's.
    const later = await report('回龙圩镇的河里有死鱼', earlier.second);
    const edit = await deliver(chat.chatId, chat.edited(later.sent, { text: '回龙圩镇的河里有很多死鱼' }));
    expect(editNotices(edit.sent)).toEqual([expect.stringContaining(later.code)]);
    expect(editNotices(edit.sent)[0]).not.toContain(earlier.code);
    // A report submitted before the message ids were kept is still found by the send time.
    await service.deps.db.updateTable('telegram_reporters').set({ last_message_id: null, first_message_id: null }).where('chat_id', '=', String(chat.chatId)).execute();
    const old = await deliver(chat.chatId, chat.edited(earlier.sent, { text: '兴隆办事处有工厂白天也冒黑烟' }));
    expect(editNotices(old.sent)).toEqual([expect.stringContaining(earlier.code)]);
  });

  it('takes a photo replaced in its message into the report in progress instead of the old one, with the corrected caption', async () => {
    const chat = residentChat(nextChat++);
    const photo = chat.photo('swap-old-1', '回龙圩镇大桥下有人往河里倒垃圾');
    await deliver(chat.chatId, photo);
    const plain = chat.photo('swap-plain-old-1');
    await deliver(chat.chatId, plain);
    // Telegram sends the message again with the new photo's sizes, and its caption.
    const replaced = await deliver(chat.chatId, chat.edited(photo, { photo: photoSizes('swap-new-1'), caption: '回龙圩镇大桥下有人往河里倒建筑垃圾' }));
    expect(texts(replaced.sent)).toEqual(['已按您修改后的内容更新这份举报。', expect.stringContaining('匿名')]);
    const swapped = await deliver(chat.chatId, chat.edited(plain, { photo: photoSizes('swap-plain-new-1') }));
    expect(texts(swapped.sent)[0]).toBe('已按您修改后的内容更新这份举报。');
    expect((await sessionOf(chat.chatId))?.draft).toMatchObject({ photos: ['swap-new-1', 'swap-plain-new-1'], texts: ['回龙圩镇大桥下有人往河里倒建筑垃圾'] });
    expect(texts((await deliver(chat.chatId, chat.button('c:anonymous'))).sent).at(-1)).toMatch(/照片：2 张/);
    await deliver(chat.chatId, chat.button('c:confirm'));
    const [created] = await casesOfChat(chat.chatId);
    expect(created?.text).toBe('回龙圩镇大桥下有人往河里倒建筑垃圾');
    const fetch = await service.deps.db.selectFrom('telegram_photo_fetches').select('file_ids').where('case_id', '=', created!.id).executeTakeFirstOrThrow();
    expect(JSON.parse(fetch.file_ids)).toEqual(['swap-new-1', 'swap-plain-new-1']);
    await waitFor(
      async () => (await service.deps.db.selectFrom('case_attachments').select('id').where('case_id', '=', created!.id).execute()).length === 2,
      { what: 'the replaced photos attached by the job' },
    );
    const fetched = emu.calls.filter((c) => c.method === 'getFile').map((c) => String(c.body.file_id));
    expect(fetched).toEqual(expect.arrayContaining(['swap-new-1', 'swap-plain-new-1']));
    expect(fetched.filter((id) => id.startsWith('swap-') && id.includes('old'))).toEqual([]);
    // Replaced once the report is submitted: the case keeps what was sent, and the resident is told so.
    const late = await deliver(chat.chatId, chat.edited(plain, { photo: photoSizes('swap-plain-late-1') }));
    expect(texts(late.sent).filter((t) => t.includes('修改已发送的消息'))).toEqual([expect.stringContaining(created!.tracking_code)]);
  });

  it('keeps the limits of a photo when one is replaced: not over 10 MB, and not one left out for being past the fifth', async () => {
    const chat = residentChat(nextChat++);
    await deliver(chat.chatId, chat.text('兴隆办事处有人往河边倒垃圾'));
    const photos = Array.from({ length: 6 }, (_, i) => chat.photo(`swap-limit-${i + 1}`));
    for (const p of photos) await deliver(chat.chatId, p);
    const before = await sessionOf(chat.chatId);
    const big = [{ file_id: 'swap-limit-big', file_unique_id: 'swap-limit-big', width: 4000, height: 3000, file_size: 11 * 1024 * 1024 }];
    const tooLarge = await deliver(chat.chatId, chat.edited(photos[0]!, { photo: big }));
    expect(texts(tooLarge.sent)).toEqual([expect.stringMatching(/太大[\s\S]*10 MB/)]);
    // The sixth photo was not kept: replacing it adds nothing.
    const sixth = await deliver(chat.chatId, chat.edited(photos[5]!, { photo: photoSizes('swap-limit-6b') }));
    expect(texts(sixth.sent)).toEqual(['修改已发送的消息不会改动举报。需要补充或更正，请直接发送一条新消息。']);
    expect(await sessionOf(chat.chatId)).toEqual(before);
    expect(before?.draft.photos).toEqual(['swap-limit-1', 'swap-limit-2', 'swap-limit-3', 'swap-limit-4', 'swap-limit-5']);
  });

  it('says an edit of a message the report did not use changes nothing', async () => {
    const chat = residentChat(nextChat++);
    const hello = chat.text('你好');
    await deliver(chat.chatId, hello);
    await deliver(chat.chatId, chat.text('有个厂子晚上往沟里排黑水'));
    const before = await sessionOf(chat.chatId);
    const edit = await deliver(chat.chatId, chat.edited(hello, { text: '你好，我要举报' }));
    expect(texts(edit.sent)).toEqual(['修改已发送的消息不会改动举报。需要补充或更正，请直接发送一条新消息。']);
    expect(await sessionOf(chat.chatId)).toEqual(before);
    expect((await deliver(chat.chatId, chat.edited(hello, { text: '你好，我要举报排污' }))).sent).toEqual([]);
  });

  it('ignores the movements of a live location without a word, before and after the report is submitted', async () => {
    const chat = residentChat(nextChat++);
    await deliver(chat.chatId, chat.text('有个厂子晚上往沟里排黑水'));
    const live = { message: chat.message({ location: { latitude: 25.16, longitude: 111.33, live_period: 900 } }) };
    expect(texts((await deliver(chat.chatId, live)).sent).at(-1)).toContain('匿名');
    const before = await sessionOf(chat.chatId);
    const moved = await deliver(chat.chatId, chat.edited(live, { location: { latitude: 25.161, longitude: 111.331, live_period: 900 } }));
    expect(moved.status).toBe(200);
    expect(moved.sent).toEqual([]);
    expect(await sessionOf(chat.chatId)).toEqual(before);
    await deliver(chat.chatId, chat.button('c:anonymous'));
    await deliver(chat.chatId, chat.button('c:confirm'));
    const after = await deliver(chat.chatId, chat.edited(live, { location: { latitude: 25.162, longitude: 111.332, live_period: 900 } }));
    expect(after.sent).toEqual([]);
    const [created] = await casesOfChat(chat.chatId);
    expect(created?.lat).toBe(25.16);
  });

  it('refuses an edit that is empty or too long as it refuses such a message, and drops NUL characters', async () => {
    const chat = residentChat(nextChat++);
    const first = chat.text('有个厂子晚上往沟里排黑水');
    await deliver(chat.chatId, first);
    const before = await sessionOf(chat.chatId);
    const empty = await deliver(chat.chatId, chat.edited(first, { text: ' \u200b ' }));
    expect(texts(empty.sent)).toEqual(['消息是空的，请用文字描述问题。']);
    const long = await deliver(chat.chatId, chat.edited(first, { text: '排'.repeat(5000) }));
    expect(texts(long.sent)).toEqual([expect.stringContaining('太长')]);
    expect(await sessionOf(chat.chatId)).toEqual(before);
    const nul = await deliver(chat.chatId, chat.edited(first, { text: '有个厂子\u0000半夜往沟里排黑水' }));
    expect(texts(nul.sent)[0]).toBe('已按您修改后的内容更新这份举报。');
    expect((await sessionOf(chat.chatId))?.draft.texts).toEqual(['有个厂子半夜往沟里排黑水']);
  });

  it('keeps working with a report stored before the messages of its parts were remembered', async () => {
    const chat = residentChat(nextChat++);
    const old = chat.text('养猪场的粪水直接排进灌溉渠');
    // As a draft was stored before: no message ids.
    const state = {
      stage: 'ask_place',
      draft: { texts: ['养猪场的粪水直接排进灌溉渠'], photos: [], location: null, address: null, namedPlace: null, venue: null, anonymous: null, contact: null },
    };
    await service.deps.db
      .insertInto('telegram_sessions')
      .values({ chat_id: String(chat.chatId), state: JSON.stringify(state), updated_at: new Date().toISOString() })
      .execute();
    const edit = await deliver(chat.chatId, chat.edited(old, { text: '养猪场的粪水排进灌溉渠' }));
    expect(texts(edit.sent)).toEqual(['修改已发送的消息不会改动举报。需要补充或更正，请直接发送一条新消息。']);
    const place = chat.text('马鹿头村口');
    expect(texts((await deliver(chat.chatId, place)).sent).at(-1)).toContain('匿名');
    // What came after is remembered: its correction is taken.
    expect(texts((await deliver(chat.chatId, chat.edited(place, { text: '马鹿头村北口' }))).sent)[0]).toBe('已按您修改后的内容更新这份举报。');
    await deliver(chat.chatId, chat.button('c:anonymous'));
    await deliver(chat.chatId, chat.button('c:confirm'));
    const [created] = await casesOfChat(chat.chatId);
    expect(created).toMatchObject({ text: '养猪场的粪水直接排进灌溉渠', address: '马鹿头村北口' });
  });

  it('refuses an edit without a sender in a private chat, or without the message id, naming the field', async () => {
    const headers = { 'X-Telegram-Bot-Api-Secret-Token': SECRET };
    for (const [body, field] of [
      [{ update_id: 21, edited_message: { message_id: 1, date: 1, chat: { id: 5, type: 'private' }, text: 'x' } }, 'edited_message.from'],
      [{ update_id: 22, edited_message: { date: 1, chat: { id: 5, type: 'private' }, from: { id: 5 }, text: 'x' } }, 'edited_message.message_id'],
      [{ update_id: 23, edited_message: { message_id: 1, date: 1, chat: { id: 5, type: 'private' }, from: { id: 5 }, text: 42 } }, 'edited_message.text'],
    ] as const) {
      const res = await postJson(`${service.url}/telegram/webhook`, body, headers);
      const answer = (await res.json()) as { error: { fields: Record<string, string> } };
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(Object.keys(answer.error.fields), JSON.stringify(body)).toContain(field);
    }
  });
});

describe('Telegram bot across a restart', () => {
  it('continues a half-finished report with a new service on the same database', async () => {
    const restartEnv = telegramEnv('telegram-restart');
    const first = await startTestService(restartEnv);
    const chat = residentChat(nextChat++);
    await deliver(chat.chatId, chat.text('养猪场的粪水直接排进灌溉渠'), { url: first.url });
    await first.stop();

    const second = await startTestService(restartEnv);
    const where = await deliver(chat.chatId, chat.text('马鹿头村口'), { url: second.url });
    expect(texts(where.sent).at(-1)).toContain('匿名');
    await deliver(chat.chatId, chat.button('c:anonymous'), { url: second.url });
    await deliver(chat.chatId, chat.button('c:confirm'), { url: second.url });
    const created = await second.deps.db.selectFrom('cases').select(['text', 'address', 'channel']).execute();
    expect(created).toEqual([{ text: '养猪场的粪水直接排进灌溉渠', address: '马鹿头村口', channel: 'telegram' }]);
  });
});

describe('npm run telegram -- set-webhook', () => {
  it('registers PUBLIC_URL/telegram/webhook with the secret token', async () => {
    const lines: string[] = [];
    expect(await runTelegramCli(['set-webhook'], env, (l) => lines.push(l))).toBe(0);
    const call = emu.calls.filter((c) => c.method === 'setWebhook').at(-1);
    expect(call?.body).toMatchObject({ url: 'http://intake.test/telegram/webhook', secret_token: SECRET });
    // Edits are sent only to a webhook registered for them.
    expect(call?.body.allowed_updates).toEqual(['message', 'edited_message', 'callback_query']);
    expect(lines).toEqual(['webhook set: http://intake.test/telegram/webhook']);
  });
});

describe('Telegram rate limits', () => {
  it('waits out a short 429 with the given retry_after and answers the update', async () => {
    const chat = residentChat(nextChat++);
    await deliver(chat.chatId, chat.text('兴隆办事处有工厂夜里冒黑烟'));
    await deliver(chat.chatId, chat.button('c:anonymous'));
    // The bot's answer with the tracking code, not a progress notice the pipeline may push to the chat meanwhile.
    emu.rateLimitNext('sendMessage', 1, 1, chat.chatId, '举报已受理');
    const confirmed = await deliver(chat.chatId, chat.button('c:confirm'));
    expect(confirmed.status).toBe(200);
    const [created] = await casesOfChat(chat.chatId);
    expect(created).toBeDefined();
    const limited = confirmed.all.find((c) => c.method === 'sendMessage:429');
    const retried = confirmed.all.find((c) => c.method === 'sendMessage' && String(c.body.text).includes(`查询码：${created!.tracking_code}`));
    expect(limited).toBeDefined();
    expect(retried).toBeDefined();
    // The retry came only after the second Telegram asked for.
    expect(retried!.at - limited!.at).toBeGreaterThanOrEqual(950);
  });

  it('gives the resident the tracking code before any notice of the case, though the answer waits out a 429', async () => {
    // The notices' retries as in production (8, the delay doubling), from 1 s rather than 5 s.
    const own = await startTestService(testEnv('telegram-order', { TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_API_ROOT: emu.url, TELEGRAM_WEBHOOK_SECRET: SECRET, DISPATCH_ATTEMPTS: '8', DISPATCH_BACKOFF_MS: '1000' }));
    const chat = residentChat(nextChat++);
    await deliver(chat.chatId, chat.text('兴隆办事处有工厂夜里往沟里排黑水'), { url: own.url });
    await deliver(chat.chatId, chat.button('c:anonymous'), { url: own.url });
    // Long enough for the pipeline to dispatch the case meanwhile.
    emu.rateLimitNext('sendMessage', 1, 4, chat.chatId, '举报已受理');
    const confirmed = await deliver(chat.chatId, chat.button('c:confirm'), { url: own.url });
    expect(confirmed.status).toBe(200);
    const created = await own.deps.db.selectFrom('cases').select('tracking_code').where('channel', '=', 'telegram').executeTakeFirstOrThrow();
    const code = created.tracking_code;
    await waitFor(() => texts(emu.toChat(chat.chatId)).find((t) => t.includes(code) && t.includes('派给')), { what: 'the dispatched notice' });
    const told = texts(emu.toChat(chat.chatId)).filter((t) => t.includes(code));
    expect(told).toEqual([expect.stringContaining(`查询码：${code}`), expect.stringMatching(new RegExp(`您的举报 ${code} 已派给`))]);
  });

  it('fails the webhook when Telegram takes the answer and never replies, and frees the chat for the redelivery', async () => {
    const own = await startTestService(testEnv('telegram-stalled', { TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_API_ROOT: emu.url, TELEGRAM_WEBHOOK_SECRET: SECRET, TELEGRAM_API_TIMEOUT_S: '1' }));
    const chat = residentChat(nextChat++);
    emu.stallNext('sendMessage', 1);
    const update = chat.command('/start');
    const failed = await deliver(chat.chatId, update, { url: own.url });
    expect(failed.status).toBeGreaterThanOrEqual(500);
    expect(failed.all.map((c) => c.method)).toContain('sendMessage:stalled');
    // Telegram sends the update again: the chat is not held by the stalled call, and the answer goes out once.
    const again = await deliver(chat.chatId, update, { url: own.url, updateId: failed.updateId });
    expect(again.status).toBe(200);
    expect(texts(again.sent)).toHaveLength(1);
  });

  it('handles a redelivery that comes while the first delivery is still being handled, when that one then fails', async () => {
    const own = await startTestService(testEnv('telegram-redelivered-meanwhile', { TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_API_ROOT: emu.url, TELEGRAM_WEBHOOK_SECRET: SECRET, TELEGRAM_API_TIMEOUT_S: '3' }));
    const chat = residentChat(nextChat++);
    emu.stallNext('sendMessage', 1);
    const update = chat.command('/start');
    const updateId = nextUpdateId++;
    const first = deliver(chat.chatId, update, { url: own.url, updateId });
    await waitFor(() => emu.calls.some((c) => c.method === 'sendMessage:stalled' && Number(c.body.chat_id) === chat.chatId), { what: 'the stalled answer' });
    // Telegram gave up waiting for the first delivery and sends the update again.
    const again = await deliver(chat.chatId, update, { url: own.url, updateId });
    expect((await first).status).toBeGreaterThanOrEqual(500);
    expect(again.status).toBe(200);
    // Answered once, by the redelivery: not dropped as a duplicate of a handling that failed.
    expect(texts(emu.toChat(chat.chatId))).toHaveLength(1);
  });

  it('creates the case and sends its tracking code even when the press of 确认提交 cannot be answered', async () => {
    const chat = residentChat(nextChat++);
    await deliver(chat.chatId, chat.text('兴隆办事处有工厂夜里往河里排污水'));
    await deliver(chat.chatId, chat.button('c:anonymous'));
    // Telegram refuses the answer (a 429 longer than the bot waits; a late answer to a redelivered press is refused too).
    emu.rateLimitNext('answerCallbackQuery', 1, 60);
    const confirmed = await deliver(chat.chatId, chat.button('c:confirm'));
    expect(confirmed.status).toBe(200);
    expect(confirmed.all.some((c) => c.method === 'answerCallbackQuery:429')).toBe(true);
    const cases = await casesOfChat(chat.chatId);
    expect(cases).toHaveLength(1);
    expect(texts(confirmed.sent).at(-1)).toContain(cases[0]!.tracking_code);
  });

  it('answers the update of a resident who blocked the bot: the report is made, and nothing is left for a redelivery', async () => {
    const chat = residentChat(nextChat++);
    await deliver(chat.chatId, chat.text('兴隆办事处有工厂夜里往河里倒废渣'));
    await deliver(chat.chatId, chat.button('c:anonymous'));
    // Blocked between the summary and the press of 确认提交: the tracking code cannot be sent.
    emu.forbidChat(chat.chatId, 'Forbidden: bot was blocked by the user');
    const confirm = chat.button('c:confirm');
    const confirmed = await deliver(chat.chatId, confirm);
    expect(confirmed.status).toBe(200);
    expect(confirmed.all.some((c) => c.method.startsWith('sendMessage') && Number(c.body.chat_id) === chat.chatId)).toBe(true);
    const [created] = await casesOfChat(chat.chatId);
    expect(created).toBeDefined();
    // Unblocked later, the resident presses 确认提交 on the same summary: the report it made, not a second one.
    emu.allowChat(chat.chatId);
    const again = await deliver(chat.chatId, { callback_query: { ...confirm.callback_query, id: `${confirm.callback_query.id}-again` } });
    expect(again.status).toBe(200);
    expect(alertOf(again.all)?.text).toContain(created!.tracking_code);
    expect(await casesOfChat(chat.chatId)).toHaveLength(1);
  });

  it('fails the webhook on a 429 longer than it can wait, and the redelivery answers with the same case', async () => {
    const chat = residentChat(nextChat++);
    await deliver(chat.chatId, chat.text('兴隆办事处有工厂夜里冒黑烟'));
    await deliver(chat.chatId, chat.button('c:anonymous'));
    emu.rateLimitNext('sendMessage', 1, 60, chat.chatId, '举报已受理');
    // The bot's own answer takes the 429 first; 60 s is beyond the webhook's patience, so Telegram would redeliver.
    const confirm = chat.button('c:confirm');
    const failed = await deliver(chat.chatId, confirm);
    expect(failed.status).toBe(500);
    const redelivered = await deliver(chat.chatId, confirm, { updateId: failed.updateId });
    expect(redelivered.status).toBe(200);
    const [created] = await casesOfChat(chat.chatId);
    expect(created).toBeDefined();
    expect(await casesOfChat(chat.chatId)).toHaveLength(1);
    expect(texts(redelivered.sent).at(-1)).toContain(created!.tracking_code);
  });

  it('answers the redelivered edit of a submitted message when the first answer could not be sent', async () => {
    const chat = residentChat(nextChat++);
    const first = chat.text('兴隆办事处有工厂夜里冒黑烟');
    await deliver(chat.chatId, first);
    await deliver(chat.chatId, chat.button('c:anonymous'));
    await deliver(chat.chatId, chat.button('c:confirm'));
    emu.rateLimitNext('sendMessage', 1, 60, chat.chatId, '修改已发送的消息');
    const edit = chat.edited(first, { text: '兴隆办事处有工厂白天也冒黑烟' });
    const failed = await deliver(chat.chatId, edit);
    expect(failed.status).toBe(500);
    const redelivered = await deliver(chat.chatId, edit, { updateId: failed.updateId });
    expect(redelivered.status).toBe(200);
    expect(texts(redelivered.sent).filter((t) => t.includes('修改已发送的消息'))).toHaveLength(1);
  });
});

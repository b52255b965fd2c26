import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { listAssignments } from '../db/repositories/assignments.repository.js';
import { findCaseByTrackingCode } from '../db/repositories/cases.repository.js';
import { newPage } from './browser.js';
import { DEFAULT_EXAMPLES_PATH, loadOrTrain } from '../src/classifier/classifier-store.js';
import type { District } from '../src/district/district.schema.js';
import { tempDir, waitFor } from './harness.js';
import { SESSION_IDLE_MS } from '../src/web/session.js';
import { browserDrafts, formClient, signIn, signInHere, startStaffWebService, TRANSCRIPT, type WebStaff } from './web-staff-helpers.js';

let web: WebStaff;
let base: string;

beforeAll(async () => {
  web = await startStaffWebService('web-console');
  base = web.service.url;
}, 60_000);

let address = 0;
const fromNewAddress = () => ({ 'x-forwarded-for': `10.3.0.${++address}` });

async function caseOf(code: string) {
  return waitFor(
    async () => {
      const c = await findCaseByTrackingCode(web.service.deps.db, code);
      return c && c.status !== 'received' ? c : null;
    },
    { what: `case ${code} to leave received` },
  );
}

describe('operator console', () => {
  it('shows the proposal with the evidence marked, takes a corrected type, and creates the case with it', async () => {
    const { page, context } = await newPage();
    await context.setExtraHTTPHeaders(fromNewAddress());
    await signIn(page, base, 'operator');
    expect(new URL(page.url()).pathname).toBe('/console');
    await page.fill('#transcript-callerNumber', '13812345678');
    await page.fill('#transcript', TRANSCRIPT);
    await Promise.all([page.waitForNavigation(), page.click('#analyse')]);

    expect(await page.textContent('h1')).toBe('核对来电');
    // The classifier's evidence is marked in the caller's words; the operator's lines are not the complaint.
    const marks = await page.$$eval('#transcript-lines li.caller mark.evidence', (els) => els.map((e) => e.textContent));
    expect(marks.length).toBeGreaterThan(0);
    expect(marks.join('')).toMatch(/偷排|废水|黑水/);
    expect(await page.$$eval('#transcript-lines li.operator mark', (els) => els.length)).toBe(0);
    expect(await page.inputValue('#type')).toBe('illegal_discharge');
    expect(await page.inputValue('#jurisdiction')).toBe('xinglong');
    // The caller asked not to be named: anonymous, and the operator cannot undo it.
    expect(await page.isChecked('#anonymous')).toBe(true);
    expect(await page.isDisabled('#anonymous')).toBe(true);
    // The caller's number is shown masked only.
    expect(await page.textContent('main')).not.toContain('13812345678');

    await page.selectOption('#type', 'hazardous_waste');
    expect(await page.textContent('#bureaus')).toContain('区派出所');
    await Promise.all([page.waitForNavigation(), page.click('#submit-call')]);
    const code = await page.getAttribute('#result .big-code', 'data-code');
    expect(code).toMatch(/^[34679ACDEFGHJKMNPQRTUVWXY]{10}$/);

    const created = await caseOf(code!);
    expect(created.typeCode).toBe('hazardous_waste');
    expect(created.anonymous).toBe(true);
    expect(created.status).toBe('dispatched');
    const units = (await listAssignments(web.service.deps.db, created.id)).map((a) => `${a.role}:${a.unitCode}`);
    expect(units).toEqual(expect.arrayContaining(['lead:epb', 'co:police', 'jurisdiction:xinglong']));
    const corrections = await web.service.deps.db
      .selectFrom('classifier_corrections')
      .select(['label', 'predicted', 'source', 'actor_id'])
      .where('case_id', '=', created.id)
      .execute();
    expect(corrections).toEqual([{ label: 'hazardous_waste', predicted: 'illegal_discharge', source: 'operator', actor_id: web.userIds.operator }]);
    const contact = await web.service.deps.db.selectFrom('case_contacts').select('phone').where('case_id', '=', created.id).executeTakeFirst();
    expect(contact?.phone).toBe('13812345678');
    const call = await web.service.deps.db.selectFrom('hotline_calls').select(['operator', 'hotline', 'created_by']).where('caller_number', '=', '13812345678').executeTakeFirst();
    expect(call).toEqual({ operator: '坐席小王', hotline: '12369', created_by: web.userIds.operator });
    await context.close();
  });

  it('lets the operator give a new call id on the review page when the one typed is taken by another call', async () => {
    const { page, context } = await newPage();
    await context.setExtraHTTPHeaders(fromNewAddress());
    await signIn(page, base, 'operator');
    await page.fill('#transcript-callId', 'C-TAKEN-1');
    await page.fill('#transcript', TRANSCRIPT);
    await Promise.all([page.waitForNavigation(), page.click('#analyse')]);
    await Promise.all([page.waitForNavigation(), page.click('#submit-call')]);
    expect(await page.getAttribute('#result .big-code', 'data-code')).toMatch(/^[34679ACDEFGHJKMNPQRTUVWXY]{10}$/);

    // Another call typed under the same id: the review says so and offers the id to change.
    await page.goto(`${base}/console`);
    await page.fill('#transcript-callId', 'C-TAKEN-1');
    await page.fill('#transcript', TRANSCRIPT.replace('电镀厂', '化工厂'));
    await Promise.all([page.waitForNavigation(), page.click('#analyse')]);
    expect(await page.textContent('main')).toContain('此来电编号已用于另一段录音');
    expect(await page.isVisible('#review-form #callId')).toBe(true);
    expect(await page.textContent('#callId-error')).toContain('请改用本次来电的编号');
    await page.fill('#review-form #callId', 'C-TAKEN-2');
    await Promise.all([page.waitForNavigation(), page.click('#submit-call')]);
    const code = await page.getAttribute('#result .big-code', 'data-code');
    expect(code).toMatch(/^[34679ACDEFGHJKMNPQRTUVWXY]{10}$/);
    const created = await caseOf(code!);
    expect(created.text).toContain('化工厂');
    const calls = await web.service.deps.db.selectFrom('hotline_calls').select('call_id').where('call_id', 'like', 'C-TAKEN-%').orderBy('call_id').execute();
    expect(calls.map((c) => c.call_id)).toEqual(['C-TAKEN-1', 'C-TAKEN-2']);
    await context.close();
  });

  it('takes 地点不明 over a proposed place: the case goes to the lead without a local office, flagged for the dispatcher', async () => {
    const { page, context } = await newPage();
    await context.setExtraHTTPHeaders(fromNewAddress());
    await signIn(page, base, 'operator');
    await page.fill('#transcript', TRANSCRIPT.replace('电镀厂', '电池厂'));
    await Promise.all([page.waitForNavigation(), page.click('#analyse')]);
    expect(await page.inputValue('#jurisdiction')).toBe('xinglong');
    await page.selectOption('#jurisdiction', '');
    await Promise.all([page.waitForNavigation(), page.click('#submit-call')]);
    const code = await page.getAttribute('#result .big-code', 'data-code');
    const created = await caseOf(code!);
    expect(created.jurisdictionCode).toBeNull();
    expect(created.flags).toContain('place_unknown');
    const units = (await listAssignments(web.service.deps.db, created.id)).map((a) => `${a.role}:${a.unitCode}`);
    expect(units).toContain('lead:epb');
    expect(units.some((u) => u.startsWith('jurisdiction:'))).toBe(false);
    await context.close();
  });

  it('takes a lead bureau the operator chose over the routing table', async () => {
    const { page, context } = await newPage();
    await context.setExtraHTTPHeaders(fromNewAddress());
    await signIn(page, base, 'operator');
    await page.fill('#transcript', TRANSCRIPT.replace('兴隆', '李家塘'));
    await Promise.all([page.waitForNavigation(), page.click('#analyse')]);
    expect(await page.inputValue('#lead')).toBe('');
    await page.selectOption('#lead', 'enforcement');
    await Promise.all([page.waitForNavigation(), page.click('#submit-call')]);
    const code = await page.getAttribute('#result .big-code', 'data-code');
    const created = await caseOf(code!);
    const units = (await listAssignments(web.service.deps.db, created.id)).filter((a) => a.role === 'lead').map((a) => a.unitCode);
    expect(units).toEqual(['enforcement']);
    const received = await web.service.deps.db.selectFrom('case_events').select('data').where('case_id', '=', created.id).where('kind', '=', 'received').executeTakeFirstOrThrow();
    expect(JSON.parse(received.data!)).toMatchObject({ presetLead: 'enforcement' });
    await context.close();
  });

  it('reads an uploaded transcript file, and splits a two-problem call into two linked cases', async () => {
    const twoProblems = [
      '坐席：您好，12345热线。',
      '来电人：回龙村养猪场的粪水直接排到稻田里。',
      '来电人：还有八字桥社区的工地晚上施工，噪声很大睡不着。',
    ].join('\n');
    const { page, context } = await newPage();
    await context.setExtraHTTPHeaders(fromNewAddress());
    await signIn(page, base, 'operator');
    await page.selectOption('#transcript-hotline', '12345');
    await page.setInputFiles('#transcriptFile', { name: 'call.txt', mimeType: 'text/plain', buffer: Buffer.from(twoProblems, 'utf8') });
    await Promise.all([page.waitForNavigation(), page.click('#analyse')]);
    expect(await page.textContent('#transcript-lines')).toContain('养猪场');

    await Promise.all([page.waitForNavigation(), page.click('#split')]);
    expect(await page.inputValue('#p1-text')).toContain('养猪场');
    expect(await page.inputValue('#p2-text')).toContain('噪声');
    expect(await page.inputValue('#p1-type')).toBe('livestock_waste');
    expect(await page.inputValue('#p2-type')).toBe('noise');
    await Promise.all([page.waitForNavigation(), page.click('#submit-call')]);
    const codes = await page.$$eval('#result .big-code', (els) => els.map((e) => e.getAttribute('data-code')));
    expect(codes).toHaveLength(2);

    const [first, second] = [await caseOf(codes[0]!), await caseOf(codes[1]!)];
    expect(first.typeCode).toBe('livestock_waste');
    expect(second.typeCode).toBe('noise');
    const links = await web.service.deps.db.selectFrom('hotline_call_cases').select(['hotline_call_id', 'part']).where('case_id', 'in', [first.id, second.id]).orderBy('part').execute();
    expect(links.map((l) => l.part)).toEqual([1, 2]);
    expect(links[0]!.hotline_call_id).toBe(links[1]!.hotline_call_id);
    await context.close();
  });

  it('keeps the split and every edit on the review page when an edit is refused, with the problem next to it', async () => {
    const before = await web.service.deps.db.selectFrom('cases').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst();
    const { page, context } = await newPage();
    await context.setExtraHTTPHeaders(fromNewAddress());
    await signIn(page, base, 'operator');
    // One caller line with two problems: the split cuts it at the sentence nearest its middle.
    await page.fill('#transcript', '坐席：您好，12345热线。\n来电人：回龙村养猪场的粪水直接排到稻田里。还有八字桥社区的工地晚上施工，噪声很大睡不着。');
    await Promise.all([page.waitForNavigation(), page.click('#analyse')]);
    await Promise.all([page.waitForNavigation(), page.click('#split')]);
    expect(await page.inputValue('#p1-text')).toBe('回龙村养猪场的粪水直接排到稻田里。');
    expect(await page.inputValue('#p2-text')).toBe('还有八字桥社区的工地晚上施工，噪声很大睡不着。');

    // The second part emptied and the first edited: both stay as typed, the empty one is named.
    await page.fill('#p1-text', '回龙村养猪场的粪水直接排到稻田里，已经一个月了。');
    await page.fill('#p2-text', '   ');
    await page.evaluate(`document.getElementById('review-form').noValidate = true`);
    const refused = page.waitForResponse((r) => r.request().method() === 'POST');
    await page.click('#submit-call');
    expect((await refused).status()).toBe(400);
    await page.waitForSelector('#p2-text-error');
    expect(await page.textContent('h1')).toBe('核对来电');
    expect(await page.inputValue('#p1-text')).toBe('回龙村养猪场的粪水直接排到稻田里，已经一个月了。');
    expect(await page.getAttribute('#p2-text', 'aria-invalid')).toBe('true');

    // Written again, the two cases are made, with the texts typed.
    await page.fill('#p2-text', '八字桥社区的工地晚上施工，噪声很大睡不着。');
    await Promise.all([page.waitForNavigation(), page.click('#submit-call')]);
    const codes = await page.$$eval('#result .big-code', (els) => els.map((e) => e.getAttribute('data-code')));
    expect(codes).toHaveLength(2);
    expect((await caseOf(codes[0]!)).text).toBe('回龙村养猪场的粪水直接排到稻田里，已经一个月了。');
    const after = await web.service.deps.db.selectFrom('cases').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst();
    expect(Number(after?.n)).toBe(Number(before?.n) + 2);
    await context.close();
  });

  it('splits only the caller\'s words, never the heading an export puts above the call (the caller\'s number and name)', async () => {
    const { page, context } = await newPage();
    await context.setExtraHTTPHeaders(fromNewAddress());
    await signIn(page, base, 'operator');
    await page.fill(
      '#transcript',
      [
        '来电号码：13877776666',
        '来电人姓名：欧阳青山',
        '坐席：您好，12345热线。',
        '来电人：回龙村养猪场的粪水直接排到稻田里。',
        '来电人：还有八字桥社区的工地晚上施工，噪声很大睡不着。',
      ].join('\n'),
    );
    await Promise.all([page.waitForNavigation(), page.click('#analyse')]);
    await Promise.all([page.waitForNavigation(), page.click('#split')]);
    expect(await page.inputValue('#p1-text')).toBe('回龙村养猪场的粪水直接排到稻田里。');
    expect(await page.inputValue('#p2-text')).toBe('还有八字桥社区的工地晚上施工，噪声很大睡不着。');
    await Promise.all([page.waitForNavigation(), page.click('#submit-call')]);
    const codes = await page.$$eval('#result .big-code', (els) => els.map((e) => e.getAttribute('data-code')));
    expect(codes).toHaveLength(2);
    for (const code of codes) {
      const text = (await caseOf(code!)).text;
      expect(text).not.toContain('7777');
      expect(text).not.toContain('欧阳');
    }
    await context.close();
  });

  it('asks for the second problem on a split of a call that raised one, instead of filling in a prompt as its text', async () => {
    const { page, context } = await newPage();
    await context.setExtraHTTPHeaders(fromNewAddress());
    await signIn(page, base, 'operator');
    await page.fill('#transcript', '坐席：您好。\n来电人：回龙村养猪场的粪水直接排到稻田里');
    await Promise.all([page.waitForNavigation(), page.click('#analyse')]);
    await Promise.all([page.waitForNavigation(), page.click('#split')]);
    expect(await page.inputValue('#p1-text')).toBe('回龙村养猪场的粪水直接排到稻田里');
    expect(await page.inputValue('#p2-text')).toBe('');
    expect(await page.isVisible('#p2-text-error')).toBe(true);
    await context.close();
  });

  it('keeps an edited complaint over 5,000 characters on the review page, saying so next to it', async () => {
    const { page, context } = await newPage();
    await context.setExtraHTTPHeaders(fromNewAddress());
    await signIn(page, base, 'operator');
    await page.fill('#transcript', TRANSCRIPT);
    await Promise.all([page.waitForNavigation(), page.click('#analyse')]);
    const long = `兴隆办事处盐下村电镀厂偷排废水${'黑'.repeat(5000)}`;
    await page.fill('#text', long);
    await page.evaluate(`document.getElementById('review-form').noValidate = true`);
    await Promise.all([page.waitForNavigation(), page.click('#submit-call')]);
    expect(await page.textContent('h1')).toBe('核对来电');
    expect(await page.isVisible('#text-error')).toBe(true);
    expect(await page.inputValue('#text')).toBe(long);
    await context.close();
  });

  it('reads a transcript file saved as GB 18030 or as UTF-16, as Chinese Windows tools save text', async () => {
    // 来电人：排污 in GB 18030 (GBK) bytes: not valid UTF-8.
    const gbk = Buffer.from([0xc0, 0xb4, 0xb5, 0xe7, 0xc8, 0xcb, 0xa3, 0xba, 0xc5, 0xc5, 0xce, 0xdb]);
    const { page, context } = await newPage();
    await context.setExtraHTTPHeaders(fromNewAddress());
    await signIn(page, base, 'operator');
    await page.setInputFiles('#transcriptFile', { name: 'call-gbk.txt', mimeType: 'text/plain', buffer: gbk });
    await Promise.all([page.waitForNavigation(), page.click('#analyse')]);
    expect(await page.textContent('#transcript-lines li.caller')).toContain('排污');

    // Notepad's "Unicode": UTF-16 with its byte-order mark, little- or big-endian.
    const text = '坐席：您好。\n来电人：兴隆办事处有人往河里倒废机油';
    const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
    const be = Buffer.from(le);
    be.swap16();
    for (const [name, buffer] of [['call-utf16le.txt', le], ['call-utf16be.txt', be]] as const) {
      await page.goto(`${base}/console`);
      await page.setInputFiles('#transcriptFile', { name, mimeType: 'text/plain', buffer });
      await Promise.all([page.waitForNavigation(), page.click('#analyse')]);
      expect(await page.textContent('#transcript-lines li.caller'), name).toContain('废机油');
    }
    await context.close();
  });

  it('keeps the text of an uploaded transcript file when the form comes back with a problem', async () => {
    const { page, context } = await newPage();
    await context.setExtraHTTPHeaders(fromNewAddress());
    await signIn(page, base, 'operator');
    const text = '坐席：您好。\n来电人：兴隆办事处有人往河里倒废机油';
    await page.setInputFiles('#transcriptFile', { name: 'call.txt', mimeType: 'text/plain', buffer: Buffer.from(text, 'utf8') });
    // No time of the call: the form comes back naming it, with the file's text in the box, not to be uploaded again.
    await page.evaluate(`document.getElementById('transcript-startedAt').value = ''`);
    await Promise.all([page.waitForNavigation(), page.click('#analyse')]);
    expect(await page.isVisible('#startedAt-error')).toBe(true);
    expect(await page.inputValue('#transcript')).toBe(text);
    await page.fill('#transcript-startedAt', '2026-11-02T10:00');
    await Promise.all([page.waitForNavigation(), page.click('#analyse')]);
    expect(await page.textContent('#transcript-lines li.caller')).toContain('废机油');
    await context.close();
  });

  it('takes a call without a transcript through the plain form', async () => {
    const { page, context } = await newPage();
    await context.setExtraHTTPHeaders(fromNewAddress());
    await signIn(page, base, 'operator');
    await page.fill('#plain-text', '神仙洞办事处有个小作坊在河边烧废电瓶，烟很呛人');
    await Promise.all([page.waitForNavigation(), page.click('#plain-form button[type=submit]')]);
    expect(await page.inputValue('#text')).toContain('废电瓶');
    await Promise.all([page.waitForNavigation(), page.click('#submit-call')]);
    const code = await page.getAttribute('#result .big-code', 'data-code');
    const created = await caseOf(code!);
    expect(created.channel).toBe('hotline12369');
    expect(created.text).toContain('废电瓶');
    await context.close();
  });

  it('asks for a transcript next to its field and creates nothing without one', async () => {
    const before = await web.service.deps.db.selectFrom('cases').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst();
    const client = formClient(base, fromNewAddress());
    await client.signIn('operator');
    const csrf = await client.token('/console');
    const res = await client.post('/console/review', { _csrf: csrf, mode: 'transcript', hotline: '12369', callId: 'X-1', startedAt: '2026-11-02T10:00', transcript: '' });
    expect(res.status).toBe(400);
    const html = await res.text();
    expect(html).toContain('id="transcript-error"');
    expect(html).toContain('请粘贴录音文本或上传文本文件');

    // Not a time, and a date the calendar does not have (it is not rolled over into March).
    for (const startedAt of ['yesterday', '2026-02-30T10:00', '2026-11-02T25:00']) {
      const badTime = await client.post('/console/review', { _csrf: csrf, mode: 'transcript', hotline: '12369', callId: 'X-1', startedAt, transcript: TRANSCRIPT });
      expect(badTime.status, startedAt).toBe(400);
      expect(await badTime.text()).toContain('id="startedAt-error"');
    }
    // Garbled text is named next to the field of the mode in use; an unknown hotline at the top.
    const garbled = await client.post('/console/review', { _csrf: csrf, mode: 'plain', hotline: '12369', callId: 'X-1', startedAt: '2026-11-02T10:00', text: '河里有\ufffd死鱼' });
    expect(garbled.status).toBe(400);
    const garbledHtml = await garbled.text();
    expect(garbledHtml).toContain('id="text-error"');
    expect(garbledHtml).toContain('无法识别的字符');
    const hotline = await client.post('/console/review', { _csrf: csrf, mode: 'transcript', hotline: '110', callId: 'X-1', startedAt: '2026-11-02T10:00', transcript: TRANSCRIPT });
    expect(hotline.status).toBe(400);
    expect(await hotline.text()).toContain('请选择热线：12345 或 12369。');
    // The schema's reasons are said in Chinese on the page.
    const badFields = await client.post('/console/review', { _csrf: csrf, mode: 'transcript', hotline: '12369', callId: 'X 1', callerNumber: 'abc', startedAt: '2026-11-02T10:00', transcript: TRANSCRIPT });
    expect(badFields.status).toBe(400);
    const badHtml = await badFields.text();
    expect(badHtml).toContain('不能含空格或控制字符');
    expect(badHtml).toContain('请填写电话号码');
    expect(badHtml).not.toContain('no spaces or control characters');
    const officeLead = await client.post('/console/review', { _csrf: csrf, mode: 'transcript', hotline: '12369', callId: 'X-2', startedAt: '2026-11-02T10:00', transcript: TRANSCRIPT, lead: 'xinglong' });
    expect(officeLead.status).toBe(400);
    const officeHtml = await officeLead.text();
    expect(officeHtml).toContain('属地单位（镇、办事处、林场）不能作牵头单位');
    expect(officeHtml).not.toContain('is a local office');
    // A transcript with no caller line, and a time before the service's years: said in Chinese too.
    const noCaller = await client.post('/console/review', { _csrf: csrf, mode: 'transcript', hotline: '12369', callId: 'X-3', startedAt: '2026-11-02T10:00', transcript: '坐席：您好，请讲。' });
    expect(noCaller.status).toBe(400);
    const noCallerHtml = await noCaller.text();
    expect(noCallerHtml).toContain('录音文本中没有来电人的话');
    expect(noCallerHtml).not.toContain('no caller lines');
    const early = await client.post('/console/review', { _csrf: csrf, mode: 'transcript', hotline: '12369', callId: 'X-4', startedAt: '1899-12-31T10:00', transcript: TRANSCRIPT });
    expect(early.status).toBe(400);
    const earlyHtml = await early.text();
    expect(earlyHtml).toContain('请填写 1900 至 2999 年之间的时间');
    expect(earlyHtml).not.toContain('must fall in the years');
    const after = await web.service.deps.db.selectFrom('cases').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst();
    expect(Number(after?.n)).toBe(Number(before?.n));
  });

  it('says next to the text of a call without a transcript that it is too long, in the page\'s language, keeping what was typed', async () => {
    const text = `兴隆办事处盐下村电镀厂偷排废水，沟里全是黑水。${'来电人反复描述现场情况。'.repeat(8400)}`;
    expect(text.length).toBeGreaterThan(100_000);
    for (const [lang, said] of [
      ['zh', '最多 100000 个字'],
      ['en', 'At most 100000 characters.'],
    ] as const) {
      const { page, context } = await newPage();
      await context.setExtraHTTPHeaders(fromNewAddress());
      await signIn(page, base, 'operator', undefined, `/console?lang=${lang}`);
      await page.fill('#plain-text', text);
      const [answer] = await Promise.all([page.waitForNavigation(), page.click('#plain-form button[type=submit]')]);
      expect(answer?.status()).toBe(400);
      expect((await page.textContent('#text-error'))?.trim(), lang).toBe(said);
      expect(await page.getAttribute('#plain-text', 'aria-invalid')).toBe('true');
      expect(await page.inputValue('#plain-text')).toBe(text);
      await context.close();
    }
  });

  it('switches the language of the review page by sending the call again, and keeps a start form as typed across the switch', async () => {
    const { page, context } = await newPage();
    await context.setExtraHTTPHeaders(fromNewAddress());
    await signIn(page, base, 'operator');
    // The start form: what was typed, the call id given by the operator too, survives the switch.
    await page.fill('#transcript-callId', 'WX-20261106-0042');
    await page.fill('#transcript', TRANSCRIPT);
    await Promise.all([page.waitForNavigation(), page.click('header.site a[hreflang]')]);
    expect(await page.textContent('h1')).toBe('Hotline intake');
    expect(await page.inputValue('#transcript-callId')).toBe('WX-20261106-0042');
    expect(await page.inputValue('#transcript')).toBe(TRANSCRIPT);
    // The review page has no address of its own: its switch sends the call under review again, in Chinese.
    await Promise.all([page.waitForNavigation(), page.click('#analyse')]);
    expect(await page.textContent('h1')).toBe('Review the call');
    await page.selectOption('#type', 'hazardous_waste');
    await Promise.all([page.waitForNavigation(), page.click('header.site button.lang-switch')]);
    expect(new URL(page.url()).pathname).toBe('/console/review');
    expect(await page.textContent('h1')).toBe('核对来电');
    expect(await page.inputValue('#type')).toBe('hazardous_waste');
    expect(await page.$eval('#review-form [name=callId]', (el) => (el as unknown as { value: string }).value)).toBe('WX-20261106-0042');
    // Nothing was created by either.
    expect(await web.service.deps.db.selectFrom('hotline_calls').select('id').where('call_id', '=', 'WX-20261106-0042').execute()).toEqual([]);
    await context.close();
  });

  it('puts back a transcript pasted past the end of the session, whether the session ended on the start form or on the review page, and forgets it once the call is entered', async () => {
    const { page, context } = await newPage();
    await context.setExtraHTTPHeaders(fromNewAddress());
    await signIn(page, base, 'operator');
    // The new call's id and time the page suggests make no draft by themselves.
    await page.selectOption('#transcript-hotline', '12345');
    expect(await browserDrafts(page)).toEqual({});
    const transcript = `${TRANSCRIPT}\n${'[00:00:30] 来电人：那个厂子晚上十点以后开始排，味道很冲。\n'.repeat(30)}`.trim();
    await page.fill('#transcript-callId', 'CALL-DRAFT-1');
    await page.fill('#transcript', transcript);
    const started = web.clock.now().toISOString();
    const signInAgain = async () => {
      expect(new URL(page.url()).pathname).toBe('/signin');
      expect(await page.locator('[data-drafts-kept]').isVisible()).toBe(true);
      await signInHere(page, 'operator');
      expect(new URL(page.url()).pathname).toBe('/console');
      expect(await page.inputValue('#transcript')).toBe(transcript);
      expect(await page.inputValue('#transcript-callId')).toBe('CALL-DRAFT-1');
      expect(await page.locator('section[aria-labelledby="h-transcript"] [data-draft-restored]').isVisible()).toBe(true);
      expect(await page.locator('section[aria-labelledby="h-plain"] [data-draft-restored]').isVisible()).toBe(false);
    };
    try {
      // The session ends while the operator pastes: the analysis post lands on the sign-in page.
      web.clock.set(new Date(Date.parse(started) + SESSION_IDLE_MS + 60_000).toISOString());
      await Promise.all([page.waitForNavigation(), page.click('#analyse')]);
      await signInAgain();

      // Analysed, the call is not entered yet: a session that ends on the review page comes back to the start form.
      await Promise.all([page.waitForNavigation(), page.click('#analyse')]);
      expect(await page.textContent('h1')).toBe('核对来电');
      expect(Object.keys(await browserDrafts(page))).toHaveLength(1);
      web.clock.set(new Date(Date.parse(started) + 2 * (SESSION_IDLE_MS + 60_000)).toISOString());
      await Promise.all([page.waitForNavigation(), page.click('#submit-call')]);
      await signInAgain();
      expect(await web.service.deps.db.selectFrom('hotline_calls').select('id').where('call_id', '=', 'CALL-DRAFT-1').execute()).toEqual([]);

      await Promise.all([page.waitForNavigation(), page.click('#analyse')]);
      await Promise.all([page.waitForNavigation(), page.click('#submit-call')]);
      expect(await page.getAttribute('#result .big-code', 'data-code')).toBeTruthy();
      expect(await browserDrafts(page)).toEqual({});
      await page.goto(`${base}/console`);
      expect(await page.inputValue('#transcript')).toBe('');
      expect(await page.locator('[data-draft-restored]').first().isVisible()).toBe(false);
    } finally {
      web.clock.set(started);
    }
    await context.close();
  });

  it('puts back the corrections typed on the review page past the end of the session once the call is analysed again, and forgets them once it is entered', async () => {
    const reviewDrafts = async (page: Page) => Object.entries(await browserDrafts(page)).filter(([k]) => k.includes('/console/submit#'));
    const { page, context } = await newPage();
    await context.setExtraHTTPHeaders(fromNewAddress());
    await signIn(page, base, 'operator');
    await page.fill('#transcript-callId', 'CALL-REVIEW-DRAFT-1');
    await page.fill('#transcript', TRANSCRIPT);
    await Promise.all([page.waitForNavigation(), page.click('#analyse')]);
    expect(await page.textContent('h1')).toBe('核对来电');
    // The proposal's text, left as it is, makes no draft; changing a choice alone neither.
    await page.selectOption('#jurisdiction', '');
    expect(await reviewDrafts(page)).toEqual([]);
    const corrected = `${await page.inputValue('#text')}（坐席补充：来电人称该厂每晚十点后偷排，已持续一个月。）`;
    await page.fill('#text', corrected);
    const kept = await reviewDrafts(page);
    expect(kept.map(([, d]) => d.fields.text)).toEqual([corrected]);
    // The call's transcript the form carries along is no typing: not kept again in the review's draft.
    expect(Object.keys(kept[0]![1].fields)).toEqual(['text']);

    const started = web.clock.now().toISOString();
    try {
      web.clock.set(new Date(Date.parse(started) + SESSION_IDLE_MS + 60_000).toISOString());
      await Promise.all([page.waitForNavigation(), page.click('#submit-call')]);
      expect(new URL(page.url()).pathname).toBe('/signin');
      expect(await page.locator('[data-drafts-kept]').isVisible()).toBe(true);
      await signInHere(page, 'operator');
      expect(new URL(page.url()).pathname).toBe('/console');
      // The start form has the transcript back, and the page says the review's corrections wait for the call to be analysed.
      expect(await page.inputValue('#transcript')).toBe(TRANSCRIPT);
      expect(await page.textContent('#review-kept')).toBe('您核对来电时填写的修改已保存在本浏览器中：请核对下方的来电内容，点击“分析”，核对页面将恢复这些修改。');
      expect(await page.locator('#review-kept').isVisible()).toBe(true);
      expect(await page.locator('#review-kept-file').isVisible()).toBe(false);
      expect(await web.service.deps.db.selectFrom('hotline_calls').select('id').where('call_id', '=', 'CALL-REVIEW-DRAFT-1').execute()).toEqual([]);

      await Promise.all([page.waitForNavigation(), page.click('#analyse')]);
      expect(await page.inputValue('#text')).toBe(corrected);
      expect(await page.locator('#review-form').locator('xpath=..').locator('[data-draft-restored]').isVisible()).toBe(true);
      await Promise.all([page.waitForNavigation(), page.click('#submit-call')]);
      const code = await page.getAttribute('#result .big-code', 'data-code');
      expect((await findCaseByTrackingCode(web.service.deps.db, code!))?.text).toContain('已持续一个月');
      expect(await browserDrafts(page)).toEqual({});
    } finally {
      web.clock.set(started);
    }
    await context.close();
  });

  it('asks for an uploaded transcript file again to put back the review corrections kept past the end of the session', async () => {
    const { page, context } = await newPage();
    await context.setExtraHTTPHeaders(fromNewAddress());
    await signIn(page, base, 'operator');
    const file = { name: 'call.txt', mimeType: 'text/plain', buffer: Buffer.from(`${TRANSCRIPT}\n[00:01:10] 来电人：上传文件草稿测试。`, 'utf8') };
    await page.setInputFiles('#transcriptFile', file);
    await Promise.all([page.waitForNavigation(), page.click('#analyse')]);
    const corrected = `${await page.inputValue('#text')}（现场有刺鼻气味）`;
    await page.fill('#text', corrected);
    const started = web.clock.now().toISOString();
    try {
      web.clock.set(new Date(Date.parse(started) + SESSION_IDLE_MS + 60_000).toISOString());
      // "Analyse again" posts the review too: it lands on the sign-in page all the same.
      await Promise.all([page.waitForNavigation(), page.click('#review-form button[name=reanalyse]')]);
      expect(new URL(page.url()).pathname).toBe('/signin');
      await signInHere(page, 'operator');
      expect(new URL(page.url()).pathname).toBe('/console');
      expect(await page.inputValue('#transcript')).toBe('');
      expect(await page.locator('#review-kept').isVisible()).toBe(false);
      expect(await page.textContent('#review-kept-file')).toBe('您核对来电时填写的修改已保存在本浏览器中，但上传的录音文件无法随草稿保留：请重新选择该文件并点击“分析”，核对页面将恢复这些修改。');
      expect(await page.locator('#review-kept-file').isVisible()).toBe(true);
      // In English too.
      await page.goto(`${base}/console?after=review&lang=en`);
      expect(await page.textContent('#review-kept-file')).toBe(
        'What you typed while reviewing the call is kept in this browser, but the uploaded transcript file cannot be kept with it: choose the file again and analyse it, and the review page will put it back.',
      );
      expect(await page.locator('#review-kept-file').isVisible()).toBe(true);

      await page.goto(`${base}/console`);
      // Shown only on the way back from a review: the start page at other times says nothing of it.
      expect(await page.locator('#review-kept-file').count()).toBe(0);
      await page.setInputFiles('#transcriptFile', file);
      await Promise.all([page.waitForNavigation(), page.click('#analyse')]);
      expect(await page.inputValue('#text')).toBe(corrected);
    } finally {
      web.clock.set(started);
    }
    await context.close();
  });

  it('keeps the texts of a split call typed past the end of the session until the call is split again', async () => {
    const { page, context } = await newPage();
    await context.setExtraHTTPHeaders(fromNewAddress());
    await signIn(page, base, 'operator');
    const transcript = `${TRANSCRIPT}\n[00:01:20] 来电人：还有，村口的垃圾堆天天有人焚烧，烟很大。`;
    await page.fill('#transcript', transcript);
    await Promise.all([page.waitForNavigation(), page.click('#analyse')]);
    await Promise.all([page.waitForNavigation(), page.click('#split')]);
    const second = '村口垃圾堆每天傍晚有人焚烧，浓烟进屋（拆分草稿测试）。';
    await page.fill('#p2-text', second);
    const started = web.clock.now().toISOString();
    try {
      web.clock.set(new Date(Date.parse(started) + SESSION_IDLE_MS + 60_000).toISOString());
      await Promise.all([page.waitForNavigation(), page.click('#submit-call')]);
      await signInHere(page, 'operator');
      expect(await page.locator('#review-kept').isVisible()).toBe(true);
      await Promise.all([page.waitForNavigation(), page.click('#analyse')]);
      // Analysed again, the call is whole: a choice changed there does not drop the second part's text kept.
      await page.selectOption('#jurisdiction', '');
      await Promise.all([page.waitForNavigation(), page.click('#split')]);
      expect(await page.inputValue('#p2-text')).toBe(second);
      expect(await page.locator('#review-form').locator('xpath=..').locator('[data-draft-restored]').isVisible()).toBe(true);
    } finally {
      web.clock.set(started);
    }
    await context.close();
  });

  it('refuses the console to a bureau clerk', async () => {
    const client = formClient(base, fromNewAddress());
    await client.signIn('epb');
    expect((await client.get('/console')).status).toBe(403);
  });
});

describe('operator console with the trained classifier', () => {
  let model: WebStaff;

  beforeAll(async () => {
    // The model's evidence: single characters and digits among the phrases, found at an offset of the complaint.
    const classifier = (district: District) => loadOrTrain({ district, examplesPath: DEFAULT_EXAMPLES_PATH, dir: tempDir() }).classifier;
    model = await startStaffWebService('web-console-model', {}, { classifier });
  }, 120_000);

  it("marks the classifier's evidence where it was found, once, and never a digit of a number the caller gave", async () => {
    const { page, context } = await newPage();
    await context.setExtraHTTPHeaders(fromNewAddress());
    await signIn(page, model.service.url, 'operator');
    const words = '有个厂晚上排烟，烟囱冒黑烟，那个厂就在沟边上，每天排3次。我电话13911111111';
    const evidence = model.service.deps.classifier.classify(words).evidence.filter((e) => e.weight > 0);
    // What the test is about: the model weighs a digit of the number, and characters the words hold twice.
    expect(evidence.some((e) => /^\d+$/.test(e.phrase))).toBe(true);
    const twice = evidence.filter((e) => e.phrase.length === 1 && /\p{L}/u.test(e.phrase) && words.split(e.phrase).length > 2).map((e) => e.phrase);
    expect(twice.length).toBeGreaterThan(0);
    await page.fill('#transcript', `坐席：您好，请讲。\n来电人：${words}`);
    await Promise.all([page.waitForNavigation(), page.click('#analyse')]);
    const marks = await page.$$eval('#transcript-lines li.caller mark.evidence', (els) => els.map((e) => e.textContent ?? ''));
    expect(marks.filter((m) => !/\p{L}/u.test(m))).toEqual([]);
    // Each is marked where the classifier found it, not wherever else it occurs.
    for (const ch of twice) expect(marks.filter((m) => m === ch)).toEqual([ch]);
    await context.close();
  });
});

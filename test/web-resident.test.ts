import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { listAssignments } from '../db/repositories/assignments.repository.js';
import { findCase, findCaseByTrackingCode } from '../db/repositories/cases.repository.js';
import { issueToken } from '../db/repositories/tokens.repository.js';
import { createUser } from '../db/repositories/users.repository.js';
import type { ManualClock } from '../src/clock.js';
import { EnvError, parseEnv } from '../src/env.js';
import { loadDistrictFile } from '../src/district/district-file.js';
import { sql } from 'kysely';
import { timelineNote } from '../handlers/pages/resident-labels.js';
import { checkDeadlines } from '../src/workflow/deadline-check.js';
import { rateCase } from '../src/workflow/feedback.js';
import { browser, newPage } from './browser.js';
import { tempDir, waitFor } from './harness.js';
import { HEIC_WITH_EXIF } from './photo-fixtures.js';
import { JPEG_BYTES } from './telegram-emulator.js';
import { client, json, seedCase, startWorkflowService, type Staff, type TestService } from './workflow-helpers.js';

// Names the reporter gives; they must never show on the public tracking page.
const REPORTER_NAME = '王小明';
const REPORTER_PHONE = '13987654321';
const REPORT_TEXT = '兴隆办事处盐下村电镀厂晚上偷排废水，沟里全是黑水，气味很大';

const MB = 1024 * 1024;

/**
 * A JPEG of `bytes` written to a file, for photos chosen by path: the browser reads a file where it lies, where megabytes
 * handed over as a buffer cross the driver's protocol encoded and can outlast an action's timeout on a busy machine.
 */
function photoFile(name: string, bytes = JPEG_BYTES.length, dir = tempDir()): string {
  const file = join(dir, name);
  writeFileSync(file, Buffer.concat([JPEG_BYTES, Buffer.alloc(bytes - JPEG_BYTES.length)]));
  return file;
}

// Browser tests share two cores with other suites: generous limits, no timing assertions.
describe('resident pages: report form and tracking page', { timeout: 90_000 }, () => {
  let service: TestService;
  let clock: ManualClock;
  let staff: Staff;

  beforeAll(async () => {
    // Map tiles from the service itself (any PNG will do), so the map works without the internet.
    ({ service, clock, staff } = await startWorkflowService('web-resident', { MAP_TILE_URL: '/assets/images/marker-shadow.png?z={z}&x={x}&y={y}' }));
  });

  const countCases = async () =>
    Number((await service.deps.db.selectFrom('cases').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);

  /** The token of a staff account of the unit, made when the helpers have none. */
  const tokenOf = async (unit: string): Promise<string> => {
    const known = (staff as unknown as Record<string, string | undefined>)[unit];
    if (known) return known;
    const user = await createUser(service.deps.db, { name: `${unit} clerk`, role: 'bureau', unitCode: unit, at: clock.now().toISOString() });
    const token = (await issueToken(service.deps.db, { userId: user.id, label: null, at: clock.now().toISOString() })).token;
    (staff as unknown as Record<string, string>)[unit] = token;
    return token;
  };

  /** Every assigned unit signs for the case and answers through the bureau API, the lead last. */
  async function replyToAll(caseId: string, leadText: string) {
    const assignments = await listAssignments(service.deps.db, caseId);
    const ordered = [...assignments.filter((a) => a.role !== 'lead'), ...assignments.filter((a) => a.role === 'lead')];
    for (const a of ordered) {
      const bureau = client(service.url, await tokenOf(a.unitCode));
      const accepted = await json(bureau.post(`/api/v1/cases/${caseId}/accept`));
      expect(accepted.status, JSON.stringify(accepted.body)).toBe(200);
    }
    for (const a of ordered) {
      const bureau = client(service.url, await tokenOf(a.unitCode));
      const replied = await json(bureau.post(`/api/v1/cases/${caseId}/reply`, { text: a.role === 'lead' ? leadText : `${a.unitCode} 已配合处理` }));
      expect(replied.status, JSON.stringify(replied.body)).toBe(200);
    }
    expect((await findCase(service.deps.db, caseId))!.status).toBe('replied');
  }

  async function fillReport(page: Page, o: { text?: string; photo?: boolean } = {}) {
    await page.fill('#text', o.text ?? REPORT_TEXT);
    await page.fill('#address', '电镀厂后门桥下的水沟');
    await page.fill('#name', REPORTER_NAME);
    await page.fill('#phone', REPORTER_PHONE);
    if (o.photo) await page.setInputFiles('#photos', { name: 'ditch.jpg', mimeType: 'image/jpeg', buffer: JPEG_BYTES });
  }

  it('files a report with a photo, shows the tracking code, follows the case to dispatch, and closes it on a satisfied rating', async () => {
    const { page, context } = await newPage({ baseURL: service.url });
    await page.goto('/');
    expect(await page.getAttribute('html', 'lang')).toBe('zh-CN');
    expect(await page.textContent('h1')).toBe('举报环境问题');
    await fillReport(page, { photo: true });
    // The counter follows the text (code points, as the server counts).
    expect(await page.textContent('#text-count')).toContain(`${[...REPORT_TEXT].length} / 5000`);
    await page.click('button[type=submit]');
    await page.waitForURL(/\/submitted\/[A-Z0-9]{10}$/);
    const code = (await page.textContent('#tracking-code'))!.trim();
    expect(code).toMatch(/^[34679ACDEFGHJKMNPQRTUVWXY]{10}$/);

    const created = (await findCaseByTrackingCode(service.deps.db, code))!;
    expect(created).toMatchObject({ channel: 'web', text: REPORT_TEXT, anonymous: false });
    const photos = await service.deps.db.selectFrom('case_attachments').selectAll().where('case_id', '=', created.id).execute();
    expect(photos).toHaveLength(1);
    expect(photos[0]).toMatchObject({ kind: 'photo', mime: 'image/jpeg', size: JPEG_BYTES.length });
    const contact = await service.deps.db.selectFrom('case_contacts').selectAll().where('case_id', '=', created.id).executeTakeFirst();
    expect(contact).toMatchObject({ name: REPORTER_NAME, phone: REPORTER_PHONE });

    await page.getByRole('link', { name: '查看办理进度' }).click();
    await page.waitForURL(`**/track/${code}`);
    await waitFor(async () => (await findCase(service.deps.db, created.id))?.status === 'dispatched', { what: 'the pipeline to dispatch the case' });
    await page.reload();
    expect(await page.getAttribute('#case-status', 'data-status')).toBe('dispatched');
    expect(await page.textContent('#case-status')).toBe('已派单');
    expect(await page.textContent('#case-lead')).toBe('区环保局');
    expect(await page.textContent('#case-type')).toBe('非法排放有毒有害污染物');
    const html = await page.content();
    expect(html).not.toContain(REPORTER_NAME);
    expect(html).not.toContain(REPORTER_PHONE);
    expect(await page.$('#rate-form')).toBeNull();

    clock.set('2026-11-03T02:00:00.000Z');
    await replyToAll(created.id, '经现场检查，已责令电镀厂停产整改，联系电话13912345678');
    await page.reload();
    expect(await page.getAttribute('#case-status', 'data-status')).toBe('replied');
    // The reply is public with phone numbers masked.
    expect(await page.textContent('#case-reply')).toBe('经现场检查，已责令电镀厂停产整改，联系电话139****5678');

    clock.set('2026-11-04T02:00:00.000Z');
    await page.check('#rating-satisfied');
    await page.check('#solved-yes');
    await page.fill('#comment', '处理及时，谢谢');
    await page.click('#rate-form button[type=submit]');
    await page.waitForURL(`**/track/${code}?rated=1`);
    expect(await page.textContent('[role=status]')).toContain('案件已办结');
    expect(await page.getAttribute('#case-status', 'data-status')).toBe('closed');
    expect(await page.textContent('#case-rating')).toContain('满意');
    expect(await page.$('#rate-form')).toBeNull();
    // The comment is kept with the rating, never shown.
    expect(await page.content()).not.toContain('处理及时，谢谢');

    const closed = (await findCase(service.deps.db, created.id))!;
    expect(closed).toMatchObject({ status: 'closed', closeReason: 'rated' });
    const ratings = await service.deps.db.selectFrom('ratings').selectAll().where('case_id', '=', created.id).execute();
    expect(ratings).toHaveLength(1);
    expect(ratings[0]).toMatchObject({ rating: 'satisfied', channel: 'web', comment: '处理及时，谢谢' });
    const api = await json(fetch(`${service.url}/api/v1/track/${code}`));
    expect(api.body.status).toBe('closed');
    await context.close();
  }, 120_000);

  it('reopens the case when the resident is dissatisfied, and asks for a choice that is missing', async () => {
    clock.set('2026-11-02T02:00:00.000Z');
    const seeded = await seedCase(service, clock);
    clock.set('2026-11-03T02:00:00.000Z');
    await replyToAll(seeded.id, '已到现场查看，未发现排污');

    const { page, context } = await newPage({ baseURL: service.url });
    await page.goto(`/track/${seeded.trackingCode.toLowerCase()}`);
    expect(await page.textContent('#case-reply')).toBe('已到现场查看，未发现排污');
    // Sent without a choice: the errors sit next to the questions, the comment is kept.
    await page.fill('#comment', '晚上还在排');
    await page.click('#rate-form button[type=submit]');
    expect(await page.textContent('#rating-error')).toBe('请选择满意程度。');
    expect(await page.textContent('#solved-error')).toBe('请选择问题是否已解决。');
    // The page opens on the summary, which names what to correct, each leading to its question.
    expect(await page.evaluate('document.activeElement && document.activeElement.id')).toBe('rate-error');
    expect(await page.locator('#rate-error a').evaluateAll((links) => links.map((a) => [a.getAttribute('href'), a.textContent]))).toEqual([
      ['#rating-satisfied', '请选择满意程度。'],
      ['#solved-yes', '请选择问题是否已解决。'],
    ]);
    await page.click('#rate-error a[href="#solved-yes"]');
    expect(await page.evaluate('document.activeElement && document.activeElement.id')).toBe('solved-yes');
    // Each question is a radio group a screen reader announces as invalid, with its error.
    for (const [name, error] of [['您对办理结果是否满意？', 'rating-error'], ['您反映的问题解决了吗？', 'solved-error']] as const) {
      const group = page.getByRole('radiogroup', { name });
      expect(await group.count(), name).toBe(1);
      expect(await group.getAttribute('aria-invalid')).toBe('true');
      expect(await group.getAttribute('aria-describedby')).toBe(error);
    }
    expect(await page.inputValue('#comment')).toBe('晚上还在排');
    expect((await findCase(service.deps.db, seeded.id))!.status).toBe('replied');

    await page.check('#rating-dissatisfied');
    await page.check('#solved-no');
    // A comment pasted with garbled characters: refused next to the comment, nothing rated.
    await page.fill('#comment', '晚上还在排\ufffd\ufffd');
    await page.click('#rate-form button[type=submit]');
    await page.waitForSelector('#comment-error');
    expect(await page.textContent('#comment-error')).toContain('无法识别的字符');
    expect((await findCase(service.deps.db, seeded.id))!.status).toBe('replied');
    await page.check('#rating-dissatisfied');
    await page.check('#solved-no');
    await page.fill('#comment', '晚上还在排');
    await page.click('#rate-form button[type=submit]');
    await page.waitForURL(/\?rated=1$/);
    expect(await page.textContent('[role=status]')).toContain('重新办理');
    expect(await page.getAttribute('#case-status', 'data-status')).toBe('reopened');
    expect(await page.textContent('#timeline')).toContain('不满意');

    const reopened = (await findCase(service.deps.db, seeded.id))!;
    expect(reopened).toMatchObject({ status: 'reopened', round: 2 });
    const ratings = await service.deps.db.selectFrom('ratings').selectAll().where('case_id', '=', seeded.id).execute();
    expect(ratings.map((r) => r.rating)).toEqual(['dissatisfied']);

    // The bureau answers again: the rating on the page is the earlier answer's, and the new one asks for its own.
    clock.set('2026-11-05T02:00:00.000Z');
    const epb = client(service.url, staff.epb);
    expect((await epb.post(`/api/v1/cases/${seeded.id}/accept`)).status).toBe(200);
    expect((await epb.post(`/api/v1/cases/${seeded.id}/reply`, { text: '已再次到现场，责令停产' })).status).toBe(200);
    await page.goto(`/track/${seeded.trackingCode}`);
    expect(await page.textContent('#case-reply')).toBe('已再次到现场，责令停产');
    expect(await page.textContent('#case-rating')).toMatch(/^您对上一次答复的评价：不满意（问题未解决） · /);
    expect(await page.locator('#rate-form').count()).toBe(1);
    await page.goto(`/track/${seeded.trackingCode}?lang=en`);
    expect(await page.textContent('#case-rating')).toMatch(/^Your rating of the earlier answer: Dissatisfied \(problem not solved\) · /);
    await page.check('#rating-satisfied');
    await page.check('#solved-yes');
    await Promise.all([page.waitForURL(/\?rated=1$/), page.click('#rate-form button[type=submit]')]);
    expect(await page.textContent('#case-rating')).toMatch(/^Your rating: Satisfied \(problem solved\) · /);
    await context.close();
  });

  it('shows field errors next to the field in Chinese, keeps what was typed, and switches to English', async () => {
    const before = await countCases();
    const { page, context } = await newPage({ baseURL: service.url });
    await page.goto('/');
    await fillReport(page, { text: '   ', photo: true });
    await page.check('#shareContact');
    const response = page.waitForResponse((r) => r.request().method() === 'POST');
    await page.click('button[type=submit]');
    expect((await response).status()).toBe(400);
    await page.waitForSelector('#text-error');
    expect(await page.textContent('#text-error')).toBe('请描述您发现的问题。');
    // The title says it first, for a screen reader opening the page.
    expect(await page.title()).toBe('错误：举报环境问题 · 环境问题举报');
    expect(await page.getAttribute('#text', 'aria-invalid')).toBe('true');
    expect(await page.getAttribute('#text', 'aria-describedby')).toContain('text-error');
    expect(await page.inputValue('#name')).toBe(REPORTER_NAME);
    expect(await page.inputValue('#phone')).toBe(REPORTER_PHONE);
    expect(await page.inputValue('#address')).toBe('电镀厂后门桥下的水沟');
    expect(await page.isChecked('#shareContact')).toBe(true);
    // Photos cannot be kept by the browser: the form says so.
    expect(await page.textContent('#photos-again')).toContain('请重新选择');
    // A bad phone is marked on its own field.
    await page.fill('#text', REPORT_TEXT);
    await page.fill('#phone', 'call me');
    await page.click('button[type=submit]');
    await page.waitForSelector('#phone-error');
    expect(await page.textContent('#phone-error')).toContain('请填写正确的电话号码');
    expect(await page.getAttribute('#phone', 'aria-invalid')).toBe('true');
    // The summary at the top leads to the field to correct.
    expect(await page.textContent('#form-error a[href="#phone"]')).toContain('请填写正确的电话号码');
    expect(await page.$('#text-error')).toBeNull();
    expect(await page.inputValue('#text')).toBe(REPORT_TEXT);

    await page.click('text=English');
    expect(await page.getAttribute('html', 'lang')).toBe('en');
    expect(await page.textContent('h1')).toBe('Report an environmental problem');
    // What was typed comes along to the English page.
    expect(await page.inputValue('#text')).toBe(REPORT_TEXT);
    expect(await page.inputValue('#address')).toBe('电镀厂后门桥下的水沟');
    expect(await page.inputValue('#phone')).toBe('call me');
    expect(await page.isChecked('#shareContact')).toBe(true);
    expect(await page.textContent('#text-count')).toContain(`${[...REPORT_TEXT].length} / 5000`);
    expect(await page.evaluate('sessionStorage.length')).toBe(0);
    await page.fill('#text', '');
    await page.fill('#name', 'Wang');
    await page.click('button[type=submit]');
    await page.waitForSelector('#text-error');
    expect(await page.textContent('#text-error')).toBe('Please describe the problem.');
    expect(await page.title()).toBe('Error: Report an environmental problem · Environmental complaints');
    expect(await page.textContent('#phone-error')).toContain('Please give a phone number');
    expect(await page.inputValue('#name')).toBe('Wang');
    expect(await countCases()).toBe(before);
    await context.close();
  });

  it('says why a rating is refused: rated already in another tab, the time to rate ended (when, on the district clock), no new answer yet', async () => {
    clock.set('2026-11-02T02:00:00.000Z');
    const { page, context } = await newPage({ baseURL: service.url });
    const other = await context.newPage();
    /** The rating form open in both tabs; the other tab rates first with `first` (none: nobody does). */
    const race = async (lang: 'zh' | 'en', first: 'satisfied' | 'dissatisfied' | null) => {
      const seeded = await seedCase(service, clock);
      await replyToAll(seeded.id, '已处理');
      for (const p of [page, other]) await p.goto(`/track/${seeded.trackingCode}?lang=${lang}`);
      if (first) {
        await other.check(`#rating-${first}`);
        await other.check('#solved-yes');
        await Promise.all([other.waitForURL(/\?rated=1$/), other.click('#rate-form button[type=submit]')]);
      }
      await page.check('#rating-basic');
      await page.check('#solved-no');
      const [res] = await Promise.all([page.waitForNavigation(), page.click('#rate-form button[type=submit]')]);
      expect(res?.status()).toBe(409);
      return { seeded, alert: (await page.textContent('[role=alert]'))!.trim() };
    };

    expect((await race('zh', 'satisfied')).alert).toBe('这次答复已经评价过了，每次答复只能评价一次。');
    expect((await race('en', 'satisfied')).alert).toBe('This answer has already been rated; an answer is rated once.');
    const reopened = await race('zh', 'dissatisfied');
    expect(reopened.alert).toBe('案件已退回承办单位重新办理，新的答复还没有作出，暂时没有可评价的答复。');
    expect((await findCase(service.deps.db, reopened.seeded.id))!).toMatchObject({ status: 'reopened', round: 2 });

    // The window ends while the page is open: the time it ended, on the district's clock (the same whether or not the
    // deadline sweep closed the case first). A case for each language: the window of the first one has ended.
    for (const lang of ['zh', 'en'] as const) {
      clock.set('2026-11-03T02:00:00.000Z');
      const seeded = await seedCase(service, clock);
      await replyToAll(seeded.id, '已处理');
      const rateBy = (await findCase(service.deps.db, seeded.id))!.deadlines.rateBy!;
      await page.goto(`/track/${seeded.trackingCode}?lang=${lang}`);
      await page.check('#rating-satisfied');
      await page.check('#solved-yes');
      clock.set(new Date(Date.parse(rateBy) + 60_000).toISOString());
      const [res] = await Promise.all([page.waitForNavigation(), page.click('#rate-form button[type=submit]')]);
      expect(res?.status()).toBe(409);
      const shown = new Intl.DateTimeFormat(lang === 'zh' ? 'zh-CN' : 'en-GB', { timeZone: service.deps.district.file.district.timezone, dateStyle: 'medium', timeStyle: 'short' }).format(new Date(rateBy));
      expect((await page.textContent('[role=alert]'))!.trim()).toBe(lang === 'zh' ? `评价期限已于${shown}截止，无法再评价。` : `The time to rate this answer ended on ${shown}.`);
      expect(await service.deps.db.selectFrom('ratings').select('id').where('case_id', '=', seeded.id).execute()).toEqual([]);
    }
    clock.set('2026-11-03T02:00:00.000Z');
    await context.close();
  });

  it('says what a rating sent again did instead of refusing it as rated already, and rates no newer answer than the one the form showed', async () => {
    const was = clock.now().toISOString();
    clock.set('2026-11-02T02:00:00.000Z');
    const { page, context } = await newPage({ baseURL: service.url });
    // The same form sent twice (an answer lost on the way and the form sent again reaches the service as this does).
    const other = await context.newPage();
    const ratingsOf = (id: string) => service.deps.db.selectFrom('ratings').select(['round', 'rating', 'comment']).where('case_id', '=', id).orderBy('round').execute();
    const rate = async (p: Page, rating: string, solved: 'yes' | 'no', comment = '') => {
      await p.check(`#rating-${rating}`);
      await p.check(`#solved-${solved}`);
      await p.fill('#comment', comment);
      const [res] = await Promise.all([p.waitForNavigation(), p.click('#rate-form button[type=submit]')]);
      return res?.status();
    };

    for (const [rating, solved, thanks, status] of [
      ['satisfied', 'yes', '感谢您的评价，案件已办结。', 'closed'],
      ['dissatisfied', 'no', '感谢您的评价。案件已退回承办单位重新办理，请留意新的答复。', 'reopened'],
    ] as const) {
      const seeded = await seedCase(service, clock, { assignments: [{ unit: 'epb', role: 'lead' }] });
      await replyToAll(seeded.id, '已处理');
      for (const p of [page, other]) await p.goto(`/track/${seeded.trackingCode}`);
      expect(await rate(other, rating, solved, '处理得很快')).toBe(200);
      expect(other.url()).toMatch(/\?rated=1$/);
      // Sent again, the same choices: thanked as the first send was, nothing rated twice.
      expect(await rate(page, rating, solved, '处理得很快')).toBe(200);
      expect(page.url()).toMatch(/\?rated=1$/);
      expect(await page.textContent('[role=status]')).toBe(thanks);
      expect(await page.locator('[role=alert]').count()).toBe(0);
      expect(await ratingsOf(seeded.id)).toEqual([{ round: 1, rating, comment: '处理得很快' }]);
      expect((await findCase(service.deps.db, seeded.id))!.status).toBe(status);
    }

    // A tab left open on the first answer, rated dissatisfied in another; the bureau answers again.
    const seeded = await seedCase(service, clock, { assignments: [{ unit: 'epb', role: 'lead' }] });
    await replyToAll(seeded.id, '已处理');
    for (const p of [page, other]) await p.goto(`/track/${seeded.trackingCode}?lang=en`);
    expect(await rate(other, 'dissatisfied', 'no')).toBe(200);
    clock.set('2026-11-04T02:00:00.000Z');
    await replyToAll(seeded.id, '已再次处理，排污口已封堵');
    // The old tab's form does not rate the new answer unread: the page shows it, the choices kept.
    expect(await rate(page, 'satisfied', 'yes')).toBe(409);
    expect((await page.textContent('#case-alert'))!.trim()).toBe(
      'The bureau has answered again since this page was opened (see above), so the rating was not sent. Please read the new answer and rate it; your choices are kept.',
    );
    expect(await page.textContent('#case-reply')).toBe('已再次处理，排污口已封堵');
    expect(await page.isChecked('#rating-satisfied')).toBe(true);
    expect(await ratingsOf(seeded.id)).toEqual([{ round: 1, rating: 'dissatisfied', comment: null }]);
    // Sent from the page that shows the new answer, it rates it.
    await Promise.all([page.waitForURL(/\?rated=1$/), page.click('#rate-form button[type=submit]')]);
    expect(await ratingsOf(seeded.id)).toEqual([
      { round: 1, rating: 'dissatisfied', comment: null },
      { round: 2, rating: 'satisfied', comment: null },
    ]);
    expect((await findCase(service.deps.db, seeded.id))!.status).toBe('closed');
    clock.set(was);
    await context.close();
  });

  it.each([
    ['a tracking code typed into the report box', (code: string) => code.toLowerCase()],
    ['a tracking code with only words asking after its report', (code: string) => `我的举报${code}怎么样了？`],
  ])('takes %s for a code: nothing sent, and a link to that report', async (_what, typed) => {
    const seeded = await seedCase(service, clock);
    const before = await countCases();
    const { page, context } = await newPage({ baseURL: service.url });
    await page.goto('/');
    await page.fill('#text', typed(seeded.trackingCode));
    await page.click('button[type=submit]');
    await page.waitForSelector('#text-error');
    expect(await page.textContent('#text-error')).toContain('这是一个查询码，不是问题描述');
    expect(await countCases()).toBe(before);
    await page.getByRole('link', { name: `查看查询码 ${seeded.trackingCode} 的办理进度` }).click();
    await page.waitForURL(`**/track/${seeded.trackingCode}`);
    expect(await page.textContent('#tracking-code')).toBe(seeded.trackingCode);
    await context.close();
  });

  it('takes a phone number typed in full-width characters or with the area code in brackets, and refuses one without digits', async () => {
    const { page, context } = await newPage({ baseURL: service.url });
    await page.goto('/');
    await fillReport(page, { text: '回龙村有人半夜往河里倒废油' });
    await page.fill('#phone', '-----');
    await page.click('button[type=submit]');
    await page.waitForSelector('#phone-error');
    expect(await page.textContent('#phone-error')).toContain('请填写正确的电话号码');
    // A Chinese input method in full-width mode.
    await page.fill('#phone', '（０７４６）１２３４　５６７');
    await page.click('button[type=submit]');
    await page.waitForURL(/\/submitted\//);
    const code = (await page.textContent('#tracking-code'))!.trim();
    const created = (await findCaseByTrackingCode(service.deps.db, code))!;
    const contact = await service.deps.db.selectFrom('case_contacts').selectAll().where('case_id', '=', created.id).executeTakeFirst();
    expect(contact).toMatchObject({ name: REPORTER_NAME, phone: '(0746)1234 567' });
    await context.close();
  });

  it('keeps what was typed into the report and rating forms across the language switch, the pin too', async () => {
    const { page, context } = await newPage({ baseURL: service.url });
    await page.goto('/');
    expect(await page.isVisible('#photos-again')).toBe(false);
    await fillReport(page, { photo: true });
    await page.check('#anonymous');
    await page.evaluate(`(() => { document.getElementById('lat').value = '25.180000'; document.getElementById('lng').value = '111.330000'; })()`);
    await page.click('text=English');
    await page.waitForURL(/lang=en/);
    expect(await page.textContent('h1')).toBe('Report an environmental problem');
    // The photo chosen cannot come along: the page says so, in its language, next to the photo field.
    expect(await page.isVisible('#photos-again')).toBe(true);
    expect(await page.textContent('#photos-again')).toBe('For your safety the browser does not keep chosen photos: please choose them again.');
    expect(await page.inputValue('#text')).toBe(REPORT_TEXT);
    expect(await page.inputValue('#name')).toBe(REPORTER_NAME);
    expect(await page.inputValue('#phone')).toBe(REPORTER_PHONE);
    expect(await page.isChecked('#anonymous')).toBe(true);
    expect(await page.isChecked('#shareContact')).toBe(false);
    expect(await page.inputValue('#lat')).toBe('25.180000');
    expect(await page.textContent('#geo-status')).toBe('Location recorded: 25.180000, 111.330000');
    // Back to Chinese and sent: one case, with everything that was typed.
    await page.click('text=中文');
    expect(await page.inputValue('#text')).toBe(REPORT_TEXT);
    // No photo was chosen again on the English page: nothing to choose again.
    expect(await page.isVisible('#photos-again')).toBe(false);
    await page.click('button[type=submit]');
    await page.waitForURL(/\/submitted\//);
    expect(await page.textContent('h1')).toBe('举报已受理');
    const created = (await findCaseByTrackingCode(service.deps.db, (await page.textContent('#tracking-code'))!.trim()))!;
    expect(created).toMatchObject({ text: REPORT_TEXT, anonymous: true, address: '电镀厂后门桥下的水沟' });
    // Nothing stays behind in the tab once the page has it back.
    expect(await page.evaluate('sessionStorage.length')).toBe(0);

    const seeded = await seedCase(service, clock);
    await replyToAll(seeded.id, '已处理');
    await page.goto(`/track/${seeded.trackingCode}`);
    await page.check('#rating-basic');
    await page.check('#solved-no');
    await page.fill('#comment', '晚上还有气味');
    await page.click('text=English');
    await page.waitForURL(/lang=en/);
    expect(await page.textContent('#rate-title')).toBe('Rate the answer');
    expect(await page.isChecked('#rating-basic')).toBe(true);
    expect(await page.isChecked('#solved-no')).toBe(true);
    expect(await page.inputValue('#comment')).toBe('晚上还有气味');

    // The code typed into the lookup box, not yet looked up.
    await page.goto('/track');
    await page.fill('#code', 'k7m3q xt9ad');
    await page.click('text=中文');
    await page.waitForURL(/lang=zh/);
    expect(await page.textContent('h1')).toBe('查询办理进度');
    expect(await page.inputValue('#code')).toBe('k7m3q xt9ad');
    await context.close();
  });

  it('marks text that holds characters the service does not keep next to its field, and keeps the rest of what was typed', async () => {
    const before = await countCases();
    const { page, context } = await newPage({ baseURL: service.url });
    await page.goto('/');
    // Pasted from a page that was decoded with the wrong charset.
    await fillReport(page, { text: `${REPORT_TEXT}\ufffd\ufffd` });
    const response = page.waitForResponse((r) => r.request().method() === 'POST');
    await page.click('button[type=submit]');
    expect((await response).status()).toBe(400);
    await page.waitForSelector('#text-error');
    expect(await page.textContent('#text-error')).toBe('含有无法识别的字符（可能是复制时的乱码），请删除后再提交。');
    expect(await page.inputValue('#text')).toBe(`${REPORT_TEXT}\ufffd\ufffd`);
    expect(await page.inputValue('#name')).toBe(REPORTER_NAME);
    expect(await page.$('#name-error')).toBeNull();
    expect(await countCases()).toBe(before);
    await context.close();
  });

  it('says the character count to a screen reader once the typing pauses, not at every character typed', async () => {
    const { page, context } = await newPage({ baseURL: service.url });
    await page.goto('/');
    // The visible counter is no live region: it changes at every character.
    expect(await page.getAttribute('#text-count', 'aria-live')).toBeNull();
    expect(await page.getAttribute('#text-count-said', 'aria-live')).toBe('polite');
    await page.evaluate(`(() => {
      window.saidTimes = 0;
      new MutationObserver(() => { window.saidTimes += 1; }).observe(document.getElementById('text-count-said'), { childList: true, characterData: true, subtree: true });
    })()`);
    await page.focus('#text');
    await page.keyboard.type('river black smell');
    expect(await page.textContent('#text-count')).toContain('17 / 5000');
    await page.waitForFunction(`document.getElementById('text-count-said').textContent !== ''`);
    expect(await page.textContent('#text-count-said')).toBe('已输入 17 / 5000 字');
    expect(Number(await page.evaluate('window.saidTimes'))).toBeLessThan(17);
    await context.close();
  });

  it('counts a line break as one character, as the browser does, and keeps it as a line feed', async () => {
    const { page, context } = await newPage({ baseURL: service.url });
    await page.goto('/');
    // 5,000 characters as the browser counts them (its maxlength lets this through), 50 of them line breaks.
    const text = `${REPORT_TEXT}\n`.repeat(50).padEnd(5000, '臭');
    await fillReport(page, { text });
    await page.click('button[type=submit]');
    await page.waitForURL(/\/submitted\//);
    const code = (await page.textContent('#tracking-code'))!.trim();
    const created = (await findCaseByTrackingCode(service.deps.db, code))!;
    expect(created.text).toBe(text);
    await context.close();
  });

  it("sends pages with headers that keep them out of other sites' frames and their addresses from other sites", async () => {
    const res = await fetch(`${service.url}/`, { headers: { accept: 'text/html' } });
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('content-security-policy')).toBe("frame-ancestors 'none'");
    expect(res.headers.get('referrer-policy')).toBe('same-origin');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('cross-origin-opener-policy')).toBe('same-origin');
    // HSTS is the https proxy's to send.
    expect(res.headers.get('strict-transport-security')).toBeNull();
    // An answer that is no page carries what a JSON API is advised to, without what only a browser's document heeds.
    const health = await fetch(`${service.url}/healthz`);
    expect(health.headers.get('x-frame-options')).toBe('DENY');
    expect(health.headers.get('x-content-type-options')).toBe('nosniff');
    expect(health.headers.get('cross-origin-resource-policy')).toBe('same-origin');
    expect(health.headers.get('referrer-policy')).toBeNull();
    // A path asked for as //elsewhere.example/…: the language switch of its page stays on this site.
    const odd = await fetch(`${service.url}//elsewhere.example/x`, { headers: { accept: 'text/html' } });
    const href = /<a href="([^"]*)" hreflang=/.exec(await odd.text())?.[1];
    expect(href).toBe('/elsewhere.example/x?lang=en');
  });

  it("answers in the language the browser prefers of the two, by its weights, and in Chinese when it names neither", async () => {
    for (const [accept, lang] of [
      ['de-DE,de;q=0.9,en;q=0.8', 'en'],
      ['zh-CN;q=0.5, en;q=0.9', 'en'],
      ['en-GB', 'en'],
      ['en;q=0, zh-TW', 'zh-CN'],
      ['zh-Hans-CN,zh;q=0.9,en;q=0.8', 'zh-CN'],
      ['fr-FR,fr;q=0.9', 'zh-CN'],
      ['', 'zh-CN'],
    ] as const) {
      const html = await (await fetch(`${service.url}/`, { headers: { accept: 'text/html', 'accept-language': accept } })).text();
      expect(/<html lang="([^"]+)"/.exec(html)?.[1], accept).toBe(lang);
    }
  });

  it('gives a rating sent after its form lapsed back with the choices made, to send again, and rates nothing meanwhile', async () => {
    const seeded = await seedCase(service, clock);
    await replyToAll(seeded.id, '已处理');
    const { page, context } = await newPage({ baseURL: service.url });
    await page.goto(`/track/${seeded.trackingCode}`);
    await page.check('#rating-basic');
    await page.check('#solved-no');
    await page.fill('#comment', '晚上还有气味');
    await context.clearCookies();
    const lapsed = page.waitForResponse((r) => r.request().method() === 'POST');
    await page.click('#rate-form button[type=submit]');
    expect((await lapsed).status()).toBe(403);
    expect(await page.textContent('#case-alert')).toBe('此页面已过期，评价未提交。您的选择已保留，请核对后再次提交。');
    expect(await page.isChecked('#rating-basic')).toBe(true);
    expect(await page.isChecked('#solved-no')).toBe(true);
    expect(await page.inputValue('#comment')).toBe('晚上还有气味');
    expect((await findCase(service.deps.db, seeded.id))?.status).toBe('replied');
    // Sent again from the page that came back (its token fresh), it is taken.
    await Promise.all([page.waitForURL(/rated/), page.click('#rate-form button[type=submit]')]);
    expect((await findCase(service.deps.db, seeded.id))?.status).toBe('closed');
    await context.close();
  });

  it('refuses a form post without the CSRF token and creates nothing', async () => {
    const seeded = await seedCase(service, clock);
    const before = await countCases();
    const { page, context } = await newPage({ baseURL: service.url });
    await page.goto('/');
    await fillReport(page);
    await page.evaluate(`document.querySelector('input[name=_csrf]').remove()`);
    const response = page.waitForResponse((r) => r.request().method() === 'POST');
    await page.click('button[type=submit]');
    expect((await response).status()).toBe(403);
    // The report form comes back as typed, saying it was not sent — nothing marked to correct.
    expect(await page.textContent('#form-error')).toContain('页面已过期，举报尚未提交');
    expect(await page.textContent('#form-error p')).toBe('提交未成功。');
    expect(await page.inputValue('#text')).toBe(REPORT_TEXT);
    expect(await page.inputValue('#address')).toBe('电镀厂后门桥下的水沟');
    expect(await countCases()).toBe(before);

    // Its token lapsed (the browser was closed, the cookie is gone): sent again from the page that comes back, it goes through.
    await context.clearCookies();
    const lapsed = page.waitForResponse((r) => r.request().method() === 'POST');
    await page.click('button[type=submit]');
    expect((await lapsed).status()).toBe(403);
    expect(await page.inputValue('#text')).toBe(REPORT_TEXT);
    expect(await countCases()).toBe(before);
    await page.click('button[type=submit]');
    await page.waitForURL(/\/submitted\//);
    expect(await countCases()).toBe(before + 1);

    // From another site: no cookie, no token.
    const form = new FormData();
    form.set('text', REPORT_TEXT);
    const foreign = await fetch(`${service.url}/`, { method: 'POST', body: form, headers: { accept: 'text/html' } });
    expect(foreign.status).toBe(403);

    // A body that is not a form is a bad request, not a server error, with or without the token header.
    const token = (await context.cookies()).find((k) => k.name === 'csrf')!.value;
    for (const path of ['/', `/track/${seeded.trackingCode}`]) {
      for (const headers of [{ 'x-csrf-token': token }, {}] as Array<Record<string, string>>) {
        const bad = await fetch(`${service.url}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'multipart/form-data; boundary=zzz', cookie: `csrf=${token}`, accept: 'text/html', ...headers },
          body: 'this is not multipart',
        });
        expect(bad.status, `${path} ${JSON.stringify(headers)}`).toBe(400);
      }
    }
    expect(await countCases()).toBe(before + 1);
    await context.close();
  });

  it('makes one case of a double submit and of going back and sending the form again', async () => {
    const before = await countCases();
    const { page, context } = await newPage({ baseURL: service.url });
    await page.goto('/');
    await fillReport(page, { text: '李家塘办事处有人在河边焚烧垃圾，浓烟很大' });
    // The same form sent twice at once, as a double click without the script's guard would.
    const urls = (await page.evaluate(`(() => {
      const form = document.getElementById('report-form');
      const send = () => fetch('/', { method: 'POST', body: new FormData(form) }).then((r) => r.url);
      return Promise.all([send(), send()]);
    })()`)) as string[];
    expect(urls[0]).toMatch(/\/submitted\/[A-Z0-9]{10}$/);
    expect(urls[1]).toBe(urls[0]);
    expect(await countCases()).toBe(before + 1);

    // Now through the button, then back to the form and send it again.
    await page.click('button[type=submit]');
    await page.waitForURL(/\/submitted\//);
    expect(page.url()).toBe(urls[0]);
    await page.goBack();
    await page.waitForSelector('#report-form');
    if ((await page.inputValue('#text')) === '') await fillReport(page, { text: '李家塘办事处有人在河边焚烧垃圾，浓烟很大' });
    await page.click('button[type=submit]');
    await page.waitForURL(/\/submitted\//);
    expect(page.url()).toBe(urls[0]);
    expect(await countCases()).toBe(before + 1);
    await context.close();
  });

  it('says a case its lead bureau returned waits for a new bureau, instead of naming the bureau that gave it back', async () => {
    const seeded = await seedCase(service, clock, { assignments: [{ unit: 'epb', role: 'lead' }] });
    const returned = await json(client(service.url, staff.epb).post(`/api/v1/cases/${seeded.id}/return`, { reason: 'not_our_remit', note: '不属于本单位职责' }));
    expect(returned.status, JSON.stringify(returned.body)).toBe(200);
    // The API keeps its answer as it was: the lead that returned it until a dispatcher routes the case again.
    const api = await json(fetch(`${service.url}/api/v1/track/${seeded.trackingCode}`));
    expect(api.body).toMatchObject({ status: 'triage', lead: { code: 'epb' } });
    const { page, context } = await newPage({ baseURL: service.url });
    for (const [lang, lead] of [
      ['zh', '待重新分派'],
      ['en', 'to be assigned again'],
    ] as const) {
      await page.goto(`/track/${seeded.trackingCode}?lang=${lang}`);
      expect(await page.getAttribute('#case-status', 'data-status')).toBe('triage');
      expect(await page.textContent('#case-lead')).toBe(lead);
    }
    await context.close();
  });

  it("shows a merged report how the case it is handled in goes, and its answer, without that case's code or anything of its reporter", async () => {
    const original = await seedCase(service, clock, {
      text: '兴隆办事处电镀厂偷排废水（先举报的）',
      contact: { name: '赵大妈', phone: '13700001111', share: false },
      assignments: [{ unit: 'epb', role: 'lead' }],
    });
    // Merged from triage: its own type is the machine's unsure guess, never settled.
    const duplicate = await seedCase(service, clock, { text: '兴隆办事处电镀厂偷排废水（重复举报）', status: 'triage', type: 'other', confidence: 0.3 });
    const merged = await json(client(service.url, staff.dispatcher).post(`/api/v1/cases/${duplicate.id}/merge`, { into: original.id, reason: '重复举报' }));
    expect(merged.status, JSON.stringify(merged.body)).toBe(200);
    const { page, context } = await newPage({ baseURL: service.url });
    await page.goto(`/track/${duplicate.trackingCode}`);
    expect(await page.getAttribute('#case-status', 'data-status')).toBe('merged');
    expect(await page.textContent('#case-lead')).toBe('区环保局');
    expect(await page.textContent('#case-type')).toBe('非法排放有毒有害污染物');
    expect(await page.textContent('#case-outcome')).toBe('本举报与另一件反映同一问题的举报合并办理。下面是合并后的办理进展和答复，请继续用本查询码查询。');
    expect(await page.getAttribute('#merged-status', 'data-status')).toBe('dispatched');
    expect(await page.textContent('#merged-lead')).toBe('区环保局');
    expect(await page.textContent('#timeline')).toContain('已与反映同一问题的案件合并办理，请继续以本查询码查询进展');

    // The answer comes to this page too, the other reporter's name and phone masked; the rating is that reporter's.
    const epb = client(service.url, staff.epb);
    expect((await epb.post(`/api/v1/cases/${original.id}/accept`)).status).toBe(200);
    expect((await epb.post(`/api/v1/cases/${original.id}/reply`, { text: '赵大妈您好：经查该厂确有偷排，已责令停产整改（回访电话13700001111）。' })).status).toBe(200);
    await page.goto(`/track/${duplicate.trackingCode}`);
    expect(await page.getAttribute('#merged-status', 'data-status')).toBe('replied');
    expect(await page.textContent('#merged-reply')).toBe('赵**您好：经查该厂确有偷排，已责令停产整改（回访电话137****1111）。');
    expect(await page.locator('#rate-form, #rating-closed').count()).toBe(0);
    await page.goto(`/track/${duplicate.trackingCode}?lang=en`);
    expect(await page.textContent('#case-outcome')).toBe(
      'This report is about the same problem as another report and is handled together with it. Below is how that case is going, and its answer; keep using this code to follow it.',
    );
    expect(await page.textContent('#h-merged')).toBe('Progress of the case it is handled in');
    expect(await page.textContent('#timeline')).toContain('Handled together with another report of the same problem: follow it here, with this code');
    const html = await page.content();
    for (const secret of [original.trackingCode, '赵大妈', '13700001111', '先举报的', original.id]) expect(html).not.toContain(secret);
    expect(await page.locator(`a[href*="/track/${original.trackingCode}"]`).count()).toBe(0);
    // The original's own page asks its reporter to rate.
    await page.goto(`/track/${original.trackingCode}`);
    expect(await page.locator('#merged-case').count()).toBe(0);
    expect(await page.locator('input[name=rating]').count()).toBe(3);
    await context.close();
  });

  it('names on a merged report the co-handlers and local office of the case it is handled in, as its type and lead', async () => {
    const original = await seedCase(service, clock, { text: '兴隆办事处电镀厂偷排废水（先举报，有属地）' });
    // Its own place was never known: merged from triage.
    const duplicate = await seedCase(service, clock, { text: '那边的厂子又在排黑水（重复举报，无属地）', status: 'triage', jurisdiction: null });
    const merged = await json(client(service.url, staff.dispatcher).post(`/api/v1/cases/${duplicate.id}/merge`, { into: original.id, reason: '重复举报' }));
    expect(merged.status, JSON.stringify(merged.body)).toBe(200);
    const { page, context } = await newPage({ baseURL: service.url });
    for (const lang of ['zh', 'en'] as const) {
      await page.goto(`/track/${duplicate.trackingCode}?lang=${lang}`);
      const { units } = service.deps.district;
      const [place, econ] = [units.get('xinglong')!.name[lang], units.get('econ')!.name[lang]];
      expect(await page.textContent('#case-lead')).toBe(units.get('epb')!.name[lang]);
      expect(await page.textContent('#case-place')).toBe(place);
      expect(await page.locator('.facts').first().textContent()).toContain(econ);
    }
    await context.close();
  });

  it('thanks for a rating only when it rates the answer shown: the address a dissatisfied rating led to, opened after the next answer closed unrated, does not', async () => {
    const was = clock.now().toISOString();
    clock.set('2026-11-02T02:00:00.000Z');
    const seeded = await seedCase(service, clock, { assignments: [{ unit: 'epb', role: 'lead' }] });
    await replyToAll(seeded.id, '已处理');
    const { page, context } = await newPage({ baseURL: service.url });
    await page.goto(`/track/${seeded.trackingCode}`);
    await page.check('#rating-dissatisfied');
    await page.check('#solved-no');
    await Promise.all([page.waitForURL(/\?rated=1$/), page.click('#rate-form button[type=submit]')]);
    expect(await page.textContent('[role=status]')).toContain('重新办理');
    // The bureau answers again; nobody rates it within the window, and the case is closed for that.
    clock.set('2026-11-04T02:00:00.000Z');
    await replyToAll(seeded.id, '已再次处理');
    const rateBy = (await findCase(service.deps.db, seeded.id))!.deadlines.rateBy!;
    clock.set(rateBy);
    await checkDeadlines(service.deps, seeded.id, clock.now());
    expect((await findCase(service.deps.db, seeded.id))!).toMatchObject({ status: 'closed', closeReason: 'not_rated' });
    // The tab left on the old address is reloaded.
    await page.reload();
    expect(await page.getAttribute('#case-status', 'data-status')).toBe('closed');
    expect(await page.locator('[role=status]').count()).toBe(0);
    expect(await page.textContent('#case-rating')).toMatch(/^您对上一次答复的评价：不满意/);
    clock.set(was);
    await context.close();
  });

  it('says a merged report whose case was handed to the 12345 hotline is answered there, not that an answer is still to come', async () => {
    const original = await seedCase(service, clock, { text: '小区门口路灯坏了很久没人修，晚上很黑', assignments: [{ unit: 'epb', role: 'lead' }] });
    const duplicate = await seedCase(service, clock, { text: '小区路灯坏了没人修', status: 'triage', type: 'other', confidence: 0.3 });
    const dispatcher = client(service.url, staff.dispatcher);
    const merged = await json(dispatcher.post(`/api/v1/cases/${duplicate.id}/merge`, { into: original.id, reason: '重复举报' }));
    expect(merged.status, JSON.stringify(merged.body)).toBe(200);
    const transferred = await json(dispatcher.post(`/api/v1/cases/${original.id}/transfer`, { reason: '非环境类诉求' }));
    expect(transferred.status, JSON.stringify(transferred.body)).toBe(200);
    const { page, context } = await newPage({ baseURL: service.url });
    await page.goto(`/track/${duplicate.trackingCode}`);
    expect(await page.getAttribute('#merged-status', 'data-status')).toBe('transferred');
    expect(await page.textContent('#merged-outcome')).toBe('合并办理的案件不属于环境问题，已转交区12345热线办理，由区12345热线答复，本页不再显示答复。');
    expect(await page.content()).not.toContain('承办单位尚未答复');
    await page.goto(`/track/${duplicate.trackingCode}?lang=en`);
    expect(await page.textContent('#merged-outcome')).toBe(
      'The case this report is handled in is not about the environment: it was handed to District 12345 Citizen Hotline, which answers it; no answer will show on this page.',
    );
    expect(await page.content()).not.toContain('has not answered yet');
    await context.close();
  });

  it('says a case handed to the 12345 hotline is answered there, instead of waiting for a reply', async () => {
    const seeded = await seedCase(service, clock, { status: 'triage', type: 'other', text: '小区门口路灯坏了很久没人修' });
    const transferred = await json(client(service.url, staff.dispatcher).post(`/api/v1/cases/${seeded.id}/transfer`, { reason: '非环境类诉求' }));
    expect(transferred.status, JSON.stringify(transferred.body)).toBe(200);
    const { page, context } = await newPage({ baseURL: service.url });
    await page.goto(`/track/${seeded.trackingCode}`);
    expect(await page.getAttribute('#case-status', 'data-status')).toBe('transferred');
    expect(await page.textContent('#case-outcome')).toBe('本举报不属于环境问题，已转交区12345热线办理，由区12345热线答复，本页不再显示答复。');
    expect(await page.content()).not.toContain('承办单位尚未答复');
    await page.goto(`/track/${seeded.trackingCode}?lang=en`);
    expect(await page.textContent('#case-outcome')).toBe('This report is not about the environment: it was handed to District 12345 Citizen Hotline, which answers it; no answer will show on this page.');
    expect(await page.content()).not.toContain('has not answered yet');
    await context.close();
  });

  it('shows no local office "to be decided" on a case handed to the 12345 hotline: the one it has, or none', async () => {
    const page = async (code: string, lang: 'zh' | 'en') => (await fetch(`${service.url}/track/${code}?lang=${lang}`)).text();
    const placeless = await seedCase(service, clock, { status: 'triage', type: 'other', text: '小区门口路灯坏了很久没人修', jurisdiction: null });
    // While a dispatcher decides, the place is still to be decided.
    expect(await page(placeless.trackingCode, 'zh')).toContain('<dt>属地</dt><dd id="case-place">待定</dd>');
    const placed = await seedCase(service, clock, { status: 'triage', type: 'other', text: '兴隆办事处小区门口路灯坏了很久没人修', jurisdiction: 'xinglong' });
    for (const { id } of [placeless, placed]) {
      const transferred = await json(client(service.url, staff.dispatcher).post(`/api/v1/cases/${id}/transfer`, { reason: '非环境类诉求' }));
      expect(transferred.status, JSON.stringify(transferred.body)).toBe(200);
    }
    for (const [lang, place, pending] of [
      ['zh', '属地', '待定'],
      ['en', 'Local office', 'to be decided'],
    ] as const) {
      const none = await page(placeless.trackingCode, lang);
      expect(none).toContain('data-status="transferred"');
      expect(none).not.toContain(`<dt>${place}</dt>`);
      expect(none).not.toContain('case-place');
      expect(none).not.toContain(pending);
      const known = await page(placed.trackingCode, lang);
      expect(known).toContain(`<dt>${place}</dt><dd id="case-place">${service.deps.district.units.get('xinglong')!.name[lang]}</dd>`);
      expect(known).not.toContain(pending);
    }
    // The JSON view keeps its fields: no place is null.
    const view = (await (await fetch(`${service.url}/api/v1/track/${placeless.trackingCode}`)).json()) as { status: string; jurisdiction: unknown };
    expect(view).toMatchObject({ status: 'transferred', jurisdiction: null });
  });

  it('names the first step of the timeline once, not the status and then the same words as its note', async () => {
    const seeded = await seedCase(service, clock);
    for (const [lang, label] of [
      ['zh', '已受理'],
      ['en', 'Received'],
    ] as const) {
      const html = await (await fetch(`${service.url}/track/${seeded.trackingCode}?lang=${lang}`)).text();
      const first = [...html.matchAll(/<li><time[^>]*>[^<]*<\/time>([\s\S]*?)<\/li>/g)].at(-1)![1]!.replace(/<!-- -->/g, '');
      expect(first).toBe(` · <strong>${label}</strong>`);
    }
  });

  it('answers a wrong or unknown tracking code with the lookup box', async () => {
    const { page, context } = await newPage({ baseURL: service.url });
    const res = await page.goto('/track/AAAAAAAAAA');
    expect(res?.status()).toBe(404);
    expect(await page.textContent('h1')).toBe('没有找到这个举报');
    expect(await page.inputValue('#code')).toBe('AAAAAAAAAA');

    await page.goto('/track');
    expect(await page.title()).toBe('查询办理进度 · 环境问题举报');
    await page.fill('#code', 'not-a-code');
    await page.click('form.lookup button[type=submit]');
    expect(await page.textContent('#code-error')).toContain('10 位');
    expect(await page.title()).toBe('错误：查询办理进度 · 环境问题举报');

    const seeded = await seedCase(service, clock);
    await page.fill('#code', seeded.trackingCode.toLowerCase().replace(/(.{5})/, '$1-'));
    await page.click('form.lookup button[type=submit]');
    await page.waitForURL(`**/track/${seeded.trackingCode}`);
    expect(await page.getAttribute('#case-status', 'data-status')).toBe('dispatched');

    // Typed with a Chinese input method in full-width mode, with a full-width dash: the same code.
    const fullWidth = [...seeded.trackingCode.toLowerCase()].map((ch) => String.fromCharCode(ch.charCodeAt(0) + 0xfee0)).join('');
    await page.goto('/track');
    await page.fill('#code', `${fullWidth.slice(0, 5)}－${fullWidth.slice(5)}`);
    await page.click('form.lookup button[type=submit]');
    await page.waitForURL(`**/track/${seeded.trackingCode}`);
    expect(await page.textContent('#tracking-code')).toBe(seeded.trackingCode);
    // Copied from a message with the quotes and the full stop around it.
    for (const pasted of [`“${seeded.trackingCode}”。`, `【${seeded.trackingCode.toLowerCase()}】`, `查询码：${seeded.trackingCode}。`]) {
      await page.goto('/track');
      await page.fill('#code', pasted);
      await page.click('form.lookup button[type=submit]');
      await page.waitForURL(`**/track/${seeded.trackingCode}`);
      expect(await page.textContent('#tracking-code'), pasted).toBe(seeded.trackingCode);
    }
    // A message pasted whole: the bot's words around the code, the success page's, a line from a friend.
    for (const pasted of [
      `这份举报已经提交，查询码：${seeded.trackingCode}。发送 /status ${seeded.trackingCode} 可查看进展。`,
      `您的查询码 ${seeded.trackingCode} 请记下或截图保存这个查询码，凭它查看办理进度和答复，并在答复后进行评价。`,
      `我的查询码是${seeded.trackingCode.toLowerCase().replace(/(.{5})/, '$1 ')}，帮我查一下`,
    ]) {
      await page.goto('/track');
      await page.fill('#code', pasted);
      await page.click('form.lookup button[type=submit]');
      await page.waitForURL(`**/track/${seeded.trackingCode}`);
      expect(await page.textContent('#tracking-code'), pasted).toBe(seeded.trackingCode);
    }
    // Two different codes in the words: which one was meant is not guessed.
    await page.goto('/track');
    await page.fill('#code', `查询码 ${seeded.trackingCode} 和 ${seeded.trackingCode.slice(0, 9)}${seeded.trackingCode[9] === 'A' ? 'C' : 'A'}`);
    await page.click('form.lookup button[type=submit]');
    expect(await page.textContent('#code-error')).toContain('10 位');
    // The tracking link pasted whole, as from the success page or a chat message.
    await page.goto('/track');
    await page.fill('#code', `${service.url}/track/${seeded.trackingCode}`);
    await page.click('form.lookup button[type=submit]');
    await page.waitForURL(`**/track/${seeded.trackingCode}`);
    // A tracking link opened with the punctuation a chat app took into it from the message around it.
    for (const tail of ['。', '）', '”，']) {
      const opened = await page.goto(`/track/${seeded.trackingCode}${encodeURIComponent(tail)}?lang=en`);
      expect(opened?.status(), tail).toBe(200);
      expect(page.url(), tail).toBe(`${service.url}/track/${seeded.trackingCode}?lang=en`);
    }
    expect((await page.goto('/track/AAAAAAAAAA%E3%80%82'))?.status()).toBe(404);
    const direct = await page.goto(`/track/${encodeURIComponent(fullWidth)}`);
    expect(direct?.status()).toBe(200);
    expect(await page.getAttribute('#case-status', 'data-status')).toBe('dispatched');
    await context.close();
  });

  it('fills the place from the device location and from a pin on the map, and keeps it with the case', async () => {
    const b = await browser();
    const context = await b.newContext({
      locale: 'zh-CN',
      baseURL: service.url,
      geolocation: { latitude: 25.2, longitude: 111.36 },
      permissions: ['geolocation'],
    });
    const page = await context.newPage();
    await page.goto('/');
    await page.waitForSelector('#map .leaflet-container, #map.leaflet-container');
    expect(await page.isVisible('#map')).toBe(true);
    await page.getByRole('button', { name: '使用我的位置' }).click();
    await page.waitForFunction(`document.getElementById('lat').value !== ''`);
    expect(await page.inputValue('#lat')).toBe('25.200000');
    expect(await page.inputValue('#lng')).toBe('111.360000');
    expect(await page.textContent('#geo-status')).toContain('已获取位置');
    expect(await page.locator('#map .leaflet-marker-icon').count()).toBe(1);
    // The map's own words are the page's: the zoom buttons and the pin in Chinese, not Leaflet's English.
    expect(await page.getAttribute('#map .leaflet-control-zoom-in', 'aria-label')).toBe('放大地图');
    expect(await page.getAttribute('#map .leaflet-control-zoom-out', 'title')).toBe('缩小地图');
    expect(await page.getAttribute('#map .leaflet-marker-icon', 'alt')).toBe('标出的问题位置');

    // A click on the map moves the pin and the coordinates.
    const box = (await page.locator('#map').boundingBox())!;
    await page.mouse.click(box.x + box.width / 4, box.y + box.height / 4);
    await page.waitForFunction(`document.getElementById('lat').value !== '25.200000'`);
    const lat = Number(await page.inputValue('#lat'));
    const lng = Number(await page.inputValue('#lng'));
    expect(lat).toBeGreaterThan(25.2);
    expect(lng).toBeLessThan(111.36);
    expect(await page.locator('#map .leaflet-marker-icon').count()).toBe(1);

    await page.fill('#text', '这里有人往河里倒垃圾');
    await page.click('button[type=submit]');
    await page.waitForURL(/\/submitted\//);
    const code = (await page.textContent('#tracking-code'))!.trim();
    const c = await service.deps.db.selectFrom('cases').select(['lat', 'lng']).where('tracking_code', '=', code).executeTakeFirstOrThrow();
    expect(c.lat).toBeCloseTo(lat, 6);
    expect(c.lng).toBeCloseTo(lng, 6);
    await context.close();
  });

  it('says a device location outside the district is not used, and keeps it off the case, in English too', async () => {
    const b = await browser();
    // The resident is in Changsha, far from the district.
    for (const [locale, path, button, said] of [
      ['zh-CN', '/', '使用我的位置', '您当前的位置不在回龙圩管理区范围内，没有使用。请在地图上标出问题发生的地点，或填写地址。'],
      ['en-GB', '/?lang=en', 'Use my location', 'Your location is outside Huilongxu Management District, so it was not used. Mark the place on the map, or type the address.'],
    ] as const) {
      const context = await b.newContext({ locale, baseURL: service.url, geolocation: { latitude: 28.19, longitude: 112.97 }, permissions: ['geolocation'] });
      const page = await context.newPage();
      await page.goto(path);
      await page.waitForSelector('#map .leaflet-container, #map.leaflet-container');
      await page.getByRole('button', { name: button }).click();
      await page.waitForFunction(`document.getElementById('geo-status').textContent.length > 0 && !document.getElementById('geo-status').textContent.endsWith('…')`);
      expect(await page.textContent('#geo-status')).toBe(said);
      expect([await page.inputValue('#lat'), await page.inputValue('#lng')]).toEqual(['', '']);
      expect(await page.locator('#map .leaflet-marker-icon').count()).toBe(0);
      expect(await page.isVisible('[data-clear-location]')).toBe(false);
      await context.close();
    }
    // A pin dropped far outside (the map zoomed out to the province) is not taken either.
    {
      const context = await b.newContext({ locale: 'zh-CN', baseURL: service.url });
      const page = await context.newPage();
      await page.goto('/');
      await page.waitForSelector('#map .leaflet-container, #map.leaflet-container');
      for (let i = 0; i < 7; i += 1) await page.click('#map .leaflet-control-zoom-out');
      const box = (await page.locator('#map').boundingBox())!;
      await page.mouse.click(box.x + box.width - 10, box.y + 10);
      await page.waitForFunction(`document.getElementById('geo-status').textContent !== ''`);
      expect(await page.textContent('#geo-status')).toBe('标出的位置不在回龙圩管理区范围内，没有使用。请在回龙圩管理区范围内标注，或填写地址。');
      expect(await page.inputValue('#lat')).toBe('');
      expect(await page.locator('#map .leaflet-marker-icon').count()).toBe(0);
      await context.close();
    }

    // A form that comes with such a point all the same (a page that skipped the check) is sent back without it, saying so.
    const context = await b.newContext({ locale: 'zh-CN', baseURL: service.url });
    const page = await context.newPage();
    await page.goto('/');
    const before = await countCases();
    await page.fill('#text', '神仙洞办事处有个厂子晚上往沟里排黑水（位置在区外）');
    await page.evaluate(`document.getElementById('lat').value = '28.190000'; document.getElementById('lng').value = '112.970000';`);
    await page.click('button[type=submit]');
    await page.waitForSelector('#location-error');
    expect(await page.textContent('#location-error')).toContain('记录的位置不在回龙圩管理区范围内，已去掉');
    expect([await page.inputValue('#lat'), await page.inputValue('#lng')]).toEqual(['', '']);
    expect(await page.inputValue('#text')).toBe('神仙洞办事处有个厂子晚上往沟里排黑水（位置在区外）');
    expect(await countCases()).toBe(before);
    // Sent again, the place comes from the words.
    await page.click('button[type=submit]');
    await page.waitForURL(/\/submitted\//);
    const created = (await findCaseByTrackingCode(service.deps.db, (await page.textContent('#tracking-code'))!.trim()))!;
    expect(created.location).toBeNull();
    await context.close();
  });

  it('removes a location recorded by mistake, pin and all, so the place comes from the words', async () => {
    const b = await browser();
    // Where the resident is (in the forest farm), not where the problem is.
    const context = await b.newContext({ locale: 'zh-CN', baseURL: service.url, geolocation: { latitude: 25.2, longitude: 111.36 }, permissions: ['geolocation'] });
    const page = await context.newPage();
    await page.goto('/');
    await page.waitForSelector('#map .leaflet-container, #map.leaflet-container');
    // Nothing to remove yet.
    expect(await page.isVisible('[data-clear-location]')).toBe(false);
    await page.getByRole('button', { name: '使用我的位置' }).click();
    await page.waitForFunction(`document.getElementById('lat').value !== ''`);
    expect(await page.locator('#map .leaflet-marker-icon').count()).toBe(1);
    await page.getByRole('button', { name: '清除位置' }).click();
    expect([await page.inputValue('#lat'), await page.inputValue('#lng')]).toEqual(['', '']);
    expect(await page.locator('#map .leaflet-marker-icon').count()).toBe(0);
    expect(await page.textContent('#geo-status')).toBe('已清除位置，将按您填写的地址和描述确定地点。');
    expect(await page.isVisible('[data-clear-location]')).toBe(false);
    // The focus is not lost with the button: it is on what sets a place again.
    expect(await page.evaluate(`document.activeElement.hasAttribute('data-geolocate')`)).toBe(true);
    // A pin dropped on the map can be removed the same way.
    const box = (await page.locator('#map').boundingBox())!;
    await page.mouse.click(box.x + box.width / 3, box.y + box.height / 3);
    await page.waitForFunction(`document.getElementById('lat').value !== ''`);
    await page.getByRole('button', { name: '清除位置' }).click();
    expect(await page.inputValue('#lat')).toBe('');

    await page.fill('#text', '神仙洞办事处有个厂子晚上往沟里排黑水（位置已清除）');
    await page.click('button[type=submit]');
    await page.waitForURL(/\/submitted\//);
    const created = (await findCaseByTrackingCode(service.deps.db, (await page.textContent('#tracking-code'))!.trim()))!;
    expect(created.location).toBeNull();
    const placed = await waitFor(async () => {
      const c = await findCase(service.deps.db, created.id);
      return c?.jurisdictionCode ? c : null;
    }, { what: 'the pipeline to place the case' });
    expect(placed.jurisdictionCode).toBe('shenxiandong');
    await context.close();
  });

  it('offers to remove a location that came back with a refused form, in English too', async () => {
    const b = await browser();
    const context = await b.newContext({ locale: 'en-GB', baseURL: service.url, geolocation: { latitude: 25.2, longitude: 111.36 }, permissions: ['geolocation'] });
    const page = await context.newPage();
    await page.goto('/?lang=en');
    await page.getByRole('button', { name: 'Use my location' }).click();
    await page.waitForFunction(`document.getElementById('lat').value !== ''`);
    // Sent without a description: refused, the location kept.
    await page.click('button[type=submit]');
    await page.waitForSelector('#text-error');
    expect(await page.inputValue('#lat')).toBe('25.200000');
    await page.getByRole('button', { name: 'Remove the location' }).click();
    expect(await page.inputValue('#lat')).toBe('');
    expect(await page.textContent('#geo-status')).toBe('Location removed: the place is taken from the address and description you give.');
    await context.close();
  });

  it('works without JavaScript, and an anonymous report keeps no name or phone', async () => {
    const b = await browser();
    const context = await b.newContext({ locale: 'zh-CN', baseURL: service.url, javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto('/');
    // Without the script the map and the location button stay hidden: the address field is the way.
    expect(await page.isVisible('#map')).toBe(false);
    expect(await page.isVisible('[data-geolocate]')).toBe(false);
    await fillReport(page, { text: '神仙洞办事处有养猪场往河里排粪水' });
    // Nothing counts what is typed: the counter's place says the limit, not a count of nothing that stays so.
    expect(await page.textContent('#text-count')).toBe('最多 5000 字');
    await page.check('#anonymous');
    await page.check('#shareContact');
    await page.click('button[type=submit]');
    await page.waitForURL(/\/submitted\//);
    const code = (await page.textContent('#tracking-code'))!.trim();
    const created = (await findCaseByTrackingCode(service.deps.db, code))!;
    expect(created.anonymous).toBe(true);
    expect(await service.deps.db.selectFrom('case_contacts').selectAll().where('case_id', '=', created.id).executeTakeFirst()).toBeUndefined();
    await context.close();
  });

  it('keeps every shot the camera takes with the photos chosen, instead of each replacing the last', async () => {
    const { page, context } = await newPage({ baseURL: service.url });
    await page.goto('/');
    await fillReport(page, { text: '盐下村电镀厂往河里排废水（相机连拍测试）', photo: true });
    for (const name of ['shot-1.jpg', 'shot-2.jpg']) await page.setInputFiles('#camera', { name, mimeType: 'image/jpeg', buffer: JPEG_BYTES });
    expect(await page.$eval('#photos', (el) => [...(el as unknown as { files: Iterable<{ name: string }> }).files].map((f) => f.name))).toEqual(['ditch.jpg', 'shot-1.jpg', 'shot-2.jpg']);
    expect(await page.$eval('#camera', (el) => (el as unknown as { files: { length: number } }).files.length)).toBe(0);
    await page.click('button[type=submit]');
    await page.waitForURL(/\/submitted\//);
    const created = (await findCaseByTrackingCode(service.deps.db, (await page.textContent('#tracking-code'))!.trim()))!;
    const photos = await service.deps.db.selectFrom('case_attachments').select('id').where('case_id', '=', created.id).execute();
    expect(photos).toHaveLength(3);
    await context.close();
  });

  it.each([
    ['phone', '神仙洞办事处有养猪场往河里排粪水（电话栏填了不方便）', '不方便'],
    ['name', '神仙洞办事处有养猪场往河里排粪水（姓名栏写得很长）', `王秀英${'（住在养猪场下游，不想让老板知道是我）'.repeat(3)}`],
  ] as const)('takes an anonymous report whose %s field holds what would not be kept (words that are no number, a name over 50 characters), and still refuses it when not anonymous', async (field, text, value) => {
    const b = await browser();
    const context = await b.newContext({ locale: 'zh-CN', baseURL: service.url, javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto('/');
    await fillReport(page, { text });
    await page.fill(`#${field}`, value);
    await page.click('button[type=submit]');
    // Not anonymous: what it would keep is refused next to its field.
    await page.waitForSelector(`#${field}-error`);
    expect(await page.inputValue(`#${field}`)).toBe(value);
    await page.check('#anonymous');
    await page.click('button[type=submit]');
    await page.waitForURL(/\/submitted\//);
    const created = (await findCaseByTrackingCode(service.deps.db, (await page.textContent('#tracking-code'))!.trim()))!;
    expect(created.anonymous).toBe(true);
    expect(await service.deps.db.selectFrom('case_contacts').selectAll().where('case_id', '=', created.id).executeTakeFirst()).toBeUndefined();
    await context.close();
  });

  it('names the field in an English refusal of a description, name or address too long, in the summary as beside the field, as the Chinese does', async () => {
    const b = await browser();
    const context = await b.newContext({ locale: 'en-US', baseURL: service.url, javaScriptEnabled: false });
    const page = await context.newPage();
    for (const [lang, text, name, address] of [
      ['en', 'The description may be at most 5000 characters; this one is 5001.', 'The name may be at most 50 characters.', 'The address may be at most 300 characters.'],
      ['zh', '问题描述最多 5000 字，现在是 5001 字。', '姓名最多 50 字。', '地址最多 300 字。'],
    ] as const) {
      await page.goto(`/?lang=${lang}`);
      await fillReport(page, { text: '排'.repeat(5001) });
      await page.fill('#name', '王'.repeat(51));
      await page.fill('#address', '桥'.repeat(301));
      const [res] = await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
      expect(res?.status()).toBe(400);
      expect(await page.locator('#form-error li').allTextContents()).toEqual([text, address, name]);
      expect(await page.textContent('#text-error')).toBe(text);
      expect(await page.textContent('#name-error')).toBe(name);
      expect(await page.textContent('#address-error')).toBe(address);
    }
    await context.close();
  });

  it('refuses a file that is not an image, next to the photo field', async () => {
    const before = await countCases();
    const { page, context } = await newPage({ baseURL: service.url });
    await page.goto('/');
    await fillReport(page);
    await page.setInputFiles('#photos', { name: 'photo.jpg', mimeType: 'image/jpeg', buffer: Buffer.from('this is not a picture at all') });
    await page.click('button[type=submit]');
    await page.waitForSelector('#photos-error');
    expect(await page.textContent('#photos-error')).toBe('“photo.jpg”不是可以上传的图片：只能上传 JPEG、PNG、WebP、GIF、HEIC 或 AVIF 格式的图片。');
    expect(await page.getAttribute('#photos', 'aria-invalid')).toBe('true');
    expect(await page.inputValue('#text')).toBe(REPORT_TEXT);
    // Of several photos, the one that is no image is named (a video from the phone's gallery); an iPhone's HEIC is taken.
    await page.goto('/?lang=en');
    await fillReport(page);
    await page.setInputFiles('#photos', [
      { name: 'IMG_0001.HEIC', mimeType: '', buffer: HEIC_WITH_EXIF },
      { name: 'IMG_0002.MOV', mimeType: 'video/quicktime', buffer: Buffer.from('\0\0\0\x14ftypqt  \0\0\0\0qt  ', 'latin1') },
    ]);
    await page.click('button[type=submit]');
    await page.waitForSelector('#photos-error');
    expect(await page.textContent('#photos-error')).toBe('"IMG_0002.MOV" is not an image that can be sent: only JPEG, PNG, WebP, GIF, HEIC or AVIF images.');
    expect(await countCases()).toBe(before);
    await page.setInputFiles('#photos', { name: 'IMG_0001.HEIC', mimeType: '', buffer: HEIC_WITH_EXIF });
    await Promise.all([page.waitForURL(/\/submitted\//), page.click('button[type=submit]')]);
    expect(await countCases()).toBe(before + 1);
    await context.close();
  });

  it('names a photo over 10 MB sent without the page script, with its size, keeping what was typed', async () => {
    const before = await countCases();
    const b = await browser();
    const context = await b.newContext({ locale: 'zh-CN', baseURL: service.url, javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto('/');
    await fillReport(page);
    const dir = tempDir();
    await page.setInputFiles('#photos', [photoFile('ditch.jpg', undefined, dir), photoFile('IMG_2044.jpg', 12 * MB, dir)]);
    const [res] = await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    expect(res?.status()).toBe(400);
    expect(await page.textContent('#photos-error')).toBe('照片“IMG_2044.jpg”有 12.0 MB，每张照片不能超过 10 MB，请换一张或缩小后再选。');
    expect(await page.inputValue('#text')).toBe(REPORT_TEXT);
    expect(await countCases()).toBe(before);
    await context.close();
  });

  it('brings the form back as typed, saying how large the photos were and what a report carries, when over 51 MB of them is sent without the page script', async () => {
    const before = await countCases();
    const b = await browser();
    const context = await b.newContext({ locale: 'zh-CN', baseURL: service.url, javaScriptEnabled: false });
    const page = await context.newPage();
    // Five photos of 11 MB: over what the body of a form may be (5 × 10 MB and 1 MB of text), not only over each photo's limit.
    const dir = tempDir();
    const photos = Array.from({ length: 5 }, (_, i) => photoFile(`IMG_30${i}.jpg`, 11 * MB, dir));
    for (const [path, words] of [
      ['/', '所选的 5 张照片共 55.0 MB，超过了一件举报能带的照片（最多 5 张，每张不超过 10 MB），所以没有提交。您填写的内容已保留，请少选几张或换成较小的照片后再提交。'],
      ['/?lang=en', 'The photos chosen (5, 55.0 MB in all) are more than a report can carry (at most 5 photos of at most 10 MB each), so nothing was sent. What you typed is kept: choose fewer or smaller photos and send it again.'],
    ] as const) {
      await page.goto(path);
      await fillReport(page);
      await page.check('#anonymous');
      await page.setInputFiles('#photos', photos);
      const [res] = await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
      expect(res?.status()).toBe(413);
      expect(await page.textContent('#photos-error')).toBe(words);
      expect(await page.textContent('#form-error a[href="#photos"]')).toBe(words);
      // Everything typed, before the photos in the form and after them, is there to send again.
      expect(await page.inputValue('#text')).toBe(REPORT_TEXT);
      expect(await page.inputValue('#address')).toBe('电镀厂后门桥下的水沟');
      expect(await page.inputValue('#name')).toBe(REPORTER_NAME);
      expect(await page.inputValue('#phone')).toBe(REPORTER_PHONE);
      expect(await page.isChecked('#anonymous')).toBe(true);
      expect(await countCases()).toBe(before);
    }
    // With one photo of a size a report carries, the same form goes.
    await page.setInputFiles('#photos', { name: 'ditch.jpg', mimeType: 'image/jpeg', buffer: JPEG_BYTES });
    await Promise.all([page.waitForURL(/\/submitted\//), page.click('button[type=submit]')]);
    const created = (await findCaseByTrackingCode(service.deps.db, (await page.textContent('#tracking-code'))!.trim()))!;
    expect(created.text).toBe(REPORT_TEXT);
    expect(created.anonymous).toBe(true);
    await context.close();
  });

  it('brings a form sent chunked, without its length, back as typed when over 51 MB, as one that declares its length; a chunked form within the limit is taken', async () => {
    const before = await countCases();
    const opened = await fetch(`${service.url}/`, { headers: { accept: 'text/html' } });
    await opened.arrayBuffer();
    const token = /csrf=([A-Za-z0-9_-]{43})/.exec(opened.headers.get('set-cookie') ?? '')![1]!;
    const boundary = '----WebKitFormBoundaryChunked7Qx';
    const part = (headers: string, body: Buffer | string) => [Buffer.from(`--${boundary}\r\n${headers}\r\n\r\n`), Buffer.from(body), Buffer.from('\r\n')];
    const formOf = (photos: Buffer[]) =>
      Buffer.concat([
        ...part('Content-Disposition: form-data; name="_csrf"', token),
        ...part('Content-Disposition: form-data; name="text"', REPORT_TEXT),
        ...photos.flatMap((photo, i) => part(`Content-Disposition: form-data; name="photos"; filename="IMG_50${i}.jpg"\r\nContent-Type: image/jpeg`, photo)),
        ...part('Content-Disposition: form-data; name="address"', '电镀厂后门桥下的水沟'),
        ...part('Content-Disposition: form-data; name="anonymous"', 'on'),
        Buffer.from(`--${boundary}--\r\n`),
      ]);
    /** Sent as a stream of 64 KB chunks: fetch gives no Content-Length and sends it chunked. */
    const sendChunked = (body: Buffer) =>
      fetch(`${service.url}/`, {
        method: 'POST',
        headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, cookie: `csrf=${token}`, accept: 'text/html' },
        body: new ReadableStream<Uint8Array>({
          start(controller) {
            for (let at = 0; at < body.length; at += 64 * 1024) controller.enqueue(new Uint8Array(body.subarray(at, at + 64 * 1024)));
            controller.close();
          },
        }),
        duplex: 'half',
        redirect: 'manual',
      } as RequestInit);
    // Five photos of 11 MB: over what the body of a form may be (5 × 10 MB and 1 MB of text).
    const big = Buffer.concat([JPEG_BYTES, Buffer.alloc(11 * 1024 * 1024 - JPEG_BYTES.length)]);
    const res = await sendChunked(formOf(Array.from({ length: 5 }, () => big)));
    const html = await res.text();
    expect(res.status, html.slice(0, 300)).toBe(413);
    expect(html).toContain('所选的 5 张照片共 55.0 MB，超过了一件举报能带的照片（最多 5 张，每张不超过 10 MB），所以没有提交。');
    expect(html).toContain(`${REPORT_TEXT}</textarea>`);
    expect(html).toContain('id="address" name="address" value="电镀厂后门桥下的水沟"');
    expect(html).toMatch(/id="anonymous" name="anonymous" value="on" checked/);
    expect(await countCases()).toBe(before);
    // The same form with one photo a report carries, chunked too, is read whole and filed.
    const taken = await sendChunked(formOf([JPEG_BYTES]));
    await taken.arrayBuffer();
    expect(taken.status).toBe(303);
    expect(taken.headers.get('location')).toMatch(/^\/submitted\/[A-Z0-9]{10}$/);
    expect(await countCases()).toBe(before + 1);
  });

  it('says too many photos or one too large next to the photo field before sending, keeping what was typed', async () => {
    const before = await countCases();
    const { page, context } = await newPage({ baseURL: service.url });
    const posts: string[] = [];
    page.on('request', (r) => {
      if (r.method() === 'POST') posts.push(r.url());
    });
    await page.goto('/');
    await fillReport(page);
    await page.setInputFiles('#photos', Array.from({ length: 6 }, (_, i) => ({ name: `p${i}.jpg`, mimeType: 'image/jpeg', buffer: JPEG_BYTES })));
    await page.click('button[type=submit]');
    expect(await page.textContent('#photos-error')).toBe('最多上传 5 张照片。');
    expect(await page.getAttribute('#photos', 'aria-invalid')).toBe('true');
    expect(await page.getAttribute('#photos', 'aria-describedby')).toContain('photos-error');
    // One over 10 MB: five of them would make a form the service refuses whole, with nothing typed coming back.
    await page.setInputFiles('#photos', photoFile('big.jpg', 11 * MB));
    expect(await page.$('#photos-error')).toBeNull();
    await page.click('button[type=submit]');
    // Named, with its size: of the photos chosen, the resident learns which one to change.
    expect(await page.textContent('#photos-error')).toBe('照片“big.jpg”有 11.0 MB，每张照片不能超过 10 MB，请换一张或缩小后再选。');
    expect(await page.isEnabled('button[type=submit]')).toBe(true);
    expect(posts).toEqual([]);
    expect(await page.inputValue('#text')).toBe(REPORT_TEXT);
    expect(await page.inputValue('#phone')).toBe(REPORTER_PHONE);
    expect(await countCases()).toBe(before);
    // Chosen again within the limits, the report goes.
    await page.setInputFiles('#photos', { name: 'ditch.jpg', mimeType: 'image/jpeg', buffer: JPEG_BYTES });
    await Promise.all([page.waitForURL(/\/submitted\//), page.click('button[type=submit]')]);
    expect(await countCases()).toBe(before + 1);
    await context.close();
  });

  it("draws the photo pickers in the page's language, not the browser's, and says what was chosen", async () => {
    // A browser set to English on the Chinese page, and the other way round.
    for (const [locale, path, choose, none, two] of [
      ['en-US', '/?lang=zh', '选择照片', '未选择照片', '已选择 2 张照片'],
      ['zh-CN', '/?lang=en', 'Choose photos', 'No photo chosen', '2 photos chosen'],
    ] as const) {
      const { page, context } = await newPage({ baseURL: service.url, locale });
      await page.goto(path);
      const face = page.locator('#photos ~ [data-file-face]');
      expect(await face.textContent()).toBe(choose);
      expect(await page.textContent('#photos-chosen')).toBe(none);
      // The browser's own control, which would speak its own language, is out of sight.
      expect(await page.locator('#photos').boundingBox()).toMatchObject({ width: 1, height: 1 });
      // The face opens the file chooser, as the control does.
      const [chooser] = await Promise.all([page.waitForEvent('filechooser'), face.click()]);
      await chooser.setFiles({ name: 'ditch.jpg', mimeType: 'image/jpeg', buffer: JPEG_BYTES });
      expect(await page.textContent('#photos-chosen')).toBe('ditch.jpg');
      await page.setInputFiles('#photos', [
        { name: 'a.jpg', mimeType: 'image/jpeg', buffer: JPEG_BYTES },
        { name: 'b.jpg', mimeType: 'image/jpeg', buffer: JPEG_BYTES },
      ]);
      expect(await page.textContent('#photos-chosen')).toBe(two);
      expect(await page.getAttribute('#photos', 'aria-describedby')).toContain('photos-chosen');
      expect(await page.textContent('#camera ~ [data-file-face]')).toBe(locale === 'en-US' ? '拍照' : 'Take a photo');
      // The input keeps its one label, the field's: the face is no second name for it.
      expect(await page.$eval('#photos', (el) => (el as unknown as { labels: unknown[] }).labels.length)).toBe(1);
      await context.close();
    }
  });

  it('labels every field of the report and rating forms', async () => {
    const seeded = await seedCase(service, clock);
    await replyToAll(seeded.id, '已处理');
    const { page, context } = await newPage({ baseURL: service.url });
    const unlabelled = `Array.from(document.querySelectorAll('input:not([type=hidden]), textarea, select'))
      .filter((el) => !el.labels || el.labels.length === 0).map((el) => el.id || el.name)`;
    for (const path of ['/', '/track', `/track/${seeded.trackingCode}`]) {
      await page.goto(path);
      expect(await page.evaluate(unlabelled), path).toEqual([]);
    }
    expect(await page.$('#rate-form')).not.toBeNull();
    await context.close();
  });

  it('opens a refused rating on what to correct, which a phone shows far below the top of the page, and keeps a long comment whole', async () => {
    clock.set('2026-11-02T02:00:00.000Z');
    const seeded = await seedCase(service, clock);
    clock.set('2026-11-03T02:00:00.000Z');
    await replyToAll(seeded.id, '已到现场查看，已责令整改');
    const b = await browser();
    const context = await b.newContext({ viewport: { width: 375, height: 740 }, locale: 'zh-CN', baseURL: service.url, isMobile: true });
    const page = await context.newPage();
    await page.goto(`/track/${seeded.trackingCode}`);
    await page.check('#solved-yes');
    // A comment pasted longer than the limit: the browser keeps it all, the page refuses it and gives it back whole.
    const comment = `${'晚上还在排，'.repeat(100)}请再去看看`;
    await page.focus('#comment');
    await page.keyboard.insertText(comment);
    expect(await page.inputValue('#comment')).toBe(comment);
    const refused = page.waitForResponse((r) => r.request().method() === 'POST');
    await page.click('#rate-form button[type=submit]');
    expect((await refused).status()).toBe(400);
    await page.waitForSelector('#rating-error');
    await page.waitForLoadState('load');
    // The page opens on the message, not at its top screens away from it.
    expect(await page.evaluate('document.activeElement && document.activeElement.id')).toBe('rate-error');
    expect(await page.title()).toBe(`错误：举报办理进度 ${seeded.trackingCode} · 环境问题举报`);
    const box = (await page.locator('#rate-error').boundingBox())!;
    expect(box.y).toBeGreaterThanOrEqual(0);
    expect(box.y + box.height).toBeLessThanOrEqual(740);
    expect(await page.textContent('#comment-error')).toBe('意见最多 500 字。');
    expect(await page.inputValue('#comment')).toBe(comment);
    expect(await page.isChecked('#solved-yes')).toBe(true);

    // Rated meanwhile in another tab: the refusal, at the top of the page, is where the page opens too.
    await rateCase(service.deps, { trackingCode: seeded.trackingCode, rating: 'satisfied', solved: true, channel: 'web' });
    await page.check('#rating-basic');
    await page.fill('#comment', '');
    await page.click('#rate-form button[type=submit]');
    await page.waitForSelector('#case-alert');
    await page.waitForLoadState('load');
    expect(await page.evaluate('document.activeElement && document.activeElement.id')).toBe('case-alert');
    expect(await page.textContent('#case-alert')).toContain('已经评价过了');
    await context.close();
  });

  it('keeps an address, a name and a phone pasted longer than their limits whole, and refuses them naming each field', async () => {
    const before = await countCases();
    const { page, context } = await newPage({ baseURL: service.url });
    await page.goto('/');
    await fillReport(page);
    const address = `${'兴隆办事处盐下村三组'.repeat(30)}桥下`;
    const name = '王'.repeat(51);
    const phone = '0731-88886666转123（工作日上午九点到下午五点）';
    for (const [id, value] of [['#address', address], ['#name', name], ['#phone', phone]] as const) {
      await page.fill(id, '');
      await page.focus(id);
      await page.keyboard.insertText(value);
      expect(await page.inputValue(id)).toBe(value);
    }
    const refused = page.waitForResponse((r) => r.request().method() === 'POST');
    await page.click('button[type=submit]');
    expect((await refused).status()).toBe(400);
    await page.waitForSelector('#address-error');
    expect(await page.textContent('#address-error')).toBe('地址最多 300 字。');
    expect(await page.textContent('#name-error')).toBe('姓名最多 50 字。');
    expect(await page.textContent('#phone-error')).toContain('请填写正确的电话号码');
    expect(await page.inputValue('#address')).toBe(address);
    expect(await page.inputValue('#name')).toBe(name);
    expect(await page.inputValue('#phone')).toBe(phone);
    expect(await countCases()).toBe(before);
    await context.close();
  });

  it('keeps a text pasted longer than the limit whole, counts it red, and refuses it saying how long it is; an emoji counts once', async () => {
    const before = await countCases();
    const { page, context } = await newPage({ baseURL: service.url });
    await page.goto('/');
    await fillReport(page, { text: '' });
    // Pasted (typed text goes in the same way): its end, where the place is, must not be cut off unseen.
    const text = `${'臭'.repeat(5000)}地点在盐下村桥下`;
    await page.focus('#text');
    await page.keyboard.insertText(text);
    expect(await page.inputValue('#text')).toBe(text);
    expect(await page.textContent('#text-count')).toContain('5008 / 5000');
    expect(await page.getAttribute('#text-count', 'class')).toContain('field-error');
    const refused = page.waitForResponse((r) => r.request().method() === 'POST');
    await page.click('button[type=submit]');
    expect((await refused).status()).toBe(400);
    await page.waitForSelector('#text-error');
    expect(await page.textContent('#text-error')).toBe('问题描述最多 5000 字，现在是 5008 字。');
    expect(await page.inputValue('#text')).toBe(text);
    expect(await page.getAttribute('#text-count', 'class')).toContain('field-error');
    expect(await countCases()).toBe(before);

    // 3,000 emoji are 3,000 characters to the counter and the service (a browser's maxlength counts each as two).
    const faces = `${REPORT_TEXT}${'😡'.repeat(3000)}`;
    await page.fill('#text', '');
    await page.focus('#text');
    await page.keyboard.insertText(faces);
    expect(await page.inputValue('#text')).toBe(faces);
    await page.click('button[type=submit]');
    await page.waitForURL(/\/submitted\//);
    const created = (await findCaseByTrackingCode(service.deps.db, (await page.textContent('#tracking-code'))!.trim()))!;
    expect(created.text).toBe(faces);
    await context.close();
  });

  it("marks the words people wrote in the other language, so that a screen reader reads the bureau's Chinese reply on the English page in Chinese", async () => {
    const seeded = await seedCase(service, clock);
    // A public progress note in the bureau's own words on the way.
    const epb = client(service.url, await tokenOf('epb'));
    expect((await json(epb.post(`/api/v1/cases/${seeded.id}/accept`))).status).toBe(200);
    const progress = await json(epb.post(`/api/v1/cases/${seeded.id}/progress`, { note: '已约谈企业负责人', public: true }));
    expect(progress.status, JSON.stringify(progress.body)).toBe(200);
    const assignments = await listAssignments(service.deps.db, seeded.id);
    for (const a of [...assignments.filter((x) => x.role !== 'lead'), ...assignments.filter((x) => x.role === 'lead')]) {
      const unit = client(service.url, await tokenOf(a.unitCode));
      if (a.role !== 'lead') expect((await json(unit.post(`/api/v1/cases/${seeded.id}/accept`))).status).toBe(200);
      const replied = await json(unit.post(`/api/v1/cases/${seeded.id}/reply`, { text: a.role === 'lead' ? '已到现场核查，责令停产整改' : '已配合' }));
      expect(replied.status, JSON.stringify(replied.body)).toBe(200);
    }
    const { page, context } = await newPage({ baseURL: service.url });
    await page.goto(`/track/${seeded.trackingCode}?lang=en`);
    expect(await page.getAttribute('html', 'lang')).toBe('en');
    expect(await page.getAttribute('#case-reply', 'lang')).toBe('zh-CN');
    // The note too; the notes the page says in English itself are not marked.
    const notes = await page.$$eval('#timeline li span', (spans) => spans.map((s) => [s.textContent, s.getAttribute('lang')]));
    expect(notes).toContainEqual(['已约谈企业负责人', 'zh-CN']);
    expect(notes).toContainEqual(['Answered: please rate the handling', null]);
    await page.goto(`/track/${seeded.trackingCode}?lang=zh`);
    expect(await page.getAttribute('#case-reply', 'lang')).toBeNull();
    await context.close();
  });

  it("says the type is to be decided while a dispatcher decides it, not the classifier's unsure guess", async () => {
    const unsure = await seedCase(service, clock, { status: 'triage', type: 'noise', confidence: 0.31, text: '养猪场每天晚上把猪粪冲进河里' });
    const { page, context } = await newPage({ baseURL: service.url });
    await page.goto(`/track/${unsure.trackingCode}`);
    expect(await page.getAttribute('#case-status', 'data-status')).toBe('triage');
    expect(await page.textContent('#case-type')).toBe('待定');
    await page.goto(`/track/${unsure.trackingCode}?lang=en`);
    expect(await page.textContent('#case-type')).toBe('to be decided');
    // A resident's app reads the same from the API: no type yet, not the guess.
    const track = async (code: string) => ((await json(fetch(`${service.url}/api/v1/track/${code}`))).body as { type: unknown; mergedCase: { type: unknown } | null });
    expect((await track(unsure.trackingCode)).type).toBeNull();
    // Nor for a report merged from triage, whose own guess was never decided; the case it joined has its type.
    const guessedOther = await seedCase(service, clock, { status: 'triage', type: 'other', confidence: 0.28, text: '村口那条沟里的水发黑发臭' });
    const into = await seedCase(service, clock);
    const merged = await json(client(service.url, staff.dispatcher).post(`/api/v1/cases/${guessedOther.id}/merge`, { into: into.id, reason: '重复举报' }));
    expect(merged.status, JSON.stringify(merged.body)).toBe(200);
    expect(await track(guessedOther.trackingCode)).toMatchObject({ type: null, mergedCase: { type: { code: 'illegal_discharge', name: '非法排放有毒有害污染物' } } });
    // Once a dispatcher routed it, the type is the one decided.
    const routed = await json(client(service.url, staff.dispatcher).post(`/api/v1/cases/${unsure.id}/route`, { type: 'livestock_waste', reason: '养殖污染' }));
    expect(routed.status, JSON.stringify(routed.body)).toBe(200);
    await page.goto(`/track/${unsure.trackingCode}?lang=zh`);
    expect(await page.textContent('#case-type')).toBe('畜禽养殖污染');
    expect((await track(unsure.trackingCode)).type).toEqual({ code: 'livestock_waste', name: '畜禽养殖污染' });
    await context.close();
  });

  it("says the timeline in English on the English page, with the units' English names", async () => {
    const seeded = await seedCase(service, clock);
    await replyToAll(seeded.id, '已处理');
    const zh = await (await fetch(`${service.url}/track/${seeded.trackingCode}`)).text();
    expect(zh).toContain('已签收');
    const en = await (await fetch(`${service.url}/track/${seeded.trackingCode}?lang=en`)).text();
    const timeline = /<ol class="timeline" id="timeline">([\s\S]*?)<\/ol>/.exec(en)![1]!;
    expect(timeline).toContain('signed for it');
    expect(timeline).toContain('Answered: please rate the handling');
    expect(timeline.match(/[^<>]*\p{Script=Han}[^<>]*/gu) ?? []).toEqual([]);
  });

  it('says the rating and the error pages in the English of the English page', async () => {
    const seeded = await seedCase(service, clock);
    await replyToAll(seeded.id, '已处理');
    await rateCase(service.deps, { trackingCode: seeded.trackingCode, rating: 'basic', solved: false, channel: 'web' });
    const han = (html: string) => html.replace(/<[^>]+>/g, '\n').split('\n').filter((l) => /[\p{Script=Han}\uff08\uff09\uff1a]/u.test(l) && l.trim() !== '中文');
    const tracked = await (await fetch(`${service.url}/track/${seeded.trackingCode}?lang=en`)).text();
    expect(/<p id="case-rating">([\s\S]*?)<\/p>/.exec(tracked)![1]!.replace(/<!-- -->/g, '')).toMatch(/^Your rating: Basically satisfied \(problem not solved\) · /);
    // The bureau's own words stay as written; everything the page says itself is English.
    expect(han(tracked.replace(/<div class="reply" id="case-reply"[^>]*>[\s\S]*?<\/div>/, ''))).toEqual([]);
    const zh = await (await fetch(`${service.url}/track/${seeded.trackingCode}?lang=zh`)).text();
    expect(/<p id="case-rating">([\s\S]*?)<\/p>/.exec(zh)![1]!.replace(/<!-- -->/g, '')).toMatch(/^您的评价：基本满意（问题未解决） · /);

    // A mistyped address: a sentence for people, not the API's words.
    const missing = await fetch(`${service.url}/no-such-page?lang=en`, { headers: { accept: 'text/html' } });
    expect(missing.status).toBe(404);
    const missingHtml = await missing.text();
    expect(missingHtml).toContain('The page or record was not found.');
    expect(missingHtml).not.toContain('no route');
    // The way back is a plain link to the page of this site the visitor came from (it works without scripts); none from elsewhere.
    expect(missingHtml).not.toContain('javascript:');
    expect(missingHtml).not.toContain('id="error-back"');
    const fromForm = await (await fetch(`${service.url}/no-such-page?lang=en`, { headers: { accept: 'text/html', referer: `${service.url}/track?lang=en` } })).text();
    expect(fromForm).toContain('<a href="/track?lang=en" id="error-back">Go back</a>');
    const fromAfar = await (await fetch(`${service.url}/no-such-page?lang=en`, { headers: { accept: 'text/html', referer: 'https://elsewhere.example/track' } })).text();
    expect(fromAfar).not.toContain('id="error-back"');
    // A page of this site whose path starts with two slashes: the way back stays on this site, never `//elsewhere.example/…`,
    // which a browser reads as another site.
    for (const path of ['//elsewhere.example/track', '/\\elsewhere.example/track']) {
      const odd = await (await fetch(`${service.url}/no-such-page?lang=en`, { headers: { accept: 'text/html', referer: `${service.url}${path}` } })).text();
      const back = /<a href="([^"]*)" id="error-back">/.exec(odd)?.[1];
      if (back !== undefined) expect(back, path).toMatch(/^\/(?![/\\])/);
    }
  });

  it('answers a fault of the service on a page with an error page in the page’s language, not the API’s JSON', async () => {
    // A service of its own: its database loses a table the tracking page reads.
    const broken = await startWorkflowService('web-resident-fault', {});
    const seeded = await seedCase(broken.service, broken.clock);
    await sql`DROP TABLE ratings`.execute(broken.service.deps.db);
    for (const [lang, title, message] of [
      ['zh', '服务暂时出错', '服务暂时出现问题'],
      ['en', 'Something went wrong', 'The service ran into a problem'],
    ] as const) {
      const { page, context } = await newPage({ baseURL: broken.service.url });
      const res = await page.goto(`/track/${seeded.trackingCode}?lang=${lang}`);
      expect(res?.status()).toBe(500);
      expect(res?.headers()['content-type']).toContain('text/html');
      expect(res?.headers()['cache-control']).toBe('no-store');
      expect(await page.textContent('h1')).toBe(title);
      expect(await page.textContent('#error-message')).toContain(message);
      expect(await page.textContent('#request-id')).toBe(res?.headers()['x-request-id']);
      await context.close();
    }
    // The API still answers its clients in JSON.
    const api = await fetch(`${broken.service.url}/api/v1/track/${seeded.trackingCode}`);
    expect(api.status).toBe(500);
    expect(((await api.json()) as { error: { code: string } }).error.code).toBe('internal');
  });

  it('keeps every page with a form token or a case, and the case in JSON, out of caches', async () => {
    const seeded = await seedCase(service, clock);
    for (const path of ['/', '/track', `/track/${seeded.trackingCode}`, `/submitted/${seeded.trackingCode}`, '/track/AAAAAAAAAA', `/api/v1/track/${seeded.trackingCode}`]) {
      const res = await fetch(`${service.url}${path}`, { headers: { accept: 'text/html' } });
      await res.body?.cancel();
      expect(res.headers.get('cache-control'), path).toBe('no-store');
    }
  });

  it('fits a 375 px wide phone screen on every resident page', async () => {
    const seeded = await seedCase(service, clock);
    await replyToAll(seeded.id, '已处理');
    const b = await browser();
    const context = await b.newContext({ viewport: { width: 375, height: 740 }, locale: 'zh-CN', baseURL: service.url, isMobile: true });
    const page = await context.newPage();
    for (const path of ['/', '/track', `/track/${seeded.trackingCode}`, `/submitted/${seeded.trackingCode}`, '/track/AAAAAAAAAA', '/?lang=en', `/track/${seeded.trackingCode}?lang=en`]) {
      await page.goto(path);
      const width = (await page.evaluate('document.documentElement.scrollWidth')) as number;
      expect(width, path).toBeLessThanOrEqual(375);
    }
    await context.close();
  });
});

describe('timeline notes in English', () => {
  it.each([
    ['已受理', 'Received'],
    ['待人工分派', 'Waiting for a dispatcher to assign it'],
    ['已派发至区环保局办理', 'Sent to District Environmental Protection Bureau'],
    ['已重新派发至区环保局办理', 'Sent again, to District Environmental Protection Bureau'],
    ['区环保局已签收', 'District Environmental Protection Bureau signed for it'],
    ['承办单位退回，待重新分派', 'Returned by the bureau; waiting to be assigned again'],
    ['已督办', 'Supervised: the bureau was pressed to act'],
    ['已答复，请评价办理结果', 'Answered: please rate the handling'],
    ['评价：基本满意（已解决），办结', 'Rated basically satisfied (solved); closed'],
    ['评价：不满意（未解决），已退回区环保局重新办理', 'Rated dissatisfied (not solved): handed back to District Environmental Protection Bureau'],
    ['回访期满未评价，办结', 'Closed: not rated within the rating period'],
    ['已与反映同一问题的案件合并办理，请继续以本查询码查询进展', 'Handled together with another report of the same problem: follow it here, with this code'],
    ['与案件 K7M3QXT9AD 合并办理', 'Handled together with case K7M3QXT9AD'],
    ['已撤销合并，待重新分派', 'No longer handled together with another report: waiting to be assigned on its own'],
    ['已撤销转办，待重新分派', 'An environmental matter after all: no longer handed over, waiting to be assigned'],
    ['与案件 K7M3QXT9AD 合并办理，请以该编号查询进展', 'Handled together with case K7M3QXT9AD'],
    ['非环境类诉求，已转区12345热线', 'Not an environmental matter: passed to District 12345 Citizen Hotline'],
    ['已到现场核查，正在整改', '已到现场核查，正在整改'],
  ])('%s', (zh, en) => {
    const district = loadDistrictFile(undefined);
    expect(district.units.get('epb')?.name.en).toBe('District Environmental Protection Bureau');
    expect(timelineNote('en', zh, district)).toEqual(en);
    expect(timelineNote('zh', zh, district)).toBe(zh);
  });
});

describe('the day a deadline was extended to', () => {
  it('is said as the pages say dates, in either language, whatever the time zone of the service', () => {
    const district = loadDistrictFile(undefined);
    expect(timelineNote('zh', '办理期限延长至2026-12-07', district)).toBe('办理期限延长至2026年12月7日');
    expect(timelineNote('en', '办理期限延长至2026-12-07', district)).toBe('Deadline extended to 7 Dec 2026');
    // A bureau's own words that happen to start alike stay as written.
    expect(timelineNote('zh', '办理期限延长至2026-12-07前完成整改', district)).toBe('办理期限延长至2026-12-07前完成整改');
  });
});

describe('map settings', () => {
  it('reads the tile template and the centre, and names a bad one', () => {
    const env = parseEnv({ MAP_TILE_URL: 'https://tiles.example/{z}/{x}/{y}.png', MAP_CENTER: '25.17, 111.33, 14' });
    expect(env.MAP_TILE_URL).toBe('https://tiles.example/{z}/{x}/{y}.png');
    expect(env.MAP_CENTER).toEqual({ lat: 25.17, lng: 111.33, zoom: 14 });
    expect(parseEnv({ MAP_CENTER: '25.17,111.33' }).MAP_CENTER).toEqual({ lat: 25.17, lng: 111.33, zoom: null });
    expect(parseEnv({}).MAP_TILE_URL).toBeUndefined();
    try {
      parseEnv({ MAP_TILE_URL: 'https://tiles.example/tile.png', MAP_CENTER: '95,111' });
      expect.unreachable('a bad map setting must stop the start');
    } catch (err) {
      expect(err).toBeInstanceOf(EnvError);
      expect((err as EnvError).problems.map((p) => p.variable).sort()).toEqual(['MAP_CENTER', 'MAP_TILE_URL']);
    }
  });
});

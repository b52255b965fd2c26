import { readFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { listAssignments } from '../db/repositories/assignments.repository.js';
import { findCase } from '../db/repositories/cases.repository.js';
import type { Principal } from '../src/auth/principal.js';
import { caseReference } from '../src/domain/case.js';
import { acceptAssignment, replyAssignment, requestExtension, returnAssignment } from '../src/workflow/bureau.js';
import { timelineNote } from '../handlers/pages/resident-labels.js';
import { rateCase } from '../src/workflow/feedback.js';
import { checkDeadlines } from '../src/workflow/deadline-check.js';
import { browser, newPage } from './browser.js';
import { SESSION_IDLE_MS } from '../src/web/session.js';
import { formatTime } from '../src/web/i18n.js';
import { browserDrafts, formClient, signIn, signInHere, startStaffWebService, type WebStaff } from './web-staff-helpers.js';
import { client, notificationsOf, seedCase, submitReport } from './workflow-helpers.js';

let web: WebStaff;
let base: string;

beforeAll(async () => {
  web = await startStaffWebService('web-desk');
  base = web.service.url;
}, 60_000);

let address = 0;
const fromNewAddress = () => ({ 'x-forwarded-for': `10.2.0.${++address}` });

function epbClerk(): Principal {
  return { userId: web.userIds.epb!, name: '环保局张三', role: 'bureau', unitCode: 'epb', tokenId: 'test' };
}

function econClerk(): Principal {
  return { userId: web.userIds.econ!, name: '经信委王五', role: 'bureau', unitCode: 'econ', tokenId: 'test' };
}

/** The refusal a case page shows at its top. */
const actionProblem = (html: string) => /<p[^>]*id="action-problem"[^>]*>([^<]*)<\/p>/.exec(html)?.[1] ?? '';

const leadOf = async (caseId: string) =>
  (await listAssignments(web.service.deps.db, caseId)).filter((a) => a.role === 'lead' && a.status !== 'released' && a.status !== 'returned').map((a) => a.unitCode);


/** The hidden fields of a form's HTML, as the browser sends them. */
function hiddenFields(form: string): Record<string, string> {
  return Object.fromEntries([...form.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)].map((m) => [m[1]!, m[2]!.replaceAll('&amp;', '&')]));
}

/** The hidden fields of the first form posting to `action` on the page. */
function formFields(html: string, action: string): Record<string, string> {
  const form = new RegExp(`<form method="post" action="${action}"[\\s\\S]*?</form>`).exec(html)?.[0] ?? '';
  expect(form, action).not.toBe('');
  return hiddenFields(form);
}

describe('dispatcher desk', () => {
  it('finds a case by the tracking code a resident reads out or the reference a bureau gives, typed any way', async () => {
    const seeded = await seedCase(web.service, web.clock, { text: '盐下村电镀厂排污（查找测试）', assignments: [{ unit: 'epb', role: 'lead' }] });
    const desk = formClient(base, fromNewAddress());
    await desk.signIn('dispatcher');
    const reference = caseReference(seeded.id);
    const fullWidth = (s: string) => [...s].map((ch) => (ch === '-' ? '－' : String.fromCharCode(ch.charCodeAt(0) + 0xfee0))).join('');
    const typedWays = [
      seeded.trackingCode,
      seeded.trackingCode.toLowerCase(),
      `查询码：${seeded.trackingCode}`,
      `${base}/track/${seeded.trackingCode}`,
      reference,
      ` ${reference.replaceAll('-', '').toLowerCase()} `,
      // As a bureau copies it from its group post or inbox, types it with a Chinese input method, or a phone's dash.
      `工单号：${reference}`,
      `Case ref: ${reference}`,
      fullWidth(reference),
      reference.replaceAll('-', '\u2013'),
    ];
    for (const typed of typedWays) {
      const res = await desk.get(`/desk/find?q=${encodeURIComponent(typed)}`);
      expect(res.status, typed).toBe(303);
      expect(res.headers.get('location'), typed).toBe(`/desk/cases/${seeded.id}`);
    }
    // The box holds a whole tracking link as a browser pastes it (a longer value would be cut at maxlength, and the code with it).
    const boxHtml = await (await desk.get('/desk')).text();
    const maxlength = Number(/<input id="find-q"[^>]*maxlength="(\d+)"/.exec(boxHtml)?.[1]);
    expect(maxlength).toBeGreaterThanOrEqual('https://huilongxu.yongzhou.example.gov.cn/track/K7M3QXT9AD?lang=en'.length);
    const page = await (await desk.get(`/desk/cases/${seeded.id}`)).text();
    expect(page).toContain(reference);
    expect(page).toContain(seeded.trackingCode);
    // Nothing found, or nothing typed: the desk again, with the problem next to the box and what was typed kept.
    const missing = await desk.get('/desk/find?q=0000-0000-0000');
    expect(missing.status).toBe(404);
    const html = await missing.text();
    expect(html).toContain('没有这个查询码或工单号的案件。');
    expect(html).toContain('value="0000-0000-0000"');
    expect((await desk.get('/desk/find?q=')).status).toBe(400);
    // What no code holds (a NUL, as a copy can carry): refused naming the box, what can be read of it kept.
    const garbled = await desk.get(`/desk/find?q=${encodeURIComponent(`${reference}\u0000`)}`);
    expect(garbled.status).toBe(400);
    const garbledPage = await garbled.text();
    expect(garbledPage).toContain('含有无法识别的字符');
    expect(garbledPage).toContain(`value="${reference}"`);
    // A tracking link cut short inside an escape: nothing found, not a fault of the service; on the resident's box too.
    const cut = `${base}/track/%E0%A4%A`;
    expect((await desk.get(`/desk/find?q=${encodeURIComponent(cut)}`)).status).toBe(404);
    expect((await fetch(`${base}/track?code=${encodeURIComponent(cut)}`, { headers: { accept: 'text/html' } })).status).toBe(400);
    // Bureaus have no desk to look in.
    const clerk = formClient(base, fromNewAddress());
    await clerk.signIn('epb');
    expect((await clerk.get(`/desk/find?q=${reference}`)).status).toBe(403);
  });

  it("re-routes a returned case in one click to the classifier's top choice: the lead bureau changes", async () => {
    // Irrigation water goes to the water bureau, but the case was sent to the EPB, which returned it.
    const seeded = await seedCase(web.service, web.clock, {
      text: '回龙村灌溉渠里的水是矿上排出来的黄水，稻田都受影响了',
      type: 'irrigation_water',
      assignments: [{ unit: 'epb', role: 'lead' }],
    });
    await returnAssignment(web.service.deps, epbClerk(), seeded.id, { reason: 'not_our_remit', note: '灌溉水归水利局' });
    expect((await findCase(web.service.deps.db, seeded.id))?.status).toBe('triage');

    const { page, context } = await newPage();
    await context.setExtraHTTPHeaders(fromNewAddress());
    await signIn(page, base, 'dispatcher');
    expect(new URL(page.url()).pathname).toBe('/desk');
    const card = `li[data-case="${seeded.trackingCode}"]`;
    expect(await page.textContent(card)).toContain('承办单位退回');
    // The top suggestion comes first and says where it goes.
    const first = page.locator(`${card} button[data-suggestion]`).first();
    expect(await first.getAttribute('data-suggestion')).toBe('irrigation_water');
    expect(await first.textContent()).toContain('区水利局');
    await Promise.all([page.waitForNavigation(), first.click()]);
    expect(new URL(page.url()).pathname).toBe('/desk');
    expect(await page.textContent('#done')).toBe('已重新派发。');
    expect(await page.$(card)).toBeNull();
    // On the case page it is routed again.
    await page.goto(`${base}/desk/cases/${seeded.id}`);
    expect(await page.textContent('#route')).toBe('重新派发');

    expect((await findCase(web.service.deps.db, seeded.id))?.status).toBe('dispatched');
    expect(await leadOf(seeded.id)).toEqual(['water']);
    await context.close();
  });

  it('says a case no unit had before is routed, not routed again, on the desk and on the case page', async () => {
    const seeded = await seedCase(web.service, web.clock, { status: 'triage', type: 'water_pollution', confidence: 0.5, text: '永济亭办事处池塘里的水发黑发臭（首次派发测试）' });
    const { page, context } = await newPage();
    await context.setExtraHTTPHeaders(fromNewAddress());
    await signIn(page, base, 'dispatcher');
    await page.goto(`${base}/desk/cases/${seeded.id}`);
    expect(await page.textContent('#route')).toBe('派发');
    await page.goto(`${base}/desk/cases/${seeded.id}?lang=en`);
    expect(await page.textContent('#route')).toBe('Route');
    await page.goto(`${base}/desk?lang=zh`);
    await Promise.all([page.waitForNavigation(), page.click(`li[data-case="${seeded.trackingCode}"] button[data-suggestion="water_pollution"]`)]);
    expect(new URL(page.url()).pathname).toBe('/desk');
    expect(await page.textContent('#done')).toBe('已派发。');
    expect((await findCase(web.service.deps.db, seeded.id))?.status).toBe('dispatched');
    // Now a unit has it: the case page offers to route it again, and doing so says so.
    await page.goto(`${base}/desk/cases/${seeded.id}`);
    expect(await page.textContent('#route')).toBe('重新派发');
    await page.fill('#route-reason', '改派水利局');
    await page.selectOption('#route-lead', 'water');
    await Promise.all([page.waitForNavigation(), page.click('#route-form button[type=submit]')]);
    expect(await page.textContent('#done')).toBe('已重新派发。');
    // The same choice once more changes nothing, and says so: no event, no "sent again" for the public.
    const events = async () => (await web.service.deps.db.selectFrom('case_events').select('id').where('case_id', '=', seeded.id).execute()).length;
    const before = await events();
    await page.fill('#route-reason', '再确认一次');
    await Promise.all([page.waitForNavigation(), page.click('#route-form button[type=submit]')]);
    expect(await page.textContent('#done')).toBe('案件已按所选类型、单位和属地派发，没有改变。');
    expect(await events()).toBe(before);
    const history = (await (await fetch(`${base}/api/v1/track/${seeded.trackingCode}`)).json()) as { history: Array<{ status: string }> };
    expect(history.history.filter((h) => h.status === 'dispatched')).toHaveLength(2);
    await page.goto(`${base}/desk/cases/${seeded.id}?lang=en`);
    expect(await page.textContent('#route')).toBe('Re-route');
    await context.close();
  });

  it('refuses a one-click choice on a triage card that someone else answered meanwhile, instead of routing the case again', async () => {
    const seeded = await seedCase(web.service, web.clock, {
      text: '回龙村灌溉渠里的水是矿上排出来的黄水（两位调度员同时处理）',
      type: 'irrigation_water',
      assignments: [{ unit: 'epb', role: 'lead' }],
    });
    await returnAssignment(web.service.deps, epbClerk(), seeded.id, { reason: 'not_our_remit', note: '灌溉水归水利局' });
    const one = await newPage();
    const two = await newPage();
    await one.context.setExtraHTTPHeaders(fromNewAddress());
    await two.context.setExtraHTTPHeaders(fromNewAddress());
    await signIn(one.page, base, 'dispatcher');
    await signIn(two.page, base, 'dispatcher');
    const card = `li[data-case="${seeded.trackingCode}"]`;
    // Both have the card open; the first routes it to the top choice.
    await Promise.all([one.page.waitForNavigation(), one.page.click(`${card} button[data-suggestion="irrigation_water"]`)]);
    expect(await leadOf(seeded.id)).toEqual(['water']);
    // The second, still looking at the card, picks the runner-up: refused with a notice, nothing changes.
    const [res] = await Promise.all([two.page.waitForNavigation(), two.page.click(`${card} button[data-suggestion="water_pollution"]`)]);
    expect(res?.status()).toBe(409);
    expect(await two.page.textContent('#action-problem')).toContain('案件已被他人更新');
    expect(await leadOf(seeded.id)).toEqual(['water']);
    expect((await findCase(web.service.deps.db, seeded.id))?.typeCode).toBe('irrigation_water');
    // The reporter heard once that the case was sent on.
    expect((await notificationsOf(web.service, seeded.id)).filter((n) => n.audience === 'reporter' && n.kind === 'dispatched')).toHaveLength(1);
    // The page it got is the case as it is now: the next decision there acts on it.
    await two.page.fill('#transfer-reason', '非环境类诉求');
    two.page.once('dialog', (d) => void d.accept());
    await Promise.all([two.page.waitForNavigation(), two.page.click('section[aria-labelledby="h-transfer"] button[type=submit]')]);
    expect(await two.page.textContent('#done')).toBe('已转12345热线。');
    await one.context.close();
    await two.context.close();
  });

  it("routes a triage card in one click when only the deadline timers touched the case since the desk showed it", async () => {
    const seeded = await seedCase(web.service, web.clock, {
      text: '有个厂子晚上偷排废水（地点不明，计时器标记后一键派发测试）',
      jurisdiction: null,
      assignments: [{ unit: 'epb', role: 'lead' }],
    });
    const { page, context } = await newPage();
    await context.setExtraHTTPHeaders(fromNewAddress());
    await signIn(page, base, 'dispatcher');
    const card = `li[data-case="${seeded.trackingCode}"]`;
    // While the desk is open, nobody signs for the case and the timers mark the deadline missed.
    const signBy = new Date(web.clock.now().getTime() - 60_000).toISOString();
    await web.service.deps.db.updateTable('assignments').set({ sign_deadline_at: signBy }).where('case_id', '=', seeded.id).execute();
    expect(await checkDeadlines(web.service.deps, seeded.id)).toContain('overdue: epb sign');
    const [res] = await Promise.all([page.waitForNavigation(), page.click(`${card} button[data-suggestion="water_pollution"]`)]);
    expect(res?.status()).toBe(200);
    expect(await page.textContent('#done')).toBe('已重新派发。');
    expect((await findCase(web.service.deps.db, seeded.id))?.typeCode).toBe('water_pollution');
    await context.close();
  });

  it('names on a triage card the units that returned the case and why, in the page\'s language', async () => {
    const seeded = await seedCase(web.service, web.clock, {
      text: '回龙村灌溉渠里的水是矿上排出来的黄水（退回单位卡片测试）',
      type: 'irrigation_water',
      urgent: true,
      assignments: [{ unit: 'epb', role: 'lead' }, { unit: 'econ', role: 'co' }],
    });
    const desk = formClient(base, fromNewAddress());
    await desk.signIn('dispatcher');
    const returns = async (lang = '') => {
      const html = await (await desk.get(`/desk${lang}`)).text();
      const card = new RegExp(`<li class="card" data-case="${seeded.trackingCode}"[\\s\\S]*?</li>`).exec(html)?.[0] ?? '';
      return /<p class="hint" data-returns="true">([\s\S]*?)<\/p>/.exec(card)?.[1]?.replace(/<!--.*?-->/g, '').trim() ?? null;
    };
    await returnAssignment(web.service.deps, econClerk(), seeded.id, { reason: 'not_our_remit', note: '与经信委无关' });
    const { district } = web.service.deps;
    const [epb, econ] = [district.units.get('epb')!.name, district.units.get('econ')!.name];
    expect(await returns()).toBe(`退回：${econ.zh}（不属于本单位职责）`);
    await returnAssignment(web.service.deps, epbClerk(), seeded.id, { reason: 'unclear_ownership', note: '请调度确定' });
    const both = await returns();
    expect(both).toMatch(/^退回：/);
    expect(both).toContain(`${epb.zh}（职责不清，请调度确定）`);
    expect(both).toContain(`${econ.zh}（不属于本单位职责）`);
    expect(await returns('?lang=en')).toContain(`${econ.en} (not within our remit)`);
    expect(await returns('?lang=en')).toContain(`${epb.en} (unclear who is responsible)`);
  });

  it('says the triage queue goes on past the 100 cards it lists, instead of counting only those', async () => {
    const db = web.service.deps.db;
    const waiting = await db.selectFrom('cases').select('id').where('status', '=', 'triage').execute();
    const seeded: string[] = [];
    for (let i = waiting.length; i <= 100; i++) seeded.push((await seedCase(web.service, web.clock, { status: 'triage', text: `排队测试 ${i}`, contact: null })).id);
    try {
      const desk = formClient(base, fromNewAddress());
      await desk.signIn('dispatcher');
      const html = await (await desk.get('/desk')).text();
      expect(/<h2 id="triage-heading">([^<]*)<\/h2>/.exec(html)?.[1]?.replace(/\s+/g, ' ').trim()).toBe('待分派 (100+)');
      expect(html).toContain('只列出前 100 件（紧急的在前，其次受理最早的）');
      expect(html.match(/<li class="card" data-case=/g)).toHaveLength(100);
    } finally {
      // Out of the queue again, for the cards the other tests look for.
      await db.updateTable('cases').set({ status: 'closed' }).where('id', 'in', seeded).execute();
    }
  });

  it('wraps a long unbroken address or link inside the page on a phone, and asks for no favicon', async () => {
    const url = `http://example.com/${'a'.repeat(400)}`;
    const seeded = await seedCase(web.service, web.clock, {
      text: `河边有人倒垃圾，照片在这里 ${url}`,
      status: 'triage',
      assignments: [],
    });
    await web.service.deps.db.updateTable('cases').set({ address: `回龙村${'九'.repeat(300)}号` }).where('id', '=', seeded.id).execute();
    const { page, context } = await newPage();
    await context.setExtraHTTPHeaders(fromNewAddress());
    await page.setViewportSize({ width: 375, height: 667 });
    const icons: string[] = [];
    page.on('request', (r) => {
      if (new URL(r.url()).pathname === '/favicon.ico') icons.push(r.url());
    });
    await signIn(page, base, 'dispatcher');
    for (const path of ['/desk', `/desk/cases/${seeded.id}`]) {
      await page.goto(`${base}${path}`);
      const widths = (await page.evaluate('({ page: document.documentElement.scrollWidth, view: window.innerWidth })')) as { page: number; view: number };
      expect(widths.page, path).toBeLessThanOrEqual(widths.view);
    }
    expect(icons).toEqual([]);
    await context.close();
  });

  it('gives a place-unknown case its local office from the triage card, keeping its type and bureaus', async () => {
    const seeded = await seedCase(web.service, web.clock, {
      text: '有个电镀厂晚上偷排废水，沟里全是黑水（地点没说清）',
      type: 'illegal_discharge',
      jurisdiction: null,
      assignments: [
        { unit: 'epb', role: 'lead' },
        { unit: 'police', role: 'co' },
      ],
    });
    const { page, context } = await newPage();
    await context.setExtraHTTPHeaders(fromNewAddress());
    await signIn(page, base, 'dispatcher');
    const card = `li[data-case="${seeded.trackingCode}"]`;
    expect(await page.textContent(card)).toContain('地点不明');
    // Under handling as its type already: the card offers the runner-up, not its own type again (that would change nothing).
    expect(await page.$$eval(`${card} button[data-suggestion]`, (bs) => bs.map((b) => b.getAttribute('data-suggestion')))).toEqual(['water_pollution']);
    // Sent without a choice (the browser's own check bypassed): the desk again, the field named on this card.
    await page.evaluate(`document.querySelector('${card} form[data-place-form] select').removeAttribute('required')`);
    const [refused] = await Promise.all([page.waitForNavigation(), page.click(`${card} form[data-place-form] button`)]);
    expect(refused?.status()).toBe(400);
    expect(await page.textContent('h1')).toBe('调度台');
    expect(await page.textContent(`${card} #place-${seeded.id}-jurisdiction-error`)).toContain('请选择属地');
    expect(await page.getAttribute(`#place-${seeded.id}`, 'aria-invalid')).toBe('true');
    expect((await findCase(web.service.deps.db, seeded.id))?.jurisdictionCode).toBeNull();
    await page.selectOption(`${card} form[data-place-form] select`, 'lijiatang');
    await Promise.all([page.waitForNavigation(), page.click(`${card} form[data-place-form] button`)]);
    expect(await page.textContent('#done')).toBe('已指定属地并派给该属地。');
    expect(await page.$(card)).toBeNull();
    const after = await findCase(web.service.deps.db, seeded.id);
    expect(after).toMatchObject({ typeCode: 'illegal_discharge', jurisdictionCode: 'lijiatang' });
    expect(after?.flags).not.toContain('place_unknown');
    const live = (await listAssignments(web.service.deps.db, seeded.id)).filter((a) => a.status === 'pending').map((a) => `${a.role}:${a.unitCode}`);
    expect(live.sort()).toEqual(['co:police', 'jurisdiction:lijiatang', 'lead:epb']);
    // Only the place changed: still dispatched, one place_set event, no 'dispatched' notice to the reporter.
    expect(after?.status).toBe('dispatched');
    const kinds = (await web.service.deps.db.selectFrom('case_events').select('kind').where('case_id', '=', seeded.id).execute()).map((e) => e.kind);
    expect(kinds.filter((k) => k === 'place_set')).toHaveLength(1);
    const notices = await web.service.deps.db.selectFrom('notifications').select('kind').where('case_id', '=', seeded.id).where('audience', '=', 'reporter').execute();
    expect(notices.filter((n) => n.kind === 'dispatched')).toHaveLength(0);
    await context.close();
  });

  it("draws no re-route as the main button on the card of a case its units hold already, only on a case waiting in triage", async () => {
    const handled = await seedCase(web.service, web.clock, { text: '有个电镀厂晚上偷排废水（地点不明，按钮样式测试）', jurisdiction: null, assignments: [{ unit: 'epb', role: 'lead' }] });
    const waiting = await seedCase(web.service, web.clock, { text: '有个电镀厂晚上偷排废水（待分派，按钮样式测试）', status: 'triage', confidence: 0.4 });
    const desk = formClient(base, fromNewAddress());
    await desk.signIn('dispatcher');
    const html = await (await desk.get('/desk')).text();
    const buttons = (code: string) => {
      const card = new RegExp(`<li class="card" data-case="${code}"[\\s\\S]*?</li>`).exec(html)?.[0] ?? '';
      return [...card.matchAll(/<button type="submit"( class="([^"]*)")? data-suggestion="([^"]+)"/g)].map((m) => `${m[3]}:${m[2] ?? ''}`);
    };
    // The runner-up of a case under handling (its own type is no choice): offered, not drawn as the card's action.
    expect(buttons(handled.trackingCode)).toEqual(['water_pollution:secondary']);
    expect(buttons(waiting.trackingCode)).toEqual(['illegal_discharge:', 'water_pollution:secondary']);
    const page = await (await desk.get(`/desk/cases/${handled.id}`)).text();
    expect(page).toMatch(/<button type="submit" class="secondary" data-suggestion="water_pollution"/);
  });

  it('keeps a place-unknown case on the triage list while a place can be given, not once its units answered, and offers the place again when it is reopened', async () => {
    const seeded = await seedCase(web.service, web.clock, {
      text: '有个电镀厂晚上偷排废水（地点没说清，答复后测试）',
      type: 'illegal_discharge',
      jurisdiction: null,
      assignments: [
        { unit: 'epb', role: 'lead' },
        { unit: 'econ', role: 'co' },
      ],
    });
    const desk = formClient(base, fromNewAddress());
    await desk.signIn('dispatcher');
    const card = (html: string) => new RegExp(`<li class="card" data-case="${seeded.trackingCode}"[\\s\\S]*?</li>`).exec(html)?.[0] ?? null;
    expect(card(await (await desk.get('/desk')).text())).toContain('地点不明');
    for (const clerk of [econClerk(), epbClerk()]) {
      await acceptAssignment(web.service.deps, clerk, seeded.id);
      await replyAssignment(web.service.deps, clerk, seeded.id, { text: '已核查，企业已停产整改。' });
    }
    expect((await findCase(web.service.deps.db, seeded.id))?.status).toBe('replied');
    // Answered: no place can be given and it cannot be routed, so it waits for no dispatcher.
    expect(card(await (await desk.get('/desk')).text())).toBeNull();
    // Reopened by its reporter: back on the list, and the card offers the local office again.
    await rateCase(web.service.deps, { trackingCode: seeded.trackingCode, rating: 'dissatisfied', solved: false, channel: 'web' });
    const reopened = card(await (await desk.get('/desk')).text());
    expect(reopened).toContain('地点不明');
    expect(reopened).toContain('data-place-form');
    const csrf = await desk.token('/desk');
    expect((await desk.post(`/desk/cases/${seeded.id}/place`, { _csrf: csrf, back: 'desk', jurisdiction: 'lijiatang' })).status).toBe(303);
    expect(await findCase(web.service.deps.db, seeded.id)).toMatchObject({ status: 'reopened', jurisdictionCode: 'lijiatang' });
    expect(card(await (await desk.get('/desk')).text())).not.toContain('地点不明');
  });

  it("leads back to the desk after a card's one-click route or an overdue row's 督办, also once a refused form left the desk at another address", async () => {
    const placeless = await seedCase(web.service, web.clock, { text: '有个厂子晚上偷排（地点不明，回到调度台测试）', jurisdiction: null, urgent: true, assignments: [{ unit: 'epb', role: 'lead' }] });
    const waiting = await seedCase(web.service, web.clock, { text: '电镀厂偷排废水（一键派发回到调度台测试）', status: 'triage', urgent: true });
    const late = await seedCase(web.service, web.clock, { text: '电镀厂偷排废水（督办回到调度台测试）', assignments: [{ unit: 'epb', role: 'lead' }] });
    await web.service.deps.db.updateTable('assignments').set({ sign_deadline_at: '2001-01-01T00:00:00.000Z' }).where('case_id', '=', late.id).execute();
    const { page, context } = await newPage();
    await context.setExtraHTTPHeaders(fromNewAddress());
    await signIn(page, base, 'dispatcher');
    const refusePlace = async () => {
      const card = `li[data-case="${placeless.trackingCode}"]`;
      await page.evaluate(`document.querySelector('${card} form[data-place-form] select').removeAttribute('required')`);
      const [refused] = await Promise.all([page.waitForNavigation(), page.click(`${card} form[data-place-form] button`)]);
      expect(refused?.status()).toBe(400);
      expect(new URL(page.url()).pathname).toBe(`/desk/cases/${placeless.id}/place`);
    };
    await refusePlace();
    await Promise.all([page.waitForNavigation(), page.click(`li[data-case="${waiting.trackingCode}"] button[data-suggestion="illegal_discharge"]`)]);
    expect(new URL(page.url()).pathname).toBe('/desk');
    expect(await page.textContent('#done')).toBe('已派发。');
    expect((await findCase(web.service.deps.db, waiting.id))?.status).toBe('dispatched');
    await refusePlace();
    await Promise.all([page.waitForNavigation(), page.click(`#overdue tr[data-case="${late.trackingCode}"] button`)]);
    expect(new URL(page.url()).pathname).toBe('/desk');
    expect(await page.textContent('#done')).toBe('已督办，承办单位已收到提醒。');
    await context.close();
  });

  it('offers on the triage card a new local office for a case its office returned as not in its area, replacing that office', async () => {
    const seeded = await seedCase(web.service, web.clock, {
      text: '电镀厂晚上偷排废水（属地退回后在卡片上改属地测试）',
      urgent: true,
      assignments: [{ unit: 'epb', role: 'lead' }, { unit: 'xinglong', role: 'jurisdiction' }],
    });
    const returned = await client(base, web.staff.xinglong).post(`/api/v1/cases/${seeded.id}/return`, { reason: 'wrong_jurisdiction', note: '不在我办辖区' });
    expect(returned.status).toBe(200);
    const desk = formClient(base, fromNewAddress());
    await desk.signIn('dispatcher');
    const card = (html: string) => new RegExp(`<li class="card" data-case="${seeded.trackingCode}"[\\s\\S]*?</li>`).exec(html)?.[0] ?? null;
    const shown = card(await (await desk.get('/desk')).text())!;
    expect(shown).toContain('data-place-form');
    const csrf = await desk.token('/desk');
    // A one-click route from the card would give the case back to the office that said it is not theirs: refused, the
    // card saying to set the place first.
    const quickForm = new RegExp(`<form method="post" action="/desk/cases/${seeded.id}/route"[\\s\\S]*?</form>`).exec(shown)![0];
    const fields = hiddenFields(quickForm);
    const quick = await desk.post(`/desk/cases/${seeded.id}/route`, { ...fields, _csrf: csrf });
    expect(await quick.text()).toContain('该案件的属地单位已以“不属于本辖区”退回，请先在下方为案件指定新的属地，再派单');
    expect((await listAssignments(web.service.deps.db, seeded.id)).find((a) => a.unitCode === 'xinglong')?.status).toBe('returned');
    const placed = await desk.post(`/desk/cases/${seeded.id}/place`, { _csrf: csrf, back: 'desk', jurisdiction: 'lijiatang' });
    expect(placed.status).toBe(303);
    expect(placed.headers.get('location')).toBe('/desk?done=place');
    const units = (await listAssignments(web.service.deps.db, seeded.id)).map((a) => `${a.unitCode}:${a.status}`).sort();
    expect(units).toEqual(['epb:pending', 'lijiatang:pending', 'xinglong:released']);
    expect(card(await (await desk.get('/desk')).text())).toBeNull();
  });

  it('does not offer on the triage card the local office that returned the case as not in its area, nor takes it there; the re-route form marks it and never starts on it', async () => {
    const seeded = await seedCase(web.service, web.clock, {
      text: '电镀厂晚上偷排废水（属地退回后不再提供该属地测试）',
      assignments: [{ unit: 'epb', role: 'lead' }, { unit: 'xinglong', role: 'jurisdiction' }],
    });
    expect((await client(base, web.staff.xinglong).post(`/api/v1/cases/${seeded.id}/return`, { reason: 'wrong_jurisdiction', note: '不在我办辖区' })).status).toBe(200);
    const desk = formClient(base, fromNewAddress());
    await desk.signIn('dispatcher');
    const card = (html: string) => new RegExp(`<li class="card" data-case="${seeded.trackingCode}"[\\s\\S]*?</li>`).exec(html)?.[0] ?? '';
    const placeChoices = (html: string) => [...(/<select id="place-[^"]+"[^>]*>([\s\S]*?)<\/select>/.exec(card(html))?.[1] ?? '').matchAll(/<option value="([^"]*)"/g)].map((m) => m[1]);
    const offered = placeChoices(await (await desk.get('/desk')).text());
    expect(offered).toContain('lijiatang');
    expect(offered).not.toContain('xinglong');

    // Posted all the same (a page of before the return, a hand-made form): refused, naming the place, nothing changed.
    const posted = await desk.post(`/desk/cases/${seeded.id}/place`, { _csrf: await desk.token('/desk'), back: 'desk', jurisdiction: 'xinglong' });
    expect(posted.status).toBe(400);
    expect(await posted.text()).toContain('该属地单位已以“不属于本辖区”退回本案，请另选属地');
    expect((await listAssignments(web.service.deps.db, seeded.id)).find((a) => a.unitCode === 'xinglong')?.status).toBe('returned');

    // The case page's re-route form: the office is there for a dispatcher who finds its return unfounded, marked as
    // having returned it, and the form starts on 地点不明, not on it.
    for (const [lang, mark] of [
      ['zh', '兴隆办事处（已退回：不属于本辖区）'],
      ['en', 'Xinglong Sub-district Office (returned it: outside our area)'],
    ] as const) {
      const page = await (await desk.get(`/desk/cases/${seeded.id}${lang === 'en' ? '?lang=en' : ''}`)).text();
      const select = /<select id="route-jurisdiction"[^>]*>([\s\S]*?)<\/select>/.exec(page)?.[1] ?? '';
      expect(select.replace(/<!-- -->/g, '')).toContain(`<option value="xinglong">${mark}</option>`);
      expect(select).not.toMatch(/<option[^>]*selected/);
    }

    // Released since, the office is still not offered on the card, which now asks for the unknown place.
    const released = await desk.post(`/desk/cases/${seeded.id}/release`, { _csrf: await desk.token(`/desk/cases/${seeded.id}`), unit: 'xinglong', reason: '不在兴隆辖区，属地待核实', confirm: '1' });
    expect(released.status).toBe(303);
    const later = placeChoices(await (await desk.get('/desk')).text());
    expect(later).toContain('lijiatang');
    expect(later).not.toContain('xinglong');
  });

  it('starts the route form of a case handed to 12345 by mistake, as the classifier guessed it not environmental, on its other choice once the transfer is undone', async () => {
    const seeded = await seedCase(web.service, web.clock, { status: 'triage', type: 'other', confidence: 0.45, text: '村口那个厂子晚上排黑水，沟里的鱼都死了（分类误判为非环境类）' });
    const api = client(base, web.staff.dispatcher);
    expect((await api.post(`/api/v1/cases/${seeded.id}/transfer`, { reason: '非环境类诉求' })).status).toBe(200);
    const undone = await api.post(`/api/v1/cases/${seeded.id}/untransfer`, { reason: '属环境问题，转错了' });
    expect(undone.status).toBe(200);
    // Environmental after all: not the type that sends a case to 12345, which the form would start on and refuse.
    expect((await findCase(web.service.deps.db, seeded.id))?.typeCode).toBeNull();
    const desk = formClient(base, fromNewAddress());
    await desk.signIn('dispatcher');
    const html = await (await desk.get(`/desk/cases/${seeded.id}`)).text();
    const select = /<select id="route-type"[^>]*>([\s\S]*?)<\/select>/.exec(html)?.[1] ?? '';
    expect(select).not.toMatch(/<option value="other" selected/);
    expect(/<option value="([^"]+)"/.exec(select)?.[1]).toBe('water_pollution');
    const csrf = await desk.token(`/desk/cases/${seeded.id}`);
    const routed = await desk.post(`/desk/cases/${seeded.id}/route`, { _csrf: csrf, type: 'water_pollution', reason: '水体污染，派环保局' });
    expect(routed.status).toBe(303);
    expect(await findCase(web.service.deps.db, seeded.id)).toMatchObject({ status: 'dispatched', typeCode: 'water_pollution' });
  });

  it("refuses a triage card's place given on a desk page older than the case, so a place another dispatcher gave meanwhile (and its office's signature) stands", async () => {
    const seeded = await seedCase(web.service, web.clock, {
      text: '有个电镀厂晚上偷排废水（两位调度员同时补充属地）',
      jurisdiction: null,
      assignments: [{ unit: 'epb', role: 'lead' }],
    });
    const desk = formClient(base, fromNewAddress());
    await desk.signIn('dispatcher');
    const shown = await (await desk.get('/desk')).text();
    const card = new RegExp(`<li class="card" data-case="${seeded.trackingCode}"[\\s\\S]*?</li>`).exec(shown)?.[0] ?? '';
    const placeForm = new RegExp(`<form method="post" action="/desk/cases/${seeded.id}/place"[\\s\\S]*?</form>`).exec(card)?.[0] ?? '';
    const hidden = hiddenFields(placeForm);
    expect(hidden).toMatchObject({ back: 'desk', version: expect.stringMatching(/^\d+$/) });
    // Meanwhile another dispatcher gives the case 李家塘, whose office signs for it.
    const other = formClient(base, fromNewAddress());
    await other.signIn('dispatcher');
    expect((await other.post(`/desk/cases/${seeded.id}/place`, { ...hidden, _csrf: await other.token('/desk'), jurisdiction: 'lijiatang' })).status).toBe(303);
    await web.service.deps.db.updateTable('assignments').set({ status: 'accepted', accepted_at: web.clock.now().toISOString() }).where('case_id', '=', seeded.id).where('unit_code', '=', 'lijiatang').execute();
    const stale = await desk.post(`/desk/cases/${seeded.id}/place`, { ...hidden, _csrf: await desk.token('/desk'), jurisdiction: 'xinglong' });
    expect(stale.status).toBe(409);
    expect(actionProblem(await stale.text())).toContain('案件已被他人更新');
    expect(await findCase(web.service.deps.db, seeded.id)).toMatchObject({ jurisdictionCode: 'lijiatang' });
    const units = (await listAssignments(web.service.deps.db, seeded.id)).map((a) => `${a.unitCode}:${a.status}`).sort();
    expect(units).toEqual(['epb:pending', 'lijiatang:accepted']);
  });

  it('releasing the local office that returned the case as not in its area leaves the place unknown: the case page says so and the triage card asks for another office', async () => {
    const seeded = await seedCase(web.service, web.clock, {
      text: '电镀厂晚上偷排废水（属地退回后撤回属地测试）',
      assignments: [{ unit: 'epb', role: 'lead' }, { unit: 'xinglong', role: 'jurisdiction' }],
    });
    expect((await client(base, web.staff.xinglong).post(`/api/v1/cases/${seeded.id}/return`, { reason: 'wrong_jurisdiction', note: '不在我办辖区' })).status).toBe(200);
    const desk = formClient(base, fromNewAddress());
    await desk.signIn('dispatcher');
    const csrf = await desk.token(`/desk/cases/${seeded.id}`);
    const released = await desk.post(`/desk/cases/${seeded.id}/release`, { _csrf: csrf, unit: 'xinglong', reason: '不在兴隆辖区，属地待核实', confirm: '1' });
    expect(released.status).toBe(303);
    expect(released.headers.get('location')).toBe(`/desk/cases/${seeded.id}?done=releasePlace`);
    const page = await (await desk.get(released.headers.get('location')!)).text();
    expect(page).toContain('已撤回该属地：它退回称不在其辖区，本案地点改为不明，请指定属地。');
    // The route form starts on no local office, not on the one that said the case is not theirs.
    const placeSelect = /<select id="route-jurisdiction"[^>]*>([\s\S]*?)<\/select>/.exec(page)?.[1] ?? '';
    expect(/<option[^>]*selected[^>]*>([^<]*)</.exec(placeSelect)?.[1] ?? '地点不明').toBe('地点不明');
    expect(await findCase(web.service.deps.db, seeded.id)).toMatchObject({ jurisdictionCode: null, flags: ['place_unknown'] });
    const card = new RegExp(`<li class="card" data-case="${seeded.trackingCode}"[\\s\\S]*?</li>`).exec(await (await desk.get('/desk')).text())?.[0] ?? '';
    expect(card).toContain('地点不明');
    expect(card).toContain('data-place-form');
    const en = await (await desk.get(`/desk/cases/${seeded.id}?done=releasePlace&lang=en`)).text();
    expect(en).toContain('Local office released: it returned the case as outside its area, so the place is now unknown. Give the case its local office.');
  });

  it("keeps a case whose place is unknown waiting for its place when the route form, left on 地点不明, only adds a co-handler; 地点不明 chosen for a placed case puts it there", async () => {
    const seeded = await seedCase(web.service, web.clock, {
      text: '电镀厂晚上偷排废水（属地退回后加派协办测试）',
      type: 'illegal_discharge',
      assignments: [{ unit: 'epb', role: 'lead' }, { unit: 'xinglong', role: 'jurisdiction' }],
    });
    expect((await client(base, web.staff.xinglong).post(`/api/v1/cases/${seeded.id}/return`, { reason: 'wrong_jurisdiction', note: '不在我办辖区' })).status).toBe(200);
    const desk = formClient(base, fromNewAddress());
    await desk.signIn('dispatcher');
    const released = await desk.post(`/desk/cases/${seeded.id}/release`, { _csrf: await desk.token(`/desk/cases/${seeded.id}`), unit: 'xinglong', reason: '不在兴隆辖区，属地待核实', confirm: '1' });
    expect(released.status).toBe(303);
    const page = await (await desk.get(`/desk/cases/${seeded.id}`)).text();
    const placeSelect = /<select id="route-jurisdiction"[^>]*>([\s\S]*?)<\/select>/.exec(page)?.[1] ?? '';
    expect(/<option value="">([^<]*)</.exec(placeSelect)?.[1]).toBe('地点不明（待补充属地）');
    expect(page).toContain('选“地点不明”时不派属地，案件仍留在调度台待补充属地，查明后再指定。');

    // The full form as the page sent it, left on 地点不明, adding the police as co-handler.
    const routed = await desk.post(`/desk/cases/${seeded.id}/route`, {
      _csrf: await desk.token(`/desk/cases/${seeded.id}`),
      type: 'illegal_discharge',
      lead: '',
      leadWas: '',
      coFrom: 'chosen',
      co: 'police',
      jurisdiction: '',
      urgentWas: '0',
      reason: '加派公安协查，属地仍待核实',
    });
    expect(routed.status, await routed.text()).toBe(303);
    expect(await findCase(web.service.deps.db, seeded.id)).toMatchObject({ jurisdictionCode: null, flags: ['place_unknown'] });
    const live = (await listAssignments(web.service.deps.db, seeded.id)).filter((a) => a.status === 'pending').map((a) => `${a.role}:${a.unitCode}`);
    expect(live.sort()).toEqual(['co:police', 'lead:epb']);
    // Still on the desk as waiting for its place, its card offering the local office.
    const card = new RegExp(`<li class="card" data-case="${seeded.trackingCode}"[\\s\\S]*?</li>`).exec(await (await desk.get('/desk')).text())?.[0] ?? '';
    expect(card).toContain('地点不明');
    expect(card).toContain('data-place-form');

    // A placed case the dispatcher routes to 地点不明 (the place turned out wrong): no local office, and waiting for one.
    const placed = await seedCase(web.service, web.clock, {
      text: '电镀厂晚上偷排废水（改为地点不明测试）',
      type: 'illegal_discharge',
      assignments: [{ unit: 'epb', role: 'lead' }, { unit: 'xinglong', role: 'jurisdiction' }],
    });
    const unplaced = await desk.post(`/desk/cases/${placed.id}/route`, {
      _csrf: await desk.token(`/desk/cases/${placed.id}`),
      type: 'illegal_discharge',
      coFrom: 'rule',
      jurisdiction: '',
      reason: '地址有误，属地待核实',
    });
    expect(unplaced.status, await unplaced.text()).toBe(303);
    expect(await findCase(web.service.deps.db, placed.id)).toMatchObject({ jurisdictionCode: null, flags: ['place_unknown'] });
    expect(new RegExp(`<li class="card" data-case="${placed.trackingCode}"[\\s\\S]*?</li>`).exec(await (await desk.get('/desk')).text())?.[0] ?? '').toContain('data-place-form');
    const en = await (await desk.get(`/desk/cases/${seeded.id}?lang=en`)).text();
    expect(en).toContain('place unknown (to be given)');
    expect(en).toContain('With &quot;place unknown&quot; no local office is given: the case stays on the desk as waiting for its place, to be given once known.');
  });

  it('routes to any type from the case page and keeps the correction as labelled data', async () => {
    const seeded = await seedCase(web.service, web.clock, { status: 'triage', type: 'water_pollution', confidence: 0.41, text: '朱家观村路边有人烧垃圾，黑烟很大' });
    const { page, context } = await newPage();
    await context.setExtraHTTPHeaders(fromNewAddress());
    await signIn(page, base, 'dispatcher', undefined, `/desk/cases/${seeded.id}`);
    expect(await page.textContent('h1')).toContain(seeded.trackingCode);
    await page.selectOption('#route-type', 'garbage_sludge');
    await page.selectOption('#route-jurisdiction', 'huilongxu');
    // Without a reason the form says so next to the field and routes nothing (the
    // browser's own check is taken off to see the server's answer).
    await page.evaluate("document.querySelector('#route-reason').removeAttribute('required')");
    await Promise.all([page.waitForNavigation(), page.click('#route-form button[type=submit]')]);
    expect(await page.textContent('#route-reason-error')).toContain('请填写');
    expect((await findCase(web.service.deps.db, seeded.id))?.status).toBe('triage');
    expect(await page.inputValue('#route-type')).toBe('garbage_sludge');

    await page.fill('#route-reason', '焚烧生活垃圾，归执法大队');
    await Promise.all([page.waitForNavigation(), page.click('#route-form button[type=submit]')]);
    // No unit had it: sent, not sent again.
    expect(await page.textContent('#done')).toBe('已派发。');
    const after = await findCase(web.service.deps.db, seeded.id);
    expect(after?.typeCode).toBe('garbage_sludge');
    expect(after?.jurisdictionCode).toBe('huilongxu');
    expect(await leadOf(seeded.id)).toEqual(['enforcement']);
    const corrections = await web.service.deps.db.selectFrom('classifier_corrections').select(['label', 'predicted', 'source']).where('case_id', '=', seeded.id).execute();
    expect(corrections).toEqual([{ label: 'garbage_sludge', predicted: 'water_pollution', source: 'dispatcher' }]);
    await context.close();
  });

  it("keeps a lead a dispatcher picked when only the place is corrected, and gives the routing table's lead in one choice after a type change", async () => {
    // Illegal discharge goes to the EPB by the routing table; a dispatcher gave this one to the land bureau.
    const seeded = await seedCase(web.service, web.clock, {
      text: '兴隆办事处有厂子往沟里排废水（指定牵头测试）',
      type: 'illegal_discharge',
      assignments: [
        { unit: 'land', role: 'lead' },
        { unit: 'econ', role: 'co' },
        { unit: 'xinglong', role: 'jurisdiction' },
      ],
    });
    const { page, context } = await newPage();
    await context.setExtraHTTPHeaders(fromNewAddress());
    await signIn(page, base, 'dispatcher', undefined, `/desk/cases/${seeded.id}`);
    expect(await page.inputValue('#route-lead')).toBe('land');
    expect(await page.textContent('#route-lead-hint')).toContain('调度员指定');
    await page.selectOption('#route-jurisdiction', 'lijiatang');
    await page.fill('#route-reason', '地点应为李家塘办事处');
    await Promise.all([page.waitForNavigation(), page.click('#route-form button[type=submit]')]);
    expect(await page.textContent('#done')).toBe('已重新派发。');
    expect(await leadOf(seeded.id)).toEqual(['land']);
    expect((await findCase(web.service.deps.db, seeded.id))?.jurisdictionCode).toBe('lijiatang');

    // A new type by the routing table is one choice of the lead: noise goes to the EPB.
    expect(await page.inputValue('#route-lead')).toBe('land');
    await page.selectOption('#route-type', 'noise');
    await page.selectOption('#route-lead', '');
    await page.fill('#route-reason', '实为噪声扰民');
    await Promise.all([page.waitForNavigation(), page.click('#route-form button[type=submit]')]);
    expect(await leadOf(seeded.id)).toEqual(['epb']);
    // The routing table's own lead: the form starts on the routing table again, which follows a changed type.
    expect(await page.inputValue('#route-lead')).toBe('');
    await context.close();
  });

  it('refuses a type handed to 12345 with the lead left on the one a dispatcher picked, as without a lead', async () => {
    const seeded = await seedCase(web.service, web.clock, {
      text: '路灯坏了（指定牵头转办测试）',
      type: 'illegal_discharge',
      assignments: [
        { unit: 'land', role: 'lead' },
        { unit: 'xinglong', role: 'jurisdiction' },
      ],
    });
    const desk = formClient(base, fromNewAddress());
    await desk.signIn('dispatcher');
    const html = await (await desk.get(`/desk/cases/${seeded.id}`)).text();
    const csrf = /name="_csrf" value="([^"]+)"/.exec(html)![1]!;
    expect(html).toContain('name="leadWas" value="land"');
    const res = await desk.post(`/desk/cases/${seeded.id}/route`, { _csrf: csrf, type: 'other', lead: 'land', leadWas: 'land', coFrom: 'rule', jurisdiction: 'xinglong', reason: '不是环境问题' });
    expect(res.status).toBe(400);
    expect(/id="route-type-error"[^>]*>([^<]*)</.exec(await res.text())?.[1]).toBe('该类型为非环境类诉求，应转12345热线：请使用“转12345热线”');
    expect((await findCase(web.service.deps.db, seeded.id))?.typeCode).toBe('illegal_discharge');
    expect(await leadOf(seeded.id)).toEqual(['land']);
    // Ticked to keep it, that lead keeps the case under the new type: a dispatcher's call, as the API allows.
    expect(html).toContain('name="keepLead"');
    const kept = await desk.post(`/desk/cases/${seeded.id}/route`, { _csrf: csrf, type: 'other', lead: 'land', leadWas: 'land', keepLead: '1', coFrom: 'rule', jurisdiction: 'xinglong', reason: '由国土部门一并处理' });
    expect(kept.status).toBe(303);
    expect(await findCase(web.service.deps.db, seeded.id)).toMatchObject({ typeCode: 'other', status: 'dispatched' });
    expect(await leadOf(seeded.id)).toEqual(['land']);
  });

  it("routes with the co-handlers ticked on the case page, starting from the routing table's and keeping ones a dispatcher picked", async () => {
    // Illegal discharge: the EPB leads, the economy commission co-handles, Xinglong is the local office.
    const seeded = await seedCase(web.service, web.clock, { text: '兴隆办事处电镀厂偷排（协办单位测试）', type: 'illegal_discharge' });
    const live = async (id: string) =>
      (await listAssignments(web.service.deps.db, id))
        .filter((a) => a.status === 'pending')
        .map((a) => `${a.role}:${a.unitCode}`)
        .sort();
    const submit = () => Promise.all([page.waitForNavigation(), page.click('#route-form button[type=submit]')]);
    const { page, context } = await newPage();
    await context.setExtraHTTPHeaders(fromNewAddress());
    await signIn(page, base, 'dispatcher', undefined, `/desk/cases/${seeded.id}`);
    expect(await page.isChecked('#route-co-rule')).toBe(true);
    expect(await page.isChecked('#route-co-econ')).toBe(true);
    expect(await page.isChecked('#route-co-police')).toBe(false);
    // Ticking a bureau takes the ticked ones instead of the routing table's.
    await page.check('#route-co-police');
    await page.uncheck('#route-co-econ');
    expect(await page.isChecked('#route-co-chosen')).toBe(true);
    // A refused submit keeps what was ticked.
    await page.evaluate("document.querySelector('#route-reason').removeAttribute('required')");
    await submit();
    expect(await page.textContent('#route-reason-error')).toContain('请填写');
    expect([await page.isChecked('#route-co-chosen'), await page.isChecked('#route-co-police'), await page.isChecked('#route-co-econ')]).toEqual([true, true, false]);
    await page.fill('#route-reason', '涉嫌犯罪，公安协办');
    await submit();
    expect(await page.textContent('#done')).toBe('已重新派发。');
    expect(await live(seeded.id)).toEqual(['co:police', 'jurisdiction:xinglong', 'lead:epb']);

    // The page starts on the co-handlers picked; correcting only the place keeps them.
    expect([await page.isChecked('#route-co-chosen'), await page.isChecked('#route-co-police'), await page.isChecked('#route-co-econ')]).toEqual([true, true, false]);
    expect(await page.textContent('label[for="route-co-police"]')).toContain('（当前）');
    await page.selectOption('#route-jurisdiction', 'lijiatang');
    await page.fill('#route-reason', '地点更正');
    await submit();
    expect(await live(seeded.id)).toEqual(['co:police', 'jurisdiction:lijiatang', 'lead:epb']);

    // Nothing ticked: no co-handler; the local office stays.
    await page.uncheck('#route-co-police');
    await page.fill('#route-reason', '无需协办');
    await submit();
    expect(await live(seeded.id)).toEqual(['jurisdiction:lijiatang', 'lead:epb']);
    await context.close();
  });

  it('does not offer the bureau that will lead as a co-handler, following the lead and type chosen in the form', async () => {
    // Illegal discharge: the EPB leads, the economy commission co-handles, Xinglong is the local office.
    const seeded = await seedCase(web.service, web.clock, { text: '兴隆办事处电镀厂偷排（牵头不作协办测试）', type: 'illegal_discharge' });
    const live = async () =>
      (await listAssignments(web.service.deps.db, seeded.id))
        .filter((a) => a.status === 'pending')
        .map((a) => `${a.role}:${a.unitCode}`)
        .sort();
    const { page, context } = await newPage();
    await context.setExtraHTTPHeaders(fromNewAddress());
    await signIn(page, base, 'dispatcher', undefined, `/desk/cases/${seeded.id}`);
    const box = async (code: string) => [await page.isChecked(`#route-co-${code}`), await page.isDisabled(`#route-co-${code}`), await page.isVisible(`label[for="route-co-${code}"] [data-lead-mark]`)];
    // From the routing table: the EPB leads, so its box is no choice.
    expect(await box('epb')).toEqual([false, true, true]);
    expect(await box('econ')).toEqual([true, false, false]);
    // Picking the economy commission as lead takes it out of the co-handlers; the EPB can co-handle again.
    await page.selectOption('#route-lead', 'econ');
    expect(await box('econ')).toEqual([false, true, true]);
    expect(await box('epb')).toEqual([false, false, false]);
    // Back to the routing table's lead: the economy commission is ticked again, as it was.
    await page.selectOption('#route-lead', '');
    expect(await box('econ')).toEqual([true, false, false]);
    // A type whose lead is another bureau follows the chosen type: irrigation water goes to the water bureau.
    await page.selectOption('#route-type', 'irrigation_water');
    expect(await box('water')).toEqual([false, true, true]);
    expect(await box('epb')).toEqual([false, false, false]);
    expect(await box('agri')).toEqual([true, false, false]);
    await page.selectOption('#route-type', 'illegal_discharge');

    // The police station, ticked, then picked to lead: it leads, and is no co-handler.
    await page.check('#route-co-police');
    await page.selectOption('#route-lead', 'police');
    expect(await box('police')).toEqual([false, true, true]);
    await page.fill('#route-reason', '涉嫌犯罪，公安牵头');
    await Promise.all([page.waitForNavigation(), page.click('#route-form button[type=submit]')]);
    expect(await page.textContent('#done')).toBe('已重新派发。');
    expect(await live()).toEqual(['co:econ', 'jurisdiction:xinglong', 'lead:police']);
    // The page drawn again starts consistent: the lead a dispatcher picked is not offered as a co-handler.
    expect(await page.inputValue('#route-lead')).toBe('police');
    expect(await box('police')).toEqual([false, true, true]);
    expect(await box('econ')).toEqual([true, false, false]);
    await context.close();

    // Without scripts every box is a choice: the new lead ticked as a co-handler is dropped by the server, as the API
    // does; the old lead, ticked in the same submit, co-handles.
    const bare = await (await browser()).newContext({ locale: 'zh-CN', javaScriptEnabled: false, extraHTTPHeaders: fromNewAddress() });
    const noScript = await bare.newPage();
    await signIn(noScript, base, 'dispatcher', undefined, `/desk/cases/${seeded.id}`);
    expect(await noScript.isDisabled('#route-co-police')).toBe(false);
    expect(await noScript.isVisible('label[for="route-co-police"] [data-lead-mark]')).toBe(true);
    await noScript.selectOption('#route-lead', 'econ');
    await noScript.check('#route-co-chosen');
    await noScript.check('#route-co-econ');
    await noScript.check('#route-co-police');
    await noScript.fill('#route-reason', '经信委牵头');
    await Promise.all([noScript.waitForNavigation(), noScript.click('#route-form button[type=submit]')]);
    expect(await live()).toEqual(['co:police', 'jurisdiction:xinglong', 'lead:econ']);
    await bare.close();
  });

  it("shows the routing table's co-handlers of the type chosen in the form, and routes with them", async () => {
    const seeded = await seedCase(web.service, web.clock, { status: 'triage', type: 'water_pollution', confidence: 0.4, text: '回龙村后山矿上的尾矿库渗水（协办规则测试）' });
    const { page, context } = await newPage();
    await context.setExtraHTTPHeaders(fromNewAddress());
    await signIn(page, base, 'dispatcher', undefined, `/desk/cases/${seeded.id}`);
    const ticked = async () => (await page.$$eval('#route-co input[data-co-choice]:checked', (boxes) => boxes.map((b) => b.getAttribute('value')))).sort();
    expect(await page.isChecked('#route-co-rule')).toBe(true);
    expect(await ticked()).toEqual(['water']);
    // Mining tailings: the work-safety and land bureaus co-handle.
    await page.selectOption('#route-type', 'mining_tailings');
    expect(await ticked()).toEqual(['land', 'safety']);
    await page.selectOption('#route-jurisdiction', 'huilongxu');
    await page.fill('#route-reason', '尾矿污染');
    await Promise.all([page.waitForNavigation(), page.click('#route-form button[type=submit]')]);
    const live = (await listAssignments(web.service.deps.db, seeded.id)).filter((a) => a.status === 'pending').map((a) => `${a.role}:${a.unitCode}`);
    expect(live.sort()).toEqual(['co:land', 'co:safety', 'jurisdiction:huilongxu', 'lead:epb']);
    await context.close();
  });

  it('merges a duplicate into another case by its tracking code or reference, and names a wrong code next to the field', async () => {
    const original = await seedCase(web.service, web.clock);
    const duplicate = await seedCase(web.service, web.clock);
    const client = formClient(base, fromNewAddress());
    await client.signIn('dispatcher');
    const csrf = await client.token(`/desk/cases/${duplicate.id}`);
    const bad = await client.post(`/desk/cases/${duplicate.id}/merge`, { _csrf: csrf, into: 'NOPE-NOPE', reason: '重复', confirm: '1' });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('id="merge-into-error"');
    expect((await findCase(web.service.deps.db, duplicate.id))?.status).toBe('dispatched');
    // Into itself: said in Chinese, above the form and next to the field.
    const itself = await client.post(`/desk/cases/${duplicate.id}/merge`, { _csrf: csrf, into: duplicate.trackingCode, reason: '重复', confirm: '1' });
    expect(itself.status).toBe(400);
    const page = await itself.text();
    expect(page).toContain('不能合并到本案件自身，请填写另一个案件的查询码或工单号。');
    expect(page).toContain('请按提示修改后再提交。');
    expect(page).not.toContain('merged into itself');

    const spaced = `${original.trackingCode.slice(0, 5)}-${original.trackingCode.slice(5)}`.toLowerCase();
    const ok = await client.post(`/desk/cases/${duplicate.id}/merge`, { _csrf: csrf, into: spaced, reason: '同一工厂重复举报', confirm: '1' });
    expect(ok.status).toBe(303);
    const merged = await findCase(web.service.deps.db, duplicate.id);
    expect(merged?.status).toBe('merged');
    expect(merged?.mergedInto).toBe(original.id);

    // A case named by its reference (工单号), as a bureau's group post gives it, is found too.
    const third = await seedCase(web.service, web.clock);
    const byReference = await client.post(`/desk/cases/${third.id}/merge`, { _csrf: csrf, into: `工单号：${caseReference(original.id)}`, reason: '同一工厂第三次举报', confirm: '1' });
    expect(byReference.status).toBe(303);
    expect((await findCase(web.service.deps.db, third.id))?.mergedInto).toBe(original.id);
  });

  it('asks before merging a case from its page, and merges nothing when the dispatcher thinks again', async () => {
    const original = await seedCase(web.service, web.clock, { text: '兴隆办事处电镀厂排黑水（并案确认测试）' });
    const duplicate = await seedCase(web.service, web.clock, { text: '兴隆办事处电镀厂又排黑水了（并案确认测试）' });
    const { page, context } = await newPage();
    await context.setExtraHTTPHeaders(fromNewAddress());
    await signIn(page, base, 'dispatcher', undefined, `/desk/cases/${duplicate.id}`);
    await page.fill('#merge-into', original.trackingCode);
    const asked: string[] = [];
    page.once('dialog', (d) => {
      asked.push(d.message());
      void d.dismiss();
    });
    // With scripts the question replaces the box that asks it without them.
    expect(await page.isVisible('#merge-confirm')).toBe(false);
    await page.click('section[aria-labelledby="h-merge"] button[type=submit]');
    expect(asked).toEqual(['确定并案？本案将关闭，此后按并入的案件办理。']);
    expect((await findCase(web.service.deps.db, duplicate.id))?.status).toBe('dispatched');
    expect(await page.isChecked('#merge-confirm')).toBe(false);
    // What was typed is still there; confirmed, the case is merged.
    expect(await page.inputValue('#merge-into')).toBe(original.trackingCode);
    page.once('dialog', (d) => void d.accept());
    await Promise.all([page.waitForNavigation(), page.click('section[aria-labelledby="h-merge"] button[type=submit]')]);
    expect(await page.textContent('#done')).toBe('已并案。');
    expect((await findCase(web.service.deps.db, duplicate.id))?.mergedInto).toBe(original.id);
    await context.close();
  });

  it('marks a case urgent from its route form when the dispatcher ticks the box, and leaves urgency to the routing otherwise', async () => {
    const seeded = await seedCase(web.service, web.clock, { text: '厂后面堆了好多桶（页面紧急测试）', status: 'triage', type: 'other', confidence: 0.3 });
    const desk = formClient(base, fromNewAddress());
    await desk.signIn('dispatcher');
    const page = await (await desk.get(`/desk/cases/${seeded.id}`)).text();
    expect(page).toMatch(/<input type="checkbox" id="route-urgent" name="urgent" value="1"\s*\/?>/);
    const csrf = await desk.token(`/desk/cases/${seeded.id}`);
    // Left unticked as the page showed it: an urgent type makes the case urgent all the same.
    const routed = await desk.post(`/desk/cases/${seeded.id}/route`, { _csrf: csrf, type: 'hazardous_waste', jurisdiction: '', reason: '按危废派发', urgentWas: '0' });
    expect(routed.status).toBe(303);
    expect((await findCase(web.service.deps.db, seeded.id))?.urgent).toBe(true);
    // Unticked on a page that showed it urgent: the dispatcher says it is not.
    const calm = await desk.post(`/desk/cases/${seeded.id}/route`, { _csrf: csrf, type: 'hazardous_waste', jurisdiction: '', reason: '核实为空桶', urgentWas: '1' });
    expect(calm.status).toBe(303);
    expect((await findCase(web.service.deps.db, seeded.id))?.urgent).toBe(false);
    // Ticked: urgent again.
    const marked = await desk.post(`/desk/cases/${seeded.id}/route`, { _csrf: csrf, type: 'hazardous_waste', jurisdiction: '', reason: '又发现渗漏', urgentWas: '0', urgent: '1' });
    expect(marked.status).toBe(303);
    expect((await findCase(web.service.deps.db, seeded.id))?.urgent).toBe(true);
  });

  it('refuses a merge, a handover to 12345, their undoing and a release sent without their box ticked (a page without scripts), naming the box, doing nothing, keeping what was typed', async () => {
    const original = await seedCase(web.service, web.clock, { text: '兴隆办事处电镀厂排黑水（无脚本确认测试）' });
    const duplicate = await seedCase(web.service, web.clock, {
      text: '兴隆办事处电镀厂又排黑水了（无脚本确认测试）',
      assignments: [
        { unit: 'epb', role: 'lead' },
        { unit: 'econ', role: 'co' },
      ],
    });
    const client = formClient(base, fromNewAddress());
    await client.signIn('dispatcher');
    const csrf = await client.token(`/desk/cases/${duplicate.id}`);
    const events = async () => (await web.service.deps.db.selectFrom('case_events').select('id').where('case_id', '=', duplicate.id).execute()).length;
    const before = await events();
    /** The message next to a form's box, and whether the page kept what was typed. */
    const refused = async (res: Response, form: string, typed: string) => {
      expect(res.status).toBe(400);
      const html = await res.text();
      expect(html).toContain(typed);
      expect(html).toMatch(new RegExp(`<input type="checkbox" id="${form}-confirm" name="confirm" value="1" required`));
      return new RegExp(`id="${form}-confirm-error"[^>]*>([^<]*)<`).exec(html)?.[1] ?? '';
    };
    const post = (action: string, fields: Record<string, string>) => client.post(`/desk/cases/${duplicate.id}/${action}`, { _csrf: csrf, ...fields });

    expect(await refused(await post('merge', { into: original.trackingCode, reason: '同一工厂重复举报（未确认）' }), 'merge', '同一工厂重复举报（未确认）')).toBe('请勾选“确认并案”后再提交。');
    expect(await refused(await post('transfer', { reason: '属城管职责（未确认）' }), 'transfer', '属城管职责（未确认）')).toBe('请勾选“确认转12345热线”后再提交。');
    expect(await refused(await post('release', { unit: 'econ', reason: '无需协办（未确认）' }), 'release', '无需协办（未确认）')).toBe('请勾选“确认撤回该单位”后再提交。');
    // The one-click suggestion to hand the case to 12345 asks too.
    expect(await refused(await post('transfer', { reason: '按分类建议转12345热线', version: '1' }), 'transfer', '按分类建议转12345热线')).toBe('请勾选“确认转12345热线”后再提交。');
    expect(await events()).toBe(before);
    expect((await findCase(web.service.deps.db, duplicate.id))?.status).toBe('dispatched');
    expect((await listAssignments(web.service.deps.db, duplicate.id)).find((a) => a.unitCode === 'econ')?.status).toBe('pending');

    // Merged (ticked), the undoing asks too; then handed to 12345 and undone the same way.
    expect((await post('merge', { into: original.trackingCode, reason: '重复举报', confirm: '1' })).status).toBe(303);
    expect(await refused(await post('unmerge', { reason: '并错了（未确认）' }), 'unmerge', '并错了（未确认）')).toBe('请勾选“确认撤销并案”后再提交。');
    expect((await findCase(web.service.deps.db, duplicate.id))?.status).toBe('merged');
    expect((await post('unmerge', { reason: '并错了', confirm: '1' })).status).toBe(303);
    expect((await post('transfer', { reason: '非环境类诉求', confirm: '1' })).status).toBe(303);
    expect(await refused(await post('untransfer', { reason: '属环境问题（未确认）' }), 'untransfer', '属环境问题（未确认）')).toBe('请勾选“确认撤销转办”后再提交。');
    expect((await findCase(web.service.deps.db, duplicate.id))?.status).toBe('transferred');
    // Said in English on the English desk; a box sent with anything but its value is not ticked.
    expect(await refused(await post('untransfer?lang=en', { reason: 'environmental after all', confirm: 'on' }), 'untransfer', 'environmental after all')).toBe(
      'Tick &quot;Confirm undoing the transfer&quot; to undo it.',
    );
    expect((await findCase(web.service.deps.db, duplicate.id))?.status).toBe('transferred');
  });

  it('shows the box to tick in a browser without scripts, which will not send the merge until it is ticked', async () => {
    const original = await seedCase(web.service, web.clock, { text: '兴隆办事处电镀厂排黑水（无脚本浏览器测试）' });
    const duplicate = await seedCase(web.service, web.clock, { text: '兴隆办事处电镀厂又排黑水了（无脚本浏览器测试）' });
    const context = await (await browser()).newContext({ locale: 'zh-CN', javaScriptEnabled: false, extraHTTPHeaders: fromNewAddress() });
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    await signIn(page, base, 'dispatcher', undefined, `/desk/cases/${duplicate.id}`);
    expect(await page.isVisible('#merge-confirm')).toBe(true);
    expect(await page.textContent('label[for="merge-confirm"]')).toBe(' 确认并案（本案将关闭，此后按并入的案件办理）');
    await page.fill('#merge-into', original.trackingCode);
    // Unticked, the browser keeps the form.
    await page.click('section[aria-labelledby="h-merge"] button[type=submit]');
    expect(new URL(page.url()).pathname).toBe(`/desk/cases/${duplicate.id}`);
    expect((await findCase(web.service.deps.db, duplicate.id))?.status).toBe('dispatched');
    await page.check('#merge-confirm');
    await Promise.all([page.waitForNavigation(), page.click('section[aria-labelledby="h-merge"] button[type=submit]')]);
    expect(await page.textContent('#done')).toBe('已并案。');
    expect((await findCase(web.service.deps.db, duplicate.id))?.mergedInto).toBe(original.id);
    await context.close();
  });

  it('switches the language of a case page a refused action sent back: to the case page, with what was typed, said in English', async () => {
    const duplicate = await seedCase(web.service, web.clock, { text: '兴隆办事处电镀厂排黑水（切换语言测试）' });
    const { page, context } = await newPage();
    await context.setExtraHTTPHeaders(fromNewAddress());
    await signIn(page, base, 'dispatcher', undefined, `/desk/cases/${duplicate.id}?lang=en`);
    // Merged into itself: refused, the page sent back by the POST says so as a sentence and names the field.
    await page.fill('#merge-into', duplicate.trackingCode);
    await page.fill('#merge-reason', 'same factory, reported twice');
    page.once('dialog', (d) => void d.accept());
    await Promise.all([page.waitForNavigation(), page.click('section[aria-labelledby="h-merge"] button[type=submit]')]);
    expect(page.url()).toBe(`${base}/desk/cases/${duplicate.id}/merge`);
    expect(await page.textContent('#merge-problem')).toBe('Please correct what is marked and send it again.');
    expect(await page.textContent('#merge-into-error')).toContain('A case cannot be merged into itself: give the tracking code or reference of another case.');
    // The switch leads to the case's own page (the POST's address has none), what was typed kept.
    const switchHref = await page.getAttribute('header.site a[hreflang]', 'href');
    expect(switchHref).toBe(`/desk/cases/${duplicate.id}?lang=zh`);
    await Promise.all([page.waitForNavigation(), page.click('header.site a[hreflang]')]);
    expect(page.url()).toBe(`${base}/desk/cases/${duplicate.id}?lang=zh`);
    expect(await page.textContent('#h-merge')).toBe('并案');
    expect(await page.inputValue('#merge-into')).toBe(duplicate.trackingCode);
    expect(await page.inputValue('#merge-reason')).toBe('same factory, reported twice');
    // The resident's words on the English page are marked as Chinese, for screen readers.
    await page.goto(`${base}/desk/cases/${duplicate.id}?lang=en`);
    expect(await page.getAttribute('#case-text', 'lang')).toBe('zh-CN');
    expect((await findCase(web.service.deps.db, duplicate.id))?.status).toBe('dispatched');
    await context.close();
  });

  it('undoes a merge from the merged case\'s page, after asking, and names a missing reason next to the field', async () => {
    const original = await seedCase(web.service, web.clock, { text: '兴隆办事处电镀厂排黑水（撤销并案测试）' });
    const duplicate = await seedCase(web.service, web.clock, { text: '回龙村养猪场粪水直排（撤销并案测试）' });
    const client = formClient(base, fromNewAddress());
    await client.signIn('dispatcher');
    // No merge, no form to undo one.
    expect(await (await client.get(`/desk/cases/${duplicate.id}`)).text()).not.toContain('id="h-unmerge"');
    let csrf = await client.token(`/desk/cases/${duplicate.id}`);
    expect((await client.post(`/desk/cases/${duplicate.id}/merge`, { _csrf: csrf, into: original.trackingCode, reason: '重复举报', confirm: '1' })).status).toBe(303);
    csrf = await client.token(`/desk/cases/${duplicate.id}`);
    const missing = await client.post(`/desk/cases/${duplicate.id}/unmerge`, { _csrf: csrf, reason: ' ', confirm: '1' });
    expect(missing.status).toBe(400);
    expect(await missing.text()).toContain('id="unmerge-reason-error"');
    expect((await findCase(web.service.deps.db, duplicate.id))?.status).toBe('merged');

    const { page, context } = await newPage();
    await context.setExtraHTTPHeaders(fromNewAddress());
    await signIn(page, base, 'dispatcher', undefined, `/desk/cases/${duplicate.id}`);
    // The case it was merged into, by reference and tracking code, and a link to its page.
    expect(await page.textContent('#merged-into')).toContain(`${caseReference(original.id)} · ${original.trackingCode}`);
    expect(await page.textContent('#merged-into-hint')).toContain('请勿告诉本案举报人');
    expect(await page.getAttribute(`section[aria-labelledby="h-unmerge"] a[href="/desk/cases/${original.id}"]`, 'href')).not.toBeNull();
    await page.fill('#unmerge-reason', '不是同一个问题');
    const asked: string[] = [];
    page.once('dialog', (d) => {
      asked.push(d.message());
      void d.dismiss();
    });
    await page.click('section[aria-labelledby="h-unmerge"] button[type=submit]');
    expect(asked).toEqual(['确定撤销并案？本案将回到待分派。']);
    expect((await findCase(web.service.deps.db, duplicate.id))?.status).toBe('merged');
    page.once('dialog', (d) => void d.accept());
    await Promise.all([page.waitForNavigation(), page.click('section[aria-labelledby="h-unmerge"] button[type=submit]')]);
    expect(await page.textContent('#done')).toBe('已撤销并案，本案回到待分派。');
    const after = await findCase(web.service.deps.db, duplicate.id);
    expect(after).toMatchObject({ status: 'triage', mergedInto: null, triageReason: 'unmerged' });
    // Back on the desk's triage list, with why.
    await page.goto(`${base}/desk`);
    expect(await page.textContent(`li[data-case="${duplicate.trackingCode}"]`)).toContain('撤销并案');
    await context.close();
  });

  it('undoes a transfer to 12345 from the transferred case\'s page, after asking, and names a missing reason next to the field', async () => {
    // The classifier took it for something that is not environmental.
    const seeded = await seedCase(web.service, web.clock, { text: '化工厂往河里倒废液（撤销转办测试）', type: 'other', status: 'triage' });
    const client = formClient(base, fromNewAddress());
    await client.signIn('dispatcher');
    // Not transferred, no form to undo a transfer; the triage card suggests handing it to 12345.
    expect(await (await client.get(`/desk/cases/${seeded.id}`)).text()).not.toContain('id="h-untransfer"');
    const card = /<li class="card" data-case="(\w+)"[\s\S]*?<\/li>/g;
    const cardOf = (html: string) => [...html.matchAll(card)].find((m) => m[1] === seeded.trackingCode)?.[0] ?? '';
    expect(cardOf(await (await client.get('/desk')).text())).toContain('data-suggestion="other"');
    let csrf = await client.token(`/desk/cases/${seeded.id}`);
    expect((await client.post(`/desk/cases/${seeded.id}/transfer`, { _csrf: csrf, reason: '非环境类诉求', confirm: '1' })).status).toBe(303);
    csrf = await client.token(`/desk/cases/${seeded.id}`);
    const missing = await client.post(`/desk/cases/${seeded.id}/untransfer`, { _csrf: csrf, reason: ' ', confirm: '1' });
    expect(missing.status).toBe(400);
    expect(await missing.text()).toContain('id="untransfer-reason-error"');
    expect((await findCase(web.service.deps.db, seeded.id))?.status).toBe('transferred');

    const { page, context } = await newPage();
    await context.setExtraHTTPHeaders(fromNewAddress());
    await signIn(page, base, 'dispatcher', undefined, `/desk/cases/${seeded.id}`);
    // A transferred case is not routed from its page: the transfer is undone first.
    expect(await page.$('#route-form')).toBeNull();
    expect(await page.inputValue('#untransfer-reason')).toBe('属环境问题');
    await page.fill('#untransfer-reason', '倒的是废液，属环境问题');
    const asked: string[] = [];
    page.once('dialog', (d) => {
      asked.push(d.message());
      void d.dismiss();
    });
    await page.click('section[aria-labelledby="h-untransfer"] button[type=submit]');
    expect(asked).toEqual(['确定撤销转办？本案将回到待分派。']);
    expect((await findCase(web.service.deps.db, seeded.id))?.status).toBe('transferred');
    page.once('dialog', (d) => void d.accept());
    await Promise.all([page.waitForNavigation(), page.click('section[aria-labelledby="h-untransfer"] button[type=submit]')]);
    expect(await page.textContent('#done')).toBe('已撤销转办，本案回到待分派。');
    expect(await findCase(web.service.deps.db, seeded.id)).toMatchObject({ status: 'triage', triageReason: 'untransferred' });
    expect(await page.$('#route-form')).not.toBeNull();
    // Back on the desk's triage list, with why, and no suggestion to hand it over again.
    await page.goto(`${base}/desk`);
    expect(await page.textContent(`li[data-case="${seeded.trackingCode}"]`)).toContain('撤销转办');
    expect(await page.$(`li[data-case="${seeded.trackingCode}"] button[data-suggestion="other"]`)).toBeNull();
    expect(await page.$(`li[data-case="${seeded.trackingCode}"] button[data-suggestion="water_pollution"]`)).not.toBeNull();
    await context.close();
  });

  it('lists overdue cases with a supervise button, and decides extension requests', async () => {
    const late = await seedCase(web.service, web.clock, { text: '兴隆办事处电镀厂偷排，超期未签收测试' });
    const asking = await seedCase(web.service, web.clock, { assignments: [{ unit: 'epb', role: 'lead' }] });
    web.clock.advance(30 * 3600_000);
    const requestId = (await requestExtension(web.service.deps, epbClerk(), asking.id, { workingDays: 5, reason: '需要委托检测重金属' })).done!.id;

    const { page, context } = await newPage();
    await context.setExtraHTTPHeaders(fromNewAddress());
    await signIn(page, base, 'dispatcher');
    const row = `#overdue tr[data-case="${late.trackingCode}"]`;
    expect(await page.textContent(row)).toContain('已超期');
    await Promise.all([page.waitForNavigation(), page.click(`${row} button[type=submit]`)]);
    expect(await page.textContent('#done')).toContain('已督办');
    expect((await findCase(web.service.deps.db, late.id))?.supervisedAt).not.toBeNull();

    const ext = `li[data-extension="${requestId}"]`;
    expect(await page.textContent(ext)).toContain('需要委托检测重金属');
    await Promise.all([page.waitForNavigation(), page.click(`${ext} form[action$="/approve"] button`)]);
    expect(await page.textContent('#done')).toBe('已批准延期。');
    const decided = await web.service.deps.db.selectFrom('extension_requests').select(['status', 'decided_by']).where('id', '=', requestId).executeTakeFirst();
    expect(decided).toEqual({ status: 'approved', decided_by: web.userIds.dispatcher });
    await context.close();
  });

  it('lists the longest overdue first: a case nobody signed for before one whose reply deadline passed later', async () => {
    const unsigned = await seedCase(web.service, web.clock, { text: '超期排序测试：一直没有签收', assignments: [{ unit: 'epb', role: 'lead' }] });
    const db = web.service.deps.db;
    const t0 = web.clock.now().getTime();
    web.clock.advance(3600_000);
    // Signed for at once, but its (shortened) reply deadline passed 6 hours after the other's sign-for deadline.
    const lateReply = await seedCase(web.service, web.clock, { text: '超期排序测试：答复超期', assignments: [{ unit: 'epb', role: 'lead' }] });
    const replyBy = new Date(t0 + 30 * 3600_000).toISOString();
    const at = web.clock.now().toISOString();
    await db.updateTable('assignments').set({ status: 'accepted', accepted_at: at, reply_deadline_at: replyBy }).where('case_id', '=', lateReply.id).execute();
    await db.updateTable('cases').set({ status: 'accepted', reply_deadline_at: replyBy }).where('id', '=', lateReply.id).execute();
    web.clock.set(new Date(t0 + 48 * 3600_000));

    const desk = formClient(base, fromNewAddress());
    await desk.signIn('dispatcher');
    const html = await (await desk.get('/desk')).text();
    const table = html.slice(html.indexOf('id="overdue"'));
    const first = table.indexOf(`data-case="${unsigned.trackingCode}"`);
    const second = table.indexOf(`data-case="${lateReply.trackingCode}"`);
    expect(first).toBeGreaterThan(0);
    expect(second).toBeGreaterThan(0);
    // Overdue for 24 hours (not signed for) comes before overdue for 18 hours (not replied).
    expect(first).toBeLessThan(second);
  });

  it('says on the overdue list since which deadline a case is overdue, a co-handler\'s or a sign-for one, not the lead\'s reply deadline still ahead', async () => {
    const seeded = await seedCase(web.service, web.clock, { text: '超期列表期限测试：协办单位未签收', assignments: [{ unit: 'epb', role: 'lead' }, { unit: 'econ', role: 'co' }] });
    await acceptAssignment(web.service.deps, epbClerk(), seeded.id);
    // The co-handler's sign-for deadline passed a day ago; the lead's reply deadline lies days ahead.
    const missed = new Date(web.clock.now().getTime() - 24 * 3600_000);
    await web.service.deps.db.updateTable('assignments').set({ sign_deadline_at: missed.toISOString() }).where('case_id', '=', seeded.id).where('unit_code', '=', 'econ').execute();
    const desk = formClient(base, fromNewAddress());
    await desk.signIn('dispatcher');
    const html = await (await desk.get('/desk')).text();
    expect(html).toContain('<th scope="col">超期自</th>');
    const row = new RegExp(`<tr data-case="${seeded.trackingCode}">[\\s\\S]*?</tr>`).exec(html)?.[0] ?? '';
    const cells = [...row.matchAll(/<td>([\s\S]*?)<\/td>/g)].map((m) => m[1]!);
    const due = cells[3]!.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim();
    expect(due).toBe(`${formatTime(missed.toISOString(), 'zh', web.service.deps.district.file.district.timezone)} 已超期`);
  });

  it('supervises an overdue case once when the button is pressed twice: the units get one 督办', async () => {
    const late = await seedCase(web.service, web.clock, { text: '督办两次测试：超期未签收', assignments: [{ unit: 'epb', role: 'lead' }] });
    web.clock.advance(30 * 3600_000);
    const desk = formClient(base, fromNewAddress());
    await desk.signIn('dispatcher');
    const html = await (await desk.get('/desk')).text();
    const row = html.slice(html.indexOf(`<tr data-case="${late.trackingCode}"`));
    const form = row.slice(0, row.indexOf('</form>'));
    const fields = hiddenFields(form);
    const first = await desk.post(`/desk/cases/${(/action="\/desk\/cases\/([^/]+)\/supervise"/.exec(form) ?? [])[1]}/supervise`, fields);
    expect(first.status).toBe(303);
    // The same form again (a double click, or a second dispatcher on the same list): a notice, no second 督办.
    const second = await desk.post(`/desk/cases/${late.id}/supervise`, fields);
    expect(second.status).toBe(409);
    expect(await second.text()).toContain('案件已被他人更新');
    const sent = (await notificationsOf(web.service, late.id)).filter((n) => n.kind === 'supervision');
    expect(sent).toHaveLength(1);
    const events = await web.service.deps.db.selectFrom('case_events').select('id').where('case_id', '=', late.id).where('kind', '=', 'supervised').execute();
    expect(events).toHaveLength(1);
  });

  it('says in Chinese why a co-handler cannot be released once it has replied since the page was loaded', async () => {
    const seeded = await seedCase(web.service, web.clock, { text: '撤回已答复的协办单位', assignments: [{ unit: 'epb', role: 'lead' }, { unit: 'econ', role: 'co' }] });
    const desk = formClient(base, fromNewAddress());
    await desk.signIn('dispatcher');
    const csrf = await desk.token(`/desk/cases/${seeded.id}`);
    // While the dispatcher reads the case, the co-handler answers its part.
    await acceptAssignment(web.service.deps, econClerk(), seeded.id);
    await replyAssignment(web.service.deps, econClerk(), seeded.id, { text: '已配合环保局核查，企业用电正常。' });
    const res = await desk.post(`/desk/cases/${seeded.id}/release`, { _csrf: csrf, unit: 'econ', reason: '无需协办', confirm: '1' });
    expect(res.status).toBe(409);
    const econ = web.service.deps.district.units.get('econ')!.name;
    expect(actionProblem(await res.text())).toBe(`${econ.zh}在此案件当前的办理中已无可撤回的任务（已答复、已被撤回，或未派给该单位），无需撤回。`);
    expect((await listAssignments(web.service.deps.db, seeded.id)).find((a) => a.unitCode === 'econ')?.status).toBe('replied');
    // The English desk says it in English, naming the unit, not by its code.
    const en = await desk.post(`/desk/cases/${seeded.id}/release?lang=en`, { _csrf: csrf, unit: 'econ', reason: 'not needed', confirm: '1' });
    expect(en.status).toBe(409);
    expect(actionProblem(await en.text())).toBe(
      `${econ.en} has nothing open on this case to release (it replied, was released already, or was not given the case).`,
    );
  });

  it('says in Chinese that an extension request approved in another tab is already decided', async () => {
    const asking = await seedCase(web.service, web.clock, { text: '两个标签页审批同一延期申请', assignments: [{ unit: 'epb', role: 'lead' }] });
    const requestId = (await requestExtension(web.service.deps, epbClerk(), asking.id, { workingDays: 3, reason: '等待第三方检测' })).done!.id;
    const one = await newPage();
    const two = await newPage();
    const headers = fromNewAddress();
    await one.context.setExtraHTTPHeaders(headers);
    await two.context.setExtraHTTPHeaders(headers);
    await signIn(one.page, base, 'dispatcher');
    await signIn(two.page, base, 'dispatcher');
    const approve = `li[data-extension="${requestId}"] form[action$="/approve"] button`;
    await Promise.all([one.page.waitForNavigation(), one.page.click(approve)]);
    expect(await one.page.textContent('#done')).toBe('已批准延期。');
    // The second tab still shows the request: approving it again is refused, in Chinese, and nothing moves twice.
    const [res] = await Promise.all([two.page.waitForNavigation(), two.page.click(approve)]);
    expect(res?.status()).toBe(409);
    expect(await two.page.textContent('#action-problem')).toBe('该延期申请已批准，无需再次审批。');
    const extended = await web.service.deps.db.selectFrom('case_events').select('id').where('case_id', '=', asking.id).where('kind', '=', 'extended').execute();
    expect(extended).toHaveLength(1);
    await one.context.close();
    await two.context.close();
  });

  it('offers to send again what failed for good on a case, and does it', async () => {
    const seeded = await seedCase(web.service, web.clock, { assignments: [{ unit: 'epb', role: 'lead' }] });
    const at = web.clock.now().toISOString();
    await web.service.deps.db
      .insertInto('deliveries')
      .values({ id: `d-${seeded.id}`, case_id: seeded.id, unit_code: 'epb', channel: 'webhook', status: 'failed', attempts: 8, last_error: 'HTTP 503', last_attempt_at: at, created_at: at })
      .execute();
    const { page, context } = await newPage();
    await context.setExtraHTTPHeaders(fromNewAddress());
    await signIn(page, base, 'dispatcher', undefined, `/desk/cases/${seeded.id}`);
    expect(await page.textContent('section[aria-labelledby="h-redeliver"]')).toContain('有 1 项派单推送或通知多次发送失败');
    await Promise.all([page.waitForNavigation(), page.click('section[aria-labelledby="h-redeliver"] button[type=submit]')]);
    expect(await page.textContent('#done')).toBe('已重新推送。');
    const events = await web.service.deps.db.selectFrom('case_events').select(['actor_id', 'data']).where('case_id', '=', seeded.id).where('kind', '=', 'redelivery').execute();
    expect(events).toEqual([{ actor_id: web.userIds.dispatcher, data: JSON.stringify({ deliveries: ['epb'], posts: [], notifications: [] }) }]);
    // The history names it.
    expect(await page.textContent('article')).toContain('重新推送');
    await context.close();
  });

  it('downloads the cases as CSV from the desk link', async () => {
    const seeded = await seedCase(web.service, web.clock, { text: '导出测试：马鹿头办事处砖厂粉尘很大' , type: 'air_pollution' });
    const { page, context } = await newPage();
    await context.setExtraHTTPHeaders(fromNewAddress());
    await signIn(page, base, 'dispatcher');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-cases')]);
    expect(download.suggestedFilename()).toMatch(/^cases_\d{4}-\d{2}-\d{2}_\d{4}-\d{2}-\d{2}\.csv$/);
    const path = await download.path();
    const csv = await readFile(path, 'utf8');
    expect(csv.startsWith('\uFEFF')).toBe(true);
    expect(csv).toContain(seeded.trackingCode);
    expect(csv).toContain('导出测试');
    // Never the reporter's identity: the seeded contact's name, and the phone only masked.
    expect(csv).not.toContain('李四');
    expect(csv).not.toContain('13912345678');

    const stats = await page.request.get(`${base}/desk/export/stats.csv?groupBy=bureau`);
    expect(stats.status()).toBe(200);
    expect(stats.headers()['content-type']).toMatch(/^text\/csv/);
    expect(await stats.text()).toContain('区环保局');
    await context.close();

    // Without a session the link leads to sign-in, not to the data.
    const anonymous = await fetch(`${base}/desk/export/cases.csv`, { redirect: 'manual' });
    expect(anonymous.status).toBe(303);
  });

  it('downloads the CSV files in the language of the desk page: English headers and names from the English desk', async () => {
    const seeded = await seedCase(web.service, web.clock, { text: '导出语言测试：砖厂粉尘', type: 'air_pollution' });
    const desk = formClient(base, fromNewAddress());
    await desk.signIn('dispatcher');
    const links = async (path: string) => {
      const html = await (await desk.get(path)).text();
      return {
        cases: /<a[^>]*href="([^"]+)"[^>]*id="export-cases"/.exec(html)?.[1]?.replaceAll('&amp;', '&'),
        stats: /<a[^>]*href="([^"]+)"[^>]*id="export-stats"/.exec(html)?.[1]?.replaceAll('&amp;', '&'),
      };
    };
    // As a spreadsheet reads the file: the byte-order mark kept.
    const download = async (path: string) => new TextDecoder('utf-8', { ignoreBOM: true }).decode(await (await desk.get(path)).arrayBuffer());
    const en = await links('/desk?lang=en');
    const cases = await download(en.cases!);
    expect(cases.split('\r\n')[0]).toBe('\uFEFFtracking_code,received_at,channel,status,type_code,type_name,confidence,urgent,anonymous,jurisdiction_code,jurisdiction_name,lead,co_handlers,sign_deadline,reply_deadline,accepted_at,replied_at,overdue,rating,solved,closed_at,close_reason,text');
    expect(cases.split('\r\n').find((l) => l.startsWith(seeded.trackingCode))).toContain('Air pollution');
    const stats = await download(en.stats!);
    expect(stats.split('\r\n')[0]!.startsWith('\uFEFFkey,name,received')).toBe(true);
    expect(stats).toContain('Total');
    // The Chinese desk keeps the Chinese files.
    const zh = await links('/desk?lang=zh');
    expect((await download(zh.cases!)).startsWith('\uFEFF查询码,受理时间')).toBe(true);
    expect((await download(zh.stats!)).startsWith('\uFEFF代码,名称')).toBe(true);
  });

  it("names the status, channel and close reason in the desk's CSV, in the desk's language, instead of their codes", async () => {
    const open = await seedCase(web.service, web.clock, { text: '导出名称测试：待签收', type: 'air_pollution', channel: 'hotline12369' });
    const closed = await seedCase(web.service, web.clock, { text: '导出名称测试：已办结', type: 'air_pollution', channel: 'telegram' });
    await web.service.deps.db
      .updateTable('cases')
      .set({ status: 'closed', closed_at: web.clock.now().toISOString(), close_reason: 'not_rated' })
      .where('id', '=', closed.id)
      .execute();
    const desk = formClient(base, fromNewAddress());
    await desk.signIn('dispatcher');
    // Channel, status and close reason of a case's line (no cell of these lines holds a comma).
    const cells = async (path: string, code: string) => {
      const line = (await (await desk.get(path)).text()).split('\r\n').find((l) => l.startsWith(code))!;
      const row = line.split(',');
      return [row[2], row[3], row[21]];
    };
    expect(await cells('/desk/export/cases.csv', open.trackingCode)).toEqual(['12369热线', '待签收', '']);
    expect(await cells('/desk/export/cases.csv', closed.trackingCode)).toEqual(['Telegram', '已办结', '回访期满未评价']);
    expect(await cells('/desk/export/cases.csv?lang=en', open.trackingCode)).toEqual(['12369 hotline', 'awaiting sign-for', '']);
    expect(await cells('/desk/export/cases.csv?lang=en', closed.trackingCode)).toEqual(['Telegram', 'closed', 'not rated within the rating period']);
    // A date the calendar does not have is named, with what it should be, in the page's language.
    const badZh = await desk.get('/desk/export/cases.csv?from=2026-02-31');
    expect(badZh.status).toBe(400);
    expect(/<p id="error-message">([^<]*)<\/p>/.exec(await badZh.text())?.[1]).toBe('请求的参数有误。from：请填写 YYYY-MM-DD 格式的日期（1900-01-01 至 2999-12-31）');
    const badEn = await desk.get('/desk/export/cases.csv?from=2026-02-31&lang=en');
    expect(/<p id="error-message">([^<]*)<\/p>/.exec(await badEn.text())?.[1]).toBe(
      'Something in the request is not right. from: Use a date written YYYY-MM-DD, from 1900-01-01 to 2999-12-31.',
    );
    // So is a type no district file has and no case carries, rather than a file of headers alone.
    const badType = await desk.get('/desk/export/cases.csv?type=noize&lang=en');
    expect(badType.status).toBe(400);
    expect(/<p id="error-message">([^<]*)<\/p>/.exec(await badType.text())?.[1]).toBe('Something in the request is not right. type: Choose one from the list.');
  });

  it('hands a case to 12345 in one click when the suggested type goes there, and asks for a reason to refuse an extension', async () => {
    const seeded = await seedCase(web.service, web.clock, { status: 'triage', type: 'other', confidence: 0.6, text: '我家楼下路灯坏了很久没人修' });
    const asking = await seedCase(web.service, web.clock, { assignments: [{ unit: 'epb', role: 'lead' }] });
    const requestId = (await requestExtension(web.service.deps, epbClerk(), asking.id, { workingDays: 3, reason: '等待检测报告' })).done!.id;
    const { page, context } = await newPage();
    await context.setExtraHTTPHeaders(fromNewAddress());
    await signIn(page, base, 'dispatcher');
    const button = page.locator(`li[data-case="${seeded.trackingCode}"] button[data-suggestion="other"]`);
    expect(await button.textContent()).toContain('转12345热线');
    // One click that closes the case here asks first; thought better of, nothing is done.
    const asked: string[] = [];
    page.once('dialog', (d) => {
      asked.push(d.message());
      void d.dismiss();
    });
    await button.click();
    expect(asked).toEqual(['确定转12345热线？本案将在此关闭，由12345热线办理。']);
    expect((await findCase(web.service.deps.db, seeded.id))?.status).toBe('triage');
    page.once('dialog', (d) => void d.accept());
    await Promise.all([page.waitForNavigation(), button.click()]);
    expect((await findCase(web.service.deps.db, seeded.id))?.status).toBe('transferred');

    const ext = `li[data-extension="${requestId}"]`;
    await page.evaluate(`document.querySelector('${ext} form[action$="/refuse"] input[name=note]').removeAttribute('required')`);
    const [refused] = await Promise.all([page.waitForNavigation(), page.click(`${ext} form[action$="/refuse"] button`)]);
    expect(refused?.status()).toBe(400);
    // Refused from the desk's list: the desk again, the note named next to that request's form.
    expect(await page.textContent('h1')).toBe('调度台');
    expect(await page.textContent(`${ext} #refuse-${requestId}-note-error`)).toContain('请填写');
    expect(await page.getAttribute(`#refuse-${requestId}-note`, 'aria-invalid')).toBe('true');
    expect((await web.service.deps.db.selectFrom('extension_requests').select('status').where('id', '=', requestId).executeTakeFirst())?.status).toBe('pending');
    await page.fill(`#refuse-${requestId}-note`, '期限内可以完成');
    await Promise.all([page.waitForNavigation(), page.click(`form[action$="/extensions/${requestId}/refuse"] button`)]);
    // And the refusal sent from there goes back to the desk too.
    expect(new URL(page.url()).pathname).toBe('/desk');
    expect(await page.textContent('#done')).toBe('已驳回延期申请。');
    expect((await web.service.deps.db.selectFrom('extension_requests').select('status').where('id', '=', requestId).executeTakeFirst())?.status).toBe('refused');
    await context.close();
  });

  it('says in the page\'s language, next to the type, that a type handed to 12345 is transferred rather than routed, keeping the reason typed', async () => {
    const seeded = await seedCase(web.service, web.clock, { status: 'triage', type: 'other', confidence: 0.55, text: '小区门口路灯坏了（转办提示测试）' });
    const desk = formClient(base, fromNewAddress());
    await desk.signIn('dispatcher');
    const csrf = await desk.token(`/desk/cases/${seeded.id}`);
    const res = await desk.post(`/desk/cases/${seeded.id}/route`, { _csrf: csrf, type: 'other', lead: '', jurisdiction: '', reason: '不是环境问题' });
    expect(res.status).toBe(400);
    const html = await res.text();
    expect(/id="route-type-error"[^>]*>([^<]*)</.exec(html)?.[1]).toBe('该类型为非环境类诉求，应转12345热线：请使用“转12345热线”');
    expect(/id="route-problem"[^>]*>([^<]*)</.exec(html)?.[1]).toBe('请按提示修改后再提交。');
    expect(html).toContain('不是环境问题');
    // In English the page says so in words, not the API's ("other" goes to hotline12345: use POST /api/v1/cases/{id}/transfer).
    await desk.get(`/desk/cases/${seeded.id}?lang=en`);
    const en = await (await desk.post(`/desk/cases/${seeded.id}/route`, { _csrf: csrf, type: 'other', lead: '', jurisdiction: '', reason: 'not environmental' })).text();
    expect(/id="route-type-error"[^>]*>([^<]*)</.exec(en)?.[1]).toBe('This type is not environmental: hand the case to 12345 with “Hand to 12345”.');
    expect(/id="route-problem"[^>]*>([^<]*)</.exec(en)?.[1]).toBe('Please correct what is marked and send it again.');
    expect(en).not.toContain('/api/v1/');
    expect((await findCase(web.service.deps.db, seeded.id))?.status).toBe('triage');
  });

  it("offers on a case page only the actions the case's status allows, none once its units answered and it waits for the rating", async () => {
    const seeded = await seedCase(web.service, web.clock, { text: '按状态显示操作测试', jurisdiction: null, assignments: [{ unit: 'epb', role: 'lead' }] });
    const waiting = await seedCase(web.service, web.clock, { text: '按状态显示操作测试（待分派）', status: 'triage' });
    const desk = formClient(base, fromNewAddress());
    await desk.signIn('dispatcher');
    const offered = async (id: string) => {
      const html = await (await desk.get(`/desk/cases/${id}`)).text();
      return ['route-form', 'merge-form', 'transfer-form', 'supervise-form'].filter((f) => html.includes(`id="${f}"`));
    };
    expect(await offered(seeded.id)).toEqual(['route-form', 'merge-form', 'transfer-form', 'supervise-form']);
    // Waiting in triage, no unit works on it: nothing to supervise.
    expect(await offered(waiting.id)).toEqual(['route-form', 'merge-form', 'transfer-form']);
    await acceptAssignment(web.service.deps, epbClerk(), seeded.id);
    await replyAssignment(web.service.deps, epbClerk(), seeded.id, { text: '已责令停产整改。' });
    // Answered: it cannot be routed, merged, handed over or supervised, so no form says it can.
    expect((await findCase(web.service.deps.db, seeded.id))?.status).toBe('replied');
    expect(await offered(seeded.id)).toEqual([]);
    // Reopened by its reporter: it can be routed, handed to 12345 or supervised again, not merged.
    await rateCase(web.service.deps, { trackingCode: seeded.trackingCode, rating: 'dissatisfied', solved: false, channel: 'web' });
    expect(await offered(seeded.id)).toEqual(['route-form', 'transfer-form', 'supervise-form']);
  });

  it('offers to release the co-handlers and the local office, never the lead, which only a re-route changes', async () => {
    const seeded = await seedCase(web.service, web.clock, { text: '撤回单位选项测试' });
    const desk = formClient(base, fromNewAddress());
    await desk.signIn('dispatcher');
    const html = await (await desk.get(`/desk/cases/${seeded.id}`)).text();
    const select = /<select id="release-unit"[^>]*>([\s\S]*?)<\/select>/.exec(html)?.[1] ?? '';
    expect([...select.matchAll(/<option value="([^"]+)"/g)].map((m) => m[1])).toEqual(['econ', 'xinglong']);
    // A case with only its lead left has nothing to release: no form that can only be refused.
    const alone = await seedCase(web.service, web.clock, { text: '只有牵头单位', assignments: [{ unit: 'epb', role: 'lead' }] });
    expect(await (await desk.get(`/desk/cases/${alone.id}`)).text()).not.toContain('id="release-unit"');
  });

  it('asks before releasing a unit, and releases nothing when the dispatcher thinks again', async () => {
    const seeded = await seedCase(web.service, web.clock, { text: '撤回单位确认测试', assignments: [{ unit: 'epb', role: 'lead' }, { unit: 'econ', role: 'co' }] });
    const released = async () => (await listAssignments(web.service.deps.db, seeded.id)).filter((a) => a.status === 'released').map((a) => a.unitCode);
    const { page, context } = await newPage();
    await context.setExtraHTTPHeaders(fromNewAddress());
    await signIn(page, base, 'dispatcher', undefined, `/desk/cases/${seeded.id}`);
    await page.selectOption('#release-unit', 'econ');
    await page.fill('#release-reason', '无需协办');
    const asked: string[] = [];
    page.once('dialog', (d) => {
      asked.push(d.message());
      void d.dismiss();
    });
    await page.click('section[aria-labelledby="h-release"] button[type=submit]');
    expect(asked).toEqual(['确定撤回该单位？它将不再办理本案；如需恢复，请重新派发。']);
    expect(await released()).toEqual([]);
    page.once('dialog', (d) => void d.accept());
    await Promise.all([page.waitForNavigation(), page.click('section[aria-labelledby="h-release"] button[type=submit]')]);
    expect(await page.textContent('#done')).toBe('已撤回该单位。');
    expect(await released()).toEqual(['econ']);
    await context.close();
  });

  it('refuses a merge, its undoing and a release on a case page someone else changed meanwhile, keeping what was typed', async () => {
    const original = await seedCase(web.service, web.clock, { text: '兴隆办事处电镀厂排黑水（并案过期页面测试）' });
    const seeded = await seedCase(web.service, web.clock, {
      text: '兴隆办事处电镀厂又排黑水了（并案过期页面测试）',
      assignments: [{ unit: 'epb', role: 'lead' }, { unit: 'econ', role: 'co' }],
    });
    const { page, context } = await newPage();
    await context.setExtraHTTPHeaders(fromNewAddress());
    await signIn(page, base, 'dispatcher', undefined, `/desk/cases/${seeded.id}`);
    // While the dispatcher reads the page, the lead bureau signs for the case.
    await acceptAssignment(web.service.deps, epbClerk(), seeded.id);
    await page.fill('#merge-into', original.trackingCode);
    await page.fill('#merge-reason', '同一电镀厂');
    page.once('dialog', (d) => void d.accept());
    const [merge] = await Promise.all([page.waitForNavigation(), page.click('section[aria-labelledby="h-merge"] button[type=submit]')]);
    expect(merge?.status()).toBe(409);
    expect(await page.textContent('#action-problem')).toContain('案件已被他人更新');
    expect(await page.inputValue('#merge-into')).toBe(original.trackingCode);
    expect(await page.inputValue('#merge-reason')).toBe('同一电镀厂');
    expect((await findCase(web.service.deps.db, seeded.id))?.status).toBe('accepted');

    // The page it got is the case as it is; the co-handler signs for its part meanwhile, and a release is refused too.
    await acceptAssignment(web.service.deps, econClerk(), seeded.id);
    await page.selectOption('#release-unit', 'econ');
    await page.fill('#release-reason', '无需协办');
    page.once('dialog', (d) => void d.accept());
    const [release] = await Promise.all([page.waitForNavigation(), page.click('section[aria-labelledby="h-release"] button[type=submit]')]);
    expect(release?.status()).toBe(409);
    expect(await page.textContent('#action-problem')).toContain('案件已被他人更新');
    expect(await page.inputValue('#release-reason')).toBe('无需协办');
    expect((await listAssignments(web.service.deps.db, seeded.id)).find((a) => a.unitCode === 'econ')?.status).toBe('accepted');

    // Merged from this page, then undone by someone else while the merged page is open: the second undo is refused.
    await page.fill('#merge-into', original.trackingCode);
    page.once('dialog', (d) => void d.accept());
    await Promise.all([page.waitForNavigation(), page.click('section[aria-labelledby="h-merge"] button[type=submit]')]);
    expect(await page.textContent('#done')).toBe('已并案。');
    const other = formClient(base, fromNewAddress());
    await other.signIn('dispatcher');
    const csrf = await other.token(`/desk/cases/${seeded.id}`);
    expect((await other.post(`/desk/cases/${seeded.id}/unmerge`, { _csrf: csrf, reason: '不是同一个问题', confirm: '1' })).status).toBe(303);
    // The other dispatcher merges it again, into the same case: the first, on the page of the first merge, undoes nothing.
    const csrf2 = await other.token(`/desk/cases/${seeded.id}`);
    expect((await other.post(`/desk/cases/${seeded.id}/merge`, { _csrf: csrf2, into: original.trackingCode, reason: '确属重复', confirm: '1' })).status).toBe(303);
    await page.fill('#unmerge-reason', '并错了');
    page.once('dialog', (d) => void d.accept());
    const [unmerge] = await Promise.all([page.waitForNavigation(), page.click('section[aria-labelledby="h-unmerge"] button[type=submit]')]);
    expect(unmerge?.status()).toBe(409);
    expect(await page.textContent('#action-problem')).toContain('案件已被他人更新');
    expect(await page.inputValue('#unmerge-reason')).toBe('并错了');
    expect((await findCase(web.service.deps.db, seeded.id))).toMatchObject({ status: 'merged', mergedInto: original.id });
    await context.close();
  });

  it('keeps the unit chosen for release when the form is refused, so the one sent again is the one chosen', async () => {
    const seeded = await seedCase(web.service, web.clock, { text: '撤回单位保留选择测试' });
    const status = async (unit: string) => (await listAssignments(web.service.deps.db, seeded.id)).find((a) => a.unitCode === unit)?.status;
    const { page, context } = await newPage();
    await context.setExtraHTTPHeaders(fromNewAddress());
    await signIn(page, base, 'dispatcher', undefined, `/desk/cases/${seeded.id}`);
    // The local office, second in the list after the co-handler; a reason of blanks is refused.
    await page.selectOption('#release-unit', 'xinglong');
    await page.fill('#release-reason', '   ');
    page.once('dialog', (d) => void d.accept());
    const [refused] = await Promise.all([page.waitForNavigation(), page.click('section[aria-labelledby="h-release"] button[type=submit]')]);
    expect(refused?.status()).toBe(400);
    expect(await page.inputValue('#release-unit')).toBe('xinglong');
    await page.fill('#release-reason', '不在本属地');
    page.once('dialog', (d) => void d.accept());
    await Promise.all([page.waitForNavigation(), page.click('section[aria-labelledby="h-release"] button[type=submit]')]);
    expect(await page.textContent('#done')).toBe('已撤回该单位。');
    expect(await status('xinglong')).toBe('released');
    expect(await status('econ')).toBe('pending');
    await context.close();
  });

  it('refuses a NUL character in a form field with the problem next to the form, and changes nothing', async () => {
    const seeded = await seedCase(web.service, web.clock, { assignments: [{ unit: 'epb', role: 'lead' }, { unit: 'econ', role: 'co' }] });
    const client = formClient(base, fromNewAddress());
    expect((await client.signIn('dispatcher')).status).toBe(303);
    const csrf = await client.token(`/desk/cases/${seeded.id}`);
    const events = async () => (await web.service.deps.db.selectFrom('case_events').select('id').where('case_id', '=', seeded.id).execute()).length;
    const before = await events();
    const res = await client.post(`/desk/cases/${seeded.id}/release`, { _csrf: csrf, unit: 'econ', reason: '无需\u0000参与', confirm: '1' });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('NUL');
    // A reason in GBK bytes, percent-encoded as a form does: refused as not UTF-8, not kept garbled.
    const cookie = [...client.jar].map(([k, v]) => `${k}=${v}`).join('; ');
    const gbk = await fetch(`${base}/desk/cases/${seeded.id}/release`, {
      method: 'POST',
      headers: { ...fromNewAddress(), accept: 'text/html', cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: `_csrf=${encodeURIComponent(csrf)}&unit=econ&reason=%CE%DE%D0%E8%B2%CE%D3%EB&confirm=1`,
      redirect: 'manual',
    });
    expect(gbk.status).toBe(400);
    // Said in the page's language, next to the field.
    expect(await gbk.text()).toContain('含有无法识别的字符（可能是复制时的乱码），请删除后再提交');
    expect(await events()).toBe(before);
  });

  it("says a case's history in the page's language: who acted, why, and the service's own notes", async () => {
    const seeded = await seedCase(web.service, web.clock, { assignments: [{ unit: 'epb', role: 'lead' }] });
    await returnAssignment(web.service.deps, epbClerk(), seeded.id, { reason: 'not_our_remit', note: '灌溉水归水利局' });
    const client = formClient(base, fromNewAddress());
    expect((await client.signIn('dispatcher')).status).toBe(303);
    const timeline = async (lang: string) => {
      const html = await (await client.get(`/desk/cases/${seeded.id}?lang=${lang}`)).text();
      return /<ol class="timeline">([\s\S]*?)<\/ol>/.exec(html)?.[1] ?? '';
    };
    const en = await timeline('en');
    expect(en).toContain('Returned by the bureau; waiting to be assigned again');
    expect(en).toContain('not within our remit');
    expect(en).toContain('(bureau clerk)');
    // The bureau's own words stay as written.
    expect(en).toContain('灌溉水归水利局');
    expect(en).not.toContain('承办单位退回');
    expect(en).not.toContain('(bureau)');
    const zh = await timeline('zh');
    expect(zh).toContain('承办单位退回，待重新分派');
    expect(zh).toContain('不属于本单位职责');
    expect(zh).toContain('(承办单位)');
    expect(zh).not.toContain('(bureau');
  });

  it("says why a reporter's rating closed or reopened a case in the page's language, not by the rating's code", async () => {
    const timelineOf = async (caseId: string, lang: string) => {
      const client = formClient(base, fromNewAddress());
      expect((await client.signIn('dispatcher')).status).toBe(303);
      const html = await (await client.get(`/desk/cases/${caseId}?lang=${lang}`)).text();
      return /<ol class="timeline">([\s\S]*?)<\/ol>/.exec(html)?.[1] ?? '';
    };
    const answered = async (text: string) => {
      const seeded = await seedCase(web.service, web.clock, { text, assignments: [{ unit: 'epb', role: 'lead' }] });
      await acceptAssignment(web.service.deps, epbClerk(), seeded.id);
      await replyAssignment(web.service.deps, epbClerk(), seeded.id, { text: '已责令整改' });
      return seeded;
    };
    const closed = await answered('盐下村电镀厂排污（满意评价历史测试）');
    await rateCase(web.service.deps, { trackingCode: closed.trackingCode, rating: 'satisfied', solved: true, channel: 'web' });
    const reopened = await answered('盐下村电镀厂排污（不满意评价历史测试）');
    await rateCase(web.service.deps, { trackingCode: reopened.trackingCode, rating: 'dissatisfied', solved: false, channel: 'web' });
    const code = /<div>(rated|dissatisfied|not_rated)<\/div>/;
    expect(await timelineOf(closed.id, 'zh')).toContain('<div>举报人已评价</div>');
    expect(await timelineOf(closed.id, 'en')).toContain('<div>rated by the reporter</div>');
    expect(await timelineOf(reopened.id, 'zh')).toContain('<div>举报人不满意</div>');
    expect(await timelineOf(reopened.id, 'en')).toContain('<div>the reporter was not satisfied</div>');
    for (const id of [closed.id, reopened.id]) for (const lang of ['zh', 'en']) expect(await timelineOf(id, lang)).not.toMatch(code);
  });

  it("names a submitted report's first step in the page's language, and a case routed out of triage as sent, not sent again", async () => {
    // Too vague for the classifier: the pipeline leaves it to a dispatcher.
    const report = await submitReport(web.service, { text: '这边好像有点问题，你们来看看吧（历史记录测试）', anonymous: true }, 'triage');
    const client = formClient(base, fromNewAddress());
    expect((await client.signIn('dispatcher')).status).toBe(303);
    const timeline = async (lang: string) => {
      const html = await (await client.get(`/desk/cases/${report.id}?lang=${lang}`)).text();
      return /<ol class="timeline">([\s\S]*?)<\/ol>/.exec(html)?.[1] ?? '';
    };
    const received = (html: string) => /<strong>([^<]*)<\/strong>/.exec(html)?.[1];
    expect(received(await timeline('zh'))).toBe('已受理');
    expect(received(await timeline('en'))).toBe('received');

    // No unit had it before: routed by hand, it is sent, as the tracking page tells the resident.
    const csrf = await client.token(`/desk/cases/${report.id}`);
    const res = await client.post(`/desk/cases/${report.id}/route`, { _csrf: csrf, type: 'water_pollution', lead: 'water', leadWas: '', coFrom: 'rule', jurisdiction: 'yongjiting', reason: '水体污染' });
    expect(res.status).toBe(303);
    const track = (await (await fetch(`${base}/api/v1/track/${report.trackingCode}`)).json()) as { history: Array<{ status: string; note: string | null }> };
    expect(track.history.filter((e) => e.status === 'dispatched').map((e) => e.note)).toEqual(['已派发至区水利局办理']);
  });

  it("names a case's first step once in its history, not the status and then the same words as its note", async () => {
    const seeded = await seedCase(web.service, web.clock, { assignments: [{ unit: 'epb', role: 'lead' }] });
    const { page, context } = await newPage();
    await context.setExtraHTTPHeaders(fromNewAddress());
    await signIn(page, base, 'dispatcher');
    for (const [lang, label] of [
      ['zh', '已受理'],
      ['en', 'received'],
    ] as const) {
      await page.goto(`${base}/desk/cases/${seeded.id}?lang=${lang}`);
      const first = page.locator('ol.timeline > li').first();
      expect(await first.locator('strong').textContent()).toBe(label);
      expect((await first.innerText()).toLowerCase().split(label.toLowerCase())).toHaveLength(2);
    }
    await context.close();
  });

  it("says the service's notes in English only where they name a unit, never a bureau's own words that end the same way", () => {
    const { district } = web.service.deps;
    expect(timelineNote('en', '区环保局已签收', district)).toBe(`${district.units.get('epb')!.name.en} signed for it`);
    expect(timelineNote('en', '属地：兴隆办事处', district)).toBe(`Place: ${district.units.get('xinglong')!.name.en}`);
    expect(timelineNote('en', '答复即将到期，已催办', district)).toBe('The reply deadline is near: the unit was reminded');
    expect(timelineNote('en', '检测报告已签收', district)).toBe('检测报告已签收');
    expect(timelineNote('zh', '区环保局已签收', district)).toBe('区环保局已签收');
  });

  it('refuses the desk to a bureau clerk', async () => {
    const client = formClient(base, fromNewAddress());
    await client.signIn('epb');
    expect((await client.get('/desk')).status).toBe(403);
    expect((await client.get('/desk/export/cases.csv')).status).toBe(403);
  });

  it("says the service's words for a one-click action in each reader's language, whatever the language of the dispatcher who clicked", async () => {
    const db = web.service.deps.db;
    const routed = await seedCase(web.service, web.clock, { status: 'triage', text: '兴隆办事处电镀厂排黑水（一键派发语言测试）' });
    const other = await seedCase(web.service, web.clock, { status: 'triage', type: 'other', text: '小区门口路灯坏了（一键转办语言测试）' });
    const placeless = await seedCase(web.service, web.clock, { jurisdiction: null, text: '电镀厂排黑水（补充属地语言测试）', assignments: [{ unit: 'epb', role: 'lead' }] });
    const words = (html: string) => html.replace(/<[^>]*>/g, ' ').replace(/&amp;/g, '&').replace(/\s+/g, ' ');
    const history = (html: string) => words(/<ol class="timeline">([\s\S]*?)<\/ol>/.exec(html)?.[1] ?? '');
    // The dispatcher reads the desk in English and clicks its one-click buttons.
    const english = formClient(base, fromNewAddress());
    await english.signIn('dispatcher');
    const routePage = await (await english.get(`/desk/cases/${routed.id}?lang=en`)).text();
    expect((await english.post(`/desk/cases/${routed.id}/route`, formFields(routePage, `/desk/cases/${routed.id}/route`))).status).toBe(303);
    const otherPage = await (await english.get(`/desk/cases/${other.id}`)).text();
    expect((await english.post(`/desk/cases/${other.id}/transfer`, { ...formFields(otherPage, `/desk/cases/${other.id}/transfer`), confirm: '1' })).status).toBe(303);
    const list = await (await english.get('/desk')).text();
    expect((await english.post(`/desk/cases/${placeless.id}/place`, { ...formFields(list, `/desk/cases/${placeless.id}/place`), jurisdiction: 'xinglong' })).status).toBe(303);
    // The routed case is late to be signed for: 督办 from the desk's overdue list.
    await db.updateTable('assignments').set({ sign_deadline_at: new Date(web.clock.now().getTime() - 3600_000).toISOString() }).where('case_id', '=', routed.id).execute();
    const overdue = await (await english.get('/desk')).text();
    expect((await english.post(`/desk/cases/${routed.id}/supervise`, formFields(overdue, `/desk/cases/${routed.id}/supervise`))).status).toBe(303);

    // A dispatcher reading in Chinese reads them in Chinese, with no English; the English desk in English.
    const chinese = formClient(base, fromNewAddress());
    await chinese.signIn('dispatcher');
    const zhRouted = history(await (await chinese.get(`/desk/cases/${routed.id}?lang=zh`)).text());
    expect(zhRouted).toContain('按分类建议派发（非法排放有毒有害污染物）');
    expect(zhRouted).toContain('案件已超期，请尽快办理并答复。');
    expect(zhRouted).not.toMatch(/[A-Za-z]{3,}/);
    const zhOther = history(await (await chinese.get(`/desk/cases/${other.id}`)).text());
    expect(zhOther).toContain('按分类建议（非环境类诉求）转12345热线');
    expect(zhOther).not.toMatch(/[A-Za-z]{3,}/);
    expect(history(await (await chinese.get(`/desk/cases/${placeless.id}`)).text())).toContain('调度员补充属地');
    const enRouted = history(await (await english.get(`/desk/cases/${routed.id}`)).text());
    expect(enRouted).toContain('Routed to the suggested type (Illegal discharge of toxic pollutants)');
    expect(enRouted).toContain('This case is overdue: handle and reply without delay.');
    expect(enRouted).not.toMatch(/按分类建议|案件已超期/);
    expect(history(await (await english.get(`/desk/cases/${other.id}`)).text())).toContain('Handed to the 12345 hotline as the classifier suggested (Not an environmental matter)');
    expect(history(await (await english.get(`/desk/cases/${placeless.id}`)).text())).toContain('Place given by a dispatcher');

    // The bureau's clerk reads the 督办 and the route's reason in the inbox's language.
    const clerk = formClient(base, fromNewAddress());
    await clerk.signIn('epb');
    const inbox = history(await (await clerk.get(`/inbox/cases/${routed.id}?lang=zh`)).text());
    expect(inbox).toContain('案件已超期，请尽快办理并答复。');
    expect(inbox).toContain('按分类建议派发（非法排放有毒有害污染物）');
    expect(inbox).not.toMatch(/[A-Za-z]{3,}/);
    expect(history(await (await clerk.get(`/inbox/cases/${routed.id}?lang=en`)).text())).toContain('This case is overdue: handle and reply without delay.');
    // What the unit's channels are told of the 督办 names the code, said as the unit reads it there.
    const supervision = (await notificationsOf(web.service, routed.id)).find((n) => n.kind === 'supervision' && n.audience === 'unit:epb');
    expect(supervision?.data).toMatchObject({ note: { said: 'overdue_supervision' } });

    // The public timeline says the routing in the reader's language, none of the dispatcher's English.
    const track = (await (await fetch(`${base}/api/v1/track/${routed.trackingCode}`)).json()) as { history: Array<{ note: string | null }> };
    expect(track.history.map((h) => h.note ?? '').join(' ')).not.toMatch(/[A-Za-z]{3,}/);

    // A reason the form suggests, sent as it stood, is the service's words too; one the dispatcher typed stays as typed.
    const duplicate = await seedCase(web.service, web.clock, { text: '兴隆办事处电镀厂又排黑水（并案建议语言测试）' });
    const dupPage = await (await english.get(`/desk/cases/${duplicate.id}`)).text();
    const suggestion = /<input id="merge-reason" name="reason" type="text"[^>]* value="([^"]*)"/.exec(dupPage)?.[1];
    expect(suggestion).toBe('duplicate');
    const mergeFields = { ...formFields(dupPage, `/desk/cases/${duplicate.id}/merge`), into: routed.trackingCode, reason: suggestion!, confirm: '1' };
    expect((await english.post(`/desk/cases/${duplicate.id}/merge`, mergeFields)).status).toBe(303);
    const zhDuplicate = history(await (await chinese.get(`/desk/cases/${duplicate.id}`)).text());
    expect(zhDuplicate).toContain('重复举报');
    expect(zhDuplicate).not.toMatch(/duplicate/i);
    expect(history(await (await chinese.get(`/desk/cases/${routed.id}`)).text())).toContain('重复举报');
    const typedPage = await (await english.get(`/desk/cases/${placeless.id}`)).text();
    expect(
      (await english.post(`/desk/cases/${placeless.id}/supervise`, { ...formFields(typedPage, `/desk/cases/${placeless.id}/supervise`), note: 'Call the plant manager today.' })).status,
    ).toBe(303);
    expect(history(await (await chinese.get(`/desk/cases/${placeless.id}`)).text())).toContain('Call the plant manager today.');

    // Words an earlier version kept in the language of the dispatcher who clicked stay as they were written.
    await db
      .insertInto('case_events')
      .values({ case_id: placeless.id, at: web.clock.now().toISOString(), actor_type: 'staff', actor_id: null, actor_role: 'dispatcher', kind: 'place_set', from_status: null, to_status: null, note: null, data: JSON.stringify({ jurisdiction: 'xinglong', reason: 'place given by a dispatcher' }), public: 0 })
      .execute();
    expect(history(await (await chinese.get(`/desk/cases/${placeless.id}`)).text())).toContain('place given by a dispatcher');
  });

  it("gives an API client the service's words for a one-click action as text, in the language its Accept-Language prefers, Chinese when it names neither", async () => {
    const db = web.service.deps.db;
    const routed = await seedCase(web.service, web.clock, { status: 'triage', text: '兴隆办事处电镀厂排黑水（一键派发接口测试）' });
    // A dispatcher reading the desk in English routes it with the one-click button and supervises it from the overdue list.
    const english = formClient(base, fromNewAddress());
    await english.signIn('dispatcher');
    const page = await (await english.get(`/desk/cases/${routed.id}?lang=en`)).text();
    expect((await english.post(`/desk/cases/${routed.id}/route`, formFields(page, `/desk/cases/${routed.id}/route`))).status).toBe(303);
    await db.updateTable('assignments').set({ sign_deadline_at: new Date(web.clock.now().getTime() - 3600_000).toISOString() }).where('case_id', '=', routed.id).execute();
    const overdue = await (await english.get('/desk')).text();
    expect((await english.post(`/desk/cases/${routed.id}/supervise`, formFields(overdue, `/desk/cases/${routed.id}/supervise`))).status).toBe(303);

    type Events = { events: Array<{ kind: string; data: Record<string, unknown> | null }> };
    const read = async (token: string, headers: Record<string, string> = {}) => {
      const res = await fetch(`${base}/api/v1/cases/${routed.id}`, { headers: { authorization: `Bearer ${token}`, ...headers } });
      expect(res.status).toBe(200);
      return (await res.json()) as Events;
    };
    const said = (view: Events, field: 'reason' | 'note') => view.events.map((e) => e.data?.[field]).filter((v) => v !== undefined && v !== null);
    // No Accept-Language (or one naming neither language): Chinese, as the case's type and unit names are.
    for (const headers of [{}, { 'accept-language': 'fr' }] as Array<Record<string, string>>) {
      const view = await read(web.staff.dispatcher, headers);
      expect(said(view, 'reason')).toContain('按分类建议派发（非法排放有毒有害污染物）');
      expect(said(view, 'note')).toContain('案件已超期，请尽快办理并答复。');
      for (const v of [...said(view, 'reason'), ...said(view, 'note')]) expect(typeof v).toBe('string');
      expect(JSON.stringify(view.events)).not.toContain('"said"');
    }
    const en = await read(web.staff.dispatcher, { 'accept-language': 'en-GB,en;q=0.9,zh;q=0.5' });
    expect(said(en, 'reason')).toContain('Routed to the suggested type (Illegal discharge of toxic pollutants)');
    expect(said(en, 'note')).toContain('This case is overdue: handle and reply without delay.');
    // The unit's clerk reads them as text too, and so does the answer to its action on the case (kept for a retry as sent).
    expect(said(await read(web.staff.epb, { 'accept-language': 'zh-CN' }), 'note')).toContain('案件已超期，请尽快办理并答复。');
    const accepted = await fetch(`${base}/api/v1/cases/${routed.id}/accept`, { method: 'POST', headers: { authorization: `Bearer ${web.staff.epb}`, 'idempotency-key': `accept-${routed.id}` } });
    expect(accepted.status).toBe(200);
    const answer = (await accepted.json()) as Events;
    expect(said(answer, 'reason')).toContain('按分类建议派发（非法排放有毒有害污染物）');
    expect(JSON.stringify(answer.events)).not.toContain('"said"');
    // The history keeps the code, which the staff pages say in their reader's language.
    const kept = await db.selectFrom('case_events').select('data').where('case_id', '=', routed.id).execute();
    expect(kept.map((e) => e.data ?? '').join(' ')).toContain('"said":"overdue_supervision"');
  });
});

describe('drafts of the desk case page', () => {
  /** The drafts this browser keeps (staff.js's storage), by key. */

  it('puts back a transfer reason and a supervision note typed past the end of the session, over the reasons the page suggests, and forgets the note once the case is supervised', async () => {
    const seeded = await seedCase(web.service, web.clock, { text: '河边小作坊烧废电瓶（调度草稿测试）', assignments: [{ unit: 'epb', role: 'lead' }] });
    const { page, context } = await newPage();
    await context.setExtraHTTPHeaders(fromNewAddress());
    await signIn(page, base, 'dispatcher', undefined, `/desk/cases/${seeded.id}`);
    // The suggested reasons alone make no draft.
    expect(await page.inputValue('#transfer-reason')).toBe('非环境类诉求');
    await page.selectOption('#route-type', { index: 1 });
    expect(await browserDrafts(page)).toEqual({});

    const transferReason = `来电人反映的是噪声扰民，属城管职责。${'已与来电人核实。'.repeat(20)}`;
    const note = '请于今日内到现场核查并反馈。';
    await page.fill('#transfer-reason', transferReason);
    await page.fill('#supervise-note', note);
    const started = web.clock.now().toISOString();
    try {
      web.clock.set(new Date(Date.parse(started) + SESSION_IDLE_MS + 60_000).toISOString());
      page.once('dialog', (d) => void d.accept());
      await Promise.all([page.waitForNavigation(), page.click('#transfer-form button[type=submit]')]);
      expect(new URL(page.url()).pathname).toBe('/signin');
      expect(await page.locator('[data-drafts-kept]').isVisible()).toBe(true);
      expect((await findCase(web.service.deps.db, seeded.id))?.status).toBe('dispatched');

      await signInHere(page, 'dispatcher');
      expect(new URL(page.url()).pathname).toBe(`/desk/cases/${seeded.id}`);
      expect(await page.inputValue('#transfer-reason')).toBe(transferReason);
      expect(await page.inputValue('#supervise-note')).toBe(note);
      expect(await page.locator('section[aria-labelledby="h-transfer"] [data-draft-restored]').isVisible()).toBe(true);
      expect(await page.locator('section[aria-labelledby="h-supervise"] [data-draft-restored]').textContent()).toBe('已恢复您在本浏览器中填写但尚未提交的内容，请核对后提交。');
      // Forms nothing was typed into say nothing.
      expect(await page.locator('section[aria-labelledby="h-merge"] [data-draft-restored]').isVisible()).toBe(false);

      await Promise.all([page.waitForNavigation(), page.click('#supervise-form button[type=submit]')]);
      expect(await page.textContent('#done')).toBe('已督办，承办单位已收到提醒。');
      await page.waitForFunction("!location.search.includes('done')");
      // The supervision's draft is gone, the note went out as typed; the transfer, never sent, is still kept.
      const kept = await browserDrafts(page);
      expect(Object.keys(kept).filter((k) => k.endsWith('/supervise'))).toEqual([]);
      expect(Object.values(kept).map((d) => d.fields.reason)).toEqual([transferReason]);
      const supervised = await web.service.deps.db.selectFrom('case_events').selectAll().where('case_id', '=', seeded.id).where('kind', '=', 'supervised').execute();
      expect(JSON.stringify(supervised)).toContain(note);
    } finally {
      web.clock.set(started);
    }
    await context.close();
  });
});

describe('drafts of the extension requests', () => {
  const statusOf = async (id: string) => (await web.service.deps.db.selectFrom('extension_requests').select('status').where('id', '=', id).executeTakeFirst())?.status;

  it('puts back a refusal note typed on the desk past the end of the session, there and on the case page, and forgets it once the request is refused', async () => {
    const asking = await seedCase(web.service, web.clock, { text: '养殖场粪水直排（延期草稿测试）', assignments: [{ unit: 'epb', role: 'lead' }] });
    const requestId = (await requestExtension(web.service.deps, epbClerk(), asking.id, { workingDays: 4, reason: '等待水样检测结果' })).done!.id;
    const { page, context } = await newPage();
    await context.setExtraHTTPHeaders(fromNewAddress());
    await signIn(page, base, 'dispatcher');
    const note = `检测机构已承诺三个工作日内出具报告，${'期限内可以完成。'.repeat(10)}`;
    await page.fill(`#refuse-${requestId}-note`, note);
    const started = web.clock.now().toISOString();
    try {
      // The session ends while the dispatcher types: the refusal lands on the sign-in page, not carried out.
      web.clock.set(new Date(Date.parse(started) + SESSION_IDLE_MS + 60_000).toISOString());
      await Promise.all([page.waitForNavigation(), page.click(`form[action$="/extensions/${requestId}/refuse"] button`)]);
      expect(new URL(page.url()).pathname).toBe('/signin');
      expect(await page.locator('[data-drafts-kept]').isVisible()).toBe(true);
      expect(await statusOf(requestId)).toBe('pending');

      await signInHere(page, 'dispatcher');
      expect(new URL(page.url()).pathname).toBe('/desk');
      const item = `li[data-extension="${requestId}"]`;
      expect(await page.inputValue(`${item} #refuse-${requestId}-note`)).toBe(note);
      expect(await page.locator(`${item} [data-draft-restored]`).textContent()).toBe('已恢复您在本浏览器中填写但尚未提交的内容，请核对后提交。');
      expect(await page.locator(`${item} [data-draft-restored]`).isVisible()).toBe(true);

      // The case page shows the same request's form: the note is there too, and sent from there it refuses the request.
      await page.goto(`${base}/desk/cases/${asking.id}`);
      expect(await page.inputValue(`#refuse-${requestId}-note`)).toBe(note);
      await Promise.all([page.waitForNavigation(), page.click(`form[action$="/extensions/${requestId}/refuse"] button`)]);
      expect(await page.textContent('#done')).toBe('已驳回延期申请。');
      await page.waitForFunction("!location.search.includes('done')");
      expect(await statusOf(requestId)).toBe('refused');
      expect(Object.keys(await browserDrafts(page)).filter((k) => k.includes(requestId))).toEqual([]);
      const refused = await web.service.deps.db.selectFrom('case_events').selectAll().where('case_id', '=', asking.id).execute();
      expect(JSON.stringify(refused)).toContain('检测机构已承诺三个工作日内出具报告');
    } finally {
      web.clock.set(started);
    }
    await context.close();
  });

  it('forgets a refusal note of a request approved instead', async () => {
    const asking = await seedCase(web.service, web.clock, { text: '砖厂烟尘（延期批准草稿测试）', assignments: [{ unit: 'epb', role: 'lead' }] });
    const requestId = (await requestExtension(web.service.deps, epbClerk(), asking.id, { workingDays: 2, reason: '需要联合执法' })).done!.id;
    const { page, context } = await newPage();
    await context.setExtraHTTPHeaders(fromNewAddress());
    await signIn(page, base, 'dispatcher');
    await page.fill(`#refuse-${requestId}-note`, '理由不充分');
    expect(Object.keys(await browserDrafts(page)).filter((k) => k.endsWith(`/desk/extensions/${requestId}/refuse`))).toHaveLength(1);
    await Promise.all([page.waitForNavigation(), page.click(`form[action$="/extensions/${requestId}/approve"] button`)]);
    expect(await page.textContent('#done')).toBe('已批准延期。');
    await page.waitForFunction("!location.search.includes('done')");
    expect(await statusOf(requestId)).toBe('approved');
    expect(Object.keys(await browserDrafts(page)).filter((k) => k.includes(requestId))).toEqual([]);
    await context.close();
  });
});

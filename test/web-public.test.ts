import { beforeAll, describe, expect, it } from 'vitest';
import { listAssignments } from '../db/repositories/assignments.repository.js';
import { issueToken } from '../db/repositories/tokens.repository.js';
import { createUser } from '../db/repositories/users.repository.js';
import { MASK, redactForPublic } from '../handlers/pages/public-redact.js';
import type { ManualClock } from '../src/clock.js';
import { rateCase } from '../src/workflow/feedback.js';
import { browser, newPage } from './browser.js';
import { drawnText, labelTexts, overlapping } from './chart-helpers.js';
import { ROLE_NAMED, ROLE_NAMED_NOT } from './role-name-fixtures.js';
import { client, json, seedCase, startWorkflowService, submitReport, type TestService } from './workflow-helpers.js';

describe('redactForPublic', () => {
  it('masks phone numbers, ID numbers, e-mail, house numbers and names, and keeps the problem and the village', () => {
    const text =
      '我叫张建国，住盐下村12号3栋501室，电话13811112222，座机0746-1234567，身份证430102199001011234，邮箱zjg@example.com。' +
      '隔壁王老板的电镀厂11月3号晚上又偷排废水，姓李的村长不管。';
    const out = redactForPublic(text);
    for (const secret of ['张建国', '12号', '3栋', '501室', '13811112222', '1234567', '430102199001011234', 'zjg@example.com', '王老板', '李的']) {
      expect(out, secret).not.toContain(secret);
    }
    expect(out).toContain(`我叫${MASK.name}`);
    expect(out).toContain(MASK.phone);
    expect(out).toContain(MASK.id);
    expect(out).toContain('×老板');
    // What the public needs stays: the village, the date, the problem.
    expect(out).toContain('盐下村');
    expect(out).toContain('11月3号晚上又偷排废水');
  });

  it('masks e-mail addresses wherever they start, also after dots and dashes or in a long run of such characters', () => {
    const out = redactForPublic(`联系wang.xm+tip@mail.example.cn，或-li_4@qq.com。${'a.'.repeat(20_000)}x@y.cn`);
    expect(out).toBe(`联系${MASK.email}，或${MASK.email}。${MASK.email}`);
  });

  it("masks the reporter's own name and phone wherever they appear, however the digits are spaced", () => {
    const out = redactForPublic('有事找刘德华或者德华，打139 8765 4321', { names: ['刘德华'], phones: ['13987654321'] });
    expect(out).toBe(`有事找${MASK.name}或者${MASK.name}，打${MASK.phone}`);
  });

  it('masks numbers typed in full-width digits, and names given after who the speaker is', () => {
    const text = '我是回龙村的村民王建国，电话１３８１２３４５６７８，本人张伟也看到了，村民李四说厂子半夜排水。';
    const out = redactForPublic(text);
    for (const secret of ['王建国', '张伟', '李四', '13812345678', '１３８１２３４５６７８']) expect(out, secret).not.toContain(secret);
    expect(out).toBe(`我是回龙村的村民${MASK.name}，电话${MASK.phone}，本人${MASK.name}也看到了，村民${MASK.name}说厂子半夜排水。`);
    // A name before a description is masked too, and ordinary words after 群众 / 业主 are left alone.
    for (const [input, expected] of [
      ['我是王建国的邻居，厂子天天排黑水', `我是${MASK.name}的邻居，厂子天天排黑水`],
      ['群众向环保局反映多次，业主方面也没回应', '群众向环保局反映多次，业主方面也没回应'],
    ]) {
      expect(redactForPublic(input!)).toBe(expected);
    }
    expect(redactForPublic('我是刘强住在回龙村的，厂子排黑水')).not.toContain('刘强');
    // A reply quoting the number the same way.
    expect(redactForPublic('已与举报人电话１３８１２３４５６７８联系')).toBe(`已与举报人电话${MASK.phone}联系`);
  });

  it('leaves text without personal details alone', () => {
    const text = '回龙圩镇朱家观村有个养猪场把猪粪直接排到河里，臭得很，老百姓都受不了';
    expect(redactForPublic(text)).toBe(text);
  });
});

const SECRET_NAME = '张建国';
const SECRET_PHONE = '13811112222';
const IDENTIFYING_TEXT = `我叫${SECRET_NAME}，电话${SECRET_PHONE}，住兴隆办事处盐下村12号。电镀厂晚上偷排废水，沟里全是黑水`;

interface PublicStats {
  minGroupSize: number;
  hiddenGroups: number;
  groups: Array<{
    key: string | null;
    name: string;
    received: number;
    dispatched: number;
    signedOnTime: number;
    signDue: number;
    due: number;
    rated: number;
    responseRate: number | null;
    resolutionRate: number | null;
    satisfactionRate: number | null;
  }>;
  totals: { received: number };
}

describe('public disclosure page', { timeout: 90_000 }, () => {
  let service: TestService;
  let clock: ManualClock;
  const tokens: Record<string, string> = {};

  async function token(unit: string): Promise<string> {
    if (!tokens[unit]) {
      const user = await createUser(service.deps.db, { name: `${unit} clerk`, role: 'bureau', unitCode: unit, at: clock.now().toISOString() });
      tokens[unit] = (await issueToken(service.deps.db, { userId: user.id, label: null, at: clock.now().toISOString() })).token;
    }
    return tokens[unit];
  }

  async function replyAndRate(caseId: string, trackingCode: string, reply: string) {
    for (const a of await listAssignments(service.deps.db, caseId)) {
      const bureau = client(service.url, await token(a.unitCode));
      expect((await json(bureau.post(`/api/v1/cases/${caseId}/accept`))).status).toBe(200);
    }
    const all = await listAssignments(service.deps.db, caseId);
    for (const a of [...all.filter((x) => x.role !== 'lead'), ...all.filter((x) => x.role === 'lead')]) {
      const bureau = client(service.url, await token(a.unitCode));
      const res = await json(bureau.post(`/api/v1/cases/${caseId}/reply`, { text: a.role === 'lead' ? reply : '已配合' }));
      expect(res.status, JSON.stringify(res.body)).toBe(200);
    }
    await rateCase(service.deps, { trackingCode, rating: 'satisfied', solved: true, channel: 'web' });
  }

  beforeAll(async () => {
    ({ service, clock } = await startWorkflowService('web-public', {}));
    // November 2026: five discharge cases in Xinglong (listed), two noise cases and one discharge case in Lijiatang (fewer than five: hidden).
    const secret = await seedCase(service, clock, { text: IDENTIFYING_TEXT, contact: { name: SECRET_NAME, phone: SECRET_PHONE, share: false } });
    for (let i = 0; i < 4; i++) await seedCase(service, clock);
    for (let i = 0; i < 2; i++) {
      await seedCase(service, clock, {
        type: 'noise',
        jurisdiction: 'lijiatang',
        text: '李家塘办事处工地晚上施工噪声很大',
        assignments: [
          { unit: 'epb', role: 'lead' },
          { unit: 'enforcement', role: 'co' },
          { unit: 'lijiatang', role: 'jurisdiction' },
        ],
      });
    }
    // One discharge case in Lijiatang: its place group is small, so no table counts it — listed by type, the
    // discharge count minus Xinglong's would give Lijiatang's away.
    await seedCase(service, clock, { jurisdiction: 'lijiatang', text: '李家塘办事处有人往河里倒废液' });
    clock.set('2026-11-03T02:00:00.000Z');
    await replyAndRate(secret.id, secret.trackingCode, `已责令电镀厂停产整改，已电话告知举报人${SECRET_NAME}（${SECRET_PHONE}）`);
  });

  const apiStats = async (groupBy: string): Promise<PublicStats> => {
    const res = await json<PublicStats>(fetch(`${service.url}/api/v1/public/stats?groupBy=${groupBy}&from=2026-11-01&to=2026-11-30`));
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body;
  };

  it('shows the counts and rates of the public statistics, with small groups hidden', async () => {
    const { page, context } = await newPage({ baseURL: service.url });
    const res = await page.goto('/public?month=2026-11');
    expect(res?.status()).toBe(200);
    expect(await page.textContent('h1')).toBe('办理情况公开');

    for (const [groupBy, table] of [
      ['type', '#type-table'],
      ['jurisdiction', '#place-table'],
    ] as const) {
      const stats = await apiStats(groupBy);
      expect(stats.hiddenGroups, groupBy).toBe(1);
      const rows = await page.$$eval(`${table} tbody tr`, (trs) =>
        trs.map((tr) => ({ key: tr.getAttribute('data-key'), count: Number(tr.querySelector('td')?.textContent) })),
      );
      expect(rows, groupBy).toEqual(stats.groups.map((g) => ({ key: g.key ?? '', count: g.received })));
    }
    expect(await page.$$eval('#type-table tbody tr', (trs) => trs.map((tr) => tr.getAttribute('data-key')))).toEqual(['illegal_discharge']);
    expect(await page.textContent('#type-table')).not.toContain('噪声');
    expect(await page.textContent('#place-table')).not.toContain('李家塘');
    expect(await page.textContent('#month-total')).toContain('5 件');
    expect(await page.$$eval('.hidden-groups', (ps) => ps.map((p) => p.textContent ?? ''))).toContain('另有 1 个分组未单独列出：件数少于 5 件，或除去其他小分组的举报后不足 5 件。');

    // Every table counts the same five cases; the private figures have the sixth discharge case.
    for (const groupBy of ['type', 'jurisdiction', 'bureau', 'month']) expect((await apiStats(groupBy)).totals.received, groupBy).toBe(5);
    expect((await apiStats('type')).groups.map((g) => [g.key, g.received])).toEqual([['illegal_discharge', 5]]);
    const dispatcher = await createUser(service.deps.db, { name: '调度员', role: 'dispatcher', unitCode: null, at: clock.now().toISOString() });
    const { token: deskToken } = await issueToken(service.deps.db, { userId: dispatcher.id, label: null, at: clock.now().toISOString() });
    const full = await json<PublicStats>(client(service.url, deskToken).get('/api/v1/stats?groupBy=type&from=2026-11-01&to=2026-11-30'));
    expect(full.body.groups.find((g) => g.key === 'illegal_discharge')?.received).toBe(6);

    const bureaus = await apiStats('bureau');
    const shown = bureaus.groups.map((g) => g.key);
    expect(shown).toEqual(expect.arrayContaining(['epb', 'econ', 'xinglong']));
    expect(shown).not.toContain('lijiatang');
    expect(shown).not.toContain('enforcement');
    const pct = (r: number | null) => (r === null ? '—' : `${(r * 100).toFixed(1)}%`);
    const bureauRows = await page.$$eval('#bureau-table tbody tr', (trs) =>
      trs.map((tr) => ({
        key: tr.getAttribute('data-key'),
        cells: Array.from(tr.querySelectorAll('td') as ArrayLike<{ textContent: string | null }>).map((td) => td.textContent?.trim()),
      })),
    );
    // Each rate follows the count it divides by, so the figures on the page add up.
    expect(await page.$$eval('#bureau-table thead th', (ths) => ths.map((th) => th.textContent?.trim()))).toEqual([
      '单位',
      '派单数',
      '应签收',
      '按时签收率',
      '应答复',
      '按时答复率',
      '评价数',
      '满意率',
    ]);
    expect(bureauRows).toEqual(
      bureaus.groups.map((g) => ({
        key: g.key,
        cells: [String(g.dispatched), String(g.signDue), pct(g.responseRate), String(g.due), pct(g.resolutionRate), String(g.rated), pct(g.satisfactionRate)],
      })),
    );
    // The EPB signed for one of the five cases counted; the other four are still inside their windows: 1 of 1 due, not 1 of 5 assigned.
    const epb = bureaus.groups.find((g) => g.key === 'epb')!;
    expect(epb).toMatchObject({ dispatched: 5, signedOnTime: 1, signDue: 1, responseRate: 1, rated: 1 });
    expect(bureauRows.find((r) => r.key === 'epb')?.cells).toEqual(['5', '1', '100.0%', '1', '100.0%', '1', '100.0%']);
    // The note under the table says what the rates divide by, and that 派单数 holds what is not due yet.
    const note = await page.textContent('body');
    expect(note).toContain('按时签收率 = 期限内签收的派单 / 应签收的派单（已签收，或签收期限已过）');
    expect(note).toContain('满意率 =（满意 + 基本满意）/ 评价数，评价计入所评答复的牵头单位（承办单位）。派单数还包括仍在期限内的派单，它们到期或办理后才计入比率。');

    // The count tables are also drawn as bar charts (ECharts from the service), hidden from screen readers.
    await page.waitForSelector('#type-table-chart canvas');
    const painted = (await page.evaluate(`(() => {
      const canvas = document.querySelector('#type-table-chart canvas');
      const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
      let n = 0;
      for (let i = 3; i < data.length; i += 4) if (data[i] > 0) n++;
      return n;
    })()`)) as number;
    expect(painted).toBeGreaterThan(500);
    expect(await page.getAttribute('#type-table-chart', 'aria-hidden')).toBe('true');
    expect(await page.$('#place-table-chart canvas')).not.toBeNull();
    await context.close();
  });

  it('lists recently closed cases with the text redacted, and nothing that identifies the reporter in the HTML', async () => {
    const { page, context } = await newPage({ baseURL: service.url });
    await page.goto('/public');
    const items = await page.$$eval('#recent-cases li', (lis) => lis.map((li) => li.textContent ?? ''));
    expect(items).toHaveLength(1);
    expect(items[0]).toContain('电镀厂晚上偷排废水');
    expect(items[0]).toContain('已责令电镀厂停产整改');
    expect(items[0]).toContain('满意');
    // ECharts names each chart's element by the time it drew it (_echarts_instance_="ec_1796556661111"): no reporter's digits.
    const html = (await page.content()).replace(/ _echarts_instance_="ec_\d+"/g, '');
    for (const secret of [SECRET_NAME, '建国', SECRET_PHONE, '1111', '12号']) expect(html, secret).not.toContain(secret);
    // The same holds for the English page.
    await page.goto('/public?lang=en');
    expect(await page.textContent('h1')).toBe('Public results');
    expect(await page.textContent('#type-table thead')).toContain('Cases');
    expect(await page.$$eval('#bureau-table thead th', (ths) => ths.map((th) => th.textContent?.trim()))).toEqual([
      'Bureau',
      'Assigned',
      'Due for signing',
      'Signed for on time',
      'Due for an answer',
      'Answered on time',
      'Ratings',
      'Satisfied',
    ]);
    expect(await page.textContent('main')).toContain('"Assigned" also counts assignments still within their deadlines: they count in a rate once they are due or done.');
    const en = await page.content();
    for (const secret of [SECRET_NAME, SECRET_PHONE]) expect(en, secret).not.toContain(secret);
    // Months by name, one hidden group in the singular, the Chinese words marked as Chinese for a screen reader.
    expect(await page.textContent('#month-title')).toBe('November 2026');
    expect(await page.textContent('#month-total')).toMatch(/^5 reports received in November 2026 are counted\./);
    expect(await page.textContent('#month option[value="2026-10"]')).toBe('October 2026');
    expect(await page.$$eval('.hidden-groups', (ps) => ps.map((p) => p.textContent ?? ''))).toContain('One more group is not listed: it has fewer than 5 cases, or fewer once the reports of small groups are left out.');
    expect(await page.getAttribute('#recent-cases .case-text', 'lang')).toBe('zh-CN');
    expect(await page.getAttribute('#recent-cases .case-reply', 'lang')).toBe('zh-CN');
    await page.goto('/public?lang=zh');
    expect(await page.getAttribute('#recent-cases .case-text', 'lang')).toBeNull();
    await context.close();
  });

  it('switches months with the selector and refuses a month that is not offered', async () => {
    const { page, context } = await newPage({ baseURL: service.url });
    await page.goto('/public?lang=zh');
    expect(await page.inputValue('#month')).toBe('2026-11');
    await page.selectOption('#month', '2026-10');
    await page.click('form.filters button[type=submit]');
    await page.waitForURL(/month=2026-10/);
    expect(await page.textContent('#month-title')).toBe('2026年10月');
    // The month shown is named: viewed later, 本月 (this month) would be another one.
    expect(await page.textContent('#month-total')).toContain('2026年10月共统计举报 0 件');
    expect(await page.$('#type-table')).toBeNull();
    // A month that is over says it had nothing, not that nothing came in "yet".
    expect(await page.textContent('main')).toContain('该月没有数据。');
    expect(await page.textContent('main')).not.toContain('本月暂无数据');

    const res = await page.goto('/public?month=2027-13');
    expect(res?.status()).toBe(400);
    expect(await page.textContent('#month-error')).toBe('请选择列表中的月份。');
    expect(await page.getAttribute('#month', 'aria-invalid')).toBe('true');
    // The title says first that something is wrong, as every refused page's does.
    expect(await page.title()).toMatch(/^错误：/);
    // A year no district recorded, which day arithmetic would have read as 1900.
    const ancient = await page.goto('/public?month=0000-01');
    expect(ancient?.status()).toBe(400);
    expect(await page.textContent('#month-error')).toBe('请选择列表中的月份。');
    await context.close();
  });

  it('says that no group of a month is listed, rather than that there are more, and why, and shows no note on rates it does not show', async () => {
    // September: five noise cases, one in each of five local offices. Every office is small, so no case is counted:
    // the noise type and the EPB and the economy commission (on all five) are left out too, though each has five.
    const was = clock.now().toISOString();
    try {
      clock.set('2026-09-10T02:00:00.000Z');
      for (const place of ['huilongxu', 'maludou', 'shenxiandong', 'baxiandong', 'xinglong']) {
        await seedCase(service, clock, { type: 'noise', jurisdiction: place, text: '工地晚上施工噪声很大' });
      }
    } finally {
      clock.set(was);
    }
    const why = { zh: '件数少于 5 件，或除去其他小分组的举报后不足 5 件。', en: 'fewer than 5 cases, or fewer once the reports of small groups are left out.' };
    const { page, context } = await newPage({ baseURL: service.url });
    for (const [lang, said] of [
      ['zh', [`仅有的 1 个分组未单独列出：${why.zh}`, `5 个分组均未单独列出：${why.zh}`, `7 个分组均未单独列出：${why.zh}`]],
      ['en', [`The one group is not listed: it has ${why.en}`, `None of the 5 groups is listed: each has ${why.en}`, `None of the 7 groups is listed: each has ${why.en}`]],
    ] as const) {
      await page.goto(`/public?month=2026-09&lang=${lang}`);
      expect(await page.$$eval('.hidden-groups', (ps) => ps.map((p) => p.textContent ?? '')), lang).toEqual(said);
      expect(await page.$('#bureau-table'), lang).toBeNull();
      expect(await page.$('#rates-note'), lang).toBeNull();
    }
    // Under a table with rates, the note says what they divide by.
    await page.goto('/public?month=2026-11&lang=zh');
    expect(await page.textContent('#rates-note')).toContain('按时签收率 =');
    await context.close();
  });

  it('remembers the language asked for with one cookie', async () => {
    const res = await fetch(`${service.url}/public?lang=en`);
    expect(res.status).toBe(200);
    expect(res.headers.getSetCookie().filter((c) => c.startsWith('lang='))).toEqual([expect.stringMatching(/^lang=en;/)]);
  });

  it('keeps each figure and word of the tables whole on a 360 px phone, the table scrolling sideways instead', async () => {
    const b = await browser();
    const context = await b.newContext({ viewport: { width: 360, height: 740 }, locale: 'zh-CN', baseURL: service.url, isMobile: true });
    const page = await context.newPage();
    for (const lang of ['zh', 'en']) {
      await page.goto(`/public?month=2026-11&lang=${lang}`);
      expect((await page.evaluate('document.documentElement.scrollWidth')) as number, lang).toBeLessThanOrEqual(360);
      // The lines each cell's text takes: a figure (100.0%) on one, an English word never cut in two.
      const cells = (await page.evaluate(`Array.from(document.querySelectorAll('#bureau-table th, #bureau-table td')).map((cell) => {
        const range = document.createRange();
        range.selectNodeContents(cell);
        const lines = new Set(Array.from(range.getClientRects()).map((r) => Math.round(r.top))).size;
        return { text: cell.textContent.trim(), num: cell.classList.contains('num'), lines, words: cell.textContent.trim().split(' ').filter(Boolean).length };
      })`)) as Array<{ text: string; num: boolean; lines: number; words: number }>;
      expect(cells.length, lang).toBeGreaterThan(5);
      for (const cell of cells) {
        if (cell.num) expect(cell.lines, `${lang} ${cell.text}`).toBe(1);
        else if (lang === 'en') expect(cell.lines, `${lang} ${cell.text}`).toBeLessThanOrEqual(cell.words);
      }
      // The wrapper scrolls with the keyboard too.
      expect(await page.getAttribute('#bureau-table >> xpath=..', 'tabindex')).toBe('0');
    }
    await context.close();
  });

  it('fits a 375 px wide phone screen', async () => {
    const b = await browser();
    const context = await b.newContext({ viewport: { width: 375, height: 740 }, locale: 'zh-CN', baseURL: service.url, isMobile: true });
    const page = await context.newPage();
    for (const path of ['/public', '/public?lang=en']) {
      await page.goto(path);
      expect((await page.evaluate('document.documentElement.scrollWidth')) as number, path).toBeLessThanOrEqual(375);
    }
    await context.close();
  });
});

describe('public disclosure page: the names on the charts', () => {
  it("draws every type's and office's name whole, none over another, on a 360 px phone and a desktop, in either language", async () => {
    const { service, clock } = await startWorkflowService('web-public-names', {});
    const file = service.deps.district.file;
    // The district's longest type names, in either language, and every local office: five cases of each office, the
    // types taken in turn, so every type, office and unit (the EPB leads all) has five cases or more and is listed.
    const longest = (lang: 'zh' | 'en') => [...file.types].sort((a, b) => b.name[lang].length - a.name[lang].length).slice(0, 3);
    const types = [...new Set([...longest('zh'), ...longest('en')].map((t) => t.code))];
    const places = file.jurisdictions.map((j) => j.code);
    let n = 0;
    for (const place of places) {
      for (let i = 0; i < 5; i++) {
        await seedCase(service, clock, { type: types[n++ % types.length]!, jurisdiction: place, assignments: [{ unit: 'epb', role: 'lead' }, { unit: place, role: 'jurisdiction' }] });
      }
    }
    const b = await browser();
    for (const [width, isMobile] of [
      [360, true],
      [1280, false],
    ] as const) {
      const context = await b.newContext({ viewport: { width, height: 800 }, isMobile, locale: 'zh-CN', baseURL: service.url });
      const page = await context.newPage();
      for (const lang of ['zh', 'en'] as const) {
        await page.goto(`/public?lang=${lang}`);
        expect((await page.evaluate('document.documentElement.scrollWidth')) as number, `${width} ${lang}`).toBeLessThanOrEqual(width);
        for (const [table, count] of [
          ['type-table', types.length],
          ['place-table', places.length],
        ] as const) {
          const at = `${width} px ${lang} ${table}`;
          const names = await page.$$eval(`#${table} tbody th`, (ths) => ths.map((th) => th.textContent!.trim()));
          expect(names, at).toHaveLength(count);
          await page.waitForSelector(`#${table}-chart canvas`);
          const drawn = await drawnText(page, `${table}-chart`);
          // Each name is one label, its lines together the whole name: nothing cut off (区生态环境局…).
          const labels = labelTexts(drawn);
          expect(names.filter((name) => !labels.includes(name.replace(/\s/g, ''))), at).toEqual([]);
          expect(drawn.filter((d) => /…|\.\.\./.test(d.text)), at).toEqual([]);
          expect(overlapping(drawn), at).toEqual([]);
        }
      }
      await context.close();
    }
  }, 90_000);
});

describe('public disclosure page: the unit that handled a closed case', () => {
  it('names the lead that answered, not the one that returned the case before it was re-routed', async () => {
    const { service, clock, staff } = await startWorkflowService('web-public-lead', {});
    const land = (await issueToken(service.deps.db, {
      userId: (await createUser(service.deps.db, { name: '国土局周九', role: 'bureau', unitCode: 'land', at: clock.now().toISOString() })).id,
      label: null,
      at: clock.now().toISOString(),
    })).token;
    const c = await seedCase(service, clock, { type: 'contaminated_land_use', jurisdiction: null, assignments: [{ unit: 'land', role: 'lead' }] });
    const returned = await json(client(service.url, land).post(`/api/v1/cases/${c.id}/return`, { reason: 'not_our_remit', note: '是排污问题，不是用地问题' }));
    expect(returned.status, JSON.stringify(returned.body)).toBe(200);
    const routed = await json(client(service.url, staff.dispatcher).post(`/api/v1/cases/${c.id}/route`, { type: 'illegal_discharge', co: [], reason: '退回后改派环保局' }));
    expect(routed.status, JSON.stringify(routed.body)).toBe(200);
    const epb = client(service.url, staff.epb);
    expect((await json(epb.post(`/api/v1/cases/${c.id}/accept`))).status).toBe(200);
    const replied = await json(epb.post(`/api/v1/cases/${c.id}/reply`, { text: '已查处，责令停产整改' }));
    expect(replied.status, JSON.stringify(replied.body)).toBe(200);
    await rateCase(service.deps, { trackingCode: c.trackingCode, rating: 'satisfied', solved: true, channel: 'web' });

    const html = await (await fetch(`${service.url}/public`)).text();
    const item = /<ol class="cases" id="recent-cases"[^>]*>([\s\S]*?)<\/ol>/.exec(html)?.[1] ?? '';
    expect(item).toContain('区环保局');
    expect(item).not.toContain('区国土资源局');
    expect(item).toContain('已查处，责令停产整改');
    // A case without a place says so, rather than a dash.
    expect(item).toContain('地点不明');
  });
});

describe('public disclosure page: a name the reporter gave in the address', () => {
  it('masks in the answer the name a reporter wrote in the address field instead of the name field, as in the text', async () => {
    const { service, staff } = await startWorkflowService('web-public-address', {});
    // The name field left empty, the address names the reporter, and the bureau's answer repeats the name.
    const report = await submitReport(service, { text: '兴隆办事处盐下村电镀厂晚上偷排废水，沟里全是黑水', address: '兴隆办事处盐下村，联系人王建华' });
    const tokenOf: Record<string, string> = { epb: staff.epb, econ: staff.econ, xinglong: staff.xinglong };
    const units = await listAssignments(service.deps.db, report.id);
    expect(units.map((a) => a.unitCode).sort()).toEqual(['econ', 'epb', 'xinglong']);
    for (const a of units) expect((await json(client(service.url, tokenOf[a.unitCode]!).post(`/api/v1/cases/${report.id}/accept`))).status).toBe(200);
    for (const a of [...units.filter((x) => x.role !== 'lead'), ...units.filter((x) => x.role === 'lead')]) {
      const text = a.role === 'lead' ? '已联系王建华核实，情况属实，已责令电镀厂停产整改' : '已配合';
      const res = await json(client(service.url, tokenOf[a.unitCode]!).post(`/api/v1/cases/${report.id}/reply`, { text }));
      expect(res.status, JSON.stringify(res.body)).toBe(200);
    }
    await rateCase(service.deps, { trackingCode: report.trackingCode, rating: 'satisfied', solved: true, channel: 'web' });

    const { page, context } = await newPage({ baseURL: service.url });
    await page.goto('/public');
    expect(await page.textContent('#recent-cases .case-reply')).toBe(`已联系${MASK.name}核实，情况属实，已责令电镀厂停产整改`);
    expect(await page.content()).not.toContain('王建华');
    await context.close();
  }, 60_000);
});

describe('public disclosure page: people named by who they are', { timeout: 120_000 }, () => {
  const shown = (html: string) =>
    [...html.matchAll(/<(?:p class="case-text"|dd class="case-reply")[^>]*>([\s\S]*?)<\/(?:p|dd)>/g)].map((m) => m[1]!.trim());
  let positives: { html: string; texts: string[] };
  let negatives: { html: string; texts: string[] };

  beforeAll(async () => {
    const { service, clock, staff } = await startWorkflowService('web-public-roles', {});
    const epb = client(service.url, staff.epb);
    // Each closed case holds one example in the reporter's words and another in the bureau's answer.
    const close = async (text: string, reply: string) => {
      const c = await seedCase(service, clock, { text, contact: null, assignments: [{ unit: 'epb', role: 'lead' }] });
      expect((await json(epb.post(`/api/v1/cases/${c.id}/accept`))).status).toBe(200);
      const res = await json(epb.post(`/api/v1/cases/${c.id}/reply`, { text: reply }));
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      await rateCase(service.deps, { trackingCode: c.trackingCode, rating: 'satisfied', solved: true, channel: 'web' });
      clock.advance(60_000);
    };
    // The page lists the 20 cases closed last: the examples that name someone, then (closed later) those that do not.
    const half = (list: ReadonlyArray<string>) => Math.ceil(list.length / 2);
    const named = ROLE_NAMED.map(([input]) => input);
    for (let i = 0; i < half(named); i++) await close(named[i]!, named[i + half(named)] ?? '已处理');
    const page = async () => {
      const html = await (await fetch(`${service.url}/public`)).text();
      return { html, texts: shown(html) };
    };
    positives = await page();
    for (let i = 0; i < half(ROLE_NAMED_NOT); i++) await close(ROLE_NAMED_NOT[i]!, ROLE_NAMED_NOT[i + half(ROLE_NAMED_NOT)] ?? '已处理');
    negatives = await page();
  }, 120_000);

  it.each(ROLE_NAMED)('masks the person named by who they are in "%s"', (input, expected) => {
    expect(positives.texts).toContain(expected.replaceAll('{N}', MASK.name).replaceAll('{S}', '×'));
    expect(positives.html).not.toContain(input);
  });

  it.each(ROLE_NAMED_NOT)('keeps "%s", which names no one', (input) => {
    expect(negatives.texts).toContain(input);
  });
});
